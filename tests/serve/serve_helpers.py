"""Helpers for the web app's tests: a real `poseit serve` in a subprocess, and frames from a real clip."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from live_web import free_port
from poseit.serve.hub import Hub


class NoModelsHub(Hub):
    """The real hub without compiling models (for the APIs that need none: plans, progress)."""

    def warm_up(self) -> None:
        pass


class Server:
    """`poseit serve` in its own process (killed at the end, or on purpose)."""

    def __init__(self, db: Path, *args: str, port: int | None = None, env: dict[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.db = db
        self.tls = "--tls" in args or "--certfile" in args
        self.url = f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"
        self.ws_url = f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}/ws"
        cmd = [sys.executable, "-m", "poseit.cli", "serve", "--port", str(self.port), "--db", str(db), *args]
        env = {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
        self.log = db.with_suffix(f".{self.port}.log")  # a file, not a pipe nobody reads (a full pipe blocks)
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        self.wait_ready()

    def wait_ready(self, timeout: float = 180.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"poseit serve exited: {self.log.read_text()}")
            try:
                if httpx.get(self.url + "/api/exercises", timeout=2, verify=False).status_code in (200, 401):
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
