"""Per-frame image features for the coach, and shot boundaries (cuts and dissolves) found from them.

The features are computed from each decoded frame in the same pass as the poses (`frame_features`, called by
`PoseSequence.from_video` and `LiveCoach`): a 64x64 grey thumbnail and an 8x4x4 HSV colour histogram (sums to
1). A few kilobytes a frame: enough to find cuts and to measure the periodicity of the pixels
(`poseit.coach.periodic.count_pixels`).

Shot boundaries, as shot-boundary detectors find them (not from joints jumping: a joints jump without an image
change is a tracking glitch, and the counter bridges it like any other noisy frame):

- a **hard cut** between frames t-1 and t: the thumbnail difference (or the colour-histogram distance,
  together with a picture change larger than on any frame near it) stands out from its neighbourhood, the
  sliding-window test of shot-boundary detectors (Yeo & Liu 1995): at least ``CUT_RATIO`` times every other
  value within +-``CUT_WINDOW_S``, and above an absolute floor. Motion (an arm swung overhead, a zoom, a pan)
  changes the neighbouring frames as much, so it fails the ratio test; a colour jump with no picture change
  is an encoder key frame unless it moves half the colour distribution. A change confined to part of the
  picture (a caption popping up, or a jump cut within one static shot) is a cut only where the tracked
  person jumps with it, when that is known;
- a **gradual transition** (dissolve, fade) over up to 2 x ``DISSOLVE_HALF_S``: frame t is, pixel for pixel,
  close to the average of frames t-k and t+k (a blend of the two shots) while those two differ much more than
  motion makes frames differ over the same span (the clip's median). Thumbnails are compared with each
  frame's brightness and contrast taken out, so auto-exposure is no transition. A moving person or a zoom
  moves edges instead of blending them, so the middle frame is far from the average. Each run of such frames
  is one transition.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

THUMB = 64  # thumbnails are THUMB x THUMB grey pixels
HIST_BINS = (8, 4, 4)  # hue, saturation, value

CUT_WINDOW_S = 0.5  # a hard cut's distance is the largest within this many seconds either side
CUT_RATIO = 3.0  # ... at least this many times any other there
CUT_MIN_PIXELS = 0.01  # mean absolute thumbnail difference (0..1) of a cut
CUT_MIN_HIST = 0.15  # half the L1 distance of consecutive colour histograms (0..1) of a cut by colour
CUT_PICTURE_RATIO = 1.5  # ... whose picture changes more than on any other frame near it (not a key frame)
CHANGE_LEVEL = 0.08  # a thumbnail pixel "changes" when it moves by this share of the grey range
LOCAL_SHARE = 0.15  # a cut changing less of the picture needs the person to jump with it (see `hard_cuts`)
CUT_STRONG_HIST = 0.5  # a change of this much of the colour distribution is a cut without the pixel test

DISSOLVE_HALF_S = 0.25  # frames t-k and t+k, k this many seconds from the middle one
DISSOLVE_BLEND = 0.3  # |I_t - (I_t-k + I_t+k) / 2| at most this share of |I_t+k - I_t-k|
DISSOLVE_CONTRAST = 3.0  # |I_t+k - I_t-k| at least this many times its median over the clip
DISSOLVE_MIN_PIXELS = 0.06  # ... and at least this (mean absolute difference, 0..1)
DISSOLVE_MIN_S = 0.05  # the blend test holds at least this long (single frames are noise)


@dataclass(frozen=True)
class FrameFeatures:
    """thumbs: (T, THUMB, THUMB) uint8 grey; hists: (T, B) float32 HSV histograms (each sums to 1)."""

    thumbs: np.ndarray
    hists: np.ndarray

    def __len__(self) -> int:
        return int(self.thumbs.shape[0])

    def slice(self, start: int, stop: int) -> FrameFeatures:
        return FrameFeatures(self.thumbs[start:stop], self.hists[start:stop])

    @classmethod
    def stack(cls, items: list[tuple[np.ndarray, np.ndarray]]) -> FrameFeatures:
        """From the (thumb, hist) pairs of `frame_features`, in frame order."""
        bins = int(np.prod(HIST_BINS))
        if not items:
            return cls(np.zeros((0, THUMB, THUMB), np.uint8), np.zeros((0, bins), np.float32))
        return cls(np.stack([a for a, _ in items]), np.stack([b for _, b in items]))

    def arrays(self) -> dict[str, np.ndarray]:
        """For `numpy.savez` (`from_arrays` reads them back)."""
        return {"frame_thumbs": self.thumbs, "frame_hists": self.hists}

    @classmethod
    def from_arrays(cls, z) -> FrameFeatures | None:
        """From a mapping written by `arrays` (None when it has none)."""
        if "frame_thumbs" not in z:
            return None
        return cls(np.asarray(z["frame_thumbs"], np.uint8), np.asarray(z["frame_hists"], np.float32))


def frame_features(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (THUMB, THUMB) grey thumbnail and the HSV histogram of one BGR (or grey) frame."""
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    small = cv2.resize(image, (THUMB, THUMB), interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, list(HIST_BINS), [0, 180, 0, 256, 0, 256]).ravel()
    return grey, (hist / max(float(hist.sum()), 1.0)).astype(np.float32)


# --- shot boundaries ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Transition:
    """A shot boundary: frames ``start``..``end`` (inclusive; equal for a hard cut, where ``start`` is the
    first frame of the new shot)."""

    start: int
    end: int
    kind: str  # "cut" or "dissolve"


def frame_distances(features: FrameFeatures) -> tuple[np.ndarray, np.ndarray]:
    """(T,) colour-histogram distance (half L1) and mean absolute thumbnail difference (0..1) of each frame to
    the one before (0 on the first)."""
    t = len(features)
    hist = np.zeros(t)
    pix = np.zeros(t)
    if t > 1:
        hist[1:] = 0.5 * np.abs(np.diff(features.hists.astype(np.float64), axis=0)).sum(axis=1)
        thumbs = features.thumbs.astype(np.float32) / 255.0
        pix[1:] = np.abs(np.diff(thumbs, axis=0)).mean(axis=(1, 2))
    return hist, pix


def _stands_out(d: np.ndarray, t: int, w: int, ratio: float) -> bool:
    """Whether d[t] is at least ``ratio`` times every other value within +-w frames."""
    others = np.concatenate([d[max(1, t - w) : t], d[t + 1 : t + w + 1]])
    return bool(d[t] >= ratio * (float(others.max()) if len(others) else 0.0))


def changed_share(features: FrameFeatures, t: int) -> float:
    """The share of thumbnail pixels that change by more than `CHANGE_LEVEL` from frame t-1 to t."""
    a, b = features.thumbs[t - 1].astype(np.float32), features.thumbs[t].astype(np.float32)
    return float((np.abs(b - a) > CHANGE_LEVEL * 255).mean())


def hard_cuts(features: FrameFeatures, fps: float, moved: np.ndarray | None = None) -> list[int]:
    """First frames of new shots after a hard cut (see the module doc). With ``moved`` ((T,) whether the
    tracked person jumped or appeared on each frame), a change confined to part of the picture (under
    `LOCAL_SHARE` of it: a caption or overlay popping up, or a jump cut within one shot) is a cut only where
    the person jumped with it."""
    hist, pix = frame_distances(features)
    w = max(2, round(CUT_WINDOW_S * fps))
    cuts = []
    for t in range(1, len(features)):
        picture = pix[t] >= CUT_MIN_PIXELS and _stands_out(pix, t, w, CUT_RATIO)
        colours = (
            hist[t] >= CUT_MIN_HIST
            and _stands_out(hist, t, w, CUT_RATIO)
            and pix[t] >= CUT_MIN_PIXELS
            and _stands_out(pix, t, w, CUT_PICTURE_RATIO)
        )
        if not (picture or colours or (hist[t] >= CUT_STRONG_HIST and _stands_out(hist, t, w, CUT_RATIO))):
            continue
        if moved is not None and changed_share(features, t) < LOCAL_SHARE and not moved[t - 1 : t + 2].any():
            continue
        cuts.append(t)
    return cuts


def blend_scores(features: FrameFeatures, fps: float) -> tuple[np.ndarray, np.ndarray, int]:
    """(T,) |I_t+k - I_t-k| (mean absolute, 0..1) and |I_t - (I_t-k + I_t+k) / 2| / |I_t+k - I_t-k|, and k."""
    t_len = len(features)
    k = max(2, round(DISSOLVE_HALF_S * fps))
    contrast = np.zeros(t_len)
    blend = np.ones(t_len)
    if t_len <= 2 * k:
        return contrast, blend, k
    x = _normalised(features.thumbs)
    before, mid, after = x[: -2 * k], x[k:-k], x[2 * k :]
    c = np.abs(after - before).mean(axis=(1, 2))
    r = np.abs(mid - 0.5 * (before + after)).mean(axis=(1, 2))
    contrast[k:-k] = c
    with np.errstate(invalid="ignore", divide="ignore"):
        blend[k:-k] = np.where(c > 0, r / c, 1.0)
    return contrast, blend, k


def _normalised(thumbs: np.ndarray) -> np.ndarray:
    """Thumbnails with each frame's mean and contrast taken out (an exposure change is no transition),
    scaled so that a typical frame's pixels spread over about 0..1."""
    x = thumbs.astype(np.float32)
    mean = x.mean(axis=(1, 2), keepdims=True)
    std = x.std(axis=(1, 2), keepdims=True)
    return (x - mean) / np.maximum(std, 4.0) * 0.25


def dissolves(features: FrameFeatures, fps: float) -> list[tuple[int, int]]:
    """(start, end) frames of gradual transitions (see the module doc)."""
    contrast, blend, k = blend_scores(features, fps)
    if not contrast.any():
        return []
    usual = float(np.median(contrast[k:-k]))
    floor = max(DISSOLVE_MIN_PIXELS, DISSOLVE_CONTRAST * usual)
    candidate = (contrast >= floor) & (blend <= DISSOLVE_BLEND)
    out = []
    for a, b in _runs(candidate):
        if (b - a) / fps >= DISSOLVE_MIN_S:
            # the blend test holds on the middle ~60% of a linear dissolve: widen the run by a third each side
            grow = max(1, round((b - a) / 3))
            out.append((max(0, a - grow), min(len(features) - 1, b - 1 + grow)))
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def transitions(features: FrameFeatures, fps: float, moved: np.ndarray | None = None) -> list[Transition]:
    """Hard cuts and gradual transitions in frame order (a hard cut inside a dissolve's span is part of it);
    ``moved`` as for `hard_cuts`."""
    found = [Transition(a, b, "dissolve") for a, b in dissolves(features, fps)]
    for t in hard_cuts(features, fps, moved):
        if not any(d.start - 1 <= t <= d.end + 1 for d in found):
            found.append(Transition(t, t, "cut"))
    return sorted(found, key=lambda d: d.start)


def cut_mask(features: FrameFeatures | None, fps: float, length: int, moved: np.ndarray | None = None) -> np.ndarray:
    """(length,) True on every frame of a shot boundary (none without image features)."""
    mask = np.zeros(length, dtype=bool)
    if features is None or len(features) != length:
        return mask
    for d in transitions(features, fps, moved):
        mask[d.start : d.end + 1] = True
    return mask


def cut_now(features: FrameFeatures, fps: float, moved: bool | None = None) -> bool:
    """Live (causal) test on the newest frame of ``features`` (the last seconds of a stream): a hard cut to it
    (`hard_cuts` against the frames before it only; ``moved``: whether the person jumped on it), or a
    dissolve whose middle was ``k`` frames ago (the newest frame is its far end)."""
    t = len(features) - 1
    if t < 2:
        return False
    w = max(2, round(CUT_WINDOW_S * fps))
    recent = features.slice(max(0, t - w), t + 1)
    hist, pix = frame_distances(recent)
    n = len(recent) - 1
    if n >= 1:
        picture = pix[n] >= CUT_MIN_PIXELS and _stands_out(pix, n, w, CUT_RATIO)
        colours = hist[n] >= CUT_STRONG_HIST and _stands_out(hist, n, w, CUT_RATIO)
        local = moved is False and changed_share(recent, n) < LOCAL_SHARE
        if (picture or colours) and not local:
            return True
    contrast, blend, k = blend_scores(features, fps)
    if len(features) <= 4 * k:
        return False
    floor = max(DISSOLVE_MIN_PIXELS, DISSOLVE_CONTRAST * float(np.median(contrast[k:-k])))
    return bool(contrast[t - k] >= floor and blend[t - k] <= DISSOLVE_BLEND)
