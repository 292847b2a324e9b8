"""The `rlvr` command line.

Each subcommand lives in its own module under `rlvr/commands/` and exposes
`register(subparsers)`, which adds its parser and sets `func` to the function that runs it.
Subcommands are discovered from that folder so that adding one never touches this file.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import pkgutil
import select
import sys
import warnings

from rlvr import commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rlvr", description="Reinforcement learning of language models on verifiable rewards.",
        epilog="Exit status: each command's own, listed at the end of its --help (rlvr COMMAND --help); 0 after "
               "--help; 2 a usage error (no command, an unknown command or option); 130 interrupted; 141 stdout "
               "closed by its reader.",
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


#: The exit status after the reader of stdout went away (`rlvr benchmarks list | head -1`): what a
#: shell reports for a process killed by SIGPIPE (128 + 13), as for other Unix tools.
EXIT_BROKEN_PIPE = 141


def _stdout_is_broken() -> bool:
    """Whether stdout is a pipe whose reader has gone (poll reports an error on it): tells a closed
    `| head` from a broken pipe elsewhere (a server's socket), which is a real failure."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no descriptor (captured output): not a pipe
        return False


def _silence_stdout() -> None:
    """Point stdout's descriptor at /dev/null, so the flush at interpreter exit of what is still
    buffered does not fail again (Python would print "Exception ignored ..." and exit 120)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    """Run the command line `argv` (default: sys.argv[1:]) and return its exit status.

    Ctrl-C is 130 ("interrupted" on stderr); stdout closed by its reader (`| head`) is
    `EXIT_BROKEN_PIPE` (141), quietly, as the output nobody reads is no error."""
    warnings.formatwarning = _format_warning
    try:
        status = _main(argv)
        sys.stdout.flush()  # what is still buffered fails here, not in Python's exit flush
        return status
    except BrokenPipeError:
        if not _stdout_is_broken():
            raise
        _silence_stdout()
        return EXIT_BROKEN_PIPE


def _main(argv: list[str] | None) -> int:
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
        with contextlib.suppress(OSError):  # (stderr may be the pipe the same Ctrl-C just closed: `| tee`)
            print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
