"""Audit 32: a gold equation with an unknown is no value, a chain's labels are not its value."""

import pytest

from rlvr.verifiers.math import verify


def _verdict(gold, prediction):
    v = verify(gold, prediction)
    assert v.error is None, v
    return v.correct, v.details["kind"]


@pytest.mark.parametrize("gold, prediction, right", [
    ("7", "\\boxed{x^2 + \\frac{1}{x^2} = 7}", True), ("7", "\\boxed{2x + 1 = 7}", True), ("9", "\\boxed{BC^2 = 9}", True),
    ("5", "\\boxed{|z| = 5}", True), ("1", "\\boxed{x^2 + y^2 = 1}", True),
    # never read as solved for its unknown: `x + 1 = 3` is 3, not 2; `-x = 3` is 3, not -3
    ("2", "\\boxed{x + 1 = 3}", False), ("-3", "\\boxed{-x = 3}", False),
])
def test_an_answer_equation_gives_the_value_of_its_left_side(gold, prediction, right):
    """A question may ask for the value of an expression (`x^2 + 1/x^2`), which an answer states as an
    equation; a first version of this audit's fix scored such answers wrong."""
    assert _verdict(gold, prediction) == (right, "equal" if right else "wrong")


def test_a_value_gold_met_by_an_equation_gold_is_wrong():
    assert _verdict("x^2 + y^2 = 1", "\\boxed{1}") == (False, "wrong")


@pytest.mark.parametrize("gold, prediction", [
    ("3", "\\boxed{3 = x}"),  # was x, a different expression
    ("5", "\\boxed{2 + 3 = 5}"), ("5", "\\boxed{x = 2 + 3 = 5}"), ("5", "\\boxed{AB = BC = 5}"), ("18", "\\boxed{[ABC] = 18}"),
    ("7", "\\boxed{m + n = 7}"), ("6", "\\boxed{xy = 6}"), ("5", "\\boxed{f(2) = 5}"), ("2", "\\boxed{f^{-1}(3) = 2}"),
    ("3", "\\boxed{f'(2) = 3}"), ("\\frac35", "\\boxed{\\cos A = \\frac35}"), ("3", "\\boxed{x \\cdot 1 = 3}"),
    ("2x+3", "\\boxed{f(x) = 2x + 3}"), ("2x", "\\boxed{\\frac{dy}{dx} = 2x}"),
])
def test_a_chain_of_values_and_labels_is_its_value(gold, prediction):
    assert _verdict(gold, prediction) == (True, "equal")


def test_equation_golds_still_compare_as_equations():
    assert _verdict("y = 2x + 3", "\\boxed{y = 2x + 3}")[0]
    assert _verdict("y = 2x + 3", "\\boxed{2x - y + 3 = 0}")[0]
    assert not _verdict("y = 2x + 3", "\\boxed{y = 2x + 4}")[0]


@pytest.mark.parametrize("gold, prediction", [
    ("\\sqrt{x-3}", "\\boxed{\\sqrt{x+3}}"), ("\\ln(x-40)", "\\boxed{\\ln(x-41)}"),
    ("\\sqrt{x-3}\\sqrt{x+3}", "\\boxed{\\sqrt{x^2-10}}"), ("\\sqrt{x-40}\\sqrt{x-50}", "\\boxed{\\sqrt{(x-40)(x-50)} + 1}"),
    ("\\sqrt{40-x}\\sqrt{x-39}", "\\boxed{\\sqrt{(40-x)(x-39)} + 10^{-5}}"), ("\\ln(x-1000)", "\\boxed{\\ln(x-1000.5)}"),
    ("\\sqrt{x-40}\\sqrt{y-40}", "\\boxed{\\sqrt{(x-40)(y-41)}}"), ("\\ln(x-40)", "\\boxed{\\ln|x-40|}"),
    ("\\sqrt{x-40}", "\\boxed{\\sqrt{x-40} + e^{-x}}"),  # about 1e-18 near 40: too small for a 1e-12 tolerance
])
def test_different_expressions_on_a_shifted_domain_stay_different(gold, prediction):
    assert _verdict(gold, prediction) == (False, "wrong")


@pytest.mark.parametrize("gold, prediction, right", [
    ("|z| = 5", "\\boxed{5}", True), ("|AB| = 5", "\\boxed{5}", True),  # the absolute value of a label names a value
    ("e", "\\boxed{(1 + \\frac{1}{n})^n = e}", True),  # Euler's number alone is a value, not a letter
    ("12", "\\boxed{\\text{Area} = 12}", True), ("3", "\\boxed{|x| = 3}", True),
])
def test_labels_a_review_found_misread(gold, prediction, right):
    assert _verdict(gold, prediction)[0] is right
