"""Counting anything that repeats, without an exercise definition (``--exercise any``).

1. Features per frame, in torso lengths and independent of which side is which: for each left/right joint pair
   the mean and the absolute difference of their heights relative to the hips and their horizontal distance;
   for each joint angle the mean and absolute difference of the two sides (/ 90 degrees); the hips' height
   and the head's height above them. Swapping the sides leaves these unchanged, so motions that alternate
   sides (lunges left then right, hand over hand on monkey bars) repeat once per side, as people count them.
2. Gaps are interpolated, slow drift (camera moves, walking) is removed with a moving average, frames without a
   person are zeroed.
3. The period is the shortest strong peak of the features' summed autocorrelation (0.3 to 6 s). Where that is
   under 0.45 s and the side-specific features repeat at twice that lag, each cycle alternates sides too fast
   to be two reps (pedalling), and the period doubles.
4. The principal component that repeats best at that period is band-passed around it; its phase (analytic
   signal) advances one turn per repetition; the count is the phase travelled while the motion is active,
   and the reps are the stretches between whole turns. Long clips are read in overlapping windows of eight
   periods (at most 15 s), each with its own component and period, so a change of camera angle or of tempo
   mid-clip does not lose the count.
5. The same counter reads the pixels (`count_pixels`: principal components of detrended, downscaled frames,
   whose summed autocorrelation is the frames' self-similarity matrix averaged along its diagonals), and
   `fuse` picks between the two counts by their confidence.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from poseit.coach.frames import FrameFeatures
from poseit.coach.kinematics import Body, fill_gaps

PAIRS = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
ANGLES = ("knee_angle", "hip_angle", "elbow_angle", "shoulder_angle")
MIN_PERIOD_S = 0.3
MAX_PERIOD_S = 6.0
ALTERNATION_MIN_S = 0.45
WINDOW_PERIODS = 8  # long clips are read in windows of this many periods (see `_phase_steps`)
WINDOW_MAX_S = 15.0  # ... of at most this many seconds (at least 3 periods), each with its own period
LOCAL_CAP = 1.25  # a window's own period is used when it is at most this many times the clip's
MIN_AMPLITUDE = 0.05  # torso lengths (or 90-degree units): smaller swings are tremor, not repetitions


@dataclass
class PeriodicResult:
    """Repetitions found by periodicity. ``cycles`` is the fractional count, ``count`` its rounding;
    ``events`` are (start, turn, end) frames of each whole repetition; ``signal`` the component counted."""

    count: int
    cycles: float
    period_s: float | None
    strength: float  # autocorrelation at the period (0..1): how clearly the motion repeats
    events: list[tuple[int, int, int]]
    signal: np.ndarray
    active: np.ndarray


def _moving_average(x: np.ndarray, window: int) -> np.ndarray:
    window = max(1, int(window)) | 1
    pad = np.pad(x, ((window // 2, window // 2), (0, 0)), mode="edge")
    c = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), pad]), axis=0)
    return (c[window:] - c[:-window]) / window


def pose_features(body: Body, side_free: bool = True) -> np.ndarray:
    """(T, F) features of the module doc (``side_free=False``: each side's values as they are)."""
    torso, hips = body.torso, body.mid("hip")
    cols: list[np.ndarray] = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for part in PAIRS:
            left = (body.j(f"left_{part}") - hips) / torso[:, None]
            right = (body.j(f"right_{part}") - hips) / torso[:, None]
            if side_free:
                cols += [
                    (left[:, 1] + right[:, 1]) / 2,
                    np.abs(left[:, 1] - right[:, 1]) / 2,
                    np.abs(left[:, 0] - right[:, 0]) / 2,
                ]
            else:
                cols += [left[:, 0], left[:, 1], right[:, 0], right[:, 1]]
        for name in ANGLES:
            left, right = body.sided(name, "left") / 90, body.sided(name, "right") / 90
            cols += [(left + right) / 2, np.abs(left - right) / 2] if side_free else [left, right]
        cols += [hips[:, 1] / torso, (body.j("head")[:, 1] - hips[:, 1]) / torso]
    return np.stack(cols, axis=1)


def _prepared(body: Body, side_free: bool, present: np.ndarray, detrend_s: float) -> np.ndarray:
    x = fill_gaps(pose_features(body, side_free), min_points=2)
    x = x - _moving_average(x, detrend_s * body.fps)
    return np.clip(x, -3, 3) * present[:, None]


def autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Summed autocorrelation of the columns of ``x`` for lags 0..max_lag, normalised to 1 at lag 0 and
    corrected for the shrinking overlap."""
    t = len(x)
    n = 1 << int(np.ceil(np.log2(2 * t)))
    f = np.fft.rfft(x, n, axis=0)
    ac = np.fft.irfft(f * np.conj(f), n, axis=0)[: max_lag + 1].sum(axis=1)
    if ac[0] <= 0:
        return np.zeros(max_lag + 1)
    return ac / ac[0] * t / (t - np.arange(max_lag + 1))


def strongest_period(ac: np.ndarray, min_lag: int, max_lag: int, near: float = 0.8) -> int | None:
    """The shortest autocorrelation peak within ``near`` of the highest one (avoids counting every second rep)."""
    lags = range(min_lag, min(max_lag, len(ac) - 1))
    peaks = [lag for lag in lags if ac[lag] > ac[lag - 1] and ac[lag] >= ac[lag + 1] and ac[lag] > 0]
    if not peaks:
        return None
    best = max(ac[lag] for lag in peaks)
    return min(lag for lag in peaks if ac[lag] >= near * best)


def _phase(y: np.ndarray, period: int) -> tuple[np.ndarray, np.ndarray]:
    """Unwrapped phase and amplitude of ``y`` band-passed around 1/period (FFT analytic signal)."""
    t = len(y)
    n = 1 << int(np.ceil(np.log2(2 * t)))
    freqs = np.fft.fftfreq(n)
    f0 = 1.0 / period
    spectrum = np.fft.fft(y, n) * ((np.abs(freqs) > 0.6 * f0) & (np.abs(freqs) < 1.6 * f0))
    spectrum[freqs < 0] = 0
    analytic = np.fft.ifft(2 * spectrum)[:t]
    return np.unwrap(np.angle(analytic)), np.abs(analytic)


def _best_component(x: np.ndarray, period: int) -> np.ndarray:
    """The principal component of ``x`` that repeats best at ``period`` (weighted by its variance)."""
    u, s, _ = np.linalg.svd(x - x.mean(axis=0), full_matrices=False)
    k = min(6, len(s))
    comps = u[:, :k] * s[:k]
    score = [_lag_correlation(c, period) * sv for c, sv in zip(comps.T, s[:k], strict=True)]
    return comps[:, int(np.argmax(score))]


def _lag_correlation(c: np.ndarray, lag: int) -> float:
    """Pearson correlation of ``c`` with itself ``lag`` frames later (0 where undefined)."""
    if len(c) <= lag + 2:
        return 0.0
    a, b = c[:-lag] - c[:-lag].mean(), c[lag:] - c[lag:].mean()
    denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denom) if denom > 0 else 0.0


def _local_period(x: np.ndarray, period: int, fps: float) -> int:
    """The period of one window of a long clip: its own strongest period where that is no longer than
    `LOCAL_CAP` times the clip's (the tempo drifts over a long set); a longer one is the window missing every
    other cycle (a view where alternate cycles look alike), so the clip's period stays."""
    lo = max(2, int(MIN_PERIOD_S * fps))
    hi = min(int(MAX_PERIOD_S * fps), int(len(x) / 1.8))
    found = strongest_period(autocorrelation(x, hi), lo, hi) if hi > lo + 1 else None
    return found if found is not None and found <= LOCAL_CAP * period else period


def _phase_steps(
    x: np.ndarray, present: np.ndarray, period: int, fps: float, min_amplitude: float = MIN_AMPLITUDE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame phase advance (radians) of the repeating motion, the component it was read from and the
    active mask. Long clips are read in overlapping windows of ``WINDOW_PERIODS`` periods (at most
    `WINDOW_MAX_S`), each with its own principal component and period (`_local_period`), so a change of camera
    angle (which changes which joints carry the motion) or of tempo does not lose the count; each frame takes
    the advance from the window whose centre is nearest."""
    t_len = len(x)
    width = max(min(WINDOW_PERIODS * period, round(WINDOW_MAX_S * fps)), 3 * period, 1)
    if t_len <= 1.5 * width:
        starts = [0]
        width = t_len
    else:
        hop = width // 2
        starts = list(range(0, t_len - width + 1, hop))
        if starts[-1] + width < t_len:
            starts.append(t_len - width)
    step = np.zeros(t_len - 1)
    y_out = np.zeros(t_len)
    active = np.zeros(t_len, dtype=bool)
    best_dist = np.full(t_len, np.inf)
    for a in starts:
        b = a + width
        local = _local_period(x[a:b], period, fps) if len(starts) > 1 else period
        y = _best_component(x[a:b], local)
        phase, amp = _phase(y, local)
        here = present[a:b]
        floor = max(0.25 * np.median(amp[here]), min_amplitude) if here.any() else np.inf
        act = here & (amp > floor)
        centre = (a + b - 1) / 2
        frames = np.arange(a, b)
        dist = np.abs(frames - centre)
        take = dist < best_dist[a:b]
        best_dist[a:b] = np.where(take, dist, best_dist[a:b])
        y_out[a:b] = np.where(take, y, y_out[a:b])
        active[a:b] = np.where(take, act, active[a:b])
        inc = np.clip(np.diff(phase), 0, None) * act[1:]
        step[a : b - 1] = np.where(take[1:], inc, step[a : b - 1])
    return step, y_out, active


def count_periodic(body: Body, min_strength: float = 0.02) -> PeriodicResult:
    """Count repetitions in ``body`` by periodicity (see the module doc). The features are measured in the image
    plane even where the body has world landmarks: with 3D angles mixed into the image-plane positions the
    count was worse on the dev clips (mean relative error 0.18 against 0.13 over QUVA dev, the WorkoutTracker
    dev clips with 3+ reps and ../shared)."""
    if body.has_world:
        body = replace(body, world=None, _cache={})
    t_len, fps = len(body), body.fps
    present = np.isfinite(body.mid("hip")).all(axis=1) & np.isfinite(body.torso)
    empty = PeriodicResult(0, 0.0, None, 0.0, [], np.zeros(t_len), np.zeros(t_len, dtype=bool))
    max_lag = min(int(MAX_PERIOD_S * fps), int(t_len / 1.8))
    min_lag = max(2, int(MIN_PERIOD_S * fps))
    if present.sum() < 2 * min_lag or max_lag <= min_lag + 1:
        return empty
    x = _prepared(body, True, present, MAX_PERIOD_S)
    ac = autocorrelation(x, max_lag)
    period = strongest_period(ac, min_lag, max_lag)
    if period is None:
        return empty
    side_free = True
    if period / fps < ALTERNATION_MIN_S and 2 * period <= max_lag:
        ac_sided = autocorrelation(_prepared(body, False, present, MAX_PERIOD_S), max_lag)
        if ac_sided[2 * period] > ac_sided[period] + 0.2:
            period, side_free, ac = 2 * period, False, ac_sided
    strength = float(ac[period])
    if strength < min_strength:
        return PeriodicResult(0, 0.0, period / fps, strength, [], np.zeros(t_len), np.zeros(t_len, dtype=bool))
    x = _prepared(body, side_free, present, max(2.5 * period / fps, 1.0))
    return _counted(x, present, period, fps, strength)


def _counted(
    x: np.ndarray, present: np.ndarray, period: int, fps: float, strength: float, min_amplitude: float = MIN_AMPLITUDE
) -> PeriodicResult:
    """The count, events and component of features ``x`` repeating at ``period`` (see the module doc, 4)."""
    t_len = len(x)
    step, y, active = _phase_steps(x, present, period, fps, min_amplitude)
    travelled = np.concatenate([[0.0], np.cumsum(step)]) / (2 * np.pi)
    cycles = float(travelled[-1])
    count = round(cycles)
    events = []
    for r in range(count):
        start = int(np.searchsorted(travelled, r + 1e-9))
        turn = int(np.searchsorted(travelled, r + 0.5))
        end = int(min(np.searchsorted(travelled, r + 1.0), t_len - 1))
        events.append((start, min(turn, end), end))
    return PeriodicResult(count, cycles, period / fps, strength, events, y, active)


# --- the pixels: RepNet-style self-similarity of downscaled frames ------------------------------------------------
PIXEL_SIDE = 32  # thumbnails are averaged down to PIXEL_SIDE x PIXEL_SIDE for periodicity
PIXEL_COMPONENTS = 16  # principal components of the frames kept
PIXEL_MIN_STRENGTH = 0.1  # weaker pixel periodicity counts nothing (compression flicker, lighting)
PIXEL_SIGNIFICANCE = 4.0  # ... nor one below this many times the noise level of an autocorrelation, 1/sqrt(T)


def pixel_features(frames: FrameFeatures, usable: np.ndarray, detrend: int) -> np.ndarray:
    """(T, PIXEL_COMPONENTS) principal components of the downscaled grey frames, each shot (run of ``usable``
    frames) detrended by a moving average over ``detrend`` frames (the static background and slow camera or
    light changes go); frames that are not usable are zero."""
    t_len = len(frames)
    f = frames.thumbs.shape[1] // PIXEL_SIDE
    x = frames.thumbs.astype(np.float32).reshape(t_len, PIXEL_SIDE, f, PIXEL_SIDE, f).mean(axis=(2, 4)) / 255.0
    x = x.reshape(t_len, -1)
    out = np.zeros_like(x)
    for a, b in _runs(usable):
        out[a:b] = x[a:b] - _moving_average(x[a:b], detrend)
    if not usable.any():
        return np.zeros((t_len, PIXEL_COMPONENTS), np.float32)
    top = _top_components(out[usable] - out[usable].mean(axis=0), PIXEL_COMPONENTS)
    comps = np.zeros((t_len, PIXEL_COMPONENTS))
    comps[usable, : top.shape[1]] = top
    return comps


def _top_components(x: np.ndarray, k: int) -> np.ndarray:
    """(T, <=k) the first ``k`` principal component scores of centred ``x``: a full SVD for small inputs, a
    randomised one (fixed seed, two power iterations; Halko et al. 2011) for long clips, where the full SVD
    would take seconds."""
    if min(x.shape) <= 4 * k:
        u, sv, _ = np.linalg.svd(x, full_matrices=False)
        return u[:, :k] * sv[:k]
    rng = np.random.default_rng(0)
    q = np.linalg.qr(x @ rng.standard_normal((x.shape[1], 2 * k)))[0]
    for _ in range(2):
        q = np.linalg.qr(x @ np.linalg.qr(x.T @ q)[0])[0]
    u, sv, _ = np.linalg.svd(q.T @ x, full_matrices=False)
    return (q @ u[:, :k]) * sv[:k]


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def count_pixels(frames: FrameFeatures, fps: float, cuts: np.ndarray | None = None) -> PeriodicResult:
    """Count repetitions from the pixels alone, as RepNet-style counters do: the summed autocorrelation of the
    frames' principal components is the mean of the frames' temporal self-similarity matrix (inner products
    of detrended frames) along each diagonal; its period and phase are read as for the pose (module doc, 3-4),
    without the side test (pixels cannot tell left from right). ``cuts`` (frames of shot boundaries) split the
    clip into shots that are detrended separately; their frames are left out."""
    t_len = len(frames)
    usable = np.ones(t_len, dtype=bool) if cuts is None else ~np.asarray(cuts, dtype=bool)
    empty = PeriodicResult(0, 0.0, None, 0.0, [], np.zeros(t_len), np.zeros(t_len, dtype=bool))
    max_lag = min(int(MAX_PERIOD_S * fps), int(t_len / 1.8))
    min_lag = max(2, int(MIN_PERIOD_S * fps))
    if usable.sum() < 2 * min_lag or max_lag <= min_lag + 1:
        return empty
    x = pixel_features(frames, usable, max_lag)  # the longest period looked for
    ac = autocorrelation(x, max_lag)
    period = strongest_period(ac, min_lag, max_lag)
    if period is None:
        return empty
    strength = float(ac[period])
    if strength < max(PIXEL_MIN_STRENGTH, PIXEL_SIGNIFICANCE / np.sqrt(usable.sum())):
        return PeriodicResult(0, 0.0, period / fps, strength, [], np.zeros(t_len), np.zeros(t_len, dtype=bool))
    x = pixel_features(frames, usable, round(max(2.5 * period / fps, 1.0) * fps))
    return _counted(x, usable, period, fps, strength, min_amplitude=0.0)


# --- fusion -----------------------------------------------------------------------------------------------------
POSE_CONFIDENT = 0.5  # a pose count this confident is kept whatever the pixels say
MIN_CYCLES = 2.0  # an estimate that followed fewer cycles has not seen the motion repeat: no confidence
PIXEL_MARGIN = 1.5  # otherwise the pixels' count is used where their confidence is this many times the pose's


@dataclass
class FusedCount:
    """The count used (``result``, from ``source``) and both estimates with their confidences (strength times
    the share of frames it could read: frames with a person for the pose, frames inside shots for the pixels)."""

    result: PeriodicResult
    source: str  # "pose" or "pixels"
    pose: PeriodicResult
    pixels: PeriodicResult | None
    pose_confidence: float
    pixel_confidence: float

    @property
    def agree(self) -> bool:
        """Whether the two counts are within one of each other (True without a pixel estimate)."""
        return self.pixels is None or abs(self.pixels.count - self.pose.count) <= 1

    def info(self) -> dict[str, float | int | str | bool]:
        return {
            "source": self.source,
            "pose_count": self.pose.count,
            "pose_confidence": round(self.pose_confidence, 3),
            "pixel_count": self.pixels.count if self.pixels is not None else -1,
            "pixel_confidence": round(self.pixel_confidence, 3),
            "agree": self.agree,
        }


def fuse(pose: PeriodicResult, present: np.ndarray, pixels: PeriodicResult | None, usable: np.ndarray) -> FusedCount:
    """Choose between the pose count and the pixel count by their confidences: the pose's unless it is below
    `POSE_CONFIDENT` and the pixels' is `PIXEL_MARGIN` times higher (the pose count knows left from right and
    follows the person, so a weak pixel estimate never overrides it). An estimate that followed fewer than
    `MIN_CYCLES` cycles has no confidence: a period is only measured once the motion has repeated."""
    seen = pose.cycles >= MIN_CYCLES and len(present)
    pose_conf = pose.strength * float(np.mean(present)) if seen else 0.0
    if pixels is None:
        return FusedCount(pose, "pose", pose, None, pose_conf, 0.0)
    seen = pixels.cycles >= MIN_CYCLES and len(usable)
    pixel_conf = pixels.strength * float(np.mean(usable)) if seen else 0.0
    use_pixels = pose_conf < POSE_CONFIDENT and pixel_conf > PIXEL_MARGIN * pose_conf
    chosen = pixels if use_pixels else pose
    return FusedCount(chosen, "pixels" if use_pixels else "pose", pose, pixels, pose_conf, pixel_conf)


def count_fused(body: Body, frames: FrameFeatures | None, cuts: np.ndarray | None = None) -> FusedCount:
    """The pose count (`count_periodic`) fused with the pixel count (`count_pixels`, where there are image
    features)."""
    pose = count_periodic(body)
    present = np.isfinite(body.mid("hip")).all(axis=1) & np.isfinite(body.torso)
    if frames is None or len(frames) != len(body):
        return fuse(pose, present, None, present)
    usable = np.ones(len(body), dtype=bool) if cuts is None else ~np.asarray(cuts, dtype=bool)
    return fuse(pose, present, count_pixels(frames, body.fps, cuts), usable)
