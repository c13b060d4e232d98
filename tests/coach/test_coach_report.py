"""summary.json schema, report.html, annotated video, the live hook, and ``poseit analyze`` (no model needed:
it reads keypoints saved with --poses)."""

import json
from dataclasses import replace

import cv2
import numpy as np
import pytest
from coach_synth import CASES, PLANK, sequence

from poseit.cli import main as cli
from poseit.coach.analysis import analyze
from poseit.coach.live import LiveCoach
from poseit.coach.report import render_html, write_report
from poseit.io.sources import Frame
from poseit.keypoints import Poses
from poseit.pipeline import PoseResult

REQUIRED = {"exercise": str, "reps": int, "partial_reps": int, "rep_events": list, "form_issues": list}


def check_schema(summary: dict) -> None:
    for key, kind in REQUIRED.items():
        assert isinstance(summary[key], kind), key
    assert summary["hold_s"] is None or isinstance(summary["hold_s"], float)
    for rep in summary["rep_events"]:
        assert all(isinstance(rep[k], int) for k in ("start", "turn", "end"))
        assert rep["start"] <= rep["turn"] <= rep["end"]
    for issue in summary["form_issues"]:
        assert isinstance(issue["rep"], int) and isinstance(issue["time_s"], float)
        assert isinstance(issue["message"], str) and issue["severity"] in ("info", "warning", "error")
    json.dumps(summary, allow_nan=False)  # strict JSON: no NaN


@pytest.mark.parametrize("exercise", ["squat", "any", "auto"])
def test_summary_schema(exercise):
    seq = CASES["squat"].sequence(**{"bottom": replace(CASES["squat"].bottom, trunk=62)})
    summary = analyze(seq, exercise).summary()
    check_schema(summary)
    assert summary["reps"] == 3
    if exercise == "squat":
        assert {i["rule"] for i in summary["form_issues"]} == {"trunk_forward"}
        assert summary["rep_events"][0]["eccentric_s"] > 0


def test_hold_summary():
    summary = analyze(sequence([PLANK] * 90), "plank").summary()
    check_schema(summary)
    assert summary["reps"] == 0 and summary["hold_s"] == pytest.approx(3.0, abs=0.05)


def test_html_is_self_contained():
    result = analyze(CASES["pushup"].sequence(), "pushup")
    page = render_html(result, "clip.mp4")
    assert "<svg" in page and "<table>" in page and "Push-up" in page
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def tiny_video(path, frames: int, size=(320, 180), fps=30.0):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), i % 255, np.uint8))
    writer.release()


def test_write_report_with_annotated_video(tmp_path):
    seq = CASES["squat"].sequence()
    video = tmp_path / "clip.mp4"
    tiny_video(video, len(seq))
    paths = write_report(analyze(seq, "squat"), seq, video, tmp_path / "report")
    assert json.loads(paths["summary"].read_text())["reps"] == 3
    cap = cv2.VideoCapture(str(paths["video"]))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == len(seq)


def test_cli_analyze_from_saved_poses(tmp_path, capsys):
    seq = CASES["pushup"].sequence()
    video, poses = tmp_path / "clip.mp4", tmp_path / "poses.npz"
    tiny_video(video, len(seq))
    seq.save(poses)
    code = cli(
        [
            "analyze",
            str(video),
            "--exercise",
            "pushup",
            "--from-poses",
            str(poses),
            "--report",
            str(tmp_path / "out"),
            "--no-video",
        ]
    )
    assert code == 0
    assert "Push-up: 3 reps, 0 partial" in capsys.readouterr().out
    check_schema(json.loads((tmp_path / "out" / "summary.json").read_text()))
    assert (tmp_path / "out" / "report.html").is_file() and not (tmp_path / "out" / "annotated.mp4").exists()


def test_cli_bad_input_is_one_line(tmp_path, capsys):
    assert cli(["analyze", str(tmp_path / "missing.mp4"), "--report", str(tmp_path)]) == 1
    assert cli(["analyze", str(tmp_path / "missing.mp4"), "--exercise", "yoga", "--report", str(tmp_path)]) == 1
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    video = tmp_path / "v.mp4"
    tiny_video(video, 3)
    assert cli(["analyze", str(video), "--from-poses", str(bad), "--report", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("poseit: error:") for line in err)
    assert "unknown exercise 'yoga'" in err[1] and "Traceback" not in "".join(err)


def results_for(seq):
    for t in range(len(seq)):
        image = np.zeros((8, 8, 3), np.uint8)
        poses = (
            Poses(seq.xy[t][None], seq.scores[t][None], seq.skeleton) if seq.present[t] else Poses.empty(seq.skeleton)
        )
        yield PoseResult(Frame(image, t, float(seq.times[t])), poses, False)


@pytest.mark.parametrize("name", ["squat", "pushup", "deadlift"])
def test_live_coach_matches_offline(name):
    seq = CASES[name].sequence(count=4)
    coach = LiveCoach(name, seq.skeleton, seq.fps)
    records = [coach(r)[1]["coach"] for r in results_for(seq)]
    coach.close()
    offline = analyze(seq, name)
    assert coach.reps == len(offline.reps) == 4
    ends = [r["event"]["end"] for r in records if "event" in r]
    assert ends == [rep.end for rep in offline.reps]


def test_live_overlay_and_feedback():
    seq = CASES["squat"].sequence(**{"bottom": replace(CASES["squat"].bottom, trunk=62)})
    coach = LiveCoach("squat", seq.skeleton, seq.fps)
    lines = [coach(r)[0] for r in results_for(seq)]
    assert lines[-1][0] == "Squat: 3 reps"
    assert any(any("Chest up" in line for line in ls) for ls in lines)
    plank = sequence([PLANK] * 60)
    coach = LiveCoach("plank", plank.skeleton, plank.fps)
    last = [coach(r)[0] for r in results_for(plank)][-1]
    assert last[0].startswith("Plank: held 2.0 s")


def test_live_auto_and_any():
    plank = sequence([PLANK] * 200)  # held still: auto picks the plank after watching a few seconds
    coach = LiveCoach("auto", plank.skeleton, plank.fps)
    lines = [coach(r)[0] for r in results_for(plank)]
    assert lines[0][0].startswith("coach: watching") and coach.mode == "plank"
    assert lines[-1][0].startswith("Plank: held") and coach.hold_s == pytest.approx(200 / 30, abs=0.1)
    squats = CASES["squat"].sequence(count=6)
    coach = LiveCoach("any", squats.skeleton, squats.fps)
    for r in results_for(squats):
        coach(r)
    coach.close()
    assert coach.reps == 6 and coach.summary()["exercise"] == "any"
