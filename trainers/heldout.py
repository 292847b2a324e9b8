"""Which tasks the held-out evaluation scores, and which questions training must therefore skip.

A run evaluates on ``eval.num_tasks`` distinct questions that training never draws: a procedural
env's tasks from ``eval.offset`` on, a finite dataset's held-out tail (when the evaluation would read
the training data) or the first tasks of other data. The questions are known by keys
(:func:`~.config.question_key`), fixed when the run starts and kept by its checkpoints, since they
decide the training data. Plain functions of the inputs they name, kept apart from :mod:`.trainer`
so that the training loop reads as the algorithm.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Mapping

from rlvr.trainers.config import (
    HELDOUT_KEY, QUESTION_TEXT_KEY, Config, ConfigError, ConfigWarning, EvalConfig, check_task_ranges, distinct_tasks,
    question_key,
)
from rlvr.trainers.runs import say

__all__ = ["eval_reads_training_data", "eval_holdout", "held_out_tasks", "choose_held_out", "key_kind",
           "resumed_heldout_keys"]

#: How a resume names what held-out keys digest (a checkpoint's ``heldout_key``)
KEY_WORDS = {HELDOUT_KEY: "the prompt the model sees", QUESTION_TEXT_KEY: "their question text"}


def eval_reads_training_data(cfg: Config, dataset_size: int | None) -> bool:
    """A finite dataset whose eval env would read the training data (``eval.env_kwargs`` changes nothing)."""
    env = cfg.env
    return dataset_size is not None and {**env.kwargs, **cfg.eval.env_kwargs} == env.kwargs


def eval_holdout(cfg: Config, dataset_size: int | None) -> int:
    """How many tasks at the end of the training dataset are held out for evaluation: ``eval.num_tasks``
    when the evaluation would otherwise read the training data, else 0 (see :class:`~.config.EvalConfig`)."""
    num_tasks, env = cfg.eval.num_tasks, cfg.env
    if not num_tasks or not eval_reads_training_data(cfg, dataset_size):
        return 0
    if num_tasks >= dataset_size - env.train_offset:
        raise ConfigError(
            f"eval.num_tasks ({num_tasks}) would hold out the whole {dataset_size}-task training dataset; "
            "evaluate on another split (e.g. eval.env_kwargs: {split: test}) or lower eval.num_tasks"
        )
    say(f"eval: the last {num_tasks} of the {dataset_size} training tasks are held out of training "
         "for evaluation (set eval.env_kwargs, e.g. {split: test}, to evaluate on other data)")
    return num_tasks


def held_out_tasks(cfg: Config, num_tasks: int, *, dataset_size: int | None, holdout: int, eval_size: int | None,
                   eval_source: Any, render: Callable[[Any], str] | None,
                   settings: tuple[str, ...]) -> tuple[list[int], list[str]]:
    """The indices of ``num_tasks`` evaluation tasks with distinct questions, and their question
    keys: procedural envs from ``eval.offset`` on, skipping an index whose question repeats one
    taken (task i is made from seed i: a small task space repeats itself); finite data its
    held-out tail (the last ``holdout`` of ``dataset_size``) or, for other data
    (``eval.env_kwargs``), its first tasks, without repeats. An env without a task source
    (``eval_source``) gets plain indices and no keys (nothing to compare)."""
    e = cfg.eval
    if eval_size is None:
        start, stop = e.offset, None
    elif eval_reads_training_data(cfg, dataset_size):
        if not holdout:
            raise ValueError(
                "evaluating on the training dataset needs tasks held out of training, which a run sets aside "
                "only when it starts with eval.num_tasks > 0; set eval.env_kwargs (e.g. {split: test}) to "
                "evaluate on other data")
        source_size = dataset_size - holdout
        start, stop = source_size, source_size + min(num_tasks, holdout)
    else:
        start, stop = 0, min(num_tasks, eval_size)
    if eval_source is None or not callable(getattr(eval_source, "get", None)):
        return list(range(start, stop if stop is not None else start + num_tasks)), []
    return distinct_tasks(eval_source, start, num_tasks, stop=stop, render=render, settings=settings)


def choose_held_out(cfg: Config, *, dataset_size: int | None, holdout: int, eval_size: int | None, eval_source: Any,
                    render: Callable[[Any], str] | None,
                    settings: tuple[str, ...]) -> tuple[list[int], frozenset[str]]:
    """The run's held-out evaluation set of ``eval.num_tasks`` (:func:`held_out_tasks`): its task
    indices and question keys, saying so when repeated questions were skipped to make it."""
    e = cfg.eval
    if eval_size is None and dataset_size is None:  # indices first: the plainer mistake
        check_task_ranges(cfg)
    if eval_size is not None and e.offset != EvalConfig.offset:  # a setting that would choose nothing
        tail = (f"the last {holdout} of the training dataset's tasks" if eval_reads_training_data(cfg, dataset_size)
                else "the first tasks of the evaluation data")
        warnings.warn(ConfigWarning(
            f"eval.offset={e.offset} is ignored: it places a procedural env's held-out tasks, and this run "
            f"evaluates on data, whose held-out tasks are {tail}; remove eval.offset "
            "(or choose the evaluation data with eval.env_kwargs, e.g. {split: test})"))
    indices, keys = held_out_tasks(cfg, e.num_tasks, dataset_size=dataset_size, holdout=holdout, eval_size=eval_size,
                                   eval_source=eval_source, render=render, settings=settings)
    if indices and eval_size is None and indices[-1] - e.offset + 1 > len(indices):
        say(f"eval: {len(indices)} held-out questions, all distinct: tasks {e.offset}..{indices[-1]} "
            f"less {indices[-1] - e.offset + 1 - len(indices)} that repeat an earlier question; "
            "training and the warm-up skip every task with one of these questions")
    elif eval_size is not None and len(indices) < e.num_tasks:
        held = holdout if eval_reads_training_data(cfg, dataset_size) else eval_size
        say(f"eval: eval.num_tasks={e.num_tasks}, but the evaluation data holds {len(indices)} distinct "
            f"questions (of {min(held, e.num_tasks)} tasks" + (
                ", less those whose question repeats an earlier one)" if held >= e.num_tasks else ")")
            + f"; each evaluation scores those {len(indices)}")
    return indices, frozenset(keys)


def key_kind(render: Callable[[Any], str] | None) -> str:
    """What a run's held-out keys digest (:data:`~.config.HELDOUT_KEY` or
    :data:`~.config.QUESTION_TEXT_KEY`), recorded in checkpoints: the prompt when the training env
    renders one prompt per task (``render``), else the question text."""
    return HELDOUT_KEY if render is not None else QUESTION_TEXT_KEY


def _keys_as(kind: str, eval_source: Any, indices: list[int], prompt: Callable[[Any], str] | None) -> list[str]:
    """The keys of the questions evaluated now (``indices``) made the ``kind`` way (a checkpoint's)."""
    if not callable(getattr(eval_source, "get", None)):
        return []
    render = prompt if kind == HELDOUT_KEY else None
    return [question_key(eval_source.get(i), render) for i in indices]


def resumed_heldout_keys(state: Mapping[str, Any], name: str, *, current: frozenset[str], step: int,
                         render: Callable[[Any], str] | None, prompt: Callable[[Any], str] | None,
                         eval_source: Any, indices: list[int]) -> tuple[frozenset[str], int | None]:
    """The held-out questions training skips on resume, and the step it skips them from
    (``heldout_since_step``): the checkpoint ``name``'s (its ``state``) and those evaluated now
    (``current``, at ``indices`` of ``eval_source``), so a lower ``eval.num_tasks`` still skips
    what the run skipped and a higher one (or evaluation added to a run that had none) skips its new
    questions too. A question evaluated now that the checkpoint did not hold out may have been trained
    on before: it is skipped from the resumed step on (``step + 1``, the latest such step; checkpoints
    keep it). With unchanged settings the set is the run's own, so the resumed run draws what the
    uninterrupted one did. Keys made another way (the question text, by a checkpoint without
    ``heldout_key`` or of an env whose prompts vary) are compared by making the current questions'
    keys that way (with the training env's ``prompt``); the run's other questions cannot be made out
    then, so training skips those evaluated now."""
    keys = state.get("heldout_keys")  # (None: a checkpoint from before questions were compared)
    since = state.get("heldout_since_step")
    since = None if since is None else int(since)
    if keys is None:
        if current:
            say(f"resume: {name} predates held-out questions (it records none), so steps 1..{step} may have "
                f"trained on some of the {len(current)} questions evaluated now; training skips them from step "
                f"{step + 1} on (summary: heldout_since_step)")
            since = step + 1
        return current, since
    keys, kind, own = frozenset(keys), state.get("heldout_key") or QUESTION_TEXT_KEY, key_kind(render)
    skipped = current
    if kind == own:
        new = len(current - keys)
        skipped = keys | current
        if keys - current:
            say(f"resume: training keeps skipping the run's {len(keys)} held-out questions, "
                f"{len(keys - current)} of them not evaluated now")
    else:
        new = sum(key not in keys for key in _keys_as(kind, eval_source, indices, prompt))
        say(f"resume: {name} keyed held-out questions by {KEY_WORDS.get(kind, kind)}, this run keys them by "
            f"{KEY_WORDS[own]}; training skips the {len(current)} questions evaluated now")
    if new:
        say(f"resume: {new} of the {len(current)} questions evaluated now were not held out of training by {name} "
            f"(it held out {len(keys)}: the evaluation settings changed), so steps 1..{step} may have trained on "
            f"them; training skips them from step {step + 1} on (summary: heldout_since_step)")
        since = step + 1
    return skipped, since
