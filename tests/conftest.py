"""Shared fixtures: one sandbox per backend per test process.

Backends that cannot run here are skipped with the reason, unless RLVR_REQUIRE_BACKENDS names them
(CI sets it to "bwrap,docker"), in which case their absence fails the tests loudly.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import shutil
import tempfile
import threading

import gymnasium as gym
import pytest

import rlvr
from rlvr.sandbox import BACKENDS, SandboxUnavailable, make_sandbox

REQUIRED_BACKENDS = {b for b in os.environ.get("RLVR_REQUIRE_BACKENDS", "").split(",") if b}
_sandboxes: dict = {}


def get_sandbox(backend: str, **limits):
    """A shared sandbox of `backend` (created once per process), or skip/fail if unavailable."""
    key = (backend, tuple(sorted(limits.items())))
    if key not in _sandboxes:
        try:
            _sandboxes[key] = make_sandbox(backend, **limits)
        except SandboxUnavailable as exc:
            _sandboxes[key] = exc
    sandbox = _sandboxes[key]
    if isinstance(sandbox, SandboxUnavailable):
        if backend in REQUIRED_BACKENDS:
            pytest.fail(f"required sandbox backend {backend!r} is unavailable: {sandbox}")
        pytest.skip(f"sandbox backend {backend!r} unavailable here: {sandbox}")
    return sandbox


def own_sandbox(backend: str, **options):
    """A sandbox of the calling test's own (closed by the caller), or skip/fail as `get_sandbox` does."""
    if backend == "docker":
        pytest.importorskip("docker")
    try:
        return make_sandbox(backend, **options)
    except SandboxUnavailable as exc:
        if backend in REQUIRED_BACKENDS:
            pytest.fail(f"required sandbox backend {backend!r} is unavailable: {exc}")
        pytest.skip(f"sandbox backend {backend!r} unavailable here: {exc}")


#: The limits of the sandboxes tests share (the `sandbox`, `box` and `program_box` fixtures).
TEST_LIMITS = {"timeout": 5, "memory_mb": 256, "max_processes": 32, "max_output_bytes": 100_000, "max_file_mb": 8}


@pytest.fixture(params=BACKENDS)
def sandbox(request):
    """Each test using this fixture runs once per backend."""
    return get_sandbox(request.param, **TEST_LIMITS)


@pytest.fixture
def box():
    """The subprocess backend (runs everywhere), with the test limits."""
    return get_sandbox("subprocess", **TEST_LIMITS)


@pytest.fixture(params=["subprocess", "bwrap"])
def program_box(request):
    """Both worker modes (host and pidns) for programs run as `__main__`; bwrap skips where absent."""
    return get_sandbox(request.param, **TEST_LIMITS)


def verify_boxed(gold, answer: str):
    """The math verifier's Verdict on `answer` written as a model would box it, asserting it is a
    verdict, not an infrastructure error (a grading test must not pass on a crashed worker)."""
    from rlvr.verifiers.math import verify

    verdict = verify(gold, "So the answer is \\boxed{%s}." % answer)
    assert verdict.error is None, (gold, answer, verdict)
    return verdict


def fence(code: str) -> str:
    """`code` in a Python code fence, as a model writes it."""
    return "```python\n" + code + "\n```"


def pytest_sessionfinish(session, exitstatus):
    for sandbox in _sandboxes.values():
        if not isinstance(sandbox, Exception):
            sandbox.close()


@pytest.fixture
def crash_math_workers(monkeypatch):
    """Call it to make every job sent to the math verifier's worker pool fail as a crashed worker
    (an infrastructure failure) until the test ends."""
    import rlvr.verifiers.math as math_verifier
    from rlvr.verifiers.timelimit import WorkerCrashed

    class CrashingPool:
        size = 1

        def call(self, *args, **kwargs):
            raise WorkerCrashed("worker process died: EOFError: ")

    def crash() -> None:
        monkeypatch.setattr(math_verifier, "_pool", CrashingPool)
        math_verifier.clear_cache()

    return crash


@pytest.fixture
def registered():
    """Register ids for one test and remove them after it, so other tests see the registry as it was."""
    ids: list[str] = []

    def register(env_id: str, **kwargs) -> str:
        ids.append(rlvr.register(env_id, force=True, **kwargs))
        return ids[-1]

    yield register
    for env_id in ids:
        gym.registry.pop(env_id, None)


@pytest.fixture
def sympy_job_limits(monkeypatch):
    """The worker time each of the math verifier's sympy jobs is given, recorded as the job is sent
    to the real pool (the list fills as the test runs)."""
    import rlvr.verifiers.math as math_verifier
    from rlvr.verifiers.timelimit import Budget

    real = math_verifier._pool()
    granted: list[float] = []

    class Watched:
        size = real.size

        def call(self, target, args, *, timeout, **kwargs):
            granted.append(timeout.left if isinstance(timeout, Budget) else timeout)
            return real.call(target, args, timeout=timeout, **kwargs)

    monkeypatch.setattr(math_verifier, "_pool", Watched)
    return granted


def assert_judged(gold: str, text: str, right: bool) -> None:
    """`verify(gold, text)` of the math verifier judges the answer right (or wrong), saying why when it does not."""
    from rlvr.verifiers.math import verify

    verdict = verify(gold, text)
    assert verdict.correct is right, verdict.reason


@contextlib.contextmanager
def shell_interpreter(script: str):
    """The path of an executable `bin/python3` holding the shell `script`, in a folder every user can
    read and outside /tmp and /work (which each bwrap sandbox replaces with its own): an interpreter
    that misbehaves in a chosen way. Removed afterwards."""
    root = tempfile.mkdtemp(prefix="rlvr-fake-python-", dir="/var/tmp" if os.path.isdir("/var/tmp") else None)
    try:
        os.chmod(root, 0o755)
        python = os.path.join(root, "bin", "python3")
        os.makedirs(os.path.dirname(python))
        with open(python, "w") as f:
            f.write("#!/bin/sh\n" + script)
        os.chmod(python, 0o755)
        yield python
    finally:
        shutil.rmtree(root, ignore_errors=True)


class JsonHandler(http.server.BaseHTTPRequestHandler):
    """A quiet request handler of a test HTTP server that answers in JSON (`reply`)."""

    def log_message(self, *args):
        pass

    def reply(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def register_say_a_digit() -> str:
    """Register "rlvr/SayADigit-v0": a task a random tiny model solves now and then (any digit in the
    answer), so the trainer tests' groups carry signal. Returns the id."""
    return rlvr.register("rlvr/SayADigit-v0",
                         generator=lambda rng: {"question": f"7+{int(rng.integers(10**5, 10**6))}=", "answer": "8"},
                         verifier=lambda gold, completion: float(any(c.isdigit() for c in completion)), force=True)


def say_a_digit_config(out, *extra):
    """A trainer config for a tiny local model on "rlvr/SayADigit-v0" (`register_say_a_digit`):
    quiet, one small layer, 4 new tokens, groups of 2, no dynamic sampling, output in `out`; `extra`
    adds overrides (keys not set here)."""
    from rlvr.trainers.config import load_config

    return load_config(None, [
        f"log.output_dir={out}", "log.progress=false", "log.tensorboard=false", "env.id=rlvr/SayADigit-v0",
        "sampling.max_new_tokens=4", "train.group_size=2", "train.lr=3e-3", "model.tiny_hidden_size=32",
        "model.tiny_layers=1", "algorithm.dynamic_sampling=false", *extra])


def model_weights(model) -> dict:
    """A detached copy of `model`'s weights, to compare before and after a step or a resume."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def write_jsonl(path, rows) -> str:
    """Write ``rows`` as JSON lines at ``path`` (its folder made); returns the path as a string."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in rows)
    return str(path)


def write_parquet(path, rows) -> str:
    """Write ``rows`` as a parquet file at ``path`` (its folder made); returns the path as a string."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(os.path.dirname(path), exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), str(path))
    return str(path)


def read_rows(path) -> list:
    """The JSON lines of ``path`` (an eval's samples.jsonl, say)."""
    with open(path) as handle:
        return [json.loads(line) for line in handle]


class ScriptedChatServer:
    """A real HTTP server on 127.0.0.1: ``answer(body)`` gives the (status, JSON) of each
    ``POST /v1/chat/completions``; the request bodies are kept in ``requests``."""

    def __init__(self, answer):
        self.answer, self.requests = answer, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # no /models route: `rlvr eval` goes on without the probe's answer
                self.send_error(404)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                status, payload = outer.answer(body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
