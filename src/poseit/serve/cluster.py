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

import numpy as np

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
HEAD = {"node:__internal_head__": 0.001}  # Ray's resource of the head node
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
    batch: int = 0  # landmark crops of up to this many sessions in one inference (``@serve.batch``; 0/1: off)
    batch_wait_ms: float = 5.0  # how long a batch waits for more crops


def _require_ray() -> None:
    if serve is None:
        raise PoseItError("poseit serve --ray needs the cluster extra: pip install 'poseit[cluster]'")


# --- the Coach deployment: replicas that hold sessions --------------------------------------------------------
class CropBatcher:
    """One replica's landmark inference on batches of crops: the landmark model reshaped to batches of 1, 2, 4,
    ... up to ``size`` (a smaller batch is padded to the next), compiled once, run in one thread."""

    def __init__(self, model_file: str, backend: Any, size: int, threads: int | None) -> None:
        import openvino as ov

        self.backend, self.input = backend, backend.input_names[0]
        core = ov.Core()
        options: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
        if threads:
            options["INFERENCE_NUM_THREADS"] = int(threads)
        shape = list(backend.input_shapes[0])
        self.sizes, self.requests = [], {}
        n = 1
        while True:
            model = core.read_model(model_file)
            model.reshape({model.inputs[0]: [n, *shape[1:]]})
            self.requests[n] = core.compile_model(model, "CPU", options).create_infer_request()
            self.sizes.append(n)
            if n >= size:
                break
            n *= 2
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="poseit-batch")
        self.batches = self.crops = 0

    def infer(self, tensors: list[np.ndarray]) -> list[dict[str, np.ndarray]]:
        n = next(k for k in self.sizes if k >= len(tensors))
        x = np.zeros((n, *tensors[0].shape[1:]), tensors[0].dtype)
        x[: len(tensors)] = np.concatenate(tensors)
        request = self.requests[n]
        request.infer({self.input: x})
        out = {name: request.get_tensor(name).data for name in self.backend.output_names}
        self.batches += 1
        self.crops += len(tensors)
        return [{k: v[i : i + 1].copy() for k, v in out.items()} for i in range(len(tensors))]


class BatchedBackend:
    """The landmark model's backend as a `Coach` replica with batching sees it: each crop goes, from the
    inference thread running a session's frame, to the replica's ``@serve.batch`` method on its event loop,
    which gathers the crops of the sessions whose frames are in flight together into one inference."""

    def __init__(self, backend: Any, submit: Callable[[np.ndarray], Any]) -> None:
        self._backend, self._submit = backend, submit

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    def infer(self, inputs: Any) -> dict[str, np.ndarray]:
        return next(self.infer_many([inputs]))

    def infer_many(self, inputs: Any) -> Any:
        futures = [self._submit(self._backend._feed(x)[self._backend.input_names[0]]) for x in inputs]
        for f in futures:
            yield f.result()


class _Slot:
    """One session on a replica: its `CoachSession` (None until its first call here) and the last frame run."""

    def __init__(self) -> None:
        self.session: CoachSession | None = None
        self.frame = 0


class Coach:
    """A replica's sessions, keyed by the session key (the least recently used go past ``keep``). Calls on one
    session never overlap (the ingress keeps one frame in flight per client); inference runs in a bounded thread
    pool off the replica's loop."""

    def __init__(self, settings: Settings, keep: int = 64, batch: int = 0, batch_wait_ms: float = 5.0) -> None:
        self.settings, self.keep = settings, keep
        self.slots: OrderedDict[str, _Slot] = OrderedDict()
        self.store = Store(settings.db, interrupt_live=False)  # other replicas' sessions are live
        # with batching, a session's frame waits for its crop's batch in its thread: a thread per session
        threads = max(1, settings.workers) if batch < 2 else max(settings.workers, keep)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="poseit-coach")
        landmarks = settings.engine.estimator().landmarks  # compile the shared models before the first session
        self.replica = f"{socket.gethostname()}:{os.getpid()}"
        self.node = _node_id()
        self.batcher: CropBatcher | None = None
        if batch >= 2:
            self.batcher = CropBatcher(
                _model_file(settings.engine.model), landmarks.backend, batch, settings.engine.num_threads
            )
            self.crops = serve.batch(max_batch_size=batch, batch_wait_timeout_s=batch_wait_ms / 1000)(self._crops)
            landmarks.backend = BatchedBackend(landmarks.backend, self._submit)  # the shared model, this process

    def _submit(self, tensor: np.ndarray) -> Any:
        return asyncio.run_coroutine_threadsafe(self.crops(tensor), self.loop)

    async def _crops(self, tensors: list[np.ndarray]) -> list[dict[str, np.ndarray]]:
        assert self.batcher is not None
        return await asyncio.get_running_loop().run_in_executor(self.batcher.pool, self.batcher.infer, tensors)

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.pool, lambda: fn(*args, **kwargs))

    async def _session(self, spec: dict[str, Any], index: int) -> CoachSession:
        """The session for this call: the one held here if it ran frame ``index - 1``, else one that goes on from
        the database (a new session, one whose replica died, or one whose frames went elsewhere meanwhile)."""
        self.loop = asyncio.get_running_loop()  # where the inference threads send crops to be batched
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
        start = time.perf_counter()
        session = await self._session(spec, index)
        try:
            result = await self._run(session.feed_jpeg, jpeg, time_s)
        except PoseItError as exc:
            return {"type": "error", "code": "bad_frame", "message": str(exc)}
        result["replica"], result["node"] = self.replica, self.node
        result["replica_ms"] = round((time.perf_counter() - start) * 1000, 1)  # server_ms and the pool's wait
        if self.batcher is not None:
            result["batch_mean"] = round(self.batcher.crops / max(1, self.batcher.batches), 2)
        return result

    async def close(self, spec: dict[str, Any], index: int) -> dict[str, Any]:
        """End the session (after ``index - 1`` frames) and return its summary."""
        session = await self._session(spec, index)
        self.slots.pop(spec["key"], None)
        return await self._run(session.close)

    async def where(self) -> tuple[str, int]:
        """This replica and how many sessions it holds (the ingress places a new session with it)."""
        return self.replica, len(self.slots)

    def check_health(self) -> None:
        """Ray Serve's health check: the replica answers."""


# --- the ingress: the web app with remote sessions ------------------------------------------------------------
class RemoteSession:
    """The ingress's side of a session held by a ``Coach`` replica: `CoachSession`'s calls, as coroutines."""

    def __init__(
        self, coach: Any, session_id: int, exercise: str, source: str, key: str, placement: Placement | None = None
    ) -> None:
        self.id, self.key, self.placement = session_id, key, placement
        self.spec = {"id": session_id, "exercise": exercise, "source": source, "key": self.key}
        self.handle, self.route = coach, 0
        self.coach = coach.options(session_id=self.key)
        self.index = 0
        self.t0: float | None = None
        self.lost_since: float | None = None  # when its replica stopped answering

    async def feed_jpeg(self, data: bytes, time_s: float) -> dict[str, Any]:
        if self.t0 is None:
            self.t0 = time_s
        self.index += 1
        start = time.perf_counter()
        try:
            result = await self.coach.feed.remote(self.spec, self.index, data, time_s - self.t0)
        except RayTaskError:
            raise
        except (RayError, serve.exceptions.RayServeException) as exc:
            now = time.monotonic()
            self.lost_since = self.lost_since or now
            self._reroute()
            if now - self.lost_since > RECONNECT_FOR_S:
                raise PoseItError(f"the coach is unavailable ({exc.__class__.__name__})") from None
            return {"type": "error", "code": "reconnecting", "message": "the coach moved to another server"}
        self.lost_since = None
        if self.placement is not None:
            self.placement.on(self, result.get("replica"))
        result["coach_ms"] = round((time.perf_counter() - start) * 1000, 1)  # replica_ms and the Ray call
        return result

    def _reroute(self) -> None:
        """Hash the session anew after a failed call: until Serve drops a dead replica from its set (a dead node
        is noticed only after the cluster's health checks time out), the old key would still land on it."""
        self.route += 1
        self.coach = self.handle.options(session_id=f"{self.key}~{self.route}")

    async def close(self) -> dict[str, Any]:
        if self.placement is not None:
            self.placement.on(self, None)
        self.index += 1
        for attempt in range(3):
            try:
                return await self.coach.close.remote(self.spec, self.index)
            except RayTaskError:
                raise
            except (RayError, serve.exceptions.RayServeException):
                await asyncio.sleep(0.5 * (attempt + 1))
                self._reroute()
                self.index += 1  # a replica that takes over resumes from the database
        return {"type": "summary", "session": self.id, "reps": None, "form_issues": []}


PROBES = 6  # keys tried for a new session: it takes the one that hashes to the replica with the fewest
PROBE_S = 2.0  # how long one try may take


class Placement:
    """Where this ingress's live sessions are, by replica. A new session's key is chosen among ``PROBES``
    random keys by asking each key's replica (the consistent hash decides it) who it is: the key whose replica
    holds the fewest of this ingress's sessions (then of all sessions) wins. Pure hashing puts 3 of 4 sessions
    on one of two replicas half the time; this is the power of several choices, and the session stays pinned."""

    def __init__(self) -> None:
        self.at: dict[int, str] = {}  # session id -> replica
        self.lock = asyncio.Lock()  # one new session placed at a time: each sees where the others went

    def count(self, replica: str) -> int:
        return sum(1 for r in self.at.values() if r == replica)

    def on(self, session: RemoteSession, replica: str | None) -> None:
        """``session`` was answered by ``replica`` (None: it ended)."""
        if replica is None:
            self.at.pop(session.id, None)
        else:
            self.at[session.id] = replica

    async def choose(self, coach: Any, session_id: int) -> str:
        """The key for a new session, its replica noted at once. One probe at a time: concurrent first calls
        through a fresh handle were seen never to be routed."""
        keys = [f"s{session_id}-{os.urandom(6).hex()}" for _ in range(PROBES)]
        async with self.lock:
            placed = []
            for key in keys:
                try:
                    replica, held = await asyncio.wait_for(coach.options(session_id=key).where.remote(), PROBE_S)
                except (asyncio.TimeoutError, RayError, serve.exceptions.RayServeException):
                    continue
                placed.append((self.count(replica), held, key, replica))
                if placed[-1][:2] == (0, 0):
                    break  # an idle replica
            if not placed:
                return keys[0]
            _, _, key, replica = min(placed)
            self.at[session_id] = replica
            return key


class ClusterHub(Hub):
    """The ingress's hub: sessions are `RemoteSession`s; coroutine functions run on the event loop, not in
    the inference pool (only "Analyse a recording" still runs the engine in the ingress)."""

    def __init__(self, settings: Settings, coach: Any) -> None:
        super().__init__(settings, Store(settings.db, interrupt_live=False))  # the replicas' sessions are live
        self.coach = coach
        self.placement = Placement()

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
        key = await self.placement.choose(self.coach, session_id)
        return RemoteSession(self.coach, session_id, exercise, source, key, self.placement)


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
        # beside the head's HTTP proxy, unless there is one on every node (a worker node lost takes no WebSocket)
        ray_actor_options={"num_cpus": 0, **({} if options.proxy_every_node else {"resources": HEAD})},
        max_ongoing_requests=settings.max_clients + 32,  # each WebSocket is one long request
    )
    return ingress.bind(coach.bind(settings, options.sessions_per_replica, options.batch, options.batch_wait_ms))


def portable(settings: Settings) -> Settings:
    """Settings with absolute paths (replicas run in other folders, on other machines)."""
    db = settings.db if is_url(str(settings.db)) else Path(settings.db).resolve()
    demo = Path(settings.demo_clip).resolve() if settings.demo_clip is not None else None
    return replace(settings, db=db, demo_clip=demo)


def _model_file(model: str) -> str:
    """A landmark model's file: the registered model's, or the path given."""
    from poseit.models.manager import model_path

    return model if Path(model).suffix else str(model_path(model))


def _node_id() -> str:
    """The Ray node this process runs on ("" outside Ray)."""
    try:
        import ray

        return ray.get_runtime_context().get_node_id() or ""
    except Exception:
        return ""


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
