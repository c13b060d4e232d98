"""Evaluation loaders (LSP Extended, MPII csv) on tiny synthetic files, and the image-level person scoring."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from poseit.cli import main as cli
from poseit.errors import PoseItError
from poseit.evaluate.datasets import (
    group_by_image,
    load_lsp_extended,
    load_mpii_csv,
    lsp_extended_indices,
    mpii_split,
)
from poseit.evaluate.person import match, score_images
from poseit.skeletons import get_skeleton

MPII = get_skeleton("mpii16")


def write_csv(path, rows) -> None:
    path.write_text("".join(f"{name}," + ",".join(f"{v:.1f}" for v in xy.ravel()) + "\n" for name, xy in rows))


def person(x: float, y: float, size: float = 100.0) -> np.ndarray:
    """A (16, 2) MPII person: joints spread over a ``size``-tall column at (x, y)."""
    rng = np.random.default_rng(int(x + y))
    xy = np.stack([x + rng.uniform(-size / 4, size / 4, 16), y + np.linspace(0, size, 16)], axis=1)
    xy[MPII.index["head_top"]] = [x, y]
    xy[MPII.index["upper_neck"]] = [x, y + size / 8]
    return xy.astype(np.float32)


def test_lsp_extended_reads_visibility_the_other_way_round(tmp_path):
    scipy_io = pytest.importorskip("scipy.io")
    joints = np.zeros((14, 3, 12))
    joints[:, 0, :] = np.arange(1, 15)[:, None]  # 1-based x
    joints[:, 1, :] = 5.0
    joints[:, 2, :] = 1  # 1 = visible in LSP Extended
    joints[3, 2, :] = 0  # joint 3 occluded everywhere
    joints[:, 2, 7] = 0  # image 8: nothing visible -> skipped
    scipy_io.savemat(tmp_path / "joints.mat", {"joints": joints})
    assert list(lsp_extended_indices("dev", 5)) == list(range(0, 5000, 5))
    assert lsp_extended_indices("test", 5)[0] == 5000
    samples = load_lsp_extended(tmp_path, "all")
    assert len(samples) == 11 and samples[0].image.endswith("images/im00001.jpg")
    s = samples[0]
    assert s.skeleton == "lsp14" and s.source_joints[0, 0] == 0.0  # 0-based
    assert s.source_visible.sum() == 13 and not s.source_visible[3]
    with pytest.raises(PoseItError):
        load_lsp_extended(tmp_path, "val")


def test_mpii_csv_people_images_and_splits(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (images / name).write_bytes(b"")
    a1, a2, b1, c1 = person(100, 50), person(400, 80, 200), person(200, 20), person(50, 50)
    write_csv(tmp_path / "train_joints.csv", [("a.jpg", a1), ("a.jpg", a2), ("missing.jpg", b1), ("c.jpg", c1)])
    write_csv(tmp_path / "test_joints.csv", [("b.jpg", b1), ("c.jpg", person(300, 60))])
    people = load_mpii_csv([tmp_path / "train_joints.csv", tmp_path / "test_joints.csv"], images)
    assert len(people) == 5  # the row on a missing image is skipped
    assert people[0].skeleton == "mpii16" and people[0].source_visible.all()
    np.testing.assert_allclose(people[1].source_joints, a2, atol=0.05)
    grouped = group_by_image(people)
    assert [g.people for g in grouped] == [2, 2, 1]  # a (2), c (1 + 1 from test), b
    dev, test = mpii_split(tmp_path, images, "dev"), mpii_split(tmp_path, images, "test")
    assert {s.meta["image"] for s in dev} == {"a.jpg"}
    assert {s.meta["image"] for s in test} == {"b.jpg", "c.jpg"} and len(test) == 3  # c: both its people
    with pytest.raises(PoseItError):
        load_mpii_csv(tmp_path / "train_joints.csv", images, skip_missing=False)
    (tmp_path / "bad.csv").write_text("a.jpg,1,2,3\n")
    with pytest.raises(PoseItError, match="32 coordinates"):
        load_mpii_csv(tmp_path / "bad.csv", images)


def test_the_chosen_person_is_matched_to_the_nearest_labelled_one(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    (images / "a.jpg").write_bytes(b"")
    small, main = person(100, 50), person(400, 80, 200)
    write_csv(tmp_path / "p.csv", [("a.jpg", small), ("a.jpg", main)])
    (image,) = group_by_image(load_mpii_csv(tmp_path / "p.csv", images))
    assert match(main + 3, image) == match(main, image) and match(main, image).main
    m = match(small + 2, image)
    assert m.person == 0 and not m.main and not m.unlabelled
    assert match(person(900, 500), image).unlabelled  # far from everyone: somebody nobody labelled
    assert match(None, image).nobody and match(None, image).person == 1  # the main person's joints count
    r = score_images([image] * 4, [main, small, person(900, 500), None])
    assert r["images"] == 4 and r["nobody"] == 25.0 and r["unlabelled"] == 25.0 and r["main"] == 25.0
    assert r["pckh"] == pytest.approx(50.0)  # two exact poses, one far away, one missing
    assert r["pck"] == pytest.approx(50.0)


def test_eval_cli_on_mpii_csv_frames(data_dir, blazepose_models, tmp_path):
    """LSP people written as MPII csv rows (labels converted to MPII-16): the engine's pose scores well."""
    from poseit.train.datasets import load_lsp

    samples = load_lsp(data_dir / "lsp", "test")[:3]
    images = tmp_path / "images"
    images.mkdir()
    rows = []
    for s in samples:
        shutil.copy(s.image, images)
        rows.append((s.image.rsplit("/", 1)[-1], np.nan_to_num(s.joints)))
    write_csv(tmp_path / "test_joints.csv", rows)
    (tmp_path / "train_joints.csv").write_text("")
    out = tmp_path / "r.json"
    args = ["eval", "--dataset", "mpii-csv", "--root", str(images), "--annotations", str(tmp_path)]
    assert cli([*args, "--split", "test", "--json", str(out), "--quiet"]) == 0
    r = json.loads(out.read_text())
    assert r["images"] == 3 and r["nobody"] == 0 and r["unlabelled"] == 0 and r["pckh"] > 60
    assert r["detect_retry"] == "always" and r["choose_person"] == "prominent"


def test_eval_cli_choices_match_the_strategy():
    from poseit.commands import eval as eval_cmd
    from poseit.detect import choose

    assert eval_cmd.RETRIES == choose.RETRIES and eval_cmd.CHOICES == choose.CHOICES


def test_eval_cli_on_lsp_extended_files(data_dir, blazepose_models, tmp_path):
    """Two LSP images and their labels written the LSP Extended way (14, 3, N; 1 = visible)."""
    scipy_io = pytest.importorskip("scipy.io")
    lsp = scipy_io.loadmat(data_dir / "lsp" / "joints.mat")["joints"]  # (3, 14, 2000), 0 = visible
    (tmp_path / "images").mkdir()
    ext = np.zeros((14, 3, 2))
    for k, i in enumerate((1000, 1001)):
        shutil.copy(data_dir / "lsp" / "images" / f"im{i + 1:04d}.jpg", tmp_path / "images" / f"im{k + 1:05d}.jpg")
        ext[:, :2, k] = lsp[:2, :, i].T
        ext[:, 2, k] = lsp[2, :, i] == 0
    scipy_io.savemat(tmp_path / "joints.mat", {"joints": ext})
    out = tmp_path / "r.json"
    args = ["eval", "--dataset", "lsp-extended", "--root", str(tmp_path), "--split", "all", "--json", str(out)]
    assert cli([*args, "--quiet"]) == 0
    r = json.loads(out.read_text())
    assert r["images"] == 2 and r["count"] == int(ext[:, 2, :].sum()) and r["mean"] > 60
