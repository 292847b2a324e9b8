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
import weakref
from abc import ABC, abstractmethod
from concurrent.futures import Future
from pathlib import Path
from typing import Callable, Sequence

from rlvr.sandbox.base import Job, SandboxUnavailable
from rlvr.sandbox.limits import Limits, language_command
from rlvr.sandbox.result import ExecResult
from rlvr.sandbox.worker import CLEANUP_SECONDS

WORKER_SOURCE = (Path(__file__).with_name("worker.py")).read_text()
#: Seconds a worker may take to answer beyond the run's own time limit before it is presumed hung:
#: its own clean-up after a run may take `CLEANUP_SECONDS` to kill what the run left, then the
#: time to wipe the run's files; a loaded host must not make that look like a hang.
GRACE_SECONDS = CLEANUP_SECONDS + 10.0
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

    def alive(self) -> bool:
        """False when the worker is known to be gone (checked before a run is sent to it)."""
        return True

    def diagnostics(self) -> str:
        """What the worker printed on stderr, for error messages."""
        return ""

    def read_line(self, timeout: float) -> bytes | None:
        """One line, or None when the worker died or stayed silent for `timeout` seconds.

        Linear in the line's length: the bytes gather in one growing buffer and only the new ones
        are searched for the end of line (a run's result line holds its whole output, JSON-escaped:
        up to six bytes per byte printed, tens of MB under a raised output cap)."""
        buffer = bytearray(self._buffer)
        deadline = time.monotonic() + timeout
        end = buffer.find(b"\n")
        while end < 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._buffer = bytes(buffer)
                return None
            data = self._read_some(remaining)
            if not data:  # end of stream (worker died) or timed out
                self._buffer = bytes(buffer)
                return None
            searched = len(buffer)
            buffer += data
            end = buffer.find(b"\n", searched)
        self._buffer = bytes(buffer[end + 1:])
        del buffer[end:]
        return bytes(buffer)


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

    def __init__(self, argv: Sequence[str], *, run_as_nobody: bool = False, env: dict | None = None,
                 pass_fds: Sequence[int] = ()) -> None:
        self._stderr = tempfile.TemporaryFile()
        self._on_kill: Callable[[], None] | None = None
        try:
            self.process = _Spawner.call(lambda: subprocess.Popen(
                list(argv),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                start_new_session=True,
                preexec_fn=become_nobody if run_as_nobody else None,
                env=env if env is not None else {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"},
                pass_fds=tuple(pass_fds),
            ))
        except BaseException:  # no worker process: nothing will ever kill() this channel
            self._stderr.close()
            raise

    def send_line(self, data: bytes) -> None:
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def _read_some(self, timeout: float) -> bytes | None:
        fd = self.process.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return None
        return os.read(fd, 1 << 20)

    def alive(self) -> bool:
        # WNOWAIT: look without reaping, so the pid (and process group id) stays ours until kill()
        try:
            return os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
        except ChildProcessError:  # already reaped
            return False

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
        for stream in (self.process.stdin, self.process.stdout, self._stderr):  # (stderr: read before a kill)
            try:
                stream.close()
            except OSError:
                pass
        callback, self._on_kill = self._on_kill, None
        if callback:
            callback()

    def diagnostics(self) -> str:
        """The worker's last stderr output (why it failed to start or died); "" once killed."""
        if self._stderr.closed:
            return ""
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


def _kill_all(channels: set[Channel]) -> None:
    """Stop every worker of a pool that was never closed (called when it is garbage-collected or at exit)."""
    for channel in list(channels):
        try:
            channel.kill()
        except Exception:  # noqa: BLE001 - best effort: the others must still be stopped
            pass


class WarmPool:
    """Idle workers, grown on demand up to the number of concurrent runs.

    An idle worker found dead when a run is to be sent to it (killed meanwhile, by the host's OOM
    killer or anyone) is replaced: the program never reached it, so nothing is its fault. A worker
    that dies or stops answering *during* a run is replaced and the run tried once more. If the run
    loses its worker again, the program is blamed ("error") only if a fresh worker then runs an
    empty program normally; otherwise the sandbox itself is failing and the run ends with
    "sandbox_error". An infrastructure failure must never be scored as the program's.

    A worker that reports its job killed the handler (bwrap, Docker: `Worker._report_killed_handler`)
    is not tried again: a program that sees a test going wrong (a loop that stops calling it) could
    otherwise kill its supervisor to be run afresh, a second try at the test that only the last
    answer counts for. The run is the program's "error" if a fresh worker runs an empty program.
    """

    def __init__(self, name: str, spawn: Callable[[], Channel]) -> None:
        self.name = name
        self._spawn = spawn
        self._idle: list[Channel] = []
        self._all: set[Channel] = set()
        self._lock = threading.Lock()
        self._closed = False
        # a sandbox dropped without close() (or still open at exit) must not leave its workers running
        weakref.finalize(self, _kill_all, self._all)

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
        """A live idle worker (dead ones are dropped on the way), else a new one."""
        while True:
            with self._lock:
                if self._closed:
                    raise SandboxUnavailable(f"the {self.name} sandbox is closed")
                if not self._idle:
                    break
                channel = self._idle.pop()
            if channel.alive():
                return channel
            self._discard(channel)
        return self._start()

    def _release(self, channel: Channel, retire: bool) -> None:
        """Put a worker that answered back among the idle ones (or stop it, if it must retire)."""
        with self._lock:
            if not (self._closed or retire):
                self._idle.append(channel)
                return
            self._all.discard(channel)
        channel.kill()

    def _discard(self, channel: Channel) -> None:
        with self._lock:
            self._all.discard(channel)
        channel.kill()

    def _exchange(self, channel: Channel, message: dict, limits: Limits) -> dict | None:
        """Send a run to `channel`; the worker's result, or None when it died or went silent.

        A worker whose handler was killed by the job (see `Worker._report_killed_handler`) says so
        on a line of its own, after the handler's cut-off line if any: that report is returned."""
        try:
            channel.send_line(json.dumps(message).encode() + b"\n")
            deadline = time.monotonic() + limits.timeout + GRACE_SECONDS
            while True:
                line = channel.read_line(max(0.0, deadline - time.monotonic()))
                if line is None:
                    return None
                if line.strip():
                    try:
                        return json.loads(line)
                    except ValueError:  # a line cut off when its handler was killed: a report may follow
                        continue
        except (OSError, ValueError):  # a broken pipe: the worker is lost
            return None

    def execute(self, message: dict, limits: Limits) -> ExecResult:
        for attempt in range(2):
            channel = self._acquire()
            started = time.monotonic()
            reply = self._exchange(channel, message, limits)
            if reply is not None and "handler_killed" not in reply:
                self._release(channel, reply.pop("retire", False))
                return ExecResult(**reply, backend=self.name)
            elapsed = time.monotonic() - started
            diagnostics = channel.diagnostics()
            self._discard(channel)
            if reply is not None:  # the job killed its handler: no second try (see the class docs)
                what = f"the program killed its sandbox supervisor (signal {reply['handler_killed']})"
                break
        else:
            what = "the program killed or froze its sandbox supervisor (twice, on fresh workers)"
        if self._runs_an_empty_program(message, limits):
            return ExecResult("error", None, "", diagnostics, elapsed, backend=self.name, message=what)
        return ExecResult.sandbox_error(
            f"the {self.name} sandbox lost its worker twice during this run, and a fresh worker then "
            "failed to run an empty program: the sandbox is failing, not the program"
            + (f" ({diagnostics})" if diagnostics else ""), self.name, elapsed)

    def _runs_an_empty_program(self, message: dict, limits: Limits) -> bool:
        """Whether a fresh worker runs an empty program of the same language under the same limits
        with status "ok": what tells a program that kills its worker from a failing sandbox."""
        try:
            channel = self._start()
        except Exception:  # noqa: BLE001 - no worker starts: the sandbox is failing
            return False
        reply = self._exchange(channel, {**message, "code": "", "files": {}, "stdin": ""}, limits)
        if reply is None:
            self._discard(channel)
            return False
        self._release(channel, reply.pop("retire", False))
        return reply.get("status") == "ok"

    def close(self) -> None:
        with self._lock:
            self._closed = True
            channels, self._all, self._idle = list(self._all), set(), []
        for channel in channels:
            channel.kill()
