"""Person-centred crops with the seed's augmentation: scale, rotation, horizontal flip (left/right joints swapped
through the skeleton's ``flip_index``) and per-channel colour gain. Numpy + OpenCV; the crop is the engine's
`poseit.detect.roi` crop, so training and inference sample pixels the same way."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from poseit.detect.roi import Roi, crop
from poseit.skeletons import get_skeleton


@dataclass(frozen=True)
class Augment:
    """Random crop parameters (the seed's defaults: scale 0.25, rotation 30 degrees 60% of the time, flip 0.5,
    colour gain 0.8-1.2). ``Augment.none()`` gives the plain centred crop used for validation."""

    scale: float = 0.25
    rotation: float = 30.0  # degrees
    rotation_prob: float = 0.6
    flip: float = 0.5
    color: float = 0.2
    shift: float = 0.05  # centre jitter (standard deviation, share of the side) around a detector ROI

    @classmethod
    def none(cls) -> Augment:
        return cls(scale=0.0, rotation=0.0, rotation_prob=0.0, flip=0.0, color=0.0, shift=0.0)

    def draw(self, rng: np.random.Generator) -> tuple[float, float, bool, np.ndarray]:
        """(scale factor, rotation in radians, flip, colour gains)."""
        s = float(np.clip(rng.normal(1.0, self.scale), 1 - self.scale, 1 + self.scale)) if self.scale else 1.0
        r = 0.0
        if self.rotation and rng.random() < self.rotation_prob:
            r = float(np.clip(rng.normal(0.0, self.rotation), -2 * self.rotation, 2 * self.rotation))
        flip = bool(self.flip and rng.random() < self.flip)
        gains = rng.uniform(1 - self.color, 1 + self.color, 3) if self.color else np.ones(3)
        return s, np.deg2rad(r), flip, gains


def crop_person(
    image: np.ndarray,
    center: np.ndarray,
    side: float,
    size: int,
    joints: list[np.ndarray] | None = None,
    rotation: float = 0.0,
    flip: bool = False,
    skeleton: str = "mpii16",
    gains: np.ndarray | None = None,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """A ``size`` x ``size`` BGR crop of the square (``side`` pixels, rotated by ``rotation``) around ``center``,
    and each (K, 2) joint array moved into crop pixels (mirrored with left/right swapped when ``flip``)."""
    roi = Roi(float(center[0]), float(center[1]), float(side), float(side), float(rotation))
    out = crop(image, roi, size, size, border="zero")
    m = roi.crop_matrix(size, size)
    moved = []
    for xy in joints or []:
        p = np.asarray(xy, dtype=np.float64) @ m[:, :2].T + m[:, 2]
        moved.append(p.astype(np.float32))
    if flip:
        out = np.ascontiguousarray(out[:, ::-1])
        index = get_skeleton(skeleton).flip_index
        moved = [np.stack([size - 1 - p[:, 0], p[:, 1]], axis=1)[index] for p in moved]
    if gains is not None:
        out = np.clip(out.astype(np.float32) * np.asarray(gains, dtype=np.float32), 0, 255).astype(np.uint8)
    return out, moved
