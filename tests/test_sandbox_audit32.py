"""Sandbox audit 32, against real sandboxes (bwrap, and Docker where it runs).

1. Sockets a run leaves in its worker's network namespace, which lives as long as the worker: a
   unix socket whose own fd waits in its receive queue (sent to itself with SCM_RIGHTS) outlives
   every process of the run until the kernel's collector of such cycles runs, and its abstract
   name (data of the run's choosing) was listed in /proc/net/unix to the later runs of the same
   worker; so was a closed TCP connection in TIME_WAIT, its ports chosen by the run. A worker whose
   run left any socket now retires; a run that closes its sockets the ordinary way costs nothing.
2. Docker: the container's memory cap grew with twice `max_output_bytes` without bound (2 GiB of
   output allowed 4 GiB more memory under memory_mb=512). A sandbox whose output reserve exceeds its
   `memory_mb` is now refused at construction, naming both settings.
"""

from __future__ import annotations

import pytest

from conftest import TEST_LIMITS, own_sandbox
from rlvr.sandbox import Limits, make_sandbox
from rlvr.sandbox.base import SandboxUnavailable

#: A sandbox of this file's own per test: its workers retire during the tests.
LIMITS = {**TEST_LIMITS, "timeout": 20, "max_concurrent": 1}

#: Prints which worker serves the run (its host name and the start time of its pid 1: a network
#: namespace's id is no good, Docker gives a freed one to the next container), then what the
#: namespace's socket tables list.
LOOK = """
import socket
print(socket.gethostname() + ":" + open("/proc/1/stat").read().rsplit(")", 1)[1].split()[19])
print(sum(1 for line in open("/proc/net/unix") if "rlvr-audit32" in line))
print(len(open("/proc/net/tcp").read().splitlines()) - 1)
"""
#: Binds 50 abstract names, each socket's fd sent to itself, then closed: the sockets outlive the run.
SELF_LOOPS = """
import array, socket
for i in range(50):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(b"\\0rlvr-audit32-%04d-%s" % (i, b"ab" * 20))
    s.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [s.fileno()]))], 0, s.getsockname())
    s.close()
print("stored")
"""
#: Five loopback connections closed by the client: they stay in TIME_WAIT, their ports chosen.
TIME_WAIT = """
import socket
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
for i in range(5):
    client = socket.socket()
    client.connect(server.getsockname())
    accepted, _ = server.accept()
    client.close()
    accepted.close()
print("closed")
"""
#: Ordinary socket use: a socketpair passing an fd to its peer, an abstract name, a listening unix
#: socket with a connection, a bound UDP socket, an asyncio event loop (its self-pipe is a
#: socketpair) and a TCP listener, all closed or left to the end of the run.
ORDINARY = """
import array, asyncio, socket
a, b = socket.socketpair()
a.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [a.fileno()]))])
a.close(); b.close()
named = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
named.bind(b"\\0rlvr-audit32-ordinary")
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(b"\\0rlvr-audit32-listener"); listener.listen()
peer = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); peer.connect(b"\\0rlvr-audit32-listener")
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("127.0.0.1", 0))
tcp = socket.socket(); tcp.bind(("127.0.0.1", 0)); tcp.listen()
async def main():
    return sum(await asyncio.gather(*(asyncio.sleep(0, i) for i in range(5))))
print(asyncio.run(main()))
"""


def _look(sandbox) -> tuple[str, int, int]:
    """(the serving worker, abstract names of this file's, TCP sockets) as a run sees them."""
    result = sandbox.run(LOOK)
    assert result.status == "ok", (result.status, result.message, result.stderr)
    namespace, names, tcp = result.stdout.split()
    return namespace, int(names), int(tcp)


# -- 1. sockets left in the worker's network namespace --------------------------------------------
@pytest.mark.parametrize("backend", ["bwrap", "docker"])
@pytest.mark.parametrize("attack", [SELF_LOOPS, TIME_WAIT], ids=["unix-self-loops", "tcp-time-wait"])
def test_sockets_a_run_leaves_never_reach_the_next_run(backend, attack):
    sandbox = own_sandbox(backend, **LIMITS)
    try:
        before, _, _ = _look(sandbox)
        result = sandbox.run(attack)
        assert result.status == "ok", (result.status, result.message, result.stderr)
        after, names, tcp = _look(sandbox)
        assert (names, tcp) == (0, 0)  # nothing of the previous run is listed
        if attack is TIME_WAIT:  # (self-loops vanish early when the kernel collects them meanwhile:
            # closing unix sockets anywhere on the host may start its collector)
            if backend == "docker":  # its containers keep no TIME_WAIT entry: nothing to retire for
                assert after == before
            else:
                assert after != before  # the worker that served it retired, its namespace with it
    finally:
        sandbox.close()


@pytest.mark.parametrize("backend", ["bwrap", "docker"])
def test_a_run_that_closes_its_sockets_keeps_its_worker(backend):
    sandbox = own_sandbox(backend, **LIMITS)
    try:
        before, _, _ = _look(sandbox)
        result = sandbox.run(ORDINARY)
        assert result.status == "ok" and result.stdout == "10\n", (result.status, result.message, result.stderr)
        assert _look(sandbox) == (before, 0, 0)  # the same worker serves on
    finally:
        sandbox.close()


#: Reads the socket tables as the handler does after each run (`_sockets_left`), 200 times, in
#: the run's own namespace (the host's tables, with the host's sockets, are far longer).
TIMED = """
import time
from worker_check import _sockets_left
start = time.perf_counter()
for _ in range(200):
    assert _sockets_left() == 0
print((time.perf_counter() - start) / 200)
"""


@pytest.mark.parametrize("backend", ["bwrap", "docker"])
def test_counting_the_sockets_left_is_cheap(backend):
    import inspect

    from rlvr.sandbox import worker

    check = (f"SOCKET_TABLES, SOCKET_COUNTS = {worker.SOCKET_TABLES!r}, {worker.SOCKET_COUNTS!r}\n"
             f"NAMESPACE_COUNTS = {worker.NAMESPACE_COUNTS!r}\n{inspect.getsource(worker._sockets_left)}")
    sandbox = own_sandbox(backend, **LIMITS)
    try:
        result = sandbox.run(TIMED, files={"worker_check.py": check})
        assert result.status == "ok", (result.status, result.message, result.stderr)
        assert float(result.stdout) < 0.001  # (about 0.07 ms where this was written)
    finally:
        sandbox.close()


# -- 2. Docker: the output reserve may not lift the memory cap beyond memory_mb --------------------
@pytest.mark.parametrize("max_output_bytes", [2**31, 2**40, 256 * 2**20 + 1])
def test_docker_refuses_an_output_reserve_larger_than_memory_mb(max_output_bytes):
    pytest.importorskip("docker")
    from rlvr.sandbox.docker_backend import DockerSandbox

    with pytest.raises(ValueError, match=r"max_output_bytes=\d+ is too large for memory_mb=512.*at most 268435456"):
        DockerSandbox(memory_mb=512, max_output_bytes=max_output_bytes)


def test_docker_container_memory_stays_within_twice_memory_mb():
    from rlvr.sandbox.docker_backend import WORKER_OVERHEAD_MB, check_output_reserve, container_memory_mb

    largest = Limits(memory_mb=512, max_output_bytes=256 * 2**20)
    check_output_reserve(largest)  # (allowed: the reserve equals memory_mb)
    assert container_memory_mb(largest) == 2 * 512 + WORKER_OVERHEAD_MB
    check_output_reserve(Limits(memory_mb=16))  # the default output cap fits the smallest memory_mb


def test_docker_limits_are_checked_only_once_docker_answers(monkeypatch):
    """A review found the output-reserve refusal raised before the engine was asked: on a host
    without Docker, `make_sandbox("auto")` stopped on a ValueError about Docker instead of going on
    to a backend these limits suit (it moves on only on SandboxUnavailable)."""
    pytest.importorskip("docker")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/rlvr-audit32.sock")
    with pytest.raises(SandboxUnavailable):
        make_sandbox("docker", memory_mb=64, max_output_bytes=50_000_000)
