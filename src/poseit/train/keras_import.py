"""Importer for the seed's Keras models (Stacked_Hourglass_Network_Keras): a Keras 2 model json (``model.to_json()``)
and its weights (.h5 from ``save_weights`` or ``save``) become an OpenVINO model, with no Keras or TensorFlow.

The graph is rebuilt layer by layer with OpenVINO operations: the NHWC input is transposed to NCHW once, each
output back to NHWC, so the result keeps the seed's interface (1xHxWx3 RGB / 255 minus the mean in, one 1xhxwx16
heatmap set per stack out, the last being the prediction). Supported layers: InputLayer, Conv2D,
SeparableConv2D, DepthwiseConv2D, BatchNormalization, MaxPooling2D, UpSampling2D (nearest), Add, Activation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from poseit.errors import PoseItError

ACTIVATIONS = ("linear", "relu")


def _weights(h5_path: Path) -> tuple[dict[str, dict[str, np.ndarray]], str | None]:
    """Layer name -> {"kernel": ..., "bias": ...} from a Keras .h5, and the model config stored in it (if any)."""
    import h5py

    out: dict[str, dict[str, np.ndarray]] = {}
    try:
        f = h5py.File(h5_path, "r")
    except OSError as exc:
        raise PoseItError(f"{h5_path} is not an HDF5 file ({exc})") from None
    with f:
        config = f.attrs.get("model_config")
        group = f.get("model_weights", f)
        names = group.attrs.get("layer_names")
        if names is None:
            raise PoseItError(f"{h5_path} holds no Keras weights (no layer_names)")
        for raw in names:
            name = raw.decode() if isinstance(raw, bytes) else str(raw)
            g = group[name]
            arrays = {}
            for wraw in g.attrs.get("weight_names", []):
                wname = wraw.decode() if isinstance(wraw, bytes) else str(wraw)
                arrays[wname.split("/")[-1].split(":")[0]] = np.asarray(g[wname], dtype=np.float32)
            out[name] = arrays
    if isinstance(config, bytes):
        config = config.decode()
    return out, config


def _inbound(layer: dict) -> list[str]:
    nodes = layer.get("inbound_nodes") or []
    if not nodes:
        return []
    if not isinstance(nodes[0], list):
        raise PoseItError("only Keras 2 model json (inbound_nodes as lists) is supported")
    return [n[0] for n in nodes[0]]


def _pair(v) -> list[int]:
    return [int(v), int(v)] if isinstance(v, int) else [int(x) for x in v]


def keras_to_openvino(json_path: str | Path | None, h5_path: str | Path):
    """An OpenVINO model from a Keras 2 json (or the config inside the .h5 when ``json_path`` is None) + weights."""
    import openvino as ov
    import openvino.opset13 as ops

    h5_path = Path(h5_path)
    if not h5_path.is_file():
        raise PoseItError(f"weights file not found: {h5_path}")
    weights, stored = _weights(h5_path)
    if json_path is not None:
        text = Path(json_path).read_text()
    elif stored:
        text = stored
    else:
        raise PoseItError(f"{h5_path} has no model config: give the model json too")
    try:
        spec = json.loads(text)
        cfg = spec["config"]
        layers, outputs = cfg["layers"], [o[0] for o in cfg["output_layers"]]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise PoseItError(f"not a Keras model json ({exc})") from None

    def const(a: np.ndarray):
        return ops.constant(np.ascontiguousarray(a, dtype=np.float32))

    def activation(node, name: str):
        if name not in ACTIVATIONS:
            raise PoseItError(f"unsupported Keras activation {name!r}")
        return ops.relu(node) if name == "relu" else node

    def bias(node, b: np.ndarray | None):
        return node if b is None else ops.add(node, const(b.reshape(1, -1, 1, 1)))

    def conv(node, c: dict, w: dict):
        pad = "same_upper" if c.get("padding", "valid") == "same" else "valid"
        strides = _pair(c.get("strides", 1))
        k = w["kernel"].transpose(3, 2, 0, 1)  # (kh, kw, in, out) -> (out, in, kh, kw)
        y = ops.convolution(node, const(k), strides, [0, 0], [0, 0], [1, 1], pad)
        return activation(bias(y, w.get("bias")), c.get("activation", "linear"))

    def depthwise(node, c: dict, dw: np.ndarray):
        pad = "same_upper" if c.get("padding", "valid") == "same" else "valid"
        k = dw.transpose(2, 3, 0, 1)[:, :, None]  # (kh, kw, in, m) -> (groups=in, m, 1, kh, kw)
        return ops.group_convolution(node, const(k), _pair(c.get("strides", 1)), [0, 0], [0, 0], [1, 1], pad)

    def separable(node, c: dict, w: dict):
        y = depthwise(node, c, w["depthwise_kernel"])
        pw = w["pointwise_kernel"].transpose(3, 2, 0, 1)
        y = ops.convolution(y, const(pw), [1, 1], [0, 0], [0, 0], [1, 1])
        return activation(bias(y, w.get("bias")), c.get("activation", "linear"))

    def depthwise_layer(node, c: dict, w: dict):
        y = depthwise(node, c, w["depthwise_kernel"])
        return activation(bias(y, w.get("bias")), c.get("activation", "linear"))

    def batchnorm(node, c: dict, w: dict):
        n = w["moving_mean"].shape[0]
        gamma = w.get("gamma", np.ones(n, np.float32))
        beta = w.get("beta", np.zeros(n, np.float32))
        return ops.batch_norm_inference(
            node,
            const(gamma),
            const(beta),
            const(w["moving_mean"]),
            const(w["moving_variance"]),
            float(c.get("epsilon", 1e-3)),
        )

    def maxpool(node, c: dict, w: dict):
        size = _pair(c.get("pool_size", 2))
        strides = _pair(c.get("strides") or size)
        pad = "same_upper" if c.get("padding", "valid") == "same" else "valid"
        return ops.max_pool(node, strides, [1, 1], [0, 0], [0, 0], size, "floor", pad).output(0)

    def upsample(node, c: dict, w: dict):
        if c.get("interpolation", "nearest") != "nearest":
            raise PoseItError("only nearest UpSampling2D is supported")
        scales = const(np.array([1, 1, *_pair(c.get("size", 2))], np.float32))
        return ops.interpolate(
            node, scales, "nearest", "scales", coordinate_transformation_mode="asymmetric", nearest_mode="floor"
        )

    single: dict[str, Callable] = {
        "Conv2D": conv,
        "SeparableConv2D": separable,
        "DepthwiseConv2D": depthwise_layer,
        "BatchNormalization": batchnorm,
        "MaxPooling2D": maxpool,
        "MaxPool2D": maxpool,
        "UpSampling2D": upsample,
        "Activation": lambda node, c, w: activation(node, c.get("activation", "linear")),
    }
    nodes: dict = {}
    params = []
    for layer in layers:
        kind, name, c = layer["class_name"], layer.get("name") or layer["config"]["name"], layer["config"]
        ins = [nodes[i] for i in _inbound(layer)]
        if kind == "InputLayer":
            shape = c.get("batch_input_shape") or c.get("batch_shape")
            if not shape or len(shape) != 4 or shape[3] != 3:
                raise PoseItError(f"Keras input {shape} is not one NHWC RGB image")
            p = ops.parameter([1, *shape[1:]], ov.Type.f32, name=name)
            params.append(p)
            nodes[name] = ops.transpose(p, ops.constant(np.array([0, 3, 1, 2], np.int64)))
        elif kind == "Add":
            y = ins[0]
            for other in ins[1:]:
                y = ops.add(y, other)
            nodes[name] = y
        elif kind in single:
            if c.get("data_format", "channels_last") != "channels_last":
                raise PoseItError(f"layer {name}: only channels_last Keras models are supported")
            if kind == "BatchNormalization" and c.get("axis", -1) not in (-1, 3, [3]):
                raise PoseItError(f"layer {name}: BatchNormalization must normalise the channel axis")
            try:
                nodes[name] = single[kind](ins[0], c, weights.get(name, {}))
            except KeyError as exc:
                raise PoseItError(f"layer {name}: weight {exc} is missing from {h5_path.name}") from None
        else:
            raise PoseItError(f"unsupported Keras layer {kind} ({name})")
    results = []
    for i, name in enumerate(outputs):
        y = ops.transpose(nodes[name], ops.constant(np.array([0, 2, 3, 1], np.int64)))
        y.output(0).get_tensor().set_names({f"heatmaps_{i}"})
        results.append(ops.result(y))
    return ov.Model(results, params, "keras_hourglass")
