"""Audit 38 (math bars): a factor before an absolute value (`2|x-3|`, `x|x|`, `|x-50||x+50|`) was
unparsable, and the "not evaluated" rule did not look inside a function's arguments
(`f(\\log_2 4)` for a gold of `f(2)` was "identical expressions")."""

from __future__ import annotations

import pytest

import rlvr.verifiers.math_parse as mp
from conftest import verify_boxed as _verdict
from rlvr.verifiers.math_parse import ParseError, parse


X = ("sym", "x")


def _abs_of(a: tuple, b: tuple, op: str = "sub") -> tuple:
    return ("abs", (op, a, b))


# ------------------------------------------------------------------ A: a factor before a bar


def test_a_bar_after_an_operand_opens_an_absolute_value():
    assert parse("2|x-3|") == ("mul", ("num", "2"), _abs_of(X, ("num", "3")))
    assert parse("x|x|") == ("mul", X, ("abs", X))
    assert parse("|x-50||x+50|") == ("mul", _abs_of(X, ("num", "50")), _abs_of(X, ("num", "50"), "add"))
    assert parse("x^{30}|x-1|") == ("mul", ("pow", X, ("num", "30")), _abs_of(X, ("num", "1")))


@pytest.mark.parametrize("gold, answer", [
    ("|2x-6|", "2|x-3|"), ("2|x-3|", "|2x-6|"), ("|2x-6|", "2\\left|x-3\\right|"),
    ("|x^2-2500|", "|x-50||x+50|"), ("|x-50||x+50|", "|x^2-2500|"), ("|3x|", "3\\left|x\\right|"),
    ("x|x|", "x\\sqrt{x^2}"), ("x^{30}|x-1|", "|x^{31}-x^{30}|"), ("|6x|", "2|x| \\cdot 3"),
    ("|2x-6|", "2\\lvert x-3\\rvert"),
])
def test_a_factor_before_bars_is_graded_by_value(gold, answer):
    # each side was "unparsable ...: unexpected '|'"
    v = _verdict(gold, answer)
    assert v.correct, v


@pytest.mark.parametrize("gold, answer", [
    ("|2x-3|", "2|x-3|"), ("|xy|", "|x|y"), ("x^2", "x|x|"), ("|x^2-2500|", "|x-50||x+49|"),
    ("2|x-3|", "2|x+3|"),
])
def test_a_wrong_answer_with_bars_stays_wrong(gold, answer):
    v = _verdict(gold, answer)
    assert not v.correct, v


@pytest.mark.parametrize("text", ["|a|b|c|", "|x|y|z|", "|(a)b|c|d|", "2|a|b|c|"])
def test_a_bars_two_readings_parse_are_refused(text):
    # |a|·b·|c| or |a·|b|·c|: no guess, as a guess could grade a wrong answer right
    with pytest.raises(ParseError, match="more than one reading"):
        parse(text)


def test_a_too_many_bars_to_read_is_unparsable():
    # each bar inside another may open or close: the readings grow faster than the bars
    text = "|" + "|".join("abcdefghijklmnopqrst") + "|"
    with pytest.raises(ParseError, match="too many bars"):
        parse(text)


@pytest.mark.parametrize("text, tree", [
    ("|x|", ("abs", X)),
    ("|x|+|y|", ("add", ("abs", X), ("abs", ("sym", "y")))),
    ("|x-1|^2", ("pow", _abs_of(X, ("num", "1")), ("num", "2"))),
    ("|x|y", ("mul", ("abs", X), ("sym", "y"))),
    ("||a|b|", ("abs", ("mul", ("abs", ("sym", "a")), ("sym", "b")))),
    ("2 \\cdot |x-3|", ("mul", ("num", "2"), _abs_of(X, ("num", "3")))),
    ("|-x|", ("abs", ("neg", X))),
])
def test_a_bars_read_before_keep_their_meaning(text, tree):
    assert parse(text) == tree


def test_a_a_sign_or_bar_after_a_bar_inside_bars_closes():
    # nobody writes |x·|-y|·y| or |a·||b|...: the one reading left is the written one
    xy = ("sym", "x"), ("sym", "y")
    assert parse("x|x|-y|y|") == ("sub", ("mul", X, ("abs", X)), ("mul", xy[1], ("abs", xy[1])))
    assert parse("x|x|+y|y|") == ("add", ("mul", X, ("abs", X)), ("mul", xy[1], ("abs", xy[1])))
    assert parse("|x-50||x+50| + 2|x-3|") == ("add", parse("|x-50||x+50|"), parse("2|x-3|"))
    assert parse("2||x|-1|") == ("mul", ("num", "2"), ("abs", ("sub", ("abs", X), ("num", "1"))))
    assert parse("2|-x|") == ("mul", ("num", "2"), ("abs", ("neg", X)))


@pytest.mark.parametrize("text", ["\\{x | x > 0\\}", "P(A|B)", "3|n", "|x|-y|", "x|+x|", "|2||x|-1|+3|"])
def test_a_a_bar_that_closes_nothing_stays_unparsable(text):
    # a set-builder bar, a conditional probability, "divides": no closing bar pairs with them
    with pytest.raises(ParseError):
        parse(text)


def test_a_set_builder_answer_is_read_as_before():
    assert _verdict("x > 0", "\\{x | x > 0\\}").correct
    assert _verdict("x > 0", "\\{x \\mid x > 0\\}").correct
    assert not _verdict("x > 0", "\\{x | x < 0\\}").correct


# ------------------------------------------------------------------ B: not evaluated inside f(...)


@pytest.mark.parametrize("gold, answer, left", [
    ("f(2)", "f(\\log_2 4)", "logarithm"), ("f(3)", "f(\\log_2 8)", "logarithm"),
    ("f(2)", "f(|-2|)", "absolute value"), ("f(f(2))", "f(f(\\log_2 4))", "logarithm"),
    ("f(2\\sqrt3)", "f(\\sqrt{12})", "root"), ("f(120)", "f(5!)", "factorial"),
])
def test_b_an_argument_left_to_compute_is_not_evaluated(gold, answer, left):
    # each was "identical expressions": the rule did not look inside f(...)
    v = _verdict(gold, answer)
    assert not v.correct and "not evaluated" in v.reason and left in v.reason, v


@pytest.mark.parametrize("gold, answer", [
    ("f(\\log_2 x)", "f(\\frac{\\ln x}{\\ln 2})"), ("f(\\sqrt{12})", "f(2\\sqrt3)"), ("f(\\log_2 3)", "f(\\log_2 3)"),
    ("f(2)", "f(1+1)"), ("f(x)", "f(x)"),
])
def test_b_an_argument_the_gold_leaves_too_is_accepted(gold, answer):
    v = _verdict(gold, answer)
    assert v.correct, v


# ------------------------------------------------------------------ C: the cost of reading bars (review of 03756dd)


def _chain(bars: int) -> str:
    """`|a|b|c|...|` with `bars` bars: every bar inside another may open or close."""
    return "|" + "|".join("abcdefghijklmnopqrstuvwxyz"[i % 26] for i in range(bars - 1)) + "|"


def _parses(monkeypatch, text: str) -> tuple[int, str]:
    """How many times `parse(text)` runs the parser, and its error ('' when it parses)."""
    calls = []
    real = mp._Parser.parse_top

    def counted(self):
        calls.append(1)
        return real(self)

    monkeypatch.setattr(mp._Parser, "parse_top", counted)
    try:
        parse(text)
        error = ""
    except ParseError as e:
        error = str(e)
    monkeypatch.setattr(mp._Parser, "parse_top", real)
    return len(calls), error


@pytest.mark.parametrize("text, most, error", [
    (_chain(200), 2, "more than one reading"),  # was 64 parses, then "too many bars"
    (_chain(20), 2, "more than one reading"),
    (_chain(10), 2, "more than one reading"),  # was 64 parses
    (_chain(21), 1, "too many bars"),  # an odd count: no reading parses
    ("|a|b|c|", 2, "more than one reading"),
    ("2|x-3|", 1, ""), ("|x-50||x+50|", 1, ""), ("x|x| + 2|x-3| - |x|y", 1, ""),
])
def test_c_bars_are_read_in_few_parses(monkeypatch, text, most, error):
    # a text of many bars in verify_steps cost 45-60 times what it did before bars were read
    count, got = _parses(monkeypatch, text)
    assert count <= most, (text, count)
    assert (error in got) if error else got == "", got


@pytest.mark.parametrize("terms", [7, 8, 12])
def test_c_a_sum_of_terms_with_bars_is_read_once(monkeypatch, terms):
    # `|x_0|y_0 + ... + |x_6|y_6` was "too many bars to read": each later bar doubled the readings
    gold = " + ".join(f"|x_{i}|y_{i}" for i in range(terms))
    assert _parses(monkeypatch, gold) == (1, "")
    assert _verdict(gold, " + ".join(f"y_{i}|x_{i}|" for i in range(terms))).correct
    assert not _verdict(gold, " + ".join(f"y_{i}|x_{i + 1}|" for i in range(terms))).correct


@pytest.mark.parametrize("text", ["3 \\mid 12", "3|12", "\\{x \\mid x^2 = 9\\}", "\\{x | x^2 = 9\\}",
                                  "x = 2 | x = -2", "P(A|B)"])
def test_c_a_bar_that_closes_nothing_is_named(text):
    # was "unexpected end of answer" or "expected '|', found '='": the bar is what went wrong
    with pytest.raises(ParseError, match="closes no absolute value"):
        parse(text)
