"""``poseit analyze``: count reps (or time a hold), check form and write a session report for a video."""

from __future__ import annotations

import argparse

from poseit.commands.common import add_runtime_args, estimator_options


def register(sub: argparse._SubParsersAction) -> None:
    from poseit.coach.library import library

    ids = ", ".join(library())
    p = sub.add_parser(
        "analyze",
        help="count reps, check form and write a report (summary.json, report.html, annotated.mp4)",
        description=f"Exercises: {ids}; 'auto' recognises the exercise, 'any' counts whatever repeats.",
    )
    p.add_argument("video", help="video file of one person exercising")
    p.add_argument("--exercise", default="auto", help=f"auto (default), any, one of: {ids}; or a .toml definition")
    p.add_argument("--report", required=True, metavar="DIR", help="folder for summary.json, report.html, annotated.mp4")
    p.add_argument("--no-video", action="store_true", help="skip annotated.mp4 (faster)")
    p.add_argument(
        "--strict", action="store_true", help="competition-style no-rep rules: the definition's depth must be reached"
    )
    p.add_argument("--poses", metavar="NPZ", help="save the extracted keypoints here (reuse them with --from-poses)")
    p.add_argument("--from-poses", metavar="NPZ", help="analyse keypoints saved by --poses (no model run)")
    add_runtime_args(p)
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from poseit.coach.analysis import analyze
    from poseit.coach.library import get_exercise
    from poseit.coach.report import write_report
    from poseit.coach.sequence import PoseSequence, extract_poses
    from poseit.errors import PoseItError

    if args.exercise not in ("auto", "any"):
        get_exercise(args.exercise)  # fail early on an unknown id
    video = Path(args.video)
    if not video.is_file():
        raise PoseItError(f"no such video: {video}")
    if args.from_poses:
        seq = PoseSequence.load(args.from_poses)
    else:
        seq = extract_poses(video, args.model, progress=not args.quiet, **estimator_options(args))
        if args.poses:
            seq.save(args.poses)
    analysis = analyze(seq, args.exercise, strict=args.strict)
    paths = write_report(analysis, seq, video, args.report, annotated=not args.no_video)
    if not args.quiet:
        s = analysis.summary()
        rec = s.get("recognition") or {}
        chosen = f" ({rec['requested']}: {rec['reason']})" if rec else ""
        if s["mode"] == "hold":
            print(f"{s['name']}: held {s['hold_s']:.1f} s{chosen}")
        else:
            print(f"{s['name']}: {count_text(s)}, {s['partial_reps']} partial{chosen}")
        for issue in s["form_issues"]:
            where = f"rep {issue['rep']}" if issue["rep"] else "hold"
            print(f"  [{issue['severity']}] {where} at {issue['time_s']:.1f} s: {issue['message']}")
        for path in paths.values():
            print(f"wrote {path}")
    return 0


def count_text(summary: dict) -> str:
    """``12 reps`` or, for a count below the confidence threshold, ``12 reps (uncertain: confidence 0.41)``."""
    text = f"{summary['reps']} reps"
    if summary.get("uncertain"):
        text += f" (uncertain: confidence {summary.get('confidence') or 0:.2f}; check the count)"
    return text
