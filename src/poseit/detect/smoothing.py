"""Temporal smoothing of keypoints: the One Euro filter (Casiez et al., CHI 2012), as MediaPipe applies it.

Knobs (`OneEuroFilter`):
- ``min_cutoff`` (Hz): the cutoff frequency when the point is still. Lower = less jitter at rest, more lag.
- ``beta``: how fast the cutoff rises with speed. Higher = less lag on fast moves, more jitter.
- ``derivate_cutoff`` (Hz): cutoff of the low-pass filter on the speed estimate.
Speeds are measured in object sizes per second (``scale`` is the person's size in pixels), so one set of knobs
suits near and far people alike. The defaults are MediaPipe Pose's: min_cutoff 0.05, beta 80, derivate_cutoff 1.
"""

from __future__ import annotations

import math

import numpy as np


class OneEuroFilter:
    """One Euro filter over an array of values that share timestamps (e.g. all keypoints of one person)."""

    def __init__(self, min_cutoff: float = 0.05, beta: float = 80.0, derivate_cutoff: float = 1.0) -> None:
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.derivate_cutoff = derivate_cutoff
        self.reset()

    def reset(self) -> None:
        self._t: float | None = None
        self._x: np.ndarray | None = None  # last filtered value
        self._raw: np.ndarray | None = None  # last raw value
        self._dx: np.ndarray | None = None  # last filtered derivative

    @staticmethod
    def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def __call__(self, value: np.ndarray, t: float, scale: float = 1.0) -> np.ndarray:
        """Filter ``value`` observed at time ``t`` seconds; ``scale`` is the object size (speeds are divided by it)."""
        value = np.asarray(value, dtype=np.float64)
        if self._x is None or self._t is None or self._x.shape != value.shape:
            self._t, self._x, self._raw, self._dx = t, value, value, np.zeros_like(value)
            return value.astype(np.float32)
        if t <= self._t:  # a repeated or out-of-order timestamp: keep the last output
            return self._x.astype(np.float32)
        dt = t - self._t
        dvalue = (value - self._raw) / max(scale, 1e-6) / dt
        self._dx = self._dx + self._alpha(self.derivate_cutoff, dt) * (dvalue - self._dx)
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx)
        self._x = self._x + self._alpha(cutoff, dt) * (value - self._x)
        self._t, self._raw = t, value
        return self._x.astype(np.float32)


class LowPassFilter:
    """Exponential smoothing ``y = alpha * x + (1 - alpha) * y_prev`` (MediaPipe smooths visibility so, alpha 0.1)."""

    def __init__(self, alpha: float = 0.1) -> None:
        self.alpha = alpha
        self._y: np.ndarray | None = None

    def reset(self) -> None:
        self._y = None

    def __call__(self, value: np.ndarray) -> np.ndarray:
        value = np.asarray(value, dtype=np.float32)
        if self._y is None or self._y.shape != value.shape:
            self._y = value
        else:
            self._y = self.alpha * value + (1 - self.alpha) * self._y
        return self._y
