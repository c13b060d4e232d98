"""The pipeline on real footage: the person is found, tracked, smoothed; empty frames are normal events."""

from itertools import islice

import numpy as np
import pytest

from poseit.errors import PoseItError
from poseit.io.sources import Frame, open_source
from poseit.pipeline import PoseEstimator, iter_poses


@pytest.fixture(scope="module")
def pushup_frames(exercise_clip, blazepose_models):
    """Frames 60-159 of the push-up clip (the person is in view throughout) and the closing top hold."""
    frames = list(islice(open_source(exercise_clip), 472))
    return frames[60:160], frames[448:472]


def body_box_ok(poses, width, height) -> bool:
    x0, y0, x1, y1 = poses.boxes[0]
    return 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height and (x1 - x0) > 0.3 * width


def test_tracks_the_person_and_detects_rarely(pushup_frames):
    frames, _ = pushup_frames
    est = PoseEstimator("blazepose-full")
    results = list(est.process(frames))
    found = [len(r.poses) == 1 for r in results]
    assert np.mean(found) > 0.95
    assert sum(r.detected for r in results) <= 3  # tracking, not detecting, frame after frame
    h, w = frames[0].image.shape[:2]
    for r in results[::10]:
        p = r.poses
        assert p.skeleton == "blazepose33" and p.xy.shape == (1, 33, 2)
        assert body_box_ok(p, w, h)
        # side-view push-up: the body is long and low, shoulders to ankles spread horizontally
        sk = p.skel.index
        assert abs(p.xy[0, sk["left_ankle"], 0] - p.xy[0, sk["left_shoulder"], 0]) > 0.3 * w
        inside = (p.xy[0, :, 0] > -0.05 * w) & (p.xy[0, :, 0] < 1.05 * w)
        assert inside.mean() > 0.9


def test_empty_frames_are_normal_and_tracking_recovers(pushup_frames):
    frames, _ = pushup_frames
    est = PoseEstimator("blazepose-full")
    black = np.zeros_like(frames[0].image)
    seq = [*frames[:5], *(Frame(black, 5 + i, (5 + i) / 30) for i in range(5)), *frames[10:15]]
    counts = [len(r.poses) for r in est.process(seq)]
    assert counts[:5] == [1] * 5 and counts[5:10] == [0] * 5 and counts[10:] == [1] * 5


def test_smoothing_reduces_jitter_while_holding_still(pushup_frames):
    _, hold = pushup_frames

    def jitter(smooth: bool) -> float:
        est = PoseEstimator("blazepose-full", smooth=smooth)
        xy = np.stack([r.poses.xy[0] for r in est.process(hold) if len(r.poses)])
        return float(np.median(np.linalg.norm(np.diff(xy[:, 11:29], axis=0), axis=-1)))

    assert jitter(True) < 0.8 * jitter(False)


def test_modes_and_other_models(pushup_frames, data_dir):
    import cv2

    frames, _ = pushup_frames
    image = frames[40].image
    assert len(PoseEstimator("blazepose-lite", mode="detect")(image)) == 1
    # whole-frame (the seed's mode, no detector) suits person-centred upright images such as LSP's
    upright = cv2.imread(str(data_dir / "lsp" / "images" / "im1003.jpg"))
    assert len(PoseEstimator("blazepose-lite", mode="whole-frame")(upright)) == 1
    heavy = PoseEstimator("blazepose-heavy", mode="detect")(image)
    full = PoseEstimator("blazepose-full", mode="detect")(image)
    # two models, same person: their body joints agree within a few percent of the frame
    assert np.median(np.linalg.norm(heavy.xy[0, 11:29] - full.xy[0, 11:29], axis=1)) < 0.03 * image.shape[1]


def test_iter_poses_on_an_image_folder(tmp_path, data_dir, blazepose_models):
    import shutil

    for i in (1001, 1002, 1003):
        shutil.copy(data_dir / "lsp" / "images" / f"im{i}.jpg", tmp_path)
    results = list(iter_poses(tmp_path, model="blazepose-lite"))
    assert [r.frame.path.endswith(f"im{i}.jpg") for r, i in zip(results, (1001, 1002, 1003), strict=True)]
    assert sum(len(r.poses) for r in results) == 3


def test_rejects_non_images(blazepose_models):
    from poseit.errors import PoseItError

    with pytest.raises(PoseItError):
        PoseEstimator("blazepose-lite")(np.zeros((10, 10), np.uint8))
    with pytest.raises(PoseItError, match="unknown mode"):
        PoseEstimator("blazepose-lite", mode="fast")


def test_small_people_are_found_on_tiles(data_dir, blazepose_models):
    """A person too small for the detector on the whole 480x270 frame is found on a tile, in frame pixels."""
    video = data_dir / "quva" / "videos" / "028_bar_lift.mp4"
    frame = next(islice(open_source(video), 200, None))
    assert len(PoseEstimator("blazepose-full", mode="detect", detect_tiles=0)(frame.image)) == 0
    poses = PoseEstimator("blazepose-full", mode="detect")(frame.image)
    assert len(poses) == 1
    x0, y0, x1, y1 = poses.boxes[0]
    assert 0 <= x0 < x1 <= 480 and 0 <= y0 < y1 <= 270 and (y1 - y0) > 60  # a whole body, not a speck


def test_tracks_start_from_the_whole_frame_without_a_detector(exercise_clip, monkeypatch, capsys):
    """A fresh install has the shipped hourglass models but no detector: tracks start from the whole frame."""
    import poseit.pipeline as pipeline

    frames = list(islice(open_source(exercise_clip), 60, 160))
    monkeypatch.setattr(pipeline, "detector_available", lambda: False)
    est = PoseEstimator("hg-tiny")
    assert est.detector is None and est.seed == "whole-frame"
    assert "blazepose-detector is not pulled" in capsys.readouterr().err
    results = list(est.process(frames))
    assert np.mean([len(r.poses) == 1 for r in results]) > 0.95
    assert sum(r.detected for r in results) <= 3  # one whole-frame look, then tracking
    h, w = frames[0].image.shape[:2]
    assert all(body_box_ok(r.poses, w, h) for r in results[::10] if len(r.poses))
    images = PoseEstimator("hg-tiny", mode="detect", seed="whole-frame")(frames[0].image)
    assert len(images) == 1 and images.skeleton == "mpii16"
    with pytest.raises(PoseItError, match="seed"):
        PoseEstimator("hg-tiny", seed="nose")


def test_refined_start_looks_again_at_the_landmarks_own_roi(data_dir, blazepose_models):
    """``refine_passes``: a found person's landmarks are computed again on the ROI they give. On LSP train
    images (where the default was chosen) the refined joints are closer to the labels."""
    from poseit.evaluate.datasets import load_lsp
    from poseit.evaluate.pck import evaluate_samples

    samples = load_lsp(data_dir / "lsp", "train")[:80]
    plain = evaluate_samples(samples, PoseEstimator("blazepose-full", mode="detect", refine_passes=0), progress=False)
    default = PoseEstimator("blazepose-full", mode="detect")
    assert default.refine_passes == 1  # BlazePose's default; the heatmap students' is 0 (chosen on dev)
    refined = evaluate_samples(samples, default, progress=False)
    assert refined["mean"] != plain["mean"]  # the second look ran and moved joints
    assert refined["mean"] >= plain["mean"] and refined["missed"] <= plain["missed"]


def test_whole_frame_fallback_finds_people_the_detector_misses(data_dir, blazepose_models):
    """Four LSP train images on which the face-based detector finds nobody: the whole-frame look finds the
    person (BlazePose's pose flag decides), with most joints right."""
    from poseit.evaluate.datasets import load_lsp
    from poseit.evaluate.pck import pck_table, predict_dataset

    samples = [load_lsp(data_dir / "lsp", "train")[i] for i in (143, 220, 396, 448)]
    off = PoseEstimator("blazepose-full", mode="detect", whole_frame_fallback=False)
    assert not np.isfinite(predict_dataset(samples, off, "detector", False)).any()
    on = PoseEstimator("blazepose-full", mode="detect")
    assert on.whole_frame_fallback
    pred = predict_dataset(samples, on, "detector", False)
    assert np.isfinite(pred).all()
    gt, visible = np.stack([s.source_joints for s in samples]), np.stack([s.source_visible for s in samples])
    assert pck_table(pred, gt, visible, samples[0].skeleton)["mean"] > 70


@pytest.mark.parametrize("prefer_upright", [True, False])
def test_an_upside_down_track_is_looked_at_again_upright(data_dir, blazepose_models, prefer_upright):
    """``prefer_upright``: a track whose ROI has turned upside down (as after a bad frame with the head out of
    view) gets an upright look and comes back upright, with the ankles below the hips; without it the
    track stays inverted."""
    import math
    from dataclasses import replace

    clip = data_dir / "exercise-videos" / "yuyoujiang+test_video" / "squat.mp4"
    if not clip.is_file():
        pytest.skip(f"clip missing: {clip}")
    image = list(islice(open_source(clip), 31))[30].image
    est = PoseEstimator("blazepose-full", prefer_upright=prefer_upright)
    assert len(est(image, 0.0)) == 1 and abs(est.tracker.roi.rotation) < math.radians(30)
    est.tracker.roi = replace(est.tracker.roi, rotation=math.pi)
    poses = est(image, 1 / 30)
    turn = abs(est.tracker.roi.rotation)
    if prefer_upright:
        hips, ankles = poses.xy[0][[23, 24], 1].mean(), poses.xy[0][[27, 28], 1].mean()
        assert turn < math.radians(60) and ankles > hips
    else:
        assert turn > math.radians(120)
