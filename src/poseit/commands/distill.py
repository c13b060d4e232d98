"""``poseit distill``: Fast Pose Distillation of a small hourglass from BlazePose (the ``train`` extra).

loss = alpha x MSE(student, teacher) + (1 - alpha) x MSE(student, ground truth), over all stacks; the teacher is
BlazePose (heavy by default) run through our engine on OpenVINO, its landmarks mapped to MPII-16 and drawn as
heatmaps by the same codec as the ground truth. Unlabelled images (files, folders, video frames) train the
student with the teacher term alone. Teacher outputs are cached in OUT/teacher.npz.
"""

from __future__ import annotations

import argparse

from poseit.commands.train import add_training_args, labelled_samples, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("distill", help="distil BlazePose into a stacked hourglass model (needs the train extra)")
    add_training_args(p)
    p.add_argument("--teacher", default="blazepose-heavy", help="BlazePose landmark model (default heavy)")
    p.add_argument("--alpha", type=float, default=0.5, help="weight of the teacher term (default 0.5)")
    p.add_argument("--unlabelled", nargs="*", default=[], help="images, folders or videos without labels")
    p.add_argument("--every", type=int, default=15, help="take every Nth video frame (default 15)")
    p.add_argument("--max-per-video", type=int, default=None, help="at most N frames per video")
    p.add_argument("--no-labels", action="store_true", help="ignore the dataset's ground truth (teacher only)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from poseit.train import require_torch

    require_torch()
    from pathlib import Path

    from poseit.errors import PoseItError
    from poseit.train.augment import Augment
    from poseit.train.codec import distill_loss
    from poseit.train.data import HeatmapDataset
    from poseit.train.hourglass import create_model
    from poseit.train.teacher import add_teacher, collect_unlabelled, run_teacher, unlabelled_samples

    if not 0.0 <= args.alpha <= 1.0:
        raise PoseItError(f"--alpha must lie in [0, 1], got {args.alpha}")
    out = Path(args.out)
    labelled = labelled_samples(args) if args.limit != 0 else []
    extra = [str(p) for p in collect_unlabelled(args.unlabelled, out / "frames", args.every, args.max_per_video)]
    teacher = run_teacher(
        [s.image for s in labelled] + extra, out / "teacher.npz", args.teacher, progress=not args.quiet
    )
    labelled = add_teacher(labelled, teacher)
    if args.no_labels:
        for s in labelled:
            s.weight = s.weight * 0
    samples = labelled + unlabelled_samples(extra, teacher)
    if not samples:
        raise PoseItError("no training samples (no labelled data and the teacher found nobody)")
    model = create_model(args.arch)
    dataset = HeatmapDataset(samples, model.config, Augment(), sigma=args.sigma, seed=args.seed)
    settings = settings_from(
        args,
        dataset=args.dataset,
        labelled=len(labelled),
        unlabelled=len(samples) - len(labelled),
        teacher=args.teacher,
        alpha=args.alpha,
    )

    def loss(outputs, batch):
        return distill_loss(outputs, batch, args.alpha)

    from poseit.train.loop import fit

    fit(args.arch, model, dataset, loss, settings, out, args.resume, not args.quiet)
    return 0
