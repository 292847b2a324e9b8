"""Subprocess-backend defects found by red team 41 (bwrap and Docker were fine).

- A forked child that used the sandbox removed its parent's folder of worker homes at its (normal)
  exit: its workers' homes lay in the parent's folder, and their removal went on to the folder.
- Run as root, jobs run as a uid with no passwd entry: `getpass.getuser()` raised KeyError where
  bwrap and Docker give "nobody".
- A SIGKILLed process's /tmp/rlvr-sandbox-* folder (with its last runs' code and inputs) and its
  uid lock files stayed for good: nothing swept them.

Then, in that fix (review of fixer 41):
- Run by a non-root user, a job's read-only dir (0555) kept its folder from ever being removed (by
  the wipe between runs, close() or a sweep), and such folders used up every sweep's quota.
- The uid sweep ran one release per uid (a full scan of the shared dirs each) in a thread that
  close() and the interpreter's exit waited for: seconds per new sandbox on a busy /tmp.
- A long-lived forked child kept its killed parent's uid lock files locked: never swept.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from rlvr.sandbox import SandboxUnavailable, make_sandbox

_FORK_CHILD = r'''
import json, os, sys, time
from rlvr.sandbox import make_sandbox
midrun = sys.argv[1] == "midrun"
box = make_sandbox("subprocess")
assert box.run("print(0)", timeout=10).stdout == "0\n"
parent_root = box._root
read, write = os.pipe()
pid = os.fork()
if pid == 0:  # the child uses the sandbox, then exits normally (its atexit handlers run)
    os.close(read)
    result = box.run("print(2)", timeout=10)
    os.write(write, json.dumps({"status": result.status, "root": box._root}).encode())
    os.close(write)
    sys.exit(0)
os.close(write)
if not midrun:
    os.waitpid(pid, 0)
code = ("import time\ntime.sleep(2.5)\n" if midrun else "") + "print(open('data.txt').read())"
result = box.run(code, files={"data.txt": "42"}, timeout=20)
if midrun:
    os.waitpid(pid, 0)
child = json.loads(os.read(read, 65536))
print(json.dumps({"status": result.status, "stdout": result.stdout, "message": result.message[-300:],
                  "parent_root": parent_root, "parent_root_there": os.path.isdir(parent_root),
                  "child": child, "child_root_there": os.path.exists(child["root"])}))
box.close()
'''


@pytest.mark.parametrize("when", ["between", "midrun"])
def test_a_forked_child_s_exit_leaves_its_parent_s_folder(when):
    """Between the parent's runs (its next run was a sandbox_error) and during one (its program's
    input file vanished under it: "error"); the child's own workers' homes are still removed."""
    proc = subprocess.run([sys.executable, "-c", _FORK_CHILD, when], cwd=tempfile.gettempdir(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["child"]["status"] == "ok", out
    assert (out["status"], out["stdout"]) == ("ok", "42\n"), out
    assert out["parent_root_there"], out
    assert out["child"]["root"] != out["parent_root"], out  # a folder of its own ...
    assert not out["child_root_there"], out  # ... removed at its exit
    assert not os.path.exists(out["parent_root"])  # and the parent's at the parent's


@pytest.mark.skipif(os.geteuid() != 0, reason="jobs run as a uid of their own only when rlvr runs as root")
@pytest.mark.parametrize("backend", ["subprocess", "bwrap"])
def test_jobs_of_a_root_run_sandbox_have_the_user_name_nobody(backend):
    """The subprocess backend's job uid has no passwd entry; USER and LOGNAME say "nobody", as the
    user database does under bwrap (and Docker), where jobs run as nobody."""
    try:
        box = make_sandbox(backend)
    except SandboxUnavailable as exc:
        pytest.skip(f"{backend} unavailable: {exc}")
    try:
        result = box.run("import getpass, os\nprint(getpass.getuser(), os.environ.get('USER'), os.environ.get('LOGNAME'))",
                         timeout=10)
    finally:
        box.close()
    assert (result.status, result.stdout) == ("ok", "nobody nobody nobody\n"), (result.status, result.stderr[-500:])


#: Run in a temp dir of the test's own, with a uid lock dir of its own: no other process on the
#: machine (other tests, other sandboxes) sweeps what the test's killed process left, nor leaves
#: what this one's sweep has to take first. (Set before any sandbox is made: read at each use.)
_SETUP = r"""
import json, os, sys, time
import rlvr.sandbox.subprocess_backend as backend
backend.UID_LOCK_DIR = os.path.join(os.environ["TMPDIR"], "uids")
"""

_HOLDER = _SETUP + r"""
box = backend.SubprocessSandbox()
job = {"code": "import time\ntime.sleep(0.5)\nprint(open('secret.txt').read())", "files": {"secret.txt": "hunter2"},
       "timeout": 10}
results = box.run_many([job, job], concurrency=2)
assert all(r.stdout == "hunter2\n" for r in results), [r.message for r in results]
fds = [os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd") if os.path.exists(f"/proc/self/fd/{fd}")]
locks = sorted(path for path in fds if path.startswith(backend.UID_LOCK_DIR + "/"))
print(json.dumps({"root": box._root, "locks": locks}), flush=True)
time.sleep(120)
"""

_SWEEPER = _SETUP + r"""
backend.SubprocessSandbox().close()  # (its making sweeps, in a thread that close() does not wait for)
getattr(backend, "wait_for_sweeps", lambda: None)()
"""


@pytest.fixture
def private_tmp():
    """A temp dir for the test's sandboxes (traversable by job uids, as /tmp is), removed after."""
    path = tempfile.mkdtemp(prefix="rlvr-test41-", dir="/tmp")
    os.chmod(path, 0o711)
    yield path
    subprocess.run(["rm", "-rf", "--one-file-system", path], check=False)


def _run_python(script: str, tmp: str, *args: str, **kwargs):
    env = dict(os.environ, TMPDIR=tmp)
    return subprocess.Popen([sys.executable, "-c", script, *args], cwd=tmp, env=env, text=True, **kwargs)


def _start_holder(tmp: str) -> tuple[subprocess.Popen, dict]:
    """A process with a subprocess sandbox that ran jobs and is left open: (process, its root and
    the uid lock files it holds)."""
    proc = _run_python(_HOLDER, tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = proc.stdout.readline()
    assert line, proc.stderr.read()[-3000:]
    return proc, json.loads(line)


def _sweep(tmp: str) -> None:
    """Make (and close) a subprocess sandbox in another process, as a later run of rlvr would."""
    sweeper = _run_python(_SWEEPER, tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = sweeper.communicate(timeout=120)
    assert sweeper.returncode == 0, err[-3000:]


def _stop(*procs: subprocess.Popen) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        proc.stdout.close()
        proc.stderr.close()


def test_a_sigkilled_process_s_folder_is_removed_by_a_later_sandbox_and_a_live_one_s_is_not(private_tmp):
    killed, left = _start_holder(private_tmp)
    live, alive = _start_holder(private_tmp)
    try:
        assert os.path.dirname(left["root"]) == private_tmp and os.listdir(left["root"])
        killed.send_signal(signal.SIGKILL)
        killed.wait(30)
        time.sleep(0.5)  # (its workers see their host gone and end)
        assert os.path.isdir(left["root"])  # nothing ran at its death
        _sweep(private_tmp)
        assert not os.path.exists(left["root"])
        assert os.path.isdir(alive["root"]) and os.listdir(alive["root"])  # another live process's: kept
        assert live.poll() is None
    finally:
        _stop(killed, live)


@pytest.mark.skipif(os.geteuid() != 0, reason="job uids (and their lock files) exist only when rlvr runs as root")
def test_a_sigkilled_process_s_uid_lock_files_are_released_by_a_later_sandbox(private_tmp):
    killed, left = _start_holder(private_tmp)
    live, alive = _start_holder(private_tmp)
    try:
        assert len(left["locks"]) == 2 and len(alive["locks"]) == 2  # (one per worker)
        killed.send_signal(signal.SIGKILL)
        killed.wait(30)
        assert all(os.path.exists(path) for path in left["locks"])
        _sweep(private_tmp)
        assert not any(os.path.exists(path) for path in left["locks"])
        assert all(os.path.exists(path) for path in alive["locks"])  # held: kept
    finally:
        _stop(killed, live)


def _as_unprivileged(script: str, tmp: str, *args: str) -> subprocess.CompletedProcess:
    """Run `script` with `python3 -c` as a user other than root: nobody (via setpriv) when the tests
    run as root, with a private `tmp` of its own as TMPDIR (made nobody's), else as this user."""
    import rlvr.sandbox
    link_dir = tempfile.mkdtemp(prefix="rlvr-test41-pp-", dir="/tmp")
    os.chmod(link_dir, 0o755)
    os.symlink(os.path.dirname(os.path.dirname(os.path.abspath(rlvr.sandbox.__file__))), os.path.join(link_dir, "rlvr"))
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": link_dir, "HOME": "/tmp", "TMPDIR": tmp}
    if os.geteuid() == 0:
        python = shutil.which("python3", path="/usr/bin:/bin")
        if python is None or shutil.which("setpriv") is None:
            pytest.skip("running as nobody needs setpriv and a python3 in /usr/bin (the venv's may be under /root)")
        os.chown(tmp, 65534, 65534)
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", python]
    else:
        argv = [sys.executable]
    try:
        return subprocess.run(argv + ["-c", script, *args], cwd=tmp, env=env, capture_output=True, text=True,
                              timeout=180)
    finally:
        shutil.rmtree(link_dir)


_READ_ONLY_JOB = ("import os\nos.makedirs('build/pkg')\nopen('build/pkg/mod.py', 'w').write('x')\n"
                  "os.chmod('build/pkg', 0o555)\nprint('made')")

_READ_ONLY_DIR = r"""
import json, os, sys
import rlvr.sandbox.subprocess_backend as backend
box = backend.SubprocessSandbox(python=sys.executable)
first = box.run(sys.argv[1], timeout=20)
after = [box.run("import os\nprint(sorted(os.listdir('.')))", timeout=20) for _ in range(2)]
workers = len(box._pool.workers)
box.close()
print(json.dumps({"first": first.status, "after": [(r.status, r.stdout) for r in after], "workers": workers,
                  "root_there": os.path.exists(box._root)}))
"""


def test_a_non_root_job_s_read_only_dir_is_wiped_between_runs_and_removed_at_close(private_tmp):
    """Run by a non-root user, the wipe after the job failed (a dir moved up must be writable
    itself: `_clean_dir`), so its worker retired, and close() left the folder (rmtree could not
    empty a 0555 dir). Fails without the fix: the folder stays."""
    proc = _as_unprivileged(_READ_ONLY_DIR, private_tmp, _READ_ONLY_JOB)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["first"] == "ok", out
    assert out["after"] == [["ok", "['main.py']\n"]] * 2, out  # the job's dirs are gone
    assert out["workers"] == 1, out  # the worker did not retire: its wipe succeeded
    assert not out["root_there"], out
    assert not [name for name in os.listdir(private_tmp) if name.startswith("rlvr-sandbox-")]


_LEFT_FOLDERS = r"""
import json, os, sys, tempfile
import rlvr.sandbox.subprocess_backend as backend
tmp = os.environ["TMPDIR"]
def left(read_only):
    path = tempfile.mkdtemp(prefix=backend.ROOT_PREFIX, dir=tmp)
    os.makedirs(path + "/h/work/pkg")
    open(path + "/h/work/pkg/m.py", "w").close()
    if read_only:
        os.chmod(path + "/h/work/pkg", 0o555)
    os.chmod(path, 0o711)
    return path
stuck = [left(True) for _ in range(40)]
plain = [left(False) for _ in range(5)]
for _ in range(2):
    backend.SubprocessSandbox(python=sys.executable).close()
    getattr(backend, "wait_for_sweeps", lambda: None)()
print(json.dumps({"read_only_left": sum(map(os.path.exists, stuck)), "plain_left": sum(map(os.path.exists, plain))}))
"""


def test_left_folders_with_read_only_dirs_are_swept_and_do_not_starve_the_others(private_tmp):
    """45 folders of killed processes (40 with a job's 0555 dir): two sweeps (32 each at most)
    remove them all. Without the fix, none of the 40 ever went, and they used up every sweep."""
    proc = _as_unprivileged(_LEFT_FOLDERS, private_tmp)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"read_only_left": 0, "plain_left": 0}, out


_UNREMOVABLE = r"""
import json, os, sys, tempfile
import rlvr.sandbox.subprocess_backend as backend
tmp = os.environ["TMPDIR"]
stuck = sorted(name for name in os.listdir(tmp) if name.startswith(backend.ROOT_PREFIX))
plain = []
for _ in range(5):
    path = tempfile.mkdtemp(prefix=backend.ROOT_PREFIX, dir=tmp)
    open(path + "/secret.py", "w").close()
    os.chmod(path, 0o711)
    plain.append(path)
backend.SubprocessSandbox(python=sys.executable).close()
getattr(backend, "wait_for_sweeps", lambda: None)()
print(json.dumps({"stuck_left": sum(os.path.exists(os.path.join(tmp, n)) for n in stuck),
                  "plain_left": sum(map(os.path.exists, plain))}))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="folders a non-root sweep cannot remove are made with root's files in them")
def test_a_folder_the_sweep_cannot_remove_does_not_count_toward_its_limit(private_tmp):
    """60 left folders of nobody's that hold a file of root's (nobody cannot remove them) and 5
    plain ones: one sweep by nobody removes the 5. Before, it took 32 folders whatever became of
    them, in the directory's order, so the plain ones were reached only by chance (about 2%)."""
    import rlvr.sandbox.subprocess_backend as backend
    for _ in range(60):
        path = tempfile.mkdtemp(prefix=backend.ROOT_PREFIX, dir=private_tmp)
        os.makedirs(path + "/h/roots")
        open(path + "/h/roots/file", "w").close()
        for dirpath in (path, path + "/h"):
            os.chown(dirpath, 65534, 65534)
        os.chmod(path, backend.ROOT_MODE)
    proc = _as_unprivileged(_UNREMOVABLE, private_tmp)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"stuck_left": 60, "plain_left": 0}, out


_COST = _SETUP + r"""
shared = sys.argv[1]
backend.JOB_UID_SHARED_DIRS = (shared,)  # (stand-in for /tmp, /var/tmp, /dev/shm, /dev/mqueue)
os.makedirs(backend.UID_LOCK_DIR)
for uid in range(1_050_000, 1_050_040):
    open(os.path.join(backend.UID_LOCK_DIR, str(uid)), "w").close()
box = backend.SubprocessSandbox()
assert box.run("print(1)", timeout=20).stdout == "1\n"
started = time.monotonic()
box.close()
closed = time.monotonic() - started
getattr(backend, "wait_for_sweeps", lambda: None)()
print(json.dumps({"close": closed, "locks_left": len(os.listdir(backend.UID_LOCK_DIR)),
                  "shared_left": sorted(os.listdir(shared))[:5], "shared_count": len(os.listdir(shared))}))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="job uids (and their lock files) exist only when rlvr runs as root")
def test_the_uid_sweep_does_not_hold_up_close_and_releases_its_uids_in_one_pass(private_tmp):
    """40 left uid lock files and a shared dir of 60,000 entries: close() waited for 32 releases,
    each listing the shared dir (seconds: about 7 s here before the fix); now it returns at once,
    and the sweep releases its 32 uids, their entries in the shared dir removed, others' kept."""
    shared = os.path.join(private_tmp, "shared")
    os.mkdir(shared)
    os.chmod(shared, 0o1777)
    for i in range(60_000):
        open(os.path.join(shared, f"f{i}"), "w").close()
    for uid in range(1_050_000, 1_050_040):  # one entry of each left uid's; swept ones go
        path = os.path.join(shared, f"u{uid}")
        open(path, "w").close()
        os.chown(path, uid, uid)
    proc = _run_python(_COST, private_tmp, shared, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    out = json.loads(out.strip().splitlines()[-1])
    assert out["close"] < 2.0, out
    assert out["locks_left"] == 8, out  # 32 taken in one sweep
    assert out["shared_count"] == 60_000 + 8, out  # the 32 swept uids' entries, only, removed
    left = [name for name in os.listdir(shared) if name.startswith("u")]
    assert sorted(left) == sorted(f"u{name}" for name in os.listdir(os.path.join(private_tmp, "uids"))), left


_FORKING_HOLDER = _SETUP + r"""
box = backend.SubprocessSandbox()
assert box.run("print(1)", timeout=20).stdout == "1\n"
fds = {fd: os.readlink(f"/proc/self/fd/{fd}") for fd in map(int, os.listdir("/proc/self/fd"))
       if os.path.exists(f"/proc/self/fd/{fd}")}
held = {fd: int(os.path.basename(path)) for fd, path in fds.items() if path.startswith(backend.UID_LOCK_DIR + "/")}
pid = os.fork()
if pid == 0:  # a long-lived child that never uses the sandbox; what its parent's closures would run
    for fd, uid in held.items():
        backend.release_job_uid(uid, fd)  # (must neither kill the uid's processes nor unlink its file)
    time.sleep(60)
    os._exit(0)
print(json.dumps({"child": pid, "uids": sorted(held.values())}), flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="job uids (and their lock files) exist only when rlvr runs as root")
def test_a_forked_child_neither_keeps_nor_releases_its_parent_s_uids(private_tmp):
    """A child forked after a run closes its copies of the uid locks (`_drop_inherited_locks`):
    its parent SIGKILLed, a sweep releases the uids while the child lives. Without the fix the
    child kept them locked (not swept), and its `release_job_uid` of them unlinked the live
    parent's lock file (and killed what ran as its uid)."""
    holder = _run_python(_FORKING_HOLDER, private_tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child = None
    try:
        line = holder.stdout.readline()
        assert line, holder.stderr.read()[-3000:]
        info = json.loads(line)
        child, (uid,) = info["child"], info["uids"]
        lock_file = os.path.join(private_tmp, "uids", str(uid))
        time.sleep(0.5)  # (the child's releases, if any, are done)
        assert os.path.exists(lock_file)  # the child released nothing of its parent's
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
        _sweep(private_tmp)
        assert os.path.exists(f"/proc/{child}")  # the child lives on ...
        assert not os.path.exists(lock_file)  # ... and its parent's uid was swept all the same
    finally:
        if child is not None:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _stop(holder)


# -- second review of the fix ---------------------------------------------------------------------

_MP_CHILDREN = r'''
import json, multiprocessing, os
from rlvr.sandbox import make_sandbox
box = make_sandbox("subprocess")
assert box.run("print(0)", timeout=10).stdout == "0\n"

def use(queue):
    queue.put((box.run("print(2)", timeout=10).stdout, box._root))

ctx = multiprocessing.get_context("fork")
queue = ctx.Queue()
children = [ctx.Process(target=use, args=(queue,)) for _ in range(3)]
for child in children:
    child.start()
results = [queue.get(timeout=60) for _ in children]
for child in children:
    child.join(60)
print(json.dumps({"outs": [out for out, _ in results], "parent": box._root,
                  "left": [root for _, root in results if os.path.exists(root)]}))
box.close()
'''


def test_a_multiprocessing_child_s_own_folder_is_removed_when_it_ends(private_tmp):
    """Was: a multiprocessing child ends with os._exit, past `weakref.finalize`'s exit hook, so the
    folder of its own (made at the fork) stayed until some later sandbox's sweep."""
    proc = _run_python(_MP_CHILDREN, private_tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    report = json.loads(out.strip().splitlines()[-1])
    assert report["outs"] == ["2\n"] * 3
    assert report["left"] == []


def test_the_wipe_between_runs_never_makes_a_removed_home_again(tmp_path):
    """Was: the workers of a SIGKILLed process, wiping their homes once they saw their host gone,
    made them again (with every missing parent) when a sweep had removed their folder meanwhile:
    mode 0755, which no sweep takes, left for good (seen in about half of 28 kills under sweeps)."""
    from rlvr.sandbox.worker import _clean_dir

    home = tmp_path / "root" / "home"
    with pytest.raises(FileNotFoundError):
        _clean_dir(str(home / "work"))
    assert not (tmp_path / "root").exists()
    (tmp_path / "root").mkdir()
    _clean_dir(str(tmp_path / "root" / "work"))  # its own dir alone is still made when missing
    assert (tmp_path / "root" / "work").is_dir()
