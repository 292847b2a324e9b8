"""Overlong handling (DAPO): soft length punishment and masking of truncated samples.

Two independent tools for answers that run into the generation limit:

* :func:`soft_overlong_penalty` adds a reward that is 0 up to ``max_len - cache_len`` tokens, falls
  linearly to -1 at ``max_len`` and stays at -1 beyond, so the model learns to finish before the
  limit without a cliff.
* :func:`truncation_mask` zeroes the loss of samples cut off by the limit, whose reward says little
  about the answer they never finished.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

__all__ = ["soft_overlong_penalty", "truncation_mask"]


def soft_overlong_penalty(lengths: Tensor | Sequence[int], max_len: int, cache_len: int) -> Tensor:
    """DAPO's soft overlong punishment for responses of ``lengths`` tokens (float32, same shape).

    ``0`` if ``L <= max_len - cache_len``; ``(max_len - cache_len - L) / cache_len`` if
    ``max_len - cache_len < L <= max_len`` (so -1 exactly at ``max_len``); ``-1`` if ``L > max_len``.
    Requires ``0 < cache_len <= max_len``.
    """
    if not 0 < cache_len <= max_len:
        raise ValueError(
            f"need 0 < cache_len <= max_len for the overlong penalty, got cache_len={cache_len}, "
            f"max_len={max_len}"
        )
    L = torch.as_tensor(lengths, dtype=torch.float32)
    start = float(max_len - cache_len)
    ramp = (start - L) / float(cache_len)
    return torch.where(L <= start, torch.zeros_like(L), torch.clamp(ramp, min=-1.0))


def truncation_mask(truncated: Tensor | Sequence[bool] | Sequence[str]) -> Tensor:
    """Per-sample loss weight: 0.0 for truncated samples, 1.0 for the others.

    Accepts a bool tensor/list (True = truncated) or a list of finish reasons, where ``"length"``
    means truncated and ``"stop"`` means finished. Multiply the response mask by
    ``truncation_mask(...)[:, None]`` to drop truncated samples from the loss.
    """
    if isinstance(truncated, Tensor):
        return (~truncated.to(torch.bool)).to(torch.float32)
    items = list(truncated)
    if items and isinstance(items[0], str):
        unknown = {r for r in items if r not in ("stop", "length")}
        if unknown:
            raise ValueError(f"finish reasons must be 'stop' or 'length', got {sorted(unknown)}")
        flags = [r == "length" for r in items]
    else:
        flags = [bool(x) for x in items]
    return torch.tensor([0.0 if f else 1.0 for f in flags], dtype=torch.float32)
