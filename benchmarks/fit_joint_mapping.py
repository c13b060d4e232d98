"""Fit the BlazePose -> upper_neck / head_top rules of `poseit.skeletons.mapping.DERIVED_JOINTS` on LSP train.

BlazePose has no neck or head-top landmark; LSP (and MPII) have both. Each rule is an affine combination of
BlazePose joints (weights sum to 1, left and right joints share a weight, so the rule moves with the body and
mirrors). This script runs the engine's BlazePose models on LSP train (images 1-1000, never the test half) in
``mode="detect"``, and solves for the weights by least squares on the residuals divided by the torso size, with
one refit after dropping the worst 10% (missed or wrong detections). It prints the fitted rules to paste into
DERIVED_JOINTS and the train-set error before and after.

    python benchmarks/fit_joint_mapping.py [--models blazepose-lite blazepose-full blazepose-heavy] [--cache F.npz]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from poseit.pipeline import PoseEstimator
from poseit.skeletons import get_skeleton
from poseit.skeletons.mapping import DERIVED_JOINTS, convert_arrays
from poseit.train.datasets import load_lsp

ROOT = Path(__file__).resolve().parents[1]
# Input groups (a pair shares one weight) for each rule: with the mouth (BlazePose) and without it (COCO-17).
INPUTS = {
    "mouth": (
        "nose",
        ("left_eye", "right_eye"),
        ("left_ear", "right_ear"),
        ("mouth_left", "mouth_right"),
        ("left_shoulder", "right_shoulder"),
    ),
    "ears": ("nose", ("left_eye", "right_eye"), ("left_ear", "right_ear"), ("left_shoulder", "right_shoulder")),
}
TARGETS = {"upper_neck": "neck", "head_top": "head_top"}  # rule name -> LSP joint
FACE = {"nose", "left_eye", "right_eye", "left_ear", "right_ear", "mouth_left", "mouth_right"}


def merged(saved: list[dict[str, float]], fitted: list[dict[str, float]]) -> list[dict[str, float]]:
    """Aliases first (LSP's ``neck``), then the fitted face rules, then the generic fallbacks."""
    alias = [r for r in saved if len(r) == 1]
    generic = [r for r in saved if len(r) > 1 and not set(r) & FACE]
    return alias + fitted + generic


def predict(model: str, samples: list, pads: tuple[float, ...]) -> np.ndarray:
    est = PoseEstimator(model, mode="detect", detect_pads=pads)
    out = np.full((len(samples), 33, 2), np.nan, dtype=np.float32)
    for i, s in enumerate(samples):
        from poseit.io.sources import read_image

        poses = est(read_image(s.image))
        if len(poses):
            out[i] = poses.xy[0]
    return out


def _group_points(xy: np.ndarray, groups: tuple) -> np.ndarray:
    """(N, G, 2): each group's point (a pair's mean, so one weight moves both)."""
    idx = get_skeleton("blazepose33").index
    cols = []
    for g in groups:
        names = (g,) if isinstance(g, str) else g
        cols.append(np.mean([xy[:, idx[n]] for n in names], axis=0))
    return np.stack(cols, axis=1)


def fit_rule(xy: np.ndarray, target: np.ndarray, torso: np.ndarray, groups: tuple) -> dict[str, float]:
    """Affine weights (summing to 1) over ``groups`` minimising the torso-normalised distance to ``target``."""
    pts = _group_points(xy, groups)
    ok = np.isfinite(pts).all(axis=(1, 2)) & np.isfinite(target).all(axis=1) & (torso > 0)
    keep = ok.copy()
    for _ in range(2):
        ref = pts[keep, -1]  # shoulders' midpoint as the reference: w_last = 1 - sum(others)
        a = (pts[keep, :-1] - ref[:, None]) / torso[keep, None, None]  # (n, G-1, 2)
        b = (target[keep] - ref) / torso[keep, None]
        design = a.transpose(0, 2, 1).reshape(-1, a.shape[1])
        w, *_ = np.linalg.lstsq(design, b.reshape(-1), rcond=None)
        weights = np.append(w, 1 - w.sum())
        pred = np.einsum("g,ngc->nc", weights, pts)
        err = np.linalg.norm(pred - target, axis=1) / torso
        cut = np.nanquantile(np.where(ok, err, np.nan), 0.9)
        keep = ok & (err <= cut)
    rule: dict[str, float] = {}
    for g, wt in zip(groups, weights, strict=True):
        names = (g,) if isinstance(g, str) else g
        for n in names:
            rule[n] = round(float(wt) / len(names), 3)
    drift = round(1.0 - sum(rule.values()), 3)  # keep the sum exactly 1 after rounding
    rule[names[0]] = round(rule[names[0]] + drift, 3)
    return rule


def median_error(xy: np.ndarray, target: np.ndarray, torso: np.ndarray, joint: str) -> float:
    lsp, _ = convert_arrays(xy, np.ones(xy.shape[:2], np.float32), "blazepose33", "lsp14")
    k = get_skeleton("lsp14").index[joint]
    err = np.linalg.norm(lsp[:, k] - target, axis=1) / torso
    return float(np.nanmedian(err))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["blazepose-lite", "blazepose-full", "blazepose-heavy"])
    ap.add_argument("--lsp", default=os.environ.get("POSEIT_DATA", str(ROOT.parent / "shared" / "data")) + "/lsp")
    ap.add_argument("--detect-pads", default="0.25,0")
    ap.add_argument("--cache", help="npz of predictions to reuse (written when missing)")
    args = ap.parse_args()

    samples = load_lsp(args.lsp, "train")
    pads = tuple(float(v) for v in args.detect_pads.split(","))
    if args.cache and Path(args.cache).is_file():
        xy = np.load(args.cache)["xy"]
    else:
        xy = np.concatenate([predict(m, samples, pads) for m in args.models])
        if args.cache:
            np.savez_compressed(args.cache, xy=xy)
    gt = np.concatenate([np.stack([s.source_joints for s in samples])] * (len(xy) // len(samples)))
    lsp = get_skeleton("lsp14").index
    torso = np.linalg.norm(gt[:, lsp["right_shoulder"]] - gt[:, lsp["left_hip"]], axis=1)
    print(
        f"{len(xy)} predictions ({', '.join(args.models)}) on LSP train; person found on "
        f"{int(np.isfinite(xy).all(axis=(1, 2)).sum())}"
    )
    fitted: dict[str, list[dict[str, float]]] = {}
    for rule_name, lsp_joint in TARGETS.items():
        target = gt[:, lsp[lsp_joint]]
        before = median_error(xy, target, torso, lsp_joint)
        fitted[rule_name] = [fit_rule(xy, target, torso, groups) for groups in INPUTS.values()]
        saved = DERIVED_JOINTS[rule_name]
        DERIVED_JOINTS[rule_name] = fitted[rule_name] = merged(saved, fitted[rule_name])
        after = median_error(xy, target, torso, lsp_joint)
        DERIVED_JOINTS[rule_name] = saved
        print(f"{lsp_joint}: median error / torso {before:.3f} with the current rules -> {after:.3f} fitted")
    print("\nDERIVED_JOINTS entries (fitted: BlazePose-33 with the mouth, then COCO-17 without it):")
    for name, rules in fitted.items():
        print(f'    "{name}": [')
        for r in rules:
            print(f"        {r},")
        print("    ],")


if __name__ == "__main__":
    main()
