"""Short real runs: supervised training and distillation make the loss fall; checkpoints resume."""

import numpy as np
import torch

from poseit.cli import main as cli
from poseit.train.augment import Augment
from poseit.train.codec import supervised_loss
from poseit.train.data import HeatmapDataset
from poseit.train.datasets import load_lsp
from poseit.train.hourglass import create_model
from poseit.train.loop import TrainSettings, fit, load_checkpoint


def _losses(history):
    return [v for h in history for v in h["step_losses"]]


def test_dataset_items(data_dir):
    samples = load_lsp(data_dir / "lsp", "train")[:2]
    model = create_model("hg_s2_b1_tiny")
    item = HeatmapDataset(samples, model.config, Augment())[0]
    assert item["image"].shape == (3, 192, 192) and item["target"].shape == (16, 48, 48)
    assert item["weight"].shape == (16,) and float(item["target"].max()) > 0.5
    assert float(item["teacher_weight"].sum()) == 0  # no teacher on plain samples


def test_short_training_run_lowers_the_loss_and_resumes(data_dir, tmp_path):
    torch.manual_seed(0)
    samples = load_lsp(data_dir / "lsp", "train")[:4]
    model = create_model("hg_s2_b1_tiny")
    dataset = HeatmapDataset(samples, model.config, Augment.none())
    settings = TrainSettings(epochs=8, batch_size=4, lr=2e-3, threads=2)
    history = fit("hg_s2_b1_tiny", model, dataset, supervised_loss, settings, tmp_path, progress=False, log=print)
    losses = _losses(history)
    assert len(losses) == 8
    assert np.mean(losses[-2:]) < 0.7 * np.mean(losses[:2])
    _, ckpt = load_checkpoint(tmp_path / "last.pt")
    assert ckpt["epoch"] == 8 and ckpt["arch"] == "hg_s2_b1_tiny"
    # resume: two more epochs continue the same history
    settings = TrainSettings(epochs=10, batch_size=4, lr=2e-3, threads=2)
    more = fit(
        "hg_s2_b1_tiny",
        create_model("hg_s2_b1_tiny"),
        dataset,
        supervised_loss,
        settings,
        tmp_path,
        resume=True,
        progress=False,
        log=print,
    )
    assert [h["epoch"] for h in more] == list(range(1, 11))


def test_distill_cli_with_unlabelled_frames(data_dir, blazepose_models, tmp_path):
    """`poseit distill`: the BlazePose heavy teacher on 4 LSP images + frames of a clip; the loss falls."""
    clip = data_dir / "exercise-videos" / "jrplatin+FormFit" / "squat1.mp4"
    out = tmp_path / "run"
    code = cli(
        [
            "distill",
            "--arch",
            "hg_s2_b1_tiny",
            "--limit",
            "4",
            "--unlabelled",
            str(clip),
            "--every",
            "60",
            "--max-per-video",
            "4",
            "--epochs",
            "6",
            "--batch-size",
            "8",
            "--lr",
            "2e-3",
            "--out",
            str(out),
            "--threads",
            "2",
            "--quiet",
        ]
    )
    assert code == 0
    z = np.load(out / "teacher.npz")
    assert str(z["model"]) == "blazepose-heavy" and z["xy"].shape[1:] == (16, 2) and len(z["paths"]) >= 6
    assert len(list((out / "frames").glob("*.jpg"))) == 4
    _, ckpt = load_checkpoint(out / "last.pt")
    assert ckpt["settings"]["extra"]["unlabelled"] >= 3
    losses = [h["loss"] for h in ckpt["history"]]
    assert losses[-1] < 0.8 * losses[0]
