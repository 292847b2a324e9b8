"""Review 39 of the process reward (`rlvr.verifiers.steps`): approximate chains read in linear time,
grid environments (`array`, matrices, `cases`) and Markdown tables read row by row and cell by cell,
and approximate numbers held to a rounding or truncation of the value."""

import pytest

from rlvr.verifiers.steps import RULES_VERSION, find_claims, verify_steps


def score(text):
    return verify_steps(text).score


# -- 1. a long chain of approximate links ----------------------------------------------------------

# (hang guards: each took 20-110 s before, a fraction of a second now; the speed itself is not asserted)
@pytest.mark.timeout(30)
@pytest.mark.parametrize("sep", ["≈", "\\approx "])
def test_long_approx_chain_is_read_whole(sep):
    got = verify_steps(sep.join(["1.1"] * (64000 // (3 + len(sep)))), timeout=1.0)
    assert (got.score, got.reason) == (1.0, "nothing checkable")  # a number ≈ a number claims nothing


@pytest.mark.timeout(30)
def test_long_approx_chain_after_an_exact_side_is_read_whole():
    got = verify_steps("\\pi \\approx " + "≈".join(["3.14 \\times 1"] * 4000), timeout=1.0)
    assert (got.score, got.reason) == (1.0, "nothing checkable")


@pytest.mark.parametrize("text, expected", [
    ("\\frac{1}{3} \\cdot 300 \\approx 0.33 \\times 300 \\approx 99", 1.0),
    ("\\frac{1}{3} \\cdot 300 \\approx 0.33 \\times 300 \\approx 100", 1.0),  # by the first exact side
    ("\\frac{1}{3} \\cdot 300 \\approx 0.33 \\times 300 \\approx 120", 0.0),
    ("\\frac{1}{3} \\cdot 300 \\approx 0.33 \\times 300 \\approx 110", 0.0),  # (within one unit: held before)
    ("1.1 \\approx 1.1 \\approx 1.1", 1.0),
])
def test_approx_chains_keep_their_verdicts(text, expected):
    assert score(text) == expected


# -- 2. grid environments ------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    r"\begin{array}{l} 12 + 5 = 17 \\ 18 \times 2 = 37 \end{array}",
    r"\[\begin{array}{l} 12 + 5 = 18 \\ 18 \times 2 = 36 \end{array}\]",
    r"$\begin{array}{rcl} 12 + 5 &=& 17 \\ 18 \times 2 &=& 37 \end{array}$",
    r"\begin{array}[t]{@{}l@{}} 3 \times 4 = 13 \end{array}",
    r"\begin{array}{|c|} 3 \times 4 = 13 \end{array}",
    r"\begin{cases} 3 \times 4 = 13 \end{cases}",
    r"\begin{matrix} 12 + 5 = 18 \end{matrix}",
    "$$\\begin{array}{l}\n12 + 5 = 17 \\\\\n18 \\times 2 = 37 \\end{array}$$",
    "$$\\begin{array}{l} 12 + 5 = 18 \\\\\n18 \\times 2 = 36\n\\end{array}$$",
])
def test_false_rows_of_grids_are_found(text):
    assert score(text) < 1.0


def test_grid_rows_are_all_claimed():
    claims = find_claims(r"\begin{array}{l} 12 + 5 = 17 \\ 18 \times 2 = 36 \\ 1 + 1 = 2 \end{array}")
    assert claims == [("12 + 5", "17"), ("18 \\times 2", "36"), ("1 + 1", "2")]
    assert score(r"\begin{array}{l} 12 + 5 = 17 \\ 18 \times 2 = 36 \end{array}") == 1.0


@pytest.mark.parametrize("text, claims", [
    (r"\begin{pmatrix}1\\2\end{pmatrix} + \begin{pmatrix}5\\4\end{pmatrix} = \begin{pmatrix}6\\6\end{pmatrix}", []),
    (r"\begin{vmatrix} 1 & 2 \\ 3 & 4 \end{vmatrix} = -2", []),
    (r"\begin{vmatrix} 1 & 2 \\ 3 & 4 \end{vmatrix} = 1 \cdot 4 - 2 \cdot 3 = -2", [("1 \\cdot 4 - 2 \\cdot 3", "-2")]),
    (r"\begin{pmatrix} 2 & 0 \\ 0 & 3 \end{pmatrix}^2 = \begin{pmatrix} 4 & 0 \\ 0 & 9 \end{pmatrix}", []),
    (r"\left|\begin{array}{cc} 1 & 2 \\ 3 & 4 \end{array}\right| = -2", []),
    (r"f(x) = \begin{cases} 2x & x > 0 \\ 0 & \text{otherwise} \end{cases}", []),
])
def test_matrices_make_no_bogus_claims(text, claims):
    assert find_claims(text) == claims
    assert score(text) == 1.0


# -- 3. Markdown tables and bars ------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "| Apples | 3 × 4 = 13 |",
    "| 2 | 12 + 5 = 18 |",
    "3 * 4 = 12 | 5 * 6 = 31",
    "|1|3*4=13|",
    "Total | 3 * 4 = 13",
    "| Item | Cost |\n|------|------|\n| Apples | 3 × 4 = 13 |\n| Pears | 2 × 5 = 10 |",
])
def test_false_claims_in_tables_are_found(text):
    assert score(text) < 1.0


def test_table_cells_are_read_on_their_own():
    assert find_claims("| 1 | 3 × 4 = 12 | 12 |") == [("3 × 4", "12")]
    assert score("| 1 | 3 × 4 = 12 | 12 |") == 1.0
    assert find_claims("3 * 4 = 12 | 5 * 6 = 30") == [("3 * 4", "12"), ("5 * 6", "30")]


@pytest.mark.parametrize("text, expected", [
    ("|3 - 5| = 2", 1.0),
    ("|3 - 5| = 3", 0.0),
    ("2 = |3 - 5|", 1.0),
    ("|3 - 5| = |5 - 4|", 0.0),
    ("\\left| 3 - 5 \\right| = 3", 0.0),
    ("| -3 | + | 4 | = 7", 1.0),
    ("| 1 | $|3 - 8| = 4$ |", 0.0),
    ("Since 3 | 12, we get 12 / 3 = 5", 0.0),
    ("Since 3 | 12, we get 12 / 3 = 4", 1.0),
])
def test_absolute_values_and_divisibility_still_read(text, expected):
    assert score(text) == expected


def test_symbolic_absolute_value_makes_no_claim():
    assert find_claims("|x - 3| = 5") == []


# -- 4. approximate numbers -----------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["3 * 4 \\approx 20", "1000 + 1 \\approx 2000", "37/3 \\approx 13",
                                  "1000 + 999 \\approx 1000", "2/3 \\approx 0.5", "17/3 \\approx 5"])
def test_approx_off_by_most_of_a_unit_fails(text):
    assert score(text) == 0.0


@pytest.mark.parametrize("text", ["2^{10} \\approx 1000", "45 \\times 19 \\approx 900", "253/3 \\approx 84.3",
                                  "17/3 \\approx 6", "17/3 \\approx 5.6", "17/3 \\approx 5.67", "-17/3 \\approx -5.6",
                                  "5/2 \\approx 2", "5/2 \\approx 3", "1/3 \\approx 0.33"])
def test_honest_roundings_and_truncations_hold(text):
    assert score(text) == 1.0


# -- 5. review of rules 10 ----------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "37 / 3 = 13 (rounded up)",
    "They need 41 / 5 ≈ 9 (rounded up).",
    "Each pays 100 / 3 = 33.34 (rounded up)",
    "1349 / 2 = 674 (rounded down)",
    "1349 / 2 = 600 (rounded down to the nearest hundred)",
    "1349 / 2 = 700 (rounded up to the nearest hundred)",
    "37 / 3 = 12 (rounded down)",
])
def test_a_named_rounding_direction_holds(text):
    assert score(text) == 1.0


@pytest.mark.parametrize("text", [
    "37 / 3 = 14 (rounded up)",
    "37 / 3 = 12 (rounded up)",  # the nearest, but not the way it says
    "100 / 3 = 33.33 (rounded up)",
    "1349 / 2 = 700 (rounded down)",
])
def test_a_named_rounding_direction_is_still_checked(text):
    assert score(text) == 0.0


@pytest.mark.parametrize("text", [
    "| 3 - 5 | + 1 = 3",
    "The difference is | 15 - 22 | - 2 = 5 degrees.",
    "x = 2 \\cdot | 3 - 8 | + 1 = 11",
    "$$| 5 - 8 | - 1 = 2$$",
    "| -2 | \\times | -3 | - 1 = 5",
    "| -3 | \\cdot 2 = 6",
    "| 3 - 5 |^2 = 4",
])
def test_spaced_absolute_values_before_an_operator_are_read_whole(text):
    assert score(text) == 1.0
    assert len(find_claims(text)) == 1 and "|" in find_claims(text)[0][0]


@pytest.mark.parametrize("text", [
    "| 2 - 8 | / 2 = 4",
    "The error is | 12 - 10 | / 10 = 0.3",
    "| -3 | \\cdot 2 = 7",
    "| 3 - 5 |^2 = 5",
    "| -2 | \\times | -3 | - 1 = 6",
])
def test_false_claims_with_spaced_absolute_values_fail(text):
    assert score(text) == 0.0


@pytest.mark.parametrize("rule", ["\\hline", "\\hline\\hline", "\\cline{1-2}", "\\hdashline", "\\midrule"])
def test_a_row_after_a_rule_is_read(rule):
    text = f"\\begin{{array}}{{l}} 3 \\times 4 = 12 \\\\ {rule} 12 + 1 = 14 \\end{{array}}"
    assert score(text) < 1.0
    assert ("12 + 1", "14") in find_claims(text)
    assert score(r"\begin{array}{rcl} 3 \times 4 &=& 12 \\ \hline 12 + 1 &=& 13 \end{array}") == 1.0


@pytest.mark.parametrize("text", ["| Option A | 3 × 4 = 13 | < 15 |", "| 4 | 2 \\cdot 4 + 3 = 12 | ≠ 11 |",
                                  "| 2 | -3 + 5 = 3 |"])
def test_a_table_row_with_a_comparison_cell_is_read(text):
    assert score(text) == 0.0


def test_a_table_row_with_a_comparison_cell_claims_its_cell():
    assert find_claims("| Option A | 3 × 4 = 12 | < 15 |") == [("3 × 4", "12")]
    assert score("| 4 | 2 \\cdot 4 + 3 = 11 | ≠ 12 |") == 1.0


@pytest.mark.parametrize("text", ["2/3 \\approx 0", "199/100 \\approx 1", "17/3 \\approx 5", "-17/3 \\approx -5"])
def test_no_truncation_at_the_units_place(text):
    assert score(text) == 0.0


@pytest.mark.parametrize("text", ["12.38 + 0 \\approx 12.3", "-17/3 \\approx -5.6", "199/100 \\approx 1.9",
                                  "2/3 \\approx 1"])
def test_truncation_below_the_units_place_and_rounding_hold(text):
    assert score(text) == 1.0


@pytest.mark.parametrize("text, expected", [
    ("2 / 3 = 0.65 (nearest 0.05)", 1.0),
    ("7 \\times 9 = 65 (to the nearest 5)", 1.0),
    ("7 \\times 9 = 60 (to the nearest 5)", 0.0),
    ("2 / 3 = 0.66 (nearest 0.05)", 0.0),  # no multiple of the step
    ("104 + 1 = 100 (to the nearest ten)", 1.0),
    ("2 / 3 = 0.7 (nearest tenth)", 1.0),
])
def test_the_named_step_of_nearest_is_the_unit(text, expected):
    assert score(text) == expected


def test_rules_version_bumped():
    assert RULES_VERSION >= 10


# -- review 2 of rules 10 ----------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["In Python, 5 | 3 = 7 (bitwise or).", "5 | 3 = 7", "P(A | B) = 0.5"])
def test_a_lone_spaced_bar_inside_one_claim_splits_nothing(text):
    assert score(text) == 1.0
    assert find_claims(text) == []


def test_a_spaced_bar_between_two_claims_still_splits():
    assert score("3 * 4 = 12 | 5 * 6 = 31") == 0.0
    assert score("|3 - 5| = 2") == 1.0


@pytest.mark.parametrize("text", ["205 / 25 = 10 (rounded up)", "33 / 4 = 10 (rounded up)", "3 * 4 = 20 (rounded up)",
                                  "1349 / 2 = 600 (rounded down)", "17 / 3 = 5.8 (rounded up)"])
def test_a_named_direction_rounds_at_the_units_or_last_decimal_place(text):
    assert score(text) == 0.0


@pytest.mark.parametrize("text", ["205 / 25 = 9 (rounded up)", "33 / 4 = 9 (rounded up)", "17 / 3 = 5.7 (rounded up)",
                                  "1349 / 2 = 600 (rounded down to the nearest hundred)"])
def test_a_named_direction_holds_at_its_place(text):
    assert score(text) == 1.0


@pytest.mark.parametrize("text", ["| Apples | 12 + 5 = | 18 |", "| Check | 3 × 4 = 13 | Total = | 25 |",
                                  "| 3 × 4 = 13 | ≤ | 25 |"])
def test_a_table_cell_ending_with_a_relation_joins_the_next(text):
    assert score(text) == 0.0


def test_a_table_calculation_cell_with_its_result_cell_holds():
    assert score("| 5 | 5 × 6 = | 30 |") == 1.0
    assert find_claims("| 5 | 5 × 6 = | 30 |") == [("5 × 6", "30")]
    assert find_claims("| 3 - 5 | = | 5 - 3 |") == [("| 3 - 5 |", "| 5 - 3 |")]  # absolute values, no table


@pytest.mark.parametrize("text, expected", [
    ("100 / 3 = 33.34 (rounded up to the nearest cent)", 1.0),
    ("100 / 3 = 33.34 (rounding down to the nearest cent)", 0.0),
    ("7 / 2 = 3 (rounding down to the nearest whole number)", 1.0),
    ("7 / 2 = 4 (rounding down to the nearest whole number)", 0.0),
])
def test_a_direction_and_place_bracket_is_a_hedge(text, expected):
    assert score(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("100 / 3 = 35.55 (2 d.p.)", 0.0), ("100 / 3 = 35.55 (to 2 decimal places)", 0.0),
    ("100 / 3 = 35.5 (3 s.f.)", 0.0), ("100 / 3 = 35.5 (3 sig figs)", 0.0), ("100 / 3 = 33.333 (2 d.p.)", 0.0),
    ("100 / 3 = 33.33 (2 d.p.)", 1.0), ("100 / 3 = 33.33 (to 2 decimal places)", 1.0),
    ("100 / 3 = 33.3 (3 s.f.)", 1.0), ("2 / 3 = 0.667 (3 sig figs)", 1.0), ("2 / 3 = 0.67 (2 d.p.)", 1.0),
])
def test_decimal_places_and_significant_figures_are_rounding_hedges(text, expected):
    assert score(text) == expected


@pytest.mark.timeout(30)  # (a hang guard, not a speed assertion)
def test_a_long_adversarial_table_row_is_read():
    text = "| " + " | ".join(["3 × 4 = 13", "≤", "5 - 3", "="] * 2200) + " |"
    assert len(text) > 60000
    got = verify_steps(text, timeout=1.0)
    assert got.score == 0.0 and "3 × 4 = 13 is false" in got.reason, got.reason


# -- 4. review 3: labels in cells, bars beside labels and remarks, rounding with money ----------------

@pytest.mark.parametrize("text", [
    "| Step 1: 3 × 4 = 12 |", "| Year 2020: 3 × 4 = 12 |", "Step 1: 3 × 4 = 12 | Step 2: 12 + 1 = 13",
    "Week 2: 5 + 5 = 10 | Week 3: 6 + 6 = 12", "| 1 | Day 1: 3 × 4 = 12 |", "| **Step 2:** 12 + 1 = 13 |",
])
def test_a_label_opening_a_cell_or_bar_column_is_no_ratio(text):
    assert score(text) == 1.0


def test_a_label_opening_a_cell_is_taken_off_its_claim():
    assert find_claims("| 1 | Day 1: 3 × 4 = 13 |") == [("3 × 4", "13")]
    assert score("Week 2: 5 + 5 = 10 | Week 3: 6 + 6 = 13") == 0.0


@pytest.mark.parametrize("text", [
    "Day 1 | 3 × 4 = 13", "Step 1 | 3 * 4 = 13", "Q3 | 5 + 5 = 11", "Step 1: | 3 * 4 = 13", "3 × 4 = 13 | 2 apples",
    "Cost: 3 × $4 = $13 | Tax: $1", "2 apples | 3 × 4 = 13",
])
def test_a_label_or_remark_with_a_digit_beside_a_bar_hides_no_false_claim(text):
    assert score(text) == 0.0


@pytest.mark.parametrize("text", ["5 | 3 = 7", "P(A | B) = 0.5", "x + 5 | 3 = 7", "f(2) | 3 = 5", "3 = 7 | 5",
                                  "2 + 3 | 4 = 7"])
def test_operands_of_a_bar_are_still_no_columns(text):
    assert score(text) == 1.0
    assert find_claims(text) == []


@pytest.mark.parametrize("text, expected", [
    ("$100 / 3 = $35.55 (rounded up to the nearest cent)", 0.0),
    ("$50 / 3 = $17.50 (rounded up to the nearest cent)", 0.0),
    ("$100 / 3 = $35.55 (rounded down to 2 decimal places)", 0.0),
    ("$100 / 3 = 35.55 (rounded up to the nearest cent)", 0.0),
    ("100 / 3 = $35.55 (rounded up to the nearest cent)", 0.0),
    ("$100 / 3 = $33.34 (rounded up to the nearest cent)", 1.0),
    ("$50 / 3 = $16.67 (rounded up to the nearest cent)", 1.0),
    ("$100 / 3 = $33.33 (rounded down to 2 decimal places)", 1.0),
    ("$100 / 3 = $33.33 (2 d.p.)", 1.0),
])
def test_a_rounding_with_money_is_checked_on_its_numbers(text, expected):
    assert score(text) == expected


def test_an_approximate_conversion_is_still_no_claim():
    assert score("1 \\text{ mile} \\approx 1.61 \\text{ km}") == 1.0
    assert score("2.5 \\text{ h} \\approx 150 (rounded to the nearest minute)") == 1.0


@pytest.mark.parametrize("text, expected", [
    ("205 / 25 = 9 (rounded up to the next whole number)", 1.0),
    ("205 / 25 = 10 (rounded up to the next whole number)", 0.0),
    ("205 / 25 = 9 (round up)", 1.0), ("205 / 25 = 8 (round up)", 0.0), ("205 / 25 = 8 (round down)", 1.0),
    ("205 / 25 = 9 buses (rounded up)", 1.0), ("205 / 25 = 10 buses (rounded up)", 0.0),
    ("3 × 4 = 13 pens (rounded up)", 0.0),
])
def test_round_up_wordings_and_a_noun_before_the_bracket_are_hedges(text, expected):
    assert score(text) == expected
