"""Sandbox audit 28, against real bubblewrap and Docker (where they run).

- bwrap's seccomp filter refuses SysV semaphore sets and message queues (semget, msgget) on every
  architecture it covers, as it refuses SysV shared memory: they are kernel memory that belongs to
  no process, outside `memory_mb` (150 semaphore sets held ~290 MiB under memory_mb=64). Python's
  multiprocessing, whose locks are POSIX semaphores, still works.
- A host process holding descriptors numbered 1024 or more (a raised open-file limit) can still
  run programs under every backend: the pool waited on its workers with select.select, which
  refuses such descriptors ("filedescriptor out of range in select()").
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import TEST_LIMITS, get_sandbox
from test_sandbox_audit26 import AARCH64, EPERM, I386, X32, X86_64, _decide

# -- 1. SysV semaphores and message queues --------------------------------------------------------
SYSV_PROGRAM = r"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
IPC_PRIVATE, IPC_CREAT = 0, 0o1000
print("semget:", libc.semget(IPC_PRIVATE, 32000, IPC_CREAT | 0o600), ctypes.get_errno())
print("msgget:", libc.msgget(IPC_PRIVATE, IPC_CREAT | 0o600), ctypes.get_errno())
print("went on")
"""

MULTIPROCESSING_PROGRAM = r"""
import multiprocessing as mp

def square(x):
    return x * x

if __name__ == "__main__":
    lock, semaphore, queue, value = mp.Lock(), mp.Semaphore(2), mp.Queue(), mp.Value("i", 0)
    with lock, semaphore:
        value.value += 1
    child = mp.Process(target=queue.put, args=(42,))
    child.start()
    child.join()
    with mp.Pool(2) as pool:
        print(pool.map(square, range(4)), queue.get(), value.value, child.exitcode)
"""


def test_bwrap_refuses_sysv_semaphores_and_message_queues():
    result = get_sandbox("bwrap", **TEST_LIMITS).run(SYSV_PROGRAM, timeout=10)
    assert (result.status, result.stdout) == ("ok", "semget: -1 1\nmsgget: -1 1\nwent on\n"), result


def test_bwrap_multiprocessing_still_works():
    result = get_sandbox("bwrap", **TEST_LIMITS).run(MULTIPROCESSING_PROGRAM, timeout=10)
    assert (result.status, result.stdout) == ("ok", "[0, 1, 4, 9] 42 1 0\n"), result


@pytest.mark.parametrize("arch, semget, msgget", [
    (X86_64, 64, 68), (X86_64, X32 + 64, X32 + 68), (I386, 393, 399), (AARCH64, 190, 186),
])
def test_the_filter_refuses_semget_and_msgget_on_every_architecture(arch, semget, msgget):
    assert _decide(arch, semget, 0, 1, 0o1600) == EPERM
    assert _decide(arch, msgget, 0, 0o1600) == EPERM


# -- 2. a host process with descriptors numbered 1024 or more -------------------------------------
#: Run in a fresh interpreter (the test's own process keeps its limit): raises the soft open-file
#: limit, opens descriptors until the next free one is past 1024, then makes a sandbox and runs a
#: program with 1 MiB of stdin (more than a pipe holds, so that sending it waits for room).
MANY_FDS = r"""
import json, os, resource, sys
backend, limits = sys.argv[1], json.loads(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2048) if hard == resource.RLIM_INFINITY else hard, hard))
held = []
while not held or held[-1] < 1100:
    held.append(os.open(os.devnull, os.O_RDONLY))
probe = os.open(os.devnull, os.O_RDONLY)
assert probe > 1024, probe  # every descriptor opened from here on is past select's range
os.close(probe)
from rlvr.sandbox import make_sandbox
with make_sandbox(backend, **limits) as box:
    runs = [box.run("import sys; print(len(sys.stdin.read()))", stdin="x" * (1 << 20)) for _ in range(2)]
print(json.dumps([[r.status, r.stdout, r.message] for r in runs]))
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", ["subprocess", "bwrap", "docker"])
def test_a_host_holding_descriptors_past_1024_still_runs_programs(backend):
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"the hard open-file limit ({hard}) leaves no room for descriptors past 1024")
    get_sandbox(backend, **TEST_LIMITS)  # skips (or fails, when required) where the backend cannot run
    proc = subprocess.run([sys.executable, "-c", MANY_FDS, backend, json.dumps(TEST_LIMITS)],
                          capture_output=True, text=True, timeout=100, cwd=Path(__file__).parents[1])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.splitlines()[-1]) == [["ok", f"{1 << 20}\n", ""]] * 2, proc.stdout
