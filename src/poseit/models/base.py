"""The model base classes: every model is preprocess -> inference -> postprocess (rtmlib's shape)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from poseit.detect.roi import Roi
from poseit.runtime import Backend


class Model(ABC):
    """A compiled network with its own pre- and postprocessing."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @abstractmethod
    def preprocess(self, image: np.ndarray, *args: Any) -> tuple[np.ndarray, Any]:
        """BGR uint8 frame (+ model-specific arguments) -> (input tensor, what postprocess needs)."""

    @abstractmethod
    def postprocess(self, outputs: dict[str, np.ndarray], meta: Any) -> Any:
        """Raw outputs by name -> the model's result in frame coordinates."""

    def __call__(self, image: np.ndarray, *args: Any) -> Any:
        tensor, meta = self.preprocess(image, *args)
        return self.postprocess(self.backend.infer(tensor), meta)


@dataclass(frozen=True)
class Detection:
    """A person found by a detector, in frame pixels: score, box x0 y0 x1 y1, and the ROI the landmark
    model should look at."""

    score: float
    box: np.ndarray
    roi: Roi

    def shifted(self, dx: float, dy: float) -> Detection:
        """The same detection in a frame where the detector's image started at (dx, dy)."""
        if dx == 0 and dy == 0:
            return self
        roi = Roi(self.roi.cx + dx, self.roi.cy + dy, self.roi.width, self.roi.height, self.roi.rotation)
        return Detection(self.score, self.box + np.array([dx, dy, dx, dy], dtype=np.float32), roi)


@dataclass(frozen=True)
class Landmarks:
    """One person's keypoints from a landmark model, in frame pixels.

    ``score`` is the model's belief that a person is in the crop (BlazePose's pose flag); ``alignment`` holds
    the centre and scale points from which the next frame's ROI is built while tracking.
    """

    xy: np.ndarray  # (K, 2)
    scores: np.ndarray  # (K,)
    score: float
    roi: Roi
    alignment: np.ndarray | None = None  # (2, 2)
    presence: np.ndarray | None = None  # (K,)
    z: np.ndarray | None = None  # (K,)
    world: np.ndarray | None = None  # (K, 3)


class LandmarkModel(Model):
    """A single-person keypoint model that looks at one ROI crop. Subclasses set ``skeleton`` and
    ``input_size`` and may override `next_roi` for tracking."""

    skeleton: str
    input_size: tuple[int, int]  # width, height
    tracking_scale: float = 1.25  # the tracking ROI's side over the alignment rect's (MediaPipe 0.10: 1.25)
    min_score: float = 0.5  # default person score below which the pipeline reports nobody (BlazePose's pose flag)
    # looks again at a just-found person, on the ROI these landmarks give (`PoseEstimator.refine_passes`): chosen
    # on dev sets per family (BlazePose: LSP train +0.7, MPII frames dev PCKh +1.6)
    refine_passes: int = 1
    # where the detector finds nobody, the whole frame is looked at and the person score decides
    # (`PoseEstimator.whole_frame_fallback`): only for models with a person-presence output
    whole_frame_fallback: bool = True
    # a tracked fit upside down in the frame is looked at again upright (`PoseEstimator.prefer_upright`): only
    # for models whose landmarks give their own rotation (the upright look must read the person upright)
    prefer_upright: bool = True

    def __call__(self, image: np.ndarray, roi: Roi) -> Landmarks:  # type: ignore[override]
        return super().__call__(image, roi)

    def next_roi(self, landmarks: Landmarks, alignment: np.ndarray | None = None) -> Roi:
        """The ROI to track this person in the next frame (MediaPipe's alignment rect by default)."""
        points = alignment if alignment is not None else landmarks.alignment
        if points is None:
            raise NotImplementedError(f"{type(self).__name__} must override next_roi")
        return Roi.from_alignment(points[0], points[1], scale=self.tracking_scale)
