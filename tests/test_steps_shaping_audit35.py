"""Audit 35 of the process reward (`verifiers/steps.py`, rules 8) and the format rewards (`verifiers/shaping.py`):

1. Correct working failed when a sum went on over a line or an aligned row (`Total = 120 + 45 + 30`, then
   `+ 15 = 210`) or left terms out with an ASCII "..." (`1 + 2 + ... + 10 = 55`): the tail `+ 15 = 210`
   was claimed. Such a first link is no claim now; a line or row that starts with a negative number or a
   list bullet after finished work is still a claim.
2. Rounding hedges "approx" (no dot), "(rounding)", "(to the) nearest ..." were not read as hedges, so
   `2/3 = 0.67 (approx)` failed; a hedge still excuses only a rounding that is close.
3. `answer_tag_reward` paired the first `<answer>` with the first `</answer>`, crediting the prose in
   "I'll use <answer> tags. <answer></answer>"; a closing tag pairs with the last opening tag before it.
4. `boxed_reward` credited boxes holding only an empty box or wrapper (`\\boxed{\\boxed{}}`).
5. An inline quotient of two numbers in scientific notation (`4.5 \\times 10^6 / 1.5 \\times 10^3`) was
   read by strict precedence, failing `= 3 \\times 10^3`; it is no side now, either way.
"""

from __future__ import annotations

import pytest

from rlvr.envs.answers import follows_tag_format
from rlvr.verifiers.shaping import answer_tag_reward, boxed_reward, tag_blocks
from rlvr.verifiers.steps import RULES_VERSION, find_claims, verify_steps


def _steps(text):
    return verify_steps(text, timeout=10).steps


def test_rules_version_bumped():
    assert RULES_VERSION >= 8


# -- 1. an expression going on over a line, a row, or a spaced "..." -------------------------------

@pytest.mark.parametrize("text", [
    "1 + 2 + 3 + ... + 10 = 55",
    "2 + 4 + 6 + ... + 20 = 110",
    "1 + 2 + 3 ... + 10 = 55",
    "Total = 120 + 45 + 30\n      + 15 = 210",
    "Total = 300 - 45 - 30\n      - 15 = 210",
    "Total = 120 + 45 + 30 +\n15 = 210",
    "\\begin{aligned} S &= 120 + 45 + 30 \\\\ &\\quad + 15 = 210 \\end{aligned}",
    "\\begin{aligned} S &= 300 - 45 - 30 \\\\ &\\quad - 15 = 210 \\end{aligned}",
    "\\begin{aligned}\nS &= 120 + 45 + 30 \\\\\n  &\\quad + 15 = 210\n\\end{aligned}",
    "$$120 + 45 + 30 \\\\ + 15 = 210$$",
])
def test_the_tail_of_an_expression_begun_before_makes_no_claim(text):
    verdict = verify_steps(text, timeout=10)
    assert verdict.correct and verdict.score == 1.0, verdict.reason
    assert all(step is None for step in verdict.steps)


@pytest.mark.parametrize("text", [
    "Total = 120 + 45 + 30\n      + 15 = 211",  # false either way: still no claim of the tail
    "1 + 2 + ... + 10 = 56",
])
def test_a_false_tail_makes_no_claim_either(text):
    assert all(step is None for step in _steps(text))


def test_the_rest_of_a_continued_chain_is_still_checked():
    assert _steps("$$120 + 45 + 30 \\\\ + 15 = 210 = 2 \\cdot 100$$") == [0.0]
    assert _steps("1 + 3 + 5 + ... + 19 = 10^2 = 100") == [1.0]
    assert _steps("1 + 3 + 5 + ... + 19 = 10^2 = 99") == [0.0]


def test_an_ascii_ellipsis_in_a_sum_no_longer_fails_the_step_after_it():
    assert verify_steps("The sum is 1 + 2 + ... + 100 = 5050.\nSo 5050 / 50 = 101.", timeout=10).score == 1.0


@pytest.mark.parametrize("text, steps", [
    ("-3 + 5 = 3", [0.0]),  # a negative number, alone
    ("x = 5\n-3 + 5 = 3", [None, 0.0]),  # after a finished line
    ("Compute:\n-3 + 5 = 3", [None, 0.0]),
    ("Sums:\n- 3 + 4 = 8", [None, 0.0]),  # a list bullet
    ("- 3 + 4 = 7\n- 5 + 6 = 12", [1.0, 0.0]),
    ("- 2 + 2 = 4 + 0\n- 5 + 6 = 12", [1.0, 0.0]),  # an item of the same list, after an unfinished-looking one
    ("5 - 2 = 3\n- 3 + 4 = 8", [1.0, 0.0]),
    ("**Total = 12 + 3**\n- 3 + 4 = 8", [None, 0.0]),  # emphasis is no operator
    ("---\n- 3 + 4 = 8", [None, 0.0]),  # nor is a rule
    ("Total = 120 + 45 + 30\n+ 15 = 210\n- 3 + 4 = 8", [None, None, 0.0]),
    ("\\begin{aligned} 3 + 4 &= 7 \\\\ -3 + 5 &= 3 \\end{aligned}", [0.0]),  # a row after a finished row
    ("$$ 3 + 4 = 7 \\\\ -3 + 5 = 3 $$", [0.0]),
    ("Hmm... -3 + 5 = 3", [0.0]),  # an ellipsis after a word still ends the sentence
    ("We tried... 3 + 4 = 8", [0.0]),
])
def test_a_negative_number_or_a_list_item_after_finished_work_is_still_a_claim(text, steps):
    assert _steps(text) == steps


def test_true_negatives_and_list_items_still_earn_credit():
    assert _steps("Compute:\n-3 + 5 = 2") == [None, 1.0]
    assert _steps("\\begin{aligned} 3 + 4 &= 7 \\\\ -3 + 5 &= 2 \\end{aligned}") == [1.0]
    assert find_claims("- 3 + 4 = 7") == [("3 + 4", "7")]


def test_a_cut_decimal_is_still_read():
    assert _steps("20/3 = 6.666...") == [1.0]
    assert _steps("20/3 = 6.7...") == [0.0]


# -- 2. rounding hedges --------------------------------------------------------------------------

@pytest.mark.parametrize("hedge", ["(approx)", "approx", "(approx )", "(rounding)", "(nearest hundredth)",
                                   "to the nearest hundredth", "(to the nearest hundredth)", "to nearest hundredth",
                                   "(approx.)", "approximately", "(rounded)"])
def test_a_close_rounding_hedged_in_any_of_these_words_holds(hedge):
    assert _steps(f"2/3 = 0.67 {hedge}") == [1.0]


def test_approx_before_the_side_is_a_hedge():
    assert _steps("2/3 = approx 0.67") == [1.0]
    assert _steps("2/3 = approx 0.9") == [0.0]


@pytest.mark.parametrize("text", ["2/3 = 0.9 (approx)", "3 * 4 = 13 approx", "3 * 4 = 13 (rounding)",
                                  "2/3 = 0.61 (nearest hundredth)", "2/3 = 0.5 to the nearest tenth",
                                  "100/7 = 13 (to the nearest whole number)"])
def test_a_hedge_excuses_no_rounding_that_is_not_close(text):
    assert _steps(text) == [0.0]


def test_unhedged_rounding_and_rounding_up_are_as_before():
    assert _steps("2/3 = 0.67") == [0.0]
    assert _steps("2/3 = 0.67 approxx") == [0.0]  # (not a hedge word)
    assert _steps("9.6 / 1 = 9.7 rounding up to 10") == [0.0]  # what is done next, not how 9.7 was found


# -- 5. scientific notation divided inline ---------------------------------------------------------

@pytest.mark.parametrize("text", [
    "4.5 \\times 10^6 / 1.5 \\times 10^3 = 3 \\times 10^3",
    "4.5 \\times 10^6 / 1.5 \\times 10^3 = 3 \\times 10^9",  # the strict reading is not credited either
    "4.5 \\times 10^{6} / 1.5 \\times 10^{3} = 3000",
    "4.5 × 10^6 ÷ 1.5 × 10^3 = 3000",
])
def test_an_inline_quotient_of_scientific_numbers_makes_no_claim(text):
    verdict = verify_steps(text, timeout=10)
    assert verdict.steps == [None] and verdict.details["claims"] == 0


def test_bracketed_or_fraction_scientific_quotients_are_still_claims():
    assert _steps("(4.5 \\times 10^6) / (1.5 \\times 10^3) = 3 \\times 10^3") == [1.0]
    assert _steps("\\frac{4.5 \\times 10^6}{1.5 \\times 10^3} = 3 \\times 10^4") == [0.0]
    assert _steps("4.5 \\times 10^6 / 1.5 = 3 \\times 10^6") == [1.0]


# -- 3. answer tags pair a closing tag with the last opening tag before it -------------------------

def test_a_tag_mentioned_in_prose_is_no_answer():
    text = "I'll use <answer> tags. <answer></answer>"
    assert answer_tag_reward(text) == 0.0 == float(follows_tag_format(text))
    assert answer_tag_reward("I'll use <answer> tags. <answer>7</answer>") == 1.0
    assert answer_tag_reward("<answer>7</answer>") == 1.0


def test_nearest_pairing_in_tag_blocks_and_the_default_unchanged():
    text = "a <answer> b <answer>7</answer> c <answer>8</answer>"
    assert [inner for _, _, inner in tag_blocks(text, "<answer>", "</answer>", nearest=True)] == ["7", "8"]
    assert [inner for _, _, inner in tag_blocks(text, "<answer>", "</answer>")] == [" b <answer>7", "8"]


# -- 4. boxes that hold only empty boxes or wrappers ----------------------------------------------

@pytest.mark.parametrize("text", ["\\boxed{\\boxed{}}", "\\boxed{\\fbox{}}", "\\boxed{\\boxed{\\text{}}}",
                                  "\\boxed{\\ensuremath{}}", "\\boxed{\\operatorname{}}", "\\boxed{\\sqrt{}}",
                                  "\\boxed{\\boxed{\\ensuremath{\\,}}}", "x \\boxed{\\fbox{ }}"])
def test_a_box_of_empty_wrappers_holds_nothing(text):
    assert boxed_reward(text) == 0.0


@pytest.mark.parametrize("text", ["\\boxed{\\boxed{5}}", "\\boxed{\\operatorname{lcm}}", "\\boxed{\\pi}",
                                  "\\boxed{\\infty}", "\\boxed{\\emptyset}", "\\boxed{\\sqrt{2}}",
                                  "\\boxed{\\fbox{x}}", "\\boxed{42}"])
def test_a_box_with_something_in_its_wrappers_still_counts(text):
    assert boxed_reward(text) == 1.0
