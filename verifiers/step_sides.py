"""The sides of an equation in a step (`rlvr.verifiers.steps`): how far a side runs from its `=`.

A side is the run of tokens next to the `=`, scanning away from it up to the first English word, read
as a whole (`_left_side`, `_right_side`): a run that cannot be read, is longer than `_MAX_SIDE_WORDS`
tokens, or is an operand of an operation written in words ("Half of 10 = 5", "12 = 3 times 4") is no
side, never cut down to its last number. Also the bracket pairs that keep a chain whole
(`_protected`, `_unwrapped`), a star that is a product and not emphasis (`_is_product`) and a claim's
end punctuation (`_without_end_punctuation`). Split out of `steps.py`: these rules decide what text is
a claim's side, apart from how the claims are found and checked.
"""

from __future__ import annotations

import re

from rlvr.verifiers.math_compare import has_symbols
from rlvr.verifiers.math_normalize import _MATH_NAMES, normalize
from rlvr.verifiers.math_parse import ParseError, parse
from rlvr.verifiers.step_marks import _NEAREST_LOOSE, _NEAREST_PLACE, _unit_word
from rlvr.verifiers.step_numbers import strict_percent
from rlvr.verifiers.step_split import _ellipsis_kept

#: Tokens read on each side of an '=': a claim's side is a few words next to it; a longer run is not
#: read (reading every run in full would cost time quadratic in the length of a line).
_MAX_SIDE_WORDS = 40
_OPERAND_END = frozenset("0123456789)]}")
_OPERAND_START = frozenset("0123456789([{\\abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_OPEN, _CLOSE = "([{", ")]}"
#: A clock time ("10:30"): the parser would read it as the ratio 10/30, which no claim means.
_CLOCK_RE = re.compile(r"(?<![\d.:])\d{1,2}:\d\d(?!\d)")
_WORD_RE = re.compile(r"[A-Za-z]{2,}(?:['’-][A-Za-z]+)*")
_ARTICLES = {"a", "A", "I"}
# words that are part of a number ("10 percent", "5 thousand"), not prose around it
_NUMBER_WORDS = {"percent", "hundred", "thousand", "million", "billion", "trillion", "dozen"}
# a word right before a side's run that makes the run an operand of an operation written in words
_OPS_BEFORE = {"and", "twice", "thrice", "half", "double", "triple", "times", "by", "plus", "minus", "over",
               "than", "mod", "modulo", "\\bmod", "\\mod", "from", "squared", "cubed"}
_OF_OK = {"value", "result", "answer", "total", "cost", "price", "outcome", "output", "calculation"}
_TO_OK = {"equal", "equals", "up", "comes", "amounts", "simplifies", "reduces", "leads"}
#: "to the nearest ..." after a right side: a rounding remark (`step_marks`), not an operation in words.
_TO_NEAREST_RE = re.compile(rf"\(?to\s+(?:the\s+)?nearest\s+(?:{_NEAREST_PLACE}|{_NEAREST_LOOSE})", re.IGNORECASE)
_OPS_AFTER = {"times", "plus", "minus", "divided", "over", "squared", "cubed", "mod", "modulo",
              "\\bmod", "\\mod", "of", "factorial", "to", "raised", "choose"}


def _reading(s: str) -> str | None:
    """"number" when `s` is a checkable numeric expression, "symbolic" when it is one with variables;
    None for anything else, a clock time among it included (`3:00 + 2 = 5:00` is no ratio)."""
    s = s.strip()
    if not s or _CLOCK_RE.search(s):
        return None
    strict = strict_percent(s)
    if strict is None:
        return None
    try:
        tree = parse(strict)
        if tree[0] in ("list", "rel", "set", "seq", "union"):
            return None
        symbolic = has_symbols(tree)
    except (ParseError, RecursionError):  # "1 1 1 ... 1" nests one product per number
        return None
    if symbolic:
        return "symbolic"
    return "number" if re.search(r"\d", s) else None


def _parses(s: str) -> bool:
    return _reading(s) == "number"


def _bare(token: str) -> str:
    return token.strip("\"'“”‘’()[],.:;!?")


def _is_word(token: str) -> bool:
    """An English word next to an equation ("The total is 3 + 4"), as opposed to a variable."""
    bare = _bare(token)
    if bare.lower() in _NUMBER_WORDS:
        return False
    return bool(_WORD_RE.fullmatch(bare)) and (bare.lower() not in _MATH_NAMES or bare.lower() in ("and", "or"))


def _is_word_at(words: list[str], i: int, outward: int) -> bool:
    """`words[i]` is a word; a lone "a"/"A"/"I" is one when the next token away from the '=' (at
    `i + outward`) is an English word and the one towards it is no operator ("13 a day")."""
    if _is_word(words[i]):
        return True
    if words[i] not in _ARTICLES:
        return False
    out, inward = i + outward, i - outward
    if not 0 <= out < len(words) or not _is_word(words[out]):
        return False
    return not (0 <= inward < len(words) and words[inward][:1] in "+-*/^=×÷·\\")


def _partners(s: str) -> list[int]:
    """For each character of `s`, the index of the bracket that pairs with it; -1 for a bracket left
    open or closed without being opened, and for any other character. One pass: the bracket helpers
    below all read this, so each costs time linear in `s`. Any closer closes the innermost open
    bracket, whatever their kinds (`\\left( ... \\right]` is a pair)."""
    partner = [-1] * len(s)
    stack: list[int] = []
    for i, ch in enumerate(s):
        if ch in _OPEN:
            stack.append(i)
        elif ch in _CLOSE and stack:
            j = stack.pop()
            partner[i], partner[j] = j, i
    return partner


def _open_tail(s: str) -> str:
    """`s` after its last bracket left open or closed without being opened: the left side of
    `(3 * 4 = 13)` or of `\\text{ and } 5 + 5 = 11`."""
    partner = _partners(s)
    cut = next((i for i in range(len(s) - 1, -1, -1) if partner[i] < 0 and (s[i] in _OPEN or s[i] in _CLOSE)), -1)
    return s[cut + 1:]


def _closed_head(s: str) -> str:
    """`s` up to its first bracket closed without being opened: the right side of `(3 * 4 = 13)`."""
    partner = _partners(s)
    cut = next((i for i, ch in enumerate(s) if ch in _CLOSE and partner[i] < 0), len(s))
    return s[:cut]


def _unwrapped(s: str) -> str:
    """`s` without the bracket pairs, `(...)` or `[...]`, around the whole of it: "(3 * 4 = 13)"."""
    partner = _partners(s)
    i, j = 0, len(s) - 1
    while i < j and s[i] in "([" and partner[i] == j and s[j] == ")]"[s[i] == "["]:
        i, j = i + 1, j - 1
        while i <= j and s[i].isspace():
            i += 1
        while j > i and s[j].isspace():
            j -= 1
    return s[i:j + 1]


def _protected(chain: str) -> list[bool]:
    """For each character: inside a bracket pair without '=' (`\\gcd(12, 18)`), where a comma is no
    separator."""
    partner = _partners(chain)
    diff = [0] * (len(chain) + 1)
    eqs = [0]
    for ch in chain:
        eqs.append(eqs[-1] + (ch == "="))
    for i, j in enumerate(partner):
        if i < j and eqs[i] == eqs[j]:  # an opener whose pair holds no '='
            diff[i] += 1
            diff[j] -= 1
    out, depth = [], 0
    for d in diff[:-1]:
        depth += d
        out.append(depth > 0)
    return out


def _is_product(s: str, start: int, end: int) -> bool:
    """`s[start:end]`, a run of stars, is multiplication (or Python's power): it stands between an
    operand's end and an operand's start, spaces aside ("3 *4", "(2 + 1) *x"), so it is no emphasis.
    Scans only the spaces next to it: linear in all over a line."""
    if not s[start:end].startswith("*"):
        return False
    i, j = start - 1, end
    while i >= 0 and s[i].isspace():
        i -= 1
    while j < len(s) and s[j].isspace():
        j += 1
    return i >= 0 and j < len(s) and s[i] in _OPERAND_END and s[j] in _OPERAND_START


def _droppable(token: str) -> bool:
    """Punctuation, a check mark, a LaTeX spacing command or an abbreviation next to a claim ("i.e.",
    "e.g", "✓", `\\;` before a `\\checkmark`), never a number, operator or variable."""
    return bool(re.fullmatch(r"[:;,.!?\"'“”‘’✓✔]+|(?:[A-Za-z]\.)+[A-Za-z]\.?|\\(?:[;,:!]|q?quad)", token))


def _run_piece(run: list[str], outer: int) -> tuple[str | None, str]:
    """The reading (see `_reading`) of a side's run of tokens read as a whole, and its text. When
    the whole does not read, punctuation or abbreviations at its outer end (`outer` 0: the start of
    a left side, -1: the end of a right side) are dropped, never a number: "i.e. 3 + 4 = 7"."""
    def text(tokens: list[str]) -> str:
        piece = " ".join(tokens).strip(" ,;:")
        if outer == 0:
            return piece
        end = len(piece.rstrip(".?"))  # "3 * 4 = 13?"
        return piece[:end + _ellipsis_kept(piece, end)]  # (but `6.666...`: a decimal cut off)

    piece = text(run)
    reading = _reading(piece)
    if reading is None:
        k = 0
        while k < len(run) - 1 and _droppable(run[k if outer == 0 else len(run) - 1 - k]):
            k += 1
        if k:
            piece = text(run[k:] if outer == 0 else run[:len(run) - k])
            reading = _reading(piece)
    return reading, piece


def _left_side(part: str, unit_word: bool = False) -> str | None:
    """The left side of the first '=' of a chain: the run of tokens before it up to an English word,
    read as a whole; None when it is no number or an operation written in words takes it as an
    operand (see `steps`' module docstring). With `unit_word`, a last word that names a unit is part of the
    run (`5 kg = 5000 grams`; `_chain_claims` keeps such a side only in a conversion)."""
    tail = _open_tail(part)
    tail_words = tail.split()
    words = tail_words[-(_MAX_SIDE_WORDS + 1):]
    j = len(words)
    if unit_word:
        if not (j > 1 and _is_word(words[-1]) and _unit_word(words[-1])):
            return None
        j -= 1
    while j > 0 and not _is_word_at(words, j - 1, -1):
        j -= 1
    run = words[j:]
    if len(run) > _MAX_SIDE_WORDS:
        return None  # a run longer than a side is read: never cut down
    reading, piece = _run_piece(run, 0)
    if reading != "number":
        return None  # a variable ("x + 1 = 4"), or a run that cannot be read as a whole
    if j > 0:
        before = _bare(words[j - 1]).lower()
        prev = _bare(words[j - 2]).lower() if j > 1 else ""
        if before in _OPS_BEFORE or (before == "of" and prev not in _OF_OK) or (before == "to" and prev not in _TO_OK):
            return None  # "Half of 10 = 5", "Twice 4 = 8": the operation is in words
    # the words before the run in the same chain, the text before a bracket left open included: a
    # number there makes the run an operand of an operation written in words, whatever its words
    before = (part[:len(part) - len(tail)].split() + tail_words[:len(tail_words) - len(run)])[-_MAX_SIDE_WORDS:]
    if any(re.search(r"\d", w) for w in before):
        return None  # "3 tickets at 4 = 12", "10 choose 2 = 45", "7 less 3 = 4"
    return piece


def _right_side(part: str) -> tuple[str | None, bool]:
    """The right side of the last '=' of a chain: the run of tokens after it up to the first English
    word, read as a whole (`3 * 4 = 13 apples in 2 days` states `13`; `= 12 5 6` is never `12`);
    None when it is no number ("= 2x + 1") or an operation in words follows it ("12 = 3 times 4").
    With it, whether the side is all of `part`, no word after it: only such a side ends a chain that
    a row starting with `=` may continue (not `2` in `= 4 + 1 (x = 2)`, nor `13` above, nor `40` in
    `= 40 dollars per day`, after which `= 40 * 5` starts the next computation)."""
    head = _closed_head(part)
    words = head.split()[:_MAX_SIDE_WORDS + 1]
    k = 0
    while k < len(words) and not _is_word_at(words, k, +1):
        k += 1
    if k > _MAX_SIDE_WORDS:
        return None, False  # a run longer than a side is read: never cut down
    reading, piece = _run_piece(words[:k], -1)
    if reading != "number":
        return None, False  # a variable ("= 2x + 1"), or a run that cannot be read as a whole
    if k < len(words) and _bare(words[k]).lower() in _OPS_AFTER and not _TO_NEAREST_RE.match(" ".join(words[k:k + 6])):
        return None, False  # "12 = 3 times 4": the operation is in words (not "= 0.67 to the nearest hundredth")
    # only a side with nothing after it is carried on: after `= 40 dollars per day` a row `= 40 * 5`
    # is the next computation, not a claim that 40 dollars a day is 200 (words end the chain)
    return _with_unit(piece, words, k), len(head) == len(part) and k == len(words)


def _with_unit(piece: str, words: list[str], k: int) -> str:
    """The text of a right side: its run `piece` (`words[:k]`), with the words after it when they
    end the side and the maths normaliser reads them as the run's unit (`= 7 apples`, `= 20 square
    meters`), so that the claim reads as written; the value checked is the run's either way."""
    if not k < len(words) <= _MAX_SIDE_WORDS or not all(_is_word_at(words, i, +1) for i in range(k, len(words))):
        return piece
    whole = " ".join(words).strip(" ,;:").rstrip(".?")
    try:
        return whole if normalize(whole) == normalize(piece) else piece
    except Exception:  # noqa: BLE001 - the run alone is the side; its text only reads better with a unit
        return piece


def _without_end_punctuation(s: str) -> str:
    """`s` without its trailing ".", "?" and "!", except a "!" right after a digit or a closing
    bracket, which is a factorial (`120 = 5!`, `6 = (2 + 1)!`): "3 * 4 = 13?!" states `3 * 4 = 13`."""
    end = len(s)
    while end and s[end - 1] in ".?!":
        end -= 1
    end += _ellipsis_kept(s, end)
    bangs = len(s[end:]) - len(s[end:].lstrip("!"))
    if bangs and end and s[end - 1] in _OPERAND_END:
        end += bangs
    return s[:end]
