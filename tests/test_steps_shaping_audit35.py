"""Audit 35 of the process reward (`verifiers/steps.py`, rules 8) and the format rewards (`verifiers/shaping.py`):

1. Correct working failed when a sum went on over a line or an aligned row (`Total = 120 + 45 + 30`, then
   `+ 15 = 210`) or left terms out with an ASCII "..." (`1 + 2 + ... + 10 = 55`): the tail `+ 15 = 210`
   was claimed. Such a first link is no claim now (since the second review it is claimed as the whole
   expression, `120 + 45 + 30 + 15 = 210`); a line or row that starts with a negative number or a list
   bullet after finished work is still a claim.
2. Rounding hedges "approx" (no dot), "(rounding)", "(to the) nearest ..." were not read as hedges, so
   `2/3 = 0.67 (approx)` failed; a hedge still excuses only a rounding that is close.
3. `answer_tag_reward` paired the first `<answer>` with the first `</answer>`, crediting the prose in
   "I'll use <answer> tags. <answer></answer>"; a closing tag pairs with the last opening tag before it.
4. `boxed_reward` credited boxes holding only an empty box or wrapper (`\\boxed{\\boxed{}}`).
5. An inline quotient of two numbers in scientific notation (`4.5 \\times 10^6 / 1.5 \\times 10^3`) was
   read by strict precedence, failing `= 3 \\times 10^3`; a claim with one now holds by either reading.

A review of those fixes found six regressions, tested at the end of this file: a list after an intro or
display ending in an unevaluated sum lost its first item; a label ending in a sign ("Step 2 -", "Ca2+")
hid the next line's claim; "nearest" in prose ("the nearest shop") and "rounding error" were read as
hedges; "op ..." then words hid the restart's claim; and an inline scientific quotient hid claims false
by both readings (and the whole side with them).

A second review found four more, tested after those: a line opening with Markdown bold or emphasis
(`**Step 1:**`, `*Apples:*`) was read as `* ...` going on from an unevaluated sum, hiding its claim; "nearest"
before a prose word ("the nearest one", "nearest 5 houses") and "(rounding wrong)" were hedges; the grouped
scientific reading bracketed a power's base (`2^2 \\times 10^3 / ...`), whose check could eat the whole time
budget; and a wrong total on a continued line (`120 + 45 + 30`, then `+ 15 = 211`) was never checked.

A third review found six more, tested last: "rounded off to two decimal places" no longer hedged; a row or
line opening with a negative number after a finished equation (`7 = 3 + 4`, then `-2 = 3 - 5`) was joined
to it; a joined side was cut at 200 characters (a partial sum claimed); a product or quotient ending a
line after a sum (`120 + 45 + 30 /`, then `3 = 65`) was joined strictly; a numbering label "(2)" was read
as a factor and `*2` opening a line as emphasis; and a running total (`= 195`, then `+ 15 = 210`), a
continuation over three lines, and a bold line's sum were not joined, so correct work failed.

A fifth review found two more, tested at the very end: a line after a running total with a unit (`Width =
5 cm`, then `+ 3 + 4 = 8`) made no claim at all, and any word counted as a unit (`x = 5 so`); and 199 long
run-on lines took seconds per line to join.
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
])
def test_the_tail_of_an_expression_begun_before_makes_no_claim(text):
    verdict = verify_steps(text, timeout=10)
    assert verdict.correct and verdict.score == 1.0, verdict.reason
    assert all(step is None for step in verdict.steps)


@pytest.mark.parametrize("text", [
    "Total = 120 + 45 + 30\n      + 15 = 210",
    "Total = 120 + 45 + 30 +\n15 = 210",
    "\\begin{aligned} S &= 120 + 45 + 30 \\\\ &\\quad + 15 = 210 \\end{aligned}",
    "\\begin{aligned} S &= 300 - 45 - 30 \\\\ &\\quad - 15 = 210 \\end{aligned}",
    "\\begin{aligned}\nS &= 120 + 45 + 30 \\\\\n  &\\quad + 15 = 210\n\\end{aligned}",
    "$$120 + 45 + 30 \\\\ + 15 = 210$$",
])
def test_a_continued_expression_is_claimed_whole_and_holds(text):  # (second review: was no claim)
    verdict = verify_steps(text, timeout=10)
    assert verdict.correct and verdict.score == 1.0, verdict.reason
    assert 1.0 in verdict.steps and all(step in (None, 1.0) for step in verdict.steps)


@pytest.mark.parametrize("text", [
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
    ("Total = 120 + 45 + 30\n+ 15 = 210\n- 3 + 4 = 8", [None, 1.0, 0.0]),
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
    "4.5 \\times 10^6 / 1.5 \\times 10^3 = 3 \\times 10^9",  # the strict reading holds too
    "4.5 \\times 10^{6} / 1.5 \\times 10^{3} = 3000",
    "4.5 × 10^6 ÷ 1.5 × 10^3 = 3000",
])
def test_an_inline_quotient_of_scientific_numbers_holds_by_either_reading(text):
    verdict = verify_steps(text, timeout=10)
    assert verdict.steps == [1.0] and verdict.details["claims"] == 1


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


# -- review of the fixes above: what they must not catch -----------------------------------------

@pytest.mark.parametrize("text, steps", [
    # a list after a closed display: its items are claims (not the tail of the display's last side)
    ("$$12 \\times 15 = 12 \\times 10 + 12 \\times 5$$\n- $12 \\times 10 = 121$\n- $12 \\times 5 = 60$", [1.0, 0.0, 1.0]),
    ("$$12 \\times 15 = 12 \\times 10 + 12 \\times 5$$\n- $12 \\times 10 = 120$\n- $12 \\times 5 = 65$", [1.0, 1.0, 0.0]),
    ("\\[12 \\times 15 = 12 \\times 10 + 12 \\times 5\\]\n- 12 \\times 10 = 121", [1.0, 0.0]),
    ("$$12 \\times 15 = 12 \\times 10 + 12 \\times 5$$\n\n* $12 \\times 10 = 121$", [1.0, 0.0]),
    # a sure bullet: `*`, or `-` then maths, after an unevaluated sum
    ("We split 12 \\times 10 + 12 \\times 5\n* 12 \\times 10 = 121", [None, 0.0]),
    ("We split 12 \\times 10 + 12 \\times 5\n- $12 \\times 10 = 121$", [None, 0.0]),
    # a blank line: a new paragraph
    ("We need 120 + 45 + 30\n\n+ 15 = 211", [None, 0.0]),
    ("Total = 120 + 45 +\n\n15 = 211", [None, 0.0]),
])
def test_a_list_or_paragraph_after_an_unevaluated_sum_is_still_claimed(text, steps):
    assert _steps(text) == steps


def test_a_sure_bullet_still_goes_on_from_a_line_ending_in_an_operator():
    assert _steps("Total = 120 + 45 + 30 +\n* 15 = 210") == [None, 1.0]  # 120 + 45 + 30 + 15 = 210
    assert _steps("Total = 120 + 45 + 30 +\n* 15 = 211") == [None, 0.0]


@pytest.mark.parametrize("text, steps", [
    ("Step 2 -\n3 + 4 = 8", [None, 0.0]),
    ("Part (a) -\n3 + 4 = 8", [None, 0.0]),
    ("Case 1 -\n3 + 4 = 8\nCase 2 -\n5 + 6 = 12", [None, 0.0, None, 0.0]),
    ("Ages 18+\n3 + 4 = 8", [None, 0.0]),
    ("The ion is Ca2+\n2 * 40 = 81", [None, 0.0]),
    ("Step 2 -\n\n3 + 4 = 8", [None, 0.0]),
])
def test_a_sign_ending_a_label_hides_no_claim_on_the_next_line(text, steps):
    assert _steps(text) == steps


@pytest.mark.parametrize("text", ["120 + 45 +\n15 = 180", "Total = 120 +\n45 = 165", "S = 300 - 45 -\n30 = 225"])
def test_an_expression_ending_in_an_operator_still_goes_on(text):
    assert _steps(text) == [None, 1.0]  # the whole expression is claimed (`120 + 45 + 15 = 180`), not `15 = 180`


@pytest.mark.parametrize("text", ["It is 2.5 + 1.8 = 4 miles to the nearest gas station.",
                                  "12.4 + 3 = 15 km to the nearest shop", "He needs 48 / 5 = 9 nearest boxes",
                                  "2.4 * 3 = 7 dollars to the nearest cent",  # 7.20 to the nearest cent
                                  "1/3 = 0.3 to the nearest hundredth",
                                  "3.6 + 2.6 = 6 (rounding error)", "3.6 + 2.6 = 6 rounding mistake, should be 6.2",
                                  "3.6 + 2.6 = 6 (rounding-off error)"])
def test_nearest_in_prose_and_a_rounding_error_hedge_nothing(text):
    assert _steps(text) == [0.0]


@pytest.mark.parametrize("text", ["2.4 * 3 = 7 dollars to the nearest dollar", "2/3 = 0.67 to the nearest cent",
                                  "100/7 = 14 (to the nearest whole number)", "2/3 = 0.67 (to the nearest 0.01)",
                                  "2/3 = 0.667 to the nearest thousandth", "1000/7 = 140 to the nearest ten",
                                  "3.6 + 2.6 = 6 (rounded)"])
def test_nearest_a_place_or_unit_is_still_a_hedge(text):
    assert _steps(text) == [1.0]


@pytest.mark.parametrize("text, steps", [
    ("Let me compute 25 * 4 + ... Actually 25 * 4 = 90", [None, 0.0]),
    ("We add 5 + 6 + ... 5 + 6 = 12", [0.0]),
    ("Total = 12 + ... I think 3 * 4 = 13", [None, 0.0]),
    ("x = 3 * ... well 6 * 7 = 43", [0.0]),
])
def test_an_ellipsis_after_an_operator_then_words_ends_the_sentence(text, steps):
    assert _steps(text) == steps


def test_an_ellipsis_between_operators_is_still_inside_the_expression():
    assert _steps("1 - 2 + 3 - ... - 100 = -50") == [None]
    assert _steps("1 + 2 + ... + 10 = 55") == [None]


@pytest.mark.parametrize("text", [
    "3 \\times 10^8 / 1.5 \\times 10^8 = 3",  # 2 or 2 \\times 10^16
    "2 \\times 10^3 + 6 \\times 10^2 / 3 \\times 10^2 = 2201",  # 2002 or 22000
    "4.5 \\times 10^6 / 1.5 \\times 10^3 = 3 \\times 10^4",
])
def test_a_scientific_quotient_false_by_both_readings_fails(text):
    assert _steps(text) == [0.0]


def test_a_scientific_quotient_does_not_hide_the_rest_of_its_sentence():
    text = "The ratio is 2 \\times 10^3 / 4 = 500, and 6 \\times 10^2 / 3 \\times 10^2 = 7"
    verdict = verify_steps(text, timeout=10)
    assert verdict.steps == [0.0] and verdict.details["claims"] == 2
    assert _steps("2 \\times 10^3 + 6 \\times 10^2 / 3 \\times 10^2 = 2002") == [1.0]


def test_an_approximate_scientific_quotient_holds_by_either_reading():
    assert _steps("4.5 \\times 10^6 / 1.6 \\times 10^3 \\approx 2800") == [1.0]
    assert _steps("9 \\times 10^6 / 7 \\times 10^3 \\approx 1300") == [1.0]  # 1285.7...
    assert _steps("9 \\times 10^6 / 7 \\times 10^3 \\approx 5000") == [0.0]


# -- second review ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, steps", [
    ("We compute 25 \\times 4 + 25 \\times 6\n**Step 1:** 25 \\times 4 = 101\n**Step 2:** 25 \\times 6 = 150",
     [None, 0.0, 1.0]),
    ("The total cost is 3 * 4 + 2 * 5\n**3 * 4 = 13**\n**2 * 5 = 10**", [None, 0.0, 1.0]),
    ("Total cost = 3 \\times 4 + 2 \\times 5\n**Apples:** 3 \\times 4 = 13", [None, 0.0]),
    ("So we need $3 \\times 4 + 2 \\times 5$\n*Apples:* 3 \\times 4 = 13", [None, 0.0]),
])
def test_a_line_opening_with_emphasis_goes_on_from_nothing(text, steps):
    assert _steps(text) == steps


def test_a_line_opening_with_a_product_sign_still_goes_on():
    assert _steps("Total = 2 \\times 3\n\\times 4 = 24") == [None, 1.0]
    assert _steps("Total = 2 \\times 3\n\\times 4 = 25") == [None, 0.0]


@pytest.mark.parametrize("text", ["She drives 2.4 + 1.8 = 4 km to the nearest one.",
                                  "We need 9.4 + 3 = 12 nearest 5 houses", "2.4 + 1.8 = 4 nearest ones",
                                  "2/3 = 0.65 to the nearest 0.05 dollars",
                                  "3.6 + 2.6 = 6 (rounding wrong)", "3.6 + 2.6 = 6 (rounding incorrectly)",
                                  "3.6 + 2.6 = 6 (rounded badly)", "3.6 + 2.6 = 6 (rounding off by 0.2)"])
def test_nearest_before_a_prose_word_and_a_wrong_rounding_hedge_nothing(text):
    assert _steps(text) == [0.0]


@pytest.mark.parametrize("text", ["100/7 = 14 to the nearest unit.", "100/7 = 14 (nearest ones)",
                                  "100/7 = 14 to the nearest ones place", "2/3 = 0.7 (to the nearest 0.1)",
                                  "2/3 = 0.67 (rounding off)"])
def test_a_place_ending_the_phrase_and_rounding_off_are_still_hedges(text):
    assert _steps(text) == [1.0]


def test_the_grouped_scientific_reading_starts_only_at_a_free_standing_number():
    from rlvr.verifiers.steps import _sci_grouped
    assert _sci_grouped("2^2 \\times 10^3 / 4 \\times 10^2") is None
    assert _sci_grouped("10^{ 2 \\times 10^3 / 4 \\times 10^2}") is None
    assert _sci_grouped("2 \\times 10^3 / 4 \\times 10^2^{5}") is None
    assert _sci_grouped("2 \\times 10^3 / 4 \\times 10^2") == "(2 \\times 10^3) / (4 \\times 10^2)"
    assert _steps("2^2 \\times 10^3 / 4 \\times 10^2 = 10") == [0.0]  # 100000 strictly; no other reading


def test_a_grouped_scientific_reading_leaves_the_budget_to_later_claims():
    # read as 9^(9 \\times 10^9) / ..., the grouped check ran out the whole budget and the next claim timed out
    verdict = verify_steps("9^9 \\times 10^9 / 3 \\times 10^1 = 5\n\\sqrt{8} = 2\\sqrt{2}", timeout=5)
    assert verdict.steps == [0.0, 1.0], verdict.reason


@pytest.mark.parametrize("text, steps", [
    ("Total = 120 + 45 + 30\n+ 15 = 211", [None, 0.0]),
    ("Total = 120 + 45 + 30\n+ 15 = 210", [None, 1.0]),
    ("\\begin{aligned} T &= 120 + 45 + 30 \\\\ &+ 15 = 211 \\end{aligned}", [0.0]),
    ("\\begin{aligned} T &= 120 + 45 + 30 \\\\ &+ 15 = 210 \\end{aligned}", [1.0]),
    ("Profit = 50 -\n20 = 31", [None, 0.0]),
    ("Profit = 50 -\n20 = 30", [None, 1.0]),
    ("Cost of apples: 3 * 4 = 12\nCost of pears: 2 * 5 = 10\nTotal = 12 + 10 + 8\n+ 6 = 37", [1.0, 1.0, None, 0.0]),
    ("Total = 1,200 + 300\n+ 500 = 2,000", [None, 1.0]),
])
def test_a_continued_line_or_row_is_checked_as_the_whole_expression(text, steps):
    assert _steps(text) == steps


def test_a_continued_aligned_row_starting_with_minus_is_joined():
    assert _steps("\\begin{aligned} S &= 300 - 45 - 30 \\\\ &\\quad - 15 = 211 \\end{aligned}") == [0.0]


@pytest.mark.parametrize("text", [
    "We compute 25 \\times 4 + 25 \\times 6\n+ 10 = 261",  # words before the expression: not surely all of it
    "Total = \\$120 + \\$45\n+ \\$15 = \\$181",  # currency: not joined
    "Total = 300 - 45 - 30\n- 15 = 211",  # `- ` may be a list bullet (`- 3 + 4 = 7`): not joined
    "Total = 300 - 45 - 30\n      - 15 = 210",
])
def test_a_continuation_that_cannot_be_joined_safely_is_still_no_claim(text):
    assert _steps(text) == [None, None]


# -- third review ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["2/3 = 0.67 (rounded off to two decimal places)",
                                  "2/3 = 0.67 rounded off to 2 decimal places", "2/3 = 0.67 (rounded off to 2 d.p.)",
                                  "2/3 = 0.67 (rounding off to 2 decimal places)"])
def test_rounded_off_to_some_places_is_a_hedge_again(text):
    assert _steps(text) == [1.0]


@pytest.mark.parametrize("text", ["3.6 + 2.6 = 6 (rounding was off)", "3.6 + 2.6 = 6 (rounded off by 0.2)",
                                  "2/3 = 0.9 (rounded off to one decimal place)"])
def test_rounding_off_by_or_a_far_rounding_still_hedges_nothing(text):
    assert _steps(text) == [0.0]


@pytest.mark.parametrize("text, steps", [
    ("\\begin{aligned} 12 &= 4 \\times 3 \\\\ -12 &= -4 \\times 3 \\end{aligned}", [1.0]),
    ("\\begin{aligned} 7 &= 3 + 4 \\\\ -2 &= 3 - 5 \\end{aligned}", [1.0]),
    ("$$ 10 = 6 + 4 \\\\ -4 = 6 - 10 $$", [1.0]),
    ("7 = 3 + 4\n-2 = 3 - 5", [1.0, 1.0]),
    ("12 = 4 \\times 3\n-12 = -4 \\times 3", [1.0, 1.0]),
    ("7 = 3 + 4\n-2 = 3 - 6", [1.0, 0.0]),  # a claim of its own, checked
    ("\\begin{aligned} 7 &= 3 + 4 \\\\ -2 &= 3 - 6 \\end{aligned}", [0.0]),
])
def test_a_negative_number_opening_a_row_after_a_finished_equation_is_a_new_claim(text, steps):
    assert _steps(text) == steps


def test_a_spaced_or_unfinished_sign_row_still_goes_on():
    assert _steps("\\begin{aligned} S &= 300 - 45 - 30 \\\\ &\\quad - 15 = 210 \\end{aligned}") == [1.0]
    assert _steps("Total = 300 - 45 - 30\n-15 = 210") == [None, 1.0]  # `Total` is no number: not finished


def test_a_side_begun_before_the_window_read_is_not_joined():
    terms = [100 + i for i in range(120)]  # over 600 characters
    text = f"Total = {' + '.join(map(str, terms))}\n+ 15 = {sum(terms) + 15}"
    assert _steps(text) == [None, None]  # (a partial sum of its last terms was claimed, and failed)
    short = terms[:40]  # within the window: joined whole and checked
    assert _steps(f"Total = {' + '.join(map(str, short))}\n+ 15 = {sum(short) + 15}") == [None, 1.0]
    assert _steps(f"Total = {' + '.join(map(str, short))}\n+ 15 = {sum(short) + 16}") == [None, 0.0]


@pytest.mark.parametrize("text", ["Average = 120 + 45 + 30 /\n3 = 65", "Average = 120 + 45 + 30 \\div\n3 = 65",
                                  "Total = 12 + 8 \\times\n2 = 40", "Total = 120 + 45 + 30\n\\times 2 = 390"])
def test_a_product_or_quotient_after_a_sum_holds_by_the_whole_sum_either_way_it_is_broken(text):
    # (third review: no claim; fourth review: it holds by either reading, see below)
    assert _steps(text) == [None, 1.0]


def test_a_product_ending_a_line_after_a_product_is_still_joined():
    assert _steps("Total = 2 \\times 3 \\times\n4 = 24") == [None, 1.0]
    assert _steps("Total = 2 \\times 3 \\times\n4 = 25") == [None, 0.0]


@pytest.mark.parametrize("text, steps", [
    ("(2) 120 + 45 + 30\n+ 15 = 210", [None, 1.0]),
    ("(2) 120 + 45 + 30\n+ 15 = 211", [None, 0.0]),
    ("(3) 12 + 8\n+ 5 = 25", [None, 1.0]),
    ("2. 120 + 45 + 30\n+ 15 = 210", [None, 1.0]),
    ("Total = 3 * 4\n*2 = 24", [None, 1.0]),  # `*2` is a product going on, no emphasis
    ("Total = 3 * 4\n*2 = 25", [None, 0.0]),
])
def test_a_numbering_label_is_no_factor_and_a_star_before_a_number_is_a_product(text, steps):
    assert _steps(text) == steps


@pytest.mark.parametrize("text, steps", [
    ("Total = 120 + 45 + 30 = 195\n+ 15 = 210", [1.0, 1.0]),  # a running total: 195 + 15 = 210
    ("Total = 120 + 45 + 30 = 195\n+ 15 = 211", [1.0, 0.0]),
    ("Total = 120 + 45\n+ 30\n+ 15 = 210", [None, None, 1.0]),  # carried over two lines
    ("Total = 120 + 45\n+ 30\n+ 15 = 211", [None, None, 0.0]),
    ("Total = 120 + 45 +\n30 +\n15 = 210", [None, None, 1.0]),
    ("\\begin{aligned} S &= 1 + 2 = 3 \\\\ &+ 4 = 7 \\end{aligned}", [1.0]),
    ("\\begin{aligned} S &= 1 + 2 = 3 \\\\ &+ 4 = 8 \\end{aligned}", [0.0]),
    ("\\begin{aligned} S &= 10 - 2 = 8 \\\\ &- 3 = 5 \\end{aligned}", [1.0]),
    ("**Total = 120 + 45 + 30**\n+ 15 = 210", [None, 1.0]),  # bold markers are no part of the sum
    ("**Total = 120 + 45 + 30**\n+ 15 = 211", [None, 0.0]),
])
def test_running_totals_three_line_sums_and_bold_lines_are_joined(text, steps):
    assert _steps(text) == steps


@pytest.mark.parametrize("text, steps", [
    ("5 - 2 = 3\n- 3 + 4 = 8", [1.0, 0.0]),  # a list item after a running total
    ("Total = 195\n- 15 = 180", [None, 0.0]),
    ("**Total = 12 + 3**\n- 3 + 4 = 8", [None, 0.0]),
    ("\\begin{aligned} 3 + 4 &= 7 \\\\ - 3 + 5 &= 2 \\end{aligned}", [1.0]),  # more than one term: a claim
])
def test_a_dash_after_a_running_total_or_a_bold_line_is_still_a_list_item(text, steps):
    assert _steps(text) == steps


# -- fourth review ---------------------------------------------------------------------------------
# An expression broken over lines or rows is ambiguous in places: every plausible reading is checked and
# the claim fails only when none holds; where no reading can be formed safely there is no claim.


@pytest.mark.parametrize("text, steps", [
    ("\\begin{align*}\nT &= 120 + 45 \\\\\n&+ 30 \\\\\n&+ 15 = 211\n\\end{align*}", [None, None, None, 0.0, None]),
    ("\\begin{align*}\nT &= 120 + 45 \\\\\n&+ 30 \\\\\n&+ 15 = 210\n\\end{align*}", [None, None, None, 1.0, None]),
    ("$$\nT = 120 + 45 \\\\\n+ 30 \\\\\n+ 15 = 211\n$$", [None, None, None, 0.0, None]),
    ("\\begin{aligned}\nT &= 120 + 45 \\\\\n&\\quad + 30 \\\\\n&\\quad + 15 = 211\n\\end{aligned}",
     [None, None, None, 0.0, None]),
])
def test_a_sum_over_three_rows_on_their_own_lines_is_joined_without_its_row_breaks(text, steps):
    # the row break `\\` ending a line stayed inside the joined sum, which could not be read: no claim
    assert _steps(text) == steps


@pytest.mark.parametrize("text, steps", [
    ("Average = (120 + 45 + 30) /\n3 = 70", [None, 0.0]),  # the sum is bracketed: one reading
    ("Average = (120 + 45 + 30) /\n3 = 65", [None, 1.0]),
    ("Average = (120 + 45 + 30)\n/ 3 = 70", [None, 0.0]),
    ("Cost = 3 \\times 4 + 2 \\times\n6 = 25", [None, 0.0]),  # neither 24 nor (12 + 2) * 6 = 84
    ("Cost = 3 \\times 4 + 2 \\times\n6 = 24", [None, 1.0]),
    ("Cost = 3 \\times 4 + 2 \\times\n6 = 84", [None, 1.0]),
    ("Average = 120 + 45 + 30 /\n3 = 999", [None, 0.0]),  # neither 65 nor 175
    ("Average = 120 + 45 + 30 /\n3 = 175", [None, 1.0]),
])
def test_a_product_or_quotient_after_a_sum_is_checked_by_both_readings(text, steps):
    # a `+` anywhere (in brackets, in a product term) made any product after it no claim: wrong work passed
    assert _steps(text) == steps


@pytest.mark.parametrize("text, steps", [
    ("Total = 120 + 45\n+ 30\n= 200", [None, None, 0.0]),
    ("Total = 120 + 45\n+ 30\n= 195", [None, None, 1.0]),
    ("Total = 120 + 45\n+ 30\n+ 15\n= 999", [None, None, None, 0.0]),
    ("\\begin{align*}\nT &= 120 + 45 \\\\\n&+ 30 \\\\\n&= 200\n\\end{align*}", [None, None, None, 0.0, None]),
    ("\\begin{aligned} T &= 120 + 45 \\\\ &+ 30 \\\\ &= 200 \\end{aligned}", [0.0]),
    ("\\begin{aligned} T &= 120 + 45 \\\\ &+ 30 \\\\ &= 195 \\end{aligned}", [1.0]),
])
def test_a_result_line_after_a_sum_going_on_continues_the_whole_sum(text, steps):
    assert _steps(text) == steps


@pytest.mark.parametrize("text, steps", [
    ("Total = 195\n+ 15 = 210\n+ 5 = 215", [None, 1.0, 1.0]),
    ("Total = 195\n+ 15 = 210\n+ 5 = 216", [None, 1.0, 0.0]),
    ("Total = 120 + 45\n+ 30 = 195\n+ 15 = 210", [None, 1.0, 1.0]),
    ("Total = 120 + 45 = 165\n+ 30 = 195\n+ 15 = 210", [1.0, 1.0, 1.0]),
    ("\\begin{aligned} T &= 120 + 45 \\\\ &+ 30 \\\\ &+ 15 = 210 \\end{aligned}", [1.0]),
    ("\\begin{aligned} T &= 120 + 45 \\\\ &+ 30 \\\\ &+ 15 = 211 \\end{aligned}", [0.0]),
    ("\\begin{aligned} T &= 195 \\\\ &+ 15 = 210 \\\\ &+ 5 = 215 \\end{aligned}", [1.0]),
    ("$$T = 120 + 45 \\\\ + 30 \\\\ + 15 = 210$$", [1.0]),
    # a list of `+ ` items: each holds alone (the running-total reading is checked too)
    ("+ 3 + 4 = 7\n+ 5 + 6 = 11", [1.0, 1.0]),
    ("+ 3 + 4 = 7\n+ 5 + 6 = 12", [1.0, 0.0]),
])
def test_a_running_chain_of_plus_lines_or_rows_is_not_read_as_a_list(text, steps):
    assert _steps(text) == steps


@pytest.mark.parametrize("text", ["Cost = \\$12\n+ \\$3 = \\$15", "Cost = \\$12\n+ \\$3 = \\$16",
                                  "Cost = 12 dollars\n+ 3 dollars = 16 dollars"])
def test_a_running_total_with_a_unit_is_no_claim_rather_than_its_fragment_alone(text):
    assert _steps(text) == [None, None]  # (`3 = 15` was claimed, failing correct work)


@pytest.mark.parametrize("text, steps", [
    ("x = 2 ** 3 + 4\n+ 5 = 17", [None, 1.0]),
    ("x = 2 ** 3 + 4\n+ 5 = 99", [None, 0.0]),  # `**` between operands is a power, not bold
    ("x = 10 + 2 ** 3\n+ 1 = 50", [None, 0.0]),
    ("**Total = 120 + 45 + 30**\n+ 15 = 211", [None, 0.0]),
])
def test_a_spaced_power_is_no_bold_marker(text, steps):
    assert _steps(text) == steps


@pytest.mark.parametrize("text, steps", [
    ("E = 12 + 8\n-3 + 5 = 2", [None, 1.0]),  # a new claim, true alone
    ("E = 12 + 8\n-3 + 5 = 22", [None, 1.0]),  # the sum going on, true joined
    ("E = 12 + 8\n-3 + 5 = 7", [None, 0.0]),  # neither
    ("Total = 300 - 45 - 30\n-15 = 210", [None, 1.0]),
])
def test_a_sign_stuck_to_a_number_after_an_unfinished_sum_holds_by_either_reading(text, steps):
    assert _steps(text) == steps


def test_a_claim_holding_by_one_reading_is_a_repeat_of_that_claim():
    v = verify_steps("2 + 2 = 4\n+2+2=4\n7 * 8 = 57")
    assert v.steps == [1.0, None, 0.0]


# -- a fifth review: a unit total hid the next line's own claim; long run-on lines were slow ----------

@pytest.mark.parametrize("text, steps", [
    ("Width = 5 cm\n+ 3 + 4 = 8", [None, 0.0]),  # read alone: `3 + 4 = 8`, a claim of its own
    ("Width = 5 cm\n+ 3 + 4 = 7", [None, 1.0]),
    ("Price = \\$12\n+ \\$3 + \\$4 = \\$8", [None, 0.0]),
    ("So x = 5 so\n+ 3 + 4 = 8", [None, 0.0]),  # "so" names no unit
    ("Distance = 40 km\n+ 2 \\times 15 = 31", [None, 0.0]),
    ("Distance = 40 km\n+ 2 \\times 15 = 30", [None, 1.0]),
    ("Cost = \\$12\n+ \\$3 = \\$15 = \\$16", [None, 0.0]),  # only the fragment's own link is no claim
    ("$$\\begin{aligned} Cost &= \\$12 \\\\ &+ 3 + 4 = 8 \\end{aligned}$$", [0.0]),
])
def test_a_line_after_a_unit_total_is_read_alone_when_its_first_side_is_whole(text, steps):
    # (these made no claim at all: the whole line's claims went with its fragment's first link)
    assert _steps(text) == steps


@pytest.mark.parametrize("text, steps", [
    ("Cost = \\$12\n+ \\$3 = \\$15", [None, None]),  # read alone it would claim `3 = 15`
    ("Rate = 5 km/h\n+ 3 = 8", [None, None]),
    ("$$\\begin{aligned} Cost &= \\$12 \\\\ &+ \\$3 = \\$15 \\end{aligned}$$", [None]),
    ("So x = 5 so\n+ 3 = 8", [None, 0.0]),  # no unit: the line alone, as ever
    ("Total = 12 apples\n+ 3 = 15", [None, 0.0]),
])
def test_a_one_term_fragment_after_a_unit_total_makes_no_claim(text, steps):
    assert _steps(text) == steps


def test_a_sum_run_on_over_many_lines_is_joined_only_within_the_window():
    # 199 such lines of 10,000 characters took 14 s (the trailing layout of the whole joined text was
    # stripped at each line); now 1-2 s
    lines = "Total = 1 + 1\n" + "+ 1 + 1 + 1 + 1 + 1 \\\\ \n" * 3
    assert _steps(lines + "+ 1 = 18")[-1] == 1.0
    assert _steps(lines + "+ 1 = 19")[-1] == 0.0
    long = "Total = 1 + 1\n" + "+ 1 + 1 + 1 + 1 + 1 \\\\ \n" * 40  # over 600 characters: begun before the window
    assert _steps(long + "+ 1 = 203")[-1] is None
    assert _steps(long + "+ 1 = 999")[-1] is None


def test_stripping_trailing_layout_from_the_end_only_matches_stripping_the_whole():
    import random

    from rlvr.verifiers.step_goes_on import _TRAILING_LAYOUT_RE, _without_trailing_layout
    rng = random.Random(35)
    tokens = ["x", "1", " ", "\\\\", "\\", "$", "&", "\\quad", "\\qquad", "quad", "\\]", ")", "+", "\n"]
    for _ in range(3000):
        s = "".join(rng.choice(tokens) for _ in range(rng.randint(0, 300)))
        assert _without_trailing_layout(s) == _TRAILING_LAYOUT_RE.sub("", s), repr(s)
    s = "1 + 1" + " \\qquad \\\\ &" * 100
    assert _without_trailing_layout(s) == "1 + 1"
