"""Safe parsing and exact evaluation of small arithmetic expressions (never `eval`).

Used by Countdown's verifier: the model's expression is parsed with `ast` and walked; only
non-negative integer literals, parentheses and the four operators are allowed, and evaluation is
exact (`Fraction`), so `7/2*2` is exactly 7 and no float rounding can make a wrong answer right.

The typeset operators are read as theirs (`×`, `·`, `⋅`, `∗`, `\\times`, `\\cdot`: `*`; `÷`,
`\\div`: `/`; `−` and the en dash `–`: `-`; `\\left(`, `\\right)`: parentheses; `EXPR_RULES_VERSION`).
Only the characters of such an expression then reach `ast.parse` (ASCII digits, `+ - * /`,
parentheses and spaces): a `#` would start a Python comment that hides the rest of the answer
("8 + 5 #\n- 6" read as 8 + 5), and model text such as "8+5if 1 else 2" made the parser print a
SyntaxWarning to stderr (or fail differently under `-W error`). These characters cannot give either.
"""

from __future__ import annotations

import ast
import re
from fractions import Fraction

#: Longest expression accepted (keeps parsing and evaluation bounded).
MAX_EXPRESSION_CHARS = 256

_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
#: Every character an expression may hold once its whitespace runs are single spaces.
_ALLOWED_CHARS = frozenset("0123456789+-*/() ")
#: Version of how expressions are read, recorded in Countdown's verifier fingerprint (`expr_rules`),
#: so results under two readings are not mixed. 2: the en dash "–" is a minus sign (as
#: `answers.parse_number` reads it since answer rules 7: "8 – 3" was refused while "–5" was -5),
#: and the asterisk operator "∗" (U+2217) a times sign.
EXPR_RULES_VERSION = 2
#: Typeset spellings of the operators and parentheses, and the ASCII each stands for.
_TYPESET = {"×": "*", "·": "*", "⋅": "*", "∗": "*", "\\times": "*", "\\cdot": "*", "÷": "/", "\\div": "/",
            "−": "-", "–": "-", "\\left(": "(", "\\right)": ")"}
_TYPESET_RE = re.compile(r"\\(?:times|cdot|div)(?![A-Za-z])|\\left\(|\\right\)|[×·⋅∗÷−–]")


class ExprError(ValueError):
    """The expression is not a valid answer; the message says why (shown to the model/logs)."""


def plain_operators(text: str) -> str:
    """`text` with its typeset operators written plainly (`×` and `\\cdot` as `*`, `÷` as `/`, `−` as `-`)."""
    return _TYPESET_RE.sub(lambda m: _TYPESET[m.group()], text)


def evaluate(text: str, allowed_ops: str = "+-*/") -> tuple[Fraction, list[int]]:
    """Parse and evaluate `text`; return (exact value, integer literals used, in order).

    Raises ExprError for anything that is not an arithmetic expression over non-negative integer
    literals with the allowed operators, and for division by zero. Line breaks and other
    whitespace count as spaces; any character but digits, `+ - * /` (or their typeset forms, see
    the module docstring), parentheses and whitespace is refused before parsing.
    """
    # whitespace runs joined: an expression broken over lines ("6 -\n1") is one expression
    text = plain_operators(" ".join(text.split()))
    if not text:
        raise ExprError("empty expression")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExprError(f"expression longer than {MAX_EXPRESSION_CHARS} characters")
    bad = next((char for char in text if char not in _ALLOWED_CHARS), None)
    if bad is not None:
        raise ExprError(f"{bad!r} is not allowed: only whole numbers, the operators {' '.join(allowed_ops)} "
                        "and parentheses may appear")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ExprError(f"not a valid expression ({type(exc).__name__})") from None
    numbers: list[int] = []

    def walk(node: ast.AST, depth: int) -> Fraction:
        if depth > 100:
            raise ExprError("expression nested too deeply")
        if isinstance(node, ast.Constant):
            if type(node.value) is not int:
                raise ExprError(f"only whole numbers are allowed, found {node.value!r}")
            numbers.append(node.value)
            return Fraction(node.value)
        if isinstance(node, ast.BinOp):
            symbol = _OPS.get(type(node.op))
            if symbol is None or symbol not in allowed_ops:
                raise ExprError(f"operator {type(node.op).__name__} is not allowed (allowed: {' '.join(allowed_ops)})")
            left = walk(node.left, depth + 1)
            right = walk(node.right, depth + 1)
            if symbol == "+":
                return left + right
            if symbol == "-":
                return left - right
            if symbol == "*":
                return left * right
            if right == 0:
                raise ExprError("division by zero")
            return left / right
        if isinstance(node, ast.UnaryOp):
            raise ExprError("unary signs are not allowed (use the given numbers as they are)")
        raise ExprError(f"{type(node).__name__} is not allowed in an arithmetic expression")

    try:
        value = walk(tree.body, 0)
    except RecursionError:
        raise ExprError("expression nested too deeply") from None
    return value, numbers
