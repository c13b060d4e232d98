"""Landmark-model latency alone, without the pipeline around it: each model in its own process, one real frame
and a fixed ROI, median milliseconds of the network (`backend.infer`) and of the whole model call (crop,
normalisation, network, decoding). Read beside `bench_pipeline.py`: it tells how much of a model's end-to-end
frame time is the network, and what is shared by every model (decoding the video, the detector, tracking).
Beside the times, the network's work: multiply-adds per crop of its convolutions and matrix products, counted
from the model file's shapes (the same count for FP32, FP16 and INT8 files of one network).

    python benchmarks/bench_models.py [--models hg-tiny blazepose-full ...] [--rounds 3] [--repeats 300] [--profile]

Each round runs every model once, in turn (interleaved, as bench_pipeline.py); the table gives the medians over
rounds, so a neighbour's burst on a shared machine moves one round, not one model.

``--profile`` adds OpenVINO's per-layer counters (PERF_COUNT), summed by layer type and kernel: where the
network's time goes.

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

import numpy as np

from bench_pipeline import DEFAULT_CLIP, cpu_name

ROOT = Path(__file__).resolve().parents[1]
MODELS = ["blazepose-lite", "blazepose-full", "blazepose-heavy", "hg-tiny", "hg-tiny-fp16", "hg-mobile"]
BASELINE = "blazepose-full"


def multiply_adds(path: Path) -> int:
    """Multiply-adds of one inference: every Convolution, GroupConvolution and MatMul of the model file."""
    import openvino as ov

    total = 0
    for op in ov.Core().read_model(str(path)).get_ordered_ops():
        kind = op.get_type_name()
        if kind not in ("Convolution", "GroupConvolution", "MatMul"):
            continue
        out = op.output(0).get_partial_shape().to_shape()
        weights = op.input_value(1).get_partial_shape().to_shape()
        if kind == "Convolution":  # OIHW: each output value sums Cin x kh x kw products
            per_output = int(np.prod(weights[1:]))
        elif kind == "GroupConvolution":  # GOIHW
            per_output = int(np.prod(weights[2:]))
        else:  # the reduced dimension of A x B (B may be transposed)
            per_output = int(weights[-1] if op.get_attributes().get("transpose_b") else weights[-2])
        total += int(np.prod(out)) * per_output
    return total


def layer_profile(path: Path, tensor: np.ndarray, repeats: int) -> list[dict]:
    """OpenVINO's per-layer times of one inference of ``tensor`` (f32 hint, latency, as the engine compiles),
    summed by (layer type, kernel), largest first; from the last of ``repeats`` runs."""
    import openvino as ov
    import openvino.properties.hint as hints

    options = {
        hints.inference_precision: ov.Type.f32,
        hints.performance_mode: hints.PerformanceMode.LATENCY,
        "PERF_COUNT": True,
    }
    compiled = ov.Core().compile_model(str(path), "CPU", options)
    request = compiled.create_infer_request()
    for _ in range(repeats):
        request.infer({0: tensor})
    sums: dict[tuple[str, str], list[float]] = {}
    for layer in request.profiling_info:
        entry = sums.setdefault((layer.node_type, layer.exec_type), [0.0, 0])
        entry[0] += layer.real_time.total_seconds() * 1e6
        entry[1] += 1
    rows = [{"layer": k[0], "kernel": k[1], "us": v[0], "count": v[1]} for k, v in sums.items() if v[0] > 0]
    return sorted(rows, key=lambda r: -r["us"])


def measure(model: str, clip: Path, repeats: int, profile: bool = False) -> dict:
    """In this process: median ms of the network alone and of the whole model call on one frame of ``clip``."""
    from poseit.detect.roi import Roi
    from poseit.io.sources import open_source
    from poseit.models import create_landmark_model, model_path

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

    result = {
        "model": model,
        "mmac": multiply_adds(model_path(model)) / 1e6,
        "network_ms": median_ms(lambda: landmarks.backend.infer(tensor)),
        "model_call_ms": median_ms(lambda: landmarks(frame, roi)),
    }
    if profile:
        result["layers"] = layer_profile(model_path(model), tensor, repeats)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=MODELS)
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    ap.add_argument("--repeats", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="also print per-layer times by layer type and kernel")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure this model in this process
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "models.json")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.clip, args.repeats, args.profile)))
        return 0
    runs: dict[str, list[dict]] = {model: [] for model in args.models}
    for r in range(args.rounds):
        for model in args.models:
            cmd = [sys.executable, __file__, "--one", model, "--clip", str(args.clip), "--repeats", str(args.repeats)]
            cmd += ["--profile"] if args.profile and r == args.rounds - 1 else []
            runs[model].append(json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout))
    rows = []
    for results in runs.values():
        row = {**results[-1], "rounds": len(results)}
        for key in ("network_ms", "model_call_ms"):
            row[f"{key}_runs"] = [res[key] for res in results]
            row[key] = statistics.median(row[f"{key}_runs"])
        rows.append(row)
    base = next((r for r in rows if r["model"] == BASELINE), None)
    lines = [
        f"Measured {dt.date.today()} on {cpu_name()}; one frame of `{args.clip.name}`, fixed ROI, "
        f"{args.repeats} calls, each model in its own process, {args.rounds} interleaved rounds; medians.",
        "",
        f"| model | multiply-adds (M) | network ms | model call ms | network x {BASELINE} | model call x {BASELINE} |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        net = base["network_ms"] / r["network_ms"] if base else float("nan")
        call = base["model_call_ms"] / r["model_call_ms"] if base else float("nan")
        times = f"{r['network_ms']:.2f} | {r['model_call_ms']:.2f} | {net:.2f} | {call:.2f}"
        lines.append(f"| {r['model']} | {r['mmac']:.0f} | {times} |")
    for r in rows if args.profile else []:
        total = sum(layer["us"] for layer in r["layers"])
        lines += ["", f"{r['model']}: {total:.0f} us in OpenVINO's layers; largest layer types", ""]
        lines += ["| layer | kernel | count | us | share |", "|---|---|---:|---:|---:|"]
        for layer in r["layers"][:8]:
            cost = f"{layer['count']} | {layer['us']:.0f} | {layer['us'] / total:.0%}"
            lines.append(f"| {layer['layer']} | {layer['kernel']} | {cost} |")
    print("\n".join(lines))
    summary = {"date": str(dt.date.today()), "cpu": cpu_name(), "rounds": args.rounds, "rows": rows}
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
