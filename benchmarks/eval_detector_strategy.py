"""Detector strategies (which looks the detector takes on an image, and which person it keeps) scored on
several sets at once, dev and test, with BlazePose (``poseit.detect.choose.DetectorStrategy``).

Protocol, fixed before anything was chosen: every default is chosen on the three dev sets together and
reported on the three test sets, which were not used to choose anything.

| set | dev (choose) | test (report) |
|---|---|---|
| LSP | train, images 1-1000 | test, 1001-2000 |
| LSP Extended | every 5th image of 1-5000 (1,000) | every 5th image of 5001-10000 (1,000) |
| MPII frames | images only in train_joints.csv (1,133) | images in test_joints.csv (205; all their people) |

LSP: PCK@0.2 (torso = right shoulder to left hip) over visible joints, as ``poseit eval``. MPII: PCKh@0.5 (head
size = head top to upper neck, about 0.6 x the MPII head box diagonal) and PCK@0.2 of the person the engine
chose, matched to the nearest labelled person, with the share of images where it chose nobody, somebody
unlabelled (no labelled person near) and the main (largest) labelled person (`poseit.evaluate.person`).
The images' detector and landmark outputs are computed once and cached (``--cache``, default
$POSEIT_CACHE or /work/extdata/cache/detstrat; never inside the repository), so every strategy is a selection
over the cache. Paths: see `poseit.evaluate.datasets.default_paths`.

    python benchmarks/eval_detector_strategy.py [--model blazepose-full] \
        [--other-models blazepose-lite blazepose-heavy] [--other-splits test]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from poseit.detect.choose import TILES, DetectorStrategy, surest
from poseit.evaluate.datasets import (
    LabelledImage,
    default_paths,
    group_by_image,
    load_lsp,
    load_lsp_extended,
    mpii_split,
)
from poseit.evaluate.person import score_images
from poseit.skeletons.mapping import convert_arrays
from strategy_cache import PAD, CachedImage, Candidate, build, landmarks_for, roi_key

RESULTS = Path(__file__).resolve().parent / "results"
MIN_PERSON_SCORE = 0.5  # BlazePose's pose flag: below it the engine reports nobody
SETS = {
    "dev": ("lsp-train", "lspext-dev", "mpii-dev"),
    "test": ("lsp-test", "lspext-test", "mpii-test"),
}

STRATEGIES: dict[str, DetectorStrategy] = {
    "padded first, top score (old default)": DetectorStrategy((PAD, 0.0), "nobody", "score"),
    "padded first, prominent": DetectorStrategy((PAD, 0.0), "nobody", "prominent"),
    "plain first, top score": DetectorStrategy((0.0, PAD), "nobody", "score"),
    "plain first, prominent": DetectorStrategy((0.0, PAD), "nobody", "prominent"),
    "pad on border, top score": DetectorStrategy((0.0, PAD), "border", "score"),
    "pad on border, prominent": DetectorStrategy((0.0, PAD), "border", "prominent"),
    "both, surer landmarks, top score": DetectorStrategy((0.0, PAD), "always", "score"),
    "both, surer landmarks, prominent (new default)": DetectorStrategy((0.0, PAD), "always", "prominent"),
}
OLD, NEW = "padded first, top score (old default)", "both, surer landmarks, prominent (new default)"


def load_set(name: str, paths: dict[str, Path]) -> list[LabelledImage]:
    if name.startswith("lspext"):
        samples = load_lsp_extended(paths["lsp-extended"], name.split("-")[1])
    elif name.startswith("lsp"):
        samples = load_lsp(paths["lsp"], name.split("-")[1])
    else:
        samples = mpii_split(paths["mpii-csv"], paths["mpii-images"], name.split("-")[1])
    return group_by_image(samples)


def options_of(strategy: DetectorStrategy, cached: CachedImage) -> tuple[list[Candidate], int]:
    """The options ``strategy`` leaves on a cached image, and how many detector looks it took (tiles: one)."""
    by_look = {PAD: cached.found("padded"), 0.0: cached.found("plain"), TILES: cached.found("tiles")}
    found: dict = {}
    looks = 0
    while (look := strategy.next_look(found, cached.width, cached.height)) is not None:
        found[look] = [c.detection for c in by_look[look]]
        looks += 1
    options = strategy.options(found, cached.width, cached.height)
    return [next(c for c in cached.candidates if c.detection is d) for d in options], looks


def simulate(
    strategy: DetectorStrategy, cached: CachedImage, other: dict | None = None
) -> tuple[Candidate | None, int, int]:
    """What the engine does with ``strategy`` on a cached image: the candidate it keeps, how many detector
    looks it took and how many landmark runs the choice took (the kept one included). ``other``: another
    landmark model's outputs on the options' ROIs (`strategy_cache.landmarks_for`) instead of the cached ones."""
    cands, looks = options_of(strategy, cached)
    if not cands:
        return None, looks, 0
    if other is not None:
        cands = [Candidate(c.source, c.detection, *other[cached.image, roi_key(c.detection.roi)]) for c in cands]
    return cands[surest([c.score for c in cands])], looks, len(cands)


def pose_of(cand: Candidate | None, skeleton: str) -> np.ndarray | None:
    if cand is None or cand.score < MIN_PERSON_SCORE:
        return None
    xy, _ = convert_arrays(cand.xy[None], cand.scores[None], "blazepose33", skeleton)
    return xy[0]


def evaluate(
    images: list[LabelledImage], cache: list[CachedImage], select: Callable[[CachedImage], Candidate | None]
) -> dict:
    preds = [pose_of(select(c), im.skeleton) for im, c in zip(images, cache, strict=True)]
    return score_images(images, preds)


def table(rows: dict[str, dict[str, dict]], sets: tuple[str, ...]) -> str:
    head = "| strategy | " + " | ".join(sets) + " | mean PCK@0.2 | looks / landmark runs |"
    lines = [head, "|---|" + "---:|" * (len(sets) + 2)]
    for name, per_set in rows.items():
        cells = []
        for s in sets:
            r = per_set[s]
            cell = f"{r['pck']:.1f}"
            if "pckh" in r:
                cell = f"{r['pckh']:.1f} / {r['pck']:.1f}"
            cell += f" ({r['nobody']:.1f}/{r['unlabelled']:.1f}/{r['main']:.0f})"
            cells.append(cell)
        mean = np.mean([per_set[s]["pck"] for s in sets])
        cost = per_set["cost"]
        runs = f"{cost['detector_looks_per_image']:.2f} / {cost['landmark_runs_per_image']:.2f}"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {mean:.1f} | {runs} |")
    return "\n".join(lines)


def score_other_model(model: str, split: str, paths: dict, base: str, cache_dir: Path) -> dict[str, dict]:
    """The old and the new default with another landmark model: the detector's finds come from the cache (the
    detector is the same), the landmark model runs on the options' ROIs."""
    rows: dict[str, dict] = {OLD: {}, NEW: {}}
    looks: dict[str, list[int]] = {OLD: [], NEW: []}
    runs: dict[str, list[int]] = {OLD: [], NEW: []}
    for set_name in SETS[split]:
        images = load_set(set_name, paths)
        cache = build([im.image for im in images], base, cache_dir / f"{set_name}_{base}.pkl")
        jobs: dict[str, list] = {}
        for name in rows:
            for c in cache:
                jobs.setdefault(c.image, []).extend(o.detection.roi for o in options_of(STRATEGIES[name], c)[0])
        other = landmarks_for(list(jobs.items()), model, cache_dir / f"{set_name}_{model}_rois.pkl")
        for name in rows:
            picks = [simulate(STRATEGIES[name], c, other) for c in cache]
            looks[name] += [n for _, n, _ in picks]
            runs[name] += [n for _, _, n in picks]
            by_image = {c.image: p for c, (p, _, _) in zip(cache, picks, strict=True)}
            rows[name][set_name] = evaluate(images, cache, lambda c, m=by_image: m[c.image])
    for name in rows:
        rows[name]["cost"] = {
            "detector_looks_per_image": float(np.mean(looks[name])),
            "landmark_runs_per_image": float(np.mean(runs[name])),
        }
    return rows


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next(ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        model = platform.processor() or "unknown"
    return f"{model}, {os.cpu_count()} cores"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="blazepose-full")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("POSEIT_CACHE", "/work/extdata/cache/detstrat")))
    ap.add_argument("--splits", nargs="+", default=["dev", "test"], choices=list(SETS))
    ap.add_argument("--json", type=Path, help="results JSON (default: results/eval_detector_strategy_MODEL.json)")
    ap.add_argument(
        "--other-models", nargs="*", default=[], help="also score these landmark models, old and new default only"
    )
    ap.add_argument("--other-splits", nargs="+", default=["test"], choices=list(SETS), help="for --other-models")
    args = ap.parse_args()
    paths = default_paths()
    results: dict = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "model": args.model,
        "command": "python " + " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "protocol": "choose on dev (lsp-train, lspext-dev, mpii-dev) together; report test",
        "splits": {},
    }
    for split in args.splits:
        rows: dict[str, dict[str, dict]] = {name: {} for name in STRATEGIES}
        looks: dict[str, list[int]] = {name: [] for name in STRATEGIES}
        runs: dict[str, list[int]] = {name: [] for name in STRATEGIES}
        for set_name in SETS[split]:
            images = load_set(set_name, paths)
            cache = build([im.image for im in images], args.model, args.cache / f"{set_name}_{args.model}.pkl")
            for name, strategy in STRATEGIES.items():
                picks = [simulate(strategy, c) for c in cache]
                looks[name] += [n for _, n, _ in picks]
                runs[name] += [n for _, _, n in picks]
                by_image = {c.image: p for c, (p, _, _) in zip(cache, picks, strict=True)}
                rows[name][set_name] = evaluate(images, cache, lambda c, m=by_image: m[c.image])
        for name in STRATEGIES:
            rows[name]["cost"] = {
                "detector_looks_per_image": float(np.mean(looks[name])),
                "landmark_runs_per_image": float(np.mean(runs[name])),
            }
        results["splits"][split] = rows
        print(f"\n{split}: {args.model}; LSP: PCK@0.2; MPII: PCKh@0.5 / PCK@0.2; "
              "(nobody % / unlabelled % / main person %)")  # fmt: skip
        print(table(rows, SETS[split]))
        for model in args.other_models if split in args.other_splits else []:
            other_rows = score_other_model(model, split, paths, args.model, args.cache)
            results["splits"][f"{split} {model}"] = other_rows
            print(f"\n{split}: {model} (detections from the {args.model} cache)")
            print(table(other_rows, SETS[split]))
    out = args.json or RESULTS / f"eval_detector_strategy_{args.model}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
