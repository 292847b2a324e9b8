"""Runs under load: the batch a program runs in must never decide its verdict.

A process-wide cap on programs running at once (one per CPU by default) keeps CPU contention from
turning correct programs into timeouts; the wait for a slot is not counted in a run's limits, and a
wait that never ends is the sandbox's failure ("sandbox_error"), never the program's.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from rlvr.sandbox import BACKENDS, make_sandbox
from rlvr.sandbox import slots
from rlvr.sandbox.slots import SlotGate, SlotTimeout

from conftest import get_sandbox

SUM_LOOP = "n = int(input())\ns = 0\nfor i in range(n):\n    s += i\nprint(s)\n"


def _calibrated_n(sandbox, cpu_seconds: float) -> int:
    """How many loop steps of SUM_LOOP take about `cpu_seconds` of CPU alone in `sandbox`."""
    n = 1_000_000
    result = sandbox.run(SUM_LOOP, stdin=f"{n}\n", timeout=30)
    assert result.ok, result
    used = max(result.details["cpu_time"], 0.01)
    return max(n, int(n * cpu_seconds / used))


def test_a_batch_of_cpu_bound_correct_programs_all_pass(sandbox):
    """16 programs of ~0.6 s CPU each, started together from 16 threads, each with a time limit
    it meets alone with room to spare: all pass, whatever the number of cores (they used to time
    out when 16 shared 2 cores)."""
    n = _calibrated_n(sandbox, 0.6)
    alone = sandbox.run(SUM_LOOP, stdin=f"{n}\n", timeout=30)
    assert alone.ok, alone
    limit = max(3.0, 4 * alone.wall_time)  # 16 at once on 2 cores would need about 8x
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: sandbox.run(SUM_LOOP, stdin=f"{n}\n", timeout=limit), range(16)))
    assert [(r.status, r.stdout) for r in results] == [("ok", f"{sum(range(n))}\n")] * 16, (
        limit, [(r.status, r.message, round(r.wall_time, 2)) for r in results])


@pytest.mark.parametrize("backend", BACKENDS)
def test_waiting_for_a_slot_is_not_counted_in_the_time_limit(backend):
    sandbox = get_sandbox(backend, max_concurrent=1)
    code = "import time\ntime.sleep(0.8)\nprint('done')"
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: sandbox.run(code, timeout=1.5), range(3)))  # the last waits ~1.6 s
    assert [(r.status, r.stdout) for r in results] == [("ok", "done\n")] * 3, results


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_queued_run_waits_for_a_holder_within_its_own_limit(backend):
    """A run waiting for the one slot waits as long as the holder is within its own time limit (plus
    the pool's grace), however short `slot_timeout`: it gave up after `slot_timeout` and was a
    sandbox_error though nothing was stuck. (A queue that stands still past the holders' allowances
    still gives up: tests/test_sandbox39b.py, at the gate.)"""
    sandbox = get_sandbox(backend, max_concurrent=1, slot_timeout=0.5)
    sandbox.run("pass")  # a warm worker, so that the long run below starts at once
    with ThreadPoolExecutor(1) as pool:
        long_run = pool.submit(sandbox.run, "import time\ntime.sleep(3)", timeout=10)
        time.sleep(0.5)
        result = sandbox.run("print(1)")
        assert long_run.result().ok
    assert result.ok and result.stdout == "1\n", result


def test_a_verification_queued_behind_a_long_run_is_judged_not_failed():
    """A check queued behind a run within its limit is judged (it was an infrastructure error once
    `slot_timeout` passed)."""
    from rlvr.verifiers.code import check_io

    sandbox = get_sandbox("subprocess", max_concurrent=1, slot_timeout=0.3)
    with ThreadPoolExecutor(1) as pool:
        long_run = pool.submit(sandbox.run, "import time\ntime.sleep(2)", timeout=10)
        time.sleep(0.3)
        verdict = check_io("print(input())", [("x\n", "x\n")], sandbox=sandbox)
        long_run.result()
    assert verdict.correct and verdict.error is None, verdict


def test_the_cap_holds_across_sandboxes_and_backends():
    gate = SlotGate(2)
    running, peak, lock = [0], [0], threading.Lock()

    def hold(_):
        with gate.slot(10):
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.02)
            with lock:
                running[0] -= 1

    with ThreadPoolExecutor(12) as pool:
        list(pool.map(hold, range(48)))
    assert peak[0] == 2
    first, second = make_sandbox("subprocess"), make_sandbox("subprocess")
    try:
        assert first._slots is second._slots is slots.shared_gate()
        own = make_sandbox("subprocess", max_concurrent=3)
        assert own._slots is not first._slots and own._slots.size == 3
        own.close()
    finally:
        first.close()
        second.close()


def test_slots_are_handed_out_first_come_first_served():
    gate = SlotGate(1)
    assert gate.acquire(1)
    order = []

    def wait(name):
        assert gate.acquire(5)
        order.append(name)
        gate.release()

    threads = []
    for name in range(5):
        threads.append(threading.Thread(target=wait, args=(name,)))
        threads[-1].start()
        time.sleep(0.05)  # queued in this order
    gate.release()
    for thread in threads:
        thread.join()
    assert order == list(range(5))


def test_a_wait_that_times_out_leaves_the_queue():
    gate = SlotGate(1)
    assert gate.acquire(1)
    assert gate.acquire(0.05) is False
    with pytest.raises(SlotTimeout, match="no free sandbox execution slot"):
        with gate.slot(0.05):
            pass
    gate.release()
    assert gate.acquire(0) is True  # nobody left waiting: the freed slot is there at once


def test_a_queue_that_moves_is_waited_out_however_long():
    """The wait is bounded by progress: runs queued behind many others that each finish in time
    (a batch of programs running to their limits, one slot at a time) are not given up on, though
    their wait is several times slot_timeout."""
    gate = SlotGate(1)
    done = []

    def run(name):
        with gate.slot(0.3):
            time.sleep(0.15)
            done.append(name)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(run, range(8)))  # the last waits ~1 s, more than three times 0.3 s
    assert sorted(done) == list(range(8))


def test_a_thread_holding_a_slot_never_waits_for_a_second():
    gate, other = SlotGate(1), SlotGate(1)
    with gate.slot(1):
        with gate.slot(0.01):  # nested use of the same gate
            with other.slot(0.01):  # and of another one (a sandbox used while running a sandbox)
                pass
    assert gate.acquire(0) and other.acquire(0)  # every slot came back


def test_the_default_cap_is_the_cpus_available_or_the_environment_variable(monkeypatch):
    monkeypatch.setattr(slots, "_shared", None)
    monkeypatch.delenv(slots.MAX_CONCURRENT_ENV, raising=False)
    assert slots.shared_gate().size == len(os.sched_getaffinity(0))
    monkeypatch.setattr(slots, "_shared", None)
    monkeypatch.setenv(slots.MAX_CONCURRENT_ENV, "3")
    assert slots.shared_gate().size == 3
    monkeypatch.setattr(slots, "_shared", None)
    monkeypatch.setenv(slots.MAX_CONCURRENT_ENV, "many")
    with pytest.raises(ValueError, match="RLVR_SANDBOX_MAX_CONCURRENT='many'"):
        make_sandbox("subprocess")
    monkeypatch.setenv(slots.SLOT_TIMEOUT_ENV, "7.5")
    assert slots.resolve_slot_timeout(None) == 7.5 and slots.resolve_slot_timeout(2) == 2.0


@pytest.mark.parametrize("options, message", [
    ({"max_concurrent": 0}, "max_concurrent must be a positive integer"),
    ({"max_concurrent": 2.5}, "max_concurrent must be a positive integer"),
    ({"slot_timeout": 0}, "slot_timeout must be a positive number"),
    ({"slot_timeout": float("inf")}, "slot_timeout must be a positive number"),
])
def test_bad_slot_options_are_clear_errors(options, message):
    with pytest.raises(ValueError, match=message):
        make_sandbox("subprocess", **options)


@contextmanager
def held_by_another_thread(gate, release):
    """A slot of `gate` taken by another thread, which gives it back once `release` is set (at the
    end of the block at the latest)."""
    holding = threading.Event()

    def hold():
        with gate.slot(1):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait()
    try:
        yield
    finally:
        release.set()
        thread.join()


def test_an_idle_gate_does_not_shorten_a_later_wait():
    """The give-up rule counts from when the run began waiting, not from a release before it: a gate
    idle for most of slot_timeout (while a model generates) made the next waiter give up early."""
    gate = SlotGate(1)
    with gate.slot(1):
        pass
    time.sleep(0.35)  # idle for most of the 0.5 s below
    release = threading.Event()
    with held_by_another_thread(gate, release):
        threading.Timer(0.3, release.set).start()
        with gate.slot(0.5):  # waits ~0.3 s: less than 0.5 s without a release since it began
            pass


def test_a_forked_child_starts_with_every_slot_free():
    """Slots held by the parent's other threads at fork time belong to threads the child does not
    have: without a reset every run in the child waited in vain."""
    gate = SlotGate(1)
    with held_by_another_thread(gate, threading.Event()):
        pid = os.fork()
        if pid == 0:  # the child: the slot its parent's other thread holds is free here
            os._exit(0 if gate.acquire(0.5) else 1)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
