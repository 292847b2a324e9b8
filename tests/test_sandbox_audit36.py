"""Sandbox fixes of audit 36.

- Ctrl-C during `run_many` waited for every running job to reach its own time limit (the thread
  pool's exit joined its threads): now the running jobs' workers are killed and the exception goes
  on at once; the sandbox stays usable, and a wrapper that overrides `run` is stopped the same way.
- bwrap bound the interpreter's whole installation prefix or venv folder into every run (a venv
  made in a project folder showed the project's secrets): now only what the interpreter reports
  it needs (its stdlib, lib-dynload, site-packages, pyvenv.cfg, libpython, binary).
- The subprocess backend left its /tmp/rlvr-sandbox-* folder behind unless close() was called.
- An interpreter that is no Python (`/bin/true`) or too old was accepted, and every run was then
  a "sandbox_error" saying only that the worker did not start.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from rlvr.sandbox import SandboxUnavailable, make_sandbox
from rlvr.sandbox.bwrap import default_python, interpreter_folders
from rlvr.sandbox.limits import Limits
from rlvr.sandbox.pool import ProcessChannel, WarmPool, job_message
from rlvr.sandbox.base import Job
from conftest import get_sandbox, shell_interpreter


# A child process (SIGINT must reach a main thread that is the caller's): jobs that sleep 300 s under
# a 600 s limit, Ctrl-C after 1 s; it reports how long the exception took, then uses the sandbox again.
_CTRL_C_CHILD = r'''
import json, os, signal, sys, threading, time
from rlvr.sandbox import make_sandbox
from rlvr.sandbox.base import Sandbox
backend, wrapped = sys.argv[1], sys.argv[2] == "wrapped"
inner = make_sandbox(backend, timeout=600)

class Wrapper(Sandbox):  # a sandbox that passes its runs to another (run_many goes through its run)
    name = "wrapper"
    def run(self, code, **options):
        return inner.run(code, **options)
    def _execute(self, job, limits):
        raise AssertionError("not used")

box = Wrapper() if wrapped else inner
box.run("pass")
started = time.monotonic()
threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
try:
    box.run_many(["import time; time.sleep(300)"] * 5, concurrency=2)
    interrupted = None
except KeyboardInterrupt:
    interrupted = time.monotonic() - started
after = box.run("print(7)")
many = box.run_many([f"print({i})" for i in range(4)], concurrency=2)
inner.close()
print(json.dumps({"interrupted": interrupted, "after": [after.status, after.stdout],
                  "many": [r.stdout.strip() for r in many]}))
'''


def _docker_containers_of(pid: int) -> list[str]:
    out = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=rlvr.sandbox.pid={pid}"],
                         capture_output=True, text=True, timeout=60)
    return out.stdout.split()


@pytest.mark.parametrize("backend, wrapped", [("subprocess", ""), ("bwrap", ""), ("bwrap", "wrapped"),
                                              ("docker", "")])
def test_ctrl_c_in_run_many_stops_the_running_jobs_at_once(backend, wrapped):
    get_sandbox(backend)  # skips where the backend cannot run
    child = subprocess.Popen([sys.executable, "-c", _CTRL_C_CHILD, backend, wrapped or "plain"], cwd=tempfile.gettempdir(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = child.communicate(timeout=150)  # the hang guard: the jobs alone take 300 s
    finally:
        child.kill()
    assert child.returncode == 0, err[-2000:]
    report = json.loads(out.strip().splitlines()[-1])
    assert report["interrupted"] is not None and report["interrupted"] < 100, report  # not the jobs' 300 s
    assert report["after"] == ["ok", "7\n"]  # usable afterwards, no interrupted job's result
    assert report["many"] == ["0", "1", "2", "3"]
    if backend == "docker":
        assert _docker_containers_of(child.pid) == []


@pytest.fixture()
def venv_in_a_project():
    """A venv made in a project folder (`python3 -m venv .`), which holds a secret beside the venv's
    own files, in a folder that holds another: (python, planted files)."""
    root = tempfile.mkdtemp(prefix="rlvr-audit36-", dir="/var/tmp")
    try:
        os.chmod(root, 0o755)
        project = os.path.join(root, "project")
        subprocess.run([default_python(), "-m", "venv", "--without-pip", project], check=True,
                       capture_output=True, timeout=120)
        python = os.path.join(project, "bin", "python")
        site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              check=True, capture_output=True, text=True, timeout=60).stdout.strip()
        with open(os.path.join(site, "audit36_module.py"), "w") as f:
            f.write("VALUE = 36\n")
        planted = [os.path.join(project, ".env"), os.path.join(root, "id_rsa")]
        for path in planted:
            with open(path, "w") as f:
                f.write("secret\n")
            os.chmod(path, 0o644)
        yield python, planted
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_bwrap_binds_what_the_interpreter_needs_not_the_venvs_folder(venv_in_a_project):
    get_sandbox("bwrap")
    python, planted = venv_in_a_project
    project = os.path.dirname(os.path.dirname(python))
    assert not any(p in (project, os.path.dirname(project)) for p in interpreter_folders(python))
    box = make_sandbox("bwrap", python=python, timeout=10)
    try:
        result = box.run("import json, math, decimal, _decimal, _json, audit36_module, sys, os\n"
                         "print(audit36_module.VALUE, decimal.Decimal('1.5') * 2, sys.prefix)\n"
                         f"for path in {planted!r}:\n"
                         "    print(os.path.exists(path))\n")
        assert result.status == "ok", result
        assert result.stdout.split() == ["36", "3.0", project, "False", "False"]
        result = box.run("import ssl, sqlite3, ctypes\nprint('loaded')")  # C extensions with libraries of their own
        assert result.status == "ok" and result.stdout == "loaded\n", result
    finally:
        box.close()


def test_the_default_interpreter_still_runs_under_bwrap():
    box = get_sandbox("bwrap")
    result = box.run("import json, math, decimal, ssl\nprint(math.sqrt(16))")
    assert result.status == "ok" and result.stdout == "4.0\n", result


_LEAK_CHILD = r'''
import os, sys
from rlvr.sandbox import make_sandbox
box = make_sandbox("subprocess")
assert box.run("open('data.txt', 'w').write('x'); print(1)").stdout == "1\n"
print(box._root, flush=True)
pid = os.fork()
if pid == 0:
    sys.exit(0)  # a forked child's exit (its atexit handlers run) leaves the parent's folder alone
os.waitpid(pid, 0)
assert os.path.isdir(box._root), "removed by the forked child"
'''


def test_the_subprocess_backends_folder_is_removed_at_exit_without_close():
    child = subprocess.run([sys.executable, "-c", _LEAK_CHILD], cwd=tempfile.gettempdir(), capture_output=True, text=True, timeout=60)
    assert child.returncode == 0, child.stderr[-2000:]
    root = child.stdout.split()[0]
    assert root.startswith(tempfile.gettempdir()) and not os.path.exists(root)


def test_the_subprocess_backends_folder_is_removed_when_the_sandbox_is_dropped():
    box = make_sandbox("subprocess")
    root = box._root
    assert box.run("print(1)").stdout == "1\n"
    del box
    import gc
    gc.collect()
    assert not os.path.exists(root)


@pytest.mark.parametrize("backend", ["subprocess", "bwrap"])
def test_an_interpreter_that_is_no_python_is_refused_when_the_sandbox_is_made(backend):
    if backend == "bwrap":
        get_sandbox("bwrap")
    with pytest.raises(SandboxUnavailable, match="printed no Python version: it is not a Python interpreter"):
        make_sandbox(backend, python="/bin/true")
    with shell_interpreter('echo 3.8.10\nexit 3\n') as old:  # what the version probe gets from a Python 3.8
        with pytest.raises(SandboxUnavailable, match=r"it is Python 3\.8\.10; the sandbox's worker needs 3\.9 or later"):
            make_sandbox(backend, python=old)


def test_a_worker_that_does_not_start_says_why():
    pool = WarmPool("test", lambda: ProcessChannel(["/bin/true"]))
    limits = Limits()
    try:
        with pytest.raises(SandboxUnavailable, match="did not start: it ended before its greeting, with nothing on its stderr"):
            pool.execute(job_message(Job(code="print(1)"), limits, warm_python=True), limits)
    finally:
        pool.close()


def test_a_home_directory_is_never_bound(venv_in_a_project):
    get_sandbox("bwrap")
    python, _ = venv_in_a_project
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    ask = "import sys; from rlvr.sandbox.bwrap import interpreter_folders; print(interpreter_folders(sys.argv[1]))"
    # bound when it lies in a home directory, never when it is one or holds one
    for home, bound in ((os.path.dirname(site), True), (site, False), (os.path.join(site, "x"), False)):
        folders = subprocess.run([sys.executable, "-c", ask, python], env={**os.environ, "HOME": home}, cwd="/",
                                 check=True, capture_output=True, text=True, timeout=60).stdout
        assert (repr(site) in folders) is bound, (home, folders)


# -- review of the above: the interpreter check -----------------------------------------------------
@pytest.fixture()
def install_with_an_unmounted_library():
    """A Python installation outside the system dirs (a copy of the default interpreter's binary,
    its standard library linked in) one of whose C extensions the worker imports, _ctypes, lies in
    the installation's lib/ folder, linked from lib-dynload: as a conda environment's extensions
    load their libraries from $PREFIX/lib, which the sandbox does not mount. It works outside."""
    root = tempfile.mkdtemp(prefix="rlvr-audit36-", dir="/var/tmp")
    try:
        os.chmod(root, 0o755)
        real = os.path.realpath(default_python())
        stdlib = subprocess.run([real, "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"],
                                check=True, capture_output=True, text=True, timeout=60).stdout.strip()
        ours = os.path.join(root, "lib", os.path.basename(stdlib))
        os.makedirs(os.path.join(ours, "lib-dynload"))
        os.makedirs(os.path.join(root, "bin"))
        shutil.copy2(real, os.path.join(root, "bin", "python3"))
        for name in os.listdir(stdlib):
            if name != "lib-dynload":
                os.symlink(os.path.join(stdlib, name), os.path.join(ours, name))
        for name in os.listdir(os.path.join(stdlib, "lib-dynload")):
            target = os.path.join(stdlib, "lib-dynload", name)
            if name.startswith("_ctypes."):
                os.symlink(target, os.path.join(root, "lib", name))
                target = os.path.join(root, "lib", name)
            os.symlink(target, os.path.join(ours, "lib-dynload", name))
        python = os.path.join(root, "bin", "python3")
        subprocess.run([python, "-I", "-c", "import ctypes"], check=True, timeout=60)
        yield python
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_an_interpreter_that_cannot_load_what_the_worker_imports_is_refused(install_with_an_unmounted_library):
    get_sandbox("bwrap")
    with pytest.raises(SandboxUnavailable, match=r"cannot load, inside bwrap, the modules the sandbox's worker "
                                                 r"needs \(.*_ctypes.*\): its C extensions may need libraries"):
        make_sandbox("bwrap", python=install_with_an_unmounted_library)


def test_sys_path_folders_the_sandbox_leaves_out_are_named_when_it_is_made(venv_in_a_project, caplog):
    get_sandbox("bwrap")
    python, _ = venv_in_a_project
    root = os.path.dirname(os.path.dirname(os.path.dirname(python)))
    outside = os.path.join(root, "outside")
    os.makedirs(outside)
    with open(os.path.join(outside, "outside_module.py"), "w") as f:
        f.write("VALUE = 1\n")
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    with open(os.path.join(site, "outside.pth"), "w") as f:
        f.write(outside + "\n")
    with caplog.at_level("WARNING", logger="rlvr.sandbox"):
        box = make_sandbox("bwrap", python=python, timeout=10)
    try:
        warned = [r.getMessage() for r in caplog.records if r.name == "rlvr.sandbox"]
        assert any(outside in message and "does not mount" in message for message in warned), warned
        result = box.run("import outside_module\n")
        assert result.status == "error" and "ModuleNotFoundError" in result.stderr, result
    finally:
        box.close()
