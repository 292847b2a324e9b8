"""Positions off the loss mask (prompt, env and pad tokens) add exactly 0 to every loss and weight,
whatever values sit there: a -inf log-prob, or a drift of ~100 nats between old and new log-probs,
made the whole loss NaN before (`0 * inf`), and a NaN loss is skipped as non-finite, so the run
would silently stop learning."""

import pytest
import torch

from rlvr.trainers.losses import (aggregate, entropy_from_logits, kl_loss, kl_penalised_rewards,
                                  kl_penalised_token_rewards, policy_loss, truncated_is_weights)

MASK = torch.tensor([[0, 1, 1, 0], [1, 1, 0, 0]], dtype=torch.float32)
NEW = torch.tensor([[-1.0, -0.5, -2.0, -1.0], [-0.3, -1.2, -1.0, -1.0]])
OLD = torch.tensor([[-1.0, -0.7, -1.8, -1.0], [-0.4, -1.0, -1.0, -1.0]])
ADV = torch.tensor([1.0, -0.5])


def _poisoned(t, how):
    """`t` with its off-mask positions replaced by values that overflow."""
    off = MASK == 0
    t = t.clone()
    if how == "-inf":
        t[off] = float("-inf")
    elif how == "drift":
        t[off] = t[off] + 99.0
    else:
        t[off] = float("nan")
    return t


@pytest.mark.parametrize("how", ["-inf", "drift", "nan"])
@pytest.mark.parametrize("agg", ["token-mean", "seq-mean-token-mean", "seq-mean-token-sum-norm"])
def test_policy_loss_and_its_gradient_ignore_what_is_off_the_mask(how, agg):
    clean = NEW.clone().requires_grad_(True)
    loss_clean, stats_clean = policy_loss(clean, OLD, ADV, MASK, agg=agg, max_len=4)
    loss_clean.backward()
    new = _poisoned(NEW, how).requires_grad_(True)
    old = _poisoned(OLD, "-inf" if how == "-inf" else "nan" if how == "nan" else "none")
    loss, stats = policy_loss(new, old, ADV, MASK, agg=agg, max_len=4)
    loss.backward()
    assert torch.isfinite(loss) and torch.equal(loss.detach(), loss_clean.detach())
    assert torch.isfinite(new.grad).all() and torch.equal(new.grad, clean.grad)
    assert stats == stats_clean


@pytest.mark.parametrize("kind", ["k2", "k3"])
def test_kl_loss_and_its_gradient_ignore_what_is_off_the_mask(kind):
    clean = NEW.clone().requires_grad_(True)
    kl_loss(clean, OLD, MASK, kind=kind).backward()
    new = _poisoned(NEW, "-inf").requires_grad_(True)
    loss = kl_loss(new, _poisoned(OLD, "-inf"), MASK, kind=kind)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(new.grad).all() and torch.equal(new.grad, clean.grad)


def test_kl_penalties_and_is_weights_are_zero_off_the_mask_whatever_is_there():
    rewards = torch.tensor([1.0, 0.0])
    pen = kl_penalised_rewards(rewards, _poisoned(NEW, "-inf"), _poisoned(OLD, "-inf"), MASK, 0.1)
    assert torch.allclose(pen, kl_penalised_rewards(rewards, NEW, OLD, MASK, 0.1))
    tok = kl_penalised_token_rewards(_poisoned(NEW, "nan"), OLD, MASK, 0.1)
    assert torch.isfinite(tok).all() and (tok[MASK == 0] == 0).all()
    w = truncated_is_weights(_poisoned(OLD, "-inf"), _poisoned(NEW, "-inf"), mask=MASK)
    assert torch.isfinite(w).all() and (w[MASK == 0] == 0).all()


def test_aggregate_and_entropy_ignore_nan_off_the_mask():
    values = _poisoned(torch.ones(2, 4), "nan")
    assert aggregate(values, MASK).item() == 1.0  # four masked ones / four tokens
    logits = torch.zeros(2, 4, 3)
    logits[MASK == 0] = float("nan")
    assert torch.isclose(entropy_from_logits(logits, MASK), torch.log(torch.tensor(3.0)))
