"""Answers the session-15 reward-hacking audit found scored right, and their honest neighbours.

Each wrong case was scored correct before its fix; the right cases pin what the fix must not break.
"""

from __future__ import annotations

import pytest

from rlvr.verifiers.math import verify

WRONG = [
    # a row break \\ separates choices: four letters are a hedge, not the letter A
    (r"\boxed{A\\B\\C\\D}", "A"),
    (r"\boxed{A \\ B}", "A"),
    # words after a plain number that change its value are not a unit
    (r"\boxed{5 \text{ M}}", "5"), (r"\boxed{5 \text{ grand}}", "5"), (r"\boxed{2 \text{ gross}}", "2"),
    (r"\boxed{4 \text{ score}}", "4"), (r"\boxed{3 \text{ kilo}}", "3"), (r"\boxed{7 \text{ mil}}", "7"),
    (r"\boxed{3 \text{ fold}}", "3"), (r"\boxed{3 \text{ tenfold}}", "3"), (r"\boxed{25 \text{ bps}}", "25"),
    (r"\boxed{40 \text{ ppm}}", "40"), (r"\boxed{5 \text{ permille}}", "5"), (r"\boxed{12 \text{ negated}}", "12"),
    (r"\boxed{12 \text{ opposite}}", "12"), (r"\boxed{12 \text{ degrees below zero}}", "12"),
    (r"\boxed{12 \text{ above}}", "12"), (r"\boxed{3 \text{ short}}", "3"), (r"\boxed{10 \text{ off}}", "10"),
    (r"\boxed{2 \text{ extra}}", "2"), (r"\boxed{5 \text{ years ago}}", "5"), (r"\boxed{5 \text{ minutes late}}", "5"),
    (r"\boxed{3 \text{ behind}}", "3"), (r"\boxed{3 \text{ ahead}}", "3"), (r"\boxed{12 \text{ ish}}", "12"),
    (r"\boxed{12 \text{ roughly}}", "12"),
    # a remark that names another value is a hedge, not a comment
    ("The answer is 2 (three).", "2"),
    ("The answer is 2; three if we count the endpoint", "2"),
    ("The answer is 21 (twenty-two).", "21"),
    ("The answer is Monday (Tuesday).", "Monday"),
    # two values of one variable are solutions, not the point (1, 2)
    (r"\boxed{x = 1, x = 2}", "(1, 2)"),
    # an inequality not solved for its variable is compared as a relation: strictness and shape count
    (r"\boxed{x - 3 \ge 0}", "x > 3"), (r"\boxed{x^2 > 9}", "x > 3"), (r"\boxed{2x - 4 < 0}", r"(-\infty, 2]"),
    (r"\boxed{x - 1 > 0}", "(1, 3)"), (r"\boxed{x - 4 > 0}", "x > 3"), (r"\boxed{x + y > 3}", "x > 3"),
    # a rounded percentage is held to the decimals' rule: three significant digits, rounded right
    (r"\boxed{33\%}", r"\frac{1}{3}"), (r"\boxed{33.4\%}", r"\frac{1}{3}"), (r"\boxed{12.5\%}", "0.12"),
    (r"\boxed{0.5\%}", "0.5"),
]

RIGHT = [
    (r"\boxed{A}", "A"), (r"\boxed{\text{(A)}}", "A"),
    (r"\boxed{5 \text{ m}}", "5"), (r"\boxed{300 \text{ K}}", "300"), (r"\boxed{12 \text{ sandwiches}}", "12"),
    (r"\boxed{5 \text{ apples per day}}", "5"),
    ("The answer is 7 (seven).", "7"), ("The answer is 21 (twenty-one).", "21"),
    ("The answer is 305 (three hundred and five).", "305"), ("The answer is 7; I am confident.", "7"),
    ("The answer is Monday (a weekday).", "Monday"),
    (r"\boxed{x = 1, y = 2}", "(1, 2)"), (r"\boxed{x = 1, x = 2}", "1, 2"), (r"\boxed{x = 2, x = 1}", r"\{1, 2\}"),
    # the audit's right-scored-wrong R1: an inequality not solved for its variable
    (r"\boxed{x - 3 > 0}", "x > 3"), (r"\boxed{2x > 6}", "x > 3"), (r"\boxed{3 - x < 0}", "x > 3"),
    (r"\boxed{x - 3 > 0}", r"(3, \infty)"), (r"\boxed{2x - 4 \le 0}", r"(-\infty, 2]"), (r"\boxed{x > 3}", "x - 3 > 0"),
    # R3: a rounded percentage reads as the rounded decimal it is (`0.333` was already right for 1/3)
    (r"\boxed{33.3\%}", r"\frac{1}{3}"), (r"\boxed{66.7\%}", r"\frac{2}{3}"), (r"\boxed{12.5\%}", r"\frac{1}{8}"),
    (r"\boxed{50\%}", "0.5"), (r"\boxed{0.5\%}", "0.005"),
]


@pytest.mark.parametrize("answer,gold", WRONG)
def test_audit_answers_are_wrong(answer, gold):
    v = verify(gold, answer)
    assert not v.correct and v.error is None, (answer, v.reason)


@pytest.mark.parametrize("answer,gold", RIGHT)
def test_honest_neighbours_stay_right(answer, gold):
    v = verify(gold, answer)
    assert v.correct, (answer, v.reason)


def test_spelled_numbers():
    from rlvr.verifiers.math_extract import _spelled_number

    assert _spelled_number(["seven"]) == 7
    assert _spelled_number(["twenty", "one"]) == 21
    assert _spelled_number(["three", "hundred", "and", "five"]) == 305
    assert _spelled_number(["two", "thousand", "twenty"]) == 2020
    assert _spelled_number(["seven", "seven"]) is None
    assert _spelled_number(["twenty", "twelve"]) is None
    assert _spelled_number(["hundred"]) is None
