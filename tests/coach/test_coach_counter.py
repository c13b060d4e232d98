"""The streaming rep counter on depth signals: jitter, gaps, pauses, leaving the frame, cuts, partial reps."""

import math
from dataclasses import replace

import numpy as np
import pytest

from poseit.coach.counter import RepCounter
from poseit.coach.library import Phases

FPS = 30.0
PHASES = Phases(rest=150, leave=135, turn=110, min_rep_s=0.4, max_gap_s=1.0)  # a squat's knee angle


def wave(depths, rep_s=1.5, rest_s=0.5, lead_s=0.5, rest_value=170.0, bottom_value=80.0):
    """Knee angles: ``rest_value``, then one smooth dip per entry of ``depths`` (1 = down to ``bottom_value``)."""
    out = [rest_value] * int(lead_s * FPS)
    n = int(rep_s * FPS)
    for d in depths:
        out += [
            rest_value - d * (rest_value - bottom_value) * 0.5 * (1 - math.cos(2 * math.pi * i / n)) for i in range(n)
        ]
        out += [rest_value] * int(rest_s * FPS)
    return np.array(out)


def run(values, ok=None, cuts=(), phases=PHASES):
    counter = RepCounter(phases)
    events = []
    for t, v in enumerate(values):
        ev = counter.update(t, t / FPS, phases.depth(v), True if ok is None else bool(ok[t]), t in cuts)
        if ev:
            events.append(ev)
    end = counter.finish()
    if end:
        events.append(end)
    return counter, events


def test_clean_reps_with_turn_and_boundaries():
    counter, events = run(wave([1, 1, 1]))
    assert counter.count == 3 and counter.partial_count == 0
    first = events[0]
    assert first.start < first.turn < first.end
    assert abs(first.turn - (15 + 22.5)) <= 1  # lead 15 frames, the bottom half-way through a 45-frame rep
    assert first.extreme == pytest.approx(PHASES.depth(80), abs=0.01)


def test_jitter_at_rest_and_at_the_bottom_is_not_counted():
    rng = np.random.default_rng(0)
    values = wave([1, 1]) + rng.normal(0, 2.5, len(wave([1, 1])))  # +-2.5 degrees of noise
    assert run(values)[0].count == 2
    hovering = 150 + rng.normal(0, 2.5, 200)  # hovering around the rest threshold, never below leave
    counter, _ = run(hovering)
    assert counter.count == 0 and counter.partial_count == 0


def test_dropped_frames_and_short_occlusion_keep_the_rep():
    values = wave([1, 1, 1])
    values[30:38] = np.nan  # a quarter second lost mid-rep
    values[::7] = np.nan  # and every seventh frame dropped
    assert run(values)[0].count == 3


def test_pauses_at_top_and_bottom():
    values = np.concatenate(
        [
            [170] * 20,
            np.linspace(170, 80, 20),
            [80] * 90,
            np.linspace(80, 170, 20),
            [170] * 120,
            np.linspace(170, 80, 15),
            np.linspace(80, 170, 15),
            [170] * 10,
        ]
    )
    counter, events = run(values)
    assert counter.count == 2
    assert events[0].end_s - events[0].start_s > 3  # the 3 s hold at the bottom belongs to the rep


def test_person_leaving_the_frame_abandons_the_rep_in_progress():
    values = wave([1, 1, 1])
    values[100:140] = np.nan  # gone for 1.3 s starting just after the second rep's bottom (frame 97)
    counter, events = run(values)
    assert counter.count == 2 and counter.partial_count == 1
    assert [e.reason for e in events if not e.complete] == ["gap"]


def test_out_of_posture_frames_are_skipped():
    values = wave([1, 1, 1])
    ok = np.ones(len(values), dtype=bool)
    ok[100:106] = False  # brief: tolerated
    assert run(values, ok)[0].count == 3
    ok[80:200] = False  # long: that stretch does not count
    assert run(values, ok)[0].count < 3


def test_partial_reps_are_counted_separately():
    counter, events = run(wave([1, 0.5, 1, 0.45]))  # 0.5 reaches 125 degrees: past leave, not the turn
    assert counter.count == 2 and counter.partial_count == 2
    assert all(e.reason == "shallow" for e in events if not e.complete)


def test_cut_mid_rep_records_a_partial_and_restarts():
    values = wave([1, 1])
    bottom = int(np.argmin(values[60:])) + 60  # second rep's bottom
    values = np.concatenate([values[: bottom + 5], [170] * 40])  # the video cuts to someone standing
    counter, events = run(values, cuts={bottom + 5})
    assert counter.count == 1 and counter.partial_count == 1 and events[-1].reason == "cut"
    counter, _ = run(values)  # without the cut the jump would complete the rep
    assert counter.count == 2


def test_joining_mid_rep():
    values = wave([1, 1])
    start_mid_way = values[22:]  # the clip starts while going down (125 degrees): that rep counts
    assert run(start_mid_way)[0].count == 2
    start_at_bottom = values[37:]  # starts at the bottom: only the rise is seen, not counted
    assert run(start_at_bottom)[0].count == 1


def test_unfinished_rep_at_the_end_is_partial():
    values = wave([1, 1])[:-20]
    values = values[: int(np.argmin(values[60:])) + 65]
    counter, events = run(values)
    assert counter.count == 1 and counter.partial_count == 1 and events[-1].reason == "end"


def test_too_fast_dips_are_ignored():
    values = np.full(100, 170.0)
    values[50:55] = 90.0  # a 5-frame glitch
    counter, _ = run(values)
    assert counter.count == 0


def test_rest_low_signals():
    deadlift = Phases(rest=100, leave=120, turn=160, rest_end="low", first="concentric")
    values = wave([1, 1], rest_value=60, bottom_value=175)  # hip angle: floor 60, lockout 175
    assert run(values, phases=deadlift)[0].count == 2


def test_clip_ending_after_coming_most_of_the_way_back_finishes_the_rep():
    """The clip ends after the last rep came back most of the way (a straight limb that reads a few degrees
    short of the definition's rest): finished. Ending on the way up is not."""
    values = wave([1, 1])
    second = int(np.argmin(values[60:])) + 60
    rising = np.flatnonzero(values[second:] >= 150)[0] + second
    held = np.concatenate([values[:rising], [150.0] * 12])  # back 78% of the 90-degree range, then the end
    counter, events = run(held)
    assert counter.count == 2 and counter.partial_count == 0
    still_rising = values[: np.flatnonzero(values[second:] >= 110)[0] + second + 1]  # a third of the way up
    counter, events = run(still_rising)
    assert counter.count == 1 and counter.partial_count == 1 and events[-1].reason == "end"


def test_reps_are_counted_on_the_persons_own_range_not_the_definitions_turn():
    """Knees to 125 deg from 175: never the definition's 110, but a full cycle of this person's movement (a
    phone that foreshortens the view, a shallow squatter). Counted; ``strict`` keeps the no-rep rule."""
    values = wave([1, 1, 1], rest_value=175.0, bottom_value=125.0)
    counter, events = run(values)
    assert counter.count == 3 and counter.partial_count == 0
    assert all(e.extreme < 1 for e in events)  # the depth feedback still sees they were shallow
    strict = RepCounter(PHASES, strict=True)
    for t, v in enumerate(values):
        strict.update(t, t / FPS, PHASES.depth(v))
    strict.finish()
    assert strict.count == 0 and strict.partial_count == 3


def test_the_typical_range_is_learned_and_a_much_shallower_dip_is_partial():
    counter, events = run(wave([1, 1, 1, 0.3, 1]))  # 90-degree squats, then a 27-degree dip
    assert counter.count == 4 and counter.partial_count == 1
    assert counter.typical == pytest.approx(90 / 40, rel=0.05)  # in depth units: 40 deg from rest to turn
    assert [e.complete for e in events] == [True, True, True, False, True]


def test_a_shallow_attempt_reports_its_deepest_frame_not_the_rest_it_left():
    """An attempt that leaves rest (15 deg, the definition's rest->leave band) only on its deepest frame: the
    partial's turn is that frame (its value is what the message quotes; it used to be the rest frame the attempt
    started from, "bent only to 166 deg")."""
    values = np.full(120, 170.0)
    down = np.linspace(170.0, 157.0, 15)
    dip = np.concatenate([down, [154.0], down[::-1]])  # 16 deg: past the band, short of half a rep; 1 s in all
    values[40:71] = dip
    counter, events = run(values)
    assert counter.count == 0 and counter.partial_count == 1
    assert events[0].turn == 40 + int(np.argmin(dip))
    assert PHASES.depth(values[events[0].turn]) == pytest.approx(events[0].extreme)


def test_one_frame_at_rest_in_the_middle_of_a_rep_is_ridden_over():
    """A pose glitch reads straight limbs for one frame at the bottom (on a dev pull-up, 70 -> 143 -> 119 deg at
    the top): the rep goes on; without the check that frame split it into two reps."""
    values = wave([1, 1])
    bottom = int(np.argmin(values[:60]))
    values[bottom] = 170.0
    counter, events = run(values)
    assert counter.count == 2 and counter.partial_count == 0
    assert events[0].start < bottom < events[0].end
    # a real return that lasts (two frames and more) still ends the rep where it reached rest
    assert [e.end for e in run(wave([1, 1]))[1]] == [e.end for e in events]


def test_rest_from_start_counts_a_romanian_set_from_standing_and_a_floor_set_from_the_floor():
    """A deadlift's rest end is where the person starts: standing for a Romanian deadlift (hips ~175 deg, down
    to ~70, back up; never to the floor), on the floor for a set started at the bar. Each pull is one rep."""
    deadlift = Phases(rest=100, leave=120, turn=160, rest_end="low", first="concentric", rest_from_start=True)
    romanian = wave([1, 1, 1, 1], rest_value=175, bottom_value=70)  # hip angle: standing, hinge, standing
    counter, events = run(romanian, phases=deadlift)
    assert counter.flipped and counter.count == 4 and counter.partial_count == 0
    assert all(e.extreme < 0 for e in events)  # the turn is the hinge: below the definition's floor depth
    from_floor = wave([1, 1, 1], rest_value=70, bottom_value=175)  # at the bar, pull, lower
    counter, _ = run(from_floor, phases=deadlift)
    assert not counter.flipped and counter.count == 3
    fixed = replace(deadlift, rest_from_start=False)  # the floor as rest: the Romanian set loses its last pull
    assert run(romanian, phases=fixed)[0].count == 3
