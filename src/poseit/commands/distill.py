"""``poseit distill``: Fast Pose Distillation of a small hourglass from BlazePose (the ``train`` extra).

loss = alpha x MSE(student, teacher) + (1 - alpha) x MSE(student, ground truth), over all stacks; the teacher is
BlazePose (heavy by default) run through our engine on OpenVINO, its landmarks mapped to MPII-16 and drawn as
heatmaps by the same codec as the ground truth. Unlabelled images (files, folders, video frames) train the
student with the teacher term alone. Teacher outputs (and the detector's ROI per image) are cached in
OUT/teacher.npz (or ``--teacher-cache``). With ``--steps`` the run is planned in optimiser steps (cosine
schedule, wall-time checkpoints, ``--input-size`` and ``--init`` for progressive resolution).
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
    p.add_argument("--lspe", help="LSP Extended folder (joints.mat + images/) added to the labelled data")
    p.add_argument("--dedup-against", help="LSP folder: its test images' near-duplicates leave --lspe (default --root)")
    p.add_argument("--lspe-skip", help="leave these LSP Extended images out, START:STOP:STEP (0-based)")
    p.add_argument("--frames-dir", help="where video frames are extracted (default OUT/frames)")
    p.add_argument("--teacher-cache", help="teacher outputs .npz (default OUT/teacher.npz)")
    p.add_argument("--teacher-only", action="store_true", help="compute the teacher cache and stop")
    p.add_argument(
        "--cached-teacher",
        action="store_true",
        help="use only the teacher outputs already cached (images it has not seen train on ground truth alone)",
    )
    p.add_argument("--steps", type=int, default=None, help="plan the run in optimiser steps (instead of epochs)")
    p.add_argument("--start-step", type=int, default=0, help="the schedule's step to start at (with --init)")
    p.add_argument("--warmup", type=int, default=200, help="linear warm-up steps (--steps runs)")
    p.add_argument("--input-size", type=int, default=None, help="train at this resolution (default the arch's)")
    p.add_argument("--init", help="start from these weights (checkpoint or weights_fp16.pt, any resolution)")
    p.add_argument("--fg-weight", type=float, default=0.0, help="heatmap pixels weigh 1 + this x the target")
    p.add_argument("--roi-prob", type=float, default=0.8, help="share of crops taken at the detector's ROI")
    p.add_argument("--checkpoint-minutes", type=float, default=5.0, help="wall time between checkpoints")
    p.add_argument(
        "--keep-side-disputes",
        action="store_true",
        help="keep limbs whose left/right the label and the teacher disagree on (default: neither teaches them)",
    )
    p.add_argument("--pid-file", help="write this process's id here (for kill -STOP / -CONT)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from poseit.train import require_torch

    require_torch()
    import os
    from pathlib import Path

    from poseit.errors import PoseItError
    from poseit.train.augment import Augment
    from poseit.train.codec import distill_loss
    from poseit.train.data import HeatmapDataset
    from poseit.train.hourglass import create_model
    from poseit.train.teacher import add_teacher, collect_unlabelled, run_teacher, unlabelled_samples

    if not 0.0 <= args.alpha <= 1.0:
        raise PoseItError(f"--alpha must lie in [0, 1], got {args.alpha}")
    if args.pid_file:
        Path(args.pid_file).write_text(f"{os.getpid()}\n")
    out = Path(args.out)
    labelled = labelled_samples(args) if args.limit != 0 else []
    extended: list = []
    if args.lspe:
        from poseit.commands.train import default_root
        from poseit.train.datasets import load_lsp, load_lsp_extended

        test = [s.image for s in load_lsp(args.dedup_against or args.root or default_root("lsp"), "test")]
        skip: set[int] = set()
        if args.lspe_skip:
            try:
                skip = set(range(*(int(v) for v in args.lspe_skip.split(":"))))
            except (TypeError, ValueError):
                raise PoseItError(f"--lspe-skip must be START:STOP:STEP, got {args.lspe_skip!r}") from None
        extended = [s for s in load_lsp_extended(args.lspe, exclude_like=test) if s.meta["index"] - 1 not in skip]
        dropped = extended[0].meta["dropped_near_duplicates"] if extended else 0
        print(f"LSP Extended: {len(extended)} images, {dropped} LSP test near-duplicates dropped, {len(skip)} held out")
    frames = Path(args.frames_dir) if args.frames_dir else out / "frames"
    extra = [str(p) for p in collect_unlabelled(args.unlabelled, frames, args.every, args.max_per_video)]
    cache = Path(args.teacher_cache) if args.teacher_cache else out / "teacher.npz"
    # the teacher's order: the dataset, the video frames, then LSP Extended (the longest, done last)
    order = [s.image for s in labelled] + extra + [s.image for s in extended]
    teacher = run_teacher(order, cache, args.teacher, progress=not args.quiet, compute=not args.cached_teacher)
    if args.teacher_only:
        print(f"teacher: {len(teacher)} of {len(order)} images with a person -> {cache}")
        return 0
    labelled += extended
    labelled = add_teacher(labelled, teacher, side_disputes=not args.keep_side_disputes)
    disputes = sum(s.meta.get("side_disputes", 0) for s in labelled)
    if disputes:
        print(f"left/right disputes between labels and teacher: {disputes} limb chains left untaught")
    if args.no_labels:
        for s in labelled:
            s.weight = s.weight * 0
    samples = labelled + unlabelled_samples(extra, teacher)
    if not samples:
        raise PoseItError("no training samples (no labelled data and the teacher found nobody)")
    model = create_model(args.arch, **({"input_size": args.input_size} if args.input_size else {}))
    if args.init and not args.resume:
        from poseit.train.loop import load_weights

        load_weights(model, args.init)
    dataset = HeatmapDataset(samples, model.config, Augment(), sigma=args.sigma, seed=args.seed, roi_prob=args.roi_prob)
    info = dict(
        dataset=args.dataset,
        labelled=len(labelled),
        unlabelled=len(samples) - len(labelled),
        teacher=args.teacher,
        alpha=args.alpha,
        lspe=bool(args.lspe),
        input_size=model.config.input_size,
        fg_weight=args.fg_weight,
        init=args.init,
        side_disputes_dropped=not args.keep_side_disputes,
    )

    def loss(outputs, batch):
        return distill_loss(outputs, batch, args.alpha, args.fg_weight)

    print(f"{len(samples)} samples ({len(labelled)} labelled) at {model.config.input_size}x{model.config.input_size}")
    if args.steps:
        from poseit.train.loop import StepSettings, fit_steps

        steps = StepSettings(
            steps=args.steps,
            batch_size=args.batch_size,
            lr=args.lr,
            warmup=args.warmup,
            threads=args.threads,
            bf16=False if args.no_bf16 else None,
            checkpoint_minutes=args.checkpoint_minutes,
            seed=args.seed,
            extra=info,
        )
        fit_steps(args.arch, model, dataset, loss, steps, out, args.resume, args.start_step)
        return 0
    from poseit.train.loop import fit

    fit(args.arch, model, dataset, loss, settings_from(args, **info), out, args.resume, not args.quiet)
    return 0
