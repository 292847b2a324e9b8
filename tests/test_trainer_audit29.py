"""Trainer (audit 29): REINFORCE++-baseline gave a group whose rewards are all equal non-zero token
advantages when lengths differed (the token-weighted batch mean was subtracted a second time);
dynamic sampling kept groups that ``algorithm.mask_truncated`` then removed from the loss; the k3 KL
estimate was unbounded (one token 20 nats below the reference gave 4.85e8)."""

from __future__ import annotations

import math

import pytest
import torch

from rlvr.trainers.advantages import reinforce_pp_token_advantages
from rlvr.trainers.config import load_config
from rlvr.trainers.losses import kl_estimate, kl_loss, kl_penalised_token_rewards
from rlvr.trainers.rollout import Trajectory
from rlvr.trainers.trainer import Trainer


def trainer(out, *extra, resume=False):
    return Trainer(resume=resume, config=load_config(None, [
        f"log.output_dir={out}", "log.progress=false", "log.tensorboard=false", "log.jsonl=false",
        "sampling.max_new_tokens=8", "train.batch_groups=2", "train.group_size=2", "train.lr=1e-3",
        "model.tiny_hidden_size=32", "model.tiny_layers=1", "algorithm.dynamic_sampling=false",
        *extra]))


def episode(n, finish, reward, *, index=0, group=0):
    """A one-turn episode as the collector books it: a 2-token prompt, then ``n`` response tokens
    ended by ``finish`` ("length": cut by the length limit, i.e. truncated)."""
    ids = [5, 6] + [10 + j for j in range(n)]
    return Trajectory(task_id="t", group=group, index=index, token_ids=ids, loss_mask=[0, 0] + [1] * n,
                      logprobs=[0.0] * len(ids), prompt_len=2, turn_ends=[len(ids) - 1], turn_rewards=[reward],
                      total_reward=reward, finish_reasons=[finish], truncated=finish == "length")


# ------------------------------------------------------------------ 1. REINFORCE++-baseline


def test_reinforce_pp_baseline_equal_group_gets_zero_with_unequal_lengths_by_hand():
    # group 0 rewards [1, 0] -> centred [0.5, -0.5] over 6 and 2 tokens; group 1 [0, 0] over 3 and 5.
    # 16 tokens: mean (6 * 0.5 - 2 * 0.5) / 16 = 0.125, E[x^2] = 8 * 0.25 / 16 = 0.125,
    # var = 0.125 - 0.125**2 = 0.109375, std = 0.3307189 -> +-0.5 / std = +-1.5118579, group 1: 0.
    # (Subtracting the token mean 0.125 again gave group 1 -0.378 on every token.)
    rewards = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    mask = torch.zeros(4, 6)
    for row, n in enumerate((6, 2, 3, 5)):
        mask[row, :n] = 1
    adv = reinforce_pp_token_advantages(rewards, mask, group_baseline=True, eps=0.0)
    a = 0.5 / math.sqrt(0.109375)
    assert a == pytest.approx(1.5118579, abs=1e-6)
    expect = torch.tensor([[a] * 6, [-a] * 2 + [0.0] * 4, [0.0] * 6, [0.0] * 6])
    assert torch.allclose(adv, expect, atol=1e-6)
    assert torch.equal(adv[2:], torch.zeros(2, 6))
    # plain REINFORCE++ still whitens over the batch (mean subtracted): the equal group is not 0 there
    plain = reinforce_pp_token_advantages(rewards, mask, group_baseline=False)
    assert plain[2:].abs().sum() > 0 and abs(float((plain * mask).sum())) < 1e-5


def test_reinforce_pp_baseline_with_kl_penalty_is_scaled_not_centred():
    # one group [1, 0], 2 tokens each, penalty 0.1 on every token: returns [0.3, 0.4], [-0.7, -0.6]
    # (0.5 - kl to go, -0.5 - kl to go); mean -0.15, deviations .45 .55 -.55 -.45 -> var 0.2525
    rewards = torch.tensor([[1.0, 0.0]])
    mask = torch.ones(2, 2)
    adv = reinforce_pp_token_advantages(rewards, mask, group_baseline=True, kl_penalty=torch.full((2, 2), 0.1), eps=0.0)
    std = math.sqrt(0.2525)
    assert torch.allclose(adv, torch.tensor([[0.3, 0.4], [-0.7, -0.6]]) / std, atol=1e-6)


def test_reinforce_pp_baseline_through_the_trainer_advantages(tmp_path):
    # group 0: a right answer of 1 token, a wrong one of 7; group 1: two wrong answers of 3 tokens.
    # 14 tokens of 0.5 (1), -0.5 (7), 0 (6): mean -3/14, E[x^2] = 2/14, var = 19/196 -> std sqrt(19)/14;
    # advantages +-0.5 * 14 / sqrt(19) = +-7/sqrt(19) = +-1.6059101, group 1 exactly 0 (it was +0.688).
    tr = trainer(tmp_path, "algorithm.estimator=reinforce++-baseline", "algorithm.old_logprobs=engine")
    trajs = [episode(1, "stop", 1.0), episode(7, "stop", 0.0, index=1),
             episode(3, "stop", 0.0, group=1), episode(3, "stop", 0.0, index=1, group=1)]
    b = tr._batch(trajs)
    rewards = torch.tensor([tr.shaped_reward(t) for t in trajs], dtype=torch.float64)
    adv = tr._advantages(trajs, rewards, b["mask"], b["sampling_lp"], None)
    m = b["mask"] > 0
    a = 7 / math.sqrt(19)
    assert adv[0][m[0]].tolist() == pytest.approx([a], abs=1e-5)
    assert adv[1][m[1]].tolist() == pytest.approx([-a] * 7, abs=1e-5)
    assert torch.equal(adv[2:], torch.zeros_like(adv[2:]))
    tr.close()


# ------------------------------------------------------------------ 2. dynamic sampling + mask_truncated


def fixed_rounds(tr, rounds):
    """Make the collector hand out ``rounds[k]`` (a list of groups) in generation round k; record the
    number of groups asked for in each round."""
    asked = []

    def collect(tasks, n, sampling, **kwargs):
        asked.append(len(tasks))
        return rounds[len(asked) - 1][: len(tasks)]

    tr.collector.collect = collect
    return asked


def cut_group():
    # every sample cut by the length limit; rewards differ (e.g. partial credit)
    return [episode(8, "length", 1.0), episode(8, "length", 0.0, index=1)]


def good_group():
    return [episode(3, "stop", 1.0), episode(4, "stop", 0.0, index=1)]


def test_dynamic_sampling_drops_and_refills_a_group_mask_truncated_removes(tmp_path):
    tr = trainer(tmp_path, "algorithm.dynamic_sampling=true", "algorithm.mask_truncated=true",
                 "algorithm.ds_max_extra_rounds=3")
    asked = fixed_rounds(tr, [[cut_group(), good_group()], [good_group()]])
    m = tr.step()
    assert asked == [2, 1]  # the all-truncated group was refilled
    assert (m["groups_kept"], m["groups_dropped"], m["trained_groups"]) == (2, 1, 2)
    assert m["budget_exhausted"] is False and "note" not in m
    assert m["skipped"] == 0 and m["rows_trained_frac"] == 1.0  # every trained row has loss tokens
    tr.close()


def test_dynamic_sampling_without_mask_truncated_still_keeps_truncated_groups(tmp_path):
    tr = trainer(tmp_path, "algorithm.dynamic_sampling=true", "algorithm.ds_max_extra_rounds=3")
    asked = fixed_rounds(tr, [[cut_group(), good_group()]])
    m = tr.step()
    assert asked == [2] and (m["groups_kept"], m["groups_dropped"], m["trained_groups"]) == (2, 0, 2)
    tr.close()


@pytest.mark.parametrize("estimator", ["grpo", "reinforce++", "reinforce++-baseline", "rloo", "process_grpo"])
def test_has_signal_asks_whether_a_sample_the_loss_sees_gets_an_advantage(tmp_path, estimator):
    tr = trainer(tmp_path, f"algorithm.estimator={estimator}", "algorithm.mask_truncated=true", "train.group_size=4")
    off = trainer(tmp_path / "off", f"algorithm.estimator={estimator}", "train.group_size=4")
    all_cut = [episode(8, "length", float(i % 2), index=i) for i in range(4)]
    kept_differ = [episode(8, "length", 1.0), episode(3, "stop", 1.0, index=1),
                   episode(3, "stop", 0.0, index=2), episode(2, "stop", 0.0, index=3)]
    # the seen samples agree, but not with the group's mean (0.25): each gets a negative advantage
    seen_below_mean = [episode(8, "length", 1.0), episode(8, "length", 0.0, index=1),
                       episode(3, "stop", 0.0, index=2), episode(3, "stop", 0.0, index=3)]
    # the seen samples both have the group's mean (0.5): advantage 0 for every sample the loss sees
    seen_at_mean = [episode(8, "length", 1.0), episode(8, "length", 0.0, index=1),
                    episode(3, "stop", 0.5, index=2), episode(3, "stop", 0.5, index=3)]
    assert not tr._has_signal(all_cut)
    assert tr._has_signal(kept_differ)
    assert off._has_signal(all_cut) and off._has_signal(seen_below_mean) and off._has_signal(seen_at_mean)
    # (process GRPO pools the step rewards of the whole group, as its advantages do: a review found
    # it judged the seen samples alone, dropping seen_below_mean, whose seen samples get -0.577)
    assert tr._has_signal(seen_below_mean)
    # plain REINFORCE++ normalises over the batch: any sample the loss sees is signal
    assert tr._has_signal(seen_at_mean) == (estimator == "reinforce++")
    tr.close()
    off.close()


# ------------------------------------------------------------------ 3. k3 capped at 10


def test_k3_is_capped_at_10_and_ordinary_tokens_are_unchanged():
    # d = lp - ref: -20 -> exp(20) - 21 = 4.85e8 -> 10; 12 -> exp(-12) + 11 = 11.000006 -> 10;
    # log 2 -> 0.5 - 1 + 0.6931472 = 0.1931472; -log 2 -> 2 - 1 - 0.6931472 = 0.3068528;
    # -2.5 -> exp(2.5) - 3.5 = 8.6824940 (below the cap)
    d = torch.tensor([[-20.0, 12.0, math.log(2), -math.log(2), -2.5, 0.0]])
    lp = torch.zeros_like(d, requires_grad=True)
    k3 = kl_estimate(lp, -d, "k3")
    assert k3.tolist()[0] == pytest.approx([10.0, 10.0, 0.1931472, 0.3068528, 8.6824940, 0.0], abs=1e-5)
    assert kl_estimate(lp, -d, "k3", k3_max=None)[0, 0].item() == pytest.approx(math.exp(20) - 21, rel=1e-5)
    # a capped token adds no gradient; the others keep d k3 / d lp = 1 - exp(-d)
    k3.sum().backward()
    expect = [0.0, 0.0, 0.5, -1.0, 1 - math.exp(2.5), 0.0]
    assert lp.grad.tolist()[0] == pytest.approx(expect, abs=1e-5)
    # k1, k2 are not capped
    assert kl_estimate(lp, -d, "k2")[0, 0].item() == pytest.approx(200.0)


def test_one_far_off_token_no_longer_takes_over_the_kl_loss_and_penalty():
    # 1000 tokens: one with d = -20, 999 with d = 0.05 (k3 = exp(-0.05) - 0.95 = 0.0012294)
    n = 1000
    ref = torch.full((1, n), -1.05)
    ref[0, 0] = -1.0
    lp = torch.full((1, n), -1.0)
    lp[0, 0] = -21.0
    mask = torch.ones(1, n)
    ordinary = math.exp(-0.05) - 0.95
    assert kl_loss(lp, ref, mask, kind="k3").item() == pytest.approx((10.0 + 999 * ordinary) / n, rel=1e-4)
    penalty = kl_penalised_token_rewards(lp, ref, mask, 0.1, kind="k3")
    assert penalty[0, 0].item() == pytest.approx(1.0) and penalty[0, 1].item() == pytest.approx(0.1 * ordinary, rel=1e-4)


# ------------------------------------------------------------------ resume of a finished run


def test_resuming_a_finished_run_with_a_refused_change_names_both_at_once(tmp_path, capsys):
    """Before: "nothing left to do" alone; the refused change came up only once total_steps was
    raised (a documentation walk-through had to try twice)."""
    from rlvr.trainers.runs import ResumeError

    out = tmp_path / "run"
    trainer(out, "train.total_steps=1", "log.save_every=1").train()
    with pytest.raises(ResumeError) as caught:
        trainer(out, "train.total_steps=1", "log.save_every=1", "train.group_size=4", resume=True)
    message = str(caught.value)
    assert message.startswith("--resume: nothing left to do, the checkpoint step_000001 is at step 1")
    assert ". Also: the config differs from the one step_000001 was trained with in train.group_size" in message
    assert "resume: train.group_size changed" not in capsys.readouterr().out  # checked, not announced
    with pytest.raises(ResumeError, match=r"^--resume: nothing left to do.*to train further$"):
        trainer(out, "train.total_steps=1", "log.save_every=1", resume=True)
