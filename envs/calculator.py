"""The `calculator` tool: an expression evaluated exactly with sympy, in a time-limited worker process.

The expression is checked against a whitelist of nodes, names and functions, each function given
only the arguments its maths takes (`_CALC_ARITY`), before a worker evaluates it
(`check_calculator_expression`); the worker is killed at the call's limit. A result that is not
an integer (an irrational, or the fraction decimal arithmetic makes exact) is followed by
`≈` its value to 15 digits.

The calculator's workers are shared by every env of the process (one per CPU). Waiting for a free
one is not the model's doing — the other episodes' calls hold them — so it is not charged to the
turn's running time but bounded on its own (`TurnBudget.wait_left`). A call that got no worker
within it is not run and raises `ToolBusy`: the model reads that the calculator was busy and may
call again, and the call is not scored — ToolMath scores the turn on its calls that ran, and a turn
none of whose calls ran earns no tool-call credit (scoring it as the model's timeout would make one
episode's reward depend on the others' calls; as an infrastructure failure, every episode of a
batch could be dropped because one policy sample was slow). Only a pool that is broken
— workers that cannot start, or all of them taken with no calculator call under way to hold them,
or none freed for longer than any call may run — is an infrastructure failure (`ToolInfraError`).
"""

from __future__ import annotations

import ast
import decimal
import functools
import math
import os
import threading
import unicodedata
from typing import Any

# the typeset operators the rest of rlvr reads (Countdown's expressions): one map, private there
from rlvr.envs.expr import plain_operators
from rlvr.envs.tools import Tool, ToolBusy, ToolError, ToolInfraError, TurnBudget, seconds_text, tool, truncate_output

_CALC_FUNCS = {"sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "log", "ln", "exp", "factorial", "binomial",
               "gcd", "lcm", "floor", "ceiling", "Abs", "abs", "Rational", "simplify", "expand", "factor", "N", "round"}
_CALC_NAMES = {"pi", "E", "I", "oo", "x", "y", "z", "n"}
_CALC_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Call, ast.Name, ast.Load,
               ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.FloorDiv, ast.USub, ast.UAdd)
#: How many positional arguments each function takes (least, most; None: no most), as its maths
#: means: sympy reads more as something else and answered wrongly, shown as exact (`gcd(12, 18, 8)`
#: took 8 for a polynomial generator and gave 6; `sqrt(27, 3)` took 3 for `evaluate`, simplify's
#: second argument is `ratio`, expand's `deep`, factor's more are generators, Rational's third `gcd`).
_CALC_ARITY: dict[str, tuple[int, int | None]] = {
    **{name: (1, 1) for name in ("sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "ln", "exp", "factorial",
                                 "floor", "ceiling", "Abs", "abs", "simplify", "expand", "factor")},
    "log": (1, 2), "N": (1, 2), "round": (1, 2), "Rational": (1, 2), "binomial": (2, 2), "gcd": (2, None), "lcm": (2, None),
}
#: The calculator's behaviour, in the fingerprint (ToolMath-v0's `calculator_rules`). 2: each
#: function takes only the arguments its maths means (`_CALC_ARITY`), gcd and lcm of all of them,
#: `ln` no base, and a non-integer rational result is followed by `≈` its decimal value.
#: 3: typeset operators are read as `rlvr.envs.expr` reads them (`2 − 3`, `2·3`, `2 \\times 3` were
#: parse errors), and a vulgar fraction as its value in parentheses (`2/½` is 4).
#: 4: `floor`, `ceiling`, `//` and `%` of an irrational number take a checked integer, never sympy's
#: own (`floor(log(10**15 - 1, 10))` was 15, `log(10**15 - 1, 10) // 1` too; `_checked_integer_part`);
#: with an `N(...)` Float and rationals, `//` and `%` are exact on the values they hold, and an integer
#: with more digits than the Float's precision is shown as a Float (`N(10**20, 15) // 3`); `//` of
#: rationals and decimals is a floor for negative quotients too (sympy's `-6.4 // 2` was -3).
#: 5: a `≈` value (and an approximated result) writes its exponent as `e` (`exp(100) ≈ 2.688e+43`), as
#: `N(...)` does: it was `E`, the calculator's name for Euler's number.
#: 6: a whole number plus a whole number times `I` has no `≈` value (`sqrt(-4)` was `2*I ≈ 2.0*I`).
CALCULATOR_RULES = 6
MAX_CALC_CHARS = 500
#: Longest exact form of a non-integer result shown before its `≈` value; a longer one (decimal
#: arithmetic compounded hundreds of times) is shown approximated, so the cut at the tool's output
#: limit never leaves the model part of a numerator and no value.
MAX_EXACT_CHARS = 1000
#: The calculator's default time limit per call: sympy arithmetic takes milliseconds, and every
#: second a call may run is a second one of the process's shared workers is held.
DEFAULT_CALCULATOR_TIMEOUT = 2.0
#: Most decimal places `round(x, n)` takes (either way): more only builds enormous numbers.
MAX_ROUND_DIGITS = 10_000


def check_calculator_expression(expression: str) -> str:
    """Validate an expression for the calculator; return it in Python syntax or raise ToolError.

    Only numbers, + - * / // % ** ^, parentheses and a fixed list of maths functions and
    constants are allowed — the expression is never handed to `eval` unchecked. The text is
    NFKC-normalised first (`_normalized`), and the text returned, the one checked, is the one sympy
    parses: Python's parser normalises identifiers that way and sympy's does not, so `ｓｑｒｔ(16)`
    passed the check as `sqrt` and reached sympy as an unknown function. Typeset operators are read
    as `rlvr.envs.expr` reads them (`×` `·` `⋅` `∗` `\\times` `\\cdot`: `*`; `÷` `\\div`: `/`; the minus
    sign `−` and the en dash `–`: `-`; other dashes, such as the hyphen `‐`, the figure dash `‒` and the
    em dash `—`, are refused there and here), the fraction slash `⁄` as `/`, and a vulgar fraction as
    its value in parentheses (`_normalized`); an expression that still cannot be parsed because of
    another non-ASCII character gets an error naming that character as it was typed.
    """
    return _checked_tree(expression)[0]


def _checked_tree(expression: str) -> tuple[str, ast.Expression]:
    """`check_calculator_expression`'s checks, returning the checked text and the tree parsed from
    it, so that the worker, which checks the text again, need not parse it a second time."""
    if not isinstance(expression, str) or not expression.strip():
        raise ToolError("expression must be a non-empty string")
    if len(expression) > MAX_CALC_CHARS:
        raise ToolError(f"expression longer than {MAX_CALC_CHARS} characters")
    text = plain_operators(_normalized(expression).strip().replace("^", "**"))
    if len(text) > MAX_CALC_CHARS:
        raise ToolError(f"expression longer than {MAX_CALC_CHARS} characters once its Unicode forms are written plainly")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        # the character as typed: `½` where its NFKC form was "1⁄2", `‑` (U+2011) where it was `‐`
        odd = next((char for char in expression if not _plain_char(char).isascii()), None)
        odd = odd or next((char for char in text if not char.isascii()), None)
        if odd is not None:  # say which: "cannot parse" alone left the model guessing at a typeset sign
            raise ToolError(f"cannot parse expression {expression[:80]!r}: the character {odd!r} "
                            f"(U+{ord(odd):04X}) is not read; write the operators in ASCII (+ - * / ** ^)") from None
        raise ToolError(f"cannot parse expression {expression[:80]!r}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _CALC_NODES):
            raise ToolError(f"{type(node).__name__} is not allowed in a calculator expression")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in _CALC_FUNCS or node.keywords:
                raise ToolError(f"only these functions are allowed: {sorted(_CALC_FUNCS)}")
            _check_arity(node.func.id, len(node.args) - _generators(node))
        elif isinstance(node, ast.Name) and node.id not in _CALC_FUNCS | _CALC_NAMES:
            raise ToolError(f"unknown name {node.id!r}; allowed constants/symbols: {sorted(_CALC_NAMES)}")
        elif isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)) or isinstance(node, ast.Constant) and isinstance(node.value, bool):
            raise ToolError(f"only numbers are allowed as literals, found {node.value!r}")
    return text, tree


#: Functions that take the variables to work in after their expression (`factor(x**2*y - y, x)`).
_WITH_GENERATORS = frozenset({"factor", "expand"})


def _generators(call: ast.Call) -> int:
    """How many of `call`'s arguments after the first are variables it works in (`factor(e, x, y)`):
    counted apart from the arity, since sympy reads them as generators, rightly."""
    if call.func.id not in _WITH_GENERATORS:
        return 0
    extra = call.args[1:]
    symbols = [arg for arg in extra if isinstance(arg, ast.Name) and arg.id in ("x", "y", "z", "n")]
    return len(symbols) if len(symbols) == len(extra) else 0


def _check_arity(name: str, given: int) -> None:
    """A ToolError unless the function `name` takes `given` arguments (`_CALC_ARITY`)."""
    least, most = _CALC_ARITY[name]
    if least <= given and (most is None or given <= most):
        return
    if most is None:
        takes = f"{least} or more arguments"
    elif least == most:
        takes = f"exactly {least} argument{'s' if least > 1 else ''}"
    else:
        takes = f"{least} or {most} arguments"
    hint = {"sqrt": " (for an n-th root write x**(1/n))", "ln": " (for a logarithm to base b write log(x, b))",
            "factor": " (an expression to factor)", "simplify": " (an expression to simplify)",
            "expand": " (an expression to expand)"}.get(name, "")
    raise ToolError(f"{name}() takes {takes}, got {given}{hint}")


def _normalized(expression: str) -> str:
    """`expression` in Unicode's NFKC form (fullwidth `ｓｑｒｔ` is `sqrt`, `２` is `2`), or a
    ToolError for a superscript or subscript, which that form would turn into a plain character of
    another meaning (`3²` into `32`, `10⁻³` into `10-3`).

    A vulgar fraction is its value in parentheses (`½` is `(1/2)`: NFKC's "1⁄2" with `/` unbracketed
    made `2/½` 1 and `⅔**2` 2/9), and a fraction slash `⁄` typed as such is `/`. One right after a
    digit (`1½`, a mixed number, which NFKC would make 11/2) is a ToolError."""
    for index, char in enumerate(expression):
        if char.isascii():
            continue
        decomposition = unicodedata.decomposition(char)
        if decomposition.startswith(("<super>", "<sub>")):
            raise ToolError(f"the superscript or subscript {char!r} cannot be read: write powers with ** or ^ "
                            "(3**2, not 3²) and names in plain letters")
        if decomposition.startswith("<fraction>") and index and expression[index - 1].isdigit():
            whole, part = expression[index - 1], _plain_char(char)
            raise ToolError(f"{whole + char!r} cannot be read: write a mixed number with + ({whole} + {part}), "
                            f"a product with * ({whole}*({part}))")
    text = "".join(f"({_plain_char(char)})" if unicodedata.decomposition(char).startswith("<fraction>") else char
                   for char in expression)
    return unicodedata.normalize("NFKC", text).replace(_FRACTION_SLASH, "/")


#: U+2044, the slash of NFKC's vulgar fractions ("½" is "1⁄2").
_FRACTION_SLASH = "\u2044"


def _plain_char(char: str) -> str:
    """One character as the calculator reads it (NFKC, a fraction slash and typeset signs made
    ASCII): what is left non-ASCII is a character it cannot read."""
    text = unicodedata.normalize("NFKC", char).replace(_FRACTION_SLASH, "/")
    return plain_operators(text)


def exact_round(value: Any, digits: Any = None) -> Any:
    """The calculator's `round(value[, digits])`, exact, halves rounded away from zero.

    Without digits (or with digits <= 0) the result is an Integer (`round(10**400)` is that
    integer, `round(2.5)` is 3, `round(1234, -2)` is 1200); with digits > 0 it is the decimal with
    that many places, written exactly (`round(1/3, 3)` is 0.333, `round(1/2, 3)` is 0.500), up to
    `MAX_ROUND_DIGITS` of them, except zero, which is written 0.0 whatever the places (as sympy
    writes every zero decimal; `round(-0.001, 2)` is 0.0, never -0.0), and an integer, which stays
    itself. Irrational values are rounded from as many digits as it takes to decide (an error when
    sympy cannot: a value it cannot tell from a half); a zero sympy cannot prove is zero
    (`sin(pi/7) - cos(5*pi/14)`) rounds to 0. Python's own `round` would go through a float:
    inexact past 2**53, infinite past 1e308, and halves to even.
    """
    import sympy

    value = sympy.sympify(value)
    places = 0
    if digits is not None:
        digits = sympy.sympify(digits)
        if not digits.is_Integer:
            raise ValueError(f"round's digits must be an integer, got {_shown(digits)}")
        places = int(digits)
        if abs(places) > MAX_ROUND_DIGITS:
            raise ValueError(f"round's digits must be between -{MAX_ROUND_DIGITS} and {MAX_ROUND_DIGITS}, got {places}")
    if not value.is_number:
        raise ValueError(f"round needs a number, got {_shown(value)}")
    if value.is_real is False or value.is_finite is False:
        raise ValueError(f"round needs a finite real number, got {_shown(value)}")
    if value.is_Integer and places >= 0:
        return value
    whole = _nearest_integer(value, places)
    if places <= 0:
        return sympy.Integer(whole) * sympy.Integer(10) ** (-places)
    return _decimal(whole, places)


def _decimal(whole: int, places: int) -> Any:
    """The sympy Float `whole / 10**places`, written with `places` places: what
    `Float("<its digits>", "")` makes, built without text (Python writes at most 4300 digits of an
    int, and sympy reads a long decimal text in quadratic time)."""
    import sympy
    from mpmath.libmp import dps_to_prec, from_rational, round_nearest

    # as many significant digits as the text would have (Decimal counts them past 4300 digits too)
    precision = dps_to_prec(len(decimal.Decimal(whole).as_tuple().digits))
    if whole == 0:
        return sympy.Float(0, precision=precision)
    return sympy.Float(from_rational(whole, 10 ** places, precision, round_nearest), precision=precision)


def _nearest_integer(value: Any, places: int) -> int:
    """The integer nearest `value * 10**places` (a sympy number), halves away from zero, or a
    ValueError saying it cannot be decided.

    A rational (or a Float, the binary fraction it holds) is rounded exactly, ties included. Anything
    else is `floor(value * 10**places + 1/2)`, found and checked as `floor` is
    (`_checked_integer_part`): sympy's `get_integer_part` at a raised precision answered
    `round(10**80*(pi - 3.14...(40 decimals)))` 3684 too low, shown as exact. Such a value is never
    a tie (a hidden one fails the check), and a zero sympy cannot prove (`sin(pi/7) - cos(5*pi/14)`)
    checks as lying between -1/2 and 1/2, so rounds to 0.
    """
    import sympy

    scaled = value * sympy.Integer(10) ** places
    if scaled.is_Float:
        scaled = sympy.Rational(scaled)
    if scaled.is_Rational:
        magnitude = (2 * abs(scaled.p) + scaled.q) // (2 * scaled.q)
        return -magnitude if scaled.p < 0 else magnitude
    try:
        return _checked_integer_part(scaled + sympy.Rational(1, 2), -1)
    except ValueError:
        raise ValueError(f"cannot round {_shown(value)}{f' to {places} places' if places > 0 else ''} exactly: "
                         "sympy cannot decide which integer is nearest (N(...) gives an approximation)") from None


def exact_floor(value: Any) -> Any:
    """The calculator's `floor`: for a number, the integer found from as many digits as the number's
    size takes and checked (`exact_integer_part`): `floor(pi*10**5000)` is that integer, not an
    error, and `floor(log(10**15 - 1, 10))` 14 (sympy's own said 15)."""
    return exact_integer_part(value, -1)


def exact_ceiling(value: Any) -> Any:
    """The calculator's `ceiling`, as `exact_floor`."""
    return exact_integer_part(value, 1)


def exact_integer_part(value: Any, direction: int, *, shown: bool = True) -> Any:
    """The floor (direction -1) or ceiling (1) of `value`: sympy's own for a rational, an infinity
    or an expression with symbols; for any other number, the integer of each of its real and
    imaginary parts found from more digits and checked (`_checked_integer_part`), or a ValueError
    saying it cannot be found exactly.

    sympy's own is never trusted for such a number: it works at a fixed precision of about 100
    digits, and near an integer it guesses (`floor(log(10**15 - 1, 10))` was 15, `floor(log(2**45 -
    1, 2))` 45, `ceiling(log(10**15 + 1, 10))` 15, each shown as exact); past that precision it gives
    up (`floor(pi * 10**200)` stayed unevaluated), or fails to write its message about giving up
    (`floor(pi*10**5000)`: Python writes at most 4300 digits of an int).

    An integer found from a value holding Floats (`N(...)`) is shown as a Float when it has more
    digits than they hold (`_whole_of_floats`: `floor(N(10**20, 15)/3)` is 3.33333333333333e+19,
    not 33333333333333331968 as exact); `shown=False` gives it as the exact Integer (for `exact_mod`).
    """
    import sympy

    value = sympy.sympify(value)
    if not value.is_number or value.is_Rational or value.is_finite is False:
        return (sympy.floor if direction < 0 else sympy.ceiling)(value)
    if value.is_Float:  # the binary fraction it holds, exactly; shown as the Float's precision allows
        exact = sympy.Rational(value)
        whole = exact.p // exact.q if direction < 0 else -(-exact.p // exact.q)
        return _whole_of_floats(int(whole), value._prec) if shown else sympy.Integer(whole)
    real, imaginary = value.as_real_imag()
    real_part, imaginary_part = _checked_integer_part(real, direction), _checked_integer_part(imaginary, direction)
    floats = value.atoms(sympy.Float) if shown else ()
    if floats and imaginary_part == 0:  # (`N(10**20, 15) // pi`: its digits are the Float's)
        return _whole_of_floats(real_part, min(number._prec for number in floats))
    return sympy.Integer(real_part) + sympy.Integer(imaginary_part) * sympy.I


def exact_floordiv(dividend: Any, divisor: Any) -> Any:
    """The calculator's `a // b`: `floor(a / b)` as `exact_floor` finds it (sympy's `//` is its own
    floor of the quotient: `log(10**15 - 1, 10) // 1` was 15). Rationals (decimals are read as
    rationals) are floored exactly with Python's ints; symbols and a zero divisor keep sympy's own
    (`floor(x/2)`; its division-by-zero error). With a Float (an `N(...)`)
    and no other kind of number, the floor of the exact quotient of the values the operands hold,
    shown as a Float when it has more digits than the Float's precision (`_whole_of_floats`):
    sympy's `N(10**20, 15) // 3` was 33333333333333331968, a wrong integer shown as exact."""
    import sympy

    dividend, divisor = sympy.sympify(dividend), sympy.sympify(divisor)
    if dividend.is_Rational and divisor.is_Rational and divisor != 0:
        # sympy's own `//` of rationals is not a floor when the quotient is negative (`-6.4 // 2` was
        # -3: the fraction cut toward zero first; `-84 // 0.5` was -169): Python's ints floor exactly
        quotient = dividend / divisor
        return sympy.Integer(quotient.p // quotient.q)
    if _sympy_divides(dividend, divisor):
        return dividend // divisor
    precision = _float_precision(dividend, divisor)
    if precision is not None:
        quotient = sympy.Rational(dividend) / sympy.Rational(divisor)
        return _whole_of_floats(int(quotient.p // quotient.q), precision)
    return exact_floor(dividend / divisor)


def exact_mod(dividend: Any, divisor: Any) -> Any:
    """The calculator's `a % b`: `a - b * (a // b)` with the quotient's floor from `exact_floordiv`,
    for real numbers (the sign of b's, as Python's). Rationals keep sympy's `Mod`, exact for them;
    symbols, non-real numbers and a zero divisor keep it too (its floor of the quotient is not
    checked there). With a Float and no
    other kind of number, the remainder of the values the operands hold, found exactly and shown as
    a Float of their precision (`N(10**20, 15) % 3` is 1.00000000000000; worked at the Float's
    precision, `a - b*(a // b)` lost the 1 and answered 0)."""
    import sympy

    dividend, divisor = sympy.sympify(dividend), sympy.sympify(divisor)
    if (dividend.is_Rational and divisor.is_Rational or _sympy_divides(dividend, divisor)
            or (dividend / divisor).is_extended_real is not True):
        return dividend % divisor  # (sympy's Mod of rationals is exact and takes the divisor's sign)
    precision = _float_precision(dividend, divisor)
    if precision is not None:
        exact_dividend, exact_divisor = sympy.Rational(dividend), sympy.Rational(divisor)
        quotient = exact_dividend / exact_divisor
        return sympy.Float(exact_dividend - exact_divisor * (quotient.p // quotient.q), precision=precision)
    return dividend - divisor * exact_integer_part(dividend / divisor, -1, shown=False)


def _float_precision(*operands: Any) -> int | None:
    """The least precision (bits) of the Floats among `operands` when each is a finite Float or a
    rational and one at least is a Float; else None (`exact_floordiv`, `exact_mod`)."""
    if not all(operand.is_Float or operand.is_Rational for operand in operands):
        return None
    floats = [operand for operand in operands if operand.is_Float]
    if not floats or any(operand.is_finite is not True for operand in floats):
        return None
    return min(operand._prec for operand in floats)


def _whole_of_floats(integer: int, precision: int) -> Any:
    """The integer `integer` found from Floats of `precision` bits: a sympy Integer when a Float of
    that precision holds every integer of its size (below 2**precision), else a Float of that
    precision, so that digits past the Float's own are not shown as exact."""
    import sympy

    if abs(integer) < 2 ** precision:
        return sympy.Integer(integer)
    return sympy.Float(integer, precision=precision)


def _sympy_divides(dividend: Any, divisor: Any) -> bool:
    """Whether sympy's own `//` and `%` are kept for these operands: either is not a number (a
    symbolic `floor(x/2)`, `Mod(x, 3)`) or the divisor may be zero (sympy's division-by-zero
    error). Rationals are not among them: sympy's `//` of rationals truncates a negative quotient
    (`exact_floordiv` floors them itself); its `%` of rationals is right (`exact_mod` keeps it)."""
    return not (dividend.is_number and divisor.is_number) or divisor.is_zero is not False


def _checked_integer_part(value: Any, direction: int) -> int:
    """The floor (direction -1) or ceiling (1) of the real sympy number `value`, or a ValueError
    saying it cannot be found exactly.

    The integer is read from `value` to about 30 digits past its whole part, evaluated to a
    precision sympy vouches for (`strict`). Where those digits put it clearly between two integers
    (`_clearly_between_integers`) that is the answer (`sin(10**30)` is read so: its differences
    below exhaust sympy's precision). Otherwise, near an integer, it is checked: `value`
    minus it, and minus the next integer beyond it, each evaluated to a precision sympy vouches for
    (`strict`), must have the signs of a value between them; when they do not, the integers either
    side of it are checked the same way (`log(10**50 - 1, 10)` reads as 50.000... to those digits;
    its floor is 49). Where none passes (no digits can tell a number from an integer it equals:
    `log(8)/log(2)`, `sin(pi/7) - cos(5*pi/14)`), the integer nearest the digits is the answer only
    when sympy proves `value` equal to it (`_proven_equal`). Never an integer those checks did not
    confirm: a wrong integer would be shown as exact.
    """
    import sympy
    from mpmath.libmp import round_ceiling, round_floor, round_nearest, to_int
    from sympy.core.evalf import PrecisionExhausted

    if value.is_Rational:
        return int(value.p // value.q) if direction < 0 else -int(-value.p // value.q)
    digits = 30 + math.ceil(_size_bits(sympy.Abs(value)) * math.log10(2))  # 30 past the whole part
    options = {"maxn": 100 + 2 * digits, "strict": True}  # room for terms that cancel each other
    cannot = (f"cannot {'floor' if direction < 0 else 'take the ceiling of'} {_shown(value)} exactly: sympy "
              "cannot tell which integers it lies between (N(...) gives an approximation)")
    try:
        approximation = value.evalf(digits, **options)
        read = int(to_int(approximation._mpf_, round_floor if direction < 0 else round_ceiling)) if approximation.is_Float else None
    except (PrecisionExhausted, ValueError, TypeError):
        read = None
    precise = _confirming_digits(value, digits)
    if (read is not None and _error_tracked(value) and _clearly_between_integers(approximation, digits)
            and _read_at(value, precise, direction) == read):
        return read
    for integer in () if read is None else (read, read + direction, read - direction):
        if _lies_beside(value, integer, direction, options, precise):
            return integer
    nearest = _nearest_of_digits(value, digits, round_nearest, to_int)
    if nearest is not None and _proven_equal(value, nearest, options, precise):
        return nearest
    raise ValueError(cannot)


#: The sympy classes whose `evalf` bounds its own error (sympy's `evalf_table`, less `tan`, whose
#: bound is wrong near a pole, and the floors, integrals and sums, not needed here). Any other
#: function (`asin`, `acos`, `tan`, `gamma`, ...) is evaluated by sympy at the working precision
#: with no account of how its argument's error grows, so its digits are not vouched for even with
#: `strict`: `floor(tan(sqrt(pi**2/4 - 10**-40)))` read so was off in its 23rd digit.
_ERROR_TRACKED = ("Add", "Mul", "Pow", "exp", "log", "sin", "cos", "atan", "Abs", "re", "im")


def _error_tracked(value: Any) -> bool:
    """Whether every part of the sympy number `value` is a number, a constant such as pi, or one of
    the operations whose `evalf` error sympy bounds (`_ERROR_TRACKED`)."""
    import sympy

    for part in sympy.preorder_traversal(value):
        if not (part.is_Number or part.is_NumberSymbol or part is sympy.I
                or type(part).__name__ in _ERROR_TRACKED):
            return False
    return True


def _confirming_digits(value: Any, digits: int) -> int:
    """The digits at which a finding made at `digits` is re-checked: twice as many and 50 more,
    plus the digits of the rationals in `value` (an argument such as `1 - 10**-40` needs them to be
    told from 1 by a function that does not bound its error: `acos`, `asin`, `tan`)."""
    import sympy

    bits = sum(int(number.p).bit_length() + int(number.q).bit_length() for number in value.atoms(sympy.Rational))
    return 2 * digits + 50 + math.ceil(bits * math.log10(2))


def _read_at(value: Any, digits: int, direction: int) -> int | None:
    """The floor (direction -1) or ceiling (1) of `value` as read from `digits` digits (`strict`),
    or None when sympy gives none: a re-check of an integer read from fewer digits."""
    from mpmath.libmp import round_ceiling, round_floor, to_int

    try:
        approximation = value.evalf(digits, maxn=100 + 2 * digits, strict=True)
        if not approximation.is_Float:
            return None
        return int(to_int(approximation._mpf_, round_floor if direction < 0 else round_ceiling))
    except Exception:  # noqa: BLE001 - not confirmed
        return None


def _clearly_between_integers(approximation: Any, digits: int) -> bool:
    """Whether `approximation`, a Float sympy vouches for to `digits` significant digits (`strict`:
    its error is below its size times 2**-precision), lies farther from the nearest integer than a
    million times that error, so that the value it approximates has the same floor and ceiling."""
    import sympy
    from mpmath.libmp import dps_to_prec

    exact = sympy.Rational(approximation)
    below = exact - exact.p // exact.q
    distance = min(below, 1 - below)
    return distance > abs(exact) * sympy.Rational(2) ** (20 - dps_to_prec(digits))


def _lies_beside(value: Any, integer: Any, direction: int, options: dict[str, Any], precise: int) -> bool:
    """Whether sympy, at a precision it vouches for, puts `value` strictly between `integer` and the
    next integer beyond it in `direction` (floor, -1: value - integer > 0 > value - (integer + 1);
    ceiling, 1: the other way round). Each difference is found to 15 digits and then to `precise`
    digits (`_confirming_digits`), and both must agree: a function whose error sympy does not bound
    (`asin`, `_ERROR_TRACKED`) gave `10**140*(pi/2 - asin(1 - 10**-140))**2 - 2` the wrong sign to
    15 digits."""
    import sympy
    from sympy.core.evalf import PrecisionExhausted

    wanted = [-direction, direction]
    bounds = (integer, integer - direction)
    try:
        if [sympy.sign((value - bound).evalf(15, **options)) for bound in bounds] != wanted:
            return False
        high = {**options, "maxn": options["maxn"] + 2 * precise}
        return [sympy.sign((value - bound).evalf(precise, **high)) for bound in bounds] == wanted
    except (PrecisionExhausted, ValueError, TypeError):
        return False


def _nearest_of_digits(value: Any, digits: int, round_nearest: Any, to_int: Any) -> int | None:
    """The integer nearest `value` as read to `digits` digits without a precision sympy vouches for
    (an exact zero has none), or None when sympy gives no number: only a candidate to prove."""
    try:
        approximation = value.evalf(digits, maxn=100 + 2 * digits)
        return int(to_int(approximation._mpf_, round_nearest)) if approximation.is_Float else None
    except Exception:  # noqa: BLE001 - no candidate: the caller reports it cannot decide
        return None


#: Most operations (`count_ops`) in a value `_proven_equal` simplifies a sine of: its time grows with them.
_MAX_PROOF_OPS = 100


def _proven_equal(value: Any, integer: int, options: dict[str, Any], precise: int) -> bool:
    """Whether sympy proves `value` equal to `integer`, never from digits alone: `equals` answers
    True only with a proof (the difference simplified to 0, or a minimal polynomial of x); failing
    that, a value checked to lie within 1/2 of `integer` (`_lies_beside`) whose difference d from it
    has `sin(pi*d)` simplify to 0 (so d is an integer, and the only one that near is 0):
    `4*(atan(1/2) + atan(1/3))/pi` is 1 so. That simplification is tried on small values only
    (`_MAX_PROOF_OPS`): the calculator's time limit bounds the rest.

    sympy's `is_zero` and `equals` are not proofs for every value: `acos(sqrt(1 - 10**-40))` is
    "zero" to them from a few digits (it is about 10**-20). So their answer is taken only when the
    difference also evaluates, to `precise` digits (`_confirming_digits`), to less than 10**-precise/2."""
    import sympy

    try:
        difference = value - integer
        if difference.is_zero is True or difference.equals(0) is True:
            return _negligible(difference, precise)
        if sympy.count_ops(value) > _MAX_PROOF_OPS:
            return False
        if not _lies_beside(value, integer - sympy.Rational(1, 2), -1, options, precise):
            return False
        return sympy.simplify(sympy.sin(sympy.pi * difference)) == 0
    except Exception:  # noqa: BLE001 - not proven
        return False


def _negligible(difference: Any, precise: int) -> bool:
    """Whether `difference`, evaluated to `precise` digits, is below 10**-(precise // 2) in size: a
    difference sympy calls zero that is not is seen so (a true zero evaluates to about
    10**-precise or less, or to 0)."""
    import sympy

    approximation = difference.evalf(precise, maxn=100 + 2 * precise)
    if approximation == 0:
        return True
    return bool(abs(approximation) < sympy.Integer(10) ** -(precise // 2))


def _size_bits(value: Any) -> int:
    """About how many bits the whole part of the sympy number `value` has (0 when small or unknown)."""
    try:
        rough = value.evalf(15)
        return max(0, rough._mpf_[2] + rough._mpf_[3]) if rough.is_Float else 0
    except Exception:  # noqa: BLE001 - only an estimate
        return 0


def _shown(value: Any) -> str:
    """A sympy value as text for a message, cut to 200 characters. Never raises: a value holding
    an integer of more digits than Python writes (4300) is described instead."""
    try:
        text = str(value)
    except ValueError:
        return "an expression with numbers too long to show"
    return text if len(text) <= 200 else text[:200] + "..."


#: Most significant digits `N(x, n)` takes: more only builds enormous decimals.
MAX_N_DIGITS = 10_000


def checked_n(value: Any, digits: Any = 15) -> Any:
    """The calculator's `N(value[, digits])`: sympy's, for 1 to `MAX_N_DIGITS` significant digits.
    sympy's own takes 0 or fewer and answers `0.e+1` for `N(7, 0)`: a wrong value shown as a result."""
    import sympy

    if not isinstance(digits, (int, sympy.Integer)) or isinstance(digits, bool) or not 1 <= int(digits) <= MAX_N_DIGITS:
        raise ValueError(f"N's digits must be a whole number from 1 to {MAX_N_DIGITS}, got {_shown(digits)}")
    return sympy.N(value, int(digits))


def gcd_of_all(*values: Any) -> Any:
    """The calculator's `gcd(a, b, ...)`: the greatest common divisor of all its arguments, taken
    two at a time (sympy's `gcd(a, b, c)` reads c as a polynomial generator: `gcd(12, 18, 8)` was 6)."""
    import sympy

    return functools.reduce(sympy.gcd, values)


def lcm_of_all(*values: Any) -> Any:
    """The calculator's `lcm(a, b, ...)`: the least common multiple of all its arguments, as `gcd_of_all`."""
    import sympy

    return functools.reduce(sympy.lcm, values)


def checked_log(value: Any, base: Any = None) -> Any:
    """The calculator's `log(value[, base])` (and `ln`): sympy's, but a base of 0 or 1, for which no
    logarithm exists, is an error (sympy answers `log(8, 0)` with 0, `log(8, 1)` with zoo)."""
    import sympy

    if base is None:
        return sympy.log(value)
    base = sympy.sympify(base)
    if base.is_zero or (base - 1).is_zero:
        raise ValueError(f"a logarithm's base cannot be {base}")
    return sympy.log(value, base)


#: Calls that put a result in the form the model asked for, which a final `simplify` would undo.
_FORM_CALLS = frozenset({"factor", "expand", "simplify"})


def _asks_for_a_form(tree: ast.Expression) -> bool:
    """True when the whole expression, parsed as `tree`, is one call of `_FORM_CALLS` (`factor(x**2 - 1)`)."""
    call = tree.body
    return isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in _FORM_CALLS


def _approximation_text(value: Any) -> str:
    """The text of `value`, a sympy value approximated with `N`; when it still holds an integer
    longer than Python writes (4300 digits), as `N(x**(10**5000))` keeps its integer exponent, that
    integer is named `<integer of N digits>`. Written by `str`, as `N(...)` results are: a format
    string would write a Float's exponent as `E` (`2.7E+43`), the calculator's name for e."""
    try:
        return str(value)
    except ValueError:
        return _long_integer_printer().doprint(value)


@functools.lru_cache(maxsize=1)
def _long_integer_printer() -> Any:
    """sympy's `str` printer writing integers with `_integer_text` (made on first use: sympy is
    imported in the calculator's workers only)."""
    from sympy.printing.str import StrPrinter

    class LongIntegerPrinter(StrPrinter):
        def _print_int(self, expr: int) -> str:
            return _integer_text(expr)

        def _print_Integer(self, expr: Any) -> str:
            return _integer_text(int(expr.p))

        def _print_Rational(self, expr: Any) -> str:
            if expr.q == 1:
                return _integer_text(int(expr.p))
            return f"{_integer_text(int(expr.p))}/{_integer_text(int(expr.q))}"

    return LongIntegerPrinter()


def _integer_text(number: int) -> str:
    """`str(number)`, or `<integer of N digits>` (with its sign) past Python's limit for `str`."""
    try:
        return str(number)
    except ValueError:
        digits = len(decimal.Decimal(number).as_tuple().digits)  # Decimal counts them past the limit
        return f"{'-' if number < 0 else ''}<integer of {digits} digits>"


#: The names `_with_checked_operators` writes `a // b` and `a % b` as (no expression can name them:
#: the whitelist has no name starting with `_`).
_FLOORDIV_NAME, _MOD_NAME = "_calc_floordiv", "_calc_mod"
_OPERATOR_TEXT = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


def _with_checked_operators(text: str, tree: ast.Expression) -> str:
    """The checked expression `text`, parsed as `tree`, with each `a // b` written
    `_calc_floordiv((a), (b))` and each `a % b` `_calc_mod((a), (b))` (`exact_floordiv`,
    `exact_mod`): sympy reads the operators as its own floor of the quotient, unchecked. The rest
    keeps its text (a decimal like `0.1` must reach sympy as typed, read as a rational),
    parenthesised as the parsed tree groups it."""
    holding = _holding_floor_operators(tree)
    if tree.body not in holding:
        return text
    return _rewritten(tree.body, text, holding)


def _holding_floor_operators(tree: ast.Expression) -> set[ast.AST]:
    """The nodes of `tree` that are or contain an `a // b` or `a % b`, found in one walk (each such
    operation marks itself and its ancestors), so that `_rewritten` need not walk each subtree."""
    parents: dict[ast.AST, ast.AST] = {}
    holding: set[ast.AST] = set()
    for node in ast.walk(tree):  # breadth first: a node's ancestors are in `parents` when it is reached
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):  # (not the operator nodes, which the parser shares)
                parents[child] = node
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.FloorDiv, ast.Mod)):
            while node is not None and node not in holding:
                holding.add(node)
                node = parents.get(node)
    return holding


def _rewritten(node: ast.AST, text: str, holding: set[ast.AST]) -> str:
    """`node`'s text in `text`, with `_with_checked_operators`'s calls for `//` and `%` in it (the
    nodes `check_calculator_expression` allows; `holding`: the nodes with such an operation in them)."""
    if node not in holding:
        return f"({ast.get_source_segment(text, node)})"
    if isinstance(node, ast.BinOp):
        left, right = _rewritten(node.left, text, holding), _rewritten(node.right, text, holding)
        if isinstance(node.op, (ast.FloorDiv, ast.Mod)):
            return f"{_FLOORDIV_NAME if isinstance(node.op, ast.FloorDiv) else _MOD_NAME}({left}, {right})"
        return f"({left} {_OPERATOR_TEXT[type(node.op)]} {right})"
    if isinstance(node, ast.UnaryOp):
        return f"({'-' if isinstance(node.op, ast.USub) else '+'}{_rewritten(node.operand, text, holding)})"
    if isinstance(node, ast.Call):
        return f"{node.func.id}({', '.join(_rewritten(arg, text, holding) for arg in node.args)})"
    raise ValueError(f"cannot rewrite a {type(node).__name__}")  # (no other node holds an operator)


def _gaussian_integer(value: Any) -> bool:
    """True when `value` is a whole number times I, plus a whole number (`I`, `2*I`, `3 - 4*I`):
    its `≈` value would only repeat it (`2*I ≈ 2.0*I`), so none is shown. Real values (no `I`)
    are not looked at: those that are not integers need their decimal value. Nor is a value holding
    a power: `(2 + I)**1000` is shown as written, so its value is what the model needs (and
    splitting it would expand it, at a cost near the calculator's time limit)."""
    import sympy

    if not value.has(sympy.I) or value.has(sympy.Pow) or not (value is sympy.I or value.is_Add or value.is_Mul):
        return False
    try:
        real, imaginary = value.as_real_imag()
    except Exception:  # noqa: BLE001 - a value sympy cannot split: shown with its `≈` value, as before
        return False
    return bool(real.is_Integer and imaginary.is_Integer)


def evaluate_expression(text: str) -> tuple[str, str]:
    """Worker-side: evaluate a checked expression with sympy; ("ok", result) or ("error", message)."""
    import sympy

    names = {name: getattr(sympy, name) for name in _CALC_FUNCS if hasattr(sympy, name)}
    names.update({"ln": checked_log, "log": checked_log, "N": checked_n, "abs": sympy.Abs, "round": exact_round,
                  "floor": exact_floor, "ceiling": exact_ceiling, "gcd": gcd_of_all, "lcm": lcm_of_all,
                  "pi": sympy.pi, "E": sympy.E, "I": sympy.I, "oo": sympy.oo,
                  _FLOORDIV_NAME: exact_floordiv, _MOD_NAME: exact_mod})
    names.update({s: sympy.Symbol(s) for s in ("x", "y", "z", "n")})
    try:
        # checked again (in this worker process) for a caller that did not check it; the checked
        # text is `text` itself when it was checked, and its tree serves the steps below
        text, tree = _checked_tree(text)
    except ToolError as exc:
        return "error", str(exc)
    try:
        value = sympy.sympify(_with_checked_operators(text, tree), locals=names, rational=True)
        if not _asks_for_a_form(tree):  # `factor(x**2 - 1)` stays factored: simplify would expand it
            value = sympy.simplify(value)
        if value.has(sympy.zoo) or value.has(sympy.nan):
            return "error", "undefined result (division by zero?)"
        try:
            text = str(value)
        except ValueError:  # an integer past Python's 4300 digits for str(): shown approximated
            shown = _approximation_text(sympy.N(value, 15))
            return "ok", f"{shown} (approximated: it has numbers too long to show in full)"
        # an irrational or non-integer rational result is followed by its decimal value: the
        # exact form of decimal arithmetic (`1000*(1+0.05/12)**36`) is a fraction of 80-digit integers
        if value.is_number and not value.is_Integer and not value.is_Float and not _gaussian_integer(value):
            approximation = _approximation_text(sympy.N(value, 15))
            if len(text) > MAX_EXACT_CHARS:  # the output cap would cut the exact form and its value
                return "ok", f"{approximation} (approximated: its exact form has {len(text)} characters)"
            return "ok", f"{text} ≈ {approximation}"
        return "ok", text
    except Exception as exc:  # a maths error is the model's (e.g. division by zero): report it
        return "error", f"{type(exc).__name__}: {exc}"


#: What the calculator's workers import when they start, outside any call's time limit: a fresh
#: worker (the first, or one replacing a worker killed at a time limit) would otherwise spend its
#: first call's time importing sympy, and the model's call would time out for it.
_CALCULATOR_PRELOAD = ("rlvr.verifiers.math_sympy", "rlvr.envs.calculator")


def make_calculator(timeout: float = DEFAULT_CALCULATOR_TIMEOUT, max_output_chars: int | None = 4000) -> Tool:
    """The `calculator` tool: `expression` evaluated exactly with sympy, within `timeout` seconds
    (cut to what its turn's `TurnBudget` has left); a result longer than `max_output_chars` is cut
    (`expand((x+1)**400)` is 38 kB; None: never)."""

    def calculator(expression: str) -> str:
        """Evaluate an expression exactly with sympy, e.g. 2**10/3 or sqrt(2)*pi (round: halves away from zero). factor: polynomials, not integers.

        Args:
            expression: the expression, in Python syntax (^ also means power).
        """
        return limited(TurnBudget(), expression)

    def limited(budget: TurnBudget, expression: str) -> str:
        text = check_calculator_expression(expression)
        status, result = _evaluate(text, timeout, budget)
        if status != "ok":
            raise ToolError(result)
        return truncate_output(result, max_output_chars, "result")

    made = tool(calculator)
    made.limited = limited
    return made


#: Seconds beyond its own limit a calculator call may hold a worker (the kill, a worker forked to
#: replace it, a worker starter process restarted, a loaded host) before the pool counts as stuck.
_HOLD_GRACE = 10.0


class _CalculatorCalls:
    """The calculator calls under way in this process (waiting for a worker or running), so that a
    pool with every worker taken can be told apart: busy with these calls (load: `ToolBusy`) or
    stuck (an infrastructure failure). The calculator's pool is its own: only these calls use it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._limits: dict[int, float] = {}
        self._next = 0
        self.ended = 0  # calls that have ended, ever

    def forget_parent(self) -> None:
        """In a forked child: the parent's calls are not under way here, and a thread of the
        parent's may have held the lock at the fork (the child's first call would wait for ever)."""
        self._lock = threading.Lock()
        self._limits = {}

    def begin(self, limit: float) -> int:
        with self._lock:
            self._next += 1
            self._limits[self._next] = limit
            return self._next

    def end(self, token: int) -> None:
        with self._lock:
            self._limits.pop(token, None)
            self.ended += 1

    def others(self, token: int) -> tuple[int, float]:
        """(how many other calls are under way, the longest limit among them)."""
        with self._lock:
            limits = [limit for key, limit in self._limits.items() if key != token]
        return len(limits), max(limits, default=0.0)


_CALLS = _CalculatorCalls()

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_CALLS.forget_parent)


def _evaluate(text: str, timeout: float, budget: TurnBudget | None = None) -> tuple[str, str]:
    """The calculator's ("ok" | "error", text) for a checked expression, from a worker process.

    It runs at most `budget.limit(timeout)` seconds once it has a worker (charged to `budget`) and
    waits at most `budget.wait_left` for one. The model's own limits (time, memory, size) raise
    `ToolError`; no free worker within the wait while other calls hold them all raises `ToolBusy`;
    any other failure of the worker pool (a dead worker, workers that cannot start, a stuck pool)
    raises `ToolInfraError`.
    """
    from rlvr.verifiers.timelimit import DEFAULT_MAX_WAIT, Budget, PoolBusy, TimeLimitExceeded, WorkerCrashed, get_pool

    budget = budget if budget is not None else TurnBudget()
    limit = budget.limit(timeout)
    may_wait = max(0.0, min(budget.wait_left, DEFAULT_MAX_WAIT))  # an unbounded budget waits as long as any pool call
    call_budget = Budget(limit, max_wait=may_wait)
    token, ended_before = _CALLS.begin(limit), _CALLS.ended
    try:
        pool = get_pool(preload=_CALCULATOR_PRELOAD)
        status, result = pool.call("rlvr.envs.calculator:evaluate_expression", (text,), timeout=call_budget)
    except TimeLimitExceeded:
        raise ToolError(f"evaluation took longer than {seconds_text(limit)}{budget.cut_note(limit, timeout)}") from None
    except MemoryError:
        raise ToolError("evaluation used too much memory") from None
    except PoolBusy as exc:
        waited = may_wait - call_budget.wait_left
        others, longest = _CALLS.others(token)
        if others >= pool.size and (_CALLS.ended > ended_before or waited < longest + _HOLD_GRACE):
            raise ToolBusy(f"the calculator is busy: all {pool.size} of its workers stayed taken by other calls for "
                           f"{seconds_text(waited)}; this call was not run (call it again)") from None
        raise ToolInfraError(f"the calculator's worker pool is stuck: {exc}") from None
    except WorkerCrashed as exc:
        if str(exc).startswith(("RecursionError", "OverflowError")):  # a size limit, like the memory one
            raise ToolError("the expression is too large to evaluate (nested too deeply or overflowing)") from None
        # the worker died or failed outside the evaluation (which reports maths errors itself):
        # the calculator is broken, not the model's call
        raise ToolInfraError(f"the calculator's worker failed: {exc}") from None
    except Exception as exc:  # the pool itself failed (cannot start, closed, ...): not the model's call
        raise ToolInfraError(f"the calculator's worker pool failed: {type(exc).__name__}: {exc}") from exc
    finally:
        _CALLS.end(token)
        budget.charge(limit - call_budget.left)  # the time it held a worker, not its wait
        budget.wait_left = max(0.0, budget.wait_left - (may_wait - call_budget.wait_left))
    return status, result
