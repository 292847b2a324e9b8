"""Audit 33 of the process reward (`verifiers/steps.py`, rules 7):

1. A decimal cut off with "..." or "…" (`20/3 = 6.666...`) states the first digits of the value; it was
   read as a rounding and failed.
2. A division with a remainder (`17 / 5 = 3 remainder 2`) was scored as the false equation 17/5 = 3;
   it is checked as a = q*b + r with 0 <= r < b.
3. A congruence modulo 1 (`2 + 2 = 5 \\pmod{1}`) held for any false sum: a modulus below 2 makes no claim.
4. A chain the text rejects ("3 + 4 = 8 is wrong", "not true that ...", "Is 3 + 4 = 8?") was judged
   as asserted; it is no claim (no credit, no failure), and only that chain.
5. A link hedged as a rounding ("= 0.67 (rounded)", "= about 3.3") is not checked, as `\\approx` is not.
6. A plain unit word on a left side (`5 kg = 5000 grams`) is read in a conversion.
"""

from __future__ import annotations

import time

import pytest

from rlvr.verifiers.steps import RULES_VERSION, find_claims, verify_steps


def _steps(text):
    return verify_steps(text, timeout=10).steps


def test_rules_version_bumped():
    assert RULES_VERSION >= 7


# -- 1. decimals cut off with an ellipsis ----------------------------------------------------------

@pytest.mark.parametrize("text, steps", [
    ("20/3 = 6.666...", [1.0]),
    ("20/3 = 6.666…", [1.0]),
    ("1/6 = 0.1666...", [1.0]),
    ("1/3 = 0.333...", [1.0]),
    ("Each person pays 50 / 3 = 16.666... dollars.", [1.0]),
    ("-1/3 = -0.333...", [1.0]),
    ("0.333... = 1/3", [1.0]),
    ("0.999... = 1", [1.0]),          # a last digit 9 reaches the next value: the repeating decimal
    ("1/2 = 0.4999...", [1.0]),
    ("20/3 = 6.667...", [0.0]),       # the value does not begin with 6.667
    ("20/3 = 6.667…", [0.0]),
    ("2/3 = 0.67...", [0.0]),
    ("1/2 = 0.4...", [0.0]),          # 0.5 does not begin with 0.4
    ("1/3 = -0.333...", [0.0]),
    ("50 / 3 = 16.667... dollars.", [0.0]),
])
def test_cut_off_decimals(text, steps):
    assert _steps(text) == steps, text


def test_cut_off_decimal_keeps_its_ellipsis_and_differs_from_a_rounding():
    assert find_claims("20/3 = 6.666...") == [("20/3", "6.666...")]
    # `6.666` alone is a rounding of 20/3 to 4 significant digits, which fails; its cut-off spelling holds
    assert verify_steps("20/3 = 6.666\n20/3 = 6.666...", timeout=10).steps == [0.0, 1.0]


@pytest.mark.parametrize("text", [
    "\\pi = 3.14159...",                       # no exact value to read digits from
    "0.333... = 0.333...",
    "20/3 = 6.666... \\approx 6.67",           # (the \\approx link is not checked either)
    "1 \\text{ m} = 3.28... \\text{ ft}",      # two units: not a conversion checked by digits
])
def test_cut_off_decimals_without_an_exact_partner_claim_nothing(text):
    v = verify_steps(text, timeout=10)
    assert v.details["claims"] == (1 if "approx" in text else 0), (text, v.reason)
    assert v.correct


def test_cut_off_decimal_linked_to_a_rounding_is_no_claim():
    v = verify_steps("20/3 = 6.666... = 6.67", timeout=10)
    assert v.steps == [1.0] and v.details["claims"] == 1


# -- 2. divisions with a remainder --------------------------------------------------------------------

@pytest.mark.parametrize("text, steps", [
    ("17 / 5 = 3 remainder 2", [1.0]),
    ("17 ÷ 5 = 3 with a remainder of 2", [1.0]),
    ("20 / 3 = 6 with 2 left over", [1.0]),
    ("7 / 2 = 3 full boxes and 1 left", [1.0]),
    ("17 \\div 5 = 3 \\text{ remainder } 2", [1.0]),
    ("$17 \\div 5 = 3 \\text{ R } 2$", [1.0]),
    ("17 / 5 = 3 R 2", [1.0]),
    ("20 / 4 = 5 remainder 0", [1.0]),
    ("17 / 5 = 3 remainder 3", [0.0]),
    ("17 ÷ 5 = 2 with a remainder of 7", [0.0]),   # 2*5 + 7 = 17, but 7 is not below 5
    ("20 / 3 = 6 with 1 left over", [0.0]),
    ("17 / 5 = 3 R 4", [0.0]),
    ("7 / 0 = 0 remainder 7", [0.0]),
])
def test_divisions_with_a_remainder(text, steps):
    assert _steps(text) == steps, text


def test_remainder_claim_replaces_the_quotient_equality():
    assert find_claims("17 / 5 = 3 remainder 2") == [("17 ÷ 5", "3 remainder 2")]
    v = verify_steps("100 ÷ 7 = 14 remainder 2, since 14 × 7 = 98 and 100 - 98 = 2.", timeout=10)
    assert v.steps == [1.0] and v.details["claims"] == 3


@pytest.mark.parametrize("text", [
    "2 + 17 / 5 = 3 R 2",              # the division is an operand: no claim about it
    "12 / 4 = 3 bags and 2 left",      # an exact division: the 2 may count something else
    "17 / 5 = 3 remainder",            # no remainder given: the quotient alone is not claimed
])
def test_unclear_remainders_claim_nothing(text):
    v = verify_steps(text, timeout=10)
    assert v.steps == [None] and v.details["claims"] == 0, (text, v.reason)


def test_plain_division_still_checked():
    assert _steps("17 / 5 = 3") == [0.0]
    assert _steps("I have 20 - 8 = 12 left") == [1.0]


# -- 3. modulus 1 -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["3 \\cdot 4 = 13 \\pmod{1}", "2 + 2 = 5 \\pmod 1", "2 + 2 = 5 (mod 1)",
                                  "3 \\cdot 4 = 12 \\pmod{1}", "2 + 2 = 5 \\pmod{0}"])
def test_modulus_below_two_claims_nothing(text):
    v = verify_steps(text, timeout=10)
    assert v.steps == [None] and v.details["claims"] == 0, (text, v.reason)


@pytest.mark.parametrize("text, steps", [
    ("2 + 2 = 5 \\pmod{2}", [0.0]),     # 4 and 5 differ in parity
    ("2 + 2 = 6 \\pmod{2}", [1.0]),
    ("3 \\cdot 4 = 13 \\pmod{2}", [0.0]),
    ("3 \\cdot 4 = 2 \\pmod{10}", [1.0]),
])
def test_modulus_two_and_up_still_checked(text, steps):
    assert _steps(text) == steps, text


# -- 4. claims the text rejects or asks about --------------------------------------------------------

@pytest.mark.parametrize("text, steps", [
    ("Wait, 3 + 4 = 8 is wrong; 3 + 4 = 7.", [1.0]),
    ("I wrote 3 + 4 = 8 earlier, but that's a mistake: 3 + 4 = 7.", [1.0]),
    ("It is not true that 3 + 4 = 8.", [None]),
    ("It is false that 3 + 4 = 8.", [None]),
    ("Is 3 + 4 = 8? No, 3 + 4 = 7.", [None, 1.0]),
    ("Note: 3 + 4 = 8 ✗", [None]),
    ("3 + 4 = 7 = 8 is wrong", [None]),   # the whole rejected chain
    ("$3 + 4 = 8$ is incorrect.", [None]),
    ("3 + 4 = 8, right?", [None]),
])
def test_rejected_claims_make_no_claim(text, steps):
    assert _steps(text) == steps, text


def test_rejection_earns_no_credit_for_a_true_claim():
    v = verify_steps("3 + 4 = 7 is wrong", timeout=10)
    assert v.steps == [None] and v.details["claims"] == 0


@pytest.mark.parametrize("text, steps", [
    ("3 + 4 = 8. That approach is wrong, so start again.", [0.0, None]),   # another sentence
    ("3 + 4 = 8, and the other answer is wrong.", [0.0]),                  # too far from the chain
    ("Wait, 3 + 4 = 7 is wrong; 3 + 4 = 8.", [0.0]),                       # only the rejected chain
    ("3 * 4 = 13?", [0.0]),                                                # a question mark, no question
    ("3 + 4 = 8 is not wrong", [0.0]),
    ("The total is 3 + 4 = 8, so what is 8 + 1?", [0.0]),                 # the question is another chain's
    ("3 + 4 = 8 and 9 is wrong", [0.0]),
])
def test_rejection_words_elsewhere_change_nothing(text, steps):
    assert _steps(text) == steps, text


# -- 5. rounding hedges --------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["2/3 = 0.67 (rounded)", "10 / 3 = 3.3 approximately", "10 / 3 = 3.3 (approx.)",
                                  "10 / 3 = about 3.3", "2/3 = 0.6 (rounded)"])
def test_hedged_roundings_are_not_checked(text):
    v = verify_steps(text, timeout=10)
    assert v.steps == [None] and v.details["claims"] == 0, (text, v.reason)


def test_hedge_leaves_the_exact_links_of_its_chain_checked():
    assert _steps("2 / 3 = 4 / 6 = 0.67 (rounded)") == [1.0]
    assert _steps("2 / 3 = 4 / 5 = 0.67 (rounded)") == [0.0]
    assert _steps("Each gets 2 / 3 = 0.67 dollars") == [0.0]   # no hedge: still a rounding to too few digits


# -- 6. plain unit words on a left side --------------------------------------------------------------

@pytest.mark.parametrize("text, steps", [
    ("5 kg = 5000 grams", [1.0]),
    ("5 kg = 500 grams", [0.0]),
    ("2 hours = 120 min", [1.0]),
    ("2 hours = 100 min", [0.0]),
])
def test_plain_unit_words_on_the_left_in_a_conversion(text, steps):
    assert _steps(text) == steps, text


@pytest.mark.parametrize("text", ["The price for 2 kg = $10", "2 hours = 30 dollars",
                                  "He bought 3 bags of 5 kg = 15000 grams"])
def test_plain_unit_words_elsewhere_claim_nothing(text):
    assert verify_steps(text, timeout=10).details["claims"] == 0, text


# -- speed ---------------------------------------------------------------------------------------------

def test_new_rules_stay_fast_on_long_lines():
    line = " ".join(["3 + 4 = 8 is wrong? 17 / 5 = 3 remainder 2 (rounded) about 6.666... 0.5..."] * 300)
    start = time.perf_counter()
    verify_steps("\n".join([line] * 5), timeout=10)
    assert time.perf_counter() - start < 5
