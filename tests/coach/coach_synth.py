"""Synthetic people for the coach tests: a 3-D stick figure posed by joint angles, projected to an image from
the side, the front or at 45 degrees, on any registered skeleton (joints made by name).

Angles follow the coach's conventions: a segment's direction is given by ``pitch`` in the body's sagittal
plane (0 up, 90 forward, 180 down) and ``spread`` out to its own side (abduction; 90 = horizontal sideways,
180 = overhead from the side). The whole body can be tilted forward (``body_pitch``: 90 lies face down).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from poseit.coach.sequence import PoseSequence
from poseit.skeletons import get_skeleton

# segment lengths in torso lengths (the torso is 1)
SHIN, THIGH, UPPER_ARM, FOREARM, HEAD, HIP_HALF, SHOULDER_HALF = 0.95, 0.9, 0.6, 0.55, 0.35, 0.2, 0.3
PIXELS = 150.0


@dataclass(frozen=True)
class Pose:
    """Joint angles of one frame (degrees)."""

    trunk: float = 0.0  # trunk pitch forward from vertical
    thigh: float = 180.0  # thigh pitch (180 straight down)
    shin: float = 180.0
    upper_arm: float = 180.0
    forearm: float = 180.0
    arm_spread: float = 0.0  # arms out to the side (jumping jack, lateral raise)
    forearm_spread: float | None = None  # the forearm's own spread (default: the arm's)
    leg_spread: float = 0.0
    knee_in: float = 0.0  # knees pulled towards the midline (valgus), as a share of hip width
    body_pitch: float = 0.0  # whole body tilted forward about the hips (push-up, plank ~ 90)
    hip_drop: float = 0.0  # hips pushed off the shoulder-knee line towards the chest side (torso lengths)
    left_thigh: float | None = None  # per-side overrides (lunges)
    left_shin: float | None = None


def _dir(pitch: float, spread: float = 0.0, side: float = 1.0) -> np.ndarray:
    """Unit vector (forward, down, lateral) for a segment's pitch and spread."""
    p, s = np.radians(pitch), np.radians(spread)
    return np.array([np.sin(p) * np.cos(s), -np.cos(p) * np.cos(s), side * np.sin(s)])


def body_points(pose: Pose) -> dict[str, np.ndarray]:
    """Named 3-D points (forward, down, lateral) of a body standing at the origin (hips)."""
    pts: dict[str, np.ndarray] = {}
    trunk = _dir(pose.trunk)
    pelvis = np.zeros(3)
    thorax = pelvis + trunk
    for side, sign in (("left", 1.0), ("right", -1.0)):
        hip = pelvis + np.array([0, 0, sign * HIP_HALF])
        shoulder = thorax + np.array([0, 0, sign * SHOULDER_HALF])
        thigh_pitch = pose.left_thigh if side == "left" and pose.left_thigh is not None else pose.thigh
        shin_pitch = pose.left_shin if side == "left" and pose.left_shin is not None else pose.shin
        knee = hip + THIGH * _dir(thigh_pitch, pose.leg_spread, sign)
        ankle = knee + SHIN * _dir(shin_pitch, pose.leg_spread, sign)
        knee = knee - np.array([0, 0, sign * pose.knee_in * 2 * HIP_HALF])  # the feet stay where they are
        elbow = shoulder + UPPER_ARM * _dir(pose.upper_arm, pose.arm_spread, sign)
        forearm_spread = pose.arm_spread if pose.forearm_spread is None else pose.forearm_spread
        wrist = elbow + FOREARM * _dir(pose.forearm, forearm_spread, sign)
        hand = (wrist - elbow) / FOREARM * 0.1
        pts |= {
            f"{side}_hip": hip,
            f"{side}_shoulder": shoulder,
            f"{side}_knee": knee,
            f"{side}_ankle": ankle,
            f"{side}_elbow": elbow,
            f"{side}_wrist": wrist,
            f"{side}_heel": ankle + np.array([-0.08, 0.05, 0]),
            f"{side}_foot_index": ankle + np.array([0.2, 0.07, 0]),
            f"{side}_pinky": wrist + hand,
            f"{side}_index": wrist + hand,
            f"{side}_thumb": wrist + 0.7 * hand,
        }
    if pose.hip_drop:  # towards the chest side: the floor when lying face down
        for side in ("left", "right"):
            pts[f"{side}_hip"] = pts[f"{side}_hip"] + np.array([pose.hip_drop, 0, 0])
    head = thorax + HEAD * trunk
    face = head + 0.12 * _dir(pose.trunk + 90)
    pts |= {
        "head": head,
        "head_top": head + 0.2 * trunk,
        "upper_neck": thorax + 0.15 * trunk,
        "neck": thorax + 0.12 * trunk,
        "thorax": thorax,
        "pelvis": pelvis,
        "nose": face,
    }
    for side, sign in (("left", 1.0), ("right", -1.0)):
        lateral = np.array([0, 0, sign])
        pts |= {
            f"{side}_eye": face + 0.05 * lateral - 0.04 * trunk,
            f"{side}_eye_inner": face + 0.03 * lateral - 0.04 * trunk,
            f"{side}_eye_outer": face + 0.07 * lateral - 0.04 * trunk,
            f"{side}_ear": head + 0.09 * lateral,
            f"{side}_mouth": face + 0.03 * lateral + 0.06 * trunk,
        }
        pts[f"mouth_{side}"] = pts.pop(f"{side}_mouth")
    if pose.body_pitch:  # tilt the whole body forward about the lateral axis through the hips
        a = np.radians(pose.body_pitch)
        rot = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
        pts = {k: rot @ v for k, v in pts.items()}
    return pts


YAWS = {"side": 0.0, "oblique": 45.0, "front": 90.0}
METRES = 0.5  # a torso length in metres, for world landmarks


def project(
    pts: dict[str, np.ndarray],
    view: str,
    origin: tuple[float, float] = (640, 360),
    scale: float = PIXELS,
    yaw: float | None = None,
) -> dict[str, np.ndarray]:
    """Image pixels (x right, y down) seen from the ``side`` (facing right), the ``front`` or ``oblique``, or
    from any camera ``yaw`` (degrees about the vertical; 180 = the other side, 135 = rear-oblique)."""
    yaw = YAWS[view] if yaw is None else yaw
    c, s = np.cos(np.radians(yaw)), np.sin(np.radians(yaw))
    return {k: np.array([origin[0] + scale * (v[0] * c + v[2] * s), origin[1] + scale * v[1]]) for k, v in pts.items()}


def world_coords(pts: dict[str, np.ndarray], yaw: float, pitch: float = 0.0) -> dict[str, np.ndarray]:
    """BlazePose-style world landmarks in metres (x right, y down, z away from the camera, origin at the hips)
    for a camera at ``yaw`` tilted down by ``pitch`` degrees (gravity then no longer lies along y)."""
    c, s = np.cos(np.radians(yaw)), np.sin(np.radians(yaw))
    cp, sp = np.cos(np.radians(pitch)), np.sin(np.radians(pitch))
    out = {}
    for k, v in pts.items():
        x, y, z = v[0] * c + v[2] * s, v[1], -v[0] * s + v[2] * c
        out[k] = METRES * np.array([x, y * cp - z * sp, y * sp + z * cp])
    return out


def sequence(
    poses: list[Pose],
    view: str = "side",
    skeleton: str = "penn13",
    fps: float = 30.0,
    far_side_score: float = 0.9,
    noise_px: float = 0.0,
    seed: int = 0,
    scale: float = PIXELS,
    world: bool = False,
    yaws: list[float] | None = None,
    pitch: float = 0.0,
) -> PoseSequence:
    """A `PoseSequence` of the posed frames on ``skeleton``; in side view the right side (away from the camera)
    is scored ``far_side_score``. ``world`` adds world landmarks (as BlazePose gives); ``yaws`` sets the
    camera yaw per frame (a camera moving round the person, or a dissolve between two views); ``pitch`` tilts
    the camera down (world landmarks only)."""
    skel = get_skeleton(skeleton)
    rng = np.random.default_rng(seed)
    xy = np.zeros((len(poses), skel.num_joints, 2), np.float32)
    xyz = np.zeros((len(poses), skel.num_joints, 3), np.float32)
    scores = np.ones((len(poses), skel.num_joints), np.float32)
    for t, pose in enumerate(poses):
        yaw = YAWS[view] if yaws is None else yaws[t]
        pts = body_points(pose)
        image = project(pts, view, scale=scale, yaw=yaw)
        metric = world_coords(pts, yaw, pitch)
        for k, name in enumerate(skel.joints):
            xy[t, k] = image[name]
            xyz[t, k] = metric[name]
            if view == "side" and yaws is None and "right" in name.split("_"):
                scores[t, k] = far_side_score
    if noise_px:
        xy += rng.normal(0, noise_px, xy.shape).astype(np.float32)
        xyz += rng.normal(0, noise_px / scale * METRES, xyz.shape).astype(np.float32)
    seq = PoseSequence.from_array(xy, skeleton, fps, scores, 1280, 720)
    return replace(seq, world=xyz) if world else seq


def reps(
    fps: float,
    count: int,
    rep_s: float,
    rest_s: float,
    start: Pose,
    bottom: Pose,
    depths: list[float] | None = None,
    lead_s: float = 1.0,
) -> list[Pose]:
    """Frames of ``count`` reps from ``start`` to ``bottom`` and back (smooth), with rests between;
    ``depths`` (0..1 per rep) scales how far towards ``bottom`` each rep goes."""
    frames = [start] * round(lead_s * fps)
    depths = depths or [1.0] * count
    n = max(4, round(rep_s * fps))
    for d in depths:
        for i in range(n):
            w = d * 0.5 * (1 - np.cos(2 * np.pi * i / n))
            frames.append(blend(start, bottom, w))
        frames += [start] * round(rest_s * fps)
    return frames


def blend(a: Pose, b: Pose, w: float) -> Pose:
    """The pose ``w`` of the way from ``a`` to ``b`` (an unset per-side override follows the shared value)."""
    out = {}
    for field in a.__dataclass_fields__:
        va, vb = getattr(a, field), getattr(b, field)
        if field.startswith("left_") or field == "forearm_spread":
            base = "arm_spread" if field == "forearm_spread" else field.removeprefix("left_")
            va = getattr(a, base) if va is None else va
            vb = getattr(b, base) if vb is None else vb
        out[field] = va + w * (vb - va)
    return replace(a, **out)


# --- the exercises, clean and with one fault each ----------------------------------------------------------------
STAND = Pose()
SQUAT_BOTTOM = Pose(trunk=30, thigh=180 - 55, shin=180 + 55, upper_arm=90, forearm=90)  # knees at 70 degrees
PUSHUP_TOP = Pose(body_pitch=85, upper_arm=180 - 85, forearm=180 - 85)
# bottom: forearms stay vertical (pitch 95 in the body tilted 85), the upper arms go back past level: elbows at
# 75 degrees, the shoulders ~0.66 upper-arm lengths above the hands (chest near the floor)
PUSHUP_BOTTOM = replace(PUSHUP_TOP, upper_arm=200, forearm=180 - 85)
CURL_BOTTOM = Pose(forearm=180)
CURL_TOP = Pose(forearm=35)  # elbow at ~35 degrees
HANG = Pose(upper_arm=0, forearm=0)  # dead hang: arms straight overhead
PULLUP_TOP = Pose(upper_arm=135, forearm=10)  # elbows at ~55 degrees, hands at shoulder height
DIP_TOP = Pose(trunk=15)  # arms locked out, straight down
DIP_BOTTOM = Pose(trunk=15, upper_arm=270, forearm=180)  # upper arms level behind, forearms vertical: elbows at 90


def squat_frames(fps: float = 30.0, count: int = 3, **bottom) -> list[Pose]:
    return reps(fps, count, 1.6, 0.6, STAND, replace(SQUAT_BOTTOM, **bottom))


@dataclass(frozen=True)
class Case:
    """An exercise performed cleanly (``start`` -> ``bottom`` -> ``start``) in ``view``."""

    exercise: str
    view: str
    start: Pose
    bottom: Pose
    begins_at_bottom: bool = False  # deadlift: reps go floor -> lockout -> floor

    def frames(self, fps: float = 30.0, count: int = 3, **changes: Pose) -> list[Pose]:
        start, bottom = changes.get("start", self.start), changes.get("bottom", self.bottom)
        if self.begins_at_bottom:
            return reps(fps, count, 2.0, 0.6, bottom, start)
        return reps(fps, count, 1.6, 0.6, start, bottom)

    def sequence(
        self, view: str | None = None, skeleton: str = "penn13", count: int = 3, **changes: Pose
    ) -> PoseSequence:
        return sequence(self.frames(count=count, **changes), view or self.view, skeleton)


LYING_BACK = -80.0  # body tilted back: lying face up
CASES = {
    "squat": Case("squat", "side", STAND, SQUAT_BOTTOM),
    "pushup": Case("pushup", "side", PUSHUP_TOP, PUSHUP_BOTTOM),
    "curl": Case("curl", "side", CURL_BOTTOM, CURL_TOP),
    "deadlift": Case(
        "deadlift", "side", Pose(), Pose(trunk=75, thigh=140, shin=200, upper_arm=180 - 75 + 75), begins_at_bottom=True
    ),
    "jumping_jack": Case(
        "jumping_jack", "front", Pose(arm_spread=10, leg_spread=3), Pose(arm_spread=170, leg_spread=20)
    ),
    "lunge": Case("lunge", "side", STAND, Pose(left_thigh=90, left_shin=180, thigh=190, shin=120)),
    "shoulder_press": Case(
        "shoulder_press",
        "front",
        Pose(arm_spread=45, forearm=0, forearm_spread=0),
        Pose(arm_spread=170, forearm=0, forearm_spread=0),
    ),
    "lateral_raise": Case("lateral_raise", "front", Pose(arm_spread=10), Pose(arm_spread=90)),
    "pullup": Case("pullup", "side", HANG, PULLUP_TOP),
    "dip": Case("dip", "side", DIP_TOP, DIP_BOTTOM),
    "situp": Case(
        "situp",
        "side",
        Pose(body_pitch=LYING_BACK, thigh=135, shin=225),
        Pose(body_pitch=LYING_BACK, trunk=80, thigh=135, shin=225),
    ),
}

PLANK = replace(PUSHUP_TOP, body_pitch=88)


def _bottom(name: str, **kw: float) -> Pose:
    return replace(CASES[name].bottom, **kw)


def _start(name: str, **kw: float) -> Pose:
    return replace(CASES[name].start, **kw)


# rule id -> (exercise, view, changed start/bottom poses): each sequence breaks exactly that rule, by more than
# the rule signal's measured uncertainty (uncertainty.toml)
FAULTS: dict[str, tuple[str, str, dict[str, Pose]]] = {
    "squat.depth": ("squat", "side", {"bottom": _bottom("squat", thigh=180 - 30, shin=180 + 30)}),
    "squat.depth_front": ("squat", "front", {"bottom": _bottom("squat", thigh=180 - 45, shin=180 + 45)}),
    "squat.knees_caving": ("squat", "front", {"bottom": _bottom("squat", knee_in=0.3)}),
    "squat.trunk_forward": ("squat", "side", {"bottom": _bottom("squat", trunk=62)}),
    # elbows to 100 deg (counted) with the hands far forward: the shoulders stay 1.5 upper arms above them
    "pushup.partial_range": ("pushup", "side", {"bottom": _bottom("pushup", upper_arm=60, forearm=140)}),
    "pushup.hips_sagging": (
        "pushup",
        "side",
        {"start": _start("pushup", hip_drop=0.15), "bottom": _bottom("pushup", hip_drop=0.15)},
    ),
    "pushup.hips_piking": (
        "pushup",
        "side",
        {"start": _start("pushup", hip_drop=-0.2), "bottom": _bottom("pushup", hip_drop=-0.2)},
    ),
    "curl.elbow_drift": ("curl", "side", {"bottom": _bottom("curl", upper_arm=135, forearm=-10)}),
    "deadlift.lockout": ("deadlift", "side", {"start": _start("deadlift", trunk=22, thigh=175)}),
    "deadlift.squatting_the_pull": ("deadlift", "side", {"bottom": _bottom("deadlift", thigh=112, shin=240)}),
    "deadlift.leaning_back": ("deadlift", "side", {"start": _start("deadlift", trunk=-35, thigh=150)}),
    "jumping_jack.arms_overhead": ("jumping_jack", "front", {"bottom": _bottom("jumping_jack", arm_spread=120)}),
    "jumping_jack.feet_apart": ("jumping_jack", "front", {"bottom": _bottom("jumping_jack", leg_spread=5)}),
    "lunge.depth": ("lunge", "side", {"bottom": _bottom("lunge", left_thigh=125, shin=135)}),
    "lunge.trunk_forward": ("lunge", "side", {"bottom": _bottom("lunge", trunk=40)}),
    "lunge.knee_caving": ("lunge", "front", {"bottom": _bottom("lunge", knee_in=0.4)}),
    "shoulder_press.lockout": ("shoulder_press", "front", {"bottom": _bottom("shoulder_press", arm_spread=140)}),
    "shoulder_press.leaning_back": ("shoulder_press", "oblique", {"bottom": _bottom("shoulder_press", trunk=-30)}),
    "lateral_raise.too_high": ("lateral_raise", "front", {"bottom": _bottom("lateral_raise", arm_spread=125)}),
    "lateral_raise.bent_elbows": (
        "lateral_raise",
        "front",
        {"bottom": _bottom("lateral_raise", forearm=60, forearm_spread=0)},
    ),
    "lateral_raise.swinging": ("lateral_raise", "oblique", {"bottom": _bottom("lateral_raise", trunk=28)}),
    "situp.full_range": ("situp", "side", {"bottom": _bottom("situp", trunk=45)}),
    # elbows to ~102 deg (counted) with the upper arms above level: the shoulders stay 1.25 upper arms up
    "dip.depth": ("dip", "side", {"bottom": _bottom("dip", upper_arm=250, forearm=172)}),
}
