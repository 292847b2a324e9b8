"""The claims of a step (`rlvr.verifiers.steps`): its chains `a = b = c` and the links they state.

`_all_claims` cleans a step of its layout, emphasis and labels, cuts it into maths pieces and chains
(`_chains`: at `. `, `; `, `, `, "and", "so", `=>`, inequality signs, ...), and reads each chain's
links (`_chain_claims`), continuing the chain of the step or row before it where one starts with `=`.
Approximate and hedged links are marked with `APPROX_MARK` for the checker, a decimal cut off with
"..." is kept as written (`_uncut` drops the ellipsis), and a division with a remainder
(`17 ÷ 5 = 3 remainder 2`) is read as one claim (`_remainders`). `find_claims` is the public view.
Split out of `steps.py` so that finding claims is apart from checking them.
"""

from __future__ import annotations

import re
from fractions import Fraction
from itertools import accumulate

from rlvr.verifiers.math_normalize import _NUMBER_WORDS
from rlvr.verifiers.math_units import Unit, read_unit
from rlvr.verifiers.step_congruence import MOD_NOTE_RE, congruence, solution_work
from rlvr.verifiers.step_goes_on import _GRID_RE, _LAYOUT_RE, _SPACE_RE, _bare_row, _first_side, _goes_on, _run_on
from rlvr.verifiers.step_marks import _HEDGE_HINT_RE, _SPLIT_RE, PRECISION_BRACKET_RE, _unclaimed, rounding_named
from rlvr.verifiers.step_numbers import PLAIN_NUMBER_RE as _PLAIN_NUMBER_RE, cut_decimal, exact_number
from rlvr.verifiers.step_sides import (_is_product, _is_word, _left_side, _parses, _protected, _right_side, _unwrapped,
                                       _without_end_punctuation)
from rlvr.verifiers.step_split import _BINARY_OP, _ellipsis_in_expression, _ellipsis_kept, _math_pieces, _without_thousands
from rlvr.verifiers.step_units import is_conversion, side_unit, temperature_links, unit_claim

_MAX_CLAIMS = 400
_CALC_RE = re.compile(r"<<([^<>=]+)=([^<>]+)>>")
_HEADING_RE = re.compile(r"^\s*#{1,6}\s+")
_LABEL_RE = re.compile(
    r"^\s*(?:[*_]{1,2})?(?:[A-Za-z]+\.?\s*+\d+[a-z]?\s*+(?:[*_]{1,2})?\s*+:(?=\s|[*_]|$)"  # (but see `_label_match`)
    r"|(?:step|stage|part)\s*+\d+[a-z]?\s*+(?:[*_]{1,2})?\s*+(?>--|[:.)\-–—])|\d{1,3}[.)](?=\s)|[-*•](?=\s)"
    r"|\(?[a-z]\)(?=\s)|#\d+[:.)]?(?=\s)"
    r"|\d{4}:(?:[*_]{1,2})?(?=[ \t][^=\n]*=)(?![^\n]*\d[ \t]*:[ \t]*\d)"  # `2023: 3 × 4 = 12`; not `3: 1 = 6: 2`
    r"(?=[ \t][-+]?[^=\n]*?[\w)}\]][ \t]*(?:[-+*×·÷/^]|\\(?:times|cdot|div)(?![A-Za-z]))))"  # not `12: 4 = 3`
    r"\s*(?:[*_]{1,2}(?=\s))?", re.IGNORECASE)
#: A number in `_WORD_RATIO_RE`: `12`, `1,000`, `0.75` (a full stop after it ends the sentence).
_RATIO_NUMBER = r"(\d[\d,]*+(?:\.\d+)?+)"
#: A `Word N:` label (`_LABEL_RE`, not `Step N`) before `M = R`, R a number or a ratio `a : b`, and nothing
#: more but a word or a bracket (`Day 2: 12 = 12 apples`): read also as the ratio `N : M = R` by
#: `_label_match`. Every run possessive: linear in a run of spaces. Groups: the word, N, M, R (or a) and b.
_WORD_RATIO_RE = re.compile(
    r"\s*+(?:[*_]{1,2})?(?!(?:step|stage|part)\s*\d)([A-Za-z]+)\.?\s*+(\d+)\s*+(?:[*_]{1,2})?\s*+:[ \t]*+"
    rf"{_RATIO_NUMBER}[ \t]*+=[ \t]*+{_RATIO_NUMBER}(?:[ \t]*+:[ \t]*+{_RATIO_NUMBER})?+"
    r"[ \t]*+(?:[.;,!?]?[ \t]*+(?:\n|$)|[A-Za-z(])", re.IGNORECASE)
# markdown emphasis and code: backticks, and "**", "__", "*" or "_" opening a word (after a space) or closing
# one (before a space or punctuation); "2 ** 3", "2**3" and "3 * 4" are maths, and so is a star between
# an operand's end and an operand's start ("3 *4", "(2) **3"), see `_is_product`; a subscript (`x_1`) is
# neither, its `_` being inside a word
_EMPHASIS_RE = re.compile(r"`+|(?<!\S)(?:\*\*|__|\*|_)(?=[^\s*_])|(?<=[^\s*_])(?:\*\*|__|\*|_)(?=[\s.,;:!?)\]]|$)")
#: Layout right after a run of stars (spaces aside): a column break (`\quad`, what a table's bar or an `&`
#: becomes) or a row break (`\\`), which is no operand, so the stars before it close an emphasis.
_LAYOUT_AFTER_RE = re.compile(r"\s*(?:\\q?quad(?![A-Za-z])|\\\\)")
_CURRENCY_RE = re.compile(r"\\?[$€£¥](?=\s?-?\.?\d)|(?<=\d)\s?[€£¥]")
_LINK_RE = re.compile(r"(=|\\approx(?![A-Za-z])|≈|\\simeq(?![A-Za-z])|≃|≅|\\cong(?![A-Za-z]))")
#: Three digits after a space between digit groups (`10\\,000`): a thousands separator, as `normalize` reads it.
_DIGIT_GROUP_RE = re.compile(r"\d{3}(?!\d)")
#: A relation after an `&` (spaces aside): the `&` is that relation's alignment point (`12 &= 3 \\cdot 4`).
_RELATION_AFTER_RE = re.compile(
    r"\s*+(?:[=<>≤≥≠≈≡≃≅]|\\(?:approx|simeq|cong|equiv|leq?|geq?|lt|gt|neq?|ll|gg|leqslant|geqslant|sim|propto)"
    r"(?![A-Za-z]))")
_AMPERSAND_RE = re.compile(r"(?<!\\)&")
#: A run of spaces and wide spaces (`\\quad`, `\\qquad`): next to an `=` such a run is only space
#: (`3 \\cdot 4 \\quad=\\quad 12`), where `_SPLIT_RE` would cut at its `\\quad`. Runs are matched whole,
#: left to right: linear in a line.
_GAP_RE = re.compile(r"(?:\s|(?<!\\)\\q?quad(?![A-Za-z]))+")
#: A step that starts with `=` (maths delimiters aside) continues the chain of the step before it.
_CONTINUES_RE = re.compile(r"\s*+(?:\$\$?|\\[\[(])?\s*+=(?!>)")
#: A step that passes the chain before it on: it starts with `=` or is nothing but maths delimiters,
#: row breaks and layout (`$$`, `\\]`, `\\begin{aligned}`), once layout is off; any other text (a label
#: "Step 2:", a rule `---`) ends that chain.
_PASSES_RE = re.compile(r"(?:\s|\$|\\[\[\]()]|\\\\)*+(?:=|$)")
#: A maths delimiter `\\[` `\\]` `\\(` `\\)` left in a piece (`_math_pieces` cuts at pairs): its pair is on
#: another line, and it is no part of the claim beside it (`3 + 4 = 8 \\]` on a display's last line).
_LONE_DELIMITER_RE = re.compile(r"\\[\[\]()]")
_CONTENT_RE = re.compile(r"[^\W_]")
#: A `*` opening a line right before a number or bracket: a product going on (`_all_claims` keeps it).
_STAR_PRODUCT_START_RE = re.compile(r"\s*\*(?=\s*[\d(])")


def _chains(piece: str) -> list[tuple[str, bool, bool, bool]]:
    """The chains of one piece of a step (see `steps`' module docstring for the separators), once
    trailing punctuation (`_without_end_punctuation`) and brackets around the whole piece are off;
    each with whether it follows text (a split at a comma, a word or a label `\\text{Total:}`, not at
    a sign), whether it starts a row (a split at a line break `\\\\`) and whether it follows a note
    separator (`\\quad`, an `&` column). Chains without an '=' are listed too, a label as one: text
    between two rows breaks a continued chain (`_all_claims`)."""
    s = _unwrapped(_without_end_punctuation(piece.strip()))
    protected = _protected(s) if "," in s or ";" in s else None
    chains, start, preceded, row, note = [], 0, False, False, False
    for m in _SPLIT_RE.finditer(s):
        if m.group("punct") and protected is not None and protected[m.start()]:
            continue
        if m.group("punct") == "." and (_ellipsis_kept(s, m.start() - 2) or _ellipsis_in_expression(s, m.start() - 2)):
            continue  # the end of `6.666... dollars` (a decimal cut off) or of `1 + 2 + ... + 10`: no sentence's end
        if m.group("and") and re.search(r"\b(?:of|between)\s+\S+\s*$", s[max(0, m.start() - 60):m.start()],
                                        re.IGNORECASE):
            continue  # "the sum of 3 and 4": one noun phrase
        chains.append((s[start:m.start()], preceded, row, note))
        if m.group("label"):
            chains.append((m.group(), False, False, False))
        start = m.end()
        # text before the next chain: a split at a comma, "and", "so"...; not at a sign (`<`, `=>`)
        preceded = m.group("punct") is not None or m.group("label") is not None or m.group()[:1].isalpha()
        row = m.group("row") is not None
        note = m.group("note") is not None
    chains.append((s[start:], preceded, row, note))
    return chains


#: A claim as it is found (`_all_claims`): its left and right sides, the unit each names (`step_units.side_unit`) and
#: the units its chain names (shared by a chain and every row continuing it, so it grows as they are
#: read; None for a claim outside any chain: a GSM8K annotation, a congruence). See `step_units.other_units`.
Claim = tuple[str, str, "Unit | None", "Unit | None", "dict[Unit, None] | None"]
#: What a row starting with `=` continues (`_chain_claims`): the last side, its unit and its chain's units.
Carry = tuple[str, "Unit | None", "dict[Unit, None]"]


def _chain_claims(chain: str, follows_text: bool = False, carried: Carry | None = None,
                  fragment: str | None = None) -> tuple[list[Claim], Carry | None]:
    """The exact links of one chain `a = b ≈ c = d`, each side read as a number or skipped, and the
    side a row continuing the chain starts from: its last side, when that is read and is all of the
    chain's end (`_right_side`), else None (no claim is better than a claim about the wrong side).

    `carried`: the last side of the chain this one continues (`_all_claims`), the left side of a
    chain that starts with `=` (`= 18` after `3 \\cdot 4 + 5 = 12 + 5` claims `12 + 5 = 18`).
    A side with a modulus note (`1 \\pmod{5}`, `MOD_NOTE_RE`) states a congruence: the links touching
    it are no equalities, the chain's other links are (`2^{10} = 1024 = 4 \\pmod{5}` claims
    `2^{10} = 1024`); a last side that ends with the note, whose link's sides and modulus are integers
    (`step_congruence.congruence`), is claimed with its note (`1024 = 4 \\pmod{5}`), to be checked as a congruence.
    Units (`step_units.side_unit`): a link between two units of one dimension with different sizes (`100 \\text{ cm}
    = 1 \\text{ m}`) is a conversion, checked exactly (`step_units.conversion`), or no claim when a side is no
    exact number; between units of other kinds or powers the numbers are compared, as the unit is
    often written on one factor only (`\\$3 \\times 4 \\text{ lb} = \\$12`, `6 \\times 4 \\text{ m} = 24
    \\text{ m}^2`), but for one number against one number in another system of one quantity (degrees
    and radians, two currencies), which makes no claim (`step_units.unit_claim`). (A side
    naming a unit before its end, `50 \\text{ cm} \\times 2 \\text{ m}`, reads as no number.) In a chain naming two units of
    one dimension, its continued rows included, a link between a side with a unit and one without
    holds in either unit (`2 \\text{ h} &= 2 \\times 60 \\\\ &= 120 \\text{ min}`; `step_units.other_units`).
    A first link between two different plain numbers after text (`follows_text`: the chain was
    split from text before it at a comma or a word, see `_chains`; or words come before its first
    side) is no claim: it is the tail of an operation written in words (`Then add 5 = 17`, `The sum
    of 3, 4, and 5 = 12`, `each at $4 = $12`), never a computation stated in symbols. With `fragment`,
    the first side is the tail of an expression begun in the row or line before (`_goes_on`: `+ 15 = 210`
    after `120 + 45 + 30`), `fragment` being that expression: the first side is the two joined (`120 +
    45 + 30 + 15`, `_joined`), or none (no claim of the first link) when they cannot be joined safely."""
    bits = _LINK_RE.split(chain)
    parts, links = bits[0::2], bits[1::2]
    if len(parts) < 2:
        return [], None
    money = [_CURRENCY_RE.search(part) for part in parts]  # (a currency sign is the side's unit, `step_units.side_unit`)
    parts = [_inner_uncut(_CURRENCY_RE.sub("", part)) for part in parts]  # (`6.5... * 2` as written)
    continued = carried is not None and not parts[0].strip()
    said = parts[:]  # (how an approximate side was rounded is read from its words: `rounding_named`)
    parts[1:] = [_approx_words_off(part) if link != "=" else part for part, link in zip(parts[1:], links)]
    sides: list[str | None] = []
    whole = False
    for i, part in enumerate(parts):
        if i == 0:
            side = carried[0] if continued else _left_side(part)
        elif i == len(parts) - 1:
            side, whole = _right_side(part)
        else:
            side = part.strip() if _parses(part) else None
        if side is not None and MOD_NOTE_RE.search(side if i == 0 else part):
            side = None  # a congruence (the note after a last side may follow words: check its part)
        sides.append(side)
    if fragment is not None and not continued:
        sides[0] = _first_side(fragment, parts[0])  # `+ 15 = 210` after `120 + 45 + 30`
    elif sides[0] is None and not continued and len(parts) > 1 and sides[1] is not None:
        with_unit = _left_side(parts[0], unit_word=True)  # `5 kg = 5000 grams`: a conversion in plain words
        if with_unit is not None and is_conversion(side_unit(with_unit, None), side_unit(sides[1], money[1])):
            sides[0] = with_unit
    words_before = follows_text or len(parts[0].split()) > 1  # (a plain number is one token)
    if _plain_numbers_differ(sides[0], sides[1]) and links[0] == "=" and words_before:
        sides[0] = None  # the tail of an operation in words
    units = [None if side is None else side_unit(_uncut(side), money[i]) for i, side in enumerate(sides)]
    group: dict[Unit, None] = carried[2] if continued else {}
    if continued:
        units[0] = carried[1]
    group.update(dict.fromkeys(unit for unit in units if unit is not None))
    # (`0°C = 32°F`: two temperature scales, no claim; a last side's scale may be in words after it,
    # `= 77 degrees Fahrenheit`, that its side dropped)
    crossing = temperature_links(sides, parts)
    claims: list[Claim] = [
        (a, b, ua, ub, group) for i, (a, b, ua, ub, link) in enumerate(zip(sides, sides[1:], units, units[1:], links))
        if link == "=" and a is not None and b is not None and i not in crossing and unit_claim(a, ua, b, ub)]
    exact_at = _first_exact_side(sides)
    for i, (a, b, ua, ub, link) in enumerate(zip(sides, sides[1:], units, units[1:], links)):
        if (link in _APPROX_LINKS and a is not None and b is not None and i not in crossing
                and _approx_units_compare(a, ua, b, ub, said[i + 1])
                and (m := _APPROX_SIDE_RE.fullmatch(b)) is not None and not _MAGNITUDE_RE.search(b)):
            # `253/3 \\approx 84.3`: checked as plausible (`_approx_claim`); after rounded inputs
            # (`\\pi r^2 \\approx 3.14 \\times 144 \\approx 452.39`) also against the chain's first exact side
            first = sides[exact_at] if _ROUNDED_INPUT_RE.search(a) and exact_at < i else None
            how = rounding_named(said[i + 1])  # `= 13 (rounded up)`, `(nearest 0.05)`: how it was rounded
            right = (APPROX_MARK + m.group(1) + (_ROUNDING + how if how is not None else "")
                     + (_EARLIER + first if first is not None else ""))
            claims.append((a, right, None, None, None))
    end = parts[-1].strip()
    before = sides[-2]
    if (before is not None and links[-1] == "=" and MOD_NOTE_RE.search(end) and congruence(before, end)
            and not (len(parts) == 2 and words_before and _PLAIN_NUMBER_RE.fullmatch(before.strip()))):
        claims.append((before, end, None, None, None))  # `81 = 2 \\pmod{5}`: a congruence, checked as one
    if len(parts) > 2 and any(_is_word(w) for w in parts[-2].split()):
        whole = False  # `f(x) = x^2 + 1 at x = 2`: the last link is a note in words, not the chain's end
    return claims, (sides[-1], units[-1], group) if whole and sides[-1] is not None else None


#: The approximate links (`\\approx`, `≈`, `\\simeq`, `≃`; a hedged `=` reads as `≈`, `_unclaimed`), the
#: mark on the right side of such a claim (`_approx_claim`), and a hedge word opening the side after one.
_APPROX_LINKS = frozenset({"\\approx", "≈", "\\simeq", "≃"})
APPROX_MARK = "≈ "
#: The stated side of an approximate link that is checked: one plain number, maybe with words after it (`13 pens`).
_APPROX_SIDE_RE = re.compile(r"\s*(-?(?:\d+(?:\.\d*)?|\.\d+))(?:\s+[A-Za-z]+){0,3}\s*")
#: A magnitude or percent word after an approximate number (`\\approx 3 million`, `\\approx 14 percent`):
#: the number is not the value, so the link makes no claim.
_MAGNITUDE = (r"(?:hundred|thousand|million|billion|trillion|dozen|lakh|crore|grand|k|bn|mn|percent|per\s*cent|pct)"
              r"(?:e?s)?(?![A-Za-z])|\\?%")
_MAGNITUDE_RE = re.compile(rf"(?<![A-Za-z])(?:{_MAGNITUDE})", re.IGNORECASE)
#: An approximate link whose number a magnitude word follows, inside or after the maths (`\\approx 3$ million`).
_MAGNITUDE_AFTER_RE = re.compile(rf"(?:≈|≃|\\approx|\\simeq)(?=\s*(?:about|approximately|roughly|around)?\s*"
                                 rf"-?[\d.,]+\s*(?:\$|\\\)|\\\])?\s*(?:{_MAGNITUDE}))", re.IGNORECASE)
#: A decimal literal that is no integer (`3.14`, `1.4802`): in the left side of an approximate link, a
#: rounded input, whose rounding the right side may carry on (`_approx_claim`).
_ROUNDED_INPUT_RE = re.compile(r"(?<![\d.])\d*\.\d*[1-9]")
#: Between an approximate link's number and the earlier side of its chain it may also be checked against,
#: and between the number and how its words say it was rounded (`step_marks.rounding_named`).
_EARLIER = " \x00 "
_ROUNDING = " \x01 "
_HEDGE_WORD_RE = re.compile(r"^\s*(?:about|approximately|approx\.?|roughly|around)(?![A-Za-z])", re.IGNORECASE)


def _approx_units_compare(a: str, ua: Unit | None, b: str, ub: Unit | None, said: str) -> bool:
    """Whether an approximate link between sides in these units (`side_unit`) is checked on its bare numbers
    (`_approx_claim`): with no unit or one unit on both sides (`\\$100 / 3 = \\$33.34 (rounded up to the nearest
    cent)`); with other units, when the words after it name how it was rounded (`step_marks.rounding_named`:
    `\\$100 / 3 = 35.55 (rounded up to the nearest cent)`, a hedged `=` whose exact reading rules 9 checked)
    and an exact link would compare its numbers (`step_units.unit_claim`, no conversion). Other approximate
    links with units make no claim (`1 \\text{ mile} \\approx 1.6 \\text{ km}`; `2 \\text{ h} \\approx 120`
    in a chain in minutes)."""
    if ua == ub:
        return True
    return rounding_named(said) is not None and not is_conversion(ua, ub) and unit_claim(a, ua, b, ub)


def _approx_words_off(part: str) -> str:
    """An approximate link's right `part` without a hedge word before its number (`≈ about 3.3`) or a
    precision bracket after it (`≈ 33.33 (2 d.p.)`: `step_marks.PRECISION_BRACKET_RE`), whose words
    would leave the side unread; how it was rounded is read from the words as written."""
    part = _HEDGE_WORD_RE.sub("", part, count=1)
    return PRECISION_BRACKET_RE.sub(r"\1", part, count=1) if "(" in part else part


def approx_parts(right: str) -> tuple[str, str | None, str | None]:
    """The stated number of an approximate claim's right side (after `APPROX_MARK`), how it was rounded
    ("up", "down", a step such as "0.05", or None: `step_marks.rounding_named`) and the chain's earlier
    exact side it may also be checked against (or None)."""
    stated, _, first = right.partition(_EARLIER)
    stated, _, how = stated.partition(_ROUNDING)
    return stated.strip(), how or None, first or None


def _first_exact_side(sides: list[str | None]) -> int:
    """The index of a chain's first exact side: read, with a digit and no rounded input (`_ROUNDED_INPUT_RE`);
    `len(sides)` when there is none. An approximate link after rounded inputs is also checked against it
    when it comes before the link (`_chain_claims`). Found once per chain, not once per link: a chain of
    thousands of links (`1.1 ≈ 1.1 ≈ ...`) is read in time linear in its length."""
    return next((i for i, s in enumerate(sides)
                 if s is not None and re.search(r"\d", s) and not _ROUNDED_INPUT_RE.search(s)), len(sides))


def _uncut(side: str) -> str:
    """`side` without the ellipsis of a decimal cut off (`16.666... dollars` as `16.666 dollars`): how its
    unit is read, and how its digits are judged when the cut cannot be checked (`_cut_reading`)."""
    if cut_decimal(side) is None:
        return side
    return re.sub(r"(?<=\d)(?:\.{3}|…)", "", side, count=1)


def _inner_uncut(side: str) -> str:
    """`side` with the ellipsis of each decimal cut off in it dropped, unless the side is one such decimal
    (`step_numbers.cut_decimal`): in a longer side (`6.5... * 2`, `(13.0...)`, `0.333... + 0.333...`) the
    digits are judged as written, so an ellipsis hides no false claim."""
    if "." not in side and "…" not in side or cut_decimal(side) is not None:
        return side
    return re.sub(r"(?<=\d)(?:\.{3}|…)", "", side)


def _plain_numbers_differ(left: str | None, right: str | None) -> bool:
    """Whether `left` and `right` are both a plain decimal number (`12`, `-4.5`), and different."""
    if left is None or right is None:
        return False
    a, b = left.strip(), right.strip()
    return bool(_PLAIN_NUMBER_RE.fullmatch(a) and _PLAIN_NUMBER_RE.fullmatch(b)) and Fraction(a) != Fraction(b)


def find_claims(step: str) -> list[tuple[str, str]]:
    """The (left, right) equalities stated in one step, consecutive links of chains included (at
    most `_MAX_CLAIMS`; `verify_steps` fails a step that states more). A link of a chain that later
    rows, in other steps, turn into a conversion (`step_units.other_units`) is checked by `verify_steps` as such."""
    with solution_work():
        claims = _all_claims(step)[0]
    return list(dict.fromkeys((c[0], c[1]) for c in claims if not c[1].startswith(APPROX_MARK)))[:_MAX_CLAIMS]


def _all_claims(step: str, carried: Carry | None = None, following: str = "",
                previous: str = "") -> tuple[list[Claim], Carry | None]:
    """Every distinct (left, right) equality stated in one step, in order, and the side a step
    starting with `=` after it continues from (None when there is none, or it is not certain).

    A chain that starts with `=` continues the one before it, its left side being that chain's last
    side: in an aligned row after a line break (`12 + 5 \\\\ &= 18`), or at the start of the step,
    continuing the previous step's last row (`carried`: what this function returned for it). A
    row's main chain is its first with an `=`; only that chain is continued. What a note separator
    (`\\quad`, an `&` column) puts after it in the row is a note, which changes nothing
    (`&= 4 + 4 + 1 \\quad (x = 2) \\\\ &= 9` claims `4 + 4 + 1 = 9`); other text or another chain
    after it (a comma, a word, a sign) leaves the row with no side to continue, and so does text
    before it. A step that is nothing but maths delimiters and layout (`$$`, `\\begin{aligned}`)
    passes `carried` on; any other step without an `=` at its start (a label "Step 2:", `---`)
    ends it. Links the text rejects, asks about or hedges are read as not stated (`_unclaimed`), and a
    division with a remainder is one claim of its own (`_remainders`), before the chains are read.

    A row or step that goes on with an expression the one before it left unfinished (`_goes_on`:
    `120 + 45 + 30 \\\\ + 15 = 210`; `previous` is the step before in the same part, or "" where nothing
    goes on from it: `_step_before`) has that expression and its own start as its first side (`_joined`:
    `120 + 45 + 30 + 15 = 210` is claimed), or none when they cannot be joined safely (no claim)."""
    claims: list[Claim] = []
    for m in _CALC_RE.finditer(step):  # GSM8K annotations are screened like any other claim
        left, right = (_without_thousands(g).strip() for g in m.groups())
        if _parses(left) and _parses(right):
            claims.append((left, right, None, None, None))
    step = _CALC_RE.sub("", step)
    if "\\" in step:
        step = _SPACE_RE.sub(lambda m: _space(step, m), step)
    if "&" in step:
        step = _AMPERSAND_RE.sub(lambda m: _column(step, m), step)
    if "|" in step:
        step = _bar_columns(step)
    goes_on = _goes_on(previous, step[:200], line=True) if previous else None  # (before a bullet `- ` is cut off as a label)
    if "\\begin" in step or "\\end" in step:
        step = _GRID_RE.sub(lambda m: " \\\\ ", step)  # an array's, matrix's or cases' edge: a row break
    step = _LAYOUT_RE.sub(" ", step)
    last = carried if _PASSES_RE.match(step) else None  # the side a chain starting with `=` continues
    step = _without_label(_HEADING_RE.sub("", step, count=1))
    if goes_on and (star := _STAR_PRODUCT_START_RE.match(step)):
        step = f"{step[:star.end() - 1]}\\times {step[star.end():]}"  # `*2 = 24` after `3 * 4`: a product, no emphasis
    step = _without_thousands(step)
    step = re.sub(r"={2,}", "=", step.replace("~", " ").replace("＝", "="))
    if "\\" in step:
        step = _GAP_RE.sub(lambda m: _gap(step, m), step)
    step = _EMPHASIS_RE.sub(lambda m: _emphasis_or_product(step, m), step)
    if _HEDGE_HINT_RE.search(step):
        step = _unclaimed(step, following)
    if "≈" in step or "≃" in step or "\\" in step:  # `\\approx 3$ million`: the number is not the value, no claim
        step = _MAGNITUDE_AFTER_RE.sub("≠", step)
    if _REMAINDER_HINT_RE.search(step):
        found_rem, step = _remainders(step)
        claims.extend(found_rem)
    continues = _CONTINUES_RE.match(step) is not None
    main = note = False  # whether the row's main chain has come; whether a note has started after it
    before, row_start = None, True  # the last row's text (None: the step's first row), whether no text came in this row
    for piece in _math_pieces(step):
        if not _has_link(piece):
            if not note and _CONTENT_RE.search(piece):
                last = None  # text between: nothing after it continues the chain before it
            if piece.strip():
                row_start = False
            continue
        if "\\" in piece:  # a display's delimiter whose pair is on another line (`3 + 4 = 8 \\]`) is space
            piece = _LONE_DELIMITER_RE.sub(" ", piece)
        for chain, after_text, after_row, after_note in _chains(piece):
            if after_row:
                main = note = False  # a new row
                row_start = True
            elif after_note and main:
                note = True  # the rest of the row is a note to its main chain
            fragment = None
            if row_start and chain.strip():  # the row's first text: it may go on from the row (or step) before
                fragment = goes_on if before is None else _goes_on(before, chain)
                row_start = False
            if fragment is not None and not _has_link(chain):
                # a row going on with no link (`120 + 45 \\\\ + 30`): the next row goes on from the two joined,
                # and a row starting with `=` from the joined expression (`\\\\ = 200`)
                before = _run_on(previous if before is None else before, chain)
                side = _first_side(fragment, _bare_row(chain))
                last = None if side is None or note else (side, None, {})
                continue
            if chain.strip():
                before = chain
            if not _has_link(chain):
                if not note and _CONTENT_RE.search(chain):
                    last = None
                continue
            continued = chain.lstrip().startswith("=") and not main and (after_row or continues)
            found, end = _chain_claims(chain, follows_text=after_text, carried=last if continued else None,
                                       fragment=fragment)
            continues = False  # (only the step's first chain continues the step before)
            claims.extend(found)
            if not main:
                last, main = end, True
            elif not note:
                last = None  # a second chain in the row: which one goes on is not certain
    distinct: dict[tuple, Claim] = {}
    for claim in claims:
        distinct.setdefault(claim[:4], claim)
    return list(distinct.values()), last


def _emphasis_or_product(step: str, m: re.Match) -> str:
    """A match of `_EMPHASIS_RE` in `step` as it is read: kept when it is a product's stars (`_is_product`:
    `3 *4`), else a space. Stars before a column or row break (`_LAYOUT_AFTER_RE`) close an emphasis
    whatever the break starts with: a table cell `| 36 + 16 = **53** |` is read as `36 + 16 = 53`, not as a
    product of 53 and the `\\quad` its closing bar became (which hid the claim)."""
    if _is_product(step, m.start(), m.end()) and not _LAYOUT_AFTER_RE.match(step, m.end()):
        return m.group()
    return " "


def _has_link(text: str) -> bool:
    """Whether `text` has an exact or an approximate link (`=`, `\\approx`, `≈`, `\\simeq`, `≃`)."""
    return "=" in text or "≈" in text or "≃" in text or "\\approx" in text or "\\simeq" in text


def _space(step: str, m: re.Match) -> str:
    """A match of `_SPACE_RE` as it is read: a row break as a plain `\\\\`, `\\!` as nothing (`1,\\!000`), a
    space between digit groups as it is (`10\\,000`, thousands for `normalize`), any other as a space."""
    token = m.group()
    if token.startswith("\\\\"):
        return " \\\\ "
    if token == "\\!":
        return ""
    if step[m.start() - 1:m.start()].isdigit() and _DIGIT_GROUP_RE.match(step, m.end()):
        return token
    return " "


def _column(step: str, m: re.Match) -> str:
    """An `&` as it is read: kept (layout, `_LAYOUT_RE` drops it) before a relation (`12 &= 3 \\cdot 4`)
    or right after one (`a &=& b`); otherwise it starts a column, `\\quad`: another equation or a note
    (`2 + 2 &= 4 & 1 + 2 &= 3`, `&& \\text{(sum)}`), which ends the chain before it."""
    if _RELATION_AFTER_RE.match(step, m.end()):
        return "&"
    j = m.start() - 1
    while j >= 0 and step[j].isspace():
        j -= 1
    return "&" if j >= 0 and step[j] in "=<>≤≥≠≈≡" else " \\quad "


#: A bar that may separate Markdown table cells: not a LaTeX delimiter (`\\|`, `\\left|`, `\\big|`) nor half of `||`.
_BAR_RE = re.compile(r"(?<![\\|])(?<!\\left)(?<!\\right)(?<!\\middle)(?<!\\[bB]ig)(?<!\\[bB]igg)"
    r"(?<!\\[bB]ig[lrm])(?<!\\[bB]igg[lrm])\|(?!\|)")
#: Text that starts, or ends, with a relation (spaces aside): a bar next to it is an absolute value's.
_RELATION = r"(?:[=<>≤≥≠≈]|\\(?:approx|leq?|geq?|neq?)(?![A-Za-z]))"
_RELATION_START_RE = re.compile(rf"\s*{_RELATION}")
_RELATION_END_RE = re.compile(rf"{_RELATION}\s*$")
#: Text that starts, or ends, with a relation or a binary operator (spaces aside; `-` and `^` included):
#: a bar next to it pairs with another around an expression (`| 3 - 5 | + 1`, `2 \\cdot | 3 - 8 |`).
_JOINED = rf"(?:{_RELATION}|{_BINARY_OP}|\^)"
_JOINED_START_RE = re.compile(rf"\s*{_JOINED}")
_JOINED_END_RE = re.compile(rf"{_JOINED}\s*$")
#: A relation anywhere in a part: outside a table row a spaced bar separates two claims only
#: (`3 * 4 = 12 | 5 * 6 = 30`), never the operands of one (`5 | 3 = 7`, `P(A | B) = 0.5`).
_RELATION_IN_RE = re.compile(_RELATION)


def _bar_columns(step: str) -> str:
    """`step` with the bars that separate cells as column breaks (` \\quad `, as an `&` starting a column,
    `_column`), so that each cell is read on its own: a Markdown table row (`| 2 | 12 + 5 = 18 |`,
    `_table_row`) or two claims side by side (`3 * 4 = 12 | 5 * 6 = 30`). A bar spaced on both sides (or
    at the step's edge) separates; in a row that opens and closes with a bar and has no spaced one
    (`|1|3*4=12|`) every bar does, unless a cell would start or end with a relation or an operator
    (`|3 - 5| = |5 - 3|`: absolute values). Bars written tight (`|x - 3| = 5`, `2 = |3 - 5|`) are an
    absolute value's, and outside a table row a step is read as written, all its bars absolute values,
    when a split would leave a part starting or ending with a relation or a binary operator (`| -3 | =
    3`, `| 3 - 5 | + 1 = 3`, `2 \\cdot | 3 - 8 | + 1`, `| -3 | \\cdot 2`) or holding an odd number of
    bars (`| 3 - 5 |^2 = 4`): such bars pair around an expression. Outside a table row a spaced bar also
    separates only claims: every part must hold a relation of its own (`3 * 4 = 12 | 5 * 6 = 31`) or be
    a label (`Total | 3 * 4 = 13`: `_claim_or_label`), else the bar is an operator or a condition's
    (`5 | 3 = 7`, bitwise or; `P(A | B) = 0.5`) and the step is read as written."""
    bars = [m.start() for m in _BAR_RE.finditer(step)]
    spaced = [i for i in bars if (i == 0 or step[i - 1].isspace()) and (i + 1 == len(step) or step[i + 1].isspace())]
    inner = step.strip()
    row = len(bars) >= 2 and inner.startswith("|") and inner.endswith("|")
    if row and len(spaced) >= 2:
        table = _table_row(step, spaced)
        if table is not None:
            return table
    if any(_JOINED_END_RE.search(step, max(0, i - 12), i) or _JOINED_START_RE.match(step, i + 1) for i in spaced):
        return step  # `| -3 | = 3`, `| 3 - 5 | + 1 = 3`: spaced absolute values
    if not spaced:
        if not row:
            return step
        cells = [step[a + 1:b] for a, b in zip(bars, bars[1:])]
        if any(_JOINED_START_RE.match(cell) or _JOINED_END_RE.search(cell) for cell in cells):
            return step
        spaced = bars
    edges = [0, *(i + 1 for i in spaced), len(step) + 1]
    if any(len(_BAR_RE.findall(step, a, b - 1)) % 2 for a, b in zip(edges, edges[1:])):
        return step  # `| 3 - 5 |^2 = 4`: a part with an unpaired bar
    if not row and _bar_operand([step[a:b - 1] for a, b in zip(edges, edges[1:])]):
        return step  # `5 | 3 = 7` (bitwise or), `P(A | B) = 0.5`: a bar inside one claim, no column
    return _split_at(step, spaced, ())


#: A short label before a spaced bar (`Day 1 | 3 × 4 = 13`, `Step 1:`, `Q3`, `**Week 2**`): no operand.
_BAR_LABEL_RE = re.compile(r"\s*(?:[*_]{1,2})?(?:[A-Za-z]{2,}\.?\s*#?\d+[a-z]?|[A-Z]\d+)\s*(?:[*_]{1,2})?\s*:?\s*")
#: A part's end that goes on as maths into a bar after it: a number or a closing bracket (`5 | 3 = 7`, `f(2) | 3`).
_OPERAND_END_RE = re.compile(r"[\d)\]}]\s*$")
_LETTERS_RE = re.compile(r"[A-Za-z]")


def _bar_operand(parts: list[str]) -> bool:
    """Whether a part of a step split at its spaced bars outside a table row is an operand of a bar, so that
    the bars are operators or a condition's (`5 | 3 = 7`, bitwise or; `P(A | B) = 0.5`) and no columns. A
    part with a relation stands on its own (`3 * 4 = 12 | 5 * 6 = 30`). One without is an operand when it
    has an unclosed bracket (`P(A | B)`), is maths with a digit and no letter (`5`, `2 + 3`), or ends with a
    number or closing bracket right before a bar whose next part holds a relation (`x + 5 | 3 = 7`) and is
    no short label (`_BAR_LABEL_RE`: `Day 1`, `Step 1:`, `Q3`). Any other part is a label or a remark
    (`Total | 3 * 4 = 13`, `3 × 4 = 13 | 2 apples`, `| Tax: $1`), whose bar separates."""
    claims = [_RELATION_IN_RE.search(part) is not None for part in parts]
    for i, part in enumerate(parts):
        if claims[i]:
            continue
        if part.count("(") != part.count(")"):
            return True
        if not any(ch.isdigit() for ch in part):
            continue
        if not _LETTERS_RE.search(part):
            return True
        if i + 1 < len(parts) and claims[i + 1] and _OPERAND_END_RE.search(part) and not _BAR_LABEL_RE.fullmatch(part):
            return True
    return False


def _table_row(step: str, spaced: list[int]) -> str | None:
    """A Markdown table row (`step` opens and closes with a bar and has two or more spaced ones) cut into
    its cells at the spaced bars, each cell read on its own; a cell that starts with a relation joins the
    cell before it (`| Option A | 3 × 4 = 13 | < 15 |` reads `3 × 4 = 13 < 15`), one that ends with a
    relation the cell after it (`| 5 | 5 × 6 = | 30 |` reads `5 × 6 = 30`), so a relation-only cell joins
    both (`| 3 × 4 = 13 | ≤ | 25 |`). None when the only cells with a relation are relation-only ones
    (`| 3 - 5 | = | 5 - 3 |`, `| -3 | < | 4 |`): no table, but absolute values (`_bar_columns`)."""
    cells = [step[a + 1:b] for a, b in zip(spaced, spaced[1:])]
    results = _labelled_results(cells)
    if results != cells:  # (the row rebuilt around its new cells, its bars where they now fall)
        step = step[:spaced[0]] + "|" + "|".join(results) + "|" + step[spaced[-1] + 1:]
        spaced = list(accumulate((len(cell) + 1 for cell in results), initial=spaced[0]))  # (linear: review 41)
        cells = results
    lone = [bool(_RELATION_ONLY_RE.fullmatch(cell)) for cell in cells]
    if any(lone) and not any(_RELATION_IN_RE.search(cell) for cell, only in zip(cells, lone) if not only):
        return None
    joins = {b for b, cell in zip(spaced, cells) if _RELATION_START_RE.match(cell)}
    joins.update(b for b, cell in zip(spaced[1:], cells) if cell.strip() and _RELATION_END_RE.search(cell))
    return _split_at(step, spaced, joins)


#: A table cell that is nothing but one relation (`| = |`, `| ≤ |`).
_RELATION_ONLY_RE = re.compile(rf"\s*{_RELATION}\s*")
#: A number in a table's formula cell: `36`, `$12`, `1,250.50`, `20%`, in brackets or not. Atomic, and the
#: terms of `_LABELLED_FORMULA_RE` possessive (`++`), as are its spaces after `=` and after an operator, so
#: spaces are read one way only: a cell that does not match (`Total = 1 + 2 + … + 12 = 78`, `Total =` and
#: 20,000 spaces) fails in linear time, not in time doubling per term or growing with the square of a run
#: of spaces (review of rules 11).
_CELL_NUMBER = r"(?>[-+]?\(*\s*\\?\$?\d[\d,]*(?:\.\d+)?%?\s*\)*)"
#: A table cell `label = expression` with no value of its own (`| Total = $36 + $16 |`): a label of one to
#: six words (each checked by `_is_word`), emphasis aside, and an arithmetic expression of numbers.
_LABELLED_FORMULA_RE = re.compile(
    r"\s*(?:[*_]{1,2})?([A-Za-z][A-Za-z'’-]*(?:[ \t]+[A-Za-z][A-Za-z'’-]*){0,5})(?:[*_]{1,2})?\s*+:?\s*+=\s*+"
    rf"({_CELL_NUMBER}(?:\s*(?:[-+*/×÷·^]|\\(?:times|cdot|div)(?![A-Za-z]))\s*+{_CELL_NUMBER})++)\s*")
#: A table cell that is one result: a number or an amount, with a word after it or not (`| 52 |`, `| **$53** |`,
#: `| 20% |`, `| 35 apples |`; the word is group 1, see `_counted`).
_RESULT_CELL_RE = re.compile(r"\s*(?:[*_]{1,2})?-?\\?\$?\d[\d,]*(?:\.\d+)?%?(?:[ \t]*([A-Za-z]+))?(?:[*_]{1,2})?\s*")
#: A number in a formula or result cell, a percent or not, for comparing a result with the formula's operands.
_OPERAND_RE = re.compile(r"(\d[\d,]*(?:\.\d+)?)[ \t]*(%?)")
#: A fraction among a formula's operands (`1/4 × $80`), compared by its value.
_OPERAND_FRACTION_RE = re.compile(r"(\d[\d,]*(?:\.\d+)?)[ \t]*/[ \t]*(\d[\d,]*(?:\.\d+)?)")


def _number(text: str) -> Fraction | None:
    """The value of a number written with digits, thousands commas and a decimal point (`1,000.5`); None
    for one of more than 300 characters, which no step's operand has (and `int` refuses past 4300 digits)."""
    return Fraction(text.replace(",", "")) if len(text) <= 300 else None


def _values(text: str) -> set[Fraction]:
    """The values of the numbers and fractions in `text`, a percent both as written and as its share (`30%`
    is 30 and 3/10, `1/4` is 1, 4 and 1/4), so that `30%` is found in `0.3 × $3000`."""
    out = set()
    for number, percent in _OPERAND_RE.findall(text):
        value = _number(number)
        out.update(() if value is None else (value, value / 100) if percent else (value,))
    for a, b in _OPERAND_FRACTION_RE.findall(text):
        top, bottom = _number(a), _number(b)
        if top is not None and bottom:
            out.add(top / bottom)
    return out


def _operand_result(formula: str, result: str) -> bool:
    """Whether the number of the result cell `result` is one of the operands of `formula` in value
    (`_values`), or its share in percent (a rate with no `%`): in `| Cost = $30 × 12 | 12 | $360 |`, `| Rent |
    Cost = 0.3 × $3000 | 30% | $900 |` and `| … | 30 | $900 |` the cell after the formula is an input column
    and the result is in a later one (review 41)."""
    values = _values(result)
    return bool((values | {value / 100 for value in values}) & _values(formula))


def _counted(word: str, label: str) -> bool:
    """Whether the word after a result cell's number (`_RESULT_CELL_RE`) names what the formula `label =
    expression` counts, so the number is the expression's value: a count noun that the label names, in the
    singular or the plural (`| Total apples = 3 × 12 | 35 apples |`). Not a word the label lacks (`| Eggs =
    12 × 3 | 3 cartons |`, `| Days = 7 × 3 | 3 wks |`: a container, a group or a unit restates an input or
    converts; review 41), nor a unit (`| Total kg = 500 + 750 | 1.25 kg |`: the expression shows no unit to
    compare with; review of rules 11), a magnitude or percent word (`12 dozen`, `12 percent`) or one letter."""
    noun = word.lower()
    if len(noun) < 2 or read_unit(word) is not None or noun in _NUMBER_WORDS or noun.startswith(("percent", "pct")):
        return False
    names = set().union(*(_singulars(name.lower()) for name in re.findall(r"[A-Za-z]+", label)))
    return bool(_singulars(noun) & names)


def _singulars(noun: str) -> set[str]:
    """A lower-case noun and the singulars it may be the plural of (`boxes`: `boxe`, `box`; `cherries`:
    `cherry`), so that a label's noun and a result's match in either number (`box` and `boxes`, `peach` and
    `peaches`, `cherry` and `cherries`, `apple` and `apples`)."""
    out = {noun}
    if noun.endswith("s"):
        out.add(noun[:-1])
    if noun.endswith("es"):
        out.add(noun[:-2])
    if noun.endswith("ies"):
        out.add(noun[:-3] + "y")
    return out


def _labelled_results(cells: list[str]) -> list[str]:
    """`cells` with each `label = expression` cell that a lone result follows (`| Total = 36 + 16 | 52 |`)
    turned into `expression =`, which `_table_row` joins to that result (`36 + 16 = 52`): otherwise the
    label is the claim's left side, which claims nothing, and a false total in the common layout "label =
    formula | result" escapes checking. With a number in a later column the result may be in any of them
    (`_result_column`: `| Price = $80 × 0.75 | 25% | $60 |` claims `80 × 0.75 = $60`), and a row none of whose
    numbers is the value fails (`| Shirts | Cost = 3 × $12 | $38 | $38 |`, a running total; review of rules
    11), unless the next cell is one of the formula's operands in value (`_operand_result`: `| Cost = $30 ×
    12 | 12 | $360 |`, `| Tip = 0.15 × $40 | 15% | $6 |`: an input column). A result with a word is compared
    only when the word is a count noun that the label names (`_counted`: `| Total apples = 3 × 12 | 35 apples
    |` fails) and the number is none of the operands (`| Total socks = 6 × 2 | 6 pairs |` is left). A label
    cell joined to the cell before it (that one ends with a relation), followed by text or another formula,
    is left as written."""
    out = list(cells)
    for i, cell in enumerate(cells[:-1]):
        m = _LABELLED_FORMULA_RE.fullmatch(cell)
        result = _RESULT_CELL_RE.fullmatch(cells[i + 1])
        if m is None or result is None or not all(map(_is_word, m.group(1).split())):
            continue
        operand = _operand_result(m.group(2), result.group())
        if result.group(1) is not None and (operand or not _counted(result.group(1), m.group(1))):
            continue
        later = any(any(map(str.isdigit, cell)) for cell in cells[i + 2:])
        if (operand and later) or (i and _RELATION_END_RE.search(cells[i - 1])):
            continue
        j = _result_column(m.group(1), m.group(2), cells[i + 1:], later)
        if j is not None:
            out[i] = f" {m.group(2).strip()} = " + ("" if j == 0 else f"{cells[i + 1 + j].strip()} ")
    return out


#: How many cells after a formula cell `_result_column` searches for its result.
_RESULT_WINDOW = 8


def _result_column(label: str, formula: str, cells: list[str], later: bool) -> int | None:
    """Which of `cells` (those after the cell `label = formula`) holds the formula's result, 0 the next:
    with a number in a later cell (`later`), the first result cell equal to the formula's value (`| Count =
    30 - 12 | 60% | 18 |`: a percent, a share or a change column comes between; None where it has a word
    that `_cell_value` does not claim, `18 students`), else the next, which then fails. None, the row left as written, where the next cell (or, with later numbers, any) is
    the value rounded (`_rounded`: `| Buses needed = 130 / 40 | 4 buses |`, `| Per child = 25 / 4 | 6 | 1 |`,
    a quotient and a remainder), or where the value is not read (`_formula_value`) and later cells hold
    numbers (which column is the result is not clear). Only the `_RESULT_WINDOW` cells after the formula
    and before another relation are searched (a long row is read in linear time)."""
    value = _formula_value(formula)
    if value is None:
        return None if later else 0
    window = cells[:_RESULT_WINDOW] if later else cells[:1]
    window = window[:next((j for j, cell in enumerate(window) if "=" in cell), len(window))]
    found = [_cell_value(cell, label) for cell in window]
    if _rounded(value, found[0], decimals=False):
        return None
    exact = next((j for j, stated in enumerate(found) if stated is not None and stated[0] == value), None)
    if exact is not None or not later:
        return None if exact is not None and not found[exact][2] else exact or 0
    return None if any(_rounded(value, stated) for stated in found) else 0


#: A result cell's number as `_cell_value` reads it: its sign, digits and percent.
_CELL_VALUE_RE = re.compile(r"\s*(?:[*_]{1,2})?(-?)\\?\$?(\d[\d,]*(\.\d+)?)(%?)")


def _cell_value(cell: str, label: str) -> tuple[Fraction, str, bool] | None:
    """The value of a result cell (`_RESULT_CELL_RE`: `$1,500`, `60%` as 3/5, `18 students`), its decimals as
    written (`4.17`: `17`), and whether a claim may end with it: a lone number, or a count noun that the
    label names (`_counted`); None for any other cell."""
    result = _RESULT_CELL_RE.fullmatch(cell)
    if result is None:
        return None
    sign, digits, decimals, percent = _CELL_VALUE_RE.match(cell).groups()
    value = _number(digits)
    if value is None:
        return None
    claimable = result.group(1) is None or _counted(result.group(1), label)
    return (-value if sign else value) / (100 if percent else 1), (decimals or "")[1:] + percent, claimable


def _rounded(value: Fraction, stated: tuple[Fraction, str, bool] | None, decimals: bool = True) -> bool:
    """Whether a result cell read by `_cell_value` states the non-integer `value` rounded: an integer that
    is its floor or its ceiling (`25 / 6` and `5` boxes, `25 / 4` and `6` each: an integer division), or,
    with `decimals`, a decimal within one unit of its last written place (`10 / 3` and `3.34` before a later
    number column: which column is the result is not clear); not an exact value (`0.25` for `1 / 4`)."""
    if stated is None or value.denominator == 1 or stated[0] == value:
        return False
    number, places, _ = stated
    if not places:
        return number.denominator == 1 and abs(number - value) < 1
    return decimals and not places.endswith("%") and abs(number - value) < Fraction(1, 10 ** len(places))


#: The longest formula cell `_formula_value` reads (a long sum's value is not worth its parse).
_FORMULA_CHARS = 2000


def _formula_value(formula: str) -> Fraction | None:
    """The exact value of a formula cell's expression (`step_numbers.exact_number`, thousands commas
    aside: `1,000 × 3`), or None where it is not read (too long, a division by zero, a power too large)."""
    return exact_number(_without_thousands(formula)) if len(formula) <= _FORMULA_CHARS else None


#: A list item's marker, in a blockquote or not (`- `, `+ `, `* `, `• `, `1. `, `2) `, `a. `, `(b) `, `> - `,
#: `> `), which a label may follow (`- **Step 1**: …`). Taken off only before a label (`_without_label`): a
#: lone `+ ` or `> ` may be maths (`+ 5 = 17` going on, `> 3`), `a. ` ends a word.
_LIST_MARKER_RE = re.compile(r"\s*(?:>[ \t]*)*(?:(?:[-*•+]|\d{1,3}[.)]|\(?[A-Za-z][.)])[ \t]+|(?<=>)[ \t]*)")


#: Words before `N : M = R` that make it a ratio, not the label `Word N:` (`Ratio 3 : 4 = 0.75`).
_RATIO_WORDS = frozenset({"ratio", "simplify", "simplified", "scale", "proportion", "reduce", "reduced"})


def _ratio_not_label(m: re.Match) -> bool:
    """Whether the `Word N: M = R` of `_WORD_RATIO_RE`'s match `m` is the ratio `N : M = R`, no label: R is
    itself a ratio `a : b` or the word is a ratio word (`_RATIO_WORDS`), and the ratio holds where `M = R`
    does not (`Ratio 3 : 4 = 6 : 8`, `Ratio 3 : 4 = 0.75`, `Day 2: 3 : 4 = 6 : 8`). Else it is a label, as
    before rules 12: `Day 2: 12 = 12`, `Week 3: 40 = 40 hours` hold, and `Day 2: 4 = 0.5` fails (reading a
    ratio wherever N / M = R passed it; review 41)."""
    n, left, a, b = (None if g is None else _number(g) for g in m.groups()[1:])
    if None in (n, left, a) or (m.group(5) is not None and not b):
        return False
    if m.group(5) is None and m.group(1).lower() not in _RATIO_WORDS:
        return False
    right = a if b is None else a / b
    return bool(left) and n / left == right != left


#: `Step N – M = R` (a dash, `-`, `--`, `–`, `—`, after `Step`, `Stage` or `Part N`) with nothing more but
#: punctuation or words: N – M may be the subtraction (`Step 5 – 2 = 3`, `_dash_is_minus`).
_DASH_MINUS_RE = re.compile(
    r"\s*+(?:[*_]{1,2})?(?:step|stage|part)\s*+(\d+)\s*+(?:[*_]{1,2})?\s*+(?:--|[-–—])[ \t]*+"
    rf"{_RATIO_NUMBER}[ \t]*+=[ \t]*+{_RATIO_NUMBER}[ \t]*+(?:[.;,!?]?[ \t]*+(?:\n|$)|[A-Za-z(])", re.IGNORECASE)


def _dash_is_minus(text: str) -> bool:
    """Whether `text` is `Step N – M = R` (`_DASH_MINUS_RE`) where N - M = R holds and M = R does not: the
    dash is a minus, not the end of a label (`Step 5 – 2 = 3`, `Part 3 – 2 = 1` held before rules 12)."""
    m = _DASH_MINUS_RE.match(text)
    if m is None:
        return False
    n, left, right = (_number(g) for g in m.groups())
    return None not in (n, left, right) and n - left == right != left


def _label_match(text: str) -> re.Match | None:
    """`_LABEL_RE`'s match at the start of `text`, or None where its `Word N:` is a ratio's first number
    (`_ratio_not_label`: `- Ratio 3 : 4 = 6 : 8` holds) or its `Step N –` a subtraction's (`_dash_is_minus`)."""
    m = _LABEL_RE.match(text)
    ratio = None if m is None else _WORD_RATIO_RE.match(text)
    if m is not None and _dash_is_minus(text):
        return None
    return None if ratio is not None and _ratio_not_label(ratio) else m


def _without_label(step: str) -> str:
    """`step` without the label at its start (`_LABEL_RE`: `Step 1:`, `Day 2:`, a list marker), and
    without one after a list item's marker (`_LIST_MARKER_RE`): in `- **Step 1**: 3 × 4 = 12`, `+ **Step 1**:
    …`, `> - Day 2: …`, `a. **Step 1**: …` the `1` of the label was read as a ratio's (`1 : 3 × 4 = 12`)
    and failed a true step (audit 40 and its review)."""
    marker = _LIST_MARKER_RE.match(step)
    label = None if marker is None else _label_match(step[marker.end():])
    if label is not None and label.group().strip() not in ("-", "*", "•"):  # (`1. - 5 + 8 = 3`: a sign)
        return step[marker.end():][label.end():]
    m = _label_match(step)
    return step if m is None else step[m.end():]


def _split_at(step: str, bars: list[int], joins: set[int] | tuple[()]) -> str:
    """`step` with each bar at an index of `bars` as a column break (` \\quad `), or as a space at one in
    `joins` (a cell that joins the one before it). A cell after a break loses a label at its start
    (`_cell_label_off`: `| Step 1: 3 × 4 = 12 |`), as the step's start does (`_all_claims`)."""
    out, at, joined = [], 0, True  # (the step's first part keeps its label: `_all_claims` takes it off)
    for i in bars:
        cell = step[at:i]
        out += [cell if joined else _cell_label_off(cell), " " if i in joins else " \\quad "]
        at, joined = i + 1, i in joins
    return "".join(out) + (step[at:] if joined else _cell_label_off(step[at:]))


def _cell_label_off(cell: str) -> str:
    """A table cell or bar column without a label at its start (`_LABEL_RE`: `Step 1:`, `Year 2020:`, `Day 1:`),
    which would otherwise be read as a ratio (`1: 3 × 4`); a dash opening it stays (`| - 3 + 10 = 7 |` is
    a sign, not a bullet)."""
    m = _label_match(cell)
    if m is None or m.group().strip() in ("-", ""):
        return cell
    return " " + cell[m.end():]


def _gap(step: str, m: re.Match) -> str:
    """A run of spaces and wide spaces (`_GAP_RE`) as plain space when an `=` is next to it."""
    run = m.group()
    if "\\" in run and (step[m.end():m.end() + 1] == "=" or step[m.start() - 1:m.start()] == "="):
        return " "
    return run


# -- divisions with a remainder (the marks of claims the text rejects or hedges: `step_marks`) ----

#: A gap between the words of a remainder's tail: spaces, and the `\\text{...}` around words.
_G = r"(?:\s|\\(?:text|mathrm|textrm|mbox)\s*+\{|\})*+"
_REMAINDER_HINT_RE = re.compile(r"remainder|\bleft\b|leftover|\bR\b|\brem\b", re.IGNORECASE)
#: `a / b = q` with a remainder after it: `17 / 5 = 3 remainder 2`, `17 ÷ 5 = 3 with a remainder of 2`,
#: `17 \\div 5 = 3 \\text{ R } 2`, `20 / 3 = 6 with 2 left over`, `7 / 2 = 3 full boxes and 1 left`.
_REMAINDER_RE = re.compile(
    rf"(?<![\w.])(\d{{1,30}})\s*+(?:/|÷|\\div(?![A-Za-z]))\s*+(\d{{1,30}})\s*+=\s*+(\d{{1,30}})(?!\d|\.\d)"
    rf"(?:{_G},?{_G}(?:with{_G}(?:a{_G})?)?(?:(?i:remainders?)|(?i:rem)\.?|R)(?![A-Za-z]){_G}(?:of{_G})?(?:is{_G})?"
    rf"(\d{{1,30}}(?:\.\d{{1,30}})?)(?!\d|\.\d)"  # (a `.` after r ends a sentence; `2.5` is read, and fails)
    rf"|(?:{_G}[A-Za-z]+(?![A-Za-z])){{0,3}}{_G},?{_G}(?:with|and){_G}(\d{{1,30}}){_G}"
    rf"(?:left(?:{_G}over)?|leftover|remaining)(?![A-Za-z])"
    rf"|{_G}(?:(?i:remainders?)|(?i:rem)\.?)(?![A-Za-z])(?!{_G}(?:of{_G})?(?:is{_G})?\d)()(?=\s*(?:[.,;!?]|$)))")
#: How a division with a remainder is claimed (`_remainders`), and known again (`_special_claim`).
_REMAINDER_CLAIM_RE = re.compile(r"(\d+) ÷ (\d+) = (\d+) remainder (-?\d+(?:\.\d+)?)")
#: Text right before a division that makes it an operand of something else (`2 + 17 / 5 = 3 R 2`).
_OPERAND_BEFORE_RE = re.compile(r"(?:[-+*/^×÷·=]|\\(?:cdot|times|div))\s*$")


def _remainders(step: str) -> tuple[list[Claim], str]:
    """The divisions with a remainder a step states (`_REMAINDER_RE`), and the step without them. One is
    claimed as `a ÷ b = q remainder r` (checked as a = q*b + r with 0 <= r < b), not as the equality
    `a / b = q`, which it does not state; none is claimed when the division is an operand of something
    before it, nor when "r left" follows an exact division (`12 / 4 = 3 bags and 2 left` may count
    something else)."""
    claims: list[Claim] = []
    pieces, at = [], 0
    for m in _REMAINDER_RE.finditer(step):
        a, b, q = (int(g) for g in m.groups()[:3])
        r = m.group(4) or m.group(5) or m.group(6)
        if _OPERAND_BEFORE_RE.search(step, max(0, m.start() - 10), m.start()):
            continue
        if m.group(5) is not None and q * b == a:
            continue  # (its equation stays in the step, read as any other: `20 / 4 = 5 cookies each and 3 left`)
        if not r:  # `17 / 5 = 3 remainder`: the quotient's remainder is what is left, a - q*b
            r = str(a - q * b)
        elif r == "0":  # `20 / 4 = 5 remainder 0` states `20 / 4 = 5`: one claim with it, read as written
            pieces += [step[at:m.start()], f"{a} / {b} = {q} ; "]
            at = m.end()
            continue
        claims.append((f"{a} ÷ {b}", f"{q} remainder {r}", None, None, None))
        pieces += [step[at:m.start()], " ; "]
        at = m.end()
    return claims, "".join(pieces) + step[at:]
