"""``poseit serve --ray``: the same web app as a Ray Serve application (needs the ``cluster`` extra).

Two deployments. ``Ingress`` is the FastAPI app of `poseit.serve.app` (page, API, WebSocket, security) whose
hub, a `ClusterHub`, keeps no sessions itself: each live session is a `RemoteSession` whose frames go to the
``Coach`` deployment. A ``Coach`` replica holds `CoachSession` objects (tracker, smoother, `LiveCoach`: the one
code path of the single-process server) on the process's shared compiled models.

Sticky sessions: every call carries the session's key as Ray Serve's ``session_id``, and ``Coach`` routes with
Ray's consistent-hash router, so a session's frames go to one replica, a pure function of the key and the set of
replicas. (Ray's multiplexed routing, tried first, is best effort: the router learns where a model id lives a
moment after it is loaded, and in one of three test runs a new session's first frames went to both replicas.)
When the set of replicas changes (a replica dies, the autoscaler adds one), a few sessions move; so each call also
carries the frame's index, and a replica uses its state for a session only if it ran that session's previous
frame, otherwise it goes on from the database (`CoachSession(resume=...)`: reps and issues are written the moment
they happen). A replica
killed mid-session costs the session its in-flight frame (the page shows "reconnecting") and the rep in
progress; the next frame lands on a live replica that resumes the count from the database.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import socket
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from poseit.errors import PoseItError
from poseit.serve.hub import Hub
from poseit.serve.session import CoachSession, exercise_ids
from poseit.serve.settings import Settings
from poseit.serve.store import Store, is_url

try:
    from ray import serve
    from ray.exceptions import RayError, RayTaskError
    from ray.serve.config import RequestRouterConfig
except ImportError:  # the module still imports (for its docs and options); `run` says what to install
    serve = RequestRouterConfig = None  # type: ignore[assignment,misc]
    RayError = RayTaskError = None  # type: ignore[assignment,misc]


ROUTER = "ray.serve.experimental.consistent_hash_router:ConsistentHashRouter"


T = TypeVar("T")
APP = "poseit"
RECONNECT_FOR_S = 30.0  # a session whose coach is gone this long ends with an error
ENV_PASSED = ("POSEIT_MODELS", "POSEIT_DATA", "OPENVINO_LOG_LEVEL")


@dataclass(frozen=True)
class ClusterOptions:
    """Where the cluster is and how the ``Coach`` deployment scales."""

    address: str = "auto"  # a running cluster (``auto``, ``HOST:PORT``, ``ray://...``) or ``local`` (start one)
    min_replicas: int = 1
    max_replicas: int = 4
    target_ongoing_requests: float = 2.0  # frames in flight per replica the autoscaler aims at
    replica_cpus: float = 1.0  # logical CPUs Ray reserves for each Coach replica
    sessions_per_replica: int = 64  # live sessions one replica keeps (least recently used go first)
    ingress_replicas: int = 1  # web app replicas; each holds up to ``Settings.max_clients`` WebSockets
    proxy_every_node: bool = False  # Ray Serve's HTTP proxy on every node (behind a load balancer), not the head's


def _require_ray() -> None:
    if serve is None:
        raise PoseItError("poseit serve --ray needs the cluster extra: pip install 'poseit[cluster]'")


# --- the Coach deployment: replicas that hold sessions --------------------------------------------------------
class _Slot:
    """One session on a replica: its `CoachSession` (None until its first call here) and the last frame run."""

    def __init__(self) -> None:
        self.session: CoachSession | None = None
        self.frame = 0


class Coach:
    """A replica's sessions, keyed by the session key (the least recently used go past ``keep``). Calls on one
    session never overlap (the ingress keeps one frame in flight per client); inference runs in a bounded thread
    pool off the replica's loop."""

    def __init__(self, settings: Settings, keep: int = 64) -> None:
        self.settings, self.keep = settings, keep
        self.slots: OrderedDict[str, _Slot] = OrderedDict()
        self.store = Store(settings.db, interrupt_live=False)  # other replicas' sessions are live
        self.pool = ThreadPoolExecutor(max_workers=max(1, settings.workers), thread_name_prefix="poseit-coach")
        settings.engine.estimator()  # compile the shared models before the first session
        self.replica = f"{socket.gethostname()}:{os.getpid()}"

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.pool, lambda: fn(*args, **kwargs))

    async def _session(self, spec: dict[str, Any], index: int) -> CoachSession:
        """The session for this call: the one held here if it ran frame ``index - 1``, else one that goes on from
        the database (a new session, one whose replica died, or one whose frames went elsewhere meanwhile)."""
        key = spec["key"]
        slot = self.slots.pop(key, None) or _Slot()
        self.slots[key] = slot
        while len(self.slots) > self.keep:
            self.slots.popitem(last=False)
        if slot.session is None or slot.frame != index - 1:
            s = self.settings
            slot.session = await self._run(
                CoachSession,
                spec["exercise"],
                s.engine,
                self.store,
                source=spec["source"],
                max_side=s.max_side,
                resume=spec["id"],
                t0=0.0,
            )
        slot.frame = index
        return slot.session

    async def feed(self, spec: dict[str, Any], index: int, jpeg: bytes, time_s: float) -> dict[str, Any]:
        """Frame ``index`` (1, 2, ...) of a session, ``time_s`` seconds after its first frame."""
        session = await self._session(spec, index)
        try:
            result = await self._run(session.feed_jpeg, jpeg, time_s)
        except PoseItError as exc:
            return {"type": "error", "code": "bad_frame", "message": str(exc)}
        result["replica"] = self.replica
        return result

    async def close(self, spec: dict[str, Any], index: int) -> dict[str, Any]:
        """End the session (after ``index - 1`` frames) and return its summary."""
        session = await self._session(spec, index)
        self.slots.pop(spec["key"], None)
        return await self._run(session.close)

    def check_health(self) -> None:
        """Ray Serve's health check: the replica answers."""


# --- the ingress: the web app with remote sessions ------------------------------------------------------------
class RemoteSession:
    """The ingress's side of a session held by a ``Coach`` replica: `CoachSession`'s calls, as coroutines."""

    def __init__(self, coach: Any, session_id: int, exercise: str, source: str) -> None:
        self.id = session_id
        self.key = f"s{session_id}-{os.urandom(6).hex()}"
        self.spec = {"id": session_id, "exercise": exercise, "source": source, "key": self.key}
        self.coach = coach.options(session_id=self.key)
        self.index = 0
        self.t0: float | None = None
        self.lost_since: float | None = None  # when its replica stopped answering

    async def feed_jpeg(self, data: bytes, time_s: float) -> dict[str, Any]:
        if self.t0 is None:
            self.t0 = time_s
        self.index += 1
        try:
            result = await self.coach.feed.remote(self.spec, self.index, data, time_s - self.t0)
        except RayTaskError:
            raise
        except (RayError, serve.exceptions.RayServeException) as exc:
            now = time.monotonic()
            self.lost_since = self.lost_since or now
            if now - self.lost_since > RECONNECT_FOR_S:
                raise PoseItError(f"the coach is unavailable ({exc.__class__.__name__})") from None
            return {"type": "error", "code": "reconnecting", "message": "the coach moved to another server"}
        self.lost_since = None
        return result

    async def close(self) -> dict[str, Any]:
        self.index += 1
        for attempt in range(3):
            try:
                return await self.coach.close.remote(self.spec, self.index)
            except RayTaskError:
                raise
            except (RayError, serve.exceptions.RayServeException):
                await asyncio.sleep(0.5 * (attempt + 1))
                self.index += 1  # a replica that takes over resumes from the database
        return {"type": "summary", "session": self.id, "reps": None, "form_issues": []}


class ClusterHub(Hub):
    """The ingress's hub: sessions are `RemoteSession`s; coroutine functions run on the event loop, not in
    the inference pool (only "Analyse a recording" still runs the engine in the ingress)."""

    def __init__(self, settings: Settings, coach: Any) -> None:
        super().__init__(settings, Store(settings.db, interrupt_live=False))  # the replicas' sessions are live
        self.coach = coach

    def warm_up(self) -> None:
        _ = self.skeleton

    def submit(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future:
        if inspect.iscoroutinefunction(fn):
            return asyncio.ensure_future(fn(*args))
        return super().submit(fn, *args)

    async def new_session(self, exercise: str, source: str) -> RemoteSession:  # type: ignore[override]
        if exercise not in exercise_ids():
            raise PoseItError(f"unknown exercise {exercise!r}")
        s = self.settings
        session_id = await super().run(self.store.start_session, exercise, s.engine.model, s.engine.device, source)
        return RemoteSession(self.coach, session_id, exercise, source)


def build_ingress_app(settings: Settings) -> Any:
    """The FastAPI app of the single-process server, with a `ClusterHub` (runs on an ingress replica)."""
    from poseit.serve.app import create_app

    return create_app(settings, lambda s: ClusterHub(s, serve.get_deployment_handle("Coach", app_name=APP)))


def build(settings: Settings, options: ClusterOptions) -> Any:
    """The Ray Serve application: ``Ingress`` (the web app) bound to ``Coach`` (autoscaled replicas)."""
    _require_ray()
    lo, hi = max(1, options.min_replicas), max(1, options.min_replicas, options.max_replicas)
    coach = serve.deployment(
        Coach,
        name="Coach",
        max_ongoing_requests=max(8, options.sessions_per_replica),  # one frame per session: never queue here
        request_router_config=RequestRouterConfig(
            request_router_class=ROUTER, request_router_kwargs={"num_fallback_replicas": 1}
        ),
        ray_actor_options={"num_cpus": options.replica_cpus},
        autoscaling_config={
            "min_replicas": lo,
            "initial_replicas": lo,
            "max_replicas": hi,
            "target_ongoing_requests": options.target_ongoing_requests,
            "upscale_delay_s": 10.0,
            "downscale_delay_s": 120.0,
        },
        health_check_period_s=2.0,
        health_check_timeout_s=10.0,
        graceful_shutdown_timeout_s=5.0,
    )

    def asgi_app() -> Any:
        return build_ingress_app(settings)

    class Ingress:
        def __init__(self, coach: Any) -> None:
            self.coach = coach  # bound so that Serve deploys Coach with the app

    ingress = serve.deployment(
        serve.ingress(asgi_app)(Ingress),
        name="Ingress",
        num_replicas=max(1, options.ingress_replicas),
        ray_actor_options={"num_cpus": 0},
        max_ongoing_requests=settings.max_clients + 32,  # each WebSocket is one long request
    )
    return ingress.bind(coach.bind(settings, options.sessions_per_replica))


def portable(settings: Settings) -> Settings:
    """Settings with absolute paths (replicas run in other folders, on other machines)."""
    db = settings.db if is_url(str(settings.db)) else Path(settings.db).resolve()
    demo = Path(settings.demo_clip).resolve() if settings.demo_clip is not None else None
    return replace(settings, db=db, demo_clip=demo)


def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


def run(settings: Settings, options: ClusterOptions, ready: Callable[[], None] | None = None) -> None:
    """Deploy the app on the Ray cluster at ``options.address`` and serve until SIGINT or SIGTERM."""
    _require_ray()
    import ray

    settings = portable(settings)
    Store(settings.db).close()  # create or migrate the schema once; earlier runs' live sessions are over
    env = {k: os.environ[k] for k in ENV_PASSED if k in os.environ}
    try:
        if options.address == "local":
            ray.init(runtime_env={"env_vars": env}, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=options.address, runtime_env={"env_vars": env}, log_to_driver=False)
    except ConnectionError as exc:
        raise PoseItError(f"no Ray cluster at {options.address!r} ({exc}); start one with `ray start --head`") from None
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        proxy = "EveryNode" if options.proxy_every_node else "HeadOnly"
        serve.start(proxy_location=proxy, http_options={"host": settings.host, "port": settings.port})
        serve.run(build(settings, options), name=APP, route_prefix="/", blocking=False)
        if ready is not None:
            ready()
        while True:
            time.sleep(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        try:
            serve.delete(APP)
            serve.shutdown()
        finally:
            ray.shutdown()
