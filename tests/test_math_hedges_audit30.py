"""Rules 18: non-committal answers where only the first value was graded (red-team audit 30).

Each hedge here scored right before: a hedge or correction inside an `<answer>` tag, a second
answer offered after the first in other words ("Wait, it's 13.", "Alternatively, 13.", "Result:
13", "or 13" after `####`), a bracket after a box naming another value, an "approximate" value
that is no rounding of the answer. The right answers beside them must stay right."""

import time

import pytest

from rlvr.verifiers.math import verify
from rlvr.verifiers.math_extract import restatement_parts, said_after, tagged_answers
from rlvr.verifiers.math_retraction import second_answer


@pytest.mark.parametrize("text", [
    "<answer>\\boxed{12} or 13</answer>", "<answer>$\\boxed{12}$ or $13$</answer>", "<answer>\\boxed{12} (or 13)</answer>",
    "<answer>\\boxed{12}\n#### 13</answer>", "<answer>The answer is 12. Actually, it's 13.</answer>",
    "<answer>\\boxed{12}\nActually, it's 13.</answer>", "<answer>\\boxed{12}\n\nCorrection: 13.</answer>",
    "<answer>#### 12\n#### 13</answer>", "<answer>\\boxed{12}\n\nWait, it's 13.</answer>",
])
def test_a_hedge_inside_an_answer_tag_is_read(text):
    verdict = verify("12", text)
    assert not verdict.correct and verdict.details["kind"] == "hedged"
    assert len(tagged_answers(text)[-1]) == 2


@pytest.mark.parametrize("text", [
    "<answer>12</answer>", "<answer>12 cupcakes</answer>", "<answer>\\boxed{12}</answer>", "<answer>#### 12</answer>",
    "<answer>\\boxed{12}\n#### 12</answer>", "<answer>The answer is 12. Actually, it's 12.</answer>",
    "<answer>\\boxed{12}. Let me double check: 3 × 4 = 12. Yes.</answer>", "<answer>\\boxed{12} (3 × 4)</answer>",
])
def test_a_tag_that_commits_to_one_answer_stays_right(text):
    assert verify("12", text).correct


@pytest.mark.parametrize("text", [
    "\\boxed{12}\n\nWait, it's 13.", "The answer is 12.\n\nWait, it's 13.", "\\boxed{12}\n\nAlternatively, 13.",
    "\\boxed{12}\n\nHmm, or was it 13?", "\\boxed{12}, though 13 is also possible.", "#### 12\nor 13",
    "The answer is 12.\nor 13", "Final Answer: 12\nor 13", "\\boxed{12}\n\nANSWER: 13", "\\boxed{12}\n\nResult: 13",
    "\\boxed{12}\n\nEdit: 13", "\\boxed{12}\n\nWait, it's 3 × 5 = 15.", "#### 12\n\nAlternatively, 13.",
    "\\boxed{12}. Note that x = 13 would also be correct.",
])
def test_a_second_answer_after_the_first_is_a_hedge(text):
    verdict = verify("12", text)
    assert not verdict.correct and verdict.details["kind"] == "hedged"


@pytest.mark.parametrize("text", [
    "\\boxed{12}\n\nWait, it's 12.", "The answer is 12.\n\nWait, it's 12.", "\\boxed{12}\n\nWait, it's 12 because 3 × 4 = 12.",
    "\\boxed{12}\n\nAlternatively, we could have computed 3 × 4 = 12.",
    "\\boxed{12}\n\nAlternatively, 12 can be found by multiplying 3 by 4.", "\\boxed{12}\n\nAlternatively, 3 × 4 = 12.",
    "\\boxed{12}\n\nResult: 12", "\\boxed{12}\n\nEdit: fixed a typo in step 2.", "\\boxed{12}\n\nResult: 4\nTotal: 12",
    "\\boxed{12}\n\nLet me double-check the per-day amount. Hmm, it's 4. Times 3 days is 12. Yes.",
    "\\boxed{12}\n\nHmm, or was it 12?", "#### 12\nor a dozen", "Final Answer: 12\nor twelve",
    "\\boxed{12}. Note that 12 is also correct.", "\\boxed{12}\n\nIs it 13? Hmm, it's 12.",
    "\\boxed{3}\n\nNote: -3 is also a solution of $x^2=9$, but we need a positive length.",
])
def test_text_after_a_right_answer_that_offers_no_other_stays_right(text):
    gold = "3" if "x^2=9" in text else "12"
    assert verify(gold, text).correct


def test_second_answer_reads_the_last_offer():
    assert second_answer("\n\nAlternatively, 13.", "12")[1] == "13"
    assert second_answer("\n\nEdit: fixed a typo.", "12") is None
    assert second_answer("\n\nHmm, it's 4. Times 3 is 12.", "12") is None


@pytest.mark.parametrize("text", [
    "\\boxed{12} (3 × 5)", "$\\boxed{12}$ (3 \\times 5 = 15)", "\\boxed{12} (i.e. 13)", "\\boxed{12} (= 13)",
    "\\boxed{12} (13)", "\\boxed{12} (alternatively 13)", "\\boxed{12} (13 if we count the teacher)",
    "\\boxed{12} (thirteen)", "\\boxed{12} (about 20)", "\\boxed{12} (3 × 4 = 13)", "\\boxed{12} (1)",
])
def test_a_bracket_after_a_box_naming_another_value_is_a_hedge(text):
    verdict = verify("12", text)
    assert not verdict.correct and verdict.details["kind"] == "hedged"


@pytest.mark.parametrize("gold, text", [
    ("12", "\\boxed{12} (3 × 4)"), ("12", "\\boxed{12} (dozen)"), ("12", "\\boxed{12} (twelve)"),
    ("12", "\\boxed{12} (in dollars)"), ("12", "\\boxed{12} (cm)"), ("12", "\\boxed{12} (see above)"),
    ("12", "\\boxed{12} (3 \\times 4 = 12)"), ("12", "\\boxed{12} (12 if we count the teacher)"),
    ("12", "\\[\\boxed{12}\\] (3 × 4)"), ("12", "\\boxed{12} (about 12.3)"),
    ("\\frac{\\pi}{3}", "\\boxed{\\frac{\\pi}{3}} (or 60^\\circ)"), ("0.5", "\\boxed{0.5} (50\\%)"),
    ("0.5", "\\boxed{0.5} (1/2)"), ("50", "\\boxed{50} (50\\%)"), ("30", "\\boxed{30\\%} (or 0.3)"),
    ("0.33", "\\boxed{0.33} (1/3)"), ("1000", "\\boxed{1000} (10^3)"),
])
def test_a_bracket_after_a_box_that_restates_it_stays_right(gold, text):
    assert verify(gold, text).correct


def test_said_after_reads_the_bracket_after_a_box():
    assert said_after(" (3 × 5)", "12") == "3 × 5"
    assert said_after(" (3 × 4 = 12)", "12") == "3 × 4"
    assert said_after(" (in dollars)", "12") is None


@pytest.mark.parametrize("text", [
    "The answer is 12 (about 20).", "The answer is 12 (approximately 13).", "The answer is 12 (\\approx 20).",
    "#### 12 (~13)", "**Final Answer:** 12 (roughly 13)",
])
def test_an_approximate_value_that_is_no_rounding_is_a_second_answer(text):
    assert not verify("12", text).correct


@pytest.mark.parametrize("gold, text", [
    ("\\frac{\\sqrt{2}}{2}", "The answer is $\\frac{\\sqrt2}{2}$ (about 0.707)."), ("1.4142", "The answer is 1.4142 (about 1.41)."),
    ("33.33", "The answer is 33.33 (approximately 33)."), ("1000", "The answer is 1000 (about 1,000)."),
    ("12.5", "The answer is 12.5 (about 13)."),
])
def test_a_rounding_stays_dropped(gold, text):
    assert verify(gold, text).correct


def test_restatement_parts_keeps_an_approximate_value_far_from_the_answer():
    assert restatement_parts("12 (about 20)") == ["12", "20"]
    assert restatement_parts("1.4142 (about 1.41)") == ["1.4142"]


@pytest.mark.parametrize("text", ["The final answer is still 18.", "The answer is indeed 18.", "The answer is simply 18.",
                                  "The answer is therefore 18.", "So the answer is just $18$."])
def test_a_filler_word_before_the_value_is_no_part_of_it(text):
    assert verify("18", text).correct
    assert not verify("20", text).correct


def test_the_new_readings_are_linear():
    texts = ["Wait, " * 20000 + "it's 13", "Hmm, or was it " * 10000, "a is also possible " * 10000,
             ("x" * 39 + " ") * 5000 + "is also possible", "\nResult: " * 20000, "Alternatively, " * 20000]
    start = time.process_time()
    for text in texts:
        second_answer(text, "12")
    said_after(" " * 100000 + "(13)", "12")
    said_after(" (" + "1 × " * 30000 + ")", "12")
    tagged_answers("<answer>The answer is 12." + " Wait, it's 13." * 5000 + "</answer>")
    assert time.process_time() - start < 2.0


# -- review 2: a second answer or correction restating the answer in a form the grader cannot read

@pytest.mark.parametrize("tail", [
    "Result: 20 ✓", "Result: `20`", "Result: 20 (4 × 5)", "Alternatively, 20 ✓.", "Alternatively, 20€.",
    "Wait, it's 20 ✓.", "Actually, it's 20 ✓.", "Actually, it's 20€.", "Actually, it's 20 (4 × 5).",
])
def test_a_second_answer_restating_the_answer_unreadably_is_none(tail):
    for stated in ("\\boxed{20}\n\n", "The answer is 20.\n\n", "<answer>\\boxed{20}\n\n" + tail + "</answer>"):
        text = stated if stated.endswith("</answer>") else stated + tail
        assert verify("20", text).correct, text


@pytest.mark.parametrize("tail", [
    "Result: 18 ✓", "Result: `18`", "Result: 18 (9 × 2)", "Alternatively, 18 ✓.", "Wait, it's 18 ✓.",
    "Actually, it's 18 ✓.", "Actually, it's 18 (9 × 2).",
])
def test_a_second_answer_naming_another_value_beside_a_check_mark_or_working_is_a_hedge(tail):
    for stated in ("\\boxed{20}\n\n", "The answer is 20.\n\n", "<answer>\\boxed{20}\n\n" + tail + "</answer>"):
        text = stated if stated.endswith("</answer>") else stated + tail
        assert verify("20", text).details["kind"] == "hedged", text
