"""Math verifier: units that differ, units of several words, and answer forms that were unreadable.

Normalising drops units, so `10 m` for a gold `10\\text{ cm}` used to be right; `rlvr.verifiers.
math_units` reads the unit each side ends with and a known unit that differs makes the answer wrong.
Then forms that were read wrong or not at all: `20 \\text{ km}/\\text{h}`, `20 km/h`, `{3 \\over 4}`,
`0.(3)`, `\\{x \\mid x > 3\\}` and `+ c` for a gold's `+ C`. Controls keep their verdicts.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from conftest import assert_judged

from rlvr.verifiers.math import RULES_VERSION, verify
from rlvr.verifiers.math_units import read_unit, unit_of, unit_phrase


# -- reading a unit ------------------------------------------------------------------------------

@pytest.mark.parametrize("spellings", [
    ["10 cm", "10\\text{ cm}", "10 \\text{cm}", "10 centimeters", "10 centimetres", "10\\,\\mathrm{cm}", "10cm", "10 CM"],
    ["5 m", "5\\text{ m}", "5 meters", "5 metres", "5~\\text{m}"],
    ["20 km/h", "20\\text{ km/h}", "20 \\text{ km}/\\text{h}", "20 kilometers per hour", "20 kph", "20 km/hr"],
    ["60 mph", "60 miles per hour", "60 \\text{ mi/hr}", "60 miles/hour"],
    ["12 \\text{ cm}^2", "12 cm^2", "12 cm^{2}", "12 square centimeters", "12 sq cm", "12 \\text{ sq. cm}", "12 cm\u00b2"],
    ["2 ft^3", "2 cubic feet", "2 \\text{ft}^3"],
    ["90^\\circ", "90^{\\circ}", "90\u00b0", "90 degrees", "90 \\text{ deg}"],
    ["3 h", "3 hours", "3 \\text{ hrs}", "3 hr"],
    ["5 in", "5 inches", "5 \\text{ inch}"],
    ["9.8 m/s^2", "9.8 \\text{ m/s}^2", "9.8 \\,\\mathrm{m}/\\mathrm{s}^2"],
])
def test_every_spelling_of_a_unit_reads_as_one_unit(spellings):
    units = {text: unit_of(text) for text in spellings}
    assert None not in units.values(), units
    assert len(set(units.values())) == 1, units


def test_a_unit_is_its_dimensions_and_its_exact_size():
    assert unit_of("3 km") == (( ("length", 1), ), Fraction(1000))
    assert unit_of("3 mph") == ((("length", 1), ("time", -1)), Fraction(1609344, 1000) / 3600)
    assert unit_of("3 cm^2").scale == Fraction(1, 10_000)
    assert unit_of("3 \\text{ kg}\\cdot\\text{m}/\\text{s}^2").dims == (("length", 1), ("mass", 1), ("time", -2))


@pytest.mark.parametrize("pair", [
    ("10 cm", "10 m"), ("10 cm", "10 mm"), ("5 inches", "5 feet"), ("3 hours", "3 minutes"), ("20 km/h", "20 m/s"),
    ("60 mph", "60 km/h"), ("12 cm^2", "12 cm"), ("12 cm^2", "12 cm^3"), ("90^\\circ", "90 radians"), ("5 dollars", "5 cents"),
    ("5 kg", "5 lb"), ("2 L", "2 mL"), ("1 day", "1 week"), ("5 m", "5 s"), ("5 dollars", "5 euros"),
])
def test_different_units_read_as_different(pair):
    a, b = map(unit_of, pair)
    assert a is not None and b is not None and a != b


@pytest.mark.parametrize("text", [
    "12", "\\frac{3}{4}", "x^2", "10^3", "2x", "2\\pi r", "12 apples", "48\\text{ square units}", "5 dollars in total",
    "5 dollars each", "5 M", "5 k", "5 S", "3 \\text{ or } 4", "7 /", "per hour", "5 m 2", "5 square", "20 \\text{ km}/",
    "30^\\circ \\text{C}", "\\$18", "",
])
def test_no_unit_or_an_unknown_word_gives_none(text):
    assert unit_of(text) is None


def test_in_is_an_inch_only_as_the_whole_phrase():
    assert unit_of("5 in") is not None
    assert unit_of("5 in total") is None
    assert read_unit("in") is not None and read_unit("dollars in") is None


def test_the_phrase_is_the_end_of_the_answer_after_the_last_number():
    assert unit_phrase("2x - 3 cm") == "cm"  # not "x - 3 cm": the phrase has no digit
    assert unit_phrase("20 \\text{ km}/\\text{h}") == "km / h"
    assert unit_phrase("\\frac{1}{2}\\text{ cm}") == "cm"


# -- verdicts ------------------------------------------------------------------------------------

@pytest.mark.parametrize("gold, text", [
    ("10\\text{ cm}", "The answer is \\boxed{10 m}."),
    ("10\\text{ cm}", "\\boxed{10 \\text{ mm}}"),
    ("5\\text{ inches}", "\\boxed{5 \\text{ feet}}"),
    ("3\\text{ hours}", "So it takes \\boxed{3 \\text{ minutes}}."),
    ("60\\text{ mph}", "\\boxed{60 \\text{ km/h}}"),
    ("12\\text{ cm}^2", "\\boxed{12 \\text{ cm}}"),
    ("90^\\circ", "\\boxed{90 \\text{ radians}}"),
    ("5\\text{ dollars}", "\\boxed{5 \\text{ dollars}} and \\boxed{5 \\text{ cents}}"),  # a second box in another unit
    ("18\\text{ dollars}", "\\boxed{18 \\text{ cents}}"),
])
def test_a_known_unit_other_than_the_golds_is_wrong(gold, text):
    verdict = verify(gold, text)
    assert not verdict.correct
    assert "different units" in verdict.reason, verdict.reason


@pytest.mark.parametrize("gold, text", [
    ("10\\text{ cm}", "\\boxed{10}"),  # no unit: the number is the answer, as before
    ("10\\text{ cm}", "\\boxed{10 \\text{ centimeters}}"),
    ("10\\text{ cm}", "The answer is 10 cm."),
    ("10", "\\boxed{10 \\text{ cm}}"),  # the gold has none
    ("48\\text{ square units}", "\\boxed{48 \\text{ units}^2}"),  # "units" is no known unit: not judged
    ("12\\text{ cm}^2", "\\boxed{12 \\text{ square centimeters}}"),
    ("60\\text{ mph}", "\\boxed{60 \\text{ miles per hour}}"),
    ("90^\\circ", "\\boxed{90 \\text{ degrees}}"),
    ("4\\text{ inches}", "\\boxed{4 \\text{ in}}"),
    ("\\$18.90", "\\boxed{18.90 \\text{ dollars}}"),
    ("12", "\\boxed{12 \\text{ apples}}"),
    ("64\\text{ cm}^3", "\\boxed{64 \\text{ mL}}"),  # a millilitre is a cubic centimetre
    ("2\\text{ L}", "\\boxed{2 \\text{ liters}}"),
])
def test_the_same_unit_or_none_keeps_the_answer_right(gold, text):
    assert_judged(gold, text, True)


@pytest.mark.parametrize("gold, text", [
    ("20 \\text{ km}/\\text{h}", "\\boxed{20}"),
    ("20", "\\boxed{20 \\text{ km}/\\text{h}}"),
    ("20\\text{ km/h}", "\\boxed{20 km/h}"),
    ("20\\text{ km/h}", "The speed is \\boxed{20 \\text{ km}/\\text{hr}}."),
    ("5\\text{ m/s}", "\\boxed{5 m/s}"),
    ("5", "\\boxed{5 \\text{ m}/\\text{s}}"),
])
def test_a_unit_of_several_words_is_dropped_like_one(gold, text):
    assert_judged(gold, text, True)


def test_a_slash_after_a_unit_that_leads_nowhere_is_not_a_unit():
    assert_judged("20", "\\boxed{20 \\text{ km}/ 3}", False)


# -- forms that were unreadable ------------------------------------------------------------------

@pytest.mark.parametrize("gold, text, right", [
    ("\\frac{3}{4}", "\\boxed{{3 \\over 4}}", True),
    ("\\frac{3}{4}", "\\boxed{3 \\over 4}", True),
    ("\\frac{x+1}{2}", "$\\boxed{{x+1 \\over 2}}$", True),
    ("\\frac{3}{4}", "\\boxed{{4 \\over 3}}", False),
    ("\\frac{1}{3}", "\\boxed{0.\\overline{3}}", True),  # `\overline` is no `\over`
    ("\\frac{1}{3}", "\\boxed{0.(3)}", True),
    ("\\frac{1}{6}", "\\boxed{0.1(6)}", True),
    ("\\frac{8}{7}", "\\boxed{1.(142857)}", True),
    ("-\\frac{1}{3}", "\\boxed{-0.(3)}", True),
    ("\\frac{1}{3}", "\\boxed{0.(4)}", False),
    ("0.3", "\\boxed{0.(3)}", False),
    ("7.5", "\\boxed{2.5(3)}", True),  # digits between a non-zero whole part's point and the bracket: a product, as before
])
def test_tex_over_and_bracketed_repeating_decimals(gold, text, right):
    assert_judged(gold, text, right)


@pytest.mark.parametrize("gold, text, right", [
    ("(3, \\infty)", "\\boxed{\\{x \\mid x > 3\\}}", True),
    ("(3, \\infty)", "\\boxed{\\{x : x > 3\\}}", True),
    ("(3, \\infty)", "\\boxed{\\{x | x > 3\\}}", True),
    ("(3, \\infty)", "\\boxed{\\{x \\in \\mathbb{R} \\mid x > 3\\}}", True),
    ("[-2, 5)", "\\boxed{\\{ t \\mid -2 \\le t < 5 \\}}", True),
    ("(3, \\infty)", "\\boxed{\\{x \\mid x \\geq 3\\}}", False),
    ("(3, \\infty)", "\\boxed{\\{x \\mid y > 3\\}}", False),  # a condition on another letter: not read as one
    ("\\{1, 2\\}", "\\boxed{\\{1, 2\\}}", True),  # a listed set stays a set
])
def test_a_set_builder_set_is_its_condition(gold, text, right):
    assert_judged(gold, text, right)


@pytest.mark.parametrize("gold, text, right", [
    ("x^2 + C", "\\boxed{x^2 + c}", True),
    ("\\frac{x^3}{3}+C", "\\boxed{\\frac{1}{3}x^3 + c}", True),
    ("x^2 + c", "\\boxed{x^2 + C}", True),
    ("x^2 + C", "\\boxed{x^2 + 5}", False),
    ("x^2 + C", "\\boxed{x^3 + c}", False),
    ("cx + C", "\\boxed{cx + c}", False),  # another lone c: the letters are not renamed
    ("\\pi - C", "\\boxed{\\pi - c}", False),  # an angle C and a side c, not a constant of integration
    ("A + B + C", "\\boxed{A + B + c}", False),
    ("a + b - C", "\\boxed{a + b - c}", False),
])
def test_an_added_constant_in_the_other_case_is_the_golds_constant(gold, text, right):
    assert_judged(gold, text, right)


def test_the_rules_version_names_these_rules():
    assert RULES_VERSION >= 7


@pytest.mark.timeout(20)  # a hang guard: the new unit and form patterns must stay linear
@pytest.mark.parametrize("text", [
    "20 " + " " * 40_000 + "km",
    "20 km" + " " * 40_000 + "/h x",
    "20" + " km/" * 10_000 + "x",
    "1 " + "\\text{a}/" * 5_000 + "\\text{b}",
    "\\{x \\mid " + "x > 3 " * 5_000 + "\\}",
    "0." + "1" * 40_000 + "(3)",
    "{" + "1 \\over " * 5_000 + "2}",
    "48 " + "m^2 " * 40,  # a unit read two ways at each space took 98 s (review of the first version)
    "48 " + "\\text{ cm}^2" * 16,
    "48 " + "m^{2} " * 40,
])
def test_long_inputs_are_read_quickly(text):
    assert not verify("10\\text{ cm}", f"\\boxed{{{text}}}").correct
    assert not verify("48\\text{ m}^2", f"\\boxed{{{text}}}").correct
