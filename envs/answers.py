"""Finding the final answer in a model's text, for the procedural environments' own verifiers.

Chat-style prompts ask for the answer inside `<answer>...</answer>`; the outcome check is lenient
(it also takes a `\\boxed{...}` or the last line), while the `format` reward part credits only
the requested tags. Compact prompts (for tiny character-level models) take the first line of the
output as the answer.
"""

from __future__ import annotations

import re
from fractions import Fraction

_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
_FLAT_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")  # a \boxed{} with no braces inside
#: A decimal number; the exponent has at most 3 digits, since `Fraction("1e99999999999")` would
#: compute 10**99999999999 in this process (an answer is never a number that size).
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?$")


def tagged_answers(text: str) -> list[str]:
    """Contents of every `<answer>...</answer>` in `text`, in order."""
    return [m.strip() for m in _ANSWER_TAG.findall(text)]


def last_boxed(text: str) -> str | None:
    """Contents of the last `\\boxed{...}` (braces matched), or None.

    Walks from closing brace to closing brace with `str.find`/`str.count` rather than character by
    character: the depth can only fall to 0 at a "}", and the "{" between two of them say how far
    it rose (a format reward checks this once per step). One regex match takes the usual case, a
    box without braces inside.
    """
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    flat = _FLAT_BOXED.match(text, start)
    if flat is not None:
        return flat[1].strip()
    begin = pos = start + len("\\boxed{")
    depth = 1
    while True:
        close = text.find("}", pos)
        if close < 0:
            return None
        depth += text.count("{", pos, close) - 1
        if depth == 0:
            return text[begin:close].strip()
        pos = close + 1


def final_answer(text: str, *, compact: bool) -> str | None:
    """The model's final answer: first line (compact), else tags, `\\boxed{}`, last line."""
    if compact:
        line = text.strip("\n").split("\n", 1)[0].strip() if text.strip() else ""
        return line or None
    tags = tagged_answers(text)
    if tags:
        return tags[-1]
    boxed = last_boxed(text)
    if boxed is not None:
        return boxed
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else None


def follows_tag_format(text: str) -> bool:
    """True when the text holds exactly one non-empty `<answer>...</answer>`."""
    tags = tagged_answers(text)
    return len(tags) == 1 and bool(tags[0])


def parse_number(text: str | None, *, variable: str | None = None) -> Fraction | None:
    """Parse "19", "-3", "2.5", "7/2", "x = 5" (with `variable="x"`) exactly; None if not a number."""
    if text is None:
        return None
    s = text.strip().strip(".").replace(",", "").replace(" ", "").replace("$", "")
    if variable and s.lower().startswith(variable.lower() + "="):
        s = s[len(variable) + 1:]
    if len(s) > 64 or not s:
        return None
    try:
        if "/" in s:
            num, den = s.split("/", 1)
            if not (_NUMBER.match(num) and _NUMBER.match(den)):
                return None
            return Fraction(num) / Fraction(den)
        if not _NUMBER.match(s):
            return None
        return Fraction(s)
    except (ValueError, ZeroDivisionError):
        return None
