"""Models: the registry of named models, the manager that pulls them, and the model classes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from poseit.errors import PoseItError
from poseit.models.base import Detection, LandmarkModel, Landmarks, Model
from poseit.models.blazepose import BlazePoseDetector, BlazePoseLandmarks
from poseit.models.heatmap import HeatmapLandmarks
from poseit.models.manager import model_path, pull
from poseit.models.registry import MODELS, ModelSpec, get_spec
from poseit.runtime import Backend, RuntimeConfig, create_backend

MODEL_SUFFIXES = (".tflite", ".onnx", ".xml")

# family name -> class building a landmark model from a compiled backend and keyword options
LANDMARK_FAMILIES: dict[str, Callable[..., LandmarkModel]] = {
    "blazepose": BlazePoseLandmarks,
    "heatmap": HeatmapLandmarks,
}


def sniff_family(backend: Backend) -> str:
    """Guess which landmark family a user-given model file belongs to from its outputs."""
    if "Identity" in backend.output_names and "Identity_1" in backend.output_names:
        return "blazepose"
    for family, cls in LANDMARK_FAMILIES.items():
        accepts = getattr(cls, "accepts", None)
        if accepts is not None and accepts(backend):
            return family
    raise PoseItError(
        f"cannot tell what kind of model this is (outputs {backend.output_names}); "
        f"supported: BlazePose landmark models and MPII-16 heatmap models"
    )


def create_landmark_model(
    model: str | Path, config: RuntimeConfig | None = None, backend: str = "openvino", **options
) -> LandmarkModel:
    """A landmark model by registered name (``blazepose-full``) or by file (.tflite, .onnx, .xml)."""
    text = str(model)
    if text.endswith(MODEL_SUFFIXES):
        cls = LANDMARK_FAMILIES[sniff_family(create_backend(text, config, backend))]
        return cls(create_backend(text, config, backend, getattr(cls, "outputs", None)), **options)
    spec = get_spec(text)
    if spec.task != "landmarks":
        raise PoseItError(f"{spec.name} is a {spec.task}, not a landmark model")
    cls = LANDMARK_FAMILIES[spec.family]
    compiled = create_backend(model_path(spec.name), config, backend, getattr(cls, "outputs", None))
    return cls(compiled, **{**spec.options, **options})


def create_detector(config: RuntimeConfig | None = None, backend: str = "openvino", **options) -> BlazePoseDetector:
    return BlazePoseDetector(create_backend(model_path("blazepose-detector"), config, backend), **options)


_SHARED: dict[tuple, tuple[LandmarkModel, BlazePoseDetector | None]] = {}
_SHARED_LOCK = threading.Lock()


def load_models(
    model: str | Path,
    config: RuntimeConfig,
    backend: str = "openvino",
    model_options: dict | None = None,
    min_detection_score: float | None = 0.5,
    shared: bool = False,
) -> tuple[LandmarkModel, BlazePoseDetector | None]:
    """The landmark model and the detector (None when ``min_detection_score`` is None: no detector).

    With ``shared``, each distinct combination is compiled once per process and the same objects are returned
    to every caller (a server's clients, each with its own tracker): the model objects hold no per-stream state
    and the OpenVINO backend keeps its infer requests per thread, so worker threads may use them at once."""
    options = model_options or {}
    if not shared:
        landmarks = create_landmark_model(model, config, backend, **options)
        detector = None if min_detection_score is None else create_detector(config, min_score=min_detection_score)
        return landmarks, detector
    key = (str(model), config, backend, repr(sorted(options.items())), min_detection_score)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = load_models(model, config, backend, options, min_detection_score, shared=False)
        return _SHARED[key]


__all__ = [
    "LANDMARK_FAMILIES",
    "MODELS",
    "BlazePoseDetector",
    "BlazePoseLandmarks",
    "Detection",
    "HeatmapLandmarks",
    "LandmarkModel",
    "Landmarks",
    "Model",
    "ModelSpec",
    "create_detector",
    "create_landmark_model",
    "get_spec",
    "load_models",
    "model_path",
    "pull",
]
