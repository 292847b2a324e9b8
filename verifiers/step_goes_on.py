"""Rows and lines that go on with an expression the one before left unfinished (`rlvr.verifiers.steps`).

`Total = 120 + 45 + 30`, then `+ 15 = 210` on the next line or aligned row, claims `120 + 45 + 30 + 15 =
210`: `_goes_on` tells whether a row or line goes on from the one before, `_first_side` joins its first
side to the unfinished expression (or gives none where the two cannot be joined safely), and
`_OrGrouped` / `_OrAlone` mark a side with two plausible readings, checked by either. Also the LaTeX
layout and spaces that are no part of a row (`_LAYOUT_RE`, `_SPACE_RE`, `_bare_row`). Split out of
`steps.py` because continuation is a rule of its own with many cases (the module docstring of
`steps.py` states them).
"""

from __future__ import annotations

import re

from rlvr.verifiers.math_units import said_unit
from rlvr.verifiers.step_numbers import PLAIN_NUMBER_RE as _PLAIN_NUMBER_RE
from rlvr.verifiers.step_sides import _is_word_at, _left_side, _parses
from rlvr.verifiers.step_split import _BINARY_OP, _without_thousands

#: LaTeX that lays equations out or labels them and states nothing: the markers of display and
#: alignment environments, `\\tag{1}`, `\\label{eq}`, `\\nonumber`, `\\checkmark`, the rules between
#: a grid's rows (`\\hline`, `\\cline{2-3}`, `\\hdashline`, booktabs' `\\toprule`, `\\midrule`,
#: `\\bottomrule`: `\\\\ \\hline 12 + 1 = 14` is the row `12 + 1 = 14`), and `&`, an aligned row's
#: alignment point (`3 \\cdot 4 &= 12`; an `&` that starts a column is a split, `_columns`).
_LAYOUT_RE = re.compile(
    r"\\(?:begin|end)\s*\{(?:align|aligned|alignat|alignedat|flalign|eqnarray|gather|gathered|split|multline"
    r"|equation|displaymath|math)\*?\}(?:\s*\{\d+\})?"
    r"|\\(?:tag\*?|label)\s*\{[^{}]*\}|\\(?:checkmark|nonumber|notag)(?![A-Za-z])|(?<!\\)&"
    r"|\\(?:hline|hdashline|toprule|midrule|bottomrule)(?![A-Za-z])|\\cline\s*\{[^{}]{0,20}\}")
#: The markers of grid environments, `array` (with its position and column spec: `\\begin{array}[t]{|c|l|}`),
#: the matrices (`pmatrix`, `bmatrix`, `vmatrix`, ...) and `cases`: read as row breaks, not as space
#: (`_LAYOUT_RE`), so that a grid's first and last rows are rows of their own (`\\begin{array}{l} 12 + 5 =
#: 17 \\\\ 18 \\times 2 = 37 \\end{array}` claims both) and its cells never run into the text around it (a
#: matrix's last entry is no side of an `=` after it: `\\begin{vmatrix} 1 & 2 \\\\ 3 & 4 \\end{vmatrix} = -2`).
_GRID_RE = re.compile(
    r"\\begin\s*\{(?:array|subarray)\}(?:\s*\[[a-z]\])?\s*\{(?:[^{}]|\{[^{}]{0,20}\}){0,60}\}"  # (bounded: linear)
    r"|\\begin\s*\{(?:[pbBvV]?matrix|smallmatrix|[dr]?cases)\*?\}(?:\s*\[[a-z]\])?"
    r"|\\end\s*\{(?:array|subarray|[pbBvV]?matrix|smallmatrix|[dr]?cases)\*?\}")
#: A row break with what may follow it, `*` and a length (`\\\\[4pt]`, `\\\\*[1ex]`: not a `\\[` display
#: opener), and LaTeX's small spaces (`\\;` `\\,` `\\:` `\\>` `\\ ` `\\!`, the named ones). Matched in one pass
#: from the left, so the backslash of a row break never starts a space (`\\\\;` is a break, then `;`).
_LENGTH = r"[-+]?\s*+(?:\d+(?:\.\d*)?|\.\d+)\s*+(?:pt|pc|in|bp|cm|mm|dd|cc|sp|em|ex|mu|px)"
_SPACE_RE = re.compile(rf"\\\\\*?(?:\s*+\[\s*+{_LENGTH}\s*+\])?|\\[,;:> !]"
                       r"|\\(?:thinspace|medspace|thickspace|enspace|enskip)(?![A-Za-z])")


#: Layout at the end of a row or line (spaces, a row break, maths delimiters, `&`, `\\quad`), and at its
#: start: none of it is part of an expression broken there.
_TRAILING_LAYOUT_RE = re.compile(r"(?:\s|\\\\|\$|\\[\])]|&|\\q?quad(?![A-Za-z]))+$")
_LEADING_LAYOUT_RE = re.compile(r"(?:\s|\\\\|\$|\\[\[(]|&|\\q?quad(?![A-Za-z]))*+")
#: A row or line that ends with a binary operator after an operand (`120 + 45 +`): the expression goes on
#: in the next one. (Not `*`: a Markdown emphasis ends with one; not after a word, `well-`, nor `---`.)
_ENDS_WITH_OP_RE = re.compile(r"(?:[\d)\]}!]|(?<![A-Za-z\\])[A-Za-z])\s*(?:[-+−/×·÷]|\\(?:cdot|times|div|pm|mp))$")
#: A row or line that starts with a binary operator sign (`+ 15 = 210`, `- 15`, `\\times 2`).
_STARTS_WITH_OP_RE = re.compile(_BINARY_OP)
#: Markdown emphasis opening a line (`**Step 1:**`, `**3 * 4 = 12**`, `*Apples:*`): `**`, or `*` right before
#: a letter; no multiplication sign (`*2 = 24` after `3 * 4` is `3 * 4 * 2 = 24`).
_EMPHASIS_START_RE = re.compile(r"\*(?:\*|(?=[A-Za-z]))")
#: Bold markers around a line's words (`**Total = 120 + 45 + 30**`): no part of its expression. Not `**`
#: between two operands, spaced or not (`2**3`, `2 ** 3`: a power; `_unbolded`).
_BOLD_RE = re.compile(r"(?<!\S)(?:\*\*|__)|(?:\*\*|__)(?!\S)")
_POWER_BEFORE_RE = re.compile(r"[\d)\]}A-Za-z]\s*$")
_POWER_AFTER_RE = re.compile(r"\s*[-+−]?[\d(\[{.\\A-Za-z]")


def _unbolded(s: str) -> str:
    """`s` with its bold markers (`_BOLD_RE`) as spaces, a `**` between two operands (`2 ** 3`) kept."""
    def bold(m: re.Match) -> str:
        if m.group() == "**" and _POWER_BEFORE_RE.search(s, max(0, m.start() - 40), m.start()) \
                and _POWER_AFTER_RE.match(s, m.end()):
            return m.group()
        return " "
    return _BOLD_RE.sub(bold, s)
#: A numbering label opening a line (`(2) `, `2) `, `2. `): no factor of the expression after it.
_NUMBER_LABEL_RE = re.compile(r"^\s*(?:\(\d{1,3}\)|\d{1,3}[.)])\s+")
#: A sign stuck to a number (`-12`, `+2`): the start of a negative number more than an operator.
_STUCK_SIGN_RE = re.compile(r"[-+−](?=\.?\d)")
#: A relation between sides, to split a row into its sides (`_finished`).
_RELATION_RE = re.compile(r"[=<>≤≥≈]|\\(?:approx|leq?|geq?)(?![A-Za-z])")
#: How much of the text before a row or line `_goes_on` reads: a last side begun before that is not seen
#: whole, and nothing is joined to it.
_GOES_ON_WINDOW = 600
#: The number alone before the first `=` of a row going on with `- ` (`&- 15 = 180`, `_goes_on`).
_LONE_TERM_RE = re.compile(r"\s*(?:\d+(?:\.\d*)?|\.\d+)\s*=")
#: A side that may be joined with the fragment going on from it (`_joined`): numbers, brackets, powers,
#: operator signs and `\\frac`; no word, unit, currency or thousands comma.
_JOINABLE_RE = re.compile(r"(?:[\d\s.+\-−*/×·÷()\[\]{}^]|\\(?:times|cdot|div|d?frac|left|right)(?![A-Za-z]))+")
#: An additive sign or `\\pm` after an operand: a product or quotient going on after a sum with one
#: outside all brackets (`120 + 45 + 30`, then `\\times 2`) could be meant of the whole sum (`_top_additive`).
_ADDITIVE_RE = re.compile(r"(?<=[\d)\]}!A-Za-z])\s*(?:[-+−]|\\(?:pm|mp)(?![A-Za-z]))")
_OPEN_CLOSE = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}


def _top_additive(s: str) -> bool:
    """Whether the expression `s` is a sum at its top level: an additive sign after an operand outside
    all brackets (`120 + 45 + 30`, `3 \\times 4 + 2`; not `(120 + 45 + 30)`, nor `3 \\times -2`)."""
    depth, marks = 0, []
    for ch in s:
        depth += _OPEN_CLOSE.get(ch, 0)
        marks.append(depth)
    return any(marks[m.end() - 1] == 0 for m in _ADDITIVE_RE.finditer(s))


class _OrAlone(str):
    """An expression a fragment goes on from (`_goes_on`) where the fragment may as well be read alone
    (`12 + 8`, then `-3 + 5 = 2`; a running total `= 210`, then `+ 5 = 215` in a list of `+ ` lines): the
    first side holds by either reading (`_chain_claims`)."""


class _OrGrouped(str):
    """An expression a fragment goes on from (`_goes_on`) that ends in a sum before a product or quotient
    (`120 + 45 + 30 /`, then `3 = 65`): the first side holds read by precedence or with the sum in
    brackets (`(120 + 45 + 30) / 3`, `_chain_claims`)."""


#: One number with a currency sign (group 1), a `%` (group 2) or a few words after it (group 3: `\\$12`,
#: `12 dollars`, `5 \\text{ kg}`): a running total with a unit when the words name a known unit
#: (`_unit_total`).
_UNIT_NUMBER_RE = re.compile(r"\s*(\\?[$€£¥]\s?)?-?(?:\d+(?:\.\d*)?|\.\d+)\s?(?:([€£¥%]|\\%)"
                             r"|((?:\s*(?:\\(?:text|mathrm|textrm|mbox)\s*\{[^{}]*\}|[A-Za-z]+(?:/[A-Za-z]+)?)){1,3}))?\s*")


def _unit_total(side: str) -> bool:
    """Whether the last side `side` is one number with a currency sign, a `%` or a known unit after it
    (`\\$12`, `12 dollars`, `40 km`; not `5 so`, `12 apples`: words that name no unit): a running total
    that a fragment going on from it cannot be joined to safely (`_goes_on`)."""
    m = _UNIT_NUMBER_RE.fullmatch(side)
    if m is None or not (m.group(1) or m.group(2) or m.group(3)):
        return False
    return not m.group(3) or said_unit(side.strip()) is not None


#: Between the readings of a first side that holds by either (`_chain_claims`, `_either_claim`).
_OR = " \x01 "
#: An operator sign opening a fragment that binds tighter than `+` and `-`.
_TIGHT_OP_RE = re.compile(r"\s*(?:[*/×·÷]|\\(?:cdot|times|div)(?![A-Za-z]))")
#: An operator between two operands: an expression that is more than one number (`120 + 45 + 30`).
_INFIX_RE = re.compile(rf"[\d)\]}}!A-Za-z]\s*{_BINARY_OP}\s*[\d(\[{{\\.A-Za-z]")
#: Where the last side of a row or line begins: after its last relation or colon.
_LAST_RELATION_RE = re.compile(r".*(?:[=<>≤≥≈:]|\\(?:approx|leq?|geq?)(?![A-Za-z]))", re.DOTALL)
#: A list bullet opening a line (`- 3 + 4 = 7`): the same bullet on the line before makes it a list item.
_BULLET_RE = re.compile(r"\s*([-+*•])\s")
#: A line that opens with a sure list bullet: `*` and a space, or `-`/`+`, a space and then maths (`- $12
#: \times 10 = 120$`: the sign is outside the maths, so no operator of it).
_LINE_BULLET_RE = re.compile(r"\s*(?:\*|[-+](?=\s+(?:\$|\\[(\[])))\s")
#: The end of a line that closes a display (`$$`, `\]`, `\end{aligned}`): what it showed is finished.
_CLOSED_DISPLAY_RE = re.compile(r"(?:\$\$|\\\]|\\end\s*\{[A-Za-z]+\*?\})\s*$")
_TRAILING_OP_RE = re.compile(rf"\s*{_BINARY_OP}$")


def _step_before(listed: tuple[str, bool, bool, int], line: int) -> str:
    """The step before (`_parts_steps`' `listed` entry), as the text a line may go on from (`_goes_on`),
    or "" when nothing goes on from it: when it was not read, when a blank line stands between (a new
    paragraph: `120 + 45 + 30`, a blank line, then `+ 15 = 211` is a claim) or when it closes a display
    (`$$12 \times 15 = 12 \times 10 + 12 \times 5$$`, then a list `- $12 \times 10 = 120$`)."""
    step, read, _, number = listed
    if not read or line - number > 1 or _CLOSED_DISPLAY_RE.search(step[-60:]):
        return ""
    return step


def _goes_on(before: str, text: str, line: bool = False) -> str | None:
    """Whether `text`, a row or a line, goes on with an expression that the row or line `before` it
    left unfinished, so that its first side is the tail of that expression, no number (`+ 15 = 210` after
    `Total = 120 + 45 + 30` is `120 + 45 + 30 + 15 = 210`): None when it does not, else the expression
    to join the fragment to (`_joined`), or "" when there is none that is safe to join. It goes on when
    `before` ends with a binary operator (`120 + 45 +`), or when `text` starts with one (layout aside: `&\\quad + 15`)
    and the last side of `before` is an expression with an operator between operands, not one number, no
    word nor full stop after it. So a line or row that starts with a negative number after a finished one
    (`3 + 4 = 7`, then `-3 + 5 = 2`) is a claim, and so is a list item after one of the same list (`- 3 +
    4 = 7` after `- 2 + 2 = 4 + 0`): continuations are told by what they continue. A sign stuck to a number
    (`-2 = 3 - 5`, a relation after it) opens a new claim after a finished equation, one with a plain number
    for a side of its last relation (`7 = 3 + 4`, `12 = 4 \\times 3`, `_finished`); a spaced one (`&- 15`)
    still goes on. A last side that is one number after `=` is a running total (`= 195`, then `+ 15 = 210`
    is `195 + 15 = 210`), but on a line a `-` after it is a list bullet as ever (`5 - 2 = 3`, then `- 3 + 4 =
    8`), and in a row only `- 15` alone goes on with it. The operator ending
    `before` counts only after an expression (`120 + 45 +`, or one operand right after a relation: `= 120
    +`), not after a label or a name ("Step 2 -", "Part (a) -", "Ages 18+", "Ca2+"). With `line` (`text`
    is a line), a line opening with a sure bullet (`_LINE_BULLET_RE`: `* 3 + 4 = 7`, `- $3 + 4 = 7$`) goes
    on only from a line ending with such an operator, a line opening with Markdown emphasis
    (`**Step 1:**`, `*Apples:*`) goes on from none, and a `-` goes on from no line closed by bold
    (`**Total = 12 + 3**`). The expression returned is the whole last side of `before` (no word before it
    in that side: `Total = 120 + 45 + 30`, or a line that is only `120 + 45 + 30`, a numbering label
    "(2)", "2." off), with the operator ending it; bold markers are no part of it. A product or quotient
    going on from a sum (`120 + 45 + 30 /`, then `3`; or `120 + 45 + 30`, then `\\times 2`) may be meant of
    the whole sum: the expression comes back as `_OrGrouped`, checked by either reading. Reads at most the last `_GOES_ON_WINDOW` characters of
    `before`: a last side begun before them is not joined."""
    window = _LAYOUT_RE.sub(" ", before[-_GOES_ON_WINDOW:])
    closed = re.search(r"(?:\*\*|__)\s*$", window) is not None  # (a line closed by bold)
    tail = _TRAILING_LAYOUT_RE.sub("", _unbolded(window))
    if not tail:
        return None
    relation = _LAST_RELATION_RE.match(tail)
    words = tail[relation.end() if relation else 0:].split()
    k = len(words)
    while k > 0 and not _is_word_at(words, k - 1, -1):
        k -= 1
    run = " ".join(words[k:])
    if relation is None:
        run = _NUMBER_LABEL_RE.sub("", run, count=1)  # `(2) 120 + 45 + 30`: the label is no factor
    seen = relation is not None or len(before) <= _GOES_ON_WINDOW  # (where the last side starts is read)
    head = run if k == 0 and seen else ""  # (a word before the run: the side is more than the run)
    if _ENDS_WITH_OP_RE.search(tail):
        body = _TRAILING_OP_RE.sub("", run)
        if _INFIX_RE.search(body) is not None or (
                bool(body) and k == 0 and relation is not None and relation.group()[-1] != ":"):
            if head and _TIGHT_OP_RE.fullmatch(run[len(body):]) and _top_additive(body):
                return _OrGrouped(head)  # `120 + 45 + 30 /`, then `3`: the quotient may be meant of the whole sum
            return head
        return None
    if line and _LINE_BULLET_RE.match(text):
        return None  # a list item
    start = _LEADING_LAYOUT_RE.match(text).end()
    op = _STARTS_WITH_OP_RE.match(text, start)
    if op is None or (line and _EMPHASIS_START_RE.match(text, start)):
        return None
    minus = op.group() in ("-", "−")
    if line and minus and closed:
        return None  # `**Total = 12 + 3**`, then `- 3 + 4 = 8`: a list item
    total = relation is not None and relation.group()[-1] == "=" and not (
        minus and (line or not _LONE_TERM_RE.match(text, op.end())))  # (what a running total needs but its side)
    bullet, bullet_before = _BULLET_RE.match(text), _BULLET_RE.match(before)
    listed = line and bullet and bullet_before and bullet.group(1) == bullet_before.group(1)
    running = total and bool(head) and _PLAIN_NUMBER_RE.fullmatch(head) is not None
    if listed and not running:
        return None  # one list's items
    stuck = _STUCK_SIGN_RE.match(text, start) is not None
    if stuck and not running and _RELATION_RE.search(text, start) and _finished(tail):
        return None  # `7 = 3 + 4`, then `-2 = 3 - 5`: a new claim
    if bool(run) and run[-1] in "0123456789)]}!" and _INFIX_RE.search(run) is not None:
        if head and _TIGHT_OP_RE.match(text, start) and _top_additive(head):
            return _OrGrouped(head)  # `120 + 45 + 30`, then `/ 3`: meant of the whole sum, or of 30
        return _OrAlone(head) if stuck and head else head  # `12 + 8`, then `-3 + 5 = 2`: a new claim, or not
    if running:
        # a running total: `= 195`, then `+ 15 = 210`; in a list of `+ ` lines, or a sign stuck to a number, it
        # may as well be a new claim (`+ 3 + 4 = 7`, then `+ 5 + 6 = 11`)
        return _OrAlone(head) if listed or stuck else head
    if total and relation is not None and _unit_total(tail[relation.end():]):
        # `Cost = \\$12`, then `+ \\$3 = \\$15`: a running total with a unit, not safely joined. Read alone the
        # fragment would claim `3 = 15`: its first side, one term, makes no claim. A first side with an
        # operation of its own (`+ 3 + 4 = 8`) is read alone, as a claim.
        first = _RELATION_RE.search(text, op.end())
        if first is not None and _INFIX_RE.search(text, op.end(), first.start()) is None:
            return ""
    return None


def _bare_row(text: str) -> str:
    """A row or line with the layout around it off (`&+ 30 \\\\` is `+ 30`): a fragment to join (`_first_side`)."""
    text = _LAYOUT_RE.sub(" ", _SPACE_RE.sub(" ", text)) if "\\" in text or "&" in text else text
    return _TRAILING_LAYOUT_RE.sub("", _LEADING_LAYOUT_RE.sub("", text, count=1))


def _run_on(before: str, text: str) -> str:
    """The text a row or line goes on from after `text` went on from `before` with no link of its own
    (`Total = 120 + 45 \\\\`, then `&+ 30 \\\\`): the two joined, the layout between them off (`Total = 120
    + 45 + 30`), so that the next one (`&+ 15 = 210`, `&= 200`) is read against the whole expression."""
    return f"{_without_trailing_layout(before)} {_bare_row(text)}"


def _without_trailing_layout(s: str) -> str:
    """`s` with its trailing layout (`_TRAILING_LAYOUT_RE`) off, reading only as much of its end as it
    takes: `_run_on` grows one joined text over many lines, and a sub over the whole of it at each line
    made 199 long `+ 1 + 1 ...` lines (2M characters) take 14 s (now 1-2 s). A run of layout that
    starts more than 6 characters (the longest layout token, `\\qquad`) into the end read is where it
    starts in the whole text too."""
    k = 64
    while k < len(s):
        stripped = _TRAILING_LAYOUT_RE.sub("", s[-k:])
        if len(stripped) > 6:
            return s[:-k] + stripped
        k *= 2
    return _TRAILING_LAYOUT_RE.sub("", s)


def _finished(tail: str) -> bool:
    """Whether the row or line `tail` ends with a finished equation: a side of its last relation is one
    plain number (`7 = 3 + 4`, `S = 1 + 2 = 3`), a label before it aside (`Row 2: 7 = 3 + 4`)."""
    sides = _RELATION_RE.split(tail)
    return len(sides) > 1 and any(
        _PLAIN_NUMBER_RE.fullmatch(side.rpartition(":")[2].strip(" $*_")) is not None for side in sides[-2:])


def _joined(head: str, part: str) -> str | None:
    """The first side of a chain going on from the expression `head` (`_goes_on`), `part` being the text
    before its first link (`+ 15` after `120 + 45 + 30`; `20` after `50 -`): the two joined (`120 + 45 +
    30 + 15`), when each is plain arithmetic (`_JOINABLE_RE`: no word, unit or currency) and the whole
    reads as a number; else None (no claim: the side is not certain)."""
    head = _without_thousands(_LEADING_LAYOUT_RE.sub("", head, count=1))
    if not head or not _JOINABLE_RE.fullmatch(head) or not _JOINABLE_RE.fullmatch(part) or not re.search(r"\d", part):
        return None
    if not _TRAILING_OP_RE.search(head) and not _STARTS_WITH_OP_RE.match(part.lstrip()):
        return None  # no operator between them (`(3 + 4)` and `15`; `- 15`, its `- ` cut off as a list bullet)
    joined = f"{head} {part.strip()}"
    return joined if _parses(joined) else None


def _first_side(fragment: str, part: str) -> str | None:
    """The first side of a chain going on from `fragment` (`_goes_on`), `part` being the text before its
    first link: the two joined (`_joined`), or, where another reading is as plausible (`_OrAlone`,
    `_OrGrouped`), both readings between `_OR` (the claim holds by either: `_either_claim`); None (no
    claim) when a reading cannot be formed safely."""
    if not fragment:
        return None
    joined = _joined(fragment, part)
    if joined is None or not isinstance(fragment, (_OrAlone, _OrGrouped)):
        return joined
    if isinstance(fragment, _OrAlone):
        other = _left_side(part)
    else:
        op = _TRAILING_OP_RE.search(fragment)
        body, sign = (fragment[:op.start()], op.group()) if op else (fragment, "")
        other = _joined(f"({body.strip()}){sign}", part)
    if other is None:
        return None
    return joined if other == joined else f"{joined}{_OR}{other}"
