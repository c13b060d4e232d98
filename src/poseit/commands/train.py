"""``poseit train``: train a stacked hourglass model on labelled data (the ``train`` extra)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def add_training_args(p: argparse.ArgumentParser) -> None:
    """Options shared by ``train`` and ``distill``."""
    p.add_argument("--arch", default="hg_s2_b1_mobile", help="hg_s2_b1, hg_s2_b1_mobile or hg_s2_b1_tiny")
    p.add_argument("--dataset", choices=("lsp", "mpii", "coco"), default="lsp", help="labelled data")
    p.add_argument("--root", help="dataset folder (LSP: joints.mat + images/; default $POSEIT_DATA/lsp)")
    p.add_argument("--annotations", help="MPII (pytorch-pose json) or COCO keypoints json")
    p.add_argument("--split", default="train", help="LSP split to train on (default train)")
    p.add_argument("--limit", type=int, default=None, help="first N labelled samples only")
    p.add_argument("--out", required=True, help="checkpoint folder (last.pt)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--lr-drops", default="60,90", help="epochs where the learning rate drops 10x")
    p.add_argument("--sigma", type=float, default=2.0, help="Gaussian sigma at 64x64 heatmaps")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    p.add_argument("--workers", type=int, default=0, help="data loader processes")
    p.add_argument("--no-bf16", action="store_true", help="train in fp32 (default: bf16 where the CPU has it natively)")
    p.add_argument("--max-steps", type=int, default=None, help="stop after N optimiser steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a stacked hourglass model (needs the train extra)")
    add_training_args(p)
    p.set_defaults(func=main)


def default_root(dataset: str) -> str:
    base = Path(os.environ.get("POSEIT_DATA", Path.cwd().parent / "shared" / "data"))
    return str(base / "lsp") if dataset == "lsp" else str(base)


def settings_from(args: argparse.Namespace, **extra):
    from poseit.errors import PoseItError
    from poseit.train.loop import TrainSettings

    try:
        drops = tuple(int(v) for v in args.lr_drops.split(",") if v)
    except ValueError:
        raise PoseItError(f"--lr-drops must be comma-separated epochs, got {args.lr_drops!r}") from None
    return TrainSettings(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        lr_drops=drops,
        threads=args.threads,
        bf16=False if args.no_bf16 else None,
        workers=args.workers,
        max_steps=args.max_steps,
        seed=args.seed,
        extra=extra,
    )


def labelled_samples(args: argparse.Namespace) -> list:
    from poseit.train.datasets import load_dataset

    return load_dataset(args.dataset, args.root or default_root(args.dataset), args.split, args.annotations)[
        : args.limit
    ]


def main(args: argparse.Namespace) -> int:
    from poseit.train import require_torch

    require_torch()
    from poseit.errors import PoseItError
    from poseit.train.augment import Augment
    from poseit.train.codec import supervised_loss
    from poseit.train.data import HeatmapDataset
    from poseit.train.hourglass import create_model
    from poseit.train.loop import fit

    samples = labelled_samples(args)
    if not samples:
        raise PoseItError("no training samples")
    model = create_model(args.arch)
    dataset = HeatmapDataset(samples, model.config, Augment(), sigma=args.sigma, seed=args.seed)
    settings = settings_from(args, dataset=args.dataset, samples=len(samples))
    fit(args.arch, model, dataset, supervised_loss, settings, args.out, args.resume, not args.quiet)
    return 0
