"""Findings of the session-21 review of the math verifier: an "or" list passed for a tuple or an
interval, and a root written as a fractional power passed as evaluated."""

from __future__ import annotations

import pytest

from rlvr.verifiers.math import RULES_VERSION, verify


def test_the_rules_version_names_these_rules():
    assert RULES_VERSION >= 10


@pytest.mark.parametrize("gold, completion", [
    ("(-1, 5)", r"The boundary points solve the equation, so \boxed{x = -1 \text{ or } 5}"),  # the roots, not the interval
    ("(3,4)", r"\boxed{3 \text{ or } 4}"),
    ("(3,4)", r"\boxed{3 \lor 4}"),
    ("3 \\text{ or } 4", r"\boxed{(3, 4)}"),
])
def test_values_joined_by_or_are_never_a_point_or_an_interval(gold, completion):
    verdict = verify(gold, completion)
    assert not verdict.correct and "alternatives (a or b) compared with a tuple" in verdict.reason, verdict.reason


@pytest.mark.parametrize("gold, completion", [
    ("(3,4)", r"\boxed{3, 4}"),  # a bare comma list may stand for the pair (documented)
    ("(3,4)", r"\boxed{3 \text{ and } 4}"),
    ("3, 4", r"\boxed{3 \text{ or } 4}"),  # alternatives against alternatives: unordered
    ("-1, 5", r"\boxed{x = -1 \text{ or } x = 5}"),
])
def test_lists_that_may_stand_for_a_pair_or_a_set_still_match(gold, completion):
    verdict = verify(gold, completion)
    assert verdict.correct, verdict.reason


@pytest.mark.parametrize("gold, completion", [
    ("3", r"\boxed{27^{1/3}}"), ("12", r"\boxed{144^{1/2}}"), ("4", r"\boxed{8^{2/3}}"), ("12", r"\boxed{144^{0.5}}"),
    ("2\\sqrt{3}", r"\boxed{12^{1/2}}"), ("2\\sqrt{3}", r"\boxed{\sqrt{12}}"),
])
def test_a_root_that_simplifies_is_not_evaluated_however_it_is_written(gold, completion):
    verdict = verify(gold, completion)
    assert not verdict.correct and "a root that simplifies" in verdict.reason, verdict.reason


@pytest.mark.parametrize("gold, completion", [
    ("\\sqrt{2}", r"\boxed{2^{1/2}}"),  # does not simplify: a form of the value
    ("27^{1/3}", r"\boxed{3}"), ("3", r"\boxed{3}"),
    ("\\sqrt{12}", r"\boxed{2\sqrt{3}}"), ("\\sqrt{12}", r"\boxed{\sqrt{12}}"),  # the gold holds one: allowed
])
def test_powers_and_roots_that_are_forms_of_the_value_still_match(gold, completion):
    verdict = verify(gold, completion)
    assert verdict.correct, verdict.reason


@pytest.mark.parametrize("completion", [
    r"\boxed{\text{not } \boxed{4}}", r"\boxed{x \ne \boxed{4}}", r"\boxed{\boxed{4} \pm 1}",
    r"\boxed{3 \text{ or } \boxed{4}}", r"\boxed{2\boxed{4}}",
])
def test_a_box_inside_another_is_read_with_what_surrounds_it(completion):
    # the inner box was the last one, so the outer box's negation, hedge or factor was thrown away
    verdict = verify("4", completion)
    assert not verdict.correct, verdict.reason


def test_a_box_in_a_box_that_says_the_same_still_matches():
    assert verify("4", r"\boxed{\boxed{4}}").correct and verify("4", r"\fbox{\boxed{4}}").correct
    assert verify("8", r"\boxed{2\boxed{4}}").correct  # 2 times 4, as written
