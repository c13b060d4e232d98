"""Image-level scoring of the person the engine chose, on images with one or several labelled people.

The engine reports one person per image. That pose is matched to the nearest labelled person (smallest median
joint distance over the joints that count, relative to the person's size) and scored against them: PCK@0.2
(torso = right shoulder to left hip) and, on MPII-16, PCKh@0.5 (head size = head top to upper neck, about 0.6
x the head box diagonal MPII uses; pelvis and thorax left out of the mean). Where the engine chose nobody,
the joints of the image's main person (the labelled person with the largest extent) count as wrong. Rates:
``nobody`` (no pose), ``unlabelled`` (the nearest labelled person is not near: median joint distance above
``NEAR`` x their extent, so the pose is on somebody nobody labelled, or on nobody) and ``main`` (the pose is
on the main person).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from poseit.evaluate.datasets import LabelledImage
from poseit.evaluate.pck import PROTOCOLS, Protocol, pck_table

NEAR = 0.25  # a pose is on a labelled person when its median joint error is within this x the person's extent
PCK02 = Protocol("PCK@0.2", 0.2, ("right_shoulder", "left_hip"))


def extent(joints: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """(P,) each person's size: the long side of the box around their joints that count."""
    out = np.zeros(len(joints))
    for p, (xy, v) in enumerate(zip(joints, visible, strict=True)):
        pts = xy[v & np.isfinite(xy).all(axis=1)]
        if len(pts):
            out[p] = float((pts.max(axis=0) - pts.min(axis=0)).max())
    return out


@dataclass(frozen=True)
class Match:
    person: int  # the labelled person scored against (the main person where nobody was chosen)
    nobody: bool
    unlabelled: bool
    main: bool


def match(pred: np.ndarray | None, image: LabelledImage) -> Match:
    """Which labelled person a (K, 2) pose on the image's skeleton belongs to (None: nobody chosen)."""
    sizes = extent(image.joints, image.visible)
    main = int(np.argmax(sizes))
    if pred is None or not np.isfinite(pred).any():
        return Match(main, True, False, False)
    rel = np.full(image.people, np.inf)
    for p in range(image.people):
        counted = image.visible[p] & np.isfinite(pred).all(axis=1)
        if counted.any() and sizes[p] > 0:
            dist = np.linalg.norm(pred[counted] - image.joints[p, counted], axis=1)
            rel[p] = float(np.median(dist)) / sizes[p]
    best = int(np.argmin(rel))
    near = bool(rel[best] <= NEAR)
    return Match(best, False, not near, near and best == main)


def score_images(images: list[LabelledImage], preds: list[np.ndarray | None]) -> dict:
    """PCK@0.2 (and PCKh@0.5 on MPII-16) of the chosen poses, in percent, with the nobody / unlabelled / main
    rates (percent of images) and the counts."""
    if not images:
        raise ValueError("no images to score")
    skeleton = images[0].skeleton
    k = images[0].joints.shape[1]
    pred_all = np.full((len(images), k, 2), np.nan, np.float32)
    gt_all = np.zeros((len(images), k, 2), np.float32)
    counted = np.zeros((len(images), k), bool)
    matches = []
    for i, (image, pred) in enumerate(zip(images, preds, strict=True)):
        m = match(pred, image)
        matches.append(m)
        gt_all[i], counted[i] = image.joints[m.person], image.visible[m.person]
        if not m.nobody:
            pred_all[i] = pred
    n = len(images)
    out = {
        "images": n,
        "people": int(sum(im.people for im in images)),
        "nobody": 100.0 * sum(m.nobody for m in matches) / n,
        "unlabelled": 100.0 * sum(m.unlabelled for m in matches) / n,
        "main": 100.0 * sum(m.main for m in matches) / n,
        "pck": pck_table(pred_all, gt_all, counted, skeleton, PCK02)["mean"],
    }
    if skeleton == "mpii16":
        out["pckh"] = pck_table(pred_all, gt_all, counted, skeleton, PROTOCOLS["mpii16"])["mean"]
    return out


def evaluate_images(images: list[LabelledImage], estimator, progress: bool = True) -> dict:
    """`score_images` of a `poseit.pipeline.PoseEstimator` (``mode="detect"``) run on each image."""
    from tqdm import tqdm

    from poseit.io.sources import read_image

    preds: list[np.ndarray | None] = []
    for image in tqdm(images, unit="image", disable=not progress, leave=False):
        estimator.reset()
        poses = estimator(read_image(image.image))
        preds.append(poses.to_skeleton(image.skeleton).xy[0] if len(poses) else None)
    return score_images(images, preds)
