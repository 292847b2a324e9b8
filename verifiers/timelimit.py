"""Time limits that really stop the work: a pool of worker processes killed and replaced on timeout.

Why not `signal.alarm` or a thread with a join timeout? An alarm only works in the main thread of
the main interpreter, and a timed-out thread keeps running (and keeps the GIL busy) after the caller
has given up; sympy evaluating `10**10**10` never checks for cancellation. The only way to stop such
work for sure is to run it in another process and kill that process.

`WorkerPool.call(target, args, timeout=...)` sends the job to an idle worker, waits at most `timeout`
seconds for the answer, and on timeout kills the worker (SIGKILL) and lets a fresh one be started
for the next job. It is safe to call from many threads at once (each caller holds one worker for the
length of its call; callers beyond the pool size wait for a free worker). The time limit starts
once the job has a worker, so other callers' load never eats into it; the wait for a free worker is
bounded on its own (`wait`, default `DEFAULT_MAX_WAIT`), and a wait past it raises `PoolBusy`, an
infrastructure failure. Time limits and waits are at most `MAX_SECONDS` (a day; more is a
ValueError). `kill_jobs_of(threads)` kills the workers running jobs for some threads at once (an
interrupted caller's: see `rlvr.verifiers.math.verify_batch`). A `Budget` is one time limit
shared by several jobs run one after another (the claims of one solution): each job gets what is
left of it, and only the time it held a worker is taken from it. The pool can be called from
asyncio (via `loop.run_in_executor`, see `rlvr.verifiers.math.averify`) and from several processes: a pool
belongs to the process that created it, and a forked child transparently builds its own (with a
lock of its own around the shared pools: a thread of the parent's may have held the parent's at the
fork).

Workers are forked by a small helper process (the "zygote") that is started once with `subprocess`,
imports the modules named in `preload` and then forks a warm worker on each request: a replacement
worker is ready in milliseconds rather than re-importing sympy, forking never happens in the
caller's (possibly multi-threaded) process, and the caller's `__main__` is never re-executed (no
`if __name__ == "__main__"` guard needed, unlike multiprocessing's spawn and forkserver methods).
Unix only (it passes sockets with SCM_RIGHTS).
Each worker also caps its own address space (`memory_mb`) so a memory bomb fails fast instead of
swapping the machine.

At interpreter exit every pool of the process is closed (`_close_pools_at_exit`): its workers are
killed, busy ones too, and the zygote is waited for (at most `_ZYGOTE_EXIT_WAIT` seconds, then
killed), so no worker outlives the process and `python -W always` reports no unclosed resource.

A target is named by a string "package.module:function" so that nothing unpicklable crosses the
process boundary; it must return something picklable.
"""

from __future__ import annotations

import atexit
import importlib
import os
import queue
import socket
import threading
import time
import weakref
from typing import Any, Callable, Sequence

__all__ = ["DEFAULT_MAX_WAIT", "MAX_SECONDS", "Budget", "PoolBusy", "TimeLimitExceeded", "WorkerCrashed", "WorkerPool", "get_pool",
           "run_with_time_limit"]

#: Seconds a call waits at most for a free worker (a `Budget`: all its jobs' waits together) before
#: it fails with `PoolBusy`. Far above any wait of a working pool: it only ends a pool that is stuck
#: or hopelessly overloaded, as an infrastructure failure rather than a hang.
DEFAULT_MAX_WAIT = 300.0

#: Seconds `_Zygote.close` waits for the zygote to exit once told to (it exits at once unless it is
#: still importing the preload modules) before it kills it: closing a pool never hangs.
_ZYGOTE_EXIT_WAIT = 2.0


#: The longest time limit (and wait for a worker) a call accepts, in seconds: a day, as the code
#: sandbox's. Past about 24 days the waits themselves fail (`poll` takes milliseconds as a C int).
MAX_SECONDS = 86_400.0


def _check_seconds(what: str, seconds: float) -> None:
    """A ValueError naming `what` unless `seconds` is a number of at most `MAX_SECONDS` (NaN is not)."""
    if not seconds <= MAX_SECONDS:
        raise ValueError(f"{what} must be at most {MAX_SECONDS:g} seconds, got {seconds!r}")


class TimeLimitExceeded(Exception):
    """The job did not finish within its time limit; the worker running it was killed."""

    def __init__(self, timeout: float) -> None:
        super().__init__(f"timed out after {timeout:g}s")
        self.timeout = timeout


class WorkerCrashed(RuntimeError):
    """The worker process died while running the job (an infrastructure failure, not a verdict)."""


class PoolBusy(WorkerCrashed):
    """No worker became free within the wait limit: the pool is stuck or overloaded (an
    infrastructure failure, never the job's fault; the job was not run)."""


class Budget:
    """One time limit shared by jobs run one after another (e.g. all the claims of one solution).

    Pass it as `WorkerPool.call(..., timeout=budget)`: the job may run for what is `left` of the
    budget once it has a worker, and only the time it held the worker is taken from `left`;
    waiting for a free worker (other callers' load) costs nothing. The waits of all its jobs
    together are bounded by `max_wait` (then `PoolBusy`). Not for jobs run at the same time.

    Attributes:
        seconds: the whole budget; left: what is left of it; wait_left: waiting time left.
    """

    __slots__ = ("seconds", "left", "wait_left")

    def __init__(self, seconds: float, *, max_wait: float = DEFAULT_MAX_WAIT) -> None:
        self.seconds = self.left = float(seconds)
        self.wait_left = float(max_wait)


def _resolve(target: str) -> Callable[..., Any]:
    module_name, _, func_name = target.partition(":")
    return getattr(importlib.import_module(module_name), func_name)


def _worker_main(conn: Any, memory_mb: int | None) -> None:  # pragma: no cover - runs in a child
    """Loop in the worker: receive (target, args), run it, send ("ok", value) or ("err", message)."""
    if memory_mb:
        try:
            import resource

            limit = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ImportError, ValueError, OSError):
            pass
    cache: dict[str, Callable[..., Any]] = {}
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if message is None:
            return
        target, args = message
        try:
            func = cache.get(target) or cache.setdefault(target, _resolve(target))
            reply = ("ok", func(*args))
        except MemoryError:
            reply = ("memory", "exceeded the worker memory limit")
        except RecursionError:
            reply = ("err", "RecursionError: expression nested too deeply")
        except BaseException as exc:  # noqa: BLE001 - report anything to the parent, keep serving
            reply = ("err", f"{type(exc).__name__}: {exc}"[:500])
        try:
            conn.send(reply)
        except (OSError, ValueError, TypeError) as exc:
            try:
                conn.send(("err", f"result could not be sent back: {exc}"[:500]))
            except OSError:
                return


class WorkerMemoryError(MemoryError):
    """The job exceeded the worker's memory cap."""


class _Zygote:
    """A clean single-threaded helper process that forks workers on request.

    It is started with `subprocess` (so it never re-runs the caller's `__main__` and never inherits
    the caller's threads or locks), imports the preload modules once, then forks a warm worker for
    each request and passes the worker's end of a socket back over SCM_RIGHTS.
    """

    def __init__(self, preload: Sequence[str], memory_mb: int | None) -> None:
        import subprocess
        import sys

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(os.environ)
        # `python -c` puts the working directory first on the import path; the workers keep it only
        # when this process has it too (`python -m`, a REPL), so that a stray file there (a
        # `colorsys.py` beside the user's data) cannot shadow a module the workers import
        keep_cwd = any(entry in ("", os.getcwd()) for entry in sys.path)
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from rlvr.verifiers.timelimit import _zygote_main; _zygote_main()",
             str(theirs.fileno()), ",".join(preload), str(memory_mb or 0), str(int(keep_cwd))],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            env=env,
            close_fds=True,
            # a session of its own: a terminal's Ctrl-C (SIGINT to the foreground process group) is
            # the caller's to handle (the trainer finishes its step and saves), not a signal that
            # kills the workers in the middle of that step's verifications
            start_new_session=True,
        )
        theirs.close()
        self.sock = ours
        self.lock = threading.Lock()

    def fork_worker(self) -> tuple[int, Any]:
        from multiprocessing.connection import Connection

        with self.lock:
            try:
                self.sock.sendall(b"F")
                msg, fds, _flags, _addr = socket.recv_fds(self.sock, 64, 1)
            except OSError as exc:
                raise WorkerCrashed(f"worker starter process is gone: {exc}") from None
            if not fds:
                raise WorkerCrashed("worker starter process is gone (exit code "
                                    f"{self.process.poll()})")
        return int(msg.decode()), Connection(fds[0])

    def close(self, *, kill: bool = False) -> None:
        """Tell the zygote to exit (its socket closes) and reap it: after `_ZYGOTE_EXIT_WAIT`
        seconds, or at once with `kill`, it is killed (it only exits once it has imported the
        preload modules: sympy takes a second). Either way it is waited for, so no `Popen` is left
        running."""
        import subprocess

        try:
            self.sock.close()
        except OSError:
            pass
        if kill:
            self.process.kill()
        try:
            self.process.wait(timeout=_ZYGOTE_EXIT_WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            try:
                self.process.wait(timeout=_ZYGOTE_EXIT_WAIT)  # a killed process is reaped at once
            except subprocess.TimeoutExpired:  # stuck in the kernel: leave it rather than hang
                pass


def _zygote_main() -> None:  # pragma: no cover - runs in a child process
    import signal
    import sys
    from multiprocessing.connection import Connection

    fd, preload, memory_mb = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    if sys.argv[4:5] == ["0"]:  # the caller does not import from its working directory: nor do we
        cwd = os.getcwd()
        sys.path[:] = [entry for entry in sys.path if entry not in ("", cwd)]
    # Interrupts and termination requests are the caller's: it ends this process by closing the
    # control socket (so also when it dies), and kills a worker past its time limit. The workers
    # inherit these dispositions.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for name in filter(None, preload.split(",")):
        importlib.import_module(name)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    control = socket.socket(fileno=fd)
    while True:
        try:
            request = control.recv(1)
        except (OSError, KeyboardInterrupt):
            request = b""
        if not request:
            os._exit(0)
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                control.close()
                a.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                _die_with_parent()  # a worker busy on a long job when the caller (and so we) went away
                _worker_main(Connection(b.detach()), memory_mb or None)
            except BaseException:  # noqa: BLE001
                code = 1
            finally:
                os._exit(code)
        b.close()
        try:
            socket.send_fds(control, [str(pid).encode()], [a.fileno()])
        except OSError:
            os._exit(0)
        a.close()


def _die_with_parent() -> None:  # pragma: no cover - runs in a child process
    """Ask Linux to SIGKILL this process when its parent (the single-threaded zygote) exits; a no-op
    elsewhere. Without it a worker computing a job that never ends outlives the program."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class _Worker:
    __slots__ = ("pid", "conn")

    def __init__(self, zygote: _Zygote) -> None:
        self.pid, self.conn = zygote.fork_worker()

    def kill(self) -> None:
        import signal

        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.conn.close()
        except OSError:
            pass


class WorkerPool:
    """A bounded set of worker processes that run jobs under a hard time limit.

    Args:
        size: most workers alive at once (default: number of CPUs). Workers start lazily.
        preload: modules the forkserver imports once so new workers start warm.
        memory_mb: address-space cap per worker (None for no cap).
    """

    def __init__(
        self,
        size: int | None = None,
        *,
        preload: Sequence[str] = (),
        memory_mb: int | None = 2048,
    ) -> None:
        self.size = max(1, size or os.cpu_count() or 1)
        self.memory_mb = memory_mb
        self._preload = tuple(preload)
        self._zygote: _Zygote | None = None
        self._idle: "queue.LifoQueue[_Worker]" = queue.LifoQueue()
        self._lock = threading.Lock()
        self._alive = 0
        self._slots = threading.BoundedSemaphore(self.size)
        # workers running a job, with the thread each runs it for (see `close(kill_busy=True)`, `kill_jobs_of`)
        self._busy: dict[_Worker, int] = {}
        self._pid = os.getpid()
        self._closed = False
        self.kills = 0  # workers killed on timeout (for tests and metrics)
        _all_pools.add(self)

    # -- worker bookkeeping -------------------------------------------------------------
    def _acquire(self, wait: float) -> _Worker:
        """A worker for one job, waiting at most `wait` seconds for a free one (else `PoolBusy`)."""
        if not self._slots.acquire(timeout=max(0.0, wait)):
            raise PoolBusy(f"no free worker within {wait:.3g}s: all {self.size} workers stayed busy with other "
                           "jobs (the pool is stuck or overloaded; the job was not run)")
        try:
            worker = self._idle_alive()
            if worker is None:
                with self._lock:
                    if self._zygote is None or self._zygote.process.poll() is not None:
                        self._zygote = _Zygote(self._preload, self.memory_mb)
                    zygote = self._zygote
                worker = _Worker(zygote)
                with self._lock:
                    self._alive += 1
            with self._lock:
                self._busy[worker] = threading.get_ident()
            return worker
        except BaseException:
            self._slots.release()
            raise

    def _idle_alive(self) -> _Worker | None:
        """An idle worker that is still alive, or None when there is none. A worker that died while
        idle (killed from outside: the host's OOM killer, an operator) has its end of the pipe
        readable, at EOF, and is dropped here, so that no job is sent to it: the job would fail as
        "worker process died", an error verdict for a pair nothing was wrong with."""
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                return None
            try:
                dead = worker.conn.poll(0)  # an idle worker never writes: anything readable is its end
            except (OSError, EOFError):
                dead = True
            if not dead:
                return worker
            worker.kill()
            with self._lock:
                self._alive -= 1

    def _release(self, worker: _Worker, *, broken: bool = False) -> None:
        with self._lock:
            self._busy.pop(worker, None)
        try:
            if broken or self._closed:
                worker.kill()
                with self._lock:
                    self._alive -= 1
            else:
                self._idle.put(worker)
        finally:
            self._slots.release()

    # -- public -------------------------------------------------------------------------
    def call(self, target: str, args: tuple = (), *, timeout: "float | Budget", wait: float | None = None) -> Any:
        """Run `target(*args)` in a worker; return its value within `timeout` seconds or raise.

        Args:
            timeout: seconds the job may run once it has a worker, or a `Budget` to run it in.
            wait: most seconds to wait for a free worker (default: `DEFAULT_MAX_WAIT`, or with a
                `Budget`, its `wait_left`).

        Raises:
            TimeLimitExceeded: the job ran past `timeout`; its worker was killed.
            WorkerMemoryError: the job exceeded the worker memory cap.
            WorkerCrashed: the worker died or the job raised (message included).
            PoolBusy: no worker became free within `wait` (a `WorkerCrashed`: not the job's fault).
        """
        if self._closed:
            raise RuntimeError("this WorkerPool is closed; create a new one")
        _check_seconds("timeout", timeout.left if isinstance(timeout, Budget) else timeout)
        if wait is not None:
            _check_seconds("wait", wait)
        if os.getpid() != self._pid:
            raise RuntimeError("a WorkerPool cannot be used from a forked child; use get_pool()")
        budget = timeout if isinstance(timeout, Budget) else None
        if wait is None:
            wait = budget.wait_left if budget is not None else DEFAULT_MAX_WAIT
        asked = time.monotonic()
        try:
            worker = self._acquire(wait)
        finally:
            started = time.monotonic()
            if budget is not None:
                budget.wait_left -= started - asked
        if budget is None:
            return self._run(worker, target, args, timeout)
        try:
            return self._run(worker, target, args, budget.left)
        finally:
            budget.left = max(0.0, budget.left - (time.monotonic() - started))

    def _run(self, worker: _Worker, target: str, args: tuple, timeout: float) -> Any:
        """`call` once it holds `worker`: send the job, wait at most `timeout`, give the worker back."""
        try:
            worker.conn.send((target, tuple(args)))
            finished = worker.conn.poll(timeout)
            if finished:
                status, value = worker.conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            self._release(worker, broken=True)
            raise WorkerCrashed(f"worker process died: {type(exc).__name__}: {exc}") from None
        except BaseException:
            self._release(worker, broken=True)  # e.g. KeyboardInterrupt while waiting: the worker is busy
            raise
        if not finished:
            self.kills += 1
            self._release(worker, broken=True)
            raise TimeLimitExceeded(timeout)
        self._release(worker, broken=status == "memory")
        if status == "ok":
            return value
        if status == "memory":
            raise WorkerMemoryError(value)
        raise WorkerCrashed(value)

    def map(self, target: str, arg_tuples: Sequence[tuple], *, timeout: float) -> list[Any]:
        """Run many jobs at once over all workers; each result is a value or the exception raised."""
        from concurrent.futures import ThreadPoolExecutor

        def one(args: tuple) -> Any:
            try:
                return self.call(target, args, timeout=timeout)
            except Exception as exc:  # noqa: BLE001 - returned to the caller per job
                return exc

        with ThreadPoolExecutor(max_workers=self.size) as ex:
            return list(ex.map(one, arg_tuples))

    def kill_jobs_of(self, threads: "set[int] | frozenset[int]") -> int:
        """Kill the workers now running jobs for the threads whose idents are in `threads` (see
        `threading.get_ident`); their calls raise `WorkerCrashed` at once. For a caller that is
        interrupted while its threads wait on jobs (Ctrl-C in `verify_batch`): each job would
        otherwise run to its time limit. Other callers' jobs go on. Returns how many were killed."""
        import signal

        with self._lock:
            doomed = [worker for worker, thread in self._busy.items() if thread in threads]
        for worker in doomed:
            try:  # the call that holds it sees its end of the socket close, and gives it back
                os.kill(worker.pid, signal.SIGKILL)
            except OSError:
                pass
        return len(doomed)

    @property
    def alive(self) -> int:
        return self._alive

    def close(self, *, kill_busy: bool = False) -> None:
        """Stop every idle worker and the zygote; busy workers stop when their call returns, or
        now with `kill_busy` (their calls then raise `WorkerCrashed`; used at interpreter exit,
        where a call may never return: a daemon thread's, or a job stuck past any limit)."""
        self._closed = True
        if kill_busy:
            with self._lock:
                busy = list(self._busy)
            for worker in busy:
                worker.kill()
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                break
            try:
                worker.conn.send(None)
            except OSError:
                pass
            worker.kill()
            with self._lock:
                self._alive -= 1
        if self._zygote is not None:
            self._zygote.close(kill=kill_busy)  # (at exit: no waiting for its imports to end)
            self._zygote = None

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


_pools: dict[tuple, WorkerPool] = {}
_pools_lock = threading.Lock()
#: every pool created in this process (and inherited ones), for `_close_pools_at_exit`
_all_pools: "weakref.WeakSet[WorkerPool]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """A thread of the parent's may have held `_pools_lock` at the fork: the child's is a new one
    (the parent's pools it inherits are dropped by `get_pool`, which builds the child's own)."""
    global _pools_lock
    _pools_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def get_pool(size: int | None = None, *, preload: Sequence[str] = (), memory_mb: int | None = 2048) -> WorkerPool:
    """The process-wide shared pool for these settings (a forked child gets its own; a pool that
    was closed is replaced by a new one)."""
    key = (os.getpid(), size, tuple(preload), memory_mb)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None or pool._closed:
            for stale in [k for k in _pools if k[0] != os.getpid()]:
                del _pools[stale]  # inherited from a parent: its workers are not ours
            pool = _pools[key] = WorkerPool(size, preload=preload, memory_mb=memory_mb)
        return pool


def _close_pools_at_exit() -> None:
    """Close every pool this process created when the interpreter exits, busy workers included.

    Without it the zygote stays running and its socket open until the process is gone
    (`ResourceWarning`s under `python -W always`), and a worker stuck in a job a daemon thread
    started would outlive the process. Bounded: workers are killed, the zygote waited for at most
    `_ZYGOTE_EXIT_WAIT` seconds before it is killed. A forked child leaves its parent's pools alone.
    """
    for pool in list(_all_pools):
        if pool._pid == os.getpid() and not pool._closed:
            pool.close(kill_busy=True)


atexit.register(_close_pools_at_exit)


def run_with_time_limit(target: str, args: tuple = (), *, timeout: float, pool: WorkerPool | None = None) -> Any:
    """Convenience: `get_pool().call(target, args, timeout=timeout)`."""
    return (pool or get_pool()).call(target, args, timeout=timeout)


def _sleep_then_return(seconds: float, value: Any) -> Any:
    """Test helper: a job that takes `seconds` (used by the thread-safety tests)."""
    time.sleep(seconds)
    return value


def _busy_loop(seconds: float) -> int:
    """Test helper: CPU-bound work that never yields to signals or checks for cancellation."""
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return n
