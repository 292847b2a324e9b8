"""The warm worker: a long-lived interpreter that runs each job in a freshly forked child.

Starting a Python interpreter costs tens of milliseconds, far more than a typical unit-test job.
This script starts once (inside bubblewrap, inside a container, or directly on the host), imports
the common standard-library modules, and then serves jobs read from its stdin. For each job it
writes the job's files, forks a child that applies the run's resource limits and executes the
program, collects the child's output under a cap, enforces the wall-clock limit, kills every
process the job left behind, answers with the result, and then wipes the work dir (and says so:
`CLEAN_LINE`), so that removing what a program left never delays its result.

The worker itself never reads a job: each job is read, run and answered by a *handler*, a fresh
fork of the worker that exits once it has answered. A forked process holds a copy of its
parent's memory, freed parts included; had the worker handled the jobs, a program could read the
previous jobs' code, input and output (the expected output among it) out of its own memory. The
worker's memory holds no job's data, so what a job's child inherits is clean.

It runs under the *sandbox's* interpreter, so it imports nothing outside the standard library and
nothing of rlvr. The protocol with the host is one message per line of JSON in each direction:
the host sends a job, the worker sends back `STARTED_LINE` as the job's process is about to be
made, then the result, then `CLEAN_LINE` once the job's files are wiped. The control pipes are
closed in the job's child, so a program can never write a forged result.

A failure of the child's own setup before the program starts (dropping to the job's uid, applying
the limits, an interpreter missing from the sandbox) is the sandbox's failure, not the program's:
the child reports it on a close-on-exec pipe, which a successful exec (or, for warm Python, the
child itself just before compiling the program) closes unwritten. The worker reads that pipe once
the child is gone (no extra wake-up per job), and a report there makes the job's status
"sandbox_error", and the worker retires (is replaced): a limit it could not apply may be the
worker's own, changed by an earlier job (see below).

A job runs as the worker's user (under bubblewrap and Docker there is no other: neither grants
the right to change uid), so it can change the worker's own settings from outside: its resource
limits (`prlimit`), CPU affinity, nice value, scheduling policy and I/O priority. Every later job
would inherit them (a lowered RLIMIT_STACK makes a correct program crash; a lowered RLIMIT_AS
makes every later run a "sandbox_error"). So after each job, once every process of the job is
gone, the handler compares the worker's settings with those it had when it started
(`process_settings`), and the worker retires on any change: the next run always gets a worker as
it started. The job's own result stands.

Input and output travel compactly: a job's stdin and files come as base64 of their bytes (the
host's `job_message`), decoded a piece at a time into the files (`_write_payload`), and a run's
stdout and stderr, raw bytes, go as base64 in the result line (`Worker.send`), a piece at a time,
so that the handler holds no more than the bytes collected (JSON escapes would take up to six bytes
per byte, in the container's memory under Docker). A handler killed before its job's process
exists (while receiving the job: `_report_unreceived`) is the sandbox's failure, never the
program's: each handler marks, on a pipe of the worker's, that it is about to fork the job's process,
and tells the host so (`STARTED_LINE`), whose time limit for the run starts then: receiving a large
input takes seconds, which are not the program's.

Arguments: MODE WORKDIR TMPDIR SCRATCH [JOB_UID [OOM_EVENTS]]. SCRATCH is a comma-separated list
of other directories a job can write (e.g. /dev/shm,/dev/mqueue), wiped after each job like WORKDIR
and TMPDIR, or "-". JOB_UID is "-" for none. OOM_EVENTS, where the worker's memory cgroup is the
sandbox's own (a container), is a comma-separated list of the files where it counts its OOM kills
(`_oom_kills`): a handler killed while that count went up is reported as the OOM killer's doing,
and a run during which it went up is "memory" whatever its exit status (`_blame_oom_kills`).

A failed run is "memory" or "output_limit" (the file-size limit) on what the sandbox saw, never on
the text the program printed (`_overrun`): SIGXFSZ, an OOM kill (above), and for warm Python the
TYPE of the uncaught exception that ended it (`_limit_shown`): a MemoryError, or an OSError whose
errno is ENOMEM (memory) or EFBIG (file size), a refused thread start ("can't start new thread":
memory, or else the process limit, whose run stays an "error" named so: `_thread_refusal_kind`),
itself (a multiprocessing pool or
ProcessPoolExecutor re-raises its worker's MemoryError, found by its type), in its
`__cause__`/`__context__` chain, or in an exception group's `.exceptions` (an asyncio TaskGroup
wraps its task's). The job's process records that kind in a page shared with its
handler (`_record_verdict`). Who raised it is not asked: a program that raises MemoryError itself
claims it ran out of memory, and gains nothing by it (any program can really exhaust its memory).
A program that catches the error and exits by itself (sys.exit(1)) is an "error", whatever it
printed or left on disk; so is one that fails after a MemoryError ended only one of its threads or
child processes (the exception that ended the program is another). Only for a program the worker
execs, a command such as bash/sh (or a python3 it starts), whose end it does not see, is stderr's
text still read, and the result then says so (`details["inferred_from"] == "stderr"`).

Without OOM_EVENTS (bwrap, subprocess) `memory_mb` is a per-process RLIMIT_AS: a program over it
gets an allocation failure (MemoryError, status "memory"); each thread reserves its stack
(8 MiB) of it, and no malloc arena (`MALLOC_ARENA_MAX`). A job the kernel's OOM killer ends there
because the host ran out is reported as the program's SIGKILL ("error"): no count the worker can
read tells that apart from a program that ran the host out itself (its processes together, each
under `memory_mb`) or killed itself when some other process was OOM-killed, and scoring those as
infrastructure failures would let a wrong answer escape its score.

Modes:
  pidns       the worker is pid 1 of its own pid namespace (bubblewrap `--as-pid-1`, or a container
              without an init): signals from the jobs cannot reach it (pid 1 only receives signals
              it handles, and it handles none), and after each job it kills every other process in
              the namespace with kill(-1). A job that left sockets in the worker's network
              namespace (`_sockets_left`) has the worker retire: they would outlive it otherwise.
  host        no namespace (the subprocess backend): leftovers are found through the child subreaper
              and killed; when started as root, jobs drop to JOB_UID (one per worker), so that the
              process limit applies to them alone and they cannot signal the worker or any other
              process, and after each job the SysV IPC objects and the top-level /dev/shm,
              /dev/mqueue, /tmp and /var/tmp entries of JOB_UID are removed (`remove_sysv_ipc`,
              `remove_entries_of`): nothing else owns them. Without a job uid (rlvr not root)
              nothing there can be told apart from the user's own, so what a job leaves there stays.
              RLIMIT_NPROC counts every process and thread of the job's real uid, so without a job
              uid it is set to the count of the user's tasks (`_tasks_of`, by the worker between
              jobs, at most `USER_TASKS_FRESH` old: the worker and the job's handler among them)
              plus `max_processes`: a weaker limit, since the user's other processes (the trainer's
              threads, concurrent runs) share it, and may end or start threads meanwhile.
"""

from __future__ import annotations

import sys

#: The modules a fresh interpreter has loaded before running a program: all the worker loads on top
#: (its own imports, `PRELOAD`) a program's file of the same name must hide (`_forget_shadowed`).
#: `__future__` is left out: only this file's own `from __future__ import` above loaded it, and
#: `python3 -B -E -s main.py` starts without it (so a program's `__future__.py` is what its
#: `from __future__ import ...` runs; checked with CPython 3.11, on the host and in the image).
STARTUP_MODULES = frozenset(sys.modules) - {"__future__"}


class _Unfound:
    """The last finder on sys.meta_path while the worker imports its modules (removed once
    `PRELOAD` is loaded): it finds nothing, and records the top-level names no other finder found,
    a loaded module's optional import that failed (copy's `org.python.core`), which a program's own
    file would have provided under python3 (`_forget_shadowed`)."""

    names: set = set()

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        cls.names.add(name.partition(".")[0])
        return None


if __name__ == "__main__":  # (the worker; not the host's rlvr, which imports this file's names)
    sys.meta_path.append(_Unfound)

import atexit  # noqa: E402 - after the snapshot above
import base64  # noqa: E402
import codecs  # noqa: E402
import builtins  # noqa: E402
import ctypes  # noqa: E402
import errno  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import mmap  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import stat  # noqa: E402
import _signal  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import weakref  # noqa: E402
from importlib.machinery import all_suffixes  # noqa: E402

#: The file name endings of importable modules (sources, bytecode, extension modules), longest
#: first so that `.cpython-312-x86_64-linux-gnu.so` is matched before `.so` (`_forget_shadowed`).
MODULE_SUFFIXES = tuple(sorted(all_suffixes(), key=len, reverse=True))

# Modules a job is likely to import, loaded once here so that the forked child finds them ready.
PRELOAD = (
    "abc", "array", "bisect", "collections", "copy", "dataclasses", "decimal", "enum",
    "fractions", "functools", "hashlib", "heapq", "io", "itertools", "json", "math", "operator",
    "random", "re", "statistics", "string", "struct", "textwrap", "typing", "unicodedata",
)
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
SETUP_FD = 3  # in the job's child: where a failure to start the program is reported
CLEANUP_SECONDS = 5.0
# How a handler (see the module docs) ends: answered, and the worker may serve the next job;
# answered, but the worker must retire (a job's processes could not all be killed); or the host
# closed the control pipe. Any other end (a crash, a signal) also ends the worker.
HANDLED, RETIRE, HOST_CLOSED = 0, 3, 4
#: The status `Worker._supervise` gives a run whose host closed the control pipe meanwhile (the host
#: process ended, even by SIGKILL): the run is stopped at once, not left to its time limit (up to a
#: day, a CPU busy all along, in a container nothing else would stop), and never answered.
HOST_GONE = "host_gone"
#: The answer for a job that changed its handler's own resource limits (`Worker._limits_changed`),
#: whether or not the handler then failed: the program's doing, so its `error`, never a
#: `sandbox_error` that would leave a wrong answer unscored (or, repeated, stop a training run as an
#: outage), nor a second try.
SABOTAGE_RESULT = {"status": "error", "message": "the program changed its sandbox supervisor's resource limits",
                   "exit_code": None, "stdout": "", "stderr": "", "wall_time": 0.0, "retire": True}
#: `SABOTAGE_RESULT` as the line sent, encoded before any job runs (a crippled handler, or worker,
#: may be unable to allocate it then). The leading newline ends a line cut off midway (a handler that
#: failed while sending its answer): the host skips that piece and reads this one.
SABOTAGE_LINE = b"\n" + json.dumps(SABOTAGE_RESULT).encode() + b"\n"
#: The line a handler sends the host just before it makes its job's process: the job is received
#: and its files written, and its time limit starts (`WarmPool._exchange`). Sent before any process
#: of the job exists, and so always the handler's first line: no job can forge it.
STARTED_LINE = b'{"started": true}'
#: The line a handler sends once it has answered its job and wiped what the job left (`Worker.wipe`):
#: the worker may take another job. Sent after the answer, so that a program that leaves hundreds of
#: thousands of files has its result within its time limit, and its wipe, which may take as long as
#: their making, counted against no run's limit; the host hands the worker no job before this line
#: (`WarmPool._settle`). A job's processes are all gone by then: none can forge it.
CLEAN_LINE = b'{"clean": true}'
#: The worker's own processes while a job runs: the worker and the job's handler.
WORKER_PROCESSES = 2
READ_CHUNK = 65536
#: How often (seconds) a pidns worker counts the files in the run's tmpfs mounts (`_too_many_files`).
FILE_COUNT_INTERVAL = 0.05
#: The result fields that hold a run's output: sent as base64 of the raw bytes, "<name>_b64" (`Worker.send`).
OUTPUT_FIELDS = ("stdout", "stderr")
#: Bytes of output encoded at a time (a multiple of 3: the pieces' base64 joins into the whole's).
B64_PIECE = 3 << 20
#: Characters of a job's base64 input decoded at a time (a multiple of 4: `_write_payload`).
B64_TEXT_PIECE = 4 << 20
#: The worker's resource limits a job could change from outside (`process_settings`).
RLIMITS = tuple(sorted(name for name in dir(resource) if name.startswith("RLIMIT_")))
#: How old (seconds) the worker's count of the user's tasks may be when it forks a job's handler
#: (`Worker.user_tasks`): a count costs a read of /proc for every process, some milliseconds.
USER_TASKS_FRESH = 1.0
#: Where a job running as a job uid of its own may leave files that outlive it (`remove_entries_of`).
SHARED_IPC_DIRS = ("/dev/shm", "/dev/mqueue")
#: The host's shared temp dirs, world-writable and sticky: a job of a job uid of its own may leave
#: files there too (outside its own TMPDIR), for a later job of the same uid to read. Only their
#: top-level entries are looked at (one listing and one lstat each: no walk of the host's /tmp).
SHARED_TMP_DIRS = ("/tmp", "/var/tmp")
#: Every shared dir swept of a job uid's entries after each job and when the uid is released.
JOB_UID_SHARED_DIRS = SHARED_IPC_DIRS + SHARED_TMP_DIRS
#: The start of the names of the holding folders a worker makes in those dirs, followed by its job
#: uid (`remove_entries_of`, `Worker.holding`).
HOLDING_PREFIX = ".rlvr-aside-"
#: How long (ns) before a job a shared temp dir must have last changed for the sweep after the job
#: to skip it when its time has not changed (`_changed_dirs`): file times come from a clock that
#: moves a tick at a time, a few ms on most filesystems but a whole second on some (ext4 with
#: 128-byte inodes, ext3, some network filesystems), so a change during the job could leave the
#: time of one made up to a second before it.
STAMP_MARGIN_NS = 2_000_000_000
#: ioprio_get's number, by machine (no wrapper in Python's os module).
IOPRIO_GET = {"x86_64": 252, "aarch64": 31, "i686": 290, "i386": 290}
IOPRIO_WHO_PROCESS = 1
#: glibc's malloc arenas a job's process may have: one, the main arena. By default glibc gives each
#: new thread an arena of its own (up to 8 per CPU), each reserving 64 MiB of address space at
#: once; under the per-process RLIMIT_AS of `memory_mb` that made a 16-thread pool fail to start
#: threads in 512 MiB while using 20 MB. With one arena a thread reserves its stack alone (glibc's
#: default thread stack, RLIMIT_STACK's 8 MiB, kept: a thread recurses as deep as under python3).
#: Set with mallopt in a job's process (`_cap_malloc_arenas`: the worker's own malloc read its
#: environment when it started) and in the environment of every job, for the programs it execs.
MALLOC_ARENA_MAX = 1
M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)


LIBC = ctypes.CDLL(None, use_errno=True)  # loaded once: a dlopen per job would cost more than the job
MALLOPT = getattr(LIBC, "mallopt", None)  # (looked up once, not in each job's process: `_cap_malloc_arenas`)


def _prctl(option: int, value: int) -> None:
    try:
        LIBC.prctl(option, value, 0, 0, 0)
    except AttributeError:
        pass


def _make_usable(root: int | None, name: str) -> None:
    """Give the directory `name` in the directory open as `root` the mode 0700 (a job may have made
    it unreadable), never following a symlink: another job may swap the directory for one between
    the listing and this (in a shared dir such as /dev/shm), and a chmod by name would then change
    the mode of whatever it points to, as root. The directory is opened first (O_PATH, no symlink
    followed: a swapped-in symlink raises) and changed through that descriptor."""
    fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_DIRECTORY, dir_fd=root)
    try:
        os.chmod(f"/proc/self/fd/{fd}", 0o700)
    finally:
        os.close(fd)


def _clean_dir(path: str, make: bool = True) -> None:
    """Remove everything inside `path` (made first if missing and `make`: the dir alone, never its
    parents, so a home removed meanwhile is not made again), whatever its depth, modes or symlinks.

    Never recursive and never by long paths (a job may nest directories thousands deep): each
    subdirectory's own subdirectories are moved up into `path` before it is removed, so at most two
    directories are open at any time. Symlinks are removed, never followed.
    """
    if make:
        try:
            os.mkdir(path)
        except FileExistsError:
            pass
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        if make:
            os.chmod(path, 0o700)  # the job made it unusable (it owns it: shared dirs like /dev/shm are 1777)
        else:  # (`remove_tree`: never through a symlink swapped in since its lstat)
            _make_usable(None, path)
    root = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    moved = 0
    try:
        while True:
            subdirs = []
            for entry in os.scandir(root):
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append(entry.name)
                else:
                    os.unlink(entry.name, dir_fd=root)
            if not subdirs:
                return
            for name in subdirs:
                _make_usable(root, name)
                sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=root)
                try:
                    for entry in os.scandir(sub):
                        if not entry.is_dir(follow_symlinks=False):
                            os.unlink(entry.name, dir_fd=sub)
                            continue
                        made_usable = False
                        while True:  # move it up under a name nothing else uses
                            moved += 1
                            try:
                                os.rename(entry.name, f".rlvr-clean-{moved}", src_dir_fd=sub, dst_dir_fd=root)
                                break
                            except FileExistsError:
                                continue
                            except PermissionError:
                                # a directory moved to another parent must be writable itself (its
                                # ".." changes): a job's read-only dir (0555) stopped a non-root wipe
                                if made_usable:
                                    raise
                                _make_usable(sub, entry.name)
                                made_usable = True
                            except OSError as exc:
                                if exc.errno != errno.ENOTEMPTY:
                                    raise
                finally:
                    os.close(sub)
                os.rmdir(name, dir_fd=root)
    finally:
        os.close(root)


def remove_tree(path: str, attempts: int = 3) -> bool:
    """Remove `path` and everything under it, whatever its modes (`_clean_dir`: a job's read-only
    dirs are made writable first, through descriptors, never following a symlink out of the tree),
    the one way a job's tree is removed; whether it is gone. A removal that fails (another removal
    of the same tree running at once, a file that cannot be removed) is tried again, `attempts`
    times in all. The folder at `path` itself is never followed if a symlink, and its own mode is
    left alone unless it cannot be emptied without (a sweep tells a left folder by its mode)."""
    for _ in range(attempts):
        try:
            info = os.lstat(path)
            if not stat.S_ISDIR(info.st_mode):
                os.unlink(path)
            else:
                _clean_dir(path, make=False)
                os.rmdir(path)
        except FileNotFoundError:
            pass
        except OSError:
            continue
        if not os.path.lexists(path):
            return True
    return not os.path.lexists(path)


def _restore_dir(path: str, was: os.stat_result) -> None:
    """Give the dir at `path` back the mode and times of `was`, without extended attributes.

    Where we may not change them (a root-owned mount point in a container), the job, which runs
    as we do or as a lesser user, could not have changed them either."""
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:  # the file system has none
        names = []
    for name in names:
        try:
            os.removexattr(path, name, follow_symlinks=False)
        except OSError:
            pass  # (security.* ones are not the job's to set)
    try:
        if os.stat(path).st_mode & 0o7777 != was.st_mode & 0o7777:
            os.chmod(path, was.st_mode & 0o7777)
        os.utime(path, ns=(was.st_atime_ns, was.st_mtime_ns))
    except PermissionError:
        pass


def _write_payload(fd: int, payload) -> None:
    """Write a job's stdin or file contents to `fd`: text, or {"b64": base64 of the bytes} (as the
    host sends them: `job_message`), decoded a piece at a time, so that the handler holds no more
    than the received text and one piece of its bytes (see `B64_PIECE`)."""
    if isinstance(payload, dict):
        text = payload["b64"]
        pieces = (base64.b64decode(text[start:start + B64_TEXT_PIECE]) for start in range(0, len(text), B64_TEXT_PIECE))
    else:
        pieces = iter((payload.encode(),))
    for data in pieces:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]


def _write_files(workdir: str, files: dict, uid: int | None) -> None:
    for name, payload in files.items():
        path = os.path.join(workdir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_payload(fd, payload)
        finally:
            os.close(fd)
    if uid is not None:  # the job runs as nobody: give it its work dir
        for root, dirs, names in os.walk(workdir):
            for name in dirs + names:
                os.lchown(os.path.join(root, name), uid, uid)
        os.chown(workdir, uid, uid)


def _ioprio(pid: int) -> int:
    number = IOPRIO_GET.get(os.uname().machine)
    if number is None:
        return -1
    return LIBC.syscall(number, IOPRIO_WHO_PROCESS, pid)


def process_settings(pid: int) -> dict:
    """The settings of process `pid` that a process of the same user can change from outside and
    that its forks inherit: resource limits, CPU affinity, nice value, scheduling policy and
    priority, I/O priority. An item that cannot be read is recorded as the error's name (the
    same error both times is no change)."""
    probes = {name: (lambda number=getattr(resource, name): resource.prlimit(pid, number)) for name in RLIMITS}
    probes.update({
        "affinity": lambda: sorted(os.sched_getaffinity(pid)),
        "nice": lambda: os.getpriority(os.PRIO_PROCESS, pid),
        "scheduler": lambda: os.sched_getscheduler(pid),
        "sched_priority": lambda: os.sched_getparam(pid).sched_priority,
        "ioprio": lambda: _ioprio(pid),
    })
    settings = {}
    for name, probe in probes.items():
        try:
            settings[name] = probe()
        except Exception as exc:  # noqa: BLE001 - e.g. no such call here: recorded, compared as it is
            settings[name] = type(exc).__name__
    return settings


def _others_than(handler: int) -> bool:
    """Whether this pid namespace holds a process other than this worker and `handler` (a job's)."""
    spared = {os.getpid(), handler}
    return any(name.isdigit() and int(name) not in spared for name in os.listdir("/proc"))


def _kill_all_but(handler: int) -> None:
    """SIGKILL every process of this pid namespace but this worker (pid 1) and `handler`, a few
    passes over /proc (a process forked meanwhile is caught by the next; `max_processes` bounds them)."""
    spared = {os.getpid(), handler}
    for _ in range(5):
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit() and int(name) not in spared]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


#: The uid jobs run as under bwrap (started as root) and Docker: the account "nobody".
NOBODY_UID = 65534


def _identity(job_uid: int | None) -> dict[str, str]:
    """USER and LOGNAME for jobs that run as nobody (bwrap started as root, Docker) or as a job uid
    of their own (the subprocess backend run as root): "nobody" for both. A job uid has no entry in
    the user database (it is chosen so: `claim_job_uid`), and without these `getpass.getuser()`
    raised KeyError where the other backends gave "nobody". Jobs run as the user running rlvr get
    none: their name comes from the user database, as it would outside. (`id -un` and `whoami` read
    only the user database, and still fail for a job uid.)"""
    if job_uid is None and os.getuid() != NOBODY_UID:
        return {}
    return {"USER": "nobody", "LOGNAME": "nobody"}


class Worker:
    def __init__(self, mode: str, workdir: str, tmpdir: str, scratch: list[str], job_uid: int | None,
                 oom_events: list[str] | None = None) -> None:
        self.mode = mode
        self.oom_events = oom_events  # the sandbox's own memory cgroup's OOM-kill counts (see the module docs)
        self.workdir = workdir
        self.tmpdir = tmpdir
        self.scratch = scratch  # more dirs a job can write (e.g. /dev/shm, /dev/mqueue): wiped too
        self.roots: dict[str, os.stat_result] = {}  # those dirs when empty (set by `serve`, see `clean`)
        self.settings: dict = {}  # the worker's own settings when it started (set by `serve`)
        self._reaped_others = False  # set by `_wait_for`
        self._handler_limits_changed = False  # set by `_wait_for`
        self.job_started = False  # in a handler: whether its job's process was made (`run_job`)
        self.tmp_stamps: dict = {}  # in a handler: the shared temp dirs' times before its job (`run_job`)
        self.loaded: ModulesSnapshot | None = None  # the worker's modules and builtins (`_snapshot_loaded`)
        self.job_uid = job_uid if (mode == "host" and os.geteuid() == 0) else None
        # the name of this worker's holding folders in the shared dirs (`remove_entries_of`): its
        # job uid's, and unguessable, so that no job can make an entry of that name beforehand
        self.holding = None if self.job_uid is None else f"{HOLDING_PREFIX}{self.job_uid}-{os.urandom(8).hex()}"
        # host mode without a job uid: (when, how many) tasks the user had (see `_nproc`)
        self.user_tasks: tuple[float, int] | None = None
        self.ctl_in = os.fdopen(os.dup(0), "rb")
        self.ctl_out = os.fdopen(os.dup(1), "wb")
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(2, 1)  # stray prints from the worker go to its stderr, never into the protocol
        os.close(null)
        # The environment every job sees, set once: a forked child inherits it at no cost.
        os.environ.clear()
        os.environ.update({"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": workdir, "TMPDIR": tmpdir,
                           "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
                           "MALLOC_ARENA_MAX": str(MALLOC_ARENA_MAX)})  # (for the programs a job execs)
        os.environ.update(_identity(self.job_uid))
        _prctl(PR_SET_DUMPABLE, 0)  # jobs may not ptrace us or read our memory
        # As pid 1 of a namespace we receive only signals we handle; Python handles SIGINT.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if mode == "host":
            _prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans of a job come back to us to be killed
        for name in PRELOAD:
            try:
                __import__(name)
            except ImportError:
                pass
        if _Unfound in sys.meta_path:
            sys.meta_path.remove(_Unfound)

    # -- protocol -------------------------------------------------------------------------------
    def send(self, message: dict) -> None:
        """One line of JSON. Output fields given as bytes (a run's, see `OUTPUT_FIELDS`) go as
        "<name>_b64", base64 of the raw bytes (4/3 of their size, never the up to 6x of JSON escapes),
        written a piece at a time: nothing but the output itself is held in memory."""
        raw = {name: message.pop(name) for name in OUTPUT_FIELDS if isinstance(message.get(name), (bytes, bytearray))}
        head = json.dumps(message).encode()
        write = self.ctl_out.write
        if raw:
            write(head[:-1])  # without its closing brace
            for number, (name, data) in enumerate(raw.items()):
                write(f'{", " if message or number else ""}"{name}_b64": "'.encode())
                view = memoryview(data)
                for start in range(0, len(view), B64_PIECE):
                    write(base64.b64encode(view[start:start + B64_PIECE]))
                view.release()
                write(b'"')
            write(b"}\n")
        else:
            write(head + b"\n")
        self.ctl_out.flush()

    def serve(self) -> None:
        """Serve jobs until the host closes the control pipe, each in a handler (see the module
        docs); return when a handler says to retire or ends any other way than answering."""
        self.clean(self.workdir)  # once, in case the dirs were not empty when we started
        # what each dir a job may write is like when empty: put back after every job (see `clean`)
        self.roots = {path: os.stat(path) for path in (self.workdir, self.tmpdir, *self.scratch)}
        self.settings = process_settings(os.getpid())  # compared after each job (see the module docs)
        self.send({"ready": True, "pid": os.getpid(), "python": sys.version.split()[0]})
        me = os.getpid()
        # written by each handler as it makes its job's process, read by us once the handler is gone
        self.forked_r, self.forked_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self._snapshot_loaded()  # (before the freeze: see there)
        # The worker's objects never change from here on: kept out of the collector's passes, so
        # that a handler's and a job's collections do not touch (and copy) the pages holding them.
        # Collected first: a full collection also empties the interpreter's free lists of tuples,
        # lists, dicts and floats, thousands of objects left from the worker's start that each
        # job's first full collection (`_finalize`) would otherwise free, copying their pages.
        gc.collect()
        gc.freeze()
        while True:
            oom_kills = _oom_kills(self.oom_events) if self.oom_events else 0
            if self.mode == "host" and self.job_uid is None:  # (see `_nproc`)
                if self.user_tasks is None or time.monotonic() - self.user_tasks[0] > USER_TASKS_FRESH:
                    self.user_tasks = (time.monotonic(), _tasks_of(os.getuid()))
            self._snapshot_loaded()
            handler = os.fork()
            if handler == 0:
                code = 70  # (what escaped the handler's own reporting: a failure with no answer)
                try:
                    code = self.handle_one_job(me)
                finally:
                    os._exit(code)  # never back into this loop, whatever happened
            ended = self._wait_for(handler)
            forked = _read_available(self.forked_r) != ""  # whether the job's process came to exist
            if ended != HANDLED:
                self._handler_ended(handler, ended, forked, oom_kills)
                if self.mode == "host":  # what a failed handler left on the host's disk (a pidns
                    self._quietly(self.wipe)  # worker's tmpfs mounts go with it); the handler's own answer sent first
                return

    def _handler_ended(self, handler: int, ended: int, forked: bool, oom_kills: int) -> None:
        """What the worker does when `handler` ended otherwise than answered and wiped (`ended`, its
        exit code; `forked`, whether its job's process came to exist): end what the job left running
        (host mode), and tell the host what became of a job that got no answer."""
        oom = bool(self.oom_events) and _oom_kills(self.oom_events) > oom_kills
        if ended < 0 and not forked:
            self._report_unreceived(-ended, oom)
            return
        if self.mode == "host":  # the handler's leftovers were handed to us: end them
            self.kill_leftovers(None)  # (not the handler's pid: reaped, it may be reused)
            self._quietly(self.sweep_shared)  # (before any report: the host may start another run then)
        if ended in (RETIRE, HOST_CLOSED) or not forked:  # answered, or no program ran
            return
        if self._handler_limits_changed:  # the job crippled its handler, which then failed
            self._write_line(SABOTAGE_LINE)
        elif ended > 0:  # the handler failed with the job's process made: see `_report_failed_handler`
            self._report_failed_handler(ended)
        elif self.mode == "pidns" and (oom or self._reaped_others or _others_than(handler)):
            self._report_killed_handler(-ended, oom)

    def _snapshot_loaded(self) -> None:
        """Keep `self.loaded` what the worker has loaded now (see `ModulesSnapshot`), taken anew only
        when the count of modules or builtins changed (the worker only adds modules, by importing)."""
        if self.loaded is None or not self.loaded.current():
            self.loaded = ModulesSnapshot()
            self.loaded.by_top_name()  # (here, not in each job's process)

    def _report_unreceived(self, number: int, oom: bool) -> None:
        """Tell the host that a handler was killed by signal `number` before its job's process
        existed (while it received the job or wrote its files): no program ran, so nothing of it
        can be blamed. A "sandbox_error"; with `oom` the sandbox's memory cgroup's OOM killer acted
        meanwhile: the job's input did not fit in the memory the worker had to receive it."""
        why = (": the OOM killer of the sandbox's memory cgroup ended it while it received the run's stdin "
               "and files (they did not fit in the worker's memory: create the sandbox with a larger memory_mb)"
               if oom else "")
        self._write_report({"status": "sandbox_error", "exit_code": None, "stdout": "", "stderr": "",
                            "wall_time": 0.0, "retire": True, "message": (
                                f"the sandbox's worker failed to receive the run, before the program started: its "
                                f"handler was killed by {_signal_name(number)}{why}")})

    def _report_killed_handler(self, number: int, oom: bool = False) -> None:
        """Tell the host that a job's handler was killed by signal `number` once the job had
        processes (alive, or ended and reaped by us: a job that kills and then exits; before the
        job's process existed, see `_report_unreceived`). In a pid namespace of our own nothing outside can reach the handler
        but the host's root and the OOM killer (the job is its first choice), so the job did it:
        `kill(-1, SIGKILL)` spares only us. The host then blames the program rather than running it
        again, which would hand it a second, fresh try at a test it saw itself failing. With `oom`
        the sandbox's memory cgroup's OOM killer acted meanwhile (the run filled the memory it
        shares with the worker: see `_first_for_the_oom_killer`), and the report says so.
        The leading newline ends any line the handler was cut off in the middle of."""
        self._write_report({"handler_killed": number, **({"oom": True} if oom else {})})

    def _report_failed_handler(self, code: int) -> None:
        """Tell the host that a job's handler exited with `code`, not an answer, once the job's process
        existed. Its limits were not changed (`_handler_limits_changed`: else the run is the program's
        `error` already), so it is a failure of the handler's own; the host still runs no second try:
        a program that found a way to make its handler fail would otherwise get a fresh attempt at a
        test it saw itself failing. It blames the program only if a fresh worker then runs an empty
        program (`WarmPool.execute`), as after two lost workers."""
        self._write_report({"handler_failed": code})

    def _write_report(self, report: dict) -> None:
        """Send the worker's own `report` about a handler that gave no answer, on a line of its own."""
        try:
            self._write_line(b"\n" + json.dumps(report).encode() + b"\n")
        except Exception:  # noqa: BLE001 - (a job may have lowered our limits too: the host sees us gone)
            pass

    def _write_line(self, data: bytes) -> None:
        """Write `data` to the control pipe unbuffered (whatever a failed handler left unsent is lost)."""
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.ctl_out.fileno(), view):]
        except OSError:  # the host is gone
            pass

    def _wait_for(self, handler: int) -> int:
        """The handler's exit code (negative: the signal that ended it). Meanwhile processes that
        end up ours (as pid 1 of a namespace we adopt orphans) are reaped, and a handler that was
        stopped (a job may signal it: they run as the same user in a namespace) is resumed, so
        that it goes on enforcing the job's limits. In a namespace of our own, every other process
        (the job's) is killed first: a job that kept stopping its handler would otherwise outrun its
        time limit many times over, the handler barely running between stops. A handler that ended
        without answering has its resource limits compared with the worker's before it is reaped
        (`_handler_limits_changed`): one a job lowered may have failed in ways it cannot report
        itself (a signal from a lowered RLIMIT_STACK or RLIMIT_CPU)."""
        self._reaped_others = False  # whether a process of the job's ended up ours (see `serve`)
        self._handler_limits_changed = False  # whether the handler ended with limits a job changed
        while True:
            try:  # looked at first, not reaped: a handler that ended is read before its pid is freed
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WSTOPPED | os.WNOWAIT)
            except InterruptedError:
                continue
            if (info.si_pid == handler and info.si_code != os.CLD_STOPPED
                    and not (info.si_code == os.CLD_EXITED and info.si_status in (HANDLED, RETIRE, HOST_CLOSED))):
                # it ended without an answer: a zombie keeps its resource limits until reaped
                self._handler_limits_changed = self._limits_changed(handler)
            try:
                done, status = os.waitpid(info.si_pid, os.WUNTRACED | os.WNOHANG)
            except (ChildProcessError, InterruptedError):
                continue
            if done == 0:  # its state changed again meanwhile (a stopped process resumed): look afresh
                continue
            if done != handler:
                self._reaped_others = True
                continue
            if os.WIFSTOPPED(status):
                if self.mode == "pidns":
                    _kill_all_but(handler)  # the job stops its own supervisor: it ends here
                os.kill(handler, signal.SIGCONT)
                continue
            return os.waitstatus_to_exitcode(status)

    def handle_one_job(self, worker_pid: int) -> int:
        """In a handler: read one job, run it, answer; the exit code tells the worker what next.

        A job runs as our user (bwrap, Docker, subprocess without root), so it can lower this
        handler's resource limits (`prlimit` on its parent) to make it fail, while it runs or later,
        as it answers (a lowered RLIMIT_AS fails the encoding of a large output; a lowered
        RLIMIT_FSIZE the line on our stderr), so that the run is blamed on the sandbox or tried
        again. Once the job's processes are all gone nothing can change them any more: if they
        differ then from the worker's, the run is the program's `error` (`SABOTAGE_RESULT`), whether
        or not anything failed yet, so the outcome never depends on what the handler still had to do.
        A failure after the job's process was made that is not answered here is reported by the
        worker (`serve`), never tried again."""
        self.job_started = False  # set by `run_job` as it makes the job's process
        self.tmp_stamps = {}  # the shared temp dirs' times before the job (`run_job`, for `wipe`)
        try:
            _prctl(PR_SET_CHILD_SUBREAPER, 1)  # the job's orphans come back here to be killed
            if self.mode == "host":
                _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # the worker gone, its handler goes too
                if os.getppid() != worker_pid:  # (it may have gone already)
                    return HOST_CLOSED
            line = self.ctl_in.readline()
            if not line:
                return HOST_CLOSED
            try:
                job, line = json.loads(line), None  # (the line freed: a job's input may be large)
                result = self.run_job(job)
                if result.get("status") == HOST_GONE:  # the job is killed: its files are wiped, the worker ends
                    self._quietly(self.wipe)  # (`run_job` swept the shared dirs)
                    return HOST_CLOSED
            except Exception as exc:  # the worker's own fault (reported as such, and retired) ...
                if self._limits_changed():  # ... unless the job, running as our user, did it
                    return self._answer_sabotaged()
                result = {"status": "sandbox_error", "message": f"worker: {type(exc).__name__}: {exc}",
                          "exit_code": None, "stdout": "", "stderr": traceback.format_exc(),
                          "wall_time": 0.0, "retire": True}
            if self.job_started and self._limits_changed():  # (the job is gone: they stay as they are now)
                return self._answer_sabotaged()
            if not result.get("retire"):
                changed = self._changed_settings(worker_pid)
                if changed:
                    result["retire"] = True
                    try:
                        print(f"rlvr worker: a job changed the worker's {', '.join(changed)}: retiring",
                              file=sys.stderr)
                    except Exception:  # noqa: BLE001 - a note for diagnostics only: the answer matters
                        pass
            self.send(result)
            return self._after_answer(bool(result.get("retire")))
        except BaseException:  # noqa: BLE001 - no answer could be given: the worker ends, the host sees it
            if self.job_started and self._limits_changed():
                return self._answer_sabotaged()
            try:
                traceback.print_exc()
            except BaseException:  # noqa: BLE001 - (a stderr the job made unwritable)
                pass
            return 70

    def _answer_sabotaged(self) -> int:
        """Answer `SABOTAGE_RESULT` (encoded beforehand: this handler may be unable to allocate),
        after whatever part of an answer was sent, then try to wipe what the job left (what it left
        in shared places first: `sweep_shared`); the worker retires."""
        self._quietly(self.sweep_shared)
        self._write_line(SABOTAGE_LINE)
        self._quietly(self.wipe)
        return RETIRE

    def _limits_changed(self, pid: int = 0) -> bool:
        """Whether the resource limits of process `pid` (0: this one), a handler forked from the
        worker (which sets limits only in the job's process), differ from the worker's: a job of the
        same user changed them (`prlimit` on its parent), so that the handler would fail and the run
        be blamed on the sandbox. False when even that cannot be read (a limit the worker could not
        read when it started is not compared)."""
        try:
            for name in RLIMITS:
                was = self.settings.get(name)
                if isinstance(was, tuple) and resource.prlimit(pid, getattr(resource, name)) != was:
                    return True
            return False
        except Exception:  # noqa: BLE001 - cannot tell: the failure stays the sandbox's
            return False

    def _changed_settings(self, worker_pid: int) -> list[str]:
        """The worker's settings (`process_settings`) that differ from those it started with.
        Called once the job's processes are all gone, so nothing of the job can change them after."""
        now = process_settings(worker_pid)
        return [name for name, value in self.settings.items() if now.get(name) != value]

    # -- one job --------------------------------------------------------------------------------
    def run_job(self, job: dict) -> dict:
        # The dirs are clean: they start empty, and after every job they are wiped (`wipe`, once the
        # job is answered: the host sends the next job only once told so, `CLEAN_LINE`), or the
        # worker retires, so there is nothing to wipe before a job.
        workdir = self.workdir
        os.makedirs(workdir, exist_ok=True)
        program = os.path.join(workdir, job["filename"])
        files = dict(job.pop("files", None) or {})  # (taken out of the job: freed once written)
        files[job["filename"]] = job["code"]
        _write_files(workdir, files, self.job_uid)
        del files
        stdin_fd = self._stdin_fd(job.pop("stdin", ""))
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        setup_r, setup_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        verdict = mmap.mmap(-1, VERDICT_SIZE)  # (see `_record_verdict`)
        oom_events = job.get("oom_events")  # (Docker: the container's own cgroup, its OOM kills the run's)
        oom_kills = _oom_kills(oom_events)
        started = time.monotonic()
        worker_pid = os.getpid()
        # taken while no process of the job uid exists: the dirs hold nothing of it (see `_changed_dirs`)
        tmp_stamps = _dir_stamps(SHARED_TMP_DIRS) if self.job_uid is not None else {}
        # marked before the fork, not after: a job that killed its handler before the handler had
        # marked it would otherwise pass for a run the sandbox failed to receive (no program's fault)
        self._write_line(STARTED_LINE + b"\n")  # received: the host starts the run's time limit
        os.write(self.forked_w, b"1")  # the job's process is made next: from here on a killed handler may be its doing
        self.job_started = True
        pid = os.fork()
        if pid == 0:  # the job's child: never returns
            os.close(out_r)
            os.close(err_r)
            os.close(setup_r)
            self._child(job, workdir, program, stdin_fd, out_w, err_w, setup_w, worker_pid, verdict)
        os.close(out_w)
        os.close(err_w)
        os.close(setup_w)
        os.close(stdin_fd)
        try:
            result = self._supervise(job, pid, out_r, err_r, started, verdict)
            setup_failure = _read_available(setup_r)  # the child is gone: whatever it wrote is there
            if setup_failure:  # and the worker retires: the limit it failed to apply may be its own, changed
                result.update(status="sandbox_error", message=f"the sandbox could not start the program: {setup_failure}",
                              retire=True)
            elif result["status"] not in ("sandbox_error", HOST_GONE):
                _blame_oom_kills(result, _oom_kills(oom_events) - oom_kills)
        finally:
            os.close(out_r)
            os.close(err_r)
            os.close(setup_r)
            self.tmp_stamps = tmp_stamps  # (for `wipe`, once the job is answered)
            clean = self.kill_leftovers(pid)
            try:
                if clean and self.mode == "pidns":
                    left = _sockets_left()
                    if left:  # (see `_sockets_left`: only a fresh namespace is free of them)
                        result["retire"] = True
                        print(f"rlvr worker: the job left {left} socket(s) in the worker's network namespace: "
                              "retiring", file=sys.stderr)
                if clean:
                    self.sweep_shared()
            except Exception:  # the job's result stands; this worker must not serve another
                clean = False
        if not clean:
            result["retire"] = True
        return result

    def sweep_shared(self) -> None:
        """Remove what the job left where other runs can see it, before it is answered: its SysV IPC
        objects, and with a job uid of its own its entries in the host's shared dirs (/dev/shm, POSIX
        message queues, /tmp): on the subprocess backend those are shared with every other worker, and
        a run started once this one is answered must find nothing of it there. A directory it left
        in a shared dir is moved into this worker's own TMPDIR where it can be (the same
        filesystem), else into a holding folder of the worker's in that dir (/dev/shm is a tmpfs of
        its own), at the cost of a rename, and goes with the wipe after the answer (`wipe`)."""
        if self.mode == "pidns":
            remove_sysv_ipc()  # (the worker's own IPC namespace: cheap, and gone before the answer)
        elif self.job_uid is not None:  # (without one, nothing there is surely the job's)
            remove_sysv_ipc(self.job_uid)
            remove_entries_of(self.job_uid, SHARED_IPC_DIRS + _changed_dirs(self.tmp_stamps),
                              aside=self.tmpdir, holding=self.holding)

    def wipe(self) -> None:
        """Remove what the job left in this worker's own dirs (`clean`): its work dir and TMPDIR
        (and, under bwrap and Docker, the worker's own /dev/shm and /dev/mqueue), which no other
        worker's run can see, and the holding folders in the shared dirs where `sweep_shared` put
        what it left there out of sight (other runs see nothing of it any more). Done
        once the job is answered (`_after_answer`): a program may leave hundreds of thousands of
        files (the subprocess backend counts none), whose removal takes as long as their making, and
        is no part of its run."""
        self.clean(self.workdir)
        if self.holding is not None:
            for top in JOB_UID_SHARED_DIRS:
                _remove_holding(os.path.join(top, self.holding))

    @staticmethod
    def _quietly(action) -> bool:
        """`action` (`wipe`, `sweep_shared`), a failure printed (for diagnostics) rather than raised;
        whether it succeeded."""
        try:
            action()
            return True
        except BaseException:  # noqa: BLE001 - (a job may have crippled this process): the worker retires
            try:
                traceback.print_exc()
            except BaseException:  # noqa: BLE001 - (a stderr the job made unwritable)
                pass
            return False

    def _after_answer(self, retire: bool) -> int:
        """Once a job is answered: wipe what it left (`wipe`), then tell the host that this worker may
        take another job (`CLEAN_LINE`); the handler's exit code. A wipe that fails sends no such line
        and retires the worker (the host sees it end)."""
        if not self._quietly(self.wipe):
            return RETIRE
        self._write_line(CLEAN_LINE + b"\n")
        return RETIRE if retire else HANDLED

    def clean(self, workdir: str) -> None:
        """Empty the dirs a job may write, and put back their own mode, times and extended
        attributes (a job may change those of a dir it owns: a channel to the next job)."""
        for path in (workdir, self.tmpdir, *self.scratch):
            try:
                _clean_dir(path)
            except FileNotFoundError:  # the home is gone (its sandbox's folder removed after the host
                continue  # died: a sweep): nothing to wipe, and nothing to make again for a sweep to miss
            if path in self.roots:
                _restore_dir(path, self.roots[path])
            if self.job_uid is not None and path in (workdir, self.tmpdir):
                os.chown(path, self.job_uid, self.job_uid)

    def _stdin_fd(self, payload) -> int:
        """An unlinked temp file holding the job's stdin (no writer thread, no pipe deadlock)."""
        fd = os.open(self.tmpdir, os.O_RDWR | os.O_TMPFILE, 0o600)
        _write_payload(fd, payload)
        os.lseek(fd, 0, os.SEEK_SET)
        return fd

    def _child(self, job, workdir, program, stdin_fd, out_w, err_w, setup_w, worker_pid, verdict) -> None:
        """In the forked child: become the job's process, with its limits, then run it."""
        try:
            os.setsid()
            os.dup2(stdin_fd, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            os.dup2(setup_w, SETUP_FD, inheritable=False)  # closed by a successful exec
            os.closerange(SETUP_FD + 1, 65536)  # the control pipes among them: no forged results
            _first_for_the_oom_killer()  # before the uid change (see there)
            if self.job_uid is not None:
                os.setgroups([])
                os.setgid(self.job_uid)
                os.setuid(self.job_uid)
            if self.mode == "host":  # if the worker dies, the job dies with it
                # (set after the uid change, which clears it; and the worker may already be gone)
                _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                if os.getppid() != worker_pid:
                    os._exit(126)
            limits = job["limits"]
            memory = limits["memory_mb"] * 1024 * 1024
            file_size = limits["max_file_mb"] * 1024 * 1024
            cpu = _cpu_rlimit(limits)
            _cap_malloc_arenas()
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
            if job.get("rlimit_nproc", True):  # containers count processes with their pids cgroup
                nproc = self._nproc(limits["max_processes"])
                resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
            resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
            os.chdir(workdir)
            if job["warm"]:
                signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a fresh python3
                os.close(SETUP_FD)  # set up: from here on, whatever happens is the program's doing
                self._exec_python_here(program, workdir, self.loaded, verdict)
            # Python ignores SIGPIPE and SIGXFSZ, the worker SIGINT; an exec'd program expects defaults.
            for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT):
                signal.signal(sig, signal.SIG_DFL)
            argv = list(job["argv"]) + [program]
            os.execvpe(argv[0], argv, dict(os.environ))
        except BaseException as exc:  # noqa: BLE001 - the program never started: report why, then die
            try:
                os.write(SETUP_FD, f"{type(exc).__name__}: {exc}".encode()[:2000])
            finally:
                os._exit(126)

    def _nproc(self, max_processes: int) -> int:
        """The job's RLIMIT_NPROC, which counts every process and thread of its real uid: in a
        namespace of our own, the worker and this job's handler too, which are not the run's; on the
        host without a job uid, every task of the user, as the worker last counted them (with itself
        and, to come, this handler: see the module docs); with a job uid, the job's alone."""
        if self.mode == "pidns":
            return max_processes + WORKER_PROCESSES
        if self.job_uid is None and self.user_tasks is not None:
            return self.user_tasks[1] + 1 + max_processes  # (+1: this handler, forked since)
        return max_processes

    @staticmethod
    def _exec_python_here(program: str, workdir: str, snapshot: ModulesSnapshot | None = None,
                          verdict: mmap.mmap | None = None) -> None:
        """Run the program in this (forked) interpreter as `python3 program` would, and end as it would.

        The worker's environment, signal dispositions and sys.std* objects are already what a
        fresh interpreter would have (their buffers are empty: the worker never used them), and
        fds 0-2 now point at the job's streams, so nothing needs rebuilding here. One thing is the
        worker's and cannot be made fresh: the string hash seed, drawn once when the interpreter
        started, is the same for all the worker's jobs (`hash('abc')`, and the iteration order of a
        set of strings, repeat from one job to the next; python3 draws one per run). `random` is
        reseeded in each fork by its own at-fork hook. The worker's own
        exit handlers are dropped: only the program's run at its end. The program is compiled
        without the worker's `__future__` flags and runs as a module of its own, `__main__` in
        sys.modules (see `_main_module`), so pickle and multiprocessing find what it defines.

        `snapshot` is the worker's sys.modules and builtins as the worker took them before forking
        (`ModulesSnapshot`), used when this process still has as many of each (nothing imported
        since: the worker and its handler only add modules): copying them here would write to the
        pages of every module object and name, shared with the worker until then, a page fault
        each (some hundred microseconds a job).
        """
        sys.argv = [program]
        sys.path[0:0] = [workdir]
        if snapshot is None or not snapshot.current():
            snapshot = ModulesSnapshot()
        # the worker's modules: what the program adds or replaces, or imports again after
        # `_forget_shadowed` dropped the worker's, is finalized as its own
        loaded = snapshot.modules
        forgotten = _forget_shadowed(workdir, snapshot.by_top_name())
        atexit._clear()
        builtins_were = snapshot.builtins
        code, interrupted = _run_main(program, verdict)
        _flush_io()
        code = _finalize(code, loaded, builtins_were, forgotten)
        if interrupted:  # an uncaught KeyboardInterrupt: Python ends by its own SIGINT
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
            code = 128 + signal.SIGINT  # (what Python gives if the signal is blocked)
        os._exit(code & 0xFF)

    def _supervise(self, job, pid, out_r, err_r, started, verdict=None) -> dict:
        """Collect the child's output under the cap until it exits or its time is up. `verdict` is the
        page where a warm Python child records what its uncaught exception showed (`_record_verdict`)."""
        limits = job["limits"]
        cap = limits["max_output_bytes"]
        deadline = started + limits["timeout"]
        chunks = {out_r: bytearray(), err_r: bytearray()}
        open_fds = [out_r, err_r]
        exit_fd = os.pidfd_open(pid)  # readable once the child has exited: no polling
        # the tmpfs mounts whose files are counted (`_too_many_files`): a pidns worker's own
        max_files = limits.get("max_files") if self.mode == "pidns" else None
        counted = [self.workdir, self.tmpdir, *self.scratch] if max_files else []
        next_count = started
        status, message, wait_status, rusage = None, "", None, None
        cut_stderr = job.get("stderr_overflow") == "cut"  # (else a stderr past the cap stops the run)
        stderr_cut = False
        try:
            while open_fds or wait_status is None:
                now = time.monotonic()
                remaining = deadline - now
                if remaining <= 0:
                    status, message = "timeout", f"wall-clock limit of {limits['timeout']:g}s exceeded"
                    break
                if counted and now >= next_count:  # at most every FILE_COUNT_INTERVAL
                    next_count = now + FILE_COUNT_INTERVAL
                    crowded = _too_many_files(counted, max_files)
                    if crowded is not None:
                        status, message = "error", f"file limit exceeded: more than {max_files} files and directories in {crowded}"
                        break
                watched = open_fds + ([exit_fd] if wait_status is None else [])
                wait = min(remaining, max(0.0, next_count - now)) if counted else remaining
                # Once the child is gone, only processes it left behind can hold the pipes open:
                # take what is already there and stop.
                ready = _wait_readable(watched, wait if wait_status is None else 0, self.ctl_in.fileno())
                if ready is None:  # the host is gone: nobody waits for the result
                    status, message = HOST_GONE, "the host closed the control pipe during the run"
                    break
                if not ready and wait_status is not None:
                    break
                for fd in ready:
                    if fd == exit_fd:
                        wait_status, rusage = self._collect(pid)
                        continue
                    data = os.read(fd, READ_CHUNK)
                    if not data:
                        open_fds.remove(fd)
                        continue
                    buffer = chunks[fd]
                    buffer.extend(data)
                    if len(buffer) > cap:
                        del buffer[cap:]
                        if fd == err_r and cut_stderr:  # read on and dropped: the run goes on
                            stderr_cut = True
                            continue
                        name = "stdout" if fd == out_r else "stderr"
                        status, message = "output_limit", f"{name} exceeded {cap} bytes and was cut"
                if status == "output_limit":
                    break
        finally:
            os.close(exit_fd)
        if wait_status is None:  # stopped early: kill it and collect its status
            _kill_group(pid)
            wait_status, rusage = self._collect(pid)
        wall = time.monotonic() - started
        exit_code = os.waitstatus_to_exitcode(wait_status)
        stdout, stderr = chunks[out_r], chunks[err_r]  # bytes, sent as they are (see `send`)
        cpu_used = rusage.ru_utime + rusage.ru_stime if rusage else 0.0
        details = {"cpu_time": round(cpu_used, 4), "max_rss_kb": rusage.ru_maxrss if rusage else 0,
                   **({"stderr_cut": True} if stderr_cut else {})}
        if status is None:
            evidence = Evidence(job["warm"], _read_verdict(verdict, pid))
            tail = bytes(stderr[-8000:]).decode("utf-8", "replace")  # (what `_classify` looks at)
            status, message = _classify(exit_code, tail, cpu_used, limits, evidence, details)
        return {"status": status, "exit_code": exit_code, "stdout": stdout, "stderr": stderr,
                "wall_time": wall, "message": message, "details": details}

    def _collect(self, pid: int) -> tuple[int, resource.struct_rusage]:
        """The exit status and resource usage of the job's child, which has exited or was killed.

        Never a blocking wait: a child that a process of its own traces (ptrace) is only handed
        back once that tracer is gone, so while it is not, everything else the job started is
        killed. Raises if it still cannot be collected after `CLEANUP_SECONDS`.
        """
        deadline = time.monotonic() + CLEANUP_SECONDS
        while True:
            done, status, rusage = os.wait4(pid, os.WNOHANG)
            if done:
                return status, rusage
            if time.monotonic() > deadline:
                raise RuntimeError(f"the job's process {pid} could not be collected within {CLEANUP_SECONDS:g}s")
            self._kill_all_others()
            time.sleep(0.005)

    # -- cleanup --------------------------------------------------------------------------------
    def kill_leftovers(self, pid: int | None) -> bool:
        """Kill every process the job whose child is `pid` (None: gone) started, however it hid,
        and reap them; False if some survive."""
        if pid is not None:
            _kill_group(pid)
        deadline = time.monotonic() + CLEANUP_SECONDS
        while time.monotonic() < deadline:
            if self.mode == "host" and not self._reap_all():
                return True  # no children left: nothing can have escaped (we are the subreaper)
            self._kill_all_others()
            if not self._reap_all():
                return True
            time.sleep(0.005)
        return False

    def _kill_all_others(self) -> None:
        """SIGKILL every process the job may have started: in pidns mode everything in the
        namespace but this process and pid 1 (the worker); in host mode our children (orphans
        come to us, the subreaper) and their groups."""
        if self.mode == "pidns":
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return
        for child in _children_of(os.getpid()):
            _kill_group(child)
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass

    @staticmethod
    def _reap_all() -> bool:
        """Reap exited children; True while some child still exists."""
        while True:
            try:
                done, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return False
            if done == 0:
                return True


class ModulesSnapshot:
    """The worker's sys.modules and builtins at one time, with the module names grouped by their
    top-level name (`by_top_name`, built when first asked for). Taken in the worker, where reading
    them costs no page copies (see `Worker._exec_python_here`)."""

    def __init__(self) -> None:
        self.modules = dict(sys.modules)
        self.builtins = dict(builtins.__dict__)
        self._by_top: dict[str, tuple[str, ...]] | None = None

    def current(self) -> bool:
        """Whether sys.modules and builtins still hold as many entries: then they are the same,
        since the worker's code only ever adds to them."""
        return len(self.modules) == len(sys.modules) and len(self.builtins) == len(builtins.__dict__)

    def by_top_name(self) -> dict[str, tuple[str, ...]]:
        """{top-level name: the loaded modules under it}, those of `STARTUP_MODULES` left out."""
        if self._by_top is None:
            grouped: dict[str, list[str]] = {}
            for name in self.modules:
                top = name.partition(".")[0]
                if top not in STARTUP_MODULES:
                    grouped.setdefault(top, []).append(name)
            self._by_top = {top: tuple(names) for top, names in grouped.items()}
        return self._by_top


def _forget_shadowed(workdir: str, by_top: dict[str, tuple[str, ...]]) -> frozenset:
    """In a warm Python job's child: when the program's own files shadow a module the worker
    loaded (or tried to: `_Unfound`) beyond a fresh interpreter's (`STARTUP_MODULES`), drop from
    sys.modules every module the worker loaded beyond those; returns the names dropped.

    `python3 main.py` imports such a module from the program's dir, first on sys.path, both where
    the program imports it and where a standard module it imports does (`random` imports `bisect`,
    `dataclasses` imports `functools`); so every module python3 would import anew is imported anew,
    with the program's files in place, not only the shadowed one. A module of the start-up set stays,
    as under python3, which has it loaded before the program's dir is on sys.path (a program's
    `os.py` is not what `import os` gives). Without a shadowing file (the common case) nothing is
    dropped: one listing of the work dir. The worker's own references to its modules are untouched
    (only this child's sys.modules changes). `by_top` is `ModulesSnapshot.by_top_name` of the
    modules loaded now.

    Only module files present in the work dir when the program starts (the files shipped with it)
    replace preloaded modules: a module file the program writes while it runs, or one in a folder
    it adds to sys.path, does not replace a module the worker preloaded (`PRELOAD`), which stays
    cached in sys.modules, where python3 would import the program's file."""
    taken = _module_names(workdir) - {"__main__"}
    if taken.isdisjoint(by_top) and taken.isdisjoint(_Unfound.names):
        return frozenset()
    dropped = [name for names in by_top.values() for name in names]
    for name in dropped:
        sys.modules.pop(name, None)
    return frozenset(dropped)


def _module_names(workdir: str) -> set[str]:
    """The top-level module names the files at the top of `workdir` provide: a module file
    (`statistics.py`, a .pyc or an extension module) or a package (a directory with an `__init__`
    module of any of those kinds: `_is_package`, or any directory for a name nothing else provides:
    `_Unfound`)."""
    taken = set()
    try:
        for entry in os.scandir(workdir):
            name = entry.name
            if entry.is_dir():  # (without `__init__`, a namespace package: found only where nothing else is)
                if name in _Unfound.names or _is_package(entry.path):
                    taken.add(name)
                continue
            for suffix in MODULE_SUFFIXES:
                if name.endswith(suffix):
                    taken.add(name[:-len(suffix)])
                    break
    except OSError:  # (the program's own dir, just written: not expected)
        pass
    return taken


def _is_package(path: str) -> bool:
    """Whether the directory `path` is a regular package for python3's path finder: it holds an
    `__init__` module file of any suffix it imports (`__init__.py`, `__init__.pyc`, an extension
    module `__init__.cpython-311-x86_64-linux-gnu.so`: `MODULE_SUFFIXES`)."""
    try:
        names = os.listdir(path)
    except OSError:
        return False
    return any(name.startswith("__init__") and name[len("__init__"):] in MODULE_SUFFIXES for name in names)


# -- the end of a warm Python program, as the interpreter's own would be ---------------------------
def _main_module(program: str):
    """A fresh module `__main__` for the program, put in sys.modules in place of the worker's own.

    As for `python3 program`: `import __main__` gives the program's module, and pickle (hence
    multiprocessing) finds the classes and functions it defines there. Only this forked child's
    sys.modules changes; the worker's functions keep their own globals (they hold that dict:
    the old module object may be freed, and since Python 3.4 that does not clear its dict)."""
    module = type(sys)("__main__")
    module.__file__ = program
    module.__cached__ = None
    module.__builtins__ = __builtins__
    sys.modules["__main__"] = module
    return module


def _run_main(program: str, verdict: mmap.mmap | None = None) -> tuple[int, bool]:
    """Run the program as the __main__ module: (exit status so far, whether a KeyboardInterrupt ended it).
    What its uncaught exception shows of a limit it reached goes to `verdict` (`_record_verdict`).

    Compiled from bytes, so that the tokenizer treats a BOM and a PEP 263 coding declaration as
    python3 does (`_source_bytes`). Compiled with `dont_inherit=True`: as `python3 program` compiles
    it, without this file's own `from __future__` flags (postponed annotations would break
    `@dataclass` and typing)."""
    try:
        namespace = _main_module(program).__dict__
        code = compile(_source_bytes(program), program, "exec", dont_inherit=True)
        _match_recursion_headroom(_recursion_depth() - 1)  # (-1: the depth here, in this frame)
        exec(code, namespace)
    except SystemExit as exc:
        return _system_exit_status(exc), False
    except BaseException as exc:  # noqa: BLE001 - report it like the interpreter does
        _record_verdict(verdict, exc)  # (before the report, which cuts the traceback)
        _report_uncaught(exc, program)
        return 1, isinstance(exc, KeyboardInterrupt)
    return 0, False


#: A PEP 263 coding declaration, as the tokenizer finds it on the first or second line.
_CODING_LINE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


def _source_bytes(program: str) -> bytes:
    """The bytes of the program to compile. The program is text (the `code` given as a str, which
    its file holds as UTF-8), so it runs as python3 runs a file holding that text in the encoding
    it declares: with a declaration of another encoding the text can be written in (`# coding:
    latin-1`), that encoding's bytes (`rlvr sandbox run` decodes a file by its declaration before
    sending it); otherwise the file's own bytes, whose BOM the tokenizer drops and whose
    declaration it checks as python3 does (an unknown codec, a BOM with a declaration other than
    UTF-8, a UTF-16 one: python3's "encoding problem" SyntaxError)."""
    with open(program, "rb") as handle:
        raw = handle.read()
    lines = raw.split(b"\n", 2)[:2]
    found = _CODING_LINE.match(lines[0]) or (len(lines) > 1 and re.match(rb"^[ \t\f]*(?:#.*)?\r?$", lines[0])
                                             and _CODING_LINE.match(lines[1]))
    if not found or raw.startswith(b"\xef\xbb\xbf"):
        return raw
    try:
        declared = codecs.lookup(found.group(1).decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return raw
    if declared == "utf-8" or declared.startswith(("utf-16", "utf-32")):
        return raw
    try:
        return raw.decode("utf-8").encode(declared)
    except (UnicodeDecodeError, UnicodeEncodeError):  # text its declared encoding cannot hold: the file as written
        return raw


def _recursion_depth() -> int:
    """The interpreter's recursion depth in this frame, as its recursion limit counts it (Python
    frames, and on Python 3.11 the C-level entries into the eval loop too): the lowest limit
    `sys.setrecursionlimit` accepts here, less one (it refuses one at or below the depth). Read
    this way because no public call tells it and the count differs between versions."""
    limit = sys.getrecursionlimit()
    try:
        for lowest in range(1, limit):
            try:
                sys.setrecursionlimit(lowest)
            except RecursionError:
                continue
            return lowest - 1
        return 0
    finally:
        sys.setrecursionlimit(limit)


#: The depth in the RecursionError of a refused sys.setrecursionlimit (the same words since 3.7).
RECURSION_DEPTH_REFUSED = re.compile(r"at the recursion depth (\d+): the limit is too low")


def _match_recursion_headroom(extra: int) -> None:
    """Give the program the recursion headroom of a fresh interpreter, which the worker's `extra`
    levels of its own (the frames from the worker's start to `_run_main`) would otherwise take:
    under `python3 program` a module-level call chain may reach about 1000 deep. The limit is
    raised by `extra`, and sys.getrecursionlimit and sys.setrecursionlimit are replaced by ones
    that show and take the limit as the program would know it (1000 by default) while keeping
    the real one `extra` higher. (A thread the program starts begins at depth 0, so it gets
    `extra` more levels than under `python3`: more room, never less.)

    A limit at or below the program's depth is refused with the numbers the program knows (its
    limit and depth, not the real ones `extra` and the wrapper's own frame higher), in Python's
    words. The wrapper's frame makes the real depth one more than the program's during the call:
    a limit of exactly one more than the program's depth, which Python accepts, gets a real limit
    one above `value + extra` (one level more than under `python3`, never less)."""
    if extra <= 0:
        return
    real_get, real_set = sys.getrecursionlimit, sys.setrecursionlimit
    nominal = [real_get()]
    real_set(nominal[0] + extra)
    ceiling = (1 << 31) - 1  # (the C int the limit is held in)

    def getrecursionlimit():
        return nominal[0]

    def setrecursionlimit(limit, /):
        value = limit.__index__() if hasattr(type(limit), "__index__") else None
        if value is None or value < 1 or value > ceiling:
            real_set(limit)  # raises what Python raises for it (TypeError, ValueError, OverflowError)
        try:
            real_set(min(value + extra, ceiling))
        except RecursionError as exc:
            found = RECURSION_DEPTH_REFUSED.search(str(exc))
            if found is None:
                raise
            depth = int(found.group(1)) - extra - 1  # (-1: this wrapper's own frame)
            if depth >= value:  # as Python's own check: refused at or below the depth
                raise RecursionError(f"cannot set the recursion limit to {value} at the recursion "
                                     f"depth {depth}: the limit is too low") from None
            real_set(min(value + extra + 1, ceiling))
        nominal[0] = value

    for wrapper, real in ((getrecursionlimit, real_get), (setrecursionlimit, real_set)):
        wrapper.__name__ = wrapper.__qualname__ = real.__name__
        wrapper.__doc__ = real.__doc__
        wrapper.__module__ = "sys"
    sys.getrecursionlimit, sys.setrecursionlimit = getrecursionlimit, setrecursionlimit


def _system_exit_status(exc: SystemExit) -> int:
    """The exit status `raise SystemExit(code)` gives; a non-integer code is printed, and is 1."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    try:
        print(code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - a broken stderr is the program's business
        pass
    return 1


def _report_uncaught(exc: BaseException, program: str) -> None:
    """Show an uncaught exception through sys.excepthook, without the worker's own frames.

    The worker's frames are cut from its traceback: those before the program's first (the worker's
    start down to `_run_main`) and any later one (the recursion-limit wrappers of
    `_match_recursion_headroom`, through which an error of the program's call passes). The
    traceback is put on the exception, as under `python3 program`, and shown by sys.excepthook:
    by default sys.__excepthook__, the interpreter's own printer, so the output is Python's to the
    byte, the last sys.tracebacklimit entries only (1000 unless the program set it), and a
    traceback a million frames deep takes no longer than under python3 (the traceback module
    would format every frame, seconds).

    As Python does, it is kept as sys.last_exc (3.12+) and sys.last_type/value/traceback until the
    end (`_finalize` drops them): what its frames hold is freed there, in Python's order, not now."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != program:
        tb = tb.tb_next
    _drop_worker_frames(tb)
    try:
        exc.__traceback__ = tb
    except BaseException:  # noqa: BLE001 - (an exception class of the program's may refuse it)
        pass
    if sys.version_info >= (3, 12):
        sys.last_exc = exc
    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, tb
    try:
        sys.excepthook(type(exc), exc, tb)
    except BaseException:  # noqa: BLE001 - a broken hook or stderr: the status stays 1
        pass


def _drop_worker_frames(tb) -> None:
    """Unlink from the traceback `tb` (which starts at a frame of the program's) every later entry
    of a frame of the worker's own code. One walk of the chain: some milliseconds a million deep."""
    worker_file = _drop_worker_frames.__code__.co_filename
    while tb is not None:
        after = tb.tb_next
        while after is not None and after.tb_frame.f_code.co_filename == worker_file:
            after = after.tb_next
        if after is not tb.tb_next:
            tb.tb_next = after
        tb = after


def _finalize(code: int, loaded: dict, builtins_were: dict, forgotten: frozenset = frozenset()) -> int:
    """Finish like Python's own shutdown, which `os._exit` would skip; return the exit status.

    As the interpreter does at exit: wait for the program's non-daemon threads (the idiom
    `threading.Thread(target=main).start()` prints its answer from one), run its atexit handlers
    (each one's error, SystemExit included, is printed by atexit and changes nothing), then flush
    the standard streams (`_flush_for_exit`); then stop calling the program's signal handlers, collect garbage and
    take apart the program's modules (`_finalize_modules`), which finalizes what they held: a file
    object of its own on fd 1 writes its buffer (`out = open(1, 'w')` never closed), `__del__`
    methods and a suspended generator's `finally` run. Their errors are printed ("Exception
    ignored in ...") by the interpreter and change nothing. Last the standard streams are flushed
    again, silently, as Python's closing of them is. A thread or finalizer that never ends is
    stopped by the run's time limits, as any other program.
    """
    threading = sys.modules.get("threading")
    if threading is not None and hasattr(threading, "_shutdown"):
        try:
            threading._shutdown()
        except BaseException:  # noqa: BLE001 - an interrupted wait ends it, as in Python
            pass
    try:
        atexit._run_exitfuncs()
    except BaseException:  # noqa: BLE001 - (older Pythons re-raise the last handler's error)
        pass
    flushed = _flush_for_exit()
    try:
        _default_signal_handlers()
        gc.collect()
        _finalize_modules(loaded, builtins_were, forgotten)
    except BaseException:  # noqa: BLE001 - (errors inside finalizers are the interpreter's to print)
        pass
    _flush_std_streams()  # what finalizers printed; as in Python, a failure now is silent and changes nothing
    return code if flushed else 120


def _flush_for_exit() -> bool:
    """Flush sys.stdout and sys.stderr as Python does once the exit handlers have run: False if
    either failed (the exit status becomes 120); a failure of sys.stdout's is printed on sys.stderr
    ("Exception ignored in: ..."), one of sys.stderr's is not."""
    flushed = True
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name, None)
        try:
            if stream is None or getattr(stream, "closed", False):
                continue
        except Exception:  # noqa: BLE001 - (Python takes an unreadable `closed` for open)
            pass
        try:
            stream.flush()
        except BaseException as exc:  # noqa: BLE001 - a broken stream is the program's business
            flushed = False
            if name == "stdout":
                try:
                    sys.stderr.write(f"Exception ignored in: {stream!r}\n"
                                     + "".join(traceback.format_exception_only(type(exc), exc)))
                    sys.stderr.flush()
                except BaseException:  # noqa: BLE001
                    pass
    return flushed


def _default_signal_handlers() -> None:
    """As Python does once its exit handlers have run: a signal with a handler of the program's
    (a Python function, SIGINT's default_int_handler among them) gets the default action back."""
    for number in range(1, signal.NSIG):
        try:
            handler = _signal.getsignal(number)  # (not signal's: its enum conversions cost more than the rest)
        except (ValueError, OSError):
            continue
        if callable(handler):
            try:
                _signal.signal(number, _signal.SIG_DFL)
            except (ValueError, OSError):
                pass


#: The sys attributes Python sets to None first when it takes the modules apart: values a program
#: (or an uncaught exception: `_report_uncaught`) left there are freed before the modules go.
SYS_CLEARED = ("last_exc", "last_type", "last_value", "last_traceback")


def _finalize_modules(loaded: dict, builtins_were: dict, forgotten: frozenset = frozenset()) -> None:
    """Take apart the program's modules as Python's shutdown does its modules, so that what they
    hold is finalized: `__main__` and every module the program imported or replaced (those of
    `loaded`, the worker's own, stay: the worker runs on them, and they hold nothing of the
    program's; those of `forgotten`, the worker's that `_forget_shadowed` dropped, count as the
    program's wherever they are found again). In Python's order: the special references go
    (`SYS_CLEARED`, `builtins._`, the standard streams put back as sys.__stdout__ and the others),
    the modules leave sys.modules, the builtins get their own values back, garbage is collected;
    then each module still alive has its globals set to None, the most recently imported first,
    names with one leading underscore first, and garbage is collected again."""
    for name in SYS_CLEARED:
        if getattr(sys, name, None) is not None:
            setattr(sys, name, None)
    if getattr(builtins, "_", None) is not None:
        builtins._ = None
    for name in ("stdin", "stdout", "stderr"):
        original = getattr(sys, f"__{name}__", None)
        if original is not None and getattr(sys, name, None) is not original:
            setattr(sys, name, original)
    modules = sys.modules
    taken = []
    ours = [name for name, module in modules.items() if loaded.get(name) is not module or name in forgotten]
    for name in ours:
        module = modules.pop(name, None)
        if isinstance(module, type(sys)):
            taken.append(weakref.ref(module))
    module = original = None  # (no reference of ours may keep one alive)
    names = builtins.__dict__
    for name in [name for name in names if name not in builtins_were]:
        names.pop(name, None)
    for name, value in builtins_were.items():
        if names.get(name, names) is not value:
            names[name] = value
    value = None
    gc.collect()
    for ref in reversed(taken):
        module = ref()
        if module is not None:
            _clear_globals(module.__dict__)
        del module
    gc.collect()


def _clear_globals(names: dict) -> None:
    """Set a module's globals to None as Python does when it clears a module at exit: first the
    names with a single leading underscore, then every other but `__builtins__`."""
    for first in (True, False):
        for name in list(names):
            if not isinstance(name, str) or names.get(name) is None:
                continue
            private = name[:1] == "_" and name[1:2] != "_"
            if (private if first else name != "__builtins__"):
                names[name] = None


def _flush_io() -> None:
    """Flush sys.stderr, then sys.stdout, ignoring failures, as Python does once the main module
    ends (before it waits for threads). Not sys.__stdout__ or sys.__stderr__: a program that
    replaced sys.stdout leaves what it wrote to the original in its buffer until Python frees it at
    shutdown (`_finalize`), after the replacement's own output, or never, if the program's own file
    object on fd 1 closed the fd by then."""
    for name in ("stderr", "stdout"):
        try:
            stream = getattr(sys, name, None)
            if stream is not None:
                stream.flush()
        except BaseException:  # noqa: BLE001 - a broken stream is the program's business
            pass


def _flush_std_streams() -> None:
    """The silent last flush, once the program's modules are torn down: sys.stdout, sys.stderr and
    the original streams (which Python flushes when it frees them), failures ignored, so output
    that finalizers wrote reaches the run's result. (The flush when the main module ends, whose
    failures Python reports, is `_flush_io`.)"""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None and not getattr(stream, "closed", False):
                stream.flush()
        except BaseException:  # noqa: BLE001 - a broken stream is the program's business
            pass


def _read_available(fd: int) -> str:
    """What is in the non-blocking pipe `fd` now (at most a few KiB), as text."""
    try:
        return os.read(fd, 4096).decode("utf-8", "replace")
    except BlockingIOError:  # nothing written, and a process the job left may still hold it open
        return ""


IPC_RMID = 0


def remove_sysv_ipc(uid: int | None = None) -> None:
    """Delete every SysV shared-memory segment, semaphore set and message queue in our IPC
    namespace, or, given `uid`, those it owns or created (an owner may hand an object to another uid).

    They outlive the processes that made them, so one run could otherwise leave data for the next,
    and kernel memory behind. Called in pidns mode, where the worker has an IPC namespace of its
    own, and in host mode for a job uid of the worker's own (nothing else runs as it).
    """
    libc = LIBC
    for table, remove in (("shm", lambda i: libc.shmctl(i, IPC_RMID, None)),
                          ("sem", lambda i: libc.semctl(i, 0, IPC_RMID)),
                          ("msg", lambda i: libc.msgctl(i, IPC_RMID, None))):
        try:
            with open(f"/proc/sysvipc/{table}") as handle:
                header, *rows = handle.read().splitlines()
        except (OSError, ValueError):
            continue
        columns = header.split()
        owners = [columns.index(name) for name in ("uid", "cuid") if name in columns]
        for row in rows:
            fields = row.split()
            if uid is None or any(int(fields[column]) == uid for column in owners):
                remove(int(fields[1]))


#: What a job can leave in its worker's network namespace (`_sockets_left`): the table of its unix
#: sockets (abstract names among them), and the namespace's counts of IPv4 and IPv6 sockets by
#: protocol, of TCP connections in TIME_WAIT and of IP fragments waiting to be reassembled. (The
#: TCP tables, /proc/net/tcp and tcp6, would tell the same, but reading one walks the kernel's
#: TCP hash of every namespace, milliseconds; these take some microseconds.)
SOCKET_TABLES = ("/proc/net/unix",)
SOCKET_COUNTS = ("/proc/net/sockstat", "/proc/net/sockstat6")
#: The fields of `SOCKET_COUNTS` that count this namespace's own (others count the host's).
NAMESPACE_COUNTS = (b"inuse", b"tw")


def _sockets_left(tables=SOCKET_TABLES, counts=SOCKET_COUNTS) -> int:
    """How many sockets (and fragment queues) the namespace holds, read by a pidns worker's
    handler once every process of the job is gone. Its network namespace has no network, lives as
    long as the worker, and holds no socket of the worker's (its control pipes come from outside),
    so everything counted then is a leftover of the job that outlived its processes, and a channel
    to the next job: a unix socket whose own fd waits in its receive queue (sent to itself with
    SCM_RIGHTS) lives until the kernel's garbage collector of such cycles runs, its abstract name,
    data of the job's choosing, listed in /proc/net/unix to every later job all the while; a
    closed TCP connection stays in TIME_WAIT for a minute, its ports chosen by the job. A worker
    whose job left any retires, its namespace with it (`run_job`). Sockets closed the ordinary way
    are gone once their process is, so most programs never cost a worker; a closed TCP connection
    does, unless the namespace keeps no TIME_WAIT entries (Docker's containers: tcp_max_tw_buckets
    is 0). What the namespace's traffic counters tell the next job is not checked. A file the kernel
    lacks (sockstat6 without IPv6) counts none; one that cannot be read raises (the worker then
    retires as well)."""
    count = 0
    for path in tables:
        try:
            with open(path, "rb") as handle:
                count += max(0, handle.read().count(b"\n") - 1)  # (its first line is a header)
        except FileNotFoundError:
            continue
    for path in counts:  # lines such as "TCP: inuse 0 orphan 0 tw 0 alloc 1 mem 0"
        try:
            with open(path, "rb") as handle:
                lines = handle.read().splitlines()
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            count += sum(int(value) for name, value in zip(fields[1::2], fields[2::2]) if name in NAMESPACE_COUNTS)
    return count


def remove_entries_of(uid, dirs, aside: str | None = None, holding: str | None = None) -> None:
    """Remove what `uid` (a uid, or a set of uids released together: one listing of each dir for
    all) owns at the top of each of `dirs` (shared dirs such as /dev/shm, where a
    job of a job uid of its own may leave files: they outlive it and hold memory), whole trees for
    its directories. Given `aside` (a dir no other uid's run can see, wiped later), a directory is
    moved there instead where a rename can (the same filesystem); where it cannot (/dev/shm is a
    tmpfs of its own), into the holding folder named `holding` in that shared dir (`_holding_dir`,
    wiped later: `Worker.wipe`): out of sight at once, however many entries it holds. Without
    `holding` (the uid is released: its worker is gone), the holding folders of the uid's workers
    are removed as well, one a killed worker left among them. Called once every process of the uid
    is gone: nothing can swap an entry meanwhile (the dirs are sticky: only an entry's owner or root
    may rename it)."""
    uids = {uid} if isinstance(uid, int) else set(uid)
    for top in dirs:
        try:
            entries = list(os.scandir(top))
        except OSError:  # not mounted here
            continue
        for entry in entries:
            try:
                if holding is None and _holding_uid(entry.name) in uids and _remove_holding(entry.path):
                    continue
                if entry.stat(follow_symlinks=False).st_uid not in uids:
                    continue
                if not entry.is_dir(follow_symlinks=False):
                    os.unlink(entry.path)
                elif not _set_aside(entry.path, top, aside, holding):
                    _clean_dir(entry.path)
                    os.rmdir(entry.path)
            except FileNotFoundError:
                continue


def _holding_uid(name: str) -> int | None:
    """The job uid in the name of a holding folder (`Worker.holding`: the prefix, the uid, "-", a
    random part); None for any other name."""
    if not name.startswith(HOLDING_PREFIX):
        return None
    number, dash, _ = name[len(HOLDING_PREFIX):].partition("-")
    return int(number) if dash and number.isascii() and number.isdigit() else None


def _set_aside(path: str, top: str, aside: str | None, holding: str | None) -> bool:
    """Whether directory `path`, in shared dir `top`, could be renamed out of sight: into `aside`,
    else into the holding folder `holding` in `top` (see `remove_entries_of`)."""
    if aside is not None and _moved_aside(path, aside):
        return True
    if holding is None:
        return False
    place = _holding_dir(os.path.join(top, holding))
    return place is not None and _moved_aside(path, place)


def _holding_dir(path: str) -> str | None:
    """`path`, a holding folder of this worker in a shared dir, made by root (mode 0700: no job uid
    can enter it, and none can rename or remove it in the sticky dir) unless this worker made it
    already; None where it cannot be made, or the entry there is no real directory of root's with
    that mode (never followed if a symlink). Its name holds a random part (`Worker.holding`), so
    no job can make one beforehand; the check guards against that all the same."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISDIR(info.st_mode) and info.st_uid == 0 == os.geteuid() and stat.S_IMODE(info.st_mode) == 0o700:
        return path
    return None


def _remove_holding(path: str) -> bool:
    """Remove the holding folder `path` (`_holding_dir`) with what it holds, if it is one (a real
    directory of root's: a job's entry of that name, or a symlink, is left to the sweep of its
    uid); whether it was."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    if not (stat.S_ISDIR(info.st_mode) and info.st_uid == 0 == os.geteuid()):
        return False
    _clean_dir(path)
    os.rmdir(path)
    return True


def _moved_aside(path: str, aside: str) -> bool:
    """Whether directory `path` could be renamed into `aside` (under a name of the worker's own)."""
    for number in range(100):
        try:
            os.rename(path, os.path.join(aside, f".rlvr-left-{number}"))
            return True
        except FileExistsError:
            continue
        except OSError as exc:  # another filesystem (EXDEV), or a name taken by a non-empty dir
            if exc.errno != errno.ENOTEMPTY:
                return False
    return False


def _dir_stamps(dirs) -> dict:
    """{dir: its modification time (ns)} for each of `dirs`, taken before a job, or None for one
    that changed within `STAMP_MARGIN_NS` (or cannot be read): see `_changed_dirs`."""
    recent = time.time_ns() - STAMP_MARGIN_NS
    stamps = {}
    for path in dirs:
        try:
            stamp = os.stat(path).st_mtime_ns
        except OSError:
            stamp = None
        stamps[path] = stamp if stamp is not None and stamp < recent else None
    return stamps


def _changed_dirs(stamps: dict) -> tuple:
    """Those dirs of `stamps` (`_dir_stamps`) whose entries may have changed since: made, removed or
    renamed in a dir sets its modification time, which only its owner (root, for /tmp) may set to
    another time than now. So a dir whose time is the same, and was older than the job, got no entry
    meanwhile, and the sweep after a job need not list it: a host's /tmp may hold thousands of
    entries, an lstat each, milliseconds per run."""
    changed = []
    for path, stamp in stamps.items():
        try:
            if stamp is None or os.stat(path).st_mtime_ns != stamp:
                changed.append(path)
        except OSError:
            changed.append(path)
    return tuple(changed)


def _tasks_of(uid: int) -> int:
    """How many processes and threads run with real uid `uid` (what its RLIMIT_NPROC counts), as
    far as /proc shows. Only the processes whose /proc dir is the uid's or root's are read (that of a
    process that is not dumpable, like the worker, is root's)."""
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        path = f"/proc/{name}"
        try:
            if os.stat(path).st_uid not in (uid, 0):
                continue
            with open(f"{path}/status", "rb") as handle:
                status = handle.read()
        except OSError:  # gone meanwhile
            continue
        real, threads = None, 0
        for line in status.splitlines():
            if line.startswith(b"Uid:"):
                real = int(line.split()[1])
            elif line.startswith(b"Threads:"):
                threads = int(line.split()[1])
        if real == uid:
            total += threads
    return total


def _cap_malloc_arenas() -> None:
    """Limit this job process's malloc to `MALLOC_ARENA_MAX` arenas (see there), so that a thread
    costs its stack and no 64 MiB arena reservation. Takes effect since no arena but the main one
    exists yet (the worker starts no threads). A libc without mallopt (not glibc) is left as is."""
    if MALLOPT is not None:
        MALLOPT(M_ARENA_MAX, MALLOC_ARENA_MAX)


def _first_for_the_oom_killer() -> None:
    """Make this job process, and every process it starts, the OOM killer's first choice
    (`oom_score_adj` 1000) when memory runs out: in a container, a run that fills its memory
    otherwise risks having the worker killed instead (reported as an `error`, not the run's
    `memory`), and on the host (bwrap, subprocess) the kernel would otherwise pick the largest
    process, often the trainer itself. Anyone may raise their own score; lowering it below the
    last value a process with CAP_SYS_RESOURCE (in the host's user namespace) set takes that
    capability. So only where the worker has it (root with CAP_SYS_RESOURCE, subprocess backend)
    can a job not undo this; elsewhere a program can make itself dumpable and write the file
    itself. That guards against code that runs out of memory, not against one set on dodging the
    OOM killer. Without a writable /proc, nothing changes.

    The job inherits the worker's non-dumpable flag, which makes its /proc files root's: it is
    dumpable for the write only (no other process of the job exists yet)."""
    _prctl(PR_SET_DUMPABLE, 1)
    try:
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
        try:
            os.write(fd, b"1000")
        finally:
            os.close(fd)
    except OSError:
        pass
    finally:
        _prctl(PR_SET_DUMPABLE, 0)


def _oom_kills(paths: list[str] | None) -> int:
    """How many processes the sandbox's memory cgroup has killed so far: the `oom_kill` count of
    the first readable file of `paths` (cgroup v2 `memory.events`, v1 `memory.oom_control`), or 0.
    The host names the files where the cgroup is the sandbox's own (a container); elsewhere None."""
    for path in paths or ():
        try:
            with open(path) as handle:
                for line in handle:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            continue
    return 0


def _too_many_files(paths: list[str], limit: int) -> str | None:
    """The first of `paths` (tmpfs mounts) holding more than `limit` files and directories, or None.

    bubblewrap cannot give its tmpfs mounts an inode limit (Docker's `nr_inodes`), and empty files
    take no space, so without this count a run could make hundreds of thousands of them in its
    time, each costing kernel memory, and the wipe after it would hold the slot for seconds. The
    mount's own root inode is not counted; a file system that reports no inode counts (mqueue) is
    skipped.
    """
    for path in paths:
        try:
            stats = os.statvfs(path)
        except OSError:
            continue
        if stats.f_files and stats.f_files - stats.f_ffree - 1 > limit:
            return path
    return None


def _wait_readable(fds: list[int], timeout: float, control: int) -> list[int] | None:
    """Those of `fds` that become readable (or reach their end) within `timeout` seconds, as
    `select` would say; None once the host has closed the control pipe, whose read end is
    `control`. That pipe is watched for its hang-up alone (no POLLIN asked: poll reports POLLHUP
    and POLLERR whatever is asked), so nothing is read from it, and a byte the host sent (it sends
    the next job only once this one is answered) wakes nothing: the next handler reads it."""
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    poller.register(control, 0)
    ready = []
    for fd, events in poller.poll(math.ceil(max(timeout, 0.0) * 1000)):
        if fd == control:
            if events & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
                return None
        else:
            ready.append(fd)
    return ready


def _kill_group(pid: int) -> None:
    for target in (-pid, pid):
        try:
            os.kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _children_of(parent: int) -> list[int]:
    children = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            children.append(int(name))
    return children


def _cpu_rlimit(limits: dict) -> int:
    """The job's RLIMIT_CPU, whole seconds. With `cpu_time`, `cpu_seconds` (it rounded up). Without,
    a backstop the wall clock always reaches first: `cpu_seconds` (the timeout, rounded, plus one)
    for each CPU the job may run on. RLIMIT_CPU adds up every thread of a process, so a limit of
    one CPU's worth would end a program whose threads work in parallel before its timeout."""
    if limits.get("cpu_time") is not None:
        return limits["cpu_seconds"]
    try:
        cpus = len(os.sched_getaffinity(0))
    except OSError:
        cpus = os.cpu_count() or 1
    return limits["cpu_seconds"] * max(1, cpus)


#: The bytes of the page a warm Python job's process shares with its handler (`_record_verdict`):
#: the pid that wrote it, then the kind of limit its uncaught exception showed (`VERDICT_KINDS`).
VERDICT_SIZE = 9
VERDICT_KINDS = {b"M": "memory", b"F": "file_size", b"P": "processes"}
#: The errno of an OSError that is a limit reached: RLIMIT_AS (an mmap or fork refused), RLIMIT_FSIZE.
LIMIT_ERRNOS = {errno.ENOMEM: b"M", errno.EFBIG: b"F"}
#: The arguments of the RuntimeError a refused thread start raises (`_thread.start_new_thread`).
THREAD_REFUSED_ARGS = ("can't start new thread",)
#: Bytes a thread's start maps besides its stack size (guard page, alignment), with some slack.
THREAD_MAP_SLACK = 1 << 16
#: glibc's default thread stack when it cannot be read (`_thread_stack_bytes`): RLIMIT_STACK's default.
DEFAULT_THREAD_STACK = 8 << 20
#: The most exceptions `_limit_shown` looks at (chains and groups may be long, or loop).
EXCEPTIONS_LOOKED_AT = 256
#: Exception groups (Python 3.11 on; none before).
EXCEPTION_GROUPS = getattr(builtins, "BaseExceptionGroup", ())
#: What a failed command's stderr says of a limit: the one sign of a program the worker only execs.
MEMORY_TEXTS = ("MemoryError", "Cannot allocate memory", "std::bad_alloc")
#: What a failed command's stderr says of the file-size limit: Python's EFBIG, and a shell's report of
#: a command SIGXFSZ killed (`head -c 100M /dev/zero > f` in bash or sh: the shell then exits 153).
FILE_SIZE_TEXTS = ("File too large", "File size limit exceeded")
#: How a status `_overrun` inferred says where it came from, at the end of its message.
OVERRUN_SOURCES = {"exception": "", "stderr": " (inferred from the text of its stderr)"}


class Evidence:
    """What the sandbox itself saw of a run's end (`_overrun`): whether the worker ran it as warm
    Python (and so saw the exception that ended it), and the limit that exception showed
    ("memory", "file_size" or None: `_record_verdict`)."""

    __slots__ = ("warm", "verdict")

    def __init__(self, warm: bool, verdict: str | None) -> None:
        self.warm, self.verdict = warm, verdict


def _record_verdict(verdict: mmap.mmap | None, exc: BaseException) -> None:
    """In a warm Python job's process, as the uncaught exception `exc` ends the program: record in
    `verdict`, a page shared with the handler (MAP_SHARED, mapped before the fork: no fd the
    program sees), the limit `exc` shows (`_limit_shown`), with this process's pid, so that a process
    the program forked, whose uncaught exception ends here too, is not taken for the job's own."""
    if verdict is None:
        return
    try:
        kind = _limit_shown(exc)
    except MemoryError:  # too little memory left even to look: itself the sign of an allocation refused
        kind = b"M" if isinstance(exc, MemoryError) else None
    except BaseException:  # noqa: BLE001 - (an exception class of the program's misbehaving): no verdict
        return
    if kind:
        verdict[:VERDICT_SIZE] = os.getpid().to_bytes(8, "little") + kind


def _limit_kind(exc: BaseException) -> bytes | None:
    """The kind (`VERDICT_KINDS`) of limit the type of `exc` alone names: a MemoryError, an OSError
    with errno ENOMEM (memory) or EFBIG (file size), a refused thread start (`_thread_refusal_kind`);
    None for any other."""
    if isinstance(exc, MemoryError):
        return b"M"
    if isinstance(exc, OSError):
        return LIMIT_ERRNOS.get(exc.errno)
    if isinstance(exc, RuntimeError) and exc.args == THREAD_REFUSED_ARGS:
        return _thread_refusal_kind()
    return None


def _thread_refusal_kind() -> bytes:
    """Which limit refused a thread's start in this process ("can't start new thread": Python
    tells no errno, and glibc's EAGAIN stands for both): memory (b"M") when the stack of one more
    thread could not fit under RLIMIT_AS, else the process limit (b"P": RLIMIT_NPROC, or a
    container's pids cgroup). The address space compared is the present one (VmSize) while other
    threads still run, and the peak (VmPeak) once they are gone: a ThreadPoolExecutor joins its
    threads as the error leaves its `with`, but a peak from long before (a large buffer freed)
    must not make a thread bomb's refusal a memory one."""
    try:
        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
        if limit == resource.RLIM_INFINITY:
            return b"P"
        threads, size, peak = _address_space()
        used = size if threads > 1 else peak
        if used + _thread_stack_bytes() + THREAD_MAP_SLACK > limit:
            return b"M"
    except MemoryError:  # too little memory left even to look
        return b"M"
    except (OSError, ValueError):
        pass
    return b"P"


def _address_space() -> tuple[int, int, int]:
    """This process's thread count and its present and peak address space in bytes (Threads,
    VmSize, VmPeak of /proc/self/status), each 0 where /proc does not tell."""
    fields = {b"Threads:": 0, b"VmSize:": 0, b"VmPeak:": 0}
    try:
        with open("/proc/self/status", "rb") as handle:
            for line in handle:
                name = line.split(None, 1)[0] if line.strip() else b""
                if name in fields:
                    fields[name] = int(line.split()[1])
    except OSError:
        pass
    return fields[b"Threads:"], fields[b"VmSize:"] * 1024, fields[b"VmPeak:"] * 1024


def _thread_stack_bytes() -> int:
    """The stack a new thread of this process maps: the size set with threading.stack_size, else
    glibc's default (pthread_getattr_default_np), else `DEFAULT_THREAD_STACK`."""
    import _thread  # (loaded in every interpreter)

    size = _thread.stack_size()
    if size:
        return size
    attr, found = ctypes.create_string_buffer(256), ctypes.c_size_t(0)  # (pthread_attr_t: 56 bytes on 64-bit)
    try:
        if LIBC.pthread_getattr_default_np(attr) != 0:
            return DEFAULT_THREAD_STACK
        try:
            if LIBC.pthread_attr_getstacksize(attr, ctypes.byref(found)) == 0 and found.value:
                return found.value
        finally:
            LIBC.pthread_attr_destroy(attr)
    except AttributeError:  # not glibc
        pass
    return DEFAULT_THREAD_STACK


def _limit_shown(exc: BaseException | None) -> bytes | None:
    """The kind (`_limit_kind`) of limit the exception `exc` that ended a program shows: its own, or
    that of an exception in its `__cause__`/`__context__` chain (raised while handling one), or,
    recursively, inside an exception group's `.exceptions` (an asyncio TaskGroup's), nearest first.
    At most `EXCEPTIONS_LOOKED_AT` exceptions, each once (a chain may loop)."""
    pending, seen = [exc], set()  # (breadth first: `pending` grows behind the one looked at)
    for exc in pending:
        if len(seen) >= EXCEPTIONS_LOOKED_AT:
            break
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        kind = _limit_kind(exc)
        if kind:
            return kind
        pending += (exc.__cause__, exc.__context__)
        if isinstance(exc, EXCEPTION_GROUPS):
            pending += exc.exceptions[:EXCEPTIONS_LOOKED_AT]
    return None


def _read_verdict(verdict: mmap.mmap | None, pid: int) -> str | None:
    """The limit the job's process `pid` recorded in `verdict` (`_record_verdict`), or None."""
    if verdict is None:
        return None
    data = verdict[:VERDICT_SIZE]
    return VERDICT_KINDS.get(data[8:]) if int.from_bytes(data[:8], "little") == pid else None


def _overrun(tail: str, evidence: Evidence) -> tuple[str, str] | None:
    """(kind, source) of the limit a failed run reached, kind "memory" or "file_size", source what
    shows it: "exception" (the type of the uncaught exception of a warm Python program:
    `_limit_shown`) or "stderr" (the text `tail` of its stderr, for a command the worker only
    execs, whose end it does not see: a command such as bash/sh, or a python3 or a C++ program it
    starts, `std::bad_alloc`); None if nothing shows one. A warm Python program's stderr text
    proves nothing: it prints what it likes."""
    if evidence.verdict is not None:
        return evidence.verdict, "exception"
    if evidence.warm:
        return None
    if any(text in tail for text in FILE_SIZE_TEXTS):
        return "file_size", "stderr"
    if any(text in tail for text in MEMORY_TEXTS):
        return "memory", "stderr"
    return None


def _blame_oom_kills(result: dict, killed: int) -> None:
    """Make `result` "memory" when the OOM killer of the sandbox's own memory cgroup (a container's:
    the worker is told its `oom_events`) ended `killed` > 0 processes during the run: they were the
    run's (a killed worker or handler leaves no result), and a run that lost one did not run as
    written, whatever its program then did (its exit status, its output) or how it ended."""
    if killed <= 0:
        return
    own = ", the program's own process among them" if result["exit_code"] == -signal.SIGKILL else ""
    result.update(status="memory", message=(
        f"memory limit exceeded: the OOM killer of the sandbox's memory cgroup ended {killed} of the run's "
        f"process{'es' if killed > 1 else ''}{own} (its processes, its files in the tmpfs mounts and the worker "
        "share that limit)"))
    result["details"]["oom_kills"] = killed


def _classify(exit_code: int, stderr: str, cpu_used: float, limits: dict, evidence: Evidence,
              details: dict) -> tuple[str, str]:
    """(status, message) of a run that ended by itself with `exit_code`, from what the sandbox saw
    of it: the signal that ended it, the CPU time it used, and for a failed run the `evidence` of a
    limit it reached (`_overrun`). A status inferred from the `stderr` text alone (possible only for
    a program the worker does not run itself) is marked in `details` ("inferred_from": "stderr")."""
    cpu_limit = limits.get("cpu_time")  # (None: the wall-clock timeout decides, RLIMIT_CPU is past it)
    cpu_rlimit = _cpu_rlimit(limits)
    if exit_code == -signal.SIGXCPU or (exit_code == -signal.SIGKILL and cpu_used >= cpu_rlimit - 0.5):
        if cpu_limit is None:  # (only a job that ran on more CPUs than it was started with gets here)
            return "timeout", (f"CPU-time backstop of {cpu_rlimit}s exceeded (no cpu_time was set: the "
                               f"{limits['timeout']:g}s timeout in whole seconds plus one, {limits['cpu_seconds']}s, "
                               f"for each of the {cpu_rlimit // limits['cpu_seconds']} CPUs the run was started on)")
        return "timeout", f"CPU-time limit of {cpu_limit:g}s exceeded"
    if cpu_limit is not None and cpu_used > cpu_limit:  # RLIMIT_CPU counts whole seconds only
        return "timeout", f"CPU-time limit of {cpu_limit:g}s exceeded ({cpu_used:.2f}s used)"
    if exit_code == -signal.SIGXFSZ:
        return "output_limit", f"file-size limit of {limits['max_file_mb']} MiB exceeded"
    overrun = _overrun(stderr[-2000:], evidence) if exit_code != 0 else None
    if overrun is not None:
        kind, source = overrun
        if source == "stderr":
            details["inferred_from"] = "stderr"
        if kind == "file_size":
            return "output_limit", f"file-size limit of {limits['max_file_mb']} MiB exceeded{OVERRUN_SOURCES[source]}"
        if kind == "processes":  # (the program's "error", as a refused fork is: its count of tasks)
            return "error", ("a thread could not start (can't start new thread), most likely at the process limit: "
                             f"max_processes={limits['max_processes']} counts the run's processes and threads")
        return "memory", f"memory limit of {limits['memory_mb']} MiB exceeded{OVERRUN_SOURCES[source]}"
    if exit_code == 0:
        return "ok", ""
    if exit_code < 0:
        return "error", f"killed by {_signal_name(-exit_code)}"
    return "error", f"exited with code {exit_code}"


def _signal_name(number: int) -> str:
    """"signal SIGSEGV", or "signal 35" for the real-time signals Python has no names for (a
    program chooses its signal: naming it must never fail, or the run would read as our failure)."""
    try:
        return f"signal {signal.Signals(number).name}"
    except ValueError:
        return f"signal {number}"


def main(argv: list[str]) -> None:
    mode, workdir, tmpdir = argv[1], argv[2], argv[3]
    scratch = [path for path in argv[4].split(",") if path != "-"] if len(argv) > 4 else []
    job_uid = int(argv[5]) if len(argv) > 5 and argv[5] != "-" else None
    oom_events = argv[6].split(",") if len(argv) > 6 else None
    if mode not in ("pidns", "host"):
        raise SystemExit(f"unknown worker mode {mode!r}")
    if mode == "pidns" and os.getpid() != 1:
        raise SystemExit("pidns mode needs the worker to be pid 1 of its own pid namespace")
    Worker(mode, workdir, tmpdir, scratch, job_uid, oom_events).serve()


if __name__ == "__main__":
    main(sys.argv)
