import numpy as np
import pytest

from poseit.keypoints import Poses
from poseit.skeletons import get_skeleton


def make(n: int = 2, skeleton: str = "blazepose33", seed: int = 0) -> Poses:
    rng = np.random.default_rng(seed)
    k = get_skeleton(skeleton).num_joints
    return Poses(xy=rng.uniform(0, 100, (n, k, 2)), scores=rng.uniform(0, 1, (n, k)), skeleton=skeleton)


def test_validates_shapes_scores_and_skeleton():
    with pytest.raises(ValueError, match="shape"):
        Poses(xy=np.zeros((1, 16, 2)), scores=np.zeros((1, 16)), skeleton="blazepose33")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Poses(xy=np.zeros((1, 16, 2)), scores=np.full((1, 16), 1.5), skeleton="mpii16")
    with pytest.raises(ValueError, match="unknown skeleton"):
        Poses(xy=np.zeros((1, 16, 2)), scores=np.zeros((1, 16)), skeleton="mpii17")
    with pytest.raises(ValueError, match="world"):
        Poses(xy=np.zeros((1, 16, 2)), scores=np.zeros((1, 16)), skeleton="mpii16", world=np.zeros((1, 15, 3)))


def test_single_person_and_derived_fields():
    xy = np.array([[float(i), 2.0 * i] for i in range(16)])
    p = Poses(xy=xy, scores=np.ones(16), skeleton="mpii16")
    assert len(p) == 1 and p.xy.shape == (1, 16, 2)
    np.testing.assert_allclose(p.boxes[0], [0, 0, 15, 30])
    assert p.confidence[0] == pytest.approx(1.0)


def test_empty_index_iterate_concat():
    e = Poses.empty("coco17")
    assert len(e) == 0 and e.xy.shape == (0, 17, 2) and e.to_records() == []
    p = make(3)
    assert len(p[1]) == 1 and len(p[-1]) == 1 and len(p[0:2]) == 2
    np.testing.assert_array_equal(p[-1].xy[0], p.xy[2])
    assert [len(q) for q in p] == [1, 1, 1]
    both = Poses.concat([p, make(1, seed=1)])
    assert len(both) == 4
    with pytest.raises(ValueError):
        Poses.concat([p, make(1, "mpii16")])


def test_records_round_trip_with_nan_and_world():
    p = make(2)
    xy = p.xy.copy()
    xy[0, 5] = np.nan
    world = np.random.default_rng(1).normal(size=(2, 33, 3))
    q = Poses(xy=xy, scores=p.scores, skeleton="blazepose33", world=world)
    recs = q.to_records()
    assert recs[0]["keypoints"][5][:2] == [None, None]
    back = Poses.from_records(recs)
    assert np.isnan(back.xy[0, 5]).all()
    np.testing.assert_allclose(np.nan_to_num(back.xy), np.nan_to_num(q.xy), atol=0.01)
    np.testing.assert_allclose(back.world, q.world, atol=1e-4)


def test_visible_mask_and_normalized():
    p = make(1)
    mask = p.visible(0.5)
    np.testing.assert_array_equal(mask, p.scores >= 0.5)
    np.testing.assert_allclose(p.normalized(100, 50)[..., 1], p.xy[..., 1] / 50)
