"""Pulling the program out of a model's answer: fenced code blocks, or the raw text.

Models wrap code in Markdown fences (```python ... ```), often more than once (a sketch, then the
final version), and sometimes forget to close the last one when they hit the length limit. The
default takes the last block tagged for the language (or untagged), which is where the final
answer usually is.
"""

from __future__ import annotations

import re

__all__ = ["extract_code", "LANGUAGE_TAGS", "MODES"]

MODES = ("last", "first", "all", "raw")
#: Fence tags that count as each language (compared lower-case); an untagged fence always counts.
LANGUAGE_TAGS = {
    "python": ("python", "python3", "py", "py3"),
    "bash": ("bash", "sh", "shell"),
    "sh": ("sh", "bash", "shell"),
}
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([^\s`]*)[^\n]*$", re.MULTILINE)


def _blocks(text: str) -> list[tuple[str, str]]:
    """(tag, body) of every fenced block, in order; an unclosed last block runs to the end."""
    blocks = []
    position = 0
    while True:
        opening = _FENCE.search(text, position)
        if opening is None:
            return blocks
        fence, tag = opening.group(1), opening.group(2).lower()
        body_start = opening.end() + 1
        closing = re.compile(r"^[ \t]*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*$",
                             re.MULTILINE).search(text, body_start)
        if closing is None:
            blocks.append((tag, text[body_start:]))
            return blocks
        blocks.append((tag, text[body_start:closing.start()]))
        position = closing.end()


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
    tags = LANGUAGE_TAGS.get(language, (language.lower(),))
    bodies = [body for tag, body in _blocks(text) if tag == "" or tag in tags]
    if not bodies:
        return text if fallback_raw else ""
    if mode == "first":
        return bodies[0].strip("\n")
    if mode == "last":
        return bodies[-1].strip("\n")
    return "\n\n".join(body.strip("\n") for body in bodies)
