"""Sandbox audit 28 (b), against the real subprocess and bubblewrap backends.

- (A first fix scored a host OOM kill under bwrap/subprocess as "sandbox_error"; the session's
  review showed a wrong program could then escape its score by running the host out itself or by
  killing itself when any process was OOM-killed, so it was withdrawn: a program that kills itself
  stays its own "error", and a documented limit remains.) Cleaning a shared dir never changes the
  mode of what a symlink swapped in for a directory points to.
- Run as a user other than root, the subprocess backend's RLIMIT_NPROC leaves a job its
  `max_processes` on top of the user's own threads (a trainer with 40 of them made every run fail
  to start a thread), and still stops a job past it.
- With a job uid of its own (rlvr as root), SysV IPC objects and /dev/shm entries a subprocess
  job makes are removed after it.
- Without `cpu_time`, RLIMIT_CPU is a backstop per CPU the run may use: a program whose threads
  work in parallel is not killed as "timeout" before its wall-clock limit.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap

import pytest

from conftest import TEST_LIMITS, get_sandbox
from rlvr.sandbox import make_sandbox
from rlvr.sandbox import worker as worker_module
from rlvr.sandbox.subprocess_backend import claim_job_uid, release_job_uid

ROOT = os.geteuid() == 0
OTHER_UID = 54321  # a uid with no account: the subprocess backend's jobs then run as it, unprivileged


# -- 1. a program's own SIGKILL; cleaning shared dirs ----------------------------------------------
def test_a_program_killing_itself_is_still_its_own_error(box):
    result = box.run("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    assert (result.status, result.message) == ("error", "killed by signal SIGKILL"), result


def test_making_a_directory_usable_never_follows_a_symlink(tmp_path):
    # a job may swap a directory of a shared dir (/dev/shm) for a symlink between the listing and
    # the chmod: root must not change the mode of what it points to (review of the session's diff)
    target = tmp_path / "target"
    target.mkdir(mode=0o755)
    os.chmod(target, 0o755)
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "swapped").symlink_to(target)
    (shared / "plain").mkdir(mode=0o000)
    root = os.open(shared, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(OSError):
            worker_module._make_usable(root, "swapped")
        worker_module._make_usable(root, "plain")
    finally:
        os.close(root)
    assert target.stat().st_mode & 0o777 == 0o755
    assert (shared / "plain").stat().st_mode & 0o777 == 0o700
    worker_module._clean_dir(str(shared))
    assert list(shared.iterdir()) == [] and target.stat().st_mode & 0o777 == 0o755


# -- 2. RLIMIT_NPROC as a user other than root ---------------------------------------------------
NPROC_SCRIPT = textwrap.dedent("""
    import sys, threading
    event = threading.Event()
    for _ in range(40):  # a trainer's threads (torch, tokenizers)
        threading.Thread(target=event.wait, daemon=True).start()
    from rlvr.sandbox import make_sandbox
    with make_sandbox("subprocess", max_processes=8, timeout=10) as sandbox:
        one = sandbox.run("import threading\\nt = threading.Thread(target=print, args=('hi',))\\nt.start(); t.join()")
        print("ONE", one.status, one.stdout.strip(), one.message, sep="|")
        threads = "import threading, time\\nts = [threading.Thread(target=time.sleep, args=(0.3,)) for _ in range({})]\\n[t.start() for t in ts]"
        fits = sandbox.run(threads.format(7))  # with the main thread: max_processes
        print("FITS", fits.status, sep="|")
        many = sandbox.run(threads.format(8))
        print("MANY", many.status, "can't start new thread" in many.stderr, sep="|")
""")


@pytest.mark.skipif(not ROOT or shutil.which("setpriv") is None, reason="runs rlvr as another user: needs root and setpriv")
def test_a_non_root_users_own_threads_leave_a_job_its_max_processes():
    done = subprocess.run(["setpriv", f"--reuid={OTHER_UID}", f"--regid={OTHER_UID}", "--clear-groups",
                           sys.executable, "-c", NPROC_SCRIPT],
                          capture_output=True, text=True, timeout=60, cwd="/tmp")
    lines = dict(line.split("|", 1) for line in done.stdout.splitlines() if "|" in line)
    assert lines.get("ONE", "").startswith("ok|hi|"), (done.stdout, done.stderr)
    assert lines["FITS"] == "ok", lines
    assert lines["MANY"] == "error|True", lines  # the limit still stops a job past max_processes


# -- 3. what a job of a job uid leaves in SysV IPC and /dev/shm ------------------------------------
LEAVE_IPC = textwrap.dedent("""
    import ctypes, os
    libc = ctypes.CDLL(None)
    assert libc.semget(0, 4, 0o1600) >= 0 and libc.shmget(0, 1 << 20, 0o1600) >= 0 and libc.msgget(0, 0o1600) >= 0
    tag = f"rlvr-audit28b-{os.getuid()}"
    open(f"/dev/shm/{tag}", "wb").write(b"x" * 4096)
    os.makedirs(f"/dev/shm/{tag}-dir/sub")
    open(f"/dev/shm/{tag}-dir/sub/f", "w").write("x")
    print(os.getuid())
""")


def _ipc_of(uid: int) -> list[str]:
    rows = []
    for table in ("shm", "sem", "msg"):
        with open(f"/proc/sysvipc/{table}") as handle:
            header, *lines = handle.read().splitlines()
        columns = header.split()
        for line in lines:
            fields = line.split()
            if uid in (int(fields[columns.index("uid")]), int(fields[columns.index("cuid")])):
                rows.append(f"{table} {fields[1]}")
    return rows


def _forget(uid: int) -> None:
    """Remove what the tests' jobs of `uid` left, whatever the outcome (the test has judged by then)."""
    worker_module.remove_sysv_ipc(uid)
    worker_module.remove_entries_of(uid, ["/dev/shm"])


def _shm_of(uid: int) -> list[str]:
    return [entry.name for entry in os.scandir("/dev/shm") if entry.stat(follow_symlinks=False).st_uid == uid]


@pytest.mark.skipif(not ROOT or not os.path.isdir("/dev/shm"),
                    reason="jobs run under uids of their own only when rlvr runs as root")
def test_sysv_ipc_and_dev_shm_a_job_uid_leaves_are_removed_after_the_job():
    with make_sandbox("subprocess", **TEST_LIMITS) as sandbox:
        result = sandbox.run(LEAVE_IPC)
        assert result.status == "ok", result
        uid = int(result.stdout)
        assert uid != 0
        try:
            assert _ipc_of(uid) == [] and _shm_of(uid) == []  # gone before the answer came back
            assert sandbox.run("print(1)").stdout == "1\n"
        finally:
            _forget(uid)


@pytest.mark.skipif(not ROOT or not os.path.isdir("/dev/shm"), reason="claims a job uid: needs root")
def test_releasing_a_job_uid_removes_what_its_jobs_left():
    uid, lock = claim_job_uid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - becomes the uid and leaves things behind, as a killed worker's job
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            exec(LEAVE_IPC.replace("print(os.getuid())", ""), {})
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    try:
        left = (len(_ipc_of(uid)), len(_shm_of(uid)))
        release_job_uid(uid, lock)
        assert left == (3, 2) and _ipc_of(uid) == [] and _shm_of(uid) == []
    finally:
        _forget(uid)


# -- 4. without cpu_time, the wall clock decides -------------------------------------------------
PARALLEL = textwrap.dedent("""
    import hashlib, resource, threading, time
    data = b"x" * (1 << 20)
    def work():
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            hashlib.sha256(data).digest()  # releases the GIL: the threads run in parallel
    threads = [threading.Thread(target=work) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    print(resource.getrlimit(resource.RLIMIT_CPU)[0])
""")


@pytest.mark.parametrize("backend", ["subprocess", "bwrap"])
def test_without_cpu_time_parallel_threads_run_to_their_wall_clock_limit(backend):
    sandbox = get_sandbox(backend, **TEST_LIMITS)
    cpus = len(os.sched_getaffinity(0))
    if cpus < 2:
        pytest.skip("one CPU: threads cannot use more CPU time than wall-clock time")
    result = sandbox.run(PARALLEL, timeout=1.9)
    assert result.status == "ok", result
    assert int(result.stdout) == 2 * cpus  # the timeout, rounded, plus one, per CPU


def test_with_cpu_time_the_limit_is_not_scaled(box):
    result = box.run("import resource\nprint(resource.getrlimit(resource.RLIMIT_CPU))", cpu_time=1.5)
    assert result.stdout == "(2, 3)\n", result


def test_the_backstop_is_reported_as_such():
    limits = {"timeout": 1.0, "cpu_time": None, "cpu_seconds": 2}
    exec_ed = worker_module.Evidence(warm=False, verdict=None)  # (a command the worker execs)
    cpu_used = 2.0 * len(os.sched_getaffinity(0))
    status, message = worker_module._classify(-signal.SIGXCPU, "", cpu_used, limits, exec_ed, {})
    assert status == "timeout" and message.startswith("CPU-time backstop of"), message
    assert "no cpu_time was set" in message
    status, message = worker_module._classify(-signal.SIGXCPU, "", 2.0, {**limits, "cpu_time": 1.5}, exec_ed, {})
    assert (status, message) == ("timeout", "CPU-time limit of 1.5s exceeded")
