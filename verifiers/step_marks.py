"""Marks on a claim in a worked solution (`rlvr.verifiers.steps`): the words around a chain that say
it is not asserted, or asserted only as a rounding.

- A chain the text rejects right after it ("3 + 4 = 8 is wrong.", "✗") or right before it ("not true
  that 3 + 4 = 8"; not when negated, "not false that"), or asks about and answers no ("Is 3 + 4 = 8?
  No."), makes no claim: its `=` are read as `≠` (`_unclaimed`, `_denied`). A false claim so withdrawn
  does not fail its step, and a true one earns nothing.
- An `=` whose right side is hedged as a rounding ("= 0.67 (rounded)", "= about 3.3") is read as `≈`,
  an approximate link, which `steps` checks for plausibility only (`_hedged_side`).

Only the chain next to such words is marked, so a rejection elsewhere in the text hides nothing. The
separators between chains (`_SPLIT_RE`) and the unit-word test (`_unit_word`) live here because these
marks need them and this module must not import `steps`; `steps` imports them from here. The full
contract is the `steps` module docstring.
"""

from __future__ import annotations

import bisect
import re

from rlvr.verifiers.math_units import said_unit

# what separates one chain of claims from the next
_SPLIT_RE = re.compile(
    r"(?P<punct>(?<!\\)[.;,](?=\s))|(?P<and>\band\b)|(?P<row>\\\\)|(?P<note>\\q?quad(?![A-Za-z]))"
    r"|(?P<label>\\(?:text|textbf|textit|textrm|mbox)\s*\{[^{}]*:\s*\})"
    r"|\b(?:so|then|thus|hence|therefore|but|or|which\s+(?:means|gives|is))\b"
    r"|=>|->|⇒|→|⟹|\\(?:implies|Rightarrow|rightarrow|Longrightarrow|to|therefore)(?![A-Za-z])"
    r"|<|>|≤|≥|≠|!=|≡|\\(?:leq?|geq?|lt|gt|neq?|ll|gg|leqslant|geqslant|equiv)(?![A-Za-z])"
    r"|[—―](?=\s*[A-Za-z])",  # an em dash (or a horizontal bar) before a word is prose punctuation
    re.IGNORECASE)


def _unit_word(word: str) -> bool:
    """Whether `word` is a whole unit as `math_units` reads one (`kg`, `hours`, `min`)."""
    said = said_unit(f"1 {word}")
    return said is not None and said[0] == word


_HEDGE_HINT_RE = re.compile(r"\?|wrong|incorrect|false|mistake|error|typo|[✗✘❌]|not\s+(?:the\s+case|true)|untrue|round|approx"
                            r"|about|roughly|around|nearest|decimal|sig|d\.\s?p|s\.\s?f|\b(?:dp|sf)\b", re.IGNORECASE)
#: A rejection word ends its clause: a period, semicolon, comma, `!`, `)` or the end of the line after it
#: ("= 13 is wrong."; not "is false modesty aside", "is incorrect to say otherwise", "is wrong? No").
_WRONG = (r"\s+(?:wrong|incorrect|false|untrue|a\s+mistake|an\s+error|a\s+typo|not\s+(?:right|correct|true))(?![A-Za-z-])"
          r"(?=[ \t]*(?:[.;,:!)\n]|$))")
#: A rejection right after a chain: of its last side ("3 + 4 = 8 is wrong", "✗"; not "error-free"), of what
#: was just said ("= 8 earlier, but that's a mistake"), or a question mark (a question when the chain's
#: clause opens with an asking word, `_ASKING_RE`).
_REJECTED_AFTER_RE = re.compile(
    rf"(?P<back>\b(?:that|this|it)(?:\s+(?:is|was)|['’]s){_WRONG})|(?P<near>\b(?:is|was){_WRONG}|[✗✘❌])|(?P<ask>\?)",
    re.IGNORECASE)
#: The start of a chain's clause that makes a `?` after the chain ask about it: an asking word first, maybe
#: after a filler ("Is 3 + 4 = 8?", "Wait, does 7 * 8 = 56?", "Is it true that 3 + 4 = 8?"). A tag after
#: a claim ("3 + 4 = 8, right?") or a question in the words after it ("Since 3 + 4 = 8, how many are
#: left?") asks nothing about it: the claim is asserted.
_ASKING_RE = re.compile(r"[\s$(*_]*(?:(?:wait|now|hmm|ok|okay|well)\b[\s,]*)?"
                        r"(?:is|are|does|do|did|was|were|can|could|would|will|should|isn't|doesn't)\b", re.IGNORECASE)
_CLAUSE_END_RE = re.compile(r"[.;!?](?=\s)")
#: A rejection right before a chain: "It is not true that 3 + 4 = 8", "it is false that ...".
_REJECTED_BEFORE_RE = re.compile(r"\b(?:not\s+true|false|untrue|not\s+the\s+case)\s+that\b", re.IGNORECASE)
#: A negation right before a rejection before a chain turns it into an assertion ("it is not false that").
_NEGATED_RE = re.compile(r"(?:\bnot|\bnever|n['’]t)\s*$", re.IGNORECASE)
#: An answer no to a question (`_denied`): first, maybe after an interjection, a no-word ("No.", "No way",
#: "No because 3 + 4 = 7", "No sorry, it's 7", "Nope!", "Wrong: it is 7", "Well, no.", "Not by my count",
#: "Not the case, it's 7", "Hmm, not so fast") unless it opens a phrase that affirms (`_AFFIRMING`: "No
#: doubt.", "No question.", "No worries", "No way it's wrong", "Never doubt it.", "False alarm", "Not
#: surprisingly", "Not bad", "Not only", "Not wrong", "Not a doubt"): a block-list names those few
#: yes-answers, while denials have too many wordings to list. No two optional runs of spaces stand next
#: to each other, so the match is linear in a long answer.
_AFFIRMING = (r"(?<=no)[\s*_\"'’]+(?:doubt|question|wonder|surprise|kidding|mistake|error|problem|issue|need|denying"
              r"|arguing|argument|objection|contest|lie|cap|two\s+ways|joke|worries|exaggeration"
              r"|(?:way|chance)(?:\s+[^\s.,;:!?—–]+){0,5}?\s+(?:wrong|incorrect|false|untrue|a\s+mistake)(?![A-Za-z]))"
              r"|(?<=no)-?\s*brainer|(?<=never)[\s*_\"'’]+(?:doubt|wrong|been)|(?<=false)\s+alarm"
              r"|(?<=not)[\s*_\"'’]+(?:surprising|unexpected|bad|only|wrong|incorrect|false|untrue|a\s+(?:single\s+)?doubt"
              r"|in\s+(?:the\s+(?:slightest|least)\s+)?doubt|to\s+mention|a\s+(?:mistake|problem|typo)|an\s+error"
              r"|in\s+(?:question|dispute)|questionable|unreasonable)")
_NO_RE = re.compile(r"[\s*_$)\"'’]*(?:(?:well|hmm|ok|okay|oh|wait)(?![A-Za-z])[\s,.!]*)?"
                    rf"(?:no|nope|nah|not|never|wrong|incorrect|false)(?![A-Za-z]|['’][A-Za-z])(?!{_AFFIRMING})",
                    re.IGNORECASE)
#: What, right before "that's wrong" after a chain, makes the rejection no retraction of the chain
#: (`_about_the_chain`): a negation ("I don't think that's wrong", "none of it is wrong", "I doubt that's
#: wrong"; "no" only as a determiner, "no one says": "oh no, that's wrong" and "no wait" retract), a
#: question word ("who says it's wrong?"), or another subject saying or thinking so ("Bob thinks that's
#: wrong", "they said it's wrong", "someone would say that's wrong"; not "I think", "let me think").
#: Only the last `_GOVERNING_WORDS` words of the clause holding the rejection count (`_CLAUSE_BREAK_RE`):
#: a negation in the correction before it ("oops, didn't carry, that's wrong", "hmm, not quite, that's
#: wrong", "you might think so, but that's wrong") governs no rejection. `_NEGATION_OR_QUESTION` holds
#: the negations and question words; `_NO_NOT_A_DETERMINER_BEFORE` the words before which "no" is no
#: determiner but a word of its own ("no wait", "no that's wrong", "no it's wrong"; "no one says"
#: negates), `_SAYS` the verbs of another subject.
_NEGATION_OR_QUESTION = r"not|never|none|nothing|nobody|neither|nor|hardly|doubts?|doubted|who|whom|whoever|what|why"
_NO_NOT_A_DETERMINER_BEFORE = (r"i|wait|no|hmm|hm|oh|ah|um|uh|actually|sorry|so|then|okay|ok|well|hold|hang|that|this|it"
                               r"|yeah|yes")
_SAYS = r"says|thinks|claims|believes|argues|insists|feels|suggests|states|marks|calls"
_SAID = (rf"(?:(?:would|might|could|may|will|can|must|did|does|do)\s+)?(?:say|said|think|thought|claim|claimed|believe"
         rf"|believed|argue|argued|insist|insisted|feel|felt|suggest|suggested|state|stated|mark|marked|call|called|{_SAYS})")
_NOT_ABOUT_IT_RE = re.compile(
    rf"\b(?:{_NEGATION_OR_QUESTION})\b|n['’]t\b|\bno[\s-]+(?!(?:{_NO_NOT_A_DETERMINER_BEFORE})\b)[A-Za-z]"
    rf"|\b[A-Za-z]+\s+(?:{_SAYS})\b"
    rf"|(?:\b(?-i:[A-HJ-Z][a-z]*)|\b(?:he|she|they|you|someone|somebody|anyone|anybody|everyone|everybody|people"
    rf"|others|the\s+[A-Za-z]+))\s+{_SAID}\b", re.IGNORECASE)
#: A "no doubt" in a retraction is no negation of it ("= 13, no doubt that's wrong"); "no one" is "nobody".
_NO_DOUBT_RE = re.compile(r"\b(?:no|without(?:\s+a)?)\s+doubt\b", re.IGNORECASE)
_NO_ONE_RE = re.compile(r"\bno[\s-]+one\b", re.IGNORECASE)
_CLAUSE_BREAK_RE = re.compile(r"[,.;:!?—–()…]|\s-+\s|\b(?:but|so|and)\b", re.IGNORECASE)
_GOVERNING_WORDS = 3
#: Words that, between a side and "is wrong" right after it (`_names_the_side`), make another subject of
#: the rejection: a negation ("= 13 nothing is wrong") or a new clause or subject ("= 13 means he is
#: wrong"); so does a capitalised name ("= 13 Bob is wrong"). Any other words name the side ("= 8 red
#: apples is wrong", "the 3 × 12 = 38 I wrote is wrong", "= 9 per box is wrong").
_OTHER_SUBJECT = frozenset("nothing none nobody neither nor not no never who means mean makes make says say said "
                           "thinks think shows proves he she they you someone somebody anyone everyone".split())
_WORD_RE = re.compile(r"[A-Za-z'’]+")
_NAME_RE = re.compile(r"(?-i:[A-Z][a-z]+)")
#: Words that start a clause about something else between a chain and a rejection word ("= 19, which is
#: incorrect as a prime test"): the rejection is not of the chain.
_OTHER_CLAUSE_RE = re.compile(r"\b(?:which|as)\b", re.IGNORECASE)
#: What "nearest" rounds to, for it to be a rounding ("to the nearest hundredth"; not "the nearest shop",
#: "9 nearest boxes"): a place, a unit of measure or money, or a number ("nearest 0.05"). The places
#: below one name how many decimals the rounded number must show (`_NEAREST_DECIMALS`). Words that
#: are also plain prose ("the nearest one", "nearest ones", "nearest 5 houses") count only as
#: `_NEAREST_LOOSE`: the ones or units place by name ("nearest ones place"), or "ones", "unit(s)" or a
#: number after "to (the)" or an opening bracket and ending the phrase ("to the nearest unit.", "(nearest
#: 0.05)"); a bare "one" never does.
_NEAREST_PLACE = (r"(?:ten[- ]thousandths?|tenths?|hundredths?|thousandths?|whole(?:\s+numbers?)?|integers?"
                  r"|(?:ones?|one['’]s|units?)\s+(?:place|digit)s?"
                  r"|tens?|hundreds?|thousands?|millions?|billions?|percent(?:age\s+points?)?|%|cents?|penn(?:y|ies)"
                  r"|dollars?|euros?|pounds?|degrees?|decimal(?:\s+places?)?|significant\s+(?:figures?|digits?)"
                  r"|seconds?|minutes?|hours?|days?|weeks?|months?|years?|inch(?:es)?|f(?:oo|ee)t|yards?|miles?"
                  r"|(?:kilo|centi|milli)?met(?:er|re)s?|(?:kilo|milli)?grams?|k?m|cm|mm|kg|g)(?![A-Za-z\d])")
_NEAREST_LOOSE = r"(?:ones|units?|\d*\.?\d+)(?=\s*(?:$|[).,;]))"
#: "nearest" and what it rounds to, maybe after "to (the)": a rounding remark after a side.
_NEAREST_RE = re.compile(rf"(?:to\s+(?:the\s+)?)?nearest\s+(?P<place>{_NEAREST_PLACE})"
                         rf"|(?:(?<=\()\s*|to\s+(?:the\s+)?)nearest\s+(?P<loose>{_NEAREST_LOOSE})", re.IGNORECASE)
_NEAREST_DECIMALS = {"tenth": 1, "hundredth": 2, "thousandth": 3, "cent": 2, "penny": 2, "pennie": 2}
#: A precision a number was rounded to: decimal places or significant figures ("2 d.p.", "2 decimal places",
#: "3 s.f.", "3 sig figs", "3 significant figures"), the count in `dp` or `sf`.
_PRECISION = (r"(?:(?P<dp>\d{1,2})\s*(?:d\.\s?p\.?|dp|decimal\s+places?)"
              r"|(?P<sf>\d{1,2})\s*(?:s\.\s?f\.?|sf|sig\.?\s+figs?\.?|significant\s+(?:figures?|digits?)))(?![A-Za-z])")
_PRECISION_RE = re.compile(_PRECISION, re.IGNORECASE)
#: A bracket right after a number that names its precision ("= 33.33 (2 d.p.)", "(to 3 s.f.)"): a rounding
#: hedge, dropped from the side read (`step_claims`), which its words would leave unread.
PRECISION_BRACKET_RE = re.compile(rf"(?<=\d)(\s*)\(\s*(?:(?:rounded|correct)\s+)?(?:to\s+)?{_PRECISION}\s*\)",
                                  re.IGNORECASE)
_LAST_NUMBER_RE = re.compile(r"\d*\.?\d+(?=[^\d]*$)")
#: A rounding hedge right after a side ("= 0.67 (rounded)", "= 3.3 approximately", "(approx.)", "(approx)",
#: "(rounding)", "to the nearest hundredth", "(nearest tenth)") or right before one ("= about 3.3", "= approx
#: 3.3"). "rounded/rounding up/down" says what is done next ("= 9.6, rounded up to 10 boxes"), not how the
#: side before it was found: a hedge only as a bracket's end ("= 10 (rounded up)") or before the place of a
#: bracket's end ("(rounded up to the nearest cent)", "(rounding down to 2 decimal places)", "(rounded up to the
#: next whole number)"), and so is a bare "(round up)"; a noun may come between ("= 9 buses (rounded up)",
#: `_hedged_side`); a bracket naming
#: a precision is one too ("(2 d.p.)", "(to 3 s.f.)", `_PRECISION`); "rounding error" (or
#: mistake, issue, problem, slip), "rounding wrong" (wrongly, incorrect(ly), bad(ly)), "rounding off by
#: 0.2" and "rounding is/was off" own up to a wrong side and excuse nothing; any other "rounded off" is a
#: hedge ("(rounding off)", "rounded off to two decimal places").
_HEDGE_AFTER_RE = re.compile(r"(?:round(?:ed|ing)(?!\s+(?:up|down)\b(?!\s*\)|\s+to\s+(?:(?:the\s+)?nearest\s+[^()]*"
                             r"|(?:the\s+)?next\s+(?:whole\s+number|integer)\s*|" + _PRECISION + r"\s*)\)))"
                             r"(?![\s-]+(?:(?:off\s+)?(?:errors?|mistakes?|issues?|problems?|slips?)"
                             r"|(?:(?:is|was|went|were)\s+)?(?:wrong(?:ly)?|incorrect(?:ly)?|bad(?:ly)?)"
                             r"|(?:is|was)\s+off|off\s+by)(?![A-Za-z]))"
                             r"|approx(?:imately|\.)?|roughly|(?P<nearest>" + _NEAREST_RE.pattern + r")"
                             r"|(?<=\()\s*(?:to\s+)?" + _PRECISION.replace("?P<", "?P<p_") + r""
                             r"|(?<=\()\s*round\s+(?:up|down)(?=\s*\)))(?![A-Za-z])",
                             re.IGNORECASE)
#: What may stand between a hedged link's `=` and its hedge: the side itself (numbers, signs, LaTeX, unit
#: words: `_hedged_side`), then spaces or an opening bracket; no comma, no other word.
_TEXT_UNIT_RE = re.compile(r"\\(?:text|mathrm|textrm|mbox)\s*\{[^{}=,;]{0,30}\}")  # (a unit: `\\text{ m}`)
_SIDE_TOKEN_RE = re.compile(r"[^A-Za-z,;:]*|\\[A-Za-z]+\s*(?:\{[^{}]*\})?[^A-Za-z,;:]*")
_HEDGE_BEFORE_RE = re.compile(r"=(?=\s*(?:about|approximately|approx\.?|roughly|around)(?![A-Za-z]))", re.IGNORECASE)
#: Words between a chain's last `=` and a rejection of its side ("is wrong") or of what was said ("that's a
#: mistake") or a question after it, or a rejection before it and its first `=`; tokens in a hedged side.
_NEAR_GAP, _REJECT_GAP, _HEDGE_GAP = 3, 6, 3
#: Characters such a gap may span, and an asking word may be before the `=`: what is read stays near.
_GAP_CHARS = 200


def _unclaimed(step: str, following: str = "") -> str:
    """`step` with the `=` of links it does not assert changed: a chain the text rejects right after it
    ("3 + 4 = 8 is wrong", "✗"; `_REJECTED_AFTER_RE`) or right before it ("not true that 3 + 4 = 8"), or
    asks about ("Is 3 + 4 = 8?"), has each `=` as `≠` (no claim: no credit, and no failure for a claim
    withdrawn); a link whose right side is hedged as a rounding ("= 0.67 (rounded)", "= about 3.3") has
    its `=` as `≈`, which is not checked. Only the chain next to such words: a rejection elsewhere in
    the text changes nothing."""
    eqs = [i for i, ch in enumerate(step) if ch == "="]
    if not eqs:
        return step
    # (each lookup below is a bisection or a slice of at most `_GAP_CHARS`: linear in a long step)
    seps = [(m.start(), m.end()) for m in _SPLIT_RE.finditer(step)]
    sep_starts, sep_ends = [a for a, _ in seps], sorted(b for _, b in seps)
    clause_ends = [c.end() for c in _CLAUSE_END_RE.finditer(step)]

    def gap(a: int, b: int, most: int) -> bool:  # at most `most` words between a and b
        return b - a <= _GAP_CHARS and len(step[a:b].split()) <= most

    new: dict[int, str] = {}
    after: set[int] = set()  # the `=` of chains rejected (or asked about) after them
    done = -1  # the last `=` (its index in `eqs`) marked so far: ranges only move on, each `=` is marked once
    for m in _REJECTED_AFTER_RE.finditer(step):
        k = bisect.bisect_left(eqs, m.start()) - 1
        if k < 0 or not gap(eqs[k] + 1, m.start(), _NEAR_GAP if m.group("near") else _REJECT_GAP):
            continue
        if not m.group("back") and any(sep.group() != "," for sep in _SPLIT_RE.finditer(step, eqs[k] + 1, m.start())):
            continue  # "3 + 4 = 7, so what is 7 + 1?": the question is another chain's
        if not _about_the_chain(step[eqs[k] + 1:m.start()], m.group("back"), m.group("near")):
            continue  # "= 13, I don't think that's wrong", "= 13 means Bob is wrong": not a retraction
        if not m.group("ask") and (_OTHER_CLAUSE_RE.search(step, eqs[k] + 1, m.start()) or "✓" in step[eqs[k]:m.start()]):
            continue  # "= 19, which is incorrect.": of something else; "= 12 ✓ (the ✗ is ...)": marked right
        e = bisect.bisect_right(sep_ends, eqs[k]) - 1
        start = sep_ends[e] if e >= 0 else 0
        if m.group("ask"):
            c = bisect.bisect_right(clause_ends, eqs[k]) - 1
            opening = max(clause_ends[c] if c >= 0 else 0, start)
            if eqs[k] - opening > _GAP_CHARS or not _ASKING_RE.match(step, opening, eqs[k]):
                continue  # "3 * 4 = 13?", "3 + 4 = 8, right?": a claim with a question mark, not a question
            if not _denied(step[m.end():m.end() + 60] + " " + following):
                continue  # "Is 3 * 4 = 13? Yes." / "That's right." / no answer: the chain is asserted
        after.update(eqs[max(bisect.bisect_left(eqs, start), done + 1):k + 1])
        done = max(done, k)
    done, before = -1, set()
    for m in _REJECTED_BEFORE_RE.finditer(step):
        k = bisect.bisect_left(eqs, m.end())
        if k == len(eqs) or not gap(m.end(), eqs[k], _REJECT_GAP):
            continue
        if _NEGATED_RE.search(step, max(0, m.start() - 12), m.start()):
            continue  # "it is not false that 3 * 4 = 13": asserted
        b = bisect.bisect_right(sep_starts, eqs[k])
        end = sep_starts[b] if b < len(sep_starts) else len(step)
        last = bisect.bisect_left(eqs, end)
        before.update(eqs[max(k, done + 1):last])
        done = max(done, last - 1)
    # a chain rejected both before and after it ("not true that 3 * 4 = 13 is wrong") is asserted
    new.update((i, "≠") for i in after ^ before)
    for m in _HEDGE_AFTER_RE.finditer(step):
        k = bisect.bisect_left(eqs, m.start()) - 1
        if k >= 0 and gap(eqs[k] + 1, m.start(), _HEDGE_GAP) \
                and _hedged_side(step[eqs[k] + 1:m.start()], nouns=_DIRECTION_RE.match(step, m.start() - 1) is not None) \
                and (not m.group("nearest") or _shows_place(step[eqs[k] + 1:m.start()], m.group("place") or m.group("loose"))):
            new.setdefault(eqs[k], "≈")
    for m in _HEDGE_BEFORE_RE.finditer(step):
        new.setdefault(m.start(), "≈")
    if not new:
        return step
    return "".join(new.get(i, ch) for i, ch in enumerate(step))


def _about_the_chain(between: str, back: str | None, near: str | None) -> bool:
    """Whether a rejection after a chain, `between` its last `=` and the rejection, rejects that chain.
    "that's wrong" (`back`) does unless the last words of its clause negate it or give it another
    subject (`_governs_rejection`: "= 13, I don't think that's wrong", "who says it's wrong?", "Bob
    thinks that's wrong"; not "= 8, oops, didn't carry, that's wrong"). "is wrong" (`near`) must follow
    the side with no other subject (`_names_the_side`: "= 13 is wrong", "= 8 red apples is wrong"; not
    "= 13 means Bob is wrong"). A ✗ after the chain always rejects it; a question mark is about the chain
    here, and the chain stays asserted unless the question is answered no (`_denied`)."""
    if near and near[0] in "✗✘❌":
        return True
    if back:
        return not _governs_rejection(between)
    return _names_the_side(between) if near else True


def _governs_rejection(between: str) -> bool:
    """Whether the last `_GOVERNING_WORDS` words of the clause ending `between` (before "that's wrong")
    negate the rejection or give it another subject (`_NOT_ABOUT_IT_RE`). A clause break
    (`_CLAUSE_BREAK_RE`: a comma, a stop, a dash, "but") cuts the words before it off."""
    clause = _CLAUSE_BREAK_RE.split(_NO_DOUBT_RE.sub(" ", between))[-1]
    words = _NO_ONE_RE.sub("nobody", clause).split()[-_GOVERNING_WORDS:]
    return _NOT_ABOUT_IT_RE.search(" ".join(words)) is not None


def _names_the_side(between: str) -> bool:
    """Whether `between` (after a link's `=`, before "is wrong", at most `_NEAR_GAP` words) names the
    side: its words are no negation or other subject (`_OTHER_SUBJECT`, "n't", a capitalised name other
    than "I"). "= 13 nothing is wrong", "= 13 means Bob is wrong" and "= 13 Bob is wrong" name another."""
    for word in _WORD_RE.findall(between):
        if word.lower() in _OTHER_SUBJECT or word.lower().endswith(("n't", "n’t")) or _NAME_RE.fullmatch(word):
            return False
    return True


def _denied(following: str) -> bool:
    """Whether the text after a question's `?` answers it no: its first word, maybe after one
    interjection ("Well, no", "Hmm, not quite", "Wait, wrong"), is a no-word. Only such an answer
    withdraws the question's chain: any other answer, or none, leaves it asserted ("Is 3 * 4 = 13?
    That's right.", "Is 3 * 4 = 13? So he has 13 pens."), since affirmations have too many wordings
    for a list of them to be a fence (a question mark alone would otherwise hide a false step)."""
    return _NO_RE.match(following) is not None


def _shows_place(side: str, place: str) -> bool:
    """Whether the number of a side hedged "to the nearest `place`" shows that place: a rounding to the
    nearest hundredth or cent writes two decimals at least (`= 0.67`), so `2.4 * 3 = 7 dollars to the
    nearest cent` is no rounding of 7.2 and is checked as stated (so is "to the nearest 0.01"). Places of
    one and above (a whole number, ten, a dollar) and "decimal place" fit any number."""
    place = place.lower()
    decimals = len(place.partition(".")[2]) if place[:1].isdigit() or place[:1] == "." \
        else _NEAREST_DECIMALS.get(place.rstrip("s"), 0)
    number = _LAST_NUMBER_RE.search(side)
    return decimals == 0 or number is not None and len(number.group().partition(".")[2]) >= decimals


#: A bracket that names the direction of a rounding ("(rounded up)", "(rounding down to the nearest cent)").
_DIRECTION_RE = re.compile(r"\(\s*round(?:ed|ing)?\s+(up|down)(?![A-Za-z])[^()]*\)", re.IGNORECASE)
#: The step of a named place rounded to ("nearest tenth", "nearest ten"); a number names itself ("nearest 0.05").
_PLACE_STEPS = {"ten-thousandth": "0.0001", "ten thousandth": "0.0001", "tenth": "0.1", "hundredth": "0.01",
                "thousandth": "0.001", "cent": "0.01", "penny": "0.01", "pennie": "0.01", "whole": "1",
                "whole number": "1", "integer": "1", "ten": "10", "hundred": "100", "thousand": "1000",
                "million": "1000000", "billion": "1000000000"}


def rounding_named(side: str) -> str | None:
    """How the text of an approximate link's stated side (`steps`: `_approx_claim`) says it was rounded:
    the direction of a bracket naming one ("up" or "down": "= 13 (rounded up)", "≈ 9 (rounded up)") and the
    step rounded to, space-separated ("(rounded down to the nearest hundred)" gives "down 100"), else the
    one named, else None (no such words, or a place with no fixed step: "nearest degree", "nearest
    decimal place"). The step is a number for "nearest" and a number or a place with a fixed step
    ("(nearest 0.05)" gives "0.05", "to the nearest 5" "5", "nearest tenth" "0.1", "nearest whole number"
    "1"), or for a precision (`_PRECISION`) the decimal places' ("2 d.p." gives "0.01") or "sf" and the
    count of significant figures ("3 s.f." gives "sf3": the step depends on the value)."""
    m = _DIRECTION_RE.search(side)
    direction = m.group(1).lower() if m is not None else None
    return " ".join(part for part in (direction, _step_named(side)) if part) or None


def _step_named(side: str) -> str | None:
    """The step of a rounding `side`'s words name (`rounding_named`), or None."""
    m = _PRECISION_RE.search(side)
    if m is not None:
        places = int(m.group("dp") or 0)
        return ("0." + "0" * (places - 1) + "1" if places else "1") if m.group("dp") else f"sf{int(m.group('sf'))}"
    m = _NEAREST_RE.search(side)
    if m is None:
        return None
    place = re.sub(r"\s+", " ", (m.group("place") or m.group("loose")).lower())
    if place[:1].isdigit() or place[:1] == ".":
        return place if re.search(r"[1-9]", place) else None
    return _PLACE_STEPS.get(place) or _PLACE_STEPS.get(place.removesuffix("s"))


def _hedged_side(between: str, nouns: bool = False) -> bool:
    """Whether the text between a link's `=` and a rounding hedge after it is the side alone: numbers,
    signs and LaTeX (`0.67`, `\\frac{2}{3}`, `\\text{ m}`), unit words (`0.67 dollars`), then spaces or an opening
    bracket. A comma, a separator or any other word ("= 13 and we rounded nothing") puts the hedge on
    something else; with `nouns` (a bracket naming the direction right after: "= 9 buses (rounded up)"),
    plain words after the side's number name what it counts."""
    tokens = _TEXT_UNIT_RE.sub(" ", between).rstrip().removesuffix("(").split()
    return bool(tokens) and all(_SIDE_TOKEN_RE.fullmatch(t) or _unit_word(t) or nouns and t.isalpha() for t in tokens) \
        and _SPLIT_RE.search(between) is None
