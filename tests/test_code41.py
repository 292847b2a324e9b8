"""Code-v0 reading HumanEval-style answers, review of code rules 17's body-only fixes: after a right
whole function, a note's block was taken for the program when it only loops (a test loop printing
calls, a trace) for a function that gives a value, when its only `return` is in an `except` handler
(a defensive guard), or when it is an unfinished sketch that can run off its end (a "faster
approach" missing its final `return False`) and the prose just before it marks it as an aside.
Second review: the sketch rule read a fix as a note unless its prose named the fix (a right fix
after a complete wrong draft scored 0 for "Revised body:", "### Final answer", a `return 0  # TODO`
skeleton; 100 KB of prose took 20 s), so the default is flipped: a later body is the program unless
its prose says it is an aside ("A faster approach", "Alternatively", "Equivalently"), read from the
last sentence only; and an in-place function's loop-only fix is its body again. Run in the real
(subprocess) sandbox."""

from __future__ import annotations

import time

import pytest

from conftest import fence
from test_code39 import _indent
from test_code40 import CLOSE_FULL, CLOSE_ROW, LD_FIX, LD_PROMPT, LD_ROW, LD_WRONG, _program, _verify
from rlvr.verifiers.code_extract import extract_program

LD_RIGHT = ("def largest_divisor(n: int) -> int:\n    for i in range(n - 1, 0, -1):\n        if n % i == 0:\n"
            "            return i\n    return 1")
# a complete but wrong draft: it returns n itself, and returns on every path
LD_WRONG_COMPLETE = LD_WRONG + "\n    return 1"


def _takes_whole_version(row: dict, whole: str, answer: str, box) -> None:
    """The whole version is the program and scores."""
    assert extract_program(answer, [row["entry_point"]], prefix=row["prompt"]) == whole
    assert _verify(box, row, answer).correct


# -- a block that only loops is no body ------------------------------------------------------------------
@pytest.mark.parametrize("row, whole, note", [
    (CLOSE_ROW, CLOSE_FULL, "Testing:\n" + fence(
        "    tests = [([1.0, 2.0, 3.0], 0.5), ([1.0, 2.8, 3.0], 0.3)]\n    for nums, t in tests:\n"
        "        print(nums, t, has_close_elements(nums, t))")),
    (CLOSE_ROW, CLOSE_FULL, "Testing:\n" + fence(
        "    for nums, t in [([1.0, 2.0, 3.0], 0.5), ([1.0, 2.8, 3.0], 0.3)]:\n        print(has_close_elements(nums, t))")),
    (LD_ROW, LD_RIGHT, "Example trace for n = 15:\n" + fence(
        "    i = 14\n    while 15 % i != 0:\n        i -= 1\n    # i == 5")),
])
def test_a_test_or_trace_loop_after_a_whole_version_is_no_body(box, row, whole, note):
    # it ended in a loop, so it was taken for the body: the function printed and returned None (0.0)
    _takes_whole_version(row, whole, fence(whole) + "\n\n" + note, box)

# An in-place function gives no value: its fix is all loops, and it is the body (it was read as a
# test loop after the wrong whole draft, which scored 0). Indented, as a 4-space body.
BUB_PROMPT = 'def bubble_sort(arr):\n    """Sort arr in place (ascending) with bubble sort.\n    """\n'
BUB_ROW = {"task_id": "t/bub", "prompt": BUB_PROMPT, "entry_point": "bubble_sort",
           "test": "def check(candidate):\n    a = [3, 1, 2]\n    candidate(a)\n    assert a == [1, 2, 3]\n"
                   "    b = [5, 4, 3, 2, 1]\n    candidate(b)\n    assert b == [1, 2, 3, 4, 5]\n"}
BUB_WRONG = ("def bubble_sort(arr):\n    n = len(arr)\n    for i in range(n):\n        for j in range(n - i - 2):\n"
             "            if arr[j] > arr[j + 1]:\n                arr[j], arr[j + 1] = arr[j + 1], arr[j]")
BUB_FIX = ("n = len(arr)\nfor i in range(n):\n    for j in range(n - i - 1):\n        if arr[j] > arr[j + 1]:\n"
           "            arr[j], arr[j + 1] = arr[j + 1], arr[j]")
REV_PROMPT = 'def reverse_in_place(lst: list) -> None:\n    """Reverse lst in place."""\n'
REV_ROW = {"task_id": "t/rev", "prompt": REV_PROMPT, "entry_point": "reverse_in_place",
           "test": "def check(candidate):\n    a = [1, 2, 3, 4]\n    assert candidate(a) is None\n"
                   "    assert a == [4, 3, 2, 1]\n"}
REV_WRONG = ("def reverse_in_place(lst: list) -> None:\n    for i in range(len(lst)):\n"
             "        lst[i], lst[-1 - i] = lst[-1 - i], lst[i]")
REV_FIX = "for i in range(len(lst) // 2):\n    lst[i], lst[-1 - i] = lst[-1 - i], lst[i]"


@pytest.mark.parametrize("row, wrong, fix", [(BUB_ROW, BUB_WRONG, BUB_FIX), (REV_ROW, REV_WRONG, REV_FIX)],
                         ids=["no-annotation", "annotated-None"])
def test_a_loop_only_fix_of_an_in_place_function_is_its_body(box, row, wrong, fix):
    answer = fence(wrong) + "\n\nWait, the range is off. The corrected body:\n" + fence(_indent(fix, "    "))
    assert extract_program(answer, [row["entry_point"]], prefix=row["prompt"]) == _indent(fix, "    ")
    assert _verify(box, row, answer).correct


# -- a return in an `except` handler is a guard ------------------------------------------------------------
@pytest.mark.parametrize("indent", ["", "    "])
def test_a_defensive_try_guard_after_a_whole_version_is_a_note(box, indent):
    # its `return False` was under a `try`, so the guard alone became the body (0.0)
    guard = _indent("try:\n    threshold = float(threshold)\nexcept (TypeError, ValueError):\n    return False", indent)
    answer = (fence(CLOSE_FULL) + "\n\nIf you want to be defensive about a non-numeric threshold, you could add"
              " at the top:\n" + fence(guard))
    _takes_whole_version(CLOSE_ROW, CLOSE_FULL, answer, box)


def test_a_try_returning_from_its_else_after_a_wrong_draft_is_the_fix(box):
    # the main flow of a `try` (its `else` too) still makes a body, as `try: return int(s)` did
    fix = "try:\n    n = int(n)\nexcept (TypeError, ValueError):\n    return 1\nelse:\n    return max(i for i in range(1, n) if n % i == 0)"
    answer = fence(LD_WRONG) + "\nThat is wrong (it returns n itself). Here's the fixed version:\n" + fence(fix)
    assert extract_program(answer, ["largest_divisor"], prefix=LD_PROMPT) == fix
    assert _verify(box, LD_ROW, answer).correct


# -- an unfinished sketch after a complete whole version, marked as an aside --------------------------
BELOW_PROMPT = ('def below_threshold(l: list, t: int):\n    """Return True if all numbers in the list l are below '
                'threshold t.\n    >>> below_threshold([1, 2, 4, 10], 100)\n    True\n    """\n')
BELOW_ROW = {"task_id": "HE/52", "prompt": BELOW_PROMPT, "entry_point": "below_threshold",
             "test": "def check(candidate):\n    assert candidate([1, 2, 4, 10], 100)\n"
                     "    assert not candidate([1, 20, 4, 10], 5)\n    assert candidate([], 1)\n"}
BELOW_WHOLE = "def below_threshold(l: list, t: int):\n    return all(x < t for x in l)"
SKETCH = ("numbers = sorted(numbers)\nfor a, b in zip(numbers, numbers[1:]):\n    if b - a < threshold:\n"
          "        return True")


@pytest.mark.parametrize("row, whole, note", [
    (CLOSE_ROW, CLOSE_FULL, "A faster approach sorts first, so only neighbours need checking:\n" + fence(SKETCH)),
    (LD_ROW, LD_RIGHT, "For large n you can stop at the square root; the loop becomes:\n" + fence(
        "for i in range(2, int(n ** 0.5) + 1):\n    if n % i == 0:\n        return n // i")
     + "\n(falling back to `return 1` for primes)."),
    # no return annotation: the whole version's `return <value>` says the function gives a value
    (BELOW_ROW, BELOW_WHOLE, "Equivalently, with an explicit loop:\n" + fence(
        "    for e in l:\n        if e >= t:\n            return False")),
    (CLOSE_ROW, CLOSE_FULL, "This is O(n^2). Alternatively:\n" + fence(SKETCH)),
    (CLOSE_ROW, CLOSE_FULL, "You could also sort first and compare neighbours:\n" + fence(SKETCH)),
    (CLOSE_ROW, CLOSE_FULL, "Another way, in O(n log n):\n```py\n" + SKETCH + "\n```"),
    (CLOSE_ROW, CLOSE_FULL, "For comparison, the sorted version's core (without its final return):\n" + fence(SKETCH)),
])
def test_a_sketch_marked_as_an_aside_after_a_complete_whole_version_is_a_note(box, row, whole, note):
    # the sketch (no final return) was the program: it returned None where the answer is False (0.33)
    _takes_whole_version(row, whole, fence(whole) + "\n\n" + note, box)


def test_a_complete_body_after_a_complete_whole_version_is_still_the_program(box):
    # the rule is about sketches that can return None: a finished later body is the answer's last word
    fix = SKETCH + "\nreturn False"
    answer = fence(CLOSE_FULL) + "\n\nA faster approach sorts first, so only neighbours need checking:\n" + fence(fix)
    assert extract_program(answer, ["has_close_elements"], prefix=CLOSE_ROW["prompt"]) == fix
    assert "sorted(numbers)" in _program(CLOSE_ROW, answer)
    assert _verify(box, CLOSE_ROW, answer).correct


def test_an_aside_cue_makes_a_body_after_a_complete_wrong_draft_a_note_too():
    # the aside is taken at its word: the complete version stays the program, wrong as it is
    answer = fence(LD_WRONG_COMPLETE) + "\n\nAlternatively, the loop can run downwards from n - 1:\n" + fence(LD_FIX)
    assert extract_program(answer, ["largest_divisor"], prefix=LD_PROMPT) == LD_WRONG_COMPLETE


# A cue that does not open the last sentence of the last line, or a line that says the draft is
# wrong, introduces a fix (review 41: these right fixes were scored 0.0 after a complete wrong draft).
FIX_AFTER_CUE_WORDS = [
    "Issues with the draft:\n- it returns n itself, since n divides n\n- it is also slow for large n\nCorrected body:",
    "Problems:\n1. alternatively one would expect a guard for n = 1\n2. it returns n\nThe body:",
    "Hmm, for n = 15 that returns 15, since the range starts at n itself. Let me try another approach:",
    "That's wrong: it always returns n, because n divides n. Here's a simpler version that actually works:",
    "Wait, for large inputs and small ones alike this returns n itself, so the corrected loop is:",
    "Oops, the first i tried is n. Let me fix it, and use a cleaner approach that starts below n:",
    "This is incorrect (returns n). Another way, which excludes n:",
    "Alternatively, if you want to fix the order of the checks, the loop becomes:",
]


@pytest.mark.parametrize("prose", FIX_AFTER_CUE_WORDS)
def test_a_fix_whose_prose_holds_a_cue_word_elsewhere_is_the_program(prose):
    answer = fence(LD_WRONG_COMPLETE) + "\n\n" + prose + "\n" + fence(LD_FIX)
    assert extract_program(answer, ["largest_divisor"], prefix=LD_PROMPT) == LD_FIX


def test_a_long_try_body_is_read_in_linear_time():
    # the walk over a `try` looked each child up in the try's body: 100 KB took 6.8 s (HEAD 1.1 s)
    body = "try:\n" + "".join(f"    x{i} = {i}\n" for i in range(12_000)) + "except ValueError:\n    return 0"
    answer = fence(CLOSE_FULL) + "\n\nA guard:\n" + fence(body)
    start = time.perf_counter()
    assert extract_program(answer, ["has_close_elements"], prefix=CLOSE_ROW["prompt"]) == CLOSE_FULL
    assert time.perf_counter() - start < 3.0


# -- any other body after a complete whole version is the program: the answer's last word --------------
# A complete but wrong draft (returns n itself), then HumanEval/24's canonical body, which can seem to
# run off its end: read as a sketch unless its prose named a fix, the draft was scored (0.0).
FIX_PROSES = [
    "Wait, that's wrong: it returns n itself. Here is the fix:",
    "Wait, that's not right: `range(n, 0, -1)` starts at n itself, and n always divides n. Let me correct the loop:",
    "Hmm, this returns 15 for 15. The loop has to start below n:",
    "Actually, this doesn't work: it always returns n. Let me redo the body:",
    "On second thought, the range includes n, so the answer is always n. Updated body:",
    "Wait, I need to check this. For n = 15 the first i is 15 and 15 % 15 == 0, so it returns 15 instead of 5."
    " We have to skip n itself. Here is the body again:",
    "There's an issue: the first i tried is n, which always divides n. Fixing the range:",
    "I made an error above. For n = 15 it returns 15, since i starts at n. The loop should start at n - 1, like this:",
    "Let me correct that:",
    "The correct approach skips n itself:",
    "No wait that gives the wrong answer, it returns n.",
    "Self-review: the draft returns n itself for every n. Revised body:",
    "There are no bugs in the loop, but the range is off:",  # a negated cue said nothing either way
    "Here is the body:",
    # an aside cue before the last sentence says nothing of the block
    "A faster approach would stop at the square root. But the draft returns n itself! Here is the body:",
    "The draft never sets `alternative` or `another_way`; the body:",  # inline code is no prose
]


@pytest.mark.parametrize("prose", FIX_PROSES)
def test_a_body_after_a_complete_wrong_draft_is_the_program_whatever_its_prose(box, prose):
    answer = fence(LD_WRONG_COMPLETE) + "\n\n" + prose + "\n" + fence(LD_FIX)
    assert extract_program(answer, ["largest_divisor"], prefix=LD_PROMPT) == LD_FIX
    assert _verify(box, LD_ROW, answer).correct


LONG_PROMPT = ('from typing import List, Optional\n\n\ndef longest(strings: List[str]) -> Optional[str]:\n'
               '    """ Out of list of strings, return the longest one. Return the first one in case of multiple\n'
               '    strings of the same length. Return None in case the input list is empty.\n    """\n')
LONG_ROW = {"task_id": "HE/12", "prompt": LONG_PROMPT, "entry_point": "longest",
            "test": "def check(candidate):\n    assert candidate([]) == None\n"
                    "    assert candidate(['x', 'y', 'z']) == 'x'\n    assert candidate(['x', 'yyy', 'zzzz', 'www', 'kkkk', 'abc']) == 'zzzz'\n"}
LONG_WRONG = ("from typing import List, Optional\n\ndef longest(strings: List[str]) -> Optional[str]:\n"
              "    if not strings:\n        return None\n    return sorted(strings, key=len)[-1]")
LONG_FIX = ("if not strings:\n    return None\nmaxlen = max(len(x) for x in strings)\nfor s in strings:\n"
            "    if len(s) == maxlen:\n        return s")


def _verify_takes_fix(box, row: dict, answer: str) -> None:
    """The later body, not the whole version before it, is the program and scores."""
    fix, draft = ("maxlen", "sorted(strings") if row is LONG_ROW else ("reversed(range(1, n))", "range(n, 0, -1)")
    program = _program(row, answer)
    assert fix in program and draft not in program
    assert _verify(box, row, answer).correct


@pytest.mark.parametrize("row, answer", [
    (LONG_ROW, fence(LONG_WRONG) + "\n\nThat returns the last longest one, not the first. Here is the corrected body"
     " (note the loop keeps the first):\n" + fence(LONG_FIX)),
    (LONG_ROW, fence(LONG_WRONG) + "\n\nHmm, `sorted` is stable, so with ties this picks the last of the longest"
     " strings, but the first is wanted.\n\n### Final answer\n" + fence(LONG_FIX)),
    # a fix whose opening fence was left out (only a closing fence): it has no prose
    (LD_ROW, fence(LD_WRONG_COMPLETE) + "\n\nWait, that's wrong. Here's the fix:\n" + LD_FIX + "\n```"),
    # a shell block between the draft and the fix: the prose read is the text after it
    (LD_ROW, fence(LD_WRONG_COMPLETE) + "\n\nA faster approach is possible, but first the bug: it returns n."
     " You can see it with:\n```bash\npython -c 'from sol import largest_divisor; print(largest_divisor(15))'\n```\n"
     "which prints 15. The body becomes:\n" + fence(LD_FIX)),
    # a run's output block (another language) between the draft and the fix
    (LD_ROW, fence(LD_WRONG_COMPLETE) + "\n\nRunning `largest_divisor(15)` prints:\n```text\n15\n```\n"
     "Oops, that's wrong: 15 divides itself. Fixed:\n" + fence(LD_FIX)),
    # the fix in a Markdown list item (an indented fence), CRLF line ends
    (LD_ROW, (fence(LD_WRONG_COMPLETE) + "\n\n1. The draft is wrong: it returns n.\n2. Here is the fix:\n\n"
              + _indent(fence(_indent(LD_FIX, "    ")), "   ")).replace("\n", "\r\n")),
    # a trace after the fix is a note, not the body, and the fix stays the program
    (LD_ROW, fence(LD_WRONG_COMPLETE) + "\n\nWait, that's wrong: it returns n itself. Here is the fix:\n" + fence(LD_FIX)
     + "\n\nTrace for n = 15:\n" + fence("    i = 14\n    while 15 % i != 0:\n        i -= 1\n    # i == 5")),
    # a skeleton that returns on every path (a placeholder) is no reason to drop the body after it
    (LD_ROW, "Start from the signature:\n" + fence("def largest_divisor(n: int) -> int:\n    # TODO: implement\n"
                                                    "    return 0") + "\n\nThe implementation:\n" + fence(LD_FIX)),
    (LD_ROW, "We fill in this function:\n" + fence("def largest_divisor(n: int) -> int:\n    raise NotImplementedError")
     + "\n\nWe try each candidate below n, from the largest down:\n" + fence(LD_FIX)),
], ids=["note-in-brackets", "final-answer-heading", "closing-fence-only", "bash-block-between", "text-block-between",
        "list-item-crlf", "trace-after", "return-0-skeleton", "raise-skeleton"])
def test_the_later_body_is_the_program_in_every_layout(box, row, answer):
    _verify_takes_fix(box, row, answer)


def test_the_prose_before_a_block_is_read_in_bounded_time():
    # the fix-cue reading was quadratic in the prose: 100 KB of "no bug " took 20 s
    for prose in ("no bug " * 15_000, "the loop has nothing wrong " * 4_000 + "\n\nA faster approach:"):
        answer = fence(CLOSE_FULL) + "\n\n" + prose + "\n" + fence(SKETCH)
        start = time.perf_counter()
        program = extract_program(answer, ["has_close_elements"], prefix=CLOSE_ROW["prompt"])
        assert time.perf_counter() - start < 1.0
        assert (program == CLOSE_FULL) == prose.endswith("A faster approach:")


def test_an_aside_cue_before_the_whole_version_says_nothing_of_the_body_after_it(box):
    # the prose read is the text since the block before: "A simpler approach" introduces the draft
    answer = ("A simpler approach:\n" + fence(LD_WRONG_COMPLETE) + "\n\nHmm, that returns n. The loop:\n"
              + fence(LD_FIX))
    assert extract_program(answer, ["largest_divisor"], prefix=LD_PROMPT) == LD_FIX
    assert _verify(box, LD_ROW, answer).correct
