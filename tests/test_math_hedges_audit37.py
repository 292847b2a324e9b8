"""Audit 37 of the math verifier's hedge rules (rules 31).

1. A second answer after the final box or `<answer>` tag in words the verifier did not read:
   "It might be 6.", "Actually, 3 also works.", "Otherwise, the answer would be 6.", "However, a
   more careful count gives 6.", "Hmm, 6?". Other numbers after the box in no answer's role stay right.
2. "The answer is X" and a "Final Answer" label or heading with another value are a hedge, as
   "The answer is 6.\\n#### 5" was; a retraction between them makes the later one the correction.
3. An answer statement offering two values in the sentence right before the final box is a hedge.
4. A number prediction is graded as its text, as a number gold is; a bool, NaN or other type stays unparsable.
"""
from decimal import Decimal
from fractions import Fraction

import pytest

from rlvr.verifiers.math import RULES_VERSION, verify, verify_batch


def _kind(gold, prediction):
    return verify(gold, prediction).details["kind"]


def test_rules_version_bumped():
    assert RULES_VERSION >= 31


# -- 1. a second answer after the final answer ----------------------------------------------------

@pytest.mark.parametrize("gold, prediction", [
    ("5", "\\boxed{5}\n\nIt might be 6."),
    ("5", "\\boxed{5}\n\nBut it might be 6."),
    ("5", "\\boxed{5}\n\nOr it might be 6."),
    ("5", "\\boxed{5}\n\nI'm not confident; it could be 6."),
    ("5", "\\boxed{5}\n\nThat might be 6."),
    ("5", "\\boxed{5}\n\nWell, it may be 6."),
    ("5", "<answer>5</answer>\n\nHmm, but it might be 6."),
    ("5", "The answer is 5. It might be 6."),
    ("5", "#### 5\nIt might be 6."),
    ("5", "\\boxed{5}. Actually, 3 also works."),
    ("5", "\\boxed{5}. Hmm, 3 also works."),
    ("5", "\\boxed{5}. Note that 3 works too."),
    ("5", "\\boxed{5}\n\nOtherwise, the answer would be 6."),
    ("5", "\\boxed{5}\n\nElse, the answer would be 6."),
    ("5", "\\boxed{5}\n\nHowever, a more careful count gives 6."),
    ("5", "\\boxed{5}\n\nBut recounting gives 6."),
    ("5", "\\boxed{5}\n\nHmm, 6?"),
    ("5", "\\boxed{5}\n\nOr 6?"),
    ("C", "\\boxed{C}\n\nHmm, B?"),
])
def test_second_answer_after_the_final_answer_is_a_hedge(gold, prediction):
    assert _kind(gold, prediction) == "hedged"


@pytest.mark.parametrize("prediction", [
    "\\boxed{5}. This is 2 more than 3.",
    "\\boxed{5}. Check: 5 + 1 = 6.",
    "\\boxed{5}\n\nIt might be surprising, but 5 is right.",
    "\\boxed{5}. Note that 5 works too.",
    "\\boxed{5}\n\nIt might be 5.",
    "\\boxed{5}\n\nIt could be written as 10/2.",
    "\\boxed{5}\n\nIt may be checked that 5 + 1 = 6.",
    "\\boxed{5}\n\nFor n = 3 it could be 6.",
    "\\boxed{5}\n\nIf x were negative, it could be -5.",
    "\\boxed{5} cm. It might be useful to note the units.",
    "\\boxed{5}\n\nIn radians, the answer would be 6.",
    "\\boxed{5}\n\nOtherwise, the answer would be 5.",
    "\\boxed{5}\n\nNote that 3 works for the first part only.",
    "\\boxed{5}\n\nActually, 3 + 2 = 5 works.",
    "\\boxed{5}\n\nHowever, the negative root gives -5.",
    "\\boxed{5}\n\nHowever, plugging in 2 gives 6.",
    "\\boxed{5}\n\nHowever, the other root gives 6, which is negative, so we discard it.",
    "\\boxed{5}\n\nHowever, a more careful count gives 5.",
    "\\boxed{5}\n\nHmm, 5?",
    "\\boxed{5}\n\nWhy 6? Because 2 + 4 = 6.",
    "\\boxed{5}\n\nIs the answer 6? No.",
])
def test_other_numbers_after_the_box_in_no_answers_role_stay_right(prediction):
    assert _kind("5", prediction) == "equal"


# -- 2. "the answer is" and a Final Answer label with different values ----------------------------

@pytest.mark.parametrize("prediction", [
    "The answer is 6.\n\nFinal Answer: 5",
    "The answer is 6.\n\n**Final Answer**\n5",
    "Final Answer: 6\n\nThe answer is 5.",
    "The final answer is 6.\n\nFinal Answer: 5",
    "**Answer:** 6\n\nThe answer is 5.",
    "The answer is 6.\n#### 5",
])
def test_statement_and_final_answer_label_that_differ_are_a_hedge(prediction):
    assert _kind("5", prediction) == "hedged"


@pytest.mark.parametrize("gold, prediction", [
    ("5", "The answer is 6. Wait, no — the answer is 5."),
    ("5", "The answer is 6. Wait, no.\n\nFinal Answer: 5"),
    ("5", "The answer is 5.\n\nFinal Answer: 5"),
    ("5", "The answer is 5.\n\n**Final Answer**\n$5$"),
    ("42", "Final Answer: The final answer is $42$. I hope it is correct."),
    ("42", "The answer is 42. Let me verify that the answer is correct.\n\nFinal Answer: 42"),
    ("42", "I think the answer is straightforward.\n\nFinal Answer: 42"),
])
def test_statement_and_label_that_agree_or_correct_stay_right(gold, prediction):
    assert _kind(gold, prediction) == "equal"


def test_prose_under_the_label_stays_unparsable():
    assert _kind("5", "The answer is 5.\n\nFinal Answer: The value of x is 5.") == "unparsable"


# -- 3. a hedge in the sentence right before the final box ---------------------------------------

@pytest.mark.parametrize("gold, prediction", [
    ("5", "So the answer is 5 or maybe 6. \\boxed{5}"),
    ("3", "It is either 3 or 5. \\boxed{3}"),
    ("3", "It is either 3 or 5.\n\n$\\boxed{3}$"),
    ("3", "The answer is 3 or 5: \\boxed{3}"),
    ("2.5", "The answer is 2.5 or 3. \\boxed{2.5}"),
])
def test_two_values_stated_right_before_the_box_are_a_hedge(gold, prediction):
    assert _kind(gold, prediction) == "hedged"


@pytest.mark.parametrize("prediction", [
    "Either way, \\boxed{5}",
    "x is 3 or 5 before simplifying. Then we simplify.\n\nSo \\boxed{5}",
    "It is either 3 or 5. Checking, 3 fails. \\boxed{5}",
    "It is either 3 or 5. So \\boxed{5}",
    "Since x is 5 or 6 and x is odd, \\boxed{5}",
    "So the answer is 5. \\boxed{5}",
])
def test_working_before_the_box_stays_right(prediction):
    assert _kind("5", prediction) == "equal"


# -- 4. a prediction that is a number -------------------------------------------------------------

@pytest.mark.parametrize("prediction", [5, 5.0, Fraction(5), Decimal("5")])
def test_number_prediction_is_graded_as_its_text(prediction):
    assert verify("5", prediction).correct and verify("6", prediction).details["kind"] == "wrong"
    assert verify_batch([("5", prediction)])[0].correct


@pytest.mark.parametrize("prediction", [True, None, float("nan"), [5], b"5"])
def test_other_prediction_types_stay_unparsable_naming_them(prediction):
    v = verify("5", prediction)
    assert not v.correct and v.details["kind"] == "unparsable" and v.error is None
    assert type(prediction).__name__ in v.reason


# -- review of audit 37: regressions of rules 31 undone (same unreleased rules 31) -----------------

@pytest.mark.parametrize("gold, prediction", [
    # a check or conversion after the box: "then"/an interjection is no contrast, nor a subject no recount
    ("20", "\\boxed{20}\n\nVerification: 4 boxes of 3 pencils. Then multiplying gives 12. Then adding 8 more gives 20."),
    ("26", "\\boxed{26}\n\nLet me verify: Monday she read 12 pages. Then Tuesday gives 14. Total 12 + 14 = 26 ✓."),
    ("12", "\\boxed{12}\n\nTo double-check: 3 rows of 4 chairs. Then, counting the rows gives 3."),
    ("7", "\\boxed{7}\n\nSo each person gets 7. Then the total comes to 21."),
    ("7", "\\boxed{7}\n\nBut three times that gives 21."),
    ("10", "\\boxed{10}\n\nThen converting to cents gives 1000."),
    ("10", "\\boxed{10}\n\nHowever, in cents this comes to 1000."),
    ("12", "The answer is \\boxed{12}.\n\nWell, the perimeter then comes to 14."),
    # "Otherwise" after a sentence stating the condition it reverses
    ("5", "\\boxed{5}\n\nWe must exclude the teacher. Otherwise, the answer would be 6."),
    ("5", "\\boxed{5}\n\nNote that we do not count the teacher. Otherwise, the answer would be 6."),
    ("5", "\\boxed{5}\n\nWe assumed the teacher is not counted. Otherwise, it would be 6."),
    ("4", "Since x must be positive, \\boxed{4}.\n\nOtherwise, the answer would be -4."),
    ("5", "\\boxed{5}\n\nThe teacher is not a student; otherwise, the answer would be 6."),
    # a doubted value refused on the next line
    ("5", "\\boxed{5}\n\nHmm, 6?\nNo, 5 is correct because the teacher isn't a student."),
    ("5", "\\boxed{5}\n\nHmm, 6?\nNo."),
    ("5", "\\boxed{5}\n\nHmm, 6? No."),
    # a rounding of the box, a value in prose, a value set aside on the next line
    ("\\frac{1}{3}", "\\boxed{\\frac{1}{3}}\n\nIt might be 0.33."),
    ("5", "\\boxed{5}\n\nThat might be 1 of the reasons."),
    ("4", "\\boxed{4}\n\nNote that $x = -4$ also works.\nBut x > 0."),
])
def test_checks_conditions_and_refused_doubts_after_the_box_stay_right(gold, prediction):
    assert _kind(gold, prediction) == "equal"


@pytest.mark.parametrize("prediction", [
    "\\boxed{5}\n\nHowever, a more careful count gives 6.",
    "\\boxed{5}\n\nBut recounting gives 6.",
    "\\boxed{5}\n\nActually, the correct count comes to 6.",
    "\\boxed{5}\n\nOtherwise, the answer would be 6.",
    "\\boxed{5}\n\nThe answer is clear. Otherwise, the answer would be 6.",
    "\\boxed{5}\n\nHmm, 6?",
    "\\boxed{5}\n\nHmm, 6?\nMaybe.",
    "\\boxed{5}\n\nIt might be 0.5.",
    "\\boxed{5}\n\nNote that 3 also works.\nSo both are fine.",
])
def test_red_team_hedges_after_the_box_stay_hedged(prediction):
    assert _kind("5", prediction) == "hedged"


@pytest.mark.parametrize("prediction", [10**5000, Fraction(10**5000, 3), Decimal("sNaN")], ids=["int", "fraction", "snan"])
def test_number_prediction_without_text_is_unparsable_naming_why(prediction):
    v = verify("5", prediction)
    assert not v.correct and v.details["kind"] == "unparsable" and v.error is None
    assert type(prediction).__name__ in v.reason
    batch = verify_batch([("5", 5), ("5", prediction)])
    assert batch[0].correct and batch[1].details["kind"] == "unparsable"


@pytest.mark.parametrize("gold", [10**5000, Fraction(10**5000, 7), Decimal("sNaN")], ids=["int", "fraction", "snan"])
def test_number_gold_without_text_is_a_gold_error(gold):
    v = verify(gold, "5")
    assert not v.correct and v.details["kind"] == "error" and v.error is not None
    assert verify_batch([("5", "5"), (gold, "5")])[1].details["kind"] == "error"


def test_validate_gold_refuses_a_number_without_text_by_name():
    from rlvr.verifiers.math import GoldAnswerError, validate_gold

    with pytest.raises(GoldAnswerError, match="too large"):
        validate_gold(10**5000)
