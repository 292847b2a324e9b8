"""Findings of the session-34 sandbox audit: a large input's reception counted against the run's
time limit (a correct program blamed with `error`), warm Python ignored a program's own module named
like a preloaded one, and bubblewrap's runs could signal each other through file locks and watch
opens of the shared system files through inotify (file locks, first made no-ops, lock again since
review 34: `test_sandbox_review34.py`)."""

from __future__ import annotations

import base64
import json
import platform

import pytest
from conftest import TEST_LIMITS, get_sandbox

from rlvr.sandbox import pool as pool_module
from rlvr.sandbox.limits import Limits
from rlvr.sandbox.pool import Channel, WarmPool, job_message
from rlvr.sandbox.base import Job
from rlvr.sandbox.worker import STARTED_LINE

_SIZE_OF_STDIN = "import os; print(os.fstat(0).st_size)"


# -- 1. receiving a large input is not the program's time -----------------------------------------
class _Clock:
    """The pool's `time`: a clock that moves only when a fake worker below takes time."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now


class _ReceivesSlowly(Channel):
    """A worker on a loaded host: it takes in a run's message at `SECONDS_PER_MIB` (slower than an
    idle host, within `RECEIVE_SECONDS_PER_MIB`), says it starts the program (`STARTED_LINE`), which
    then runs for `PROGRAM_SECONDS` and prints the size of its stdin. A send given less time than the
    message takes fails after that time, as a real one does (a TimeoutError)."""

    SECONDS_PER_MIB = 0.2
    PROGRAM_SECONDS = 0.4

    def __init__(self, clock: _Clock) -> None:
        self.clock = clock
        self._out = [b'{"ready": true}\n']

    def send_line(self, data: bytes, timeout: float | None = None) -> None:
        takes = self.SECONDS_PER_MIB * len(data) / (1 << 20)
        if timeout is not None and takes > timeout:
            self.clock.now += max(timeout, 0.0)
            raise TimeoutError("the worker did not take the whole run in time")
        self.clock.now += takes
        stdin = json.loads(data)["stdin"]  # ({"b64": ...}, or "" for the pool's empty program)
        stdin = base64.b64decode(stdin["b64"]) if isinstance(stdin, dict) else stdin.encode()
        result = {"status": "ok", "exit_code": 0, "stdout": f"{len(stdin)}\n", "stderr": "", "wall_time": 0.4}
        self._out += [STARTED_LINE + b"\n", json.dumps(result).encode() + b"\n"]

    def _read_some(self, timeout: float) -> bytes | None:
        if not self._out:
            self.clock.now += timeout
            return None
        line = self._out.pop(0)
        if line.startswith(b'{"status"'):  # (the program's result: after it has run)
            if self.PROGRAM_SECONDS > timeout:
                self.clock.now += timeout
                self._out.insert(0, line)
                return None
            self.clock.now += self.PROGRAM_SECONDS
        return line

    def kill(self) -> None:
        pass


def test_a_large_stdin_takes_no_time_from_the_run(monkeypatch):
    # 950 MiB of stdin took ~28 s to receive against a 1 + 15 s deadline: the worker was lost while
    # taking the stdin in, twice, then an empty program ran and the run was the program's `error`.
    # Here the same at a smaller scale, on a clock of its own: a grace of 0.3 s, a time limit of
    # 0.5 s, and 4 MiB of stdin (5.3 MiB as the message's base64) that take ~1.1 s to receive.
    clock = _Clock()
    monkeypatch.setattr(pool_module, "time", clock)
    monkeypatch.setattr(pool_module, "GRACE_SECONDS", 0.3)
    pool = WarmPool("fake", lambda: _ReceivesSlowly(clock))
    limits = Limits(timeout=0.5)
    size = 4 << 20
    result = pool.execute(job_message(Job(code=_SIZE_OF_STDIN, stdin="x" * size), limits, warm_python=True), limits)
    pool.close()
    assert result.status == "ok" and result.stdout == f"{size}\n", (result.status, result.message)


class _LosesRunsWhileReceiving(Channel):
    """A worker that greets, then answers an empty program (acknowledging it first, as the real one
    does) and dies while receiving any other run, before it would start the program."""

    def __init__(self) -> None:
        self._out = b'{"ready": true}\n'
        self.dead = False

    def send_line(self, data: bytes, timeout: float | None = None) -> None:
        if json.loads(data)["code"] == "":
            self._out += STARTED_LINE + b"\n" + json.dumps(
                {"status": "ok", "exit_code": 0, "stdout": "", "stderr": "", "wall_time": 0.0}).encode() + b"\n"
        else:
            self.dead = True

    def _read_some(self, timeout: float) -> bytes | None:
        data, self._out = self._out, b""
        return data  # (b"" once all is read: the end of stream, a worker gone)

    def kill(self) -> None:
        self.dead = True


def test_a_worker_lost_twice_before_the_program_started_is_no_fault_of_the_program():
    # Before: two workers lost (while receiving), then an empty program ran fine, so the run was
    # blamed on the program ("killed or froze its sandbox supervisor"), though it never ran.
    started = []

    def spawn():
        started.append(_LosesRunsWhileReceiving())
        return started[-1]

    pool = WarmPool("fake", spawn)
    limits = Limits(timeout=1)
    result = pool.execute(job_message(Job(code="print(1)"), limits, warm_python=True), limits)
    pool.close()
    assert result.status == "sandbox_error", (result.status, result.message)
    assert "before the program started" in result.message, result.message
    assert len(started) == 2 and all(channel.dead for channel in started)  # tried once more, no empty program


# -- 2. the program's own module beats a preloaded one of the same name ---------------------------
_SHADOWED = """
import statistics, json
from random import choice
print(statistics.mean([1, 2, 3]), json.dumps(1), choice([5]))
"""
_HELPERS = {
    "statistics.py": "def mean(xs):\n    return 'local statistics'\n",
    "json/__init__.py": "def dumps(x):\n    return 'local json'\n",
    "random.py": "def choice(xs):\n    return 'local random'\n",
}


@pytest.mark.parametrize("backend", ["subprocess", "bwrap"])
def test_a_programs_own_module_is_imported_not_the_preloaded_one(backend):
    box = get_sandbox(backend, **TEST_LIMITS)
    result = box.run(_SHADOWED, files=_HELPERS)
    assert result.ok, result
    assert result.stdout == "local statistics local json local random\n", result.stdout
    plain = box.run("import statistics, random\nprint(statistics.mean([1, 2, 3]), random.choice([5]))")
    assert plain.stdout == "2 5\n", plain  # the next run (same worker) gets the real ones back


# -- 3. bwrap: no inotify; file locks work (review 34: their no-op broke SQLite between processes) --
_NOTIFY_AND_LOCKS = r"""
import ctypes, fcntl, os, struct
libc = ctypes.CDLL(None, use_errno=True)
print("inotify:", libc.inotify_init1(0), ctypes.get_errno())
first, second = open("/etc/ld.so.cache", "rb"), open("/etc/ld.so.cache", "rb")
fcntl.flock(first, fcntl.LOCK_EX)
try:  # two open files of the same file: a real lock on the first keeps the second out
    fcntl.flock(second, fcntl.LOCK_EX | fcntl.LOCK_NB)
    print("flock: not locked")
except BlockingIOError:
    print("flock: locked")
F_OFD_GETLK, F_OFD_SETLK, F_RDLCK, F_WRLCK, F_UNLCK = 36, 37, 0, 1, 2
fcntl.fcntl(first, F_OFD_SETLK, struct.pack("hhqqi4x", F_RDLCK, 0, 0, 0, 0))
seen = struct.unpack("hhqqi4x", fcntl.fcntl(second, F_OFD_GETLK, struct.pack("hhqqi4x", F_WRLCK, 0, 0, 0, 0)))
print("record lock:", "seen" if seen[0] != F_UNLCK else "not seen")
path = "/tmp/own.lock"
with open(path, "w") as own:
    fcntl.lockf(own, fcntl.LOCK_EX)
    fcntl.flock(own, fcntl.LOCK_EX)
    print("own file: locked and written", own.write("x"))
"""


def test_bwrap_refuses_inotify_and_its_file_locks_lock():
    # An inotify watch on /etc/passwd saw the host's and other runs' opens. File locks were made
    # no-ops too (a lock on /etc/ld.so.cache is seen by concurrent runs), which broke programs whose
    # processes rely on them: they lock again, and that channel is documented instead.
    if platform.machine() != "x86_64":
        pytest.skip("the probe's struct flock layout is x86-64's")
    box = get_sandbox("bwrap", **TEST_LIMITS)
    result = box.run(_NOTIFY_AND_LOCKS)
    assert result.ok, result
    assert result.stdout.splitlines() == [
        "inotify: -1 38",  # ENOSYS
        "flock: locked",
        "record lock: seen",
        "own file: locked and written 1",
    ], result.stdout
