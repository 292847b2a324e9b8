"""Subcommands of the `rlvr` CLI, one module each (see rlvr/cli.py), and argument types they share."""

from __future__ import annotations

import argparse
import math


def positive_seconds(text: str) -> float:
    """An argparse ``type`` for a time limit: a positive, finite number of seconds.

    Checked when the arguments are parsed, so a bad value is argparse's usage error (exit 2) naming
    the option, never a traceback (``nan``, ``inf``) or a run judged under a limit that cannot be
    met (``-1``, ``0``)."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a timeout must be a number of seconds, got {text!r}") from None
    if not (seconds > 0 and math.isfinite(seconds)):
        raise argparse.ArgumentTypeError(f"a timeout must be positive and finite (seconds), got {text!r}")
    return seconds
