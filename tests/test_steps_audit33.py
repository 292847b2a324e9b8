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

Review of rules 7 (still rules 7: not released before these fixes):

7. Cut decimals and remainders skipped the "computes nothing" and "said before" rules (`4 = 4.0...`,
   `20/3 = 6.666...` then `6.66...`, `5 / 7 = 0 remainder 5` earned credit; twenty `n = n.0...` lines
   diluted a false step).
8. A remainder followed by a period was no claim (`17 / 5 = 2 remainder 9.`).
9. A rounding hedge caught unrelated words ("= 9.5, rounded up to 10", "we rounded nothing").
10. Questions and rejections dropped asserted false claims ("Since 3 + 4 = 8, how many ...?", ", right?",
    "error-free").
11. A cut decimal against a side not evaluated in-process made no claim (`\\binom{5}{2} = 11.0...`).
12. A remainder match that was skipped still deleted its equation from the step.
13. A last digit 9 let `2 = 1.9...` hold.
14. Digits with "..." that are a rounding (`100/7 = 14.3...`) failed.

Third review of rules 7 (an approximate link never fails correct work; in doubt it makes no claim):

15. A chain of approximations through a rounded factor failed (`\\pi \\cdot 12^2 \\approx 3.14 \\times 144
    \\approx 452.39`): a left side with a rounded input is also checked against its chain's first exact side.
16. A magnitude or percent word after the number (`\\approx 3 million`, `≈ 14 percent`) was dropped.
17. Approximate links earned credit for computing nothing (`k + 0 \\approx k`) or for respellings of
    one side (`2 + 2 \\approx 4.000`, `2 + 2 = 4` then `2 + 2 \\approx 4`).
18. A yes-word anywhere in an answer's first three words read as yes ("The correct sum is 7").
19. Rounded conversions ignored an integer's trailing zeros (`1 pound = 450 grams` failed) and held at
    one significant digit (`1 kg = 2 pounds`): such a rough rate is no claim.
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
    ("1/2 = 0.4999...", [0.0]),       # only all-9 digits reach the next value (see 13. below)
    ("20/3 = 6.668...", [0.0]),       # the value does not begin with 6.668, nor rounds to it
    ("20/3 = 6.668…", [0.0]),
    ("2/3 = 0.67...", [0.0]),
    ("1/2 = 0.4...", [0.0]),          # 0.5 does not begin with 0.4
    ("1/3 = -0.333...", [0.0]),
    ("50 / 3 = 16.668... dollars.", [0.0]),
])
def test_cut_off_decimals(text, steps):
    assert _steps(text) == steps, text


def test_cut_off_decimal_keeps_its_ellipsis_and_differs_from_a_rounding():
    assert find_claims("20/3 = 6.666...") == [("20/3", "6.666...")]
    # `6.666` alone is a rounding of 20/3 to 4 significant digits, which fails; its cut-off spelling holds
    assert verify_steps("20/3 = 6.666\n20/3 = 6.666...", timeout=10).steps == [0.0, 1.0]


@pytest.mark.parametrize("text", [
    "\\pi = 3.14159...",                       # (`\\pi = 3.14159` is no claim either)
    "0.333... = 0.333...",                     # computes nothing
    "20/3 = 6.666... \\approx 6.67",           # (the \\approx link is not checked either)
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
def test_hedged_roundings_are_checked_as_plausible(text):  # (review: a hedge no longer skips its link)
    v = verify_steps(text, timeout=10)
    assert v.steps == [1.0] and v.details["claims"] == 1, (text, v.reason)


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


# -- 7. cut decimals and remainders: computes nothing, said before ------------------------------------

@pytest.mark.parametrize("text, steps", [
    ("4 = 4.0...", [None]),
    ("7 = 7.0...\n8 = 8.0...\n9 = 9.00...", [None, None, None]),
    ("0.99... = 1", [None]),                       # true, but against a plain number: no work
    ("6.666... = 6.67", [None]),                   # a cut decimal and its rounding: no work
    ("2 + 2 = 4\n2 + 2 = 4.0...\n2 + 2 = 4.00...\n2 + 2 = 4.000...", [1.0, None, None, None]),
    ("2 + 2 = 4.0...\n2 + 2 = 4", [1.0, None]),
    ("20/3 = 6.666...\n20/3 = 6.66...\n20/3 = 6.6...\n20/3 = 6.6666...", [1.0, None, None, None]),
    ("100/7 = 14.3...\n100/7 = 14.28...\n100/7 = 14.285...", [1.0, None, None]),
    ("17 / 1 = 17 remainder 0", [None]),
    ("5 / 7 = 0 remainder 5", [None]),
    ("17 / 5 = 3 remainder 2\n17 ÷ 5 = 3 R 2", [1.0, None]),
])
def test_cut_decimals_and_remainders_earn_credit_once_and_only_for_work(text, steps):
    assert _steps(text) == steps, text


@pytest.mark.parametrize("text, steps", [
    ("7 = 7.5...", [0.0]),                         # computing nothing never makes a false claim pass
    ("6.666... = 6.8", [0.0]),                     # no value begins with 6.666 and rounds to 6.8
    ("0.5... = 0.7...", [0.0]),
    ("5 / 7 = 0 remainder 4", [0.0]),
    ("17 / 1 = 16 remainder 1", [0.0]),
    ("20/3 = 6.666...\n20/3 = 6.8...", [1.0, 0.0]),   # one claim per side: a false respelling still fails
])
def test_idle_or_repeated_cut_claims_still_fail_when_false(text, steps):
    assert _steps(text) == steps, text


def test_cut_padding_does_not_dilute_a_false_step():
    text = "3 * 4 = 13.\n" + "\n".join(f"{n} = {n}.0..." for n in range(1, 21))
    v = verify_steps(text, timeout=10)
    assert v.score == 0.0 and not v.correct and v.details["claims"] == 1


# -- 8. punctuation after a remainder ---------------------------------------------------------------

@pytest.mark.parametrize("end", [".", ",", ";", "!", "", ". Next line"])
@pytest.mark.parametrize("claim, step", [
    ("17 / 5 = 3 remainder 2", 1.0), ("17 / 5 = 2 remainder 9", 0.0), ("17 / 5 = 3 remainder 3", 0.0),
    ("17 ÷ 5 = 3 with a remainder of 2", 1.0), ("17 ÷ 5 = 2 with a remainder of 7", 0.0),
    ("17 / 5 = 3 R 2", 1.0), ("20 / 3 = 6 with 2 left over", 1.0), ("20 / 3 = 6 with 1 left over", 0.0),
])
def test_punctuation_after_a_remainder_changes_no_verdict(claim, step, end):
    assert _steps(claim + end)[0] == step, claim + end


def test_a_decimal_remainder_fails():
    assert _steps("17 / 5 = 3 remainder 2.5") == [0.0]


# -- 9. a rounding hedge only right after its side --------------------------------------------------

@pytest.mark.parametrize("text, steps", [
    ("He needs 48 / 5 = 9.5, rounded up to 10 boxes.", [0.0]),
    ("He needs 50 / 6 = 8.5, so rounded up that is 9 buses.", [0.0]),
    ("So 3 * 4 = 13 and we rounded nothing, so 13 + 1 = 14.", [0.0]),
    ("48 / 5 = 9.5 rounded up to 10", [0.0]),
    ("He needs 48 / 5 = 9.6, rounded up to 10 boxes.", [1.0]),
])
def test_words_about_rounding_elsewhere_hedge_nothing(text, steps):
    assert _steps(text) == steps, text


@pytest.mark.parametrize("text, steps", [("48 / 5 = 10 (rounded up)", [1.0]),  # (review: hedged links are checked)
                                         ("48 / 5 = 20 (rounded up)", [0.0]),
                                         ("2/3 = 0.67 dollars (rounded)", [1.0]),
                                         ("10 / 3 = 3.3 \\text{ kg} approximately", [None])])
def test_a_hedge_right_after_its_side_still_counts(text, steps):
    assert _steps(text) == steps, text


# -- 10. questions open with their asking word; "error-free" rejects nothing ----------------------

@pytest.mark.parametrize("text, steps", [
    ("Since 3 + 4 = 8, how many are left?", [0.0]),
    ("He has 3 + 4 = 8 apples, what does Tom have?", [0.0]),
    ("We have 3 + 4 = 8, right? so 8 * 2 = 16.", [0.0]),
    ("3 + 4 = 8, right?", [0.0]),
    ("3 + 4 = 8, correct?", [0.0]),
    ("3 + 4 = 8 is an error-free sum, and 8 * 2 = 16.", [0.0]),
    ("The answer is 3 + 4 = 8?", [0.0]),
])
def test_asserted_claims_with_a_question_or_tag_are_still_claims(text, steps):
    assert _steps(text) == steps, text


@pytest.mark.parametrize("text", ["Is 3 + 4 = 8? No.", "Does 7 * 8 = 57? Nope.", "Wait, does 7 * 8 = 57? Not quite.",
                                  "Is it true that 3 + 4 = 8? Well, no.", "So, is 3 + 4 = 8? Wrong: it is 7."])
def test_questions_answered_no_claim_nothing(text):
    v = verify_steps(text, timeout=10)
    assert set(v.steps) == {None} and v.details["claims"] == 0, (text, v.reason)


@pytest.mark.parametrize("text", ["Is 3 + 4 = 8?", "Does 7 * 8 = 57?", "Is it true that 3 + 4 = 8?"])
def test_questions_left_unanswered_are_asserted(text):
    # (a question mark alone must not hide a false step: "Is" + "?" would be the cheapest hack)
    assert _steps(text) == [0.0], text


# -- 11. a cut decimal never hides a false claim ------------------------------------------------------

@pytest.mark.parametrize("text, steps", [
    ("\\binom{5}{2} = 11.0...", [0.0]),
    ("\\gcd(12, 18) = 7.0...", [0.0]),
    ("\\sqrt{2} = 1.5...", [0.0]),
    ("60 \\text{ min} = 2.0... \\text{ h}", [0.0]),
    ("1 \\text{ m} = 3.29... \\text{ ft}", [0.0]),
    ("\\binom{5}{2} = 10.0...", [1.0]),
    ("\\sqrt{2} = 1.414...", [1.0]),
    ("1 \\text{ m} = 3.28... \\text{ ft}", [1.0]),      # 1 m is 3.2808... ft
])
def test_cut_decimals_the_cut_check_cannot_decide_are_judged_as_written(text, steps):
    assert _steps(text) == steps, text


# -- 12. a skipped remainder leaves its equation --------------------------------------------------------

@pytest.mark.parametrize("text, steps", [
    ("She had 20 / 4 = 5 cookies each and 3 left for the teacher.", [1.0]),
    ("She had 20 / 4 = 6 cookies each and 3 left for the teacher.", [0.0]),
    ("12 / 4 = 3 bags and 2 left", [1.0]),
])
def test_an_exact_division_with_something_left_is_read_as_written(text, steps):
    v = verify_steps(text, timeout=10)
    assert v.steps == steps and v.details["claims"] == 1, (text, v.reason)


# -- 13. the repeating 9 --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, steps", [
    ("2 = 1.9...", [0.0]), ("1 = 0.9...", [0.0]), ("3 + 4 = 6.9...", [0.0]), ("1/2 = 0.49...", [0.0]),
    ("3 + 4 = 6.99...", [1.0]), ("2 + 2 = 3.999...", [1.0]),
])
def test_only_two_or_more_nines_after_the_point_reach_the_next_value(text, steps):
    assert _steps(text) == steps, text


# -- 14. digits with "..." that are a rounding ----------------------------------------------------------

@pytest.mark.parametrize("text, steps", [
    ("100/7 = 14.3...", [1.0]),
    ("50 / 3 = 16.7... dollars", [1.0]),
    ("20/3 = 6.667...", [1.0]),
    ("100/7 = 14.2...", [1.0]),          # the cut-off reading
    ("100/7 = 14.4...", [0.0]),          # neither reading
    ("2/3 = 0.7...", [0.0]),             # one digit: too few for a rounding, and 2/3 does not begin with 0.7
])
def test_digits_with_an_ellipsis_hold_when_either_reading_does(text, steps):
    assert _steps(text) == steps, text


# -- second review of rules 7 -------------------------------------------------------------------------

GSM = ("Each box has 4 pens and he buys 3 boxes.\n{X}\nHe gives away 5, so 13 - 5 = 8 pens.\n"
       "Each pen costs $2, so 8 * 2 = 16 dollars.\nTax adds 4, so 16 + 4 = 20 dollars.\n#### 20")


@pytest.mark.parametrize("text", ["1 mile = 1.609 km", "1 kg = 2.20462 pounds", "10 km = 6.21 miles",
                                  "100 km = 62 miles", "1 inch = 2.5 cm", "1 year = 52 weeks", "2 years = 104 weeks",
                                  "1 \\text{ mile} = 1.609 \\text{ km}", "1 \\text{ year} = 52 \\text{ weeks}"])
def test_rounded_conversions_between_units_of_no_whole_rate_hold(text):
    assert _steps(text) == [1.0], text


@pytest.mark.parametrize("text, steps", [("1 km = 1 mile", [0.0]), ("1 mile = 1.7 km", [0.0]),
                                         ("The trip takes 3 hours = 200 minutes.", [0.0]),
                                         ("150 \\text{ cm} = 1 \\text{ m}", [0.0]),
                                         ("He works 8 hours = 1 day", [None]), ("2 days = 48 hours", [1.0])])
def test_conversions_that_do_not_round_or_are_conventions(text, steps):
    assert _steps(text) == steps, text


@pytest.mark.parametrize("x", ["Is 3 * 4 = 13? Yes.", "Were there 3 * 4 = 13 pens? Yes.", "Isn't 3 * 4 = 13? Indeed.",
                               "So 3 * 4 = 13 is wrong? No.", "It is not false that 3 * 4 = 13.",
                               "It is not true that 3 * 4 = 13 is wrong.", "So 3 * 4 = 13 roughly.",
                               "So 3 * 4 = 13 (rounded).", "So 3 * 4 \\approx 13 pens.", "So 3 * 4 = about 13 pens.",
                               "So 3 * 4 = 13 remainder.", "So 3 * 4 = 6.5... * 2 pens.", "So 3 * 4 = (13.0...) pens.",
                               "So 3 * 4 = 13.0... + 0 pens."])
def test_second_review_hacks_no_longer_hide_a_false_step(x):
    assert 0.0 in verify_steps(GSM.format(X=x), timeout=10).steps, x


@pytest.mark.parametrize("text", ["253/3 \\approx 84.3", "2/3 ≈ 0.67", "1/3 ≈ 0.3", "\\sqrt{2} \\approx 1.41",
                                  "2^{10} \\approx 1000", "45 \\times 19 \\approx 900", "1000/7 ≈ 143"])
def test_right_approximations_hold(text):
    assert _steps(text) == [1.0], text


@pytest.mark.parametrize("text, steps", [("253/3 ≈ 85.3", [0.0]), ("2^{10} \\approx 3000", [0.0]),
                                         ("12 + 1 = 14 roughly", [0.0]), ("(85+90+78)/3 = 86.33 approximately", [0.0]),
                                         ("45 \\times 19 \\approx 50 \\times 20", [None]), ("\\sqrt{2} \\approx 1.5", [None])])
def test_wrong_approximations_fail_and_undecidable_ones_claim_nothing(text, steps):
    assert _steps(text) == steps, text


def test_cut_padding_that_computes_nothing_earns_nothing():
    pad = "\n".join([f"{k} + 0 = {k}.0..." for k in range(2, 22)] + [f"({k}) = {k}.0..." for k in range(2, 22)])
    v = verify_steps("He buys 3 boxes of 4 pens, so 3 * 4 = 13 pens.\n" + pad, timeout=10)
    assert v.score == 0.0, v.steps


def test_a_zero_remainder_is_the_quotient_claim_once():
    v = verify_steps("20 / 4 = 5\n20 / 4 = 5 remainder 0", timeout=10)
    assert v.steps == [1.0, None] and v.details["claims"] == 1
    assert _steps("17 / 5 = 3 remainder") == [1.0] and _steps("17 / 5 = 4 remainder") == [0.0]


@pytest.mark.parametrize("text, steps", [("2 \\cdot 9 + 1 = 19, which is incorrect as a prime test", [1.0]),
                                         ("3 * 4 = 13 is wrong.", [None]), ("1/3 + 1/4 = 0.333... + 0.333...", [0.0])])
def test_rejection_ends_its_clause_and_ellipses_inside_sides(text, steps):
    assert _steps(text) == steps, text


# 15. rounded inputs in a chain of approximations

@pytest.mark.parametrize("text, steps", [
    ("$A = \\pi \\cdot 12^2 \\approx 3.14 \\times 144 \\approx 452.39$", [1.0]),  # holds by \pi 12^2
    ("$A = \\pi \\cdot 12^2 \\approx 3.14 \\times 144 \\approx 452.16$", [1.0]),  # holds by 3.14 * 144
    ("$C = 2\\pi \\cdot 7 \\approx 2 \\times 3.14 \\times 7 \\approx 43.98$", [1.0]),
    ("$\\frac{100}{7} \\approx 14.29$, so $14.29 \\times 3 \\approx 42.86$.", [1.0]),
    ("$A = 5000(1.04)^{10} \\approx 5000 \\times 1.4802 \\approx 7401.22$", [None]),  # nothing exact to check against
    ("The monthly payment is 200000 \\times 0.004167 \\approx 833.33.", [None]),
    ("$10000 \\times 1.08^{5} \\approx 10000 \\times 1.4693 \\approx 14693.28$", [None]),
    ("$A = \\pi \\cdot 12^2 \\approx 3.14 \\times 144 \\approx 470$", [None]),  # no rational value: no claim
    ("$x = 100/7 \\times 3 \\approx 14.29 \\times 3 \\approx 45$", [0.0]),  # false by both sides
    ("$x = 100/7 \\times 3 \\approx 14.29 \\times 3 \\approx 42.86$", [1.0]),
    ("$\\frac{100}{7} \\approx 14$ so $100/7 \\approx 15.3$", [0.0]),  # no rounded input: checked as before
])
def test_rounded_inputs_in_a_chain_never_fail_correct_work(text, steps):
    assert _steps(text) == steps, text


# 16. magnitude and percent words

@pytest.mark.parametrize("text", [
    "The population grows to 2,987,000 + 12,345 ≈ 3 million people.",
    "The population grows to $2987000 + 12345 \\approx 3$ million.",
    "Revenue is 1250 \\times 1980 ≈ 2.5 million dollars.", "So 1250 \\times 1980 = about 2.5 million.",
    "Total 365 \\times 24 \\times 60 ≈ 525 thousand minutes.", "It is 8 \\times 10^9 / 1 ≈ 8 billion.",
    "We get 149 \\times 12 ≈ 18 hundred.", "So 12 \\times 12 ≈ 12 dozen.", "The rate is 17/120 ≈ 14 percent.",
    "The rate is 17/120 ≈ 14 per cent.", "The rate is 17/120 ≈ 14.2 percent."])
def test_a_magnitude_word_after_an_approximate_number_makes_no_claim(text):
    assert _steps(text) == [None], text


@pytest.mark.parametrize("text, steps", [("So 5000 / 12 ≈ 417 per month.", [1.0]), ("So 1000 / 3 ≈ 333 each.", [1.0]),
                                         ("So 5000 / 12 ≈ 517 per month.", [0.0]),
                                         ("So 2,987,000 + 12,345 ≈ 3,000,000.", [1.0])])
def test_other_words_after_an_approximate_number_still_check_it(text, steps):
    assert _steps(text) == steps, text


# 17. padding with approximate links

@pytest.mark.parametrize("pad", [lambda k: f"{k} + 0 ≈ {k}", lambda k: f"({k}) \\approx {k}",
                                 lambda k: f"{k} \\cdot 1 \\approx {k}", lambda k: f"{k} + 0 = {k} roughly"])
def test_approximate_links_that_compute_nothing_earn_nothing(pad):
    text = "He buys 3 boxes of 4 pens, so 3 * 4 = 13 pens.\n" + "\n".join(pad(k) for k in range(2, 22))
    v = verify_steps(text, timeout=10)
    assert v.score == 0.0 and v.steps[1:] == [None] * 20, v.steps


@pytest.mark.parametrize("pad", [lambda k: "2 + 2 \\approx 4." + "0" * k, lambda k: "1/3 \\approx 0." + "3" * k])
def test_respelled_approximations_of_one_side_earn_credit_once(pad):
    text = "He buys 3 boxes of 4 pens, so 3 * 4 = 13 pens.\n" + "\n".join(pad(k) for k in range(2, 22))
    v = verify_steps(text, timeout=10)
    assert v.steps == [0.0, 1.0] + [None] * 19 and v.score == 0.5, v.steps


@pytest.mark.parametrize("text", ["2 + 2 = 4\n2 + 2 \\approx 4", "2 + 2 \\approx 4\n2 + 2 = 4",
                                  "2 + 2 = 4\n2 + 2 = 4 (approximately)", "20/3 = 6.666...\n20/3 \\approx 6.67"])
def test_an_approximation_of_a_side_stated_before_is_said_before(text):
    v = verify_steps(text, timeout=10)
    assert v.steps == [1.0, None] and v.details["repeated_claims"] == 1, (text, v.steps)


def test_a_false_approximation_is_not_hidden_by_a_true_one_of_its_side():
    assert _steps("2 + 2 \\approx 4\n2 + 2 \\approx 7") == [1.0, 0.0]
    assert _steps("3 * 4 + 0 \\approx 13") == [0.0]  # computing nothing, yet false: fails


# 18. yes-answers

@pytest.mark.parametrize("text", [
    "Is 3 * 4 = 13? Indeed it is.", "Is 3 * 4 = 13? That's right.", "Is 3 * 4 = 13? That is correct.",
    "Is 3 * 4 = 13? Of course.", "Is 3 * 4 = 13? So he has 13 pens.", "Is 3 * 4 = 13? Hmm, 13.",
    "Is 3 + 4 = 8? The correct sum is 7."])
def test_an_answer_that_does_not_open_with_no_asserts_the_question(text):
    # affirmations have too many wordings to list: only a leading no-word withdraws the chain (the
    # last case, a correction without "No", is asserted too: the price of closing the hack)
    assert _steps(text)[0] == 0.0, text


@pytest.mark.parametrize("text", ["Is 3 * 4 = 13? Yes.", "Is 3 * 4 = 13? Yes, it is.", "Is 3 * 4 = 13? Yes I think so.",
                                  "Is 3 * 4 = 13? Correct.", "Is 3 * 4 = 13? Right, so 13.", "Is 3 * 4 = 13? True!",
                                  "Is 3 * 4 = 13? Well, yes.", "Is 3 * 4 = 13? Hmm, correct.", "Is 3 * 4 = 13? **Yes.**",
                                  "Isn't 3 * 4 = 13? Indeed.", "Is 3 * 4 = 13?\nYes."])
def test_an_answer_that_opens_with_yes_asserts_the_question(text):
    assert _steps(text)[0] == 0.0, text


# 19. rounded conversions

@pytest.mark.parametrize("text", ["1 pound = 450 grams", "1 pound = 454 grams", "100 km = 62 miles",
                                  "1 mile = 1.61 km", "60 \\text{ mph} = 97 \\text{ km/h}"])
def test_trailing_zeros_of_a_converted_integer_are_not_significant(text):
    assert _steps(text) == [1.0], text


@pytest.mark.parametrize("text", ["1 kg = 2 pounds", "1 mile = 2 km", "1 inch = 3 cm", "1 gallon = 4 liters",
                                  "150 pounds = 70 kg", "1 pound = 500 grams", "60 \\text{ mph} = 100 \\text{ km/h}",
                                  "1 km = 0.6 miles", "1 inch = 2 cm"])
def test_a_conversion_of_one_significant_digit_makes_no_claim(text):
    assert _steps(text) == [None], text


@pytest.mark.parametrize("text", ["1 kg = 3 pounds", "1 km = 1 mile", "1 \\text{ m} = 4 \\text{ ft}",
                                  "1 pound = 460 grams", "150 pounds = 80 kg", "1 mile = 1.7 km"])
def test_a_conversion_that_is_no_rounding_still_fails(text):
    assert _steps(text) == [0.0], text
