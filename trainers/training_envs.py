"""The envs a training run samples from, built and checked from the config at start-up.

Each function reads one env (built by a rollout collector, :func:`probe_env`) or one setting, so that
a bad env id, keyword argument, turn limit or data offset is a :class:`~.config.ConfigError` naming
the setting when the run starts, not a traceback at step 1; and it reads what the trainer needs to
know about the env: its task source and prompt (which key the held-out questions), its dataset size,
its fingerprint (which a resume compares). Plain functions of what they are given, kept apart from
:mod:`.trainer` so that the training loop reads as the algorithm.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from rlvr.trainers.config import (
    ENV_KWARGS_RULES, Config, ConfigError, steady_render, training_env_kwargs, training_max_turns,
)
from rlvr.trainers.rollout import RolloutCollector
from rlvr.trainers.turn_limits import own_turn_limit
from rlvr.trainers.runs import say

__all__ = ["make_collector", "probe_env", "env_kwargs_of_run", "check_turn_limit", "training_task_source",
           "env_fingerprint", "eval_task_source"]


def make_collector(cfg: Config, engine: Any, tokenizer: Any, env_kwargs: dict[str, Any]) -> RolloutCollector:
    """A rollout collector of ``env.id`` built with ``env_kwargs``, sampling from ``engine``."""
    return RolloutCollector(engine, cfg.env.id, tokenizer, env_kwargs=env_kwargs,
                            chat_template=cfg.env.chat_template, max_turns=cfg.env.max_turns,
                            max_context_tokens=cfg.sampling.max_context_tokens)


def probe_env(collector: RolloutCollector, env_id: str, key: str, kwargs: dict[str, Any]) -> Any:
    """Build the collector's first env now, so a bad id or keyword argument is a ConfigError naming
    ``key`` at start-up rather than a traceback later."""
    try:
        return collector._envs(1)[0]
    except Exception as exc:
        raise ConfigError(
            f"{key}: cannot build {env_id} with kwargs {kwargs}: {type(exc).__name__}: {exc}; fix {key} "
            "(or env.id)"
        ) from exc


def env_kwargs_of_run(cfg: Config, probe: Any, env_rules: int) -> dict[str, Any]:
    """``env.kwargs`` with the trainer's defaults (:func:`~.config.training_env_kwargs` under
    ``env_rules``), read from the training env ``probe``. A run resumed from a checkpoint made before
    the defaults existed (``env_rules`` below :data:`~.config.ENV_KWARGS_RULES`) keeps its old
    settings (the fingerprint it was trained with), and is told so."""
    kwargs = training_env_kwargs(cfg, probe, env_rules)
    if env_rules < ENV_KWARGS_RULES and (
            kwargs != training_env_kwargs(cfg, probe)
            or (cfg.env.max_turns or 0) > own_turn_limit(probe)):
        say("resume: the run started under an older rlvr and keeps its env settings (the envs' own max_action_chars "
            "cap, env.max_turns lowered to the env's own limit); to take the current ones (no max_action_chars cap "
            "unless env.kwargs sets one, env.max_turns given to a multi-turn env), resume with --allow-config-change "
            "(the env fingerprint then changes)")
    return kwargs


def check_turn_limit(cfg: Config, env_rules: int, collector: RolloutCollector, key: str,
                     kwargs: Mapping[str, Any]) -> None:
    """Set the collector's ``max_turns`` from ``env.max_turns`` (:func:`~.config.training_max_turns`,
    for its first env), then check its turn limit: a ConfigError naming ``env.max_turns`` when the
    env (built with ``kwargs``, the setting ``key``) allows fewer turns (see :func:`~.turn_limits.check_max_turns`)."""
    collector.max_turns = training_max_turns(cfg, collector._envs(1)[0], env_rules)
    try:
        collector.turn_limit()
    except ValueError as exc:
        given = f"; {key}.max_turns={kwargs['max_turns']!r} sets the env's own limit" if "max_turns" in kwargs else ""
        raise ConfigError(f"env.max_turns: {exc}{given}") from exc


def training_task_source(cfg: Config, env: Any) -> tuple[Any, Callable[[Any], str] | None,
                                                         Callable[[Any], str] | None, int | None]:
    """What the training env ``env`` draws its tasks from: ``(source, prompt, render, size)``: its task
    source (None: an env without one), its ``make_prompt`` as it is, the same when it renders one
    prompt per task (:func:`~.config.steady_render`; else None: held-out keys digest the question
    text), and its dataset's size (None: an endless procedural source). An ``env.train_offset`` past
    the data, or a warm-up on a finite dataset, is a ConfigError."""
    source = getattr(env.unwrapped, "source", None)
    make_prompt = getattr(env.unwrapped, "make_prompt", None)
    prompt = make_prompt if callable(make_prompt) else None
    render, why = steady_render(prompt, source)
    if why and cfg.eval.num_tasks:
        say(f"eval: held-out questions of {cfg.env.id}: {why}")
    size = getattr(getattr(env.unwrapped, "source", None), "size", None)
    if size is not None and cfg.env.train_offset >= size:
        raise ConfigError(f"env.train_offset ({cfg.env.train_offset}) must be below the dataset's size ({size})")
    if size is not None and cfg.warmup.steps > 0:  # (it would fail with an IndexError once the model is built)
        raise ConfigError(
            f"warmup.steps={cfg.warmup.steps}: the supervised warm-up draws its tasks from an endless procedural "
            f"env (from index 5,000,000 on, apart from training and evaluation), but {cfg.env.id} has a dataset "
            f"of {size} tasks; set warmup.steps=0 (or warm the model up on a procedural env beforehand)")
    return source, prompt, render, size


def env_fingerprint(env: Any) -> dict[str, Any] | None:
    """``{"digest": ..., "record": ...}`` of the training env's fingerprint (what produced its tasks
    and rewards: data content, verifier, settings), or None for an env without one."""
    make = getattr(env.unwrapped, "fingerprint", None)
    if not callable(make):
        return None
    try:
        fp = make()
    except Exception:  # an env's own fingerprint method that fails: nothing to compare on resume
        return None
    digest = getattr(fp, "digest", None)
    if not isinstance(digest, str):
        return None
    record = fp.to_dict() if callable(getattr(fp, "to_dict", None)) else None
    return {"digest": digest, "record": record}


def eval_task_source(env: Any) -> tuple[Any, int | None, tuple[str, ...]]:
    """What the evaluation env ``env`` draws its tasks from: ``(source, size, settings)``: its task
    source (None: an env without one), its size (None: endless), and its difficulty settings (a
    procedural env's ``difficulty_keys``), named when its generator makes too few distinct questions."""
    source = getattr(env.unwrapped, "source", None)
    size = getattr(source, "size", None)
    keys = getattr(env.unwrapped, "difficulty_keys", ())
    return source, size, tuple(map(str, keys)) if isinstance(keys, (tuple, list)) else ()
