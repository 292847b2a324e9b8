"""Sandbox audit 24, against real bubblewrap and a real Docker engine.

- A job runs as its worker's user, so it can change the worker's own settings from outside
  (`prlimit`, `sched_setaffinity`, `setpriority`, `sched_setscheduler` on its pid); the next run
  on that worker must not inherit them: the worker retires (as it does after a setup failure).
- Docker keeps no log of a container's output (it would fill the host's disk).
- A large output of control characters under a raised output cap fits in the container (the
  worker sends output as base64, and the container's memory counts the output cap), and a run
  whose worker the container's OOM killer ends twice is "memory".
- A per-run `max_file_mb` above the sandbox's is refused by bwrap and Docker (their tmpfs size is
  fixed when a worker starts), as `memory_mb` and `max_files` are by Docker.
- A container killed from outside (`docker kill`) twice during a run is a "sandbox_error", not the
  program's "error".
- An image without python3 is refused when the Docker sandbox is made, naming the fix.
"""

from __future__ import annotations

import io
import os
import tarfile
import threading
import time

import pytest

from conftest import REQUIRED_BACKENDS, TEST_LIMITS, get_sandbox, own_sandbox
from rlvr.sandbox import SandboxUnavailable, make_sandbox
from rlvr.sandbox.limits import LANGUAGES


def _docker_client():
    """A Docker SDK client where the Docker sandbox works, else skip (or fail where CI requires it)."""
    pytest.importorskip("docker")
    from rlvr.sandbox.docker_backend import DockerSandbox

    available, why = DockerSandbox.check()
    if not available:
        if "docker" in REQUIRED_BACKENDS:
            pytest.fail(f"required sandbox backend 'docker' is unavailable: {why}")
        pytest.skip(f"sandbox backend 'docker' unavailable here: {why}")
    import docker

    return docker.from_env(timeout=60)


# -- 1. a job cannot leave its worker changed for the next run ----------------------------------
#: The sandboxes of these tests (a key of their own: without the fix, their workers are poisoned).
POISON_LIMITS = {**TEST_LIMITS, "timeout": 10, "max_files": 4000}
#: The pid of the job's worker: its handler's parent (pid 1 under bwrap and Docker).
WORKER_PID = "import os\nW = int(open(f'/proc/{os.getppid()}/stat').read().rsplit(')', 1)[1].split()[1])\n"
DEEP = "import sys\nsys.setrecursionlimit(10**5)\nx = []\nfor _ in range(20000):\n    x = [x]\nprint(len(repr(x)))"
ATTACKS = {
    # attack on the worker, then a program whose result the attack would change on that worker
    "address_space": ("import resource\nresource.prlimit(W, resource.RLIMIT_AS, (100 << 20, 100 << 20))",
                      "print('innocent')"),
    "stack": ("import resource\nresource.prlimit(W, resource.RLIMIT_STACK, (128 << 10, 128 << 10))", DEEP),
    "open_files": ("import resource\nresource.prlimit(W, resource.RLIMIT_NOFILE, (8, 8))", "print('innocent')"),
    "affinity": ("os.sched_setaffinity(W, {0})", "import os\nprint(sorted(os.sched_getaffinity(0)))"),
    "nice": ("os.setpriority(os.PRIO_PROCESS, W, 19)", "import os\nprint(os.getpriority(os.PRIO_PROCESS, 0))"),
    "scheduler": ("os.sched_setscheduler(W, os.SCHED_IDLE, os.sched_param(0))",
                  "import os\nprint(os.sched_getscheduler(0))"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
@pytest.mark.parametrize("backend", ["bwrap", "docker", "subprocess"])
def test_a_job_that_changes_its_workers_settings_does_not_reach_the_next_run(backend, attack):
    sandbox = get_sandbox(backend, **POISON_LIMITS)
    change, probe = ATTACKS[attack]
    before = sandbox.run(probe)
    assert before.status == "ok", before
    result = sandbox.run(WORKER_PID + change)
    assert result.status in ("ok", "error"), result  # (error: no right to, as jobs of a root subprocess sandbox)
    for _ in range(2):  # the runs after it, on the worker that was there (or its replacement)
        after = sandbox.run(probe)
        assert (after.status, after.stdout) == (before.status, before.stdout), (attack, after)


CRIPPLE_THE_HANDLER = """
import os, resource
resource.prlimit(os.getppid(), resource.RLIMIT_AS, (1 << 20, 1 << 20))  # the handler supervising this run
print("my wrong answer" * 20000)
"""


@pytest.mark.parametrize("backend", ["bwrap", "docker"])
def test_a_program_that_cripples_its_handler_is_its_own_error_not_the_sandboxs(backend):
    # review of audit 24: the handler (same user, the job's parent) failed to allocate and reported
    # sandbox_error "worker: MemoryError": a failing program could make its run unscored, and,
    # repeated, stop a training run as an infrastructure outage
    sandbox = get_sandbox(backend, **POISON_LIMITS)
    result = sandbox.run(CRIPPLE_THE_HANDLER)
    assert result.status == "error" and not result.infrastructure_failed, result
    assert "changed its sandbox supervisor's resource limits" in result.message
    assert sandbox.run("print('next')").stdout == "next\n"


@pytest.mark.parametrize("backend", ["bwrap", "docker"])
def test_a_failure_to_start_the_program_retires_the_worker(backend, monkeypatch):
    sandbox = get_sandbox(backend, **POISON_LIMITS)
    assert sandbox.run("print(1)").ok
    before = set(sandbox._pool._all)
    monkeypatch.setitem(LANGUAGES, "ghost", ("main.gh", ("rlvr-no-such-interpreter",)))
    result = sandbox.run("anything", language="ghost")
    assert result.status == "sandbox_error" and "could not start the program" in result.message, result
    assert len(before - set(sandbox._pool._all)) == 1, "the worker that failed to start the program was kept"
    assert sandbox.run("print(2)").stdout == "2\n"


# -- 2. Docker keeps no log of the runs' output --------------------------------------------------
def test_docker_containers_keep_no_log_of_the_runs_output():
    client = _docker_client()
    sandbox = get_sandbox("docker", **TEST_LIMITS)
    result = sandbox.run("import sys\nsys.stdout.write('\\x01' * 90_000)\nprint('end', file=sys.stderr)")
    assert result.status == "ok" and result.stdout == "\x01" * 90_000 and result.stderr == "end\n", result
    assert sandbox._pool._all
    for channel in list(sandbox._pool._all):
        config = client.api.inspect_container(channel.container.id)["HostConfig"]["LogConfig"]
        assert config["Type"] == "none", config


# -- 5. large outputs fit in the container; a worker OOM-killed twice is "memory" ----------------
def test_docker_a_large_output_of_control_characters_fits_in_the_container():
    _docker_client()
    size = 24_000_000
    sandbox = own_sandbox("docker", memory_mb=128, max_output_bytes=30_000_000, timeout=30, max_concurrent=1)
    try:
        result = sandbox.run(f"import sys\nfor _ in range({size // 1_000_000}):\n"
                             "    sys.stdout.buffer.write(b'\\x01' * 1_000_000)")
        assert result.status == "ok", (result.status, result.message)
        assert len(result.stdout) == size and set(result.stdout) == {"\x01"}
    finally:
        sandbox.close()


@pytest.mark.parametrize("backend", ["bwrap", "docker", "subprocess"])
def test_output_bytes_come_back_as_the_program_wrote_them(backend):
    sandbox = get_sandbox(backend, **TEST_LIMITS)
    code = ("import sys\nsys.stdout.buffer.write(b'a\\x00\\x01\\\\\"\\n\\xff\\xc3\\xa9z')\n"
            "sys.stderr.buffer.write('\\u00e9\\u2603 \\U0001F600'.encode())")
    result = sandbox.run(code)
    assert result.status == "ok", result
    assert result.stdout == 'a\x00\x01\\"\n\ufffd\u00e9z' and result.stderr == "\u00e9\u2603 \U0001F600"
    cut = sandbox.run("print('x' * 100, end='')", max_output_bytes=7)
    assert cut.status == "output_limit" and cut.stdout == "x" * 7, cut


def test_docker_a_run_whose_worker_the_oom_killer_ends_twice_is_memory():
    _docker_client()
    sandbox = own_sandbox("docker", memory_mb=32, max_file_mb=64, max_output_bytes=100_000, timeout=10,
                           max_concurrent=1)
    try:
        # the program gives up being the OOM killer's first choice, then fills the container's
        # memory with files: the worker is the largest process left
        fill = ("echo 0 > /proc/self/oom_score_adj\n"
                "head -c 60M /dev/zero > /dev/shm/a; head -c 60M /dev/zero > /tmp/b; head -c 60M /dev/zero > c")
        result = sandbox.run(fill, language="bash")
        assert result.status == "memory" and "OOM killer" in result.message, result
        assert sandbox.run("print(1)").stdout == "1\n"
    finally:
        sandbox.close()


def test_docker_a_run_whose_supervisor_the_oom_killer_ends_is_memory():
    _docker_client()
    sandbox = own_sandbox("docker", memory_mb=64, max_output_bytes=100_000, timeout=20, max_concurrent=1)
    try:
        # the program gives up being the OOM killer's first choice, then prints far more than the
        # container holds under a cap raised for this run: its handler, holding the output, is the largest
        code = ("import ctypes, sys\nctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE\n"
                "open('/proc/self/oom_score_adj', 'w').write('0')\n"
                "for _ in range(250):\n    sys.stdout.buffer.write(b'x' * 1_000_000)")
        result = sandbox.run(code, max_output_bytes=300_000_000)
        assert result.status == "memory" and "OOM killer ended the run's supervisor" in result.message, result
        assert sandbox.run("print(1)").stdout == "1\n"
    finally:
        sandbox.close()


# -- 6. a per-run max_file_mb above the sandbox's is refused where the tmpfs size is fixed --------
@pytest.mark.parametrize("backend", ["bwrap", "docker"])
def test_a_run_may_not_raise_max_file_mb_above_the_sandboxs(backend):
    sandbox = get_sandbox(backend, **TEST_LIMITS)
    with pytest.raises(ValueError, match="max_file_mb"):
        sandbox.run("open('f', 'wb').write(b'x' * 80_000_000)", max_file_mb=100)
    with pytest.raises(ValueError, match="max_file_mb"):
        sandbox.run_many([{"code": "print(1)", "max_file_mb": 100}])
    lowered = sandbox.run("open('f', 'wb').write(b'x' * 3_000_000)", max_file_mb=2)
    assert lowered.status == "output_limit", lowered
    assert sandbox.run("open('f', 'wb').write(b'x' * 3_000_000)\nprint('ok')").stdout == "ok\n"


# -- 9. a container killed from outside twice is the sandbox's failure ----------------------------
def test_docker_a_container_killed_from_outside_twice_during_a_run_is_a_sandbox_error():
    client = _docker_client()
    sandbox = own_sandbox("docker", timeout=10, max_concurrent=1)
    killed: list[str] = []

    def killer() -> None:  # kill the container running the run, then its replacement, as an operator would
        deadline = time.monotonic() + 30
        while len(killed) < 2 and time.monotonic() < deadline:
            fresh = [c.container.id for c in list(sandbox._pool._all) if c.container.id not in killed]
            if not fresh:
                time.sleep(0.05)
                continue
            time.sleep(0.7)  # the run is under way on it
            client.api.kill(fresh[0])
            killed.append(fresh[0])

    try:
        assert sandbox.run("print(1)").ok  # one warm container
        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        result = sandbox.run("import time\ntime.sleep(4)\nprint('done')")
        thread.join(30)
        assert len(killed) == 2
        assert result.status == "sandbox_error" and result.infrastructure_failed, result
        assert "killed from outside" in result.message, result
        assert sandbox.run("print(2)").stdout == "2\n"
    finally:
        sandbox.close()


# -- 11. an image without python3 is refused up front ----------------------------------------------
def test_docker_an_image_without_python3_is_refused_when_the_sandbox_is_made():
    client = _docker_client()
    from rlvr.sandbox.docker_backend import DockerSandbox

    tag = f"rlvr-test-no-python:audit24-{os.getpid()}"
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        data = b"an image without python3\n"
        info = tarfile.TarInfo("README")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    repository, version = tag.split(":")
    client.api.import_image_from_data(archive.getvalue(), repository=repository, tag=version)
    try:
        available, why = DockerSandbox.check(tag)
        assert not available and "python3" in why and "rlvr sandbox build-image" in why, why
        with pytest.raises(SandboxUnavailable, match="python3"):
            make_sandbox("docker", image=tag)
    finally:
        client.images.remove(tag, force=True)
