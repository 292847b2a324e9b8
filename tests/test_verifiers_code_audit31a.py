"""Regression tests for a red-team audit of the code verifier (audit 31, first part).

* A wrong answer that left with `sys.exit()`, `exit()` or KeyboardInterrupt on bad input passed a
  test written `try: candidate(-1) except Exception: pass else: assert False`: the exception reached
  the tests as an Exception (and `exit` was not even defined in the solution's process).
* A returned Counter, OrderedDict, defaultdict or namedtuple reached the tests as a plain dict or
  tuple: a right Counter failed a test reading a missing key, and an OrderedDict in the wrong order
  passed a test comparing it with an OrderedDict.
* Time the tests' own code took (a slow reference helper of the dataset's) counted against the
  solution's time limit: a right answer was scored wrong.
"""

from __future__ import annotations

import pytest

from rlvr.verifiers.code import check_function
from rlvr.verifiers import code_harness
from rlvr.verifiers.code_harness import SolutionError, _solution_exception, decode

MUST_RAISE = ("def check(candidate):\n"
              "    try:\n        candidate(-1)\n    except Exception:\n        pass\n"
              "    else:\n        assert False, 'negative input must raise'\n"
              "    assert candidate(4) == 2\n")


# -- 1. exceptions outside Exception ----------------------------------------------------------------
@pytest.mark.parametrize("how", [
    "import sys; sys.exit(1)", "exit()", "quit(0)", "raise SystemExit", "raise KeyboardInterrupt",
    "raise GeneratorExit", "raise BaseException('no')", "raise Stop()",
])
def test_an_answer_that_exits_on_bad_input_fails_a_test_expecting_an_error(sandbox, how):
    wrong = f"class Stop(BaseException):\n    pass\n\ndef isqrt(x):\n    if x < 0:\n        {how}\n    return int(x ** 0.5)\n"
    verdict = check_function(wrong, MUST_RAISE, "isqrt", sandbox=sandbox)
    assert not verdict.correct and verdict.error is None, verdict.reason
    assert verdict.reason.startswith("test 1 of 2 failed"), verdict.reason
    right = "def isqrt(x):\n    if x < 0:\n        raise ValueError(x)\n    return int(x ** 0.5)\n"
    assert check_function(right, MUST_RAISE, "isqrt", sandbox=sandbox).correct


def test_a_task_class_of_the_same_name_does_not_make_a_base_exception_catchable(box):
    # the task's NegativeError is a ValueError; the solution's own class of that name is not an Exception
    tests = "class NegativeError(ValueError):\n    pass\n\n" + MUST_RAISE
    wrong = ("class NegativeError(BaseException):\n    pass\n\n"
             "def isqrt(x):\n    if x < 0:\n        raise NegativeError(x)\n    return int(x ** 0.5)\n")
    assert not check_function(wrong, tests, "isqrt", sandbox=box).correct
    right = wrong.replace("(BaseException)", "(ValueError)")
    assert check_function(right, tests, "isqrt", sandbox=box).correct


def test_tests_that_expect_an_exit_still_catch_it(box):
    solution = "import sys\n\ndef run(code):\n    sys.exit(code)\n"
    tests = ["try:\n    run(3)\nexcept SystemExit as exc:\n    assert exc.code == 3\nelse:\n    assert False",
             "try:\n    run(0)\nexcept:\n    pass\nelse:\n    assert False"]
    verdict = check_function(solution, tests, "run", sandbox=box)
    assert verdict.correct, verdict.reason


def test_an_uncaught_keyboard_interrupt_stops_the_run_and_a_system_exit_fails_its_test(box):
    tests = ["assert f(-1) == 0", "assert f(2) == 2", "assert f(3) == 3"]
    stop = check_function("def f(x):\n    if x < 0:\n        raise KeyboardInterrupt\n    return x\n", tests, "f", sandbox=box)
    assert stop.score == 0.0 and stop.details["passed"] == 0, stop.reason
    assert "stops the run" in stop.details["results"][1]["error"]
    leave = check_function("import sys\ndef f(x):\n    if x < 0:\n        sys.exit(0)\n    return x\n", tests, "f", sandbox=box)
    assert leave.score == pytest.approx(2 / 3) and "SystemExit" in leave.reason, leave.reason


def test_solution_exception_keeps_base_exceptions_outside_exception():
    for name in ("SystemExit", "KeyboardInterrupt", "BaseException", "GeneratorExit", "NoSuchClass", "print"):
        exc = _solution_exception(name, "m", None, name)
        assert not isinstance(exc, Exception), name
    assert type(_solution_exception("SystemExit", "2", {"$tuple": [2]}, "SystemExit")) is SystemExit
    assert _solution_exception("SystemExit", "2", {"$tuple": [2]}, "SystemExit").code == 2
    assert type(_solution_exception("GeneratorExit", "", None, "GeneratorExit")) is code_harness.SolutionExit
    assert type(_solution_exception("StopIteration", "", None, "StopIteration")) is SolutionError
    assert type(_solution_exception("ValueError", "x", None, "ValueError")) is ValueError


# -- 2. collections' containers come back as themselves ----------------------------------------------
def test_a_returned_counter_answers_as_a_counter(box):
    solution = "from collections import Counter\ndef count(s):\n    return Counter(s)\n"
    tests = ["assert count('aab')['z'] == 0", "assert count('aab').most_common(1) == [('a', 2)]",
             "assert count('aab') == {'a': 2, 'b': 1}", "assert count('aab') + count('b') == count('abb') + count('a')"]
    verdict = check_function(solution, tests, "count", sandbox=box)
    assert verdict.correct, verdict.reason


def test_an_ordered_dict_keeps_its_order_in_comparisons(box):
    tests = "from collections import OrderedDict\nassert od() == OrderedDict([('a', 1), ('b', 2)])\n"
    wrong = "from collections import OrderedDict\ndef od():\n    return OrderedDict([('b', 2), ('a', 1)])\n"
    assert not check_function(wrong, tests, "od", sandbox=box).correct
    right = wrong.replace("[('b', 2), ('a', 1)]", "[('a', 1), ('b', 2)]")
    assert check_function(right, tests, "od", sandbox=box).correct


def test_a_namedtuple_keeps_its_fields_and_a_defaultdict_its_builtin_factory(box):
    solution = ("from collections import namedtuple, defaultdict\nP = namedtuple('P', 'x y')\n"
                "def mk(a, b):\n    return [P(a, b)]\n"
                "def groups(words):\n    d = defaultdict(list)\n    for w in words:\n        d[len(w)].append(w)\n    return d\n"
                "def odd(words):\n    d = defaultdict(lambda: 7)\n    return d\n")
    tests = ["assert mk(1, 2)[0].x == 1 and mk(1, 2)[0]._fields == ('x', 'y') and mk(1, 2) == [(1, 2)]",
             "assert repr(mk(1, 2)[0]) == 'P(x=1, y=2)'",
             "assert groups(['a', 'bb'])[5] == [] and groups(['a'])[1] == ['a']",
             "d = odd([])\ntry:\n    d['k']\nexcept KeyError:\n    pass\nelse:\n    assert False"]
    verdict = check_function(solution, tests, "mk", sandbox=box)
    assert verdict.correct, verdict.reason


@pytest.mark.parametrize("bad", [
    {"$namedtuple": ["P", ["x"], [1, 2]]}, {"$namedtuple": ["P", "x", [1]]},
    {"$defaultdict": ["eval", []]}, {"$defaultdict": ["int", [[1]]]}, {"$counter": [[[1], 2]]},
    {"$odict": [1]},
])
def test_container_tags_reject_malformed_data(bad):
    with pytest.raises((ValueError, TypeError)):
        decode(bad)


@pytest.mark.parametrize("fields", [["_x"], ["x", "x"], ["def"], ["x); import os #"]])
def test_a_namedtuple_whose_type_cannot_be_made_here_is_its_plain_tuple(fields):
    # (`namedtuple(..., rename=True)` makes `_2`; a name no identifier is never compiled into a type)
    back = decode({"$namedtuple": ["P", fields, list(range(len(fields)))]})
    assert type(back) is tuple and back == tuple(range(len(fields)))
    assert type(decode({"$namedtuple": ["a b", ["x"], [1]]})) is tuple


# -- 3. the tests' own time is not the solution's -----------------------------------------------------
SLOW_TESTS = ("import time\n\ndef brute(x):\n    time.sleep(0.6)  # the dataset's own slow reference\n    return x + x\n\n"
              "def check(candidate):\n" + "".join(f"    assert candidate({n}) == brute({n})\n" for n in range(4)))


def test_slow_tests_do_not_use_up_the_solutions_time(box):
    verdict = check_function("def dbl(x):\n    return 2 * x\n", SLOW_TESTS, "dbl", sandbox=box, timeout=1.5)
    assert verdict.correct, verdict.reason


def test_the_solutions_own_time_still_counts(box):
    slow = "import time\n\ndef dbl(x):\n    time.sleep(0.6)\n    return 2 * x\n"
    tests = "def check(candidate):\n" + "".join(f"    assert candidate({n}) == {2 * n}\n" for n in range(4))
    verdict = check_function(slow, tests, "dbl", sandbox=box, timeout=1.5)
    assert not verdict.correct and verdict.error is None and "time limit" in verdict.reason, verdict.reason


def test_tests_slower_than_the_run_allows_are_cut_off_with_a_report(box):
    tests = ("import time\n\ndef brute(x):\n    time.sleep(1.0)\n    return x + x\n\n"
             "def check(candidate):\n" + "".join(f"    assert candidate({n}) == brute({n})\n" for n in range(6)))
    verdict = check_function("def dbl(x):\n    return 2 * x\n", tests, "dbl", sandbox=box, timeout=1.0)
    assert verdict.details["kind"] == "failed", verdict.reason  # reported, not killed by the sandbox
    assert 0 < verdict.details["passed"] < 6
    assert "the tests' own code took" in verdict.reason, verdict.reason


# -- review of rules 11: the run's end is kept inside a unit; a type not rebuilt is a plain tuple ----
def test_tests_running_into_the_runs_end_keep_the_credit_earned_and_report_in_time(box):
    """Slow reference code after each call (1.8 s a unit, 4 s limit): a unit still running at the
    run's end is stopped there, so the harness reports before the sandbox kills it: the units that
    passed keep their credit (the run scored 0, 'no result', when the sandbox killed it)."""
    setup = "import time\ndef ref(x):\n    t = time.monotonic()\n    while time.monotonic() - t < 1.8:\n        pass\n    return x * 2\n"
    tests = [f"assert f({i}) == ref({i})" for i in range(6)]
    verdict = check_function("def f(x):\n    return 2 * x\n", tests, "f", sandbox=box, timeout=4.0, setup_code=setup)
    assert verdict.details.get("kind") == "failed", verdict.reason
    assert verdict.score == pytest.approx(3 / 6), verdict.reason
    assert "not finished" in verdict.reason


def test_a_namedtuple_type_that_cannot_be_rebuilt_comes_back_as_a_plain_tuple(box):
    solution = ("from collections import namedtuple\nR = namedtuple('R', ['lo', 'hi', 'lo'], rename=True)\n"
                "def minmax(xs):\n    return R(min(xs), max(xs), 0)\n")
    verdict = check_function(solution, ["assert minmax([3, 1, 2]) == (1, 3, 0)"], "minmax", sandbox=box, timeout=5)
    assert verdict.correct, verdict.reason


def test_tests_that_time_their_calls_with_their_own_alarm_keep_it(box):
    """A common idiom: the setup installs a SIGALRM handler, each test wraps its call in
    `signal.alarm(1)`. The harness's own run-end timer must hand such an alarm to the tests'
    handler (the slow call fails its own test), not kill the harness and lose every result."""
    setup = ("import signal\nclass Timeout(Exception):\n    pass\n"
             "def _on_alarm(signum, frame):\n    raise Timeout()\n"
             "signal.signal(signal.SIGALRM, _on_alarm)\n")
    tests = [f"signal.alarm(1)\ntry:\n    assert f({i}) == {2 * i}\nfinally:\n    signal.alarm(0)" for i in range(3)]
    solution = "import time\ndef f(x):\n    if x == 1:\n        time.sleep(1.5)\n    return 2 * x\n"
    verdict = check_function(solution, tests, "f", sandbox=box, timeout=6.0, setup_code=setup)
    assert verdict.details.get("kind") == "failed", verdict.reason
    assert verdict.score == pytest.approx(2 / 3) and "Timeout" in verdict.reason, verdict.reason
