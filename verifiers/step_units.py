"""Units in the claims of a worked solution (`rlvr.verifiers.steps`): which links between sides with
units are claims, and how a conversion between two units of one dimension is checked.

- Two units of one dimension with different names (`cm` and `m`, dollars and cents) make a link a
  conversion (`is_conversion`), checked exactly on the sides' amounts of the base unit
  (`conversion`, `check_conversion`); a conversion with a side that is no exact number claims nothing.
- Two units of one quantity in different systems, with no exact rate between them (degrees and
  radians, two currencies), make a link between two single numbers no claim (`unit_claim`).
- Temperatures on two scales (°C, °F, K: `0°C = 32°F`) are one quantity in two systems too, and a
  scale's zero is no zero of the quantity, so a link between a number on one scale and a number on
  another claims nothing, nor does the crossing link of a conversion formula between them, its target
  scale perhaps in words (`= 77 degrees Fahrenheit`; `temperature_links`); a link with a side on no
  scale elsewhere (`2 \\times 3 = 7°C`), a side holding an operation (`3 \\times 4°C = 13°F`) and the
  same scale on both sides (`10°C + 5°C = 15°C`) are checked by the numbers.
- Units of other kinds are compared by their numbers: a rate's unit is often not written.
- A side without a unit linked to one with a unit may be the quantity in another unit its chain
  names later (`2 \\text{ h} = 2 \\times 60` before `= 120 \\text{ min}`; `other_units`, `in_other_unit`).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from rlvr.verifiers.math_units import Unit, read_unit, said_unit
from rlvr.verifiers.step_numbers import exact_number
from rlvr.verifiers.verdict import Verdict

#: The unit a currency sign stuck to a number names (`\\$36` is 36 dollars, 3600 cents).
_CURRENCY_UNITS = {"$": read_unit("dollars"), "€": read_unit("euros"),
                   **{sign: Unit(((f"currency {sign}", 1),), Fraction(1)) for sign in "£¥"}}
#: Kinds of unit that measure one quantity in different systems, with no exact rate between them that
#: the numbers could be checked by: angles (degrees, radians) and money (one currency, another).
_SYSTEMS = (frozenset({"angle", "radian"}), frozenset({"dollar", "euro", "currency £", "currency ¥"}))
#: A degree sign however written (`°`, `^\\circ`, `^{\\circ}`, `\\degree`, `\\textdegree`), and a
#: LaTeX text wrapper whose content is read as is (`\\text{C}`, `\\mathrm{F}`).
_DEGREE_SIGN_RE = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\(?:degree|textdegree|circ)(?![A-Za-z])")
_TEXT_WRAPPER_RE = re.compile(r"\\(?:text|textrm|mathrm|rm|mbox)\s*\{([^{}]*)\}")
#: The temperature scale a side ends with: `°C`, `° F`, `℃`, `℉`, `K` after a number, "degrees Celsius",
#: "Fahrenheit", "kelvin" (after `_DEGREE_SIGN_RE` and `_TEXT_WRAPPER_RE` are read). Spaces are optional
#: only after a sign or "degrees", never at a search's start: linear in a long side ("°" and many spaces).
_SCALE_RE = re.compile(r"(?:°\s*(?P<deg>[CFK])|(?P<sign>[℃℉K])|(?<=[\d\s])(?P<kelvin>K)"
                       r"|(?:(?:(?-i:°)|degrees?)\s*)?(?P<word>celsius|centigrade|fahrenheit|kelvins?))[\s$}]*$",
                       re.IGNORECASE)
_SCALE_NAMES = {"c": "C", "f": "F", "k": "K", "℃": "C", "℉": "F", "K": "K", "celsius": "C", "centigrade": "C",
                "fahrenheit": "F", "kelvin": "K", "kelvins": "K"}
#: An operation between numbers in a side (`_one_number`; a leading sign is no operation).
_OPERATION_RE = re.compile(r"\\(?:times|cdot|div)(?![A-Za-z])|[-+*×·÷]")


def side_unit(side: str, money: re.Match | None) -> Unit | None:
    """The unit a side names: the known unit it ends with (`math_units.said_unit`: `2 \\text{ h}`,
    `25 \\text{ m}^2`), else the currency of a sign stuck to its number (`money`, the sign its part
    had before it was dropped), else None."""
    said = said_unit(side)
    if said is not None:
        return said[1]
    return None if money is None else _CURRENCY_UNITS.get(money.group().strip().lstrip("\\"))


def is_conversion(unit_a: Unit | None, unit_b: Unit | None) -> bool:
    """Whether a link between sides in these units converts a quantity: two units of one dimension
    with different names (`cm` and `m`, `kg` and `g`, dollars and cents)."""
    return unit_a is not None and unit_b is not None and unit_a != unit_b and unit_a.dims == unit_b.dims


def unit_claim(a: str, unit_a: Unit | None, b: str, unit_b: Unit | None) -> bool:
    """Whether the link `a = b` between sides in these units (`side_unit`) is a claim. It is none when
    it is a conversion (`is_conversion`) with a side that is no exact number, and when each side is one
    number in another system of the same quantity (`_other_system`: `\\frac{\\pi}{3} \\text{ rad} =
    60^\\circ`). Units of other kinds are otherwise compared by their numbers: a rate's unit is often
    not written (`\\$3 \\times 4 \\text{ lb} = \\$12`, `60 \\times 3 \\text{ h} = 180 \\text{ miles}`),
    nor a power's (`6 \\times 4 \\text{ m} = 24 \\text{ m}^2`)."""
    if unit_a is None and unit_b is None:
        return True
    if is_conversion(unit_a, unit_b):
        return conversion(a, unit_a, b, unit_b) is not None
    return not (_other_system(unit_a, unit_b) and _one_number(a) and _one_number(b))


def _kinds(unit: Unit) -> frozenset[str]:
    """The dimensions a unit is made of, without their powers (`m` and `m^2` are of one kind)."""
    return frozenset(name for name, _ in unit.dims)


def _other_system(unit_a: Unit | None, unit_b: Unit | None) -> bool:
    """Whether these are units of one quantity in two systems (`_SYSTEMS`: degrees and radians,
    dollars and euros), whose numbers neither compare nor convert exactly."""
    if unit_a is None or unit_b is None:
        return False
    kinds_a, kinds_b = _kinds(unit_a), _kinds(unit_b)
    return kinds_a != kinds_b and any(kinds_a | kinds_b <= system for system in _SYSTEMS)


def _one_number(side: str) -> bool:
    """Whether a side is one number with its unit, no operation in it (`\\frac{\\pi}{3} \\text{ rad}`,
    `60^\\circ`; not `\\$4 \\times 3`)."""
    return not _OPERATION_RE.search(side.strip().lstrip("-"))


def temperature_scale(side: str) -> str | None:
    """The temperature scale a side ends with, "C", "F" or "K" (`0°C`, `32^\\circ \\text{F}`, `20 ℃`,
    `300 K`, `20 degrees Celsius`), else None."""
    if not any(ch in side for ch in "°℃℉\\CFKcfk"):
        return None
    m = _SCALE_RE.search(_DEGREE_SIGN_RE.sub("°", _TEXT_WRAPPER_RE.sub(r" \1", side)))
    if m is None:
        return None
    name = m.group("deg") or m.group("sign") or m.group("kelvin") or m.group("word")
    return _SCALE_NAMES.get(name, _SCALE_NAMES.get(name.lower()))


def temperature_links(sides: list[str | None], parts: list[str] | None = None) -> set[int]:
    """The links of a chain (`i`: between `sides[i]` and `sides[i + 1]`) that are no claim because they
    cross temperature scales: a link between two single numbers on two scales (`0°C = 32°F`), and one
    outer link of a run of sides on no scale between two scales, the conversion (`20°C = 9/5 \\times 20 +
    32 = 68°F`): the link to the left scale when the run's first side does not equal that side's number
    (the run is on the right scale, as a conversion's formula usually is), else the link to the right
    one. A scale's zero is not the quantity's, so the numbers neither compare nor convert by a rate; the
    affine conversion is left unchecked, as one number in another system is (degrees and radians, two
    currencies). Every other link is checked by its numbers, a side on no scale included (`2 \\times 3 =
    7°C` fails; so does `20°C = 9/5 \\times 20 + 32 = 70°F`, whose formula is 68), a side holding an
    operation next to a scale (`3 \\times 4°C = 13°F` fails), and a chain on one scale (`10°C + 5°C =
    15°C`). `parts`, the text each side was read from, gives a side's scale written after it in words
    or as K that the side dropped (`= 77 degrees Fahrenheit`, `= 293 \\text{ K}`)."""
    scales = [(side is not None and temperature_scale(side)) or (temperature_scale(parts[i]) if parts else None)
              for i, side in enumerate(sides)]  # (an unread side's scale may still end a conversion: `= 293 K`)
    if len({scale for scale in scales if scale is not None}) < 2:
        return set()
    single = [side is not None and _one_number(side) for side in sides]  # (`3 \\times 4°C`: an operation, no scale)
    crossing = {i for i, (a, b) in enumerate(zip(scales, scales[1:]))
                if a is not None and b is not None and a != b and single[i] and single[i + 1]}
    i = 0
    while i < len(sides):
        if sides[i] is None or scales[i] is not None:
            i += 1
            continue
        j = i  # sides[i..j]: a run on no scale
        while j + 1 < len(sides) and sides[j + 1] is not None and scales[j + 1] is None:
            j += 1
        left = scales[i - 1] if i > 0 and sides[i - 1] is not None else None
        right = scales[j + 1] if j + 1 < len(sides) else None
        if left is not None and right is not None and left != right:
            on_left = _same_number(sides[i - 1], sides[i])
            crossing.add(j if on_left else i - 1)
        i = j + 1
    return crossing


def _same_number(a: str, b: str) -> bool:
    """Whether two sides have one exact value (their units dropped: `20°C` and `20`)."""
    value_a, value_b = exact_number(a), exact_number(b)
    return value_a is not None and value_a == value_b


def conversion(a: str, unit_a: Unit, b: str, unit_b: Unit) -> tuple[Fraction, Fraction] | None:
    """The two sides of a conversion (`is_conversion`) as exact amounts of the base unit (`4 \\times
    25 \\text{ cm}` is 1 m): the claim holds when they are equal. None when a side is no exact
    rational number (`\\frac{\\pi}{3} \\text{ rad}`): no claim."""
    value_a, value_b = exact_number(a), exact_number(b)
    if value_a is None or value_b is None:
        return None
    return value_a * unit_a.scale, value_b * unit_b.scale


#: The number a conversion's right side states, before its unit (`1.609 \\text{ km}`, `62 miles`).
_STATED_RE = re.compile(r"\s*(-?)(\d+)(?:\.(\d+))?(?![\d.])")
#: The size from which a time unit is a calendar unit (day, week, year): a day of work, a year of 52 weeks.
_DAY = Fraction(86400)


def check_conversion(a: Fraction, b: Fraction, right: str | None = None, unit_a: Unit | None = None,
                     unit_b: Unit | None = None) -> Verdict:
    """The verdict on a unit conversion whose sides are `a` and `b` of the base unit (`conversion`).
    Between units that are no whole multiple of one another (a mile and a km, a kg and a pound, a year
    and a week: `_rounded_rate`) a right side that is one plain number (`right`, in `unit_b`) may state
    the exact value rounded or cut off at its last significant digit (`1 \\text{ mile} = 1.609 \\text{ km}`,
    `100 km = 62 miles`, `1 pound = 450 grams`, `1 year = 52 weeks`), as such rates are written; a number
    of one significant digit that is such a rounding (`1 kg = 2 pounds`) is a rough rate, no claim: a
    wrong verdict of kind "unclaimed", which the caller skips (`_near`); between whole multiples (`cm` and `m`,
    hours and minutes, dollars and cents) it must be exact (`3 hours = 200 minutes` fails)."""
    if a == b:
        return Verdict.right("the same quantity")
    if right is not None and unit_a is not None and unit_b is not None and _rounded_rate(unit_a, unit_b):
        m = _STATED_RE.match(right)
        near = _near(a / unit_b.scale, m) if m is not None and Fraction(m.group()) * unit_b.scale == b else False
        if near:
            return Verdict.right("the same quantity, rounded or cut off at its last digit")
        if near is None:
            return Verdict.wrong("a rough rate of one significant digit: no claim", details={"kind": "unclaimed"})
    return Verdict.wrong(f"not the same quantity: {a} and {b} of the base unit", details={"kind": "wrong"})


def _rounded_rate(unit_a: Unit, unit_b: Unit) -> bool:
    """Whether neither unit is a whole multiple of the other (`1 \\text{ in} = 2.54 \\text{ cm}`; not `m`
    and `cm`, `h` and `min`): the rate between them is usually written rounded."""
    rate = unit_a.scale / unit_b.scale
    return rate.denominator != 1 and rate.numerator != 1


def _near(exact: Fraction, m: re.Match) -> bool | None:
    """Whether the number `m` (`_STATED_RE`) is `exact` rounded (within half a unit u of its last
    significant digit; an integer's trailing zeros are not significant: `450` has u = 10) or cut off
    (in [d, d + u), mirrored for a negative number) at that digit, keeping a significant digit
    (|exact| >= u), where `exact` has no expansion at that digit (one that has is written exactly).
    A number of one significant digit is a rough rate, neither shown to hold nor to fail: None (no
    claim) when it is `exact` rounded or cut off to one significant digit (`1 kg = 2 pounds`, `1 inch =
    3 cm`, `60 mph = 100 km/h`), else False (`1 km = 1 mile`: 0.62 is 0.6 to one digit)."""
    whole, places = m.group(2), m.group(3) or ""
    zeros = 0 if places else len(whole) - len(whole.rstrip("0"))
    unit = Fraction(1, 10 ** len(places)) * 10 ** zeros
    size = -exact if m.group(1) else exact
    stated = Fraction(f"{whole}.{places or 0}")
    if size <= 0 or (exact / unit).denominator == 1:
        return False
    if len((whole + places).strip("0")) == 1:
        first = Fraction(10) ** (len(str(math.floor(size))) - 1 if size >= 1 else -_leading_zeros(size))
        return None if stated in (math.floor(size / first + Fraction(1, 2)) * first, math.floor(size / first) * first) else False
    if size < unit:
        return False
    return abs(size - stated) * 2 <= unit or stated <= size < stated + unit


def _leading_zeros(x: Fraction) -> int:
    """For 0 < x < 1, the n with 10^-n <= x < 10^-(n-1) (`0.0621`: 2)."""
    n = 1
    while x * 10 ** n < 1:
        n += 1
    return n


def calendar_words(a: str, unit_a: Unit | None, b: str, unit_b: Unit | None) -> bool:
    """Whether a conversion links a calendar unit (a day or longer) with another time unit in plain
    words (`He works 8 hours = 1 day`, `1 year = 52 weeks`; no `\\text{...}`): a day of work, a year of
    whole weeks or a month of 30 days is a convention of the text, so such a link that does not hold
    exactly (nor as a rounding, `check_conversion`) is no claim."""
    if unit_a is None or unit_b is None or unit_a.dims != (("time", 1),) or unit_b.dims != unit_a.dims:
        return False
    return max(unit_a.scale, unit_b.scale) >= _DAY and "\\" not in a + b


def other_units(unit_a: Unit | None, unit_b: Unit | None, chain_units: dict[Unit, None] | None) -> list[Unit]:
    """For a link between a side with a unit and one without (`2 \\text{ h} = 2 \\times 60`), the other
    units of the same dimension its chain names (`chain_units`), once the chain is read to its end
    (`120 \\text{ min}` in a later row): the side without a unit may be the quantity in any of them
    (`in_other_unit`). Empty for any other link, whose numbers are checked as they are
    (`3 \\cdot 4 = 13 \\text{ cm}` fails)."""
    if chain_units is None or (unit_a is None) == (unit_b is None):
        return []
    unit = unit_a or unit_b
    return [other for other in chain_units if other != unit and other.dims == unit.dims]


def in_other_unit(bare: str, side: str, unit: Unit, others: list[Unit]) -> bool:
    """Whether the exact value of `bare` is the quantity `side` (in `unit`) expressed in one of the
    `others` units (`2 \\times 60` is `2 \\text{ h}` in minutes). False when a side is no exact number."""
    value, quantity = exact_number(bare), exact_number(side)
    if value is None or quantity is None:
        return False
    return any(value == quantity * unit.scale / other.scale for other in others)
