"""The subprocess backend: resource limits and a process group, and NO security boundary.

Programs run directly on the host, in a work dir of their own (not private: a run of another
worker at the same time can read it), with the same per-run limits as the other backends (time,
CPU, memory per process, processes, file size, output) but no bound on the total size of the
files a run writes, nor on memory outside its processes (memfds, SysV shared memory, data queued
in sockets and pipes, whose buffers it may also raise). They can read whatever the user
running rlvr can read and can open network connections. Use it only for trusted code or where no
isolating backend works; `make_sandbox("auto")` warns when it falls back to it.

Run as root, each worker's jobs run as a uid of their own (`claim_job_uid`): `max_processes` is
their RLIMIT_NPROC, and after each job the SysV IPC objects and the top-level entries of /dev/shm,
/dev/mqueue, /tmp and /var/tmp that uid owns are removed (a job leaves nothing there for the next).
Run as another user, jobs run as that user, and both are weaker:
RLIMIT_NPROC counts every process and thread of the user, so a job's is the user's task count when
it starts plus `max_processes` (the trainer's threads would otherwise leave a job none; a job may
then use what the user's other processes, concurrent runs among them, give up meanwhile, and what
they start meanwhile is taken from it), and what a job leaves in SysV IPC, /dev/shm, /dev/mqueue or
/tmp outside its own dirs stays (nothing tells it apart from the user's own).
"""

from __future__ import annotations

import fcntl
import os
import pwd
import random
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Callable

from rlvr.sandbox.base import Job, Sandbox, SandboxUnavailable
from rlvr.sandbox.bwrap import default_python
from rlvr.sandbox.limits import Limits
from rlvr.sandbox.pool import WORKER_SOURCE, ProcessChannel, WarmPool, _kill_all, become_nobody, job_message
from rlvr.sandbox.python_probe import PYTHON_PROBE, python_probe_failure
from rlvr.sandbox.result import ExecResult
from rlvr.sandbox.worker import JOB_UID_SHARED_DIRS, remove_entries_of, remove_sysv_ipc, remove_tree


# When rlvr runs as root, each worker's jobs run as a uid of their own, so that their process
# limit counts only their own processes and they cannot signal anything else on the host. A uid is
# claimed with a lock file held for the worker's life, so no two workers on the machine share one.
JOB_UID_RANGE = range(1_000_000, 1_100_000)
UID_LOCK_DIR = "/tmp/rlvr-sandbox-uids"
#: Who can kill a worker with a signal that is no fault of its own (`WarmPool.execute`), for the
#: message of a run lost so: with a job uid, jobs cannot signal the worker (root); without one they
#: run as its user and can, and nothing tells that from a kill from outside: the run, whose fate is
#: unknown either way, is not scored (a "sandbox_error"), as under the other backends.
JOB_UID_KILL = ("not sent by rlvr: an operator or the host's OOM killer; a program cannot signal its worker, "
                "its jobs run as a uid of their own")
SAME_USER_KILL = ("not sent by rlvr: an operator, the host's OOM killer, or the program itself, which runs as the "
                  "same user: the subprocess backend run by a non-root user cannot tell them apart")
#: Seconds a worker being stopped (a run interrupted by Ctrl-C, `close()` mid-run) is given, once its
#: control pipe is closed, to kill its job and all the job started (`ProcessChannel.hang_up`): run by
#: a non-root user nothing else reaches a job's children, which left the worker's process group with
#: the job's own session. A worker does it in milliseconds; the kill of its group follows regardless.
HANG_UP_GRACE_SECONDS = 1.0
#: Seconds `close()`, and the interpreter's exit, wait at most in all for the background releases of
#: stopped workers (`_in_background`: a killed job's files and its uid) still under way.
CLEANUP_JOIN_SECONDS = 10.0
#: The name of each sandbox's folder of worker homes in the temp dir, before a random suffix
#: (`tempfile.mkdtemp`). The folder is flock'ed by the process that uses it for its whole life
#: (`_make_root`), so that a later sandbox can tell one left by a killed process (`sweep_stale`).
#: ("lk-": earlier versions' folders, "rlvr-sandbox-" and the suffix alone, were never locked: a live
#: one, of a process still running an earlier rlvr, must not be taken for a left one.)
ROOT_PREFIX = "rlvr-sandbox-lk-"
#: A finished root's mode (jobs may run as nobody or job uids when rlvr runs as root): set only once
#: the folder is locked, so that a sweep never takes one still being made (mode 0700) for a left one.
ROOT_MODE = 0o711
#: At most this many left folders are removed, and uid lock files taken, per sweep (`sweep_stale`),
#: in a background thread; a later sandbox takes the rest.
SWEEP_LIMIT = 32
#: At most this many left folders are tried per sweep (each once), removed or not: a folder that
#: cannot be removed (a file that cannot be unlinked) costs a walk, and is not counted as removed.
SWEEP_TRIES = 4 * SWEEP_LIMIT


def claim_job_uid() -> tuple[int, int]:
    """(uid, lock fd): an unused uid for one worker's jobs, locked until the fd is closed.

    Whatever still runs as the uid (jobs of a worker that was killed, or of a program that died
    without releasing it) is killed first: a new worker's jobs never share their uid, and so
    their process limit and their signals, with a stranger.
    """
    os.makedirs(UID_LOCK_DIR, mode=0o700, exist_ok=True)
    taken = _subordinate_ranges()
    for _ in range(1000):
        uid = random.choice(JOB_UID_RANGE)
        if _belongs_to_someone(uid, taken):  # its processes would be killed and its files removed
            continue
        fd = _lock_uid_file(os.path.join(UID_LOCK_DIR, str(uid)))
        if fd is None:
            continue
        _UID_LOCKS[fd] = uid
        forget_uid(uid)
        return uid, fd
    raise RuntimeError("no free uid for sandbox jobs")


def _lock_uid_file(path: str) -> int | None:
    """A descriptor of the lock file at `path`, locked; None when another holds it. A file its
    holder unlinked (`release_job_uid`) between our open and our lock is not the one at the path any
    more, and a lock on it locks nothing: it is opened afresh."""
    while True:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            current = os.stat(path).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(fd).st_ino:
            return fd
        os.close(fd)


SUBORDINATE_ID_FILES = ("/etc/subuid", "/etc/subgid")


def _subordinate_ranges(files: tuple[str, ...] | None = None) -> list[range]:
    """The uid (and gid) ranges `files` hand to users' rootless containers ("name:start:count"
    lines): their processes and files run as those host uids, so a job uid must be none of them.
    A file that is missing or unreadable gives none; a malformed line is skipped."""
    ranges = []
    for path in SUBORDINATE_ID_FILES if files is None else files:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                lines = handle.read().splitlines()
        except OSError:
            continue
        for line in lines:
            parts = line.strip().split(":")
            if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                start = int(parts[1])
                ranges.append(range(start, start + int(parts[2])))
    return ranges


def _belongs_to_someone(uid: int, subordinate: list[range]) -> bool:
    """Whether `uid` is an account's (the system's user database, LDAP/SSSD included, knows it) or
    lies in a user's subordinate range: claiming it would kill that user's processes and remove
    their files in the shared dirs (`forget_uid`)."""
    if any(uid in r for r in subordinate):
        return True
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


#: This process's locks on job uids' lock files, descriptor: uid (`claim_job_uid`, `_sweep_uid_locks`),
#: closed in a forked child (`_drop_inherited_locks`): a child that outlived its parent killed would
#: keep the parent's uids from ever being swept. Only a lock found here is released.
_UID_LOCKS: dict[int, int] = {}


def release_job_uid(uid: int, lock: int) -> None:
    """Kill what a worker's jobs left running as `uid` (the worker is gone) and remove what they left
    in SysV IPC and shared dirs (a job the worker could not clean up after), then free the uid: its
    lock file is removed while still locked (`_lock_uid_file` tells a removed one from the one at the
    path), so that the lock dir does not grow by one file per worker ever started."""
    release_job_uids([(uid, lock)])


def release_job_uids(taken: list[tuple[int, int]]) -> None:
    """`release_job_uid` for each (uid, lock) of `taken`, together: one kill per uid, then one
    listing of each shared dir for all (`forget_uids`). Only this process's locks (`_UID_LOCKS`): a
    forked child closed its copies of its parent's at the fork, and never releases the parent's uids.
    A release cut short (a failure, the process's exit) unlinks no lock file, and the lock goes with
    the descriptor: the uid stays to a later sweep, which finds what was left and finishes."""
    taken = [(uid, lock) for uid, lock in taken if _UID_LOCKS.get(lock) == uid]
    if not taken:
        return
    try:
        forget_uids([uid for uid, _ in taken])
        for uid, _ in taken:
            try:
                os.unlink(os.path.join(UID_LOCK_DIR, str(uid)))
            except FileNotFoundError:
                pass
    finally:
        for _, lock in taken:
            _UID_LOCKS.pop(lock, None)
            os.close(lock)


def forget_uid(uid: int) -> None:
    """Kill every process running as `uid`, then remove its SysV IPC objects and its top-level
    entries in /dev/shm, /dev/mqueue, /tmp and /var/tmp (root only). Other world-writable dirs
    (/run/lock, a sticky dir inside /tmp) are not looked at: what a job leaves there stays. Only what the uid owns is removed (the dirs are sticky: no other
    user's entry there can be renamed by the uid), whole trees for its directories."""
    forget_uids([uid])


def forget_uids(uids: list[int]) -> None:
    """`forget_uid` for several uids: each one's processes killed and IPC objects removed, then
    the shared dirs listed once for all of them (a listing of a busy /tmp may take seconds)."""
    for uid in uids:
        kill_processes_of(uid)
        remove_sysv_ipc(uid)
    try:
        remove_entries_of(set(uids), JOB_UID_SHARED_DIRS)
    except OSError:  # (what cannot be removed stays: never a reason to fail a worker's start or end)
        pass


def kill_processes_of(uid: int) -> None:
    """SIGKILL every process running as `uid` (root only).

    A forked child takes the uid and calls kill(-1), which on Linux reaches exactly the processes
    of that uid and not the caller; it needs no scan of /proc, and nothing can hide from it.
    """
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child only makes system calls, then exits
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:  # nothing runs as the uid
            pass
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


#: Interpreters found to run the sandbox's worker (`_check_python`), checked once each: a process
#: may make many sandboxes, and each check starts a Python (tens of ms).
_WORKING_PYTHONS: set[tuple[str, bool]] = set()


def _check_python(python: str) -> None:
    """Raise SandboxUnavailable, with the reason, unless `python` is a Python 3.9+ whose standard
    library loads, run as the worker's jobs run it: an interpreter that is none (`/bin/true`) or too
    old would make every run a "sandbox_error". Under root, jobs run as uids of their own, so it is
    run as an unprivileged user (nobody): one they cannot read (under /root, such as a pyenv or venv
    there) would fail every program in ways that look like the program's own failures (a missing
    module, exit 127), never like an outage."""
    unprivileged = os.geteuid() == 0
    if (python, unprivileged) in _WORKING_PYTHONS:
        return
    who = " as an unprivileged user" if unprivileged else ""
    try:
        proc = subprocess.run([python, "-I", "-c", "import encodings, datetime, json\n" + PYTHON_PROBE],
                              capture_output=True, timeout=30, cwd="/", preexec_fn=become_nobody if unprivileged else None)
    except subprocess.TimeoutExpired:
        raise SandboxUnavailable(f"the sandbox's python {python!r} did not start within 30s") from None
    except OSError as exc:
        fix = ("pass python= one every user can read (e.g. /usr/bin/python3): as root, jobs run as uids of their own"
               if unprivileged else "pass python= an interpreter this user can run (e.g. /usr/bin/python3)")
        raise SandboxUnavailable(f"the sandbox's python {python!r} cannot be started{who} ({exc}): {fix}") from None
    problem = python_probe_failure(proc.returncode, proc.stdout, proc.stderr)
    if problem:
        raise SandboxUnavailable(
            f"the sandbox's python {python!r} does not run{who} ({problem}): " + (
                "as root, jobs run as uids of their own, which must be able to read the interpreter and its "
                "installation; pass python= one every user can read (e.g. /usr/bin/python3)" if unprivileged
                else "pass python= a Python 3.9 or later (e.g. /usr/bin/python3)"))
    _WORKING_PYTHONS.add((python, unprivileged))


def sweep_stale() -> threading.Thread | None:
    """Remove, in a background thread (`_sweep`), what sandboxes of processes killed without
    clean-up (SIGKILL, the OOM killer) left: their folders of worker homes, with the code and inputs
    of their last runs (`_sweep_roots`), and, as root, their uids' lock files (`_sweep_uid_locks`).
    Called when a sandbox is made; bounded (`SWEEP_LIMIT`, `SWEEP_TRIES`); the thread, or None
    when a sweep of this process is still under way (it covers this one's)."""
    with _SWEEPS_LOCK:
        if any(thread.is_alive() for thread in _SWEEPS):
            return None
        thread = threading.Thread(target=_sweep, name="rlvr-sandbox-sweep", daemon=True)
        _SWEEPS.clear()
        _SWEEPS.add(thread)
    thread.start()
    return thread


#: The sweep thread of this process (`sweep_stale`). Unlike `_PENDING`, neither `close()` nor the
#: interpreter's exit waits for it: a sweep takes only what a dead process left (folders and uid lock
#: files no live process holds a lock on), and one cut short by the exit leaves them, locks dropped
#: with the process, for the next sweep to finish (nothing is unlinked before its clean-up is done).
_SWEEPS: set[threading.Thread] = set()
_SWEEPS_LOCK = threading.Lock()


def wait_for_sweeps(timeout: float | None = None) -> bool:
    """Wait (`timeout` seconds at most) for this process's sweep under way; whether none is left."""
    with _SWEEPS_LOCK:
        threads = [thread for thread in _SWEEPS if thread.ident is not None]
    for thread in threads:
        thread.join(timeout)
    return not any(thread.is_alive() for thread in threads)


def _sweep() -> None:
    """`sweep_stale`'s work, in its thread."""
    _sweep_roots(tempfile.gettempdir())
    if os.geteuid() == 0:
        _sweep_uid_locks()


def _sweep_roots(parent: str) -> None:
    """Remove the sandbox folders in `parent` whose process is gone: this user's only, finished
    (`ROOT_MODE`), and unlocked; the kernel drops a dead process's lock whatever killed it, so a
    reused pid never keeps a folder, and a live sandbox's, of any process, is never taken. Each is
    tried once, in random order; only one removed counts toward `SWEEP_LIMIT`: folders that cannot
    be removed never use up a sweep, and never keep the others from being reached."""
    try:
        names = [name for name in os.listdir(parent) if name.startswith(ROOT_PREFIX)]
    except OSError:
        return
    random.shuffle(names)
    removed = 0
    for name in names[:SWEEP_TRIES]:
        if removed >= SWEEP_LIMIT:
            return
        path = os.path.join(parent, name)
        lock = _lock_left_root(path)
        if lock is None:
            continue
        try:
            removed += remove_tree(path)  # (with its lock held: no other sweep takes it meanwhile)
        finally:
            _ROOT_LOCKS.discard(lock)
            os.close(lock)


def _lock_left_root(path: str) -> int | None:
    """A locked descriptor of the sandbox folder at `path` if it is this user's, finished, and no
    live process holds it (its own was killed); else None. (Counted among `_ROOT_LOCKS`: a child
    forked meanwhile closes its copy.)"""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        found = os.fstat(fd)
        if found.st_uid == os.geteuid() and stat.S_IMODE(found.st_mode) == ROOT_MODE:
            _ROOT_LOCKS.add(fd)
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def _sweep_uid_locks() -> None:
    """Release the job uids whose lock files no live worker's sandbox holds (its process was
    killed): what still runs as them is killed, and their files in shared dirs removed, as their
    owner would have (`release_job_uids`, all in one pass). A sample of `SWEEP_LIMIT` files at most
    is looked at. A file is unlinked only under a lock on the file at its path (`_lock_uid_file`
    checks the inode), as `release_job_uid` does: a claim racing with the sweep finds it gone and
    makes it afresh."""
    try:
        names = [name for name in os.listdir(UID_LOCK_DIR) if name.isascii() and name.isdigit()]
    except OSError:
        return
    taken = []
    for name in random.sample(names, min(SWEEP_LIMIT, len(names))):
        lock = _lock_uid_file(os.path.join(UID_LOCK_DIR, name)) if int(name) in JOB_UID_RANGE else None
        if lock is not None:
            _UID_LOCKS[lock] = int(name)
            taken.append((int(name), lock))
    release_job_uids(taken)


#: This process's locks on its sandboxes' folders (`_make_root`, and those a sweep is removing),
#: closed in a forked child (`_drop_inherited_locks`): a child that outlived its parent killed would
#: keep the parent's folder from ever being swept.
_ROOT_LOCKS: set[int] = set()


def _make_root() -> tuple[str, int]:
    """(path, lock): a new folder for a sandbox's worker homes, locked by this process for its life
    (the kernel releases the lock when it dies, however: `sweep_stale`), then made `ROOT_MODE`."""
    root = tempfile.mkdtemp(prefix=ROOT_PREFIX)
    lock = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(lock, fcntl.LOCK_EX)
    os.chmod(root, ROOT_MODE)  # jobs may run as nobody when rlvr runs as root
    _ROOT_LOCKS.add(lock)
    return root, lock


def _drop_inherited_locks() -> None:
    """In a forked child: close the copies of the parent's folder locks and uid locks (never unlock
    them: the lock is shared with the parent's descriptor; nor release the uids: the parent's, whose
    closures the child inherits, find them gone from `_UID_LOCKS` and do nothing). No lock is
    taken: safe in a fork handler."""
    for lock in [*_ROOT_LOCKS, *_UID_LOCKS]:
        try:
            os.close(lock)
        except OSError:
            pass
    _ROOT_LOCKS.clear()
    _UID_LOCKS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_inherited_locks)


def _unlock_root(lock: int, owner: int) -> None:
    """Close a sandbox folder's lock, in the process that made it only (a forked child closed its
    copy at the fork, and its descriptor number may be another file's since)."""
    if os.getpid() == owner and lock in _ROOT_LOCKS:
        _ROOT_LOCKS.discard(lock)
        os.close(lock)


def _remove_tree(root: str, owner: int) -> None:
    """Remove a sandbox's folder of work dirs, in the process that made it only (a forked child
    exiting leaves its parent's alone)."""
    if os.getpid() == owner:
        remove_tree(root)


def _stop_then_remove(workers: set, root: str, owner: int, lock: int) -> None:
    """Stop a sandbox's `workers` (`pool._kill_all`: again, harmlessly, if its pool did already),
    then remove its folder: a worker stopped after the removal would make its dirs there anew as it
    ends (a worker told the host is gone wipes them, and the wipe makes them if missing). Called
    when the sandbox is dropped, whatever the order of its pool's own finalizer, and at exit. The
    folder's lock is let go last: no sweep takes a folder still being emptied."""
    _kill_all(workers)
    _remove_tree(root, owner)
    _unlock_root(lock, owner)


def _remove_home_soon(home: str, remove_root: weakref.finalize) -> None:
    """Remove a gone worker's home (its work dir and /tmp) in a background thread: a worker killed
    mid-wipe (set aside too long, or lost) left what its last run made until the sandbox closed,
    and removing hundreds of thousands of files must not hold up the caller that killed it."""
    owner = os.getpid()
    _in_background(lambda: _remove_home(home, remove_root, owner))


def _remove_home(home: str, remove_root: weakref.finalize, owner: int) -> None:
    """Remove a gone worker's home; and the sandbox's folder it lies in once more if that folder's
    removal (`remove_root`, at close, or when the sandbox is dropped and its pool with it, in either
    order) ran meanwhile: it could not remove a folder this removal was still emptying."""
    _remove_tree(home, owner)
    if not remove_root.alive:
        _remove_tree(os.path.dirname(home), owner)


#: The background clean-ups under way (`_in_background`), waited for by `close()` and at exit.
_PENDING: set[threading.Thread] = set()
_PENDING_LOCK = threading.Lock()


def _in_background(action: Callable[[], None]) -> None:
    """Run `action` in a daemon thread, so that the caller that stopped a worker is not held up,
    counted among the pending clean-ups that `close()` and the interpreter's exit wait for
    (`wait_for_cleanups`): a daemon thread is otherwise cut short at exit, and a killed job's
    files in /tmp, and processes of its uid, stayed."""
    def run() -> None:
        try:
            action()
        finally:
            with _PENDING_LOCK:
                _PENDING.discard(thread)

    thread = threading.Thread(target=run, name="rlvr-sandbox-remove", daemon=True)
    with _PENDING_LOCK:
        _PENDING.add(thread)
    thread.start()


def wait_for_cleanups(timeout: float = CLEANUP_JOIN_SECONDS) -> None:
    """Wait, `timeout` seconds at most in all, for the background clean-ups under way (started by
    this process: a forked child's copies of its parent's list are not its own threads)."""
    deadline = time.monotonic() + timeout
    with _PENDING_LOCK:
        pending = [thread for thread in _PENDING if thread.ident is not None]
    for thread in pending:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        if thread.is_alive():
            thread.join(left)


class _ExitSentinel:
    """An object for the exit hook's `weakref.finalize`, which runs at exit after the finalizers
    made later (those of every pool and sandbox: they stop the workers left open, whose releases the
    hook then waits for); an `atexit` hook registered at import could run before them."""


_EXIT_SENTINEL = _ExitSentinel()
weakref.finalize(_EXIT_SENTINEL, wait_for_cleanups)


class SubprocessSandbox(Sandbox):
    """Runs programs as limited child processes of a warm worker on the host (not isolated)."""

    name = "subprocess"
    isolated = False

    def __init__(self, *, python: str | None = None, **limits) -> None:
        super().__init__(**limits)
        self.python = python or default_python()
        found = shutil.which(self.python)  # a bare name: on PATH; a relative path: from here
        if found is None:  # else every run would be a sandbox_error
            raise SandboxUnavailable(f"the sandbox's python interpreter {self.python!r} does not exist or "
                                     "is not executable: pass python= an interpreter path")
        if os.sep in self.python:  # (workers start elsewhere than here: an absolute path)
            self.python = os.path.abspath(self.python)
        _check_python(os.path.abspath(found))
        sweep_stale()
        self._pool = WarmPool(self.name, self._spawn, after_fork=self._root_of_its_own)
        self._new_root()

    def _new_root(self) -> None:
        """Make the folder of this process's workers' homes (`_make_root`): removed on close(), when
        the sandbox is dropped, or at exit, whichever comes first; by the process that made it only,
        once its workers are stopped (`_stop_then_remove`)."""
        self._root, lock = _make_root()
        self._remove_root = weakref.finalize(self, _stop_then_remove, self._pool.workers, self._root,
                                             os.getpid(), lock)

    def _root_of_its_own(self) -> None:
        """In a forked child, before its first worker starts: a folder of its own for its workers'
        homes, removed at its exit. In its parent's, the removal of its workers' homes at its exit
        went on to remove the parent's folder, under the parent's running programs."""
        self._remove_root.detach()  # (the parent's folder: the parent removes it)
        self._new_root()
        # a multiprocessing child ends with os._exit, past the exit hooks of `weakref.finalize`, but
        # runs multiprocessing's own finalizers first (one killed is left to a later sweep)
        from multiprocessing.util import Finalize

        Finalize(self, self._remove_root, exitpriority=0)

    @staticmethod
    def check() -> tuple[bool, str]:
        return True, "always available; no isolation (resource limits and a process group only)"

    def _spawn(self) -> ProcessChannel:
        home = tempfile.mkdtemp(dir=self._root)
        os.chmod(home, 0o711)
        work, tmp = os.path.join(home, "work"), os.path.join(home, "tmp")
        os.mkdir(work)
        os.mkdir(tmp)
        argv = [self.python, "-I", "-c", WORKER_SOURCE, "host", work, tmp, "-"]
        if os.geteuid() != 0:  # jobs run as the user running rlvr: no uid to claim
            channel = ProcessChannel(argv, outside=SAME_USER_KILL, hang_up_grace=HANG_UP_GRACE_SECONDS,
                                     background=_in_background)
            remove_root = self._remove_root  # (not `self`: the pool's workers must not keep the sandbox alive)
            channel.on_kill(lambda: _remove_home_soon(home, remove_root))
            return channel
        job_uid, lock = claim_job_uid()
        try:
            channel = ProcessChannel(argv + [str(job_uid)], outside=JOB_UID_KILL, hang_up_grace=HANG_UP_GRACE_SECONDS,
                                     background=_in_background)
        except BaseException:  # no worker: nothing will ever release the uid
            release_job_uid(job_uid, lock)
            raise

        def release() -> None:  # (the uid's leftovers in shared dirs may take seconds to remove)
            _remove_home(home, remove_root, owner)
            release_job_uid(job_uid, lock)

        owner, remove_root = os.getpid(), self._remove_root
        channel.on_kill(lambda: _in_background(release))
        return channel

    def _execute(self, job: Job, limits: Limits) -> ExecResult:
        return self._pool.execute(job_message(job, limits, warm_python=True), limits)

    def close(self) -> None:
        """Stop the workers, wait (`CLEANUP_JOIN_SECONDS` at most) for the release of what their
        killed jobs left (their files, their uids), then remove the sandbox's folder."""
        super().close()
        self._pool.close()
        wait_for_cleanups()
        self._remove_root()
