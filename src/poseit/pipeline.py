"""The public pipeline: frames in, `Poses` out.

    detector (BlazePose) -> rotated ROI -> affine crop -> landmark model -> keypoints in frame pixels
    -> tracking (next ROI from these landmarks) -> One Euro smoothing

Modes: ``track`` (videos, webcams: detect once, then follow), ``detect`` (independent images: detect every
frame, no smoothing) and ``whole-frame`` (the seed's mode: the landmark model sees the whole frame, padded
square, without a detector). Where the detector has not been pulled, ``track`` and ``detect`` start each track
from the whole frame instead (``seed``), so the shipped hourglass models run on a fresh install.
"""

from __future__ import annotations

import math
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from poseit.detect.choose import TILES, DetectorStrategy, Found, surest
from poseit.detect.roi import Roi, grid_tiles, normalize_radians
from poseit.detect.tracker import LandmarkSmoother, RoiTracker
from poseit.errors import PoseItError
from poseit.io.sources import Frame, Source, open_source, prefetch
from poseit.keypoints import Poses
from poseit.models import Landmarks, load_models
from poseit.runtime import RuntimeConfig

MODES = ("track", "detect", "whole-frame")
SEEDS = ("auto", "detector", "whole-frame")

# A tracked fit whose ROI turns more than `UPSIDE_DOWN` from the frame's up (head below the hips) is looked at
# again through the same ROI turned upright; that look is kept when its own ROI stays within `UPRIGHT` of the
# frame's up (the model, shown the person upright, reads them upright). With the head out of frame (a camera
# placed low, standing at the top of a squat) BlazePose fits the body upside down on a detector ROI or after
# one bad frame, and the track then stays inverted (both readings hold their person score): the prior that a
# person exercising is upright decides. A handstand read upright would need both looks to agree on upright.
# Not for models whose ROI keeps the detector's rotation (the heatmap students): nothing could confirm the look.
UPSIDE_DOWN = math.radians(120)
UPRIGHT = math.radians(60)


def detector_available() -> bool:
    """Whether the BlazePose detector has been pulled."""
    from poseit.models.manager import is_cached
    from poseit.models.registry import get_spec

    return is_cached(get_spec("blazepose-detector").artifact)


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
    detected: bool  # whether a track (re)started here: the detector ran, or the whole-frame look (False while tracking)


class PoseEstimator:
    """Turns BGR frames into `Poses`. Create it by model name or file; call it on frames in order.

    >>> est = PoseEstimator("blazepose-full")            # doctest: +SKIP
    >>> poses = est(cv2.imread("person.jpg"))             # doctest: +SKIP
    >>> poses.xy.shape                                    # (people, 33, 2) in pixels  # doctest: +SKIP

    Knobs: ``mode`` (see module doc); ``min_detection_score`` (detector threshold); ``min_tracking_score``
    (below this person score nobody is reported, and while tracking the detector runs again; default: the
    landmark model's own, 0.5 for BlazePose's pose flag); ``detect_pads``: frame paddings the detector looks
    at (0 = the frame as is; 0.25 = a quarter of the long side of black on every side, so people who fill or
    overflow the frame show the detector a whole head and shoulders); ``detect_retry``: ``"always"`` looks at
    every padding and keeps the look whose person the landmark model is surest of, ``"border"`` tries the next
    padding only when the person found touches the frame's border or nobody is found, ``"nobody"`` only when
    nobody is found; ``choose_person``: among several people on a look, ``"prominent"`` (detector score x body
    size x centrality) or ``"score"`` (the detector's best score, MediaPipe's rule). The old default (padded
    first) is ``detect_pads=(0.25, 0.0), detect_retry="nobody", choose_person="score"`` (see
    `poseit.detect.choose` and the README's accuracy tables); ``detect_tiles``: when still nobody is found, the
    detector looks at an n x n grid of overlapping tiles, which finds people too small for it on the whole
    frame (a far-away person in a wide shot; 0 = off), at most every ``tile_interval`` frames while tracking
    finds nobody, keeping finds that score at least ``tile_min_score`` (a last resort is held to a higher
    bar); ``verify_interval``: every that many tracked frames the detector checks the track and restarts it
    where none of the people it finds agrees with the track (None: never); ``refine_passes``: where a person was
    just found (every image in detect mode, a track's first frame), the landmark model looks again this many
    times at the ROI its own landmarks give, as the next tracked frame would (0 = off; None: the landmark
    model's own default, chosen on LSP train and the MPII frames' dev split: 1 for BlazePose, 0 for the
    heatmap models); ``whole_frame_fallback``: where the detector (which finds faces) finds nobody, the
    landmark model looks at the whole frame, padded square, and its person score decides (a body whose head
    is out of frame; None: in ``detect`` mode the model's default, on for BlazePose, whose pose flag can
    decide, off for the heatmap models, which have none; off while tracking, where it found nothing on the dev
    clips and put junk poses on a blurred title card); ``seed``: what starts a track,
    ``"detector"``, ``"whole-frame"`` (the landmark model looks at the whole frame, padded square: fine for one
    person who fills much of it, as in a home workout) or ``"auto"`` (the detector where it has been pulled,
    else the whole frame, with a one-line notice on stderr);
    ``prefer_upright`` (tracking only): a fit upside down in the frame gets a second, upright look, kept where
    it reads the person upright (`UPSIDE_DOWN`; None: the model's default, on for BlazePose, off for the heatmap
    models, whose ROI never turns by itself); ``smooth`` with ``smoothing``
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
        detect_pads: tuple[float, ...] = (0.0, 0.25),
        detect_retry: str = "always",
        choose_person: str = "prominent",
        detect_tiles: int = 2,
        tile_interval: int = 10,
        tile_min_score: float = 0.6,
        smooth: bool = True,
        smoothing: dict | None = None,
        model_options: dict | None = None,
        verify_interval: int | None = 30,
        refine_passes: int | None = None,
        whole_frame_fallback: bool | None = None,
        seed: str = "auto",
        prefer_upright: bool | None = None,
        shared: bool = False,
    ) -> None:
        if mode not in MODES:
            raise PoseItError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        if seed not in SEEDS:
            raise PoseItError(f"unknown seed {seed!r}; choose one of {', '.join(SEEDS)}")
        if seed == "auto":
            seed = "detector" if mode == "whole-frame" or detector_available() else "whole-frame"
            if seed == "whole-frame":
                print(
                    "notice: blazepose-detector is not pulled: tracks start from the whole frame "
                    "(`poseit models pull blazepose-detector` for the detector)",
                    file=sys.stderr,
                )
        self.seed = seed
        config = RuntimeConfig(device=device, precision=precision, hint=hint, num_threads=num_threads)
        self.mode = mode
        self.model_name = str(model)
        detector_score = None if mode == "whole-frame" or seed == "whole-frame" else min_detection_score
        self.landmarks, self.detector = load_models(model, config, backend, model_options, detector_score, shared)
        self.skeleton = self.landmarks.skeleton
        self.strategy = DetectorStrategy(
            tuple(detect_pads) or (0.0,), detect_retry, choose_person, detect_tiles, tile_min_score
        )
        self.tile_interval = max(1, tile_interval)
        self._misses = 0  # consecutive tracking-mode frames on which detection found nobody
        if min_tracking_score is None:
            min_tracking_score = self.landmarks.min_score
        self.tracker = RoiTracker(min_tracking_score, verify_interval)
        self.refine_passes = self.landmarks.refine_passes if refine_passes is None else refine_passes
        if whole_frame_fallback is None:  # images only: a video frame without a person is usually just that
            whole_frame_fallback = self.landmarks.whole_frame_fallback and mode == "detect"
        self.whole_frame_fallback = whole_frame_fallback and self.detector is not None
        if prefer_upright is None:
            prefer_upright = self.landmarks.prefer_upright
        self.prefer_upright = prefer_upright and mode == "track"
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
        known: _Choice | None = None
        if self.detected and self.detector is None:
            self.tracker.start(Roi.whole_frame(image.shape[1], image.shape[0]))
        elif self.detected:
            known = self._with_fallback([image], self._choose([image], tiles=self._misses % self.tile_interval == 0))[0]
            self._misses = 0 if known.roi is not None else self._misses + 1
            if known.roi is None:
                self.reset()
                return Poses.empty(self.skeleton)
            self.tracker.start(known.roi)
        elif (
            self.detector is not None
            and self.tracker.needs_verification
            and self.tracker.verify(*self._check_track(image))
        ):
            self.detected = True
            if self.smoother:
                self.smoother.reset()
        if known is not None and known.computed:
            lm = known.landmarks  # the choice already ran the landmark model on this ROI
        else:
            lm = self._landmarks([image], [self.tracker.roi])[0]
        if lm is not None and self.detected:
            lm = self._refined([image], [lm])[0]
        if lm is not None and self.prefer_upright:
            lm = self._upright(image, lm)
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

    @property
    def detect_pads(self) -> tuple[float, ...]:
        return self.strategy.pads

    @property
    def detect_tiles(self) -> int:
        return self.strategy.tiles

    def detect_many(self, images: list[np.ndarray], tiles: bool = True) -> list[Roi | None]:
        """The chosen person's ROI in each image (None where nobody is found), by ``self.strategy``."""
        return [c.roi for c in self._choose(images, tiles)]

    def _choose(self, images: list[np.ndarray], tiles: bool = True, found: list[Found] | None = None) -> list[_Choice]:
        """The chosen person in each image. Where the strategy leaves several options (one per look), the
        landmark model runs on each and the one it is surest shows a person is kept, with its landmarks."""
        found = self.detect_people(images, tiles) if found is None else found
        options = [self.strategy.options(f, im.shape[1], im.shape[0]) for im, f in zip(images, found, strict=True)]
        out = [_Choice(opts[0].roi if opts else None) for opts in options]
        jobs = [(i, d.roi) for i, opts in enumerate(options) if len(opts) > 1 for d in opts]
        if jobs:
            results = self._landmark_outputs([images[i] for i, _ in jobs], [roi for _, roi in jobs])
            per_image: dict[int, list[tuple[Roi, Landmarks]]] = defaultdict(list)
            for (i, roi), lm in zip(jobs, results, strict=True):
                per_image[i].append((roi, lm))
            for i, pairs in per_image.items():
                roi, lm = pairs[surest([lm.score for _, lm in pairs])]
                out[i] = _Choice(roi, lm if lm.score >= self.tracker.min_tracking_score else None, True)
        return out

    def detect_people(self, images: list[np.ndarray], tiles: bool = True) -> list[Found]:
        """Every person the detector finds on each image, per look (padding, or the tiles with ``tiles``)
        that ``self.strategy`` takes. Images run through the detector's async queue together, one look at a
        time."""
        assert self.detector is not None
        found: list[Found] = [{} for _ in images]
        with self.times("detect", count=len(images)):
            while True:
                jobs: list[tuple[int, float | str, np.ndarray, float, int, int]] = []
                for i, image in enumerate(images):
                    h, w = image.shape[:2]
                    look = self.strategy.next_look(found[i], w, h, tiles)
                    if look is None:
                        continue
                    found[i][look] = []
                    if look == TILES:
                        for x0, y0, x1, y1 in grid_tiles(w, h, self.strategy.tiles):
                            jobs.append((i, look, image[y0:y1, x0:x1], 0.0, x0, y0))
                    else:
                        jobs.append((i, look, image, float(look), 0, 0))
                if not jobs:
                    return found
                inputs = [self.detector.preprocess(image, pad) for _, _, image, pad, _, _ in jobs]
                outputs = self.detector.backend.infer_many(tensor for tensor, _ in inputs)
                for (i, look, _, _, x0, y0), out, (_, box) in zip(jobs, outputs, inputs, strict=True):
                    found[i][look] += [d.shifted(x0, y0) for d in self.detector.postprocess(out, box)]

    def _check_track(self, image: np.ndarray) -> tuple[Roi | None, list[Roi]]:
        """The person the detector would choose and everybody it finds (no tiles), for checking the track."""
        found = self.detect_people([image], tiles=False)
        return self._choose([image], found=found)[0].roi, [d.roi for d in self.strategy.candidates(found[0])]

    def _landmark_outputs(self, images: list[np.ndarray], rois: list[Roi]) -> list[Landmarks]:
        """The landmark model's output in each ROI (through the async queue), whatever its person score."""
        with self.times("landmarks", count=len(images)):
            inputs = [self.landmarks.preprocess(image, roi) for image, roi in zip(images, rois, strict=True)]
            outputs = list(self.landmarks.backend.infer_many(tensor for tensor, _ in inputs))
        with self.times("post", count=len(images)):
            return [self.landmarks.postprocess(out, meta) for out, (_, meta) in zip(outputs, inputs, strict=True)]

    def _landmarks(self, images: list[np.ndarray], rois: list[Roi]) -> list[Landmarks | None]:
        """Landmarks in each ROI; None where the model sees no person."""
        results = self._landmark_outputs(images, rois)
        return [lm if lm.score >= self.tracker.min_tracking_score else None for lm in results]

    def _with_fallback(self, images: list[np.ndarray], chosen: list[_Choice]) -> list[_Choice]:
        """``chosen`` with the whole-frame look (`whole_frame_fallback`) where the detector found nobody."""
        todo = [i for i, c in enumerate(chosen) if c.roi is None] if self.whole_frame_fallback else []
        if not todo:
            return chosen
        rois = [Roi.whole_frame(images[i].shape[1], images[i].shape[0]) for i in todo]
        found = self._landmarks([images[i] for i in todo], rois)
        out = list(chosen)
        for i, roi, lm in zip(todo, rois, found, strict=True):
            if lm is not None:
                out[i] = _Choice(roi, lm, True)
        return out

    def _refined(self, images: list[np.ndarray], found: list[Landmarks]) -> list[Landmarks]:
        """The landmarks again on the ROI they give (``refine_passes`` times; the images together through the
        async queue), as the next tracked frame would see them: the detector's box is a rough guess, the
        landmarks' own ROI what every later frame gets. A pass whose person score falls below the threshold is
        not taken."""
        found = list(found)
        active = list(range(len(found)))  # a look that lost the person would only repeat itself: it stops
        for _ in range(self.refine_passes):
            if not active:
                break
            rois = [self.landmarks.next_roi(found[i], found[i].alignment) for i in active]
            again = self._landmarks([images[i] for i in active], rois)
            for i, new in zip(active, again, strict=True):
                if new is not None:
                    found[i] = new
            active = [i for i, new in zip(active, again, strict=True) if new is not None]
        return found

    def _upright(self, image: np.ndarray, lm: Landmarks) -> Landmarks:
        """``lm``, or the landmarks of the same person seen upright where ``lm`` stands upside down and an
        upright look confirms itself (see `UPSIDE_DOWN`)."""
        roi = self.landmarks.next_roi(lm, lm.alignment)
        if roi is None or abs(normalize_radians(roi.rotation)) <= UPSIDE_DOWN:
            return lm
        again = self._landmarks([image], [replace(roi, rotation=0.0)])[0]
        if again is None:
            return lm
        turn = self.landmarks.next_roi(again, again.alignment)
        return again if turn is not None and abs(normalize_radians(turn.rotation)) < UPRIGHT else lm

    def _independent(self, images: list[np.ndarray]) -> list[Poses]:
        """Detect and whole-frame modes: every frame on its own, stages batched through the async queue."""
        if self.detector is None:
            chosen = [_Choice(Roi.whole_frame(im.shape[1], im.shape[0])) for im in images]
        else:
            chosen = self._with_fallback(images, self._choose(images))
        self.detected = self.mode == "detect"
        landmarks = {i: c.landmarks for i, c in enumerate(chosen) if c.computed}
        todo = [(i, c.roi) for i, c in enumerate(chosen) if c.roi is not None and not c.computed]
        found = self._landmarks([images[i] for i, _ in todo], [roi for _, roi in todo])
        landmarks.update((i, lm) for (i, _), lm in zip(todo, found, strict=True))
        out = [Poses.empty(self.skeleton)] * len(images)
        kept = [(i, lm) for i, lm in landmarks.items() if lm is not None]
        refined = self._refined([images[i] for i, _ in kept], [lm for _, lm in kept])
        for (i, _), lm in zip(kept, refined, strict=True):
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


@dataclass(frozen=True)
class _Choice:
    """The person chosen on one image: their ROI (None: nobody) and, where the choice ran the landmark model
    (``computed``), its landmarks there (None: below the person score)."""

    roi: Roi | None
    landmarks: Landmarks | None = None
    computed: bool = False


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
