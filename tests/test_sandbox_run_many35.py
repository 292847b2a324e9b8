"""`run_many` checks every job before running any (commit 59310df), and its callers keep their
per-problem results: a sandbox subclass overriding `run` still has each job go through its `run`;
a problem whose run does not fit the sandbox fails alone, as a dataset error, instead of failing
its whole batch; an unknown language given to `check_io` raises, as a caller's mistake. Third
review: `check_function` refuses such a run as `check_functions` does (it said sandbox_error), and a
wrapper sandbox may map a language of its own in `check_io`."""

import shutil

import pytest

from rlvr.sandbox import make_sandbox
from rlvr.sandbox.base import Sandbox
from rlvr.verifiers.code import check_function, check_functions, check_io

BACKEND = "bwrap" if shutil.which("bwrap") else "subprocess"


class Wrapper(Sandbox):
    """A user's sandbox passing runs to another (no `Sandbox.__init__`: no limits of its own)."""

    name = "wrapper"

    def __init__(self, inner):
        self.inner = inner
        self.calls = 0

    def run(self, code, **kwargs):
        self.calls += 1
        return self.inner.run(code, **kwargs)

    def _execute(self, job, limits):
        raise NotImplementedError


def test_a_sandbox_overriding_run_has_every_job_go_through_it():
    with make_sandbox("subprocess") as inner:
        box = Wrapper(inner)
        assert [r.stdout for r in box.run_many(["print(1)", "print(2)"], concurrency=2)] == ["1\n", "2\n"]
        assert box.calls == 2
        verdict = check_io("print(int(input()) * 2)", [("2\n", "4\n"), ("3\n", "6\n")], sandbox=box, extract=False)
        assert verdict.correct and box.calls == 4
        [refused] = box.run_many([{"code": "print(1)", "language": "cobol"}])
        assert refused.status == "sandbox_error" and "cobol" in refused.message  # its own run said so


def _small_box():
    box = make_sandbox(BACKEND, max_file_mb=1)
    if getattr(box, "_job_space", None) is None:
        box.close()
        pytest.skip("this backend has no mount to overfill")
    return box


def test_one_problem_too_large_for_the_sandbox_fails_alone_as_a_dataset_error():
    good = {"solution": "def f(x):\n    return x + 1\n", "tests": "assert f(1) == 2", "entry_point": "f"}
    big = {"solution": "def g(s):\n    return len(s)\n",
           "tests": "DATA = '" + "a" * 5_000_000 + "'\nassert g(DATA) == 5000000", "entry_point": "g"}
    with _small_box() as box:  # tmpfs mounts of 4 MiB
        first, second, refused = check_functions([good, good, big], sandbox=box, extract=False)
    assert first.correct and second.correct
    assert refused.details["kind"] == "dataset_error" and "max_file_mb" in refused.error


def test_check_io_with_a_stdin_too_large_is_a_dataset_error_and_an_unknown_language_raises():
    with _small_box() as box:
        verdict = check_io("print(len(input()))", [("a" * 5_000_000 + "\n", "5000000\n")], sandbox=box, extract=False)
        assert verdict.details["kind"] == "dataset_error" and verdict.details["tests"] == 1
        with pytest.raises(ValueError, match="unsupported language 'Python'"):
            check_io("print(1)", [("", "1\n")], sandbox=box, language="Python")


def test_check_function_refuses_a_run_too_large_for_the_sandbox_as_a_dataset_error():
    big = {"solution": "def g(s):\n    return len(s)\n",
           "tests": "DATA = '" + "a" * 5_000_000 + "'\nassert g(DATA) == 5000000", "entry_point": "g"}
    with _small_box() as box:
        [batch] = check_functions([big], sandbox=box, extract=False)
        single = check_function(big["solution"], big["tests"], "g", sandbox=box, extract=False)
    assert batch.details["kind"] == single.details["kind"] == "dataset_error", single.reason
    assert "max_file_mb" in single.error


def test_check_io_lets_a_wrapper_sandbox_map_a_language_of_its_own():
    class Aliases(Wrapper):
        def run(self, code, *, language="python", **kwargs):
            return super().run(code, language={"py3": "python"}.get(language, language), **kwargs)

    with make_sandbox("subprocess") as inner:
        box = Aliases(inner)
        verdict = check_io("print(int(input()) * 2)", [("2\n", "4\n")], sandbox=box, extract=False, language="py3")
        assert verdict.correct, verdict.reason
        assert box.calls == 1
