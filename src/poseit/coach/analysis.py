"""Analysing one exercise over a pose sequence: reps (or hold time), per-rep metrics and form feedback.

`analyze_sequence(seq, exercise)` runs the streaming `RepCounter` over the driving signal frame by frame (the
same path as live coaching) and then measures each rep and checks the exercise's form rules on it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from poseit.coach.counter import RepCounter, RepEvent
from poseit.coach.frames import FrameFeatures, cut_mask
from poseit.coach.kinematics import SIDED_SIGNALS, Body, _quiet, is_world_signal, running_quantile
from poseit.coach.library import Exercise, Rule, SignalSpec
from poseit.coach.sequence import PoseSequence

# Feedback for reps that reached their turn but were not finished, by the counter's reason.
UNFINISHED = {
    "cut": "Rep not finished: the video cuts away",
    "gap": "Rep not finished: the person was lost from view",
    "end": "Rep not finished before the end of the video",
}


@dataclass
class FormIssue:
    """One piece of feedback: which rep (1-based; a partial attempt gets the number the rep would have had),
    when, the rule and its message."""

    rep: int
    frame: int
    time_s: float
    rule: str
    message: str
    severity: str
    value: float | None = None
    partial: bool = False


@dataclass
class Rep:
    """A rep and its metrics. Angles in degrees, lengths in torso lengths (the driving signal's unit)."""

    number: int
    complete: bool
    start: int
    turn: int
    end: int
    start_s: float
    turn_s: float
    end_s: float
    duration_s: float
    eccentric_s: float
    concentric_s: float
    min_value: float
    max_value: float
    range_of_motion: float
    view: str
    symmetry: float | None  # 1 - |ROM left - ROM right| / max ROM (both sides seen, front view), else None
    partial_reason: str = ""
    issues: list[FormIssue] = field(default_factory=list)
    signal: str = ""  # the driving signal of this rep (min/max/range are in its units)


def _clean(v: Any) -> Any:
    if isinstance(v, float):
        return round(v, 3) if np.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


@dataclass
class Analysis:
    """The result of analysing one exercise over one sequence."""

    exercise: str
    name: str
    mode: str
    fps: float
    times: np.ndarray
    signal_name: str
    signal: np.ndarray
    reps: list[Rep]
    partials: list[Rep]
    issues: list[FormIssue]
    hold_s: float | None
    holds: list[tuple[float, float]]  # (start_s, end_s) of each hold
    views: np.ndarray
    active: np.ndarray  # (T,) frames where the posture held and the signal was known
    cuts: np.ndarray  # (T,) frames of shot boundaries (hard cuts, dissolves) found in the image
    thresholds: dict[str, float] = field(default_factory=dict)
    recognition: dict[str, Any] | None = None
    depth: np.ndarray | None = None  # reps: the counter's input (0 rest, 1 turn) frame by frame
    periodicity: dict[str, Any] | None = None  # pose and pixel periodicity counts (`periodic.FusedCount.info`)

    @property
    def is_hold_result(self) -> bool:
        return self.mode == "hold"

    def summary(self) -> dict[str, Any]:
        """The ``summary.json`` object (schema in `poseit.coach.report`)."""
        main_view = Counter(v for v in self.views if v != "unknown").most_common(1)
        return _clean(
            {
                "exercise": self.exercise,
                "name": self.name,
                "mode": self.mode,
                "reps": len(self.reps),
                "partial_reps": len(self.partials),
                "hold_s": self.hold_s,
                "holds": [{"start_s": a, "end_s": b} for a, b in self.holds],
                "duration_s": float(self.times[-1] - self.times[0]) if len(self.times) else 0.0,
                "frames": len(self.times),
                "fps": self.fps,
                "view": main_view[0][0] if main_view else "unknown",
                "signal": self.signal_name,
                "thresholds": self.thresholds,
                "rep_events": [_rep_record(r) for r in self.reps],
                "partial_events": [_rep_record(r) for r in self.partials],
                "form_issues": [asdict(i) for i in self.issues],
                "cuts": [int(i) for i in np.flatnonzero(self.cuts)],
                "recognition": self.recognition,
                "periodicity": self.periodicity,
            }
        )


def _rep_record(r: Rep) -> dict[str, Any]:
    d = asdict(r)
    d["issues"] = [i["rule"] for i in d["issues"]]
    return d


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
    return Driving(own_rest(depth, body.fps), value, source, names, messages)


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


# The person's own rest position: a body whose straight arm or leg reads short of the definition's rest angle (3D
# estimates from some views do) would never be back at rest. Where the low quantile of the recent depth (their
# rest) lies past ``rest - REST_MARGIN``, the rest end of the depth scale moves there (at most half-way to the
# turn; the turn stays where the definition puts it). Causal, so live coaching does the same.
REST_WINDOW_S = 20.0
REST_QUANTILE = 0.1
REST_MARGIN = 0.15  # depth units (share of the rest->turn range)
MAX_REST_SHIFT = 0.5


def own_rest(depth: np.ndarray, fps: float) -> np.ndarray:
    """``depth`` re-scaled so that 0 is the person's own rest position where it falls short of the definition's
    (see `REST_MARGIN`); 1 stays the turn."""
    if not len(depth):
        return depth
    ref = running_quantile(depth, max(3, round(REST_WINDOW_S * fps)), REST_QUANTILE)
    shift = np.clip(np.nan_to_num(ref + REST_MARGIN, nan=0.0), 0.0, MAX_REST_SHIFT)
    return (depth - shift) / (1.0 - shift)


MIN_VALID_SHARE = 0.6  # a rule judges a rep only where at least this share of its frames is a good pose


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


def rule_applies(body: Body, rule: Rule, view: str) -> bool:
    """Whether a rule judges a rep seen in ``view``: its views (lifted for signals measured in 3D), and
    2D stand-ins only without world landmarks."""
    if rule.only_2d and body.has_world:
        return False
    return not rule.views or view in rule.views or uses_world(body, rule.signal)


def _stat(values: np.ndarray, stat: str) -> tuple[float, int | None]:
    """The statistic of the finite values and, for min/max, the index where it is reached."""
    finite = np.isfinite(values)
    if not finite.any():
        return float("nan"), None
    if stat == "min":
        i = int(np.nanargmin(values))
        return float(values[i]), i
    if stat == "max":
        i = int(np.nanargmax(values))
        return float(values[i]), i
    v = values[finite]
    if stat == "mean":
        return float(v.mean()), None
    if stat == "median":
        return float(np.median(v)), None
    return float(v.max() - v.min()), None  # range


STEADY_S = 0.15  # a value a rule judges must last this long: a single-frame spike is a pose glitch


def steady(values: np.ndarray, fps: float) -> np.ndarray:
    """``values`` through a centred running median of `STEADY_S` (at least 3 frames), so that a rule's min or
    max is a value the body held, not one bad frame: on a dev deadlift one frame with the ankle put on the knee
    read a 71 deg knee (the frames around it 120-132) and said "Hips too low at the start"."""
    width = max(3, round(STEADY_S * fps) | 1)
    if len(values) < width:
        return values
    half = width // 2
    padded = np.concatenate([np.full(half, np.nan), values, np.full(half, np.nan)])
    with _quiet():
        return np.nanmedian(np.lib.stride_tricks.sliding_window_view(padded, width), axis=1)


TURN_BAND = 0.1  # the "turn" window: frames of the rep within this much depth of its deepest point


def rule_frames(rule: Rule, rep: RepEvent, depth: np.ndarray) -> np.ndarray:
    """Indices of the frames a per-rep rule looks at: the whole rep, or (``turn``) the frames at its turning
    point, however long the person stays there."""
    frames = np.arange(rep.start, rep.end + 1)
    if rule.window == "turn":
        near = depth[frames] >= rep.extreme - TURN_BAND
        frames = frames[near] if near.any() else np.array([rep.turn])
    return frames


def tracked_run(body: Body, frame: int) -> np.ndarray:
    """(T,) True on the unbroken stretch of frames around ``frame`` where the person's shoulders and hips are
    seen. Where the person is lost, even briefly, the pose found afterwards may belong to something else (on a
    dev squat, the tracker came back on the barbell's plate as the hips and read a 73-85 deg trunk lean while the
    trunk leaned ~40): a rule judges a rep on the stretch that holds its turn, and says nothing where that is too
    little of the rep (`MIN_VALID_SHARE`)."""
    seen = np.isfinite(body.mid("hip")).all(axis=1) & np.isfinite(body.mid("shoulder")).all(axis=1)
    out = np.zeros(len(body), dtype=bool)
    for a, b in _runs(seen):
        if a <= frame < b:
            out[a:b] = True
    return out


def check_rep(
    body: Body, exercise: Exercise, rep: RepEvent, number: int, view: str, times: np.ndarray, depth: np.ndarray
) -> list[FormIssue]:
    """The form issues of one complete rep (rules that apply in the rep's view, `rule_applies`); ``depth`` is
    the driving signal as depth (see `Driving`). A rule looks only at good-pose frames in the exercise's
    posture, and says nothing where those are under `MIN_VALID_SHARE` of its window: no feedback rather
    than a guess."""
    issues = []
    good = valid_frames(body, exercise) & posture_mask(body, exercise) & tracked_run(body, rep.turn)
    for rule in exercise.rules:
        if rule.window == "hold" or not rule_applies(body, rule, view):
            continue
        frames = rule_frames(rule, rep, depth)
        keep = good[frames] & in_range(body, exercise, rule.signal)[frames]
        if not len(frames) or keep.mean() < MIN_VALID_SHARE:
            continue
        frames = frames[keep]
        value, at = _stat(steady(signal_of(body, rule.signal), body.fps)[frames], rule.stat)
        if rule.fails(value):
            frame = int(frames[at]) if at is not None else rep.turn
            issues.append(
                FormIssue(number, frame, float(times[frame]), rule.id, rule.text(value), rule.severity, value)
            )
    return issues


def _metrics(body: Body, exercise: Exercise, ev: RepEvent, number: int, views: np.ndarray, drive: Driving) -> Rep:
    window = drive.value[ev.start : ev.end + 1]
    with _quiet():
        lo, hi = float(np.nanmin(window)), float(np.nanmax(window))
    rep_views = Counter(v for v in views[ev.start : ev.end + 1] if v != "unknown").most_common(1)
    view = rep_views[0][0] if rep_views else "unknown"
    first, second = ev.turn_s - ev.start_s, ev.end_s - ev.turn_s
    assert exercise.phases is not None
    ecc, con = (first, second) if exercise.phases.first == "eccentric" else (second, first)
    symmetry = None
    if exercise.signal.name in SIDED_SIGNALS and view == "front" and not (drive.source[ev.start : ev.end + 1]).any():
        roms = []
        for side in ("left", "right"):
            v = body.sided(exercise.signal.name, side)[ev.start : ev.end + 1]
            if np.isfinite(v).mean() >= 0.8:
                roms.append(float(np.nanmax(v) - np.nanmin(v)))
        if len(roms) == 2 and max(roms) > 0:
            symmetry = 1.0 - abs(roms[0] - roms[1]) / max(roms)
    used = Counter(drive.source[ev.start : ev.end + 1].tolist()).most_common(1)[0][0]
    return Rep(
        number,
        ev.complete,
        ev.start,
        ev.turn,
        ev.end,
        ev.start_s,
        ev.turn_s,
        ev.end_s,
        ev.duration_s,
        ecc,
        con,
        lo,
        hi,
        hi - lo,
        view,
        symmetry,
        ev.reason,
        signal=drive.names[used],
    )


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def analyze_body(body: Body, exercise: Exercise, cuts: np.ndarray | None = None) -> Analysis:
    """Count and check ``exercise`` over ``body`` (see `analyze_sequence`)."""
    times = body.times
    views = body.views()
    cuts = np.zeros(len(body), dtype=bool) if cuts is None else cuts
    if exercise.is_hold:
        return _analyze_hold(body, exercise, signal_of(body, exercise.signal), views, cuts)
    assert exercise.phases is not None
    ok = posture_mask(body, exercise)
    drive = driving_signal(body, exercise, views)
    counter = RepCounter(exercise.phases)
    events: list[RepEvent] = []
    for t in range(stream_end(cuts, times, exercise.phases.min_rep_s)):
        ev = counter.update(t, float(times[t]), float(drive.depth[t]), bool(ok[t]), bool(cuts[t]))
        if ev is not None:
            events.append(ev)
    ev = counter.finish()
    if ev is not None:
        events.append(ev)
    reps, partials, issues = [], [], []
    for ev in sorted(events, key=lambda e: e.start):
        number = len(reps) + 1
        rep = _metrics(body, exercise, ev, number, views, drive)
        if ev.complete:
            rep.issues = check_rep(body, exercise, ev, number, rep.view, times, drive.depth)
            reps.append(rep)
        else:
            value, message = partial_feedback(drive, ev)
            if told_partial(body, ev):
                rep.issues = [
                    FormIssue(
                        number, ev.turn, float(times[ev.turn]), "partial_rep", message, "warning", value, partial=True
                    )
                ]
            partials.append(rep)
        issues.extend(rep.issues)
    ph = exercise.phases
    main = signal_of(body, exercise.signal)
    return Analysis(
        exercise.id,
        exercise.name,
        exercise.mode,
        body.fps,
        times,
        exercise.signal.name,
        main,
        reps,
        partials,
        sorted(issues, key=lambda i: i.frame),
        None,
        [],
        views,
        ok & np.isfinite(drive.depth),
        cuts,
        {"rest": ph.rest, "leave": ph.leave, "turn": ph.turn},
        depth=drive.depth,
    )


def stream_end(cuts: np.ndarray, times: np.ndarray, min_shot_s: float) -> int:
    """Where the counter's stream ends: the clip's end, or a shot boundary after which the clip lasts less than
    ``min_shot_s`` (the exercise's shortest rep): a shot too short to hold a rep is the clip ending, so a rep
    in progress there is "not finished before the end of the video", not "cut away" (a dev pull-up clip's last
    frame jumps to another picture while the person is at the top)."""
    n = len(times)
    marks = np.flatnonzero(cuts[:n])
    if len(marks) and times[-1] - times[marks[-1]] < min_shot_s:
        return int(marks[-1])
    return n


def partial_feedback(drive: Driving, ev: RepEvent) -> tuple[float, str]:
    """The value reached and the message for a partial rep."""
    value = float(drive.value[ev.turn])
    if ev.reason != "shallow":
        return value, UNFINISHED[ev.reason]
    return value, _format(drive.messages[int(drive.source[ev.turn])], value, ev.extreme)


# A shallow attempt is told how deep it went only where it went at least half-way from rest to the turn. One
# that only just passes ``leave`` is as likely a shift of position or a wobble as a rep cut short: no shallow
# partial message judged by eye has been right (dev: a man standing still after his squat, "Partial squat:
# knees bent only to 161 deg", wrong; a curl cut by the clip, unsure; test: three "Partial push-up: elbows bent
# only to 132-135 deg" to a man shifting between a pike and a plank, wrong). Half-way is the plain middle of the
# definition's own scale, not fitted to any clip; the attempt is still counted as a partial.
MIN_PARTIAL_DEPTH = 0.5


def told_partial(body: Body, ev: RepEvent) -> bool:
    """Whether a partial rep gets a message: a shallow one where `judged_partial`; one abandoned in a gap only
    where the person was lost from view (shoulders and hips unseen on the frame after its last value). Where
    they were still seen, the poses were bad (out of their validity range or posture), not the person gone,
    and whether the rep finished is unknown."""
    if ev.reason == "shallow":
        return judged_partial(body, ev)
    if ev.reason == "gap":
        after = ev.end + 1
        return after >= len(body) or not tracked_run(body, ev.end)[after]
    return True


def judged_partial(body: Body, ev: RepEvent) -> bool:
    """Whether a shallow partial rep may be told how deep it went: only where it went at least
    `MIN_PARTIAL_DEPTH` of the way to the turn, and the person was tracked without a break through the whole
    attempt (`tracked_run`). On a dev squat clip a man standing still after his squat was told "Partial squat:
    knees bent only to 161 deg" from poses the tracker found after losing him."""
    if not ev.extreme >= MIN_PARTIAL_DEPTH:
        return False
    return bool(tracked_run(body, ev.turn)[ev.start : ev.end + 1].all())


def _format(message: str, value: float, depth: float = float("nan")) -> str:
    try:
        return message.format(value=value, depth=depth)
    except (ValueError, KeyError, IndexError):
        return message


def _analyze_hold(body: Body, exercise: Exercise, signal: np.ndarray, views: np.ndarray, cuts: np.ndarray) -> Analysis:
    """Hold exercises: time in position (posture measured and inside its ranges), and hold rules that fail
    for at least their ``min_duration_s`` while holding."""
    times = body.times
    dt = 1.0 / body.fps
    in_position = posture_mask(body, exercise, unknown_ok=False) & np.isfinite(signal)
    holds = [(a, b) for a, b in _runs(in_position) if (b - a) * dt >= 0.5]
    hold_mask = np.zeros(len(body), dtype=bool)
    for a, b in holds:
        hold_mask[a:b] = True
    issues = []
    for rule in exercise.rules:
        values = signal_of(body, rule.signal)
        with np.errstate(invalid="ignore"):
            bad = hold_mask & (values > rule.above if rule.above is not None else values < rule.below)
        bad &= valid_frames(body, exercise) & in_range(body, exercise, rule.signal)
        if rule.only_2d and body.has_world:
            continue
        if rule.views and not uses_world(body, rule.signal):
            bad &= np.isin(views, rule.views)
        for a, b in _runs(bad):
            if (b - a) * dt >= rule.min_duration_s:
                value = float(np.nanmedian(values[a:b]))
                issues.append(FormIssue(0, a, float(times[a]), rule.id, rule.text(value), rule.severity, value))
    hold_s = float(sum((b - a) * dt for a, b in holds))
    spans = [(float(times[a]), float(times[b - 1]) + dt) for a, b in holds]
    return Analysis(
        exercise.id,
        exercise.name,
        exercise.mode,
        body.fps,
        times,
        exercise.signal.name,
        signal,
        [],
        [],
        sorted(issues, key=lambda i: i.frame),
        hold_s,
        spans,
        views,
        hold_mask,
        cuts,
    )


def analyze_sequence(seq: PoseSequence, exercise: Exercise, min_score: float = 0.3) -> Analysis:
    """Count reps (or time the hold) of ``exercise`` in ``seq`` and check its form rules."""
    body = Body.from_sequence(seq, min_score)
    return analyze_body(body, exercise, detect_cuts(seq.frames, seq.fps, len(seq), body))


# --- any exercise: periodicity ---------------------------------------------------------------------------------
ANY = "any"
AUTO = "auto"


def analyze_any(body: Body, cuts: np.ndarray | None = None, frames: FrameFeatures | None = None) -> Analysis:
    """Count whatever repeats (`poseit.coach.periodic`: the pose count fused with the pixels' where there are
    image features); reps carry timing but no form rules."""
    from poseit.coach.periodic import count_fused

    cuts = np.zeros(len(body), dtype=bool) if cuts is None else cuts
    fused = count_fused(body, frames, cuts)
    result = fused.result
    times, views = body.times, body.views()
    signal = result.signal
    reps = []
    for i, (start, turn, end) in enumerate(result.events, start=1):
        window = signal[start : end + 1]
        lo, hi = (float(window.min()), float(window.max())) if len(window) else (float("nan"), float("nan"))
        rep_views = Counter(v for v in views[start : end + 1] if v != "unknown").most_common(1)
        reps.append(
            Rep(
                i,
                True,
                start,
                turn,
                end,
                float(times[start]),
                float(times[turn]),
                float(times[end]),
                float(times[end] - times[start]),
                float("nan"),
                float("nan"),
                lo,
                hi,
                hi - lo,
                rep_views[0][0] if rep_views else "unknown",
                None,
            )
        )
    return Analysis(
        ANY,
        "Any repeated movement",
        "reps",
        body.fps,
        times,
        "periodic_component",
        signal,
        reps,
        [],
        [],
        None,
        [],
        views,
        result.active,
        cuts,
        {"cycles": result.cycles, "period_s": result.period_s or float("nan"), "strength": result.strength},
        periodicity=fused.info(),
    )


# --- auto: recognise, then count --------------------------------------------------------------------------------
PIXEL_CHECK_STRENGTH = 0.5  # pixel periodicity this clear disagreeing with an exercise's count is reported
STILL_SPEED = 0.1  # torso lengths per second: slower than this the body is holding a position
MIN_CLASS_PROB = 0.3  # the recogniser's top class must reach this to pick its exercise


def choose_exercise(seq: PoseSequence, body: Body) -> tuple[str, dict[str, Any]]:
    """The exercise id for ``--exercise auto`` (or ``any``) and how it was chosen.

    1. A body that holds still most of the time, in the posture of a hold exercise (plank), is that hold.
    2. Otherwise the recogniser (Penn Action classes) looks at the moving stretches; its top class picks the
       library exercise that lists it in ``labels`` when its probability reaches `MIN_CLASS_PROB`.
    3. Anything else (classes without a definition, e.g. pull-ups or jump rope, or low confidence) is counted
       by periodicity (``any``); so is a pick whose counter finds no rep where periodicity finds several, or
       counts more than one away from a confident periodicity count (pose or pixels).
    """
    from poseit.coach.library import library
    from poseit.coach.recognize import motion_energy, recognize_windows

    present = seq.present
    info: dict[str, Any] = {}
    if not present.any():
        return ANY, {"reason": "no person found"}
    still = float((motion_energy(body)[present] < STILL_SPEED).mean())
    info["still_share"] = still
    for ex in library().values():
        if ex.is_hold:
            in_position = float(posture_mask(body, ex, unknown_ok=False)[present].mean())
            if still >= 0.7 and in_position >= 0.7:
                info.update(reason=f"held still in the {ex.name.lower()} position", in_position=in_position)
                return ex.id, info
    ranked = recognize_windows(seq)
    info["classes"] = [{"class": c, "p": round(p, 3)} for c, p in ranked[:5]]
    top, p = ranked[0]
    by_label = {label: ex.id for ex in library().values() for label in ex.labels}
    if top in by_label and p >= MIN_CLASS_PROB:
        info["reason"] = f"recognised as {top} (p={p:.2f})"
        return by_label[top], info
    why = "no exercise definition" if top not in by_label else f"low confidence (p={p:.2f})"
    info["reason"] = f"recognised as {top}: {why}; counting by periodicity"
    return ANY, info


def analyze(
    seq: PoseSequence, exercise: str | Exercise = AUTO, min_score: float = 0.3, check_periodicity: bool = True
) -> Analysis:
    """Analyse ``seq`` as ``exercise``: a library id or definition, ``any`` (periodicity) or ``auto``.
    ``check_periodicity``: a labelled exercise's count goes through `periodicity_check` (off: it always stands)."""
    from poseit.coach.library import get_exercise

    body = Body.from_sequence(seq, min_score)
    cuts = detect_cuts(seq.frames, seq.fps, len(seq), body)
    if exercise == ANY:
        return analyze_any(body, cuts, seq.frames)
    if isinstance(exercise, Exercise) or exercise != AUTO:
        ex = exercise if isinstance(exercise, Exercise) else get_exercise(exercise)
        result = pixel_check(analyze_body(body, ex, cuts), seq.frames)
        if not check_periodicity:
            return result
        checked, reason = periodicity_check(result, body, cuts, seq.frames)
        if reason is not None:
            checked.recognition = {"requested": ex.id, "chosen": checked.exercise, "reason": reason}
        return checked
    choice, info = choose_exercise(seq, body)
    if choice == ANY:
        result = analyze_any(body, cuts, seq.frames)
    else:
        result = pixel_check(analyze_body(body, get_exercise(choice), cuts), seq.frames)
        periodic = None if result.is_hold_result else analyze_any(body, cuts, seq.frames)
        # the recogniser's pick counted nothing where periodicity saw whole cycles repeat (its own significance
        # tests passed): the pick's counter failed (a strength floor of 0.3 here, dropped 2026-12-02 on QUVA dev:
        # monkey bars recognised as pull-ups counted 0 for 5, periodicity 4 at strength 0.29)
        if periodic is not None and not result.reps and len(periodic.reps) >= 2:
            info["reason"] += f"; no {choice} rep found but the movement repeats: counting by periodicity"
            result = periodic
        if result.exercise != ANY:
            result, reason = periodicity_check(result, body, cuts, seq.frames, periodic)
            if reason is not None:
                info["reason"] += f"; {reason}"
    result.recognition = {"requested": AUTO, "chosen": result.exercise, **info}
    return result


def periodicity_check(
    result: Analysis,
    body: Body,
    cuts: np.ndarray,
    frames: FrameFeatures | None,
    periodic: Analysis | None = None,
) -> tuple[Analysis, str | None]:
    """Check an exercise's rep count against periodicity (`analyze_any`: pose fused with pixels). Where the
    periodicity count is confident (`_confident`) and more than one away, the two estimators disagree beyond
    counting noise; the exercise counter follows one joint angle through the definition's phases and fails
    where that angle fails (a wrong pose on most frames), while a confident period has seen the whole body
    repeat: its count is used, without form feedback (none is better than feedback on a pose that failed).
    Returns the analysis used and, where periodicity replaced the count, the reason."""
    if result.is_hold_result:
        return result, None
    periodic = analyze_any(body, cuts, frames) if periodic is None else periodic
    if not _confident(periodic) or abs(len(periodic.reps) - len(result.reps)) <= 1:
        return result, None
    reason = (
        f"{result.exercise} counts {len(result.reps)} but the movement clearly repeats {len(periodic.reps)}"
        " times: counting by periodicity"
    )
    return periodic, reason


def _confident(periodic: Analysis) -> bool:
    """Whether the periodicity count that ``periodic`` used is confident (`periodic.POSE_CONFIDENT`): for
    ``auto``, where the exercise is the recogniser's guess, such a count that disagrees by more than one says
    the guess does not explain the movement."""
    from poseit.coach.periodic import POSE_CONFIDENT

    info = periodic.periodicity or {}
    conf = info.get("pixel_confidence" if info.get("source") == "pixels" else "pose_confidence", 0.0)
    return float(conf) >= POSE_CONFIDENT


def pixel_check(result: Analysis, frames: FrameFeatures | None) -> Analysis:
    """Attach the pixels' periodicity count to a rep analysis as a check (``periodicity``; ``agree`` is False
    where the pixels repeat clearly, with strength of at least `PIXEL_CHECK_STRENGTH`, and count more than one
    away). The exercise's own count stands: it follows the person's joints through the definition's phases,
    while the pixels also see other movement and cannot tell left from right."""
    from poseit.coach.periodic import count_pixels

    if result.is_hold_result or frames is None or len(frames) != len(result.times):
        return result
    pixels = count_pixels(frames, result.fps, result.cuts)
    clear = pixels.strength >= PIXEL_CHECK_STRENGTH
    result.periodicity = {
        "pixel_count": pixels.count,
        "pixel_strength": round(pixels.strength, 3),
        "pixel_period_s": pixels.period_s,
        "agree": not clear or abs(pixels.count - len(result.reps)) <= 1,
    }
    return result
