"""The distillation teacher: BlazePose (heavy by default) run through our engine on OpenVINO, its landmarks
mapped to MPII-16. Outputs are computed once and cached in an .npz beside the extracted video frames, so
training epochs never run the teacher again."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from poseit.errors import PoseItError
from poseit.io.sources import IMAGE_SUFFIXES, read_image
from poseit.skeletons import get_skeleton
from poseit.train.datasets import Sample, center_scale_from_joints

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm"}


def extract_frames(
    videos: Iterable[str | Path],
    out_dir: str | Path,
    every: int = 15,
    max_per_video: int | None = None,
    max_side: int | None = 640,
) -> list[Path]:
    """Every ``every``-th frame of each video as a JPEG in ``out_dir``, shrunk to at most ``max_side`` pixels
    (kept: a second call reuses them)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for video in videos:
        video = Path(video)
        stem = f"{video.parent.name}+{video.stem}"
        existing = sorted(out_dir.glob(f"{stem}_*.jpg"))
        if existing:
            paths += existing[:max_per_video]
            continue
        cap = cv2.VideoCapture(str(video))
        if not cap.isOpened():
            warnings.warn(f"skipping {video}: cannot open it", stacklevel=2)
            continue
        index = kept = 0
        while max_per_video is None or kept < max_per_video:
            ok, frame = cap.read()
            if not ok:
                break
            if index % every == 0:
                path = out_dir / f"{stem}_{index:06d}.jpg"
                f = max_side / max(frame.shape[:2]) if max_side else 1.0
                if f < 1.0:
                    frame = cv2.resize(frame, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
                cv2.imwrite(str(path), frame, [cv2.IMWRITE_JPEG_QUALITY, 92])
                paths.append(path)
                kept += 1
            index += 1
        cap.release()
    return paths


def collect_unlabelled(
    sources: Iterable[str | Path], frames_dir: str | Path, every: int = 15, max_per_video: int | None = None
) -> list[Path]:
    """Image paths from image files, folders (images and videos inside, recursively) and videos (frames extracted)."""
    images: list[Path] = []
    videos: list[Path] = []
    for src in sources:
        src = Path(src)
        files = sorted(p for p in src.rglob("*") if p.is_file()) if src.is_dir() else [src]
        if not src.exists():
            raise PoseItError(f"no such file or folder: {src}")
        images += [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
        videos += [p for p in files if p.suffix.lower() in VIDEO_SUFFIXES]
    return images + extract_frames(videos, frames_dir, every, max_per_video)


Teacher = dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # path -> xy (16, 2), scores (16,), roi (4,)


def run_teacher(
    paths: list[str],
    cache: str | Path,
    model: str = "blazepose-heavy",
    pads: tuple[float, ...] = (0.25, 0.0),
    progress: bool = True,
    save_every: int = 500,
    compute: bool = True,
) -> Teacher:
    """Teacher MPII-16 joints (16, 2), scores (16,) and the detector's ROI (cx, cy, side, rotation) per image
    path (people not found are left out), read from ``cache`` where it holds them for this model, else computed
    and written there (every ``save_every`` images too, so an interrupted run resumes). Without ``compute``
    only what the cache holds is returned."""
    from poseit.pipeline import PoseEstimator

    cache = Path(cache)
    known: Teacher = {}
    done: set[str] = set()
    if cache.is_file():
        z = np.load(cache, allow_pickle=False)
        if str(z["model"]) == model:
            done = set(z["done"].tolist())
            rois = z["rois"] if "rois" in z.files else np.full((len(z["paths"]), 4), np.nan, np.float32)
            known = {p: (x, s, r) for p, x, s, r in zip(z["paths"].tolist(), z["xy"], z["scores"], rois, strict=True)}
    todo = [p for p in paths if p not in done]
    if todo and compute:
        est = PoseEstimator(model, mode="detect", detect_pads=pads, seed="detector")
        for n, p in enumerate(tqdm(todo, desc=f"teacher {model}", unit="image", disable=not progress, leave=False)):
            image = read_image(p)
            roi = est.detect_many([image])[0]
            lm = None if roi is None else est._landmarks([image], [roi])[0]
            done.add(p)
            if lm is not None:
                mp = est._to_poses(lm).to_skeleton("mpii16")
                box = np.array([roi.cx, roi.cy, max(roi.width, roi.height), roi.rotation], np.float32)
                known[p] = (mp.xy[0], mp.scores[0], box)
            if (n + 1) % save_every == 0:
                _save_teacher(cache, model, done, known)
        _save_teacher(cache, model, done, known)
    return {p: known[p] for p in paths if p in known}


def _save_teacher(cache: Path, model: str, done: set[str], known: Teacher) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    names = sorted(known)
    tmp = cache.with_name(cache.stem + ".tmp.npz")
    np.savez_compressed(
        tmp,
        model=np.array(model),
        done=np.array(sorted(done)),
        paths=np.array(names, dtype=str),
        xy=np.array([known[n][0] for n in names], np.float32).reshape(-1, 16, 2),
        scores=np.array([known[n][1] for n in names], np.float32).reshape(-1, 16),
        rois=np.array([known[n][2] for n in names], np.float32).reshape(-1, 4),
    )
    tmp.replace(cache)


# MPII-16 limb chains whose sides a label and the teacher can disagree on: each right chain with its mirror
_MPII = get_skeleton("mpii16")
LIMB_SIDES = tuple(
    np.array([_MPII.index[f"right_{j}"] for j in chain] + [_MPII.index[f"left_{j}"] for j in chain])
    for chain in (("ankle", "knee", "hip"), ("wrist", "elbow", "shoulder"))
)


def drop_side_disputes(s: Sample) -> int:
    """Where the label's and the teacher's left/right disagree on a limb chain (the teacher with its sides
    swapped lies closer to the label), neither teaches that chain: its label and teacher weights become 0.
    LSP Extended's crowd-sourced labels swap sides on ~10% of limbs beyond the teacher's own ~4% (LSP: 5%
    legs, 3.5% arms; LSP Extended 16% / 13%); with both targets kept the student learns an average of two sides.
    Returns the number of chains dropped."""
    if s.teacher_joints is None or s.teacher_weight is None:
        return 0
    dropped = 0
    for own in LIMB_SIDES:
        swapped = np.asarray(_MPII.flip_index)[own]
        both = (s.weight[own] > 0) & (s.teacher_weight[own] > 0) & (s.teacher_weight[swapped] > 0)
        if not both.any():
            continue
        same = np.linalg.norm(s.joints[own] - s.teacher_joints[own], axis=1)[both].mean()
        crossed = np.linalg.norm(s.joints[own] - s.teacher_joints[swapped], axis=1)[both].mean()
        if crossed < same:
            s.weight = s.weight.copy()
            s.teacher_weight = s.teacher_weight.copy()
            s.weight[own] = 0.0
            s.teacher_weight[own] = 0.0
            dropped += 1
    return dropped


def add_teacher(samples: list[Sample], teacher: Teacher, side_disputes: bool = True) -> list[Sample]:
    """Attach the teacher's joints and the detector's ROI to labelled samples (by image path; one person per
    image as in LSP); with ``side_disputes``, limb chains whose sides label and teacher disagree on are dropped
    (`drop_side_disputes`)."""
    for s in samples:
        if s.image in teacher:
            xy, _, roi = teacher[s.image]
            s.teacher_joints = xy
            s.teacher_weight = np.isfinite(xy).all(axis=1).astype(np.float32)
            s.roi = roi if np.isfinite(roi).all() else None
            if side_disputes:
                s.meta["side_disputes"] = drop_side_disputes(s)
    return samples


def unlabelled_samples(paths: list[str], teacher: Teacher) -> list[Sample]:
    """Samples without ground truth, centred on the teacher's joints (images where it found nobody are skipped)."""
    out = []
    for p in paths:
        if p not in teacher:
            continue
        xy, _, roi = teacher[p]
        finite = np.isfinite(xy).all(axis=1)
        if finite.sum() < 4:
            continue
        center, scale = center_scale_from_joints(xy[finite])
        out.append(
            Sample(
                p,
                center,
                scale,
                np.full((16, 2), np.nan, np.float32),
                np.zeros(16, np.float32),
                teacher_joints=xy,
                teacher_weight=finite.astype(np.float32),
                roi=roi if np.isfinite(roi).all() else None,
            )
        )
    return out
