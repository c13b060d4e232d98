"""The labelled rep-counting sets every counting benchmark reads, with their fixed dev/test splits.

- ``shared1``: ../shared ``exercise-videos/labels.csv`` (11 clips). Everything here was developed on them: all dev.
- ``shared2``: ../shared ``exercise-videos/labels2.csv`` (16 clips from 8 repositories, added 2026-12-07). Split
  by repository *before anyone looked at the clips or their labels* (2026-12-08): the repositories sorted by the
  SHA-256 of their folder name, alternately dev and test (`shared2_split`). Thresholds are chosen on dev only.
- ``workouttracker``: calimiro-ai/WorkoutTracker clips (``$POSEIT_WORKOUTS``; counts as in
  ``coach_workouttracker.py``). Its test split was looked at several times before 2026-12-08, so all of it is dev.

A clip is a `Clip` (set, split, key, video path, exercise, true count). ``--sets`` options of the benchmarks take
these names.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from coach_common import data_dir

SETS = ("shared1", "shared2", "workouttracker")


@dataclass(frozen=True)
class Clip:
    """One labelled clip."""

    set: str
    split: str
    key: str  # the file as in its labels (``owner+repo/clip.mp4``, or ``squats/squat_3`` for WorkoutTracker)
    video: Path
    exercise: str
    reps: int
    view: str = ""


def shared2_split(repos: list[str]) -> dict[str, str]:
    """``dev`` / ``test`` per repository folder: sorted by SHA-256 of the name, alternately dev and test."""
    ordered = sorted(set(repos), key=lambda r: hashlib.sha256(r.encode()).hexdigest())
    return {r: ("test" if i % 2 else "dev") for i, r in enumerate(ordered)}


def _shared(name: str, labels: str) -> list[Clip]:
    root = data_dir() / "exercise-videos"
    path = root / labels
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    split = shared2_split([r["file"].split("/")[0] for r in rows]) if name == "shared2" else {}
    return [
        Clip(
            name,
            split.get(r["file"].split("/")[0], "dev"),
            r["file"],
            root / r["file"],
            r["exercise"],
            int(r["reps"]),
            r["view"],
        )
        for r in rows
    ]


def _workouttracker() -> list[Clip]:
    import coach_workouttracker as wt

    root = wt.workouts_root(None)
    if not str(root) or not (root / "raw").is_dir():
        return []
    out = []
    for key, video, labels in wt.clips_of(root):
        if not labels.is_file():
            continue
        true, _why = wt.count_used(key, labels)
        if true is not None:
            out.append(Clip("workouttracker", "dev", key, video, wt.EXERCISES[key.split("/")[0]], true))
    return out


def clips(sets: tuple[str, ...] | list[str] = SETS, split: str = "all") -> list[Clip]:
    """The clips of ``sets`` (those whose data is present), of one split (``dev``, ``test``) or ``all``."""
    found: list[Clip] = []
    for name in sets:
        if name == "shared1":
            found += _shared(name, "labels.csv")
        elif name == "shared2":
            found += _shared(name, "labels2.csv")
        elif name == "workouttracker":
            found += _workouttracker()
        else:
            raise SystemExit(f"unknown set {name!r}; known: {', '.join(SETS)}")
    return [c for c in found if split == "all" or c.split == split]


def workouts_env_hint() -> str:
    return "" if os.environ.get("POSEIT_WORKOUTS") else " (set POSEIT_WORKOUTS for the WorkoutTracker set)"
