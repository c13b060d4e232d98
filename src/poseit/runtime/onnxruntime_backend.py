"""ONNX Runtime backend for .onnx files (optional dependency: ``pip install poseit[onnx]``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from poseit.errors import PoseItError
from poseit.runtime.base import Backend, RuntimeConfig


class ONNXRuntimeBackend(Backend):
    def __init__(
        self, path: str | Path, config: RuntimeConfig | None = None, outputs: Sequence[str] | None = None
    ) -> None:
        config = config or RuntimeConfig()
        try:
            import onnxruntime as ort
        except ImportError:
            raise PoseItError("ONNX Runtime is not installed: pip install 'poseit[onnx]'") from None
        if config.device.upper() != "CPU" or config.precision != "f32":
            raise PoseItError("the ONNX Runtime backend runs on CPU in f32 only; use --backend openvino")
        options = ort.SessionOptions()
        if config.num_threads:
            options.intra_op_num_threads = int(config.num_threads)
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise PoseItError(f"cannot load {path} in ONNX Runtime: {str(exc).splitlines()[0]}") from None
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.input_shapes = [tuple(d if isinstance(d, int) else 1 for d in i.shape) for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs() if not outputs or o.name in outputs]

    def infer(self, inputs: np.ndarray | dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        outputs = self.session.run(self.output_names, self._feed(inputs))
        return dict(zip(self.output_names, outputs, strict=True))
