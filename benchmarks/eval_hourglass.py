"""Accuracy of the shipped hourglass students in our engine (``poseit eval``, detector ROI, test splits, one
process per model file): FP32 (from ``train/ship_hourglass.py --fp32-dir``), FP16 and INT8 (the shipped files)
on LSP test (PCK@0.2) and, with ``--datasets``, the MPII camera frames (``mpii-csv``, PCKh@0.5) and LSP
Extended test (held out of training); writes benchmarks/results/eval_hg.json (with what each student was
converted from) and prints one table per dataset. The file keeps every model's latest result per set (each with
its date and the training stage of the weights measured) and the last run's tables.

    python benchmarks/eval_hourglass.py [--fp32-dir /tmp/poseit-fp32] [--models hg-tiny hg-mobile]
        [--variants fp32 int8] [--datasets lsp mpii-csv]
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from poseit.evaluate.pck import format_table
from poseit.models.manager import shipped_provenance

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def evaluate(model: str, dataset: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "eval.json"
        cmd = [sys.executable, "-m", "poseit.cli", "eval", "--dataset", dataset, "--split", "test", "--model", model]
        subprocess.run([*cmd, "--json", str(out), "--quiet"], check=True, stdout=subprocess.DEVNULL)
        return json.loads(out.read_text())


def machine() -> str:
    text = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    name = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Model name")), "?")
    return f"{name}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["hg-tiny", "hg-mobile"])
    ap.add_argument("--fp32-dir", type=Path, default=Path("/tmp/poseit-fp32"))
    ap.add_argument("--variants", nargs="+", default=["fp32", "fp16", "int8"])
    ap.add_argument("--datasets", nargs="+", default=["lsp"], help="lsp, mpii-csv, lsp-extended")
    args = ap.parse_args()
    tables, results = {}, {}
    state = shipped_provenance()  # the weights measured: read once, kept with every result
    for dataset, name, variant in ((d, n, v) for d in args.datasets for n in args.models for v in args.variants):
        rows = tables.setdefault(dataset, {})
        stem = name.replace("-", "_")
        model = {
            "fp32": str(args.fp32_dir / f"{stem}_fp32.xml"),
            "fp16": f"{name}-fp16",
            "int8": name,
        }[variant]
        if variant == "fp32" and not Path(model).is_file():
            print(f"skipping {name} FP32: {model} not found (train/ship_hourglass.py writes it)")
            continue
        result = evaluate(model, dataset)
        base = name.removesuffix("-flip")
        result["weights"] = state.get(base, {}).get("stage", "?")
        results[f"{dataset} {name} {variant}"] = result
        missed = result.get("missed", f"nobody {result.get('nobody', 0):.1f}%")
        rows[f"{name} {variant.upper()} (missed {missed})"] = result
        write(tables, results, state)  # after every run: a long benchmark interrupted keeps what it measured


def mpii_table(rows: dict[str, dict]) -> str:
    lines = ["| Model | PCKh@0.5 | PCK@0.2 | nobody % | unlabelled % | main % |", "|---|---|---|---|---|---|"]
    for name, r in rows.items():
        cells = [r[k] for k in ("pckh", "pck", "nobody", "unlabelled", "main")]
        lines.append(f"| {name} | " + " | ".join(f"{v:.1f}" for v in cells) + " |")
    return "\n".join(lines)


def write(tables: dict[str, dict], results: dict, state: dict) -> None:
    table = {d: mpii_table(rows) if d == "mpii-csv" else format_table(rows) for d, rows in tables.items() if rows}
    for d, t in table.items():
        print(f"{d} test\n{t}\n")
    run = {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "command": "python benchmarks/eval_hourglass.py " + " ".join(sys.argv[1:]),
        "training": state,
        "table": table,
    }
    path = RESULTS / "eval_hg.json"
    earlier = json.loads(path.read_text()) if path.is_file() else {}
    # every model and set measured so far, each result with the weights it was measured on; the last run's tables
    merged = {**earlier.get("results", {}), **{k: {**r, "date": run["date"]} for k, r in results.items()}}
    RESULTS.mkdir(exist_ok=True)
    path.write_text(json.dumps({**run, "results": merged}, indent=2))


if __name__ == "__main__":
    main()
