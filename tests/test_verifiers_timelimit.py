"""The time limit really stops work: from threads, asyncio and forked processes, each call bounded.

The checks are behavioural (the call raised TimeLimitExceeded, the verdict's kind is "timeout", the
worker was killed and replaced). Wall-clock bounds are only a loose hang guard (HANG_GUARD seconds,
far above any real run), so a loaded 2-core machine cannot make them flake.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from rlvr.verifiers.math import averify, verify
from rlvr.verifiers.timelimit import DEFAULT_MAX_WAIT, Budget, PoolBusy, TimeLimitExceeded, WorkerCrashed, WorkerPool

SLEEP = "rlvr.verifiers.timelimit:_sleep_then_return"
BUSY = "rlvr.verifiers.timelimit:_busy_loop"
HANG_GUARD = 60.0  # seconds; the hostile jobs below would run for 30 s each, or forever, if not killed


@pytest.fixture(scope="module")
def pool():
    p = WorkerPool(2, memory_mb=512)
    yield p
    p.close()


def test_result_comes_back(pool):
    assert pool.call(SLEEP, (0.0, {"a": [1, 2]}), timeout=5) == {"a": [1, 2]}


def test_cpu_bound_work_is_killed_and_the_worker_replaced(pool):
    before = pool.kills
    with pytest.raises(TimeLimitExceeded, match="timed out after 0.3s"):
        pool.call(BUSY, (30.0,), timeout=0.3)
    assert pool.kills == before + 1  # the busy worker was killed, not left running
    assert pool.call(SLEEP, (0.0, 7), timeout=5) == 7  # a fresh worker serves the next job


def test_errors_in_the_job_are_reported_not_hidden(pool):
    with pytest.raises(WorkerCrashed, match="ModuleNotFoundError"):
        pool.call("no.such.module:f", (), timeout=5)


def test_memory_bomb_fails_fast(pool):
    from rlvr.verifiers.timelimit import WorkerMemoryError

    with pytest.raises((WorkerMemoryError, TimeLimitExceeded)):
        pool.call("builtins:bytearray", (4 * 1024 ** 3,), timeout=5)


def test_many_threads_each_bounded(pool):
    """16 threads, half of them hostile: every call returns within its bound, results stay paired."""
    def one(i):
        start = time.monotonic()
        try:
            if i % 2:
                pool.call(BUSY, (30.0,), timeout=0.2)
                return i, "finished", time.monotonic() - start
            return i, pool.call(SLEEP, (0.01, i), timeout=5), time.monotonic() - start
        except TimeLimitExceeded:
            return i, "timeout", time.monotonic() - start

    before = pool.kills
    with ThreadPoolExecutor(16) as ex:
        results = list(ex.map(one, range(16)))
    for i, value, _ in results:
        assert value == ("timeout" if i % 2 else i)
    assert pool.kills == before + 8  # every hostile job's worker was killed
    # 8 hostile jobs of 30 s each: none of them ran to the end
    assert max(elapsed for *_, elapsed in results) < HANG_GUARD


def test_verify_from_many_threads_at_once():
    pairs = [("2", "\\boxed{10^{10^{10}}}"), ("x^2+2x+1", "(x+1)^2"), ("1/2", "0.5"), ("3", "\\boxed{\\frac{3\\sqrt{2}}{\\sqrt{2}}}")] * 4  # (needs sympy)
    out: dict[int, object] = {}

    def run(i):
        g, p = pairs[i]
        out[i] = verify(g, p + " " * i, timeout=0.5)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(pairs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(HANG_GUARD)
    assert not any(t.is_alive() for t in threads)
    for i, (g, p) in enumerate(pairs):
        kind = out[i].details["kind"]
        assert kind == ("timeout" if "10^" in p else "equal"), (i, out[i])


def test_asyncio_callers_are_bounded():
    async def main():
        return await asyncio.gather(averify("2", "\\boxed{9^{9^{9^9}}}", timeout=0.5),
                                    averify("\\pi", "\\boxed{\\pi}"), averify("\\sin^2 x+\\cos^2 x", "\\boxed{1}"))

    start = time.monotonic()
    slow, fast, trig = asyncio.run(main())
    assert time.monotonic() - start < HANG_GUARD
    assert slow.details["kind"] == "timeout" and fast.correct and trig.correct


def _child(q):
    v = verify("2", "\\boxed{10^{10^{10}}}", timeout=0.5)
    w = verify("\\sqrt{2}", "\\boxed{\\frac{2}{\\sqrt2}}", timeout=5)
    q.put((v.details["kind"], w.correct, os.getpid()))


@pytest.mark.skipif(os.name != "posix", reason="fork start method")
def test_forked_processes_build_their_own_pool():
    verify("\\sqrt{3}", "\\sqrt{3}+0", timeout=5)  # parent pool exists before the fork
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    procs = [ctx.Process(target=_child, args=(q,)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [q.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    assert all(r[:2] == ("timeout", True) for r in results)
    assert verify("\\sqrt{3}", "\\boxed{3^{1/2}}").correct  # the parent's pool still works


def test_no_free_worker_within_the_wait_limit_is_a_pool_failure_not_a_hang():
    with WorkerPool(1) as one, ThreadPoolExecutor(1) as ex:
        one.call(SLEEP, (0.0, None), timeout=30)  # started
        holder = ex.submit(one.call, SLEEP, (1.5, "held"), timeout=30)
        time.sleep(0.3)
        began = time.monotonic()
        with pytest.raises(PoolBusy, match=r"no free worker within 0.2s: all 1 workers stayed busy") as caught:
            one.call(SLEEP, (0.0, 1), timeout=30, wait=0.2)
        assert time.monotonic() - began < HANG_GUARD
        assert isinstance(caught.value, WorkerCrashed)  # an infrastructure failure for every caller
        assert holder.result() == "held"


def test_a_budget_is_spent_only_while_a_worker_runs_its_jobs():
    with WorkerPool(1) as one, ThreadPoolExecutor(1) as ex:
        one.call(SLEEP, (0.0, None), timeout=30)  # started
        holder = ex.submit(one.call, SLEEP, (1.5, "held"), timeout=30)
        time.sleep(0.2)
        budget = Budget(1.0)
        # waits ~1.3 s for the worker, then runs 0.3 s: within its 1 s, though 1.6 s went by
        assert one.call(SLEEP, (0.3, "mine"), timeout=budget) == "mine"
        assert holder.result() == "held"
        assert 0.0 < budget.left <= 0.7 and budget.wait_left < DEFAULT_MAX_WAIT - 1.0
        with pytest.raises(TimeLimitExceeded):  # what is left of it still bounds the next job
            one.call(BUSY, (30.0,), timeout=budget)
        assert budget.left == 0.0
        # its waits together are bounded too
        tight = Budget(5.0, max_wait=0.2)
        holder = ex.submit(one.call, SLEEP, (1.0, "held"), timeout=30)
        time.sleep(0.2)
        with pytest.raises(PoolBusy):
            one.call(SLEEP, (0.0, 1), timeout=tight)
        assert tight.left == 5.0 and holder.result() == "held"


# ------------------------------------------------------------------ signals (audit 24)

_CTRL_C_SCRIPT = r"""
import os, signal, time
from rlvr.verifiers.math import verify
seen = []
signal.signal(signal.SIGINT, lambda *_: seen.append(1))  # as the trainer does: finish the step, then save
assert verify("(x+1)**2", "x**2+2*x+1").correct  # the pool's workers are up
os.killpg(os.getpgrp(), signal.SIGINT)  # a terminal's Ctrl-C: the whole foreground process group
time.sleep(0.5)
results = [verify(f"(x+{i})**2", f"x**2+{2 * i}*x+{i * i}") for i in range(1, 6)]
print(seen, [(r.correct, r.error) for r in results])
"""


def test_a_ctrl_c_the_caller_handles_leaves_the_verifier_workers_running(tmp_path):
    """Ctrl-C reached the workers too (same process group): the step under way then scored
    'math worker failed: worker process died' (an infrastructure failure; the trainer retried its
    groups or stopped with exit 3 and saved nothing) instead of finishing and saving."""
    import subprocess
    import sys

    script = tmp_path / "ctrl_c.py"
    script.write_text(_CTRL_C_SCRIPT)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                         start_new_session=True)  # a process group of its own, as a terminal gives a command
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[1] " + str([(True, None)] * 5), out.stdout


_ORPHAN_SCRIPT = r"""
import sys, threading, time
from rlvr.verifiers.timelimit import WorkerPool
pool = WorkerPool(1, memory_mb=None)
threading.Thread(target=pool.call, args=("rlvr.verifiers.timelimit:_busy_loop", (600,)), kwargs={"timeout": 900},
                 daemon=True).start()
while not pool._busy:
    time.sleep(0.05)
print(next(iter(pool._busy)).pid, flush=True)
time.sleep(600)
"""


def test_a_worker_busy_on_a_long_job_dies_with_the_program(tmp_path):
    """The zygote ends when its caller goes (its control socket closes); a worker in the middle of a
    job reads nothing until the job ends, so it dies with the zygote (PR_SET_PDEATHSIG), not 10
    minutes later."""
    import signal
    import subprocess
    import sys

    script = tmp_path / "orphan.py"
    script.write_text(_ORPHAN_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        worker = int(proc.stdout.readline())
        os.kill(worker, 0)  # running
        proc.send_signal(signal.SIGKILL)  # no atexit, no cleanup: only the kernel's notices remain
        proc.wait(timeout=30)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.kill(worker, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(worker, signal.SIGKILL)
            pytest.fail(f"worker {worker} outlived its program by 20 s")
    finally:
        proc.kill()
