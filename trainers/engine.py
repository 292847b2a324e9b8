"""The interface every generation engine implements (``hf``, ``vllm``, ``openai``).

An engine turns prompt token ids into ``n`` sampled continuations per prompt and hands back, for each,
the *exact* token ids it sampled with their sampling log-probabilities, so the trainer never has to
re-tokenise text to learn what the model did. It also receives new weights after each update.
"""

from __future__ import annotations

import abc
import dataclasses
import operator
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Sequence

import numpy as np

__all__ = [
    "SamplingParams", "Sample", "Engine", "EngineError", "FinishReason", "added_vocab", "special_vocab", "split_stops",
    "stop_token_strings",
    "context_length_of", "generate_by_limit", "check_limit_count", "generation_limit",
]

FinishReason = Literal["stop", "length"]


class EngineError(RuntimeError):
    """The engine failed, not the model: a server that cannot be used, a generation aborted or cut
    short by the engine, a reply the engine could not read. Nothing it interrupted is a model output,
    so it is never scored (``rlvr eval`` stops with exit code 4 and resumes from the saved samples)."""


#: How engines turn sampled ids into the text the env judges: special tokens left out, and nothing
#: else changed. transformers' ``clean_up_tokenization_spaces`` (on in Llama-3's and GPT-2's
#: tokenizer configs) would drop spaces the model wrote ("from . import x" became "from. import x"),
#: so envs would judge text the model never wrote and stop strings holding those spaces never match.
VERBATIM = {"skip_special_tokens": True, "clean_up_tokenization_spaces": False}


def added_vocab(tokenizer: Any) -> dict[str, int]:
    """The tokenizer's added tokens (``"<|im_end|>"`` -> id). Engines read it once: a fast tokenizer
    builds the dict anew at every call."""
    return dict(tokenizer.get_added_vocab()) if hasattr(tokenizer, "get_added_vocab") else {}


def special_vocab(tokenizer: Any) -> dict[str, int]:
    """The tokenizer's added tokens that text decoded without special tokens leaves out
    (``"<|im_end|>"`` -> id). An added token that such text keeps (Qwen's ``"</tool_call>"``, added
    but not special) is not one. Engines read it once."""
    return {s: i for s, i in added_vocab(tokenizer).items() if s not in tokenizer.decode([i], **VERBATIM)}


def split_stops(stop: Sequence[str], special: Mapping[str, int]) -> tuple[list[str], list[int]]:
    """``stop`` as ``(stop_strings, stop_token_ids)``: every stop stays a string, and one that is one
    of the tokenizer's special tokens ``special`` (:func:`special_vocab`) also stops on that token's id.

    Why: engines decode text without special tokens, so a special token given as a stop *string*
    never appears in the text it is matched against and would be silently ignored (vLLM matches
    stop strings on that text). Stopping on its id is what the user meant. An added token that is
    not special (Qwen's ``</tool_call>``) stays in the text, so it stays a stop string only: it
    stops at the same sampled token, and is reported (``meta["stop_reason"]``) and cut from the text
    as any stop string, as vLLM does; a model that spells it out in smaller tokens is caught too.
    The hf and vllm engines both use this, so one config stops at the same place on either engine."""
    return list(stop), [int(special[s]) for s in stop if s in special]


def stop_token_strings(stop: Sequence[str], special: Mapping[str, int]) -> dict[int, str]:
    """The stop strings that stop on a token id (see :func:`split_stops`), by that id: the stop
    string a sample that ended on the id reports in ``meta["stop_reason"]``."""
    names: dict[int, str] = {}
    for s in stop:
        if s in special:
            names.setdefault(int(special[s]), s)
    return names


#: The smallest temperature other than 0 (greedy): logits divided by less overflow to inf and NaN.
GREEDY_BELOW = 1e-5


def _token_ids(ids: Any) -> tuple[int, ...]:
    """``SamplingParams.stop_token_ids`` as a tuple of ints; a single id counts as one. A value that is
    no whole number (``1.7``, ``"5"``, a bool) raises ValueError: ``int()`` would have turned 1.7
    into token 1, a stop no one asked for."""
    if isinstance(ids, (int, np.integer, float, np.floating)):
        ids = (ids,)
    out = []
    for t in ids:
        whole_float = isinstance(t, (float, np.floating)) and float(t).is_integer()  # 2.0 from a config file
        if isinstance(t, (bool, np.bool_)) or not (whole_float or hasattr(type(t), "__index__")):
            raise ValueError(f"stop_token_ids must be whole numbers (token ids), got {t!r}")
        out.append(int(t) if whole_float else operator.index(t))
    return tuple(out)


@dataclass(frozen=True)
class SamplingParams:
    """How to sample.

    ``temperature``: 0 means greedy (argmax); otherwise logits are divided by it. ``top_p``: nucleus
    sampling, keep the smallest set of most likely tokens whose probability reaches ``top_p`` (1.0 =
    off). ``max_new_tokens``: generation limit per sample (reaching it gives finish reason
    ``"length"``). ``stop``: strings that end a sample when they appear in its text (the text is cut
    before the stop string; the token ids keep the token that completed it). ``stop_token_ids``: token
    ids that end a sample (in addition to the tokenizer's EOS); the stop token is kept in the ids but
    not in the text; whole numbers only (a NumPy int or ``2.0`` counts, ``1.7`` or ``True`` does not).
    ``seed``: makes sampling reproducible (None: use the global RNG).
    """

    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 256
    stop: tuple[str, ...] = ()
    stop_token_ids: tuple[int, ...] = ()
    seed: int | None = None

    def __post_init__(self) -> None:
        if not (self.temperature == 0 or GREEDY_BELOW <= self.temperature < float("inf")):
            raise ValueError(f"temperature must be 0 (greedy) or a finite number >= {GREEDY_BELOW:g}, got "
                             f"{self.temperature} (a smaller one overflows the logits it divides)")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        limit = self.max_new_tokens
        if isinstance(limit, bool) or (isinstance(limit, float) and not limit.is_integer()) or int(limit) < 1:
            raise ValueError(f"max_new_tokens must be a whole number >= 1, got {limit!r}")
        # accept lists / a single string from configs, store tuples (hashable, immutable)
        stop = (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)
        if any(not isinstance(s, str) or not s for s in stop):
            raise ValueError(f"stop must be non-empty strings, got {stop!r}")
        object.__setattr__(self, "stop", stop)
        object.__setattr__(self, "stop_token_ids", _token_ids(self.stop_token_ids))
        object.__setattr__(self, "max_new_tokens", int(self.max_new_tokens))


@dataclass
class Sample:
    """One sampled continuation.

    ``token_ids``: the exact ids sampled (including a final EOS / stop token, if any).
    ``logprobs``: one float per token id, the log-probability of that id under the distribution it was
    sampled from (see the engine for what that distribution is). ``finish_reason``: ``"stop"`` (EOS,
    stop token or stop string) or ``"length"`` (hit ``max_new_tokens``). ``text``: decoded text, without
    special tokens and cut before a matched stop string. ``meta["stop_reason"]``: the string of
    ``SamplingParams.stop`` that ended the sample, also one that is a special token matched by its id
    (:func:`split_stops`; not text, so never in ``text``); absent for EOS and ``stop_token_ids``.
    """

    token_ids: list[int]
    logprobs: list[float]
    finish_reason: FinishReason
    text: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


class Engine(abc.ABC):
    """Generates samples and receives new weights. Implementations: ``hf`` (:mod:`.hf_engine`).

    ``context_length``: the most tokens (prompt + sample) the engine's model takes, None when
    unknown; the rollout keeps multi-turn episodes within it.
    """

    context_length: int | None = None

    @abc.abstractmethod
    def generate(
        self, prompts_token_ids: Sequence[Sequence[int]], n: int, sampling: SamplingParams
    ) -> list[list[Sample]]:
        """Sample ``n`` continuations of every prompt; result ``[prompt][sample]``, prompts in order."""

    def generate_capped(
        self, prompts_token_ids: Sequence[Sequence[int]], n: int, sampling: SamplingParams, max_new_tokens: Sequence[int]
    ) -> list[list[Sample]]:
        """:meth:`generate` with a generation limit per prompt: the samples of prompt ``i`` stop (finish
        reason ``"length"``) after ``min(max_new_tokens[i], sampling.max_new_tokens)`` tokens.

        Why: a multi-turn rollout gives each episode only the room its context has left. This default
        calls :meth:`generate` once per distinct limit (:func:`generate_by_limit`); engines that can
        apply the limits in one batch override it."""
        return generate_by_limit(self, prompts_token_ids, n, sampling, max_new_tokens)

    @abc.abstractmethod
    def load_weights(self, weights: Any) -> None:
        """Take new policy weights: a ``state_dict`` mapping or a model (``torch.nn.Module``)."""

    def close(self) -> None:  # pragma: no cover - engines with resources override it
        """Release resources (GPU memory, servers). Idempotent."""

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class BatchedLimitsEngine(Engine):
    """An engine that applies per-prompt generation limits within one batched call (hf, vllm).

    Subclasses implement ``_generate(prompts_token_ids, n, sampling, caps)``, where ``caps`` holds
    one limit per prompt (checked here) or is None for ``sampling.max_new_tokens`` alone; this class
    turns it into :meth:`generate` and :meth:`generate_capped`.
    """

    def generate(
        self, prompts_token_ids: Sequence[Sequence[int]], n: int, sampling: SamplingParams
    ) -> list[list[Sample]]:
        return self._generate(prompts_token_ids, n, sampling, None)

    def generate_capped(
        self, prompts_token_ids: Sequence[Sequence[int]], n: int, sampling: SamplingParams, max_new_tokens: Sequence[int]
    ) -> list[list[Sample]]:
        """:meth:`Engine.generate_capped`, the limits applied per prompt in one call."""
        check_limit_count(max_new_tokens, prompts_token_ids)
        return self._generate(prompts_token_ids, n, sampling, max_new_tokens)

    @abc.abstractmethod
    def _generate(
        self, prompts_token_ids: Sequence[Sequence[int]], n: int, sampling: SamplingParams, caps: Sequence[int] | None
    ) -> list[list[Sample]]:
        """Sample ``n`` continuations of every prompt, prompt ``i`` stopping after ``caps[i]`` tokens
        at most (when given) as well as ``sampling.max_new_tokens``."""


def state_dict_of(weights: Any) -> Mapping[str, Any]:
    """A ``state_dict`` from a mapping or a module; a clear error otherwise."""
    if isinstance(weights, Mapping):
        return weights
    sd = getattr(weights, "state_dict", None)
    if callable(sd):
        return sd()
    raise TypeError(
        f"load_weights expects a state_dict (mapping of tensors) or a torch.nn.Module, got "
        f"{type(weights).__name__}"
    )


def check_limit_count(max_new_tokens: Sequence[int], prompts_token_ids: Sequence[Sequence[int]]) -> None:
    """``generate_capped`` takes one generation limit per prompt, each an int >= 1; raise otherwise."""
    if len(max_new_tokens) != len(prompts_token_ids):
        raise ValueError(f"got {len(max_new_tokens)} generation limits for {len(prompts_token_ids)} prompts")
    bad = next((i for i, cap in enumerate(max_new_tokens)
                if isinstance(cap, bool) or not isinstance(cap, (int, np.integer)) or cap < 1), None)
    if bad is not None:
        raise ValueError(f"the generation limit of prompt {bad} must be an int >= 1, got {max_new_tokens[bad]!r}")


def generation_limit(index: int, prompt_len: int, max_new_tokens: int, cap: int | None, context_length: int | None,
                     context_name: str = "the model's context") -> int:
    """How many tokens prompt ``index`` may generate: ``max_new_tokens``, lowered to its own ``cap``
    and to the room ``context_length`` leaves after the prompt (``context_name`` says what that
    limit is, for the error a prompt that fills it alone raises)."""
    limit = max_new_tokens if cap is None else min(max_new_tokens, int(cap))
    if limit < 1:
        raise ValueError(f"the generation limit of prompt {index} must be >= 1, got {cap}")
    if context_length is None:
        return limit
    if prompt_len >= context_length:
        raise ValueError(f"prompt {index} has {prompt_len} tokens, which fills {context_name} of {context_length} "
                         "tokens and leaves no room to generate; shorten the prompt")
    return min(limit, context_length - prompt_len)


def generate_by_limit(
    engine: Any, prompts_token_ids: Sequence[Sequence[int]], n: int, sampling: SamplingParams, max_new_tokens: Sequence[int]
) -> list[list[Sample]]:
    """``engine.generate`` with a per-prompt generation limit (see :meth:`Engine.generate_capped`),
    for any engine that has only ``generate``: one call per distinct limit, results in prompt order.

    The call with the largest limit keeps ``sampling.seed``; the others get seeds far from it (later
    turns' seeds are hashed, see `rlvr.trainers.rollout.turn_seed`), so two calls never replay the
    same random numbers."""
    check_limit_count(max_new_tokens, prompts_token_ids)
    by_limit: dict[int, list[int]] = {}
    for i, cap in enumerate(max_new_tokens):
        if int(cap) < 1:
            raise ValueError(f"the generation limit of prompt {i} must be >= 1, got {cap}")
        by_limit.setdefault(min(int(cap), sampling.max_new_tokens), []).append(i)
    out: list[list[Sample]] = [[] for _ in prompts_token_ids]
    for k, (cap, idx) in enumerate(sorted(by_limit.items(), reverse=True)):
        seed = None if sampling.seed is None else sampling.seed + k * 1_000_003
        groups = engine.generate([prompts_token_ids[i] for i in idx], n, dataclasses.replace(sampling, max_new_tokens=cap, seed=seed))
        for i, group in zip(idx, groups):
            out[i] = group
    return out


#: ``tokenizer.model_max_length`` above this is transformers' "unknown" placeholder (``int(1e30)``)
_SANE_MODEL_MAX_LENGTH = 10_000_000


def context_length_of(model_config: Any = None, tokenizer: Any = None) -> int | None:
    """The context a model takes, in tokens: its config's position limit (``max_position_embeddings``,
    ``n_positions``, ...) or, when the config names none, the tokenizer's ``model_max_length`` when that
    is a real value (transformers puts ``1e30`` there when it does not know). None when neither says.

    The config comes first: it bounds what the model can embed (absolute positions crash past it),
    while a tokenizer's ``model_max_length`` is often a smaller advisory value."""
    for name in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length", "n_ctx"):
        value = getattr(model_config, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    value = getattr(tokenizer, "model_max_length", None)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < _SANE_MODEL_MAX_LENGTH:
        return value
    return None
