"""Sandbox audit 26, the Docker backend, against real containers.

- A large UTF-8 stdin or text file is sent compactly (base64 of its bytes, not JSON's six-byte
  escapes), so a container receives what fits in its memory; more is refused at the call, naming
  memory_mb; and a worker whose handler is killed while receiving a run (before the program
  exists) reports a "sandbox_error", never the program's "memory" or "error".
- A file under a directory named like the program file raises at the call (every backend).
"""

from __future__ import annotations

import pytest

from conftest import TEST_LIMITS, get_sandbox
from rlvr.sandbox.base import Job
from rlvr.sandbox.docker_backend import OOM_EVENTS
from rlvr.sandbox.limits import Limits
from rlvr.sandbox.pool import job_message

CORRECT = 'print("correct answer")'
#: A container of 32 + 128 + 2 MiB: it receives at most (162 - 24) / 5 MiB, about 27 MiB, of input.
SMALL = {"timeout": 5, "memory_mb": 32}
#: Reads none of its input into memory (32 MiB would not hold it): its size, and its first bytes.
SIZES = ("import os, sys\n"
         "print(os.fstat(0).st_size, sys.stdin.buffer.read(4).decode(), os.path.getsize('d.txt'))")


def small_docker():
    return get_sandbox("docker", **SMALL)


# -- 1. large UTF-8 input -------------------------------------------------------------------------
def test_large_utf8_stdin_and_files_that_fit_reach_the_program():
    sandbox = small_docker()
    text = "\u00e9" * (6 << 20)  # 12 MiB of UTF-8 each, 72 MiB as JSON escapes (4x what the container holds)
    result = sandbox.run(SIZES, stdin=text, files={"d.txt": text})
    assert (result.status, result.stdout) == ("ok", f"{12 << 20} \u00e9\u00e9 {12 << 20}\n"), result.message


def test_input_the_container_cannot_receive_is_refused_at_the_call():
    sandbox = small_docker()
    with pytest.raises(ValueError, match="more than the docker backend's worker can receive in its memory .* "
                                         "create the sandbox with a larger memory_mb"):
        sandbox.run(CORRECT, stdin="\u00e9" * (15 << 20))  # 30 MiB of UTF-8: it fits /tmp (64 MiB)
    with pytest.raises(ValueError, match="larger memory_mb"):
        sandbox.run(CORRECT, stdin="a" * (16 << 20), files={"d.txt": b"\0" * (16 << 20)})
    assert sandbox.run(CORRECT).stdout == "correct answer\n"


def test_a_handler_killed_while_receiving_the_run_is_the_sandboxs_failure():
    """The run is handed to the pool past the call's checks: its 50 MiB of stdin (67 MiB as base64)
    cannot be received in the container's 162 MiB, and the OOM killer ends the handler before the
    program exists: nothing of it ran, so nothing is its fault."""
    sandbox = small_docker()
    limits = Limits().with_overrides(**SMALL)
    message = job_message(Job(code=CORRECT, stdin="\u00e9" * (25 << 20)), limits, warm_python=True,
                          rlimit_nproc=False)
    message["oom_events"] = OOM_EVENTS
    result = sandbox._pool.execute(message, limits)
    assert result.status == "sandbox_error", (result.status, result.message)
    assert "failed to receive the run, before the program started" in result.message
    assert "larger memory_mb" in result.message
    assert sandbox.run(CORRECT).stdout == "correct answer\n"


# -- 2. a file under the program's name ---------------------------------------------------------
@pytest.mark.parametrize("name, language", [("main.py/x", "python"), ("main.py/d/x", "python"),
                                            ("main.sh/x", "bash")])
def test_a_file_under_the_program_files_name_raises(sandbox, name, language):
    with pytest.raises(ValueError, match=f"file name '{name}' is taken by the program itself"):
        sandbox.run(CORRECT, files={name: "1"}, language=language)
    result = sandbox.run("print(open('main.pyx/x').read())", files={"main.pyx/x": "near"})
    assert (result.status, result.stdout) == ("ok", "near\n")
    assert get_sandbox(sandbox.name, **TEST_LIMITS).run(CORRECT).stdout == "correct answer\n"


def test_a_program_the_container_cannot_receive_is_refused_at_the_call():
    """The program travels as JSON text, where a character that is not ASCII takes six bytes: a
    5-million-character program of them (10 MiB as a file) passed the input check, counted as its
    UTF-8 bytes, and then failed as a sandbox_error."""
    sandbox = small_docker()
    program = "s = '" + "\u00e9" * (5 << 20) + "'\nprint(len(s))\n"
    with pytest.raises(ValueError, match="create the sandbox with a larger memory_mb"):
        sandbox.run(program)
    assert sandbox.run("s = '" + "\u00e9" * (1 << 16) + "'\nprint(len(s))\n").stdout == f"{1 << 16}\n"
