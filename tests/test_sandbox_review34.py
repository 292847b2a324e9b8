"""Review of the session-34 sandbox changes.

- bwrap's seccomp filter made file locks succeed without locking: a program's own processes were
  no longer kept apart by them (three multiprocessing writers into one SQLite file got "disk I/O
  error" and lost rows). Locks work again; a lock on a shared system file is documented as a
  channel between concurrent runs, like timing.
- dnotify (fcntl F_NOTIFY on /usr/bin) still watched the shared system folders across runs, as
  inotify did: refused with EINVAL (a kernel without dnotify), for 64-bit and i386 calls.
- Docker: a container lost before the program started skipped the check of how it ended: an OOM
  while it received a large input lost its "raise memory_mb" advice and was tried again, a kill
  through Docker was not diagnosed, and a container found dead when its process limit was set
  counted as lost after the program started.
- A run whose worker was lost while receiving it was told only "the sandbox is failing": the
  message now says whether the receive allowance ran out or the worker died, with the message's
  size and the allowance.
"""

from __future__ import annotations

import json
import platform
import time

import pytest
from conftest import TEST_LIMITS, get_sandbox

from rlvr.sandbox import SandboxUnavailable
from rlvr.sandbox import pool as pool_module
from rlvr.sandbox.base import Job
from rlvr.sandbox.docker_backend import DockerPool
from rlvr.sandbox.limits import Limits
from rlvr.sandbox.pool import Channel, WarmPool, job_message
from rlvr.sandbox.worker import STARTED_LINE

_OK = json.dumps({"status": "ok", "exit_code": 0, "stdout": "", "stderr": "", "wall_time": 0.0}).encode()


# -- 1. file locks keep a program's own processes apart under bwrap -------------------------------
_LOCKING_PROGRAM = r"""
import fcntl, multiprocessing as mp, os, sqlite3, sys

def work(k):
    db = sqlite3.connect("/tmp/t.db", timeout=30)
    for i in range(60):
        db.execute("insert into t values (?)", (k * 1000 + i,))
        db.commit()
    db.close()

if __name__ == "__main__":
    db = sqlite3.connect("/tmp/t.db"); db.execute("create table t (x)"); db.commit(); db.close()
    workers = [mp.get_context("fork").Process(target=work, args=(k,)) for k in range(3)]
    [w.start() for w in workers]; [w.join() for w in workers]
    db = sqlite3.connect("/tmp/t.db")
    print("rows", db.execute("select count(*) from t").fetchone()[0],
          db.execute("pragma integrity_check").fetchone()[0], [w.exitcode for w in workers])
    sys.stdout.flush()
    own = os.open("/tmp/l", os.O_CREAT | os.O_RDWR)
    fcntl.lockf(own, fcntl.LOCK_EX)
    with open("/tmp/f", "w") as first:
        fcntl.flock(first, fcntl.LOCK_EX)
        pid = os.fork()
        if pid == 0:
            try:
                fcntl.lockf(os.open("/tmp/l", os.O_RDWR), fcntl.LOCK_EX | fcntl.LOCK_NB)
                print("lockf: not excluded", flush=True)
            except OSError:
                print("lockf: excluded", flush=True)
            try:
                fcntl.flock(open("/tmp/f"), fcntl.LOCK_EX | fcntl.LOCK_NB)
                print("flock: not excluded", flush=True)
            except OSError:
                print("flock: excluded", flush=True)
            os._exit(0)
        os.waitpid(pid, 0)
"""


@pytest.mark.timeout(60)
def test_bwrap_file_locks_keep_a_programs_processes_apart():
    # With locks made no-ops, the SQLite writers failed ("disk I/O error", 422 of 1200 rows) and a
    # child took the lockf lock its parent held.
    box = get_sandbox("bwrap", **TEST_LIMITS)
    result = box.run(_LOCKING_PROGRAM)
    assert result.ok, result
    assert result.stdout.splitlines() == ["rows 180 ok [0, 0, 0]", "lockf: excluded", "flock: excluded"], result.stdout


# -- 2. dnotify is refused, on 64-bit and on i386 calls --------------------------------------------
_DNOTIFY = r"""
import ctypes, errno, fcntl, mmap, os
folder = os.open("/usr/bin", os.O_RDONLY)
try:
    fcntl.fcntl(folder, fcntl.F_NOTIFY, fcntl.DN_ACCESS | fcntl.DN_MULTISHOT)
    print("F_NOTIFY: watching")
except OSError as exc:
    print("F_NOTIFY:", errno.errorcode[exc.errno])
print("F_GETFL works:", fcntl.fcntl(folder, fcntl.F_GETFL) >= 0)
r, w = os.pipe()
try:
    fcntl.fcntl(r, 1031, 1 << 20)  # F_SETPIPE_SZ: still refused
    print("F_SETPIPE_SZ: allowed")
except OSError as exc:
    print("F_SETPIPE_SZ:", errno.errorcode[exc.errno])
# i386 calls from this 64-bit process (int 0x80; seccomp sees them as AUDIT_ARCH_I386)
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
# push rbx; mov eax,edi; mov ebx,esi; mov r8d,ecx; mov ecx,edx; mov edx,r8d; int 0x80; pop rbx; ret
code = bytes.fromhex("5389f889f34189c889d14489c2cd805bc3")
page = libc.mmap(None, 4096, 7, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | 0x40, -1, 0)  # MAP_32BIT
ctypes.memmove(page, code, len(code))
sys32 = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint)(page)
if sys32(20, 0, 0, 0) != os.getpid():  # getpid: no i386 emulation in this kernel
    print("i386: none")
else:
    for name, number in (("fcntl", 55), ("fcntl64", 221)):
        print(f"i386 {name} F_NOTIFY:", errno.errorcode.get(-sys32(number, folder, 1026, 1 | 0x80000000), "watching"))
    lock, probe = os.open("/tmp/x", os.O_CREAT | os.O_RDWR), os.open("/tmp/x", os.O_RDWR)
    print("i386 flock:", sys32(143, lock, fcntl.LOCK_EX, 0))
    try:
        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        print("i386 flock: not locked")
    except BlockingIOError:
        print("i386 flock: locked")
"""


def test_bwrap_refuses_dnotify_on_every_architecture():
    # dnotify's DN_ACCESS on the shared /usr/bin saw 191 opens by a concurrent run in 2 s.
    if platform.machine() != "x86_64":
        pytest.skip("the probe's i386 calls are x86-64's")
    box = get_sandbox("bwrap", **TEST_LIMITS)
    result = box.run(_DNOTIFY)
    assert result.ok, result
    lines = result.stdout.splitlines()
    assert lines[:3] == ["F_NOTIFY: EINVAL", "F_GETFL works: True", "F_SETPIPE_SZ: EPERM"], result.stdout
    if lines[3:] != ["i386: none"]:
        assert lines[3:] == ["i386 fcntl F_NOTIFY: EINVAL", "i386 fcntl64 F_NOTIFY: EINVAL",
                             "i386 flock: 0", "i386 flock: locked"], result.stdout


# -- 3. Docker: a container lost before the program started is judged by how it ended -------------
class _Container(Channel):
    """A fake container: greets, answers an empty program (acknowledging it first, as the real
    worker does) and, for any other run, dies while receiving it; the engine reports its end as
    `how`. With `dead_before_send` it is found dead when its process limit is set."""

    def __init__(self, how: str, dead_before_send: bool = False) -> None:
        self._out = b'{"ready": true}\n'
        self.dead, self.how, self.dead_before_send, self.pids_limit, self.daemon_hung = False, how, dead_before_send, None, False
        self.runs_received = 0

    def send_line(self, data: bytes, timeout: float | None = None) -> None:
        if json.loads(data)["code"] == "":
            self._out += STARTED_LINE + b"\n" + _OK + b"\n"
        else:
            self.runs_received += 1
            self.dead = True

    def _read_some(self, timeout: float) -> bytes | None:
        data, self._out = self._out, b""
        return data

    def kill(self) -> None:
        self.dead = True

    def alive(self) -> bool:
        return not self.dead

    def set_pids_limit(self, limit: int) -> None:
        if self.dead_before_send:
            self.dead = True
            raise ConnectionError("the container is gone")
        self.pids_limit = limit

    def how_it_ended(self, since: float) -> str:
        return self.how


def _docker_run(spawn) -> object:
    pool = DockerPool("docker", spawn)
    limits = Limits(timeout=1)
    try:
        return pool.execute(job_message(Job(code="print(1)", stdin="x" * 1000), limits, warm_python=True,
                                        rlimit_nproc=False), limits)
    finally:
        pool.close()


def test_docker_oom_before_the_program_started_says_raise_memory_mb_and_is_not_retried():
    # Before: the loss was not judged; the run was sent to a second container (its large input
    # again) and ended "lost its worker twice ... the sandbox is failing", no word of memory_mb.
    spawned = []

    def spawn():
        spawned.append(_Container("oom"))
        return spawned[-1]

    result = _docker_run(spawn)
    assert result.status == "sandbox_error", (result.status, result.message)
    assert "OOM killer" in result.message and "raise memory_mb" in result.message, result.message
    assert sum(container.runs_received for container in spawned) == 1  # not sent to a fresh container


def test_docker_containers_killed_through_docker_before_the_program_started_are_diagnosed():
    with pytest.raises(SandboxUnavailable, match="killed from outside through Docker"):
        _docker_run(lambda: _Container("killed"))


def test_docker_a_container_dead_when_its_process_limit_is_set_is_lost_before_the_program_started():
    # Before: counted as lost after the program started; twice, then an empty program ran fine on
    # a third container, and the program (never sent) was blamed with "error".
    spawned = []

    def spawn():
        spawned.append(_Container("exited", dead_before_send=len(spawned) < 2))
        return spawned[-1]

    result = _docker_run(spawn)
    assert result.status == "sandbox_error", (result.status, result.message)
    assert "before the program started" in result.message and "process limit" in result.message, result.message
    assert len(spawned) == 2 and not any(container.runs_received for container in spawned)


# -- 4. the message of a run lost while being received says why -----------------------------------
class _Frozen(Channel):
    """A worker that greets, then takes no input (a paused container)."""

    def __init__(self) -> None:
        self._out = b'{"ready": true}\n'

    def send_line(self, data: bytes, timeout: float | None = None) -> None:
        time.sleep(max(0.0, timeout or 0.0))
        raise TimeoutError("took no input")

    def _read_some(self, timeout: float) -> bytes | None:
        data, self._out = self._out, b""
        return data or None

    def kill(self) -> None:
        pass


class _DiesWhileReceiving(_Frozen):
    def send_line(self, data: bytes, timeout: float | None = None) -> None:
        raise BrokenPipeError("the worker is gone")


@pytest.mark.parametrize("channel, expected", [
    (_Frozen, "had not received and written out the run's message within the allowance"),
    (_DiesWhileReceiving, "died while receiving the run's message"),
])
def test_a_run_lost_while_received_is_told_why_with_its_size_and_the_allowance(channel, expected, monkeypatch):
    # Before: "lost its worker twice while it received this run ... the sandbox is failing", for a
    # host too slow to receive a large input in its allowance as for a dying worker.
    monkeypatch.setattr(pool_module, "GRACE_SECONDS", 0.05)
    pool = WarmPool("fake", channel)
    limits = Limits(timeout=1)
    message = job_message(Job(code="print(1)", stdin="x" * (3 << 20)), limits, warm_python=True)
    result = pool.execute(message, limits)
    pool.close()
    assert result.status == "sandbox_error", (result.status, result.message)
    size = len(json.dumps(message).encode() + b"\n") / (1 << 20)
    allowance = 0.05 + pool_module.RECEIVE_SECONDS_PER_MIB * size
    assert expected in result.message, result.message
    assert f"{size:.1f} MiB" in result.message and f"allowance of {allowance:.1f}s" in result.message, result.message
    assert f"0.05s + {pool_module.RECEIVE_SECONDS_PER_MIB:g}s per MiB" in result.message, result.message
