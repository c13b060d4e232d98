"""The one heatmap codec: encode -> decode round trip, the quarter-pixel shift, flip back."""

import numpy as np
import pytest

from poseit.models.heatmap_codec import HeatmapCodec, flip_back
from poseit.skeletons import get_skeleton


@pytest.mark.parametrize("size", [(256, 64), (192, 48)])
def test_round_trip_within_a_quarter_heatmap_pixel(size):
    inp, hm = size
    codec = HeatmapCodec((inp, inp), (hm, hm), sigma=2.0)
    rng = np.random.default_rng(0)
    xy = rng.uniform(8, inp - 8, (16, 2))
    target, weight = codec.encode(xy, np.ones(16))
    assert target.shape == (16, hm, hm) and weight.all()
    back, peak = codec.decode(target)
    stride = inp / hm
    assert np.abs(back - xy).max() <= 0.25 * stride + 1e-6  # the quarter shift's resolution
    assert (peak > 0.85).all()


def test_exact_pixel_centres_decode_exactly_and_shift_moves_a_quarter():
    codec = HeatmapCodec((256, 256), (64, 64))
    xy = codec.from_heatmap(np.array([[10.0, 20.0], [10.25, 20.0]]))  # a pixel centre; a quarter to its right
    target, _ = codec.encode(xy, np.ones(2))
    back, _ = codec.decode(target)
    np.testing.assert_allclose(back[0], xy[0], atol=1e-4)
    np.testing.assert_allclose(back[1], xy[1], atol=1e-4)  # argmax at 10, higher right neighbour -> 10.25


def test_unlabelled_and_far_outside_joints_get_no_weight():
    codec = HeatmapCodec()
    target, weight = codec.encode(np.array([[50.0, 50.0], [np.nan, 3.0], [-200.0, 10.0]]), np.array([1, 1, 1]))
    assert weight.tolist() == [1, 0, 0]
    assert target[1:].max() == 0


def test_flip_back_matches_mirrored_joints():
    skel = get_skeleton("mpii16")
    codec = HeatmapCodec((256, 256), (64, 64))
    rng = np.random.default_rng(1)
    xy = rng.uniform(20, 236, (16, 2))
    mirrored = np.stack([255 - xy[:, 0], xy[:, 1]], axis=1)[skel.flip_index]
    hm_mirrored, _ = codec.encode(mirrored, np.ones(16))
    hm, _ = codec.encode(xy, np.ones(16))
    np.testing.assert_allclose(flip_back(hm_mirrored, skel.flip_index), hm, atol=1e-5)
