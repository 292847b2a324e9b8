"""Find the final answer in a model's output.

Only the text up to the end of the chat turn is read (`<|im_end|>`, `<|im_start|>`, a "User:"
line before an "Assistant:" one, see `within_turn`): a run-on output answering the next user turn
answers another question.
A closed reasoning block (`<think>…</think>`) holds reasoning: when the text after its last
`</think>` commits to an answer, only that text is read (see `after_reasoning`).

Order of preference (the first rule that finds something wins):
1. `<answer>…</answer>`, closed and holding an answer (the last such one, see `tagged_answers`):
   the answer is read inside it only, by the rules below, hedge checks included (`\\boxed{12} or
   13`, "Actually, it's 13." inside the tag, see `_tag_answers`); boxes in the reasoning outside it are
   ignored. A mention of `<answer>` in prose, an unclosed or empty tag is no answer tag. A final
   answer stated again after the last tag (a box, "the answer is", `#### n`, "or 4") and before the
   chat turn ends (`<|im_end|>`, "User:") is one more answer beside it, for hedge detection;
   ordinary prose there is not read.
2. `\\boxed{…}` / `\\fbox{…}` / `\\framebox{…}` (nested braces; also `\\boxed 5`): the LAST one is the
   answer, and all of them are returned by `all_boxed` so the grader can detect hedging (`\\boxed{2}`
   or `\\boxed{3}`). A box inside another is part of the outer one's content, not a box of its own.
   Maths that continues a box right after its closing brace is part of its answer
   (`$\\boxed{12}\\pi$` is 12π, `$\\boxed{3} + 1$` is 4; not units: `$\\boxed{20}N$` is 20; see
   `math_after_box`). An answer stated
   after the last box ("\\boxed{20}. Actually, the answer is 21.", "\\boxed{20} or 21", "Wait,
   actually it's 21.", a retraction: "Wait, no, it's 21.", see `math_retraction`) is returned
   beside them by `final_boxes`: the grader counts it as one more final answer.
3. "the (final) answer is …" up to the end of the sentence or line, up to a reason ("because",
   "since", …), without a trailing remark (`7 (seven)`, `7; I am sure`; a remark that retracts or
   hedges, `12 (wrong)`, `18; not really`, is kept, see `_drop_remark`), a value it refuses ("13,
   not 12") or a bracket breaking its number down (`13 (12 students and 1 teacher)`), or a "Final
   Answer" heading (a remark in brackets allowed: "Final answer (revised):") with the answer on the next line: the last one that reads as an answer ("the answer is correct"
   does not, see `_looks_like_math`). The rule is
   applied again inside what it found and inside an `<answer>` tag, so the MATH/Minerva format
   "Final Answer: The final answer is $42$. I hope it is correct." gives `$42$`.
   A sentence of prose after "Final Answer" or "Answer:" ("Janet makes $18 every day.") is no
   answer (see `_sentence_value`): never its words read as a product of letters.

Markdown bold/italic marks are removed first (`**Answer:** 42`, `The answer is **18**.`).
4. GSM8K's `#### n`.
5. Only with `fallback="last_number"`: the last number in the text. Off by default, because a
   strict grader must not invent an answer the model never committed to.

Everything is linear-time: the first few boxes' braces are matched by scanning on from each, the
rest in one pass over the text (however many boxes there are, and however deeply they nest), and
the regular expressions have no nested quantifiers.
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache

from rlvr.verifiers.math_after_box import continued
from rlvr.verifiers.math_normalize import (DOUBT_WORDS, doubt_after_box, without_case_phrases, _MATH_NAMES, brace_content, changes_value, normalize, retracts, strip_markdown,
                                           word_answer)
from rlvr.verifiers.math_restatement import _bracket_after_box, breakdown_start, conditioned_after_box, restatement_parts
from rlvr.verifiers.math_retraction import (_CONVERSION_REMARK, _REPEATED_NUMBER_RE, _RETRACTING_RE, _RUN_RE, might_offer,
                                           might_retract,
                                           readable_value, retraction, second_answer, value_line, without_marks,
                                           answer_retracted, might_take_back,
                                           without_refused, without_working)

__all__ = ["extract_answer", "extract_here", "after_reasoning", "restatement_parts", "all_boxed", "last_boxed", "closing_brace", "final_boxes", "said_after", "spelled_answer", "stated_answers", "answer_tag", "tagged_answers", "looks_like_bare_answer", "within_turn"]

#: A box: `\\boxed`, `\\fbox`, `\\framebox` (whose optional `[width][position]` are skipped; each at most
#: 40 characters, so a flood of unclosed `[` costs linear time).
_BOX_RE = re.compile(r"\\(?:boxed|fbox|framebox(?:\s*\[[^\]\n]{0,40}\])*)\s*")
#: A closed `<answer>…</answer>`: its content runs from the last `<answer>` before the closing tag
#: (a mention of `<answer>` in prose before it is not part of it). Each character is scanned by at
#: most one match attempt, which ends at the next `<answer>` or `</answer>`.
_ANSWER_TAG_RE = re.compile(r"<answer>((?:(?!<answer>)[\s\S])*?)</answer>", re.IGNORECASE)
_ANSWER_CLOSE_RE = re.compile(r"</answer>", re.IGNORECASE)
#: A bracketed remark after "final answer" ("Final answer (revised): 13", rules 29): words only, and
#: none of a rounding ("Final answer (rounded): 12" after `\boxed{12.4}` states no second answer).
#: After a box, a remark on the value's unit or form is none either (see `_CONVERTED_HEAD_RE`).
_FINAL_REMARK = (r"(?:[ \t]*\((?![^)\n]{0,32}(?:approx|about|round|rough|near|around|estimat|decimal))"
                 r"[ \t]*[A-Za-z][A-Za-z ,'-]{0,30}\))?")
#: A "final answer" head whose bracketed remark names the unit or form of the value under it, or
#: the part of the question it answers ("Final answer (in percent):", "(cents)", "(part b)"; see
#: `math_retraction._CONVERSION_REMARK`). After a box, the value under it is the answer converted
#: (rules 24) or another part's, no second final answer: `_said_answer_after` does not read it
#: (review of rules 29: "Final answer (in percent): 25" after `\boxed{0.25}` was a hedge). As the
#: answer itself, without a box, it is read.
_CONVERTED_HEAD_RE = re.compile(r"final\s+answer[ \t]*\((?!" + _CONVERSION_REMARK + r")[^()\n]{1,32}\)", re.IGNORECASE)
#: Linear on whitespace runs: no two quantifiers can share one run (`\s*` before an optional `:` is
#: never followed by another `\s*` over the same spaces), and the `\s+` before a reason may only
#: start where a run starts (`(?<!\s)`), so the lazy answer does not rescan a run from each space.
_ANSWER_IS_RE = re.compile(
    r"(?:final\s+answer" + _FINAL_REMARK + r"|the\s+answer|answer|(?:correct|right)\s+(?:option|choice))\s*(?:is|:|=)\s*(?::\s*)?(.+?)"
    r"(?:\.(?:\s|$)|\n|$|,?(?<!\s)\s+(?:because|since|as|which|given|for)(?:\s|$))",
    re.IGNORECASE,
)
#: Where a "the answer is" phrase starts (see `_reread`).
_ANSWER_HEAD_RE = re.compile(r"(?:final\s+answer" + _FINAL_REMARK + r"|the\s+answer|answer|(?:correct|right)\s+(?:option|choice))\s*(?:is|:|=)",
                             re.IGNORECASE)
#: A "Final Answer" heading with the answer on the next line ("**Final Answer**\n18", "## Final answer").
_HEADING_RE = re.compile(r"^[ \t#>]*final\s+answer" + _FINAL_REMARK + r"[ \t]*(?::[ \t]*)?\n\s*(\S[^\n]*)", re.IGNORECASE | re.MULTILINE)
#: A remark after the answer: a parenthesised word or two (`7 (seven)`), or words after a semicolon.
#: The spaces before `(` may only start where a run starts (`(?<!\s)`): linear on long runs.
_REMARK_RE = re.compile(r"(?:(?<!\s)\s+\((?=[^()]*[A-Za-z]{2})[A-Za-z' -]+\)|;\s+[A-Za-z][A-Za-z' ,!-]*)$")
_ONE_LETTER_RE = re.compile(r"^\(?[A-Za-z]\)?$")
#: What "the answer is" says when it is a remark about an answer rather than the answer.
_JUDGEMENTS = {"correct", "right", "wrong", "incorrect", "reasonable", "consistent", "valid", "invalid",
               "accurate", "plausible", "sensible", "confirmed", "verified", "indeed", "clear", "obvious",
               "below", "above", "as", "the", "that", "this", "not", "in", "to", "a", "an",
               "unchanged", "unaffected", "exact", "same"}  # ("the answer is unchanged": audit 40)
#: A sign said of the answer, a remark when a comma or a reason follows it ("the answer is positive,
#: as expected"); alone, "positive" may be the answer to a question asking for a sign (audit 40).
_SIGN_REMARK_RE = re.compile(r"\banswer\s+is\s+(?:positive|negative)(?:,|\s+(?:as|since|because|which|so)\b)",
                             re.IGNORECASE)
_GSM_RE = re.compile(r"####\s*([^\n]+)")
_NUMBER_RE = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?|-?\.\d+")


#: An unescaped brace (a brace after a backslash is a literal one, as in `\\{1, 2\\}`).
_BRACE_RE = re.compile(r"(?<!\\)[{}]")
#: "\\boxed 5": a box without braces holds the next run of non-space characters, up to the next box
#: command: so each character is scanned by one bare box at most, and a flood of them (`\\boxed(\\boxed(…`,
#: no space anywhere) costs linear time, not a scan to the end of the text from each.
_BARE_BOX_RE = re.compile(r"(?:(?!\\(?:boxed|fbox|framebox))[^\s$])+")
#: Boxes read from one text, the last ones: more than any honest answer holds, and a bound on what
#: a flood of (nested) boxes can cost in memory.
MAX_BOXES = 64
#: Boxes whose braces are matched by scanning on from each (the cheapest way for the usual one or
#: two); past that many, the rest of the text's braces are matched in one pass, so that a flood of
#: boxes costs linear time.
_SCANNED_BOXES = 4


def _matching_braces(text: str, start: int) -> dict[int, int]:
    """For every unescaped "{" from `start` on, the index of its matching "}" (unmatched ones
    left out), found in one pass."""
    pairs: dict[int, int] = {}
    open_at: list[int] = []
    for m in _BRACE_RE.finditer(text, start):
        if m.group() == "{":
            open_at.append(m.start())
        elif open_at:
            pairs[open_at.pop()] = m.start()
    return pairs


def last_boxed(text: str) -> str | None:
    """Contents of the last `\\boxed{...}` (braces matched, see `closing_brace`), or None. The
    usual case, a box without braces inside, takes two `str.find` calls (half a regex match's cost:
    a format reward checks it once per step)."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    begin = start + 7  # len("\\boxed{")
    close = text.find("}", begin)
    if close >= 0 and text.find("{", begin, close) >= 0:  # braces inside
        close = closing_brace(text, begin)
    return None if close is None or close < 0 else text[begin:close].strip()


def closing_brace(text: str, begin: int) -> int | None:
    """The index of the "}" that closes a brace opened just before `begin`, or None.

    Walks from closing brace to closing brace with `str.find`/`str.count` rather than character by
    character: the depth can only fall to 0 at a "}", and the "{" between two of them say how far
    it rose (a format reward checks it once per step).
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


def all_boxed(text: str) -> list[str]:
    """Contents of every \\boxed{} / \\fbox{} in order, at most the last `MAX_BOXES` (unterminated
    ones are skipped). A sign written just before a box is part of what it says (see `_box_sign`):
    `x = -\\boxed{20}` gives `-(20)`, `\\pm\\boxed{3}` gives `\\pm(3)`; so is maths that continues it
    (see `math_after_box`): `\\boxed{12}^2` gives `(12)^2`, `$\\boxed{12}\\pi$`
    gives `(12)\\pi`, `$\\boxed{3}0$` gives `{3}0` (30)."""
    return [content for content, _ in (_box_content(text, *box) for box in _box_spans(text))]


def final_boxes(text: str) -> tuple[list[str], str | None]:
    """`all_boxed(text)`, and what the text says the answer is after its last box (see
    `said_after`), or None.

    A box is no last word when the text goes on to state another answer: in "\\boxed{20}.
    Actually, I made an error: the answer is 21." the model took 20 back, so reading the box alone
    would score a retracted answer. The grader counts such a statement as one more final answer, so
    a box and a later answer that disagree are a hedge, and one that restates the box changes nothing."""
    spans = _box_spans(text)
    if not spans:
        return [], None
    contents = [_box_content(text, *box) for box in spans]
    box, end = contents[-1]
    said = said_after(text[end:], box, text[:end])
    if said is None or normalize(said) == normalize(box):
        said = _hedged_before(text[:spans[-1][0]], box) or said  # "So the answer is 5 or maybe 6. \boxed{5}"
    return [content for content, _ in contents], said


#: A value as an answer statement right before the box writes it: a plain number or maths in `$…$`.
_STATED_VALUE = r"(?:-?\d[\d,]{0,30}(?:\.\d{1,30})?%?|\$[^$\n]{1,40}\$)"
#: The sentence right before the final box, when it is an answer statement offering two values
#: (audit 37): "So the answer is 5 or maybe 6.", "It is either 3 or 5.", "The answer is 3 or 5:"
#: (groups "a" and "b"), ending where only spacing or the opening of maths stands before the box.
#: Anchored at both ends of a sentence of at most 160 characters (see `_hedged_before`): linear.
_TWO_VALUES_BEFORE_BOX_RE = re.compile(
    r"(?:(?:so|thus|hence|therefore|then)\b,?[ \t]+)?(?:the[ \t]+(?:final[ \t]+)?answer[ \t]+is|it[ \t]+is|it'?s)"
    r"[ \t]+(?:either[ \t]+)?(?P<a>" + _STATED_VALUE + r")[ \t]*,?[ \t]+or[ \t]+(?:(?:maybe|perhaps|possibly)[ \t]+)?"
    r"(?P<b>" + _STATED_VALUE + r")[ \t]*[.:;!]?", re.IGNORECASE)
#: What may stand between that sentence and the box: spacing, `$`, `\[`, `\(`.
_BEFORE_BOX_GAP_RE = re.compile(r"(?:\s|\$|\\[\[(])*\Z")
#: The end of a sentence before that one: a stop before a space (not a decimal point), or a line break.
_SENTENCE_STOP_RE = re.compile(r"[.!?](?=\s)|\n")


def _hedged_before(head: str, box: str) -> str | None:
    """The value other than the box's that the sentence right before the final box (`head` is the
    text up to the box command) offers beside it in an answer statement ("So the answer is 5 or
    maybe 6. \boxed{5}", "It is either 3 or 5. \boxed{3}": the same hedge as after the box or inside
    it; audit 37), else None. Only the sentence immediately before the box, and only such a
    statement: "Either way, \boxed{5}" or an "x is 3 or 5" of the working earlier names none."""
    head = head[-200:]  # (the sentence is at most 160 characters: linear)
    head = head[:_BEFORE_BOX_GAP_RE.search(head).start()]
    stops = [m.end() for m in _SENTENCE_STOP_RE.finditer(head, 0, max(0, len(head) - 1))]
    sentence = head[stops[-1] if stops else 0:].strip(" \t*_")
    if len(sentence) > 160 or "or" not in sentence.lower():
        return None
    m = _TWO_VALUES_BEFORE_BOX_RE.fullmatch(sentence)
    if m is None:
        return None
    a, b, said = m["a"].strip("$ "), m["b"].strip("$ "), normalize(box)
    if normalize(a) == normalize(b):
        return None
    if normalize(a) == said:
        return b
    return a if normalize(b) == said else None


def _box_content(text: str, command: int, a: int, b: int) -> tuple[str, int]:
    """What the box at `command`, holding `text[a:b]`, says, and where the text after it begins:
    with the sign written before it and the maths that continues it right after its closing brace
    (see `math_after_box`: `\\boxed{12}^2` is 144, not 12; `$\\boxed{12}\\pi$` is 12π)."""
    content = _approximately(text[a:b])
    if not content.strip():
        return content, b + 1
    sign = _box_sign(text, command)
    went_on = continued(text, b + 1, content)
    if went_on is None:
        doubt = doubt_after_box(text, b + 1, content)
        if doubt is not None:  # `\\boxed{C} (I'm guessing)`: no choice, as `C (guess)` is none
            return f"{content} {doubt['remark']}", doubt.end()
        return (f"{sign}({content})" if sign else content), b + 1
    said, end = went_on
    return sign + said, end


#: An approximation word opening an answer, before a value (`about 3`, `\\text{about } 3`,
#: `approximately 72`), as text or not; read as `\\approx`, as `\\approx 3` and `~72` already were.
_ABOUT_RE = re.compile(r"^[ \t]*(?:\\(?:text|mathrm|textrm|mbox)[ \t]*\{[ \t]*)?"
                       r"(?:about|approximately|approx\.?|roughly|around|nearly)(?![A-Za-z])[ \t]*\}?[ \t]*(?=[-\d.\\$])",
                       re.IGNORECASE)
#: A plain number and at most two words of what it counts, then "left", "left over" or "remaining"
#: ("72 left", "72 apples remaining"): group "said" is the answer without it.
_REMAINING_RE = re.compile(r"(?P<said>-?\d[\d,]*(?:\.\d+)?(?:[ \t]+[A-Za-z]+){0,2}?)[ \t]+(?:left(?:[ \t]+over)?|remaining)")


def _approximately(answer: str) -> str:
    """`answer` with an approximation word opening it written as `\\approx` (rules 20): "about 72"
    is the answer 72 as `\\approx 72` is, which normalisation reads as its value (a rounding said
    after another answer stays no second answer: `\\approx` is an approximation word too)."""
    m = _ABOUT_RE.match(answer)
    return answer if m is None else "\\approx " + answer[m.end():]


def _box_spans(text: str) -> list[tuple[int, int, int]]:
    """(command start, content start, content end) of each box in `text`, at most the last `MAX_BOXES`.

    A box inside another is part of that box's content, not an answer of its own: the last box of
    `\\boxed{\\text{not } \\boxed{4}}` or `\\boxed{2\\boxed{4}}` is not the inner 4."""
    boxes: list[tuple[int, int, int]] = []
    pairs: dict[int, int] | None = None
    outer_end = -1  # where the content of the last box kept ends
    for count, m in enumerate(_BOX_RE.finditer(text)):
        if m.start() < outer_end:
            continue
        j = m.end()
        if j < len(text) and text[j] == "{":
            if count < _SCANNED_BOXES:
                span = brace_content(text, j)
            else:
                if pairs is None:
                    pairs = _matching_braces(text, j)
                close = pairs.get(j)
                span = (j + 1, close) if close is not None else None
            if span is not None:
                boxes.append((m.start(), *span))
                outer_end = span[1]
        elif j < len(text):
            tail = _BARE_BOX_RE.match(text, j)  # "\\boxed 5"
            if tail:
                boxes.append((m.start(), *tail.span()))
    return boxes[-MAX_BOXES:]


#: Words and signs that make a value a rounding rather than an answer: "the answer is approximately
#: 0.33" after `\\boxed{\\frac13}` states no second answer, `$\\frac{\\sqrt2}{2}$ (about 0.707)` no second value.
_APPROXIMATELY = frozenset({"about", "approximately", "approx", "approx.", "roughly", "around", "nearly", "\\approx", "≈", "~"})
_APPROXIMATE_RE = re.compile(r"\b(?:" + "|".join(sorted(w for w in _APPROXIMATELY if w.isalpha())) + r")\b|"
                             + "|".join(re.escape(w) for w in sorted(_APPROXIMATELY) if not w[0].isalpha()), re.IGNORECASE)


#: Spacing or punctuation between a box and a hedge word: spaces (Unicode ones too: U+00A0, thin
#: spaces), `$`, a comma or semicolon, an opening bracket (`\\boxed{5} (or 4)`), a dash, LaTeX spaces
#: (`\\quad`, `\\,`, `~`), markdown emphasis (`**or**`); before "or" also line breaks and the end of
#: display or inline maths (`\\[\\boxed{3}\\]\\nor 4`, `\\(\\boxed{3}\\) or 4`). Bounded runs only.
_SPACES = " \t\u00a0\u2000-\u200b\u202f\u205f\u3000"
_HEDGE_GAP = r"(?:[" + _SPACES + r"$,;(\[~*_\u2013\u2014-]|\\q?quad\b|\\[,;: ]){0,12}"
_OR_GAP = r"(?:[\n" + _SPACES + r"$,;(\[~*_\u2013\u2014-]|\\q?quad\b|\\[,;: \])]){0,16}"
_HEDGE_SPACE = r"(?:[\n" + _SPACES + r"~*_]|\\q?quad\b|\\[,;: ]){0,12}"
#: "or" (also "或者"/"或", and "or" with a filler word: "or else", "or alternatively", "or rather", "or
#: maybe"; a colon after it: "Or: 13"), or "maybe", "possibly", "perhaps" right after a box, and
#: what follows it, past a variable and `=` (`or x = 4`): maths between `$` or `$$` (group "maths",
#: `$\\boxed{20}$ or $x = 21$`) or in `\\(…\\)` (group "paren"), else one word (group "word",
#: `\\boxed{20} or 21`, `or twenty-one`, `or \\$12`: an escaped dollar is part of the word).
_OR_AFTER_BOX_RE = re.compile(
    r"(?:" + _OR_GAP + r"(?:\\text\{\s*or\s*\}|(?:\bor\b|或者|或)(?:" + _HEDGE_SPACE
    + r"(?:maybe|perhaps|possibly|else|alternatively|rather)\b)?:?)|" + _HEDGE_GAP + r"\b(?:maybe|perhaps|possibly)\b)"
    + _HEDGE_SPACE + r"(?:[A-Za-z](?:_\{?\w{1,3}\}?)?[ \t]*=[ \t]*)?"
    r"(?:\$\$?(?P<maths>[^$\n]{1,200})\$|\\\((?P<paren>[^\n]{1,200}?)\\\)"
    r"|(?P<word>(?:\\\$|[^\s$,;]){1,200}(?:[ -][A-Za-z]+){0,4}))", re.IGNORECASE)
_CHOICE_LETTER_RE = re.compile(r"^\(?[A-E]\)?$")
_VALUE_START_RE = re.compile(r"-?[0-9\\]")
#: A phrase after "or" runs to the next punctuation or bracket (`or one half)`: "one half").
_PHRASE_RE = re.compile(r"[^.,;:!?()\[\]{}$\n]*")
_BARE_NUMBER_RE = re.compile(r"^(?:\\\$)?(-?[0-9]+(?:\.[0-9]+)?)$")


def _alternative(tail: str, box: str | None) -> str | None:
    """The second answer offered beside the box by "or" right after it (`\\boxed{20} or 21`,
    `\\boxed{20} (or 21)`, `\\boxed{B} or C`, `\\boxed{20} or twenty-one` as "21"), or None when
    what follows is no value (`\\boxed{5} or so`, `or more precisely 5.0`). A letter is a value only
    as a choice beside a boxed choice letter (`box`); words only when the whole phrase spells a
    number (`or one of its roots`, `or one half` are none). In brackets see `_bracketed_hedge`."""
    m = _OR_AFTER_BOX_RE.match(tail)
    if m is None:
        return None
    found = _offered(tail, m, box)
    if found is not None and box is not None:
        number, unit = _without_unit(found)
        box_number, box_unit = _without_unit(box.strip())
        if unit or box_unit:  # `\\boxed{\\frac{\\pi}{2}} or 90^\\circ`, `\\boxed{120} 或者 120元`
            return number if _bracketed_hedge(number, box_number) else None
    value = next(name for name in ("maths", "paren", "word") if m[name] is not None)
    if found is not None and any(c in "([" for c in tail[:m.start(value)]):
        return found if _bracketed_hedge(found, box) else None
    return found


def _offered(tail: str, m: re.Match, box: str | None) -> str | None:
    """What `_OR_AFTER_BOX_RE`'s match `m` offers as a value (see `_alternative`), or None."""
    maths = m["maths"] if m["maths"] is not None else m["paren"]
    if maths is not None:  # in math mode: a value when it has a digit
        said = maths.strip()
        return said if any(c.isdigit() for c in said) else None
    words = m["word"]
    first = _balanced(words.split()[0].rstrip(".")) if words.split() else ""
    if _RATIO_RE.match(tail, m.start("word")):  # "or 1 in 4", "or 3 out of 4": a ratio in words, no value
        return None
    if _VALUE_START_RE.match(first):  # a number or LaTeX (`21`, `-3`, `\\frac{1}{2}`)
        return first if first != "\\" and _looks_like_math(first) else None
    if box is not None and _CHOICE_LETTER_RE.match(box.strip()) and _CHOICE_LETTER_RE.match(first):
        return first
    return spelled_answer(_PHRASE_RE.match(tail, m.start("word")).group())


#: "N in M", "N out of M" after "or": a ratio phrase ("or 1 in 4" after `\\boxed{\\frac14}`).
_RATIO_RE = re.compile(r"\d+[ \t]+(?:in|out[ \t]+of)[ \t]+\d", re.IGNORECASE)
#: A number with a unit: a degree sign (`90^\\circ`, `90°`), CJK characters glued on (`120元`,
#: `5个`) or a common unit glued on (`5cm`, `3kg`). Group "number" is the number.
_NUMBER_UNIT_RE = re.compile(
    r"(?P<number>-?(?:\\\$)?\d[\d,]*(?:\.\d+)?)[ \t]*(?:\^[ \t]*\{?[ \t]*\\circ[ \t]*\}?|°|\\degree\b"
    r"|[\u3400-\u9fff]+|(?:mm|cm|km|m|mg|kg|g|ml|mL|L|s|min|h|hr|hrs|ft|lb|lbs|oz)\b)\Z")


def _without_unit(value: str) -> tuple[str, bool]:
    """`value` less its unit (see `_NUMBER_UNIT_RE`), and whether it had one."""
    m = _NUMBER_UNIT_RE.match(value)
    return (m["number"], True) if m else (value, False)


def _bracketed_hedge(found: str, box: str | None) -> bool:
    """Whether a value offered in brackets after the box (`\\boxed{5} (or 4)`) is a second answer,
    not a restatement (`\\boxed{\\frac{\\pi}{3}} (or 60^\\circ)`, `\\boxed{30\\%} (or 0.3)`): only when
    the box and it are both plain numbers (or both choice letters) that differ. Other pairs are
    read as restatements, as before rules 11: telling those apart needs the full comparison. The
    same holds after "or" when either side carries a unit (`\\boxed{\\frac{\\pi}{2}}\\n\\nor
    $90^\\circ$`, `\\boxed{120} 或者 120元`, see `_alternative`)."""
    if box is None:
        return False
    if _CHOICE_LETTER_RE.match(box.strip()) and _CHOICE_LETTER_RE.match(found):
        return box.strip().strip("()") != found.strip("()")
    a, b = _BARE_NUMBER_RE.match(box.strip()), _BARE_NUMBER_RE.match(found)
    return a is not None and b is not None and float(a.group(1)) != float(b.group(1))


def _balanced(value: str) -> str:
    """`value` less the closing brackets at its end that close nothing in it (`4)` of `(or 4)`)."""
    while value and value[-1] in ")]" and value.count(value[-1]) > value.count("(" if value[-1] == ")" else "["):
        value = value[:-1].rstrip(".")
    return value


def said_after(tail: str, box: str | None = None, head: str = "") -> str | None:
    """The answer `tail` (the text after a box, `box` holding the box's content) states in words —
    "the answer is 21", `#### 21`, "or 21" right after the box (see `_alternative`), or a
    correction in other words ("actually, it's 21", "it should be 21") or a retraction ("Wait, no,
    it's 21.", see `_correction`) — when it is
    a value in its own right; None when it states none, or only something that is no second answer:
    a remark ("the answer is correct"), a pointer back ("the answer is boxed above"), a rounding
    ("approximately 0.33"), or prose ("the answer is not 21"). A number in words is given as
    digits ("twenty-one" is "21")."""
    alternative = _alternative(tail, box)
    if alternative is not None:
        return alternative  # `\\boxed{20} or 21`: a second answer offered beside the box
    bracketed = _bracket_after_box(tail, box) or conditioned_after_box(tail, box)
    if bracketed is not None:
        return bracketed  # `\\boxed{12} (3 × 5)`, `\\boxed{12} (13)`, `\\boxed{12}, 13 with the teacher`
    said = _said_answer_after(tail) if "nswer" in tail.lower() or "####" in tail else None
    if said is not None and box is not None:
        parts = restatement_parts(said)
        if normalize(parts[0]) == normalize(box):  # "the answer is 18 (9 × 2)" after `\\boxed{18}`:
            said = parts[-1]  # the restatement alone is a second answer that must be right too
    if said is None or (box is not None and normalize(said) == normalize(box)):
        said = _correction(tail, box, head) or said  # "Wait, actually it's 4.", "it should be 4"
    if said is None:  # "\\boxed{20}\n\n21", "Therefore, $21$.", "20 or 21" on a line (rules 20)
        return value_line(tail, box)
    return said


def _said_answer_after(tail: str) -> str | None:
    """What "the answer is" or `#### n` in `tail` says, when it is a value (see `said_after`); not
    under a "final answer" head that names the unit or form of its value (see `_CONVERTED_HEAD_RE`,
    blanked here, the same length)."""
    if "(" in tail:
        tail = _CONVERTED_HEAD_RE.sub(lambda m: " " * len(m.group()), tail)
    said = extract_here(tail)  # (no box is left in the tail, nor a trusted tag: those came first)
    repeated = None if said is None else _REPEATED_NUMBER_RE.fullmatch(said.strip().rstrip("."))
    if repeated is not None and repeated["again"] == repeated["number"]:
        return repeated["number"]  # "13 (13 doubtful)", no breakdown: still a statement of 13 (review of rules 29)
    if (said is None or not _looks_like_math(said) or _POINTS_BACK_RE.search(said) or _APPROXIMATE_RE.search(said)
            or len(said) > 200):
        return None
    if said.lower() in ("positive", "negative") and _SIGN_REMARK_RE.search(tail):
        return None  # "the answer is positive, as expected": a remark on the answer's sign
    spelled = _spelled_number(said.lower().replace("-", " ").split())
    if spelled is not None:  # "the answer is twenty-one": 21 (number words are no maths in a box)
        return str(spelled)
    return said if looks_like_bare_answer(normalize(said)) else None


#: A correction or a final statement in other words than "the answer is": "actually, it's 4",
#: "the final result is 4", "the correct option is C", and "it should be 4" or "the answer should
#: be 4" (rules 29) where it opens a sentence (after an interjection: "Oops, it should be 4."; not
#: "If we double it, it should be 24"). The value runs to the end of the sentence or line (see
#: `_ANSWER_IS_RE`).
_CORRECTION_RE = re.compile(
    r"(?:\bactually,?\s+(?:it'?s|it\s+is|it\s+should\s+be)"
    r"|\bfinal\s+(?:result|value)\s+(?:is|:|=)"
    r"|\b(?:correct|right)\s+(?:option|choice)\s+(?:is|:|=)"
    r"|(?:^|(?<=[.!?\n]))[ \t*]*(?:(?:wait|oops|hmm+|no|sorry|oh|ah|so|correction|actually)\b[,.!:]?[ \t]+){0,3}"
    r"(?P<should>(?:it|the\s+(?:final\s+|correct\s+)?answer)\s+should\s+(?:be|have\s+been)))\s*(?::\s*)?(?P<value>.+?)"
    r"(?:\.(?:\s|$)|\n|$|,?(?<!\s)\s+(?:because|since|as|which|given|for)(?:\s|$))",
    re.IGNORECASE)
#: Words that must be in a text for `_CORRECTION_RE` to find anything in it (a cheap first check).
_CORRECTION_WORDS = ("actually", "should be", "should have been", "final result", "final value", "option", "choice")


def _correction(tail: str, before: str | None, head: str = "") -> str | None:
    """The value the last correction in `tail` gives: a correction or final statement in other
    words than "the answer is" (see `_worded_correction`), a retraction ("Wait, no, it's 20.", see
    `math_retraction.retraction`) or a second answer offered in other words ("Wait, it's 20.",
    "Alternatively, 20.", "Result: 20", see `math_retraction.second_answer`), whichever opens
    later; None when the later one names no value."""
    if _WORD_RE.search(tail) is None:  # each needs a word ("no", "oops", "result"): most tails are "." or ""
        return None
    start = _after_statements(tail)
    found = [f for f in (_worded_correction(tail, before), retraction(tail, before, start),
                         second_answer(tail, before, start, head)) if f is not None]
    return (max(found, key=lambda f: f[0])[1] or None) if found else None  # ("": a restatement, see `_read_value`)


#: Two letters in a row (any script): a tail without them holds no correction, retraction or offer.
_WORD_RE = re.compile(r"[^\W\d_]{2}")


def _after_statements(tail: str) -> int:
    """Where `tail` goes on after its last "the answer is" phrase (0 without one): a retraction
    before it is superseded by the answer stated again ("Wait, no, it's 20. So the answer is 18.")."""
    if "nswer" not in tail.lower():
        return 0
    last = None
    for last in _ANSWER_HEAD_RE.finditer(tail):
        pass
    return last.end() if last is not None else 0


def _worded_correction(tail: str, before: str | None) -> tuple[int, str | None] | None:
    """Where the last correction or final statement in `tail` (see `_CORRECTION_RE`) opens and the
    value it gives, or None when there is none: the value is maths (a digit, LaTeX) or a number in
    words; a choice letter only after a choice letter (`before`, the answer it follows); None, never
    a word ("it should be positive"), a remark, a pointer back or a rounding, nor anything that is no
    bare answer ("the final result is 4 times larger")."""
    lowered = tail.lower()
    if not any(w in lowered for w in _CORRECTION_WORDS):
        return None
    said = should = None
    for m in _CORRECTION_RE.finditer(tail):
        said, should, at = m["value"], m["should"], m.start()
    if said is None:
        return None
    return at, _corrected_value(said, should, before)


def _corrected_value(said: str, should: str | None, before: str | None) -> str | None:
    """What a correction's value `said` reads as (see `_worded_correction`), or None; "" for a value
    that is no other answer (`before` again in another form, or one the grader cannot read: "20 ✓",
    "20€", see `math_retraction.readable_value`)."""
    said = _drop_remark(without_marks(said.strip().rstrip(".")).rstrip(".").strip()).strip()
    if not said or len(said) > 200 or _POINTS_BACK_RE.search(said) or _APPROXIMATE_RE.search(said):
        return None
    spelled = spelled_answer(said)
    if spelled is not None:
        return spelled
    if _CHOICE_LETTER_RE.match(said.upper() if len(said) <= 3 else said):
        return said if before is not None and _CHOICE_LETTER_RE.match(before.strip()) else None
    if not any(c.isdigit() or c in "\\$" for c in said):
        return None
    if should and _PROSE_WORD_RE.search(_INLINE_MATHS_RE.sub(" ", said)):
        return None  # "It should be 12 per day.": a check of an intermediate value, not a correction
    said = without_working(said)  # "20 (4 × 5)"
    if not looks_like_bare_answer(normalize(said)):
        return None
    return said if readable_value(said, before) else ""


#: Inline maths (`$…$`, `\\(…\\)`), and a word of prose: two or more letters, no command's name.
_INLINE_MATHS_RE = re.compile(r"\$[^$]*\$|\\\((?:(?!\\\)).)*\\\)")
_PROSE_WORD_RE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")


#: A sign right before a box, with only spacing or an opening between: spaces, a line break, LaTeX
#: spaces (`\\,` `\\;` `~` `\\quad`), `$`, `{`, `(` or `\\left(` (`-\\,\\boxed{12}`, `-$\\boxed{12}$`,
#: `-(\\boxed{12})`). Group 2 is what is between: empty for a glued sign.
_SIGN_BEFORE_BOX_RE = re.compile(r"(-|\u2212|\\pm|\\mp)((?:[ \t\n{($~]|\\[,;:! ]|\\q?quad|\\left\(){0,12})\Z")


#: What a spaced minus must follow to be a sign (maths around it): a relation, an opening bracket
#: or `$`, an operation, or a digit (`2 - \\boxed{20}`, a binary minus); after a LaTeX command too.
_MATH_BEFORE_SPACED_MINUS = frozenset("=<>([{$+*/^,0123456789")
#: What ends a text before a spaced minus in maths: a LaTeX command (`x \\cdot - \\boxed{20}`), a
#: lone letter (`x - \\boxed{20}`), a closing bracket that is no label (`f(x) - \\boxed{20}`, not `(a) -`).
_MATHS_END_RE = re.compile(r"\\[A-Za-z]+\Z|(?<![A-Za-z\\])[A-Za-z]\Z|[)\]]\Z")
_LABEL_END_RE = re.compile(r"(?:^|\s)\(?[A-Za-z0-9]{1,2}[).]\Z"  # `(a)`, `1.`, `b)`
                           r"|(?<![A-Za-z])(?:part|step|question|problem|exercise|example|case|item|task|q|p)[ \t]?\d{1,3}[a-z]?\Z",
                           re.IGNORECASE)  # `Q1`, `Part 2`, `step 3b`


def _maths_before_spaced_minus(before: str) -> bool:
    """Whether `before` (what precedes a minus with a space after it) ends in maths: a relation, an
    opening bracket or `$`, an operation or a digit, a command, a lone letter, or a closing bracket
    that is not a list label; not a word, markup (`**`) or a label (`(a)`, `1.`, `Q1`, `Part 2`)."""
    if not before or before.endswith(("**", "__")) or _LABEL_END_RE.search(before):
        return False
    return (before[-1] in _MATH_BEFORE_SPACED_MINUS or before.endswith(("\\(", "\\["))
            or bool(_MATHS_END_RE.search(before)))


def _box_sign(text: str, command: int) -> str:
    """The sign (`-`, `\\pm`, `\\mp`) written right before the box command at `command`, or "".

    A minus changes the value whether it is unary (`x = -\\boxed{20}` is -20) or binary
    (`2 - \\boxed{20}` is not an answer of 20 either). A minus with a space after it is a sign only
    in maths (see `_maths_before_spaced_minus`); a markdown bullet (`- \\boxed{20}`), or a dash
    after a word, a label or markup (`**Answer** - \\boxed{20}`), is none.
    Nor is `--`. An empty box has no sign. Looks back at most 48 characters: linear in the text."""
    window = text[max(0, command - 48):command]
    m = _SIGN_BEFORE_BOX_RE.search(window)
    if m is None:
        return ""
    sign, space = m.groups()
    if sign == "\u2212":
        sign = "-"
    if sign == "-":
        before = window[:m.start()].rstrip(" \t")
        if before[-1:] in ("-", "!", "<"):  # `--`, `<!--`: no minus sign
            return ""
        if space and not _maths_before_spaced_minus(before):
            return ""  # a bullet, a dash after a word, a label or markup (`**Answer** - \\boxed{20}`)
    return sign


def _reread(got: str) -> str:
    """What one "the answer is …" said, re-read from the last time it says it again ("Final Answer:
    The final answer is $42$." nests the phrase once; "the answer is the answer is 5" is 5), without
    a trailing remark (`7 (seven)`, `7; I am sure`). Linear: at most two phrases are re-read (when
    the last says nothing, the one before it says the last). A `####` mark it starts with is no part
    of it ("The answer is:\\n#### 6" says 6)."""
    got = _GSM_MARK_RE.sub("", got)
    heads = [m.start() for m in _ANSWER_HEAD_RE.finditer(got)] if "nswer" in got.lower() else []
    for start in reversed(heads):
        m = _ANSWER_IS_RE.match(got, start)
        inner = m.group(1).strip().rstrip(".").strip() if m else ""
        if inner:
            got = inner
            break
    got = _drop_remark(got).strip()
    filler = _FILLER_RE.match(got)
    if filler is not None and filler.end() < len(got):  # "the final answer is still 18": 18
        got = got[filler.end():]
    remaining = _REMAINING_RE.fullmatch(got)
    if remaining is not None:  # "the answer is 72 left": 72, as `\\boxed{72 \\text{ left}}` is (rules 20)
        got = remaining["said"]
    got = _approximately(got)  # "the answer is about 72": `\\approx 72` (rules 20)
    return got[:-1] if _EXCLAIMED_NUMBER_RE.fullmatch(got) else got


_GSM_MARK_RE = re.compile(r"^\s*####\s*")
#: Words before the value that say nothing about it ("the answer is still 18", "is indeed 18",
#: "is simply 18", "is therefore 18"): read as part of the answer, they made it prose, no value.
_FILLER_RE = re.compile(r"(?:(?:still|indeed|just|simply|exactly|precisely|therefore|thus|hence|then|now|also|again"
                        r"|clearly|certainly|definitely|really|actually|obviously)\b,?[ \t]+){1,3}", re.IGNORECASE)
#: A plain number said with an exclamation mark ("The answer is 42!"): prose, not a factorial, which
#: a model writes in maths (`$5!$`), and which as a final answer would be unevaluated anyway.
_EXCLAIMED_NUMBER_RE = re.compile(r"-?\d[\d,]*(?:\.\d+)?!")


def _drop_remark(got: str) -> str:
    """`got` without a trailing remark (`7 (seven)`, `7; I am sure`), unless the remark takes the
    answer back or hedges it (`12 (wrong)`, `18; not really`, `18 (just kidding)`, see
    `math_normalize.retracts`) or names another value (`2 (three)`, `2; three if we count the
    endpoint`, `Monday (Tuesday)`, see `_names_another_value`): then it stays part of the answer,
    which no longer reads as 12. Since rules 29 also without a value it refuses ("13, not 12", "13
    rather than 12", see `math_retraction.without_refused`) and without a bracket breaking its
    number down in words (`13 (12 students and 1 teacher)`, see `math_restatement.breakdown_start`)."""
    got = _drop_refused(got)
    m = _REMARK_RE.search(got)
    if m is None or retracts(m.group()) or _names_another_value(got[:m.start()], m.group()) or _qualifies(m.group()):
        return got
    return got[:m.start()]


def _drop_refused(got: str) -> str:
    """`got` less a value it refuses after itself ("13, not 12", see
    `math_retraction.without_refused`) and less a bracket breaking its number down in words (`13
    (12 students and 1 teacher)`, see `math_restatement.breakdown_start`): rules 29."""
    got = without_refused(got)
    breakdown = breakdown_start(got)
    return got if breakdown is None else got[:breakdown]


#: Words that make a remark qualify the answer rather than comment on it (rules 19): an
#: approximation or bound (`12 (approx)`, `12 (upper bound)`), a hedge (`12 (tentative)`, `12; I
#: think`) or another base (`12 (hex)` is 18). Such a remark stays part of the answer, which then
#: reads as no plain 12: dropped, it made a hedged or other value pass for the gold.
_QUALIFIERS = DOUBT_WORDS | frozenset(
    "approx approximately approximate approximation about around roughly nearly almost upper lower least most "
    "max maximum min minimum think believe suppose assume hex hexadecimal binary octal base radix".split())


def _qualifies(remark: str) -> bool:
    """Whether a remark after an answer qualifies it (see `_QUALIFIERS`)."""
    return any(word.lower() in _QUALIFIERS for word in re.findall(r"[A-Za-z]+", without_case_phrases(remark)))


_SMALL_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}
#: Word answers of a closed kind: a remark naming another one of them is another answer.
_ANSWER_WORDS = frozenset(
    "yes no true false monday tuesday wednesday thursday friday saturday sunday january february march "
    "april may june july august september october november december north south east west left right "
    "odd even positive negative".split())


def _spelled_number(words: list[str]) -> int | None:
    """The whole number one run of English number words spells (`twenty-one`, `three hundred and
    five`), or None when the run is not one number (`seven seven`)."""
    total = current = 0
    last = None  # "small", "tens" or "scale": what may follow what
    for w in words:
        if w in _SMALL_NUMBERS and last in (None, "tens", "scale"):
            if last == "tens" and _SMALL_NUMBERS[w] >= 10:
                return None
            current += _SMALL_NUMBERS[w]
            last = "small"
        elif w in _TENS and last in (None, "scale"):
            current += _TENS[w]
            last = "tens"
        elif w in _SCALES and last in ("small", "tens"):
            if _SCALES[w] == 100:
                current *= 100
            else:
                total, current = total + current * _SCALES[w], 0
            last = "scale"
        elif w == "and" and last == "scale":
            continue
        else:
            return None
    return None if last is None else total + current


def spelled_answer(norm: str) -> str | None:
    """The digits of a normalised answer that is wholly a whole number in words ("five",
    "twenty-five", "one hundred and five"), else None. Why: "The answer is five." answers 5, and
    read as words it would be no maths at all."""
    words = norm.strip().rstrip(".!").lower().replace("-", " ").split()
    if not words or len(words) > 12:
        return None
    spelled = _spelled_number(words)
    return str(spelled) if spelled is not None else None


def _names_another_value(answer: str, remark: str) -> bool:
    """True when a remark after `answer` names a value other than it: a spelled number that is not
    the answer's (`2 (three)`; `7 (seven)` only restates 7), a word that changes the value
    (`20 (tenfold)`, `20; in thousands`, see `math_normalize.changes_value`), or another word answer of a closed kind
    when the answer is a word itself (`Monday (Tuesday)`, `Yes (false)`)."""
    spelled = re.findall(r"[A-Za-z]+", remark.replace("-", " "))
    words = [w.lower() for w in spelled]
    said = answer.strip().strip("$").strip().lower()
    runs: list[list[str]] = [[]]
    for w, as_written in zip(words, spelled):
        if w in _SMALL_NUMBERS or w in _TENS or w in _SCALES or (w == "and" and runs[-1]):
            runs[-1].append(w)
            continue
        if changes_value(as_written):  # `20 (tenfold)`, `20; in thousands`, `20 (squared)`
            return True
        if runs[-1]:
            runs.append([])
    for run in runs:
        while run and run[-1] == "and":
            run.pop()
        if run and not _same_number(_spelled_number(run), said):
            return True
    return word_answer(said) is not None and any(w in _ANSWER_WORDS and w != said for w in words)


def _same_number(value: int | None, said: str) -> bool:
    try:
        return value is not None and float(said.replace(",", "")) == value
    except ValueError:
        return False


def _looks_like_math(said: str) -> bool:
    """True when what "the answer is" said reads as an answer, not a remark about it ("correct",
    "reasonable because …"): it has a digit, a LaTeX command or `$`, is a single letter or choice
    ("(B)"), or is a short word answer that is not a judgement ("yes", "Monday")."""
    if any(c.isdigit() or c in "\\$" for c in said) or _ONE_LETTER_RE.match(said):
        return True
    words = said.split()
    return len(words) <= 3 and word_answer(said) is not None and words[0].lower().strip(".,!") not in _JUDGEMENTS


#: The heads whose answer may be a whole sentence: "Final Answer: Janet makes $18 every day.",
#: "Answer: There are 12 apples." (not "the answer is …", where words after a number say more).
_FINAL_HEAD_RE = re.compile(r"final\s+answer|answer\s*:", re.IGNORECASE)
#: A word of prose: two letters or more (a lone letter may be a variable), or an apostrophe word.
_SENTENCE_WORD_RE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}(?:'[A-Za-z]+)?(?![A-Za-z])")


def _sentence_value(said: str) -> str | None:
    """"" when `said`, the text after "Final Answer" or "Answer:", is a sentence of prose (it begins
    with a word and holds a digit: "Janet makes $18 every day."), which names no answer; None when
    it is no sentence (maths, a number first, a word answer, a choice), read as before.

    Read as maths, a sentence's words were a product of letters (J·a·n·e·t · 18 · …). Reading the
    value it names instead was tried (rules version 16's first draft) and scored wrong answers right:
    "It cannot be 12.", "Twice the number is 12.", "It is 12 plus tax.", "Each ticket costs $12 for
    a total of $48." So such a sentence is no answer (unparsable), never its words."""
    s = said.strip()
    words = _SENTENCE_WORD_RE.findall(_INLINE_MATHS_RE.sub(" ", s))
    first = _SENTENCE_WORD_RE.match(s)
    if (not any(c.isdigit() for c in s) or first is None or len(words) < 2
            or first.group().lower() in _MATH_WORDS or _CHOICE_START_RE.match(s)):
        return None
    return ""


#: A choice label first ("Option B …", "(B) …", "B. …"): a choice answer, read as such elsewhere.
_CHOICE_START_RE = re.compile(r"\s*(?:(?:option|choice)\s*\(?[A-Ea-e]\b|\(?[A-E][).:](?:\s|$))", re.IGNORECASE)


@lru_cache(maxsize=64)  # (64 texts of a batch; few enough that long outputs hold little memory)
def _said_answer(text: str) -> str | None:
    """What the last "the answer is …" (or "Final Answer" heading) in `text` says that reads as an
    answer (see `_looks_like_math`): "The answer is 42. Let me verify the answer is correct." is 42.
    When none reads as one, the last thing said. (Cached: extraction and `stated_answers` both ask
    it of the same text, and its scan over the whole text is most of an extraction's cost.)"""
    return _last_said(_statements(text))


def _statements(text: str) -> list[tuple[int, int, str, bool, bool]]:
    """Every "the answer is …" (or "Final Answer" heading) in `text`, in order: where it starts and
    ends, what it says, whether it is a final-answer head (see `_FINAL_HEAD_RE`), and whether it
    is a label ("Final Answer: 5", "Answer: 5", a heading with the answer under it) rather than a
    sentence ("the answer is 5", "the final answer is 5"; see `_label_and_sentence`)."""
    found = [(m.start(), m.end(1), m.group(1), _FINAL_HEAD_RE.match(m.group()) is not None,
              _IS_HEAD_RE.search(m.group()[:m.start(1) - m.start()]) is None) for m in _ANSWER_IS_RE.finditer(text)]
    if "nswer" in text:
        found += [(m.start(), m.end(1), m.group(1), True, True) for m in _HEADING_RE.finditer(text)]
        found.sort()
    return found


#: The verb of a statement in sentence form ("the answer is"), not a label's colon.
_IS_HEAD_RE = re.compile(r"\bis\b", re.IGNORECASE)


def _last_said(found: list[tuple[int, int, str, bool, bool]]) -> str | None:
    """What the last of the statements `found` (see `_statements`) says that reads as an answer
    (see `_said_answer`); the last thing said when none reads as one; None for a last statement
    that is a sentence naming no one value."""
    said: list[tuple[str, bool]] = []  # (what was said, whether it is a sentence that says no value)
    for _, _, g, final, _ in found:
        got = _reread(g)
        if got and final and not _ANSWER_HEAD_RE.search(g):  # (a nested "the answer is" was re-read)
            value = _sentence_value(got)
            if value is not None:
                said.append((value, not value))
                continue
        if got:
            said.append((got, False))
    for got, unreadable in reversed(said):
        if unreadable:
            return None  # the last statement is a sentence naming no one value: no answer, not its words
        if _looks_like_math(got):
            return got
    return said[-1][0] if said else None


def stated_answers(text: str) -> list[str] | None:
    """Every final answer a text without boxes or tags states: each `#### n` line, and its last
    "the answer is …" when that reads as a value (as `said_after` reads one), when these are more
    than one; without `####`, the last "the answer is" and a correction after it that names another
    value ("The answer is B. Actually, it's C.", see `_corrected_statement`); after the last `####`
    line, a correction or retraction there that names another value ("#### 18\\nWait, no, it's 20.",
    see `_correction`); without `####`, when no correction is found, the last "Final Answer"/"Answer:"
    label or heading and the last "the answer is" sentence when they state different values
    ("The answer is 6.\n\nFinal Answer: 5", math rules 31: see `_label_and_sentence`); None otherwise
    (`extract_here` then reads the answer). Why: "The answer is 5.\\n#### 6"
    and "#### 5\\n#### 6" offer two answers, a hedge as a box and a later different answer are
    (`final_boxes`), not whichever one the extraction rules happen to read first."""
    if "####" not in text:  # (no `#### n` line: a correction after "the answer is", or a label besides it)
        return _corrected_statement(text) or _label_and_sentence(text)
    text = strip_markdown(text)
    marks = list(_GSM_RE.finditer(text))
    gsm = [_drop_remark((_said_answer(m.group(1)) or m.group(1)).strip()).strip() for m in marks]  # (`#### The answer is 6`: 6)
    if not gsm:
        return None
    said = _said_answer(text)
    if said is not None and not _states_value(said):
        said = None
    found = ([said] if said is not None else []) + gsm
    tail = text[marks[-1].end():]
    corrected = _alternative(tail, gsm[-1]) or _correction(tail, gsm[-1], text[:marks[-1].end()])  # "#### 18\nor 20", "#### 18\nWait, no, it's 20."
    if corrected is not None and normalize(corrected) != normalize(gsm[-1]):
        found.append(corrected)
    return found if len(found) > 1 else None


def _corrected_statement(text: str) -> list[str] | None:
    """The last "the answer is …" of a text without boxes or tags that reads as an answer, and the
    correction after it (see `_correction`) or "or …" right after it (see `_alternative`: "The
    answer is 18.\nor 20") when that names another value: "The answer is B. Actually, it's C."
    offers two answers, not B; None otherwise."""
    lowered = text.lower()
    if not any(w in lowered for w in ("answer", "option", "choice")):
        return None
    if not any(w in lowered for w in _CORRECTION_WORDS):
        # A retraction, a second answer and "or …" are read only after the last statement (see
        # `_correction`): words that hint at one in the working before it ("no, wait", "sorry",
        # "it's") say nothing, and must not cost a scan of the whole text for statements.
        after = lowered[_last_statement_at(lowered):]
        if not (might_retract(after) or might_offer(after) or _OR_WORD_RE.search(after)):
            return None
    text = strip_markdown(text)
    last = None
    for m in _ANSWER_IS_RE.finditer(text):
        got = _reread(m.group(1))
        if got and _looks_like_math(got):
            last = (got, m.end())
    if last is None:
        return None
    tail = text[last[1]:]  # "or 20" right after the statement ("The answer is 18.\nor 20"), or a correction
    corrected = _alternative(tail, last[0]) or _correction(tail, last[0], text[:last[1]])
    if corrected is None or normalize(corrected) == normalize(last[0]):
        return None
    return [last[0], corrected]


def _label_and_sentence(text: str) -> list[str] | None:
    """The answers a text without boxes, tags or `####` states in both forms when they differ: its
    last "Final Answer"/"Answer:" label or heading and its last "the answer is" sentence (each read
    as `_said_answer` reads the last statement), as "The answer is 5.\n#### 6" offers two answers
    (audit 37: "The answer is 6.\n\nFinal Answer: 5", "Final Answer: 6\n\nThe answer is 5."). Not
    when a retraction stands between them ("The answer is 6. Wait, no.\n\nFinal Answer: 5": the
    later one is the correction), nor when either names no value (a remark, a sentence of prose
    under the label); None then and without both forms. Statements of one form keep the last word
    ("The answer is 6. Wait, no, the answer is 5." is 5)."""
    lowered = text.lower()
    if "answer" not in lowered or not (":" in text or "\n" in text):
        return None  # (a label needs its colon or its line)
    text = strip_markdown(text)
    found = _statements(text)
    labels, sentences = [f for f in found if f[4]], [f for f in found if not f[4]]
    if not labels or not sentences:
        return None
    said = [_last_said(labels), _last_said(sentences)]
    if any(s is None or not _states_value(s) for s in said) or normalize(said[0]) == normalize(said[1]):
        return None
    first, later = sorted((labels[-1], sentences[-1]))
    between = text[first[1]:later[0]]
    if might_retract(between.lower()) and any(_RETRACTING_RE.search(m.group()) for m in _RUN_RE.finditer(between)):
        return None  # "The answer is 6. Wait, no.\n\nFinal Answer: 5": the label corrects the sentence
    return said


_OR_WORD_RE = re.compile(r"\bor\b")
#: What follows "answer", "option" or "choice" where a statement opens ("is", ":", "="), past
#: spacing and emphasis (`**Answer:**`): looser than `_ANSWER_HEAD_RE`, which reads the text with
#: its emphasis marks removed. Matched only right after such a word, whose runs are disjoint: linear.
_HEAD_MARK_RE = re.compile(r"[\s*_]*(?:is|:|=)")


def _last_statement_at(lowered: str) -> int:
    """Where in `lowered` (a lowercased text) the last "answer"/"option"/"choice" that may open a
    statement (see `_HEAD_MARK_RE`) stands; 0 without one. Whatever `_correction` reads after the
    text's last statement lies after it."""
    at = 0
    for word in ("answer", "option", "choice"):
        k = lowered.rfind(word)
        while k > at:
            if _HEAD_MARK_RE.match(lowered, k + len(word)):
                at = k
                break
            k = lowered.rfind(word, 0, k)
    return at


def _states_value(said: str) -> bool:
    """Whether what "the answer is" said is a value, not a remark ("straightforward", "boxed
    above", "about 0.33"): maths (a digit, LaTeX), a number in words, or a word answer of a closed
    kind ("yes", "Monday")."""
    if len(said) > 200 or _POINTS_BACK_RE.search(said) or _APPROXIMATE_RE.search(said):
        return False
    if any(c.isdigit() or c == "\\" for c in said) or spelled_answer(said) is not None:
        return True
    return said.strip().rstrip(".!").lower() in _ANSWER_WORDS


#: A plain number as `normalize` writes one (`12`, `-3.5`, `10%`, `\\frac{1}{2}`, `1/2`; no words).
_PLAIN_NUMBER_RE = re.compile(r"-?(?:\d+(?:\.\d+)?|\.\d+)(?:\\?%)?|-?\\frac\{\d+\}\{\d+\}|-?\d+/\d+")


def _tag_answers(inner: str, hedges: bool = False) -> list[str]:
    """The answers one `<answer>` tag's content commits to: its boxes (several are a hedge), else
    what it says the answer is, else the content itself when it reads as a bare answer; [] when it
    yields none (empty, or prose).

    With `hedges` (rules 18), the content is read as a whole output is for hedge detection: an
    answer stated after its last box (`\\boxed{12} or 13`, `\\boxed{12}\\n#### 13`, "\\boxed{12}
    Actually, it's 13.", see `final_boxes`), and, without boxes, several `####` lines or a
    correction after "the answer is" ("The answer is 12. Actually, it's 13.", see
    `stated_answers`), are answers of the tag too. Until rules 18 only the boxes were read there,
    and the first answer was graded alone. A `#### n` line alone in a tag is its answer (rules 18)."""
    if hedges:
        boxed, said_later = final_boxes(inner)
        if boxed:
            return [b.strip() for b in boxed] + ([said_later] if said_later is not None else [])
        stated = stated_answers(inner)
        if stated:
            return stated
    boxed = [b.strip() for b in all_boxed(inner)]
    if boxed:
        return boxed
    said = _said_answer(inner)
    if said:
        return [said]
    gsm = _GSM_RE.findall(inner)
    if gsm:  # `<answer>#### 12</answer>` (rules 18), `<answer>#### 12 (twelve)</answer>` (rules 19)
        return [_drop_remark(gsm[-1].strip()).strip()]
    inner, norm = inner.strip(), normalize(inner)
    if norm and looks_like_bare_answer(norm):
        return [inner]
    hinted = inner.endswith(")") or any(w in inner for w in ("not", "rather", "instead"))
    kept = _drop_refused(inner) if hinted else inner
    if kept != inner and looks_like_bare_answer(normalize(kept)):
        return [kept.strip()]  # `12, not 13`, `12 (6 boys and 6 girls)`: as "the answer is" reads them (review of rules 29)
    # a number and what it counts (`12 cupcakes`): the answer, whose words a number gold drops
    # (`_plain_word_tail`); any other gold compares them as written
    counted = normalize(inner, number_gold=True)
    return [inner] if counted != norm and _PLAIN_NUMBER_RE.fullmatch(counted) else []


def tagged_answers(text: str) -> list[list[str]]:
    """For each closed `<answer>…</answer>` whose content yields an answer (see `_tag_answers`), in
    order, the answers it holds; at most the last `MAX_BOXES` tags. When the text after the last
    one states a final answer again (a box, "the answer is", `#### n`, "or 4", see `_after_tag`),
    those answers come last, as one more tag's: `<answer>3</answer>\n\\boxed{4}` offers two.

    Only such a tag is trusted to hold the final answer: a mention of `<answer>` in prose, a tag
    left open (an echo of the instruction) or an empty or wordy one is not, and the other rules
    apply to the whole text. Several tags with different answers are a hedge, as boxes are."""
    found, end = _tags(text, hedges=True)
    if not found:
        return []
    later = _after_tag(text[end:], found[-1][-1])
    return found + [later] if later else found


def _tags(text: str, hedges: bool = False) -> tuple[list[list[str]], int]:
    """The answers of each trusted tag (see `tagged_answers`; `hedges` see `_tag_answers`), and
    where the last one ends."""
    if "<" not in text or not _ANSWER_CLOSE_RE.search(text):
        return [], 0
    found: list[list[str]] = []
    end = 0
    for m in _ANSWER_TAG_RE.finditer(text):
        got = _tag_answers(m.group(1), hedges)
        if got:
            found.append(got)
            end = m.end()
    return found[-MAX_BOXES:], end


#: Where a chat turn ends or another begins: a chat template's special tokens (ChatML, Llama 3,
#: Phi, DeepSeek-R1's `<｜end▁of▁sentence｜>` / `<｜User｜>`, Gemma's `<end_of_turn>` /
#: `<start_of_turn>`, an end-of-text or `</s>` token; group "token") or a line that opens a turn as
#: plain-text chat formats do ("Human:", "User:", "### Instruction"; group "plain").
_TURN_END_RE = re.compile(
    r"(?P<token><\|(?:im_end|im_start|eot_id|endoftext|end_of_text|start_header_id|end|user|assistant)\|>|</s>"
    r"|<\uff5c(?:end\u2581of\u2581sentence|User|Assistant)\uff5c>|<(?:end|start)_of_turn>)"
    r"|^[ \t]*(?P<plain>(?:Human|User)[ \t]*:|###[ \t]*Instruction\b)", re.IGNORECASE | re.MULTILINE)
#: A line that opens the model's reply in a plain-text chat format: only after one of these does a
#: "User:" line before it open a next turn (review of rules 21: "Human: 2 legs each", "User: 20 GB"
#: and a quoted "User: I have 3 apples.\nBot: ..." are lines of an honest answer).
_REPLY_LINE_RE = re.compile(r"^[ \t]*(?:Assistant|AI)[ \t]*:|^[ \t]*###[ \t]*Response\b", re.IGNORECASE | re.MULTILINE)
#: A code fence opening or closing a line (``` or ~~~): a marker inside a code block is quoted, no end of turn.
_FENCE_RE = re.compile(r"^[ \t]*(`{3,}|~{3,})", re.MULTILINE)
#: A run of backticks: an inline code span opens and closes with one (`` `</s>` ``, ``` ``</s>`` ```).
_TICKS_RE = re.compile(r"`+")
#: A reasoning block's tags (see `THINK_CLOSE`).
_THINK_TAG_RE = re.compile(r"</?think>")
#: How many plain-text "User:" lines `within_turn` checks for an answer before them (a bound on its cost).
_MAX_PLAIN_CHECKS = 8


def within_turn(text: str) -> str:
    """`text` up to where its chat turn ends (see `_TURN_END_RE`): a run-on output that writes the
    next user turn and answers it answers another question, so nothing past that point is read,
    neither as the answer nor as a hedge (rules 20; until then only the text after an `<answer>` tag
    was cut there). Markers before any text (`<|im_start|>assistant` opening the output) end no turn,
    nor does a marker quoted: in inline code (`` `</s>` ``, ``` ``</s>`` ```), a code block (fenced by
    ``` or ~~~, or a line indented by four spaces or a tab), or a reasoning block (`<think>…</think>`,
    or text before R1's `</think>` without its `<think>`: "the token </s> as a separator"), nor an
    HTML strike-through's `</s>` after its `<s>` (`<s>5</s> 6`, also over lines, however far back).
    A plain-text "User:"/"Human:" line, unquoted, ends the turn only when it is a run-on turn (review
    of rules 24: a quoted chat log or a prompt echo "System: …\nUser: …\nAssistant: \\boxed{12}"
    is none): the text before it holds an answer, a later line opens the reply ("Assistant:", "AI:";
    "### Response" after "### Instruction") with text after it, and no `</think>` follows it. On the
    same terms a few-shot "Question:"/"Q:"/"Problem:" line with an "Answer:"/"A:"/"Solution:" line
    after it ends the turn (audit 39, see `_fewshot_end`). Linear."""
    if ":" not in text and "<" not in text and "#" not in text:  # (no marker can be in it: most texts)
        return text
    text = _before_next_turn(text)
    end = _fewshot_end(text)
    return text if end is None else text[:end]


def _before_next_turn(text: str) -> str:
    """`within_turn` for the chat-role markers and "User:" lines (see `_TURN_END_RE`)."""
    if not _may_end_turn(text):  # (the regex's scan costs more than a verification's parse)
        return text
    opening: int | None = 0  # where the run of markers opening the text ends (None once text came)
    last_reply = last_think = blocks = thinks = strikes = None  # (looked for once, when first needed)
    plain_checks = 0
    ticks = [0, 0, 0]  # backtick runs counted on the line so far, where the count stopped, the line's start (see `_quoted`)
    for m in _TURN_END_RE.finditer(text):
        if opening is not None and not text[opening:m.start()].strip():
            opening = m.end()
            continue  # an opening marker, or one of a run of them, before any text
        opening = None
        if blocks is None:
            blocks = _code_blocks(text)
        if _quoted(text, m.start(), m.end(), blocks, ticks):
            continue  # "the EOS token is `</s>`": a marker quoted, no end of turn
        if m["plain"] is not None:
            if last_think is None:  # (looked for once: `last_reply` stays None when there is none)
                replies = list(_REPLY_LINE_RE.finditer(text))
                last_reply = replies[-1] if replies else None
                last_think = text.rfind(THINK_CLOSE)
            if last_reply is None or last_reply.start() < m.end() or last_think > m.start():
                continue  # "Human: 2 legs each": a line of the answer, no next turn
            if not text[last_reply.end():].strip() or plain_checks >= _MAX_PLAIN_CHECKS:
                continue  # an empty reply: no run-on turn
            plain_checks += 1
            if extract_here(text[:m.start()]) is None:
                continue  # a chat log quoted, a prompt echoed: no answer before it, no run-on turn
        else:
            if thinks is None:
                thinks = [(t.start(), t.group() == THINK_CLOSE) for t in _THINK_TAG_RE.finditer(text)] if "think>" in text else []
            if _in_reasoning(thinks, m.start()):
                continue  # "the token </s> as a separator" in the reasoning: quoted, no end of turn
            if m.group() == "</s>":
                if strikes is None:
                    strikes = ([t.start() for t in re.finditer("<s>", text)], [t.start() for t in re.finditer("</s>", text)])
                if _struck(strikes, m.start()):
                    continue  # a strike-through (`<s>5</s>`, `<s>$15\n(old)</s>`)
                if _eos_mentioned(text, m.start(), m.end()):
                    continue  # "the string a</s>b</s>c split on </s> gives 3": the token named in prose
        return text[:m.start()]
    return text


#: A few-shot prompt's question line, with text after its label ("Question: Tom has 3 bags…", "Q: What
#: is 3 × 2?", "Problem 2: …", "**Question:** …"), and its answer line ("Answer: 3*2=6", "A: …",
#: "Solution: …"): a base model that goes on in the prompt's format after answering writes both (audit 39).
_QUESTION_LINE_RE = re.compile(r"^[ \t>]{0,4}[*_]{0,2}(?:question|q|problem)(?:[ \t]{0,2}\d{1,3})?[*_]{0,2}[ \t]*:[*_]{0,2}[ \t]*\S",
                               re.IGNORECASE | re.MULTILINE)
_ANSWER_LINE_RE = re.compile(r"^[ \t>]{0,4}[*_]{0,2}(?:answer|a|solution)[*_]{0,2}[ \t]*:[*_]{0,2}[ \t]*\S",
                             re.IGNORECASE | re.MULTILINE)


def _fewshot_end(text: str) -> int | None:
    """Where a few-shot run-on starts in `text` (audit 39), or None: a `Question:`/`Q:`/`Problem:` line
    with an `Answer:`/`A:`/`Solution:` line after it, on the terms of the plain "User:" line (see
    `within_turn`): unquoted (not in a code block, inline code or an indented code line), with no
    `</think>` after it, and an answer given before it ("#### 12\n\nQuestion: Tom has 3 bags…\nAnswer:
    3*2=6\n#### 6" answers 12; a question the model restates before answering is no run-on). At
    most `_MAX_PLAIN_CHECKS` lines are checked for an answer before them: linear."""
    folded = text.casefold()
    if not any(w in folded for w in ("question", "q:", "problem")):
        return None
    answers = list(_ANSWER_LINE_RE.finditer(text))
    if not answers:
        return None
    last_answer, last_think = answers[-1].start(), text.rfind(THINK_CLOSE)
    blocks, ticks, checks = _code_blocks(text), [0, 0, 0], 0
    for q in _QUESTION_LINE_RE.finditer(text):
        if q.start() >= last_answer or checks >= _MAX_PLAIN_CHECKS:
            return None
        if last_think > q.start() or _quoted(text, q.start(), q.end(), blocks, ticks):
            continue
        checks += 1
        if extract_here(text[:q.start()]) is not None:
            return q.start()
    return None


#: Literal pieces, case-folded, one of which every match of `_TURN_END_RE` holds.
_TURN_END_HINTS = ("<|", "</s>", "<\uff5c", "_of_turn>", "human", "user", "instruction")


def _may_end_turn(text: str) -> bool:
    """Whether `text` may hold a turn end (`_TURN_END_RE`): one of `_TURN_END_HINTS` is in it. A few
    substring searches rule out most texts (GSM8K's `<<3*4=12>>` and `####` included) for a
    fraction of what the case-insensitive, line-anchored pattern's scan costs."""
    folded = text.casefold()  # (as the pattern's IGNORECASE: "ſ" is an "s" there too)
    return any(hint in folded for hint in _TURN_END_HINTS)


def _eos_mentioned(text: str, start: int, end: int) -> bool:
    """Whether the unquoted `</s>` at `text[start:end]` is named in prose, not the end of the turn
    (review of rules 26): inside a word with another `</s>` later on its line ("a</s>b</s>c", a string
    of tokens), or between spaces with a lowercase word after it ("split on </s> gives"). A model's
    end-of-sequence token is followed by a new line, a marker or a next turn's capitalised text.
    Linear: each check reads only up to the next `</s>` or the next few characters."""
    before = text[start - 1:start]
    if before.isalnum() and text[end:end + 1].isalnum():
        following = text.find("</s>", end)
        return following >= 0 and "\n" not in text[end:following]
    return before in (" ", "\t") and re.match(r"[ \t]+[a-z]", text[end:end + 40]) is not None


def _in_reasoning(thinks: list[tuple[int, bool]], at: int) -> bool:
    """Whether `at` lies in a reasoning block: after a `<think>`, or before the first `</think>` with
    no `<think>` before it (R1 opens the block in the prompt), with a `</think>` after it. `thinks`:
    the blocks' tags in order, as (position, whether it closes)."""
    if not thinks or next((p for p, closes in reversed(thinks) if closes), -1) < at:
        return False
    i = bisect.bisect_left(thinks, (at, False))
    return i == 0 or not thinks[i - 1][1]


def _struck(strikes: tuple[list[int], list[int]], at: int) -> bool:
    """Whether the `</s>` at `at` closes an HTML strike-through: an `<s>` before it with no `</s>`
    between them. `strikes`: the positions of all `<s>` and all `</s>`, in order."""
    opens, closes = strikes
    i = bisect.bisect_left(opens, at)
    if i == 0:
        return False
    opened = opens[i - 1]
    return bisect.bisect_left(closes, at) == bisect.bisect_left(closes, opened)


def _code_blocks(text: str) -> list[int]:
    """Where the fenced code blocks of `text` open and close, in order (a block opens at an odd
    index): a fence (``` or ~~~) closes only at a fence of its own kind at least as long; a block
    left open runs to the end of the text."""
    if "```" not in text and "~~~" not in text:
        return []
    bounds: list[int] = []
    fence = ""
    for f in _FENCE_RE.finditer(text):
        if not fence:
            fence = f.group(1)
            bounds.append(f.start())
        elif f.group(1)[0] == fence[0] and len(f.group(1)) >= len(fence):
            fence = ""
            bounds.append(f.start())
    return bounds


def _quoted(text: str, start: int, end: int, blocks: list[int], ticks: list[int]) -> bool:
    """Whether `text[start:end]` stands in inline code (an odd number of backtick runs before it on
    its line, one after it at most 200 characters away), on a line indented as code (four spaces or
    a tab), or in a code block (after an odd number of `blocks` bounds). `ticks` carries the count
    of backtick runs on the line up to where it was last asked, where the count stopped and where
    that line starts (reset at a line break), so that the calls of one pass over `text` stay linear."""
    if bisect.bisect_right(blocks, start) % 2:
        return True
    count, counted, line_start = ticks
    line_break = text.rfind("\n", counted, start)
    if line_break >= 0:
        count, counted, line_start = 0, line_break + 1, line_break + 1
    count += sum(1 for _ in _TICKS_RE.finditer(text, counted, start))
    ticks[:] = [count, start, line_start]
    if text.startswith(("    ", "\t"), line_start):
        return True  # an indented code line: `    parts = s.split("</s>")`
    line_end = text.find("\n", end, end + 200)
    return count % 2 == 1 and "`" in text[end:line_end if line_end >= 0 else end + 200]


def _after_tag(tail: str, answer: str) -> list[str]:
    """The answers `tail`, the text after the last trusted tag, states as final answers: its boxes
    and an answer stated after them (see `final_boxes`), else an answer stated in words (see
    `said_after`: "or 4", "the answer is 4", `#### 4`, "actually, it's 4"). Ordinary prose states none.
    The tail ends where a chat turn does (see `_TURN_END_RE`): a run-on output that goes on to write
    the next user turn and answers it answers another question, not this one again."""
    turn_end = _TURN_END_RE.search(tail)
    if turn_end is not None:
        tail = tail[:turn_end.start()]
    if not tail.strip():
        return []
    boxed, said = final_boxes(tail)
    if boxed:
        return [b.strip() for b in boxed] + ([said] if said is not None else [])
    said = said_after(tail, answer)
    return [said] if said is not None else []


def answer_tag(text: str) -> str | None:
    """The stripped content of the last closed `<answer>…</answer>` that yields an answer (see
    `tagged_answers`), else None. When there is one, it alone holds the final answer: a
    `\\boxed{5}` in the reasoning before `<answer>6</answer>` is neither the answer nor a hedge."""
    if "<" not in text or not _ANSWER_CLOSE_RE.search(text):
        return None
    for inner in reversed(_ANSWER_TAG_RE.findall(text)):
        if _tag_answers(inner):
            return inner.strip()
    return None


#: The end of a reasoning block (`<think>…</think>`, as R1-style models write).
THINK_CLOSE = "</think>"


def after_reasoning(text: str) -> str:
    """The part of `text` after its last `</think>` when that part commits to an answer (a box, a
    trusted `<answer>` tag, "the answer is …" or `#### n` that reads as an answer and does not
    point back to one, "the answer is boxed above", or a bare answer), else `text` itself (nothing
    after the block, only an end-of-proof mark, or no answer). Either way only the text up to the
    end of its chat turn is read (see `within_turn`).

    What a model writes inside its reasoning block is reasoning: a `\\boxed{41}` tried there is
    neither the answer nor a hedge when the text after the block answers 42. Only when nothing after
    the block reads as an answer are the boxes inside it looked at."""
    read = _after_block(within_turn(text))
    return "" if _retracted(read) else read


def _after_block(text: str) -> str:
    """`after_reasoning` before its check for a retracted answer."""
    end = text.rfind(THINK_CLOSE)
    if end < 0:
        return text
    tail = text[end + len(THINK_CLOSE):]
    if not tail.strip():
        return text
    if not _ALPHANUMERIC_RE.search(_END_MARKS_RE.sub("", tail)):
        return text  # only an end-of-proof mark or sign-off (`$\\blacksquare$`, Q.E.D., Done.) after the block
    said = extract_here(tail)
    if said is not None:  # what the tail says, unless it points back ("the answer is boxed above")
        return tail if _looks_like_math(said) and not _POINTS_BACK_RE.search(said) else text
    return tail if looks_like_bare_answer(normalize(tail)) else text


#: A judgement right after "answer is" ("That answer is wrong.", "the answer is not right"; since
#: audit 40 also "the answer is right/unchanged": a retraction before it is read, and the judgement
#: is one of `math_retraction._stands`, so "The answer is right, but I forgot …" keeps it taken back):
#: no answer stated there (review of audit 39).
_JUDGED_HEAD_RE = re.compile(r"[ \t]*(?:(?:definitely|clearly|probably|obviously|still|indeed|also)[ \t]+)?"
                             r"(?:wrong|incorrect|not[ \t]+(?:right|correct)|right|correct|fine|valid|unchanged|unaffected"
                             r"|the[ \t]+same|confirmed)\b", re.IGNORECASE)


#: Characters read after a final answer's marker by `_may_retract` (the retraction is read in the
#: sentences right after the answer: `math_retraction._WINDOW` each).
_RETRACTION_READ = 8 * 240


def _may_retract(text: str) -> bool:
    """A cheap first check for `_retracted`: a retraction's words (`might_take_back`) in the text's
    end or right after its last box, `####` or "answer" (a retraction right after the answer and then
    a long working cut at the token limit ends far from it), and no `<answer>` tag there."""
    starts = {max(text.rfind(mark), 0) for mark in ("box", "####", "nswer")} | {max(len(text) - _RETRACTION_READ, 0)}
    pieces = [text[start:start + _RETRACTION_READ].lower() for start in starts]
    return any(might_take_back(piece) for piece in pieces) and not any("<answer>" in piece for piece in pieces)


def _retracted(text: str) -> bool:
    """Whether the final answer of `text` (its last box, "the answer is" or `#### n`, whichever is
    last; not an `<answer>` tag's) is taken back with no other after it (audit 39, see
    `math_retraction.answer_retracted`): then the text holds no answer the model stands by, and
    `after_reasoning` gives "" (no final answer: unparsable)."""
    if not _may_retract(text):
        return False
    spans = _box_spans(text)
    at = spans[-1][2] + 1 if spans else -1
    gsm = text.rfind("####")
    if gsm > at:
        line = text.find("\n", gsm)
        at = len(text) if line < 0 else line
    if "nswer" in text[max(at, 0):]:
        for m in _ANSWER_HEAD_RE.finditer(text, max(at, 0)):
            if not _JUDGED_HEAD_RE.match(text, m.end()):  # "That answer is wrong.": a judgement, no answer
                at = m.end()
    if at < 0:
        return False
    answer = extract_here(text)
    if answer is None or not answer_retracted(text[at:], answer):
        return False
    later = said_after(text[at:], answer)  # "Hmm, that's not right. Let me redo: 4*5 = 20. So 20.": a hedge
    return later is None or normalize(later) == normalize(answer)


#: End-of-proof marks and sign-offs, which answer nothing.
_END_MARKS_RE = re.compile(r"\\(?:blacksquare|square|qed|Box|end\{document\})|\bq\.?\s?e\.?\s?d\b\.?|\b(?:done|finished)\b"
                           r"|\u220e|\u25a1", re.IGNORECASE)
_ALPHANUMERIC_RE = re.compile(r"[A-Za-z0-9]")
#: What says the answer was given before rather than giving it.
_POINTS_BACK_RE = re.compile(r"\b(?:box(?:ed)?|above|before|earlier|previous(?:ly)?)\b", re.IGNORECASE)


def extract_answer(text: str, *, fallback: str | None = None) -> str | None:
    """The final answer in `text` as a string, or None when the model committed to none.

    Args:
        text: a model output. A bare answer ("12", "Monday") has none of the markers looked for and
            gives None: `verify` takes such a short text as its own answer itself.
        fallback: None (strict, default) or "last_number" to fall back to the last number.
    """
    if not isinstance(text, str) or not text:
        return None
    return extract_here(after_reasoning(text), fallback=fallback)


def extract_here(text: str, *, fallback: str | None = None) -> str | None:
    """`extract_answer` on `text` as it is: a reasoning block in it is not looked for (the caller
    has already chosen the part to read with `after_reasoning`)."""
    text = strip_markdown(text)
    tagged, _ = _tags(text)
    if tagged:  # the answer is read inside the last trusted tag only
        return tagged[-1][-1]
    boxed = all_boxed(text)
    if boxed:
        return boxed[-1].strip()
    said = _said_answer(text)
    gsm = _GSM_RE.findall(text)
    if said and (not gsm or _states_value(said)):
        return said
    if gsm:  # (also after a remark: "I think the answer is straightforward.\n#### 6" is 6)
        return _drop_remark(gsm[-1].strip()).strip()  # (`#### 12 (twelve)` is 12, as "the answer is" reads it)
    if fallback == "last_number":
        nums = _NUMBER_RE.findall(text)
        if nums:
            return nums[-1]
    elif fallback is not None:
        raise ValueError(f"unknown fallback {fallback!r}; use None or 'last_number'")
    return None


_MATH_WORDS = {"and", "sin", "cos", "tan", "cot", "sec", "csc", "log", "exp", "sqrt", "arcsin", "arccos",
               "arctan", "sinh", "cosh", "tanh", "inf", "infty", "infinity", "gcd", "lcm", "max", "min",
               "det", "floor", "ceil"} | _MATH_NAMES


#: A plain number, which may be long (`2^{1000}` written out has 302 digits) and is still a bare
#: answer (see `looks_like_bare_answer`).
_LONG_NUMBER_RE = re.compile(r"[-+\u2212]?\d[\d,]*(?:\.\d+)?")


def looks_like_bare_answer(text: str) -> bool:
    """True when `text` (already normalised) is the answer itself: short and without words, or a
    word answer of at most three words ("yes", "Monday", "no solution"), or a choice label with its
    option's text ("(E) none of these"), or a plain number of any length (a number of more than 200
    digits was "no final answer found"; one longer than the grader reads is refused later as too
    long, never cut)."""
    s = text.strip()
    if _LONG_NUMBER_RE.fullmatch(s):
        return True
    if len(s) > 200 or "\n" in s:
        return False
    if word_answer(s) is not None and len(s.split()) <= 3:
        return True
    if re.match(r"\(?[A-E]\)\s", s) and len(s) <= 80:
        return True
    words = re.findall(r"[A-Za-z]{3,}", re.sub(r"\\(?:begin|end)\{[^}]*\}|\\[A-Za-z]+", " ", s))
    return all(w.lower() in _MATH_WORDS for w in words)
