"""Whether text restating an answer names the same value or another one.

After an answer a model often writes its value again: in a bracket after a box (`\\boxed{0.5}
(50\\%)`, `\\boxed{12} (13)`), as the working that gave it (`12 (3 × 4)`), or as a rounding
(`$\\frac{\\sqrt2}{2}$ (about 0.707)`). This module decides which of these are the same answer said
another way, and which name a second value the grader must also check, so that a hedge written
as a restatement (`\\boxed{12} (about 20)`, `\\boxed{12} (3 × 5)`) cannot score as right.
`_bracket_after_box` reads a bracket after a box; `restatement_parts` splits a said answer from
the restatement in brackets after it. Only plain numbers, fractions, percents and arithmetic on
them are compared here; an expression's value is not.

`math_extract` imports these at module top, so what this module needs from it (`spelled_answer`,
`_APPROXIMATELY`) is imported inside the functions that use it.
"""

from __future__ import annotations

import re

from rlvr.verifiers.math_normalize import DOUBT_WORDS, without_case_phrases


#: A bracket right after a box, past spacing, `$` or the end of `\\(…\\)`/`\\[…\\]`: its content (one
#: line, no bracket inside, at most 200 characters). A bracket glued to the box (`\\boxed{2}(3)`) is none.
_BRACKET_AFTER_BOX_RE = re.compile(r"(?:[ \t$]|\\[)\]]){1,8}\((?P<inside>[^()\n]{1,200})\)")
#: Words that open a condition, or the other case ("otherwise"). Not "with", "without",
#: "including" or "excluding" (review of rules 21): after a box they more often say what the value
#: is made of or what else there is (`— 8 with glasses and 7 without`, `— 5 including tax`, `(with
#: remainder: 2)`, `(with tax: 33)`) than that it is another count of the answer.
_CONDITION = r"(?:if|when|unless|assuming|counting|otherwise|else)"
#: A value with the condition under which it holds: `(13 if we count the teacher)`, `(13 otherwise)`
#: (in brackets also "including"/"excluding", as before rules 21: `(13 including the teacher)`).
_CONDITIONED_RE = re.compile(r"(?P<value>-?\d[\d,]*(?:\.\d+)?)[ \t]+(?:" + _CONDITION + r"|including|excluding)\b",
                             re.IGNORECASE)
#: A condition, then the value that holds under it, last in the bracket (rules 20): `(if we count
#: the teacher, 13)`, `(or, counting the teacher, 13)`, `(counting the teacher it would be 13)`,
#: `(otherwise 13)`, `(else, it's 13)`; the value is after a comma or colon, a statement ("it would
#: be"), or right after "otherwise"/"else".
_CONDITION_FIRST_RE = re.compile(
    r"(?:or,?[ \t]+)?(?:(?:if|when|unless|assuming|counting)\b[^,:;]{0,120}?"
    r"(?:[,:]|(?=[ \t]+(?:it|that|the[ \t]+answer)(?:'s|[ \t]+is|[ \t]+would[ \t]+be)[ \t]))"
    r"|(?:or[ \t]+)?(?:otherwise|else)\b,?)[ \t]*(?:(?:it|that|the[ \t]+answer)(?:'s|[ \t]+is|[ \t]+would[ \t]+be)[ \t]+)?"
    r"(?P<value>-?\d[\d,]*(?:\.\d+)?)[ \t]*\.?", re.IGNORECASE)
#: A condition that says the value is the answer rounded (`(if rounded, 13)`, `(when rounding up, 13)`):
#: a rounding of the box is then no second answer (review of rules 24), as `(about 13)` is none.
_ROUNDED_RE = re.compile(r"\bround(?:ed|ing)?\b", re.IGNORECASE)
#: A breakdown of the answer after a value: "8 if boys and 7 if girls" gives parts, not another answer.
_BREAKDOWN_RE = re.compile(r"\band[ \t]+-?\d", re.IGNORECASE)
_ALTERNATIVELY_RE = re.compile(r"alternatively\b,?[ \t]*", re.IGNORECASE)
#: A plain number (`12`, `-3.5`, `1,000`, `\\$12`), a fraction of two (`3/4`, `\\frac{3}{4}`), a percent.
_PLAIN_FLOAT_RE = re.compile(r"(?:\\\$)?(?P<a>-?\d[\d,]*(?:\.\d+)?|-?\.\d+)(?: ?/ ?(?P<b>\d+))?(?P<pct> ?\\?%)?"
                             r"|(?P<sign>-?)\\[dt]?frac\{(?P<n>\d+)\}\{(?P<d>\d+)\}")


def _plain_float(value: str) -> tuple[float, bool] | None:
    """The value of a plain number, fraction or percent written in `value` (`$…$` around it
    allowed), and whether it was a percent; None for anything else (or a zero denominator)."""
    m = _PLAIN_FLOAT_RE.fullmatch(value.strip().strip("$").strip())
    if m is None:
        return None
    try:
        if m["n"] is not None:
            return (-1 if m["sign"] else 1) * int(m["n"]) / int(m["d"]), False
        got = float(m["a"].replace(",", ""))
        return (got / int(m["b"]) if m["b"] else got), m["pct"] is not None
    except (ValueError, ZeroDivisionError):
        return None


def _same_plain_value(a: str, b: str) -> bool:
    """Whether `b` says the plain value `a` says: equal as numbers (`12` and `12.0`, `0.5` and
    `1/2`), or one the percent of the other (`0.5` and `50\\%`, `30\\%` and `0.3`; also `50` and `50\\%`)."""
    x, y = _plain_float(a), _plain_float(b)
    if x is None or y is None:
        return False
    (xv, x_percent), (yv, y_percent) = x, y
    return any(abs(u - v) <= 1e-9 * max(1.0, abs(u)) for u, v in (
        (xv, yv), *([(xv, yv / 100)] if y_percent else []), *([(xv / 100, yv)] if x_percent else [])))


def _rounds_to(value: str, rounded: str) -> bool:
    """Whether `rounded` (said "about …" after `value`) may be a rounding of `value`, or `value` one
    of `rounded`: `rounded` closer than a unit in its last decimal place shown (`1.4142` and `1.41`,
    `12.5` and `13`), an integer ending in zeros within half a unit of its last non-zero digit
    (`1234` and `1200`), within 5% of a value with decimals (`2.5` and `2.6`), or `value` what
    `rounded` gives at the decimals `value` shows (`3` and `3.46`, `12` and `12.3`; `100` and `104`
    are two answers: 104 rounds to 104, not 100). True when either is no plain number
    (`$\\frac{\\sqrt2}{2}$` and 0.707: the rounding of an expression is not checked here)."""
    x, y = _plain_float(value), _plain_float(rounded)
    if x is None or y is None or x[1] != y[1]:
        return True
    xv, yv = x[0], y[0]
    gap = abs(xv - yv)
    shown_y, shown_x = _shown_number(rounded), _shown_number(value)
    if gap < 10.0 ** -_decimals(shown_y) or gap <= 0.5 * 10.0 ** -_decimals(shown_x) + 1e-12:
        return True
    zeros = len(shown_y) - len(shown_y.rstrip("0")) if "." not in shown_y and "/" not in shown_y else 0
    if zeros and gap <= 0.5 * 10.0 ** zeros:
        return True  # `1200` after 1234: rounded at its significant figures
    return "." in shown_x and gap <= 0.05 * abs(xv)


def _shown_number(value: str) -> str:
    """The number `value` writes, as written (less `$`, a `\\$` sign, a percent sign and commas)."""
    shown = value.strip().strip("$").strip().removeprefix("\\$")
    return re.sub(r" ?\\?%$", "", shown).replace(",", "")


def _decimals(shown: str) -> int:
    """How many decimals the number `shown` (see `_shown_number`) shows: 2 for `3.46`, 0 for `3/4`."""
    shown = shown.split("/")[0]
    return len(shown.split(".")[1].strip()) if "." in shown else 0


def _bracket_after_box(tail: str, box: str | None) -> str | None:
    """The value a bracket right after the box gives when it is not the box's (rules 18): a plain
    value (`\\boxed{12} (13)`, `(i.e. 13)`, `(= 13)`, `(alternatively 13)`, `(13 if we count the
    teacher)`, `(13 otherwise)`, `(if we count the teacher, 13)`, `(otherwise 13)`, `(thirteen)`), arithmetic that does not come to it (`(3 × 5)`, `(3 \\times 5 = 15)`),
    or a value "about" it that is no rounding of it (`(about 20)`); else None. Read only when the box
    holds a plain number, as `_bracketed_hedge` reads "(or …)": another bracket is a remark or a
    unit (`(dozen)`, `(in dollars)`, `(cm)`, `(see above)`), a restatement (`\\boxed{0.5} (50\\%)`,
    `(3 × 4)`, `(3 × 4 = 12)`, `(twelve)`) or an expression's value, which is not compared here.
    A number alone in brackets (`\\boxed{12} (1)`) is read as a value, not as an equation label.
    Not read either: a share of a whole (`\\boxed{6} (60\\%)`, `(6/10)`, see `_share_of`), and an
    expression that is no plain value or arithmetic on them (`(4!)`, `(\\binom{4}{2})`)."""
    if box is None or "(" not in tail[:16] or _plain_float(box) is None:
        return None
    from rlvr.verifiers.math_extract import spelled_answer  # (math_extract imports this module)

    m = _BRACKET_AFTER_BOX_RE.match(tail)
    if m is None:
        return None
    box = box.strip()
    inside = _ALTERNATIVELY_RE.sub("", " ".join(m["inside"].split()), count=1)
    conditioned = _CONDITION_FIRST_RE.fullmatch(inside) if inside else None
    if conditioned is None and (not inside or inside.lower().startswith("or ")):
        return None  # "(or …)" is `_alternative`'s to read
    conditioned = conditioned or _CONDITIONED_RE.match(inside)
    if conditioned is not None and _BREAKDOWN_RE.search(inside):
        return None  # `(8 if boys and 7 if girls)`: the parts of the answer
    spelled = spelled_answer(inside)
    if conditioned is not None or spelled is not None:
        value = conditioned["value"] if conditioned is not None else spelled
        if conditioned is not None and _ROUNDED_RE.search(inside) and _rounds_to(box, value):
            return None  # `\\boxed{12.5} (if rounded to the nearest whole number, 13)`: its rounding, as `(about 13)`
        return None if _same_plain_value(box, value) else value
    if "=" in inside.lstrip("= "):  # a working and its result: `(3 × 5 = 15)`
        sides = [side.strip() for side in inside.split("=")]
        if not all(sides) or not all(_ARITHMETIC_FULL_RE.fullmatch(side) for side in sides):
            return None
        if any(_share_of(box, side) for side in sides):
            return None  # `\\boxed{6} (6/10 = 60\\%)`: the share the answer is of a whole
        return sides[-1] if not _same_plain_value(box, sides[-1]) else sides[0]
    parts = restatement_parts(f"{box} ({inside})")
    if len(parts) < 2 or _same_plain_value(box, parts[-1]) or _decimal_rounding(box, parts[-1]):
        return None
    value = parts[-1].strip().strip("$").strip()
    if not _ARITHMETIC_FULL_RE.fullmatch(value) and _plain_float(value) is None:
        return None  # `(4!)`, `(\\binom{4}{2})`: an expression, whose value is not compared here
    return None if _share_of(box, value) else parts[-1]


def _share_of(box: str, value: str) -> bool:
    """Whether `value`, in brackets after the plain-number box, is the share the box is of a whole,
    not another answer: a percent after a box that is none (`\\boxed{6} (60\\%)`), or a fraction whose
    numerator is the box (`\\boxed{6} (6/10)`, `(\\frac{6}{10})`)."""
    x, y = _plain_float(box), _plain_float(value)
    if x is None or y is None or x[1]:
        return False
    if y[1]:
        return True
    m = _PLAIN_FLOAT_RE.fullmatch(value.strip().strip("$").strip())
    numerator = m["n"] if m["n"] is not None else (m["a"] if m["b"] is not None else None)
    if numerator is None:
        return False
    return abs(float(numerator.replace(",", "")) - x[0]) <= 1e-9 * max(1.0, abs(x[0]))


def _decimal_rounding(shown: str, value: str) -> bool:
    """Whether the decimal `shown` (`0.33`) is `value` (`1/3`) rounded at the decimals it shows."""
    x, y = _plain_float(shown), _plain_float(value)
    if x is None or y is None or x[1] or y[1] or "." not in shown:
        return False
    return abs(x[0] - y[0]) < 10.0 ** -len(shown.strip().split(".")[1])


#: A said answer followed, in brackets, by its value written another way: `$\\frac{3}{4}$ (0.75)`,
#: `50% (0.5)`, `0.75 (3/4)`, `$\\frac12$ (or 0.5)`, `$\\frac{\\sqrt2}{2}$ (about 0.707)`, or by the
#: arithmetic that gave it (group "working": `12 (3 × 4)`, `12 (i.e., 4+8)`; after a space only,
#: or after "i.e."/"=": `2(3+4)` is a product).
_PLAIN_VALUE = r"-?\d[\d,]*(?:\.\d+)?(?: ?/ ?\d+| ?\^ ?\{?-?\d+\}?)?(?: ?\\?%)?"
#: Arithmetic on plain values, the working that gave the answer: `3 × 4`, `9 \\times 2`, `4+8`.
_ARITHMETIC = (_PLAIN_VALUE + r"(?: ?(?:[-+*/×÷·⋅]|\\(?:times|cdot|div)(?![A-Za-z])) ?" + _PLAIN_VALUE + r"){1,8}")
_RESTATED_RE = re.compile(  # matched on the answer with its whitespace runs squeezed to one space
    r"(?P<x>\$[^$]+\$|" + _PLAIN_VALUE + r")(?P<space> ?)"
    r"\( ?(?:(?P<how>about|approximately|approx\.?|roughly|around|nearly|\\approx|≈|~|=|or|i\.e\.,?|that is,?) ?)?"
    r"(?:(?P<y>\$[^$()]+\$|" + _PLAIN_VALUE + r")|(?P<working>" + _ARITHMETIC + r")) ?\)", re.IGNORECASE)
_ARITHMETIC_FULL_RE = re.compile(_PLAIN_VALUE + r"|" + _ARITHMETIC)
#: Longer than this, a said answer is no value with a restatement (and the match stays cheap).
_MAX_RESTATED_CHARS = 200


def restatement_parts(answer: str, *, said: bool = True) -> list[str]:
    """A said answer and the restatement of its value in brackets after it, as two answers that
    must both be right (`$\\frac{3}{4}$ (0.75)` gives `$\\frac{3}{4}$` and `0.75`, which the
    grader checks as it checks several boxes); so is arithmetic on plain values that gave it
    (`12 (3 × 4)`, `18 (i.e., 9 \\times 2)`: 12 and `3 × 4`, never the product 144; a working that
    does not come to the answer makes two different answers, a hedge); an approximate one (`(about 0.707)`) is dropped, as
    a rounding is no second answer, when it may be one (see `_rounds_to`: `12 (about 20)` is two
    answers). Anything else is `[answer]`. Read as maths, the brackets were a
    product: 3/4 times 0.75 equalled a gold of 9/16. Only for answers said in prose ("the answer
    is …"); `said=False` (a whole output that is its own answer) only after `$…$` maths. In a box,
    and as a bare answer, `2 (3)` is the product 6."""
    from rlvr.verifiers.math_extract import _APPROXIMATELY  # (math_extract imports this module)

    if "(" not in answer or len(answer) > _MAX_RESTATED_CHARS:
        return [answer]
    m = _RESTATED_RE.fullmatch(" ".join(answer.split()))
    if m is None or (not said and not m["x"].startswith("$")):
        return [answer]
    if m["working"] is not None and not m["space"] and not m["how"]:
        return [answer]  # `2(3+4)` without a space is maths: 2 times 7
    if (m["how"] or "").lower() in _APPROXIMATELY:  # a rounding is no second answer; another value is
        y = m["y"] if m["y"] is not None else m["working"]
        return [m["x"]] if m["y"] is None or _rounds_to(m["x"], y) else [m["x"], y]
    return [m["x"], m["y"] if m["y"] is not None else m["working"]]


#: A value and its condition after a box, past a comma or dash (rules 20): `\\boxed{12}, 13 if we
#: count the teacher`, `\\boxed{12} — 13 if inclusive` (not "with"/"including", see `_CONDITION`).
_CONDITIONED_AFTER_BOX_RE = re.compile(r"(?:[ \t$]|\\[)\]]){0,8}[,;\u2014\u2013-]{1,2}[ \t]*"
                                       r"(?P<value>-?\d[\d,]*(?:\.\d+)?)[ \t]+" + _CONDITION + r"\b", re.IGNORECASE)


def conditioned_after_box(tail: str, box: str | None) -> str | None:
    """The value `tail` gives right after a plain-number box, past a comma or dash, with the
    condition under which it holds (`, 13 if we count the teacher`, `— 13 if inclusive`) when it is
    not the box's value; else None (also for a breakdown, `— 8 if boys and 7 if girls`, and a case of
    a formula, `, 5 when n = 1`). As in
    brackets (see `_bracket_after_box`), a second answer."""
    if box is None or _plain_float(box) is None:
        return None
    m = _CONDITIONED_AFTER_BOX_RE.match(tail)
    if m is None or _same_plain_value(box, m["value"]):
        return None
    if tail[m.end("value"):m.end()].strip().lower() == "when":
        return None  # `; 3 when counted by rows`, `, 5 when n = 1`: another case or quantity (review of rules 26)
    clause = tail[m.end():m.end() + 200]
    clause = clause[:min((i for i in (clause.find(c) for c in ".;\n") if i >= 0), default=len(clause))]
    if _BREAKDOWN_RE.search(clause) or "=" in clause:
        return None  # `— 8 if boys and 7 if girls`: the parts of the answer; `, 5 when n = 1`: another case
    return m["value"]


#: A bracket ending a said answer, after a space (`13 (12 students and 1 teacher)`): its content,
#: one line without brackets. The spaces are entered only where their run starts: linear.
_TRAILING_BRACKET_RE = re.compile(r"(?<![ \t])[ \t]+\((?P<inside>[^()\n]{1,120})\)\Z")
_BREAKDOWN_NUMBER_RE = re.compile(r"(?<![\w.,])\d+(?:\.\d+)?(?![\w.,])")
_BREAKDOWN_WORD_RE = re.compile(r"[A-Za-z]+")
#: Signs that make the numbers of a bracket no parts adding up: a difference, ratio, comparison,
#: percent or LaTeX (`12 students − 1 absent`, `12/13`).
_NOT_PARTS_RE = re.compile(r"[\u2212\u00f7/=<>%\\$]|(?<![A-Za-z])-|-(?![A-Za-z])")
#: Words that make a bracket a condition, an alternative, a subtraction or a rounding, not a
#: breakdown: `13 (12 if we exclude 1 teacher)` names 12 as another answer. (Words that change the
#: value, `less`, `fewer`, `too`, `roughly`, are `changes_value`'s, checked beside these. `unless`,
#: `else`, `otherwise` (`retracts`) and `about`, `around`, `nearly`... (`_qualifies`) are checked
#: before these on the whole bracket; they are kept here too, so this list holds every such word.)
_NOT_BREAKDOWN_WORDS = frozenset(
    "if when whenever unless assuming assume suppose supposing could would might may can should also another "
    "other else otherwise without exclude excludes excluding excluded minus subtract subtracting "
    "about approx around nearly almost estimated".split())
#: Words that make a bracket restating the answer's own number a comment on how sure it is, not a
#: count (review of rules 29: `12 (12 needs checking)`, `12 (12 is an upper bound)`, `12 (12 I
#: think)`): a verb saying what the number is, a person, a check to be done, a hope. With them the
#: bracket stays part of the answer, as before rules 29 (see `breakdown_start`).
_NOT_RESTATING_WORDS = frozenset(
    "is are was were be been being seems seem appears appear looks look i me my we our us sure hope hoping "
    "check checking checked recheck rechecking verify verifying confirm need needs needed pending tbd".split())


#: Words that make a bracket repeating the answer's own number a doubt or a qualifier on it, not
#: what it counts (second review of rules 29: `12 (12 doubtful)`, `12 (12 in theory)`, `12 (12
#: lol)`); nouns, adjectives, "of them", "per box", "percent" name what is counted.
_DOUBT_WORDS = DOUBT_WORDS | {"believe", "think"}


def breakdown_start(answer: str) -> int | None:
    """Where a bracket ending the said answer `answer` starts when it only breaks the answer's plain
    number down into its parts, in words (`13 (12 students and 1 teacher)`, `12 (3 boxes of 4 each)`):
    the numbers in it add up to the answer, multiply to it, or are the answer itself (`13 (13 people
    in all)`); None otherwise (rules 29). Read as maths, such a bracket made the answer unreadable, a
    right answer unparsable; `12 (3 × 4)` without words is `restatement_parts`'s to read. A bracket
    with a condition, an alternative, a negation, a rounding, a number in words or an operation in
    words or signs (`13 (12 if we exclude 1 teacher)`, `13 (or 12 students and 1 teacher)`,
    `13 (12 students − 1 absent)`) may name another answer, and is kept; so is one that qualifies
    or doubts the answer (`12 (12 tentative)`, `12 (12 is an estimate)`, `12 (12? let me recheck)`,
    see `math_extract._qualifies` and `_NOT_RESTATING_WORDS`; review of rules 29: such a bracket
    would otherwise pass a hedged answer as a plain one)."""
    from rlvr.verifiers.math_extract import _qualifies
    from rlvr.verifiers.math_normalize import changes_value, retracts  # (as the other imports here: inside)

    if not answer.endswith(")") or len(answer) > _MAX_RESTATED_CHARS:
        return None
    m = _TRAILING_BRACKET_RE.search(answer)
    if m is None:
        return None
    number = _plain_float(answer[:m.start()])
    inside = m["inside"]
    words = [w for w in _BREAKDOWN_WORD_RE.findall(inside) if len(w) > 1]
    if number is None or number[1] or not words or _NOT_PARTS_RE.search(inside) or retracts(inside):
        return None
    if "?" in inside or _qualifies(inside):
        return None  # `12 (12? let me recheck)`, `12 (12 is an upper bound)`: a hedge, not its parts
    if any(w.lower() in _NOT_BREAKDOWN_WORDS or changes_value(w) for w in words):
        return None
    parts = [float(n) for n in _BREAKDOWN_NUMBER_RE.findall(inside)]
    if not parts or len(parts) > 8:
        return None
    product = 1.0
    for part in parts:
        product *= part
    whole = number[0]
    if all(p == whole for p in parts):
        # The answer's own number again (`13 (13 people in all)`): its words must name what is
        # counted, no more; "I", "is", "needs checking", "doubtful" make it a remark about the answer.
        lowered = [w.lower() for w in _BREAKDOWN_WORD_RE.findall(without_case_phrases(inside))]
        if any(w in _NOT_RESTATING_WORDS or w in _DOUBT_WORDS for w in lowered):
            return None
        return m.start()
    if any(abs(got - whole) <= 1e-9 * max(1.0, abs(whole)) for got in (sum(parts), product)):
        return m.start()
    return None
