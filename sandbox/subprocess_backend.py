"""The subprocess backend: resource limits and a process group, and NO security boundary.

Programs run directly on the host, in a private work dir, with the same per-run limits as the
other backends (time, CPU, memory, processes, file size, output). They can read whatever the user
running rlvr can read and can open network connections. Use it only for trusted code or where no
isolating backend works; `make_sandbox("auto")` warns when it falls back to it.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

from rlvr.sandbox.base import Job, Sandbox
from rlvr.sandbox.limits import Limits
from rlvr.sandbox.pool import WORKER_SOURCE, ProcessChannel, WarmPool, job_message
from rlvr.sandbox.result import ExecResult


class SubprocessSandbox(Sandbox):
    """Runs programs as limited child processes of a warm worker on the host (not isolated)."""

    name = "subprocess"
    isolated = False

    def __init__(self, *, python: str | None = None, **limits) -> None:
        super().__init__(**limits)
        self.python = python or sys.executable
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
        return ProcessChannel([self.python, "-I", "-c", WORKER_SOURCE, "host", work, tmp, "-"])

    def _execute(self, job: Job, limits: Limits) -> ExecResult:
        return self._pool.execute(job_message(job, limits, warm_python=True), limits)

    def close(self) -> None:
        self._pool.close()
        shutil.rmtree(self._root, ignore_errors=True)
