"""Sandbox audit 28 (b), against the real subprocess and bubblewrap backends.

- A correct program under its `memory_mb` that the kernel's OOM killer ends because the memory
  cgroup it shares with the host's processes (a pod, a `docker run -m`) ran out is the sandbox's
  failure ("sandbox_error"), never the program's "error"; a program over its own `memory_mb` is
  still "memory".
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
import time

import pytest

from conftest import TEST_LIMITS, get_sandbox
from rlvr.sandbox import make_sandbox
from rlvr.sandbox import worker as worker_module
from rlvr.sandbox.subprocess_backend import claim_job_uid, release_job_uid

ROOT = os.geteuid() == 0
OTHER_UID = 54321  # a uid with no account: the subprocess backend's jobs then run as it, unprivileged


# -- 1. the host's memory pressure is not the program's failure ------------------------------------
def _child_memory_cgroup(name: str) -> tuple[str, str]:
    """(path, version) of a new memory cgroup under this process's own, or skip saying why not."""
    if not ROOT:
        pytest.skip("making a memory cgroup needs root")
    with open("/proc/self/cgroup") as handle:
        lines = [line.rstrip("\n").split(":", 2) for line in handle]
    for _, controllers, path in lines:
        if "memory" in controllers.split(","):
            parent, version = f"/sys/fs/cgroup/memory{path.rstrip('/')}", "v1"
            break
    else:
        path = next((p for _, c, p in lines if c == ""), None)
        parent, version = f"/sys/fs/cgroup{(path or '').rstrip('/')}", "v2"
        try:
            with open(os.path.join(parent, "cgroup.subtree_control")) as handle:
                if "memory" not in handle.read().split():
                    pytest.skip(f"the memory controller is not enabled for the children of {parent}")
        except OSError as exc:
            pytest.skip(f"no cgroup v1 memory controller nor a readable cgroup v2 at {parent}: {exc}")
    cgroup = os.path.join(parent, name)
    try:
        os.mkdir(cgroup)
    except OSError as exc:
        pytest.skip(f"cannot make a memory cgroup under {parent}: {exc}")
    return cgroup, version


def _remove_cgroup(cgroup: str) -> None:
    for _ in range(100):  # its processes (the script, its sandbox's workers) may take a moment to go
        try:
            os.rmdir(cgroup)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.05)


HOST_OOM_SCRIPT = textwrap.dedent("""
    import os, sys
    cgroup, version, backend = sys.argv[1:4]
    limit = str(300 << 20)
    files = (["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"] if version == "v1"
             else ["memory.max", "memory.swap.max"])
    for name, value in zip(files, (limit, limit if version == "v1" else "0")):
        if os.path.exists(os.path.join(cgroup, name)):
            with open(os.path.join(cgroup, name), "w") as handle:
                handle.write(value)
    with open(os.path.join(cgroup, "cgroup.procs"), "w") as handle:
        handle.write(str(os.getpid()))
    from rlvr.sandbox import make_sandbox
    with make_sandbox(backend, memory_mb=512, timeout=10, max_concurrent=1) as sandbox:
        assert sandbox.run("print('ready')").status == "ok"
        trainer = bytearray(180 << 20)  # the host's own memory, in the same cgroup
        for i in range(0, len(trainer), 4096):
            trainer[i] = 1
        result = sandbox.run("x = bytearray(150 << 20)\\nfor i in range(0, len(x), 4096): x[i] = 1\\nprint('done')")
        print("UNDER_PRESSURE", result.status, result.exit_code, result.message, sep="|")
        del trainer
        own = sandbox.run("x = bytearray(100 << 20)", memory_mb=64)  # over its own limit
        print("OWN_LIMIT", own.status, sep="|")
        print("FREED", sandbox.run("x = bytearray(120 << 20)\\nprint('done')").status, sep="|")
""")


@pytest.mark.parametrize("backend", ["subprocess", "bwrap"])
def test_an_oom_kill_for_the_hosts_memory_is_a_sandbox_error_not_the_programs(backend):
    get_sandbox(backend, **TEST_LIMITS)  # skips where the backend cannot run
    cgroup, version = _child_memory_cgroup(f"rlvr-audit28b-{os.getpid()}-{backend}")
    try:
        done = subprocess.run([sys.executable, "-c", HOST_OOM_SCRIPT, cgroup, version, backend],
                              capture_output=True, text=True, timeout=120)
    finally:
        _remove_cgroup(cgroup)
    lines = dict(line.split("|", 1) for line in done.stdout.splitlines() if "|" in line)
    assert "UNDER_PRESSURE" in lines, (done.stdout, done.stderr)
    status, exit_code, message = lines["UNDER_PRESSURE"].split("|", 2)
    assert (status, exit_code) == ("sandbox_error", str(-signal.SIGKILL)), lines
    assert "OOM killer" in message and "host memory pressure" in message, message
    assert lines["OWN_LIMIT"] == "memory" and lines["FREED"] == "ok", lines


def test_a_program_killing_itself_is_still_its_own_error(box):
    result = box.run("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    assert (result.status, result.message) == ("error", "killed by signal SIGKILL"), result


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
    status, message = worker_module._classify(-signal.SIGXCPU, "", 2.0 * len(os.sched_getaffinity(0)), limits)
    assert status == "timeout" and message.startswith("CPU-time backstop of"), message
    assert "no cpu_time was set" in message
    status, message = worker_module._classify(-signal.SIGXCPU, "", 2.0, {**limits, "cpu_time": 1.5})
    assert (status, message) == ("timeout", "CPU-time limit of 1.5s exceeded")
