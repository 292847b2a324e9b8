"""Code-v0 reading HumanEval-style answers, audit 40: a usage example's variables put into a body-only
answer over its parameters, a `pass` that is a clause's whole body taken for an elision, a note's
snippet after a whole solution taken for the program, a column-0 body opening with a comment after
a prompt with no final newline, and a quote of a body's own last line taken for the program. Run in
the real (subprocess) sandbox. The review's cases (a body-only fix after a whole version that returns
from a loop, a `try` or a `with`, or yields; a prompt's stub helper written in another block; a
constant in a block with a call; a helper block's names for a body after a draft) are at the end."""

from __future__ import annotations

import pytest

from conftest import fence
from test_code39 import _indent
from rlvr.envs.code_env import CodeEnv
from rlvr.verifiers.code_extract import extract_program

UNIQUE_PROMPT = ('def unique(l: list):\n    """Return sorted unique elements in a list\n'
                 '    >>> unique([5, 3, 5, 2, 3, 3, 9, 0, 123])\n    [0, 2, 3, 5, 9, 123]\n    """\n')
UNIQUE_ROW = {"task_id": "HE/34", "prompt": UNIQUE_PROMPT, "entry_point": "unique",
              "test": "def check(candidate):\n    assert candidate([1, 2, 2]) == [1, 2]\n"
                      "    assert candidate([5, 3, 5, 2, 3, 3, 9, 0, 123]) == [0, 2, 3, 5, 9, 123]\n"
                      "    assert candidate([]) == []\n"}
CLOSE_PROMPT = ('from typing import List\n\n\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n'
                '    """ Check if any two numbers are closer than threshold.\n'
                '    >>> has_close_elements([1.0, 2.0], 0.5)\n    False\n    """\n')
CLOSE_ROW = {"task_id": "HE/0", "prompt": CLOSE_PROMPT, "entry_point": "has_close_elements",
             "test": "def check(candidate):\n    assert candidate([1.0, 2.0, 3.0], 0.5) == False\n"
                     "    assert candidate([1.0, 2.8, 3.0], 0.3) == True\n"}
CLOSE_BODY = ("for i, a in enumerate(numbers):\n    for b in numbers[i + 1:]:\n        if abs(a - b) < threshold:\n"
              "            return True\nreturn False")
CLOSE_FULL = "def has_close_elements(numbers: List[float], threshold: float) -> bool:\n" + "\n".join(
    "    " + line for line in CLOSE_BODY.split("\n"))


def _verify(box, row: dict, answer: str):
    env = CodeEnv(dataset=[row], sandbox=box)
    verdict = env.verify(env.source.get(0), answer)
    assert verdict.error is None, verdict
    return verdict


def _program(row: dict, answer: str) -> str:
    env = CodeEnv(dataset=[row], sandbox="subprocess")
    return str(env.solution_of(env.source.get(0), answer))


# -- a usage example's variables are no definitions for a body ---------------------------------------
USAGE = fence("numbers = [1.0, 2.0, 3.0]\nthreshold = 0.5\nprint(has_close_elements(numbers, threshold))  # False")


@pytest.mark.parametrize("indent", ["", "  ", "    "])
def test_a_usage_examples_variables_do_not_overwrite_a_bodys_parameters(box, indent):
    # `numbers = [1.0, 2.0, 3.0]` and `threshold = 0.5` were put at the top of the function body
    answer = fence(_indent(CLOSE_BODY, indent)) + "\nExample usage:\n" + USAGE
    assert "numbers = [1.0" not in _program(CLOSE_ROW, answer)
    assert _verify(box, CLOSE_ROW, answer).correct


def test_variables_given_before_a_body_do_not_overwrite_its_parameters(box):
    answer = ("For example with\n" + fence("numbers = [1.0, 2.8, 3.0]\nthreshold = 0.3") + "\nthe body is\n"
              + fence(_indent(CLOSE_BODY, "    ")))
    assert "threshold = 0.3" not in _program(CLOSE_ROW, answer)
    assert _verify(box, CLOSE_ROW, answer).correct


@pytest.mark.parametrize("answer", [
    fence("return sorted(set(l))") + "\nExample:\n" + fence("l = [5, 3, 5, 2, 3, 3, 9, 0, 123]\nprint(unique(l))"),
    # a buggy draft body's `l = l[1:]` was pasted into the corrected body
    fence("l = l[1:]\nreturn sorted(set(l))") + "\nOops, that drops the first element. It should be just:\n"
    + fence("return sorted(set(l))"),
])
def test_another_blocks_assignment_to_a_parameter_is_not_put_into_the_body(box, answer):
    assert _verify(box, UNIQUE_ROW, answer).correct


def test_a_body_takes_helpers_and_constants_but_no_usage_examples_parameter():
    # review: a constant the body uses is taken from any block, a usage example's too (`extra`); only
    # an assignment to a name the prompt binds (the parameter `l`) is left out
    helpers = fence("import itertools\n\nSCALE = 1\n\ndef dedupe(xs):\n    return set(xs) if SCALE else xs")
    usage = fence("extra = [0]\nl = [3, 3]\nprint(unique(l))")
    program = extract_program(helpers + "\n" + fence("return sorted(dedupe(l)) + extra") + "\n" + usage,
                              ["unique"], prefix=UNIQUE_PROMPT)
    assert "def dedupe(xs)" in program and "SCALE = 1" in program and "extra = [0]" in program
    assert "l = [3, 3]" not in program


# -- a `pass` that is a clause's whole body is code, not an elision ----------------------------------
TO_INTS_PROMPT = ('def to_ints(items: list) -> list:\n    """Convert the items that are integers, skipping the others, '
                  'keeping their order.\n    >>> to_ints(["3", "x", "1"])\n    [3, 1]\n    """\n')
TO_INTS_ROW = {"task_id": "t/1", "prompt": TO_INTS_PROMPT, "entry_point": "to_ints",
               "test": 'def check(candidate):\n    assert candidate(["3", "x", "1"]) == [3, 1]\n'
                       '    assert candidate([]) == []\n'}
SORTED_ROW = {"task_id": "t/2", "prompt": TO_INTS_PROMPT.replace("keeping their order", "sorted").replace("[3, 1]", "[1, 3]"),
              "entry_point": "to_ints", "test": TO_INTS_ROW["test"].replace("[3, 1]", "[1, 3]")}
TO_INTS_DRAFT = ("def to_ints(items: list) -> list:\n    out = []\n    for item in items:\n        try:\n"
                 "            out.append(int(item))\n        except ValueError:\n            pass\n    out.sort()\n"
                 "    return out")
TO_INTS_FIX = ("    out = []\n    for item in items:\n        try:\n            out.append(int(item))\n"
               "        except ValueError:\n            pass\n    return out")


def test_a_correction_keeping_an_except_pass_is_no_excerpt(box):
    # the `pass` counted as an elision, so the correction (the draft less `out.sort()`) was an excerpt
    answer = fence(TO_INTS_DRAFT) + "\nWait, the order must be kept, so no sort. The body is:\n" + fence(TO_INTS_FIX)
    assert extract_program(answer, ["to_ints"], prefix=TO_INTS_PROMPT) == TO_INTS_FIX
    assert _verify(box, TO_INTS_ROW, answer).correct
    # and a wrong correction is scored as the final answer, not the right draft (a false positive)
    wrong = fence(TO_INTS_DRAFT) + "\nActually the sort is not needed. The body is:\n" + fence(TO_INTS_FIX)
    assert not _verify(box, SORTED_ROW, wrong).correct


# -- a note's snippet after a whole solution -------------------------------------------------------
@pytest.mark.parametrize("row, full, note", [
    (UNIQUE_ROW, "def unique(l: list):\n    return sorted(set(l))", "if not l:\n    return []"),
    (UNIQUE_ROW, "def unique(l: list):\n    return sorted(set(l))", "    if not l:\n        return []"),
    (CLOSE_ROW, "from typing import List\n\n" + CLOSE_FULL, "if numbers[i + 1] - numbers[i] < threshold:\n    return True"),
])
def test_a_snippet_that_does_not_end_in_a_return_after_a_whole_solution_is_not_the_program(box, row, full, note):
    answer = fence(full) + "\nNote that a check such as\n" + fence(note) + "\nworks on sorted numbers.\n"
    assert extract_program(answer, [row["entry_point"]], prefix=row["prompt"]) == full
    assert _verify(box, row, answer).correct


def test_a_corrected_body_ending_in_an_if_else_after_a_whole_draft_is_the_program(box):
    fix = "if not l:\n    return []\nelse:\n    return sorted(set(l))"
    answer = fence("def unique(l: list):\n    return sorted(l)") + "\nNo, the body is:\n" + fence(fix)
    assert extract_program(answer, ["unique"], prefix=UNIQUE_PROMPT) == fix
    assert _verify(box, UNIQUE_ROW, answer).correct


# -- a prompt with no final newline ----------------------------------------------------------------
def test_a_column_0_body_opening_with_a_comment_after_a_prompt_with_no_final_newline(box):
    # prompt + body parsed (the comment on the docstring's closing line), so the body was not re-indented
    row = dict(UNIQUE_ROW, prompt=UNIQUE_PROMPT.rstrip())
    assert _verify(box, row, fence("# a set drops the duplicates\nreturn sorted(set(l))")).correct


# -- a quote of a body's own last line -----------------------------------------------------------------
SEEN = "seen = []\nfor x in l:\n    if x not in seen:\n        seen.append(x)\nreturn sorted(seen)"


@pytest.mark.parametrize("indent", ["", "    "])
def test_a_quote_of_a_bodys_last_line_is_not_the_program(box, indent):
    body = _indent(SEEN, indent)
    answer = fence(body) + "\n\nFinally we return:\n" + fence(indent + "return sorted(seen)")
    assert extract_program(answer, ["unique"], prefix=UNIQUE_PROMPT) == body
    assert _verify(box, UNIQUE_ROW, answer).correct


@pytest.mark.parametrize("indent", ["", "    "])
def test_a_body_that_runs_alone_after_a_draft_body_is_its_correction(box, indent):
    # one run of the draft's lines, but it needs nothing the draft binds: it deletes the draft's first line
    draft = _indent("l = l[1:]\nreturn sorted(set(l))", indent)
    answer = fence(draft) + "\nOops, that drops the first element. It should be just:\n" + fence(indent + "return sorted(set(l))")
    assert extract_program(answer, ["unique"], prefix=UNIQUE_PROMPT) == indent + "return sorted(set(l))"
    assert _verify(box, UNIQUE_ROW, answer).correct


# -- review: a body-only fix after a whole version ----------------------------------------------------
LD_PROMPT = ('def largest_divisor(n: int) -> int:\n    """ For a given number n, find the largest number that divides n '
             'evenly, smaller than n\n    >>> largest_divisor(15)\n    5\n    """\n')
LD_ROW = {"task_id": "HE/24", "prompt": LD_PROMPT, "entry_point": "largest_divisor",
          "test": "def check(candidate):\n    assert candidate(3) == 1\n    assert candidate(7) == 1\n"
                  "    assert candidate(10) == 5\n    assert candidate(100) == 50\n    assert candidate(49) == 7\n"}
LD_WRONG = "def largest_divisor(n: int) -> int:\n    for i in range(n, 0, -1):\n        if n % i == 0:\n            return i"
LD_FIX = "for i in reversed(range(1, n)):\n    if n % i == 0:\n        return i"
SAFE_PROMPT = 'def safe_int(s: str) -> int:\n    """Return int(s), or -1 if s is not an integer\n    >>> safe_int("12")\n    12\n    """\n'
SAFE_ROW = {"task_id": "t/3", "prompt": SAFE_PROMPT, "entry_point": "safe_int",
            "test": 'def check(candidate):\n    assert candidate("12") == 12\n    assert candidate("x") == -1\n'
                    '    assert candidate(" 7 ") == 7\n'}
EVENS_PROMPT = 'def evens(n: int):\n    """Yield the even numbers below n\n    >>> list(evens(5))\n    [0, 2, 4]\n    """\n'
EVENS_ROW = {"task_id": "t/4", "prompt": EVENS_PROMPT, "entry_point": "evens",
             "test": "def check(candidate):\n    assert list(candidate(5)) == [0, 2, 4]\n    assert list(candidate(1)) == [0]\n"}


@pytest.mark.parametrize("row, draft, fix", [
    (LD_ROW, LD_WRONG, LD_FIX),  # HumanEval/24's canonical body: a loop that returns
    (LD_ROW, LD_WRONG, _indent(LD_FIX, "    ")),
    (SAFE_ROW, "def safe_int(s: str) -> int:\n    if s.isdigit():\n        return int(s)\n    return -1",
     "try:\n    return int(s)\nexcept ValueError:\n    return -1"),
    (EVENS_ROW, "def evens(n: int):\n    for i in range(1, n, 2):\n        yield i", "for i in range(0, n, 2):\n    yield i"),
    (EVENS_ROW, "def evens(n: int):\n    for i in range(1, n, 2):\n        yield i", "    for i in range(0, n, 2):\n        yield i"),
    (UNIQUE_ROW, "def unique(l: list):\n    return sorted(l)",
     "import contextlib\nwith contextlib.suppress():\n    return sorted(set(l))"),
])
def test_a_body_only_fix_after_a_whole_draft_that_does_not_end_in_a_return_is_the_program(box, row, draft, fix):
    # it was taken for a note's snippet and the wrong whole draft was scored
    answer = fence(draft) + "\nThat is wrong. Here's the fixed version:\n" + fence(fix)
    assert extract_program(answer, [row["entry_point"]], prefix=row["prompt"]) == fix
    assert _verify(box, row, answer).correct


def test_a_wrong_body_only_loop_after_a_right_whole_version_is_scored(box):
    # a false positive: the wrong "simpler version" was a note, so the right first version scored 1.0
    right = "def largest_divisor(n: int) -> int:\n    for i in range(n - 1, 0, -1):\n        if n % i == 0:\n            return i"
    wrong = "for i in range(2, n):\n    if n % i == 0:\n        return n // i"
    answer = fence(right) + "\nActually we can start from 2. Here's the simpler version:\n" + fence(wrong)
    verdict = _verify(box, LD_ROW, answer)
    assert not verdict.correct and verdict.score == pytest.approx(0.6)


# -- review: a prompt's stub helper written in another block ----------------------------------------------
STUB_PROMPT = ('def helper(x: int) -> int:\n    """Return x squared"""\n\n\ndef sum_squares(xs: list) -> int:\n'
               '    """Return the sum of helper(x) for x in xs\n    >>> sum_squares([1, 2])\n    5\n    """\n')
STUB_ROW = {"task_id": "t/5", "prompt": STUB_PROMPT, "entry_point": "sum_squares",
            "test": "def check(candidate):\n    assert candidate([1, 2]) == 5\n    assert candidate([]) == 0\n"}
HELPER = fence("def helper(x: int) -> int:\n    return x * x")
SUM_BODY = fence("    return sum(helper(x) for x in xs)")


@pytest.mark.parametrize("answer", [HELPER + "\nand the body:\n" + SUM_BODY, SUM_BODY + "\nwhere\n" + HELPER])
def test_a_prompts_stub_helper_is_taken_from_the_answers_other_block(box, answer):
    # the stub counted as defined, so the body called it (None) and failed with a TypeError
    assert "return x * x" in _program(STUB_ROW, answer)
    assert _verify(box, STUB_ROW, answer).correct


# -- review: a constant in a block that also calls something --------------------------------------------------
MOD_PROMPT = ('def count_mod(xs: list) -> int:\n    """Return sum(xs) modulo 10**9 + 7, capped at LIMIT\n'
              '    >>> count_mod([1, 2])\n    3\n    """\n')
MOD_ROW = {"task_id": "t/6", "prompt": MOD_PROMPT, "entry_point": "count_mod",
           "test": "def check(candidate):\n    assert candidate([1, 2]) == 3\n    assert candidate([10**9 + 7, 5]) == 5\n"}
MOD_BODY = fence("    return min(sum(xs) % MOD, LIMIT)")


@pytest.mark.parametrize("answer", [
    fence("import sys\nsys.setrecursionlimit(10000)\nMOD = 10**9 + 7\nLIMIT = 10**6") + "\nThen the body:\n" + MOD_BODY,
    MOD_BODY + "\nwith\n" + fence("MOD = 10**9 + 7\nLIMIT = 10**6\n\nprint(count_mod([1, 2]))  # 3"),
    fence("import math\n\nMOD = 10**9 + 7\nLIMIT = 10**6\nVOWELS = set('aeiou')") + "\nThen the body:\n" + MOD_BODY,
])
def test_a_constant_is_taken_from_a_block_that_also_calls_something(box, answer):
    # the block was no block of definitions alone, so MOD and LIMIT were left out: NameError
    assert _verify(box, MOD_ROW, answer).correct


# -- review: a helper block's names for a body after a draft body ---------------------------------------------
@pytest.mark.parametrize("indent", ["", "    "])
@pytest.mark.parametrize("given, uses", [
    ("def dedupe(xs):\n    return set(xs)", "sorted(dedupe(l))"),
    ("import itertools", "[k for k, _ in itertools.groupby(sorted(l))]"),
])
def test_a_body_using_another_blocks_helper_after_a_draft_body_is_its_correction(box, indent, given, uses):
    # `dedupe` counted as set by the draft only, so the fix was an excerpt of the draft and the draft scored
    draft = _indent("l = l[:-1]\nreturn " + uses, indent)
    answer = (fence(given) + "\n" + fence(draft) + "\nOops, that drops the last element. It should be just:\n"
              + fence(indent + "return " + uses))
    assert _verify(box, UNIQUE_ROW, answer).correct
