"""Fixtures for the web app: a real `poseit serve` in a subprocess, frames from a real clip, the real engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed (pip install -e '.[serve]')")
pytest.importorskip("websockets", reason="the serve extra is not installed (pip install -e '.[serve]')")

from serve_helpers import Server, read_frames

PUSHUP = "exercise-videos/hxlinh+Fitness_Pose_Correction_Application/push-up_1.mp4"  # 2 labelled reps, 150 frames


@pytest.fixture(scope="session")
def serve_models() -> None:
    from poseit.models.manager import is_cached
    from poseit.models.registry import get_spec

    if not all(is_cached(get_spec(n).artifact) for n in ("blazepose-detector", "blazepose-full")):
        pytest.skip("BlazePose detector and full models not pulled (run `poseit models pull`)")


@pytest.fixture(scope="session")
def pushup_clip(data_dir: Path) -> Path:
    path = data_dir / PUSHUP
    if not path.is_file():
        pytest.skip(f"clip missing: {path}")
    return path


@pytest.fixture(scope="session")
def pushup_jpegs(pushup_clip: Path) -> list[bytes]:
    return [cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes() for f in read_frames(pushup_clip)]


@pytest.fixture(scope="module")
def server(tmp_path_factory, serve_models) -> Iterator[Server]:
    """One server for a test module (no fps limit, short idle timeout set by the tests that need it)."""
    srv = Server(tmp_path_factory.mktemp("serve") / "history.db", "--max-fps", "0")
    yield srv
    srv.stop()
