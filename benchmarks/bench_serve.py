"""Load benchmark of `poseit serve` on loopback: N concurrent WebSocket clients stream recorded 640x480 JPEG
frames as fast as answers come (one frame in flight per client, as the page does) and record per-client frame
rate and round-trip latency. Each N runs against its own fresh server process, in interleaved rounds (this
machine is shared: its speed drifts); the table shows the median over rounds of each figure.

    .venv/bin/python benchmarks/bench_serve.py [--clients 1 2 4 8] [--rounds 3] [--seconds 20] [--clip CLIP]

Writes benchmarks/results/serve.json and serve.md (serve-TAG.* with ``--tag TAG``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("POSEIT_DATA", ROOT.parent / "shared" / "data"))
DEFAULT_CLIP = DATA / "exercise-videos" / "Tayyab-Abdullah+PushUp-Counter" / "pushup2.mp4"
RESULTS = ROOT / "benchmarks" / "results"
TARGETS = {1: (25.0, 80.0), 4: (10.0, None)}  # clients: (min FPS per client, max p95 round trip ms)


def machine() -> str:
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    name = next((ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name")), "?")
    return f"{name}, {os.cpu_count()} cores"


def recorded_frames(clip: Path, skip: int = 60, limit: int = 300) -> list[bytes]:
    """The clip's frames after its title card, centre-cropped to 4:3 and scaled to 640x480, as JPEG."""
    cap = cv2.VideoCapture(str(clip))
    out: list[bytes] = []
    i = 0
    while len(out) < limit:
        ok, frame = cap.read()
        if not ok:
            break
        i += 1
        if i <= skip:
            continue
        h, w = frame.shape[:2]
        cw = min(w, round(h * 4 / 3))
        x0 = (w - cw) // 2
        small = cv2.resize(frame[:, x0 : x0 + cw], (640, 480), interpolation=cv2.INTER_AREA)
        out.append(cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    if not out:
        sys.exit(f"bench_serve: no frames read from {clip}")
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, db: Path, extra: list[str]) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "poseit.cli", "serve", "--port", str(port), "--db", str(db), "--max-fps", "0"]
    log = db.with_suffix(".log")  # a file, not a pipe nobody reads (a full pipe would block the server)
    with log.open("w") as out:
        proc = subprocess.Popen([*cmd, *extra], stdout=out, stderr=subprocess.STDOUT)
    import urllib.request

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"bench_serve: server exited: {log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/exercises", timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    sys.exit("bench_serve: server did not start")


async def client(url: str, frames: list[bytes], offset: int, warmup: float, seconds: float) -> dict:
    from websockets.asyncio.client import connect

    from poseit.serve.client import pack_frame

    async with connect(url, max_size=None) as ws:
        json.loads(await ws.recv())  # hello
        await ws.send(json.dumps({"type": "start", "exercise": "pushup"}))
        json.loads(await ws.recv())
        rtts: list[float] = []
        placed: dict[str, int] = {}  # on Ray: frames answered by each replica ("host:pid@node")
        batch = None
        t0 = time.perf_counter()
        measured_from = t0 + warmup
        n = 0
        while True:
            now = time.perf_counter()
            if now >= measured_from + seconds:
                break
            n += 1
            await ws.send(pack_frame(n, (now - t0) * 1000, frames[(offset + n) % len(frames)]))
            answer = json.loads(await ws.recv())
            if answer.get("type") != "result":
                raise RuntimeError(f"client {offset}: unexpected answer {answer}")
            if now >= measured_from:
                rtts.append((time.perf_counter() - now) * 1000)
                if "replica" in answer:
                    where = f"{answer['replica']}@{answer.get('node', '')[:8]}"
                    placed[where] = placed.get(where, 0) + 1
                    batch = answer.get("batch_mean", batch)
        await ws.send(json.dumps({"type": "stop"}))
        await ws.recv()
    return {"frames": len(rtts), "fps": len(rtts) / seconds, "rtt_ms": rtts, "placed": placed, "batch_mean": batch}


async def run_clients(url: str, frames: list[bytes], n: int, warmup: float, seconds: float) -> list[dict]:
    step = len(frames) // n
    return await asyncio.gather(*(client(url, frames, i * step, warmup, seconds) for i in range(n)))


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def summarise(n: int, results: list[dict], load_before: float) -> dict:
    """One configuration's figures from its clients' results: per-client FPS (mean, slowest), total, p50/p95
    of all round trips, each client's own figures (and, on Ray, the replica that answered its frames)."""
    fps = [r["fps"] for r in results]
    rtts = [x for r in results for x in r["rtt_ms"]]
    row = {
        "clients": n,
        "load_avg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],  # before, after (other processes)
        "fps_per_client_mean": statistics.fmean(fps),
        "fps_per_client_min": min(fps),
        "fps_total": sum(fps),
        "rtt_p50_ms": pct(rtts, 50),
        "rtt_p95_ms": pct(rtts, 95),
        "rtt_p95_ms_worst_client": max(pct(r["rtt_ms"], 95) for r in results),
        "per_client": [
            {
                "fps": r["fps"],
                "rtt_p50_ms": pct(r["rtt_ms"], 50),
                "rtt_p95_ms": pct(r["rtt_ms"], 95),
                **({"placed": r["placed"], "batch_mean": r["batch_mean"]} if r["placed"] else {}),
            }
            for r in results
        ],
    }
    return row


def measure(n: int, frames: list[bytes], args: argparse.Namespace, tmp: Path) -> dict:
    load_before = os.getloadavg()[0]
    port = free_port()
    proc = start_server(port, tmp / f"bench-{n}.db", args.server_args)
    try:
        results = asyncio.run(run_clients(f"ws://127.0.0.1:{port}/ws", frames, n, args.warmup, args.seconds))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    row = summarise(n, results, load_before)
    print(
        f"{n} clients: {row['fps_per_client_mean']:.1f} FPS per client (min {row['fps_per_client_min']:.1f}), "
        f"total {row['fps_total']:.1f}; round trip p50 {row['rtt_p50_ms']:.0f} ms, p95 {row['rtt_p95_ms']:.0f} ms",
        flush=True,
    )
    return row


def combine(rounds: list[dict]) -> dict:
    """The median over rounds of each figure of one configuration, with the rounds kept."""
    keys = ("fps_per_client_mean", "fps_per_client_min", "fps_total", "rtt_p50_ms", "rtt_p95_ms")
    row = {"clients": rounds[0]["clients"], **{k: statistics.median(r[k] for r in rounds) for k in keys}}
    row["load_avg_1min"] = [r["load_avg_1min"][0] for r in rounds]
    target = TARGETS.get(row["clients"])
    if target:
        ok = row["fps_per_client_min"] >= target[0] and (target[1] is None or row["rtt_p95_ms"] <= target[1])
        row["target"] = f">= {target[0]:g} FPS each" + (f", p95 <= {target[1]:g} ms" if target[1] else "")
        row["target_met"] = ok
        row["rounds_meeting_target"] = sum(
            r["fps_per_client_min"] >= target[0] and (target[1] is None or r["rtt_p95_ms"] <= target[1]) for r in rounds
        )
    row["rounds"] = rounds
    return row


def write(rows: list[dict], args: argparse.Namespace, command: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {
        "date": dt.date.today().isoformat(),
        "machine": machine(),
        "clip": str(args.clip.relative_to(DATA)) if args.clip.is_relative_to(DATA) else args.clip.name,
        "frames": "640x480 JPEG (quality 80), centre-cropped 4:3 from the clip",
        "seconds": args.seconds,
        "rounds": args.rounds,
        "warmup_s": args.warmup,
        "server_args": ["--max-fps", "0", *args.server_args],
        "command": command,
    }
    name = f"serve-{args.tag}" if args.tag else "serve"
    (RESULTS / f"{name}.json").write_text(json.dumps({**meta, "rows": rows}, indent=1) + "\n")
    lines = [
        f"Measured {meta['date']} on {meta['machine']}; `{command}`; clip `{meta['clip']}`, {meta['frames']};",
        f"{args.seconds:g} s per configuration after {args.warmup:g} s warm-up, each in its own `poseit serve` "
        f"process (`{' '.join(meta['server_args'])}`), on CPU; medians of {args.rounds} interleaved rounds.",
        "",
        "| clients | FPS per client (mean / min) | total FPS | round trip p50 ms | p95 ms | load avg | target |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        target = r.get("target", "")
        if target:
            target += " (met" if r["target_met"] else " (**not met**"
            target += f"; {r['rounds_meeting_target']}/{len(r['rounds'])} rounds)"
        load = "-".join(f"{x:.0f}" for x in (min(r["load_avg_1min"]), max(r["load_avg_1min"])))
        lines.append(
            f"| {r['clients']} | {r['fps_per_client_mean']:.1f} / {r['fps_per_client_min']:.1f} | {r['fps_total']:.1f} "
            f"| {r['rtt_p50_ms']:.0f} | {r['rtt_p95_ms']:.0f} | {load} | {target} |"
        )
    lines.append("")
    lines.append("load avg: the 1-minute load average before each round (other processes on this machine).")
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    ap.add_argument("--tag", help="results go to serve-TAG.json / .md")
    ap.add_argument("--server-args", nargs=argparse.REMAINDER, default=[], help="extra poseit serve arguments")
    args = ap.parse_args()
    if not args.clip.is_file():
        sys.exit(f"bench_serve: clip not found: {args.clip} (set POSEIT_DATA or --clip)")
    frames = recorded_frames(args.clip)
    command = "python benchmarks/bench_serve.py " + " ".join(sys.argv[1:])
    with tempfile.TemporaryDirectory() as tmp:
        runs: dict[int, list[dict]] = {n: [] for n in args.clients}
        for _ in range(args.rounds):
            for n in args.clients:
                runs[n].append(measure(n, frames, args, Path(tmp)))
        rows = [combine(runs[n]) for n in args.clients]
    write(rows, args, command.strip())


if __name__ == "__main__":
    main()
