"""A second look at the person: `PoseEstimator.refine_passes` (the landmark model again on the ROI its own
landmarks give) and `whole_frame_fallback` (where the face-based detector finds nobody, the whole frame, with
the pose flag deciding), old against new on every image set's dev and test split; ``poseit eval`` with the
default detector strategy, one process per run. The defaults were chosen on the dev splits (LSP train, LSP
Extended dev, MPII frames dev); the test splits report them.

    python benchmarks/eval_second_look.py [--models blazepose-full ...] [--sets lsp:train ...] [--variants ...]

Writes benchmarks/results/eval_second_look.json (every run's result, merged with earlier runs) and prints the
table. LSP Extended needs ``$POSEIT_LSP_EXT``, the MPII frames ``$POSEIT_MPII_IMAGES`` and ``$POSEIT_MPII_CSV``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
OUT = RESULTS / "eval_second_look.json"
DEV = ["lsp:train", "lsp-extended:dev", "mpii-csv:dev"]
VARIANTS = {
    "old": ["--refine-passes", "0", "--whole-frame-fallback", "off"],
    "refine": ["--refine-passes", "1", "--whole-frame-fallback", "off"],
    "refine2": ["--refine-passes", "2", "--whole-frame-fallback", "off"],
    "fallback": ["--refine-passes", "0", "--whole-frame-fallback", "on"],
    "both": ["--refine-passes", "1", "--whole-frame-fallback", "on"],
    "default": [],  # the model's own defaults
}


def run(model: str, dataset: str, split: str, extra: list[str]) -> dict:
    """One ``poseit eval`` run in its own process; its JSON result."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        cmd = [sys.executable, "-m", "poseit.cli", "eval", "--dataset", dataset, "--split", split, "--model", model]
        t0 = time.time()
        subprocess.run([*cmd, *extra, "--json", str(out), "--quiet"], check=True, stdout=subprocess.DEVNULL)
        result = json.loads(out.read_text())
    keep = ("mean", "per_group", "missed", "images", "pckh", "pck", "nobody", "unlabelled", "main", "people")
    return {k: result[k] for k in keep if k in result} | {"seconds": round(time.time() - t0, 1)}


def score(r: dict | None) -> str:
    if r is None:
        return "-"
    if "pckh" in r:
        return f"{r['pckh']:.1f} / {r['pck']:.1f} (nobody {r['nobody']:.1f}%, main {r['main']:.1f}%)"
    return f"{r['mean']:.1f} (missed {r['missed']})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["blazepose-full"])
    ap.add_argument("--sets", nargs="+", default=DEV, help="DATASET:SPLIT pairs (default: the dev splits)")
    ap.add_argument("--variants", nargs="+", default=["old", "refine", "fallback", "both"], choices=list(VARIANTS))
    args = ap.parse_args()
    results = json.loads(OUT.read_text()) if OUT.is_file() else {}
    runs = results.setdefault("runs", {})
    for model in args.models:
        for item in args.sets:
            dataset, split = item.split(":")
            for variant in args.variants:
                key = f"{model}|{item}|{variant}"
                runs[key] = run(model, dataset, split, VARIANTS[variant])
                runs[key]["measured"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
                print(f"{key}: {score(runs[key])}", flush=True)
                RESULTS.mkdir(exist_ok=True)
                OUT.write_text(json.dumps(results, indent=2))
    print("\n| model | set | " + " | ".join(args.variants) + " |")
    print("|---|---|" + "---|" * len(args.variants))
    for model in args.models:
        for item in args.sets:
            cells = [score(runs.get(f"{model}|{item}|{v}")) for v in args.variants]
            print(f"| {model} | {item} | " + " | ".join(cells) + " |")
    print("(LSP, LSP Extended: PCK@0.2; MPII frames: PCKh@0.5 / PCK@0.2)")


if __name__ == "__main__":
    main()
