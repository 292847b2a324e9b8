"""Math verifier defects found by the 28th red-team review (second batch; rules version 15).

1. Inequalities joined by "and" (`\\land`, `\\wedge`) were read as the union of their rays, so
   `x > 3 \\land x < 2` (no number) equalled `(-\\infty, 2) \\cup (3, \\infty)`, and `x > -1 \\text{ and }
   x < 1` was wrong for `(-1, 1)`. They now hold together; mixed or unclear systems, and those no
   number satisfies (where "and" likely means "or": `x < -1 \\text{ and } x > 1`), are unparsable.
2. A choice letter judged false (`C is false`, `C false`, `C \\ne`) still counted as choosing it.
   "False", "No", "Not possible" after a label mark (`B. False`, `B: No`, `B (False)`) are an
   option's text (options "A. True B. False"), still the choice.
3. sympy's stages took differences that are provably not 0 for equality (`x + 10^{-30}` for `x`),
   and `\\infty^0` for 1 (sympy folds `oo**0` to 1). A side holding a decimal is a rounding: the proof
   is not asked (`3.14159265358979323846` is `\\pi`, `0.3333333333333333x` is `\\frac{x}{3}`).
4. `\\boldsymbol{3}` was unparsable, and so was a number with a zero-width space inside (`1\\u200b3`).
"""
from __future__ import annotations

import pytest

from rlvr.verifiers.math import verify
from rlvr.verifiers.math_compare import prepare
from rlvr.verifiers.math_normalize import choice_letters
from rlvr.verifiers.math_parse import ParseError, parse
from rlvr.verifiers.math_sympy import sympy_eq, to_sympy

UNION = "(-\\infty, 2) \\cup (3, \\infty)"


def _kind(gold: str, answer: str) -> str:
    v = verify(gold, f"\\boxed{{{answer}}}")
    assert v.error is None, v
    return v.details["kind"]


# -- 1. "and" between inequalities ----------------------------------------------------------------

@pytest.mark.parametrize("gold, answer", [
    ("(-1, 1)", "x > -1 \\text{ and } x < 1"),
    ("(-1, 1)", "x < 1 \\wedge x > -1"),
    ("(2, 3)", "x > 2 \\land x < 3"),
    ("[-1, 1)", "x \\ge -1 \\land x < 1"),
    ("(1, 2) \\cup (2, 3)", "1 < x < 3 \\land x \\ne 2"),
    ("(2, \\infty)", "x > 1 \\land x > 2"),
    ("(2, \\infty)", "x > 2 \\land x \\geq 2"),  # at a shared end the open bound wins
    ("2", "x \\ge 2 \\land x \\le 2"),
    ("(-\\sqrt{2}, \\sqrt{2})", "x > -\\sqrt{2} \\text{ and } x < \\sqrt{2}"),  # ends sympy compares
    ("(1, 3)", "\\{x \\mid x > 1 \\text{ and } x < 3\\}"),
])
def test_inequalities_joined_by_and_hold_together(gold, answer):
    assert _kind(gold, answer) == "equal"


@pytest.mark.parametrize("gold, answer", [
    ("(-1, 1)", "x \\ge -1 \\land x < 1"),
    ("[2, \\infty)", "x > 2 \\land x \\geq 2"),
])
def test_a_conjunction_is_never_the_union_of_its_rays(gold, answer):
    assert _kind(gold, answer) == "wrong"


@pytest.mark.parametrize("answer", [
    "x > 0 \\text{ and } y > 0",  # two variables
    "x > 0 \\text{ and } x = 1",  # an inequality and an equation
    "x < 2 \\text{ or } x > 3 \\text{ and } x < 5",  # "and" with "or": which binds is unclear
    "x > \\sqrt{2} \\land x > 1",  # two lower bounds the exact path cannot order
    "x > 3 \\land x < 2",  # no number satisfies both: "and" may mean "or"
    "x < -1 \\text{ and } x > 1",
    "1 < x < 3 \\text{ and } 5 < x < 7",
])
def test_an_unclear_conjunction_is_unparsable(answer):
    assert _kind("(0, \\infty)", answer) == "unparsable"
    with pytest.raises(ParseError):
        prepare(parse(answer.replace("\\text{ and }", " and ")))


@pytest.mark.parametrize("gold, answer", [
    (UNION, "x < 2 \\text{ or } x > 3"),  # "or" stays a union
    (UNION, "x < 2, x > 3"),  # disjoint rays after a comma: solutions listed, as before
    ("(3, 4)", "3 \\text{ and } 4"),  # values joined by "and" are as before
    ("x = 1, y = 2", "x = 1 \\text{ and } y = 2"),
    ("1, 2", "x = 1 \\text{ and } x = 2"),
])
def test_or_and_lists_of_values_keep_their_meaning(gold, answer):
    assert _kind(gold, answer) == "equal"


@pytest.mark.parametrize("gold", ["(-\\infty, -1) \\cup (1, \\infty)", "\\emptyset"])
@pytest.mark.parametrize("answer", ["x < -1 \\text{ and } x > 1", "x > 1 \\land x < -1", "x < -1 \\wedge x > 1"])
def test_an_and_system_no_number_satisfies_is_neither_the_union_nor_the_empty_set(gold, answer):
    # a model writing "and" for "or" is common; the empty set as an answer is written \emptyset
    assert _kind(gold, answer) == "unparsable"


def test_a_comma_between_a_lower_and_an_upper_bound_with_room_between_is_a_system():
    assert _kind("(2, 3)", "x>2, x<3") == "equal"
    assert _kind("(2, 3)", "x<3, x>2") == "equal"
    assert prepare(parse("x>2, x<3")) == ("seq", "(", ")", (("num", "2"), ("num", "3")))
    # bounds the exact path cannot compare: the comma is left as it was (a list of two rays)
    assert prepare(parse("x>-\\sqrt{2}, x<\\sqrt{2}"))[0] == "list"


# -- 2. a choice letter judged false ----------------------------------------------------------------

@pytest.mark.parametrize("answer", [
    "\\text{C is false}", "C \\text{ false}", "\\text{C no}", "C \\ne", "C \\neq",
    "\\text{C is invalid}", "\\text{C is not true}", "\\text{C is impossible}",
    "\\text{(C) is false}", "\\text{C is untrue}",
    # judgements that are never an option's text rule it out after a label mark too (as at rules 14)
    "\\text{C: wrong}", "\\text{C (wrong)}", "\\text{C. incorrect}", "\\text{C) eliminated}",
    "\\text{(C) 12 (no)}", "\\text{C (nope)}",
])
def test_a_choice_judged_false_is_no_choice(answer):
    assert _kind("C", answer) == "unparsable"


@pytest.mark.parametrize("answer", [
    "(B) False", "B) False", "Option B: False", "(B) No", "(B) Impossible", "B: No solution", "(B) No solution",
    "B. False", "B: False", "B (False)", "B. No", "B: no", "B (No)", "B. Not possible", "B - False",
])
def test_an_options_own_text_is_still_the_choice(answer):
    # "False", "No", "Impossible" are an option's text after a bracketed or labelled letter
    assert choice_letters(answer) == ["B"]
    assert _kind("B", f"\\text{{{answer}}}") == "equal"


@pytest.mark.parametrize("gold, prediction", [
    ("B", "\\boxed{B. False}"), ("B", "\\boxed{B: False}"), ("B", "\\boxed{\\text{B. False}}"),
    ("B", "\\boxed{B (False)}"), ("A", "\\boxed{A. No}"), ("D", "\\boxed{D. Not possible}"),
    ("C", "The answer is C: False."), ("B", "<answer>B. No</answer>"),
])
def test_options_written_true_false_or_yes_no_name_their_choice(gold, prediction):
    v = verify(gold, prediction)
    assert v.correct, v


# -- 3. differences sympy's tolerance hid -----------------------------------------------------------

@pytest.mark.parametrize("gold, answer", [
    ("x", "x + 10^{-30}"),
    ("x", "x(1+10^{-30})"),
    ("\\frac{1}{x}", "\\frac{1+10^{-30}}{x}"),
    ("\\pi", "\\frac{31415926535897932384626433832795028841971693993751058209749445923}{10^{64}}"),
    ("x - 1 > 0", "x - 1 - 10^{-30} > 0"),
])
def test_a_provably_nonzero_difference_is_a_difference(gold, answer):
    assert _kind(gold, answer) == "wrong"


@pytest.mark.parametrize("gold, answer", [
    ("\\cos\\frac{2\\pi}{7}+\\cos\\frac{4\\pi}{7}+\\cos\\frac{6\\pi}{7}+\\frac12", "0"),
    ("\\sin\\frac{\\pi}{12}", "\\frac{\\sqrt6-\\sqrt2}{4}"),
    ("\\arctan\\frac12+\\arctan\\frac13", "\\frac{\\pi}{4}"),
    ("\\sqrt{2}+\\sqrt{3}", "\\sqrt{5+2\\sqrt{6}}"),
    ("x + \\arctan 1", "x + \\frac{\\pi}{4}"),
    ("x(\\sqrt2+\\sqrt3)", "x\\sqrt{5+2\\sqrt6}"),
    ("\\frac{x^2-1}{x-1}", "x+1"),
    ("\\pi", "3.14159265358979323846264338327950288"),  # a decimal answer may be a rounding
    ("\\sqrt{2}", "1.4142135623730950488016887"),
    # a decimal on either side is a rounding, never proof of a difference
    ("3.14159265358979323846", "\\pi"),
    ("1.4142135623730950488", "\\sqrt{2}"),
    ("\\frac{x}{3}", "0.3333333333333333x"),
    ("\\sqrt{2} x", "1.41421356237309504880168872420969807856967187537694 x"),
    ("1", "\\frac{\\pi}{3.14159265358979323846264338327950288419716939937510582097494459}"),
    ("y = 2x+1", "4x - 2y + 2 = 0"),
    ("x^2 - 2x + 1 \\ge 0", "-(x-1)^2 \\le 0"),
])
def test_equal_values_in_other_forms_stay_equal(gold, answer):
    assert _kind(gold, answer) == "equal"


def test_sympy_eq_refuses_a_tiny_nonzero_difference_directly():
    ok, why = sympy_eq(parse("x"), parse("x + 10^{-30}"))
    assert not ok and "provably not 0" in why


@pytest.mark.parametrize("answer", ["\\infty^0", "0 \\cdot \\infty", "1^{\\infty}", "\\frac{1}{\\infty}", "2\\infty"])
def test_infinity_inside_a_power_or_product_is_no_value(answer):
    with pytest.raises(ValueError):
        to_sympy(parse(answer))
    assert _kind("1", answer) == "unparsable"


def test_infinity_alone_negated_or_in_an_interval_is_still_read():
    assert _kind("\\infty", "\\infty") == "equal"
    assert _kind("-\\infty", "-\\infty") == "equal"
    assert _kind("(-\\infty, 2)", "x < 2") == "equal"


# -- 4. markup and invisible characters --------------------------------------------------------------

@pytest.mark.parametrize("gold, answer", [
    ("3", "\\boldsymbol{3}"),
    ("x^2", "\\boldsymbol{x}^2"),
    ("13", "1\u200b3"),
    ("13", "\u200b13\u2060"),
    ("13", "1\ufeff3"),
])
def test_bold_symbols_and_zero_width_characters(gold, answer):
    assert _kind(gold, answer) == "equal"
