"""Digits on both sides of bare braces (rules version 14).

LaTeX shows `1{2}` as 12: a bare brace group only groups, it adds no operator. The parser read the
two numbers as an implicit product, so `\\boxed{1{2}}` (or `1\\textcolor{red}{2}`, whose colour is
dropped) was 2, an answer the model never showed, and gold 2 scored it right. Digits across bare
braces are now one number, wherever the number stands (after an operator, before a postfix);
digits beside a braced expression (`1{2+3}`, `{1+2}3`) or parted by a space (`1\\quad{2}`) are
refused.
"""
from __future__ import annotations

import pytest

from rlvr.verifiers.math import RULES_VERSION, verify


def test_rules_version_is_14_or_later():
    assert RULES_VERSION >= 14


@pytest.mark.parametrize("answer, shown", [
    ("1{2}", "12"),
    ("{1}2", "12"),
    ("1{2}3", "123"),
    ("1{2}{3}", "123"),
    ("{1}{2}", "12"),
    ("-1{2}", "-12"),
    ("0.5{2}", "0.52"),
    ("1\\textcolor{red}{2}", "12"),
    ("1\\color{blue}{2}", "12"),
    ("2\\cdot1{2}", "24"),  # after an operator, in a later factor, before a postfix or power
    ("2\\times1\\textcolor{red}{2}", "24"),
    ("1/2{3}", "1/23"),
    ("(2)1{2}", "24"),
    ("2+1{2}", "14"),
    ("1\\textcolor{red}{2}\\%", "12\\%"),
    ("1{2}^2", "144"),
    ("(1{2}, 3)", "(12, 3)"),
    ("2^{1{2}}", "4096"),
])
def test_digits_across_bare_braces_are_the_number_shown(answer, shown):
    assert verify(shown, f"\\boxed{{{answer}}}").correct
    # never the product of the pieces
    products = {"12": "2", "-12": "-2", "123": "6", "0.52": "1", "24": "4", "1/23": "3/2", "14": "4",
                "12\\%": "2\\%", "144": "4", "(12, 3)": "(2, 3)", "4096": "4"}
    assert not verify(products[shown], f"\\boxed{{{answer}}}").correct


@pytest.mark.parametrize("answer", [
    "1{2+3}", "{1+2}3", "{2-1}2", "{1+2}{3}",  # digits beside a braced expression, either side
    "1.5{2.5}", "1{2.5}{.5}",  # no number
    "1 {2}", "1\\quad{2}", "{1}\\quad 2", "1~{2}", "1\\hspace{1em}{2}", "2\\kern1em{000}",  # a space parts them
])
def test_digits_that_make_no_number_are_refused(answer):
    v = verify("5", f"\\boxed{{{answer}}}")
    assert not v.correct and v.details.get("kind") == "unparsable", v


@pytest.mark.parametrize("gold, answer", [
    ("1/2", "\\frac1{2}"),  # a command's argument, not a bare group
    ("1000", "1{,}000"),  # a digit group separator
    ("12", "{12}"),
    ("2x", "2{x}"),  # a digit beside a letter is a product
    ("3x^2", "x^2{3}"),  # after a bare exponent: a factor, as before
    ("4", "2^1{2}"),
    ("300", "10^{2}{3}"),
    ("\\frac{3}{2}", "\\frac{1}{2}{3}"),  # after a command's group: a factor, as before
    ("6", "2(3)"),
])
def test_braces_that_join_no_digits_read_as_before(gold, answer):
    assert verify(gold, f"\\boxed{{{answer}}}").correct
