"""Run outputs and resume, review 24 (tiny model, a few steps each):

- a run killed during the evaluation that follows a checkpoint (or before that step's row was
  logged) lost the row and the evaluation for good: the resumed run now ends with the rows and
  evaluations of an uninterrupted one;
- a resume did not notice a rewritten dataset (a 20-row file grown to 30 silently turned held-out
  evaluation rows into training rows): the dataset size and the env fingerprint are checked;
- ``metrics.jsonl`` was rewritten in place on resume (a Ctrl-C then wiped the history);
- a checkpoint that could not be written (a full disk) was a raw traceback with exit status 1;
- ``summary.json`` / ``curves.png`` were written only when training returned;
- an infrastructure stop (exit 3) did not save the last completed step.
"""

from __future__ import annotations

import builtins
import errno
import json

import pytest
import torch

import rlvr
import rlvr.trainers.checkpoint as checkpoint_module
import rlvr.trainers.metrics as metrics_module
from rlvr.cli import main
from rlvr.commands.train import EXIT_SAVE_FAILED
from rlvr.trainers.checkpoint import latest_checkpoint, list_checkpoints
from rlvr.trainers.config import load_config
from rlvr.trainers.metrics import MetricsLogger, read_jsonl
from rlvr.trainers.rollout import RolloutCollector, RolloutInfrastructureError
from rlvr.trainers.trainer import CheckpointSaveError, ResumeError, Trainer

rlvr.register("rlvr/SayADigitAudit24-v0", generator=lambda rng: {"question": f"{int(rng.integers(10))}+1=", "answer": "8"},
              verifier=lambda gold, completion: float(any(c.isdigit() for c in completion)), force=True)
BASE = ["log.progress=false", "log.tensorboard=false", "log.plot=false", "env.id=rlvr/SayADigitAudit24-v0",
        "sampling.max_new_tokens=4", "train.batch_groups=2", "train.group_size=4", "train.lr=3e-3",
        "algorithm.ds_max_extra_rounds=1", "model.tiny_hidden_size=32", "model.tiny_layers=1"]


def make_config(out, *extra):
    return load_config(None, [f"log.output_dir={out}", *BASE, *extra])


def run(out, *extra, **kwargs):
    tr = Trainer(make_config(out, *extra), **kwargs)
    try:
        return tr, tr.train()
    finally:
        tr.close()


class Killed(BaseException):
    """Stands for SIGKILL / an OOM kill / a preemption: nothing after it runs (not even `except Exception`)."""


def comparable(row):
    return {k: v for k, v in row.items() if not k.startswith("time/") and k != "tokens_per_s"}


def rows(out):
    return [comparable(r) for r in read_jsonl(out / "metrics.jsonl")]


def same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return all(torch.equal(sa[k], sb[k]) for k in sa)


# ---------------------------------------------------------------- 2. a kill right after a checkpoint


def die_in_evaluation_of(tr, step):
    """Make `tr` killed (`Killed`) when it evaluates at `step`: after that step's checkpoint."""
    evaluate = tr.evaluate

    def evaluate_or_die(*args, **kwargs):
        if tr.step_count == step:
            raise Killed
        return evaluate(*args, **kwargs)

    tr.evaluate = evaluate_or_die



@pytest.mark.parametrize("killed", ["during_the_evaluation", "before_the_row_was_logged"])
def test_a_kill_after_a_checkpoint_loses_no_row_and_no_evaluation(tmp_path, monkeypatch, killed):
    common = ("train.total_steps=4", "log.save_every=2", "eval.num_tasks=2", "eval.every=2", "eval.before=false")
    whole, whole_summary = run(tmp_path / "whole", *common)

    out = tmp_path / "killed"
    tr = Trainer(make_config(out, *common))
    if killed == "during_the_evaluation":
        die_in_evaluation_of(tr, 2)
    else:
        log = MetricsLogger.log

        def log_or_die(self, step, metrics):
            if step == 2:
                raise Killed
            return log(self, step, metrics)

        monkeypatch.setattr(MetricsLogger, "log", log_or_die)
    try:
        with pytest.raises(Killed):
            tr.train()
    finally:
        tr.close()
        monkeypatch.undo()
    assert [s for s, _ in list_checkpoints(out)] == [2] and [r["step"] for r in rows(out)] == [1]

    resumed, summary = run(out, *common, resume=True)
    assert rows(out) == rows(tmp_path / "whole")  # row 2, with its eval/pass@1, is back
    assert [r["step"] for r in rows(out)] == [1, 2, 3, 4] and "eval/pass@1" in rows(out)[1]
    assert resumed.eval_results == whole.eval_results and summary["eval_steps"] == whole_summary["eval_steps"] == [2, 4]
    assert same_weights(resumed.model, whole.model)
    assert json.loads((out / "checkpoints" / "step_000002" / "evals.json").read_text()).keys() == {"2"}


def test_a_kill_during_the_final_evaluation_is_finished_by_resume(tmp_path, capsys):
    """The last step's checkpoint is written before its evaluation: a kill there left no final
    evaluation, row or summary, and --resume said "nothing left to do" (review of audit 24)."""
    common = ("train.total_steps=2", "log.save_every=2", "eval.num_tasks=2", "eval.every=2", "eval.before=false")
    whole, whole_summary = run(tmp_path / "whole", *common)
    out = tmp_path / "killed"
    tr = Trainer(make_config(out, *common))
    die_in_evaluation_of(tr, 2)
    try:
        with pytest.raises(Killed):
            tr.train()
    finally:
        tr.close()
    assert [s for s, _ in list_checkpoints(out)] == [2] and not (out / "summary.json").exists()

    resumed, summary = run(out, *common, resume=True)
    assert rows(out) == rows(tmp_path / "whole") and [r["step"] for r in rows(out)] == [1, 2]
    assert resumed.eval_results == whole.eval_results and summary["eval_steps"] == whole_summary["eval_steps"] == [2]
    assert summary["steps"] == 2 and not summary.get("in_progress")
    with pytest.raises(ResumeError, match="nothing left to do"):  # finished now
        Trainer(make_config(out, *common), resume=True)


# ---------------------------------------------------------------- 3. resume checks the data


def write_rows(path, n, answer_offset=1):
    path.write_text("".join(json.dumps({"question": f"What is {i}+1?", "answer": str(i + answer_offset)}) + "\n"
                            for i in range(n)))


def test_resume_refuses_a_rewritten_dataset_unless_allowed(tmp_path, capsys):
    data, out = tmp_path / "train.jsonl", tmp_path / "run"
    write_rows(data, 20)
    extra = ("env.id=rlvr/Math-v0", f"env.kwargs={{dataset: {data}}}", "eval.num_tasks=4", "eval.before=false",
             "sampling.max_new_tokens=2", "train.batch_groups=1", "train.group_size=2")
    first, _ = run(out, "train.total_steps=1", *extra)
    assert first.dataset_size == 20 and first.source_size == 16

    write_rows(data, 30)  # the file is regenerated with 10 more rows: the run's eval rows 16-19 would be trained on
    with pytest.raises(ResumeError, match=r"the training dataset has 30 tasks, step_000001 was trained on 20 .*"
                                          r"held out for evaluation.*env fingerprint changed.*data\.num_tasks: 20 -> 30"
                                          r".*--allow-config-change"):
        Trainer(make_config(out, "train.total_steps=2", *extra), resume=True)
    assert main(["train", "--resume", "--set", f"log.output_dir={out}", "--set", "train.total_steps=2"]) == 2
    assert "the training dataset has 30 tasks" in capsys.readouterr().err

    write_rows(data, 20, answer_offset=2)  # same size, other answers: the fingerprint tells
    with pytest.raises(ResumeError, match=r"env fingerprint changed from \w+ to \w+ \(data\.sha256: "):
        Trainer(make_config(out, "train.total_steps=2", *extra), resume=True)

    write_rows(data, 30)
    _, summary = run(out, "train.total_steps=2", *extra, resume=True, allow_config_change=True)
    assert summary["steps"] == 2
    assert "(allowed by --allow-config-change)" in capsys.readouterr().err
    recorded = read_jsonl(out / "config_changes.jsonl")[-1]
    assert recorded["step"] == 1 and recorded["changes"]["env.dataset_size"] == [20, 30]
    assert "env.fingerprint" in recorded["changes"]

    write_rows(data, 30)  # the data of the latest checkpoint (step 2) again: resumes without a word
    _, summary = run(out, "train.total_steps=3", *extra, resume=True)
    assert summary["steps"] == 3


def test_an_upgrade_of_rlvr_alone_does_not_refuse_a_resume(tmp_path, monkeypatch, capsys):
    """The fingerprint records rlvr's version: an upgrade alone is said, not taken for other data."""
    data, out = tmp_path / "train.jsonl", tmp_path / "run"
    write_rows(data, 20)
    extra = ("env.id=rlvr/Math-v0", f"env.kwargs={{dataset: {data}}}", "eval.before=false", "eval.every=0",
             "sampling.max_new_tokens=2", "train.batch_groups=1", "train.group_size=2")
    run(out, "train.total_steps=1", *extra)
    state_file = latest_checkpoint(out) / "trainer_state.pt"
    state = torch.load(state_file, weights_only=False)
    state["env_fingerprint"]["record"]["rlvr_version"] = "0.0.1"
    state["env_fingerprint"]["digest"] = "0" * 16  # as the older version's digest would differ
    torch.save(state, state_file)
    _, summary = run(out, "train.total_steps=2", *extra, resume=True)
    assert summary["steps"] == 2
    assert "resume: rlvr 0.0.1 -> " in capsys.readouterr().err


# ---------------------------------------------------------------- 4. metrics.jsonl on resume


def tearing_open(real=builtins.open):
    """`open` whose files opened for writing are cut off halfway through the first write (Ctrl-C, a kill)."""

    def fake(path, mode="r", *args, **kwargs):
        f = real(path, mode, *args, **kwargs)
        if "w" not in mode:
            return f

        class Torn:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                f.close()

            def write(self, text):
                f.write(text[: len(text) // 2])
                f.flush()
                raise Killed

        return Torn()

    return fake


def test_metrics_log_survives_a_kill_while_a_resume_trims_it(tmp_path, monkeypatch):
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps({"step": s, "reward_mean": 0.5}) + "\n" for s in range(1, 51)))
    inode = path.stat().st_ino
    monkeypatch.setattr(metrics_module, "open", tearing_open(), raising=False)
    # nothing past the checkpoint: the file is not rewritten at all (it was, in place)
    MetricsLogger(tmp_path, 60, progress=False, tensorboard=False, start_step=50)
    assert len(read_jsonl(path)) == 50 and path.stat().st_ino == inode
    # rows past the checkpoint: trimmed into a temporary file renamed over it; a kill meanwhile leaves it whole
    with pytest.raises(Killed):
        MetricsLogger(tmp_path, 60, progress=False, tensorboard=False, start_step=40)
    assert len(read_jsonl(path)) == 50 and sorted(p.name for p in tmp_path.iterdir()) == ["metrics.jsonl"]
    monkeypatch.undo()
    MetricsLogger(tmp_path, 60, progress=False, tensorboard=False, start_step=40)
    assert [r["step"] for r in read_jsonl(path)] == list(range(1, 41))
    # a torn last line (killed mid-write) goes, so the next row starts on a line of its own
    with open(path, "a") as f:
        f.write('{"step": 41, "rew')
    logger = MetricsLogger(tmp_path, 60, progress=False, tensorboard=False, start_step=40)
    logger.log(41, {"reward_mean": 1.0})
    assert [r["step"] for r in read_jsonl(path)] == list(range(1, 42))


def test_a_resume_with_nothing_to_trim_does_not_rewrite_the_log(tmp_path, monkeypatch):
    run(tmp_path, "train.total_steps=2", "log.save_every=1")
    monkeypatch.setattr(metrics_module, "open", tearing_open(), raising=False)  # appends ("a") still work
    run(tmp_path, "train.total_steps=3", resume=True)
    assert [r["step"] for r in read_jsonl(tmp_path / "metrics.jsonl")] == [1, 2, 3]


# ---------------------------------------------------------------- 5. a checkpoint that cannot be saved


@pytest.mark.parametrize("failure", ["torch_zip_writer", "enospc", "permission"])
def test_a_failed_save_is_a_clear_message_and_its_own_exit_status(tmp_path, monkeypatch, capsys, failure):
    real_save = checkpoint_module.torch.save

    def save(obj, path, *args, **kwargs):
        if "step_000002" in str(path):
            if failure == "torch_zip_writer":  # what torch.save said on the reviewer's full disk
                raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 13504 vs 13396")
            if failure == "enospc":
                raise OSError(errno.ENOSPC, "No space left on device")
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_save(obj, path, *args, **kwargs)

    monkeypatch.setattr(checkpoint_module.torch, "save", save)
    config = tmp_path / "c.yaml"
    config.write_text("{}\n")
    out = tmp_path / "run"
    args = ["train", "--config", str(config), *(x for kv in [f"log.output_dir={out}", *BASE, "train.total_steps=3",
                                                             "log.save_every=1"] for x in ("--set", kv))]
    assert main(args) == EXIT_SAVE_FAILED == 4  # (was a traceback and exit status 1: "an evaluation failed")
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "saving the checkpoint of step 2" in err and "failed" in err
    assert f"the latest checkpoint is {out / 'checkpoints' / 'step_000001'}" in err and "--resume" in err
    assert ("disk looks full" in err) == (failure != "permission")
    assert not any(p.name.startswith(".tmp-") for p in (out / "checkpoints").iterdir())
    monkeypatch.undo()
    assert main(args[:-4] + ["--set", "train.total_steps=3", "--resume"]) == 0  # resumes from step 1
    assert [r["step"] for r in read_jsonl(out / "metrics.jsonl")] == [1, 2, 3]


def test_a_failed_save_raises_checkpoint_save_error_from_the_api(tmp_path, monkeypatch):
    tr = Trainer(make_config(tmp_path, "train.total_steps=1"))
    monkeypatch.setattr(checkpoint_module.torch, "save", lambda *a, **k: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full")))
    try:
        with pytest.raises(CheckpointSaveError, match=r"step 1 .*OSError.*disk looks full") as caught:
            tr.train()
    finally:
        tr.close()
    assert caught.value.step == 1 and caught.value.disk_full and isinstance(caught.value.cause, OSError)


def test_the_exit_statuses_are_documented(capsys):
    assert main(["train", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "3 verification kept failing" in text and "4 a checkpoint could not be saved" in text


# ---------------------------------------------------------------- 8. summary.json and curves.png during the run


def test_summary_and_plot_are_brought_up_to_date_at_each_checkpoint(tmp_path):
    tr = Trainer(make_config(tmp_path, "train.total_steps=3", "log.save_every=2", "log.plot=true", "eval.num_tasks=2",
                             "eval.every=2"))
    seen = {}
    step = tr.step

    def step_and_look():
        if tr.step_count == 2:  # step 3 starts: step 2's checkpoint is saved
            seen["summary"] = json.loads((tmp_path / "summary.json").read_text())
            seen["plot"] = (tmp_path / "curves.png").stat().st_size
        return step()

    tr.step = step_and_look
    try:
        final = tr.train()
    finally:
        tr.close()
    assert seen["summary"]["steps"] == 2 and seen["summary"]["in_progress"] is True
    assert seen["summary"]["eval_steps"] == [0, 2] and "pass@1_after" in seen["summary"]
    assert seen["plot"] > 1000
    assert final["steps"] == 3 and "in_progress" not in json.loads((tmp_path / "summary.json").read_text())


# ---------------------------------------------------------------- an infrastructure stop saves the last step


def test_an_infrastructure_stop_saves_the_last_completed_step_and_resumes_exactly(tmp_path, monkeypatch, capsys):
    common = ("train.total_steps=4", "log.plot=true")  # log.save_every=0: only the final save
    whole, _ = run(tmp_path / "whole", *common)

    out = tmp_path / "stopped"
    tr = Trainer(make_config(out, *common))
    real = RolloutCollector.collect

    def collect_then_fail(self, tasks, *args, **kwargs):
        groups = real(self, tasks, *args, **kwargs)  # the failing step had drawn tasks and random numbers
        if tr.step_count == 2:
            raise RolloutInfrastructureError("sandbox down (simulated)")
        return groups

    monkeypatch.setattr(RolloutCollector, "collect", collect_then_fail)
    try:
        with pytest.raises(RolloutInfrastructureError):
            tr.train()
    finally:
        tr.close()
    monkeypatch.undo()
    assert [s for s, _ in list_checkpoints(out)] == [2]  # was: no checkpoint at all, steps 1-2 lost
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 2 and summary["stopped_at_step"] == 2 and "sandbox down" in summary["stop_reason"]
    assert (out / "curves.png").stat().st_size > 1000
    assert "saved step 2, the last completed step, before stopping" in capsys.readouterr().err

    resumed, _ = run(out, *common, resume=True)
    assert rows(out) == rows(tmp_path / "whole")  # the failed step's draws were put back: exactly the same run
    assert same_weights(resumed.model, whole.model) and resumed.task_counter == whole.task_counter


def test_cli_infrastructure_stop_points_at_the_saved_step(tmp_path, monkeypatch, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("{}\n")
    out = tmp_path / "run"
    real = RolloutCollector.collect
    calls = {"n": 0}

    def collect(self, tasks, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 2:
            raise RolloutInfrastructureError("sandbox down (simulated)")
        return real(self, tasks, *args, **kwargs)

    monkeypatch.setattr(RolloutCollector, "collect", collect)
    args = ["train", "--config", str(config), *(x for kv in [f"log.output_dir={out}", *BASE, "train.total_steps=5",
                                                             "algorithm.dynamic_sampling=false"] for x in ("--set", kv))]
    assert main(args) == 3
    assert f"the latest checkpoint is {out / 'checkpoints' / 'step_000002'}" in capsys.readouterr().err
    assert latest_checkpoint(out).name == "step_000002"
