"""Math verifier defects found by the 26th red-team review (rules version 11).

1. `\\sin^{-1} x` (and `^-1` on any trigonometric or hyperbolic name) is the inverse function, not
   1/sin x: the right `\\arcsin` answer scored 0, a wrong `\\csc` one 1.
2. A hedge after the last box is seen in brackets (`\\boxed{5} (or 4)`), after a dash, `;` or LaTeX
   spacing, as "maybe 4", as a choice letter (`\\boxed{B} or C`) or in number words (`or four`),
   while "or so" and restatements of the same value stay no hedge.
3. A gold boxing several different answers is a gold error, not its last box.
4. Placeholder golds (`nan`, `N/A`, `TBD`, `null`) are gold errors; "None" stays an answer.
5. `d.dd \\times 10^{k}` rounds as `d.dde{k}` (3 significant digits); left of the point (tens and
   more) only for an irrational gold, never for an exact one (see the review's section below).
6. A whole answer in number words is its number; `####` lines that disagree (with each other or
   with "the answer is") are a hedge; golds that divide by zero are gold errors.
"""
from __future__ import annotations

import pytest

from rlvr.verifiers.math import RULES_VERSION, GoldAnswerError, validate_gold, verify


def test_rules_version_is_11_or_later():
    assert RULES_VERSION >= 11


# -- 1. inverse trigonometric functions --------------------------------------------------------

@pytest.mark.parametrize("gold, text", [
    ("\\arcsin x", "\\boxed{\\sin^{-1} x}"),
    ("\\arctan 2", "\\boxed{\\tan^{-1}(2)}"),
    ("\\arctan 2", "\\boxed{\\tan^-1 2}"),
    ("\\arccos(1/2)", "\\boxed{\\cos^{-1}(0.5)}"),
    ("\\sin^2 x", "\\boxed{\\sin^2 x}"),
    ("\\csc x", "\\boxed{(\\sin x)^{-1}}"),
    ("\\frac{1}{\\sin^2 x}", "\\boxed{\\sin^{-2} x}"),
])
def test_a_power_minus_one_on_a_function_name_is_its_inverse(gold, text):
    assert verify(gold, text).correct


@pytest.mark.parametrize("gold, text", [
    ("\\csc x", "\\boxed{\\sin^{-1} x}"),
    ("\\cot x", "\\boxed{\\tan^{-1} x}"),
    ("\\frac{1}{\\sinh x}", "\\boxed{\\sinh^{-1} x}"),
])
def test_the_inverse_function_is_not_the_reciprocal(gold, text):
    assert not verify(gold, text).correct


# -- 2. hedges after the last box --------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "\\boxed{5} (or 4)", "\\boxed{5} [or 4]", "\\boxed{5} (OR 4)", "\\boxed{5} (maybe 4)",
    "\\boxed{5} (possibly 4)", "\\boxed{5} \\quad or \\quad 4", "\\boxed{5} \u2014 or 4", "\\boxed{5}; or 4",
    "$\\boxed{5}$ or $x=4$", "\\boxed{5} or four", "\\boxed{5} or twenty-five", "\\boxed{5}\\,or\\, 4",
])
def test_a_different_value_offered_after_the_box_is_a_hedge(text):
    v = verify("5", text)
    assert not v.correct and v.details["kind"] == "hedged", v


@pytest.mark.parametrize("text", ["\\boxed{B} or C", "\\boxed{B} (or C)"])
def test_another_choice_letter_after_a_boxed_choice_is_a_hedge(text):
    v = verify("B", text)
    assert not v.correct and v.details["kind"] == "hedged", v


@pytest.mark.parametrize("text", [
    "\\boxed{5} or so", "\\boxed{5} or more precisely 5.0", "\\boxed{5} or, in words, five",
    "\\boxed{5} (or 5.0)", "\\boxed{5} or five", "\\boxed{5} or $n = 5$", "\\boxed{5} or maybe",
    "\\boxed{5} or A", "\\boxed{5} (or \\frac{10}{2})",
])
def test_no_different_value_after_the_box_is_no_hedge(text):
    assert verify("5", text).correct


# -- 3, 4, 6c. golds that cannot be graded -----------------------------------------------------

SEVERAL_BOXES = "Solving, $x = \\boxed{-2}$ or $x = \\boxed{3}$."


def test_a_gold_boxing_several_different_answers_is_refused():
    with pytest.raises(GoldAnswerError, match="several different answers"):
        validate_gold(SEVERAL_BOXES)
    for text in ("So $x = \\boxed{-2}$ or $x = \\boxed{3}$.", "\\boxed{3}"):
        v = verify(SEVERAL_BOXES, text)
        assert not v.correct and v.details["kind"] == "error" and v.error is not None, v


def test_a_gold_boxing_one_answer_twice_is_still_graded():
    gold = "So $x = \\boxed{3}$, and checking, $\\boxed{3}$ works."
    assert validate_gold(gold) == "3"
    assert verify(gold, "\\boxed{3}").correct


@pytest.mark.parametrize("gold", ["nan", "NaN", "null", "TBD", "N/A", "n/a", "\\text{N/A}"])
def test_a_placeholder_gold_is_refused(gold):
    with pytest.raises(GoldAnswerError, match="missing value"):
        validate_gold(gold)
    v = verify(gold, "\\boxed{5}")
    assert v.details["kind"] == "error" and v.error is not None, v


def test_none_stays_a_gold_answer():
    assert validate_gold("None") == "None"
    assert verify("None", "\\boxed{None}").correct


@pytest.mark.parametrize("gold", ["1/0", "0/0", "\\frac{1}{0}", "(1, 1/0)"])
def test_a_gold_dividing_by_zero_is_refused(gold):
    with pytest.raises(GoldAnswerError, match="divides by zero"):
        validate_gold(gold)
    assert verify(gold, "\\boxed{5}").details["kind"] == "error"


def test_a_clock_time_gold_is_no_division_by_zero():
    assert verify("3:00", "\\boxed{3:00}").correct


# -- 5. scientific notation as a rounding ------------------------------------------------------

@pytest.mark.parametrize("gold, text", [
    ("\\frac{1}{3000}", "\\boxed{3.33e-4}"),
    ("\\frac{1}{3000}", "\\boxed{3.33 \\times 10^{-4}}"),
    ("1000\\pi", "\\boxed{3.14e3}"),
    ("1000\\pi", "\\boxed{3.14 \\times 10^3}"),
    ("2000\\pi", "\\boxed{6.28e3}"),
    ("-1000\\pi", "\\boxed{-3.14 \\times 10^3}"),
    ("-\\frac{1}{3000}", "\\boxed{-3.33 \\times 10^{-4}}"),
])
def test_scientific_notation_rounds_to_significant_digits_either_way_it_is_written(gold, text):
    v = verify(gold, text)
    assert v.correct, v


@pytest.mark.parametrize("gold, text", [
    ("\\frac{20000}{3}", "\\boxed{6.7e3}"),  # two significant digits: too coarse
    ("\\frac{1}{3000}", "\\boxed{3.3 \\times 10^{-4}}"),
    ("6000", "\\boxed{6.01 \\times 10^3}"),  # an exact gold with so few places must match exactly
    ("\\frac{20000}{3}", "\\boxed{6.68e3}"),  # a wrong rounding
])
def test_a_coarse_or_wrong_rounding_is_still_wrong(gold, text):
    assert not verify(gold, text).correct


def test_a_gold_in_scientific_notation_is_exact_as_written():
    assert not verify("3.33 \\times 10^{-4}", "\\boxed{\\frac{1}{3000}}").correct


# -- 6a, 6b. number words, disagreeing final-answer lines --------------------------------------

@pytest.mark.parametrize("gold, text", [
    ("5", "The answer is five."), ("25", "The answer is twenty-five."), ("5", "\\boxed{\\text{five}}"),
    ("five", "The answer is five."),
])
def test_a_whole_answer_in_number_words_is_its_number(gold, text):
    assert verify(gold, text).correct


@pytest.mark.parametrize("gold, text", [
    ("6", "The answer is 5.\n#### 6"), ("5", "The answer is 5.\n#### 6"), ("6", "#### 5\n#### 6"),
])
def test_final_answer_lines_that_disagree_are_a_hedge(gold, text):
    v = verify(gold, text)
    assert not v.correct and v.details["kind"] == "hedged", v


@pytest.mark.parametrize("text", [
    "The answer is 6.\n#### 6", "#### 6\n#### 6", "The answer is: 6 dollars.\n#### 6",
    "The answer to part one is 3, so 3 + 3 = 6.\n#### 6", "#### The answer is 6",
])
def test_final_answer_lines_that_agree_are_no_hedge(text):
    assert verify("6", text).correct


@pytest.mark.parametrize("text", ["I think the answer is straightforward.\n#### 6",
                                  "The answer is simple to check.\n\n#### 6"])
def test_a_gsm_line_after_a_remark_about_the_answer_is_read(text):
    """A "the answer is" that only remarks on the answer made the whole output unparsable, though
    a `####` line gave the answer."""
    assert verify("6", text).correct
    assert not verify("5", text).correct


def test_a_remark_without_a_gsm_line_is_still_no_answer():
    assert not verify("6", "I think the answer is straightforward.").correct


# -- review of rules 11 ------------------------------------------------------------------------
# Regressions a review found in the first cut of rules 11, each narrowed back toward rules 10.

@pytest.mark.parametrize("gold, text", [
    ("123456", "\\boxed{1.23 \\times 10^5}"), ("123456", "\\boxed{1.23e5}"),
    ("299792458", "\\boxed{3.00 \\times 10^8}"), ("2016", "\\boxed{202 \\times 10^1}"),
    ("18750", "#### 1.88e4"), ("\\frac{20000}{3}", "\\boxed{6.67e3}"),
    ("\\frac{20000}{3}", "\\boxed{6.67 \\cdot 10^3}"), ("-\\frac{20000}{3}", "\\boxed{-6.67e3}"),
])
def test_an_exact_gold_is_not_rounded_left_of_the_point(gold, text):
    """A reward hack: any whole number accepted its first three digits in scientific notation."""
    assert not verify(gold, text).correct


def test_a_whole_answer_in_full_scientific_notation_is_still_right():
    assert verify("123456", "\\boxed{1.23456 \\times 10^5}").correct


@pytest.mark.parametrize("gold, text", [
    ("7", "$\\boxed{7}$, perhaps one of the roots"), ("7", "\\boxed{7} or one of its multiples"),
    ("\\frac{1}{2}", "\\boxed{\\frac{1}{2}} or one half"), ("\\frac{1}{2}", "\\boxed{0.5} (or one half)"),
    ("\\frac34", "\\boxed{\\frac34} (or three quarters)"), ("12", "\\boxed{12} \u2014 or one dozen"),
    ("2", "\\boxed{2} (or one more than 1)"),
])
def test_number_words_that_begin_a_phrase_are_no_second_answer(gold, text):
    assert verify(gold, text).correct


@pytest.mark.parametrize("gold, text", [("10", "\\boxed{10} (or \\$10)"), ("20", "\\boxed{\\$20} (or \\$20.00)")])
def test_an_escaped_dollar_after_the_box_is_read_as_a_value(gold, text):
    assert verify(gold, text).correct


@pytest.mark.parametrize("text", ["\\boxed{10} or \\$12", "\\boxed{10} (or \\$12)"])
def test_a_different_amount_in_dollars_after_the_box_is_a_hedge(text):
    v = verify("10", text)
    assert not v.correct and v.details["kind"] == "hedged", v


@pytest.mark.parametrize("gold, text", [
    ("\\frac{\\pi}{3}", "\\boxed{\\frac{\\pi}{3}} (or 60^\\circ)"),
    ("60", "\\boxed{60^\\circ} (or \\frac{\\pi}{3} radians)"),
    ("30", "\\boxed{30\\%} (or 0.3)"), ("\\frac13", "$\\boxed{\\frac13}$ (or $0.33$)"),
    ("5", "\\boxed{5} (or five)"),
])
def test_a_restatement_in_brackets_is_no_hedge(gold, text):
    assert verify(gold, text).correct


@pytest.mark.parametrize("gold", [
    "$\\boxed{\\dfrac{1}{2}}$ and finally $\\boxed{\\frac12}$", "$x=\\boxed{3}$ ... $\\boxed{x=3}$",
    "$\\boxed{(A)}$ ... $\\boxed{A}$", "\\boxed{50\\%} ... \\boxed{50}",
])
def test_a_gold_boxing_one_answer_written_two_ways_is_accepted(gold):
    validate_gold(gold)


def test_a_gold_boxing_one_answer_twice_grades_its_last_box():
    gold = "$\\boxed{\\dfrac{1}{2}}$ and finally $\\boxed{\\frac12}$"
    assert verify(gold, "\\boxed{0.5}").correct
    assert not verify(gold, "\\boxed{2}").correct


@pytest.mark.parametrize("text", ["The answer is:\n#### 6", "So the answer is #### 6",
                                  "**The answer is:**\n#### 6"])
def test_a_gsm_mark_after_the_answer_is_is_no_part_of_the_answer(text):
    assert verify("6", text).correct
    assert not verify("5", text).correct
