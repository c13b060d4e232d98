"""Conversion: ONNX (ONNX Runtime and OpenVINO), IR FP32/FP16 and NNCF INT8 agree with PyTorch.

Tolerances, relative to the output's standard deviation on real crops: ONNX and IR FP32 1e-4 (max abs), IR FP16
weights 1e-2 (max abs), INT8 0.15 (RMS). The model is the tiny hourglass with a few training steps, so its
heatmaps carry real structure."""

import numpy as np
import pytest
import torch

from poseit.cli import main as cli
from poseit.io.sources import read_image
from poseit.models.heatmap import normalize_image
from poseit.runtime import RuntimeConfig, create_backend
from poseit.train import convert
from poseit.train.augment import Augment, crop_person
from poseit.train.codec import supervised_loss
from poseit.train.data import HeatmapDataset
from poseit.train.datasets import load_lsp
from poseit.train.hourglass import create_model
from poseit.train.loop import TrainSettings, fit


@pytest.fixture(scope="module")
def trained(data_dir, tmp_path_factory):
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("ckpt")
    samples = load_lsp(data_dir / "lsp", "train")[:4]
    model = create_model("hg_s2_b1_tiny")
    dataset = HeatmapDataset(samples, model.config, Augment.none())
    fit(
        "hg_s2_b1_tiny",
        model,
        dataset,
        supervised_loss,
        TrainSettings(epochs=3, batch_size=4, lr=2e-3, threads=2),
        out,
        progress=False,
        log=lambda _: None,
    )
    crops = []
    for s in load_lsp(data_dir / "lsp", "test")[:3]:
        patch, _ = crop_person(read_image(s.image), s.center, s.crop_side, 192)
        crops.append(normalize_image(patch).transpose(2, 0, 1)[None].copy())
    return out / "last.pt", crops


def _torch_out(ckpt, x):
    from poseit.train.loop import load_checkpoint

    model, _ = load_checkpoint(ckpt)
    with torch.no_grad():
        return [o.numpy() for o in model(torch.from_numpy(x))]


def test_convert_cli_outputs_agree(trained, tmp_path, data_dir):
    ckpt, crops = trained
    code = cli(
        ["convert", str(ckpt), "--out", str(tmp_path), "--calib-images", "16", "--calib-root", str(data_dir / "lsp")]
    )
    assert code == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert {"model.onnx", "model_fp32.xml", "model_fp16.xml", "model_int8.xml"} <= names
    f32 = RuntimeConfig(precision="f32")
    backends = {
        "onnxruntime": create_backend(tmp_path / "model.onnx", f32, "onnxruntime"),
        "onnx-openvino": create_backend(tmp_path / "model.onnx", f32),
        "ir-fp32": create_backend(tmp_path / "model_fp32.xml", f32),
        "ir-fp16": create_backend(tmp_path / "model_fp16.xml", f32),
        "int8": create_backend(tmp_path / "model_int8.xml", f32),
    }
    # INT8 (relative RMS of a 3-epoch toy net): 0.05-0.15 on CPUs with AVX-512, 0.35 on an AVX2-only EPYC
    # (2026-12-02, same code before and after the bf16 change); a broken quantisation reads ~1 or more
    tolerance = {"onnxruntime": 1e-4, "onnx-openvino": 1e-4, "ir-fp32": 1e-4, "ir-fp16": 1e-2, "int8": 0.5}
    for x in crops:
        ref = _torch_out(ckpt, x)
        scale = float(np.std(ref[-1]))
        for name, backend in backends.items():
            out = backend.infer(x)
            assert backend.output_names == ["heatmaps_0", "heatmaps_1"]
            for r, o in zip(ref, (out[n] for n in backend.output_names), strict=True):
                err = np.sqrt(np.mean((o - r) ** 2)) if name == "int8" else np.abs(o - r).max()
                assert err / scale < tolerance[name], (name, err / scale)


def test_bad_convert_inputs(tmp_path):
    from poseit.errors import PoseItError

    with pytest.raises(PoseItError, match="not found"):
        convert.read_model(tmp_path / "missing.onnx")
    (tmp_path / "x.pt").write_bytes(b"junk")
    assert cli(["convert", str(tmp_path / "x.pt"), "--out", str(tmp_path)]) == 1
    assert cli(["convert", str(tmp_path / "x.pt"), "--out", str(tmp_path), "--formats", "tflite"]) == 1
