"""Periodicity and exercise choice: ``any`` counts whatever repeats (pose fused with pixels), ``auto`` recognises
the exercise then counts it, and the periodicity count checks an exercise's own count."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from poseit.coach.drive import posture_mask
from poseit.coach.frames import FrameFeatures
from poseit.coach.kinematics import Body
from poseit.coach.results import Analysis, Rep
from poseit.coach.sequence import PoseSequence

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


def periodicity_check(result: Analysis, periodic: Analysis) -> Analysis:
    """Attach the whole clip's periodicity count (`analyze_any`: pose fused with pixels) to an exercise's
    analysis as a check: ``periodicity`` gains ``periodic_count``, its confidence and whether it is confident
    (`_confident`). The exercise's count stands (it is the live coach's); a confident periodicity count more
    than one away lowers the count's confidence (`poseit.coach.confidence`)."""
    info = dict(result.periodicity or {})
    pinfo = periodic.periodicity or {}
    conf = pinfo.get("pixel_confidence" if pinfo.get("source") == "pixels" else "pose_confidence", 0.0)
    info.update(periodic_count=len(periodic.reps), periodic_confidence=round(float(conf), 3))
    info["periodic_confident"] = _confident(periodic)
    result.periodicity = info
    return result


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
