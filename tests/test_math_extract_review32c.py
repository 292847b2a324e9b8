"""Third review of rules 21/24/26 (audit 32): honest answers the readings after a box marked wrong.

1. "Including an 8% sales tax, it would be $12.96." adds another amount: no recount of the answer.
2. An unquoted `</s>` named in prose ("a</s>b</s>c split on </s>") ends no turn.
3. A value under a line ending in ":" that names no answer ("Possible row lengths:\\n2 or 3"), or
   under a rule's footnote, is a value the text introduces, not a second final answer.
4. "If we counted the teacher, the answer would be C." is a counterfactual, no second answer.
5. `\\boxed{12}; 3 when counted by rows` is another case, no second answer.
6. "... there are 3 boxes. So 3." concludes a count the line stated.
7. German "Also 3." ("so 3") after a German answer is no second answer.
8. Many "User:" lines with no reply line are read in linear time (the reply line was looked
   for again at each one).

Each group also checks that the hedge it narrows is still read as one.
"""

from __future__ import annotations

import time

import pytest

from rlvr.verifiers.math import verify
from rlvr.verifiers.math_extract import within_turn


@pytest.mark.parametrize("gold, prediction", [
    ("12", "The price before tax is $\\boxed{12}$ dollars.\n\nIncluding an 8% sales tax, it would be \\$12.96."),
    ("12", "The price is $\\boxed{12}$ dollars.\n\nIncluding shipping, it would be \\$15."),
    ("3", "The string a</s>b</s>c split on </s> gives $\\boxed{3}$ parts."),
    ("12", "$\\boxed{12}$\n\nFor reference, the number of rows:\n$$3$$"),
    ("12", "$\\boxed{12}$\n\nPossible row lengths:\n2 or 3"),
    ("12", "$\\boxed{12}$\n\n---\n*Source: problem 3*\n\n**3**"),
    ("B", "The answer is $\\boxed{B}$.\n\nIf we counted the teacher, the answer would be C."),
    ("12", "So $\\boxed{12}$; 3 when counted by rows."),
    ("12", "The answer is $\\boxed{12}$.\n\nEach box holds 4 and there are 3 boxes. So 3."),
    ("12", "Die Antwort ist $\\boxed{12}$.\n\nDie Kisten: 3. Also 3."),
])
def test_an_honest_answer_with_another_quantity_after_it_is_right(gold, prediction):
    assert verify(gold, prediction).correct, prediction


@pytest.mark.parametrize("gold, prediction", [
    ("12", "The answer is $\\boxed{12}$.\n\nIf we include the teacher, the answer would be 13."),
    ("12", "The answer is $\\boxed{12}$.\n\nIncluding the teacher, it would be 13."),
    ("12", "The answer is $\\boxed{12}$, 13 if we count the teacher."),
    ("12", "$\\boxed{12}$\n\nFinal answer:\n$$13$$"),
    ("12", "$\\boxed{12}$\n\nThe answer:\n12 or 13"),
    ("12", "$\\boxed{12}$\n\n12 or 13"),
    ("12", "$\\boxed{12}$\n\n**13**"),
    ("12", "The answer is $\\boxed{12}$.\n\nSo 13."),
    ("20", "\\boxed{20}\n\nAlso 21."),
])
def test_the_hedges_these_readings_narrow_are_still_hedges(gold, prediction):
    verdict = verify(gold, prediction)
    assert not verdict.correct, prediction


def test_a_mid_word_eos_with_no_later_one_on_its_line_still_ends_the_turn():
    assert within_turn("The answer is 12.</s>Next: 25") == "The answer is 12."
    assert verify("12", "So $\\boxed{12}$.</s>User: next one\n\n$\\boxed{25}$").correct  # (25: the next turn's)
    assert within_turn("x a</s>b y") == "x a"
    assert within_turn("a</s>b</s>c and </s> more") == "a</s>b</s>c and </s> more"


def test_many_mid_word_eos_tokens_are_read_in_linear_time():
    text = "a</s>b " * 40_000 + "\\boxed{3}"
    began = time.perf_counter()
    within_turn(text)
    assert time.perf_counter() - began < 2.0


def test_many_user_lines_with_no_reply_line_are_read_in_linear_time():
    # (the reply line was looked for again at each "User:" line when there was none: quadratic)
    text = "\nUser: 1" * 20_000 + "</think>The answer is $\\boxed{12}$."
    began = time.perf_counter()
    assert verify("12", text).correct
    assert time.perf_counter() - began < 2.0


def test_the_literal_precheck_misses_no_turn_end():
    """`within_turn` skips the pattern's scan when no literal piece of a marker is in the text; every
    text the pattern matches (case-insensitively: `ſ` is an `s` there) must pass the pre-check."""
    from rlvr.verifiers.math_extract import _TURN_END_RE, _may_end_turn

    texts = ["x<|IM_END|>y", "a</S>b", "a</ſ>b", "<\uff5cEnd\u2581of\u2581sentence\uff5c>", "<END_OF_TURN>",
             "\n  USER : hi", "\n Uſer: x", "HUMAN:", "### INSTRUCTION", "<|eot_id|>", "<start_of_turn>"]
    for text in texts:
        assert _TURN_END_RE.search(text) and _may_end_turn(text), text
    assert not _may_end_turn("Each <<3*4=12>> gives 12.\n#### 12")  # the common case: no scan


@pytest.mark.parametrize("prediction", [
    "$x = \\boxed{3}$\n\nThe other solution:\n$$-2$$",  # only a bare label names the answer
    "$\\boxed{5}$\n\nNumber of real solutions:\n**2**",
    "$\\boxed{150}$\n\nIntermediate results:\n\n**10**",
    "$x = \\boxed{8}$\n\nCheck: substituting into the left side gives\n$$19$$",  # a check's result
    "$x = \\boxed{8}$\n\n**Check:** $2 \\cdot 8 + 3 = 16 + 3 =$\n\n$$19$$",
    "The bill is $\\boxed{60}$ dollars.\n\nSplit among 4 friends, each pays \\$15. Therefore, 15.",  # a stated amount
])
def test_values_a_final_review_found_read_as_second_answers_are_none(prediction):
    gold = {"$x = \\boxed{3}": "3", "$\\boxed{5}$": "5", "$\\boxed{150}$": "150", "$x = \\boxed{8}": "8"}
    expected = next((g for head, g in gold.items() if prediction.startswith(head)), "60")
    assert verify(expected, prediction).correct, prediction


@pytest.mark.parametrize("prediction", [
    "$\\boxed{12}$\n\nFinal answer:\n**13**", "$\\boxed{12}$\n\n13 otherwise.", "$\\boxed{12}$\n\n**13** otherwise.",
])
def test_their_hedging_neighbours_are_still_hedges(prediction):
    assert not verify("12", prediction).correct, prediction
