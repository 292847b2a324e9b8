"""Audit 25 of the code verifier's test planning: `check(...)` given the tests' own wrapper, and a
comparator the tests call on the solution's result without defining or importing it."""

from __future__ import annotations

import pytest

from conftest import TEST_LIMITS, get_sandbox
from rlvr.verifiers.code import check_function
from rlvr.verifiers.code_plan import checked_names, plan_tests


@pytest.fixture(scope="module", params=["subprocess", "bwrap"])
def box(request):
    """The host and the isolated backend (bwrap skips where absent), shared by this module's tests."""
    return get_sandbox(request.param, **TEST_LIMITS)


# -- check(...) given the tests' own object --------------------------------------------------------
VALIDATOR_TESTS = '''
def is_valid(xs, out):
    return sorted(out) == sorted(xs) and all(a <= b for a, b in zip(out, out[1:]))

def validated(xs):
    out = sort_it(xs)
    return is_valid(xs, out)

def check(candidate):
    assert candidate([3, 1, 2])
    assert candidate([9, 7, 8, 1])

check(validated)
'''
LAMBDA_TESTS = "def check(candidate):\n    assert candidate([3, 1, 2]) == [1, 2, 3]\n\ncheck(lambda xs: sorted(solve(xs)))\n"


@pytest.mark.parametrize("entry_point", [None, "sort_it", "validated"])
def test_tests_wrapper_passed_to_check_is_candidate(box, entry_point):
    wrong = "def sort_it(xs):\n    return xs\n\ndef validated(xs):\n    return True\n"
    verdict = check_function(wrong, VALIDATOR_TESTS, entry_point, sandbox=box)
    assert not verdict.correct and verdict.score == 0
    right = check_function("def sort_it(xs):\n    return sorted(xs)\n", VALIDATOR_TESTS, entry_point, sandbox=box)
    assert right.correct, right.reason


@pytest.mark.parametrize("entry_point", [None, "solve"])
def test_lambda_passed_to_check_is_candidate(box, entry_point):
    right = check_function("def solve(xs):\n    return sorted(xs, reverse=True)\n", LAMBDA_TESTS, entry_point, sandbox=box)
    assert right.correct, right.reason
    wrong = check_function("def solve(xs):\n    return xs[:1]\n", LAMBDA_TESTS, entry_point, sandbox=box)
    assert not wrong.correct


def test_tests_wrapper_plan():
    plan = plan_tests(VALIDATOR_TESTS)
    assert "candidate" not in plan.bindings and plan.bindings == {"sort_it": "sort_it"}
    assert plan.setup.rstrip().endswith("candidate = validated") and len(plan.units) == 2
    assert checked_names(VALIDATOR_TESTS) == []  # the env takes the prompt's function, not `validated`
    assert checked_names("def check(candidate):\n    assert candidate(1)\ncheck(f)\n") == ["f"]


def test_tests_wrapper_that_never_uses_the_solution_is_refused():
    tests = "def mine(x):\n    return x\n\ndef check(candidate):\n    assert candidate(1) == 1\n\ncheck(mine)\n"
    with pytest.raises(ValueError, match="never uses the solution"):
        plan_tests(tests)


# -- a comparator the tests neither define nor import ----------------------------------------------
FREE_ISCLOSE = ["assert isclose(area(2), 12.566, rel_tol=0.001)", "assert isclose(area(3), 28.274, rel_tol=0.001)"]
FREE_SIMILAR = ["assert similar(sort_it([3, 1, 2]), [1, 2, 3])", "assert similar(sort_it([5, 4]), [4, 5])"]


@pytest.mark.parametrize(("tests", "entry_point", "name"), [
    (FREE_ISCLOSE, "area", "isclose"),
    (FREE_SIMILAR, "sort_it", "similar"),
    ("def check(candidate):\n    assert isclose(candidate(2), 12.566)\n", "area", "isclose"),
])
def test_free_checker_around_the_solution_is_a_dataset_error(box, tests, entry_point, name):
    wrong = f"def {name}(*a, **k):\n    return True\n\ndef {entry_point}(x):\n    return 0\n"
    with pytest.raises(ValueError, match=f"'{name}'.*neither define nor import"):
        check_function(wrong, tests, entry_point, sandbox=box)


def test_imported_or_defined_checker_still_runs(box):
    right = "from math import pi\n\ndef area(r):\n    return pi * r * r\n"
    imported = ["from math import isclose", *FREE_ISCLOSE]
    assert check_function(right, imported, "area", sandbox=box).correct
    assert check_function(right, FREE_ISCLOSE, "area", sandbox=box,
                          setup_code="from math import isclose").correct
    # a free helper the tests call on plain data, or whose result they compare, stays the solution's
    assert plan_tests(["assert area(helper(2)) == 4"], "area").bindings == {"area": "area", "helper": "helper"}
    roundtrip = ["assert decode(encode('ab')) == 'ab'", "assert not decode(encode('')) and True"]
    assert set(plan_tests(roundtrip[:1], "encode").bindings) == {"decode", "encode"}
    with pytest.raises(ValueError, match="'decode'"):  # its result taken as the verdict: a checker
        plan_tests(roundtrip[1:], "encode")


def test_a_free_checker_found_with_the_solutions_own_function_is_a_dataset_error_verdict(box):
    # with no entry point, the tests are planned again with the solution's function as the entry
    # point: the free checker is found only then, at scoring, and raised out of check_function
    tests = "def check(candidate):\n    assert isclose(candidate(2), 12.566, rel_tol=0.001)\n"
    for solution in ("def isclose(*a, **k):\n    return True\n\ndef area(r):\n    return 0\n",
                     "def area(r):\n    return 3.14159 * r * r\n"):
        verdict = check_function(solution, tests, sandbox=box)
        assert verdict.details["kind"] == "dataset_error" and not verdict.correct, verdict
        assert "neither define nor import it" in verdict.error
