"""Audit 30 of the code verifier: a wrong answer must not turn its failure into a dataset error by
returning what a later test cannot send back to it.

The harness calls a test that ends on an argument the solution cannot receive (more than a
message may carry, or no plain data) the dataset's fault. It checked only that the test had not
called the solution yet, but the tests' namespace keeps what earlier tests bound: with
`a = candidate(3)` in one test and `candidate(a)` in the next, an answer returning a list of
3,600,000 zeros (7 MiB of JSON, 18 MB marshalled) had its zero reported as "fix or drop it in the
dataset" (not scored; a training run re-draws it and then stops). Now such a refusal is the
dataset's only when no call was made in the run yet, or the test read nothing an earlier call can
have shaped; else it is the answer's failed test (code RULES_VERSION 10).
"""

from __future__ import annotations

import pytest

from conftest import TEST_LIMITS, get_sandbox
from rlvr.verifiers.code import RULES_VERSION, check_function
from rlvr.verifiers.code_harness import SolutionFunction, _independent_of_answers


@pytest.fixture(scope="module", params=["subprocess", "bwrap"])
def box(request):
    """Both isolated-process backends (bwrap skips where absent), shared by this module's tests,
    with room for the harness to marshal an 18 MB call (under the shared 256 MiB, marshal itself
    fails on it, and the test fails whatever the rule)."""
    return get_sandbox(request.param, **{**TEST_LIMITS, "memory_mb": 1024})


# -- 1. what an answer returned, sent back by a later test ----------------------------------------
BACK = ("def check(candidate):\n    a = candidate(3)\n    assert len(a) == 3\n"
        "    assert candidate(a) == 6\n")
RIGHT = "def f(x):\n    return [1, 2, 3] if isinstance(x, int) else sum(x)\n"

STEERED = [
    # the red team's case: a returned list too large (marshalled) to pass back
    pytest.param(BACK, "def f(x):\n    return [0] * 3_600_000 if isinstance(x, int) else 0\n", RIGHT,
                 id="returned-list-too-large"),
    # a small return that makes the next test build a too-large argument
    pytest.param("def check(candidate):\n    n = candidate(3)\n    assert n > 0\n    assert candidate('x' * n) == 3\n",
                 "def f(x):\n    return 17 << 20 if isinstance(x, int) else 0\n",
                 "def f(x):\n    return x if isinstance(x, int) else len(x)\n", id="returned-size"),
    # a returned value that steers the next test to an argument that is no plain data
    pytest.param("def check(candidate):\n    a = candidate(3)\n    assert a is not None\n"
                 "    assert candidate(a or len) == 6\n",
                 "def f(x):\n    return [] if isinstance(x, int) else 0\n", RIGHT, id="steered-to-no-plain-data"),
    # an argument the answer grew in place (written back into the tests' list), sent again
    pytest.param("def check(candidate):\n    xs = [3, 1, 2]\n    candidate(xs)\n    assert xs == [1, 2, 3]\n"
                 "    assert candidate(xs) is None\n",
                 "def f(xs):\n    xs[:] = [0] * 3_600_000\n",
                 "def f(xs):\n    xs.sort()\n", id="grown-in-place"),
]


@pytest.mark.parametrize("tests, wrong, right", STEERED)
def test_an_unsendable_argument_an_earlier_answer_made_is_the_answers_failure(box, tests, wrong, right):
    verdict = check_function(wrong, tests, "f", sandbox=box, timeout=20)
    assert verdict.error is None and verdict.details["kind"] == "failed", verdict.reason
    assert not verdict.correct and verdict.score < 1
    assert "fix or drop it in the dataset" not in verdict.reason
    honest = check_function(right, tests, "f", sandbox=box, timeout=20)
    assert honest.correct, honest.reason


def test_a_value_the_setup_got_from_the_solution_counts_too(box):
    """The setup's calls are the run's too: a value it got stays in the namespace for every test,
    the first one included."""
    tests, setup = ["assert f(A) == 6"], "A = f(3)"
    wrong = "def f(x):\n    return [0] * 3_600_000 if isinstance(x, int) else 0\n"
    verdict = check_function(wrong, tests, "f", sandbox=box, timeout=20, setup_code=setup)
    assert verdict.error is None and verdict.details["kind"] == "failed", verdict.reason
    assert check_function(RIGHT, tests, "f", sandbox=box, timeout=20, setup_code=setup).correct


# -- 2. what stays the dataset's fault --------------------------------------------------------------
@pytest.mark.parametrize("tests", [
    # the first call of the run passes what no answer can receive
    "def check(candidate):\n    assert candidate('a' * (17 << 20)) == 17 << 20\n    assert candidate('ab') == 2\n",
    "def check(candidate):\n    assert candidate(len) == 0\n    assert candidate('ab') == 2\n",
    # a later test that builds the argument from its own code only (literals, builtins, modules)
    "def check(candidate):\n    assert candidate('ab') == 2\n    s = 'a' * (17 << 20)\n    assert candidate(s) == 17 << 20\n",
    "import math\ndef check(candidate):\n    assert candidate('ab') == 2\n    assert candidate(math.floor) == 0\n",
])
def test_an_unsendable_argument_no_answer_made_stays_a_dataset_error(box, tests):
    verdict = check_function("def f(s):\n    return len(s)\n", tests, "f", sandbox=box, timeout=20)
    assert verdict.details["kind"] == "dataset_error" and verdict.error is not None, verdict.reason
    assert "fix or drop it in the dataset" in verdict.reason


def test_an_unsendable_value_kept_from_an_earlier_test_is_the_answers_failure(box):
    """Conservative by design: a test that reads a name an earlier test bound cannot be told apart
    from one that sends back what the answer chose, so the refusal is a failed test, even when that
    earlier value happens to be a literal. (Checking a dataset with its reference solution shows it.)"""
    tests = ["S = 'a' * (17 << 20)\nassert f('ab') == 2", "assert f(S) == 17 << 20"]
    verdict = check_function("def f(s):\n    return len(s)\n", tests, "f", sandbox=box, timeout=20)
    assert verdict.error is None and verdict.details["kind"] == "failed", verdict.reason
    assert verdict.score == 0.5
    assert RULES_VERSION >= 10


# -- 3. the rule itself ----------------------------------------------------------------------------
def _start(**names):
    import math

    return {"__name__": "__main__", "candidate": SolutionFunction(None, "f"), "math": math, **names}


@pytest.mark.parametrize("source", [
    "s = 'a' * (17 << 20)\nassert candidate(s) == 1",
    "assert candidate([i for i in range(10)], key=lambda x: -x) == 1",
    "assert candidate(math.floor) == 0",
    "import collections as c\nassert candidate(c.deque()) == 0",
    "def g(n):\n    return [n] * 5\ntry:\n    candidate(g(2))\nexcept ValueError as e:\n    pass",
])
def test_a_unit_made_of_its_own_code_is_independent_of_answers(source):
    assert _independent_of_answers(source, _start())


@pytest.mark.parametrize("source", [
    "assert candidate(a) == 6",  # a name an earlier unit bound
    "assert candidate('x' * n) == 3",
    "assert candidate(helper(3)) == 6",  # a function of the tests' (it reads the namespace)
    "assert candidate(globals()['a']) == 6",  # builtins that read the namespace or files
    "assert candidate(eval('a')) == 6",
    "assert candidate(open('/tmp/x').read()) == 6",
    "assert candidate(open('/tmp/x').read()) == 6\nopen = None",  # read before the unit rebinds it
    "assert candidate((lambda: 0).__globals__['a']) == 6",  # underscore attributes
    "assert candidate(candidate._harness) == 6",
    "assert candidate(undefined_name) == 6",
    "assert candidate(",  # does not parse: in doubt
])
def test_a_unit_reading_what_an_earlier_call_could_shape_is_not(source):
    assert not _independent_of_answers(source, _start(a=[0], n=5, helper=lambda n: n))
