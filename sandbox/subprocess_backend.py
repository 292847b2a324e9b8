"""The subprocess backend: resource limits and a process group, and NO security boundary.

Programs run directly on the host, in a private work dir, with the same per-run limits as the
other backends (time, CPU, memory, processes, file size, output). They can read whatever the user
running rlvr can read and can open network connections. Use it only for trusted code or where no
isolating backend works; `make_sandbox("auto")` warns when it falls back to it.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile

from rlvr.sandbox.base import Job, Sandbox
from rlvr.sandbox.bwrap import default_python
from rlvr.sandbox.limits import Limits
from rlvr.sandbox.pool import WORKER_SOURCE, ProcessChannel, WarmPool, job_message
from rlvr.sandbox.result import ExecResult


# When rlvr runs as root, each worker's jobs run as a uid of their own, so that their process
# limit counts only their own processes and they cannot signal anything else on the host.
_job_uids = (40000 + (os.getpid() * 64 + i) % 20000 for i in itertools.count())


class SubprocessSandbox(Sandbox):
    """Runs programs as limited child processes of a warm worker on the host (not isolated)."""

    name = "subprocess"
    isolated = False

    def __init__(self, *, python: str | None = None, **limits) -> None:
        super().__init__(**limits)
        self.python = python or default_python()
        self._root = tempfile.mkdtemp(prefix="rlvr-sandbox-")
        os.chmod(self._root, 0o711)  # jobs may run as nobody when rlvr runs as root
        self._pool = WarmPool(self.name, self._spawn)

    @staticmethod
    def check() -> tuple[bool, str]:
        return True, "always available; no isolation (resource limits and a process group only)"

    def _spawn(self) -> ProcessChannel:
        home = tempfile.mkdtemp(dir=self._root)
        os.chmod(home, 0o711)
        work, tmp = os.path.join(home, "work"), os.path.join(home, "tmp")
        os.mkdir(work)
        os.mkdir(tmp)
        job_uid = next(_job_uids)
        return ProcessChannel([self.python, "-I", "-c", WORKER_SOURCE, "host", work, tmp, "-", str(job_uid)])

    def _execute(self, job: Job, limits: Limits) -> ExecResult:
        return self._pool.execute(job_message(job, limits, warm_python=True), limits)

    def close(self) -> None:
        self._pool.close()
        shutil.rmtree(self._root, ignore_errors=True)
