"""The code verifier: extraction, test planning, output comparison, the plain-data codec, and
check_function / check_io end to end on every sandbox backend (HumanEval- and MBPP-like problems
written for these tests)."""

from __future__ import annotations

import json
import marshal
import math
from array import array
from collections import deque
from decimal import Decimal
from fractions import Fraction

import pytest

from conftest import get_sandbox
from rlvr.sandbox import BACKENDS, make_sandbox
from rlvr.verifiers.code import check_function, check_functions, check_io, compare_output, extract_code
from rlvr.verifiers.code_child import _untag, to_json
from rlvr.verifiers.code_harness import decode, encode
from rlvr.verifiers.code_plan import plan_tests


@pytest.fixture(scope="module", params=BACKENDS)
def box(request):
    """One sandbox per backend, shared by this module's tests."""
    return get_sandbox(request.param, timeout=5, memory_mb=256, max_processes=32,
                       max_output_bytes=100_000, max_file_mb=8)


# -- extract_code ---------------------------------------------------------------------------------
ANSWER = """Let me think.
```python
def f(x):
    return 1
```
Better:
```py
def f(x):
    return 2
```
And a shell aside:
```bash
echo hi
```
"""


def test_extract_last_python_block_by_default():
    assert extract_code(ANSWER) == "def f(x):\n    return 2"


def test_extract_first_all_and_raw():
    assert extract_code(ANSWER, mode="first") == "def f(x):\n    return 1"
    assert extract_code(ANSWER, mode="all") == "def f(x):\n    return 1\n\ndef f(x):\n    return 2"
    assert extract_code(ANSWER, mode="raw") == ANSWER
    assert extract_code(ANSWER, language="bash") == "echo hi"


def test_extract_without_fence_gives_raw_text_or_nothing():
    assert extract_code("def f(): pass") == "def f(): pass"
    assert extract_code("no code here", fallback_raw=False) == ""


def test_extract_untagged_and_unclosed_fences():
    assert extract_code("```\nx = 1\n```") == "x = 1"
    assert extract_code("text\n```python\ndef g():\n    return 3\n") == "def g():\n    return 3"
    assert extract_code("````python\nprint('```')\n````") == "print('```')"


def test_extract_rejects_bad_mode():
    with pytest.raises(ValueError, match="extraction mode"):
        extract_code("x", mode="middle")


# -- plan_tests -----------------------------------------------------------------------------------
HUMANEVAL_TESTS = '''
METADATA = {"author": "test"}


def check(candidate):
    assert candidate(2) == 4
    x = candidate(3)
    assert x == 9, "three"
    for n in range(5):
        assert candidate(n) == n * n
'''


def test_plan_splits_check_body_into_units():
    plan = plan_tests(HUMANEVAL_TESTS, "square")
    assert len(plan.units) == 3
    assert "x = candidate(3)" in plan.units[1].source and "assert x == 9" in plan.units[1].source
    assert plan.units[0].label.startswith("line 6: assert candidate(2) == 4")
    assert plan.bindings == {"candidate": "square"}
    assert "METADATA" in plan.setup and "def check" not in plan.setup


def test_plan_mbpp_list_and_free_names():
    plan = plan_tests(["assert math.isclose(area(1), 3.14159, rel_tol=1e-3)",
                       "assert set(common([1, 2], [2])) == {2}"])
    assert len(plan.units) == 2
    assert plan.bindings == {"area": "area", "common": "common"}  # never `set`, a builtin
    assert plan.modules == ("math",)


def test_plan_falls_back_to_one_unit_when_body_cannot_be_split():
    tests = "def check(candidate):\n    if candidate(1) != 1:\n        return\n    assert candidate(2) == 2\n"
    plan = plan_tests(tests, "f")
    assert [u.source for u in plan.units] == ["check(candidate)"]
    assert "def check" in plan.setup


def test_plan_entry_point_from_check_call_or_solution():
    assert plan_tests(HUMANEVAL_TESTS + "\ncheck(square)\n").entry_point == "square"
    plan = plan_tests(HUMANEVAL_TESTS, solution_defines=["helper", "square"])
    assert plan.bindings["candidate"] == "square"


def test_plan_rejects_bad_tests():
    with pytest.raises(ValueError, match="do not parse"):
        plan_tests("assert (")
    with pytest.raises(ValueError, match="no assert"):
        plan_tests("x = f(1)")
    with pytest.raises(ValueError, match="list of assert strings"):
        plan_tests(42)


# -- compare_output -------------------------------------------------------------------------------
def test_compare_output_whitespace_tolerant_by_default():
    assert compare_output("1  2 \n3\n\n", "1 2\n3")
    assert compare_output("\n1 2\r\n", "1 2\n")
    assert not compare_output("1 2 3\n", "1 2\n3\n")
    assert not compare_output("12\n", "1 2\n")


def test_compare_output_exact_and_float_tolerance():
    assert not compare_output("3\n", "3", exact=True)
    assert compare_output("3\n", "3\n", exact=True)
    assert not compare_output("0.3333\n", "0.333333\n")
    assert compare_output("0.3333\n", "0.333333\n", float_tolerance=1e-3)
    assert not compare_output("abc\n", "0.3\n", float_tolerance=1.0)


# -- codec ----------------------------------------------------------------------------------------
ROUND_TRIP = [
    None, True, False, 0, -7, 10**5000, -(10**5000), 1.5, -0.0, float("inf"), float("-inf"), "héllo",
    b"\x00\xff", bytearray(b"ab"), 3 + 4j, [1, [2, [3]]], (1, "a", (2.5,)), {1, 2}, frozenset({"x"}),
    {"a": 1, (1, 2): [3]}, range(1, 10, 2), Fraction(3, 7), Decimal("1.10"), deque([1, 2]),
    {"b": 1, (1, 2): 0}.keys(), {"k": (1, 2), 3: None}.items(), array("i", [1, -2]), array("d", [0.5, float("inf")]),
]


def child_to_harness(value):
    """A return value as it travels: the child's JSON writer, then the harness's decoder."""
    return decode(json.loads(to_json(value)))


def harness_to_child(value):
    """An argument as it travels: the harness's encoder and marshal, then the child's reader."""
    return _untag(marshal.loads(marshal.dumps(encode(value))))


@pytest.mark.parametrize("value", ROUND_TRIP, ids=lambda v: type(v).__name__)
def test_codec_round_trips_plain_data_both_ways(value):
    for travel in (child_to_harness, harness_to_child):
        back = travel(value)
        assert type(back) is type(value) and back == value


def test_codec_nan_and_iterators_and_subclasses():
    from collections import Counter, OrderedDict, namedtuple

    assert math.isnan(child_to_harness(float("nan")))
    assert list(child_to_harness(x for x in range(3))) == [0, 1, 2]
    assert list(child_to_harness(map(str, [1, 2]))) == ["1", "2"]
    point = namedtuple("Point", "x y")(1, 2)
    # stdlib containers come back as themselves (code rules 11): fields, counts and order kept
    assert child_to_harness(point)._fields == ("x", "y") and child_to_harness(point) == (1, 2)
    assert child_to_harness(Counter("aab")) == {"a": 2, "b": 1} and child_to_harness(Counter("aab"))["z"] == 0
    assert type(child_to_harness(OrderedDict(a=1))) is OrderedDict
    assert child_to_harness([Fraction(1, 3), deque([Decimal("2.5")])]) == [Fraction(1, 3), deque([Decimal("2.5")])]

    class Liar(int):
        def __eq__(self, other):
            return True

    assert type(child_to_harness(Liar(3))) is int and child_to_harness(Liar(3)) == 3
    values = child_to_harness({"a": 1, "b": [2]}.values())  # values views equal only themselves, in Python too
    assert type(values) is type({}.values()) and list(values) == [1, [2]]
    assert list(harness_to_child(OrderedDict(a=1).keys())) == ["a"] and child_to_harness(array("b")) == array("b")
    with pytest.raises(TypeError):
        to_json(object())
    with pytest.raises(ValueError):
        deep = []
        for _ in range(1000):
            deep = [deep]
        to_json(deep)


def test_child_and_harness_codecs_agree():
    """The child's copy of the codec (it must stand alone in the sandbox) and the harness's encode
    and decode write the same tagged form and read it back to the same values, under the same limits."""
    from rlvr.verifiers import code_child, code_harness

    for name in ("MAX_DEPTH", "MAX_ITEMS", "WIDE_INT_BITS", "MAX_MESSAGE"):
        assert getattr(code_child, name) == getattr(code_harness, name), name
    for value in ROUND_TRIP + [float("nan"), [float("nan"), 2**20000], {"k": (b"", frozenset())}]:
        child_form, harness_form = json.loads(to_json(value)), encode(value)
        assert json.dumps(child_form, sort_keys=True) == json.dumps(harness_form, sort_keys=True), value
        by_child, by_harness = _untag(harness_form), decode(harness_form)
        assert type(by_child) is type(by_harness)
        assert json.dumps(encode(by_child)) == json.dumps(encode(by_harness)), value  # nan-safe equality


@pytest.mark.parametrize("bad", [{"$tuple": 1}, {"a": 1, "b": 2}, {"$float": "1e999x"},
                                 {"$dict": [[[1], 2]]}, {"$eval": "os.system('x')"}, {"$range": [1]},
                                 {"$set": [[1]]}, {"$array": ["x", [1]]}, {"$array": ["b", [300]]},
                                 {"$array": ["i", ["a"]]}, {"$keys": [[1]]}, {"$items": [[1]]}])
def test_codec_rejects_malformed_data(bad):
    with pytest.raises((ValueError, TypeError)):
        decode(bad)


# -- check_function end to end --------------------------------------------------------------------
SQUARE = "def square(x):\n    return x * x\n"


def test_humaneval_style_correct_and_wrong(box):
    verdict = check_function(SQUARE, HUMANEVAL_TESTS, "square", sandbox=box)
    assert verdict.correct and verdict.score == 1.0 and verdict.error is None, verdict.reason
    wrong = check_function("def square(x):\n    return x + x\n", HUMANEVAL_TESTS, "square", sandbox=box)
    # 2+2 == 4 passes; 3+3 != 9 fails; the loop fails at n=1
    assert not wrong.correct and wrong.score == pytest.approx(1 / 3)
    assert wrong.reason.startswith("test 2 of 3 failed (line 8: assert x == 9, 'three')")
    assert "AssertionError: three" in wrong.reason and "square(3) returned 6" in wrong.reason


def test_model_text_with_fences_is_extracted(box):
    text = "Here you go:\n```python\n" + SQUARE + "```\nDone."
    assert check_function(text, HUMANEVAL_TESTS, "square", sandbox=box).correct


SCRATCH_FILE = """
import os

def roundtrip(text):
    listed = os.listdir(".")
    with open("scratch.txt", "w") as handle:
        handle.write(text)
    with open("scratch.txt") as handle:
        back = handle.read()
    os.remove("scratch.txt")
    return back, listed

def plant(text):
    with open("planted.txt", "w") as handle:
        handle.write(text)
    with open("planted.txt") as handle:
        return handle.read()
"""


def test_a_solution_may_write_scratch_files_in_its_working_directory(box):
    """As a stdin/stdout program may: a function-completion solution runs in a writable directory
    of its own, empty when it starts (no harness files to read or overwrite). The tests (trusted
    code, in the harness) do not run there: a relative path of theirs never reads the solution's files."""
    tests = ["assert roundtrip('abc') == ('abc', [])", "assert roundtrip('x' * 1000)[0] == 'x' * 1000",
             "import os\nassert plant('x') == 'x' and not os.path.exists('planted.txt')"]
    verdict = check_function(SCRATCH_FILE, tests, "roundtrip", sandbox=box)
    assert verdict.correct, verdict.reason
    from rlvr.verifiers.code import RULES_VERSION

    assert RULES_VERSION >= 5  # it failed under rules 4 (run in a read-only "/")


def test_a_test_passing_the_solution_what_cannot_cross_is_a_dataset_error(box):
    """Only the tests make the solution's arguments: a function or object no answer can receive
    makes the task uncheckable here (Verdict.failed), never a wrong answer."""
    apply = "def apply(f, x):\n    return f(x)\n"
    tests = ["assert apply(abs, -2) == 2", "assert apply(lambda x: x + 1, 2) == 3"]
    verdict = check_function(apply, tests, "apply", sandbox=box)
    assert verdict.error is not None and verdict.details["kind"] == "dataset_error", verdict
    assert verdict.error.startswith("test 1 of 2 (line 1: assert apply(abs, -2) == 2) cannot be checked: the tests pass "
                                    "a builtin_function_or_method object") and "fix or drop it in the dataset" in verdict.error
    # plain arguments fail on the answer's own merits; a test that catches the refusal still passes
    wrong = check_function("def apply(f, x):\n    return x\n", ["assert apply(1, 2) == 3"], "apply", sandbox=box)
    assert wrong.error is None and not wrong.correct and wrong.details["kind"] == "failed"
    caught = "try:\n    apply(len, 1)\nexcept TypeError:\n    pass\nassert apply(0, 5) == 5"
    assert check_function("def apply(f, x):\n    return x\n", [caught], "apply", sandbox=box).correct


@pytest.mark.parametrize("tests, entry, wrong, right", [
    # a generator of the tests' runs while its items are sent: what it raises is a failed test
    (["assert square(3) == 9", "assert total([1, 2]) == 3", "assert total(map(square, [1, 2, 3])) == 14"], None,
     "def square(x):\n    raise TypeError('x')\ndef total(xs):\n    return -1\n",
     "def square(x):\n    return x * x\ndef total(xs):\n    return sum(xs)\n"),
    (["assert total(x * 2 for x in double(3)) == 12", "assert double(1) == [1, 1]"], None,
     "def double(n):\n    return [None]\ndef total(xs):\n    return 0\n",
     "def double(n):\n    return [n, n]\ndef total(xs):\n    return sum(xs)\n"),
    ("def check(candidate):\n    assert candidate([1, 2, 3]) == 6\n    assert candidate(candidate([i, i]) for i in range(3)) == 6\n", "f",
     "def f(xs):\n    raise TypeError('nope')\n", "def f(xs):\n    return sum(xs)\n"),
    # a refusal the test catches, then a plain check that fails: the answer's failure
    (["try:\n    f(lambda: 0)\nexcept TypeError:\n    pass\nassert f(2) == 4"], "f", "def f(x):\n    return 0\n",
     "def f(x):\n    return 2 * x\n"),
    # a refusal a wrong answer steers the test to: the answer's failure
    (["assert f(1) == 2 or f(lambda: 0)"], "f", "def f(x):\n    return 0\n", "def f(x):\n    return 2 * x\n"),
])
def test_a_wrong_answer_cannot_pass_for_a_dataset_error(box, tests, entry, wrong, right):
    """Only an argument the tests made that is no plain data makes a dataset error: not what a
    generator of the tests' raises while it is sent (it may call the answer), nor a refusal the test caught."""
    verdict = check_function(wrong, tests, entry, sandbox=box)
    assert verdict.error is None and not verdict.correct and verdict.details["kind"] == "failed", verdict
    assert check_function(right, tests, entry, sandbox=box).correct


MBPP_TESTS = [
    "assert similar_elements((3, 4, 5, 6), (5, 7, 4, 10)) == (4, 5)",
    "assert similar_elements((1, 2, 3, 4), (5, 4, 3, 7)) == (3, 4)",
    "assert similar_elements((11, 12, 14, 13), (17, 15, 14, 13)) == (13, 14)",
]


def test_mbpp_style_fractional_scores(box):
    right = "def similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b)))\n"
    assert check_function(right, MBPP_TESTS, sandbox=box).correct
    # Unsorted tuples: (4, 5) happens to come out sorted, the others do not in general; make it certain
    half = "def similar_elements(a, b):\n    r = sorted(set(a) & set(b))\n    return tuple(r) if r[0] < 5 else tuple(r[::-1])\n"
    verdict = check_function(half, MBPP_TESTS, sandbox=box)
    assert verdict.score == pytest.approx(2 / 3) and not verdict.correct
    assert verdict.reason.startswith("test 3 of 3 failed") and "returned (14, 13)" in verdict.reason


RETURN_TYPES = """
def check(candidate):
    assert candidate("float") == 0.5
    assert math.isclose(candidate("sqrt"), 2 ** 0.5)
    assert candidate("tuple") == (1, "a")
    assert candidate("grid") == [[1, 2], [3, 4]]
    assert candidate("none") is None
    assert candidate("str") == "abc"
    assert candidate("dict") == {"k": [1, 2]}
    assert candidate("set") == {1, 2}
    assert candidate("bool") is True
    assert list(candidate("gen")) == [0, 1, 2]
    assert candidate("nan") != candidate("nan")
"""
RETURN_TYPES_SOLUTION = """
import math
def pick(kind):
    return {"float": 0.5, "sqrt": math.sqrt(2), "tuple": (1, "a"), "grid": [[1, 2], [3, 4]],
            "none": None, "str": "abc", "dict": {"k": [1, 2]}, "set": {1, 2}, "bool": True,
            "gen": (i for i in range(3)), "nan": float("nan")}[kind]
"""


def test_plain_data_return_types(box):
    verdict = check_function(RETURN_TYPES_SOLUTION, RETURN_TYPES, "pick", sandbox=box)
    assert verdict.correct, verdict.reason
    assert verdict.details["tests"] == 11


def test_solution_exceptions_reach_tests_as_builtin_types(box):
    tests = """
def check(candidate):
    try:
        candidate(-1)
        raise AssertionError("no error for -1")
    except ValueError as exc:
        assert "negative" in str(exc)
    assert candidate(4) == 2
"""
    solution = "def root(n):\n    if n < 0:\n        raise ValueError('negative input')\n    return int(n ** 0.5)\n"
    assert check_function(solution, tests, "root", sandbox=box).correct
    crash = check_function("def root(n):\n    return 1 // 0\n", tests, "root", sandbox=box)
    assert crash.score == 0 and "ZeroDivisionError" in crash.reason


def test_failures_have_reasons(box):
    tests = ["assert f(1) == 1", "assert f(2) == 2"]
    syntax = check_function("def f(x) return x", tests, sandbox=box)
    assert syntax.score == 0 and "does not parse" in syntax.reason and syntax.error is None
    missing = check_function("def g(x):\n    return x\n", tests, sandbox=box)
    assert missing.score == 0 and "defines no function 'f'" in missing.reason
    load = check_function("import no_such_module_xyz\ndef f(x):\n    return x\n", tests, sandbox=box)
    assert load.score == 0 and "failed to load" in load.reason and "no_such_module_xyz" in load.reason
    odd = check_function("def f(x):\n    return object()\n", tests, sandbox=box)
    assert odd.score == 0 and "cannot leave the sandbox" in odd.reason
    assert check_function(None, tests, sandbox=box).reason.startswith("no solution")


def test_slow_call_fails_only_its_test_and_a_fresh_process_serves_the_rest(box):
    tests = ["assert f(1) == 1", "assert f(2) == 2", "assert f(3) == 3"]
    solution = "import time\ndef f(x):\n    if x == 2:\n        time.sleep(30)\n    return x\n"
    verdict = check_function(solution, tests, sandbox=box, timeout=4, call_timeout=0.5)
    assert verdict.score == pytest.approx(2 / 3), verdict.reason
    assert "did not return within the time limit (0.5s)" in verdict.reason
    assert verdict.details["solution_starts"] == 2


def test_state_persists_between_calls_within_one_process(box):
    tests = ["assert counter() == 1", "assert counter() == 2"]
    solution = "n = 0\ndef counter():\n    global n\n    n += 1\n    return n\n"
    assert check_function(solution, tests, sandbox=box).correct


def test_setup_code_and_test_side_imports(box):
    tests = "import math\n\ndef check(candidate):\n    assert math.isclose(candidate(R), math.pi * R * R)\n"
    solution = "from math import pi\ndef area(r):\n    return pi * r * r\n"
    assert check_function(solution, tests, "area", sandbox=box, setup_code="R = 2").correct


def test_broken_test_setup_is_a_verification_failure(box):
    tests = "import no_such_test_dependency\n\ndef check(candidate):\n    assert candidate(1) == 1\n"
    verdict = check_function("def f(x):\n    return x\n", tests, "f", sandbox=box)
    assert verdict.error is not None and "setup error" in verdict.error


def test_check_functions_batch_keeps_order(box):
    problems = [{"solution": SQUARE, "tests": HUMANEVAL_TESTS, "entry_point": "square"},
                {"solution": "def square(x):\n    return 0\n", "tests": HUMANEVAL_TESTS, "entry_point": "square"},
                {"solution": "def square(x) return", "tests": HUMANEVAL_TESTS, "entry_point": "square"}]
    verdicts = check_functions(problems, sandbox=box)
    assert [v.correct for v in verdicts] == [True, False, False]
    assert "does not parse" in verdicts[2].reason


# -- check_io -------------------------------------------------------------------------------------
ADD = "a, b = map(int, input().split())\nprint(a + b)\n"


def test_check_io_cases_and_formats(box):
    assert check_io(ADD, [("1 2\n", "3\n"), ("5 5", "10")], sandbox=box).correct
    dicts = check_io(ADD, [{"input": "1 2", "output": "3"}, {"input": "2 2", "output": "5"}], sandbox=box)
    assert dicts.score == 0.5 and dicts.reason.startswith("case 2 of 2 failed (input '2 2'): wrong output")
    apps = check_io(ADD, {"inputs": ["1 1"], "outputs": ["2  \n\n"]}, sandbox=box)
    assert apps.correct
    assert not check_io(ADD, [("1 1", "2")], sandbox=box, exact=True).correct
    assert check_io(ADD, [("1 1", "2\n")], sandbox=box, exact=True).correct


def test_check_io_runtime_errors_timeouts_and_early_exit(box):
    crash = check_io("print(1 // 0)", [("", "1")], sandbox=box)
    assert crash.score == 0 and "ZeroDivisionError" in crash.reason
    slow = check_io("while True:\n    pass\n", [("", "1")], sandbox=box, timeout=0.5)
    assert slow.score == 0 and "timed out" in slow.reason
    quits = check_io("import sys\nsys.exit(0)\n", [("1 2", "3")], sandbox=box)
    assert quits.score == 0 and "wrong output" in quits.reason
    assert check_io("echo 3", [("", "3")], sandbox=box, language="bash").correct


def test_check_io_rejects_bad_cases():
    with pytest.raises(ValueError, match="non-empty list"):
        check_io(ADD, [])
    with pytest.raises(ValueError, match="case 1"):
        check_io(ADD, [(1, 2)])


# -- infrastructure failures are never a silent zero ----------------------------------------------
@pytest.fixture()
def broken():
    """A real sandbox that cannot run anything: a subprocess sandbox whose interpreter passes the
    start-up check but dies as a worker (every run is a sandbox_error saying so), not a fake standing
    in for one. (A closed sandbox was this fixture once: a run made after close() now raises, the
    caller's mistake.)"""
    from conftest import shell_interpreter

    # the check runs `python -I -c CODE`; a worker gets its arguments after those: it exits at once
    with shell_interpreter('[ $# -gt 3 ] && exit 3\nexec /usr/bin/python3 "$@"\n') as python:
        sb = make_sandbox("subprocess", python=python)
        probe = sb.run("print(1)")
        assert probe.status == "sandbox_error" and probe.infrastructure_failed, probe
        yield sb
        sb.close()


def test_sandbox_failure_gives_failed_verdict(broken):
    verdict = check_function(SQUARE, HUMANEVAL_TESTS, "square", sandbox=broken)
    assert verdict.error and "sandbox" in verdict.error and not verdict.correct
    io_verdict = check_io(ADD, [("1 2", "3")], sandbox=broken)
    assert io_verdict.error and "sandbox" in io_verdict.error and not io_verdict.correct
    batch = check_functions([{"solution": SQUARE, "tests": HUMANEVAL_TESTS, "entry_point": "square"}],
                            sandbox=broken)
    assert batch[0].error and not batch[0].correct


def test_solution_mutating_its_arguments_changes_the_tests_data_as_in_one_process(box):
    # the arguments' state after the call comes back as plain data and is written into the tests'
    # objects, so a test that the input is left alone catches an answer that clears it
    tests = """
def check(candidate):
    data = [3, 1, 2]
    assert candidate(data) == 3
    assert data == [3, 1, 2]
    assert candidate(data) == 3
"""
    solution = "def biggest(xs):\n    xs.sort()\n    top = xs[-1]\n    xs.clear()\n    return top\n"
    verdict = check_function(solution, tests, "biggest", sandbox=box)
    assert not verdict.correct and "assert" in verdict.reason
    assert check_function("def biggest(xs):\n    return max(xs)\n", tests, "biggest", sandbox=box).correct


def test_harness_runs_from_source_when_the_sandbox_python_has_other_bytecode(box):
    # The host ships compiled code for speed; another interpreter version must fall back to source.
    from rlvr.verifiers import code as code_module

    job = code_module._prepare_function(SQUARE, HUMANEVAL_TESTS, "square", timeout=5.0, call_timeout=None,
                                        setup_code="", extract=True, memory_mb=None)
    stale = {name: (b"\0\0\0\0" + data[4:] if isinstance(data, bytes) else data)
             for name, data in code_module.HARNESS_FILES.items()}
    result = box.run(**{**job.run_kwargs, "files": stale})
    verdict = job.interpret(result)
    assert verdict.correct, (verdict.reason, result.stderr[-500:])


REAL_HUMANEVAL_SHAPE = '''
METADATA = {"author": "jt", "dataset": "test"}


def check(candidate):

    # Check some simple cases
    assert True, "This prints if this assert fails 1 (good for debugging!)"
    assert candidate(5) == 10
    assert candidate(0) == 0

    # Check some edge cases that are easy to work out by hand.
    assert True, "This prints if this assert fails 2 (also good for debugging!)"
'''


def test_asserts_that_never_touch_the_solution_are_not_tests():
    plan = plan_tests(REAL_HUMANEVAL_SHAPE, "double")
    assert len(plan.units) == 2
    assert all("candidate" in unit.source for unit in plan.units)
    assert plan.units[0].label.startswith("line 9: assert candidate(5) == 10")
    with pytest.raises(ValueError, match="never use the solution"):
        plan_tests("def check(candidate):\n    assert True\n")
    with pytest.raises(ValueError, match="never use the solution"):
        plan_tests(["assert 1 + 1 == 2"])


def test_helper_calls_count_as_tests():
    tests = ("def check(candidate):\n    def same(a, b):\n        assert sorted(a) == sorted(b)\n"
             "    same(candidate(1), [1])\n    same(candidate(2), [1, 2])\n")
    plan = plan_tests(tests, "f")
    assert len(plan.units) == 2 and plan.units[1].label.startswith("line 5: same(candidate(2), [1, 2])")


def test_real_humaneval_shape_scores_zero_for_an_early_exit(box):
    verdict = check_function("import sys\nsys.exit(0)\n", REAL_HUMANEVAL_SHAPE, "double", sandbox=box)
    assert verdict.score == 0.0 and "SystemExit" in verdict.reason
    quiet = check_function("raise SystemExit", "def check(candidate):\n    assert callable(candidate)\n",
                           "f", sandbox=box)
    assert quiet.score == 0.0  # a solution that does not load passes nothing
    assert check_function("def double(x):\n    return 2 * x\n", REAL_HUMANEVAL_SHAPE, "double", sandbox=box).correct


def test_a_memory_limit_too_small_for_the_harness_is_refused_not_scored():
    from rlvr.sandbox import make_sandbox
    from rlvr.verifiers.code import HARNESS_MIN_MEMORY_MB

    with pytest.raises(ValueError, match=f"needs at least {HARNESS_MIN_MEMORY_MB} MiB"):
        check_function("def f(x):\n    return x + 1\n", ["assert f(1) == 2"], "f", memory_mb=16)
    with make_sandbox("subprocess", memory_mb=24) as small:
        with pytest.raises(ValueError, match="memory_mb=24 is too small"):
            check_functions([{"solution": "def f(x):\n    return x + 1\n", "tests": ["assert f(1) == 2"]}], sandbox=small)


# -- which statements are tests -------------------------------------------------------------------
ADD_RIGHT = "def add(a, b):\n    return a + b\n"
ADD_WRONG = "def add(a, b):\n    return 0\n"
PYTEST_STYLE = ("def test_small():\n    assert add(1, 2) == 3\n"
                "def test_big():\n    assert add(10, 20) == 30\n"
                "def test_fixture(tmp_path):\n    assert add(0, 0) == 0\n")


def test_plan_definitions_are_setup_and_calls_of_checking_helpers_are_units():
    called = plan_tests("def t(x, y):\n    assert add(x, y) == x + y\nt(1, 2)\nt(3, 4)\n")
    assert [u.label for u in called.units] == ["line 3: t(1, 2)", "line 4: t(3, 4)"]
    assert called.units[0].source.startswith("def t(x, y):") and called.units[1].source == "t(3, 4)"
    nested = plan_tests("def check(candidate):\n    def t1(x, y):\n        assert candidate(x, 0) == y\n"
                        "    def t2(x, y):\n        assert candidate(0, x) == y\n    t1(1, 1)\n    t2(2, 2)\n", "add")
    assert [u.label for u in nested.units] == ["line 6: t1(1, 1)", "line 7: t2(2, 2)"]
    through = plan_tests("def inner(x):\n    return add(x, 0)\ndef outer(x):\n    assert inner(x) == x\n"
                         "outer(1)\nouter(2)\n")  # a checking helper that reaches the solution through another
    assert [u.label for u in through.units] == ["line 5: outer(1)", "line 6: outer(2)"]
    looped = plan_tests("def t(a, b):\n    assert f(a) == b\nfor a, b in [(1, 1), (2, 2)]:\n    t(a, b)\n")
    assert [u.label for u in looped.units] == ["line 3: for a, b in [(1, 1), (2, 2)]:"]
    pytest_style = plan_tests(PYTEST_STYLE)
    # one call per test function, after all the definitions; test_fixture takes an argument: no unit
    assert [u.label for u in pytest_style.units] == ["line 1: test_small()", "line 3: test_big()"]
    assert pytest_style.units[0].source.endswith("assert add(0, 0) == 0\ntest_small()")
    assert pytest_style.units[1].source == "test_big()"


def test_wrong_code_fails_asserts_inside_test_functions(box):
    called = PYTEST_STYLE + "test_small()\ntest_big()\n"
    helpers = ("def check(candidate):\n    def t1(x, y):\n        assert candidate(x, 0) == y\n"
               "    def t2(x, y):\n        assert candidate(0, x) == y\n    t1(1, 1)\n    t2(2, 2)\n")
    for tests, entry_point in ((PYTEST_STYLE, None), (called, None), (helpers, "add")):
        wrong = check_function(ADD_WRONG, tests, entry_point, sandbox=box)
        assert wrong.score == 0.0 and "AssertionError" in wrong.reason, (tests, wrong.reason)
        right = check_function(ADD_RIGHT, tests, entry_point, sandbox=box)
        assert right.correct and right.details["tests"] == 2, (tests, right.reason)
    half = check_function("def add(a, b):\n    return a + b if a < 5 else 0\n", PYTEST_STYLE, sandbox=box)
    assert half.score == 0.5 and half.reason.startswith("test 2 of 2 failed (line 3: test_big())")


def test_tests_run_as_a_script_so_main_guarded_asserts_count(box):
    guarded = "if __name__ == '__main__':\n    assert add(1, 2) == 3\n    assert add(10, 20) == 30\n"
    assert len(plan_tests(guarded).units) == 2
    assert check_function(ADD_WRONG, guarded, sandbox=box).score == 0.0
    assert check_function(ADD_RIGHT, guarded, sandbox=box).correct
    humaneval = ("def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(2, 2) == 4\n"
                 "if __name__ == '__main__':\n    check(add)\n")
    plan = plan_tests(humaneval)
    assert plan.entry_point == "add" and len(plan.units) == 2 and "check(add)" not in plan.setup
    assert check_function(ADD_WRONG, humaneval, sandbox=box).score == 0.0
    assert check_function(ADD_RIGHT, humaneval, sandbox=box).correct
    named = ["assert __name__ == '__main__'\nassert add(1, 2) == 3"]
    assert check_function(ADD_RIGHT, named, sandbox=box).correct


def test_test_classes_are_refused_not_passed():
    for tests in ("class TestAdd:\n    def test_one(self):\n        assert add(1, 2) == 3\n",
                  "import unittest\nclass T(unittest.TestCase):\n    def test_one(self):\n"
                  "        self.assertEqual(add(1, 2), 3)\nif __name__ == '__main__':\n    unittest.main()\n"):
        with pytest.raises(ValueError, match="test classes .* are not supported"):
            check_function(ADD_WRONG, tests)


def test_a_test_that_never_calls_the_solution_fails(box):
    skipped = "def test_add():\n    return\n    assert add(1, 2) == 3\n"
    verdict = check_function(ADD_RIGHT, skipped, sandbox=box)
    assert verdict.score == 0.0 and "never called the solution" in verdict.reason
    tests = "def check(candidate):\n    if False:\n        assert candidate(1, 1) == 2\n    assert candidate(2, 2) == 4\n"
    partly = check_function(ADD_RIGHT, tests, "add", sandbox=box)
    assert partly.score == 0.5 and partly.reason.startswith("test 1 of 2 failed (line 2: if False:)")
    assert "never called the solution" in partly.reason


# -- what may leave the sandbox -------------------------------------------------------------------
VIEWS_TESTS = """
import array

def check(candidate):
    assert sorted(candidate("keys")) == ["a", "b"]
    assert candidate("keys") == {"a", "b"}  # a keys view is set-like, as in plain Python
    assert candidate("keys") != ["a", "b"]  # and never equal to a list, as in plain Python
    assert list(candidate("values")) == [1, 2] and sum(candidate("values")) == 3
    assert set(candidate("items")) == {("a", 1), ("b", 2)}
    assert candidate("items") == {"b": 2, "a": 1}.items()
    assert list(candidate("array")) == [0, 1, 2] and candidate("array").typecode == "i"
    assert candidate("array") == array.array("i", [0, 1, 2])
"""
VIEWS_SOLUTION = """
import array
def pick(kind):
    d = {"a": 1, "b": 2}
    return {"keys": d.keys(), "values": d.values(), "items": d.items(), "array": array.array("i", range(3))}[kind]
"""


def test_dict_views_and_arrays_leave_the_sandbox_with_plain_python_semantics(box):
    verdict = check_function(VIEWS_SOLUTION, VIEWS_TESTS, "pick", sandbox=box)
    assert verdict.correct and verdict.details["tests"] == 8, verdict.reason


# -- bad limits are the caller's mistake ----------------------------------------------------------
def test_a_memory_limit_no_sandbox_takes_raises_before_running():
    with make_sandbox("subprocess") as sandbox:
        with pytest.raises(ValueError, match="memory_mb must be at least 16"):
            check_io(ADD, [("1 2", "3")], sandbox=sandbox, memory_mb=8)
        with pytest.raises(TypeError):
            check_io(None, [("1 2", "3")], sandbox=sandbox, memory_mb="lots")  # raises whatever the answer


def test_a_memory_limit_the_docker_backend_cannot_raise_per_run_raises():
    docker = get_sandbox("docker", timeout=5, memory_mb=256, max_processes=32, max_output_bytes=100_000,
                         max_file_mb=8)
    fixes = "fixes memory_mb"
    with pytest.raises(ValueError, match=fixes):
        check_function(SQUARE, HUMANEVAL_TESTS, "square", sandbox=docker, memory_mb=1024)
    with pytest.raises(ValueError, match=fixes):
        check_function("no code", HUMANEVAL_TESTS, "square", sandbox=docker, memory_mb=1024, extract=False)
    with pytest.raises(ValueError, match=fixes):
        check_functions([{"solution": SQUARE, "tests": HUMANEVAL_TESTS, "entry_point": "square"}],
                        sandbox=docker, memory_mb=1024)
    with pytest.raises(ValueError, match=fixes):
        check_io(ADD, [("1 2", "3")], sandbox=docker, memory_mb=1024)
    assert check_function(SQUARE, HUMANEVAL_TESTS, "square", sandbox=docker, memory_mb=128).correct


# -- review fixes: naming the solution without calling it, and helpers that only use it ------------

@pytest.mark.parametrize("tests", [
    "assert callable(f)\nassert f(1) == 2\nassert f(5) == 6",
    "assert isinstance(f, type(len)) or callable(f)\nassert f(1) == 2\nassert f(5) == 6",
    "assert f.__name__ == 'f'\nassert f(1) == 2\nassert f(5) == 6",
    "import inspect\nassert inspect.signature(f) is not None\nassert f(1) == 2\nassert f(5) == 6",
    "def check(candidate):\n    assert callable(candidate)\n    assert candidate(1) == 2\n    assert candidate(5) == 6\ncheck(f)",
])
def test_inspecting_the_solution_is_not_a_unit_of_its_own(box, tests):
    assert len(plan_tests(tests, "f").units) == 2
    good = check_function("def f(x):\n    return x + 1\n", tests, "f", sandbox=box)
    assert good.correct, good.reason
    assert check_function("def f(x):\n    return x + 2\n", tests, "f", sandbox=box).score == 0.0


def test_a_helper_that_only_uses_the_solution_earns_nothing(box):
    tests = "def show(x):\n    print(f(x))\nshow(1)\nassert f(1) == 2"
    assert len(plan_tests(tests, "f").units) == 1
    assert check_function("def f(x):\n    return x + 2\n", tests, "f", sandbox=box).score == 0.0
    assert check_function("def f(x):\n    return x + 1\n", tests, "f", sandbox=box).correct
    asserting = "def t(x, y):\n    assert f(x) == y\nt(1, 2)\nt(5, 6)"  # helpers that assert still count
    assert len(plan_tests(asserting, "f").units) == 2


@pytest.mark.parametrize("name, value", [("timeout", float("inf")), ("timeout", True), ("timeout", 86_400),
                                         ("timeout", float("nan")), ("call_timeout", float("inf"))])
def test_a_time_limit_the_sandbox_refuses_raises_at_the_call(name, value):
    # review of audit 24: inf, True or a day passed this check, then Limits refused every run inside
    # the verifier: each solution got a sandbox_error verdict instead of one clear error
    from rlvr.verifiers import code as code_module

    kwargs = {"timeout": 5.0, "call_timeout": None, name: value}
    with pytest.raises(ValueError, match=f"{name} must be a positive number of seconds, at most"):
        code_module._prepare_function(SQUARE, HUMANEVAL_TESTS, "square", setup_code="", extract="auto",
                                      memory_mb=None, **kwargs)
    if name == "timeout" and value != 86_400:  # (a day is check_io's longest: it adds no harness grace)
        with pytest.raises(ValueError, match="timeout must be a positive number of seconds, at most 86400"):
            check_io("print(input())", [("1", "1")], timeout=value)
