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

from poseit.detect.roi import Roi
from poseit.detect.tracker import LandmarkSmoother, RoiTracker
from poseit.errors import PoseItError
from poseit.io.sources import Frame, Source, open_source, prefetch
from poseit.keypoints import Poses
from poseit.models import Landmarks, create_detector, create_landmark_model
from poseit.runtime import RuntimeConfig

MODES = ("track", "detect", "whole-frame")


class StageTimes:
    """Per-stage wall-clock milliseconds, one list per stage."""

    def __init__(self) -> None:
        self.ms: dict[str, list[float]] = defaultdict(list)

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.ms[stage].append((time.perf_counter() - t0) * 1000)

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
    (below this person score the track is dropped and the detector runs again); ``detect_pads``: frame
    paddings tried in turn until someone is found (0 = the frame as is, 0.25 = a quarter of the long side of
    black on every side, which finds people who fill or overflow the frame); ``smooth`` with ``smoothing``
    (keyword options of `LandmarkSmoother`); ``model_options``: keyword options of the landmark model class
    (e.g. ``{"refine": False}`` turns off BlazePose's heatmap refinement).
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
        min_tracking_score: float = 0.5,
        detect_pads: tuple[float, ...] = (0.0, 0.25),
        smooth: bool = True,
        smoothing: dict | None = None,
        model_options: dict | None = None,
        redetect_interval: int | None = None,
    ) -> None:
        if mode not in MODES:
            raise PoseItError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        config = RuntimeConfig(device=device, precision=precision, hint=hint, num_threads=num_threads)
        self.mode = mode
        self.model_name = str(model)
        self.landmarks = create_landmark_model(model, config, backend, **(model_options or {}))
        self.skeleton = self.landmarks.skeleton
        self.detector = None
        if mode != "whole-frame":
            self.detector = create_detector(config, "openvino", min_score=min_detection_score)
        self.detect_pads = tuple(detect_pads) or (0.0,)
        self.tracker = RoiTracker(min_tracking_score, redetect_interval)
        self.smoother = LandmarkSmoother(**(smoothing or {})) if smooth and mode == "track" else None
        self.times = StageTimes()
        self.detected = False  # whether the detector ran on the last frame
        self._frame_index = 0

    def reset(self) -> None:
        """Forget the tracked person (call between unrelated videos)."""
        self.tracker.reset()
        if self.smoother:
            self.smoother.reset()

    def detect(self, image: np.ndarray) -> Roi | None:
        """The best person's ROI, trying the paddings in turn; None if nobody is found."""
        assert self.detector is not None
        with self.times("detect"):
            for pad in self.detect_pads:
                found = self.detector.postprocess(*_infer(self.detector, image, pad))
                if found:
                    return found[0].roi
        return None

    def __call__(self, image: np.ndarray, time_s: float | None = None) -> Poses:
        """Poses on one BGR frame. ``time_s`` (seconds) drives smoothing; defaults to frame count / 30."""
        if image is None or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise PoseItError("PoseEstimator expects a BGR uint8 image of shape (H, W, 3)")
        t = self._frame_index / 30.0 if time_s is None else time_s
        self._frame_index += 1
        self.detected = False
        lm = self._landmarks(image)
        if lm is None:
            return Poses.empty(self.skeleton)
        with self.times("post"):
            return self._to_poses(lm, t)

    def _landmarks(self, image: np.ndarray) -> Landmarks | None:
        if self.mode == "whole-frame":
            roi = Roi.whole_frame(image.shape[1], image.shape[0])
        elif self.mode == "detect" or self.tracker.needs_detection:
            self.detected = True
            roi = self.detect(image)
            if roi is None:
                self.reset()
                return None
            self.tracker.start(roi)
        else:
            roi = self.tracker.roi
        with self.times("landmarks"):
            tensor, meta = self.landmarks.preprocess(image, roi)
            outputs = self.landmarks.backend.infer(tensor)
        with self.times("post"):
            lm = self.landmarks.postprocess(outputs, meta)
        if lm.score < self.tracker.min_tracking_score:
            self.reset()
            return None
        return lm

    def _to_poses(self, lm: Landmarks, t: float) -> Poses:
        if self.smoother is not None:
            lm = self.smoother(lm, t)
        if self.mode == "track":
            points = lm.alignment
            if points is not None:
                points = self.tracker.smooth_alignment(points, t)
            self.tracker.update(lm.score, self.landmarks.next_roi(lm, points))
        return Poses(
            xy=lm.xy[None],
            scores=np.clip(lm.scores, 0, 1)[None],
            skeleton=self.skeleton,
            presence=None if lm.presence is None else lm.presence[None],
            z=None if lm.z is None else lm.z[None],
            world=None if lm.world is None else lm.world[None],
            confidence=np.array([lm.score]),
        )

    def process(self, frames: Iterable[Frame], decode_ahead: bool = True) -> Iterator[PoseResult]:
        """Poses for each frame of a stream, in order (decoding runs ahead in a thread)."""
        stream = prefetch(iter(frames)) if decode_ahead else iter(frames)
        for frame in stream:
            poses = self(frame.image, frame.time_s)
            yield PoseResult(frame, poses, self.detected)


def _infer(model, image: np.ndarray, *args):
    tensor, meta = model.preprocess(image, *args)
    return model.backend.infer(tensor), meta


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
