"""``poseit serve``: the live coaching web app (camera in the browser -> server -> overlay; history in SQLite)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from poseit.commands.common import add_runtime_args

if TYPE_CHECKING:
    from poseit.serve.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="the live coaching web app (browser camera, reps and feedback, history)",
        description="Binds 127.0.0.1 by default; any other address needs a token (--token or POSEIT_TOKEN).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument(
        "--db",
        help="history: a SQLite file (default: the user data folder's poseit/history.db) or a database URL "
        "(postgresql://user@host/db, needs the cluster extra)",
    )
    p.add_argument("--token", help="access token (default: $POSEIT_TOKEN); required off loopback")
    p.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS (a phone's browser gives its camera only to HTTPS pages) with a self-signed certificate "
        "made on first use in the user data folder, or --certfile/--keyfile",
    )
    p.add_argument("--certfile", help="TLS certificate (PEM; implies --tls)")
    p.add_argument("--keyfile", help="TLS private key (PEM, unencrypted; with --certfile)")
    p.add_argument("--workers", type=int, default=2, help="inference threads shared by all clients (default 2)")
    p.add_argument("--max-clients", type=int, default=16, help="concurrent live sessions (default 16)")
    p.add_argument("--max-fps", type=float, default=30.0, help="frames per second per client (0: no limit)")
    p.add_argument("--allow-origin", action="append", default=[], help="another origin allowed to open the socket")
    p.add_argument("--demo", help="video the page offers as demo clip (default: ../shared's push-up clip)")
    p.add_argument("--log-level", default="warning", help="uvicorn log level (default warning)")
    ray = p.add_argument_group("cluster (pip install 'poseit[cluster]')")
    ray.add_argument(
        "--ray",
        nargs="?",
        const="auto",
        metavar="ADDRESS",
        help="serve on a Ray cluster with Ray Serve: auto (default), HOST:PORT, or local (start one here)",
    )
    ray.add_argument("--min-replicas", type=int, default=1, help="app replicas at least (default 1)")
    ray.add_argument("--max-replicas", type=int, default=4, help="app replicas at most (default 4)")
    ray.add_argument(
        "--target-ongoing-requests", type=float, default=2.0, help="live sessions per replica to scale at (2)"
    )
    ray.add_argument("--replica-cpus", type=float, default=1.0, help="CPUs reserved per app replica (default 1)")
    ray.add_argument(
        "--proxy-every-node", action="store_true", help="an HTTP proxy on every node (behind a load balancer)"
    )
    ray.add_argument("--access-log", action="store_true", help="Ray Serve's access log (one line per request)")
    add_runtime_args(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from poseit.errors import PoseItError

    try:
        import uvicorn

        from poseit.serve.app import create_app
    except ImportError:
        raise PoseItError("the web app needs its extra: pip install 'poseit[serve]'") from None
    from poseit.serve.session import EngineOptions
    from poseit.serve.settings import Settings, default_db, default_demo, is_loopback

    if args.backend != "openvino":
        raise PoseItError("poseit serve runs the OpenVINO backend only")
    if args.demo and not Path(args.demo).is_file():
        raise PoseItError(f"no such demo clip: {args.demo}")
    if not 0 < args.port < 65536:
        raise PoseItError(f"--port must be 1 to 65535, not {args.port}")
    if bool(args.certfile) != bool(args.keyfile):
        raise PoseItError("--certfile and --keyfile go together")
    tls = bool(args.tls or args.certfile)
    if tls and args.ray:
        raise PoseItError("--tls is for the single-process server; on Ray, terminate TLS at the load balancer")
    settings = Settings(
        host=args.host,
        port=args.port,
        db=(args.db if "://" in args.db else Path(args.db)) if args.db else default_db(),
        token=args.token or os.environ.get("POSEIT_TOKEN") or None,
        engine=EngineOptions(args.model, args.device, args.precision, args.hint, args.threads, args.seed),
        demo_clip=Path(args.demo) if args.demo else default_demo(),
        allowed_origins=tuple(args.allow_origin),
        workers=max(1, args.workers),
        max_clients=max(1, args.max_clients),
        max_fps=max(0.0, args.max_fps),
        tls=tls,
    )
    settings.check()  # before anything is loaded: a refused configuration ends in one line
    if args.ray:
        return _serve_on_ray(args, settings)
    ssl = _tls_files(args) if tls else {}
    settings.engine.estimator()  # compile the shared models now: a missing model ends in one line
    app = create_app(settings)
    host = f"[{args.host}]" if ":" in args.host else args.host
    query = "/?token=..." if settings.token else "/"
    scheme = "https" if tls else "http"
    where = f"{scheme}://{host}:{args.port}{query}"
    print(f"poseit serve: open {where}  (history in {settings.db}; Ctrl+C stops)", flush=True)
    if tls and not args.certfile:
        print(f"  self-signed certificate {ssl['ssl_certfile']}: browsers warn once; accept it to go on", flush=True)
    if not is_loopback(args.host):
        print("  a phone on the same network: press 'Use a phone' on the page and scan the QR code", flush=True)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        ws_max_size=4 * settings.max_message_bytes,  # larger frames are refused in the app, with a message
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        timeout_graceful_shutdown=3,
        **ssl,
    )
    return 0


def _tls_files(args: argparse.Namespace) -> dict[str, str]:
    """uvicorn's certificate and key arguments: the given files (checked), or this machine's self-signed ones."""
    from pathlib import Path

    from poseit.serve.tls import check_files, self_signed

    if args.certfile:
        cert, key = Path(args.certfile), Path(args.keyfile)
        check_files(cert, key)
    else:
        cert, key = self_signed(hosts=(args.host,))
    return {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}


def _serve_on_ray(args: argparse.Namespace, settings: Settings) -> int:
    """The same app as a Ray Serve application on the cluster at ``args.ray``."""
    from poseit.serve.cluster import ClusterOptions, run

    options = ClusterOptions(
        address=args.ray,
        min_replicas=args.min_replicas,
        max_replicas=args.max_replicas,
        target_ongoing_requests=args.target_ongoing_requests,
        replica_cpus=args.replica_cpus,
        proxy_every_node=args.proxy_every_node,
        access_log=args.access_log,
    )
    host = f"[{args.host}]" if ":" in args.host else args.host
    query = "/?token=..." if settings.token else "/"

    def ready() -> None:
        print(f"poseit serve on Ray: open http://{host}:{args.port}{query}  (Ctrl+C stops)", flush=True)

    run(settings, options, ready)
    return 0
