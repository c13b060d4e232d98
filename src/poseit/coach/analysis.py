"""Analysing one exercise over a pose sequence: reps (or hold time), per-rep metrics and form feedback.

A rep exercise is analysed by running the live coach (`poseit.coach.live.LiveCoach`) over the sequence frame by
frame: ``poseit analyze`` and ``poseit serve`` share every decision, so the same frames give the same count and
the same feedback. The offline analysis adds what only a whole clip can give: per-rep metrics over the full
sequence, and the periodicity of the whole clip as a check on the count (it lowers the count's confidence,
never replaces the count). Modules: `counter` (the cycle counter), `drive` (its input), `form` (form rules),
`judge` (rep metrics, partial attempts), `fusion` (periodicity, ``any`` and ``auto``), `confidence`.
"""

from __future__ import annotations

import numpy as np

from poseit.coach.drive import detect_cuts, in_range, posture_mask, signal_of, uses_world, valid_frames
from poseit.coach.form import uncertainty
from poseit.coach.fusion import ANY, AUTO, analyze_any, choose_exercise
from poseit.coach.kinematics import Body, runs
from poseit.coach.library import Exercise
from poseit.coach.results import Analysis, FormIssue
from poseit.coach.sequence import PoseSequence

__all__ = ["ANY", "AUTO", "Analysis", "analyze", "analyze_reps", "analyze_sequence"]


def analyze_reps(seq: PoseSequence, exercise: Exercise, min_score: float = 0.3, strict: bool = False) -> Analysis:
    """Count and check a rep exercise by streaming ``seq`` through the live coach; metrics over the whole
    sequence."""
    from poseit.coach.live import LiveCoach

    coach = LiveCoach(exercise, seq.skeleton, seq.fps, min_score=min_score, strict=strict)
    coach.feed_sequence(seq)
    body = Body.from_sequence(seq, min_score)
    return coach.analysis(body)


def _analyze_hold(body: Body, exercise: Exercise, signal: np.ndarray, views: np.ndarray, cuts: np.ndarray) -> Analysis:
    """Hold exercises: time in position (posture measured and inside its ranges), and hold rules that fail
    for at least their ``min_duration_s`` while holding."""
    times = body.times
    dt = 1.0 / body.fps
    in_position = posture_mask(body, exercise, unknown_ok=False) & np.isfinite(signal)
    holds = [(a, b) for a, b in runs(in_position) if (b - a) * dt >= 0.5]
    hold_mask = np.zeros(len(body), dtype=bool)
    for a, b in holds:
        hold_mask[a:b] = True
    issues = []
    for rule in exercise.active_rules:
        values = signal_of(body, rule.signal)
        with np.errstate(invalid="ignore"):
            margin = uncertainty(rule.signal.name, "any")
            bad = hold_mask & (values > rule.above + margin if rule.above is not None else values < rule.below - margin)
        bad &= valid_frames(body, exercise) & in_range(body, exercise, rule.signal)
        if rule.only_2d and body.has_world:
            continue
        if rule.views and not uses_world(body, rule.signal):
            bad &= np.isin(views, rule.views)
        for a, b in runs(bad):
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


def analyze_sequence(seq: PoseSequence, exercise: Exercise, min_score: float = 0.3, strict: bool = False) -> Analysis:
    """Count reps (or time the hold) of ``exercise`` in ``seq`` and check its form rules."""
    if exercise.is_hold:
        body = Body.from_sequence(seq, min_score)
        cuts = detect_cuts(seq.frames, seq.fps, len(seq), body)
        return _analyze_hold(body, exercise, signal_of(body, exercise.signal), body.views(), cuts)
    return analyze_reps(seq, exercise, min_score, strict)


def analyze(
    seq: PoseSequence, exercise: str | Exercise = AUTO, min_score: float = 0.3, strict: bool = False
) -> Analysis:
    """Analyse ``seq`` as ``exercise``: a library id or definition, ``any`` (periodicity) or ``auto``
    (recognise, then count). A rep exercise's count, its periodicity check and its confidence are the live
    coach's (`analyze_reps`). ``strict``: competition-style "no rep" rules (the definition's own rest and turn
    must be reached)."""
    from poseit.coach.confidence import attach_confidence
    from poseit.coach.library import get_exercise

    if isinstance(exercise, Exercise) or exercise not in (ANY, AUTO):
        ex = exercise if isinstance(exercise, Exercise) else get_exercise(exercise)
        return analyze_sequence(seq, ex, min_score, strict)
    body = Body.from_sequence(seq, min_score)
    cuts = detect_cuts(seq.frames, seq.fps, len(seq), body)
    if exercise == ANY:
        return attach_confidence(analyze_any(body, cuts, seq.frames))
    choice, info = choose_exercise(seq, body)
    result = analyze_any(body, cuts, seq.frames) if choice == ANY else analyze_sequence(seq, get_exercise(choice))
    if choice != ANY and not result.is_hold_result:
        periodic = analyze_any(body, cuts, seq.frames)
        # the recogniser's pick counts under half the cycles the whole body repeats: it does not explain the
        # movement (monkey bars recognised as pull-ups counted 1 for 5 on QUVA dev, periodicity 4)
        if len(periodic.reps) >= 2 and len(result.reps) < len(periodic.reps) / 2:
            info["reason"] += (
                f"; {choice} counts {len(result.reps)} where the movement repeats {len(periodic.reps)} times:"
                " counting by periodicity"
            )
            result = periodic
    result.recognition = {"requested": AUTO, "chosen": result.exercise, **info}
    return attach_confidence(result) if result.exercise == ANY else result
