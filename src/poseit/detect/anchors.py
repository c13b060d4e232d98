"""SSD anchors and weighted non-maximum suppression (MediaPipe's SsdAnchorsCalculator and WEIGHTED NMS)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def ssd_anchors(input_size: int, strides: Sequence[int], anchors_per_layer: int = 2, offset: float = 0.5) -> np.ndarray:
    """(A, 2) anchor centres in [0, 1] for fixed-size anchors; consecutive layers with the same stride share one
    grid (as MediaPipe merges them), each contributing ``anchors_per_layer`` anchors per cell."""
    centres = []
    i = 0
    while i < len(strides):
        j = i
        while j < len(strides) and strides[j] == strides[i]:
            j += 1
        n = (j - i) * anchors_per_layer
        side = int(np.ceil(input_size / strides[i]))
        ys, xs = np.meshgrid((np.arange(side) + offset) / side, (np.arange(side) + offset) / side, indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(grid, n, axis=0))
        i = j
    return np.concatenate(centres).astype(np.float32)


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one x0, y0, x1, y1 box against (M, 4) boxes."""
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def weighted_nms(
    scores: np.ndarray,
    boxes: np.ndarray,
    keypoints: np.ndarray,
    iou_threshold: float = 0.3,
    max_detections: int | None = None,
) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Cluster overlapping candidates and average each cluster's boxes and keypoints weighted by score.

    Returns (score, box (4,), keypoints (P, 2)) per cluster, best first; the score is the cluster's best.
    """
    order = np.argsort(-scores, kind="stable")
    out = []
    while order.size and (max_detections is None or len(out) < max_detections):
        best = order[0]
        overlap = iou(boxes[best], boxes[order]) > iou_threshold
        overlap[0] = True
        members = order[overlap]
        w = scores[members][:, None]
        total = w.sum()
        box = (boxes[members] * w).sum(axis=0) / total
        kps = (keypoints[members] * w[:, :, None]).sum(axis=0) / total
        out.append((float(scores[best]), box, kps))
        order = order[~overlap]
    return out
