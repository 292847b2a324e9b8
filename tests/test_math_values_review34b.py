"""Review of rules 29's values (review 34, second part): words saying how a number is written were
kept as text but never read, so `101 \\text{ in binary}`, `10 (binary)`, `7 in base 8` and
`6 (repeated)` were products of letters (`101 in binary` was right for no gold at all, not even
`101_2`); and the currency codes GBP and JPY after a number, and the text-mode dollar sign
`\\textdollar`, were not read as USD and EUR were."""

import pytest

from rlvr.verifiers.math import verify
from rlvr.verifiers.math_normalize import normalize
from rlvr.verifiers.math_units import answer_unit


def _verdict(gold, prediction):
    v = verify(gold, prediction)
    assert v.error is None, v
    return v.correct


# -- 1. a numeral said to be in a base is the subscript numeral the parser reads -------------------

@pytest.mark.parametrize("text, expected", [
    ("101 \\text{ in binary}", "101_{2}"), ("10 \\text{ (binary)}", "10_{2}"), ("10 in octal", "10_{8}"),
    ("7 in base 8", "7_{8}"), ("10 in hex", "10_{16}"), ("10 binary", "10_{2}"), ("4210 in base-5", "4210_{5}"),
    ("10 in binary notation", "10_{2}"), ("1011 (base 2)", "1011_{2}"), ("-101 in binary", "-101_{2}"),
    ("0.3 (repeating)", "0.\\overline{3}"),
])
def test_reading_words_are_read(text, expected):
    assert normalize(text) == expected
    assert normalize(text, number_gold=True) == expected


@pytest.mark.parametrize("gold, prediction", [
    ("101_2", "Converting.\n\n\\boxed{101 \\text{ in binary}}"), ("7_8", "The answer is 7 in base 8."),
    ("10_2", "\\boxed{10 \\text{ (binary)}}"), ("10_{16}", "The answer is 10 in hex."), ("10_2", "#### 10 binary"),
    ("4210_5", "The answer is 4210 in base 5."), ("1011_2", "\\boxed{1011 \\text{ (base 2)}}"),
    ("10", "The answer is 10 (base 10)."), ("\\frac13", "The answer is 0.3 (repeating)."),
    # a count of things named with such a word is still a count
    ("8", "\\boxed{8 \\text{ binary strings}}"), ("12", "\\boxed{12 \\text{ base cases}}"),
])
def test_reading_words_right(gold, prediction):
    assert _verdict(gold, prediction)


@pytest.mark.parametrize("gold, prediction", [
    # `101 in binary` means 5, written as the parser reads `101_2`: a numeral in another base is
    # equal only to the same digits in that base, so it is wrong for 101 and, as `101_2` is, for 5
    ("101", "\\boxed{101 \\text{ in binary}}"), ("5", "\\boxed{101 \\text{ in binary}}"),
    ("10", "The answer is 10 in hex."), ("16", "The answer is 10 in hex."), ("10", "#### 10 binary"),
])
def test_reading_words_other_value_wrong(gold, prediction):
    assert not _verdict(gold, prediction)


@pytest.mark.parametrize("gold, prediction", [
    ("6", "The answer is 6 (repeated)."), ("9", "\\boxed{9 \\text{ in binary}}"),
    ("\\frac{4}{33}", "\\boxed{0.12 \\text{ (recurring)}}"),
])
def test_unreadable_reading_words_unparsable(gold, prediction):
    v = verify(gold, prediction)
    assert not v.correct and (v.details or {}).get("kind") == "unparsable", v


# -- 2. currency codes after the number, and `\textdollar` --------------------------------------

@pytest.mark.parametrize("gold, prediction", [
    ("5", "\\boxed{5 GBP}"), ("5", "\\boxed{5 JPY}"), ("£5", "\\boxed{5 GBP}"), ("¥500", "\\boxed{500 JPY}"),
    ("500 \\text{ yen}", "\\boxed{500 JPY}"), ("\\$5", "\\boxed{\\textdollar 5}"), ("5", "\\boxed{\\textdollar{}5}"),
    ("5 \\text{ dollars}", "\\boxed{\\textdollar 5}"),
])
def test_currency_codes_after_and_textdollar_right(gold, prediction):
    assert _verdict(gold, prediction)


@pytest.mark.parametrize("gold, prediction", [
    ("5 \\text{ cents}", "\\boxed{\\textdollar 5}"), ("€5", "\\boxed{5 JPY}"), ("5 \\text{ euros}", "\\boxed{5 GBP}"),
])
def test_currency_codes_after_and_textdollar_keep_their_unit(gold, prediction):
    assert not _verdict(gold, prediction)


def test_textdollar_is_dollars():
    assert answer_unit("\\textdollar 5")[0] == "$"
