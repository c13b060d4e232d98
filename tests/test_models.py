"""Model registry and manager (pull, verify, cache), and every registered landmark model on a real image."""

import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from poseit.errors import ModelNotFoundError, PoseItError
from poseit.models import MODELS, create_detector, create_landmark_model, get_spec, model_path, pull
from poseit.models.manager import cache_dir, sha256_of

LANDMARK_MODELS = sorted(n for n, s in MODELS.items() if s.task == "landmarks")
BODY = {"blazepose33": (33, slice(11, 29)), "mpii16": (16, [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15])}  # limbs


def test_registry_names_and_sources():
    assert {"blazepose-detector", "blazepose-lite", "blazepose-full", "blazepose-heavy"} <= set(MODELS)
    for spec in MODELS.values():
        assert len(spec.artifact.sha256) == 64
        assert spec.artifact.package.split(":")[0] in ("pypi", "npm", "local", "poseit")
    with pytest.raises(PoseItError, match="unknown model"):
        get_spec("blazepose-huge")


def test_missing_model_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("POSEIT_MODELS", str(tmp_path))
    assert cache_dir() == tmp_path
    with pytest.raises(ModelNotFoundError, match="poseit models pull blazepose-lite"):
        model_path("blazepose-lite")
    (tmp_path / "pose_landmark_lite.tflite").write_bytes(b"corrupt")
    with pytest.raises(ModelNotFoundError, match="corrupt"):
        model_path("blazepose-lite")


def test_pull_from_archive_verifies_sha256(tmp_path, monkeypatch, blazepose_models):
    """Install from a wheel-shaped archive (no network): the right bytes are cached, wrong bytes refused."""
    spec = get_spec("blazepose-detector")
    good = tmp_path / "good.whl"
    with zipfile.ZipFile(good, "w") as zf:
        zf.write(model_path("blazepose-detector"), spec.artifact.member)
    bad = tmp_path / "bad.whl"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr(spec.artifact.member, b"tampered")
    monkeypatch.setenv("POSEIT_MODELS", str(tmp_path / "cache"))
    with pytest.raises(PoseItError, match="sha256"):
        pull(["blazepose-detector"], archive=bad, log=lambda _: None)
    paths = pull(["blazepose-detector"], archive=good, log=lambda _: None)
    assert sha256_of(paths[0]) == spec.artifact.sha256
    assert model_path("blazepose-detector") == paths[0]


@pytest.fixture(scope="module")
def lsp_sample(data_dir: Path):
    """A few LSP test images with their ground-truth joints (x, y in pixels, 0-based)."""
    scipy_io = pytest.importorskip("scipy.io")
    joints = scipy_io.loadmat(data_dir / "lsp" / "joints.mat")["joints"]  # (3, 14, 2000)
    out = []
    for i in (1000, 1010, 1020, 1030):
        image = cv2.imread(str(data_dir / "lsp" / "images" / f"im{i + 1:04d}.jpg"))
        out.append((image, joints[:2, :, i].T - 1.0))
    return out


@pytest.mark.parametrize("name", LANDMARK_MODELS)
def test_every_landmark_model_finds_the_person(name, blazepose_models, lsp_sample):
    """timm-style: every registered landmark model, created by name, puts its joints on the person."""
    model = create_landmark_model(name)
    joints, body_joints = BODY[get_spec(name).skeleton]
    detector = create_detector(pad=0.25)
    inside = []
    for image, gt in lsp_sample:
        found = detector(image)
        assert found, "the detector must find the LSP person (with padding)"
        lm = model(image, found[0].roi)
        assert lm.xy.shape == (joints, 2) and lm.scores.shape == (joints,) and 0 <= lm.score <= 1
        x0, y0 = gt.min(axis=0) - 0.15 * np.ptp(gt, axis=0)
        x1, y1 = gt.max(axis=0) + 0.15 * np.ptp(gt, axis=0)
        body = lm.xy[body_joints]  # shoulders to ankles
        inside.append(((body[:, 0] >= x0) & (body[:, 0] <= x1) & (body[:, 1] >= y0) & (body[:, 1] <= y1)).mean())
    assert np.mean(inside) > 0.9, f"{name}: only {np.mean(inside):.0%} of body joints inside the person's box"


def test_missing_clients_and_network_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("POSEIT_MODELS", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm on PATH
    with pytest.raises(PoseItError, match=r"npm is not installed.*pull --from"):
        pull(["blazepose-lite"], log=lambda _: None)
    # pip finds no package (no index, an empty folder of wheels): the error names the command to run
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    with pytest.raises(PoseItError, match=r"pip download .*mediapipe==0\.10\.21.* failed"):
        pull(["blazepose-full"], log=lambda _: None)
