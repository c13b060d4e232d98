"""PCK / PCKh metrics and `poseit eval` (the same code scores every model)."""

import json

import numpy as np
import pytest

from poseit.cli import main as cli
from poseit.evaluate.pck import format_table, pck_table
from poseit.skeletons import get_skeleton

LSP = get_skeleton("lsp14")


def test_pck_counts_visible_joints_against_the_torso():
    gt = np.zeros((2, 14, 2))
    gt[:, LSP.index["right_shoulder"]] = [0, 0]
    gt[:, LSP.index["left_hip"]] = [0, 100]  # torso 100 px -> threshold 20 px
    pred = gt.copy()
    pred[0, LSP.index["left_wrist"]] += [19, 0]  # correct
    pred[1, LSP.index["left_wrist"]] += [21, 0]  # wrong
    pred[1, LSP.index["right_ankle"]] = np.nan  # missing -> wrong
    visible = np.ones((2, 14), bool)
    visible[0, LSP.index["head_top"]] = False  # not counted
    r = pck_table(pred, gt, visible, "lsp14")
    assert r["metric"] == "PCK@0.2" and r["count"] == 27
    assert r["per_joint"]["left_wrist"] == 50.0 and r["per_joint"]["right_ankle"] == 50.0
    assert r["per_group"]["wrist"] == 75.0 and r["per_group"]["ankle"] == 75.0
    assert r["mean"] == pytest.approx(100 * 25 / 27)
    assert "| Head | Shoulder | Elbow | Wrist | Hip | Knee | Ankle | Mean |" in format_table({"m": r})


def test_pckh_leaves_out_pelvis_and_thorax():
    mpii = get_skeleton("mpii16")
    gt = np.random.default_rng(0).uniform(0, 100, (3, 16, 2))
    r = pck_table(gt.copy(), gt, np.ones((3, 16), bool), "mpii16")
    assert r["metric"] == "PCKh@0.5" and r["mean"] == 100.0 and r["count"] == 3 * 14
    assert "pelvis" not in r["per_joint"] and mpii.joints[6] == "pelvis"


def test_eval_cli_on_lsp_test(data_dir, blazepose_models, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert (
        cli(
            [
                "eval",
                "--dataset",
                "lsp",
                "--split",
                "test",
                "--model",
                "blazepose-lite",
                "--limit",
                "20",
                "--root",
                str(data_dir / "lsp"),
                "--json",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    r = json.loads(out.read_text())
    assert r["metric"] == "PCK@0.2" and r["images"] == 20 and 50 < r["mean"] <= 100
    assert set(r["per_joint"]) == set(LSP.joints) and "wrist" in r["per_group"]
    assert "blazepose-lite" in capsys.readouterr().out


def test_eval_cli_errors(tmp_path, blazepose_models):
    assert cli(["eval", "--dataset", "lsp", "--root", str(tmp_path), "--model", "blazepose-lite"]) == 1
    assert cli(["eval", "--dataset", "mpii", "--root", str(tmp_path), "--model", "blazepose-lite"]) == 1
