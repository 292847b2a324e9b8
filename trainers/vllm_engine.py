"""The ``vllm`` engine: a thin adapter over a colocated ``vllm.LLM`` (GPU only).

What it does, in vLLM's own terms (checked against the source of vLLM 0.33, the version on PyPI when
this was written — not against a running vLLM, which cannot be installed on the machines this
project is developed on; see ``docs/engines.md``):

- builds ``vllm.LLM(model=..., enable_sleep_mode=True, logprobs_mode="processed_logprobs", ...)``;
- turns our :class:`~rlvr.trainers.engine.SamplingParams` into ``vllm.SamplingParams(n=...,
  temperature=..., top_p=..., max_tokens=..., stop=..., stop_token_ids=..., seed=..., logprobs=0)``
  (:func:`to_vllm_kwargs`; a stop string that is a special token, e.g. ``"<|im_end|>"``, goes to
  ``stop_token_ids`` as the hf engine does it, see :func:`~rlvr.trainers.engine.split_stops`; greedy
  asks for ``n=1``, which vLLM requires, and repeats it) and calls ``llm.generate([TokensPrompt(prompt_token_ids=...)], params)``;
- reads each ``RequestOutput.outputs[j]`` (``token_ids``, ``logprobs`` as a list of
  ``{token_id: Logprob(logprob=...)}`` dicts, ``finish_reason``, ``stop_reason``, ``text``) into our
  :class:`~rlvr.trainers.engine.Sample` (:func:`samples_from_request_outputs`);
- loads new weights with ``llm.apply_model(lambda model: model.load_weights(weights=...))`` (vLLM
  models take ``(name, tensor)`` pairs with Hugging Face parameter names) and then resets the prefix
  cache, whose KV blocks were computed with the old weights; a closure reaches the model only with
  vLLM in-process on one GPU, so an engine that trains refuses tensor/pipeline parallelism and
  vLLM's multiprocessing (:func:`check_weight_sync_setup`);
- offers :meth:`VLLMEngine.sleep` / :meth:`VLLMEngine.wake_up` (``llm.sleep(level=1)`` /
  ``llm.wake_up()``) to free the GPU for training; the trainer does not call them yet, so vLLM keeps
  its ``gpu_memory_utilization`` share of the GPU throughout a run.

``logprobs_mode="processed_logprobs"`` makes vLLM report log-probs after temperature and top-p, the
same convention as the ``hf`` engine (see :mod:`.hf_engine`). vLLM's numerics still differ from the
trainer's, which is what truncated importance sampling in the loss is for.

vLLM is imported lazily: importing this module never needs vLLM; building the engine without it
raises :class:`VLLMUnavailableError` saying how to install it.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

from rlvr.trainers.engine import (
    BatchedLimitsEngine, EngineError, Sample, SamplingParams, generation_limit, special_vocab, split_stops,
    state_dict_of, stop_token_strings,
)

__all__ = [
    "VLLMEngine",
    "VLLMUnavailableError",
    "import_vllm",
    "to_vllm_kwargs",
    "check_vllm_temperature",
    "check_weight_sync_setup",
    "sampled_logprobs",
    "samples_from_request_outputs",
    "max_model_len",
]

INSTALL_HINT = (
    'install it with `pip install "rlvr[vllm]"` on a Linux machine with a CUDA GPU (vLLM does not run '
    'on CPU-only machines); without a GPU use the "hf" engine'
)


class VLLMUnavailableError(ImportError):
    """vLLM is not installed (or failed to import) where the ``vllm`` engine was asked for."""


def import_vllm() -> Any:
    """Import and return the ``vllm`` module, or raise :class:`VLLMUnavailableError` with the fix."""
    try:
        import vllm  # noqa: PLC0415 - lazy on purpose: vLLM is an optional GPU-only extra
    except ImportError as exc:
        raise VLLMUnavailableError(f"the vllm engine needs vLLM, which could not be imported ({exc}); {INSTALL_HINT}") from exc
    return vllm


# ---------------------------------------------------------------------------------------------- pure conversions


#: The temperatures vLLM samples with as asked: 0 (greedy) or [VLLM_MIN_TEMPERATURE, VLLM_MAX_TEMPERATURE].
VLLM_MIN_TEMPERATURE, VLLM_MAX_TEMPERATURE = 0.01, 2.0


def check_vllm_temperature(temperature: float) -> None:
    """Refuse a temperature vLLM would not sample with as asked: its ``SamplingParams`` rejects one
    above 2 (with its own error type, not a ``ValueError``) and silently raises one in (0, 0.01) to
    0.01 (``vllm/sampling_params.py``), so the run would sample another distribution than the one
    the trainer scores with."""
    if temperature != 0 and not VLLM_MIN_TEMPERATURE <= temperature <= VLLM_MAX_TEMPERATURE:
        raise ValueError(
            f"temperature {temperature:g} is outside what the vllm engine samples with: 0 (greedy) or "
            f"[{VLLM_MIN_TEMPERATURE:g}, {VLLM_MAX_TEMPERATURE:g}] (vLLM refuses more and raises less to "
            f"{VLLM_MIN_TEMPERATURE:g}); use a temperature in that range, or the hf engine"
        )


def to_vllm_kwargs(sampling: SamplingParams, n: int, *, prompt_index: int = 0,
                   added: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Keyword arguments for ``vllm.SamplingParams`` equivalent to ``sampling`` with ``n`` samples.

    ``logprobs=0`` asks vLLM for the log-prob of the sampled token only. The seed of prompt ``i`` is
    ``seed + i * n``: vLLM seeds each request separately and gives its ``j``-th sample ``seed + j``,
    so this offset gives every (prompt, sample) its own seed (``seed + i`` would give sample ``j`` of
    prompt ``i`` the seed of sample ``j - 1`` of prompt ``i + 1``: duplicated samples for identical
    prompts). With the tokenizer's special tokens ``added`` (:func:`~rlvr.trainers.engine.special_vocab`),
    stop strings that are special tokens also go to ``stop_token_ids``: vLLM matches stop strings on
    text decoded without special tokens, where they never appear (:func:`~rlvr.trainers.engine.split_stops`).
    Greedy (temperature 0) asks for one sample whatever ``n``: vLLM refuses ``n > 1`` with greedy
    sampling (``SamplingParams._verify_greedy_sampling``), and the ``n`` samples are that one
    repeated, as the hf engine's greedy samples are (:func:`samples_from_request_outputs`).
    A temperature vLLM does not sample with as asked is a ``ValueError`` (:func:`check_vllm_temperature`).
    """
    if n < 1:
        raise ValueError(f"n (samples per prompt) must be >= 1, got {n}")
    check_vllm_temperature(sampling.temperature)
    kwargs: dict[str, Any] = {
        "n": 1 if sampling.temperature == 0 else int(n),
        "temperature": float(sampling.temperature),
        "top_p": float(sampling.top_p),
        "max_tokens": int(sampling.max_new_tokens),
        "logprobs": 0,
        "skip_special_tokens": True,
        "include_stop_str_in_output": False,
    }
    stop, stop_ids = split_stops(sampling.stop, added or {})
    stop_ids = list(sampling.stop_token_ids) + [i for i in stop_ids if i not in sampling.stop_token_ids]
    if stop:
        kwargs["stop"] = stop
    if stop_ids:
        kwargs["stop_token_ids"] = stop_ids
    if sampling.seed is not None:
        kwargs["seed"] = int(sampling.seed) + int(prompt_index) * int(n)
    return kwargs


def sampled_logprobs(token_ids: Sequence[int], logprobs: Sequence[Mapping[int, Any] | None] | None) -> list[float]:
    """The log-prob of each sampled token from vLLM's per-position ``{token_id: Logprob}`` dicts.

    vLLM returns, per generated position, a dict holding the sampled token (always) and the top-k
    alternatives (when ``logprobs=k > 0``); each value has a ``.logprob`` float. A missing position or
    a dict without the sampled id means logprobs were not requested: that is an error here, because
    the trainer needs them (an :class:`EngineError`: the engine's failure, never the model's answer).
    """
    if logprobs is None:
        raise EngineError("vLLM returned no logprobs; request them with SamplingParams(logprobs=0)")
    if len(logprobs) != len(token_ids):
        raise EngineError(f"vLLM returned {len(logprobs)} logprob positions for {len(token_ids)} tokens")
    out = []
    for pos, (tok, entry) in enumerate(zip(token_ids, logprobs)):
        if not entry or tok not in entry:
            raise EngineError(f"vLLM's logprobs at position {pos} do not contain the sampled token {tok}")
        value = entry[tok]
        out.append(float(getattr(value, "logprob", value)))
    return out


def _finish_reason(reason: str | None, where: str) -> str:
    if reason == "length":
        return "length"
    if reason in ("stop", "repetition"):
        return "stop"
    # "abort", "error" or unfinished: the engine failed, this is not a model output to score
    raise EngineError(f"vLLM did not finish {where} (finish_reason={reason!r}); the engine failed or was aborted")


def samples_from_request_outputs(request_outputs: Sequence[Any], n: int, *, greedy: bool = False,
                                 stop_names: Mapping[int, str] | None = None) -> list[list[Sample]]:
    """Our ``[prompt][sample]`` lists from vLLM ``RequestOutput`` objects (one per prompt, in order).

    Uses, per ``RequestOutput``, ``.outputs`` (``CompletionOutput``: ``index``, ``text``,
    ``token_ids``, ``logprobs``, ``finish_reason``, ``stop_reason``), sorted by ``index``.
    ``greedy``: vLLM was asked for one sample per prompt (:func:`to_vllm_kwargs`), which stands for
    all ``n`` (copies, so a caller may change one). ``stop_reason`` goes to ``meta["stop_reason"]``
    as a stop string: vLLM reports the token id for a ``stop_token_ids`` stop, which ``stop_names``
    (:func:`~rlvr.trainers.engine.stop_token_strings`) maps back to the stop string it came from; an
    id given as such (``SamplingParams.stop_token_ids``) names no string and stays vLLM's int.
    """
    groups: list[list[Sample]] = []
    for pi, ro in enumerate(request_outputs):
        outs = sorted(ro.outputs, key=lambda o: getattr(o, "index", 0))
        if len(outs) != (1 if greedy else n):
            raise EngineError(f"vLLM returned {len(outs)} samples for prompt {pi}, expected n={1 if greedy else n}")
        group = [_sample_from_output(o, pi, stop_names or {}) for o in outs]
        if greedy:
            group = [group[0]] + [_copy(group[0]) for _ in range(n - 1)]
        groups.append(group)
    return groups


def _sample_from_output(o: Any, pi: int, stop_names: Mapping[int, str]) -> Sample:
    """The Sample of one ``CompletionOutput`` of prompt ``pi`` (see :func:`samples_from_request_outputs`)."""
    ids = [int(t) for t in o.token_ids]
    meta = {}
    reason = getattr(o, "stop_reason", None)
    if reason is not None:
        meta["stop_reason"] = stop_names.get(reason, reason)
    return Sample(
        token_ids=ids,
        logprobs=sampled_logprobs(ids, o.logprobs),
        finish_reason=_finish_reason(o.finish_reason, f"sample {getattr(o, 'index', '?')} of prompt {pi}"),  # type: ignore[arg-type]
        text=o.text or "",
        meta=meta,
    )


def _copy(sample: Sample) -> Sample:
    """A copy of ``sample`` that shares no list or dict with it."""
    return Sample(token_ids=list(sample.token_ids), logprobs=list(sample.logprobs), finish_reason=sample.finish_reason,
                  text=sample.text, meta=dict(sample.meta))


def max_model_len(llm: Any) -> int | None:
    """vLLM's ``max_model_len`` (prompt + sample, in tokens) of a ``vllm.LLM``: from its engine's model
    config (``llm.llm_engine.model_config``, or ``.vllm_config.model_config``), else the LLM's own
    ``model_config``; None when none of them holds it (then the rollout falls back to the tokenizer)."""
    engine = getattr(llm, "llm_engine", None)
    for config in (getattr(engine, "model_config", None),
                   getattr(getattr(engine, "vllm_config", None), "model_config", None),
                   getattr(llm, "model_config", None)):
        value = getattr(config, "max_model_len", None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def named_tensors(weights: Any) -> list[tuple[str, Any]]:
    """``(name, tensor)`` pairs (Hugging Face names) from a ``state_dict`` or a module, for
    ``model.load_weights``; DDP's ``module.`` and ``torch.compile``'s ``_orig_mod.`` prefixes are
    stripped so that names match the checkpoint the engine was built from."""
    pairs = []
    for name, tensor in state_dict_of(weights).items():
        for prefix in ("module.", "_orig_mod."):
            while name.startswith(prefix):
                name = name[len(prefix) :]
        pairs.append((name, tensor.detach() if hasattr(tensor, "detach") else tensor))
    return pairs


def load_all_weights(model: Any, pairs: list[tuple[str, Any]]) -> tuple[list[str], frozenset[str] | None]:
    """Load ``pairs`` into a vLLM model (``model.load_weights``); return the names of its
    parameters they left untouched that vLLM's own loader would ask for, sorted, and the set of
    names the call loaded (None when the model reports none).

    vLLM's models return the set of their parameters a call loaded; its loader compares that set
    with ``model.named_parameters()`` after the first load and refuses a checkpoint that misses
    some, except the parameters of a module whose ``quant_method`` builds or fixes them up after
    loading, which this check exempts the same way. For an unquantized model that exemption covers
    the linear and embedding layers (their ``UnquantizedLinearMethod`` has such a hook), so this
    check alone mostly catches updates that load next to nothing (names that match none of vLLM's);
    :meth:`VLLMEngine.load_weights` also compares each update's set with the first one's. A model
    whose ``load_weights`` returns no set (older vLLM models) cannot be checked: ([], None)."""
    loaded = model.load_weights(weights=pairs)
    if not isinstance(loaded, (set, frozenset)):
        return [], None
    exempt = set()
    for prefix, module in model.named_modules():
        method = getattr(module, "quant_method", None)
        if getattr(method, "uses_meta_device", False) or getattr(method, "process_weights_after_loading", None):
            exempt.update(f"{prefix}.{name}" if prefix else name for name, _ in module.named_parameters())
    stale = sorted(name for name, _ in model.named_parameters() if name not in loaded and name not in exempt)
    return stale, frozenset(loaded)


def _reads_as_zero(value: str) -> bool:
    """Whether vLLM reads an environment switch as off: it takes ``bool(int(value))`` ("00" is 0)."""
    try:
        return int(value) == 0
    except ValueError:
        return False


def check_weight_sync_setup(llm_kwargs: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> None:
    """Refuse a vLLM set-up that :meth:`VLLMEngine.load_weights` cannot push new weights into.

    The weights go in with ``llm.apply_model(fn)``, a closure called on the model. That works only
    with vLLM's engine in this process on one GPU (``UniProcExecutor``). With tensor or pipeline
    parallelism above 1, or another ``distributed_executor_backend``, vLLM pickles the call for its
    worker processes (``v1/executor/multiproc_executor.py``, ``shm_broadcast.py``), and with its
    engine core in a subprocess (``VLLM_ENABLE_V1_MULTIPROCESSING`` not 0) it serialises it with
    msgpack (``v1/serial_utils.py``): a closure passes neither, so training would fail at the first
    weight update, after the model loaded. ``environ``: where the multiprocessing switch is read
    (unset counts as 0, the engine's default)."""
    found = [f"{key}={llm_kwargs[key]!r}" for key in ("tensor_parallel_size", "pipeline_parallel_size")
             if llm_kwargs.get(key) not in (None, 1)]
    # ("external_launcher": an in-process executor per torchrun rank, one GPU each here)
    if llm_kwargs.get("distributed_executor_backend") not in (None, "uni", "external_launcher"):
        found.append(f"distributed_executor_backend={llm_kwargs['distributed_executor_backend']!r}")
    multiprocessing = environ.get("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    if not _reads_as_zero(multiprocessing):
        found.append(f"VLLM_ENABLE_V1_MULTIPROCESSING={multiprocessing!r}")
    if found:
        raise ValueError(
            f"the vllm engine cannot train with {', '.join(found)}: it loads each update into vLLM's model "
            "in this process (llm.apply_model), which works only with vLLM in-process on one GPU; train with "
            "tensor_parallel_size=1, pipeline_parallel_size=1 and VLLM_ENABLE_V1_MULTIPROCESSING=0 (the "
            "defaults: drop them from engine.kwargs / the environment), so the model must fit one GPU; "
            "evaluation alone may use them (VLLMEngine(..., weight_sync=False))"
        )


# ---------------------------------------------------------------------------------------------- the engine


class VLLMEngine(BatchedLimitsEngine):
    """Engine over a colocated ``vllm.LLM``.

    ``model``: a Hugging Face model id or a local folder (``save_pretrained`` output). Other keyword
    arguments go to ``vllm.LLM`` unchanged (e.g. ``max_model_len``, ``max_num_seqs``).
    ``gpu_memory_utilization`` defaults to 0.4 to leave room for training on the same GPU.
    ``llm`` lets a caller pass an already built ``vllm.LLM`` (its set-up is the caller's to check).

    The engine runs vLLM in-process (``VLLM_ENABLE_V1_MULTIPROCESSING=0`` unless already set), so that
    :meth:`load_weights` hands tensors to the model directly instead of serialising them to a worker.
    ``weight_sync`` (default True: the engine will receive the trainer's weights) therefore refuses,
    before vLLM is loaded, tensor or pipeline parallelism above 1 and vLLM's multiprocessing
    (:func:`check_weight_sync_setup`); an engine for evaluation only passes ``weight_sync=False`` and
    may use them, and its :meth:`load_weights` refuses.

    ``context_length`` is vLLM's ``max_model_len`` (read from the engine's model config; None when this
    vLLM keeps it elsewhere): a prompt that fills it is refused, and no sample runs past it.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        dtype: str = "auto",
        gpu_memory_utilization: float = 0.4,
        enable_sleep_mode: bool = True,
        seed: int = 0,
        logprobs_mode: str = "processed_logprobs",
        llm: Any = None,
        weight_sync: bool = True,
        **llm_kwargs: Any,
    ):
        if weight_sync and llm is None:
            check_weight_sync_setup(llm_kwargs)
        self._vllm = import_vllm()
        if llm is None:
            if not model:
                raise ValueError("the vllm engine needs model=<hub id or local folder> (or an existing llm=vllm.LLM(...))")
            os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
            llm = self._vllm.LLM(
                model=model,
                dtype=dtype,
                gpu_memory_utilization=gpu_memory_utilization,
                enable_sleep_mode=enable_sleep_mode,
                seed=seed,
                logprobs_mode=logprobs_mode,
                **llm_kwargs,
            )
        self.llm = llm
        self.sleep_enabled = enable_sleep_mode
        self.weight_sync = weight_sync
        self._asleep = False
        #: the parameter names the first checked update loaded: every later update must load them all
        self._first_loaded: frozenset[str] | None = None
        self._closed = False
        self._special_vocab: dict[str, int] | None = None  # the tokenizer's special tokens, read at the first generate
        self.context_length = max_model_len(llm)

    def _generate(
        self, prompts_token_ids: Sequence[Sequence[int]], n: int, sampling: SamplingParams, caps: Sequence[int] | None
    ) -> list[list[Sample]]:
        if not isinstance(sampling, SamplingParams):
            raise TypeError(f"sampling must be a SamplingParams, got {type(sampling).__name__}")
        self._check_open()
        prompts = [[int(t) for t in p] for p in prompts_token_ids]
        for i, p in enumerate(prompts):
            if not p:
                raise ValueError(f"prompt {i} has no tokens; every prompt needs at least one token id (e.g. BOS)")
        self.wake_up()
        from vllm.inputs import TokensPrompt  # noqa: PLC0415

        if self._special_vocab is None:  # to turn special-token stop strings into stop ids; read once
            self._special_vocab = special_vocab(self.llm.get_tokenizer())
        params = []
        for i, p in enumerate(prompts):
            kwargs = to_vllm_kwargs(sampling, n, prompt_index=i, added=self._special_vocab)
            kwargs["max_tokens"] = generation_limit(i, len(p), sampling.max_new_tokens, None if caps is None else caps[i],
                                                    self.context_length, "vLLM's max_model_len")
            params.append(self._vllm.SamplingParams(**kwargs))
        outputs = self.llm.generate([TokensPrompt(prompt_token_ids=p) for p in prompts], params, use_tqdm=False)
        return samples_from_request_outputs(outputs, n, greedy=sampling.temperature == 0,
                                            stop_names=stop_token_strings(sampling.stop, self._special_vocab))

    def load_weights(self, weights: Any) -> None:
        """Copy new weights (a ``state_dict`` or a module) into vLLM's model, then drop the prefix
        cache (its KV blocks belong to the old weights). An :class:`EngineError` names the model's
        parameters the weights did not cover: those vLLM's loader asks for (see
        :func:`load_all_weights`), and, after the first update, any the first update loaded; they
        would keep their old values while the trainer takes them for new."""
        self._check_open()
        if not self.weight_sync:
            raise RuntimeError("this vllm engine was built with weight_sync=False (evaluation only); build it with "
                               "weight_sync=True (the default) to load weights, which needs vLLM in-process on one GPU")
        pairs = named_tensors(weights)
        if self._asleep:  # weights back on the GPU; the KV cache stays released until generate()
            self.llm.wake_up(tags=["weights"])
        apply_model = getattr(self.llm, "apply_model", None)
        if callable(apply_model):
            results = apply_model(lambda model: load_all_weights(model, pairs))  # one per worker
        else:  # older vLLM without apply_model: reach the in-process model directly
            runner = self.llm.llm_engine.model_executor.driver_worker.model_runner
            results = [load_all_weights(runner.model, pairs)]
        self.llm.reset_prefix_cache()
        stale, loaded = set(), set()
        for missed, names in results or []:
            stale.update(missed)
            loaded.update(names or ())
        if self._first_loaded is None and loaded and not stale:
            self._first_loaded = frozenset(loaded)  # what a whole update loads (the first one, checked)
        elif self._first_loaded is not None:
            stale.update(self._first_loaded - loaded)  # loaded by the first update, not by this one
        stale = sorted(stale)
        if stale:
            raise EngineError(f"the new weights left {len(stale)} of vLLM's parameters unloaded ({', '.join(stale[:5])}"
                              f"{', ...' if len(stale) > 5 else ''}): they still hold the old values; pass the whole "
                              "state_dict of the model the engine was built from (Hugging Face parameter names)")

    def sleep(self, level: int = 1) -> None:
        """Release GPU memory for training: level 1 offloads weights to CPU and drops the KV cache;
        level 2 drops the weights too (only when new weights are loaded before the next generation)."""
        if not self.sleep_enabled:
            raise RuntimeError("this vllm engine was built with enable_sleep_mode=False; rebuild it with enable_sleep_mode=True to use sleep()")
        if not self._asleep:
            self.llm.sleep(level=level)
            self._asleep = True

    def wake_up(self) -> None:
        """Reallocate what :meth:`sleep` released (a no-op when awake). ``wake_up()`` without tags
        reallocates every tag still asleep, also after :meth:`load_weights` woke the weights alone."""
        if self._asleep:
            self.llm.wake_up()
            self._asleep = False

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this vllm engine is closed; build a new VLLMEngine")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        llm, self.llm = self.llm, None
        del llm
        try:  # free the GPU memory now rather than at interpreter exit
            import gc

            import torch

            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except Exception:  # pragma: no cover - best effort
            pass

