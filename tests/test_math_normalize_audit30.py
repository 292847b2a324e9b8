"""False positives of the math verifier found by red team 30 (normalisation side).

A: the comma LaTeX sets without a space (`{,}`, `\\text{,}`, `\\mathrm{,}`) was dropped wherever it
stood, so the decimal comma `12{,}5` read as 125, and `12\\text{,}5` left `12\\text5`, 12 times 5.
B: rarer magnitude words (`septillion`, `lacs`, `mio`) were dropped as nouns after a plain-number
answer, and `\\$12\\text{K}` read as 12 kelvin. Each test also pins the right answers that must stay
right."""

from __future__ import annotations

import time

import pytest

from rlvr.verifiers.math import verify
from rlvr.verifiers.math_normalize import normalize


# -- A: decimal comma -------------------------------------------------------------------------------

@pytest.mark.parametrize("gold, pred", [
    ("125", "\\boxed{12{,}5}"),
    ("314", "\\boxed{3{,}14}"),
    ("60", "\\boxed{12\\text{,}5}"),
    ("10", "\\boxed{2\\text{,}5}"),
    ("12", "\\boxed{3\\text{,}14}"),
    ("12", "\\boxed{(3\\text{,}4)}"),
    ("6", "\\boxed{2\\mathrm{,}3}"),
    ("125", "\\boxed{0{,}125}"),  # no thousands grouping starts with 0
    ("ab", "\\boxed{a{,}b}"),  # a comma between letters is no product
    ("10005", "\\boxed{1{,}000{,}5}"),
    ("1000.5", "\\boxed{1{,}000{,}5}"),
    ("125", "\\boxed{12\\text{, }5}"),
])
def test_a_comma_between_digits_is_never_dropped_into_another_number(gold, pred):
    verdict = verify(gold, pred)
    assert not verdict.correct, (gold, pred, verdict.reason)
    assert verdict.error is None


@pytest.mark.parametrize("gold, pred", [
    ("12.5", "\\boxed{12{,}5}"),
    ("3.14", "\\boxed{3{,}14}"),
    ("12.5", "\\boxed{12\\text{,}5}"),
    ("2.3", "\\boxed{2\\mathrm{,}3}"),
    ("0.125", "\\boxed{0{,}125}"),
    ("12.3456", "\\boxed{12{,}3456}"),
    ("-12.5", "\\boxed{-12{,}5}"),
    ("12.5", "The answer is $12{,}5$."),
    ("12{,}5", "\\boxed{12.5}"),  # a gold written so reads the same way
    ("(3, 4)", "\\boxed{(3\\text{,}4)}"),  # digits alone in brackets: a pair
    ("(3, 4)", "\\boxed{(3{,}4)}"),
    ("(1, 2, 3)", "\\boxed{(1{,}2{,}3)}"),
    ("(a, b)", "\\boxed{(a{,}b)}"),
])
def test_a_decimal_comma_or_a_pairs_comma_reads_as_written(gold, pred):
    verdict = verify(gold, pred)
    assert verdict.correct, (gold, pred, verdict.reason)


@pytest.mark.parametrize("gold, pred", [
    ("1000", "\\boxed{1{,}000}"),
    ("1000", "\\boxed{1\\text{,}000}"),
    ("1000", "\\boxed{1\\mathrm{,}000}"),
    ("1000", "\\boxed{1\\text{ , }000}"),
    ("1234.5", "\\boxed{\\$1{,}234.50}"),
    ("12345", "\\boxed{12{,}345}"),
    ("12345678", "\\boxed{12{,}345{,}678}"),
    ("12345678", "\\boxed{12\\text{,}345\\text{,}678}"),
    ("100000", "\\boxed{1{,}00{,}000}"),  # Indian grouping
    ("1", "\\boxed{1{,}}"),
    ("\\frac{1000}{3}", "\\boxed{\\frac{1{,}000}{3}}"),
    ("12345", "The answer is $12{,}345$."),
])
def test_thousands_separators_still_join(gold, pred):
    verdict = verify(gold, pred)
    assert verdict.correct, (gold, pred, verdict.reason)


@pytest.mark.parametrize("text, expected", [
    ("12{,}5", "12.5"),
    ("12\\text{,}5", "12.5"),
    ("1{,}000", "1000"),
    ("(3\\text{,}4)", "(3, 4)"),
    ("1{,}000{,}5", "1{,}000{,}5"),  # left for the parser to refuse
    ("1.2{,}5", "1.2{,}5"),
    ("12{,}5.3", "12{,}5.3"),
    ("x{,}y", "x,y"),
])
def test_normalize_comma_forms(text, expected):
    assert normalize(text) == expected


def test_an_ambiguous_comma_run_is_unparsable_not_an_error():
    verdict = verify("1000", "\\boxed{1{,}000{,}5}")
    assert not verdict.correct and verdict.error is None
    assert verdict.details.get("kind") == "unparsable", verdict


# -- B: magnitude words and money magnitudes ------------------------------------------------------

@pytest.mark.parametrize("pred", [
    "\\boxed{12 \\text{ septillion}}",
    "\\boxed{12 sextillion}",
    "\\boxed{12 octillion}",
    "\\boxed{12 nonillion}",
    "\\boxed{12 decillion}",
    "\\boxed{12 quadrillion}",
    "\\boxed{12 \\text{ octillions}}",
    "\\boxed{12 lacs}",
    "\\boxed{12 lac}",
    "\\boxed{12 mio}",
    "\\boxed{12 \\text{ Mio}}",
    "\\boxed{12 mrd}",
    "\\boxed{12 crores}",
    "\\boxed{\\$12\\text{K}}",
    "\\boxed{\\$12K}",
    "\\boxed{\\$12 \\text{ M}}",
    "\\boxed{\\$12\\text{bn}}",
])
def test_a_magnitude_after_the_number_is_not_dropped(pred):
    verdict = verify("12", pred)
    assert not verdict.correct, (pred, verdict.reason)


@pytest.mark.parametrize("gold, pred", [
    ("12000", "\\boxed{\\$12\\text{K}}"),
    ("12000", "\\boxed{\\$12K}"),
    ("12000", "\\boxed{\\$12\\text{k}}"),
    ("12000000", "\\boxed{\\$12M}"),
    ("12000000", "\\boxed{\\$12\\text{ M}}"),
    ("1200000000", "\\boxed{\\$1.2\\text{bn}}"),
    ("12000000000", "\\boxed{£12B}"),
    ("12" + "0" * 24, "\\boxed{12 \\text{ septillion}}"),
    ("12" + "0" * 21, "\\boxed{12 sextillion}"),
    ("12" + "0" * 33, "\\boxed{12 decillion}"),
    ("1200000", "\\boxed{12 lakhs}"),
    ("1200000", "\\boxed{12 \\text{ lac}}"),
    ("120000000", "\\boxed{12 crore}"),
])
def test_magnitudes_multiply(gold, pred):
    verdict = verify(gold, pred)
    assert verdict.correct, (gold, pred, verdict.reason)


@pytest.mark.parametrize("gold, pred", [
    ("12", "\\boxed{\\$12}"),
    ("12", "\\boxed{12 \\text{ K}}"),  # without a currency sign K is kelvin
    ("300", "\\boxed{300 K}"),
    ("7", "\\boxed{\\$7 \\text{ each}}"),
    ("15", "\\boxed{\\$15 \\text{ per hour}}"),
    ("12", "\\boxed{12 sandwiches}"),
    ("5000", "\\boxed{5 \\text{ thousand}}"),
    ("5000000", "\\boxed{£5 \\text{ million}}"),
])
def test_units_and_plain_amounts_still_read(gold, pred):
    verdict = verify(gold, pred)
    assert verdict.correct, (gold, pred, verdict.reason)


# -- linear time --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "1" * 2900 + "x",
    "1{,}" * 700,
    "12{,}5" * 480,
    "{,}" * 1000,
    "1\\text{ , " * 300,
    "(1{,}5)" * 400,
    "\\$1" + " K1" * 900,
    "\\$1" + " " * 2900 + "x",
    "1 lac" * 580,
])
def test_long_adversarial_inputs_stay_fast(text):
    start = time.process_time()
    normalize(text)
    normalize(text, number_gold=True)
    assert time.process_time() - start < 1.0
