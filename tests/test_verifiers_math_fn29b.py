"""False negatives of the math verifier (red team 29): a sentence after "Final Answer", a said
answer restated as arithmetic in brackets, an Oxford-comma list, a label left of the final `=`.
Each fix is checked with the wrong answers it must keep wrong."""

from __future__ import annotations

import pytest

from rlvr.verifiers.math import verify
from rlvr.verifiers.math_extract import extract_answer
from rlvr.verifiers.math_parse import ParseError, parse


def _kind(gold: str, prediction: str) -> str:
    return verify(gold, prediction).details["kind"]


@pytest.mark.parametrize("gold, prediction", [
    ("18", "**Final Answer:** Janet makes $18 every day."),
    ("18", "### Final Answer\nJanet makes **$18** per day."),
    ("5", "Final Answer: The value of x is 5."),
    ("12", "**Final Answer:** There are 12 apples."),
    ("5", "Final Answer: She needs 5 more apples."),
    ("5", "Final Answer: It takes 5 hours and 20 minutes."),
    # what reading the value a sentence names scored right (a review of rules version 16's draft)
    ("12", "Final Answer: It cannot be 12."),
    ("12", "Final Answer: Twice the number is 12."),
    ("12", "Final Answer: The number squared equals 12."),
    ("12", "Final Answer: The temperature is minus 12."),
    ("12", "Final Answer: It is 12 plus tax."),
    ("12", "Final Answer: Each ticket costs $12 for a total of $48."),
    ("12", "Final Answer: Janet has 12 apples, which she doubles to get 24."),
])
def test_a_final_answer_sentence_is_no_answer_never_a_product_of_its_words(gold, prediction):
    """Before: its words were read as a product of letters (J·a·n·e·t · 18), scored wrong."""
    verdict = verify(gold, prediction)
    assert not verdict.correct and verdict.details["kind"] == "unparsable"
    assert "no final answer" in verdict.reason


def test_an_unreadable_final_sentence_does_not_fall_back_to_an_earlier_answer():
    text = "The answer is 5. Final Answer: Janet makes 6 dollars and 50 cents."
    assert extract_answer(text) is None
    assert _kind("5", text) == "unparsable"


def test_a_final_answer_that_is_maths_is_read_as_before():
    assert verify("18", "**Final Answer:** $18$").correct
    assert verify("5", "Final Answer: x = 5").correct
    assert verify("12", "Final Answer: The final answer is $12$. I hope it is correct.").correct


def test_the_answer_is_a_sentence_is_not_reread():
    # only "Final Answer"/"Answer:" introduce a sentence; "the answer is …" is read as before
    assert not verify("12", "The answer is there are 12 apples.").correct


@pytest.mark.parametrize("gold, prediction", [
    ("12", "The answer is 12 (3 × 4)."),
    ("18", "The answer is 18 (9 \\times 2)."),
    ("12", "The answer is 12 (4+8)."),
    ("12", "The answer is 12 (i.e., 3 × 4)."),
    ("12", "The answer is 12 (= 3 × 4)."),
    ("18", "\\boxed{18}\n\nThe answer is 18 (9 × 2)."),
    ("0.75", "\\boxed{0.75}\n\nThe answer is 0.75 (3/4)."),
])
def test_said_answer_restated_as_arithmetic_is_not_a_product(gold, prediction):
    assert verify(gold, prediction).correct


@pytest.mark.parametrize("gold, prediction, kind", [
    ("12", "The answer is 12 (3 × 5).", "hedged"),
    ("12", "The answer is 12 (i.e., 3 × 5).", "hedged"),
    ("18", "\\boxed{18}\n\nThe answer is 18 (9 × 3).", "hedged"),
    ("0.75", "\\boxed{0.75}\n\nThe answer is 0.75 (3/5).", "hedged"),
    ("12", "\\boxed{12 (3 \\times 4)}", "wrong"),  # in a box it is still the product 144
])
def test_disagreeing_restatement_stays_as_documented(gold, prediction, kind):
    assert _kind(gold, prediction) == kind


def test_arithmetic_glued_to_the_answer_is_a_product():
    assert verify("14", "The answer is 2(3+4).").correct


@pytest.mark.parametrize("gold, prediction", [
    ("-1, 2, 3", "The answer is -1, 2, and 3."),
    ("-1, 2, 3", "\\boxed{-1, 2, \\text{ and } 3}"),
    ("-1, 2, 3", "The answer is $-1$, $2$, and $3$."),
    ("1, 2, 3", "\\boxed{1, 2, or 3}"),
])
def test_comma_and_is_one_separator(gold, prediction):
    assert verify(gold, prediction).correct


@pytest.mark.parametrize("prediction", ["x = 5 or 6", "\\boxed{x = 5, or 6}", "The answer is 5, or 6.",
                                        "\\boxed{1, 5, or 6}"])
def test_comma_or_stays_a_hedge(prediction):
    assert _kind("5", prediction) == "hedged"


def test_comma_and_parses_as_the_plain_list():
    assert parse("-1, 2, and 3")[1] == parse("-1, 2, 3")[1]
    assert "or" in parse("1, 2, or 3")[2]


@pytest.mark.parametrize("gold, prediction", [
    ("90^\\circ", "\\boxed{\\angle ABC = 90^\\circ}"),
    ("\\frac72", "\\boxed{E[X] = \\frac{7}{2}}"),
    ("18", "\\boxed{[ABC] = 18}"),
    ("\\frac14", "\\boxed{\\Pr(\\text{red}) = \\frac14}"),
])
def test_label_left_of_final_equals_is_read(gold, prediction):
    assert verify(gold, prediction).correct


@pytest.mark.parametrize("text", ["[A_1B] = 18", "E[X_1] = 18", "\\angle A + 2 = 18", "[ABC] = 18 = 20",
                                  "[ABC] < 18", "[ABC] = "])
def test_label_with_digits_operators_or_another_relation_is_not_dropped(text):
    with pytest.raises(ParseError):
        parse(text)


def test_relabelled_answer_keeps_assignment_rules():
    assert _kind("x = 5", "\\boxed{E[X] = 6}") == "wrong"
    assert verify("5", "\\boxed{x = 5}").correct
    assert _kind("y = 5", "\\boxed{x = 5}") == "wrong"
