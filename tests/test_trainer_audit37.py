"""Trainer (audit 37): dynamic sampling judged groups by the shaped reward (task reward plus DAPO's
overlong punishment), so an all-correct group with one answer a token into the overlong zone
(shaped rewards ``[1, 1, 1, 0.998]``) was kept, and GRPO's std scaling turned that token's punishment
into advantages of about +-1. DAPO's constraint (Eq. 11) is ``0 < #correct < G``: dynamic sampling
judges the task reward (``Trajectory.total_reward``, step rewards for process_grpo), the update
still optimises the shaped reward."""

from __future__ import annotations

import pytest
import torch

from rlvr.trainers.config import load_config
from rlvr.trainers.rollout import Trajectory
from rlvr.trainers.trainer import Trainer
from conftest import register_say_a_digit, say_a_digit_config

register_say_a_digit()

FILTERED = ["grpo", "dr_grpo", "rloo", "reinforce++-baseline", "process_grpo"]


def judge(*overrides):
    """A Trainer holding only a config: ``_has_signal`` and the reward methods read nothing else
    (no model is built, so the judgement of many groups stays cheap)."""
    tr = Trainer.__new__(Trainer)
    tr.cfg = load_config(None, ["log.output_dir=/nonexistent/unused", *overrides])
    return tr


def episode(n, reward, *, finish="stop", index=0, prompt=3):
    """One turn of ``n`` response tokens after a ``prompt``-token prompt, task reward ``reward``."""
    ids = list(range(prompt + n))
    return Trajectory(task_id="t", group=0, index=index, token_ids=ids, loss_mask=[0] * prompt + [1] * n,
                      logprobs=[0.0] * len(ids), prompt_len=prompt, turn_ends=[len(ids) - 1],
                      turn_rewards=[reward], total_reward=reward, finish_reasons=[finish],
                      truncated=finish == "length")


LONG = ("sampling.max_new_tokens=1024", "algorithm.overlong_cache_len=512", "train.group_size=4")


def group(lengths, rewards, finishes=None):
    finishes = finishes or ["stop"] * len(lengths)
    return [episode(n, r, finish=f, index=i) for i, (n, r, f) in enumerate(zip(lengths, rewards, finishes))]


# ------------------------------------------------------------------ without mask_truncated


@pytest.mark.parametrize("estimator", FILTERED)
def test_an_all_correct_group_with_one_answer_in_the_overlong_zone_is_dropped(estimator):
    tr = judge(*LONG, f"algorithm.estimator={estimator}")
    g = group([100, 200, 300, 513], [1.0] * 4)
    shaped = [tr.shaped_reward(t) for t in g]
    assert shaped[:3] == [1.0] * 3 and 0.99 < shaped[3] < 1.0  # the punishment is there, for the update
    assert not tr._has_signal(g)
    # an answer cut off at the limit (the full -1) does not make an all-correct group worth keeping either
    assert not tr._has_signal(group([100, 200, 300, 1024], [1.0] * 4, ["stop", "stop", "stop", "length"]))


@pytest.mark.parametrize("estimator", FILTERED)
def test_an_all_wrong_group_differing_only_in_length_is_dropped(estimator):
    tr = judge(*LONG, f"algorithm.estimator={estimator}")
    g = group([100, 700, 900, 1024], [0.0] * 4, ["stop", "stop", "stop", "length"])
    assert len({tr.shaped_reward(t) for t in g}) == 4
    assert not tr._has_signal(g)


@pytest.mark.parametrize("estimator", FILTERED + ["reinforce++"])
def test_a_group_with_mixed_correctness_is_kept(estimator):
    tr = judge(*LONG, f"algorithm.estimator={estimator}")
    assert tr._has_signal(group([100, 200, 300, 513], [1.0, 0.0, 1.0, 1.0]))


@pytest.mark.parametrize("estimator", FILTERED)
def test_a_mixed_group_whose_optimised_rewards_are_equal_is_dropped(estimator):
    """One right answer, punished to a shaped reward of 0 like the wrong ones: 0 < #correct < G, but
    the update would see nothing in the group but the KL of kl_in=reward, scaled up by GRPO's std."""
    tr = judge(*LONG, f"algorithm.estimator={estimator}", "algorithm.kl_coef=0.001", "algorithm.kl_in=reward")
    g = group([100, 200, 300, 1024], [0.0, 0.0, 0.0, 1.0], ["stop", "stop", "stop", "length"])
    assert len({tr.shaped_reward(t) for t in g}) == 1
    assert not tr._has_signal(g)


def test_reinforce_pp_keeps_every_group():
    tr = judge(*LONG, "algorithm.estimator=reinforce++")
    assert tr._has_signal(group([100, 200, 300, 513], [1.0] * 4))
    assert tr._has_signal(group([100, 200, 300, 400], [0.0] * 4))


def test_without_overlong_shaping_the_judgement_is_unchanged():
    tr = judge("train.group_size=3", "algorithm.ds_tol=0")
    assert not tr._has_signal(group([3, 3, 3], [0.1] * 3))
    assert tr._has_signal(group([3, 3, 3], [0.1, 0.1, 0.2]))


# ------------------------------------------------------------------ with mask_truncated


MASKED = ("sampling.max_new_tokens=8", "algorithm.overlong_cache_len=4", "train.group_size=3",
          "algorithm.mask_truncated=true", "algorithm.ds_tol=0")


def masked_group(rewards, seen_length=3):
    """Two truncated samples (the loss never sees them, each punished by -1) and one the loss sees."""
    return [episode(8, rewards[0], finish="length"), episode(8, rewards[1], finish="length", index=1),
            episode(seen_length, rewards[2], index=2)]


def task_advantages_seen(plain, g):
    """Whether the update's own advantage code gives a sample the loss sees a non-zero advantage from
    the task rewards: what dynamic sampling must decide, rounding included. ``plain``: a real Trainer
    without overlong shaping, whose update therefore optimises exactly the task rewards."""
    assert plain.cfg.algorithm.overlong_cache_len == 0
    batch = plain._batch(g)
    rewards = torch.tensor([plain.shaped_reward(t) for t in g], dtype=torch.float64)
    adv = plain._advantages(g, rewards, batch["mask"], None, None).to(batch["mask"].dtype)
    return bool((adv.abs() * batch["mask"]).sum() > 0)


REWARD_GROUPS = [(0.1, 0.4, 0.25), (0.0, 0.2, 0.1), (0.1, 0.5, 0.3), (1.0, 0.0, 0.5), (0.0, 1.0, 0.0),
                 (0.7, 0.7, 0.7), (0.2, 0.2, 0.3), (1.0, 1.0, 1.0), (0.0, 1.0, 1.0)]


@pytest.mark.parametrize("estimator", FILTERED)
def test_mask_truncated_judges_the_seen_samples_task_advantage(tmp_path, estimator):
    """A group with truncated samples is kept exactly when the update's advantages of the task
    rewards are non-zero for the sample the loss sees; the -1 on the truncated ones moves the mean of
    the shaped rewards, and used to keep (1.0, 0.0, 0.5) and (1.0, 1.0, 1.0)."""
    tr = judge(*MASKED, f"algorithm.estimator={estimator}")
    plain = Trainer(say_a_digit_config(tmp_path, "log.plot=false", "train.group_size=3", "algorithm.mask_truncated=true",
                                       f"algorithm.estimator={estimator}"))
    decided = {}
    try:
        for rs in REWARD_GROUPS:
            g = masked_group(rs)
            decided[rs] = tr._has_signal(g)
            assert decided[rs] == task_advantages_seen(plain, g), rs
    finally:
        plain.close()
    assert not decided[(1.0, 1.0, 1.0)] and not decided[(0.7, 0.7, 0.7)] and not decided[(1.0, 0.0, 0.5)]
    assert decided[(0.0, 1.0, 1.0)] and decided[(0.0, 1.0, 0.0)] and decided[(0.2, 0.2, 0.3)]


def test_mask_truncated_mixed_group_is_kept_as_before():
    """(Unchanged by the fix: a regression guard.)"""
    tr = judge(*MASKED)
    assert tr._has_signal(masked_group((0.0, 0.0, 1.0)))
    assert tr._has_signal(masked_group((1.0, 0.0, 1.0), seen_length=6))  # the seen one in the zone too
    assert not tr._has_signal([episode(8, 0.0, finish="length"), episode(8, 1.0, finish="length", index=1),
                               episode(8, 1.0, finish="length", index=2)])  # nothing the loss sees


def test_mask_truncated_all_correct_group_is_dropped_though_the_truncated_are_punished():
    tr = judge(*MASKED)
    g = masked_group((1.0, 1.0, 1.0), seen_length=6)
    assert [tr.shaped_reward(t) for t in g] == [0.0, 0.0, 0.5]
    assert not tr._has_signal(g)


# ------------------------------------------------------------------ through a real Trainer


def test_a_real_trainer_drops_all_correct_groups_whatever_their_lengths(tmp_path):
    tr = Trainer(say_a_digit_config(tmp_path, "log.plot=false", "algorithm.dynamic_sampling=true",
                                    "sampling.max_new_tokens=8", "algorithm.overlong_cache_len=4",
                                    "train.group_size=3"))
    try:
        g = group([2, 5, 8], [1.0] * 3, ["stop", "stop", "length"])
        assert [tr.shaped_reward(t) for t in g] == [1.0, 0.75, 0.0]
        assert not tr._has_signal(g)
        assert tr._has_signal(group([2, 5, 8], [1.0, 0.0, 1.0], ["stop", "stop", "length"]))
    finally:
        tr.close()
