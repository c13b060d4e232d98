"""How closely a landmark model's video tracks follow the teacher's (BlazePose heavy, tracking) on the clips of
../shared: a video accuracy figure for the MPII-16 students, whose tracking knobs LSP's single images cannot
judge. Per clip: the share of frames where both found the person, the median joint error over those frames and
PCK@0.1 (joints within 0.1 of the teacher's body height: its MPII-16 joints' largest extent), on the MPII-16
joints the teacher maps to.

    python benchmarks/eval_video_agreement.py --models hg-tiny hg-mobile --cache DIR [--tag NAME]
        [--exclude jrplatin+FormFit/squat1.mp4]

``--cache`` keeps each model's keypoints (one sub-folder per model and ``--tag``: a code change needs its own
tag, the cache key knows only the weights). Writes benchmarks/results/eval_video_agreement.json (rows of other
models and tags kept). squat1 is held out by default, as in the coach's tests: the figure on the others is a
dev figure.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
from pathlib import Path

import numpy as np

from coach_common import RESULTS, data_dir, sequence_for
from coach_counting import read_labels
from poseit.skeletons.mapping import convert_arrays

TEACHER = "blazepose-heavy"


def agreement(student_xy: np.ndarray, teacher_xy: np.ndarray) -> dict[str, float]:
    """Share of the teacher's frames the student also found, median error and PCK@0.1 in teacher body heights over
    the frames both found."""
    n = min(len(student_xy), len(teacher_xy))
    s, t = student_xy[:n], teacher_xy[:n]
    s_found = np.isfinite(s).all(axis=-1).any(axis=-1)
    t_found = np.isfinite(t).all(axis=-1).any(axis=-1)
    both = s_found & t_found
    if not both.any():
        return {
            "frames": n,
            "both_found": 0.0,
            "teacher_found": float(t_found.mean()),
            "median_err": float("nan"),
            "pck_0.1": float("nan"),
        }
    height = np.nanmax(t[both], axis=1) - np.nanmin(t[both], axis=1)
    height = np.max(height, axis=1)[:, None]
    err = np.linalg.norm(s[both] - t[both], axis=-1) / height
    known = np.isfinite(err)
    return {
        "frames": n,
        "both_found": float(both.sum() / max(t_found.sum(), 1)),
        "teacher_found": float(t_found.mean()),
        "median_err": float(np.median(err[known])),
        "pck_0.1": float(np.mean(err[known] <= 0.1)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["hg-tiny", "hg-mobile"])
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--tag", default="main", help="the code variant the students' tracks come from")
    ap.add_argument("--exclude", action="append", default=["jrplatin+FormFit/squat1.mp4"])
    args = ap.parse_args()
    root = data_dir() / "exercise-videos"
    clips = [r["file"] for r in read_labels(root) if r["file"] not in args.exclude]
    out_path = RESULTS / "eval_video_agreement.json"
    results = json.loads(out_path.read_text()) if out_path.is_file() else {"rows": {}}
    (args.cache / TEACHER).mkdir(parents=True, exist_ok=True)
    teacher = {}
    for clip in clips:
        seq = sequence_for(root / clip, TEACHER, args.cache / TEACHER)
        teacher[clip] = convert_arrays(seq.xy, seq.scores, seq.skeleton, "mpii16")[0]
    for model in args.models:
        folder = args.cache / f"{model}-{args.tag}"
        folder.mkdir(parents=True, exist_ok=True)
        per_clip = {}
        for clip in clips:
            seq = sequence_for(root / clip, model, folder)
            per_clip[clip] = agreement(seq.xy, teacher[clip])
            print(model, args.tag, clip, {k: round(v, 3) for k, v in per_clip[clip].items()})
        summary = {
            k: float(np.nanmedian([c[k] for c in per_clip.values()])) for k in ("both_found", "median_err", "pck_0.1")
        }
        print(model, args.tag, "median over clips", {k: round(v, 3) for k, v in summary.items()})
        results["rows"][f"{model}|{args.tag}"] = {"summary": summary, "clips": per_clip}
    results["measured"] = f"{datetime.date.today()} on {platform.processor() or platform.machine()}"
    results["excluded"] = args.exclude
    out_path.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
