"""Advantage estimators as pure functions over tensors.

Each function turns rewards into advantages and nothing else: no model, no state, no I/O, so every
estimator can be checked against numbers worked out by hand (tests/test_trainer_math.py).

Shape conventions
-----------------
* Sequence-level estimators take ``rewards`` of shape ``[num_groups, group_size]``: row ``g`` holds
  the scalar rewards of the ``group_size`` samples drawn for prompt ``g``. They return advantages of
  the same shape, one scalar per sample; :func:`expand_to_tokens` broadcasts them over the response
  tokens of a flattened batch.
* A *flattened batch* lists the samples group after group: sample ``j`` of group ``g`` is row
  ``g * group_size + j`` (``rewards.reshape(-1)`` order). Token-level tensors are
  ``[batch, num_tokens]`` over response tokens, with a 0/1 ``mask`` marking the tokens the policy
  produced.
* Standard deviations are *population* standard deviations (divide by ``n``, not ``n - 1``): they are
  defined for a group of one (0) and never produce NaN. ``eps`` is added to the std before dividing.
* A group whose rewards are all equal gets advantages of exactly 0 (:func:`centred`). Computing the
  mean is not enough for that: in float32 the mean of eight rewards of 0.1 is one rounding step
  off, and dividing that 1e-8 by a std of the same size turns it into an advantage of the same sign
  for every sample. Group statistics are therefore taken in float64, and equal groups are zeroed.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

__all__ = [
    "centred",
    "grpo_advantages",
    "dr_grpo_advantages",
    "rloo_advantages",
    "reinforce_pp_advantages",
    "reinforce_pp_token_advantages",
    "process_grpo_advantages",
    "expand_to_tokens",
    "masked_mean",
    "masked_whiten",
]


def _check_groups(rewards: Tensor, name: str = "rewards") -> Tensor:
    if not isinstance(rewards, Tensor):
        rewards = torch.as_tensor(rewards, dtype=torch.float32)
    if rewards.dim() != 2:
        raise ValueError(
            f"{name} must have shape [num_groups, group_size], got {tuple(rewards.shape)}; "
            "reshape a flat batch with rewards.view(-1, group_size)"
        )
    if not rewards.is_floating_point():
        rewards = rewards.float()
    return rewards


def _safe_div(num: Tensor, den: Tensor) -> Tensor:
    """``num / den`` where ``den > 0``, else 0: a zero spread (all values equal) means no signal, not NaN."""
    den = torch.as_tensor(den, dtype=num.dtype, device=num.device)
    return torch.where(den > 0, num / torch.where(den > 0, den, torch.ones_like(den)), torch.zeros_like(num))


def centred(values: Tensor, dim: int | None = None) -> Tensor:
    """``values`` minus their mean (along ``dim``, or over everything), in float64; exactly 0 where
    all values along ``dim`` are equal (see the module docs: rounding must not become a signal)."""
    values = values.double()
    if dim is None:
        out = values - values.mean()
        return torch.zeros_like(out) if values.numel() and bool((values == values.reshape(-1)[0]).all()) else out
    out = values - values.mean(dim=dim, keepdim=True)
    equal = (values == values.narrow(dim, 0, 1)).all(dim=dim, keepdim=True)
    return out.masked_fill(equal, 0.0)


def masked_mean(values: Tensor, mask: Tensor, dim: int | None = None) -> Tensor:
    """Mean of ``values`` over positions where ``mask`` is 1; 0 (not NaN) where the mask is empty."""
    mask = mask.to(values.dtype)
    total = (values * mask).sum() if dim is None else (values * mask).sum(dim)
    count = mask.sum() if dim is None else mask.sum(dim)
    return total / count.clamp(min=1.0)


def masked_whiten(values: Tensor, mask: Tensor, eps: float = 1e-6, shift_mean: bool = True) -> Tensor:
    """Normalise ``values`` to zero mean and unit (population) std over the masked positions;
    with ``shift_mean=False`` the mean is added back (scaled about their mean to unit std).

    Positions outside the mask are returned as 0. An empty mask returns all zeros. When the masked
    values are all equal their spread is exactly 0 and, with ``shift_mean``, so is the result (without
    it, they come back as they are, not divided by ``eps``): the
    masked mean (a sum over a count) may be a rounding step off the common value, and that step must
    not become a learning signal (as in :func:`centred`).
    """
    mask = mask.to(values.dtype)
    picked = values.masked_select(mask > 0)
    if picked.numel() and bool((picked == picked[0]).all()):
        centred_values = torch.zeros_like(values * mask)
    else:
        centred_values = values - masked_mean(values, mask)
    var = masked_mean(centred_values**2, mask)
    if shift_mean:
        return _safe_div(centred_values, var.sqrt() + eps) * mask
    # the spread scaled to unit std, the mean put back (equal values come back as they are)
    return (_safe_div(centred_values, var.sqrt() + eps) + (values - centred_values)) * mask


def grpo_advantages(rewards: Tensor, *, scale_std: bool = True, eps: float = 1e-6) -> Tensor:
    """GRPO outcome advantages: ``A_i = (r_i - mean(group)) / (std(group) + eps)``.

    ``rewards`` is ``[num_groups, group_size]``; the result has the same shape. With
    ``scale_std=False`` this is Dr. GRPO's ``r_i - mean(group)``. A group whose rewards are all equal
    (including a group of one) gets zeros: it carries no learning signal.
    """
    rewards = _check_groups(rewards)
    offsets = centred(rewards, dim=1)
    if not scale_std:
        return offsets.to(rewards.dtype)
    std = rewards.double().std(dim=1, unbiased=False, keepdim=True)
    return _safe_div(offsets, std + eps).to(rewards.dtype)


def dr_grpo_advantages(rewards: Tensor) -> Tensor:
    """Dr. GRPO advantages: ``A_i = r_i - mean(group)``, no division by the group std.

    Dropping the std removes GRPO's question-difficulty bias (groups with tiny reward spread are not
    amplified). Shapes as in :func:`grpo_advantages`.
    """
    return grpo_advantages(rewards, scale_std=False)


def rloo_advantages(rewards: Tensor) -> Tensor:
    """RLOO advantages: each sample's baseline is the mean reward of the *other* samples of its group.

    ``A_i = r_i - (sum_j r_j - r_i) / (n - 1) = n / (n - 1) * (r_i - mean(group))``.
    ``rewards`` is ``[num_groups, group_size]`` with ``group_size >= 2`` (with one sample there is no
    "other" sample to form a baseline, so a group of one is rejected with a ValueError).
    """
    rewards = _check_groups(rewards)
    n = rewards.shape[1]
    if n < 2:
        raise ValueError(
            "rloo_advantages needs group_size >= 2 (the baseline is the mean of the other samples); "
            "sample at least 2 completions per prompt or use grpo/reinforce++"
        )
    # r_i - (sum_j r_j - r_i) / (n - 1), written as the centred reward scaled by n / (n - 1)
    return (centred(rewards, dim=1) * (n / (n - 1))).to(rewards.dtype)


def reinforce_pp_advantages(
    rewards: Tensor, *, group_baseline: bool = False, eps: float = 1e-6
) -> Tensor:
    """REINFORCE++ sequence-level advantages: rewards normalised across the whole batch.

    Without ``group_baseline`` (plain REINFORCE++) the batch of all ``num_groups * group_size``
    rewards is whitened: ``A = (r - mean(batch)) / (std(batch) + eps)``. With ``group_baseline``
    (REINFORCE++-baseline) each reward first has its group mean subtracted, then the batch of centred
    rewards is divided by its std (the batch mean of centred rewards is 0 by construction, and is
    subtracted anyway for exactness). ``rewards`` is ``[num_groups, group_size]``; same shape out.
    """
    rewards = _check_groups(rewards)
    values = centred(rewards, dim=1) if group_baseline else rewards.double()
    return _safe_div(centred(values), values.std(unbiased=False) + eps).to(rewards.dtype)


def reinforce_pp_token_advantages(
    rewards: Tensor,
    mask: Tensor,
    *,
    group_baseline: bool = False,
    kl_penalty: Tensor | None = None,
    eps: float = 1e-6,
) -> Tensor:
    """REINFORCE++ token-level advantages, normalised over every response token of the batch.

    The outcome reward sits on the last response token and each token pays its own KL penalty, so with
    no discount the return from token ``t`` is ``G_t = R - sum_{s >= t} kl_penalty_s`` (masked).

    Without ``group_baseline`` the returns of all masked tokens in the batch are whitened together
    (batch mean subtracted, divided by the batch std). With ``group_baseline`` (REINFORCE++-baseline)
    the group mean is the baseline and the returns are only *divided* by the (population) std of the
    masked returns, not centred again: the token-weighted batch mean of group-centred rewards is not 0
    when lengths differ, and subtracting it would give a group whose rewards are all equal non-zero
    advantages whose sign depends on other groups' lengths. If all masked returns are equal (no
    spread) they are returned as they are rather than divided by ``eps``.

    ``rewards``: ``[num_groups, group_size]`` (group baseline subtracted first when asked);
    ``mask``: ``[num_groups * group_size, num_tokens]`` in flattened-batch order;
    ``kl_penalty``: optional ``[batch, num_tokens]`` per-token penalty already multiplied by its
    coefficient (see :func:`rlvr.trainers.losses.kl_penalty`). Returns ``[batch, num_tokens]``, 0 off
    the mask.
    """
    rewards = _check_groups(rewards)
    dtype = rewards.dtype
    rewards = centred(rewards, dim=1) if group_baseline else rewards.double()
    flat = rewards.reshape(-1)
    if mask.dim() != 2 or mask.shape[0] != flat.shape[0]:
        raise ValueError(
            f"mask must be [batch={flat.shape[0]}, num_tokens], got {tuple(mask.shape)}; "
            "pass the response mask of the flattened batch"
        )
    maskf = mask.to(flat.dtype)
    returns = flat[:, None] * maskf
    if kl_penalty is not None:
        if kl_penalty.shape != mask.shape:
            raise ValueError(
                f"kl_penalty shape {tuple(kl_penalty.shape)} must equal mask shape {tuple(mask.shape)}"
            )
        kl = kl_penalty.to(flat.dtype) * maskf
        # reverse cumulative sum: sum_{s >= t} kl_s
        to_go = kl.flip(-1).cumsum(-1).flip(-1)
        returns = returns - to_go * maskf
    if not group_baseline:
        return masked_whiten(returns, maskf, eps=eps).to(dtype)
    return (returns * _inverse_spread(returns, maskf, eps)).to(dtype)


def _inverse_spread(values: Tensor, mask: Tensor, eps: float) -> Tensor:
    """``1 / (std + eps)`` of the masked ``values`` (population std); 1 when they are all equal (or the
    mask is empty), so that equal values keep their size instead of being divided by ``eps`` (their
    computed std may be a rounding step above 0: see :func:`masked_whiten`)."""
    picked = values.masked_select(mask > 0)
    if picked.numel() == 0 or bool((picked == picked[0]).all()):
        return torch.ones((), dtype=values.dtype, device=values.device)
    std = picked.std(unbiased=False)
    return 1.0 / (std + eps)


def process_grpo_advantages(
    step_rewards: Sequence[Sequence[Sequence[tuple[int, float]]]],
    num_tokens: int,
    *,
    scale_std: bool = True,
    eps: float = 1e-6,
    mask: Tensor | None = None,
) -> Tensor:
    """Process-supervised GRPO (DeepSeekMath): per-step rewards, normalised across the group.

    ``step_rewards[g][j]`` is the list of ``(step_end_token_index, reward)`` pairs of sample ``j`` of
    group ``g``; ``step_end_token_index`` is the 0-based index, on the response-token axis, of the
    *last* token of that step. All step rewards of all samples of a group are pooled to get one mean
    and one (population) std; each step reward is normalised as ``(r - mean) / (std + eps)`` (or only
    centred when ``scale_std=False``). The advantage of token ``t`` is the sum of the normalised rewards
    of the steps that end at or after ``t``; tokens after the last step get 0.

    Returns a ``[batch, num_tokens]`` float tensor in flattened-batch order (groups may differ in size).
    If ``mask`` (``[batch, num_tokens]``) is given the result is multiplied by it. A sample with no
    steps gets zeros. An index outside ``[0, num_tokens)`` is a wiring error and raises ValueError.
    """
    rows: list[Tensor] = []
    for g, group in enumerate(step_rewards):
        pooled = [float(r) for sample in group for _, r in sample]
        if pooled:
            pool = torch.tensor(pooled, dtype=torch.float64)
            # all steps equal: no signal, exactly (the mean may be a rounding step off)
            mean = pool[0] if bool((pool == pool[0]).all()) else pool.mean()
            std = pool.std(unbiased=False)
        for j, sample in enumerate(group):
            row = torch.zeros(num_tokens, dtype=torch.float64)
            for end, r in sample:
                end = int(end)
                if not 0 <= end < num_tokens:
                    raise ValueError(
                        f"step end index {end} of sample {j} in group {g} is outside the response "
                        f"(0..{num_tokens - 1}); map step boundaries to response-token indices"
                    )
                value = float(r) - float(mean)
                if scale_std:
                    den = float(std) + eps
                    value = value / den if den > 0 else 0.0
                # the step's normalised reward counts for every token up to and including its end
                row[: end + 1] += value
            rows.append(row)
    if not rows:
        return torch.zeros(0, num_tokens)
    out = torch.stack(rows).float()
    if mask is not None:
        if mask.shape != out.shape:
            raise ValueError(f"mask shape {tuple(mask.shape)} must be {tuple(out.shape)}")
        out = out * mask.to(out.dtype)
    return out


def expand_to_tokens(advantages: Tensor, mask: Tensor) -> Tensor:
    """Broadcast one advantage per sample over its response tokens.

    ``advantages``: ``[num_groups, group_size]`` or ``[batch]``; ``mask``: ``[batch, num_tokens]``.
    Returns ``[batch, num_tokens]``, 0 off the mask.
    """
    flat = advantages.reshape(-1)
    if mask.dim() != 2 or mask.shape[0] != flat.shape[0]:
        raise ValueError(
            f"mask must be [batch={flat.shape[0]}, num_tokens], got {tuple(mask.shape)}"
        )
    return flat[:, None] * mask.to(flat.dtype)
