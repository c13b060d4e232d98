"""How sure a count is: a calibrated probability that it is exact, and whether to say it is uncertain.

The evidence (`evidence`) is what a person checking the count would look at: whether the whole clip's
periodicity (pose and pixels, `poseit.coach.fusion`) repeats a confidently different number of times, how many
reps only just counted or only just failed to count against the person's own range (borderline cycles), how
irregular the reps' durations are, and how much of the active stretch the pose was lost. A logistic model over
that evidence (`WEIGHTS`, fitted on dev clips only by ``benchmarks/coach_sets.py --fit-confidence``) turns it
into the probability that the count is exact; below `UNCERTAIN_BELOW` (chosen on dev) the CLI, the report and
the page say the count is uncertain. ``any`` counts use the periodicity estimator's own confidence.
"""

from __future__ import annotations

import math

import numpy as np

from poseit.coach.counter import CycleKnobs
from poseit.coach.results import Analysis

FEATURES = ("periodic_disagrees", "borderline", "duration_spread", "lost_share", "no_reps")
BORDER = 0.25  # a cycle within this share of the turn threshold (either side) is borderline

# Fitted on dev (see the module doc): intercept first, then one weight per feature.
WEIGHTS = (2.0, -2.0, -1.0, -1.0, -2.0, -1.0)
UNCERTAIN_BELOW = 0.5


def evidence(result: Analysis) -> dict[str, float]:
    """The features of a rep exercise's count (`FEATURES`)."""
    reps = result.reps
    n = len(reps)
    per = result.periodicity or {}
    disagrees = bool(per.get("periodic_confident")) and abs(int(per.get("periodic_count", n)) - n) > 1
    knobs = CycleKnobs()
    lo, hi = knobs.turn_share * (1 - BORDER), knobs.turn_share * (1 + BORDER)
    cycles = [r.relative_depth for r in [*reps, *result.partials] if r.partial_reason in ("", "shallow")]
    borderline = sum(1 for d in cycles if lo <= d <= hi)
    durations = np.array([r.duration_s for r in reps])
    spread = float(np.std(durations) / np.mean(durations)) if n >= 2 and np.mean(durations) > 0 else 0.0
    lost = 0.0
    if n:
        span = slice(reps[0].start, reps[-1].end + 1)
        lost = float(1.0 - np.mean(result.active[span])) if len(result.active[span]) else 0.0
    return {
        "periodic_disagrees": float(disagrees),
        "borderline": float(borderline),
        "duration_spread": round(spread, 3),
        "lost_share": round(lost, 3),
        "no_reps": float(n == 0),
    }


def probability(features: dict[str, float], weights: tuple[float, ...] = WEIGHTS) -> float:
    """The logistic model: P(count exact | features)."""
    z = weights[0] + sum(w * features[f] for w, f in zip(weights[1:], FEATURES, strict=True))
    return 1.0 / (1.0 + math.exp(-z))


def attach_confidence(result: Analysis) -> Analysis:
    """Set ``confidence``, ``uncertain`` and ``evidence`` on an analysis (holds: none)."""
    if result.is_hold_result:
        return result
    if result.exercise == "any":
        per = result.periodicity or {}
        key = "pixel_confidence" if per.get("source") == "pixels" else "pose_confidence"
        result.confidence = round(float(per.get(key, 0.0)), 3)
        result.evidence = {key: result.confidence}
    else:
        result.evidence = evidence(result)
        result.confidence = round(probability(result.evidence), 3)
    result.uncertain = result.confidence < UNCERTAIN_BELOW
    return result
