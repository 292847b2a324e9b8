"""Finding of the session-38 red team: a program that leaves many directories.

A program that made 300,000 empty directories in its work dir (subprocess backend, timeout=60)
was run twice and then reported as `error` ("the program killed or froze its sandbox supervisor"),
the caller waiting 150 s: the worker wiped the work dir before it answered, the wipe took longer
than the run's grace, and the late answer read as a frozen worker. The worker now answers first,
then wipes, then says so (`CLEAN_LINE`); the pool hands it no run before that, and a worker still
wiping after a short wait is set aside (`WarmPool._settle`), so that no other run waits for it.

Here the same at a small scale on every backend: a grace of 0.2 s, and a program that makes up to
100,000 directories (a wipe of seconds) and answers 3.4 s into its 4 s time limit.
"""

from __future__ import annotations

import os
import textwrap
import time

import pytest
from conftest import own_sandbox

from rlvr.sandbox import pool as pool_module
from rlvr.sandbox import worker as worker_module

BACKENDS = ["subprocess", "bwrap", "docker"]
TIMEOUT = 4.0

MANY_DIRS = textwrap.dedent("""
    import os, time
    began = time.monotonic()
    os.mkdir('d')
    for i in range(100000):
        if time.monotonic() - began > 1.0:
            break
        os.mkdir('d/%d' % i)
    time.sleep(max(0.0, 3.4 - (time.monotonic() - began)))
    print('made')
""")

#: What a run sees in its work dir besides its own program: nothing a run before it left.
LISTING = "import os, sys; print(sorted(n for n in os.listdir('.') if n != os.path.basename(sys.argv[0])))"


@pytest.fixture(params=BACKENDS)
def box(request):
    sandbox = own_sandbox(request.param, timeout=TIMEOUT, max_concurrent=1, max_files=200_000)
    yield sandbox
    sandbox.close()


def _settled(pool, within: float) -> bool:
    """Whether the pool's set-aside workers all finished their wipe within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        pool._sweep_cleaning()
        if not pool._cleaning:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.timeout(90)
def test_a_program_that_leaves_many_dirs_is_answered_in_time_and_run_once(box, monkeypatch):
    monkeypatch.setattr(pool_module, "GRACE_SECONDS", 0.2)  # the answer must not wait for the wipe
    monkeypatch.setattr(pool_module, "CLEAN_WAIT_SECONDS", 0.05)  # (surely set aside)
    began = time.monotonic()
    result = box.run(MANY_DIRS)
    elapsed = time.monotonic() - began
    assert result.status == "ok", (result.status, result.message)
    assert result.stdout == "made\n"
    assert elapsed < TIMEOUT + 1.5, elapsed  # (before: two runs, each lost at its deadline)
    pool = box._pool
    assert len(pool._cleaning) == 1  # still wiping: set aside, not idle

    # the next run (another caller's) gets another worker at once, and a clean work dir
    began = time.monotonic()
    nxt = box.run(LISTING)
    assert nxt.status == "ok" and nxt.stdout == "[]\n", (nxt.status, nxt.message, nxt.stdout)
    assert time.monotonic() - began < 10  # (a fresh worker's start, not the wipe's end)

    # once its wipe is done, the set-aside worker serves runs again, with nothing left of the program
    assert _settled(pool, 60), "the set-aside worker never finished its wipe"
    assert len(pool._idle) == 2
    for _ in range(2):  # (each idle worker once: the last released is taken first)
        again = box.run(LISTING)
        assert again.status == "ok" and again.stdout == "[]\n", (again.status, again.message, again.stdout)


def test_an_ordinary_run_leaves_its_worker_idle_and_clean(box):
    for _ in range(3):
        result = box.run("open('x', 'w').write('1'); print(1)")
        assert result.status == "ok" and result.stdout == "1\n", (result.status, result.message)
        listing = box.run(LISTING)
        assert listing.status == "ok" and listing.stdout == "[]\n", (listing.status, listing.message, listing.stdout)
        assert len(box._pool._all) == 1  # one worker serves them all: its wipe was done before the next run


#: A program that leaves a file in /dev/shm and a SysV shared-memory segment, then makes directories
#: until its time limit ends it (a wipe of a second or more after its answer).
LEAVES_SHM = textwrap.dedent("""
    import ctypes, os
    fd = os.open('/dev/shm/rlvr-cleanup38', os.O_CREAT | os.O_WRONLY, 0o644); os.write(fd, b'42'); os.close(fd)
    ctypes.CDLL(None).shmget(0x5eed38, 4096, 0o1666)
    for i in range(190000):
        os.mkdir('d%d' % i)
    while True:
        pass
""")
SEES_SHM = ("import os\nprint(os.path.exists('/dev/shm/rlvr-cleanup38'), "
            "[l.split()[0] for l in open('/proc/sysvipc/shm').read().splitlines()[1:]])")


@pytest.mark.timeout(90)
def test_a_run_right_after_another_sees_nothing_it_left_in_shared_ipc(box):
    if box.name == "subprocess" and os.geteuid() != 0:
        pytest.skip("jobs have uids of their own (and their shared entries are removed) only as root")
    key = str(0x5eed38)
    result = box.run(LEAVES_SHM, timeout=3.0)  # (a wipe longer than any wait)
    assert result.status == "timeout", (result.status, result.message)
    after = box.run(SEES_SHM)  # started at once: the first run's worker is still wiping its dirs
    assert after.status == "ok", (after.status, after.message)
    assert after.stdout.startswith("False ") and key not in after.stdout, after.stdout


def _makes_dirs_for(seconds: float, count: int) -> str:
    return f"import os, time\nfor i in range({count}):\n    os.mkdir('d%d' % i)\ntime.sleep({seconds})\nprint('done')"


@pytest.mark.timeout(120)
def test_sequential_file_heavy_runs_do_not_pile_up_set_aside_workers(box):
    pool = box._pool
    for _ in range(6):
        result = box.run("import os\nfor i in range(150000):\n    os.mkdir('d%d' % i)\nwhile True:\n    pass", timeout=1.0)
        assert result.status == "timeout", (result.status, result.message)
        # one run at a time: at most one worker runs and one more is set aside still wiping
        assert len(pool._cleaning) <= 2 and len(pool._all) <= 2, (len(pool._cleaning), len(pool._all))


def test_the_answer_does_not_wait_for_the_wipe(box):
    pool = box._pool
    first = box.run("print(1)")
    assert first.stdout == "1\n", (first.status, first.message)
    result = box.run(_makes_dirs_for(0.0, 10000), timeout=30)  # (a wipe of some tenths of a second)
    assert result.status == "ok" and result.stdout == "done\n", (result.status, result.message)
    # returned while its worker still wipes: set aside, not waited for until it was idle again
    assert len(pool._cleaning) == 1 and not pool._idle, (len(pool._cleaning), len(pool._idle))
    assert _settled(pool, 60)
    assert len(pool._idle) == 1 and len(pool._all) == 1


def test_a_gone_subprocess_worker_s_home_is_removed_without_waiting_for_close():
    """A subprocess worker killed (set aside too long, lost, retired) left its home, with whatever
    its last run made there, until the sandbox closed: a long run of rlvr eval piled them up."""
    box = own_sandbox("subprocess")
    try:
        assert box.run("open('left.txt', 'w').write('x' * 1000)\nprint('ok')").stdout == "ok\n"
        worker = box._pool._idle[0]
        homes = set(os.listdir(box._root))
        assert len(homes) == 1
        worker.kill()
        deadline = time.monotonic() + 10
        while os.listdir(box._root) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.listdir(box._root) == []  # the sandbox itself still works, in a fresh home
        assert box.run("import os\nprint('left.txt' in os.listdir('.'))").stdout == "False\n"
    finally:
        box.close()


#: A program that leaves a directory of up to 200,000 directories in /dev/shm (a tmpfs of its own:
#: no rename into the worker's TMPDIR), then answers 3.4 s into its 4 s time limit.
MANY_DIRS_IN_SHM = textwrap.dedent("""
    import os, time
    began = time.monotonic()
    top = '/dev/shm/rlvr-cleanup38-many'
    os.mkdir(top)
    for i in range(200000):
        if time.monotonic() - began > 1.2:
            break
        os.mkdir(top + '/%d' % i)
    time.sleep(max(0.0, 3.4 - (time.monotonic() - began)))
    print('made')
""")


SEES_HELD = textwrap.dedent("""
    import os
    seen = []
    for name in os.listdir('/dev/shm'):
        if 'rlvr' in name:
            try:
                seen += [name] + os.listdir('/dev/shm/' + name)
            except PermissionError:
                pass
    print(seen)
""")


@pytest.mark.timeout(120)
def test_a_program_that_leaves_many_dirs_in_dev_shm_is_answered_in_time(monkeypatch):
    """What a run left in /dev/shm was deleted before its answer (the rename out of sight failed
    across filesystems): answered seconds late, and with a short grace lost twice and blamed on
    the program. It is now renamed into a root-owned holding folder there, removed after the answer."""
    if os.geteuid() != 0:
        pytest.skip("jobs have uids of their own (and their shared entries are removed) only as root")
    monkeypatch.setattr(pool_module, "GRACE_SECONDS", 0.2)  # the answer must not wait for the removal
    monkeypatch.setattr(pool_module, "CLEAN_WAIT_SECONDS", 0.05)
    box = own_sandbox("subprocess", timeout=TIMEOUT, max_concurrent=1)
    try:
        began = time.monotonic()
        result = box.run(MANY_DIRS_IN_SHM)
        elapsed = time.monotonic() - began
        assert result.status == "ok" and result.stdout == "made\n", (result.status, result.message)
        assert elapsed < TIMEOUT + 1.5, elapsed
        after = box.run(SEES_HELD)  # (the holding folder's name is seen, but not what it holds)
        assert after.status == "ok" and after.stdout == "[]\n", (after.status, after.message, after.stdout)
        assert _settled(box._pool, 60), "the set-aside worker never finished its wipe"
        assert not [n for n in os.listdir("/dev/shm") if n.startswith(".rlvr-aside-")]  # the holding folder too
    finally:
        box.close()


def test_a_holding_folder_is_made_by_root_and_never_one_a_job_planted(tmp_path):
    """The holding folder of `remove_entries_of` in a shared dir: a name a job took beforehand (its
    own dir, or a symlink to a dir elsewhere) is never used; a killed worker's is removed with its uid."""
    if os.geteuid() != 0:
        pytest.skip("holding folders are made as root")
    shared, elsewhere, aside = tmp_path / "shared", tmp_path / "elsewhere", tmp_path / "aside"
    for folder in (shared, elsewhere):
        folder.mkdir()
    os.chmod(shared, 0o1777)
    uid = 54338
    planted = shared / f"{worker_module.HOLDING_PREFIX}{uid}-planted"
    planted.symlink_to(elsewhere)
    left = shared / "left"
    (left / "sub").mkdir(parents=True)
    os.lchown(left, uid, uid)
    # no rename into `aside` (it does not exist): the planted symlink is not followed, and the job's dir is removed
    worker_module.remove_entries_of(uid, [str(shared)], aside=str(aside), holding=planted.name)
    assert not left.exists() and os.listdir(elsewhere) == []
    (left / "sub").mkdir(parents=True)
    os.lchown(left, uid, uid)
    holding = f"{worker_module.HOLDING_PREFIX}{uid}-ours"
    worker_module.remove_entries_of(uid, [str(shared)], aside=str(aside), holding=holding)
    assert sorted(os.listdir(shared)) == sorted([planted.name, holding])  # out of sight, not removed yet
    assert os.stat(shared / holding).st_uid == 0 and os.stat(shared / holding).st_mode & 0o777 == 0o700
    worker_module.remove_entries_of(uid, [str(shared)])  # the uid released (its worker gone)
    assert os.listdir(shared) == [planted.name]  # (a symlink of root's here: not a holding folder)


# A child process (SIGINT must reach the caller's main thread): file-heavy runs two at a time, so
# that a run waits for the oldest set-aside worker (`WarmPool._from_set_aside`, crowded); Ctrl-C
# once one does. It reports how long the exception took after the signal.
_CTRL_C_CROWDED = r'''
import json, os, signal, sys, threading, time
from rlvr.sandbox import make_sandbox
HEAVY = "import os, time\nbegan = time.monotonic(); os.mkdir('d'); i = 0\nwhile time.monotonic() - began < 1.5:\n    os.mkdir('d/%d' % i); i += 1\n"
box = make_sandbox("subprocess", timeout=3, max_concurrent=2)
pool, wiped, sent = box._pool, box._pool._wiped, []
def watched(channel, timeout):  # (sees the crowded wait begin: it alone waits more than a second)
    if timeout > 1 and not sent:
        sent.append(time.monotonic())
        threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    return wiped(channel, timeout)
pool._wiped = watched
try:
    box.run_many([HEAVY] * 8, concurrency=2)
    took = None
except KeyboardInterrupt:
    took = time.monotonic() - sent[0] - 0.3 if sent else None
box.close()
print(json.dumps({"took": took}))
'''


@pytest.mark.timeout(120)
def test_ctrl_c_while_a_run_waits_for_a_set_aside_worker_ends_at_once():
    """The wait for the oldest set-aside worker (up to a grace, 15 s) was no `stoppable` one: Ctrl-C
    in `run_many` took the whole interrupt wait (5 s) instead of a moment."""
    import json
    import subprocess
    import sys
    child = subprocess.run([sys.executable, "-c", _CTRL_C_CROWDED], capture_output=True, text=True, timeout=110)
    assert child.returncode == 0, child.stderr[-2000:]
    report = json.loads(child.stdout.strip().splitlines()[-1])
    assert report["took"] is not None and report["took"] < 1.5, report
