"""Class-agnostic repetition counting (``--exercise any``) on the QUVA clips in ../shared/data/quva, end to
end: BlazePose full (tracking; a region search for people too small for the detector) -> periodicity counter.

    python benchmarks/coach_quva.py [--cache .cache/coach] [--out benchmarks/results/coach_quva.json]

Metrics: MAE = mean |count - true| / true, OBO = share of clips within +-1 of the true count (true count =
number of annotated repetition ends). Also prints what ``auto`` picks and counts.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from coach_common import RESULTS, data_dir, sequence_for, write_results
from poseit.coach.analysis import analyze


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=None, help="keep extracted keypoints here between runs")
    ap.add_argument("--model", default="blazepose-full")
    ap.add_argument("--out", type=Path, default=RESULTS / "coach_quva.json")
    args = ap.parse_args()
    root = data_dir() / "quva"
    videos = sorted((root / "videos").glob("*.mp4"))
    if not videos:
        print(f"coach_quva: no QUVA videos under {root} (set POSEIT_DATA)", file=sys.stderr)
        return 1
    rows, t0 = [], time.time()
    head = ("video", "true", "any", "cycles", "period s", "found", "auto")
    print(f"{head[0]:22s} " + " ".join(f"{h:>8s}" for h in head[1:]) + " auto exercise")
    for video in videos:
        true = len(np.load(root / "annotations" / f"{video.stem}.npy"))
        seq = sequence_for(video, args.model, args.cache)
        anything, auto = analyze(seq, "any"), analyze(seq, "auto")
        th = anything.thresholds
        row = {
            "video": video.name,
            "true": true,
            "count": len(anything.reps),
            "cycles": th.get("cycles"),
            "period_s": th.get("period_s"),
            "person_found": float(seq.present.mean()),
            "auto_exercise": auto.exercise,
            "auto_count": len(auto.reps),
        }
        rows.append(row)
        print(
            f"{video.stem:22s} {true:8d} {row['count']:8d} {row['cycles']:8.2f} {row['period_s'] or 0:8.2f} "
            f"{row['person_found']:8.2f} {row['auto_count']:8d} {auto.exercise}"
        )
    true = np.array([r["true"] for r in rows], float)

    def metrics(key: str) -> dict:
        got = np.array([r[key] for r in rows], float)
        return {"mae": float(np.mean(np.abs(got - true) / true)), "obo": float(np.mean(np.abs(got - true) <= 1))}

    summary = {
        "videos": len(rows),
        "any": metrics("count"),
        "auto": metrics("auto_count"),
        "model": args.model,
        "seconds": round(time.time() - t0, 1),
    }
    print(f"\nany:  MAE {summary['any']['mae']:.3f}  OBO {summary['any']['obo']:.3f}   ({len(rows)} videos)")
    print(f"auto: MAE {summary['auto']['mae']:.3f}  OBO {summary['auto']['obo']:.3f}")
    write_results(args.out, {"summary": summary, "videos": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
