"""``poseit eval``: PCK@0.2 (LSP, LSP Extended) or PCKh@0.5 (MPII) of any landmark model, per joint group.

``--dataset mpii-csv`` scores whole camera frames with several people (MobilePose's csv labels): the person the
engine chose, matched to the nearest labelled person (`poseit.evaluate.person`). ``--dataset mpii-upper`` cuts
upper-body landscape frames from the same images, as TV shows and video calls give them, and scores PCP@0.5 of
the upper-body sticks (`poseit.evaluate.upper_body`).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from poseit.commands.common import add_runtime_args, estimator_options

RETRIES = ("nobody", "border", "always")  # poseit.detect.choose's, without importing OpenCV at startup
CHOICES = ("score", "prominent")


def _default_root(dataset: str) -> str:
    from poseit.evaluate.datasets import default_paths

    if dataset in ("lsp", "lsp-extended"):
        return str(default_paths()[dataset])
    if dataset in ("mpii-csv", "mpii-upper"):
        return str(default_paths()["mpii-images"])
    return str(Path(os.environ.get("POSEIT_DATA", Path.cwd().parent / "shared" / "data")))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="accuracy of a model on a labelled dataset (PCK@0.2 on LSP, PCKh@0.5 on MPII)")
    datasets = ("lsp", "lsp-extended", "mpii-csv", "mpii-upper", "mpii", "coco")
    p.add_argument("--dataset", choices=datasets, default="lsp")
    p.add_argument(
        "--split",
        choices=("train", "dev", "test", "all"),
        default="test",
        help="LSP: train (= dev, 1-1000) / test (1001-2000); LSP Extended: dev (every 5th of 1-5000) / test "
        "(every 5th of 5001-10000); mpii-csv with a folder of csv files: dev / test (default test)",
    )
    p.add_argument(
        "--root",
        help="dataset folder (LSP, LSP Extended: joints.mat + images/; mpii-csv: the images; defaults: "
        "$POSEIT_DATA/lsp, $POSEIT_LSP_EXT, $POSEIT_MPII_IMAGES)",
    )
    p.add_argument(
        "--annotations",
        help="MPII (pytorch-pose json), COCO keypoints json, or for mpii-csv a csv file or the folder holding "
        "train_joints.csv and test_joints.csv (default $POSEIT_MPII_CSV)",
    )
    add_runtime_args(p)
    p.add_argument(
        "--roi",
        choices=("detector", "gt"),
        default="detector",
        help="detector: the BlazePose detector's ROI, as `poseit run` on images (default); "
        "gt: the ground-truth person crop (the seed's protocol)",
    )
    p.add_argument(
        "--detect-pads", help="frame paddings the detector looks at in turn, e.g. 0,0.25 (default: the pipeline's)"
    )
    p.add_argument("--detect-retry", choices=RETRIES, help="when the next padding is tried (default: the pipeline's)")
    p.add_argument("--choose-person", choices=CHOICES, help="which of several people (default: the pipeline's)")
    p.add_argument("--flip", action="store_true", help="flip test (heatmap models)")
    p.add_argument("--limit", type=int, default=None, help="first N images only")
    p.add_argument("--json", help="write the result as JSON")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=main)


def _load(dataset: str, root: str, split: str, annotations: str | None) -> list:
    from poseit.evaluate import datasets as ds
    from poseit.train.datasets import load_dataset

    if dataset == "lsp":
        return ds.load_lsp(root, "train" if split == "dev" else split)
    if dataset == "lsp-extended":
        return ds.load_lsp_extended(root, "dev" if split == "train" else split)
    if dataset in ("mpii-csv", "mpii-upper"):
        path = Path(annotations or ds.default_paths()["mpii-csv"])
        if path.is_dir():
            return ds.mpii_split(path, root, "dev" if split == "train" else split)
        return ds.load_mpii_csv(path, root)  # a csv file: all of it
    return load_dataset(dataset, root, split, annotations)


def main(args: argparse.Namespace) -> int:
    from poseit.errors import PoseItError
    from poseit.evaluate.datasets import group_by_image
    from poseit.evaluate.pck import evaluate_samples, format_table
    from poseit.evaluate.person import evaluate_images
    from poseit.models import HeatmapLandmarks
    from poseit.pipeline import PoseEstimator

    root = args.root or _default_root(args.dataset)
    samples = _load(args.dataset, root, args.split, args.annotations)
    if args.dataset not in ("mpii-csv", "mpii-upper"):  # there --limit counts images or frames, not people
        samples = samples[: args.limit]
    if not samples:
        raise PoseItError(f"no samples in dataset {args.dataset} at {root}")
    options = estimator_options(args)
    if options["seed"] == "auto":  # scores name the detector's ROI: never fall back silently to the whole frame
        options["seed"] = "detector"
    if args.detect_pads:
        try:
            options["detect_pads"] = tuple(float(v) for v in args.detect_pads.split(","))
        except ValueError:
            raise PoseItError(f"--detect-pads must be comma-separated numbers, got {args.detect_pads!r}") from None
    if args.detect_retry:
        options["detect_retry"] = args.detect_retry
    if args.choose_person:
        options["choose_person"] = args.choose_person
    estimator = PoseEstimator(args.model, mode="detect", **options)
    if isinstance(estimator.landmarks, HeatmapLandmarks):
        # heatmap models have no person-presence output (BlazePose's pose flag): the detector alone decides
        estimator.tracker.min_tracking_score = 0.0
    if args.flip:
        if not hasattr(estimator.landmarks, "flip_test"):
            raise PoseItError(f"--flip works with heatmap models only, not {args.model}")
        estimator.landmarks.flip_test = True
    if args.dataset in ("mpii-csv", "mpii-upper") and args.roi != "detector":
        raise PoseItError(f"{args.dataset} scores the person the engine chose: --roi detector only")
    if args.dataset == "mpii-upper":
        from poseit.evaluate.upper_body import evaluate_frames, upper_body_frames

        result = evaluate_frames(upper_body_frames(samples)[: args.limit], estimator, progress=not args.quiet)
    elif args.dataset == "mpii-csv":
        result = evaluate_images(group_by_image(samples)[: args.limit], estimator, progress=not args.quiet)
    else:
        result = evaluate_samples(samples, estimator, args.roi, progress=not args.quiet)
    result.update(
        model=str(args.model),
        dataset=args.dataset,
        split=args.split,
        roi=args.roi,
        detect_pads=list(estimator.detect_pads),
        detect_retry=estimator.strategy.retry,
        choose_person=estimator.strategy.choice,
        flip=args.flip,
        precision=args.precision,
        backend=args.backend,
    )
    if args.dataset == "mpii-upper":
        print(
            f"{Path(str(args.model)).name}: PCP@0.5 {result['pcp']:.1f} (head {result['per_stick']['head']:.1f}, "
            f"torso {result['per_stick'].get('torso', float('nan')):.1f}, upper arms "
            f"{result['per_stick']['upper_arm']:.1f}, lower arms {result['per_stick']['lower_arm']:.1f}), "
            f"PCKh@0.5 {result['pckh']:.1f} on {result['frames']} upper-body frames; chose nobody on "
            f"{result['nobody']:.1f}%, the frame's own person on {result['target']:.1f}%"
        )
    elif args.dataset == "mpii-csv":
        print(
            f"{Path(str(args.model)).name}: PCKh@0.5 {result['pckh']:.1f}, PCK@0.2 {result['pck']:.1f} on "
            f"{result['images']} images ({result['people']} people); chose nobody on {result['nobody']:.1f}%, "
            f"somebody unlabelled on {result['unlabelled']:.1f}%, the main person on {result['main']:.1f}%"
        )
    else:
        print(format_table({Path(str(args.model)).name: result}))
        print(f"{result['images']} images, person missed on {result['missed']}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0
