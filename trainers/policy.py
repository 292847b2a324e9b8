"""The policy model the trainer optimises: where it runs, in which dtype, how it is loaded, its
optimiser and learning-rate schedule, and the engine that samples from it.

Kept apart from :mod:`.trainer` so that the training loop reads as the algorithm: these are the
set-up choices it starts from (``rlvr serve`` picks its device with :func:`pick_device` too).
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any, Callable

import torch

from rlvr.trainers.checkpoint import quiet_progress
from rlvr.trainers.config import Config, ConfigError, TrainConfig
from rlvr.trainers.model_source import model_path_error

__all__ = ["pick_device", "pick_dtype", "load_policy", "disable_dropout", "lr_lambda", "make_optimizer", "make_engine"]


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("model.device is cuda but no CUDA GPU is available; use model.device=cpu (or auto)")
    return dev


def pick_dtype(name: str, device: torch.device) -> torch.dtype:
    """The compute dtype of forward passes (weights and optimizer state stay float32: see `Trainer`)."""
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16}[name]


def load_policy(cfg: Config) -> tuple[Any, Any]:
    """The model and tokenizer named by ``cfg.model`` (the tiny local model for ``"tiny"``).

    A ``model.name_or_path`` that is a path (``./x``, ``../x``, ``/x``, ``~/x``, or more than one
    ``/``: no hub id) but no folder, or an rlvr checkpoint folder (whose model is in ``model/``),
    is a :class:`ConfigError` saying so (transformers would complain about a repo id or a tokenizer)."""
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

    name, folder = m.name_or_path, Path(m.name_or_path).expanduser()
    error = model_path_error(name, lambda value: f"model.name_or_path={value!r}")
    if error is not None:
        raise ConfigError(error)
    if folder.is_dir():
        name = str(folder)
    try:
        with quiet_progress() if not cfg.log.progress else contextlib.nullcontext():  # (log.progress=false: no bars)
            tok = AutoTokenizer.from_pretrained(name, trust_remote_code=m.trust_remote_code)
            model = AutoModelForCausalLM.from_pretrained(name, trust_remote_code=m.trust_remote_code, dtype=torch.float32)
    except (OSError, ValueError) as exc:  # no such folder, no hub access, not a model: one line naming the key
        reason = " ".join(str(exc).split())[:300]
        raise ConfigError(f"model.name_or_path={m.name_or_path!r} cannot be loaded ({type(exc).__name__}: {reason}); "
                          "set it to a folder written by save_pretrained, a hub id available offline, or 'tiny'") from None
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


def lr_lambda(kind: str, warmup: int, total: int) -> Callable[[int], float]:
    """The learning-rate multiplier of each step: a linear warm-up over ``warmup`` steps, then
    ``kind`` ("constant", "linear" or "cosine" decay) until step ``total``."""
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


def make_optimizer(model: Any, t: TrainConfig) -> tuple[torch.optim.AdamW, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW over ``model``'s trainable parameters with the ``train`` section's settings, and its
    learning-rate schedule (:func:`lr_lambda`)."""
    params = [p for p in model.parameters() if p.requires_grad]
    # the fused kernel (CPU and CUDA) updates every tensor in one call: a tiny model's step is 4x cheaper
    fused = bool(params) and all(p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in params)
    optimizer = torch.optim.AdamW(params, lr=t.lr, betas=(t.beta1, t.beta2), weight_decay=t.weight_decay, fused=fused or None)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(t.lr_scheduler, t.warmup_steps, t.total_steps))
    return optimizer, scheduler


def make_engine(cfg: Config, model: Any, tokenizer: Any, dtype: torch.dtype) -> Any:
    """The generation engine of ``engine.name``: ``hf`` samples from ``model`` itself (in ``dtype``),
    ``vllm`` loads its own copy of ``model.name_or_path`` (the trainer gives it new weights)."""
    e = cfg.engine
    if e.name == "hf":
        from rlvr.trainers.hf_engine import HFEngine

        return HFEngine(model, tokenizer, max_batch_size=e.max_batch_size, compute_dtype=dtype)
    from rlvr.trainers.vllm_engine import VLLMEngine

    kwargs = dict(e.kwargs)  # engine.max_batch_size is hf-only: vLLM's own knob is engine.kwargs.max_num_seqs
    kwargs.setdefault("dtype", "bfloat16" if dtype == torch.bfloat16 else "auto")
    kwargs.setdefault("trust_remote_code", cfg.model.trust_remote_code)
    # (vLLM seeds numpy's legacy RNG with it, which takes seeds below 2**32 only)
    engine = VLLMEngine(cfg.model.name_or_path, seed=cfg.train.seed % 2**32, **kwargs)
    return engine
