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

from rlvr.trainers.checkpoint import latest_checkpoint, list_checkpoints, load_trainer_state
from rlvr.trainers.config import ConfigWarning, load_config
from rlvr.trainers.dynamic_sampling import group_has_signal, process_group_has_signal, signal_mask
from rlvr.trainers.rollout import Trajectory
from rlvr.trainers.trainer import ResumeError, Trainer, load_policy
from conftest import model_weights, register_say_a_digit, say_a_digit_config

# a task a random tiny model solves now and then (any digit in the answer), so groups carry signal
register_say_a_digit()


def make_config(out, *extra):
    return say_a_digit_config(out, "log.plot=false", "train.batch_groups=2", *extra)


weights = model_weights


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
        # rewards 0, 0.2 (both truncated) and 0.1: the sample the loss sees is exactly at the exact mean,
        # but the update's float mean is 0.10000000000000002, so it gets an advantage of -1.7e-16:
        # the loss sees it, and at ds_tol=0 that is signal (the decision follows the update: audit 33b)
        group = [episode(8, "length", 0.0), episode(8, "length", 0.2, index=1), episode(3, "stop", 0.1, index=2)]
        assert sum(t.total_reward for t in group) / 3 != 0.1
        assert tr._has_signal(group)
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


# ------------------------------------------------------------------ audit 33b: review of the above


def test_a_resume_passed_another_model_keeps_the_config_model_as_reference(tmp_path):
    """A run started from the config's model (reference "initial") resumed with a different model
    passed in: the reference stays the model the run started from, not the one passed now."""
    tr = Trainer(make_config(tmp_path, *KL, "train.total_steps=1"))
    tr.train()
    tr.close()
    assert load_trainer_state(latest_checkpoint(tmp_path))["reference"] == "initial"
    other, tok = given_model(tmp_path)
    passed = weights(other)
    tr = Trainer(make_config(tmp_path, *KL, "train.total_steps=2"), model=other, tokenizer=tok, resume=True)
    try:
        assert tr.reference == "initial"
        assert same(weights(tr.ref_model), weights(load_policy(make_config(tmp_path))[0]))
        assert not same(weights(tr.ref_model), passed)
        tr.train()
    finally:
        tr.close()
    assert load_trainer_state(latest_checkpoint(tmp_path))["reference"] == "initial"


def test_a_resume_whose_initial_reference_does_not_fit_is_refused(tmp_path):
    tr = Trainer(make_config(tmp_path, *KL, "train.total_steps=1"))
    tr.train()
    tr.close()
    model, tok = given_model(tmp_path)
    # the config now names another architecture than the run started from (allowed by allow_config_change)
    with pytest.raises(ResumeError, match=r"KL reference is the model it started from, model.name_or_path='tiny' "
                                          r"\(not the model passed"):
        Trainer(make_config(tmp_path, *KL, "train.total_steps=2", "model.tiny_hidden_size=16"), model=model,
                tokenizer=tok, resume=True, allow_config_change=True)


def _advantages_seen(tr, group):
    """Whether the update gives a sample the loss sees a non-zero advantage (the trainer's own code)."""
    batch = tr._batch(group)
    rewards = torch.tensor([tr.shaped_reward(t) for t in group], dtype=torch.float64)
    adv = tr._advantages(group, rewards, batch["mask"], None, None).to(batch["mask"].dtype)
    return bool((adv.abs() * batch["mask"]).sum() > 0)


REWARD_GROUPS = [(0.1, 0.4, 0.25), (0.0, 0.2, 0.1), (0.1, 0.5, 0.3), (0.1, 0.9, 0.5), (0.3, 0.6, 0.45),
                 (1.0, 0.0, 0.5), (0.0, 1.0, 0.0), (0.7, 0.7, 0.7), (0.2, 0.2, 0.3), (1 / 3, 2 / 3, 0.5)]


@pytest.mark.parametrize("estimator", ["grpo", "dr_grpo", "rloo", "process_grpo", "reinforce++-baseline"])
def test_has_signal_at_tol_0_follows_the_updates_advantages(tmp_path, estimator):
    """ds_tol=0 with mask_truncated: a group with truncated samples is kept exactly when the update
    gives a sample the loss sees a non-zero advantage ((0.1, 0.4, 0.25): the seen 0.25 gets exactly 0
    from the float mean and was kept by the exact mean; (0, 0.2, 0.1): the other way round)."""
    tr = Trainer(make_config(tmp_path, "algorithm.dynamic_sampling=true", "algorithm.ds_tol=0", "algorithm.mask_truncated=true",
                             "train.group_size=3", f"algorithm.estimator={estimator}"))
    try:
        decided = {}
        for rs in REWARD_GROUPS:
            group = [episode(8, "length", rs[0]), episode(8, "length", rs[1], index=1), episode(3, "stop", rs[2], index=2)]
            decided[rs] = tr._has_signal(group)
            assert decided[rs] == _advantages_seen(tr, group), rs
        assert not decided[(0.1, 0.4, 0.25)] and not decided[(1.0, 0.0, 0.5)]
        assert decided[(0.0, 0.2, 0.1)] and decided[(0.0, 1.0, 0.0)] and not decided[(0.7, 0.7, 0.7)]
    finally:
        tr.close()


def test_has_signal_compares_ds_tol_with_the_advantage(tmp_path):
    tr = Trainer(make_config(tmp_path, "algorithm.dynamic_sampling=true", "algorithm.ds_tol=0.05", "algorithm.mask_truncated=true",
                             "train.group_size=3", "algorithm.estimator=dr_grpo"))
    try:
        def group(seen):
            return [episode(8, "length", 0.0), episode(8, "length", 1.0, index=1), episode(3, "stop", seen, index=2)]
        assert not tr._has_signal(group(0.45))  # advantage 0.45 - 0.4833 = -0.033
        assert tr._has_signal(group(0.6))  # 0.6 - 0.5333 = 0.067
    finally:
        tr.close()


def _remote_code_model(folder, name):
    """A tiny model with custom code (``auto_map``, loaded with ``trust_remote_code``) saved in ``folder``."""
    import json

    from transformers import AutoModelForCausalLM

    folder.mkdir(parents=True)
    (folder / f"configuration_{name}.py").write_text(
        f"from transformers import LlamaConfig\nclass {name.title()}Config(LlamaConfig):\n    model_type = '{name}'\n")
    (folder / f"modeling_{name}.py").write_text(
        f"from transformers import LlamaForCausalLM\nfrom .configuration_{name} import {name.title()}Config\n"
        f"class {name.title()}ForCausalLM(LlamaForCausalLM):\n    config_class = {name.title()}Config\n")
    base, tok = load_policy(make_config(folder.parent / "unused"))
    config = base.config.to_dict()
    config.update(model_type=name, architectures=[f"{name.title()}ForCausalLM"],
                  auto_map={"AutoConfig": f"configuration_{name}.{name.title()}Config",
                            "AutoModelForCausalLM": f"modeling_{name}.{name.title()}ForCausalLM"})
    base.save_pretrained(folder)
    (folder / "config.json").write_text(json.dumps(config))
    tok.save_pretrained(folder)
    return AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True), tok


def test_a_remote_code_run_overwrites_and_resumes(tmp_path):
    """A passed-in trust_remote_code model with KL: warmup_model/ gets its Python files, which are the
    run's own (log.overwrite accepts the folder), and a resume loads checkpoint and reference with
    model.trust_remote_code (it used to prompt, then call the checkpoint damaged)."""
    from rlvr.trainers.runs import foreign_files

    src = tmp_path / "src" / "tinyremote33"
    model, tok = _remote_code_model(src, "tinyremote33")
    out = tmp_path / "out"
    extra = (*KL, f"model.name_or_path={src}", "model.trust_remote_code=true")
    tr = Trainer(make_config(out, *extra, "train.total_steps=1"), model=model, tokenizer=tok)
    tr.train()
    tr.close()
    assert {"configuration_tinyremote33.py", "modeling_tinyremote33.py"} <= {p.name for p in (out / "warmup_model").iterdir()}
    assert foreign_files(out) == []
    (out / "warmup_model" / "notes.py").write_text("# mine\n")  # a .py file no save wrote stays foreign
    assert foreign_files(out) == [out / "warmup_model" / "notes.py"]
    (out / "warmup_model" / "notes.py").unlink()
    tr = Trainer(make_config(out, *extra, "train.total_steps=2"), resume=True)
    try:
        assert tr.reference == "given_model"
        tr.train()
    finally:
        tr.close()
    tr = Trainer(make_config(out, *extra, "train.total_steps=1", "log.overwrite=true"))  # rlvr's own folder
    try:
        tr.train()
    finally:
        tr.close()
    assert not (out / "warmup_model").exists()  # removed with the previous run (the config's model needs none)


def test_a_remote_code_checkpoint_without_trust_remote_code_says_so(tmp_path):
    src = tmp_path / "src" / "tinyremote33b"
    model, tok = _remote_code_model(src, "tinyremote33b")
    out = tmp_path / "out"
    tr = Trainer(make_config(out, "train.total_steps=1"), model=model, tokenizer=tok)  # config: tiny, no remote code
    tr.train()
    tr.close()
    with pytest.raises(ResumeError, match=r"has custom code .* set model.trust_remote_code=true") as caught:
        Trainer(make_config(out, "train.total_steps=2"), model=model, tokenizer=tok, resume=True)
    assert "damaged" not in str(caught.value)


def test_python_files_of_a_model_folder_without_auto_map_are_foreign(tmp_path):
    from rlvr.trainers.runs import foreign_files

    model, _ = load_policy(make_config(tmp_path))
    model.save_pretrained(tmp_path / "warmup_model")
    (tmp_path / "warmup_model" / "modeling_x.py").write_text("")
    assert foreign_files(tmp_path) == [tmp_path / "warmup_model" / "modeling_x.py"]


# ------------------------------------------------------------------ the reference is saved as a checkpoint is


def test_the_given_reference_is_fsynced_and_renamed_into_place(tmp_path, monkeypatch):
    import os

    synced, real_fsync = [], os.fsync

    def fsync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    (tmp_path / ".tmp-warmup_model-killed").mkdir()  # left by a save killed midway
    train_given(tmp_path, "train.total_steps=1")
    saved = [p for p in synced if "/.tmp-warmup_model-" in p]
    assert any(p.endswith("/model.safetensors") for p in saved) and any(p.endswith("/config.json") for p in saved)
    assert str(tmp_path) in synced  # the rename into the output directory
    assert sorted(p.name for p in tmp_path.iterdir() if "warmup_model" in p.name) == ["warmup_model"]


def test_a_failed_reference_save_names_warmup_model_and_leaves_nothing(tmp_path):
    import errno
    import os

    from rlvr.trainers.trainer import CheckpointSaveError

    model, tok = given_model(tmp_path)
    tr = Trainer(make_config(tmp_path, *KL, "train.total_steps=1"), model=model, tokenizer=tok)

    def full(path, **kwargs):  # a disk that fills up halfway through the weights
        os.makedirs(path, exist_ok=True)
        (tmp_path / "x").write_text("")
        open(os.path.join(path, "config.json"), "w").write("{}")
        raise OSError(errno.ENOSPC, "No space left on device", os.path.join(path, "model.safetensors"))

    tr.ref_model.save_pretrained = full
    try:
        with pytest.raises(CheckpointSaveError, match=r"saving the run's KL reference .* to \S+/warmup_model/, before "
                                                      r"the checkpoint of step 1, failed .*the disk looks full"):
            tr.train()
    finally:
        tr.close()
    assert not [p.name for p in tmp_path.iterdir() if "warmup_model" in p.name]
    assert latest_checkpoint(tmp_path) is None


def test_a_failed_warmup_model_save_names_it(tmp_path):
    from rlvr.trainers.trainer import CheckpointSaveError

    tr = Trainer(make_config(tmp_path, *KL, "train.total_steps=1", "warmup.steps=1"))

    def broken(path, **kwargs):
        raise OSError(28, "No space left on device", str(path))

    tr.model.save_pretrained = broken
    try:
        with pytest.raises(CheckpointSaveError, match=r"saving the warmed-up model, the run's KL reference, to \S+/warmup_model/"):
            tr.train()
    finally:
        tr.close()
    assert not [p.name for p in tmp_path.iterdir() if "warmup_model" in p.name]


def test_overwrite_removes_a_killed_reference_save(tmp_path):
    from rlvr.trainers.runs import clear_previous_run

    (tmp_path / ".tmp-warmup_model-abc").mkdir()
    (tmp_path / ".tmp-warmup_model-abc" / "model.safetensors").write_text("")
    (tmp_path / ".old-warmup_model-abc").mkdir()
    (tmp_path / ".tmp-mine").mkdir()
    clear_previous_run(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tmp-mine"]


# ------------------------------------------------------------------ eval.samples without evaluation


def test_eval_samples_without_evaluation_says_no_evaluation_runs():
    for extra, greedy in ((["eval.samples=8"], True), (["eval.samples=8", "eval.temperature=1.0"], False)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            load_config(None, ["eval.num_tasks=0", *extra])
        texts = [str(w.message) for w in caught if "eval.samples" in str(w.message)]
        assert len(texts) == 1 and "eval.samples=8 runs no evaluation: eval.num_tasks is 0" in texts[0], texts
        assert "is ignored: eval.temperature is 0" not in texts[0]
        assert ("eval.temperature > 0" in texts[0]) is greedy
