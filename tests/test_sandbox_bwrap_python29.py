"""The bwrap backend with an interpreter of the user's (`make_sandbox("bwrap", python=...)`).

Before: bwrap mounted only the installation the interpreter resolves to, so a venv's python (the
usual way to get a package such as numpy) could not even be started inside the sandbox, and an
interpreter under /tmp or /work was hidden by the sandbox's own folders. Both passed the backend's
check (which started /bin/true, not the interpreter) and made every run a sandbox_error. Now a
venv is mounted read-only beside its installation, and an interpreter that cannot run inside is
refused when the sandbox is made, with the reason.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from rlvr.sandbox import SandboxUnavailable, make_sandbox
from conftest import get_sandbox, shell_interpreter
from test_cli_eval_sandbox29 import make_venv_with


@pytest.fixture(autouse=True)
def bwrap_runs_here():
    get_sandbox("bwrap")  # skips (or, where CI requires bwrap, fails) where bwrap cannot run


def test_a_venvs_packages_are_visible_and_read_only():
    root, python = make_venv_with("rlvr_probe_venv_29", "VALUE = 29\n")
    box = make_sandbox("bwrap", python=python, timeout=10)
    try:
        result = box.run("import sys, rlvr_probe_venv_29 as m\nprint(m.VALUE, sys.prefix)")
        assert result.status == "ok", result
        assert result.stdout.split() == ["29", os.path.join(root, "venv")]
        result = box.run(f"open({os.path.join(root, 'venv', 'planted')!r}, 'w')")
        assert result.status == "error" and "Read-only file system" in result.stderr
        assert not os.path.exists(os.path.join(root, "venv", "planted"))
    finally:
        box.close()
        shutil.rmtree(root, ignore_errors=True)


def test_an_interpreter_under_a_folder_the_sandbox_replaces_is_refused_naming_it():
    root = tempfile.mkdtemp(prefix="rlvr-bwrap-python-", dir="/tmp")
    try:
        os.chmod(root, 0o755)
        with open(os.path.join(root, "pyvenv.cfg"), "w") as f:  # a venv, as `python3 -m venv` makes one
            f.write("home = /usr/bin\n")
        python = os.path.join(root, "bin", "python")
        os.makedirs(os.path.dirname(python))
        os.symlink(os.path.realpath("/usr/bin/python3"), python)
        with pytest.raises(SandboxUnavailable, match=f"needs {root}, which lies under /tmp, where the sandbox mounts"):
            make_sandbox("bwrap", python=python)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_an_interpreter_that_does_not_run_inside_is_refused_with_its_reason():
    with shell_interpreter("echo 'not a python' >&2\nexit 3\n") as fake:
        with pytest.raises(SandboxUnavailable, match=r"does not run inside bwrap \(not a python\)"):
            make_sandbox("bwrap", python=fake)
