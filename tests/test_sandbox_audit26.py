"""Sandbox audit 26, against real bubblewrap (and Docker where it runs).

- Bad `run()` arguments raise before anything runs, never as a "sandbox_error" that retires a
  worker: file contents that are neither str nor bytes (bytearray and memoryview are taken as
  bytes), file names that are not UTF-8 or that a file system cannot hold, and under bwrap stdin or
  files larger than its tmpfs mounts.
- A caller's own files past `max_files` raise, rather than ending a correct program as "file limit
  exceeded".
- A subprocess sandbox whose interpreter is missing cannot be made (`SandboxUnavailable`).
- bwrap's seccomp filter refuses raising a socket's or a pipe's buffer size (kernel memory outside
  every limit), and nothing else of setsockopt or fcntl.
"""

from __future__ import annotations

import os
import struct

import pytest

from conftest import TEST_LIMITS, get_sandbox
from rlvr.sandbox import SandboxUnavailable, make_sandbox
from rlvr.sandbox.bwrap import seccomp_filter

CORRECT = 'print("correct answer")'


# -- 1. bad files and stdin raise at the call ---------------------------------------------------
@pytest.mark.parametrize("files, error, match", [
    ({"\ud800": "x"}, ValueError, "file name .* is not valid text"),
    ({"d/\udfff/f": "x"}, ValueError, "file name .* is not valid text"),
    ({"a" * 256: "x"}, ValueError, "has a part over 255 bytes"),
    ({"d/" + "é" * 128: "x"}, ValueError, "has a part over 255 bytes"),  # 256 bytes in UTF-8
    ({"/".join(["a" * 200] * 16): "x"}, ValueError, "too long: at most 3072 bytes"),
    ({"a": 5}, TypeError, "file 'a' must hold str or bytes, got int"),
    ({"a": None}, TypeError, "file 'a' must hold str or bytes, got NoneType"),
])
def test_bad_files_raise_before_anything_runs(sandbox, files, error, match):
    with pytest.raises(error, match=match):
        sandbox.run(CORRECT, files=files)
    assert sandbox.run(CORRECT).stdout == "correct answer\n"


def test_bytes_like_file_contents_are_written_as_bytes(sandbox):
    code = "print(open('a', 'rb').read(), open('b', 'rb').read())"
    result = sandbox.run(code, files={"a": bytearray(b"\x00x"), "b": memoryview(b"yz")})
    assert (result.status, result.stdout) == ("ok", "b'\\x00x' b'yz'\n")


@pytest.mark.parametrize("backend", ["bwrap", "docker"])
def test_isolating_backends_refuse_stdin_and_files_larger_than_their_tmpfs_mounts(backend):
    sandbox = get_sandbox(backend, **{**TEST_LIMITS, "max_file_mb": 1, "max_files": 5000})  # 4 MiB mounts
    page = 4096
    fix = "tmpfs mounts hold 4 MiB each, 4x the sandbox's max_file_mb: create the sandbox with a larger max_file_mb"
    with pytest.raises(ValueError, match=f"stdin .* does not fit in /tmp: the {backend} backend's {fix}"):
        sandbox.run(CORRECT, stdin="a" * ((4 << 20) + 1))
    with pytest.raises(ValueError, match=f"more than it holds: the {backend} backend's {fix}"):
        sandbox.run(CORRECT, files={"d/f": b"a" * (1023 * page + 1)})  # with the program: 1025 pages
    with pytest.raises(ValueError, match="more than it holds"):  # each file takes a whole page
        sandbox.run(CORRECT, files={f"f{i}": "x" for i in range(1024)})
    # what fits exactly runs
    count = "import os, sys; print(len(sys.stdin.read()), sum(len(fs) for _, _, fs in os.walk('.')))"
    assert sandbox.run(count, stdin="a" * (4 << 20)).stdout == f"{4 << 20} 1\n"
    assert sandbox.run(count, files={"d/f": b"a" * (1023 * page)}).stdout == "0 2\n"
    assert sandbox.run(count, files={f"d{i}/f": "x" for i in range(1023)}).stdout == "0 1024\n"


# -- 2. the caller's own files past max_files -----------------------------------------------------
def test_callers_files_past_max_files_raise_instead_of_failing_the_program(sandbox):
    with pytest.raises(ValueError, match="make 101 entries in the work dir, more than max_files=50: raise max_files"):
        sandbox.run(CORRECT, files={f"d{i}": "x" for i in range(100)}, max_files=50)
    # the file, its two directories and the program
    with pytest.raises(ValueError, match="make 4 entries in the work dir, more than max_files=3"):
        sandbox.run(CORRECT, files={"a/b/c": "x"}, max_files=3)
    assert sandbox.run(CORRECT, files={"a/b/c": "x"}, max_files=4).stdout == "correct answer\n"


# -- 3. a subprocess sandbox without its interpreter -------------------------------------------
def test_subprocess_sandbox_with_a_missing_interpreter_is_unavailable():
    with pytest.raises(SandboxUnavailable, match="'/nonexistent' does not exist or is not executable: pass python="):
        make_sandbox("subprocess", python="/nonexistent")


# -- 4. socket and pipe buffers keep their default sizes under bwrap -------------------------------
BUFFER_PROGRAM = r"""
import fcntl, os, socket
a, b = socket.socketpair()
for option in (7, 8, 32, 33):  # SO_SNDBUF, SO_RCVBUF, SO_SNDBUFFORCE, SO_RCVBUFFORCE
    try:
        a.setsockopt(socket.SOL_SOCKET, option, 4 << 20)
        print(option, "set")
    except PermissionError:
        print(option, "refused")
read, write = os.pipe()
try:
    fcntl.fcntl(write, 1031, 1 << 20)  # F_SETPIPE_SZ
    print("pipe set")
except PermissionError:
    print("pipe refused")
print(fcntl.fcntl(write, 1032))  # F_GETPIPE_SZ
"""


def test_bwrap_refuses_raising_socket_and_pipe_buffers():
    result = get_sandbox("bwrap", **TEST_LIMITS).run(BUFFER_PROGRAM)
    assert result.stdout.split("\n") == ["7 refused", "8 refused", "32 refused", "33 refused",
                                         "pipe refused", "65536", ""], result.stderr


FLOOD_PROGRAM = r"""
import socket
queued, pairs = 0, []
for _ in range(4):
    a, b = socket.socketpair()
    pairs.append((a, b))
    for end in (a, b):
        try:
            end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 << 20)  # (the kernel caps it at wmem_max)
        except PermissionError:
            pass
        end.setblocking(False)
        try:
            while True:
                queued += end.send(b"x" * 65536)
        except BlockingIOError:
            pass
print(queued)
"""


def test_bwrap_socket_buffers_hold_only_the_kernel_default():
    """Four socketpairs filled both ways: at the default sizes (~212 KiB a socket) under 4 MiB in
    all, however large wmem_max is (4 MiB here: 64 MiB queued with raised buffers)."""
    result = get_sandbox("bwrap", **{**TEST_LIMITS, "memory_mb": 64}).run(FLOOD_PROGRAM)
    assert result.status == "ok", result.stderr
    assert 0 < int(result.stdout) < 4 << 20


SOCKETS_PROGRAM = r"""
import asyncio, fcntl, os, socket
from multiprocessing import Pool

async def answer():
    await asyncio.sleep(0)
    return 42

def check():
    print("asyncio", asyncio.run(answer()))
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    client = socket.create_connection(server.getsockname())
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn, _ = server.accept()
    client.sendall(b"tcp")
    print(conn.recv(3).decode(), server.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) > 0)
    unix = socket.socket(socket.AF_UNIX)
    unix.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    unix.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    unix.bind("/tmp/unix-socket")
    print("unix", unix.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))
    read, write = os.pipe()
    fcntl.fcntl(read, fcntl.F_SETFL, fcntl.fcntl(read, fcntl.F_GETFL) | os.O_NONBLOCK)
    fcntl.fcntl(read, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
    print("fcntl", bool(fcntl.fcntl(read, fcntl.F_GETFL) & os.O_NONBLOCK))
    with Pool(2) as pool:
        print("pool", pool.map(abs, [-1, -2]))

if __name__ == "__main__":
    check()
"""


def test_bwrap_other_setsockopt_and_fcntl_calls_work():
    result = get_sandbox("bwrap", **TEST_LIMITS).run(SOCKETS_PROGRAM)
    assert (result.status, result.stdout) == ("ok", "asyncio 42\ntcp True\nunix 1\nfcntl True\npool [1, 2]\n"), result.stderr


# The filter's decisions on the architectures the tests cannot run (32-bit x86, x32, aarch64),
# read by a small interpreter of the classic BPF instructions the filter uses.
X86_64, I386, AARCH64, X32 = 0xC000003E, 0x40000003, 0xC00000B7, 0x40000000
ALLOW, EPERM = 0x7FFF0000, 0x00050000 | 1


def _decide(arch: int, number: int, *args: int) -> int:
    """What `seccomp_filter()` returns for system call `number` of `arch` with `args`."""
    words = struct.pack("=iI", number, arch) + struct.pack("=Q", 0) + struct.pack("=6Q", *args, *[0] * (6 - len(args)))
    program = [struct.unpack_from("=HBBI", seccomp_filter(), i) for i in range(0, len(seccomp_filter()), 8)]
    pc, accumulator = 0, 0
    while True:
        code, true, false, k = program[pc]
        if code == 0x20:  # load a word of seccomp_data
            accumulator = struct.unpack_from("=I", words, k)[0]
        elif code == 0x06:  # return
            return k
        elif code in (0x15, 0x45):  # jump if equal, jump if set
            hit = accumulator == k if code == 0x15 else bool(accumulator & k)
            pc += true if hit else false
        else:
            raise AssertionError(f"instruction {code:#x} unknown to this test")
        pc += 1


@pytest.mark.parametrize("arch, setsockopt, fcntl", [
    (X86_64, 54, 72), (X86_64, X32 + 541, X32 + 72), (I386, 366, 55), (I386, 366, 221), (AARCH64, 208, 25),
])
def test_the_filter_refuses_buffer_sizes_on_every_architecture(arch, setsockopt, fcntl):
    for option in (7, 8, 32, 33):  # SO_SNDBUF, SO_RCVBUF, SO_SNDBUFFORCE, SO_RCVBUFFORCE
        assert _decide(arch, setsockopt, 3, 1, option, 0, 4) == EPERM
    assert _decide(arch, setsockopt, 3, 1, 2, 0, 4) == ALLOW  # SO_REUSEADDR
    assert _decide(arch, setsockopt, 3, 6, 7, 0, 4) == ALLOW  # level TCP, option 7 (not a buffer)
    assert _decide(arch, fcntl, 3, 1031, 1 << 20) == EPERM  # F_SETPIPE_SZ
    assert _decide(arch, fcntl, 3, 1032) == ALLOW  # F_GETPIPE_SZ
    assert _decide(arch, fcntl, 3, 4, 0o4000) == ALLOW  # F_SETFL


def test_the_filter_refuses_i386_socketcall_whose_arguments_it_cannot_read():
    assert _decide(I386, 102, 14, 0) == EPERM  # socketcall(SYS_SETSOCKOPT, ...)


def test_subprocess_sandbox_takes_an_interpreter_name_on_path(monkeypatch):
    """The check that refuses a missing interpreter looked for a bare name ("python3") in the
    current directory instead of on PATH, where the backend runs it from."""
    from rlvr.sandbox.bwrap import default_python

    # a PATH whose python3 every user can run (this machine's PATH may start with a pyenv shim
    # under /root, which a root sandbox refuses: its jobs could not read that installation)
    monkeypatch.setenv("PATH", os.path.dirname(default_python()))
    sandbox = make_sandbox("subprocess", python="python3")
    try:
        assert sandbox.run("print(1)").stdout == "1\n"
    finally:
        sandbox.close()
    with pytest.raises(SandboxUnavailable, match="'no-such-python3' does not exist"):
        make_sandbox("subprocess", python="no-such-python3")


# -- the read-through: a stderr past the cap can be cut while the run goes on ------------------------
LOGS_THEN_ANSWERS = ("import sys\nfor i in range(20000):\n    print('debug step', i, file=sys.stderr)\n"
                     "print('answer')\n")


def test_a_stderr_past_the_cap_stops_the_run_unless_it_is_to_be_cut(sandbox):
    """`check_io` judges stdout alone: it used to rerun a program stopped for its stderr with its
    source rewritten to discard stderr. The sandbox now cuts that stderr and lets the run go on."""
    cap = 4096
    stopped = sandbox.run(LOGS_THEN_ANSWERS, max_output_bytes=cap)
    assert stopped.status == "output_limit" and stopped.message.startswith("stderr exceeded")
    cut = sandbox.run(LOGS_THEN_ANSWERS, max_output_bytes=cap, stderr_overflow="cut")
    assert (cut.status, cut.stdout) == ("ok", "answer\n"), cut.message
    assert len(cut.stderr.encode()) == cap and cut.details["stderr_cut"] is True
    assert "stderr_cut" not in sandbox.run(CORRECT, stderr_overflow="cut").details
    flood = "print('x' * 10000)"  # stdout past the cap still stops the run
    assert sandbox.run(flood, max_output_bytes=cap, stderr_overflow="cut").status == "output_limit"
    with pytest.raises(ValueError, match="stderr_overflow must be one of 'stop', 'cut', got 'drop'"):
        sandbox.run(CORRECT, stderr_overflow="drop")
