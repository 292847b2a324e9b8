"""The errors a task source raises when a dataset or a generator cannot serve tasks, and the
hint every "unknown name" error of the envs gives (`did_you_mean`).

Their own module so that the readers of dataset files (`rlvr.envs.row_files`) and the task
sources (`rlvr.envs.tasks`, which re-exports them) can both raise them.
"""

from __future__ import annotations

import difflib
from typing import Iterable


class DatasetError(ValueError):
    """A dataset cannot serve as a task source; the message names the problem and the fix."""


class GeneratorError(DatasetError):
    """A generator made a task that cannot be used (a bug in the generator, like a dataset row
    without an answer): the message names the env, the generator, the field and its value."""


def did_you_mean(unknown: Iterable[str], accepted: Iterable[str]) -> str:
    """The hints for misspelled names, one per name with a close accepted one:
    " (did you mean 'digits' for 'digit'?)"; "" when none is close."""
    accepted = list(accepted)
    close = {name: difflib.get_close_matches(str(name), accepted, n=1) for name in unknown}
    return "".join(f" (did you mean {match[0]!r} for {name!r}?)" for name, match in close.items() if match)
