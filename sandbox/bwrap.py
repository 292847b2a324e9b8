"""The bubblewrap backend: Linux namespaces around a warm worker.

Each worker runs as pid 1 of its own pid namespace, with no network, its own IPC and UTS
namespaces (and so its own POSIX message queues), a read-only root with read-only system
directories, and private size-limited tmpfs mounts for the work dir, /tmp and /dev/shm. It dies with its parent. Started as root, the whole sandbox runs as `nobody`.
The per-run limits (time, CPU, memory, processes, file size, output) are applied by the worker
to the child it forks for each run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


def default_python() -> str:
    """The sandbox's interpreter: the system python3 (readable by anyone), else this one."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(candidate, os.X_OK):
            return candidate
    return sys.executable


def bwrap_argv(python: str, tmpfs_bytes: int) -> list[str]:
    """The bubblewrap command line that starts one isolated worker."""
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
             "--chdir", "/work", "--",
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
        tmpfs_bytes = 4 * self.limits.max_file_mb * 1024 * 1024
        argv = bwrap_argv(self.python, tmpfs_bytes)
        self._pool = WarmPool(self.name, lambda: ProcessChannel(argv, run_as_nobody=os.geteuid() == 0))

    @staticmethod
    def check(python: str | None = None) -> tuple[bool, str]:
        """(works, explanation): whether bubblewrap can start a sandbox here, and if not why and how to fix."""
        if shutil.which("bwrap") is None:
            return False, f"bwrap is not installed: {FIX}"
        argv = bwrap_argv(python or default_python(), 1 << 20)
        probe = argv[: argv.index("--") + 1] + ["/bin/true"]
        try:
            proc = subprocess.run(probe, capture_output=True, timeout=20,
                                  preexec_fn=become_nobody if os.geteuid() == 0 else None)
        except subprocess.TimeoutExpired:
            return False, "bwrap did not start within 20s"
        if proc.returncode != 0:
            return False, f"bwrap cannot create a sandbox here ({proc.stderr.decode().strip()}): {FIX}"
        return True, "bubblewrap works: user, pid, net, ipc and uts namespaces"

    def _execute(self, job: Job, limits: Limits) -> ExecResult:
        return self._pool.execute(job_message(job, limits, warm_python=True), limits)

    def close(self) -> None:
        self._pool.close()

