"""Audit 37 of the verifiers' worker pool: a worker killed while idle (the host's OOM killer, an
operator) failed the next job sent to it as "worker process died", an error verdict for a pair
nothing was wrong with (found by killing the math verifier's idle sympy workers)."""

from __future__ import annotations

import os
import signal
import time

from rlvr.verifiers.timelimit import WorkerPool

SLEEP = "rlvr.verifiers.timelimit:_sleep_then_return"


def _kill_and_wait(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        if open(f"/proc/{pid}/stat").read().split(") ")[-1].startswith("Z"):
            return  # dead, not yet reaped by the zygote
        time.sleep(0.01)
    raise AssertionError(f"worker {pid} did not die")


def test_a_worker_killed_while_idle_does_not_fail_the_next_job():
    pool = WorkerPool(1, memory_mb=512)
    try:
        first = pool.call("os:getpid", (), timeout=5)
        _kill_and_wait(first)
        assert pool.call(SLEEP, (0.0, "fine"), timeout=5) == "fine"  # on a fresh worker
        assert pool.call("os:getpid", (), timeout=5) != first
        assert pool.call(SLEEP, (0.0, 3), timeout=5) == 3
    finally:
        pool.close()


def test_every_idle_worker_killed_is_replaced():
    pool = WorkerPool(2, memory_mb=512)
    try:
        pids = set()
        for _ in range(20):  # use both workers
            pids.add(pool.call("os:getpid", (), timeout=5))
        for pid in pids:
            _kill_and_wait(pid)
        assert [pool.call(SLEEP, (0.0, i), timeout=5) for i in range(4)] == [0, 1, 2, 3]
    finally:
        pool.close()
