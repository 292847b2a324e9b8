"""Warm workers on the host side: start them, talk to them, replace them when they die.

Every backend runs the same worker script (`worker.py`); they differ only in how the worker's
process is launched (bubblewrap, a container, or plainly) and so in how its pipes are reached.
A `Channel` hides that difference; `WarmPool` keeps idle workers and hands one to each run.

Fork-safe: a forked child never uses, nor kills, the workers its parent started. At the fork the
child closes its copies of their pipes and sockets (`Channel.forget`), and its pools start afresh,
with workers of its own, started from a spawner thread of its own (`_after_fork_in_child`).
"""

from __future__ import annotations

import base64
import json
import math
import os
import queue
import re
import select
import signal
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from abc import ABC, abstractmethod
from concurrent.futures import Future
from pathlib import Path
from typing import Callable, Sequence

from rlvr.sandbox.base import Job, SandboxUnavailable, job_entries, raise_if_interrupted, stoppable
from rlvr.sandbox.limits import Limits, language_command
from rlvr.sandbox.result import ExecResult
from rlvr.sandbox.worker import CLEAN_LINE, CLEANUP_SECONDS, STARTED_LINE

WORKER_SOURCE = (Path(__file__).with_name("worker.py")).read_text()
#: Seconds a worker may take to answer beyond the run's own time limit before it is presumed hung:
#: its own clean-up after a run may take `CLEANUP_SECONDS` to kill what the run left; a loaded host
#: must not make that look like a hang. (The run's files are wiped after the answer: `CLEAN_LINE`.)
GRACE_SECONDS = CLEANUP_SECONDS + 10.0
#: Seconds a run's answer waits at most for its worker to say it wiped what the run left
#: (`CLEAN_LINE`: microseconds for most runs) before the worker is set aside and the answer returned
#: (`WarmPool._settle`), and that a run finding no idle worker waits for the one set aside longest ago
#: before another is started (`WarmPool._from_set_aside`; starting one takes some 20 to 100 ms). A
#: worker still wiping then (a program that left hundreds of thousands of files) stays set aside.
CLEAN_WAIT_SECONDS = 0.02
START_TIMEOUT_SECONDS = 30.0
#: Seconds a worker may take to receive each MiB of a run's message (its stdin and files, as base64)
#: and write them out, before the program starts: some ten times what it takes on an idle host
#: (~0.03 s), so that a loaded one is not taken for a frozen worker (`WarmPool._exchange`).
RECEIVE_SECONDS_PER_MIB = 0.25
#: Seconds a worker may take, on top of that, for each file of a run and each folder they lie in:
#: it creates, writes and closes each one (and gives it to the job's uid, when runs have their
#: own), some 20 to 170 microseconds on an idle host, which for hundreds of thousands of small
#: files (a raised `max_files`) is more than the grace and the size's allowance together. (Their
#: removal after the run comes after its answer: `CLEAN_LINE`.)
SECONDS_PER_ENTRY = 0.001
#: The key of `WarmPool._exchange`'s reply for a worker lost before the program's process existed;
#: its value says why (`_unstarted_reason`).
UNSTARTED = "unstarted"
NOBODY = 65534
#: Signals the kernel raises for a process's own fault or limit (a bad memory access, an abort, a
#: CPU or file-size limit reached): a job that lowers its worker's resource limits (`prlimit` on
#: it, as the worker's user) can make the worker die of one, so a worker ended by one of these may
#: be the program's doing (`ProcessChannel.outside_signal`). Any other signal, SIGKILL above all,
#: came from outside. (A hard CPU limit ends a process with SIGKILL too, at once when it is 0: under
#: bwrap no job can set its worker's limits (`bwrap.PRLIMIT_SYSCALLS`), under subprocess run as root
#: none runs as the worker's uid; run by a non-root user that backend is no boundary at all.)
OWN_FAILURE_SIGNALS = frozenset({signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT,
                                 signal.SIGTRAP, signal.SIGSYS, signal.SIGXCPU, signal.SIGXFSZ, signal.SIGPIPE})
#: How long (seconds) a worker whose output ended may take to exit before it is judged (`outside_signal`).
EXIT_WAIT_SECONDS = 2.0


def wait_ready(fd, events: int, timeout: float | None) -> bool:
    """Whether `fd` (a descriptor, or an object with `fileno()`) becomes ready for `events`
    (`select.POLLIN`, `select.POLLOUT`) within `timeout` seconds (None: no limit; 0: look only).
    An end of stream or an error counts as ready, as with select: the read or write that follows
    tells which. poll rather than `select.select`, which refuses descriptors numbered 1024 or more
    (FD_SETSIZE), and a host process with a raised open-file limit holds such (dataset shards,
    sockets). The timeout is rounded up to poll's milliseconds, so that a short wait is not a spin."""
    poller = select.poll()
    poller.register(fd, events)
    return bool(poller.poll(None if timeout is None else math.ceil(max(timeout, 0.0) * 1000)))


class Channel(ABC):
    """A line-oriented, bidirectional connection to one worker process."""

    _buffer: bytes = b""  # bytes read past the last complete line
    owner_pid: int | None = None  # the process that started the worker (set by `WarmPool`)
    outside: str = ""  # who may have sent a signal `outside_signal` returns, for the run's message

    @abstractmethod
    def send_line(self, data: bytes, timeout: float | None = None) -> None:
        """Send `data` whole; raise TimeoutError (an OSError) when it is not all sent within
        `timeout` seconds (a worker that stopped reading: the pool presumes it lost), OSError when
        the worker is gone. None: no time limit."""

    @abstractmethod
    def _read_some(self, timeout: float) -> bytes | None:
        """Bytes from the worker's stdout; b"" at end of stream; None when `timeout` passed."""

    @abstractmethod
    def kill(self) -> None: ...

    def alive(self) -> bool:
        """False when the worker is known to be gone (checked before a run is sent to it)."""
        return True

    def interrupt(self) -> None:
        """Make the worker end, from a thread other than the one waiting on it (an interrupted
        `run_many`), so that the wait sees an end of stream at once; that thread then `kill()`s it.
        Closes nothing (the waiting thread still polls the descriptors). The default shuts down the
        sockets the channel holds as attributes (a container's attach stream: its worker then reads
        the end of its stdin and exits)."""
        for value in list(vars(self).values()):
            if isinstance(value, socket.socket):
                try:
                    value.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def hang_up(self) -> None:
        """Tell the worker the host is going, ahead of `kill` (`ProcessChannel.hang_up`), so that
        stopping many workers waits out their grace once, not once each. The default does nothing."""

    def diagnostics(self) -> str:
        """What the worker printed on stderr, for error messages."""
        return ""

    def outside_signal(self) -> int | None:
        """The signal a worker lost during a run died of, when it shows the worker was killed from
        outside (not by rlvr, not by the program); None when nothing shows that (`WarmPool.execute`
        then judges the loss as before). The default knows nothing."""
        return None

    def forget(self) -> None:
        """In a forked child: let go of the worker, which is the parent's, without stopping it.

        Closes this process's copies of the channel's descriptors (so that the parent's worker
        sees its end of stream when the parent goes, whatever the child does). The default closes
        every socket the channel holds as an attribute; detached first, never shut down, which
        would end the connection for the parent too."""
        for value in list(vars(self).values()):
            if isinstance(value, socket.socket):
                _close_copy(value)

    def read_line(self, timeout: float) -> bytes | None:
        """One line, or None when the worker died or stayed silent for `timeout` seconds.

        Linear in the line's length: the bytes gather in one growing buffer and only the new ones
        are searched for the end of line (a run's result line holds its whole output, in base64:
        4/3 of a byte per byte printed, tens of MB under a raised output cap)."""
        buffer = bytearray(self._buffer)
        deadline = time.monotonic() + timeout
        end = buffer.find(b"\n")
        looked = False  # (a timeout of 0 still reads what has arrived: `WarmPool._settle`)
        while end < 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0 and looked:
                self._buffer = bytes(buffer)
                return None
            looked = True
            data = self._read_some(max(remaining, 0.0))
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
    # (a forked child has none of its parent's threads: `_after_fork_in_child` drops the instance,
    # whose thread is gone, and the next call starts one of the child's own)

    def __init__(self) -> None:
        self._requests: queue.Queue = queue.Queue()
        threading.Thread(target=self._serve, name="rlvr-sandbox-spawner", daemon=True).start()

    @classmethod
    def call(cls, function: Callable, abandon: Callable | None = None):
        """`function()`, called in the spawner's thread. `abandon(result)` is called with what it
        returns if the caller stops waiting first (a KeyboardInterrupt), to stop what it started."""
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            spawner = cls._instance
        future: Future = Future()
        spawner._requests.put((function, future))
        try:
            return future.result()
        except BaseException:
            if abandon is not None:  # (once done: at once, if the function had already returned)
                future.add_done_callback(lambda done: done.exception() is None and abandon(done.result()))
            raise

    def _serve(self) -> None:
        while True:
            function, future = self._requests.get()
            try:
                future.set_result(function())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)


def _daemon_thread(action: Callable[[], None]) -> None:
    """Run `action` in a daemon thread of its own (`ProcessChannel`'s default `background`)."""
    threading.Thread(target=action, name="rlvr-sandbox-hang-up", daemon=True).start()


class ProcessChannel(Channel):
    """A worker started as a local process (directly or under bubblewrap)."""

    def __init__(self, argv: Sequence[str], *, run_as_nobody: bool = False, env: dict | None = None,
                 pass_fds: Sequence[int] = (), signal_status: int | None = None, outside: str = "",
                 hang_up_grace: float = 0.0, background: Callable[[Callable[[], None]], None] | None = None) -> None:
        """`signal_status`: the exit status base by which the process reports a worker it runs
        killed by signal N (bubblewrap exits 128 + N), None when the process is the worker itself;
        `outside`: what may have sent a worker such a signal, for the message (`WarmPool.execute`);
        `hang_up_grace`: seconds a worker being stopped is given, once its control pipe is closed,
        to end its job and what the job started itself (`hang_up`) before its process group is
        SIGKILLed: where nothing else can reach a job that left the group (a job in a session of its
        own, run as the host's user), 0 where the group's kill reaches all (bubblewrap's pidns);
        `background`: runs an interrupt's kill after that grace off the caller's thread (the backend's
        tracked threads, which `close()` and the interpreter's exit wait for), by default a daemon thread."""
        self._stderr = tempfile.TemporaryFile()
        self._on_kill: Callable[[], None] | None = None
        self._signal_status = signal_status
        self.outside = outside
        self._ended = False  # its output reached its end (`_read_some`)
        self._killed_here = False  # rlvr itself killed it (`interrupt`, `kill`)
        self._hang_up_grace = hang_up_grace
        self._background = background or _daemon_thread
        self._hung_up_at: float | None = None  # when the control pipe was closed (`hang_up`)
        self._reap_lock = threading.Lock()  # (no SIGKILL of its group once reaped: the pid may be reused)
        self._reaped = False
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
            ), abandon=_kill_process)
        except BaseException:  # no worker process: nothing will ever kill() this channel
            self._stderr.close()
            raise

    def send_line(self, data: bytes, timeout: float | None = None) -> None:
        """Write `data` to the worker's stdin through its descriptor (non-blocking, waiting for
        room with `wait_ready`), so that a worker that stopped reading makes this raise TimeoutError
        after `timeout` seconds instead of blocking forever."""
        fd = self.process.stdin.fileno()  # (the buffered writer is never used: nothing is left in it)
        os.set_blocking(fd, False)  # (our end of the pipe only: the worker's end is its own)
        deadline = None if timeout is None else time.monotonic() + timeout
        view = memoryview(data)
        while view:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError(f"the worker took no input for {timeout:g}s")
            if wait_ready(fd, select.POLLOUT, left):
                try:
                    view = view[os.write(fd, view):]
                except BlockingIOError:
                    continue

    def _read_some(self, timeout: float) -> bytes | None:
        fd = self.process.stdout.fileno()
        if not wait_ready(fd, select.POLLIN, timeout):
            return None
        data = os.read(fd, 1 << 20)
        self._ended = self._ended or not data
        return data

    def alive(self) -> bool:
        # WNOWAIT: look without reaping, so the pid (and process group id) stays ours until kill()
        try:
            return os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
        except ChildProcessError:  # already reaped
            return False

    def hang_up(self) -> None:
        """Close the worker's control pipe (once), where the channel has a `hang_up_grace`: the
        worker then takes its host-gone path (`worker.HOST_GONE`): it kills its job's processes,
        those that left the job's session included, which a SIGKILL of the worker's group never
        reaches, wipes the job's files, and exits. Safe from any thread: the pipe's descriptor is
        replaced by /dev/null in one `dup2`, so a send under way in another thread writes there
        (or fails) and the descriptor's number never goes to another file meanwhile."""
        if self._hang_up_grace <= 0 or self._hung_up_at is not None:
            return
        self._hung_up_at = time.monotonic()
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, self.process.stdin.fileno())
        except (OSError, ValueError):  # (closed already)
            pass
        finally:
            os.close(null)

    def _await_hang_up(self) -> None:
        """Wait, until `hang_up_grace` seconds after `hang_up`, for the worker's process to exit
        (looked at, not reaped: the pid stays ours)."""
        if self._hung_up_at is None:
            return
        deadline = self._hung_up_at + self._hang_up_grace
        while time.monotonic() < deadline and self.alive():
            time.sleep(0.01)

    def _kill_group(self) -> None:
        """SIGKILL the worker's process group and the worker, unless it was reaped already."""
        with self._reap_lock:
            if self._reaped:
                return
            for kill in (lambda: os.killpg(self.process.pid, signal.SIGKILL),
                         lambda: os.kill(self.process.pid, signal.SIGKILL)):
                try:
                    kill()
                except (ProcessLookupError, PermissionError):
                    pass

    def interrupt(self) -> None:
        """Make the worker end: hang up (`hang_up`), then SIGKILL its process group at once, or,
        with a grace, from a thread of its own once the worker exited or the grace is over (the
        caller, an interrupted `run_many` stopping all its runs, must not wait on each). Its process
        stays unreaped, so the pid stays ours."""
        self._killed_here = True
        self.hang_up()
        if self._hung_up_at is None:
            self._kill_group()
            return

        def kill_after_grace() -> None:
            self._await_hang_up()
            self._kill_group()

        self._background(kill_after_grace)

    def on_kill(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the worker is gone (to release what was claimed for it)."""
        self._on_kill = callback

    def kill(self) -> None:
        """Stop the worker: hang up and wait out its grace (`hang_up`), SIGKILL its process group,
        reap it, close the pipes, then call the `on_kill` callback."""
        self._killed_here = True
        self.hang_up()
        self._await_hang_up()
        self._kill_group()
        with self._reap_lock:
            self.process.wait()
            self._reaped = True
        for stream in (self.process.stdin, self.process.stdout, self._stderr):  # (stderr: read before a kill)
            try:
                stream.close()
            except OSError:
                pass
        callback, self._on_kill = self._on_kill, None
        if callback:
            callback()

    def outside_signal(self) -> int | None:
        """The signal the worker died of, if its output ended (it did not merely go silent: a frozen
        worker is the pool's to kill), rlvr sent it none, and it is no signal of the worker's own
        failure (`OWN_FAILURE_SIGNALS`). Read from the process's end, awaited `EXIT_WAIT_SECONDS` at
        most and not reaped (the pid, and its process group, stay ours until `kill`)."""
        if not self._ended or self._killed_here:
            return None
        deadline = time.monotonic() + EXIT_WAIT_SECONDS
        while True:
            try:
                info = os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:  # reaped already: its end is not known here
                return None
            if info is not None or time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        if info is None or self._killed_here:
            return None
        if info.si_code in (os.CLD_KILLED, os.CLD_DUMPED):
            number = info.si_status
        elif self._signal_status is not None and info.si_status > self._signal_status:
            number = info.si_status - self._signal_status  # (bubblewrap's report of its worker's end)
        else:
            return None  # the worker exited by itself
        return None if number in OWN_FAILURE_SIGNALS else number

    def diagnostics(self) -> str:
        """The worker's last stderr output (why it failed to start or died); "" once killed."""
        if self._stderr.closed:
            return ""
        self._stderr.seek(0)
        return self._stderr.read()[-4000:].decode("utf-8", "replace").strip()

    def forget(self) -> None:
        """In a forked child: close the child's copies of the worker's pipes and stderr file; the
        worker (the parent's) is neither killed nor waited for, and what `on_kill` was to release
        is left to the parent."""
        self._on_kill = None
        streams = (self.process.stdin, self.process.stdout, self._stderr)
        _blank_copies(streams)
        _INHERITED.extend(streams)  # never closed nor collected here (see `_blank_copies`)
        self.process.returncode = self.process.returncode or 0  # not this process's child: never waited for


#: A forked child's file objects of its parent's workers, blanked (`_blank_copies`) and kept, so
#: that they are never closed: closing takes the object's lock, which a parent thread may have held
#: at the fork and which then stays held in the child for ever.
_INHERITED: list = []


def _blank_copies(streams) -> None:
    """Point this process's descriptors of `streams` at /dev/null (one `dup2` each), without
    touching the file objects themselves: no lock is taken, so this is safe in a fork handler, even
    in the child `subprocess` forks to run a `preexec_fn`. The pipes' copies are gone (the parent's
    worker sees its end of stream when the parent goes), and whatever later closes the objects
    closes a /dev/null descriptor of their own, never a reused number."""
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for stream in streams:
            try:
                os.dup2(null, stream.fileno())
            except (OSError, ValueError):
                pass
    finally:
        os.close(null)


def _kill_process(process: subprocess.Popen) -> None:
    """Stop a worker process nobody holds a channel to (its start was interrupted)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.kill()
    process.wait()
    for stream in (process.stdin, process.stdout):
        stream.close()


def _close_copy(sock: socket.socket) -> None:
    """Close this process's descriptor of `sock` without shutting the connection down (a forked
    parent's copy stays connected) and without leaving a number the socket object could close
    again once reused."""
    try:
        fd = sock.detach()
    except OSError:
        return
    if fd >= 0:
        try:
            os.close(fd)
        except OSError:
            pass


def become_nobody() -> None:
    """Run the worker unprivileged, so that process limits apply and the host stays out of reach."""
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def _b64_payload(data: str | bytes) -> dict:
    """A job's stdin or file contents as the worker takes them: {"b64": base64 of the bytes (text
    in UTF-8)}. 4/3 of a byte per byte, where JSON would escape each non-ASCII character of a text
    as six, all of it in the worker's memory (a container's, under Docker) while it receives the job."""
    raw = data.encode() if isinstance(data, str) else data
    return {"b64": base64.b64encode(raw).decode("ascii")}


def decode_output(raw: bytes) -> tuple[str, int]:
    """(text, bytes replaced) of a run's stdout or stderr: its UTF-8 text, with what is not valid
    UTF-8 (a binary write, a latin-1 text, a character cut at the output cap) replaced by U+FFFD, and
    how many bytes were. The text alone would not tell a program that wrote U+FFFD from one whose
    bytes were lost, so the result says so (`details["stdout_undecodable"]`,
    `details["stderr_undecodable"]`: the count, absent when nothing was replaced)."""
    try:
        return raw.decode("utf-8"), 0
    except UnicodeDecodeError:  # (surrogateescape: one lone surrogate per byte that is not UTF-8)
        replaced = len(_ESCAPED_BYTE.findall(raw.decode("utf-8", "surrogateescape")))
        return raw.decode("utf-8", "replace"), replaced


#: A byte `surrogateescape` could not decode (valid UTF-8 never decodes to a lone surrogate).
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def job_message(job: Job, limits: Limits, warm_python: bool, rlimit_nproc: bool = True) -> dict:
    """The worker protocol's form of a job."""
    filename, argv = language_command(job.language)
    files = {name: _b64_payload(data) for name, data in job.files.items()}
    return {
        "code": job.code,
        "filename": filename,
        "files": files,
        "stdin": _b64_payload(job.stdin),
        "argv": list(argv),
        "warm": warm_python and job.language == "python",
        "rlimit_nproc": rlimit_nproc,
        "stderr_overflow": job.stderr_overflow,
        "limits": {**limits.to_dict(), "cpu_seconds": limits.cpu_seconds},
        "entries": job_entries(job.files),  # (the receive allowance: `WarmPool._exchange`; unread by the worker)
    }


def _kill_all(channels: set[Channel]) -> None:
    """Stop every worker of a pool that was never closed (called when it is garbage-collected or at
    exit). Only this process's: in a forked child, the workers of the parent are let go, never killed."""
    _hang_up_all(channels)
    for channel in list(channels):
        try:
            _stop(channel)
        except Exception:  # noqa: BLE001 - best effort: the others must still be stopped
            pass


def _hang_up_all(channels) -> None:
    """`hang_up` each of this process's workers in `channels` (a forked child's are let go, never
    told), before they are stopped one by one (`_stop`)."""
    for channel in list(channels):
        if channel.owner_pid in (None, os.getpid()):
            try:
                channel.hang_up()
            except Exception:  # noqa: BLE001 - best effort: `_stop` kills it anyway
                pass


def _stop(channel: Channel) -> None:
    """Kill the worker if this process started it; in a forked child, let go of the parent's."""
    if channel.owner_pid in (None, os.getpid()):
        channel.kill()
    else:
        channel.forget()


#: Every pool of the process, for `_after_fork_in_child`.
_POOLS: "weakref.WeakSet[WarmPool]" = weakref.WeakSet()


class WarmPool:
    """Idle workers, grown on demand up to the number of concurrent runs.

    An idle worker found dead when a run is to be sent to it (killed meanwhile, by the host's OOM
    killer or anyone) is replaced: the program never reached it, so nothing is its fault. A worker
    that dies or stops answering *during* a run is replaced and the run tried once more. If the run
    loses its worker again, the program is blamed ("error") only if a fresh worker then runs an
    empty program normally; otherwise the sandbox itself is failing and the run ends with
    "sandbox_error". An infrastructure failure must never be scored as the program's. Nor is a run
    that lost a worker to a signal from outside (`Channel.outside_signal`: under bwrap a SIGKILL of
    the worker, pid 1 of its own pid namespace, which no job can signal; under subprocess one no job
    running as a uid of its own can send, or, run by a non-root user, one nothing tells from a job's):
    once, it is tried again like any loss; twice, one of them so, it is a "sandbox_error"
    (`_killed_from_outside`). A worker that went silent (frozen: a job can stop it, or make its
    handler hang) and that the pool then killed at the run's deadline is no such evidence.

    A worker that reports its job killed the handler (bwrap, Docker: `Worker._report_killed_handler`)
    is not tried again: a program that sees a test going wrong (a loop that stops calling it) could
    otherwise kill its supervisor to be run afresh, a second try at the test that only the last
    answer counts for. The run is the program's "error" if a fresh worker runs an empty program.
    So is one whose handler failed (exited without answering) once the program's process existed
    (`Worker._report_failed_handler`): a program that found a way to make it fail would otherwise
    get the same second try.

    A worker lost before its program started (it says when it makes the program's process: see
    `_exchange`) is replaced and the run tried again, up to twice, then the run is a "sandbox_error":
    no program ran, so none is blamed, and those tries are not the program's. A worker is sent its
    run, and writes out its stdin and files, within a deadline that grows with their size and their
    number: one that takes no input meanwhile (frozen: a paused container) is lost like one that
    goes silent. The run's own time limit (and `GRACE_SECONDS`) counts from its program's start: a
    large input, which takes seconds to receive, does not eat into it.
    A run interrupted in the caller (a KeyboardInterrupt) stops its worker before the exception goes
    on: a worker left mid-run would be neither idle nor stopped until the pool closes.
    A worker wipes what a run left after answering it, and is handed no run before it says it is
    done (`_settle`): the wipe delays an answer by `CLEAN_WAIT_SECONDS` at most, and no other run
    waits for it.

    In a forked child the pool starts afresh (see the module's docs): the parent's workers are
    closed to it, never killed, and `after_fork` (if given) is called before the child's first
    worker starts, to replace what else the backend shares with the parent (a Docker client).
    """

    def __init__(self, name: str, spawn: Callable[[], Channel], *,
                 after_fork: Callable[[], None] | None = None) -> None:
        self.name = name
        self._spawn = spawn
        self._after_fork = after_fork
        self._forked = False  # set in a forked child until `after_fork` has run there
        self._fork_lock = threading.Lock()  # (one `after_fork` call, whichever thread starts a worker first)
        self._idle: list[Channel] = []
        # workers that answered a run and are still wiping what it left, each with whether it must
        # then retire (`_settle`): in `_all`, never handed a run until they say they are done
        self._cleaning: list[tuple[Channel, bool]] = []
        # runs in execute now, and the most there have been at once: past that many set aside, a run
        # waits for the oldest to finish its wipe rather than start yet another worker (`_acquire`)
        self._running = self._peak = 0
        self._all: set[Channel] = set()
        self._lock = threading.Lock()
        self._closed = False
        # a sandbox dropped without close() (or still open at exit) must not leave its workers running
        weakref.finalize(self, _kill_all, self._all)
        _POOLS.add(self)

    def _after_fork_in_child(self) -> None:
        """In a forked child, right after the fork: no worker of the parent's is this pool's."""
        self._lock = threading.Lock()  # (a thread of the parent's may have held it: it is not here)
        self._fork_lock = threading.Lock()
        inherited, self._idle, self._cleaning = list(self._all), [], []
        self._all.clear()  # (the finalizer's set: the child's own workers will be added to it)
        for channel in inherited:
            try:
                channel.forget()
            except Exception:  # noqa: BLE001 - best effort: the others must still be let go
                pass
        self._forked = self._after_fork is not None

    @property
    def closed(self) -> bool:
        """Whether `close()` was called."""
        return self._closed

    @property
    def workers(self) -> set[Channel]:
        """The pool's workers (the set itself, emptied on close, never replaced): for a backend's
        finalizer that must stop them before it removes what they use, without holding the pool."""
        return self._all

    def _closed_error(self) -> SandboxUnavailable:
        """What a run finds when the pool was closed under it (`close` from another thread)."""
        return SandboxUnavailable(f"the {self.name} sandbox is closed")

    def _start(self) -> Channel:
        """A new worker, greeted and counted in the pool. A start that fails, or ends, once the pool
        is closed (`close` from another thread, which removes what the worker needs) says so, and
        its worker is stopped, never kept running past the close."""
        try:
            channel = self._start_worker()
        except Exception:
            if self._closed:
                raise self._closed_error() from None
            raise
        with self._lock:
            if not self._closed:
                self._all.add(channel)
                return channel
        _stop(channel)
        raise self._closed_error()

    def _start_worker(self) -> Channel:
        """`_start`'s new worker, once it greeted; SandboxUnavailable when it did not."""
        if self._forked:  # the first worker started in a forked child
            with self._fork_lock:
                if self._forked:
                    self._after_fork()
                    self._forked = False
        channel = self._spawn()
        try:
            asked = time.monotonic()
            with stoppable(channel.interrupt):  # (an interrupted `run_many` does not wait for the greeting)
                hello = channel.read_line(START_TIMEOUT_SECONDS)
            # its output ended before the time was up: it ended (though it may not have exited yet)
            ended = hello is None and time.monotonic() - asked < START_TIMEOUT_SECONDS
            ready = hello is not None and json.loads(hello).get("ready")
        except BaseException:  # interrupted (a KeyboardInterrupt), or a garbled greeting
            channel.kill()
            raise
        if not ready:
            details = channel.diagnostics() or (
                f"its first line was {hello[:200]!r}, not the worker's greeting" if hello is not None
                else "it ended before its greeting, with nothing on its stderr" if ended or not channel.alive()
                else f"it said nothing for {START_TIMEOUT_SECONDS:g}s")
            channel.kill()
            raise SandboxUnavailable(f"the {self.name} sandbox worker did not start: {details}")
        channel.owner_pid = os.getpid()
        return channel

    def _acquire(self) -> Channel:
        """A live idle worker (dead ones are dropped on the way), else one set aside that has done
        its wipe meanwhile (`_from_set_aside`), else a new one."""
        self._sweep_cleaning()
        while True:
            with self._lock:
                if self._closed:
                    raise self._closed_error()
                if not self._idle:
                    break
                channel = self._idle.pop()
            try:
                if channel.alive():
                    return channel
            except BaseException:  # interrupted: the worker is in no list to be found again
                self._discard(channel)
                raise
            self._discard(channel)
        while True:
            channel = self._from_set_aside()
            if channel is not None:
                return channel
            with self._lock:  # (with no more set aside than runs at once, another worker is started)
                if len(self._cleaning) <= max(self._peak, 1):
                    break
        return self._start()

    def _from_set_aside(self) -> Channel | None:
        """The worker set aside longest ago (`_settle`), once it says its wipe is done, if one is and
        need not retire; None otherwise. It is waited for `CLEAN_WAIT_SECONDS`; while more workers
        are set aside than the most runs this pool has had at once, as long as a run's grace
        (`GRACE_SECONDS`), so that a stream of runs that each leave very many files does not pile
        up workers (and job uids), one more each run: one still wiping then is killed (the backend
        removes the rest of its files). An interrupted `run_many` ends the wait at once."""
        with self._lock:
            if not self._cleaning:
                return None
            crowded = len(self._cleaning) > max(self._peak, 1)
            channel, retire = self._cleaning.pop(0)
        try:  # (an interrupted `run_many` kills the worker: the wait, up to a grace, ends at once)
            with stoppable(channel.interrupt):
                done = self._wiped(channel, GRACE_SECONDS if crowded else CLEAN_WAIT_SECONDS)
        except BaseException:  # interrupted (RunInterrupted too): the worker is in no list to be found again
            self._discard(channel)
            raise
        if done is None and not crowded:
            with self._lock:
                if not self._closed:
                    self._cleaning.insert(0, (channel, retire))
                    return None
        if done and not retire:
            return channel
        self._release(channel, True)  # (stopped: it failed its wipe, must retire, or is stuck)
        return None

    def _release(self, channel: Channel, retire: bool) -> None:
        """Put a worker that answered back among the idle ones (or stop it, if it must retire)."""
        with self._lock:
            if not (self._closed or retire):
                self._idle.append(channel)
                return
            self._all.discard(channel)
        _stop(channel)

    def _discard(self, channel: Channel) -> None:
        with self._lock:
            self._all.discard(channel)
        _stop(channel)

    def _settle(self, channel: Channel, retire: bool) -> None:
        """Once `channel`'s worker has answered a run, waiting at most `CLEAN_WAIT_SECONDS` (a trivial
        run's wipe takes microseconds): if it has said that it wiped what the run left
        (`CLEAN_LINE`), release it (`_release`: idle, or stopped if it must `retire`); one that
        said anything else, or ended, is stopped. One still wiping is set aside
        (`_cleaning`), and the answer returned at once: no later run is sent to it before it is
        done (`_sweep_cleaning`, `_from_set_aside`). Those set aside before are looked at too."""
        try:
            self._sweep_cleaning()
            done = self._wiped(channel, CLEAN_WAIT_SECONDS)
        except BaseException:  # interrupted (a KeyboardInterrupt): the worker is in no list to be found again
            self._discard(channel)
            raise
        if done is None:
            with self._lock:
                if not self._closed:
                    self._cleaning.append((channel, retire))
                    return
            done = False  # (closed meanwhile: stopped)
        self._release(channel, retire or not done)

    def _sweep_cleaning(self) -> None:
        """Release the set-aside workers (`_settle`) that have finished wiping since, without waiting."""
        with self._lock:
            pending, self._cleaning = self._cleaning, []
        if not pending:
            return
        still = []
        try:
            while pending:
                channel, retire = pending[0]
                done = self._wiped(channel, 0.0)
                pending.pop(0)
                if done is None:
                    still.append((channel, retire))
                else:
                    self._release(channel, retire or not done)
        finally:  # (those not looked at, if interrupted, stay set aside too)
            with self._lock:
                if not self._closed:  # (closed meanwhile: `close` stopped them)
                    self._cleaning.extend(still + pending)

    @staticmethod
    def _wiped(channel: Channel, timeout: float) -> bool | None:
        """Whether the worker of `channel`, which has answered its run, said within `timeout` seconds
        that it wiped what the run left (`CLEAN_LINE`): True; False when it said anything else or
        its output ended (a failed wipe ends the worker); None while it is still wiping."""
        try:
            line = channel.read_line(timeout)
            if line is None:
                return None if channel.alive() else False
        except (OSError, ValueError):
            return False
        return line == CLEAN_LINE

    def _exchange(self, channel: Channel, message: dict, limits: Limits) -> dict | None:
        """Send a run to `channel`; the worker's result, {`UNSTARTED`: why} when the worker was lost
        before it began the program (see below), or None when it died or went silent once it had.

        Two deadlines. Receiving the run, up to the handler's `STARTED_LINE`, sent just before it
        makes the program's process, may take `GRACE_SECONDS` plus `RECEIVE_SECONDS_PER_MIB` for
        each MiB of the message (a run's stdin and files, tens of seconds for hundreds of MiB) plus
        `SECONDS_PER_ENTRY` for each of its files and their folders (`job_entries`, counted once
        by `job_message`);
        the run itself then has its time limit plus `GRACE_SECONDS` from that line on (the worker
        wipes the run's files after its answer: `_settle`). The program cannot forge the line: it
        is sent before the program's process exists, and read first.
        A worker lost before it (a frozen one that takes no input, one that failed while writing
        the run's files) never ran the program, so nothing of it is the program's (`execute`).
        A worker whose handler was killed by the job (see `Worker._report_killed_handler`) says so
        on a line of its own, after the handler's cut-off line if any: that report is returned;
        so is the worker's own report of a handler lost while receiving (`_report_unreceived`)."""
        with stoppable(channel.interrupt):  # an interrupted `run_many` kills the worker: the wait ends at once
            return self._talk(channel, message, limits)

    def _talk(self, channel: Channel, message: dict, limits: Limits) -> dict | None:
        """`_exchange`'s conversation with the worker."""
        started = False
        began = time.monotonic()
        size = allowance = 0.0
        entries = 0
        try:
            data = json.dumps(message).encode() + b"\n"
            size = len(data) / (1 << 20)
            entries = message.get("entries")
            if entries is None:  # (a message not made by `job_message`)
                entries = job_entries(message.get("files") or {})
            allowance = GRACE_SECONDS + RECEIVE_SECONDS_PER_MIB * size + SECONDS_PER_ENTRY * entries
            # a worker that takes no input (frozen) is lost like one that goes silent, never waited for without end
            deadline = began + allowance
            channel.send_line(data, timeout=deadline - time.monotonic())
            del data
            while True:
                line = channel.read_line(max(0.0, deadline - time.monotonic()))
                if line is None:
                    return None if started else {UNSTARTED: _unstarted_reason(time.monotonic() - began, size, allowance, entries)}
                if line == STARTED_LINE and not started:  # the program's process is made next: its time begins
                    started = True
                    deadline = time.monotonic() + limits.timeout + GRACE_SECONDS
                    continue
                if line.strip():
                    try:
                        reply = json.loads(line)
                    except ValueError:  # a line cut off when its handler was killed: a report may follow
                        continue
                    for name in ("stdout", "stderr"):  # a run's output: base64 of its bytes (`Worker.send`)
                        if f"{name}_b64" in reply:
                            reply[name], replaced = decode_output(base64.b64decode(reply.pop(f"{name}_b64")))
                            if replaced:
                                reply.setdefault("details", {})[f"{name}_undecodable"] = replaced
                    return reply
        except (OSError, ValueError):  # a broken pipe (or a send past the allowance): the worker is lost
            return None if started else {UNSTARTED: _unstarted_reason(time.monotonic() - began, size, allowance, entries)}

    def execute(self, message: dict, limits: Limits) -> ExecResult:
        with self._lock:
            self._running += 1
            self._peak = max(self._peak, self._running)
        try:
            return self._execute_counted(message, limits)
        finally:
            with self._lock:
                self._running -= 1

    def _execute_counted(self, message: dict, limits: Limits) -> ExecResult:
        """`execute`, counted by it among the runs in flight."""
        lost_unstarted = lost_started = 0  # workers lost before the program started, and after
        outside: list[tuple[int, str]] = []  # (signal, who may have sent it) of those killed from outside
        while True:
            raise_if_interrupted()  # (no new try, nor worker, for a run of an interrupted `run_many`)
            channel = self._acquire()
            started = time.monotonic()
            try:
                reply = self._exchange(channel, message, limits)
            except BaseException:  # interrupted (a KeyboardInterrupt) mid-run: no worker is left running it
                self._discard(channel)
                raise
            if self._closed:  # closed meanwhile: its hang-up may have cut the run's message (a worker's
                self._discard(channel)  # "JSONDecodeError"), which is no fault of the worker's nor the program's
                raise self._closed_error()
            if reply is not None and not {"handler_killed", "handler_failed", UNSTARTED} & reply.keys():
                self._settle(channel, reply.pop("retire", False))
                return ExecResult(**reply, backend=self.name)
            elapsed = time.monotonic() - started
            diagnostics = channel.diagnostics()
            if reply is None:  # lost once the program had started: was it killed from outside?
                number = channel.outside_signal()
                if number is not None:
                    outside.append((number, channel.outside))
            self._discard(channel)
            if reply is not None and "handler_killed" in reply:  # the job killed its handler: no second try
                what = f"the program killed its sandbox supervisor (signal {reply['handler_killed']})"
                lost = f"its supervisor was killed by signal {reply['handler_killed']}"
                break
            if reply is not None and "handler_failed" in reply:  # failed once the program had started: no second try either
                what = (f"the program's sandbox supervisor failed after the program started (exit status "
                        f"{reply['handler_failed']}), and a fresh one runs an empty program")
                lost = f"its supervisor failed after the program started, exit status {reply['handler_failed']}"
                break
            if reply is not None:  # lost before the program existed: never the program's doing, nor one of its tries
                lost_unstarted += 1
                if lost_unstarted < 2:
                    continue
                return self._lost_before_start_twice(reply[UNSTARTED], elapsed, diagnostics)
            lost_started += 1
            if lost_started == 2 and outside:  # one loss at least is no doing of the program's
                return self._killed_from_outside(outside, elapsed, diagnostics)
            if lost_started == 2:
                what = "the program killed or froze its sandbox supervisor (twice, on fresh workers)"
                lost = "twice, on fresh workers"
                break
        if self._runs_an_empty_program(message, limits):
            return ExecResult("error", None, "", diagnostics, elapsed, backend=self.name, message=what)
        return ExecResult.sandbox_error(
            f"the {self.name} sandbox lost its worker during this run ({lost}), and a fresh worker then "
            "failed to run an empty program: the sandbox is failing, not the program"
            + (f" ({diagnostics})" if diagnostics else ""), self.name, elapsed)

    def _killed_from_outside(self, outside: list[tuple[int, str]], elapsed: float, diagnostics: str) -> ExecResult:
        """The result of a run that lost its worker twice once the program had started, one of them
        (or both) to a signal from outside (`Channel.outside_signal`): a "sandbox_error", whatever an
        empty program does next. The program is blamed for lost workers only when each loss could be
        its doing (see the class's docs): it was seen to cause at most one here, and a lost run's fate
        is unknown, never to be scored."""
        signals = ", ".join(dict.fromkeys(_signal_name(number) for number, _ in outside))
        who = next((note for _, note in outside if note), "")
        return ExecResult.sandbox_error(
            f"the {self.name} sandbox lost its worker twice during this run, "
            f"{'both times' if len(outside) > 1 else 'once'} killed from outside by {signals}"
            + (f" ({who})" if who else "") + ": the program's fate is unknown, so the run is not scored"
            + (f" ({diagnostics})" if diagnostics else ""), self.name, elapsed)

    def _lost_before_start_twice(self, why: str, elapsed: float, diagnostics: str) -> ExecResult:
        """The result of a run whose worker was lost before the program started, twice: no program
        ran, so a "sandbox_error" that says why the last worker was lost (`_unstarted_reason`)."""
        return ExecResult.sandbox_error(
            f"the {self.name} sandbox lost its worker twice while it received this run, before the program "
            f"started; the last time {why}" + (f" ({diagnostics})" if diagnostics else ""), self.name, elapsed)

    def _runs_an_empty_program(self, message: dict, limits: Limits) -> bool:
        """Whether a fresh worker runs an empty program of the same language under the same limits
        with status "ok": what tells a program that kills its worker from a failing sandbox."""
        try:
            channel = self._start()
        except Exception:  # noqa: BLE001 - no worker starts: the sandbox is failing
            return False
        try:
            reply = self._exchange(channel, {**message, "code": "", "files": {}, "stdin": "", "entries": 0}, limits)
        except BaseException:  # interrupted
            self._discard(channel)
            raise
        if reply is None or UNSTARTED in reply:
            self._discard(channel)
            return False
        self._settle(channel, reply.pop("retire", False))
        return reply.get("status") == "ok"

    def close(self) -> None:
        with self._lock:
            self._closed = True
            channels, self._idle, self._cleaning = list(self._all), [], []
            self._all.clear()  # (the finalizer's set: emptied, not replaced)
        _hang_up_all(channels)
        for channel in channels:
            _stop(channel)


def _unstarted_reason(elapsed: float, size: float, allowance: float, entries: int = 0) -> str:
    """Why a worker was lost before its program started, `elapsed` seconds after the run's message
    of `size` MiB and `entries` files and folders began to be sent, with `allowance` seconds to
    receive it (`WarmPool._exchange`)."""
    terms = (f"{size:.1f} MiB, its stdin and files as base64, and {entries} files and folders; an allowance "
             f"of {allowance:.1f}s: {GRACE_SECONDS:g}s + {RECEIVE_SECONDS_PER_MIB:g}s per MiB + "
             f"{SECONDS_PER_ENTRY:g}s per file or folder")
    if elapsed >= allowance:
        return (f"it had not received and written out the run's message within the allowance ({terms}): "
                "a frozen worker, or a host too loaded to take in an input this large (or this many files) in time")
    return f"it died while receiving the run's message, after {elapsed:.1f}s ({terms}): the sandbox is failing"


def _signal_name(number: int) -> str:
    """The name of signal `number` ("SIGKILL" for 9), or "signal N" for one without a name."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _after_fork_in_child() -> None:
    """In a forked child: every pool starts afresh, and so does the spawner, whose thread the
    child does not have (a sandbox made there would wait forever for its first worker)."""
    _Spawner._instance, _Spawner._lock = None, threading.Lock()
    for pool in list(_POOLS):
        pool._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
