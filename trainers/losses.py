"""Token-level losses and their helpers as pure functions over tensors.

Everything here maps tensors to tensors: the clipped policy-gradient loss with its aggregation modes,
KL estimators against a reference model, entropy, truncated importance-sampling weights and
per-token log-probabilities from logits. The trainer loop only wires these together.

Shape conventions: token tensors are ``[batch, num_tokens]`` over response positions and ``mask`` is
a 0/1 tensor of the same shape (1 on tokens the policy sampled). Logits are
``[batch, num_tokens, vocab]``, already aligned so that ``logits[:, t]`` predicts ``token_ids[:, t]``.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

__all__ = [
    "AGG_MODES",
    "KL_ESTIMATORS",
    "aggregate",
    "on_mask",
    "policy_loss",
    "kl_estimate",
    "kl_loss",
    "kl_penalised_rewards",
    "kl_penalised_token_rewards",
    "token_entropy",
    "entropy_from_logits",
    "truncated_is_weights",
    "logprobs_from_logits",
]

AggMode = Literal["token-mean", "seq-mean-token-mean", "seq-mean-token-sum-norm"]
AGG_MODES: tuple[str, ...] = ("token-mean", "seq-mean-token-mean", "seq-mean-token-sum-norm")
KL_ESTIMATORS: tuple[str, ...] = ("k1", "k2", "k3")


def _same_shape(name: str, t: Tensor, ref: Tensor) -> None:
    if t.shape != ref.shape:
        raise ValueError(f"{name} has shape {tuple(t.shape)} but must match {tuple(ref.shape)}")


def on_mask(values: Tensor, mask: Tensor) -> Tensor:
    """`values` on the mask, exactly 0 off it, whatever is there: multiplying by the mask would
    turn a NaN or infinity on a prompt, env or pad position into a NaN loss (`0 * inf`). Selecting
    also sends no gradient off the mask; an input that would make a NaN *gradient* there (`exp`
    of a huge log-ratio) must be selected before that operation, as the losses below do."""
    return torch.where(mask.to(torch.bool), values, torch.zeros((), dtype=values.dtype, device=values.device))


def aggregate(
    values: Tensor,
    mask: Tensor,
    mode: str = "token-mean",
    *,
    max_len: int | None = None,
    num_tokens: float | None = None,
    num_seqs: float | None = None,
) -> Tensor:
    """Reduce a ``[batch, num_tokens]`` per-token loss to a scalar.

    * ``"token-mean"`` (DAPO): sum over all masked tokens / number of masked tokens. Long answers weigh
      in proportion to their length.
    * ``"seq-mean-token-mean"`` (original GRPO): mean over tokens within each sequence, then mean over
      the sequences that have at least one masked token.
    * ``"seq-mean-token-sum-norm"`` (Dr. GRPO): each sequence's token *sum* divided by the constant
      ``max_len`` (the generation budget), then mean over all sequences. No per-length normalisation,
      so no length bias.

    ``num_tokens`` / ``num_seqs`` override the denominators of token-mean / the seq-mean modes: pass the
    counts of the whole batch when a batch is split into gradient-accumulation micro-batches so that the
    accumulated gradient equals the full-batch one. An empty mask yields 0 (keeping the graph), never NaN.
    """
    _same_shape("mask", mask, values)
    m = mask.to(values.dtype)
    values = on_mask(values, mask)
    if mode == "token-mean":
        denom = m.sum() if num_tokens is None else torch.as_tensor(float(num_tokens))
        return values.sum() / denom.clamp(min=1.0)
    if mode == "seq-mean-token-mean":
        per_seq = values.sum(-1) / m.sum(-1).clamp(min=1.0)
        nonempty = (m.sum(-1) > 0).to(values.dtype)
        denom = nonempty.sum() if num_seqs is None else torch.as_tensor(float(num_seqs))
        return (per_seq * nonempty).sum() / denom.clamp(min=1.0)
    if mode == "seq-mean-token-sum-norm":
        if max_len is None or max_len <= 0:
            raise ValueError(
                "aggregation 'seq-mean-token-sum-norm' needs max_len > 0 (the constant normaliser, "
                "usually the max number of new tokens)"
            )
        per_seq = values.sum(-1) / float(max_len)
        denom = float(values.shape[0]) if num_seqs is None else float(num_seqs)
        return per_seq.sum() / max(denom, 1.0)
    raise ValueError(f"unknown loss aggregation {mode!r}; choose one of {', '.join(AGG_MODES)}")


def policy_loss(
    logprobs: Tensor,
    old_logprobs: Tensor,
    advantages: Tensor,
    mask: Tensor,
    *,
    eps_low: float = 0.2,
    eps_high: float | None = None,
    dual_clip: float | None = None,
    agg: str = "token-mean",
    max_len: int | None = None,
    is_weights: Tensor | None = None,
    num_tokens: float | None = None,
    num_seqs: float | None = None,
) -> tuple[Tensor, dict[str, float]]:
    """PPO-style clipped policy-gradient loss with decoupled clip ranges and optional dual clip.

    Per token, with ratio ``r = exp(logprobs - old_logprobs)`` and advantage ``A``::

        loss = max(-A * r, -A * clip(r, 1 - eps_low, 1 + eps_high))      # clip-higher when eps_high > eps_low
        loss = min(loss, -A * dual_clip)           if dual_clip and A < 0  # caps the loss of very large r

    Clipped tokens have zero gradient: a positive-advantage token stops pushing once
    ``r > 1 + eps_high`` (counted in ``clip_frac_high``), a negative-advantage one once
    ``r < 1 - eps_low`` (``clip_frac_low``), and with dual clip once ``r > dual_clip``
    (``dual_clip_frac``).

    ``advantages`` is ``[batch, num_tokens]`` or ``[batch]`` (broadcast over tokens). ``is_weights``
    (e.g. :func:`truncated_is_weights`) multiplies the per-token loss and is detached here. ``eps_high``
    defaults to ``eps_low``. Returns ``(loss, stats)`` where ``stats`` holds floats: ``clip_frac_low``,
    ``clip_frac_high``, ``dual_clip_frac``, ``ratio_mean``, ``ratio_max`` and ``approx_kl``, the masked
    mean of ``r - 1 - log r``: Schulman's k3 estimate of ``KL(pi_old || pi_new)``, unbiased because the
    tokens were sampled from the old policy.
    """
    eps_high = eps_low if eps_high is None else eps_high
    if eps_low < 0 or eps_high < 0:
        raise ValueError(f"clip ranges must be >= 0, got eps_low={eps_low}, eps_high={eps_high}")
    if dual_clip is not None and dual_clip <= 1.0:
        raise ValueError(f"dual_clip must be > 1 (e.g. 3.0), got {dual_clip}; use None to disable it")
    _same_shape("old_logprobs", old_logprobs, logprobs)
    _same_shape("mask", mask, logprobs)
    if advantages.dim() == 1:
        advantages = advantages[:, None].expand_as(logprobs)
    _same_shape("advantages", advantages, logprobs)
    advantages = advantages.detach().to(logprobs.dtype)
    old_logprobs = old_logprobs.detach()

    log_ratio = on_mask(logprobs - old_logprobs, mask)  # off the mask r = 1: no inf, no NaN gradient
    ratio = torch.exp(log_ratio)
    loss_unclipped = -advantages * ratio
    loss_clipped = -advantages * torch.clamp(ratio, 1.0 - eps_low, 1.0 + eps_high)
    loss = torch.maximum(loss_unclipped, loss_clipped)
    neg = advantages < 0
    dual_active = torch.zeros_like(neg)
    if dual_clip is not None:
        cap = -advantages * dual_clip
        dual_active = neg & (loss > cap)
        loss = torch.where(dual_active, cap, loss)
    if is_weights is not None:
        _same_shape("is_weights", is_weights, logprobs)
        loss = loss * is_weights.detach().to(loss.dtype)

    total = aggregate(loss, mask, agg, max_len=max_len, num_tokens=num_tokens, num_seqs=num_seqs)

    with torch.no_grad():
        m = mask.to(torch.bool)
        count = max(int(m.sum().item()), 1)
        high = (advantages > 0) & (ratio > 1.0 + eps_high) & m
        low = neg & (ratio < 1.0 - eps_low) & m
        r_masked = ratio[m]
        stats = {
            "clip_frac_low": float(low.sum().item()) / count,
            "clip_frac_high": float(high.sum().item()) / count,
            "dual_clip_frac": float((dual_active & m).sum().item()) / count,
            "ratio_mean": float(r_masked.mean().item()) if r_masked.numel() else 1.0,
            "ratio_max": float(r_masked.max().item()) if r_masked.numel() else 1.0,
            "approx_kl": float((r_masked - 1.0 - log_ratio[m]).mean().item()) if r_masked.numel() else 0.0,
        }
    return total, stats


def kl_estimate(
    logprobs: Tensor, ref_logprobs: Tensor, kind: str = "k3", *, clamp: float | None = 20.0,
    k3_max: float | None = 10.0,
) -> Tensor:
    """Per-token estimate of ``KL(pi || pi_ref)`` from samples of ``pi`` (Schulman's estimators).

    With ``d = logprobs - ref_logprobs`` (= ``log pi/pi_ref`` at the sampled token):

    * ``k1 = d`` — unbiased, high variance, can be negative;
    * ``k2 = d**2 / 2`` — biased, low variance, always >= 0;
    * ``k3 = exp(-d) - 1 + d`` — unbiased, low variance, always >= 0 (GRPO's choice).

    That is what their *values* estimate (a metric, or a penalty in the reward). As a *loss* on the
    policy's own samples their expected gradients differ: k2's is the gradient of ``KL(pi || pi_ref)``,
    k3's that of the forward ``KL(pi_ref || pi)``, and k1's is exactly 0 (``E_pi[grad log pi] = 0``: it
    adds noise and never pulls the policy to the reference), so k1 belongs in the reward, not the loss
    (the config refuses ``kl_estimator=k1`` with ``kl_in=loss``).

    ``d`` is clamped to ``[-clamp, clamp]`` first (``None`` disables it) so that ``exp`` cannot
    overflow on tokens the reference model finds nearly impossible.

    The k3 value is then capped at ``k3_max`` (default 10; ``None`` disables it), as verl's
    ``low_var_kl`` does. ``exp(-d)`` grows exponentially where the policy gives a sampled token far
    less probability than the reference (``d = -20`` gives about 4.85e8), so one such token would
    otherwise outweigh every other token of the batch in the loss, its gradient, the KL penalty in
    the reward and the logged KL. A token with ``-2.61 < d < 11`` (k3 below 10) is unchanged;
    a capped token contributes 10 and no gradient (so k3 is no longer unbiased on such tokens: it
    under-states their KL, by design).
    """
    _same_shape("ref_logprobs", ref_logprobs, logprobs)
    d = logprobs - ref_logprobs.detach()
    if clamp is not None:
        d = d.clamp(-clamp, clamp)
    if kind == "k1":
        return d
    if kind == "k2":
        return 0.5 * d * d
    if kind == "k3":
        k3 = torch.exp(-d) - 1.0 + d
        return k3 if k3_max is None else k3.clamp(max=k3_max)
    raise ValueError(f"unknown KL estimator {kind!r}; choose one of {', '.join(KL_ESTIMATORS)}")


def kl_loss(
    logprobs: Tensor,
    ref_logprobs: Tensor,
    mask: Tensor,
    *,
    kind: str = "k3",
    agg: str = "token-mean",
    max_len: int | None = None,
    num_tokens: float | None = None,
    num_seqs: float | None = None,
) -> Tensor:
    """KL-in-the-loss: aggregated per-token KL estimate, to be added as ``coef * kl_loss(...)``."""
    kl = kl_estimate(on_mask(logprobs, mask), on_mask(ref_logprobs, mask), kind)  # d = 0 off the mask
    return aggregate(kl, mask, agg, max_len=max_len, num_tokens=num_tokens, num_seqs=num_seqs)


def kl_penalised_rewards(
    rewards: Tensor, logprobs: Tensor, ref_logprobs: Tensor, mask: Tensor, coef: float, *, kind: str = "k1"
) -> Tensor:
    """KL-in-the-reward, sequence level: ``R - coef * sum_t kl_t`` over each sample's masked tokens.

    ``rewards`` is ``[batch]`` (or any shape with ``batch`` elements, returned in that shape); the
    penalty is computed without gradient. Feed the result to a sequence-level advantage estimator.
    """
    with torch.no_grad():
        kl = kl_estimate(on_mask(logprobs, mask), on_mask(ref_logprobs, mask), kind)  # (0 off the mask: d = 0)
        penalty = coef * kl.sum(-1)
    return rewards - penalty.reshape(rewards.shape).to(rewards.dtype)


def kl_penalised_token_rewards(
    logprobs: Tensor, ref_logprobs: Tensor, mask: Tensor, coef: float, *, kind: str = "k1"
) -> Tensor:
    """KL-in-the-reward, token level: the per-token penalty ``coef * kl_t`` (0 off the mask, no grad).

    This is the ``kl_penalty`` argument of
    :func:`rlvr.trainers.advantages.reinforce_pp_token_advantages`.
    """
    with torch.no_grad():
        return coef * kl_estimate(on_mask(logprobs, mask), on_mask(ref_logprobs, mask), kind)  # (0 off the mask: d = 0)


def token_entropy(logits: Tensor, *, temperature: float = 1.0, chunk_size: int = 1024, mask: Tensor | None = None) -> Tensor:
    """Entropy of the categorical distribution ``softmax(logits / temperature)`` at every position:
    ``[..., vocab] -> [...]``.

    ``H = logsumexp(z) - sum(softmax(z) * z)``, computed in float32 over chunks of rows so that only a
    chunk of the vocabulary-sized intermediates is alive at a time (the temperature too is applied
    chunk by chunk: dividing the whole logits tensor first would copy it). A ``-inf`` logit (a masked
    token) has probability 0 and adds 0 to the sum (not ``0 * -inf = NaN``). Differentiable.

    With ``mask`` (the shape of ``logits`` less its last dimension), rows off the mask are read as
    all-zero logits (entropy ``log vocab``) with no gradient, whatever they hold: a NaN logit on a
    pad row would otherwise make the entropy bonus's gradient NaN, even with the row's value
    selected away afterwards. The selection is made chunk by chunk, so no logits-sized copy.
    """
    flat = logits.reshape(-1, logits.shape[-1])
    if mask is not None:
        if mask.shape != logits.shape[:-1]:
            raise ValueError(f"mask has shape {tuple(mask.shape)} but must match {tuple(logits.shape[:-1])}")
        keep = mask.reshape(-1, 1).to(torch.bool)
    outs = []
    for start in range(0, flat.shape[0], chunk_size):
        z = flat[start : start + chunk_size].float()
        if mask is not None:
            z = torch.where(keep[start : start + chunk_size], z, torch.zeros((), dtype=z.dtype, device=z.device))
        if temperature != 1.0:
            z = z / temperature
        lse = torch.logsumexp(z, dim=-1)
        p = torch.softmax(z, dim=-1)
        outs.append(lse - (p * torch.where(p > 0, z, 0.0)).sum(-1))  # masking z, not p * z: finite gradient
    if not outs:
        return logits.new_zeros(logits.shape[:-1], dtype=torch.float32)
    return torch.cat(outs).reshape(logits.shape[:-1])


def entropy_from_logits(logits: Tensor, mask: Tensor, *, chunk_size: int = 1024) -> Tensor:
    """Masked mean entropy (over tokens where ``mask`` is 1) of ``[batch, num_tokens, vocab]`` logits.

    Returns 0 for an empty mask. Use it as a metric, or subtract ``coef * entropy`` from the loss for
    an entropy bonus.
    """
    ent = token_entropy(logits, chunk_size=chunk_size, mask=mask)
    m = mask.to(ent.dtype)
    return on_mask(ent, mask).sum() / m.sum().clamp(min=1.0)


def truncated_is_weights(
    old_logprobs: Tensor, sampling_logprobs: Tensor, *, cap: float = 2.0, mask: Tensor | None = None
) -> Tensor:
    """Truncated importance-sampling weights ``min(exp(old - sampling), cap)``, detached.

    ``old_logprobs`` are the trainer's log-probs of the sampled tokens before the update and
    ``sampling_logprobs`` the engine's (e.g. vLLM's, whose numerics differ). Multiplying the per-token
    policy loss by these weights corrects the mismatch between the distribution that sampled and the
    one being optimised; the cap bounds the variance. Off-mask positions get weight 0 when ``mask`` is
    given.
    """
    if cap <= 0:
        raise ValueError(f"importance-sampling cap must be > 0 (e.g. 2.0), got {cap}")
    _same_shape("sampling_logprobs", sampling_logprobs, old_logprobs)
    with torch.no_grad():
        w = torch.exp((old_logprobs - sampling_logprobs).float().clamp(max=80.0)).clamp(max=cap)
        if mask is not None:
            w = on_mask(w, mask)
    return w.detach()


def logprobs_from_logits(
    logits: Tensor, token_ids: Tensor, *, temperature: float = 1.0, chunk_size: int = 1024
) -> Tensor:
    """Log-probability of each ``token_ids[..., t]`` under ``softmax(logits[..., t, :] / temperature)``.

    ``logits``: ``[..., vocab]``; ``token_ids``: ``[...]``; returns float32 ``[...]``. Memory-careful:
    it gathers the chosen logit and subtracts ``logsumexp`` over chunks of rows, so no full
    ``[batch, tokens, vocab]`` log-softmax (nor a float32 copy of bf16 logits) is ever materialised.
    Differentiable with respect to ``logits``.
    """
    if logits.shape[:-1] != token_ids.shape:
        raise ValueError(
            f"logits {tuple(logits.shape)} and token_ids {tuple(token_ids.shape)} disagree; logits must "
            "be [..., vocab] aligned with token_ids [...] (shift logits by one position first)"
        )
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0 to score tokens, got {temperature}")
    flat = logits.reshape(-1, logits.shape[-1])
    ids = token_ids.reshape(-1, 1).long()
    outs = []
    for start in range(0, flat.shape[0], chunk_size):
        z = flat[start : start + chunk_size].float()
        if temperature != 1.0:
            z = z / temperature
        chosen = z.gather(-1, ids[start : start + chunk_size]).squeeze(-1)
        outs.append(chosen - torch.logsumexp(z, dim=-1))
    if not outs:
        return logits.new_zeros(token_ids.shape, dtype=torch.float32)
    return torch.cat(outs).reshape(token_ids.shape)
