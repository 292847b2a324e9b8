"""Findings of the session-16 sandbox audit: the host reads a huge result line in linear time, and
bubblewrap's seccomp filter refuses memfd memory and nested user namespaces."""

from __future__ import annotations

import pytest

from rlvr.sandbox.pool import Channel


class _ChunkedChannel(Channel):
    """A channel whose worker sends `data` in 64 KiB reads, as a pipe delivers a long line."""

    def __init__(self, data: bytes) -> None:
        self._data, self._pos = data, 0

    def send_line(self, data: bytes) -> None:  # pragma: no cover - not used
        pass

    def _read_some(self, timeout: float) -> bytes | None:
        chunk = self._data[self._pos:self._pos + (1 << 16)]
        self._pos += len(chunk)
        return chunk

    def kill(self) -> None:  # pragma: no cover - not used
        pass


@pytest.mark.timeout(20)
def test_a_result_line_of_tens_of_megabytes_is_read_whole_in_linear_time():
    # 48 MiB in 768 reads: re-joining and re-scanning the whole buffer per read (the old loop) copied
    # and searched ~18 GB here, tens of seconds; one growing buffer searched only in its new bytes is
    # well under a second
    line = b"x" * (48 << 20)
    channel = _ChunkedChannel(line + b"\nnext\n")
    assert channel.read_line(timeout=5) == line
    assert channel.read_line(timeout=5) == b"next"
    assert channel.read_line(timeout=5) is None  # end of stream


_ESCAPES = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
try:
    os.memfd_create("x")
    print("memfd: made")
except OSError as exc:
    print("memfd:", exc.errno)
print("unshare:", libc.unshare(0x10000000), ctypes.get_errno())     # CLONE_NEWUSER
pid = libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)                 # clone(CLONE_NEWUSER | SIGCHLD)
if pid == 0:
    os._exit(0)
print("clone:", pid, ctypes.get_errno())
"""


@pytest.mark.parametrize("backend", ["bwrap", "docker"])
def test_memfd_memory_and_nested_user_namespaces_are_refused(backend):
    # memfd files are memory outside memory_mb (RLIMIT_AS counts only mappings): 160 MiB held under a
    # 32 MiB limit on bwrap; a nested user namespace gave a run every capability (a 1 GiB tmpfs)
    import platform

    from conftest import TEST_LIMITS, get_sandbox

    if platform.machine() != "x86_64":
        pytest.skip("the probe calls clone by its x86-64 number")
    box = get_sandbox(backend, **TEST_LIMITS)
    result = box.run(_ESCAPES, timeout=10)
    assert result.ok, result
    lines = result.stdout.splitlines()
    if backend == "bwrap":  # (Docker's memory cgroup caps memfd files: they are allowed there)
        assert lines[0] == "memfd: 1", lines
    assert lines[1] == "unshare: -1 1" and lines[2] == "clone: -1 1", lines


def test_the_sandbox_still_runs_threads_processes_and_subprocesses():
    # clone3 fails with ENOSYS under the filter: the C library must fall back to clone
    from conftest import TEST_LIMITS, get_sandbox

    box = get_sandbox("bwrap", **TEST_LIMITS)
    code = ("import os, subprocess, threading, multiprocessing as mp\n"
            "t = threading.Thread(target=print, args=('thread',)); t.start(); t.join()\n"
            "p = mp.Process(target=print, args=('process',)); p.start(); p.join()\n"
            "print(subprocess.run(['echo', 'subprocess'], capture_output=True, text=True).stdout.strip())\n"
            "pid = os.fork()\n"
            "if pid == 0:\n    os._exit(3)\n"
            "print('fork', os.waitpid(pid, 0)[1] >> 8)\n")
    result = box.run(code, timeout=10)
    assert result.ok and result.stdout.split("\n")[:4] == ["thread", "process", "subprocess", "fork 3"], result


_STOPPERS = r"""
import os, signal, time
handler = os.getppid()
def stopper():
    end = time.process_time() + 1.5       # each leaves before its CPU limit; the parent re-forks it
    while time.process_time() < end:
        try:
            os.kill(handler, signal.SIGSTOP)
        except ProcessLookupError:
            break
    os._exit(0)
kids = set()
while True:
    while len(kids) < 3:
        pid = os.fork()
        if pid == 0:
            stopper()
        kids.add(pid)
    pid, _ = os.wait()
    kids.discard(pid)
"""


@pytest.mark.timeout(60)
@pytest.mark.parametrize("backend", ["bwrap", "docker"])
def test_a_run_that_stops_its_supervisor_is_killed_as_the_programs_failure(backend):
    # the job kept SIGSTOPping the handler that enforces its limits: a 2 s run took 34 s (two
    # attempts past the host's grace) and ended as a sandbox error; now the worker kills it
    from conftest import TEST_LIMITS, get_sandbox

    box = get_sandbox(backend, **TEST_LIMITS)
    result = box.run(_STOPPERS, timeout=2)
    assert result.status == "error" and "SIGKILL" in result.message, result
    assert box.run("print('next')", timeout=5).stdout == "next\n"  # the worker goes on


_PAGE_CACHE_AND_SHM = r"""
import ctypes, mmap, os
libc = ctypes.CDLL(None, use_errno=True)
print("shmget:", libc.shmget(0, 1 << 20, 0o1600), ctypes.get_errno())   # IPC_PRIVATE, IPC_CREAT | 0600
fd = os.open("/usr/bin/env", os.O_RDONLY)
try:
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    print("fadvise: done")
except OSError as exc:
    print("fadvise:", exc.errno)
try:
    os.preadv(fd, [bytearray(1)], 0, os.RWF_NOWAIT)
    print("preadv2: done")
except OSError as exc:
    print("preadv2:", exc.errno)
page = mmap.mmap(fd, mmap.PAGESIZE, prot=mmap.PROT_READ)
vec = ctypes.create_string_buffer(1)
buf = (ctypes.c_char * mmap.PAGESIZE).from_buffer_copy(page[:])
print("mincore:", libc.syscall(27, ctypes.c_void_p(ctypes.addressof(buf) & ~(mmap.PAGESIZE - 1)), mmap.PAGESIZE, vec), ctypes.get_errno())
print("read:", len(os.pread(fd, 16, 0)), os.preadv(fd, [bytearray(4)], 0))   # plain reads work
"""


def test_bwrap_refuses_sysv_shared_memory_and_the_page_cache_calls():
    # SysV segments, once detached, count against no process: one run held 2 GiB under memory_mb=64;
    # fadvise(DONTNEED) and RWF_NOWAIT reads (or mincore) set and read bits in the host's page cache
    # of the shared system files: 32 bits passed from one fresh sandbox to the next
    import platform

    from conftest import TEST_LIMITS, get_sandbox

    if platform.machine() != "x86_64":
        pytest.skip("the probe calls mincore by its x86-64 number")
    box = get_sandbox("bwrap", **TEST_LIMITS)
    result = box.run(_PAGE_CACHE_AND_SHM, timeout=10)
    assert result.ok, result
    assert result.stdout.splitlines() == ["shmget: -1 1", "fadvise: 1", "preadv2: 1", "mincore: -1 1", "read: 16 4"], result
