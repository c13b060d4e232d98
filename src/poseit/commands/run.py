"""``poseit run``: find and track poses in an image, folder, video, webcam or stream."""

from __future__ import annotations

import argparse

from poseit.commands.common import add_runtime_args, estimator_options


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="find and track poses in an image, folder, video, webcam or stream")
    p.add_argument(
        "source", nargs="?", default="0", help="image, folder, video, webcam index or stream URL (default: 0)"
    )
    add_runtime_args(p)
    p.add_argument(
        "--mode",
        choices=("auto", "track", "detect", "whole-frame"),
        default="auto",
        help="track (videos), detect (independent images), whole-frame (no detector); auto picks",
    )
    p.add_argument("--out-video", help="write an annotated video (mp4)")
    p.add_argument("--out-json", help="write JSON Lines, one line per frame")
    p.add_argument("--out-csv", help="write CSV, one row per person per frame")
    p.add_argument("--show", action="store_true", help="show a live window (desktop OpenCV builds)")
    p.add_argument("--no-smooth", action="store_true", help="turn off temporal smoothing")
    p.add_argument("--max-frames", type=int, default=None, help="stop after N frames")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument("--exercise", help="coach live: count reps and show feedback (an exercise id, auto or any)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from poseit.io.sources import FolderSource, ImageSource, open_source
    from poseit.pipeline import PoseEstimator
    from poseit.runner import check_display, run

    if args.show:
        check_display()
    source = open_source(args.source)
    mode = args.mode
    if mode == "auto":
        mode = "detect" if isinstance(source, (ImageSource, FolderSource)) else "track"
    estimator = PoseEstimator(args.model, mode=mode, smooth=not args.no_smooth, **estimator_options(args))
    coach = None
    if args.exercise:
        from poseit.coach.live import LiveCoach
        from poseit.commands.analyze import count_text

        coach = LiveCoach(args.exercise, estimator.skeleton, source.fps)
    with source:
        summary = run(
            source,
            estimator,
            out_video=args.out_video,
            out_json=args.out_json,
            out_csv=args.out_csv,
            show=args.show,
            progress=not args.quiet,
            max_frames=args.max_frames,
            on_frame=coach,
        )
    if coach is not None:
        coach.close()
    if not args.quiet:
        found = summary.frames_with_person
        print(f"{summary.frames} frames, person found on {found}, {summary.fps:.1f} FPS end to end")
        if coach is not None:
            done = coach.summary()
            held = f", held {done['hold_s']:.1f} s" if done["hold_s"] is not None else ""
            print(f"coach ({done['exercise']}): {count_text(done)}, {done['partial_reps']} partial{held}")
        for path in summary.outputs:
            print(f"wrote {path}")
    return 0
