"""Read a retraction in words after a final answer: "The answer is 18. Wait, no, it's 20."

A model that states an answer and then takes it back in plain words ("Wait, no, it's 20.", "My
mistake, it's 20.", "Oops! 20.", "Wait, no.\\nIt's 20.") has not committed to its first answer.
Until rules 18 (`math.RULES_VERSION`) such a retraction was not read and the first answer was
graded alone. Now the value it names is one more final answer (see `math_extract._correction`),
as a correction in other words ("actually, it's 20") already was: an answer that differs from the
one retracted makes the output a hedge, and one that restates it changes nothing.

The rule is narrow on purpose: a verifier that reads a self-check as a retraction marks a right
answer wrong. A retraction is read only when
- it opens a sentence, with a retracting word or phrase: "no" followed by punctuation ("no,",
  "no.", "no!", "no —", "no:", "no..."; or "no wait"), "oops", "sorry", "apologies", "my mistake",
  "scratch that", "correction:", "erratum:", "I mean", "let me correct that", "I made a mistake",
  "I miscounted", "that's wrong"; interjections may come before or after it ("Wait, no", "Hmm,
  wait, no", "**Wait**, no"). "no" followed by a word is an ordinary word: "No 2 ways about it",
  "Hmm, no further simplification", "Oh, no need to convert";
- it does not answer a question (a sentence after "?": "Is the remainder 0? No, it's 2.");
- the rest of its sentence, past an optional statement ("it's", "it is", "the answer is", "the
  correct total is", "she makes", "I mean", a colon), is a value and nothing else: maths with no
  word of prose in it ("Wait, no, let me verify: 3 × 6 = 18", "Oops, typo in step 3, but the answer
  stands", "No. of apples: 18", "Wait, no — 12 is right" name none), a number in words ("twenty"),
  or a choice letter after a choice letter. After an answer that is a number, a number and the
  words of what it counts ("Wait, no, it's 21 apples.", "Oops, 21 dollars.") is that number, read
  as a plain-number gold's answer is ("12 cupcakes", rules 16), unless the words are about a
  mistake ("Oops, 2 typos.") or make it a rate ("6 per day", "6 an hour": a step). A retraction
  that ends its sentence there ("Wait, no.", "Oops!", "I made a mistake.") reads the next sentence
  the same way, so only a short statement of a value ("It's 20.", "20.") is read; without a
  statement ("It's …") before it, only when no more working (no digit) follows it, and never an
  ordered-list marker opening a line ("Oops!\n\n1. She buys 4 packs." names no 1). A bare "No."
  (which may abbreviate "number") must be followed by a statement ("No. It's 20."). The full-width
  "。", "！", "？", "，" punctuate as their ASCII forms; the stop of "i.e." and "e.g." ends no sentence.
Arithmetic that gives the value ("Wait, no, it's 1.5 + 18.5 = 20.", "10 + 10 → 20", "20 = 4 × 5")
gives the plain number of its chain of `=` or arrows (20; the last side when none is plain), when
its sides are arithmetic on numbers; a reason after the value (", because …"), a restatement
(", i.e. twenty"), working in brackets or after a colon ("20 (4 × 5)", "20: 4 × 5"), check marks
("20 ✓") and backticks are dropped, and a refused value after it (", not 18"; since rules 29 also
"rather than 18", "instead of 18", "(not 18)" and a choice letter after a choice letter, see
`without_refused`, which the statements read by `math_extract` drop too).
A value that is the answer again in another form (`20.0` after 20, `0.25` after `25\\%`), one the
grader cannot read ("20€", "₹20", "答案是 20"), or one with a letter glued to a number after a
plain-number answer ("20s", "1k": a unit, not a product) counts as no other answer (see
`readable_value`): grading it as one would mark the right answer before it wrong. It is still the
last word, so an earlier retraction is not read in its place.

Only the retractions after the last "the answer is" of the text read are looked at: a retraction
that the model follows with its answer again ("Wait, no, it's 20. So the answer is 18.") is
superseded by that statement, which the rules before this one read.

Linear in the text: a retraction opens a sentence and its value is looked for within a bounded
window after it, and at most the last `_MAX_TRIGGERS` retractions are read.
"""

from __future__ import annotations

import ast
import operator
import re
from fractions import Fraction

from rlvr.verifiers.math_normalize import normalize

__all__ = ["might_retract", "retraction", "might_offer", "second_answer", "readable_value", "without_marks",
           "without_working", "without_refused", "value_line", "answer_retracted", "might_take_back"]

#: Text without one of these (lowercased) holds no retraction: a cheap first check.
_HINTS = ("no,", "no.", "no!", "no:", "no;", "no -", "no \u2014", "no \u2013", "no\u2014", "no\u2013", "no\u2026",
          "no*", "no wait", "oops", "sorry", "apolog", "mistake", "error", "typo", "scratch that", "correction", "erratum",
          "i mean", "correct that", "correct this", "correct myself", "wrong", "incorrect", "not right",
          "miscount", "miscalc", "my bad")

_W = r"[*_]{0,3}"  # markdown emphasis around a word (`**Wait**`)
#: Interjections that may stand before or after a retracting word: "Wait, no", "No, wait".
#: One alternative per word ("hm+" reads "hmm" one way only): a run of them is linear (audit 40).
_INTERJECTION = r"(?:wait|hold\s+on|on\s+second\s+thoughts?|hm+|uh+|um+|ah+|oh+|actually|well|ugh)\b"
#: Retracting words and phrases. "no" only before punctuation (or "wait"): "no 2 ways" is no retraction.
_RETRACTING = (
    r"(?:no\b(?=" + _W + r"[ \t]*(?:[,.!:;\u2026\u2014\u2013\uff0c\uff1a\u3002\uff01-]|wait\b))"
    r"|w?hoops\b|oops\b|sorry\b|(?:my\s+)?apologies\b|my\s+(?:mistake|bad|error)\b|scratch\s+that\b"
    r"|(?:correction|erratum)\b(?=" + _W + r"[ \t]*:)|i\s+mean\b|let\s+me\s+correct\s+(?:that|this|myself)\b"
    r"|i\s+(?:think\s+i\s+)?(?:made|make)\s+(?:a|an)\s+(?:mistake|error|typo)\b|i\s+(?:think\s+i\s+)?(?:miscounted|miscalculated)\b"
    r"|that(?:'s|\u2019s|\s+is|\s+was)\s+(?:wrong|incorrect|not\s+(?:quite\s+)?right)\b)")
#: What follows a word of the run: punctuation (a sentence's end too: "Wait, no. It's 20."), then
#: spaces and at most two line breaks. Each part is a bounded run of one kind: linear.
_SEP = (_W + r"(?:[ \t]*(?:[,;:\uff0c\uff1b\uff1a\u3001\u3002\uff01]|\.{1,3}|!{1,3}|\u2026|\u2014|\u2013|-{1,2})" + _W
        + r")?[ \t]*(?:\n[ \t]*){0,2}")
#: Where a sentence opens: the start of the text (past spacing, `$`, a dash or the end of display
#: maths right after an answer), a line, or after the end of a sentence and a space.
_OPENING = r"(?:\A(?:[\s$,;:\u2014\u2013*_-]|\\[\])]){0,20}|(?<=\n)[ \t>#*_-]{0,8}|(?<=[.!?\u2026][ \t])|(?<=[.!?][\"')*][ \t]))"
#: A run of interjections and retracting words that opens a sentence (`_retracting_run` checks it
#: holds a retracting one).
_RUN_RE = re.compile(_OPENING + r"(?:" + _W + r"(?:" + _RETRACTING + r"|" + _INTERJECTION + r")" + _SEP + r"){1,5}",
                     re.IGNORECASE)
_RETRACTING_RE = re.compile(_RETRACTING, re.IGNORECASE)
#: A bare "No." with nothing else in the run: perhaps "No." for "number" ("No. 5 is odd").
_BARE_NO_RE = re.compile(r"[\s$,;:\u2014\u2013*_>#-]*no" + _W + r"\.\s*\Z", re.IGNORECASE)
#: What may state the value after the run: "it's", "it is", "the (correct) answer/total is", "she
#: makes", "there are", "I mean", or a colon.
_STATEMENT_RE = re.compile(
    r"(?:(?:it|that|this)(?:'s|\u2019s|\s+is|\s+was|\s+(?:should|must|would|will)\s+be)"
    r"|(?:the\s+)?(?:(?:correct|right|real|actual|final|true|new)\s+)?"
    r"(?:answer|total|result|sum|value|number|count|amount|cost|price)(?:\s+(?:is|was|should\s+be|would\s+be|must\s+be)|[ \t]*[:=])"
    r"|(?:she|he|they|we|you|i|it)\s+(?:makes?|made|has|had|have|gets?|got|earns?|earned|needs?|needed|pays?|paid"
    r"|spends?|spent|saves?|saved|owes?|sells?|sold|buys?|bought|is|was|are|were"
    r"|will\s+(?:have|make|get|need|pay|spend|be))"
    r"|there\s+(?:are|is|were|was|will\s+be)|i\s+mean)\b" + _W + r"[ \t]*(?::[ \t]*)?"
    r"(?:(?:actually|really|indeed)\b[ \t]*)?",  # ("it's actually 20": a filler, rules 20)
    re.IGNORECASE)
#: The end of a sentence: a full stop before a space or the end (not a decimal point, nor the
#: stop of "i.e." or "e.g."), "!", "?", their full-width forms ("。", "！", "？"), a line break, or
#: the end of the text.
_END_RE = re.compile(r"(?<![iIeE]\.[eEgG])\.(?=\s|\Z)|[!?\n\u3002\uff01\uff1f]|\Z")
#: An ordered-list marker that opens a line ("1. ", "2) ", "(3) ", "**1.** "): the number of a
#: step, not a value ("Oops!\n\n1. She buys 4 packs." names none).
_LIST_MARKER_RE = re.compile(r"[*_]{0,2}(?:\d{1,3}[.)]|\(\d{1,3}\))[*_]{0,2}[ \t]+\S")
#: Check marks after a value ("4 × 5 = 20 ✓", "20 (✓)", "20 ✔️" with its emoji selector): no part of it.
_CHECK_MARKS = "\u2713\u2714\u2705\u2611\ufe0f"
#: A restatement after the value (", i.e. twenty", " e.g. 4 × 5", ", that is, 20"): dropped as a
#: reason is.
_RESTATED_RE = re.compile(r",?[ \t]+(?:i\.e\.|e\.g\.|that\s+is\b|namely\b).*\Z", re.IGNORECASE | re.DOTALL)
#: Working in brackets after the value: "20 (4 × 5)", "20 (= 4 × 5)", "20 [4·5]", "2 (x = 2)",
#: "20 (i.e., $4 \\times 5$)". Group "inside" is checked for an operation and no word of prose.
_WORKING_RE = re.compile(r"(?P<open>[(\[])[ \t]*(?:(?:i\.e\.|e\.g\.),?[ \t]*)?(?P<inside>[^()\[\]\n]{1,120})[)\]]\Z",
                         re.IGNORECASE)
_OPERATION_RE = re.compile(r"[=+*/\u00d7\u00f7\u00b7\u22c5\u2212^-]|\\(?:times|cdot|div|frac|sqrt)(?![A-Za-z])|(?<=\d)[ \t]*x[ \t]*(?=\d)")
#: Arrows read as `=` in a chain of working ("10 + 10 → 20").
_ARROW_RE = re.compile(r"\u2192|\u21d2|\u27f9|=>|\\(?:Rightarrow|implies|to)(?![A-Za-z])")
#: A decimal comma after a plain-number answer: "20,0" (one or two digits after the comma; three
#: are a thousands separator).
_DECIMAL_COMMA_RE = re.compile(r"(-?\d+),(\d{1,2})")
#: How far after a run its value may end: longer values are no bare answer anyway.
_WINDOW = 240
#: Read at most this many retractions (the last ones): a bound on what a flood of them costs.
_MAX_TRIGGERS = 16
#: A reason after the value (", because 4 × 5 = 20") and a value refused after it (", not 18").
_REASON_RE = re.compile(r",?[ \t]+(?:because|since|as)\b.*\Z|,[ \t]*(?:and\s+)?not[ \t]+(?P<refused>[^,]{1,40})\Z",
                        re.IGNORECASE | re.DOTALL)
#: Arithmetic on numbers (a side of `=` in "1.5 + 18.5 = 20"), and a lone variable (`x = 20`).
_ARITHMETIC_RE = re.compile(r"(?:[\d.,+*/\u00d7\u00f7\u00b7\u22c5()^\u2212\u221a{} \t-]|\\(?:times|cdot|div|sqrt|frac)(?![A-Za-z]))*\d"
                            r"(?:[\d.,+*/\u00d7\u00f7\u00b7\u22c5()^\u2212\u221a{} \t-]|\\(?:times|cdot|div|sqrt|frac)(?![A-Za-z]))*")
_VARIABLE_RE = re.compile(r"[ \t]*[A-Za-z][ \t]*")


def might_retract(lowered: str) -> bool:
    """Whether `lowered` (a lowercased text) may hold a retraction: a cheap first check."""
    return any(h in lowered for h in _HINTS)


def retraction(tail: str, before: str | None, start: int = 0) -> tuple[int, str] | None:
    """Where the last retraction in `tail[start:]` that names a value opens, and that value (see
    the module docstring; "" for a value that is no other answer, see `_read_value`); None when
    there is none. `before` is the answer it follows (a choice
    letter is read only after a choice letter)."""
    if not might_retract(tail[start:].lower()):
        return None
    runs = [m for m in _RUN_RE.finditer(tail, start) if _RETRACTING_RE.search(m.group())][-_MAX_TRIGGERS:]
    for m in reversed(runs):
        value = _value_after(tail, m, before)
        if value is not None:
            return m.start(), value
    return None


def _value_after(tail: str, run: re.Match, before: str | None, *, asked: bool = False,
                 nouns: bool = True) -> str | None:
    """The value the rest of the sentence (or the next, after a run that ends one) after the
    retracting `run` names, or None. A question names none ("No, 20?") unless `asked` (the run
    itself asks: "or was it 20?"). A value in the next sentence without a statement before it
    ("Oops!\n20.") is read only when no more working (no digit) follows it, and never a list
    marker opening a line ("Oops!\n\n1. She buys 4 packs."). `nouns`: see `_read_value`."""
    if _answers_a_question(tail, run.start()):
        return None
    pos = run.end()
    statement = _STATEMENT_RE.match(tail, pos)
    if statement is not None:
        pos = statement.end()
    elif _BARE_NO_RE.match(run.group()):
        return None  # "No. 5 is odd": "No." may abbreviate "number"
    elif not tail[tail.rfind("\n", 0, pos) + 1:pos].strip() and _LIST_MARKER_RE.match(tail, pos):
        return None  # "Wait, no.\n\n1. She buys 4 packs.": the number of a step
    window = tail[pos:pos + _WINDOW + 1]
    end = _END_RE.search(window)
    if end.start() >= _WINDOW or (window[end.start():end.start() + 1] in ("?", "\uff1f")) != asked:
        return None  # too long for a value, or a question ("No, 20?") where none is asked
    if statement is None and _ends_sentence(run.group()) and any(c.isdigit() for c in tail[pos + end.end():]):
        return None  # "Oops.\n\n2 + 2 = 4\n4 × 5 = 20": working after it, no answer
    return _read_value(window[:end.start()], before, nouns=nouns)


#: Retracting words of `_RETRACTING` that take back no answer on their own (an apology for a long
#: working, "I mean", a "Correction:" label, which names its value): `answer_retracted` needs another.
_SOFT_RETRACTING_RE = re.compile(r"(?:sorry|(?:my\s+)?apologies|i\s+mean|correction|erratum)\b", re.IGNORECASE)
#: A judgement of the answer right after it: "\\boxed{12} is incorrect.", "12 is wrong".
_JUDGED_WRONG_RE = re.compile(r"[\s$.*_)}]{0,8}(?:is|was)[ \t]+(?:(?:definitely|clearly|probably)[ \t]+)?"
                              r"(?:incorrect|wrong|not[ \t]+(?:right|correct))\b", re.IGNORECASE)
_IS = r"(?:'s|\u2019s|[ \t]+is|[ \t]+was)"
_NOT = r"(?:n't|n\u2019t|[ \t]+not)"
#: A judgement opening a sentence (audit 39 and its review), as `_RETRACTING`'s "that's wrong": its
#: subject is "this", "it", "that", "that/this/the/my answer" (or result, total, value, number) or a
#: number (group "number", which must be the answer's: "Hmm, 12 seems wrong."), or "I don't think
#: that's right"; it says wrong, incorrect, not right/correct, or can't be right. "seems/looks/appears"
#: and "I don't think" only doubt (group "soft"): they take the answer back only before a redo.
_THIS_WRONG_RE = re.compile(
    _OPENING + r"(?:" + _W + _INTERJECTION + _SEP + r"){0,3}" + _W
    + r"(?:(?P<soft>i[ \t]+(?:don't|don\u2019t|do[ \t]+not)[ \t]+(?:think|believe)[ \t]+"
      r"|i(?:'m|\u2019m|[ \t]+am)[ \t]+not[ \t]+(?:sure|certain|convinced)[ \t]+(?:that[ \t]+)?)"
      r"(?:this|it|that|(?:this|that|the|my)[ \t]+answer)" + _IS + r"[ \t]+(?:right|correct)"
      r"|(?P<thinks>i[ \t]+(?:think|believe|suspect)[ \t]+)(?:this|it|that|(?:this|that|the|my)[ \t]+answer)" + _IS
      + r"[ \t]+(?:wrong|incorrect|not[ \t]+(?:quite[ \t]+)?(?:right|correct))"
      r"|(?:this|it|that|(?:this|that|the|my)[ \t]+(?:final[ \t]+)?(?:answer|result|total|value|number)"
      r"|\$?(?:\\boxed\{)?(?P<number>-?\d[\d,]{0,30}(?:\.\d{1,30})?)\}?\$?)"
      r"(?:" + _IS + r"(?:[ \t]+(?:definitely|clearly|probably|obviously|surely|also|still))?"
                   r"[ \t]+(?:wrong|incorrect|not[ \t]+(?:quite[ \t]+)?(?:right|correct))"
      r"|(?P<off>" + _IS + r"[ \t]+off|[ \t]+(?:does|did)" + _NOT + r"[ \t]+make[ \t]+(?:any[ \t]+)?sense)"
      r"|(?:[ \t]+(?:is|was|does|did|ca|could|can)" + _NOT + r"|[ \t]+cannot)(?:[ \t]+be)?[ \t]+(?:right|correct)"
      r"|(?P<seems>[ \t]+(?:seems|looks|appears)(?:[ \t]+to[ \t]+be)?[ \t]+(?:wrong|incorrect|off|not[ \t]+(?:right|correct))"
      r"|[ \t]+(?:does|did)" + _NOT + r"[ \t]+(?:seem|look|appear)(?:[ \t]+to[ \t]+be)?[ \t]+(?:right|correct))))\b",
    re.IGNORECASE)
#: A retracting phrase that judges what came before wrong by itself (see `_clear_retraction`).
_JUDGEMENT_RE = re.compile(r"wrong|incorrect|not\s+(?:quite\s+)?right", re.IGNORECASE)
#: What a judgement may be followed by in its own clause and still end it: "That's wrong too.",
#: "This is not right at all."
_CLAUSE_TAIL_RE = re.compile(r"[*_]{0,3}(?:[ \t]+(?:too|either|again|anyway|though|here|then|now|actually|anymore"
                             r"|at[ \t]+all|after[ \t]+all)\b[*_]{0,3})?")
#: Words that, right after a judgement (or after a comma, semicolon, colon or dash after it), make it
#: about something else: "It is wrong to count the bags", "This is incorrect only if …", "wrong, if
#: we count the bags too" (review of audit 39).
_ABOUT_ELSE_RE = re.compile(r"(?:to|if|only|when|whenever|unless|for|in|about|except|provided|with|without)\b",
                            re.IGNORECASE)
#: A reason or a new clause after a judgement ("that's wrong because I forgot the teacher", "that's
#: wrong so let me redo it"): it ends its clause.
_REASON_WORD_RE = re.compile(r"[ \t]+(?:because|since|so|and|but)\b", re.IGNORECASE)
#: Punctuation ending a judgement's clause, then spacing.
_CLAUSE_MARK_RE = re.compile(r"[ \t]*(?:[,;:\u2014\u2013(\uff0c\uff1b\uff1a]|-{1,2})[ \t]*")


def _ends_clause(text: str, at: int) -> bool:
    """Whether the judgement ending at `at` in `text` ends its clause, so that it judges what came
    before (the answer) and nothing after it (review of audit 39): nothing follows it but a
    sentence's end, or punctuation and a word that opens no condition or object ("That's wrong, let
    me redo.", "That's wrong; 3 bags hold 15."), or a reason or new clause ("because …", "so …",
    "and …", "but …"); a word right after it
    ("It is wrong to count the bags", "This is wrong if …", "It's wrong here") or a condition after
    a comma ("This is wrong, unless …") makes it about something else; one asked ("this is
    incorrect?") judges nothing. A tag question ("That's not right, is it?") is a doubt, not a
    question: the answer is taken back unless a confirmation follows ("Yes it is.")."""
    at = _CLAUSE_TAIL_RE.match(text, at).end()
    rest = text[at:at + 2].lstrip(" \t")
    if rest[:1] in ("?", "\uff1f"):
        return False  # "Hmm, this is incorrect? No — …": a question, no judgement (review 2 of audit 39)
    if not rest or rest[0] in "\n.!?\u2026\u3002\uff01\uff1f\u2713\u2714\u2705\u274c\u2717\u2718":
        return True
    if _REASON_WORD_RE.match(text, at):
        return True
    mark = _CLAUSE_MARK_RE.match(text, at)
    return mark is not None and _ABOUT_ELSE_RE.match(text, mark.end()) is None


#: A redo announced after a retracting word: "Let me redo this.", "I need to recompute", "Redoing it:".
_REDO_RE = re.compile(r"\b(?:let(?:\s+me|'s|\s+us)|i(?:'ll|\s+will|\s+need\s+to|\s+should|\s+must|\s+have\s+to))\s+"
                      r"(?:re-?do|re-?compute|re-?calculate|start\s+(?:over|again)|try\s+again|re-?work|fix\s+(?:this|that|it)"
                      r"|re-?consider|re-?think|re-?count|re-?examine|re-?check|check\s+again|think\s+again|go\s+back)\b"
                      r"|\b(?:redoing|recomputing|recalculating|reconsidering|rethinking|recounting|starting\s+over)\b",
                      re.IGNORECASE)
#: A number, in digits (group "n"), perhaps in a box or inline maths (`_STANDS_RE`).
_STANDS_NUMBER = r"\$?(?:\\boxed\{)?(?P<n>-?\d[\d,]{0,30}(?:\.\d{1,30})?)\}?\$?"  # (bounded: linear on "1,1,1,…")
#: Words after a retraction saying the answer holds after all, as a predicate about the answer
#: (review 2 of audit 39; a word modifying a noun holds nothing: "The correct total is 3 × 5 =",
#: "using the same method", "the number of bags is still 3"): its subject is it/that/this, the
#: (final) answer/result/total, or the answer's number (group "m", checked by `_stands` to be the
#: answer's and to open its clause: "12 is still right", not "Bag 12 holds 3 apples"; group "n":
#: "the answer 18 holds"), and it is correct/right/fine/valid/unchanged/unaffected/the same, or still
#: the answer's number (group "value": "the total is still 18"), or it stands, holds or remains, or
#: it does not change ("The total does not change"). `_stands` also asks that the predicate end
#: its clause and that no "but" reopen it (audit 40: "It is correct to multiply, but …", "The 12 is
#: right for the apples alone, but …" hold nothing).
_STANDS_RE = re.compile(
    r"(?:\b(?:it|that|this|(?:the|my|our|this|that)[ \t]+(?:final[ \t]+|original[ \t]+)?"
    r"(?:answer|result|total|value|count|arithmetic|calculation|computation|working)"
    r"(?:[ \t]+" + _STANDS_NUMBER + r")?)|(?<![\w.])" + _STANDS_NUMBER.replace("?P<n>", "?P<m>") + r")"
    r"(?:(?:'s|\u2019s|[ \t]+(?:is|was|remains|stays))[ \t]+(?:(?:still|indeed|definitely|actually|also)[ \t]+)?"
    r"(?:(?:correct|right|fine|valid|unchanged|unaffected|the[ \t]+same|confirmed)\b"
    r"|(?<=still )\$?(?P<value>-?\d[\d,]{0,30}(?:\.\d{1,30})?))"
    r"|[ \t]+(?:still[ \t]+)?(?:stands|holds|remains[ \t]+(?:correct|right|valid|unchanged|the[ \t]+same))\b"
    r"|[ \t]+(?:does|did|will|would)(?:n't|n\u2019t|[ \t]+not)[ \t]+change\b)", re.IGNORECASE)
#: A change denied whose object is the answer ("it doesn't change the result", "this does not
#: affect the final answer", "without changing the total"): not "The price per bag doesn't change".
_NOT_CHANGED_RE = re.compile(
    r"(?:n't|n\u2019t|\bnot|\bnever|\bwithout)[ \t]+(?:\w+[ \t]+)?(?:chang\w*|affect\w*)[ \t]+"
    r"(?:(?:the|my|our|this|that)[ \t]+)?(?:final[ \t]+)?(?:answer|result|total|outcome)\b", re.IGNORECASE)
#: A check mark right after the answer's number (group "n"): "3 × 4 = 12 ✓", "12 (✓)".
_CHECKED_RE = re.compile(r"(?<![\w.])" + _STANDS_NUMBER + r"[ \t*_]{0,4}\(?[ \t]{0,2}[\u2713\u2714\u2705]")
#: Words before a number that still let it be the subject of "is right" (its clause opens at it
#: past these): "Hmm, actually 12 is still right", "So 12 stands"; not "Bag 12 holds 3 apples".
_OPENS_NUMBER_RE = re.compile(r"(?:\A|[,;:(\u2014\u2013.!?\n>#-]|\b(?:so|and|actually|indeed|yes|no|ok|okay|well|hmm+|wait"
                              r"|then|thus|therefore|hence|still|now|again|clearly|definitely|really|yeah|yep|the)"
                              r")[ \t*_$]*\Z", re.IGNORECASE)
#: Words that reopen what a clause said holds ("The number of bags is unchanged, but each bag has 5"):
#: only when another value follows them in their sentence (`_reopening`).
_REOPENED_RE = re.compile(r"\b(?:but|though|although|however|yet|except)\b", re.IGNORECASE)
#: A value the working states (review of audit 40; what reopens an answer said to hold, `_reopening`,
#: and what a recheck ends on, `_comes_back`): a result after `=` (group "eq"; none when the text
#: is cut off there: "5 × 4 ="), a number after a verb of result (group "said": "the total is 15"),
#: one closing its clause (but for at most two words, no rate: "so 4 per bag" states none) after a
#: colon, a conclusion word, "as", "at", "say" or "be" (group "closing": "Plus the teacher: 13.",
#: "So 15.", "the same as 15."; not "3 bags of 4 apples", "as 3 bags hold 4"),
#: one with "total" or "in all" (group "total": "15 total"), or a bare number with a check mark
#: (group "ticked": "13 ✓"). Counts in prose ("3 bags", "holds 4") state none. Bounded runs: linear.
_NUMBER = r"-?\d[\d,]{0,30}(?:\.\d{1,30})?(?![\d.,]?\d)"
_NO_OPERATION = r"(?![ \t]*(?:[-+*/^=\u00d7\u00f7\u00b7\u22c5\u2212]|\\(?:times|cdot|div)))"
_STATED_RE = re.compile(
    r"(?<![<>!])=[ \t]*\$?(?:\\boxed\{)?(?P<eq>" + _NUMBER + r")?"
    r"|(?:\b(?:is|was|are|equals|gives|makes|becomes|get|gets|got)|'s|\u2019s)[ \t]+"
    r"(?:(?:still|now|just|only|actually|then|really|indeed)[ \t]+)?\$?(?:\\boxed\{)?(?P<said>" + _NUMBER + r")"
    + _NO_OPERATION
    + r"|(?::[ \t]*|\b(?:so|thus|hence|therefore|as|at|say|says|said|be)[ \t]+)\$?(?:\\boxed\{)?(?P<closing>" + _NUMBER
    + r")\}?\$?(?=(?:[ \t]+(?!(?:per|each|every|apiece|a|an)\b)[a-z]{1,20}){0,2}[ \t]*(?:[.,;!?\n]|\Z))"
    r"|(?P<total>" + _NUMBER + r")(?=[ \t]+(?:[a-z]{1,20}[ \t]+)?(?:total|in[ \t]+(?:total|all)|altogether)\b)"
    r"|(?<![\w.])(?P<ticked>" + _NUMBER + r")(?=[ \t*_]{0,4}\(?[ \t]{0,2}[\u2713\u2714\u2705])",
    re.IGNORECASE)
#: A check mark right after a value (`_neutral_check`).
_TICK_AFTER_RE = re.compile(r"[ \t*_$}]{0,4}\(?[ \t]{0,2}[\u2713\u2714\u2705]")
#: A confirmation on its own after the recount ("Good.", "OK.", "Yes, 12.", "Yes, that's it.", "Yes
#: it is."): not "OK, let me redo this" nor "good, now multiply" (review of audit 39).
_CONFIRMED_RE = re.compile(r"(?<![\w'\u2019])(?:good|ok|okay|yes|yep|yeah)\b(?=[ \t]*(?:[.!\u2713\u2714\u2705]|\Z|\n"
                           r"|,[ \t]*(?:\$|\\boxed|\d|(?:that|it|this)(?:'s|\u2019s|[ \t]+is)[ \t]+(?:it|right|correct|fine))"
                           r"|,?[ \t]+(?:it|that|this)[ \t]+(?:is|was|does|did)[ \t]*(?:[.!]|\Z|,[ \t]*(?:because|since|as)\b)))",
                           re.IGNORECASE)
#: A negation right before a word of `_CONFIRMED_RE` ("not good", "not OK").
_NEGATED_RE = re.compile(r"(?:\bnot|n't|n\u2019t|\bno(?:[ \t]+longer)?|\bnever|\bhardly)[ \t]+(?:\w+[ \t]+)?\Z", re.IGNORECASE)
_LAST_NUMBER_RE = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def might_take_back(lowered: str) -> bool:
    """Whether `lowered` (a lowercased text) may take an answer back (`answer_retracted`): a cheap
    first check."""
    return might_retract(lowered) or _TAKE_BACK_HINT_RE.search(lowered) is not None


#: Judgements without a word of `_HINTS`: "That can't be right", "I don't think that's right",
#: "this is not correct" (a cheap first check, see `might_take_back`).
_TAKE_BACK_HINT_RE = re.compile(r"not (?:quite )?(?:correct|right)|n['\u2019]t [\w'\u2019 ]{0,30}(?:right|correct|sense)"
                                r"|cannot be (?:right|correct)|not make (?:any )?sense|(?:'s|\u2019s| is) off\b"
                                r"|not (?:sure|certain|convinced) ")


def answer_retracted(tail: str, answer: str) -> bool:
    """Whether `tail`, the text after the final answer `answer`, takes it back and names no other
    (audit 39: a long working cut at the token limit, "\\boxed{12}. Wait, that's not right. Let me
    recompute the total: 3 × 5 = 15, plus"): a clear retraction (`_RETRACTING` less an apology, "I
    mean" or a label; a judgement of `_THIS_WRONG_RE`; "is incorrect" right after the answer; "? No."
    answering a question that holds the answer: "Is it \\boxed{12}? No.") whose value `_value_after`
    does not read (one it reads is another answer, see `retraction`), with nothing but the answer
    between it and the answer (no other value it may be about: "A common slip is 11. That's
    wrong."), in the sentence right after the answer's or naming the answer (`_next_to_answer`,
    `_names_answer`: "Some students add. That is incorrect." judges that sentence), and after which
    the text does not come back to the answer (`_comes_back`: the result of its last step or its
    last value, in digits or words, is the answer's; or it says the answer stands, `_stands`:
    "Wait, no. Recounting: 4 + 4 + 4 = 12. Yes, 12.", "… three times four is twelve. Good."). A
    judgement takes the answer back only when it ends its clause (`_ends_clause`: "It is wrong to
    count the bags as apples." judges a method; "this is incorrect?" asks). A
    question answered no about anything else ("Is there a simpler form? No.") and confirmations take
    nothing back."""
    judged = _JUDGED_WRONG_RE.match(tail)
    if judged is not None and _ends_clause(tail, judged.end()):
        return True
    if not might_take_back(tail.lower()):
        return False
    found = _clear_retraction(tail[:4 * _WINDOW], answer)
    if found is None:
        return False
    if _answers_a_question(tail, found.start()) and not _asks_about_answer(tail, found.start()):
        return False  # "Is there a simpler form? No.": no retraction of the answer
    if found.re is _RUN_RE and _value_after(tail, found, answer) is not None:
        return False  # "Wait, no, it's 13.": another answer, read by `retraction`
    between = tail[:found.start()].replace(answer.strip(), " ")
    if any(c.isdigit() for c in between):
        return False  # "A common slip is 11. That's wrong.": about another value
    if not _names_answer(found) and not _next_to_answer(between):
        return False  # "Some students add the bags. That is incorrect.": about that sentence
    rest = _other_value_checked(tail[found.end():], answer)
    if _stands(rest, answer):
        return False
    return not _comes_back(rest, answer)


#: The end of a sentence in the text between the answer and a retraction (`_next_to_answer`).
_SENTENCE_END_RE = re.compile(r"(?<![iIeE]\.[eEgG])\.(?=\s|\Z)|[!?\n\u3002\uff01\uff1f]")
#: Sentences of interjections only ("Hmm.", "Wait...", "No.", "Oops!", "On second thought,"), with
#: markup and blank lines: what may stand between the answer's sentence and a retraction of it.
#: Each item is read one way and the loop is possessive (`*+`): linear ("Hmm, " × 26 took 52 s when
#: "hmm" matched both "hmm+" and "hm+" and each item could be split in two ways, audit 40).
_ONLY_INTERJECTIONS_RE = re.compile(r"(?:[\s*_>#.!?,;:\u2026\u2014\u2013$-]|" + _INTERJECTION
                                    + r"|no\b|oops\b)*+\Z", re.IGNORECASE)


def _names_answer(found: re.Match) -> bool:
    """Whether the retraction `found` names the answer as its subject ("12 is wrong", "\\boxed{12}
    is wrong", "That answer is wrong"; `_clear_retraction` checks the number is the answer's)."""
    return found.re is _THIS_WRONG_RE and (found["number"] is not None or "answer" in found.group().lower())


def _next_to_answer(between: str) -> bool:
    """Whether a retraction after `between` (the text from the answer to it, the answer dropped)
    stands in the sentence right after the answer's own, with only interjections or blank lines
    between (review 2 of audit 39): "Some students add the bags. That is incorrect." or "My first
    instinct was to add. That's not right." judge the sentence before them, not the answer."""
    end = _SENTENCE_END_RE.search(between)
    return end is None or _ONLY_INTERJECTIONS_RE.match(between, end.end()) is not None


def _comes_back(rest: str, answer: str) -> bool:
    """Whether `rest`, the text after a retraction, comes back to `answer`: the last value its
    working states (`_STATED_RE`: the result of its last step, "Let me recompute: 4 + 4 + 4 = 12
    apples in the 3 bags.", "… 3 × 4 = 12, i.e. 4 per bag.", review 2 of audit 39; a later stated
    value before an earlier `=` result, "3 × 4 = 12 ✓. Then add 3 more apples: 15 total.", review
    of audit 40) or its last value (`_last_value`, in digits or in words: "… a dozen.") is the
    answer's; checks of the answer ticked after it are no value of their own (`_checks_dropped`:
    "3 × 4 = 12. 12 ÷ 4 = 3 ✓"). A last `=` with nothing after it ("3 × 5 =") states none.
    An answer that is no plain number comes back when the value ending the text is it in the
    grader's cheap comparison (`_ends_on`, audit 40: "$\\frac{2}{4} = \\frac{1}{2}$." after
    `\\frac{1}{2}`); one with what it counts (`12 \\text{ apples}`) is read as its number."""
    rest = _JUDGED_NUMBER_RE.sub(" ", _PAST_NARRATION_RE.sub(" ", _checks_dropped(rest, answer)))
    if _ends_back(rest, answer):
        return True
    return any(_reaches(rest[:at], answer) for at in _check_starts(rest, answer))


#: A result named at the end of working ("the roots are 2 and 3, sum 5"; group "n").
_NAMED_RESULT_RE = re.compile(r"\b(?:sum|total|product|difference|quotient|result|answer)[ \t]+" + _STANDS_NUMBER
                              + r"[ \t*_.,;:]*\Z", re.IGNORECASE)


def _reaches(working: str, answer: str) -> bool:
    """Whether `working` (the text before a check) ends on `answer` as a stated result: its last
    value is the answer's and its last `=` or stated result gives it (`_STATED_RE`), or it names it
    as a result ("sum 5"). A count in prose ("The 12 is just the apples in the bags;") reaches
    nothing. An answer that is no plain number: `_ends_on`."""
    plain = _plain_answer(answer)
    if plain is None:
        return _ends_on(working, answer)
    working = _without_refusals(working).rstrip(" \t\n*_.,;:")
    named = _NAMED_RESULT_RE.search(working[-80:])
    if named is not None:
        return _same_value(plain, named["n"].rstrip(","))
    step, result = _last_stated(working, len(working))
    last = _last_value(working)
    return (result is not None and _same_value(plain, result.rstrip(","))
            and last is not None and _same_value(plain, last))


#: More added after a step's result ("3 × 4 = 12, plus the 3 she had makes fifteen.", "= 12 apples and
#: 3 more in her hand"): a later other value is then the recheck's, not the step's result.
_ADDED_RE = re.compile(r"\b(?:plus|adding|add|and[ \t]+\d+[ \t]+(?:more|extra))\b", re.IGNORECASE)


def _ends_back(rest: str, answer: str) -> bool:
    """Whether the working of `rest` ends on `answer` (see `_comes_back`), a value refused at its
    end ("3 × 5 = 15 apples, not 12.", "15 instead of 12") dropped; a last step giving the answer
    with more added after it and another last value ("= 12, plus the 3 she had makes fifteen.",
    `_ADDED_RE`) does not."""
    plain = _plain_answer(answer)
    if plain is None:
        return _ends_on(rest, answer)
    answer = plain
    rest = _without_refusals(rest)
    step, result = _last_stated(rest, len(rest))
    last = _last_value(rest)
    if result is not None and _same_value(answer, result.rstrip(",")):
        return last is None or _same_value(answer, last) or _ADDED_RE.search(rest, step.end()) is None
    if last is not None and _same_value(answer, last):
        return True
    return _LAST_NUMBER_RE.fullmatch(answer.strip()) is None and _ends_on(rest, answer)  # (`\\frac{1}{2}`, `-3/4`)


#: Past-tense narration of an earlier value (audit 40, item 3): "Earlier I got 12 because …",
#: "Previously I got 12, which was wrong." states no value of the recheck. Bounded runs: linear.
_PAST_NARRATION_RE = re.compile(
    r"\b(?:earlier|previously|before|at[ \t]+first|originally|initially|first)\b,?[ \t]+(?:[a-z]+[ \t]+){0,3}?"
    r"(?:got|had|said|wrote|found|computed|calculated|answered|gave|thought)[ \t]+(?:it[ \t]+was[ \t]+)?"
    r"\$?(?:\\boxed\{)?" + _NUMBER + r"\}?\$?", re.IGNORECASE)
#: A number judged or refused in words (audit 40, item 5): "12 was a mistake", "12 is too low", "is
#: not 12", "3 more than 12": no value the recheck comes to.
_JUDGED_NUMBER_RE = re.compile(
    r"(?<![\w.])" + _NUMBER + r"[ \t]+(?:is|was)[ \t]+(?:(?:not|too)\b|wrong|incorrect|a[ \t]+mistake|an[ \t]+error)"
    r"|\b(?:is|was)[ \t]+not[ \t]+\$?" + _NUMBER + r"|\b(?:more|less|fewer)[ \t]+than[ \t]+\$?" + _NUMBER,
    re.IGNORECASE)
#: A label opening a check of the answer (audit 40, item 1): "Check:", "Double-check:", "**Verification:**",
#: "Sanity check:", "Plug in:", "Dividing back:", "Substituting back:".
_CHECK_OPENING_RE = re.compile(
    r"\b(?:check(?:ing)?|verify(?:ing)?|verification|plug(?:ging)?[ \t]+(?:it[ \t]+|them[ \t]+)?(?:in|back)"
    r"|(?:dividing|multiplying|substituting|working|checking)[ \t]+back|substitut(?:e|ing)(?:[ \t]+(?:in|back))?)"
    r"[*_]{0,3}[ \t]*:", re.IGNORECASE)
#: A clause boundary inside a ticked statement: where the check it ticks may open.
_CLAUSE_BOUNDARY_RE = re.compile(r"[,;:](?!\d)|(?<![iIeE]\.[eEgG])\.(?=\s)|[!?\n]")
#: A check mark (a ticked statement ends with one).
_TICK_RE = re.compile(r"[\u2713\u2714\u2705]")


def _check_starts(rest: str, answer: str) -> list[int]:
    """Where a check of the answer may open in `rest` (audit 40, item 1): before the first check
    label, and at each clause boundary of the first ticked statement up to it. `_comes_back` reads
    the working before each: once it reaches the answer ("60 × 2.5 = 150. Check: 150 / 60 = 2.5
    hours. ✓", "sum = 5, product = 6 ✓"), whatever the check says is neutral. Nothing past the
    first label or tick is a start (a check's own result, "Check: 15 − 3 = 12, and …", is no
    working), nor anything when later new working (`_NEW_WORKING_RE`) states another value."""
    label = _CHECK_OPENING_RE.search(rest)
    tick = _TICK_RE.search(rest)
    limit = min(m.start() for m in (label, tick) if m is not None) if label or tick else None
    if limit is None:
        return []
    starts = [label.start()] if label is not None and label.start() == limit else []
    if tick is not None and tick.start() == limit:
        first = _ticked_sentence_start(rest, tick)
        starts += [first] + [m.end() for m in _CLAUSE_BOUNDARY_RE.finditer(rest, first, limit)]
    if _new_working_after(rest, limit, answer):
        return []
    return starts[:_MAX_TRIGGERS]


def _other_value_checked(rest: str, answer: str) -> str:
    """`rest` up to its first check when the working before it ends on another value than `answer`
    and the check opens with that value ("12 + 3 = 15. Check: 15 − 3 = 12 ✓", "the product: 6.
    Check: 6 - 1 = 5 ✓"): the answer that check comes to confirms the new value, not the answer."""
    label, tick = _CHECK_OPENING_RE.search(rest), _TICK_RE.search(rest)
    if label is None and tick is None:
        return rest
    if label is not None and (tick is None or label.start() < tick.start()):
        start, opened = label.start(), label.end()
    else:
        start = opened = _ticked_sentence_start(rest, tick)
    _, value = _last_stated(rest, start)
    first = _LAST_NUMBER_RE.search(rest, opened, tick.start() if tick is not None and tick.start() > opened else len(rest))
    plain = _plain_answer(answer)
    if (value is None or first is None or plain is None or _same_value(plain, value.rstrip(","))
            or not _same_value(value.rstrip(","), first.group().rstrip(","))):
        return rest
    return rest[:start]


#: Words of `_comes_back` and `_reopening` that open new working after a recheck or a holder (audit 40,
#: item 2): a value stated after them reopens ("12 is fine. Plus the teacher: 13.").
_NEW_WORKING_RE = re.compile(r"\b(?:but|plus|however|now|actually|wait|though|although|yet|except|then[ \t]+add"
                             r"|let[ \t]+me[ \t]+(?:re-?do|re-?compute|re-?calculate|re-?count))\b", re.IGNORECASE)


def _new_working_after(rest: str, at: int, answer: str) -> bool:
    """Whether `rest` after `at` opens new working (`_NEW_WORKING_RE`) that states a value other than
    `answer` later in its sentence (`_STATED_RE`, or any `=` result)."""
    for cue in list(_NEW_WORKING_RE.finditer(rest, at))[-_MAX_TRIGGERS:]:
        if _stated_other(rest, cue.end(), answer):
            return True
    return False


def _stated_other(rest: str, at: int, answer: str) -> bool:
    """Whether the sentence going on at `at` (at most `_WINDOW` characters) states a value other than
    `answer` (a cut-off `=` too), or any value when `answer` is no plain number."""
    end = _SENTENCE_END_RE.search(rest, at, at + _WINDOW)
    clause = rest[at:end.start() if end is not None else at + _WINDOW]
    plain = _plain_number(_plain_answer(answer) or answer)
    for m in _STATED_RE.finditer(clause):
        value = _stated_value(m)
        if value is None or not plain or not _same_value(_plain_answer(answer) or answer, value.rstrip(",")):
            return True
    return False


def _without_refusals(rest: str) -> str:
    """`rest` with each sentence less a value it refuses at its end (`without_refused`: "15 apples, not
    12.", "15 instead of 12", "which is 3 more than 12" is kept as it is)."""
    if "not" not in rest and "rather" not in rest and "instead" not in rest:
        return rest
    parts = re.split(r"((?<![iIeE]\.[eEgG])\.(?=\s|\Z)|[!?\n])", rest)
    return "".join(without_refused(part) if i % 2 == 0 else part for i, part in enumerate(parts))


#: Words labelling a check at the end of a recheck ("Check:", "Also,"), dropped with it.
_CHECK_LABEL_RE = re.compile(r"(?:[\s,;:.\u2014\u2013-]|\b(?:check(?:ing)?|verify(?:ing)?|verification|also|and))*\Z",
                             re.IGNORECASE)


def _checks_dropped(rest: str, answer: str, *, unticked: bool = False) -> str:
    """`rest` less the checks of the answer ticked at its end, with their labels (`_neutral_check`:
    "… x = 2 and y = 3. Check: 2 + 3 = 5 ✓, 2 - 3 = -1 ✓." ends on "x = 2 and y = 3"; review of
    audit 40); with `unticked` (the working before a confirmation: "4 + 4 + 4 = 12, 12 / 4 = 3. OK.")
    also unticked ones that undo the answer (see `_neutral_check`). At most `_MAX_TRIGGERS` of them
    (a bound on what a flood of them costs)."""
    for _ in range(_MAX_TRIGGERS):
        end = len(rest.rstrip(" \t\n.!,;*_"))
        tick = _LAST_TICK_RE.search(rest, max(0, end - 8), end)
        if tick is None and not unticked:
            break
        start = _neutral_check(rest, end if tick is None else tick.start(), answer, undoes=tick is None)
        if start is None:
            break
        rest = rest[:_CHECK_LABEL_RE.search(rest, max(0, start - 40), start).start()]
    return rest


#: A check mark ending the text (up to `end`), perhaps in brackets ("= 3 ✓", "= 3 (✓)").
_LAST_TICK_RE = re.compile(r"[ \t*_$}]{0,4}\(?[ \t]{0,2}[\u2713\u2714\u2705][\ufe0f]?\)?\Z")
#: The result of an equation ending right before a check mark (group "result").
_TICKED_RESULT_RE = re.compile(r"=[ \t]*\$?(?:\\boxed\{)?(?P<result>" + _NUMBER + r")\}?\$?\Z")
#: Numbers in an answer or in a side of an equation.
_DIGITS_RE = re.compile(r"\d+(?:\.\d+)?")


def _neutral_check(text: str, at: int, answer: str, *, undoes: bool = False) -> int | None:
    """Where the check ending at `at` in `text` (a check mark there) opens, when it is a check of
    the answer: an equation of plain arithmetic ticked after its result, true, whose left side holds
    every number of the answer ("12 / 4 = 3 ✓", "12 - 4 - 4 - 4 = 0 ✓", "2 - 3 = -1 ✓" after `(2,
    3)`; not "3 × 5 = 15 ✓" after 12); else None. With `undoes` (no check mark), the left side must
    also open with the answer and only divide or subtract ("12 / 4 = 3", not "12 + 3 = 15")."""
    found = _TICKED_RESULT_RE.search(text, max(0, at - 48), at)
    if found is None:
        return None
    start = found.start()
    while start > 0 and found.start() - start < 60 and (text[start - 1] in _ARITHMETIC
                                                          or (text[start - 1] == "." and text[start:start + 1].isdigit())):
        start -= 1
    while start < found.start() and not (text[start].isdigit() or text[start] in "(-\u2212"):
        start += 1
    left = text[start:found.start()]
    wanted = _DIGITS_RE.findall(answer)
    numbers = {float(n) for n in _DIGITS_RE.findall(left)}
    if not wanted or not all(float(n) in numbers for n in wanted):
        return None
    if undoes and (not _UNDOES_RE.fullmatch(left.strip()) or not _same_value(answer, _DIGITS_RE.match(left)[0])):
        return None
    value = _arithmetic(left)
    result = found["result"].replace(",", "")
    return start if value is not None and value == Fraction(result) else None


#: The answer's number divided or reduced ("12 / 4", "12 ÷ 3", "12 - 4 - 4 - 4").
_UNDOES_RE = re.compile(r"\d+(?:\.\d+)?(?:[ \t]*[/\u00f7\u2212-][ \t]*\d+(?:\.\d+)?)+")
#: The characters of plain arithmetic (digits, spaces, operations, brackets).
_ARITHMETIC = frozenset("0123456789 \t+-*/()\u00d7\u00f7\u00b7\u22c5\u2212")
_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _arithmetic(expression: str) -> Fraction | None:
    """The exact value of `expression`, plain arithmetic on numbers (+, -, ×, ÷, /, brackets), or
    None when it is none (or divides by zero)."""
    for sign, plain in (("\u00d7", "*"), ("\u00b7", "*"), ("\u22c5", "*"), ("\u00f7", "/"), ("\u2212", "-")):
        expression = expression.replace(sign, plain)
    if not expression.strip() or len(expression) > 80 or "**" in expression:
        return None
    try:
        tree = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError:
        return None

    def value(node) -> Fraction:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return Fraction(str(node.value))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return -value(node.operand) if isinstance(node.op, ast.USub) else value(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value(node.left), value(node.right))
        raise ValueError(node)

    try:
        return value(tree)
    except (ValueError, ZeroDivisionError):
        return None


#: Where the value ending a recheck may open in its last sentence (`_ends_on`): after `=`, a verb of
#: result, a conclusion word, a colon or comma, or at inline maths.
_VALUE_OPENING_RE = re.compile(r"=|\b(?:is|are|equals|gives|becomes|makes|get|gets|got|so|thus|hence|therefore)\b|[:,]"
                               r"|(?=\$|\\\()", re.IGNORECASE)
#: A choice named in a recheck ("option C gives 12, which matches"; group "letter").
_CHOICE_NAMED_RE = re.compile(r"\b(?:option|choice|answer)[ \t]*\(?(?P<letter>[A-Ea-e])\)?(?![\w])", re.IGNORECASE)
#: A negation in a sentence naming a choice ("option C doesn't match").
_NEGATION_RE = re.compile(r"\b(?:not|no|never)\b|n't|n\u2019t", re.IGNORECASE)
#: How long the value ending a recheck may be: a bound on what comparing the candidates costs.
_ENDING_VALUE = 80


def _ends_on(rest: str, answer: str) -> bool:
    """Whether the last sentence of `rest` (a recheck after a retraction of `answer`, an answer that
    is no plain number) ends on `answer`'s value: a tail of it after `=`, a verb of result, a colon
    or comma, or inline maths (at most `_ENDING_VALUE` characters, a refused value after it
    dropped) that the grader's cheap stage finds equal to `answer` (`_equivalent`: "-6/8 = -3/4."
    after `-\\frac{3}{4}`, "x = 2, y = 3." after `(2, 3)`, "… is 3:30."); for a choice letter, the
    last choice it names, with no negation ("option C gives 12, which matches")."""
    text = rest
    for _ in range(8):  # (marks and stops, in any order: "… = \\frac{1}{2} ✓."; a few at most, a bound)
        stripped = without_marks(text.rstrip()).rstrip(" \t.!*_")
        if stripped == text:
            break
        text = stripped
    ends = [m.end() for m in _SENTENCE_END_RE.finditer(text, max(0, len(text) - 4 * _WINDOW))]
    sentence = without_refused(text[ends[-1] if ends else max(0, len(text) - 4 * _WINDOW):].strip())
    if _choice_letter(answer):
        named = list(_CHOICE_NAMED_RE.finditer(sentence))
        return (bool(named) and named[-1]["letter"].upper() == answer.strip().strip("()").upper()
                and _NEGATION_RE.search(sentence) is None)
    for m in list(_VALUE_OPENING_RE.finditer(sentence, max(0, len(sentence) - _ENDING_VALUE - 8)))[-_MAX_TRIGGERS:]:
        value = sentence[m.end():].strip()
        if value.startswith("$") and value.endswith("$"):
            value = value.strip("$").strip()
        elif value.startswith("\\(") and value.endswith("\\)"):
            value = value[2:-2].strip()
        if value and len(value) <= _ENDING_VALUE and _equivalent(answer, value):
            return True
    return False


def _equivalent(answer: str, value: str) -> bool:
    """Whether `value` is `answer` for the grader's cheap, in-process stage (`math._plan_normalized`
    as a claim, which runs no worker: a pair it cannot decide without sympy is no match)."""
    from rlvr.verifiers.math import _plan_normalized

    a, v = normalize(answer), normalize(value)
    if not a or not v:
        return False
    if a == v:
        return True
    try:
        plan = _plan_normalized(a, v, final=False)
    except Exception:  # noqa: BLE001 - a value the grader cannot read is no match
        return False
    return plan.verdict is not None and plan.verdict.correct


def _stands(rest: str, answer: str) -> bool:
    """Whether `rest`, the text after a retraction, says the answer holds after all: a holder
    (`_holders`: a predicate of `_STANDS_RE` about the answer, a denied change of it, a check mark
    right after the answer's number, a confirmation with no negation right before it) that no later
    working reopens (`_reopening`: "12 is fine. Plus the teacher: 13." holds nothing), and that
    names the answer's number or follows working that comes back to it or states no value
    (`_comes_back`; review of audit 40: "Let me redo: the total is 15. Is it? Yes it is.", "3 × 5 =
    15. Good.", "… 3 × 5 = 15. The answer is unchanged." confirm 15, not the answer). A complement
    after it is no condition unless the working goes on to another value ("12 is correct for 3 bags
    of 4 apples." holds; "It is correct to multiply, but … 5 × 4 =" does not). Only the last
    `_MAX_TRIGGERS` holders past the last reopening are read: linear."""
    answer = _plain_answer(answer) or answer  # (`12 \\text{ apples}`: its number)
    reopened = _reopening(rest, answer)
    holders = sorted(h for h in _holders(rest, answer) if h[0] > reopened)[-_MAX_TRIGGERS:]
    return any(named or _works_to(rest, start, answer) for _, start, named in reversed(holders))


def _holders(rest: str, answer: str):
    """The places in `rest` saying `answer` holds, as (end, start, whether it names the answer's
    number): a predicate of `_STANDS_RE` whose numbers are the answer's (a number subject opening
    its clause: "12 is still right"; not "Bag 12 holds 3 apples") and that asks nothing ("12 is
    still right? No, …"), a denied change of the answer (`_NOT_CHANGED_RE`), a check mark right
    after the answer's number (`_CHECKED_RE`), and a confirmation of `_CONFIRMED_RE` with no
    negation right before it ("That's not right either." holds nothing; "Yes, 12." names the
    answer, "Yes, 15." holds nothing)."""
    for m in _STANDS_RE.finditer(rest):
        numbers = [n.rstrip(",") for n in (m["n"], m["m"], m["value"]) if n]
        if not all(_same_value(answer, n) for n in numbers) or _asks(rest, m.end()):
            continue
        if m["m"] is not None and _OPENS_NUMBER_RE.search(rest, max(0, m.start() - 40), m.start()) is None:
            continue  # "Bag 12 holds 3 apples": a label's number, no subject
        if _CONDITIONAL_RE.match(rest, m.end()):
            continue  # "12 is correct only if each bag holds 4": a condition, no holder (audit 40, item 4)
        yield m.end(), m.start(), bool(numbers)
    for m in _NOT_CHANGED_RE.finditer(rest):
        if not _asks(rest, m.end()):
            yield m.end(), m.start(), False
    for m in _CHECKED_RE.finditer(rest):
        if _same_value(answer, m["n"].rstrip(",")):
            yield m.end(), m.start(), True
    for m in _CONFIRMED_RE.finditer(rest):
        if _NEGATED_RE.search(rest, max(0, m.start() - 24), m.start()):
            continue
        said = _CONFIRMED_VALUE_RE.match(rest, m.end())
        if said is None or not _plain_number(answer):
            yield m.end(), m.start(), False
        elif not _CLAUSE_ENDS_RE.match(rest, said.end()):
            continue  # "Yes, 12 was wrong.", "Yes, 12 is too low.": the number opens a judgement (item 5)
        elif _same_value(answer, said["n"].rstrip(",")):
            yield said.end(), m.start(), True


#: Words after a stands-word that make it a condition ("12 is correct only if …", "… when …").
_CONDITIONAL_RE = re.compile(r"[ \t,]*(?:only|if|when|unless|provided)\b", re.IGNORECASE)
#: What may follow a confirmed value for it to end its clause ("Yes, 12.", "Yes, 12 ✓", "Yes, 12, …").
_CLAUSE_ENDS_RE = re.compile(r"[ \t*_]*(?:[.!,;:\n\u2713\u2714\u2705]|\Z)")
#: The number a confirmation gives ("Yes, 12", "Yes, $12$"; group "n").
_CONFIRMED_VALUE_RE = re.compile(r",[ \t]*" + _STANDS_NUMBER)


def _asks(rest: str, at: int) -> bool:
    """Whether the predicate ending at `at` in `rest` is asked ("12 is still right? No, it's 15.")."""
    at = _CLAUSE_TAIL_RE.match(rest, at).end()
    return rest[at:at + 2].lstrip(" \t")[:1] in ("?", "\uff1f")


def _works_to(rest: str, at: int, answer: str) -> bool:
    """Whether the working in `rest` before `at` (a holder naming no number there: "Good.", "Yes it
    is.", "That's correct.", "The answer is unchanged.") states no value or comes back to `answer`
    (`_comes_back`, on the last `4 * _WINDOW` characters: a bound on what many holders cost), a
    question ending it asked about that value ("Is it 12? Yes it is.")."""
    before = rest[max(0, at - 4 * _WINDOW):at].rstrip(" \t\n*_")
    if before.endswith(("?", "\uff1f")):
        before = before[:-1]
    before = _checks_dropped(before, answer, unticked=True)
    if _plain_number(answer):
        if _last_value(before) is None and _STATED_RE.search(before) is None:
            return True
    elif not any(c.isdigit() or c == "=" for c in before):
        return True
    return _comes_back(before, answer)


def _reopening(rest: str, answer: str) -> int:
    """Where the last working in `rest` that reopens an answer said to hold before it ends (-1 when
    none): a stated value (`_STATED_RE`) other than `answer` that is no check of it (`_neutral_check`:
    "12 / 4 = 3 ✓" keeps it), an `=` the text is cut off at ("5 × 4 ="), or a "but" followed in its
    sentence by another number or `=` ("…, but I forgot the 3 extra apples, so 12 + 3 ="; not "…, but
    it was sloppy."). Counts in prose ("3 bags of 4 apples", "holds 4") reopen nothing. After an
    answer that is no plain number only the "but" and the cut-off `=` are read."""
    plain = _plain_number(answer)
    last = -1
    for m in _STATED_RE.finditer(rest):
        if m.group().startswith("=") and m["eq"] is None:
            if not rest[m.end():].strip(" \t\n$"):
                last = m.start()  # "5 × 4 =": cut off
            continue
        value = _stated_value(m)
        if not plain or _same_value(answer, value.rstrip(",")):
            continue
        if m["eq"] is not None:
            tick = _TICK_AFTER_RE.match(rest, m.end())
            if _neutral_check(rest, m.end(), answer, undoes=tick is None) is not None:
                continue  # "12 / 4 = 3 ✓", "note 12 / 3 = 4 per bag": a check of the answer
        elif m["total"] is None and not _CONCLUDING_RE.match(m.group()):
            continue  # "That's 4 apples in each bag.", "It is 3 more than 9.": the inputs explained
        last = m.start()
    for m in list(_NEW_WORKING_RE.finditer(rest))[-4 * _MAX_TRIGGERS:]:
        if m.start() <= last:
            continue
        if (_another_value(rest, m.end(), answer, plain) if _REOPENED_RE.fullmatch(m.group())
                else _stated_other(rest, m.end(), answer)):
            last = m.start()
    return last


#: A colon or a conclusion word opening a stated value (`_reopening`: "So 15.", "right: 13." reopen).
_CONCLUDING_RE = re.compile(r":|(?:so|thus|hence|therefore)\b", re.IGNORECASE)


def _another_value(rest: str, at: int, answer: str, plain: bool) -> bool:
    """Whether the sentence going on at `at` (at most `_WINDOW` characters) holds an `=` or a number
    other than `answer` (any number, for an answer that is no plain number)."""
    end = _SENTENCE_END_RE.search(rest, at, at + _WINDOW)
    clause = rest[at:end.start() if end is not None else at + _WINDOW]
    if "=" in clause:
        return True
    return any(not plain or not _same_value(answer, n.rstrip(",")) for n in _LAST_NUMBER_RE.findall(clause))


def _stated_value(m: re.Match) -> str | None:
    """The value a `_STATED_RE` match states (None for an `=` the text cut off: "5 × 4 =")."""
    return m["eq"] or m["said"] or m["closing"] or m["total"] or m["ticked"]


def _last_stated(text: str, end: int) -> tuple[re.Match | None, str | None]:
    """The last value `text[:end]` states (`_STATED_RE`), a bare ticked number aside ("13 ✓" is a
    check's, no step's result): the match and its value, or (None, None)."""
    step = _last(m for m in _STATED_RE.finditer(text, 0, end) if m["ticked"] is None)
    return step, None if step is None else _stated_value(step)


def _ticked_sentence_start(text: str, tick: re.Match) -> int:
    """Where the sentence of the statement a check mark (`tick`) ends opens in `text`."""
    opening = text[:tick.start()].rstrip(" \t*_.!$}")
    sentence = _SENTENCE_END_RE.search(opening[::-1])
    return len(opening) - sentence.start() if sentence is not None else 0


def _last(matches) -> re.Match | None:
    """The last of `matches`, or None."""
    last = None
    for last in matches:
        pass
    return last


def _plain_answer(answer: str) -> str | None:
    """`answer` as a plain number (`12`, `12 \\text{ apples}` read as a number gold's answer is:
    12), or None when it is none (`\\frac{1}{2}` is one, `(2, 3)` is not)."""
    if _plain_number(answer):
        return answer
    counted = normalize(answer, number_gold=True)
    return counted if _plain_number(counted) else None


#: A number or a word of a number in words (`_last_value`).
_NUMBER_TOKEN_RE = re.compile(r"-?\d[\d,]*(?:\.\d+)?|[A-Za-z]+")


def _last_value(rest: str) -> str | None:
    """The last value `rest` names, in digits ("12") or in words ("twelve", "a dozen", "two dozen"),
    as written in digits; None when it names none. Why: a recount in words ("Three bags, four each:
    a dozen.") comes back to the answer as one in digits does (review of audit 39)."""
    from rlvr.verifiers.math_extract import _SCALES, _SMALL_NUMBERS, _TENS, _spelled_number

    last, run, previous_end = None, [], 0

    def spelled(words: list[str]) -> str | None:
        while words and words[-1] == "and":
            words = words[:-1]
        value = _spelled_number(words) if words else None
        return None if value is None else str(value)

    for m in _NUMBER_TOKEN_RE.finditer(rest):
        token = m.group().lower()
        if run and rest[previous_end:m.start()].strip(" \t-"):
            last = spelled(run) or last  # a mark between words ends their number: "three, four"
            run = []
        previous_end = m.end()
        if token[-1].isdigit():
            last = token.rstrip(",")
        elif token in _SMALL_NUMBERS or token in _TENS or token in _SCALES or (token == "and" and run):
            run.append(token)
            continue
        elif token == "dozen":
            times = spelled(run) if run else "1"
            last = str(12 * int(times)) if times is not None else last
        elif run:
            last = spelled(run) or last
        run = []
    return (spelled(run) or last) if run else last


def _clear_retraction(tail: str, answer: str) -> re.Match | None:
    """The first clear retraction opening a sentence in `tail` (see `answer_retracted`), or None: a
    judgement that ends its clause (`_ends_clause`: "that's wrong", "that's not right", "this is
    incorrect", "that answer is wrong", "that can't be right"; one that only doubts, "12 seems
    wrong", "I don't think that's right", before a redo), or another retracting word ("Wait, no.",
    "Oops", "I made a mistake", "I think I made an error", "I miscounted") followed within its next
    sentences by a redo ("Let me redo this.", "Let me recompute the total", "Redoing it:"). Alone,
    such a word takes no answer back: "Oops, 3 per row, not 4.", "No, I'm confident.", "Oh no, 2
    hours have passed!", "I made a mistake.\n\n1. First, she buys 4 packs." (rules 18's tests)."""
    for m in _RUN_RE.finditer(tail):
        words = [w for w in _RETRACTING_RE.finditer(m.group()) if not _SOFT_RETRACTING_RE.fullmatch(w.group())]
        if not words:
            continue
        if _BARE_NO_RE.match(m.group()):
            if _asks_about_answer(tail, m.start()):
                return m  # "Is it \\boxed{12}? No."
            continue
        judgements = [w for w in words if _JUDGEMENT_RE.search(w.group())]
        if any(_ends_clause(tail, m.start() + w.end()) for w in judgements):
            return m
        if len(judgements) < len(words) and _redone(tail, m.end()):
            return m
    for m in _THIS_WRONG_RE.finditer(tail):
        if m["number"] is not None and not _same_value(answer, m["number"].rstrip(",")):
            continue  # "13 is wrong": not the answer 12
        doubt = any(m[g] is not None for g in ("soft", "thinks", "seems", "off"))
        if _ends_clause(tail, m.end()) and (not doubt or _redone(tail, m.end())):
            return m
    return None


def _redone(tail: str, at: int) -> bool:
    """Whether a redo (`_REDO_RE`) is announced within `_WINDOW` characters after `at`."""
    return _REDO_RE.search(tail, at, at + _WINDOW) is not None


def _asks_about_answer(tail: str, at: int) -> bool:
    """Whether the text before `at` in `tail` (the text after the answer) is the end of a question
    that holds the answer: no sentence ends between the answer and the "?" ("Is it \\boxed{12}? No.")."""
    before = tail[:at].rstrip()
    return before.endswith("?") and not before[:-1].strip(" \t$*_)}")


def _ends_sentence(run: str) -> bool:
    """Whether the retracting `run` ends its sentence ("Wait, no.", "Oops!", "I made a mistake.\n"):
    what follows is another sentence."""
    run = run.rstrip(" \t")
    if run.endswith("\n"):
        return True
    run = run.rstrip("*_")
    return run.endswith(("!", "\u3002", "\uff01")) or (run.endswith(".") and not run.endswith(".."))


def _answers_a_question(tail: str, at: int) -> bool:
    """Whether the sentence opening at `at` follows a question ("Is it 0? No, it's 2.")."""
    before = tail[max(0, at - 8):at].rstrip()
    return before.endswith("?")


#: A number, then a bracket opening with the same number again (`13 (13 doubtful)`): what is said
#: is that number, whatever the bracket adds. Bounded runs: linear.
_REPEATED_NUMBER_RE = re.compile(r"(?P<number>-?\d[\d,]{0,30}(?:\.\d{1,30})?)[ \t]*\([ \t]*"
                                 r"(?P<again>-?\d[\d,]{0,30}(?:\.\d{1,30})?)(?![\d.,]?\d)[^()\n]{0,200}\)")


#: Working cut off before its value: a sentence ending in `=` or an operation ("3 × 5 =", "3 ×").
_CUT_OFF_RE = re.compile(r"(?:[=+*/\u00d7\u00f7\u00b7\u22c5\u2212-]|\\(?:times|cdot|div))[ \t$]*\Z")


def _read_value(said: str, before: str | None, *, nouns: bool = True) -> str | None:
    """`said` (the rest of a retraction's sentence) as a value, or None when it names none (see the
    module docstring); "" when it names a value that is no other answer: `before` again in another
    form, or one the grader could not read (see `readable_value`). (A retraction naming "" is the
    last word all the same: an earlier one is not read in its place.) With `nouns` false the words
    of what a number counts are not dropped: the value must be all of `said` ("3 rows makes sense
    here" names none)."""
    from rlvr.verifiers.math_extract import (_APPROXIMATE_RE, _CHOICE_LETTER_RE, _INLINE_MATHS_RE, _POINTS_BACK_RE,
                                             _PROSE_WORD_RE, _drop_remark, looks_like_bare_answer, spelled_answer)

    said = without_marks(said)
    reason = _REASON_RE.search(said)
    if reason is not None and (reason["refused"] is None or _is_value(reason["refused"])):
        said = said[:reason.start()].strip()
    said = without_refused(said)  # "13 rather than 12", "C, not B" (rules 29)
    restated = _RESTATED_RE.search(said) if ("." in said or " " in said) else None
    if restated is not None:
        said = said[:restated.start()].strip()
    said = _drop_remark(said.rstrip(".").strip()).strip().strip("*_`").strip()
    repeated = _REPEATED_NUMBER_RE.fullmatch(said)
    if repeated is not None and repeated["again"] == repeated["number"]:
        said = repeated["number"]  # "13 (13 doubtful)", no breakdown: still the value 13 (review of rules 29)
    if not said or len(said) > 200 or _POINTS_BACK_RE.search(said) or _APPROXIMATE_RE.search(said):
        return None
    if _CUT_OFF_RE.search(said):
        return None  # "The correct total is 3 × 5 =": working cut off, no value (review 2 of audit 39)
    spelled = spelled_answer(said)
    if spelled is not None:
        return "" if before is not None and _same_value(before, spelled) else spelled
    if _CHOICE_LETTER_RE.match(said.upper() if len(said) <= 3 else said):
        return said if before is not None and _CHOICE_LETTER_RE.match(before.strip()) else None
    if nouns and before is not None and _counts(before):
        said = _noun_tail_dropped(said)  # "21 apples" after 20: the value 21
    if not any(c.isdigit() or c in "\\$" for c in said) or _PROSE_WORD_RE.search(_INLINE_MATHS_RE.sub(" ", said)):
        return None  # a word ("that's right"), or prose ("let me verify: 3 × 6 = 18", "12 is right")
    said = _last_side(without_working(said))
    if before is not None and _plain_number(before) and _DECIMAL_COMMA_RE.fullmatch(said):
        said = said.replace(",", ".")  # "20,0" after 20: a decimal comma, not the pair (20, 0)
    if not looks_like_bare_answer(normalize(said)):
        return None
    return said if readable_value(said, before) else ""


def _noun_tail_dropped(said: str) -> str:
    """`said` (a whole sentence's value, after an answer that is a number, see `_counts`) less plain
    lower-case words after its number that name what it counts ("21 apples", "21 dollars": 21), read
    as a plain-number gold's answer is (`math_normalize._plain_word_tail`, rules 16); else `said` as
    it is ("3 apples per box in step 2", "2 hours have passed", "12 is right" keep their words, and
    so name no value; so does "Oops, 2 typos.", whose words are about a mistake, see `_HINTS`, and
    a rate, "Wait, no, it's 6 per day.": most often a step of the working, not the answer)."""
    from rlvr.verifiers.math_normalize import _plain_word_tail

    number = _plain_word_tail(said)
    if number == said or not _plain_number(number):
        return said
    words = said[len(number):].lower()
    return said if might_retract(words) or _RATE_RE.search(words) else number


#: Words that make a number and what it counts a rate ("6 per day", "6 an hour", "6 every day").
_RATE_RE = re.compile(r"\b(?:per|an?|every|apiece)\b")


def _counts(before: str) -> bool:
    """Whether the answer `before` is a number, read as a plain-number gold's answer is: a plain
    number (`20`, `$20`) or one with what it counts (`20 apples`, `20 \\text{ apples}`)."""
    return _plain_number(before) or _plain_number(normalize(before, number_gold=True))


def without_marks(said: str) -> str:
    """`said` stripped, less emphasis marks and backticks around it and check marks after it
    ("**20**", "`20`", "20 ✓", "20 (✓)")."""
    said = said.strip().strip("*_`").strip()
    for _ in range(8):  # (a few marks at most: a bound on what a flood of them costs)
        if not said:
            break
        if said[-1] in _CHECK_MARKS:  # "20 ✓"
            said = said.rstrip(" \t" + _CHECK_MARKS)
        elif said[-1] == ")" and said[:-1].rstrip(" \t")[-1:] in tuple(_CHECK_MARKS):  # "20 (✓)"
            k = said.rfind("(")
            if k < 0 or said[k + 1:-1].strip(" \t" + _CHECK_MARKS):
                break
            said = said[:k]
        else:
            break
        said = said.rstrip().rstrip("*_`").rstrip()
    return said


def without_working(said: str) -> str:
    """`said` less working in brackets after its value ("20 (4 × 5)", "20 (= 4 × 5)", "2 (x = 2)",
    "20 [4·5]": an operation and no word of prose inside) or after a colon ("20: 4 × 5"). A
    bracket holding a value alone ("20 (18)") stays, and so does a colon between numbers (`3:30`):
    they are no working."""
    if not said.endswith((")", "]")) and ": " not in said:
        return said
    from rlvr.verifiers.math_extract import _INLINE_MATHS_RE, _PROSE_WORD_RE

    colon = said.rfind(": ")
    if colon > 0:
        working = _TIMES_X_RE.sub("\u00d7", said[colon + 1:].strip())
        if _OPERATION_RE.search(working) and _ARITHMETIC_RE.fullmatch(working):
            return said[:colon].strip()
    k = max(said.rfind("("), said.rfind("["))
    if k <= 0 or not said.endswith(")" if said[k] == "(" else "]"):
        return said
    m = _WORKING_RE.fullmatch(said, k)
    if m is None:
        return said
    inside = _INLINE_MATHS_RE.sub(lambda x: x.group().strip("$"), m["inside"])
    if not _OPERATION_RE.search(inside) or _PROSE_WORD_RE.search(inside):
        return said
    return said[:k].strip()


def readable_value(value: str, before: str | None) -> bool:
    """Whether `value`, a value a retraction, a correction or a second answer names after the
    answer `before`, counts as one more final answer (rules 18): the grader can read it (it parses
    as an answer does once normalised, or is a word answer), it is not `before` in another form
    (`0.25` after `25\\%`, `20.0` after `20`) and, after a plain-number answer, it has no letter
    glued to it (`20s`, `1k`, `20x`, `x20`: a unit or a typo, which the grader would read as a
    product). An unreadable restatement ("20 ✓", "20€", "₹20") is no second answer: grading it as
    one would mark the right answer before it wrong."""
    from rlvr.verifiers.math_compare import prepare
    from rlvr.verifiers.math_normalize import word_answer
    from rlvr.verifiers.math_parse import parse

    if before is not None and _same_value(before, value):
        return False
    tried = set()
    for number_gold in (False, True):
        norm = normalize(value, number_gold=number_gold)
        if not norm or norm in tried:
            continue
        tried.add(norm)
        if word_answer(norm) is not None:
            return True
        if before is not None and _plain_number(before) and _LETTER_RE.search(_COMMAND_RE.sub(" ", norm)):
            continue  # `20s` after 20: a unit glued on, not the product 20·s
        try:
            prepare(parse(norm))
        except Exception:  # noqa: BLE001 - a ParseError, or any other way the grader cannot read it
            continue
        return True
    return False


#: A LaTeX command's name, and a letter outside one (in a normalised value).
_COMMAND_RE = re.compile(r"\\[A-Za-z]+")
_LETTER_RE = re.compile(r"[A-Za-z]")


def _plain_number(value: str) -> bool:
    """Whether `value` is a plain number, fraction or percent (see `math_restatement._plain_float`)."""
    from rlvr.verifiers.math_restatement import _plain_float

    return _plain_float(value) is not None


def _choice_letter(value: str) -> bool:
    """Whether `value` is a choice letter (`C`, `(C)`, see `math_extract._CHOICE_LETTER_RE`)."""
    from rlvr.verifiers.math_extract import _CHOICE_LETTER_RE

    return _CHOICE_LETTER_RE.match(value.strip()) is not None


def _same_value(before: str, value: str) -> bool:
    """Whether `value` says the plain value `before` says, in another form (see
    `math_restatement._same_plain_value`: `20.0` and 20, `0.25` and `25\\%`)."""
    from rlvr.verifiers.math_restatement import _same_plain_value

    return _same_plain_value(before, value)


#: A value refused after the one said (rules 29): ", not 12", ", and not 12", " rather than 12",
#: " instead of 12", " (not 12)". Group "refused" (or "bracketed") is what is refused, checked by
#: `without_refused`. Anchored at the end, each part a bounded run, and a run of spaces is entered
#: only where it starts: linear.
_REFUSED_RE = re.compile(r"(?:,[ \t]*(?:and[ \t]+)?not|,?(?<![ \t])[ \t]+(?:rather[ \t]+than|instead[ \t]+of))[ \t]+"
                         r"(?P<refused>[^,\n]{1,40}?)[ \t.!]*\Z"
                         r"|(?<![ \t])[ \t]+\([ \t]*not[ \t]+(?P<bracketed>[^()\n]{1,40}?)[ \t]*\)[ \t.!]*\Z", re.IGNORECASE)


def without_refused(said: str) -> str:
    """`said` less a value it refuses after itself ("13, not 12", "13 rather than 12", "C, not B",
    "$13$ instead of $12$", "13 (not 12)"): the refused value is no answer, as in a retraction (rules
    18's ", not 18"); read with it, "13, not 12" was a list of two values, a hedge, and after a box
    no value at all, so a different answer stated after the box went unread (rules 29). Only a plain
    value is dropped (a digit and no word of prose), or a choice letter after a choice letter:
    "12, not counting the teacher" stays as it is."""
    m = _REFUSED_RE.search(said) if "not" in said or "rather" in said or "instead" in said else None
    if m is None:
        return said
    refused = (m["refused"] if m["refused"] is not None else m["bracketed"]).strip().strip("*_`").strip()
    kept = said[:m.start()].rstrip(" \t,")
    if not kept:
        return said
    if _is_value(refused) or (_choice_letter(refused) and _choice_letter(kept.strip("*_`$ "))):
        return kept
    return said


def _is_value(text: str) -> bool:
    """Whether `text` (what ", not …" refuses) is a plain value: a digit and no word of prose."""
    from rlvr.verifiers.math_extract import _PROSE_WORD_RE

    return any(c.isdigit() for c in text) and not _PROSE_WORD_RE.search(text)


def _last_side(said: str) -> str:
    """The value a chain of `=` (or of arrows: "10 + 10 → 20") gives when its sides are arithmetic
    on numbers, the first one arithmetic or a lone variable ("1.5 + 18.5 = 20", "x = 20": 20): its
    last side that is a plain number ("20 = 4 × 5": 20), else its last side; else `said`
    (`y = 2x + 3` is an equation, kept whole)."""
    said = _ARROW_RE.sub("=", said)
    if "=" not in said or "$" in said:
        return said
    sides = said.split("=")
    arithmetic = [_ARITHMETIC_RE.fullmatch(_TIMES_X_RE.sub("\u00d7", s)) for s in sides]
    if all(arithmetic[1:]) and (arithmetic[0] or _VARIABLE_RE.fullmatch(sides[0])):
        plain = [s.strip() for s in sides if _PLAIN_SIDE_RE.fullmatch(s.strip())]
        return plain[-1] if plain else sides[-1].strip()
    return said


#: "4 x 5": a times sign written as the letter x between numbers.
_TIMES_X_RE = re.compile(r"(?<=\d)[ \t]*[xX][ \t]*(?=\d)")
#: A plain number as a side of a chain of working.
_PLAIN_SIDE_RE = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


# -- second answers offered in other words (rules 18 too) ----------------------------------------
#
# Besides a retraction, a model may offer another final answer after its first without taking the
# first back: "Wait, it's 20.", "Alternatively, 20.", "Hmm, or was it 20?", "though 20 is also
# possible", or a label line "Result: 20" / "Edit: 20". Each names one more final answer (a hedge
# when it differs, nothing when it restates the first). Narrow for the same reason as above: the
# rest of the sentence must be a value and nothing else ("Alternatively, we could compute 3 × 4 =
# 12." and "Edit: fixed a typo in step 2." name none), "it's" needs an interjection before it
# ("Wait, it's 20."; a bare "It's 20 in total." is a sentence of the working), and "Wait, it's 20."
# and a label line are read only when no more working (no digit) follows them: in "Hmm, it's 4.
# Times 3 days is 12." the 4 is a step of a check of the answer, not another answer. Since rules 20
# also: a hedging or second-thought word opening the sentence ("Maybe 20.", "Possibly 20.",
# "Probably 20.", "I think it's 20.", "On second thought, 20.", "Actually 20.", "Also 20."; not
# before a chain of working, "Also, 3 + 4 = 7.", and "Also" only when no more working follows),
# "the answer could also be 20" / "would be 20" / "becomes 20" (not after a counterfactual about a
# mistake: "If we had forgotten the teacher, the answer would be 21"), and "Final: 20". Since the
# review of rules 21: "would be" / "becomes" only alone or after a clause that counts the question's
# quantity again ("If we include the teacher, it would be 21"; not a conversion, "In radians, the
# answer would be π/2", nor a what-if, "If the rows doubled, the answer would be 24"); after "I
# think", "Maybe" and the like the value must be all of the sentence ("I think 3 rows makes sense"
# names none); also "Or maybe it's 20.", "It could be 20 too." and "Alternatively, if we count the
# teacher: 20.". Since rules 29 also "20 also works.", "20 works too." (see `_WORKS_RE`).

#: Text without one of these (lowercased) offers no second answer: a cheap first check.
_OFFER_RE_HINTS = ("alternatively", "or was it", "or is it", "it's", "it\u2019s", "it is", "it should", "it must",
                   "i think", "second thought", "actually", "also", "probably", "maybe", "perhaps", "possibly")
_LABEL_HINTS = ("result", "edit", "update", "final")  # `_LABEL_RE`
#: `_COULD_BE_RE`: "could also be", "would be", "might be" ...
_COULD_BE_HINTS = ("also be", "would be", "could be", "might be", "may be", "will be", "becomes")
#: "It could be 21 too.", "The answer might be 21 as well.": another value offered beside the answer
#: (review of rules 21). The value is one token (or `$…$`) of at most 40 characters: linear.
_TOO_RE = re.compile(
    r"\b(?:the\s+(?:final\s+|correct\s+)?answer|it|this|that)\s+(?:could|might|may|can)\s+(?:also\s+)?be[ \t]+"
    r"(?P<value>\$[^$\n]{1,80}\$|[^\s$,;:!?()]{1,40})[ \t]+(?:too|as[ \t]+well)\b[ \t]*(?:[.!]|\n|\Z)", re.IGNORECASE)
#: `_CONTRAST_GIVES_RE` ("However, a more careful count gives 6.") and `_ASKED_VALUE_RE` ("Hmm, 6?").
_GIVES_HINTS = ("gives", "yields", "comes to", "comes out to", "results in", "?")
_OFFER_HINTS = (_OFFER_RE_HINTS + _LABEL_HINTS + _COULD_BE_HINTS + _GIVES_HINTS
                + ("work",))  # ("also": `_ALSO_RE` too; `_WORKS_RE`)
#: An interjection run, then "it's" / "it is" / "it should be" ("Wait, it's 20."; group "said"),
#: "alternatively" (group "alt"), or "or was it" / "or is it" (group "asked", a question).
#: (`second_answer` checks that "it's" has an interjection before it: group "run".)
_OFFER_RE = re.compile(
    _OPENING + r"(?P<run>(?:" + _W + _INTERJECTION + _SEP + r"){0,3})" + _W
    + r"(?:(?P<said>it(?:'s|\u2019s|\s+is|\s+(?:should|must)\s+be)\b" + _W + r"[ \t]*)"
    + r"|(?P<alt>alternatively\b)" + _SEP + r"|(?P<asked>or\s+(?:was|is)\s+it\b)[ \t]*"
    + r"|(?P<bare>i\s+think|on\s+second\s+thought|actually|also|probably|(?:or\s+)?(?:maybe|perhaps|possibly))\b"
    + _SEP + r")",
    re.IGNORECASE)
#: A sentence saying the answer may be another value (rules 20): "The answer could also be 21.",
#: "It might also be 21.", "If we include the teacher, the answer would be 21.", "Including the
#: teacher, the answer becomes 21." (not a counterfactual
#: about a mistake: "If we had forgotten the teacher, the answer would be 21", see `_COUNTERFACTUAL_RE`).
_COULD_BE_RE = re.compile(
    r"(?:\b(?P<also>(?:the\s+(?:final\s+|correct\s+)?answer|it|this|that)\s+(?:could|might|may|can)\s+also\s+be)"
    r"|\b(?P<offer>(?:the\s+(?:final\s+|correct\s+)?answer|it|that)\s+(?:could|might|may)\s+be)"
    r"|\b(?:the\s+(?:final\s+|correct\s+)?answer|it)\s+(?:(?:would|could|might|may|will)\s+(?:also\s+)?be|becomes))\b"
    + _W + r"[ \t]*(?::[ \t]*)?", re.IGNORECASE)
#: What may stand before "it might be" / "the answer could be" / "that may be" (group "offer" of
#: `_COULD_BE_RE`) in its clause for the value to be offered beside the answer (audit 37): nothing,
#: or only openers: a conjunction or an interjection ("But it might be 6.", "Or it might be 6.",
#: "Hmm, but it might be 6."). A clause opened after a semicolon stands alone ("I'm not confident;
#: it could be 6."). Any other clause ("For n = 3 it could be 6.") is read as for "would be".
_OFFER_CLAUSE_RE = re.compile(
    r"[ \t>#*_-]*(?:(?:(?:but|or|and|so|yet|still|though|although|however|then|also|maybe|perhaps)\b|"
    + _INTERJECTION + r")[ \t*_]*[,:!\u2014\u2013-]?[ \t*_]*){0,4}", re.IGNORECASE)
#: A clause before "the answer would be" that is only "Otherwise," or "Else," (audit 37: "Otherwise,
#: the answer would be 6." names the answer of the other reading, a second answer as "13 otherwise." is).
_OTHERWISE_CLAUSE_RE = re.compile(r"[ \t>#*_-]*(?:otherwise|(?:or[ \t]+)?else)\b[ \t*_]*,?[ \t]*", re.IGNORECASE)
#: What a clause before "the answer would be" / "it would be" must say for the value to be another
#: count of the question's own quantity ("If we include the teacher, ...", "Counting the teacher,
#: ..."; review of rules 21): without it the value answers another question, a conversion ("In
#: radians, the answer would be π/2") or a what-if ("If the rows doubled, the answer would be 24").
_RECOUNT_RE = re.compile(r"\b(?:includ|exclud|count|inclusive|exclusive)\w*", re.IGNORECASE)
#: What makes the clause before "the answer would be" a counterfactual about a mistake, or a negation.
_COUNTERFACTUAL_RE = re.compile(r"\b(?:had|were|instead|mistak\w*|wrong\w*|incorrect\w*|forg[oe]t\w*|not|never)\b|n't\b"
                                r"|\bif[ \t]+(?:we|you|one|they)[ \t]+(?:counted|included|excluded)\b", re.IGNORECASE)
#: A clause before "it would be" that adds another amount to the question's (review of rules 26): a
#: percentage or a charge ("Including an 8% sales tax, it would be $12.96"): another quantity, no recount.
_OTHER_AMOUNT_RE = re.compile(r"%|\\%|\bper[ \t]*cent\b|\b(?:tax\w*|vat|fees?|shipping|postage|delivery|handling|tips?"
                              r"|gratuity|interest|surcharges?|commissions?|discounts?)\b", re.IGNORECASE)
#: Words of German after the answer ("Die Kisten: 3. Also 3.": "also" is "so"): there "Also" offers no
#: second answer (review of rules 26).
_GERMAN_RE = re.compile(r"\b(?:Die|Der|Das|ist|sind|und|nicht|gibt|insgesamt|Antwort|Lösung)\b")
#: A label line with a value after it: "Result: 20", "Edit: 20", "**Update:** 20", "Final: 20".
_LABEL_RE = re.compile(r"(?:\A|(?<=\n))[ \t>#*_-]{0,8}(?:result|edit|update|final)" + _W + r"[ \t]*:" + _W + r"[ \t]*",
                       re.IGNORECASE)
#: A value as an offer writes it: one token of at most 40 characters, or maths in `$…$` or `\\(…\\)`
#: of at most 80 that runs across no closing `$` or `\\)` (review of rules 30: "\\(x = 12\\) works;
#: \\(x = 13\\) is also correct." is two values, not one from the first `\\(` to the last `\\)`).
#: Inside `\\(…\\)` a backslash is taken only with the character after it, never `)` or another
#: backslash, so the first `\\)` ends it, and the lookahead has found one within 80: linear.
_OFFERED_VALUE = (r"(?P<value>\$[^$\n]{1,80}\$|\\\((?=[^\n]{1,80}?\\\))[^\\\n]*(?:\\[^)\\\n][^\\\n]*)*\\\)"
                  r"|[^\s$,;:!?()]{1,40})")
#: "though 20 is also possible", "x = 20 would also be correct": a value (see `_OFFERED_VALUE`),
#: then that it is also an answer, ending its sentence.
_ALSO_RE = re.compile(
    r"(?<![^\s,;(])(?:(?P<var>[A-Za-z])[ \t]*=[ \t]*)?" + _OFFERED_VALUE + r"[ \t]+"
    r"(?:(?:is|would\s+be|could\s+be|might\s+be|may\s+be)[ \t]+also|(?:would|could|might|may)[ \t]+also[ \t]+be)"
    r"[ \t]+(?:possible|correct|valid|acceptable|right|an?[ \t]+(?:(?:possible|valid|correct|acceptable)[ \t]+)?answer)"
    r"[ \t]*(?:[.!)]|\n|\Z)", re.IGNORECASE)


#: A word naming a part of the working right before a value ("Method 2", "Step 3"): the value is
#: that part's number when it is one (a number of at most two digits or a letter, see
#: `_PART_NUMBER_RE`), unless the word before the part's word makes the phrase name another answer
#: (see `_ANSWER_DETERMINERS`: "The other method 13", "In the worst case 13 is also possible.",
#: "In that case 13 is also valid."; review of rules 30). Any other word before it, or none, leaves
#: a part reference: "Method 2 is also correct.", "The result of step 2 ...", "Our method 2 ...",
#: "Using part 2 ...", "The base case 1 is also valid." (third review of rules 30: only a short list
#: of joining words was allowed there, so a preposition or a possessive made these hedges). Words
#: that name answers are not listed at all ("solution", "way": "The other solution 13 is also
#: valid.", "Either way 13 is also correct."), nor "Option"/"Choice": "Option B is also correct."
#: A case's number is read by `_working_case` instead (final review: "In the latter case 13").
_PART_NAME_RE = re.compile(r"(?:\b(?P<word>[A-Za-z]+)[ \t]+)?"
                           r"\b(?:methods?|steps?|cases?|approach(?:es)?|parts?|lines?|equations?|formulas?|attempts?"
                           r"|versions?|examples?|rules?|lemmas?|theorems?)[ \t]+\Z", re.IGNORECASE)
#: Determiners and adjectives that make "<word> <part's word> <value>" name another answer, not a
#: part of the working: "another", "the other", "a different", "the second", "the worst", "that"
#: (as in "in that case").
_ANSWER_DETERMINERS = frozenset((
    "other", "another", "different", "alternative", "alternate", "second", "worst", "best", "that", "this",
    "which", "whichever", "any", "either", "each", "every", "such", "general"))
_PART_NUMBER_RE = re.compile(r"[ \t$]*(?:\\\([ \t]*)?(?:\d{1,2}|[A-Za-z])(?:[ \t]*\\\))?[ \t$]*")
#: Words right before a value setting a variable that make it a condition, not an answer (review of
#: rules 30): a verb of substitution or of checking ("Setting $x = 0$ is also valid.", "Plugging in
#: $x = 0$", "Checking $n = 1$", "Testing $x = 0$"): what is valid is the step. Not "choosing",
#: "taking", "letting", "trying" (third and fourth reviews of rules 30: "Choosing x = 13 is also
#: valid.", "Trying x = 13 is also valid." offer 13), nor "using" ("Using $x = 1$ is also valid." is
#: a hedge, as "Using the formula x = 13 is also correct." is). Only before a variable's setting (see
#: `_names_part`): "Plugging in 13 is also valid." offers another answer. A case is `_CASE_WORD_RE`'s.
_CONDITION_LEAD_RE = re.compile(
    r"\b(?:setting|plugging|substituting|putting|checking|testing|verifying)(?:[ \t]+(?:in|back))?[ \t]+\Z",
    re.IGNORECASE)
#: "case" right before a value: the value names a case of the working only as `_WORKING_CASE_RE` says.
_CASE_WORD_RE = re.compile(r"\bcases?[ \t]+\Z", re.IGNORECASE)
#: What before "case" makes it a case of the working, not an offer of another answer (final review
#: of rules 30): a working-case adjective right before it ("The base case $n = 1$", "In the edge case
#: $x = 0$", "The trivial case $n = 1$"), or a bare "Case" / "The case" opening a line or sentence
#: ("Case $n = 1$ is also valid.", "The case $n = 1$ is also valid."). Any other word keeps the offer:
#: "In such a/the latter/the first/some/many cases", "In case", "In the case", "Both cases", "The other
#: case", "In the general case" offer another value (a list of words that name another answer missed
#: most of these). `_CASE_OPENING_RE` finds the end of the sentence or line (group "stop") before an
#: opening "Case" or "The case".
_WORKING_CASE_RE = re.compile(r"\b(?:base|edge|trivial|boundary|inductive|degenerate|initial)[ \t]+\Z", re.IGNORECASE)
_CASE_OPENING_RE = re.compile(r"(?P<stop>[\n.!?:])?[ \t>#*_-]*(?:the[ \t]+)?\Z", re.IGNORECASE)
#: Prepositions before "case" and its number that refer to a case of the working ("The result of case
#: 2", "From case 2"): only for a plain number, never a setting. Not "in": "In case 13 is also valid."
#: is the idiom "in case", an offer.
_CASE_REFERENCE_RE = re.compile(r"\b(?:of|from|for|to|by|with|under|see|using)[ \t]+\Z", re.IGNORECASE)


def _working_case(tail: str, start: int, at: int, plain: bool) -> bool:
    """Whether "case" starting at `at` in `tail` (the text from `start` on) names a case of the
    working (see `_WORKING_CASE_RE`), or, before a `plain` part's number, is referred to by a
    preposition (see `_CASE_REFERENCE_RE`). Each search looks back at most 20 characters: linear."""
    lead = max(start, at - 20)
    if _WORKING_CASE_RE.search(tail, lead, at) or plain and _CASE_REFERENCE_RE.search(tail, lead, at):
        return True
    opening = _CASE_OPENING_RE.search(tail, lead, at)  # (always found: it may match nothing)
    return ((opening["stop"] is not None or opening.start() == start)
            and tail[at:at + 5].lower() != "cases")


def _names_part(tail: str, start: int, at: int, value: str, sets_variable: bool) -> bool:
    """Whether the value `value` offered at `at` in `tail` is no answer by the words right before it
    (from `start` on): when the value sets a variable (`sets_variable`), a condition ("Case $n = 1$",
    "Setting $x = 0$", see `_CONDITION_LEAD_RE` and `_working_case`); otherwise a part of the working
    named by its number ("Method 2", see `_PART_NAME_RE`; after "case" only as `_working_case` says).
    A variable's setting is never a part's number (fourth review of rules 30: the 13 of "From the
    first equation x = 13 is also a valid answer." was read as the equation's number). Each search
    looks back at most 40 characters: linear."""
    lead = max(start, at - 40)
    case = _CASE_WORD_RE.search(tail, lead, at)
    if case is not None and (sets_variable or _PART_NUMBER_RE.fullmatch(value) is not None):
        return _working_case(tail, start, case.start(), not sets_variable)
    if sets_variable:
        return _CONDITION_LEAD_RE.search(tail, lead, at) is not None
    part = _PART_NAME_RE.search(tail, lead, at)
    return (part is not None and (part["word"] is None or part["word"].lower() not in _ANSWER_DETERMINERS)
            and _PART_NUMBER_RE.fullmatch(value) is not None)


#: "13 also works.", "13 works too.", "x = 13 would also work." (rules 29): a value opening a sentence
#: (after "but", "though", "and", "note (that)" or an interjection, "Actually,", "Hmm,", at most:
#: audit 37), then that it works too, ending the sentence. Not
#: "Note 12 works and 13 does not.", nor "Method 2 also works." (a word before the value). The
#: value is one token (or `$…$`) of at most 40 characters: linear. Group "var" is a variable set to
#: the value (see `_ANSWER_VARIABLES`).
_WORKS_RE = re.compile(
    _OPENING + _W + r"(?:(?:(?:but|though|although|and|note(?:[ \t]+that)?|however|also|so)\b|" + _INTERJECTION
    + r")[,:!]?[ \t]+){0,3}(?:(?P<var>[A-Za-z])[ \t]*=[ \t]*)?"
    + _OFFERED_VALUE + _W + r"[ \t]+"
    r"(?:also[ \t]+works|works[ \t]+(?:too|as[ \t]+well)|(?:would|could|might|may|will)[ \t]+also[ \t]+work)\b"
    r"[ \t]*(?:[.!)]|,[ \t]*(?:and|so|thus|hence|therefore|which|both|too)\b|\n|\Z)", re.IGNORECASE)
#: A contrasting sentence whose subject in words gives another value (audit 37): "However, a more
#: careful count gives 6.", "But recounting gives 6.", "Hmm, actually, a recount comes to 6.". Only
#: a real contrast opens it, "but", "however" or "actually" (after interjections at most): "Then
#: multiplying gives 12." and "Well, the perimeter then comes to 14." are steps of a check (review of
#: audit 37). The value is all the rest of its sentence; the subject is up to six words with no
#: digit or "=", read by `_contrasts` (see `_RECOUNT_SUBJECT_RE`). Bounded runs: linear.
_CONTRAST_GIVES_RE = re.compile(
    _OPENING + _W + r"(?:" + _INTERJECTION + _W + r"[,:!]?[ \t]+){0,2}(?:but|however|actually)\b" + _W
    + r"(?:[,:!]?[ \t]+(?:(?:but|however|actually)\b" + _W + r")){0,2},?[ \t]+"
    r"(?P<subject>(?:[A-Za-z'\u2019-]+[ \t]+){1,6}?)(?:gives|yields|comes[ \t]+(?:out[ \t]+)?to|results[ \t]+in)[ \t]+"
    + _OFFERED_VALUE + _W + r"[ \t]*(?:[.!]|\n|\Z)", re.IGNORECASE)
#: What the subject of `_CONTRAST_GIVES_RE` must say for its value to be another answer: that it
#: counts or works out the answer again ("a more careful count", "recounting", "the correct
#: calculation", "checking again"). A narrow, positive rule (review of audit 37): any other subject
#: ("three times that", "the total for three people") gives a step's or another question's value.
_RECOUNT_SUBJECT_RE = re.compile(r"\b(?:(?:re)?count\w*|careful\w*|correct\w*|(?:re)?calculat\w*"
                                 r"|re-?check\w*|checking[ \t]+again)\b", re.IGNORECASE)
#: A subject that converts the answer ("in cents", "converting", "per day"): another question's value.
_CONVERSION_SUBJECT_RE = re.compile(r"\b(?:convert\w*|in[ \t]+(?:terms[ \t]+of[ \t]+)?[A-Za-z]+s|per)\b",
                                    re.IGNORECASE)
#: Subjects that give a value the working sets aside, not another answer ("However, the negative
#: root gives -5.", "But the other case gives 0."): no second answer.
_OTHER_SUBJECT_RE = re.compile(r"\b(?:roots?|solutions?|cases?|branch\w*|factors?|signs?|sides?|equations?"
                               r"|extraneous|negative|invalid|rejected|part|step)\b", re.IGNORECASE)
#: A value alone as a question opening a sentence (audit 37): "Hmm, 6?", "Or 6?", "Maybe 6?": the
#: answer doubted in favour of another. Only a value with a digit, or a choice letter (see
#: `second_answer`).
_ASKED_VALUE_RE = re.compile(
    _OPENING + _W + r"(?:(?:(?:or|maybe|perhaps|so|but)\b|" + _INTERJECTION + r")[,:!]?[ \t]+){0,3}"
    r"(?P<value>\$[^$\n]{1,40}\$|-?\d[\d,]{0,30}(?:\.\d{1,30})?%?|\(?[A-E]\)?)" + _W + r"[ \t]*\?+[ \t]*(?:\n|\Z)",
    re.IGNORECASE)
#: A value written as maths that sets a variable (`$x = 13$`, `\\(n=13\\)`): its variable and value.
_MATHS_VARIABLE_RE = re.compile(r"(?:\$|\\\()[ \t]*(?P<var>[A-Za-z])[ \t]*=[ \t]*(?P<value>[^$=\n]{1,80}?)[ \t]*"
                                r"(?:\$|\\\))")


#: The variables an answer is most often named by ("Find x", "the smallest n"): "x = 13 also works."
#: offers another answer, "k = 2 also works." another variable's value (a parameter, an index), no
#: second answer (review of rules 29). Another variable is the answer's too when the text sets it to
#: the answer's value (see `_sets_to_answer`).
_ANSWER_VARIABLES = frozenset("xn")
#: A variable set to a value: `k = 12`, `$m = \\boxed{12}$`, `y=$12$`, `\\(m = 12\\)` (group "boxed" or
#: "value"). A value ends before `\\)`, `\\]` or `\\\\` (review of rules 30: `\\(m = 12\\)` read "12\\").
_SET_TO_RE = re.compile(r"(?<![A-Za-z\\])(?P<var>[A-Za-z])[ \t]*=[ \t]*\$?[ \t]*"
                        r"(?:\\boxed\{[ \t]*(?P<boxed>[^{}\n]{1,40}?)[ \t]*\}|(?P<value>(?:(?!\\[)\]\\])[^\s$,;:!?()=]){1,40}))")


def _sets_to_answer(texts: tuple[str, ...], var: str, before: str | None) -> bool:
    """Whether one of `texts` sets the variable `var` to the answer's value `before` (`m =
    \\boxed{12}`, or `k = 12` before `\\boxed{12}`): then `var` names the answer, and "m = 13 is also
    possible." offers another (review of rules 30). One scan of each text: linear."""
    if before is None:
        return False
    answer, seen = before.strip(), set()  # (each value said compared once: "k = 1" a thousand times is cheap)
    for text in texts:
        for m in _SET_TO_RE.finditer(text):
            said = (m["boxed"] if m["boxed"] is not None else m["value"]).strip().rstrip(".").strip("$ \t")
            if m["var"] != var or said in seen:
                continue
            if said == answer or _same_value(answer, said):
                return True
            seen.add(said)
    return False


#: After "13 also works.", words that set the other value aside ("But we want the smallest", "we
#: discard it", "13 is not valid here"): the offer is weighed and refused, no second answer
#: (review of rules 29).
_SET_ASIDE_RE = re.compile(
    r"\b(?:(?:want|need|seek|asked[ \t]+for|asks[ \t]+for|looking[ \t]+for)[ \t]+(?:the[ \t]+|an?[ \t]+)?"
    r"(?:smallest|largest|least|greatest|minimum|maximum|minimal|maximal)|discard\w*|reject\w*|exclud\w*"
    r"|not[ \t]+(?:valid|allowed|acceptable|wanted|asked)|invalid|but[ \t]+we[ \t]+(?:want|need|are[ \t]+asked)"
    r"|we[ \t]+(?:want|need)[ \t]+the|must[ \t]+be[ \t]+(?:non-?)?(?:positive|negative))\b"
    # a constraint the other value breaks, on the same line or the next ("But x > 0."; review of audit 37)
    r"|\b(?:but|since|as|because|given)[ \t]+(?:\$|\\\()?[ \t]*[A-Za-z][ \t]*(?:[<>\u2265\u2264]|\\[gl]e)",
    re.IGNORECASE)
#: A conclusion word before a value, within a sentence ("so 12", "the answer stays 12", "the
#: smallest is 12", "it must be 12").
_CONCLUDES = (r"\b(?:so|thus|hence|therefore|answer|keep|stick[ \t]+with|remains|stays|it'?s|it[ \t]+is|must[ \t]+be"
              r"|smallest|largest|least|greatest|minimum|maximum)\b[^.!?\n\d]{0,30}?")


def _set_aside(tail: str, pos: int, before: str | None, offered: str) -> bool:
    """Whether the text after an offer of the value `offered` ending at `pos` ("n = 24 also works.")
    sets it aside: it says the other value is not wanted or not valid ("But we want the smallest"),
    or concludes on the answer `before` again (see `_concludes_on`). Read over `_WINDOW`
    characters."""
    rest = tail[pos:pos + _WINDOW]
    return _SET_ASIDE_RE.search(rest) is not None or _concludes_on(rest, before, (offered,))


#: Words of a condition: a conclusion after them holds in one case only.
_CONDITION_WORD_RE = re.compile(r"\b(?:if|otherwise|unless|when|whereas)\b", re.IGNORECASE)
#: A plain number in running text (`12`, `0.5`, `1/2`, `20%`), for `_concludes_on`.
_NUMBER = r"(?<![\d.])\$?(?:[A-Za-z][ \t]*=[ \t]*)?(?P<v>\d+(?:\.\d+)?(?:/\d+)?%?)(?!\d|\.\d)\$?"
_NUMBER_RE = re.compile(_NUMBER)
#: A value given as the outcome of a case or a sentence, its sentence going on or not ("Case 1
#: gives 13;", "For the second it's 13", "the maximum is 13"): a value concluded on.
_CONCLUDED_ANY_RE = re.compile(r"(?:" + _CONCLUDES + r"|\b(?:gives?|gave|yields?|get|gets|got)\b[ \t]*)" + _NUMBER,
                               re.IGNORECASE)
#: A value said to be the extreme one ("12 is the smallest", "$n = 12$ is the minimum").
_IS_EXTREME_RE = re.compile(_NUMBER + r"[ \t]+is[ \t]+(?:indeed[ \t]+)?(?:the[ \t]+)?"
                            r"(?:smallest|largest|least|greatest|minimum|maximum|minimal|maximal)\b", re.IGNORECASE)


def _concludes_on(text: str, before: str | None, offered) -> bool:
    """Whether `text`, after an offer of the values `offered` besides the plain answer `before`,
    settles on `before`: a conclusion word, then `before` ending its sentence ("so 12.", "since we
    don't, it's 12."; not "So 12 or 13."), or "12 is the smallest"; with no other offered value
    concluded on anywhere ("Case 1 gives 13", "For the second it's 13", "The maximum is therefore
    13.") nor said after the last such conclusion ("I think it's 12. It might be 13 though."), and
    no condition in `text` ("if we count the teacher, it's 13; if not, it's 12." keeps both). Any
    doubt is a hedge (second review of rules 29: one branch's "it's 12." settled nothing)."""
    value = (before or "").strip().strip("$").strip()
    if not value or not _plain_number(value) or _CONDITION_WORD_RE.search(text):
        return False
    others = [o.strip().strip("$,").strip() for o in offered]
    others = [o for o in others if o and _plain_number(o) and _other_plain(value, o)]

    def is_other(said: str) -> bool:
        return any(_same_value(o, said) for o in others)

    concluded = _CONCLUDES + r"(?<![\d.])\$?" + re.escape(value) + r"(?!\d|\.\d)[$*_ \t]*(?:[.!]|\n|\Z)"
    ends = [m.end() for m in re.finditer(concluded, text, re.IGNORECASE)]
    ends += [m.end() for m in _IS_EXTREME_RE.finditer(text) if _same_value(value, m["v"])]
    if not ends:
        return False
    if any(is_other(m["v"]) for m in _CONCLUDED_ANY_RE.finditer(text)):
        return False  # another offered value is concluded on too: one branch each
    if any(is_other(m["v"]) for m in _IS_EXTREME_RE.finditer(text)):
        return False
    return not any(is_other(m["v"]) for m in _NUMBER_RE.finditer(text, max(ends)))


def _working(tail: str, pos: int) -> bool:
    """Whether the sentence from `pos` is a chain of working (`3 + 4 = 7`, not `x = 7`): its value
    is a step of a check, not another answer."""
    sentence = tail[pos:pos + _WINDOW]
    sentence = sentence[:_END_RE.search(sentence).start()]
    if "=" not in sentence and not _ARROW_RE.search(sentence):
        return False
    return not _VARIABLE_RE.fullmatch(_ARROW_RE.sub("=", sentence).split("=")[0].strip("$ \t*_"))


def _conditioned_value(tail: str, pos: int, before: str | None) -> str | None:
    """The value of the sentence from `pos` when it is a condition and the value under it ("if we
    count the teacher: 21", see `math_restatement._CONDITION_FIRST_RE`), else None."""
    from rlvr.verifiers.math_restatement import _CONDITION_FIRST_RE

    sentence = tail[pos:pos + _WINDOW]
    sentence = sentence[:_END_RE.search(sentence).start()].strip()
    m = _CONDITION_FIRST_RE.fullmatch(sentence)
    return None if m is None or "=" in sentence else _read_value(m["value"], before, nouns=False)


def _offered_here(m: re.Match, clause: str) -> bool:
    """Whether `_COULD_BE_RE`'s match `m` ("it might be", "the answer could be", "that may be")
    offers its value beside the answer whatever the text says of it: its own clause (`clause`, the
    sentence before it, from its last semicolon on) holds openers only (see `_OFFER_CLAUSE_RE`:
    "It might be 6.", "But it might be 6.", "I'm not confident; it could be 6."; audit 37)."""
    return m["offer"] is not None and _OFFER_CLAUSE_RE.fullmatch(clause[clause.rfind(";") + 1:]) is not None


def _recounted(m: re.Match, clause: str, earlier: str = "") -> bool:
    """Whether `_COULD_BE_RE`'s match `m` names a second answer by the clause before it in its
    sentence (`clause`): none about a mistake; "would be" / "becomes" alone ("The answer would be
    21."), after a recount ("If we include the teacher, it would be 21") or after a bare
    "Otherwise," / "Else," (audit 37) that stands alone: not after a sentence stating the condition
    it reverses (the last sentence of `earlier`, the text before `m`: "We must exclude the teacher.
    Otherwise, the answer would be 6.", see `_states_condition`); and not after another amount
    ("Including an 8% sales tax")."""
    if _COUNTERFACTUAL_RE.search(clause):
        return False  # "If we had forgotten the teacher, the answer would be 21.": a mistake explained
    if m["also"] is not None:
        return True
    if clause.strip(" \t*_"):
        otherwise = _OTHERWISE_CLAUSE_RE.fullmatch(clause) is not None
        if not (_RECOUNT_RE.search(clause) or otherwise):
            return False  # "In radians, the answer would be π/2.": another question's answer, not a recount
        if otherwise and _states_condition(earlier[:len(earlier) - len(clause)]):
            return False  # the other reading of a condition just stated, as "…; otherwise, it would be 6."
    elif m.group()[0] not in "Tt":
        return False  # "it would be 21." alone: the sentence of a step
    return not _OTHER_AMOUNT_RE.search(clause)  # "Including an 8% sales tax, it would be $12.96.": another amount


#: Words of a sentence stating a condition, an exclusion or an assumption ("We must exclude the
#: teacher.", "Since x must be positive, …", "We assumed the teacher is not counted."): an
#: "Otherwise, the answer would be 6." after it explains the answer (review of audit 37).
_CONDITION_STATED_RE = re.compile(
    r"\b(?:not|no|never|exclud\w*|except\w*|must|only|since|because|assum\w*|if|unless|positive|negative"
    r"|count\w*|includ\w*|subtract\w*|ignor\w*|need\w*|should|require\w*|important)\b|n't\b", re.IGNORECASE)


def _states_condition(earlier: str) -> bool:
    """Whether the last sentence of `earlier` (the text before an "Otherwise," sentence, read over
    `_WINDOW` characters) states a condition (see `_CONDITION_STATED_RE`)."""
    text = earlier[-_WINDOW:].rstrip(" \t\n*_")
    text = text[:-1] if text.endswith((".", "!", ";", ":")) else text
    sentence = text[max(text.rfind(c) for c in ".!?\n") + 1:]
    return _CONDITION_STATED_RE.search(sentence) is not None


def _rounds_answer(tail: str, m: re.Match, before: str | None) -> bool:
    """Whether the value offered after `m` ("It might be 0.33.") is the answer `before` rounded at
    the decimals it shows (`\\frac{1}{3}`), as "approximately 0.33" is (review of audit 37)."""
    from rlvr.verifiers.math_restatement import _decimal_rounding

    if before is None:
        return False
    window = tail[m.end():m.end() + _WINDOW]
    said = window[:_END_RE.search(window).start()].strip().strip("$*_ \t")
    return bool(said) and _decimal_rounding(said, before)


def might_offer(lowered: str) -> bool:
    """Whether `lowered` (a lowercased text) may offer a second answer (see `second_answer`)."""
    return any(h in lowered for h in _OFFER_HINTS)


def second_answer(tail: str, before: str | None, start: int = 0, head: str = "") -> tuple[int, str] | None:
    """Where the last second answer offered in other words in `tail[start:]` opens, and its value
    (see the comment above `_OFFER_HINTS`; "" for a value that is no other answer, see
    `_read_value`); None when there is none. `before` is the answer it
    follows (a choice letter is read only after a choice letter). Read only after a plain number
    or a choice letter, where a restatement can be told from another answer: after another answer
    an offer is most often the same in another form (`2\\sqrt{3}` then "Alternatively, $\\sqrt{12}$",
    `\\frac{\\pi}{2}` then "Result: 90°"), which the grader would score as a second answer. `head`
    is the text up to the answer, read for the variable it sets to the answer's value (`$m =
    \\boxed{12}$`: "m = 13 is also possible." then offers another, see `_sets_to_answer`)."""
    lowered = tail[start:].lower()
    if not might_offer(lowered):  # (the cheaper check first)
        return None
    if before is not None and not _plain_number(before) and not _choice_letter(before):
        return None
    found: list[tuple[int, str]] = []
    last_digit = max(tail.rfind(d, start) for d in "0123456789")  # (-1 without one)
    offers = _OFFER_RE.finditer(tail, start) if any(h in lowered for h in _OFFER_RE_HINTS) else ()
    german = None  # (whether the text after the answer is German, looked for once)
    for m in list(offers)[-_MAX_TRIGGERS:]:
        if m["said"] is not None and (not m["run"] or _END_RE.search(tail, m.end()).end() <= last_digit):
            continue  # "It's 4.", "Hmm, it's 4. Times 3 days is 12.": a step of a check, not an answer
        if m["bare"] is not None and (_working(tail, m.end()) or (
                m["bare"].lower() == "also" and _END_RE.search(tail, m.end()).end() <= last_digit)):
            continue  # "Also, 3 + 4 = 7.", "Also 4. Times 3 is 12.": a step of a check, not an answer
        if m["bare"] is not None and m["bare"].lower() == "also":
            if german is None:
                german = _GERMAN_RE.search(tail, start) is not None
            if german:
                continue  # "Die Kisten: 3. Also 3.": German "also" is "so", a step's result
        value = _value_after(tail, m, before, asked=m["asked"] is not None, nouns=m["bare"] is None)
        if value is None and m["alt"] is not None:  # "Alternatively, if we count the teacher: 21."
            value = _conditioned_value(tail, m.end(), before)
        if value is not None:  # (after "I think", "Maybe": the value all of the sentence, review of rules 21)
            found.append((m.start(), value))
    labels = _LABEL_RE.finditer(tail, start) if any(h in lowered for h in _LABEL_HINTS) else ()
    for m in list(labels)[-_MAX_TRIGGERS:]:
        line_end = tail.find("\n", m.end())
        said = tail[m.end():line_end if line_end >= 0 else len(tail)]
        if line_end >= 0 and line_end < last_digit:
            continue  # "Result: 4" and more working after it: a step of a check
        value = _read_value(said, before) if len(said) <= _WINDOW else None
        if value is not None:
            found.append((m.start(), value))
    could = _COULD_BE_RE.finditer(tail, start) if any(h in lowered for h in _COULD_BE_HINTS) else ()
    for m in list(could)[-_MAX_TRIGGERS:]:
        clause = tail[max(start, m.start() - _WINDOW):m.start()]
        clause = clause[max(clause.rfind(c) for c in ".!?\n") + 1:]  # (the sentence so far)
        offered = _offered_here(m, clause)
        if not offered and not _recounted(m, clause, head + " " + tail[:m.start()]):
            continue
        if m["offer"] is not None and _rounds_answer(tail, m, before):
            continue  # "It might be 0.33." after 1/3: the answer rounded, as "approximately 0.33" is
        # an offer alone must be all of its sentence ("That might be 1 of the reasons." offers none)
        value = _value_after(tail, m, before, nouns=not offered)
        if value is not None:
            found.append((m.start(), value))
    too = _TOO_RE.finditer(tail, start) if " too" in lowered or "as well" in lowered else ()
    for m in list(too)[-_MAX_TRIGGERS:]:
        value = _read_value(m["value"], before, nouns=False)
        if value is not None:
            found.append((m.start(), value))
    named: dict[str, bool] = {}  # (whether a variable is the answer's, looked for once each)

    def other_variable(var: str | None, at: int) -> bool:
        """Whether `var` (set to the value offered at `at`) is another variable than the answer's."""
        if var is None or var.lower() in _ANSWER_VARIABLES:
            return False
        if var not in named:
            named[var] = _sets_to_answer((head, tail[:at]), var, before)
        return not named[var]

    for m in list(_ALSO_RE.finditer(tail, start) if "also" in lowered else ())[-_MAX_TRIGGERS:]:
        var, said = m["var"], m["value"]
        maths = _MATHS_VARIABLE_RE.fullmatch(said) if var is None else None
        if maths is not None:  # "$x = 13$ is also correct.": the variable and value inside the maths
            var, said = maths["var"], maths["value"]
        if _names_part(tail, start, m.start(), m["value"], var is not None):
            continue  # "Method 2 is also correct.", "Case $n = 1$ is also valid.": no answer (rules 30)
        if other_variable(var, m.start()):
            continue  # "k = 2 is also valid.": another variable's value, no second answer (rules 30)
        value = _read_value(said, before)
        if value is not None:
            found.append((m.start(), value))
    for m in list(_WORKS_RE.finditer(tail, start) if "work" in lowered else ())[-_MAX_TRIGGERS:]:
        var, said = m["var"], m["value"]
        maths = _MATHS_VARIABLE_RE.fullmatch(said) if var is None else None
        if maths is not None:  # "$x = 13$ also works.": the variable and value inside the maths
            var, said = maths["var"], maths["value"]
        if other_variable(var, m.start()):
            continue  # "k = 2 also works.": another variable's value, no second answer
        if _set_aside(tail, m.end(), before, said):
            continue  # "n = 24 also works. But we want the smallest, so 12.": weighed and refused
        value = _read_value(said, before, nouns=False)
        if value is not None:
            found.append((m.start(), value))
    found += _contrasts(tail, before, start, lowered)
    return max(found) if found else None


def _contrasts(tail: str, before: str | None, start: int, lowered: str) -> list[tuple[int, str]]:
    """The second answers `tail[start:]` (`lowered`, lowercased) offers in a contrasting sentence
    whose subject gives another value ("However, a more careful count gives 6.", see
    `_CONTRAST_GIVES_RE`) or as a lone value asked ("Hmm, 6?", see `_ASKED_VALUE_RE`): where each
    opens and its value (audit 37)."""
    found: list[tuple[int, str]] = []
    gives = _CONTRAST_GIVES_RE.finditer(tail, start) if any(h in lowered for h in _GIVES_HINTS[:-1]) else ()
    for m in list(gives)[-_MAX_TRIGGERS:]:
        if not _recount_subject(m["subject"]) or _set_aside(tail, m.end(), before, m["value"]):
            continue  # "However, the negative root gives -5.", "But three times that gives 21.": no recount
        value = _read_value(m["value"], before, nouns=False)
        if value is not None:
            found.append((m.start(), value))
    asked = _ASKED_VALUE_RE.finditer(tail, start) if "?" in lowered else ()
    for m in list(asked)[-_MAX_TRIGGERS:]:
        if _answers_a_question(tail, m.start()) or _answered_no(tail, m.end(), before):
            continue  # "Is it 5 or 6? 6?": an answer to a question; "Hmm, 6?\nNo.": a doubt refused
        value = _read_value(m["value"].strip("()"), before, nouns=False)
        if value is not None:
            found.append((m.start(), value))
    return found


def _recount_subject(subject: str) -> bool:
    """Whether `subject` (of `_CONTRAST_GIVES_RE`) counts the answer again ("a more careful count",
    "recounting"), and is no value the working sets aside ("the negative root", see
    `_OTHER_SUBJECT_RE`), no conversion ("in cents, a careful count") and no other amount ("the
    correct tax", see `_OTHER_AMOUNT_RE`): the filters `_recounted` applies to "would be"."""
    return (_RECOUNT_SUBJECT_RE.search(subject) is not None and not _OTHER_SUBJECT_RE.search(subject)
            and not _CONVERSION_SUBJECT_RE.search(subject) and not _OTHER_AMOUNT_RE.search(subject))


#: What answers a doubted value no on the next line: "No", "Nope", "Not", "Wrong".
_ANSWERED_NO_RE = re.compile(r"[\s>*_-]*(?:no(?:pe)?|not|wrong)\b", re.IGNORECASE)


def _answered_no(tail: str, pos: int, before: str | None) -> bool:
    """Whether the line from `pos`, after a lone value asked ("Hmm, 6?"), answers it no ("No, 5 is
    correct.", "Nope.") or restates the answer `before` ("5 is right."): the doubt is refused, no
    second answer (review of audit 37), as "Hmm, 6? No." on one line already was."""
    if _ANSWERED_NO_RE.match(tail, pos):
        return True
    answer = (before or "").strip().strip("$")
    return bool(answer) and re.match(r"[\s>*_$-]*" + re.escape(answer) + r"(?![\d.,]?\d)", tail[pos:]) is not None


# -- a value alone on a line after the answer (rules 20) -----------------------------------------
#
# A model may end with another value on a line of its own after its final answer:
# "Therefore, $21$.", `$$21$$`, "**21**", a last sentence "So 21.", "21 if counting the teacher.",
# or offer two on one line: "20 or 21". That is a second final answer (a hedge when it differs), not
# ordinary trailing text. Read only after a plain-number answer and only for a plain number that is
# not the answer's value in another form (`0.5` after `\\frac12`, `20.0` after 20) nor a decimal
# rounding of it (`0.33` after `\\frac13`): a check line ("Check: 4*5 = 20"), units ("20 cm"), prose
# and expressions are no such value. Nor are (review of rules 21): a plain number alone with no
# markup ("Thank you!\n\n1", "In hours:\n\n2", a year), a value under a rule or a list item
# ("---\n\n1"), a check's own result ("Let's verify: 12 - 5 = 7. ✓\n\nSo 7."), and two values
# ending a sentence wrapped onto their line ("rows of\n3 or 4").

_NUMBER = _PLAIN_SIDE_RE.pattern
#: One value as a line may write it: `$21$`, `$$21$$`, `\\(21\\)`, `\\[21\\]`, `**21**`, `21`.
_LINE_VALUE = (r"(?:\$\$?[ \t]*(?P<{0}1>" + _NUMBER + r")[ \t]*\$\$?|\\[(\[][ \t]*(?P<{0}2>" + _NUMBER
               + r")[ \t]*\\[)\]]|(?P<{0}3>" + _NUMBER + r"))")
#: What may open a line before its value: spacing, a quote, a heading, emphasis, a bullet's dash,
#: but not the minus of a negative value (`**-3**` is -3, not 3; review of rules 24).
_LEAD = r"(?:[ \t>#*_]|-(?!\d))*"
#: A last line holding one value, after a conclusion word or a condition at most ("Therefore, $21$.",
#: "So 21.", "If inclusive: 21."). The condition (group "condition") counts only when it is a recount
#: of the answer ("if inclusive", "counting the teacher", see `_recount`): a case of a formula ("When
#: n = 1: 3"), a scenario ("If she saves for 24 weeks: 240"), a conversion ("When converted to
#: minutes: 120"), a rounding or what else there is ("With tax: 12.96", dropped) answer another
#: question (review of rules 24).
_VALUE_LINE_RE = re.compile(
    _LEAD + r"(?P<said>(?:therefore|thus|hence|so|finally)\b[*_]*[,:]?[ \t]*"
    r"|(?P<condition>(?:if|when|counting|assuming|otherwise)\b[^,:;\n]{0,80})[,:][ \t]*)?[*_]*"
    + _LINE_VALUE.format("a")
    + r"[*_]*[ \t]*[.!]?[ \t*_]*", re.IGNORECASE)
#: A last line holding a value and the condition under which it holds (review of rules 21): "21 if
#: counting the teacher." (no digit or "=" in the condition: "5 when n = 1" is a case of a formula).
_CONDITIONED_LINE_RE = re.compile(
    _LEAD + r"[*_]*" + _LINE_VALUE.format("a") + r"[*_]*[ \t]+(?P<condition>(?:if|when|unless|assuming|counting|otherwise)\b"
    r"[^=\d\n]{0,80})", re.IGNORECASE)
#: A line offering two values: "20 or 21", "$20$ or $21$"; since rules 29 also "Either 20 or 21."
#: and with a clause after them, to the end of the line, that says the choice is open ("20 or 21,
#: depending on interpretation.", "20 or 21 (not sure)", "…, whichever …"; no "=" in it, at most
#: 120 characters). Not any clause: in "Either 3 or 4, the total is 12." the values are parts of a
#: sentence, no offer. Linear on long runs of spaces (review of rules 29: "12 or 13 depending" and
#: thousands of spaces took minutes): each run is matched by one quantifier only, the spaces before
#: a comma by one and those after it by another, and the clause runs to the line's end (no
#: trailing quantifier shares its spaces).
_TWO_VALUES_LINE_RE = re.compile(
    r"(?:\A|(?<=\n))" + _LEAD + r"(?:either[ \t]+)?" + _LINE_VALUE.format("a") + r"[ \t]*(?:,[ \t]*)?or[ \t]+"
    + _LINE_VALUE.format("b") + r"[ \t]*(?:(?:[,;(\u2014\u2013-][ \t]*)?(?:depending|depends|based|according|whichever"
    r"|(?:i'?m[ \t]+)?not[ \t]+sure|hard[ \t]+to[ \t]+say)\b[^\n=]{0,120}|[.!][ \t*_]*|[*_][ \t*_]*)?(?=\n|\Z)",
    re.IGNORECASE)
#: A line listing possible answers (rules 29): "Possible answers: 20, 21.", "The possible answers
#: are 20 and 21". Group "values" is the list, each a plain value (see `_possible_answers`). Only
#: "answers": "Possible values: 1, 2, 3" may list what the answer counts.
_POSSIBLE_ANSWERS_RE = re.compile(
    r"(?:\A|(?<=\n))" + _LEAD + r"(?:the[ \t]+)?(?:possible|candidate|potential|plausible)[ \t]+(?:final[ \t]+)?answers"
    r"[*_]*[ \t]*(?::|are\b|include\b)[*_]*[ \t]*(?P<values>[^\n]{1,200})", re.IGNORECASE)
_LIST_SEP_RE = re.compile(r"[ \t]*(?:,[ \t]*(?:(?:and|or)[ \t]+)?|[ \t]+(?:and|or)[ \t]+)", re.IGNORECASE)
_ONE_VALUE_RE = re.compile(_LINE_VALUE.format("a"))


#: Where a sentence starts within a line: after ".", "!" or "?" and a space.
_SENTENCE_START_RE = re.compile(r"(?<=[.!?])[ \t]+")
#: Words of a check of the answer ("Let's verify: 12 - 5 = 7. ✓\n\nSo 7."): a value concluding it
#: that the check already came to is its result, not another answer (review of rules 21).
_CHECK_RE = re.compile(r"\b(?:verif\w*|check\w*|confirm\w*|sanity)\b|[\u2713\u2714\u2705]", re.IGNORECASE)
#: A line before a lone value that makes it no answer: a rule (`---`, `***`) or a list item (`- a`,
#: `1. a`): "---\n\n1" is a page or footnote number, a number under a list item one of its items.
_NOT_BEFORE_VALUE_RE = re.compile(r"[ \t>]*(?:([-*_])(?:[ \t]*\1){2,}[ \t]*|(?:[-*+\u2022]|\d{1,3}[.)])[ \t]+\S.*)")


def _wrapped(tail: str, at: int) -> bool:
    """Whether the line opening at `at` goes on the sentence of the line before it (that line is
    not blank and ends with no ".", "!", "?" or ":"): "rows of\n3 or 4" is one sentence wrapped."""
    previous = tail[:at].rstrip("\n")
    if len(previous) < len(tail[:at]) - 1:
        return False  # a blank line before it
    previous = previous[previous.rfind("\n") + 1:].rstrip(" \t*_")
    return bool(previous) and not previous.endswith((".", "!", "?", ":", "$", "}", "\\]", "\\)"))


#: What may not open a bracketed remark after "final answer" (negative lookaheads, to put right
#: after its "("; also `math_extract._CONVERTED_HEAD_RE`): a unit or form the value is given in ("Final
#: answer (in percent): 25" after `\\boxed{0.25}`, "(cents)", "(as a fraction)", "(exact)"), a
#: rounding ("(rounded)"), or the part of the question it answers ("(part b)"). Under such a label
#: the value is the answer converted (rules 24: never a second answer) or another part's, where
#: "(revised)" or "(corrected)" gives a second final answer (rules 29; review of rules 29). A
#: leading "in", "as" or "to" alone names no unit or form: "(in conclusion)", "(to be safe)", "(as
#: computed above)" give a second final answer (second review of rules 29). Form words are whole
#: words ("(replaced)" names no place, "(figured out)" no figure), and "revised", "corrected",
#: "updated" or "actually" anywhere in the bracket makes it a second final answer whatever else it
#: names (third review of rules 29). Each lookahead scans at
#: most 32 characters: linear.
_CONVERSION_REMARK = (
    r"(?:(?=[^)\n]{0,32}\b(?:revised|corrected|updated|actually)\b)|"
    r"(?![ \t]*(?:per|expressed|converted|written)\b)"
    r"(?![^)\n]{0,32}(?:approx|about|round|rough|near|around|estimat|decimal|percent|fraction|simplif|numeric|exact|%"
    r"|\b(?:lowest|simplest|terms|digits?|places?|figures?|signific\w*|scientific|radicals?|surds?|intervals?"
    r"|mixed[ \t]+numbers?|improper|ratio|base|binary|hex|mph|kph|pence|penny|units?|dp|d\.p)\b))"
    r"(?![^)\n]{0,32}\b(?:part|form|notation|units?|words?|boxed|cents?|dollars?|euros?|pounds?|minutes?|mins?|hours?"
    r"|hrs?|seconds?|secs?|days?|weeks?|months?|years?|degrees?|radians?|met(?:er|re)s?|centimet(?:er|re)s?|cm|mm|km"
    r"|kilomet(?:er|re)s?|miles?|feet|foot|inch(?:es)?|yards?|grams?|kilograms?|kg|g|lbs?|ounces?|oz|lit(?:er|re)s?"
    r"|ml|gallons?|square|cubic|sq)\b))")
#: A label that asks for the answer itself ("Final answer:", "Final answer (revised):"): a value
#: under it is one. Not one with a remark on the value's unit or form ("Final answer (in
#: percent):", see `_CONVERSION_REMARK`).
_ANSWER_LABEL_RE = re.compile(r"(?:final|(?:(?:the|my|our)\s+)?(?:final\s+)?(?:answers?|results?|solutions?)(?:\s+is)?)"
                              r"(?:[ \t]*\(" + _CONVERSION_REMARK + r"[A-Za-z ,'-]{1,30}\))?\s*:",
                              re.IGNORECASE)
#: A rule line (`---`, `***`, `___`): what follows it is a footnote or an appendix.
_RULE_LINE_RE = re.compile(r"^[ \t>]*([-*_])(?:[ \t]*\1){2,}[ \t]*$", re.MULTILINE)


def _introduced(tail: str, at: int) -> bool:
    """Whether the line opening at `at` is under a line (blank lines between it and them aside) that
    ends with ":" and names no answer ("Possible row lengths:\n2 or 3", "For reference, the number
    of rows:\n$$3$$"): a value the text introduces as something else, not a second final answer
    ("Final answer:\n13" is one; review of rules 26). Reads back over the blank lines only."""
    previous = tail[:at].rstrip()
    previous = previous[previous.rfind("\n") + 1:].strip(" \t*_#>")
    # (only a bare label names the answer: "The other solution:", "Number of real solutions:" and
    # "Intermediate results:" introduce other values; final review of rules 27)
    return previous.endswith(":") and not _ANSWER_LABEL_RE.fullmatch(previous)


def _line_and_next(tail: str, at: int) -> str:
    """The rest of the line of `tail` from `at`, and the next non-blank line (at most `_WINDOW`
    characters): where a line offering values may go on to choose one."""
    end = tail.find("\n", at)
    if end < 0:
        return tail[at:at + _WINDOW]
    start = len(tail) - len(tail[end:].lstrip())
    stop = tail.find("\n", start)
    return tail[at:min(stop if stop >= 0 else len(tail), at + _WINDOW)]


def _possible_answers(tail: str, before: str) -> str | None:
    """The first value other than `before` on a line of `tail` listing possible answers ("Possible
    answers: 12, 13.", see `_POSSIBLE_ANSWERS_RE`), when every item of the list is a plain value;
    else None."""
    for m in list(_POSSIBLE_ANSWERS_RE.finditer(tail))[-_MAX_TRIGGERS:]:
        items = _LIST_SEP_RE.split(m["values"].strip().rstrip(".!*_ \t"))
        values = [_ONE_VALUE_RE.fullmatch(item.strip()) for item in items]
        if len(items) > 8 or not all(values):
            continue  # "Possible answers: 12 if we count the teacher": no list of values
        offered = [v["a1"] or v["a2"] or v["a3"] for v in values]
        if _concludes_on(_line_and_next(tail, m.end()), before, offered):
            continue  # "Possible answers: 12, 13.\nChecking, 13 fails, so 12.": the choice made
        for v in values:
            value = v["a1"] or v["a2"] or v["a3"]
            if _other_plain(before, value):
                return value
    return None


def value_line(tail: str, before: str | None) -> str | None:
    """Another plain value `tail` (the text after the answer `before`) states on a line of its own
    (see the comment above): its last non-blank line alone, or that line's last sentence when it
    opens with a conclusion word ("So 21."), or any line offering two values ("20 or 21"); None
    when there is none, or when it is `before`'s value (see `_other_plain`)."""
    if before is None or not _plain_number(before) or not any(c.isdigit() for c in tail):
        return None
    if " or " in tail:
        for m in list(_TWO_VALUES_LINE_RE.finditer(tail))[-_MAX_TRIGGERS:]:
            if _wrapped(tail, m.start()) or _introduced(tail, m.start()):
                continue  # "You could group them in rows of\n3 or 4", "Possible row lengths:\n2 or 3": no offer
            offered = (m["a1"] or m["a2"] or m["a3"], m["b1"] or m["b2"] or m["b3"])
            if _concludes_on(_line_and_next(tail, m.end("b1") if m["b1"] else m.end("b2") if m["b2"] else m.end("b3")),
                             before, offered):
                continue  # "12 or 13, depending on …; since we don't, it's 12.": the choice made
            for value in (m["a1"] or m["a2"] or m["a3"], m["b1"] or m["b2"] or m["b3"]):
                value = value.rstrip(",")  # ("13," of "12 or 13, depending …": the number's pattern takes commas)
                if _other_plain(before, value):
                    return value
    possible = _possible_answers(tail, before) if "answers" in tail.lower() else None
    if possible is not None:
        return possible
    last = tail.rstrip()
    own_line = last.rfind("\n") >= 0  # (else the rest of the answer's own line: `\\boxed{3} * 2`)
    earlier = last[:last.rfind("\n") + 1]
    last = last[last.rfind("\n") + 1:]
    if len(last) > 4 * _WINDOW:
        return None
    last = _unwrapped_value(last)
    m = _VALUE_LINE_RE.fullmatch(last) if own_line else None
    if m is None and own_line:
        conditioned = _CONDITIONED_LINE_RE.fullmatch(last)
        if conditioned is not None and _recount(conditioned["condition"], last):
            value = conditioned["a1"] or conditioned["a2"] or conditioned["a3"]
            return value if _other_plain(before, value) else None
    if m is None:  # the line's last sentence, when it concludes: "Let me redo: 4*5 = 20. So 20."
        sentences = _SENTENCE_START_RE.split(last)
        m = _VALUE_LINE_RE.fullmatch(sentences[-1]) if own_line or len(sentences) > 1 else None
        if m is None or not m["said"]:
            return None
    if m["condition"] is not None and not _recount(m["condition"], last):
        return None  # "When n = 1: 3", "If she saves for 24 weeks: 240": another question's answer
    if m["a3"] is not None and not m["said"] and last.rstrip(" \t*_").endswith("."):
        return None  # "2." alone: an ordered-list marker, no value
    value = m["a1"] or m["a2"] or m["a3"]
    if not m["said"] and m["a3"] is not None and not any(c in last for c in "*_#"):
        return None  # "Thank you!\n\n1", "In hours:\n\n2", "2024": a plain number alone may be anything
    above = earlier.rstrip()
    if not m["said"] and _NOT_BEFORE_VALUE_RE.fullmatch(above[above.rfind("\n") + 1:]):
        return None  # "---\n\n1", "- 4 boxes\n2": a footnote or a list's, no answer
    if not m["said"] and (_introduced(tail, len(earlier)) or _RULE_LINE_RE.search(earlier)):
        return None  # "The number of rows:\n$$3$$", "---\n*Source: problem 3*\n\n**3**": introduced, a footnote's
    if m["said"] and len(m.string) < len(last) and _stated_before(last[:len(last) - len(m.string)], value):
        return None  # "Each box holds 4 and there are 3 boxes. So 3.": a count the line stated, concluded
    if not m["said"] and _check_leads_in(earlier):
        return None  # "Check: substituting gives\n$$19$$": the check's result on its own line, no answer
    checked = tail[:len(tail.rstrip()) - len(m.string) + m.start("a1" if m["a1"] else "a2" if m["a2"] else "a3")]
    if _CHECK_RE.search(checked) and re.search(r"(?<![\d.])" + re.escape(value) + r"(?![\d]|\.\d)", checked):
        return None  # "Let's verify: 12 - 5 = 7. ✓\n\nSo 7.": the check's result, no answer
    return value if _other_plain(before, value) else None


#: A value alone in other display markup than `_LINE_VALUE` reads (audit 39): `$$13.$$`, `\\[x = 13\\]`,
#: `$$x = 13$$`, `\\textbf{13}`, `` `13` ``, `\\begin{equation}13\\end{equation}`. Group "open" and
#: "close" must pair up (see `_WRAPPERS`); a single-letter variable set to it and a stop inside the
#: maths are dropped. Bounded runs only: linear.
_WRAPPED_VALUE_RE = re.compile(
    r"(?P<open>\$\$?|\\\[|\\\(|\\(?:textbf|mathbf|fbox)\{\$?|`|\\begin\{(?:equation|displaymath)\*?\})[ \t]{0,8}"
    r"(?:[A-Za-z][ \t]{0,8}=[ \t]{0,8})?(?P<value>" + _NUMBER + r")[ \t]{0,8}\.?[ \t]{0,8}"
    r"(?P<close>\$?\}|\$\$?|\\\]|\\\)|`|\\end\{(?:equation|displaymath)\*?\})")
#: The closing mark each opening one of `_WRAPPED_VALUE_RE` needs.
_WRAPPERS = {"$": ("$",), "$$": ("$$",), "\\[": ("\\]",), "\\(": ("\\)",), "`": ("`",)}


def _unwrapped_value(line: str) -> str:
    """`line` with a value wrapped in display markup that `_LINE_VALUE` does not read (see
    `_WRAPPED_VALUE_RE`) rewritten as `$$value$$`, which it reads: a different value alone on the
    last line after the box is a second answer however it is displayed (audit 39: `$$13$$` was one,
    `$$13.$$` and `\\[x = 13\\]` were not)."""
    if not any(c in line for c in "$\\`"):
        return line

    def plain(m: re.Match) -> str:
        opened, closed = m["open"], m["close"]
        wanted = _WRAPPERS.get(opened)
        if wanted is None:  # `\\textbf{`, `\\fbox{$`, `\\begin{equation}`
            wanted = (("$}",) if opened.endswith("$") else ("}",)) if opened.endswith(("{", "$")) else ("\\end" + opened[6:],)
        return "$$" + m["value"] + "$$" if closed in wanted else m.group()

    return _WRAPPED_VALUE_RE.sub(plain, line)


#: A list item's marker opening a line (`- `, `* `, `• `, `1. `, `2) `).
_LIST_ITEM_RE = re.compile(r"[ \t>]*(?:[-*+\u2022]|\d{1,3}[.)])[ \t]")


#: A line's end that leads into a value on the next line: "=", ":", or a verb of result.
_LEADS_IN_RE = re.compile(r"(?:=|:|\b(?:gives|is|becomes|equals|yields))[ \t$*_]*$", re.IGNORECASE)


def _check_leads_in(earlier: str) -> bool:
    """Whether the last non-blank line of `earlier` is a check that leads into the next line's value
    ("Check: substituting into the left side gives", "**Check:** $2 \\cdot 8 + 3 = 16 + 3 =$"): that
    value is the check's result, not a second answer (final review of rules 27)."""
    line = earlier.rstrip()
    line = line[line.rfind("\n") + 1:]
    return _CHECK_RE.search(line) is not None and _LEADS_IN_RE.search(line) is not None


def _stated_before(text: str, value: str) -> bool:
    """Whether `text` (a line before its last sentence) states `value` as a count of something
    ("there are 3 boxes"): a last "So 3." concludes that count (review of rules 26)."""
    for m in re.finditer(r"(?<![\d.,=])" + re.escape(value) + r"(?:[ \t]+[A-Za-z]|[.,;!](?!\d))", text):
        if not text[:m.start()].rstrip(" \t$").endswith("="):  # ("Let me redo: 4*5 = 20. So 20." is a redo)
            return True
    return False


def _recount(condition: str, line: str) -> bool:
    """Whether `condition`, on the value's `line`, makes the value another count of the answer:
    "otherwise", or words of counting in or out ("if inclusive", "counting the teacher", "if the
    teacher is included"; see `_RECOUNT_RE`) with no number or "=" in them, on a line that is no
    list item. A list of cases ("- When n = 1: 1"), a scenario, a conversion or a rounding answers
    another question (review of rules 24)."""
    condition = condition.strip(" \t*_.!")
    if _LIST_ITEM_RE.match(line) or any(c.isdigit() or c == "=" for c in condition):
        return False
    return condition.lower() == "otherwise" or _RECOUNT_RE.search(condition) is not None


def _other_plain(before: str, value: str) -> bool:
    """Whether the plain number `value` is another value than the plain answer `before`: not the
    same in another form, nor the one rounded at the decimals the other shows (`0.33` and `\\frac13`,
    see `math_restatement._decimal_rounding`)."""
    from rlvr.verifiers.math_restatement import _decimal_rounding

    return not _same_value(before, value) and not _decimal_rounding(value, before) and not _decimal_rounding(before, value)
