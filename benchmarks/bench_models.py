"""Landmark-model latency alone, without the pipeline around it: each model in its own process, one real frame
and a fixed ROI, median milliseconds of the network (`backend.infer`) and of the whole model call (crop,
normalisation, network, decoding). Read beside `bench_pipeline.py`: it tells how much of a model's end-to-end
frame time is the network, and what is shared by every model (decoding the video, the detector, tracking).

    python benchmarks/bench_models.py [--models hg-tiny blazepose-full ...] [--repeats 300]

Writes benchmarks/results/models.json and prints a table with ratios to blazepose-full.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

from bench_pipeline import DEFAULT_CLIP, cpu_name

ROOT = Path(__file__).resolve().parents[1]
MODELS = ["blazepose-lite", "blazepose-full", "blazepose-heavy", "hg-tiny", "hg-tiny-fp16", "hg-mobile"]
BASELINE = "blazepose-full"


def measure(model: str, clip: Path, repeats: int) -> dict:
    """In this process: median ms of the network alone and of the whole model call on one frame of ``clip``."""
    from poseit.detect.roi import Roi
    from poseit.io.sources import open_source
    from poseit.models import create_landmark_model

    frame = None
    for read in islice(open_source(clip), 100):  # the 100th frame (or the last): past the clip's title card
        frame = read.image
    if frame is None:
        raise SystemExit(f"cannot read {clip}")
    h, w = frame.shape[:2]
    roi = Roi(w / 2, h / 2, 0.6 * h, 0.6 * h, 0.3)
    landmarks = create_landmark_model(model)
    tensor, _ = landmarks.preprocess(frame, roi)

    def median_ms(call) -> float:
        for _ in range(20):
            call()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        return statistics.median(times) * 1e3

    return {
        "model": model,
        "network_ms": median_ms(lambda: landmarks.backend.infer(tensor)),
        "model_call_ms": median_ms(lambda: landmarks(frame, roi)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=MODELS)
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    ap.add_argument("--repeats", type=int, default=300)
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure this model in this process
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "models.json")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.clip, args.repeats)))
        return 0
    rows = []
    for model in args.models:
        cmd = [sys.executable, __file__, "--one", model, "--clip", str(args.clip), "--repeats", str(args.repeats)]
        rows.append(json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout))
    base = next((r for r in rows if r["model"] == BASELINE), None)
    lines = [
        f"Measured {dt.date.today()} on {cpu_name()}; one frame of `{args.clip.name}`, fixed ROI, "
        f"{args.repeats} calls, each model in its own process; medians.",
        "",
        f"| model | network ms | model call ms | network x {BASELINE} | model call x {BASELINE} |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        net = base["network_ms"] / r["network_ms"] if base else float("nan")
        call = base["model_call_ms"] / r["model_call_ms"] if base else float("nan")
        lines.append(f"| {r['model']} | {r['network_ms']:.2f} | {r['model_call_ms']:.2f} | {net:.2f} | {call:.2f} |")
    print("\n".join(lines))
    args.out.write_text(json.dumps({"date": str(dt.date.today()), "cpu": cpu_name(), "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
