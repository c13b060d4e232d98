"""The hourglass students that ship inside the package (hg-tiny at 192, hg-mobile at 256; INT8 and FP16): they
load with no model cache and no network, run end to end on a ../shared clip, find the joints BlazePose finds on
real frames, and drive the coach through its 2D signals. Skips without ../shared or the BlazePose detector."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import poseit
from poseit.cli import main as cli
from poseit.models import create_landmark_model, get_spec, model_path
from poseit.models.heatmap import HeatmapLandmarks
from poseit.pipeline import PoseEstimator

SIZES = {"hg-tiny": 192, "hg-mobile": 256}
NAMES = ["hg-tiny", "hg-mobile", "hg-tiny-fp16", "hg-mobile-fp16", "hg-tiny-flip", "hg-mobile-flip"]
CLIP = Path("exercise-videos") / "jrplatin+FormFit" / "squat1.mp4"  # 368x656, one person, side view


def _size(name: str) -> int:
    return SIZES[name.removesuffix("-fp16").removesuffix("-flip")]


@pytest.fixture(scope="module")
def detector() -> None:
    from poseit.models.manager import is_cached

    if not is_cached(get_spec("blazepose-detector").artifact):
        pytest.skip("the BlazePose detector is not pulled (run `poseit models pull blazepose-detector`)")


@pytest.fixture(scope="module")
def squat_frames(data_dir: Path) -> list[np.ndarray]:
    import cv2

    path = data_dir / CLIP
    if not path.is_file():
        pytest.skip(f"clip missing: {path}")
    cap = cv2.VideoCapture(str(path))
    frames = []
    for i in range(400):
        ok, frame = cap.read()
        if not ok:
            break
        if i % 80 == 40:
            frames.append(frame)
    cap.release()
    return frames


@pytest.mark.parametrize("name", ["hg-tiny", "hg-mobile"])
def test_shipped_students_say_what_they_were_converted_from(name):
    """``shipped_provenance``: the stage and step of every shipped student, at the input size it ships at."""
    from poseit.models.manager import shipped_provenance

    record = shipped_provenance()[name]
    assert record["stage"] in record["source"] and record["step"] > 0
    assert record["exported_at"] == _size(name)


@pytest.mark.parametrize("name", NAMES)
def test_loads_from_the_package_without_a_cache(name, tmp_path, monkeypatch):
    monkeypatch.setenv("POSEIT_MODELS", str(tmp_path))  # an empty cache: the weights must come from the package
    spec = get_spec(name)
    path = model_path(name)
    assert spec.artifact.shipped and spec.skeleton == "mpii16"
    assert path.is_relative_to(Path(poseit.__file__).parent / "models" / "weights")
    assert 3e5 < path.with_suffix(".bin").stat().st_size < 8e6  # under a MB (hg-tiny INT8) to a few MB
    model = create_landmark_model(name)
    assert isinstance(model, HeatmapLandmarks) and model.input_size == (_size(name), _size(name))
    assert model.refine_passes == 0  # a second look at found people loses on dev for the students
    assert not model.prefer_upright  # their ROI keeps the detector's rotation: nothing confirms an upright look


@pytest.mark.parametrize("name", NAMES)
def test_joints_near_blazepose_on_real_frames(name, squat_frames, detector, blazepose_models):
    """On frames of a squat clip, the student's MPII-16 joints lie near BlazePose full's (mapped to MPII-16):
    median error under 15% of the person's size (measured 2026-12-01: hg-tiny about 0.08; a network that has
    learnt nothing puts its joints a third of the person away or more)."""
    student = PoseEstimator(name, mode="detect")
    teacher = PoseEstimator("blazepose-full", mode="detect")
    errors = []
    for frame in squat_frames:
        ref = teacher(frame).to_skeleton("mpii16")
        got = student(frame)
        assert len(ref) == 1 and len(got) == 1 and got.skeleton == "mpii16"
        size = float(np.ptp(ref.xy[0], axis=0).max())
        errors.append(np.linalg.norm(got.xy[0] - ref.xy[0], axis=1) / size)
    errors = np.array(errors)
    assert len(errors) == 5
    assert np.median(errors) < 0.15, np.median(errors, axis=0).round(3)


@pytest.mark.parametrize("name", ["hg-tiny", "hg-mobile"])
def test_flip_variant_sees_a_mirrored_frame_as_the_mirror(name, squat_frames, detector):
    """``<name>-flip`` averages in the mirrored crop's heatmaps, so its joints on a mirrored frame (ROI mirrored
    too) are the mirror of those on the frame, up to the crop's half-pixel offset; the plain model's are not.
    Measured 2026-12-03 on these frames: median 0.008 (flip) against 0.015 (plain) ROI widths, both students."""
    from poseit.detect.roi import Roi
    from poseit.models import create_detector
    from poseit.skeletons import get_skeleton

    find = create_detector()
    flip_index = get_skeleton("mpii16").flip_index
    spread, flips = {}, {}
    for variant in (name, f"{name}-flip"):
        model = create_landmark_model(variant)
        flips[variant] = model.flip_test
        errors = []
        for frame in squat_frames:
            width = frame.shape[1]
            roi = find(frame)[0].roi
            xy = model(frame, roi).xy
            mirror_roi = Roi(width - 1 - roi.cx, roi.cy, roi.width, roi.height, -roi.rotation)
            back = model(np.ascontiguousarray(frame[:, ::-1]), mirror_roi).xy
            back = np.stack([width - 1 - back[:, 0], back[:, 1]], axis=1)[flip_index]
            errors.append(np.median(np.linalg.norm(xy - back, axis=1)) / roi.width)
        spread[variant] = float(np.median(errors))
    assert flips == {name: False, f"{name}-flip": True}
    assert spread[f"{name}-flip"] < min(0.015, 0.75 * spread[name]), spread


@pytest.mark.parametrize("name", ["hg-tiny", "hg-mobile"])
def test_run_with_no_model_cache_at_all(name, data_dir, tmp_path, monkeypatch):
    """A fresh install with no network and nothing pulled: `poseit run clip --model hg-*` as users type it
    (tracking; the tracks start from the whole frame, with a notice) and whole-frame mode."""
    monkeypatch.setenv("POSEIT_MODELS", str(tmp_path / "empty"))
    for mode, frames in (([], 30), (["--mode", "whole-frame"], 5)):
        jsonl = tmp_path / f"poses{frames}.jsonl"
        args = ["run", str(data_dir / CLIP), "--model", name, *mode, "--max-frames", str(frames)]
        assert cli([*args, "--out-json", str(jsonl), "--quiet"]) == 0
        lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
        assert len(lines) == frames and sum(bool(rec["poses"]) for rec in lines) >= 0.9 * frames
        assert all(len(rec["poses"][0]["keypoints"]) == 16 for rec in lines if rec["poses"])


@pytest.mark.parametrize("name", ["hg-tiny", "hg-mobile"])
def test_run_cli_end_to_end(name, data_dir, detector, tmp_path):
    jsonl = tmp_path / "poses.jsonl"
    args = ["run", str(data_dir / CLIP), "--model", name, "--max-frames", "60", "--out-json", str(jsonl), "--quiet"]
    assert cli(args) == 0
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert len(lines) == 60
    people = [rec["poses"] for rec in lines if rec["poses"]]
    assert len(people) >= 55  # tracked on (nearly) every frame
    first = people[-1][0]
    assert len(first["keypoints"]) == 16


@pytest.mark.parametrize("name", ["hg-tiny", "hg-mobile"])
def test_coach_runs_with_the_student(name, data_dir, detector, tmp_path):
    """`poseit analyze` with a student: no world landmarks, so the coach runs on its 2D signals, smoothed in
    proportion to their noise (`poseit.coach.analysis.denoise`). The clip has 5 labelled squats. Before that
    smoothing both students counted 9 (extra "reps" of 13-40 frames at the bottom, where their 2D knee angle
    jumps to a straight leg); with it both count 6 on the weights of aef5a2c, and on those of e29ae26 (hg-tiny
    re-shipped from t6) hg-tiny counts 5, hg-mobile 6 (measured 2026-12-02; the clip held out of every choice).
    Asserted honestly: within one of 5, not exact (hg-mobile is one over, and weights get re-shipped)."""
    report = tmp_path / "report"
    args = ["analyze", str(data_dir / CLIP), "--model", name, "--exercise", "squat", "--report", str(report)]
    assert cli([*args, "--no-video", "--quiet"]) == 0
    summary = json.loads((report / "summary.json").read_text())
    assert summary["exercise"] == "squat" and summary["frames"] == 549 and summary["view"]
    assert abs(summary["reps"] - 5) <= 1, summary["reps"]
