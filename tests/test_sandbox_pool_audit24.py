"""Findings of the session-24 audit of the sandbox's warm worker pool: fork safety (a forked child
neither shares, nor kills, nor keeps alive its parent's workers, and can start workers of its own),
a send to a worker that takes no input is bounded by the run's deadline, a KeyboardInterrupt stops
the worker of the interrupted run, and bad limit values raise at the call."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import rlvr.sandbox.pool as pool_module
from rlvr.sandbox import make_sandbox
from rlvr.sandbox.limits import MAX_SECONDS, Limits

BACKENDS = ["subprocess", "bwrap", "docker"]


def _require(backend: str) -> None:
    """Skip (or fail, where RLVR_REQUIRE_BACKENDS names it) when `backend` cannot run here."""
    from conftest import TEST_LIMITS, get_sandbox

    get_sandbox(backend, **TEST_LIMITS)


#: Put before every script: `forked(work)` forks, runs `work(me)` in both processes (`me` is "parent"
#: or "child"; `work=None` on a side runs nothing there) and returns both results, the child's sent
#: back as JSON over a pipe (None when it sent nothing).
_FORK_HELPERS = """
import json as _json, os as _os


def forked(parent_work, child_work):
    read, write = _os.pipe()
    pid = _os.fork()
    if pid == 0:
        try:
            _os.write(write, _json.dumps(child_work("child") if child_work else None).encode())
        finally:
            _os._exit(0)
    _os.close(write)
    mine = parent_work("parent") if parent_work else None
    with _os.fdopen(read) as pipe:
        theirs = _json.loads(pipe.read() or "null")
    _os.waitpid(pid, 0)
    return mine, theirs
"""


def _script(source: str, *args: str, timeout: float = 90) -> dict:
    """Run `source` (after `_FORK_HELPERS`) in a fresh interpreter (its own session, killed whole if
    it hangs): the JSON object it prints last."""
    source = _FORK_HELPERS + textwrap.dedent(source)
    process = subprocess.Popen([sys.executable, "-c", source, *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"the script hung for {timeout}s\nstdout: {out}\nstderr: {err[-3000:]}")
    finally:
        try:  # a forked child left behind
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    lines = [line for line in out.splitlines() if line.startswith("{")]
    assert process.returncode == 0 and lines, f"rc={process.returncode}\nstdout: {out}\nstderr: {err[-3000:]}"
    return json.loads(lines[-1])


# -- 3. fork safety ---------------------------------------------------------------------------------
_BOTH_PROCESSES_RUN = """
import json, os, sys
from rlvr.sandbox import make_sandbox
box = make_sandbox(sys.argv[1], timeout=3)
assert box.run("pass").ok                              # one warm worker, idle in the pool
def six_runs(me):
    return [(r.status, r.stdout.strip()) for r in
            (box.run(f"import time; time.sleep(0.2); print({me!r})") for _ in range(6))]
parent, child = forked(six_runs, six_runs)
print(json.dumps({"parent": parent, "child": child}))
box.close()
"""


@pytest.mark.timeout(200)
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_forked_child_and_its_parent_never_share_a_worker(backend):
    # Both used the inherited pipes / attach socket of the parent's warm worker: the parent read
    # the child's results (Docker: 4 of 6 were "child"), or a process waited for an answer forever
    _require(backend)
    seen = _script(_BOTH_PROCESSES_RUN, backend, timeout=150)
    assert seen["parent"] == [["ok", "parent"]] * 6, seen
    assert seen["child"] == [["ok", "child"]] * 6, seen


_NEW_SANDBOX_IN_CHILD = """
import json, os, sys, threading
from rlvr.sandbox import make_sandbox
with make_sandbox(sys.argv[1]) as box:                 # the spawner thread starts here
    assert box.run("print(1)").ok
def in_child(me):
    seen = []
    def run():
        with make_sandbox(sys.argv[1]) as fresh:       # a brand-new sandbox, made in the child
            result = fresh.run("print('child')", timeout=2)
            seen.append([result.status, result.stdout.strip()])
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(30)
    return seen[0] if seen else "hung"
print(json.dumps({"child": forked(None, in_child)[1]}))
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", ["subprocess", "bwrap"])
def test_a_new_sandbox_made_in_a_forked_child_starts_its_workers(backend):
    # The spawner singleton survived the fork but its thread did not: the child's first run hung
    _require(backend)
    assert _script(_NEW_SANDBOX_IN_CHILD, backend)["child"] == ["ok", "child"]


_CHILD_EXITS_NORMALLY = """
import json, os, sys, time
from rlvr.sandbox import make_sandbox
box = make_sandbox(sys.argv[1], timeout=3)
assert box.run("pass").ok
(worker,) = box._pool._all
pid = os.fork()
if pid == 0:
    sys.exit(0)                                        # atexit: the pool's finalizer runs here
os.waitpid(pid, 0)
time.sleep(0.5)
alive = worker.alive()
result = box.run("print(7)")
print(json.dumps({"alive": alive, "same": box._pool._all == {worker}, "stdout": result.stdout}))
box.close()
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_forked_child_that_exits_leaves_its_parents_workers_running(backend):
    # The pool's weakref.finalize ran in the child at exit and killed the parent's workers (Docker:
    # removed the parent's container)
    _require(backend)
    seen = _script(_CHILD_EXITS_NORMALLY, backend)
    assert seen == {"alive": True, "same": True, "stdout": "7\n"}, seen


_PARENT_DIES = """
import json, os, signal, sys, time
from rlvr.sandbox import make_sandbox
box = make_sandbox(sys.argv[1], timeout=3)
assert box.run("pass").ok
(worker,) = box._pool._all
pid = os.fork()
if pid == 0:
    time.sleep(60)
    os._exit(0)
ident = worker.container.id if sys.argv[1] == "docker" else worker.process.pid
print(json.dumps({"worker": ident, "child": pid}), flush=True)
os.kill(os.getpid(), signal.SIGKILL)                   # the parent dies; the child lives on
"""


def _process_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X")
    except OSError:
        return True


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", ["subprocess", "docker"])
def test_a_forked_child_does_not_keep_its_dead_parents_worker_alive(backend):
    # The worker (the container) ends when its host's end of the pipe (attach socket) closes: a
    # child still holding a copy of it kept the worker of a dead parent running as long as it lived
    _require(backend)
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(_PARENT_DIES), backend],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        ready, _, _ = select.select([process.stdout], [], [], 60)  # (not to its end: the child holds it)
        line = process.stdout.readline() if ready else ""
        assert line.startswith("{"), f"the script printed {line!r}"
        assert process.wait(timeout=30) == -signal.SIGKILL
        seen = json.loads(line)
        if backend == "docker":
            import docker

            client = docker.from_env()

            def gone() -> bool:
                try:
                    client.containers.get(seen["worker"])
                except docker.errors.NotFound:
                    return True
                return False
        else:
            def gone() -> bool:
                return _process_gone(seen["worker"])
        deadline = time.monotonic() + 20
        while not gone() and time.monotonic() < deadline:
            time.sleep(0.25)
        assert gone(), "the dead parent's worker still runs while its forked child lives"
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the child
        except (ProcessLookupError, PermissionError):
            pass


_AFTER_FORK_HOOK = """
import json, os
from rlvr.sandbox.pool import WarmPool
from rlvr.sandbox.subprocess_backend import SubprocessSandbox
box = SubprocessSandbox(timeout=3)
calls = []
box._pool = WarmPool("subprocess", box._spawn, after_fork=lambda: calls.append(os.getpid()))
assert box.run("pass").ok
child = forked(None, lambda me: {"runs": [box.run("print(1)").stdout for _ in range(2)], "calls": calls,
                                  "me": os.getpid()})[1]
print(json.dumps({"child": child, "parent_calls": calls, "parent_run": box.run("print(2)").stdout}))
box.close()
"""


@pytest.mark.timeout(120)
def test_after_fork_is_called_once_in_the_child_before_its_first_worker():
    # The hook a backend gives to replace what else it shares with its parent (a Docker client)
    seen = _script(_AFTER_FORK_HOOK)
    child = seen["child"]
    assert child["runs"] == ["1\n", "1\n"] and child["calls"] == [child["me"]], seen
    assert seen["parent_calls"] == [] and seen["parent_run"] == "2\n", seen


_SHARED_SANDBOX = """
import json, os
from rlvr.envs.python_tool import shared_sandbox
parent = shared_sandbox("subprocess")
assert parent.run("pass").ok
pid = os.fork()
if pid == 0:
    mine = shared_sandbox("subprocess")
    ok = mine is not parent and mine.run("print(2)").stdout == "2\\n" and shared_sandbox("subprocess") is mine
    os._exit(0 if ok else 1)
_, status = os.waitpid(pid, 0)
print(json.dumps({"child": os.waitstatus_to_exitcode(status), "parent": parent.run("print(3)").stdout,
                  "same": shared_sandbox("subprocess") is parent}))
"""


@pytest.mark.timeout(120)
def test_the_python_tools_shared_sandbox_is_one_per_process():
    # gymnasium's AsyncVectorEnv forks: each child gets a sandbox (workers, Docker client) of its own
    assert _script(_SHARED_SANDBOX) == {"child": 0, "parent": "3\n", "same": True}


# -- 4. a worker that takes no input ----------------------------------------------------------------
_READS_STDIN = "import sys; print(len(sys.stdin.read()))"


@pytest.mark.timeout(90)
def test_a_stopped_worker_that_takes_no_input_is_lost_not_waited_for(monkeypatch):
    # A SIGSTOPped worker: writing 10 MB to its stdin blocked forever, holding the run's slot,
    # before the run's deadline was even set.
    # The whole worker is frozen, as `docker pause` freezes a container: its process group, not
    # only its pid. A run is read by a handler the worker forks once the previous run is answered;
    # stopping the worker alone, after that fork, left the handler to serve the run (the worker
    # rightly kept), and before it, no handler to read it (lost): the test depended on the race.
    monkeypatch.setattr(pool_module, "GRACE_SECONDS", 2.0)
    with make_sandbox("subprocess", timeout=2, max_concurrent=1) as box:
        assert box.run("pass").ok
        (worker,) = box._pool._all
        os.killpg(worker.process.pid, signal.SIGSTOP)  # (the worker leads its own group)
        try:
            began = time.monotonic()
            result = box.run(_READS_STDIN, stdin="a" * 10_000_000)
            elapsed = time.monotonic() - began
        finally:
            if worker.process.returncode is None:  # not reaped: its group id is still the worker's
                os.killpg(worker.process.pid, signal.SIGCONT)
        # lost at the deadline (2 s + 2 s grace), then run again on a fresh worker
        assert result.status == "ok" and result.stdout == "10000000\n", result
        assert elapsed < 30, elapsed
        assert worker not in box._pool._all and not worker.alive()


@pytest.mark.timeout(120)
def test_a_paused_container_is_lost_not_waited_for(monkeypatch):
    # `docker pause`: the send of a 10 MB stdin blocked for more than 90 s, holding its slot
    _require("docker")
    import docker

    monkeypatch.setattr(pool_module, "GRACE_SECONDS", 2.0)
    with make_sandbox("docker", timeout=2, max_concurrent=1) as box:
        assert box.run("pass").ok
        (worker,) = box._pool._all
        worker.container.pause()
        try:
            began = time.monotonic()
            result = box.run(_READS_STDIN, stdin="a" * 10_000_000)
            elapsed = time.monotonic() - began
        finally:
            try:
                worker.container.unpause()
            except docker.errors.APIError:  # (removed: the pool discarded it)
                pass
        assert result.status == "ok" and result.stdout == "10000000\n", result
        assert elapsed < 40, elapsed
        assert worker not in box._pool._all
        with pytest.raises(docker.errors.NotFound):
            box._client.containers.get(worker.container.id)


# -- 7. Ctrl-C during a run -------------------------------------------------------------------------
_INTERRUPTED = """
import json, os, signal, sys, threading
from rlvr.sandbox import make_sandbox
backend = sys.argv[1]
box = make_sandbox(backend, timeout=10)
assert box.run("pass").ok
(worker,) = box._pool._all
threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
try:
    box.run("import time; time.sleep(8)")
    interrupted = False
except KeyboardInterrupt:
    interrupted = True
kept = len(box._pool._all)
if backend == "docker":
    import docker
    try:
        box._client.containers.get(worker.container.id)
        running = True
    except docker.errors.NotFound:
        running = False
else:
    running = worker.alive()
after = box.run("print('after')")
print(json.dumps({"interrupted": interrupted, "kept": kept, "running": running,
                  "after": [after.status, after.stdout]}))
box.close()
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_keyboard_interrupt_during_a_run_stops_its_worker(backend):
    # The interrupted run's worker (container) went on running the program, neither idle nor
    # stopped, until the sandbox was closed; each Ctrl-C leaked one more
    _require(backend)
    seen = _script(_INTERRUPTED, backend)
    assert seen == {"interrupted": True, "kept": 0, "running": False, "after": ["ok", "after\n"]}, seen


# -- 8. bad limit values ----------------------------------------------------------------------------
@pytest.mark.parametrize("bad, field, allowed", [
    ({"timeout": float("nan")}, "timeout", "at most 86400 seconds"),
    ({"timeout": float("inf")}, "timeout", "at most 86400 seconds"),
    ({"timeout": 1e12}, "timeout", "at most 86400 seconds"),
    ({"timeout": -1}, "timeout", "at most 86400 seconds"),
    ({"cpu_time": -1}, "cpu_time", "at most 86400 seconds"),
    ({"cpu_time": float("nan")}, "cpu_time", "at most 86400 seconds"),
    ({"max_processes": 2.5}, "max_processes", "at least 1 and at most"),
    ({"memory_mb": 100.5}, "memory_mb", "at least 16 and at most"),
    ({"max_output_bytes": 0.5}, "max_output_bytes", "at least 1 and at most"),
    ({"max_file_mb": 2**40}, "max_file_mb", "at least 1 and at most"),
    ({"max_files": 0}, "max_files", "at least 1 and at most"),
])
def test_a_bad_limit_raises_at_the_call_naming_the_field_and_range(sandbox, bad, field, allowed):
    # These came back as sandbox_error results (nan, inf, 2.5 processes...) or ran (cpu_time=-1)
    with pytest.raises(ValueError, match=f"^{field} must be .*{allowed}"):
        sandbox.run("print(1)", **bad)


@pytest.mark.parametrize("bad", [{"timeout": "3"}, {"timeout": True}, {"max_processes": True}, {"memory_mb": "512"}])
def test_a_limit_that_is_no_number_raises_type_error(sandbox, bad):
    (field,) = bad
    with pytest.raises(TypeError, match=f"^{field} must be"):
        sandbox.run("print(1)", **bad)


def test_limits_in_range_are_kept_and_bad_sandbox_defaults_raise():
    limits = Limits(timeout=MAX_SECONDS, cpu_time=1, memory_mb=16, max_processes=1)
    assert limits.timeout == MAX_SECONDS and limits.cpu_seconds == 1  # (cpu_time rounded up: not a second more)
    assert Limits(cpu_time=1.2).cpu_seconds == 2 and Limits(timeout=5).cpu_seconds == 6
    assert type(Limits(timeout=5).timeout) is float and Limits(timeout=5).timeout == 5
    with pytest.raises(ValueError, match="timeout"):
        make_sandbox("subprocess", timeout=float("nan"))
    with pytest.raises(ValueError, match="max_processes"):
        make_sandbox("subprocess", max_processes=2.5)


_BOTH_PROCESSES_START_CONTAINERS = """
import json, os
from rlvr.sandbox import make_sandbox
box = make_sandbox("docker", timeout=5)
assert box.run("pass").ok
def wrong_results(me):
    bad = []
    for _ in range(12):  # (a race: about one round in ten went wrong)
        results = box.run_many([f"print({me!r})"] * 3, concurrency=3)
        bad += [(r.status, r.stdout.strip(), r.message[:120]) for r in results if r.stdout.strip() != me]
        for channel in list(box._pool._idle)[1:]:  # new containers again on the next round
            box._pool._idle.remove(channel)
            box._pool._discard(channel)
    return bad
parent, child = forked(wrong_results, wrong_results)
print(json.dumps({"parent": parent, "child": child}))
box.close()
"""


@pytest.mark.timeout(300)
def test_a_forked_child_talks_to_docker_over_a_client_of_its_own():
    # both processes used the parent's Docker client (one HTTP connection): creating containers at
    # once gave ConnectionError, APIError 500 "invalid character 'P'" or ChunkedEncodingError
    _require("docker")
    seen = _script(_BOTH_PROCESSES_START_CONTAINERS, timeout=240)
    assert seen == {"parent": [], "child": []}, seen


_CHILD_CLOSES_ITS_COPY = """
import json, os
from rlvr.sandbox import make_sandbox
box = make_sandbox("subprocess")
assert box.run("print(1)").ok
pid = os.fork()
if pid == 0:
    box.close()  # the child's copy of the sandbox
    os._exit(0)
os.waitpid(pid, 0)
result = box.run("print(2)")
print(json.dumps({"root": os.path.isdir(box._root), "status": result.status, "out": result.stdout.strip()}))
box.close()
"""


def test_a_forked_child_closing_its_copy_keeps_the_parents_work_folder():
    # the child's close() deleted the parent's work folder, under the parent's running sandbox
    seen = _script(_CHILD_CLOSES_ITS_COPY)
    assert seen == {"root": True, "status": "ok", "out": "2"}, seen


_FORK_WHILE_A_THREAD_READS_A_WORKERS_STDERR = """
import json, os, threading, time
from rlvr.sandbox import make_sandbox
box = make_sandbox("subprocess")
assert box.run("print(1)").ok
channel = next(iter(box._pool._all))
channel._stderr.write(b"x" * (200 << 20))  # a long read of it holds the file object's lock
channel._stderr.flush()
stop = False
def read_diagnostics():
    while not stop:
        channel.diagnostics()
threading.Thread(target=read_diagnostics, daemon=True).start()
time.sleep(0.3)
hung = 0
for _ in range(5):
    pid = os.fork()
    if pid == 0:
        os._exit(0)  # after the fork handlers: a preexec_fn's child runs them too
    deadline, done = time.monotonic() + 5, False
    while not done and time.monotonic() < deadline:
        done = os.waitpid(pid, os.WNOHANG)[0] != 0
        time.sleep(0.05)
    if not done:
        hung += 1
        os.kill(pid, 9)
        os.waitpid(pid, 0)
stop = True
print(json.dumps({"hung": hung}))
box.close()
"""


@pytest.mark.timeout(200)
def test_the_fork_handler_takes_no_lock_a_parent_thread_may_hold():
    # review of audit 24: the handler closed the inherited worker's buffered files, taking their
    # locks; a parent thread reading the worker's stderr at the fork held one, and the child (also
    # the one subprocess forks for bwrap's preexec_fn when rlvr runs as root) hung for ever
    assert _script(_FORK_WHILE_A_THREAD_READS_A_WORKERS_STDERR, timeout=150) == {"hung": 0}
