"""OpenVINO backend: .xml/.onnx/.tflite files compiled with an explicit precision and performance hint."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from poseit.errors import PoseItError
from poseit.runtime.base import Backend, RuntimeConfig

_PRECISION_TYPES = {"f32": "f32", "bf16": "bf16", "f16": "f16"}  # names of ov.Type members


def _core():
    import openvino as ov

    core = ov.Core()
    cache = os.environ.get("POSEIT_OV_CACHE")
    if cache:
        core.set_property({"CACHE_DIR": cache})
    return core


class OpenVINOBackend(Backend):
    def __init__(
        self, path: str | Path, config: RuntimeConfig | None = None, outputs: Sequence[str] | None = None
    ) -> None:
        config = config or RuntimeConfig()
        import openvino as ov
        import openvino.properties as props
        import openvino.properties.hint as hints

        self.config = config
        core = _core()
        try:
            model = core.read_model(str(path))
        except Exception as exc:  # OpenVINO raises RuntimeError with a long C++ trace
            raise PoseItError(f"cannot read model {path}: {str(exc).splitlines()[0]}") from None
        if outputs:
            keep = [o.get_node() for o in model.outputs if o.get_any_name() in outputs]
            if keep and len(keep) < len(model.outputs):
                model = ov.Model(keep, model.get_parameters(), model.get_friendly_name())
        mode = hints.PerformanceMode.LATENCY if config.hint == "latency" else hints.PerformanceMode.THROUGHPUT
        options: dict = {
            hints.inference_precision: getattr(ov.Type, _PRECISION_TYPES[config.precision]),
            hints.performance_mode: mode,
        }
        if config.num_threads:
            options[props.inference_num_threads] = int(config.num_threads)
        device = config.device.upper()
        if device.startswith(("AUTO", "MULTI", "HETERO")):
            # Virtual devices forward per-device properties; the CPU must still get the explicit precision.
            options = {props.device.properties: {"CPU": options}, hints.performance_mode: mode}
        try:
            self.compiled = core.compile_model(model, device, options)
        except Exception as exc:
            raise PoseItError(
                f"cannot compile {Path(path).name} for device {device}: {str(exc).splitlines()[0]}"
            ) from None
        self.input_names = [p.get_any_name() for p in self.compiled.inputs]
        self.input_shapes = [tuple(p.get_partial_shape().get_min_shape()) for p in self.compiled.inputs]
        self.output_names = [p.get_any_name() for p in self.compiled.outputs]
        # One set of infer requests per calling thread: a compiled model may be shared by worker threads.
        self._local = threading.local()

    def _requests(self) -> list:
        """This thread's infer requests (created on first use): the first serves `infer`, all `infer_many`."""
        requests = getattr(self._local, "requests", None)
        if requests is None:
            n = max(1, self.config.num_requests)
            requests = self._local.requests = [self.compiled.create_infer_request() for _ in range(n)]
        return requests

    @property
    def inference_precision(self) -> str:
        """The precision OpenVINO reports it actually uses (read back, not assumed)."""
        import openvino.properties.hint as hints

        try:
            return self.compiled.get_property(hints.inference_precision).to_string()
        except Exception:
            return "n/a"

    def _outputs(self, request) -> dict[str, np.ndarray]:
        return {name: request.get_output_tensor(i).data.copy() for i, name in enumerate(self.output_names)}

    def infer(self, inputs: np.ndarray | dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        request = self._requests()[0]
        request.infer(self._feed(inputs))
        return self._outputs(request)

    def infer_many(self, inputs: Iterable[np.ndarray | dict[str, np.ndarray]]) -> Iterator[dict[str, np.ndarray]]:
        """Keep up to ``config.num_requests`` requests in flight; yield results in input order."""
        free = deque(self._requests())
        busy: deque = deque()
        try:
            for x in inputs:
                if not free:
                    req = busy.popleft()
                    req.wait()
                    yield self._outputs(req)
                    free.append(req)
                req = free.popleft()
                req.start_async(self._feed(x))
                busy.append(req)
            while busy:
                req = busy.popleft()
                req.wait()
                yield self._outputs(req)
        finally:  # a consumer that stops early leaves no request running (they are reused)
            for req in busy:
                req.wait()
