"""Audit 28 of runs and the demo: the demo's mark belongs to the run it was written for, `rlvr demo
--config` writes where the config says, a new train.total_steps under a decaying schedule says what
it does to the learning rate, `rlvr demo --resume --allow-config-change`, and the settings a resume
may change because they change memory use or retries, not the run."""

from __future__ import annotations

import json

import pytest
import torch

from rlvr.cli import main
from rlvr.trainers.config import load_config
from rlvr.trainers.demo import DEMO_CONFIG, MARKER, run_demo
from rlvr.trainers.trainer import ResumeError, Trainer
from conftest import register_say_a_digit

register_say_a_digit()
BASE = ["log.progress=false", "log.tensorboard=false", "log.plot=false", "env.id=rlvr/SayADigit-v0",
        "sampling.max_new_tokens=3", "train.batch_groups=2", "train.group_size=4", "train.lr=1e-3",
        "algorithm.dynamic_sampling=false", "model.tiny_hidden_size=32", "model.tiny_layers=1"]
#: the demo, as small as it gets
TINY_DEMO = ["warmup.steps=2", "warmup.batch_size=4", "train.total_steps=1", "train.batch_groups=2",
             "train.group_size=2", "eval.num_tasks=0", "eval.every=0", "model.tiny_hidden_size=32",
             "model.tiny_layers=1", "log.progress=false", "log.tensorboard=false", "log.plot=false"]


def run(out, *extra, **kwargs):
    tr = Trainer(load_config(None, [f"log.output_dir={out}", *BASE, *extra]), **kwargs)
    try:
        return tr.train()
    finally:
        tr.close()


def steps_in(out) -> int:
    return json.loads((out / "summary.json").read_text())["steps"]


# ---------------------------------------------------------------- 1. the demo's mark


def test_a_train_run_that_replaced_a_demo_run_is_never_deleted_by_the_next_demo(tmp_path):
    out = tmp_path / "demo"
    run_demo(output_dir=out, overrides=TINY_DEMO)
    assert (out / MARKER).is_file()
    run_demo(output_dir=out, overrides=TINY_DEMO)  # the demo still replaces its own run without asking
    assert (out / MARKER).is_file() and steps_in(out) == 1
    # the user's own run of the demo config there, replacing the demo's run
    tr = Trainer(load_config(DEMO_CONFIG, [f"log.output_dir={out}", *TINY_DEMO, "train.total_steps=2",
                                           "log.overwrite=true"]))
    try:
        tr.train()
    finally:
        tr.close()
    assert not (out / MARKER).exists() and steps_in(out) == 2
    with pytest.raises(ResumeError, match="not made by rlvr demo"):
        run_demo(output_dir=out, overrides=TINY_DEMO)
    assert steps_in(out) == 2 and (out / "checkpoints" / "step_000002").is_dir()


def test_a_fresh_run_removes_a_demo_mark_left_without_a_run(tmp_path):
    # a demo stopped before its first step leaves its mark and no run: a train run started there
    # (no log.overwrite needed) must not inherit it
    (tmp_path / MARKER).write_text("made by rlvr demo\n")
    run(tmp_path, "train.total_steps=1")
    assert not (tmp_path / MARKER).exists()
    with pytest.raises(ResumeError, match="not made by rlvr demo"):
        run_demo(output_dir=tmp_path, overrides=TINY_DEMO)


# ---------------------------------------------------------------- 2. where the demo writes


def test_demo_writes_to_the_configs_output_dir(tmp_path, monkeypatch):
    from rlvr.trainers.demo import DEFAULT_OUTPUT_DIR, demo_output_dir

    monkeypatch.chdir(tmp_path)
    config = tmp_path / "my_demo.yaml"
    config.write_text(DEMO_CONFIG.read_text().replace("output_dir: runs/demo", "output_dir: mine"))
    bare = tmp_path / "bare.yaml"
    bare.write_text(DEMO_CONFIG.read_text().replace("  output_dir: runs/demo\n", ""))
    assert demo_output_dir(config).as_posix() == "mine"
    assert demo_output_dir(config, output_dir=tmp_path / "opt") == tmp_path / "opt"
    assert demo_output_dir(config, ["log.output_dir=set"], tmp_path / "opt").as_posix() == "set"
    assert demo_output_dir(bare).as_posix() == DEFAULT_OUTPUT_DIR == "runs/demo"
    assert demo_output_dir().as_posix() == "runs/demo"
    args = ["demo", "--config", str(config), *sum((["--set", s] for s in TINY_DEMO), [])]
    assert main(args) == 0
    assert steps_in(tmp_path / "mine") == 1 and (tmp_path / "mine" / MARKER).is_file()
    assert not (tmp_path / "runs").exists()


# ---------------------------------------------------------------- 3. total_steps under a decaying schedule


def test_a_new_total_steps_under_a_cosine_schedule_prints_the_learning_rate_change(tmp_path, capsys):
    run(tmp_path, "train.total_steps=2", "train.lr_scheduler=cosine")
    capsys.readouterr()
    res = Trainer(load_config(None, [f"log.output_dir={tmp_path}", *BASE, "train.total_steps=4",
                                     "train.lr_scheduler=cosine"]), resume=True)
    try:
        err = capsys.readouterr().err
        assert "train.total_steps changed from 2 to 4" in err
        assert ("under the cosine learning-rate schedule, which is reshaped to the new length rather than "
                "continued: the learning rate at the resume point (step 2) goes from 0 to 0.0005") in err
        assert res.optimizer.param_groups[0]["lr"] == pytest.approx(5e-4)
    finally:
        res.close()


def test_a_new_total_steps_under_a_constant_schedule_has_no_note(tmp_path, capsys):
    run(tmp_path, "train.total_steps=1")
    capsys.readouterr()
    Trainer(load_config(None, [f"log.output_dir={tmp_path}", *BASE, "train.total_steps=2"]), resume=True).close()
    err = capsys.readouterr().err
    assert "train.total_steps changed from 1 to 2" in err and "reshaped" not in err


# ---------------------------------------------------------------- 4. rlvr demo --allow-config-change


def test_demo_resume_accepts_allow_config_change(tmp_path, capsys):
    out = tmp_path / "demo"
    args = ["demo", "--output-dir", str(out), *sum((["--set", s] for s in TINY_DEMO), [])]
    assert main(args) == 0
    changed = [*args, "--set", "train.total_steps=2", "--set", "train.seed=1", "--resume"]
    capsys.readouterr()
    assert main(changed) == 2
    assert "--allow-config-change" in capsys.readouterr().err
    assert main([*args, "--allow-config-change"]) == 2  # (only with --resume)
    assert "--allow-config-change only applies with --resume" in capsys.readouterr().err
    assert main([*changed, "--allow-config-change"]) == 0
    assert "train.seed changed from 0 to 1 (allowed by --allow-config-change)" in capsys.readouterr().err
    assert steps_in(out) == 2 and (out / MARKER).is_file()


# ---------------------------------------------------------------- 5. settings a resume may change


@pytest.mark.parametrize("change, note", [
    ("train.infra_retries=6", "train.infra_retries changed from 2 to 6"),
    ("train.micro_batch_size=1", "train.micro_batch_size changed from 0 to 1 (memory use only"),
    ("model.gradient_checkpointing=true", "model.gradient_checkpointing changed from False to True (memory use"),
])
def test_resume_accepts_settings_that_do_not_change_the_run(tmp_path, capsys, change, note):
    run(tmp_path, "train.total_steps=1")
    summary = run(tmp_path, "train.total_steps=2", change, resume=True)
    assert summary["steps"] == 2 and note in capsys.readouterr().err


@pytest.mark.parametrize("agg", ["token-mean", "seq-mean-token-mean", "seq-mean-token-sum-norm"])
@pytest.mark.parametrize("setting", ["train.micro_batch_size=1", "train.micro_batch_size=3",
                                     "model.gradient_checkpointing=true"])
def test_memory_settings_change_the_update_by_rounding_at_most(tmp_path, agg, setting):
    # what allowing them on resume rests on: the same step from the same state gives the same weights
    # (the loss of a micro-batch is normalised by the whole mini-batch's counts)
    weights = []
    for i, extra in enumerate(([], [setting])):
        tr = Trainer(load_config(None, [f"log.output_dir={tmp_path / str(i)}", *BASE, "train.total_steps=1",
                                        f"algorithm.loss_agg={agg}", "sampling.max_new_tokens=6", *extra]))
        try:
            before = {k: v.clone() for k, v in tr.model.state_dict().items()}
            metrics = tr.step()
            assert metrics["optimizer_steps"] == 1, metrics  # (an update took place)
            weights.append({k: v.clone() for k, v in tr.model.state_dict().items()})
        finally:
            tr.close()
    assert any(not torch.equal(before[k], weights[0][k]) for k in before)
    for k in weights[0]:
        torch.testing.assert_close(weights[1][k], weights[0][k], rtol=1e-5, atol=1e-6)
