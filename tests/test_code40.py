"""Code-v0 reading HumanEval-style answers, audit 40: a usage example's variables put into a body-only
answer over its parameters, a `pass` that is a clause's whole body taken for an elision, a note's
snippet after a whole solution taken for the program, a column-0 body opening with a comment after
a prompt with no final newline, and a quote of a body's own last line taken for the program. Run in
the real (subprocess) sandbox."""

from __future__ import annotations

import pytest

from conftest import fence
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


def _indent(code: str, prefix: str) -> str:
    return "\n".join(prefix + line if line.strip() else line for line in code.split("\n"))


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


def test_a_body_takes_helpers_and_a_constants_blocks_constant_but_no_usage_examples_variable():
    helpers = fence("import itertools\n\nSCALE = 1\n\ndef dedupe(xs):\n    return set(xs) if SCALE else xs")
    usage = fence("extra = [0]\nprint(unique([3, 3]))")
    program = extract_program(helpers + "\n" + fence("return sorted(dedupe(l)) + extra") + "\n" + usage,
                              ["unique"], prefix=UNIQUE_PROMPT)
    assert "def dedupe(xs)" in program and "SCALE = 1" in program and "extra = [0]" not in program


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
