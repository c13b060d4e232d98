import numpy as np
import pytest

from poseit.keypoints import Poses
from poseit.skeletons import SKELETONS, get_skeleton, mirror_name
from poseit.skeletons.mapping import mapping_matrix


@pytest.mark.parametrize("name", sorted(SKELETONS))
def test_skeleton_is_consistent(name):
    s = get_skeleton(name)
    flip = s.flip_index
    assert sorted(flip) == list(range(s.num_joints))
    assert [flip[i] for i in flip] == list(range(s.num_joints))  # an involution
    for i, j in s.flip_pairs:
        assert s.side(s.joints[i]) != s.side(s.joints[j])
    assert all(0 <= a < s.num_joints and 0 <= b < s.num_joints for a, b in s.limb_indices)


def test_known_joint_orders():
    assert get_skeleton("mpii16").joints[:3] == ("right_ankle", "right_knee", "right_hip")
    assert get_skeleton("mpii16").joints[9] == "head_top"
    assert get_skeleton("coco17").joints[0] == "nose" and get_skeleton("coco17").joints[16] == "right_ankle"
    assert get_skeleton("blazepose33").joints[11] == "left_shoulder"
    assert get_skeleton("lsp14").joints[12:] == ("neck", "head_top")
    assert get_skeleton("penn13").joints[0] == "head"
    assert mirror_name("mouth_left") == "mouth_right" and mirror_name("pelvis") == "pelvis"


@pytest.mark.parametrize("source", sorted(SKELETONS))
@pytest.mark.parametrize("target", sorted(SKELETONS))
def test_mapping_is_affine(source, target):
    matrix, inputs = mapping_matrix(source, target)
    for row, used in zip(matrix, inputs, strict=True):
        if used:  # translation-equivariant: weights sum to one
            assert row.sum() == pytest.approx(1.0, abs=1e-5)


def test_every_skeleton_maps_fully_from_blazepose():
    for target in SKELETONS:
        _, inputs = mapping_matrix("blazepose33", target)
        assert all(inputs), f"blazepose33 cannot make every joint of {target}"


def test_blazepose_to_mpii_derives_pelvis_and_thorax():
    rng = np.random.default_rng(0)
    p = Poses(xy=rng.uniform(0, 500, (1, 33, 2)), scores=rng.uniform(0.2, 1, (1, 33)), skeleton="blazepose33")
    m = p.to_skeleton("mpii16")
    b, t = get_skeleton("blazepose33").index, get_skeleton("mpii16").index
    np.testing.assert_allclose(m.xy[0, t["pelvis"]], (p.xy[0, b["left_hip"]] + p.xy[0, b["right_hip"]]) / 2, rtol=1e-5)
    np.testing.assert_allclose(m.xy[0, t["left_knee"]], p.xy[0, b["left_knee"]])
    shoulders = p.scores[0, [b["left_shoulder"], b["right_shoulder"]]]
    assert m.scores[0, t["thorax"]] == pytest.approx(shoulders.min())


def test_missing_inputs_become_nan_with_zero_score():
    p = Poses(xy=np.full((1, 13, 2), 10.0), scores=np.ones((1, 13)), skeleton="penn13")
    xy = p.xy.copy()
    xy[0, get_skeleton("penn13").index["left_hip"]] = np.nan
    m = Poses(xy=xy, scores=p.scores, skeleton="penn13").to_skeleton("mpii16")
    pelvis = get_skeleton("mpii16").index["pelvis"]
    assert np.isnan(m.xy[0, pelvis]).all() and m.scores[0, pelvis] == 0
    # a joint no rule can make from COCO's face-less counterpart stays unknown
    coco = Poses(xy=np.ones((1, 17, 2)), scores=np.ones((1, 17)), skeleton="coco17").to_skeleton("penn13")
    assert np.isfinite(coco.xy).all()
