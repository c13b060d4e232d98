"""Importers for the seed's published files, tested with files built to their conventions here:

- Fast_Human_Pose_Estimation_Pytorch ONNX: 1x3x256x256 RGB / 255 minus the mean, one output per stack with
  exporter-chosen names (the last is the prediction); built from our torch model with the seed's export call.
- Stacked_Hourglass_Network_Keras json + h5: NHWC, post-activation bottlenecks (conv -> ReLU -> BN), separable
  convolutions in the mobile variant, one output per stack; written with h5py, checked against a plain numpy
  forward pass that reads the Keras kernels as they are (no layout conversion).
"""

import json
import warnings

import cv2
import numpy as np
import pytest
import torch

from poseit.cli import main as cli
from poseit.models import HeatmapLandmarks, create_landmark_model
from poseit.runtime import RuntimeConfig, create_backend
from poseit.train import convert
from poseit.train.hourglass import create_model
from poseit.train.keras_import import keras_to_openvino

h5py = pytest.importorskip("h5py")


# --- a Keras 2 model (the seed's hg_blocks layout, reduced) --------------------------------------------------
class KerasBuilder:
    def __init__(self, rng):
        self.layers, self.weights, self.rng, self.count = [], {}, rng, 0

    def add(self, kind, inputs, config, weights=None, name=None):
        self.count += 1
        name = name or f"{kind.lower()}_{self.count}"
        self.layers.append(
            {
                "class_name": kind,
                "name": name,
                "config": {"name": name, **config},
                "inbound_nodes": [[[i, 0, 0, {}] for i in inputs]] if inputs else [],
            }
        )
        if weights:
            self.weights[name] = weights
        return name

    def conv(self, x, cin, cout, k=1, stride=1, act="relu", separable=False):
        r = self.rng
        cfg = {
            "filters": cout,
            "kernel_size": [k, k],
            "strides": [stride, stride],
            "padding": "same",
            "activation": act,
            "data_format": "channels_last",
        }
        b = r.normal(0, 0.1, cout).astype(np.float32)
        if separable:
            w = {
                "depthwise_kernel": r.normal(0, 0.5, (k, k, cin, 1)).astype(np.float32),
                "pointwise_kernel": r.normal(0, 1 / np.sqrt(cin), (1, 1, cin, cout)).astype(np.float32),
                "bias": b,
            }
            return self.add("SeparableConv2D", [x], {**cfg, "depth_multiplier": 1}, w)
        w = {"kernel": r.normal(0, 1 / np.sqrt(k * k * cin), (k, k, cin, cout)).astype(np.float32), "bias": b}
        return self.add("Conv2D", [x], cfg, w)

    def bn(self, x, c):
        r = self.rng
        w = {
            "gamma": r.uniform(0.5, 1.5, c),
            "beta": r.normal(0, 0.1, c),
            "moving_mean": r.normal(0, 0.1, c),
            "moving_variance": r.uniform(0.5, 2, c),
        }
        return self.add(
            "BatchNormalization", [x], {"axis": -1, "epsilon": 1e-3}, {k: v.astype(np.float32) for k, v in w.items()}
        )

    def bottleneck(self, x, cin, cout, mobile):
        skip = x if cin == cout else self.conv(x, cin, cout, separable=mobile)
        y = self.bn(self.conv(x, cin, cout // 2, separable=mobile), cout // 2)
        y = self.bn(self.conv(y, cout // 2, cout // 2, k=3, separable=mobile), cout // 2)
        y = self.bn(self.conv(y, cout // 2, cout, separable=mobile), cout)
        return self.add("Add", [skip, y], {})


def build_keras_hourglass(path_json, path_h5, size=64, ch=16, stacks=2, mobile=True, joints=16):
    """The seed's create_hourglass_network, with a depth-2 hourglass to stay small."""
    b = KerasBuilder(np.random.default_rng(0))
    x = b.add("InputLayer", [], {"batch_input_shape": [None, size, size, 3], "dtype": "float32"}, name="input_1")
    x = b.bn(b.conv(x, 3, 64, k=7, stride=2), 64)
    x = b.bottleneck(x, 64, ch // 2, mobile)
    x = b.add("MaxPooling2D", [x], {"pool_size": [2, 2], "strides": [2, 2], "padding": "valid"})
    x = b.bottleneck(b.bottleneck(x, ch // 2, ch // 2, mobile), ch // 2, ch, mobile)
    outputs = []
    for _ in range(stacks):
        f1 = b.bottleneck(x, ch, ch, mobile)
        f2 = b.bottleneck(b.add("MaxPooling2D", [f1], {"pool_size": [2, 2], "strides": [2, 2]}), ch, ch, mobile)
        low = b.add("Add", [b.bottleneck(f2, ch, ch, mobile), b.bottleneck(f2, ch, ch, mobile)], {})
        up = b.add("UpSampling2D", [low], {"size": [2, 2], "interpolation": "nearest"})
        rf1 = b.bottleneck(b.add("Add", [b.bottleneck(f1, ch, ch, mobile), up], {}), ch, ch, mobile)
        head = b.bn(b.conv(rf1, ch, ch), ch)
        parts = b.conv(head, ch, joints, act="linear")
        outputs.append(parts)
        x = b.add("Add", [b.conv(head, ch, ch, act="linear"), b.conv(parts, joints, ch, act="linear"), x], {})
    model = {
        "class_name": "Model",
        "keras_version": "2.1.5",
        "backend": "tensorflow",
        "config": {
            "name": "model_1",
            "layers": b.layers,
            "input_layers": [["input_1", 0, 0]],
            "output_layers": [[o, 0, 0] for o in outputs],
        },
    }
    path_json.write_text(json.dumps(model))
    with h5py.File(path_h5, "w") as f:
        f.attrs["layer_names"] = np.array([lay["name"].encode() for lay in b.layers])
        for lay in b.layers:
            g = f.create_group(lay["name"])
            ws = b.weights.get(lay["name"], {})
            names = [f"{lay['name']}/{k}:0" for k in ws]
            g.attrs["weight_names"] = np.array([n.encode() for n in names])
            for n, v in zip(names, ws.values(), strict=True):
                g.create_dataset(n, data=v)
    return model, b.weights


def numpy_forward(model, weights, x):
    """Reference forward pass straight from the Keras json, NHWC, TensorFlow 'same' padding."""

    def pad_same(a, k, s):
        h = a.shape[1]
        total = max((-(-h // s) - 1) * s + k - h, 0)
        lo = total // 2
        return np.pad(a, ((0, 0), (lo, total - lo), (lo, total - lo), (0, 0)))

    def windows(a, k, s):
        v = np.lib.stride_tricks.sliding_window_view(pad_same(a, k, s), (k, k), axis=(1, 2))
        return v[:, ::s, ::s]  # (1, H', W', C, k, k)

    def act(a, name):
        return np.maximum(a, 0) if name == "relu" else a

    vals = {}
    for lay in model["config"]["layers"]:
        c, w, name = lay["config"], weights.get(lay["name"], {}), lay["name"]
        ins = [vals[n[0]] for n in lay["inbound_nodes"][0]] if lay["inbound_nodes"] else []
        kind = lay["class_name"]
        if kind == "InputLayer":
            vals[name] = x
        elif kind == "Conv2D":
            k, s = c["kernel_size"][0], c["strides"][0]
            y = np.einsum("nhwcij,ijco->nhwo", windows(ins[0], k, s), w["kernel"]) + w["bias"]
            vals[name] = act(y, c["activation"])
        elif kind == "SeparableConv2D":
            k = c["kernel_size"][0]
            d = np.einsum("nhwcij,ijc->nhwc", windows(ins[0], k, 1), w["depthwise_kernel"][..., 0])
            y = np.einsum("nhwc,co->nhwo", d, w["pointwise_kernel"][0, 0]) + w["bias"]
            vals[name] = act(y, c["activation"])
        elif kind == "BatchNormalization":
            vals[name] = (ins[0] - w["moving_mean"]) / np.sqrt(w["moving_variance"] + c["epsilon"]) * w["gamma"] + w[
                "beta"
            ]
        elif kind == "MaxPooling2D":
            a = ins[0]
            vals[name] = a.reshape(1, a.shape[1] // 2, 2, a.shape[2] // 2, 2, -1).max(axis=(2, 4))
        elif kind == "UpSampling2D":
            vals[name] = ins[0].repeat(2, axis=1).repeat(2, axis=2)
        elif kind == "Add":
            vals[name] = sum(ins)
    return [vals[o[0]] for o in model["config"]["output_layers"]]


def test_keras_json_h5_import_matches_a_numpy_forward_pass(tmp_path):
    model, weights = build_keras_hourglass(tmp_path / "net.json", tmp_path / "net.h5")
    ov_model = keras_to_openvino(tmp_path / "net.json", tmp_path / "net.h5")
    xml = convert.save_ir(ov_model, tmp_path / "net.xml")
    backend = create_backend(xml, RuntimeConfig(precision="f32"))
    x = np.random.default_rng(1).uniform(-0.5, 0.5, (1, 64, 64, 3)).astype(np.float32)
    got = backend.infer(x)
    ref = numpy_forward(model, weights, x.astype(np.float64))
    assert backend.output_names == ["heatmaps_0", "heatmaps_1"]
    for r, name in zip(ref, backend.output_names, strict=True):
        assert got[name].shape == (1, 16, 16, 16)
        np.testing.assert_allclose(got[name], r, atol=1e-3 * np.abs(r).max())
    # the IR is sniffed as a heatmap model (NHWC in and out) and decodes on a crop
    lm = create_landmark_model(xml, RuntimeConfig(precision="f32"))
    assert isinstance(lm, HeatmapLandmarks) and lm.layout == "nhwc" and lm.input_size == (64, 64)


def test_keras_errors_are_one_line(tmp_path):
    from poseit.errors import PoseItError

    model, _ = build_keras_hourglass(tmp_path / "net.json", tmp_path / "net.h5", stacks=1)
    model["config"]["layers"][1]["class_name"] = "Conv3D"
    (tmp_path / "bad.json").write_text(json.dumps(model))
    with pytest.raises(PoseItError, match="unsupported Keras layer Conv3D"):
        keras_to_openvino(tmp_path / "bad.json", tmp_path / "net.h5")
    (tmp_path / "junk.h5").write_bytes(b"nope")
    with pytest.raises(PoseItError, match="not an HDF5"):
        keras_to_openvino(tmp_path / "net.json", tmp_path / "junk.h5")
    assert (
        cli(
            [
                "convert",
                str(tmp_path / "net.json"),
                "--weights",
                str(tmp_path / "net.h5"),
                "--out",
                str(tmp_path / "ir"),
                "--formats",
                "fp32,fp16",
            ]
        )
        == 0
    )
    assert (tmp_path / "ir" / "model_fp16.xml").is_file()


@pytest.fixture(scope="module")
def seed_onnx(tmp_path_factory):
    """An ONNX file made the way the seed's tools/mpii_export_to_onxx.py makes it (exporter-chosen output
    names), from a freshly initialised hg_s2_b1_mobile (the weights do not matter for the interface)."""
    torch.manual_seed(0)
    model = create_model("hg_s2_b1_mobile").eval()
    path = tmp_path_factory.mktemp("seed") / "model_best.onnx"
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the seed's exporter is the TorchScript one
        torch.onnx.export(model, torch.randn(1, 3, 256, 256), str(path), dynamo=False)
    return model, path


def test_seed_onnx_runs_as_a_heatmap_model(seed_onnx):
    model, path = seed_onnx
    lm = create_landmark_model(path, RuntimeConfig(precision="f32"))
    assert isinstance(lm, HeatmapLandmarks) and lm.layout == "nchw" and lm.input_size == (256, 256)
    assert not any(n.startswith("heatmaps") for n in lm.backend.output_names)  # names the exporter chose
    from poseit.detect.roi import Roi
    from poseit.models.heatmap import normalize_image

    image = np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    roi = Roi(200, 150, 256, 256)
    out = lm(image, roi)
    # the same crop through torch, decoded by the same codec, lands on the same frame points
    tensor, _ = lm.preprocess(image, roi)
    np.testing.assert_allclose(tensor[0].transpose(1, 2, 0), normalize_image(image[22:278, 72:328]), atol=1e-5)
    with torch.no_grad():
        ref = model(torch.from_numpy(tensor))[-1].numpy()[0]
    xy, _ = lm.codec.decode(ref)
    np.testing.assert_allclose(out.xy, xy + np.array([72, 22]), atol=0.05)


def test_poseit_run_with_a_heatmap_onnx(seed_onnx, blazepose_models, data_dir, tmp_path):
    """`poseit run --model file.onnx` puts the hourglass behind the BlazePose detector's ROI."""
    _, path = seed_onnx
    image = data_dir / "lsp" / "images" / "im1001.jpg"
    out = tmp_path / "poses.jsonl"
    assert cli(["run", str(image), "--model", str(path), "--out-json", str(out), "--quiet"]) == 0
    assert out.read_text().strip()
    from poseit.pipeline import PoseEstimator

    est = PoseEstimator(path, mode="detect", min_tracking_score=0.0)
    poses = est(cv2.imread(str(image)))
    assert len(poses) == 1 and poses.skeleton == "mpii16" and poses.to_skeleton("lsp14").xy.shape == (1, 14, 2)
