"""The RL training loop (GRPO / DAPO family), readable top to bottom.

One step of :meth:`Trainer.step`:

1. **Rollouts.** Draw the next ``batch_groups`` tasks, sample ``group_size`` episodes each with the
   engine (token in / token out, :mod:`.rollout`). With dynamic sampling, groups without learning
   signal (all rewards equal) are dropped and more are generated, within a budget of extra rounds
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
6. **Sync** the new weights to the engine, log metrics, checkpoint.

All the maths lives in pure functions; this file only wires them.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import shutil
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from rlvr.trainers import advantages as adv_fns
from rlvr.trainers.checkpoint import latest_checkpoint, load_trainer_state, rng_state, save_checkpoint, set_rng_state
from rlvr.trainers.config import Config, config_to_dict
from rlvr.trainers.dynamic_sampling import fill_batch, group_has_signal, process_group_has_signal
from rlvr.trainers.engine import SamplingParams
from rlvr.trainers.losses import aggregate, kl_estimate, kl_penalised_rewards, kl_penalised_token_rewards, logprobs_from_logits, policy_loss, token_entropy, truncated_is_weights
from rlvr.trainers.metrics import MetricsLogger, plot_curves
from rlvr.trainers.overlong import soft_overlong_penalty
from rlvr.trainers.rollout import RolloutCollector, Trajectory

__all__ = ["Trainer", "ResumeError", "load_policy", "pick_device", "pick_dtype"]


class ResumeError(RuntimeError):
    """``--resume`` cannot continue (no checkpoint, or nothing left to do) or a fresh run would
    overwrite an existing one."""


# ------------------------------------------------------------------------------------ set-up helpers


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("model.device is cuda but no CUDA GPU is available; use model.device=cpu (or auto)")
    return dev


def pick_dtype(name: str, device: torch.device) -> torch.dtype:
    """The compute dtype of forward passes (weights and optimizer state stay float32: see `Trainer`)."""
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16}[name]


def load_policy(cfg: Config) -> tuple[Any, Any]:
    """The model and tokenizer named by ``cfg.model`` (the tiny local model for ``"tiny"``)."""
    m = cfg.model
    if m.name_or_path == "tiny":
        from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer

        tok = build_tiny_tokenizer(m.tiny_chat_template)
        model = build_tiny_model(
            tok, hidden_size=m.tiny_hidden_size, num_layers=m.tiny_layers, num_heads=m.tiny_heads,
            num_kv_heads=m.tiny_kv_heads, seed=m.tiny_seed,
        )
        return model, tok
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(m.name_or_path, trust_remote_code=m.trust_remote_code)
    model = AutoModelForCausalLM.from_pretrained(m.name_or_path, trust_remote_code=m.trust_remote_code, dtype=torch.float32)
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return model, tok


def disable_dropout(model: Any) -> None:
    """Set every dropout probability of ``model`` to 0.

    The engine samples with dropout off (eval mode), so the update's log-probs must be computed with
    it off too: otherwise they are noisy draws rather than the policy's, and the importance ratio
    carries the noise (GPT-2 style configs default to dropout 0.1). Train mode is kept (gradient
    checkpointing needs it); only the probabilities change: `nn.Dropout` modules, and the float
    ``*dropout*`` attributes attention modules pass to their attention kernels.
    """
    for module in model.modules():
        if isinstance(module, torch.nn.modules.dropout._DropoutNd):
            module.p = 0.0
        for name, value in vars(module).items():
            if "dropout" in name and type(value) is float:
                setattr(module, name, 0.0)


def _lr_lambda(kind: str, warmup: int, total: int) -> Callable[[int], float]:
    def f(step: int) -> float:
        if warmup and step < warmup:
            return (step + 1) / warmup
        if kind == "constant":
            return 1.0
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        if kind == "linear":
            return 1.0 - progress
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return f


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


# ------------------------------------------------------------------------------------ the trainer


class Trainer:
    """GRPO/DAPO-family trainer over rlvr environments.

    ``Trainer(config).train()`` builds everything from the config. ``model``/``tokenizer`` may be given
    (e.g. a warmed-up model); ``resume=True`` continues from the latest checkpoint in
    ``config.log.output_dir`` exactly where it stopped.
    """

    def __init__(self, config: Config, *, model: Any = None, tokenizer: Any = None, resume: bool = False) -> None:
        self.cfg = cfg = config.validate()
        self.out = Path(cfg.log.output_dir)
        self._prepare_output_dir(resume)
        torch.manual_seed(cfg.train.seed)
        np.random.seed(cfg.train.seed % 2**32)
        import random

        random.seed(cfg.train.seed)
        self.device = pick_device(cfg.model.device)
        #: the compute dtype of forward passes; the weights and AdamW's state stay float32 (mixed
        #: precision): in bfloat16 an AdamW step of lr ~1e-6 rounds to nothing for almost every weight
        self.dtype = pick_dtype(cfg.model.dtype, self.device)

        # policy, reference (only when a KL term is used), optimizer, scheduler
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
        params = [p for p in self.model.parameters() if p.requires_grad]
        t = cfg.train
        # the fused kernel (CPU and CUDA) updates every tensor in one call: a tiny model's step is 4x cheaper
        fused = bool(params) and all(p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in params)
        self.optimizer = torch.optim.AdamW(params, lr=t.lr, betas=(t.beta1, t.beta2), weight_decay=t.weight_decay, fused=fused or None)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, _lr_lambda(t.lr_scheduler, t.warmup_steps, t.total_steps))

        # engine and rollouts
        self.engine = self._make_engine()
        self.sampling = SamplingParams(
            temperature=cfg.sampling.temperature, top_p=cfg.sampling.top_p,
            max_new_tokens=cfg.sampling.max_new_tokens, stop=tuple(cfg.sampling.stop),
        )
        self.collector = RolloutCollector(
            self.engine, cfg.env.id, self.tokenizer, env_kwargs=cfg.env.kwargs,
            chat_template=cfg.env.chat_template, max_turns=cfg.env.max_turns,
        )
        self.eval_collector: RolloutCollector | None = None
        self.source_size = self._source_size()

        # progress
        self.step_count = 0
        self.task_counter = 0
        self.history: list[dict[str, Any]] = []
        self.eval_results: dict[int, dict[str, float]] = {}
        if resume:
            self._load_checkpoint()

    # -------------------------------------------------------------- set-up

    def _prepare_output_dir(self, resume: bool) -> None:
        ckpt = latest_checkpoint(self.out)
        if resume:
            if ckpt is None:
                raise ResumeError(
                    f"--resume: no checkpoint in {self.out / 'checkpoints'}; run without --resume to start "
                    "(or point log.output_dir at the run to continue)"
                )
            state = load_trainer_state(ckpt)
            if state["step"] >= self.cfg.train.total_steps:
                raise ResumeError(
                    f"--resume: nothing left to do, the checkpoint {ckpt.name} is at step {state['step']} and "
                    f"train.total_steps is {self.cfg.train.total_steps}; raise it (--set train.total_steps=N) "
                    "to train further"
                )
            return
        if ckpt is not None:
            if not self.cfg.log.overwrite:
                raise ResumeError(
                    f"{self.out} already holds a run (checkpoint {ckpt.name}); pass --resume to continue it, "
                    "--set log.overwrite=true to start afresh there, or choose another log.output_dir"
                )
        if self.cfg.log.overwrite:
            for name in ("checkpoints", "metrics.jsonl", "tensorboard", "curves.png", "summary.json"):
                p = self.out / name
                if p.is_dir():
                    shutil.rmtree(p)
                elif p.exists():
                    p.unlink()

    def _make_engine(self) -> Any:
        e = self.cfg.engine
        if e.name == "hf":
            from rlvr.trainers.hf_engine import HFEngine

            return HFEngine(self.model, self.tokenizer, max_batch_size=e.max_batch_size, compute_dtype=self.dtype)
        from rlvr.trainers.vllm_engine import VLLMEngine

        kwargs = dict(e.kwargs)
        kwargs.setdefault("dtype", "bfloat16" if self.dtype == torch.bfloat16 else "auto")
        engine = VLLMEngine(self.cfg.model.name_or_path, seed=self.cfg.train.seed, **kwargs)
        return engine

    def _source_size(self) -> int | None:
        env = self.collector._envs(1)[0]
        return getattr(getattr(env.unwrapped, "source", None), "size", None)

    def _next_task(self) -> dict[str, Any]:
        """Reset options of the next training task (the data position is ``task_counter``)."""
        k = self.task_counter
        self.task_counter += 1
        env = self.cfg.env
        if self.source_size is None:  # endless procedural source: task i is seeded by i
            return {"index": env.train_offset + k}
        size = self.source_size
        epoch, pos = divmod(k, size)
        if env.shuffle:
            pos = int(np.random.default_rng([self.cfg.train.seed, epoch]).permutation(size)[pos])
        return {"index": pos}

    # -------------------------------------------------------------- rewards and advantages

    def shaped_reward(self, t: Trajectory) -> float:
        """The reward optimised: the env's total reward plus the soft overlong punishment."""
        r = t.total_reward
        a = self.cfg.algorithm
        if a.overlong_cache_len > 0:
            longest = max(_turn_lengths(t) or [0])
            r += a.overlong_coef * float(
                soft_overlong_penalty([longest], self.cfg.sampling.max_new_tokens, a.overlong_cache_len)[0]
            )
        return r

    def _has_signal(self, group: list[Trajectory]) -> bool:
        a = self.cfg.algorithm
        if a.estimator == "process_grpo":
            return process_group_has_signal([self._shaped_steps(t) for t in group], tol=a.ds_tol)
        return group_has_signal([self.shaped_reward(t) for t in group], tol=a.ds_tol, estimator=a.estimator)

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
        grouped = rewards.view(-1, n)
        if a.estimator == "grpo":
            adv = adv_fns.grpo_advantages(grouped, scale_std=a.scale_std)
        elif a.estimator == "dr_grpo":
            adv = adv_fns.dr_grpo_advantages(grouped)
        else:
            adv = adv_fns.rloo_advantages(grouped)
        return adv_fns.expand_to_tokens(adv, mask)

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
        """Log-probs (and logits) of the targets of ``rows``, trimmed to their longest sequence."""
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
        size = self.cfg.train.micro_batch_size or len(rows)
        return [rows[i : i + size] for i in range(0, len(rows), size)]

    # -------------------------------------------------------------- one step

    def step(self) -> dict[str, Any]:
        """One RL step: rollouts, rewards, advantages, update, weight sync. Returns its metrics."""
        a, t = self.cfg.algorithm, self.cfg.train
        t_step = time.perf_counter()
        timings0 = dict(self.collector.timings)

        # 1. rollouts, refilled by dynamic sampling; statistics cover every episode generated
        generated: list[Trajectory] = []

        def generate(needed: int, round_index: int) -> list[list[Trajectory]]:
            tasks = [self._next_task() for _ in range(needed)]
            groups = self.collector.collect(tasks, t.group_size, self.sampling, infra_retries=t.infra_retries)
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
        with warnings.catch_warnings():  # a skipped update still advances the schedule (one tick per step)
            warnings.simplefilter("ignore", UserWarning)
            self.scheduler.step()
        self.engine.load_weights(self.model)
        self.step_count += 1
        metrics.update({
            "lr": self.optimizer.param_groups[0]["lr"],
            "time/generate": time_gen, "time/reward": time_env, "time/update": time_update,
            "time/step": time.perf_counter() - t_step,
            "tokens_per_s": sum(tr.response_length for tr in generated) / time_gen if time_gen > 0 else 0.0,
            "trained_groups": len(fill.groups), "task_position": self.task_counter,
        })
        metrics.setdefault("skipped", 0)
        return metrics

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
            "turns_mean": float(np.mean([tr.num_turns for tr in trajs])),
        }

    def _update(self, trajs: list[Trajectory]) -> dict[str, Any]:
        cfg, a, t = self.cfg, self.cfg.algorithm, self.cfg.train
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
            stats["tis_weight_mean"] = float((is_w * mask).sum() / mask.sum().clamp(min=1))
        if ref_lp is not None:
            stats["kl"] = float((kl_estimate(old_lp, ref_lp, a.kl_estimator) * mask).sum() / mask.sum().clamp(min=1))

        adv = self._advantages(trajs, rewards, mask, old_lp, ref_lp).to(mask.dtype)
        if not bool((adv.abs() * mask).sum() > 0):
            stats.update(skipped=1, skip_reason="no learning signal (all advantages are 0)")
            return stats

        B = len(trajs)
        max_len = self.sampling.max_new_tokens * (cfg.env.max_turns or 1)
        # Rows whose every advantage is 0 add exactly 0 to the loss and its gradient when no other
        # term (KL in the loss, entropy bonus) touches them: they are not forwarded. The loss
        # normalisers below still count every row, so the update is the same as with them.
        zero_terms_only = a.entropy_coef == 0 and not (ref_lp is not None and a.kl_in == "loss")
        carries_signal = ((adv != 0) & (mask > 0)).any(-1).cpu()
        stats["rows_trained_frac"] = float(carries_signal.float().mean())
        acc: dict[str, float] = {}
        weight_sum = 0.0
        steps_done = skipped_nonfinite = 0
        grad_norms: list[float] = []
        first_diff = None
        self.model.train()
        for epoch in range(t.epochs):
            order = torch.randperm(B)  # host indices (a device tensor may be indexed with them): no sync to size micro-batches
            for mb in torch.tensor_split(order, t.mini_batches):
                if len(mb) == 0:
                    continue
                m_mb = mask[mb]
                n_tok = float(m_mb.sum())
                n_seq = float((m_mb.sum(-1) > 0).sum()) if a.loss_agg == "seq-mean-token-mean" else float(len(mb))
                nonfinite = False
                if t.skip_zero_advantage and zero_terms_only and bool(carries_signal[mb].any()):
                    mb = mb[carries_signal[mb]]
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
                        kl_t = kl_estimate(lp, ref_lp[rows, :T], a.kl_estimator)
                        loss = loss + a.kl_coef * aggregate(kl_t, m, a.loss_agg, **agg_kw)
                    if a.entropy_coef > 0:
                        ent_t = token_entropy(logits)
                        loss = loss - a.entropy_coef * aggregate(ent_t, m, a.loss_agg, **agg_kw)
                        ent = float((ent_t.detach() * m).sum() / m.sum().clamp(min=1))
                    else:  # a metric only: computed on the loss tokens alone
                        with torch.no_grad():
                            ent = float(token_entropy(logits.detach()[m > 0]).mean()) if bool((m > 0).any()) else 0.0
                    if first_diff is None:  # on-policy check: the trainer's log-probs vs the engine's
                        d = ((lp.detach() - batch["sampling_lp"][rows, :T]).abs() * m)
                        first_diff = float(d.max())
                    if not torch.isfinite(loss):
                        nonfinite = True
                        break
                    loss.backward()
                    w = float(m.sum())
                    weight_sum += w
                    for k, v in {**ps, "loss": float(loss.detach()), "entropy": ent}.items():
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
        stats.update({k: v / max(weight_sum, 1.0) for k, v in acc.items()})
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

    # -------------------------------------------------------------- evaluation

    def evaluate(self, num_tasks: int | None = None, *, temperature: float | None = None, samples: int | None = None) -> dict[str, float]:
        """Held-out pass@1: the mean correctness over ``samples`` episodes on each of ``num_tasks``
        tasks disjoint from training (indices from ``eval.offset``; greedy when temperature is 0).
        Uses its own seeded sampler, so it does not disturb the training RNG (resume stays exact)."""
        e = self.cfg.eval
        num_tasks = e.num_tasks if num_tasks is None else num_tasks
        temperature = e.temperature if temperature is None else temperature
        samples = e.samples if samples is None else samples
        if num_tasks <= 0:
            return {}
        if self.eval_collector is None:
            self.eval_collector = RolloutCollector(
                self.engine, self.cfg.env.id, self.tokenizer, env_kwargs={**self.cfg.env.kwargs, **e.env_kwargs},
                chat_template=self.cfg.env.chat_template, max_turns=self.cfg.env.max_turns,
            )
        size = getattr(getattr(self.eval_collector._envs(1)[0].unwrapped, "source", None), "size", None)
        if size is None:  # procedural: indices from eval.offset never meet the training indices
            indices = range(e.offset, e.offset + num_tasks)
        else:  # a dataset: the first tasks of the evaluation split (set eval.env_kwargs: {split: test})
            indices = range(min(num_tasks, size))
        sampling = dataclasses.replace(self.sampling, temperature=temperature, seed=self.cfg.train.seed + 7919)
        n = samples if temperature > 0 else 1
        groups = self.eval_collector.collect([{"index": i} for i in indices], n, sampling,
                                             infra_retries=self.cfg.train.infra_retries)
        flat = [tr for g in groups for tr in g]
        return {
            "eval/pass@1": float(np.mean([tr.correct for tr in flat])),
            "eval/reward_mean": float(np.mean([tr.total_reward for tr in flat])),
            "eval/response_length": float(np.mean([tr.response_length for tr in flat])),
        }

    # -------------------------------------------------------------- checkpoints

    def save(self) -> Path:
        state = {
            "step": self.step_count,
            "task_counter": self.task_counter,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng": rng_state(),
            "eval_results": self.eval_results,
            "config": config_to_dict(self.cfg),
        }
        return save_checkpoint(self.out, self.step_count, model=self.model, tokenizer=self.tokenizer,
                               state=state, keep_last=self.cfg.log.keep_last)

    def _load_checkpoint(self) -> None:
        from transformers import AutoModelForCausalLM

        ckpt = latest_checkpoint(self.out)
        state = load_trainer_state(ckpt)
        saved = AutoModelForCausalLM.from_pretrained(ckpt / "model", dtype=torch.float32)
        self.model.load_state_dict(saved.state_dict())
        del saved
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step_count = int(state["step"])
        self.task_counter = int(state["task_counter"])
        self.eval_results = dict(state.get("eval_results") or {})
        set_rng_state(state["rng"])
        self.engine.load_weights(self.model)
        if self.ref_model is not None and (self.out / "warmup_model").is_dir():  # the reference is the warmed-up model
            ref = AutoModelForCausalLM.from_pretrained(self.out / "warmup_model", dtype=torch.float32)
            self.ref_model.load_state_dict(ref.state_dict())
        self.resumed_from = ckpt

    # -------------------------------------------------------------- the loop

    def train(self) -> dict[str, Any]:
        """Run until ``train.total_steps``; returns a summary (also written to ``summary.json``)."""
        cfg = self.cfg
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "config.json").write_text(json.dumps(config_to_dict(cfg), indent=2))
        logger = MetricsLogger(self.out, cfg.train.total_steps, progress=cfg.log.progress, jsonl=cfg.log.jsonl,
                               tensorboard=cfg.log.tensorboard, start_step=self.step_count)
        t0 = time.perf_counter()
        try:
            if self.step_count == 0 and cfg.warmup.steps:
                self.run_warmup(logger)
            if self.step_count == 0 and cfg.eval.before and cfg.eval.num_tasks:
                self.eval_results[0] = self.evaluate()
                logger.write(f"step 0: held-out pass@1 {self.eval_results[0]['eval/pass@1']:.3f}")
            while self.step_count < cfg.train.total_steps:
                metrics = self.step()
                step = self.step_count
                last = step == cfg.train.total_steps
                if cfg.eval.num_tasks and ((cfg.eval.every and step % cfg.eval.every == 0) or last):
                    self.eval_results[step] = self.evaluate()
                    metrics.update(self.eval_results[step])
                if metrics.get("note"):
                    logger.write(f"step {step}: {metrics['note']}")
                logger.log(step, metrics)
                self.history.append(metrics)
                if (cfg.log.save_every and step % cfg.log.save_every == 0) or (last and cfg.log.save_final):
                    self.save()
        finally:
            logger.close()
        summary = self.summary(time.perf_counter() - t0)
        if cfg.log.plot and cfg.log.jsonl:
            plot_curves(self.out / "metrics.jsonl", self.out / "curves.png", title=f"{cfg.env.id} ({cfg.algorithm.estimator})",
                        evals=self.eval_results)
        (self.out / "summary.json").write_text(json.dumps(summary, indent=2))
        return summary

    def run_warmup(self, logger: MetricsLogger | None = None) -> dict[str, float]:
        """Supervised warm-up on gold answers (``warmup.steps``); the warmed-up model becomes the KL
        reference and is saved to ``<output_dir>/warmup_model`` so that a resumed run finds it."""
        from rlvr.trainers.warmup import supervised_warmup

        w, env = self.cfg.warmup, self.cfg.env
        stats = supervised_warmup(self.model, self.tokenizer, env.id, env_kwargs=env.kwargs, chat_template=env.chat_template,
                                  steps=w.steps, batch_size=w.batch_size, lr=w.lr, mistake=w.mistake,
                                  mistake_rate=w.mistake_rate, seed=self.cfg.train.seed)
        self.engine.load_weights(self.model)
        if self.ref_model is not None:
            self.ref_model.load_state_dict(self.model.state_dict())
            self.model.save_pretrained(self.out / "warmup_model")
        self.warmup_stats = stats
        if logger is not None:
            logger.write(f"warm-up: {stats['warmup_steps']} supervised steps in {stats['warmup_seconds']:.1f}s, loss {stats['warmup_loss']:.3f}")
        return stats

    def summary(self, wall: float) -> dict[str, Any]:
        evals = {int(k): v for k, v in self.eval_results.items()}
        out: dict[str, Any] = {"steps": self.step_count, "train_seconds": wall, "output_dir": str(self.out),
                               **getattr(self, "warmup_stats", {})}
        if evals:
            first, last = evals[min(evals)], evals[max(evals)]
            out.update({"pass@1_before": first.get("eval/pass@1"), "pass@1_after": last.get("eval/pass@1"),
                        "eval_steps": sorted(evals)})
        return out

    def close(self) -> None:
        self.collector.close()
        if self.eval_collector is not None:
            self.eval_collector.close()
        self.engine.close()
