"""The unit an answer's number is given in, so that `10 \\text{ cm}` is not `10 m`.

Normalisation drops units (`math_normalize`: `5 \\text{ cm}` is read as 5), which is right when one
side has a unit and the other none, but would make two answers with the same number and different
units equal. `unit_of` reads the unit phrase an answer ends with (`cm`, `\\text{ km/h}`,
`miles per hour`, `\\text{cm}^2`, `square feet`, `^\\circ`) into a `Unit`: its dimensions with their
powers and its size in base units, exact (`Fraction`), so that every spelling of one unit gives one
value (`cm`, `centimeters`, `\\text{ cm}`; `mph` and `miles per hour`).

It answers only when every word of the phrase is a known unit: an unknown word (`apples`,
`units`, `each`, `dollars in total`) gives None, and so does a phrase that is not at the answer's
end, so a unit is judged only where it is certain. Words that are also prose or maths in other
places are units only when they are the whole phrase: `5 in` is five inches, `5 dollars in total`
has no known unit. `math.verify` calls a prediction wrong when it and the gold both name a unit
and the units differ (`answer_unit` on both: the unit phrase, else a currency sign before a bare
number, `\\$5`; `units_differ`); the numbers are not converted (`0.1 m` for `10 cm` stays wrong, as
its number differs).
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import NamedTuple

from rlvr.verifiers.math_normalize import CURRENCY_ALT, CURRENCY_SIGN_ALT, CURRENCY_WORDS, TEXT_GROUP_RE


class Unit(NamedTuple):
    """A unit as dimensions with powers (sorted `(name, power)` pairs) and its size in base units."""

    dims: tuple[tuple[str, int], ...]
    scale: Fraction


_INCH = Fraction(254, 10_000)
_FOOT = 12 * _INCH
_MILE = 5280 * _FOOT
_POUND = Fraction(45_359_237, 100_000)  # grams
_GALLON = Fraction(3_785_411_784, 1_000_000_000)  # in litres

#: (dimension, size) of each known unit word. Lower-case keys match any case; the case-sensitive
#: one-letter units are in `_CASED`.
_WORDS: dict[str, tuple[str, Fraction]] = {}


def _add(dimension: str, size: Fraction | int, *names: str) -> None:
    for name in names:
        _WORDS[name] = (dimension, Fraction(size))


_add("length", Fraction(1, 1000), "mm", "millimeter", "millimeters", "millimetre", "millimetres")
_add("length", Fraction(1, 100), "cm", "centimeter", "centimeters", "centimetre", "centimetres")
_add("length", 1, "meter", "meters", "metre", "metres")
_add("length", 1000, "km", "kilometer", "kilometers", "kilometre", "kilometres")
_add("length", _INCH, "inch", "inches")
_add("length", _FOOT, "ft", "foot", "feet")
_add("length", 3 * _FOOT, "yd", "yds", "yard", "yards")
_add("length", _MILE, "mi", "mile", "miles")
_add("mass", Fraction(1, 1000), "mg", "milligram", "milligrams")
_add("mass", 1, "gram", "grams", "gramme", "grammes")
_add("mass", 1000, "kg", "kgs", "kilogram", "kilograms")
_add("mass", _POUND, "lb", "lbs", "pound", "pounds", "gbp")  # (`£5` and `5 GBP` read as "pounds" do: see `_SIGN_WORDS`)
_add("mass", _POUND / 16, "oz", "ounce", "ounces")
_add("time", 1, "sec", "secs", "second", "seconds")
_add("time", 60, "min", "mins", "minute", "minutes")
_add("time", 3600, "hr", "hrs", "hour", "hours")
_add("time", 86_400, "day", "days")
_add("time", 7 * 86_400, "week", "weeks")
_add("time", 365 * 86_400, "year", "years", "yr", "yrs")
_add("volume", Fraction(1, 1_000_000), "ml", "milliliter", "milliliters", "millilitre", "millilitres")  # in m^3
_add("volume", Fraction(1, 1000), "liter", "liters", "litre", "litres")
_add("volume", _GALLON / 1000, "gal", "gallon", "gallons")
_add("dollar", 1, "dollar", "dollars", "usd")
_add("dollar", Fraction(1, 100), "cent", "cents")
_add("euro", 1, "euro", "euros", "eur")
_add("currency ¥", 1, "yen", "jpy")  # (the kind `step_units` gives the sign ¥)
_add("angle", 1, "degree", "degrees", "deg")
_add("radian", 1, "radian", "radians", "rad")

#: One-letter units, case-sensitive (an upper-case M is a million, `k` a thousand).
_CASED: dict[str, tuple[str, Fraction]] = {
    "m": ("length", Fraction(1)), "g": ("mass", Fraction(1)), "s": ("time", Fraction(1)),
    "h": ("time", Fraction(3600)), "l": ("volume", Fraction(1, 1000)), "L": ("volume", Fraction(1, 1000)),
    "mL": ("volume", Fraction(1, 1_000_000)),
}

#: Units that are a product of others, as one word.
_COMPOUND: dict[str, tuple[tuple[str, int], ...]] = {
    "mph": (("mi", 1), ("hr", -1)), "kph": (("km", 1), ("hr", -1)), "kmh": (("km", 1), ("hr", -1)),
    "fps": (("ft", 1), ("sec", -1)), "mps": (("meter", 1), ("sec", -1)),
}

#: Words that are units only as the whole phrase (elsewhere they are prose: "in total", "a min").
_ALONE_ONLY = frozenset({"in"})

#: The phrase after the answer's number: letters, spaces, `/`, `*`, `.`, braces, degree marks and
#: the powers `^2`/`^3`, 60 characters at most, after a digit, a closing brace, a bracket or `\\pi`. (No
#: other digit: `2x - 3 cm` ends with `cm`, not `x - 3 cm`.)
_POWER = r"\^\s*(?:\{\s*)?[23]"  # (its closing brace is matched as any brace: no two ways to match a space)
_TAIL_RE = re.compile(rf"(?:(?<=[\d}})\]])|(?<=\\pi))\s*((?:[A-Za-z°]|{_POWER})(?:[A-Za-z\s/*.{{}}°]|{_POWER}){{0,60}}?)\s*$")
#: Spacing and maths delimiters, read as spaces: `$`, and `\\(`, `\\)`, `\\[`, `\\]` (`\\(60\\,\\text{m/s}\\)`
#: ends with its unit; a pair of backslashes, a row break, is not one).
_SPACING_RE = re.compile(r"\\[,;:! ]|~|\\quad|\\qquad|\$|(?<!\\)\\[()\[\]]")
_DEGREE_RE = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\degree")
#: A phrase's tokens: a power `^2`/`^3` (group 1), a degree mark, `/`, `*`, a word, or (group 2)
#: anything else but a space, brace or full stop, which makes the phrase no unit.
_TOKEN_RE = re.compile(r"\^\s*\{?\s*([23])\s*\}?|°|/|\*|[A-Za-z]+|([^\s{}.])")


def unit_phrase(text: str) -> str | None:
    """The phrase after the number `text` (an extracted answer or gold) ends with, markup removed
    (`10 \\text{ km}/\\text{h}` gives `km / h`), or None when it ends with no letters or marks."""
    s = text[-200:].strip()
    if not s or s[-1] in "0123456789" and "^" not in s[-4:]:  # the usual answer: a bare number
        return None
    if "\\" in s:
        s = _DEGREE_RE.sub("°", TEXT_GROUP_RE.sub(r" \1 ", s))
    s = _SPACING_RE.sub(" ", s).replace("\u00b2", "^2").replace("\u00b3", "^3").replace("\\cdot", "*")
    m = _TAIL_RE.search(s)
    return None if m is None else " ".join(m.group(1).split())


def unit_of(text: str) -> Unit | None:
    """The unit `text` ends with, or None when it ends with none or with words that are not all
    known units (see the module docs)."""
    said = said_unit(text)
    return None if said is None else said[1]


#: Words that raise the next unit to a power (`square feet`, `cubic cm`).
_POWER_WORDS = {"square": 2, "sq": 2, "cubic": 3}


def read_unit(phrase: str) -> Unit | None:
    """The `Unit` a phrase such as `km/h`, `square feet`, `cm^2` or `miles per hour` names, else None."""
    tokens = list(_TOKEN_RE.finditer(phrase))
    alone = sum(t.group().isalpha() for t in tokens) == 1
    terms: list[list] = []  # per unit word: [its units, its power, 1 before the slash or -1 after]
    side, prefix = 1, None  # prefix: the power a "square" or "cubic" gives the next unit word
    for piece in tokens:
        token, exponent, stray = piece.group(), piece.group(1), piece.group(2)
        lowered = token.lower()
        if stray:
            return None
        if exponent:  # `^2` after a unit word that has no power yet
            if not terms or terms[-1][1] != 1 or prefix is not None:
                return None
            terms[-1][1] = int(exponent)
        elif token == "/" or lowered == "per":
            if not terms or side == -1:
                return None
            side = -1
        elif lowered in _POWER_WORDS:
            prefix = _POWER_WORDS[lowered]
        elif token != "*":
            units = _units_of_word(token, alone=alone)
            if units is None:
                return None
            terms.append([units, prefix or 1, side])
            prefix = None
    if not terms or prefix is not None or terms[-1][2] != side:  # no unit, or "square" or "/" with none after it
        return None
    dims: dict[str, int] = {}
    scale = Fraction(1)
    for units, power, where in terms:
        for dimension, size, own_power in units:
            exponent = own_power * power * where
            dims[dimension] = dims.get(dimension, 0) + exponent
            scale *= size ** exponent
    if "volume" in dims:  # a litre is a cubic decimetre: `64 mL` is `64 cm^3` (sizes are in m^3)
        dims["length"] = dims.get("length", 0) + 3 * dims.pop("volume")
    return Unit(tuple(sorted((d, p) for d, p in dims.items() if p)), scale)


def _units_of_word(word: str, *, alone: bool) -> list[tuple[str, Fraction, int]] | None:
    """(dimension, size, power) of each unit one word names (`mph` names two), or None if unknown."""
    if word == "°":
        return [("angle", Fraction(1), 1)]
    if word in _CASED:
        return [(*_CASED[word], 1)]
    lowered = word.lower()
    if lowered in _COMPOUND:
        return [(*_WORDS[name], power) for name, power in _COMPOUND[lowered]]
    if lowered in _ALONE_ONLY:
        return [("length", _INCH, 1)] if alone else None
    if lowered in _WORDS:
        return [(*_WORDS[lowered], 1)]
    return None


def said_unit(text: str) -> tuple[str, Unit] | None:
    """The unit phrase `text` ends with (for messages) and the `Unit` it names, or None (see `unit_of`)."""
    phrase = unit_phrase(text)
    unit = None if phrase is None else read_unit(phrase)
    return None if unit is None else (phrase, unit)


#: A currency sign or code before the answer's number (`\\$5`, `$5` with no other `$`, `USD 5`, `€5`,
#: `£5`, `¥5`; a sign written as text, `\\text{\\$}5`, as `math_normalize` reads it), with a minus before or
#: after it: group 1, or group 2 the sign in the text. Maths delimiters around the whole answer are
#: dropped first (`$\\$5$`).
_LEADING_MONEY_RE = re.compile(
    r"-?\s*(?:(\\\$|\\textdollar(?![A-Za-z])\s*(?:\{\s*\})?|US\s*\\?\$|\$(?![^$]*\$)|" + CURRENCY_ALT + ")"
    r"|\\(?:text|textrm|mathrm)\s*\{\s*(" + CURRENCY_SIGN_ALT + r")\s*\})\s*-?\s*[\d.]")
_OUTER_DELIMS_RE = re.compile(r"^(?:\$\$|\$|\\\(|\\\[)(?P<inner>.*)(?:\$\$|\$|\\\)|\\\])$", re.DOTALL)
#: The unit each sign names (`math_normalize.CURRENCY_WORDS`, those with a unit word): `£` reads as the
#: word "pounds" does, a mass (`£5` and `5 pounds` agree).
_SIGN_WORDS = {sign: word for sign, word in CURRENCY_WORDS.items() if word is not None}


def answer_unit(text: str) -> tuple[str, Unit] | None:
    """The unit an answer or gold names (for `math.verify`'s check that their units agree): the
    known unit it ends with (`said_unit`), else the currency of a sign or code before its number
    when nothing follows the number (`\\$5` is in dollars, `€5` in euros), else None. With a sign
    and words after the number that are no known unit (`\\$5 \\text{ per hour}`, `\\$3 each`), None:
    the unit is not certain."""
    said = said_unit(text)
    if said is not None or unit_phrase(text) is not None:
        return said
    s = text.strip()
    outer = _OUTER_DELIMS_RE.match(s)
    if outer is not None and "$" not in outer.group("inner").replace("\\$", ""):
        s = outer.group("inner").strip()
    m = _LEADING_MONEY_RE.match(s)
    if m is None:
        return None
    sign = "".join((m.group(1) or m.group(2)).split()).replace("\\", "").replace("US$", "$")
    sign = "$" if sign.startswith("textdollar") else sign  # `\\textdollar 5`, `\\textdollar{}5`
    if sign not in _SIGN_WORDS:
        return None  # money with no known unit word (`Rs. 5`)
    return sign, read_unit(_SIGN_WORDS[sign])


def units_differ(gold: tuple[str, Unit], answer: tuple[str, Unit]) -> bool:
    """Whether two units (`answer_unit`) tell a gold and an answer apart. A currency sign against a
    rate in that currency is no difference (`\\$5` for `5 \\text{ dollars per hour}`: a rate's
    unit is often left out, and the sign says only what is before the number)."""
    if gold[1] == answer[1]:
        return False
    for signed, other in ((gold, answer), (answer, gold)):
        if signed[0] in _SIGN_WORDS and _rate_in(other[1], signed[1]):
            return False
    return True


def _rate_in(unit: Unit, money: Unit) -> bool:
    """Whether `unit` is `money` per something (`dollars per hour`, `cents/kg`: the money's kind
    to the power 1, every other kind to a negative power)."""
    dims = dict(unit.dims)
    return all(dims.pop(name, None) == power for name, power in money.dims) and bool(dims) \
        and all(power < 0 for power in dims.values())
