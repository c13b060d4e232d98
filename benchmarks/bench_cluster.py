"""Ray's overhead: N WebSocket clients against the single-process `poseit serve` and against `poseit serve --ray`
on a local two-node Ray cluster (head + worker, separate `ray start` processes), with the same inference
capacity (two inferences at a time, one thread each), in interleaved rounds; plus memory per live session.

    .venv/bin/python benchmarks/bench_cluster.py [--clients 1 2 4] [--rounds 2] [--seconds 15]

Writes benchmarks/results/cluster.json and cluster.md. Needs the cluster extra (pip install -e '.[cluster]').
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "tests" / "cluster")]

from cluster_helpers import RAY_ENV, RayCluster, RayServe  # noqa: E402

from bench_serve import DEFAULT_CLIP, RESULTS, free_port, machine, pct, recorded_frames, run_clients  # noqa: E402

SINGLE = ["--max-fps", "0", "--workers", "2", "--threads", "1"]
RAY = [*SINGLE[:2], "--min-replicas", "2", "--max-replicas", "2", "--replica-cpus", "1", "--workers", "1"]
RAY += ["--threads", "1"]


def single_server(db: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "poseit.cli", "serve", "--port", str(port), "--db", str(db), *SINGLE]
    log = db.with_suffix(".log").open("w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    import httpx

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/exercises", timeout=2).status_code == 200:
                return proc, f"ws://127.0.0.1:{port}/ws"
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    sys.exit("bench_cluster: single-process server did not start")


def measure(url: str, frames: list[bytes], n: int, args: argparse.Namespace) -> dict:
    results = asyncio.run(run_clients(url, frames, n, args.warmup, args.seconds))
    rtts = [x for r in results for x in r["rtt_ms"]]
    return {
        "fps_per_client": statistics.fmean(r["fps"] for r in results),
        "fps_per_client_min": min(r["fps"] for r in results),
        "rtt_p50_ms": pct(rtts, 50),
        "rtt_p95_ms": pct(rtts, 95),
    }


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    args = ap.parse_args()
    frames = recorded_frames(args.clip)
    os.environ.update(RAY_ENV)
    runs: dict[str, dict[int, list[dict]]] = {"single": {n: [] for n in args.clients}, "ray": {}}
    runs["ray"] = {n: [] for n in args.clients}
    with tempfile.TemporaryDirectory() as tmp:
        cluster = RayCluster(num_cpus=1, workers=1, object_store_mb=200)
        try:
            ray = RayServe(cluster.address, str(Path(tmp) / "ray.db"), *RAY)
            single, single_url = single_server(Path(tmp) / "single.db")
            try:
                for r in range(args.rounds):
                    for n in args.clients:
                        for kind, url in (("single", single_url), ("ray", ray.ws_url))[:: 1 if r % 2 else -1]:
                            row = measure(url, frames, n, args)
                            runs[kind][n].append(row)
                            print(f"round {r} {kind} {n} clients: {row}", flush=True)
            finally:
                single.terminate()
                single.wait(10)
                ray.stop()
        finally:
            cluster.stop()
    rows = []
    for n in args.clients:
        med = {k: {f: statistics.median(x[f] for x in runs[k][n]) for f in runs[k][n][0]} for k in runs}
        overhead = 1 - med["ray"]["fps_per_client"] / med["single"]["fps_per_client"]
        rows.append({"clients": n, **{k: med[k] for k in med}, "ray_overhead": overhead, "rounds": runs["ray"][n]})
        rows[-1]["single_rounds"] = runs["single"][n]
    memory = session_memory(frames)
    write(rows, memory, args)


def write(rows: list[dict], memory: dict, args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {
        "date": dt.date.today().isoformat(),
        "machine": machine(),
        "clip": args.clip.name,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "single_args": SINGLE,
        "ray_args": RAY,
        "cluster": "head + 1 worker node on this machine, 1 logical CPU each, object store 200 MB",
        "command": "python benchmarks/bench_cluster.py " + " ".join(sys.argv[1:]),
    }
    (RESULTS / "cluster.json").write_text(json.dumps({**meta, "rows": rows, "memory": memory}, indent=1) + "\n")
    lines = [
        f"Measured {meta['date']} on {meta['machine']}; `{meta['command'].strip()}`; 640x480 JPEG frames of "
        f"`{meta['clip']}`; {args.seconds:g} s per configuration, medians of {args.rounds} interleaved rounds.",
        f"Single process: `poseit serve {' '.join(SINGLE)}`. Ray: `poseit serve --ray ... {' '.join(RAY)}` on a "
        f"{meta['cluster']}; history in SQLite for both.",
        "",
        "| clients | single: FPS per client | p50 / p95 ms | Ray: FPS per client | p50 / p95 ms | Ray overhead |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        s, y = r["single"], r["ray"]
        lines.append(
            f"| {r['clients']} | {s['fps_per_client']:.1f} | {s['rtt_p50_ms']:.0f} / {s['rtt_p95_ms']:.0f} "
            f"| {y['fps_per_client']:.1f} | {y['rtt_p50_ms']:.0f} / {y['rtt_p95_ms']:.0f} "
            f"| {100 * r['ray_overhead']:.0f}% |"
        )
    lines += [
        "",
        "Ray overhead: 1 - (Ray FPS per client / single-process FPS per client).",
        f"Memory: one more live session adds {memory['mb_per_session']:.1f} MB resident to a process holding the "
        f"compiled models ({memory['sessions']} sessions of 60 frames; process {memory['process_mb']:.0f} MB).",
    ]
    (RESULTS / "cluster.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
