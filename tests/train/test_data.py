"""Loaders on the ../shared data (LSP, MPII json, COCO) mapped to MPII-16, crops and augmentation."""

import numpy as np
import pytest

from poseit.errors import PoseItError
from poseit.io.sources import read_image
from poseit.skeletons import get_skeleton
from poseit.train.augment import Augment, crop_person
from poseit.train.datasets import load_coco, load_dataset, load_lsp, load_mpii_json

MPII = get_skeleton("mpii16")


def test_lsp_splits_and_mapping(data_dir):
    train, test = load_lsp(data_dir / "lsp", "train"), load_lsp(data_dir / "lsp", "test")
    assert len(train) == len(test) == 1000
    assert test[0].image.endswith("im1001.jpg") and test[0].meta["index"] == 1001
    s = train[0]
    assert s.skeleton == "lsp14" and s.source_joints.shape == (14, 2) and s.source_visible.dtype == bool
    lsp = get_skeleton("lsp14")
    np.testing.assert_allclose(s.joints[MPII.index["head_top"]], s.source_joints[lsp.index["head_top"]])
    np.testing.assert_allclose(s.joints[MPII.index["upper_neck"]], s.source_joints[lsp.index["neck"]])
    pelvis = (s.source_joints[lsp.index["left_hip"]] + s.source_joints[lsp.index["right_hip"]]) / 2
    np.testing.assert_allclose(s.joints[MPII.index["pelvis"]], pelvis, atol=1e-4)
    assert s.weight.sum() == 16
    # the crop (200 x scale x 1.25 around the centre) holds every joint
    half = s.crop_side / 2
    assert (np.abs(s.source_joints - s.center) < half).all()
    with pytest.raises(PoseItError, match="split"):
        load_lsp(data_dir / "lsp", "val")


def test_mpii_json(data_dir):
    root = data_dir / "mmpose-testdata" / "tests" / "data" / "mpii"
    samples = load_mpii_json(root / "test_mpii.json")
    assert len(samples) == 5 and all(s.skeleton == "mpii16" for s in samples)
    s = samples[0]
    assert s.image.endswith("005808361.jpg") and s.joints.shape == (16, 2)
    assert s.center[1] == pytest.approx(340 - 1 + 15 * 4.718488, rel=1e-5)  # the seed's centre shift
    assert read_image(s.image).shape[2] == 3


def test_coco_masks_joints_it_lacks(data_dir):
    root = data_dir / "mmpose-testdata" / "tests" / "data" / "coco"
    samples = load_coco(root / "test_coco.json")
    assert len(samples) >= 10 and all(s.skeleton == "coco17" for s in samples)
    for s in samples:
        assert s.weight[MPII.index["head_top"]] == 0 and s.weight[MPII.index["upper_neck"]] == 0
        assert np.isnan(s.joints[MPII.index["head_top"]]).all()
    assert any(s.weight[MPII.index["left_knee"]] for s in samples)


def test_bad_inputs_are_one_line_errors(tmp_path):
    with pytest.raises(PoseItError, match="not found"):
        load_lsp(tmp_path)
    (tmp_path / "x.json").write_text("{oops")
    with pytest.raises(PoseItError, match="not valid JSON"):
        load_mpii_json(tmp_path / "x.json")
    with pytest.raises(PoseItError, match="unknown dataset"):
        load_dataset("h36m", tmp_path)


def test_flip_swaps_sides_and_mirrors_pixels(data_dir):
    s = load_lsp(data_dir / "lsp", "train")[3]
    image = read_image(s.image)
    plain, (j0,) = crop_person(image, s.center, s.crop_side, 128, [s.joints])
    flipped, (j1,) = crop_person(image, s.center, s.crop_side, 128, [s.joints], flip=True)
    np.testing.assert_array_equal(flipped, plain[:, ::-1])
    left, right = MPII.index["left_wrist"], MPII.index["right_wrist"]
    np.testing.assert_allclose(j1[left], [127 - j0[right][0], j0[right][1]], atol=1e-4)


def test_augmentation_keeps_joints_on_the_body(data_dir):
    """A rotated, scaled crop moves the joints with the pixels: the joint's pixel matches the source pixel."""
    s = load_lsp(data_dir / "lsp", "train")[5]
    image = read_image(s.image).astype(np.float32)
    marked = np.zeros(image.shape[:2], np.uint8)
    x, y = np.round(s.joints[MPII.index["head_top"]]).astype(int)
    marked[y - 1 : y + 2, x - 1 : x + 2] = 255
    scale, rotation, _, _ = Augment(rotation_prob=1.0).draw(np.random.default_rng(3))
    patch, (moved,) = crop_person(
        np.dstack([marked] * 3), s.center, s.crop_side * scale, 256, [np.array([[x, y]], np.float32)], rotation, False
    )
    px, py = np.round(moved[0]).astype(int)
    assert patch[py, px, 0] > 100


def test_side_disputes_leave_both_targets_out():
    from poseit.train.datasets import Sample
    from poseit.train.teacher import drop_side_disputes

    rng = np.random.default_rng(0)
    joints = rng.uniform(0, 200, (16, 2)).astype(np.float32)
    s = Sample("x.jpg", np.array([100.0, 100.0]), 1.0, joints, np.ones(16, np.float32))
    legs = [0, 1, 2, 3, 4, 5]
    teacher = joints + 1.0
    teacher[legs] = teacher[[5, 4, 3, 2, 1, 0]]  # the teacher sees the legs the other way round
    s.teacher_joints, s.teacher_weight = teacher, np.ones(16, np.float32)
    assert drop_side_disputes(s) == 1
    assert (s.weight[legs] == 0).all() and (s.teacher_weight[legs] == 0).all()
    assert (s.weight[10:] == 1).all() and (s.teacher_weight[10:] == 1).all()  # the arms agree: kept
    assert drop_side_disputes(s) == 0  # nothing left to dispute
