"""Exercise recognition on Penn Action's test split with the packaged weights (no retraining): accuracy over
all 15 classes and over the fitness subset, per-class accuracy and the confusion matrix.

    python benchmarks/coach_recognition.py [--weights PATH] [--out benchmarks/results/coach_recognition.json]

Retrain the weights (train split only) with ``python -m poseit.coach.train_recognizer``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from coach_common import RESULTS, data_dir, write_results
from poseit.coach.penn import load_all
from poseit.coach.recognize import Recognizer, clip_features
from poseit.coach.train_recognizer import evaluate, print_report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", type=Path, default=None, help="recogniser JSON (default: the packaged one)")
    ap.add_argument("--out", type=Path, default=RESULTS / "coach_recognition.json")
    args = ap.parse_args()
    root = data_dir() / "penn-action"
    if not (root / "index.csv").is_file():
        print(f"coach_recognition: no Penn Action data at {root} (set POSEIT_DATA)", file=sys.stderr)
        return 1
    t0 = time.time()
    model = Recognizer.load(args.weights)
    index = {c: i for i, c in enumerate(model.classes)}
    test = [(c, s) for c, s in load_all(root, occluded_score=0.1) if not c.train]
    x = np.array([clip_features(s) for _, s in test])
    y = np.array([index[c.action] for c, _ in test])
    result = evaluate(model, x, y)
    result["weights"] = str(args.weights or "packaged poseit/coach/models/recognizer.json")
    result["seconds"] = round(time.time() - t0, 1)
    print_report(result)
    write_results(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
