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
import warnings

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


def _parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace | int:
    """The parsed arguments, or the exit status argparse chose (2 after a usage error, 0 after
    --help), returned rather than raised so that callers of `main` always get a status."""
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:  # argparse's own exits always carry an int status
        return exc.code if isinstance(exc.code, int) else 2


def _format_warning(message, category, filename, lineno, line=None) -> str:
    """A config warning as one line for the person at the terminal (``warning: ...``), without the
    source location Python adds; other warnings as Python formats them."""
    from rlvr.trainers.config import ConfigWarning

    if issubclass(category, ConfigWarning):
        return f"warning: {message}\n"
    return _python_format_warning(message, category, filename, lineno, line)


_python_format_warning = warnings.formatwarning


def main(argv: list[str] | None = None) -> int:
    warnings.formatwarning = _format_warning
    parser = build_parser()
    args = _parse(parser, argv)
    if isinstance(args, int):
        return args
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
