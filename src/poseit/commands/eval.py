"""``poseit eval``: PCK@0.2 (LSP) or PCKh@0.5 (MPII-format json) of any landmark model, per joint group."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from poseit.commands.common import add_runtime_args, estimator_options


def _default_root(dataset: str) -> str:
    base = Path(os.environ.get("POSEIT_DATA", Path.cwd().parent / "shared" / "data"))
    return str(base / "lsp") if dataset == "lsp" else str(base)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="accuracy of a model on a labelled dataset (PCK@0.2 on LSP, PCKh@0.5 on MPII)")
    p.add_argument("--dataset", choices=("lsp", "mpii", "coco"), default="lsp")
    p.add_argument("--split", choices=("train", "test", "all"), default="test", help="LSP split (default test)")
    p.add_argument("--root", help="dataset folder (LSP: joints.mat + images/; default $POSEIT_DATA/lsp)")
    p.add_argument("--annotations", help="MPII (pytorch-pose json) or COCO keypoints json")
    add_runtime_args(p)
    p.add_argument(
        "--roi",
        choices=("detector", "gt"),
        default="detector",
        help="detector: the BlazePose detector's ROI, as `poseit run` on images (default); "
        "gt: the ground-truth person crop (the seed's protocol)",
    )
    p.add_argument(
        "--detect-pads", help="frame paddings the detector tries in turn, e.g. 0.25,0 (default: the pipeline's)"
    )
    p.add_argument("--flip", action="store_true", help="flip test (heatmap models)")
    p.add_argument("--limit", type=int, default=None, help="first N images only")
    p.add_argument("--json", help="write the result as JSON")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from poseit.errors import PoseItError
    from poseit.evaluate.pck import evaluate_samples, format_table
    from poseit.models import HeatmapLandmarks
    from poseit.pipeline import PoseEstimator
    from poseit.train.datasets import load_dataset

    root = args.root or _default_root(args.dataset)
    samples = load_dataset(args.dataset, root, args.split, args.annotations)[: args.limit]
    if not samples:
        raise PoseItError(f"no samples in dataset {args.dataset} at {root}")
    options = estimator_options(args)
    if args.detect_pads:
        try:
            options["detect_pads"] = tuple(float(v) for v in args.detect_pads.split(","))
        except ValueError:
            raise PoseItError(f"--detect-pads must be comma-separated numbers, got {args.detect_pads!r}") from None
    estimator = PoseEstimator(args.model, mode="detect", **options)
    if isinstance(estimator.landmarks, HeatmapLandmarks):
        # heatmap models have no person-presence output (BlazePose's pose flag): the detector alone decides
        estimator.tracker.min_tracking_score = 0.0
    if args.flip:
        if not hasattr(estimator.landmarks, "flip_test"):
            raise PoseItError(f"--flip works with heatmap models only, not {args.model}")
        estimator.landmarks.flip_test = True
    result = evaluate_samples(samples, estimator, args.roi, progress=not args.quiet)
    result.update(
        model=str(args.model),
        dataset=args.dataset,
        split=args.split,
        roi=args.roi,
        detect_pads=list(estimator.detect_pads),
        flip=args.flip,
        precision=args.precision,
        backend=args.backend,
    )
    print(format_table({Path(str(args.model)).name: result}))
    print(f"{result['images']} images, person missed on {result['missed']}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0
