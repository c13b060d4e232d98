"""LSP test PCK@0.2 of BlazePose lite/full/heavy in our engine (``poseit eval``, one process per run), with the
detector paddings in both orders (the pipeline's default is 0.25,0: padding first); writes
benchmarks/results/eval_lsp_*.json and prints the table.

    python benchmarks/eval_lsp_blazepose.py [--models ...] [--pads 0,0.25 0.25,0]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from poseit.evaluate.pck import format_table

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["blazepose-lite", "blazepose-full", "blazepose-heavy"])
    ap.add_argument("--pads", nargs="+", default=["0,0.25", "0.25,0"], help="detector paddings, tried in turn")
    args = ap.parse_args()
    RESULTS.mkdir(exist_ok=True)
    rows = {}
    for pads in args.pads:
        for model in args.models:
            out = RESULTS / f"eval_lsp_{model}_pads{pads.replace(',', '-')}.json"
            cmd = [
                sys.executable,
                "-m",
                "poseit.cli",
                "eval",
                "--dataset",
                "lsp",
                "--split",
                "test",
                "--model",
                model,
                "--detect-pads",
                pads,
                "--json",
                str(out),
                "--quiet",
            ]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            result = json.loads(out.read_text())
            rows[f"{model} (pads {pads}, missed {result['missed']})"] = result
    print(format_table(rows))


if __name__ == "__main__":
    main()
