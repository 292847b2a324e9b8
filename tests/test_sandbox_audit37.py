"""Findings of the session-37 sandbox audit:

1. Docker: a run some of whose processes the container's OOM killer ended was `ok` unless its main
   process was the one killed; it is `memory` now, whatever the exit status.
2. The status was read from stderr's text: a program printing "ValueError: File too large input"
   got `output_limit`. Warm Python is judged by the TYPE of the exception that ended it (a
   MemoryError, an ENOMEM/EFBIG OSError, in its cause/context chain or in an exception group), not
   by who raised it nor by its files; only a command the worker execs is still judged by its stderr
   text, marked `inferred_from`. (A first fix judged by the raising instruction and by a file at
   the size limit: an input file at the limit, a file truncated to it, a pool's or a TaskGroup's
   re-raised MemoryError were all misjudged; see the regressions at the end.)
3. Output that is not UTF-8 was silently replaced: `details["stdout_undecodable"]` counts the bytes.
4. A Docker daemon that accepts connections but never answers held `make_sandbox("docker")` for 60 s.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time

import pytest
from conftest import TEST_LIMITS, get_sandbox

from rlvr.sandbox import SandboxUnavailable, make_sandbox

BACKENDS = ["subprocess", "bwrap", "docker"]


@pytest.fixture(params=BACKENDS)
def backend_any(request):
    """The sandbox of each backend, with the test limits (a backend absent here skips)."""
    return get_sandbox(request.param, **TEST_LIMITS)


# -- 1. Docker: an OOM kill of any process of the run makes it "memory" ----------------------------
CHILDREN_OVER_THE_CONTAINER = """
import os, time
kids = []
for i in range(4):
    pid = os.fork()
    if pid == 0:
        block = bytearray(200 << 20)
        for j in range(0, len(block), 4096):
            block[j] = 1
        time.sleep(2)
        os._exit(0)
    kids.append(pid)
print([os.waitpid(kid, 0)[1] for kid in kids])
"""


def test_docker_oom_kill_of_a_child_makes_the_run_memory():
    sandbox = get_sandbox("docker", timeout=20, memory_mb=256, max_concurrent=1)
    result = sandbox.run(CHILDREN_OVER_THE_CONTAINER)
    assert result.exit_code == 0 and "9" in result.stdout, result  # the program itself ended well
    assert result.status == "memory", result
    killed = result.details["oom_kills"]
    assert killed >= 1 and f"OOM killer of the sandbox's memory cgroup ended {killed} of the run's" in result.message
    # the kills are that run's: a later run that kills itself is its own error
    itself = sandbox.run("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    assert itself.status == "error" and itself.message == "killed by signal SIGKILL", itself


# -- 2. statuses from evidence, not from stderr's text ----------------------------------------------
FORGED = {
    "file_too_large_text": "import sys\nprint('ValueError: File too large input', file=sys.stderr)\nsys.exit(1)",
    "memory_error_text": "import sys\nprint('MemoryError', file=sys.stderr)\nsys.exit(1)",
    "memory_error_text_value_error": "import sys\nprint('MemoryError', file=sys.stderr)\nraise ValueError('no')",
    # a process the program forked ran out of memory; the program's own process fails otherwise
    "forked_child_memory_error": ("import os, sys\nif os.fork() == 0:\n    x = bytearray(10**11)\n"
                                  "os.wait()\nsys.exit(1)"),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", sorted(FORGED))
def test_a_limit_named_in_stderr_is_no_limit(backend, case):
    result = get_sandbox(backend, **TEST_LIMITS).run(FORGED[case])
    assert result.status == "error", result
    assert "inferred_from" not in result.details


RAISED_BY_THE_PROGRAM = {
    "raise_memory_error": ("raise MemoryError('fake')", "memory"),
    "raise_memory_error_bare": ("def f():\n    raise MemoryError\nf()", "memory"),
    "raise_efbig": ("import errno\nraise OSError(errno.EFBIG, 'File too large')", "output_limit"),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", sorted(RAISED_BY_THE_PROGRAM))
def test_a_limit_error_the_program_raises_is_taken_at_its_word(backend, case):
    """An uncaught MemoryError (or ENOMEM/EFBIG OSError) is judged by its type, not by who raised
    it: a program that raises one itself claims it ran out of memory (or file size) and gets
    `memory` (`output_limit`), as documented. It gains nothing: any program can really exhaust its
    memory. (The first fix gave `error` here, by looking for a `raise` statement, and missed
    re-raised genuine ones: a pool's, a TaskGroup's.)"""
    program, status = RAISED_BY_THE_PROGRAM[case]
    result = get_sandbox(backend, **TEST_LIMITS).run(program)
    assert result.status == status, result
    assert "inferred_from" not in result.details


GENUINE = {
    "allocation": ("x = bytearray(10**11)", "memory"),
    "allocated_slowly": ("chunks = []\nwhile True:\n    chunks.append(bytearray(10**7))", "memory"),
    "in_a_function": ("def f():\n    return [0] * 10**11\nf()", "memory"),
    "re_raised": ("try:\n    x = bytearray(10**11)\nexcept MemoryError as exc:\n    raise exc", "memory"),
    "while_handling": ("try:\n    x = bytearray(10**11)\nexcept MemoryError:\n    raise RuntimeError('no room')",
                       "memory"),
    "big_file": ("with open('big', 'wb') as f:\n    while True:\n        f.write(b'0' * 10**6)", "output_limit"),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", sorted(GENUINE))
def test_a_limit_reached_is_reported(backend, case):
    program, status = GENUINE[case]
    result = get_sandbox(backend, **TEST_LIMITS).run(program)
    assert result.status == status, result
    assert "inferred_from" not in result.details


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_command_is_judged_by_its_stderr_and_says_so(backend):
    """A program the worker only execs (here bash) ends out of its sight: its stderr text is the
    one sign left, and the result says the status was inferred from it."""
    sandbox = get_sandbox(backend, **TEST_LIMITS)
    result = sandbox.run("echo 'std::bad_alloc' >&2\nexit 1", language="bash")
    assert result.status == "memory" and result.details.get("inferred_from") == "stderr", result
    assert "inferred from the text of its stderr" in result.message
    plain = sandbox.run("echo 'no such thing' >&2\nexit 1", language="bash")
    assert plain.status == "error" and "inferred_from" not in plain.details, plain


@pytest.mark.parametrize("language", ["bash", "sh"])
def test_a_shell_command_killed_by_the_file_size_limit_is_output_limit(backend_any, language):
    """The shell reports its command's SIGXFSZ ("File size limit exceeded") and exits 153 itself, so
    the worker sees no signal: the report is the sign (review of audit 37: it was `error`)."""
    limit = TEST_LIMITS.get("max_file_mb", 16)
    result = backend_any.run(f"head -c {limit + 4}M /dev/zero > big\necho after >&2\nexit 1", language=language)
    assert result.status == "output_limit" and result.details.get("inferred_from") == "stderr", result


# -- 2b. regressions of the first fix: files at the limit, pools, exception groups ------------------
def test_an_input_file_at_the_size_limit_does_not_make_a_failure_output_limit(backend_any):
    """The caller's input file of `max_file_mb` is no write refused: a program that then fails its
    own way is an `error` (the first fix walked the work dir and took it for one)."""
    data = b"x" * (TEST_LIMITS["max_file_mb"] << 20)
    result = backend_any.run("data = open('data.bin', 'rb').read()\nassert len(data) == 1, 'wrong answer'",
                             files={"data.bin": data})
    assert result.status == "error" and "AssertionError: wrong answer" in result.stderr, result


def test_a_file_made_exactly_at_the_size_limit_does_not_make_a_failure_output_limit(backend_any):
    """A file the program made exactly `max_file_mb` long (truncate: no write refused) does not
    turn its later, unrelated failure into `output_limit`."""
    result = backend_any.run(f"with open('out', 'wb') as f:\n    f.truncate({TEST_LIMITS['max_file_mb']} << 20)\n"
                             "raise ValueError('bad answer')")
    assert result.status == "error" and "ValueError: bad answer" in result.stderr, result


HANDLED = {
    "big_file_caught": ("import sys\ntry:\n    with open('big', 'wb') as f:\n        while True:\n"
                        "            f.write(b'0' * 10**6)\nexcept OSError:\n    sys.exit(1)"),
    "big_file_in_a_command": ("import subprocess, sys\n"
                              "sys.exit(subprocess.run(['sh', '-c', 'head -c 20000000 /dev/zero > big']).returncode)"),
}


@pytest.mark.parametrize("case", sorted(HANDLED))
def test_a_limit_the_program_handled_is_its_error(backend_any, case):
    """A program that caught the refused write (or saw its command die of it) and then exited by
    itself is an `error`: the status comes from how the program ended, not from the files it left
    (their sizes prove nothing: an input file, a truncate reach the limit too)."""
    result = backend_any.run(HANDLED[case])
    assert result.status == "error", result


POOLED_OVERRUNS = {
    "multiprocessing_pool": ("import multiprocessing as mp\nif __name__ == '__main__':\n"
                             "    with mp.Pool(2) as pool:\n        pool.map(bytearray, [10**11])"),
    "process_pool_executor": ("from concurrent.futures import ProcessPoolExecutor\nif __name__ == '__main__':\n"
                              "    with ProcessPoolExecutor(2) as pool:\n        pool.submit(bytearray, 10**11).result()"),
    "task_group": ("import asyncio\nasync def work():\n    return bytearray(10**11)\nasync def main():\n"
                   "    async with asyncio.TaskGroup() as group:\n        group.create_task(work())\n"
                   "asyncio.run(main())"),
    # raised after the handler: the MemoryError is inside the groups only, in no chain
    "exception_group_nested": ("try:\n    bytearray(10**11)\nexcept MemoryError as exc:\n    caught = exc\n"
                               "raise ExceptionGroup('outer', [ValueError(), ExceptionGroup('inner', [caught])])"),
}


@pytest.mark.parametrize("case", sorted(POOLED_OVERRUNS))
def test_a_memory_overrun_re_raised_by_a_pool_or_a_group_is_memory(backend_any, case):
    """A pool's worker process runs out of memory and the pool re-raises its MemoryError in the
    program (by a `raise` statement of the stdlib); an asyncio TaskGroup wraps its task's in an
    ExceptionGroup: both are `memory` (the first fix said `error`)."""
    result = backend_any.run(POOLED_OVERRUNS[case])
    assert result.status == "memory", result
    assert "inferred_from" not in result.details


# -- 3. output that is not UTF-8 is marked ----------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_undecodable_output_is_marked(backend):
    sandbox = get_sandbox(backend, **TEST_LIMITS)
    result = sandbox.run("import sys\nsys.stdout.buffer.write(b'\\xff\\xfeok\\n')\n"
                         "sys.stderr.buffer.write(b'\\xe2\\x82')")
    assert result.status == "ok", result
    assert result.stdout == "\ufffd\ufffdok\n" and result.details["stdout_undecodable"] == 2, result
    assert result.stderr == "\ufffd" and result.details["stderr_undecodable"] == 2, result
    # a program that prints U+FFFD itself lost nothing
    clean = sandbox.run("print('\\ufffd é')")
    assert clean.stdout == "\ufffd é\n", clean
    assert "stdout_undecodable" not in clean.details and "stderr_undecodable" not in clean.details


# -- 4. a hung Docker daemon is given up on quickly --------------------------------------------------
@contextlib.contextmanager
def _unix_server(path: str, on_connection=None):
    """A unix socket server at `path`, accepting in a thread until the block ends; each connection
    is kept (listed as [connection, closed-by-the-client]) and handed to `on_connection(record)` in a
    thread of its own, or held open and never read when there is none. Yields the list."""
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen(16)
    seen = []
    stop = threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                connection = server.accept()[0]
            except OSError:
                continue
            record = [connection, False]
            seen.append(record)
            if on_connection is not None:
                threading.Thread(target=on_connection, args=(record, stop), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()
        for connection, _ in seen:
            connection.close()
        server.close()


@pytest.fixture
def hung_daemon(tmp_path):
    """The path of a unix socket whose server accepts connections and never answers."""
    path = str(tmp_path / "hung.sock")
    with _unix_server(path) as accepted:
        yield path, accepted


def test_docker_gives_up_on_a_daemon_that_never_answers(hung_daemon, monkeypatch):
    pytest.importorskip("docker")
    from rlvr.sandbox import image

    path, accepted = hung_daemon
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    monkeypatch.setattr(image, "PING_TIMEOUT_SECONDS", 2.0)  # (`image.ping_docker`'s, which the backend uses)
    began = time.monotonic()
    with pytest.raises(SandboxUnavailable) as raised:
        make_sandbox("docker")
    waited = time.monotonic() - began
    assert accepted, "the client never connected to the hung daemon"
    assert waited < 10, f"waited {waited:.1f}s for a daemon that never answers"
    assert f"the Docker daemon at unix://{path} did not answer within 2s" in str(raised.value)


def test_docker_names_a_daemon_that_is_not_there(tmp_path, monkeypatch):
    pytest.importorskip("docker")
    missing = os.path.join(tmp_path, "missing.sock")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{missing}")
    began = time.monotonic()
    with pytest.raises(SandboxUnavailable) as raised:
        make_sandbox("docker")
    assert time.monotonic() - began < 5
    assert f"cannot reach the Docker daemon at unix://{missing}" in str(raised.value)


def test_image_docker_client_gives_up_on_a_daemon_that_never_answers(hung_daemon, monkeypatch):
    """`rlvr sandbox build-image` (`image.docker_client`) waited the client's 120 s timeout on a daemon
    that accepts and never answers: it pings with the short timeout first, as the backend does."""
    pytest.importorskip("docker")
    from rlvr.sandbox import image

    path, accepted = hung_daemon
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    monkeypatch.setattr(image, "PING_TIMEOUT_SECONDS", 2.0)
    outcome = []

    def call():
        try:
            outcome.append(image.docker_client())
        except BaseException as exc:  # noqa: BLE001 - what the test looks at
            outcome.append(exc)

    thread = threading.Thread(target=call, daemon=True)  # (so that a hang fails the test, not the run)
    thread.start()
    thread.join(10)
    assert accepted, "the client never connected to the hung daemon"
    assert not thread.is_alive(), "image.docker_client() still waits after 10s on a daemon that never answers"
    assert isinstance(outcome[0], image.ImageBuildError), outcome
    assert f"the Docker daemon at unix://{path} did not answer within 2s" in str(outcome[0])


@pytest.fixture
def failing_ping_daemon(tmp_path):
    """The path of a unix socket whose server answers the API version over a kept-alive connection
    and refuses the ping (HTTP 500), and the list of [connection, closed-by-the-client] it saw."""

    def answer(record, stop):
        connection, data = record[0], b""
        while not stop.is_set():
            try:
                chunk = connection.recv(65536)
            except OSError:
                return
            if not chunk:
                record[1] = True  # the client closed its end
                return
            data += chunk
            while b"\r\n\r\n" in data:
                request, data = data.split(b"\r\n\r\n", 1)
                if b" /version " in request.split(b"\r\n", 1)[0]:
                    body, status = b'{"ApiVersion": "1.41", "Version": "20.10.0"}', b"200 OK"
                else:
                    body, status = b'{"message": "refused"}', b"500 Internal Server Error"
                connection.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
                                   b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)

    path = str(tmp_path / "failing.sock")
    with _unix_server(path, answer) as seen:
        yield path, seen


@pytest.mark.parametrize("caller", ["backend", "image"])
def test_the_probe_client_is_closed_when_the_ping_fails(failing_ping_daemon, monkeypatch, caller):
    """The Docker backend's `_client` left its probe client (and its kept-alive connection to the
    daemon) open when the ping failed; both callers now share `image.ping_docker`, which closes it."""
    pytest.importorskip("docker")
    from rlvr.sandbox import docker_backend, image

    path, seen = failing_ping_daemon
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    get, error = {"backend": (docker_backend._client, SandboxUnavailable),
                  "image": (image.docker_client, image.ImageBuildError)}[caller]
    with pytest.raises(error) as raised:
        get()
    assert "cannot reach the Docker daemon" in str(raised.value) and "APIError" in str(raised.value)
    assert seen, "the client never connected to the daemon"
    deadline = time.monotonic() + 5
    while not all(closed for _, closed in seen) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(closed for _, closed in seen), f"{sum(not c for _, c in seen)} probe connection(s) left open"


def test_classify_must_be_told_what_the_sandbox_saw():
    """`_classify` had `evidence=None` by default, with which `_overrun` read the stderr text of any
    program (a warm Python one's too): the evidence (and the details to mark) are required now."""
    from rlvr.sandbox import worker

    limits = {"timeout": 10, "cpu_time": None, "cpu_seconds": 10, "max_file_mb": 16, "memory_mb": 256}
    with pytest.raises(TypeError):
        worker._classify(1, "MemoryError\n", 0.1, limits)
    warm = worker.Evidence(warm=True, verdict=None)
    assert worker._classify(1, "MemoryError\n", 0.1, limits, warm, {}) == ("error", "exited with code 1")
    details = {}
    status, _ = worker._classify(1, "MemoryError\n", 0.1, limits, worker.Evidence(warm=False, verdict=None), details)
    assert status == "memory" and details == {"inferred_from": "stderr"}
