"""Form feedback scored against faults labelled by eye: precision (messages that are right) and recall (labelled
faults found) per exercise and rule, dev and test.

    python benchmarks/coach_form_eval.py --cache .cache/coach [--split dev|test|all] [--all-rules]

Labels: benchmarks/form_labels.csv (per labelled rep of the ../shared clips, each rule's fault ``present``,
``absent`` or ``not_judgeable``; protocol in form_labels.md). Each message of ``poseit analyze`` (the live
coach's) is matched to the labelled rep whose span holds the frame it points at; it is *right* where that rep's
fault is present, *wrong* where absent, *unjudgeable* where the view does not tell, and *off-rep* (wrong: a form
message on frames that are no rep) where no labelled rep holds it. "Rep not finished" messages (``partial_rep``)
are right where the attempt they speak of is not a labelled rep. ``--all-rules`` also runs the rules that are
off by default (to measure them). Results: benchmarks/results/coach_form_<split>.json.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from pathlib import Path

import labelled_sets
from coach_common import RESULTS, ROOT, run_meta, sequence_for, write_results
from poseit.coach.analysis import analyze
from poseit.coach.library import get_exercise

LABELS = ROOT / "benchmarks" / "form_labels.csv"


def read_labels() -> dict[str, list[dict]]:
    """file -> label rows."""
    out: dict[str, list[dict]] = defaultdict(list)
    with open(LABELS, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out[row["file"]].append(row)
    return out


def rep_of(rows: list[dict], frame: int) -> int | None:
    """The labelled rep whose span holds ``frame`` (None: none does)."""
    for r in rows:
        if int(r["rep"]) > 0 and int(r["start"]) <= frame <= int(r["end"]):
            return int(r["rep"])
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="dev", choices=("dev", "test", "all"))
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--model", default="blazepose-full")
    ap.add_argument("--all-rules", action="store_true", help="also the rules that are off by default")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    labels = read_labels()
    clips = [c for c in labelled_sets.clips(("shared1", "shared2"), args.split) if c.key in labels]
    if not clips:
        print("coach_form_eval: no labelled clips (../shared missing?)", file=sys.stderr)
        return 1
    per_rule: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    messages, t0 = [], time.time()
    for clip in clips:
        rows = labels[clip.key]
        exercise = get_exercise(clip.exercise)
        if args.all_rules:
            exercise = exercise.with_all_rules()
        result = analyze(sequence_for(clip.video, args.model, args.cache), exercise)
        verdict_of = {(int(r["rep"]), r["rule"]): r["verdict"] for r in rows}
        for (_rep, rule), verdict in verdict_of.items():
            if verdict == "present":
                per_rule[f"{clip.exercise}/{rule}"]["present"] += 1
        found = set()
        for issue in result.issues:
            key = f"{clip.exercise}/{issue.rule}"
            rep = rep_of(rows, issue.frame) if result.mode == "reps" else 0
            if issue.rule == "partial_rep":
                verdict = "right" if rep is None else "wrong"
            elif rep is None:
                verdict = "off-rep"
            else:
                label = verdict_of.get((rep, issue.rule), "not_judgeable")
                verdict = {"present": "right", "absent": "wrong"}.get(label, "unjudgeable")
                if label == "present":
                    found.add((rep, issue.rule))
            per_rule[key][verdict] += 1
            messages.append(
                {
                    "split": clip.split,
                    "file": clip.key,
                    "rep": issue.rep,
                    "labelled_rep": rep,
                    "frame": issue.frame,
                    "rule": issue.rule,
                    "message": issue.message,
                    "verdict": verdict,
                }
            )
        for _rep, rule in found:
            per_rule[f"{clip.exercise}/{rule}"]["found"] += 1
        print(f"{clip.split:5s} {clip.key:60s} {len(result.issues):3d} messages", flush=True)
    table = {}
    for key in sorted(per_rule):
        c = per_rule[key]
        right, wrong = c["right"], c["wrong"] + c["off-rep"]
        table[key] = {
            "messages": right + wrong + c["unjudgeable"],
            "right": right,
            "wrong": wrong,
            "off_rep": c["off-rep"],
            "unjudgeable": c["unjudgeable"],
            "precision": round(right / (right + wrong), 3) if right + wrong else None,
            "present": c["present"],
            "found": c["found"],
            "recall": round(c["found"] / c["present"], 3) if c["present"] else None,
        }
    right = sum(v["right"] for v in table.values())
    wrong = sum(v["wrong"] for v in table.values())
    total = {"messages": right + wrong + sum(v["unjudgeable"] for v in table.values()), "right": right, "wrong": wrong}
    total["precision"] = round(right / (right + wrong), 3) if right + wrong else None
    print(f"\n{'rule':34s} msgs right wrong unjudg precision present found")
    for key, v in table.items():
        prec = "-" if v["precision"] is None else f"{v['precision']:.2f}"
        print(
            f"{key:34s} {v['messages']:4d} {v['right']:5d} {v['wrong']:5d} {v['unjudgeable']:6d} {prec:>9s} "
            f"{v['present']:7d} {v['found']:5d}"
        )
    print(f"all rules: {total}")
    for m in messages:
        print(f"  [{m['verdict']:11s}] {m['file']} rep {m['rep']} (labelled {m['labelled_rep']}): {m['message']}")
    meta = run_meta("coach_form_eval.py", t0, sys.argv[1:], model=args.model, all_rules=args.all_rules)
    suffix = "_all_rules" if args.all_rules else ""
    out = args.out or RESULTS / f"coach_form_{args.split}{suffix}.json"
    write_results(out, {"meta": meta, "total": total, "rules": table, "messages": messages})
    return 0


if __name__ == "__main__":
    sys.exit(main())
