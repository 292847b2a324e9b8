"""Rules 29 (extraction part): second answers after the final one that went unread, and honest
answers read as two values or none (red-team audit 34).

A value refused after the one stated ("The answer is 13, not 12.") made the statement no answer
after a box, so a different answer there scored as right, and alone a list of two values, a hedge.
Common ways of offering a second value after a box ("Either 12 or 13.", "13 also works.", "The
answer should be 13.", "Final answer (revised): 13", "Possible answers: 12, 13.") were not read.
A bracket breaking the answer's number down in words (`13 (12 students and 1 teacher)`) made a
right answer unparsable. The near misses beside each must stay as they were."""


import pytest

from rlvr.verifiers.math import verify
from rlvr.verifiers.math_extract import _drop_remark, extract_answer, said_after
from rlvr.verifiers.math_restatement import breakdown_start
from rlvr.verifiers.math_retraction import value_line, without_refused

BOX = "3 boxes of 4 make 12.\n\n\\boxed{12}\n\n"


def _hedged(gold, text):
    verdict = verify(gold, text)
    return not verdict.correct and verdict.details["kind"] == "hedged"


# -- 1. "the answer is X, not Y" ---------------------------------------------------------------

@pytest.mark.parametrize("gold, text", [
    ("12", "3 * 4 = 12, so $\\boxed{12}$.\n\nWait, I forgot the teacher. The answer is 13, not 12."),
    ("12", "\\boxed{12}\n\nThe answer is 13, not 14."),
    ("12", "\\boxed{12}\n\nThe answer is 13 rather than 12."),
    ("12", "\\boxed{12}\n\nThe answer is 13 instead of 12."),
    ("12", "\\boxed{12}\n\nThe answer is 13 (not 12)."),
    ("12", "\\boxed{12}\n\nSo the answer is $13$, not $12$."),
    ("B", "\\boxed{B}\n\nThe answer is C, not B."),
    ("12", "<answer>12</answer>\nThe answer is 13, not 12."),
    ("12", "The answer is 12. Actually, it's 13, not 12."),
    ("12", "The answer is 12. Wait, no, it's 13 rather than 12."),
    ("12", "\\boxed{12}\n\nThe answer is 13."),  # (a control: hedged before too)
])
def test_a_different_answer_with_a_refused_value_after_the_final_one_is_a_hedge(gold, text):
    assert _hedged(gold, text)


@pytest.mark.parametrize("gold, text", [
    ("12", "\\boxed{12}\n\nThe answer is 12, not 13."),
    ("12", "\\boxed{12}\n\nThe answer is 12 rather than 13."),
    ("12", "\\boxed{12}\n\nThe answer is 12 (not 13)."),
    ("12", "\\boxed{12}\n\nSo 12, not 13."),
    ("12", "\\boxed{12}\n\nThe answer is not 13."),
    ("B", "\\boxed{B}\n\nThe answer is B, not C."),
    ("12", "<answer>12</answer>\nThe answer is 12, not 13."),
    ("12", "The answer is 12. Actually, it's 12, not 13."),
])
def test_the_same_answer_with_a_refused_value_stays_right(gold, text):
    assert verify(gold, text).correct


@pytest.mark.parametrize("gold, text", [
    ("13", "The answer is 13, not 12."), ("13", "The answer is 13 rather than 12."), ("13", "The answer is 13 (not 12)."),
    ("13", "The answer is 13, not 12, since the teacher counts."), ("-3", "The answer is -3, not 3."),
    ("1000", "The answer is 1,000, not 100."), ("C", "The answer is C, not B."), ("13", "#### 13, not 12"),
    ("13", "The answer is $13$ instead of $12$."),
])
def test_an_answer_with_a_refused_value_is_that_answer(gold, text):
    assert verify(gold, text).correct
    wrong = "12" if gold != "12" else "13"
    assert not verify(wrong, text).correct


def test_only_a_plain_refused_value_is_dropped():
    assert without_refused("13, not 12") == "13"
    assert without_refused("C, not B") == "C"
    assert without_refused("13, not counting the teacher") == "13, not counting the teacher"
    assert without_refused("13, not B") == "13, not B"  # (a letter is refused only after a letter)
    assert without_refused("13 rather than 12 (the teacher)") == "13 rather than 12 (the teacher)"
    assert without_refused("not 12") == "not 12"


# -- 2. two values offered after the box -------------------------------------------------------

@pytest.mark.parametrize("tail", [
    "12 or 13", "Either 12 or 13.", "either 12 or 13", "12 or 13, depending on interpretation.",
    "12 or 13 depending on whether the teacher counts.", "12 or 13 (not sure).", "Possible answers: 12, 13.",
    "Possible answers: 12 or 13", "The possible answers are 12 and 13.", "13 also works.", "13 works too.",
    "But 13 works as well.", "x = 13 would also work.", "Final answer (revised): 13", "Final answer (revised):\n13",
    "**Final Answer (corrected)**\n13", "The answer should be 13.", "Hmm, the answer should be 13.",
])
def test_two_values_after_the_box_are_a_hedge(tail):
    assert _hedged("12", BOX + tail)


@pytest.mark.parametrize("tail", [
    "The answer is 12, not 13.", "This should be easy.", "Method 2 also works.", "12 also works.", "12 works too.",
    "Either 3 or 4, the total is 12.", "Either 3 or 4 rows would give 12.",
    "You could group them in rows of\n3 or 4, depending on taste.",
    "Possible row lengths:\n2 or 3, depending on the layout.", "Possible answers: 12",
    "Final answer (revised): 12", "The answer should be 12.", "If we double it, the answer should be 24.",
    "So the answer should be 12 apples in total.", "The answer should be positive.",
])
def test_near_misses_after_the_box_stay_right(tail):
    assert verify("12", BOX + tail).correct


@pytest.mark.parametrize("text", [
    "3 boxes of 4 make \\boxed{12}. Note 12 works and 13 does not.",
    "\\boxed{3}\n\nPossible values of n: 1, 2, 3.",
    "\\boxed{3}\n\nPossible values: 1, 2, 3.",
])
def test_values_that_are_no_second_answer_stay_right(text):
    gold = "12" if "12" in text else "3"
    assert verify(gold, text).correct


def test_a_rounding_in_the_final_answer_heading_is_no_second_answer():
    assert verify("12.4", "\\boxed{12.4}\n\nFinal answer (rounded): 12").correct
    assert _hedged("12.4", "\\boxed{12.4}\n\nFinal answer (revised): 12")


def test_a_choice_letter_that_also_works_is_a_hedge():
    assert _hedged("B", "\\boxed{B}\n\nC also works.")
    assert verify("B", "\\boxed{B}\n\nB also works.").correct


def test_worded_offers_after_the_answer_statement_are_read():
    assert _hedged("12", "The answer is 12. 13 also works.")
    assert _hedged("12", "The answer is 12. The answer should be 13.")
    assert verify("12", "The answer is 12. So the answer should be 12.").correct


def test_the_helpers_name_the_second_value():
    assert value_line("\n\nEither 12 or 13.", "12") == "13"
    assert value_line("\n\nPossible answers: 12, 13.", "12") == "13"
    assert value_line("\n\nEither 3 or 4, the total is 12.", "12") is None
    assert said_after("\n\n13 works too.", "12") == "13"
    assert said_after("\n\nThe answer should be 13.", "12") == "13"
    assert said_after("\n\nFinal answer (revised): 13", "12") == "13"


# -- 3. a breakdown of the answer in brackets --------------------------------------------------

@pytest.mark.parametrize("gold, text", [
    ("13", "The answer is 13 (12 students and 1 teacher)."),
    ("12", "The answer is 12 (3 boxes of 4 each)."),
    ("12", "The answer is 12 (3 rows of 4 chairs)."),
    ("13", "The answer is 13 (13 people in all)."),
    ("13", "Final Answer: The final answer is 13 (12 students and 1 teacher). I hope it is correct."),
    ("13", "#### 13 (12 students and 1 teacher)"),
])
def test_a_bracketed_breakdown_of_the_answer_is_a_remark(gold, text):
    assert verify(gold, text).correct


@pytest.mark.parametrize("inside", [
    "12 if we exclude the teacher", "or 12 students and 1 teacher", "12 students - 1 absent", "4 rows of 4 chairs",
    "12 students and 1 teacher, roughly", "twelve students and 1 teacher", "12 students", "12/13 of the class",
])
def test_a_bracket_that_may_name_another_answer_is_kept(inside):
    said = f"13 ({inside})"
    assert breakdown_start(said) is None
    assert _drop_remark(said) == said
    assert not verify("13", f"The answer is {said}.").correct


def test_a_breakdown_after_a_different_answer_is_still_a_hedge():
    assert _hedged("12", BOX + "The answer is 13 (12 students and 1 teacher).")
    assert extract_answer("The answer is 13 (12 students and 1 teacher).") == "13"


# -- cost ---------------------------------------------------------------------------------------

@pytest.mark.timeout(60)  # a hang guard: a quadratic reading runs past it
@pytest.mark.parametrize("text", [
    "The answer is 1" + " " * 50000 + "rather than 2",
    "The answer is 1" + " " * 50000 + "(not 2)",
    "\\boxed{12}\n" + "final answer (" * 20000,
    "\\boxed{12}\n" + "Possible answers: " + "1, " * 50000,
    "\\boxed{12}\n" + "13 also works. " * 20000,
    "\\boxed{12}\n" + "12 or 13, depending " * 20000,
    "The answer is 13 (" + "1 a " * 5000 + ")",
])
def test_the_new_rules_stay_linear(text):
    verify("12", text)
