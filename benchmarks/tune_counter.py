"""Choose the cycle counter's knobs on dev clips: replay the counter alone over each clip's recorded input
(``coach_sets.py --dump DIR`` writes depth, posture and cuts per frame) for a grid of `CycleKnobs`, and print
the exact share and clips off by more than one per setting. Only dev dumps are read unless ``--split test``
is given (which a choice must never be made on).

    python benchmarks/tune_counter.py DIR [--split dev]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

from poseit.coach.counter import CycleKnobs, RepCounter
from poseit.coach.library import get_exercise

GRID = {
    "turn_share": (0.3, 0.4, 0.5, 0.6),
    "return_share": (0.5, 0.6, 0.7, 0.8),
    "min_amplitude": (0.3, 0.5, 0.7),
}


def replay(z, knobs: CycleKnobs) -> int:
    phases = get_exercise(str(z["exercise"])).phases
    counter = RepCounter(phases, knobs=knobs)
    depth, ok, cut, times = z["depth"], z["ok"], z["cut"], z["times"]
    for t in range(len(depth)):
        counter.update(t, float(times[t]), float(depth[t]), bool(ok[t]), bool(cut[t]))
    counter.finish()
    return counter.count


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dumps", type=Path)
    ap.add_argument("--split", default="dev")
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args()
    clips = [np.load(p) for p in sorted(args.dumps.glob("*.npz"))]
    clips = [z for z in clips if str(z["split"]) == args.split and get_exercise(str(z["exercise"])).phases]
    if not clips:
        print("tune_counter: no dumps for that split", file=sys.stderr)
        return 1
    results = []
    for values in itertools.product(*GRID.values()):
        knobs = CycleKnobs(**dict(zip(GRID, values, strict=True)))
        errors = [replay(z, knobs) - int(z["true"]) for z in clips]
        exact = sum(e == 0 for e in errors)
        far = sum(abs(e) > 1 for e in errors)
        results.append((exact, -far, values, errors))
    results.sort(key=lambda r: (r[0], r[1]), reverse=True)
    default = tuple(getattr(CycleKnobs(), k) for k in GRID)
    print(f"{len(clips)} {args.split} clips; knobs {', '.join(GRID)}")
    for exact, nfar, values, _errors in results[: args.top]:
        print(f"  {values}: exact {exact}/{len(clips)}, off by more than one {-nfar}")
    mine = next(r for r in results if r[2] == default)
    print(f"default {default}: exact {mine[0]}/{len(clips)}, off by more than one {-mine[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
