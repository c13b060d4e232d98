"""The ``poseit`` command line: parses arguments, calls the library, prints. Subcommands live in
`poseit.commands` (one module each). Errors the user can fix end in one line on stderr and a non-zero exit
(1: bad input or missing model, 2: bad arguments, 130: interrupted)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from poseit.errors import PoseItError


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("poseit")
    except PackageNotFoundError:
        return "dev"


def build_parser() -> argparse.ArgumentParser:
    from poseit.commands import COMMAND_MODULES

    ap = argparse.ArgumentParser(prog="poseit", description="Pose-It!: real-time pose estimation and coaching on CPU")
    ap.add_argument("--version", action="version", version=f"poseit {_version()}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except PoseItError as exc:
        print(f"poseit: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("poseit: interrupted; outputs written so far are complete", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
