"""Checkpoints and output directories (audit 24): resuming an interrupted demo, one run per output
directory (two real processes), the advice of --resume without a checkpoint, re-saving a step
atomically, checkpoint permissions, loading trainer_state.pt without unpickling code (old
checkpoints still load) and a foreign config.json. Tiny runs of a step or few each."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

import rlvr.trainers.checkpoint as ck
from rlvr.cli import main
from rlvr.trainers.checkpoint import latest_checkpoint, list_checkpoints, load_trainer_state, save_checkpoint
from rlvr.trainers.config import config_to_dict, load_config
from rlvr.trainers.metrics import read_jsonl
from rlvr.trainers.trainer import ResumeError, Trainer
from conftest import register_say_a_digit

register_say_a_digit()
BASE = ["log.progress=false", "log.tensorboard=false", "log.plot=false", "env.id=rlvr/SayADigit-v0",
        "sampling.max_new_tokens=4", "train.batch_groups=4", "train.group_size=4", "train.lr=3e-3",
        "algorithm.ds_max_extra_rounds=1", "model.tiny_hidden_size=32", "model.tiny_layers=1"]
ROOT = Path(__file__).resolve().parents[1]


def make_config(out, *extra):
    return load_config(None, [f"log.output_dir={out}", *BASE, *extra])


def run(out, *extra, **kwargs):
    tr = Trainer(make_config(out, *extra), **kwargs)
    try:
        return tr, tr.train()
    finally:
        tr.close()


def comparable(rows):
    return [{k: v for k, v in r.items() if not k.startswith("time/") and k != "tokens_per_s"} for r in rows]


def model_weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(checkpoint / "model" / "model.safetensors")


# ---------------------------------------------------------------- 6. rlvr demo --resume


TINY_DEMO = ["warmup.steps=2", "train.total_steps=4", "train.batch_groups=2", "train.group_size=2",
             "model.tiny_hidden_size=32", "model.tiny_layers=1", "log.progress=false", "log.tensorboard=false",
             "log.plot=false", "eval.num_tasks=4"]


def test_an_interrupted_demo_continues_exactly_with_the_command_it_prints(tmp_path, capsys, monkeypatch):
    """Ctrl-C in `rlvr demo` said "continue with the same command plus --resume", but `rlvr demo
    --resume` was an unrecognized argument and a plain rerun deleted the run. Now the demo prints
    the exact command, which continues the run to the result of an uninterrupted demo."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers belong to the main thread")
    sets = [x for kv in TINY_DEMO for x in ("--set", kv)]
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert main(["demo", "--output-dir", str(whole), *sets]) == 0

    parts.mkdir()
    (parts / ".lock").write_text("")  # a lock file alone (a demo that failed to start) is not another run
    from rlvr.trainers import trainer as trainer_module

    real_step = trainer_module.Trainer.step

    def step_then_ctrl_c(self):
        metrics = real_step(self)
        if self.step_count == 2:
            os.kill(os.getpid(), signal.SIGINT)  # arrives mid-step: the step finishes and is saved
        return metrics

    monkeypatch.setattr(trainer_module.Trainer, "step", step_then_ctrl_c)
    capsys.readouterr()
    assert main(["demo", "--output-dir", str(parts), *sets]) == 130
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert [s for s, _ in list_checkpoints(parts)] == [2]
    line = [x for x in err.splitlines() if "continue this run with: " in x][-1]
    command = shlex.split(line.split("continue this run with: ", 1)[1])
    assert command[:2] == ["rlvr", "demo"] and command[-1] == "--resume"
    assert command == ["rlvr", "demo", "--output-dir", str(parts), *sets, "--resume"]

    assert main(command[1:]) == 0
    out = capsys.readouterr().out
    assert f"resuming from {parts / 'checkpoints' / 'step_000002'} (step 2)" in out
    assert comparable(read_jsonl(parts / "metrics.jsonl")) == comparable(read_jsonl(whole / "metrics.jsonl"))
    a, b = model_weights(latest_checkpoint(whole)), model_weights(latest_checkpoint(parts))
    assert latest_checkpoint(parts).name == "step_000004" and all(torch.equal(a[k], b[k]) for k in a)
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (whole, parts))
    assert (sb["steps"], sb["pass@1_before"], sb["pass@1_after"]) == (4, sa["pass@1_before"], sa["pass@1_after"])
    # nothing left to do: refused, exit 2, nothing deleted
    assert main(command[1:]) == 2
    assert "nothing left to do" in capsys.readouterr().err and latest_checkpoint(parts).name == "step_000004"


# ---------------------------------------------------------------- 7. one run per output directory


TINY_YAML = """\
model: {name_or_path: tiny, tiny_hidden_size: 32, tiny_layers: 1, device: cpu}
env: {id: rlvr/Arithmetic-v0, kwargs: {format: compact, digits: 1}}
sampling: {max_new_tokens: 3}
train: {total_steps: 1, batch_groups: 2, group_size: 2}
algorithm: {ds_max_extra_rounds: 1}
eval: {num_tasks: 0}
log: {progress: false, tensorboard: false, plot: false}
"""

HOLDER = """\
import sys
from rlvr.trainers.config import load_config
from rlvr.trainers.trainer import Trainer
trainer = Trainer(load_config(sys.argv[1], [f"log.output_dir={sys.argv[2]}", "train.total_steps=3"]))
print("ready", flush=True)
sys.stdin.readline()  # holds the run until the test closes stdin
"""


def test_a_second_process_is_refused_while_a_run_holds_the_output_dir(tmp_path, capsys):
    """Two processes in one output directory: one's clean-up deleted the other's save in progress
    and keep_last pruned the wrong checkpoints. Now the run holds OUTPUT_DIR/.lock (flock) for its
    life, and another process, fresh or --resume, fails at once naming the directory."""
    config, out = tmp_path / "tiny.yaml", tmp_path / "run"
    config.write_text(TINY_YAML)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(config), str(out)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready", holder.stderr.read()
        args = ["train", "--config", str(config), "--set", f"log.output_dir={out}"]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert f"{out} is in use: another run (process {holder.pid}) holds its lock {out / '.lock'}" in err
        assert latest_checkpoint(out) is None and not (out / "metrics.jsonl").exists()
        assert main(["demo", "--output-dir", str(out), *[x for kv in TINY_DEMO for x in ("--set", kv)]]) == 2
        assert f"{out} is in use" in capsys.readouterr().err
    finally:
        holder.stdin.close()  # the holder exits: the operating system releases its lock
        assert holder.wait(timeout=120) == 0
    assert main(args) == 0  # (the holder built its run but never trained: nothing is in the directory)
    assert [s for s, _ in list_checkpoints(out)] == [1]
    assert main([*args, "--set", "train.total_steps=2", "--resume"]) == 0  # this process's own lock: fine
    assert [s for s, _ in list_checkpoints(out)] == [1, 2]


CLOSER = """\
import sys
from rlvr.trainers.config import load_config
from rlvr.trainers.trainer import Trainer
Trainer(load_config(sys.argv[1], [f"log.output_dir={sys.argv[2]}", "train.total_steps=3"])).close()
print("closed", flush=True)
sys.stdin.readline()  # lives on, as a notebook would, after its run is closed
"""


def test_a_closed_run_gives_up_the_output_dir_while_its_process_lives_on(tmp_path):
    config, out = tmp_path / "tiny.yaml", tmp_path / "run"
    config.write_text(TINY_YAML)
    closer = subprocess.Popen([sys.executable, "-c", CLOSER, str(config), str(out)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert closer.stdout.readline().strip() == "closed", closer.stderr.read()
        assert main(["train", "--config", str(config), "--set", f"log.output_dir={out}"]) == 0
    finally:
        closer.stdin.close()
        assert closer.wait(timeout=120) == 0


# ---------------------------------------------------------------- 9. --resume without a checkpoint


def test_resume_without_a_checkpoint_gives_advice_that_works(tmp_path):
    """`--resume` with no checkpoint said "run without --resume to start", which was then refused
    because the directory held outputs; the advice now names log.overwrite=true, and following it works."""
    run(tmp_path, "train.total_steps=1", "log.save_final=false")
    with pytest.raises(ResumeError) as info:
        Trainer(make_config(tmp_path, "train.total_steps=1"), resume=True)
    message = str(info.value)
    assert "no checkpoint" in message and "run without --resume and with --set log.overwrite=true" in message
    assert "metrics.jsonl, summary.json" in message
    Trainer(make_config(tmp_path, "train.total_steps=1", "log.overwrite=true"))  # the advice is accepted
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ResumeError, match="run without --resume to start") as info:
        Trainer(make_config(empty, "train.total_steps=1"), resume=True)
    assert "log.overwrite" not in str(info.value)  # nothing there to overwrite
    Trainer(make_config(empty, "train.total_steps=1"))


# ---------------------------------------------------------------- 10. re-saving a step


def test_resaving_a_step_never_loses_it(tmp_path, monkeypatch):
    """Re-saving a step deleted the old copy before renaming the new one in, and a failed rename
    then deleted the new one too: the step was gone. Now the old copy is moved aside and put back."""
    tr, _ = run(tmp_path, "train.total_steps=1", "log.keep_last=1")
    step1 = latest_checkpoint(tmp_path)
    state, before = load_trainer_state(step1), model_weights(step1)
    real = os.replace

    def full_disk_at_the_rename(src, dst):
        if ".tmp-step_" in str(src):
            raise OSError(28, "No space left on device (simulated)")
        return real(src, dst)

    monkeypatch.setattr(ck.os, "replace", full_disk_at_the_rename)
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint(tmp_path, 1, model=tr.model, tokenizer=tr.tokenizer, state=state, keep_last=1)
    monkeypatch.undo()
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step_000001"]
    after = model_weights(step1)
    assert load_trainer_state(step1)["step"] == 1 and all(torch.equal(before[k], after[k]) for k in before)
    save_checkpoint(tmp_path, 1, model=tr.model, tokenizer=tr.tokenizer, state=state, keep_last=1)  # works
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step_000001"]
    # a save killed between moving the old copy aside and renaming the new one in: --resume puts it back
    os.replace(step1, tmp_path / "checkpoints" / ".old-step_000001-x1")
    (tmp_path / "checkpoints" / ".tmp-step_000001-y2").mkdir()
    resumed = Trainer(make_config(tmp_path, "train.total_steps=2", "log.keep_last=1"), resume=True)
    assert resumed.step_count == 1 and resumed.resumed_from == step1
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step_000001"]


# ---------------------------------------------------------------- 11. permissions


@pytest.mark.parametrize("umask, mode", [(0o022, 0o755), (0o027, 0o750)])
def test_checkpoint_directories_follow_the_umask(tmp_path, umask, mode):
    """tempfile.mkdtemp made every step directory 0700 whatever the umask, so another user (a shared
    `rlvr serve` account) could not read the model; now they get 0o777 & ~umask like the rest."""
    old = os.umask(umask)
    try:
        run(tmp_path, "train.total_steps=1")
    finally:
        os.umask(old)
    step = latest_checkpoint(tmp_path)
    assert step.stat().st_mode & 0o777 == mode
    for p in step.rglob("*"):
        expected = mode if p.is_dir() else mode & 0o666
        assert p.stat().st_mode & 0o777 == expected, p


# ---------------------------------------------------------------- 12. loading trainer_state.pt


def test_resume_never_unpickles_code_and_old_checkpoints_still_load(tmp_path):
    """trainer_state.pt was loaded with weights_only=False: a crafted checkpoint ran code on --resume.
    Now it is loaded with weights_only=True (refused with a clear message), new checkpoints hold only
    tensors and plain data, and a checkpoint written the old way (NumPy RNG state as an array) loads."""
    tr, _ = run(tmp_path / "a", "train.total_steps=1")
    step1 = latest_checkpoint(tmp_path / "a")
    torch.load(step1 / "trainer_state.pt", weights_only=True)  # plain weights_only, nothing allow-listed
    # NumPy values a trainer may put in the state are written as plain numbers and lists
    numpy_values = {"step": 7, "loss": np.float64(0.5), "seen": np.arange(3), "pair": (np.int64(2), 1.0)}
    extra = save_checkpoint(tmp_path / "x", 7, model=tr.model, tokenizer=None, state=numpy_values)
    plain = torch.load(extra / "trainer_state.pt", weights_only=True)
    assert plain == {"step": 7, "loss": 0.5, "seen": [0, 1, 2], "pair": (2, 1.0)}

    # a checkpoint written by an earlier version: np.random.get_state() pickled as it is
    state = load_trainer_state(step1)
    np.random.seed(1234)
    old_numpy = np.random.get_state()
    state["rng"]["numpy"] = old_numpy
    torch.save(state, step1 / "trainer_state.pt")
    assert isinstance(load_trainer_state(step1)["rng"]["numpy"][1], np.ndarray)
    np.random.seed(0)
    resumed = Trainer(make_config(tmp_path / "a", "train.total_steps=2"), resume=True)
    assert np.array_equal(np.random.get_state()[1], old_numpy[1]) and np.random.get_state()[2] == old_numpy[2]
    assert resumed.train()["steps"] == 2
    resumed.close()

    # a crafted one: refused, naming the file, and the code does not run
    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'PWNED'}",))

    run(tmp_path / "b", "train.total_steps=1")
    step1 = latest_checkpoint(tmp_path / "b")
    state = load_trainer_state(step1)
    state["warmup_stats"] = {"x": Evil()}
    torch.save(state, step1 / "trainer_state.pt")
    with pytest.raises(ResumeError, match=r"trainer_state\.pt holds objects other than tensors and plain data "
                                          r"\(posix\.system\).*can run arbitrary code") as info:
        Trainer(make_config(tmp_path / "b", "train.total_steps=2"), resume=True)
    assert str(step1 / "trainer_state.pt") in str(info.value)
    assert not (tmp_path / "PWNED").exists()
    with pytest.raises(ck.CheckpointError):
        load_trainer_state(step1)
    assert not (tmp_path / "PWNED").exists()


# ---------------------------------------------------------------- 13. a foreign config.json


def test_a_config_json_that_is_not_an_rlvr_run_is_refused(tmp_path):
    """A Hugging Face model's config.json in the output directory counted as a fresh directory and
    was overwritten; now it is refused by name, with log.overwrite too, and left as it was."""
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    foreign = '{"model_type": "llama", "hidden_size": 4096}'
    (model_dir / "config.json").write_text(foreign)
    for extra in ((), ("log.overwrite=true",)):
        with pytest.raises(ResumeError, match=r"config\.json is not an rlvr run's config \(it has no model, env, "
                                              r"train, log sections; its keys: model_type, hidden_size\)") as info:
            Trainer(make_config(model_dir, "train.total_steps=1", *extra))
        assert str(model_dir / "config.json") in str(info.value)
    assert (model_dir / "config.json").read_text() == foreign
    # an rlvr run's own config.json (a run that stopped before writing anything else) is still replaced
    started = tmp_path / "started"
    started.mkdir()
    (started / "config.json").write_text(json.dumps(config_to_dict(make_config(started))))
    _, summary = run(started, "train.total_steps=1")
    assert summary["steps"] == 1


def test_a_demo_whose_checkpoint_cannot_be_written_says_why_and_exits_4(tmp_path, monkeypatch, capsys):
    """`rlvr demo` stopped by a failed save (a full disk) gave a traceback; it now says why and how
    to continue, with `rlvr train`'s exit status for it."""
    import errno

    real_save = ck.torch.save

    def save(obj, path, *args, **kwargs):
        if "step_000002" in str(path):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(obj, path, *args, **kwargs)

    monkeypatch.setattr(ck.torch, "save", save)
    out = tmp_path / "demo"
    argv = ["demo", "--output-dir", str(out), *[x for kv in [*TINY_DEMO, "log.save_every=1"] for x in ("--set", kv)]]
    assert main(argv) == 4
    err = capsys.readouterr().err
    assert "Traceback" not in err and "rlvr demo: the run stopped because" in err and "disk looks full" in err
    assert "continue with:" in err and "--resume" in err


def test_a_run_that_fails_to_build_gives_up_the_output_dir(tmp_path):
    """A Trainer whose construction failed after the output directory's checks kept its lock for
    the rest of the process: every later run there, in any process, was refused (review of audit 24)."""
    from rlvr.trainers.runs import holds_output_dir

    config = make_config(tmp_path, "train.total_steps=1")
    with pytest.raises(ValueError, match="tokenizer"):
        Trainer(config, model=object())  # fails after the checks: a model without its tokenizer
    assert not holds_output_dir(tmp_path)
    run(tmp_path, "train.total_steps=1")  # the directory is free


def test_a_trainer_gives_up_only_a_lock_it_took(tmp_path):
    """`rlvr demo` holds the output directory's lock around its Trainer and writes its summary after
    training: the Trainer's close() released the demo's lock (review of audit 24)."""
    from rlvr.trainers.runs import holds_output_dir, lock_output_dir, release_output_dir

    lock_output_dir(tmp_path)
    try:
        run(tmp_path, "train.total_steps=1")
        assert holds_output_dir(tmp_path)
    finally:
        release_output_dir(tmp_path)
    run(tmp_path, "train.total_steps=2", resume=True)
    assert not holds_output_dir(tmp_path)


def test_an_occupied_output_dir_names_the_python_form_too(tmp_path):
    """A first-hour user running the README's Python snippet into a run folder `make demo` filled
    was told only CLI flags (--resume, --set); the advice now names the Python form as well, and
    following it works."""
    run(tmp_path, "train.total_steps=1")
    with pytest.raises(ResumeError) as info:
        Trainer(make_config(tmp_path, "train.total_steps=1"))
    message = str(info.value)
    assert "Trainer(config, resume=True)" in message and "load_config" in message
    Trainer(make_config(tmp_path, "train.total_steps=2"), resume=True)  # the advice is accepted
