"""Red-team 26 of the code verifier: the solution's exceptions as the tests see them, `check`
functions with more parameters than `candidate`, `check_io` programs that log to stderr, and the
cost of comparing long outputs."""

from __future__ import annotations

import tracemalloc

import pytest

from conftest import TEST_LIMITS, get_sandbox
from rlvr.verifiers.code import check_function, check_io, compare_output
from rlvr.verifiers.code_plan import plan_tests


@pytest.fixture(scope="module", params=["subprocess", "bwrap"])
def box(request):
    """The host and the isolated backend (bwrap skips where absent), shared by this module's tests."""
    return get_sandbox(request.param, **TEST_LIMITS)


# -- 1. exceptions keep their builtin base and their args ------------------------------------------
PARSE = "import json\n\ndef parse(text):\n    return json.loads(text)\n"
EXPECTS_VALUE_ERROR = """
def check(candidate):
    assert candidate('[1, 2]') == [1, 2]
    try:
        candidate('{')
    except ValueError as exc:
        assert "Expecting property name" in str(exc), exc.args
    else:
        raise AssertionError("no error for '{'")
"""


def test_stdlib_exception_reaches_the_tests_as_its_builtin_base(box):
    verdict = check_function(PARSE, EXPECTS_VALUE_ERROR, "parse", sandbox=box)
    assert verdict.correct, verdict.reason
    lenient = "def parse(text):\n    return [1, 2] if text == '[1, 2]' else None\n"
    assert not check_function(lenient, EXPECTS_VALUE_ERROR, "parse", sandbox=box).correct


ARGS_TESTS = """
def check(candidate):
    try:
        candidate(5)
    except KeyError as exc:
        assert exc.args == (5, 'missing'), exc.args
    else:
        raise AssertionError("no KeyError")
    try:
        candidate(-1)
    except ValueError as exc:
        assert type(exc) is ValueError and exc.args == ('bad', -1, [1.5, None]), exc.args
    else:
        raise AssertionError("no ValueError")
"""
ARGS_SOLUTION = """
class Bad(ValueError):
    pass

def lookup(n):
    if n < 0:
        raise Bad('bad', n, [1.5, None])
    raise KeyError(n, 'missing')
"""


def test_exception_args_and_solution_classes_arrive_as_plain_data(box):
    verdict = check_function(ARGS_SOLUTION, ARGS_TESTS, "lookup", sandbox=box)
    assert verdict.correct, verdict.reason
    # a class of the solution's own is named in the reason, but arrives as its builtin base
    failing = check_function(ARGS_SOLUTION, "def check(candidate):\n    assert candidate(-1)\n", "lookup", sandbox=box)
    assert "ValueError: ('bad', -1, [1.5, None])" in failing.reason and "as Bad" in failing.reason


def test_exception_args_that_are_no_plain_data_fall_back_to_the_message(box):
    solution = "class Thing:\n    def __str__(self):\n        return 'a thing'\n\ndef f(x):\n    raise ValueError(Thing())\n"
    tests = "def check(candidate):\n    try:\n        candidate(1)\n    except ValueError as exc:\n        assert exc.args == ('a thing',), exc.args\n"
    verdict = check_function(solution, tests, "f", sandbox=box)
    assert verdict.correct, verdict.reason


def test_control_flow_exceptions_still_do_not_steer_the_tests(box):
    # a subclass of StopIteration arrives no more than StopIteration itself: the loop must not end early
    solution = "class Done(StopIteration):\n    pass\n\ndef f(n):\n    raise Done\n"
    tests = ("def check(candidate):\n    for got, want in zip(map(candidate, [1, 2, 3]), ['a', 'b', 'c']):\n"
             "        assert got == want\n")
    verdict = check_function(solution, tests, "f", sandbox=box)
    assert not verdict.correct and "SolutionError" in verdict.reason


# -- 2. check functions with more parameters -------------------------------------------------------
SQUARE = "def square(x):\n    return x * x\n"


@pytest.mark.parametrize("tests", [
    "def check(candidate, n=3):\n    assert candidate(n) == 9\n    assert candidate(n + 1) == 16\n",
    "def check(candidate, n):\n    assert candidate(n) == 9\n    assert candidate(n + 1) == 16\n\ncheck(square, 3)\n",
    "def check(candidate, *, n=1, **more):\n    assert candidate(n) == 9\n    assert more == {'m': 2}\n\ncheck(square, n=3, m=2)\n",
    # a body that cannot be split runs as the tests call it
    "def check(candidate, n=3):\n    if n < 0:\n        return\n    assert candidate(n) == 9\n",
    "def check(candidate, n, k=1):\n    if n < 0:\n        return\n    assert candidate(n) == 9 * k\n\ncheck(square, 3)\n",
])
def test_check_with_more_parameters_runs_with_their_values(box, tests):
    verdict = check_function(SQUARE, tests, "square", sandbox=box)
    assert verdict.correct, verdict.reason
    assert not check_function("def square(x):\n    return x + x\n", tests, "square", sandbox=box).correct


@pytest.mark.parametrize("tests", [
    "def check(candidate, n):\n    assert candidate(n) == 9\n",
    "def check(candidate, n):\n    assert candidate(n) == 9\n\ncheck(square)\n",
    "def check(candidate, *, n):\n    for x in range(n):\n        return\n    assert candidate(n) == 9\n",
])
def test_check_that_needs_an_argument_the_tests_never_give_is_a_dataset_error(tests):
    with pytest.raises(ValueError, match="'n' besides 'candidate'.*never pass"):
        plan_tests(tests, "square")
    with pytest.raises(ValueError, match="never pass"):
        check_function(SQUARE, tests, "square")


def test_plan_binds_the_other_parameters_in_each_unit():
    plan = plan_tests("def check(candidate, n, k=2):\n    assert candidate(n) == k\n\ncheck(f, 4)\n")
    assert [unit.source for unit in plan.units] == [
        "n, k = (lambda candidate, n, k=2: (n, k))(candidate, 4)\nassert candidate(n) == k"]


# -- 3. stderr does not count against a check_io program --------------------------------------------
LOGGING = "import sys\nfor i in range(30000):\n    print('debug step', i, file=sys.stderr)\nprint(int(input()) * 2)\n"


def test_right_program_with_more_stderr_than_the_cap_passes(box):
    verdict = check_io(LOGGING, [("2\n", "4\n"), ("5\n", "10\n")], sandbox=box)
    assert verdict.correct, verdict.reason
    wrong = check_io(LOGGING.replace("* 2", "* 3"), [("2\n", "4\n")], sandbox=box)
    assert not wrong.correct and "wrong output" in wrong.reason


def test_logging_program_keeps_its_future_imports_first(box):
    program = '"""Doubles."""\nfrom __future__ import annotations\n' + LOGGING + "x: undefined_name = 1\n"
    verdict = check_io(program, [("2\n", "4\n")], sandbox=box)
    assert verdict.correct, verdict.reason


def test_program_over_the_cap_on_stdout_still_fails(box):
    flood = "import sys\nprint('4')\nprint('x' * 300000)\nprint('y' * 300000, file=sys.stderr)\n"
    verdict = check_io(flood, [("2\n", "4\n")], sandbox=box)
    assert not verdict.correct and "stdout exceeded" in verdict.reason


def test_shell_program_with_more_stderr_than_the_cap_passes(box):
    program = "for i in $(seq 1 20000); do echo \"debug $i\" >&2; done\nread x\necho $((x * 2))\n"
    verdict = check_io(program, [("2\n", "4\n")], sandbox=box, language="bash")
    assert verdict.correct, verdict.reason


# -- 4. comparing outputs costs what a line costs, not what the output costs -------------------------
def test_compare_output_reads_no_more_than_it_compares():
    wrong = "5\n" + "1 2 3\n" * 400_000  # a 2.4 MB output whose first line is already wrong
    right_prefix = "4\n" + "1 2 3\n" * 400_000
    tracemalloc.start()
    try:
        assert not compare_output(wrong, "4\n")
        assert not compare_output(right_prefix, "4\n")  # (the second line shows it is longer)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 256 << 10, peak


@pytest.mark.parametrize(("actual", "expected", "same"), [
    ("\n\n1  2\n\n3\n\n", "1 2\n\n3", True),
    ("1 2\n3\n", "1 2\n\n3\n", False),
    ("1\x0c2\n", "1\n2\n", True),  # a form feed ends a line, as str.splitlines says
    ("1\u20282", "1 2", False),
    ("1 2 3\n", "1 2\n", False),
    ("1 2\n", "1 2 3\n", False),
    ("", "\n \n", True),
    ("0.5001\n", "0.5\n", None),
])
def test_compare_output_accepts_what_it_accepted(actual, expected, same):
    if same is None:
        assert compare_output(actual, expected, float_tolerance=1e-3)
        assert not compare_output(actual, expected)
    else:
        assert compare_output(actual, expected) is same
