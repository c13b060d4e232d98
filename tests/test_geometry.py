import math

import numpy as np
import pytest

from poseit.detect.anchors import iou, ssd_anchors, weighted_nms
from poseit.detect.roi import Letterbox, Roi, crop
from poseit.detect.smoothing import LowPassFilter, OneEuroFilter
from poseit.detect.tracker import RoiTracker


def test_blazepose_anchor_layout():
    a = ssd_anchors(224, (8, 16, 32, 32, 32))
    assert a.shape == (2254, 2)
    np.testing.assert_allclose(a[0], [0.5 / 28, 0.5 / 28])
    np.testing.assert_allclose(a[-1], [6.5 / 7, 6.5 / 7])


def test_weighted_nms_merges_overlaps_and_keeps_separate_people():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], dtype=np.float32)
    kps = np.array([[[0, 0]], [[2, 0]], [[55, 55]]], dtype=np.float32)
    out = weighted_nms(np.array([0.9, 0.3, 0.8]), boxes, kps, 0.3)
    assert len(out) == 2 and out[0][0] == pytest.approx(0.9)
    np.testing.assert_allclose(out[0][2], [[0.5, 0]])  # (0*0.9 + 2*0.3) / 1.2
    assert iou(boxes[0], boxes[2:])[0] == 0


@pytest.mark.parametrize("rotation", [0.0, 0.7, -2.5])
def test_crop_and_projection_agree(rotation):
    roi = Roi(300.0, 200.0, 180.0, 180.0, rotation)
    m = roi.crop_matrix(256, 256)
    pts = np.array([[0.1, 0.2], [0.5, 0.5], [0.9, 0.7]])
    frame_pts = roi.to_frame(pts)
    back = (np.c_[frame_pts, np.ones(3)] @ m.T) / 256
    np.testing.assert_allclose(back, pts, atol=1e-4)


def test_crop_content_follows_roi():
    img = np.zeros((400, 600, 3), np.uint8)
    img[150:250, 250:350] = 255  # a white square centred at (300, 200)
    out = crop(img, Roi(300, 200, 200, 200, math.pi / 4), 64, 64, border="zero")
    assert out[32, 32].mean() == 255 and out[2, 2].mean() == 0


def test_alignment_roi_points_body_up():
    hip, head_dir = np.array([100.0, 300.0]), np.array([100.0, 200.0])  # scale point straight above the hips
    roi = Roi.from_alignment(hip, head_dir)
    assert roi.rotation == pytest.approx(0.0) and roi.width == pytest.approx(250.0)
    lying = Roi.from_alignment(hip, np.array([200.0, 300.0]))  # body pointing right
    assert abs(lying.rotation) == pytest.approx(math.pi / 2)


def test_letterbox_round_trip_and_padding():
    box = Letterbox.fit(640, 360, 224)
    pts = np.array([[0, 0], [640, 360], [320, 180]], dtype=np.float32)
    model = pts * box.scale + [box.pad_x, box.pad_y]
    np.testing.assert_allclose(box.to_frame(model), pts, atol=1e-3)
    padded = Letterbox.fit(640, 360, 224, pad=0.25)
    assert padded.scale == pytest.approx(224 / 960)


def test_one_euro_reduces_jitter_and_follows_moves():
    noise = np.random.default_rng(0).normal(0, 2, 120)
    f = OneEuroFilter(min_cutoff=0.05, beta=80.0)
    still = [f(np.array([100.0 + noise[t]]), t / 30, scale=200)[0] for t in range(120)]
    assert np.std(still[30:]) < 0.8 * np.std(noise[30:])
    calm = OneEuroFilter(min_cutoff=0.05, beta=5.0)  # a lower beta smooths harder at rest
    calmer = [calm(np.array([100.0 + noise[t]]), t / 30, scale=200)[0] for t in range(120)]
    assert np.std(calmer[30:]) < 0.5 * np.std(still[30:])
    f.reset()
    moved = [f(np.array([0.0 if t < 30 else 100.0]), t / 30, scale=200)[0] for t in range(60)]
    assert moved[45] > 95  # a fast move is followed within half a second
    assert f(np.array([5.0]), 59 / 30)[0] == pytest.approx(moved[-1])  # repeated timestamp keeps the output


def test_low_pass():
    lp = LowPassFilter(0.1)
    assert lp(np.array([1.0]))[0] == 1.0 and lp(np.array([0.0]))[0] == pytest.approx(0.9)


def test_tracker_drops_low_scores_and_verifies_now_and_then():
    t = RoiTracker(min_tracking_score=0.5, verify_interval=3)
    assert t.needs_detection
    t.start(Roi(0, 0, 10, 10))
    assert not t.needs_detection and not t.needs_verification
    assert t.update(0.9, Roi(1, 1, 10, 10)) and t.roi.cx == 1
    assert not t.update(0.2, Roi(1, 1, 10, 10)) and t.needs_detection
    t.start(Roi(0, 0, 10, 10))
    for _ in range(3):
        t.update(0.9, Roi(0, 0, 10, 10))
    assert t.needs_verification  # every verify_interval tracked frames
    assert not t.verify(None) and not t.verify(Roi(1, 0, 11, 11, 0.2))  # no detection, or the same person
    assert t.verify(Roi(0, 0, 10, 10, math.pi)) and t.roi.rotation == pytest.approx(math.pi)  # upside down


def test_roi_agreement():
    a = Roi(100, 100, 200, 200, 0.0)
    assert a.agrees_with(Roi(150, 100, 250, 250, 0.5))
    assert not a.agrees_with(Roi(260, 100, 200, 200, 0.0))  # moved by more than half a side
    assert not a.agrees_with(Roi(100, 100, 500, 500, 0.0))  # another scale
    assert not a.agrees_with(Roi(100, 100, 200, 200, 3.0))  # turned around
    assert a.agrees_with(Roi(100, 100, 200, 200, 2 * math.pi - 0.1))  # angles wrap


def test_grid_tiles_cover_the_frame_with_overlap():
    from poseit.detect.roi import grid_tiles

    tiles = grid_tiles(480, 270, 2)
    assert len(tiles) == 4 and tiles[0] == (0, 0, 360, 202) and tiles[-1] == (120, 68, 480, 270)
    covered = np.zeros((270, 480), bool)
    for x0, y0, x1, y1 in tiles:
        covered[y0:y1, x0:x1] = True
    assert covered.all()
