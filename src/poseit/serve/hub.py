"""What every connection shares: settings, the history store, the inference pool and the client count."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import Any, TypeVar

import numpy as np

from poseit.errors import PoseItError
from poseit.serve.session import CoachSession
from poseit.serve.settings import Settings
from poseit.serve.store import Store
from poseit.serve.workout import set_target
from poseit.skeletons import get_skeleton

T = TypeVar("T")


class Hub:
    """Shared state of one server process. Inference runs in a bounded thread pool (``settings.workers``);
    each client has at most one frame in it, so the pool's queue holds at most one item per client. A client
    whose connection dropped may resume its session with the token it was given (`resume_token`)."""

    session_class: type[CoachSession] = CoachSession

    def __init__(self, settings: Settings, store: Store | None = None, resume_key: bytes | None = None) -> None:
        self.settings = settings
        self.resume_key = resume_key or os.urandom(32)  # signs resume tokens (a cluster's replicas share one)
        self.store = store if store is not None else Store(settings.db)
        self.pool = ThreadPoolExecutor(max_workers=max(1, settings.workers), thread_name_prefix="poseit-infer")
        self.uploads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="poseit-analyze")
        self.uploads_busy = threading.Semaphore(1)
        self.clients = 0
        self.reports: dict[str, str] = {}  # analysis id -> report HTML (the last few)

    def warm_up(self) -> None:
        """Compile the models once, and give every worker thread its infer requests (one inference each, one
        thread at a time), before the first client arrives. Not to be called from a pool thread."""
        _ = self.skeleton
        n = max(1, self.settings.workers)
        barrier, lock = threading.Barrier(n), threading.Lock()

        def prime() -> None:
            barrier.wait(timeout=60)  # n tasks on n distinct threads
            estimator = self.settings.engine.estimator()
            with lock:
                for model in (estimator.detector, estimator.landmarks):
                    if model is not None:
                        shape = model.backend.input_shapes[0]
                        list(model.backend.infer_many([np.zeros(shape, np.float32)]))

        for future in [self.pool.submit(prime) for _ in range(n)]:
            future.result()

    def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """``fn(*args)`` in the inference pool, as a future of the running event loop."""
        return asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the inference pool, awaited without blocking the event loop."""
        return await self.submit(fn, *args)

    @cached_property
    def skeleton(self) -> dict[str, Any]:
        """The estimator's skeleton for the page: joint names, limbs as index pairs, each joint's side."""
        skel = get_skeleton(self.settings.engine.estimator().skeleton)
        return {
            "name": skel.name,
            "joints": list(skel.joints),
            "limbs": [list(p) for p in skel.limb_indices],
            "sides": [skel.side(j) for j in skel.joints],
        }

    def join(self) -> bool:
        """Count a new client in, unless the server is full."""
        if self.clients >= self.settings.max_clients:
            return False
        self.clients += 1
        return True

    def leave(self) -> None:
        self.clients -= 1

    def make_session(self, exercise: str, source: str, **kwargs: Any) -> CoachSession:
        s = self.settings
        return self.session_class(exercise, s.engine, self.store, source=source, max_side=s.max_side, **kwargs)

    def new_session(self, exercise: str, source: str, plan: dict[str, int] | None = None) -> CoachSession:
        """A new session; ``plan`` (``run``, ``block``, ``set``): it is that set of a live plan run."""
        if plan is None:
            return self.make_session(exercise, source)
        run = self.store.plan_run(plan["run"])
        if run is None or run["status"] != "live":
            raise PoseItError(f"no live plan run {plan['run']}")
        target = set_target(run["plan"], plan["block"], plan["set"], exercise)
        place = {
            "plan_run_id": run["id"],
            "plan_block": plan["block"],
            "plan_set": plan["set"],
            "target_reps": target["reps"],
            "target_hold_s": target["hold_s"],
        }
        return self.make_session(exercise, source, plan=place)

    def resume_token(self, session_id: int | None) -> str:
        """The token that lets a client resume session ``session_id`` after its connection dropped."""
        return hmac.new(self.resume_key, f"session {session_id}".encode(), hashlib.sha256).hexdigest()[:32]

    def resume_session(self, exercise: str, source: str, session_id: int, token: str, t0: float | None) -> CoachSession:
        """Go on with a stored session whose connection dropped (its server died, or the network): the count
        continues from the database, the tracker re-detects. ``t0``: the session's time origin (seconds)."""
        if not hmac.compare_digest(token, self.resume_token(session_id)):
            raise PoseItError("this session cannot be resumed here")
        found = self.store.session(session_id)
        if found is None or found["exercise"] != exercise:
            raise PoseItError("this session cannot be resumed here")
        return self.make_session(exercise, source, resume=session_id, t0=t0)

    def keep_report(self, key: str, html: str, keep: int = 8) -> None:
        self.reports[key] = html
        while len(self.reports) > keep:
            self.reports.pop(next(iter(self.reports)))

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.uploads.shutdown(wait=False, cancel_futures=True)
