"""Backends: OpenVINO and ONNX Runtime give the same outputs for the same .onnx model."""

from pathlib import Path

import numpy as np
import pytest

from poseit.errors import PoseItError
from poseit.runtime import RuntimeConfig, create_backend

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

TOLERANCE = 1e-4  # max abs difference between OpenVINO f32 and ONNX Runtime f32 on the test network


def conv_net(path: Path, seed: int = 0) -> Path:
    """A small real network (conv-relu-conv-sigmoid, NCHW) written as ONNX."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    w1 = numpy_helper.from_array(rng.normal(0, 0.3, (8, 3, 3, 3)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.normal(0, 0.3, (4, 8, 3, 3)).astype(np.float32), "w2")
    nodes = [
        helper.make_node("Conv", ["input", "w1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Sigmoid", ["c2"], ["heatmaps"]),
    ]
    graph = helper.make_graph(
        nodes,
        "net",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("heatmaps", TensorProto.FLOAT, [1, 4, 16, 16])],
        initializer=[w1, w2],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


@pytest.fixture(scope="module")
def net(tmp_path_factory) -> Path:
    return conv_net(tmp_path_factory.mktemp("net") / "net.onnx")


def test_openvino_matches_onnxruntime(net):
    x = np.random.default_rng(1).uniform(0, 1, (1, 3, 32, 32)).astype(np.float32)
    ov = create_backend(net, RuntimeConfig(precision="f32"), "openvino")
    ort = create_backend(net, RuntimeConfig(), "onnxruntime")
    assert ov.input_names == ort.input_names == ["input"]
    assert ov.inference_precision == "f32"
    a, b = ov.infer(x)["heatmaps"], ort.infer({"input": x})["heatmaps"]
    assert a.shape == b.shape == (1, 4, 16, 16)
    assert np.abs(a - b).max() < TOLERANCE


def test_async_queue_keeps_order(net):
    ov = create_backend(net, RuntimeConfig(num_requests=3))
    xs = [np.full((1, 3, 32, 32), v, np.float32) for v in np.linspace(0, 1, 7)]
    many = list(ov.infer_many(xs))
    for x, out in zip(xs, many, strict=True):
        np.testing.assert_array_equal(out["heatmaps"], ov.infer(x)["heatmaps"])


def test_precision_is_explicit(net):
    bf16 = create_backend(net, RuntimeConfig(precision="bf16"))
    assert bf16.inference_precision in ("bf16", "f32")  # f32 on CPUs without bf16 units
    with pytest.raises(ValueError):
        RuntimeConfig(precision="int4")


def test_clear_errors(tmp_path, net):
    with pytest.raises(PoseItError, match="not found"):
        create_backend(tmp_path / "missing.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(PoseItError, match="cannot read model"):
        create_backend(junk)
    with pytest.raises(PoseItError, match="unknown backend"):
        create_backend(net, backend="tensorrt")
    with pytest.raises(PoseItError, match="CPU in f32 only"):
        create_backend(net, RuntimeConfig(precision="bf16"), "onnxruntime")
