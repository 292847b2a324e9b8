"""Finding the final answer in a model's text, for the procedural environments' own verifiers.

Chat-style prompts ask for the answer inside `<answer>...</answer>`; the outcome check is lenient
(it also takes a `\\boxed{...}` or the last line, and a tag holding only a `\\boxed{...}` gives the
box's content), while the `format` reward part credits only the requested tags. An `<answer>`
mentioned in the prose before the answer's own tag is not part of it (`tagged_answers`). Compact
prompts (for tiny character-level models) take the first non-blank line of the output as the answer.
"""

from __future__ import annotations

import re
from fractions import Fraction

_OPEN_TAG = re.compile(r"<answer>", re.IGNORECASE)
_CLOSE_TAG = re.compile(r"</answer>", re.IGNORECASE)
#: A decimal number; the exponent has at most 3 digits, since `Fraction("1e99999999999")` would
#: compute 10**99999999999 in this process (an answer is never a number that size).
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?$")
#: A number written with thousands separators ("1,000", "-12,345.5"): the only commas removed.
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_SPACE = re.compile(r"\s+")
_NON_SPACE = re.compile(r"\S")
_DIGIT_OR_POINT = frozenset("0123456789.")
#: Longest answer `parse_number` reads (after the variable and spaces are removed). Exponents have
#: at most 3 digits and Python reads ints of up to 4300 digits, so this bounds the work; it is well
#: above any gold the procedural generators make (Arithmetic: at most 8 factors of 12 digits).
MAX_NUMBER_CHARS = 4096
#: Version of the answer-reading rules (`final_answer`, `parse_number`), in the fingerprint of the
#: procedural envs that score with them: bump it whenever a change can turn a verdict (1: no key;
#: 2: the typeset minus "−5" and a trailing comma "10," are read; 3: an `<answer>` mentioned before
#: the answer's own tag is skipped, a tag holding only `\boxed{14}` answers 14, compact answers
#: skip whitespace-only lines, and Countdown reads "13 = 8 + 5", "8 + 5 == 13", "8 + 5." and
#: refuses "#" comments).
RULES_VERSION = 3


def tagged_answers(text: str) -> list[str]:
    """Contents of every complete `<answer>...</answer>` in `text`, in order (tags in any case).

    A complete pair is a closing tag and the last opening tag before it, with no other tag between
    them: an `<answer>` mentioned in the prose earlier ("I will put the result in <answer> tags.")
    is not part of the answer, as it is not for the math verifier (`verifiers.math_extract`). The
    scan goes on after each closing tag.

    The scan is linear: each opening tag is passed once (a later one before the same closing tag
    replaces it), and an opening tag without a closing one after it ends the scan, since no later
    one can have one either. (A non-greedy regex retried from every `<answer>` to the end of an
    unclosed text was quadratic: 5 s for 64 KB of `<answer>`.)
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
        while (later := _OPEN_TAG.search(text, opening.end(), closing.start())) is not None:
            opening = later
        found.append(text[opening.end():closing.start()].strip())
        pos = closing.end()


def last_boxed(text: str) -> str | None:
    """Contents of the last `\\boxed{...}` (braces matched, see `_closing_brace`), or None. The
    usual case, a box without braces inside, takes two `str.find` calls (half a regex match's cost:
    a format reward checks this once per step)."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    begin = start + 7  # len("\\boxed{")
    close = text.find("}", begin)
    if close >= 0 and text.find("{", begin, close) >= 0:  # braces inside
        close = _closing_brace(text, begin)
    return None if close is None or close < 0 else text[begin:close].strip()


def _closing_brace(text: str, begin: int) -> int | None:
    """The index of the "}" that closes a brace opened just before `begin`, or None.

    Walks from closing brace to closing brace with `str.find`/`str.count` rather than character by
    character: the depth can only fall to 0 at a "}", and the "{" between two of them say how far
    it rose (a format reward checks this once per step).
    """
    pos = begin
    depth = 1
    while True:
        close = text.find("}", pos)
        if close < 0:
            return None
        depth += text.count("{", pos, close) - 1
        if depth == 0:
            return close
        pos = close + 1


def _unboxed(answer: str) -> str:
    """The content of an answer that is one `\\boxed{...}` and nothing else (`$` around it
    allowed), else the answer as it is: `<answer>\\boxed{14}</answer>` answers 14, as a bare
    `\\boxed{14}` does. Anything besides the box ("7 or \\boxed{8}") leaves the answer as it is."""
    inner = answer.strip("$ \t\r\n")
    if not inner.startswith("\\boxed{") or not inner.endswith("}"):
        return answer
    begin = len("\\boxed{")
    return inner[begin:-1].strip() if _closing_brace(inner, begin) == len(inner) - 1 else answer


def final_answer(text: str, *, compact: bool) -> str | None:
    """The model's final answer, stripped, or None when there is none.

    Compact: the first line that is not blank (whitespace-only lines before it are skipped).
    Chat: the last complete `<answer>` tag's content (`tagged_answers`; the box's content when
    it holds only a `\\boxed{}`), else the last `\\boxed{}`, else the last non-blank line.
    """
    if compact:
        first = _NON_SPACE.search(text)  # found in C: no Python loop over a text of blank lines
        if first is None:
            return None
        end = text.find("\n", first.start())
        return text[first.start():end if end >= 0 else len(text)].strip()
    tags = tagged_answers(text)
    if tags:
        return _unboxed(tags[-1])
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
