"""`Poses`: the one validated keypoints type that flows through Pose-It!.

Shaped like supervision's `KeyPoints`: arrays for N people x K joints, validated on construction,
with converters (other skeletons, JSON, normalised coordinates). Drawing lives in `poseit.io.draw`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from poseit.skeletons import Skeleton, get_skeleton


def _as_float(a: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    """``a`` as float32 of ``shape``; a single person's array may omit the leading axis of length 1."""
    arr = np.asarray(a, dtype=np.float32)
    if shape[0] == 1 and arr.shape == shape[1:]:
        arr = arr[None]
    if arr.shape != shape:
        raise ValueError(f"Poses.{what} must have shape {shape}, got {arr.shape}")
    return arr


@dataclass(frozen=True)
class Poses:
    """Keypoints of N people on one skeleton, in frame pixel coordinates.

    xy: (N, K, 2) pixel coordinates (x right, y down); NaN where a joint is unknown.
    scores: (N, K) per-joint confidence in [0, 1] (BlazePose: visibility; heatmap models: peak value).
    skeleton: registered skeleton name (``blazepose33``, ``mpii16``, ``coco17``, ``lsp14``, ``penn13``).
    presence: optional (N, K) probability that the joint is inside the frame (BlazePose).
    z: optional (N, K) relative depth in pixels (BlazePose; smaller is nearer the camera).
    world: optional (N, K, 3) metric coordinates in metres, origin between the hips (BlazePose).
    boxes: (N, 4) x0, y0, x1, y1; derived from the confident keypoints when not given.
    confidence: (N,) per-person score (pose flag or detector score); mean joint score when not given.
    """

    xy: np.ndarray
    scores: np.ndarray
    skeleton: str
    presence: np.ndarray | None = None
    z: np.ndarray | None = None
    world: np.ndarray | None = None
    boxes: np.ndarray | None = None
    confidence: np.ndarray | None = None
    _skel: Skeleton = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        skel = get_skeleton(self.skeleton)
        xy = np.asarray(self.xy, dtype=np.float32)
        if xy.ndim == 2:  # a single person given as (K, 2)
            xy = xy[None]
        if xy.ndim != 3 or xy.shape[1:] != (skel.num_joints, 2):
            raise ValueError(f"Poses.xy must have shape (N, {skel.num_joints}, 2) for {skel.name}, got {xy.shape}")
        n, k = xy.shape[:2]
        scores = _as_float(self.scores, (n, k), "scores")
        if np.any((scores < 0) | (scores > 1)):
            raise ValueError("Poses.scores must lie in [0, 1]")
        set_ = object.__setattr__
        set_(self, "_skel", skel)
        set_(self, "xy", xy)
        set_(self, "scores", scores)
        if self.presence is not None:
            set_(self, "presence", _as_float(self.presence, (n, k), "presence"))
        if self.z is not None:
            set_(self, "z", _as_float(self.z, (n, k), "z"))
        if self.world is not None:
            set_(self, "world", _as_float(self.world, (n, k, 3), "world"))
        boxes = self.boxes if self.boxes is not None else _boxes_from_keypoints(xy, scores)
        set_(self, "boxes", _as_float(boxes, (n, 4), "boxes"))
        conf = self.confidence
        if conf is None:
            conf = scores.mean(axis=1) if k else np.zeros(n)
        set_(self, "confidence", _as_float(conf, (n,), "confidence"))

    # --- container protocol -------------------------------------------------------------------
    @classmethod
    def empty(cls, skeleton: str) -> Poses:
        k = get_skeleton(skeleton).num_joints
        return cls(xy=np.zeros((0, k, 2)), scores=np.zeros((0, k)), skeleton=skeleton)

    @property
    def skel(self) -> Skeleton:
        return self._skel

    def __len__(self) -> int:
        return int(self.xy.shape[0])

    def __iter__(self) -> Iterator[Poses]:
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, index: int | slice | np.ndarray) -> Poses:
        if isinstance(index, (int, np.integer)):
            index = slice(int(index), int(index) + 1 if index != -1 else None)

        def pick(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[index]

        return Poses(
            xy=self.xy[index],
            scores=self.scores[index],
            skeleton=self.skeleton,
            presence=pick(self.presence),
            z=pick(self.z),
            world=pick(self.world),
            boxes=pick(self.boxes),
            confidence=pick(self.confidence),
        )

    @staticmethod
    def concat(items: list[Poses], skeleton: str | None = None) -> Poses:
        """Stack the people of several `Poses` on one skeleton."""
        if not items:
            if skeleton is None:
                raise ValueError("Poses.concat needs a skeleton name for an empty list")
            return Poses.empty(skeleton)
        name = items[0].skeleton
        if any(p.skeleton != name for p in items):
            raise ValueError("Poses.concat: all items must share one skeleton")

        def cat(attr: str) -> np.ndarray | None:
            parts = [getattr(p, attr) for p in items]
            return None if any(a is None for a in parts) else np.concatenate(parts)

        return Poses(
            xy=cat("xy"),
            scores=cat("scores"),
            skeleton=name,
            presence=cat("presence"),
            z=cat("z"),
            world=cat("world"),
            boxes=cat("boxes"),
            confidence=cat("confidence"),
        )

    # --- converters ----------------------------------------------------------------------------
    def to_skeleton(self, name: str) -> Poses:
        """The same people on another skeleton (see `poseit.skeletons.convert`)."""
        from poseit.skeletons.mapping import convert_arrays

        if name == self.skeleton:
            return self
        xy, scores = convert_arrays(self.xy, self.scores, self.skeleton, name)
        return Poses(xy=xy, scores=scores, skeleton=name, boxes=self.boxes, confidence=self.confidence)

    def normalized(self, width: int, height: int) -> np.ndarray:
        """xy divided by the frame size: (N, K, 2) in [0, 1] for joints inside the frame."""
        return self.xy / np.array([width, height], dtype=np.float32)

    def visible(self, threshold: float = 0.5) -> np.ndarray:
        """(N, K) boolean mask of joints whose score reaches ``threshold`` and whose position is known."""
        return (self.scores >= threshold) & np.isfinite(self.xy).all(axis=-1)

    def to_records(self, ndigits: int = 2) -> list[dict[str, Any]]:
        """JSON-ready dicts, one per person: ``{"skeleton", "keypoints": [[x, y, score], ...], "box", "score"}``."""
        out = []
        for i in range(len(self)):
            kps = np.concatenate([self.xy[i], self.scores[i, :, None]], axis=1)
            rec: dict[str, Any] = {
                "skeleton": self.skeleton,
                "keypoints": [[_num(v, ndigits) for v in row[:2]] + [_num(row[2], 3)] for row in kps],
                "box": [_num(v, ndigits) for v in self.boxes[i]],
                "score": _num(self.confidence[i], 3),
            }
            if self.world is not None:
                rec["world"] = [[_num(v, 4) for v in row] for row in self.world[i]]
            out.append(rec)
        return out

    @classmethod
    def from_records(cls, records: list[dict[str, Any]], skeleton: str | None = None) -> Poses:
        """Inverse of `to_records` (world coordinates included when present)."""
        if not records:
            if skeleton is None:
                raise ValueError("Poses.from_records needs a skeleton name for an empty list")
            return cls.empty(skeleton)
        name = records[0]["skeleton"]
        kps = np.array([[[_nan(v) for v in kp] for kp in r["keypoints"]] for r in records], dtype=np.float32)
        world = None
        if all("world" in r for r in records):
            world = np.array([r["world"] for r in records], dtype=np.float32)
        return cls(
            xy=kps[..., :2],
            scores=np.nan_to_num(kps[..., 2]),
            skeleton=name,
            world=world,
            boxes=np.array([[_nan(v) for v in r["box"]] for r in records], dtype=np.float32),
            confidence=np.array([r["score"] for r in records], dtype=np.float32),
        )


def _num(v: float, ndigits: int) -> float | None:
    v = float(v)
    return round(v, ndigits) if np.isfinite(v) else None


def _nan(v: float | None) -> float:
    return float("nan") if v is None else float(v)


def _boxes_from_keypoints(xy: np.ndarray, scores: np.ndarray, min_score: float = 0.3) -> np.ndarray:
    """Tight x0, y0, x1, y1 boxes around the confident joints (all finite joints if none is confident)."""
    boxes = np.full((xy.shape[0], 4), np.nan, dtype=np.float32)
    finite = np.isfinite(xy).all(axis=-1)
    for i in range(xy.shape[0]):
        keep = finite[i] & (scores[i] >= min_score)
        if not keep.any():
            keep = finite[i]
        if keep.any():
            pts = xy[i][keep]
            boxes[i] = [*pts.min(axis=0), *pts.max(axis=0)]
    return boxes
