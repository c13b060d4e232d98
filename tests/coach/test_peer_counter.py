"""The two-threshold peer counter (benchmarks/peer_counter.py, AIGym's logic) on synthetic angle sequences; no
MediaPipe needed."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from peer_counter import peer_angles, pose_angle, side_and_angles, two_threshold_count


def cycles(n: int, top: float = 170.0, bottom: float = 60.0, steps: int = 20) -> list[float]:
    """``n`` smooth cycles starting and ending at ``top`` through ``bottom``."""
    t = np.linspace(0.0, 2 * np.pi * n, steps * n + 1)
    return list(bottom + (top - bottom) * (1 + np.cos(t)) / 2)


@pytest.mark.parametrize("n", [0, 1, 3, 10])
def test_counts_each_full_cycle(n: int) -> None:
    assert two_threshold_count(cycles(n)) == n


def test_cycles_not_crossing_both_thresholds_are_ignored() -> None:
    shallow = cycles(4, top=170.0, bottom=100.0)  # never below 90
    short = cycles(4, top=140.0, bottom=40.0)  # never above 145 (after the first frame at 140)
    assert two_threshold_count(shallow) == 0
    assert two_threshold_count(short) == 0
    assert two_threshold_count([*cycles(2), *shallow, *cycles(1)]) == 3


def test_first_frames_mid_rep() -> None:
    # starts at the bottom: the stage becomes "down" without a count; the rep counts on the next descent
    assert two_threshold_count([60, 70, 150, 160, 80, 150]) == 1
    # starts between the thresholds: nothing until "up"
    assert two_threshold_count([120, 100, 120, 150, 80]) == 1
    # starts halfway down (the clip begins after "up"): that first descent is not counted
    assert two_threshold_count(cycles(3)[5:]) == 2


def test_thresholds_are_strict_and_staying_down_counts_once() -> None:
    assert two_threshold_count([150, 90, 145, 90]) == 0  # 90 is not below 90, 145 not above 145
    assert two_threshold_count([150, 80, 70, 60, 85, 80]) == 1
    assert two_threshold_count([150, 80, 150, 80], up=160) == 0
    assert two_threshold_count([150, 95, 150, 95], down=100) == 2


def test_frames_without_a_pose_are_skipped() -> None:
    assert two_threshold_count([150, math.nan, None, 80, math.nan, 150, 80]) == 2


def test_pose_angle_is_aigym_interior_angle() -> None:
    b = np.array([0.0, 0.0])
    assert pose_angle(np.array([1.0, 0.0]), b, np.array([0.0, 1.0])) == pytest.approx(90.0)
    assert pose_angle(np.array([1.0, 0.0]), b, np.array([-1.0, 0.0])) == pytest.approx(180.0)
    assert pose_angle(np.array([1.0, 0.1]), b, np.array([1.0, -0.1])) == pytest.approx(11.42, abs=0.01)
    assert pose_angle(np.array([-1.0, 0.1]), b, np.array([-1.0, -0.1])) == pytest.approx(11.42, abs=0.01)


def test_better_seen_side_and_held_exercise(tmp_path: Path) -> None:
    kps = np.full((3, 33, 3), np.nan)
    kps[:2] = 0.0
    kps[:2, [11, 13, 15], 2] = 0.4  # left shoulder, elbow, wrist
    kps[:2, [12, 14, 16], 2] = 0.9  # right: better seen
    kps[:2, 12, :2] = [0, 0]
    kps[:2, 14, :2] = [1, 0]
    kps[:2, 16, :2] = [1, 1]
    side, angles = side_and_angles(kps, "pushup")
    assert side == "right"
    assert angles[:2] == pytest.approx([90.0, 90.0])
    assert math.isnan(angles[2])
    side, angles = side_and_angles(kps, "plank")
    assert side == "-" and two_threshold_count(angles) == 0
    with pytest.raises(ValueError):
        side_and_angles(kps, "juggling")
    path = tmp_path / "mp.jsonl"
    path.write_text(json.dumps({"frame": 0, "keypoints": None}) + "\n" + json.dumps({"summary": True}) + "\n")
    assert np.isnan(peer_angles(path, "squat")).all()
