"""Trainer maths: what a review found (the overlong punishment of a turn cut by the context room,
``tis_cap`` doing nothing with the engine's old log-probs, ``ratio_max`` averaged over
micro-batches, NaN entropy at a ``-inf`` logit, ``approx_kl`` estimating the wrong KL, temperatures
vLLM does not sample at)."""

from __future__ import annotations

import math

import pytest
import torch

from rlvr.trainers.config import ConfigError, load_config
from rlvr.trainers.losses import policy_loss, token_entropy
from rlvr.trainers.rollout import Trajectory
from rlvr.trainers.trainer import Trainer


def trainer(out, *extra):
    return Trainer(load_config(None, [
        f"log.output_dir={out}", "log.progress=false", "log.tensorboard=false", "log.jsonl=false",
        "sampling.max_new_tokens=8", "train.batch_groups=1", "train.group_size=2", "train.lr=1e-3",
        "model.tiny_hidden_size=32", "model.tiny_layers=1", "algorithm.dynamic_sampling=false",
        "train.max_grad_norm=1e9", *extra]))


def episode(turns, finish, reward=1.0, *, episode_truncated=False, reply=2, index=0):
    """An episode as the collector books it: a 2-token prompt, then model turns of ``turns`` tokens
    (each ended by ``finish[k]``) separated by env replies of ``reply`` tokens."""
    ids, mask, ends = [5, 6], [0, 0], []
    for k, n in enumerate(turns):
        if k:
            ids += [7] * reply
            mask += [0] * reply
        ids += [10 + k] * n
        mask += [1] * n
        ends.append(len(ids) - 1)
    return Trajectory(task_id="t", group=0, index=index, token_ids=ids, loss_mask=mask, logprobs=[0.0] * len(ids),
                      prompt_len=2, turn_ends=ends, turn_rewards=[0.0] * (len(turns) - 1) + [reward],
                      total_reward=reward, finish_reasons=list(finish), truncated=finish[-1] == "length",
                      episode_truncated=episode_truncated)


# ------------------------------------------------------------------ overlong punishment


def test_an_answer_cut_by_the_context_room_gets_the_full_overlong_punishment(tmp_path):
    """max_new_tokens 8, a cache of 4, a context of 8 tokens: a 6-token answer cut off by the room
    left (2 prompt + 6) got -0.5 when a 7-token answer that finished got -0.75."""
    tr = trainer(tmp_path, "algorithm.overlong_cache_len=4", "sampling.max_context_tokens=8")
    cut = episode([6], ["length"])
    finished = episode([7], ["stop"])
    assert tr.shaped_reward(cut) == 0.0  # 1 - 1: as an answer that reached max_new_tokens
    assert tr.shaped_reward(finished) == 0.25  # the ramp: (4 - 7) / 4
    assert tr.shaped_reward(episode([3], ["stop"])) == 1.0
    assert tr.shaped_reward(episode([8], ["length"])) == 0.0
    tr.close()


def test_overlong_punishment_of_multi_turn_episodes(tmp_path):
    tr = trainer(tmp_path, "algorithm.overlong_cache_len=4", "sampling.max_context_tokens=16")
    # out of turns (or of room for the env's reply): not cut off mid-answer, so only the ramp applies
    assert tr.shaped_reward(episode([3, 2], ["stop", "stop"], episode_truncated=True)) == 1.0
    assert tr.shaped_reward(episode([6, 2], ["stop", "stop"], episode_truncated=True)) == 0.5
    # the last turn cut by the room left in the context after 2 tokens: the full punishment
    assert tr.shaped_reward(episode([3, 2], ["stop", "length"])) == 0.0
    # an earlier turn that ran to max_new_tokens is punished in full by the ramp, as before
    assert tr.shaped_reward(episode([8, 2], ["length", "stop"])) == 0.0
    tr.close()


# ------------------------------------------------------------------ config refusals


def test_tis_cap_with_the_engines_old_logprobs_is_refused():
    # the weights exp(old - sampling) are exactly 1 when the old log-probs are the sampling ones
    with pytest.raises(ConfigError, match=r"algorithm\.tis_cap=2\.0 with algorithm\.old_logprobs=engine.*"
                                          r"use old_logprobs=auto or recompute, or tis_cap=null"):
        load_config(None, ["algorithm.old_logprobs=engine", "algorithm.tis_cap=2"])
    for old in ("auto", "recompute"):
        assert load_config(None, [f"algorithm.old_logprobs={old}", "algorithm.tis_cap=2"]).algorithm.tis_cap == 2.0
    assert load_config(None, ["algorithm.old_logprobs=engine"]).algorithm.tis_cap is None


VLLM = ["engine.name=vllm", "model.name_or_path=org/model"]


@pytest.mark.parametrize("override", ["sampling.temperature=2.5", "sampling.temperature=0.005",
                                      "eval.temperature=3", "eval.temperature=0.001"])
def test_temperatures_vllm_does_not_sample_at_are_refused(override):
    key = override.split("=")[0].replace(".", r"\.")
    with pytest.raises(ConfigError, match=rf"{key}=.*vLLM .*temperature 0 \(greedy\) or within \[0\.01, 2\]"):
        load_config(None, [*VLLM, override])


def test_temperatures_vllm_samples_at_and_other_engines_are_accepted():
    cfg = load_config(None, [*VLLM, "sampling.temperature=2", "eval.temperature=0.01"])
    assert (cfg.sampling.temperature, cfg.eval.temperature) == (2.0, 0.01)
    assert load_config(None, [*VLLM, "sampling.temperature=0.01", "eval.temperature=0"]).eval.temperature == 0.0
    cfg = load_config(None, ["sampling.temperature=2.5", "eval.temperature=0.001"])  # the hf engine samples at any
    assert (cfg.sampling.temperature, cfg.eval.temperature) == (2.5, 0.001)


# ------------------------------------------------------------------ update statistics


def set_ratios(tr, trajs, ratios):
    """Give each episode sampling log-probs whose ratio to the model's is ``ratios[i][k]`` on its
    k-th response token (the engine's log-probs are the old ones with old_logprobs=engine)."""
    lp = tr._score(tr.model, tr._batch(trajs))  # [B, L-1]: position p predicts token p + 1
    for i, t in enumerate(trajs):
        t.logprobs = [0.0] * t.prompt_len + [float(lp[i, p - 1]) - math.log(r)
                                             for p, r in zip(range(t.prompt_len, len(t.token_ids)), ratios[i])]


@pytest.mark.parametrize("micro_batch_size", [0, 1])
def test_ratio_max_is_the_largest_ratio_under_micro_batching(tmp_path, micro_batch_size):
    """It was the token-weighted mean of the micro-batches' maxima (0.85 with one row per
    micro-batch); an empty micro-batch (a masked truncated row) does not count as a ratio of 1."""
    tr = trainer(tmp_path, "algorithm.old_logprobs=engine", f"train.micro_batch_size={micro_batch_size}",
                 "train.group_size=3", "train.skip_zero_advantage=false", "algorithm.mask_truncated=true")
    trajs = [episode([3], ["stop"], 1.0), episode([3], ["stop"], 0.0, index=1),
             episode([3], ["length"], 0.5, index=2)]
    set_ratios(tr, trajs, [[0.9, 0.9, 0.9], [0.8, 0.8, 0.8], [1.0, 1.0, 1.0]])
    stats = tr._update(trajs)
    assert stats["ratio_max"] == pytest.approx(0.9, abs=1e-5)
    assert stats["ratio_mean"] == pytest.approx(0.85, abs=1e-5)  # a per-token mean stays the weighted mean
    tr.close()


# ------------------------------------------------------------------ losses


def test_entropy_of_a_distribution_with_a_masked_token():
    logits = torch.tensor([[0.0, 0.0, float("-inf")]], requires_grad=True)
    h = token_entropy(logits)
    assert h.tolist() == pytest.approx([math.log(2)])
    h.sum().backward()
    assert torch.isfinite(logits.grad).all()
    assert token_entropy(torch.tensor([[0.0, 0.0, float("-inf")]]), temperature=0.5).tolist() == pytest.approx([math.log(2)])


def test_approx_kl_is_k3_of_kl_old_new():
    """With r = pi_new / pi_old at tokens sampled from the old policy, k3 = r - 1 - log r. It was
    exp(-log r) - 1 + log r, the estimate of KL(new || old) from samples of the new policy."""
    for ratio, k3 in ((2.0, 1.0 - math.log(2.0)), (0.5, math.log(2.0) - 0.5)):  # 0.3069, 0.1931 (swapped before)
        _, stats = policy_loss(torch.tensor([[math.log(ratio)]]), torch.zeros(1, 1), torch.ones(1, 1), torch.ones(1, 1))
        assert stats["approx_kl"] == pytest.approx(k3)
