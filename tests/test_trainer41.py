"""A training prompt too long for the model's context (the tiny model's: 1024 tokens).

A finite dataset's prompts (and the held-out evaluation's) are checked when the Trainer is built, so a
run is refused at start, naming every such task, instead of stopping at the step that draws one. An
endless procedural source cannot be checked up front: the step that draws such a prompt stops the
run as before (PromptTooLongError), but saves the last completed step and writes the summary (with
the reason) and the plot first, as for an infrastructure error, and a resume goes on from there.
"""

from __future__ import annotations

import json

import pytest

import rlvr
from rlvr.trainers.checkpoint import list_checkpoints
from rlvr.trainers.config import ConfigError, load_config
from rlvr.trainers.metrics import read_jsonl
from rlvr.trainers.rollout import PromptTooLongError
from rlvr.trainers.trainer import Trainer

LONG = "Please think. " * 120  # about 1,700 tokens with the tiny character-level tokenizer

BASE = ["log.progress=false", "log.tensorboard=false", "sampling.max_new_tokens=4", "train.group_size=2",
        "model.tiny_hidden_size=32", "model.tiny_layers=1", "algorithm.dynamic_sampling=false"]


def _digit(gold, completion):
    return float(any(c.isdigit() for c in completion))


def _sometimes_long(rng):
    """A procedural task whose question is too long for the context about once in five."""
    return {"question": "x " * 600 if rng.integers(5) == 0 else f"{int(rng.integers(10))}+1=", "answer": "1"}


def _never_long(rng):
    return {"question": f"{int(rng.integers(10))}+1=", "answer": "1"}


def write_rows(path, long_rows=(), n=12):
    with open(path, "w") as f:
        for i in range(n):
            question = f"What is {i}+1? {LONG}" if i in long_rows else f"What is {i}+1?"
            f.write(json.dumps({"question": question, "answer": str(i + 1)}) + "\n")
    return path


def make_config(out, *extra):
    return load_config(None, [f"log.output_dir={out}", *BASE, *extra])


# ------------------------------------------------------------------ refused at start (finite data)


def test_a_finite_dataset_with_prompts_too_long_is_refused_at_start_naming_every_task(tmp_path):
    """Was: the run trained until the step that drew row 3, then died (PromptTooLongError)."""
    data = write_rows(tmp_path / "data.jsonl", long_rows=(3, 9))
    out = tmp_path / "run"
    cfg = make_config(out, "env.id=rlvr/Math-v0", f"env.kwargs={{dataset: {data}}}", "env.shuffle=false",
                      "train.batch_groups=2", "train.total_steps=6")
    with pytest.raises(ConfigError) as info:
        Trainer(cfg)
    message = str(info.value)
    assert "2 training task(s): 3, 9" in message and "sampling.max_context_tokens=1024" in message
    assert "Filter such prompts out of the env's data" in message
    assert not (out / "metrics.jsonl").exists()
    write_rows(data)  # fixed: the same output directory takes the run (the refusal gave its lock up)
    tr = Trainer(cfg)
    tr.close()


def test_held_out_evaluation_prompts_too_long_are_refused_at_start(tmp_path):
    """Was: each evaluation failed (an entry in eval_errors) and the run trained without one."""
    data = write_rows(tmp_path / "data.jsonl")
    evaluation = write_rows(tmp_path / "eval.jsonl", long_rows=(1,), n=4)
    cfg = make_config(tmp_path / "run", "env.id=rlvr/Math-v0", f"env.kwargs={{dataset: {data}}}",
                      f"eval.env_kwargs={{dataset: {evaluation}}}", "eval.num_tasks=4", "train.batch_groups=2",
                      "train.total_steps=2")
    with pytest.raises(ConfigError, match=r"1 held-out evaluation task\(s\): 1 \(e.g. task 1: the prompt is \d+ tokens"):
        Trainer(cfg)


def test_the_check_counts_the_prompts_the_rollouts_build(tmp_path):
    """A limit of exactly one task's prompt length (as the rollout built it) refuses that task alone."""
    data = write_rows(tmp_path / "data.jsonl")
    cfg = make_config(tmp_path / "run", "env.id=rlvr/Math-v0", f"env.kwargs={{dataset: {data}}}",
                      "train.batch_groups=2", "train.total_steps=1")
    tr = Trainer(cfg)
    try:
        groups = tr.collector.collect([9, 10], 1, tr.sampling)
        lengths = {g[0].task_id: g[0].prompt_len for g in groups}
        assert lengths["9"] < lengths["10"]  # ("10+1" is one character longer than "9+1")
        assert tr.collector.prompts_that_do_not_fit([9, 10]) is None
        tr.collector.max_context_tokens = lengths["10"]  # the prompt of task 10 fills the context
        exc = tr.collector.prompts_that_do_not_fit([9, 10])
        assert isinstance(exc, PromptTooLongError) and exc.task_ids == ["10"] and exc.positions == [1]
        assert f"the prompt is {lengths['10']} tokens" in exc.reasons[0]
    finally:
        tr.close()


# ------------------------------------------------------------------ stopped mid-run (procedural source)


def test_a_prompt_too_long_mid_run_saves_the_completed_steps_and_resume_goes_on(tmp_path, capsys):
    """Was: no checkpoint, no summary, no plot: the completed steps were lost."""
    env_id = "rlvr/SometimesLong41-v0"
    rlvr.register(env_id, generator=_sometimes_long, verifier=_digit, force=True)
    out = tmp_path / "run"
    common = [f"env.id={env_id}", "train.batch_groups=4", "train.total_steps=4"]
    tr = Trainer(make_config(out, *common))  # endless: not checked up front
    try:
        with pytest.raises(PromptTooLongError, match="task _sometimes_long/11:"):
            tr.train()  # step 3 draws tasks 8..11
    finally:
        tr.close()
    assert [s for s, _ in list_checkpoints(out)] == [2]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 2 and summary["stopped_at_step"] == 2
    assert "task _sometimes_long/11:" in summary["stop_reason"] and "sampling.max_context_tokens" in summary["stop_reason"]
    assert (out / "curves.png").stat().st_size > 1000
    err = capsys.readouterr().err
    assert "saved step 2, the last completed step, before stopping" in err and "--allow-config-change" in err

    # the saved step loads with its data position put back: the same data stops at the same task
    tr = Trainer(make_config(out, *common), resume=True)
    try:
        assert tr.step_count == 2 and tr.task_counter == 8
        with pytest.raises(PromptTooLongError, match="task _sometimes_long/11:"):
            tr.train()
    finally:
        tr.close()

    # the data fixed: a resume (allowed to take the changed env) trains on from step 2 to the end
    rlvr.register(env_id, generator=_never_long, verifier=_digit, force=True)
    with pytest.raises(Exception, match="--allow-config-change"):
        Trainer(make_config(out, *common), resume=True).close()
    tr = Trainer(make_config(out, *common), resume=True, allow_config_change=True)
    try:
        summary = tr.train()
    finally:
        tr.close()
    assert summary["steps"] == 4 and "stopped_at_step" not in summary
    assert [row["step"] for row in read_jsonl(out / "metrics.jsonl")] == [1, 2, 3, 4]


def test_rlvr_train_reports_a_prompt_too_long_mid_run_without_a_traceback(tmp_path, capsys):
    """Was: `rlvr train` let the PromptTooLongError through as a traceback."""
    from rlvr.cli import main

    env_id = "rlvr/SometimesLong41b-v0"
    rlvr.register(env_id, generator=_sometimes_long, verifier=_digit, force=True)
    config = tmp_path / "config.yaml"
    config.write_text(f"env:\n  id: {env_id}\n")
    sets = [f"log.output_dir={tmp_path / 'run'}", *BASE, "train.batch_groups=4", "train.total_steps=4"]
    status = main(["train", "--config", str(config), *[arg for s in sets for arg in ("--set", s)]])
    err = capsys.readouterr().err
    assert status == 3
    assert "rlvr train: the run stopped at step 3 because" in err and "task _sometimes_long/11:" in err
    assert "sampling.max_context_tokens" in err and "Traceback" not in err
    assert [s for s, _ in list_checkpoints(tmp_path / "run")] == [2]


def test_the_refusal_at_start_names_at_most_twenty_tasks_and_counts_the_rest(tmp_path):
    data = write_rows(tmp_path / "data.jsonl", long_rows=range(25), n=30)
    cfg = make_config(tmp_path / "run", "env.id=rlvr/Math-v0", f"env.kwargs={{dataset: {data}}}",
                      "train.batch_groups=2", "train.total_steps=1")
    with pytest.raises(ConfigError, match=r"25 training task\(s\): 0, 1, 2, .*, 19, \.\.\. and 5 more \(e\.g\. task 0:"):
        Trainer(cfg)
