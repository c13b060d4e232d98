"""The exercise recogniser: packaged weights, features, serialisation; accuracy on real Penn Action labels."""

import numpy as np
import pytest
from coach_synth import CASES

from poseit.coach.recognize import Recognizer, clip_features, default_recognizer, mirror_sequence, recognize


def test_packaged_weights_load_and_are_small():
    from importlib import resources

    path = resources.files("poseit.coach") / "models" / "recognizer.json"
    assert len(path.read_bytes()) < 400_000
    model = default_recognizer()
    assert {"squat", "pushup", "situp", "jumping_jacks", "pullup", "bench_press", "clean_and_jerk", "jump_rope"} <= set(
        model.classes
    )
    features = clip_features(CASES["squat"].sequence())
    assert features.shape == model.mean.shape and np.isfinite(features).all()
    probs = model.predict_proba(features)
    assert probs.shape == (1, len(model.classes)) and probs.sum() == pytest.approx(1, abs=1e-5)


def test_serialisation_round_trip(tmp_path):
    model = default_recognizer()
    model.save(tmp_path / "r.json")
    again = Recognizer.load(tmp_path / "r.json")
    x = clip_features(CASES["pushup"].sequence())
    assert np.allclose(model.predict_proba(x), again.predict_proba(x), atol=1e-6)


def test_mirror_swaps_sides():
    seq = CASES["lunge"].sequence()
    m = mirror_sequence(seq)
    joints = list(seq.joints)
    assert np.allclose(m.xy[:, joints.index("right_knee"), 1], seq.xy[:, joints.index("left_knee"), 1])


def test_penn_action_test_clips(data_dir):
    """A sample of Penn Action test clips (every 8th of the fitness classes) is recognised from its labels."""
    from poseit.coach.penn import load_clip, read_index

    root = data_dir / "penn-action"
    fitness = {"squat", "pushup", "situp", "jumping_jacks", "pullup", "bench_press", "clean_and_jerk", "jump_rope"}
    clips = [c for c in read_index(root) if not c.train and c.action in fitness][::8]
    hits = [recognize(load_clip(root, c, occluded_score=0.1))[0][0] == c.action for c in clips]
    assert len(clips) >= 60 and np.mean(hits) >= 0.9
