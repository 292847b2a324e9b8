"""Math verifier defects found by the 27th red-team review (rules version 12).

An answer that still holds an operation to carry out (a factorial, binomial, `\\gcd`, logarithm,
function on constants, a root that simplifies) of a kind the gold has none of is "not evaluated".
That refusal was applied only to answers equal to the gold in value, so every other such answer was
evaluated first: `15!` for 3 was "different values", and `1000000!`, `(10^{9})!` or
`\\binom{10^{9}}{10^{8}}` ran for a sympy worker's whole time limit and came back as a timeout
(which the audit counts, and maj@k drops from the vote). The rule is structural: it is now decided
before any value is computed, whatever the answer's value.
"""
from __future__ import annotations

import pytest

from rlvr.verifiers.math import RULES_VERSION, verify


def test_rules_version_is_13_or_later():
    assert RULES_VERSION >= 13


@pytest.mark.parametrize("answer, operation", [
    ("1000000!", "a factorial"),
    ("(10^{9})!", "a factorial"),
    ("\\binom{10^{9}}{10^{8}}", "\\binom"),
])
def test_a_huge_unevaluated_answer_is_refused_without_being_evaluated(answer, operation):
    # a short time limit: an answer sent to sympy would come back as kind "timeout"
    v = verify("3", f"\\boxed{{{answer}}}", timeout=1.0)
    assert not v.correct and v.error is None, v
    assert v.details["kind"] == "wrong", v
    assert v.reason == f"not evaluated: the answer still holds {operation}, which the gold answer has not", v


@pytest.mark.parametrize("gold, answer, operation", [
    ("3", "15!", "a factorial"),
    ("1307674368000", "15!", "a factorial"),  # equal in value: refused as before
    ("5", "\\gcd(84, 126)", "\\gcd"),
    ("3", "\\log_2 1024", "a logarithm"),
    ("7", "\\sqrt{72}", "a root that simplifies"),
])
def test_an_unevaluated_answer_is_not_evaluated_whatever_its_value(gold, answer, operation):
    v = verify(gold, f"\\boxed{{{answer}}}", timeout=1.0)
    assert not v.correct and v.details["kind"] == "wrong", v
    assert v.reason == f"not evaluated: the answer still holds {operation}, which the gold answer has not", v


@pytest.mark.parametrize("gold, answer", [
    ("\\sqrt{12}", "2\\sqrt{3}"),  # the gold has a root of its own
    ("\\sqrt{12}", "\\sqrt{12}"),
    ("1024", "2^{10}"),  # arithmetic is a form of the value
    ("\\frac{3}{4}", "\\frac{6}{8}"),
    ("15", "3 \\cdot 5"),
    ("\\frac{1}{2}\\sin 2x", "\\sin x \\cos x"),  # an identity: it has a variable
    ("10!", "3628800"),  # a gold holding an operation takes its value
    ("10!", "10!"),
    ("\\binom{10}{3}", "120"),
])
def test_the_conventions_stay(gold, answer):
    v = verify(gold, f"\\boxed{{{answer}}}")
    assert v.correct, v

