"""Audit 26 of the code verifier: free units from bare calls, the task's own exception classes,
oversized test arguments, format credit for fenced non-code, MBPP checkers wrapping the entry point,
usage examples after the answer, arguments the solution changes in place, and labels of large
arguments."""

from __future__ import annotations

import tracemalloc

import pytest

import rlvr
from conftest import TEST_LIMITS, get_sandbox
from rlvr.envs.code_env import _mbpp_entry_point
from rlvr.envs.scoring import resolve_verifier
from rlvr.envs.tasks import Task
from rlvr.verifiers.code import check_function, compare_output
from rlvr.verifiers.code_harness import _shown, safe_repr
from rlvr.verifiers.code_plan import plan_tests


@pytest.fixture(scope="module")
def box():
    """The subprocess backend (runs everywhere), shared by this module's tests."""
    return get_sandbox("subprocess", **TEST_LIMITS)


# -- 1. a bare call followed by a check of its effect is no unit of its own --------------------------
IN_PLACE_TESTS = ("def check(candidate):\n    a = [3, 1, 2]\n    candidate(a)\n    assert a == [1, 2, 3]\n"
                  "    b = [5, 4]\n    candidate(b)\n    assert b == [4, 5]\n")


def test_a_do_nothing_answer_earns_no_unit_from_a_bare_call_before_its_check(box):
    verdict = check_function("def sort_in_place(xs):\n    pass\n", IN_PLACE_TESTS, "sort_in_place", sandbox=box)
    assert verdict.score == 0.0, verdict.reason
    assert "line 4: assert a == [1, 2, 3]" in verdict.reason  # the check that failed, not `candidate(b)`


def test_mbpp_bare_calls_join_the_assert_after_them(box):
    tests = ["push(1)", "push(2)", "assert pop() == 2", "assert pop() == 1"]
    verdict = check_function("def push(x):\n    pass\ndef pop():\n    return None\n", tests, sandbox=box)
    assert verdict.score == 0.0, verdict.reason
    assert len(plan_tests(tests).units) == 2
    right = "stack = []\ndef push(x):\n    stack.append(x)\ndef pop():\n    return stack.pop()\n"
    assert check_function(right, tests, sandbox=box).correct


def test_bare_calls_with_no_check_after_them_still_count():
    plan = plan_tests("def check(candidate):\n    assert candidate(1) == 1\n    candidate(-1)\n    candidate(-2)\n", "f")
    assert [unit.label for unit in plan.units] == ["line 2: assert candidate(1) == 1", "line 3: candidate(-1)",
                                                   "line 4: candidate(-2)"]


# -- 2. the task's own exception class reaches the tests as itself -----------------------------------
NEGATIVE = "class NegativeError(ValueError):\n    pass\n"


def test_the_tasks_own_exception_class_is_caught_by_the_tests(box):
    solution = NEGATIVE + "def f(x):\n    if x < 0:\n        raise NegativeError('negative', x)\n    return x\n"
    tests = ("def check(candidate):\n    try:\n        candidate(-1)\n    except NegativeError as exc:\n"
             "        assert exc.args == ('negative', -1)\n    else:\n        raise AssertionError('no error')\n")
    verdict = check_function(solution, tests, "f", sandbox=box, setup_code=NEGATIVE)
    assert verdict.correct, verdict.reason


def test_a_class_of_that_name_the_tests_do_not_define_stays_the_builtin_base(box):
    solution = NEGATIVE + "def f(x):\n    raise NegativeError('negative')\n"
    tests = ("def check(candidate):\n    try:\n        candidate(-1)\n    except ValueError as exc:\n"
             "        assert type(exc) is ValueError\n    else:\n        raise AssertionError('no error')\n")
    assert check_function(solution, tests, "f", sandbox=box).correct


# -- 3. a test argument too large to send is the dataset's problem -----------------------------------
def test_an_oversized_test_argument_is_a_dataset_error_not_the_solutions_failure(box):
    tests = ("def check(candidate):\n    assert candidate('ab') == 2\n    s = 'a' * (17 << 20)\n"
             "    assert candidate(s) == 17 << 20\n")
    verdict = check_function("def f(s):\n    return len(s)\n", tests, "f", sandbox=box, timeout=20)
    assert verdict.details["kind"] == "dataset_error", verdict.reason
    assert "malformed" not in verdict.reason and "more than the 16777216" in verdict.reason
    assert verdict.details["solution_starts"] == 1  # the solution's process was not killed for it


# -- 4. no format credit for fenced non-code ----------------------------------------------------------
@pytest.mark.parametrize("answer", ["```python\npass\n```", "```\nI cannot solve this.\n```", "```python\n# TODO\n```"])
def test_fenced_non_code_earns_no_format_credit(box, answer):
    env = rlvr.make("rlvr/Code-v0", sandbox=box).unwrapped
    task = env.source.tasks[0]
    assert env.format_score(task, answer) == 0.0
    assert env.verify(task, answer).details["kind"] == "no_code"


def test_fenced_code_still_earns_format_credit(box):
    env = rlvr.make("rlvr/Code-v0", sandbox=box).unwrapped
    assert env.format_score(env.source.tasks[0], "```python\ndef f(x):\n    return x\n```") == 1.0


# -- 5. MBPP: a free checker wrapping the entry point is not the entry point -----------------------------
def test_mbpp_entry_point_is_the_call_a_free_checker_wraps(box):
    assert _mbpp_entry_point(["assert isclose(area(2), 12.566, rel_tol=1e-3)"]) == "area"
    assert _mbpp_entry_point(["assert isclose(area(2), 12.566)"], "from math import isclose") == "area"
    rows = [{"task_id": 1, "text": "area", "test_list": ["assert isclose(area(2), 12.566, rel_tol=1e-3)"]}]
    with pytest.raises(Exception, match="could define 'isclose'"):
        rlvr.make("rlvr/Code-v0", dataset=rows, sandbox=box)


# -- 6. a usage example after the answer is not the answer ----------------------------------------------
EXAMPLE_AFTER = ("Here:\n```python\ndef double(x):\n    return 2 * x\n```\nExample usage:\n"
                 "```python\nprint(double(4))\n```\n")
DOUBLE_TESTS = "def check(candidate):\n    assert candidate(2) == 4\n"


def test_check_function_skips_a_usage_example_after_the_answer(box):
    assert check_function(EXAMPLE_AFTER, DOUBLE_TESTS, "double", sandbox=box).correct
    assert check_function(EXAMPLE_AFTER, ["assert double(2) == 4"], sandbox=box).correct


@pytest.mark.parametrize("meta", [{"entry_point": "double"}, {}], ids=["entry_point", "no_entry_point"])
def test_the_registered_code_scorer_skips_a_usage_example_after_the_answer(box, meta):
    # rlvr.register(..., verifier="code") rows often have no entry point: any function then counts
    scorer = resolve_verifier("code", sandbox=box)
    task = Task("t", "double it", DOUBLE_TESTS, meta)
    assert scorer.score(task, EXAMPLE_AFTER).correct
    assert check_function(EXAMPLE_AFTER, DOUBLE_TESTS, sandbox=box).correct


# -- 7. arguments changed in place reach the tests ----------------------------------------------------
def test_a_right_in_place_answer_passes(box):
    verdict = check_function("def f(xs):\n    xs.sort()\n", IN_PLACE_TESTS, "f", sandbox=box)
    assert verdict.correct, verdict.reason


def test_an_answer_that_modifies_its_input_fails_a_must_not_modify_test(box):
    tests = "def check(candidate):\n    a = [3, 1, 2]\n    assert candidate(a) == 1\n    assert a == [3, 1, 2]\n"
    assert not check_function("def f(xs):\n    xs.sort()\n    return xs[0]\n", tests, "f", sandbox=box).correct
    assert check_function("def f(xs):\n    return min(xs)\n", tests, "f", sandbox=box).correct


def test_every_mutable_kind_and_keyword_arguments_are_written_back_in_place(box):
    solution = ("def f(d, s, b, q, arr, *, k):\n    d['x'] = 1; s.add(2); b[0] = 65; q.appendleft(0)\n"
                "    arr[0] = 9; k.append(9); k[0].append(7)\n    raise KeyError('after the changes')\n")
    tests = ("import array, collections\ndef check(candidate):\n"
             "    d, s, b, q, arr, k = {}, {1}, bytearray(b'zz'), collections.deque([1]), array.array('i', [1]), [[1]]\n"
             "    same = (d, s, b, q, arr, k)\n    try:\n        candidate(d, s, b, q, arr, k=k)\n"
             "    except KeyError:\n        pass\n"
             "    assert (d, s, b, q, arr, k) == ({'x': 1}, {1, 2}, bytearray(b'Az'), collections.deque([0, 1]), "
             "array.array('i', [9]), [[1, 7], 9])\n"
             "    assert all(x is y for x, y in zip(same, (d, s, b, q, arr, k)))\n")
    verdict = check_function(solution, tests, "f", sandbox=box)
    assert verdict.correct, verdict.reason


def test_an_argument_that_stops_being_plain_data_is_left_as_it_was(box):
    solution = "class Thing:\n    pass\ndef f(xs):\n    xs.append(Thing())\n    return 1\n"
    tests = "def check(candidate):\n    a = []\n    assert candidate(a) == 1\n    assert a == []\n"
    assert check_function(solution, tests, "f", sandbox=box).correct


# -- 9. labels of large arguments cost little ----------------------------------------------------------
def test_safe_repr_of_a_large_argument_matches_repr_and_reprs_only_what_it_shows():
    values = [list(range(100_000)), {"b": 1, "a": [1] * 1000}, ("x" * 500,), (1,), "ab'c", [[1, 2], [3]], {1, 2}]
    for value in values:
        text = repr(value)
        assert safe_repr(value, 80) == (text if len(text) <= 80 else text[:77] + "...")
    # what is put through repr for an 80-character label: at most 81 items of a million-item list
    # (a full repr of it took ~0.1 s per label), however deeply nested
    assert len(_shown(list(range(1_000_000)), [81])) <= 82
    nested = _shown([list(range(1000))] * 1000, [81])
    assert sum(len(inner) if isinstance(inner, list) else 1 for inner in nested) <= 82


def test_a_forged_change_of_another_kind_fails_the_call(box):
    # the reply is the solution's to write: a "changed" entry that does not fit the argument is a
    # malformed reply (the test fails), never written into the tests' list
    solution = ("import json, os, sys\ndef f(xs):\n"
                "    msg = json.dumps({'op': 'reply', 'id': 1, 'value': 0, 'changed': [[0, {'$dict': []}]]}).encode()\n"
                "    os.write(int(sys.argv[2]), len(msg).to_bytes(4, 'big') + msg)\n    os._exit(0)\n")
    tests = "def check(candidate):\n    a = [1]\n    assert candidate(a) == 0\n"
    verdict = check_function(solution, tests, "f", sandbox=box)
    assert not verdict.correct and "malformed changed arguments" in verdict.reason, verdict.reason


# -- fix 8.1: every top-level check(...) call is checked with its own arguments ---------------------
DOUBLE_RIGHT = "def f(x):\n    return 2 * x\n"
DOUBLE_WRONG_BUT_FOR_1 = "def f(x):\n    return 2 if x == 1 else 0\n"


@pytest.mark.parametrize("tests, wrong_score", [
    ("def check(candidate, n):\n    assert candidate(n) == n * 2\ncheck(f, 1)\ncheck(f, 2)\ncheck(f, 3)\n", 1 / 3),
    ("def check(candidate, n=1):\n    assert candidate(n) == n * 2\ncheck(f)\ncheck(f, n=4)\n", 1 / 2),
    ("def check(candidate, /, n=1):\n    assert candidate(n) == n * 2\ncheck(f)\ncheck(f, 3)\n", 1 / 2),
    ("def check(candidate, n):\n    assert candidate(n) == n * 2\nfor i in range(1, 4):\n    check(f, i)\n", 0.0),
    ("def check(candidate, n):\n    assert candidate(n) == n * 2\ndef run():\n    check(f, 3)\ncheck(f, 1)\nrun()\n", 1 / 2),
    ("def check(candidate, n):\n    assert candidate(n) == n * 2\ncheck(lambda x: f(x), 1)\ncheck(f, 3)\n", 1 / 2),
])
def test_each_check_call_is_checked_with_its_own_arguments(box, tests, wrong_score):
    assert check_function(DOUBLE_RIGHT, tests, "f", sandbox=box).score == 1.0
    verdict = check_function(DOUBLE_WRONG_BUT_FOR_1, tests, "f", sandbox=box)
    assert verdict.score == pytest.approx(wrong_score), verdict.reason


def test_a_positional_only_candidate_is_the_first_parameter():
    plan = plan_tests("def check(candidate, /, n=2):\n    assert candidate(n) == 4\ncheck(f)\n", "f")
    assert plan.bindings["candidate"] == "f" and "n" not in plan.bindings
    assert [unit.source for unit in plan.units] == [
        "n, = (lambda candidate, /, n=2: (n,))(candidate)\nassert candidate(n) == 4"]


def test_a_check_call_without_a_required_argument_is_a_dataset_error():
    with pytest.raises(ValueError, match="'n' besides 'candidate'.*line 4"):
        plan_tests("def check(candidate, n):\n    assert candidate(n) == 4\ncheck(f, 2)\ncheck(f)\n", "f")


# -- fix 8.2 / 8.3: the child's report of changed arguments ------------------------------------------
def test_an_unchanged_argument_holding_a_nan_keeps_the_tests_objects(box):
    tests = "inner = [1]\na = [float('nan'), inner]\nf(a)\ninner.append(2)\nassert a[1] == [1, 2]\n"
    verdict = check_function("def f(a):\n    pass\n", tests, "f", sandbox=box)
    assert verdict.score == 1.0, verdict.reason
    changed = "a = [float('nan'), 1]\nf(a)\nassert a[1] == 5\n"
    assert check_function("def f(a):\n    a[1] = 5\n", changed, "f", sandbox=box).score == 1.0


def test_arguments_the_child_cannot_decode_leave_it_serving(box):
    deep = "x = 1\nfor _ in range(80):\n    x = [x]\n"
    tests = deep + "try:\n    f(x)\nexcept RecursionError:\n    pass\nassert f([1]) == 1\n"
    solution = "import sys\nsys.setrecursionlimit(60)\ndef f(a):\n    return 1\n"
    verdict = check_function(solution, tests, "f", sandbox=box)
    assert verdict.score == 1.0, verdict.reason


# -- fix 8.4: comparing outputs ------------------------------------------------------------------------
def test_equal_outputs_match_without_being_split():
    actual, expected = "1 2 3\n" * 400_000, "1 2 3\n" * 400_000  # equal, but not the same object
    tracemalloc.start()
    try:
        assert compare_output(actual, expected)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1024, peak


@pytest.mark.parametrize("line_break", ["\n", "\r\n", "\r", "\x0c", "\u2028"])
def test_long_outputs_compare_as_their_lines_do(line_break):
    expected = "".join(f"{i} {i * i}\n" for i in range(5000))
    spaced = line_break.join(f" {i}\t{i * i} " for i in range(5000)) + line_break
    assert compare_output(spaced, expected)
    assert compare_output(spaced + line_break * 3, expected)
    assert not compare_output(spaced.replace(f" 4999\t{4999 * 4999}", " 4999\t0"), expected)
    assert not compare_output(spaced.replace(" 2500\t", " 2500\t0 "), expected)
    assert not compare_output(spaced.replace(line_break, line_break * 2, 3000), expected)


# -- fix 8.5: MBPP's entry point is never a call of the row's own inside the tested one ---------------
@pytest.mark.parametrize("tests, entry", [
    (["assert max_chain_length([Pair(5, 24), Pair(15, 25)], 2) == 1"], "max_chain_length"),
    (["assert f(g(2)) == 3"], "f"),
    (["assert isclose(area(2), 12.566, rel_tol=0.001)"], "area"),
    (["assert math.isclose(area(2), 12.566)"], "area"),
    (["assert allclose(volume(2), 8.0)"], "volume"),
])
def test_mbpp_entry_point_skips_only_comparison_helpers(tests, entry):
    assert _mbpp_entry_point(tests) == entry


# -- the third review: check calls whose arguments depend on the statements around them -----------
AROUND = {
    "rebound between calls": ("def check(candidate, inp, expected):\n    assert candidate(inp) == expected\n"
                              "inp = [1, 2, 3]\ncheck(f, inp, 6)\ninp = [4, 5]\ncheck(f, inp, 9)\n",
                              "def f(xs):\n    return sum(xs)\n", "def f(xs):\n    return 9 if xs == [4, 5] else 0\n"),
    "changed between calls": ("def check(candidate, n):\n    assert candidate(n) == 2 * n\nx = 3\ncheck(f, x)\nx += 2\n"
                              "check(f, x)\n",
                              "def f(n):\n    return 2 * n\n", "def f(n):\n    return 10 if n == 5 else 0\n"),
    "early return": ("def check(candidate, inputs=None):\n    if inputs is None:\n        return\n    for x in inputs:\n"
                     "        assert candidate(x) == 2 * x\ncheck(f, [1, 2])\ncheck(f)\n",
                     "def f(x):\n    return 2 * x\n", "def f(x):\n    return 0\n"),
    "in a lambda": ("def check(candidate, n):\n    assert candidate(n) == 2 * n\nlist(map(lambda n: check(f, n), [1, 2, 3]))\n",
                    "def f(n):\n    return 2 * n\n", "def f(n):\n    return 2\n"),
}


@pytest.mark.parametrize("case", sorted(AROUND))
def test_check_calls_that_depend_on_the_statements_around_them_run_as_written(box, case):
    """Each call's arguments were bound after the whole setup had run, so every call saw the last
    value of `inp` (a right answer scored 0.5, one right only for the last value 0.5 or 1.0); a
    check returning early for some call failed that call's unit; a call in a lambda was not seen."""
    tests, right, wrong = AROUND[case]
    assert check_function(right, tests, "f", sandbox=box).correct
    assert check_function(wrong, tests, "f", sandbox=box).score == 0.0


def test_plain_check_calls_keep_a_unit_each(box):
    tests = "def check(candidate, n):\n    assert candidate(n) == n * 2\ncheck(f, 1)\ncheck(f, 2)\ncheck(f, 3)\n"
    verdict = check_function("def f(x):\n    return 2 if x == 1 else 0\n", tests, "f", sandbox=box)
    assert round(verdict.score, 3) == 0.333
