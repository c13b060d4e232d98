"""``/ws``: the live session over a WebSocket. Only transport lives here; coaching is `CoachSession`'s.

Protocol. The server opens with ``{"type": "hello", ...}`` (exercises, limits, skeleton). The client sends
``{"type": "start", "exercise": ...}``, then frames as binary messages: a 12-byte header (uint32 sequence
number, float64 capture time in milliseconds, both little-endian) followed by a JPEG. Each frame is answered
with ``{"type": "result", "seq", ...}``; the page sends its next frame when the answer arrives. The server keeps
at most one frame per client in inference and one waiting: a newer frame replaces the waiting one, which is
answered ``dropped`` (frames are dropped, never queued). ``{"type": "stop"}`` ends the session with
``{"type": "summary", ...}``. A client whose connection dropped mid-session (its server went away) may open a
new one and send ``start`` with ``resume`` (the session id, the ``resume_token`` of its ``started`` answer and
the capture time of its first frame): the session goes on from its stored reps. A ``start`` may name a set of
a workout plan's run (``"plan": {"run", "block", "set"}``, `poseit.serve.workout`): the session is stored as
that set, with its target. Bad, oversized, too-fast or
out-of-order messages are answered with ``{"type": "error", "code", "message"}`` and the connection stays open.
A client that sends nothing for ``idle_timeout_s`` or does not read an answer for ``send_timeout_s`` is
disconnected.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
import time
from typing import Any

from fastapi import APIRouter, WebSocket
from pydantic import ValidationError
from starlette.websockets import WebSocketDisconnect

from poseit.errors import PoseItError
from poseit.serve.hub import Hub
from poseit.serve.schemas import ClientMessage, StartMessage
from poseit.serve.session import CoachSession, exercise_ids, exercise_names

router = APIRouter()
HEADER = struct.Struct("<Id")
MAX_TEXT = 4096


class Closing(Exception):
    """The connection is over (client gone, stalled or idle)."""


class Connection:
    """One client's WebSocket: a reader task takes messages as they come; a frame task runs the newest
    frame through the shared inference pool and answers it."""

    def __init__(self, ws: WebSocket, hub: Hub) -> None:
        self.ws, self.hub, self.s = ws, hub, hub.settings
        self.session: CoachSession | None = None
        self.last_seq = -1
        self.last_t_ms = float("-inf")
        self.last_frame_at = 0.0
        self.waiting: tuple[int, float, bytes] | None = None  # the frame to run next (seq, ms, JPEG)
        self.wake = asyncio.Event()
        self.inflight: asyncio.Future | None = None

    # --- sending --------------------------------------------------------------------------------------------
    async def send(self, message: dict[str, Any]) -> None:
        try:
            await asyncio.wait_for(self.ws.send_text(json.dumps(message)), self.s.send_timeout_s)
        except (TimeoutError, asyncio.TimeoutError):
            raise Closing("client stopped reading") from None
        except (WebSocketDisconnect, RuntimeError, OSError):
            raise Closing("client gone") from None

    async def error(self, code: str, message: str, **extra: Any) -> None:
        await self.send({"type": "error", "code": code, "message": message, **extra})

    def hello(self) -> dict[str, Any]:
        s = self.s
        return {
            "type": "hello",
            "exercises": [{"id": k, "name": exercise_names()[k]} for k in exercise_ids()],
            "model": s.engine.model,
            "limits": {
                "max_message_bytes": s.max_message_bytes,
                "max_side": s.max_side,
                "max_fps": s.max_fps,
                "idle_timeout_s": s.idle_timeout_s,
            },
            "skeleton": self.hub.skeleton,
        }

    # --- the two tasks --------------------------------------------------------------------------------------
    async def run(self) -> None:
        await self.send(self.hello())
        tasks = [asyncio.create_task(self.read_loop()), asyncio.create_task(self.frame_loop())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            exc = task.exception()
            if exc is not None and not isinstance(exc, (Closing, WebSocketDisconnect)):
                raise exc

    async def read_loop(self) -> None:
        while True:
            try:
                message = await asyncio.wait_for(self.ws.receive(), self.s.idle_timeout_s)
            except (TimeoutError, asyncio.TimeoutError):
                await self.error("idle", f"nothing received for {self.s.idle_timeout_s:g} s; closing")
                await self.ws.close(1000, "idle")
                return
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                await self.on_frame(message["bytes"])
            elif message.get("text") is not None:
                await self.on_text(message["text"])

    async def frame_loop(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            item, self.waiting = self.waiting, None
            session = self.session
            if item is None or session is None:
                continue
            seq, t_ms, jpeg = item
            self.inflight = self.hub.submit(session.feed_jpeg, jpeg, t_ms / 1000.0)
            try:
                result = await self.inflight
            except PoseItError as exc:
                await self.error("bad_frame", str(exc), seq=seq)
                continue
            result["seq"] = seq
            await self.send(result)

    async def settle(self) -> None:
        """Wait for the frame in inference, if any (its session must not be closed under it)."""
        if self.inflight is not None and not self.inflight.done():
            await asyncio.wait([self.inflight])

    # --- messages -------------------------------------------------------------------------------------------
    async def on_text(self, text: str) -> None:
        if len(text) > MAX_TEXT:
            await self.error("too_large", f"control messages are at most {MAX_TEXT} bytes")
            return
        try:
            message = ClientMessage.validate_json(text)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first.get("loc", ())) or "message"
            await self.error("bad_message", f"{where}: {first.get('msg', 'invalid')}")
            return
        if isinstance(message, StartMessage):
            await self.start(message)
        elif message.type == "stop":
            await self.stop()
        else:
            await self.send({"type": "pong"})

    async def start(self, message: StartMessage) -> None:
        if message.exercise not in exercise_ids():
            await self.error("bad_message", f"unknown exercise; choose one of {', '.join(exercise_ids())}")
            return
        await self.stop(quiet=True)
        hub, r = self.hub, message.resume
        if r is None:
            plan = message.plan.model_dump() if message.plan is not None else None
            try:
                self.session = await hub.run(hub.new_session, message.exercise, message.source, plan)
            except PoseItError as exc:
                await self.error("bad_plan", str(exc))
                return
        else:
            t0 = r.t0_ms / 1000.0 if r.t0_ms is not None else None
            try:
                self.session = await hub.run(
                    hub.resume_session, message.exercise, message.source, r.session, r.token, t0
                )
            except PoseItError as exc:
                await self.error("cannot_resume", str(exc))
                return
        self.last_seq, self.last_t_ms = -1, float("-inf")
        session_id = self.session.id
        await self.send(
            {
                "type": "started",
                "session": session_id,
                "exercise": message.exercise,
                "resumed": r is not None,
                "resume_token": hub.resume_token(session_id),
                "plan": message.plan.model_dump() if message.plan is not None else None,
            }
        )

    async def stop(self, quiet: bool = False) -> None:
        session, self.session, self.waiting = self.session, None, None
        if session is not None:
            await self.settle()
            summary = await self.hub.run(session.close)
            if not quiet:
                await self.send(summary)
        elif not quiet:
            await self.error("not_started", "no session to stop")

    async def on_frame(self, data: bytes) -> None:
        s = self.s
        if len(data) > s.max_message_bytes:
            await self.error("too_large", f"frames are at most {s.max_message_bytes} bytes")
            return
        if len(data) <= HEADER.size:
            await self.error("bad_frame", "a frame is a 12-byte header and a JPEG")
            return
        seq, t_ms = HEADER.unpack_from(data)
        if self.session is None:
            await self.error("not_started", "send a start message first", seq=seq)
            return
        if seq <= self.last_seq or not t_ms > self.last_t_ms:
            await self.error("out_of_order", f"frame {seq} comes after frame {self.last_seq}", seq=seq)
            return
        now = time.monotonic()
        if s.max_fps and now - self.last_frame_at < 0.9 / s.max_fps:
            await self.error("too_fast", f"at most {s.max_fps:g} frames per second", seq=seq)
            return
        self.last_seq, self.last_t_ms, self.last_frame_at = seq, t_ms, now
        if self.waiting is not None:
            await self.error("dropped", "a newer frame came before this one was run", seq=self.waiting[0])
        self.waiting = (seq, t_ms, data[HEADER.size :])
        self.wake.set()


@router.websocket("/ws")
async def live(ws: WebSocket) -> None:
    hub: Hub = ws.app.state.hub
    if not hub.join():
        await ws.accept()
        await ws.close(1013, "server full; try again later")
        return
    conn = Connection(ws, hub)
    try:
        await ws.accept()
        await conn.run()
    except (Closing, WebSocketDisconnect):
        pass
    finally:
        hub.leave()
        await conn.settle()
        if conn.session is not None:
            await hub.run(conn.session.close)
        with contextlib.suppress(Exception):  # already closed, or the client is gone
            await asyncio.wait_for(ws.close(), 1.0)
