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


def test_the_entropy_bonus_gradient_is_finite_with_nan_logits_off_the_mask():
    logits = torch.zeros(2, 4, 3)
    logits[MASK == 0] = float("nan")
    logits.requires_grad_(True)
    entropy_from_logits(logits, MASK).backward()
    assert torch.isfinite(logits.grad).all() and (logits.grad[MASK == 0] == 0).all()


def test_the_trainer_update_and_its_metrics_stay_finite_with_minus_inf_off_the_mask(tmp_path):
    """The real `Trainer._update` on a tiny model, its log-probs -inf on every prompt and pad
    position: the loss, the KL-in-the-loss, the entropy bonus and the logged `kl`, `entropy` and
    on-policy difference are all finite, and the step is taken."""
    from conftest import register_say_a_digit, say_a_digit_config

    from rlvr.trainers.rollout import Trajectory
    from rlvr.trainers.trainer import Trainer

    register_say_a_digit()
    trainer = Trainer(say_a_digit_config(tmp_path, "log.jsonl=false", "train.batch_groups=1", "algorithm.kl_coef=0.1",
                                         "algorithm.kl_estimator=k3", "algorithm.kl_in=loss", "algorithm.entropy_coef=0.01",
                                         "algorithm.old_logprobs=recompute"))
    forward = trainer._forward

    def poisoned(model, batch, rows, want_logits=False):
        out = forward(model, batch, rows, want_logits)
        lp, T = out[0], out[-1]
        lp = torch.where(batch["mask"][rows, :T] == 0, torch.full_like(lp, float("-inf")), lp)
        return (lp, out[1], T) if want_logits else (lp, T)

    trainer._forward = poisoned

    def episode(reward, index, n):
        ids = [5, 6] + [10 + i for i in range(n)]
        return Trajectory(task_id="t", group=0, index=index, token_ids=ids, loss_mask=[0, 0] + [1] * n,
                          logprobs=[0.0] * len(ids), prompt_len=2, turn_ends=[len(ids) - 1], turn_rewards=[reward],
                          total_reward=reward, finish_reasons=["stop"], truncated=False)

    stats = trainer._update([episode(1.0, 0, 3), episode(0.0, 1, 5)])
    assert stats["optimizer_steps"] == 1 and not stats.get("skipped_nonfinite")
    for key in ("loss", "grad_norm", "kl", "entropy", "logprob_diff_first_mb"):
        assert key in stats and torch.isfinite(torch.tensor(stats[key])), (key, stats.get(key))
