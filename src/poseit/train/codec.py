"""The training side of the one heatmap codec (`poseit.models.heatmap_codec`, shared with inference) and the
heatmap losses over all stacks (intermediate supervision)."""

from __future__ import annotations

import torch

from poseit.models.heatmap_codec import HeatmapCodec, flip_back
from poseit.train.hourglass import HourglassConfig


def codec_for(config: HourglassConfig, sigma: float = 2.0) -> HeatmapCodec:
    """The codec of a model: input and heatmap sizes from its config."""
    size, hm = config.input_size, config.heatmap_size
    return HeatmapCodec((size, size), (hm, hm), sigma * hm / 64)  # the seed's sigma 2 at 64x64, scaled


def per_sample_mse(
    outputs: list[torch.Tensor], target: torch.Tensor, weight: torch.Tensor, fg_weight: float = 0.0
) -> torch.Tensor:
    """(B,) weighted mean squared error summed over the stacks: each (B, K, H, W) output against the target,
    joints weighted by (B, K) ``weight`` (0 = unknown joint), pixels by 1 + ``fg_weight`` x target (the
    Gaussian's pixels count more than the empty background: a fresh network leaves the all-zero plateau
    sooner)."""
    w = weight[:, :, None, None].float()
    if fg_weight:
        w = w * (1.0 + fg_weight * target)
    total = torch.zeros(target.shape[0], device=target.device)
    for out in outputs:
        total = total + (w * (out.float() - target) ** 2).mean(dim=(1, 2, 3))
    return total


def distill_loss(
    outputs: list[torch.Tensor], batch: dict[str, torch.Tensor], alpha: float, fg_weight: float = 0.0
) -> torch.Tensor:
    """Fast Pose Distillation: alpha x MSE(student, teacher) + (1 - alpha) x MSE(student, ground truth) over all
    stacks; a sample without ground truth (no labelled joint) learns from the teacher term alone."""
    teacher = per_sample_mse(outputs, batch["teacher"], batch["teacher_weight"], fg_weight)
    gt = per_sample_mse(outputs, batch["target"], batch["weight"], fg_weight)
    labelled = batch["weight"].sum(dim=1) > 0
    return torch.where(labelled, alpha * teacher + (1 - alpha) * gt, teacher).mean()


def supervised_loss(outputs: list[torch.Tensor], batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return per_sample_mse(outputs, batch["target"], batch["weight"]).mean()


__all__ = ["HeatmapCodec", "codec_for", "distill_loss", "flip_back", "per_sample_mse", "supervised_loss"]
