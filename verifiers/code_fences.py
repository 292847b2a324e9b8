"""Reading the fenced code blocks of a model's answer and their language tags (`extract_code`).

Models wrap code in Markdown fences (```python ... ```), often more than once (a sketch, then the
final version), and sometimes forget to close the last one when they hit the length limit. The
default takes the last block tagged for the language (or untagged), which is where the final
answer usually is. The tag is the language part of the fence's info string: a file name, option or
version after it (```python:add.py, ```py title="a.py", ```python3.11, ```python-3) does not hide
the block, but a Python version other than 3 (```python2.7) is another language, and an info string
with no language part (```:add.py, ```{}) or naming an output class (```py:output,
```python {.output}) is no code (`_fence_language`, `_tag_counts`). As in CommonMark, a line of backticks whose info
string holds a backtick ("```python``` fences are used below.") is prose, not a fence. A fence may be indented (a
block nested in a Markdown list item): its indentation is taken off the block's lines. CRLF line
ends are read as "\n".

This is the lowest layer of `code_extract`: it knows nothing of what the code does, so the other
parts (`code_answer`, `code_extract`) build on it and it imports neither.
"""

from __future__ import annotations

import ast
import re
import textwrap
from typing import Collection


MODES = ("last", "first", "all", "raw")
#: Fence tags that count as each language (compared lower-case, a version after one allowed:
#: `python3.11`, `python-3`, `py3`, but for Python only a version 3: `python2` code does not run
#: here); an untagged fence always counts. See `_fence_language`.
LANGUAGE_TAGS = {
    "python": ("python", "python3", "py", "py3"),
    "bash": ("bash", "sh", "shell"),
    "sh": ("sh", "bash", "shell"),
}
_FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,})[ \t]*([^\s`]*)([^\n]*)$", re.MULTILINE)
#: Where the language ends in a fence's info string: `python:add.py`, `python{.numberLines}`,
#: `python,editable`, `python=`.
_LANGUAGE_END = re.compile(r"[:{},=\s]")
#: A language name followed by a version: `python3.11`, `python-3`, `py3`.
_VERSIONED = re.compile(r"([a-z]+)[-_]?(\d+(?:\.\d+)*)")
#: The version a tag's language name must carry when it carries one (`python2.7` is not Python 3).
_MAJOR_VERSION = {"python": "3", "py": "3"}
#: An output class in a fence's info string (`py:output`, `python {.output}`): the block shows what
#: a program printed, it is no code.
_OUTPUT_CLASS = re.compile(r"[.:]output(?![\w.-])")


def _fence_language(info: str, rest: str = "") -> str | None:
    """The language part of a fence's info string (`info`, its first word, then `rest`), lower-case:
    what comes before a file name, an attribute or an option (`python:add.py`, `py title="a.py"`,
    `python{.numberLines}`), with the braces and dot of `{python}` and `{.python}` taken off; ""
    for an untagged fence. None, which no language matches, when the info string has no language
    part (`:add.py`, `{}`, `=`) or names an output class (`py:output`, `{.python .output}`)."""
    if not info:
        return ""
    if _OUTPUT_CLASS.search((info + rest).lower()):
        return None
    return _LANGUAGE_END.split(info.lower().lstrip("{").lstrip("."), maxsplit=1)[0] or None


def _tag_counts(tag: str | None, tags: Collection[str]) -> bool:
    """Whether a fence's language `tag` (`_fence_language`) is one of `tags`, or one of them with a
    version after it (`python3.11`, `python-3`, `py3`; not `python2`, `py2.7`: `_MAJOR_VERSION`); an
    untagged fence always counts, a fence with no language part (None) never does."""
    if tag is None:
        return False
    if tag == "" or tag in tags:
        return True
    versioned = _VERSIONED.fullmatch(tag)
    return versioned is not None and versioned.group(1) in tags \
        and versioned.group(2).startswith(_MAJOR_VERSION.get(versioned.group(1), ""))


def _blocks(text: str) -> list[tuple[str | None, str]]:
    """(tag, body) of every fenced block, in order (`fenced_blocks` without the prose)."""
    return [(tag, body) for tag, body, _ in fenced_blocks(text)]


def fenced_blocks(text: str) -> list[tuple[str | None, str, str]]:
    """(tag, body, prose) of every fenced block, in order, the tag being the language part of the
    fence's info string (`_fence_language`) and the prose the text since the block before it (or
    the start): what introduces the block ("Wait, that's wrong. Here is the fix:"). An unclosed
    last block runs to the end, and a last fence with no info string and nothing after it closes a
    block whose opening fence was left out (that block has no prose: the text before it is its body).

    A fence may be indented (a block nested in a Markdown list item): that indentation is taken off
    the block's lines, as Markdown does, so the code is not left with an unexpected indent. CRLF
    text is read as LF, so its closing fences are found.
    """
    text = text.replace("\r\n", "\n")  # CRLF text read as LF, once
    blocks = []
    position = 0
    while True:
        opening = _FENCE.search(text, position)
        while opening is not None and opening.group(2)[0] == "`" and "`" in opening.group(4):
            # no fence: a backtick fence's info string holds no backtick (CommonMark), so a line
            # that opens with inline code ("```python``` fences are used below.") is prose
            opening = _FENCE.search(text, opening.end())
        if opening is None:
            return blocks
        indent, fence, info = opening.group(1), opening.group(2), opening.group(3)
        tag = _fence_language(info, opening.group(4))
        prose = text[position:opening.start()]
        body_start = opening.end() + 1
        closing = re.compile(r"^[ \t]*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*$",
                             re.MULTILINE).search(text, body_start)
        if closing is None:
            rest = text[body_start:]
            if not rest.strip() and not info:  # a closing fence whose opening was left out: the
                # text before it (since the last block) is the block (`    return a + b\n````)
                rest, indent, prose = _code_tail(prose), "", ""
            blocks.append((tag, _unindent(rest, len(indent)), prose))
            return blocks
        blocks.append((tag, _unindent(text[body_start:closing.start()], len(indent)), prose))
        position = closing.end()


#: Lines of prose `_code_tail` looks past before a program (each try is a parse of the rest).
_MAX_PROSE_LINES = 20


def _code_tail(text: str) -> str:
    """The longest run of `text`'s last lines that parses as Python, dedented (a program, or a
    function body, after a few lines of prose: "Here is the code:"); "" when no such run does
    (prose alone before a stray fence is no code block)."""
    lines = text.split("\n")
    for start in range(min(len(lines), _MAX_PROSE_LINES + 1)):
        tail = "\n".join(lines[start:])
        if tail.strip() and _parse(textwrap.dedent(tail)) is not None:
            return tail
    return ""


def _unindent(body: str, width: int) -> str:
    """`body` with up to `width` leading spaces or tabs (the fence's own indentation) taken off each
    line; lines indented more keep the rest of their indentation."""
    return re.sub(rf"(?m)^[ \t]{{0,{width}}}", "", body) if width else body


def _language_bodies(text: str, language: str) -> list[str]:
    """The bodies of the fenced blocks tagged for `language` (or untagged), in order (`_tag_counts`)."""
    tags = LANGUAGE_TAGS.get(language, (language.lower(),))
    return [body for tag, body in _blocks(text) if _tag_counts(tag, tags)]


def extract_code(text: str, language: str = "python", mode: str = "last", *,
                 fallback_raw: bool = True) -> str:
    """The code in a model's answer.

    mode "last" (default) or "first": that fenced block of `language` (tagged for it or untagged);
    "all": every such block, joined by blank lines; "raw": the whole text, untouched.
    Without any such block the raw text is returned when `fallback_raw` (a bare program), else "".
    Any text gives a string; only a bad `mode` or a non-string `text` raises.
    """
    if mode not in MODES:
        raise ValueError(f"unknown extraction mode {mode!r}; choose one of {MODES}")
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if mode == "raw":
        return text
    bodies = _language_bodies(text, language)
    if not bodies:
        return text if fallback_raw else ""
    if mode == "first":
        return bodies[0].strip("\n")
    if mode == "last":
        return bodies[-1].strip("\n")
    return "\n\n".join(body.strip("\n") for body in bodies)


def _parse(code: str) -> ast.Module | None:
    """The syntax tree of `code`, or None when it does not parse (or is absurdly nested)."""
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
