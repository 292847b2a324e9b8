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

# a task a random model solves now and then (any digit in the answer), so groups carry signal
rlvr.register("rlvr/SayADigit-v0", generator=lambda rng: {"question": "7+1=", "answer": "8"},
              verifier=lambda gold, completion: float(any(c.isdigit() for c in completion)), force=True)
ENV = "env.id=rlvr/SayADigit-v0"


def make_config(out, *extra):
    return load_config(None, [
        f"log.output_dir={out}", "log.progress=false", "log.tensorboard=false", ENV,
        "sampling.max_new_tokens=4", "train.batch_groups=4", "train.group_size=4", "train.lr=3e-3",
        "algorithm.ds_max_extra_rounds=1", "model.tiny_hidden_size=32", "model.tiny_layers=1", *extra,
    ])


def weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


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
    ("algorithm.estimator=dr_grpo", "algorithm.loss_agg=seq-mean-token-sum-norm", "algorithm.kl_coef=0.1", "algorithm.kl_estimator=k1"),
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
    wa, wb = weights(skip.model), weights(full.model)
    assert all(torch.allclose(wa[k], wb[k], atol=1e-6) for k in wa)
