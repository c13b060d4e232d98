"""``poseit bench``: time one configuration on a clip (run each configuration in its own process)."""

from __future__ import annotations

import argparse
import json

from poseit.commands.common import add_runtime_args, estimator_options


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="time one configuration on a clip (per-stage ms, end-to-end FPS)")
    p.add_argument("video")
    add_runtime_args(p)
    p.add_argument("--mode", choices=("track", "detect", "whole-frame"), default="track")
    p.add_argument("--max-frames", type=int, default=None)
    p.add_argument("--json", help="also write the result as JSON")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from poseit.evaluate.speed import bench_clip

    result = bench_clip(args.video, args.model, mode=args.mode, max_frames=args.max_frames, **estimator_options(args))
    stages = "  ".join(f"{k} {v:.2f} ms" for k, v in result["stage_ms"].items())
    print(f"{result['model']} {result['mode']} {result['precision']}: {result['fps']:.1f} FPS end to end; {stages}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0
