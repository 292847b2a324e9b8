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


def test_each_distinct_row_is_planned_once_for_all_envs():
    rows = [{"prompt": MUL_PROMPT, "entry_point": "mul", "test": MUL_TEST + f"\n# row {k} of a fresh table\n"} for k in range(3)]
    CodeEnv(rows)
    misses = _plan_error.cache_info().misses
    for _ in range(4):  # the envs of a vector env build the same rows
        CodeEnv(rows)
    assert _plan_error.cache_info().misses == misses
