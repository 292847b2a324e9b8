"""Runs, checkpoints and resume on the tiny model: what a resume keeps and changes, interruptions,
overwriting, held-out evaluation on datasets, and the outputs of a run. A few steps each."""

from __future__ import annotations

import json
import os
import signal
import threading

import pytest
import torch

import rlvr
from rlvr.cli import main
from rlvr.trainers.checkpoint import latest_checkpoint, list_checkpoints, load_trainer_state
from rlvr.trainers.config import ConfigError, load_config
from rlvr.trainers.metrics import read_jsonl
from rlvr.trainers.trainer import ResumeError, Trainer, TrainingInterrupted, load_policy
from conftest import register_say_a_digit

# a task a random model solves now and then (any digit in the answer), so groups carry signal
register_say_a_digit()
rlvr.register("rlvr/TenTasks-v0", dataset=[{"question": f"{i}+0=", "answer": str(i)} for i in range(10)],
              verifier="exact", force=True)
BASE = ["log.progress=false", "log.tensorboard=false", "env.id=rlvr/SayADigit-v0", "sampling.max_new_tokens=4",
        "train.batch_groups=4", "train.group_size=4", "train.lr=3e-3", "algorithm.ds_max_extra_rounds=1",
        "model.tiny_hidden_size=32", "model.tiny_layers=1"]


def make_config(out, *extra):
    return load_config(None, [f"log.output_dir={out}", *BASE, *extra])


def run(out, *extra, **kwargs):
    tr = Trainer(make_config(out, *extra), **kwargs)
    try:
        return tr, tr.train()
    finally:
        tr.close()


# ---------------------------------------------------------------- what --resume keeps and changes


def test_resume_applies_the_configs_optimizer_settings(tmp_path, capsys):
    run(tmp_path, "train.total_steps=2")
    res = Trainer(make_config(tmp_path, "train.total_steps=4", "train.lr=1e-4", "train.weight_decay=0.5",
                              "train.beta1=0.5"), resume=True)
    g = res.optimizer.param_groups[0]
    assert (g["lr"], g["initial_lr"], g["weight_decay"], g["betas"]) == (1e-4, 1e-4, 0.5, (0.5, 0.999))
    assert res.scheduler.base_lrs == [1e-4]
    assert "train.lr changed from 0.003 to 0.0001 (applied to the restored optimizer)" in capsys.readouterr().err
    res.train()
    assert [r["lr"] for r in read_jsonl(tmp_path / "metrics.jsonl")] == [3e-3, 3e-3, 1e-4, 1e-4]


def test_logged_lr_is_the_rate_the_step_trained_with(tmp_path):
    tr = Trainer(make_config(tmp_path, "train.total_steps=4", "train.lr=1e-3", "train.lr_scheduler=linear",
                             "train.warmup_steps=2", "algorithm.dynamic_sampling=false"))
    used, logged = [], []
    for _ in range(4):
        used.append(tr.optimizer.param_groups[0]["lr"])
        logged.append(tr.step()["lr"])
    assert logged == used == pytest.approx([5e-4, 1e-3, 1e-3, 5e-4])


def test_resume_refuses_a_changed_config_unless_allowed(tmp_path, capsys):
    run(tmp_path, "train.total_steps=2")
    changed = ("train.total_steps=3", "train.seed=5", "train.batch_groups=2", "algorithm.estimator=rloo")
    with pytest.raises(ResumeError, match=r"in algorithm\.estimator, train\.batch_groups, train\.seed \("
                                          r"algorithm\.estimator: 'grpo' -> 'rloo'.*--allow-config-change"):
        Trainer(make_config(tmp_path, *changed), resume=True)
    tr, summary = run(tmp_path, *changed, resume=True, allow_config_change=True)
    assert summary["steps"] == 3
    assert "train.seed changed from 0 to 5 (allowed by --allow-config-change)" in capsys.readouterr().err
    record = read_jsonl(tmp_path / "config_changes.jsonl")
    assert record[0]["step"] == 2 and record[0]["changes"]["train.seed"] == [0, 5]
    assert json.loads((tmp_path / "config.json").read_text())["train"]["seed"] == 5  # the config in effect


def test_cli_resume_without_config_uses_the_runs_config(tmp_path, capsys):
    run(tmp_path, "train.total_steps=1")
    out = f"log.output_dir={tmp_path}"
    assert main(["train", "--resume", "--set", out, "--set", "train.seed=9", "--set", "train.total_steps=2"]) == 2
    assert "train.seed" in capsys.readouterr().err
    assert main(["train", "--set", out, "--set", "train.total_steps=2", "--allow-config-change"]) == 2
    assert main(["train", "--resume", "--set", out, "--set", "train.total_steps=2"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["steps"] == 2


# ---------------------------------------------------------------- evaluation


def test_a_failing_evaluation_never_costs_the_checkpoint(tmp_path):
    tr = Trainer(make_config(tmp_path, "train.total_steps=2", "eval.num_tasks=2", "eval.before=false"))

    def broken(*args, **kwargs):  # e.g. the eval env's sandbox is down
        raise RuntimeError("eval infrastructure down")

    tr.evaluate = broken
    summary = tr.train()
    assert [s for s, _ in list_checkpoints(tmp_path)] == [2]
    assert summary["eval_errors"] == {"2": "RuntimeError: eval infrastructure down"} and "pass@1_after" not in summary
    assert [r["step"] for r in read_jsonl(tmp_path / "metrics.jsonl")] == [1, 2]


def test_bad_env_kwargs_fail_at_start_up_naming_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"^eval\.env_kwargs: cannot build .*digts"):
        Trainer(make_config(tmp_path, "eval.num_tasks=2", "eval.env_kwargs={digts: 3}"))
    with pytest.raises(ConfigError, match=r"^env\.kwargs: cannot build .*digts"):
        Trainer(make_config(tmp_path, "env.kwargs={digts: 3}"))


def test_evaluations_after_a_save_survive_resume(tmp_path):
    common = ("eval.num_tasks=2", "eval.every=1", "log.save_every=1")
    run(tmp_path, "train.total_steps=2", *common)
    assert json.loads((latest_checkpoint(tmp_path) / "evals.json").read_text()).keys() == {"0", "1", "2"}
    _, summary = run(tmp_path, "train.total_steps=3", *common, resume=True)
    assert summary["eval_steps"] == [0, 1, 2, 3] and "pass@1_before" in summary and "pass@1_after" in summary


def test_finite_dataset_evaluates_on_tasks_held_out_of_training(tmp_path):
    tr = Trainer(make_config(tmp_path, "env.id=rlvr/TenTasks-v0", "eval.num_tasks=4"))
    assert tr.eval_holdout == 4 and tr.source_size == 6
    assert {tr._next_task()["index"] for _ in range(30)} == set(range(6))  # five shuffled passes
    seen = []
    collect = tr.eval_collector.collect
    tr.eval_collector.collect = lambda tasks, *a, **k: seen.extend(t["index"] for t in tasks) or collect(tasks, *a, **k)
    tr.evaluate()
    assert seen == [6, 7, 8, 9]
    with pytest.raises(ConfigError, match=r"eval\.num_tasks \(10\) would hold out the whole"):
        Trainer(make_config(tmp_path, "env.id=rlvr/TenTasks-v0", "eval.num_tasks=10"))
    tr.close()


def test_resume_keeps_the_runs_hold_out_when_eval_settings_change(tmp_path, capsys):
    """eval.* may change on resume, but the hold-out decides the training pool: it stays the run's."""
    run(tmp_path, "env.id=rlvr/TenTasks-v0", "eval.num_tasks=4", "train.total_steps=1")
    res = Trainer(make_config(tmp_path, "env.id=rlvr/TenTasks-v0", "eval.num_tasks=2", "train.total_steps=2"), resume=True)
    try:
        assert res.eval_holdout == 4 and res.source_size == 6
        assert "keeping the run's 4 evaluation tasks held out" in capsys.readouterr().err
    finally:
        res.close()
    # without tasks set aside at the start, the training data cannot be evaluated on: an error, not training tasks
    fresh = Trainer(make_config(tmp_path / "fresh", "env.id=rlvr/TenTasks-v0"))
    try:
        with pytest.raises(ValueError, match="needs tasks held out of training"):
            fresh.evaluate(num_tasks=3)
    finally:
        fresh.close()


def test_train_offset_applies_to_datasets(tmp_path):
    tr = Trainer(make_config(tmp_path, "env.id=rlvr/TenTasks-v0", "env.shuffle=false", "env.train_offset=5"))
    assert [tr._next_task()["index"] for _ in range(6)] == [5, 6, 7, 8, 9, 0]
    with pytest.raises(ConfigError, match=r"env\.train_offset \(10\) must be below the dataset's size \(10\)"):
        Trainer(make_config(tmp_path, "env.id=rlvr/TenTasks-v0", "env.train_offset=10"))


# ---------------------------------------------------------------- interruptions and existing runs


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_saves_the_last_completed_step(tmp_path, signum, capsys):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers belong to the main thread")
    before = signal.getsignal(signum)
    tr = Trainer(make_config(tmp_path, "train.total_steps=5"))  # log.save_every=0: only the final save
    step = tr.step

    def step_then_signal():
        metrics = step()
        if tr.step_count == 2:
            os.kill(os.getpid(), signum)  # arrives mid-step: the step finishes, then it is saved
        return metrics

    tr.step = step_then_signal
    with pytest.raises(TrainingInterrupted, match=r"stopped at step 2; the latest checkpoint is .*step_000002.*--resume"):
        tr.train()
    assert signal.getsignal(signum) == before
    assert [s for s, _ in list_checkpoints(tmp_path)] == [2]
    assert json.loads((tmp_path / "summary.json").read_text())["interrupted_at_step"] == 2
    assert "finishing the current step, then saving a checkpoint" in capsys.readouterr().err
    resumed = Trainer(make_config(tmp_path, "train.total_steps=5"), resume=True)
    assert resumed.step_count == 2 and resumed.task_counter == tr.task_counter


def test_a_run_without_checkpoint_is_not_silently_replaced(tmp_path):
    run(tmp_path, "train.total_steps=1", "log.save_final=false")
    with pytest.raises(ResumeError, match=r"outputs of a run without a checkpoint \(metrics\.jsonl, summary\.json\)"):
        Trainer(make_config(tmp_path, "train.total_steps=1"))


def test_overwrite_deletes_the_old_run_only_once_the_new_one_is_built(tmp_path, capsys):
    run(tmp_path, "train.total_steps=1", "algorithm.kl_coef=0.1", "warmup.steps=2")
    assert (tmp_path / "warmup_model").is_dir()
    with pytest.raises(ConfigError, match="env.kwargs"):
        Trainer(make_config(tmp_path, "log.overwrite=true", "env.kwargs={digts: 3}"))
    assert latest_checkpoint(tmp_path) is not None and (tmp_path / "metrics.jsonl").exists()
    tr = Trainer(make_config(tmp_path, "log.overwrite=true", "train.total_steps=1", "log.save_final=false"))
    assert latest_checkpoint(tmp_path) is not None  # built, not trained yet: nothing deleted
    tr.train()
    assert "removed the previous run's checkpoints" in capsys.readouterr().err
    assert latest_checkpoint(tmp_path) is None and not (tmp_path / "warmup_model").exists()


def test_kl_reference_is_recorded_and_a_stale_warmup_model_is_ignored(tmp_path):
    kl = ("algorithm.kl_coef=0.1", "algorithm.dynamic_sampling=false")
    run(tmp_path, "train.total_steps=1", *kl)
    assert load_trainer_state(latest_checkpoint(tmp_path))["reference"] == "initial"
    stale, _ = load_policy(make_config(tmp_path, "model.tiny_seed=1"))  # another run's model left in the directory
    stale.save_pretrained(tmp_path / "warmup_model")
    resumed = Trainer(make_config(tmp_path, "train.total_steps=2", *kl), resume=True)
    initial, _ = load_policy(make_config(tmp_path))
    ref = resumed.ref_model.state_dict()
    assert all(torch.equal(ref[k], v) for k, v in initial.state_dict().items())


def test_warmup_stats_total_time_and_reference_survive_resume(tmp_path, capsys):
    _, first = run(tmp_path, "train.total_steps=1", "warmup.steps=4", "algorithm.kl_coef=0.1")
    err = capsys.readouterr().err
    assert "warm-up step 1/4: loss" in err and "warm-up step 4/4: loss" in err  # progress during the warm-up
    assert load_trainer_state(latest_checkpoint(tmp_path))["reference"] == "warmup_model"
    _, second = run(tmp_path, "train.total_steps=2", "warmup.steps=4", "algorithm.kl_coef=0.1", resume=True)
    assert second["warmup_steps"] == 4 and second["warmup_loss"] == first["warmup_loss"]
    assert second["train_seconds"] > first["train_seconds"]


# ---------------------------------------------------------------- outputs and checkpoint files


def test_summary_and_plot_say_only_what_happened(tmp_path):
    _, summary = run(tmp_path / "a", "train.total_steps=1", "eval.num_tasks=2", "eval.before=false")
    assert "pass@1_before" not in summary and summary["eval_steps"] == [1] and "pass@1_after" in summary
    run(tmp_path / "b", "train.total_steps=2", "log.jsonl=false")
    assert (tmp_path / "b" / "curves.png").stat().st_size > 1000 and not (tmp_path / "b" / "metrics.jsonl").exists()


def test_stale_checkpoint_temporaries_are_removed(tmp_path, capsys):
    tr, _ = run(tmp_path, "train.total_steps=1", "log.keep_last=1")
    for name in (".tmp-step_000002-abc", ".old-step_000002"):  # left by a save killed mid-way
        (tmp_path / "checkpoints" / name).mkdir()
        (tmp_path / "checkpoints" / name / "model.safetensors").write_bytes(b"x" * 1000)
    Trainer(make_config(tmp_path, "train.total_steps=2", "log.keep_last=1"), resume=True)
    assert "removed 2 unfinished checkpoint save(s)" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step_000001"]
    (tmp_path / "checkpoints" / ".tmp-step_000001-def").mkdir()
    tr.step_count = 3
    tr.save()
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step_000003"]


def test_vllm_engine_wiring(tmp_path, monkeypatch):
    """What the trainer hands the vLLM engine: trust_remote_code, and a per-step seed so that a resumed
    run samples what the uninterrupted one did (vLLM's RNG is not in the checkpoint). vLLM needs a
    GPU; a stand-in that generates with the hf engine records the calls."""
    import rlvr.trainers.vllm_engine as vllm_engine
    from rlvr.trainers.hf_engine import HFEngine

    model, tok = load_policy(make_config(tmp_path))
    built, seeds = [], []

    class StandIn(HFEngine):
        def __init__(self, name, **kwargs):
            built.append((name, kwargs))
            super().__init__(model, tok)

        def generate(self, prompts, n, sampling):
            seeds.append(sampling.seed)
            return super().generate(prompts, n, sampling)

    monkeypatch.setattr(vllm_engine, "VLLMEngine", StandIn)
    cfg = ("engine.name=vllm", "model.name_or_path=org/model", "model.trust_remote_code=true", "algorithm.dynamic_sampling=false")
    tr = Trainer(make_config(tmp_path, *cfg), model=model, tokenizer=tok)
    assert built == [("org/model", {"seed": 0, "dtype": "auto", "trust_remote_code": True})]
    tr.step(), tr.step()
    assert len(seeds) == 2 and None not in seeds and seeds[0] != seeds[1]
    tr.step_count = 0  # the seed depends on (train.seed, step, round) only: the same after a resume
    assert tr._rollout_sampling(0).seed == seeds[0]
    hf = Trainer(make_config(tmp_path / "hf"))
    assert hf._rollout_sampling(0) is hf.sampling and hf.sampling.seed is None  # hf: the checkpointed global RNG
