"""A small synchronous client for the live protocol (`poseit.serve.routes.ws`): for scripts, tests and the
load benchmark. Needs the ``websockets`` package (in the ``serve`` extra)."""

from __future__ import annotations

import json
import struct
from typing import Any

HEADER = struct.Struct("<Id")  # sequence number, capture time in ms


def pack_frame(seq: int, t_ms: float, jpeg: bytes) -> bytes:
    """One binary frame message: the 12-byte header, then the JPEG."""
    return HEADER.pack(seq, t_ms) + jpeg


class LiveClient:
    """``with LiveClient("ws://127.0.0.1:8000/ws") as c: c.start("squat"); c.frame(jpeg, t_ms)``."""

    def __init__(self, url: str, token: str | None = None, origin: str | None = None, timeout: float = 30.0) -> None:
        from websockets.sync.client import connect

        headers = {"Authorization": f"Bearer {token}"} if token else None
        self._connect = connect(url, additional_headers=headers, origin=origin, open_timeout=timeout, max_size=None)
        self.ws = self._connect.__enter__()
        self.timeout = timeout
        self.seq = 0
        self.hello = self.receive()

    def __enter__(self) -> LiveClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def receive(self) -> dict[str, Any]:
        return json.loads(self.ws.recv(timeout=self.timeout))

    def start(self, exercise: str, source: str = "camera", resume: dict[str, Any] | None = None) -> dict[str, Any]:
        """Start a session, or go on with a dropped one (``resume``: its id, resume token and ``t0_ms``)."""
        message: dict[str, Any] = {"type": "start", "exercise": exercise, "source": source}
        if resume is not None:
            message["resume"] = resume
        self.send(message)
        return self.receive()

    def send_frame(self, jpeg: bytes, t_ms: float) -> int:
        self.seq += 1
        self.ws.send(pack_frame(self.seq, t_ms, jpeg))
        return self.seq

    def frame(self, jpeg: bytes, t_ms: float) -> dict[str, Any]:
        """Send one frame and wait for its answer (a result or an error)."""
        self.send_frame(jpeg, t_ms)
        return self.receive()

    def stop(self) -> dict[str, Any]:
        self.send({"type": "stop"})
        return self.receive()

    def close(self) -> None:
        self._connect.__exit__(None, None, None)
