"""Speed and landmark agreement of Pose-It! against MediaPipe's own `mp.solutions.pose`, same clip, same run.

Every configuration runs in its own process (`poseit bench` for ours, benchmarks/mediapipe_peer.py in the
peer environment for MediaPipe), in interleaved rounds; the table reports medians over rounds and ratios to
MediaPipe complexity 1 measured in the same run. Agreement: median pixel distance between our BlazePose-full
landmarks and MediaPipe's (complexity 1) on joints MediaPipe sees (visibility > 0.5), on frames where both
found the person, with smoothing on in both and off in both.

    make peer                                  # once: MediaPipe 0.10.21 in .venv-mediapipe
    .venv/bin/python benchmarks/bench_pipeline.py [--clip CLIP] [--rounds 3]

Writes benchmarks/results/pipeline.json and pipeline.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("POSEIT_DATA", ROOT.parent / "shared" / "data"))
DEFAULT_CLIP = DATA / "exercise-videos" / "Tayyab-Abdullah+PushUp-Counter" / "pushup2.mp4"
PEER_PY = ROOT / ".venv-mediapipe" / "bin" / "python"
OURS = [  # (label, poseit bench arguments)
    ("Pose-It! blazepose-lite track f32", ["--model", "blazepose-lite"]),
    ("Pose-It! blazepose-full track f32", ["--model", "blazepose-full"]),
    ("Pose-It! blazepose-heavy track f32", ["--model", "blazepose-heavy"]),
    ("Pose-It! blazepose-full track bf16", ["--model", "blazepose-full", "--precision", "bf16"]),
    ("Pose-It! blazepose-full detect f32", ["--model", "blazepose-full", "--mode", "detect"]),
    ("Pose-It! hg-tiny INT8 track", ["--model", "hg-tiny"]),  # the shipped students, behind the same detector
    ("Pose-It! hg-tiny-fp16 track", ["--model", "hg-tiny-fp16"]),
    ("Pose-It! hg-mobile INT8 track", ["--model", "hg-mobile"]),
    ("Pose-It! hg-mobile-fp16 track", ["--model", "hg-mobile-fp16"]),
]
OURS_BASELINE = "Pose-It! blazepose-full track f32"  # the hourglass issue's yardstick: hg-tiny INT8 >= 2x this
PEERS = [(f"MediaPipe complexity {c} (tracking)", c) for c in (0, 1, 2)]
BASELINE = "MediaPipe complexity 1 (tracking)"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_ours(clip: Path, args: list[str], tmp: Path) -> dict:
    out = tmp / "ours.json"
    cmd = [sys.executable, "-m", "poseit.cli", "bench", str(clip), *args, "--json", str(out)]
    subprocess.run(cmd, check=True, capture_output=True)
    return json.loads(out.read_text())


def run_peer(clip: Path, complexity: int, tmp: Path, smooth: bool = True) -> tuple[dict, list[dict]]:
    out = tmp / f"mp{complexity}.jsonl"
    cmd = [str(PEER_PY), str(ROOT / "benchmarks" / "mediapipe_peer.py"), str(clip), "--complexity", str(complexity)]
    cmd += ["--out", str(out)] + ([] if smooth else ["--no-smooth"])
    subprocess.run(cmd, check=True, capture_output=True)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    return lines[-1], lines[:-1]


def agreement(clip: Path, tmp: Path, smooth: bool) -> dict:
    """Median px distance between our BlazePose full and MediaPipe complexity 1 on the same frames."""
    ours_path = tmp / "ours.jsonl"
    cmd = [sys.executable, "-m", "poseit.cli", "run", str(clip), "--model", "blazepose-full"]
    cmd += ["--out-json", str(ours_path), "--quiet"] + ([] if smooth else ["--no-smooth"])
    subprocess.run(cmd, check=True, capture_output=True)
    ours = [json.loads(line) for line in ours_path.read_text().splitlines()]
    _, peer = run_peer(clip, 1, tmp, smooth)
    dists, both, only_ours, only_peer = [], 0, 0, 0
    for o, p in zip(ours, peer, strict=True):
        if o["poses"] and p["keypoints"]:
            both += 1
            a = np.array([[np.nan if v is None else v for v in kp[:2]] for kp in o["poses"][0]["keypoints"]])
            b = np.array(p["keypoints"])
            seen = b[:, 2] > 0.5
            dists.extend(np.linalg.norm(a[seen] - b[seen, :2], axis=1).tolist())
        elif o["poses"]:
            only_ours += 1
        elif p["keypoints"]:
            only_peer += 1
    d = np.array(dists)
    return {
        "smooth": smooth,
        "frames_both": both,
        "frames_only_ours": only_ours,
        "frames_only_mediapipe": only_peer,
        "median_px": float(np.median(d)),
        "p90_px": float(np.percentile(d, 90)),
        "mean_px": float(d.mean()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    if not args.clip.is_file():
        sys.exit(f"clip not found: {args.clip} (set POSEIT_DATA)")
    if not PEER_PY.exists():
        sys.exit("MediaPipe peer environment missing: run `make peer`")

    fps: dict[str, list[float]] = {}
    stages: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for r in range(args.rounds):
            print(f"round {r + 1}/{args.rounds}", flush=True)
            for label, bench_args in OURS:
                res = run_ours(args.clip, bench_args, tmp)
                fps.setdefault(label, []).append(res["fps"])
                stages.setdefault(label, []).append(res["stage_ms"])
                print(f"  {label}: {res['fps']:.1f} FPS", flush=True)
            for label, complexity in PEERS:
                summary, _ = run_peer(args.clip, complexity, tmp)
                fps.setdefault(label, []).append(summary["fps"])
                stages.setdefault(label, []).append({"decode": summary["decode_ms"], "process": summary["process_ms"]})
                print(f"  {label}: {summary['fps']:.1f} FPS", flush=True)
        agree = [agreement(args.clip, tmp, smooth) for smooth in (True, False)]

    base = statistics.median(fps[BASELINE])
    ours_base = statistics.median(fps[OURS_BASELINE])
    rows = []
    for label in [lbl for lbl, _ in OURS] + [lbl for lbl, _ in PEERS]:
        med = statistics.median(fps[label])
        stage_med = {k: statistics.median(s[k] for s in stages[label]) for k in stages[label][0]}
        rows.append(
            {
                "config": label,
                "fps_median": med,
                "fps_runs": fps[label],
                "ratio_to_baseline": med / base,
                "ratio_to_blazepose_full": med / ours_base,
                "stage_ms_median": stage_med,
            }
        )
    result = {
        "date": dt.date.today().isoformat(),
        "machine": f"{cpu_name()}, {os.cpu_count()} cores",
        "clip": str(args.clip.relative_to(DATA)) if args.clip.is_relative_to(DATA) else str(args.clip),
        "rounds": args.rounds,
        "baseline": BASELINE,
        "rows": rows,
        "agreement_full_vs_mediapipe_c1": agree,
        "command": f"python benchmarks/bench_pipeline.py --rounds {args.rounds}",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "pipeline.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        f"Measured {result['date']} on {result['machine']}; clip `{result['clip']}`; "
        f"{args.rounds} interleaved rounds, each configuration in its own process; medians.",
        "",
        "| configuration | end-to-end FPS | x MediaPipe c1 | x blazepose-full | stage medians (ms) |",
        "|---|---:|---:|---:|---|",
    ]
    for row in rows:
        st = ", ".join(f"{k} {v:.1f}" for k, v in row["stage_ms_median"].items())
        ratios = f"{row['ratio_to_baseline']:.2f} | {row['ratio_to_blazepose_full']:.2f}"
        lines.append(f"| {row['config']} | {row['fps_median']:.1f} | {ratios} | {st} |")
    lines += [
        "",
        "| landmark agreement, BlazePose full vs MediaPipe c1 | frames (both found) | median px | p90 px |",
        "|---|---:|---:|---:|",
    ]
    for a in agree:
        state = "on" if a["smooth"] else "off"
        lines.append(f"| smoothing {state} in both | {a['frames_both']} | {a['median_px']:.2f} | {a['p90_px']:.2f} |")
    (args.out / "pipeline.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
