"""Following one person from frame to frame: the ROI tracker and the landmark smoother."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from poseit.detect.roi import Roi
from poseit.detect.smoothing import LowPassFilter, OneEuroFilter
from poseit.models.base import Landmarks


class RoiTracker:
    """MediaPipe's tracking loop: the next frame's ROI comes from this frame's landmarks, and the detector
    runs again only when the landmark model's person score falls below ``min_tracking_score``.

    The alignment points that steer the ROI are always smoothed (One Euro, heavier than the output
    smoothing: ``alignment_min_cutoff``, ``alignment_beta``) so the crop stays steady while the person is
    still. Every ``verify_interval`` tracked frames the detector checks the track (`needs_verification`): a
    track that locked onto the wrong region or turned upside down (after a cut, or from a poor first
    detection) is restarted from the detection (None: never check).
    """

    def __init__(
        self,
        min_tracking_score: float = 0.5,
        verify_interval: int | None = 30,
        alignment_min_cutoff: float = 0.01,
        alignment_beta: float = 10.0,
    ) -> None:
        self.min_tracking_score = min_tracking_score
        self.verify_interval = verify_interval
        self.alignment_filter = OneEuroFilter(alignment_min_cutoff, alignment_beta, derivate_cutoff=1.0)
        self.roi: Roi | None = None
        self._age = 0

    @property
    def needs_detection(self) -> bool:
        return self.roi is None

    @property
    def needs_verification(self) -> bool:
        return (
            self.roi is not None
            and self.verify_interval is not None
            and self._age > 0
            and self._age % self.verify_interval == 0
        )

    def start(self, roi: Roi) -> None:
        self.roi, self._age = roi, 0

    def verify(self, detected: Roi | None, others: Sequence[Roi] = ()) -> bool:
        """Check the track against a fresh detection (``detected``: the person the detector would choose;
        ``others``: everybody it found); returns True (and restarts from ``detected``) when none of them
        agrees with the track, so another person in view (a passer-by) never takes the track over while the
        tracked person is still found. No detection leaves the track alone: tracking holds people the
        detector misses."""
        if detected is None or self.roi is None:
            return False
        if any(roi.agrees_with(self.roi) for roi in (detected, *others)):
            return False
        self.reset()
        self.start(detected)
        return True

    def smooth_alignment(self, points: np.ndarray, time_s: float) -> np.ndarray:
        return self.alignment_filter(points, time_s, object_scale(points, alignment=True))

    def update(self, score: float, next_roi: Roi | None) -> bool:
        """Record this frame's result; returns whether the person is still tracked."""
        if score < self.min_tracking_score or next_roi is None:
            self.reset()
            return False
        self.roi, self._age = next_roi, self._age + 1
        return True

    def reset(self) -> None:
        self.roi, self._age = None, 0
        self.alignment_filter.reset()


def object_scale(points: np.ndarray, alignment: bool = False) -> float:
    """The person's size in pixels, which smoothing divides speeds by. For alignment points (centre, scale
    point) it is MediaPipe's alignment-rect side, 2 x their distance; otherwise the mean of the width and
    height of the points' bounding box."""
    if alignment:
        return float(2 * np.linalg.norm(points[1] - points[0]))
    finite = points[np.isfinite(points).all(axis=1)]
    if len(finite) == 0:
        return 1.0
    extent = finite.max(axis=0) - finite.min(axis=0)
    return float(extent.mean())


class LandmarkSmoother:
    """Smooths one tracked person's landmarks: One Euro on positions and depth, low-pass on visibility.
    Defaults are MediaPipe Pose 0.10's (min_cutoff 0.05, beta 80, derivate_cutoff 1, visibility alpha 0.1)."""

    def __init__(
        self, min_cutoff: float = 0.05, beta: float = 80.0, derivate_cutoff: float = 1.0, visibility_alpha: float = 0.1
    ) -> None:
        self.points = OneEuroFilter(min_cutoff, beta, derivate_cutoff)
        self.visibility = LowPassFilter(visibility_alpha)

    def reset(self) -> None:
        self.points.reset()
        self.visibility.reset()

    def __call__(self, lm: Landmarks, time_s: float) -> Landmarks:
        n = len(lm.xy)
        values = np.concatenate([lm.xy, lm.z[:, None]], axis=1) if lm.z is not None else lm.xy
        scale = object_scale(lm.alignment, alignment=True) if lm.alignment is not None else object_scale(lm.xy)
        smoothed = self.points(values, time_s, scale)
        return replace(
            lm,
            xy=smoothed[:n, :2],
            z=smoothed[:, 2] if lm.z is not None else None,
            scores=self.visibility(lm.scores),
        )
