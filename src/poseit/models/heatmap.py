"""MPII-16 heatmap landmark models (the stacked hourglass family): ours, and the seed's published files.

Any network that takes one RGB image (NCHW 1x3xHxW, or NHWC 1xHxWx3 as the seed's Keras models) normalised as
the seed (RGB / 255 minus the mean [0.4404, 0.4440, 0.4327]) and returns one or more heatmap sets of the 16 MPII
joints (the last output is the prediction) runs here, behind the BlazePose detector's ROI or on the whole frame.
Numpy + OpenCV only; decoding is `poseit.models.heatmap_codec`, the same codec that encodes training targets.
"""

from __future__ import annotations

import math

import numpy as np

from poseit.detect.roi import Roi, crop
from poseit.models.base import LandmarkModel, Landmarks
from poseit.models.heatmap_codec import HeatmapCodec, flip_back
from poseit.runtime import Backend
from poseit.skeletons import get_skeleton

SEED_MEAN = (0.4404, 0.4440, 0.4327)
NUM_JOINTS = 16


def normalize_image(bgr: np.ndarray, mean: tuple[float, float, float] = SEED_MEAN) -> np.ndarray:
    """BGR uint8 (H, W, 3) -> RGB float32 (H, W, 3) scaled to [0, 1] minus ``mean``."""
    return bgr[..., ::-1].astype(np.float32) * (1.0 / 255.0) - np.asarray(mean, dtype=np.float32)


def _input_layout(shape: tuple[int, ...]) -> tuple[str, int, int] | None:
    """("nchw" | "nhwc", width, height) for a 4-D single-image RGB input shape, else None."""
    if len(shape) != 4:
        return None
    if shape[1] == 3 and shape[3] != 3:
        return "nchw", int(shape[3]), int(shape[2])
    if shape[3] == 3:
        return "nhwc", int(shape[2]), int(shape[1])
    return None


def _as_nchw(output: np.ndarray, joints: int = NUM_JOINTS) -> np.ndarray | None:
    """A (1, K, H, W) view of a heatmap output given as NCHW or NHWC, or None if it is not one."""
    if output.ndim != 4:
        return None
    if output.shape[1] == joints:
        return output
    if output.shape[3] == joints:
        return output.transpose(0, 3, 1, 2)
    return None


class HeatmapLandmarks(LandmarkModel):
    """A 16-joint MPII heatmap model on an ROI crop.

    ``flip_test`` also runs the mirrored crop and averages the heatmaps (twice the time). ``joint_threshold``:
    a joint counts as found when its heatmap peak reaches it; the person score is the share of joints found.
    """

    skeleton = "mpii16"
    min_score = 0.25  # a quarter of the joints found (heatmap peak >= joint_threshold)
    # a second look on the square around the found joints loses on dev (hg-tiny: LSP train 71.1 -> 70.7, MPII
    # frames dev PCKh 58.0 -> 56.9): the students learned the detector's ROI
    refine_passes = 0
    whole_frame_fallback = False  # no person-presence output: the share of joints found cannot tell nobody
    # their ROI keeps the detector's rotation, so an upright look would always "confirm" itself; on dev it turned
    # front-view push-ups (hips above the head in the image) head-down (hg-tiny WorkoutTracker dev 20 -> 19/33)
    prefer_upright = False

    def __init__(
        self,
        backend: Backend,
        mean: tuple[float, float, float] = SEED_MEAN,
        flip_test: bool = False,
        sigma: float = 2.0,
        joint_threshold: float = 0.2,
        roi_scale: float = 1.0,
    ) -> None:
        super().__init__(backend)
        layout = _input_layout(tuple(backend.input_shapes[0]))
        if layout is None:
            from poseit.errors import PoseItError

            raise PoseItError(f"heatmap model input {backend.input_shapes[0]} is not one RGB image (NCHW or NHWC)")
        self.layout, w, h = layout
        self.input_size = (w, h)
        self.mean = mean
        self.flip_test = flip_test
        self.joint_threshold = joint_threshold
        self.roi_scale = roi_scale
        self.flip_index = get_skeleton(self.skeleton).flip_index
        self.codec: HeatmapCodec | None = None
        self.sigma = sigma

    @staticmethod
    def accepts(backend: Backend) -> bool:
        """Whether ``backend`` looks like an MPII-16 heatmap model (one RGB input; a 4-D output with 16 channels)."""
        layout = _input_layout(tuple(backend.input_shapes[0])) if backend.input_shapes else None
        if layout is None or len(backend.input_names) != 1:
            return False
        kind, w, h = layout
        shape = (1, 3, h, w) if kind == "nchw" else (1, h, w, 3)
        try:
            outputs = backend.infer(np.zeros(shape, dtype=np.float32))
        except Exception:
            return False
        last = outputs[backend.output_names[-1]]
        return _as_nchw(last) is not None

    def _tensor(self, image_crop: np.ndarray) -> np.ndarray:
        x = normalize_image(image_crop, self.mean)
        return (x.transpose(2, 0, 1) if self.layout == "nchw" else x)[None]

    def _heatmaps(self, outputs: dict[str, np.ndarray]) -> np.ndarray:
        hm = _as_nchw(outputs[self.backend.output_names[-1]])
        if hm is None:
            from poseit.errors import PoseItError

            raise PoseItError(f"the model's last output {self.backend.output_names[-1]} is not 16 heatmaps")
        return hm[0]

    def _roi(self, roi: Roi) -> Roi:
        if self.roi_scale == 1.0:
            return roi
        return Roi(roi.cx, roi.cy, roi.width * self.roi_scale, roi.height * self.roi_scale, roi.rotation)

    def preprocess(self, image: np.ndarray, roi: Roi) -> tuple[np.ndarray, tuple[Roi, np.ndarray | None]]:
        roi = self._roi(roi)
        w, h = self.input_size
        patch = crop(image, roi, w, h, border="zero")
        mirrored = None
        if self.flip_test:
            out = self.backend.infer(self._tensor(np.ascontiguousarray(patch[:, ::-1])))
            mirrored = flip_back(self._heatmaps(out), self.flip_index)
        return self._tensor(patch), (roi, mirrored)

    def postprocess(self, outputs: dict[str, np.ndarray], meta: tuple[Roi, np.ndarray | None]) -> Landmarks:
        roi, mirrored = meta
        hm = self._heatmaps(outputs)
        if mirrored is not None:
            hm = (hm + mirrored) * 0.5
        if self.codec is None or self.codec.heatmap_size != (hm.shape[2], hm.shape[1]):
            self.codec = HeatmapCodec(self.input_size, (hm.shape[2], hm.shape[1]), self.sigma)
        xy_crop, peaks = self.codec.decode(hm)
        norm = xy_crop / np.asarray(self.input_size, dtype=np.float32)
        xy = roi.to_frame(norm)
        return Landmarks(xy=xy, scores=peaks, score=float(np.mean(peaks >= self.joint_threshold)), roi=roi)

    def next_roi(self, landmarks: Landmarks, alignment: np.ndarray | None = None) -> Roi:
        """Track with a square around the found joints, turned so that pelvis -> upper neck points up."""
        found = landmarks.scores >= self.joint_threshold
        if found.sum() < 2:
            return landmarks.roi
        pts = landmarks.xy[found]
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        idx = get_skeleton(self.skeleton).index
        rotation = landmarks.roi.rotation
        a, b = idx["pelvis"], idx["upper_neck"]
        if found[a] and found[b]:
            dx, dy = landmarks.xy[b] - landmarks.xy[a]
            rotation = math.pi / 2 - math.atan2(-dy, dx)
            rotation = rotation - 2 * math.pi * math.floor((rotation + math.pi) / (2 * math.pi))
        side = max(float(max(hi - lo)) * 1.25 * self.tracking_scale, landmarks.roi.width * 0.5) / self.roi_scale
        c = (lo + hi) / 2
        return Roi(float(c[0]), float(c[1]), side, side, rotation)
