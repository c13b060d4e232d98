"""Does a new track's pose settle over its first frames? Each LSP train image (dev) played as a still clip in
tracking mode: PCK@0.2 per frame index, and each frame's mean joint distance from the last frame's (in torso
lengths). A warm-up (a new track reading wrong for its first frames) would show as a lower PCK on the first frames.

    python benchmarks/track_warmup.py [--images 200] [--frames 12] [--model blazepose-full]
"""

from __future__ import annotations

import argparse

import numpy as np

from coach_common import data_dir
from poseit.evaluate.datasets import load_lsp
from poseit.evaluate.pck import correct_joints
from poseit.io.sources import Frame, read_image
from poseit.pipeline import PoseEstimator

SHOULDER_R, HIP_L = 8, 3  # LSP-14 torso reference of PCK@0.2


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=200, help="the first N LSP train images")
    ap.add_argument("--frames", type=int, default=12, help="frames per still clip")
    ap.add_argument("--model", default="blazepose-full")
    args = ap.parse_args()
    samples = load_lsp(data_dir() / "lsp", "train")[: args.images]
    est = PoseEstimator(args.model, mode="track")
    n = args.frames
    pck = np.full((len(samples), n), np.nan)
    disp = np.full((len(samples), n), np.nan)
    for i, s in enumerate(samples):
        image = read_image(s.image)
        est.reset()
        preds = []
        for r in est.process([Frame(image, t, t / 30.0) for t in range(n)]):
            preds.append(r.poses.to_skeleton(s.skeleton).xy[0] if len(r.poses) else np.full((14, 2), np.nan))
        gt, vis = s.source_joints, s.source_visible.astype(bool)
        ref = float(np.linalg.norm(gt[SHOULDER_R] - gt[HIP_L]))
        for t, p in enumerate(preds):
            if vis.any():
                pck[i, t] = correct_joints(p[None], gt[None], np.array([ref]), 0.2)[0][vis].mean()
            if np.isfinite(p).all() and np.isfinite(preds[-1]).all():
                disp[i, t] = np.linalg.norm(p - preds[-1], axis=-1).mean() / ref
    print(f"{args.model}, {len(samples)} LSP train images as still {n}-frame clips (tracking mode)")
    print("frame            " + " ".join(f"{t:5d}" for t in range(n)))
    print("PCK@0.2          " + " ".join(f"{v:5.1f}" for v in 100 * np.nanmean(pck, 0)))
    print("shift, median    " + " ".join(f"{v:5.3f}" for v in np.nanmedian(disp, 0)))
    print("shift, 90th pct  " + " ".join(f"{v:5.3f}" for v in np.nanpercentile(disp, 90, 0)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
