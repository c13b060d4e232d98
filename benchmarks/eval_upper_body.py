"""Upper-body frames (TV shows, video calls) cut from the MPII frames: PCP@0.5 of Pose-It!'s detector strategies
and second look against MediaPipe's own pipeline on the same frames (`poseit.evaluate.upper_body`).

    python benchmarks/eval_upper_body.py [--split dev|test] [--models blazepose-full ...] [--variants ...]
        [--mediapipe 1 2]

Ours: ``poseit eval --dataset mpii-upper`` in its own process per model and variant. MediaPipe:
benchmarks/mediapipe_peer.py in the peer environment (``make peer``), ``static_image_mode`` on the same frames
written as PNG files, its 33 landmarks mapped to MPII-16 by the same `poseit.skeletons.mapping` rules. Writes
benchmarks/results/eval_upper_body.json (merged with earlier runs) and prints the table. Needs
``$POSEIT_MPII_IMAGES`` and ``$POSEIT_MPII_CSV``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
OUT = RESULTS / "eval_upper_body.json"
PEER_PY = ROOT / ".venv-mediapipe" / "bin" / "python"
SECOND_LOOK_OFF = ["--refine-passes", "0", "--whole-frame-fallback", "off"]
VARIANTS = {
    "padded-first": ["--detect-pads", "0.25,0", "--detect-retry", "nobody", "--choose-person", "score",
                     *SECOND_LOOK_OFF],  # the default until 2026-12-01
    "plain-first": ["--detect-pads", "0,0.25", "--detect-retry", "nobody", "--choose-person", "score",
                    *SECOND_LOOK_OFF],
    "strategy": SECOND_LOOK_OFF,  # both looks, surer landmarks, prominent (2026-12-01), no second look
    "default": [],  # the model's own defaults
}  # fmt: skip
KEEP = ("pcp", "per_stick", "pckh", "nobody", "target", "frames")


def ours(model: str, split: str, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        cmd = [sys.executable, "-m", "poseit.cli", "eval", "--dataset", "mpii-upper", "--split", split]
        subprocess.run([*cmd, "--model", model, *extra, "--json", str(out), "--quiet"], check=True)
        result = json.loads(out.read_text())
    return {k: result[k] for k in KEEP}


def mediapipe(frames: list, complexity: int) -> dict:
    """MediaPipe's own pipeline (static image mode) on the frames, scored like ours."""
    from poseit.evaluate.upper_body import score_frames
    from poseit.io.sources import read_image
    from poseit.keypoints import Poses

    if not PEER_PY.is_file():
        raise SystemExit("the MediaPipe peer is missing: run `make peer` first")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "frames"
        folder.mkdir()
        for i, frame in enumerate(frames):
            cv2.imwrite(str(folder / f"{i:05d}.png"), frame.crop(read_image(frame.image)))
        out = Path(tmp) / "mp.jsonl"
        cmd = [str(PEER_PY), str(ROOT / "benchmarks" / "mediapipe_peer.py"), str(folder), "--static"]
        subprocess.run([*cmd, "--complexity", str(complexity), "--out", str(out)], check=True)
        lines = [json.loads(line) for line in out.read_text().splitlines()]
    preds = []
    for rec in (r for r in lines if not r.get("summary")):
        if rec["keypoints"] is None:
            preds.append(None)
            continue
        kps = np.asarray(rec["keypoints"], np.float32)
        poses = Poses(xy=kps[None, :, :2], scores=kps[None, :, 2], skeleton="blazepose33")
        preds.append(poses.to_skeleton("mpii16").xy[0])
    if len(preds) != len(frames):
        raise SystemExit(f"MediaPipe returned {len(preds)} frames for {len(frames)}")
    return {k: v for k, v in score_frames(frames, preds).items() if k in KEEP}


def cell(r: dict | None) -> str:
    if r is None:
        return "-"
    return f"{r['pcp']:.1f} (PCKh {r['pckh']:.1f}, nobody {r['nobody']:.1f}%, own {r['target']:.1f}%)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="dev", choices=("dev", "test"))
    ap.add_argument("--models", nargs="+", default=["blazepose-full"])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--mediapipe", nargs="*", type=int, default=[1, 2], help="MediaPipe complexities (none: skip)")
    args = ap.parse_args()
    results = json.loads(OUT.read_text()) if OUT.is_file() else {}
    runs = results.setdefault("runs", {})

    def record(key: str, result: dict) -> None:
        runs[key] = result | {"measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
        print(f"{key}: {cell(runs[key])}", flush=True)
        RESULTS.mkdir(exist_ok=True)
        OUT.write_text(json.dumps(results, indent=2))

    for model in args.models:
        for variant in args.variants:
            record(f"{model}|{args.split}|{variant}", ours(model, args.split, VARIANTS[variant]))
    if args.mediapipe:
        from poseit.evaluate.datasets import default_paths, mpii_split
        from poseit.evaluate.upper_body import upper_body_frames

        paths = default_paths()
        frames = upper_body_frames(mpii_split(paths["mpii-csv"], paths["mpii-images"], args.split))
        for complexity in args.mediapipe:
            record(f"mediapipe-{complexity}|{args.split}|static", mediapipe(frames, complexity))
    print(f"\n| {args.split} | PCP@0.5 (PCKh@0.5 of the upper-body joints, nobody, on the frame's own person) |")
    print("|---|---|")
    for key, r in runs.items():
        if f"|{args.split}|" in key:
            print(f"| {key} | {cell(r)} |")


if __name__ == "__main__":
    main()
