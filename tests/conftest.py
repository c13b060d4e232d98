"""Shared fixtures. Tests that need ../shared data or pulled models skip with a clear reason without them;
CI has both (.ci/run pulls the models and runs beside ../shared)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """``$POSEIT_DATA`` or ../shared/data beside the checkout."""
    return Path(os.environ.get("POSEIT_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared data not found at {path} (set POSEIT_DATA)")
    return path


def models_ready(*names: str) -> bool:
    from poseit.models.manager import is_cached
    from poseit.models.registry import get_spec

    return all(is_cached(get_spec(n).artifact) for n in names)


@pytest.fixture(scope="session")
def blazepose_models() -> None:
    """Skip unless the BlazePose detector and landmark models are pulled."""
    names = ("blazepose-detector", "blazepose-lite", "blazepose-full", "blazepose-heavy")
    if not models_ready(*names):
        pytest.skip("BlazePose models not pulled (run `poseit models pull`)")


@pytest.fixture(scope="session")
def exercise_clip(data_dir: Path) -> Path:
    """A 720p side-view push-up clip with one person (472 frames)."""
    path = data_dir / "exercise-videos" / "Tayyab-Abdullah+PushUp-Counter" / "pushup2.mp4"
    if not path.is_file():
        pytest.skip(f"clip missing: {path}")
    return path
