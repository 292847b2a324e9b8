"""The Docker backend's own limits and housekeeping, against a real Docker engine.

A run's lower `max_processes` (the container's pids limit, counted as bubblewrap counts it), the
number of files on its tmpfs mounts, a memory-limit kill by the container's OOM killer reported as
"memory", and containers that outlive a host process killed with SIGKILL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from conftest import REQUIRED_BACKENDS, get_sandbox
from rlvr.sandbox import make_sandbox
from rlvr.sandbox.bwrap import BwrapSandbox


def _docker_client():
    """A Docker SDK client where the Docker sandbox works, else skip (or fail, where CI requires it)."""
    pytest.importorskip("docker")
    from rlvr.sandbox.docker_backend import DockerSandbox

    available, why = DockerSandbox.check()
    if not available:
        if "docker" in REQUIRED_BACKENDS:
            pytest.fail(f"required sandbox backend 'docker' is unavailable: {why}")
        pytest.skip(f"sandbox backend 'docker' unavailable here: {why}")
    import docker

    return docker.from_env(timeout=60)


def _container_exists(client, container_id: str) -> bool:
    import docker

    try:
        client.api.inspect_container(container_id)
    except docker.errors.NotFound:
        return False
    return True


# -- max_processes: a run may lower it, and it counts as bubblewrap counts it ----------------------
FORK_TEN = """
import os, time
started = 0
for _ in range(10):
    try:
        if os.fork() == 0:
            time.sleep(1)
            os._exit(0)
    except OSError:
        break
    started += 1
print(started)
"""


def _children_started(sandbox, **limits) -> int:
    result = sandbox.run(FORK_TEN, **limits)
    assert result.status == "ok", result
    return int(result.stdout)


@pytest.mark.parametrize("max_processes", [3, 6])
def test_docker_run_with_lower_max_processes_gets_it_as_bwrap_does(max_processes):
    _docker_client()
    docker_box = get_sandbox("docker", timeout=10, max_processes=32)
    started = _children_started(docker_box, max_processes=max_processes)
    # the run's own processes: its main one and the children it started (the worker's are not its)
    assert started == max_processes - 1, f"max_processes={max_processes} let the run start {started} children"
    if BwrapSandbox.check()[0]:
        bwrap_box = get_sandbox("bwrap", timeout=10, max_processes=32)
        assert started == _children_started(bwrap_box, max_processes=max_processes)
    # the next run with the sandbox's own limit gets that limit back, and a run may also raise it
    assert _children_started(docker_box) == 10
    assert _children_started(docker_box, max_processes=40) == 10


# -- files on the tmpfs mounts -------------------------------------------------------------------
MANY_FILES = """
import os
CAP = 100_000
for path in ('/work', '/tmp', '/dev/shm'):
    made = 0
    os.mkdir(f'{path}/d')
    try:
        while made < CAP:
            os.close(os.open(f'{path}/d/{made}', os.O_CREAT | os.O_WRONLY, 0o600))
            made += 1
    except OSError as exc:
        assert exc.errno == 28, exc  # ENOSPC: out of inodes
    print(path, made)
"""


def test_docker_tmpfs_mounts_limit_the_number_of_files():
    _docker_client()
    sandbox = get_sandbox("docker", timeout=30, max_file_mb=8)
    result = sandbox.run(MANY_FILES)
    assert result.status == "ok", result
    counts = dict(line.split() for line in result.stdout.splitlines())
    assert set(counts) == {"/work", "/tmp", "/dev/shm"}
    for path, made in counts.items():
        assert 10_000 <= int(made) < 100_000, f"{path}: {made} empty files"
    assert sandbox.run("print(1)").stdout == "1\n"  # wiped, and the next run is served as usual


# -- a memory-limit kill by the container's OOM killer -------------------------------------------
# tmpfs files and the program's own memory are charged to the container: together they exceed it,
# and the OOM killer ends the largest process, the program (whose RLIMIT_AS is never reached).
OVER_THE_CONTAINER = """
for path in ('/work', '/tmp', '/dev/shm'):
    for i in range(3):
        with open(f'{path}/f{i}', 'wb') as handle:
            handle.write(b'x' * (39 << 20))
block = bytearray(100 << 20)
for i in range(0, len(block), 4096):
    block[i] = 1
print('survived')
"""


def test_docker_oom_kill_is_a_memory_result():
    _docker_client()
    sandbox = get_sandbox("docker", timeout=20, memory_mb=128, max_file_mb=40)
    result = sandbox.run(OVER_THE_CONTAINER)
    assert result.status == "memory" and "OOM" in result.message, result
    assert "survived" not in result.stdout
    # a program that kills itself with SIGKILL afterwards is still its own error
    killed = sandbox.run("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    assert killed.status == "error" and killed.message == "killed by signal SIGKILL", killed


# The same, filled in 1 MiB writes by one process far smaller than the worker (a fresh `python3 -S`):
# the OOM killer, left to itself, ends the largest process, which was the worker (the run then an
# `error`: "the program killed or froze its sandbox supervisor").
TMPFS_FILLED_BY_A_SMALL_PROCESS = """
import os
code = ("block = bytes(1 << 20)\\n"
        "for d in ('/work', '/tmp', '/dev/shm'):\\n"
        "    for i in range(3):\\n"
        "        with open(f'{d}/f{i}', 'wb') as handle:\\n"
        "            for _ in range(39):\\n"
        "                handle.write(block)\\n"
        "print('survived')\\n")
os.execv('/usr/bin/python3', ['python3', '-I', '-S', '-c', code])
"""


def test_docker_oom_killer_ends_the_run_not_the_worker():
    _docker_client()
    sandbox = get_sandbox("docker", timeout=20, memory_mb=128, max_file_mb=40, max_concurrent=1)
    result = sandbox.run(TMPFS_FILLED_BY_A_SMALL_PROCESS)
    assert result.status == "memory" and "OOM" in result.message, result
    assert "survived" not in result.stdout
    assert sandbox.run("print(1)").stdout == "1\n"  # the same worker serves the next run


CHILDREN_OVER_THE_CONTAINER = """
import os, time
kids = []
for i in range(3):
    pid = os.fork()
    if pid == 0:
        block = bytearray(200 << 20)
        time.sleep(2)
        os._exit(0)
    kids.append(pid)
print([os.waitpid(kid, 0)[1] for kid in kids])
"""


def test_docker_oom_kills_are_counted_per_run():
    """A run whose children the OOM killer ended is `memory`, even when it itself ended well (it went
    over its limit; audit 37: it was `ok`); and the kills are its own, never charged to a later run
    that kills itself."""
    _docker_client()
    sandbox = get_sandbox("docker", timeout=20, memory_mb=256, max_concurrent=1)
    children_killed = sandbox.run(CHILDREN_OVER_THE_CONTAINER)
    assert children_killed.status == "memory" and "9" in children_killed.stdout, children_killed  # SIGKILLed children
    killed = sandbox.run("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    assert killed.status == "error" and killed.message == "killed by signal SIGKILL", killed
    assert sandbox.run("print(1)").stdout == "1\n"


# -- containers of a host process that died ------------------------------------------------------
CRASH = """
import os, signal, threading, time
from rlvr.sandbox import make_sandbox
sandbox = make_sandbox("docker", max_concurrent=2, timeout=2)
for _ in range(2):  # the host dies while both containers run a program
    threading.Thread(target=sandbox.run, args=("import time; time.sleep(60)",), daemon=True).start()
deadline = time.monotonic() + 60
while len(sandbox._pool._all) < 2 and time.monotonic() < deadline:
    time.sleep(0.05)
time.sleep(0.5)
print(" ".join(channel.container.id for channel in list(sandbox._pool._all)), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_docker_containers_go_when_the_host_process_is_killed():
    client = _docker_client()
    proc = subprocess.run([sys.executable, "-c", CRASH], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    containers = proc.stdout.split()
    assert len(containers) == 2, proc.stdout
    try:
        deadline = time.monotonic() + 30  # (each worker ends once its program's 2 s are up)
        while any(_container_exists(client, c) for c in containers) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [c[:12] for c in containers if _container_exists(client, c)]
        assert not left, f"containers left behind by a killed host process: {left}"
    finally:
        for container in containers:
            try:
                client.api.remove_container(container, force=True)
            except Exception:  # noqa: BLE001 - gone, as it should be
                pass


def _owner_labels(pid: int) -> dict[str, str]:
    """The labels rlvr puts on the containers process `pid` starts (taken while it lives)."""
    with open("/proc/sys/kernel/random/boot_id") as handle:
        boot_id = handle.read().strip()
    with open(f"/proc/{pid}/stat", "rb") as handle:
        start = handle.read().rsplit(b")", 1)[1].split()[19].decode()
    return {"rlvr.sandbox": "worker", "rlvr.sandbox.boot_id": boot_id,
            "rlvr.sandbox.pid_ns": str(os.stat("/proc/self/ns/pid").st_ino),
            "rlvr.sandbox.pid": str(pid), "rlvr.sandbox.pid_start": start}


def test_a_new_docker_sandbox_removes_only_stopped_containers_of_dead_rlvr_processes():
    client = _docker_client()
    from rlvr.sandbox.image import DEFAULT_IMAGE

    gone = subprocess.Popen(["sleep", "60"])
    dead_owner = _owner_labels(gone.pid)
    gone.kill()
    gone.wait()
    live_owner = _owner_labels(os.getpid())

    def container(labels: dict, command: list[str], *, wait: bool = True) -> str:
        created = client.containers.run(DEFAULT_IMAGE, command, detach=True, labels=labels, network_mode="none")
        if wait:
            created.wait(timeout=60)
        return created.id

    made = {}
    try:
        made["orphan"] = container(dead_owner, ["true"])
        made["running, owner dead"] = container(dead_owner, ["sleep", "60"], wait=False)
        made["owner alive"] = container(live_owner, ["true"])
        made["owner unknown"] = container({"rlvr.sandbox": "worker"}, ["true"])
        made["other software"] = container({k: v for k, v in dead_owner.items() if k != "rlvr.sandbox"}, ["true"])
        with make_sandbox("docker"):
            pass
        assert not _container_exists(client, made["orphan"])
        for kind, container_id in made.items():
            if kind != "orphan":
                assert _container_exists(client, container_id), f"removed a container it must leave: {kind}"
    finally:
        for container_id in made.values():
            try:
                client.api.remove_container(container_id, force=True)
            except Exception:  # noqa: BLE001 - (the orphan is gone already)
                pass
