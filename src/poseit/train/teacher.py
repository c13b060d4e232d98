"""The distillation teacher: BlazePose (heavy by default) run through our engine on OpenVINO, its landmarks
mapped to MPII-16. Outputs are computed once and cached in an .npz beside the extracted video frames, so
training epochs never run the teacher again."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from poseit.errors import PoseItError
from poseit.io.sources import IMAGE_SUFFIXES, read_image
from poseit.train.datasets import Sample, center_scale_from_joints

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm"}


def extract_frames(
    videos: Iterable[str | Path], out_dir: str | Path, every: int = 15, max_per_video: int | None = None
) -> list[Path]:
    """Every ``every``-th frame of each video as a JPEG in ``out_dir`` (kept: a second call reuses them)."""
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
            raise PoseItError(f"cannot open video {video}")
        index = kept = 0
        while max_per_video is None or kept < max_per_video:
            ok, frame = cap.read()
            if not ok:
                break
            if index % every == 0:
                path = out_dir / f"{stem}_{index:06d}.jpg"
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


def run_teacher(
    paths: list[str],
    cache: str | Path,
    model: str = "blazepose-heavy",
    pads: tuple[float, ...] = (0.25, 0.0),
    progress: bool = True,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Teacher MPII-16 joints (16, 2) and scores (16,) per image path (people not found are left out), read from
    ``cache`` when it holds every path for this model, else computed and written there."""
    from poseit.pipeline import PoseEstimator

    cache = Path(cache)
    known: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    done: set[str] = set()
    if cache.is_file():
        z = np.load(cache, allow_pickle=False)
        if str(z["model"]) == model:
            done = set(z["done"].tolist())
            known = {p: (x, s) for p, x, s in zip(z["paths"].tolist(), z["xy"], z["scores"], strict=True)}
    todo = [p for p in paths if p not in done]
    if todo:
        est = PoseEstimator(model, mode="detect", detect_pads=pads)
        for p in tqdm(todo, desc=f"teacher {model}", unit="image", disable=not progress, leave=False):
            poses = est(read_image(p))
            done.add(p)
            if len(poses):
                mp = poses.to_skeleton("mpii16")
                known[p] = (mp.xy[0], mp.scores[0])
        cache.parent.mkdir(parents=True, exist_ok=True)
        names = sorted(known)
        np.savez_compressed(
            cache,
            model=np.array(model),
            done=np.array(sorted(done)),
            paths=np.array(names, dtype=str),
            xy=np.array([known[n][0] for n in names], np.float32).reshape(-1, 16, 2),
            scores=np.array([known[n][1] for n in names], np.float32).reshape(-1, 16),
        )
    return {p: known[p] for p in paths if p in known}


def add_teacher(samples: list[Sample], teacher: dict[str, tuple[np.ndarray, np.ndarray]]) -> list[Sample]:
    """Attach the teacher's joints to labelled samples (by image path; one person per image as in LSP)."""
    for s in samples:
        if s.image in teacher:
            xy, _ = teacher[s.image]
            s.teacher_joints = xy
            s.teacher_weight = np.isfinite(xy).all(axis=1).astype(np.float32)
    return samples


def unlabelled_samples(paths: list[str], teacher: dict[str, tuple[np.ndarray, np.ndarray]]) -> list[Sample]:
    """Samples without ground truth, centred on the teacher's joints (images where it found nobody are skipped)."""
    out = []
    for p in paths:
        if p not in teacher:
            continue
        xy, _ = teacher[p]
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
            )
        )
    return out
