"""Code-v0 and the code verifier, audit 39: HumanEval body-only answers indented unlike the prompt,
a leading byte-order mark, and HumanEval tables without an `entry_point` column. Run in the
real (subprocess) sandbox."""

from __future__ import annotations

import pytest

from conftest import fence
from rlvr.envs.code_env import CodeEnv
from rlvr.envs.tasks import DatasetError
from rlvr.verifiers.code import check_function, check_io
from rlvr.verifiers.code_extract import extract_program

PROMPT = ('from typing import List\n\n\ndef has_close(numbers: List[float], threshold: float) -> bool:\n'
          '    """ Check if any two numbers are closer than threshold.\n    >>> has_close([1.0, 2.0], 0.5)\n'
          '    False\n    """\n')
TEST = ("def check(candidate):\n    assert candidate([1.0, 2.0, 3.0], 0.5) == False\n"
        "    assert candidate([1.0, 2.8, 3.0], 0.3) == True\n")
ROW = {"task_id": "HE/0", "prompt": PROMPT, "test": TEST, "entry_point": "has_close"}
#: The body, at column 0; `_indent` puts it at any depth.
BODY = ("for i, a in enumerate(numbers):\n    for b in numbers[i + 1:]:\n        if abs(a - b) < threshold:\n"
        "            return True\nreturn False\n")


def _indent(code: str, prefix: str) -> str:
    return "".join(prefix + line if line.strip() else line for line in code.splitlines(keepends=True))


def _env(box, rows=(ROW,)) -> CodeEnv:
    return CodeEnv(dataset=list(rows), sandbox=box)


def _verify(env: CodeEnv, answer: str, index: int = 0):
    verdict = env.verify(env.source.get(index), answer)
    assert verdict.error is None, verdict
    return verdict


# -- 1. body-only answers indented unlike the prompt ---------------------------------------------
@pytest.mark.parametrize("depth", ["", "  ", "    ", "        "])
def test_body_only_answer_passes_at_any_uniform_indentation(box, depth):
    env = _env(box)
    assert _verify(env, fence(_indent(BODY, depth))).correct
    assert _verify(env, _indent(BODY, depth)).correct  # raw, not fenced


def test_body_is_indented_as_the_prompts_body_is(box):
    # a prompt whose body is 2 spaces deep: the column-0 body goes 2 spaces deep, not 4
    prompt = 'def add(a, b):\n  """Add."""\n'
    env = _env(box, [{"task_id": "t", "prompt": prompt, "test": "def check(c):\n    assert c(2, 3) == 5\n",
                      "entry_point": "add"}])
    task = env.source.get(0)
    assert env.solution_of(task, fence("x = a + b\nreturn x")).startswith(prompt + "  x = a + b\n  return x")
    assert _verify(env, fence("x = a + b\nreturn x")).correct
    # a bare signature (no docstring): four spaces
    bare = _env(box, [{"task_id": "t", "prompt": "def add(a, b):\n", "test": "def check(c):\n    assert c(2, 3) == 5\n",
                       "entry_point": "add"}])
    assert _verify(bare, fence("return a + b")).correct
    assert not _verify(bare, fence("return a - b")).correct


def test_a_wrong_body_at_column_0_stays_wrong(box):
    env = _env(box)
    verdict = _verify(env, fence("return False"))
    assert not verdict.correct and verdict.score == 0.5  # it runs (re-indented), and fails test 2
    wrong = BODY.replace("< threshold", "> threshold")
    assert not _verify(env, fence(wrong)).correct
    assert not _verify(env, fence(_indent(wrong, "  "))).correct
    # broken code no indentation fixes is left as it is, and scored for its syntax
    broken = _verify(env, fence("for i in numbers\n    return True\nreturn False"))
    assert not broken.correct and broken.score == 0


def test_code_that_compiles_after_the_prompt_is_not_reindented(box):
    env = _env(box)
    task = env.source.get(0)
    # module-level code after the prompt compiles as written: left at column 0 (and wrong, as before)
    module_level = "found = any(abs(a - b) < 0.5 for a in [1.0] for b in [1.2])\n"
    assert env.solution_of(task, fence(module_level)).startswith(PROMPT + module_level.rstrip("\n"))
    assert not _verify(env, fence(module_level)).correct
    # a body indented right is taken as written
    assert env.solution_of(task, fence(_indent(BODY, "    "))).startswith(PROMPT + _indent(BODY, "    ").rstrip("\n"))


def test_whole_function_answers_are_scored_as_before(box):
    env = _env(box)
    full = "def has_close(numbers, threshold):\n" + _indent(BODY, "    ")
    assert _verify(env, fence(full)).correct
    assert _verify(env, fence(full.replace("    ", "  "))).correct  # its own 2-space indentation
    wrong = "def has_close(numbers, threshold):\n    return False\n"
    assert not _verify(env, fence(wrong)).correct
    # a function of another name, at column 0, is no body: it is not moved into has_close
    other = "def close_pair(numbers, threshold):\n" + _indent(BODY, "    ")
    assert env.solution_of(env.source.get(0), fence(other)).startswith(PROMPT + other.rstrip("\n"))
    assert not _verify(env, fence(other)).correct


# -- 2. a leading byte-order mark ----------------------------------------------------------------
SQUARE_TESTS = "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(-3) == 9\n"


@pytest.mark.parametrize("answer", [
    "\ufeffdef square(x):\n    return x*x\n",
    "```python\n\ufeffdef square(x):\n    return x*x\n```",
    "\ufeff```python\ndef square(x):\n    return x*x\n```",
])
def test_check_function_drops_a_leading_bom(box, answer):
    verdict = check_function(answer, SQUARE_TESTS, "square", sandbox=box)
    assert verdict.correct, verdict
    assert check_function(answer, SQUARE_TESTS, "square", sandbox=box, extract="last").correct
    wrong = answer.replace("x*x", "x+x")
    assert not check_function(wrong, SQUARE_TESTS, "square", sandbox=box).correct


def test_check_io_drops_a_leading_bom(box):
    assert check_io("\ufeffprint(int(input())*2)\n", [("2\n", "4\n")], sandbox=box).correct
    assert check_io("\ufeffprint(int(input())*2)\n", [("2\n", "4\n")], sandbox=box, extract=False).correct
    assert check_io(fence("\ufeffprint(int(input())*2)"), [("2\n", "4\n")], sandbox=box).correct
    assert not check_io("\ufeffprint(int(input())*3)\n", [("2\n", "4\n")], sandbox=box).correct


def test_only_a_leading_bom_is_dropped(box):
    assert extract_program("\ufeffprint(1)\n") == "print(1)\n"
    assert not extract_program(fence("\ufeffdef f():\n    return 1"), ["f"]).startswith("\ufeff")
    verdict = check_io("x = 1\n\ufeffprint(x)\n", [("", "1\n")], sandbox=box)  # inside the code: Python refuses it
    assert not verdict.correct and verdict.details["kind"] == "syntax"


def test_code_env_drops_a_leading_bom(box):
    env = _env(box)
    assert _verify(env, "```python\n\ufeff" + _indent(BODY, "    ") + "```").correct
    assert _verify(env, "\ufeff" + fence("def has_close(numbers, threshold):\n" + _indent(BODY, "    "))).correct
    io = _env(box, [{"task_id": 1, "question": "double", "inputs": ["2\n"], "outputs": ["4\n"]}])
    assert _verify(io, "\ufeffprint(int(input())*2)\n").correct


# -- 3. a HumanEval table without an entry_point column -------------------------------------------
DOUBLE_PROMPT = 'def double(x):\n    """Twice x."""\n'
DOUBLE_TEST = "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(5) == 10\n"


def test_humaneval_table_without_entry_point_column(box):
    env = _env(box, [{"task_id": "a", "prompt": DOUBLE_PROMPT, "test": DOUBLE_TEST},  # from the prompt's def
                     {"task_id": "b", "prompt": "# Write twice(x).\n",  # from check(twice)
                      "test": DOUBLE_TEST + "\ncheck(twice)\n"}])
    assert [task.meta["entry_point"] for task in env.source.tasks] == ["double", "twice"]
    assert _verify(env, fence("return 2 * x")).correct
    assert not _verify(env, fence("return 3 * x")).correct
    assert _verify(env, fence("def twice(x):\n    return 2 * x"), 1).correct
    assert not _verify(env, fence("def twice(x):\n    return x"), 1).correct
    # the same as a column of nulls
    nulls = _env(box, [{"task_id": "a", "prompt": DOUBLE_PROMPT, "test": DOUBLE_TEST, "entry_point": None}])
    assert nulls.source.get(0).meta == env.source.get(0).meta


def test_a_row_whose_tests_cannot_check_is_named_without_the_column(box):
    with pytest.raises(DatasetError, match=r"row 1 \(task 'b'\): column 'test' cannot check a solution"):
        _env(box, [{"task_id": "a", "prompt": DOUBLE_PROMPT, "test": DOUBLE_TEST},
                   {"task_id": "b", "prompt": DOUBLE_PROMPT, "test": "x = double(2)\n"}])


def test_other_layouts_with_prompt_and_test_columns_keep_their_layout(box):
    # MBPP+ has 'prompt' and a 'test' string beside 'test_list': still MBPP
    mbpp = _env(box, [{"task_id": 1, "prompt": "Double a number.", "test": "assert double(2) == 4",
                       "test_list": ["assert double(2) == 4"]}])
    assert mbpp.source.get(0).meta.get("example") == "assert double(2) == 4"
    io = _env(box, [{"task_id": 1, "prompt": "Double a number.", "test": "unused", "inputs": ["2\n"],
                     "outputs": ["4\n"]}])
    assert io.source.get(0).meta["kind"] == "io"
    with pytest.raises(DatasetError, match="cannot tell the layout"):  # no test column: no layout
        _env(box, [{"task_id": "a", "prompt": DOUBLE_PROMPT, "entry_point": "double"}])
