"""Arguments shared by several subcommands."""

from __future__ import annotations

import argparse
from typing import Any


def add_runtime_args(p: argparse.ArgumentParser, default_model: str = "blazepose-full") -> None:
    from poseit.runtime import BACKENDS, HINTS, PRECISIONS

    p.add_argument(
        "--model", default=default_model, help="model name (see poseit models list) or a .tflite/.onnx/.xml file"
    )
    p.add_argument("--device", default="CPU", help="OpenVINO device: CPU, GPU, NPU or AUTO (default CPU)")
    p.add_argument("--precision", default="f32", choices=PRECISIONS, help="inference precision (default f32)")
    p.add_argument("--hint", default="latency", choices=HINTS, help="OpenVINO performance hint")
    p.add_argument("--backend", default="openvino", choices=BACKENDS, help="inference backend for the landmark model")
    p.add_argument("--threads", type=int, default=None, help="inference threads (default: all cores)")
    p.add_argument(
        "--seed",
        default="auto",
        choices=("auto", "detector", "whole-frame"),
        help="what starts a track: the BlazePose detector, the whole frame, or auto (the detector where it is "
        "pulled, else the whole frame)",
    )
    p.add_argument(
        "--refine-passes",
        type=int,
        default=None,
        help="landmark passes again on the ROI the landmarks give, where a person was just detected (default: "
        "the pipeline's)",
    )
    p.add_argument(
        "--whole-frame-fallback",
        choices=("on", "off"),
        default=None,
        help="where the detector finds nobody, look at the whole frame (default: the landmark model's)",
    )


def estimator_options(args: argparse.Namespace) -> dict[str, Any]:
    """`PoseEstimator` keyword options from the runtime arguments."""
    return {
        "device": args.device,
        "precision": args.precision,
        "hint": args.hint,
        "backend": args.backend,
        "num_threads": args.threads,
        "seed": args.seed,
    } | _given(args)


def _given(args: argparse.Namespace) -> dict[str, Any]:
    """The pipeline knobs given on the command line (others keep the pipeline's, i.e. the model's, defaults)."""
    out: dict[str, Any] = {}
    if getattr(args, "refine_passes", None) is not None:
        out["refine_passes"] = args.refine_passes
    if getattr(args, "whole_frame_fallback", None) is not None:
        out["whole_frame_fallback"] = args.whole_frame_fallback == "on"
    return out
