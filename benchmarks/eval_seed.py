"""What a track starts from, the detector's ROI or the whole frame (`PoseEstimator(seed=...)`; the whole frame is
what a fresh install without the pulled detector gets), on the 11 labelled clips of ../shared: exact rep counts
with the labelled exercise (the coach on each model's own signals) and how far apart the two tracks' joints are
(median over frames where both found the person, in body heights).

    python benchmarks/eval_seed.py [--models blazepose-full hg-mobile hg-tiny]

Writes benchmarks/results/eval_seed.json (keeping the rows of models not run this time).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import platform

import numpy as np

from coach_common import RESULTS, data_dir, write_results
from poseit.coach.analysis import analyze
from poseit.coach.sequence import PoseSequence

SEEDS = ("detector", "whole-frame")


def joint_gap(a: PoseSequence, b: PoseSequence) -> float:
    """Median joint distance between two sequences of one clip, in body heights, over frames where both see
    the person."""
    both = np.isfinite(a.xy).all(axis=(1, 2)) & np.isfinite(b.xy).all(axis=(1, 2))
    if not both.any():
        return float("nan")
    xa, xb = a.xy[both], b.xy[both]
    height = np.maximum(np.ptp(xa[..., 1], axis=1), 1.0)
    return float(np.median(np.median(np.linalg.norm(xa - xb, axis=2), axis=1) / height))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["blazepose-full", "hg-mobile", "hg-tiny"])
    args = ap.parse_args()
    root = data_dir() / "exercise-videos"
    with open(root / "labels.csv", newline="", encoding="utf-8") as f:
        labels = list(csv.DictReader(f))
    out = RESULTS / "eval_seed.json"
    result: dict = json.loads(out.read_text()) if out.is_file() else {"models": {}}  # other models' rows stay
    result.update(date=datetime.date.today().isoformat(), machine=platform.processor() or "?")
    for model in args.models:
        rows, exact = [], dict.fromkeys(SEEDS, 0)
        for label in labels:
            seqs = {s: PoseSequence.from_video(root / label["file"], model, seed=s) for s in SEEDS}
            reps = {s: len(analyze(seq, label["exercise"]).reps) for s, seq in seqs.items()}
            true = int(label["reps"])
            for s in SEEDS:
                exact[s] += reps[s] == true
            gap = joint_gap(seqs["detector"], seqs["whole-frame"])
            rows.append({"clip": label["file"], "true": true, **reps, "joint_gap": gap})
            print(f"{model:15s} {label['file']:58s} true {true:3d}  detector {reps['detector']:3d}  "
                  f"whole-frame {reps['whole-frame']:3d}  joint gap {gap:.3f}", flush=True)  # fmt: skip
        print(f"{model}: exact {exact['detector']}/{len(labels)} from the detector, "
              f"{exact['whole-frame']}/{len(labels)} from the whole frame")  # fmt: skip
        result["models"][model] = {"exact": exact, "clips": rows}
    write_results(out, result)


if __name__ == "__main__":
    main()
