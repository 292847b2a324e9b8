"""The training loop on the tiny model: exact resume, on-policy log-probs, skipped updates, options.

Runs are a few steps on a task a random tiny model solves now and then (its answer holds a digit),
so groups have reward variance and the loop has something to learn from.
"""

from __future__ import annotations

import json

import pytest
import torch

from rlvr.trainers import trainer as trainer_mod
from rlvr.trainers.checkpoint import latest_checkpoint, list_checkpoints
from rlvr.trainers.config import ConfigError, load_config
from rlvr.trainers.metrics import read_jsonl
from rlvr.trainers.rollout import RolloutInfrastructureError
from rlvr.trainers.trainer import ResumeError, Trainer

import rlvr
from conftest import model_weights, register_say_a_digit

# a task a random model solves now and then (any digit in the answer), so groups carry signal
register_say_a_digit()
ENV = "env.id=rlvr/SayADigit-v0"


def make_config(out, *extra):
    return load_config(None, [
        f"log.output_dir={out}", "log.progress=false", "log.tensorboard=false", ENV,
        "sampling.max_new_tokens=4", "train.batch_groups=4", "train.group_size=4", "train.lr=3e-3",
        "algorithm.ds_max_extra_rounds=1", "model.tiny_hidden_size=32", "model.tiny_layers=1", *extra,
    ])


weights = model_weights


def comparable(row):
    return {k: v for k, v in row.items() if not k.startswith("time/") and k != "tokens_per_s"}


def test_resume_continues_exactly(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    full = Trainer(make_config(a, "train.total_steps=4", "log.save_every=2"))
    full.train()
    part = Trainer(make_config(b, "train.total_steps=2"))
    part.train()
    assert [s for s, _ in list_checkpoints(b)] == [2]
    resumed = Trainer(make_config(b, "train.total_steps=4"), resume=True)
    assert resumed.step_count == 2 and resumed.task_counter == part.task_counter
    resumed.train()
    rows_a, rows_b = read_jsonl(a / "metrics.jsonl"), read_jsonl(b / "metrics.jsonl")
    assert [r["step"] for r in rows_b] == [1, 2, 3, 4]
    assert [comparable(r) for r in rows_a] == [comparable(r) for r in rows_b]
    assert any(r.get("optimizer_steps") for r in rows_a[2:])  # the resumed steps really trained
    wa, wb = weights(full.model), weights(resumed.model)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    # the checkpoint is a Hugging Face model directory
    from transformers import AutoModelForCausalLM

    loaded = AutoModelForCausalLM.from_pretrained(latest_checkpoint(b) / "model")
    assert all(torch.equal(loaded.state_dict()[k], wb[k]) for k in wb if k in loaded.state_dict())
    # nothing left to do: refuse loudly; a fresh run never silently overwrites
    with pytest.raises(ResumeError, match="nothing left to do"):
        Trainer(make_config(b, "train.total_steps=4"), resume=True)
    with pytest.raises(ResumeError, match="--resume"):
        Trainer(make_config(b, "train.total_steps=8"))
    with pytest.raises(ResumeError, match="no checkpoint"):
        Trainer(make_config(tmp_path / "c"), resume=True)
    summary = json.loads((b / "summary.json").read_text())
    assert summary["steps"] == 4 and (b / "curves.png").stat().st_size > 1000


def test_first_minibatch_logprobs_equal_sampling_logprobs(tmp_path):
    cfg = make_config(tmp_path, "train.total_steps=1", "train.mini_batches=2", "train.epochs=2",
                      "algorithm.old_logprobs=recompute", "train.micro_batch_size=3", "algorithm.dynamic_sampling=false")
    tr = Trainer(cfg)
    m = tr.step()
    assert m["logprob_diff_first_mb"] < 1e-4
    assert m["optimizer_steps"] == 4  # 2 mini-batches x 2 epochs


def test_batch_without_signal_never_touches_weights(tmp_path):
    # outcome reward only: the random model is never right, so every group is dropped
    cfg = make_config(tmp_path, "train.total_steps=1", "env.id=rlvr/Arithmetic-v0", "env.kwargs={format: compact, digits: 2}")
    tr = Trainer(cfg)
    before = weights(tr.model)
    m = tr.step()
    assert m["skipped"] == 1 and m["budget_exhausted"] and m["extra_rounds"] == 1
    assert m["filtered_fraction"] == 1.0 and "no group" in m["skip_reason"]
    after = weights(tr.model)
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_nan_loss_never_touches_weights(tmp_path, monkeypatch):
    tr = Trainer(make_config(tmp_path, "train.total_steps=1", "algorithm.dynamic_sampling=false"))
    before = weights(tr.model)
    real = trainer_mod.policy_loss

    def nan_loss(*args, **kwargs):
        loss, stats = real(*args, **kwargs)
        return loss * float("nan"), stats

    monkeypatch.setattr(trainer_mod, "policy_loss", nan_loss)
    m = tr.step()
    assert m["skipped_nonfinite"] == 1 and m["optimizer_steps"] == 0 and "non-finite" in m["note"]
    after = weights(tr.model)
    assert all(torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize("extra", [
    ("algorithm.estimator=rloo", "algorithm.loss_agg=seq-mean-token-mean", "algorithm.dual_clip=3"),
    ("algorithm.estimator=dr_grpo", "algorithm.loss_agg=seq-mean-token-sum-norm", "algorithm.kl_coef=0.1", "algorithm.kl_estimator=k2"),
    ("algorithm.estimator=reinforce++", "algorithm.kl_coef=0.05", "algorithm.kl_in=reward", "algorithm.entropy_coef=0.01"),
    ("algorithm.estimator=reinforce++-baseline", "algorithm.tis_cap=2", "algorithm.mask_truncated=true"),
    ("algorithm.estimator=process_grpo", "algorithm.overlong_cache_len=2", "train.lr_scheduler=cosine", "train.warmup_steps=1"),
])
def test_algorithm_options_train(tmp_path, extra):
    tr = Trainer(make_config(tmp_path, "train.total_steps=2", "algorithm.dynamic_sampling=false", *extra))
    before = weights(tr.model)
    for _ in range(2):
        m = tr.step()
    assert all(v == v for k, v in m.items() if isinstance(v, float) and k != "grad_norm")  # no NaN
    assert (tr.ref_model is not None) == ("kl_coef" in " ".join(extra))
    if tr.ref_model is not None:
        assert "kl" in m
    moved = any(not torch.equal(before[k], v) for k, v in weights(tr.model).items())
    assert moved or m.get("skipped")


def test_infrastructure_failure_stops_with_clear_error(tmp_path):
    import rlvr
    from rlvr.verifiers.verdict import Verdict

    rlvr.register("rlvr/BrokenVerifier-v0", generator=lambda rng: {"question": "1+1=", "answer": "2"},
                  verifier=lambda gold, completion: Verdict.failed("sandbox unreachable"), force=True)
    cfg = make_config(tmp_path, "env.id=rlvr/BrokenVerifier-v0", "train.infra_retries=1")
    tr = Trainer(cfg)
    before = weights(tr.model)
    with pytest.raises(RolloutInfrastructureError, match="not trained on as zero reward"):
        tr.step()
    assert all(torch.equal(before[k], v) for k, v in weights(tr.model).items())


def test_config_errors_name_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown config key train\.lrr; did you mean train\.lr"):
        load_config(None, ["train.lrr=1"])
    with pytest.raises(ConfigError, match=r"algorithm\.loss_agg"):
        load_config(None, ["algorithm.loss_agg=mean"])
    with pytest.raises(ConfigError, match=r"train\.group_size must be an integer"):
        load_config(None, ["train.group_size=many"])
    with pytest.raises(ConfigError, match=r"train\.batch_groups .* divisible"):
        load_config(None, ["train.batch_groups=3", "train.mini_batches=2"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  lr: 1e-5\nmodle:\n  name_or_path: x\n")
    with pytest.raises(ConfigError, match="unknown config key modle; did you mean model"):
        load_config(bad)


def test_skipping_zero_advantage_rows_gives_the_same_update(tmp_path):
    """Rows whose advantages are all 0 are not forwarded; the weights come out the same as with them."""
    common = ["algorithm.dynamic_sampling=false", "train.total_steps=3", "train.batch_groups=6", "train.group_size=3"]
    skip = Trainer(make_config(tmp_path / "skip", *common))  # each seeds the RNGs: build, then run
    rows_skip = [skip.step() for _ in range(3)]
    full = Trainer(make_config(tmp_path / "full", *common, "train.skip_zero_advantage=false"))
    rows_full = [full.step() for _ in range(3)]
    assert any(0 < r["rows_trained_frac"] < 1 for r in rows_skip), [r["rows_trained_frac"] for r in rows_skip]
    for a, b in zip(rows_skip, rows_full):
        assert a["reward_mean"] == b["reward_mean"] and a["optimizer_steps"] == b["optimizer_steps"]
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-4, abs=1e-6)
    # the batches differ in shape, so float sums differ in order (~1e-8 in the loss); Adam turns that
    # into ~4e-6 on a weight whose gradient is near 0 on some CPUs. 3e-5 is 1% of one step of lr 3e-3:
    # a real difference in the update (a skipped row that counted) moves weights by about the lr.
    wa, wb = weights(skip.model), weights(full.model)
    assert all(torch.allclose(wa[k], wb[k], atol=3e-5) for k in wa), \
        {k: (wa[k] - wb[k]).abs().max().item() for k in wa}


def test_bfloat16_keeps_float32_weights_so_small_updates_land(tmp_path):
    # in pure bf16 an AdamW step of lr 1e-6 rounds to nothing for ~98% of the weights; the forward
    # passes run in bf16 (autocast) while the weights and the optimizer state stay float32
    tr = Trainer(make_config(tmp_path, "train.total_steps=1", "algorithm.dynamic_sampling=false", "model.dtype=bfloat16",
                             "train.lr=1e-6", "model.device=cpu"))
    seen = []
    layer = next(m for m in tr.model.modules() if isinstance(m, torch.nn.Linear))
    layer.register_forward_hook(lambda module, args, out: seen.append(out.dtype))
    before = weights(tr.model)
    m = tr.step()
    assert m["optimizer_steps"] == 1
    assert all(p.dtype == torch.float32 for p in tr.model.parameters())
    assert seen and set(seen) == {torch.bfloat16}  # generation and update both computed in bf16
    after = weights(tr.model)
    changed = sum(int((before[k] != after[k]).sum()) for k in before)
    assert changed / sum(v.numel() for v in before.values()) > 0.9


def test_top_p_recomputes_old_logprobs_so_the_ratio_starts_at_one(tmp_path):
    # the engine's log-probs are of the renormalised nucleus: used as the old log-probs, the ratio
    # started at ~0.7 and clipped 44% of the tokens before any update
    tr = Trainer(make_config(tmp_path, "train.total_steps=1", "algorithm.dynamic_sampling=false", "sampling.top_p=0.7",
                             "sampling.max_new_tokens=8"))
    m = tr.step()
    assert abs(m["ratio_mean"] - 1.0) < 1e-4 and m["clip_frac"] == 0.0
    with pytest.raises(ConfigError, match="old_logprobs=engine with sampling.top_p"):
        make_config(tmp_path, "sampling.top_p=0.7", "algorithm.old_logprobs=engine")


def test_dropout_is_off_so_update_logprobs_are_the_policys(tmp_path):
    # GPT-2 configs default to dropout 0.1: the engine samples without it, the update ran with it
    from transformers import GPT2Config, GPT2LMHeadModel

    from rlvr.trainers.tiny import build_tiny_tokenizer

    tok = build_tiny_tokenizer()
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_embd=32, n_layer=1, n_head=2, n_positions=128,
                                       eos_token_id=tok.eos_token_id, bos_token_id=tok.eos_token_id))
    model.generation_config.eos_token_id = tok.eos_token_id
    assert model.config.resid_pdrop == 0.1
    tr = Trainer(make_config(tmp_path, "train.total_steps=1", "algorithm.dynamic_sampling=false", "sampling.max_new_tokens=8"),
                 model=model, tokenizer=tok)
    m = tr.step()
    assert m["logprob_diff_first_mb"] < 1e-4 and abs(m["ratio_mean"] - 1.0) < 1e-4


def test_equal_non_binary_rewards_never_touch_weights(tmp_path):
    # every answer scores 0.7: without dynamic sampling the batch reaches the update, and float32
    # rounding in the group mean used to become an advantage of the same sign for every sample
    rlvr.register("rlvr/AlwaysSeventy-v0", generator=lambda rng: {"question": f"7+{int(rng.integers(10**5, 10**6))}=", "answer": "8"},
                  verifier=lambda gold, completion: 0.7, force=True)
    tr = Trainer(make_config(tmp_path, "train.total_steps=1", "algorithm.dynamic_sampling=false",
                             "env.id=rlvr/AlwaysSeventy-v0", "train.group_size=8"))
    before = weights(tr.model)
    m = tr.step()
    assert m["skipped"] == 1 and "all advantages are 0" in m["skip_reason"]
    assert all(torch.equal(before[k], v) for k, v in weights(tr.model).items())


def test_process_grpo_sees_the_overlong_punishment(tmp_path):
    from rlvr.trainers.rollout import Trajectory

    def episode(n_response):  # a 2-token prompt, one turn, reward 1
        ids = list(range(2 + n_response))
        return Trajectory(task_id="t", group=0, index=0, token_ids=ids, loss_mask=[0, 0] + [1] * n_response,
                          logprobs=[0.0] * len(ids), prompt_len=2, turn_ends=[len(ids) - 1], turn_rewards=[1.0],
                          total_reward=1.0)

    group = [episode(2), episode(8)]  # the second ran to max_new_tokens: punished by -1 (cache of 4)
    for estimator in ("grpo", "process_grpo"):
        tr = Trainer(make_config(tmp_path / estimator, "sampling.max_new_tokens=8", "algorithm.overlong_cache_len=4",
                                 "train.group_size=2", "train.batch_groups=1", f"algorithm.estimator={estimator}"))
        assert [tr.shaped_reward(t) for t in group] == [1.0, 0.0]
        assert not tr._has_signal(group)  # both right: dynamic sampling judges the task reward, not the overlong shaping
        batch = tr._batch(group)
        rewards = torch.tensor([tr.shaped_reward(t) for t in group], dtype=torch.float64)
        adv = tr._advantages(group, rewards, batch["mask"], batch["sampling_lp"], None)
        first = [float(adv[i][batch["mask"][i] > 0][0]) for i in range(2)]
        assert first[0] > 0 > first[1], (estimator, first)


def test_a_gradient_left_over_never_joins_an_update(tmp_path):
    """The warm-up zeroed gradients before each backward, so its last gradient stayed on the weights
    and was added to the first RL update (as large as the RL gradient itself)."""
    common = ["algorithm.dynamic_sampling=false", "train.total_steps=1", "warmup.steps=2", "warmup.batch_size=4"]
    stale = Trainer(make_config(tmp_path / "stale", *common))  # each seeds the RNGs: build, then run
    stale.run_warmup()
    assert all(p.grad is None for p in stale.model.parameters())  # the warm-up leaves none behind
    for p in stale.model.parameters():  # and an update clears whatever else was left
        p.grad = torch.ones_like(p)
    stale.step()
    clean = Trainer(make_config(tmp_path / "clean", *common))
    clean.run_warmup()
    clean.step()
    wa, wb = weights(stale.model), weights(clean.model)
    assert all(torch.allclose(wa[k], wb[k], atol=1e-6) for k in wa)


def test_the_logged_loss_does_not_depend_on_micro_batches(tmp_path):
    """Each micro-batch's loss is its share of the mini-batch's loss; weighting it again by its tokens
    logged the true loss divided by about the number of micro-batches (the gradients were right)."""
    common = ["algorithm.dynamic_sampling=false", "train.total_steps=1", "train.batch_groups=4", "train.group_size=3",
              "algorithm.entropy_coef=0.1"]  # (an entropy term: the policy loss alone is ~0 at the first step)
    whole = Trainer(make_config(tmp_path / "whole", *common)).step()
    split = Trainer(make_config(tmp_path / "split", *common, "train.micro_batch_size=1")).step()
    assert whole["reward_mean"] == split["reward_mean"] and abs(whole["loss"]) > 0.05, whole["loss"]
    assert split["loss"] == pytest.approx(whole["loss"], rel=1e-4)


def test_entropy_is_of_the_distribution_sampled_from(tmp_path, monkeypatch):
    """The entropy (metric and bonus) is taken at the sampling temperature, as the log-probs are:
    it was of softmax(logits), another distribution than the one sampled and optimised."""
    seen = []
    real = trainer_mod.token_entropy

    def recording(logits, **kwargs):
        seen.append(kwargs.get("temperature", 1.0))
        return real(logits, **kwargs)

    monkeypatch.setattr(trainer_mod, "token_entropy", recording)
    for coef in ("0", "0.01"):  # the metric alone, and the bonus in the loss
        seen.clear()
        Trainer(make_config(tmp_path / coef, "sampling.temperature=0.5", "algorithm.dynamic_sampling=false",
                            f"algorithm.entropy_coef={coef}")).step()
        assert seen and set(seen) == {0.5}, (coef, seen)


def test_rows_trained_frac_counts_the_rows_forwarded(tmp_path):
    """With an entropy (or KL-in-loss) term every row is forwarded, so rows_trained_frac is 1; it
    reported the fraction of rows with a non-zero advantage, which were not the only ones trained."""
    common = ["algorithm.dynamic_sampling=false", "train.total_steps=1", "train.batch_groups=6", "train.group_size=3"]
    plain = Trainer(make_config(tmp_path / "plain", *common)).step()
    bonus = Trainer(make_config(tmp_path / "bonus", *common, "algorithm.entropy_coef=0.01")).step()
    assert 0 < plain["rows_trained_frac"] < 1, plain["rows_trained_frac"]  # zero-advantage rows are skipped
    assert bonus["rows_trained_frac"] == 1.0
