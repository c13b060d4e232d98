"""2D driving signals are smoothed in proportion to their measured noise (`analysis.denoise`): a weak model's
knee angle that jumps to "standing" on stretches of frames at the bottom of a squat no longer ends the rep
there, and a clean signal passes unchanged."""

import math

import numpy as np

from poseit.coach.counter import RepCounter
from poseit.coach.drive import denoise, noise_sd
from poseit.coach.library import Phases

FPS = 30.0
PHASES = Phases(rest=150, leave=135, turn=110, min_rep_s=0.5, max_gap_s=1.5)  # squat.toml: knee angle
BAND = float(PHASES.depth(PHASES.leave))  # the hysteresis band (rest to leave) in depth units


def wave(reps: int, rep_s: float = 2.5, rest_s: float = 0.8) -> np.ndarray:
    """Knee angles: standing at 170 deg, then ``reps`` smooth squats down to 80 deg with a pause between."""
    n = int(rep_s * FPS)
    one = [170.0 - 90.0 * 0.5 * (1 - math.cos(2 * math.pi * i / n)) for i in range(n)] + [170.0] * int(rest_s * FPS)
    return np.array([170.0] * int(rest_s * FPS) + one * reps)


def jittered(values: np.ndarray, seed: int = 0) -> np.ndarray:
    """``values`` as the hourglass students read them: Gaussian noise, and at the bottom of each rep (below
    115 deg) runs of 2-4 frames that read a nearly straight leg (155-170 deg), as on dev squats (about a fifth
    of the bottom frames here; hg-mobile on the ../shared side-view squat was worse, up to half)."""
    rng = np.random.default_rng(seed)
    out = values + rng.normal(0.0, 6.0, len(values))
    t = 0
    while t < len(values):
        if values[t] < 115 and rng.random() < 0.1:
            n = int(rng.integers(2, 5))
            out[t : t + n] = rng.uniform(155, 170, size=len(out[t : t + n]))
            t += n + 2
        t += 1
    return out


def counted(values: np.ndarray, smooth: bool) -> int:
    depth = np.asarray(PHASES.depth(values), dtype=np.float64)
    if smooth:
        depth = denoise(depth, FPS, BAND, PHASES.min_rep_s)
    counter = RepCounter(PHASES)
    for t, d in enumerate(depth):
        counter.update(t, t / FPS, float(d))
    counter.finish()
    return counter.count


def test_jitter_at_the_bottom_over_counts_raw_and_much_less_denoised():
    """A fifth of the bottom frames in runs of 2-4 that read standing: raw, every clip over-counts (6-9 for 5);
    denoised, 8 of 10 count 5. Where such frames are the majority of a stretch a median
    cannot recover the rep (the limit of this fix: it needs the model right on most frames)."""
    clean = wave(5)
    raw, smoothed = [], []
    for seed in range(10):
        noisy = jittered(clean, seed)
        raw.append(counted(noisy, smooth=False))
        smoothed.append(counted(noisy, smooth=True))
    assert min(raw) > 5, raw
    # the cycle counter (relative to the person's range, 2026-12-08) lets one seed through at 7 (was at most 6)
    assert max(smoothed) <= 7 and smoothed.count(5) >= 8, smoothed


def test_a_clean_signal_is_left_as_it_is():
    depth = np.asarray(PHASES.depth(wave(3)), dtype=np.float64)
    assert noise_sd(depth, FPS)[10:].max() < 0.01
    np.testing.assert_array_equal(denoise(depth, FPS, BAND, PHASES.min_rep_s), depth)


def test_gaps_stay_gaps_and_the_width_is_bounded():
    depth = np.asarray(PHASES.depth(jittered(wave(3), 1)), dtype=np.float64)
    depth[40:50] = np.nan
    out = denoise(depth, FPS, BAND, PHASES.min_rep_s)
    assert np.isnan(out[40:50]).all() and np.isfinite(out[:40]).all()
    # at most half the shortest rep wide (0.25 s: 8 frames), so a step shows within a few frames of it
    step = np.zeros(60)
    step[30:] = 1.0
    step += np.random.default_rng(2).normal(0.0, 0.5, 60)  # noise enough for the widest median
    assert np.nanmedian(denoise(step, FPS, BAND, PHASES.min_rep_s)[36:]) > 0.5
