"""Warm workers on the host side: start them, talk to them, replace them when they die.

Every backend runs the same worker script (`worker.py`); they differ only in how the worker's
process is launched (bubblewrap, a container, or plainly) and so in how its pipes are reached.
A `Channel` hides that difference; `WarmPool` keeps idle workers and hands one to each run.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import select
import signal
import subprocess
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from concurrent.futures import Future
from pathlib import Path
from typing import Callable, Sequence

from rlvr.sandbox.base import Job, SandboxUnavailable
from rlvr.sandbox.limits import Limits, language_command
from rlvr.sandbox.result import ExecResult

WORKER_SOURCE = (Path(__file__).with_name("worker.py")).read_text()
#: Seconds a worker may take to answer beyond the run's own time limit before it is presumed hung.
GRACE_SECONDS = 5.0
START_TIMEOUT_SECONDS = 30.0
NOBODY = 65534


class Channel(ABC):
    """A line-oriented, bidirectional connection to one worker process."""

    _buffer: bytes = b""  # bytes read past the last complete line

    @abstractmethod
    def send_line(self, data: bytes) -> None: ...

    @abstractmethod
    def _read_some(self, timeout: float) -> bytes | None:
        """Bytes from the worker's stdout; b"" at end of stream; None when `timeout` passed."""

    @abstractmethod
    def kill(self) -> None: ...

    def diagnostics(self) -> str:
        """What the worker printed on stderr, for error messages."""
        return ""

    def read_line(self, timeout: float) -> bytes | None:
        """One line, or None when the worker died or stayed silent for `timeout` seconds."""
        buffer = self._buffer
        deadline = time.monotonic() + timeout
        while b"\n" not in buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._buffer = buffer
                return None
            data = self._read_some(remaining)
            if not data:  # end of stream (worker died) or timed out
                self._buffer = buffer
                return None
            buffer += data
        line, _, self._buffer = buffer.partition(b"\n")
        return line

    def request(self, message: dict, timeout: float) -> dict | None:
        self.send_line(json.dumps(message).encode() + b"\n")
        line = self.read_line(timeout)
        return None if line is None else json.loads(line)


class _Spawner:
    """Starts worker processes from one thread that lives as long as the program.

    bubblewrap's --die-with-parent relies on PR_SET_PDEATHSIG, which fires when the *thread* that
    started the process exits, not the process. `run_many`'s pool threads come and go, so a worker
    started from one of them would be killed with it; workers are started from here instead.
    """

    _instance: "_Spawner | None" = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self._requests: queue.Queue = queue.Queue()
        threading.Thread(target=self._serve, name="rlvr-sandbox-spawner", daemon=True).start()

    @classmethod
    def call(cls, function: Callable):
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
        future: Future = Future()
        cls._instance._requests.put((function, future))
        return future.result()

    def _serve(self) -> None:
        while True:
            function, future = self._requests.get()
            try:
                future.set_result(function())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)


class ProcessChannel(Channel):
    """A worker started as a local process (directly or under bubblewrap)."""

    def __init__(self, argv: Sequence[str], *, run_as_nobody: bool = False, env: dict | None = None) -> None:
        self._stderr = tempfile.TemporaryFile()
        self._on_kill: Callable[[], None] | None = None
        self.process = _Spawner.call(lambda: subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            start_new_session=True,
            preexec_fn=become_nobody if run_as_nobody else None,
            env=env if env is not None else {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"},
        ))

    def send_line(self, data: bytes) -> None:
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def _read_some(self, timeout: float) -> bytes | None:
        fd = self.process.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return None
        return os.read(fd, 1 << 20)

    def on_kill(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the worker is gone (to release what was claimed for it)."""
        self._on_kill = callback

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.kill()
        except ProcessLookupError:
            pass
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        callback, self._on_kill = self._on_kill, None
        if callback:
            callback()

    def diagnostics(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read()[-4000:].decode("utf-8", "replace").strip()


def become_nobody() -> None:
    """Run the worker unprivileged, so that process limits apply and the host stays out of reach."""
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def job_message(job: Job, limits: Limits, warm_python: bool, rlimit_nproc: bool = True) -> dict:
    """The worker protocol's form of a job."""
    filename, argv = language_command(job.language)
    files = {
        name: ({"b64": base64.b64encode(data).decode()} if isinstance(data, bytes) else data)
        for name, data in job.files.items()
    }
    return {
        "code": job.code,
        "filename": filename,
        "files": files,
        "stdin": job.stdin,
        "argv": list(argv),
        "warm": warm_python and job.language == "python",
        "rlimit_nproc": rlimit_nproc,
        "limits": {**limits.to_dict(), "cpu_seconds": limits.cpu_seconds},
    }


class WarmPool:
    """Idle workers, grown on demand up to the number of concurrent runs.

    If a worker dies or stops answering during a run, it is replaced and the run is tried once more
    on the fresh worker: a crash of the infrastructure must not be blamed on the program. If the
    same run kills its worker twice, the program is to blame and the run ends with "error".
    """

    def __init__(self, name: str, spawn: Callable[[], Channel]) -> None:
        self.name = name
        self._spawn = spawn
        self._idle: list[Channel] = []
        self._all: set[Channel] = set()
        self._lock = threading.Lock()
        self._closed = False

    def _start(self) -> Channel:
        channel = self._spawn()
        hello = channel.read_line(START_TIMEOUT_SECONDS)
        if hello is None or not json.loads(hello).get("ready"):
            details = channel.diagnostics()
            channel.kill()
            raise SandboxUnavailable(
                f"the {self.name} sandbox worker did not start" + (f": {details}" if details else "")
            )
        with self._lock:
            self._all.add(channel)
        return channel

    def _acquire(self) -> Channel:
        with self._lock:
            if self._closed:
                raise SandboxUnavailable(f"the {self.name} sandbox is closed")
            if self._idle:
                return self._idle.pop()
        return self._start()

    def _discard(self, channel: Channel) -> None:
        with self._lock:
            self._all.discard(channel)
        channel.kill()

    def execute(self, message: dict, limits: Limits) -> ExecResult:
        for attempt in range(2):
            channel = self._acquire()
            started = time.monotonic()
            try:
                reply = channel.request(message, limits.timeout + GRACE_SECONDS)
            except (OSError, ValueError):
                reply = None
            if reply is not None:
                retire = reply.pop("retire", False)
                with self._lock:
                    if self._closed or retire:
                        self._all.discard(channel)
                        channel.kill()
                    else:
                        self._idle.append(channel)
                return ExecResult(**reply, backend=self.name)
            elapsed = time.monotonic() - started
            diagnostics = channel.diagnostics()
            self._discard(channel)
        return ExecResult(
            "error", None, "", diagnostics, elapsed, backend=self.name,
            message="the program killed or froze its sandbox supervisor (twice, on fresh workers)",
        )

    def close(self) -> None:
        with self._lock:
            self._closed = True
            channels, self._all, self._idle = list(self._all), set(), []
        for channel in channels:
            channel.kill()
