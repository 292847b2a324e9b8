"""Reward shaping: format rewards, length penalties and DAPO's soft overlong punishment.

All functions are pure and cheap; they take the completion text (or its length in tokens) and
return a float (or a Verdict for `format_verdict`). They never raise on model text.

- `think_format_reward(text)`: 1.0 when the text is `<think>…</think>` (non-empty reasoning, once,
  at the start) followed by a non-empty answer; else 0.0. What shows nothing is no content:
  whitespace, control and format characters (Unicode categories Cc, Cf: zero-width spaces,
  joiners, marks), combining marks standing alone (Mn, Me: U+034F, variation selectors), and the
  other default-ignorable or blank code points (Hangul fillers U+115F, U+1160, U+3164, U+FFA0,
  the blank Braille pattern U+2800, U+17B4, U+17B5, U+180B–U+180F, tags).
  All three format rewards read the text only up to the end of its chat turn, as the math verifier
  does (`math_extract.within_turn`: `<|im_end|>`, `<|endoftext|>`, a run-on next user turn): what
  is written after it answers another question.
- `boxed_reward(text)`: 1.0 when the text has a box that holds something (`last_box`): a box as the
  math verifier finds it (`\\boxed{…}` with balanced braces, `\\fbox{…}`, `\\boxed 5`; an unclosed
  `\\boxed{` is none) where it reads the answer (after the last `</think>` when the text after it
  answers: `math_extract.after_reasoning`), whose content shows something once normalised as the
  verifier normalises an answer (`\\boxed{}`, `\\boxed{\\text{}}`, `\\boxed{\\,}`, `\\boxed{{}}`,
  `\\boxed{\\phantom{0}}`, `\\boxed{\\ }` are empty). Math-v0 and ToolMath-v0 give their `format`
  part by this rule.
- `answer_tag_reward(text)`: 1.0 when the part of the text the math verifier reads (`_tag_part`:
  up to the end of the chat turn, and after the last `</think>` when the text after it holds a tag
  or otherwise answers) holds exactly one answer in `<answer>…</answer>` tags: tags that show
  something (`_tag_form`: `<answer>\\phantom{0}</answer>`, `<answer>$$</answer>`, `<answer>**\\,**</answer>`
  are empty; `*`, `{}`, `.`, `$`, `°` are answers), not quoted in code, those restating one answer
  counted once; each closing tag paired with the last opening tag before it, tags in any case (an
  `<answer>` mentioned in the prose before is no part of the answer, `<ANSWER>7</ANSWER>` is one).
  Two answers (`<answer>12</answer> or <answer>13</answer>`) are a hedge, not the format; the
  envs' `format_reward="answer_tags"` is this rule (`rlvr.envs.answers.follows_tag_format`), and
  their answer is read from the same tags in the same part (`answer_part`).
- `format_verdict(text, think=True, boxed=True)`: the chosen checks as a Verdict; `score` is the
  fraction passed, `correct` when all pass, `reason` names the first failure.
- `length_penalty(length, target, coef)`: `-coef * max(0, length - target)` — linear cost per token
  beyond a target length (0 at or below it); `target` and `coef` are finite and >= 0.
- `overlong_penalty(length, max_length, buffer)`: DAPO's soft overlong punishment,
      0                                   if length <= max_length - buffer
      (max_length - buffer - length)/buffer   if max_length - buffer < length <= max_length
      -1                                  if length > max_length
  i.e. a linear ramp from 0 down to -1 inside the last `buffer` tokens.
"""

from __future__ import annotations

import functools
import bisect
import math
import re
import unicodedata
from typing import Iterator

from rlvr.verifiers.math_extract import (THINK_CLOSE, _code_blocks, after_reasoning, all_boxed, last_boxed,
                                        within_turn)
from rlvr.verifiers.math_normalize import MAX_ANSWER_CHARS, normalize
from rlvr.verifiers.verdict import Verdict

__all__ = ["think_format_reward", "boxed_reward", "last_box", "answer_tag_reward", "format_verdict",
           "length_penalty", "overlong_penalty"]

_THINK_RE = re.compile(r"\A\s*<think>(.*?)</think>(.*)\Z", re.DOTALL)


def think_format_reward(text: str) -> float:
    """1.0 for `<think>reasoning</think> answer` (one think block, first, both parts non-empty), read up to
    the end of the chat turn (`within_turn`): an answer written past it, after a run-on next turn
    (`<think>…</think><|im_end|>…<|im_start|>assistant\n7`), is no answer of this one."""
    if not isinstance(text, str):
        return 0.0
    m = _THINK_RE.match(within_turn(text))
    if not m:
        return 0.0
    thought, rest = m.group(1), m.group(2)
    if not _has_content(thought) or not _has_content(rest):
        return 0.0
    if "<think>" in thought or "<think>" in rest or "</think>" in rest:
        return 0.0
    return 1.0


#: Categories of characters that show nothing on their own: controls, format characters (the
#: zero-width space U+200B), surrogates, combining marks (on no base, as `_has_content` reads them:
#: a base they sit on is content itself) and separators.
_UNSEEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Mn", "Me", "Zs", "Zl", "Zp"})
#: Code points that show nothing though their category is of visible ones: Unicode's
#: Default_Ignorable_Code_Point letters and unassigned code points (Hangul fillers, U+2065,
#: U+FFF0–U+FFF8, the unassigned tags block E0000–E0FFF) and the blank Braille pattern U+2800.
_UNSEEN_CODES = frozenset({0x115F, 0x1160, 0x2065, 0x2800, 0x3164, 0xFFA0, *range(0xFFF0, 0xFFF9)})


def _has_content(text: str) -> bool:
    """Whether `text` holds a visible character: what shows nothing (whitespace, zero-width and
    other format characters, lone combining marks, fillers: `_UNSEEN_CATEGORIES`, `_UNSEEN_CODES`)
    is no reasoning and no answer."""
    return any(_visible(ch) for ch in text)


def _visible(ch: str) -> bool:
    """Whether the character `ch` shows something on its own (see `_has_content`)."""
    if ch.isspace():
        return False
    code = ord(ch)
    if code in _UNSEEN_CODES or 0xE0000 <= code <= 0xE0FFF:
        return False
    return unicodedata.category(ch) not in _UNSEEN_CATEGORIES


#: What a reader does not see in a normalised box: braces, a line break `\\` and the control space
#: `\ ` (normalising leaves its backslash); whitespace and format characters go by `_has_content`.
_UNSEEN_RE = re.compile(r"[{}]|\\(?:\\|(?=\s|$))")
#: The name of a command that takes an argument (`\\boxed{`, `\\fbox{`, `\\ensuremath{`, `\\operatorname{`,
#: `\\sqrt{`): a name shows nothing of its own, only its argument may (`\\boxed{\\boxed{}}` is an empty
#: box, `\\operatorname{lcm}` shows `lcm`). A command without an argument (`\\pi`, `\\infty`) is a symbol.
_ARGUMENT_COMMAND_RE = re.compile(r"\\[A-Za-z]+\s*+(?=\{)")


def last_box(text: str) -> str | None:
    """The content of the last box that holds something of the part of `text` the math verifier
    reads (`_read_part`: after a closed `<think>` block when the text after it answers), or None:
    the boxes the verifier finds (`all_boxed`), and of them the last that holds something
    (`_holds_something`). An empty box is none: the verifier reads the answer of `\\boxed{2} (as
    asked, within \\boxed{})` in the first box, and calls `\\boxed{\\text{}}` empty."""
    return _last_box_in(_read_part(text))


def _read_part(text: str) -> str:
    """The part of `text` whose boxes the math verifier reads: the text up to the end of its chat turn
    (`math_extract.within_turn`), and of that the part after the last `</think>` when it answers
    (`math_extract.after_reasoning`, the verifier's own rule). A box tried inside the reasoning earns no
    format credit when the answer follows it, nor one written after the turn's end (`No idea<|im_end|>
    <|im_start|>user …<|im_start|>assistant \\boxed{7}`, `No idea<|endoftext|>\\boxed{7}`), which the
    verifier never reads."""
    return after_reasoning(text) if THINK_CLOSE in text else within_turn(text)


def _last_box_in(text: str) -> str | None:
    """`last_box` of a text already cut to the part the verifier reads."""
    for content in reversed(all_boxed(text)):
        if _holds_something(content):
            return content
    return None


def _holds_something(content: str) -> bool:
    """Whether a box's content shows something once normalised as the verifier normalises an
    answer (spaces, `\\text{}` wrappers, `\\phantom{5}`, `\\hspace{1cm}` and `\\,` go) and what a
    reader does not see is removed (braces, `\\ `, `\\\\`, whitespace, zero-width characters, and the
    names of commands that take an argument: `\\boxed{\\fbox{}}`, `\\boxed{\\ensuremath{}}` hold nothing).

    Content with a digit and no command that may hide it (`42`, `3/4`, `\\frac{3}{4}`, `2\\sqrt{3}`:
    every command one of `_SHOWING_COMMANDS`) shows the digit and skips normalising, which costs
    more than the rest of a step; any other command (`\\phantom{0}`) or a `$` sends the content
    through the normaliser (`_shows_once_normalised`), which the quick answer must always agree with
    (`tests/test_format_fast_paths.py`)."""
    if "$" not in content and any(map(str.isdigit, content)) and (
            "\\" not in content or _SHOWING_COMMANDS.issuperset(_COMMAND_NAME_RE.findall(content))):
        return True
    return _shows_once_normalised(content)


#: LaTeX commands that show their argument or are a visible symbol themselves, so a digit in a box
#: made of them is seen (`\\frac{3}{4}`, `\\left(1, 2\\right)`, `9\\pi`); none hides what it holds, as
#: `\\phantom`, `\\hspace` or `\\color`'s first argument do. The usual commands of MATH-style answers.
_SHOWING_COMMANDS = frozenset({
    "frac", "dfrac", "tfrac", "sqrt", "binom", "dbinom", "left", "right", "big", "Big", "cdot", "times", "div", "pm",
    "mp", "pi", "theta", "alpha", "beta", "infty", "circ", "degree", "le", "leq", "ge", "geq", "ne", "neq", "approx",
    "in", "to", "cup", "cap", "emptyset", "mid", "ldots", "dots", "cdots", "angle", "triangle", "sin", "cos", "tan",
    "log", "ln", "exp", "text", "textbf", "mathrm", "mathbf", "mathbb", "operatorname", "overline", "bar", "hat",
    "vec", "lfloor", "rfloor", "lceil", "rceil", "langle", "rangle", "lvert", "rvert", "vert", "quad", "qquad",
    "displaystyle", "percent",
})
#: The name of each LaTeX command (`\\frac` gives "frac"); `\\,` and other one-symbol commands have none.
_COMMAND_NAME_RE = re.compile(r"\\([A-Za-z]+)")


def _shows_once_normalised(content: str) -> bool:
    """`_holds_something`'s rule in full: the content as the verifier normalises it, less what a
    reader does not see, holds a visible character."""
    return _has_content(_UNSEEN_RE.sub("", _ARGUMENT_COMMAND_RE.sub("", _normalized(content))))


def _normalized(content: str) -> str:
    """`content` as `normalize` reads it, or, past `MAX_ANSWER_CHARS` (where `normalize` stops and
    gives the text back as it is), without the LaTeX that shows nothing (`_INVISIBLE_LATEX_RE`) and
    the maths delimiters: a long run of `\\phantom{0}` is as empty as a short one."""
    if len(content) <= MAX_ANSWER_CHARS:
        return normalize(content)
    return _MATH_DELIMITERS_RE.sub("", _INVISIBLE_LATEX_RE.sub("", content))


def boxed_reward(text: str) -> float:
    """1.0 when the part of the text the math verifier reads has a box that holds something
    (`last_box`)."""
    if not isinstance(text, str) or "box" not in text:  # (every box command, \\boxed, \\fbox, \\framebox, has it)
        return 0.0
    text = _read_part(text)
    # the usual answer, one `\\boxed{...}` that holds a digit, in a few `str.find` calls (a format
    # reward checks every step); anything else as `last_box` reads it
    if text.count("\\boxed") == 1 and "box{" not in text:  # (no `\\fbox{`, `\\framebox{` either)
        quick = last_boxed(text)
        if quick is not None and _holds_something(quick):
            return 1.0
    return 1.0 if _last_box_in(text) is not None else 0.0


def answer_tag_reward(text: str) -> float:
    """1.0 when the part of the text the math verifier reads (`_tag_part`: up to the end of the chat
    turn, and after a closed `<think>` block when the text after it answers) holds exactly one
    answer in `<answer>...</answer>` tags (`_answer_tags`), else 0.0.

    A closing tag pairs with the last opening tag before it (`tag_blocks` with `nearest=True`), and
    tags are read in any case (`<ANSWER>7</ANSWER>`), as the envs' answer rule reads them
    (`rlvr.envs.answers.tagged_answers`): in "I'll use <answer> tags. <answer></answer>" the answer is
    the empty pair, not the prose between the first tag and the closing one. A pair that shows
    nothing (`_tag_form` is empty: the prompt's "<answer></answer>" quoted back,
    `<answer>\\\\phantom{0}</answer>`) and a tag quoted in code (`` `<answer>N</answer>` ``) are not
    counted, and tags restating one answer (`<answer>12</answer> … so <answer>12</answer>`) are one.
    A tag tried inside the reasoning is no answer when the text after the block answers
    (`<think>Draft: <answer>13</answer></think> <answer>12</answer>` has one; `<think><answer>12
    </answer></think> The answer is 13.` none), nor one written after the turn's end. Two different
    answers are a hedge, not the format (until answer rules 13 any one sufficed here, while the
    envs' format part wanted one). This is the envs' `format_reward="answer_tags"` rule
    (`answers.follows_tag_format`)."""
    return 1.0 if _answer_count(text) == 1 else 0.0


def _answer_count(text: str) -> int:
    """How many different answers the tags of the part of `text` the verifier reads hold, 2 meaning
    two or more: the count behind `answer_tag_reward` and `format_verdict`'s reason. Tags are the
    same answer when what they show is (`_tag_form`: "12", "**12**" and "$12$" are one)."""
    if not isinstance(text, str) or _ANSWER_CLOSE_RE.search(text) is None:  # (no tag: most texts, in C)
        return 0
    forms: set[str] = set()
    for _, form in _answer_tags(_tag_part(text)):
        forms.add(form)
        if len(forms) > 1:
            break
    return len(forms)


def _tag_part(text: str) -> str:
    """The part of `text` whose answer tags count: the text up to the end of its chat turn, and of
    that the text after the last `</think>` when that text holds a tag that shows something (an
    answer in tags, whatever it says: "東京", "A, C", JSON) or otherwise answers
    (`math_extract.after_reasoning`, as `_read_part` reads boxes). `after_reasoning` (most of a
    format check's cost) is not asked when no answer tag stands before the block's end: the tags of
    either part are then the same."""
    return _answer_part(text, tags_only=True)


def answer_part(text: str) -> str:
    """The part of `text` an answer is read from, in tags, a box or a line (`rlvr.envs.answers.
    final_answer`): `_tag_part`'s, so that the answer and the `format` part read one place; a tag
    drafted inside `<think>` is no answer when the text after the block answers in prose."""
    return _answer_part(text, tags_only=False)


def _answer_part(text: str, *, tags_only: bool) -> str:
    """`_tag_part` (with `tags_only`: only the tags of the part returned matter) or `answer_part`."""
    within = within_turn(text)
    end = within.rfind(THINK_CLOSE)
    if end < 0:
        return within
    tail = within[end + len(THINK_CLOSE):]
    if _ANSWER_CLOSE_RE.search(tail) is not None and _answer_tags(tail):
        return tail
    if tags_only and _ANSWER_TAG_RE.search(within, 0, end) is None:
        return within
    return after_reasoning(text)


def _answer_tags(text: str, *, quoted: bool = False) -> list[tuple[str, str]]:
    """(content stripped, `_tag_form`) of each `<answer>...</answer>` of `text` that shows something,
    in order; a tag standing in inline code or a fenced code block (`_in_code`: the instruction's
    "`<answer>N</answer>`" quoted) is left out, or, with `quoted`, the only kind kept. The one reading
    of answer tags: `answer_tag_reward` counts these, `answers.tagged_answers` returns them."""
    found = []
    blocks: list[int] | None = None
    for start, end, inner in tag_blocks(text, "<answer>", "</answer>", nearest=True, ignore_case=True):
        form = _tag_form(inner)
        if not form:
            continue
        if "`" in text or "~~~" in text:
            if blocks is None:
                blocks = _code_blocks(text)
            if _in_code(text, start, end, blocks) != quoted:
                continue
        elif quoted:
            continue
        found.append((inner.strip(), form))
    return found


def _in_code(text: str, start: int, end: int, blocks: list[int]) -> bool:
    """Whether `text[start:end]` stands in a fenced code block (after an odd number of `blocks`
    bounds: `math_extract._code_blocks`) or in inline code (an odd number of backtick runs before it
    on its line and a backtick after it on the line), as `math_extract.within_turn` reads a quoted
    marker (an indented line, code there, is not asked for: an answer may stand in a list)."""
    if bisect.bisect_right(blocks, start) % 2:
        return True
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    before = len(_TICK_RUN_RE.findall(text, line_start, start))
    return before % 2 == 1 and "`" in text[end:line_end if line_end >= 0 else len(text)]


_ANSWER_CLOSE_RE = re.compile(r"</answer>", re.IGNORECASE)
_ANSWER_TAG_RE = re.compile(r"</?answer>", re.IGNORECASE)
_TICK_RUN_RE = re.compile(r"`+")
#: LaTeX that shows nothing: `\\phantom{…}`, `\\hphantom`, `\\vphantom` (arguments nested two
#: deep), `\\hspace{…}`, `\\vspace{…}`, the spacing commands (`\\quad`, `\\qquad`, `\\,`, `\\;`,
#: `\\:`, `\\!`, `\\>`, the control space `\\ `, its backslash alone ending the text once stripped),
#: the line break `\\\\` and style switches.
_INVISIBLE_LATEX_RE = re.compile(
    r"\\[hv]?phantom\s*\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}|\\[hv]space\*?\s*\{[^{}]*\}"
    r"|\\(?:q?quad|enspace|enskip|thinspace|medspace|thickspace|negthinspace|negmedspace|negthickspace"
    r"|displaystyle|textstyle|scriptstyle|scriptscriptstyle)(?![A-Za-z])|\\[,;:!> \t\r\n]|\\\\|\\\Z")
#: A wrapper with nothing in it (`\\text{}`, `\\mathrm{ }`, `\\boxed{}`), as what a wrapper shows is its argument.
_EMPTY_WRAPPER_RE = re.compile(r"\\(?:text(?:rm|bf|it|tt|sf|normal)?|math(?:rm|bf|it|sf|tt|bb|cal|frak|normal)"
                               r"|operatorname|mbox|hbox|boxed|fbox|framebox|ensuremath|emph)\s*\{\s*\}")
#: Maths delimiters, which `normalize` drops (`_normalized` past its cap).
_MATH_DELIMITERS_RE = re.compile(r"\$|\\[()\[\]]")
#: Markup that may enclose a whole answer, as (opening, closing), longest first (`enclosing_markup`).
_ANSWER_WRAPPERS = (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"), ("**", "**"), ("`", "`"))
#: The opening of a Markdown code fence: three or more backticks (or tildes), then optionally a
#: language word ("python", "text", "plaintext", "math", "c++") ending its line, or a bare line
#: break. A word is the language only when the line ends after it: in "```x = 5```" the "x" is the
#: answer's.
_FENCE_OPEN_RE = re.compile(r"(`{3,}|~{3,})(?:[ \t]*[A-Za-z][\w+#.-]*[ \t]*\r?\n|[ \t]*\r?\n)?")
#: Rounds of `_tag_form` (each removes a layer of markup: "**$\\,$**" takes three).
_TAG_FORM_ROUNDS = 8


def _tag_form(content: str) -> str:
    """What an `<answer>` tag's content shows, stripped, or "" when it shows nothing: the content
    without the markup that encloses all of it (as `answers.unwrapped` reads it: `**…**`, `` `…` ``,
    a code fence, `$…$`, `\\(…\\)`), the LaTeX that shows nothing (`_INVISIBLE_LATEX_RE`:
    `\\phantom{0}`, `\\,`, `\\quad`) and wrappers left empty (`\\text{}`, `\\boxed{}`), layer by
    layer. "$$", "****", "```python\n```", "\\(\\)" and "**\\,**" show nothing; a symbol does:
    "*", "**", ".", "{}", "$", "°", "\\circ" are answers (an "exact" gold may be one), unlike the math
    verifier's normalising, which drops braces and `$`. Content with an ASCII letter or digit and
    no backslash, backtick or tilde (`12`, `Paris`, `**7**`) shows something whatever encloses it:
    only its enclosing markup is taken off, with no LaTeX looked for (a format check runs on every
    step)."""
    plain = "\\" not in content and "`" not in content and "~" not in content and _ASCII_ALNUM_RE.search(content)
    form = content.strip()
    for _ in range(_TAG_FORM_ROUNDS):
        shown = _tag_unwrapped(form if plain else _EMPTY_WRAPPER_RE.sub("", _INVISIBLE_LATEX_RE.sub("", form)).strip())
        if shown == form:
            break
        form = shown
    return form if plain or (_has_content(form) and form.strip("`~ \t\r\n")) else ""


def _tag_unwrapped(text: str) -> str:
    """`text` without one layer of markup that encloses all of it (`enclosing_markup`, an empty
    code fence included: it shows nothing), the rest stripped."""
    pair = enclosing_markup(text, empty_fence=True)
    return text if pair is None else text[len(pair[0]):len(text) - len(pair[1])].strip()


def enclosing_markup(text: str, *, empty_fence: bool = False) -> tuple[str, str] | None:
    """(opening, closing) of the markup that encloses all of `text` (stripped), or None: a pair of
    `_ANSWER_WRAPPERS` (`$$…$$`, `$…$`, `\\(…\\)`, `\\[…\\]`, `**…**`, `` `…` ``) with none of its
    delimiters between its ends, so "$7$ or $8$" and "**7** and **8**" keep theirs (two answers), or
    a Markdown code fence (the opening with its language word and line break, "```python\\n"), whose
    closing run ends the text with no other run of three of its character between ("```19``` 20",
    "```19``` and ```20```" are no one answer). A fence with nothing inside ("``````") encloses
    something only with `empty_fence` (for the answer-tag rules, which call it empty; the answer
    reading leaves it as written). The one reading of enclosing markup: `rlvr.envs.answers.unwrapped`
    and `_tag_form`."""
    fence = _FENCE_OPEN_RE.match(text)
    if fence is not None:
        run, inner_start = fence[1], fence.end()
        if (len(text) > inner_start + len(run) or empty_fence and len(text) == inner_start + len(run)) \
                and text.endswith(run) and run[0] * 3 not in text[inner_start:len(text) - len(run)]:
            return fence[0], run
    for opening, closing in _ANSWER_WRAPPERS:
        if len(text) >= len(opening) + len(closing) and text.startswith(opening) and text.endswith(closing):
            inner = text[len(opening):len(text) - len(closing)]
            if opening not in inner and closing not in inner:
                return opening, closing
    return None


_ASCII_ALNUM_RE = re.compile(r"[A-Za-z0-9]")


def tag_blocks(text: str, open_tag: str, close_tag: str, *, nearest: bool = False,
               ignore_case: bool = False) -> Iterator[tuple[int, int, str]]:
    """(start, end, inner text) of each `open_tag ... close_tag` block of `text`, in order: an
    opening tag and the first closing tag after it, the scan going on after that closing tag (what
    a non-greedy regex finds). With `nearest`, the block is that closing tag and the last opening
    tag before it (an opening tag mentioned earlier in prose is no part of the block). Linear: an
    opening tag with no closing tag after it ends the scan, since no later one has one either, where
    the regex retried from every opening tag to the end of an unclosed text (4 s for 64 KB of
    `<answer>`; 16 s per turn for 128 KB of `<tool_call>`); each opening tag is passed once. With
    `ignore_case` the tags match in any case (`<ANSWER>`), as the envs' answer rule reads them."""
    if ignore_case:
        yield from _blocks_in_any_case(text, open_tag, close_tag, nearest)
        return
    pos = 0
    while (start := text.find(open_tag, pos)) >= 0:
        close = text.find(close_tag, start + len(open_tag))
        if close < 0:
            return
        if nearest:
            start = text.rfind(open_tag, start, close)
        pos = close + len(close_tag)
        yield start, pos, text[start + len(open_tag):close]


def _blocks_in_any_case(text: str, open_tag: str, close_tag: str, nearest: bool) -> Iterator[tuple[int, int, str]]:
    """`tag_blocks` with the tags matched in any case; as linear (each opening tag passed once)."""
    opening_re, closing_re = _any_case(open_tag), _any_case(close_tag)
    pos = 0
    while (opening := opening_re.search(text, pos)) is not None:
        closing = closing_re.search(text, opening.end())
        if closing is None:
            return
        if nearest:
            while (later := opening_re.search(text, opening.end(), closing.start())) is not None:
                opening = later
        pos = closing.end()
        yield opening.start(), pos, text[opening.end():closing.start()]


@functools.lru_cache(maxsize=16)
def _any_case(tag: str) -> re.Pattern[str]:
    """A pattern matching `tag` in any case, compiled once (`re`'s own cache costs a format check
    more than its scan of a short answer)."""
    return re.compile(re.escape(tag), re.IGNORECASE)


def format_verdict(text: str, *, think: bool = True, boxed: bool = True, answer_tag: bool = False) -> Verdict:
    """Run the chosen format checks; score = fraction passed, correct = all passed; the reason names
    the first failure ("format: missing a \\boxed{} answer", "format: <answer> tags giving different answers")."""
    checks = []
    if think:
        checks.append(("missing <think>…</think> followed by an answer", think_format_reward(text)))
    if boxed:
        checks.append(("missing a \\boxed{} answer", boxed_reward(text)))
    if answer_tag:
        count = _answer_count(text)
        checks.append(("<answer> tags giving different answers" if count > 1 else "missing an <answer>…</answer> tag",
                       1.0 if count == 1 else 0.0))
    if not checks:
        raise ValueError("format_verdict needs at least one check: set think, boxed or answer_tag")
    passed = sum(score for _, score in checks)
    score = passed / len(checks)
    missing = [name for name, s in checks if s < 1.0]
    if not missing:
        return Verdict.right("format ok", details={"kind": "equal"})
    return Verdict.wrong(f"format: {missing[0]}", score=score, details={"kind": "format"})


def length_penalty(length: int, target: int, coef: float = 1e-3) -> float:
    """Linear penalty `-coef * (length - target)` for tokens beyond `target`; 0 otherwise.

    Raises ValueError unless `target` and `coef` are finite and >= 0: an infinite coefficient gives
    NaN at the target (inf * 0), and a NaN one NaN everywhere."""
    if not (_finite(target) and _finite(coef)) or target < 0 or coef < 0:
        raise ValueError(f"length_penalty needs finite target >= 0 and coef >= 0, got target={target}, coef={coef}")
    return -coef * max(0, length - target)


def _finite(x: float) -> bool:
    """Whether the number `x` is finite (an int always is, however large for a float)."""
    return isinstance(x, int) or math.isfinite(x)


def overlong_penalty(length: int, max_length: int, buffer: int) -> float:
    """DAPO soft overlong punishment (see module docstring). `buffer` is DAPO's L_cache."""
    if buffer <= 0 or buffer > max_length:
        raise ValueError(f"overlong_penalty needs 0 < buffer <= max_length, got buffer={buffer}, "
                         f"max_length={max_length}")
    start = max_length - buffer
    if length <= start:
        return 0.0
    if length <= max_length:
        return (start - length) / buffer
    return -1.0
