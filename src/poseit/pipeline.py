"""The public pipeline: frames in, `Poses` out.

    detector (BlazePose) -> rotated ROI -> affine crop -> landmark model -> keypoints in frame pixels
    -> tracking (next ROI from these landmarks) -> One Euro smoothing

Modes: ``track`` (videos, webcams: detect once, then follow), ``detect`` (independent images: detect every
frame, no smoothing) and ``whole-frame`` (the seed's mode: the landmark model sees the whole frame, padded
square, without a detector).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poseit.detect.roi import Roi, grid_tiles
from poseit.detect.tracker import LandmarkSmoother, RoiTracker
from poseit.errors import PoseItError
from poseit.io.sources import Frame, Source, open_source, prefetch
from poseit.keypoints import Poses
from poseit.models import Detection, Landmarks, load_models
from poseit.runtime import RuntimeConfig

MODES = ("track", "detect", "whole-frame")


class StageTimes:
    """Per-stage wall-clock milliseconds, one list per stage."""

    def __init__(self) -> None:
        self.ms: dict[str, list[float]] = defaultdict(list)

    @contextmanager
    def __call__(self, stage: str, count: int = 1) -> Iterator[None]:
        """Time a block that handles ``count`` frames; records the per-frame share once per frame."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            if count:
                self.ms[stage].extend([(time.perf_counter() - t0) * 1000 / count] * count)

    def median(self) -> dict[str, float]:
        return {k: float(np.median(v)) for k, v in self.ms.items() if v}

    def clear(self) -> None:
        self.ms.clear()


@dataclass(frozen=True)
class PoseResult:
    """One frame and the people found on it."""

    frame: Frame
    poses: Poses
    detected: bool  # whether the detector ran on this frame (False while tracking)


class PoseEstimator:
    """Turns BGR frames into `Poses`. Create it by model name or file; call it on frames in order.

    >>> est = PoseEstimator("blazepose-full")            # doctest: +SKIP
    >>> poses = est(cv2.imread("person.jpg"))             # doctest: +SKIP
    >>> poses.xy.shape                                    # (people, 33, 2) in pixels  # doctest: +SKIP

    Knobs: ``mode`` (see module doc); ``min_detection_score`` (detector threshold); ``min_tracking_score``
    (below this person score nobody is reported, and while tracking the detector runs again; default: the
    landmark model's own, 0.5 for BlazePose's pose flag); ``detect_pads``: frame paddings tried in turn until
    someone is found (0.25 = a quarter of the long side of black on every side, so people who fill or overflow
    the frame show the detector a whole head and shoulders; 0 = the frame as is, for people too small once
    padded); ``detect_tiles``: when still nobody is found, the detector looks at an n x n grid of overlapping
    tiles, which finds people too small for it on the whole frame (a far-away person in a wide shot; 0 = off),
    at most every ``tile_interval`` frames while tracking finds nobody, keeping finds that score at least
    ``tile_min_score`` (a last resort is held to a higher bar); ``verify_interval``: every that many
    tracked frames the detector checks the track and restarts it where it disagrees (None: never);
    ``smooth`` with ``smoothing``
    (keyword options of `LandmarkSmoother`); ``model_options``: keyword options of the landmark model class
    (e.g. ``{"refine": False}`` turns off BlazePose's heatmap refinement); ``shared``: reuse the models this
    process already compiled with the same settings (a server's clients; each estimator keeps its own tracker).
    """

    def __init__(
        self,
        model: str | Path = "blazepose-full",
        *,
        mode: str = "track",
        device: str = "CPU",
        precision: str = "f32",
        hint: str = "latency",
        num_threads: int | None = None,
        backend: str = "openvino",
        min_detection_score: float = 0.5,
        min_tracking_score: float | None = None,
        detect_pads: tuple[float, ...] = (0.25, 0.0),
        detect_tiles: int = 2,
        tile_interval: int = 10,
        tile_min_score: float = 0.6,
        smooth: bool = True,
        smoothing: dict | None = None,
        model_options: dict | None = None,
        verify_interval: int | None = 30,
        shared: bool = False,
    ) -> None:
        if mode not in MODES:
            raise PoseItError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        config = RuntimeConfig(device=device, precision=precision, hint=hint, num_threads=num_threads)
        self.mode = mode
        self.model_name = str(model)
        detector_score = None if mode == "whole-frame" else min_detection_score
        self.landmarks, self.detector = load_models(model, config, backend, model_options, detector_score, shared)
        self.skeleton = self.landmarks.skeleton
        self.detect_pads = tuple(detect_pads) or (0.0,)
        self.detect_tiles = detect_tiles
        self.tile_interval = max(1, tile_interval)
        self.tile_min_score = tile_min_score
        self._misses = 0  # consecutive tracking-mode frames on which detection found nobody
        if min_tracking_score is None:
            min_tracking_score = self.landmarks.min_score
        self.tracker = RoiTracker(min_tracking_score, verify_interval)
        self.smoother = LandmarkSmoother(**(smoothing or {})) if smooth and mode == "track" else None
        self.times = StageTimes()
        self.detected = False  # whether the detector ran on the last frame
        self._frame_index = 0

    def reset(self) -> None:
        """Forget the tracked person (call between unrelated videos)."""
        self.tracker.reset()
        if self.smoother:
            self.smoother.reset()

    def __call__(self, image: np.ndarray, time_s: float | None = None) -> Poses:
        """Poses on one BGR frame. ``time_s`` (seconds) drives smoothing; defaults to frame count / 30."""
        if image is None or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise PoseItError("PoseEstimator expects a BGR uint8 image of shape (H, W, 3)")
        t = self._frame_index / 30.0 if time_s is None else time_s
        self._frame_index += 1
        if self.mode != "track":
            return self._independent([image])[0]
        self.detected = self.tracker.needs_detection
        if self.detected:
            roi = self.detect_many([image], tiles=self._misses % self.tile_interval == 0)[0]
            self._misses = 0 if roi is not None else self._misses + 1
            if roi is None:
                self.reset()
                return Poses.empty(self.skeleton)
            self.tracker.start(roi)
        elif self.tracker.needs_verification and self.tracker.verify(self.detect_many([image], tiles=False)[0]):
            self.detected = True
            if self.smoother:
                self.smoother.reset()
        lm = self._landmarks([image], [self.tracker.roi])[0]
        if lm is None:
            self.reset()
            return Poses.empty(self.skeleton)
        with self.times("post"):
            if self.smoother is not None:
                lm = self.smoother(lm, t)
            points = lm.alignment
            if points is not None:
                points = self.tracker.smooth_alignment(points, t)
            self.tracker.update(lm.score, self.landmarks.next_roi(lm, points))
            return self._to_poses(lm)

    def detect_many(self, images: list[np.ndarray], tiles: bool = True) -> list[Roi | None]:
        """The best person's ROI in each image (None where nobody is found). Images run through the
        detector's async queue together; those without a person are retried with the next padding, then
        (with ``tiles``) on the tiles of a grid."""
        assert self.detector is not None
        best: list[Detection | None] = [None] * len(images)
        todo = list(range(len(images)))
        with self.times("detect", count=len(images)):
            for pad in self.detect_pads:
                self._detect_into(best, [(i, images[i], pad, 0, 0) for i in todo], 0.0)
                todo = [i for i in todo if best[i] is None]
                if not todo:
                    break
            if todo and tiles and self.detect_tiles > 1:
                jobs = []
                for i in todo:
                    h, w = images[i].shape[:2]
                    for x0, y0, x1, y1 in grid_tiles(w, h, self.detect_tiles):
                        jobs.append((i, images[i][y0:y1, x0:x1], 0.0, x0, y0))
                self._detect_into(best, jobs, self.tile_min_score)
        return [None if d is None else d.roi for d in best]

    def _detect_into(
        self, best: list[Detection | None], jobs: list[tuple[int, np.ndarray, float, int, int]], min_score: float
    ) -> None:
        """Run (image index, image, padding, x offset, y offset) jobs; keep each image's best detection that
        scores at least ``min_score`` (on top of the detector's own threshold)."""
        assert self.detector is not None
        inputs = [self.detector.preprocess(image, pad) for _, image, pad, _, _ in jobs]
        outputs = self.detector.backend.infer_many(tensor for tensor, _ in inputs)
        for (i, _, _, x0, y0), out, (_, letterbox) in zip(jobs, outputs, inputs, strict=True):
            found = self.detector.postprocess(out, letterbox)
            if found and found[0].score >= min_score and (best[i] is None or found[0].score > best[i].score):
                best[i] = found[0].shifted(x0, y0)

    def _landmarks(self, images: list[np.ndarray], rois: list[Roi]) -> list[Landmarks | None]:
        """Landmarks in each ROI (through the async queue); None where the model sees no person."""
        with self.times("landmarks", count=len(images)):
            inputs = [self.landmarks.preprocess(image, roi) for image, roi in zip(images, rois, strict=True)]
            outputs = list(self.landmarks.backend.infer_many(tensor for tensor, _ in inputs))
        with self.times("post", count=len(images)):
            results = [self.landmarks.postprocess(out, meta) for out, (_, meta) in zip(outputs, inputs, strict=True)]
        return [lm if lm.score >= self.tracker.min_tracking_score else None for lm in results]

    def _independent(self, images: list[np.ndarray]) -> list[Poses]:
        """Detect and whole-frame modes: every frame on its own, stages batched through the async queue."""
        if self.mode == "whole-frame":
            rois: list[Roi | None] = [Roi.whole_frame(im.shape[1], im.shape[0]) for im in images]
        else:
            rois = self.detect_many(images)
        self.detected = self.mode == "detect"
        found = [i for i, roi in enumerate(rois) if roi is not None]
        landmarks = self._landmarks([images[i] for i in found], [rois[i] for i in found])
        out = [Poses.empty(self.skeleton)] * len(images)
        for i, lm in zip(found, landmarks, strict=True):
            if lm is not None:
                out[i] = self._to_poses(lm)
        return out

    def _to_poses(self, lm: Landmarks) -> Poses:
        return Poses(
            xy=lm.xy[None],
            scores=np.clip(lm.scores, 0, 1)[None],
            skeleton=self.skeleton,
            presence=None if lm.presence is None else lm.presence[None],
            z=None if lm.z is None else lm.z[None],
            world=None if lm.world is None else lm.world[None],
            confidence=np.array([lm.score]),
        )

    def process(self, frames: Iterable[Frame], decode_ahead: bool = True, batch: int = 4) -> Iterator[PoseResult]:
        """Poses for each frame of a stream, in order. Decoding runs ahead in a thread; in the detect and
        whole-frame modes ``batch`` frames at a time share the inference queue (several requests in flight)."""
        stream = prefetch(iter(frames)) if decode_ahead else iter(frames)
        if self.mode == "track":
            for frame in stream:
                yield PoseResult(frame, self(frame.image, frame.time_s), self.detected)
            return
        for chunk in _batched(stream, batch):
            poses = self._independent([f.image for f in chunk])
            for frame, p in zip(chunk, poses, strict=True):
                yield PoseResult(frame, p, self.detected)


def _batched(items: Iterator[Frame], n: int) -> Iterator[list[Frame]]:
    """Chunks of ``n`` frames; a source error is raised only after the frames read before it are yielded."""
    chunk: list[Frame] = []
    try:
        for item in items:
            chunk.append(item)
            if len(chunk) == n:
                yield chunk
                chunk = []
    except GeneratorExit:
        raise
    except Exception:
        if chunk:
            yield chunk
        raise
    if chunk:
        yield chunk


def iter_poses(
    source: str | int | Path | Source, model: str | Path = "blazepose-full", **options
) -> Iterator[PoseResult]:
    """Open a source (image, folder, video, webcam index, stream URL) and yield a `PoseResult` per frame.

    Image and folder sources default to ``mode="detect"`` (every image on its own), others to ``"track"``.
    """
    src = source if isinstance(source, Source) else open_source(source)
    from poseit.io.sources import FolderSource, ImageSource

    options.setdefault("mode", "detect" if isinstance(src, (ImageSource, FolderSource)) else "track")
    estimator = PoseEstimator(model, **options)
    with src:
        yield from estimator.process(src)
