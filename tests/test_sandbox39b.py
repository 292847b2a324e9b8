"""Review 39b of the subprocess backend and the batch API (real runs, no mocks):

1. run by a non-root user, a Ctrl-C (or close()) mid-run leaves none of the program's children
   running (the worker's control pipe is closed first: it kills its job and what it started);
2. as root, a Ctrl-C that ends the script still removes the files a killed job left in /tmp (the
   background release of its uid is waited for at exit);
3. a run queued for a slot is not failed while the running program is within its own time limit;
4. a closed sandbox raises RuntimeError when used, never a "sandbox_error", and a worker start
   that fails because of a close() says the sandbox is closed;
5. the job-uid lock files are removed when a uid is released;
6. the messages for an interpreter the job uids cannot run, and for bwrap missing from PATH, say
   how to fix it.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from rlvr.sandbox import make_sandbox
from rlvr.sandbox.base import SandboxUnavailable

ROOT = os.geteuid() == 0
NOBODY = 65534
SYSTEM_PYTHON = "/usr/bin/python3"
needs_setpriv = pytest.mark.skipif(
    not ROOT or shutil.which("setpriv") is None or not os.access(SYSTEM_PYTHON, os.X_OK),
    reason="runs rlvr as another user (nobody): needs root, setpriv and /usr/bin/python3")
needs_root = pytest.mark.skipif(not ROOT, reason="job uids of their own exist only when rlvr runs as root")


def _script(source: str, *, as_nobody: bool = False, timeout: float = 90) -> subprocess.CompletedProcess:
    """Run `source` in a fresh Python, from /tmp. `as_nobody`: as nobody, by an interpreter nobody
    can run (/usr/bin/python3; this one may lie under /root) that finds rlvr where this one does."""
    source = textwrap.dedent(source)
    if not as_nobody:
        return subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, timeout=timeout, cwd="/tmp")
    boot = "import site, sys\nfor d in %r: site.addsitedir(d)\n" % [p for p in sys.path if p.endswith("-packages")]
    return subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "env", "HOME=/tmp",
                           SYSTEM_PYTHON, "-c", boot + source], capture_output=True, text=True, timeout=timeout, cwd="/tmp")


def _sleepers(marker: str) -> str:
    return subprocess.run(["pgrep", "-af", f"sleep {marker}"], capture_output=True, text=True).stdout.strip()


# -- 1. non-root: no child of the program outlives a Ctrl-C or a close() ---------------------------
INTERRUPTED = """
    import os, signal, threading, time
    from rlvr.sandbox import make_sandbox
    how = "{how}"
    sb = make_sandbox("subprocess", timeout=30)
    code = "import subprocess, time\\np = subprocess.Popen(['sleep', '{marker}'])\\nprint('go', flush=True)\\ntime.sleep(25)\\n"
    if how == "ctrl-c":
        threading.Timer(2.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        began = None
        try:
            sb.run_many([code] * 2, concurrency=2)
        except KeyboardInterrupt:
            began = time.monotonic()
        print("RETURNED", time.monotonic() - began if began else -1)
    else:
        threading.Timer(2.0, sb.close).start()
        print("RESULT", sb.run(code).status)
    sb.close()
"""


@needs_setpriv
@pytest.mark.parametrize("how", ["ctrl-c", "close"])
def test_a_non_root_run_stopped_midway_leaves_no_child_of_the_program(how):
    marker = f"3939.{uuid.uuid4().int % 10**6}"
    done = _script(INTERRUPTED.replace("{marker}", marker).replace("{how}", how), as_nobody=True)
    time.sleep(0.5)
    left = _sleepers(marker)
    for line in left.splitlines():  # (this test's own sleepers, by their pids)
        try:
            os.kill(int(line.split()[0]), 9)
        except (ProcessLookupError, ValueError):
            pass
    assert done.returncode == 0, done.stderr[-3000:]
    assert not left, f"the program's child outlived the {how}: {left}"
    if how == "ctrl-c":  # still quick: a second or so
        returned = float(done.stdout.split("RETURNED", 1)[1].split()[0])
        assert 0 <= returned < 3.0, done.stdout


# -- 2. root: a Ctrl-C that ends the script leaves no file of the killed jobs in /tmp ---------------
EXIT_LEAK = """
    import os, signal, threading
    from rlvr.sandbox import make_sandbox
    sb = make_sandbox("subprocess", timeout=60)
    code = ("import os, time\\nd = '/tmp/{marker}_' + str(os.getpid())\\nos.mkdir(d)\\n"
            "for i in range(4000): open(d + '/f%d' % i, 'w').close()\\n"
            "print('ready', flush=True)\\ntime.sleep(50)\\n")
    threading.Timer(4.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    sb.run_many([code] * 3, concurrency=3)
"""


@needs_root
def test_a_ctrl_c_that_ends_the_script_leaves_no_file_of_a_killed_job():
    marker = f"rlvr39b_leak_{uuid.uuid4().hex[:8]}"
    done = _script(EXIT_LEAK.replace("{marker}", marker))
    left = glob.glob(f"/tmp/{marker}_*")
    for path in left:
        shutil.rmtree(path, ignore_errors=True)
    assert "KeyboardInterrupt" in done.stderr, done.stderr[-2000:]
    assert not left, f"{len(left)} dirs of killed jobs stayed in /tmp"


# -- 3. a queued run is not failed while the running one is within its own limit -------------------
def test_a_queued_run_waits_while_the_slot_holder_is_within_its_time_limit():
    with make_sandbox("subprocess", timeout=8, max_concurrent=1, slot_timeout=1) as sb:
        results = sb.run_many(["import time; time.sleep(2.5); print('done')"] * 2, concurrency=2)
    assert [r.status for r in results] == ["ok", "ok"], [r.message for r in results]


def test_a_queue_that_stands_still_past_the_holders_limits_still_gives_up():
    from rlvr.sandbox.slots import SlotGate, SlotTimeout
    gate = SlotGate(1)
    with gate.slot(0.2, allowance=0.5):
        began = time.monotonic()
        failed = []

        def waiter():
            try:
                with gate.slot(0.2):
                    pass
            except SlotTimeout as exc:
                failed.append(exc)
        thread = threading.Thread(target=waiter)
        thread.start()
        thread.join(10)
        waited = time.monotonic() - began
    assert failed and 0.45 <= waited < 5, waited


# -- 4. a closed sandbox is the caller's mistake ------------------------------------------------------
def test_a_closed_sandbox_raises_when_used():
    sb = make_sandbox("subprocess", timeout=5)
    assert sb.run("print(1)").status == "ok"
    sb.close()
    for use in (lambda: sb.run("print(1)"), lambda: sb.run_many(["print(1)", "print(2)"]),
                lambda: sb.prepare("print(1)")):
        with pytest.raises(RuntimeError, match="closed; make a new one"):
            use()
    sb.close()  # (twice is fine)


def test_a_worker_start_that_fails_because_of_a_close_says_the_sandbox_is_closed():
    sb = make_sandbox("subprocess", timeout=5)
    sb.close()  # (its folder of work dirs is gone: a worker started now cannot be)
    with pytest.raises(SandboxUnavailable, match="^the subprocess sandbox is closed$"):
        sb._pool._start()


# -- 5. job-uid lock files --------------------------------------------------------------------------
@needs_root
def test_a_released_job_uid_leaves_no_lock_file():
    from rlvr.sandbox.subprocess_backend import UID_LOCK_DIR, claim_job_uid, release_job_uid
    uid, lock = claim_job_uid()
    path = os.path.join(UID_LOCK_DIR, str(uid))
    assert os.path.exists(path)
    release_job_uid(uid, lock)
    assert not os.path.exists(path)
    again, lock = claim_job_uid()  # (a claim still works, and locks the file at the path)
    try:
        assert os.fstat(lock).st_ino == os.stat(os.path.join(UID_LOCK_DIR, str(again))).st_ino
    finally:
        release_job_uid(again, lock)


# -- 6. messages ------------------------------------------------------------------------------------
@needs_root
def test_an_interpreter_the_job_uids_cannot_run_says_which_to_pass(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    python = private / "python3"
    shutil.copy2(os.path.realpath(sys.executable), python)
    with pytest.raises(SandboxUnavailable) as caught:
        make_sandbox("subprocess", python=str(python))
    assert "pass python= one every user can read (e.g. /usr/bin/python3)" in str(caught.value)


def test_bwrap_missing_from_path_says_to_install_it_or_fix_path(monkeypatch, tmp_path):
    from rlvr.sandbox.bwrap import BwrapSandbox
    monkeypatch.setenv("PATH", str(tmp_path))  # (an empty folder: no bwrap on PATH)
    works, why = BwrapSandbox.check()
    if works or "seccomp filter" in why:
        pytest.skip(f"bwrap's check stops before looking for it here: {why}")
    assert "not found on PATH (install bubblewrap, or add its folder to PATH)" in why


def test_a_run_holding_its_slot_while_its_many_files_are_written_is_waited_for():
    """The slot allowance counted only the holder's time limit and grace: behind a run of 20,000
    files (its files written before its time starts, as the pool allows) a queued run gave up,
    "stuck" though nothing was. (`slot_timeout` is shortened to show it without 300 s of files.)"""
    from rlvr.sandbox.base import Job, Limits, _slot_allowance

    files = {f"d/f{i}.txt": "x" for i in range(20_000)}
    small, many = _slot_allowance(Job("pass"), Limits(timeout=2)), _slot_allowance(Job("pass", files=files), Limits(timeout=2))
    assert many - small >= 20_000 * 0.001  # (the pool's SECONDS_PER_ENTRY for each file)
    sandbox = make_sandbox("subprocess", max_concurrent=1, slot_timeout=1)
    try:
        with ThreadPoolExecutor(2) as pool:
            holder = pool.submit(sandbox.run, "import os\nprint(len(os.listdir('d')))", files=files, timeout=2,
                                 max_files=30_000)
            time.sleep(0.3)
            queued = sandbox.run("print(1)")
        assert holder.result().ok, holder.result()
        assert queued.ok, queued
    finally:
        sandbox.close()
