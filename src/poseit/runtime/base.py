"""The inference backend interface: a compiled model that maps named input arrays to named output arrays."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

PRECISIONS = ("f32", "bf16", "f16")
HINTS = ("latency", "throughput")


@dataclass(frozen=True)
class RuntimeConfig:
    """How to run a model: device (CPU, GPU, NPU, AUTO), inference precision, performance hint, threads.

    ``precision`` is always passed to OpenVINO explicitly: on CPUs with bf16 units OpenVINO otherwise infers in
    bf16 silently, which visibly moves BlazePose landmarks. Quantized (int8) models keep their int8 layers
    whatever the precision; it then applies to the layers left in floating point.
    """

    device: str = "CPU"
    precision: str = "f32"
    hint: str = "latency"
    num_threads: int | None = None
    num_requests: int = 2  # parallel requests in `Backend.infer_many` (async queue)

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.hint not in HINTS:
            raise ValueError(f"hint must be one of {', '.join(HINTS)}, got {self.hint!r}")


class Backend(ABC):
    """A loaded, compiled model."""

    input_names: list[str]
    input_shapes: list[tuple[int, ...]]
    output_names: list[str]

    @abstractmethod
    def infer(self, inputs: np.ndarray | dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run once; a bare array feeds the first input. Returns outputs by name."""

    def infer_many(self, inputs: Iterable[np.ndarray | dict[str, np.ndarray]]) -> Iterator[dict[str, np.ndarray]]:
        """Run a stream of independent inputs, yielding outputs in order (backends may overlap requests)."""
        for x in inputs:
            yield self.infer(x)

    def _feed(self, inputs: np.ndarray | dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if isinstance(inputs, dict):
            return inputs
        return {self.input_names[0]: inputs}
