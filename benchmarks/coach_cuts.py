"""Cuts from the image against the old cuts from joints jumping, counting with the labelled exercise: the 11
clips of ../shared/data/exercise-videos and the WorkoutTracker clips of one split (dev unless told).

    python benchmarks/coach_cuts.py --cache DIR --workouts-cache DIR [--root WORKOUTS] [--split dev|test]

Per clip: the frames where each method finds a cut, the reps and the reps dropped as "the video cuts away".
The old method (the coach before issue 8, kept here only as the baseline) called a cut wherever the joints'
median step jumped over 0.08 torso lengths and 8 times its median over the last second.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

from coach_common import RESULTS, data_dir, sequence_for, write_results
from poseit.coach.analysis import analyze_body, detect_cuts
from poseit.coach.kinematics import Body, _quiet
from poseit.coach.library import get_exercise


def joint_jump_cuts(body: Body, jump: float = 0.08, ratio: float = 8.0) -> np.ndarray:
    """The pre-issue-8 rule: (T,) True where the whole body jumps."""
    names = [n for n in body.joints if n != "head"]
    pts = np.stack([body.j(n) for n in names], axis=1)
    cuts = np.zeros(len(body), dtype=bool)
    if len(body) < 2:
        return cuts
    with np.errstate(invalid="ignore"), _quiet():
        step = np.nanmedian(np.linalg.norm(np.diff(pts, axis=0), axis=-1), axis=1) / body.torso[1:]
    window = max(3, round(body.fps))
    for t in range(1, len(body)):
        s = step[t - 1]
        if not np.isfinite(s) or s < jump:
            continue
        recent = step[max(0, t - 1 - window) : t - 1]
        recent = recent[np.isfinite(recent)]
        cuts[t] = s > ratio * (float(np.median(recent)) if len(recent) else 0.0)
    return cuts


def compare(name: str, seq, exercise: str, true: int) -> dict:
    body = Body.from_sequence(seq)
    ex = get_exercise(exercise)
    row: dict = {"clip": name, "exercise": exercise, "true": true}
    image = detect_cuts(seq.frames, seq.fps, len(seq), body)
    for method, cuts in (("joints", joint_jump_cuts(body)), ("image", image)):
        result = analyze_body(body, ex, cuts)
        row[method] = {
            "cut_frames": [int(i) for i in np.flatnonzero(cuts)],
            "reps": len(result.reps),
            "dropped_as_cut": sum(p.partial_reason == "cut" for p in result.partials),
        }
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=None, help="keypoint cache of the ../shared clips")
    ap.add_argument("--workouts-cache", type=Path, default=None, help="keypoint cache of the WorkoutTracker clips")
    ap.add_argument("--root", type=Path, default=None, help="WorkoutTracker data folder ($POSEIT_WORKOUTS)")
    ap.add_argument("--split", choices=("dev", "test"), default="dev")
    ap.add_argument("--out", type=Path, default=RESULTS / "coach_cuts.json")
    args = ap.parse_args()
    rows = []
    shared = data_dir() / "exercise-videos"
    if (shared / "labels.csv").is_file():
        with open(shared / "labels.csv", newline="", encoding="utf-8") as f:
            for label in csv.DictReader(f):
                seq = sequence_for(shared / label["file"], cache=args.cache)
                rows.append({"set": "shared", **compare(label["file"], seq, label["exercise"], int(label["reps"]))})
    import coach_workouttracker as wt

    root = wt.workouts_root(args.root)
    if (root / "raw").is_dir():
        clips = wt.clips_of(root)
        splits = wt.split_of([k for k, _, _ in clips])
        for key, video, labels in clips:
            true, _ = wt.count_used(key, labels)
            if splits[key] != args.split or true is None:
                continue
            seq = sequence_for(video, cache=args.workouts_cache)
            rows.append(
                {"set": f"workouttracker-{args.split}", **compare(key, seq, wt.EXERCISES[key.split("/")[0]], true)}
            )
    print(f"{'clip':52s} {'true':>4s}  joints: reps dropped cuts  |  image: reps dropped cuts")
    for r in rows:
        j, i = r["joints"], r["image"]
        print(
            f"{r['clip'][-52:]:52s} {r['true']:4d}  {j['reps']:4d} {j['dropped_as_cut']:4d} "
            f"{j['cut_frames'][:5]!s:24s} | {i['reps']:4d} {i['dropped_as_cut']:4d} {i['cut_frames'][:5]}"
        )
    summary = {}
    for group in sorted({r["set"] for r in rows}):
        chosen = [r for r in rows if r["set"] == group]
        summary[group] = {
            method: {
                "clips": len(chosen),
                "clips_with_a_cut": sum(bool(r[method]["cut_frames"]) for r in chosen),
                "reps_dropped_as_cut": sum(r[method]["dropped_as_cut"] for r in chosen),
                "exact": sum(r[method]["reps"] == r["true"] for r in chosen),
            }
            for method in ("joints", "image")
        }
        for method, s in summary[group].items():
            print(
                f"{group:22s} {method:6s}: {s['clips_with_a_cut']}/{s['clips']} clips with a cut, "
                f"{s['reps_dropped_as_cut']} reps dropped as cut, {s['exact']}/{s['clips']} exact"
            )
    write_results(args.out, {"summary": summary, "clips": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
