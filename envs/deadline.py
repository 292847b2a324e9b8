"""Calls to user code (a callable verifier, a user tool) under a wall-clock limit.

A verifier or a tool written by a user may never return; a step must still end. `call_within`
makes the call in a worker thread and waits at most the limit for it. A Python thread cannot be
stopped from outside, so a call past its limit goes on in the background, its result dropped.
"""

from __future__ import annotations

import contextvars
import os
import queue
import threading
from typing import Any, Callable


class CallTimeout(Exception):
    """A call run by `call_within` did not return within its time limit."""


class _Worker:
    """A daemon thread that makes the calls of `call_within`, one at a time.

    Daemon, so that a call that never returns does not keep the process from exiting either.
    """

    __slots__ = ("jobs",)

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="rlvr-verifier", daemon=True).start()

    def _serve(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            fn, args, kwargs, box, done = job
            try:
                outcome = (True, fn(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller, who raises it
                outcome = (False, exc)
            box.append(outcome)  # atomic: the first entry says who came first (see `_abandon`)
            abandoned = box[0] is _ABANDONED
            del job, fn, args, kwargs, outcome, box
            done.release()
            if abandoned:
                return  # its caller gave up on it and will not reuse it: this thread ends


#: Workers waiting for a call. `list.pop` and `list.append` are atomic, so taking and giving back
#: one needs no lock; a forked child starts with none (the parent's threads do not run in it).
_IDLE_WORKERS: list[_Worker] = []
#: Idle workers kept for later calls (one per thread that calls at once); more are let go.
_MAX_IDLE_WORKERS = 64
_ABANDONED = (False, None)
os.register_at_fork(after_in_child=_IDLE_WORKERS.clear)


def _idle_worker() -> _Worker:
    """A worker with nothing to do: an idle one, else a new one."""
    try:
        return _IDLE_WORKERS.pop()
    except IndexError:
        return _Worker()


def _release(worker: _Worker) -> None:
    """Give back a worker whose call has returned."""
    if len(_IDLE_WORKERS) < _MAX_IDLE_WORKERS:
        _IDLE_WORKERS.append(worker)
    else:
        worker.jobs.put(None)  # enough idle ones already: this one ends


def _abandon(box: list) -> bool:
    """Mark a call still running as abandoned (its worker ends once it returns): True, or False
    when it has just finished (its result is `box[0]`). The caller and the worker each append to
    `box`, an atomic step: whichever came first is `box[0]`, so they never both claim the call."""
    box.append(_ABANDONED)
    return box[0] is _ABANDONED


def call_within(seconds: float, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`fn(*args, **kwargs)`, made in a worker thread and waited for at most `seconds` (inf: no
    limit), in the caller's context variables.

    Returns what `fn` returns, raises what it raises, or raises `CallTimeout` once `seconds` have
    passed. A Python thread cannot be stopped, so a call past its limit goes on in the background
    (a daemon thread: it never keeps the process alive) and its result is dropped; the thread then
    ends. A call stuck in C code that holds the GIL (a catastrophic regular expression) keeps every
    thread waiting: such work belongs in a subprocess with its own limit. Workers are kept and
    reused, so a quick call costs one hand-over between threads (some microseconds), not a new thread.
    """
    worker = _idle_worker()
    box: list[tuple[bool, Any]] = []
    done = threading.Lock()
    done.acquire()
    # run in the caller's context variables, as if called here
    worker.jobs.put((contextvars.copy_context().run, (fn, *args), kwargs, box, done))
    try:
        # (longer than the lock can wait, ~292 years on Linux, is no limit either)
        finished = done.acquire(timeout=-1 if seconds >= threading.TIMEOUT_MAX else max(0.0, seconds))
    except BaseException:  # interrupted while waiting (KeyboardInterrupt): nobody takes the result
        if not _abandon(box):
            _release(worker)
        raise
    if not finished:
        if _abandon(box):
            raise CallTimeout(f"no result within {seconds:g}s")
        done.acquire()  # it finished just at the limit: take its result (released right after)
    _release(worker)
    ok, value = box[0]
    if ok:
        return value
    try:
        raise value
    finally:
        del value, box
