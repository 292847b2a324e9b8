"""The bubblewrap backend: Linux namespaces around a warm worker.

Each worker runs as pid 1 of its own pid namespace, with no network, its own IPC and UTS
namespaces (and so its own POSIX message queues), a read-only root with read-only system
directories, and private size-limited tmpfs mounts for the work dir, /tmp and /dev/shm. It dies with its parent. Started as root, the whole sandbox runs as `nobody`.
A seccomp filter refuses the kernel keyring's system calls, since the user keyring is not made
private by the namespaces: a run could leave a key there for the next run on the same worker.
The per-run limits (time, CPU, memory, processes, file size, output) are applied by the worker
to the child it forks for each run.
"""

from __future__ import annotations

import errno
import os
import shutil
import struct
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

from rlvr.sandbox.base import Job, Sandbox, SandboxUnavailable
from rlvr.sandbox.limits import Limits
from rlvr.sandbox.pool import WORKER_SOURCE, ProcessChannel, WarmPool, become_nobody, job_message
from rlvr.sandbox.result import ExecResult

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives",
             "/etc/localtime", "/etc/passwd", "/etc/group")
FIX = ("install bubblewrap (`apt-get install bubblewrap`) and allow unprivileged user namespaces "
       "(`sysctl kernel.unprivileged_userns_clone=1`; on Ubuntu 24.04+ also "
       "`sysctl kernel.apparmor_restrict_unprivileged_userns=0`)")


#: System calls a run never needs and the sandbox refuses with EPERM, by audit architecture: the
#: kernel keyring's (add_key, request_key, keyctl), as Docker's default seccomp profile does.
REFUSED_SYSCALLS = {
    0xC000003E: (248, 249, 250, 0x40000000 + 248, 0x40000000 + 249, 0x40000000 + 250),  # x86-64 (and x32)
    0x40000003: (286, 287, 288),  # i386: 32-bit programs on x86-64
    0xC00000B7: (217, 218, 219),  # aarch64
}


@lru_cache(maxsize=None)
def seccomp_filter() -> bytes:
    """The classic-BPF seccomp program bubblewrap loads (`--seccomp FD`): `REFUSED_SYSCALLS` fail
    with EPERM, everything else is allowed. For each architecture: if the call is of that
    architecture, compare its number with the refused ones."""
    load, jump_if_equal, ret = 0x20, 0x15, 0x06  # BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_RET|BPF_K
    allow, refuse = 0x7FFF0000, 0x00050000 | errno.EPERM  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO
    program: list[list[int]] = [[load, 0, 0, 4]]  # seccomp_data.arch
    to_refusal = []  # the jumps whose target is the refusal at the end
    for arch, numbers in REFUSED_SYSCALLS.items():
        body = [[load, 0, 0, 0]] + [[jump_if_equal, 0, 0, n] for n in numbers] + [[ret, 0, 0, allow]]
        program.append([jump_if_equal, 0, len(body), arch])  # another architecture: skip its body
        to_refusal += range(len(program) + 1, len(program) + 1 + len(numbers))
        program += body
    program.append([ret, 0, 0, allow])  # an architecture not listed
    program.append([ret, 0, 0, refuse])
    for i in to_refusal:
        program[i][1] = len(program) - 1 - (i + 1)
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


def bwrap_argv(python: str, tmpfs_bytes: int, seccomp_fd: int | None = None) -> list[str]:
    """The bubblewrap command line that starts one isolated worker (with the seccomp filter read
    from `seccomp_fd`, when given)."""
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
    prefix = str(Path(os.path.realpath(python)).parents[1])
    if not any(prefix == d or prefix.startswith(d + "/") for d in SYSTEM_DIRS):
        argv += ["--ro-bind", prefix, prefix]  # an interpreter outside the system dirs
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
        self._tmpfs_bytes = 4 * self.limits.max_file_mb * 1024 * 1024
        self._pool = WarmPool(self.name, self._start_worker)

    def _start_worker(self) -> ProcessChannel:
        fd = _seccomp_fd()
        try:
            return ProcessChannel(bwrap_argv(self.python, self._tmpfs_bytes, fd), run_as_nobody=os.geteuid() == 0,
                                  pass_fds=(fd,))
        finally:
            os.close(fd)  # bubblewrap has read it

    @staticmethod
    def check(python: str | None = None) -> tuple[bool, str]:
        """(works, explanation): whether bubblewrap can start a sandbox here, and if not why and how to fix."""
        if shutil.which("bwrap") is None:
            return False, f"bwrap is not installed: {FIX}"
        fd = _seccomp_fd()
        argv = bwrap_argv(python or default_python(), 1 << 20, fd)
        probe = argv[: argv.index("--") + 1] + ["/bin/true"]
        try:
            proc = subprocess.run(probe, capture_output=True, timeout=20, pass_fds=(fd,),
                                  preexec_fn=become_nobody if os.geteuid() == 0 else None)
        except subprocess.TimeoutExpired:
            return False, "bwrap did not start within 20s"
        finally:
            os.close(fd)
        if proc.returncode != 0:
            return False, f"bwrap cannot create a sandbox here ({proc.stderr.decode().strip()}): {FIX}"
        return True, "bubblewrap works: user, pid, net, ipc and uts namespaces"

    def _execute(self, job: Job, limits: Limits) -> ExecResult:
        return self._pool.execute(job_message(job, limits, warm_python=True), limits)

    def close(self) -> None:
        self._pool.close()

