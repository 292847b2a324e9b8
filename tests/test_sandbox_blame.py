"""Whose fault is a failed run? A sandbox that fails must never be scored as the program's failure.

Real workers throughout: idle workers killed from outside, an interpreter missing from the
sandbox, and a program that really kills the worker supervising it.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time

import pytest
from pathlib import Path

from rlvr.sandbox import Limits
from rlvr.sandbox.bwrap import default_python
from rlvr.sandbox.limits import LANGUAGES
from rlvr.sandbox.pool import WORKER_SOURCE, ProcessChannel, WarmPool, job_message
from rlvr.sandbox.slots import SlotGate
from rlvr.sandbox.base import Job


def _kill_worker(channel) -> None:
    """Kill a worker the way the host's OOM killer or an operator would (not through rlvr)."""
    if isinstance(channel, ProcessChannel):
        os.killpg(channel.process.pid, signal.SIGKILL)
        channel.process.wait()
    else:  # a Docker container
        channel.container.kill()


def test_workers_that_died_while_idle_are_not_the_next_programs_fault(sandbox, monkeypatch):
    monkeypatch.setattr(sandbox, "_slots", SlotGate(3))  # three runs at once, whatever the number of CPUs
    sandbox.run_many(["import time\ntime.sleep(0.5)"] * 3, concurrency=3)  # three idle workers at least
    idle = list(sandbox._pool._idle)
    assert len(idle) >= 3
    for channel in idle:
        _kill_worker(channel)
    deadline = time.monotonic() + 10  # (Docker closes a killed container's stream a moment later)
    while any(channel.alive() for channel in idle) and time.monotonic() < deadline:
        time.sleep(0.05)
    result = sandbox.run("print(6 * 7)")
    assert result.status == "ok" and result.stdout == "42\n", result


def test_an_interpreter_missing_from_the_sandbox_is_a_sandbox_error(sandbox, monkeypatch):
    monkeypatch.setitem(LANGUAGES, "ghost", ("main.gh", ("rlvr-no-such-interpreter",)))
    result = sandbox.run("anything", language="ghost")
    assert result.status == "sandbox_error" and result.infrastructure_failed, result
    assert "could not start the program" in result.message and "rlvr-no-such-interpreter" in result.message
    assert sandbox.run("print(1)").ok  # the worker serves the next run as usual


@pytest.mark.parametrize("language, code", [("python", "import os\nos.kill(os.getpid(), 35)"), ("bash", "kill -35 $$")])
def test_a_program_killed_by_a_signal_without_a_name_is_its_own_error(sandbox, language, code):
    # real-time signals (34-64) have no name in Python's signal module
    result = sandbox.run(code, language=language)
    assert result.status == "error" and result.message == "killed by signal 35", result


# -- a program that kills its own supervisor ---------------------------------------------------
# The subprocess backend run by an ordinary user runs jobs as that user, so a program can signal
# the worker that supervises it. These pools reproduce that (as root: worker and jobs as nobody).

KILL_SUPERVISOR = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nimport time\ntime.sleep(5)"


@pytest.fixture
def worker_root():
    """A directory the workers (nobody, when the tests run as root) can reach: not under pytest's
    root-only tmp dir."""
    root = tempfile.mkdtemp(prefix="rlvr-blame-")
    os.chmod(root, 0o755)
    yield Path(root)
    shutil.rmtree(root, ignore_errors=True)


def _worker_spawner(root: Path, broken_after: int | None = None):
    """Start real host-mode workers, each in its own dirs; from the `broken_after`+1-th on, the
    worker's interpreter exits at once (a sandbox that stopped working)."""
    started = []

    def spawn() -> ProcessChannel:
        home = root / f"w{len(started)}"
        for sub in ("work", "tmp"):
            (home / sub).mkdir(parents=True)
            os.chmod(home / sub, 0o777)
        os.chmod(home, 0o755)
        python = default_python() if broken_after is None or len(started) < broken_after else "/bin/false"
        started.append(home)
        argv = [python, "-I", "-c", WORKER_SOURCE, "host", str(home / "work"), str(home / "tmp"), "-"]
        return ProcessChannel(argv, run_as_nobody=os.geteuid() == 0)

    return spawn, started


def _message(code: str, limits: Limits) -> dict:
    return job_message(Job(code=code), limits, warm_python=True, rlimit_nproc=False)


def test_a_program_that_kills_its_supervisor_twice_is_blamed(worker_root):
    spawn, started = _worker_spawner(worker_root)
    pool, limits = WarmPool("test", spawn), Limits(timeout=5)
    try:
        result = pool.execute(_message(KILL_SUPERVISOR, limits), limits)
        assert result.status == "error" and "killed or froze its sandbox supervisor" in result.message, result
        assert len(started) == 3  # two runs, then the empty program that cleared the sandbox
        assert pool.execute(_message("print(1)", limits), limits).stdout == "1\n"
    finally:
        pool.close()


def test_a_sandbox_that_then_fails_an_empty_program_is_not_the_programs_fault(worker_root):
    spawn, started = _worker_spawner(worker_root, broken_after=2)
    pool, limits = WarmPool("test", spawn), Limits(timeout=5)
    try:
        began = time.monotonic()
        result = pool.execute(_message(KILL_SUPERVISOR, limits), limits)
        assert result.status == "sandbox_error" and result.infrastructure_failed, result
        assert "failed to run an empty program" in result.message
        assert time.monotonic() - began < 30
    finally:
        pool.close()


def test_a_program_that_succeeds_is_ok_whatever_it_prints_on_stderr(sandbox):
    result = sandbox.run("import sys\nprint(3)\nprint('File too large', file=sys.stderr)")
    assert result.status == "ok" and result.stdout == "3\n", result


# -- a program that kills its supervisor to be run again -----------------------------------------
# In a pid namespace of the worker's own (bwrap, Docker) `kill(-1, SIGKILL)` kills the job's handler
# and spares only the worker (pid 1), which reports it. A run tried again after that would hand the
# program a second, fresh try: a program that sees a test failing (a loop that stops calling it)
# would kill its handler to be judged on a better guess, keeping anything it learned in between.


@pytest.mark.parametrize("then", ["import time\ntime.sleep(5)", "os._exit(0)"])  # lingers, or is gone at once
@pytest.mark.parametrize("backend", ["bwrap", "docker"])
def test_a_program_that_kills_its_handler_is_blamed_at_once_without_a_second_try(backend, then):
    from conftest import TEST_LIMITS, get_sandbox

    sandbox = get_sandbox(backend, **TEST_LIMITS)
    started = []
    spawn = sandbox._pool._spawn
    sandbox._pool._spawn = lambda: started.append(1) or spawn()
    try:
        code = f"import os, signal\nprint('first try', flush=True)\nos.kill(-1, signal.SIGKILL)\n{then}"
        result = sandbox.run(code)
        assert result.status == "error" and not result.infrastructure_failed, result
        assert result.message == "the program killed its sandbox supervisor (signal 9)", result
        assert len(started) <= 2  # a replacement for an idle worker (maybe) and the empty program's: no re-run
        assert sandbox.run("print(6 * 7)").stdout == "42\n"  # the sandbox goes on as usual
    finally:
        sandbox._pool._spawn = spawn
