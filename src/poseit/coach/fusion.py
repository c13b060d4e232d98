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


def periodicity_info(seq: PoseSequence, count: int, min_score: float = 0.3) -> dict[str, Any]:
    """The periodicity check of an exercise's count over ``seq`` (the live coach's kept history): the fused
    pose/pixel periodicity count (`poseit.coach.periodic.count_fused`), its confidence, whether it is confident
    (`POSE_CONFIDENT`) and whether it disagrees with ``count`` by more than one. The exercise's count stands (it
    follows the person's joints through the definition's cycle); a confident disagreement lowers its
    confidence."""
    from poseit.coach.drive import detect_cuts
    from poseit.coach.periodic import POSE_CONFIDENT, count_fused

    body = Body.from_sequence(seq, min_score)
    fused = count_fused(body, seq.frames, detect_cuts(seq.frames, seq.fps, len(seq), body))
    info: dict[str, Any] = dict(fused.info())
    conf = info["pixel_confidence" if info["source"] == "pixels" else "pose_confidence"]
    info.update(periodic_count=fused.result.count, periodic_confidence=conf)
    info["periodic_confident"] = float(conf) >= POSE_CONFIDENT
    info["periodic_disagrees"] = bool(info["periodic_confident"] and abs(fused.result.count - count) > 1)
    return info
