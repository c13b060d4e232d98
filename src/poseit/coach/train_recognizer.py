"""Train the exercise recogniser on Penn Action's train split and evaluate it on its test split.

    python -m poseit.coach.train_recognizer [--data ../shared/data/penn-action]
        [--out src/poseit/coach/models/recognizer.json] [--results benchmarks/results/coach_recognition.json]

Numpy only (scipy just reads the .mat labels). Features: `poseit.coach.recognize.clip_features` of each clip
and of its mirror image (augmentation); classifier: an ensemble of small MLPs trained with Adam on softmax
cross-entropy with weight decay. Prints the test accuracy (all classes and the fitness subset) and the
confusion matrix, and writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from poseit.coach.recognize import Recognizer, clip_features, mirror_sequence

FITNESS_CLASSES = ("squat", "pushup", "situp", "jumping_jacks", "pullup", "bench_press", "clean_and_jerk", "jump_rope")
DEFAULT_OUT = Path(__file__).resolve().parent / "models" / "recognizer.json"


def default_data() -> Path:
    root = Path(__file__).resolve().parents[3]
    return Path(os.environ.get("POSEIT_DATA", root.parent / "shared" / "data")) / "penn-action"


def featurize(root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Features of every clip, train clips also mirrored: X_train, y_train, X_test, y_test, class names."""
    from poseit.coach.penn import load_all

    clips = load_all(root, occluded_score=0.1)  # occluded joints keep their (estimated) positions
    classes = sorted({c.action for c, _ in clips})
    index = {c: i for i, c in enumerate(classes)}
    xtr, ytr, xte, yte = [], [], [], []
    for clip, seq in clips:
        if clip.train:
            for s in (seq, mirror_sequence(seq)):
                xtr.append(clip_features(s))
                ytr.append(index[clip.action])
        else:
            xte.append(clip_features(seq))
            yte.append(index[clip.action])
    return np.array(xtr), np.array(ytr), np.array(xte), np.array(yte), classes


def train_mlp(
    x: np.ndarray,
    y: np.ndarray,
    classes: int,
    hidden: int,
    epochs: int,
    seed: int,
    lr: float = 2e-3,
    decay: float = 1e-3,
    dropout: float = 0.3,
    batch: int = 64,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """One MLP (standardised inputs) trained with Adam; returns [(W1, b1), (W2, b2)]."""
    rng = np.random.default_rng(seed)
    n, f = x.shape
    params = [
        rng.normal(0, np.sqrt(2 / f), (f, hidden)),
        np.zeros(hidden),
        rng.normal(0, np.sqrt(1 / hidden), (hidden, classes)),
        np.zeros(classes),
    ]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    onehot = np.eye(classes)[y]
    step = 0
    for _epoch in range(epochs):
        order = rng.permutation(n)
        for s in range(0, n, batch):
            idx = order[s : s + batch]
            xb, tb = x[idx], onehot[idx]
            xb = xb + rng.normal(0, 0.05, xb.shape)  # input noise
            h_pre = xb @ params[0] + params[1]
            h = np.maximum(h_pre, 0)
            keep = (rng.random(h.shape) > dropout) / (1 - dropout)
            hd = h * keep
            logits = hd @ params[2] + params[3]
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            g_logits = (p - tb) / len(idx)
            grads = [None, None, hd.T @ g_logits, g_logits.sum(0)]
            g_h = (g_logits @ params[2].T) * keep * (h_pre > 0)
            grads[0], grads[1] = xb.T @ g_h, g_h.sum(0)
            step += 1
            for i, g in enumerate(grads):
                if i in (0, 2):
                    g = g + decay * params[i]
                m[i] = 0.9 * m[i] + 0.1 * g
                v[i] = 0.999 * v[i] + 0.001 * g * g
                mh, vh = m[i] / (1 - 0.9**step), v[i] / (1 - 0.999**step)
                params[i] -= lr * mh / (np.sqrt(vh) + 1e-8)
    return [
        (params[0].astype(np.float32), params[1].astype(np.float32)),
        (params[2].astype(np.float32), params[3].astype(np.float32)),
    ]


def train(
    xtr: np.ndarray,
    ytr: np.ndarray,
    classes: list[str],
    members: int = 3,
    hidden: int = 64,
    epochs: int = 60,
    seed: int = 0,
) -> Recognizer:
    mean = xtr.mean(axis=0).astype(np.float32)
    std = (xtr.std(axis=0) + 1e-3).astype(np.float32)
    xs = (xtr - mean) / std
    layers = [train_mlp(xs, ytr, len(classes), hidden, epochs, seed + k) for k in range(members)]
    info = {
        "data": "Penn Action train split (labels and their mirror images)",
        "members": members,
        "hidden": hidden,
        "epochs": epochs,
        "seed": seed,
        "train_samples": len(xtr),
    }
    return Recognizer(classes, mean, std, layers, info)


def evaluate(model: Recognizer, xte: np.ndarray, yte: np.ndarray) -> dict:
    """Accuracy over all classes and the fitness subset, per-class accuracy and the confusion matrix."""
    pred = model.predict_proba(xte).argmax(axis=1)
    classes = model.classes
    k = len(classes)
    confusion = np.zeros((k, k), dtype=int)
    for t, p in zip(yte, pred, strict=True):
        confusion[t, p] += 1
    fit = np.isin(np.array(classes)[yte], FITNESS_CLASSES)
    per_class = {c: float(confusion[i, i] / max(1, confusion[i].sum())) for i, c in enumerate(classes)}
    return {
        "test_clips": len(yte),
        "accuracy_all_classes": float((pred == yte).mean()),
        "fitness_clips": int(fit.sum()),
        "accuracy_fitness_subset": float((pred[fit] == yte[fit]).mean()),
        "per_class_accuracy": per_class,
        "classes": classes,
        "confusion": confusion.tolist(),
    }


def print_report(result: dict) -> None:
    classes = result["classes"]
    print(
        f"Penn Action test: {result['test_clips']} clips, accuracy (all {len(classes)} classes) "
        f"{result['accuracy_all_classes']:.3f}; fitness subset ({result['fitness_clips']} clips of "
        f"{', '.join(FITNESS_CLASSES)}) {result['accuracy_fitness_subset']:.3f}"
    )
    short = [c[:6] for c in classes]
    print("confusion (rows: true, columns: predicted)")
    print(" " * 16 + " ".join(f"{s:>6}" for s in short))
    for c, row in zip(classes, result["confusion"], strict=True):
        print(f"{c:>15} " + " ".join(f"{v:6d}" for v in row) + f"   {result['per_class_accuracy'][c]:.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=default_data(), help="Penn Action folder (index.csv, labels/)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the weights (JSON)")
    ap.add_argument("--results", type=Path, default=None, help="write accuracy and confusion matrix as JSON")
    ap.add_argument("--members", type=int, default=3, help="MLPs in the ensemble")
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if not (args.data / "index.csv").is_file():
        print(f"train_recognizer: no Penn Action data at {args.data} (set POSEIT_DATA or --data)", file=sys.stderr)
        return 1
    t0 = time.time()
    xtr, ytr, xte, yte, classes = featurize(args.data)
    print(
        f"features: {xtr.shape[0]} train (with mirrors), {xte.shape[0]} test, {xtr.shape[1]} dims "
        f"({time.time() - t0:.0f} s)"
    )
    model = train(xtr, ytr, classes, args.members, args.hidden, args.epochs, args.seed)
    result = evaluate(model, xte, yte)
    model.info["test"] = {k: result[k] for k in ("accuracy_all_classes", "accuracy_fitness_subset", "test_clips")}
    model.save(args.out)
    print_report(result)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB) in {time.time() - t0:.0f} s")
    if args.results:
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
