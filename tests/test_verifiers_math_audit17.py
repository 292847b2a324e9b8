"""Math verifier: a sign written before a box, and values too small to tell from 0 at 30 digits.

Both were verdicts that lied: `x = -\\boxed{20}` was scored right for a gold of 20 (the box was read
without the sign the model wrote before it), and `e^{-50}` equalled 0 (two values within 1e-20 of
each other were equal whatever their size).
"""

from __future__ import annotations

import time

import pytest

from rlvr.verifiers.math import verify
from rlvr.verifiers.math_extract import all_boxed


@pytest.mark.parametrize("text, gold", [
    ("The answer is -\\boxed{20}.", "-20"),
    ("$x = -\\boxed{20}$", "-20"),
    ("$x = - \\boxed{20}$", "-20"),
    ("$x = \u2212\\boxed{5}$", "-5"),  # the Unicode minus sign
    ("$-\\boxed{\\frac{1}{2}}$", "-\\frac{1}{2}"),
    ("$x = \\pm\\boxed{3}$", "\\pm 3"),
    ("\\boxed{-\\boxed{7}}", "-7"),  # a box in a box reads the inner one, with its sign
])
def test_a_sign_before_a_box_is_part_of_the_answer(text, gold):
    assert verify(gold, text).correct
    unsigned = gold.replace("\\pm", "").lstrip("-").strip()
    assert not verify(unsigned, text).correct, "the box alone, without its sign, is not the answer"


def test_a_binary_minus_before_a_box_does_not_leave_the_box_as_the_answer():
    # `y = 2 - \boxed{20}` is no answer of 20 (nor of -18: the box is read with the minus before it)
    assert not verify("20", "So $y = 2 - \\boxed{20}$").correct
    assert not verify("20", "$x \\cdot - \\boxed{20}$").correct


@pytest.mark.parametrize("text", [
    "- \\boxed{20}",                       # a markdown bullet
    "Answer:\n- \\boxed{20}",              # a bullet on its own line
    "Final answer - \\boxed{20}",          # a dash in prose, after a word
    "Final answer: - \\boxed{20}",
    "the result is -\n\\boxed{20}",        # a dash ending a line
    "\\boxed{20}",
    "The answer is $\\boxed{20}$.",
])
def test_a_bullet_or_a_dash_in_prose_is_no_sign(text):
    assert verify("20", text).correct
    assert not verify("-20", text).correct


def test_all_boxed_reports_the_sign_with_the_content():
    assert all_boxed("so $x = -\\boxed{4}$ and $y = \\boxed{5}$") == ["-(4)", "5"]
    assert all_boxed("- \\boxed{4}") == ["4"]


def test_the_look_back_for_a_sign_stays_linear():
    text = ("-" * 100 + "\\boxed{1}") * 20_000  # 20 000 boxes, each after a run of minus signs
    start = time.perf_counter()
    boxes = all_boxed(text)
    assert time.perf_counter() - start < 2.0
    assert boxes == ["-(1)"] * 64  # the last MAX_BOXES


@pytest.mark.parametrize("gold, answer", [
    ("e^{-50}", "0"),
    ("0", "e^{-50}"),
    ("e^{-60}", "e^{-61}"),
    ("\\frac{1}{e^{40}}", "0"),
])
def test_a_tiny_value_is_not_zero(gold, answer):
    verdict = verify(gold, f"\\boxed{{{answer}}}")
    assert not verdict.correct, verdict.reason
    assert verdict.error is None


@pytest.mark.parametrize("gold, answer", [
    # equal values whose 30-digit difference is rounding noise stay equal
    ("\\cos\\frac{2\\pi}{7}+\\cos\\frac{4\\pi}{7}+\\cos\\frac{6\\pi}{7}+\\frac12", "0"),
    ("\\cos\\frac{2\\pi}{7}+\\cos\\frac{4\\pi}{7}+\\cos\\frac{6\\pi}{7}", "-\\frac12"),
    ("e^{-50}", "\\frac{1}{e^{50}}"),
])
def test_equal_values_stay_equal_near_zero(gold, answer):
    verdict = verify(gold, f"\\boxed{{{answer}}}")
    assert verdict.correct, verdict.reason
