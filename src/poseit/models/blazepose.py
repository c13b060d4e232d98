"""BlazePose (MediaPipe Pose, Apache-2.0): the person detector and the lite/full/heavy landmark models.

Pre- and postprocessing follow MediaPipe's graphs (pose_detection_cpu, pose_landmark_by_roi_cpu) so the models
see the inputs they were trained on.
"""

from __future__ import annotations

import numpy as np

from poseit.detect.anchors import ssd_anchors, weighted_nms
from poseit.detect.roi import Letterbox, Roi, crop
from poseit.models.base import Detection, LandmarkModel, Landmarks, Model
from poseit.runtime import Backend


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -80, 80)))


class BlazePoseDetector(Model):
    """Finds people by their face and predicts two alignment points: hip centre and a body-scale point.

    ``pad`` adds black margins (a fraction of the frame's long side on every side) before detection, so that
    people who fill or overflow the frame still show a whole head-and-shoulders region the detector knows.
    """

    input_size = 224
    strides = (8, 16, 32, 32, 32)

    def __init__(self, backend: Backend, min_score: float = 0.5, iou_threshold: float = 0.3, pad: float = 0.0) -> None:
        super().__init__(backend)
        self.min_score = min_score
        self.iou_threshold = iou_threshold
        self.pad = pad
        self.anchors = ssd_anchors(self.input_size, self.strides)

    def preprocess(self, image: np.ndarray, pad: float | None = None) -> tuple[np.ndarray, Letterbox]:
        h, w = image.shape[:2]
        box = Letterbox.fit(w, h, self.input_size, self.pad if pad is None else pad)
        rgb = box.apply(image, self.input_size)[..., ::-1]
        tensor = rgb.astype(np.float32) * (2.0 / 255.0) - 1.0
        return tensor[None], box

    def postprocess(self, outputs: dict[str, np.ndarray], letterbox: Letterbox) -> list[Detection]:
        raw = outputs["Identity"][0]
        scores = _sigmoid(np.clip(outputs["Identity_1"][0, :, 0], -100, 100))
        keep = scores >= self.min_score
        if not keep.any():
            return []
        raw, scores, anchors = raw[keep], scores[keep], self.anchors[keep]
        s = float(self.input_size)
        centre = raw[:, 0:2] / s + anchors
        size = raw[:, 2:4] / s
        boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
        kps = raw[:, 4:12].reshape(-1, 4, 2) / s + anchors[:, None, :]
        detections = []
        for score, box, points in weighted_nms(scores, boxes, kps, self.iou_threshold):
            box_px = letterbox.to_frame(box.reshape(2, 2) * s).ravel()
            points_px = letterbox.to_frame(points * s)
            detections.append(Detection(score, box_px, Roi.from_alignment(points_px[0], points_px[1])))
        return detections


class BlazePoseLandmarks(LandmarkModel):
    """BlazePose lite/full/heavy: 33 landmarks with visibility, presence, depth and world coordinates.

    ``refine`` moves each landmark to the local centre of mass of the model's 64x64 heatmap (7x7 window), as
    MediaPipe does when the heatmap is confident there.
    """

    skeleton = "blazepose33"
    input_size = (256, 256)
    num_body = 33
    # landmarks, pose flag, heatmap, world landmarks; the segmentation mask (Identity_2) is pruned away
    outputs = ("Identity", "Identity_1", "Identity_3", "Identity_4")

    def __init__(
        self, backend: Backend, refine: bool = True, refine_kernel: int = 7, refine_min_conf: float = 0.5
    ) -> None:
        super().__init__(backend)
        self.refine = refine
        self.refine_kernel = refine_kernel
        self.refine_min_conf = refine_min_conf

    def preprocess(self, image: np.ndarray, roi: Roi) -> tuple[np.ndarray, Roi]:
        w, h = self.input_size
        rgb = crop(image, roi, w, h)[..., ::-1]
        return (rgb.astype(np.float32) * (1.0 / 255.0))[None], roi

    def postprocess(self, outputs: dict[str, np.ndarray], roi: Roi) -> Landmarks:
        w, h = self.input_size
        raw = outputs["Identity"].reshape(-1, 5)  # 39 x (x, y, z, visibility, presence)
        norm = raw[:, :2] / [w, h]
        if self.refine and "Identity_3" in outputs:
            norm = refine_from_heatmap(norm, outputs["Identity_3"][0], self.refine_kernel, self.refine_min_conf)
        xy = roi.to_frame(norm)
        n = self.num_body
        world = None
        if "Identity_4" in outputs:
            world = outputs["Identity_4"].reshape(-1, 3)[:n].copy()
            c, s = np.cos(roi.rotation), np.sin(roi.rotation)
            world[:, :2] = world[:, :2] @ np.array([[c, s], [-s, c]], dtype=np.float32)
        return Landmarks(
            xy=xy[:n],
            scores=_sigmoid(raw[:n, 3]),
            score=float(outputs["Identity_1"].ravel()[0]),
            roi=roi,
            alignment=xy[n : n + 2],
            presence=_sigmoid(raw[:n, 4]),
            z=raw[:n, 2] / w * roi.width,
            world=world,
        )


def refine_from_heatmap(norm: np.ndarray, heatmap: np.ndarray, kernel: int = 7, min_conf: float = 0.5) -> np.ndarray:
    """MediaPipe's RefineLandmarksFromHeatmap, vectorised: (L, 2) crop-normalised points, (H, W, L) logits.

    Each point moves to the confidence-weighted mean position of the ``kernel`` x ``kernel`` window around it
    (clipped at the heatmap's edges) when the window's peak confidence reaches ``min_conf``. As in MediaPipe,
    points left of, right of or above the heatmap are kept as they are.
    """
    hm_h, hm_w, channels = heatmap.shape
    n = min(len(norm), channels)
    col = np.trunc(norm[:n, 0] * hm_w).astype(np.int64)  # C++ int conversion truncates toward zero
    row = np.trunc(norm[:n, 1] * hm_h).astype(np.int64)
    offsets = np.arange(kernel) - (kernel - 1) // 2
    rows, cols = row[:, None] + offsets, col[:, None] + offsets  # (n, k)
    valid = ((rows >= 0) & (rows < hm_h))[:, :, None] & ((cols >= 0) & (cols < hm_w))[:, None, :]
    logits = heatmap[
        np.clip(rows, 0, hm_h - 1)[:, :, None], np.clip(cols, 0, hm_w - 1)[:, None, :], np.arange(n)[:, None, None]
    ]
    conf = _sigmoid(logits) * valid
    total = conf.sum(axis=(1, 2))
    refine = (col >= 0) & (col < hm_w) & (row >= 0) & (conf.max(axis=(1, 2)) >= min_conf) & (total > 0)
    out = norm.copy()
    safe = np.where(total > 0, total, 1.0)
    out[:n, 0] = np.where(refine, (conf * cols[:, None, :]).sum(axis=(1, 2)) / hm_w / safe, norm[:n, 0])
    out[:n, 1] = np.where(refine, (conf * rows[:, :, None]).sum(axis=(1, 2)) / hm_h / safe, norm[:n, 1])
    return out
