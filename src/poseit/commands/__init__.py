"""``poseit`` subcommands, one module each. A module defines ``register(subparsers)``, which adds its
parser(s) and sets ``func`` to a function taking the parsed arguments and returning an exit code."""

from poseit.commands import analyze, bench, convert, distill, eval, models, run, serve, train

COMMAND_MODULES = [run, models, bench, eval, train, distill, convert, analyze, serve]
