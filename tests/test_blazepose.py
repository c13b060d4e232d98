"""BlazePose postprocessing against MediaPipe's reference algorithms."""

import numpy as np
import pytest

from poseit.models.blazepose import _sigmoid, refine_from_heatmap

Z = -1e16  # a logit whose sigmoid is 0


def reference_refine(norm, heatmap, kernel=7, min_conf=0.5):
    """A line-by-line transcription of MediaPipe's RefineLandmarksFromHeatMap loop (including its bounds check,
    which skips points left of, right of or above the heatmap but not below it)."""
    hm_h, hm_w, channels = heatmap.shape
    out = norm.copy()
    off = (kernel - 1) // 2
    for i in range(channels):
        col, row = int(norm[i, 0] * hm_w), int(norm[i, 1] * hm_h)
        if col < 0 or col >= hm_w or row < 0:
            continue
        total = weighted_col = weighted_row = max_conf = 0.0
        for r in range(max(0, row - off), min(hm_h, row + off + 1)):
            for c in range(max(0, col - off), min(hm_w, col + off + 1)):
                conf = float(_sigmoid(np.float64(heatmap[r, c, i])))
                total += conf
                max_conf = max(max_conf, conf)
                weighted_col += c * conf
                weighted_row += r * conf
        if max_conf >= min_conf and total > 0:
            out[i] = [weighted_col / hm_w / total, weighted_row / hm_h / total]
    return out


def test_known_answer_from_mediapipe_tests():
    heatmap = np.full((3, 3, 1), Z, np.float32)
    heatmap[1, 0, 0] = 1.0  # only the middle-left cell is confident
    out = refine_from_heatmap(np.array([[0.5, 0.5]], np.float32), heatmap, kernel=3, min_conf=0.1)
    np.testing.assert_allclose(out, [[0.0, 1 / 3]], atol=1e-6)
    unsure = refine_from_heatmap(np.array([[0.5, 0.5]], np.float32), heatmap, kernel=3, min_conf=0.99)
    np.testing.assert_allclose(unsure, [[0.5, 0.5]])  # kept when the heatmap is not confident


@pytest.mark.parametrize("seed", range(5))
def test_vectorised_refinement_matches_the_reference_loop(seed):
    rng = np.random.default_rng(seed)
    heatmap = rng.normal(-2, 3, (64, 64, 39)).astype(np.float32)
    norm = rng.uniform(-0.2, 1.2, (39, 2)).astype(np.float32)  # some points fall outside the heatmap
    np.testing.assert_allclose(refine_from_heatmap(norm, heatmap), reference_refine(norm, heatmap), atol=1e-5)
