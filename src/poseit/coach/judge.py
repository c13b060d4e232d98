"""Rep judgement: a rep's metrics (range of motion, tempo, symmetry) and what a partial attempt is told."""

from __future__ import annotations

from collections import Counter

import numpy as np

from poseit.coach.counter import RepEvent
from poseit.coach.drive import Driving
from poseit.coach.form import tracked_run
from poseit.coach.kinematics import SIDED_SIGNALS, Body, _quiet
from poseit.coach.library import Exercise
from poseit.coach.results import Rep

# Feedback for reps that reached their turn but were not finished, by the counter's reason.
UNFINISHED = {
    "cut": "Rep not finished: the video cuts away",
    "gap": "Rep not finished: the person was lost from view",
    "end": "Rep not finished before the end of the video",
}


def rep_metrics(body: Body, exercise: Exercise, ev: RepEvent, number: int, views: np.ndarray, drive: Driving) -> Rep:
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
        relative_depth=ev.relative_depth,
    )


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
