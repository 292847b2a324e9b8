"""Regression tests for audit 13 of `rlvr/Code-v0` (right answers that scored wrong).

1. The answer was compiled with rlvr's own `from __future__ import annotations` and its module was
   not in sys.modules, so any `@dataclass` failed to load and annotations were strings. A
   call-based answer copied from LeetCode starter code (`List[int]`, never imported) must still
   pass: the `typing` names are ready, as on LeetCode.
2. A stdin/stdout program was not `sys.modules["__main__"]`, so pickling its classes and
   `multiprocessing.Pool.map` failed; a function task's classes could not be pickled either.
3. A HumanEval prompt that is only a signature (or a signature and a comment) left its `def`
   without a body before a whole-function answer, which then never parsed.
4. MBPP's entry point was taken from a name the test imports bind (`isclose`), so a usage block
   after the solution was taken for the program.
5. Code-v0's `close()` closes no sandbox (the default one is shared by the process).
6. `RULES_VERSION` is at least 3.

Review of that change: a call-based answer gets the `typing` names in its module, not a line of text
before it (which moved every line number its errors report); a task's `prompt_head` is read once,
when the tasks are built, not for every answer.
"""

from __future__ import annotations

import json
import marshal
from importlib.util import MAGIC_NUMBER

import pytest

import rlvr
from conftest import fence
import rlvr.envs.code_env as code_env
from rlvr.envs.code_env import _mbpp_entry_point, call_tests
from rlvr.verifiers.code import HARNESS_FILES, RULES_VERSION, check_function, check_io
from rlvr.verifiers.code_plan import TYPING_NAMES_PRAGMA, plan_tests, prompt_head

CO_FUTURE_ANNOTATIONS = 0x1000000
ADD_TEST = "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(2, 5) == 7\n"
ADD_CASES = [("1 2\n", "3\n"), ("2 5\n", "7\n")]


def step(env, completion: str, index: int = 0):
    env.reset(seed=0, options={"index": index})
    _, reward, _, _, info = env.step(completion)
    return reward, info["verdict"]


# -- 1. compiled as python3 compiles a file; the module is in sys.modules -------------------------
def test_child_program_is_compiled_without_our_future_flags():
    code = marshal.loads(HARNESS_FILES["rlvr_child.bin"][len(MAGIC_NUMBER):])
    assert not code.co_flags & CO_FUTURE_ANNOTATIONS


DATACLASS_ADD = ("from dataclasses import dataclass\nimport typing\n@dataclass\nclass P:\n    x: int\n"
                 "    tag: typing.ClassVar[str] = 'p'\n"
                 "def add(a: int, b: int) -> int:\n"
                 "    assert add.__annotations__['a'] is int and typing.get_type_hints(P)['x'] is int\n"
                 "    return P(a).x + b")


def test_dataclass_answer_loads_in_function_tasks(box):
    he = check_function(DATACLASS_ADD, ADD_TEST, "add", sandbox=box)
    assert he.correct, he.reason
    mbpp = check_function(DATACLASS_ADD, ["assert add(1, 2) == 3", "assert add(2, 5) == 7"], sandbox=box)
    assert mbpp.correct, mbpp.reason


def test_dataclass_program_and_real_annotations_in_stdin_tasks(program_box):
    program = ("from dataclasses import dataclass\n@dataclass\nclass P:\n    x: int\n"
               "a, b = map(int, input().split())\n"
               "print(P(a).x + b if P.__annotations__['x'] is int else 'strings')")
    verdict = check_io(program, ADD_CASES, sandbox=program_box)
    assert verdict.correct, verdict.reason


def starter_env(box, starter: str):
    rows = [{"problem_id": 0, "question": "Return the indices of the two numbers that add up to target.",
             "starter_code": starter,
             "input_output": json.dumps({"fn_name": "twoSum", "inputs": [[[2, 7, 11, 15], 9], [[3, 2, 4], 6]],
                                         "outputs": [[0, 1], [1, 2]]})}]
    return rlvr.make("rlvr/Code-v0", dataset=rows, sandbox=box).unwrapped


TWO_SUM = """class Solution:
    def twoSum(self, nums: List[int], target: int) -> List[int]:
        seen = {}
        for i, n in enumerate(nums):
            if target - n in seen:
                return [seen[target - n], i]
            seen[n] = i
"""


def test_call_based_starter_using_typing_names_without_importing_them_passes(box):
    env = starter_env(box, "class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n        ")
    reward, verdict = step(env, fence(TWO_SUM))
    assert verdict.correct and reward == 1.0, verdict.reason
    # the answer's own postponed annotations still come first in its file
    reward, verdict = step(env, fence("from __future__ import annotations\n" + TWO_SUM))
    assert verdict.correct, verdict.reason
    # and a dataclass in a call-based answer loads
    dataclass_answer = ("from dataclasses import dataclass\n@dataclass\nclass Seen:\n    at: Dict[int, int]\n\n"
                        + TWO_SUM.replace("seen = {}", "seen = Seen({}).at"))
    reward, verdict = step(env, fence(dataclass_answer))
    assert verdict.correct, verdict.reason


def test_call_based_answer_text_is_its_own_so_error_lines_are_its_own(box):
    env = starter_env(box, "")
    # a compile error the host's parser lets through is reported by the sandbox at the answer's own line
    broken = TWO_SUM + "return None\n"  # line 8 of the answer
    reward, verdict = step(env, fence(broken))
    assert reward == 0.0 and "'return' outside function (line 8)" in verdict.reason, verdict.reason
    shim = "\n\n\ndef twoSum(*args):\n    return Solution().twoSum(*args)\n"
    assert env.solution_of(env.source.tasks[0], fence(TWO_SUM)) == TWO_SUM.rstrip("\n") + shim  # nothing before it


def test_names_the_call_based_answer_defines_win_over_typings(box):
    env = starter_env(box, "")
    answer = ("def cast(pair):  # typing.cast takes two arguments\n    return [pair[1], pair[0]]\n\n"
              + TWO_SUM.replace("return [seen[target - n], i]", "return cast((i, seen[target - n]))"))
    reward, verdict = step(env, fence(answer))
    assert verdict.correct and reward == 1.0, verdict.reason


def test_a_fresh_solution_process_gets_the_typing_names_too(box):
    env = starter_env(box, "")
    answer = "import os\n" + TWO_SUM.replace("        seen = {}", "        if nums == [2, 7, 11, 15]:\n"
                                                                   "            os._exit(1)\n        seen = {}")
    reward, verdict = step(env, fence(answer))  # the first case kills its process; the second loads again
    assert reward == 0.5 and "test 1 of 2 failed" in verdict.reason, verdict.reason


def test_only_call_based_tests_ask_for_the_typing_names(box):
    assert plan_tests(call_tests([[1, 2]], [3]), "add").typing_names
    assert not plan_tests(ADD_TEST, "add").typing_names
    assert not plan_tests(["assert add(1, 2) == 3"]).typing_names
    assert plan_tests(ADD_TEST + "    " + TYPING_NAMES_PRAGMA + "\r\n", "add").typing_names
    # a HumanEval answer still has to import what it uses (as strict as before)
    answer = "def add(a: List[int], b):\n    return a + b"
    verdict = check_function(answer, ADD_TEST, "add", sandbox=box)
    assert not verdict.correct and "NameError" in verdict.reason, verdict.reason
    verdict = check_function("from typing import List\n" + answer, ADD_TEST, "add", sandbox=box)
    assert verdict.correct, verdict.reason


# -- 2. the program is __main__; the answer's classes pickle ----------------------------------------
def test_program_is_the_main_module_so_pickle_and_multiprocessing_work(program_box):
    pickled = ("import pickle\nclass P:\n    pass\na, b = map(int, input().split())\n"
               "print(a + b if type(pickle.loads(pickle.dumps(P()))) is P else 0)")
    verdict = check_io(pickled, ADD_CASES, sandbox=program_box)
    assert verdict.correct, verdict.reason
    main = ("import sys, __main__\nx = 5\na, b = map(int, input().split())\n"
            "print(a + b if sys.modules['__main__'].x == 5 and __main__.x == 5 else 'no')")
    verdict = check_io(main, ADD_CASES, sandbox=program_box)
    assert verdict.correct, verdict.reason
    pool = ("from multiprocessing import Pool\ndef f(x):\n    return x\nif __name__ == '__main__':\n"
            "    a, b = map(int, input().split())\n    with Pool(2) as p:\n        print(sum(p.map(f, [a, b])))")
    verdict = check_io(pool, ADD_CASES[:1], sandbox=program_box)
    assert verdict.correct, verdict.reason


def test_function_answer_classes_pickle(box):
    answer = ("import pickle\nclass Box:\n    def __init__(s, v):\n        s.v = v\n"
              "def add(a, b):\n    return pickle.loads(pickle.dumps(Box(a + b))).v")
    verdict = check_function(answer, ADD_TEST, "add", sandbox=box)
    assert verdict.correct, verdict.reason


# -- 3. a bare-signature HumanEval prompt and a whole-function answer --------------------------------
@pytest.mark.parametrize("prompt", ["import math\n\ndef add(a, b):\n", "import math\n\ndef add(a, b):\n    # add them\n"])
def test_signature_only_prompt_takes_a_whole_function(box, prompt, monkeypatch):
    rows = [{"task_id": "he", "prompt": prompt, "test": ADD_TEST, "entry_point": "add"}]
    env = rlvr.make("rlvr/Code-v0", dataset=rows, sandbox=box).unwrapped
    assert env.source.tasks[0].meta["prompt_head"] == "import math\n\n"  # read once, with the task

    def per_answer(*args):
        raise AssertionError("prompt_head ran for an answer; it is read once per task when tasks are built")

    monkeypatch.setattr(code_env, "prompt_head", per_answer)
    reward, verdict = step(env, fence("def add(a, b):\n    return int(math.fsum([a, b]))"))  # the prompt's import stays
    assert verdict.correct and reward == 1.0, verdict.reason
    reward, verdict = step(env, fence("    return a + b"))  # a body-only continuation still works
    assert verdict.correct, verdict.reason


def test_prompt_head_keeps_a_prompt_that_parses(box):
    docstring = 'def add(a, b):\n    """Add."""\n'
    assert prompt_head(docstring, "add") == docstring
    rows = [{"task_id": "he", "prompt": docstring, "test": ADD_TEST, "entry_point": "add"}]
    assert "prompt_head" not in rlvr.make("rlvr/Code-v0", dataset=rows, sandbox=box).unwrapped.source.tasks[0].meta
    assert prompt_head("X = 1\ndef add(a, b):\n", "add") == "X = 1\n"
    assert prompt_head("def add(a, b):\n", None) == "def add(a, b):\n"


# -- 4. MBPP's entry point is never a name the test imports or setup bind ---------------------------
AREA_TESTS = ["assert isclose(area(2), 12.566, rel_tol=0.001)", "assert isclose(area(1), 3.1416, rel_tol=0.001)"]


def test_mbpp_entry_point_skips_names_bound_by_test_imports_and_setup():
    assert _mbpp_entry_point(AREA_TESTS, "from math import isclose") == "area"
    setup = "def approx(a, b):\n    return abs(a - b) < 1e-3\n"
    assert _mbpp_entry_point(["assert approx(area(2), 12.566)"], setup) == "area"


@pytest.mark.parametrize("imports, setup, tests", [
    (["from math import isclose"], "", AREA_TESTS),
    ([], "def approx(a, b):\n    return abs(a - b) < 1e-3\n", ["assert approx(area(2), 12.566)", "assert approx(area(1), 3.1416)"]),
])
def test_mbpp_usage_block_after_solution_is_not_the_program(box, imports, setup, tests):
    rows = [{"task_id": "mb", "text": "Write area(r), the area of a circle.", "test_list": tests,
             "test_imports": imports, "test_setup_code": setup}]
    env = rlvr.make("rlvr/Code-v0", dataset=rows, sandbox=box).unwrapped
    assert env.source.tasks[0].meta["entry_point"] == "area"
    solution = fence("import math\ndef area(r):\n    return math.pi * r * r")
    reward, verdict = step(env, solution + "\n\nExample usage:\n" + fence("print(area(2))"))
    assert verdict.correct and reward == 1.0, verdict.reason


# -- 5 and 6. close leaves the shared sandbox alone; the rules version ------------------------------
def test_close_leaves_the_shared_sandbox_usable_and_rules_version_is_3(box):
    from rlvr.envs.python_tool import shared_sandbox

    env = rlvr.make("rlvr/Code-v0", sandbox_backend="subprocess")
    env.close()
    env.close()
    assert shared_sandbox("subprocess").run("print(1)").stdout == "1\n"
    assert RULES_VERSION >= 3
    fingerprint = rlvr.make("rlvr/Code-v0", sandbox=box).unwrapped.verifier_fingerprint()
    assert fingerprint["settings"]["rules"] == RULES_VERSION
