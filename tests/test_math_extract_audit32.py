"""Audit 32 (rules 20): what follows a final answer, and where the chat turn ends.

1. A second answer offered after the box under a condition or in words is a hedge: in brackets
   (`(if we count the teacher, 21)`, `(otherwise 21)`, `(21 otherwise)`, `(if inclusive: 21)`),
   after a comma or dash (`, 21 if we count the teacher`; not "with"/"including", review of rules
   21), or in a later sentence ("Maybe 21.", "The answer could also be 21.", "If we include the
   teacher, the answer would be 21.", "I think it's 13.", "Actually 13."), or a different plain
   value alone on the last line, marked up (`$$13$$`, `**13**`, "Therefore, $13$."), or a line
   offering two ("20 or 21").
2. Nothing past the end of the chat turn is read (`<|im_end|>`, `<|im_start|>`, a "User:" line).
3. A magnitude word after a plain-number box multiplies it (`$\\boxed{2.5}$ million`), thousands
   groups after `\\,` continue it (`$\\boxed{3}\\,000$`), and an operation in words changes it
   (`\\boxed{3} squared`, `\\boxed{3} times 2`).
4. "about 3" as the answer is `\\approx 3`, and "72 left" / "72 remaining" after "the answer is" is 72.
Each case has honest neighbours that must stay right.
"""

from __future__ import annotations

import pytest

from rlvr.verifiers.math import verify
from rlvr.verifiers.math_extract import extract_answer, within_turn


def _kind(gold: str, prediction: str) -> str:
    return verify(gold, prediction).details["kind"]


# -- 1. second answers after the box -------------------------------------------------------------

@pytest.mark.parametrize("prediction", [
    "\\boxed{20} (21 if we count the teacher)",
    "\\boxed{20} (if we count the teacher, 21)",
    "\\boxed{20} (otherwise 21)",
    "\\boxed{20} (21 otherwise)",
    "\\boxed{20} (else 21)",
    "\\boxed{20} (if inclusive: 21)",
    "\\boxed{20} (or, counting the teacher, 21)",
    "\\boxed{20} (counting the teacher it would be 21)",
    "\\boxed{20}, 21 if we count the teacher",
    "\\boxed{20} \u2014 21 if inclusive",
])
def test_a_conditional_second_value_beside_the_box_is_a_hedge(prediction):
    assert _kind("20", prediction) == "hedged"


@pytest.mark.parametrize("prediction", [
    "\\boxed{20}\n\n20 or 21",
    "\\boxed{20}\n\nMaybe 21.",
    "\\boxed{20}\n\nPossibly 21.",
    "\\boxed{20}\n\nProbably 21.",
    "\\boxed{20}\n\nI think it's 21.",
    "\\boxed{20}\n\nHmm, I think it's actually 21.",
    "\\boxed{20}\n\nOn second thought, 21.",
    "\\boxed{20}\n\nActually 21.",
    "\\boxed{20}\n\nAlso 21.",
    "\\boxed{20}\n\nOr: 21",
    "\\boxed{20}\n\nFinal: 21",
    "\\boxed{20}\n\nThe answer could also be 21.",
    "\\boxed{20}\n\nIf we include the teacher, the answer would be 21.",
    "\\boxed{20}\n\nIncluding the teacher, the answer becomes 21.",
    "\\boxed{20}\n\nIf inclusive: 21.",
    "\\boxed{20}\n\nTherefore, $21$.",
    "\\boxed{20}\n\n$$21$$",
    "\\boxed{20}\n\n**21**",
    "\\boxed{20}\n\nSo 21.",
    "\\boxed{18}\n\nHmm, that's not right. Let me redo: 4*5 = 20. So 20.",
])
def test_a_second_answer_stated_after_the_box_is_a_hedge(prediction):
    gold = "18" if prediction.startswith("\\boxed{18}") else "20"
    assert _kind(gold, prediction) == "hedged"


@pytest.mark.parametrize("prediction", [
    "\\boxed{20}\n\nCheck: 4*5 = 20",
    "\\boxed{20}\n\nCheck: $4 \\times 5 = 20$ \u2713",
    "\\boxed{20} cm",
    "\\boxed{20}\n\n$$20$$",
    "\\boxed{20}\n\n**20**",
    "\\boxed{20}\n\nTherefore, $20.0$.",
    "\\boxed{20} (if we count only students)",
    "\\boxed{20} (with 5 in each group)",
    "\\boxed{20} (4 \u00d7 5)",
    "\\boxed{20}\n\nI think it's 20.",
    "\\boxed{20}\n\nActually, let me verify: 4*5=20. Yes.",
    "\\boxed{20}\n\nAlso, 3 + 4 = 7.",
    "\\boxed{20}\n\nMaybe I should double check: 4 + 16 = 20.",
    "\\boxed{20}\n\nProbably the easiest approach is multiplication.",
    "\\boxed{20}\n\nIf we had counted the teacher, the answer would be 21.",
    "\\boxed{20}\n\nIf we include the teacher, the answer would be 21, but the question asks about students.",
    "\\boxed{20}\n\n1. We find 4 groups.\n2. Each has 5.",
    "\\boxed{20}\n\n2.",
    "\\boxed{20}\n\n$\\blacksquare$",
    "\\boxed{20}, 20 if we count only students",
])
def test_trailing_text_that_restates_or_checks_the_answer_stays_right(prediction):
    assert verify("20", prediction).correct, prediction


@pytest.mark.parametrize("gold, prediction", [
    ("0.5", "\\boxed{\\frac{1}{2}}\n\n$0.5$"),
    ("0.333", "\\boxed{0.333}\n\n$\\frac{1}{3}$"),
    ("1/3", "\\boxed{\\frac{1}{3}}\n\n0.33"),
])
def test_a_last_line_with_the_answer_in_another_form_is_no_second_answer(gold, prediction):
    assert verify(gold, prediction).correct


# -- 2. the end of the chat turn ------------------------------------------------------------------

_NEXT_TURN = "<|im_end|>\n<|im_start|>user\nNext question?<|im_end|>\n<|im_start|>assistant\n"


@pytest.mark.parametrize("prediction", [
    "So \\boxed{3}." + _NEXT_TURN + "\\boxed{4}",
    "<answer>3</answer>" + _NEXT_TURN + "<answer>4</answer>",
    "The answer is 3." + _NEXT_TURN + "The answer is 4.",
    "So \\boxed{3}.\nUser: next question\nAssistant: \\boxed{4}",
    "<think>3 it is</think>\\boxed{3}" + _NEXT_TURN + "\\boxed{4}",
])
def test_nothing_past_the_end_of_the_chat_turn_is_read(prediction):
    assert verify("3", prediction).correct
    assert not verify("4", prediction).correct
    assert extract_answer(prediction) == "3"


@pytest.mark.parametrize("prediction", [
    "<|im_start|>assistant\nSo \\boxed{3}.<|im_end|>",
    "<s>4</s> \\boxed{3}",
    "User: what is 1+2?\nAssistant: \\boxed{3}",
])
def test_opening_markers_and_a_strike_through_end_no_turn(prediction):
    assert verify("3", prediction).correct


def test_cutting_at_the_turn_end_is_linear():
    assert within_turn("<s>a</s>" * 50_000 + "\nb</s>c").endswith("\nb")
    assert within_turn("<|im_end|>" * 50_000) == "<|im_end|>" * 50_000


# -- 3. words and digit groups right after a box -------------------------------------------------

@pytest.mark.parametrize("gold, prediction", [
    ("2500000", "The revenue is $\\boxed{2.5}$ million."),
    ("2500000", "$\\boxed{2.5}\\text{ million}$"),
    ("2500000", "\\boxed{2.5} million"),
    ("3000", "\\boxed{3} thousand"),
    ("3000", "$\\boxed{3}\\,000$"),
])
def test_a_magnitude_or_digit_group_after_a_box_is_part_of_its_value(gold, prediction):
    assert verify(gold, prediction).correct
    assert not verify(gold.rstrip("0").rstrip(".") if gold != "2500000" else "2.5", prediction).correct


@pytest.mark.parametrize("prediction", ["\\boxed{3} squared", "\\boxed{3} cubed.", "\\boxed{3} times 2",
                                        "$\\boxed{3}\\text{ squared}$", "\\boxed{3} plus one"])
def test_an_operation_in_words_after_a_box_changes_its_value(prediction):
    assert not verify("3", prediction).correct


@pytest.mark.parametrize("prediction", [
    "He rolls the die \\boxed{3} times.",
    "\\boxed{3} times as many",
    "She needs \\boxed{3} more apples.",
    "$\\boxed{3}$ squared is 9, so x = 3.",
    "The area is $\\boxed{3}$ square units.",
    "\\boxed{3} dozen",  # "how many dozen": not multiplied after the box
])
def test_ordinary_words_after_a_box_leave_its_value(prediction):
    assert verify("3", prediction).correct


# -- 4. "about" and "left" -----------------------------------------------------------------------

@pytest.mark.parametrize("gold, prediction", [
    ("3", "\\boxed{\\text{about } 3}"),
    ("3", "\\boxed{about 3}"),
    ("3", "\\boxed{\\text{approximately } 3}"),
    ("72", "The answer is about 72."),
    ("72", "The answer is roughly 72."),
    ("72", "The answer is 72 left."),
    ("72", "The answer is 72 remaining."),
    ("72", "The answer is 72 apples left over."),
])
def test_an_about_value_or_a_remainder_that_is_the_answer_reads_as_it(gold, prediction):
    assert verify(gold, prediction).correct


@pytest.mark.parametrize("gold, prediction", [
    ("1/3", "\\boxed{\\frac13}\n\nThe answer is approximately 0.33."),
])
def test_a_rounding_stated_after_the_box_is_still_no_second_answer(gold, prediction):
    assert verify(gold, prediction).correct


@pytest.mark.parametrize("gold, prediction", [
    ("3", "\\boxed{\\text{around } 3 \\text{ or } 4}"),
    ("72", "The answer is 3 more left."),
])
def test_an_about_value_or_remainder_does_not_hide_another_value(gold, prediction):
    assert not verify(gold, prediction).correct
