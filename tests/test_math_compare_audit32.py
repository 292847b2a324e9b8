"""Audit 32: a gold equation with an unknown is no value, a chain's labels are not its value, root/log identities on a shifted real domain, and
decimals compared to every digit they write."""

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
    ("\\sqrt{x-3}\\sqrt{x+3}", "\\boxed{\\sqrt{x^2-9}}"), ("\\ln(x-3)+\\ln(x+3)", "\\boxed{\\ln(x^2-9)}"),
    ("\\sqrt{x}\\sqrt{x-5}", "\\boxed{\\sqrt{x(x-5)}}"), ("\\ln((x-40)^2)", "\\boxed{2\\ln(x-40)}"),
    ("\\sqrt{(x-100)^3}", "\\boxed{(x-100)\\sqrt{x-100}}"), ("\\sqrt{x-40}\\sqrt{x-50}", "\\boxed{\\sqrt{(x-40)(x-50)}}"),
    ("\\sqrt{40-x}\\sqrt{x-39}", "\\boxed{\\sqrt{(40-x)(x-39)}}"), ("\\arcsin(x-40) + \\arccos(x-40)", "\\boxed{\\frac{\\pi}{2}}"),
    ("\\sqrt{x-40}\\sqrt{y-40}", "\\boxed{\\sqrt{(x-40)(y-40)}}"),
])
def test_identities_equal_where_both_sides_are_real_far_from_0(gold, prediction):
    """Was wrong ("different expressions"): no fixed sample point lies where both sides are real."""
    v = verify(gold, prediction)
    assert (v.correct, v.details["kind"]) == (True, "equal") and "sample points" in v.reason, v


@pytest.mark.parametrize("gold, prediction", [
    ("\\sqrt{x-3}", "\\boxed{\\sqrt{x+3}}"), ("\\ln(x-40)", "\\boxed{\\ln(x-41)}"),
    ("\\sqrt{x-3}\\sqrt{x+3}", "\\boxed{\\sqrt{x^2-10}}"), ("\\sqrt{x-40}\\sqrt{x-50}", "\\boxed{\\sqrt{(x-40)(x-50)} + 1}"),
    ("\\sqrt{40-x}\\sqrt{x-39}", "\\boxed{\\sqrt{(40-x)(x-39)} + 10^{-5}}"), ("\\ln(x-1000)", "\\boxed{\\ln(x-1000.5)}"),
    ("\\sqrt{x-40}\\sqrt{y-40}", "\\boxed{\\sqrt{(x-40)(y-41)}}"), ("\\ln(x-40)", "\\boxed{\\ln|x-40|}"),
    ("\\sqrt{x-40}", "\\boxed{\\sqrt{x-40} + e^{-x}}"),  # about 1e-18 near 40: too small for a 1e-12 tolerance
])
def test_different_expressions_on_a_shifted_domain_stay_different(gold, prediction):
    assert _verdict(gold, prediction) == (False, "wrong")


@pytest.mark.parametrize("gold, prediction", [
    ("\\pi", "\\boxed{3.14159265358979323846264338327950288419719999}"),
    ("\\sqrt{2}", "\\boxed{1.41421356237309504880168872420969807856967999999999}"),
    ("2\\sqrt{2}", "\\boxed{2 \\cdot 1.41421356237309504880168872420969807856967999999999}"),
    ("x", "\\boxed{1.0000000000001x}"), ("x^2", "\\boxed{x^{2.0000000000001}}"), ("x", "\\boxed{1.0000000000000001x}"),
    ("\\frac{x}{3}", "\\boxed{0.3333333333333335x}"),
])
def test_decimals_that_contradict_the_gold_at_a_written_digit_are_wrong(gold, prediction):
    """Was equal: values compared to 20 digits, and sampled ones to 1e-12, whatever the answer wrote."""
    assert _verdict(gold, prediction) == (False, "wrong")


@pytest.mark.parametrize("gold, prediction", [
    ("\\pi", "\\boxed{3.1415926535897932384626433832795028841971}"),  # cut after 40 places
    ("\\pi", "\\boxed{3.1415926535897932384626433832795028841972}"),  # rounded there
    ("\\pi", "\\boxed{3.14159265358979323846}"), ("\\pi", "\\boxed{3.14159}"), ("\\sqrt{2}", "\\boxed{1.414}"),
    ("\\sqrt{2}", "\\boxed{1.41421356237309504880168872420969807856967187537694}"),
    ("\\frac{x}{3}", "\\boxed{0.3333333333333333x}"), ("\\frac{x}{3}", "\\boxed{0.33333333333333333333333x}"),
    ("x^{1/3}", "\\boxed{x^{0.3333333333333333}}"), ("\\frac13\\ln(x-40)", "\\boxed{0.3333333333333333\\ln(x-40)}"),
    ("e^{-50}", "\\boxed{1.9287498479639177830e-22}"),
])
def test_decimals_right_to_every_digit_written_stay_right(gold, prediction):
    assert _verdict(gold, prediction) == (True, "equal")
