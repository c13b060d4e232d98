"""Rep counting through the live web app: every labelled clip streamed to a real ``poseit serve`` over its
WebSocket at the clip's own frame rate, the way the page streams a camera (one frame in flight; when an answer
comes, the newest frame due is sent and older ones are skipped), beside ``poseit analyze``'s count on the same
clip (`coach_sets.py`'s offline count, recomputed here from the same cache).

    POSEIT_WORKOUTS=DIR python benchmarks/coach_live.py --cache .cache/coach [--sets ...] [--split dev|test|all]
        [--speed 1.0] [--port 8765]

``--speed 2`` plays clips twice as fast (a slower server then drops more frames). Results:
benchmarks/results/coach_live_<split>.json: per clip the live count, frames sent/answered/dropped, the offline
count, and per set/split how often live = offline and live is exact.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

import labelled_sets
from coach_common import RESULTS, ROOT, by_set_and_split, run_meta, sequence_for, write_results
from coach_sets import summarise
from poseit.coach.analysis import analyze
from poseit.serve.client import LiveClient

PAGE_MAX_SIDE = 640  # live.js: frames are downscaled to this long side before JPEG encoding
ERRORS_SHOWN = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(port: int, model: str):
    """A real ``poseit serve`` on loopback (history in a throwaway database)."""
    exe = Path(sys.executable).with_name("poseit")
    db = Path(tempfile.gettempdir()) / f"poseit-live-bench-{port}.db"
    cmd = [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--model", model, "--db", str(db)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if proc.poll() is not None:
                raise SystemExit(f"poseit serve exited: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.5)
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)


def stream(url: str, video: Path, exercise: str, speed: float) -> dict:
    """Stream one clip in real time (``speed`` x) and return the session's summary and frame counts."""
    cap = cv2.VideoCapture(str(video))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    frames = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        scale = min(1.0, PAGE_MAX_SIDE / max(image.shape[:2]))  # the page downscales, then encodes at 0.8
        if scale < 1:
            size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        frames.append(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    sent = answered = dropped = 0
    errors: list[str] = []
    with LiveClient(url) as client:
        client.start(exercise)
        max_fps = float(client.hello.get("limits", client.hello).get("max_fps") or 0)
        gap = 1.0 / max_fps if max_fps else 0.0  # the page sends at most max_fps frames a second
        start, last, last_sent = time.perf_counter(), -1, -1e9
        while True:
            now = time.perf_counter()
            due = int((now - start) * fps * speed)
            if due >= len(frames):
                break
            if due <= last or now - last_sent < gap:  # no new frame yet, or too soon after the last one
                wait_frame = (last + 1) / (fps * speed) - (now - start)
                time.sleep(max(0.0, wait_frame, last_sent + gap - now))
                continue
            last_sent = time.perf_counter()
            answer = client.frame(frames[due], due / fps * 1000.0)
            sent += 1
            if answer.get("type") == "result":
                answered += 1
            elif answer.get("code") == "dropped":
                dropped += 1
            elif len(errors) < ERRORS_SHOWN:
                errors.append(answer.get("message", str(answer)))
            last = due
        summary = client.stop()
    return {
        "summary": summary,
        "frames": len(frames),
        "sent": sent,
        "answered": answered,
        "dropped": dropped,
        "errors": errors,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="+", default=list(labelled_sets.SETS), choices=labelled_sets.SETS)
    ap.add_argument("--split", default="dev", choices=("dev", "test", "all"))
    ap.add_argument("--cache", type=Path, default=None, help="keypoint cache of the offline counts")
    ap.add_argument("--model", default="blazepose-full")
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    clips = labelled_sets.clips(args.sets, args.split)
    if not clips:
        print(f"coach_live: no labelled clips found{labelled_sets.workouts_env_hint()}", file=sys.stderr)
        return 1
    rows, t0 = [], time.time()
    print(f"{'set':14s} {'split':5s} {'clip':58s} true live offline sent/frames")
    with server(args.port or free_port(), args.model) as url:
        for clip in clips:
            live = stream(url, clip.video, clip.exercise, args.speed)
            offline = analyze(sequence_for(clip.video, args.model, args.cache), clip.exercise)
            s = live["summary"]
            row = {
                "set": clip.set,
                "split": clip.split,
                "key": clip.key,
                "exercise": clip.exercise,
                "true": clip.reps,
                "reps": int(s.get("reps", 0)),
                "uncertain": bool(s.get("uncertain", False)),
                "confidence": s.get("confidence"),
                "offline": len(offline.reps),
                "frames": live["frames"],
                "sent": live["sent"],
                "answered": live["answered"],
                "dropped": live["dropped"],
                "errors": live["errors"],
            }
            rows.append(row)
            mark = "" if row["reps"] == row["offline"] else "  live != offline"
            print(
                f"{clip.set:14s} {clip.split:5s} {clip.key:58s} {clip.reps:4d} {row['reps']:4d} {row['offline']:7d} "
                f"{row['sent']}/{row['frames']}{mark}",
                flush=True,
            )
    summary = {}
    for name, group in by_set_and_split(rows, args.sets):
        summary[name] = {
            "live": summarise(group),
            "offline": summarise(group, "offline"),
            "live_equals_offline": sum(r["reps"] == r["offline"] for r in group),
            "live_within_one_of_offline": sum(abs(r["reps"] - r["offline"]) <= 1 for r in group),
            "frames_sent_share": round(sum(r["sent"] for r in group) / sum(r["frames"] for r in group), 3),
        }
    for name, s in summary.items():
        n = s["live"]["clips"]
        print(
            f"{name:22s} live {s['live']['exact']}/{n} exact (off>1 {s['live']['off_by_more_than_one']}), offline "
            f"{s['offline']['exact']}/{n}; live = offline on {s['live_equals_offline']}/{n}, frames sent "
            f"{s['frames_sent_share']:.0%}"
        )
    meta = run_meta("coach_live.py", t0, sys.argv[1:], model=args.model, speed=args.speed)
    write_results(
        args.out or RESULTS / f"coach_live_{args.split}.json", {"meta": meta, "summary": summary, "clips": rows}
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
