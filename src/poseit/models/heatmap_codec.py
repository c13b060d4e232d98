"""The one heatmap codec: Gaussian targets for training and peak decoding for inference (numpy only).

Coordinates are crop pixels in OpenCV's convention (integer = pixel centre, as `poseit.detect.roi.crop` samples).
A heatmap of stride ``s`` (input size / heatmap size) puts its pixel ``j`` over input pixels ``s*j .. s*j+s-1``,
so its centre is the crop point ``s*j + (s-1)/2``. Encoding draws an unnormalised Gaussian (peak 1) at the
joint's exact sub-pixel heatmap position; decoding takes the arg-max and moves it a quarter pixel towards the
higher neighbour (the stacked hourglass convention). Flip test: `flip_back` mirrors the heatmaps of a mirrored
input and swaps left/right channels, so they can be averaged with the plain ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class HeatmapCodec:
    """Maps joints in crop pixels to heatmaps and back. ``input_size`` and ``heatmap_size`` are (width, height)."""

    input_size: tuple[int, int] = (256, 256)
    heatmap_size: tuple[int, int] = (64, 64)
    sigma: float = 2.0  # in heatmap pixels (the seed's sigma at 64x64)
    shift: float = 0.25  # the quarter-pixel move towards the higher neighbour

    @property
    def stride(self) -> np.ndarray:
        return np.array(self.input_size, dtype=np.float64) / np.array(self.heatmap_size, dtype=np.float64)

    def to_heatmap(self, xy: np.ndarray) -> np.ndarray:
        """Crop pixels -> heatmap pixels (..., 2)."""
        s = self.stride
        return (np.asarray(xy, dtype=np.float64) - (s - 1) / 2) / s

    def from_heatmap(self, hxy: np.ndarray) -> np.ndarray:
        """Heatmap pixels -> crop pixels (..., 2)."""
        s = self.stride
        return np.asarray(hxy, dtype=np.float64) * s + (s - 1) / 2

    def encode(self, xy: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(K, 2) joints in crop pixels and (K,) weights (0 = unlabelled) -> (K, H, W) float32 targets and (K,)
        float32 weights. A joint whose Gaussian falls wholly outside the heatmap gets weight 0."""
        w, h = self.heatmap_size
        k = len(xy)
        target = np.zeros((k, h, w), dtype=np.float32)
        weights = np.asarray(weight, dtype=np.float32).copy()
        hxy = self.to_heatmap(xy)
        xs, ys = np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64)
        reach = 3 * self.sigma
        for i in range(k):
            x, y = hxy[i]
            if weights[i] <= 0 or not np.isfinite([x, y]).all():
                weights[i] = 0
                continue
            if x < -reach or y < -reach or x > w - 1 + reach or y > h - 1 + reach:
                weights[i] = 0
                continue
            gx = np.exp(-((xs - x) ** 2) / (2 * self.sigma**2))
            gy = np.exp(-((ys - y) ** 2) / (2 * self.sigma**2))
            target[i] = np.outer(gy, gx)
        return target, weights

    def decode(self, heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(..., K, H, W) heatmaps -> (..., K, 2) crop pixels and (..., K) peak values (clipped to [0, 1])."""
        hm = np.asarray(heatmaps, dtype=np.float32)
        *lead, h, w = hm.shape
        flat = hm.reshape(-1, h, w)
        idx = flat.reshape(len(flat), -1).argmax(axis=1)
        py, px = np.divmod(idx, w)
        n = np.arange(len(flat))
        peak = flat[n, py, px]
        hx, hy = px.astype(np.float64), py.astype(np.float64)
        inner_x = (px > 0) & (px < w - 1)
        inner_y = (py > 0) & (py < h - 1)
        dx = flat[n, py, np.clip(px + 1, 0, w - 1)] - flat[n, py, np.clip(px - 1, 0, w - 1)]
        dy = flat[n, np.clip(py + 1, 0, h - 1), px] - flat[n, np.clip(py - 1, 0, h - 1), px]
        hx += np.where(inner_x, np.sign(dx) * self.shift, 0.0)
        hy += np.where(inner_y, np.sign(dy) * self.shift, 0.0)
        xy = self.from_heatmap(np.stack([hx, hy], axis=-1)).astype(np.float32)
        return xy.reshape(*lead, 2), np.clip(peak, 0.0, 1.0).reshape(lead)


def flip_back(heatmaps: np.ndarray, flip_index: list[int] | np.ndarray) -> np.ndarray:
    """Heatmaps (..., K, H, W) of a horizontally mirrored input -> heatmaps of the original input."""
    return np.ascontiguousarray(np.asarray(heatmaps)[..., list(flip_index), :, ::-1])
