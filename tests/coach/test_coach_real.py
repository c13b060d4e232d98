"""The coach on real clips through the real engine (skips without ../shared or the BlazePose models).

Short clips only; the full 11-clip, Penn Action and QUVA evaluations are in benchmarks/coach_*.py."""

import json

import pytest

from poseit.cli import main as cli
from poseit.coach.analysis import analyze
from poseit.coach.sequence import extract_poses

CLIPS = "exercise-videos"


@pytest.fixture(scope="module")
def poses(data_dir, blazepose_models):
    cache = {}

    def get(name: str):
        if name not in cache:
            cache[name] = extract_poses(data_dir / CLIPS / name)
        return cache[name]

    return get


def test_pushups_with_a_partial_at_the_end(poses):
    result = analyze(poses("hxlinh+Fitness_Pose_Correction_Application/push-up_1.mp4"), "pushup")
    assert len(result.reps) == 2  # labelled 2; a third descent reaches the bottom on the last frame
    assert [p.partial_reason for p in result.partials] == ["end"]
    assert [abs(r.turn - t) <= 6 for r, t in zip(result.reps, (34, 85), strict=True)] == [True, True]


def test_deadlift_floor_to_lockout(poses):
    result = analyze(poses("jrplatin+FormFit/deadlift.mp4"), "deadlift")
    assert len(result.reps) == 2


def test_plank_hold(poses):
    result = analyze(poses("hxlinh+Fitness_Pose_Correction_Application/plank_3.mp4"), "plank")
    assert result.reps == [] and result.hold_s == pytest.approx(2.57, abs=0.2) and not result.issues
    auto = analyze(poses("hxlinh+Fitness_Pose_Correction_Application/plank_3.mp4"), "auto")
    assert auto.exercise == "plank"


def test_knee_pushups_cuts_partials_and_the_incorrect_segment(poses):
    """3 segments joined by hard cuts: 2 + 3 + 0 complete reps; the rep cut off at 731 and the one the clip
    ends on are partial; segment (b) (490-730) is captioned incorrect (glutes not activated): the hips-piking
    rule fires on exactly its reps."""
    seq = poses("Adelo-dev+NewKit/sample_knee_pushups.mp4")
    result = analyze(seq, "pushup")
    assert len(result.reps) == 5 and len(result.partials) == 2
    assert sorted(p.partial_reason for p in result.partials) == ["cut", "end"]
    piking = {i.rep for i in result.issues if i.rule == "hips_piking"}
    assert piking == {r.number for r in result.reps if 490 <= r.turn < 731} == {3, 4, 5}
    assert analyze(seq, "auto").exercise == "pushup"


def test_cli_analyze_and_live_run_agree(data_dir, blazepose_models, tmp_path, capsys):
    clip = data_dir / CLIPS / "hxlinh+Fitness_Pose_Correction_Application" / "push-up_1.mp4"
    assert cli(["analyze", str(clip), "--exercise", "pushup", "--report", str(tmp_path / "r")]) == 0
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["reps"] == 2 and summary["partial_reps"] == 1
    assert 0 <= summary["confidence"] <= 1 and summary["uncertain"] == (summary["confidence"] < 0.8)
    assert (tmp_path / "r" / "annotated.mp4").stat().st_size > 10_000
    assert "<svg" in (tmp_path / "r" / "report.html").read_text()
    jsonl = tmp_path / "live.jsonl"
    assert cli(["run", str(clip), "--exercise", "pushup", "--out-json", str(jsonl), "--quiet"]) == 0
    last = json.loads(jsonl.read_text().splitlines()[-1])
    assert last["coach"]["reps"] == summary["reps"]  # one counter: the live run gives the analysis's count
