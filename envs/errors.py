"""The errors a task source raises when a dataset or a generator cannot serve tasks.

Their own module so that the readers of dataset files (`rlvr.envs.row_files`) and the task
sources (`rlvr.envs.tasks`, which re-exports them) can both raise them.
"""

from __future__ import annotations


class DatasetError(ValueError):
    """A dataset cannot serve as a task source; the message names the problem and the fix."""


class GeneratorError(DatasetError):
    """A generator made a task that cannot be used (a bug in the generator, like a dataset row
    without an answer): the message names the env, the generator, the field and its value."""
