"""LSP test PCK@0.2 of BlazePose lite/full/heavy in our engine (``poseit eval``, one process per run), with the
old default detector strategy (padded frame first, the detector's best score) and the new one (plain and padded
frame, the most prominent person on each, the one the landmark model is surer of; chosen on dev sets by
``eval_detector_strategy.py``); writes benchmarks/results/eval_lsp_MODEL_STRATEGY.json and prints the table.

    python benchmarks/eval_lsp_blazepose.py [--models ...] [--strategies old new]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from poseit.evaluate.pck import format_table

RESULTS = Path(__file__).resolve().parent / "results"
STRATEGIES = {
    "old": ["--detect-pads", "0.25,0", "--detect-retry", "nobody", "--choose-person", "score"],
    "plain-first": ["--detect-pads", "0,0.25", "--detect-retry", "nobody", "--choose-person", "score"],
    "new": [],  # the pipeline's default
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["blazepose-lite", "blazepose-full", "blazepose-heavy"])
    ap.add_argument("--strategies", nargs="+", default=["old", "new"], choices=list(STRATEGIES))
    args = ap.parse_args()
    RESULTS.mkdir(exist_ok=True)
    rows = {}
    for strategy in args.strategies:
        for model in args.models:
            out = RESULTS / f"eval_lsp_{model}_{strategy}.json"
            cmd = [sys.executable, "-m", "poseit.cli", "eval", "--dataset", "lsp", "--split", "test", "--model", model]
            cmd += [*STRATEGIES[strategy], "--json", str(out), "--quiet"]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            result = json.loads(out.read_text())
            rows[f"{model} ({strategy}, missed {result['missed']})"] = result
    print(format_table(rows))


if __name__ == "__main__":
    main()
