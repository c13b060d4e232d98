"""Penn Action keypoint labels (training and evaluation only: needs scipy, never used at inference).

``<root>/index.csv`` lists ``file, action, pose_view, nframes, train(1)/test(-1), width, height``; each
``labels/NNNN.mat`` holds ``x``, ``y``, ``visibility`` (frames x 13 joints, the ``penn13`` order) and the action.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poseit.coach.sequence import PoseSequence
from poseit.errors import PoseItError

PENN_FPS = 30.0


@dataclass(frozen=True)
class PennClip:
    file: str
    action: str
    view: str
    frames: int
    train: bool
    width: int
    height: int


def read_index(root: str | Path) -> list[PennClip]:
    """The clips listed in ``index.csv``, in file order."""
    path = Path(root) / "index.csv"
    if not path.is_file():
        raise PoseItError(f"no Penn Action index at {path}")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    split = "train(1)/test(-1)"
    return [
        PennClip(
            r["file"],
            r["action"],
            r["pose_view"],
            int(r["nframes"]),
            r[split].strip() == "1",
            int(r["width"]),
            int(r["height"]),
        )
        for r in rows
    ]


def load_clip(root: str | Path, clip: PennClip, occluded_score: float = 0.0) -> PoseSequence:
    """One clip's labelled keypoints; joints marked invisible keep their coordinates with ``occluded_score``."""
    try:
        from scipy.io import loadmat
    except ImportError:
        raise PoseItError("reading Penn Action labels needs scipy (pip install -e '.[dev]')") from None
    mat = loadmat(str(Path(root) / clip.file))
    xy = np.stack([mat["x"], mat["y"]], axis=-1).astype(np.float32)
    vis = mat["visibility"].astype(np.float32)
    scores = np.where(vis > 0, 1.0, occluded_score).astype(np.float32)
    xy[(xy[..., 0] <= 0) & (xy[..., 1] <= 0)] = np.nan  # (0, 0) marks joints with no label at all
    return PoseSequence.from_array(xy, "penn13", PENN_FPS, scores, clip.width, clip.height)


def load_all(root: str | Path, occluded_score: float = 0.0) -> list[tuple[PennClip, PoseSequence]]:
    """Every clip of the index with its keypoints."""
    return [(c, load_clip(root, c, occluded_score)) for c in read_index(root)]
