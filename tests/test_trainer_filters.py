"""Dynamic sampling (DAPO) and overlong shaping against hand-computed values."""

import pytest
import torch

from rlvr.trainers.advantages import grpo_advantages, rloo_advantages
from rlvr.trainers.dynamic_sampling import (
    fill_batch,
    group_has_signal,
    process_group_has_signal,
    signal_mask,
)
from rlvr.trainers.overlong import soft_overlong_penalty, truncation_mask

T = torch.tensor


def test_signal_binary_and_continuous_rewards():
    assert group_has_signal([1, 0, 0, 1])
    assert not group_has_signal([1, 1, 1, 1])
    assert not group_has_signal([0, 0, 0])
    # continuous rewards: tiny spread is noise, not signal (std of [0.5, 0.5+1e-9] = 5e-10 <= 1e-6)
    assert not group_has_signal([0.5, 0.5 + 1e-9])
    # ... which GRPO would otherwise blow up to +-1:
    assert grpo_advantages(T([[0.5, 0.5 + 1e-9]], dtype=torch.float64), eps=0.0).abs().max() > 0.99
    # a real spread: [0.2, 0.4] std 0.1 > tol
    assert group_has_signal([0.2, 0.4], tol=0.05)
    assert not group_has_signal([0.2, 0.4], tol=0.2)
    # NaN is never signal
    assert not group_has_signal([1.0, float("nan")])


def test_signal_per_estimator():
    # RLOO: a group of one has no baseline; equal rewards -> zero leave-one-out advantages
    assert not group_has_signal([1.0], estimator="rloo")
    assert not group_has_signal([2.0, 2.0, 2.0], estimator="rloo")
    assert torch.equal(rloo_advantages(T([[2.0, 2.0, 2.0]])), torch.zeros(1, 3))
    assert group_has_signal([2.0, 1.0], estimator="rloo")
    # plain REINFORCE++ normalises over the batch: every group keeps signal
    assert group_has_signal([1.0, 1.0], estimator="reinforce++")
    assert not group_has_signal([1.0, 1.0], estimator="reinforce++-baseline")
    with pytest.raises(ValueError, match="unknown estimator"):
        group_has_signal([1.0, 0.0], estimator="ppo")


def test_process_signal_pools_steps():
    # each sample's outcome could be equal while step rewards differ -> signal
    assert process_group_has_signal([[(0, 1.0), (2, 0.0)], [(1, 1.0)]])
    assert not process_group_has_signal([[(0, 1.0)], [(3, 1.0), (4, 1.0)]])
    assert not process_group_has_signal([[], []])


def test_signal_mask_vectorised():
    r = T([[1.0, 0.0], [1.0, 1.0], [0.3, 0.3000000001], [float("nan"), 1.0]])
    assert signal_mask(r).tolist() == [True, False, False, False]
    assert signal_mask(r, estimator="reinforce++").tolist() == [True, True, True, False]
    assert signal_mask(T([[1.0], [0.0]]), estimator="rloo").tolist() == [False, False]


def _rounds(*rounds):
    """A generator that returns the given lists of groups (rewards lists), one list per round."""
    calls = []

    def generate(needed, round_index):
        calls.append((needed, round_index))
        return rounds[round_index] if round_index < len(rounds) else []

    return generate, calls


def test_fill_batch_accumulates_across_rounds():
    gen, calls = _rounds(
        [[1, 0], [1, 1], [0, 0]],  # round 0: 1 kept, 2 dropped
        [[0, 1], [1, 1], [1, 0], [0, 1]],  # round 1: 3 kept (need 2 -> 1 surplus), 1 dropped
    )
    res = fill_batch(gen, 3, keep=group_has_signal, max_extra_rounds=5)
    assert res.groups == [[1, 0], [0, 1], [1, 0]]
    assert (res.kept, res.dropped, res.rounds, res.extra_rounds, res.surplus) == (4, 3, 2, 1, 1)
    assert not res.budget_exhausted
    assert calls == [(3, 0), (2, 1)]  # asks only for what is still missing
    assert res.filtered_fraction == pytest.approx(3 / 7)
    assert res.as_metrics()["extra_rounds"] == 1


def test_fill_batch_budget_exhausted_returns_what_it_has():
    gen, calls = _rounds([[1, 1]], [[0, 1]], [[0, 0]], [[1, 0]])
    res = fill_batch(gen, 4, keep=group_has_signal, max_extra_rounds=2)
    # rounds 0, 1, 2 run (1 + 2 extra); round 3 is never asked for
    assert res.rounds == 3 and len(calls) == 3
    assert res.groups == [[0, 1]] and res.budget_exhausted
    assert (res.kept, res.dropped) == (1, 2)


def test_fill_batch_nothing_kept_and_no_extra_budget():
    gen, _ = _rounds([[1, 1], [0, 0]])
    res = fill_batch(gen, 2, keep=group_has_signal)
    assert res.groups == [] and res.budget_exhausted and res.rounds == 1 and res.dropped == 2


def test_fill_batch_full_in_first_round_and_errors_propagate():
    gen, calls = _rounds([[1, 0], [0, 1]])
    res = fill_batch(gen, 2, keep=group_has_signal, max_extra_rounds=3)
    assert res.rounds == 1 and not res.budget_exhausted and len(calls) == 1

    def broken(needed, round_index):
        raise RuntimeError("sandbox down")

    with pytest.raises(RuntimeError, match="sandbox down"):
        fill_batch(broken, 2, keep=group_has_signal)
    with pytest.raises(ValueError, match="batch_groups"):
        fill_batch(gen, 0, keep=group_has_signal)


def test_soft_overlong_penalty_hand_values():
    # max_len 20, cache 4: 0 up to 16; 17 -> -1/4, 18 -> -2/4, 20 -> -1; 25 -> -1
    pen = soft_overlong_penalty([0, 16, 17, 18, 20, 25], max_len=20, cache_len=4)
    assert torch.allclose(pen, T([0.0, 0.0, -0.25, -0.5, -1.0, -1.0]))
    with pytest.raises(ValueError, match="cache_len"):
        soft_overlong_penalty([1], max_len=10, cache_len=0)
    with pytest.raises(ValueError, match="cache_len"):
        soft_overlong_penalty([1], max_len=10, cache_len=11)


def test_truncation_mask():
    assert truncation_mask(["stop", "length", "stop"]).tolist() == [1.0, 0.0, 1.0]
    assert truncation_mask(T([True, False])).tolist() == [0.0, 1.0]
    assert truncation_mask([False, True]).tolist() == [1.0, 0.0]
    assert truncation_mask([]).tolist() == []
    with pytest.raises(ValueError, match="finish reasons"):
        truncation_mask(["stop", "eos"])
