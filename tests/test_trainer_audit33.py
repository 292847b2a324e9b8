"""Trainer (audit 33): a resumed run that started from a model passed in (``Trainer(model=...)``) used
the config's model as its KL reference; ``algorithm.ds_tol=0`` kept groups whose rewards are all
equal (float rounding gives them a std of ~1e-17) and, with ``mask_truncated``, groups whose samples
the loss sees sit exactly at the mean; ``eval.samples > 1`` at ``eval.temperature=0`` was ignored
without a word."""

from __future__ import annotations

import shutil
import warnings

import pytest
import torch

import rlvr
from rlvr.trainers.checkpoint import latest_checkpoint, list_checkpoints, load_trainer_state
from rlvr.trainers.config import ConfigWarning, load_config
from rlvr.trainers.dynamic_sampling import group_has_signal, process_group_has_signal, signal_mask
from rlvr.trainers.rollout import Trajectory
from rlvr.trainers.trainer import ResumeError, Trainer, load_policy

# a task a random tiny model solves now and then (any digit in the answer), so groups carry signal
rlvr.register("rlvr/SayADigit-v0", generator=lambda rng: {"question": f"7+{int(rng.integers(10**5, 10**6))}=", "answer": "8"},
              verifier=lambda gold, completion: float(any(c.isdigit() for c in completion)), force=True)


def make_config(out, *extra):
    return load_config(None, [
        f"log.output_dir={out}", "log.progress=false", "log.tensorboard=false", "log.plot=false",
        "env.id=rlvr/SayADigit-v0", "sampling.max_new_tokens=4", "train.batch_groups=2", "train.group_size=2",
        "train.lr=3e-3", "model.tiny_hidden_size=32", "model.tiny_layers=1", "algorithm.dynamic_sampling=false",
        *extra])


def weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ------------------------------------------------------------------ 1. the KL reference of a given model


KL = ("algorithm.kl_coef=0.1",)


def given_model(out):
    """The config's tiny model, moved away from it: a starting point the config cannot rebuild."""
    model, tok = load_policy(make_config(out))
    torch.manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.5 * torch.randn_like(p))
    return model, tok


def train_given(out, *extra):
    model, tok = given_model(out)
    start = weights(model)
    tr = Trainer(make_config(out, *KL, *extra), model=model, tokenizer=tok)
    try:
        tr.train()
    finally:
        tr.close()
    return start


def test_a_resume_keeps_the_given_model_as_kl_reference(tmp_path):
    start = train_given(tmp_path, "train.total_steps=1")
    assert load_trainer_state(latest_checkpoint(tmp_path))["reference"] == "given_model"
    assert (tmp_path / "warmup_model" / "config.json").is_file()
    tr = Trainer(make_config(tmp_path, *KL, "train.total_steps=2"), resume=True)  # what `rlvr train --resume` does
    try:
        assert tr.reference == "given_model"
        assert same(weights(tr.ref_model), start)  # (it was the config's model.name_or_path)
        tr.train()
    finally:
        tr.close()
    assert load_trainer_state(latest_checkpoint(tmp_path))["reference"] == "given_model"


def test_the_given_reference_is_saved_once_not_by_every_checkpoint(tmp_path):
    train_given(tmp_path, "train.total_steps=3", "log.save_every=1", "log.keep_last=3")
    (_, first), *later = list_checkpoints(tmp_path)
    saved = (tmp_path / "warmup_model" / "model.safetensors").stat().st_mtime_ns
    assert later and saved <= (first / "trainer_state.pt").stat().st_mtime_ns  # written before step 1's, never again
    assert all(load_trainer_state(path)["reference"] == "given_model" for _, path in later)


def test_a_missing_given_reference_stops_the_resume_naming_it(tmp_path):
    train_given(tmp_path, "train.total_steps=1")
    shutil.rmtree(tmp_path / "warmup_model")
    with pytest.raises(ResumeError, match=r"KL reference .*warmup_model \(the model passed to Trainer\(model=\.\.\.\)\) "
                                          r"is missing; restore it"):
        Trainer(make_config(tmp_path, *KL, "train.total_steps=2"), resume=True)
    (tmp_path / "warmup_model").mkdir()
    (tmp_path / "warmup_model" / "config.json").write_text("{not json")
    with pytest.raises(ResumeError, match=r"KL reference .*warmup_model .* cannot be loaded"):
        Trainer(make_config(tmp_path, *KL, "train.total_steps=2"), resume=True)


def test_a_checkpoint_from_before_given_model_still_resumes_as_it_did(tmp_path):
    """A run dir written before "given_model" existed: reference "initial" and no saved reference.
    The resume takes the config's model as before (there is nothing else to take)."""
    train_given(tmp_path, "train.total_steps=1")
    ckpt = latest_checkpoint(tmp_path)
    state = load_trainer_state(ckpt)
    state["reference"] = "initial"
    torch.save(state, ckpt / "trainer_state.pt")
    shutil.rmtree(tmp_path / "warmup_model", ignore_errors=True)
    tr = Trainer(make_config(tmp_path, *KL, "train.total_steps=2"), resume=True)
    try:
        assert tr.reference == "initial"
        assert same(weights(tr.ref_model), weights(load_policy(make_config(tmp_path))[0]))
    finally:
        tr.close()


def test_no_reference_is_saved_without_kl_or_when_the_config_rebuilds_it(tmp_path):
    model, tok = given_model(tmp_path / "a")
    tr = Trainer(make_config(tmp_path / "a", "train.total_steps=1"), model=model, tokenizer=tok)  # kl_coef 0
    tr.train()
    tr.close()
    assert not (tmp_path / "a" / "warmup_model").exists()
    assert load_trainer_state(latest_checkpoint(tmp_path / "a"))["reference"] == "initial"
    tr = Trainer(make_config(tmp_path / "b", *KL, "train.total_steps=1"))  # the config's model
    tr.train()
    tr.close()
    assert not (tmp_path / "b" / "warmup_model").exists()
    assert load_trainer_state(latest_checkpoint(tmp_path / "b"))["reference"] == "initial"


# ------------------------------------------------------------------ 2. ds_tol=0 and all-equal rewards


@pytest.mark.parametrize("value", [0.1, 0.7, 1 / 3])
def test_all_equal_rewards_have_no_signal_even_at_tol_0(value):
    assert torch.tensor([0.1] * 3, dtype=torch.float64).std(unbiased=False).item() > 0  # the rounding noise
    for n in (3, 6, 7):
        group = [value] * n
        for estimator in ("grpo", "dr_grpo", "rloo", "reinforce++-baseline"):
            assert not group_has_signal(group, tol=0.0, estimator=estimator)
        assert not signal_mask(torch.tensor([group]), tol=0.0)[0]
        assert not process_group_has_signal([[(0, v)] for v in group], tol=0.0)
    # a real difference, however small, is signal at tol 0 (and not at the default tol)
    assert group_has_signal([value, value, value + 1e-9], tol=0.0)
    assert signal_mask(torch.tensor([[value, value], [value, value + 1e-9]], dtype=torch.float64), tol=0.0).tolist() == [False, True]
    assert not group_has_signal([value, value, value + 1e-9])


def episode(n, finish, reward, *, index=0, group=0):
    ids = [5, 6] + [10 + j for j in range(n)]
    return Trajectory(task_id="t", group=group, index=index, token_ids=ids, loss_mask=[0, 0] + [1] * n,
                      logprobs=[0.0] * len(ids), prompt_len=2, turn_ends=[len(ids) - 1], turn_rewards=[reward],
                      total_reward=reward, finish_reasons=[finish], truncated=finish == "length")


def test_trainer_has_signal_at_tol_0(tmp_path):
    tr = Trainer(make_config(tmp_path, "algorithm.dynamic_sampling=true", "algorithm.ds_tol=0",
                             "train.group_size=3"))
    try:
        assert not tr._has_signal([episode(3, "stop", 0.1, index=i) for i in range(3)])
        assert tr._has_signal([episode(3, "stop", 0.1), episode(3, "stop", 0.1, index=1), episode(3, "stop", 0.2, index=2)])
    finally:
        tr.close()
    tr = Trainer(make_config(tmp_path / "m", "algorithm.dynamic_sampling=true", "algorithm.ds_tol=0",
                             "algorithm.mask_truncated=true", "train.group_size=3"))
    try:
        # rewards 0, 0.2 (both truncated) and 0.1: the sample the loss sees is exactly at the mean
        # (0.2 is 2 * 0.1 in floats), while the float mean (0 + 0.2 + 0.1) / 3 is 0.10000000000000002
        group = [episode(8, "length", 0.0), episode(8, "length", 0.2, index=1), episode(3, "stop", 0.1, index=2)]
        assert sum(t.total_reward for t in group) / 3 != 0.1
        assert not tr._has_signal(group)
        group[2] = episode(3, "stop", 0.3, index=2)  # off the mean: signal
        assert tr._has_signal(group)
        assert not tr._has_signal([episode(8, "length", 0.1), episode(3, "stop", 0.1, index=1), episode(3, "stop", 0.1, index=2)])
    finally:
        tr.close()


# ------------------------------------------------------------------ 3. eval.samples under greedy decoding


def test_eval_samples_at_temperature_0_warns_and_says_what_to_set():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_config(None, ["eval.num_tasks=10", "eval.samples=8"])
    texts = [str(w.message) for w in caught if issubclass(w.category, ConfigWarning)]
    assert any("eval.samples=8 is ignored: eval.temperature is 0" in t and "eval.temperature > 0" in t
               and "eval.samples=1" in t for t in texts), texts
    for ok in (["eval.samples=8", "eval.temperature=1.0"], ["eval.samples=1"]):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            load_config(None, ["eval.num_tasks=10", *ok])
        assert not [w for w in caught if "eval.samples" in str(w.message)]
