"""Rep counting on the 11 hand-labelled clips of ../shared/data/exercise-videos (labels.csv), end to end:
BlazePose full (tracking) -> coach. Counts with the labelled exercise, with ``auto`` and with ``any``; compares
turn frames with the labels; lists the shot boundaries found in the image, the pixels' periodicity count (the
check every exercise gets) and the form feedback per clip.

    python benchmarks/coach_counting.py [--cache .cache/coach] [--out benchmarks/results/coach_counting.json]
    python benchmarks/coach_counting.py --model hg-mobile --cache CACHE --exclude jrplatin+FormFit/squat1.mp4

``--model`` runs another landmark model (results in ``coach_counting_<model>.json`` unless ``--out``);
``--exclude FILE`` (repeatable, as in labels.csv) leaves a clip out, e.g. one that a test holds out.

Without ``--cache`` the engine runs on every clip (about 2 minutes on 2 cores); with it, extracted keypoints
are kept between runs (delete the folder to start over).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

from coach_common import RESULTS, data_dir, sequence_for, write_results
from poseit.coach.analysis import analyze, person_jumps
from poseit.coach.frames import transitions
from poseit.coach.kinematics import Body


def read_labels(root: Path) -> list[dict]:
    with open(root / "labels.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def turn_errors(found: list[int], labelled: list[int]) -> list[int]:
    """Frame distance from each labelled turn to the nearest counted one."""
    return [min(abs(f - t) for f in found) for t in labelled] if found else []


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=None, help="keep extracted keypoints here between runs")
    ap.add_argument("--model", default="blazepose-full")
    ap.add_argument("--out", type=Path, default=None, help="results JSON (default: one file per model)")
    ap.add_argument("--exclude", action="append", default=[], help="a labels.csv file to leave out (repeatable)")
    args = ap.parse_args()
    if args.out is None:
        suffix = "" if args.model == "blazepose-full" else f"_{args.model}"
        args.out = RESULTS / f"coach_counting{suffix}.json"
    root = data_dir() / "exercise-videos"
    if not (root / "labels.csv").is_file():
        print(f"coach_counting: no labels at {root} (set POSEIT_DATA)", file=sys.stderr)
        return 1
    rows, t0 = [], time.time()
    print(
        f"{'clip':48s} {'exercise':13s} {'true':>4s} {'known':>5s} {'part':>4s} {'auto':>4s} {'auto exercise':13s} "
        f"{'any':>4s} {'turn err':>8s}"
    )
    for label in read_labels(root):
        if label["file"] in args.exclude:
            continue
        video = root / label["file"]
        seq = sequence_for(video, args.model, args.cache)
        known, auto, anything = analyze(seq, label["exercise"]), analyze(seq, "auto"), analyze(seq, "any")
        true = int(label["reps"])
        labelled_turns = [int(t) for t in label["rep_turn_frames"].split(";") if t]
        errors = turn_errors([r.turn for r in known.reps], labelled_turns)
        row = {
            "file": label["file"],
            "exercise": label["exercise"],
            "view": label["view"],
            "true_reps": true,
            "reps": len(known.reps),
            "partial_reps": len(known.partials),
            "hold_s": known.hold_s,
            "exact": len(known.reps) == true,
            "auto_exercise": auto.exercise,
            "auto_reason": (auto.recognition or {}).get("reason"),
            "auto_reps": len(auto.reps),
            "any_reps": len(anything.reps),
            "turn_frame_errors": errors,
            "shot_boundaries": [
                [d.start, d.end, d.kind]
                for d in (transitions(seq.frames, seq.fps, person_jumps(Body.from_sequence(seq))) if seq.frames else [])
            ],
            "partial_reasons": [p.partial_reason for p in known.partials],
            "pixel_check": known.periodicity,
            "form_issues": [
                {"rep": i.rep, "frame": i.frame, "rule": i.rule, "severity": i.severity, "message": i.message}
                for i in known.issues
            ],
        }
        rows.append(row)
        mean_err = f"{sum(errors) / len(errors):.1f}" if errors else "-"
        print(
            f"{label['file']:48s} {label['exercise']:13s} {true:4d} {row['reps']:5d} {row['partial_reps']:4d} "
            f"{row['auto_reps']:4d} {auto.exercise:13s} {row['any_reps']:4d} {mean_err:>8s}"
        )
    n = len(rows)
    summary = {
        "clips": n,
        "exact_known_exercise": sum(r["exact"] for r in rows),
        "off_by_more_than_one_known": sum(abs(r["reps"] - r["true_reps"]) > 1 for r in rows),
        "exact_auto": sum(r["auto_reps"] == r["true_reps"] for r in rows),
        "auto_exercise_matches_label": sum(r["auto_exercise"] == r["exercise"] for r in rows),
        "exact_any": sum(r["any_reps"] == r["true_reps"] for r in rows),
        "pixel_check_disagrees": sum(not (r["pixel_check"] or {}).get("agree", True) for r in rows),
        "model": args.model,
        "excluded": args.exclude,
        "seconds": round(time.time() - t0, 1),
    }
    s = summary
    print(
        f"\nexact counts with the labelled exercise: {s['exact_known_exercise']}/{n} "
        f"(off by more than one: {s['off_by_more_than_one_known']}); auto: {s['exact_auto']}/{n} "
        f"(exercise = label on {s['auto_exercise_matches_label']}/{n}); any: {s['exact_any']}/{n}"
    )
    print("\nshot boundaries (image) and partial reps; pixel periodicity check:")
    for r in rows:
        check = r["pixel_check"] or {}
        print(
            f"  {r['file']:48s} boundaries {r['shot_boundaries']} partial {r['partial_reasons']} "
            f"pixels {check.get('pixel_count')} (strength {check.get('pixel_strength')}, agree {check.get('agree')})"
        )
    print("\nform feedback (labelled exercise):")
    for r in rows:
        for i in r["form_issues"]:
            print(f"  {r['file']:48s} rep {i['rep']:2d} frame {i['frame']:4d} [{i['severity']}] {i['message']}")
    print()
    write_results(args.out, {"summary": summary, "clips": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
