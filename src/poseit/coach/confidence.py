"""How sure a count is: a calibrated probability that it is exact, and whether to say it is uncertain.

The evidence (`evidence`) is what a person checking the count would look at, and what the live coach knows as
well as the offline analysis (both compute it in `LiveCoach.confidence`): whether the periodicity of the whole
body and picture over the coach's kept history (`poseit.coach.fusion.periodicity_info`) saw a different number
of cycles, or confidently a number more than one away; how many reps only just counted or only just failed to
count against the person's own range (borderline cycles); how irregular the reps' durations are; how much of
the active stretch the pose was lost; and whether nothing was counted at all. A logistic model over
that evidence (`WEIGHTS`, fitted on dev clips only by ``benchmarks/coach_sets.py --fit-confidence``) turns it
into the probability that the count is exact; below `UNCERTAIN_BELOW` (chosen on dev) the CLI, the report and
the page say the count is uncertain. ``any`` counts use the periodicity estimator's own confidence and its own
threshold (`poseit.coach.periodic.POSE_CONFIDENT`, chosen on QUVA dev when ``any`` was built).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from poseit.coach.counter import CycleKnobs
from poseit.coach.results import Analysis

FEATURES = ("periodic_differs", "periodic_disagrees", "borderline", "duration_spread", "lost_share", "no_reps")
BORDER = 0.25  # a cycle within this share of the turn threshold (either side) is borderline

# Fitted on the 80 dev rep clips (``coach_sets.py --split dev --fit-confidence``, 2026-12-08, 71 exact): intercept
# first, then one weight per feature. A confident periodicity count more than one away never occurred on dev, so
# its weight stays 0 under the fit's L2 penalty.
WEIGHTS = (2.27, -0.66, 0.0, 0.42, -0.76, -0.19, -0.44)
# No threshold reached 95% exact among the counts called certain on dev. At 0.8 the two dev counts called
# uncertain were both wrong and the 78 others 91% exact; higher thresholds flag more right counts than wrong ones
# (0.85: 11 flagged, 8 of them exact). The evidence is weak: most wrong counts still look certain.
UNCERTAIN_BELOW = 0.8


@dataclass(frozen=True)
class Cycle:
    """What the confidence reads of one rep or attempt."""

    complete: bool
    relative_depth: float  # its range as a share of the person's typical range
    duration_s: float
    reason: str  # "" for a rep; "shallow", "cut", "gap" or "end" for a partial


def evidence(cycles: list[Cycle], lost_share: float, periodicity: dict | None = None) -> dict[str, float]:
    """The features (`FEATURES`) of a count: its reps and attempts, the share of the frames between the first
    rep's start and the last rep's end without a usable pose (``lost_share``), and the periodicity check
    (`poseit.coach.fusion.periodicity_info`)."""
    reps = [c for c in cycles if c.complete]
    knobs = CycleKnobs()
    lo, hi = knobs.turn_share * (1 - BORDER), knobs.turn_share * (1 + BORDER)
    borderline = sum(1 for c in cycles if c.reason in ("", "shallow") and lo <= c.relative_depth <= hi)
    durations = np.array([c.duration_s for c in reps])
    spread = float(np.std(durations) / np.mean(durations)) if len(reps) >= 2 and np.mean(durations) > 0 else 0.0
    per = periodicity or {}
    seen = int(per.get("periodic_count", 0))
    return {
        "periodic_differs": float(seen >= 2 and seen != len(reps)),
        "periodic_disagrees": float(bool(per.get("periodic_disagrees"))),
        "borderline": float(borderline),
        "duration_spread": round(spread, 3),
        "lost_share": round(float(lost_share), 3),
        "no_reps": float(not reps),
    }


def probability(features: dict[str, float], weights: tuple[float, ...] = WEIGHTS) -> float:
    """The logistic model: P(count exact | features)."""
    z = weights[0] + sum(w * features[f] for w, f in zip(weights[1:], FEATURES, strict=True))
    return 1.0 / (1.0 + math.exp(-z))


def uncertain(p: float) -> bool:
    """Whether a count of confidence ``p`` is said to be uncertain."""
    return p < UNCERTAIN_BELOW


def attach_confidence(result: Analysis) -> Analysis:
    """Set ``confidence``, ``uncertain`` and ``evidence`` on an ``any`` analysis: the periodicity estimator's own
    confidence and threshold. (A rep exercise's come from the live coach, `LiveCoach.confidence`.)"""
    from poseit.coach.periodic import POSE_CONFIDENT

    per = result.periodicity or {}
    key = "pixel_confidence" if per.get("source") == "pixels" else "pose_confidence"
    result.confidence = round(float(per.get(key, 0.0)), 3)
    result.evidence = {key: result.confidence}
    result.uncertain = result.confidence < POSE_CONFIDENT
    return result
