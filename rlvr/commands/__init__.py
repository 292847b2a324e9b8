"""Subcommands of the `rlvr` CLI, one module each (see rlvr/cli.py), and argument types they share."""

from __future__ import annotations

import argparse
import math


#: The longest `--timeout` any command takes, in seconds (a day, as the code sandbox's own limit):
#: past about 24 days the waits themselves fail (OverflowError), and no single job needs a day.
MAX_TIMEOUT_SECONDS = 86_400.0


def positive_seconds(text: str) -> float:
    """An argparse ``type`` for a time limit: a positive, finite number of seconds, at most
    `MAX_TIMEOUT_SECONDS`.

    Checked when the arguments are parsed, so a bad value is argparse's usage error (exit 2) naming
    the option, never a traceback (``nan``, ``inf``, ``3e6``) or a run judged under a limit that
    cannot be met (``-1``, ``0``)."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a timeout must be a number of seconds, got {text!r}") from None
    if not (seconds > 0 and math.isfinite(seconds)):
        raise argparse.ArgumentTypeError(f"a timeout must be positive and finite (seconds), got {text!r}")
    if seconds > MAX_TIMEOUT_SECONDS:
        raise argparse.ArgumentTypeError(f"a timeout must be at most {MAX_TIMEOUT_SECONDS:g} seconds (a day), "
                                         f"got {text!r}")
    return seconds


def non_negative_int(text: str) -> int:
    """An argparse ``type`` for a count that may be 0 (how many rows to show): a usage error
    (exit 2) for anything else, rather than ``-1`` slicing one row off a list."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return value
