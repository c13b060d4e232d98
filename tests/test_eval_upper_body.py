"""Upper-body frames cut from MPII frames (`poseit.evaluate.upper_body`): the cut, the PCP scoring, the CLI."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from poseit.cli import main as cli
from poseit.evaluate.upper_body import ASPECT, UpperBodyFrame, score_frames, upper_body_frames
from poseit.skeletons import get_skeleton
from poseit.train.datasets import Sample, center_scale_from_joints

J = get_skeleton("mpii16").index


def standing(x: float, y: float, height: float = 600.0) -> np.ndarray:
    """(16, 2) an upright MPII person, head top at (x, y), ``height`` pixels tall, arms hanging."""
    u = height / 8
    at = {
        "head_top": (0, 0), "upper_neck": (0, 0.9), "thorax": (0, 1.2), "pelvis": (0, 3.8),
        "right_shoulder": (-0.8, 1.3), "left_shoulder": (0.8, 1.3), "right_elbow": (-1.0, 2.6),
        "left_elbow": (1.0, 2.6), "right_wrist": (-1.1, 3.7), "left_wrist": (1.1, 3.7), "right_hip": (-0.5, 3.8),
        "left_hip": (0.5, 3.8), "right_knee": (-0.5, 5.9), "left_knee": (0.5, 5.9), "right_ankle": (-0.5, 8.0),
        "left_ankle": (0.5, 8.0),
    }  # fmt: skip
    xy = np.zeros((16, 2), np.float32)
    for name, (dx, dy) in at.items():
        xy[J[name]] = (x + dx * u, y + dy * u)
    return xy


def sample(image: str, xy: np.ndarray) -> Sample:
    center, scale = center_scale_from_joints(xy)
    return Sample(image, center, scale, xy, np.ones(16, np.float32), "mpii16", xy, np.ones(16, bool), {})


SIZES = {"a.jpg": (1920, 1080), "b.jpg": (1920, 1080)}


def test_an_upright_person_gives_one_landscape_upper_body_frame():
    lying = standing(300, 300)[:, ::-1].copy()  # x and y swapped: a person lying down
    tiny = standing(1500, 100, height=120)
    people = [sample("a.jpg", standing(900, 150)), sample("a.jpg", lying), sample("a.jpg", tiny)]
    frames = upper_body_frames(people, SIZES)
    assert len(frames) == 1  # the lying and the tiny person give none
    (f,) = frames
    x0, y0, x1, y1 = f.box
    assert 0 <= x0 < x1 <= 1920 and 0 <= y0 < y1 <= 1080
    assert (x1 - x0) / (y1 - y0) == pytest.approx(ASPECT, abs=0.01)
    assert f.inside[J["head_top"]] and f.inside[J["right_shoulder"]] and not f.inside[J["left_knee"]]
    assert f.others.shape == (2, 16, 2)  # the other labelled people stay in the frame's coordinates
    again = upper_body_frames(people, SIZES)[0]
    assert again.box == f.box  # the cut is the same every time
    other = upper_body_frames([sample("b.jpg", standing(900, 150))], SIZES)[0]
    assert other.box != f.box  # ... and differs from image to image


def test_pcp_counts_sticks_inside_the_frame_and_the_frames_own_person():
    main, bystander = standing(300, 100), standing(800, 100)
    inside = np.array([main[:, 1] < 530]).ravel()  # a frame cut below the wrists, above the knees
    f = UpperBodyFrame("a.jpg", (0, 0, 942, 530), main, inside, bystander[None])
    exact = f.joints.copy()
    arm_off = exact.copy()
    arm_off[J["right_wrist"]] += (0, 200)  # a lower arm is ~150 px: its stick fails, the others hold
    r = score_frames([f] * 4, [exact, arm_off, f.others[0], None])
    assert r["frames"] == 4 and r["nobody"] == 25.0 and r["target"] == 50.0
    assert r["per_stick"]["upper_arm"] == pytest.approx(50.0)  # right in the first two frames
    assert r["per_stick"]["lower_arm"] == pytest.approx(100 * 3 / 8)
    assert r["per_stick"]["head"] == pytest.approx(50.0)
    assert score_frames([f], [exact])["pcp"] == 100.0 and score_frames([f], [exact])["pckh"] == 100.0
    with pytest.raises(ValueError):
        upper_body_frames([Sample("a.jpg", *center_scale_from_joints(main), main, np.ones(16), "lsp14", main,
                                  np.ones(16, bool), {})], SIZES)  # fmt: skip


def test_eval_cli_on_upper_body_frames(data_dir, blazepose_models, tmp_path):
    """LSP test people, enlarged to camera size and written as MPII csv rows: the engine finds their upper
    bodies in the frames cut from them."""
    from poseit.train.datasets import load_lsp

    images = tmp_path / "images"
    images.mkdir()
    rows = []
    for s in load_lsp(data_dir / "lsp", "test")[:8]:
        image = cv2.imread(s.image)
        k = 1080 / image.shape[0]
        name = s.image.rsplit("/", 1)[-1]
        cv2.imwrite(str(images / name), cv2.resize(image, None, fx=k, fy=k))
        rows.append(f"{name}," + ",".join(f"{v:.1f}" for v in np.nan_to_num(s.joints * k).ravel()) + "\n")
    (tmp_path / "test_joints.csv").write_text("".join(rows))
    (tmp_path / "train_joints.csv").write_text("")
    out = tmp_path / "r.json"
    args = ["eval", "--dataset", "mpii-upper", "--root", str(images), "--annotations", str(tmp_path)]
    assert cli([*args, "--split", "test", "--json", str(out), "--quiet"]) == 0
    r = json.loads(out.read_text())
    assert r["frames"] >= 2 and r["nobody"] < 50 and r["pcp"] > 50
