"""Every exercise counts clean synthetic reps exactly, and every form rule fires on a synthetic sequence with
its fault and not on the clean one (seen from the view the rule is meant for)."""

from dataclasses import replace

import pytest
from coach_synth import CASES, FAULTS, PLANK, PUSHUP_TOP, sequence

from poseit.coach.analysis import analyze
from poseit.coach.library import get_exercise, library


@pytest.mark.parametrize("name", sorted(CASES))
def test_clean_reps_are_counted_exactly(name):
    result = analyze(CASES[name].sequence(), name)
    assert len(result.reps) == 3 and not result.partials
    assert not result.issues, [i.message for i in result.issues]
    for rep in result.reps:
        assert rep.start < rep.turn < rep.end and rep.range_of_motion > 0
        assert rep.eccentric_s > 0 and rep.concentric_s > 0


@pytest.mark.parametrize("skeleton", ["blazepose33", "mpii16", "coco17", "lsp14"])
def test_counting_works_from_other_skeletons(skeleton):
    assert len(analyze(CASES["squat"].sequence(skeleton=skeleton), "squat").reps) == 3
    assert len(analyze(CASES["pushup"].sequence(skeleton=skeleton), "pushup").reps) == 3


def test_every_rule_has_a_fault_case():
    rules = {f"{ex.id}.{r.id}" for ex in library().values() for r in ex.rules}
    covered = set(FAULTS) | {"plank.hips_sagging", "plank.hips_piking"}
    assert rules == covered


@pytest.mark.parametrize("key", sorted(FAULTS))
def test_rule_fires_on_its_fault(key):
    """Each rule (those off by default too) fires on a fault shown on every rep, and says it once, as a summary
    ("On every rep: ..."), not once per rep."""
    name, view, changes = FAULTS[key]
    rule = key.split(".")[1]
    exercise = get_exercise(name).with_all_rules()
    clean = analyze(CASES[name].sequence(view), exercise)
    faulty = analyze(CASES[name].sequence(view, **changes), exercise)
    assert len(clean.reps) == 3 and len(faulty.reps) == 3
    assert rule not in {i.rule for i in clean.issues}
    fired = [i for i in faulty.issues if i.rule == rule]
    assert len(fired) == 1, [i.message for i in faulty.issues]
    issue = fired[0]
    assert issue.severity in ("info", "warning", "error") and issue.message.startswith("On every rep: ")
    assert issue.rep == 0 and faulty.reps[0].start <= issue.frame <= faulty.reps[-1].end
    assert issue.value is not None and issue.threshold is not None and issue.uncertainty is not None


def test_a_rule_speaks_only_past_its_threshold_by_more_than_the_uncertainty():
    rule = get_exercise("squat").rules[0]
    assert rule.above is not None
    assert rule.fails(rule.above + 5) and not rule.fails(rule.above + 5, margin=6) and rule.fails(rule.above + 7, 6)


@pytest.mark.parametrize(("rule", "hip_drop"), [("hips_sagging", 0.15), ("hips_piking", -0.25)])
def test_plank_hold_time_and_hip_line(rule, hip_drop):
    fps = 30
    frames = [PLANK] * (2 * fps) + [replace(PLANK, hip_drop=hip_drop)] * (2 * fps) + [PLANK] * fps
    result = analyze(sequence(frames), "plank")
    assert result.hold_s == pytest.approx(5.0, abs=0.05) and not result.reps
    assert [i.rule for i in result.issues] == [rule]
    assert result.issues[0].time_s == pytest.approx(2.0, abs=0.1)
    clean = analyze(sequence([PLANK] * (3 * fps)), "plank")
    assert clean.hold_s == pytest.approx(3.0, abs=0.05) and not clean.issues


def test_hold_time_stops_out_of_position():
    standing = [replace(PUSHUP_TOP, body_pitch=0)] * 45  # standing up is not a plank
    result = analyze(sequence([PLANK] * 60 + standing + [PLANK] * 30), "plank")
    assert result.hold_s == pytest.approx(3.0, abs=0.05) and len(result.holds) == 2
