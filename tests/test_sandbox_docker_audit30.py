"""Sandbox audit 30, the Docker backend, against real containers.

- A program that has the container's OOM killer end the worker (it sets its own `oom_score_adj`
  back to the worker's and fills the tmpfs mounts from a tiny process) gets "memory" on that first
  loss, never a second, fresh attempt on a new container (a re-roll of a test it saw going wrong).
- The hint for a missing image names the image's own tag when it is not the default one.
- A worker whose host process goes away (SIGTERM, SIGKILL) during a run stops the run and exits at
  once, not when the run's time limit is up: its container is gone within seconds (the subprocess
  backend's worker, which nothing else stops, too).
- A daemon that hangs during a run ends it as a "sandbox_error" soon after its time limit: the
  container's removal waits `CALL_TIMEOUT_SECONDS`, not the client's whole timeout, and the run is
  not tried again on a container the hung daemon would be asked to create.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from conftest import TEST_LIMITS, get_sandbox
from rlvr.sandbox import SandboxUnavailable, make_sandbox
from rlvr.sandbox.image import DEFAULT_IMAGE

#: Makes itself the OOM killer's last choice (a tiny process at the worker's score), then fills
#: the container's memory with files in its tmpfs mounts: the worker (or its handler) is killed.
KILL_THE_WORKER_BY_OOM = r'''
import ctypes, os
ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # dumpable, to write its own oom_score_adj
open('/proc/self/oom_score_adj', 'w').write('0')
code = ("block = bytes(1 << 20)\n"
        "for d in ('/work', '/tmp', '/dev/shm'):\n"
        "    for i in range(3):\n"
        "        with open(f'{d}/f{i}', 'wb') as h:\n"
        "            for _ in range(39): h.write(block)\n")
os.execv('/usr/bin/python3', ['python3', '-I', '-S', '-c', code])
'''
OOM_LIMITS = {"timeout": 20, "memory_mb": 128, "max_file_mb": 40, "max_concurrent": 1}


def test_a_worker_lost_to_the_oom_killer_is_memory_without_a_second_attempt():
    sandbox = get_sandbox("docker", **OOM_LIMITS)
    pool = sandbox._pool
    assert sandbox.run('print("warm")').stdout == "warm\n"  # an idle container for the run
    spawn, started = pool._spawn, []

    def counting():
        started.append(1)
        return spawn()

    pool._spawn = counting
    try:
        result = sandbox.run(KILL_THE_WORKER_BY_OOM)
    finally:
        pool._spawn = spawn
    assert result.status == "memory", (result.status, result.message)
    assert "OOM killer" in result.message
    # one fresh container, for the empty program that tells a failing sandbox apart: the run itself
    # was never sent to a second one
    assert len(started) == 1, (len(started), result.message)
    assert sandbox.run('print("next")').stdout == "next\n"


def test_the_missing_image_hint_names_a_custom_tag():
    get_sandbox("docker", **TEST_LIMITS)  # (skips where Docker is unavailable)
    with pytest.raises(SandboxUnavailable) as raised:
        make_sandbox("docker", image="rlvr-audit30-missing:tag")
    message = str(raised.value)
    assert "`rlvr sandbox build-image --tag rlvr-audit30-missing:tag`" in message, message
    assert f"FROM {DEFAULT_IMAGE}" in message, message


#: An owner process: starts a run of a busy loop with a long time limit, prints what to watch (the
#: worker's container, or its process), then waits to be killed.
OWNER = """
import sys, threading, time
from rlvr.sandbox import make_sandbox
sandbox = make_sandbox(sys.argv[1], max_concurrent=1, timeout=600)
threading.Thread(target=sandbox.run, args=("while True: pass",), daemon=True).start()
while not sandbox._pool._all: time.sleep(0.05)
time.sleep(0.5)
(channel,) = sandbox._pool._all
print(channel.container.id if sys.argv[1] == "docker" else channel.process.pid, flush=True)
time.sleep(600)
"""


def start_owner(backend: str) -> tuple[subprocess.Popen, str]:
    owner = subprocess.Popen([sys.executable, "-c", OWNER, backend], stdout=subprocess.PIPE, text=True)
    return owner, owner.stdout.readline().strip()


def gone_within(seconds: float, gone) -> bool:
    deadline = time.monotonic() + seconds
    while not gone():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_a_container_ends_with_its_owner_during_a_long_run(how):
    import docker

    get_sandbox("docker", **TEST_LIMITS)  # (skips where Docker is unavailable)
    client = docker.from_env()
    owner, container = start_owner("docker")
    try:
        assert container, "the owner process started no container"
        owner.send_signal(how)
        owner.wait(10)

        def removed() -> bool:
            try:
                client.containers.get(container)
            except docker.errors.NotFound:
                return True
            return False

        assert gone_within(8, removed), "the container outlived its owner"
    finally:
        owner.kill()
        owner.wait()
        if container:
            try:
                client.containers.get(container).remove(force=True)
            except docker.errors.NotFound:
                pass


def test_a_subprocess_worker_ends_with_its_owner_during_a_long_run():
    owner, worker = start_owner("subprocess")
    pid = int(worker)

    def ended() -> bool:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                return handle.read().rsplit(")", 1)[1].split()[0] == "Z"  # (reaped later by init)
        except FileNotFoundError:
            return True

    try:
        owner.kill()
        owner.wait(10)
        assert gone_within(8, ended), "the worker outlived its owner"
    finally:
        owner.kill()
        owner.wait()
        if not ended():
            os.killpg(pid, signal.SIGKILL)


class StallingProxy:
    """A proxy in front of the Docker daemon's socket that stops relaying (without closing
    anything) once `stall` is set: a hung daemon."""

    def __init__(self, daemon: str) -> None:
        self.daemon, self.stall = daemon, threading.Event()
        self.path = os.path.join(tempfile.mkdtemp(prefix="rlvr-audit30-"), "docker.sock")
        self.server = socket.socket(socket.AF_UNIX)
        self.server.bind(self.path)
        self.server.listen(64)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.daemon)
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source, target) -> None:
        try:
            while True:
                data = source.recv(65536)
                while self.stall.is_set():
                    time.sleep(0.05)
                if not data:
                    break
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def test_a_daemon_that_hangs_during_a_run_ends_it_soon(monkeypatch):
    import docker

    from rlvr.sandbox import docker_backend, pool

    get_sandbox("docker", **TEST_LIMITS)  # (skips where Docker is unavailable)
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        pytest.skip("the Docker daemon is not reached through a unix socket here")
    proxy = StallingProxy(host[len("unix://"):])
    monkeypatch.setenv("DOCKER_HOST", f"unix://{proxy.path}")
    monkeypatch.setattr(docker_backend, "CALL_TIMEOUT_SECONDS", 2.0)  # (10 s in use)
    monkeypatch.setattr(pool, "GRACE_SECONDS", 1.0)  # (the run's own deadline is not what is tested)
    sandbox = make_sandbox("docker", timeout=1, max_concurrent=1)
    containers = []
    try:
        assert sandbox.run('print("warm")').stdout == "warm\n"
        containers = [channel.container.id for channel in sandbox._pool._all]
        proxy.stall.set()
        started = time.monotonic()
        result = sandbox.run("import time\ntime.sleep(30)")
        took = time.monotonic() - started
        assert result.status == "sandbox_error", (result.status, result.message)
        assert "did not answer" in result.message, result.message
        assert took < 10, took  # the run's 1 + 1 s, then the 2 s removal (with 60 s client timeouts: 120 s more)
    finally:
        proxy.stall.clear()
        sandbox.close()
        proxy.server.close()
        client = docker.DockerClient(base_url=host)
        for container in containers:
            try:
                client.containers.get(container).remove(force=True)
            except docker.errors.APIError:  # gone, or its removal under way
                pass


def test_an_outside_kill_is_no_oom_loss_even_after_the_oom_killer_acted():
    """A run whose children the OOM killer ended (the program may survive that) and whose container
    Docker then killed (an operator, a node drain) lost its worker from outside: it is tried again,
    not scored as the program's `memory` (review: the OOM event was read first)."""
    from rlvr.sandbox.docker_backend import loss_from_events

    assert loss_from_events({"oom", "kill", "die", "destroy"}) == "killed"
    assert loss_from_events({"kill", "die"}) == "killed"
    assert loss_from_events({"oom", "die", "destroy"}) == "oom"
    assert loss_from_events({"die"}) == "exited" and loss_from_events(set()) == "unknown"
