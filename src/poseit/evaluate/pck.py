"""PCK metrics and the per-joint tables of the seed's README (head, shoulder, elbow, wrist, hip, knee, ankle, mean).

- LSP: PCK@0.2, a joint is correct within 0.2 x the torso size (right shoulder to left hip), counted over the
  visible joints (the standard LSP protocol).
- MPII format: PCKh@0.5, within 0.5 x the head size. Without MPII's head boxes the head size is the
  head-top-to-upper-neck distance (about 0.6 x the head box diagonal that MPII uses); the mean leaves out pelvis
  and thorax, as MPII's own evaluation does.

A person the model misses counts as wrong on every joint. The mean is over all counted joint instances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from poseit.skeletons import get_skeleton

GROUPS = ("head", "shoulder", "elbow", "wrist", "hip", "knee", "ankle")
_GROUP_JOINTS = {
    "head": ("head_top", "neck", "upper_neck"),
    "shoulder": ("left_shoulder", "right_shoulder"),
    "elbow": ("left_elbow", "right_elbow"),
    "wrist": ("left_wrist", "right_wrist"),
    "hip": ("left_hip", "right_hip"),
    "knee": ("left_knee", "right_knee"),
    "ankle": ("left_ankle", "right_ankle"),
}


@dataclass(frozen=True)
class Protocol:
    """How a skeleton's predictions are scored: the metric name, the reference length and the threshold."""

    metric: str
    threshold: float
    ref: tuple[str, str]  # the two joints whose distance is the reference length


PROTOCOLS = {
    "lsp14": Protocol("PCK@0.2", 0.2, ("right_shoulder", "left_hip")),
    "mpii16": Protocol("PCKh@0.5", 0.5, ("head_top", "upper_neck")),
    "coco17": Protocol("PCK@0.2", 0.2, ("right_shoulder", "left_hip")),
}


def correct_joints(pred: np.ndarray, gt: np.ndarray, ref: np.ndarray, threshold: float) -> np.ndarray:
    """(N, K) bool: prediction within ``threshold`` x ``ref`` (N,) of the ground truth; NaN predictions fail."""
    dist = np.linalg.norm(np.asarray(pred, np.float64) - np.asarray(gt, np.float64), axis=-1)
    ok = dist <= threshold * np.asarray(ref, np.float64)[:, None]
    return ok & np.isfinite(dist)


def pck_table(
    pred: np.ndarray, gt: np.ndarray, counted: np.ndarray, skeleton: str, protocol: Protocol | None = None
) -> dict:
    """Score (N, K, 2) predictions (NaN where missing) against the ground truth on ``skeleton``, counting the
    (N, K) ``counted`` joints, by ``protocol`` (default: the skeleton's own, `PROTOCOLS`). Returns
    ``{"metric", "mean", "per_joint", "per_group", "count"}`` in percent."""
    skel = get_skeleton(skeleton)
    proto = protocol or PROTOCOLS[skeleton]
    a, b = (skel.index[j] for j in proto.ref)
    ref = np.linalg.norm(gt[:, a] - gt[:, b], axis=-1)
    counted = np.asarray(counted, bool) & np.isfinite(ref)[:, None] & (ref > 0)[:, None]
    if skeleton == "mpii16":  # MPII's mean leaves out pelvis and thorax
        counted[:, [skel.index["pelvis"], skel.index["thorax"]]] = False
    ok = correct_joints(pred, gt, np.where(ref > 0, ref, 1.0), proto.threshold) & counted
    per_joint = {
        name: 100.0 * ok[:, k].sum() / counted[:, k].sum() for k, name in enumerate(skel.joints) if counted[:, k].any()
    }
    per_group = {}
    for group in GROUPS:
        idx = [skel.index[j] for j in _GROUP_JOINTS[group] if j in skel.index]
        n = counted[:, idx].sum()
        if n:
            per_group[group] = 100.0 * ok[:, idx].sum() / n
    return {
        "metric": proto.metric,
        "mean": 100.0 * ok.sum() / max(counted.sum(), 1),
        "per_joint": per_joint,
        "per_group": per_group,
        "count": int(counted.sum()),
    }


def format_table(rows: dict[str, dict]) -> str:
    """A Markdown table, one row per model: head, shoulder, ..., ankle, mean (the seed README's layout)."""
    metric = next(iter(rows.values()))["metric"] if rows else "PCK"
    head = ["Model", *(g.capitalize() for g in GROUPS), "Mean"]
    lines = [f"| {' | '.join(head)} |", "|" + "---|" * len(head)]
    for name, r in rows.items():
        cells = [f"{r['per_group'].get(g, float('nan')):.1f}" for g in GROUPS]
        lines.append(f"| {name} | {' | '.join(cells)} | {r['mean']:.1f} |")
    return f"{metric}\n" + "\n".join(lines)


def predict_dataset(samples: list, estimator, roi: str = "detector", progress: bool = True) -> np.ndarray:
    """Predict every sample with a `poseit.pipeline.PoseEstimator` and map to the samples' skeleton.

    ``roi="detector"``: the pipeline as users run it on images (``mode="detect"``: the BlazePose detector finds
    the person, the landmark model looks at its ROI). ``roi="gt"``: the landmark model looks at the
    ground-truth person crop (the seed's protocol: centre and 200 x scale x 1.25). Returns (N, K, 2), NaN where
    the person was missed.
    """
    from tqdm import tqdm

    from poseit.detect.roi import Roi
    from poseit.io.sources import read_image
    from poseit.keypoints import Poses

    skeleton = samples[0].skeleton
    k = get_skeleton(skeleton).num_joints
    out = np.full((len(samples), k, 2), np.nan, dtype=np.float32)
    for i, s in enumerate(tqdm(samples, unit="image", disable=not progress, leave=False)):
        image = read_image(s.image)
        if roi == "gt":
            side = s.crop_side
            lm = estimator.landmarks(image, Roi(float(s.center[0]), float(s.center[1]), side, side))
            poses = Poses(xy=lm.xy[None], scores=np.clip(lm.scores, 0, 1)[None], skeleton=estimator.skeleton)
        else:
            estimator.reset()
            poses = estimator(image)
        if len(poses):
            out[i] = poses.to_skeleton(skeleton).xy[0]
    return out


def evaluate_samples(samples: list, estimator, roi: str = "detector", progress: bool = True) -> dict:
    """`pck_table` of ``estimator`` on ``samples`` (all on one skeleton), plus how many people it missed."""
    pred = predict_dataset(samples, estimator, roi, progress)
    gt = np.stack([s.source_joints for s in samples])
    visible = np.stack([s.source_visible for s in samples])
    table = pck_table(pred, gt, visible, samples[0].skeleton)
    table["images"] = len(samples)
    table["missed"] = int((~np.isfinite(pred).all(axis=(1, 2))).sum())
    return table
