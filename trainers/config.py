"""The training configuration: a tree of dataclasses, loaded from YAML with ``--set key=value`` overrides.

Every key is checked: an unknown key, a value of the wrong type or out of range raises
:class:`ConfigError` naming the dotted key (``train.lr``) and what would be accepted, with close
matches for typos. ``load_config("configs/demo.yaml", ["train.lr=1e-4", "algorithm.kl_coef=0"])``.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import hashlib
import math
import os
import types
import warnings
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, Sequence

import yaml

__all__ = [
    "ConfigError",
    "ConfigWarning",
    "ModelConfig",
    "EnvConfig",
    "EngineConfig",
    "SamplingConfig",
    "AlgorithmConfig",
    "TrainConfig",
    "EvalConfig",
    "WarmupConfig",
    "LogConfig",
    "Config",
    "load_config",
    "config_from_dict",
    "config_to_dict",
    "apply_overrides",
    "override_value",
    "RESUME_MUTABLE_KEYS",
    "RESUME_CHANGE_NOTES",
    "config_changes",
    "GROUP_ESTIMATORS",
    "training_tasks_per_step",
    "task_ranges",
    "check_task_ranges",
    "MAX_HELDOUT_SKIPS",
    "HELDOUT_KEY",
    "QUESTION_TEXT_KEY",
    "steady_render",
    "question_key",
    "distinct_tasks",
    "NO_ACTION_CHAR_LIMIT",
    "TURN_CHARS_PER_TOKEN",
    "training_env_kwargs",
    "training_max_turns",
    "ENV_KWARGS_RULES",
]


class ConfigError(ValueError):
    """A configuration key or value is invalid; the message names the key and the fix."""


class ConfigWarning(UserWarning):
    """A setting that takes effect in no part of the run (see :meth:`Config.validate`)."""


@dataclass
class ModelConfig:
    """The policy. ``name_or_path``: a Hugging Face id or local directory, or ``"tiny"`` for the
    locally built tiny Llama-style model and character tokenizer (tests, the CPU demo)."""

    name_or_path: str = "tiny"
    # the compute dtype of forward passes; weights and optimizer state stay float32 (mixed precision).
    # auto: bf16 on CUDA GPUs that have it, else fp32. (No float16: it would need loss scaling.)
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    device: str = "auto"  # auto: cuda if available, else cpu; or any torch device ("cpu", "cuda", "cuda:1")
    gradient_checkpointing: bool = False
    trust_remote_code: bool = False
    # the tiny model (name_or_path == "tiny")
    tiny_chat_template: Literal["chatml", "llama3"] = "chatml"
    tiny_hidden_size: int = 64
    tiny_layers: int = 2
    tiny_heads: int = 4
    tiny_kv_heads: int = 2
    tiny_seed: int = 0


@dataclass
class EnvConfig:
    """The environment: a registered id and its keyword arguments."""

    id: str = "rlvr/Arithmetic-v0"
    kwargs: dict = field(default_factory=dict)
    # model turns per episode (None: the env's own limit); a multi-turn env is built with it as its own
    # max_turns (unless kwargs sets one), and more than the env allows is an error
    max_turns: int | None = None
    chat_template: bool | None = None  # None: raw text for compact prompts, the template otherwise
    # procedural tasks: training tasks are indices train_offset, train_offset + 1, ..., at most
    # train.total_steps x train.batch_groups x (1 + algorithm.ds_max_extra_rounds) of them (without dynamic
    # sampling: x 1; see training_tasks_per_step); finite datasets: the data position starts at
    # train_offset (that many tasks of the first pass are skipped)
    train_offset: int = 0
    shuffle: bool = True  # finite datasets: shuffle the order every pass (seeded)


@dataclass
class EngineConfig:
    """The generation engine: ``hf`` (transformers, CPU or GPU) or ``vllm`` (GPU)."""

    name: Literal["hf", "vllm"] = "hf"
    max_batch_size: int = 256  # hf only: sequences per generate call (vLLM: engine.kwargs.max_num_seqs)
    kwargs: dict = field(default_factory=dict)  # extra engine arguments (vLLM: gpu_memory_utilization...)


@dataclass
class SamplingConfig:
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 256
    stop: list = field(default_factory=list)
    # tokens per episode at most, prompt and all turns (None: the model's context); a turn gets at most
    # the room left, an episode without room ends as episode_truncated
    max_context_tokens: int | None = None


@dataclass
class AlgorithmConfig:
    """The RL objective: advantages, clipping, loss aggregation, KL, entropy, filters, overlong."""

    estimator: Literal["grpo", "dr_grpo", "rloo", "reinforce++", "reinforce++-baseline", "process_grpo"] = "grpo"
    scale_std: bool = True  # grpo / process_grpo: divide by the group std
    eps_low: float = 0.2
    eps_high: float = 0.28  # clip-higher (DAPO); equal to eps_low for symmetric PPO clipping
    dual_clip: float | None = None  # e.g. 3.0
    # seq-mean-token-sum-norm (Dr. GRPO) divides by max_new_tokens x the episode's turn limit
    # (env.max_turns, else the env's own)
    loss_agg: Literal["token-mean", "seq-mean-token-mean", "seq-mean-token-sum-norm"] = "token-mean"
    kl_coef: float = 0.0  # 0: no reference model is loaded at all
    # in the loss, k3's gradient is that of KL(ref || pi) and k2's that of KL(pi || ref); k1's is 0 in
    # expectation there (refused): k1 belongs in the reward (see losses.kl_estimate)
    kl_estimator: Literal["k1", "k2", "k3"] = "k3"
    # "reward": the KL penalty joins each sample's reward before the advantages. With grpo's std scaling
    # a group whose task rewards are all equal then gets advantages of about +-1 from KL differences
    # alone; dynamic sampling (on by default) judges groups by task reward and drops such groups first
    kl_in: Literal["loss", "reward"] = "loss"
    entropy_coef: float = 0.0
    tis_cap: float | None = None  # truncated importance sampling cap (engine vs trainer log-probs)
    old_logprobs: Literal["auto", "engine", "recompute"] = "auto"  # auto: engine's when one pass per batch, no TIS, top_p 1
    # DAPO dynamic sampling: keep a group only when a sample the loss sees gets a non-zero advantage
    # from its task rewards (the env's, before the overlong punishment and kl_in=reward's KL), as
    # DAPO drops all-correct and all-wrong groups, and from the rewards optimised; refill the rest
    dynamic_sampling: bool = True
    ds_tol: float = 1e-6  # a group has signal when its rewards' std is above this (with mask_truncated, also a seen sample's advantage)
    ds_max_extra_rounds: int = 2
    # > 0: DAPO soft overlong punishment over the last N tokens before max_new_tokens; an answer cut
    # off by its length limit (finish "length", also the context room left) gets the full punishment.
    # It shapes the reward optimised, not dynamic sampling's judgement: a group that differs only in it is dropped
    overlong_cache_len: int = 0
    overlong_coef: float = 1.0
    mask_truncated: bool = False  # drop from the loss samples whose last turn was cut (finish "length": max_new_tokens or the context room left); episodes out of turns, or with no room for another turn, are kept


@dataclass
class TrainConfig:
    total_steps: int = 100
    batch_groups: int = 16  # prompts per step
    group_size: int = 8  # samples per prompt
    mini_batches: int = 1  # optimizer steps per pass over the batch
    epochs: int = 1  # passes over each batch
    micro_batch_size: int = 0  # sequences per forward/backward (0: the whole mini-batch)
    # don't forward rows whose loss terms are all exactly 0 (same update); the forward passes'
    # statistics (ratio_mean, ratio_max, approx_kl, clip fractions, entropy) then cover only the rows
    # trained, those with a non-zero advantage
    skip_zero_advantage: bool = True
    lr: float = 1e-5
    weight_decay: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    max_grad_norm: float = 1.0
    lr_scheduler: Literal["constant", "linear", "cosine"] = "constant"
    warmup_steps: int = 0
    seed: int = 0
    infra_retries: int = 2


@dataclass
class EvalConfig:
    """Held-out evaluation (pass@1) during and around training.

    Procedural envs: evaluation tasks are indices ``offset, offset + 1, ...``, less each one whose
    question repeats an earlier one (task i is made from seed i: a small task space repeats itself),
    until ``num_tasks`` distinct questions. Training and the warm-up skip every task that asks one of
    them, whatever its index (the run's summary says how many it skipped: ``heldout_skipped_tasks``).
    Finite datasets: with ``env_kwargs`` that select other data (e.g. ``{split: test}``) the first
    ``num_tasks`` tasks of that data are used; with none (the eval env would read the training data)
    the last ``num_tasks`` tasks of the dataset are held out of training and used instead, so the
    evaluation never scores tasks the policy trained on; there too, a training task that asks a
    held-out question is skipped, and a repeated question is evaluated once. That hold-out (and the
    questions training skips) is fixed when the run starts and kept by ``--resume``, whatever
    ``eval.num_tasks`` says then (it decides the training data).
    """

    every: int = 0  # steps between evaluations (0: only before and after)
    num_tasks: int = 0  # 0: no evaluation
    # procedural envs: held-out task indices start here; a run refuses an offset whose tasks training or
    # the warm-up may draw (see check_task_ranges)
    offset: int = 1_000_000
    temperature: float = 0.0  # 0: greedy pass@1
    samples: int = 1
    before: bool = True
    env_kwargs: dict = field(default_factory=dict)  # overrides of env.kwargs for evaluation (e.g. {split: test})


@dataclass
class WarmupConfig:
    """Optional supervised warm-up on the env's gold answers before RL (for tiny models that start
    at zero reward; see :mod:`rlvr.trainers.warmup`). 0 steps: none."""

    steps: int = 0
    batch_size: int = 64
    lr: float = 3e-3
    mistake: str | None = None  # a "noisy teacher": see rlvr.trainers.warmup.MISTAKES
    mistake_rate: float = 0.0


@dataclass
class LogConfig:
    output_dir: str = "runs/rlvr"
    progress: bool = True
    jsonl: bool = True
    tensorboard: bool = True
    plot: bool = True
    save_every: int = 0  # steps between checkpoints (0: only at the end; Ctrl-C / SIGTERM also saves)
    keep_last: int = 2
    save_final: bool = True
    # start afresh in an output_dir that holds a run; its outputs are deleted only when training starts
    overwrite: bool = False


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    env: EnvConfig = field(default_factory=EnvConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    algorithm: AlgorithmConfig = field(default_factory=AlgorithmConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    warmup: WarmupConfig = field(default_factory=WarmupConfig)
    log: LogConfig = field(default_factory=LogConfig)

    def validate(self) -> "Config":
        """Cross-field checks; raises ConfigError naming the key."""
        t, a, s = self.train, self.algorithm, self.sampling
        positive = {
            "train.total_steps": t.total_steps, "train.batch_groups": t.batch_groups,
            "train.group_size": t.group_size, "train.mini_batches": t.mini_batches,
            "train.epochs": t.epochs, "sampling.max_new_tokens": s.max_new_tokens,
            "engine.max_batch_size": self.engine.max_batch_size,
        }
        for key, value in positive.items():
            if value < 1:
                raise ConfigError(f"{key} must be >= 1, got {value}")
        bad_stops = [stop for stop in s.stop if not isinstance(stop, str) or not stop]
        if bad_stops:  # (YAML reads `stop: [a, 5]` as a string and an int)
            raise ConfigError(f"sampling.stop must be a list of non-empty strings, got {bad_stops[0]!r} in {s.stop!r}; "
                              "quote numbers (\"5\")")
        nonneg = {
            "train.lr": t.lr, "train.weight_decay": t.weight_decay, "train.warmup_steps": t.warmup_steps,
            "train.micro_batch_size": t.micro_batch_size, "train.infra_retries": t.infra_retries,
            "algorithm.eps_low": a.eps_low, "algorithm.eps_high": a.eps_high, "algorithm.kl_coef": a.kl_coef,
            "algorithm.entropy_coef": a.entropy_coef, "algorithm.ds_tol": a.ds_tol,
            "algorithm.ds_max_extra_rounds": a.ds_max_extra_rounds, "algorithm.overlong_cache_len": a.overlong_cache_len,
            "sampling.temperature": s.temperature, "eval.every": self.eval.every, "eval.num_tasks": self.eval.num_tasks,
            "eval.temperature": self.eval.temperature, "log.save_every": self.log.save_every,
            "warmup.steps": self.warmup.steps, "warmup.lr": self.warmup.lr,
        }
        nonneg.update({"env.train_offset": self.env.train_offset, "eval.offset": self.eval.offset})
        for key, value in nonneg.items():
            if value < 0:
                raise ConfigError(f"{key} must be >= 0, got {value}")
        for key, value in (("train.beta1", t.beta1), ("train.beta2", t.beta2)):
            if not 0 <= value < 1:
                raise ConfigError(f"{key} must be in [0, 1) (AdamW's moment decay, e.g. 0.9 / 0.999), got {value}")
        if not 0 <= t.seed < 2**63:
            raise ConfigError(f"train.seed must be in [0, 2**63) (it seeds torch, numpy and the data order), got {t.seed}")
        if not a.eps_low < 1:
            raise ConfigError(f"algorithm.eps_low must be in [0, 1) (the ratio is clipped below at 1 - eps_low; at 1 "
                              f"or more that bound is 0 or negative and the clip is silently off), got {a.eps_low}")
        if a.overlong_coef < 0:
            raise ConfigError(f"algorithm.overlong_coef must be >= 0 (a negative one would reward overlong answers), "
                              f"got {a.overlong_coef}")
        if self.env.max_turns is not None and self.env.max_turns < 1:
            raise ConfigError(f"env.max_turns must be >= 1 or null (the env's own limit), got {self.env.max_turns}")
        self._check_temperatures()
        self._check_tiny_model()
        w = self.warmup
        if not 0 <= w.mistake_rate <= 1:
            raise ConfigError(f"warmup.mistake_rate must be in [0, 1] (a share of the targets), got {w.mistake_rate}")
        if w.batch_size < 1:
            raise ConfigError(f"warmup.batch_size must be >= 1, got {w.batch_size}")
        if w.mistake is not None:
            from rlvr.trainers.warmup import MISTAKES

            if w.mistake not in MISTAKES:
                close = difflib.get_close_matches(w.mistake, list(MISTAKES), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(f"warmup.mistake: {w.mistake!r} is not one of {sorted(MISTAKES)} or null{hint}")
        _check_device(self.model.device)
        if self.engine.name == "vllm" and self.model.name_or_path == "tiny":
            raise ConfigError("engine.name=vllm needs a real model (model.name_or_path: a hub id or folder); "
                              "the tiny model runs on engine.name=hf")
        if not 0 < s.top_p <= 1:
            raise ConfigError(f"sampling.top_p must be in (0, 1], got {s.top_p}")
        if a.old_logprobs == "engine" and a.tis_cap is not None:
            raise ConfigError(
                f"algorithm.tis_cap={a.tis_cap} with algorithm.old_logprobs=engine does nothing: truncated importance "
                "sampling weighs by exp(old - sampling) log-probs, and with old_logprobs=engine the old log-probs are "
                "the sampling ones (every weight is 1); use old_logprobs=auto or recompute, or tis_cap=null"
            )
        if a.old_logprobs == "engine" and s.top_p < 1:
            raise ConfigError(
                f"algorithm.old_logprobs=engine with sampling.top_p={s.top_p}: the engine's log-probs are of the "
                "renormalised nucleus, not of the policy; use old_logprobs=auto or recompute (or top_p=1)"
            )
        if t.max_grad_norm <= 0:
            raise ConfigError(f"train.max_grad_norm must be > 0, got {t.max_grad_norm}")
        if t.batch_groups % t.mini_batches:
            raise ConfigError(
                f"train.batch_groups ({t.batch_groups}) must be divisible by train.mini_batches ({t.mini_batches})"
            )
        if a.estimator in GROUP_ESTIMATORS and t.group_size < 2:
            raise ConfigError(
                f"algorithm.estimator={a.estimator} compares the samples of a group, so it needs train.group_size >= 2 "
                f"(got {t.group_size}: every advantage would be 0 and the run would never train); sample at least 2 "
                "completions per prompt, or use algorithm.estimator=reinforce++ (normalised over the whole batch)"
            )
        if a.kl_coef > 0 and a.kl_in == "loss" and a.kl_estimator == "k1":
            raise ConfigError(
                "algorithm.kl_estimator=k1 with algorithm.kl_in=loss does not pull the policy towards the reference: "
                "on the policy's own samples the expected gradient of k1 (log pi - log ref) is E[grad log pi] = 0, so "
                "the term adds only noise; use kl_estimator=k3 (GRPO's choice) or k2 in the loss, or keep k1 with "
                "algorithm.kl_in=reward (where k1 is the standard choice)"
            )
        if a.dual_clip is not None and a.dual_clip <= 1:
            raise ConfigError(f"algorithm.dual_clip must be > 1 (e.g. 3.0) or null, got {a.dual_clip}")
        if a.tis_cap is not None and a.tis_cap <= 0:
            raise ConfigError(f"algorithm.tis_cap must be > 0 or null, got {a.tis_cap}")
        if s.max_context_tokens is not None and s.max_context_tokens < 2:
            raise ConfigError(f"sampling.max_context_tokens must be >= 2 or null (the model's context), got {s.max_context_tokens}")
        if a.overlong_cache_len > s.max_new_tokens:
            raise ConfigError(
                f"algorithm.overlong_cache_len ({a.overlong_cache_len}) must be <= sampling.max_new_tokens ({s.max_new_tokens})"
            )
        if self.eval.samples < 1:
            raise ConfigError(f"eval.samples must be >= 1, got {self.eval.samples}")
        if self.log.keep_last < 1:
            raise ConfigError(f"log.keep_last must be >= 1, got {self.log.keep_last}")
        if isinstance(self.log.output_dir, str):  # `~/runs/x` is the home folder's, as a shell would read it
            self.log.output_dir = os.path.expanduser(self.log.output_dir)
        self._warn_unused()
        self._warn_action_cap()
        return self

    def _warn_action_cap(self) -> None:
        """Warn (:class:`ConfigWarning`, once per process) when ``env.kwargs.max_action_chars``, or
        the evaluation's (``eval.env_kwargs`` over ``env.kwargs``, when it sets its own), is
        below what a turn of ``sampling.max_new_tokens`` tokens may hold (``TURN_CHARS_PER_TOKEN``
        characters a token): the env scores a longer turn 0 as over-long, a right answer included
        (the ``overlong_action_frac`` metric counts them). Unset, the trainer sets no cap
        (:func:`training_env_kwargs`)."""
        tokens = self.sampling.max_new_tokens
        caps = [("env.kwargs", self.env.kwargs.get("max_action_chars"))]
        if self.eval.num_tasks and "max_action_chars" in self.eval.env_kwargs:  # (evaluation: {**env.kwargs, **eval.env_kwargs})
            caps.append(("eval.env_kwargs", self.eval.env_kwargs["max_action_chars"]))
        for key, cap in caps:
            if isinstance(cap, int) and not isinstance(cap, bool) and cap < tokens * TURN_CHARS_PER_TOKEN:
                warnings.warn(ConfigWarning(
                    f"{key}.max_action_chars={cap} may cut turns that sampling.max_new_tokens={tokens} allows (a token "
                    f"is often several characters, up to ~{TURN_CHARS_PER_TOKEN} in code and whitespace): the env scores "
                    "a longer turn 0 as over-long, right or not (overlong_action_frac counts them); raise it, or leave "
                    "it unset for no cap"))

    def _warn_unused(self) -> None:
        """Warn (:class:`ConfigWarning`) about settings that take effect in no part of this run: a
        warning, not an error, since each is what switching a feature off leaves behind (a
        config's ``eval.every`` with ``--set eval.num_tasks=0``, a vLLM config run on hf). Issued
        from one place, each is shown once per process however often the config is validated."""
        if self.eval.every and not self.eval.num_tasks:
            warnings.warn(ConfigWarning(
                f"eval.every={self.eval.every} runs no evaluation: eval.num_tasks is 0 (no evaluation at all); "
                "set eval.num_tasks (e.g. 100) to evaluate every eval.every steps, or eval.every=0"))
        if self.eval.samples > 1 and not self.eval.num_tasks:
            greedy = " and eval.temperature > 0 (greedy decoding evaluates each task once)" if self.eval.temperature == 0 else ""
            warnings.warn(ConfigWarning(
                f"eval.samples={self.eval.samples} runs no evaluation: eval.num_tasks is 0 (no evaluation at all); "
                f"set eval.num_tasks (e.g. 100){greedy} to evaluate {self.eval.samples} samples per task, or eval.samples=1"))
        elif self.eval.samples > 1 and self.eval.temperature == 0:  # (Trainer.evaluate samples once when greedy)
            warnings.warn(ConfigWarning(
                f"eval.samples={self.eval.samples} is ignored: eval.temperature is 0 (greedy decoding gives every sample "
                "of a task the same answer, so each task is evaluated once); set eval.temperature > 0 (e.g. 1.0) to "
                f"average pass@1 over {self.eval.samples} samples per task, or eval.samples=1"))
        if self.engine.name == "hf" and self.engine.kwargs:
            warnings.warn(ConfigWarning(
                f"engine.kwargs ({', '.join(map(str, self.engine.kwargs))}) are ignored: they are passed to the vLLM "
                "engine only (engine.name=vllm), and engine.name is hf; remove them, or set engine.name=vllm"))
        self._warn_unused_algorithm()
        self._warn_unused_warmup()
        self._warn_lr_warmup()

    def _warn_unused_warmup(self) -> None:
        """`_warn_unused` for the supervised warm-up (``warmup.*``): with ``warmup.steps=0`` (no
        warm-up) every other ``warmup.*`` key set to other than its default does nothing, as
        ``--set warmup.steps=0`` over the demo config leaves them; with a warm-up, the noisy teacher
        needs both ``warmup.mistake`` and a ``warmup.mistake_rate`` above 0 (the share of the targets
        it changes), so either one alone changes no target."""
        w, default = self.warmup, WarmupConfig()
        if not w.steps:
            keys = [f"warmup.{f.name}={getattr(w, f.name)}" for f in dataclasses.fields(w)
                    if f.name != "steps" and getattr(w, f.name) != getattr(default, f.name)]
            if keys:
                warnings.warn(ConfigWarning(
                    f"{', '.join(keys)} {'does' if len(keys) == 1 else 'do'} nothing: warmup.steps is 0 (no supervised "
                    "warm-up); set warmup.steps (e.g. 2000) to warm up, or leave the warmup section out"))
        elif w.mistake is not None and w.mistake_rate == 0:
            warnings.warn(ConfigWarning(
                f"warmup.mistake={w.mistake} does nothing: warmup.mistake_rate is 0 (the share of the warm-up targets "
                "the noisy teacher gets wrong); set warmup.mistake_rate (e.g. 0.9), or warmup.mistake=null"))
        elif w.mistake is None and w.mistake_rate > 0:
            warnings.warn(ConfigWarning(
                f"warmup.mistake_rate={w.mistake_rate} does nothing: warmup.mistake is null (the teacher makes no "
                f"mistake); set warmup.mistake (one of {', '.join(sorted(_mistake_names()))}), or warmup.mistake_rate=0"))

    def _warn_lr_warmup(self) -> None:
        """Warn (:class:`ConfigWarning`) when the learning-rate warm-up lasts the whole run
        (``train.warmup_steps >= train.total_steps``): the rate ramps up linearly, one tick a step
        (:func:`rlvr.trainers.policy.lr_lambda`), so ``train.lr`` is reached only on step
        ``warmup_steps``, never within a shorter run, and the decay never starts. A warning, not
        an error: ``--resume`` may raise ``train.total_steps`` later."""
        t = self.train
        if t.warmup_steps and t.warmup_steps >= t.total_steps:
            peak = ("is reached only on the last step" if t.warmup_steps == t.total_steps
                    else f"is never reached (the last step trains at {t.total_steps / t.warmup_steps:.3g} x train.lr)")
            decay = f", and the {t.lr_scheduler} decay never starts" if t.lr_scheduler != "constant" else ""
            warnings.warn(ConfigWarning(
                f"train.warmup_steps={t.warmup_steps} >= train.total_steps={t.total_steps}: the learning rate ramps up "
                f"for the whole run, so the peak rate train.lr={t.lr:g} {peak}{decay}; set train.warmup_steps below "
                "train.total_steps (e.g. a tenth of it)"))

    def _warn_unused_algorithm(self) -> None:
        """`_warn_unused` for the algorithm's settings that only one mode of it reads: each is
        warned about when set to other than its default (what a config that never mentions it has)
        while the mode that reads it is off. ``scale_std=false`` is a warning rather than an error
        for the estimators that never divide by a group std, as the other cases: it is what a
        config's grpo setting leaves behind when ``--set algorithm.estimator=...`` switches away."""
        a, default = self.algorithm, AlgorithmConfig()
        unused: list[str] = []
        if not a.scale_std and a.estimator in ("rloo", "reinforce++", "reinforce++-baseline"):
            what = ("reinforce++ and reinforce++-baseline always divide by the batch's token std"
                    if a.estimator.startswith("reinforce++") else "rloo never divides by a std")
            unused.append(f"algorithm.scale_std=false does nothing with algorithm.estimator={a.estimator} ({what}); "
                          "only grpo and process_grpo honour it (dr_grpo never scales)")
        if a.overlong_cache_len == 0 and a.overlong_coef != default.overlong_coef:
            unused.append(f"algorithm.overlong_coef={a.overlong_coef} does nothing: algorithm.overlong_cache_len is 0 "
                          "(no overlong punishment); set overlong_cache_len (e.g. 64) to use it")
        if not a.dynamic_sampling:
            for key in ("ds_max_extra_rounds", "ds_tol"):
                if getattr(a, key) != getattr(default, key):
                    unused.append(f"algorithm.{key}={getattr(a, key)} does nothing: algorithm.dynamic_sampling is false")
        if a.kl_coef == 0:
            for key in ("kl_in", "kl_estimator"):
                if getattr(a, key) != getattr(default, key):
                    unused.append(f"algorithm.{key}={getattr(a, key)} does nothing: algorithm.kl_coef is 0 (no KL term, "
                                  "no reference model); set kl_coef > 0 to use it")
        for text in unused:
            warnings.warn(ConfigWarning(text))

    def _check_temperatures(self) -> None:
        """Temperatures the engines accept: training samples, so at least ``GREEDY_BELOW`` (a smaller
        one overflows the logits it divides); evaluation may also be greedy (0). vLLM samples only
        at 0 or within [0.01, 2] (``vllm_engine.VLLM_MIN_TEMPERATURE``...): it refuses more, and raises a smaller one to its
        minimum, whose log-probs would then not be those of the temperature the trainer rescores at."""
        from rlvr.trainers.engine import GREEDY_BELOW

        s, e = self.sampling, self.eval
        if s.temperature < GREEDY_BELOW:
            raise ConfigError(
                f"sampling.temperature must be >= {GREEDY_BELOW:g} for training (greedy samples carry no exploration, "
                f"and a temperature below that overflows the logits it divides); use e.g. 1.0, got {s.temperature}")
        if e.temperature != 0 and e.temperature < GREEDY_BELOW:
            raise ConfigError(f"eval.temperature must be 0 (greedy) or >= {GREEDY_BELOW:g} (a smaller one overflows "
                              f"the logits it divides), got {e.temperature}")
        if self.engine.name == "vllm":
            from rlvr.trainers.vllm_engine import VLLM_MAX_TEMPERATURE as high, VLLM_MIN_TEMPERATURE as low

            for key, value in (("sampling.temperature", s.temperature), ("eval.temperature", e.temperature)):
                if value != 0 and not low <= value <= high:
                    raise ConfigError(
                        f"{key}={value}: vLLM (engine.name=vllm) samples only at temperature 0 (greedy) or within "
                        f"[{low:g}, {high:g}] (it refuses a higher one, and silently samples a lower one at {low:g}, "
                        "where its log-probs no longer match the trainer's); use a temperature in that range")

    def _check_tiny_model(self) -> None:
        """The tiny model's shape (``model.tiny_*``): sizes >= 1, heads that split the hidden size into
        an even head size (rotary embeddings rotate pairs of dimensions), key/value heads dividing the heads."""
        m = self.model
        for key, value in (("model.tiny_hidden_size", m.tiny_hidden_size), ("model.tiny_layers", m.tiny_layers),
                           ("model.tiny_heads", m.tiny_heads), ("model.tiny_kv_heads", m.tiny_kv_heads)):
            if value < 1:
                raise ConfigError(f"{key} must be >= 1, got {value}")
        if m.tiny_hidden_size % m.tiny_heads or (m.tiny_hidden_size // m.tiny_heads) % 2:
            raise ConfigError(
                f"model.tiny_heads ({m.tiny_heads}) must split model.tiny_hidden_size ({m.tiny_hidden_size}) into heads "
                "of an even size (rotary embeddings rotate pairs of dimensions), e.g. tiny_heads=4 with tiny_hidden_size=64")
        if m.tiny_heads % m.tiny_kv_heads:
            raise ConfigError(f"model.tiny_kv_heads ({m.tiny_kv_heads}) must divide model.tiny_heads ({m.tiny_heads})")


#: Estimators that compare the samples of a group (the group's mean is the baseline): a group of one
#: has no signal at all, so they need ``train.group_size >= 2``.
GROUP_ESTIMATORS = ("grpo", "dr_grpo", "rloo", "process_grpo", "reinforce++-baseline")


# ------------------------------------------------------------------------------------ task indices


#: The most tasks in a row that training or the warm-up skip because their question is one of the
#: held-out evaluation's before giving up (:class:`ConfigError`): the task space is then (almost)
#: all held out, and drawing on would never end.
MAX_HELDOUT_SKIPS = 1000


#: What :func:`question_key` digests, recorded in checkpoints: keys of a checkpoint that has none
#: digest the question text alone (they were made so before the prompt was keyed).
HELDOUT_KEY = "prompt"
#: What the keys digest when the prompt cannot be keyed (:func:`steady_render`) or there is no
#: prompt to render: the question text alone, as checkpoints without a ``heldout_key`` did.
QUESTION_TEXT_KEY = "question"


def steady_render(render: Callable[[Any], str] | None, source: Any, start: int = 0, *,
                  tasks: int = 3, times: int = 4) -> tuple[Callable[[Any], str] | None, str]:
    """``(render, "")`` when ``render`` (an env's ``make_prompt``) makes the same prompt every time
    for the same task, else ``(None, why)``: a prompt drawn at random (a random few-shot example)
    gives one question a different key each time, so held-out questions would never match the
    training tasks that ask them; such an env is keyed by its question text instead. Checked on
    the first ``tasks`` tasks of ``source`` from ``start`` (those of a finite source that exist),
    each rendered ``times`` times: with 4 random examples, a random prompt passes by chance with
    probability (1/4)^9. A task that ``render`` refuses is left out of the check."""
    if render is None or not callable(getattr(source, "get", None)):
        return render, ""
    size = getattr(source, "size", None)
    stop = start + tasks if size is None else min(start + tasks, size)
    for i in range(start, stop):
        try:
            task = source.get(i)
            first = render(task)
            others = [render(task) for _ in range(times - 1)]
        except Exception:  # (question_key falls back to the question text for it anyway)
            continue
        if any(other != first for other in others):
            return None, (f"the prompt of task {i} differs between renderings of the same task (drawn at random, "
                          "e.g. a random few-shot example), so questions are compared by their question text")
    return render, ""


def question_key(task: Any, render: Callable[[Any], str] | None = None) -> str:
    """What makes two tasks the same question for held-out evaluation: a digest of the prompt the
    model is shown for it, stripped (procedural task ``i`` is made from seed ``i``, so different
    indices can make the same question). ``render`` is the training env's ``make_prompt``: the
    question alone can be generic text ("What is the number?") whose content is in a meta column
    the prompt template shows, or the prompt can be made by a callable. Both training and held-out
    tasks are keyed with the training env's rendering, so an evaluation env that only words the
    prompt differently (``format: chat`` against ``compact``) still asks the same questions. A task
    that ``render`` cannot render (other data with other columns), or no ``render``: the question
    text."""
    text = None
    if render is not None:
        try:
            text = render(task)
        except Exception:  # (the env refuses it: such a task is never a training prompt)
            text = None
    if not isinstance(text, str):
        text = str(task.question)
    return hashlib.sha256(text.strip().encode("utf-8", "surrogatepass")).hexdigest()[:32]


def first_distinct(source: Any, start: int, count: int, limit: int,
                   render: Callable[[Any], str] | None = None) -> tuple[list[int], list[str], list[int]]:
    """The indices of the first ``count`` tasks of ``source`` in ``start..limit - 1`` whose questions
    (:func:`question_key` with ``render``, unless its prompts vary for one task: :func:`steady_render`)
    differ, their keys, and the indices skipped among them as repeats of an earlier question. Held-out
    evaluation (:func:`distinct_tasks`) and procedural benchmarks both take their tasks so."""
    render = steady_render(render, source, start)[0]
    indices: list[int] = []
    keys: list[str] = []
    repeated: list[int] = []
    seen: set[str] = set()
    i = start
    while len(indices) < count and i < limit:
        key = question_key(source.get(i), render)
        if key in seen:
            repeated.append(i)
        else:
            seen.add(key)
            indices.append(i)
            keys.append(key)
        i += 1
    return indices, keys, repeated


def distinct_tasks(source: Any, start: int, count: int, *, stop: int | None = None,
                   render: Callable[[Any], str] | None = None,
                   settings: Sequence[str] = ()) -> tuple[list[int], list[str]]:
    """The indices of the first ``count`` tasks of ``source`` from ``start`` on whose questions
    (:func:`question_key` with ``render``) differ, and their keys: an index whose question repeats
    one already taken is skipped. ``stop``: a finite range (take what it has). Without one (an
    endless procedural source) the search looks at most ``10 * count + 1000`` indices.
    ``settings``: the env's difficulty settings, named in the error as the way to more questions.
    A ``render`` whose prompts vary for one task (:func:`steady_render`) is not used.

    Raises:
        ConfigError: an endless source that gives fewer than ``count`` distinct questions there.
    """
    limit = stop if stop is not None else start + 10 * count + 1000
    indices, keys, _ = first_distinct(source, start, count, limit, render)
    if stop is None and len(indices) < count:
        larger = (f"settings that make more questions ({', '.join(settings)})" if settings
                  else "settings that make more questions")
        raise ConfigError(
            f"eval.num_tasks={count}: the evaluation env makes only {len(indices)} distinct questions from its tasks "
            f"{start}..{limit - 1} (task i is made from seed i, and this generator repeats itself); held-out "
            f"evaluation needs distinct questions that training never sees: lower eval.num_tasks, or use {larger}")
    return indices, keys


#: The ``max_action_chars`` the trainer gives an env whose ``env.kwargs`` sets none: no cap in
#: practice (as ``rlvr eval``'s). A turn is already bounded by ``sampling.max_new_tokens`` and the
#: episode by ``sampling.max_context_tokens``; the envs' own default (16,384 characters, about 4k
#: tokens) would score long right answers 0 as over-long under a larger ``max_new_tokens``.
NO_ACTION_CHAR_LIMIT = 10**9
#: Characters a sampled token may stand for, for the warning about a ``max_action_chars`` below what
#: ``max_new_tokens`` allows (about 4 on average in English text, more in code and runs of spaces).
TURN_CHARS_PER_TOKEN = 8


#: How the trainer derives its envs' settings from the config (:func:`training_env_kwargs`,
#: :func:`training_max_turns`), recorded by checkpoints so that a resumed run keeps the settings it
#: started with. 0 (checkpoints without the record, rlvr before it): envs built with ``env.kwargs``
#: as they are (the envs' own ``max_action_chars`` cap), ``env.max_turns`` lowered to the env's own
#: limit. 1: no ``max_action_chars`` cap unless set, ``env.max_turns`` given to a multi-turn env.
ENV_KWARGS_RULES = 1


def training_env_kwargs(cfg: Config, env: Any, rules: int = ENV_KWARGS_RULES) -> dict[str, Any]:
    """``env.kwargs`` as the trainer builds its envs with them, given ``env``, one built with
    ``env.kwargs`` as they are. An rlvr text env gets what ``env.kwargs`` does not set itself:

    * ``max_action_chars``: :data:`NO_ACTION_CHAR_LIMIT`, so that the env does not score a turn
      ``max_new_tokens`` allows 0 as over-long (the envs' default is a guard for other uses);
    * ``max_turns``: ``env.max_turns`` for a multi-turn env, whose own limit would otherwise cap it
      (a single-turn env is left as it is: the collector then refuses ``env.max_turns`` above 1).

    Other envs (not rlvr's ``TextEnv``, or one whose ``__init__`` does not take the argument) get
    ``env.kwargs`` as they are, and so does every env under ``rules`` 0 (a run resumed from a
    checkpoint of an rlvr before these defaults: :data:`ENV_KWARGS_RULES`)."""
    from rlvr.envs.base import TextEnv
    from rlvr.trainers.turn_limits import single_turn_only

    kwargs = dict(cfg.env.kwargs)
    core = getattr(env, "unwrapped", env)
    if rules < 1 or not isinstance(core, TextEnv):
        return kwargs
    if "max_action_chars" not in kwargs and _takes_argument(type(core), "max_action_chars"):
        kwargs["max_action_chars"] = NO_ACTION_CHAR_LIMIT
    turns = cfg.env.max_turns
    if (turns is not None and "max_turns" not in kwargs and not single_turn_only(core)
            and getattr(core, "max_turns", None) != turns and _takes_argument(type(core), "max_turns")):
        kwargs["max_turns"] = turns
    return kwargs


def training_max_turns(cfg: Config, env: Any, rules: int = ENV_KWARGS_RULES) -> int | None:
    """The ``max_turns`` the trainer gives a collector whose envs are built like ``env``, from
    ``env.max_turns``. Under ``rules`` 0 (an old run resumed) it is lowered to the env's own limit,
    as rlvr did then. Otherwise it is ``env.max_turns`` as set, except on a single-turn env, where
    more than 1 does nothing (every episode ends after its first turn, as it always has): a
    :class:`ConfigWarning`, and the env's own limit. A multi-turn env's limit below it is the
    collector's error (:func:`~.turn_limits.check_max_turns`)."""
    from rlvr.trainers.turn_limits import own_turn_limit, single_turn_only

    turns = cfg.env.max_turns
    if turns is None:
        return None
    if rules < 1:
        return min(own_turn_limit(env), turns)
    if turns > 1 and single_turn_only(env):
        warnings.warn(ConfigWarning(
            f"env.max_turns={turns} does nothing: {cfg.env.id} is a single-turn env, whose every episode ends after "
            "its first turn; leave env.max_turns unset (or use a multi-turn env)"))
        return None
    return turns


def _takes_argument(kind: type, name: str) -> bool:
    """Whether building the text env class ``kind`` with ``name=`` reaches ``TextEnv.__init__``:
    every ``__init__`` on the way (``kind``'s and its bases') names it or passes ``**kwargs`` on."""
    import inspect

    from rlvr.envs.base import TextEnv

    for cls in kind.__mro__:
        if "__init__" not in cls.__dict__:
            continue
        try:
            params = inspect.signature(cls.__dict__["__init__"]).parameters
        except (TypeError, ValueError):
            return False
        if name in params or cls is TextEnv:
            return name in params
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return False
    return False


def training_tasks_per_step(cfg: Config) -> int:
    """The most training tasks one step draws: ``train.batch_groups`` per generation round and, with
    dynamic sampling, up to ``1 + algorithm.ds_max_extra_rounds`` rounds (each may refill the whole batch)."""
    rounds = 1 + cfg.algorithm.ds_max_extra_rounds if cfg.algorithm.dynamic_sampling else 1
    return cfg.train.batch_groups * rounds


def task_ranges(cfg: Config, *, drawn: int = 0, steps_done: int = 0, num_eval_tasks: int | None = None) -> dict[str, range]:
    """The task indices of a procedural env that each part of a run may use.

    ``training``: from ``env.train_offset``, the ``drawn`` tasks of the ``steps_done`` steps so far,
    then :func:`training_tasks_per_step` for each step left (a bound: dynamic sampling draws fewer when
    groups have signal). ``evaluation`` (when ``eval.num_tasks``, or ``num_eval_tasks``, is > 0): from
    ``eval.offset``. ``warm-up`` (``warmup.steps > 0``): its pool (:func:`rlvr.trainers.warmup.warmup_task_range`).
    """
    start, left = cfg.env.train_offset, max(0, cfg.train.total_steps - steps_done)
    ranges = {"training": range(start, start + drawn + left * training_tasks_per_step(cfg))}
    n_eval = cfg.eval.num_tasks if num_eval_tasks is None else num_eval_tasks
    if n_eval > 0:
        ranges["evaluation"] = range(cfg.eval.offset, cfg.eval.offset + n_eval)
    if cfg.warmup.steps > 0:
        from rlvr.trainers.warmup import warmup_task_range

        ranges["warm-up"] = warmup_task_range(cfg.warmup.steps, cfg.warmup.batch_size)
    return ranges


#: The settings behind each range of :func:`task_ranges`, for the error messages.
_RANGE_KEYS = {
    "training": "env.train_offset on, train.total_steps x train.batch_groups x (1 + algorithm.ds_max_extra_rounds)",
    "evaluation": "eval.offset on, eval.num_tasks",
    "warm-up": "warmup.steps x warmup.batch_size, from index {offset}, at most {pool} tasks",
}


def check_task_ranges(cfg: Config, *, drawn: int = 0, steps_done: int = 0, evaluation: bool = True,
                      num_eval_tasks: int | None = None) -> None:
    """Refuse a run on a procedural env whose parts may use the same task indices (:func:`task_ranges`):
    held-out evaluation must never score a task that training or the warm-up drew, and the warm-up
    keeps apart from training. ``evaluation=False``: the evaluation does not use indices from
    ``eval.offset`` (its env, set by ``eval.env_kwargs``, reads a dataset).

    Indices are one half of the guarantee; questions are the other. Task ``i`` is made from seed
    ``i``, so two indices can make the same question: the trainer takes the held-out set as
    distinct questions (:func:`distinct_tasks`; ``num_eval_tasks`` is then the span of indices it
    looked at), and training and the warm-up skip every task whose question is in it. A skipped
    task counts as drawn (the data position moves past it), so ``drawn`` stays exact; the steps
    left are counted by the tasks they *train on*, and each skip moves training one index further.
    Such extra indices cannot bring a held-out question into training (it is skipped), so the
    separation from evaluation holds whatever the skips; how far training reaches is an estimate
    there, exact when nothing is skipped.

    Raises:
        ConfigError: naming both ranges, the settings behind them and a way out.
    """
    ranges = task_ranges(cfg, drawn=drawn, steps_done=steps_done, num_eval_tasks=num_eval_tasks)
    if not evaluation:
        ranges.pop("evaluation", None)
    names = list(ranges)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            a, b = ranges[first], ranges[second]
            if not (a and b and a.start < b.stop and b.start < a.stop):
                continue
            if "evaluation" in (first, second):
                free = max(r.stop for name, r in ranges.items() if name != "evaluation")
                fix = f"move the evaluation past them (e.g. eval.offset={free}) or train on fewer tasks"
                why = "held-out evaluation must never score tasks the run trains on"
            else:
                fix = "move env.train_offset below or above the warm-up's tasks"
                why = "the warm-up keeps to tasks apart from training"
            from rlvr.trainers.warmup import WARMUP_OFFSET, WARMUP_POOL

            keys = {k: v.format(offset=WARMUP_OFFSET, pool=WARMUP_POOL) for k, v in _RANGE_KEYS.items()}
            raise ConfigError(
                f"{first} tasks {a.start}..{a.stop - 1} ({keys[first]}) overlap {second} tasks "
                f"{b.start}..{b.stop - 1} ({keys[second]}): {why}; {fix}")


def _check_device(name: str) -> None:
    """``model.device`` must be ``auto`` or a device torch can parse (``cpu``, ``cuda``, ``cuda:1``)."""
    if name == "auto":
        return
    import torch

    try:
        torch.device(name)
    except (RuntimeError, ValueError):
        raise ConfigError(f"model.device: {name!r} is not a torch device; use auto, cpu, cuda or cuda:N") from None


# ------------------------------------------------------------------------------------ coercion


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "null"
    return getattr(tp, "__name__", str(tp))


def _coerce(key: str, value: Any, tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{key}: {value!r} is not {_type_name(tp)}{hint}")
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None:
            if type(None) in args:
                return None
            raise ConfigError(f"{key} must not be null; expected {_type_name(tp)}")
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(key, value, arg)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(f"{key}: {value!r} is not {_type_name(tp)}")
    if dataclasses.is_dataclass(tp):
        if value is None:  # a section whose keys are all commented out: its defaults
            value = {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key} must be a mapping of settings, got {value!r}")
        return _build(tp, value, key + ".")
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key} must be true or false, got {value!r}")
    if tp is int:
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
            raise ConfigError(f"{key} must be an integer, got {value!r}")
        return int(value)
    if tp is float:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise ConfigError(f"{key} must be a number, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key} must be a number, got {value!r}")
        # NaN passes every range check (all comparisons with it are False) and inf is never meant
        if not math.isfinite(value):
            raise ConfigError(f"{key} must be a finite number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(_not_a_string(key, value))
        return value
    if tp is dict or origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key} must be a mapping, got {value!r}")
        return dict(value)
    if tp is list or origin is list:
        if isinstance(value, str):
            return [value]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key} must be a list, got {value!r}")
        return list(value)
    return value


def _not_a_string(key: str, value: Any, typed: str | None = None) -> str:
    """The refusal of a non-string `value` for the string setting `key`. YAML reads an unquoted
    number (also 12:30, 0755, 1_000), date, true/false/yes/no/on/off or null as that type, not as
    the text written, so the hint is to quote it. `typed`: the text of a --set value, quoted in the
    hint as typed (`_set_not_a_string`). A config file's value reaches here already read by YAML,
    its text lost: rather than suggest YAML's reading (0755 -> '493', off -> 'on'), the hint is to
    quote the value as meant, in the file's syntax."""
    if value is None:
        return f"{key} must be a string, got null (an empty value, or null or ~ unquoted: quote it to mean that text)"
    what = ("the boolean" if isinstance(value, bool) else "the date" if isinstance(value, datetime.date)
            else "the number" if isinstance(value, (int, float)) else "")
    got = f"{key} must be a string, got {what + ' ' if what else ''}{value!r}"
    if typed is not None:
        quoted = "'" + typed.replace("'", "''") + "'"
        reading = "" if str(value) == typed else f" (YAML's reading of {typed!r})"
        return f"{got}{reading}; quote it to mean the text (e.g. --set \"{key}={quoted}\")"
    if not what:
        return got
    return (f"{got} (YAML reads some unquoted text as a {what.split()[1]}); quote the value as you mean it "
            f"(e.g. {key.rsplit('.', 1)[-1]}: '...' in a config file)")


def _build(cls: Any, data: Mapping[str, Any], prefix: str = "") -> Any:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in data if k not in names]
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(str(key), names, n=1)
        hint = f"; did you mean {prefix}{close[0]}?" if close else ""
        raise ConfigError(f"unknown config key {prefix}{key}{hint} (known under {prefix or 'the top level'}: {', '.join(names)})")
    kwargs = {k: _coerce(prefix + k, v, hints[k]) for k, v in data.items()}
    return cls(**kwargs)


def _mistake_names() -> list[str]:
    """The names ``warmup.mistake`` accepts (:data:`rlvr.trainers.warmup.MISTAKES`)."""
    from rlvr.trainers.warmup import MISTAKES

    return list(MISTAKES)


def config_from_dict(data: Mapping[str, Any] | None) -> Config:
    """A validated :class:`Config` from a nested mapping (missing keys take their defaults)."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"a config must be a mapping of sections (model, env, train...), got {type(data).__name__}")
    return _build(Config, data).validate()


def config_to_dict(config: Config) -> dict[str, Any]:
    return dataclasses.asdict(config)


#: Keys ``--resume`` accepts with a value different from the checkpoint's (a ``section.*`` entry
#: covers the whole section). Everything else (data, seed, batch shape, objective, model, engine,
#: sampling) would make the resumed run a different run; changing it needs ``allow_config_change``.
#: The optimizer's hyper-parameters are applied to the restored optimizer on resume.
#: ``train.infra_retries`` only decides how often a group whose verification failed for
#: infrastructure reasons is re-run before the run stops (raising it is the way to ride out a flaky
#: sandbox). ``train.micro_batch_size`` and ``model.gradient_checkpointing`` change memory use, not the
#: update: the loss of a micro-batch is normalised by the whole mini-batch's token and sequence counts,
#: and checkpointing recomputes the same activations (dropout is off), so the update differs by float
#: rounding at most (:data:`RESUME_CHANGE_NOTES` says so when they change).
RESUME_MUTABLE_KEYS = (
    "train.total_steps", "train.lr", "train.weight_decay", "train.beta1", "train.beta2", "train.max_grad_norm",
    "train.infra_retries", "train.micro_batch_size", "model.gradient_checkpointing",
    "log.*", "eval.*",
)

#: What ``--resume`` prints beside a change of these keys (see :data:`RESUME_MUTABLE_KEYS`).
RESUME_CHANGE_NOTES = {
    "train.micro_batch_size": "memory use only: the loss is normalised over the whole mini-batch, so the "
                              "updates differ from the original run's by float rounding at most",
    "model.gradient_checkpointing": "memory use and speed only: the same activations are recomputed, so the "
                                    "updates differ from the original run's by float rounding at most",
}


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, Mapping) and not prefix:  # sections only: dict-valued settings (env.kwargs) are leaves
            out.update(_flatten(v, f"{k}."))
        else:
            out[prefix + k] = v
    return out


def config_changes(saved: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``{dotted key: (saved value, current value)}`` for every setting that differs between two
    :func:`config_to_dict` outputs. Only settings both know are compared: a checkpoint from an older
    rlvr lacks the keys added since (they keep their defaults) and may hold keys since removed."""
    a, b = _flatten(saved), _flatten(current)
    return {k: (a[k], b[k]) for k in sorted(set(a) & set(b)) if a[k] != b[k]}


def resume_mutable(key: str) -> bool:
    """Whether ``key`` may change on ``--resume`` (see :data:`RESUME_MUTABLE_KEYS`)."""
    return any(key == k or (k.endswith(".*") and key.startswith(k[:-1])) for k in RESUME_MUTABLE_KEYS)


def _parse_value(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _setting_type(key: str) -> Any:
    """The declared type of the dotted setting `key` (``log.output_dir`` -> str), or None for a key
    that is not a setting (unknown, or inside a dict-valued one such as env.kwargs)."""
    tp: Any = Config
    for part in key.split("."):
        if not dataclasses.is_dataclass(tp):
            return None
        tp = typing.get_type_hints(tp).get(part)
        if tp is None:
            return None
    return tp


def _typed_override(key: str, raw: str) -> Any:
    """The value of the override ``key=raw``: `raw` parsed as YAML, except that a setting typed str
    (or str or null) takes the text as written when YAML would read a date or a boolean
    (``log.output_dir=2024-01-01``, ``model.name_or_path=on``): what was typed for a string is a
    string. A null stays null (an Optional setting's "unset"; for a plain str one, an error that
    says to quote it)."""
    value = _parse_value(raw)
    if isinstance(value, (bool, datetime.date)) and _setting_type(key) in (str, typing.Optional[str]):
        return raw.strip()
    return value


def override_value(item: str) -> Any:
    """The value of a ``key=value`` override as :func:`apply_overrides` sets it (parsed as YAML:
    ``log.output_dir='2024'`` is the string ``2024``; see `_typed_override`), for callers that read
    one before loading."""
    if "=" not in item:
        return None
    key, raw = item.split("=", 1)
    return _typed_override(key.strip(), raw)


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` overrides (values parsed as YAML) to a nested dict, in place.

    ``overrides`` is a list of strings: a single string (or a dict) is refused with a TypeError,
    as iterating it would read each character (or key) as an override."""
    items = None if isinstance(overrides, (str, bytes, Mapping)) or not hasattr(overrides, "__iter__") else list(overrides)
    if items is None or not all(isinstance(item, str) for item in items):
        raise TypeError(f"overrides must be a list of 'key=value' strings, like ['train.total_steps=7'], "
                        f"got {overrides!r:.100}")
    for item in items:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like key=value, e.g. train.lr=1e-5")
        key, raw = item.split("=", 1)
        key = key.strip()
        parts = key.split(".")
        if not key or any(not p for p in parts):
            raise ConfigError(f"override {item!r} has an empty key; use e.g. train.lr=1e-5")
        node = data
        for p in parts[:-1]:
            nxt = node.setdefault(p, {})
            if not isinstance(nxt, dict):
                raise ConfigError(f"cannot set {key}: {p} is a value, not a section")
            node = nxt
        node[parts[-1]] = _typed_override(key, raw)
        _set_not_a_string(key, raw, node[parts[-1]])
    return data


def _set_not_a_string(key: str, raw: str, value: Any) -> None:
    """Refuse the override ``key=raw`` of a string setting that YAML reads as another type (a
    number such as ``12:30`` -> 750 or ``0755`` -> 493, a list...), with a hint that quotes the text
    as typed: later, in `_coerce`, only YAML's reading of it would be known."""
    if _setting_type(key) in (str, typing.Optional[str]) and value is not None and not isinstance(value, str):
        raise ConfigError(_not_a_string(key, value, typed=raw.strip()))


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key written twice in one mapping (PyYAML keeps the last
    one silently: a second ``train:`` block would wipe the first's settings)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ConfigError(
                    f"duplicate key {key!r} on line {line} (first on line {seen[key]}); "
                    "keep one of them (YAML would silently use the last)"
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


#: The configs shipped with rlvr (the repository's ``configs/``, installed as ``rlvr/configs``).
SHIPPED_CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def find_config(path: str | Path) -> Path:
    """The config file ``path`` names: the file itself, else, for a bare name or ``configs/NAME``
    (as the README writes them), the config of that name shipped with rlvr, so that the documented
    commands also work from a pip-installed rlvr outside the repository. A leading ``~`` is the home
    folder, as in every other path rlvr takes (``--config=~/c.yaml``: no shell expands it there); an
    unknown ``~user`` stays as written, as a shell leaves it (Path.expanduser would raise)."""
    p = Path(os.path.expanduser(str(path)))
    if p.is_file():
        return p
    shipped = SHIPPED_CONFIGS / p.name
    if p.parent in (Path("."), Path("configs")) and shipped.is_file():
        return shipped
    names = sorted(f.name for f in SHIPPED_CONFIGS.glob("*.yaml")) if SHIPPED_CONFIGS.is_dir() else []
    listed = f"; the configs shipped with rlvr ({SHIPPED_CONFIGS}): {', '.join(names)}" if names else ""
    raise ConfigError(f"config file {str(p)!r} not found{listed}; pass --config PATH")


def _config_text(p: Path) -> str:
    """The text of the config file ``p``, which must be UTF-8 (YAML's own encoding); anything else is a
    ConfigError naming the file and the first byte that is not, rather than a UnicodeDecodeError."""
    data = p.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{p} is not UTF-8 text: byte {exc.start} (line {line}) is {data[exc.start:exc.start + 1]!r}; "
                          f"save it as UTF-8") from None


def load_config(path: str | Path | None = None, overrides: Sequence[str] = ()) -> Config:
    """Read a YAML config (or start from defaults when ``path`` is None), apply overrides, validate.
    ``path`` may also name a shipped config (`find_config`); ``overrides`` is a list of
    "key.sub=value" strings (`apply_overrides`)."""
    data: dict[str, Any] = {}
    if path is not None:
        p = find_config(path)
        text = _config_text(p)  # (its error names the file already)
        try:
            loaded = yaml.load(text, Loader=_UniqueKeyLoader)
        except ConfigError as exc:
            raise ConfigError(f"{p}: {exc}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p} is not valid YAML: {exc}") from None
        if loaded is None:  # an empty file (or comments only) would silently train on the defaults
            raise ConfigError(f"{p} is empty: it must hold a mapping of sections (model, env, train...); "
                              "for the defaults, leave out --config")
        if not isinstance(loaded, dict):
            raise ConfigError(f"{p} must hold a mapping of sections (model, env, train...)")
        data = loaded
    apply_overrides(data, overrides)
    return config_from_dict(data)
