"""Fixtures for the web app: a real `poseit serve` in a subprocess, frames from a real clip, the real engine."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed (pip install -e '.[serve]')")
pytest.importorskip("websockets", reason="the serve extra is not installed (pip install -e '.[serve]')")

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


def read_frames(path: Path, width: int = 640, limit: int | None = None) -> list[np.ndarray]:
    """A clip's frames resized to ``width`` pixels wide."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    while limit is None or len(frames) < limit:
        ok, frame = cap.read()
        if not ok:
            break
        h = round(frame.shape[0] * width / frame.shape[1])
        frames.append(cv2.resize(frame, (width, h), interpolation=cv2.INTER_AREA))
    cap.release()
    return frames


@pytest.fixture(scope="session")
def pushup_jpegs(pushup_clip: Path) -> list[bytes]:
    return [cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes() for f in read_frames(pushup_clip)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`poseit serve` in its own process (killed at the end, or on purpose)."""

    def __init__(self, db: Path, *args: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.db = db
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        cmd = [sys.executable, "-m", "poseit.cli", "serve", "--port", str(self.port), "--db", str(db), *args]
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.wait_ready()

    def wait_ready(self, timeout: float = 180.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"poseit serve exited: {self.proc.stdout.read()}")
            try:
                if httpx.get(self.url + "/api/exercises", timeout=2).status_code in (200, 401):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("poseit serve did not come up")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory, serve_models) -> Iterator[Server]:
    """One server for a test module (no fps limit, short idle timeout set by the tests that need it)."""
    srv = Server(tmp_path_factory.mktemp("serve") / "history.db", "--max-fps", "0")
    yield srv
    srv.stop()
