"""The steps of a worked solution (`rlvr.verifiers.steps`): its text cut into lines and sentences.

A step is a sentence of a non-empty line: a line is cut after `.`, `!` or `?` and spaces, before a
capital, `\\` or `$`, but not within maths (`$…$`, `\\(…\\)`), after a factorial before `\\` (`3! \\cdot
2`), nor at a decimal cut off with "..." or at the terms an expression leaves out (`1 + 2 + ... \\cdot`).
Only the first `MAX_STEPS` lines and `MAX_SENTENCES` steps of each part of a solution are read, so that
the work on one solution is bounded. Also here: the maths pieces of a step (`_math_pieces`) and the
text without thousands separators (`_without_thousands`), which every later reading of a step uses.
Split out of `steps.py` so that what a step is can be read apart from what it claims.
"""

from __future__ import annotations

import re
from collections.abc import Sequence


#: Lines read per solution; steps on later lines that state an equality fail unread (see `steps`'
#: module docstring).
MAX_STEPS = 200
#: Steps (sentences) read per solution at most, whatever its lines: bounds the work on few long lines.
MAX_SENTENCES = 4 * MAX_STEPS

#: Where a sentence ends within a line: after ".", "!" or "?" and spaces, before a capital, "\\" or "$".
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\\$])")
_THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
#: The arguments of a function call (`\\max(3,100)`, `\\gcd(12, 180)`, `f(1,000)`): a comma there
#: separates arguments, never thousands.
_CALL_ARGS_RE = re.compile(r"(?:\\[A-Za-z]+|\b[A-Za-z]+)\s*\(([^()]*)\)")


def _lines(text: str) -> list[tuple[int, str]]:
    """All steps of a solution (no cap), each with the number of its line (from 0): the sentences
    of each of its lines, in order, so that a line more or less above them ("Solution:") does not
    change how a paragraph is scored."""
    return [(number, s.strip()) for number, line in enumerate(text.splitlines())
            for s in _sentences(line) if s.strip()]


def _sentences(line: str) -> list[str]:
    """`line` cut into sentences (`_SENTENCE_END_RE`), except within maths (`$…$`, `\\(…\\)`)
    and after a factorial (`3! \\cdot 2 = 12`, where `!` ends no sentence)."""
    cuts = []
    for match in _SENTENCE_END_RE.finditer(line):
        mark = match.start() - 1  # the `.`, `!` or `?`
        if line[mark] == "!" and mark and (line[mark - 1].isdigit() or line[mark - 1] in ")}") \
                and line[match.end()] == "\\":
            continue
        if line[match.end()] == "\\" and _ellipsis_kept(line, match.start() - 3):
            continue  # `6.666... \\text{ m}`, `6.666... \\approx 6.67`: a decimal cut off, not a sentence's end
        if line[mark] == "." and _ellipsis_in_expression(line, mark - 2):
            continue  # `1 + 2 + ... \\cdot`: the terms left out of an expression, not a sentence's end
        cuts.append(match)
    if not cuts:
        return [line]
    spans = iter(_maths_spans(line))  # (in order, as the cuts are: one pass over both)
    span = next(spans, None)
    pieces, start = [], 0
    for match in cuts:
        while span is not None and span[1] <= match.start():
            span = next(spans, None)
        if span is None or match.start() <= span[0]:  # not within maths
            pieces.append(line[start:match.start()])
            start = match.end()
    return pieces + [line[start:]]


_MATHS_DELIMITER_RE = re.compile(r"\\[()]|(?<!\\)\$\$?")


def _maths_spans(line: str) -> list[tuple[int, int]]:
    """Where `line`'s maths is, in order: from a `$` (or `$$`) to the next one, or `\\(` to `\\)`."""
    spans, opened = [], None
    for match in _MATHS_DELIMITER_RE.finditer(line):
        token = match.group()
        if opened is None:
            if token != "\\)":
                opened = (match.start(), "\\)" if token == "\\(" else token)
        elif token == opened[1]:
            spans.append((opened[0], match.end()))
            opened = None
    return spans


def _read(steps: list[tuple[int, str]]) -> list[bool]:
    """For each step, whether it is read: it is on one of the first `MAX_STEPS` lines and among the
    first `MAX_SENTENCES` steps."""
    return [number < MAX_STEPS and index < MAX_SENTENCES for index, (number, _) in enumerate(steps)]


def _parts(solution: str | Sequence[str]) -> list[str]:
    """`verify_steps`'s solution as its list of parts: a text is one part, a list or tuple of texts
    is its parts; anything else (not model text) is no part."""
    if isinstance(solution, str):
        return [solution]
    if isinstance(solution, (list, tuple)) and all(isinstance(part, str) for part in solution):
        return list(solution)
    return []


def _parts_steps(parts: list[str]) -> list[tuple[str, bool, bool, int]]:
    """Every step of every part, in order, each with whether it is read (`_read`, within its own
    part: the lines and sentences are counted from the start of each part), whether it is its
    part's first (where no chain of an earlier part goes on), and the number of its line."""
    out: list[tuple[str, bool, bool, int]] = []
    for part in parts:
        steps = _lines(part)
        out += [(step, read, i == 0, number) for i, ((number, step), read) in enumerate(zip(steps, _read(steps)))]
    return out


def split_steps(text: str) -> list[str]:
    """Steps of a solution that are read: the sentences of its first `MAX_STEPS` lines, at most
    `MAX_SENTENCES` of them."""
    steps = _lines(text)
    return [step for (_, step), read in zip(steps, _read(steps)) if read]


_OPENERS = {"$$": r"\$\$", "\\(": r"\\\(", "\\[": r"\\\[", "$": r"(?<!\\)\$(?=[^\s$])"}
_CLOSERS = {"$$": re.compile(r"\$\$"), "\\(": re.compile(r"\\\)"), "\\[": re.compile(r"\\\]"),
            "$": re.compile(r"(?<=[^\s\\])\$(?!\d)")}
_ANY_OPENER_RE = re.compile("|".join(_OPENERS.values()))


def _math_pieces(step: str) -> list[str]:
    """`step` cut at its maths delimiters: the maths segments and the text between them, in order.

    `$` follows Markdown/pandoc: an opening `$` is followed by a non-space, a closing one follows a
    non-space and is not followed by a digit, so "$20 and $30" is money, not maths."""
    pieces: list[str] = []
    kinds = list(_OPENERS)
    openers = _ANY_OPENER_RE  # narrowed when an opener of some kind is never closed
    start = search = 0
    while kinds:
        m = openers.search(step, search)
        if m is None:
            break
        c = _CLOSERS[m.group()].search(step, m.end())
        if c is None:  # nothing closes it, nor any later opener of its kind: one linear pass in all
            kinds.remove(m.group())
            openers = re.compile("|".join(_OPENERS[k] for k in kinds)) if kinds else openers
            search = m.start() + 1
            continue
        pieces += [step[start:m.start()], step[m.end():c.start()]]
        start = search = c.end()
    pieces.append(step[start:])
    return pieces


_DECIMAL_END_RE = re.compile(r"(?<![\d.])\d*\.\d+$")


def _ellipsis_kept(s: str, end: int) -> int:
    """3 when the dots stripped from `s` at `end` start with "..." right after a decimal: a decimal cut
    off (`6.666...`, see `step_numbers.cut_decimal`), whose ellipsis is part of the number, not the
    end of a sentence; else 0."""
    return 3 if s.startswith("...", end) and _DECIMAL_END_RE.search(s, max(0, end - 60), end) else 0


#: A binary operator sign (`-` and `+` may also be a number's sign; `*` a Markdown bullet or emphasis).
_BINARY_OP = r"(?:[-+−*/×·÷]|\\(?:cdot|times|div|pm|mp)(?![A-Za-z]))"
#: An operator sign before an ellipsis, or one after it (not `-`, which may be a number's sign).
_OP_BEFORE_DOTS_RE = re.compile(rf"{_BINARY_OP}\s*$")
_OP_AFTER_DOTS_RE = re.compile(r"\s*(?:[+*/×·÷]|\\(?:cdot|times|div|pm|mp)(?![A-Za-z]))")


def _ellipsis_in_expression(s: str, start: int) -> bool:
    """Whether `s[start:]` starts with "..." standing for terms left out of an expression: between two
    operator signs (`1 + 2 + ... + 10`), or after a number and before a sign other than `-` (`1 + 2 + 3 ...
    + 10`), spaces aside. Such an ellipsis ends no sentence or chain: the side around it reads as no number,
    where a cut there left the claim `+ 10 = 55`. A word or a number after "op ..." is a restart, and the
    ellipsis ends the sentence as ever (`25 * 4 + ... Actually 25 * 4 = 90`, `5 + 6 + ... 5 + 6 = 12`)."""
    if start < 0 or not s.startswith("...", start) or s.startswith(".", start + 3):
        return False
    before = s[max(0, start - 20):start]
    if _OP_BEFORE_DOTS_RE.search(before):  # (`-` may follow here: `1 - 2 + ... - 100`)
        return _OP_AFTER_DOTS_RE.match(s, start + 3) is not None or s[start + 3:start + 5].lstrip()[:1] in ("-", "−")
    return before.rstrip()[-1:].isdigit() and _OP_AFTER_DOTS_RE.match(s, start + 3) is not None


def _without_thousands(text: str) -> str:
    """`text` without thousands separators (`1,000` is 1000), except in a function's arguments:
    `\\max(3,100)` is not `\\max(3100)` (which made `\\max(3,100) = 3100` a true claim)."""
    if "," not in text:
        return text
    calls = [m.span(1) for m in _CALL_ARGS_RE.finditer(text)] if "(" in text else []
    if not calls:
        return _THOUSANDS_RE.sub("", text)
    return _THOUSANDS_RE.sub(lambda m: "," if any(a <= m.start() < b for a, b in calls) else "", text)
