"""The trainer's maths against values worked out by hand (arithmetic in the comments)."""

import math

import pytest
import torch

from rlvr.trainers.advantages import (
    centred,
    dr_grpo_advantages,
    expand_to_tokens,
    grpo_advantages,
    masked_whiten,
    process_grpo_advantages,
    reinforce_pp_advantages,
    reinforce_pp_token_advantages,
    rloo_advantages,
)
from rlvr.trainers.losses import (
    aggregate,
    entropy_from_logits,
    kl_estimate,
    kl_loss,
    kl_penalised_rewards,
    kl_penalised_token_rewards,
    logprobs_from_logits,
    policy_loss,
    token_entropy,
    truncated_is_weights,
)

T = torch.tensor


def close(a, b, tol=1e-5):
    return torch.allclose(torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32), atol=tol)


# ----------------------------------------------------------------------------- advantages


def test_grpo_hand_values():
    # group [1, 0, 0, 1]: mean 0.5, population std 0.5 -> (r - 0.5) / 0.5 = [1, -1, -1, 1]
    # group [1, 0, 0, 0]: mean 0.25, var = (0.75^2 + 3 * 0.25^2) / 4 = 0.75/4 = 0.1875, std = 0.4330127
    #   -> 0.75 / 0.4330127 = 1.7320508 ; -0.25 / 0.4330127 = -0.5773503
    r = T([[1.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0]])
    a = grpo_advantages(r, eps=0.0)
    assert close(a[0], [1, -1, -1, 1])
    assert close(a[1], [1.7320508, -0.5773503, -0.5773503, -0.5773503])
    # eps is added to the std: 0.5 / (0.5 + 0.5) = 0.5
    assert close(grpo_advantages(r[:1], eps=0.5), [[0.5, -0.5, -0.5, 0.5]])


def test_grpo_without_std_equals_dr_grpo():
    # [3, 1, 2]: mean 2 -> [1, -1, 0]
    r = T([[3.0, 1.0, 2.0]])
    assert close(dr_grpo_advantages(r), [[1.0, -1.0, 0.0]])
    assert close(grpo_advantages(r, scale_std=False), [[1.0, -1.0, 0.0]])


def test_grpo_equal_rewards_and_group_of_one_give_zero_not_nan():
    r = T([[0.7, 0.7, 0.7], [0.0, 0.0, 0.0]])
    a = grpo_advantages(r)
    assert torch.equal(a, torch.zeros_like(a))
    one = grpo_advantages(T([[5.0]]))
    assert torch.equal(one, T([[0.0]]))
    # even with eps = 0 (0 / 0 would be NaN)
    assert torch.equal(grpo_advantages(r, eps=0.0), torch.zeros(2, 3))
    assert torch.equal(reinforce_pp_advantages(T([[1.0, 1.0]]), eps=0.0), torch.zeros(1, 2))


@pytest.mark.parametrize("value,size", [(0.1, 8), (0.7, 16), (1 / 3, 5), (0.3, 7)])
def test_equal_non_binary_rewards_give_exactly_zero(value, size):
    # in float32 the mean of eight 0.1s is one rounding step off: the centred rewards are ~1e-8, the
    # std the same size, and (r - mean) / (std + 1e-6) was 0.0075 for every sample of [0.1] * 8
    r = torch.full((2, size), value, dtype=torch.float32)
    zeros = torch.zeros(2, size)
    assert torch.equal(grpo_advantages(r), zeros)
    assert torch.equal(dr_grpo_advantages(r), zeros)
    assert torch.equal(rloo_advantages(r), zeros)
    assert torch.equal(reinforce_pp_advantages(r, group_baseline=True), zeros)
    assert torch.equal(reinforce_pp_token_advantages(r, torch.ones(2 * size, 3), group_baseline=True), torch.zeros(2 * size, 3))
    steps = [[[(0, value), (2, value)] for _ in range(size)]]
    assert torch.equal(process_grpo_advantages(steps, 3), torch.zeros(size, 3))


def test_equal_groups_are_zeroed_next_to_groups_with_signal():
    # [0.1, 0.1, 0.1] has no signal; [0.1, 0.2, 0.3] keeps its (float64) values: mean 0.2, std sqrt(2/300)
    r = T([[0.1, 0.1, 0.1], [0.1, 0.2, 0.3]])
    a = grpo_advantages(r, eps=0.0)
    assert a.dtype == torch.float32 and torch.equal(a[0], torch.zeros(3))
    assert close(a[1], [-1.2247449, 0.0, 1.2247449])
    # centred: float64 offsets from the mean, exactly 0 where every value is equal
    c = centred(T([[2.0, 4.0], [0.1, 0.1]]), dim=1)
    assert c.dtype == torch.float64 and c.tolist() == [[-1.0, 1.0], [0.0, 0.0]]
    assert centred(torch.full((4,), 0.1)).tolist() == [0.0] * 4


def test_grpo_rejects_flat_rewards():
    with pytest.raises(ValueError, match="num_groups, group_size"):
        grpo_advantages(T([1.0, 0.0]))


def test_rloo_hand_values():
    # [1, 0, 0, 1]: baselines = mean of the others: for r=1: (0+0+1)/3 = 1/3 -> 2/3; for r=0: 2/3 -> -2/3
    r = T([[1.0, 0.0, 0.0, 1.0]])
    assert close(rloo_advantages(r), [[2 / 3, -2 / 3, -2 / 3, 2 / 3]])
    # [4, 2]: 4 - 2 = 2, 2 - 4 = -2 ; equals n/(n-1) (r - mean) = 2 * [1, -1]
    assert close(rloo_advantages(T([[4.0, 2.0]])), [[2.0, -2.0]])
    # all equal -> zeros
    assert torch.equal(rloo_advantages(T([[1.0, 1.0, 1.0]])), torch.zeros(1, 3))


def test_rloo_group_of_one_is_a_clear_error():
    with pytest.raises(ValueError, match="group_size >= 2"):
        rloo_advantages(T([[1.0]]))


def test_reinforce_pp_sequence_level():
    # batch [[1, 0], [1, 1]] -> values 1, 0, 1, 1: mean 0.75, var = (3 * 0.0625 + 0.5625) / 4 = 0.1875,
    # std 0.4330127 -> [0.25, -0.75, 0.25, 0.25] / 0.4330127 = [0.5773503, -1.7320508, 0.5773503, 0.5773503]
    r = T([[1.0, 0.0], [1.0, 1.0]])
    a = reinforce_pp_advantages(r, eps=0.0)
    assert close(a, [[0.5773503, -1.7320508], [0.5773503, 0.5773503]])
    # with the group baseline: centred [[0.5, -0.5], [0, 0]]: mean 0, var = 0.5/4 = 0.125, std 0.3535534
    # -> [[1.4142136, -1.4142136], [0, 0]]
    b = reinforce_pp_advantages(r, group_baseline=True, eps=0.0)
    assert close(b, [[1.4142136, -1.4142136], [0.0, 0.0]])
    # the equal group still gets signal without a baseline, none with it
    assert a[1].abs().sum() > 0 and b[1].abs().sum() == 0


def test_reinforce_pp_token_level_with_kl():
    # two samples, rewards 1 and 0, 3 tokens each; sample 1 has only 2 valid tokens.
    # kl penalty per token: sample0 [0.1, 0.2, 0.3], sample1 [0.5, 0.5, (masked) 9]
    # returns-to-go: s0: [1 - 0.6, 1 - 0.5, 1 - 0.3] = [0.4, 0.5, 0.7]; s1: [0 - 1.0, 0 - 0.5] = [-1, -0.5]
    # whiten over the 5 valid tokens: mean = (0.4+0.5+0.7-1-0.5)/5 = 0.02
    # deviations: 0.38, 0.48, 0.68, -1.02, -0.52; squares: .1444 .2304 .4624 1.0404 .2704 -> sum 2.148
    # var = 0.4296, std = 0.6554388
    r = T([[1.0, 0.0]])
    mask = T([[1, 1, 1], [1, 1, 0]])
    kl = T([[0.1, 0.2, 0.3], [0.5, 0.5, 9.0]])
    a = reinforce_pp_token_advantages(r, mask, kl_penalty=kl, eps=0.0)
    std = math.sqrt(0.4296)
    expect = T([[0.38, 0.48, 0.68], [-1.02, -0.52, 0.0]]) / std
    expect[1, 2] = 0.0
    assert close(a, expect)


def test_process_grpo_hand_values():
    # one group, two samples, 4 response tokens.
    # sample 0: steps end at token 1 (reward 1) and token 3 (reward 0)
    # sample 1: one step ending at token 2 (reward 0.5)
    # pooled [1, 0, 0.5]: mean 0.5, var = (0.25 + 0.25 + 0) / 3 = 1/6, std = 0.4082483
    # normalised: s0: step1 0.5/0.4082483 = 1.2247449, step2 -1.2247449; s1: 0
    # token advantages (sum of normalised rewards of steps ending at or after t):
    #   s0: t0,t1: 1.2247 - 1.2247 = 0 ; t2,t3: -1.2247449
    #   s1: t0..t2: 0 ; t3: 0 (after the last step)
    steps = [[[(1, 1.0), (3, 0.0)], [(2, 0.5)]]]
    a = process_grpo_advantages(steps, 4, eps=0.0)
    assert close(a, [[0.0, 0.0, -1.2247449, -1.2247449], [0.0, 0.0, 0.0, 0.0]])
    # without std scaling: centred rewards +0.5, -0.5, 0
    b = process_grpo_advantages(steps, 4, scale_std=False)
    assert close(b, [[0.0, 0.0, -0.5, -0.5], [0.0, 0.0, 0.0, 0.0]])


def test_process_grpo_two_groups_and_mask():
    # group 0: [(0, 1.0)], [(0, 0.0)] -> pooled mean 0.5, std 0.5 -> +1 on token 0 of s0, -1 on s1
    # group 1: a single sample with two equal steps -> std 0 -> zeros (no NaN), and a sample with no steps
    steps = [[[(0, 1.0)], [(0, 0.0)]], [[(0, 2.0), (1, 2.0)], []]]
    a = process_grpo_advantages(steps, 2, eps=0.0, mask=T([[1, 1], [1, 0], [1, 1], [1, 1]]))
    assert close(a, [[1.0, 0.0], [-1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    assert not torch.isnan(a).any()


def test_process_grpo_rejects_out_of_range_step():
    with pytest.raises(ValueError, match="outside the response"):
        process_grpo_advantages([[[(5, 1.0)]]], 4)


def test_expand_and_whiten():
    adv = T([[2.0, -1.0]])
    mask = T([[1, 1, 0], [1, 0, 0]])
    assert close(expand_to_tokens(adv, mask), [[2, 2, 0], [-1, 0, 0]])
    # empty mask: zeros, no NaN
    w = masked_whiten(T([[1.0, 2.0]]), T([[0, 0]]))
    assert torch.equal(w, torch.zeros(1, 2))


# ----------------------------------------------------------------------------- aggregation


def test_aggregation_modes_hand_values():
    # per-token loss and mask:
    #   seq0: [1, 2, 3] all valid -> sum 6, mean 2
    #   seq1: [4, 5, 6] first valid only -> sum 4, mean 4
    loss = T([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    mask = T([[1, 1, 1], [1, 0, 0]])
    # token-mean: (6 + 4) / 4 tokens = 2.5
    assert close(aggregate(loss, mask, "token-mean"), 2.5)
    # seq-mean-token-mean: (2 + 4) / 2 = 3
    assert close(aggregate(loss, mask, "seq-mean-token-mean"), 3.0)
    # seq-mean-token-sum-norm with max_len 5: (6/5 + 4/5) / 2 = 1.0
    assert close(aggregate(loss, mask, "seq-mean-token-sum-norm", max_len=5), 1.0)
    # global denominators for micro-batches: token-mean over 8 tokens -> 10/8
    assert close(aggregate(loss, mask, "token-mean", num_tokens=8), 1.25)


def test_aggregation_empty_mask_and_empty_sequence():
    loss = T([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    zero = torch.zeros(2, 2)
    for mode in ("token-mean", "seq-mean-token-mean"):
        out = aggregate(loss, zero, mode)
        assert out.item() == 0.0 and not torch.isnan(out)
        out.backward()
        assert torch.equal(loss.grad, torch.zeros(2, 2))
        loss.grad = None
    # an empty sequence does not dilute seq-mean-token-mean: only seq0 counts -> mean(1, 2) = 1.5
    assert close(aggregate(loss, T([[1, 1], [0, 0]]), "seq-mean-token-mean"), 1.5)


def test_aggregation_errors():
    x = torch.zeros(1, 2)
    with pytest.raises(ValueError, match="unknown loss aggregation"):
        aggregate(x, x, "sum")
    with pytest.raises(ValueError, match="max_len"):
        aggregate(x, x, "seq-mean-token-sum-norm")


# ----------------------------------------------------------------------------- policy loss


def _lp(ratios):
    """log-probs whose ratio to old log-probs of 0 is ``ratios``."""
    return torch.log(T(ratios)).requires_grad_(True)


def test_policy_loss_unclipped_hand_value():
    # ratio 1 everywhere -> loss per token = -A; A = [1, -2] on two tokens of one seq -> token-mean 0.5
    lp = _lp([[1.0, 1.0]])
    loss, stats = policy_loss(lp, torch.zeros(1, 2), T([[1.0, -2.0]]), torch.ones(1, 2))
    assert close(loss, 0.5)
    assert stats["ratio_mean"] == pytest.approx(1.0) and stats["clip_frac_high"] == 0.0
    loss.backward()
    # d(-A r)/d logp = -A r = [-1, 2], divided by 2 tokens
    assert close(lp.grad, [[-0.5, 1.0]])


def test_clip_higher_and_zero_gradient_on_clipped_tokens():
    # eps_low 0.2, eps_high 0.28. tokens (ratio, A):
    #   (1.5, +1): clipped high at 1.28 -> loss -1.28, grad 0
    #   (1.2, +1): inside (1.2 < 1.28)   -> loss -1.2, grad -1.2
    #   (0.5, -1): clipped low at 0.8    -> loss 0.8, grad 0
    #   (0.5, +1): below the range but A>0: unclipped branch is the max -> loss -0.5, grad -0.5
    lp = _lp([[1.5, 1.2, 0.5, 0.5]])
    adv = T([[1.0, 1.0, -1.0, 1.0]])
    loss, stats = policy_loss(lp, torch.zeros(1, 4), adv, torch.ones(1, 4), eps_low=0.2, eps_high=0.28)
    # token-mean: (-1.28 - 1.2 + 0.8 - 0.5) / 4 = -2.18 / 4 = -0.545
    assert close(loss, -0.545)
    loss.backward()
    assert close(lp.grad, [[0.0, -1.2 / 4, 0.0, -0.5 / 4]])
    assert stats["clip_frac_high"] == pytest.approx(0.25)
    assert stats["clip_frac_low"] == pytest.approx(0.25)
    # with symmetric eps 0.2 the second token (ratio 1.2) sits exactly at the bound: still gradient
    # (clamp passes the gradient at the boundary value), but 1.25 would be clipped:
    lp2 = _lp([[1.25]])
    loss2, st2 = policy_loss(lp2, torch.zeros(1, 1), T([[1.0]]), torch.ones(1, 1), eps_low=0.2)
    loss2.backward()
    assert close(loss2, -1.2) and lp2.grad.item() == 0.0 and st2["clip_frac_high"] == 1.0


def test_dual_clip_caps_negative_advantage_loss():
    # A = -1, ratio 5, c = 3: standard clip gives max(5, 0.8) = 5; dual clip caps at 3, grad 0
    lp = _lp([[5.0, 2.0]])
    adv = T([[-1.0, -1.0]])
    loss, stats = policy_loss(lp, torch.zeros(1, 2), adv, torch.ones(1, 2), dual_clip=3.0)
    # tokens: min(5, 3) = 3 ; ratio 2 < 3 -> loss 2 (grad: d(r)/dlogp = r = 2)
    assert close(loss, (3.0 + 2.0) / 2)
    loss.backward()
    assert close(lp.grad, [[0.0, 1.0]])
    assert stats["dual_clip_frac"] == pytest.approx(0.5)
    # positive advantages are not affected by the dual clip
    lp3 = _lp([[5.0]])
    loss3, _ = policy_loss(lp3, torch.zeros(1, 1), T([[1.0]]), torch.ones(1, 1), dual_clip=3.0)
    assert close(loss3, -1.2)
    with pytest.raises(ValueError, match="dual_clip must be > 1"):
        policy_loss(lp3, torch.zeros(1, 1), T([[1.0]]), torch.ones(1, 1), dual_clip=1.0)


def test_policy_loss_sequence_advantages_aggregation_and_is_weights():
    # advantages given per sequence [1, -1] broadcast over tokens; ratio 1 -> per-token loss -A
    # seq0 3 valid tokens with loss -1 each, seq1 1 valid token with loss +1
    lp = torch.zeros(2, 3, requires_grad=True)
    mask = T([[1, 1, 1], [1, 0, 0]])
    adv = T([1.0, -1.0])
    l_tok, _ = policy_loss(lp, torch.zeros(2, 3), adv, mask, agg="token-mean")
    assert close(l_tok, (-3 + 1) / 4)
    l_seq, _ = policy_loss(lp, torch.zeros(2, 3), adv, mask, agg="seq-mean-token-mean")
    assert close(l_seq, (-1 + 1) / 2)
    l_dr, _ = policy_loss(lp, torch.zeros(2, 3), adv, mask, agg="seq-mean-token-sum-norm", max_len=4)
    assert close(l_dr, (-3 / 4 + 1 / 4) / 2)
    # importance weights multiply per-token losses: weight 0.5 on seq0's tokens -> (-1.5 + 1) / 4
    w = T([[0.5, 0.5, 0.5], [1.0, 1.0, 1.0]])
    l_w, _ = policy_loss(lp, torch.zeros(2, 3), adv, mask, is_weights=w)
    assert close(l_w, -0.125)


def test_policy_loss_zero_mask_no_nan():
    lp = torch.zeros(2, 3, requires_grad=True)
    loss, stats = policy_loss(lp, torch.zeros(2, 3), torch.ones(2, 3), torch.zeros(2, 3))
    assert loss.item() == 0.0
    assert all(not math.isnan(v) for v in stats.values())
    loss.backward()
    assert torch.equal(lp.grad, torch.zeros(2, 3))


# ----------------------------------------------------------------------------- KL, entropy, IS


def test_kl_estimators_hand_values():
    # d = log pi - log pi_ref = log 2 = 0.6931472
    # k1 = 0.6931472 ; k2 = 0.5 * 0.480453 = 0.2402265 ; k3 = exp(-d) - 1 + d = 0.5 - 1 + 0.6931472 = 0.1931472
    lp = T([[math.log(0.5)]])
    ref = T([[math.log(0.25)]])
    assert close(kl_estimate(lp, ref, "k1"), [[0.6931472]])
    assert close(kl_estimate(lp, ref, "k2"), [[0.2402265]])
    assert close(kl_estimate(lp, ref, "k3"), [[0.1931472]])
    # identical policies -> 0 for all
    for k in ("k1", "k2", "k3"):
        assert torch.equal(kl_estimate(ref, ref, k), torch.zeros(1, 1))
    # k3 >= 0 even when d < 0: d = -log 2 -> 2 - 1 - 0.6931 = 0.3068528
    assert close(kl_estimate(ref, lp, "k3"), [[0.3068528]])
    with pytest.raises(ValueError, match="unknown KL estimator"):
        kl_estimate(lp, ref, "k4")


def test_kl_estimators_are_finite_for_extreme_gaps():
    lp = T([[0.0]])
    ref = T([[-1000.0]])
    assert torch.isfinite(kl_estimate(lp, ref, "k3")).all()
    assert torch.isfinite(kl_estimate(ref, lp, "k3")).all()


def test_kl_loss_and_kl_in_reward():
    # two tokens with d = log 2 each (k1), one masked out
    lp = T([[math.log(0.5), math.log(0.5)]])
    ref = T([[math.log(0.25), math.log(0.25)]])
    mask = T([[1, 0]])
    assert close(kl_loss(lp, ref, mask, kind="k1"), 0.6931472)
    # reward 1 - 0.1 * 0.6931472 = 0.9306853
    assert close(kl_penalised_rewards(T([1.0]), lp, ref, mask, 0.1, kind="k1"), [0.9306853])
    assert close(kl_penalised_token_rewards(lp, ref, mask, 0.1, kind="k1"), [[0.06931472, 0.0]])
    # the gradient of kl_loss flows to the policy only: d k1 / d lp = 1 per valid token / 1 token
    lpg = lp.clone().requires_grad_(True)
    kl_loss(lpg, ref, mask, kind="k1").backward()
    assert close(lpg.grad, [[1.0, 0.0]])


def test_entropy_hand_values():
    # uniform over 4 -> log 4 = 1.3862944 ; one-hot-ish (logits [0, -inf...]) -> 0
    logits = torch.zeros(1, 2, 4)
    logits[0, 1] = T([0.0, -1e9, -1e9, -1e9])
    ent = token_entropy(logits)
    assert close(ent, [[1.3862944, 0.0]])
    # masked mean over the first token only
    assert close(entropy_from_logits(logits, T([[1, 0]])), 1.3862944)
    # two-way 0.5/0.5 via logits [0, 0] -> log 2
    assert close(token_entropy(torch.zeros(3, 2)), [math.log(2)] * 3)
    assert entropy_from_logits(logits, torch.zeros(1, 2)).item() == 0.0
    # chunking does not change the result
    x = torch.randn(5, 7, 11)
    assert close(token_entropy(x, chunk_size=3), token_entropy(x, chunk_size=1000))


def test_truncated_is_weights():
    # old - sampling = log 1.5 -> 1.5 ; log 4 -> 4 capped at 2 ; log 0.5 -> 0.5
    old = torch.log(T([[1.5, 4.0, 0.5]]))
    samp = torch.zeros(1, 3)
    w = truncated_is_weights(old.requires_grad_(True), samp, cap=2.0)
    assert close(w, [[1.5, 2.0, 0.5]])
    assert not w.requires_grad
    assert close(truncated_is_weights(old, samp, cap=2.0, mask=T([[1, 0, 1]])), [[1.5, 0.0, 0.5]])
    with pytest.raises(ValueError, match="cap"):
        truncated_is_weights(old, samp, cap=0.0)


def test_logprobs_from_logits_hand_and_reference():
    # logits [0, log 3] -> probs [1/4, 3/4]: log-probs of ids [1, 0] are [log .75, log .25]
    logits = T([[[0.0, math.log(3.0)], [0.0, math.log(3.0)]]])
    ids = T([[1, 0]])
    assert close(logprobs_from_logits(logits, ids), [[math.log(0.75), math.log(0.25)]])
    # temperature 2 halves the logits: [0, log 3 / 2] -> probs 1/(1+sqrt3), sqrt3/(1+sqrt3)
    s3 = math.sqrt(3.0)
    assert close(logprobs_from_logits(logits, ids, temperature=2.0), [[math.log(s3 / (1 + s3)), math.log(1 / (1 + s3))]])
    # matches log_softmax-gather for random logits, in chunks, also for bf16 input
    x = torch.randn(3, 5, 17)
    i = torch.randint(0, 17, (3, 5))
    ref = torch.log_softmax(x, -1).gather(-1, i[..., None]).squeeze(-1)
    assert close(logprobs_from_logits(x, i, chunk_size=4), ref)
    xb = x.to(torch.bfloat16)
    refb = torch.log_softmax(xb.float(), -1).gather(-1, i[..., None]).squeeze(-1)
    assert close(logprobs_from_logits(xb, i), refb)
    # differentiable: gradient equals one_hot - softmax
    xg = x.clone().requires_grad_(True)
    logprobs_from_logits(xg, i).sum().backward()
    expect = torch.nn.functional.one_hot(i, 17).float() - torch.softmax(x, -1)
    assert close(xg.grad, expect)
    with pytest.raises(ValueError, match="disagree"):
        logprobs_from_logits(x, i[:, :4])


def test_gradients_of_aggregation_modes():
    # ratio 1, A = 1 on every token: per-token loss -r, d loss_t / d logp_t = -1 before aggregation.
    # seq0 has 2 valid tokens, seq1 has 1.
    mask = T([[1, 1], [1, 0]])
    adv = torch.ones(2, 2)
    grads = {}
    for mode in ("token-mean", "seq-mean-token-mean", "seq-mean-token-sum-norm"):
        lp = torch.zeros(2, 2, requires_grad=True)
        loss, _ = policy_loss(lp, torch.zeros(2, 2), adv, mask, agg=mode, max_len=4)
        loss.backward()
        grads[mode] = lp.grad
    # token-mean: -1/3 on each of the 3 tokens
    assert close(grads["token-mean"], [[-1 / 3, -1 / 3], [-1 / 3, 0.0]])
    # seq-mean-token-mean: seq0 tokens -1/(2*2) = -0.25, seq1 token -1/(1*2) = -0.5 (short seqs weigh more)
    assert close(grads["seq-mean-token-mean"], [[-0.25, -0.25], [-0.5, 0.0]])
    # Dr. GRPO: every token -1/(max_len 4 * 2 seqs) = -0.125, independent of sequence length
    assert close(grads["seq-mean-token-sum-norm"], [[-0.125, -0.125], [-0.125, 0.0]])


def test_kl_gradients():
    # d = log 2 at one token. d k1/d lp = 1 ; d k2/d lp = d = 0.6931472 ; d k3/d lp = 1 - exp(-d) = 0.5
    ref = T([[math.log(0.25)]])
    for kind, g in (("k1", 1.0), ("k2", 0.6931472), ("k3", 0.5)):
        lp = T([[math.log(0.5)]]).requires_grad_(True)
        kl_estimate(lp, ref, kind).sum().backward()
        assert close(lp.grad, [[g]]), kind


def test_token_entropy_at_a_temperature_by_hand():
    # softmax([1, 2, 3] / 0.6): exp(0, 1/0.6, 2/0.6) / sum -> H = 0.5568 (raw logits give 0.8324)
    z = torch.tensor([1.0, 2.0, 3.0]) / 0.6
    p = torch.softmax(z, -1)
    by_hand = float(-(p * torch.log(p)).sum())
    assert abs(by_hand - 0.5568) < 1e-3
    assert close(token_entropy(torch.tensor([[1.0, 2.0, 3.0]]), temperature=0.6), [by_hand])
    x = torch.randn(5, 7)
    assert close(token_entropy(x, temperature=2.0, chunk_size=2), token_entropy(x / 2.0))
