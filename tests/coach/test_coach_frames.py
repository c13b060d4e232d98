"""Cuts from the image and counting from the pixels, on rendered frames: a synthetic person (coach_synth) drawn
as a stick figure over a textured scene, so the poses and the frames agree; and on ../shared clips."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest
from coach_synth import CASES, STAND, reps, sequence

from poseit.coach.analysis import analyze
from poseit.coach.frames import FrameFeatures, frame_features, transitions
from poseit.coach.periodic import PeriodicResult, count_pixels, fuse
from poseit.coach.sequence import PoseSequence
from poseit.skeletons import get_skeleton

SCALE = 0.25  # frames are drawn at a quarter of the synthetic sequence's 1280x720


def scene(seed: int, size: tuple[int, int] = (180, 320)) -> np.ndarray:
    """A smooth random colour texture (a room)."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(30, 220, (9, 16, 3)).astype(np.float32)
    return cv2.resize(coarse, (size[1], size[0]), interpolation=cv2.INTER_CUBIC).clip(0, 255).astype(np.uint8)


def draw(background: np.ndarray, xy: np.ndarray, skeleton: str, offset=(0.0, 0.0), zoom: float = 1.0) -> np.ndarray:
    """The stick figure of one frame's (K, 2) pixels over ``background``."""
    image = background.copy()
    h, w = image.shape[:2]
    pts = (xy - [640, 360]) * SCALE * zoom + [w / 2 + offset[0], h / 2 + offset[1]]
    skel = get_skeleton(skeleton)
    for a, b in ((skel.index[u], skel.index[v]) for u, v in skel.limbs):
        if np.isfinite(pts[[a, b]]).all():
            cv2.line(image, tuple(int(v) for v in pts[a]), tuple(int(v) for v in pts[b]), (20, 20, 240), 5)
    return image


def with_frames(seq: PoseSequence, images: list[np.ndarray]) -> PoseSequence:
    return replace(seq, frames=FrameFeatures.stack([frame_features(im) for im in images]))


def rendered(seq: PoseSequence, backgrounds: list[np.ndarray], **kw) -> PoseSequence:
    """``seq`` with the frame features of its stick figure drawn over ``backgrounds[t]``."""
    return with_frames(seq, [draw(bg, xy, seq.skeleton, **kw) for bg, xy in zip(backgrounds, seq.xy, strict=True)])


def squats(count: int = 3, **kw) -> list:
    return reps(30, count, 1.6, 0.6, STAND, CASES["squat"].bottom, **kw)


@pytest.mark.parametrize("what", ["tracker", "arms"])
def test_joints_jumping_without_an_image_cut_is_no_cut(what):
    """The tracker jumps away for two frames at the bottom of rep 2, or the arms are flung overhead within a
    frame and back: the picture is continuous, so no cut, and the rep counts."""
    frames = squats()
    seq = sequence(frames, noise_px=0.5)
    room = scene(1)
    images = [draw(room, xy, seq.skeleton) for xy in seq.xy]
    bottom = 30 + 66 + 24  # lead 1 s, one rep (48 + 18 frames), then half of the next rep
    xy = seq.xy.copy()
    if what == "tracker":
        xy[bottom : bottom + 2] += [300.0, -200.0]  # every joint jumps 2 torso lengths for two frames
    else:
        skel = get_skeleton(seq.skeleton)
        for side in ("left", "right"):
            shoulder = xy[bottom : bottom + 3, skel.index[f"{side}_shoulder"]]
            xy[bottom : bottom + 3, skel.index[f"{side}_elbow"]] = shoulder + np.array([0.0, -90.0])
            xy[bottom : bottom + 3, skel.index[f"{side}_wrist"]] = shoulder + np.array([0.0, -170.0])
    glitch = with_frames(replace(seq, xy=xy), images)
    result = analyze(glitch, "squat")
    assert not result.cuts.any()
    assert len(result.reps) == 3 and not result.partials


def test_hard_cut_mid_rep_drops_that_rep_only():
    frames = squats()
    seq = sequence(frames, noise_px=0.5)
    cut_at = 30 + 66 + 24
    backgrounds = [scene(1)] * cut_at + [scene(2)] * (len(seq) - cut_at)
    shots = rendered(seq, backgrounds, offset=(0, 0))
    found = transitions(shots.frames, seq.fps)
    assert [(d.start, d.kind) for d in found] == [(cut_at, "cut")]
    result = analyze(shots, "squat")
    assert len(result.reps) == 2 and [p.partial_reason for p in result.partials] == ["cut"]
    assert result.summary()["cuts"] == [cut_at]


def test_dissolve_is_one_transition():
    """Scene A blends into scene B over 20 frames while the person keeps moving (in the middle of rep 2)."""
    seq = sequence(squats(), noise_px=0.5)
    a, b = scene(3), scene(4)
    start, length = 100, 20
    images = []
    for t, xy in enumerate(seq.xy):
        w = float(np.clip((t - start) / length, 0, 1))
        images.append(draw(cv2.addWeighted(a, 1 - w, b, w, 0), xy, seq.skeleton))
    blended = with_frames(seq, images)
    found = transitions(blended.frames, seq.fps)
    assert len(found) == 1 and found[0].kind == "dissolve"
    assert start - 3 <= found[0].start and found[0].end <= start + length + 3
    assert found[0].start <= start + length // 2 <= found[0].end
    # the rep the dissolve falls in (the second, frames ~96-144) is not counted, and nothing inside it is
    result = analyze(blended, "squat")
    assert len(result.reps) == 2 and all(not (r.start < start + length and r.end > start) for r in result.reps)


def test_long_hold_zoom_and_exposure_are_no_cuts():
    """A 4-second hold at the bottom, a slow zoom over the whole clip and the exposure drifting: one shot."""
    bottom = CASES["squat"].bottom
    frames = reps(30, 1, 1.6, 0.6, STAND, bottom)
    half = len(frames) // 2
    frames = frames[:half] + [frames[half]] * 120 + frames[half:] + squats(1, lead_s=0)
    seq = sequence(frames, noise_px=0.5)
    room = scene(5)
    images = []
    for t, xy in enumerate(seq.xy):
        zoom = 1.0 + 0.5 * t / len(seq)
        big = cv2.resize(room, None, fx=zoom, fy=zoom)
        y0, x0 = (big.shape[0] - room.shape[0]) // 2, (big.shape[1] - room.shape[1]) // 2
        lit = cv2.convertScaleAbs(big[y0 : y0 + room.shape[0], x0 : x0 + room.shape[1]], alpha=1 - 0.3 * t / len(seq))
        images.append(draw(lit, xy, seq.skeleton, zoom=zoom))
    held = with_frames(seq, images)
    assert transitions(held.frames, seq.fps) == []
    result = analyze(held, "squat")
    assert len(result.reps) == 2 and not result.partials


def blob_frames(cycles: int, period: int, size: int = 240, radius: int = 30, level: int = 200, seed: int = 0):
    """A bright disc swinging up and down ``cycles`` times over a noisy static background."""
    rng = np.random.default_rng(seed)
    background = scene(seed, (size, size))
    out = []
    for t in range(cycles * period + period // 2):
        image = background.copy()
        y = size / 2 + size / 4 * np.cos(2 * np.pi * t / period)
        cv2.circle(image, (size // 2, int(y)), radius, (level, level, level), -1)
        noise = rng.normal(0, 4, image.shape)
        out.append(frame_features(np.clip(image + noise, 0, 255).astype(np.uint8)))
    return FrameFeatures.stack(out)


@pytest.mark.parametrize(("cycles", "period"), [(6, 40), (12, 25)])
def test_pixel_periodicity_counts_a_moving_pattern(cycles, period):
    result = count_pixels(blob_frames(cycles, period), 30.0)
    assert result.period_s == pytest.approx(period / 30, rel=0.1)
    assert abs(result.cycles - (cycles + 0.5)) <= 0.75 and result.count in (cycles, cycles + 1)
    assert result.strength > 0.5


def test_pixel_periodicity_sees_a_tiny_dark_mover():
    """A person far away and dark: a 4-pixel dim disc in a 480-pixel frame still repeats 8 times."""
    result = count_pixels(blob_frames(8, 36, size=480, radius=4, level=90, seed=2), 30.0)
    assert result.count in (8, 9) and result.strength > 0.3


def test_a_still_scene_has_no_pixel_count():
    rng = np.random.default_rng(0)
    room = scene(7)
    frames = FrameFeatures.stack(
        [frame_features(np.clip(room + rng.normal(0, 3, room.shape), 0, 255).astype(np.uint8)) for _ in range(200)]
    )
    assert count_pixels(frames, 30.0).count == 0


def _result(count: int, strength: float) -> PeriodicResult:
    return PeriodicResult(count, float(count), 1.0, strength, [], np.zeros(10), np.ones(10, dtype=bool))


def test_fusion_prefers_the_confident_estimate():
    everywhere, half = np.ones(100, dtype=bool), np.arange(100) < 50
    # a weak pose count (person found on half the frames, weak periodicity) gives way to clear pixels
    fused = fuse(_result(1, 0.3), half, _result(8, 0.9), everywhere)
    assert fused.source == "pixels" and fused.result.count == 8 and not fused.agree
    # a confident pose count stands, even where the pixels are as confident (they cannot tell left from right)
    fused = fuse(_result(7, 0.8), everywhere, _result(14, 0.9), everywhere)
    assert fused.source == "pose" and fused.result.count == 7
    # pixels no more confident than a weak pose do not override it
    assert fuse(_result(4, 0.3), everywhere, _result(2, 0.35), everywhere).source == "pose"
    assert fuse(_result(4, 0.3), everywhere, None, everywhere).source == "pose"
    # a pose count of one has not seen the motion repeat, however strong: 1 for 8 gives way to the pixels
    assert fuse(_result(1, 0.7), everywhere, _result(8, 0.6), everywhere).result.count == 8


def test_any_counts_from_the_pixels_where_the_pose_is_lost():
    """The person is found on a fifth of the frames only; the rendered figure repeats 6 times."""
    seq = sequence(squats(6, lead_s=0.3), noise_px=0.5)
    shots = rendered(seq, [scene(8)] * len(seq))
    lost = np.arange(len(seq)) % 5 != 0
    xy = seq.xy.copy()
    xy[lost] = np.nan
    result = analyze(replace(shots, xy=xy, scores=np.where(lost[:, None], 0, seq.scores)), "any")
    assert result.periodicity is not None and result.periodicity["source"] == "pixels"
    assert len(result.reps) == 6


# --- ../shared clips (decoded here; no pose model needed) ---------------------------------------------------------
def clip_features(path) -> tuple[FrameFeatures, float]:
    if not path.is_file():
        pytest.skip(f"clip missing: {path}")
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    items = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        items.append(frame_features(image))
    return FrameFeatures.stack(items), fps


def test_real_hard_cuts_are_found(data_dir):
    """labels.csv: knee push-ups joined by hard cuts at 490 and 731; push-ups with a cut to a talking head at
    ~753 and back at ~860."""
    features, fps = clip_features(data_dir / "exercise-videos" / "Adelo-dev+NewKit" / "sample_knee_pushups.mp4")
    assert [d.start for d in transitions(features, fps)] == [490, 731]
    features, fps = clip_features(data_dir / "exercise-videos" / "Tayyab-Abdullah+PushUp-Counter" / "pushup.mp4")
    starts = [d.start for d in transitions(features, fps)]
    assert any(abs(s - 753) <= 3 for s in starts) and any(abs(s - 860) <= 3 for s in starts)


@pytest.mark.parametrize(
    "clip",
    [
        "jrplatin+FormFit/squat1.mp4",  # portrait, partial framing, long standing pauses
        "jrplatin+FormFit/deadlift.mp4",  # the camera reframes and zooms during rep 1
        "KetanPaliwal+Computer-Vision-Curl-Counter-Project/curl.mp4",  # close-up, the camera orbits
    ],
)
def test_one_shot_clips_have_no_transitions(data_dir, clip):
    features, fps = clip_features(data_dir / "exercise-videos" / clip)
    assert transitions(features, fps) == []


def live_results(seq: PoseSequence, images: list[np.ndarray]):
    from poseit.io.sources import Frame
    from poseit.keypoints import Poses
    from poseit.pipeline import PoseResult

    for t, image in enumerate(images):
        poses = Poses(seq.xy[t][None], seq.scores[t][None], seq.skeleton)
        yield PoseResult(Frame(image, t, float(seq.times[t])), poses, False)


@pytest.mark.parametrize("cut", [True, False])
def test_live_coach_cuts_from_the_image(cut):
    """Live: a hard cut mid-rep makes that rep partial; the same joints jump with a continuous picture does not."""
    from poseit.coach.live import LiveCoach

    seq = sequence(squats(), noise_px=0.5)
    at = 30 + 66 + 24
    xy = seq.xy.copy()
    xy[at : at + 2] += [300.0, -200.0]
    jumped = replace(seq, xy=xy)
    rooms = [scene(1)] * at + [scene(2 if cut else 1)] * (len(seq) - at)
    images = [draw(room, p, seq.skeleton) for room, p in zip(rooms, seq.xy, strict=True)]
    coach = LiveCoach("squat", seq.skeleton, seq.fps)
    for result in live_results(jumped, images):
        coach(result)
    coach.close()
    assert (coach.reps, coach.partial_reps) == ((2, 1) if cut else (3, 0))


@pytest.mark.parametrize("jump", [False, True])
def test_a_caption_popping_up_is_no_cut_unless_the_person_jumps_with_it(jump):
    """A caption box appears mid-rep (a local picture change, as large as a jump cut within one shot): with the
    joints continuous it is no cut and the rep counts; where the person jumps at the same frame it is one."""
    seq = sequence(squats(), noise_px=0.5)
    at = 30 + 66 + 24
    images = [draw(scene(1), xy, seq.skeleton) for xy in seq.xy]
    for image in images[at:]:
        cv2.rectangle(image, (20, 140), (120, 170), (255, 255, 255), -1)
    xy = seq.xy.copy()
    if jump:
        xy[at:] += [120.0, 0.0]  # the person is elsewhere from the caption's frame on (a jump cut)
    result = analyze(with_frames(replace(seq, xy=xy), images), "squat")
    assert bool(result.cuts.any()) is jump
    assert len(result.reps) == (2 if jump else 3)
