"""Inference backends behind one small interface: OpenVINO first, ONNX Runtime for .onnx files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from poseit.errors import PoseItError
from poseit.runtime.base import HINTS, PRECISIONS, Backend, RuntimeConfig

BACKENDS = ("openvino", "onnxruntime")


def create_backend(
    path: str | Path,
    config: RuntimeConfig | None = None,
    backend: str = "openvino",
    outputs: Sequence[str] | None = None,
) -> Backend:
    """Load and compile a model file with the named backend. ``outputs`` keeps only those outputs, so the
    layers that feed only the others (e.g. BlazePose's segmentation decoder) are not computed."""
    config = config or RuntimeConfig()
    path = Path(path)
    if not path.is_file():
        raise PoseItError(f"model file not found: {path}")
    if backend == "openvino":
        from poseit.runtime.openvino_backend import OpenVINOBackend

        return OpenVINOBackend(path, config, outputs)
    if backend == "onnxruntime":
        if path.suffix != ".onnx":
            raise PoseItError(f"ONNX Runtime runs .onnx files only, not {path.name}")
        from poseit.runtime.onnxruntime_backend import ONNXRuntimeBackend

        return ONNXRuntimeBackend(path, config, outputs)
    raise PoseItError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "HINTS", "PRECISIONS", "Backend", "RuntimeConfig", "create_backend"]
