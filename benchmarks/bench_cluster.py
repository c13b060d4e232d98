"""Ray's overhead: bench_serve's load test (N WebSocket clients streaming as fast as answers come) against the
single-process `poseit serve`, against `poseit serve --ray` on a local two-node Ray cluster (head + worker,
separate `ray start` processes) with the same inference capacity (two inferences at a time, one thread each:
two app replicas, each holding its sessions), each configuration its own server process, in interleaved rounds;
records which replica answered each session; plus memory per live session and the "move the state with each
request" alternative (a live session serialised and restored around each frame).

    .venv/bin/python benchmarks/bench_cluster.py [--clients 1 2 4 8] [--variants single ray] [--rounds 2]
        [--seconds 10]
    .venv/bin/python benchmarks/bench_cluster.py --per-frame   (one client, a frame at a time: where time goes)

Writes benchmarks/results/cluster.json and cluster.md (--per-frame: cluster-frame.json). Needs the cluster
extra (pip install -e '.[cluster]').
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "tests" / "cluster"), str(ROOT / "tests")]

from cluster_helpers import RAY_ENV, RayCluster, RayServe  # noqa: E402

from bench_serve import (  # noqa: E402
    DEFAULT_CLIP,
    RESULTS,
    combine,
    free_port,
    machine,
    recorded_frames,
    run_clients,
    start_server,
    summarise,
)

SINGLE = ["--workers", "2", "--threads", "1"]
RAY = ["--min-replicas", "2", "--max-replicas", "2", "--replica-cpus", "1", "--workers", "1", "--threads", "1"]
VARIANTS = {
    "single": SINGLE,
    "ray": RAY,
}


class Variant:
    """One configuration's server, in its own process: `poseit serve` or `poseit serve --ray` on the cluster."""

    def __init__(self, kind: str, cluster: RayCluster, db: Path) -> None:
        self.kind = kind
        if kind == "single":
            port = free_port()
            self.proc = start_server(port, db, SINGLE)
            self.url, self.ray = f"ws://127.0.0.1:{port}/ws", None
        else:
            self.ray = RayServe(cluster.address, str(db), "--max-fps", "0", *VARIANTS[kind])
            self.url = self.ray.ws_url

    def stop(self) -> None:
        if self.ray is not None:
            self.ray.stop()
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def measure(url: str, frames: list[bytes], n: int, args: argparse.Namespace) -> dict:
    time.sleep(3.0)  # the last count's sessions have ended on the server (on Ray, the router has seen them end)
    load_before = os.getloadavg()[0]
    row = summarise(n, asyncio.run(run_clients(url, frames, n, args.warmup, args.seconds)), load_before)
    placed = [p["placed"] for p in row["per_client"] if "placed" in p]
    if placed:  # sessions per replica (by where most of a session's frames were answered)
        homes = [max(p, key=p.get) for p in placed]
        row["sessions_per_replica"] = sorted((homes.count(h) for h in set(homes)), reverse=True)
        slowest = min(range(n), key=lambda i: row["per_client"][i]["fps"])
        row["slowest_client_shared_with"] = homes.count(homes[slowest]) - 1
    return row


def per_frame(frames: list[bytes], cluster: RayCluster, tmp: Path, rounds: int = 2, n: int = 200) -> dict:
    """One client, one frame at a time: the round trip against the session's own ``server_ms`` (the rest is
    transport), single process against Ray, in interleaved rounds (medians of ``n`` frames after 30)."""
    from poseit.serve.client import LiveClient

    out: dict[str, dict[str, list[float]]] = {}
    for r in range(rounds):
        for kind in ("single", "ray")[:: 1 if r % 2 == 0 else -1]:
            server = Variant(kind, cluster, tmp / f"frame-{kind}-{r}.db")
            try:
                rtt, own = [], []
                with LiveClient(server.url) as c:
                    c.start("pushup")
                    for i in range(n + 30):
                        t0 = time.perf_counter()
                        answer = c.frame(frames[i % len(frames)], i * 1000 / 30)
                        if i >= 30 and answer["type"] == "result":
                            rtt.append((time.perf_counter() - t0) * 1000)
                            own.append(answer["server_ms"])
                    c.stop()
            finally:
                server.stop()
            row = out.setdefault(kind, {"rtt_ms": [], "server_ms": [], "transport_ms": [], "load_avg_1min": []})
            row["rtt_ms"].append(statistics.median(rtt))
            row["server_ms"].append(statistics.median(own))
            row["transport_ms"].append(row["rtt_ms"][-1] - row["server_ms"][-1])
            row["load_avg_1min"].append(os.getloadavg()[0])
            print(f"per frame, round {r}, {kind}: {row}", flush=True)
    return out


def session_memory(frames: list[bytes], sessions: int = 8, per_session: int = 60) -> dict:
    """Resident memory one live session adds to a process that already holds the compiled models."""
    from poseit.serve.session import CoachSession, EngineOptions

    def rss_mb() -> float:
        with open("/proc/self/status") as f:
            line = next(ln for ln in f if ln.startswith("VmRSS"))
        return int(line.split()[1]) / 1024

    engine = EngineOptions(num_threads=1)
    first = CoachSession("pushup", engine)
    for i in range(per_session):
        first.feed_jpeg(frames[i], i / 30)
    base = rss_mb()
    held = []
    for _ in range(sessions):
        s = CoachSession("pushup", engine)
        for i in range(per_session):
            s.feed_jpeg(frames[i], i / 30)
        held.append(s)
    return {"sessions": sessions, "mb_per_session": (rss_mb() - base) / sessions, "process_mb": rss_mb()}


class _Pickler(pickle.Pickler):
    """A session's own state; the process's shared compiled models go as references (they stay on every
    replica; only a session's tracker, smoother and coach would move)."""

    def __init__(self, f: io.BytesIO, shared: dict[int, str]) -> None:
        super().__init__(f, protocol=pickle.HIGHEST_PROTOCOL)
        self.shared = shared

    def persistent_id(self, obj: object) -> str | None:
        return self.shared.get(id(obj))


class _Unpickler(pickle.Unpickler):
    def __init__(self, f: io.BytesIO, objects: dict[str, object]) -> None:
        super().__init__(f)
        self.objects = objects

    def persistent_load(self, key: str) -> object:
        return self.objects[key]


def state_moving(frames: list[bytes], warm: int = 60, measured: int = 200) -> dict:
    """The "move the state with each request" alternative, measured: a live `CoachSession` (tracker, smoother,
    coach buffers) serialised and restored around every frame, the restored copy coaching the next frame,
    against the same session pinned (one process, no transport: the serialisation alone)."""
    from poseit.serve.session import CoachSession, EngineOptions

    engine = EngineOptions(num_threads=1)
    moved, pinned = CoachSession("pushup", engine), CoachSession("pushup", engine)
    est = moved.estimator
    objects = {"landmarks": est.landmarks, "detector": est.detector}
    shared = {id(v): k for k, v in objects.items()}
    for i in range(warm):
        moved.feed_jpeg(frames[i % len(frames)], i / 30)
        pinned.feed_jpeg(frames[i % len(frames)], i / 30)
    feed_ms, dump_ms, load_ms, sizes, same = [], [], [], [], True
    for i in range(warm, warm + measured):
        jpeg = frames[i % len(frames)]
        t0 = time.perf_counter()
        expected = pinned.feed_jpeg(jpeg, i / 30)
        feed_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        buf = io.BytesIO()
        _Pickler(buf, shared).dump(moved)
        blob = buf.getvalue()
        t1 = time.perf_counter()
        moved = _Unpickler(io.BytesIO(blob), objects).load()
        t2 = time.perf_counter()
        dump_ms.append((t1 - t0) * 1000)
        load_ms.append((t2 - t1) * 1000)
        sizes.append(len(blob))
        got = moved.feed_jpeg(jpeg, i / 30)
        same &= got["reps"] == expected["reps"] and got["people"] == expected["people"]
    return {
        "frames_warm": warm,
        "frames_measured": measured,
        "pinned_feed_ms_median": statistics.median(feed_ms),
        "dump_ms_median": statistics.median(dump_ms),
        "load_ms_median": statistics.median(load_ms),
        "state_kb_median": statistics.median(sizes) / 1024,
        "state_kb_first_last": [sizes[0] / 1024, sizes[-1] / 1024],
        "jpeg_kb_median": statistics.median(len(f) for f in frames) / 1024,
        "restored_session_identical": same,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    ap.add_argument("--per-frame", action="store_true", help="only the one-client, frame-at-a-time breakdown")
    args = ap.parse_args()
    if not args.clip.is_file():
        sys.exit(f"bench_cluster: clip not found: {args.clip} (set POSEIT_DATA or --clip)")
    frames = recorded_frames(args.clip)
    os.environ.update(RAY_ENV)
    counts = {k: list(args.clients) for k in args.variants}
    runs: dict[str, dict[int, list[dict]]] = {k: {n: [] for n in counts[k]} for k in args.variants}
    with tempfile.TemporaryDirectory() as tmp:
        cluster = RayCluster(num_cpus=1, workers=1, object_store_mb=200)
        try:
            if args.per_frame:
                doc = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine()}
                doc["per_frame"] = per_frame(frames, cluster, Path(tmp))
                (RESULTS / "cluster-frame.json").write_text(json.dumps(doc, indent=1) + "\n")
                return
            for r in range(args.rounds):
                for kind in args.variants[:: 1 if r % 2 == 0 else -1]:  # interleaved: each its own server process
                    server = Variant(kind, cluster, Path(tmp) / f"{kind}-{r}.db")
                    try:
                        for n in counts[kind]:
                            row = measure(server.url, frames, n, args)
                            runs[kind][n].append(row)
                            brief = {k: row[k] for k in row if k != "per_client"}
                            print(f"round {r} {kind} {n} clients: {brief}", flush=True)
                    finally:
                        server.stop()
        finally:
            cluster.stop()
    rows = []
    for n in args.clients:
        row: dict = {"clients": n}
        for kind in args.variants:
            if n in runs[kind]:
                row[kind] = combine(runs[kind][n])
                if runs[kind][n][0].get("sessions_per_replica"):
                    row[kind]["sessions_per_replica"] = [x.get("sessions_per_replica") for x in runs[kind][n]]
        base = row.get("single")
        for kind in args.variants[1:]:
            if base and kind in row:
                row[kind]["overhead"] = 1 - row[kind]["fps_per_client_mean"] / base["fps_per_client_mean"]
        rows.append(row)
    write(rows, session_memory(frames), state_moving(frames), args)


def write(rows: list[dict], memory: dict, state: dict, args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "clip": args.clip.name,
        "seconds": args.seconds,
        "warmup_s": args.warmup,
        "rounds": args.rounds,
        "variants": {k: ["--max-fps", "0", *VARIANTS[k]] for k in args.variants},
        "cluster": "head + 1 worker node on this machine, 1 logical CPU each, object store 200 MB",
        "command": "python benchmarks/bench_cluster.py " + " ".join(sys.argv[1:]),
    }
    doc = {**meta, "rows": rows, "memory": memory, "state_moving": state}
    (RESULTS / "cluster.json").write_text(json.dumps(doc, indent=1) + "\n")
    loads = [x for r in rows for k in args.variants if k in r for x in r[k]["load_avg_1min"]]

    def cell(v: dict) -> str:
        fps = f"{v['fps_per_client_mean']:.1f} ({v['fps_per_client_min']:.1f})"
        return f"{fps} | {v['rtt_p50_ms']:.0f} / {v['rtt_p95_ms']:.0f}"

    lines = [
        f"Measured {meta['date']} on {meta['machine']}; `{meta['command'].strip()}`; 640x480 JPEG frames of "
        f"`{meta['clip']}`; {args.seconds:g} s per configuration after {args.warmup:g} s warm-up; medians of "
        f"{args.rounds} interleaved rounds, each configuration its own server process per round; 1-minute load "
        f"average before the runs {min(loads):.1f}-{max(loads):.1f}.",
        *(
            f"- {k}: `poseit serve {'--ray ... ' if k != 'single' else ''}{' '.join(v)}`"
            for k, v in meta["variants"].items()
        ),
        f"- Ray cluster: {meta['cluster']}; history in SQLite for all.",
        "",
        "FPS per client: mean (slowest client); round trip p50 / p95 ms over all clients' frames. Ray overhead: "
        "1 - Ray FPS per client / single-process FPS per client. Sessions per replica: where each session's "
        "frames were answered, per round.",
        "",
        "| clients | single: FPS | p50 / p95 | Ray: FPS | p50 / p95 | Ray overhead | sessions per replica |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        if "single" in r and "ray" in r:
            y = r["ray"]
            spread = " ".join("+".join(map(str, x or [])) for x in y.get("sessions_per_replica", []))
            lines.append(
                f"| {r['clients']} | {cell(r['single'])} | {cell(y)} | {100 * y['overhead']:.0f}% | {spread} |"
            )
    st = state
    lines += [
        "",
        f"Memory: one more live session adds {memory['mb_per_session']:.1f} MB resident to a process holding the "
        f"compiled models ({memory['sessions']} sessions of 60 frames; process {memory['process_mb']:.0f} MB).",
        "",
        f"Moving the state with each request (one process, no transport): a live session pickled and restored "
        f"around each of {st['frames_measured']} frames (after {st['frames_warm']}): state "
        f"{st['state_kb_median']:.0f} KB (first {st['state_kb_first_last'][0]:.0f}, last "
        f"{st['state_kb_first_last'][1]:.0f}), dump {st['dump_ms_median']:.2f} ms + load {st['load_ms_median']:.2f} "
        f"ms per frame (medians), against {st['pinned_feed_ms_median']:.1f} ms for the pinned session's frame itself "
        f"and a {st['jpeg_kb_median']:.0f} KB JPEG; the restored copy coached exactly as the pinned one: "
        f"{st['restored_session_identical']}.",
    ]
    (RESULTS / "cluster.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
