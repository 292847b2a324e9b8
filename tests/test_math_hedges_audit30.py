"""Rules 18: non-committal answers where only the first value was graded (red-team audit 30).

Each hedge here scored right before: a hedge or correction inside an `<answer>` tag, a second
answer offered after the first in other words ("Wait, it's 13.", "Alternatively, 13.", "Result:
13", "or 13" after `####`), a bracket after a box naming another value, an "approximate" value
that is no rounding of the answer. The right answers beside them must stay right."""

import time

import pytest

from rlvr.verifiers.math import verify
from rlvr.verifiers.math_extract import said_after, tagged_answers
from rlvr.verifiers.math_restatement import restatement_parts
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


# -- review 3: right answers scored hedged by the bracket after a box and second answers in words

@pytest.mark.parametrize("gold, text", [
    ("3", "To the nearest whole number: $\\boxed{3}$ (about 3.46)."), ("12", "\\boxed{12} (about 12.3)"),
    ("1234", "\\boxed{1234} (about 1200)"),
])
def test_a_box_that_rounds_the_approximate_value_in_its_bracket_stays_right(gold, text):
    assert verify(gold, text).correct


@pytest.mark.parametrize("text", ["\\boxed{100} (about 104)", "The answer is 100 (about 104).", "\\boxed{3} (about 3.6)"])
def test_an_approximate_value_the_integer_box_is_no_rounding_of_is_a_hedge(text):
    gold = "3" if "{3}" in text else "100"
    assert verify(gold, text).details["kind"] == "hedged"


def test_rounds_to_reads_both_directions_at_the_decimals_shown():
    assert restatement_parts("3 (about 3.46)") == ["3"]
    assert restatement_parts("100 (about 104)") == ["100", "104"]


@pytest.mark.parametrize("gold, text", [
    ("6", "The answer is $\\boxed{6}$ (60%)."), ("6", "The answer is $\\boxed{6}$ (6/10)."),
    ("6", "\\boxed{6} (\\frac{6}{10})"), ("6", "\\boxed{6} (6/10 = 60\\%)"),
])
def test_a_share_in_brackets_after_a_box_is_no_second_answer(gold, text):
    assert verify(gold, text).correct


@pytest.mark.parametrize("gold, text", [
    ("24", "The answer is $\\boxed{24}$ ($4!$)."), ("6", "The answer is $\\boxed{6}$ ($\\binom{4}{2}$)."),
    ("6", "\\boxed{6} (\\binom{4}{2})"), ("24", "\\boxed{24} (4!)"),
])
def test_an_expression_in_brackets_after_a_box_is_not_compared(gold, text):
    assert verify(gold, text).correct
    assert said_after(text[text.index("}") + 1:].lstrip("$"), gold) is None


@pytest.mark.parametrize("text", [
    "\\boxed{12} (13)", "\\boxed{12} (3 × 5)", "\\boxed{12} (i.e. 13)", "\\boxed{12}\n\nAlternatively, 13.",
    "\\boxed{12}\n\nResult: 13", "\\boxed{6} (7/10)", "\\boxed{12} (3 \\times 5 = 15)",
])
def test_another_value_after_a_plain_number_box_stays_a_hedge(text):
    gold = "6" if "{6}" in text else "12"
    assert verify(gold, text).details["kind"] == "hedged"


@pytest.mark.parametrize("gold, text", [
    ("2\\sqrt{3}", "The answer is $\\boxed{2\\sqrt{3}}$.\n\nAlternatively, $\\sqrt{12}$."),
    ("\\frac{\\pi}{2}", "The answer is $\\boxed{\\frac{\\pi}{2}}$.\n\nResult: 90°"),
    ("\\frac{1}{2}", "\\boxed{\\frac{1}{2}}\n\nWait, it's $\\frac{2}{4}$."),
])
def test_a_second_answer_in_words_after_an_answer_that_is_no_plain_number_is_not_read(gold, text):
    assert verify(gold, text).correct
    assert second_answer(text[text.index("$.") + 2:] if "$." in text else text, gold) is None


def test_a_second_answer_in_words_is_read_after_a_plain_number_or_choice_letter():
    assert second_answer("\n\nAlternatively, 13.", "12")[1] == "13"
    assert second_answer("\n\nAlternatively, C.", "B")[1] == "C"
    assert verify("B", "\\boxed{B}\n\nAlternatively, C.").details["kind"] == "hedged"


def test_a_retraction_in_words_after_an_answer_that_is_no_plain_number_is_still_read():
    assert verify("2\\sqrt{3}", "\\boxed{2\\sqrt{3}}\n\nWait, no, it's 4.").details["kind"] == "hedged"
