"""Mapping keypoints between skeletons through one shared joint vocabulary.

A joint of the target skeleton is taken from the source joint of the same name when there is one; otherwise it
is derived by the first rule in `DERIVED_JOINTS` whose inputs the source has (rules may use other derived
joints). A rule is an affine combination of joints (weights sum to 1), so it moves with the body under any
translation, rotation and scale. Its score is the lowest score among its inputs. A joint that cannot be made
becomes NaN with score 0.

The face-based ``upper_neck`` and ``head_top`` rules (the first with the mouth, for BlazePose-33; the second
without it, for COCO-17) were fitted by least squares on LSP train (images 1-1000) on the predictions of
BlazePose lite/full/heavy with ``python benchmarks/fit_joint_mapping.py``; they halve the median neck and
head-top error there (0.082 -> 0.047 and 0.109 -> 0.054 torso). The others are geometric definitions.
"""

from __future__ import annotations

import numpy as np

from poseit.skeletons import get_skeleton

Rule = dict[str, float]

# fmt: off
DERIVED_JOINTS: dict[str, list[Rule]] = {
    "pelvis": [{"left_hip": 0.5, "right_hip": 0.5}],
    "thorax": [{"left_shoulder": 0.5, "right_shoulder": 0.5}],
    "upper_neck": [
        {"neck": 1.0},
        {"nose": -0.677, "left_eye": -0.341, "right_eye": -0.341, "left_ear": 0.492, "right_ear": 0.492,
         "mouth_left": 0.575, "mouth_right": 0.575, "left_shoulder": 0.113, "right_shoulder": 0.112},
        {"nose": 0.835, "left_eye": -0.735, "right_eye": -0.735, "left_ear": 0.648, "right_ear": 0.648,
         "left_shoulder": 0.169, "right_shoulder": 0.17},
        {"thorax": 0.5, "head": 0.5},
    ],
    "neck": [{"upper_neck": 1.0}],
    "head_top": [
        {"nose": -0.512, "left_eye": 0.746, "right_eye": 0.746, "left_ear": 0.695, "right_ear": 0.695,
         "mouth_left": -0.631, "mouth_right": -0.631, "left_shoulder": -0.053, "right_shoulder": -0.055},
        {"nose": -2.134, "left_eye": 1.148, "right_eye": 1.148, "left_ear": 0.541, "right_ear": 0.541,
         "left_shoulder": -0.122, "right_shoulder": -0.122},
        {"head": 2.0, "upper_neck": -1.0},
    ],
    "head": [
        {"left_ear": 0.25, "right_ear": 0.25, "left_eye": 0.25, "right_eye": 0.25},
        {"head_top": 0.5, "upper_neck": 0.5},
        {"nose": 1.0},
    ],
}
# fmt: on


def _resolve(name: str, source: dict[str, int], depth: int = 0) -> dict[int, float] | None:
    """Weights over source joint indices that produce ``name``, or None if the source cannot make it."""
    if name in source:
        return {source[name]: 1.0}
    if depth > 3:
        return None
    for rule in DERIVED_JOINTS.get(name, []):
        weights: dict[int, float] = {}
        for joint, w in rule.items():
            sub = _resolve(joint, source, depth + 1)
            if sub is None:
                break
            for idx, sw in sub.items():
                weights[idx] = weights.get(idx, 0.0) + w * sw
        else:
            return weights
    return None


def mapping_matrix(source: str, target: str) -> tuple[np.ndarray, list[list[int]]]:
    """(K_target, K_source) weight matrix, and for each target joint the source joints it uses
    (empty where the target joint cannot be made from the source)."""
    src, dst = get_skeleton(source), get_skeleton(target)
    matrix = np.zeros((dst.num_joints, src.num_joints), dtype=np.float32)
    inputs: list[list[int]] = []
    for t, name in enumerate(dst.joints):
        weights = _resolve(name, src.index) or {}
        for idx, w in weights.items():
            matrix[t, idx] = w
        inputs.append(sorted(weights))
    return matrix, inputs


def convert_arrays(xy: np.ndarray, scores: np.ndarray, source: str, target: str) -> tuple[np.ndarray, np.ndarray]:
    """Map (N, K_src, 2) keypoints and (N, K_src) scores to the ``target`` skeleton."""
    matrix, inputs = mapping_matrix(source, target)
    finite = np.isfinite(xy).all(axis=-1)
    out_xy = np.einsum("ts,nsc->ntc", matrix, np.nan_to_num(xy)).astype(np.float32)
    out_scores = np.zeros((xy.shape[0], len(inputs)), dtype=np.float32)
    for t, idx in enumerate(inputs):
        known = finite[:, idx].all(axis=1) if idx else np.zeros(xy.shape[0], dtype=bool)
        out_scores[known, t] = scores[known][:, idx].min(axis=1)
        out_xy[~known, t] = np.nan
    return out_xy, out_scores
