"""Math verifier: written forms of answers (fraction commands, percent words, trailing text, sets, markup).

Each case here was scored the wrong way before: wrong answers scored right (`2\\dfrac{1}{2}` read as
2 * 1/2 = 1, `0.5 \\text{ percent}` as 0.5, `5 \\text{ thousand}` or `12 \\text{ is wrong}` dropped as a
unit for a gold 5 or 12) or right answers scored wrong (`\\mathbb{R}`, `\\emptyset`, `\\phantom`, colours,
`\\framebox`). The cases next to them guard what must not change (real units are still dropped).
"""

from __future__ import annotations

import time

import pytest

from rlvr.verifiers.math import extract_answer, validate_gold, verify
from rlvr.verifiers.math_normalize import normalize
from rlvr.verifiers.math_parse import parse

HANG_GUARD = 2.0  # seconds


def _check(gold: str, pred: str, correct: bool) -> None:
    v = verify(gold, pred)
    assert v.correct is correct and v.error is None, (gold, pred, v)


# -- 1. \dfrac, \tfrac, \cfrac are \frac everywhere, mixed numbers too ----------------------------

@pytest.mark.parametrize("gold,pred,correct", [
    ("1", "\\boxed{2\\dfrac{1}{2}}", False),              # was: 2 * 1/2 = 1, "equal as integers"
    ("1", "The answer is $2\\tfrac{1}{2}$.", False),
    ("\\frac52", "\\boxed{2\\dfrac{1}{2}}", True),
    ("\\frac{5}{2}", "\\boxed{2\\tfrac12}", True),
    ("-\\frac{13}{4}", "\\boxed{-3\\dfrac14}", True),
    ("\\frac{13}{4}", "\\boxed{3\\cfrac{1}{4}}", True),
    ("\\frac{13}{4}", "\\boxed{3\\cfrac[l]{1}{4}}", True),  # \cfrac's optional alignment
    ("2\\dfrac{1}{2}", "\\boxed{\\frac52}", True),           # on the gold side too
    ("2\\dfrac{1}{2}", "\\boxed{1}", False),
    ("-3\\tfrac{1}{4}", "-3.25", True),
])
def test_frac_variants_are_mixed_numbers_like_frac(gold, pred, correct):
    _check(gold, pred, correct)


@pytest.mark.parametrize("variant", ["dfrac", "tfrac", "cfrac"])
def test_frac_variants_parse_and_normalise_like_frac(variant):
    assert normalize(f"2\\{variant}{{1}}{{2}}") == "2\\frac{1}{2}"
    # the parser alone (for callers that skip normalisation) reads them as \frac too
    assert parse(f"-2\\{variant}{{1}}{{2}}") == parse("-2\\frac{1}{2}")


# -- 2. every way of writing a percent sign is one ------------------------------------------------

@pytest.mark.parametrize("gold,pred,correct", [
    ("0.5", "\\boxed{0.5 \\text{ percent}}", False),       # was: the word dropped as a unit, 0.5
    ("0.5", "\\boxed{0.5 percent}", False),
    ("0.5", "The answer is 0.5 percent.", False),
    ("0.5", "\\boxed{0.5 \\text{\\%}}", False),
    ("0.5", "\\boxed{0.5 \\mathrm{\\%}}", False),
    ("0.5", "\\boxed{0.5％}", False),
    ("0.005", "\\boxed{0.5 \\text{ percent}}", True),
    ("0.25", "\\boxed{25 \\text{ percent}}", True),
    ("0.25", "\\boxed{25 \\text{ per cent}}", True),
    ("0.25", "25 percent", True),
    ("0.25", "\\boxed{25\\text{\\%}}", True),
    ("0.25", "\\boxed{25\\text{ \\%}}", True),
    ("0.25", "\\boxed{25％}", True),                       # full-width
    ("0.25", "\\boxed{25٪}", True),                        # Arabic
    ("0.25", "\\boxed{25 \\text{ percent of the students}}", True),
    ("25", "\\boxed{25 \\text{ percent}}", True),           # p% = p for |p| >= 1, as for `25\\%`
    # on the gold side too: "50 percent" was the gold 50, now 50%, a plain number (its unit text drops)
    ("50 percent", "0.5", True), ("0.5 \\text{ percent}", "0.5", False),
    ("50 \\text{ percent}", "\\boxed{50\\% \\text{ of them}}", True),
])
def test_percent_words_and_signs_are_the_percent_sign(gold, pred, correct):
    _check(gold, pred, correct)


# -- 3. text after a number that changes the value or the claim is never dropped -------------------

@pytest.mark.parametrize("gold,pred", [
    # number words, magnitudes, fractions
    ("5", "\\boxed{5 \\text{ thousand}}"), ("5", "\\boxed{5\\text{ million}}"),
    ("5", "\\boxed{5 \\text{ hundredths}}"), ("3", "\\boxed{3 \\text{ halves}}"), ("12", "\\boxed{12 \\text{ dozen}}"),
    ("5", "\\boxed{5 \\text{ thousand dollars}}"), ("5", "\\boxed{5\\text{k}}"), ("5", "\\boxed{5\\,\\mathrm{k}}"),
    ("5", "\\boxed{5 \\text{ k}}"), ("5", "5 thousand"),
    # operations and comparisons
    ("5", "\\boxed{5 \\text{ squared}}"), ("5", "\\boxed{5 \\text{ less}}"), ("5", "\\boxed{5\\text{ negative}}"),
    ("5", "\\boxed{5 \\text{ more than the original}}"), ("\\frac{1}{2}", "\\boxed{\\frac{1}{2} \\text{ squared}}"),
    # negations, retractions, hedges, glued or not
    ("12", "\\boxed{12 \\text{ is wrong}}"), ("12", "\\boxed{12 \\text{ is incorrect}}"),
    ("12", "\\boxed{12 \\text{ nope}}"),
    ("12", "\\boxed{12 \\text{ Nope}}"), ("12", "\\boxed{12 \\text{ rather thirteen}}"),
    ("12", "\\boxed{12 \\text{ alternatively thirteen}}"), ("12", "\\boxed{12 \\text{ xor thirteen}}"),
    ("12", "\\boxed{12 \\text{ orthirteen}}"), ("12", "\\boxed{12 \\text{ / thirteen}}"),
    ("12", "\\boxed{12 \\text{ ornot}}"), ("12", "\\boxed{12 \\text{ wrongly}}"),
    ("12", "\\boxed{12 \\text{ actually}}"),
    # a remark after "the answer is" that takes the answer back stays part of it
    ("12", "The answer is 12 (wrong)."), ("12", "The answer is 12; no, that is wrong"),
    ("18", "The answer is 18 (just kidding)"), ("18", "The answer is 18; not really"),
])
def test_text_that_changes_the_value_or_the_claim_is_kept(gold, pred):
    _check(gold, pred, False)


@pytest.mark.parametrize("gold,pred", [
    # magnitude words multiply: the right value is right
    ("5000", "\\boxed{5 \\text{ thousand}}"), ("5000", "\\boxed{5\\text{k}}"),
    ("5000000", "\\boxed{5\\text{ million}}"),
    ("144", "12 dozen"), ("5000", "The answer is 5 thousand."), ("2500000", "\\$2.5 \\text{ million}"),
    # real units are still dropped (the documented conventions)
    ("12", "12 apples"), ("5", "5 cm"), ("3", "3 square units"), ("3", "\\boxed{3 \\text{ square units}}"),
    ("60", "60 miles per hour"), ("60", "\\boxed{60 \\text{ miles per hour}}"), ("5", "$5 dollars"),
    ("5", "\\$5 \\text{ dollars}"), ("300", "300 K"), ("300", "\\boxed{300 \\text{ K}}"),
    ("300", "\\boxed{300\\,\\mathrm{K}}"), ("12", "\\boxed{12 \\text{ sandwiches}}"),
    ("12", "\\boxed{12 \\text{ (sandwiches)}}"), ("12", "\\boxed{12 \\text{ per day}}"),
    ("12", "\\boxed{12 \\text{ times}}"), ("4", "\\boxed{4 \\text{ students in the class}}"),
    ("\\frac{3}{4}", "\\boxed{\\frac{3}{4} \\text{ of the cake}}"), ("20", "\\boxed{20 \\text{ km/h}}"),
    ("3", "\\boxed{3 \\text{ o'clock}}"), ("100", "\\boxed{100 \\text{ light-years}}"),
    ("7", "The answer is 7 (seven)."), ("7", "The answer is 7; I am confident."),
])
def test_units_and_magnitudes_after_a_number(gold, pred):
    _check(gold, pred, True)


def test_an_expression_gold_keeps_magnitude_words_too():
    _check("x+3", "\\boxed{x + 3 \\text{ thousand}}", False)
    _check("x+3000", "\\boxed{x + 3 \\text{ thousand}}", True)


# -- 4. common notations for sets, and markup that does not change the value -----------------------

@pytest.mark.parametrize("gold,pred", [
    ("(-\\infty, \\infty)", "\\boxed{\\mathbb{R}}"), ("(-\\infty, \\infty)", "\\boxed{\\text{all real numbers}}"),
    ("(-\\infty, \\infty)", "All real numbers."), ("(-\\infty, \\infty)", "ℝ"),
    ("(-\\infty, \\infty)", "x \\in \\mathbb{R}"),
    ("\\mathbb{R}", "\\boxed{(-\\infty, \\infty)}"), ("\\text{all real numbers}", "\\boxed{\\mathbb{R}}"),
    ("\\emptyset", "\\boxed{\\{\\}}"), ("\\emptyset", "\\boxed{\\varnothing}"), ("\\{\\}", "\\boxed{\\varnothing}"),
    ("\\varnothing", "\\emptyset"), ("\\emptyset", "∅"), ("\\emptyset", "\\text{the empty set}"),
])
def test_reals_and_the_empty_set(gold, pred):
    validate_gold(gold)  # was: "unknown command \\emptyset" for an \emptyset gold
    _check(gold, pred, True)


def test_the_reals_and_the_empty_set_are_not_other_answers():
    _check("(-\\infty, \\infty)", "\\boxed{\\emptyset}", False)
    _check("\\emptyset", "\\boxed{0}", False)
    _check("\\emptyset", "\\boxed{\\{0\\}}", False)
    _check("(0, \\infty)", "\\boxed{\\mathbb{R}}", False)
    assert normalize("\\mathbb{R}^2") == "\\mathbb{R}^2"  # a power of the reals is not the interval


@pytest.mark.parametrize("gold,pred", [
    ("12", "\\boxed{\\phantom{1}12}"), ("5", "\\boxed{\\phantom{-}5}"), ("5", "\\boxed{\\hphantom{{x}}5}"),
    ("12", "\\boxed{\\color{red}12}"), ("12", "\\boxed{{\\color{red} 12}}"), ("12", "\\boxed{\\textcolor{red}{12}}"),
    ("\\frac12", "\\boxed{\\colorbox{yellow}{\\frac12}}"), ("12", "\\boxed{\\color[rgb]{1,0,0}12}"),
    ("18", "\\framebox{18}"), ("18", "\\fbox{18}"), ("18", "\\framebox[2cm][c]{18}"),
    ("18", "So $\\framebox{18}$."),
    ("x + 1", "\\boxed{x\\hspace{1em}+ 1}"),
])
def test_markup_that_does_not_change_the_value(gold, pred):
    _check(gold, pred, True)


@pytest.mark.parametrize("gold,pred", [("12", "\\boxed{1\\hspace{1cm}2}"), ("1000", "\\boxed{1\\hspace{1cm}000}")])
def test_hspace_is_a_wide_space_that_never_joins_digits(gold, pred):
    v = verify(gold, pred)
    assert not v.correct and v.details["kind"] == "unparsable", v


def test_framebox_boxes_count_for_hedging():
    v = verify("18", "\\framebox{17} or \\boxed{18}")
    assert not v.correct and v.details["kind"] == "hedged", v


@pytest.mark.parametrize("text", [
    "\\boxed(" * 40_000 + "5",     # bare boxes without a space: each scanned to the end (42 s)
    "\\framebox[" * 40_000 + "5",
    "\\framebox" + "[ab]" * 40_000 + "{5}",
    "\\boxed{" + "\\phantom{" * 300 + "1}",
    "\\boxed{" + "\\color{" * 300 + "1}",
    "\\boxed{" + "\\textcolor{red}{" * 200 + "1" + "}" * 201,
])
def test_new_forms_stay_fast_on_hostile_text(text):
    start = time.perf_counter()
    extract_answer(text)
    normalize(text)
    v = verify("1", text)
    assert v.error is None
    assert time.perf_counter() - start < HANG_GUARD
