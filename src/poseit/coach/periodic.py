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
   periods, each with its own component, so a change of camera angle mid-clip does not lose the count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from poseit.coach.kinematics import Body, fill_gaps

PAIRS = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
ANGLES = ("knee_angle", "hip_angle", "elbow_angle", "shoulder_angle")
MIN_PERIOD_S = 0.3
MAX_PERIOD_S = 6.0
ALTERNATION_MIN_S = 0.45
WINDOW_PERIODS = 8  # long clips are read in windows of this many periods (see `_phase_steps`)
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


def _phase_steps(x: np.ndarray, present: np.ndarray, period: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame phase advance (radians) of the repeating motion, the component it was read from and the
    active mask. Long clips are read in overlapping windows of ``WINDOW_PERIODS`` periods, each with its own
    principal component, so a change of camera angle (which changes which joints carry the motion) does not
    lose the count; each frame takes the advance from the window whose centre is nearest."""
    t_len = len(x)
    width = max(WINDOW_PERIODS * period, 1)
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
        y = _best_component(x[a:b], period)
        phase, amp = _phase(y, period)
        here = present[a:b]
        floor = max(0.25 * np.median(amp[here]), MIN_AMPLITUDE) if here.any() else np.inf
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
    """Count repetitions in ``body`` by periodicity (see the module doc)."""
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
    step, y, active = _phase_steps(x, present, period)
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
