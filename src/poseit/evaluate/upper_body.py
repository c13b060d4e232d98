"""Upper-body frames as TV shows and video calls give them, cut from the MPII frames: a stand-in for such footage.

Each upright labelled person whose upper body is large enough gives one landscape (16:9) frame from above the
head down to somewhere between mid-torso and a little below the hips, placed off-centre as a camera would; the
other people in the frame stay in it. The cut is drawn from a generator seeded by the image name and person, so
a split always gives the same frames. Scores, of the one pose the engine chose, against the frame's own person:

- PCP@0.5 (strict: both ends of a stick within half the stick's length of the labelled ends) on the upper-body
  sticks whose two labelled ends are inside the frame: head (upper neck to head top), torso (thorax to pelvis),
  upper arms, lower arms; the usual score of upper-body TV datasets;
- PCKh@0.5 on the upper-body joints inside the frame (head top, upper neck, shoulders, elbows, wrists);
- ``nobody`` (no pose) and ``target`` (the pose is on the frame's own person, `poseit.evaluate.person.NEAR`)
  rates in percent of frames. Where the engine chose nobody or somebody else, the frame's sticks count as wrong.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poseit.evaluate.person import NEAR, extent
from poseit.skeletons import get_skeleton
from poseit.train.datasets import Sample

ASPECT = 16 / 9
MIN_HEIGHT = 120  # px: smaller upper bodies are left out
MAX_LEAN_DEG = 30.0  # upright: the thorax-to-pelvis line within this of vertical
_J = get_skeleton("mpii16").index
STICKS = {
    "head": [("upper_neck", "head_top")],
    "torso": [("thorax", "pelvis")],
    "upper_arm": [("right_shoulder", "right_elbow"), ("left_shoulder", "left_elbow")],
    "lower_arm": [("right_elbow", "right_wrist"), ("left_elbow", "left_wrist")],
}
UPPER_JOINTS = ("head_top", "upper_neck", "right_shoulder", "left_shoulder", "right_elbow", "left_elbow",
                "right_wrist", "left_wrist")  # fmt: skip


@dataclass(frozen=True)
class UpperBodyFrame:
    """One frame: the source image, the cut ``box`` (x0, y0, x1, y1) in its pixels, the frame's own person's
    MPII-16 ``joints`` in frame pixels with ``inside`` (K,) the joints inside the frame, and the ``others``
    (P, 16, 2) labelled people of the image in frame pixels."""

    image: str
    box: tuple[int, int, int, int]
    joints: np.ndarray
    inside: np.ndarray
    others: np.ndarray

    def crop(self, image: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = self.box
        return image[y0:y1, x0:x1]


def _upright(xy: np.ndarray) -> bool:
    head, thorax, pelvis = xy[_J["head_top"]], xy[_J["thorax"]], xy[_J["pelvis"]]
    if not head[1] < thorax[1] < pelvis[1]:
        return False
    dx, dy = pelvis - thorax
    return bool(np.degrees(np.arctan2(abs(dx), dy)) <= MAX_LEAN_DEG)


def _cut(xy: np.ndarray, width: int, height: int, rng: np.random.Generator) -> tuple[int, int, int, int] | None:
    """The frame around one person's upper body, or None where it does not fit the image or is too small."""
    torso = float(np.linalg.norm(xy[_J["pelvis"]] - xy[_J["thorax"]]))
    top = xy[_J["head_top"], 1] - rng.uniform(0.15, 0.5) * torso
    bottom = xy[_J["pelvis"], 1] + rng.uniform(-0.5, 0.3) * torso
    h = bottom - top
    if h < MIN_HEIGHT or h > height:
        return None
    w = min(h * ASPECT, width)
    centre = 0.5 * (xy[_J["left_shoulder"], 0] + xy[_J["right_shoulder"], 0]) + rng.uniform(-0.25, 0.25) * w
    x0 = float(np.clip(centre - w / 2, 0, width - w))
    y0 = float(np.clip(top, 0, height - h))
    return round(x0), round(y0), round(x0 + w), round(y0 + h)


def upper_body_frames(samples: list[Sample], image_sizes: dict[str, tuple[int, int]] | None = None) -> list:
    """`UpperBodyFrame`s of MPII-16 ``samples`` (one per upright person that fits; `poseit.evaluate.datasets`
    loaders). ``image_sizes`` maps an image path to (width, height); read from the files where not given."""
    import cv2

    by_image: dict[str, list[Sample]] = {}
    for s in samples:
        if s.skeleton != "mpii16":
            raise ValueError(f"upper-body frames need MPII-16 people, got {s.skeleton}")
        by_image.setdefault(s.image, []).append(s)
    sizes = dict(image_sizes or {})
    frames = []
    for image, people in by_image.items():
        if image not in sizes:
            shape = cv2.imread(image, cv2.IMREAD_REDUCED_GRAYSCALE_2).shape  # half size: only the shape is needed
            sizes[image] = (2 * shape[1], 2 * shape[0])
        width, height = sizes[image]
        everyone = np.stack([p.source_joints for p in people]).astype(np.float32)
        for k, xy in enumerate(everyone):
            if not _upright(xy):
                continue
            rng = np.random.default_rng(zlib.crc32(f"{Path(image).name}:{k}".encode()))
            box = _cut(xy, width, height, rng)
            if box is None:
                continue
            shift = np.array(box[:2], np.float32)
            own = xy - shift
            inside = (own[:, 0] >= 0) & (own[:, 1] >= 0) & (own[:, 0] < box[2] - box[0]) & (own[:, 1] < box[3] - box[1])
            frames.append(UpperBodyFrame(image, box, own, inside, np.delete(everyone, k, axis=0) - shift))
    return frames


def _on_target(pred: np.ndarray, frame: UpperBodyFrame) -> bool:
    """Whether a pose is nearer the frame's own person than anyone else's and near enough (`NEAR`)."""
    idx = [_J[j] for j in UPPER_JOINTS]
    people = np.concatenate([frame.joints[None], frame.others])[:, idx]
    counted = np.isfinite(pred[idx]).all(axis=1)
    if not counted.any():
        return False
    size = extent(frame.joints[None, idx], frame.inside[None, idx])[0]
    rel = [np.median(np.linalg.norm(pred[idx][counted] - p[counted], axis=1)) for p in people]
    return int(np.argmin(rel)) == 0 and rel[0] <= NEAR * max(size, 1.0)


def score_frames(frames: list[UpperBodyFrame], preds: list[np.ndarray | None]) -> dict:
    """PCP@0.5 (mean and per stick group), PCKh@0.5 of the upper-body joints, nobody and target rates, in
    percent, of (16, 2) MPII-16 poses in frame pixels (None: nobody chosen)."""
    if not frames:
        raise ValueError("no frames to score")
    hits = {group: [0, 0] for group in STICKS}
    joint_hits = [0, 0]
    nobody = target = 0
    upper = [_J[j] for j in UPPER_JOINTS]
    for frame, pred in zip(frames, preds, strict=True):
        found = pred is not None and bool(np.isfinite(pred).any())
        nobody += not found
        on = found and _on_target(pred, frame)
        target += on
        gt = frame.joints
        for group, sticks in STICKS.items():
            for a, b in sticks:
                ia, ib = _J[a], _J[b]
                if not (frame.inside[ia] and frame.inside[ib]):
                    continue
                hits[group][1] += 1
                if on:
                    length = float(np.linalg.norm(gt[ia] - gt[ib]))
                    ends = np.linalg.norm(pred[[ia, ib]] - gt[[ia, ib]], axis=1)
                    hits[group][0] += bool(np.all(ends <= 0.5 * length))
        head = float(np.linalg.norm(gt[_J["head_top"]] - gt[_J["upper_neck"]]))
        for j in upper:
            if frame.inside[j]:
                joint_hits[1] += 1
                if on and np.linalg.norm(pred[j] - gt[j]) <= 0.5 * head:
                    joint_hits[0] += 1
    n = len(frames)
    done = sum(h[0] for h in hits.values())
    total = sum(h[1] for h in hits.values())
    return {
        "frames": n,
        "pcp": 100.0 * done / max(total, 1),
        "per_stick": {g: 100.0 * h[0] / h[1] for g, h in hits.items() if h[1]},
        "pckh": 100.0 * joint_hits[0] / max(joint_hits[1], 1),
        "nobody": 100.0 * nobody / n,
        "target": 100.0 * target / n,
    }


def evaluate_frames(frames: list[UpperBodyFrame], estimator, progress: bool = True) -> dict:
    """`score_frames` of a `poseit.pipeline.PoseEstimator` (``mode="detect"``) run on each frame."""
    from tqdm import tqdm

    from poseit.io.sources import read_image

    preds: list[np.ndarray | None] = []
    for frame in tqdm(frames, unit="frame", disable=not progress, leave=False):
        estimator.reset()
        poses = estimator(np.ascontiguousarray(frame.crop(read_image(frame.image))))
        preds.append(poses.to_skeleton("mpii16").xy[0] if len(poses) else None)
    return score_frames(frames, preds)
