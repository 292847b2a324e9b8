"""Math verifier, rules 18: a retraction in words after the final answer ("The answer is 18. Wait,
no, it's 20.") names one more final answer, as a correction in other words ("actually, it's 20")
does: a value that differs from the answer makes the output a hedge, one that restates it changes
nothing. Self-checks, apologies about a step and "no" as an ordinary word are no retraction."""

from __future__ import annotations

import time

import pytest

from rlvr.verifiers.math import RULES_VERSION, verify
from rlvr.verifiers.math_extract import final_boxes, said_after, stated_answers
from rlvr.verifiers.math_retraction import retraction


def kind(gold: str, prediction: str) -> str:
    return verify(gold, prediction).details["kind"]


#: Retractions of 18 that name 20, after each way of stating a final answer.
RETRACTIONS = [
    "Wait, no, it is 20.",
    "Wait — no, it's 20.",
    "Wait... no, it's 20.",
    "Wait, no. It's 20.",
    "Wait, no.\nIt's 20.",
    "No! It's 20.",
    "No, it's 20.",
    "No. It's 20.",
    "**Wait**, no, it is 20.",
    "Hmm, no: 20.",
    "Hmm, wait, no — 20.",
    "Uh, no, 20.",
    "Actually no, it's 20.",
    "No wait, it's 20.",
    "My mistake, it's 20.",
    "Scratch that, it's 20.",
    "Oops — 20.",
    "Oops! 20.",
    "Oops!\nIt's 20.",
    "Sorry, 20.",
    "My apologies — it's 20.",
    "Erratum: 20.",
    "Correction: 20.",
    "Let me correct that: 20.",
    "I mean 20.",
    "Oops, I made a mistake. It is 20.",
    "I made a mistake. The correct total is 20.",
    "Wait, I made an error. The answer should be 20.",
    "Wait, that's wrong. It's 20.",
    "Wait, I miscounted. It's 20.",
    "Wait, no, she makes $20.",
    "Wait, no, there are 20.",
    "Wait, no, it's twenty.",
    "Wait, no, it's 20, not 18.",
    "Wait, no, it's 20 because 4 × 5 = 20.",
    "Wait, no, it's 1.5 + 18.5 = 20.",
    "Wait, no, it's \\frac{40}{2}.",
    "Wait, no, it's $\\frac{40}{2}$.",
    "Wait, no, x = 20.",
    "Wait, no, it's 20! Sorry for the confusion.",
]
STATED = ["\\boxed{18}\n\n", "\\boxed{18}. ", "$\\boxed{18}$ ", "The answer is 18. ", "Final Answer: 18. ",
          "#### 18\n", "<answer>18</answer>\n"]


@pytest.mark.parametrize("retracted", RETRACTIONS)
@pytest.mark.parametrize("stated", STATED)
def test_a_retraction_after_the_answer_is_a_hedge(stated, retracted):
    text = stated + retracted
    assert kind("18", text) == "hedged", text  # right, then taken back: never right
    assert kind("20", text) == "hedged", text  # wrong, then another answer: a hedge, as a correction is


@pytest.mark.parametrize("retracted", [
    "Wait, no, it's -20.", "Wait, no, it's 20.5.", "Wait, no, it's .5.", "Wait, no, it's $\\frac{1}{2}$.",
    "Hmm, no, 3 × 6 = 20.",
])
def test_other_values_read_too(retracted):
    assert kind("18", "\\boxed{18}\n\n" + retracted) == "hedged", retracted


def test_said_after_gives_the_retracted_value():
    assert said_after("\n\nWait, no, it's 20.", "18") == "20"
    assert said_after("\n\nWait, no, it's twenty.", "18") == "20"
    assert said_after("\n\nWait, no, it's 1.5 + 18.5 = 20.", "18") == "20"
    assert said_after("\n\nWait, no, it's \\frac{40}{2}.", "18") == "\\frac{40}{2}"
    assert said_after("\n\nWait, no, let me verify: 3 × 6 = 18.", "18") is None


def test_a_retraction_to_an_equal_value_changes_nothing():
    assert kind("20", "\\boxed{20}. Wait, no, it's \\frac{40}{2}.") == "equal"
    assert kind("20", "\\boxed{20}. Hmm, no, x = 20.") == "equal"
    assert kind("20", "\\boxed{20}. Wait, no, it's twenty.") == "equal"
    assert kind("y=2x+3", "\\boxed{y=2x+3}. Hmm, no, y = 2x + 3.") == "equal"   # an equation is kept whole
    assert kind("y=2x+3", "\\boxed{y=2x+3}. Hmm, no, y = 2x + 4.") == "hedged"


def test_a_letter_is_read_only_after_a_letter():
    assert kind("B", "The answer is B. Wait, no, it's C.") == "hedged"
    assert kind("C", "The answer is B. Wait, no, it's C.") == "hedged"
    assert kind("C", "The answer is (B). Sorry, (C).") == "hedged"
    assert kind("B", "\\boxed{B}. Sorry, B.") == "equal"
    assert kind("3", "\\boxed{3}. Sorry, C.") == "equal"    # after a number a letter is no value
    assert said_after(" Wait, no, it's C.", "3") is None


def test_the_gsm_mark_reads_corrections_after_it():
    assert stated_answers("#### 18\nWait, no, it's 20.") == ["18", "20"]
    assert stated_answers("#### 18\nActually, it's 20.") == ["18", "20"]
    assert stated_answers("#### 18\nWait, no, it's 18.") is None
    assert stated_answers("#### 18\nWait, no, let me verify: 3 × 6 = 18.") is None


def test_an_answer_stated_again_after_the_retraction_supersedes_it():
    assert kind("18", "The answer is 18. Wait, no, it's 20. So the answer is 18.") == "equal"
    assert kind("18", "\\boxed{18}. Wait, no, it's 20. So the answer is 18.") == "equal"
    assert kind("18", "\\boxed{18}. Wait, no, it's 20. So the answer is 20.") == "hedged"


#: Correct answers followed by self-checks, apologies about a step and "no" as an ordinary word,
#: in the styles of real models' outputs (Qwen, DeepSeek-R1, Llama): none retracts the answer.
NOT_RETRACTIONS = [
    "No, wait—let me double-check: 3 × 6 = 18. Yes.",
    "Wait, no, let me verify: 6 + 12 = 18.",
    "Hmm, no, let me re-check step 2: 2 * 9 = 18. Correct.",
    "Sorry, I forgot to mention the units: 18 dollars.",
    "No. of apples: 18",
    "No. 1: 18 is even.",
    "No. 5 is odd, but that is beside the point.",
    "No 2 ways about it.",
    "No 3 cars can fit, so 18 it is.",
    "No 5-year-old could do this, but it's 18.",
    "Oh no, 2 hours have passed!",
    "Hmm, no further simplification is possible.",
    "Ah, no remainder either: 36 / 2 = 18 exactly.",
    "Oh, no need to convert units: 1080 minutes is 18 hours.",
    "Oops, typo above in step 3, but the answer stands.",
    "Oops, I wrote 13 in step 3 by mistake, but the final answer 18 stands.",
    "Oops, I see I wrote 3 instead of 4 in step 2, but the total is still 18.",
    "Oops, 3 per row, not 4.",
    "Correction: in step 2 I wrote 5 + 6 = 18, it should read 12 + 6 = 18.",
    "(Correction to step 2: 3 x 6 = 18, not 19.)",
    "**Correction:** In step 2, 12+6=18 (I wrote 17 by typo).",
    "Correction: none needed, the answer 18 holds.",
    "Sorry, in step 1 it should be 4 apples, not 3. The total does not change.",
    "I made a mistake in step 2 (wrote 7 instead of 8), but the final answer 18 is correct.",
    "Wait, I miscounted the days in step 1, but it doesn't change the result.",
    "Sorry about the confusion in step 3 earlier.",
    "Sorry, 1 more note: the answer is in dollars.",
    "Sorry for the long explanation.",
    "Wait, no — 18 is right, since 3*6=18.",
    "Wait, no, I need to double check with 3 * 6 = 18.",
    "No wait, the 2 boxes... yes 18.",
    "No wait, 18 is correct.",
    "No, wait. 18 is correct.",
    "Wait, no, that's right.",
    "Hmm, no, 18 checks out.",
    "No, wait, I should double-check the units.",
    "Wait, no, hold on: 18 is right.",
    "Wait, no, actually it's right.",
    "No, that's correct: 18.",
    "No, I'm confident.",
    "No, 3 boxes of 6 make 18.",
    "No, 6 per box.",
    "Wait, no, in step 2 it's 5, not 4.",
    "Wait, no, each box has 6, so 3 boxes have 18.",
    "Is 17 possible? No, it's 18.",
    "Is the remainder 0? No, it's 2.",
    "Does it round up? No. It's 2 short of 20.",
    "Wait, no, it's 6 per day.",
    "Hmm, no. Let me verify once more: 18 - 6 = 12, 12 + 6 = 18.",
    "Hmm, that's not right. Let me redo: 3*6 = 18. So 18.",
    "Whoops, I meant 18 in the sentence above, as boxed.",
    "Scratch that last remark, 18 is right.",
    "I mean, 18 is the only possibility.",
    "My apologies for the confusion earlier; the answer is 18.",
    "Wait, no, it's 18.",
    "No! It's definitely 18.",
    "Wait, no, it's 6 + 12 = 18.",
    "Wait, no, it's eighteen.",
    "Wait, no, it's 18 (not 17).",
    "Wait, no, it's 20? Let me check: 3 × 6 = 18.",
]


@pytest.mark.parametrize("remark", NOT_RETRACTIONS)
@pytest.mark.parametrize("stated", STATED)
def test_a_remark_after_a_right_answer_leaves_it_right(stated, remark):
    text = stated + remark
    assert kind("18", text) == "equal", text


@pytest.mark.parametrize("gold, text", [
    ("\\frac{1}{2}", "\\boxed{\\frac{1}{2}}. Wait, no, $\\frac{1}{2}$ is right."),
    ("\\frac{1}{2}", "\\boxed{\\frac{1}{2}}\n\nNo wait, I should double-check: \\frac{1}{2} = 0.5, yes."),
    ("\\frac{1}{2}", "\\boxed{\\frac{1}{2}}. Oops, I mean 0.5."),
    ("2\\sqrt{3}", "\\boxed{2\\sqrt{3}}. Wait, no, $2\\sqrt{3}$ is correct."),
    ("20\\%", "\\boxed{20\\%}. Wait, no, 20% is right."),
    ("0.5", "\\boxed{0.5}. Wait, no, 1/2 = 0.5 is right."),
    ("3:30", "\\boxed{3:30}. Oops, I mean 3:30 PM."),
    ("1000", "\\boxed{1000}. Wait, no, 1,000 is right."),
    ("-3", "\\boxed{-3}. Wait, no, −3 is right."),
    ("12", "**Final Answer:** 12\n\n**Correction:** In step 2, 5+7=12 (I wrote 11 by typo)."),
])
def test_latex_and_other_answers_restated_stay_right(gold, text):
    assert kind(gold, text) == "equal", text


def test_retraction_reports_where_it_opens():
    tail = "The sum is 20. Wait, no, it's 21. Sorry for the confusion."
    assert retraction(tail, "18") == (15, "21")
    assert retraction(tail, "18", start=30) is None
    assert retraction(" The answer stands.", "18") is None


@pytest.mark.parametrize("tail", [
    "Wait, " * 17_000,
    "no, " * 25_000,
    ". no," * 20_000,
    "\nno, " * 20_000,
    "wait" + " \t" * 50_000 + "no,",
    "Wait, no, it's " * 7_000,
    "Oops! 1. " * 11_000,
    "Oops! 1" + " " * 100_000 + ".",
    "Wait, no, it's " + "1 + " * 25_000 + "= 20.",
    "Sorry, " + "1=" * 50_000,
    "**" * 50_000 + "no,",
    "? No, 1" * 14_000,
    "Hmm, no: " + "(" * 100_000,
    "Wait, no, it's 1, not" + " 2" * 50_000,
    "I made a mistake. " * 5_500,
    "No. " * 25_000,
    "Wait\u2026 no\u2026 " * 10_000,
])
def test_long_adversarial_tails_stay_fast(tail):
    said_after(" Wait, no, it's 20.", "18")  # (warm: imports and compiled expressions)
    start = time.process_time()  # (this process's CPU time: other processes on the machine do not count)
    for stated in ("\\boxed{18}", "The answer is 18. ", "#### 18\n"):
        final_boxes(stated + tail)
        stated_answers(stated + tail)
    said_after(tail, "18")
    retraction(tail, "18")
    assert time.process_time() - start < 2.0  # linear: well under; quadratic on 100k characters: minutes


def test_rules_version_is_18_or_later():
    assert RULES_VERSION >= 18
