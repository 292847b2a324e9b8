"""The `Sandbox` interface every backend implements.

A backend only has to implement `_execute(job, limits)`. Argument checking, limit merging and the
concurrent `run_many` live here, so every backend behaves the same from the caller's side.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Iterator, Mapping, Sequence

from rlvr.sandbox.limits import Limits, language_command
from rlvr.sandbox.result import ExecResult
from rlvr.sandbox.slots import SlotTimeout, gate_for, resolve_slot_timeout


class SandboxUnavailable(RuntimeError):
    """A backend cannot run on this machine; the message says why and how to fix it."""


class RunInterrupted(BaseException):
    """Raised in a `run_many` thread whose batch was interrupted in the caller (a KeyboardInterrupt):
    its run stops at once, with no retry and no result. A BaseException, like KeyboardInterrupt,
    so that no `except Exception` on the way turns it into a result and runs on."""


#: Seconds an interrupted `run_many` waits for its threads to give back their (killed) workers
#: before the exception goes on: they take well under a second; a subclass's `run` that blocks in
#: something no worker kill reaches is not waited for longer.
INTERRUPT_WAIT_SECONDS = 5.0

_batch_of_thread = threading.local()  # the `_Batch` whose job this thread runs, if any


class _Batch:
    """The runs of one `run_many` call, so that an interrupt in the caller can stop them: each run
    registers how to stop the worker it waits on (`stoppable`) while it waits."""

    def __init__(self) -> None:
        self.interrupted = False
        self._lock = threading.Lock()
        self._stops: dict[object, Callable[[], None]] = {}

    def interrupt(self) -> None:
        """Stop every worker a run of the batch waits on; later runs of it start nothing."""
        with self._lock:  # (held while stopping: a run cannot hand its worker back meanwhile)
            self.interrupted = True
            for stop in list(self._stops.values()):
                try:
                    stop()
                except Exception:  # noqa: BLE001 - best effort: the others must still be stopped
                    pass


def raise_if_interrupted() -> None:
    """Raise RunInterrupted in a `run_many` thread whose batch was interrupted."""
    batch = getattr(_batch_of_thread, "batch", None)
    if batch is not None and batch.interrupted:
        raise RunInterrupted()


@contextmanager
def stoppable(stop: Callable[[], None]) -> Iterator[None]:
    """While the block runs, an interrupt of this thread's `run_many` batch calls `stop()` (from the
    caller's thread: it must only make the worker end, so that the block's wait on it returns).
    RunInterrupted is raised on entry when the batch is already interrupted, and on leaving when it
    was interrupted meanwhile: the worker may be killed, and must be discarded, never reused. Does
    nothing outside `run_many`'s threads (an interrupt there lands in the run's own thread)."""
    batch = getattr(_batch_of_thread, "batch", None)
    if batch is None:
        yield
        return
    key = object()
    with batch._lock:
        if batch.interrupted:
            raise RunInterrupted()
        batch._stops[key] = stop
    try:
        yield
    finally:
        with batch._lock:
            del batch._stops[key]
    raise_if_interrupted()


@dataclass(frozen=True)
class Job:
    """One program to run: its source, its stdin, extra files for the work dir, its language, and
    what a stderr past the output cap does (`STDERR_OVERFLOWS`)."""

    code: str
    stdin: str = ""
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    language: str = "python"
    stderr_overflow: str = "stop"

    def __post_init__(self) -> None:
        if not isinstance(self.code, str):
            raise TypeError(f"code must be a str, got {type(self.code).__name__}")
        if not isinstance(self.stdin, str):
            raise TypeError(f"stdin must be a str, got {type(self.stdin).__name__}")
        program, _ = language_command(self.language)  # raises for an unknown language
        if self.stderr_overflow not in STDERR_OVERFLOWS:
            raise ValueError(f"stderr_overflow must be one of {', '.join(map(repr, STDERR_OVERFLOWS))}, "
                             f"got {self.stderr_overflow!r}")
        for name, data in self.files.items():
            check_file_name(name)
            if not isinstance(data, (str, bytes)):
                raise TypeError(f"file {name!r} must hold str or bytes, got {type(data).__name__}")
            if name == program or name.startswith(program + "/"):
                raise ValueError(f"file name {name!r} is taken by the program itself (its file {program!r} "
                                 "cannot also be a directory); rename the file")
            parent = name.rsplit("/", 1)[0] if "/" in name else None
            while parent:
                if parent in self.files:
                    raise ValueError(f"files {parent!r} and {name!r} clash: {parent!r} would be a directory")
                parent = parent.rsplit("/", 1)[0] if "/" in parent else None


#: What a run's stderr past the output cap does: "stop" the run (`output_limit`, as stdout does), or
#: "cut": the rest is read and dropped and the run goes on, for callers that judge stdout alone
#: (`check_io`: a right program that logs a lot); the result's `details["stderr_cut"]` says so.
STDERR_OVERFLOWS = ("stop", "cut")

#: The longest part of a file name (the kernel's NAME_MAX) and the longest whole name, in UTF-8
#: bytes: the whole name leaves room for the work dir's own path within PATH_MAX (4096).
MAX_NAME_PART_BYTES = 255
MAX_NAME_BYTES = 3072


def check_file_name(name: str) -> None:
    """Reject file names that would escape the work dir, that the file system cannot hold (too long,
    not UTF-8) or that collide with the program file."""
    if not isinstance(name, str) or not name or name.startswith("/") or "\0" in name:
        raise ValueError(f"bad file name {name!r}: must be a non-empty relative path")
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"bad file name {name!r}: no '.', '..' or empty path parts")
    if _text_size(f"file name {name!r}", name) > MAX_NAME_BYTES:
        raise ValueError(f"file name {name[:40]!r}... is too long: at most {MAX_NAME_BYTES} bytes (UTF-8) in all")
    if any(_text_size("a file name's part", part) > MAX_NAME_PART_BYTES for part in parts):
        raise ValueError(f"file name {name[:40]!r}... has a part over {MAX_NAME_PART_BYTES} bytes (UTF-8), "
                         "more than a file system takes: shorten it")


def job_entries(files: Mapping[str, Any]) -> int:
    """How many entries a run's `files` make in its work dir: the files and the folders they lie
    in (counted from the names only). The program's own file is not among them."""
    folders = {name.rsplit("/", i)[0] for name in files for i in range(1, name.count("/") + 1)}
    return len(files) + len(folders)


def _text_size(what: str, text: str) -> int:
    """The size of `text` in UTF-8 (an ASCII text is not copied to tell it); ValueError when it
    cannot be handed to a program as UTF-8 (a lone surrogate)."""
    if text.isascii():
        return len(text)
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise ValueError(f"{what} is not valid text: {exc}") from None


def _file_contents(data: Any) -> Any:
    """A file's contents as a `Job` holds them: bytes-like objects (bytearray, memoryview) become
    bytes; anything else is left for `Job` to check."""
    return bytes(data) if isinstance(data, (bytearray, memoryview)) else data


def _in_pages(size: int) -> int:
    """What a file of `size` bytes takes in a tmpfs mount: whole pages."""
    page = resource.getpagesize()
    return -(-size // page) * page


class Sandbox(ABC):
    """Runs untrusted programs with limits on time, memory, processes, output and files.

    Create one with `rlvr.sandbox.make_sandbox(...)`. A sandbox may keep warm workers; call
    `close()` (or use it as a context manager) to release them.

    Runs wait for an execution slot (see `rlvr.sandbox.slots`), so that no more programs run at
    once than the host has CPUs and a correct program never times out because of the batch it ran
    in. `max_concurrent`: this sandbox's own cap on programs running at once; by default every
    sandbox of the process shares one cap of RLVR_SANDBOX_MAX_CONCURRENT, else one per available
    CPU. `slot_timeout`: seconds a run waits for a slot before it ends as a "sandbox_error"
    (default RLVR_SANDBOX_SLOT_TIMEOUT, else 300). The wait is not counted in the run's limits.
    """

    name: str = "base"
    #: True when the backend isolates runs from the host (filesystem, network, processes).
    isolated: bool = True

    def __init__(self, *, max_concurrent: int | None = None, slot_timeout: float | None = None,
                 **limits: Any) -> None:
        self.limits = Limits().with_overrides(**limits)
        self.slot_timeout = resolve_slot_timeout(slot_timeout)
        self._slots = gate_for(max_concurrent)

    def run(
        self,
        code: str,
        *,
        stdin: str = "",
        files: Mapping[str, str | bytes] | None = None,
        timeout: float | None = None,
        memory_mb: int | None = None,
        language: str = "python",
        stderr_overflow: str = "stop",
        **limits: Any,
    ) -> ExecResult:
        """Run one program and return how it ended. Never raises for anything the program does.

        `files` (name: str or bytes) are written into the program's work dir (its current directory)
        before it starts. `stderr_overflow` says what a stderr past `max_output_bytes` does
        (`STDERR_OVERFLOWS`: stop the run, or cut the stderr and go on). Limits given here override the sandbox's defaults for this run only. Bad
        arguments raise here, before anything runs, never as a "sandbox_error": ValueError for a
        value out of its range (a limit that is nan, infinite, over a day, 2.5 processes: see
        `Limits`), an unknown language, a bad file name (escaping the work dir, not UTF-8, a part
        over 255 bytes), text that is not UTF-8, more files and directories than `max_files`, or
        stdin or files larger than the backend's mounts hold (`_job_space`); TypeError for an
        unknown limit, one that is no number, or a file that holds neither str nor bytes.
        """
        job, run_limits = self.prepare(code, stdin=stdin, files=files, timeout=timeout, memory_mb=memory_mb,
                                       language=language, stderr_overflow=stderr_overflow, **limits)
        return self._run_prepared(job, run_limits)

    def prepare(
        self,
        code: str,
        *,
        stdin: str = "",
        files: Mapping[str, str | bytes] | None = None,
        timeout: float | None = None,
        memory_mb: int | None = None,
        language: str = "python",
        stderr_overflow: str = "stop",
        **limits: Any,
    ) -> tuple[Job, Limits]:
        """Check one run's arguments as `run` does, running nothing: the job and the limits it would
        run under. Raises TypeError or ValueError for a bad argument (see `run`), so that a caller's
        mistake is reported as such, never as the infrastructure's failure; RuntimeError when the
        sandbox is closed (`check_open`)."""
        self.check_open()
        files = {name: _file_contents(data) for name, data in dict(files or {}).items()}
        job = Job(code=code, stdin=stdin, files=files, language=language, stderr_overflow=stderr_overflow)
        run_limits = self.limits.with_overrides(timeout=timeout, memory_mb=memory_mb, **limits)
        self._check_limits(run_limits)
        self._check_job_fits(job, run_limits)
        return job, run_limits

    def _run_prepared(self, job: Job, run_limits: Limits) -> ExecResult:
        """Run a job whose arguments `prepare` has checked. Never raises for anything the program
        does; a failure of the sandbox itself is a "sandbox_error" result."""
        try:
            job.code.encode("utf-8")
        except UnicodeEncodeError as exc:  # (a lone surrogate): no interpreter would take it as a program
            problem = f"the program is not valid text: {exc}"
            return ExecResult("error", None, "", problem, 0.0, message=problem, backend=self.name)
        started = time.monotonic()
        try:
            # the wait is not the program's: its limits start later
            with self._slots.slot(self.slot_timeout, _slot_allowance(job, run_limits)):
                raise_if_interrupted()  # (a `run_many` interrupted while this run waited for its slot)
                return self._execute(job, run_limits)
        except (SandboxUnavailable, SlotTimeout) as exc:
            return ExecResult.sandbox_error(str(exc), self.name, time.monotonic() - started)
        except Exception as exc:  # an internal failure is the sandbox's, never the program's
            return ExecResult.sandbox_error(
                f"{type(exc).__name__}: {exc}", self.name, time.monotonic() - started
            )

    def run_many(
        self, jobs: Sequence[str | Job | Mapping[str, Any]], concurrency: int | None = None
    ) -> list[ExecResult]:
        """Run many jobs concurrently (default: one per core); results come back in job order.

        However many threads run them, no more programs execute at once than the sandbox's
        execution slots allow (see the class docstring).

        A job is a plain string of code, a `Job`, or a dict of `run`'s keyword arguments. Every
        job's arguments are checked first, as `run` checks them: a bad one (a misspelt name, a value
        out of range, an unknown language, something that is no job) raises TypeError or ValueError
        naming the job's index, and nothing runs. A caller's mistake is never a "sandbox_error",
        which says the infrastructure failed (and which a retry might fix). Once the jobs run, one
        job's failure becomes that job's result and never affects the others. A subclass that
        overrides `run` (a wrapper passing runs to another sandbox) has each job go through its
        `run`, which checks its own arguments: there a job `run` refuses is that job's
        "sandbox_error" result, as it was for every sandbox before.

        Interrupted in the caller (a KeyboardInterrupt, or any exception raised in its thread), the
        jobs not begun are dropped and the workers of those running are killed, within a second or
        so, before the exception goes on: it never waits for the runs' own time limits. The sandbox
        stays usable: a killed worker is replaced, never reused, so no later run gets a result of an
        interrupted one.
        """
        self.check_open()
        options = [self._job_options(index, job) for index, job in enumerate(jobs)]
        workers = max(1, concurrency or os.cpu_count() or 1)
        if type(self).run is not Sandbox.run:
            def run_one(item: Any) -> ExecResult:
                try:
                    return self.run(**item)
                except Exception as exc:  # (its own `run` said how the job was wrong)
                    return ExecResult.sandbox_error(f"bad job: {type(exc).__name__}: {exc}", self.name)
            prepared: list[Any] = options
        else:
            def run_one(item: Any) -> ExecResult:
                return self._run_prepared(*item)
            prepared = [self._prepare_job(index, job) for index, job in enumerate(options)]

        if workers == 1 or len(prepared) <= 1:
            return [run_one(item) for item in prepared]
        return _run_batch(run_one, prepared, workers, f"rlvr-{self.name}")

    @staticmethod
    def _job_options(index: int, job: Any) -> dict[str, Any]:
        """One of `run_many`'s jobs as `run`'s keyword arguments."""
        if isinstance(job, str):
            return {"code": job}
        if isinstance(job, Job):
            return {f.name: getattr(job, f.name) for f in fields(Job)}
        if isinstance(job, Mapping):
            return dict(job)
        raise TypeError(f"run_many job {index}: a job is a str of code, a Job or a dict of run's keyword "
                        f"arguments, got {type(job).__name__}")

    def _prepare_job(self, index: int, options: dict[str, Any]) -> tuple[Job, Limits]:
        """`prepare` for one of `run_many`'s jobs; its errors name the job by its index."""
        try:
            return self.prepare(**options)
        except (TypeError, ValueError) as exc:
            kind = TypeError if isinstance(exc, TypeError) else ValueError
            raise kind(f"run_many job {index}: {exc}") from exc

    def _check_limits(self, limits: Limits) -> None:
        """Raise ValueError for limits this backend cannot apply to a single run."""

    #: Bytes each of a run's work dir and /tmp can hold where the backend fixes it when a worker
    #: starts (tmpfs mounts), else None: `_check_job_fits` refuses stdin or files that do not fit.
    _job_space: int | None = None

    #: Bytes of stdin, files and program together that a run's worker can receive, where its memory
    #: bounds them (a container's), else None: `_check_job_fits` refuses more.
    _input_space: int | None = None

    def _check_job_fits(self, job: Job, limits: Limits) -> None:
        """Raise ValueError when the caller's own stdin or files would not fit in the run (so that
        neither the sandbox nor the program is blamed for them), or are not UTF-8 text.

        Counted as the worker writes them: the files, their parent directories and the program in
        the work dir (at most `max_files`, on every backend alike), and their size in whole pages
        in the work dir, the stdin's in /tmp (at most `_job_space` each), and all of them together
        (at most `_input_space`). Sizes only: nothing is copied for text that is ASCII."""
        stdin_size = _text_size("stdin", job.stdin)
        sizes = [_text_size(f"file {name!r}", data) if isinstance(data, str) else len(data)
                 for name, data in job.files.items()]
        code = job.code  # (code that is not UTF-8 is refused later, as the program's error: this size will do)
        sizes.append(len(code) if code.isascii() else len(code.encode("utf-8", "surrogatepass")))
        entries = job_entries(job.files) + 1  # (the program)
        if entries > limits.max_files:
            raise ValueError(f"the run's files, their directories and the program make {entries} entries in the "
                             f"work dir, more than max_files={limits.max_files}: raise max_files or pass fewer files")
        # (the program travels as JSON text, not base64 as stdin and files do: up to six bytes a
        # character that is not ASCII, `\\uXXXX`)
        total = stdin_size + sum(sizes[:-1]) + (len(code) if code.isascii() else 6 * len(code))
        if self._input_space is not None and total > self._input_space:
            raise ValueError(f"the run's stdin, files and program ({total} bytes) are more than the {self.name} "
                             f"backend's worker can receive in its memory ({self._input_space} bytes, set by the "
                             "sandbox's memory_mb): create the sandbox with a larger memory_mb")
        if self._job_space is None:
            return
        fix = (f"the {self.name} backend's tmpfs mounts hold {self._job_space / 2**20:g} MiB each, 4x the "
               "sandbox's max_file_mb: create the sandbox with a larger max_file_mb")
        if _in_pages(stdin_size) > self._job_space:
            raise ValueError(f"stdin ({stdin_size} bytes) does not fit in /tmp: {fix}")
        work = sum(_in_pages(size) for size in sizes)
        if work > self._job_space:
            raise ValueError(f"the files and the program take {work} bytes in the work dir, more than it holds: {fix}")

    @abstractmethod
    def _execute(self, job: Job, limits: Limits) -> ExecResult:
        """Run `job` under `limits`. Raise SandboxUnavailable when the backend cannot run at all."""

    def _was_closed(self) -> bool:
        """Whether `close()` was called: this class's own, or the backend's warm pool's (a backend's
        `close` that does not call this class's closes its `_pool`). A method of a private name: a
        sandbox of one's own may have a `closed` attribute of its own."""
        pool_closed = getattr(getattr(self, "_pool", None), "closed", False)
        return getattr(self, "_closed", False) or pool_closed is True

    def check_open(self) -> None:
        """Raise RuntimeError when the sandbox is closed: using it afterwards is the caller's mistake,
        never a "sandbox_error" (which says the infrastructure failed, and that a retry might help)."""
        if self._was_closed():
            raise RuntimeError(f"the {self.name} sandbox is closed; make a new one (make_sandbox) to run more programs")

    def close(self) -> None:
        """Release warm workers and temporary files. The sandbox must not be used afterwards: `run`,
        `run_many` and `prepare` then raise RuntimeError (runs already under way end as they may)."""
        self._closed = True

    def __deepcopy__(self, memo: dict) -> "Sandbox":
        """The sandbox itself: it is a handle on workers and processes, which a copy could not own.
        Gymnasium deep-copies an env's spec, kwargs included, when a wrapper's `spec` is read; a
        sandbox passed to `rlvr.make(..., sandbox=...)` is then shared, as `rlvr.register` shares it."""
        return self

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(limits={self.limits})"


def _slot_allowance(job: Job, limits: Limits) -> float:
    """How long a run may hold its execution slot before it is past its own limits, as the pool
    allows it (`WarmPool._exchange`): the receiving of its input (`GRACE_SECONDS` plus time per MiB
    of the message and per file: 200,000 files take minutes), its time limit and grace, and the wipe
    of its files after its answer (set aside after `GRACE_SECONDS`), so that no run waiting for a
    slot gives up while the runs holding them may still be within theirs (`SlotGate.acquire`)."""
    from rlvr.sandbox.pool import GRACE_SECONDS, RECEIVE_SECONDS_PER_MIB, SECONDS_PER_ENTRY  # (pool imports this module)
    size = (len(job.code) + len(job.stdin) + sum(len(data) for data in job.files.values())) * 4 / 3 / (1 << 20)  # (base64)
    receive = GRACE_SECONDS + RECEIVE_SECONDS_PER_MIB * size + SECONDS_PER_ENTRY * job_entries(job.files)
    return receive + limits.timeout + 2 * GRACE_SECONDS


def _run_batch(run_one: Callable[[Any], ExecResult], items: list, workers: int, name: str) -> list[ExecResult]:
    """`run_one` for each item in `workers` threads, results in order. An exception in the caller's
    thread (a KeyboardInterrupt: only that thread receives it) drops the items not begun and stops
    the workers of those running (`_Batch.interrupt`), then waits briefly for their threads to give
    them back before it goes on, so that no run is left to its own time limit, and no thread holds
    up the interpreter's exit."""
    batch = _Batch()

    def in_batch(item: Any) -> ExecResult:
        _batch_of_thread.batch = batch
        try:
            raise_if_interrupted()
            return run_one(item)
        finally:
            _batch_of_thread.batch = None

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
    futures = []
    try:
        futures = [pool.submit(in_batch, item) for item in items]
        results = [future.result() for future in futures]
    except BaseException:
        batch.interrupt()
        pool.shutdown(wait=False, cancel_futures=True)
        try:
            # (those cancelled never count as done: only the ones begun are waited for)
            wait([future for future in futures if not future.cancelled()], timeout=INTERRUPT_WAIT_SECONDS)
        except BaseException:  # noqa: BLE001 - interrupted again: the first exception goes on
            pass
        raise
    pool.shutdown(wait=True)
    return results
