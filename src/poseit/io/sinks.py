"""Output sinks: JSON Lines, CSV and annotated video. Each writes as it goes, so what is written stays valid
when a run stops early; use them as context managers so they are closed on errors too.

JSON Lines schema (one object per frame)::

    {"frame": int, "time_s": float, "path": str | null, "width": int, "height": int,
     "poses": [{"skeleton": "blazepose33" | "mpii16" | "coco17" | ..., "keypoints": [[x, y, score], ...],
                "box": [x0, y0, x1, y1], "score": float, "world": [[x, y, z], ...] (BlazePose only)}],
     ...extra keys from the caller, e.g. "coach"}

x, y are frame pixels (null where unknown), scores in [0, 1], joints in the skeleton's usual order.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from poseit.errors import PoseItError
from poseit.io.sources import Frame
from poseit.keypoints import Poses
from poseit.skeletons import get_skeleton


def _open_for_writing(path: str | Path, newline: str | None = None):
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "w", encoding="utf-8", newline=newline)
    except OSError as exc:
        raise PoseItError(f"cannot write {path}: {exc.strerror}") from None


class Sink:
    def write(self, frame: Frame, poses: Poses, **extra: Any) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def frame_record(frame: Frame, poses: Poses, **extra: Any) -> dict[str, Any]:
    """The JSON Lines object for one frame."""
    h, w = frame.image.shape[:2]
    rec: dict[str, Any] = {
        "frame": frame.index,
        "time_s": round(frame.time_s, 4),
        "path": frame.path,
        "width": w,
        "height": h,
        "poses": poses.to_records(),
    }
    rec.update(extra)
    return rec


class JsonlSink(Sink):
    """One JSON object per frame, flushed line by line."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._f = _open_for_writing(self.path)

    def write(self, frame: Frame, poses: Poses, **extra: Any) -> None:
        self._f.write(json.dumps(frame_record(frame, poses, **extra), separators=(",", ":")) + "\n")
        self._f.flush()

    def close(self) -> None:
        self._f.close()


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class CsvSink(Sink):
    """Wide CSV: one row per person per frame: frame, time_s, person, score, then x, y, score per joint."""

    def __init__(self, path: str | Path, skeleton: str) -> None:
        self.path, self.skeleton = Path(path), skeleton
        self._f = _open_for_writing(self.path, newline="")
        self._w = csv.writer(self._f)
        joints = get_skeleton(skeleton).joints
        self._w.writerow(
            ["frame", "time_s", "path", "person", "score", *[f"{j}_{c}" for j in joints for c in ("x", "y", "score")]]
        )

    def write(self, frame: Frame, poses: Poses, **extra: Any) -> None:
        poses = poses.to_skeleton(self.skeleton)
        for i in range(len(poses)):
            values = np.concatenate([poses.xy[i], poses.scores[i, :, None]], axis=1).ravel()
            cells = ["" if not np.isfinite(v) else f"{v:.2f}" for v in values]
            self._w.writerow(
                [frame.index, f"{frame.time_s:.4f}", frame.path or "", i, f"{poses.confidence[i]:.3f}", *cells]
            )
        self._f.flush()

    def close(self) -> None:
        self._f.close()


class VideoSink(Sink):
    """An mp4 of annotated frames (OpenCV's mp4v encoder); the caller draws on the frames it passes."""

    def __init__(self, path: str | Path, fps: float) -> None:
        self.path, self.fps = Path(path), fps
        self._writer: cv2.VideoWriter | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def write_image(self, image: np.ndarray) -> None:
        if self._writer is None:
            h, w = image.shape[:2]
            self._size = (w, h)
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (w, h))
            if not self._writer.isOpened():
                raise PoseItError(f"cannot write video {self.path}")
        if (image.shape[1], image.shape[0]) != self._size:  # folders of mixed sizes: fit into the first size
            image = cv2.resize(image, self._size)
        self._writer.write(image)

    def write(self, frame: Frame, poses: Poses, **extra: Any) -> None:
        self.write_image(frame.image)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
