"""The sympy side of math comparison; runs only inside a time-limited worker (see timelimit).

Nothing here is bounded by itself — `10**10**10` makes sympy compute forever — which is why
`rlvr.verifiers.math` calls `compare_normalized` through `timelimit.WorkerPool` and kills the worker
when the time is up.

Scalar equivalence, cheapest test first:
1. identical sympy expressions after construction (sympy's automatic evaluation);
2. both rational: exact, with the decimal rounding rule of `math_compare`;
3. no free symbols: numerical values to 30 digits agree to 1e-20 relative ("equal numerically"),
   values below 1 to 1e-20 absolute only when their difference also vanishes at 100 digits, as
   rounding noise does and a true difference does not (`e^{-50}` is not 0), or the decimal rounding
   rule holds; when neither side holds a decimal (a rounding, see `_has_decimal`), a difference that
   evalf knows to be non-zero at higher precision is a difference (`\\pi - \\frac{314159…}{10^{62}}`
   with 62 digits is not 0, while `3.14159265358979323846` is `\\pi` to 20 digits); an answer decimal
   of more than 20 digits must also hold the gold within one unit of its last place
   (`_long_decimal_contradicts`);
4. free symbols: `expand(a - b) == 0`; otherwise evaluate both at twelve fixed sample points (`_points`):
   four with the variables positive and four with some negative, all small and none whole, then two
   of whole numbers (where `\\lfloor x \\rfloor` and `\\lceil x \\rceil - 1` differ) and two far from 0
   (where `\\max(x, -3)` and `x` do). All are within 32 of 0, so when a side holds a function that
   bends or jumps (absolute value, max, min, floor, ceiling, an even root...) the two are also
   compared beside its breakpoints and at ±10^3, ±10^6 (`_kink_points`: `|x-50|` is not `50-x`).
   A difference that counts means "different", agreement at >= 3
   points and no counting difference means equal ("equal at N sample points"); when too few points
   can be evaluated, or one side is undefined at too many points where the other has a value
   (`0^x` and `0` at every negative x), fall back to `simplify`. A difference
   counts where both sides stay within the reals (so `|x|` != `x`); where one leaves them (a root
   or logarithm of a negative number) only when an absolute value is involved (`\\ln|x|` != `\\ln x`,
   but `\\ln(x^2)` = `2\\ln x`, as on the positive numbers); see `_counts`. Agreement is overruled
   when neither side holds a decimal and the expanded difference is provably not 0: a non-zero
   number or a polynomial (or quotient of polynomials) in the variables with a non-zero coefficient
   (`x + 10^{-30}` is not `x`; `0.3333333333333333x`, a rounding, is `\\frac{x}{3}`), or, for any other
   difference, its value computed to 50 digits at a few sample points is clearly not 0 there
   (`x + 10^{-14}\\sin x` is not `x`; see `_differs_precisely`).
Infinity inside a power, product, quotient or function (`\\infty^0`) is refused (`to_sympy`).
Equations compare as proportional (a = b and c = d are the same when (a-b)/(c-d) is a non-zero
constant); inequalities likewise with a positive constant and the same strictness (decided exactly
when both sides are polynomials with rational coefficients, `_rational_proportion`).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Iterable, Iterator

import sympy
from mpmath.libmp.libhyper import NoConvergence

from rlvr.verifiers.math_compare import (DOUBLE_REASON, NeedSympy, Outcome, answer_rounds_gold, compare, decimal_places,
                                         exact_eq, exact_value, is_double_of, may_be_rounding, prepare, require_evaluated,
                                         rounding_reason, value_nodes)
from rlvr.verifiers.math_parse import ParseError, parse

__all__ = ["check_gold", "compare_normalized", "to_sympy", "sympy_eq"]

_FUNCS = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "cot": sympy.cot, "sec": sympy.sec,
    "csc": sympy.csc, "arcsin": sympy.asin, "arccos": sympy.acos, "arctan": sympy.atan,
    "arccot": sympy.acot, "arcsec": sympy.asec, "arccsc": sympy.acsc, "arcsinh": sympy.asinh,
    "arccosh": sympy.acosh, "arctanh": sympy.atanh,
    "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh, "exp": sympy.exp,
    "floor": sympy.floor, "ceiling": sympy.ceiling, "ceil": sympy.ceiling,
}
_CONST = {"pi": sympy.pi, "E": sympy.E, "I": sympy.I, "oo": sympy.oo}
#: Values the variables take when expressions are compared by sampling: positive ones (where roots
#: and logarithms are real), then negative ones, none of them whole numbers. Why negative ones:
#: `|x|` and `x`, `\\sqrt{x^2}` and `x` agree at every positive point.
_POINTS = [0.5772156649, 1.3247179572, 0.8414709848, 2.2360679775, 1.6180339887, 0.3183098862]
_NEGATIVE = [-0.6931471806, -1.4142135624, -0.2679491924, -2.7182818285]
#: Whole numbers the variables take at two more points (one all positive, one mixed), not 0 or ±1,
#: where many answers have a removable gap (`\\frac{x^2-1}{x-1}`): skipped there, as any undefined point.
_WHOLE = [2, 3, 5, 7, 4, 6]
#: Values far from 0 at two more points (all positive, then all negative): not too far, or
#: `\\cosh^2 x - \\sinh^2 x` loses every digit it has to cancellation.
_FAR = [23.4142135624, 29.7182818285, 26.1803398875, 31.5707963268]
#: A side undefined (no finite value) at this many points where the other has one is not "equal
#: where both are defined" (`0^x` vs `0`): the sampling then does not decide (see `_sampled_eq`).
_MAX_ONE_SIDED = 3
#: A sampled value known to fewer bits than this is no value (see `_value_at`).
_MIN_BITS = 16
#: A sampled value larger than this is no value either: a pole hit at a sample point, where rounding
#: leaves a tiny denominator (`\\frac{1}{|x^2-5x+6|}` at x = 2 is 7.7e148, its other form 5.9e174).
_MAX_MAGNITUDE = 1e100
_symbols: dict[str, sympy.Symbol] = {}


#: Where infinity may stand in a value: alone, negated, or in a sum (`\\infty + 1`; `\\infty - \\infty`
#: is nan, which no value equals). Anywhere else `to_sympy` refuses it.
_INFINITY_ALLOWED = frozenset({"neg", "add", "sub"})


def to_sympy(node: tuple) -> sympy.Expr:
    """Build a sympy expression from a parse tree (scalars only).

    Raises ValueError for infinity inside a power, product, quotient or function (`\\infty^0`,
    `0 \\cdot \\infty`, `1^\\infty`, `\\frac{1}{\\infty}`, `e^{-\\infty}`): those are a limit's
    indeterminate or unevaluated forms, not values, and sympy folds some of them into a number
    (`oo**0` is 1, so `\\infty^0` would equal a gold of 1). Checked on the tree, before sympy sees it."""
    _refuse_infinity(node)
    return _to_sympy(node)


def _refuse_infinity(node: tuple) -> None:
    """Raise ValueError when `\\infty` stands in `node` anywhere but alone, negated or in a sum (see
    `to_sympy`). A walk without recursion: trees may be deep."""
    stack: list = [(node, False)]
    while stack:
        x, inside = stack.pop()
        if not isinstance(x, tuple) or not x:
            continue
        if not isinstance(x[0], str):  # a tuple of nodes (function arguments, matrix rows)
            stack.extend((child, inside) for child in x)
            continue
        if x == ("const", "oo"):
            if inside:
                raise ValueError("infinity inside a power, product, quotient or function is no value")
            continue
        inner = inside or x[0] not in _INFINITY_ALLOWED
        stack.extend((child, inner) for child in x[1:])


def _to_sympy(node: tuple) -> sympy.Expr:
    """`to_sympy`'s recursive builder (the infinity check is done once, on the whole tree)."""
    kind = node[0]
    if kind == "num":
        lit = node[1]
        return sympy.Rational(Fraction(lit)) if "e" not in lit.lower() else sympy.Rational(
            Fraction(lit.lower().partition("e")[0])) * sympy.Integer(10) ** int(lit.lower().partition("e")[2])
    if kind == "sym":
        return _symbol(node[1]) if len(node) == 2 else _applied(node)
    if kind == "const":
        return _CONST[node[1]]
    if kind == "neg":
        return -_to_sympy(node[1])
    if kind == "add":
        return _to_sympy(node[1]) + _to_sympy(node[2])
    if kind == "sub":
        return _to_sympy(node[1]) - _to_sympy(node[2])
    if kind == "mul":
        return _to_sympy(node[1]) * _to_sympy(node[2])
    if kind == "div":
        return _to_sympy(node[1]) / _to_sympy(node[2])
    if kind == "pow":
        return sympy.Pow(_to_sympy(node[1]), _to_sympy(node[2]))
    if kind == "mixed":
        return sympy.Rational(int(node[1][1])) + sympy.Rational(int(node[2][1]), int(node[3][1]))
    if kind == "pct":
        return _to_sympy(node[1]) / 100
    if kind == "fact":
        return sympy.factorial(_to_sympy(node[1]))
    if kind == "abs":
        return sympy.Abs(_to_sympy(node[1]))
    if kind == "binom":
        return sympy.binomial(_to_sympy(node[1]), _to_sympy(node[2]))
    if kind == "root":
        a, n = _to_sympy(node[1]), _to_sympy(node[2])
        if n == 2:
            return sympy.sqrt(a)
        if n.is_Integer and n % 2 == 1 and a.is_number and a.is_negative:
            return sympy.real_root(a, n)
        return sympy.root(a, n)
    if kind == "log":
        arg = _to_sympy(node[1])
        return sympy.log(arg) if node[2] is None else sympy.log(arg, _to_sympy(node[2]))
    if kind == "func":
        name, arg = node[1], node[2]
        if name in ("gcd", "lcm", "max", "min"):
            args = [_to_sympy(a) for a in (arg if isinstance(arg, tuple) and arg and isinstance(arg[0], tuple) else (arg,))]
            f = {"gcd": sympy.gcd, "lcm": sympy.lcm, "max": sympy.Max, "min": sympy.Min}[name]
            out = args[0]
            for a in args[1:]:
                out = f(out, a)
            return out
        if name == "det" and arg[0] == "matrix":
            return sympy.Matrix([[_to_sympy(c) for c in row] for row in arg[1]]).det()
        if name in _FUNCS:
            return _FUNCS[name](_to_sympy(arg))
        if name == "ln":
            return sympy.log(_to_sympy(arg))
    raise NotAValue(f"{_KIND_WORDS.get(kind, 'something')} where a number is needed")


def _symbol(name: str) -> sympy.Symbol:
    s = _symbols.get(name)
    if s is None:
        s = _symbols[name] = sympy.Symbol(name)
    return s


def _applied(node: tuple) -> sympy.Symbol:
    """A function applied (`f(x + 1)`: a "sym" node carrying its `Arguments`, see math_parse): an
    unknown value, a variable of its own named by the function and its arguments' values, expanded
    into sympy's canonical form (`_argument_key`), so `f(1+2)`, `f(2^2 - 1)` and `f(3)` are one
    variable, as are `f(2x+2)` and `f(2(x+1))`, `f(\\sqrt x)` and `f(x^{1/2})`. Why a variable and
    not `sympy.Function('f')(arg)`: sampling gives it a value of its own, where sympy could not
    evaluate an undefined function; nothing is known of f, so `f(2x)` and `2f(x)`, `f(x+y)` and
    `f(x)+f(y)` stay apart. An argument without a value (an interval, an equation) names the
    variable by the parser's text."""
    applied = node[2]
    try:
        keys = [str(_argument_key(_to_sympy(arg))) for arg in applied.args]
    except (ValueError, TypeError):  # (NotAValue is a ValueError)
        return _symbol(node[1])
    return _symbol(f"{applied.function}({', '.join(keys)})")


def _argument_key(value: sympy.Expr) -> sympy.Expr:
    """`value` in a canonical form: expanded, and a constant that is no rational simplified too
    (`\\log_2 8` is 3)."""
    value = sympy.expand(value)
    if not value.free_symbols and not value.is_Rational:
        value = sympy.simplify(value)
    return value


class NotAValue(ValueError):
    """A part of an answer that has no number value (a tuple inside a sum, a relation in a power)."""


#: How a reason names a part of the tree that is no number (see `NotAValue`).
_KIND_WORDS = {"seq": "a bracketed list or interval", "set": "a set", "list": "a list of values", "union": "a union",
               "matrix": "a matrix", "rel": "an equation or inequality", "pm": "a plus-minus", "choice": "a choice letter"}


def _finite_number(v: sympy.Expr) -> complex | None:
    try:
        c = complex(v)
    except (TypeError, ValueError, OverflowError):
        return None
    if c != c or abs(c) == float("inf"):
        return None
    return c


def _points(symbols: list[sympy.Symbol]) -> list[dict]:
    """Twelve sample points: four with every variable positive, then four with some or all negative
    (all negative; the even-numbered ones; the odd-numbered ones; all negative again), all small and
    none whole; then two of whole numbers (all positive; alternating signs, the first negative) and
    two far from 0 (all positive; all negative)."""
    pts = _positive_points(symbols)
    for k in range(4):
        pt = {}
        for i, s in enumerate(symbols):
            negative = k in (0, 3) or (k == 1 and i % 2 == 0) or (k == 2 and i % 2 == 1)
            value = _NEGATIVE[(k + i) % len(_NEGATIVE)] if negative else _POINTS[(k + 3 * i) % len(_POINTS)]
            pt[s] = sympy.Float(value, 30)
        pts.append(pt)
    for shift, signs in ((0, (1, 1)), (1, (-1, 1))):
        pts.append({s: sympy.Float(signs[i % 2] * (_WHOLE[(i + shift) % len(_WHOLE)] + 8 * (i // len(_WHOLE))), 30)
                    for i, s in enumerate(symbols)})
    for sign in (1, -1):
        pts.append({s: sympy.Float(sign * _FAR[i % len(_FAR)] + 0.7 * (i // len(_FAR)), 30)
                    for i, s in enumerate(symbols)})
    return pts


def _positive_points(symbols: list[sympy.Symbol]) -> list[dict]:
    """The first four of `_points`, with every variable positive."""
    return [{s: sympy.Float(_POINTS[(k + 2 * i) % len(_POINTS)] + 0.37 * k, 30) for i, s in enumerate(symbols)}
            for k in range(4)]


#: Functions whose value bends or jumps where their argument crosses 0 (or, `_STEPS`, a whole number).
_KINKED = (sympy.Abs, sympy.sign, sympy.floor, sympy.ceiling, sympy.frac)
_STEPS = (sympy.floor, sympy.ceiling, sympy.frac)
#: The values a stepped argument (`\\lfloor g \\rfloor`) is solved for: its steps near 0.
_STEP_TARGETS = (-1, 0, 1, 2)
#: At most this many arguments are solved for breakpoints, of at most this degree in a variable, and
#: at most this many breakpoint points are made (`_kink_points`): the sampling stays bounded.
_MAX_KINK_ARGS = 8
_MAX_KINK_DEGREE = 4
_MAX_KINK_POINTS = 16
#: How far beyond the outermost breakpoints a point is put (not whole: floor and ceiling step there).
_KINK_STEP = 0.37
#: Magnitudes every variable takes at the last points (both signs), for breakpoints not solved.
_LARGE = (1e3 + _KINK_STEP, 1e6 + _KINK_STEP)


def _kink_arguments(expr: sympy.Expr) -> list[tuple[sympy.Expr, bool]]:
    """The arguments in `expr` where its value may bend or jump, each with whether it steps at every
    whole number: that of an absolute value, sign, floor, ceiling or fractional part, the
    differences of a max's or min's arguments, the sides of a piecewise condition, the base of an
    even root (`\\sqrt{(x-50)^2}` bends at 50)."""
    out = []
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, _KINKED):
            out.append((node.args[0], isinstance(node, _STEPS)))
        elif isinstance(node, (sympy.Max, sympy.Min)):
            out.extend((a - b, False) for i, a in enumerate(node.args) for b in node.args[i + 1:])
        elif isinstance(node, sympy.Piecewise):
            out.extend((rel.lhs - rel.rhs, False) for _, cond in node.args for rel in cond.atoms(sympy.Rel))
        elif isinstance(node, sympy.Pow) and node.exp.is_Rational and node.exp.q % 2 == 0 and not node.base.is_number:
            out.append((node.base, False))
    return [(arg, steps) for arg, steps in out if arg.free_symbols]


def _breakpoints(arg: sympy.Expr, steps: bool, var: sympy.Symbol, base: dict) -> list[float]:
    """The real values of `var` where `arg` (its other variables at `base`) is 0, or, when it
    `steps`, one of `_STEP_TARGETS`, and where its denominator is 0 (`|\\frac{1}{x-50}|`); solved
    only where the numerator and denominator are polynomials in `var` of degree at most
    `_MAX_KINK_DEGREE` (nothing else is)."""
    numerator, denominator = sympy.fraction(sympy.together(arg.subs({s: v for s, v in base.items() if s != var})))
    equations = [numerator - t * denominator for t in (_STEP_TARGETS if steps else (0,))]
    equations += [] if denominator.is_number else [denominator]
    out = []
    for equation in equations:
        out.extend(_real_roots(equation, var))
    return out


def _real_roots(equation: sympy.Expr, var: sympy.Symbol) -> list[float]:
    """The real roots (below 10^7 in size) of a polynomial `equation` in `var` of degree 1 to
    `_MAX_KINK_DEGREE`, computed numerically; none for anything else (a power above that degree is
    refused before a polynomial is built: `x^{10000000}` would take seconds)."""
    if any(isinstance(n, sympy.Pow) and n.exp.is_Integer and abs(n.exp) > _MAX_KINK_DEGREE
           for n in sympy.preorder_traversal(equation)):
        return []
    try:
        poly = sympy.Poly(equation, var)
        if not 1 <= poly.degree() <= _MAX_KINK_DEGREE:
            return []
        if poly.domain.is_Exact:  # (each root once: nroots converges slowly to a repeated one, `\\sqrt{(x^2-4)^2}`)
            poly = poly.sqf_part()
        if poly.degree() == 1:  # (the most common bend, `|x - 50|`: no iteration needed)
            a, b = poly.all_coeffs()
            roots = [sympy.N(-b / a, 15)]
        else:
            roots = poly.nroots(n=15, maxsteps=50)
    except (sympy.PolynomialError, NoConvergence, ArithmeticError, ValueError, TypeError):
        return []
    return [float(sympy.re(r)) for r in roots if abs(sympy.im(r)) < 1e-9 and abs(r) < 1e7]


def _kink_points(A: sympy.Expr, B: sympy.Expr, free: list[sympy.Symbol]) -> list[dict]:
    """Sample points beside the breakpoints of A's and B's kinked functions (see `_kink_arguments`),
    none when they have none. `_points` are all within 32 of 0, so a bend beyond lets a function
    equal one of its branches there: `|x-50|` and `50-x`, `\\max(x, -40)` and `x`. For each variable
    (the others at the first positive point): a point between each two neighbouring breakpoints of
    it and one beyond each outermost (`_breakpoints`); then every variable at `_LARGE` magnitudes
    (for breakpoints not solved), unless a variable stands where its values there may take too
    long to compute (`_grows_fast`: an exponent, an exponential, a hyperbolic function, a factorial,
    a binomial or a gamma). At most `_MAX_KINK_POINTS`, those
    beyond the outermost breakpoints first (`_differs_precisely` uses the first few). An argument
    both sides share (`|x-1|` and `\\sqrt{(x-1)^2}`) is solved once."""
    args = list(dict.fromkeys(_kink_arguments(A) + _kink_arguments(B)))[:_MAX_KINK_ARGS]
    if not args:
        return []
    base = _positive_points(free)[0]
    outer, inner = [], []
    for var in free:
        cuts = sorted({round(c, 12) for arg, steps in args if var in arg.free_symbols
                       for c in _breakpoints(arg, steps, var, base)})
        inner.extend({**base, var: sympy.Float(a + (b - a) / 2, 30)} for a, b in zip(cuts, cuts[1:]) if b - a > 1e-9)
        outer.extend({**base, var: sympy.Float(v, 30)} for v in ([cuts[0] - _KINK_STEP, cuts[-1] + _KINK_STEP] if cuts else []))
    out = (outer + inner)[:_MAX_KINK_POINTS - 2 * len(_LARGE)]
    if not any(_grows_fast(x) for x in (A, B)):
        for size in _LARGE:
            out.extend({s: sympy.Float(sign * (size + 0.1 * i), 30) for i, s in enumerate(free)} for sign in (1, -1))
    return out


def _grows_fast(expr: sympy.Expr) -> bool:
    """Whether a variable stands in an exponent, an exponential, a hyperbolic function, a factorial
    or a binomial in `expr` (its values at 10^6 may be too large to compute in time)."""
    fast = (sympy.exp, sympy.factorial, sympy.binomial, sympy.gamma, sympy.sinh, sympy.cosh, sympy.tanh)
    return any(isinstance(node, fast) and node.free_symbols
               or isinstance(node, sympy.Pow) and node.exp.free_symbols for node in sympy.preorder_traversal(expr))


def _value_at(expr: sympy.Expr, pt: dict) -> complex | None:
    """`expr`'s finite value at `pt`, or None where it has none: a pole, `0^x` at a negative x, a
    factorial of a negative whole number (mpmath raises there rather than return infinity), or a
    value evalf knows no digit of (`\\frac{x^2-4}{x-2}` at x = 2 gives `0.e+6`, a bound on a 0/0,
    not a value; a true zero, `x - 2` there, is `0.e-165`, a bound that small is kept as 0), or one
    above `_MAX_MAGNITUDE` (a pole met to within rounding)."""
    try:
        value = expr.evalf(30, subs=pt)
    except (ArithmeticError, ValueError, TypeError):
        return None
    for part in value.as_real_imag() if value.is_number else ():
        if isinstance(part, sympy.Float) and part._prec < _MIN_BITS and abs(part) > 1e-15:
            return None
    number = _finite_number(value)
    return None if number is None or abs(number) > _MAX_MAGNITUDE else number


def _restricted(expr: sympy.Expr) -> list[tuple[str, sympy.Expr]]:
    """The arguments in `expr` whose real domain is restricted, with the restriction: the base of a
    non-integer power (a root) must be >= 0, a logarithm's argument > 0, arcsin/arccos's in [-1, 1]."""
    out = []
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Pow) and not node.exp.is_integer:
            out.append(("nonneg", node.base))
        elif isinstance(node, sympy.log):
            out.append(("pos", node.args[0]))
        elif isinstance(node, (sympy.asin, sympy.acos)):
            out.append(("unit", node.args[0]))
    return out


def _real_defined(restricted: list[tuple[str, sympy.Expr]], pt: dict) -> bool:
    """True when every restricted argument (see `_restricted`) is inside its real domain at `pt`:
    the expression is then computed there without leaving the real numbers."""
    for need, arg in restricted:
        v = _finite_number(arg.evalf(15, subs=pt))
        if v is None or abs(v.imag) > 1e-12 * max(1.0, abs(v.real)):
            return False
        if (need == "nonneg" and v.real < 0) or (need == "pos" and v.real <= 0) or (need == "unit" and abs(v.real) > 1):
            return False
    return True


def _counts(a_dom: list, b_dom: list, strict: bool, pt: dict) -> bool:
    """Whether two different values at `pt` show that the expressions differ. Yes when both are
    computed there within the reals; when only one is, yes if an absolute value is involved (so
    `\\ln|x|` and `\\ln x` differ), no otherwise (so `\\ln(x^2)` and `2\\ln x`, `\\sqrt{x}\\sqrt{x-1}` and
    `\\sqrt{x^2-x}` are equal on their common domain); when neither is, no (the principal branches of
    roots and logarithms of negative numbers differ where the real expressions are undefined)."""
    ra, rb = _real_defined(a_dom, pt), _real_defined(b_dom, pt)
    return (ra and rb) or (strict and (ra or rb))


def _sampled_eq(A: sympy.Expr, B: sympy.Expr, free: list[sympy.Symbol]) -> tuple[bool, str] | None:
    """Compare A and B at the sample points: (False, why) at the first difference that counts (see
    `_counts`), (True, why) when they agree at >= 3 points where both are computed within the reals
    and differ at none that counts, else None
    (also when one side is undefined at `_MAX_ONE_SIDED` points where the other has a value: an
    occasional removable gap is skipped, but `0^x` agrees with `0` only where it is defined)."""
    strict = A.has(sympy.Abs) or B.has(sympy.Abs)
    a_dom = b_dom = None
    agree = one_sided = 0
    for pt in _points(free):
        va, vb = _value_at(A, pt), _value_at(B, pt)
        if va is None or vb is None:
            one_sided += (va is None) != (vb is None)
            continue
        if a_dom is None:
            a_dom, b_dom = _restricted(A), _restricted(B)
        if abs(va - vb) <= 1e-12 * max(1.0, abs(va)):
            # agreement counts only where both are computed within the reals: a factor never real
            # (`\\sqrt{-1-x^2}/(i\\sqrt{1+x^2})`, 1 by principal branches) would otherwise switch off
            # every difference and let one answer equal two golds (2 for x > 0 and 3 for x < 0)
            if (not a_dom and not b_dom) or (_real_defined(a_dom, pt) and _real_defined(b_dom, pt)):
                agree += 1
            continue
        if _counts(a_dom, b_dom, strict, pt):
            where = _where(pt)
            return False, f"different expressions (differ at {where})"
    return (True, f"equal at {agree} sample points") if agree >= 3 and one_sided < _MAX_ONE_SIDED else None


def _differs_beside_kinks(A: sympy.Expr, B: sympy.Expr, kinks: list[dict]) -> str | None:
    """Where A and B, equal at the sample points, differ at one of `_kink_points` while both are
    computed within the reals there, else None. Agreement or a missing value there decides nothing:
    those points only look for a branch the sample points missed (`|x-50|` is `50-x` at every one
    of them). Not `_counts`'s strict rule: far out, a side of an identity true on the common domain
    leaves the reals where the other does not (`\\ln(x+100) + \\ln(x+200)` and
    `\\ln((x+100)(x+200))` at x = -1000), and an absolute value elsewhere in the answer changes
    nothing about that."""
    a_dom, b_dom = _restricted(A), _restricted(B)
    for pt in kinks:
        va, vb = _value_at(A, pt), _value_at(B, pt)
        if va is not None and vb is not None and abs(va - vb) > 1e-12 * max(1.0, abs(va)) \
                and _counts(a_dom, b_dom, False, pt):
            return _where(pt)
    return None


def sympy_eq(a: tuple, b: tuple) -> tuple[bool, str]:
    """Scalar equivalence with sympy of the gold's `a` and the answer's `b` (see module docstring)."""
    try:
        return exact_eq(a, b)
    except NeedSympy:
        pass
    A, B = to_sympy(a), to_sympy(b)
    if A == B:
        return True, "identical expressions"
    if A.is_Rational and B.is_Rational:
        return _rational_eq(a, b, A, B)
    free = sorted(A.free_symbols | B.free_symbols, key=lambda s: s.name)
    if not free:
        return _numeric_eq(a, b, A, B)
    diff = A - B
    expanded = diff if diff == 0 else sympy.expand(diff)
    if expanded == 0:
        return True, "difference simplifies to 0"
    sampled = _sampled_eq(A, B, free)
    if sampled is not None:
        kinks = _kink_points(A, B, free) if sampled[0] else []  # (computed once, for both passes)
        where = _differs_beside_kinks(A, B, kinks)
        if where is not None:
            return False, f"different expressions (differ at {where})"
        if sampled[0] and not _has_decimal(a, b):
            maxn = _precision_for(a, b)
            if _proven_nonzero_function(expanded, free, maxn):
                return False, "different expressions (their difference is provably not 0)"
            where = _differs_precisely(A, B, free, kinks)
            if where is not None:
                return False, f"different expressions (differ at {where} when computed to {_PRECISE_DIGITS} digits)"
        return sampled
    if sympy.simplify(diff) == 0:
        return True, "difference simplifies to 0"
    return False, "different expressions"


def _rational_eq(a: tuple, b: tuple, A: sympy.Rational, B: sympy.Rational) -> tuple[bool, str]:
    fa, fb = Fraction(int(A.p), int(A.q)), Fraction(int(B.p), int(B.q))
    if fa == fb:
        return True, "equal as rationals"
    rounded = answer_rounds_gold(a, b, fa, fb)
    if rounded is not None:
        return True, rounded
    return False, "different values"


def _numeric_eq(a: tuple, b: tuple, A: sympy.Expr, B: sympy.Expr) -> tuple[bool, str]:
    if A.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan) or B.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
        return False, "different values (infinite or undefined)"
    va, vb = A.evalf(30), B.evalf(30)
    ca, cb = _finite_number(va), _finite_number(vb)
    if ca is None or cb is None:
        return False, "a value could not be evaluated to a finite number"
    diff = (va - vb).evalf(30)
    cd = _finite_number(diff)
    if cd is not None and abs(cd) <= 1e-20 * max(1.0, abs(ca)) and _not_told_apart(A, B, diff, va, vb):
        # a decimal on either side is a rounding (the rules below); exact sides must not differ provably
        if _has_decimal(a, b) or not _proven_nonzero(A - B, _precision_for(a, b)):
            if _long_decimal_contradicts(a, b, A, B):
                return False, "different values (the answer's decimal contradicts the gold past the 20th digit)"
            return True, "equal numerically (to 20 digits)"
        return False, "different values (equal to 20 digits, but their difference is provably not 0)"
    dp = decimal_places(b)  # only the answer may be a rounding of the gold (see `math_compare.exact_eq`)
    if dp and not decimal_places(a) and may_be_rounding(*dp) and va.is_real \
            and (dp[0] >= 0 or A.is_rational is not True):  # (tens and more only for irrationals: `rounds_to`)
        scale = sympy.Integer(10) ** dp[0]
        rounded = sympy.floor(va * scale + sympy.Rational(1, 2))
        lit = exact_value(b)
        if rounded == sympy.Rational(lit.numerator, lit.denominator) * scale:
            return True, rounding_reason(*dp)
    # a Python float printed in full for an irrational gold (`1.4142135623730951` for `\\sqrt2`), as
    # `math_compare.answer_rounds_gold` takes one for a rational gold (rules 33)
    if dp and not decimal_places(a) and va.is_real and is_double_of(exact_value(b), dp[0], dp[1], float(va)):
        return True, DOUBLE_REASON
    return False, f"different values: {_short(va)} vs {_short(vb)}"


#: A decimal with more significant digits than this is no Python float and no 20-digit rounding:
#: `_long_decimal_contradicts` holds it to the digits it writes.
_LONG_DECIMAL = 20
#: `_long_decimal_contradicts` looks at answers with at most this many decimals.
_MAX_DECIMALS = 8


def _long_decimal_contradicts(a: tuple, b: tuple, A: sympy.Expr, B: sympy.Expr) -> bool:
    """Whether the answer `b` (value B), equal to the gold `a` (value A) to 20 digits, writes a decimal
    of more than `_LONG_DECIMAL` significant digits that contradicts the gold past them
    (`3.14159265358979323846264338327950288419719999` is not `\\pi`, which is ...419716939...).
    Interval reasoning: each decimal d with a unit u in its last place stands for a value within
    d - u and d + u (a rounding or a cut); B evaluated with d moved to either end moves by some
    amount, and the gold must lie within the sum of those moves of B (a cut of `\\pi` inside
    `\\pi^{10}` moves it ten times as much). Never when the gold writes a decimal (a rounding
    itself) or the answer writes more than `_MAX_DECIMALS`, nor when the check cannot be made."""
    if decimal_places(a) is not None or _decimal_literals(a):
        return False
    literals = _decimal_literals(b)
    if not literals or len(literals) > _MAX_DECIMALS:
        return False
    units, longest = [], 0
    for node in literals:
        mantissa, _, exponent = node[1].lower().partition("e")
        longest = max(longest, len(mantissa.replace(".", "").lstrip("0")))
        places = len(mantissa.partition(".")[2])
        units.append(sympy.Integer(10) ** (int(exponent or 0) - places))
    if longest <= _LONG_DECIMAL:
        return False
    digits = min(longest + 20, 3200)
    names = {id(node): ("sym", f"\x00decimal{k}") for k, node in enumerate(literals)}
    try:
        spread = to_sympy(_replace_leaves(b, names))
        exact = {sympy.Symbol(f"\x00decimal{k}"): to_sympy(node) for k, node in enumerate(literals)}
        gap = abs((A - B).evalf(digits))
        allowed = sympy.Integer(0)
        for symbol, unit in zip(exact, units):
            moves = [abs((spread.subs({**exact, symbol: exact[symbol] + step}) - B).evalf(digits))
                     for step in (unit, -unit)]
            allowed += max(moves)
        noise = sympy.Float(10, digits) ** (10 - digits) * max(abs(A.evalf(digits)), abs(B.evalf(digits)))  # (relative: golds far below 1 too)
        return bool(gap.is_Float and allowed.is_number and gap > allowed + noise)
    except (ArithmeticError, ValueError, TypeError, RecursionError):
        return False


def _replace_leaves(tree: tuple, names: dict) -> tuple:
    """`tree` with the leaves whose id is a key of `names` replaced by its value."""
    if id(tree) in names:
        return names[id(tree)]
    if isinstance(tree, tuple) and tree and tree[0] not in ("num", "sym", "const"):
        return tuple(_replace_leaves(x, names) if isinstance(x, tuple) else x for x in tree)
    return tree


def _not_told_apart(A: sympy.Expr, B: sympy.Expr, diff: sympy.Expr, va: sympy.Expr, vb: sympy.Expr) -> bool:
    """Whether values within 1e-20 of each other are also equal relative to their size, or, when
    not, whether their difference vanishes at 100 digits: rounding noise of two spellings of one
    value shrinks with the precision (1e-31 at 30 digits, far less at 100), a true difference does
    not (`e^{-50}`, about 2e-22, or `e^{-250}`, is not 0). In sympy's numbers throughout, which
    do not underflow as floats do (`e^{-1000}` is 5e-435, not 0.0). `diff`, `va`, `vb`: A - B, A
    and B at 30 digits."""
    gap = abs(diff)
    if gap == 0 or gap <= sympy.Float("1e-20") * max(abs(va), abs(vb)):
        return True
    precise = abs((A - B).evalf(100))
    return bool(precise == 0 or precise <= sympy.Float("1e-20") * gap)


#: Bits a difference's value must be known to for `_proven_nonzero` to take it as not 0 (evalf
#: asked for 30 digits, about 100 bits, returns a true 0 as a bound of a bit or so).
_PROOF_BITS = 64


def _precision_for(a: tuple, b: tuple) -> int:
    """The working precision (digits) `_proven_nonzero` may use for the values of trees `a` and `b`:
    100, plus the digits their numbers are written with (`\\frac{314159…}{10^{62}}` with 62 digits
    differs from `\\pi` past the 62nd), at most 3100 (answers are at most 3000 characters)."""
    digits = sum(len(node[1]) for tree in (a, b) for node in _leaves(tree) if node[0] == "num")
    return 100 + min(digits, 3000)


def _has_decimal(a: tuple, b: tuple) -> bool:
    """Whether tree `a` or `b` holds a decimal: a number written with a point or an exponent
    (`3.14159`, `0.3333333333333333x`, `1e-3`) or read as one (`3.3 \\times 10^{-4}`, see
    `decimal_places`). A decimal is a rounding, so a difference past its digits proves nothing:
    `_proven_nonzero` is not asked (`3.14159265358979323846` is `\\pi` to 20 digits, `\\frac{x}{3}`
    is `0.3333333333333333x`), and the tolerances and decimal rounding rules decide."""
    if decimal_places(a) is not None or decimal_places(b) is not None:
        return True
    return bool(_decimal_literals(a) or _decimal_literals(b))


def _decimal_literals(tree: tuple) -> list[tuple]:
    """The number nodes of `tree` written with a point or an exponent (`3.14159`, `1e-3`)."""
    return [node for node in _leaves(tree) if node[0] == "num" and any(c in node[1] for c in ".eE")]


def _leaves(tree: tuple) -> list[tuple]:
    """The number, symbol and constant nodes of a tree (a walk without recursion)."""
    out, stack = [], [tree]
    while stack:
        x = stack.pop()
        if isinstance(x, tuple) and x:
            if x[0] in ("num", "sym", "const"):
                out.append(x)
            else:
                stack.extend(x)
    return out


def _proven_nonzero(value: sympy.Expr, maxn: int) -> bool:
    """Whether the number `value` is provably not 0: evalf, which raises its working precision (up
    to `maxn` digits) until the result is known to the digits asked, knows it to `_PROOF_BITS` bits
    or more and it is not 0. A true 0 (`\\cos\\frac{2\\pi}{7} + \\cos\\frac{4\\pi}{7} + \\cos\\frac{6\\pi}{7} +
    \\frac12`, two spellings of one root) comes back as a bound of a bit or so, never as a value."""
    if value == 0:
        return False
    if value.is_Rational:
        return True
    try:
        v = value.evalf(30, maxn=maxn)
    except (ArithmeticError, ValueError, TypeError):
        return False
    if not v.is_number or v.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
        return False
    return any(isinstance(part, sympy.Float) and part != 0 and part._prec >= _PROOF_BITS
               for part in v.as_real_imag())


def _proven_nonzero_function(expanded: sympy.Expr, free: list[sympy.Symbol], maxn: int) -> bool:
    """Whether the expanded difference of two expressions is provably not 0 as a function: a number
    that is not 0 (`x + 10^{-30}` against `x`), or a polynomial in the variables with a coefficient
    that is not 0 (`x(1 + 10^{-30})`), or a quotient whose expanded numerator is one (`\\frac{1 +
    10^{-30}}{x}`). Sampling at 30 digits with a relative tolerance of 1e-12 cannot see such
    differences. Anything else (functions of the variables) is left to sampling."""
    if expanded.is_number:
        return _proven_nonzero(expanded, maxn)
    if not expanded.is_polynomial(*free):
        if not expanded.is_rational_function(*free):
            return False
        expanded = sympy.expand(sympy.fraction(sympy.together(expanded))[0])
        if expanded == 0 or not expanded.is_polynomial(*free):
            return False
    try:
        coefficients = sympy.Poly(expanded, *free).coeffs()
    except sympy.PolynomialError:
        return False
    return any(_proven_nonzero(c, maxn) for c in coefficients if c.is_number)


#: Digits `_differs_precisely` computes a difference to, the size relative to the values it must
#: have there to count, and at how many points it is computed (two: a tiny term vanishing at one
#: sample point, `10^{-14}\\sin x` where sin x is 0, does not vanish at the next).
_PRECISE_DIGITS = 50
_PRECISE_GAP = sympy.Float("1e-40")
_PRECISE_POINTS = 2
#: And at this many breakpoint points at most (`_kink_points`): each costs as much as a sample
#: point, and a sum of many bends has up to `_MAX_KINK_POINTS` of them.
_PRECISE_KINK_POINTS = 2
#: The most digits evalf may work with there: a true 0 makes it raise its precision to this bound
#: (the check's main cost), a difference above `_PRECISE_GAP` is known well before.
_PRECISE_MAXN = 80


def _precise_points(free: list[sympy.Symbol]) -> Iterator[dict]:
    """The sample points in `_points`' order, the later ones made only when asked for (making points
    costs as much as the check at one)."""
    yield from _positive_points(free)
    yield from _points(free)[4:]


def _differs_precisely(A: sympy.Expr, B: sympy.Expr, free: list[sympy.Symbol], kinks: list[dict]) -> str | None:
    """Where two expressions without decimals, equal at the sample points to sampling's 1e-12,
    still differ (the point, for the reason), else None: their difference computed to
    `_PRECISE_DIGITS` digits at the first `_PRECISE_POINTS` sample points where both are computed
    within the reals, then at the first `_PRECISE_KINK_POINTS` of the `kinks` (`_kink_points`, the
    points beyond the outermost breakpoints first) where they are, known to `_PROOF_BITS` bits and
    more than `_PRECISE_GAP` of the values there.
    Why: a tiny difference that is no number or polynomial (`x + 10^{-14}\\sin x` against `x`,
    `e^{x + 10^{-14}}` against `e^x`) hides under sampling's tolerance; a true identity
    (`\\sin^2 x + \\cos^2 x` and 1) computes to 0, or to a bound of a few bits, at any precision. The
    breakpoint points find one beyond a bend (`x + 10^{-14}\\max(0, x-50)` against `x`)."""
    a_dom, b_dom = _restricted(A), _restricted(B)
    diff = A - B

    def first_gap(points: Iterable[dict], most: int) -> str | None:
        """The first point where the gap shows, among the first `most` points that can tell."""
        tried = 0
        for pt in points:
            if tried >= most:
                break
            gap = _precise_gap(A, B, diff, pt, a_dom, b_dom)
            tried += gap is not None
            if gap:
                return gap
        return None

    return first_gap(_precise_points(free), _PRECISE_POINTS) or first_gap(kinks, _PRECISE_KINK_POINTS)


def _precise_gap(A: sympy.Expr, B: sympy.Expr, diff: sympy.Expr, pt: dict, a_dom: list, b_dom: list) -> str | None:
    """`_differs_precisely` at one point: None where it cannot tell (a side outside the reals, a
    pole), "" where A - B computes to 0 or to a bound, else the point (for the reason)."""
    if not (_real_defined(a_dom, pt) and _real_defined(b_dom, pt)):
        return None
    try:
        gap = diff.evalf(_PRECISE_DIGITS, subs=pt, maxn=_PRECISE_MAXN)
    except (ArithmeticError, ValueError, TypeError):
        return None
    if not gap.is_number or gap.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
        return None  # (a pole of either side)
    if not any(isinstance(p, sympy.Float) and p != 0 and p._prec >= _PROOF_BITS for p in gap.as_real_imag()):
        return ""
    va, vb = _value_at(A, pt), _value_at(B, pt)  # (only now: the usual true identity never gets here)
    if va is not None and vb is not None and abs(gap) > _PRECISE_GAP * max(1.0, abs(va), abs(vb)):
        return _where(pt)
    return ""


def _where(pt: dict) -> str:
    """A sample point as a reason names it: `x=1000.37, y=2`."""
    return ", ".join(f"{s}={float(v):.6g}" for s, v in pt.items())


def _short(v: sympy.Expr) -> str:
    try:
        return f"{complex(v).real:.10g}" if complex(v).imag == 0 else str(complex(v))
    except (TypeError, ValueError):
        return str(v)[:40]


def _relation(node: tuple) -> tuple[str, sympy.Expr]:
    """A single relation as (op, f) meaning `f op 0`, with op in =, !=, >, >=."""
    ops, exprs = node[1], node[2]
    if len(ops) != 1:
        raise ValueError("chained relation")
    (op,), (l, r) = ops, exprs
    L, R = to_sympy(l), to_sympy(r)
    if op in ("<", "<="):
        return {"<": ">", "<=": ">="}[op], R - L
    return op, L - R


def rel_eq(g: tuple, p: tuple) -> tuple[bool, str]:
    """Two relations: same kind and proportional sides (positive factor for inequalities)."""
    try:
        og, fg = _relation(g)
        op, fp = _relation(p)
    except ValueError:
        return False, "relations of different shapes"
    if og != op:
        return False, f"different relations ({og} vs {op})"
    if sympy.expand(fg - fp) == 0:
        return True, "equivalent relations"
    if og in ("=", "!=") and sympy.expand(fg + fp) == 0:
        return True, "equivalent relations"
    free = sorted(fg.free_symbols | fp.free_symbols, key=lambda s: s.name)
    exact = _rational_proportion(fg, fp, free)
    if exact is not None:
        if exact != 0 and (og in ("=", "!=") or exact > 0):
            return True, "equivalent relations (proportional)"
        return False, "different relations"
    strict = fg.has(sympy.Abs) or fp.has(sympy.Abs)
    g_dom, p_dom = _restricted(fg), _restricted(fp)
    ratios = []
    points = _points(free)
    for pt in points + _kink_points(fg, fp, free):  # (beyond a bend too: `y = |x-50|` is not `y = 50-x`)
        a, b = _value_at(fg, pt), _value_at(fp, pt)
        # (where a side leaves the reals, as in `sympy_eq`; beside a bend both must stay within them)
        if a is None or b is None or abs(b) < 1e-12 or not _counts(g_dom, p_dom, strict and pt in points, pt):
            continue
        ratios.append(a / b)
    if len(ratios) >= 3 and all(abs(r - ratios[0]) <= 1e-9 * max(1, abs(ratios[0])) for r in ratios) \
            and abs(ratios[0]) > 1e-12 and (og in ("=", "!=") or ratios[0].real > 0):
        return True, "equivalent relations (proportional)"
    return False, "different relations"


def _rational_proportion(fg: sympy.Expr, fp: sympy.Expr, free: list[sympy.Symbol]) -> sympy.Rational | None:
    """For two polynomials in the variables with rational coefficients (`x - 1`, `2x - 2 -
    10^{-30}`), decided exactly: the factor c with fg = c·fp, or 0 when there is none. None when
    either is not such a polynomial (sampling decides; its tolerance would take `x - 1 > 0` and
    `x - 1 - 10^{-30} > 0` for one relation)."""
    if not free:
        return None
    terms = []
    for f in (fg, fp):
        e = sympy.expand(f)
        if not e.is_polynomial(*free):
            return None
        try:
            t = dict(sympy.Poly(e, *free).terms())
        except sympy.PolynomialError:
            return None
        if not t or not all(c.is_Rational for c in t.values()):
            return None
        terms.append(t)
    g, p = terms
    if g.keys() != p.keys():
        return sympy.Integer(0)
    ratios = {g[m] / p[m] for m in g}
    return ratios.pop() if len(ratios) == 1 else sympy.Integer(0)


def _check_evaluable(node: tuple) -> None:
    """Raise if some value inside `node` (see `math_compare.value_nodes`) cannot be turned into a
    sympy expression."""
    for value in value_nodes(node):
        to_sympy(value)


def _evaluate_alone(node: tuple) -> None:
    """Do to one value on its own what `sympy_eq` does to each side of a comparison: build it in
    sympy; without variables, evaluate it to 30 digits as `_numeric_eq` does (unless it is infinite
    or undefined, which `_numeric_eq` does not evaluate); with variables, expand it (as the
    difference is expanded) and evaluate it at the sample points of its own variables (as
    `_sampled_eq` does). Only the time it takes, or what it raises, counts: the values are dropped.
    Not done: `simplify`, which runs on a difference only when sampling cannot decide, and whose
    cost on one side alone says little about its cost on the difference."""
    value = to_sympy(node)
    if value.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
        return
    free = sorted(value.free_symbols, key=lambda s: s.name)
    if not free:
        _finite_number(value.evalf(30))
        return
    sympy.expand(value)
    for pt in _points(free):
        _value_at(value, pt)


def check_gold(gold: str) -> str | None:
    """Worker entry point: the normalised gold answer alone, put through what `compare_normalized`
    does to it in any comparison (parse, prepare, then every value built and evaluated: see
    `_evaluate_alone`). `rlvr.verifiers.math` runs it under its own time limit when a comparison
    ran past its time or size limit, to tell a slow gold (answers time out against it: the
    verifier's failure) from a pathological answer (the model's).

    Returns None when the gold passes; otherwise why not (what it raised, recursion and float
    range limits included). Running out of the worker's memory propagates, so the pool replaces
    the worker and reports it as such, as does running past the caller's time limit.
    """
    try:
        for value in value_nodes(prepare(parse(gold))):
            _evaluate_alone(value)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the gold alone raises is the gold's problem
        return f"{type(exc).__name__}: {exc}"[:200]
    return None


def compare_normalized(gold: str, pred: str, claim: str | None = None) -> tuple[bool, str, str]:
    """Worker entry point: parse both normalised answers and compare them with sympy; a prediction
    equal in value but not evaluated is wrong (`require_evaluated`) unless `claim` is "claim" (the
    sides of a claim in `verify_steps`, where `10 = \\binom{5}{2}` is work shown).

    Returns (equal, kind, reason), plain values so they cross the process boundary cheaply. A
    prediction that cannot be parsed, or whose comparison fails although the gold compares with
    itself, is the answer's fault (kind "unparsable": model output is never an infrastructure
    failure). Any other exception propagates, and the caller reports it as a failure of
    verification, not as a wrong answer.
    """
    g_tree = prepare(parse(gold))
    try:
        p_tree = prepare(parse(pred))
    except (ParseError, RecursionError) as exc:
        return False, "unparsable", f"unparsable prediction: {str(exc)[:200]}"
    except Exception as exc:  # noqa: BLE001 - the gold parsed: whatever else fails here is the prediction's
        return False, "unparsable", f"unparsable prediction: cannot be read ({type(exc).__name__})"
    try:
        out: Outcome = compare(g_tree, p_tree, sympy_eq, rel_eq)
    except (RecursionError, OverflowError, MemoryError):
        raise  # size limits: the caller reports them as such
    except Exception as exc:
        _check_evaluable(g_tree)  # raises if the gold (or our code) is at fault
        if isinstance(exc, NotAValue):
            return False, "unparsable", f"prediction cannot be evaluated: {exc}"
        return False, "unparsable", f"prediction cannot be evaluated ({type(exc).__name__}: {str(exc)[:160]})"
    if claim != "claim":
        out = require_evaluated(out, g_tree, p_tree)
    return bool(out.equal), out.kind, out.reason
