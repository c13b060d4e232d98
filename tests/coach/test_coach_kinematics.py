"""Kinematics on synthetic bodies: angles, lean, hip line, view, side choice, size normalisation, any skeleton."""

from dataclasses import replace

import numpy as np
import pytest
from coach_synth import PUSHUP_TOP, SQUAT_BOTTOM, STAND, Pose, sequence

from poseit.coach.kinematics import Body, angle_deg, lean_deg, running_median, signed_offset
from poseit.errors import PoseItError

SKELETONS = ("blazepose33", "mpii16", "coco17", "lsp14", "penn13")


def body(poses, view="side", skeleton="penn13", **kw) -> Body:
    return Body.from_sequence(sequence(poses, view, skeleton, **kw))


def test_geometry_helpers():
    a, b, c = np.array([[0.0, -1]]), np.array([[0.0, 0]]), np.array([[1.0, 0]])
    assert angle_deg(a, b, c)[0] == pytest.approx(90)
    assert lean_deg(np.array([[0.0, 0]]), np.array([[1.0, -1]]))[0] == pytest.approx(45)
    # a point above the line (smaller y) is positive whichever way the line runs
    p = np.array([[0.5, -1.0]])
    assert signed_offset(p, np.array([[0.0, 0]]), np.array([[1.0, 0]]))[0] == pytest.approx(1)
    assert signed_offset(p, np.array([[1.0, 0]]), np.array([[0.0, 0]]))[0] == pytest.approx(1)
    assert np.isnan(angle_deg(a, b, np.array([[np.nan, 0]])))[0]
    med = running_median(np.array([1.0, np.nan, 3, 100, 5]), 3)
    assert med[0] == 1 and med[2] == 2 and med[4] == 5


@pytest.mark.parametrize("skeleton", SKELETONS)
def test_joint_angles_from_any_skeleton(skeleton):
    b = body([STAND, SQUAT_BOTTOM], skeleton=skeleton)
    assert b.signal("knee_angle", "min")[0] == pytest.approx(180, abs=0.5)
    assert b.signal("knee_angle", "min")[1] == pytest.approx(70, abs=0.5)
    assert b.signal("hip_angle")[1] == pytest.approx(95, abs=0.5)  # trunk 30 forward, thigh 55 forward
    assert b.signal("trunk_lean")[1] == pytest.approx(30, abs=0.5)
    assert b.signal("elbow_angle")[1] == pytest.approx(180, abs=0.5)
    assert b.signal("shoulder_angle")[1] == pytest.approx(120, abs=0.5)  # arms held forward of a leaning trunk
    assert b.signal("left_knee_angle")[1] == pytest.approx(70, abs=0.5)


def test_normalised_signals_ignore_body_size_and_position():
    small = body([STAND, SQUAT_BOTTOM], scale=60)
    large = body([STAND, SQUAT_BOTTOM], scale=300)
    for name in ("wrist_height", "hip_height", "leg_extension", "knee_angle"):
        assert np.allclose(small.signal(name), large.signal(name), atol=1e-3), name
    assert small.signal("hip_height")[0] == pytest.approx(1.85, abs=0.01)  # legs 1.85 torso lengths


def test_hip_line_sign():
    b = body([PUSHUP_TOP, replace(PUSHUP_TOP, hip_drop=0.15), replace(PUSHUP_TOP, hip_drop=-0.2)])
    straight, sag, pike = b.signal("hip_offset")
    assert abs(straight) < 0.01 and sag < -0.05 and pike > 0.08
    assert b.signal("trunk_lean")[0] == pytest.approx(85, abs=1)


def test_view_detection_and_better_side():
    frames = [STAND] * 40
    assert set(body(frames, "side").views()) == {"side"}
    assert set(body(frames, "front").views()) == {"front"}
    assert set(body(frames, "oblique").views()) == {"oblique"}
    # side on, the far (right) side is scored low: the left side is the better-seen one, and "auto" uses it
    b = body([replace(STAND, forearm=90)] * 40, "side", far_side_score=0.2)
    assert set(b.better_side()) == {"left"}
    assert np.isnan(b.signal("right_elbow_angle")).all()  # below min_score: unknown
    assert b.signal("elbow_angle")[5] == pytest.approx(90, abs=0.5)


def test_combinations_and_errors():
    lunge = Pose(left_thigh=90, left_shin=180, thigh=190, shin=120)
    b = body([lunge] * 3)
    left, right = b.signal("left_knee_angle")[0], b.signal("right_knee_angle")[0]
    assert b.signal("knee_angle", "min")[0] == pytest.approx(min(left, right))
    assert b.signal("knee_angle", "max")[0] == pytest.approx(max(left, right))
    assert b.signal("knee_angle", "mean")[0] == pytest.approx((left + right) / 2)
    with pytest.raises(PoseItError, match="unknown signal"):
        b.signal("nose_angle")
    with pytest.raises(PoseItError, match="side combination"):
        b.signal("knee_angle", "median")


def test_missing_frames_stay_unknown():
    seq = sequence([STAND, SQUAT_BOTTOM, STAND])
    xy = seq.xy.copy()
    xy[1] = np.nan
    b = Body.from_sequence(type(seq)(xy, seq.scores * 0 + 1, seq.skeleton, seq.fps, seq.times))
    knee = b.signal("knee_angle")
    assert np.isnan(knee[1]) and knee[0] == pytest.approx(180, abs=0.5)
