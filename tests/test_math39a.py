"""Audit 39 (math, part A): clock-time golds against values, sentence golds and golds with no value
are refused alike by `validate_gold`, `verify` and `verify_batch`, and Python floats printed in full
for an exact gold (rules 33)."""

import math

import pytest

from rlvr.verifiers.math import RULES_VERSION, GoldAnswerError, validate_gold, verify, verify_batch


def _judged(gold, text):
    """`verify`'s verdict, checked to agree with `verify_batch`'s."""
    v = verify(gold, text)
    b = verify_batch([(gold, text)])[0]
    assert (v.correct, v.details["kind"], v.error is None) == (b.correct, b.details["kind"], b.error is None)
    return v


def test_rules_version():
    assert RULES_VERSION == 34


# -- 3. a clock-time gold is no quotient -----------------------------------------------------------

@pytest.mark.parametrize("gold, text", [
    ("10:30", "The train arrives at \\boxed{\\frac{1}{3}}."),
    ("10:30", "\\boxed{1:3}"),
    ("10:30", "\\boxed{0.\\overline{3}}"),
    ("10:30", "\\boxed{10.5}"),            # decided: 10.5 hours is a value, not the time 10:30
    ("12:30", "\\boxed{0.4}"),
    ("9:30", "\\boxed{0.3}"),
    ("3:45", "\\boxed{0.0667}"),
    ("3:45", "The answer is 1/15."),
    ("3:45 PM", "\\boxed{\\frac{1}{15}}"),
    ("1:30", "\\boxed{\\frac{2}{60}}"),    # two-digit minutes: a time against other numbers (review: `\\frac{1}{30}` is right)
    ("3:00", "\\boxed{\\frac{1}{15}}"),
])
def test_a_clock_time_gold_against_a_value_is_wrong(gold, text):
    v = _judged(gold, text)
    assert not v.correct and v.details["kind"] == "wrong" and v.error is None


@pytest.mark.parametrize("gold, text", [
    ("10:30", "\\boxed{10:30}"),
    ("10:30", "The answer is 10:30 a.m."),
    ("10:30 AM", "\\boxed{10:30}"),
    ("9:05", "\\boxed{09:05}"),
    ("1:3", "\\boxed{2:6}"),                # ratios that look like no time stay quotients
    ("2:3", "\\boxed{\\frac23}"),
    ("1:75", "\\boxed{2:150}"),             # 75 minutes: no time
    ("\\frac{1}{20}", "\\boxed{1:20}"),     # only the gold decides: a value's answer `1:20` is a ratio
])
def test_clock_times_and_ratios_that_stay_right(gold, text):
    assert _judged(gold, text).correct


# Review of rules 33: a ratio or odds gold written `a:bb` against the ratio or fraction of its own
# two numbers is the ratio (it was "a clock time against a value"). This changes the pin above
# ("1:30" against `\\frac{1}{30}` was wrong by rules 33's convention), which the review found wrong.
@pytest.mark.parametrize("gold, text", [
    ("5:12", "The ratio is \\boxed{\\frac{5}{12}}."),
    ("1:35", "The odds are \\boxed{\\frac{1}{35}}."),
    ("1:30", "The ratio is \\boxed{\\frac{1}{30}}."),
    ("2:45", "\\boxed{\\frac{2}{45}}"),
    ("4:15", "\\boxed{\\dfrac{4}{15}}"),
    ("5:12", "\\boxed{5 : 12}"),
    ("5:12", "The answer is 5/12."),
    ("5:12", "\\boxed{\\tfrac{5}{12}}"),
    ("10:30", "\\boxed{\\frac{10}{30}}"),   # decided: the gold's own two numbers, so a ratio
])
def test_a_ratio_gold_against_its_own_two_numbers_is_right(gold, text):
    v = _judged(gold, text)
    assert v.correct and v.details["kind"] == "equal", v.reason


@pytest.mark.parametrize("gold, text", [
    ("5:12", "\\boxed{\\frac{10}{24}}"),      # the same value, other numbers: still a time's gold
    ("5:12", "\\boxed{\\frac{12}{5}}"),
    ("5:12", "\\boxed{0.4167}"),
    ("3:45 PM", "\\boxed{\\frac{3}{45}}"),    # a.m./p.m.: a time whatever the answer
    ("3:00", "\\boxed{\\frac{3}{0}}"),        # no ratio has a 0 after its colon
    ("10:30", "\\boxed{10:60}"),
])
def test_a_clock_gold_against_other_numbers_stays_wrong(gold, text):
    v = _judged(gold, text)
    assert not v.correct and v.error is None


def test_different_clock_times_stay_wrong():
    assert not _judged("10:30", "\\boxed{5:15}").correct
    assert not _judged("10:30", "\\boxed{20:60}").correct


# -- 5. a sentence gold is a gold error at reward time too -----------------------------------------

@pytest.mark.parametrize("gold", [
    "The area is 12 square units.", "There are 12 apples.", "Multiplying, we get 12.", "Thus 12",
    "Let $x = 3$. Then $y = 4$. The area is 12.",
])
def test_a_sentence_gold_is_an_error_in_verify_and_verify_batch(gold):
    with pytest.raises(GoldAnswerError):
        validate_gold(gold)
    v = _judged(gold, "So the area is \\boxed{12}.")
    assert v.details["kind"] == "error" and v.error is not None and not v.correct


@pytest.mark.parametrize("gold", ["\\boxed{12}", "#### 12", "12", "She has 5 apples left", "B", "\\text{Yes}"])
def test_answers_of_words_and_marked_answers_stay_golds(gold):
    validate_gold(gold)
    assert _judged(gold, "\\boxed{99}").error is None


# -- 6. a gold with no value ---------------------------------------------------------------------

@pytest.mark.parametrize("gold", [
    "0^{-1}", "0^{-2}", "0^{-1/2}", "\\log 0", "\\ln 0", "\\log_2 0", "\\log_1 5", "\\tan\\frac{\\pi}{2}",
    "\\tan\\frac{3\\pi}{2}", "\\tan(-\\frac{\\pi}{2})", "\\tan 90^\\circ", "\\cot 0", "\\csc\\pi",
    "\\sec\\frac{\\pi}{2}", "\\frac{1}{\\sin\\pi}", "\\frac{1}{\\ln 1}", "(1, 0^{-1})",
])
def test_a_gold_with_no_value_is_an_error(gold):
    with pytest.raises(GoldAnswerError, match="no value"):
        validate_gold(gold)
    v = _judged(gold, "\\boxed{5}")
    assert v.details["kind"] == "error" and v.error is not None


@pytest.mark.parametrize("gold, text", [
    ("\\infty", "\\boxed{\\infty}"), ("-\\infty", "\\boxed{-\\infty}"), ("(0, \\infty)", "\\boxed{(0, \\infty)}"),
    ("\\tan\\frac{\\pi}{4}", "\\boxed{1}"), ("\\sin\\pi", "\\boxed{0}"), ("\\ln 1", "\\boxed{0}"),
    ("\\cot\\frac{\\pi}{2}", "\\boxed{0}"), ("0^0", "\\boxed{1}"), ("x^{-1}", "\\boxed{\\frac1x}"),
    ("\\tan x", "\\boxed{\\frac{\\sin x}{\\cos x}}"), ("\\sec\\frac{\\pi}{3}", "\\boxed{2}"),
])
def test_golds_with_a_value_stay_golds(gold, text):
    validate_gold(gold)
    assert _judged(gold, text).correct


def test_infinity_golds_stay_wrong_for_a_number():
    v = _judged("\\infty", "\\boxed{5}")
    assert not v.correct and v.error is None


# -- 7. a Python float printed in full -----------------------------------------------------------

@pytest.mark.parametrize("gold, value", [
    ("\\frac{2}{3}", 2 / 3), ("\\frac17", 1 / 7), ("\\frac{10}{3}", 10 / 3), ("-\\frac{2}{3}", -2 / 3),
    ("\\frac{1}{30000}", 1 / 30000),       # printed as 3.3333333333333335e-05
    ("\\frac{3}{10}", 0.1 + 0.2),          # 0.30000000000000004: one unit off
])
def test_a_python_float_for_an_exact_gold_is_right(gold, value):
    text = repr(value)
    assert 15 <= len(text.split("e")[0].lstrip("-").replace(".", "").lstrip("0")) <= 17
    v = _judged(gold, f"Python prints {text}, so the answer is $\\boxed{{{text}}}$.")
    assert v.correct, v.reason


@pytest.mark.parametrize("gold, text, right", [
    ("\\frac23", "0.6666666666666667", True),     # the correctly rounded 16 digits, as before
    ("\\frac23", "0.66666666666666", False),      # 14 digits, cut: as before
    ("\\frac23", "0.666666666666666", False),     # 15 digits, cut: 6 units off
    ("\\frac23", "0.6666666666666650", False),    # 16 digits, 15 units off
    ("\\frac23", "0.67", False),                  # two digits: no rounding, as before
    ("\\frac23", "0.667", True),                  # a correct rounding, as before
    ("\\frac23", "0.6666666666666672", False),    # 16 digits, 5 units off
    ("\\frac{2x}{3}", "0.6666666666666666x", True),
    ("0.6", "0.6000000000000001", False),         # a decimal gold is exact as written
    ("\\frac{3}{5}", "0.6000000000000001", True),
    ("123456789012345678901", "1.2345678901234568e20", False),  # never a rounding left of the point
])
def test_float_digits_only_within_two_units(gold, text, right):
    v = _judged(gold, "\\boxed{" + text + "}")
    assert v.correct is right, v.reason


def test_is_double_of_takes_a_float_value():
    from fractions import Fraction

    from rlvr.verifiers.math_compare import is_double_of
    assert is_double_of(Fraction("1.4142135623730951"), 16, 17, math.sqrt(2))
    assert not is_double_of(Fraction("1.414213562373095"), 15, 16, math.sqrt(2) * (1 + 1e-14))
    assert not is_double_of(Fraction("1.41"), 2, 3, math.sqrt(2))


@pytest.mark.parametrize("gold,answer,right", [
    ("\\sqrt{2}", "1.4142135623730951", True),  # print(math.sqrt(2))
    ("\\pi", "3.141592653589793", True),
    ("\\sqrt{3}", "1.7320508075688772", True),
    ("\\sqrt{2}", "1.4142135623730958", False),  # 5 units in the last place off: no float's rounding
    ("\\sqrt{2}", "1.41421356237309", False),  # 15 digits cut, not rounded
])
def test_a_python_float_printed_in_full_for_an_irrational_gold(gold, answer, right):
    """The sympy path takes a float's digits as the exact path does (`0.6666666666666666` for 2/3)."""
    got = verify(gold, f"\\boxed{{{answer}}}")
    assert got.correct is right, got
    assert verify_batch([(gold, f"\\boxed{{{answer}}}")])[0].correct is right
