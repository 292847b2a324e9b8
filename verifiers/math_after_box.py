"""Read what follows a box: the maths that continues it is part of its answer.

A model sometimes closes its box before the answer ends: `$\\boxed{12}\\pi$` answers 12π,
`\\boxed{12}^2` answers 144, `$\\boxed{3} + 1$` answers 4, `\\boxed{3}0` (as LaTeX shows it) 30.
Grading the box alone would score those as 12 or 3, so since rules 15 (`math.RULES_VERSION`) such
maths is read as part of the box's answer (see `continued`).

Words can change a box's value too (rules 20, see `_worded`): a magnitude ending the phrase after
a plain number (`$\\boxed{2.5}$ million.` is 2500000, as `\\boxed{2.5 \\text{ million}}` is; not
`$\\boxed{2}$ hundred-dollar bills`) and an operation in words ending the answer (`\\boxed{3}
squared`, `\\boxed{3} times 2`: kept as text, so never read as 3; not `\\boxed{5} times 4 is 20`).

What follows a box is just as often no maths at all, and then the box alone is the answer:
- units (`\\boxed{20}N`, `$\\boxed{9.8}m/s^2$`, `\\boxed{20}\\text{ cm}`, `90^\\circ`): a Latin
  letter after a box is far more often a unit than a variable, and multiplying a unit in would
  turn a right answer into an expression in unknowns (the price: `$\\boxed{3}x$` is graded as 3);
- prose and punctuation (`\\boxed{5}.`, `\\boxed{5}-year`, `\\boxed{3} - that is`): a spaced
  operator or spaced digits continue a box only inside maths (`$…$`, `\\(…\\)`, `\\[…\\]`, see
  `_in_maths`), where a dash is no dash and a price (`It costs $5 each`) opens no maths;
- anything that would leave a bracket open, which would make the answer unparsable.

Everything here is bounded and linear in the text: a continuation is at most 3001 characters,
`_in_maths` looks back at most 3000, and `math_extract` reads at most 64 boxes.
"""

from __future__ import annotations

import re

__all__ = ["continued"]


def continued(text: str, end: int, content: str) -> tuple[str, int] | None:
    """What the box holding `content`, whose closing brace is just before `end`, says together
    with the maths that continues it, and where the text after that maths begins; None when nothing
    continues it (the box alone is the answer).

    A magnitude or an operation in words (`_worded`) is read first, then a power, scientific
    notation or thousands groups (`_AFTER_BOX_RE`, `\\,000` too): `\\boxed{12}^2`
    gives `(12)^2`, `\\boxed{12},000` gives `12,000` (groups continue an integer only). Else any other
    maths (`_continuation`): digits glued on (`\\boxed{3}0`, `.5`) join the box's number as LaTeX
    shows them, so `\\boxed{3}0` gives `{3}0`, which the parser reads as 30 and refuses for
    `{1+2}0` (rules 14); anything else follows the box's value as a whole (`\\boxed{12}\\pi` gives
    `(12)\\pi`, `\\boxed{3} + 1` gives `(3) + 1`)."""
    worded = _worded(text, end, content)
    if worded is not None:
        return worded
    after = _AFTER_BOX_RE.match(text, end)
    if after is not None and after.group("thousands") and not content.strip().isdigit():
        after = None  # `,000` groups continue an integer only
    if after is not None:
        if after.group("thousands"):
            return f"{content.strip()}{after.group(0)}", after.end()
        return f"({content}){after.group(0)}", after.end()
    went_on = _continuation(text, end)
    if went_on is None:
        return None
    more, glued_digits = went_on
    said = f"{{{content}}}{more}" if glued_digits else f"({content}){more}"
    return said, end + len(more)


#: Maths right after a box's closing brace that continues its expression, so that the box alone is
#: not the answer: a power (`\\boxed{12}^2`, `^{2}`; not a degree or prime mark, `^\\circ`,
#: `^{\\prime}`, `'`, which are units, nor an ordinal, `^{th}`), the `\\times 10^{k}` of scientific
#: notation, and thousands groups after an integer (`\\boxed{12},000`). A factorial `!` is not read:
#: after a box in prose it is an exclamation.
_AFTER_BOX_RE = re.compile(
    r"\^(?![ \t]*\{?[ \t]*(?:\\circ|\\prime|'|o\b|(?:\\(?:text|mathrm|textrm)\{)?(?:st|nd|rd|th)\b))"
    r"(?:\{[^{}$]{1,20}\}|\d|[A-Za-z])"
    r"|[ \t]*(?:\\times|\\cdot)[ \t]*10[ \t]*\^[ \t]*(?:\{[ \t]*[+-]?\d{1,4}[ \t]*\}|[+-]?\d)"
    r"|(?P<thousands>(?:(?:,|\\,|\{,\}|\\(?:text|mathrm)\{,\})\d{3})+)(?![\d,])")
#: What may stand between a box's closing brace and a word after it: the end of the maths the box
#: stands in (`$`, `\\)`, `\\]`), spaces and LaTeX spaces.
_WORD_GAP = r"(?:\$\$?|\\[)\]])?(?:[ \t~]|\\[ ,;:]|\\q?quad(?![A-Za-z])){0,6}"
#: A word after a box, as text in maths (`\\text{ million}`, group NAME) or in prose (`million`,
#: group NAME_bare).
def _word(name: str, words: str) -> str:
    return (r"(?:\\(?:text|mathrm|textrm|mbox)[ \t]*\{[ \t]*(?P<" + name + ">" + words + r")[ \t]*\}"
            r"|(?P<" + name + "_bare>" + words + r")(?![A-Za-z-]))")  # (not `hundred-dollar`: an adjective)


#: A magnitude word after a box that holds a plain number: `$\\boxed{2.5}$ million` is 2500000,
#: as `\\boxed{2.5 \\text{ million}}` is (rules 20). Not `dozen`: "how many dozen" asks in dozens.
#: Only when the word ends the phrase: before a noun (`$\\boxed{3}$ thousand people`) or in a
#: compound adjective (`$\\boxed{2}$ hundred-dollar bills`) it may count in that unit, so the box
#: alone is read, as before rules 21 (review of rules 21).
_MAGNITUDE_RE = re.compile(_WORD_GAP + _word("mag", r"hundred|thousand|million|billion|trillion|lakh|crore")
                           + r"(?![ \t]*[A-Za-z]|\.\.|\u2026)", re.IGNORECASE)  # (nor before "...": a pause)
#: The text before a box saying it counts in that magnitude ("In thousands of dollars, she earned
#: $\\boxed{3}$ thousand.", "(in millions)"): then the box alone is the answer.
_COUNTS_IN_RE = re.compile(r"\bin[ \t]+(?:the[ \t]+)?(hundred|thousand|million|billion|trillion|lakh|crore)s\b",
                           re.IGNORECASE)
#: How far back before a box `_worded` looks for `_COUNTS_IN_RE` (within its paragraph).
_COUNTS_IN_LOOKBACK = 300
#: An operation in words after a box that changes its value (rules 20): `\\boxed{3} squared`,
#: `\\boxed{3} cubed` (not before a word: `squared units`), `\\boxed{3} times 2`, `plus 1`, `divided
#: by 2` (only before a number: `\\boxed{3} times` counts times, `\\boxed{5} more apples` is 5), and
#: only when nothing but the number follows: before a result or a word it is a check of the answer
#: or what it counts (`$\\boxed{5}$ times 4 is 20`, `\\boxed{2} to the power of 10 equals 1024`,
#: `\\boxed{7} plus 2 extra that were broken`; review of rules 21), a bracket or a comma (`\\boxed{6} plus 1
#: (the teacher) if you include her`, `\\boxed{7} minus 0, i.e., 7`: a remark on it; review of rules 24).
_OPERAND = (r"[ \t]+(?P<operand>-?\d+(?:\.\d+)?(?![.,]?\d)|(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty"
            r"|hundred|half)\b)")
_OPERATION_RE = re.compile(
    _WORD_GAP + r"(?:" + _word("power", r"squared|cubed") + r"(?![ \t]*[A-Za-z])"
    r"|(?P<op>times|plus|minus|divided[ \t]+by|multiplied[ \t]+by|to[ \t]+the[ \t]+power[ \t]+of)"
    + _OPERAND + r"(?![ \t]*(?:[A-Za-z=(,]|\\(?:eq|approx|to|Rightarrow|implies)\b|\u2192|\u21d2)))", re.IGNORECASE)
_PLAIN_NUMBER_RE = re.compile(r"[ \t]*-?\d[\d,]*(?:\.\d+)?[ \t]*")


def _worded(text: str, end: int, content: str) -> tuple[str, int] | None:
    """A box's answer with the word after it that changes its value, and where the text after that
    word begins; None when no such word follows. A magnitude after a plain number multiplies it
    (`\\boxed{2.5} million` gives `2.5\\text{ million}`, which normalisation reads as 2500000); an
    operation in words is kept as text (`\\boxed{3} squared` gives `(3)\\text{ squared}`), which the
    grader cannot read as the box's value: the answer said is not 3, and never right by accident."""
    m = _MAGNITUDE_RE.match(text, end)
    if m is not None and _PLAIN_NUMBER_RE.fullmatch(content) and not _counts_in(text, end, m["mag"] or m["mag_bare"]):
        return f"{content.strip()}\\text{{ {(m['mag'] or m['mag_bare']).lower()}}}", m.end()
    m = _OPERATION_RE.match(text, end)
    if m is not None:
        word = m["power"] or m["power_bare"] or f"{m['op']} {m['operand']}"
        return f"({content})\\text{{ {' '.join(word.split())}}}", m.end()
    return None


def _counts_in(text: str, end: int, magnitude: str) -> bool:
    """Whether the paragraph before the box ending at `end` says its value counts in `magnitude`s
    ("in thousands", "(in millions)"; at most `_COUNTS_IN_LOOKBACK` characters back)."""
    before = text[max(0, end - _COUNTS_IN_LOOKBACK):end]
    before = before[before.rfind("\n\n") + 1:]
    return any(m.group(1).lower() == magnitude.lower() for m in _COUNTS_IN_RE.finditer(before))


#: Maths commands that continue a box's expression as an operand (`\\boxed{12}\\pi`,
#: `\\boxed{3}\\sqrt{2}`), and as an operator (`\\boxed{3}\\cdot 2`). Any other command after a box
#: (`\\text`, `\\mathrm`, `\\quad`, `\\,`, `\\]`, a relation, another box) continues nothing: units,
#: spacing, the end of the maths or another statement.
_CONT_OPERANDS = ("pi|sqrt|frac|dfrac|tfrac|cfrac|sin|cos|tan|cot|sec|csc|arcsin|arccos|arctan|log|ln|exp|"
                  "infty|alpha|beta|gamma|delta|theta|lambda|phi|varphi|sigma|omega|left")
_CONT_OPERATORS = "cdot|times|div|pm|mp|ast"
#: What an operator after a box must be followed by to continue it (`\\boxed{3}-4`; not
#: `\\boxed{5}-year`, `\\boxed{3}**`, `\\boxed{A}/\\boxed{B}`, nor a letter: `\\boxed{60}/h` is a unit).
_CONT_OPERAND = r"(?:\d|\.\d|\\(?:" + _CONT_OPERANDS + r")(?![A-Za-z])|[({])"
#: How maths goes on right after a box's closing brace. Glued digits or a decimal part (`0`, `.5`;
#: not a sentence's full stop); anywhere `\\%`, an operand command or an operator command and its
#: operand, spaced or not; a glued ASCII operator and its operand (`/4`, `-4`). Only in maths mode
#: (see `_in_maths`): a spaced ASCII operator (`$\\boxed{3} + 1$`; in prose `\\boxed{3} - that is`
#: is a dash) and spaced digits (`$\\boxed{3} 0$`, kept as `{3} 0`, which the parser refuses: LaTeX
#: shows 30, a space in the source shows 3 0). A letter never starts one (see `_continuation`).
_CONT_START_RE = re.compile(
    r"(?P<digits>\d|\.\d)"
    r"|(?P<space>[ \t]+)?(?:"
    r"(?P<command>\\%|\\(?:" + _CONT_OPERANDS + r")(?![A-Za-z])"
    r"|\\(?:" + _CONT_OPERATORS + r")(?![A-Za-z])[ \t]*(?=" + _CONT_OPERAND + r"))"
    r"|(?P<operator>[+*/-][ \t]*(?=" + _CONT_OPERAND + r"))"
    r"|(?P<spaced_digits>\d))")
#: A letter of the Latin alphabet that is no part of a command's name (`m` of `\\frac{m}{s}`; not `\\pi`).
_BARE_LETTER_RE = re.compile(r"\\[A-Za-z]+|([A-Za-z])")
#: One piece of the maths that continues a box: a printable ASCII character other than a
#: delimiter or separator (`$`, `,`, `;`, a relation, `&`, `~`, a backslash), a point that is no
#: full stop, one of the commands above (and `\\right`), or `\\%`, `\\{`, `\\}`.
_CONT_TOKEN = (r"(?:(?![$,;=<>&~\\.])[!-~]|\.(?![\s$\\]|\Z)|\\(?:" + _CONT_OPERANDS + "|" + _CONT_OPERATORS
               + r"|right)(?![A-Za-z])|\\[%{}])")
#: Its length is capped above 3000 characters: the grader refuses an answer that long as written.
_MATHS_BODY_RE = re.compile(r"(?:[ \t]*" + _CONT_TOKEN + r"){0,3001}")  # in maths: spaces are no ends
_PROSE_BODY_RE = re.compile(r"(?:\\(?:" + _CONT_OPERATORS + r")(?![A-Za-z])[ \t]*|" + _CONT_TOKEN + r"){0,3001}")
_OPEN_OF = {")": "(", "]": "[", "}": "{"}
_BRACKET_RE = re.compile(r"\\[{}]|[(){}\[\]]")
#: Maths delimiters, with `\\\\` (a line break) and `\\$` (a dollar sign) read first so that they are none.
_MATH_DELIM_RE = re.compile(r"\\\\|\\\$|\$\$?|\\[()\[\]]")
#: A dollar sign that is a price, not the opening of maths: `$` and a number, then words or the end
#: of a clause (`$5 each`, `$12.50.`, `$3, so`); not `$5$`, `$5 + x$`, `$5 \\times 2$`.
_PRICE_RE = re.compile(r"\$\d[\d,]*(?:\.\d+)?(?:[ \t]+[A-Za-z]{2}|[.,;:!?)]?(?:\s|\Z))")
#: How far back `_in_maths` looks for the maths delimiter a box stands in.
_MATHS_LOOKBACK = 3000


def _continuation(text: str, start: int) -> tuple[str, bool] | None:
    """The maths that continues the box whose closing brace is just before `start` (see
    `_CONT_START_RE`): its text, and whether it begins with digits (joined to the box's number);
    None when what follows continues nothing (a full stop, `$`, a comma, units, `\\text`, spacing).
    It runs to the end of the maths (`$`, `\\)`, `\\]`, a relation, a comma, a line break, units
    in `\\text`), in prose to the next space; a closing bracket that closes nothing in it ends it
    (`(\\boxed{3}/4)`). Bounded and linear: at most 3001 characters, and at most 64 boxes are read.

    The box is graded alone (as by rules 14) when what follows is no clear maths:
    - it holds a Latin letter (outside a command's name): after a box a letter is far more often a
      unit than a variable (`$\\boxed{9.8}m/s^2$`, `\\boxed{20}N`, `\\boxed{10}\\frac{m}{s}`,
      `\\boxed{60}/h`), and multiplying a unit in turns a right answer into an expression in
      unknowns. The price: `$\\boxed{3}x$` is graded as 3, not 3x; a box that holds only part of
      its answer is the model's own slip, and reading units as variables would fail many more;
    - it leaves a bracket open (`\\frac{\\text{m}}{\\text{s}}`, `\\left(\\text{cm}\\right)`: it
      stopped at `\\text` inside an operand), which would make the answer unparsable."""
    m = _CONT_START_RE.match(text, start)
    if m is None:
        return None
    maths_only = m["spaced_digits"] is not None or (m["space"] and m["operator"])
    in_maths = _in_maths(text, start)
    if maths_only and not in_maths:
        return None
    body = (_MATHS_BODY_RE if in_maths else _PROSE_BODY_RE).match(text, m.end()).group()
    more = _cut_unmatched(m.group() + body).rstrip()
    if not more.strip() or more.endswith(("+", "-", "*", "/")) or _open_bracket(more):
        return None
    if any(letter.group(1) for letter in _BARE_LETTER_RE.finditer(more)):
        return None
    return more, m["digits"] is not None or m["spaced_digits"] is not None


def _cut_unmatched(more: str) -> str:
    """`more` up to its first closing bracket that closes nothing in it."""
    depth = {"(": 0, "[": 0, "{": 0}
    for m in _BRACKET_RE.finditer(more):
        c = m.group()
        if c in depth:
            depth[c] += 1
        elif len(c) == 1:
            if not depth[_OPEN_OF[c]]:
                return more[:m.start()]
            depth[_OPEN_OF[c]] -= 1
    return more


def _open_bracket(more: str) -> bool:
    """Whether `more` leaves a bracket or brace open (`\\frac{`, `\\left(`)."""
    depth = 0
    for m in _BRACKET_RE.finditer(more):
        if len(m.group()) == 1:
            depth += 1 if m.group() in "([{" else -1
    return depth > 0


def _in_maths(text: str, pos: int) -> bool:
    """Whether `pos` stands in maths: inside `$…$`, `$$…$$`, `\\(…\\)` or `\\[…\\]`, as the delimiters
    since the paragraph's start show (at most `_MATHS_LOOKBACK` characters back; a blank line ends
    inline maths). A box with no delimiter around it is read as in prose. A price (`It costs $5
    each`, see `_PRICE_RE`) opens no maths, and inline `$` maths must close on the box's line: a
    lone dollar sign before a box makes no prose after it maths."""
    begin = max(0, pos - _MATHS_LOOKBACK)
    paragraph = text.rfind("\n\n", begin, pos)
    state = ""
    for m in _MATH_DELIM_RE.finditer(text, paragraph + 2 if paragraph >= 0 else begin, pos):
        d = m.group()
        if d in ("$", "$$"):
            if not state:
                if d == "$" and _PRICE_RE.match(text, m.start()):
                    continue
                state = d
            elif state == d:
                state = ""
            elif state == "$":  # `$a$$b$`: a closing and an opening dollar
                state = "$"
        elif d in ("\\(", "\\["):
            state = state or d
        elif d in ("\\)", "\\]") and state == ("\\(" if d == "\\)" else "\\["):
            state = ""
    if state == "$":
        line_end = text.find("\n", pos)
        return text.find("$", pos, line_end if line_end >= 0 else len(text)) >= 0
    return bool(state)
