"""CLI audit 29: what a documentation walk-through found in `rlvr eval` and `rlvr serve`.

- `--model` given an rlvr checkpoint folder (the docs' most likely slip after training: its model
  is in `model/`) failed with a tokenizer error about sentencepiece, and a path that does not exist
  without a leading ./ (`runs/x/model`) with "Repo id must be in the form ..."; `rlvr train` named
  both plainly. Now all three commands share the check (`rlvr.trainers.model_source`).
- a run refused after the options (its data missing or malformed, the hub unreachable) left the
  --out folder it had created, empty.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from rlvr.benchmarks.samples import write_sample
from rlvr.cli import main
from rlvr.trainers.model_source import model_path_problem


@pytest.fixture()
def checkpoint(tmp_path):
    """A folder laid out as an rlvr checkpoint: trainer_state.pt beside model/."""
    folder = tmp_path / "run" / "checkpoints" / "step_000002"
    (folder / "model").mkdir(parents=True)
    (folder / "trainer_state.pt").write_bytes(b"")
    return folder


def test_the_problems_are_named_without_loading_anything(tmp_path, checkpoint, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert model_path_problem(str(checkpoint)) == ("an rlvr checkpoint folder, whose model is in its model/ subfolder",
                                                   str(checkpoint / "model"))
    assert model_path_problem("runs/nonexist/model") == (f"no such folder ({tmp_path / 'runs/nonexist/model'})", None)
    for fine in (str(checkpoint / "model"), "org/name", "gpt2", "tiny"):
        assert model_path_problem(fine) is None


@pytest.mark.parametrize("command, status", [("eval", 2), ("serve", 2)])
def test_a_checkpoint_folder_as_the_model_names_its_model_subfolder(tmp_path, capsys, checkpoint, command, status):
    args = ["--model", str(checkpoint), "--port", "0"]
    if command == "eval":
        args = args[:2]
        args = ["--benchmark", "gsm8k", "--data", write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl")), "--engine", "hf",
                *args, "--out", str(tmp_path / "out"), "--no-progress"]
    assert main([command, *args]) == status
    err = capsys.readouterr().err
    assert err == (f"rlvr {command}: --model {str(checkpoint)!r} is an rlvr checkpoint folder, whose model is in its "
                   f"model/ subfolder: use --model {str(checkpoint / 'model')!r}\n")


@pytest.mark.parametrize("command, status", [("eval", 2), ("serve", 2)])
def test_a_missing_model_path_is_no_such_folder_not_a_bad_repo_id(tmp_path, capsys, monkeypatch, command, status):
    monkeypatch.chdir(tmp_path)
    args = ["--model", "runs/nonexist/model", "--port", "0"]
    if command == "eval":
        args = args[:2]
        args = ["--benchmark", "gsm8k", "--data", write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl")), "--engine", "hf",
                *args, "--out", str(tmp_path / "out"), "--no-progress"]
    assert main([command, *args]) == status
    err = capsys.readouterr().err
    assert err.startswith(f"rlvr {command}: --model 'runs/nonexist/model': no such folder "
                          f"({tmp_path / 'runs/nonexist/model'}); give a folder written by save_pretrained")
    assert "Repo id" not in err


@pytest.mark.parametrize("data", ["missing", "empty", "bad-json"])
def test_a_run_refused_for_its_data_leaves_no_empty_out_folder(tmp_path, capsys, data):
    path = tmp_path / "gsm8k.jsonl"
    if data == "empty":
        path.write_text("")
    elif data == "bad-json":
        path.write_text("{not json\n")
    comps = tmp_path / "c.jsonl"
    comps.write_text(json.dumps({"task_id": "0", "completion": "\\boxed{1}"}) + "\n")
    out = tmp_path / "runs" / "new"
    assert main(["eval", "--benchmark", "gsm8k", "--data", str(path), "--completions", str(comps), "--out", str(out),
                 "--no-progress"]) == 2
    assert capsys.readouterr().err.startswith("rlvr eval: ")
    assert not out.exists() and not out.parent.exists()


def test_a_run_that_goes_ahead_creates_its_out_folder(tmp_path, capsys):
    data = write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl"))
    comps = tmp_path / "c.jsonl"
    comps.write_text(json.dumps({"task_id": "0", "completion": "\\boxed{1}"}) + "\n")
    out = tmp_path / "runs" / "new"
    assert main(["eval", "--benchmark", "gsm8k", "--data", data, "--limit", "1", "--completions", str(comps),
                 "--out", str(out), "--no-progress"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [".lock", "pass_at_k.png", "run.json", "samples.jsonl", "summary.json"]


def test_an_out_folder_that_cannot_be_created_is_refused_before_anything_runs(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["eval", "--benchmark", "gsm8k", "--engine", "hf", "--model", "tiny", "--out", str(blocker / "x" / "y"),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rlvr eval: --out {str(blocker / 'x' / 'y')!r} cannot hold the results") and "is a file" in err


@pytest.mark.parametrize("kind", ["empty", "dangling-link"])
def test_an_out_path_that_names_no_folder_is_refused_with_a_message(tmp_path, capsys, monkeypatch, kind):
    """(A review of the change above: the data loaded, then `os.makedirs` raised a traceback.)"""
    monkeypatch.chdir(tmp_path)
    data = write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl"))
    comps = tmp_path / "c.jsonl"
    comps.write_text(json.dumps({"task_id": "0", "completion": "\\boxed{1}"}) + "\n")
    out = ""
    if kind == "dangling-link":
        (tmp_path / "dangling").symlink_to(tmp_path / "gone")
        out = "dangling"
    assert main(["eval", "--benchmark", "gsm8k", "--data", data, "--completions", str(comps), "--out", out,
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err == ("rlvr eval: --out is empty; give a folder path (it is created if missing)\n" if kind == "empty" else
                   f"rlvr eval: --out 'dangling' is a link to {str(tmp_path / 'gone')!r}, which does not exist; create "
                   "that folder or give another path\n")


def test_a_relative_sandbox_python_is_taken_from_here(monkeypatch):
    """(A review: as root, the unprivileged-start probe ran from / and looked for /py/python3.)"""
    from rlvr.sandbox import make_sandbox
    from rlvr.sandbox.bwrap import default_python

    root = Path(tempfile.mkdtemp())
    root.chmod(0o755)  # (as root, jobs run unprivileged: they must reach the interpreter)
    try:
        (root / "py").mkdir()
        (root / "py" / "python3").symlink_to(default_python())
        monkeypatch.chdir(root)
        box = make_sandbox("subprocess", python="py/python3")
        try:
            assert box.python == str(root / "py" / "python3")
            assert box.run("print(6 * 7)").stdout == "42\n"
        finally:
            box.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
