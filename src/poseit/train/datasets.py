"""Labelled pose data mapped to MPII-16: MPII json (pytorch-pose style), COCO person keypoints, LSP ``joints.mat``.

Every loader returns `Sample`s: the image path, the person's centre and scale in the seed's convention (the crop
is a square of side 200 x scale x 1.25 around the centre), the joints on MPII-16 in 0-based frame pixels with a
weight (1 labelled, 0 unknown: joints the dataset lacks are masked), and the dataset's own joints and visibility
for evaluation. Numpy only; the torch `Dataset` that turns samples into tensors lives in `poseit.train.data`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from poseit.errors import PoseItError
from poseit.skeletons import get_skeleton

TARGET = "mpii16"
PIXEL_STD = 200.0  # the seed's scale unit: scale 1 = 200 pixels
CROP_PAD = 1.25  # the seed's crop: 200 * scale * 1.25

# MPII joints that a dataset lacking them takes from joints it has: definitions, not guesses (LSP's neck is the
# point MPII calls the upper neck). Anything else a dataset lacks is masked.
GT_DERIVED: dict[str, dict[str, float]] = {
    "upper_neck": {"neck": 1.0},
    "pelvis": {"left_hip": 0.5, "right_hip": 0.5},
    "thorax": {"left_shoulder": 0.5, "right_shoulder": 0.5},
}
LSP_EXTENT_PAD = 1.1  # LSP has no scale: 200 * scale = 1.1 x the joints' extent (about MPII's person height)
LSP_SPLITS = {"train": range(0, 1000), "test": range(1000, 2000)}


@dataclass
class Sample:
    """One person on one image."""

    image: str
    center: np.ndarray  # (2,) frame pixels, 0-based
    scale: float  # the crop side is PIXEL_STD * scale * CROP_PAD
    joints: np.ndarray  # (16, 2) MPII-16, 0-based frame pixels, NaN where unknown
    weight: np.ndarray  # (16,) 1 labelled, 0 unknown
    skeleton: str = TARGET  # the dataset's own skeleton
    source_joints: np.ndarray | None = None  # (K, 2) on ``skeleton``
    source_visible: np.ndarray | None = None  # (K,) bool, joints that count in evaluation
    meta: dict = field(default_factory=dict)
    teacher_joints: np.ndarray | None = None  # (16, 2) the distillation teacher's MPII-16 joints, frame pixels
    teacher_weight: np.ndarray | None = None  # (16,)
    roi: np.ndarray | None = None  # (4,) the detector's ROI (cx, cy, side, rotation) for training crops

    @property
    def crop_side(self) -> float:
        return PIXEL_STD * self.scale * CROP_PAD


def to_mpii(xy: np.ndarray, labelled: np.ndarray, source: str) -> tuple[np.ndarray, np.ndarray]:
    """(K, 2) joints and (K,) labelled mask on ``source`` -> (16, 2) MPII-16 joints and (16,) weights."""
    src, dst = get_skeleton(source), get_skeleton(TARGET)
    out = np.full((dst.num_joints, 2), np.nan, dtype=np.float32)
    weight = np.zeros(dst.num_joints, dtype=np.float32)
    for t, name in enumerate(dst.joints):
        rule = {name: 1.0} if name in src.index else GT_DERIVED.get(name)
        if not rule or any(j not in src.index for j in rule):
            continue
        idx = [src.index[j] for j in rule]
        if labelled[idx].all():
            out[t] = sum(w * xy[i] for i, w in zip(idx, rule.values(), strict=True))
            weight[t] = 1.0
    return out, weight


def center_scale_from_joints(xy: np.ndarray, pad: float = LSP_EXTENT_PAD) -> tuple[np.ndarray, float]:
    finite = xy[np.isfinite(xy).all(axis=1)]
    lo, hi = finite.min(axis=0), finite.max(axis=0)
    return ((lo + hi) / 2).astype(np.float32), float(max(hi - lo) * pad / PIXEL_STD)


def _read_joints_mat(root: Path, what: str) -> np.ndarray:
    """The ``joints`` array of ``root/joints.mat`` (LSP and LSP Extended store their labels so)."""
    try:
        from scipy.io import loadmat
    except ImportError:
        raise PoseItError("reading LSP's joints.mat needs scipy: pip install -e '.[train]'") from None
    mat = root / "joints.mat"
    if not mat.is_file():
        raise PoseItError(f"{what} annotations not found: {mat}")
    return loadmat(str(mat))["joints"]


def load_lsp(root: str | Path, split: str = "test") -> list[Sample]:
    """Leeds Sports Pose: ``root/joints.mat`` (3, 14, 2000) 1-based x, y and a flag (0 = visible), images
    ``root/images/im0001.jpg``...; split ``train`` (images 1-1000), ``test`` (1001-2000) or ``all``."""
    root = Path(root)
    if split not in (*LSP_SPLITS, "all"):
        raise PoseItError(f"unknown LSP split {split!r}; choose train, test or all")
    joints = _read_joints_mat(root, "LSP")
    if joints.shape[:2] != (3, 14):  # LSP extended stores (14, 3, N)
        joints = joints.transpose(1, 0, 2)
    indices = range(joints.shape[2]) if split == "all" else LSP_SPLITS[split]
    samples = []
    for i in indices:
        xy = joints[:2, :, i].T.astype(np.float32) - 1.0
        visible = joints[2, :, i] == 0
        labelled = np.isfinite(xy).all(axis=1) & (xy > -1).all(axis=1)
        mp, weight = to_mpii(xy, labelled, "lsp14")
        center, scale = center_scale_from_joints(xy[labelled])
        image = str(root / "images" / f"im{i + 1:04d}.jpg")
        samples.append(Sample(image, center, scale, mp, weight, "lsp14", xy, visible, {"index": i + 1}))
    return samples


def load_lsp_extended(
    root: str | Path,
    exclude_like: list[str] | None = None,
    max_distance: int = 6,
    indices: Iterable[int] | None = None,
) -> list[Sample]:
    """LSP Extended: ``root/joints.mat`` (14, 3, 10000) 1-based x, y and a flag (1 = visible: the reverse of
    LSP's), images ``root/images/im00001.jpg``... Occluded joints carry junk coordinates in places, so only
    visible joints are labelled. ``exclude_like``: image paths (e.g. LSP test) whose near-duplicates (DCT pHash
    within ``max_distance`` bits, also mirrored) are dropped; the number dropped is in each sample's meta.
    ``indices``: only these 0-based images (default all). The one reader of the set, for training and evaluation."""
    root = Path(root)
    joints = _read_joints_mat(root, "LSP Extended")  # (14, 3, N)
    if joints.shape[:2] != (14, 3):
        raise PoseItError(f"{root / 'joints.mat'} holds {joints.shape}, not LSP Extended's (14, 3, N)")
    chosen = np.arange(joints.shape[2]) if indices is None else np.array([i for i in indices if i < joints.shape[2]])
    images = [str(root / "images" / f"im{i + 1:05d}.jpg") for i in chosen]
    keep = np.ones(len(images), dtype=bool)
    if exclude_like:
        from poseit.train.dedup import near_duplicates, phashes

        reference = np.concatenate([phashes(exclude_like), phashes(exclude_like, mirrored=True)])
        keep = ~near_duplicates(phashes(images), reference, max_distance)
    dropped = int((~keep).sum())
    samples = []
    for k in np.flatnonzero(keep):
        i = int(chosen[k])
        xy = joints[:, :2, i].astype(np.float32) - 1.0
        visible = joints[:, 2, i] == 1
        labelled = visible & np.isfinite(xy).all(axis=1) & (xy >= 0).all(axis=1)
        if labelled.sum() < 2:
            continue
        mp, weight = to_mpii(xy, labelled, "lsp14")
        center, scale = center_scale_from_joints(xy[labelled])
        meta = {"index": i + 1, "dropped_near_duplicates": dropped}
        samples.append(Sample(images[k], center, scale, mp, weight, "lsp14", xy, labelled, meta))
    return samples


def load_mpii_json(path: str | Path, image_dir: str | Path | None = None) -> list[Sample]:
    """pytorch-pose style MPII json (a list of {image, joints (16x2, 1-based), joints_vis, center, scale}).
    As the seed: the centre moves down by 15 x scale and the crop is 200 x scale x 1.25."""
    path = Path(path)
    records = _read_json(path)
    if not isinstance(records, list):
        raise PoseItError(f"{path} is not a pytorch-pose MPII json (expected a list of people)")
    image_dir = Path(image_dir) if image_dir else path.parent
    samples = []
    for r in records:
        try:
            xy = np.asarray(r["joints"], dtype=np.float32).reshape(16, 2) - 1.0
            vis = np.asarray(r["joints_vis"], dtype=np.float32).reshape(16) > 0
            center = np.asarray(r["center"], dtype=np.float32) - 1.0
            scale = float(r["scale"])
            name = r["image"]
        except (KeyError, ValueError, TypeError) as exc:
            raise PoseItError(f"{path}: bad MPII record ({exc})") from None
        center[1] += 15 * scale
        labelled = vis & (xy >= 0).all(axis=1)
        mp = np.where(labelled[:, None], xy, np.nan).astype(np.float32)
        samples.append(Sample(str(image_dir / name), center, scale, mp, labelled.astype(np.float32), TARGET, xy, vis))
    return samples


def load_coco(path: str | Path, image_dir: str | Path | None = None, min_keypoints: int = 1) -> list[Sample]:
    """COCO person keypoints json: one sample per non-crowd person with at least ``min_keypoints`` labelled
    joints; centre and scale from the box (the longer side is 200 x scale)."""
    path = Path(path)
    data = _read_json(path)
    if not isinstance(data, dict) or "annotations" not in data or "images" not in data:
        raise PoseItError(f"{path} is not a COCO keypoints json")
    image_dir = Path(image_dir) if image_dir else path.parent
    images = {im["id"]: im["file_name"] for im in data["images"]}
    samples = []
    for a in data["annotations"]:
        if a.get("iscrowd") or a.get("num_keypoints", 0) < min_keypoints or a["image_id"] not in images:
            continue
        kps = np.asarray(a["keypoints"], dtype=np.float32).reshape(17, 3)
        xy, flag = kps[:, :2], kps[:, 2]
        labelled = flag > 0
        mp, weight = to_mpii(xy, labelled, "coco17")
        x, y, w, h = a["bbox"]
        center = np.array([x + w / 2, y + h / 2], dtype=np.float32)
        scale = max(w, h) / PIXEL_STD
        image = str(image_dir / images[a["image_id"]])
        samples.append(Sample(image, center, scale, mp, weight, "coco17", xy, flag == 2, {"id": a.get("id")}))
    return samples


def _read_json(path: Path):
    if not path.is_file():
        raise PoseItError(f"annotation file not found: {path}")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise PoseItError(f"{path} is not valid JSON: {exc}") from None


def load_dataset(
    name: str, root: str | Path, split: str = "test", annotations: str | Path | None = None
) -> list[Sample]:
    """A dataset by name: ``lsp`` (``root`` holds joints.mat and images/), ``mpii`` or ``coco`` (``annotations``
    is the json; images are looked up in ``root``)."""
    if name == "lsp":
        return load_lsp(root, split)
    if name in ("mpii", "coco"):
        if annotations is None:
            raise PoseItError(f"--annotations (the {name} json) is required for dataset {name}")
        loader = load_mpii_json if name == "mpii" else load_coco
        return loader(annotations, root)
    raise PoseItError(f"unknown dataset {name!r}; choose lsp, mpii or coco")
