"""Exact values of the sides of a worked solution's claims (`rlvr.verifiers.steps`).

A side is read as the math verifier reads an answer (`normalize`), with each percentage written as
the exact fraction it is (`12.5%` is `12.5/100`), and evaluated in-process when it is a number
expression without variables. The process reward uses these values where it must not round: unit
conversions (`rlvr.verifiers.step_units`) and congruences (`rlvr.verifiers.step_congruence`), decimals cut
off with an ellipsis (`cut_decimal`, `check_cut`) and divisions with a remainder (`check_remainder`).
"""

from __future__ import annotations

import re
from fractions import Fraction

from rlvr.verifiers.math_compare import exact_value, has_symbols
from rlvr.verifiers.math_normalize import MAX_ANSWER_CHARS, normalize
from rlvr.verifiers.math_parse import parse
from rlvr.verifiers.verdict import Verdict

#: A `%` followed by a number: "7 % 3" is a remainder, not a percentage.
_PCT_MOD_RE = re.compile(r"%\s*\d")
# a number right before a "%" (`normalize` writes every spelling of percent so); it starts after no
# digit or point, and its digits are taken whole (possessive): a failed match never backtracks over
# them, so a long digit run costs linear time
_PCT_RE = re.compile(r"(?<![\d.])(\d++(?:\.\d++)?+|\.\d++)%")


def strict_percent(s: str) -> str | None:
    """`s` normalised, with each `p%` written as exactly p/100; None when a `%` is not a percent of a
    number. `normalize` writes every spelling of percent (`\\%`, `％`, `\\text{ percent}`, "per cent")
    as `%` right after its number, so each is read the same. A side longer than an answer may be
    (`MAX_ANSWER_CHARS`) is not read: `normalize` would cut it, and a cut text is another claim."""
    if len(s) > MAX_ANSWER_CHARS:
        return None
    s = normalize(s)
    if "%" not in s and "percent" not in s.lower():
        return s
    if _PCT_MOD_RE.search(s):
        return None  # "7 % 3": a remainder, not a percentage
    s = _PCT_RE.sub(r"(\1/100)", s)
    return None if "%" in s or "percent" in s.lower() else s


def exact_number(text: str) -> Fraction | None:
    """The exact rational value of `text` (its unit dropped, as `normalize` does) when it is a number
    expression without variables evaluated in-process; None for anything else."""
    normal = strict_percent(text)
    if normal is None or not normal.strip():
        return None
    try:
        tree = parse(normal)
        return None if has_symbols(tree) else exact_value(tree)
    except Exception:  # noqa: BLE001 - not a plain number expression
        return None


def exact_integer(text: str) -> int | None:
    """The value of `text` when it is an integer expression without variables (`3 \\cdot 27`, `2^{10}`),
    evaluated exactly in-process; None for anything else."""
    value = exact_number(text)
    return int(value) if value is not None and value.denominator == 1 else None


#: A side that is a decimal cut off with an ellipsis (`6.666...`, `-0.1666…`), maybe with a unit after
#: it (`16.666... dollars`, `3.28... \\text{ ft}`): the decimal's sign and digits.
_CUT_SIDE_RE = re.compile(r"\s*(-?)\s*(\d*\.\d+)(?:\.{3}|…)(?:\s+[A-Za-z]+){0,3}(?:\s*\\text\s*\{[^{}]{0,30}\})?\s*")


def cut_decimal(side: str) -> tuple[bool, str] | None:
    """`(negative, digits)` when `side` is a decimal cut off with "..." or "…" (`6.666...`): it
    states the first digits of a value, not a rounding of it; None for any other side."""
    m = _CUT_SIDE_RE.fullmatch(side)
    return None if m is None else (m.group(1) == "-", m.group(2))


def check_cut(value: Fraction, negative: bool, digits: str) -> Verdict:
    """Whether the exact `value` begins with the decimal `digits` (its sign `negative`): its size lies
    in [d, d + u), u one unit of the last digit written (`20/3 = 6.666...` holds, `6.667...` does not).
    When every digit after the point is 9, and there are two or more, the value may also be d + u
    itself: `0.99... = 1` holds, as the repeating decimal it is; a single 9 (`2 = 1.9...`) or other
    digits before the 9s (`0.49...`) do not read as a repeating 9, so a false sum cannot be written
    as its neighbour with a 9 on the end."""
    d, top = cut_span(False, digits)
    places = digits.partition(".")[2]
    size = -value if negative else value
    top_ok = len(places) >= 2 and set(places) == {"9"} and size == top
    if size >= 0 and d <= size and (size < top or top_ok):
        return Verdict.right("the value begins with the digits written")
    sign = "-" if negative else ""
    return Verdict.wrong(f"the value does not begin with {sign}{digits}", details={"kind": "wrong"})


def cut_span(negative: bool, digits: str) -> tuple[Fraction, Fraction]:
    """The closed range of values whose first digits a cut decimal writes: [d, d + u], mirrored for a
    negative one."""
    d = Fraction(digits)
    top = d + Fraction(1, 10 ** len(digits.partition(".")[2]))
    return (-top, -d) if negative else (d, top)


def rounding_span(text: str) -> tuple[Fraction, Fraction] | None:
    """The closed range of values that round to the plain decimal `text` (`6.67`: [6.665, 6.675]); a
    plain integer is itself only. None for anything else."""
    value = exact_number(text)
    if value is None or not PLAIN_NUMBER_RE.fullmatch(text.strip()):
        return None
    places = text.strip().partition(".")[2]
    half = Fraction(5, 10 ** (len(places) + 1)) if places else Fraction(0)
    return value - half, value + half


#: A plain decimal or integer, signed or not ("6.67", "-3", ".5", "4.").
PLAIN_NUMBER_RE = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")


def check_overlap(a: tuple[Fraction, Fraction], b: tuple[Fraction, Fraction], what: str) -> Verdict:
    """Whether one value can lie in both closed ranges `a` and `b`: a cut decimal against a plain
    decimal or another cut decimal (`6.666... = 6.67`) can only be shown false, when no value can."""
    if a[0] <= b[1] and b[0] <= a[1]:
        return Verdict.right("the two can be one value")
    return Verdict.wrong(f"no value {what}", details={"kind": "wrong"})


def check_remainder(a: Fraction, b: Fraction, q: Fraction, r: Fraction) -> Verdict:
    """Whether `a` divided by `b` is `q` with remainder `r`: a = q*b + r with 0 <= r < b (for integers
    a, b, q this makes r an integer: `17 / 5 = 3 remainder 2.5` fails)."""
    if b > 0 and 0 <= r < b and a == q * b + r:
        return Verdict.right("quotient and remainder hold")
    return Verdict.wrong(f"{a} divided by {b} is not {q} remainder {r}", details={"kind": "wrong"})
