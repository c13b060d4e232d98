"""``poseit serve --ray``: the same web app as a Ray Serve application (needs the ``cluster`` extra).

One deployment, ``Ingress``: the FastAPI app of `poseit.serve.app` (page, API, WebSocket, security), autoscaled
on its live sessions. Ray Serve's proxy hands each WebSocket to one replica for the connection's life, so a live
session's `CoachSession` (tracker, smoother, `LiveCoach`: the one code path of the single-process server) lives
in the replica that holds its WebSocket and runs there, on the replica's once-compiled models: a frame crosses
one process boundary (proxy -> replica) and no deployment handle.

Faults. A replica or node lost takes its WebSockets with it: the page shows "Reconnecting…", opens a new
WebSocket (the proxy gives it to a live replica) and asks to resume its session (the ``resume`` of the start
message: the session id, a token the app signed for it, and the session's time origin); the replica goes on from
the database (`CoachSession(resume=...)`: reps and form issues are written the moment they happen) and the
tracker re-detects. Only the rep in progress at the loss can be lost. The app has no HTTP frame endpoint (frames
come only over the WebSocket); its HTTP requests (page, history, "Analyse a recording") are stateless and go to
any replica.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from poseit.errors import PoseItError
from poseit.serve.hub import Hub
from poseit.serve.session import CoachSession
from poseit.serve.settings import Settings
from poseit.serve.store import Store, is_url

try:
    from ray import serve
    from ray.serve.config import RequestRouterConfig
    from ray.serve.schema import LoggingConfig
except ImportError:  # the module still imports (for its docs and options); `run` says what to install
    serve = LoggingConfig = RequestRouterConfig = None  # type: ignore[assignment,misc]


APP = "poseit"
ROUTER = "poseit.serve.cluster_router:SpreadRouter"
ENV_PASSED = ("POSEIT_MODELS", "POSEIT_DATA", "OPENVINO_LOG_LEVEL")


@dataclass(frozen=True)
class ClusterOptions:
    """Where the cluster is and how the ``Ingress`` deployment (the app, with its live sessions) scales."""

    address: str = "auto"  # a running cluster (``auto``, ``HOST:PORT``, ``ray://...``) or ``local`` (start one)
    min_replicas: int = 1
    max_replicas: int = 4
    target_ongoing_requests: float = 2.0  # live sessions (WebSockets) per replica the autoscaler aims at
    replica_cpus: float = 1.0  # logical CPUs Ray reserves for each replica
    proxy_every_node: bool = False  # Ray Serve's HTTP proxy on every node (behind a load balancer), not the head's
    access_log: bool = False  # Ray Serve's per-request access log (one line per WebSocket, not per frame)


def _require_ray() -> None:
    if serve is None:
        raise PoseItError("poseit serve --ray needs the cluster extra: pip install 'poseit[cluster]'")


class ReplicaSession(CoachSession):
    """A `CoachSession` whose results say which replica (``host:pid``) and Ray node ran them."""

    replica = node = ""

    def feed(self, image: np.ndarray, time_s: float) -> dict[str, Any]:
        out = super().feed(image, time_s)
        out["replica"], out["node"] = self.replica, self.node
        return out


class ClusterHub(Hub):
    """An ingress replica's hub: the single-process `Hub` (its sessions live here, in its inference pool), with
    the history shared by all replicas (other replicas' sessions are live: none is marked interrupted) and the
    cluster's resume key (a session started on one replica resumes on any other)."""

    session_class = ReplicaSession

    def __init__(self, settings: Settings, resume_key: bytes) -> None:
        super().__init__(settings, Store(settings.db, interrupt_live=False), resume_key=resume_key)
        self.replica = f"{socket.gethostname()}:{os.getpid()}"
        self.node = _node_id()

    def make_session(self, exercise: str, source: str, **kwargs: Any) -> CoachSession:
        session = super().make_session(exercise, source, **kwargs)
        session.replica, session.node = self.replica, self.node  # type: ignore[attr-defined]
        return session


def build_ingress_app(settings: Settings, resume_key: bytes) -> Any:
    """The FastAPI app of the single-process server, with a `ClusterHub` (runs on an ingress replica)."""
    from poseit.serve.app import create_app

    return create_app(settings, lambda s: ClusterHub(s, resume_key))


def build(settings: Settings, options: ClusterOptions, resume_key: bytes | None = None) -> Any:
    """The Ray Serve application: the ``Ingress`` deployment, autoscaled between the replica bounds."""
    _require_ray()
    key = resume_key if resume_key is not None else os.urandom(32)
    lo, hi = max(1, options.min_replicas), max(1, options.min_replicas, options.max_replicas)

    def asgi_app() -> Any:
        return build_ingress_app(settings, key)

    class Ingress:
        """The app's replica (the FastAPI app is its ASGI handler)."""

    ingress = serve.deployment(
        serve.ingress(asgi_app)(Ingress),
        name="Ingress",
        ray_actor_options={"num_cpus": options.replica_cpus},
        # each WebSocket is one long request; past max_clients the app itself answers "server full"
        max_ongoing_requests=settings.max_clients + 8,
        request_router_config=RequestRouterConfig(request_router_class=ROUTER),  # no preference for the proxy's node
        autoscaling_config={
            "min_replicas": lo,
            "initial_replicas": lo,
            "max_replicas": hi,
            "target_ongoing_requests": options.target_ongoing_requests,
            "upscale_delay_s": 10.0,
            "downscale_delay_s": 120.0,  # a replica scaled down takes its WebSockets: their pages reconnect
        },
        health_check_period_s=2.0,
        health_check_timeout_s=10.0,
        graceful_shutdown_timeout_s=5.0,
        logging_config=LoggingConfig(enable_access_log=options.access_log),
    )
    return ingress.bind()


def portable(settings: Settings) -> Settings:
    """Settings with absolute paths (replicas run in other folders, on other machines)."""
    db = settings.db if is_url(str(settings.db)) else Path(settings.db).resolve()
    demo = Path(settings.demo_clip).resolve() if settings.demo_clip is not None else None
    return replace(settings, db=db, demo_clip=demo)


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
