"""Findings of the second review of the session-34 sandbox mends: the allowance to receive a run
counted its bytes only, so hundreds of thousands of small files (a raised max_files), which take
tens of seconds to write out, ended as `sandbox_error`; and bubblewrap's seccomp filter allowed
every call of an architecture it does not list (32-bit ARM programs on an aarch64 kernel, every
program on a ppc64le, s390x or riscv64 host), skipping all its refusals."""

from __future__ import annotations

import json
import struct

import pytest

from rlvr.sandbox import SandboxUnavailable, available_backends, make_sandbox
from rlvr.sandbox import pool as pool_module
from rlvr.sandbox.base import Job
from rlvr.sandbox.bwrap import BwrapSandbox, seccomp_filter
from rlvr.sandbox.limits import Limits
from rlvr.sandbox.pool import Channel, WarmPool, job_message


# -- 1. the allowance to receive a run grows with its number of files ------------------------------
@pytest.mark.timeout(60)
def test_many_small_files_are_received_within_their_allowance(monkeypatch):
    # Before: 200000 empty files took ~34 s to write out (as root, each given to the job's uid)
    # against an allowance of 15 s + 0.25 s per MiB: two workers lost, a sandbox_error. Here the
    # same at a smaller scale: a grace of 0.05 s, and 10000 files (~1.5 s to write as root, ~0.2 s not).
    monkeypatch.setattr(pool_module, "GRACE_SECONDS", 0.05)
    count = 10000
    with make_sandbox("subprocess", timeout=2, max_concurrent=1, max_files=count + 200) as box:
        files = {f"d{i % 100}/f{i}": "" for i in range(count)}
        result = box.run("import os; print(sum(len(names) for _, _, names in os.walk('.')))", files=files)
    assert result.status == "ok" and result.stdout == f"{count + 1}\n", (result.status, result.message)


class _Frozen(Channel):
    """A worker that greets, then takes no input (a frozen one)."""

    def __init__(self) -> None:
        self._out = b'{"ready": true}\n'

    def send_line(self, data: bytes, timeout: float | None = None) -> None:
        raise TimeoutError(f"the worker took no input for {timeout:g}s")

    def _read_some(self, timeout: float) -> bytes | None:
        data, self._out = self._out, b""
        return data

    def kill(self) -> None:
        pass


def test_a_run_lost_while_received_names_its_files_and_folders_in_the_allowance(monkeypatch):
    monkeypatch.setattr(pool_module, "GRACE_SECONDS", 0.0)
    monkeypatch.setattr(pool_module, "SECONDS_PER_ENTRY", 0.0001)  # (a frozen worker is waited for that long)
    pool = WarmPool("fake", _Frozen)
    limits = Limits(timeout=1)
    files = {f"a/b/f{i}": "" for i in range(3000)} | {"c": ""}  # 3001 files in 2 folders (a, a/b)
    message = job_message(Job(code="print(1)", files=files), limits, warm_python=True)
    result = pool.execute(message, limits)
    pool.close()
    size = len(json.dumps(message).encode() + b"\n") / (1 << 20)
    allowance = pool_module.RECEIVE_SECONDS_PER_MIB * size + 0.0001 * 3003
    assert result.status == "sandbox_error", (result.status, result.message)
    assert "3003 files and folders" in result.message, result.message
    assert f"allowance of {allowance:.1f}s" in result.message and "0.0001s per file or folder" in result.message


# -- 2. a call of an architecture the filter does not list is refused --------------------------------
X86_64, I386, AARCH64, ARM, PPC64LE = 0xC000003E, 0x40000003, 0xC00000B7, 0x40000028, 0xC0000015
ALLOW, KILL_PROCESS = 0x7FFF0000, 0x80000000
CLONE_NEWUSER = 0x10000000


def _decide(arch: int, number: int, *args: int) -> int:
    """What the kernel would do with `seccomp_filter()`'s answer for system call `number` of
    `arch` with `args`: the classic-BPF program run on its `seccomp_data`, instruction by instruction."""
    data = struct.pack("=iIQ6Q", number, arch, 0, *args, *[0] * (6 - len(args)))
    program = seccomp_filter()
    instructions = [struct.unpack_from("=HBBI", program, i) for i in range(0, len(program), 8)]
    pc = accumulator = 0
    while True:
        code, true, false, k = instructions[pc]
        if code == 0x20:  # load a word of seccomp_data
            accumulator = struct.unpack_from("=I", data, k)[0]
        elif code == 0x06:  # return
            return k
        elif code in (0x15, 0x45):  # jump if equal, jump if set
            pc += true if (accumulator == k if code == 0x15 else accumulator & k) else false
        else:
            raise AssertionError(f"instruction {code:#x} unknown to this test")
        pc += 1


@pytest.mark.parametrize("arch, number, args", [
    (ARM, 337, (CLONE_NEWUSER,)),  # 32-bit ARM's unshare, on an aarch64 kernel
    (ARM, 120, (CLONE_NEWUSER,)),  # its clone into a user namespace
    (ARM, 311, ()),  # keyctl
    (ARM, 360, ()),  # inotify_init1
    (ARM, 221, (3, 1026)),  # fcntl64 F_NOTIFY
    (ARM, 4, (1, 0, 0)),  # even a plain write: nothing of an unknown architecture is checked
    (PPC64LE, 1, (0,)),  # a host the filter does not know
])
def test_a_call_of_an_architecture_not_listed_kills_the_process(arch, number, args):
    assert _decide(arch, number, *args) == KILL_PROCESS


@pytest.mark.parametrize("arch, write", [(X86_64, 1), (X86_64, 0x40000000 + 1), (I386, 4), (AARCH64, 64)])
def test_the_listed_architectures_are_still_allowed_their_plain_calls(arch, write):
    assert _decide(arch, write, 1, 0, 0) == ALLOW


def test_bwrap_is_unavailable_on_a_host_the_filter_does_not_know(monkeypatch):
    # (monkeypatched: no other architecture can be had here; the check reads platform.machine())
    import platform

    monkeypatch.setattr(platform, "machine", lambda: "ppc64le")
    works, why = BwrapSandbox.check()
    assert not works and "ppc64le" in why and "seccomp filter" in why, why
    assert available_backends()["bwrap"] == (False, why)
    with pytest.raises(SandboxUnavailable, match="not those of this ppc64le host"):
        make_sandbox("bwrap")
