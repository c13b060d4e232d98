"""The hourglass family: parameter counts of the seed's models, output shapes, gradients everywhere."""

import pytest
import torch

from poseit.errors import PoseItError
from poseit.train.hourglass import count_parameters, create_model, list_models

EXPECTED = {"hg_s2_b1": 6_730_912, "hg_s2_b1_mobile": 2_305_504, "hg_s2_b1_tiny": 606_656}


def test_registry_lists_the_family():
    assert set(EXPECTED) == set(list_models())
    with pytest.raises(PoseItError, match="unknown architecture"):
        create_model("hg_s9")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_parameter_counts_and_shapes(name):
    model = create_model(name).eval()
    assert count_parameters(model) == EXPECTED[name]
    size = model.config.input_size
    with torch.no_grad():
        outputs = model(torch.zeros(1, 3, size, size))
    assert len(outputs) == model.config.stacks == 2
    assert all(o.shape == (1, 16, size // 4, size // 4) for o in outputs)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_parameter_gets_a_gradient(name):
    torch.manual_seed(0)
    model = create_model(name).train()
    outputs = model(torch.randn(2, 3, 64, 64))  # the architecture is size-agnostic (multiples of 64)
    sum(o.square().mean() for o in outputs).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.any(p.grad != 0)]
    assert not missing


def test_overrides_change_the_config():
    model = create_model("hg_s2_b1_mobile", stacks=3, num_joints=14)
    assert len(model.score) == 3 and model.score[-1].out_channels == 14
