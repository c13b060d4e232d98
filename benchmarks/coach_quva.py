"""Class-agnostic repetition counting (``--exercise any``) on the QUVA clips in ../shared/data/quva, end to
end: BlazePose full (tracking) -> periodicity of the pose, fused with the periodicity of the pixels (image
features from the same pass).

    python benchmarks/coach_quva.py [--cache DIR] [--out benchmarks/results/coach_quva.json]

Metrics: MAE = mean |count - true| / true, OBO = share of clips within +-1 of the true count (true count =
number of annotated repetition ends), on the dev and test split separately. The split is fixed by a hash of
the video name (`DEV`); every parameter of the pixel counter and the fusion was chosen on the dev videos
only. Also prints the pose and pixel counts with their confidences, and what ``auto`` picks and counts.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

from coach_common import RESULTS, data_dir, sequence_for, write_results
from poseit.coach.analysis import analyze


def split(name: str) -> str:
    """``dev`` or ``test``: the 9 QUVA videos sorted by sha1("quva-split|" + stem), the first 5 are dev."""
    return "dev" if name in DEV else "test"


def _key(stem: str) -> str:
    return hashlib.sha1(f"quva-split|{stem}".encode()).hexdigest()


QUVA = (
    "013_weights_floor",
    "020_fitness",
    "022_fitness",
    "028_bar_lift",
    "030_bar_lift",
    "033_hometrainer",
    "038_monkey_bars",
    "060_jumping_rope",
    "093_core_strength",
)
DEV = frozenset(sorted(QUVA, key=_key)[:5])  # 038_monkey_bars, 020_fitness, 060_jumping_rope, 013_weights_floor,
# 022_fitness; test: 033_hometrainer, 030_bar_lift, 093_core_strength, 028_bar_lift


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
    head = ("video", "split", "true", "any", "pose", "conf", "pixels", "conf", "period s", "found", "auto")
    print(f"{head[0]:22s} " + " ".join(f"{h:>6s}" for h in head[1:]) + " source auto exercise")
    for video in videos:
        true = len(np.load(root / "annotations" / f"{video.stem}.npy"))
        seq = sequence_for(video, args.model, args.cache)
        anything, auto = analyze(seq, "any"), analyze(seq, "auto")
        th, per = anything.thresholds, anything.periodicity or {}
        row = {
            "video": video.name,
            "split": split(video.stem),
            "true": true,
            "count": len(anything.reps),
            "source": per.get("source"),
            "pose_count": per.get("pose_count"),
            "pose_confidence": per.get("pose_confidence"),
            "pixel_count": per.get("pixel_count"),
            "pixel_confidence": per.get("pixel_confidence"),
            "cycles": th.get("cycles"),
            "period_s": th.get("period_s"),
            "person_found": float(seq.present.mean()),
            "auto_exercise": auto.exercise,
            "auto_count": len(auto.reps),
            "confidence": anything.confidence,
            "uncertain": anything.uncertain,
        }
        rows.append(row)
        print(
            f"{video.stem:22s} {row['split']:>6s} {true:6d} {row['count']:6d} {row['pose_count']:6d} "
            f"{row['pose_confidence']:6.2f} {row['pixel_count']:6d} {row['pixel_confidence']:6.2f} "
            f"{row['period_s'] or 0:6.2f} {row['person_found']:6.2f} {row['auto_count']:6d} {row['source']:6s} "
            f"{auto.exercise}{' (any: uncertain)' if anything.uncertain else ''}"
        )

    def metrics(key: str, part: str | None = None) -> dict:
        chosen = [r for r in rows if part is None or r["split"] == part]
        true = np.array([r["true"] for r in chosen], float)
        got = np.array([r[key] for r in chosen], float)
        return {
            "videos": len(chosen),
            "mae": float(np.mean(np.abs(got - true) / true)),
            "obo": float(np.mean(np.abs(got - true) <= 1)),
        }

    summary = {
        "videos": len(rows),
        "dev": sorted(DEV),
        **{
            f"{key}_{part}": metrics(col, part)
            for key, col in (
                ("any", "count"),
                ("auto", "auto_count"),
                ("pose", "pose_count"),
                ("pixels", "pixel_count"),
            )
            for part in ("dev", "test")
        },
        "any": metrics("count"),
        "auto": metrics("auto_count"),
        "model": args.model,
        "seconds": round(time.time() - t0, 1),
    }
    print()
    for key in ("any", "auto", "pose", "pixels"):
        d, t = summary[f"{key}_dev"], summary[f"{key}_test"]
        print(
            f"{key:6s}  dev ({d['videos']}): MAE {d['mae']:.3f} OBO {d['obo']:.2f}   "
            f"test ({t['videos']}): MAE {t['mae']:.3f} OBO {t['obo']:.2f}"
        )
    write_results(args.out, {"summary": summary, "videos": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
