"""Form rules on a counted rep: which rules apply in the rep's view, the frames each looks at, and the issues."""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np

from poseit.coach.counter import RepEvent
from poseit.coach.drive import in_range, posture_mask, signal_of, uses_world, valid_frames
from poseit.coach.kinematics import Body, _quiet, runs
from poseit.coach.library import Exercise, Rule
from poseit.coach.results import FormIssue

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

MIN_VALID_SHARE = 0.6  # a rule judges a rep only where at least this share of its frames is a good pose


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
    for a, b in runs(seen):
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
    for rule in exercise.active_rules:
        if rule.window == "hold" or not rule_applies(body, rule, view):
            continue
        frames = rule_frames(rule, rep, depth)
        keep = good[frames] & in_range(body, exercise, rule.signal)[frames]
        if not len(frames) or keep.mean() < MIN_VALID_SHARE:
            continue
        frames = frames[keep]
        value, at = _stat(steady(signal_of(body, rule.signal), body.fps)[frames], rule.stat)
        margin = uncertainty(rule.signal.name, view)
        if rule.fails(value, margin):
            frame = int(frames[at]) if at is not None else rep.turn
            threshold = rule.above if rule.above is not None else rule.below
            issue = FormIssue(number, frame, float(times[frame]), rule.id, rule.text(value), rule.severity, value)
            issue.uncertainty, issue.threshold = margin, threshold
            issues.append(issue)
    return issues


@cache
def _uncertainty_table() -> dict[str, dict[str, float]]:
    path = resources.files("poseit.coach") / "uncertainty.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def uncertainty(signal: str, view: str) -> float:
    """How far a rule's value of ``signal`` seen in ``view`` can be trusted, in the signal's units: the typical
    disagreement of two pose models on the dev clips (``uncertainty.toml``, written by
    ``benchmarks/signal_uncertainty.py``), that view's or else over all views; 0 where unmeasured. A rule speaks
    only where its value is past the threshold by more than this."""
    entry = _uncertainty_table().get(signal.removeprefix("left_").removeprefix("right_"), {})
    return float(entry.get(view, entry.get("any", 0.0)))
