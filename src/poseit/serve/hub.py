"""What every connection shares: settings, the history store, the inference pool and the client count."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import Any, TypeVar

import numpy as np

from poseit.serve.session import CoachSession
from poseit.serve.settings import Settings
from poseit.serve.store import Store
from poseit.skeletons import get_skeleton

T = TypeVar("T")


class Hub:
    """Shared state of one server process. Inference runs in a bounded thread pool (``settings.workers``);
    each client has at most one frame in it, so the pool's queue holds at most one item per client."""

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
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

    def new_session(self, exercise: str, source: str) -> CoachSession:
        s = self.settings
        return CoachSession(exercise, s.engine, self.store, source=source, max_side=s.max_side)

    def keep_report(self, key: str, html: str, keep: int = 8) -> None:
        self.reports[key] = html
        while len(self.reports) > keep:
            self.reports.pop(next(iter(self.reports)))

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.uploads.shutdown(wait=False, cancel_futures=True)
