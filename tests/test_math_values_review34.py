"""Review of rules 29's values (review 34): words saying how a number is written (`binary`, `base`,
`repeating`) stopped every phrase holding them from being dropped, so counts of things named with
them (`8 binary strings`, `12 base cases`) were wrong; the recurring-decimal pattern was quadratic;
`\\text{\\$}5` was no dollar amount while `\\$5` was; and currency codes before a number (`EUR 5`,
`US\\$5`) were read as products of letters."""


import pytest

from rlvr.verifiers.math import verify
from rlvr.verifiers.math_normalize import MAX_ANSWER_CHARS, _normalize, normalize
from rlvr.verifiers.math_units import answer_unit, read_unit


def _verdict(gold, prediction):
    v = verify(gold, prediction)
    assert v.error is None, v
    return v.correct


# -- 1. a word saying how the number is written, inside a noun phrase that counts ---------------

@pytest.mark.parametrize("gold, prediction", [
    ("8", "The answer is 8 binary strings."), ("6", "\\boxed{6 \\text{ repeating digits}}"), ("8", "#### 8 binary digits"),
    ("4", "The answer is 4 octal digits."), ("10", "The answer is 10 hex digits."), ("12", "The answer is 12 base cases."),
    ("3", "The answer is 3 base pairs."), ("2", "The answer is 2 periodic orbits."), ("4", "The answer is 4 hex nuts."),
    ("2", "The answer is 2 radix points."), ("4", "\\boxed{4 \\text{ hex nuts}}"), ("8", "\\boxed{8 \\text{ (binary strings)}}"),
    ("5", "\\boxed{5 \\text{ repeated digits}}"), ("7", "\\boxed{7 \\text{ recurring customers}}"),
])
def test_a_count_named_with_a_reading_word_is_the_count(gold, prediction):
    assert _verdict(gold, prediction) is True


@pytest.mark.parametrize("gold, prediction", [
    ("10", "\\boxed{10 \\text{ (binary)}}"), ("10", "\\boxed{10 \\text{ in octal}}"), ("10", "\\boxed{10 \\text{ binary}}"),
    ("10", "\\boxed{10 \\text{ in binary notation}}"), ("10", "\\boxed{10 \\text{ (binary) apples}}"),
    ("10", "The answer is 10 in hex."), ("0.3", "\\boxed{0.3 \\text{ recurring}}"), ("0.3", "\\boxed{0.3 \\text{ recurring decimal}}"),
    ("2", "\\boxed{2 \\text{ per mille}}"), ("10", "\\boxed{10 \\text{ in base}}"),
])
def test_a_reading_word_ending_the_phrase_still_changes_the_value(gold, prediction):
    assert _verdict(gold, prediction) is False


def test_normalize_drops_a_counting_phrase_but_not_a_reading():
    assert normalize("8 \\text{ binary strings}", number_gold=True) == "8"
    assert normalize("12 base cases", number_gold=True) == "12"
    assert normalize("10 \\text{ in binary}", number_gold=True) != "10"


# -- 2. a recurring decimal at the answer-size limit -----------------------------------------------

def test_a_recurring_decimal_at_the_answer_size_limit_is_read_as_written():
    """At the answer-size limit (where the old quadratic reading took half a second: a cost for the
    verifier benchmark to watch, not this test) the reading is still right: a run of 1s recurring is
    1/9, and a run ending in a 2 written once names no recurring digit, so it is not read as one."""
    tail = "2 \\text{ repeating}"
    text = "0." + "1" * (MAX_ANSWER_CHARS - len(tail) - 2) + tail
    assert len(text) == MAX_ANSWER_CHARS
    _normalize.cache_clear()
    read = normalize(text)
    assert read.startswith("0." + "1" * 1000) and "overline" not in read
    ones = "0." + "1" * (MAX_ANSWER_CHARS - 40) + " \\text{ recurring}"
    assert normalize(ones) == "0.\\overline{1}"


@pytest.mark.parametrize("text, read", [
    ("0.3 \\text{ recurring}", "0.\\overline{3}"), ("0.333 repeating", "0.\\overline{3}"),
    ("0.1666 repeating", "0.1\\overline{6}"), ("-1.2599 recurring", "-1.25\\overline{9}"),
    ("0.12 repeating", "0.12 repeating"), ("0.1 \\text{ recurring}", "0.\\overline{1}"),
])
def test_which_digit_recurs_is_unchanged(text, read):
    assert normalize(text) == read


# -- 3. a dollar sign written as text ----------------------------------------------------------

def test_a_dollar_sign_written_as_text_is_dollars():
    assert answer_unit("\\text{\\$}5")[1] == read_unit("dollars")
    assert _verdict("\\text{\\$}5", "\\boxed{5 \\text{ cents}}") is False
    assert _verdict("\\text{\\$}5", "\\boxed{5}") is True
    assert _verdict("\\text{\\$}5", "\\boxed{\\$5}") is True
    assert _verdict("5 \\text{ cents}", "\\boxed{\\text{\\$}5}") is False


# -- 4. currency codes before the number ---------------------------------------------------------

@pytest.mark.parametrize("gold, prediction", [
    ("5", "\\boxed{EUR 5}"), ("€5", "\\boxed{EUR 5}"), ("5 \\text{ euros}", "\\boxed{EUR 5}"), ("EUR 5", "\\boxed{5}"),
    ("EUR 5", "\\boxed{€5}"), ("\\$5", "\\boxed{US\\$5}"), ("US\\$5", "\\boxed{\\$5}"), ("5", "\\boxed{US\\$5}"),
    ("5", "\\boxed{US$5}"), ("5", "\\boxed{GBP 5}"), ("5", "\\boxed{JPY 5}"), ("JPY 5", "\\boxed{5 \\text{ yen}}"),
    ("¥5", "\\boxed{5 \\text{ yen}}"), ("5 \\text{ yen}", "\\boxed{¥5}"), ("-5", "\\boxed{-EUR 5}"),
])
def test_a_currency_code_reads_as_its_currency(gold, prediction):
    assert _verdict(gold, prediction) is True


@pytest.mark.parametrize("gold, prediction", [
    ("EUR 5", "\\boxed{5 \\text{ cents}}"), ("\\$5", "\\boxed{EUR 5}"), ("5 \\text{ yen}", "\\boxed{\\$5}"),
    ("6", "\\boxed{EUR 5}"), ("5", "\\boxed{EURO 5}"),
])
def test_a_currency_code_is_no_other_currency_nor_value(gold, prediction):
    assert _verdict(gold, prediction) is False
