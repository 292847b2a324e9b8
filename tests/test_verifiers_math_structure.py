"""Math verifier: the structure of answers (± anywhere, intervals vs lists, named values), the
shared time budget of verify_batch, golds that are no answer, and sampling that sees partial equality."""

from __future__ import annotations

import decimal
import time

import pytest

from rlvr.verifiers.math import GoldAnswerError, RULES_VERSION, validate_gold, verify, verify_batch

HANG_GUARD = 60.0  # seconds: a loose guard against hangs only


def _kind(gold, pred) -> str:
    v = verify(gold, pred)
    assert v.error is None, (gold, pred, v)  # the comparison itself never fails on these
    return v.details["kind"]


# -- 1. a ± inside an expression is the set of the expression's values -------------------------------

@pytest.mark.parametrize("gold,pred,kind", [
    # gold with a nested ±: it was an "error" verdict for every prediction not equal as text
    ("\\frac{3 \\pm \\sqrt{5}}{2}", "\\boxed{\\frac{3+\\sqrt5}{2}, \\frac{3-\\sqrt5}{2}}", "equal"),
    ("\\frac{3 \\pm \\sqrt{5}}{2}", "\\boxed{\\frac{3-\\sqrt5}{2}, \\frac{3+\\sqrt5}{2}}", "equal"),
    ("\\frac{3 \\pm \\sqrt{5}}{2}", "\\boxed{1.5 \\pm \\frac{\\sqrt5}{2}}", "equal"),
    ("\\frac{1}{2}(3 \\pm \\sqrt5)", "\\boxed{\\frac{3\\pm\\sqrt5}{2}}", "equal"),
    ("x = \\frac{3 \\pm \\sqrt{5}}{2}", "\\boxed{\\frac{3+\\sqrt5}{2}, \\frac{3-\\sqrt5}{2}}", "equal"),
    ("\\frac{3 \\pm \\sqrt{5}}{2}", "\\boxed{7}", "wrong"),
    ("\\frac{3 \\pm \\sqrt{5}}{2}", "\\boxed{\\frac{3+\\sqrt5}{2}}", "wrong"),  # one of the two values
    # prediction with a nested ±: it was wrong ("expected 2 values, got one")
    ("\\frac{-1+\\sqrt5}{2}, \\frac{-1-\\sqrt5}{2}", "\\boxed{\\frac{-1 \\pm \\sqrt{5}}{2}}", "equal"),
    ("\\frac{-1+\\sqrt5}{2}", "\\boxed{\\frac{-1 \\pm \\sqrt{5}}{2}}", "hedged"),  # two values, one asked
    # a ± inside a tuple makes one tuple per sign
    ("(\\pm 2, 0)", "\\boxed{(2, 0), (-2, 0)}", "equal"),
    ("(2, 0), (-2, 0)", "\\boxed{(\\pm 2, 0)}", "equal"),
    ("(2, 0), (-2, 0)", "\\boxed{(\\pm 2, 1)}", "wrong"),
    # in a list or set, the values of a ± are its elements (as a top-level one's always were)
    ("\\pm 2, 3", "\\boxed{3, -2, 2}", "equal"),
    ("\\{1 \\pm \\sqrt{2}, 5\\}", "\\boxed{1+\\sqrt2, 5, 1-\\sqrt2}", "equal"),
    # the top-level ± keeps its meaning
    ("\\pm 2", "\\boxed{2, -2}", "equal"), ("2", "\\boxed{\\pm 2}", "hedged"),
])
def test_a_pm_anywhere_is_the_set_of_the_values(gold, pred, kind):
    assert _kind(gold, pred) == kind, (gold, pred, verify(gold, pred))


def test_a_gold_with_a_nested_pm_is_valid_and_one_with_too_many_signs_is_refused_clearly():
    assert validate_gold("\\frac{3 \\pm \\sqrt{5}}{2}")
    many = "1" + " \\pm 1" * 7  # 2^7 values: refused, never expanded exponentially
    with pytest.raises(GoldAnswerError, match="too many \\\\pm signs"):
        validate_gold(many)
    start = time.monotonic()
    v = verify("2", "\\boxed{" + "1" + " \\pm 1" * 300 + "}")
    assert time.monotonic() - start < HANG_GUARD
    assert not v.correct and v.error is None and v.details["kind"] == "unparsable", v


# -- 2. an interval never equals a bare list ----------------------------------------------------------

@pytest.mark.parametrize("gold,pred,kind", [
    ("[1, 2)", "\\boxed{1, 2}", "wrong"),          # was right: the bare list got around the brackets
    ("1, 2", "\\boxed{[1, 2]}", "wrong"),          # two solutions are not the interval between them
    ("(1, 2]", "\\boxed{1, 2}", "wrong"),
    ("[1, 2]", "\\boxed{2, 1}", "wrong"),
    ("x = 1, y = 2", "\\boxed{[1, 2]}", "wrong"),
    # as documented: a bare list may stand for a tuple `(1, 2)`, and longer lists for vectors
    ("(1, 2)", "\\boxed{1, 2}", "equal"), ("1, 2", "\\boxed{(1, 2)}", "equal"), ("[1, 2, 3]", "\\boxed{1, 2, 3}", "equal"),
    ("[1, 2)", "\\boxed{[1, 2)}", "equal"),
])
def test_an_interval_never_equals_a_bare_list(gold, pred, kind):
    assert _kind(gold, pred) == kind, (gold, pred, verify(gold, pred))


# -- 3. named values count by name --------------------------------------------------------------------

@pytest.mark.parametrize("gold,pred,kind", [
    # against a tuple, assignments stand in their variables' order: y = 1, x = 2 is (2, 1)
    ("(1, 2)", "\\boxed{y = 1, x = 2}", "wrong"),   # was right, by written position
    ("(1, 2)", "\\boxed{y = 2, x = 1}", "equal"),
    ("(1, 2)", "\\boxed{x = 1, y = 2}", "equal"),
    ("x = 1, y = 2", "\\boxed{(1, 2)}", "equal"), ("x = 1, y = 2", "\\boxed{(2, 1)}", "wrong"),
    ("y = 2, x = 1", "\\boxed{(1, 2)}", "equal"),
    ("(1, 2, 3)", "\\boxed{x_{10} = 3, x_2 = 2, x_1 = 1}", "equal"),  # x_1, x_2, x_10: numbers by value
    ("(2, \\frac{\\pi}{3})", "\\boxed{r = 2, \\theta = \\frac{\\pi}{3}}", "equal"),               # polar
    ("(3, \\pi, \\frac{\\pi}{2})", "\\boxed{\\rho = 3, \\theta = \\pi, \\phi = \\frac{\\pi}{2}}", "equal"),  # spherical
    ("(3, \\pi, \\frac{\\pi}{2})", "\\boxed{\\rho = 3, \\phi = \\pi, \\theta = \\frac{\\pi}{2}}", "wrong"),
    # a named gold against a bare list: the gold's written order
    ("x = 1, y = 2", "\\boxed{2, 1}", "wrong"),     # was right, as an unordered set
    ("x = 1, y = 2", "\\boxed{1, 2}", "equal"),
    ("y = 2, x = 1", "\\boxed{2, 1}", "equal"),
    ("x = 1, y = 2", "\\boxed{\\{1, 2\\}}", "wrong"),  # a set has no order, so no names
    # two named lists: name for name, in any order
    ("x = 1, y = 2", "\\boxed{y = 2, x = 1}", "equal"), ("x = 1, y = 2", "\\boxed{x = 2, y = 1}", "wrong"),
    # the values of one variable are an unordered list, as before
    ("1, 2", "\\boxed{x = 2, x = 1}", "equal"), ("1, 2", "\\boxed{x = 2 \\text{ or } x = 1}", "equal"),
])
def test_named_values_count_by_name(gold, pred, kind):
    assert _kind(gold, pred) == kind, (gold, pred, verify(gold, pred))


# -- 4. verify_batch: the boxed answers of one output share one timeout, as in verify -----------------

def test_verify_batch_gives_the_boxed_answers_of_one_output_one_budget(sympy_job_limits):
    granted = sympy_job_limits
    heavy = " ".join(f"\\boxed{{10^{{10^{{{10 + i}}}}}}}" for i in range(8))
    start = time.monotonic()
    [v] = verify_batch([("3", heavy)], timeout=0.5)
    assert v.details["kind"] == "timeout" and not v.correct and v.error is None, v
    # the first job spends the output's 0.5 s; the others are timed out without a job (before,
    # each of the 8 got its own 0.5 s, and one output could hold the workers 8 times as long)
    assert granted == [0.5]
    assert time.monotonic() - start < HANG_GUARD


def test_verify_batch_boxes_and_single_answers_agree_with_verify():
    pairs = [
        ("x+1", "\\boxed{1+x} and again \\boxed{x+1}"),   # two boxes, both right
        ("x+1", "\\boxed{1+x}"),                          # a single answer that is also a box above
        ("x+1", "\\boxed{1+x} or \\boxed{x+2}"),          # a hedge
        ("x+1", "\\boxed{1+x} and again \\boxed{x+1}"),   # a repeated output
        ("\\sqrt{2}", "\\boxed{\\sqrt2} \\boxed{\\frac{2}{\\sqrt2}}"),
    ]
    got = verify_batch(pairs)
    want = [verify(g, p) for g, p in pairs]
    assert [(v.correct, v.details["kind"]) for v in got] == [(v.correct, v.details["kind"]) for v in want]
    assert [v.details["kind"] for v in got] == ["equal", "equal", "hedged", "equal", "equal"]


# -- 5. a gold that is no answer is an error, never graded as its text --------------------------------

@pytest.mark.parametrize("gold", [None, float("nan"), decimal.Decimal("NaN"), True])
def test_a_gold_that_is_no_answer_gives_an_error_verdict(gold):
    for v in (verify(gold, str(gold)), verify_batch([(gold, str(gold))])[0]):
        assert not v.correct and v.error is not None and v.details["kind"] == "error", (gold, v)
        assert type(gold).__name__ in v.error
    assert verify("", "1").details["kind"] == "error"  # as an empty gold is


# -- 6. sampling sees answers that agree only on part of the line --------------------------------------

@pytest.mark.parametrize("gold,pred,equal", [
    ("x", "\\boxed{\\max(x, -3)}", False),                              # differ only below -3
    ("\\lfloor x \\rfloor", "\\boxed{\\lceil x \\rceil - 1}", False),   # differ only at whole numbers
    ("1", "\\boxed{\\lceil x \\rceil - \\lfloor x \\rfloor}", False),
    ("0", "\\boxed{0^x}", False),                                       # undefined at every negative x
    ("\\frac{1}{2}", "\\boxed{\\frac{1}{2} + 0^x}", False),
    # right answers stay right: a removable gap at a whole number, poles of factorials, cancellation far out
    ("\\frac{x^2-4}{x-2}", "\\boxed{x+2}", True), ("\\frac{x^3-x}{x^2-1}", "\\boxed{x}", True),
    ("\\frac{(x+1)!}{x!}", "\\boxed{x+1}", True), ("\\cosh^2 x - \\sinh^2 x", "\\boxed{1}", True),
    ("\\binom{n}{2}", "\\boxed{\\frac{n(n-1)}{2}}", True), ("\\lfloor x \\rfloor", "\\boxed{-\\lceil -x \\rceil}", True),
    ("\\frac{e^x}{e^x+1}", "\\boxed{\\frac{1}{1+e^{-x}}}", True), ("\\max(x, y)", "\\boxed{\\frac{x+y+|x-y|}{2}}", True),
])
def test_sampling_sees_partial_equality(gold, pred, equal):
    v = verify(gold, pred)
    assert v.correct is equal and v.error is None, (gold, pred, v)


def test_rules_version_bumped_for_these_verdict_changes():
    assert RULES_VERSION >= 3


@pytest.mark.parametrize("gold, prediction, right", [
    ("5", "\\boxed{2 + 3 = 5}", True),
    ("0.33", "\\boxed{\\frac13 = 0.33}", True),  # a rounding written with "=": common, and right
    ("0.33", "\\boxed{\\frac13 \\approx 0.33}", True),
    ("3", "\\boxed{\\sqrt{10} \\approx 3}", True),
    ("5", "\\boxed{4 = 5}", True),  # the last member is the answer ...
    ("4", "\\boxed{4 = 5}", False),  # ... and only it: a false chain hedges nothing
])
def test_a_chain_is_its_last_member(gold, prediction, right):
    assert verify(gold, prediction).correct is right


def test_unicode_approx_and_equiv_read_as_their_latex_commands():
    assert verify("3.14", "\\boxed{π ≈ 3.14}").correct
    assert verify("3.14", "\\boxed{\\pi \\approx 3.14}").correct
    assert verify("2", "\\boxed{x ≡ 2}").correct
    assert not verify("3", "\\boxed{π ≈ 3.14}").correct


@pytest.mark.parametrize("prediction, right", [
    ("\\boxed{\\approx 3.14}", True), ("\\boxed{≈ 3.14}", True), ("The answer is ≈ 3.14", True),
    ("\\boxed{= 3.14}", True), ("\\boxed{\\sim 3.14}", True), ("\\boxed{\\approx 3.2}", False),
])
def test_a_leading_equals_or_approximation_sign_is_dropped(prediction, right):
    """The value after a leading `=`, `\\approx` or `≈` is the answer (it was unparsable)."""
    v = verify("3.14", prediction)
    assert v.correct is right and v.details["kind"] == ("equal" if right else "wrong"), v


def test_a_leading_sign_is_dropped_only_as_a_whole_command():
    from rlvr.verifiers.math_normalize import normalize

    assert normalize("\\simplify x") == "\\simplify x" and normalize("\\approx 2") == "2"
