"""What the coach reports: form issues, reps with their metrics, and the analysis of one clip."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


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
    uncertainty: float | None = None  # how far the value can be trusted (`poseit.coach.form.uncertainty`)
    threshold: float | None = None  # the rule's threshold the value is past


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
    relative_depth: float = float("nan")  # its range as a share of the person's typical range (1 = usual)


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
    confidence: float | None = None  # how likely the count is exact (`poseit.coach.confidence`)
    uncertain: bool = False  # the confidence is below the threshold chosen on dev: say so, not just the number
    evidence: dict[str, Any] = field(default_factory=dict)  # what the confidence was computed from

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
                "confidence": self.confidence,
                "uncertain": self.uncertain,
                "confidence_evidence": self.evidence,
            }
        )


def _rep_record(r: Rep) -> dict[str, Any]:
    d = asdict(r)
    d["issues"] = [i["rule"] for i in d["issues"]]
    return d
