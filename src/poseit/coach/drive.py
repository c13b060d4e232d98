"""The driving signal and the per-frame facts the rep counter reads: depth (0 at the definition's rest, 1 at its
turn), good-pose and posture masks, and whether the person jumps (a corroboration of a shot boundary). Live
coaching computes them on its last seconds of keypoints, the offline analysis runs the same live coach."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from poseit.coach.frames import FrameFeatures, cut_mask
from poseit.coach.kinematics import Body, _quiet, is_world_signal, running_quantile
from poseit.coach.library import Exercise, SignalSpec


def detect_cuts(frames: FrameFeatures | None, fps: float, length: int, body: Body | None = None) -> np.ndarray:
    """(T,) True on the frames of shot boundaries found in the image (`poseit.coach.frames`). Without image
    features (keypoints alone) nothing is a cut: joints that jump while the picture does not are a fast movement
    or a tracking glitch, which the counter rides over like any noisy frame, not a reason to drop a rep. With
    ``body``, a change in only part of the picture (a caption popping up) is a cut only where the person jumps
    with it (`person_jumps`)."""
    return cut_mask(frames, fps, length, None if body is None else person_jumps(body))


JUMP = 0.08  # torso lengths: the median joint moving this far in one frame ...
JUMP_RATIO = 3.0  # ... and this many times its median step over the second before is a jump


def person_jumps(body: Body) -> np.ndarray:
    """(T,) True where the tracked person appears, disappears or jumps (the median joint moves `JUMP` torso
    lengths and `JUMP_RATIO` times its usual step in one frame). Only ever a corroboration of an image change."""
    present = np.isfinite(body.mid("hip")).all(axis=1)
    out = np.zeros(len(body), dtype=bool)
    if len(body) < 2:
        return out
    out[1:] = present[1:] != present[:-1]
    pts = np.stack([body.j(n) for n in body.joints if n != "head"], axis=1)
    with np.errstate(invalid="ignore"), _quiet():
        step = np.nanmedian(np.linalg.norm(np.diff(pts, axis=0), axis=-1), axis=1) / body.torso[1:]
        usual = running_quantile(np.concatenate([[np.nan], step]), max(3, round(body.fps)), 0.5)
        out[1:] |= (step >= JUMP) & (step >= JUMP_RATIO * np.nan_to_num(usual[:-1]))
    return out


def posture_mask(body: Body, exercise: Exercise, unknown_ok: bool = True) -> np.ndarray:
    """(T,) whether every posture range of the exercise holds (a signal that cannot be measured passes when
    ``unknown_ok``)."""
    ok = np.ones(len(body), dtype=bool)
    for name, (lo, hi) in exercise.posture.items():
        v = body.signal(name)
        with np.errstate(invalid="ignore"):
            inside = (v >= lo) & (v <= hi)
        ok &= inside | (~np.isfinite(v) if unknown_ok else False)
    return ok


def signal_of(body: Body, spec: SignalSpec) -> np.ndarray:
    return body.signal(spec.name, spec.combine)


@dataclass
class Driving:
    """The driving signal frame by frame: ``depth`` (0 rest, 1 turn) for the counter, ``value`` in the units of
    the signal used on each frame, and ``source`` (index into ``names``: the main signal first, then the view
    signals of the definition)."""

    depth: np.ndarray
    value: np.ndarray
    source: np.ndarray
    names: list[str]
    messages: list[str]


def driving_signal(body: Body, exercise: Exercise, views: np.ndarray) -> Driving:
    """The exercise's driving signal, NaN on bad-pose frames (`valid_frames`). With world landmarks the main
    signal is used in every view (3D angles read the same from any side); in 2D it is switched per frame to a
    view signal where the definition gives one, and smoothed in proportion to its noise (`denoise`)."""
    assert exercise.phases is not None
    ok = valid_frames(body, exercise)
    value = np.where(ok, signal_of(body, exercise.signal).astype(np.float64), np.nan)
    depth = np.asarray(exercise.phases.depth(value), dtype=np.float64)
    source = np.zeros(len(body), dtype=int)
    names, messages = [exercise.signal.name], [exercise.partial_message]
    for i, alt in enumerate(() if uses_world(body, exercise.signal) else exercise.view_signals, start=1):
        here = views == alt.view
        alt_value = np.where(ok, signal_of(body, alt.signal), np.nan)
        value = np.where(here, alt_value, value)
        depth = np.where(here, alt.depth(alt_value), depth)
        source[here] = i
        names.append(alt.signal.name)
        messages.append(alt.partial_message or "Partial rep: {depth:.0%} of the way to a full rep")
    if not body.has_world:
        depth = denoise(depth, body.fps, float(exercise.phases.depth(exercise.phases.leave)), exercise.phases.min_rep_s)
    return Driving(depth, value, source, names, messages)


# 2D signals from weak models jitter across the counter's thresholds: the hourglass students (MPII-16, no world
# landmarks) read a squatter's 2D knee at 150-170 deg on some frames at the bottom (a leg collapsed onto one
# joint), and each such stretch ended a rep there and began another. Their depth's frame-to-frame noise is
# 0.1-1.4 (in depth units; BlazePose 2D 0.01-0.1 on the same dev clips) against a hysteresis band (rest to
# leave) of about 0.375, so noise alone crosses it. Without world landmarks the depth goes through a causal
# running median whose width brings that noise down to a `NOISE_TARGET`-th of the band (a median of n frames
# divides Gaussian noise by sqrt(n) / `MEDIAN_EFFICIENCY`), never wider than `MAX_WIDTH_SHARE` of the shortest
# rep (a median of n frames keeps a turn that lasts n / 2): 1 frame (nothing) where the signal is clean. The
# noise is measured causally over the last `NOISE_WINDOW_S` (live coaching keeps that much history), from the
# median absolute second difference, which smooth movement barely contributes to. With world landmarks (3D) the
# depth is left as it is. All four constants were chosen on dev clips only (WorkoutTracker dev, ../shared
# without the test clip), for both students.
NOISE_WINDOW_S = 8.0
NOISE_TARGET = 10.0
MEDIAN_EFFICIENCY = 1.25  # sd of the median of n Gaussian samples is ~1.25 sd / sqrt(n)
MAX_WIDTH_SHARE = 0.5


def noise_sd(depth: np.ndarray, fps: float) -> np.ndarray:
    """(T,) causal robust estimate of the frame-to-frame noise of ``depth`` (NaN until three frames are seen):
    1.4826 x the running median of |second difference| / sqrt(6), over the last `NOISE_WINDOW_S`."""
    d2 = np.full(len(depth), np.nan)
    if len(depth) > 2:
        d2[2:] = np.abs(depth[2:] - 2 * depth[1:-1] + depth[:-2])
    return 1.4826 * running_quantile(d2, max(3, round(NOISE_WINDOW_S * fps)), 0.5) / np.sqrt(6.0)


def denoise(depth: np.ndarray, fps: float, band: float, min_rep_s: float) -> np.ndarray:
    """``depth`` through a causal running median as wide as its measured noise needs (see `NOISE_TARGET`);
    frames without a value stay without one."""
    depth = np.asarray(depth, dtype=np.float64)
    if not len(depth) or band <= 0:
        return depth
    sd = np.nan_to_num(noise_sd(depth, fps), nan=0.0)
    widest = max(1, round(MAX_WIDTH_SHARE * min_rep_s * fps))
    with np.errstate(over="ignore"):
        width = np.clip(np.ceil((MEDIAN_EFFICIENCY * NOISE_TARGET * sd / band) ** 2), 1, widest).astype(int)
    out = depth.copy()
    for n in np.unique(width[np.isfinite(depth)]):
        if n > 1:
            here = (width == n) & np.isfinite(depth)
            out[here] = running_quantile(depth, int(n), 0.5)[here]
    return out


def uses_world(body: Body, spec: SignalSpec) -> bool:
    """Whether ``spec`` is measured in 3D on this body."""
    return body.has_world and is_world_signal(spec.name)


def in_range(body: Body, exercise: Exercise, spec: SignalSpec) -> np.ndarray:
    """(T,) False where the signal is known and outside its validity range (a bad pose), else True."""
    lo, hi = exercise.valid_range(spec.name)
    v = signal_of(body, spec)
    with np.errstate(invalid="ignore"):
        return ~(np.isfinite(v) & ((v < lo) | (v > hi)))


def valid_frames(body: Body, exercise: Exercise) -> np.ndarray:
    """(T,) False on bad-pose frames: the driving signal, a posture signal or a rule signal that applies in
    every view is outside its validity range (``signals.toml``, narrowed by the exercise's ``[valid]``)."""
    key = f"valid:{exercise.id}"
    if key not in body._cache:
        specs = [exercise.signal, *(SignalSpec(n) for n in exercise.posture)]
        specs += [r.signal for r in exercise.rules if not r.views or uses_world(body, r.signal)]
        ok = np.ones(len(body), dtype=bool)
        for spec in dict.fromkeys(specs):
            ok &= in_range(body, exercise, spec)
        body._cache[key] = ok
    return body._cache[key]
