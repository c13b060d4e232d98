"""Exercise recognition from keypoint sequences (numpy only at inference).

`clip_features` turns one person's sequence (any skeleton, mapped to the 13 core joints) into a fixed-length
vector: per-frame body-normalised joint positions, joint angles and limb orientations, summarised over the
clip (mean, spread, extremes, the mean of each third, speed) plus the clip's periodicity. A small MLP
(`Recognizer`, weights in ``poseit/coach/models/recognizer.json``) maps it to action classes. It is trained on
Penn Action's own train split by ``python -m poseit.coach.train_recognizer`` (see that module).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from poseit.coach.kinematics import Body, _quiet, fill_gaps
from poseit.coach.sequence import PoseSequence
from poseit.errors import PoseItError

LIMB_JOINTS = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
ANGLES = ("knee_angle", "hip_angle", "elbow_angle", "shoulder_angle")
SEGMENTS = (("shoulder", "elbow"), ("elbow", "wrist"), ("hip", "knee"), ("knee", "ankle"), ("hip", "shoulder"))
MAX_FRAMES = 300  # longer sequences are subsampled in time to this many frames


def frame_features(body: Body) -> np.ndarray:
    """(T, F) per-frame features: joint positions relative to the hips in torso lengths, joint angles / 180
    and the vertical component of each limb segment's direction (mirror-invariant)."""
    with _quiet():
        scale = np.nanmedian(np.linalg.norm(body.mid("shoulder") - body.mid("hip"), axis=-1))
    if not np.isfinite(scale) or scale <= 0:
        scale = 1.0
    center = body.mid("hip")
    cols = []
    for name in ("head", *(f"{s}_{j}" for s in ("left", "right") for j in LIMB_JOINTS)):
        rel = (body.j(name) - center) / scale
        cols += [rel[:, 0], rel[:, 1]]
    for a in ANGLES:
        for side in ("left", "right"):
            cols.append(body.sided(a, side) / 180.0)
    for side in ("left", "right"):
        for a, b in SEGMENTS:
            d = body.j(f"{side}_{b}") - body.j(f"{side}_{a}")
            with np.errstate(invalid="ignore", divide="ignore"):
                cols.append(d[:, 1] / np.linalg.norm(d, axis=-1))
    trunk = body.mid("shoulder") - center
    with np.errstate(invalid="ignore", divide="ignore"):
        cols.append(trunk[:, 1] / np.linalg.norm(trunk, axis=-1))
    cols.append((center[:, 1] - np.nanmedian(center[:, 1])) / scale if np.isfinite(center).any() else center[:, 1])
    cols.append((center[:, 0] - np.nanmedian(center[:, 0])) / scale if np.isfinite(center).any() else center[:, 0])
    return fill_gaps(np.stack(cols, axis=1))


def _periodicity(x: np.ndarray, fps: float) -> list[float]:
    """Strength and period (s) of the strongest repetition in the (T, F) features, by autocorrelation."""
    t = len(x)
    if t < 8:
        return [0.0, 0.0]
    x = x - x.mean(axis=0)
    n = 1 << int(np.ceil(np.log2(2 * t)))
    f = np.fft.rfft(x, n, axis=0)
    ac = np.fft.irfft(f * np.conj(f), n, axis=0)[: t // 2 + 1].sum(axis=1)
    if ac[0] <= 0:
        return [0.0, 0.0]
    ac = ac / ac[0]
    lo = max(2, int(0.25 * fps))
    if lo >= len(ac) - 1:
        return [0.0, 0.0]
    lag = lo + int(np.argmax(ac[lo:]))
    return [float(ac[lag]), lag / fps]


def clip_features(seq: PoseSequence) -> np.ndarray:
    """A fixed-length description of one clip (see the module doc)."""
    body = Body.from_sequence(seq, min_score=0.0)
    if len(body) == 0 or not seq.present.any():
        raise PoseItError("no person in the sequence to recognise an exercise from")
    present = seq.present
    x = frame_features(body)[present]
    fps = seq.fps
    if len(x) > MAX_FRAMES:
        keep = np.linspace(0, len(x) - 1, MAX_FRAMES).round().astype(int)
        fps = fps * MAX_FRAMES / len(x)
        x = x[keep]
    thirds = np.array_split(x, 3) if len(x) >= 3 else [x, x, x]
    speed = np.abs(np.diff(x, axis=0)).mean(axis=0) * fps if len(x) > 1 else np.zeros(x.shape[1])
    parts = [x.mean(0), x.std(0), x.min(0), x.max(0), *(p.mean(0) for p in thirds), speed, _periodicity(x, fps)]
    return np.concatenate(parts).astype(np.float32)


def mirror_sequence(seq: PoseSequence) -> PoseSequence:
    """The sequence seen in a mirror: x flipped and left/right joints swapped (training augmentation)."""
    from poseit.skeletons import get_skeleton

    skel = get_skeleton(seq.skeleton)
    xy = seq.xy[:, skel.flip_index].copy()
    width = seq.width or float(np.nanmax(seq.xy[..., 0]) + 1)
    xy[..., 0] = width - xy[..., 0]
    return PoseSequence(xy, seq.scores[:, skel.flip_index], seq.skeleton, seq.fps, seq.times, seq.width, seq.height)


# --- the classifier -------------------------------------------------------------------------------------------
def _encode(a: np.ndarray) -> dict:
    """An array as JSON: shape and base64 little-endian float16 (ample precision for these weights)."""
    a = np.asarray(a, dtype="<f2")
    return {"shape": list(a.shape), "f16": base64.b64encode(a.tobytes()).decode("ascii")}


def _decode(d: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(d["f16"]), dtype="<f2").astype(np.float32).reshape(d["shape"])


@dataclass
class Recognizer:
    """Standardise, then a one-hidden-layer MLP (ReLU) and softmax; an ensemble averages several."""

    classes: list[str]
    mean: np.ndarray
    std: np.ndarray
    layers: list[list[tuple[np.ndarray, np.ndarray]]]  # per ensemble member: [(W1, b1), (W2, b2)]
    info: dict

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """(N, C) class probabilities for (N, F) or (F,) features."""
        x = np.atleast_2d(features).astype(np.float32)
        if x.shape[1] != len(self.mean):
            raise PoseItError(f"recogniser expects {len(self.mean)} features, got {x.shape[1]}")
        x = (x - self.mean) / self.std
        probs = np.zeros((len(x), len(self.classes)), dtype=np.float64)
        for member in self.layers:
            h = x
            for i, (w, b) in enumerate(member):
                h = h @ w + b
                if i < len(member) - 1:
                    h = np.maximum(h, 0)
            h = h - h.max(axis=1, keepdims=True)
            e = np.exp(h)
            probs += e / e.sum(axis=1, keepdims=True)
        return probs / len(self.layers)

    def to_json(self) -> dict:
        return {
            "classes": self.classes,
            "mean": _encode(self.mean),
            "std": _encode(self.std),
            "layers": [[[_encode(w), _encode(b)] for w, b in member] for member in self.layers],
            "info": self.info,
        }

    @classmethod
    def from_json(cls, data: dict) -> Recognizer:
        layers = [[(_decode(w), _decode(b)) for w, b in member] for member in data["layers"]]
        return cls(list(data["classes"]), _decode(data["mean"]), _decode(data["std"]), layers, data.get("info", {}))

    def save(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path | None = None) -> Recognizer:
        """From ``path``, or the packaged weights."""
        try:
            if path is None:
                text = (resources.files("poseit.coach") / "models" / "recognizer.json").read_text(encoding="utf-8")
            else:
                text = Path(path).read_text(encoding="utf-8")
            return cls.from_json(json.loads(text))
        except (OSError, ValueError, KeyError) as exc:
            raise PoseItError(f"cannot load the exercise recogniser weights: {exc}") from None


@cache
def default_recognizer() -> Recognizer:
    return Recognizer.load()


def recognize(seq: PoseSequence, recognizer: Recognizer | None = None) -> list[tuple[str, float]]:
    """Action classes and probabilities for a sequence, most likely first."""
    model = recognizer or default_recognizer()
    probs = model.predict_proba(clip_features(seq))[0]
    order = np.argsort(-probs)
    return [(model.classes[i], float(probs[i])) for i in order]


def motion_energy(body: Body) -> np.ndarray:
    """(T,) how fast the body moves: median joint speed in torso lengths per second (0 on the first frame and
    where unknown)."""
    pts = np.stack([body.j(n) for n in body.joints], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"), _quiet():
        speed = np.nanmedian(np.linalg.norm(np.diff(pts, axis=0), axis=-1), axis=1) / body.torso[1:] * body.fps
    return np.concatenate([[0.0], np.nan_to_num(speed)])


def recognize_windows(
    seq: PoseSequence, recognizer: Recognizer | None = None, window_s: float = 4.0, hop_s: float = 0.5
) -> list[tuple[str, float]]:
    """Like `recognize`, for long videos: the classifier (trained on short labelled clips) looks at windows of
    ``window_s`` where a person is present, and their probabilities are averaged weighted by how much the body
    moves in each (windows of standing still between sets say little about the exercise)."""
    model = recognizer or default_recognizer()
    n = len(seq)
    width = min(n, max(2, round(window_s * seq.fps)))
    hop = max(1, round(hop_s * seq.fps))
    energy = motion_energy(Body.from_sequence(seq, min_score=0.0))
    probs, weights = [], []
    for start in range(0, max(1, n - width + 1), hop):
        part = seq.slice(start, start + width)
        if part.present.mean() < 0.8:
            continue
        probs.append(model.predict_proba(clip_features(part))[0])
        weights.append(float(energy[start : start + width].mean()))
    if not probs:
        return recognize(seq, model)
    p, w = np.array(probs), np.array(weights)
    keep = w >= 0.5 * np.percentile(w, 90)
    if w[keep].sum() <= 0:
        keep, w = np.ones(len(w), dtype=bool), np.ones(len(w))
    mean = (p[keep] * w[keep, None]).sum(axis=0) / w[keep].sum()
    order = np.argsort(-mean)
    return [(model.classes[i], float(mean[i])) for i in order]
