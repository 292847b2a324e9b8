"""Finding the final answer in a model's text, for the procedural environments' own verifiers.

Chat-style prompts ask for the answer inside `<answer>...</answer>`; the outcome check is lenient
(it also takes a `\\boxed{...}` or the last line, and a tag holding only a `\\boxed{...}` gives the
box's content), while the `format` reward part credits only the requested tags. An `<answer>`
mentioned in the prose before the answer's own tag is not part of it, nor is an empty pair such as
the prompt's own "<answer></answer>" quoted back (`tagged_answers`). Compact prompts (for tiny
character-level models) take the first non-blank line of the output as the answer.
"""

from __future__ import annotations

import re
from fractions import Fraction

from rlvr.verifiers.math_extract import closing_brace as _closing_brace, last_boxed
# the answer-tag rules' reading of tags and their format rule (private there; shared so the envs'
# answer, their `format` part and `shaping.answer_tag_reward` read the same tags in the same part)
from rlvr.verifiers.shaping import _answer_tags, answer_part, answer_tag_reward, enclosing_markup

#: Most digits the exponent of a number read here may have, in a model's answer or a task's gold:
#: `Fraction("1e99999999999")` would compute 10**99999999999 in this process (an answer is never
#: a number that size), and `Fraction("1e30000000")` takes about a minute.
MAX_EXPONENT_DIGITS = 3
#: A decimal number, its exponent of at most `MAX_EXPONENT_DIGITS` digits.
_NUMBER = re.compile(rf"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{{1,{MAX_EXPONENT_DIGITS}}})?$")
#: The exponent of a number `Fraction` reads ("1e5", "2.5E-1_000"), for `check_gold`.
_EXPONENT = re.compile(r"[eE][+-]?([\d_]+)")
#: A signed number in one pair of brackets ("(-5)", "(+7)"), as models write a negative answer.
_BRACKETED_SIGNED = re.compile(r"\(([+-][^()]*)\)")
#: Dashes read as the minus sign: the typeset minus U+2212 and the en dash U+2013 ("−5", "–5").
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2013": "-"})
#: A number written with thousands separators ("1,000", "-12,345.5"): the only commas removed.
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_SPACE = re.compile(r"\s+")
_NON_SPACE = re.compile(r"\S")
#: Longest answer `parse_number` reads (after the variable and spaces are removed). Exponents have
#: at most 3 digits and Python reads ints of up to 4300 digits, so this bounds the work; it is well
#: above any gold the procedural generators make (Arithmetic: at most 8 factors of 12 digits).
MAX_NUMBER_CHARS = 4096
#: Version of the answer-reading rules (`final_answer`, `parse_number`), in the fingerprint of the
#: procedural envs that score with them: bump it whenever a change can turn a verdict (1: no key;
#: 2: the typeset minus "−5" and a trailing comma "10," are read; 3: an `<answer>` mentioned before
#: the answer's own tag is skipped, a tag holding only `\boxed{14}` answers 14, compact answers
#: skip whitespace-only lines, and Countdown reads "13 = 8 + 5", "8 + 5 == 13", "8 + 5." and
#: refuses "#" comments; 4: an empty `<answer></answer>` is no answer (nor format credit); markup
#: enclosing a whole answer ("**7**", "\\(7\\)", Countdown's "$8 + 4 + 4$") is read through; a space
#: or "$" between digits of any script, or next to a comma between them, leaves no number ("1 ٢",
#: "1, 234", "1$2"); Countdown's "1 = 8/8" takes the bare target "1" as the number; Sort reads
#: "0-1-5-7" as 0 1 5 7 when the task's values are all non-negative; 5: the variable may stand
#: on the right of "=": LinearEquation reads "8 = x" as 8; 6: Countdown reads the LaTeX operators
#: `\times`, `\cdot`, `\div`, the dots `·` `⋅` and `\left( \right)`, and the "boxed" `format` part of
#: the registered and maths envs (`envs.custom`) credits the last box that holds something, an
#: empty `\boxed{}` or `\boxed{\text{}}` being none; 7: a signed number in brackets is read ("(-5)",
#: "x = (-5)", "$(-5)$"), the en dash "–5" is a minus sign as U+2212 is, and the "boxed" `format`
#: part credits no box that shows nothing (`\phantom{0}`, `\hspace{1cm}`, `\ `, a zero-width space)
#: nor a box inside `<think>` when the math verifier reads the answer after the block); 8: an
#: `<answer>` tag holding only what shows nothing (a zero-width space U+200B, the word joiner
#: U+2060, the Hangul filler U+3164: `shaping._has_content`) is empty, as a blank one is: no
#: answer, no format credit, and a later `\boxed{}` or line is read instead); 9: the "boxed" `format`
#: part credits no box holding only empty wrappers (`\boxed{\boxed{}}`, `\boxed{\ensuremath{}}`,
#: `\boxed{\operatorname{}}`: a command name shows nothing of its own); 10: the "boxed" `format`
#: part credits no box past the end of the chat turn (`...<|im_end|>...\boxed{7}`), which the
#: verifier never reads (`shaping.boxed_reward` stops where `math_extract.within_turn` does);
#: 11: a Markdown code fence enclosing the whole answer is read through ("```\n19\n```",
#: "```text\n6 - 1\n```", "```19```", "~~~\nx = 5\n~~~"), by every procedural env (Sort too, whose
#: fence's language word "python3" was read as a 3), while "```19``` 20" and a fence holding two
#: fences are not one answer; a tag holding only empty markup ("****", "$$", "```\n```") is empty;
#: 12: a tag holding only a box is read through markup around the box as well as inside it, in any
#: order ("\\(\\boxed{13}\\)", "\\[\\boxed{8 + 5}\\]", "**\\boxed{13}**", "\\boxed{$\\boxed{13}$}": 13;
#: only "$" around the box was), and the box's content is read through the markup inside it
#: ("\\boxed{\\(13\\)}" is "13" for the "exact" verifier too, which compared "\\(13\\)");
#: 13: a tag that shows nothing is empty (`shaping._tag_form`: once the markup enclosing all of it,
#: "**…**", "$…$", a code fence, and the LaTeX that shows nothing, `\\phantom{0}`, `\\,`, `\\quad`,
#: `\\hspace{1cm}`, an empty `\\text{}` or `\\boxed{}`, are gone, nothing visible remains; "$$",
#: "```python\\n```", "**\\,**"; a symbol, "*", "{}", ".", "$", "°", "\\circ", is an answer): no answer,
#: no format credit; a tag quoted in inline code or a code fence is no answer either (read only when
#: nothing else answers); the answer is read, and the "answer_tags" `format` part (`follows_tag_format`,
#: `shaping.answer_tag_reward`, which until now took any number of tags) counts tags, only in the part
#: the math verifier reads (`shaping.answer_part`): not past the end of the chat turn, only after a
#: closed `<think>` when the text after it holds a tag or answers otherwise; the format wants exactly
#: one answer, tags restating the same one ("12" and "**12**") counting once.
RULES_VERSION = 13


def tagged_answers(text: str, *, quoted: bool = False) -> list[str]:
    """Contents of every complete `<answer>...</answer>` in `text` that shows something, in order
    (tags in any case), stripped: the tags `shaping.answer_tag_reward` counts (`shaping._answer_tags`),
    so `format_reward="answer_tags"` and the answer agree on which tags there are.

    Left out: a pair that shows nothing (its `shaping._tag_form` is empty: whitespace, zero-width and
    other format characters, fillers such as U+3164, only markup enclosing nothing, "**…**" "$$",
    "```\\n```", or only LaTeX that shows nothing, `\\phantom{0}`, `\\,`, `\\text{}`; a symbol,
    "*", ".", "{}", "$", "°", is an answer), and a tag quoted in inline code or a fenced code block
    (the instruction's "`<answer>N</answer>`"); with `quoted`, only those quoted tags are returned.

    A complete pair is a closing tag and the last opening tag before it, with no other tag between
    them: an `<answer>` mentioned in the prose earlier ("I will put the result in <answer> tags.")
    is not part of the answer, as it is not for the math verifier (`verifiers.math_extract`). The
    scan goes on after each closing tag, and is linear (`shaping.tag_blocks`).

    An empty pair is no answer: it is the prompt's "put it in <answer></answer> tags" quoted back
    (it took the `format` credit from the real `<answer>7</answer>` after it, and as the last tag it
    hid a later `\\boxed{7}` from `final_answer`).
    """
    return [content for content, _ in _answer_tags(text, quoted=quoted)]


def _unboxed(answer: str) -> str:
    """The content of an answer that is one `\\boxed{...}` and nothing else, read through the
    markup around and inside the box in any order and nesting (`$`, `\\(...\\)`, `\\[...\\]`,
    `**...**`, code: `unwrapped`), else the answer as it is: `<answer>\\boxed{14}</answer>`,
    `<answer>\\(\\boxed{14}\\)</answer>` and `<answer>\\boxed{\\(14\\)}</answer>` answer 14, as
    a bare `\\boxed{14}` does. Anything besides the box ("7 or \\boxed{8}") leaves the answer as it
    is. At most `_UNBOX_ROUNDS` boxes are opened (one per round): a long chain of nested boxes
    costs no more than that."""
    text, opened = answer, False
    for _ in range(_UNBOX_ROUNDS):
        content = _box_content(_bare(text))
        if content is None:
            break
        text, opened = content, True
    # the content keeps its "$" signs unless they enclose all of it ("\\boxed{$x$ or $y$}")
    return unwrapped(text) if opened else answer


#: Most boxes `_unboxed` opens in one answer ("\\(\\boxed{\\boxed{14}}\\)" opens two).
_UNBOX_ROUNDS = 8


def _bare(text: str) -> str:
    """`text` without the markup that encloses it (`unwrapped`) and without `$` signs at its ends
    (a lone one too, "$\\boxed{7}", as `_unboxed` always read it), to see whether it is a box."""
    return unwrapped(unwrapped(text).strip("$ \t\r\n"))


def _box_content(text: str) -> str | None:
    """The stripped content of `text` when it is one `\\boxed{...}` and nothing else, else None."""
    begin = len("\\boxed{")
    if not text.startswith("\\boxed{") or not text.endswith("}") or _closing_brace(text, begin) != len(text) - 1:
        return None
    return text[begin:-1].strip()


def final_answer(text: str, *, compact: bool) -> str | None:
    """The model's final answer, stripped, or None when there is none.

    Compact: the first line that is not blank (whitespace-only lines before it are skipped).
    Chat: read in the part of the text the `format` part reads (`shaping.answer_part`: up to the end
    of the chat turn, and after a closed `<think>` block when the text after it answers, so a tag
    drafted in the reasoning is no answer when the text after the block answers in prose): the last
    tag that shows something (`tagged_answers`; the box's content when it holds only a `\\boxed{}`),
    else the last `\\boxed{}`, else the last tag quoted in code ("```\\n<answer>7</answer>\\n```"),
    else the last non-blank line.
    """
    if compact:
        first = _NON_SPACE.search(text)  # found in C: no Python loop over a text of blank lines
        if first is None:
            return None
        end = text.find("\n", first.start())
        return text[first.start():end if end >= 0 else len(text)].strip()
    part = answer_part(text)
    tags = tagged_answers(part)
    if tags:
        return _unboxed(tags[-1])
    boxed = last_boxed(part)
    if boxed is not None:
        return boxed
    quoted = tagged_answers(part, quoted=True)
    if quoted:
        return _unboxed(quoted[-1])
    lines = [line.strip() for line in part.strip().splitlines() if line.strip()]
    return lines[-1] if lines else None


def follows_tag_format(text: str) -> bool:
    """True when the part of the text the math verifier reads holds exactly one `<answer>...</answer>`
    that shows something: `shaping.answer_tag_reward`, the one answer-tag format rule.

    The part read is the text up to the end of its chat turn, and after a closed `<think>` block when
    the text after it answers (`shaping._read_part`): a tag drafted inside the reasoning does not
    count against the answer's tag after the block, and a tag inside the block earns nothing when
    the text after it answers in prose. Empty pairs (the prompt's "<answer></answer>" quoted back)
    and pairs showing nothing (`\\phantom{0}`, "$$", "**") do not count (`tagged_answers` leaves
    out the same ones); two that show something are a hedge between two answers, not the format."""
    return answer_tag_reward(text) == 1.0


def parse_number(text: str | None, *, variable: str | None = None) -> Fraction | None:
    """Parse "19", "-3", "2.5", ".5", "7/2", "1,000", "x = 5" or "5 = x" (with `variable="x"`) exactly.

    None if the text is not one number. Lenient only where the reading is unambiguous: markup
    enclosing the whole number or the variable's value ("**7**", "\\(7\\)", "$x = 5$": `unwrapped`),
    one pair of brackets around a signed number ("(-5)", "x = (-5)"; not "(3+4)" nor "(1)(2)"),
    `$` signs, the typeset minus sign and the en dash ("−5", "–5"), a sentence's final period or
    comma ("5.", "10,"), spaces around signs, "=" and "/", and commas that are thousands separators.
    "1,2", "12,34", "1,0000", "1, 234" and "1 2" are not numbers (not 12), whatever the digits'
    script ("1 ٢"), nor is "1$2"; ".5" is a half (not 5).
    """
    if text is None:
        return None
    s = unwrapped(text)
    if s.endswith((".", ",")):  # sentence punctuation after the number
        s = unwrapped(s[:-1])
    # a "$" is a space ("1$2" is no 12); the typeset minus and the en dash are minus signs
    s = _SPACE.sub(_loose_space, s.replace("$", " ").translate(_MINUS_SIGNS).strip())
    if variable and s.lower().startswith(variable.lower() + "="):
        s = unwrapped(s[len(variable) + 1:])
    elif variable and s.lower().endswith("=" + variable.lower()):
        s = unwrapped(s[:-len(variable) - 1])
    if (bracketed := _BRACKETED_SIGNED.fullmatch(s)) is not None:  # "(-5)": what is inside must be one number
        s = bracketed[1]
    if len(s) > MAX_NUMBER_CHARS or not s:
        return None
    num, slash, den = s.partition("/")
    value = _exact(num)
    if not slash or value is None:
        return value
    divisor = _exact(den)
    return None if divisor is None or divisor == 0 else value / divisor


def _loose_space(match: re.Match[str]) -> str:
    """A whitespace run of `parse_number`'s text, removed ("x = 5", "10 / 2", "- 3") unless it is
    between two of digits (of any script: `\\d` reads "٢" as 2), points and commas ("1 2", "1 ٢",
    "1 .5", "1, 234"): kept, such text is not read as one number. A comma followed by a space
    separates items of a list; a thousands separator has no space after it ("1,234")."""
    text, start, end = match.string, match.start(), match.end()
    inside = start > 0 and end < len(text) and _joins(text[start - 1]) and _joins(text[end])
    return " " if inside else ""


def _joins(char: str) -> bool:
    """True for a character that makes one number with its neighbours: a digit of any script, a
    point or a comma (so a space next to it is not dropped: `_loose_space`)."""
    return char.isdigit() or char in ".,"


def unwrapped(text: str) -> str:
    """`text` stripped, without the markup that encloses all of it: maths delimiters (`$...$`,
    `$$...$$`, `\\(...\\)`, `\\[...\\]`), Markdown bold (`**...**`), code (`` `...` ``) and code
    fences ("```\\n19\\n```", "```text\\n19\\n```", "```19```"; `shaping.enclosing_markup`), nested ones too
    ("$**7**$", "```\\n$7$\\n```"). A pair is removed only when nothing between its two ends is another
    delimiter of its kind, so "$7$ or $8$", "**7** and **8**" and "```7``` or ```8```" keep theirs
    (they are not one answer). Models write "<answer>**7**</answer>" or "\\(8 + 4 + 4\\)": unambiguous
    answers."""
    text = text.strip()
    while (pair := enclosing_markup(text)) is not None:  # (each kind can enclose once: a loop per kind at most)
        opening, closing = pair
        text = text[len(opening):len(text) - len(closing)].strip()
    return text


def check_gold(text: str) -> Fraction:
    """A task's gold number, exactly: what `Fraction` reads ("12", "-3/4", "2.5", "1e3"), within the
    bounds answers are read in: at most `MAX_NUMBER_CHARS` characters and an exponent of at most
    `MAX_EXPONENT_DIGITS` digits. Raises ValueError saying which rule the text breaks.

    The bounds keep a given gold from hanging a reset and every step that compares with it:
    `Fraction("1e30000000")` computes 10**30000000, about a minute.
    """
    s = text.strip()
    if len(s) > MAX_NUMBER_CHARS:
        raise ValueError(f"is {len(s)} characters long; a number has at most {MAX_NUMBER_CHARS}")
    exponent = _EXPONENT.search(s)
    if exponent is not None and len(exponent[1].replace("_", "").lstrip("0")) > MAX_EXPONENT_DIGITS:
        raise ValueError(f"has an exponent of more than {MAX_EXPONENT_DIGITS} digits, more than answers are read "
                         "with (computing the number could take minutes)")
    try:
        return Fraction(s)
    except (ValueError, ZeroDivisionError):
        raise ValueError("is not a number") from None


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
