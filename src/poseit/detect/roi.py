"""Rotated regions of interest and the affine crops between a frame and a model's input.

Conventions follow MediaPipe so that BlazePose sees the crops it was trained on: an `Roi` is a rotated
rectangle in frame pixels; ``rotation`` (radians) turns the frame's "up" into the crop's "up"; the crop maps
the rectangle's corners onto the corners of the model input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


def normalize_radians(angle: float) -> float:
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


@dataclass(frozen=True)
class Roi:
    """A rotated rectangle in frame pixels: centre, width, height, rotation in radians."""

    cx: float
    cy: float
    width: float
    height: float
    rotation: float = 0.0

    @classmethod
    def from_alignment(
        cls, center: np.ndarray, scale_point: np.ndarray, scale: float = 1.25, target_angle: float = math.pi / 2
    ) -> Roi:
        """MediaPipe's alignment rect: a square centred on ``center``, side 2 x |scale_point - center| x
        ``scale``, rotated so that the centre -> scale-point vector points up in the crop."""
        dx, dy = float(scale_point[0] - center[0]), float(scale_point[1] - center[1])
        size = 2.0 * math.hypot(dx, dy) * scale
        rotation = normalize_radians(target_angle - math.atan2(-dy, dx))
        return cls(float(center[0]), float(center[1]), size, size, rotation)

    @classmethod
    def from_box(cls, x0: float, y0: float, x1: float, y1: float, scale: float = 1.0, square: bool = True) -> Roi:
        w, h = (x1 - x0) * scale, (y1 - y0) * scale
        if square:
            w = h = max(w, h)
        return cls((x0 + x1) / 2, (y0 + y1) / 2, w, h, 0.0)

    @classmethod
    def whole_frame(cls, width: int, height: int) -> Roi:
        """The whole frame, padded to a square (the seed's whole-frame mode)."""
        return cls.from_box(0, 0, width, height, square=True)

    def agrees_with(self, other: Roi, max_shift: float = 0.5, max_scale: float = 2.0,
                    max_turn: float = math.pi / 3) -> bool:  # fmt: skip
        """Whether two ROIs frame the same person the same way up: centres closer than ``max_shift`` x the
        mean side, sides within a factor ``max_scale``, rotations within ``max_turn`` radians."""
        side = (self.width + other.width) / 2
        shift = math.hypot(self.cx - other.cx, self.cy - other.cy)
        ratio = max(self.width, other.width) / max(min(self.width, other.width), 1e-6)
        turn = abs(normalize_radians(self.rotation - other.rotation))
        return shift <= max_shift * side and ratio <= max_scale and turn <= max_turn

    def corners(self) -> np.ndarray:
        """(4, 2) corners: top-left, top-right, bottom-right, bottom-left as seen in the crop."""
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        half = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64) * [self.width / 2, self.height / 2]
        rot = np.array([[c, -s], [s, c]])
        return (half @ rot.T + [self.cx, self.cy]).astype(np.float32)

    def crop_matrix(self, out_w: int, out_h: int) -> np.ndarray:
        """2x3 affine matrix taking frame pixels to crop pixels."""
        src = self.corners()[:3]
        dst = np.array([[0, 0], [out_w, 0], [out_w, out_h]], dtype=np.float32)
        return cv2.getAffineTransform(src, dst)

    def to_frame(self, points_norm: np.ndarray) -> np.ndarray:
        """Map (..., 2) points in crop-normalised units ([0, 1] across the crop) to frame pixels."""
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        p = np.asarray(points_norm, dtype=np.float64) - 0.5
        x = (c * p[..., 0] - s * p[..., 1]) * self.width + self.cx
        y = (s * p[..., 0] + c * p[..., 1]) * self.height + self.cy
        return np.stack([x, y], axis=-1).astype(np.float32)


def grid_tiles(width: int, height: int, n: int, overlap: float = 1.5) -> list[tuple[int, int, int, int]]:
    """An ``n`` x ``n`` grid of overlapping tiles (x0, y0, x1, y1) covering the frame; each tile spans
    ``overlap / n`` of the frame's width and height, so a person on a tile border is whole in one tile."""
    tw, th = min(width, round(width * overlap / n)), min(height, round(height * overlap / n))
    xs = np.linspace(0, width - tw, n).round().astype(int)
    ys = np.linspace(0, height - th, n).round().astype(int)
    return [(int(x), int(y), int(x) + tw, int(y) + th) for y in ys for x in xs]


def crop(image: np.ndarray, roi: Roi, out_w: int, out_h: int, border: str = "replicate") -> np.ndarray:
    """Cut ``roi`` out of ``image`` into an ``out_w`` x ``out_h`` image. Outside the frame, ``border`` is
    ``replicate`` (edge pixels repeated, as MediaPipe feeds BlazePose's landmark model) or ``zero`` (black)."""
    mode = cv2.BORDER_REPLICATE if border == "replicate" else cv2.BORDER_CONSTANT
    return cv2.warpAffine(
        image, roi.crop_matrix(out_w, out_h), (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=mode, borderValue=0
    )


@dataclass(frozen=True)
class Letterbox:
    """An aspect-preserving resize into a square model input, padded symmetrically with black."""

    scale: float
    pad_x: float
    pad_y: float

    @classmethod
    def fit(cls, width: int, height: int, size: int, pad: float = 0.0) -> Letterbox:
        """Fit a ``width`` x ``height`` frame (plus ``pad`` x its long side of black on every side) into ``size``."""
        long_side = max(width, height) * (1 + 2 * pad)
        scale = size / long_side
        return cls(scale, (size - width * scale) / 2, (size - height * scale) / 2)

    def apply(self, image: np.ndarray, size: int) -> np.ndarray:
        m = np.array([[self.scale, 0, self.pad_x], [0, self.scale, self.pad_y]], dtype=np.float32)
        return cv2.warpAffine(
            image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        """Model-input pixels -> frame pixels."""
        return ((np.asarray(points, dtype=np.float32) - [self.pad_x, self.pad_y]) / self.scale).astype(np.float32)
