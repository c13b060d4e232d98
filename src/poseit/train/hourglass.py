"""The fast stacked hourglass family (Newell et al. 2016; pre-activation bottlenecks as in pytorch-pose and the
seed's Fast Human Pose Estimation models), created by name from a registry of default configurations.

    stem: 7x7/2 conv (64), bottleneck (64 -> features), 2x2 max pool, bottlenecks (features -> 2*features,
          2*features -> 2*features)                                       -> (2*features) x H/4 x W/4
    per stack: hourglass (depth 4) -> bottleneck(s) -> 1x1 conv+BN+ReLU -> 1x1 conv to K heatmaps;
               between stacks the features and the heatmaps are mapped back by 1x1 convs and added
    output: a list with one (N, K, H/4, W/4) heatmap tensor per stack (intermediate supervision; last = prediction)

``mobile`` makes every bottleneck's 3x3 convolution depthwise (the seed's hg_s2_b1_mobile). The seed's tiny is the
mobile network at 192 with half its channels ("Channel Number" 128 against the mobile's 256: ``features=64``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from poseit.errors import PoseItError

# Input normalisation of the seed's models (RGB / 255 minus this mean), kept for ours so one preprocessing serves all.
SEED_MEAN = (0.4404, 0.4440, 0.4327)


@dataclass(frozen=True)
class HourglassConfig:
    """Everything needed to rebuild a model (saved in checkpoints)."""

    stacks: int = 2
    blocks: int = 1
    features: int = 128  # bottleneck width; blocks carry 2x this many channels
    depth: int = 4  # down-sampling levels per hourglass
    num_joints: int = 16
    mobile: bool = False
    input_size: int = 256
    skeleton: str = "mpii16"
    mean: tuple[float, float, float] = SEED_MEAN

    @property
    def heatmap_size(self) -> int:
        return self.input_size // 4

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HourglassConfig:
        d = dict(d)
        if "mean" in d:
            d["mean"] = tuple(d["mean"])
        return cls(**d)


MODEL_CONFIGS: dict[str, HourglassConfig] = {
    "hg_s2_b1": HourglassConfig(),
    "hg_s2_b1_mobile": HourglassConfig(mobile=True),
    "hg_s2_b1_tiny": HourglassConfig(features=64, mobile=True, input_size=192),
}


class Bottleneck(nn.Module):
    """Pre-activation residual: BN-ReLU-1x1 (in -> p), BN-ReLU-3x3 (p -> p, depthwise if mobile), BN-ReLU-1x1
    (p -> 2p), plus the input (through a 1x1 conv when the channel count changes)."""

    expansion = 2

    def __init__(self, inplanes: int, planes: int, mobile: bool = False) -> None:
        super().__init__()
        out = planes * self.expansion
        self.bn1 = nn.BatchNorm2d(inplanes)
        self.conv1 = nn.Conv2d(inplanes, planes, 1)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, groups=planes if mobile else 1)
        self.bn3 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out, 1)
        self.skip = nn.Conv2d(inplanes, out, 1) if inplanes != out else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv1(F.relu(self.bn1(x)))
        y = self.conv2(F.relu(self.bn2(y)))
        y = self.conv3(F.relu(self.bn3(y)))
        return y + (self.skip(x) if self.skip is not None else x)


def _residuals(inplanes: int, planes: int, count: int, mobile: bool) -> nn.Sequential:
    layers = [Bottleneck(inplanes, planes, mobile)]
    layers += [Bottleneck(planes * Bottleneck.expansion, planes, mobile) for _ in range(count - 1)]
    return nn.Sequential(*layers)


class Hourglass(nn.Module):
    """One hourglass: at each level a skip branch and a pooled branch that recurses, upsampled and added."""

    def __init__(self, planes: int, blocks: int, depth: int, mobile: bool) -> None:
        super().__init__()
        ch = planes * Bottleneck.expansion
        self.depth = depth
        self.skip = nn.ModuleList(_residuals(ch, planes, blocks, mobile) for _ in range(depth))
        self.down = nn.ModuleList(_residuals(ch, planes, blocks, mobile) for _ in range(depth))
        self.up = nn.ModuleList(_residuals(ch, planes, blocks, mobile) for _ in range(depth))
        self.bottom = _residuals(ch, planes, blocks, mobile)

    def _level(self, n: int, x: torch.Tensor) -> torch.Tensor:
        i = n - 1
        up1 = self.skip[i](x)
        low = self.down[i](F.max_pool2d(x, 2, stride=2))
        low = self._level(n - 1, low) if n > 1 else self.bottom(low)
        low = self.up[i](low)
        return up1 + F.interpolate(low, scale_factor=2.0, mode="nearest")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._level(self.depth, x)


class HourglassNet(nn.Module):
    """A stacked hourglass network; ``forward`` returns one heatmap tensor per stack."""

    def __init__(self, config: HourglassConfig) -> None:
        super().__init__()
        c = self.config = config
        f, ch = c.features, c.features * Bottleneck.expansion
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, stride=2, padding=3), nn.BatchNorm2d(64), nn.ReLU(inplace=True))
        self.layer1 = _residuals(64, f // 2, 1, c.mobile)  # widths scale with features (at 128: pytorch-pose's)
        self.layer2 = _residuals(f, f, 1, c.mobile)
        self.layer3 = _residuals(ch, f, 1, c.mobile)
        self.hg = nn.ModuleList(Hourglass(f, c.blocks, c.depth, c.mobile) for _ in range(c.stacks))
        self.res = nn.ModuleList(_residuals(ch, f, c.blocks, c.mobile) for _ in range(c.stacks))
        self.fc = nn.ModuleList(
            nn.Sequential(nn.Conv2d(ch, ch, 1), nn.BatchNorm2d(ch), nn.ReLU(inplace=True)) for _ in range(c.stacks)
        )
        self.score = nn.ModuleList(nn.Conv2d(ch, c.num_joints, 1) for _ in range(c.stacks))
        self.fc_back = nn.ModuleList(nn.Conv2d(ch, ch, 1) for _ in range(c.stacks - 1))
        self.score_back = nn.ModuleList(nn.Conv2d(c.num_joints, ch, 1) for _ in range(c.stacks - 1))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.layer1(self.stem(x))
        x = self.layer3(self.layer2(F.max_pool2d(x, 2, stride=2)))
        outputs = []
        for i in range(self.config.stacks):
            y = self.fc[i](self.res[i](self.hg[i](x)))
            score = self.score[i](y)
            outputs.append(score)
            if i < self.config.stacks - 1:
                x = x + self.fc_back[i](y) + self.score_back[i](score)
        return outputs


def list_models() -> list[str]:
    return sorted(MODEL_CONFIGS)


def create_model(name: str, **overrides: Any) -> HourglassNet:
    """A freshly initialised model by registered name; keyword overrides change its config (e.g. ``stacks=4``)."""
    try:
        config = MODEL_CONFIGS[name]
    except KeyError:
        raise PoseItError(f"unknown architecture {name!r}; known: {', '.join(list_models())}") from None
    return HourglassNet(replace(config, **overrides))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
