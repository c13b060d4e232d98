"""Rep counting on every labelled set, per split, with the two-threshold peer beside: ``poseit analyze``'s count
(the live coach run over the clip's frames), its confidence, and MediaPipe + AIGym's two-threshold counter
(`peer_counter.py`, read from benchmarks/results/peer_counts.json).

    POSEIT_WORKOUTS=DIR python benchmarks/coach_sets.py --cache .cache/coach [--sets shared1 shared2 workouttracker]
        [--split dev|test|all] [--model blazepose-full] [--strict] [--dump DIR] [--out FILE]

Sets and splits: `labelled_sets.py` (shared2's test half and nothing else is test). ``--dump DIR`` writes each
clip's counter input (depth, posture, cut per frame) for `tune_counter.py`, which replays the counter alone.
Results: benchmarks/results/coach_sets[_<model>].json (per clip and per set/split summaries).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import labelled_sets
from coach_common import RESULTS, by_set_and_split, run_meta, sequence_for, write_results
from poseit.coach.analysis import analyze


def peer_rows() -> dict[str, dict]:
    """``set:key`` -> the peer's row of benchmarks/results/peer_counts.json (`peer_counter.py`)."""
    path = RESULTS / "peer_counts.json"
    if not path.is_file():
        return {}
    rows = json.loads(path.read_text())["clips"]
    return {f"{r['set']}:{r['key']}": r for r in rows if r.get("peer") is not None}


def summarise(rows: list[dict], key: str = "reps") -> dict:
    n = len(rows)
    if not n:
        return {"clips": 0}
    exact = sum(r[key] == r["true"] for r in rows)
    far = sum(abs(r[key] - r["true"]) > 1 for r in rows)
    return {"clips": n, "exact": exact, "exact_rate": round(exact / n, 3), "off_by_more_than_one": far}


def confidence_summary(rows: list[dict]) -> dict:
    sure = [r for r in rows if not r["uncertain"]]
    unsure = [r for r in rows if r["uncertain"]]
    return {
        "certain": len(sure),
        "certain_exact": sum(r["reps"] == r["true"] for r in sure),
        "uncertain": len(unsure),
        "uncertain_exact": sum(r["reps"] == r["true"] for r in unsure),
        "wrong_and_certain": [r["key"] for r in sure if r["reps"] != r["true"]],
    }


def fit_confidence(rows: list[dict], l2: float = 1.0, target: float = 0.95) -> None:
    """Fit the confidence model's weights (`poseit.coach.confidence.WEIGHTS`) on these rows (dev only) by
    L2-regularised logistic regression (Newton's method), and the threshold: the lowest at which the counts
    said to be certain are exact at least ``target`` of the time. Prints both to paste into the module."""
    from poseit.coach.confidence import FEATURES

    rows = [r for r in rows if r["evidence"]]
    x = np.array([[1.0, *(r["evidence"][f] for f in FEATURES)] for r in rows])
    y = np.array([float(r["reps"] == r["true"]) for r in rows])
    w = np.zeros(x.shape[1])
    penalty = np.diag([0.0, *([l2] * len(FEATURES))])
    for _ in range(50):
        p = 1 / (1 + np.exp(-x @ w))
        grad = x.T @ (p - y) + penalty @ w
        hess = x.T @ (x * (p * (1 - p))[:, None]) + penalty + 1e-9 * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    p = 1 / (1 + np.exp(-x @ w))
    weights = tuple(round(float(v), 2) for v in w)
    print(f"\nconfidence fit on {len(rows)} clips ({int(y.sum())} exact): WEIGHTS = {weights}")
    for t in np.round(np.arange(0.3, 0.96, 0.05), 2):
        sure = p >= t
        rate = y[sure].mean() if sure.any() else float("nan")
        n_sure, n_unsure = int(sure.sum()), int((~sure).sum())
        print(f"  threshold {t:.2f}: certain {n_sure}, exact among them {rate:.3f}, uncertain {n_unsure}")
    ok = [t for t in np.round(np.arange(0.3, 0.96, 0.05), 2) if (p >= t).any() and y[p >= t].mean() >= target]
    print(f"  UNCERTAIN_BELOW = {ok[0] if ok else 'none reaches the target'}")
    bins = np.clip((p * 5).astype(int), 0, 4)
    for b in range(5):
        here = bins == b
        if here.any():
            print(f"  p in [{b / 5:.1f}, {(b + 1) / 5:.1f}): {int(here.sum())} clips, exact {y[here].mean():.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="+", default=list(labelled_sets.SETS), choices=labelled_sets.SETS)
    ap.add_argument("--split", default="dev", choices=("dev", "test", "all"))
    ap.add_argument("--cache", type=Path, default=None, help="keep extracted keypoints here between runs")
    ap.add_argument("--model", default="blazepose-full")
    ap.add_argument("--strict", action="store_true", help="competition-style no-rep rules")
    ap.add_argument("--dump", type=Path, default=None, help="write each clip's counter input here (.npz)")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--fit-confidence", action="store_true", help="fit the confidence model on these clips (dev)")
    args = ap.parse_args()
    if args.fit_confidence and args.split != "dev":
        ap.error("--fit-confidence fits on dev clips only")
    clips = labelled_sets.clips(args.sets, args.split)
    if not clips:
        print(f"coach_sets: no labelled clips found{labelled_sets.workouts_env_hint()}", file=sys.stderr)
        return 1
    peers = peer_rows()
    rows, t0 = [], time.time()
    print(f"{'set':14s} {'split':5s} {'clip':58s} {'exercise':13s} true reps part  conf peer")
    for clip in clips:
        seq = sequence_for(clip.video, args.model, args.cache)
        result = analyze(seq, clip.exercise, strict=args.strict)
        per = result.periodicity or {}
        row = {
            "set": clip.set,
            "split": clip.split,
            "key": clip.key,
            "exercise": clip.exercise,
            "true": clip.reps,
            "reps": len(result.reps),
            "partial_reps": len(result.partials),
            "confidence": result.confidence,
            "uncertain": result.uncertain,
            "evidence": result.evidence,
            "periodic_count": per.get("periodic_count"),
            "peer": peers.get(f"{clip.set}:{clip.key}", {}).get("peer"),
            "frames": len(seq),
            "frames_with_pose": int(seq.present.sum()),
            "peer_frames_with_pose": peers.get(f"{clip.set}:{clip.key}", {}).get("frames_with_pose"),
            "turn_frames": [r.turn for r in result.reps],
            "relative_depths": [round(r.relative_depth, 2) for r in result.reps],
            "form_issues": [f"rep {i.rep}: {i.message}" for i in result.issues],
        }
        rows.append(row)
        if args.dump is not None and result.depth is not None:
            args.dump.mkdir(parents=True, exist_ok=True)
            name = f"{clip.set}__{clip.key.replace('/', '__')}.npz"
            np.savez(
                args.dump / name,
                depth=result.depth,
                ok=result.active,
                cut=result.cuts,
                times=result.times,
                true=clip.reps,
                exercise=clip.exercise,
                split=clip.split,
                set=clip.set,
            )
        peer = "-" if row["peer"] is None else str(row["peer"])
        mark = "" if row["reps"] == row["true"] else " <-"
        print(
            f"{clip.set:14s} {clip.split:5s} {clip.key:58s} {clip.exercise:13s} {clip.reps:4d} {row['reps']:4d} "
            f"{row['partial_reps']:4d} {result.confidence or 0:5.2f} {peer:>4s}{mark}",
            flush=True,
        )
    summary = {}
    for name, group in by_set_and_split(rows, args.sets):
        with_peer = [r for r in group if r["peer"] is not None]
        summary[name] = {
            "poseit": summarise(group),
            "poseit_on_peer_clips": summarise(with_peer),
            "peer": summarise(with_peer, "peer"),
            "confidence": confidence_summary(group),
            "frames_with_pose": sum(r["frames_with_pose"] for r in group),
            "peer_frames_with_pose": sum(r["peer_frames_with_pose"] or 0 for r in with_peer),
            "frames": sum(r["frames"] for r in group),
        }
    for name, s in summary.items():
        p, q = s["poseit"], s["peer"]
        peer = f"peer {q['exact']}/{q['clips']} (off>1 {q['off_by_more_than_one']})" if q["clips"] else "peer -"
        c = s["confidence"]
        print(
            f"{name:22s} Pose-It! {p['exact']}/{p['clips']} exact (off>1 {p['off_by_more_than_one']}); {peer}; "
            f"uncertain {c['uncertain']} ({c['uncertain_exact']} exact), wrong but certain {c['wrong_and_certain']}"
        )
    meta = run_meta("coach_sets.py", t0, sys.argv[1:], model=args.model, strict=args.strict, split=args.split)
    if args.out is None:
        suffix = "" if args.model == "blazepose-full" else f"_{args.model}"
        args.out = RESULTS / f"coach_sets{suffix}{'_strict' if args.strict else ''}_{args.split}.json"
    write_results(args.out, {"meta": meta, "summary": summary, "clips": rows})
    if args.fit_confidence:
        fit_confidence(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
