"""Counting anything that repeats (``--exercise any``) on synthetic motion."""

from dataclasses import replace

import numpy as np
import pytest
from coach_synth import CASES, STAND, Pose, reps, sequence

from poseit.coach.analysis import analyze
from poseit.coach.kinematics import Body
from poseit.coach.periodic import autocorrelation, count_periodic, strongest_period
from poseit.skeletons import get_skeleton


def test_autocorrelation_finds_the_period_not_its_multiples():
    t = np.arange(600)
    x = np.sin(2 * np.pi * t / 40)[:, None] + 0.3 * np.sin(2 * np.pi * t / 20)[:, None]
    ac = autocorrelation(x, 200)
    assert strongest_period(ac, 5, 200) == 40


@pytest.mark.parametrize("count", [4, 9])
def test_counts_synthetic_squats_without_a_definition(count):
    frames = reps(30, count, 1.4, 0.2, STAND, CASES["squat"].bottom, lead_s=0.3)
    result = count_periodic(Body.from_sequence(sequence(frames, noise_px=1.0)))
    assert result.count == count
    assert result.period_s == pytest.approx(1.6, abs=0.15)
    assert len(result.events) == count and all(a <= b <= c for a, b, c in result.events)


def test_alternating_sides_count_each_side():
    left = Pose(left_thigh=90, left_shin=180, thigh=190, shin=120)
    right = Pose(thigh=90, shin=180, left_thigh=190, left_shin=120)
    frames = []
    for _ in range(4):  # 8 lunges: left, right, left, right...
        frames += reps(30, 1, 1.2, 0.1, STAND, left, lead_s=0) + reps(30, 1, 1.2, 0.1, STAND, right, lead_s=0)
    assert count_periodic(Body.from_sequence(sequence(frames, "front"))).count == 8


def test_holding_still_counts_nothing():
    frames = [replace(STAND, forearm=90)] * 150
    assert count_periodic(Body.from_sequence(sequence(frames, noise_px=0.5))).count == 0


def test_any_analysis_has_rep_events():
    result = analyze(CASES["jumping_jack"].sequence(count=6), "any")
    assert result.exercise == "any" and len(result.reps) == 6
    summary = result.summary()
    assert summary["reps"] == 6 and summary["thresholds"]["period_s"] > 0


def test_a_long_set_that_slows_down_keeps_its_count(monkeypatch):
    """16 squats slowing from 0.8 s to 3 s each: long clips are read in windows with their own period."""
    from poseit.coach import periodic

    frames = []
    for rep_s in np.linspace(0.8, 3.0, 16):
        frames += reps(30, 1, float(rep_s), 0.1, STAND, CASES["squat"].bottom, lead_s=0)
    body = Body.from_sequence(sequence(frames, noise_px=1.0))
    assert count_periodic(body).count == 16
    monkeypatch.setattr(periodic, "WINDOW_MAX_S", 1e9)  # one period for the whole clip
    assert count_periodic(body).count != 16


def test_a_labelled_count_that_a_confident_period_contradicts_is_flagged_uncertain():
    """The exercise counter follows one angle; where that angle's pose fails (here every knee sits on the
    hip-ankle line, so the knee reads straight throughout) but the whole body clearly repeats, the count stays
    the counter's (the live coach gives the same), the periodicity count is attached as a check, and the count
    is said to be uncertain rather than printed as if sure."""
    seq = CASES["squat"].sequence(count=6)
    clean = analyze(seq, "squat")
    assert clean.exercise == "squat" and len(clean.reps) == 6 and not clean.uncertain
    sk = get_skeleton(seq.skeleton).index
    xy = seq.xy.copy()
    for side in ("left", "right"):
        xy[:, sk[f"{side}_knee"]] = (xy[:, sk[f"{side}_hip"]] + xy[:, sk[f"{side}_ankle"]]) / 2
    broken = analyze(replace(seq, xy=xy), "squat")
    assert broken.exercise == "squat" and len(broken.reps) == 0 and not broken.issues
    assert broken.periodicity["periodic_count"] == 6 and broken.uncertain
