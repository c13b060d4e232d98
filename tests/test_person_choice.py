"""Choosing the person a user means: the detector strategy (border retry, prominence), track continuity."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from poseit.detect.choose import TILES, DetectorStrategy, prominence, surest, touches_border
from poseit.detect.roi import Roi
from poseit.detect.tracker import RoiTracker
from poseit.errors import PoseItError
from poseit.models.base import Detection

W, H = 1280, 720


def det(cx: float, cy: float, body: float, score: float = 0.9) -> Detection:
    """A detection whose body square (the ROI before the 1.25 margin) has side ``body``."""
    side = body * 1.25
    return Detection(score, np.array([cx - 20, cy - body / 2, cx + 20, cy - body / 2 + 40], np.float32),
                     Roi(cx, cy, side, side, 0.0))  # fmt: skip


def test_border_rule_pads_only_a_person_cut_by_the_frame():
    s = DetectorStrategy((0.0, 0.25), "border", "score")
    inside, cut = det(640, 360, 500), det(640, 500, 500)  # the second reaches past the bottom edge
    assert not touches_border(inside, W, H) and touches_border(cut, W, H)
    assert s.next_look({}, W, H) == 0.0
    assert s.next_look({0.0: [inside]}, W, H) is None  # a person inside the frame: done
    assert s.next_look({0.0: [cut]}, W, H) == 0.25  # cut by the border: look at the padded frame too
    padded = det(640, 480, 520, 0.95)
    assert s.options({0.0: [cut], 0.25: [padded]}, W, H) == [padded]  # the padded look replaces the cut one
    assert s.options({0.0: [cut], 0.25: []}, W, H) == [cut]  # ...unless it found nobody
    assert s.next_look({0.0: []}, W, H) == 0.25  # nobody: padded, then the tiles
    assert s.next_look({0.0: [], 0.25: []}, W, H) == TILES
    assert s.next_look({0.0: [], 0.25: []}, W, H, tiles=False) is None


def test_old_and_always_retries():
    old = DetectorStrategy((0.25, 0.0), "nobody", "score")
    cut = det(640, 500, 500)
    assert old.next_look({}, W, H) == 0.25 and old.next_look({0.25: [cut]}, W, H) is None
    both = DetectorStrategy((0.0, 0.25), "always", "score")
    plain, padded = det(600, 360, 400, 0.6), det(610, 350, 420, 0.9)
    assert both.next_look({0.0: [plain]}, W, H) == 0.25 and both.next_look({0.0: [plain], 0.25: []}, W, H) is None
    assert both.options({0.0: [plain], 0.25: [padded]}, W, H) == [plain, padded]  # the landmark model decides
    assert both.options({0.0: [], 0.25: [padded]}, W, H) == [padded]
    assert surest([0.9, 0.99, 0.99]) == 1 and surest([1.0, 1.0]) == 0  # the first look on a tie
    with pytest.raises(PoseItError):
        DetectorStrategy(retry="sometimes")


def test_prominent_person_beats_a_higher_score_and_tiles_need_a_higher_bar():
    big_off_centre, small_central = det(400, 360, 600, 0.8), det(700, 360, 200, 0.95)
    assert prominence(big_off_centre, W, H) > prominence(small_central, W, H)
    found = {0.0: [small_central, big_off_centre]}
    assert DetectorStrategy(choice="prominent").choose(found[0.0], W, H) is big_off_centre
    assert DetectorStrategy(choice="score").choose(found[0.0], W, H) is small_central
    # a find far below the best score is not a candidate however big it is (a weak false positive)
    ghost = det(640, 360, 700, 0.55)
    assert DetectorStrategy(choice="prominent").choose([small_central, ghost], W, H) is small_central
    # centrality: of two people the same size, the one nearer the centre
    left, centre = det(200, 360, 300), det(640, 360, 300)
    assert DetectorStrategy().choose([left, centre], W, H) is centre
    tiles = {0.0: [], 0.25: [], TILES: [det(100, 100, 80, 0.55), det(900, 500, 60, 0.7)]}
    assert [d.score for d in DetectorStrategy().options(tiles, W, H)] == [0.7]


def test_track_check_keeps_the_tracked_person_while_another_is_found():
    t = RoiTracker(verify_interval=1)
    t.start(Roi(300, 360, 500, 500, 0.0))
    passer_by = Roi(900, 360, 600, 600, 0.0)
    tracked_again = Roi(310, 365, 480, 480, 0.05)
    assert not t.verify(passer_by, [passer_by, tracked_again]) and t.roi.cx == 300  # still found: kept
    assert t.verify(passer_by, [passer_by]) and t.roi.cx == 900  # the tracked person is gone: restart
    t.start(Roi(300, 360, 500, 500, 0.0))
    assert t.verify(Roi(300, 360, 500, 500, math.pi), []) and t.roi.rotation == pytest.approx(math.pi)


# --- on real images: LSP people (../shared) composited into 1280x720 frames --------------------------------


def lsp_person(data_dir, index: int, height: int) -> np.ndarray:
    path = data_dir / "lsp" / "images" / f"im{index:04d}.jpg"
    if not path.is_file():
        pytest.skip(f"LSP image missing: {path}")
    image = cv2.imread(str(path))
    h, w = image.shape[:2]
    return cv2.resize(image, (round(w * height / h), height))


def paste(canvas: np.ndarray, image: np.ndarray, x: int, y: int) -> None:
    w = min(image.shape[1], canvas.shape[1] - x)
    canvas[y : y + image.shape[0], x : x + w] = image[:, :w]


def mean_x(poses) -> float:
    return float(np.nanmean(poses.xy[0, :, 0]))


def test_the_prominent_person_is_chosen_over_a_smaller_higher_scoring_one(data_dir, blazepose_models):
    from poseit.pipeline import PoseEstimator

    frame = np.full((H, W, 3), 120, np.uint8)
    paste(frame, lsp_person(data_dir, 1030, 640), 200, 40)  # large, left of centre
    paste(frame, lsp_person(data_dir, 1020, 420), 860, 260)  # smaller, on the right
    est = PoseEstimator("blazepose-full", mode="detect")
    plain = est.detect_people([frame], tiles=False)[0][0.0]
    assert len(plain) >= 2  # the detector sees both people on the plain frame
    by_score = PoseEstimator("blazepose-full", mode="detect", detect_pads=(0.0,), choose_person="score")
    assert mean_x(by_score(frame)) > W / 2  # the detector's best score is the small person
    assert mean_x(est(frame)) < W / 2  # the engine follows the large one


def test_a_passer_by_does_not_take_the_track_over(data_dir, blazepose_models):
    """A larger person walks in and stands beside the tracked one: the detector's check would now choose
    them, but the tracked person is still found, so the track stays."""
    from poseit.pipeline import PoseEstimator

    tracked, passer_by = lsp_person(data_dir, 1001, 560), lsp_person(data_dir, 1005, 680)
    frames = []
    for t in range(60):
        frame = np.full((H, W, 3), 120, np.uint8)
        paste(frame, tracked, 120, 100)
        x = int(np.clip(W - (t - 10) * 25, 620, W))
        if x < W:
            paste(frame, passer_by, x, 20)
        frames.append(frame)
    est = PoseEstimator("blazepose-full", verify_interval=5)
    xs, chosen_at_checks = [], []
    for frame in frames:
        if est.tracker.needs_verification:
            pick, _ = est._check_track(frame)
            chosen_at_checks.append(pick is not None and pick.cx > W / 2)
        poses = est(frame)
        assert len(poses) == 1
        xs.append(mean_x(poses))
    assert sum(chosen_at_checks) >= 3  # the checks saw the passer-by as the person to choose...
    assert max(xs) < 500  # ...and the pose stayed on the tracked person (x about 290) throughout


@pytest.mark.parametrize(("index", "surer"), [(1209, 1), (1214, 0)])  # padded look surer; plain look surer
def test_the_look_the_landmark_model_is_surer_of_is_kept(data_dir, blazepose_models, index, surer):
    from poseit.pipeline import PoseEstimator

    path = data_dir / "lsp" / "images" / f"im{index:04d}.jpg"
    if not path.is_file():
        pytest.skip(f"LSP image missing: {path}")
    image = cv2.imread(str(path))
    est = PoseEstimator("blazepose-full", mode="detect", refine_passes=0)  # the choice itself, before the second look
    found = est.detect_people([image])[0]
    options = est.strategy.options(found, image.shape[1], image.shape[0])
    assert len(options) == 2  # the plain and the padded look each found the person
    scores = [est.landmarks(image, d.roi).score for d in options]
    assert scores[surer] > scores[1 - surer] + 0.1
    poses = est(image)
    assert len(poses) == 1 and poses.confidence[0] == pytest.approx(scores[surer], abs=1e-4)
