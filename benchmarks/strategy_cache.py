"""The engine's raw detector and landmark outputs per image, cached once so that every detector strategy can
be scored as a selection over the cache (`eval_detector_strategy.py`).

For each image: every detection (after NMS) of the detector on the frame padded by 0.25, on the plain frame,
and on each tile of the 2x2 grid (in frame pixels), and the landmark model's output on each detection's ROI.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poseit.detect.roi import Roi, grid_tiles
from poseit.models.base import Detection

PAD = 0.25
TILES = 2
CACHE_VERSION = 1


@dataclass
class Candidate:
    """One detection from one try, with the landmark model's output on its ROI (landmarks on BlazePose-33)."""

    source: str  # "plain", "padded" or "tiles"
    detection: Detection
    xy: np.ndarray  # (33, 2) frame pixels
    scores: np.ndarray  # (33,) visibility
    score: float  # the landmark model's person score (pose flag)


@dataclass
class CachedImage:
    image: str
    width: int
    height: int
    candidates: list[Candidate]

    def found(self, source: str) -> list[Candidate]:
        return [c for c in self.candidates if c.source == source]


def _detect_all(detector, jobs: list[tuple[np.ndarray, float, int, int]]) -> list[list[Detection]]:
    inputs = [detector.preprocess(image, pad) for image, pad, _, _ in jobs]
    outputs = detector.backend.infer_many(tensor for tensor, _ in inputs)
    return [
        [d.shifted(x0, y0) for d in detector.postprocess(out, box)]
        for (_, _, x0, y0), out, (_, box) in zip(jobs, outputs, inputs, strict=True)
    ]


def engine_outputs(estimator, image: np.ndarray, path: str) -> CachedImage:
    """Every try's detections on ``image`` and the landmarks on each detection's ROI."""
    h, w = image.shape[:2]
    jobs = [(image, PAD, 0, 0), (image, 0.0, 0, 0)]
    jobs += [(image[y0:y1, x0:x1], 0.0, x0, y0) for x0, y0, x1, y1 in grid_tiles(w, h, TILES)]
    found = _detect_all(estimator.detector, jobs)
    tagged = [("padded", d) for d in found[0]] + [("plain", d) for d in found[1]]
    tagged += [("tiles", d) for f in found[2:] for d in f]
    lm = estimator.landmarks
    inputs = [lm.preprocess(image, d.roi) for _, d in tagged]
    outputs = list(lm.backend.infer_many(t for t, _ in inputs))
    cands = []
    for (src, d), out, (_, meta) in zip(tagged, outputs, inputs, strict=True):
        r = lm.postprocess(out, meta)
        cands.append(Candidate(src, d, r.xy.astype(np.float32), r.scores.astype(np.float32), float(r.score)))
    return CachedImage(path, w, h, cands)


def landmarks_on(estimator, image: np.ndarray, roi: Roi) -> tuple[np.ndarray, float]:
    """(33, 2) landmarks and the person score of ``estimator``'s landmark model on one ROI."""
    r = estimator.landmarks(image, roi)
    return r.xy.astype(np.float32), float(r.score)


def build(paths: list[str], model: str, cache: Path, progress: bool = True) -> list[CachedImage]:
    """Cached outputs for ``paths`` (computed for the images missing from ``cache``, then saved)."""
    from tqdm import tqdm

    from poseit.io.sources import read_image
    from poseit.pipeline import PoseEstimator

    store: dict[str, CachedImage] = {}
    if cache.is_file():
        with open(cache, "rb") as f:
            version, store = pickle.load(f)
        if version != CACHE_VERSION:
            store = {}
    todo = [p for p in paths if p not in store]
    if todo:
        est = PoseEstimator(model, mode="detect", num_threads=1)
        for i, p in enumerate(tqdm(todo, unit="image", disable=not progress, leave=False)):
            store[p] = engine_outputs(est, read_image(p), p)
            if (i + 1) % 500 == 0 or i + 1 == len(todo):
                cache.parent.mkdir(parents=True, exist_ok=True)
                with open(cache, "wb") as f:
                    pickle.dump((CACHE_VERSION, store), f)
    return [store[p] for p in paths]


def roi_key(roi: Roi) -> tuple[float, ...]:
    return tuple(round(float(v), 2) for v in (roi.cx, roi.cy, roi.width, roi.height, roi.rotation))


def landmarks_for(
    jobs: list[tuple[str, list[Roi]]], model: str, cache: Path, progress: bool = True
) -> dict[tuple, tuple[np.ndarray, np.ndarray, float]]:
    """Another landmark model's (xy, visibility, person score) on given ROIs of given images, keyed by (image,
    `roi_key`); computed where missing from ``cache`` and saved."""
    from tqdm import tqdm

    from poseit.io.sources import read_image
    from poseit.pipeline import PoseEstimator

    store: dict[tuple, tuple[np.ndarray, np.ndarray, float]] = {}
    if cache.is_file():
        with open(cache, "rb") as f:
            version, store = pickle.load(f)
        if version != CACHE_VERSION:
            store = {}
    todo = [(p, [r for r in rois if (p, roi_key(r)) not in store]) for p, rois in jobs]
    todo = [(p, rois) for p, rois in todo if rois]
    if todo:
        est = PoseEstimator(model, mode="detect", num_threads=1)
        for i, (p, rois) in enumerate(tqdm(todo, unit="image", disable=not progress, leave=False)):
            image = read_image(p)
            for roi in rois:
                r = est.landmarks(image, roi)
                store[p, roi_key(roi)] = (r.xy.astype(np.float32), r.scores.astype(np.float32), float(r.score))
            if (i + 1) % 500 == 0 or i + 1 == len(todo):
                cache.parent.mkdir(parents=True, exist_ok=True)
                with open(cache, "wb") as f:
                    pickle.dump((CACHE_VERSION, store), f)
    return store
