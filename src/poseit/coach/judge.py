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


def rep_symmetry(body: Body, exercise: Exercise, ev: RepEvent, view: str) -> float | None:
    """1 - |ROM left - ROM right| / max ROM of the driving signal over the rep: 1 where both sides moved through
    the same range. Only facing the camera (both sides seen) and for a sided signal; else None."""
    if exercise.signal.name not in SIDED_SIGNALS or view != "front":
        return None
    roms = []
    for side in ("left", "right"):
        v = body.sided(exercise.signal.name, side)[ev.start : ev.end + 1]
        if len(v) and np.isfinite(v).mean() >= 0.8:
            roms.append(float(np.nanmax(v) - np.nanmin(v)))
    if len(roms) == 2 and max(roms) > 0:
        return 1.0 - abs(roms[0] - roms[1]) / max(roms)
    return None


def rep_metrics(body: Body, exercise: Exercise, ev: RepEvent, number: int, views: np.ndarray, drive: Driving) -> Rep:
    window = drive.value[ev.start : ev.end + 1]
    with _quiet():
        lo, hi = float(np.nanmin(window)), float(np.nanmax(window))
    rep_views = Counter(v for v in views[ev.start : ev.end + 1] if v != "unknown").most_common(1)
    view = rep_views[0][0] if rep_views else "unknown"
    first, second = ev.turn_s - ev.start_s, ev.end_s - ev.turn_s
    assert exercise.phases is not None
    ecc, con = (first, second) if exercise.phases.first == "eccentric" else (second, first)
    main_signal = not (drive.source[ev.start : ev.end + 1]).any()
    symmetry = rep_symmetry(body, exercise, ev, view) if main_signal else None
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


def told_partial(body: Body, ev: RepEvent) -> bool:
    """Whether a partial attempt gets a message. A shallow one never does: the counter already counts every
    attempt that travels half the person's usual range, so what is left is as likely a shift of position as a
    rep cut short (no shallow-partial message judged by eye on dev clips was right; it is still counted as a
    partial). One abandoned in a gap is told only where the person was lost from view (shoulders and hips
    unseen on the frame after its last value): where they were still seen, the poses were bad, not the person
    gone, and whether the rep finished is unknown. Cut and end are told."""
    if ev.reason == "shallow":
        return False
    if ev.reason == "gap":
        after = ev.end + 1
        return after >= len(body) or not tracked_run(body, ev.end)[after]
    return True


def _format(message: str, value: float, depth: float = float("nan")) -> str:
    try:
        return message.format(value=value, depth=depth)
    except (ValueError, KeyError, IndexError):
        return message
