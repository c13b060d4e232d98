"""The `poseit` command end to end, in a subprocess as users run it: real outputs, and bad input that ends in
one clear line and a non-zero exit, with what was written so far still valid."""

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from poseit.io.sinks import read_jsonl


def poseit(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "poseit.cli", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("poseit: error:"), proc.stderr
    for needle in needles:
        assert needle in lines[0]


def test_run_writes_video_jsonl_and_csv(tmp_path, exercise_clip, blazepose_models):
    out = tmp_path / "out"
    proc = poseit(
        "run",
        str(exercise_clip),
        "--max-frames",
        "90",
        "--out-video",
        str(out / "a.mp4"),
        "--out-json",
        str(out / "a.jsonl"),
        "--out-csv",
        str(out / "a.csv"),
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    cap = cv2.VideoCapture(str(out / "a.mp4"))
    assert cap.isOpened() and int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 90
    assert int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 1280
    records = read_jsonl(out / "a.jsonl")
    assert [r["frame"] for r in records] == list(range(90))
    assert records[1]["time_s"] == pytest.approx(1 / 30, abs=1e-3)
    with_person = [r for r in records if r["poses"]]
    assert len(with_person) > 20  # the person appears after the title card (frame ~57)
    pose = with_person[-1]["poses"][0]
    assert pose["skeleton"] == "blazepose33" and len(pose["keypoints"]) == 33
    assert all(len(kp) == 3 for kp in pose["keypoints"]) and len(pose["box"]) == 4 and 0 <= pose["score"] <= 1
    rows = (out / "a.csv").read_text().splitlines()
    assert rows[0].startswith("frame,time_s,path,person,score,nose_x") and len(rows) == 1 + len(with_person)


def test_image_source_and_summary(tmp_path, data_dir, blazepose_models):
    image = data_dir / "lsp" / "images" / "im1005.jpg"
    proc = poseit("run", str(image), "--model", "blazepose-lite", "--out-json", str(tmp_path / "p.jsonl"))
    assert proc.returncode == 0, proc.stderr
    assert "1 frames, person found on 1" in proc.stdout
    (rec,) = read_jsonl(tmp_path / "p.jsonl")
    assert rec["path"] == str(image) and len(rec["poses"]) == 1


def test_truncated_video_keeps_a_complete_jsonl(tmp_path, exercise_clip, blazepose_models):
    cap = cv2.VideoCapture(str(exercise_clip))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 100)
    full = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(full), cv2.VideoWriter_fourcc(*"MJPG"), 30, (640, 360))
    for _ in range(60):
        writer.write(cv2.resize(cap.read()[1], (640, 360)))
    writer.release()
    truncated = tmp_path / "truncated.avi"
    data = full.read_bytes()
    truncated.write_bytes(data[: len(data) * 6 // 10])
    out = tmp_path / "t.jsonl"
    proc = poseit("run", str(truncated), "--out-json", str(out), "--quiet")
    assert_one_line_error(proc, "ended early")
    records = read_jsonl(out)  # every line parses: the file is complete for the frames read
    assert 20 < len(records) < 60 and [r["frame"] for r in records] == list(range(len(records)))


@pytest.mark.parametrize(
    "case, needle",
    [
        ("missing", "no such file"),
        ("empty", "empty file"),
        ("text", "not a readable video"),
        ("empty_folder", "no images"),
        ("camera", "no camera at index 7"),
    ],
)
def test_bad_sources(tmp_path, case, needle):
    paths = {
        "missing": tmp_path / "nope.mp4",
        "empty": tmp_path / "empty.mp4",
        "text": tmp_path / "notes.mp4",
        "empty_folder": tmp_path / "folder",
        "camera": "7",
    }
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "notes.mp4").write_text("this is not a video")
    (tmp_path / "folder").mkdir()
    assert_one_line_error(poseit("run", str(paths[case]), "--quiet"), needle)


def test_folder_with_a_bad_file_reports_it_after_the_good_ones(tmp_path, data_dir, blazepose_models):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in (1001, 1002):
        (folder / f"im{i}.jpg").write_bytes((data_dir / "lsp" / "images" / f"im{i}.jpg").read_bytes())
    (folder / "broken.jpg").write_text("not a jpeg")
    out = tmp_path / "f.jsonl"
    proc = poseit("run", str(folder), "--out-json", str(out), "--quiet")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "broken.jpg" in proc.stderr.splitlines()[-1]
    assert len(read_jsonl(out)) == 2


def test_bad_model_and_arguments(tmp_path, exercise_clip):
    assert_one_line_error(poseit("run", str(exercise_clip), "--model", "blazepose-huge"), "unknown model")
    assert_one_line_error(poseit("run", str(exercise_clip), "--model", str(tmp_path / "x.onnx")), "not found")
    assert_one_line_error(poseit("run", str(exercise_clip), "--show"), "--show needs")
    bad = poseit("run", str(exercise_clip), "--precision", "int3")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_models_list_and_help(blazepose_models):
    proc = poseit("models", "list")
    assert proc.returncode == 0 and "blazepose-full" in proc.stdout and "cached" in proc.stdout
    assert poseit().returncode == 2


def test_bench_reports_stages(tmp_path, data_dir, blazepose_models):
    clip = data_dir / "exercise-videos" / "yuyoujiang+test_video" / "squat.mp4"  # person in view from frame 0
    proc = poseit("bench", str(clip), "--max-frames", "40", "--json", str(tmp_path / "b.json"))
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "b.json").read_text())
    assert result["frames"] == 40 and result["fps"] > 0
    assert {"decode", "detect", "landmarks", "post"} <= set(result["stage_ms"])
