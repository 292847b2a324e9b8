"""The bubblewrap backend: Linux namespaces around a warm worker.

Each worker runs as pid 1 of its own pid namespace, with no network, its own IPC and UTS
namespaces (and so its own POSIX message queues), a read-only root with read-only system
directories, and private size-limited tmpfs mounts for the work dir, /tmp and /dev/shm. It dies with its parent. Started as root, the whole sandbox runs as `nobody`.
A seccomp filter refuses the kernel keyring's system calls, since the user keyring is not made
private by the namespaces: a run could leave a key there for the next run on the same worker; it
also refuses memfd_create, SysV shared memory, semaphore sets and message queues (memory no limit
covers), the calls that read or drop a file's pages in the host's page cache (a channel between
runs through the shared system files: `REFUSED_SYSCALLS`), unshare and a clone into a new user
namespace (nested namespaces, where a run holds every capability), and raising a socket's or a
pipe's buffer size (kernel memory outside memory_mb; the default-sized buffers remain, bounded by
the open-file limit and max_processes, which only a memory cgroup, Docker's, would cover). The
number of files in the tmpfs mounts, which bubblewrap cannot limit (it takes no `nr_inodes`), is
counted by the worker while the run goes on (`max_files`). It also refuses inotify, fanotify and
dnotify (fcntl F_NOTIFY), whose watches on the read-only system files every run shares saw the
host's and concurrent runs' opens of them. File locks work normally (a program's own processes
need them: SQLite), so a lock on a shared system file remains a channel between concurrent runs.
The filter knows the calls of x86-64 (with x32), i386 and aarch64: a call of another architecture
(a 32-bit ARM program on an aarch64 kernel) kills its process, and on a host of another
architecture the backend is unavailable (`HOST_ARCHITECTURES`).
The per-run limits (time, CPU, memory, processes, file size, output) are applied by the worker
to the child it forks for each run. The tmpfs mounts' size (4x `max_file_mb`) is fixed when a
worker starts, so a run may lower `max_file_mb` but not raise it above the sandbox's (refused), and
a run's stdin or files larger than a mount are refused (`Sandbox._job_space`).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import platform
import pwd
import shutil
import struct
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

from rlvr.sandbox.base import Job, Sandbox, SandboxUnavailable
from rlvr.sandbox.limits import Limits
from rlvr.sandbox.pool import WORKER_SOURCE, ProcessChannel, WarmPool, become_nobody, job_message
from rlvr.sandbox.python_probe import python_probe, python_probe_failure
from rlvr.sandbox.result import ExecResult

log = logging.getLogger("rlvr.sandbox")

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives",
             "/etc/localtime", "/etc/passwd", "/etc/group")
FIX = ("install bubblewrap (`apt-get install bubblewrap`) and allow unprivileged user namespaces "
       "(`sysctl kernel.unprivileged_userns_clone=1`; on Ubuntu 24.04+ also "
       "`sysctl kernel.apparmor_restrict_unprivileged_userns=0`)")


#: System calls a run never needs and the sandbox refuses with EPERM, by audit architecture:
#: - the kernel keyring's (add_key, request_key, keyctl), as Docker's default seccomp profile does;
#: - memfd_create, whose anonymous files are memory outside every limit (RLIMIT_AS counts only what
#:   is mapped, and no tmpfs size covers them), and shmget (i386: also the `ipc` multiplexer), whose
#:   SysV segments are the same: detached, they count against no process (2 GiB held under a 64 MiB
#:   limit), and no cgroup caps them here, as Docker's does;
#: - semget and msgget, for the same reason: a SysV semaphore set or message queue is kernel memory
#:   that belongs to no process (150 sets of 32000 semaphores held ~290 MiB under memory_mb=64).
#:   Python's multiprocessing locks and semaphores are POSIX ones (sem_open, in /dev/shm): they work;
#: - unshare, which would open nested namespaces;
#: - what tells or sets which pages of a file are in the host's page cache: fadvise64 (dropping
#:   pages), mincore, cachestat, io_uring_setup (its reads are out of a filter's sight) and x32's
#:   preadv2 (elsewhere only a preadv2 with RWF_NOWAIT is refused: `PREADV2_SYSCALLS`). The system
#:   files are shared with every other run, so with these a run could leave bits there for a later
#:   one to read back (32 bits were passed between two fresh sandboxes). Timing a read still tells a cached page from one on
#:   disk: that slower channel is the price of sharing a kernel (Docker's too);
#: - i386's `socketcall` multiplexer, whose arguments are in memory a filter cannot read: it would
#:   bypass the check of setsockopt (`SETSOCKOPT_SYSCALLS`). 32-bit programs' sockets need the
#:   direct calls (Linux 4.3+: musl uses them; a glibc built for older kernels uses socketcall).
REFUSED_SYSCALLS = {
    0xC000003E: (248, 249, 250, 319, 29, 64, 68, 272, 221, 27, 451, 425,  # x86-64, and the same calls of x32
                 *(0x40000000 + n for n in (248, 249, 250, 319, 29, 64, 68, 272, 221, 27, 451, 546, 425))),
    0x40000003: (286, 287, 288, 356, 395, 393, 399, 117, 310, 250, 272, 218, 451, 425, 102),  # i386: 32-bit programs on x86-64
    0xC00000B7: (217, 218, 219, 279, 194, 190, 186, 97, 223, 232, 451, 425),  # aarch64
}
#: preadv2's numbers, by architecture: refused (EPERM) when its flags (the sixth argument) hold
#: RWF_NOWAIT, a read that fails rather than wait for the disk, so that it tells whether a page is
#: cached; other preadv2 calls are plain reads (Python's `os.preadv` makes them).
PREADV2_SYSCALLS = {0xC000003E: (327,), 0x40000003: (378,), 0xC00000B7: (286,)}
RWF_NOWAIT = 0x8
#: clone's numbers, by architecture: refused (EPERM) when its flags ask for a new user namespace,
#: in which a run would hold every capability (mounting tmpfs outside the size limits, and the
#: kernel code most privilege escalations go through). Docker refuses the same.
CLONE_SYSCALLS = {0xC000003E: (56, 0x40000000 + 56), 0x40000003: (120,), 0xC00000B7: (220,)}
#: clone3 takes its flags in memory a filter cannot read: it fails with ENOSYS, and the C library
#: falls back to clone (as under Docker's profile).
CLONE3_SYSCALLS = {0xC000003E: (435, 0x40000000 + 435), 0x40000003: (435,), 0xC00000B7: (435,)}
#: inotify's and fanotify's calls (inotify_init, inotify_init1, inotify_add_watch, fanotify_init,
#: fanotify_mark), which fail with ENOSYS, as in a kernel built without them (tools such as `tail -f`
#: then fall back to polling): a watch on a shared system file (/etc/passwd, /usr/bin) sees every
#: open of it by the host and by concurrent runs, a channel between runs and a view of the host.
NOTIFY_SYSCALLS = {
    0xC000003E: (253, 294, 254, 300, 301, *(0x40000000 + n for n in (253, 294, 254, 300, 301))),
    0x40000003: (291, 332, 292, 338, 339),
    0xC00000B7: (26, 27, 262, 263),
}
CLONE_NEWUSER = 0x10000000
#: prlimit64's numbers, by architecture: refused (EPERM) when it sets (a new limit given: the third
#: argument) the limits of pid 1, the worker. Jobs run as the worker's user, so a job could set its
#: worker's hard CPU limit to 0, which the kernel enforces with a SIGKILL at its next tick: a death
#: the pool would take for a kill from outside, an unscored `sandbox_error`. Any other process's
#: limits are set as usual (a program's own, by pid too, its children's); reading pid 1's works. A
#: job that lowers its handler's limits is caught after the run (`Worker.handle_one_job`).
PRLIMIT_SYSCALLS = {0xC000003E: (302, 0x40000000 + 302), 0x40000003: (340,), 0xC00000B7: (261,)}
#: setsockopt's numbers, by architecture: refused (EPERM) when it sets a socket's buffer sizes
#: (level SOL_SOCKET, `SOCKET_BUFFER_OPTIONS`). Queued data is kernel memory that no limit of
#: bwrap's covers: with buffers raised to the maximum a run held 1.8 GB under memory_mb=64. Socket
#: buffers keep the kernel's default sizes; every other option works.
SETSOCKOPT_SYSCALLS = {0xC000003E: (54, 0x40000000 + 54, 0x40000000 + 541), 0x40000003: (366,), 0xC00000B7: (208,)}
SOL_SOCKET = 1
SOCKET_BUFFER_OPTIONS = (7, 8, 32, 33)  # SO_SNDBUF, SO_RCVBUF, SO_SNDBUFFORCE, SO_RCVBUFFORCE
#: fcntl's numbers (and i386's fcntl64), by architecture: refused (EPERM) for F_SETPIPE_SZ, which
#: grows a pipe's buffer (the same kernel memory as a socket's); pipes keep their default size. And
#: refused (EINVAL, what a kernel built without dnotify answers) for F_NOTIFY, dnotify's watch on a
#: folder: on the shared /usr/bin it saw concurrent runs' opens of its files, as inotify did.
#: File locks (F_SETLK, F_OFD_SETLK, ...) are left alone: a program's processes rely on them.
FCNTL_SYSCALLS = {0xC000003E: (72, 0x40000000 + 72), 0x40000003: (55, 221), 0xC00000B7: (25,)}
F_SETPIPE_SZ = 1031
F_NOTIFY = 1026
#: The audit architecture of each host machine (`platform.machine()`) whose calls the filter knows.
#: On another host (ppc64le, s390x, riscv64, ...) the bwrap backend is unavailable (`BwrapSandbox.check`):
#: the filter would check none of its calls.
HOST_ARCHITECTURES = {"x86_64": 0xC000003E, "amd64": 0xC000003E, "aarch64": 0xC00000B7, "arm64": 0xC00000B7,
                      **{name: 0x40000003 for name in ("i386", "i486", "i586", "i686")}}
SECCOMP_RET_KILL_PROCESS = 0x80000000
#: bubblewrap exits with 128 + N when the worker it runs died of signal N (`ProcessChannel.outside_signal`).
BWRAP_SIGNAL_STATUS = 128
#: Who can kill a worker with a signal that is no fault of its own (`WarmPool.execute`): the
#: worker is pid 1 of its own pid namespace, which only SIGKILL and SIGSTOP from an ancestor
#: namespace reach, never a signal of a job's, and no job can set its limits (`PRLIMIT_SYSCALLS`)
#: to have the kernel send one.
OUTSIDE_KILL = ("not sent by rlvr: an operator or the host's OOM killer; a program cannot signal its worker, "
                "pid 1 of its own pid namespace, nor set its limits")


@lru_cache(maxsize=None)
def seccomp_filter() -> bytes:
    """The classic-BPF seccomp program bubblewrap loads (`--seccomp FD`): `REFUSED_SYSCALLS`, a
    clone into a new user namespace, a preadv2 with RWF_NOWAIT, a setsockopt of a socket's buffer
    sizes, an fcntl F_SETPIPE_SZ and a prlimit64 setting pid 1's (the worker's) limits fail with EPERM, clone3, inotify and fanotify with ENOSYS, an
    fcntl F_NOTIFY (dnotify) with EINVAL, everything else is allowed. A call of an architecture
    not listed (a 32-bit ARM program on an aarch64 kernel) kills the process, as libseccomp does:
    its numbers are not those checked here, so allowing it would skip every refusal above.

    For each architecture: if the call is of that architecture, compare its number with the refused
    ones, then clone3's, then those whose arguments are checked (the low half of each, the int the
    kernel takes): clone's flags (the first), preadv2's (the sixth), setsockopt's level and option
    (the second and third), fcntl's command (the second).
    Jumps are written to labels and resolved at the end (a BPF jump skips a number of instructions)."""
    load, jump_if_equal, jump_if_set, ret = 0x20, 0x15, 0x45, 0x06  # LD|W|ABS, JMP|JEQ|K, JMP|JSET|K, RET|K
    allow = 0x7FFF0000  # SECCOMP_RET_ALLOW
    refuse, no_such_call = 0x00050000 | errno.EPERM, 0x00050000 | errno.ENOSYS  # SECCOMP_RET_ERRNO
    invalid = 0x00050000 | errno.EINVAL
    program: list[list] = [[load, 0, 0, 4]]  # seccomp_data.arch
    labels: dict[str, int] = {}
    for arch, numbers in REFUSED_SYSCALLS.items():
        program.append([jump_if_equal, 0, f"next {arch}", arch])  # another architecture: its checks are skipped
        program.append([load, 0, 0, 0])  # seccomp_data.nr
        program += [[jump_if_equal, "refuse", 0, n] for n in numbers]
        program += [[jump_if_equal, "no such call", 0, n] for n in CLONE3_SYSCALLS[arch] + NOTIFY_SYSCALLS[arch]]
        program += [[jump_if_equal, f"clone {arch}", 0, n] for n in CLONE_SYSCALLS[arch]]
        program += [[jump_if_equal, f"preadv2 {arch}", 0, n] for n in PREADV2_SYSCALLS[arch]]
        program += [[jump_if_equal, f"setsockopt {arch}", 0, n] for n in SETSOCKOPT_SYSCALLS[arch]]
        program += [[jump_if_equal, f"fcntl {arch}", 0, n] for n in FCNTL_SYSCALLS[arch]]
        program += [[jump_if_equal, f"prlimit {arch}", 0, n] for n in PRLIMIT_SYSCALLS[arch]]
        program.append([ret, 0, 0, allow])
        labels[f"clone {arch}"] = len(program)
        program.append([load, 0, 0, 16])  # seccomp_data.args[0], its low 32 bits (little-endian)
        program.append([jump_if_set, "refuse", "allow", CLONE_NEWUSER])
        labels[f"preadv2 {arch}"] = len(program)
        program.append([load, 0, 0, 16 + 5 * 8])  # seccomp_data.args[5], its low 32 bits
        program.append([jump_if_set, "refuse", "allow", RWF_NOWAIT])
        labels[f"setsockopt {arch}"] = len(program)
        program.append([load, 0, 0, 16 + 1 * 8])  # seccomp_data.args[1], the level
        program.append([jump_if_equal, 0, "allow", SOL_SOCKET])
        program.append([load, 0, 0, 16 + 2 * 8])  # seccomp_data.args[2], the option
        program += [[jump_if_equal, "refuse", 0, option] for option in SOCKET_BUFFER_OPTIONS]
        program.append([ret, 0, 0, allow])
        labels[f"fcntl {arch}"] = len(program)
        program.append([load, 0, 0, 16 + 1 * 8])  # seccomp_data.args[1], the command
        program.append([jump_if_equal, "refuse", 0, F_SETPIPE_SZ])
        program.append([jump_if_equal, "invalid", "allow", F_NOTIFY])
        labels[f"prlimit {arch}"] = len(program)
        program.append([load, 0, 0, 16])  # seccomp_data.args[0], the pid (an int: its low 32 bits)
        program.append([jump_if_equal, 0, "allow", 1])  # not the worker's limits
        program.append([load, 0, 0, 16 + 2 * 8])  # seccomp_data.args[2], the new limit's pointer: low half
        program.append([jump_if_equal, 0, "refuse", 0])
        program.append([load, 0, 0, 16 + 2 * 8 + 4])  # and high half: both 0 (NULL) only reads
        program.append([jump_if_equal, "allow", "refuse", 0])
        labels[f"next {arch}"] = len(program)
    program.append([ret, 0, 0, SECCOMP_RET_KILL_PROCESS])  # an architecture not listed
    labels["allow"] = len(program)
    program.append([ret, 0, 0, allow])
    labels["refuse"] = len(program)
    program.append([ret, 0, 0, refuse])
    labels["no such call"] = len(program)
    program.append([ret, 0, 0, no_such_call])
    labels["invalid"] = len(program)
    program.append([ret, 0, 0, invalid])
    for i, instruction in enumerate(program):
        for j in (1, 2):
            if isinstance(instruction[j], str):
                instruction[j] = labels[instruction[j]] - (i + 1)
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in program)


def _seccomp_fd() -> int:
    """A fresh file descriptor holding `seccomp_filter()`, for one bubblewrap start (each start
    reads it from the beginning: a shared descriptor's offset would move under concurrent starts)."""
    fd = os.memfd_create("rlvr-seccomp")
    os.write(fd, seccomp_filter())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def default_python() -> str:
    """The sandbox's interpreter: the system python3 (readable by anyone), else this one."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(candidate, os.X_OK):
            return candidate
    return sys.executable


#: The folders each sandbox gets its own (empty, or the kernel's) copy of: nothing of the host's
#: under them is visible inside.
SANDBOX_MOUNTS = ("/work", "/tmp", "/dev", "/proc")


def install_folders(python: str) -> list[str]:
    """The folders outside the system dirs that hold `python`'s installation: the one its binary
    resolves to and, for a venv's interpreter, the venv. Only `check`'s first probe, which learns
    what the interpreter needs (`interpreter_folders`), sees them; no run does."""
    folders = [str(Path(os.path.realpath(python)).parents[1])]
    venv = Path(os.path.abspath(python)).parents[1]
    if (venv / "pyvenv.cfg").is_file():
        folders.append(str(venv))
    return [f for f in dict.fromkeys(folders) if not _in_system_dirs(f)]


def _in_system_dirs(path: str) -> bool:
    return any(path == d or path.startswith(d + "/") for d in SYSTEM_DIRS)


#: What `interpreter_folders` asks the interpreter (run with -I, as the worker is): the entries of
#: its sys.path that lie in its installation or venv (the standard library, lib-dynload and
#: site-packages; not folders a .pth file adds from elsewhere), a venv's pyvenv.cfg, and the
#: shared libpython its binary loads, if any; on a third line, the folders left out, outside those
#: prefixes: sys.path entries, and those the site dirs' .pth files name (Python adds them only where
#: they exist, and the probe does not see them: `BwrapSandbox` warns of those that exist).
_PATHS_PROBE = python_probe("""import json, os, site, sysconfig
prefixes = {p.rstrip("/") + "/" for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
inside = lambda p: any((os.path.abspath(p) + "/").startswith(q) for q in prefixes)
existing = [p for p in sys.path if p and os.path.exists(p)]
paths = [p for p in existing if inside(p)]
dropped = [p for p in existing if p not in paths]
for folder in (d for d in site.getsitepackages() if os.path.isdir(d)):
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".pth") or name.startswith("."):
            continue
        try:
            with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as handle:
                lines = handle.read().splitlines()
        except OSError:
            continue
        for line in lines:  # (as site.addpackage reads them: comments and import lines are no folders)
            if line.strip() and not line.startswith(("#", "import ", "import\t")):
                named = os.path.join(folder, line.rstrip())
                if not inside(named):
                    dropped.append(named)
if sys.prefix != sys.base_prefix:
    paths.append(os.path.join(sys.prefix, "pyvenv.cfg"))
if sysconfig.get_config_var("Py_ENABLE_SHARED"):
    libdir = sysconfig.get_config_var("LIBDIR") or ""
    for name in (sysconfig.get_config_var("INSTSONAME"), sysconfig.get_config_var("LDLIBRARY")):
        if name and os.path.exists(os.path.join(libdir, name)):
            paths.append(os.path.join(libdir, name))
print(json.dumps(paths))
print(json.dumps(dropped))
""")
#: What `BwrapSandbox.check` runs in the sandbox once the interpreter's version is known: the
#: worker's own source (given as the argument after it), run as a module of another name than
#: `__main__`, so that it does all the worker does before serving (imports its modules, the C
#: extensions among them: ctypes, select, resource; loads the C library) and serves nothing.
_WORKER_LOAD_PROBE = python_probe("exec(compile(sys.argv[1], '<rlvr worker>', 'exec'), {'__name__': 'rlvr_worker_check'})")


class _ProbeFailed(Exception):
    """`_probe_paths` could not learn what the interpreter needs: (stderr, return code)."""


@lru_cache(maxsize=None)
def _probe_paths(python: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`_PATHS_PROBE`'s answer, run in a sandbox that sees `install_folders(python)` (our own
    probe, never a job, sees them): (what the interpreter needs, the sys.path entries left out).
    Once per interpreter path."""
    fd = _seccomp_fd()
    argv = _argv(python, [arg for f in install_folders(python) for arg in ("--ro-bind", f, f)], 1 << 20, fd)
    probe = argv[: argv.index("--") + 1] + [python, "-I", "-c", _PATHS_PROBE]
    try:
        proc = subprocess.run(probe, capture_output=True, timeout=20, pass_fds=(fd,),
                              preexec_fn=become_nobody if os.geteuid() == 0 else None)
    except subprocess.TimeoutExpired:
        raise _ProbeFailed(b"bwrap did not start within 20s", -1) from None
    finally:
        os.close(fd)
    problem = python_probe_failure(proc.returncode, proc.stdout, proc.stderr)
    if problem:
        raise _ProbeFailed(problem.encode(), proc.returncode or 1)
    try:
        lines = proc.stdout.decode(errors="replace").splitlines()
        paths, dropped = json.loads(lines[1]), json.loads(lines[2]) if len(lines) > 2 else []
    except (IndexError, ValueError):
        raise _ProbeFailed(b"it did not say where its standard library is", 1) from None
    return tuple(os.path.normpath(p) for p in paths), tuple(dict.fromkeys(os.path.normpath(p) for p in dropped))


@lru_cache(maxsize=None)
def _homes() -> frozenset[str]:
    """Users' home directories (the password database's, and $HOME); read once (each worker's
    start asks, and a directory service's full list may be slow)."""
    homes = {os.path.expanduser("~")}
    try:
        homes.update(entry.pw_dir for entry in pwd.getpwall())
    except OSError:
        pass
    return frozenset(os.path.normpath(h) for h in homes if h and h.startswith("/"))


def _holds_a_home(path: str, homes: frozenset[str]) -> bool:
    """Whether binding `path` would show a home directory whole: it is one, or an ancestor of one."""
    return any(h == path or h.startswith(path.rstrip("/") + "/") for h in homes)


def interpreter_folders(python: str) -> list[str]:
    """The files and folders outside the system dirs that `python` needs inside the sandbox,
    read-only: its standard library, lib-dynload, site-packages, a venv's pyvenv.cfg and its shared
    libpython, as the interpreter itself reports them (`_probe_paths`), and its binary. Never the
    whole installation or venv folder, which may be a home directory or a project folder with
    secrets beside the interpreter; never a home directory or an ancestor of one. Only the binary
    when the interpreter cannot be asked (`BwrapSandbox.check` then refuses it)."""
    try:
        paths = list(_probe_paths(python)[0])
    except _ProbeFailed:
        paths = []
    paths.append(os.path.realpath(python))
    homes = _homes()
    return [p for p in dict.fromkeys(paths) if not _in_system_dirs(p) and not _holds_a_home(p, homes)]


def _binary_links(python: str) -> list[str]:
    """bwrap arguments that make `python`'s path, and each symlink it goes through to its binary
    (a venv's bin/python -> python3 -> /usr/bin/python3.11), the same links inside; the binary
    itself is bound by `interpreter_folders`."""
    args: list[str] = []
    path = os.path.abspath(python)
    for _ in range(40):
        if not os.path.islink(path):
            break
        target = os.readlink(path)
        if not _in_system_dirs(path):
            args += ["--symlink", target, path]
        path = os.path.normpath(os.path.join(os.path.dirname(path), target))
    real = os.path.realpath(python)
    if path != real and not _in_system_dirs(path):  # (a folder on the way is a link: point at the binary)
        args += ["--symlink", real, path]
    return args


def bwrap_argv(python: str, tmpfs_bytes: int, seccomp_fd: int | None = None) -> list[str]:
    """The bubblewrap command line that starts one isolated worker (with the seccomp filter read
    from `seccomp_fd`, when given), which sees of `python`'s installation what it needs only."""
    binds = [arg for f in interpreter_folders(python) for arg in ("--ro-bind", f, f)]
    return _argv(python, binds + _binary_links(python), tmpfs_bytes, seccomp_fd)


def _argv(python: str, binds: list[str], tmpfs_bytes: int, seccomp_fd: int | None) -> list[str]:
    """`bwrap_argv` with the interpreter's `binds` (bwrap arguments) given."""
    argv = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--as-pid-1",
            "--hostname", "rlvr-sandbox", "--clearenv",
            "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin", "--setenv", "LANG", "C.UTF-8"]
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    for path in ETC_FILES:
        argv += ["--ro-bind-try", path, path]
    argv += binds
    size = str(tmpfs_bytes)
    argv += ["--proc", "/proc", "--dev", "/dev", "--mqueue", "/dev/mqueue",
             "--size", size, "--tmpfs", "/dev/shm",
             "--size", size, "--tmpfs", "/work",
             "--size", size, "--tmpfs", "/tmp",
             # Everything else read-only: bwrap's root and /dev are tmpfs mounts that a job could
             # otherwise fill or use to leave files for the next run.
             "--remount-ro", "/dev", "--remount-ro", "/",
             "--chdir", "/work",
             *(["--seccomp", str(seccomp_fd)] if seccomp_fd is not None else []), "--",
             python, "-I", "-c", WORKER_SOURCE, "pidns", "/work", "/tmp", "/dev/shm,/dev/mqueue"]
    return argv


def _refusal(python: str, said: str, returncode: int) -> str:
    """Why a probe of `python` in bwrap failed, and the fix: bubblewrap itself could not make the
    sandbox (it says "bwrap: ..."), or it did and the interpreter does not run there (or bubblewrap
    could not mount, as nobody, what the interpreter needs)."""
    if returncode == -1:
        return said
    if said.startswith(("ImportError", "ModuleNotFoundError", "OSError")):  # (what `check` loads failed)
        return (f"the sandbox's python {python!r} cannot load, inside bwrap, the modules the sandbox's worker "
                f"needs ({said}): its C extensions may need libraries from a folder the sandbox does not mount "
                "(a conda environment's lib/): give python= a Python whose extension modules use the system's "
                "libraries (the system python3, or a venv of it)")
    if not said.startswith("bwrap:") or "execvp" in said or any(
            f"path {path}:" in said for path in install_folders(python) + interpreter_folders(python)):
        return (f"the sandbox's python {python!r} does not run inside bwrap ({said or f'exit status {returncode}'}): "
                "give python= a full Python installation (3.9 or later), or a venv of one, that every user can read")
    return f"bwrap cannot create a sandbox here ({said}): {FIX}"


class BwrapSandbox(Sandbox):
    """Runs programs inside bubblewrap namespaces, one warm worker per concurrent run."""

    name = "bwrap"
    isolated = True

    def __init__(self, *, python: str | None = None, **limits) -> None:
        super().__init__(**limits)
        self.python = python or default_python()
        if not os.access(self.python, os.X_OK):
            raise SandboxUnavailable(f"the sandbox's python interpreter {self.python!r} does not exist or "
                                     "is not executable: pass python= an interpreter path")
        available, reason = self.check(self.python)
        if not available:
            raise SandboxUnavailable(reason)
        dropped = [p for p in _probe_paths(self.python)[1] if os.path.exists(p) and not _in_system_dirs(p)]
        if dropped:
            log.warning("bwrap: the sandbox's python %s has folders on its sys.path outside its installation "
                        "(added by .pth files or editable installs): %s; the sandbox does not mount them, so a "
                        "program importing from them fails", self.python, ", ".join(dropped))
        self._job_space = 4 * self.limits.max_file_mb * 1024 * 1024  # each tmpfs mount's size
        self._pool = WarmPool(self.name, self._start_worker)

    def _start_worker(self) -> ProcessChannel:
        fd = _seccomp_fd()
        try:
            return ProcessChannel(bwrap_argv(self.python, self._job_space, fd), run_as_nobody=os.geteuid() == 0,
                                  pass_fds=(fd,), signal_status=BWRAP_SIGNAL_STATUS, outside=OUTSIDE_KILL)
        finally:
            os.close(fd)  # bubblewrap has read it

    @staticmethod
    def check(python: str | None = None) -> tuple[bool, str]:
        """(works, explanation): whether bubblewrap can start a sandbox here, and if not why and how to fix."""
        machine = platform.machine()
        if machine not in HOST_ARCHITECTURES:
            return False, (f"the bwrap backend's seccomp filter knows the system calls of x86-64, i386 and "
                           f"aarch64 only, not those of this {machine or 'unknown'} host: without it a run "
                           "could reach what the filter refuses (nested user namespaces, the kernel "
                           "keyring, inotify); use the docker backend here")
        if shutil.which("bwrap") is None:
            return False, ("bwrap was not found on PATH (install bubblewrap, or add its folder to PATH): "
                           f"{FIX}")
        python = python or default_python()
        hidden = [(f, m) for f in install_folders(python) for m in SANDBOX_MOUNTS if f == m or f.startswith(m + "/")]
        if hidden:
            folder, mount = hidden[0]
            return False, (f"the sandbox's python {python!r} needs {folder}, which lies under {mount}, where the "
                           "sandbox mounts its own empty folder: put the Python installation (or its venv) "
                           "elsewhere, e.g. under /opt")
        try:  # what the interpreter needs (its stdlib, site-packages: `interpreter_folders`)
            _probe_paths(python)
        except _ProbeFailed as failed:
            stderr, returncode = failed.args
            return False, _refusal(python, stderr.decode(errors="replace").strip(), returncode)
        fd = _seccomp_fd()
        argv = bwrap_argv(python, 1 << 20, fd)
        # the interpreter itself, as the workers will run it (as nobody under root), seeing only
        # what they see: one that cannot start so, or load what the worker loads (the standard
        # library's C extensions among it: `_WORKER_LOAD_PROBE`), is found here, not as a
        # sandbox_error on every run
        probe = argv[: argv.index("--") + 1] + [python, "-I", "-c", _WORKER_LOAD_PROBE, WORKER_SOURCE]
        try:
            proc = subprocess.run(probe, capture_output=True, timeout=20, pass_fds=(fd,),
                                  preexec_fn=become_nobody if os.geteuid() == 0 else None)
        except subprocess.TimeoutExpired:
            return False, "bwrap did not start within 20s"
        finally:
            os.close(fd)
        problem = python_probe_failure(proc.returncode, proc.stdout, proc.stderr)
        if problem:
            return False, _refusal(python, problem, proc.returncode or 1)
        return True, "bubblewrap works: user, pid, net, ipc and uts namespaces"

    def _check_limits(self, limits: Limits) -> None:
        # the tmpfs mounts' size, 4x max_file_mb, is fixed when bubblewrap starts the worker
        if limits.max_file_mb > self.limits.max_file_mb:
            raise ValueError("the bwrap backend fixes max_file_mb when its workers start (their tmpfs mounts "
                             f"hold {4 * self.limits.max_file_mb} MiB): create the sandbox with the larger "
                             "limit instead of raising it per run")

    def _execute(self, job: Job, limits: Limits) -> ExecResult:
        return self._pool.execute(job_message(job, limits, warm_python=True), limits)

    def close(self) -> None:
        self._pool.close()

