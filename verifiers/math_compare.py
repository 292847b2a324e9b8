"""Decide whether two parsed answers are equal: structure here, scalars by a pluggable comparer.

`compare(gold, pred, scalar_eq)` walks the answer structure — assignments, collections, intervals,
matrices, percentages, `\\pm` — and calls `scalar_eq(a, b)` for each pair of plain values. Two
comparers exist: `exact_eq` (this module; exact rational arithmetic with hard size bounds, cheap
enough to run in the caller's process with no time limit) and the sympy one in `math_sympy` (runs
only inside a time-limited worker). `exact_eq` raises `NeedSympy` when a value is beyond it
(symbols, roots, π, functions, huge powers); the caller then re-runs the whole comparison in a worker.

Conventions (see docs/verifiers.md for the full list):
- `x = 3` equals `3` (an assignment to a single variable is its value); `x = 3` vs `y = 3` differ.
  A chain `3 \\cdot 4 = 12` compared with a value uses its last member that is not a label (`3 = x`
  is 3, `[ABC] = 18` is 18, see `_is_label`). An answer `x^2 + \\frac{1}{x^2} = 7` gives 7, the value
  of the expression a question may ask for (nothing tells it from an unsolved `x + 1 = 3`, which
  gives 3 too); a gold equation with an unknown outside a label (`x^2 + y^2 = 1`) is no value, so
  an answer `1` is wrong against it (`_unsolved_equation`).
- Percentages: `p\\%` equals `p/100`, and equals `p` itself when |p| >= 1 (so `50\\%` = `50` = `0.5`,
  but `0.5\\%` != `0.5`).
- Decimals: exact comparison, except that a decimal answer with d places and at least 3 significant
  digits equals an exact gold that has no d-place expansion when it is that value correctly rounded
  (`0.333` = `1/3`, `3.14` = `\\pi`, but `0.33` != `1/3` and `2.5` != `2.54`). A decimal gold is
  exact as written: `\\frac{188}{15}` (12.533…) is not `12.5`.
- `\\pm a` is the set {a, -a}; `a \\pm b` is {a+b, a-b}; a `\\pm` inside an expression or a tuple
  makes it the set of its values (`\\frac{3 \\pm \\sqrt5}{2}`, `(\\pm 2, 0)` = `(2, 0), (-2, 0)`), each sign
  independently, at most `MAX_PM_VALUES` values; in a list or set those values are its elements.
- Hedging: when a single value is asked, a prediction with several different values (a list,
  a set, "2 or 3", `\\pm`) is "hedged" and wrong even if one of them is right; a one-element set or
  a list of equal values counts as that value.
- Bare lists ("1, 2"), sets, "or"/"and" lists and unions are unordered; tuples/intervals in
  brackets are ordered, and for two elements the bracket kinds must match (`(1, 2]` != `(1, 2)`),
  a bare list of the same length may stand for a tuple, never for an interval (`[1, 2)`, `[1, 2]`,
  `(1, 2]` != `1, 2`; `(1, 2)` = `1, 2`).
- Named values count by name (`_compare_named`): `x = 1, y = 2` = `y = 2, x = 1` = `(x, y) = (1, 2)`; against a tuple
  assignments stand in their variables' order (`y = 1, x = 2` is (2, 1)); against a bare list, in
  their written order (`2, 1` != `x = 1, y = 2`); against a set, never. Several values of one
  variable (`x = 1, x = 2`) are an unordered list, never a tuple (`(1, 2)` is a point).
- Single-variable inequalities are intervals: `x > 3` = `(3, \\infty)`, `1 \\le x < 2` = `[1, 2)`,
  `x \\neq 2` = `(-\\infty, 2) \\cup (2, \\infty)`; one not
  solved for its variable is compared with a ray as a relation: `x - 3 > 0` = `2x > 6` = `x > 3`.
  Inequalities in one variable joined by "and" (`\\land`, `\\wedge`) hold together (`x > -1 \\land x < 1`
  = `(-1, 1)`; mixed or unclear systems, and those no number satisfies, `x > 3 \\land x < 2`, are
  unparsable), as do two joined by a comma that bound the variable from both sides (`x > 2, x < 3`
  = `(2, 3)`); see `_system`.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction
from itertools import product
from math import prod
from typing import Callable, Iterator

from rlvr.verifiers.math_parse import ParseError

__all__ = ["MAX_PM_VALUES", "NeedSympy", "Outcome", "compare", "exact_eq", "exact_value", "decimal_places",
           "is_double_of", "may_be_rounding", "not_evaluated", "rounding_reason", "prepare", "has_symbols", "value_nodes"]

MAX_BITS = 4096  # exact fast path gives up (to sympy) beyond numbers this large
MAX_FACTORIAL = 200
#: The most values the `\\pm` signs of one answer may make (six independent signs); see `_pm_values`.
MAX_PM_VALUES = 64


class NeedSympy(Exception):
    """The fast comparer cannot decide; the comparison must run with sympy in a worker."""


class Outcome(tuple):
    """(equal, kind, reason): kind is one of "equal", "wrong", "hedged"."""

    __slots__ = ()

    def __new__(cls, equal: bool, kind: str, reason: str) -> "Outcome":
        return tuple.__new__(cls, (equal, kind, reason))

    equal = property(lambda self: self[0])
    kind = property(lambda self: self[1])
    reason = property(lambda self: self[2])


ScalarEq = Callable[[tuple, tuple], "tuple[bool, str]"]


def has_symbols(node: object) -> bool:
    """True when a tree (or a tuple of trees: function arguments, matrix rows) has a variable."""
    if isinstance(node, tuple) and node:
        if node[0] == "sym":
            return True
        return any(has_symbols(x) for x in (node[1:] if isinstance(node[0], str) else node))
    return False


# -- exact rational evaluation ---------------------------------------------------------------

def _num(literal: str) -> Fraction:
    if "e" in literal or "E" in literal:
        mant, _, exp = literal.lower().partition("e")
        if abs(int(exp)) > 400:
            raise NeedSympy
        return Fraction(mant) * Fraction(10) ** int(exp)
    return Fraction(literal)


def exact_value(node: tuple) -> Fraction:
    """The exact rational value of a numeric tree, or raise NeedSympy (never slow: sizes capped)."""
    kind = node[0]
    if kind == "num":
        return _num(node[1])
    if kind == "neg":
        return -exact_value(node[1])
    if kind in ("add", "sub", "mul", "div"):
        a, b = exact_value(node[1]), exact_value(node[2])
        if kind == "add":
            r = a + b
        elif kind == "sub":
            r = a - b
        elif kind == "mul":
            r = a * b
        else:
            if b == 0:
                raise NeedSympy
            r = a / b
        if r.numerator.bit_length() > MAX_BITS or r.denominator.bit_length() > MAX_BITS:
            raise NeedSympy
        return r
    if kind == "pow":
        a, b = exact_value(node[1]), exact_value(node[2])
        if b.denominator != 1 or (a == 0 and b < 0):
            raise NeedSympy
        e = abs(b.numerator)
        bits = max(a.numerator.bit_length(), a.denominator.bit_length())
        if bits * e > MAX_BITS:
            raise NeedSympy
        r = a ** e
        return 1 / r if b < 0 else r
    if kind == "mixed":
        whole, n, d = _num(node[1][1]), _num(node[2][1]), _num(node[3][1])
        if d == 0:
            raise NeedSympy
        return whole + n / d
    if kind == "pct":
        return exact_value(node[1]) / 100
    if kind == "fact":
        n = exact_value(node[1])
        if n.denominator != 1 or n < 0 or n > MAX_FACTORIAL:
            raise NeedSympy
        r = 1
        for k in range(2, int(n) + 1):
            r *= k
        return Fraction(r)
    if kind == "root":
        a, n = exact_value(node[1]), exact_value(node[2])
        if n == 2 and a >= 0:
            rn, rd = _isqrt_exact(a.numerator), _isqrt_exact(a.denominator)
            if rn is not None and rd is not None:
                return Fraction(rn, rd)
        raise NeedSympy
    raise NeedSympy


def _isqrt_exact(n: int) -> int | None:
    import math

    r = math.isqrt(n)
    return r if r * r == n else None


def decimal_places(node: tuple) -> tuple[int, int] | None:
    """(places, significant digits) when the node is a decimal literal (possibly negated), else None.
    A number times a power of ten (`3.33 \\times 10^{-4}`) is read as its literal (`3.33e-4`): the
    same rounding, written another way."""
    while node[0] == "neg":
        node = node[1]
    power = _power_of_ten(node)
    if power is not None:
        node, shift = power
    else:
        shift = 0
    if node[0] != "num" or ("." not in node[1] and "e" not in node[1].lower() and not shift):
        return None
    lit = node[1].lower()
    mant, _, exp = lit.partition("e")
    int_part, _, frac = mant.partition(".")
    places = len(frac) - (int(exp) if exp else 0) - shift
    sig = len((int_part + frac).lstrip("0")) or 1
    return places, sig


def _power_of_ten(node: tuple) -> tuple[tuple, int] | None:
    """(the number literal, k) when `node` is a literal (possibly negated: `-3.14 \\times 10^3`)
    times `10^{k}`, k a whole number; else None."""
    if node[0] != "mul" or node[2][0] != "pow" or node[2][1] != ("num", "10"):
        return None
    mantissa = node[1][1] if node[1][0] == "neg" else node[1]
    if mantissa[0] != "num":
        return None
    exponent, sign = node[2][2], 1
    if exponent[0] == "neg":
        exponent, sign = exponent[1], -1
    if exponent[0] != "num" or not exponent[1].isdigit() or len(exponent[1]) > 3:
        return None
    return mantissa, sign * int(exponent[1])


#: A decimal is taken as a rounding to at most this many places either side of the point (sizes capped).
MAX_ROUNDING_PLACES = 400


def may_be_rounding(places: int, sig: int) -> bool:
    """Whether a decimal written with `places` places and `sig` significant digits may be a rounding
    of an exact value: with 3 significant digits or more (`0.33` for 1/3 is too coarse to tell a
    rounding from a wrong answer), whatever the exponent (`6.67e3` rounds 20000/3 as `0.667` rounds
    2/3). The one rule of the exact path (`rounds_to`) and of sympy's (`math_sympy._numeric_eq`),
    which both also refuse a rounding left of the point (`places` < 0) of a rational value."""
    return sig >= 3 and abs(places) <= MAX_ROUNDING_PLACES


def rounds_to(dec: Fraction, places: int, sig: int, exact: Fraction) -> bool:
    """True when `dec` (written with `places` places, `sig` significant digits) is `exact` rounded.
    Never to tens or more (`places` < 0): `1.23 \\times 10^5` is no answer for 123456, whose every
    digit is known; such a rounding stands only for an irrational value (`math_sympy._numeric_eq`)."""
    if places < 0 or not may_be_rounding(places, sig):
        return False
    scale = Fraction(10) ** places
    scaled = exact * scale
    if scaled.denominator == 1:  # exact has a d-place expansion: it must match exactly
        return False
    return (scaled + Fraction(1, 2)).__floor__() == dec * scale


#: Significant digits of a Python float printed in full (`repr(2/3)` is `0.6666666666666666`, 16;
#: `repr(1/7)` is `0.14285714285714285`, 17; 15 for some): see `is_double_of`.
DOUBLE_DIGITS = range(15, 18)
#: How many units in the last place of a double (`math.ulp`) such a decimal may be off: the
#: rounding of a double, and of a short computation on doubles.
DOUBLE_ULPS = 2
#: The reason of a verdict that takes a decimal as a Python float printed in full (`is_double_of`).
DOUBLE_REASON = f"equal as a Python float (within {DOUBLE_ULPS} units in the last place)"


def is_double_of(dec: Fraction, places: int, sig: int, exact: Fraction | float) -> bool:
    """True when `dec` (written with `places` places and `sig` significant digits) is a Python float
    for `exact` printed in full: `sig` is 15 to 17 (`DOUBLE_DIGITS`), and the double nearest `dec`
    is at most `DOUBLE_ULPS` units in the last place from the double nearest `exact`
    (`0.6666666666666666` for 2/3 and `3.3333333333333335` for 10/3 are no correct roundings, yet
    what `print(2/3)` and `print(10/3)` show). Why: a model that computes with Python copies its
    output, and the same float as a coefficient (`0.6666666666666666x` for `\\frac{2x}{3}`) already
    passes sampling. Never a shorter decimal (`0.67`, `0.66666666666666` for 2/3 keep their
    verdicts: only a correct rounding, `rounds_to`, makes those right), nor one rounded left of
    the point (`places` < 0, as `rounds_to`). `exact` may be a float: the value of a gold the
    exact path cannot compute (`\\sqrt2`), evaluated by sympy."""
    if sig not in DOUBLE_DIGITS or places < 0:
        return False
    try:
        answer, gold = float(dec), float(exact)
    except (OverflowError, ValueError, TypeError):
        return False
    if not (math.isfinite(answer) and math.isfinite(gold)):
        return False
    return abs(answer - gold) <= DOUBLE_ULPS * math.ulp(gold)


def exact_eq(a: tuple, b: tuple) -> tuple[bool, str]:
    """Compare the gold's numeric tree `a` with the answer's `b` exactly (fast path); raise
    NeedSympy if either is not rational.

    Only the answer may be a rounding: a decimal answer equals an exact gold it correctly rounds
    (`0.333` for `\\frac13`), but a decimal gold is exact as written (`\\frac{188}{15}`, 12.533…, is
    not `12.5`)."""
    va, vb = exact_value(a), exact_value(b)
    if va == vb:
        both_int = va.denominator == 1
        return True, "equal as integers" if both_int else "equal as rationals"
    rounded = answer_rounds_gold(a, b, va, vb)
    if rounded is not None:
        return True, rounded
    return False, f"different values: {_fmt(va)} vs {_fmt(vb)}"


def answer_rounds_gold(a: tuple, b: tuple, gold: Fraction, answer: Fraction) -> str | None:
    """Why the answer's tree `b` (value `answer`) equals the gold's `a` (value `gold`) as a rounding,
    or None: `b` is a decimal that correctly rounds a gold with no decimal of its own (see
    `rounds_to`), or is a Python float's digits for it (`is_double_of`, rules 33). Never the other
    way round: a decimal gold is exact as written."""
    db = decimal_places(b)
    if not db or decimal_places(a):
        return None
    if rounds_to(answer, db[0], db[1], gold):
        return rounding_reason(*db)
    if is_double_of(answer, db[0], db[1], gold):
        return DOUBLE_REASON
    return None



def rounding_reason(places: int, sig: int) -> str:
    """The reason of a verdict that takes a decimal as a rounding (see `may_be_rounding`)."""
    if places < 0:  # `6.67e3`: rounded to tens, better said in significant digits
        return f"equal after rounding to {sig} significant digits"
    return f"equal after rounding to {places} decimal places"


def _fmt(v: Fraction) -> str:
    s = str(v)
    return s if len(s) < 60 else s[:57] + "..."


# -- answer structure ------------------------------------------------------------------------

_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}


def _interval(lo: tuple, lo_closed: bool, hi: tuple, hi_closed: bool) -> tuple:
    return ("seq", "[" if lo_closed else "(", "]" if hi_closed else ")", (lo, hi))


def prepare(node: tuple) -> tuple:
    """Rewrite a parsed answer into the forms `compare` understands (see module docstring).

    Every `\\pm` is read as both signs, wherever it stands: an answer holding one is the set of
    its values (`\\frac{3 \\pm \\sqrt5}{2}` is {(3+√5)/2, (3-√5)/2}, `(\\pm 2, 0)` is {(2, 0), (-2, 0)}),
    and in a list or set those values stand as its elements (`\\pm 2, 3` is 2, -2, 3).
    """
    kind = node[0]
    if kind == "list" and len(node) > 2:
        system = _system(node[1], node[2])
        if system is not None:
            return system
    if kind in ("list", "set", "union"):
        items: list[tuple] = []
        for x in node[1]:
            p = prepare(x)
            items.extend(p[1] if _is_pm_set(p) else (p,))
        if kind == "list" and len(node) > 2 and "or" in node[2]:  # alternatives: kept apart from a tuple (`_alternatives`)
            return (kind, tuple(items), "or")
        if kind == "union":
            return _merged_union(tuple(items))
        return (kind, tuple(items))
    if _has_pm(node) and not _is_assignment(node):
        return ("set", tuple(prepare(v) for v in _pm_values(node)), "pm")
    if kind == "rel":
        ops, exprs = node[1], node[2]
        if _is_tuple_assignment(node):  # `(x, y) = (2, 3)` names each value, as `x = 2, y = 3` does
            return ("list", tuple(("assign", name[1], prepare(value), ("rel", ("=",), (name, value)))
                                  for name, value in zip(exprs[0][3], exprs[1][3])))
        if _is_assignment(node):
            return ("assign", exprs[0][1], prepare(exprs[1]), node)
        if len(ops) == 1 and (ops[0] in _FLIP or ops[0] == "!="):
            return _symbol_range(ops[0], *exprs) or node
        if len(ops) == 2 and exprs[1][0] == "sym" and not has_symbols(exprs[0]) \
                and not has_symbols(exprs[2]):
            if all(o in ("<", "<=") for o in ops):
                return _interval(exprs[0], ops[0] == "<=", exprs[2], ops[1] == "<=")
            if all(o in (">", ">=") for o in ops):
                return _interval(exprs[2], ops[1] == ">=", exprs[0], ops[0] == ">=")
        return node
    if kind == "seq":
        return ("seq", node[1], node[2], tuple(prepare(x) for x in node[3]))
    return node


def _merged_union(items: tuple) -> tuple:
    """A union of intervals with exact ends as the fewest intervals that cover the same numbers,
    in order: intervals that overlap or meet at an end one of them holds are one (`[-2, 5] \\cup [5, 7]`
    is `[-2, 7]`, a single interval when that is all); `[1, 2) \\cup (2, 3]` stays two. A union with
    anything else (a point set, a tuple, an end that is no exact number) stays as it is."""
    pieces = []
    for item in items:
        if item[0] != "seq" or len(item[3]) != 2:
            return ("union", items)
        (lo, hi), lo_value, hi_value = item[3], _bound_value(item[3][0]), _bound_value(item[3][1])
        if lo_value is None or hi_value is None or lo_value > hi_value:
            return ("union", items)
        pieces.append([lo, lo_value, item[1] == "[", hi, hi_value, item[2] == "]"])
    pieces.sort(key=lambda iv: (iv[1], not iv[2]))
    merged = [pieces[0]]
    for iv in pieces[1:]:
        last = merged[-1]
        if iv[1] < last[4] or iv[1] == last[4] and (iv[2] or last[5]):
            if (iv[4], iv[5]) > (last[4], last[5]):
                last[3:] = iv[3:]
        else:
            merged.append(iv)
    out = tuple(_interval(iv[0], iv[2], iv[3], iv[5]) for iv in merged)
    return out[0] if len(out) == 1 else ("union", out)


def _symbol_range(op: str, left: tuple, right: tuple) -> tuple | None:
    """The values a relation `left op right` between a lone symbol and a value allows, whichever
    side the symbol is on: `x > 3` and `3 < x` are `(3, \\infty)`, `x \\neq 2` the two open rays
    beside 2. None when it does not relate a lone symbol to a value."""
    if left[0] == "sym" and not has_symbols(right):
        val = right
    elif right[0] == "sym" and not has_symbols(left):  # read from the symbol's side
        val, op = left, _FLIP.get(op, op)
    else:
        return None
    oo = ("const", "oo")
    below, above = _interval(("neg", oo), False, val, op == "<="), _interval(val, op == ">=", oo, False)
    if op == "!=":
        return ("union", (below, above))
    return above if op in (">", ">=") else below


_INEQUALITY_OPS = frozenset({"<", "<=", ">", ">=", "!="})
_INFINITE = {("const", "oo"): float("inf"), ("neg", ("const", "oo")): float("-inf")}


def _system(items: tuple, seps: tuple) -> tuple | None:
    """Inequalities that hold together, as the one set of values they allow, or None when `items`
    (a bare list joined by `seps`) is no such system and stays a list.

    Joined by "and" (`\\land`, `\\wedge`): inequalities hold together, so `x > -1 \\text{ and } x < 1`
    is (-1, 1), never the union of their rays. When no number satisfies them all (`x < -1 \\text{ and }
    x > 1`) they raise `ParseError`: "and" is then most likely casual language for "or" (the union is
    meant), while an empty answer is written `\\emptyset` or "no solution"; no reading is sure. Every
    item must then be an inequality in the same one variable whose bounds can be told apart (see
    `_intersection`); mixed items (`x > 1 \\text{ and } y < 2`, `x = 1 \\text{ and } x > 0`), a
    system that also says "or", or bounds that cannot be compared in-process raise `ParseError`
    (unparsable): no reading is sure. "or" and commas between solutions keep their meaning, with one
    exception: two inequalities in one variable joined by a comma, a lower and an upper bound with
    room between them (`x > 2, x < 3`), are a system too, as the union of such rays would be every
    number, an answer nobody writes that way; disjoint rays (`x < 2, x > 3`) stay a list of solutions.
    """
    if "and" in seps:
        if not any(item[0] == "rel" and _INEQUALITY_OPS.intersection(item[1]) for item in items):
            return None  # `3 \\text{ and } 4`, `x = 1 \\text{ and } y = 2`: values, as before
        if not set(seps) <= {"and", ","}:
            raise ParseError("inequalities joined by both 'and' and 'or': which holds together is unclear")
        return _intersection(items, exact_only=False)
    if seps == (",",) and len(items) == 2:
        rays = [_single_bound(item) for item in items]
        if None in rays or rays[0][0] != rays[1][0] or rays[0][1] == "!=" or rays[1][1] == "!=":
            return None
        lower = [r for r in rays if r[2][3][1] in _INFINITE]  # the ray bounded below: (a, oo)
        upper = [r for r in rays if r[2][3][0] in _INFINITE]
        if len(lower) != 1 or len(upper) != 1:
            return None
        lo, hi = _bound_value(lower[0][2][3][0]), _bound_value(upper[0][2][3][1])
        closed = lower[0][2][1] == "[" and upper[0][2][2] == "]"
        if lo is None or hi is None or not (lo < hi or (lo == hi and closed)):
            return None  # disjoint rays (or bounds not known exactly): solutions listed, as before
        return _intersection(items, exact_only=True)
    return None


def _single_bound(node: tuple) -> tuple[str, str, tuple] | None:
    """(variable, op, its set of values) for an inequality between a lone variable and a value
    (`x > 3`, `3 < x`; the set as `_symbol_range` makes it), else None."""
    if node[0] != "rel" or len(node[1]) != 1 or node[1][0] not in _INEQUALITY_OPS or _has_pm(node):
        return None
    left, right = node[2]
    name = left[1] if left[0] == "sym" else right[1] if right[0] == "sym" else None
    values = _symbol_range(node[1][0], left, right)
    return None if values is None or name is None else (name, node[1][0], values)


def _inequality_set(node: tuple) -> tuple[str, list[tuple]] | None:
    """(variable, intervals) for a single-variable inequality: a lone variable against a value
    (`x \\ge 2`, `x \\neq 2`: two intervals) or a chain with the variable between two values
    (`1 < x \\le 2`); intervals as ("seq", open, close, (lo, hi)). None for anything else."""
    single = _single_bound(node)
    if single is not None:
        values = single[2]
        return single[0], list(values[1]) if values[0] == "union" else [values]
    if node[0] != "rel" or len(node[1]) != 2 or _has_pm(node) or node[2][1][0] != "sym":
        return None
    prepared = prepare(node)
    if prepared[0] != "seq":
        return None
    return node[2][1][1], [prepared]


def _bound_value(node: tuple) -> Fraction | float | None:
    """An interval end's exact value (±inf for `\\infty`), or None when it is not a rational number
    the exact path can compute (`\\sqrt{2}`, `\\pi`)."""
    if node in _INFINITE:
        return _INFINITE[node]
    if has_symbols(node):
        return None
    try:
        return exact_value(node)
    except (NeedSympy, ValueError, ZeroDivisionError, OverflowError):
        return None


def _intersection(items: tuple, *, exact_only: bool) -> tuple:
    """The values that every inequality of `items` allows (all in one variable, see `_system`): an
    interval, a union of intervals or a one-point set `\\{a\\}` (`x \\ge 2 \\land x \\le 2`); when no
    number satisfies them all, `ParseError` (see `_system`). Interval ends keep the answer's own
    spelling. With ends that are not exact rationals (`\\sqrt 2`, `\\pi`) only one lower and one upper
    bound can be combined, into the interval between them as a chain `a < x < b` is read; anything
    else raises `ParseError`."""
    sets, names = [], set()
    for item in items:
        found = _inequality_set(item)
        if found is None:
            raise ParseError("'and' joins an inequality to something that is not an inequality in one variable")
        names.add(found[0])
        # each interval as (lo node, lo value, lo closed, hi node, hi value, hi closed)
        sets.append([(iv[3][0], _bound_value(iv[3][0]), iv[1] == "[", iv[3][1], _bound_value(iv[3][1]), iv[2] == "]")
                     for iv in found[1]])
    if len(names) != 1:
        raise ParseError(f"'and' joins inequalities in different variables ({', '.join(sorted(names))})")
    if any(iv[1] is None or iv[4] is None for ivs in sets for iv in ivs):
        if exact_only or any(len(ivs) != 1 for ivs in sets):
            raise ParseError("inequalities whose bounds cannot be compared exactly")
        lows = [ivs[0][:3] for ivs in sets if ivs[0][1] != float("-inf")]
        highs = [ivs[0][3:] for ivs in sets if ivs[0][4] != float("inf")]
        if len(lows) > 1 or len(highs) > 1:
            raise ParseError("several bounds on one side whose values cannot be compared exactly")
        oo = ("const", "oo")
        low = lows[0] if lows else (("neg", oo), None, False)
        high = highs[0] if highs else (oo, None, False)
        return _interval(low[0], low[2], high[0], high[2])
    current = sets[0]
    for ivs in sets[1:]:
        current = [meet for a in current for b in ivs if (meet := _meet(a, b)) is not None]
    pieces = sorted(current, key=lambda iv: (iv[1], not iv[2]))
    out = [("set", (iv[0],)) if iv[1] == iv[4] else _interval(iv[0], iv[2], iv[3], iv[5]) for iv in pieces]
    if not out:
        raise ParseError("inequalities joined by 'and' that no number satisfies: 'and' may mean 'or' here")
    return out[0] if len(out) == 1 else ("union", tuple(out))


def _meet(a: tuple, b: tuple) -> tuple | None:
    """The intersection of two intervals (lo node, lo value, lo closed, hi node, hi value, hi
    closed), or None when they do not meet; at a shared end the open one wins."""
    if (a[1], not a[2]) >= (b[1], not b[2]):
        lo = a[:3]
    else:
        lo = b[:3]
    if (a[4], a[5]) <= (b[4], b[5]):
        hi = a[3:]
    else:
        hi = b[3:]
    if lo[1] < hi[1] or (lo[1] == hi[1] and lo[2] and hi[2]):
        return lo + hi
    return None


#: How `unevaluated` names an operation left in an answer.
_OPERATION_NAMES = {"binom": "\\binom", "fact": "a factorial", "abs": "an absolute value", "log": "a logarithm"}
#: Largest radicand `unevaluated` factors (a root of a bigger number is taken as simplified).
_MAX_RADICAND = 10**8


def _nodes(tree: object) -> Iterator[tuple]:
    """Every node of a tree (or of a tuple of trees, as function arguments and matrix rows are)."""
    if not isinstance(tree, tuple) or not tree:
        return
    if isinstance(tree[0], str):
        yield tree
        for child in tree[1:]:
            yield from _nodes(child)
    else:
        for child in tree:
            yield from _nodes(child)


def _simplifiable_root(node: tuple) -> bool:
    """A k-th root of a whole number with a k-th power factor (`\\sqrt{72}` = 6√2, `\\sqrt{4}` = 2), or,
    for an odd k, of such a number negated (`\\sqrt[3]{-8}` = -2)."""
    radicand, index = node[1], node[2]
    if radicand[0] == "neg" and index[0] == "num" and index[1].isdigit() and int(index[1]) % 2 == 1:
        radicand = radicand[1]  # an odd root of a negative number: `\\sqrt[3]{-8}` is -2
    if radicand[0] != "num" or index[0] != "num" or not radicand[1].isdigit() or not index[1].isdigit():
        return False
    n, k = int(radicand[1]), int(index[1])
    if not 2 <= k <= 10 or not 1 < n <= _MAX_RADICAND:
        return False
    base = 2
    while base ** k <= n:
        if n % base ** k == 0:
            return True
        base += 1
    return False


def _evaluations(tree: tuple) -> set[str]:
    """The operations of `tree` that a final answer is expected to have carried out: a binomial,
    factorial, absolute value, logarithm or function (`\\sin`, `\\gcd`, `\\max`, `\\lfloor`, `\\det`;
    not `\\exp`, a notation) applied to constants only, and a root that simplifies. Also inside the
    arguments of a function applied, which tree walks do not enter (see `math_parse.Arguments`):
    `f(\\log_2 4)` for a gold of `f(2)` leaves a logarithm to compute, as `\\log_2 4` for 2 does."""
    found = set()
    for node in _all_nodes(tree):
        kind = node[0]
        if kind in _OPERATION_NAMES and not has_symbols(node):
            found.add(_OPERATION_NAMES[kind])
        elif kind == "func" and node[1] != "exp" and not has_symbols(node):
            found.add(f"\\{node[1]}")
        elif kind == "root" and _simplifiable_root(node) or kind == "pow" and _simplifiable_power(node):
            found.add("a root that simplifies")
    return found


def _with_arguments(tree: tuple) -> Iterator[tuple]:
    """`tree`, then the arguments (a tuple of trees) of each function applied in it, nested ones too
    (`f(\\log_2 4)`: a "sym" node whose third item holds them). For `unevaluated` only: everywhere
    else an applied function is one variable, and its arguments none of the answer's."""
    parts = [tree]
    while parts:
        part = parts.pop()
        yield part
        parts.extend(node[2].args for node in _nodes(part) if node[0] == "sym" and len(node) > 2)


def _all_nodes(tree: tuple) -> Iterator[tuple]:
    """Every node of `tree` and of the arguments of the functions applied in it (`_with_arguments`)."""
    for part in _with_arguments(tree):
        yield from _nodes(part)


def _simplifiable_power(node: tuple) -> bool:
    """A whole number to a fractional power whose root simplifies (`27^{1/3}` = 3, `8^{2/3}` = 4,
    `144^{0.5}` = 12): the root `\\sqrt[k]{}` is, written another way."""
    exponent = node[2]
    if exponent[0] == "div" and exponent[1][0] == "num" and exponent[2][0] == "num":
        denominator = exponent[2][1]
    elif exponent == ("num", "0.5"):
        denominator = "2"
    else:
        return False
    return _simplifiable_root(("root", node[1], ("num", denominator)))


def require_evaluated(out: Outcome, gold: tuple, pred: tuple) -> Outcome:
    """`out`, unless it finds `pred` equal to `gold` while `pred` is not evaluated (`not_evaluated`)
    or depends on unknowns where the gold is a value (`_unknowns_beside_a_value`)."""
    if not out.equal:
        return out
    unknowns = _unknowns_beside_a_value(gold, pred)
    if unknowns:
        return Outcome(False, "wrong", f"the answer depends on {unknowns}, where the gold answer is a value")
    return not_evaluated(gold, pred) or out


def not_evaluated(gold: tuple, pred: tuple) -> Outcome | None:
    """The wrong verdict on a `pred` that leaves an operation to be computed (`unevaluated`), else
    None. It looks at the trees alone, so callers decide it before computing any value: `15!` for
    a gold of 3 is refused as not evaluated, and `1000000!` costs nothing instead of a sympy
    worker's whole time limit."""
    left = unevaluated(gold, pred)
    if left is None:
        return None
    return Outcome(False, "wrong", f"not evaluated: the answer still holds {left}, which the gold answer has not")


def _unknowns_beside_a_value(gold: tuple, pred: tuple) -> str | None:
    """The variables of `pred`'s values when `gold`'s values have none, else None.

    Words that reach the parser read as products of one-letter variables, and a product with a
    zero is zero: `not 0`, `0 \\text{ maybe } 1` or `0 (wrong)` equal a gold of 0 as expressions.
    An answer that still depends on an unknown is no value, whatever the unknown's value: `0 \\cdot x`
    is not the answer 0. The variable an assignment names (`x = 0`) is no unknown of its value, nor
    are a relation's (`x - 3 > 0` meets the ray `(3, \\infty)` as a relation, see `compare`)."""
    if any(has_symbols(node) for node in value_nodes(gold)):
        return None
    names = sorted(set().union(*map(_symbol_names, value_nodes(pred, relations=False))))
    return ", ".join(names) if names else None


def unevaluated(gold: tuple, pred: tuple) -> str | None:
    """What `pred` leaves to be computed that `gold` does not, or None.

    A final answer is a result, not the question restated: `\\binom{20}{5}` for 15504, `15!`,
    `\\gcd(84, 126)`, `\\log_2 1024`, `\\sin\\frac{\\pi}{6}` for 1/2, `\\sqrt{72}` for 6√2 all equal
    their gold in value, and copying the prompt's expression into the box would earn full reward
    with no work. The rule is structural, whatever the answer's value (`15!` for a gold of 3 is
    not evaluated either), so it is decided before any value is computed. Such an operation counts only on constants (`\\sin x \\cos x` for
    `\\frac{1}{2}\\sin 2x` is an identity, not a restatement) and only where the gold has none of
    its kind (gold `\\sqrt{12}`, `\\sin 1` allow the same; a gold logarithm of a variable,
    `\\log_2 x`, allows logarithms of numbers, `\\frac{\\ln x}{\\ln 2}`). Arithmetic stays a form of the value:
    `2^{10}`, `\\frac{6}{8}`, `3 \\cdot 5` are accepted."""
    left = _evaluations(pred) - _evaluations(gold)
    variable_log = any(map(_has_variable_logarithm, _with_arguments(gold)))
    if variable_log and not any(node[0] == "log" and not has_symbols(node) and not _irrational_log(node)
                                for node in _all_nodes(pred)):
        left.discard(_OPERATION_NAMES["log"])
    return ", ".join(sorted(left)) if left else None


def _irrational_log(node: tuple) -> bool:
    """Whether a logarithm of constants (`("log", argument, base)`) is known to be irrational: a
    natural logarithm (base e or none) of a positive rational other than 1 (`\\ln 2`), or
    `\\log_b a` for positive rationals that are no rational powers of one number (`\\log_{10} 2`).
    Only such a logarithm changes a base (`\\frac{\\ln x}{\\ln 2}` for `\\log_2 x`); one with a
    rational value (`\\log_2 8` = 3, `\\log_{10} 100`, `\\ln e`) is a number left to compute, also
    beside a gold logarithm of a variable. Anything else (e in the argument, a huge number) is
    taken as rational."""
    try:
        argument = exact_value(node[1])
        base = None if node[2] is None or node[2] == ("const", "E") else exact_value(node[2])
    except (NeedSympy, ValueError, ZeroDivisionError, OverflowError):
        return False
    if argument <= 0 or argument == 1:
        return False
    if base is None:
        return True  # (ln q is transcendental for a rational q other than 1)
    if base <= 0 or base == 1:
        return False
    root_a, root_b = _primitive_root(argument), _primitive_root(base)
    return root_a is not None and root_b is not None and root_a != root_b


def _primitive_root(q: Fraction) -> Fraction | None:
    """The number r >= 1 of which q (positive, not 1) is a rational power, r itself no perfect
    power: 8 and 1/4 give 2, 12 gives 12 (so log_b a is rational exactly when a and b share it).
    None when q is too large to decide quickly."""
    if q < 1:
        q = 1 / q
    n, d = q.numerator, q.denominator
    if max(n.bit_length(), d.bit_length()) > 256:
        return None
    for k in range(max(n.bit_length(), 2), 1, -1):
        rn, rd = _integer_root(n, k), _integer_root(d, k)
        if rn is not None and rd is not None:
            return Fraction(rn, rd)
    return q


def _integer_root(n: int, k: int) -> int | None:
    """The whole k-th root of n >= 1, or None when n is no perfect k-th power (Newton's method on
    integers, exact for any size)."""
    x = 1 << -(-n.bit_length() // k)  # (at least the root)
    while True:
        y = ((k - 1) * x + n // x ** (k - 1)) // k
        if y >= x:
            return x if x ** k == n else None
        x = y


def _has_variable_logarithm(tree: tuple) -> bool:
    """Whether `tree` holds a logarithm of an expression with a variable (`\\log_2 x`): an answer to
    it may then change the base with logarithms of numbers (`\\frac{\\ln x}{\\ln 2}`), which compute
    nothing the gold has not left as a logarithm itself."""
    return any(node[0] == "log" and has_symbols(node) for node in _nodes(tree))


def value_nodes(node: tuple, *, relations: bool = True) -> Iterator[tuple]:
    """The plain values inside a prepared answer, in order: collections, assignments, relations
    (each side; none with `relations=False`) and percentages are walked; every other node is a value."""
    kind = node[0]
    if kind in ("list", "set", "union"):
        children = node[1]
    elif kind == "seq":  # ("seq", open, close, items)
        children = node[3]
    elif kind == "matrix":  # ("matrix", rows)
        children = tuple(element for row in node[1] for element in row)
    elif kind == "assign":
        children = (node[2],)
    elif kind == "rel":
        children = node[2] if relations else ()
    elif kind == "pct":
        children = (node[1],)
    else:
        yield node
        return
    for child in children:
        yield from value_nodes(child, relations=relations)


def _is_assignment(node: tuple) -> bool:
    """`x = value`: a relation `=` whose left side is a single variable."""
    return node[0] == "rel" and node[1] == ("=",) and node[2][0][0] == "sym"


def _is_tuple_assignment(node: tuple) -> bool:
    """`(x, y) = (2, 3)`: a relation `=` between a tuple of distinct variables and a tuple of as
    many values."""
    if node[1] != ("=",) or node[2][0][0] != "seq" or node[2][1][0] != "seq":
        return False
    names, values = node[2][0][3], node[2][1][3]
    return (len(names) == len(values) >= 2 and all(n[0] == "sym" for n in names)
            and len({n[1] for n in names}) == len(names))


def _is_pm_set(node: tuple) -> bool:
    """The set `prepare` makes of an answer holding `\\pm` (tagged "pm")."""
    return node[0] == "set" and len(node) > 2 and node[2] == "pm"


def _has_pm(node: tuple) -> bool:
    """Whether a `\\pm` stands anywhere in `node` (a walk without recursion: trees may be deep)."""
    stack: list = [node]
    while stack:
        x = stack.pop()
        if isinstance(x, tuple):
            if x and x[0] == "pm":
                return True
            stack.extend(x)
    return False


def _pm_values(x: object) -> list:
    """The values of `x` (a node, a tuple of nodes, or a plain item such as a bracket) with each
    `\\pm` read as both of its signs, independently: `a \\pm b` is [a + b, a - b], `\\pm b` is [b, -b],
    and a node holding one is a value for each choice of its parts.

    Raises:
        ParseError: the signs would make more than `MAX_PM_VALUES` values (no exponential blow-up).
    """
    if not isinstance(x, tuple) or not x:
        return [x]
    if x[0] == "pm":
        b_values = _pm_values(x[2])
        if x[1] is None:
            _check_pm_count(2 * len(b_values))
            return [v for b in b_values for v in (b, ("neg", b))]
        a_values = _pm_values(x[1])
        _check_pm_count(2 * len(a_values) * len(b_values))
        return [v for a in a_values for b in b_values for v in (("add", a, b), ("sub", a, b))]
    parts = [_pm_values(child) for child in x]
    if all(len(p) == 1 for p in parts):
        return [x]
    _check_pm_count(prod(len(p) for p in parts))
    return [tuple(choice) for choice in product(*parts)]


def _check_pm_count(count: int) -> None:
    """Refuse (`ParseError`) to make `count` values of `\\pm` signs when that is over `MAX_PM_VALUES`."""
    if count > MAX_PM_VALUES:
        raise ParseError(f"too many \\pm signs: they would make more than {MAX_PM_VALUES} values; "
                         "write the values out")


def _is_collection(node: tuple) -> str | None:
    kind = node[0]
    if kind in ("list", "set", "union"):
        return "unordered"
    if kind in ("seq", "matrix"):
        return "ordered"
    return None


def _elements(node: tuple) -> tuple:
    return node[1]


def _scalar(node: tuple) -> tuple:
    """A single value out of an assignment or an '=' chain (used when a value is asked): the chain's
    last member that is not a label (`2 + 3 = 5` and `[ABC] = 18` are 5 and 18, `3 = x` is 3), or its
    last member when all are labels. Whether that member may stand for the chain is
    `_unsolved_equation`'s question."""
    if node[0] == "assign":
        return node[2]
    if node[0] == "rel" and set(node[1]) == {"="}:
        values = [m for m in node[2] if not _is_label(m)]
        return values[-1] if values else node[2][-1]
    return node


#: Functions whose value at a label is a label too (`\\cos A = \\frac35` gives cos A, as asked).
_TRIG_NAMES = frozenset({"sin", "cos", "tan", "cot", "sec", "csc"})
#: Constants a label's letters may parse as (`\\text{Area}`: A, r, e, a, with e read as Euler's number).
_LETTER_CONSTANTS = frozenset({("const", "E"), ("const", "I")})


def _is_label(node: tuple, head: bool = False, in_product: bool = False) -> bool:
    """Whether a side of an equation names the value rather than constrains an unknown: a variable,
    letters (`AB`, `[ABC]`, `\\angle ABC`, `E[X]`, `xy`), a function of numbers or labels (`f(2)`,
    `f'(2)`, `f^{-1}(3)`, `g(f(2))`, `f(x)`), a trigonometric function of one (`\\cos A`), the
    absolute value of one (`|z|`, `|AB|`), or a sum or difference of distinct labels (`m + n`,
    `AB + BC`). Not: a variable under any arithmetic with numbers (`x + 1`, `-x`, `2x`, `x^2`,
    `\\sqrt{x}`, `x + x`): `x + 1 = 3` is an equation still to solve, not the value 3; nor Euler's
    number or `i` on their own (`(1 + \\frac1n)^n = e` gives e), only among letters (`\\text{Area}`).
    `head`: the node stands first in a product, where `f^{-1}` may stand for a function applied to
    what follows; `in_product`: the node is a factor of a product of letters."""
    kind = node[0]
    if kind == "sym" or (in_product and node in _LETTER_CONSTANTS):
        return True
    if head and kind == "pow" and node[1][0] == "sym" and node[2] == ("neg", ("num", "1")):
        return True
    if kind == "func" and node[1] in _TRIG_NAMES:
        return _is_label(node[2])
    if kind == "abs":
        return _is_label(node[1])
    if kind == "mul":
        argument = node[2]
        return (_is_label(node[1], head=True, in_product=True)
                and (_is_label(argument, in_product=True) or not has_symbols(argument)))
    if kind in ("add", "sub"):
        terms = _terms(node)
        return len(set(terms)) == len(terms) and all(_is_label(t) for t in terms)
    return False


def _terms(node: tuple) -> list[tuple]:
    """The summands of a sum or difference (signs dropped), left to right."""
    out, stack = [], [node]
    while stack:
        x = stack.pop()
        if x[0] in ("add", "sub"):
            stack.extend((x[2], x[1]))
        else:
            out.append(x)
    return out


def _unsolved_equation(node: tuple) -> bool:
    """An '=' chain with an unknown in a member that is not a label (`x^2 + y^2 = 1`, `2x + 1 = 3`):
    as a gold, an equation, which no value with no unknown stands for. (As an answer it is read as
    its right side, the value of its left side: `x^2 + \\frac{1}{x^2} = 7` answers "what is
    x^2 + 1/x^2?"; without the question an unsolved `x + 1 = 3` cannot be told from it.)"""
    return node[0] == "rel" and set(node[1]) == {"="} and any(
        has_symbols(m) and not _is_label(m) for m in node[2])


def compare(gold: tuple, pred: tuple, eq: ScalarEq, rel_eq: ScalarEq | None = None) -> Outcome:
    """Compare prepared answers. `eq` compares two scalars; `rel_eq` two relations (may raise NeedSympy)."""
    if gold == pred:
        return Outcome(True, "equal", "identical answers")
    # assignments
    if gold[0] == "assign" and pred[0] == "assign":
        if gold[1] != pred[1]:
            return Outcome(False, "wrong", f"assigns {pred[1]} where {gold[1]} was asked")
        return compare(gold[2], pred[2], eq, rel_eq)
    # an assignment met by an equation is that equation, unless it assigns several values (`x = \\pm 1`)
    if gold[0] == "assign" and pred[0] == "rel" and pred[1] == ("=",) and not _is_collection(gold[2]):
        gold = gold[3]
    elif pred[0] == "assign" and gold[0] == "rel" and gold[1] == ("=",) and not _is_collection(pred[2]):
        pred = pred[3]
    if pred[0] == "assign" and gold[0] != "assign" and _is_collection(pred[2]):
        pred = pred[2]  # "x = \\pm 1" is the set {1, -1}
    if gold[0] == "assign" and pred[0] != "assign" and _is_collection(gold[2]):
        gold = gold[2]
    if gold[0] == "seq" and _unsolved_inequality(pred):  # `x - 3 > 0` for `x > 3` or `(3, \\infty)`
        gold = _ray_relation(gold, pred) or gold
    elif pred[0] == "seq" and _unsolved_inequality(gold):
        pred = _ray_relation(pred, gold) or pred
    gk, pk = _is_collection(gold), _is_collection(pred)
    if gold[0] == "rel" and pred[0] == "rel":
        if rel_eq is None:
            raise NeedSympy
        ok, why = rel_eq(gold, pred)
        return Outcome(ok, "equal" if ok else "wrong", why)
    if gk is None and pk is None:
        g, p = _scalar(gold), _scalar(pred)
        if _unsolved_equation(gold) and not has_symbols(p):
            return Outcome(False, "wrong", "a value compared with an equation with an unknown")
        if g[0] == "rel" or p[0] == "rel":
            return Outcome(False, "wrong", "a relation compared with a value")
        return _compare_values(g, p, eq)
    if gk is None:  # one value asked, several given?
        if pred[0] in ("seq", "matrix"):
            return Outcome(False, "wrong", f"expected a single value, got a {'tuple' if pred[0] == 'seq' else 'matrix'}")
        items = _elements(pred)
        if not items:
            return Outcome(False, "wrong", "expected a value, got an empty set")
        results = [compare(gold, it, eq, rel_eq) for it in items]
        if all(r.equal for r in results):
            return Outcome(True, "equal", results[0].reason + (" (every listed value)" if len(items) > 1 else ""))
        if len(items) == 1:
            return results[0]
        return Outcome(False, "hedged", f"hedged: several different final answers ({len(items)} values given)")
    if pk is None:
        if gk == "unordered" and len(_elements(gold)) == 1:
            return compare(_elements(gold)[0], pred, eq, rel_eq)
        n = "a matrix of" if gold[0] == "matrix" else len(gold[3] if gold[0] == "seq" else gold[1])
        return Outcome(False, "wrong", f"expected {n} values, got one")
    named = _compare_named(gold, pred, eq, rel_eq)
    if named is not None:
        return named
    return _compare_collections(gold, pred, gk, pk, eq, rel_eq)


#: Coordinates whose customary order is not alphabetical ((r, θ) polar and (x, y, z) are).
_COORDINATE_ORDERS = (("r", "theta", "z"), ("rho", "theta", "phi"), ("rho", "theta", "varphi"))


def _named(node: tuple) -> tuple | None:
    """The assignments of a bare list that names each of its values once (`x = 1, y = 2`), else
    None (`x = 1, x = 2` lists the values of one variable: an unordered list like any other)."""
    if node[0] != "list" or len(node[1]) < 2 or any(item[0] != "assign" for item in node[1]):
        return None
    names = [item[1] for item in node[1]]
    return node[1] if len(set(names)) == len(names) else None


def _one_variable_values(node: tuple) -> bool:
    """True for a bare list of values of one variable (`x = 1, x = 2`): the solutions of an
    equation, an unordered collection that can never stand for a tuple such as the point (1, 2)."""
    items = node[1] if node[0] == "list" else ()
    return len(items) >= 2 and all(item[0] == "assign" for item in items) and len({i[1] for i in items}) == 1


def _conventional_order(assignments: tuple) -> list:
    """Assignments in the order their variables take in a tuple: (x, y, z), (a, b, c), (x_1, x_2,
    ..., x_10): sorted by name, numbers by value; the coordinates of `_COORDINATE_ORDERS` in theirs."""
    names = {a[1] for a in assignments}
    for order in _COORDINATE_ORDERS:
        if names == set(order):
            return sorted(assignments, key=lambda a: order.index(a[1]))
    return sorted(assignments, key=lambda a: [(0, int(part), "") if part.isdigit() else (1, 0, part)
                                              for part in re.split(r"(\d+)", a[1])])


def _compare_named(gold: tuple, pred: tuple, eq: ScalarEq, rel_eq: ScalarEq | None) -> Outcome | None:
    """Named values (`x = 1, y = 2`, see `_named`) met by unnamed ones, else None (not this case).

    The names count, so the values are matched by position, never as an unordered set (which would
    make `2, 1` right for `x = 1, y = 2`): against a tuple the assignments stand in their variables'
    conventional order (`y = 1, x = 2` is (2, 1)); against a bare list, in the order they are written.
    Against a set or union (no order, so no names) they are wrong. Two named lists are compared by
    `_compare_collections`, as unordered lists whose assignments must match name for name.
    """
    g_named, p_named = _named(gold), _named(pred)
    if (g_named is None) == (p_named is None):
        return None
    named, other = (g_named, pred) if g_named is not None else (p_named, gold)
    if other[0] == "seq":
        if _is_interval(other):
            return Outcome(False, "wrong", "an interval compared with a bare list")
        named, values = _conventional_order(named), other[3]
    elif other[0] == "list":
        values = other[1]
    elif other[0] == "matrix":
        return None
    else:
        return Outcome(False, "wrong", "named values (x = ..., y = ...) compared with an unordered set")
    if len(named) != len(values):
        wanted, got = (len(named), len(values)) if g_named is not None else (len(values), len(named))
        return Outcome(False, "wrong", f"expected {wanted} values, got {got}")
    for i, (a, b) in enumerate(zip(named, values)):
        r = compare(a, b, eq, rel_eq) if g_named is not None else compare(b, a, eq, rel_eq)
        if not r.equal:
            return Outcome(False, "wrong", f"value {i + 1} differs: {r.reason}")
    return Outcome(True, "equal", "equal value by value")


def _symbol_names(node: object) -> set[str]:
    """The names of the variables in a tree (or a tuple of trees)."""
    return {sub[1] for sub in _nodes(node) if sub[0] == "sym"}


def _unsolved_inequality(node: tuple) -> bool:
    """A single inequality in one variable that `prepare` could not read as an interval, because
    the variable is not alone on one side (`x - 3 > 0`, `2x \\le 6`)."""
    return node[0] == "rel" and len(node[1]) == 1 and node[1][0] in _FLIP and len(_symbol_names(node[2])) == 1


def _ray_relation(interval: tuple, inequality: tuple) -> tuple | None:
    """A ray `(3, \\infty)` / `(-\\infty, 3]` as the relation `x > 3` / `x <= 3` in the variable of
    `inequality`, so the two compare as relations (`x - 3 > 0` is `x > 3`: proportional sides); None
    for any other tuple (a bounded interval is no single relation)."""
    if len(interval[3]) != 2:
        return None
    (name,) = _symbol_names(inequality[2])
    lo, hi = interval[3]
    oo, minus_oo = ("const", "oo"), ("neg", ("const", "oo"))
    if hi == oo and interval[2] == ")" and not has_symbols(lo) and lo != minus_oo:
        return ("rel", (">=" if interval[1] == "[" else ">",), (("sym", name), lo))
    if lo == minus_oo and interval[1] == "(" and not has_symbols(hi) and hi != oo:
        return ("rel", ("<=" if interval[2] == "]" else "<",), (("sym", name), hi))
    return None


def _is_interval(node: tuple) -> bool:
    """A pair in brackets that make it an interval: `[1, 2]`, `[1, 2)`, `(1, 2]` (not `(1, 2)`, which may
    be a point, so a bare list of two may stand for it)."""
    return node[0] == "seq" and len(node[3]) == 2 and node[1:3] != ("(", ")")


def _compare_values(g: tuple, p: tuple, eq: ScalarEq) -> Outcome:
    if g[0] == "pct" and p[0] == "pct":
        g, p = g[1], p[1]
    elif p[0] == "pct" or g[0] == "pct":
        # each pair keeps the gold first: `eq` lets only the answer be a rounding
        if p[0] == "pct":
            other, as_fraction, sign_dropped = g, (g, _percent_value(p[1])), (g, p[1])
        else:
            other, as_fraction, sign_dropped = p, (_percent_value(g[1]), p), (g[1], p)
        ok, why = eq(*as_fraction)
        if ok:
            return Outcome(True, "equal", why + " (percent read as a fraction of 100)")
        if _percent_sign_may_be_ignored(other):
            ok, why2 = eq(*sign_dropped)
            if ok:
                return Outcome(True, "equal", why2 + " (percent sign ignored)")
        return Outcome(False, "wrong", why)
    ok, why = eq(g, p)
    return Outcome(ok, "equal" if ok else "wrong", why)


def _percent_value(number: tuple) -> tuple:
    """The value of `number` percent: a decimal literal two places on (`33.3` -> `0.333`), so a
    rounded percentage is read as the rounded decimal it is (`33.3\\%` = 1/3 as `0.333` is);
    other forms divided by 100."""
    if number[0] == "num" and "e" not in number[1].lower():
        return ("num", format(Decimal(number[1]).scaleb(-2), "f"))
    return ("div", number, ("num", "100"))


def _percent_sign_may_be_ignored(plain: tuple) -> bool:
    """Whether `p%` may equal the plain value `p` (the other side written without the sign): only for
    an exact value of at least 1 in size, a percentage written as a number (gold 50 for `50\\%`).
    Below 1 the sign matters: `0.5\\%` is 0.005, and must not equal a gold of 0.5."""
    try:
        return abs(exact_value(plain)) >= 1
    except (NeedSympy, ValueError, ZeroDivisionError, OverflowError):
        return False


def _vector_as_tuple(matrix: tuple) -> tuple | None:
    """A matrix of one column or one row (two entries or more) as the tuple of its entries, else None."""
    rows = matrix[1]
    if len(rows) >= 2 and all(len(row) == 1 for row in rows):
        entries = tuple(row[0] for row in rows)
    elif len(rows) == 1 and len(rows[0]) >= 2:
        entries = tuple(rows[0])
    else:
        return None
    return ("seq", "(", ")", entries)


def _alternatives(node: tuple) -> bool:
    """A bare list written with "or" (`3 \\text{ or } 4`, `x = -1 or 5`): values that are each
    possible, which a bare comma list may also stand for an ordered pair (`3, 4` for `(3, 4)`) but
    these never do: `x = -1 or 5` is the wrong answer to an inequality whose gold is `(-1, 5)`."""
    return node[0] == "list" and node[2:] == ("or",)


def _compare_collections(gold, pred, gk, pk, eq, rel_eq) -> Outcome:
    if gold[0] == "matrix" or pred[0] == "matrix":
        if gold[0] != pred[0]:
            vector = _vector_as_tuple(gold if gold[0] == "matrix" else pred)
            if vector is not None and (pred if gold[0] == "matrix" else gold)[0] == "seq":
                # a column or row vector written as a tuple: `(1, 2, 3)` for `\\begin{pmatrix}1\\\\2\\\\3\\end{pmatrix}`
                return compare(vector, pred, eq, rel_eq) if gold[0] == "matrix" else compare(gold, vector, eq, rel_eq)
            return Outcome(False, "wrong", "a matrix compared with a non-matrix")
        g_rows, p_rows = gold[1], pred[1]
        if len(g_rows) != len(p_rows) or len(g_rows[0]) != len(p_rows[0]):
            return Outcome(False, "wrong", "matrices of different shapes")
        for gr, pr in zip(g_rows, p_rows):
            for a, b in zip(gr, pr):
                r = compare(a, b, eq, rel_eq)
                if not r.equal:
                    return Outcome(False, "wrong", f"matrix entries differ: {r.reason}")
        return Outcome(True, "equal", "equal matrices")
    g_items, p_items = gold[-1] if gold[0] == "seq" else gold[1], pred[-1] if pred[0] == "seq" else pred[1]
    ordered = gold[0] == "seq" and pred[0] in ("seq", "list") or pred[0] == "seq" and gold[0] == "list"
    if ordered:
        if gold[0] != pred[0] and (_is_interval(gold) or _is_interval(pred)):
            return Outcome(False, "wrong", "an interval compared with a bare list (its brackets count)")
        if gold[0] != pred[0] and (_alternatives(gold) or _alternatives(pred)):
            return Outcome(False, "wrong", "alternatives (a or b) compared with a tuple: an 'or' names values, never a point")
        if gold[0] != pred[0] and (_one_variable_values(gold) or _one_variable_values(pred)):
            return Outcome(False, "wrong", "several values of one variable (x = 1, x = 2) compared with a tuple")
        if len(g_items) != len(p_items):
            return Outcome(False, "wrong", f"expected {len(g_items)} components, got {len(p_items)}")
        if gold[0] == "seq" and pred[0] == "seq" and len(g_items) == 2 and gold[1:3] != pred[1:3]:
            return Outcome(False, "wrong", f"different brackets: {''.join(gold[1:3])} vs {''.join(pred[1:3])}")
        for i, (a, b) in enumerate(zip(g_items, p_items)):
            r = compare(a, b, eq, rel_eq)
            if not r.equal:
                return Outcome(False, "wrong", f"component {i + 1} differs: {r.reason}")
        return Outcome(True, "equal", "equal component by component")
    if gold[0] == "seq" or pred[0] == "seq":
        if len(g_items) == 1 or len(p_items) == 1:
            pass
        else:
            if gold[0] == "union" or pred[0] == "union":
                return Outcome(False, "wrong", "an interval or tuple compared with a union of other intervals")
            return Outcome(False, "wrong", "an ordered tuple compared with an unordered collection")
    equal = []
    for a in g_items:
        equal.append([compare(a, b, eq, rel_eq).equal for b in p_items])
        if not any(equal[-1]):
            return Outcome(False, "wrong", "a gold value is missing from the prediction")
    if not all(any(row[j] for row in equal) for j in range(len(p_items))):
        return Outcome(False, "wrong", "the prediction lists values that are not in the gold answer")
    if gold[0] == "list" and pred[0] == "list" and _repeats_a_value(g_items, eq, rel_eq):
        if len(g_items) != len(p_items):
            return Outcome(False, "wrong", f"expected {len(g_items)} values, got {len(p_items)} (the gold answer "
                                           "repeats a value: each counts as often)")
        if _matching_size(equal) < len(g_items):
            return Outcome(False, "wrong", "the same values, repeated a different number of times")
        return Outcome(True, "equal", "equal as unordered lists (each value as often)")
    return Outcome(True, "equal", "equal as unordered collections")


def _repeats_a_value(items: tuple, eq: ScalarEq, rel_eq: ScalarEq | None) -> bool:
    """Whether two of a gold list's items are equal (`1, 1, 2`; `x = 2, x = 2`). Only such a gold
    says that multiplicity counts: two bare lists are then compared as multisets (`1, 2, 2` is
    wrong for it, as is `1, 2`). A gold of distinct values is a set of solutions, so an answer
    listing a double root twice (`2, 2, 3`, `x = 2 \\text{ or } x = 2 \\text{ or } x = 3` for `2, 3`)
    stays right, as it is for the single gold value `2`."""
    return any(compare(a, b, eq, rel_eq).equal for i, a in enumerate(items) for b in items[i + 1:])


def _matching_size(equal: list[list[bool]]) -> int:
    """The most gold items that can each be paired with a different answer item they equal
    (`equal[i][j]`: gold item i equals answer item j), by augmenting paths. Why: two bare lists,
    the gold repeating a value, are multisets (`_repeats_a_value`): `1, 1, 2` is not `1, 2, 2`
    though every value of each is in the other; a set (`\\{1, 1, 2\\}` = `\\{1, 2\\}`) or union is
    compared as a set."""
    owner: list[int | None] = [None] * (len(equal[0]) if equal else 0)

    def place(i: int, seen: set[int]) -> bool:
        free = next((j for j, ok in enumerate(equal[i]) if ok and owner[j] is None), None)
        if free is not None:  # (a free partner first: no path to follow, as for most lists)
            owner[free] = i
            return True
        for j, ok in enumerate(equal[i]):
            if ok and j not in seen:
                seen.add(j)
                if owner[j] is None or place(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    return sum(place(i, set()) for i in range(len(equal)))
