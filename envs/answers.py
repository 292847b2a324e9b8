"""Finding the final answer in a model's text, for the procedural environments' own verifiers.

Chat-style prompts ask for the answer inside `<answer>...</answer>`; the outcome check is lenient
(it also takes a `\\boxed{...}` or the last line), while the `format` reward part credits only
the requested tags. Compact prompts (for tiny character-level models) take the first line of the
output as the answer.
"""

from __future__ import annotations

import re
from fractions import Fraction

_OPEN_TAG = re.compile(r"<answer>", re.IGNORECASE)
_CLOSE_TAG = re.compile(r"</answer>", re.IGNORECASE)
_FLAT_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")  # a \boxed{} with no braces inside
#: A decimal number; the exponent has at most 3 digits, since `Fraction("1e99999999999")` would
#: compute 10**99999999999 in this process (an answer is never a number that size).
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?$")
#: A number written with thousands separators ("1,000", "-12,345.5"): the only commas removed.
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_SPACE = re.compile(r"\s+")
_DIGIT_OR_POINT = frozenset("0123456789.")
#: Longest answer `parse_number` reads (after the variable and spaces are removed). Exponents have
#: at most 3 digits and Python reads ints of up to 4300 digits, so this bounds the work; it is well
#: above any gold the procedural generators make (Arithmetic: at most 8 factors of 12 digits).
MAX_NUMBER_CHARS = 4096
#: Version of the answer-reading rules (`final_answer`, `parse_number`), in the fingerprint of the
#: procedural envs that score with them: bump it whenever a change can turn a verdict (1: no key;
#: 2: the typeset minus "−5" and a trailing comma "10," are read).
RULES_VERSION = 2


def tagged_answers(text: str) -> list[str]:
    """Contents of every `<answer>...</answer>` in `text`, in order (tags in any case).

    Each `<answer>` is paired with the first `</answer>` after it, and the scan goes on after that
    closing tag, as a non-greedy `<answer>(.*?)</answer>` regex pairs them. The scan is linear: such
    a regex retried from every `<answer>` to the end of an unclosed text (quadratic: 5 s for 64 KB
    of `<answer>`), while here an opening tag without a closing one after it ends the scan, since
    no later one can have one either.
    """
    found = []
    pos = 0
    while True:
        opening = _OPEN_TAG.search(text, pos)
        if opening is None:
            return found
        closing = _CLOSE_TAG.search(text, opening.end())
        if closing is None:
            return found
        found.append(text[opening.end():closing.start()].strip())
        pos = closing.end()


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
    """Parse "19", "-3", "2.5", ".5", "7/2", "1,000", "x = 5" (with `variable="x"`) exactly.

    None if the text is not one number. Lenient only where the reading is unambiguous: `$` signs, the
    typeset minus sign ("−5"), a sentence's final period or comma ("5.", "10,"), spaces around signs,
    "=" and "/", and commas that are thousands separators. "1,2", "12,34", "1,0000" and "1 2" are not
    numbers (not 12), and ".5" is a half (not 5).
    """
    if text is None:
        return None
    s = text.replace("$", "").replace("\u2212", "-").strip()  # U+2212 is the typeset minus sign
    if s.endswith((".", ",")):  # sentence punctuation after the number
        s = s[:-1].rstrip()
    s = _SPACE.sub(_loose_space, s)
    if variable and s.lower().startswith(variable.lower() + "="):
        s = s[len(variable) + 1:]
    if len(s) > MAX_NUMBER_CHARS or not s:
        return None
    num, slash, den = s.partition("/")
    value = _exact(num)
    if not slash or value is None:
        return value
    divisor = _exact(den)
    return None if divisor is None or divisor == 0 else value / divisor


def _loose_space(match: re.Match[str]) -> str:
    """A whitespace run of `parse_number`'s text, removed ("x = 5", "10 / 2", "- 3") unless it
    separates digits ("1 2", "1 .5"): kept, such text is not read as one number."""
    text, start, end = match.string, match.start(), match.end()
    inside = start > 0 and end < len(text) and text[start - 1] in _DIGIT_OR_POINT and text[end] in _DIGIT_OR_POINT
    return " " if inside else ""


def _exact(s: str) -> Fraction | None:
    """`s` as an exact number (thousands separators allowed), or None when it is not one."""
    if "," in s:
        if not _THOUSANDS.match(s):
            return None
        s = s.replace(",", "")
    if not _NUMBER.match(s):
        return None
    try:
        return Fraction(s)
    except ValueError:  # an int longer than Python reads (cannot happen within MAX_NUMBER_CHARS)
        return None
