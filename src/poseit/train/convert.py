"""Conversion of hourglass models for inference: torch -> ONNX -> OpenVINO IR (FP32 and FP16-compressed) and INT8
by NNCF post-training quantization calibrated on real person crops. ONNX files (ours or the seed's) and Keras
json+h5 models (`poseit.train.keras_import`) enter the same path as an OpenVINO model."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from poseit.errors import PoseItError
from poseit.models.heatmap import normalize_image
from poseit.train.augment import crop_person
from poseit.train.datasets import Sample


def export_onnx(model, path: str | Path, opset: int = 17) -> Path:
    """Our torch model as ONNX: input ``input`` 1x3xSxS (RGB / 255 minus the seed's mean), one output per
    stack ``heatmaps_0``... (the last is the prediction), the seed's convention."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval().to(memory_format=torch.contiguous_format)
    size = model.config.input_size
    names = [f"heatmaps_{i}" for i in range(model.config.stacks)]
    with torch.no_grad(), warnings.catch_warnings():
        # the TorchScript exporter (the dynamo one needs onnxscript, which the train extra does not carry)
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (torch.zeros(1, 3, size, size),),
            str(path),
            input_names=["input"],
            output_names=names,
            opset_version=opset,
            dynamo=False,
        )
    return path


def read_model(path: str | Path, weights: str | Path | None = None):
    """An OpenVINO model from .onnx / .xml, or from a Keras .json with its .h5 ``weights``."""
    import openvino as ov

    path = Path(path)
    if not path.is_file():
        raise PoseItError(f"model file not found: {path}")
    if path.suffix == ".json" or path.suffix == ".h5":
        from poseit.train.keras_import import keras_to_openvino

        return keras_to_openvino(path if path.suffix == ".json" else None, weights or path)
    if path.suffix not in (".onnx", ".xml"):
        raise PoseItError(f"cannot convert {path.name}: give a .pt checkpoint, .onnx, .xml or Keras .json + .h5")
    try:
        return ov.Core().read_model(str(path))
    except Exception as exc:
        raise PoseItError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None


def save_ir(model, path: str | Path, fp16: bool = False) -> Path:
    """Write OpenVINO IR (.xml + .bin); ``fp16`` stores the weights as FP16 (decompressed to the inference
    precision at load)."""
    import openvino as ov

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ov.save_model(model, str(path), compress_to_fp16=fp16)
    return path


def input_layout(model) -> tuple[str, int, int]:
    """("nchw" | "nhwc", width, height) of an OpenVINO model's single RGB input."""
    shape = tuple(model.inputs[0].get_partial_shape().get_min_shape())
    if len(shape) == 4 and shape[1] == 3:
        return "nchw", int(shape[3]), int(shape[2])
    if len(shape) == 4 and shape[3] == 3:
        return "nhwc", int(shape[2]), int(shape[1])
    raise PoseItError(f"model input {shape} is not one RGB image")


def calibration_tensors(
    samples: list[Sample],
    layout: tuple[str, int, int],
    count: int = 300,
    mean: tuple[float, float, float] | None = None,
) -> list[np.ndarray]:
    """Up to ``count`` real person crops (the seed's centred crop, no augmentation) as model inputs."""
    from poseit.io.sources import read_image
    from poseit.models.heatmap import SEED_MEAN

    kind, w, _ = layout
    step = max(1, len(samples) // count)
    tensors = []
    for s in samples[::step][:count]:
        patch, _ = crop_person(read_image(s.image), s.center, s.crop_side, w)
        x = normalize_image(patch, mean or SEED_MEAN)
        tensors.append((x.transpose(2, 0, 1) if kind == "nchw" else x)[None].copy())
    return tensors


def quantize_int8(model, tensors: list[np.ndarray], fast_bias_correction: bool = True):
    """NNCF post-training INT8 quantization of an OpenVINO model, calibrated on ``tensors`` (model inputs)."""
    try:
        import nncf
    except ImportError:
        raise PoseItError("INT8 needs NNCF: pip install 'poseit[train]'") from None
    if not tensors:
        raise PoseItError("INT8 calibration needs at least one image")
    dataset = nncf.Dataset(tensors)
    return nncf.quantize(model, dataset, subset_size=len(tensors), fast_bias_correction=fast_bias_correction)
