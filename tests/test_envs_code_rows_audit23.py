"""Code-v0 rows that cannot be scored fail when the env is built (review of session 23).

Each of these used to build: a row whose tests do not parse then flagged every step invalid (an
infrastructure failure that stopped `rlvr train` mid-run), a null `entry_point` or one the prompt
does not ask for scored every right answer 0, and tests that assert nothing passed every answer.
"""

from __future__ import annotations

import re

import pytest

from rlvr.envs.code_env import CodeEnv, _plan_error
from rlvr.envs.tasks import DatasetError
from rlvr.verifiers.code import check_function

MUL_PROMPT = 'def mul(a, b):\n    """Return a times b."""\n'
MUL_TEST = "def check(candidate):\n    assert candidate(2, 3) == 6\n    assert candidate(0, 5) == 0\n"
MUL_ANSWER = "```python\ndef mul(a, b):\n    return a * b\n```"


@pytest.mark.parametrize("row, problem", [
    ({"prompt": MUL_PROMPT, "entry_point": "mul", "test": "def check(candidate:\n    assert candidate(1, 1) == 1\n"},
     "row 0 (task '0'): column 'test' cannot check a solution: the tests do not parse"),
    ({"prompt": MUL_PROMPT, "entry_point": "mul", "test": "def check(candidate):\n    assert 2 * 3 == 6\n"},
     "row 0 (task '0'): column 'test' cannot check a solution: the tests never use the solution"),
    ({"prompt": MUL_PROMPT, "entry_point": "mul", "test": "def check(candidate):\n    print(candidate(2, 3))\n"},
     "row 0 (task '0'): column 'test' cannot check a solution: the tests assert nothing"),
    ({"prompt": MUL_PROMPT, "entry_point": "multiply", "test": MUL_TEST},
     "row 0: column 'entry_point' is 'multiply', but the prompt asks for the function 'mul'"),
])
def test_a_humaneval_row_that_cannot_be_scored_is_refused_when_built(row, problem):
    with pytest.raises(DatasetError, match=re.escape(problem)):
        CodeEnv([row])


@pytest.mark.parametrize("test_list, problem", [
    (["print(add(1, 2))"], "the tests hold no assert statement"),
    (["add(1, 2)", "add(2, 2)"], "the tests assert nothing"),
])
def test_an_mbpp_row_that_checks_nothing_is_refused_when_built(test_list, problem):
    with pytest.raises(DatasetError, match=f"row 0 \\(task '0'\\): column 'test_list' cannot check a solution: {problem}"):
        CodeEnv([{"text": "Write add.", "test_list": test_list}])


def test_stdin_stdout_cases_that_all_expect_no_output_are_refused():
    with pytest.raises(DatasetError, match="row 0: every stdin/stdout case expects no output"):
        CodeEnv([{"question": "q", "inputs": ["1", "2"], "outputs": ["", " \n"]}])
    CodeEnv([{"question": "q", "inputs": ["1", "2"], "outputs": ["", "2"]}])  # one case with output is enough


def test_the_verifier_refuses_tests_that_assert_nothing(box):
    # `rlvr eval` and the trainer score through check_function: bad tests raise, never pass
    with pytest.raises(ValueError, match="the tests assert nothing"):
        check_function("def mul(a, b):\n    return 0\n", "def check(candidate):\n    print(candidate(2, 3))\n",
                       "mul", sandbox=box)
    # an unittest-style or numpy assertion call counts as an assertion
    for body in ("self.assertEqual(candidate(2, 3), 6)", "np.testing.assert_allclose(candidate(2, 3), 6)"):
        assert _plan_error(f"import numpy as np\ndef check(candidate):\n    {body}\n", "mul") is None


@pytest.mark.parametrize("tests", [MUL_TEST, MUL_TEST + "\ncheck(mul)\n"])
def test_a_null_entry_point_is_the_function_the_prompt_asks_for(box, tests):
    # it used to stay None: the prompt's `def mul` was then taken for a helper and redefined after
    # the answer, so the right answer scored 0 ("mul(2, 3) returned None")
    env = CodeEnv([{"prompt": MUL_PROMPT, "entry_point": None, "test": tests}], sandbox=box)
    assert env.source.tasks[0].meta["entry_point"] == "mul"
    env.reset(options={"index": 0})
    assert env.step(MUL_ANSWER)[1] == 1.0


def test_a_null_entry_point_with_a_prompt_asking_for_no_def_is_left_to_the_answer(box):
    env = CodeEnv([{"prompt": "# Write a function that multiplies two numbers.\n", "entry_point": None, "test": MUL_TEST}],
                  sandbox=box)
    assert env.source.tasks[0].meta["entry_point"] is None
    env.reset(options={"index": 0})
    assert env.step(MUL_ANSWER)[1] == 1.0


def test_an_entry_point_the_prompt_defines_among_others_is_accepted():
    prompt = "def helper(x):\n    return x + 1\n\n\ndef mul(a, b):\n    pass\n"
    CodeEnv([{"prompt": prompt, "entry_point": "mul", "test": MUL_TEST}])
    # the prompt's finished helper is not what it asks for: any entry point goes
    CodeEnv([{"prompt": "def helper(x):\n    return x + 1\n", "entry_point": "mul", "test": MUL_TEST}])


def test_each_distinct_row_is_planned_once_for_all_envs(monkeypatch):
    import rlvr.envs.code_env as code_env

    planned = []
    real = code_env.plan_tests
    monkeypatch.setattr(code_env, "plan_tests", lambda tests, entry: planned.append(tests) or real(tests, entry))
    rows = [{"prompt": MUL_PROMPT, "entry_point": "mul", "test": MUL_TEST + f"\n# row {k} of a fresh table\n"} for k in range(3)]
    CodeEnv(rows)
    assert len(planned) == 3
    for _ in range(4):  # the envs of a vector env build the same rows
        CodeEnv(rows)
    assert len(planned) == 3
    # remembered by a digest, not by the test text itself
    assert all(isinstance(digest, bytes) and len(digest) == 16 for digest, _ in code_env._PLANNED)


@pytest.mark.parametrize("body", [
    "if candidate(2, 3) != 6:\n        pytest.fail('wrong')",
    "if candidate(2, 3) != 6:\n        sys.exit(1)",
    "check_eq(candidate(2, 3), 6)",
    "if candidate(2, 3) != 6:\n        raise AssertionError",
])
def test_tests_that_fail_other_than_by_assert_are_accepted(body):
    tests = f"import sys\nimport pytest\nfrom testutils import check_eq\n\ndef check(candidate):\n    {body}\n"
    assert _plan_error(tests, "mul") is None


def test_an_entry_point_whose_name_starts_the_asked_functions_name_is_refused():
    # `"def mul" in prompt` held for a prompt asking for `mul_x`: every right answer then scored 0
    prompt = 'def mul_x(a, b):\n    """Return a times b."""\n'
    with pytest.raises(DatasetError, match="column 'entry_point' is 'mul', but the prompt asks for the function 'mul_x'"):
        CodeEnv([{"prompt": prompt, "entry_point": "mul", "test": MUL_TEST}])


def test_a_null_entry_point_is_the_one_a_main_block_checks(box):
    tests = MUL_TEST + '\nif __name__ == "__main__":\n    check(mul)\n'
    prompt = "def helper(x):\n    return x\n"  # asks for no function: the tests name it
    assert CodeEnv([{"prompt": prompt, "entry_point": None, "test": tests}]).source.tasks[0].meta["entry_point"] == "mul"


@pytest.mark.parametrize("changes, problem", [
    # a number among the asserts was dropped without a word
    ({"test_list": ["assert add(1, 2) == 3", 5]}, "row 0: column 'test_list' item 1 must be a line of code (a string), got int (5)"),
    # was reported as "is empty"
    ({"test_list": [1, 2]}, "row 0: column 'test_list' item 0 must be a line of code (a string), got int (1)"),
    # these raised a TypeError naming no row
    ({"test_setup_code": 5}, "row 0: column 'test_setup_code' must be a string or a list of strings, got int (5)"),
    ({"test_imports": 5}, "row 0: column 'test_imports' must be a string or a list of strings, got int (5)"),
])
def test_an_mbpp_row_of_the_wrong_types_is_refused_naming_the_item(changes, problem):
    with pytest.raises(DatasetError, match=re.escape(problem)):
        CodeEnv([{"text": "Write add.", "test_list": ["assert add(1, 2) == 3"], **changes}])


def test_mbpp_imports_and_setup_as_strings_or_lists_still_build():
    row = {"text": "Write area.", "test_list": ["assert isclose(area(1), 3.14159, rel_tol=1e-3)"]}
    for imports in ("from math import isclose", ["from math import isclose"]):
        task = CodeEnv([{**row, "test_imports": imports, "test_setup_code": None}]).source.tasks[0]
        assert task.answer.startswith("from math import isclose\n") and task.meta["entry_point"] == "area"


def test_an_empty_fn_name_is_refused_not_taken_for_a_stdin_task():
    import json

    row = {"question": "q", "input_output": json.dumps({"fn_name": "", "inputs": [[1]], "outputs": [1]})}
    with pytest.raises(DatasetError, match="row 0: 'fn_name' in 'input_output' must be a Python function name, got ''"):
        CodeEnv([row])
