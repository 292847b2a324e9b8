"""A short supervised warm-up on an env's gold answers, before RL.

RL on verifiable rewards needs a policy that is right *sometimes*: a randomly initialised model never
is, so every group has equal (zero) rewards and there is no signal. The demo therefore teaches the
tiny model the task's format and some of its content with a few supervised steps (prompt rendered
exactly as the rollouts render it, loss on the gold answer and the end-of-turn token), stopping at a
modest accuracy, and leaves the rest to RL.
"""

from __future__ import annotations

import random
import re
import time
from typing import Any, Callable, Collection, Mapping

import torch

from rlvr.envs.base import opening_messages
from rlvr.trainers.losses import logprobs_from_logits
from rlvr.trainers.opening_prompt import chat_prompt, raw_prompt, template_tools
from rlvr.trainers.rollout import RolloutCollector

__all__ = ["supervised_warmup", "warmup_task_range", "WARMUP_OFFSET", "WARMUP_POOL"]

#: The warm-up's tasks are procedural indices from here on, apart from training's (from
#: ``env.train_offset``, 0 by default) and evaluation's (from ``eval.offset``, 1,000,000 by default);
#: the config checks that they stay apart (:func:`rlvr.trainers.config.check_task_ranges`).
WARMUP_OFFSET = 5_000_000
#: The most distinct tasks the warm-up makes; longer warm-ups cycle through them.
WARMUP_POOL = 8192


def warmup_task_range(steps: int, batch_size: int, *, offset: int = WARMUP_OFFSET, pool_size: int = WARMUP_POOL) -> range:
    """The task indices a warm-up of ``steps`` x ``batch_size`` examples uses: a pool from ``offset`` of
    at most ``pool_size`` tasks (at least one batch), cycled. A task whose question is held out for
    evaluation is skipped and the pool takes the next index instead (:func:`pool_indices`), so the
    pool may reach a little further: those extra indices are no held-out question either."""
    if steps <= 0:
        return range(offset, offset)
    return range(offset, offset + min(steps * batch_size, max(pool_size, batch_size)))


def pool_indices(source: Any, indices: range, exclude: Collection[str] = (),
                 render: Callable[[Any], str] | None = None) -> tuple[list[int], int]:
    """``len(indices)`` task indices from ``indices.start`` on, skipping each task whose question
    (:func:`~rlvr.trainers.config.question_key` of the prompt ``render`` makes, the env's
    ``make_prompt``) is in ``exclude``; and how many were skipped.

    Raises:
        ConfigError: :data:`~rlvr.trainers.config.MAX_HELDOUT_SKIPS` tasks in a row are excluded.
    """
    from rlvr.trainers.config import MAX_HELDOUT_SKIPS, ConfigError, question_key

    if not exclude:
        return list(indices), 0
    out: list[int] = []
    i, run, skipped = indices.start, 0, 0
    while len(out) < len(indices):
        if question_key(source.get(i), render) in exclude:
            skipped += 1
            run += 1
            if run > MAX_HELDOUT_SKIPS:
                raise ConfigError(
                    f"warm-up tasks from index {i - run + 1} on: {run} in a row ask one of the {len(exclude)} questions "
                    "held out for evaluation, which the warm-up never trains on; lower eval.num_tasks or use a larger "
                    "task space")
        else:
            out.append(i)
            run = 0
        i += 1
    return out, skipped


def drop_carry(prompt: str, answer: str) -> str:
    """The classic beginner's mistake on ``a+b=``: add digit by digit and forget every carry
    (``57+68`` -> ``15``). Other prompts keep their answer."""
    m = re.fullmatch(r"\s*(\d+)\+(\d+)=\s*", prompt)
    if not m:
        return answer
    a, b = m.group(1)[::-1], m.group(2)[::-1]
    digits = [(int(a[i]) if i < len(a) else 0) + (int(b[i]) if i < len(b) else 0) for i in range(max(len(a), len(b)))]
    text = "".join(str(d % 10) for d in digits)[::-1].lstrip("0")
    return text or "0"


def off_by_one(prompt: str, answer: str) -> str:
    """The fencepost error: one more than the right integer answer (``57+68`` -> ``126``)."""
    try:
        return str(int(answer) + 1)
    except ValueError:
        return answer


#: Systematic mistakes a "noisy teacher" can make in the warm-up data (``warmup.mistake``).
MISTAKES: dict[str, Callable[[str, str], str]] = {"drop_carry": drop_carry, "off_by_one": off_by_one}


def _examples(env: Any, collector: RolloutCollector, tokenizer: Any, indices: Collection[int], mistake: str | None = None,
              mistake_rate: float = 0.0, seed: int = 0) -> list[tuple[list[int], list[int]]]:
    """(prompt ids, answer ids + EOS) for tasks ``indices``, rendered as the rollouts render them."""
    out = []
    rng = random.Random(seed)
    for i in indices:
        base = env.unwrapped
        task = base.source.get(i)  # straight from the source: no episode bookkeeping needed
        prompt = base.make_prompt(task)
        answer = str(task.answer)
        if mistake and rng.random() < mistake_rate:
            answer = MISTAKES[mistake](prompt, answer)
        messages = opening_messages(base.system_prompt, prompt)  # as the env's reset opens an episode
        if collector.uses_chat_template(env):
            # the env's opening messages and, where its prompt does not list them, its tools, as
            # its reset gives them to the rollout
            tools = template_tools(base.reset_details())
            p = chat_prompt(tokenizer, messages, tools)[1]
        else:  # raw text: the system message, the tools it leaves out, then the prompt, as the rollouts write it
            p = tokenizer.encode(raw_prompt(messages, prompt, template_tools(base.reset_details())), add_special_tokens=False)
            bos = getattr(tokenizer, "bos_token_id", None)
            if bos is not None and (not p or p[0] != bos):
                p = [bos] + p
        out.append((p, tokenizer.encode(answer, add_special_tokens=False) + [tokenizer.eos_token_id]))
    return out


def supervised_warmup(
    model: Any,
    tokenizer: Any,
    env_id: str,
    *,
    env_kwargs: Mapping[str, Any] | None = None,
    chat_template: bool | None = None,
    steps: int = 100,
    batch_size: int = 64,
    lr: float = 3e-3,
    offset: int = WARMUP_OFFSET,
    mistake: str | None = None,
    mistake_rate: float = 0.0,
    seed: int = 0,
    pool_size: int = WARMUP_POOL,
    log_every: int = 0,
    on_step: Callable[[int, float], None] | None = None,
    exclude: Collection[str] = (),
) -> dict[str, float]:
    """Train ``model`` on gold answers of tasks ``offset, offset + 1, ...`` for ``steps`` steps.

    Uses tasks disjoint from RL training (indices from ``env.train_offset``) and held-out evaluation
    (``eval.offset``): :func:`warmup_task_range`, which the trainer's config check keeps apart from them.
    ``mistake``/``mistake_rate``: a "noisy teacher" — that share of the targets carries a systematic
    mistake from :data:`MISTAKES` (as imitation data made by people or weaker models does); RL with an
    exact verifier then has something real to fix. ``log_every`` prints the loss every that many
    steps; ``on_step(step, loss)`` is called after every step (the trainer shows progress with it:
    the demo's warm-up takes minutes). ``exclude``: question keys
    (:func:`~rlvr.trainers.config.question_key`) of the held-out evaluation; a task asking one of them
    is skipped (:func:`pool_indices`). Returns ``{"warmup_steps", "warmup_loss", "warmup_seconds"}``,
    and ``warmup_heldout_skipped`` (tasks skipped) when ``exclude`` is given.
    """
    if mistake is not None and mistake not in MISTAKES:
        raise ValueError(f"unknown warm-up mistake {mistake!r}; choose one of {sorted(MISTAKES)} or none")
    if steps <= 0:
        return {"warmup_steps": 0}
    import rlvr

    env = rlvr.make(env_id, **dict(env_kwargs or {}))

    class _Probe:  # rendering decisions only; no engine is used
        def generate(self, *a: Any) -> None:  # pragma: no cover
            raise AssertionError

    collector = RolloutCollector(_Probe(), lambda: env, tokenizer, chat_template=chat_template)
    # a pool of examples, cycled: making tasks costs more than a tiny model's training step
    from rlvr.trainers.config import steady_render

    # keyed as the trainer keys them: by question text when the env's prompt is drawn at random
    render = steady_render(getattr(env.unwrapped, "make_prompt", None), env.unwrapped.source)[0]
    indices, skipped = pool_indices(env.unwrapped.source, warmup_task_range(steps, batch_size, offset=offset, pool_size=pool_size),
                                    exclude, render)
    pool = len(indices)
    data = _examples(env, collector, tokenizer, indices, mistake, mistake_rate, seed)
    data = [data[k % pool] for k in range(steps * batch_size)]
    device = next(model.parameters()).device
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 10) * max(0.0, 1 - s / steps) + 0.1 * (s / steps))
    model.train()
    pad = tokenizer.pad_token_id or 0
    t0 = time.perf_counter()
    loss_value = float("nan")
    for s in range(steps):
        chunk = data[s * batch_size : (s + 1) * batch_size]
        L = max(len(p) + len(a) for p, a in chunk)
        ids = torch.full((len(chunk), L), pad, dtype=torch.long)
        mask = torch.zeros((len(chunk), L), dtype=torch.float32)
        for i, (p, a) in enumerate(chunk):
            ids[i, : len(p) + len(a)] = torch.tensor(p + a)
            mask[i, len(p) : len(p) + len(a)] = 1.0
        ids, mask = ids.to(device), mask.to(device)
        logits = model(input_ids=ids, use_cache=False).logits[:, :-1]
        lp = logprobs_from_logits(logits, ids[:, 1:])
        m = mask[:, 1:]
        loss = -(lp * m).sum() / m.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        loss_value = float(loss.detach())
        if log_every and (s + 1) % log_every == 0:
            print(f"warmup step {s + 1}/{steps}: loss {loss_value:.3f}", flush=True)
        if on_step is not None:
            on_step(s + 1, loss_value)
    opt.zero_grad(set_to_none=True)  # the last step's gradient must not join the first RL update
    env.close()
    stats = {"warmup_steps": steps, "warmup_loss": loss_value, "warmup_seconds": time.perf_counter() - t0}
    if exclude:
        stats["warmup_heldout_skipped"] = skipped
    return stats
