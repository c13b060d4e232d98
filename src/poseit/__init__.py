"""Pose-It!: real-time human pose estimation and fitness coaching on an ordinary CPU.

The public API (imported lazily, so ``import poseit`` stays cheap)::

    from poseit import PoseEstimator, iter_poses, open_source, Poses
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    "PoseEstimator": "poseit.pipeline",
    "PoseResult": "poseit.pipeline",
    "iter_poses": "poseit.pipeline",
    "Poses": "poseit.keypoints",
    "Frame": "poseit.io.sources",
    "open_source": "poseit.io.sources",
    "draw_poses": "poseit.io.draw",
    "PoseItError": "poseit.errors",
}

__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'poseit' has no attribute {name!r}")
