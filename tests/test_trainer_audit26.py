"""`rlvr train` / `rlvr demo` (audit 26): log.overwrite deletes only an earlier run's outputs,
output paths are taken as given (no YAML), a damaged checkpoint is a clear exit-2 error, a run
stopped before its first step (or failing to start) leaves nothing in the way, and settings that
would be silently unused are reported. Tiny runs of a step or two each."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch

from rlvr.cli import main
from rlvr.trainers.checkpoint import latest_checkpoint, list_checkpoints
from rlvr.trainers.config import ConfigWarning, load_config
from rlvr.trainers.metrics import read_jsonl
from conftest import register_say_a_digit

register_say_a_digit()

TINY_YAML = """\
model: {name_or_path: tiny, tiny_hidden_size: 32, tiny_layers: 1, device: cpu}
env: {id: rlvr/SayADigit-v0}
sampling: {max_new_tokens: 3}
algorithm: {ds_max_extra_rounds: 1}
train: {total_steps: 1, batch_groups: 2, group_size: 2, lr: 0.003}
eval: {num_tasks: 0}
log: {progress: false, tensorboard: false, plot: false}
"""

TINY_DEMO = ["warmup.steps=2", "train.total_steps=1", "train.batch_groups=2", "train.group_size=2",
             "model.tiny_hidden_size=32", "model.tiny_layers=1", "log.progress=false", "log.tensorboard=false",
             "log.plot=false", "eval.num_tasks=0", "eval.every=0"]


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_YAML)
    return path


def train(config: Path, out: Path, *sets: str, resume: bool = False) -> int:
    """`rlvr train --config CONFIG --set log.output_dir=OUT --set ...` (and --resume)."""
    args = ["train", "--config", str(config), "--set", f"log.output_dir={out}"]
    args += [x for kv in sets for x in ("--set", kv)] + (["--resume"] if resume else [])
    return main(args)


# ---------------------------------------------------------------- 1. log.overwrite and foreign files


def test_overwrite_refuses_folders_holding_files_no_run_wrote(tmp_path, config, capsys):
    """With no rlvr run in OUT, OUT/checkpoints/my_model_notes.txt and OUT/tensorboard/events.other
    were rmtree'd by log.overwrite ("removed the previous run's checkpoints, tensorboard"). Now
    the run is refused before anything is built, naming the files, and they stay."""
    out = tmp_path / "ow"
    (out / "checkpoints").mkdir(parents=True)
    (out / "tensorboard").mkdir()
    (out / "checkpoints" / "my_model_notes.txt").write_text("notes")
    (out / "tensorboard" / "events.other").write_text("other")
    assert train(config, out, "log.overwrite=true") == 2
    err = capsys.readouterr().err
    assert "my_model_notes.txt" in err and "events.other" in err and "removed" not in err
    assert (out / "checkpoints" / "my_model_notes.txt").read_text() == "notes"
    assert (out / "tensorboard" / "events.other").read_text() == "other"


def test_overwrite_still_replaces_an_earlier_run(tmp_path, config, capsys):
    """An earlier run's checkpoints, event files and metrics are what log.overwrite removes, and the
    files next to them in OUT (not run outputs) stay."""
    out = tmp_path / "run"
    assert train(config, out, "log.tensorboard=true") == 0
    (out / "mydata.txt").write_text("mine")
    capsys.readouterr()
    assert train(config, out, "log.overwrite=true", "log.tensorboard=false") == 0
    err = capsys.readouterr().err
    assert "removed the previous run's checkpoints" in err and "tensorboard" in err
    assert not (out / "tensorboard").exists() and (out / "mydata.txt").read_text() == "mine"
    assert [s for s, _ in list_checkpoints(out)] == [1]


# ---------------------------------------------------------------- 2. output paths are no YAML


@pytest.mark.parametrize("name", ["demo1 #2", "2024", "on"])
def test_demo_output_dir_is_used_as_given(tmp_path, monkeypatch, capsys, name):
    """`--output-dir "/x/demo1 #2"` ran in /x/demo1 (a YAML comment) and replaced that run; `2024`
    and `on` failed on log.output_dir, a key never typed. The path is now used as it is."""
    monkeypatch.chdir(tmp_path)
    sets = [x for kv in TINY_DEMO for x in ("--set", kv)]
    assert main(["demo", "--output-dir", name, *sets]) == 0
    assert (tmp_path / name / "summary.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_demo_resume_command_and_output_dir_read_overrides_as_the_config_does(tmp_path):
    """The demo's resume command is one shell word per argument, and `--set log.output_dir='2024'`
    names the folder 2024 (not '2024', quotes kept)."""
    from rlvr.commands.demo import _output_dir, resume_command

    args = argparse.Namespace(config=None, output_dir=str(tmp_path / "demo1 #2"), quick=False,
                              overrides=["log.output_dir='2024'"])
    assert _output_dir(args) == "2024"
    words = shlex.split(resume_command(args))
    assert words[2:] == ["--output-dir", str(tmp_path / "demo1 #2"), "--set", "log.output_dir='2024'", "--resume"]


# ---------------------------------------------------------------- 3. a damaged checkpoint


@pytest.fixture(scope="module")
def two_checkpoints(tmp_path_factory) -> Path:
    """A run with checkpoints step_000001 and step_000002."""
    base = tmp_path_factory.mktemp("damaged")
    (base / "tiny.yaml").write_text(TINY_YAML)
    assert train(base / "tiny.yaml", base / "run", "train.total_steps=2", "log.save_every=1") == 0
    return base / "run"


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


DAMAGES = {
    "state truncated": lambda ck: _truncate(ck / "trainer_state.pt"),
    "state empty": lambda ck: (ck / "trainer_state.pt").write_bytes(b""),
    "weights missing": lambda ck: (ck / "model" / "model.safetensors").unlink(),
    "weights truncated": lambda ck: _truncate(ck / "model" / "model.safetensors"),
    "weights empty": lambda ck: (ck / "model" / "model.safetensors").write_bytes(b""),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_latest_checkpoint_is_exit_2_naming_it_and_the_previous_one(two_checkpoints, tmp_path, capsys, damage):
    """A truncated or empty trainer_state.pt or model.safetensors gave a raw traceback and exit 1
    (which means "trained, evaluation failed"). Now: exit 2, naming the broken checkpoint, how to
    move it aside and the complete checkpoint --resume then continues from."""
    out = tmp_path / "run"
    shutil.copytree(two_checkpoints, out)
    DAMAGES[damage](out / "checkpoints" / "step_000002")
    assert main(["train", "--resume", "--set", f"log.output_dir={out}", "--set", "train.total_steps=3"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"{out / 'checkpoints' / 'step_000002'} is damaged" in err
    assert f"previous complete checkpoint, {out / 'checkpoints' / 'step_000001'}" in err
    assert f"mv {out / 'checkpoints' / 'step_000002'} " in err


def test_a_checkpoint_without_its_model_folder_is_not_complete(two_checkpoints, tmp_path, capsys):
    """A step folder without model/ counted as a checkpoint (and failed to load): it is passed over,
    with a message, and the run resumes from the complete one before it."""
    out = tmp_path / "run"
    shutil.copytree(two_checkpoints, out)
    shutil.rmtree(out / "checkpoints" / "step_000002" / "model")
    assert latest_checkpoint(out).name == "step_000001"
    assert main(["train", "--resume", "--set", f"log.output_dir={out}"]) == 0
    err = capsys.readouterr().err
    assert "skipping" in err and "step_000002" in err
    assert [s for s, _ in list_checkpoints(out)] == [1, 2]


# ---------------------------------------------------------------- 4. --resume without --config


def test_resume_without_config_reads_a_quoted_output_dir_as_the_config_does(two_checkpoints, tmp_path, capsys):
    """`--resume --set "log.output_dir='DIR'"` looked for 'DIR'/config.json, quotes kept."""
    out = tmp_path / "run"
    shutil.copytree(two_checkpoints, out)
    assert main(["train", "--resume", "--set", f"log.output_dir='{out}'", "--set", "train.total_steps=3"]) == 0
    assert latest_checkpoint(out).name == "step_000003"


# ---------------------------------------------------------------- 5. stopped before step 1, failed start


def test_a_run_stopped_during_the_warmup_can_simply_be_run_again(tmp_path, config, capsys, monkeypatch):
    """SIGTERM during the warm-up left an empty metrics.jsonl, and rerunning the same command was
    refused ("holds the outputs of a run without a checkpoint"). The stop is reported once (the
    trainer's line, no second "interrupted"), and the rerun starts."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers belong to the main thread")
    from rlvr.trainers import trainer as trainer_module

    def warmup_then_sigterm(self, logger=None):
        os.kill(os.getpid(), signal.SIGTERM)  # outside the RL steps: stops at once

    out = tmp_path / "run"
    monkeypatch.setattr(trainer_module.Trainer, "run_warmup", warmup_then_sigterm)
    assert train(config, out, "warmup.steps=1", "log.tensorboard=true") == 130
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert "interrupted at step 0" in err and "interrupted" not in err.replace("interrupted at step 0", "")
    assert (out / "metrics.jsonl").read_text() == ""
    assert train(config, out, "warmup.steps=1") == 0
    assert latest_checkpoint(out).name == "step_000001"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_a_failed_start_leaves_no_folder_holding_only_the_lock(tmp_path, config, capsys):
    """model.device=cuda without a GPU left OUT holding only .lock; a folder that was there stays."""
    out = tmp_path / "new" / "run"
    assert train(config, out, "model.device=cuda") == 2
    assert "no CUDA GPU" in capsys.readouterr().err
    assert not out.exists()
    out.mkdir()
    assert train(config, out, "model.device=cuda") == 2
    assert out.is_dir()


# ---------------------------------------------------------------- 6. settings that would do nothing


@pytest.mark.parametrize("sets, named", [
    (["eval.every=1", "eval.num_tasks=0"], "eval.every=1 runs no evaluation"),
    (["engine.kwargs.gpu_memory_utilisation=0.5"], "engine.kwargs (gpu_memory_utilisation) are ignored"),
])
def test_settings_that_take_effect_nowhere_are_reported(sets, named):
    """eval.every without eval.num_tasks, and engine.kwargs (typos included) with the hf engine,
    were accepted and silently unused."""
    with pytest.warns(ConfigWarning, match=named.replace("(", r"\(").replace(")", r"\)")):
        load_config(None, sets)


def test_the_cli_shows_a_config_warning_once_on_one_line(tmp_path, config):
    """`rlvr train` validates the config twice: the warning shows once, as `warning: ...`."""
    command = [sys.executable, "-m", "rlvr.cli", "train", "--config", str(config), "--set",
               f"log.output_dir={tmp_path / 'run'}", "--set", "eval.every=1", "--set", "env.id=rlvr/Arithmetic-v0"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    err = done.stderr
    assert done.returncode == 0, err
    assert err.count("warning: eval.every=1 runs no evaluation") == 1 and "ConfigWarning" not in err


# ---------------------------------------------------------------- 7. pass@1 before training


def test_the_evaluation_before_training_is_a_metrics_row_and_a_resume_keeps_it(tmp_path, config):
    """Held-out pass@1 at step 0 was only in summary.json and curves.png: it is now the row of
    step 0 in metrics.jsonl (and TensorBoard), which a resume keeps, once."""
    out = tmp_path / "run"
    assert train(config, out, "eval.num_tasks=2", "log.save_every=1", "log.tensorboard=true") == 0
    rows = read_jsonl(out / "metrics.jsonl")
    before = json.loads((out / "summary.json").read_text())["pass@1_before"]
    assert [r["step"] for r in rows] == [0, 1] and rows[0]["eval/pass@1"] == before
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(out / "tensorboard"))
    events.Reload()
    assert [(e.step, e.value) for e in events.Scalars("eval/pass@1")][0] == (0, pytest.approx(before))
    assert main(["train", "--resume", "--set", f"log.output_dir={out}", "--set", "train.total_steps=2"]) == 0
    assert [r["step"] for r in read_jsonl(out / "metrics.jsonl")] == [0, 1, 2]


# ---------------------------------------------------------------- 8. model.name_or_path


@pytest.mark.parametrize("path", ["./my_models/ckpt", "/nonexistent/model", "a/b/c"])
def test_a_model_path_that_does_not_exist_is_no_such_folder(tmp_path, monkeypatch, capsys, config, path):
    """A local-looking path that does not exist reported "Repo id must be in the form..."."""
    monkeypatch.chdir(tmp_path)
    assert train(config, tmp_path / "run", f"model.name_or_path={path}") == 2
    err = capsys.readouterr().err
    assert "no such folder" in err and "Repo id" not in err


def test_a_checkpoint_folder_as_the_model_names_its_model_subfolder(two_checkpoints, tmp_path, capsys, config):
    """A checkpoint folder (instead of its model/) gave a tokenizer error."""
    ckpt = two_checkpoints / "checkpoints" / "step_000002"
    assert train(config, tmp_path / "run", f"model.name_or_path={ckpt}") == 2
    err = capsys.readouterr().err
    assert f"use model.name_or_path='{ckpt / 'model'}'" in err


# ---------------------------------------------------------------- 9. transformers' progress bars


def test_checkpoints_are_saved_and_loaded_without_transformers_progress_bars(two_checkpoints, tmp_path, capsys):
    """"Writing model shards" / "Loading weights" bars broke the run's bar and printed even with
    log.progress=false."""
    out = tmp_path / "run"
    shutil.copytree(two_checkpoints, out)
    assert main(["train", "--resume", "--set", f"log.output_dir={out}", "--set", "train.total_steps=3"]) == 0
    err = capsys.readouterr().err
    assert "Writing model shards" not in err and "Loading weights" not in err


def test_the_warmup_model_is_saved_without_transformers_progress_bar(tmp_path, config, capsys):
    """With a KL reference the warm-up saves its model to OUT/warmup_model: transformers' "Writing
    model shards" bar broke the run's own bar there too."""
    out = tmp_path / "run"
    assert train(config, out, "warmup.steps=1", "algorithm.kl_coef=0.01") == 0
    assert (out / "warmup_model" / "config.json").is_file()
    assert "Writing model shards" not in capsys.readouterr().err


def test_a_local_model_loads_without_transformers_progress_bar_when_progress_is_off(tmp_path, config, capsys):
    """With log.progress=false, loading `model.name_or_path` from a folder still drew transformers'
    "Loading weights" bar."""
    from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer

    folder = tmp_path / "model"
    tokenizer = build_tiny_tokenizer()
    build_tiny_model(tokenizer, hidden_size=32, num_layers=1).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    capsys.readouterr()
    assert train(config, tmp_path / "run", f"model.name_or_path={folder}") == 0
    assert "Loading weights" not in capsys.readouterr().err
