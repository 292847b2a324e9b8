"""Review 40 of the process reward (`rlvr.verifiers.steps`): a Markdown table cell `label = expression`
with no value of its own followed by a lone result cell (`| Total = 36 + 16 | 53 |`) is read as
`expression = result`, so a false total in that common layout no longer passes unchecked."""

import pytest

from rlvr.verifiers.steps import RULES_VERSION, find_claims, verify_steps

_SHOPPING = "| Item | Cost |\n|---|---|\n| Shirts | 3 × $12 = $36 |\n| Total = $36 + $16 | {} |"


@pytest.mark.parametrize("row", [
    "| Total = 36 + 16 | 53 |",
    "| Total = $36 + $16 | $53 |",
    "| **Total** = 36 + 16 | 53 |",
    "| Total: = 36 + 16 | 53 |",
    "| Total = 3 × (4 + 2) | 17 |",
])
def test_false_total_after_a_label_fails(row):
    got = verify_steps(row)
    assert got.score == 0.0, got.reason
    assert "is false" in got.reason


def test_false_total_in_a_full_table_fails_its_step():
    got = verify_steps(_SHOPPING.format("$53"))
    assert got.score < 1.0
    assert "36 + 16 = 53 is false" in got.reason


def test_true_total_in_a_full_table_holds_both_rows():
    got = verify_steps(_SHOPPING.format("$52"))
    assert (got.score, got.reason) == (1.0, "all 2 claims in 2 steps hold")


@pytest.mark.parametrize("row, claim", [
    ("| Total = 36 + 16 | 52 |", ("36 + 16", "52")),
    ("| Total = $36 + $16 | $52 |", ("36 + 16", "52")),
    ("| Total = 1,200 + 300 | 1,500 |", ("1200 + 300", "1500")),
    ("| Row 2 | Subtotal = 3 × 12 | 36 | paid |", ("3 × 12", "36")),
])
def test_true_total_after_a_label_is_claimed_and_holds(row, claim):
    assert claim in [(left.strip(), right.split()[0]) for left, right in find_claims(row)]
    got = verify_steps(row)
    assert (got.score, got.reason) == (1.0, "all 1 claims in 1 steps hold")


@pytest.mark.parametrize("other", ["see above", "fifty-three", "50 + 3", "53 + 0"])
def test_label_cell_before_text_or_a_formula_is_left_as_written(other):
    # the same label cell before a lone number is checked (and fails); before text or another formula
    # it is not turned into a claim of that cell
    assert verify_steps("| Total = 36 + 16 | 53 |").score == 0.0
    row = f"| Total = 36 + 16 | {other} |"
    assert ("36 + 16", other) not in find_claims(row)
    assert not any(left.strip() == "36 + 16" for left, _ in find_claims(row))


@pytest.mark.parametrize("row", [
    "| Total = 500 + 750 | 1.25 kg |",  # a table of grams: the expression shows no unit to compare with
    "| Total time = 45 + 75 | 2 hours |",
    "| Total weight = 36 + 16 | 53 kg |",
    "| Plan A | Cost = $30 × 12 | 12 | $360 |",  # a number in a later column: which one is the result?
    "| A | Cost = 20 × 12 | 12 | 240 |",
])
def test_a_result_with_a_unit_or_a_later_number_column_is_left_as_written(row):
    assert verify_steps(row).score == 1.0
    assert not any(left.strip() in ("500 + 750", "45 + 75", "36 + 16", "30 × 12", "20 × 12") for left, _ in find_claims(row))


@pytest.mark.timeout(10)
@pytest.mark.parametrize("terms", [40, 400])
def test_a_long_sum_in_a_label_cell_is_read_in_linear_time(terms):
    """`Total = 1 + 2 + … = N` in a cell that is not the row's last fails the label-cell pattern: every
    term doubled the time of that failure (20 terms: 0.7 s; review of rules 11)."""
    total = terms * (terms + 1) // 2
    row = "| Total = " + " + ".join(f"${i}" for i in range(1, terms + 1)) + f" = ${total} | paid |"
    assert verify_steps(row).score == 1.0
    row = "| Total = " + " + ".join(f"${i}" for i in range(1, terms + 1)) + f" = ${total + 1} | paid |"
    assert verify_steps(row).score == (0.0 if terms < 100 else 1.0)  # (a claim that long is not checked)


def test_variable_before_the_equals_is_no_label():
    # `x = 36 + 16` defines a variable, not a label: no claim is made of the next cell
    assert verify_steps("| Total = 36 + 16 | 53 |").score == 0.0
    assert verify_steps("| x = 36 + 16 | 53 |").reason == "nothing checkable"


def test_rules_version_bumped():
    assert RULES_VERSION >= 11


# -- emphasis in a table cell (audit 40): a closing `**` before the cell's bar was read as a product with
# the column break the bar became, so a bold, italic or underlined result hid the claim

@pytest.mark.parametrize("row", [
    "| 36 + 16 = **53** |",
    "| Total | 36 + 16 = **53** |",
    "| 36 + 16 = | **53** |",
    "| Total = 36 + 16 | **53** |",
    "| 36 + 16 = *53* |",
    "| 36 + 16 = _53_ |",
    "| Step 2 | 36 + 16 = *53* | kg |",
])
def test_emphasised_result_in_a_cell_fails_as_outside_a_table(row):
    got = verify_steps(row)
    assert (got.score, got.reason) == (0.0, "step 1: 36 + 16 = 53 is false (different values: 52 vs 53)")


@pytest.mark.parametrize("row", [
    "| 36 + 16 = **52** |",
    "| Total | 36 + 16 = **52** |",
    "| 36 + 16 = | **52** |",
    "| 36 + 16 = *52* |",
    "| 36 + 16 = _52_ |",
    "| 36 + 16 = __52__ |",
])
def test_emphasised_true_result_in_a_cell_holds(row):
    assert find_claims(row) == [("36 + 16", "52")]
    got = verify_steps(row)
    assert (got.score, got.reason) == (1.0, "all 1 claims in 1 steps hold")


@pytest.mark.parametrize("text", ["36 + 16 = **53** \\\\ 1 + 1 = 2", "36 + 16 = **53** & 1 + 1 = 2",
                                  "36 + 16 = _53_"])
def test_emphasis_before_a_break_or_in_underscores_outside_a_table_fails(text):
    # stars before a row break or an `&` column were a product with it too; `_53_` was no emphasis
    got = verify_steps(text)
    assert got.score == 0.0
    assert got.reason.startswith("step 1: 36 + 16 = 53 is false")


@pytest.mark.parametrize("text, claims", [
    ("| 3 *4 = 12 |", [("3 *4", "12")]),
    ("| 2 ** 3 = 8 |", [("2 ** 3", "8")]),
    ("$x_1 = 3 + 4 = 7$", [("3 + 4", "7")]),
    ("| Total = 36 + 16 | see above |", []),
    ("| **Total** | 3 × 4 = 12 |", [("3 × 4", "12")]),
])
def test_products_subscripts_and_text_cells_are_read_as_before(text, claims):
    assert find_claims(text) == claims
    assert verify_steps(text).score == 1.0


# -- a label after a list item's marker (audit 40): `- **Step 1**: 3 × 4 = 12` read `1 : 3 × 4 = 12`, a
# ratio, and failed a true step

@pytest.mark.parametrize("step", ["- **Step 1**: 3 × 4 = 12", "- *Step 1*: 3 × 4 = 12", "- **Step 1:** 3 × 4 = 12",
                                  "* Day 2: 5 + 7 = 12", "1. **Step 1:** 3 × 4 = 12", "• Week 3: 2 × 6 = 12"])
def test_a_label_after_a_list_marker_is_no_ratio(step):
    got = verify_steps(step)
    assert (got.score, got.reason) == (1.0, "all 1 claims in 1 steps hold")
    assert verify_steps(step.replace("= 12", "= 13")).score == 0.0  # the claim itself is still checked
