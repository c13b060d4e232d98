"""``poseit convert``: a hourglass checkpoint (.pt), an ONNX file (ours or the seed's) or a Keras json+h5 (the
seed's) -> ONNX (checkpoints only), OpenVINO IR FP32 and FP16, and INT8 by NNCF calibrated on real images."""

from __future__ import annotations

import argparse
from pathlib import Path

FORMATS = ("onnx", "fp32", "fp16", "int8")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convert", help="convert a hourglass model to ONNX / OpenVINO FP32, FP16, INT8")
    p.add_argument("model", help="checkpoint .pt, .onnx, .xml, or a Keras .json (with --weights) / full-model .h5")
    p.add_argument("--weights", help="Keras weights .h5 for a model json")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--name", default="model", help="file stem (default model)")
    p.add_argument("--formats", default="onnx,fp32,fp16,int8", help="any of onnx, fp32, fp16, int8")
    p.add_argument("--calib-images", type=int, default=300, help="INT8 calibration crops (default 300)")
    p.add_argument("--calib-root", help="LSP folder for calibration crops (train split; default $POSEIT_DATA/lsp)")
    p.add_argument("--input-size", type=int, help="export a checkpoint at this resolution (default its own)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from poseit.commands.train import default_root
    from poseit.errors import PoseItError
    from poseit.train import require_torch

    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise PoseItError(f"unknown format(s) {', '.join(sorted(unknown))}; choose from {', '.join(FORMATS)}")
    out = Path(args.out)
    src = Path(args.model)
    from poseit.train import convert

    if src.suffix == ".pt":
        require_torch()
        from poseit.train.loop import load_checkpoint

        model, _ = load_checkpoint(src, args.input_size)
        onnx_path = convert.export_onnx(model, out / f"{args.name}.onnx")
        print(f"wrote {onnx_path}")
        src = onnx_path
    elif "onnx" in formats:
        print("onnx: the input is not a checkpoint; nothing to export")
    ov_model = convert.read_model(src, args.weights)
    if "fp32" in formats:
        print(f"wrote {convert.save_ir(ov_model, out / f'{args.name}_fp32.xml')}")
    if "fp16" in formats:
        print(f"wrote {convert.save_ir(ov_model, out / f'{args.name}_fp16.xml', fp16=True)}")
    if "int8" in formats:
        from poseit.train.datasets import load_lsp

        samples = load_lsp(args.calib_root or default_root("lsp"), "train")
        tensors = convert.calibration_tensors(samples, convert.input_layout(ov_model), args.calib_images)
        quantized = convert.quantize_int8(ov_model, tensors)
        print(f"wrote {convert.save_ir(quantized, out / f'{args.name}_int8.xml')} ({len(tensors)} calibration crops)")
    return 0
