"""Helpers shared by the coach benchmarks: where the shared data is, and pose extraction with an optional
cache (``--cache DIR`` keeps extracted keypoints between runs; without it every run uses the engine afresh)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from poseit.coach.sequence import PoseSequence, extract_poses

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def data_dir() -> Path:
    """``$POSEIT_DATA`` or ../shared/data beside the checkout."""
    return Path(os.environ.get("POSEIT_DATA", ROOT.parent / "shared" / "data"))


def sequence_for(video: Path, model: str = "blazepose-full", cache: Path | None = None) -> PoseSequence:
    """Keypoints of ``video`` from the engine (tracking mode), read from / written to ``cache`` when given.
    Cache key v6 (v6: upside-down fits looked at again upright, `PoseEstimator.prefer_upright`; v5: track
    starts refined, `PoseEstimator.refine_passes`; v4: sequences carry BlazePose world landmarks and per-frame
    image features); a model whose weights ship inside the package (the hourglass students) adds their
    sha256, so re-shipped weights are extracted afresh."""
    if cache is None:
        return extract_poses(video, model)
    key = hashlib.sha1(f"{video.resolve()}|{video.stat().st_size}|{model}|v6{weights_tag(model)}".encode())
    key = key.hexdigest()[:12]
    path = cache / f"{video.stem}-{key}.npz"
    if path.is_file():
        return PoseSequence.load(path)
    seq = extract_poses(video, model)
    seq.save(path)
    return seq


def weights_tag(model: str) -> str:
    """``|<sha256>`` of the weights of a model that ships inside the package, else "" (downloaded models are
    pinned by name: their cache keys stay as they were)."""
    from poseit.models.registry import MODELS

    spec = MODELS.get(model)
    if spec is None or not spec.artifact.shipped:
        return ""
    return f"|{spec.artifact.weights_sha256 or spec.artifact.sha256}"


def machine() -> str:
    """The CPU model and core count, for result files."""
    import platform
    import subprocess

    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        name = next((ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name")), "")
    except OSError:
        name = ""
    return f"{name or platform.processor()}, {os.cpu_count()} cores"


def run_meta(script: str, started: float, argv: list[str], **extra) -> dict:
    """The ``meta`` block of a result file: date, machine, duration and the command that reproduces it."""
    import datetime as dt
    import time

    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        **extra,
        "seconds": round(time.time() - started, 1),
        "command": " ".join(["python", f"benchmarks/{script}", *argv]),
    }


def by_set_and_split(rows: list[dict], sets: list[str]) -> list[tuple[str, list[dict]]]:
    """``("set/split", rows)`` for every set and split that has rows, in order."""
    out = []
    for name in sets:
        for split in ("dev", "test"):
            group = [r for r in rows if r["set"] == name and r["split"] == split]
            if group:
                out.append((f"{name}/{split}", group))
    return out


def write_results(path: Path, result: dict) -> None:
    """Write a benchmark's JSON result (creating its folder) and say where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")
