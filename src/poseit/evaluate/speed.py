"""Timing one pipeline configuration on a clip: per-stage milliseconds and end-to-end FPS.

Run each configuration in its own process (``poseit bench`` or benchmarks/bench_pipeline.py): torch, ONNX
Runtime and OpenVINO in one process distort each other's timings.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from poseit.io.sources import Frame, open_source
from poseit.pipeline import PoseEstimator


def bench_clip(
    video: str | Path, model: str = "blazepose-full", mode: str = "track", max_frames: int | None = None, **options: Any
) -> dict[str, Any]:
    """Run the whole pipeline on ``video`` (decoding in a background thread, as ``poseit run`` does) and
    report median per-stage ms (decode, detect, landmarks, post) and end-to-end FPS (model compile excluded)."""
    estimator = PoseEstimator(model, mode=mode, **options)
    decode_ms: list[float] = []
    source = open_source(video)

    def timed() -> Iterator[Frame]:
        it = iter(source)
        while True:
            t0 = time.perf_counter()
            frame = next(it, None)
            if frame is None or (max_frames and frame.index >= max_frames):
                return
            decode_ms.append((time.perf_counter() - t0) * 1000)
            yield frame

    found = frames = 0
    start = time.perf_counter()
    for result in estimator.process(timed()):
        frames += 1
        found += len(result.poses) > 0
    seconds = time.perf_counter() - start
    source.close()
    per_frame = {k: float(np.sum(v)) / max(frames, 1) for k, v in estimator.times.ms.items()}
    stage_ms = {"decode": float(np.median(decode_ms)) if decode_ms else 0.0, **estimator.times.median()}
    return {
        "clip": str(video),
        "model": str(model),
        "mode": mode,
        "precision": options.get("precision", "f32"),
        "frames": frames,
        "frames_with_person": found,
        "seconds": seconds,
        "fps": frames / seconds if seconds else 0.0,
        "stage_ms": stage_ms,
        "stage_ms_per_frame": per_frame,
        "detections": len(estimator.times.ms.get("detect", [])),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
    }
