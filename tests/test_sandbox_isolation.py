"""Nothing of one run reaches the next run on the same warm worker: not its data in memory, not
marks on the dirs it could write, and no process of its own that keeps the worker from answering.

Each test uses a sandbox with one worker (`max_concurrent=1`), so consecutive runs are served by
the same warm worker, which is where one run could leave something for the next.
"""

from __future__ import annotations

import json
import textwrap
import uuid

import pytest

from rlvr.sandbox import BACKENDS

from conftest import get_sandbox

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(params=BACKENDS)
def one_worker(request):
    return get_sandbox(request.param, timeout=5, max_concurrent=1)


# Reads every readable mapping of its own memory and prints the markers it finds there.
SCAN_OWN_MEMORY = textwrap.dedent(
    r"""
    import ctypes, re
    found = set()
    for line in open("/proc/self/maps"):
        span, perms = line.split()[:2]
        if "r" not in perms or "[vvar" in line or "[vsyscall" in line:
            continue
        lo, hi = (int(x, 16) for x in span.split("-"))
        if hi - lo > 256 << 20:
            continue
        try:
            data = ctypes.string_at(lo, hi - lo)
        except Exception:
            continue
        found.update(m.group().decode() for m in re.finditer(rb"MARK[0-9a-f]{32}-(?:in|out|code)", data))
    print(sorted(found))
    """
)


def test_a_run_cannot_read_earlier_runs_code_input_or_output_from_memory(one_worker):
    """A job's process is a fork: it would inherit whatever the forking process still holds, freed
    memory included. Were that the worker, which read the earlier jobs and their output, a program
    could print the expected output it finds there (a wrong answer scored right by check_io)."""
    mark = f"MARK{uuid.uuid4().hex}"
    earlier = one_worker.run(f"x = input()\nprint(x.replace('-in', '-out'))  # {mark}-code", stdin=f"{mark}-in\n")
    assert earlier.ok and earlier.stdout == f"{mark}-out\n"
    scan = one_worker.run(SCAN_OWN_MEMORY)
    assert scan.ok, scan.stderr
    assert scan.stdout == "[]\n"  # none of the earlier run's code, input or output


# Becomes traceable (a fresh exec), lets a child ptrace it, and exits while the child, which never
# waits for it, sleeps on: the exited process can then be collected only once the tracer is gone.
TRACED_BY_ITS_CHILD = textwrap.dedent(
    r"""
    import ctypes, os, sys, time
    if len(sys.argv) < 2:
        os.execv(sys.executable, [sys.executable, sys.argv[0], "traced"])
    libc = ctypes.CDLL(None, use_errno=True)
    main = os.getpid()
    r, w = os.pipe()
    kid = os.fork()
    if kid == 0:
        os.read(r, 1)
        print("attach", libc.ptrace(16, main, 0, 0), flush=True)  # PTRACE_ATTACH
        os.setsid()
        time.sleep(1000)
    libc.prctl(0x59616D61, kid, 0, 0, 0)  # PR_SET_PTRACER (Yama): the child may trace us
    os.write(w, b"x")
    time.sleep(0.5)
    os._exit(0)
    """
)


def test_a_run_traced_by_its_own_child_ends_at_its_time_limit(one_worker):
    """The worker never waits blocking for a job's process: a process traced by a child of its
    own is handed back only once that tracer is gone, so the tracer is killed. Before, the worker
    hung in that wait until the host gave up on it, twice, and the run read as a killed supervisor."""
    result = one_worker.run(TRACED_BY_ITS_CHILD, timeout=2)
    if result.status == "timeout" and "attach 0" not in result.stdout:  # the child could not trace it
        pytest.skip(f"ptrace is not allowed in the {one_worker.name} sandbox here ({result.stdout!r} {result.message})")
    assert result.status == "timeout", (result.status, result.message)
    assert one_worker.run("print(1)").stdout == "1\n"  # the worker still serves


MARK_DIRS = textwrap.dedent(
    r"""
    import json, os
    done = {}
    for d in (".", os.environ["TMPDIR"]):
        try:
            os.setxattr(d, "user.rlvr-leak", b"hello")
            done[d] = ["xattr"]
        except OSError:
            done[d] = []
        os.chmod(d, 0o1711)
        os.utime(d, (1234567890, 1234567890))
        done[d] += ["mode", "times"]
    print(json.dumps(done))
    """
)

READ_DIRS = textwrap.dedent(
    r"""
    import json, os
    seen = {}
    for d in (".", os.environ["TMPDIR"]):
        st = os.stat(d)
        try:
            names = os.listxattr(d)
        except OSError:
            names = []
        seen[d] = {"mode": st.st_mode & 0o7777, "mtime": int(st.st_mtime), "xattrs": sorted(names)}
    print(json.dumps(seen))
    """
)


def test_marks_on_the_dirs_a_run_may_write_are_gone_at_the_next_run(one_worker):
    """The work dir and TMPDIR are emptied after every run, and their own mode, times and extended
    attributes put back: a run owns them, and could otherwise leave a message there for the next."""
    before = json.loads(one_worker.run(READ_DIRS).stdout)
    marked = one_worker.run(MARK_DIRS)
    assert marked.ok, marked.stderr
    after = json.loads(one_worker.run(READ_DIRS).stdout)
    assert {d: (seen["mode"], seen["xattrs"]) for d, seen in after.items()} == \
        {d: (seen["mode"], seen["xattrs"]) for d, seen in before.items()}
    assert all(seen["mtime"] != 1234567890 for seen in after.values())  # (writing a run's files touches it)


def test_a_run_that_stops_its_handler_is_killed(one_worker):
    """Under bwrap and Docker a job runs as the same user as the handler serving it, so it can
    send it SIGSTOP; the worker (pid 1 of the namespace, out of the job's reach) kills every
    process of the job and resumes the handler, which reports the run killed: the program's own
    failure, at once. Before, a stopped handler held the run until the host gave up on the worker,
    twice; then, resumed after each stop, a job re-stopping it kept running 15 times its limit."""
    if not one_worker.isolated:
        pytest.skip("host mode: jobs run as another user than their handler (or, unprivileged, as no boundary)")
    result = one_worker.run("import os, signal, time\nos.kill(os.getppid(), signal.SIGSTOP)\ntime.sleep(60)", timeout=2)
    assert result.status == "error" and "SIGKILL" in result.message, (result.status, result.message)
    assert one_worker.run("print(1)").stdout == "1\n"


ADD_KEY = textwrap.dedent(
    r"""
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    ADD_KEY = {"x86_64": 248, "aarch64": 217}[os.uname().machine]
    key = libc.syscall(ADD_KEY, b"user", b"rlvr-leak", b"hello", 5, ctypes.c_long(-4))  # into @u, the user keyring
    print("added" if key >= 0 else os.strerror(ctypes.get_errno()))
    """
)


def test_a_run_cannot_leave_a_key_in_the_kernel_keyring(one_worker):
    """The user keyring outlives a run and is shared by the runs of a worker (the namespaces do
    not make it private): bwrap's seccomp filter refuses the keyring's calls, as Docker's does."""
    if not one_worker.isolated:
        pytest.skip("the subprocess backend is documented as no security boundary")
    import platform

    if platform.machine() not in ("x86_64", "aarch64"):
        pytest.skip(f"no syscall numbers for {platform.machine()} in this test")
    result = one_worker.run(ADD_KEY)
    assert result.ok and result.stdout == "Operation not permitted\n", (result.stdout, result.stderr)
