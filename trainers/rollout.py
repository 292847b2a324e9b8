"""Rollouts: drive text environments turn by turn with an engine, token in and token out.

:func:`collect_rollouts` runs ``n`` episodes (a *group*) for each of a list of tasks and returns one
:class:`Trajectory` per episode, grouped by task. The trainer turns groups into advantages; an
evaluation (``rlvr eval``) is the same rollout without the update.

How the token sequence of an episode is built (the trainer's contract)
---------------------------------------------------------------------
* The opening prompt is rendered once: with the tokenizer's chat template over the env's first
  messages (system + user, ``add_generation_prompt=True``), or as raw text for terse procedural
  prompts (``format="compact"`` envs, ``chat_template=False``, or a tokenizer without a chat
  template). Raw text is the env's system message, a blank line, then the prompt
  (:func:`raw_prompt`; the listing of tools the system message leaves out, and any other opening
  message, a few-shot example's, come between them, each after a blank line): the system message
  carries instructions the model needs (ToolMath-v0's tools and call format, a ``system_prompt=``),
  so it is not dropped.
* Each model turn appends the *exact* ids the engine sampled (loss mask 1) with their sampling
  log-probs. What the model sampled is never re-tokenised from text.
* Each environment reply is appended as the chat template renders it (loss mask 0): the template is
  applied to the conversation before and after the env's messages and the rendered difference is
  tokenised in context, as the tokenizer encodes it after the episode's tokens so far (not as a
  string of its own: a SentencePiece-style tokenizer, ``Metaspace(prepend_scheme="first")``, would
  start it with a ``"▁"`` the rendering does not have). The end-of-turn text the template puts after
  an assistant message (``<|im_end|>`` + ``"\\n"`` for ChatML) is matched against what the model
  sampled, so only the part the model did not produce (the ``"\\n"``, or the whole end-of-turn
  marker of a truncated turn) is added, with mask 0. So the sequence equals the template's rendering
  of the same conversation (tests check ChatML and Llama-3 templates, byte-level BPE and
  SentencePiece-style tokenizers), and what the model sees at turn ``t + 1`` is exactly what it
  produced at ``t``; an episode cut short (out of ``max_turns`` or of context) ends with the model's
  last turn, the env's last reply left out of the tokens (it stays in ``messages``).
* When the template renders the assistant message differently from what the model sampled (a
  template that trims content or rewrites ``<think>`` blocks), or renders it differently once a reply
  follows it (Qwen3 drops an empty think block), the model's tokens are kept as they are and the turn
  is closed with the template's end-of-turn marker (what it writes after a message's content), less
  the part the model sampled (its EOS); the env's reply is what the template writes after that turn,
  and the trajectory is flagged ``template_mismatch`` (only turns the env replied to are compared:
  the episode's last model turn is kept as sampled, unchecked). So is an episode whose reply cannot be
  tokenised as in the rendering because the rendering's tokens span the boundary between the model's
  last token and the reply (a template that writes plain text, no special token, after a turn the
  model ended without one: ``"\\n"`` sampled, ``"\\n\\n"`` a single token in the rendering), and a
  turn the env replied to whose sampled ids end inside a multi-byte UTF-8 character (their text, and
  the rendering's, have U+FFFD where the ids have the character's first bytes).
* In raw-text mode the observation is appended as it tokenises after the model's turn.
* The env judges the turn's text as sampled: engines cut a matched stop string from ``text`` (as
  OpenAI's API does), and it is put back for the env (``stop=["</tool_call>"]`` must not turn a
  closed tool call into an unclosed one). So is the text of a ``stop_token_ids`` token that is
  not a special token (``stop_token_ids=[id of "</tool_call>"]``, an added token Qwen's tokenizer
  keeps in text), which the engines leave out of ``text`` too; EOS and other special tokens are
  no text and stay out.
* In chat-template mode the model sees the env's reply only through the messages the env adds to
  ``info["messages"]`` (the chat history of the env contract); an env that replies with text but adds
  no message raises an error rather than training on turns whose feedback the model never saw.
* An episode stays within ``max_context_tokens`` (default: the model's context): each turn may
  generate at most the room left, and an episode with no room left for another turn (after the env's
  reply) ends with ``episode_truncated=True``, as one out of turns does; the reply that did not fit is
  left out. A prompt that fills the context alone is an error (bad data or settings, not a model
  failure): :class:`PromptTooLongError`, naming every task of the call whose prompt does not fit, so
  a caller may drop them and go on with the others (``rlvr eval`` skips them).
  Chat-level: a later turn the server refuses as longer than the model's context ends the episode
  the same way (``episode_truncated=True``); first prompts refused so are told apart from the others
  (see :meth:`RolloutCollector._send_or_split`: the openai engine reports each in its place, other
  chat engines' calls are halved), each distinct one sent once more with ``max_tokens=1`` to tell a
  prompt that fills the context alone from one that leaves less room than the ``max_tokens`` asked,
  and raised as a :class:`PromptTooLongError` with that reason for each, even when every
  conversation of the call is refused; the other episodes are finished first and carried by the
  error (``groups``).
  A server that caps ``max_tokens`` to the room left (vLLM, ``rlvr serve``) refuses only a
  conversation that fills the context, so such episodes match token-level ones; one that refuses
  prompt + ``max_tokens`` over the context (OpenAI) ends them truncated while a short reply might
  still have fit.

Engines that only work at the chat level (an OpenAI-compatible server) expose
``generate_chat(conversations, n, sampling, tools=None) -> list[list[Sample]]``; pass ``tokenizer=None``
(or such an engine without ``generate``) and trajectories carry texts, messages and rewards only.
An engine marked ``chat_only = True`` (the openai engine, whose ``generate`` refuses) stays chat-level
with a tokenizer too: the tokenizer then only decodes the ``stop_token_ids`` token a server names
as ``stop_reason``, so the env gets its text back.

Each turn, the envs of all live episodes are stepped together (`rlvr.envs.stepping.step_envs`, the
stepping of `TextVectorEnv`): plain verifications in one batch per verifier, sandboxed code and tool
calls concurrently in threads.

Seeds: with ``sampling.seed`` set, the first turn of the episode at position ``i`` of a call is drawn
with ``seed + i`` by engines that seed each prompt on its own (vllm, openai; the ``hf`` engine seeds
one generator per call). A later turn is drawn with ``turn_seed(seed, turn)`` plus the episode's
position among the episodes still running, so it depends on which other episodes share the call
and which have ended: in a multi-turn env only the first turn is reproducible from an episode's own
seed, its later turns only when the call is made up the same way.

Trajectories whose verification failed for infrastructure reasons (sandbox down, verifier crash),
or whose env returned a non-finite reward (NaN, inf: a broken reward, not a score), have
``valid=False``: they must never be trained on as a zero reward. ``infra_retries`` re-runs the
groups holding such episodes and raises :class:`RolloutInfrastructureError` when retries run out.

Where the parts live: the trajectory record and the errors of a rollout in :mod:`.trajectory`; the
opening prompt (chat template or raw text) in :mod:`.opening_prompt`; how the text around a model's
turn becomes token ids (the token-boundary rules above) in :mod:`.chat_tokens`; the turn limits in
:mod:`.turn_limits`. This module runs the episodes: :class:`RolloutCollector` and
:func:`collect_rollouts`. The names moved out are importable from here as before.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import operator
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from rlvr.trainers import chat_tokens
from rlvr.trainers.engine import VERBATIM, Sample, SamplingParams, added_vocab, context_length_of, generate_by_limit, special_vocab
from rlvr.trainers.opening_prompt import PROMPT_LAYOUT, chat_prompt, raw_prompt, raw_system_text, template_tools
from rlvr.trainers.trajectory import (
    PromptTooLongError, RolloutInfrastructureError, Trajectory, merged_refusals, task_options,
)
from rlvr.trainers.turn_limits import check_max_turns, env_label, own_turn_limit, single_turn_only

__all__ = [
    "Trajectory",
    "RolloutInfrastructureError",
    "PromptTooLongError",
    "RolloutCollector",
    "collect_rollouts",
    "task_options",
    "chat_prompt",
    "raw_prompt",
    "own_turn_limit",
    "check_max_turns",
    "single_turn_only",
    "PROMPT_LAYOUT",
    "raw_system_text",
    "template_tools",
]


@dataclass(frozen=True)
class _Refused:
    """A first-turn conversation the server refused as longer than the model's context: its refusal."""

    reason: str


def turn_seed(seed: int, turn: int) -> int:
    """The sampling seed of a rollout's `turn` (> 0) from its first turn's `seed`.

    Hashed, not `seed + turn`: vLLM seeds the prompts of a call `seed + i * n` (then `+ j` per
    sample), so `seed + turn` would give episode k's later turn the random stream of episode
    k + turn's first one; and the hf engine, one generator per call, would replay a neighbouring
    seed's random numbers."""
    import numpy as np

    return int(np.random.SeedSequence([int(seed) % 2**63, turn]).generate_state(1)[0]) % 2**31


def _shared_task_options(env: Any, opts: Mapping[str, Any]) -> dict[str, Any] | None:
    """Reset options that give the other episodes of a group the task ``env`` has just drawn.

    The ``n`` episodes of a group ask the same task; building it (a procedural generator, a dataset
    row) once instead of ``n`` times saves real time per step. Only for rlvr's own text envs, whose
    ``reset`` takes ``{"task": Task}`` and draws nothing else from the options, and only for
    ``{"index": i}`` options (a task given directly is already built; a reset without options draws
    from each env's own generator and stays as it is)."""
    if set(opts) != {"index"}:
        return None
    from rlvr.envs.base import TextEnv

    core = getattr(env, "unwrapped", env)
    if not isinstance(core, TextEnv) or type(core).reset is not TextEnv.reset or getattr(core, "task", None) is None:
        return None
    return {"task": core.task}


class _Episode:
    """Book-keeping of one running episode."""

    __slots__ = ("traj", "env", "messages", "tools", "done", "context_text")

    def __init__(self, traj: Trajectory, env: Any) -> None:
        self.traj = traj
        self.env = env
        self.messages: list[dict[str, Any]] = []
        self.tools: Any = None
        self.done = False
        self.context_text = ""  # the rendered text the token ids stand for (chat-template mode)


def _open_episode(env: Any, reset_options: Mapping[str, Any], task_options: Mapping[str, Any], group: int,
                  index: int) -> _Episode:
    """An episode of ``env`` reset with ``reset_options``: its trajectory (task id, prompt, the
    ``task_options`` it was asked with), its opening messages and the tools its template lists."""
    prompt, info = env.reset(options=reset_options)
    traj = Trajectory(task_id=str(info.get("task_id", "")), group=group, index=index, prompt=prompt,
                      task_options=dict(task_options))
    ep = _Episode(traj, env)
    ep.messages = list(info.get("messages") or [{"role": "user", "content": prompt}])
    ep.tools = template_tools(info)
    return ep


# ------------------------------------------------------------------------------------ collector


def _drop_refused(live: list[_Episode], samples: list[Any], refused: list[tuple[int, str, str]]) -> tuple[list[_Episode], list[Any]]:
    """The live episodes whose first prompt the server did not refuse, with their samples. Each
    refused one (its sample a ``_Refused``) ends unfinished and is added to ``refused`` as (group,
    task id, reason), for :class:`PromptTooLongError`."""
    kept = []
    for ep, sample in zip(live, samples):
        if isinstance(sample, _Refused):
            ep.done = True
            refused.append((ep.traj.group, ep.traj.task_id, sample.reason))
        else:
            kept.append((ep, sample))
    return [ep for ep, _ in kept], [sample for _, sample in kept]


def _end_overflowed(live: list[_Episode], samples: list[Sample | None]) -> tuple[list[_Episode], list[Sample]]:
    """The live episodes that got a sample, with their samples. The others' conversations outgrew the
    model's context (a chat-level server refused them): they end truncated, as a token-level episode
    out of context does, their last env reply staying in ``messages``."""
    kept = []
    for ep, sample in zip(live, samples):
        if sample is None:
            ep.done = True
            ep.traj.episode_truncated = True
        else:
            kept.append((ep, sample))
    return [ep for ep, _ in kept], [sample for _, sample in kept]


def _reset_options(position: int, task: Any) -> dict[str, Any]:
    """The reset options ``collect`` passes for one entry of its ``tasks``: a mapping as a dict, an
    integer index (a NumPy integer too: ``rng.choice(100, size=8)``) as ``{"index": i}``. A bool (an
    int to Python, but surely a mistake for a task index) and anything else raise TypeError naming
    the entry, before any episode runs."""
    if isinstance(task, Mapping):
        return dict(task)
    if not isinstance(task, bool):
        try:
            return {"index": operator.index(task)}
        except TypeError:
            pass
    raise TypeError(f"tasks[{position}] must be a task index (an int) or a mapping of reset options "
                    f"({{'index': i}} or {{'task': Task(...)}}), got {type(task).__name__} {task!r:.60}")


class RolloutCollector:
    """Runs groups of episodes with one engine over a pool of environments (reused across calls).

    Args:
        engine: an :class:`~rlvr.trainers.engine.Engine` (token level: ``generate``) or a chat-level
            engine with ``generate_chat``.
        env: an env id (built with ``rlvr.make(env, **env_kwargs)``) or a factory returning an env.
        tokenizer: the engine's tokenizer; None drives a chat-level engine (no token ids). An engine
            with ``chat_only = True`` is driven at the chat level with one too (which then only
            decodes a ``stop_token_ids`` token the engine reports as ``meta["stop_reason"]``).
        env_kwargs: keyword arguments for ``rlvr.make``.
        chat_template: True renders prompts with the tokenizer's chat template, False as raw text,
            None (default) decides: raw text for ``format="compact"`` envs or tokenizers without a
            chat template, the template otherwise.
        max_turns: model turns per episode at most (None: the env's own limit). More than the
            env's own limit is a ValueError (:func:`check_max_turns`) when the first env is built
            (:meth:`turn_limit`, :meth:`collect`): raise the env's limit with its own ``max_turns``.
        add_bos: in raw-text mode, start the prompt with the tokenizer's BOS token when it has one.
        max_context_tokens: tokens per episode at most, prompt and every turn included (token-level
            engines). None: the engine's ``context_length`` (the model's context), else the tokenizer's
            ``model_max_length`` when it gives a real one, else no limit. It may not exceed the
            engine's ``context_length``.
    """

    def __init__(
        self,
        engine: Any,
        env: str | Callable[[], Any],
        tokenizer: Any = None,
        *,
        env_kwargs: Mapping[str, Any] | None = None,
        chat_template: bool | None = None,
        max_turns: int | None = None,
        add_bos: bool = True,
        max_context_tokens: int | None = None,
    ) -> None:
        if isinstance(env, str):
            import rlvr

            env_id, kwargs = env, dict(env_kwargs or {})
            self._factory: Callable[[], Any] = lambda: rlvr.make(env_id, **kwargs)
            self.env_name = env_id
        elif callable(env):
            if env_kwargs:
                raise ValueError("env_kwargs are for env ids; bind them into the factory instead")
            self._factory = env
            self.env_name = getattr(env, "__name__", type(env).__name__)
        else:
            raise TypeError(f"env must be an env id like 'rlvr/Arithmetic-v0' or a factory, got {type(env).__name__}")
        if max_turns is not None and max_turns < 1:
            raise ValueError(f"max_turns must be >= 1, got {max_turns}")
        self.engine = engine
        self.tokenizer = tokenizer
        self.max_turns = max_turns
        self.add_bos = add_bos
        self.token_level = tokenizer is not None and callable(getattr(engine, "generate", None)) and not getattr(engine, "chat_only", False)
        if not self.token_level and not callable(getattr(engine, "generate_chat", None)):
            raise TypeError(
                f"{type(engine).__name__} has no usable generate(): pass the engine's tokenizer for a "
                "token-level engine, or use an engine with generate_chat(conversations, n, sampling)"
            )
        self.max_context_tokens = self._context_limit(max_context_tokens)
        self._special_tokens: list[str] | None = None  # the tokenizer's added tokens, read once when needed
        self._added_vocab: dict[str, int] | None = None  # the tokenizer's added vocabulary, read once when needed
        self._special_vocab: dict[str, int] | None = None  # its special tokens (not text), read once when needed
        self._refusals_kw: bool | None = None  # whether engine.generate_chat takes refusals="return", read once
        self._max_tokens_fit: set[int] = set()  # max_tokens values a one-word conversation was accepted with
        self._stop_strings: tuple[str, ...] = ()  # the stop strings of the sampling of the current `collect`
        self._stop_token_ids: frozenset[int] = frozenset()  # and its stop_token_ids
        self._pool: list[Any] = []
        self._threads: ThreadPoolExecutor | None = None  # steps envs that wait (sandbox, tools) concurrently
        self._thread_count = 0
        self._chat_template = chat_template
        #: seconds spent in the engine and in the envs (verification) since creation
        self.timings: dict[str, float] = {"generate": 0.0, "env": 0.0}
        #: groups re-run by `collect(infra_retries=...)` because an episode's verification failed
        #: for infrastructure reasons, since creation (the trainer logs it per step)
        self.infra_retried_groups = 0

    def _context_limit(self, requested: int | None) -> int | None:
        """The episode length limit in tokens: ``requested`` (checked against the engine's context),
        else the engine's ``context_length``, else the tokenizer's ``model_max_length`` when real."""
        if requested is not None and (isinstance(requested, bool) or not isinstance(requested, int) or requested < 2):
            raise ValueError(f"max_context_tokens must be an integer >= 2 (a prompt token and a generated one) or None, got {requested!r}")
        if not self.token_level:
            return None  # chat-level engines: no token ids to count
        engine_limit = getattr(self.engine, "context_length", None)
        engine_limit = engine_limit if isinstance(engine_limit, int) and engine_limit > 0 else None
        if requested is None:
            return engine_limit if engine_limit is not None else context_length_of(None, self.tokenizer)
        if engine_limit is not None and requested > engine_limit:
            raise ValueError(
                f"max_context_tokens ({requested}) exceeds the engine's context of {engine_limit} tokens (the "
                "model's position limit, or vLLM's max_model_len); lower it or leave it unset to use the model's context"
            )
        return requested

    # -------------------------------------------------------------- pool

    def turn_limit(self) -> int:
        """Model turns an episode may have at most: ``max_turns``, else the env's own limit. A
        ``max_turns`` above the env's own limit raises ValueError (:func:`check_max_turns`)."""
        return check_max_turns(self._envs(1)[0], self.max_turns)

    def _envs(self, count: int) -> list[Any]:
        while len(self._pool) < count:
            self._pool.append(self._factory())
        return self._pool[:count]

    def _step_pool(self, count: int) -> ThreadPoolExecutor:
        """The threads that step envs concurrently: one per live episode, at most 64."""
        workers = min(max(count, 1), 64)
        if self._threads is None or self._thread_count < workers:
            if self._threads is not None:
                self._threads.shutdown(wait=False)
            self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rlvr-rollout")
            self._thread_count = workers
        return self._threads

    def close(self) -> None:
        if self._threads is not None:
            self._threads.shutdown(wait=True)
            self._threads = None
        for env in self._pool:
            try:
                env.close()
            except Exception:  # pragma: no cover - closing is best effort
                pass
        self._pool.clear()

    def uses_chat_template(self, env: Any) -> bool:
        if self._chat_template is not None:
            return bool(self._chat_template)
        if self.tokenizer is None or not getattr(self.tokenizer, "chat_template", None):
            return False
        return not bool(getattr(getattr(env, "unwrapped", env), "compact", False))

    # -------------------------------------------------------------- public

    def collect(
        self,
        tasks: Sequence[Mapping[str, Any] | int],
        n: int,
        sampling: SamplingParams,
        *,
        infra_retries: int | None = None,
        start_group: int = 0,
    ) -> list[list[Trajectory]]:
        """Run ``n`` episodes per task; ``[task][sample]``.

        ``tasks``: reset options per task (``{"index": i}``, ``{"task": Task(...)}``) or plain ints
        (indices; a NumPy integer counts as one, a bool does not). ``infra_retries``: None returns
        invalid episodes as they are (``valid=False``); an int re-runs groups holding invalid episodes up to that many times, then raises
        :class:`RolloutInfrastructureError`. A :class:`PromptTooLongError` that carries the other
        groups (chat-level engines) is raised after those groups had their retries, so its
        ``groups`` are as final as ``collect``'s result; a prompt refused during a retry is added to
        it, the groups finished so far kept.
        """
        if n < 1:
            raise ValueError(f"n (episodes per task) must be >= 1, got {n}")
        options = [_reset_options(position, t) for position, t in enumerate(tasks)]
        self._stop_strings = tuple(sampling.stop or ())
        self._stop_token_ids = frozenset(int(t) for t in sampling.stop_token_ids or ())
        if self._stop_token_ids and not self.token_level and self.tokenizer is None:
            raise ValueError(
                f"stop_token_ids={sorted(self._stop_token_ids)} with a chat-level engine and no tokenizer: the server "
                "leaves a stop token's text out of its answer (vLLM names the token id as stop_reason), and without the "
                "model's tokenizer its text (e.g. '</tool_call>') cannot be given back to the env, which would judge a "
                "closed tool call as unclosed; pass the model's tokenizer to the collector, or use stop strings "
                "(stop=[...]) instead")
        self.turn_limit()  # (a max_turns the env would not honour fails here, before any generation)
        refused: PromptTooLongError | None = None  # prompts that do not fit, the others finished (chat level)
        try:
            groups: list[Any] = self._run(options, n, sampling, start_group)
        except PromptTooLongError as exc:  # (positions: the trajectories' group numbers)
            refused = exc.moved(lambda g: g - start_group)
            if refused.groups is None or infra_retries is None:
                raise refused from None
            groups = refused.groups  # the finished ones are retried below like any others, then raised
        if infra_retries is None:
            return groups
        for attempt in range(infra_retries + 1):
            bad = [g for g, group in enumerate(groups) if group is not None and any(not t.valid for t in group)]
            if not bad:
                if refused is not None:
                    raise PromptTooLongError(refused.positions, refused.task_ids, refused.reasons, groups) from None
                return groups
            if attempt == infra_retries:
                errors = sorted({t.error or "unknown" for g in bad for t in groups[g] if not t.valid})
                raise RolloutInfrastructureError(
                    f"verification failed for infrastructure reasons in {len(bad)} group(s) after "
                    f"{infra_retries} retries (e.g. {errors[:3]}); these episodes are not trained on as "
                    "zero reward. Check the sandbox (`rlvr sandbox check`) or the verifier."  # (how to go on: the caller's)
                )
            self.infra_retried_groups += len(bad)
            try:
                redo: list[Any] = self._run([options[g] for g in bad], n, sampling, 0)
            except PromptTooLongError as exc:  # (a server whose context shrank meanwhile): merged with the rest
                moved = exc.moved(lambda g: bad[g], keep_groups=False)
                refused = merged_refusals(refused, moved)
                # the redo's finished groups replace the old ones; those it could not run stay to retry
                redo = exc.groups if exc.groups is not None else [groups[g] for g in bad]
                for g in moved.positions:
                    groups[g] = None
            for g, group in zip(bad, redo):
                if group is None or groups[g] is None:
                    continue
                for t in group:
                    t.group = groups[g][0].group
                groups[g] = group
        return groups

    # -------------------------------------------------------------- the loop

    def _run(self, options: list[dict[str, Any]], n: int, sampling: SamplingParams, start_group: int) -> list[list[Trajectory]]:
        envs = self._envs(len(options) * n)
        episodes: list[_Episode] = []
        for g, opts in enumerate(options):
            shared = None  # reset options for the group's other episodes: the first one's task
            for j in range(n):
                env = envs[g * n + j]
                episodes.append(_open_episode(env, shared or opts, opts, start_group + g, j))
                if j == 0 and n > 1:
                    shared = _shared_task_options(env, opts)
        if self.token_level:
            self._start_tokens(episodes)
        limit = self.max_turns
        turn = 0
        refused: list[tuple[int, str, str]] = []  # (group, task id, reason): first prompts a server refused
        while True:
            live = [ep for ep in episodes if not ep.done]
            if not live:
                break
            turn_sampling = sampling
            if sampling.seed is not None and turn:
                turn_sampling = dataclasses.replace(sampling, seed=turn_seed(sampling.seed, turn))
            t0 = time.perf_counter()
            samples = self._generate(live, n if turn == 0 else 1, turn_sampling, first=turn == 0, caps=self._turn_caps(live, sampling))
            t1 = time.perf_counter()
            if turn == 0:
                live, samples = _drop_refused(live, samples, refused)
            live, samples = _end_overflowed(live, samples)
            if live:
                self._step(live, samples, last_turn=limit is not None and turn + 1 >= limit)
            self.timings["generate"] += t1 - t0
            self.timings["env"] += time.perf_counter() - t1
            turn += 1
        groups = [[episodes[g * n + j].traj for j in range(n)] for g in range(len(options))]
        if refused:  # (the others are finished: the error carries them, see PromptTooLongError.groups)
            named = {group for group, _, _ in refused}
            raise PromptTooLongError.of(refused, [None if start_group + g in named else group for g, group in enumerate(groups)])
        return groups

    def _start_tokens(self, episodes: list[_Episode]) -> None:
        """Tokenise each episode's opening prompt. The episodes of a group are adjacent and usually
        ask the same thing, so an episode whose prompt equals the previous one's reuses its ids
        (rendering and encoding are the same pure functions of the same input). Prompts without
        room to generate are all found before :class:`PromptTooLongError` names them."""
        prev: tuple[Any, ...] | None = None  # (chat mode, messages, tools, prompt, ids, context_text)
        too_long: list[tuple[int, str, str]] = []  # (group, task id, reason)
        for ep in episodes:
            tr = ep.traj
            chat = self.uses_chat_template(ep.env)
            if prev is not None and prev[0] == chat and prev[3] == tr.prompt and prev[1] == ep.messages and prev[2] == ep.tools:
                ids, ep.context_text = prev[4], prev[5]
            else:
                ids = self._opening_ids(ep, chat)
            if not ids:
                raise ValueError(f"task {tr.task_id} rendered to an empty prompt; check the env's prompt")
            problem = self._check_prompt_fits(len(ids))
            if problem:
                too_long.append((tr.group, tr.task_id, problem))
            prev = (chat, ep.messages, ep.tools, tr.prompt, ids, ep.context_text)
            tr.token_ids = list(ids)
            tr.loss_mask = [0] * len(ids)
            tr.logprobs = [0.0] * len(ids)
            tr.prompt_len = len(ids)
        if too_long:
            raise PromptTooLongError.of(too_long)

    def _opening_ids(self, ep: _Episode, chat: bool) -> list[int]:
        """The token ids of ``ep``'s opening prompt, rendered with the chat template (``chat``) or as
        raw text (the system message, the tools it does not list, the prompt; BOS first when
        ``add_bos``); sets ``ep.context_text`` (the rendered text, None in raw-text mode)."""
        if chat:
            ep.context_text, ids = chat_prompt(self.tokenizer, ep.messages, ep.tools)
            return ids
        ep.context_text = None
        ids = chat_tokens.encode(self.tokenizer, raw_prompt(ep.messages, ep.traj.prompt, ep.tools))
        bos = getattr(self.tokenizer, "bos_token_id", None)
        if self.add_bos and bos is not None and (not ids or ids[0] != bos):
            ids = [int(bos)] + ids
        return ids

    def prompts_that_do_not_fit(self, tasks: Sequence[Mapping[str, Any] | int]) -> PromptTooLongError | None:
        """Check, before any generation, the first-turn prompt of each of ``tasks`` (as ``collect``
        takes them) as the rollouts build it: a :class:`PromptTooLongError` naming every one that
        leaves no room to generate within ``max_context_tokens`` (``positions`` index ``tasks``),
        or None when all fit. Nothing is counted for chat-level engines or without a limit (None).

        Each task is reset on the pool's first env, which every rollout resets again before use; an
        env whose prompt draws from the process's RNGs (a random few-shot example) draws from them,
        so a caller that needs them unchanged saves and restores them (the trainer does)."""
        if not self.token_level or self.max_context_tokens is None:
            return None
        options = [_reset_options(position, t) for position, t in enumerate(tasks)]
        env = self._envs(1)[0]
        chat = self.uses_chat_template(env)
        too_long: list[tuple[int, str, str]] = []  # (position, task id, reason)
        for position, opts in enumerate(options):
            ep = _open_episode(env, opts, opts, position, 0)
            problem = self._check_prompt_fits(len(self._opening_ids(ep, chat)))
            if problem:
                too_long.append((position, ep.traj.task_id, problem))
        return PromptTooLongError.of(too_long) if too_long else None

    def _check_prompt_fits(self, prompt_len: int) -> str | None:
        """Why a prompt of ``prompt_len`` tokens does not fit, or None: it must leave room for at least
        one generated token within ``max_context_tokens``. One that does not is bad data or settings
        (not a model failure to score); :meth:`_start_tokens` raises :class:`PromptTooLongError`."""
        limit = self.max_context_tokens
        if limit is not None and prompt_len >= limit:
            return (f"the prompt is {prompt_len} tokens, leaving no room to generate within max_context_tokens={limit} "
                    "(the model's context by default)")
        return None

    def _turn_caps(self, live: list[_Episode], sampling: SamplingParams) -> list[int] | None:
        """Each live episode's generation limit for this turn: ``max_new_tokens``, lowered to the room
        left in ``max_context_tokens`` (always >= 1: an episode without room has ended). None when
        no episode is capped."""
        limit = self.max_context_tokens
        if limit is None or not self.token_level:
            return None
        caps = [min(sampling.max_new_tokens, limit - len(ep.traj.token_ids)) for ep in live]
        if min(caps) < 1:  # pragma: no cover - _apply_step ends such episodes first
            raise RuntimeError("an episode without room in its context was sent to the engine")
        return caps if min(caps) < sampling.max_new_tokens else None

    def _sample_tokens(self, prompts: list[list[int]], n: int, sampling: SamplingParams, caps: list[int] | None) -> list[list[Sample]]:
        """``engine.generate``, or its per-prompt capped form when some prompt has less room than
        ``max_new_tokens`` (``generate_capped``; engines without it get one call per distinct cap)."""
        if caps is None:
            return self.engine.generate(prompts, n, sampling)
        capped = getattr(self.engine, "generate_capped", None)
        if callable(capped):
            return capped(prompts, n, sampling, caps)
        return generate_by_limit(self.engine, prompts, n, sampling, caps)

    def _generate(self, live: list[_Episode], n: int, sampling: SamplingParams, first: bool,
                  caps: list[int] | None = None) -> list[Sample | None]:
        """One sample per live episode. On the first turn the ``n`` episodes of a group share a prompt
        (sampled ``n`` times at once) unless an env worded its task differently at some reset.
        ``caps``: each episode's generation limit (see :meth:`_turn_caps`). None for an episode a
        chat-level server refused as longer than the model's context after the first turn, its
        refusal (``_Refused``) for one whose first prompt it refused (see :meth:`_chat_call`)."""
        if first and n > 1 and self._groups_share_prompts(live, n):
            heads = live[::n]
            if self.token_level:
                out = self._sample_tokens([ep.traj.token_ids for ep in heads], n, sampling, None if caps is None else caps[::n])
            else:
                out = self._generate_chat(heads, n, sampling, first)
            flat = [s for group in out for s in ([group] * n if isinstance(group, _Refused) else group)]
        else:
            if self.token_level:
                out = self._sample_tokens([ep.traj.token_ids for ep in live], 1, sampling, caps)
            else:
                out = self._generate_chat(live, 1, sampling, first)
            flat = [group if group is None or isinstance(group, _Refused) else group[0] for group in out]
        if len(flat) != len(live):
            raise RuntimeError(f"engine returned {len(flat)} samples for {len(live)} episodes")
        return flat

    def _generate_chat(self, episodes: list[_Episode], n: int, sampling: SamplingParams,
                       first: bool = False) -> list[list[Sample] | None]:
        """``engine.generate_chat`` over the episodes' conversations, each with its own env's tools.

        ``generate_chat`` takes one tool list for all its conversations, so the episodes are grouped by
        their tools (envs may offer different tools per task) and the engine is called once per distinct
        tool list; the results come back in the episodes' order. With a seed, each call after the first
        gets its seed moved by ``n`` times the conversations sent before it, so the conversations keep
        the distinct seeds one call would give them (``seed + i * n`` for the ``i``-th, in the order sent).
        An episode whose conversation the server refuses as longer than the model's context gets None
        after the first turn, its refusal (``_Refused``) on the first (see :meth:`_chat_call`)."""
        by_tools: list[tuple[Any, list[int]]] = []  # (tools, indices of the episodes offering them)
        for i, ep in enumerate(episodes):
            for tools, members in by_tools:
                if (tools or None) == (ep.tools or None):  # no tools, whether None or []
                    members.append(i)
                    break
            else:
                by_tools.append((ep.tools, [i]))
        out: list[list[Sample] | None] = [[] for _ in episodes]
        sent = 0
        for tools, members in by_tools:
            call_sampling = sampling
            if sampling.seed is not None and sent:
                call_sampling = dataclasses.replace(sampling, seed=sampling.seed + sent * n)
            got = self._chat_call([episodes[i] for i in members], n, call_sampling, tools, first)
            if len(got) != len(members):
                raise RuntimeError(f"engine returned samples for {len(got)} conversations, asked for {len(members)}")
            for i, samples in zip(members, got):
                out[i] = samples
            sent += len(members)
        return out

    def _chat_call(self, episodes: list[_Episode], n: int, sampling: SamplingParams, tools: Any,
                   first: bool) -> list[Any]:
        """``engine.generate_chat`` over the episodes' conversations, sent once (see
        :meth:`_send_or_split` for how the ones the server refuses as longer than the model's context,
        :class:`~rlvr.trainers.openai_engine.ContextLengthExceededError`, are found).

        After the first turn the model's own turns made a conversation too long: None, its episode
        ends truncated, as a token-level one out of context does. On the first turn each refused
        conversation is a prompt that cannot be answered within the model's context and this call's
        settings, whatever the others did (all of a call's conversations may be too long: the last,
        shorter call of a benchmark, or a run of long problems): it gets its reason (``_Refused``)
        and :meth:`_run` raises :class:`PromptTooLongError` naming them all. Each distinct refused
        conversation is sent again once, alone, with ``max_tokens=1`` (see :meth:`_why_refused`) so
        that its reason says whether the prompt alone does not fit or only with the ``max_tokens``
        asked."""
        conversations = [chat_tokens.with_string_content(ep.messages) for ep in episodes]
        got = list(self._send_or_split(conversations, n, sampling, tools, first))
        if first:
            # a call may hold one conversation many times (rlvr eval's calls repeat a problem for its
            # samples): each distinct one is probed once, its reason shared by every copy
            reasons: dict[str, _Refused] = {}
            for i, (c, g) in enumerate(zip(conversations, got)):
                if isinstance(g, _Refused):
                    key = json.dumps(c, sort_keys=True, default=str)
                    if key not in reasons:
                        reasons[key] = self._why_refused(c, sampling, tools, g)
                    got[i] = reasons[key]
        return got

    def _why_refused(self, conversation: Any, sampling: SamplingParams, tools: Any, refused: "_Refused") -> "_Refused":
        """The reason a first prompt was refused, from one more request with ``max_tokens=1``. Still
        refused: the prompt alone fills the model's context (the server's words for that). Accepted:
        the server counts the prompt plus ``max_tokens`` against the context (OpenAI's does; vLLM's
        and ``rlvr serve`` cap ``max_tokens`` to the room left), and this prompt leaves less room than
        the ``max_tokens`` asked: it cannot be answered within these settings either, which the
        reason says, with the lower limit that would give it room. Unless ``max_tokens`` alone is
        over the context (a one-word conversation with it refused too, asked once per collector and
        ``max_tokens``): that is a setting, no prompt's fault, and the server's refusal is raised."""
        from rlvr.trainers.openai_engine import ContextLengthExceededError  # noqa: PLC0415

        probe = dataclasses.replace(sampling, max_new_tokens=1)
        try:
            self.engine.generate_chat([conversation], 1, probe, tools=tools)
        except ContextLengthExceededError as exc:
            return _Refused(str(exc))
        if sampling.max_new_tokens not in self._max_tokens_fit:
            # (raises the refusal of a max_tokens over the whole context; accepted, it costs one reply)
            self.engine.generate_chat([[{"role": "user", "content": "Hi"}]], 1, sampling)
            self._max_tokens_fit.add(sampling.max_new_tokens)
        return _Refused(f"the prompt fits the model's context alone, but not with max_tokens={sampling.max_new_tokens} "
                        "more (this server counts the prompt plus max_tokens against the context; a lower max_tokens, "
                        f"--max-tokens in rlvr eval, gives it room): {refused.reason}")

    def _send_or_split(self, conversations: list[Any], n: int, sampling: SamplingParams, tools: Any,
                       first: bool) -> list[Any]:
        """One ``generate_chat`` call over ``conversations``. An engine whose ``generate_chat`` takes
        ``refusals="return"`` (the openai engine: one request per conversation) reports each refused
        conversation in its place, the others answered in that one call with their seeds: nothing
        is sent again. With another engine, when the server refuses one of them as
        too long (which fails the whole call), each half is sent again the same way, down to the
        refused conversations alone. The calls stay batched (the server answers a half's
        conversations concurrently): a refused conversation among N costs about ``2 * log2(N)``
        calls, not N; a refused call's answers are lost, so its conversations that fit are generated
        again (with the same seeds: the samples kept are the same). A half starting at position ``j`` is sent with
        ``seed + j * n``, so every conversation keeps the seed it had in the whole call and samples
        what it would have. A refused conversation alone is None after the first turn (its episode
        ends truncated), its refusal (``_Refused``) on the first (see :meth:`_chat_call`)."""
        from rlvr.trainers.openai_engine import ContextLengthExceededError  # noqa: PLC0415

        if self._returns_refusals():  # each conversation refused or answered on its own: one call, nothing re-sent
            got = list(self.engine.generate_chat(conversations, n, sampling, tools=tools, refusals="return"))
            return [(_Refused(str(g)) if first else None) if isinstance(g, ContextLengthExceededError) else g for g in got]
        try:
            return self.engine.generate_chat(conversations, n, sampling, tools=tools)
        except ContextLengthExceededError as exc:
            if len(conversations) == 1:
                return [_Refused(str(exc)) if first else None]
        half = len(conversations) // 2
        later = sampling if sampling.seed is None else dataclasses.replace(sampling, seed=sampling.seed + half * n)
        return (self._send_or_split(conversations[:half], n, sampling, tools, first)
                + self._send_or_split(conversations[half:], n, later, tools, first))

    def _returns_refusals(self) -> bool:
        """Whether the engine's ``generate_chat`` takes ``refusals="return"`` (the openai engine's):
        then a conversation refused as too long comes back as its error, the others answered in the
        same call. Engines without it fail the whole call, and :meth:`_send_or_split` halves it."""
        if self._refusals_kw is None:
            try:
                params = inspect.signature(self.engine.generate_chat).parameters
            except (TypeError, ValueError):  # a callable without a readable signature
                params = {}
            self._refusals_kw = "refusals" in params
        return self._refusals_kw

    def _groups_share_prompts(self, live: list[_Episode], n: int) -> bool:
        """True when the ``n`` episodes of every group (adjacent in ``live``) open with the same prompt."""
        def opening(ep: _Episode) -> Any:
            return ep.traj.token_ids if self.token_level else (ep.messages, ep.tools)

        return all(opening(ep) == opening(live[start]) for start in range(0, len(live), n) for ep in live[start + 1 : start + n])

    def _step(self, live: list[_Episode], samples: list[Sample], last_turn: bool = False) -> None:
        """Record each live episode's sample and step all their envs with them at once.

        ``last_turn``: the collector's own turn limit (``max_turns``) is reached with this turn, so an
        episode the env does not end here is truncated without the env's reply (see :meth:`_apply_step`).

        The envs are stepped together (`rlvr.envs.stepping.step_envs`, as `TextVectorEnv` does):
        plain verifications in one batch per verifier, sandboxed code and tool calls concurrently
        in threads, so a group's episodes do not wait on each other's sandbox runs.
        """
        from rlvr.envs.base import InfoFacts
        from rlvr.envs.stepping import driver_of, step_envs

        items = [(k, ep.env, driver_of(ep.env), self._record_sample(ep, sample)) for k, (ep, sample) in enumerate(zip(live, samples))]
        results: list[Any] = [None] * len(live)
        step_envs(items, self._step_pool(len(live)), results.__setitem__)
        for ep, sample, (obs, reward, terminated, truncated, info) in zip(live, samples, results):
            if type(info) is InfoFacts:  # an env driven in phases: its info's facts, as `env.step` would give them
                info = info.to_info()
            self._apply_step(ep, sample, (obs, reward, terminated, truncated, info), last_turn)

    def _record_sample(self, ep: _Episode, sample: Sample) -> Any:
        """Append the model's turn to the episode's tokens; returns the action for its env."""
        tr = ep.traj
        if self.token_level:
            tr.token_ids.extend(int(t) for t in sample.token_ids)
            tr.loss_mask.extend([1] * len(sample.token_ids))
            lps = list(sample.logprobs)
            if len(lps) != len(sample.token_ids):
                raise RuntimeError(
                    f"engine returned {len(lps)} log-probs for {len(sample.token_ids)} tokens; an engine must "
                    "give one sampling log-prob per sampled token"
                )
            tr.logprobs.extend(float(x) for x in lps)
        text = self._with_stop_string(sample)
        tr.turn_ends.append(len(tr.token_ids) - 1 if sample.token_ids else -1)
        tr.turn_texts.append(text)
        tr.turn_reasoning.append(str((sample.meta or {}).get("reasoning") or ""))
        tr.finish_reasons.append(sample.finish_reason)
        tr.truncated = sample.finish_reason == "length"
        tool_calls = (sample.meta or {}).get("tool_calls")
        return {"content": text, "tool_calls": tool_calls} if tool_calls else text

    def _with_stop_string(self, sample: Sample) -> str:
        """The turn's text with the stop string that ended it. Engines and servers leave a matched stop
        string out of ``text`` (as OpenAI's API does), but the model sampled it (and a token-level run
        trains on it): the env must judge what it wrote (with ``stop=["</tool_call>"]`` a well-formed
        call would otherwise read as an unclosed tag). The stop string is the one the engine reports
        in ``meta["stop_reason"]`` (the hf and vllm engines, and the openai engine when the server
        names it, as vLLM's does); without a report, a token-level sample's ids are decoded to find
        it, while a chat-level sample (text only) stays as returned. Stop strings that are special
        tokens are not text, and stay out (engines report them too).

        A token-level sample that ended on one of ``sampling.stop_token_ids`` gets that token's text
        back (:meth:`_with_stop_token`); so does a chat-level one whose engine reports the token's id
        as ``meta["stop_reason"]`` (the openai engine with a vLLM server), decoded with the
        collector's tokenizer (``collect`` refuses ``stop_token_ids`` on a chat-level engine without one)."""
        if sample.finish_reason != "stop":
            return sample.text
        if self.token_level and sample.token_ids and int(sample.token_ids[-1]) in self._stop_token_ids:
            return self._with_stop_token(sample)
        reported = (sample.meta or {}).get("stop_reason")  # the stop string (or token id) that matched, as the engine saw it
        if (not self.token_level and isinstance(reported, int) and not isinstance(reported, bool)
                and reported in self._stop_token_ids):  # (a chat-level sample: `collect` made sure of a tokenizer)
            token = self.tokenizer.decode([reported], **VERBATIM)
            return sample.text if not token or sample.text.endswith(token) else sample.text + token
        if not self._stop_strings:
            return sample.text
        if isinstance(reported, str) and reported in self._stop_strings:
            if self.token_level and reported in self._special():
                return sample.text
            if sample.text.endswith(reported):  # a server that keeps stop strings in its text
                return sample.text
            return sample.text + reported
        if not self.token_level:
            return sample.text
        decoded = self.tokenizer.decode(list(sample.token_ids), **VERBATIM)
        if not decoded.startswith(sample.text):
            return sample.text
        rest = decoded[len(sample.text) :]
        matched = [stop for stop in self._stop_strings if stop and rest.startswith(stop)]
        return sample.text + max(matched, key=len) if matched else sample.text

    def _with_stop_token(self, sample: Sample) -> str:
        """The turn's text with the text of the ``stop_token_ids`` token it ended on. Engines leave a
        stop token out of ``text`` (the hf engine; vLLM reports its id as ``stop_reason``), but one
        that is not a special token is text the model wrote: Qwen's ``"</tool_call>"`` is an added,
        not special, token, and without it the env reads a closed tool call as an unclosed one.
        The ids are decoded as the engines decode (special tokens skipped), so an EOS or other
        special stop token adds nothing; a text the engine already ended with the token's is kept."""
        whole = self.tokenizer.decode([int(t) for t in sample.token_ids], **VERBATIM)
        return whole if whole.startswith(sample.text) else sample.text

    def _apply_step(self, ep: _Episode, sample: Sample, result: Any, last_turn: bool = False) -> None:
        """Book the env's answer to the episode's turn (reward, verdict, messages, its reply's tokens).

        After the collector's last allowed turn (``last_turn``) an episode the env goes on with is
        truncated here: no model turn follows, so the env's reply is not tokenised into the
        trajectory (it would only add loss-masked tokens to every training forward pass); it stays in
        ``messages``, as the env gave it."""
        tr = ep.traj
        obs, reward, terminated, truncated, info = result
        reward = float(reward)
        tr.turn_rewards.append(reward)
        tr.total_reward += reward
        parts = info.get("reward_parts") or {}
        tr.outcome_reward += float(parts.get("outcome", 0.0))
        tr.reward_parts = dict(info.get("return_parts") or parts)
        tr.info = info
        tr.verdict = info.get("verdict")
        tr.valid = bool(info.get("valid", True))
        tr.error = info.get("error")
        if tr.valid and not math.isfinite(reward):
            # a NaN or infinite reward is the env's failure, not a score of the answer: never trained on
            tr.valid = False
            tr.error = (f"{self.env_name} returned a non-finite reward ({reward}) for turn {len(tr.turn_rewards)}; "
                        "an env's rewards must be finite numbers (fix its reward or verifier)")
        before = ep.messages
        ep.messages = list(info.get("messages") or before)
        tr.messages = ep.messages
        if terminated or truncated or not tr.valid:
            ep.done = True
            tr.episode_truncated = bool(truncated)
            return
        if last_turn:  # out of turns: the env never gave its final verdict
            if self.token_level and ep.context_text is not None:
                self._check_env_messages(ep, obs, len(before))  # a broken env is reported on any turn
            ep.done = True
            tr.episode_truncated = True
            return
        if self.token_level:
            ids = self._env_turn_ids(ep, sample, obs, len(before))
            limit = self.max_context_tokens
            if limit is not None and len(tr.token_ids) + len(ids) >= limit:
                # no room for another model turn: truncated like an episode out of turns (the env never
                # gave its final verdict); the reply is left out, so the episode stays within the limit
                ep.done = True
                tr.episode_truncated = True
                return
            tr.token_ids.extend(ids)
            tr.loss_mask.extend([0] * len(ids))
            tr.logprobs.extend([0.0] * len(ids))

    def _added(self) -> dict[str, int]:
        """The tokenizer's added vocabulary (special tokens -> ids), read once."""
        if self._added_vocab is None:
            self._added_vocab = added_vocab(self.tokenizer)
        return self._added_vocab

    def _special(self) -> dict[str, int]:
        """The tokenizer's special tokens (left out of decoded text), read once."""
        if self._special_vocab is None:
            self._special_vocab = special_vocab(self.tokenizer)
        return self._special_vocab

    def _env_turn_ids(self, ep: _Episode, sample: Sample, obs: str, n_before: int) -> list[int]:
        """The token ids of what the environment said after the model's turn (appended with mask 0).

        Raw-text mode: the observation as is. Chat-template mode: the end of the model's turn that the
        model did not sample (:meth:`_turn_close`), then the env's messages as the template renders
        them (``messages[n_before]`` is the model's turn the env recorded; the rest are its replies).
        Either is tokenised in context, as it tokenises after the episode's tokens so far
        (:func:`~.chat_tokens.encode_after`), not as a string of its own: a SentencePiece-style tokenizer would
        start it with a space that the template's rendering (or the raw text) does not have. When no
        ids can do that (the canonical encoding merges the model's last token with the reply's first
        characters), a chat-template episode is flagged ``template_mismatch``."""
        tok = self.tokenizer
        if ep.context_text is None:
            return chat_tokens.encode_after(tok, ep.traj.token_ids, obs, self._added())[0]
        msgs = chat_tokens.with_string_content(ep.messages)
        self._check_env_messages(ep, obs, n_before)
        upto_assistant = chat_tokens.render(tok, msgs[: n_before + 1], generation_prompt=False, tools=ep.tools)
        full = chat_tokens.render(tok, msgs, generation_prompt=True, tools=ep.tools)
        if full.startswith(upto_assistant):
            tail = self._turn_close(ep, sample, msgs, n_before, upto_assistant)
            env_part = full[len(upto_assistant) :]
        else:
            # the template renders the model's turn otherwise once messages follow it (Qwen3 drops
            # an empty <think> block): the model's tokens stay as they are, closed with the
            # end-of-turn marker, and the env's part is what the template writes after that turn
            ep.traj.template_mismatch = True
            marker = chat_tokens.end_of_turn_text(tok, msgs, n_before, ep.tools)
            tail = chat_tokens.unsampled_part(tok, marker, sample.token_ids, self._added())
            env_part = chat_tokens.after_model_turn(tok, msgs, n_before, marker, ep.tools)
        ep.context_text = full
        ids, exact = chat_tokens.encode_after(tok, ep.traj.token_ids, tail + env_part, self._added())
        if not exact:
            ep.traj.template_mismatch = True
        return ids

    def _turn_close(self, ep: _Episode, sample: Sample, msgs: list[dict[str, Any]], n_before: int, upto_assistant: str) -> str:
        """The text that ends the model's turn in the template's rendering, less what the model sampled.

        When the template renders the assistant message as the model sampled it, that is the rest of
        the rendered turn (``"\\n"`` after a sampled ``<|im_end|>``). Otherwise (a stop string was cut
        from the text, the template trims or rewrites content) the model's tokens stay as they are and
        the turn is closed with the template's end-of-turn marker, less the part the model sampled;
        the trajectory is flagged ``template_mismatch``. It is flagged too, the turn closed as
        rendered, when the sampled ids hold an incomplete UTF-8 character (:meth:`_lost_bytes`): the text
        agrees, U+FFFD on both sides, but the rendering's ids do not."""
        tok = self.tokenizer
        base = ep.context_text
        end = len(ep.traj.token_ids) - len(sample.token_ids)  # (the turn is recorded: it ends the ids)
        before = ep.traj.token_ids[max(0, end - chat_tokens.DECODE_CONTEXT):end]
        sampled = chat_tokens.decode_after(tok, before, sample.token_ids)
        rendered_turn = upto_assistant[len(base) :] if upto_assistant.startswith(base) else None
        if rendered_turn is not None and rendered_turn.startswith(sampled):
            if self._special_tokens is None:
                self._special_tokens = [t for t in self._added() if len(t) > 1]
            if not chat_tokens.splits_token(rendered_turn, len(sampled), self._special_tokens):
                if self._lost_bytes(ep.traj.token_ids[:end], sample.token_ids, sampled):
                    ep.traj.template_mismatch = True
                return rendered_turn[len(sampled) :]
        ep.traj.template_mismatch = True
        marker = chat_tokens.end_of_turn_text(tok, msgs, n_before, ep.tools)
        return chat_tokens.unsampled_part(tok, marker, sample.token_ids, self._added())

    def _lost_bytes(self, before: Sequence[int], ids: Sequence[int], text: str) -> bool:
        """Whether the sampled ``ids`` (after ``before``) hold bytes their decoded ``text`` lost: it
        has U+FFFD and does not encode back to ``ids`` (a turn cut off inside a multi-byte UTF-8
        character). The text, and so the template's rendering, has U+FFFD's own bytes where the ids
        have the character's first bytes: the two sequences differ though their texts agree."""
        if "\ufffd" not in text:
            return False
        return chat_tokens.encode_after(self.tokenizer, before, text, self._added())[0] != [int(t) for t in ids]

    @staticmethod
    def _check_env_messages(ep: _Episode, obs: str, n_before: int) -> None:
        """In chat-template mode the model sees the env's reply only through the messages the env adds
        to ``info["messages"]`` after the model's turn (the env contract: ``info`` carries the chat
        history). An env whose history lacks the model's turn, or that replies with text but adds no
        message, would have the model go on without ever seeing the reply: that is an error, not a
        guess at the reply's role (``user``? ``tool``, with which call id?)."""
        n = len(ep.messages)
        if n <= n_before:
            raise ValueError(
                f"env {env_label(ep.env)}: info['messages'] does not hold the model's turn (it has {n} messages, "
                f"the model's turn is message {n_before + 1}); in chat-template mode the env must return the chat "
                "history in info['messages'] (or run with chat_template=False)"
            )
        if str(obs).strip() and n == n_before + 1:
            raise ValueError(
                f"env {env_label(ep.env)} replied {str(obs)!r:.80} but added no message to info['messages']; in "
                "chat-template mode the model sees only the env's messages: return the reply as a message too (e.g. "
                "Turn(observation=text, messages=[{'role': 'user', 'content': text}])) or run with chat_template=False"
            )


def collect_rollouts(
    engine: Any,
    env: str | Callable[[], Any],
    tokenizer: Any,
    sampling: SamplingParams,
    *,
    tasks: Sequence[Mapping[str, Any] | int] | None = None,
    num_tasks: int | None = None,
    start_index: int = 0,
    n: int = 1,
    max_turns: int | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    chat_template: bool | None = None,
    infra_retries: int | None = None,
    max_context_tokens: int | None = None,
) -> list[list[Trajectory]]:
    """Run ``n`` episodes for each task and return the trajectories grouped by task.

    Give either ``tasks`` (reset options per task, e.g. ``[{"index": 3}]``, or plain indices) or
    ``num_tasks`` (tasks ``start_index .. start_index + num_tasks - 1``). See :class:`RolloutCollector`
    for the other arguments. For repeated calls (a training loop) keep a :class:`RolloutCollector`,
    which reuses its environments.
    """
    if tasks is None:
        if num_tasks is None:
            raise ValueError("give tasks=[{'index': i}, ...] or num_tasks=N")
        tasks = task_options(range(start_index, start_index + num_tasks))
    collector = RolloutCollector(engine, env, tokenizer, env_kwargs=env_kwargs, chat_template=chat_template, max_turns=max_turns,
                                 max_context_tokens=max_context_tokens)
    try:
        return collector.collect(tasks, n, sampling, infra_retries=infra_retries)
    finally:
        collector.close()

