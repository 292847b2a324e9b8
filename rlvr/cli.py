"""The `rlvr` command line.

Each subcommand lives in its own module under `rlvr/commands/` and exposes
`register(subparsers)`, which adds its parser and sets `func` to the function that runs it.
Subcommands are discovered from that folder so that adding one never touches this file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from rlvr import commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rlvr", description="Reinforcement learning of language models on verifiable rewards."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"rlvr.commands.{module_info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
