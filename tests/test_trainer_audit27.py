"""Trainer (audit 27): k1 in the loss is refused (its expected gradient is 0) and what k2 / k3 pull
towards as losses; a mini-batch without learning signal forwards nothing (rows_trained_frac and the
forward statistics count only the rows forwarded) yet takes the same optimizer step; the skip reason
when mask_truncated masks every row; a model given to an engine with its own copy (vLLM) reaches it
before the first rollout."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from rlvr.trainers.config import ConfigError, load_config
from rlvr.trainers.hf_engine import HFEngine
from rlvr.trainers.losses import kl_estimate, logprobs_from_logits
from rlvr.trainers.rollout import Trajectory
from rlvr.trainers.trainer import Trainer, load_policy
from conftest import model_weights, register_say_a_digit, say_a_digit_config

# a task a random tiny model solves now and then (any digit in the answer), so groups carry signal
register_say_a_digit()


def make_config(out, *extra):
    return say_a_digit_config(out, "log.jsonl=false", "train.batch_groups=4", *extra)


weights = model_weights


# ------------------------------------------------------------------ 1. KL estimators in the loss


def test_k1_in_the_loss_is_refused_naming_the_fix():
    with pytest.raises(ConfigError, match=r"algorithm\.kl_estimator=k1 with algorithm\.kl_in=loss .*expected gradient"
                                          r".* use kl_estimator=k3 .* or k2 in the loss, or keep k1 with "
                                          r"algorithm\.kl_in=reward"):
        load_config(None, ["algorithm.kl_coef=0.1", "algorithm.kl_estimator=k1"])
    ok = [("k1", "reward"), ("k2", "loss"), ("k3", "loss"), ("k2", "reward"), ("k3", "reward")]
    for kind, where in ok:
        a = load_config(None, ["algorithm.kl_coef=0.1", f"algorithm.kl_estimator={kind}", f"algorithm.kl_in={where}"]).algorithm
        assert (a.kl_estimator, a.kl_in) == (kind, where)
    # no KL term at all (kl_coef 0): nothing to refuse
    assert load_config(None, ["algorithm.kl_estimator=k1"]).algorithm.kl_estimator == "k1"


def expected_loss_gradient(kind, logits, ref_logits):
    """E_{tok ~ pi}[grad kl_estimate(tok)], exactly, over the whole vocabulary: the KL term of the
    loss on the policy's own samples (the first pass of a step, where pi == pi_old)."""
    probs = torch.softmax(logits, -1).detach()
    total = torch.zeros_like(logits)
    for tok in range(logits.shape[-1]):
        target = torch.tensor([[tok]])
        lp = logprobs_from_logits(logits[None, None], target)
        ref = logprobs_from_logits(ref_logits[None, None], target)
        g, = torch.autograd.grad(kl_estimate(lp, ref, kind).sum(), logits)
        total += probs[tok] * g
    return total


@pytest.mark.parametrize("kind,target", [("k1", "zero"), ("k2", "reverse"), ("k3", "forward")])
def test_kl_estimators_expected_gradients_as_losses(kind, target):
    """The docstring of kl_estimate: as a loss, k2 pulls along KL(pi || ref), k3 along KL(ref || pi),
    and k1 not at all (E_pi[grad log pi] = 0)."""
    torch.manual_seed(0)
    ref_logits = torch.randn(5, dtype=torch.float64)
    logits = torch.randn(5, dtype=torch.float64, requires_grad=True)
    log_pi, log_ref = torch.log_softmax(logits, -1), torch.log_softmax(ref_logits, -1)
    kl = {"zero": 0.0 * logits.sum(),
          "reverse": (log_pi.exp() * (log_pi - log_ref)).sum(),  # KL(pi || ref)
          "forward": (log_ref.exp() * (log_ref - log_pi)).sum()}[target]  # KL(ref || pi)
    want, = torch.autograd.grad(kl, logits)
    got = expected_loss_gradient(kind, logits, ref_logits)
    assert torch.allclose(got, want, atol=1e-6), (got, want)  # (log-probs are taken in float32)
    if target != "zero":
        assert want.abs().max() > 0.05  # (a real pull, not a vacuous match)


# ------------------------------------------------------------------ 2. mini-batches without signal


def count_forwarded_rows(tr):
    """Record the rows of each of the update's forward passes (those asking for logits; the
    scoring passes do not) by wrapping the real `_forward`."""
    seen: list[int] = []
    real = tr._forward

    def forward(model, batch, rows, want_logits=False):
        if want_logits:
            seen.append(len(rows))
        return real(model, batch, rows, want_logits)

    tr._forward = forward
    return seen


def test_a_mini_batch_without_signal_forwards_nothing_and_steps_as_without_skipping(tmp_path):
    """With one group per mini-batch, a group whose rewards are all equal was forwarded whole:
    rows_trained_frac under-reported the rows forwarded and the statistics covered zero rows.
    Skipping it must still take its optimizer step (on a zero gradient, AdamW's momentum and weight
    decay move the weights), as skip_zero_advantage=false does."""
    common = ["train.batch_groups=8", "train.mini_batches=8", "train.weight_decay=0.1"]
    skip = Trainer(make_config(tmp_path / "skip", *common))  # each seeds the RNGs: build, then run
    seen = count_forwarded_rows(skip)
    rows, forwarded = [], []
    for _ in range(3):
        seen.clear()
        rows.append(skip.step())
        forwarded.append(list(seen))
    full = Trainer(make_config(tmp_path / "full", *common, "train.skip_zero_advantage=false"))
    rows_full = [full.step() for _ in range(3)]
    B = 16
    for m, f in zip(rows, forwarded):
        assert m["rows_trained_frac"] == sum(f) / B, (m["rows_trained_frac"], f)
        assert all(n > 0 for n in f)  # no empty forward pass
        assert all(math.isfinite(v) for v in m.values() if isinstance(v, float)), m
    # some step had a mini-batch without signal (fewer forward passes than mini-batches), and still
    # took all its optimizer steps
    assert any(len(f) < 8 for f in forwarded), forwarded
    for a, b in zip(rows, rows_full):
        assert a["reward_mean"] == b["reward_mean"] and a["optimizer_steps"] == b["optimizer_steps"] == 8
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-4, abs=1e-6)
        assert a["grad_norm"] == pytest.approx(b["grad_norm"], rel=1e-4, abs=1e-6)
    # (the batches differ in shape, so float sums differ in order: see
    # test_skipping_zero_advantage_rows_gives_the_same_update; a missing step moves weights by ~lr)
    wa, wb = weights(skip.model), weights(full.model)
    assert all(torch.allclose(wa[k], wb[k], atol=3e-5) for k in wa), \
        {k: (wa[k] - wb[k]).abs().max().item() for k in wa}
    skip.close(), full.close()


def truncated_episode(reward, index):
    ids = [5, 6, 10, 11, 12]
    return Trajectory(task_id="t", group=0, index=index, token_ids=ids, loss_mask=[0, 0, 1, 1, 1],
                      logprobs=[0.0] * len(ids), prompt_len=2, turn_ends=[4], turn_rewards=[reward],
                      total_reward=reward, finish_reasons=["length"], truncated=True)


def test_skip_reason_says_mask_truncated_masked_every_episode(tmp_path):
    tr = Trainer(make_config(tmp_path, "train.batch_groups=1", "algorithm.mask_truncated=true",
                             "algorithm.old_logprobs=recompute"))
    stats = tr._update([truncated_episode(1.0, 0), truncated_episode(0.0, 1)])  # rewards differ: only the mask is empty
    assert stats["skipped"] == 1
    assert "mask_truncated" in stats["skip_reason"] and "all advantages are 0" not in stats["skip_reason"]
    tr.close()


# ------------------------------------------------------------------ 3. a given model and an engine of its own


def test_a_given_model_reaches_an_engine_with_its_own_copy_before_the_first_rollout(tmp_path, monkeypatch):
    """engine.name=vllm loads model.name_or_path itself: a model passed as model= (e.g. warmed up)
    must be pushed to it before step 1's rollouts, which otherwise sampled the weights on disk. A
    stand-in for VLLMEngine (the hf engine over its own copy loaded from the folder) records it."""
    import rlvr.trainers.vllm_engine as vllm_engine
    from transformers import AutoModelForCausalLM

    base, tok = load_policy(make_config(tmp_path / "x"))
    base.save_pretrained(tmp_path / "base")
    given = copy.deepcopy(base)
    with torch.no_grad():
        for p in given.parameters():
            p.add_(0.5 * torch.randn_like(p))
    events = []

    class StandIn(HFEngine):
        def __init__(self, name, **kwargs):
            super().__init__(AutoModelForCausalLM.from_pretrained(name), tok)  # what vLLM loads: the folder

        def generate(self, prompts, n, sampling):
            same = all(torch.equal(a, b) for a, b in zip(self.model.state_dict().values(), given.state_dict().values()))
            events.append(("generate", same))
            return super().generate(prompts, n, sampling)

        def load_weights(self, w):
            events.append(("load_weights", w is given))
            super().load_weights(w)

    monkeypatch.setattr(vllm_engine, "VLLMEngine", StandIn)
    tr = Trainer(make_config(tmp_path / "out", "engine.name=vllm", f"model.name_or_path={tmp_path / 'base'}"),
                 model=given, tokenizer=tok)
    assert events == [("load_weights", True)]
    tr.step()
    assert events[1] == ("generate", True)
    tr.close()


def test_the_hf_engine_sharing_the_given_model_gets_no_needless_load(tmp_path, monkeypatch):
    loads = []
    real = HFEngine.load_weights
    monkeypatch.setattr(HFEngine, "load_weights", lambda self, w: (loads.append(w), real(self, w)))
    model, tok = load_policy(make_config(tmp_path / "x"))
    tr = Trainer(make_config(tmp_path / "out"), model=model, tokenizer=tok)
    assert tr.engine.model is tr.model and loads == []
    tr.close()
