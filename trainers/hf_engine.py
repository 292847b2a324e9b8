"""The ``hf`` engine: batched sampling from a transformers causal LM with a KV cache, on CPU or CUDA.

Prompts (already token ids) are repeated ``n`` times, sorted by length, left-padded into batches and
decoded token by token with the model's KV cache. Each distinct prompt is prefilled once (computing
the logits of its last position only, ``logits_to_keep=1``) and its cache copied to its ``n`` rows;
rows that finish are dropped from the batch (and the cache) so the remaining steps only pay for live
rows. Each step applies temperature and top-p, samples, and records the sampled id with its
log-probability under *that sampling distribution*:
``log_softmax(top_p_filter(logits / temperature))``. So at temperature 1 without top-p the recorded
log-probs equal a plain forward pass's log-probs of the same sequence, which is what the trainer
recomputes; with ``temperature != 1`` the trainer must score with the same temperature, and with
``top_p < 1`` the recorded value is the renormalised nucleus probability. Greedy decoding
(``temperature == 0``) samples from a point mass, whose log-prob (0) says nothing; it records the
model's temperature-1 log-probs instead.

A sample ends at EOS (the tokenizer's and the model generation config's), at one of
``SamplingParams.stop_token_ids`` or when its text contains one of ``SamplingParams.stop`` (a stop
string that is a special token stops on its id; finish reason ``"stop"``; ``meta["stop_reason"]``
names the stop string), or after ``max_new_tokens`` (``"length"``). A sample never runs past the model's
context (:attr:`HFEngine.context_length`): it stops with ``"length"`` when prompt + sample fill it, and
a prompt that fills it alone is refused with an error.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Sequence

import torch

from rlvr.trainers.engine import (
    VERBATIM, BatchedLimitsEngine, Sample, SamplingParams, context_length_of, generation_limit, special_vocab, split_stops,
    state_dict_of, stop_token_strings,
)

__all__ = ["HFEngine", "top_p_filter"]


def _shape_of(value: Any) -> tuple[int, ...] | str:
    """A tensor's shape as a tuple; for anything else, its type's name (which no shape equals)."""
    return tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__


def top_p_filter(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Set to ``-inf`` every logit outside the nucleus: the smallest set of most likely tokens whose
    total probability reaches ``top_p``. The most likely token is always kept. ``[..., vocab]``."""
    if top_p >= 1.0:
        return logits
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = torch.softmax(sorted_logits, dim=-1)
    mass_before = probs.cumsum(-1) - probs
    remove_sorted = mass_before >= top_p
    remove_sorted[..., 0] = False  # a top_p that is 0 in the logits' precision (1e-300) kept no token at all
    remove = torch.zeros_like(remove_sorted).scatter(-1, order, remove_sorted)
    return logits.masked_fill(remove, float("-inf"))


def _first_stop(text: str, stop_strings: Sequence[str]) -> tuple[int, str] | None:
    """``(start, stop string)`` of the stop string that ends first in ``text``, or None.

    As vLLM chooses (``v1/engine/detokenizer.py``, ``check_stop_strings``): each stop string's first
    occurrence, the earliest *end* wins (the one completed first while appending tokens one at a
    time), ties going to the earlier string in the stop list; the text is cut at its start. With
    ``["abcd", "c"]`` on "xabcd" that is "c" (ends at 4), cutting "xab" (the earliest start would
    give "abcd" and "x")."""
    best: tuple[int, str] | None = None
    best_end = len(text) + 1
    for stop in stop_strings:
        at = text.find(stop)
        if at >= 0 and at + len(stop) < best_end:
            best, best_end = (at, stop), at + len(stop)
    return best


def sample_categorical(logp: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """One token per row of ``logp [rows, vocab]`` (log-probabilities), by inverting the CDF.

    One uniform number per row is placed on the row's cumulative distribution (in float64, so the
    tail of a large vocabulary keeps its mass): an exact categorical sample, as ``torch.multinomial``
    draws, for about a fifth of its cost on CPU (0.13 vs 0.62 ms for 128 rows of 115 tokens, paid
    once per generated token). A token of probability 0 (outside the top-p nucleus) is never drawn:
    ``right=True`` skips the flat steps of the CDF, and ``u`` stays strictly below the total.
    """
    cdf = logp.double().exp().cumsum(-1)
    total = cdf[:, -1:]
    u = torch.rand(total.shape, dtype=torch.float64, device=logp.device, generator=generator) * total
    u = torch.minimum(u, torch.nextafter(total, torch.zeros_like(total)))
    return torch.searchsorted(cdf, u, right=True).squeeze(-1).clamp_(max=logp.shape[-1] - 1)


def _name_stop_token(sample: Sample, names: dict[int, str], eos: frozenset[int]) -> Sample:
    """``sample`` with ``meta["stop_reason"]`` set to the stop string it ended on when that is a
    special token matched by its id (``names``, :func:`~rlvr.trainers.engine.stop_token_strings`),
    as the vllm engine reports it; an EOS ends a sample without one, as in vLLM."""
    last = sample.token_ids[-1] if sample.token_ids else None
    if sample.finish_reason == "stop" and "stop_reason" not in sample.meta and last in names and last not in eos:
        sample.meta["stop_reason"] = names[last]
    return sample



def _cache_of(out: Any) -> Any:
    """The KV cache a forward returned: ``out.cache`` since transformers 5.24, ``out.past_key_values``
    before (reading the old name there is deprecated too)."""
    cache = getattr(out, "cache", None)
    return cache if cache is not None else out.past_key_values

class HFEngine(BatchedLimitsEngine):
    """Engine over a ``transformers`` causal LM (``AutoModelForCausalLM``-like) and its tokenizer.

    ``model`` may be the trainer's own model (colocated: then :meth:`load_weights` with that model is a
    no-op) or a separate copy. ``max_batch_size`` bounds the number of sequences decoded together.
    ``compute_dtype`` (e.g. ``torch.bfloat16``): decode under autocast in that dtype, as the trainer
    computes its forward passes over float32 weights; None: in the weights' own dtype.
    ``context_length``: the model's context (its config's position limit, else the tokenizer's
    ``model_max_length``; see :func:`~rlvr.trainers.engine.context_length_of`), None when unknown.
    """

    def __init__(self, model: Any, tokenizer: Any, *, device: str | torch.device | None = None, max_batch_size: int = 64,
                 compute_dtype: torch.dtype | None = None):
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be >= 1, got {max_batch_size}")
        self.model = model
        self.tokenizer = tokenizer
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        if device is not None:
            self.model.to(self.device)
        self.max_batch_size = max_batch_size
        self.compute_dtype = compute_dtype
        self.vocab_size = int(model.get_input_embeddings().weight.shape[0])
        eos: set[int] = set()
        for source in (getattr(tokenizer, "eos_token_id", None), getattr(getattr(model, "generation_config", None), "eos_token_id", None)):
            if source is None:
                continue
            eos.update([source] if isinstance(source, int) else [int(s) for s in source])
        self.eos_token_ids = frozenset(eos)
        pad = getattr(tokenizer, "pad_token_id", None)
        self.pad_token_id = int(pad) if pad is not None else (min(eos) if eos else 0)
        self._special_vocab = special_vocab(tokenizer)  # special tokens given as stop strings stop on their ids
        self.context_length = context_length_of(getattr(model, "config", None), tokenizer)
        #: whether the model's forward takes ``logits_to_keep`` (None: not known until the first forward)
        self._keeps_logits: bool | None = None

    # ------------------------------------------------------------------ Engine API

    def load_weights(self, weights: Any) -> None:
        """Copy new weights into the engine's model (a no-op when given the engine's own model).

        Every entry of the model's ``state_dict`` must be given, as a tensor of the same shape, and
        nothing else; the one exception is a tied output embedding (``lm_head.weight`` sharing the
        input embedding's tensor), which a ``state_dict`` may leave out. Anything else raises
        ValueError *before* a single tensor is copied, so a refused load leaves the engine's weights
        as they were (``load_state_dict`` would copy what fits first, leaving a mix of old and new).
        """
        if weights is self.model:
            return
        sd = state_dict_of(weights)
        own = self.model.state_dict()
        missing = [k for k in own if k not in sd]
        unexpected = [k for k in sd if k not in own]
        # tied output embeddings may legitimately be absent from a state_dict (untied ones may not:
        # the engine would keep sampling from its old output layer)
        out_layer, in_layer = self.model.get_output_embeddings(), self.model.get_input_embeddings()
        if out_layer is not None and in_layer is not None and out_layer.weight is in_layer.weight:
            missing = [k for k in missing if not k.endswith("lm_head.weight")]
        if missing or unexpected:
            raise ValueError(
                f"weights do not fit the engine's model: missing {missing[:5]}, unexpected {unexpected[:5]}; "
                "pass the state_dict of the same architecture (unwrap DDP/compiled models first); "
                "the engine's weights are unchanged"
            )
        wrong = [f"{k}: {_shape_of(sd[k])} for {tuple(own[k].shape)}" for k in own
                 if k in sd and _shape_of(sd[k]) != tuple(own[k].shape)]
        if wrong:
            raise ValueError(f"weights do not fit the engine's model: {len(wrong)} with another shape (or not a "
                             f"tensor): {wrong[:5]}; the engine's weights are unchanged")
        self.model.load_state_dict(sd, strict=False)

    # ------------------------------------------------------------------ internals

    def _generate(
        self, prompts_token_ids: Sequence[Sequence[int]], n: int, sampling: SamplingParams, caps: Sequence[int] | None
    ) -> list[list[Sample]]:
        if n < 1:
            raise ValueError(f"n (samples per prompt) must be >= 1, got {n}")
        if not isinstance(sampling, SamplingParams):
            raise TypeError(f"sampling must be a SamplingParams, got {type(sampling).__name__}")
        prompts = [self._check_prompt(i, p) for i, p in enumerate(prompts_token_ids)]
        limits = [generation_limit(i, len(p), sampling.max_new_tokens, None if caps is None else caps[i], self.context_length)
                  for i, p in enumerate(prompts)]
        stop_strings, special_stop_ids = split_stops(sampling.stop, self._special_vocab)  # "<|im_end|>" stops on its id
        stop_ids = set(self.eos_token_ids) | set(sampling.stop_token_ids) | set(special_stop_ids)
        unknown = [t for t in sampling.stop_token_ids if not 0 <= t < self.vocab_size]
        if unknown:
            raise ValueError(f"stop_token_ids {unknown[:5]} are outside the vocabulary (size {self.vocab_size}): "
                             "no sample could ever stop on them")

        rows = [(pi, prompts[pi]) for pi in range(len(prompts)) for _ in range(n)]
        order = sorted(range(len(rows)), key=lambda r: len(rows[r][1]))
        generator = None
        if sampling.seed is not None:
            generator = torch.Generator(device=self.device)
            generator.manual_seed(int(sampling.seed))

        results: list[Sample | None] = [None] * len(rows)
        was_training = self.model.training
        self.model.eval()
        autocast = torch.autocast(self.device.type, dtype=self.compute_dtype or torch.float32,
                                  enabled=self.compute_dtype not in (None, torch.float32))
        try:
            with autocast:
                for start in range(0, len(order), self.max_batch_size):
                    chunk = order[start : start + self.max_batch_size]
                    samples = self._generate_batch([rows[r][1] for r in chunk], [limits[rows[r][0]] for r in chunk],
                                                   sampling, stop_ids, stop_strings, generator)
                    for r, s in zip(chunk, samples):
                        results[r] = s
        finally:
            self.model.train(was_training)
        names = stop_token_strings(sampling.stop, self._special_vocab)
        out: list[list[Sample]] = [[] for _ in prompts]
        for r, (pi, _) in enumerate(rows):
            out[pi].append(_name_stop_token(results[r], names, self.eos_token_ids))  # type: ignore[arg-type]
        return out

    def _check_prompt(self, index: int, prompt: Sequence[int]) -> list[int]:
        if isinstance(prompt, (str, bytes)) or not isinstance(prompt, Sequence) and not hasattr(prompt, "tolist"):
            raise TypeError(f"prompt {index} must be a list of token ids, got {type(prompt).__name__} ({prompt!r:.60}); "
                            "tokenize it first, and pass a list of prompts (a list of lists)")
        ids = [int(t) for t in prompt]
        if not ids:
            raise ValueError(f"prompt {index} has no tokens; every prompt needs at least one token id (e.g. BOS)")
        bad = [t for t in ids if not 0 <= t < self.vocab_size]
        if bad:
            raise ValueError(
                f"prompt {index} has token ids outside the vocabulary (size {self.vocab_size}): {bad[:5]}; "
                "tokenize prompts with the engine's tokenizer"
            )
        return ids  # (one that fills the model's context is refused by `generation_limit`)

    def _sample(self, logits: torch.Tensor, sampling: SamplingParams, generator) -> tuple[torch.Tensor, torch.Tensor]:
        logits = logits.float()
        if sampling.temperature == 0:
            tokens = logits.argmax(-1)
            logp = torch.log_softmax(logits, -1)
        else:
            z = logits / sampling.temperature if sampling.temperature != 1.0 else logits
            z = top_p_filter(z, sampling.top_p)
            logp = torch.log_softmax(z, -1)
            tokens = sample_categorical(logp, generator)
        return tokens, logp.gather(-1, tokens[:, None]).squeeze(-1)

    @functools.cached_property
    def _cache_argument(self) -> str:
        """The name the model's forward takes the KV cache under: ``cache`` since transformers 5.24
        (which warns on ``past_key_values``, on stderr, at every step), ``past_key_values`` before."""
        try:
            parameters = inspect.signature(self.model.forward).parameters
        except (TypeError, ValueError):  # (a forward inspect cannot read: the long-standing name)
            return "past_key_values"
        return "cache" if "cache" in parameters else "past_key_values"

    def _forward(self, **inputs: Any) -> Any:
        """The model's forward with ``logits_to_keep=1``: only the last position's logits are computed.

        Sampling reads the logits of the last position only, and a prefill's full logits are
        ``[prompts, prompt length, vocabulary]`` (GiBs for long prompts and a large vocabulary) for
        nothing. transformers' causal LMs take ``logits_to_keep``; a model whose forward refuses it
        (``TypeError``) is called without it, and that is remembered, so it is tried once."""
        if self._keeps_logits is not False:
            try:
                out = self.model(**inputs, logits_to_keep=1)
            except TypeError as e:
                if self._keeps_logits or "logits_to_keep" not in str(e):
                    raise
                self._keeps_logits = False
            else:
                self._keeps_logits = True
                return out
        return self.model(**inputs)

    @torch.inference_mode()
    def _generate_batch(
        self,
        prompts: list[list[int]],
        limits: list[int],
        sampling: SamplingParams,
        stop_ids: set[int],
        stop_strings: list[str],
        generator,
        share_prefill: bool = True,
    ) -> list[Sample]:
        dev = self.device
        B = len(prompts)
        # prefill each distinct prompt once; the n copies of a prompt are adjacent, so expand the KV
        # cache afterwards instead of recomputing the same prompt n times
        uniq: list[list[int]] = []
        expand: list[int] = []
        for p in prompts:
            if not share_prefill or not uniq or uniq[-1] != p:
                uniq.append(p)
            expand.append(len(uniq) - 1)
        L = max(len(p) for p in uniq)
        input_ids = torch.full((len(uniq), L), self.pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(uniq), L), dtype=torch.long)
        for i, p in enumerate(uniq):
            input_ids[i, L - len(p) :] = torch.tensor(p, dtype=torch.long)
            attention[i, L - len(p) :] = 1
        input_ids, attention = input_ids.to(dev), attention.to(dev)
        positions = (attention.cumsum(-1) - 1).clamp(min=0)

        # (the prefill computes the last position's logits only: see `_forward`)
        out = self._forward(input_ids=input_ids, attention_mask=attention, position_ids=positions, use_cache=True)
        cache = _cache_of(out)
        logits = out.logits[:, -1, :]
        del out
        if len(uniq) < B:
            if hasattr(cache, "batch_select_indices"):
                idx = torch.tensor(expand, dtype=torch.long, device=dev)
                cache.batch_select_indices(idx)
                logits, attention, positions = logits[idx], attention[idx], positions[idx]
            else:  # a cache type that cannot be expanded: prefill every row
                return self._generate_batch(prompts, limits, sampling, stop_ids, stop_strings, generator, share_prefill=False)

        tokens: list[list[int]] = [[] for _ in range(B)]
        logps: list[list[float]] = [[] for _ in range(B)]
        reason: list[str | None] = [None] * B
        active = list(range(B))  # batch position -> row; finished rows are dropped from the batch
        window = max((len(s) for s in stop_strings), default=0) * 4 + 8
        stop_tensor = torch.tensor(sorted(stop_ids), dtype=torch.long, device=dev) if stop_ids else None
        pos = positions[:, -1:]
        can_compact = hasattr(cache, "batch_select_indices")

        for _ in range(max(limits)):
            next_tok, next_lp = self._sample(logits, sampling, generator)
            if stop_tensor is not None:
                hit_stop = torch.isin(next_tok, stop_tensor).tolist()
            else:
                hit_stop = [False] * len(active)
            tok_list, lp_list = next_tok.tolist(), next_lp.tolist()
            keep = []
            for b, i in enumerate(active):
                if reason[i] is not None:  # finished earlier but not compacted away
                    continue
                tokens[i].append(tok_list[b])
                logps[i].append(lp_list[b])
                if hit_stop[b]:
                    reason[i] = "stop_token"
                elif stop_strings:
                    tail = self.tokenizer.decode(tokens[i][-window:], **VERBATIM)
                    if any(s in tail for s in stop_strings):
                        reason[i] = "stop_string"
                if reason[i] is None and len(tokens[i]) >= limits[i]:
                    reason[i] = "length"  # this row's limit: max_new_tokens, its cap or the context's room
                if reason[i] is None:
                    keep.append(b)
            if not keep:
                break
            if can_compact and len(keep) < len(active):
                # drop finished rows from the batch and the KV cache: later steps only pay for live rows
                idx = torch.tensor(keep, dtype=torch.long, device=dev)
                cache.batch_select_indices(idx)
                attention, pos, next_tok = attention[idx], pos[idx], next_tok[idx]
                active = [active[b] for b in keep]
            attention = torch.cat([attention, torch.ones((len(active), 1), dtype=attention.dtype, device=dev)], dim=1)
            pos = pos + 1
            out = self._forward(  # (one position per row: logits_to_keep=1 keeps all of them)
                input_ids=next_tok[:, None], attention_mask=attention, position_ids=pos, use_cache=True,
                **{self._cache_argument: cache},
            )
            cache = _cache_of(out)
            logits = out.logits[:, -1, :]
            del out

        samples = []
        # the text leaves out a stop token; one batched call decodes every row
        texts = self.tokenizer.batch_decode(
            [ids[:-1] if why == "stop_token" else ids for ids, why in zip(tokens, reason)], **VERBATIM
        )
        for i, text in enumerate(texts):
            ids = tokens[i]
            meta = {}
            matched = _first_stop(text, stop_strings) if reason[i] == "stop_string" else None
            if matched is not None:  # (only where the row ended on a stop string: elsewhere the text stays its ids')
                at, meta["stop_reason"] = matched
                text = text[:at]
            finish = "length" if reason[i] in (None, "length") else "stop"
            samples.append(Sample(token_ids=ids, logprobs=logps[i], finish_reason=finish, text=text, meta=meta))
        return samples
