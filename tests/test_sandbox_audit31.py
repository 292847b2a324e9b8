"""Sandbox audit 31, against real sandboxes (bwrap, Docker where it runs, subprocess as root).

1. A program that lowers its handler's resource limits (`prlimit` on its parent) so that the
   handler fails while answering (a lowered RLIMIT_AS fails the encoding of a large output, a
   lowered RLIMIT_FSIZE its note on stderr) is the program's `error` at once: it used to make the
   handler exit without an answer, and the pool then ran the program again, a second try at a
   test it had seen itself failing. A handler that fails once the program has started is never
   tried again.
2. The subprocess backend run as root: what a job uid leaves in the host's /tmp and /var/tmp is
   removed after each job and when the uid is released, and nothing of any other owner is.
"""

from __future__ import annotations

import os
import time

import pytest

from conftest import TEST_LIMITS, get_sandbox
from rlvr.sandbox import Limits, make_sandbox
from rlvr.sandbox.base import Job
from rlvr.sandbox.bwrap import default_python
from rlvr.sandbox.pool import WORKER_SOURCE, ProcessChannel, WarmPool, job_message
from rlvr.sandbox.subprocess_backend import forget_uid
from rlvr.sandbox.worker import SABOTAGE_RESULT

ROOT = os.geteuid() == 0
#: The sandboxes of part 1 (a key of their own: their workers retire after each attack).
AUDIT31_LIMITS = {**TEST_LIMITS, "timeout": 10, "max_output_bytes": 2_000_000}
SABOTAGED = SABOTAGE_RESULT["message"]


def _counted(sandbox, monkeypatch) -> list:
    """The replies of the sandbox's workers, one per run sent (the pool's own exchanges, watched)."""
    replies = []
    exchange = sandbox._pool._exchange

    def watched(channel, message, limits):
        reply = exchange(channel, message, limits)
        replies.append(None if reply is None else reply.get("status", sorted(reply)))
        return reply

    monkeypatch.setattr(sandbox._pool, "_exchange", watched)
    return replies


# -- 1. a program that cripples its handler while it answers ------------------------------------
#: The handler's RLIMIT_AS set just above what it maps now: enough to supervise, not to encode
#: 900 KB of output as base64 (the red team's reproducer, with the margins it found to work).
SHRINK_THE_HANDLER = """
import os, resource, sys
ppid = os.getppid()
vm = int([l for l in open(f"/proc/{ppid}/status") if l.startswith("VmSize")][0].split()[1]) * 1024
resource.prlimit(ppid, resource.RLIMIT_AS, (vm + HEAD, vm + HEAD))
sys.stdout.write("x" * 900_000)
"""


@pytest.mark.parametrize("head", [1 << 20, 5 << 19, 4 << 20])
@pytest.mark.parametrize("backend", ["bwrap", "docker"])
def test_a_handler_crippled_to_fail_while_answering_is_the_programs_error_at_once(backend, head, monkeypatch):
    sandbox = get_sandbox(backend, **AUDIT31_LIMITS)
    replies = _counted(sandbox, monkeypatch)
    result = sandbox.run(SHRINK_THE_HANDLER.replace("HEAD", str(head)))
    assert result.status == "error" and not result.infrastructure_failed, result
    assert result.message == SABOTAGED, result
    assert replies == ["error"], replies  # answered on the first try: never run again
    assert sandbox.run("print('next')").stdout == "next\n"


def test_a_handler_whose_stderr_is_made_unwritable_is_the_programs_error_at_once(monkeypatch):
    # RLIMIT_FSIZE 0 on the handler, and the worker reniced: the handler's note that the worker's
    # settings changed (on its stderr, a file) failed with EFBIG, and the run was tried again
    sandbox = get_sandbox("bwrap", **AUDIT31_LIMITS)
    replies = _counted(sandbox, monkeypatch)
    code = ("import os, resource\nresource.prlimit(os.getppid(), resource.RLIMIT_FSIZE, (0, 0))\n"
            "os.setpriority(os.PRIO_PROCESS, 1, 5)\nprint('wrong answer')")
    result = sandbox.run(code)
    assert (result.status, result.message) == ("error", SABOTAGED), result
    assert replies == ["error"], replies
    assert sandbox.run("import os\nprint(os.getpriority(os.PRIO_PROCESS, 0))").stdout == "0\n"


def test_a_program_that_lowers_its_handlers_limits_is_its_error_even_when_nothing_fails(monkeypatch):
    # whether the crippled handler happens to fail (the output's size, the allocator's state) must
    # not decide the score: a program could otherwise lower them only when it sees itself failing
    sandbox = get_sandbox("bwrap", **AUDIT31_LIMITS)
    replies = _counted(sandbox, monkeypatch)
    code = ("import os, resource\nsoft, hard = resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE)\n"
            "resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE, (soft - 1, hard))\nprint('the right answer')")
    result = sandbox.run(code)
    assert (result.status, result.message, result.stdout) == ("error", SABOTAGED, ""), result
    assert replies == ["error"], replies
    assert sandbox.run("print(6 * 7)").stdout == "42\n"


def test_a_run_that_changes_no_limit_of_its_handler_is_scored_as_usual(monkeypatch):
    sandbox = get_sandbox("bwrap", **AUDIT31_LIMITS)
    replies = _counted(sandbox, monkeypatch)
    code = ("import os, resource\nresource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))\n"  # its own: allowed
            "print(resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE) != (64, 64))\nprint('x' * 900_000)")
    result = sandbox.run(code)
    assert result.status == "ok" and result.stdout.startswith("True\nxxx"), result
    assert replies == ["ok"], replies


# -- 1b. a handler that fails on its own once the program has started --------------------------
#: A worker whose handlers fail as they send a run's answer (a bug of the worker's own): the
#: worker's real code otherwise, started as the subprocess backend starts it.
FAILING_SEND = WORKER_SOURCE.replace('\nif __name__ == "__main__":\n    main(sys.argv)', "") + """
_send = Worker.send
def send(self, message):
    if "status" in message:
        raise RuntimeError("a bug in sending the answer")
    _send(self, message)
Worker.send = send
main(sys.argv)
"""


def test_a_handler_that_fails_after_the_program_started_is_not_run_again(tmp_path):
    assert FAILING_SEND.count("main(sys.argv)") == 1
    started = []

    def spawn() -> ProcessChannel:
        home = tmp_path / f"w{len(started)}"
        for sub in ("work", "tmp"):
            (home / sub).mkdir(parents=True)
        started.append(home)
        return ProcessChannel([default_python(), "-I", "-c", FAILING_SEND, "host", str(home / "work"),
                               str(home / "tmp"), "-"])

    pool, limits = WarmPool("test", spawn), Limits(timeout=5)
    try:
        result = pool.execute(job_message(Job(code="print(1)"), limits, warm_python=True, rlimit_nproc=False), limits)
        # the empty program fails too: the sandbox is failing, and says so (never the program's error)
        assert result.status == "sandbox_error" and result.infrastructure_failed, result
        assert "failed to run an empty program" in result.message
        # it says what happened, once: not "lost its worker twice" (it ran once), with the exit status
        assert "twice" not in result.message and "exit status 70" in result.message, result.message
        assert len(started) == 2, started  # the run once (no second try), then the empty program
    finally:
        pool.close()


# -- 2. the subprocess backend as root: a job uid's files in the host's shared temp dirs ---------
needs_root = pytest.mark.skipif(not ROOT, reason="jobs run under uids of their own only when rlvr runs as root")

LEAVE_FILES = """
import os
tag = "TAG"
open(f"/tmp/{tag}-note", "w").write("answer=42")
os.makedirs(f"/var/tmp/{tag}-dir/a/b")
open(f"/var/tmp/{tag}-dir/a/b/f", "w").write("x")
os.symlink("/etc/hostname", f"/tmp/{tag}-link")
open(f"/tmp/{tag}-shared", "a").write("written by the job")  # another owner's file it may write to
print(os.getuid())
"""


@needs_root
def test_a_job_uids_files_in_tmp_and_var_tmp_are_removed_after_each_job():
    tag = f"rlvr-audit31-{os.getpid()}-{time.monotonic_ns()}"
    shared = f"/tmp/{tag}-shared"
    with open(shared, "w"):
        pass
    os.chmod(shared, 0o666)
    try:
        with make_sandbox("subprocess", **TEST_LIMITS, max_concurrent=1) as sandbox:
            result = sandbox.run(LEAVE_FILES.replace("TAG", tag))
            assert result.status == "ok", result
            uid = int(result.stdout)
            assert uid != 0
            for left in (f"/tmp/{tag}-note", f"/var/tmp/{tag}-dir", f"/tmp/{tag}-link"):
                assert not os.path.lexists(left), left  # gone before the answer came back
            with open(shared) as handle:  # root's file: kept, whoever wrote in it
                assert handle.read() == "written by the job"
            assert os.path.exists("/etc/hostname")  # (a symlink removed, never what it points to)
            after = sandbox.run(f"import os\nprint(os.path.exists('/tmp/{tag}-note'), os.getuid())")
            assert after.stdout == f"False {uid}\n", after  # the same job uid: nothing of the run before
    finally:
        os.unlink(shared)


@needs_root
def test_a_job_uids_file_in_a_tmp_unchanged_for_long_is_still_found():
    # the sweep skips a shared temp dir whose time has not changed since before the job: one whose
    # time is old (no entry made for long) must still be swept once the job makes one
    tag = f"rlvr-audit31-{os.getpid()}-{time.monotonic_ns()}"
    with make_sandbox("subprocess", **TEST_LIMITS, max_concurrent=1) as sandbox:
        assert sandbox.run("print(1)").ok
        old = time.time() - 3600
        stat = os.stat("/tmp")
        os.utime("/tmp", (stat.st_atime, old))
        result = sandbox.run(f"open('/tmp/{tag}', 'w').write('x')\nprint('left')")
        assert result.status == "ok", result
        assert not os.path.lexists(f"/tmp/{tag}")


@needs_root
def test_many_quick_runs_leave_nothing_in_tmp():
    # each run's file is made right after the previous run's sweep changed /tmp (within a clock tick)
    tag = f"rlvr-audit31-{os.getpid()}-{time.monotonic_ns()}"
    with make_sandbox("subprocess", **TEST_LIMITS, max_concurrent=1) as sandbox:
        for number in range(20):
            result = sandbox.run(f"open('/tmp/{tag}-{number}', 'w').write('x')")
            assert result.status == "ok", result
        assert not [name for name in os.listdir("/tmp") if name.startswith(tag)]


@needs_root
def test_a_released_job_uid_leaves_nothing_in_tmp_and_nothing_of_others_is_touched():
    uid, other = 1_099_999, 1_099_998  # (in the job uid range; not claimed: the test owns them)
    tag = f"rlvr-audit31-{os.getpid()}-{time.monotonic_ns()}"
    mine, tree, link = f"/tmp/{tag}-mine", f"/var/tmp/{tag}-tree", f"/tmp/{tag}-link"
    theirs, outside = f"/tmp/{tag}-theirs", f"/tmp/{tag}-outside"
    for path in (mine, theirs, outside):
        with open(path, "w") as handle:
            handle.write("x")
    os.makedirs(f"{tree}/deep/er")
    with open(f"{tree}/deep/er/f", "w") as handle:
        handle.write("x")
    os.symlink(outside, link)
    for path in (mine, tree, f"{tree}/deep", f"{tree}/deep/er", f"{tree}/deep/er/f", link):
        os.lchown(path, uid, uid)
    os.chown(theirs, other, other)
    try:
        forget_uid(uid)  # what `release_job_uid` does once the worker is gone
        assert not any(os.path.lexists(path) for path in (mine, tree, link))
        assert os.path.exists(theirs) and os.stat(theirs).st_uid == other
        with open(outside) as handle:  # root's, and what the uid's symlink pointed to
            assert handle.read() == "x"
    finally:
        for path in (mine, theirs, outside, link):
            if os.path.lexists(path):
                os.unlink(path)
        if os.path.lexists(tree):
            forget_uid(uid)


# -- review of the above: job uids never a user's; a coarse clock never hides a change ----------
def test_a_uid_of_an_account_or_a_subordinate_range_is_someones(tmp_path):
    from rlvr.sandbox.subprocess_backend import _belongs_to_someone, _subordinate_ranges

    subuid = tmp_path / "subuid"
    subuid.write_text("alice:1050000:65536\nbroken line\nbob:x:5\n")
    ranges = _subordinate_ranges((str(subuid), str(tmp_path / "missing")))
    assert ranges == [range(1_050_000, 1_050_000 + 65536)]
    assert _belongs_to_someone(1_050_000, ranges) and _belongs_to_someone(1_115_535, ranges)
    assert not _belongs_to_someone(1_115_536, ranges) and not _belongs_to_someone(1_049_999, ranges)
    assert _belongs_to_someone(0, [])  # root: in the user database
    assert not _belongs_to_someone(1_049_999, [])


@needs_root
def test_a_job_uid_is_never_claimed_in_a_users_subordinate_range(tmp_path, monkeypatch):
    """Nine tenths of the job uid range are handed to a user's rootless containers: a claim (which
    kills the uid's processes and removes its files in /tmp) must take a uid outside them."""
    from rlvr.sandbox import subprocess_backend as backend

    first = backend.JOB_UID_RANGE[0]
    given = range(first, first + len(backend.JOB_UID_RANGE) * 9 // 10)
    subuid = tmp_path / "subuid"
    subuid.write_text(f"alice:{given.start}:{len(given)}\n")
    monkeypatch.setattr(backend, "SUBORDINATE_ID_FILES", (str(subuid),))
    for _ in range(20):
        uid, fd = backend.claim_job_uid()
        backend.release_job_uid(uid, fd)
        assert uid in backend.JOB_UID_RANGE and uid not in given, uid


def test_a_temp_dir_changed_a_second_before_a_job_is_always_swept(tmp_path):
    """On a filesystem whose times move a whole second at a time, an entry made during a job in
    the same second as a change before it leaves the dir's time as it was: a dir changed that
    recently is swept whatever its time says afterwards."""
    from rlvr.sandbox.worker import _changed_dirs, _dir_stamps

    recent, old = tmp_path / "recent", tmp_path / "old"
    recent.mkdir()
    old.mkdir()
    now = time.time()
    os.utime(recent, (now - 1.5, now - 1.5))
    os.utime(old, (now - 60, now - 60))
    stamps = _dir_stamps((str(recent), str(old)))
    assert _changed_dirs(stamps) == (str(recent),)  # the old one unchanged: skipped
    (old / "f").write_text("x")
    assert set(_changed_dirs(stamps)) == {str(recent), str(old)}
