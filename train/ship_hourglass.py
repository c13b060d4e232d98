"""Ship a trained hourglass student inside the package: convert its weights (``weights_fp16.pt``) with
``poseit convert`` to OpenVINO IR FP16 and NNCF INT8 in ``src/poseit/models/weights/`` (FP32 beside it in
``--fp32-dir`` for evaluation, not shipped), then rewrite the registry block of every shipped file with its
sha256. Run from the repository root:

    .venv/bin/python train/ship_hourglass.py train/checkpoints/s2-tiny-192/weights_fp16.pt --name hg-tiny --size 192
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

from poseit.models.manager import SHIPPED_PROVENANCE, shipped_provenance

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "src" / "poseit" / "models" / "weights"
REGISTRY = ROOT / "src" / "poseit" / "models" / "registry.py"
WHAT = {
    "hg-tiny": "hourglass tiny (2 stacks, depthwise, 128 channels)",
    "hg-mobile": "hourglass mobile (2 stacks, depthwise, 256 channels)",
}
SIZES = {"hg-tiny": 192, "hg-mobile": 256}  # default input sizes: those the shipped students were chosen at on dev


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def convert(weights: Path, name: str, size: int, fp32_dir: Path, calib: int) -> None:
    stem = name.replace("-", "_")
    poseit = [sys.executable, "-m", "poseit.cli", "convert", str(weights), "--input-size", str(size)]
    subprocess.run(
        [*poseit, "--out", str(WEIGHTS), "--name", stem, "--formats", "fp16,int8", "--calib-images", str(calib)],
        check=True,
    )
    (WEIGHTS / f"{stem}.onnx").unlink(missing_ok=True)
    subprocess.run([*poseit, "--out", str(fp32_dir), "--name", stem, "--formats", "fp32"], check=True)


def record_provenance(weights: Path, name: str, size: int) -> None:
    """Record what a shipped student was converted from in ``weights/hourglass.json``."""
    from poseit.train.loop import weights_info

    data = shipped_provenance()
    info = weights_info(weights)
    stage = weights.parent.name
    data[name] = {"source": str(weights), "stage": stage, "exported_at": size, "shipped": str(datetime.date.today())}
    data[name].update({k: v for k, v in info.items() if k != "run"}, run=info["run"])
    SHIPPED_PROVENANCE.write_text(json.dumps(data, indent=2) + "\n")


def exported_sizes() -> dict[str, int]:
    """The input size each shipped student was converted at (``hourglass.json``), else the default."""
    data = shipped_provenance()
    return {name: data.get(name, {}).get("exported_at", size) for name, size in SIZES.items()}


def registry_block() -> str:
    lines = []
    sizes = exported_sizes()
    for name in ("hg-tiny", "hg-mobile"):
        stem = name.replace("-", "_")
        for variant, suffix in (("int8", ""), ("fp16", "-fp16")):
            xml = WEIGHTS / f"{stem}_{variant}.xml"
            if not xml.is_file():
                continue
            what = f"{WHAT[name]}, {variant.upper()}"
            fields = [f'"{name}{suffix}"', f'"{xml.stem}"', str(sizes[name]), f'"{sha256(xml)}"']
            fields += [f'"{sha256(xml.with_suffix(".bin"))}"', f'"{what}"']
            lines.append("register(\n    _hourglass(\n" + "".join(f"        {f},\n" for f in fields) + "    )\n)")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("weights", type=Path, nargs="?", help="weights_fp16.pt (omit to only refresh the registry)")
    p.add_argument("--name", choices=sorted(SIZES), help="hg-tiny or hg-mobile")
    p.add_argument("--size", type=int, help=f"input size (default by name: {SIZES})")
    p.add_argument("--fp32-dir", type=Path, default=Path("/tmp/poseit-fp32"), help="where the FP32 IR goes")
    p.add_argument("--calib-images", type=int, default=300)
    args = p.parse_args()
    if args.weights:
        if not args.name:
            p.error("--name is required with weights")
        size = args.size or SIZES[args.name]
        convert(args.weights, args.name, size, args.fp32_dir, args.calib_images)
        record_provenance(args.weights, args.name, size)
    text = REGISTRY.read_text()
    start, end = "# HOURGLASS-REGISTRY (written by train/ship_hourglass.py)\n", "# END HOURGLASS-REGISTRY"
    new = re.sub(
        re.escape(start) + r".*?" + re.escape(end), lambda _: start + registry_block() + "\n" + end, text, flags=re.S
    )
    REGISTRY.write_text(new)
    print(registry_block())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
