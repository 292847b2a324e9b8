"""Findings of the session-37 audit of the warm worker pool: a worker killed from outside.

Under bwrap and subprocess a run whose worker was SIGKILLed from the host (an operator, the host's
OOM killer) twice while its program ran was blamed on the program: "the program killed or froze
its sandbox supervisor (twice, on fresh workers)", the program's `error`, which the code verifier
scored 0 as a wrong answer. A program cannot signal its worker there (bwrap: pid 1 of its own pid
namespace; subprocess as root: jobs run as a uid of their own), so the run's fate is unknown: a
`sandbox_error`, never scored. Real workers throughout, killed from the host as an operator would.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

import pytest

import rlvr.sandbox.pool as pool_module
from rlvr.sandbox.limits import Limits
from rlvr.sandbox.pool import ProcessChannel, WarmPool
from rlvr.verifiers.code import check_function
from test_sandbox_blame import _message, _worker_spawner

BACKENDS = ["bwrap", "subprocess"]
SLOW = "import time\ntime.sleep(3)\nprint('done')"


def _children(pid: int) -> list[int]:
    """The pids of `pid`'s children (none once it is gone)."""
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(child) for child in handle.read().split()]
    except OSError:
        pass
    return found


def _worker_pid(channel: ProcessChannel, backend: str) -> int | None:
    """The worker's pid on the host: bubblewrap's child under bwrap, the process itself under subprocess."""
    if backend != "bwrap":
        return channel.process.pid
    children = _children(channel.process.pid)
    return children[0] if children else None


def _kill_mid_run(box, backend: str, times: int) -> list[int]:
    """Start a thread that SIGKILLs from the host, `times` times, the worker of the run under way,
    once its handler has made the job's process (the program has started); the pids killed."""
    killed: list[int] = []

    def kill() -> None:
        deadline = time.monotonic() + 60
        while len(killed) < times and time.monotonic() < deadline:
            with box._pool._lock:
                channels = list(box._pool._all)
            for channel in channels:
                worker = _worker_pid(channel, backend)
                if worker is None or worker in killed:
                    continue
                if any(_children(handler) for handler in _children(worker)):  # a job's process exists
                    time.sleep(0.3)
                    os.kill(worker, signal.SIGKILL)
                    killed.append(worker)
                    break
            time.sleep(0.02)

    threading.Thread(target=kill, daemon=True).start()
    return killed


@pytest.fixture(params=BACKENDS)
def box(request):
    from conftest import own_sandbox

    sandbox = own_sandbox(request.param, timeout=20)
    sandbox.backend_name = request.param
    assert sandbox.run("pass").ok  # a warm worker
    yield sandbox
    sandbox.close()


def test_a_worker_killed_from_outside_twice_mid_run_is_a_sandbox_error(box):
    killed = _kill_mid_run(box, box.backend_name, 2)
    result = box.run(SLOW)
    assert len(killed) == 2, killed
    # before: "error", "the program killed or froze its sandbox supervisor (twice, on fresh workers)"
    assert result.status == "sandbox_error" and result.infrastructure_failed, result
    assert "killed from outside by SIGKILL" in result.message and "froze" not in result.message, result.message
    assert box.run("print(6 * 7)").stdout == "42\n"  # the sandbox goes on as usual


def test_a_worker_killed_from_outside_once_mid_run_is_tried_again(box):
    killed = _kill_mid_run(box, box.backend_name, 1)
    result = box.run(SLOW)
    assert len(killed) == 1, killed
    assert result.status == "ok" and result.stdout == "done\n", result


def test_the_code_verifier_leaves_a_run_killed_from_outside_unscored(box):
    solution = "import time\ndef add(a, b):\n    time.sleep(3)\n    return a + b\n"
    tests = "def check(candidate):\n    assert candidate(1, 2) == 3\n"
    killed = _kill_mid_run(box, box.backend_name, 2)
    verdict = check_function(solution, tests, "add", sandbox=box, timeout=20)
    assert len(killed) == 2, killed
    # before: Verdict.wrong(kind="no_result"), a valid score of 0 for a correct solution
    assert verdict.error is not None and verdict.details.get("kind") == "sandbox_error", verdict
    killed = _kill_mid_run(box, box.backend_name, 1)
    verdict = check_function(solution, tests, "add", sandbox=box, timeout=20)
    assert len(killed) == 1 and verdict.correct and verdict.error is None, verdict


# -- a program run as its worker's user (the subprocess backend run by a non-root user) ------------
# Reproduced as root by workers (and so their jobs) running as nobody, as tests/test_sandbox_blame.py does.

_WORKER = ("import os, signal\nhandler = os.getppid()\n"
           "worker = int(open(f'/proc/{handler}/stat').read().rsplit(')', 1)[1].split()[1])\n")


@pytest.fixture
def same_user_pool():
    """A pool of real host-mode workers whose jobs run as the workers' own user, in a folder they
    (nobody, when the tests run as root) can reach."""
    root = tempfile.mkdtemp(prefix="rlvr-audit37-")
    os.chmod(root, 0o755)
    spawn, started = _worker_spawner(Path(root))
    pool = WarmPool("test", spawn)
    yield pool, started
    pool.close()
    shutil.rmtree(root, ignore_errors=True)


def _run(pool: WarmPool, code: str, limits: Limits):
    return pool.execute(_message(code, limits), limits)


def test_a_program_that_sigkills_its_worker_as_the_same_user_is_not_scored(same_user_pool):
    # Nothing tells this from a kill from outside: the run's fate is unknown, so never scored
    # (before: the program's "error", like a kill from outside).
    pool, started = same_user_pool
    limits = Limits(timeout=5)
    result = _run(pool, _WORKER + "os.kill(worker, signal.SIGKILL)\nimport time\ntime.sleep(3)", limits)
    assert result.status == "sandbox_error" and "killed from outside by SIGKILL" in result.message, result
    assert len(started) == 2  # the run twice, no empty program
    assert _run(pool, "print(1)", limits).stdout == "1\n"


def test_a_program_that_crashes_its_worker_with_a_fault_signal_is_still_blamed(same_user_pool):
    # SIGSEGV is what a worker whose limits a job lowered dies of: no evidence of an outside kill
    pool, started = same_user_pool
    limits = Limits(timeout=5)
    result = _run(pool, _WORKER + "os.kill(worker, signal.SIGSEGV)\nimport time\ntime.sleep(3)", limits)
    assert result.status == "error" and "killed or froze its sandbox supervisor" in result.message, result
    assert len(started) == 3  # two runs, then the empty program that cleared the sandbox


@pytest.mark.timeout(90)
def test_a_program_that_freezes_its_supervisor_is_still_blamed(same_user_pool, monkeypatch):
    # The pool's own kill of a worker gone silent is no evidence of an outside kill.
    monkeypatch.setattr(pool_module, "GRACE_SECONDS", 1.0)
    pool, started = same_user_pool
    limits = Limits(timeout=2)
    code = _WORKER + "os.kill(worker, signal.SIGSTOP)\nos.kill(handler, signal.SIGSTOP)\nimport time\ntime.sleep(30)"
    result = _run(pool, code, limits)
    assert result.status == "error" and "killed or froze its sandbox supervisor" in result.message, result
    assert len(started) == 3


# -- review: a job must not get the kernel to kill its worker (a death taken for an outside kill) -----

def test_under_bwrap_a_job_cannot_set_its_workers_limits():
    """A hard CPU limit of 0 set on the worker (pid 1) makes the kernel SIGKILL it at its next tick,
    which the pool would take for a kill from outside (an unscored `sandbox_error`): the seccomp
    filter refuses a prlimit that sets pid 1's limits; reading them, and setting one's own (by pid
    too), still work."""
    from conftest import get_sandbox

    sandbox = get_sandbox("bwrap", timeout=10)
    result = sandbox.run(
        "import resource\n"
        "print(resource.prlimit(1, resource.RLIMIT_CPU) is not None)\n"  # reading the worker's: allowed
        "resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))\n"  # its own: allowed
        "import os\nresource.prlimit(os.getpid(), resource.RLIMIT_NOFILE, (120, 128))\n"  # by pid too
        "print(resource.prlimit(0, resource.RLIMIT_NOFILE))\n"
        "try:\n"
        "    resource.prlimit(1, resource.RLIMIT_CPU, (0, 0))\n"
        "except PermissionError:\n"
        "    print('refused')\n")
    assert result.status == "ok" and result.stdout == "True\n(120, 128)\nrefused\n", result
    assert sandbox.run("print(6 * 7)").stdout == "42\n"  # the worker lives on, its limits untouched
