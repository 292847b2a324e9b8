"""`rlvr eval --sandbox-python PATH` and `--sandbox-image IMAGE`: the interpreter or image the model's
code and the dataset's tests run in, so sets whose tests need a module the system's python3 lacks
(HumanEval+ and MBPP+ import numpy) can be scored from the command line.

The options are checked before --out is created: each belongs to the backends that take it, named
with --sandbox, and the interpreter must exist. A run scored without the module, then again with an
interpreter that has it, in the same --out, redoes the unverified sample and scores it: the sandbox is
where code runs, not part of what the results mean.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

import pytest

from rlvr.cli import main
from rlvr.sandbox import SandboxUnavailable, make_sandbox
from conftest import REQUIRED_BACKENDS, get_sandbox

#: A module no Python has unless this test puts it there.
MODULE = "rlvr_probe_module_29"
ROW = {"task_id": "T/0", "prompt": "def add(a, b):\n    \"\"\"Add a and b.\"\"\"\n",
       "test": f"import {MODULE}\n\n\ndef check(candidate):\n    assert candidate(1, 2) == {MODULE}.THREE\n",
       "entry_point": "add", "canonical_solution": "    return a + b\n"}
COMPLETION = {"task_id": "T/0", "completion": "    return a + b\n"}


def make_venv_with(module: str, source: str):
    """A venv of the sandbox's default python3 whose site-packages holds `module` (`source`), in a
    folder every user can read (as root, jobs run as nobody) and outside the folders each bwrap
    sandbox has its own of (/tmp, /work): the folder and the interpreter's path."""
    from rlvr.sandbox.bwrap import default_python

    root = tempfile.mkdtemp(prefix="rlvr-eval-python-", dir="/var/tmp" if os.path.isdir("/var/tmp") else None)
    os.chmod(root, 0o755)
    venv = os.path.join(root, "venv")
    subprocess.run([default_python(), "-m", "venv", "--without-pip", venv], check=True, capture_output=True, timeout=120)
    python = os.path.join(venv, "bin", "python")
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    with open(os.path.join(site, module + ".py"), "w") as f:
        f.write(source)
    return root, python


@pytest.fixture(scope="module")
def python_with_module():
    """The interpreter of a venv whose site-packages holds MODULE."""
    root, python = make_venv_with(MODULE, "THREE = 3\n")
    try:
        yield python
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _write(path, rows) -> str:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


def _eval(tmp_path, *options: str) -> int:
    data, comps = _write(tmp_path / "data.jsonl", [ROW]), _write(tmp_path / "c.jsonl", [COMPLETION])
    return main(["eval", "--benchmark", "humaneval", "--data", data, "--completions", comps,
                 "--out", str(tmp_path / "out"), "--no-progress", *options])


def _summary(tmp_path) -> dict:
    return json.loads((tmp_path / "out" / "summary.json").read_text())


@pytest.mark.parametrize("backend", ["subprocess", "bwrap"])
def test_the_interpreter_given_runs_the_tests_and_redoes_the_unverified_samples(tmp_path, capsys, python_with_module,
                                                                                  backend):
    get_sandbox(backend)  # skips (or, where CI requires the backend, fails) where it cannot run
    assert _eval(tmp_path, "--sandbox", backend) == 3  # the system's python3 lacks the module
    err = capsys.readouterr().err
    assert f"The tests import {MODULE}" in err and "--sandbox-python" in err
    assert _summary(tmp_path)["excluded"] == 1

    # under bwrap, before: the venv was not mounted, so every run was a sandbox_error
    assert _eval(tmp_path, "--sandbox", backend, "--sandbox-python", python_with_module) == 0
    summary = _summary(tmp_path)
    assert summary["excluded"] == 0 and summary["pass@1"] == 1.0
    rows = [json.loads(line) for line in (tmp_path / "out" / "samples.jsonl").read_text().splitlines()]
    # the unverified row is superseded by the redone one (the file is appended to)
    assert [(r["correct"], r["kind"]) for r in rows][-1] == (True, "passed")


@pytest.mark.parametrize("options, message", [
    (["--sandbox-python", "python3"], "--sandbox-python is for --sandbox bwrap or subprocess, not auto: name the backend"),
    (["--sandbox", "docker", "--sandbox-python", "python3"],
     "--sandbox-python is for --sandbox bwrap or subprocess, not docker (use --sandbox-image for docker)"),
    (["--sandbox-image", "img:1"], "--sandbox-image is for --sandbox docker, not auto: name the backend"),
    (["--sandbox", "bwrap", "--sandbox-image", "img:1"],
     "--sandbox-image is for --sandbox docker, not bwrap (use --sandbox-python for bwrap and subprocess)"),
    (["--sandbox", "subprocess", "--sandbox-python", "/nonexistent/bin/python3"],
     "--sandbox-python '/nonexistent/bin/python3' is not an executable file"),
    (["--sandbox", "subprocess", "--sandbox-python", "no-such-python-29"],
     "--sandbox-python 'no-such-python-29' is not an executable file"),
])
def test_a_sandbox_option_the_backend_does_not_take_is_refused_before_anything_runs(tmp_path, capsys, options, message):
    assert _eval(tmp_path, *options) == 2
    assert capsys.readouterr().err == f"rlvr eval: {message}\n"
    assert not (tmp_path / "out").exists()


def test_a_bare_interpreter_name_is_looked_up_on_path(tmp_path, capsys, monkeypatch):
    from rlvr.sandbox.bwrap import default_python

    monkeypatch.setenv("PATH", os.path.dirname(default_python()))  # (this machine's may hold a pyenv shim under /root)
    assert _eval(tmp_path, "--sandbox", "subprocess", "--sandbox-python", "python3") == 3  # runs: the module is missing
    assert f"The tests import {MODULE}" in capsys.readouterr().err


def test_the_image_given_is_the_one_the_docker_backend_runs(tmp_path, capsys):
    try:
        make_sandbox("docker").close()
    except SandboxUnavailable as exc:
        if "docker" in REQUIRED_BACKENDS:
            pytest.fail(f"required sandbox backend 'docker' is unavailable: {exc}")
        pytest.skip(f"docker unavailable here: {exc}")
    image = "rlvr-no-such-image-29:latest"
    assert _eval(tmp_path, "--sandbox", "docker", "--sandbox-image", image) == 2  # the user's choice: nothing runs
    err = capsys.readouterr().err
    assert err.startswith(f"rlvr eval: --sandbox docker --sandbox-image {image}: ") and "not found" in err
    assert not (tmp_path / "out" / "samples.jsonl").exists()


@pytest.fixture()
def unreadable_venv():
    """A venv's interpreter that only root can reach (its folder is 0700): as root, the sandbox's jobs
    (as nobody, or uids of their own) cannot start it."""
    if os.geteuid() != 0:
        pytest.skip("needs root: as another user, jobs run as that user, who can read their own folder")
    root, python = make_venv_with("rlvr_probe_private_29", "")
    os.chmod(root, 0o700)
    yield root, python
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("backend", ["subprocess", "bwrap"])
def test_an_interpreter_the_jobs_cannot_read_is_refused_before_anything_runs(tmp_path, capsys, backend,
                                                                             unreadable_venv):
    """Before, under subprocess: every job failed to load the solution (exit 127), scored WRONG with
    exit 0; under bwrap: "bwrap cannot create a sandbox here ... install bubblewrap", every sample
    unverified with the advice to run `rlvr sandbox check`, which looks at another interpreter."""
    get_sandbox(backend)
    root, python = unreadable_venv
    assert _eval(tmp_path, "--sandbox", backend, "--sandbox-python", python) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rlvr eval: --sandbox {backend} --sandbox-python {python}: the sandbox's python {python!r} ")
    assert ("cannot be started as an unprivileged user" if backend == "subprocess" else "does not run inside bwrap") in err
    assert "install bubblewrap" not in err
    assert not (tmp_path / "out" / "samples.jsonl").exists()
