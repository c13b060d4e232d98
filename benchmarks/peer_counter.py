"""The two-threshold rep counter on MediaPipe's own pose pipeline: the peer Pose-It!'s coach is reported beside.

What most open-source trainers and Ultralytics' AIGym do: one joint angle per exercise from a pose model, and a rep
whenever the angle has been above ``up_angle`` and then goes below ``down_angle``. Here the pose model is
MediaPipe's ``mp.solutions.pose`` (mediapipe==0.10.21, complexity 1 = full, tracking mode, smoothing on) run by
``benchmarks/mediapipe_peer.py`` in its own environment (``make peer`` creates .venv-mediapipe; MediaPipe never
enters .venv), on every labelled clip of ``labelled_sets.py``.

    POSEIT_WORKOUTS=/work/extdata/WorkoutTracker/data \\
        nice -n 10 .venv/bin/python benchmarks/peer_counter.py [--sets shared1 shared2 workouttracker] \\
        [--cache .cache/peer] [--out benchmarks/results/peer_counts.json]

MediaPipe's JSON Lines per clip are kept under ``--cache`` (key: clip path + size; delete to start over).

The counting logic is copied unchanged from Ultralytics' AIGym (``ultralytics/solutions/ai_gym.py``,
``AIGym.process``, ultralytics/ultralytics at commit 0019742; thresholds from ``ultralytics/cfg/solutions/
default.yaml``: ``up_angle: 145.0``, ``down_angle: 90``), per frame with a pose::

    if angle < down_angle:
        if stage == "up":
            count += 1
        stage = "down"
    elif angle > up_angle:
        stage = "up"

with ``stage`` starting at ``"-"``; the angle is AIGym's ``estimate_pose_angle`` (the absolute difference of the
two ``atan2`` directions from the middle keypoint, folded into 0-180 degrees). Frames without a pose change
nothing (AIGym skips a frame without a track). Deliberately not tuned: the same thresholds for every exercise,
the AIGym-style keypoint triplet per exercise (`TRIPLETS`) on the better-seen side (left or right, whichever
triplet has the higher mean MediaPipe visibility over the clip's frames with a pose). A hold (plank) counts 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from labelled_sets import Clip

ROOT = Path(__file__).resolve().parents[1]
PEER_PYTHON = ROOT / ".venv-mediapipe" / "bin" / "python"
PEER_SCRIPT = ROOT / "benchmarks" / "mediapipe_peer.py"
DEFAULT_CACHE = ROOT / ".cache" / "peer"
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "peer_counts.json"

UP_ANGLE = 145.0  # AIGym's default up_angle
DOWN_ANGLE = 90.0  # AIGym's default down_angle

# MediaPipe Pose's 33 landmarks: (left, right) index per joint
JOINTS = {
    "shoulder": (11, 12),
    "elbow": (13, 14),
    "wrist": (15, 16),
    "hip": (23, 24),
    "knee": (25, 26),
    "ankle": (27, 28),
}

# the AIGym-style angle per exercise (end, vertex, end); None: a hold, which the peer counts as 0 reps
TRIPLETS: dict[str, tuple[str, str, str] | None] = {
    "squat": ("hip", "knee", "ankle"),
    "lunge": ("hip", "knee", "ankle"),
    "pushup": ("shoulder", "elbow", "wrist"),
    "pullup": ("shoulder", "elbow", "wrist"),
    "dip": ("shoulder", "elbow", "wrist"),
    "curl": ("shoulder", "elbow", "wrist"),
    "shoulder_press": ("shoulder", "elbow", "wrist"),
    "situp": ("shoulder", "hip", "knee"),
    "deadlift": ("shoulder", "hip", "knee"),
    "jumping_jack": ("hip", "shoulder", "elbow"),
    "lateral_raise": ("hip", "shoulder", "elbow"),
    "plank": None,
}


def two_threshold_count(angles, up: float = UP_ANGLE, down: float = DOWN_ANGLE) -> int:
    """Reps in a sequence of angles (degrees; NaN = no pose, skipped), AIGym's state machine: below ``down``
    counts one if the stage was ``up`` and sets the stage ``down``; above ``up`` sets the stage ``up``."""
    stage, count = "-", 0
    for angle in angles:
        if angle is None or math.isnan(angle):
            continue
        if angle < down:
            if stage == "up":
                count += 1
            stage = "down"
        elif angle > up:
            stage = "up"
    return count


def pose_angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """AIGym's ``estimate_pose_angle`` on arrays of points (..., 2): the angle at ``b``, 0-180 degrees."""
    to_c = np.arctan2(c[..., 1] - b[..., 1], c[..., 0] - b[..., 0])
    rad = to_c - np.arctan2(a[..., 1] - b[..., 1], a[..., 0] - b[..., 0])
    angle = np.abs(np.degrees(rad))
    return np.where(angle > 180.0, 360.0 - angle, angle)


def read_peer(jsonl_path: str | Path) -> tuple[np.ndarray, dict]:
    """MediaPipe's landmarks of a clip, (frames, 33, 3) with NaN where no pose, and the summary line."""
    frames, summary = [], {}
    with open(jsonl_path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row.get("summary"):
                summary = row
            else:
                kps = row["keypoints"]
                frames.append(np.full((33, 3), np.nan) if kps is None else np.asarray(kps, dtype=float))
    return (np.stack(frames) if frames else np.zeros((0, 33, 3))), summary


def side_and_angles(kps: np.ndarray, exercise: str) -> tuple[str, np.ndarray]:
    """The better-seen side of the exercise's triplet and its angle per frame (NaN where no pose)."""
    triplet = TRIPLETS.get(exercise, "unknown")
    if triplet == "unknown":
        raise ValueError(f"no keypoint triplet for exercise {exercise!r}")
    if triplet is None or len(kps) == 0:
        return "-", np.full(len(kps), np.nan)
    posed = ~np.isnan(kps[:, 0, 0])
    best = None
    for s, side in enumerate(("left", "right")):
        idx = [JOINTS[j][s] for j in triplet]
        vis = float(np.mean(kps[posed][:, idx, 2])) if posed.any() else 0.0
        if best is None or vis > best[0]:
            best = (vis, side, idx)
    _, side, idx = best
    pts = kps[:, idx, :2]
    return side, pose_angle(pts[:, 0], pts[:, 1], pts[:, 2])


def peer_angles(jsonl_path: str | Path, exercise: str) -> np.ndarray:
    """The peer's angle per frame of a clip (degrees, better-seen side; NaN where MediaPipe found no pose)."""
    kps, _ = read_peer(jsonl_path)
    return side_and_angles(kps, exercise)[1]


def peer_jsonl(video: Path, cache: Path) -> Path:
    """MediaPipe's JSON Lines for ``video``, run once (``.venv-mediapipe``) and kept in ``cache``."""
    key = hashlib.sha1(f"{video.resolve()}|{video.stat().st_size}|mediapipe-0.10.21-c1".encode()).hexdigest()[:12]
    path = cache / f"{video.stem}-{key}.jsonl"
    if path.is_file():
        return path
    if not PEER_PYTHON.is_file():
        raise SystemExit(f"{PEER_PYTHON} missing: run `make peer`")
    cache.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".part")
    run = subprocess.run(
        [str(PEER_PYTHON), str(PEER_SCRIPT), str(video), "--complexity", "1", "--out", str(part)],
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        part.unlink(missing_ok=True)
        raise RuntimeError(f"mediapipe_peer failed on {video}: {run.stderr.strip().splitlines()[-1:]}")
    part.rename(path)
    return path


def peer_result(clip: Clip, cache: Path = DEFAULT_CACHE) -> dict:
    """The peer on one clip: count, side, frames, frames_with_pose (and the angle's range, MediaPipe's FPS)."""
    kps, summary = read_peer(peer_jsonl(Path(clip.video), Path(cache)))
    side, angles = side_and_angles(kps, clip.exercise)
    return {
        "count": two_threshold_count(angles),
        "side": side,
        "frames": len(kps),
        "frames_with_pose": int((~np.isnan(kps[:, 0, 0])).sum()) if len(kps) else 0,
        "angle_range": [round(float(np.nanmin(angles)), 1), round(float(np.nanmax(angles)), 1)]
        if np.isfinite(angles).any()
        else None,
        "mp_fps": round(summary.get("fps", 0.0), 1),
    }


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return ""
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return ""


def summarize(rows: list[dict]) -> dict:
    counted = [r for r in rows if r["peer"] is not None]
    return {
        "clips": len(rows),
        "exact": sum(r["peer"] == r["true"] for r in counted),
        "off_by_more_than_one": sum(abs(r["peer"] - r["true"]) > 1 for r in counted),
        "failed": len(rows) - len(counted),
        "frames": sum(r["frames"] for r in rows),
        "frames_with_pose": sum(r["frames_with_pose"] for r in rows),
    }


def main() -> int:
    import labelled_sets

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="+", default=list(labelled_sets.SETS), choices=labelled_sets.SETS)
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()

    found = labelled_sets.clips(args.sets)
    if not found:
        raise SystemExit("no labelled clips found" + labelled_sets.workouts_env_hint())
    rows = []
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for clip in found:
        row = {"set": clip.set, "split": clip.split, "key": clip.key, "exercise": clip.exercise, "true": clip.reps}
        try:
            res = peer_result(clip, args.cache)
            row |= {"peer": res["count"], "side": res["side"], "frames": res["frames"]}
            row |= {k: res[k] for k in ("frames_with_pose", "angle_range", "mp_fps")}
        except (RuntimeError, OSError) as err:
            row |= {"peer": None, "side": "-", "frames": 0, "frames_with_pose": 0, "error": str(err)}
            print(f"  {clip.key}: {err}", file=sys.stderr)
        rows.append(row)
        groups[(clip.set, clip.split)].append(row)

    summary: dict = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "peer": "MediaPipe mp.solutions.pose 0.10.21, complexity 1 (full), tracking, smoothing on",
        "counter": f"AIGym two-threshold: up_angle {UP_ANGLE:g}, down_angle {DOWN_ANGLE:g}, better-seen side",
        "sets": {},
    }
    for (name, split), group in groups.items():
        print(f"\n{name} / {split}")
        print(f"  {'clip':<58} {'exercise':<14} {'true':>4} {'peer':>4} {'side':<5} {'posed/frames':>13}  angle")
        for r in group:
            peer = "fail" if r["peer"] is None else r["peer"]
            posed = f"{r['frames_with_pose']}/{r['frames']}"
            rng = "" if not r.get("angle_range") else "{:.0f}-{:.0f}".format(*r["angle_range"])
            print(f"  {r['key']:<58} {r['exercise']:<14} {r['true']:>4} {peer:>4} {r['side']:<5} {posed:>13}  {rng}")
        s = summarize(group)
        summary["sets"][f"{name}/{split}"] = s
        print(
            f"  exact {s['exact']}/{s['clips']}, off by more than one {s['off_by_more_than_one']}"
            + (f", failed {s['failed']}" if s["failed"] else "")
            + f"; frames with a pose {s['frames_with_pose']}/{s['frames']}"
        )
    summary["all"] = summarize(rows)
    print(f"\n  {'set/split':<22} {'exact':>7} {'off >1':>6} {'posed/frames':>13}")
    for name, s in [*summary["sets"].items(), ("all", summary["all"])]:
        exact = f"{s['exact']}/{s['clips']}"
        print(f"  {name:<22} {exact:>7} {s['off_by_more_than_one']:>6} {s['frames_with_pose']:>6}/{s['frames']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "clips": rows}, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {os.path.relpath(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
