"""How far each form-rule signal can be trusted, per view: the typical disagreement between BlazePose full and
BlazePose heavy on the same frames of the dev clips (a second estimate of the same pose; its spread is a lower
bound on the error of either). Writes src/poseit/coach/uncertainty.toml, which the form rules read: a rule
speaks only where its measured fault exceeds the threshold by more than this uncertainty.

    python benchmarks/signal_uncertainty.py --cache .cache/coach --heavy-cache .cache/coach-heavy [--sets ...]

Per signal (combined as the rules combine it) and view (``front``, ``side``, ``oblique``, from the full model's
shoulder ratio): the median absolute difference over the frames where the exercise's posture holds and both
models give a value; a view with fewer than `MIN_FRAMES` such frames is not written (the rule then uses the
signal's ``any`` value, over all views). Dev clips only (`labelled_sets.py`; by default the ../shared ones, whose
form faults are labelled).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

import labelled_sets
from coach_common import ROOT, sequence_for
from poseit.coach.drive import posture_mask
from poseit.coach.kinematics import Body
from poseit.coach.library import library

OUT = ROOT / "src" / "poseit" / "coach" / "uncertainty.toml"
MIN_FRAMES = 300
VIEWS = ("front", "side", "oblique")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--heavy-cache", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--sets", nargs="+", default=["shared1", "shared2"], choices=labelled_sets.SETS)
    args = ap.parse_args()
    rules = {ex.id: ex for ex in library().values()}
    diffs: dict[tuple[str, str], list[np.ndarray]] = defaultdict(list)
    clips = labelled_sets.clips(args.sets, split="dev")
    for clip in clips:
        ex = rules.get(clip.exercise)
        if ex is None or not ex.rules:
            continue
        full = Body.from_sequence(sequence_for(clip.video, "blazepose-full", args.cache))
        heavy = Body.from_sequence(sequence_for(clip.video, "blazepose-heavy", args.heavy_cache))
        if len(full) != len(heavy):
            print(f"skip {clip.key}: {len(full)} vs {len(heavy)} frames", file=sys.stderr)
            continue
        views = full.views()
        ok = posture_mask(full, ex, unknown_ok=False)
        for rule in ex.rules:
            a = full.signal(rule.signal.name, rule.signal.combine)
            b = heavy.signal(rule.signal.name, rule.signal.combine)
            both = ok & np.isfinite(a) & np.isfinite(b)
            for view in VIEWS:
                here = both & (views == view)
                diffs[(rule.signal.name, view)].append(np.abs(a - b)[here])
            diffs[(rule.signal.name, "any")].append(np.abs(a - b)[both])
        print(f"{clip.key}: {len(full)} frames", flush=True)
    table: dict[str, dict[str, float]] = defaultdict(dict)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for (signal, view), parts in sorted(diffs.items()):
        values = np.concatenate(parts) if parts else np.zeros(0)
        if len(values) >= MIN_FRAMES:
            table[signal][view] = float(np.median(values))
            counts[signal][view] = len(values)
    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    lines = [
        "# Measured uncertainty of each form-rule signal per view: the median |BlazePose full - BlazePose heavy| over",
        f"# the dev clips' frames in the exercise's posture ({date}; benchmarks/signal_uncertainty.py). A rule speaks",
        "# only where its value is past the threshold by more than this (`poseit.coach.form`). Frames per entry in",
        "# the comment beside it; views with fewer than 300 frames are left out (the rule uses `any`).",
        "",
    ]
    for signal in sorted(table):
        lines.append(f"[{signal}]")
        for view in ("any", *VIEWS):
            if view in table[signal]:
                lines.append(f"{view} = {table[signal][view]:.4g}  # {counts[signal][view]} frames")
        lines.append("")
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
