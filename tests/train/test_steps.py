"""Step-planned runs (resume continues exactly), the foreground-weighted loss, FP16 weights at another
resolution, and the pHash near-duplicate check that keeps LSP test out of training data."""

import cv2
import numpy as np
import pytest
import torch

from poseit.train.augment import Augment
from poseit.train.codec import distill_loss, per_sample_mse
from poseit.train.data import HeatmapDataset
from poseit.train.datasets import load_lsp
from poseit.train.dedup import hamming, near_duplicates, phash
from poseit.train.hourglass import create_model
from poseit.train.loop import StepSettings, fit_steps, load_checkpoint, load_weights


def test_step_run_resumes_exactly_and_ships_fp16_weights(data_dir, tmp_path):
    samples = load_lsp(data_dir / "lsp", "train")[:6]

    def run(steps: int, out: str, resume: bool = False) -> list[dict]:
        torch.manual_seed(0)
        model = create_model("hg_s2_b1_tiny", input_size=128)
        dataset = HeatmapDataset(samples, model.config, Augment())
        settings = StepSettings(steps=steps, batch_size=3, lr=2e-3, warmup=1, threads=1, checkpoint_minutes=0)
        return fit_steps("hg_s2_b1_tiny", model, dataset, per_sample_mse_loss, settings, tmp_path / out, resume)

    straight = run(4, "a")
    run(2, "b")
    resumed = run(4, "b", resume=True)
    assert [h["step"] for h in straight] == [1, 2, 3, 4] and [h["step"] for h in resumed] == [1, 2, 3, 4]
    # the same batches, augmentation and updates (steps 1-2 have the same learning rate in both plans)
    assert resumed[-1]["loss"] == pytest.approx(straight[-1]["loss"], rel=1e-4)
    assert resumed[-1]["loss"] < resumed[0]["loss"]
    # FP16 weights load at another resolution (fully convolutional)
    big, _ = load_checkpoint(tmp_path / "a" / "weights_fp16.pt", input_size=192)
    assert big.config.input_size == 192 and big(torch.zeros(1, 3, 192, 192))[-1].shape == (1, 16, 48, 48)
    assert load_weights(create_model("hg_s2_b1_tiny"), tmp_path / "a" / "weights_fp16.pt")["step"] == 4


def per_sample_mse_loss(outputs, batch):
    return per_sample_mse(outputs, batch["target"], batch["weight"]).mean()


def test_foreground_weight_raises_the_cost_of_missing_a_joint():
    target = torch.zeros(1, 16, 8, 8)
    target[0, :, 4, 4] = 1.0
    zeros = [torch.zeros_like(target)]
    weight = torch.ones(1, 16)
    plain = per_sample_mse(zeros, target, weight)
    weighted = per_sample_mse(zeros, target, weight, fg_weight=10.0)
    assert torch.allclose(weighted, 11 * plain)
    batch = {"teacher": target, "teacher_weight": weight, "target": target, "weight": weight}
    assert torch.isclose(distill_loss(zeros, batch, 0.5, 10.0), weighted.mean())


def test_phash_finds_resized_and_recompressed_copies_not_other_photos(data_dir):
    images = [cv2.imread(str(data_dir / "lsp" / "images" / f"im{i:04d}.jpg")) for i in (1001, 1002, 1003)]
    copy = cv2.resize(images[0], None, fx=2.0, fy=2.0)
    _, buf = cv2.imencode(".jpg", copy, [cv2.IMWRITE_JPEG_QUALITY, 60])
    copy = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    ref = np.array([phash(im) for im in images], dtype=np.uint64)
    cand = np.array([phash(copy), phash(images[1][:, ::-1])], dtype=np.uint64)
    assert hamming(cand[:1], ref[:1])[0, 0] <= 4
    assert near_duplicates(cand, ref[:1], 6).tolist() == [True, False]


def test_bf16_is_used_only_where_the_cpu_has_it():
    """Emulated bf16 autocast is 8-12x slower than fp32 on CPUs without it: the default follows the CPU."""
    from poseit.train.loop import TrainSettings, native_bf16, use_bf16

    assert TrainSettings().bf16 is None and StepSettings().bf16 is None
    assert use_bf16(None) == native_bf16() and use_bf16(True) and not use_bf16(False)
