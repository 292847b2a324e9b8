"""Regression tests for a red-team audit of the code verifier (audit 28).

* A failing import of the tests themselves (a module the sandbox lacks) was scored as the answer's
  wrong result: MBPP `test_imports` and evalplus-style scripts put it in the first unit. The tests'
  leading imports are now setup, run before the solution's process starts (a setup error), and a
  unit's own top-level import failing before the unit called the solution is a dataset error. An
  ImportError the solution causes (raised when called, or after the unit's first call) stays the
  answer's failure.
* An answer split over two blocks (a helper, then the function using it) lost the helper.
* U+2028 / U+2029 / U+0085 in a solution's error cut the harness's report line, scoring 0.
* A broken `test_setup_code` was reported as the asserts not parsing, and an APPS row with an empty
  `input_output` as malformed JSON.
"""

from __future__ import annotations

import pytest

from rlvr.envs.code_env import CodeEnv
from rlvr.envs.errors import DatasetError
from rlvr.verifiers.code import check_function
from rlvr.verifiers.code_extract import extract_program
from rlvr.verifiers.code_plan import plan_tests

#: A module no sandbox's Python has.
ABSENT = "rlvr_absent_module_audit28"
DOUBLE = "def f(x):\n    return 2 * x\n"


# -- 1. the tests' own imports --------------------------------------------------------------------
def test_leading_imports_of_the_tests_are_setup_not_the_first_unit():
    plan = plan_tests(f"import {ABSENT} as np\nfrom math import inf\nassert f(1) == 2\nassert f(2) == 4\n")
    assert f"import {ABSENT} as np" in plan.setup and "from math import inf" in plan.setup
    assert all("import" not in unit.source for unit in plan.units) and len(plan.units) == 2
    future = plan_tests("from __future__ import annotations\nimport math\nassert f(1) == 2\n")
    assert future.setup == "" and future.units[0].source.startswith("from __future__")


def test_an_mbpp_test_import_the_sandbox_lacks_is_a_setup_error_not_a_wrong_answer(box):
    rows = [{"task_id": 1, "text": "Add two numbers.", "test_imports": [f"import {ABSENT} as np"],
             "test_list": ["assert np.isclose(add(1, 2), 3)", "assert add(2, 2) == 4"]}]
    env = CodeEnv(rows, sandbox=box)
    for answer in ("def add(a, b):\n    return a + b\n", "def add(a, b):\n    return 0\n"):
        verdict = env.verify(env.source.tasks[0], f"```python\n{answer}```")
        assert verdict.details["kind"] == "setup_error" and verdict.error is not None, verdict.reason
        assert f"No module named '{ABSENT}'" in verdict.error


def test_an_evalplus_script_importing_a_missing_module_is_a_setup_error(box):
    tests = (f"import {ABSENT} as np\nfrom math import inf\n\ndef assertion(out, exp, atol):\n"
             "    assert out == exp\n\ninputs = [[1, 2], [2, 2]]\nresults = [3, 4]\n"
             "for inp, exp in zip(inputs, results):\n    assertion(add(*inp), exp, 0)\n")
    verdict = check_function("def add(a, b):\n    return a + b\n", tests, "add", sandbox=box)
    assert verdict.details["kind"] == "setup_error" and verdict.error is not None, verdict.reason


#: Setup code (run in the harness) for the path of the file "trace" in the solution's working
#: directory, the harness's `_scratch_directory`.
TRACE_PATH = ("import os, time\n"
              "trace = os.path.join(os.environ.get('TMPDIR') or '/tmp', f'rlvr-solution-{os.getpid()}', 'trace')\n")


def test_no_solution_code_runs_before_the_setup_calls_the_solution(box):
    # The solution's process starts before the setup (its interpreter starts up meanwhile), but
    # the solution must not be loaded into it yet: its module-level code leaves a trace in its
    # working directory, and the setup watches for a while that none appears, then calls the
    # solution (which loads it) and sees the trace appear, so the watch could have seen it.
    solution = "open('trace', 'w').close()\n" + DOUBLE
    setup = (TRACE_PATH + "for _ in range(60):\n"
             "    assert not os.path.exists(trace), 'the solution ran before the setup called it'\n"
             "    time.sleep(0.01)\n"
             "assert f(1) == 2 and os.path.exists(trace)\n")
    verdict = check_function(solution, ["assert f(2) == 4"], "f", sandbox=box, setup_code=setup)
    assert verdict.correct, verdict.reason
    # a setup that never calls it: the solution is loaded only after the setup, before the units
    first_unit = TRACE_PATH + "assert not os.path.exists(trace)\n"
    late = first_unit.replace("assert not", "assert")
    for setup, expected in ((first_unit + "time.sleep(0.3)\nassert not os.path.exists(trace)\n", True), (late, False)):
        verdict = check_function(solution, ["assert f(2) == 4"], "f", sandbox=box, setup_code=setup)
        assert verdict.correct is expected and verdict.details["kind"] == ("passed" if expected else "setup_error"), verdict


def test_a_failing_setup_is_the_tests_even_when_the_solution_would_kill_the_harness_on_loading(box):
    # loaded during the setup, this solution would end the harness before the setup's import fails
    # (no report: never a setup error); it is never loaded, as the setup fails without calling it
    killer = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n" + DOUBLE
    setup = f"import time\ntime.sleep(0.3)\nimport {ABSENT}\n"
    verdict = check_function(killer, "assert f(1) == 2\n", "f", sandbox=box, setup_code=setup)
    assert verdict.details["kind"] == "setup_error" and ABSENT in (verdict.error or ""), verdict.reason
    assert verdict.details.get("solution_starts") is None  # a setup error reports no results


def test_a_units_own_import_failing_before_it_calls_the_solution_is_a_dataset_error(box):
    tests = ["assert f(1) == 2", f"import {ABSENT}\nassert f(2) == 4"]
    for solution in (DOUBLE, "def f(x):\n    return 2\n"):
        verdict = check_function(solution, tests, "f", sandbox=box)
        assert verdict.details["kind"] == "dataset_error" and verdict.error is not None, verdict.reason
        assert ABSENT in verdict.reason and "test 2 of 2" in verdict.reason
    check = f"def check(candidate):\n    assert candidate(1) == 2\n    import {ABSENT}\n    assert candidate(2) == 4\n"
    verdict = check_function(DOUBLE, check, "f", sandbox=box)
    assert verdict.details["kind"] == "dataset_error", verdict.reason


def test_an_import_error_of_the_solutions_making_is_still_the_answers_failure(box):
    tests = ["assert f(1) == 2", "import colorsys\nassert f(2) == 4"]
    raising = "def f(x):\n    if x == 2:\n        raise ModuleNotFoundError(\"No module named 'colorsys'\")\n    return 2 * x\n"
    importing = f"def f(x):\n    if x == 2:\n        import {ABSENT}\n    return 2 * x\n"
    for solution in (raising, importing):
        verdict = check_function(solution, tests, "f", sandbox=box)
        assert verdict.details["kind"] == "failed" and verdict.error is None and verdict.score == 0.5, verdict.reason
    # poisoning its own modules at import time cannot make the tests' import fail: a right answer
    # still passes, a wrong one is still scored wrong (not excused as the tests' failure)
    poison = "import sys\nsys.modules['colorsys'] = None\n"
    assert check_function(poison + DOUBLE, tests, "f", sandbox=box).correct
    wrong = check_function(poison + "def f(x):\n    return 2 if x == 1 else 0\n", tests, "f", sandbox=box)
    assert wrong.details["kind"] == "failed" and wrong.error is None and wrong.score == 0.5, wrong.reason
    # an import after the unit has called the solution could be steered by its result: the answer's
    after_call = ["y = f(1)\nimport " + ABSENT + "\nassert y == 2"]
    verdict = check_function(DOUBLE, after_call, "f", sandbox=box)
    assert verdict.details["kind"] == "failed" and verdict.error is None, verdict.reason


# -- 2. a helper in an earlier block --------------------------------------------------------------
TWO_BLOCKS = """First, a helper that checks for palindromes:
```python
def is_pal(s: str) -> bool:
    return s == s[::-1]

print(is_pal("aba"))
```
Now the main function:
```python
def make_palindrome(string: str) -> str:
    i = 0
    while not is_pal(string[i:]):
        i += 1
    return string + string[:i][::-1]
```"""


def test_a_helper_from_an_earlier_block_is_put_before_the_function_using_it(box):
    program = extract_program(TWO_BLOCKS, ["make_palindrome"])
    assert program.startswith("def is_pal(s: str) -> bool:") and "print(" not in program
    assert program.endswith("return string + string[:i][::-1]")
    tests = "def check(candidate):\n    assert candidate('jerry') == 'jerryrrej'\n    assert candidate('') == ''\n"
    assert check_function(TWO_BLOCKS, tests, "make_palindrome", sandbox=box).correct


def test_only_needed_definitions_are_carried_and_one_block_answers_are_unchanged():
    one = "Here:\n```python\ndef f(x):\n    return helper(x)\n```\n"
    assert extract_program(one, ["f"]) == "def f(x):\n    return helper(x)"
    chain = ("```python\nMOD = 7\ndata = input()\n```\n```python\ndef h(x):\n    return x % MOD\n"
             "def f(x):\n    return 0\n```\n```python\ndef f(x):\n    return h(x) + 1\n```\n")
    program = extract_program(chain, ["f"])
    assert program == "MOD = 7\n\ndef h(x):\n    return x % MOD\n\n\ndef f(x):\n    return h(x) + 1"
    io = "```python\ndef solve(n):\n    return n * 2\n```\n```python\nn = int(input())\nprint(solve(n))\n```\n"
    assert extract_program(io) == "def solve(n):\n    return n * 2\n\n\nn = int(input())\nprint(solve(n))"


def test_carried_helpers_go_after_the_blocks_future_import(box):
    # (review of the session's diff: the helper put before `from __future__` was a SyntaxError)
    answer = ("```python\nclass Node:\n    pass\n```\n```python\n\"\"\"Adds.\"\"\"\nfrom __future__ import annotations\n\n"
              "def add(a: int, b: int, hint: Node | None = None) -> int:\n    return a + b\n```\n")
    program = extract_program(answer, ["add"])
    assert program.startswith('"""Adds."""\nfrom __future__ import annotations\n') and "class Node" in program
    compile(program, "<answer>", "exec")
    assert check_function(answer, ["assert add(1, 2) == 3", "assert add(0, 0) == 0"], "add", sandbox=box).correct


def test_names_the_chosen_block_binds_itself_are_never_carried_from_earlier_blocks():
    # the chosen block binds each name in another way (parameter, except-as, match capture, import,
    # walrus, class); the earlier block's definitions of the same names stay out, and only the
    # helper it really lacks comes in (code_plan.bound_and_used finds the names both sides bind)
    earlier = ("```python\ndef x(): pass\ndef err(): pass\ndef cap(): pass\ndef rest(): pass\n"
               "import math\nclass K: pass\ndef w(): pass\ndef helper(v):\n    return v\n```\n")
    chosen = ("```python\nimport math\nclass K:\n    pass\ndef f(x):\n    try:\n        pass\n"
              "    except ValueError as err:\n        return err\n    match x:\n        case [cap, *rest]:\n"
              "            return cap, rest\n    if (w := x):\n        return helper(w), K, math\n```\n")
    program = extract_program(earlier + chosen, ["f"])
    assert program.startswith("def helper(v):\n    return v\n\n\nimport math\n"), program
    assert program.count("def ") == 2 and "class K: pass" not in program


# -- 3. line separators in the report -------------------------------------------------------------
@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_a_line_separator_in_a_solutions_error_does_not_lose_the_report(box, separator):
    # the error of a returned generator that raises reaches the report as the child wrote it
    message = repr("bad" + separator + "value")
    solution = ("def f(x):\n    if x == 3:\n        def gen():\n            yield 1\n"
                f"            raise ValueError({message})\n        return gen()\n    return 2 * x\n")
    tests = ["assert f(1) == 2", "assert f(2) == 4", "assert f(3) == 6", "assert f(4) == 8"]
    verdict = check_function(solution, tests, "f", sandbox=box)
    assert verdict.score == 0.75 and verdict.details["kind"] == "failed", verdict.reason
    broken = check_function(f"raise ImportError({message})\n" + DOUBLE, tests, "f", sandbox=box)
    assert broken.details["kind"] == "failed" and "failed to load" in broken.reason, broken.reason


# -- 4. where a dataset's row is broken -----------------------------------------------------------
def test_a_broken_test_setup_or_import_column_is_named():
    base = {"task_id": 7, "text": "Add.", "test_list": ["assert add(1, 2) == 3", "assert add(2, 2) == 4"]}
    with pytest.raises(DatasetError, match=r"column 'test_setup_code' does not parse \(.*its line 2\)"):
        CodeEnv([{**base, "test_setup_code": "x = 1\ndef helper(:\n    pass\n"}])
    with pytest.raises(DatasetError, match="column 'test_imports' does not parse"):
        CodeEnv([{**base, "test_imports": ["import math", "from math import"]}])
    with pytest.raises(DatasetError, match="column 'test_list' cannot check a solution: the tests do not parse"):
        CodeEnv([{**base, "test_setup_code": "x = 1\n", "test_list": ["assert add(1, 2) == 3", "assert add(2, 2 == 4"]}])


@pytest.mark.parametrize("empty", [None, "", "  ", "{}", "null"])
def test_an_apps_row_without_tests_is_named_with_how_to_drop_it(empty):
    rows = [{"question": "Print 1.", "input_output": '{"inputs": ["\\n"], "outputs": ["1\\n"]}'},
            {"question": "x", "input_output": empty}]
    with pytest.raises(DatasetError, match=r"row 1 has no tests: .*ds\.filter\("):
        CodeEnv(rows)
