"""Congruences in the claims of a worked solution (`rlvr.verifiers.steps`): `81 = 1 \\pmod{5}` holds,
though 81 is not 1.

A claim whose right side ends with a modulus note is checked as a congruence when both sides and the
modulus are integers (`congruence`, `check_congruence`). A side too large to build (`7^{2023}`) is
known by its remainder, worked out with `pow(a, e, n)`; the modulus is at most 2^64 - 1 and the
exponent bits of one solution's powers together are bounded (`_MAX_POWER_BITS`), so no solution can
make the check slow. Each side is worked out once per solution (`solution_work`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from rlvr.verifiers.math_compare import exact_value, has_symbols
from rlvr.verifiers.math_parse import parse
from rlvr.verifiers.step_numbers import exact_integer, strict_percent
from rlvr.verifiers.verdict import Verdict

#: A modulus note (`\\pmod{5}`, `\\bmod`, `\\mod`, `(\\mathrm{mod}\\ 7)`, `\\text{mod}`): the side it is on states
#: a congruence, not an equality (`81 = 1 \\pmod{5}` holds, though 81 is not 1).
MOD_NOTE_RE = re.compile(r"\\[pb]?mod(?![A-Za-z])|(?<![A-Za-z])mod(?:ulo)?(?![A-Za-z])", re.IGNORECASE)
#: A modulus note ending a side, with its modulus (in one of the groups): `\\pmod{5}`, `\\pmod 5`,
#: `\\mod 7`, `(\\mathrm{mod}\\ 7)`, `(\\text{mod } 7)`, `(mod 7)`. (`\\bmod` alone is the operation.)
_MOD_TAIL_RE = re.compile(
    r"(?:\\pmod|\\mod(?![A-Za-z]))\s*+(?:\{((?:[^{}]|\{[^{}]{0,20}\}){1,40})\}|(\d{1,40}))\s*$"
    r"|\(\s*+(?:\\(?:text|mathrm|operatorname|rm)\s*+\{\s*+mod\s*+\}|\\b?mod(?![A-Za-z])|mod(?![A-Za-z]))"
    r"\s*+(?:\{([^{}]{1,40})\}|([^(){}]{1,40}))\)\s*$")

#: The largest modulus a congruence is checked with: a remainder is then a machine word, so a power
#: with a long exponent (`5^{7^{1365}}`) costs a few thousand word products, not big-number ones.
_MAX_MODULUS = 2**64 - 1
#: The exponent bits all the powers of one solution's congruences may take together (`_residue`):
#: about a third of a second of `pow`; a congruence met after they are spent makes no claim.
_MAX_POWER_BITS = 2_000_000


class _Work:
    """The congruence work of one solution: each side worked out so far, by (text, modulus), so that a
    side repeated over many lines or read again is worked out once, and the exponent bits its powers
    may still take (`_MAX_POWER_BITS`)."""

    __slots__ = ("sides", "bits_left")

    def __init__(self) -> None:
        self.sides: dict[tuple[str, int], tuple[int, object] | None] = {}
        self.bits_left = _MAX_POWER_BITS


#: The work of the solution being read (set by `solution_work`); None outside one.
_WORK: ContextVar[_Work | None] = ContextVar("rlvr_steps_congruence_work", default=None)


@contextmanager
def solution_work() -> Iterator[None]:
    """The congruence work of one solution (`verify_steps`, `find_claims`): within it, sides are worked
    out once and all powers share one exponent-bit budget."""
    token = _WORK.set(_Work())
    try:
        yield
    finally:
        _WORK.reset(token)


def _residue(node: object, modulus: int, work: _Work) -> int | None:
    """The remainder modulo `modulus` of an integer expression's tree built from integer literals,
    `+`, `-`, products and powers with an exponent that is a non-negative integer evaluated exactly
    (`7^{2023}`, `2^{3^{5}}`): powers are taken with `pow(a, e, n)`, so a huge value is never built.
    None for anything else (a fraction, a decimal, a variable, a function, an exponent too large to
    evaluate exactly, as `2^{10^{10^{3}}}`, or a power whose exponent bits `work` no longer has)."""
    if not isinstance(node, tuple) or not node:
        return None
    kind, args = node[0], node[1:]
    if kind == "num":
        text = str(node[1])
        return int(text) % modulus if text.isdigit() and len(text) <= 4000 else None
    values = [_residue(arg, modulus, work) for arg in args] if kind in ("neg", "add", "sub", "mul") else None
    if values is not None:
        if len(values) != (1 if kind == "neg" else 2) or None in values:
            return None
        a = values[0]
        if kind == "neg":
            return -a % modulus
        b = values[1]
        return (a + b if kind == "add" else a - b if kind == "sub" else a * b) % modulus
    if kind == "pow" and len(args) == 2:
        base = _residue(args[0], modulus, work)
        try:
            exponent = None if has_symbols(args[1]) else exact_value(args[1])
        except Exception:  # noqa: BLE001 - an exponent too large to evaluate: no claim
            return None
        if base is None or exponent is None or exponent.denominator != 1 or exponent < 0:
            return None
        work.bits_left -= int(exponent).bit_length()
        return None if work.bits_left < 0 else pow(base, int(exponent), modulus)
    return None


def _side(text: str, modulus: int) -> tuple[int, object] | None:
    """A congruence's side: its value and what identifies it (`verify_steps`): the integer itself when
    it is evaluated exactly (`exact_integer`), else its remainder modulo `modulus` (`_residue`: a power
    too large to build, `7^{2023}`) and its normalised text. None when it is no integer expression.
    Worked out once per solution (`solution_work`)."""
    work = _WORK.get() or _Work()
    key = (text, modulus)
    if key not in work.sides:
        work.sides[key] = _work_out_side(text, modulus, work)
    return work.sides[key]


def _work_out_side(text: str, modulus: int, work: _Work) -> tuple[int, object] | None:
    """`_side`, uncached (the side is parsed once); `work` pays for its powers."""
    normal = strict_percent(text)
    if normal is None or not normal.strip():
        return None
    try:
        tree = parse(normal)
        if has_symbols(tree):
            return None
    except Exception:  # noqa: BLE001 - not a plain integer expression: no congruence
        return None
    try:
        exact = exact_value(tree)
    except Exception:  # noqa: BLE001 - too large to evaluate exactly: by its remainder below
        exact = None
    if exact is not None:  # (as `exact_integer`)
        return (int(exact), int(exact)) if exact.denominator == 1 else None
    try:
        value = _residue(tree, modulus, work)
    except Exception:  # noqa: BLE001 - not a plain integer expression: no congruence
        return None
    return None if value is None else (value, ("text", re.sub(r"\s+", "", normal)))


def congruence(left: str, right: str) -> tuple[int, int, int, object, object] | None:
    """`(a, b, n, key_a, key_b)` for a claim whose right side ends with a modulus note (`_MOD_TAIL_RE`)
    when both sides and the modulus are integers (`a = b \\pmod{n}`, 2 <= n < 2^64), each side known by
    `_side` (a side too large to evaluate, `7^{2023}`, by its remainder); None otherwise (a larger
    modulus, `3^{2000} - 2`, makes no claim)."""
    m = _MOD_TAIL_RE.search(right)
    if m is None or MOD_NOTE_RE.search(left) or MOD_NOTE_RE.search(right[:m.start()]):
        return None
    modulus = exact_integer(next(g for g in m.groups() if g is not None))
    if modulus is None or not 2 <= modulus <= _MAX_MODULUS:
        # modulo 1 every two integers are congruent (`2 + 2 = 5 \\pmod{1}` would earn credit for a false
        # sum); a modulus such as `3^{2000} - 2` would make each power a long big-number job
        return None
    a, b = _side(left, modulus), _side(right[:m.start()], modulus)
    if a is None or b is None:
        return None
    return a[0], b[0], modulus, a[1], b[1]


def check_congruence(a: int, b: int, modulus: int) -> Verdict:
    """The verdict on a congruence `a = b (mod modulus)` between integers (`congruence`)."""
    if (a - b) % modulus == 0:
        return Verdict.right(f"congruent modulo {modulus}")
    return Verdict.wrong(f"not congruent modulo {modulus}: the sides leave remainders {a % modulus} and {b % modulus}",
                         details={"kind": "wrong"})
