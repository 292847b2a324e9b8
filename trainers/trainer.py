"""The RL training loop (GRPO / DAPO family), readable top to bottom.

One step of :meth:`Trainer.step`:

1. **Rollouts.** Draw the next ``batch_groups`` tasks, sample ``group_size`` episodes each with the
   engine (token in / token out, :mod:`.rollout`). With dynamic sampling, groups without learning
   signal (all rewards equal; with ``mask_truncated``, no sample the loss sees with a non-zero
   advantage) are dropped and more are generated, within a budget of extra rounds
   (:func:`~.dynamic_sampling.fill_batch`); when the budget runs out the step trains on what it has
   and says so. Episodes whose verification failed for infrastructure reasons are retried, then the
   run stops with a clear error: they are never trained on as zero reward.
2. **Rewards.** The env's reward, plus DAPO's soft overlong punishment when asked.
3. **Log-probs.** The engine's sampling log-probs serve as the "old" policy when the batch is used
   for a single optimisation pass (they are equal to the trainer's up to numerics); otherwise they are
   recomputed. A reference model is loaded and scored only when ``kl_coef > 0``.
4. **Advantages** by the chosen estimator (:mod:`.advantages`), KL in the reward if asked.
5. **Update.** ``epochs`` passes over ``mini_batches`` mini-batches, each split into micro-batches
   for gradient accumulation; clipped policy loss (:func:`~.losses.policy_loss`) with the chosen
   aggregation, KL in the loss, entropy bonus, truncated importance sampling; gradient clipping. A
   non-finite loss or gradient skips the optimizer step (reported): the weights are never touched.
6. **Sync** the new weights to the engine, checkpoint, evaluate, log metrics.

Runs and their outputs (:meth:`Trainer.train`, rules in :mod:`.runs`): a fresh run refuses an
``output_dir`` that already holds a run unless ``log.overwrite``, which deletes the old outputs only
once the new run has been built. ``--resume`` compares the config with the checkpoint's (only
:data:`~.config.RESUME_MUTABLE_KEYS` may change unless allowed) and applies the config's optimizer
hyper-parameters, and refuses a training dataset or env that changed since the checkpoint (its size,
its fingerprint) unless allowed. Ctrl-C / SIGTERM finishes the current step, saves a checkpoint and
says how to resume; a second one stops at once. Verification that keeps failing for infrastructure
reasons stops the run after saving the last completed step (in step 1: nothing in the way of the
same command); a checkpoint that cannot be written (a full disk) raises :class:`CheckpointSaveError`.
``summary.json`` and ``curves.png`` are brought up to date at each checkpoint and when the run stops,
not only at its end.

All the maths lives in pure functions; this file only wires them. The set-up and bookkeeping around
the algorithm live in modules of their own: the policy, its optimiser and the engine
(:mod:`.policy`), the envs built and checked from the config (:mod:`.training_envs`), the held-out
evaluation's tasks (:mod:`.heldout`), and what a checkpoint holds and a resume checks (:mod:`.resume`).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import time
import warnings
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from rlvr.trainers import advantages as adv_fns
from rlvr.trainers import heldout
from rlvr.trainers.checkpoint import rng_state, set_rng_state
from rlvr.trainers.config import (
    ENV_KWARGS_RULES, MAX_HELDOUT_SKIPS, Config, ConfigError, check_task_ranges, config_to_dict, question_key,
)
from rlvr.trainers.dynamic_sampling import fill_batch, group_has_signal, process_group_has_signal
from rlvr.trainers.engine import SamplingParams
from rlvr.trainers.losses import aggregate, kl_loss, kl_penalised_rewards, kl_penalised_token_rewards, logprobs_from_logits, on_mask, policy_loss, token_entropy, truncated_is_weights
from rlvr.trainers.metrics import MetricsLogger, plot_curves
from rlvr.trainers.overlong import soft_overlong_penalty
from rlvr.trainers.policy import disable_dropout, load_policy, make_engine, make_optimizer, pick_device, pick_dtype
from rlvr.trainers.resume import (
    REFERENCE_DIR, CheckpointSaveError, load_run_checkpoint, refuse_newer_records, save_reference, save_run_checkpoint,
    write_checkpoint_evals,
)
from rlvr.trainers.rollout import PromptTooLongError, RolloutCollector, RolloutInfrastructureError, Trajectory
from rlvr.trainers.runs import (
    DEMO_MARKER, ResumeError, StopRequests, TrainingInterrupted, check_output_dir, clear_previous_run,
    holds_output_dir, release_output_dir, resume_hint, say,
)
from rlvr.trainers.training_envs import (
    check_turn_limit, env_fingerprint, env_kwargs_of_run, eval_task_source, make_collector, probe_env,
    training_task_source,
)

__all__ = ["Trainer", "CheckpointSaveError", "ResumeError", "TrainingInterrupted", "load_policy", "pick_device",
           "pick_dtype"]


#: Statistics of :func:`~.losses.policy_loss` that are maxima: a batch's is its micro-batches' largest.
_MAX_STATS = frozenset({"ratio_max"})


def _turn_lengths(t: Trajectory) -> list[int]:
    """Tokens the model sampled in each turn."""
    lengths, start = [], t.prompt_len
    for end in t.turn_ends:
        if end < 0:
            lengths.append(0)
            continue
        lengths.append(sum(t.loss_mask[start : end + 1]))
        start = end + 1
    return lengths


def _overlong_action(t: Trajectory) -> bool:
    """Whether the env ended the episode on a turn longer than its ``max_action_chars`` (its verdict's
    kind is "overlong"): a cap the trainer sets only when ``env.kwargs.max_action_chars`` asks."""
    details = getattr(t.verdict, "details", None)
    return isinstance(details, Mapping) and details.get("kind") == "overlong"


def _collect(collector: RolloutCollector, *args: Any, **kwargs: Any) -> list[list[Trajectory]]:
    """`collector.collect`; prompts that do not fit the context also name the config setting of the
    limit (the collector's message is the same for every caller, `rlvr eval` included)."""
    try:
        return collector.collect(*args, **kwargs)
    except PromptTooLongError as exc:
        exc.add_note("In a training config the limit is sampling.max_context_tokens; filter such prompts out of the "
                     "env's data, or raise the limit if the model's context allows.")
        raise


def _error_text(exc: BaseException) -> str:
    """``"Type: message"`` with the error's notes: they carry its advice (a prompt too long names
    ``sampling.max_context_tokens``), for a summary's ``stop_reason`` or ``eval_errors``."""
    text = f"{type(exc).__name__}: {exc}"
    for note in getattr(exc, "__notes__", ()):
        text = f"{text}{'' if text.endswith(('.', '!', '?')) else '.'} {note}"
    return text


def _some(ids: list[str], shown: int = 20) -> str:
    """The first `shown` of `ids`, comma-separated, and how many more (a dataset may have thousands)."""
    more = f", ... and {len(ids) - shown} more" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more


# ------------------------------------------------------------------------------------ the trainer

class Trainer:
    """GRPO/DAPO-family trainer over rlvr environments.

    ``Trainer(config).train()`` builds everything from the config. ``model``/``tokenizer`` may be given
    (e.g. a warmed-up model; an engine that loads its own copy of ``model.name_or_path``, as vLLM does,
    gets its weights before the first rollout; with a KL term the first checkpoint saves it, the KL
    reference, to ``<output_dir>/warmup_model``, which a resume loads; a model passed to a resume only
    receives the checkpoint's weights and never becomes the reference); ``resume=True`` continues from the latest checkpoint in
    ``config.log.output_dir`` exactly where it stopped. On resume the config must match the
    checkpoint's except for :data:`~.config.RESUME_MUTABLE_KEYS` (changes are printed), and the
    training env must be the checkpoint's: the same dataset size and env fingerprint (data content,
    verifier, settings; :class:`~rlvr.envs.fingerprint.Fingerprint`). Any other change raises
    :class:`ResumeError` unless ``allow_config_change=True`` (then it is printed and recorded in
    ``config_changes.jsonl``).
    """

    def __init__(self, config: Config, *, model: Any = None, tokenizer: Any = None, resume: bool = False,
                 allow_config_change: bool = False) -> None:
        out = Path(config.log.output_dir)
        held = holds_output_dir(out)
        #: whether `close` gives up the output directory's lock: only one this Trainer took (`rlvr
        #: demo` holds its own while it writes the summary after training)
        self._releases_lock = not held
        try:
            self._build(config, model, tokenizer, resume, allow_config_change)
        except BaseException:  # nothing to close() later: give up what was taken (the lock, threads)
            for part in ("collector", "eval_collector", "engine"):
                built = getattr(self, part, None)
                try:
                    if built is not None:
                        built.close()
                except Exception:  # noqa: BLE001 - the first error is the one to report
                    pass
            if not held:
                release_output_dir(out)
            raise

    def _build(self, config: Config, model: Any, tokenizer: Any, resume: bool, allow_config_change: bool) -> None:
        """`__init__`'s work: check the output directory (taking its lock), build the policy, engine,
        collectors and optimizer, and load the checkpoint on ``resume``."""
        self.cfg = cfg = config.validate()
        self.out = Path(cfg.log.output_dir)
        self.resumed_from: Path | None = None
        self._allow_config_change = allow_config_change
        # checks only: nothing is deleted before the whole run has been built (see train())
        self._resume_state, self._config_changes = check_output_dir(
            self.out, cfg, resume=resume, allow_config_change=allow_config_change)
        torch.manual_seed(cfg.train.seed)
        np.random.seed(cfg.train.seed % 2**32)
        import random

        random.seed(cfg.train.seed)
        self.device = pick_device(cfg.model.device)
        #: the compute dtype of forward passes; the weights and AdamW's state stay float32 (mixed
        #: precision): in bfloat16 an AdamW step of lr ~1e-6 rounds to nothing for almost every weight
        self.dtype = pick_dtype(cfg.model.dtype, self.device)

        # policy, reference (only when a KL term is used), optimizer, scheduler
        given_model = model is not None
        if model is None:
            model, tokenizer = load_policy(cfg)
        elif tokenizer is None:
            raise ValueError("pass the model's tokenizer along with model=")
        self.model = model.to(device=self.device, dtype=torch.float32)
        disable_dropout(self.model)
        self.tokenizer = tokenizer
        if cfg.model.gradient_checkpointing:
            self.model.gradient_checkpointing_enable()
        self.ref_model = None
        if cfg.algorithm.kl_coef > 0:
            self.ref_model = copy.deepcopy(self.model).eval().requires_grad_(False)
        #: a fresh run's KL reference is a model passed in, which a resume cannot rebuild from the
        #: config: the first checkpoint saves it to the run's folder (:func:`~.resume.save_run_checkpoint`)
        self._reference_unsaved = given_model and not resume and self.ref_model is not None
        #: a resume's model passed in holds the checkpoint's weights, not the run's start: a reference
        #: "initial" is then loaded from the config (:func:`~.resume.load_run_checkpoint`)
        self._given_model = given_model
        self.optimizer, self.scheduler = make_optimizer(self.model, cfg.train)

        # engine and rollouts
        self.engine = make_engine(cfg, self.model, self.tokenizer, self.dtype)
        if given_model and not resume:  # (a resume loads the checkpoint's weights into it)
            self._sync_given_model()
        self.sampling = SamplingParams(
            temperature=cfg.sampling.temperature, top_p=cfg.sampling.top_p,
            max_new_tokens=cfg.sampling.max_new_tokens, stop=tuple(cfg.sampling.stop),
        )
        #: how the envs' settings are derived from the config (:data:`~.config.ENV_KWARGS_RULES`): a
        #: resumed run keeps its checkpoint's (0 for one without the record, made before there were
        #: any), unless ``allow_config_change`` takes the current ones
        self.env_rules = ENV_KWARGS_RULES
        state = self._resume_state
        if state is not None:
            refuse_newer_records(state, self.out)
            if not allow_config_change:
                self.env_rules = int(state.get("env_kwargs_rules", 0))
        self.collector = make_collector(cfg, self.engine, self.tokenizer, cfg.env.kwargs)
        #: the kwargs every env of the run is built with: ``env.kwargs`` and the trainer's defaults
        #: (no ``max_action_chars`` cap, ``env.max_turns`` for a multi-turn env; see
        #: :func:`~.config.training_env_kwargs`)
        self.env_kwargs = self._training_env_kwargs()
        #: what the training env draws its tasks from (:func:`~.training_envs.training_task_source`):
        #: its task source (None: an env without one), whose questions decide what training must skip;
        #: its ``make_prompt`` as it is (a checkpoint's prompt keys are compared with it); ``_render``,
        #: the same when held-out and training tasks can both be keyed by the prompt it shows
        #: (:func:`~.config.question_key`), so the two sets compare, else None (keys digest the question
        #: text: the env has no ``make_prompt`` or its prompts vary for one task, :func:`~.config.steady_render`);
        #: and the training dataset's size (None: an endless procedural source)
        train_env = probe_env(self.collector, cfg.env.id, "env.kwargs", cfg.env.kwargs)
        self._train_source, self._prompt, self._render, self.dataset_size = training_task_source(cfg, train_env)
        #: the training env's fingerprint ``{"digest", "record"}`` (None: the env has none), which a resume compares
        self.env_fingerprint = env_fingerprint(train_env)
        #: the evaluation's collector, built when evaluation is asked for (:meth:`_build_eval_collector`),
        #: and what its env draws tasks from (:func:`~.training_envs.eval_task_source`): its task source
        #: (None: an env without one), its size (None: endless) and its difficulty settings (a
        #: procedural env's ``difficulty_keys``), named when its generator makes too few distinct questions
        self.eval_collector: RolloutCollector | None = None
        self._eval_source: Any = None
        self.eval_size: int | None = None
        self._eval_settings: tuple[str, ...] = ()
        #: the training data order of one finite-dataset pass: ``(epoch, permutation)``
        self._order: tuple[int, np.ndarray] | None = None
        #: tasks at the end of a finite dataset held out of training for evaluation (:func:`~.heldout.eval_holdout`);
        #: fixed when the run starts and kept by its checkpoints, since it decides the training pool
        self.eval_holdout = heldout.eval_holdout(cfg, self.dataset_size)
        if cfg.eval.num_tasks:
            self._build_eval_collector()  # a bad eval.env_kwargs fails now, not after training
        #: the held-out evaluation set: the task indices of its distinct questions, and the keys of those
        #: questions (:func:`~.config.question_key`), which training and the warm-up skip. The keys are
        #: fixed when the run starts and kept by its checkpoints, since they decide the training data.
        self.eval_indices: list[int] = []
        self.heldout_keys: frozenset[str] = frozenset()
        #: training tasks skipped so far because their question is held out (kept by checkpoints)
        self.heldout_skipped = 0
        #: the first step that skipped the held-out questions when it is not step 1: a run resumed from a
        #: checkpoint made before questions were held out (its earlier steps may have trained on some)
        self.heldout_since_step: int | None = None
        if cfg.eval.num_tasks:
            self._set_held_out()

        # progress
        self.step_count = 0
        self.task_counter = 0
        #: one row per step of this session: ``{"step": N, **metrics}``
        self.history: list[dict[str, Any]] = []
        self.eval_results: dict[int, dict[str, float]] = {}
        self.eval_errors: dict[int, str] = {}
        self.warmup_stats: dict[str, float] = {}
        #: the KL reference: "initial" (the model the run started from, which a resume rebuilds from the
        #: config's model.name_or_path, whatever model is passed to it), "warmup_model" (saved by the
        #: warm-up) or "given_model" (a model passed in, saved by the first checkpoint: a resume
        #: loads it whatever it is passed); both saved ones are in ``<output_dir>/warmup_model``
        self.reference = "initial"
        self.train_seconds_before = 0.0  # wall time of the earlier segments of a resumed run
        self._t0: float | None = None
        self._last_saved = -1
        #: the metrics row of the last completed step (before its evaluation) and whether an evaluation
        #: follows it: kept in its checkpoint, so that a run killed after the save still logs it on resume
        self._row: dict[str, Any] | None = None
        self._row_eval_due = False
        self._resumed_row: dict[str, Any] | None = None
        self._resumed_eval_due = False
        self._stops = StopRequests()
        #: files (name: text) that :meth:`train` writes into the output directory as the run starts,
        #: after a fresh run has removed the previous run's: ``rlvr demo`` marks its run as its own
        #: (:data:`~.runs.DEMO_MARKER`)
        self.run_marks: dict[str, str] = {}
        if resume:
            load_run_checkpoint(self)  # (checks the task ranges from the run's real data position)
        else:
            self._check_task_ranges()
        self._draw(self.task_counter)  # a task space all held out fails now, not in step 1
        self._check_prompts_fit()  # a prompt too long for the context fails now, not at the step that draws it

    # -------------------------------------------------------------- set-up

    def _sync_given_model(self) -> None:
        """A model passed as ``model=`` (e.g. warmed up) to an engine that loaded its own copy of
        ``model.name_or_path`` (vLLM): give the engine the policy's weights now, so that the first
        rollouts sample from the policy rather than from the weights on disk. The hf engine shares
        the trainer's model object and needs nothing."""
        if getattr(self.engine, "model", None) is not self.model:
            self.engine.load_weights(self.model)

    def _training_env_kwargs(self) -> dict[str, Any]:
        """``env.kwargs`` with the trainer's defaults (:func:`~.training_envs.env_kwargs_of_run` under
        :attr:`env_rules`), read from the training collector's first env; the collector is made again
        with them when they add something. ``env.max_turns`` above the env's own limit is a
        ConfigError now, not at step 1."""
        cfg = self.cfg
        probe = probe_env(self.collector, cfg.env.id, "env.kwargs", cfg.env.kwargs)
        kwargs = env_kwargs_of_run(cfg, probe, self.env_rules)
        if kwargs != cfg.env.kwargs:
            self.collector.close()
            self.collector = make_collector(cfg, self.engine, self.tokenizer, kwargs)
            probe_env(self.collector, cfg.env.id, "env.kwargs", kwargs)
        check_turn_limit(cfg, self.env_rules, self.collector, "env.kwargs", kwargs)
        return kwargs

    def _check_task_ranges(self, num_eval_tasks: int | None = None) -> None:
        """A procedural env: training, the warm-up and held-out evaluation must use disjoint task
        indices (:func:`~.config.check_task_ranges`, from the data position reached so far; the
        evaluation's range spans the indices its distinct questions were looked for in)."""
        if num_eval_tasks is None and self.eval_indices and self.eval_size is None:
            num_eval_tasks = self.eval_indices[-1] - self.cfg.eval.offset + 1
        if self.dataset_size is None:
            check_task_ranges(self.cfg, drawn=self.task_counter, steps_done=self.step_count,
                              evaluation=self.eval_size is None, num_eval_tasks=num_eval_tasks)

    def _check_prompts_fit(self) -> None:
        """Every first-turn prompt of a finite training dataset's pool and of the held-out evaluation's
        tasks from a finite dataset must leave room to generate within ``sampling.max_context_tokens``
        (:meth:`~.rollout.RolloutCollector.prompts_that_do_not_fit`, the prompts as the rollouts build
        them): a ConfigError naming every task that does not, so that a run does not stop hours in,
        at the step that draws one. An endless procedural source is not checked (its tasks are
        counted when drawn: a training step stops the run, an evaluation's failure is kept in
        ``eval_errors``). The process's RNGs are put back afterwards (a prompt may draw from them)."""
        state = rng_state()
        try:
            found = {"training": None if self.source_size is None else
                     self.collector.prompts_that_do_not_fit(range(self.source_size))}
            if self.eval_indices and self.eval_collector is not None and self.eval_size is not None:
                found["held-out evaluation"] = self.eval_collector.prompts_that_do_not_fit(self.eval_indices)
        finally:
            set_rng_state(state)
        parts = [f"{len(exc.task_ids)} {what} task(s): {_some(exc.task_ids)} (e.g. task {exc.task_ids[0]}: "
                 f"{exc.reasons[0]})" for what, exc in found.items() if exc is not None]
        if parts:
            raise ConfigError(
                f"sampling.max_context_tokens={self.collector.max_context_tokens}: found before training, first-turn "
                f"prompts that leave no room to generate: {'; '.join(parts)}. Filter such prompts out of the env's data "
                f"({self.cfg.env.id}, env.kwargs {self.cfg.env.kwargs}), or raise sampling.max_context_tokens if the "
                "model's context allows")

    # -------------------------------------------------------------- the held-out evaluation's tasks

    def _build_eval_collector(self) -> None:
        """The evaluation's collector, with one env built (a bad ``eval.env_kwargs`` is a ConfigError)."""
        e, env = self.cfg.eval, self.cfg.env
        kwargs = {**self.env_kwargs, **e.env_kwargs}  # (with the training env's defaults)
        self.eval_collector = make_collector(self.cfg, self.engine, self.tokenizer, kwargs)
        probe = probe_env(self.eval_collector, env.id, "eval.env_kwargs", kwargs)
        check_turn_limit(self.cfg, self.env_rules, self.eval_collector,
                         "eval.env_kwargs" if "max_turns" in e.env_kwargs else "env.kwargs", kwargs)
        self._eval_source, self.eval_size, self._eval_settings = eval_task_source(probe)

    def _held_out(self, num_tasks: int) -> tuple[list[int], list[str]]:
        """The indices and question keys of ``num_tasks`` evaluation tasks with distinct questions
        (:func:`~.heldout.held_out_tasks`)."""
        return heldout.held_out_tasks(self.cfg, num_tasks, dataset_size=self.dataset_size, holdout=self.eval_holdout,
                                      eval_size=self.eval_size, eval_source=self._eval_source, render=self._render,
                                      settings=self._eval_settings)

    def _set_held_out(self) -> None:
        """Fix the held-out evaluation set of ``eval.num_tasks`` (:func:`~.heldout.choose_held_out`)."""
        self.eval_indices, self.heldout_keys = heldout.choose_held_out(
            self.cfg, dataset_size=self.dataset_size, holdout=self.eval_holdout, eval_size=self.eval_size,
            eval_source=self._eval_source, render=self._render, settings=self._eval_settings)

    # -------------------------------------------------------------- the training data: which task comes next

    @property
    def source_size(self) -> int | None:
        """How many tasks training draws from: the dataset less its held-out tail (None: endless)."""
        return None if self.dataset_size is None else self.dataset_size - self.eval_holdout

    def _next_task(self) -> dict[str, Any]:
        """Reset options of the next training task (the data position is ``task_counter``), past
        the tasks whose question is held out for evaluation (:meth:`_draw`)."""
        options, self.task_counter, skipped = self._draw(self.task_counter)
        self.heldout_skipped += skipped
        return options

    def _draw(self, k: int) -> tuple[dict[str, Any], int, int]:
        """The training task at data position ``k`` or, when its question is one of the held-out
        evaluation's (:attr:`heldout_keys`), the next one that is not: ``(reset options, the data
        position after it, positions skipped)``. A pure function of ``k`` and the held-out set, so a
        resumed run draws what the uninterrupted one did; a skipped position counts as drawn.

        Raises:
            ConfigError: :data:`~.config.MAX_HELDOUT_SKIPS` positions in a row are all held out.
        """
        check = bool(self.heldout_keys) and callable(getattr(self._train_source, "get", None))
        for skipped in range(MAX_HELDOUT_SKIPS + 1):
            index = self._task_index(k + skipped)
            if not check or question_key(self._train_source.get(index), self._render) not in self.heldout_keys:
                return {"index": index}, k + skipped + 1, skipped
        raise ConfigError(
            f"training tasks from data position {k} on: {MAX_HELDOUT_SKIPS + 1} in a row ask one of the "
            f"{len(self.heldout_keys)} questions held out for evaluation (eval.num_tasks), which training never "
            f"draws; this task space is (almost) all held out: lower eval.num_tasks, or use a larger task space "
            f"({self.cfg.env.id}, env.kwargs {self.cfg.env.kwargs})")

    def _task_index(self, k: int) -> int:
        """The task index at data position ``k``: ``env.train_offset + k`` for an endless procedural
        source (task i is seeded by i); for a finite dataset position ``train_offset + k`` of its
        pool, reshuffled every pass (one permutation per pass, kept while the pass lasts)."""
        env = self.cfg.env
        if self.source_size is None:
            return env.train_offset + k
        size = self.source_size
        epoch, pos = divmod(env.train_offset + k, size)
        if not env.shuffle:
            return pos
        if self._order is None or self._order[0] != epoch or len(self._order[1]) != size:
            self._order = (epoch, np.random.default_rng([self.cfg.train.seed, epoch]).permutation(size))
        return int(self._order[1][pos])

    # -------------------------------------------------------------- rewards and advantages

    def shaped_reward(self, t: Trajectory) -> float:
        """The reward optimised: the env's total reward plus DAPO's soft overlong punishment.

        The punishment ramps from 0 to -1 over the last ``overlong_cache_len`` tokens before
        ``sampling.max_new_tokens``, measured on the episode's longest turn. An answer cut off by its
        length limit (its last turn ended with finish reason "length") gets the full -1, as DAPO gives
        an answer that reached the maximum length: the limit may be lower than ``max_new_tokens``
        (the room left in ``sampling.max_context_tokens``), and such an answer must not be punished
        less than a shorter one that finished. Running out of turns, or out of room for the env's
        reply (``episode_truncated`` after a finished turn), is no length cut: the ramp applies.
        """
        r = t.total_reward
        a = self.cfg.algorithm
        if a.overlong_cache_len > 0:
            longest = self.cfg.sampling.max_new_tokens if t.truncated else max(_turn_lengths(t) or [0])
            r += a.overlong_coef * float(
                soft_overlong_penalty([longest], self.cfg.sampling.max_new_tokens, a.overlong_cache_len)[0]
            )
        return r

    def _has_signal(self, group: list[Trajectory]) -> bool:
        """Whether dynamic sampling keeps ``group``: whether the samples the loss sees would get a
        non-zero advantage both from the task reward and from the reward optimised.

        The task reward (:meth:`_task_rewards`) decides as DAPO's ``0 < #correct < G`` (Eq. 11)
        does: on the reward optimised alone (:meth:`shaped_reward`, with the overlong punishment) an
        all-correct group with one answer a token into the overlong zone (``[1, 1, 1, 0.998]``) was
        kept, and GRPO's std scaling made that token's punishment advantages of -1.7 and +0.6. The
        reward optimised must differ too, or the update would get nothing from the group but the KL
        penalty of ``kl_in=reward`` scaled up the same way: a wrong group whose one right answer was
        cut off by its length limit (task ``[0, 0, 0, 1]``, optimised ``[0, 0, 0, 0]``) is dropped
        and refilled. A kept group is trained on its optimised rewards. (A mixed group whose
        optimised rewards differ by a hair, a wrong answer a token into the overlong zone beside a
        cut-off right one, is kept and scaled as GRPO scales any group.)

        With ``algorithm.mask_truncated`` the loss never sees the truncated samples (:meth:`_batch`
        masks them out), while the advantages are still taken over the whole group. So a group
        whose samples are all truncated is dropped, and a group with some truncated samples is kept
        only when one of the samples the loss sees gets an advantage above ``algorithm.ds_tol`` (above
        0 at ``ds_tol=0``), computed as the update computes advantages (:meth:`_seen_advantages`): a
        mean of the group's rewards, float or exact, only approximates that, and at ``ds_tol=0`` a
        rounding step either way decides. (The KL penalty of ``kl_in=reward`` is left out: it is not
        known before the update.) REINFORCE++ whitens over the whole batch, so any group of it is kept."""
        a = self.cfg.algorithm
        seen = [not t.truncated for t in group] if a.mask_truncated else [True] * len(group)
        if not any(seen):
            return False
        if a.estimator == "process_grpo":
            optimised = [self._shaped_steps(t) for t in group]
        else:
            optimised = [self.shaped_reward(t) for t in group]
        return self._signal_in(group, self._task_rewards(group), seen) and self._signal_in(group, optimised, seen)

    def _signal_in(self, group: list[Trajectory], values: list[Any], seen: list[bool]) -> bool:
        """Whether rewards ``values`` of ``group`` (each sample's, its step rewards for process_grpo)
        give a sample the loss sees (``seen``) an advantage above ``algorithm.ds_tol``."""
        a = self.cfg.algorithm
        if a.estimator == "process_grpo":  # step rewards pooled over the whole group, as the advantages are
            if not process_group_has_signal(values, tol=a.ds_tol):
                return False
        elif not group_has_signal(values, tol=a.ds_tol, estimator=a.estimator):
            return False
        if all(seen) or a.estimator == "reinforce++":
            return True
        sizes = self._seen_advantages(group, values)
        return any(size > a.ds_tol for size, s in zip(sizes, seen) if s)

    def _task_rewards(self, group: list[Trajectory]) -> list[Any]:
        """What dynamic sampling judges ``group`` by: each sample's task reward, the env's
        ``total_reward`` (for process_grpo its step rewards, :meth:`_steps`), without the overlong
        punishment :meth:`shaped_reward` and :meth:`_shaped_steps` add for the update."""
        if self.cfg.algorithm.estimator == "process_grpo":
            return [self._steps(t) for t in group]
        return [t.total_reward for t in group]

    def _seen_advantages(self, group: list[Trajectory], values: list[Any]) -> list[float]:
        """The largest ``|advantage|`` the loss gives each sample of ``group`` (over its response
        tokens) for rewards ``values``, by the functions and dtypes :meth:`_advantages` uses;
        ``values``: each sample's reward (its step rewards for process_grpo), task or optimised, as
        :meth:`_has_signal` judges both. For REINFORCE++-baseline, the group-centred reward (the
        update divides it by a spread of the whole batch, which is positive)."""
        a = self.cfg.algorithm
        if a.estimator == "process_grpo":
            width = max(len(t.token_ids) for t in group) - 1  # the shifted axis of :meth:`_batch`
            mask = torch.zeros(len(group), width)
            for i, t in enumerate(group):
                mask[i, : len(t.loss_mask) - 1] = torch.tensor(t.loss_mask[1:], dtype=mask.dtype)
            adv = adv_fns.process_grpo_advantages([values], width,
                                                  scale_std=a.scale_std, mask=mask)
            return adv.abs().amax(dim=1).tolist()
        rewards = torch.tensor([values], dtype=torch.float64)
        if a.estimator == "reinforce++-baseline":
            return adv_fns.centred(rewards, dim=1)[0].abs().tolist()
        return self._sequence_advantages(rewards)[0].abs().tolist()

    def _sequence_advantages(self, grouped: torch.Tensor) -> torch.Tensor:
        """GRPO's, Dr. GRPO's or RLOO's advantages of rewards ``[num_groups, group_size]`` (the update's,
        and dynamic sampling's judgement of a partly truncated group: :meth:`_seen_advantages`)."""
        a = self.cfg.algorithm
        if a.estimator == "grpo":
            return adv_fns.grpo_advantages(grouped, scale_std=a.scale_std)
        if a.estimator == "dr_grpo":
            return adv_fns.dr_grpo_advantages(grouped)
        return adv_fns.rloo_advantages(grouped)

    @staticmethod
    def _steps(t: Trajectory) -> list[tuple[int, float]]:
        """Per-turn rewards at their turn-end index on the shifted (next-token) axis."""
        return [(end - 1, r) for end, r in zip(t.turn_ends, t.turn_rewards) if end >= 1]

    def _shaped_steps(self, t: Trajectory) -> list[tuple[int, float]]:
        """`_steps` with the overlong punishment of `shaped_reward` taken off the last step (process GRPO)."""
        steps = self._steps(t)
        penalty = self.shaped_reward(t) - t.total_reward
        if steps and penalty:
            steps[-1] = (steps[-1][0], steps[-1][1] + penalty)
        return steps

    def _advantages(self, trajs, rewards, mask, policy_lp, ref_lp) -> torch.Tensor:
        a = self.cfg.algorithm
        n = self.cfg.train.group_size
        kl_reward = a.kl_coef > 0 and a.kl_in == "reward"
        if a.estimator in ("reinforce++", "reinforce++-baseline"):
            penalty = kl_penalised_token_rewards(policy_lp, ref_lp, mask, a.kl_coef, kind=a.kl_estimator) if kl_reward else None
            return adv_fns.reinforce_pp_token_advantages(
                rewards.view(-1, n), mask, group_baseline=a.estimator == "reinforce++-baseline", kl_penalty=penalty
            )
        if a.estimator == "process_grpo":
            steps = [self._shaped_steps(t) for t in trajs]
            if kl_reward:  # the sequence's KL penalty comes off its last step
                pen = kl_penalised_rewards(torch.zeros(len(trajs)), policy_lp, ref_lp, mask, a.kl_coef, kind=a.kl_estimator)
                steps = [s[:-1] + [(s[-1][0], s[-1][1] + float(p))] if s else s for s, p in zip(steps, pen)]
            grouped = [steps[i : i + n] for i in range(0, len(steps), n)]
            return adv_fns.process_grpo_advantages(grouped, mask.shape[1], scale_std=a.scale_std, mask=mask).to(mask.device)
        if kl_reward:
            rewards = kl_penalised_rewards(rewards, policy_lp, ref_lp, mask, a.kl_coef, kind=a.kl_estimator)
        return adv_fns.expand_to_tokens(self._sequence_advantages(rewards.view(-1, n)), mask)

    # -------------------------------------------------------------- tensors and forward passes

    def _batch(self, trajs: list[Trajectory]) -> dict[str, torch.Tensor]:
        """Right-padded ``input_ids [B, L]``; next-token ``targets``, ``mask`` and ``sampling_lp [B, L-1]``.

        Built as one flat list per field and scattered into the padded arrays in a single numpy
        assignment (a tensor per trajectory and field costs more than the rest of the batch)."""
        lens = np.fromiter((len(t.token_ids) for t in trajs), dtype=np.int64, count=len(trajs))
        B, L = len(trajs), int(lens.max())
        pad = self.tokenizer.pad_token_id or 0
        filled = np.arange(L)[None, :] < lens[:, None]  # row-major order matches the concatenation
        ids_np = np.full((B, L), pad, dtype=np.int64)
        mask_np = np.zeros((B, L), dtype=np.float32)
        lps_np = np.zeros((B, L), dtype=np.float32)
        ids_np[filled] = [x for t in trajs for x in t.token_ids]
        mask_np[filled] = [x for t in trajs for x in t.loss_mask]
        lps_np[filled] = [x for t in trajs for x in t.logprobs]
        if self.cfg.algorithm.mask_truncated:
            mask_np *= np.array([0.0 if t.truncated else 1.0 for t in trajs], dtype=np.float32)[:, None]
        ids, mask, lps = torch.from_numpy(ids_np), torch.from_numpy(mask_np), torch.from_numpy(lps_np)
        lengths = torch.from_numpy(lens)
        dev = self.device
        return {
            "input_ids": ids.to(dev), "targets": ids[:, 1:].to(dev), "mask": mask[:, 1:].to(dev),
            "sampling_lp": lps[:, 1:].to(dev), "lengths": lengths.to(dev),
            "lengths_cpu": lengths,  # sizes read on the host, without a device sync per micro-batch
        }

    def _forward(self, model: Any, batch: dict[str, torch.Tensor], rows: torch.Tensor, want_logits: bool = False):
        """Log-probs (and logits) of the targets of ``rows``, trimmed to their longest sequence.

        The log-probs are at the sampling temperature; the logits are raw (whoever reads a
        distribution from them applies the temperature, as `token_entropy` does).
        """
        L = int(batch["lengths_cpu"][rows.cpu()].max())
        ids = batch["input_ids"][rows, :L]
        with self._autocast():
            logits = model(input_ids=ids, use_cache=False).logits[:, :-1]
        lp = logprobs_from_logits(logits, batch["targets"][rows, : L - 1], temperature=self.sampling.temperature)
        return (lp, logits, L - 1) if want_logits else (lp, L - 1)

    def _autocast(self) -> Any:
        """Forward passes in the compute dtype over the float32 weights (a no-op in float32)."""
        return torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype != torch.float32)

    @torch.no_grad()
    def _score(self, model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        out = torch.zeros_like(batch["sampling_lp"])
        was = model.training
        model.eval()
        for rows in self._micro_batches(torch.arange(batch["input_ids"].shape[0])):
            lp, T = self._forward(model, batch, rows)
            out[rows, :T] = lp
        model.train(was)
        return out

    def _micro_batches(self, rows: torch.Tensor) -> list[torch.Tensor]:
        size = self.cfg.train.micro_batch_size or max(len(rows), 1)  # (no rows: no micro-batch)
        return [rows[i : i + size] for i in range(0, len(rows), size)]

    # -------------------------------------------------------------- one step

    def step(self) -> dict[str, Any]:
        """One RL step: rollouts, rewards, advantages, update, weight sync. Returns its metrics."""
        a, t = self.cfg.algorithm, self.cfg.train
        t_step = time.perf_counter()
        timings0 = dict(self.collector.timings)
        retried0 = self.collector.infra_retried_groups

        # 1. rollouts, refilled by dynamic sampling; statistics cover every episode generated
        generated: list[Trajectory] = []

        def generate(needed: int, round_index: int) -> list[list[Trajectory]]:
            tasks = [self._next_task() for _ in range(needed)]
            groups = _collect(self.collector, tasks, t.group_size, self._rollout_sampling(round_index),
                              infra_retries=t.infra_retries)
            generated.extend(tr for g in groups for tr in g)
            return groups

        keep = self._has_signal if a.dynamic_sampling else (lambda g: True)
        fill = fill_batch(generate, t.batch_groups, keep=keep, max_extra_rounds=a.ds_max_extra_rounds if a.dynamic_sampling else 0)
        trajs = [tr for g in fill.groups for tr in g]
        time_gen = self.collector.timings["generate"] - timings0["generate"]
        time_env = self.collector.timings["env"] - timings0["env"]
        metrics: dict[str, Any] = {**fill.as_metrics(), **self.rollout_stats(generated)}
        if fill.budget_exhausted:
            metrics["note"] = f"dynamic sampling budget exhausted: training on {len(fill.groups)}/{t.batch_groups} groups"

        # 2-5. rewards, log-probs, advantages, update (skipped when there is nothing to learn from)
        t_up = time.perf_counter()
        if trajs:
            metrics.update(self._update(trajs))
        else:
            metrics.update(skipped=1, skip_reason="no group with learning signal")
        time_update = time.perf_counter() - t_up

        # 6. new weights to the engine; bookkeeping
        lr = self.optimizer.param_groups[0]["lr"]  # the rate this step trained with (before the schedule ticks)
        with warnings.catch_warnings():  # a skipped update still advances the schedule (one tick per step)
            warnings.simplefilter("ignore", UserWarning)
            self.scheduler.step()
        self.engine.load_weights(self.model)
        self.step_count += 1
        metrics.update({
            "lr": lr,
            "time/generate": time_gen, "time/reward": time_env, "time/update": time_update,
            "time/step": time.perf_counter() - t_step,
            "tokens_per_s": sum(tr.response_length for tr in generated) / time_gen if time_gen > 0 else 0.0,
            "trained_groups": len(fill.groups), "task_position": self.task_counter,
            # groups re-run because verification failed for infrastructure reasons (never trained as 0)
            "infra_retried_groups": self.collector.infra_retried_groups - retried0,
        })
        metrics.setdefault("skipped", 0)
        return metrics

    def _rollout_sampling(self, round_index: int) -> SamplingParams:
        """Sampling of the training rollouts. The hf engine draws from torch's global RNG, which the
        checkpoint saves and restores; vLLM's RNG is not saved, so its requests get a seed derived from
        (train.seed, step, dynamic-sampling round) and a resumed run samples what the uninterrupted one did."""
        if self.cfg.engine.name != "vllm":
            return self.sampling
        seed = int(np.random.SeedSequence([self.cfg.train.seed, self.step_count, round_index]).generate_state(1)[0])
        return dataclasses.replace(self.sampling, seed=seed % 2**31)

    def rollout_stats(self, trajs: list[Trajectory]) -> dict[str, float]:
        """Reward, accuracy and length statistics of a list of episodes."""
        if not trajs:
            return {}
        rewards = np.array([self.shaped_reward(tr) for tr in trajs], dtype=np.float64)
        lengths = np.array([tr.response_length for tr in trajs], dtype=np.float64)
        return {
            "reward_mean": float(rewards.mean()), "reward_std": float(rewards.std()),
            "accuracy": float(np.mean([tr.correct for tr in trajs])),
            "response_length": float(lengths.mean()), "response_length_max": float(lengths.max()),
            "truncated_frac": float(np.mean([tr.truncated for tr in trajs])),
            # episodes cut short (out of turns or of context) and turns the chat template renders otherwise
            "episode_truncated_frac": float(np.mean([tr.episode_truncated for tr in trajs])),
            "template_mismatch_frac": float(np.mean([tr.template_mismatch for tr in trajs])),
            # episodes the env ended as over-long (a turn past its max_action_chars, scored 0 right or not)
            "overlong_action_frac": float(np.mean([_overlong_action(tr) for tr in trajs])),
            "turns_mean": float(np.mean([tr.num_turns for tr in trajs])),
        }

    def _update(self, trajs: list[Trajectory]) -> dict[str, Any]:
        a, t = self.cfg.algorithm, self.cfg.train
        batch = self._batch(trajs)
        mask = batch["mask"]
        # float64: group statistics of rewards like 0.1 or 0.7 must not turn float32 rounding into signal
        rewards = torch.tensor([self.shaped_reward(tr) for tr in trajs], dtype=torch.float64, device=self.device)
        stats: dict[str, Any] = {}

        # old log-probs: the engine's when the batch is used once, else recomputed before any update
        # (with top_p < 1 the engine's log-probs are of the renormalised nucleus, not of the policy:
        # its ratio to the policy's would start at the nucleus mass instead of 1)
        passes = t.mini_batches * t.epochs
        use_engine = a.old_logprobs == "engine" or (
            a.old_logprobs == "auto" and passes == 1 and a.tis_cap is None and self.sampling.top_p == 1.0)
        old_lp = batch["sampling_lp"] if use_engine else self._score(self.model, batch)
        ref_lp = self._score(self.ref_model, batch) if self.ref_model is not None else None
        is_w = None
        if a.tis_cap is not None:
            is_w = truncated_is_weights(old_lp, batch["sampling_lp"], cap=a.tis_cap, mask=mask)
            stats["tis_weight_mean"] = float(on_mask(is_w, mask).sum() / mask.sum().clamp(min=1))
        if ref_lp is not None:
            stats["kl"] = float(kl_loss(old_lp, ref_lp, mask, kind=a.kl_estimator))  # (token mean, 0 off the mask)

        adv = self._advantages(trajs, rewards, mask, old_lp, ref_lp).to(mask.dtype)
        if not bool((adv.abs() * mask).sum() > 0):
            stats.update(skipped=1, skip_reason=self._no_signal_reason(trajs, mask))
            return stats

        B = len(trajs)
        max_len = self.sampling.max_new_tokens * self.collector.turn_limit()  # (the env's own limit when unset)
        # Rows whose every advantage is 0 add exactly 0 to the loss and its gradient when no other
        # term (KL in the loss, entropy bonus) touches them: they are not forwarded. The loss
        # normalisers below still count every row, so the update is the same as with them. The
        # statistics of the forward passes (ratio_mean, ratio_max, approx_kl, clip fractions, entropy)
        # then cover only the rows trained, those with a non-zero advantage. A mini-batch without
        # such a row forwards nothing but still takes its optimizer step, on a zero gradient, as it
        # does without skipping (AdamW's momentum and weight decay move the weights all the same).
        zero_terms_only = a.entropy_coef == 0 and not (ref_lp is not None and a.kl_in == "loss")
        carries_signal = ((adv != 0) & (mask > 0)).any(-1).cpu()
        skips_rows = t.skip_zero_advantage and zero_terms_only
        # the rows forwarded: all of them when a KL or entropy term touches every row
        stats["rows_trained_frac"] = float(carries_signal.float().mean()) if skips_rows else 1.0
        acc: dict[str, float] = {}  # per-token means, summed weighted by their micro-batch's tokens
        peaks: dict[str, float] = {}  # maxima: the largest over the micro-batches, not their mean
        weight_sum = 0.0
        losses: list[float] = []  # each mini-batch's loss: the sum of its micro-batches' shares
        steps_done = skipped_nonfinite = 0
        grad_norms: list[float] = []
        first_diff = None
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)  # nothing left over (the warm-up's last gradient) joins this update
        for epoch in range(t.epochs):
            order = torch.randperm(B)  # host indices (a device tensor may be indexed with them): no sync to size micro-batches
            for mb in torch.tensor_split(order, t.mini_batches):
                if len(mb) == 0:
                    continue
                m_mb = mask[mb]
                n_tok = float(m_mb.sum())
                n_seq = float((m_mb.sum(-1) > 0).sum()) if a.loss_agg == "seq-mean-token-mean" else float(len(mb))
                nonfinite = False
                mb_loss = 0.0
                if skips_rows:
                    mb = mb[carries_signal[mb]]
                    if len(mb) == 0:
                        self._zero_gradients()
                for rows in self._micro_batches(mb):
                    lp, logits, T = self._forward(self.model, batch, rows, want_logits=True)
                    m = mask[rows, :T]
                    agg_kw = dict(max_len=max_len, num_tokens=n_tok, num_seqs=n_seq)
                    kw = dict(agg=a.loss_agg, **agg_kw)
                    loss, ps = policy_loss(
                        lp, old_lp[rows, :T], adv[rows, :T], m, eps_low=a.eps_low, eps_high=a.eps_high,
                        dual_clip=a.dual_clip, is_weights=is_w[rows, :T] if is_w is not None else None, **kw,
                    )
                    if ref_lp is not None and a.kl_in == "loss":
                        loss = loss + a.kl_coef * kl_loss(lp, ref_lp[rows, :T], m, kind=a.kl_estimator, **kw)
                    if a.entropy_coef > 0:
                        # of the distribution sampled from, as the log-probs are: at the sampling temperature
                        ent_t = token_entropy(logits, temperature=self.sampling.temperature, mask=m)
                        loss = loss - a.entropy_coef * aggregate(ent_t, m, a.loss_agg, **agg_kw)
                        ent = float(on_mask(ent_t.detach(), m).sum() / m.sum().clamp(min=1))
                    else:  # a metric only: computed on the loss tokens alone
                        with torch.no_grad():
                            ent = (float(token_entropy(logits.detach()[m > 0], temperature=self.sampling.temperature).mean())
                                   if bool((m > 0).any()) else 0.0)
                    if first_diff is None:  # on-policy check: the trainer's log-probs vs the engine's
                        d = on_mask((lp.detach() - batch["sampling_lp"][rows, :T]).abs(), m)
                        first_diff = float(d.max())
                    if not torch.isfinite(loss):
                        nonfinite = True
                        break
                    loss.backward()
                    mb_loss += float(loss.detach())  # already its share of the mini-batch's loss
                    w = float(m.sum())
                    weight_sum += w
                    for k, v in {**ps, "entropy": ent}.items():
                        if k in _MAX_STATS:
                            if w > 0:  # (an empty micro-batch reports a placeholder)
                                peaks[k] = max(peaks.get(k, v), v)
                        else:
                            acc[k] = acc.get(k, 0.0) + v * w
                grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), t.max_grad_norm)
                if nonfinite or not torch.isfinite(grad_norm):
                    self.optimizer.zero_grad(set_to_none=True)  # the weights are never touched
                    skipped_nonfinite += 1
                    continue
                self.optimizer.step()
                self.optimizer.zero_grad(set_to_none=True)
                steps_done += 1
                grad_norms.append(float(grad_norm))
                losses.append(mb_loss)
        stats.update({k: v / max(weight_sum, 1.0) for k, v in acc.items()})
        stats.update(peaks)
        if losses:
            stats["loss"] = float(np.mean(losses))
        stats.update({
            "grad_norm": float(np.mean(grad_norms)) if grad_norms else float("nan"),
            "optimizer_steps": steps_done, "skipped_nonfinite": skipped_nonfinite,
            "clip_frac": stats.get("clip_frac_low", 0.0) + stats.get("clip_frac_high", 0.0),
            "logprob_diff_first_mb": first_diff if first_diff is not None else 0.0,
            "advantage_abs_mean": float((adv.abs() * mask).sum() / mask.sum().clamp(min=1)),
        })
        if skipped_nonfinite:
            stats["note"] = f"{skipped_nonfinite} optimizer step(s) skipped: non-finite loss or gradient"
        return stats

    def _zero_gradients(self) -> None:
        """Give every trained parameter a zero gradient: the one a mini-batch whose advantages are
        all 0 produces when it is forwarded, so that skipping it takes the same optimizer step."""
        for group in self.optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)

    def _no_signal_reason(self, trajs: list[Trajectory], mask: torch.Tensor) -> str:
        """Why a batch has no token with a non-zero advantage, for ``skip_reason``."""
        if bool(mask.sum() > 0):
            return "no learning signal (all advantages are 0)"
        if self.cfg.algorithm.mask_truncated and all(t.truncated for t in trajs):
            return ("no learning signal (every episode was truncated and algorithm.mask_truncated masks them "
                    "all out of the loss)")
        return "no learning signal (no episode has a loss token)"

    # -------------------------------------------------------------- evaluation

    def evaluate(self, num_tasks: int | None = None, *, temperature: float | None = None, samples: int | None = None) -> dict[str, float]:
        """Held-out pass@1: the mean correctness over ``samples`` episodes on each of ``num_tasks``
        distinct questions that training never draws (greedy when temperature is 0): procedural envs
        use indices from ``eval.offset``; finite datasets the first tasks of the eval data, or the
        tail held out of training when the eval data is the training data (:class:`~.config.EvalConfig`);
        a repeated question is asked once (:func:`~.heldout.held_out_tasks`). Training skips the questions of the
        run's ``eval.num_tasks``; asking for more checks the extra ones by their indices only.
        Uses its own seeded sampler and puts the process's RNGs back afterwards, so it does not
        disturb the training RNG (resume stays exact, even when a prompt draws from `random`)."""
        e = self.cfg.eval
        num_tasks = e.num_tasks if num_tasks is None else num_tasks
        temperature = e.temperature if temperature is None else temperature
        samples = e.samples if samples is None else samples
        if num_tasks <= 0:
            return {}
        if self.eval_collector is None:
            self._build_eval_collector()
        if num_tasks <= len(self.eval_indices):  # the run's held-out set (questions training skips)
            indices = self.eval_indices[:num_tasks]
        else:  # more than the run holds out: those past its set are kept apart by their indices only
            if self.eval_size is None:
                self._check_task_ranges(num_tasks)
            indices, _ = self._held_out(num_tasks)
            if self.eval_size is None:
                self._check_task_ranges(indices[-1] - e.offset + 1 if indices else 0)
        sampling = dataclasses.replace(self.sampling, temperature=temperature, seed=self.cfg.train.seed + 7919)
        n = samples if temperature > 0 else 1
        # the process's RNGs are put back afterwards: an env's prompt may draw from them (a random
        # few-shot example), and a run resumed after the evaluation must draw what this one does
        state = rng_state()
        try:
            groups = _collect(self.eval_collector, [{"index": i} for i in indices], n, sampling,
                              infra_retries=self.cfg.train.infra_retries)
        finally:
            set_rng_state(state)
        flat = [tr for g in groups for tr in g]
        return {
            "eval/pass@1": float(np.mean([tr.correct for tr in flat])),
            "eval/reward_mean": float(np.mean([tr.total_reward for tr in flat])),
            "eval/response_length": float(np.mean([tr.response_length for tr in flat])),
        }

    # -------------------------------------------------------------- checkpoints

    def save(self) -> Path:
        """Checkpoint the current step (what ``--resume`` needs, see :mod:`.resume` and :mod:`.checkpoint`).

        Besides the optimizer, data position and RNG states it keeps the step's metrics row and
        whether an evaluation was due after it (a resume logs the row, and runs that evaluation,
        when the run was killed before), and the training dataset's size and env fingerprint
        (a resume refuses other data). Raises :class:`CheckpointSaveError` when it cannot be
        written (a full disk): the checkpoints saved before are untouched."""
        return save_run_checkpoint(self)

    def _elapsed(self) -> float:
        """Wall seconds of the whole run so far, earlier segments of a resumed run included."""
        return self.train_seconds_before + (time.perf_counter() - self._t0 if self._t0 is not None else 0.0)

    # -------------------------------------------------------------- the loop

    def train(self) -> dict[str, Any]:
        """Run until ``train.total_steps``; returns a summary (also written to ``summary.json``).

        Each step: update, checkpoint (when due), evaluation (when due), log. The checkpoint comes
        first so that a failing evaluation never costs the training; an evaluation error is reported
        (log, ``summary["eval_errors"]``) and training goes on. The checkpoint keeps the step's
        metrics row, so a run killed during the evaluation that follows a save loses nothing: the
        resumed run runs that evaluation (unless it is in the results or errors already) and logs
        the row first. At each checkpoint ``summary.json`` (with ``"in_progress": true``) and
        ``curves.png`` are rewritten. Ctrl-C or SIGTERM finishes the step in progress, saves it and
        raises :class:`TrainingInterrupted` (a second one stops at once). Verification that keeps
        failing for infrastructure reasons (:class:`~.rollout.RolloutInfrastructureError`), or a drawn
        prompt too long for the context (:class:`~.rollout.PromptTooLongError`), saves the
        last completed step (its data position and RNG as they were when it ended), writes the
        summary (``stopped_at_step``) and plot, and raises. A checkpoint that cannot be written
        raises :class:`CheckpointSaveError`."""
        cfg = self.cfg
        self.out.mkdir(parents=True, exist_ok=True)
        if self.resumed_from is None and self.step_count == 0:
            if cfg.log.overwrite:
                clear_previous_run(self.out)
            else:  # a new run's, not the demo's (a demo run that did no step may have left its mark)
                (self.out / DEMO_MARKER).unlink(missing_ok=True)
        for name, text in self.run_marks.items():
            (self.out / name).write_text(text)
        (self.out / "config.json").write_text(json.dumps(config_to_dict(cfg), indent=2))
        if self._config_changes:  # config.json holds the config in effect; what resumes changed is kept here
            with open(self.out / "config_changes.jsonl", "a") as f:
                f.write(json.dumps({"step": self.step_count, "changes": {k: list(v) for k, v in self._config_changes.items()}}) + "\n")
            self._config_changes = {}
        logger = MetricsLogger(self.out, cfg.train.total_steps, progress=cfg.log.progress, jsonl=cfg.log.jsonl,
                               tensorboard=cfg.log.tensorboard, start_step=self.step_count)
        self._t0 = time.perf_counter()
        interrupted = None
        try:
            with self._stops.handled(logger.write):
                if self.step_count == 0 and cfg.warmup.steps:
                    self.run_warmup(logger)
                if self.step_count == 0 and cfg.eval.before and cfg.eval.num_tasks:
                    if self._evaluate_at(0, logger):
                        logger.write(f"step 0: held-out pass@1 {self.eval_results[0]['eval/pass@1']:.3f}")
                self._finish_resumed_step(logger)
                self._stops.in_loop = True
                while self.step_count < cfg.train.total_steps:
                    metrics = self._step_or_save_and_raise(logger)
                    step = self.step_count
                    last = step == cfg.train.total_steps
                    eval_due = bool(cfg.eval.num_tasks and ((cfg.eval.every and step % cfg.eval.every == 0) or last))
                    self._row, self._row_eval_due = {"step": step, **metrics}, eval_due  # (into the checkpoint)
                    saved = None
                    if (cfg.log.save_every and step % cfg.log.save_every == 0) or (last and cfg.log.save_final):
                        saved = self.save()
                    if eval_due:
                        metrics.update(self._evaluate_at(step, logger))
                        if saved is not None:
                            write_checkpoint_evals(self.out, saved, self.step_count, self.eval_results, self.eval_errors)
                    self._log_row(logger, step, metrics)
                    if saved is not None and not last:  # the run's outputs as of this checkpoint
                        self._write_outputs({"in_progress": True}, logger)
                    if self._stops.requested and not last:
                        interrupted = self._save_and_hint(self._stops.requested)
                        break
        except KeyboardInterrupt:  # a second Ctrl-C, or one outside the steps: no checkpoint is written now
            logger.write(resume_hint(self.out, "interrupted", self.step_count))
            logger.close()
            raise
        finally:
            logger.close()
        summary = self._write_outputs({"interrupted_at_step": self.step_count} if interrupted else {})
        if interrupted:
            say(interrupted)
            raise TrainingInterrupted(interrupted)
        return summary

    def _log_row(self, logger: MetricsLogger, step: int, metrics: dict[str, Any]) -> None:
        if metrics.get("note"):
            logger.write(f"step {step}: {metrics['note']}")
        logger.log(step, metrics)
        self.history.append({"step": step, **metrics})

    def _finish_resumed_step(self, logger: MetricsLogger) -> None:
        """Resume: finish what the checkpoint's step left undone when the run was killed after saving
        it (during its evaluation, before its row was logged). A due evaluation that is neither in
        the results nor in the errors is run now (the weights are the step's) and added to the
        checkpoint; the step's row, with its evaluation, is logged unless ``metrics.jsonl`` has it
        (without ``log.jsonl``: when its evaluation had to be run again). So the resumed run ends
        with the rows and evaluations of an uninterrupted one."""
        row, due = self._resumed_row, self._resumed_eval_due
        self._resumed_row = None
        if row is None or self.resumed_from is None or row.get("step") != self.step_count:
            return
        step = self.step_count
        rerun = bool(due and self.cfg.eval.num_tasks and step not in self.eval_results and step not in self.eval_errors)
        if rerun:
            logger.write(f"resume: the evaluation of step {step} did not finish before the run stopped; running it now")
            self._evaluate_at(step, logger)
            write_checkpoint_evals(self.out, self.resumed_from, self.step_count, self.eval_results,
                                   self.eval_errors)
        logged = logger.last_kept_step == step if logger.jsonl_path is not None else not rerun
        if logged:
            return
        metrics = {k: v for k, v in row.items() if k != "step"}
        metrics.update(self.eval_results.get(step, {}))
        self._log_row(logger, step, metrics)

    def _step_or_save_and_raise(self, logger: MetricsLogger) -> dict[str, Any]:
        """:meth:`step`; when its rollouts' verification keeps failing for infrastructure reasons, or
        a prompt it drew does not fit the context (:class:`~.rollout.PromptTooLongError`: bad data or
        settings, which the check at start-up cannot see in an endless procedural source), the step
        had not touched the weights or the optimizer yet: put its data position and RNG back as
        they were when the previous step ended, save that step (unless saved), write the summary
        (``stop_reason`` with the error's notes: the tasks and the fix) and plot, and raise. The
        resumed run then trains exactly what the uninterrupted one would. In step 1 there is nothing
        to save: the summary (``steps`` 0, with the reason) is no run's outputs
        (:func:`~.runs.existing_outputs`), so the same command starts the run again."""
        task_counter, skipped, rng = self.task_counter, self.heldout_skipped, rng_state()
        try:
            return self.step()
        except (RolloutInfrastructureError, PromptTooLongError) as exc:
            self.task_counter, self.heldout_skipped = task_counter, skipped
            set_rng_state(rng)
            if self.step_count > 0 and self._last_saved != self.step_count:
                try:
                    self.save()
                    logger.write(f"saved step {self.step_count}, the last completed step, before stopping")
                except CheckpointSaveError as save_exc:  # the infrastructure error is what to report
                    logger.write(f"could not save step {self.step_count} before stopping: {save_exc}")
            self._write_outputs({"stopped_at_step": self.step_count, "stop_reason": _error_text(exc)}, logger)
            if isinstance(exc, PromptTooLongError):  # (`rlvr train` says how to go on after an infrastructure error)
                changed = " (a resume with changed data needs --allow-config-change)" if self.step_count else ""
                logger.write(resume_hint(self.out, "stopped by a prompt too long for the context", self.step_count)
                             + f"; filter such prompts out of the env's data first{changed}")
            raise

    def _write_outputs(self, extra: dict[str, Any], logger: MetricsLogger | None = None) -> dict[str, Any]:
        """``summary.json`` (the summary so far plus ``extra``) and ``curves.png`` (when ``log.plot``);
        returns the summary. Called at each checkpoint, when the run stops and when it ends. With a
        ``logger`` (the provisional outputs of a run going on or stopping for another reason) a
        failure is only reported: it must neither end the training nor hide the reason it stops."""
        summary = {**self.summary(self._elapsed()), **extra}
        try:
            if self.cfg.log.plot:
                self._plot()
            tmp = self.out / ".summary.json.tmp"
            tmp.write_text(json.dumps(summary, indent=2))
            os.replace(tmp, self.out / "summary.json")
        except Exception as exc:
            if logger is None:
                raise
            logger.write(f"could not update summary.json / curves.png: {type(exc).__name__}: {exc}")
        return summary

    def _evaluate_at(self, step: int, logger: MetricsLogger) -> dict[str, float]:
        """``evaluate()`` for ``step``, kept in ``eval_results``; a failure is logged and kept in
        ``eval_errors`` instead of ending the run (its checkpoint is already saved).

        The evaluation before training (step 0) has no step's row to join, so it is logged as a
        row of its own (``metrics.jsonl``, TensorBoard); a resume keeps it, as every row up to
        its checkpoint's step."""
        try:
            result = self.evaluate()
        except Exception as exc:
            self.eval_errors[step] = _error_text(exc)
            logger.write(f"step {step}: evaluation failed ({self.eval_errors[step]}); training goes on")
            return {}
        self.eval_results[step] = result
        if step == 0:
            logger.log(0, result)
        return result

    def _save_and_hint(self, what: str) -> str:
        """Save the last completed step (unless saved already) and say how to continue."""
        if self.step_count > 0 and self._last_saved != self.step_count:
            self.save()
        return resume_hint(self.out, what, self.step_count)

    def _plot(self) -> None:
        title = f"{self.cfg.env.id} ({self.cfg.algorithm.estimator})"
        if self.cfg.log.jsonl:
            plot_curves(self.out / "metrics.jsonl", self.out / "curves.png", title=title, evals=self.eval_results)
            return
        if self.resumed_from is not None:
            warnings.warn("log.jsonl is off: curves.png shows only the steps trained since the resume")
        plot_curves(None, self.out / "curves.png", title=title, evals=self.eval_results, rows=self.history)

    def run_warmup(self, logger: MetricsLogger | None = None) -> dict[str, float]:
        """Supervised warm-up on gold answers (``warmup.steps``); the warmed-up model becomes the KL
        reference and is saved to ``<output_dir>/warmup_model`` so that a resumed run finds it
        (atomically and fsync'ed; a failed write is a :class:`CheckpointSaveError`). Progress (loss,
        elapsed time) goes to ``logger`` about ten times over the warm-up."""
        from rlvr.trainers.warmup import supervised_warmup

        w, env = self.cfg.warmup, self.cfg.env
        every, t0 = max(1, w.steps // 10), time.perf_counter()

        def progress(step: int, loss: float) -> None:
            if logger is not None and (step % every == 0 or step == w.steps):
                logger.write(f"warm-up step {step}/{w.steps}: loss {loss:.3f} ({time.perf_counter() - t0:.0f}s)")

        stats = supervised_warmup(self.model, self.tokenizer, env.id, env_kwargs=self.env_kwargs, chat_template=env.chat_template,
                                  steps=w.steps, batch_size=w.batch_size, lr=w.lr, mistake=w.mistake,
                                  mistake_rate=w.mistake_rate, seed=self.cfg.train.seed, on_step=progress,
                                  exclude=self.heldout_keys)
        self.engine.load_weights(self.model)
        if self.ref_model is not None:
            self.ref_model.load_state_dict(self.model.state_dict())
            save_reference(self.out, self.step_count, self.model,
                           f"the warmed-up model, the run's KL reference, to {self.out / REFERENCE_DIR}/")
            self.reference = "warmup_model"
        self.warmup_stats = stats
        if logger is not None:
            logger.write(f"warm-up: {stats['warmup_steps']} supervised steps in {stats['warmup_seconds']:.1f}s, loss {stats['warmup_loss']:.3f}")
        return stats

    def summary(self, wall: float) -> dict[str, Any]:
        """``steps``, ``train_seconds`` (the whole run's wall time, warm-up and earlier segments
        included), the warm-up's statistics, and held-out pass@1: ``pass@1_before`` only when there was
        an evaluation before training (step 0), ``pass@1_after`` only when the final step was evaluated.
        With held-out questions: ``heldout_questions`` (how many) and ``heldout_skipped_tasks`` (the
        training tasks skipped as one of them; the warm-up's are ``warmup_heldout_skipped``), and
        ``heldout_since_step`` when a resumed checkpoint predates held-out questions (the steps before
        it may have trained on some of them)."""
        evals = {int(k): v for k, v in self.eval_results.items()}
        out: dict[str, Any] = {"steps": self.step_count, "train_seconds": wall, "output_dir": str(self.out),
                               **self.warmup_stats}
        if evals:
            if 0 in evals:
                out["pass@1_before"] = evals[0].get("eval/pass@1")
            if self.step_count in evals and self.step_count > 0:
                out["pass@1_after"] = evals[self.step_count].get("eval/pass@1")
            out["eval_steps"] = sorted(evals)
        if self.eval_errors:
            out["eval_errors"] = {str(k): v for k, v in sorted(self.eval_errors.items())}
        if self.heldout_keys:  # how the held-out questions were kept out of training
            out["heldout_questions"] = len(self.heldout_keys)
            out["heldout_skipped_tasks"] = self.heldout_skipped
        if self.heldout_since_step is not None:  # steps before it may have trained on held-out questions
            out["heldout_since_step"] = self.heldout_since_step
        return out

    def close(self) -> None:
        """Close the rollout collectors and the engine, and give up the output directory's lock
        (`runs.lock_output_dir`) when this Trainer took it, so another run may use it from then on."""
        from rlvr.trainers.runs import release_output_dir

        self.collector.close()
        if self.eval_collector is not None:
            self.eval_collector.close()
        self.engine.close()
        if self._releases_lock:
            release_output_dir(self.out)
