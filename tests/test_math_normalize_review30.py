"""Regressions of math rules 18 (`{,}` commas, money magnitudes) found in review 30.

A: a `{,}` run after a plain comma (`1,000{,}000`) was read on its own: its first group `000`
starts with 0, so the one `{,}` became a decimal comma (`1,000.000`, i.e. 1000), equal to a gold of
1000. A run joined by plain commas too is thousands or unparsable, never a decimal comma.
B: a money magnitude applied to every number of an answer that started with a currency sign
(`\\$5 + 5m` read as 5 + 5000000), and a spaced lower-case m (`\\$12 m`, `\\$12\\text{ m}`: metres or
minutes as often) or a letter of an algebraic gold (`\\$12b`, the cost of b items) read as a million
or a billion. Each group also pins the right answers that must stay right."""

from __future__ import annotations

import time

import pytest

from rlvr.verifiers.math import verify
from rlvr.verifiers.math_normalize import normalize


# -- A: mixed separators ------------------------------------------------------------------------------

@pytest.mark.parametrize("gold, pred", [
    ("1000", "\\boxed{1,000{,}000}"),
    ("1000", "\\boxed{1,000\\text{,}000}"),
    ("2500", "\\boxed{2,500{,}000}"),
    ("2500", "The answer is $2,500{,}000$."),
    ("1000.5", "\\boxed{1,000{,}5}"),  # no decimal comma after a group a plain comma joined
    ("1000", "\\boxed{1,000{,}5}"),
    ("100.05", "\\boxed{1,00{,}05}"),
    ("1.53", "\\boxed{1.5{,}3}"),  # nor after a decimal point
    ("15.3", "\\boxed{1.5{,}3}"),
    ("1.5", "\\boxed{1.500{,}000}"),  # US grouped decimals or a European thousands point: unknown
    ("1500", "\\boxed{1.500{,}000}"),
    ("(1, 2.3)", "\\boxed{(1,2{,}3)}"),
])
def test_a_comma_run_with_plain_commas_is_no_decimal(gold, pred):
    verdict = verify(gold, pred)
    assert not verdict.correct, (gold, pred, verdict.reason)
    assert verdict.error is None


@pytest.mark.parametrize("gold, pred", [
    ("1000000", "\\boxed{1,000{,}000}"),
    ("1000000", "\\boxed{1,000\\text{,}000}"),
    ("1000000", "\\boxed{1{,}000,000}"),
    ("2500000", "\\boxed{2,500{,}000}"),
    ("2500000", "The answer is $2,500{,}000$."),
    ("(1000000, 2)", "\\boxed{(1,000{,}000, 2)}"),
    # and the forms rules 18 reads right stay right
    ("1000000", "\\boxed{1{,}000{,}000}"),
    ("1000000", "\\boxed{1,000,000}"),
    ("1000", "\\boxed{\\$1{,}000}"),
    ("12.5", "\\boxed{12{,}5}"),
    ("1000.5", "\\boxed{1\\,000{,}5}"),
    ("1, 2.5", "\\boxed{1, 2{,}5}"),
    ("(1.5, 2.5)", "\\boxed{(1{,}5, 2{,}5)}"),
    ("100000", "\\boxed{1{,}00{,}000}"),
])
def test_thousands_across_mixed_separators_join(gold, pred):
    verdict = verify(gold, pred)
    assert verdict.correct, (gold, pred, verdict.reason)


@pytest.mark.parametrize("text, expected", [
    ("1,000{,}000", "1000000"),
    ("1,000\\text{,}000", "1000000"),
    ("1{,}000,000", "1000000"),
    ("1,000{,}5", "1{,}000{,}5"),  # left for the parser to refuse
    ("12,5{,}3", "12{,}5{,}3"),
    ("1,00{,}000", "1{,}00{,}000"),
    ("1.5{,}3", "1.5{,}3"),
    ("1.500{,}000", "1.500{,}000"),
    ("1,000", "1000"),  # plain commas only: the plain rules, as before
    ("(1,000)", "(1,000)"),
])
def test_normalize_mixed_separator_forms(text, expected):
    assert normalize(text) == expected


def test_a_mixed_run_that_is_no_number_is_unparsable_not_an_error():
    verdict = verify("1000", "\\boxed{1,000{,}5}")
    assert not verdict.correct and verdict.error is None
    assert verdict.details.get("kind") == "unparsable", verdict


# -- B: money magnitudes -------------------------------------------------------------------------------

@pytest.mark.parametrize("gold, pred", [
    ("5000005", "\\boxed{\\$5 + 5m}"),  # only the amount after the sign, not every number
    ("5000005", "\\boxed{\\$5 + 5M}"),
    ("5000005", "\\boxed{\\$5 + \\$5M}"),
    ("10000", "\\boxed{\\$5 \\text{ and } 5k}"),
    ("12000000", "\\boxed{\\$12 m}"),  # a spaced lower-case m: metres or minutes as often
    ("12000000", "\\boxed{\\$12\\text{ m}}"),
    ("12000000000", "\\boxed{\\$12 \\text{b}}"),
    ("12", "\\boxed{\\$12m}"),
    ("12", "\\boxed{\\$12M}"),
    ("12", "\\boxed{\\$12b}"),
    ("12", "\\boxed{\\$12k}"),
])
def test_a_money_magnitude_is_read_only_right_after_the_amount(gold, pred):
    verdict = verify(gold, pred)
    assert not verdict.correct, (gold, pred, verdict.reason)


@pytest.mark.parametrize("gold, pred", [
    ("12", "\\boxed{\\$12 m}"),
    ("12", "\\boxed{\\$12\\text{ m}}"),
    ("12", "\\boxed{\\$12 \\text{b}}"),
    ("12b", "\\boxed{\\$12b}"),  # an algebraic gold: the cost of b items
    ("12m", "\\boxed{\\$12m}"),
    ("12k", "\\boxed{\\$12k}"),
    ("5", "\\boxed{\\$5 \\text{ per m}}"),
])
def test_a_letter_that_may_be_a_unit_or_a_variable_is_no_magnitude(gold, pred):
    verdict = verify(gold, pred)
    assert verdict.correct, (gold, pred, verdict.reason)


@pytest.mark.parametrize("gold, pred", [
    ("12000", "\\boxed{\\$12k}"),
    ("12000", "\\boxed{$12k}"),
    ("12000", "\\boxed{\\$12\\,k}"),
    ("12000", "\\boxed{\\$12K}"),
    ("12000", "\\boxed{\\$12 K}"),
    ("12000", "\\boxed{\\$12\\text{K}}"),
    ("12000", "\\boxed{\\$12\\text{k}}"),
    ("12000", "\\boxed{Rs. 12 K}"),
    ("12000000", "\\boxed{\\$12m}"),
    ("12000000", "\\boxed{\\$12m.}"),
    ("12000000", "\\boxed{\\$12M}"),
    ("12000000", "\\boxed{\\$12 M}"),
    ("12000000", "\\boxed{\\$12\\text{M}}"),
    ("12000000", "\\boxed{\\$12\\text{m}}"),
    ("12000000", "\\boxed{\\$12\\text{ M}}"),
    ("12000000", "\\boxed{\\$12 \\text{ million}}"),
    ("12000000", "\\boxed{\\$12M dollars}"),
    ("12000000000", "\\boxed{\\$12b}"),
    ("1200000000", "\\boxed{\\$1.2\\text{bn}}"),
    ("1200000000", "\\boxed{\\$1.2 bn}"),
    ("1200000000", "\\boxed{\\$1.2B}"),
    ("1500000", "\\boxed{\\$1{,}500k}"),
    ("1500000000", "\\boxed{\\$1,500M}"),
    ("-12000000", "\\boxed{-\\$12M}"),
    ("-12000000", "\\boxed{-\\$12m}"),
    ("5000000", "\\boxed{€5 mln}"),
    ("12000000", "\\boxed{£12m}"),
    ("\\$12M", "\\boxed{12{,}000{,}000}"),  # a gold written so
    ("1200000", "\\boxed{12 lac}"),  # lakh (lac) is 100000 in Indian English, without a sign too
])
def test_money_magnitudes_still_multiply(gold, pred):
    verdict = verify(gold, pred)
    assert verdict.correct, (gold, pred, verdict.reason)


@pytest.mark.parametrize("text, number_gold, expected", [
    ("\\$5 + 5m", True, "5 + 5m"),
    ("\\$12 m", True, "12"),
    ("\\$12b", False, "12b"),
    ("\\$12b", True, "12 \\cdot 1000000000"),
    ("\\$12M", False, "12 \\cdot 1000000"),
    ("\\$1,500M", False, "1500 \\cdot 1000000"),
])
def test_normalize_money_forms(text, number_gold, expected):
    assert normalize(text, number_gold=number_gold) == expected


# -- linear time --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "1," * 1400 + "1{,}5",
    "1,000{,}" * 370,
    "1.1{,}1" * 400,
    "(1,2{,}3)" * 330,
    "1{,}2," * 500 + "x",
    "\\$1M" + " a" * 1400 + "1",
    "\\$1M" + "a." * 1400 + "1",
    "\\$1M " + "\\text{a}" * 370 + "1",
    "\\$1M" + " \\text{" * 400,
    "\\$1k" + " " * 2900 + "x",
    "\\$" + "1" * 2900 + "M1",
    "\\$" + "1,000" * 580 + "k",
])
def test_long_adversarial_inputs_stay_fast(text):
    start = time.process_time()  # (this process's CPU time: other processes' load does not count)
    normalize(text)
    normalize(text, number_gold=True)
    assert time.process_time() - start < 1.0
