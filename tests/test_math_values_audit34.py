"""Audit 34 (rules 29, values): currency signs as units, primes between digits, tiny non-polynomial
differences, value-changing words after a number, and answer forms read as their value."""

import pytest

from rlvr.verifiers.math import verify
from rlvr.verifiers.math_units import answer_unit, read_unit, units_differ


def _verdict(gold, prediction):
    v = verify(gold, prediction)
    assert v.error is None, v
    return v.correct


# -- 1. a leading currency sign is a unit ------------------------------------------------------

@pytest.mark.parametrize("gold, prediction", [
    ("\\$5", "\\boxed{5 \\text{ cents}}"), ("\\$5", "The answer is 5 cents."), ("\\$5", "\\boxed{5 \\text{ euros}}"),
    ("\\$5", "\\boxed{5\\text{ yen}}"), ("5\\text{ cents}", "\\boxed{\\$5}"), ("\\$32,348", "\\boxed{32,348 \\text{ cents}}"),
    ("\\$5", "\\boxed{€5}"), ("£5", "\\boxed{\\$5}"), ("5 \\text{ cm}", "\\boxed{\\$5}"),
])
def test_a_currency_sign_against_another_unit_is_wrong(gold, prediction):
    v = verify(gold, prediction)
    assert v.correct is False and v.reason.startswith("different units"), v


@pytest.mark.parametrize("gold, prediction", [
    ("\\$5", "\\boxed{5}"), ("5", "\\boxed{\\$5}"), ("\\$5", "\\boxed{5 \\text{ dollars}}"), ("\\$5", "The answer is $5."),
    ("\\$5", "\\boxed{\\$5}"), ("\\$5", "\\boxed{USD 5}"), ("\\$-5", "\\boxed{-\\$5}"), ("5\\text{ dollars}", "\\boxed{\\$5}"),
    ("€5", "\\boxed{5 \\text{ euros}}"), ("£5", "\\boxed{5 \\text{ pounds}}"),
    # a rate's unit is often left out, on either side; words that are no unit are not judged
    ("\\$5", "\\boxed{\\$5 \\text{ per hour}}"), ("\\$5", "\\boxed{5 \\text{ dollars per hour}}"),
    ("\\$1.50", "\\boxed{1.50 \\text{ dollars per pound}}"), ("\\$5", "\\boxed{5 \\text{ apples}}"),
    # `$5$` is maths, not money
    ("$5$", "\\boxed{5 \\text{ cents}}"),
])
def test_a_currency_sign_with_the_same_unit_or_none_stays_right(gold, prediction):
    assert _verdict(gold, prediction) is True


def test_answer_unit_reads_signs_only_before_a_bare_number():
    assert answer_unit("\\$5")[1] == read_unit("dollars")
    assert answer_unit("€ 2.50")[1] == read_unit("euros")
    assert answer_unit("$5$") is None and answer_unit("5") is None
    assert answer_unit("\\$5 \\text{ each}") is None
    assert answer_unit("5 \\text{ cm}")[1] == read_unit("cm")
    dollars, per_hour = answer_unit("\\$5"), answer_unit("5 \\text{ dollars per hour}")
    assert not units_differ(dollars, per_hour) and units_differ(dollars, answer_unit("5 \\text{ cents}"))
    # two written units still differ when one is a rate of the other
    assert units_differ(answer_unit("5 \\text{ dollars}"), per_hour)


# -- 2. a prime between digits is no product ---------------------------------------------------

@pytest.mark.parametrize("gold, prediction", [
    ("1000", "\\boxed{2'500}"), ("1000", "The answer is 2'500."), ("10", "\\boxed{2'5}"), ("30", "\\boxed{5'6''}"),
    ("23", "\\boxed{2^\\circ 3'}"), ("2500", "\\boxed{2'500}"), ("1815", "\\boxed{30^\\circ 15'}"),
])
def test_a_prime_between_numbers_is_unparsable(gold, prediction):
    v = verify(gold, prediction)
    assert v.correct is False and v.details["kind"] == "unparsable", v


@pytest.mark.parametrize("gold, prediction", [
    ("2x", "f'(x) = 2x"), ("f'(x)", "\\boxed{f'(x)}"), ("y''", "\\boxed{y''}"), ("x'", "\\boxed{x'}"),
    ("30", "\\boxed{30^\\circ}"), ("5", "\\boxed{5'}"),
])
def test_primes_that_are_no_digit_separator_stay(gold, prediction):
    assert _verdict(gold, prediction) is True


# -- 3. tiny differences that are no polynomial ------------------------------------------------

@pytest.mark.parametrize("gold, prediction", [
    ("x", "x + 10^{-14} \\sin x"), ("\\sin x", "\\sin(x + 10^{-14})"), ("e^x", "e^{x + 10^{-14}}"),
    ("\\sin x", "(1 + 10^{-15})\\sin x"), ("\\sqrt{x}", "\\sqrt{x + 10^{-14}}"), ("x", "x + 10^{-14}"),
    ("\\ln x", "\\ln(x + 10^{-20})"),
])
def test_a_tiny_exact_difference_is_wrong(gold, prediction):
    assert _verdict(gold, prediction) is False


@pytest.mark.parametrize("gold, prediction", [
    ("\\sin^2 x + \\cos^2 x", "1"), ("\\cos^2 x", "1 - \\sin^2 x"), ("x + 1", "x + \\sin^2 x + \\cos^2 x"),
    ("2\\ln x", "\\ln(x^2)"), ("x", "x\\cosh^2 x - x\\sinh^2 x"),
    ("\\sin 2x", "2\\sin x\\cos x"), ("\\tan x", "\\frac{\\sin x}{\\cos x}"), ("x^2", "e^{2\\ln x}"),
    ("\\sqrt{x^2+x}", "\\sqrt{x}\\sqrt{x+1}"), ("3 + \\log_2 x", "\\log_2(8x)"), ("\\cos 2x", "1 - 2\\sin^2 x"),
    ("e^{x+y}", "e^x e^y"), ("\\frac{\\pi}{2} + x", "\\arcsin x + \\arccos x + x"),
    ("\\lfloor x \\rfloor + 1", "\\lfloor x + 1 \\rfloor"),
    # decimals are roundings: the precise check is not asked
    ("\\frac{x}{3}", "0.3333333333333333x"), ("\\sin x", "0.99999999999999999\\sin x"),
])
def test_true_identities_and_roundings_stay_right(gold, prediction):
    assert _verdict(gold, prediction) is True


# -- 4. words that change the value ------------------------------------------------------------

@pytest.mark.parametrize("gold, prediction", [
    ("0.3", "\\boxed{0.3 \\text{ recurring}}"), ("0.12", "\\boxed{0.12 \\text{ repeating}}"),
    ("10", "\\boxed{10 \\text{ (binary)}}"), ("10", "\\boxed{10 \\text{ in octal}}"), ("2", "\\boxed{2 \\text{ per mille}}"),
    ("10", "\\boxed{10 \\text{ hexadecimal}}"), ("\\frac{4}{33}", "\\boxed{0.12 \\text{ repeating}}"),
])
def test_value_changing_words_are_not_dropped(gold, prediction):
    assert _verdict(gold, prediction) is False


@pytest.mark.parametrize("gold, prediction", [
    ("\\frac13", "\\boxed{0.3 \\text{ recurring}}"), ("\\frac16", "The answer is 0.1666 recurring."),
    ("\\frac13", "\\boxed{0.333 \\text{ repeating}}"), ("12", "\\boxed{12 \\text{ apples}}"),
])
def test_a_recurring_digit_is_read(gold, prediction):
    assert _verdict(gold, prediction) is True


# -- 5. answer forms read as their value -------------------------------------------------------

@pytest.mark.parametrize("gold, prediction, right", [
    ("60", "So $213_8 - 142_7 = \\boxed{60_{10}}$.", True), ("5", "\\boxed{5_{10}}", True), ("5", "\\boxed{5_{ten}}", True),
    ("5", "\\boxed{5_8}", False), ("5_8", "\\boxed{5_8}", True), ("5_8", "\\boxed{5}", False), ("12_3", "\\boxed{12_{3}}", True),
    ("5", "\\boxed{{\\bf 5}}", True), ("5", "\\boxed{\\large 5}", True), ("5", "\\boxed{\\textsf{5}}", True),
    ("5", "\\boxed{\\ensuremath{5}}", True), ("5", "\\boxed{\\texttt{5}}", True), ("x", "\\boxed{{\\it x}}", True),
    ("\\frac19", "\\boxed{0.\\dot{1}}", True), ("\\frac16", "\\boxed{0.1\\dot{6}}", True),
    ("\\frac17", "\\boxed{0.\\dot{1}4285\\dot{7}}", True), ("\\frac{4}{33}", "\\boxed{0.\\dot{1}\\dot{2}}", True),
    ("\\frac19", "\\boxed{0.1}", False),
    ("[-2,7]", "\\boxed{[-2,5]\\cup[5,7]}", True), ("[-2,7]", "\\boxed{[-2,5)\\cup[5,7]}", True),
    ("[-2,7]", "\\boxed{[-2,5)\\cup(5,7]}", False), ("[1,4]", "\\boxed{[1,3]\\cup[2,4]}", True),
    ("(-\\infty,2)\\cup(2,\\infty)", "\\boxed{(2,\\infty)\\cup(-\\infty,2)}", True),
    ("(-\\infty,\\infty)", "\\boxed{(-\\infty,2]\\cup[2,\\infty)}", True), ("[-2,7)", "\\boxed{[-2,5]\\cup[5,7]}", False),
])
def test_answer_forms_read_as_their_value(gold, prediction, right):
    assert _verdict(gold, prediction) is right


def test_a_union_against_an_interval_says_so():
    v = verify("[-2,7]", "\\boxed{[-2,5)\\cup(5,7]}")
    assert v.correct is False and "union" in v.reason, v


def test_a_reason_names_no_parser_node():
    v = verify("13", "\\boxed{(12, 1) + 1}")
    assert "'seq'" not in v.reason, v
