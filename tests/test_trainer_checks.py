"""Runs that cannot work are refused before anything runs, and numeric edge cases give no signal.

Each test here comes from an audit finding: a config value that was accepted and failed late (or
silently did nothing), held-out evaluation that could score training tasks, rounding or non-finite
rewards that turned into a learning signal, a plot that hid rewards outside [0, 1].
"""

from __future__ import annotations

import json
import re

import gymnasium as gym
import numpy as np
import pytest
import torch

import rlvr
from rlvr.trainers.advantages import masked_whiten, reinforce_pp_token_advantages
from rlvr.trainers.config import ConfigError, check_task_ranges, load_config, task_ranges, training_tasks_per_step
from rlvr.trainers.dynamic_sampling import ESTIMATORS, group_has_signal, process_group_has_signal, signal_mask
from rlvr.trainers.engine import SamplingParams
from rlvr.trainers.metrics import plot_curves, reward_axis_limits
from rlvr.trainers.rollout import RolloutCollector, RolloutInfrastructureError
from rlvr.trainers.trainer import Trainer
from rlvr.trainers.warmup import WARMUP_OFFSET, warmup_task_range
from conftest import model_weights

# a task a random tiny model solves now and then (any digit in the answer), and one that scores
# every answer the same (no group ever has signal)
rlvr.register("rlvr/ChecksDigit-v0", generator=lambda rng: {"question": f"7+{int(rng.integers(10**5, 10**6))}=", "answer": "8"},
              verifier=lambda gold, completion: float(any(c.isdigit() for c in completion)), force=True)
rlvr.register("rlvr/ChecksSeventy-v0", generator=lambda rng: {"question": f"7+{int(rng.integers(10**5, 10**6))}=", "answer": "8"},
              verifier=lambda gold, completion: 0.7, force=True)


def make_config(out, *extra):
    return load_config(None, [
        f"log.output_dir={out}", "log.progress=false", "log.tensorboard=false", "env.id=rlvr/ChecksDigit-v0",
        "sampling.max_new_tokens=4", "train.batch_groups=2", "train.group_size=2", "train.lr=3e-3",
        "model.tiny_hidden_size=32", "model.tiny_layers=1", *extra,
    ])


weights = model_weights


# ------------------------------------------------------------------------------------ seeds


@pytest.mark.parametrize("seed", [-1, 2**63, 2**64])
def test_seeds_outside_the_generators_range_are_config_errors(seed):
    # -1 used to pass and crash step 1 in np.random.default_rng([seed, epoch]); 2**64 crashed the build
    with pytest.raises(ConfigError, match=r"train\.seed must be in \[0, 2\*\*63\)"):
        load_config(None, [f"train.seed={seed}"])


def test_the_range_of_seeds_accepted_works_everywhere_it_is_used():
    for seed in (0, 2**63 - 1):
        cfg = load_config(None, [f"train.seed={seed}"])
        torch.manual_seed(cfg.train.seed)  # the trainer's seeding, the data order and the eval sampler's seed
        np.random.default_rng([cfg.train.seed, 3]).permutation(4)
        torch.Generator().manual_seed(cfg.train.seed + 7919)
    torch.manual_seed(0)


def test_a_bad_value_fails_before_overwrite_deletes_the_old_run(tmp_path):
    # the old outputs must survive a run that cannot start; Trainer() validates the config it is given
    (tmp_path / "metrics.jsonl").write_text('{"step": 1}\n')
    (tmp_path / "summary.json").write_text("{}")
    cfg = make_config(tmp_path, "log.overwrite=true")
    cfg.train.seed = -1
    with pytest.raises(ConfigError, match=r"train\.seed"):
        Trainer(cfg)
    assert (tmp_path / "metrics.jsonl").read_text() == '{"step": 1}\n' and (tmp_path / "summary.json").exists()


# ------------------------------------------------------------------------------------ held-out tasks


def test_training_draws_at_most_the_documented_bound(tmp_path):
    # no group ever has signal: dynamic sampling spends its whole budget, the most a step can draw
    cfg = make_config(tmp_path, "env.id=rlvr/ChecksSeventy-v0", "train.total_steps=1", "algorithm.ds_max_extra_rounds=2")
    tr = Trainer(cfg)
    tr.step()
    assert tr.task_counter == training_tasks_per_step(cfg) == 2 * 3
    assert task_ranges(cfg)["training"] == range(0, 6)
    assert training_tasks_per_step(make_config(tmp_path, "algorithm.dynamic_sampling=false")) == 2


@pytest.mark.parametrize("extra, message", [
    # training draws 999990 .. 999990 + 100 x 2 x 3 - 1: the default eval.offset 1000000 is among them
    (["env.train_offset=999990", "eval.num_tasks=20"],
     r"training tasks 999990\.\.1000589 \(env\.train_offset.*\) overlap evaluation tasks 1000000\.\.1000019 "
     r"\(eval\.offset on, eval\.num_tasks\).*eval\.offset=1000590"),
    (["eval.offset=0", "eval.num_tasks=2"], r"training tasks 0\.\.599 .* overlap evaluation tasks 0\.\.1"),
    ([f"eval.offset={WARMUP_OFFSET + 100}", "eval.num_tasks=2", "warmup.steps=2", "warmup.batch_size=64"],
     r"evaluation tasks 5000100\.\.5000101 .* overlap warm-up tasks 5000000\.\.5000127 \(warmup\.steps"),
    ([f"env.train_offset={WARMUP_OFFSET - 10}", "warmup.steps=1"], r"training tasks .* overlap warm-up tasks"),
])
def test_overlapping_task_ranges_are_refused(tmp_path, extra, message):
    cfg = make_config(tmp_path, "train.total_steps=100", "algorithm.ds_max_extra_rounds=2", *extra)
    with pytest.raises(ConfigError, match=message):
        check_task_ranges(cfg)
    with pytest.raises(ConfigError, match=message):  # the trainer checks before anything runs
        Trainer(cfg)


def test_disjoint_ranges_and_datasets_pass(tmp_path):
    check_task_ranges(make_config(tmp_path, "eval.num_tasks=200", "warmup.steps=2000", "train.total_steps=300"))
    check_task_ranges(make_config(tmp_path, "env.train_offset=600", "eval.offset=0", "eval.num_tasks=600",
                                  "train.total_steps=100", "algorithm.ds_max_extra_rounds=2"))
    assert warmup_task_range(2000, 64) == range(WARMUP_OFFSET, WARMUP_OFFSET + 8192)
    # a finite dataset does not evaluate on indices from eval.offset: nothing to refuse
    rlvr.register("rlvr/ChecksTenTasks-v0", dataset=[{"question": f"{i}+0=", "answer": str(i)} for i in range(10)],
                  verifier=lambda gold, completion: float(completion.strip() == gold), force=True)
    tr = Trainer(make_config(tmp_path, "env.id=rlvr/ChecksTenTasks-v0", "eval.offset=0", "eval.num_tasks=2"))
    assert tr.eval_holdout == 2


def test_evaluating_more_tasks_than_configured_is_checked_too(tmp_path):
    # no evaluation configured, so nothing to refuse at start; evaluate(num_tasks=100) would reach training's tasks
    tr = Trainer(make_config(tmp_path, "env.train_offset=1000050", "train.total_steps=1"))
    with pytest.raises(ConfigError, match=r"training tasks 1000050\.\.1000055 .* overlap evaluation tasks 1000000\.\.1000099"):
        tr.evaluate(num_tasks=100)
    assert tr.evaluate(num_tasks=50)["eval/pass@1"] >= 0


def test_a_resumed_run_counts_the_tasks_it_really_drew(tmp_path):
    cfg = make_config(tmp_path, "train.total_steps=3")  # 6 tasks a step at most
    assert task_ranges(cfg)["training"] == range(0, 18)
    assert task_ranges(cfg, drawn=5, steps_done=1)["training"] == range(0, 5 + 2 * 6)


# ------------------------------------------------------------------------------------ no signal


@pytest.mark.parametrize("value", [0.1, 0.7, 1.0 / 3])
def test_reinforce_pp_token_advantages_of_equal_rewards_are_exactly_zero(value):
    mask = torch.zeros(8, 13)
    for i in range(8):
        mask[i, : 3 + i] = 1
    rewards = torch.full((2, 4), value, dtype=torch.float64)
    for baseline in (False, True):
        adv = reinforce_pp_token_advantages(rewards, mask, group_baseline=baseline)
        assert torch.equal(adv, torch.zeros_like(adv)), (value, baseline, float(adv.abs().max()))
    values = torch.full((3, 5), value, dtype=torch.float64)
    assert torch.equal(masked_whiten(values, torch.ones(3, 5)), torch.zeros(3, 5))
    # a real spread is still whitened: zero mean, unit std over the mask
    spread = masked_whiten(torch.tensor([[1.0, 2.0, 3.0, 9.0]], dtype=torch.float64), torch.tensor([[1.0, 1.0, 1.0, 0.0]]))
    assert torch.allclose(spread, torch.tensor([[-1.2247, 0.0, 1.2247, 0.0]], dtype=torch.float64), atol=1e-4)


def test_reinforce_pp_batch_of_equal_rewards_never_touches_the_weights(tmp_path):
    # 2 x 3 samples of 4 tokens: the mean of 24 returns of 0.7 is a rounding step off 0.7
    tr = Trainer(make_config(tmp_path, "env.id=rlvr/ChecksSeventy-v0", "train.total_steps=1",
                             "algorithm.estimator=reinforce++", "train.group_size=3"))
    before = weights(tr.model)
    m = tr.step()
    assert m["skipped"] == 1 and "all advantages are 0" in m["skip_reason"]
    assert all(torch.equal(before[k], v) for k, v in weights(tr.model).items())


@pytest.mark.parametrize("estimator", ["grpo", "dr_grpo", "process_grpo", "reinforce++-baseline", "rloo"])
def test_group_estimators_need_two_samples_per_group(estimator):
    with pytest.raises(ConfigError, match=rf"algorithm\.estimator={re.escape(estimator)} compares the samples of a "
                                          r"group, so it needs train\.group_size >= 2 \(got 1"):
        load_config(None, [f"algorithm.estimator={estimator}", "train.group_size=1"])


def test_plain_reinforce_pp_trains_on_one_sample_per_prompt():
    assert load_config(None, ["algorithm.estimator=reinforce++", "train.group_size=1"]).train.group_size == 1


GROUPS = [[1.0, float("inf")], [float("-inf"), 0.0], [float("nan"), 1.0], [float("inf"), float("inf")],
          [1.0, 0.0], [0.5, 0.5], [2.0]]


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_signal_mask_and_group_has_signal_agree_and_non_finite_is_no_signal(estimator):
    for group in GROUPS:
        one = group_has_signal(group, estimator=estimator)
        vectorised = bool(signal_mask(torch.tensor([group], dtype=torch.float64), estimator=estimator)[0])
        assert one == vectorised, (estimator, group)
        if not all(np.isfinite(group)):
            assert not one, (estimator, group)
    assert not process_group_has_signal([[(0, 1.0), (3, float("inf"))], [(2, 0.0)]])


class InfiniteRewardEnv(gym.Env):
    """A user's own env (not built on rlvr's) whose reward is broken: inf for every answer."""

    observation_space = gym.spaces.Text(64)
    action_space = gym.spaces.Text(64)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return "7+1=", {}

    def step(self, action):
        return "", float("inf"), True, False, {}


def test_a_non_finite_reward_from_an_env_is_never_trained_on():
    from rlvr.trainers.hf_engine import HFEngine
    from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer

    tok = build_tiny_tokenizer()
    engine = HFEngine(build_tiny_model(tok, hidden_size=32, num_layers=1), tok)
    collector = RolloutCollector(engine, InfiniteRewardEnv, tok, chat_template=False)
    sampling = SamplingParams(max_new_tokens=2, seed=0)
    [[a, b]] = collector.collect([0], 2, sampling)
    assert not a.valid and not b.valid and "non-finite reward (inf)" in a.error
    with pytest.raises(RolloutInfrastructureError, match=r"InfiniteRewardEnv returned a non-finite reward"):
        collector.collect([0], 2, sampling, infra_retries=1)  # what the trainer calls: retried, then stopped


# ------------------------------------------------------------------------------------ plots


def test_reward_curves_outside_zero_one_are_drawn(tmp_path):
    # an overlong punishment takes the mean reward to -1.6: the reward panel must reach it
    rows = [{"step": s, "reward_mean": -1.6 + 0.01 * s, "response_length": 5} for s in range(1, 41)]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    png = plot_curves(tmp_path / "metrics.jsonl", tmp_path / "curves.png")
    import matplotlib.image

    image = matplotlib.image.imread(png)[..., :3]
    left = image[:, : image.shape[1] // 2]  # the reward panel
    line = 0.8 * np.array([0x1F, 0x77, 0xB4]) / 255 + 0.2  # the reward curve: the first colour, alpha 0.8 on white
    close = (np.abs(left - line).max(axis=-1) < 0.1).sum()
    assert close > 300, close  # a curve across the panel, not just its legend entry
    assert reward_axis_limits([0.2, 0.9]) == pytest.approx((-0.05, 1.05))  # [0, 1] stays the default view
    assert reward_axis_limits([-1.6, 2.0, float("nan")]) == pytest.approx((-1.6 - 0.18, 2.0 + 0.18))


# ------------------------------------------------------------------------------------ config values


@pytest.mark.parametrize("override, message", [
    ("env.max_turns=0", r"env\.max_turns must be >= 1 or null"),
    ("env.max_turns=-1", r"env\.max_turns must be >= 1 or null"),
    ("sampling.temperature=1e-9", r"sampling\.temperature must be >= 1e-05"),
    ("sampling.temperature=0", r"sampling\.temperature must be >= 1e-05 for training"),
    ("eval.temperature=1e-9", r"eval\.temperature must be 0 \(greedy\) or >= 1e-05"),
    ("model.tiny_hidden_size=0", r"model\.tiny_hidden_size must be >= 1"),
    ("model.tiny_layers=0", r"model\.tiny_layers must be >= 1"),
    ("model.tiny_heads=3", r"model\.tiny_heads \(3\) must split model\.tiny_hidden_size \(64\)"),
    ("model.tiny_heads=64", r"model\.tiny_heads \(64\) must split .* even size"),  # heads of 1 dimension
    ("model.tiny_kv_heads=3", r"model\.tiny_kv_heads \(3\) must divide model\.tiny_heads \(4\)"),
    ("algorithm.eps_low=1.5", r"algorithm\.eps_low must be in \[0, 1\)"),
    ("algorithm.eps_low=1", r"algorithm\.eps_low must be in \[0, 1\)"),
    ("algorithm.overlong_coef=-1", r"algorithm\.overlong_coef must be >= 0"),
])
def test_values_that_failed_late_or_silently_are_config_errors(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, [override])


def test_edge_values_that_work_pass():
    cfg = load_config(None, ["env.max_turns=1", "sampling.temperature=1e-5", "eval.temperature=0", "algorithm.eps_low=0.99",
                             "algorithm.overlong_coef=0", "model.tiny_hidden_size=8", "model.tiny_heads=2",
                             "model.tiny_kv_heads=1"])
    assert cfg.env.max_turns == 1 and cfg.model.tiny_hidden_size == 8
    assert load_config(None, ["model.tiny_heads=32", "model.tiny_kv_heads=8"]).model.tiny_heads == 32  # heads of 2
