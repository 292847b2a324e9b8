"""A cap on how many sandboxed programs run at once, so that CPU contention is never scored.

Every run has a wall-clock limit. When more programs run at once than there are CPUs, each gets a
fraction of a CPU, and a correct program can exceed its limit only because of the batch it ran
in: its reward would depend on the batch size. A run therefore takes an *execution slot* before it
reaches a worker and gives it back when the worker has answered. The time spent waiting for a
slot is not the program's: its limits start when the worker starts it. A worker that must be
started first (a container takes about a second) is started within the slot: that time is not
the program's either, and so a sandbox never keeps more warm workers than it can run at once
(with the slot taken only around the program, 24 runs at once started 24 containers, 6 s on 2
cores, where 2 suffice).

By default all sandboxes of a process share one `SlotGate` with one slot per CPU available to the
process (`os.sched_getaffinity`), or as many as the environment variable
RLVR_SANDBOX_MAX_CONCURRENT says; both are read when the first sandbox is made. A sandbox made
with `max_concurrent=N` has a gate of its own with N slots instead. The wait is bounded by
progress, not by its length: a long queue that moves (a batch of programs that each run to their
time limit, one CPU's worth at a time) is waited out, however long it is, but when no slot has been
given back for `slot_timeout` seconds (RLVR_SANDBOX_SLOT_TIMEOUT, default 300) while the run
waited, nor for the longest time a run now holding a slot may take (its own time limit and the
pool's grace: its `allowance`), it gives up with `SlotTimeout`, which the sandbox reports as a
"sandbox_error" (runs are stuck beyond their own limits: nothing the program did). A run whose
time limit is longer than `slot_timeout` is thus never the reason another gives up.
"""

from __future__ import annotations

import collections
import os
import threading
import time
import weakref
from contextlib import contextmanager
from typing import Iterator

MAX_CONCURRENT_ENV = "RLVR_SANDBOX_MAX_CONCURRENT"
SLOT_TIMEOUT_ENV = "RLVR_SANDBOX_SLOT_TIMEOUT"
DEFAULT_SLOT_TIMEOUT = 300.0


class SlotTimeout(RuntimeError):
    """No execution slot was given back for a long time: runs are stuck, not the program at fault."""


class SlotGate:
    """At most `size` holders at once; waiters are served first come, first served.

    First come, first served (a freed slot is handed to the oldest waiter, never taken by a thread
    that arrives later), so that under a steady load no run waits much longer than the others and
    the bounded wait only ends runs when the host truly cannot keep up.
    """

    def __init__(self, size: int) -> None:
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ValueError(f"max_concurrent must be a positive integer, got {size!r}")
        self.size = size
        self._reset()
        _GATES.add(self)

    def _reset(self) -> None:
        """All slots free, nobody waiting (a new gate, or one inherited by a forked child, whose
        parent's holders and waiters are threads the child does not have)."""
        self._free = self.size
        self._waiters: collections.deque[threading.Event] = collections.deque()
        self._lock = threading.Lock()
        self._last_release = time.monotonic()  # when a slot was last given back (the queue moved)
        # the allowances (seconds) of the runs holding a slot now, by value: how many hold each
        self._allowances: collections.Counter[float] = collections.Counter()

    def _window(self, timeout: float) -> float:
        """How long the queue may stand still before a waiter gives up: `timeout`, or the longest
        allowance of a run holding a slot now, if longer (it may still be within its own limit)."""
        with self._lock:
            longest = max(self._allowances, default=0.0)
        return max(timeout, longest)

    def acquire(self, timeout: float) -> bool:
        """Take a slot; False when none was given back (to anyone) for `timeout` seconds while
        waiting, nor for the longest allowance of the runs holding one (`_window`). A queue that
        keeps moving is waited out, however long it is."""
        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return True
            turn = threading.Event()
            self._waiters.append(turn)
        began = time.monotonic()
        try:
            while True:
                # the queue's last move this run has seen: a release before it began waiting is
                # not one (the gate may have sat idle for long while a model generated)
                left = max(self._last_release, began) + self._window(timeout) - time.monotonic()
                if left <= 0:  # the queue stood still for `timeout` seconds
                    return self._withdraw(turn)
                if turn.wait(left):
                    return True
        except BaseException:  # interrupted (a KeyboardInterrupt): no slot may stay promised to us
            if self._withdraw(turn):
                self.release()
            raise

    def _withdraw(self, turn: threading.Event) -> bool:
        """Leave the queue; True when a slot was handed over just before (it is then ours)."""
        with self._lock:
            if turn.is_set():
                return True
            self._waiters.remove(turn)
            return False

    def release(self) -> None:
        """Give a slot back: to the oldest waiter if there is one."""
        with self._lock:
            self._last_release = time.monotonic()
            if self._waiters:
                self._waiters.popleft().set()
            else:
                self._free += 1

    @contextmanager
    def slot(self, timeout: float, allowance: float = 0.0) -> Iterator[None]:
        """Hold a slot for the block; raise `SlotTimeout` when no slot was given back for
        `timeout` seconds while waiting for one, nor for the `allowance` of any run holding one.
        `allowance`: the seconds this run may take holding its slot (its time limit and the pool's
        grace), during which others wait for it without giving up.

        Re-entrant per thread: a thread that already holds a slot (of any gate) does not take a
        second one, so a run that needs another run to finish it (the pool's check of a fresh
        worker) can never wait on itself.
        """
        if getattr(_held, "slot", False):
            yield
            return
        began = time.monotonic()
        if not self.acquire(timeout):
            raise SlotTimeout(
                f"no free sandbox execution slot after {time.monotonic() - began:.1f}s (slot_timeout {timeout:g}s, or "
                f"the longest time a run holding a slot may take, if longer): {self.size} programs were running "
                "the whole time and none finished, each past its own time limit and grace (runs are "
                f"stuck; {SLOT_TIMEOUT_ENV} / slot_timeout sets how long the queue may stand still)"
            )
        _held.slot = True
        with self._lock:
            self._allowances[allowance] += 1
        try:
            yield
        finally:
            _held.slot = False
            with self._lock:
                self._allowances[allowance] -= 1
                if not self._allowances[allowance]:
                    del self._allowances[allowance]
            self.release()


_held = threading.local()
_shared: SlotGate | None = None
_shared_lock = threading.Lock()
_GATES: "weakref.WeakSet[SlotGate]" = weakref.WeakSet()


def _reset_after_fork() -> None:
    """In a forked child: every gate starts afresh. The slots the parent's other threads held (and
    a lock one of them held) would otherwise never come back, and every run would wait in vain."""
    global _held, _shared_lock
    _held, _shared_lock = threading.local(), threading.Lock()
    for gate in list(_GATES):
        gate._reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def shared_gate() -> SlotGate:
    """The process-wide gate, made at first use with RLVR_SANDBOX_MAX_CONCURRENT slots, else one per CPU."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SlotGate(_env_number(MAX_CONCURRENT_ENV, int) or available_cpus())
        return _shared


def gate_for(max_concurrent: int | None) -> SlotGate:
    """A sandbox's gate: a private one of `max_concurrent` slots, or the shared one when None."""
    return shared_gate() if max_concurrent is None else SlotGate(max_concurrent)


def resolve_slot_timeout(value: float | None) -> float:
    """Seconds a run waits for a slot: `value`, else RLVR_SANDBOX_SLOT_TIMEOUT, else `DEFAULT_SLOT_TIMEOUT`."""
    if value is None:
        return _env_number(SLOT_TIMEOUT_ENV, float) or DEFAULT_SLOT_TIMEOUT
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise ValueError(f"slot_timeout must be a positive number of seconds, got {value!r}")
    return float(value)


def _env_number(name: str, kind: type) -> int | float | None:
    """The positive number in environment variable `name`, None when unset; ValueError when malformed."""
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not 0 < value < float("inf"):
        raise ValueError(f"{name}={text!r} is not a positive {kind.__name__}; unset it or give e.g. {name}=4")
    return value
