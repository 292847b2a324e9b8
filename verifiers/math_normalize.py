"""Clean an extracted answer string before parsing: delimiters, spacing, text, units, separators.

Conventions applied here (documented again in docs/verifiers.md):
- Math delimiters `$…$`, `\\(…\\)`, `\\[…\\]`, `\\displaystyle`, `\\left`/`\\right`, spacing commands are
  dropped; `\\dfrac`/`\\tfrac` are `\\frac`.
- `\\text{…}`, `\\mathrm{…}`, `\\textbf{…}`, `\\mbox{…}` keep their content; unit words after a number
  ("5 cm", "12 \\text{ dollars}", "3 square feet") are dropped, as is a leading currency sign.
- Degrees are dropped: `30^\\circ` equals `30` (no conversion to radians).
- Thousands separators: `1{,}000`, `1,\\!000` and LaTeX spaces between digit groups (`10\\,000`)
  always, and `1,000` / `12,345,678` when the whole answer is one
  number so grouped (so `(1,000)` stays a pair and `1, 000` stays a list).
- `2 1/2` (a whole number, a space, a fraction) is the mixed number 5/2.
- Word answers (`\\text{Yes}`, `Monday`) are compared as case-folded text, never as products of
  letters (see `word_answer`).
- A trailing full stop is dropped, as are markdown bold/italic marks (`**18**`).
"""

from __future__ import annotations

import re

__all__ = ["normalize", "choice_letter", "choice_letters", "strip_markdown", "word_answer", "MAX_ANSWER_CHARS"]

MAX_ANSWER_CHARS = 1500

_DELIMS = [("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")]
_DROP_RE = re.compile(
    r"\\(?:displaystyle|textstyle|scriptstyle|left(?=[^a-zA-Z])|right(?=[^a-zA-Z])|big[lr]?|Big[lr]?|"
    r"bigg[lr]?|Bigg[lr]?|limits|nolimits|quad|qquad|hfill|mathrm(?=\{(?:d)\}))"
)
_LEFT_DOT_RE = re.compile(r"\\(?:left|right)\.")
_SPACING_RE = re.compile(r"\\[,;: ]|~")
# LaTeX spacing between digit groups is a thousands separator: `10\,000`, `10\;000`, `1\ 000`.
_DIGIT_GROUP_SPACE_RE = re.compile(r"(?<=\d)(?:\\[,;: ]|~)(?=\d{3}(?!\d))")
_TEXT_RE = re.compile(r"\\(?:text|textbf|textit|textrm|textnormal|mbox|mathrm|mathbf|mathit|mathsf|"
                      r"emph|textup|mathtt|texttt|hbox)\s*\{([^{}]*)\}")
_DEGREE_RE = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|°|\\circ\b|\\degree\b|\^\s*\{\s*\\text\{\s*o\s*\}\s*\}")
_UNIT_WORDS = (
    "cm|mm|km|m|meters?|metres?|centimeters?|kilometers?|miles?|mph|feet|foot|ft|inch(?:es)?|in|yards?|"
    "sq|square|cubic|units?|dollars?|cents?|euros?|pounds?|lbs?|kg|g|grams?|kilograms?|ounces?|oz|"
    "liters?|litres?|l|ml|gallons?|hours?|hrs?|h|minutes?|mins?|seconds?|secs?|s|days?|weeks?|months?|"
    "years?|degrees?|deg|radians?|rad|percent|points?|people|persons?|students?|apples?|items?|times|"
    "ways|marbles|books|pages|boxes|cookies|candies|balls|cars|pieces|steps|games|tickets|eggs|bags|"
    "customers|children|kids|friends|pens|pencils|cups|slices|trees|flowers|birds|dogs|cats|animals|"
    "sheep|cows|chickens|toys|stickers|cards|packs|bottles|boys|girls|men|women|workers|problems|"
    "questions|hats|shirts|each|total|only|exactly|approximately|about"
)
_UNIT_TAIL_RE = re.compile(
    rf"(?<=[\d}}).])\s+(?:(?:{_UNIT_WORDS})(?:\s*\^\s*\{{?[23]\}}?|\{{?[23]\}}?)?\.?\s*)+$", re.IGNORECASE)
_CURRENCY_RE = re.compile(r"^(-?)\s*(?:\\\$|\$|£|€|¥|USD|Rs\.?)\s*(?=[\d.])")
_THOUSANDS_RE = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?:\\?%)?$")
_MIXED_RE = re.compile(r"^(-?)(\d+)\s+(\d+)\s*/\s*(\d+)$")
# A choice answer: an optional "(", the letter, an optional ")", then the end, punctuation, or the
# option's own text ("(C) 12"). Never followed directly by another letter ("Carrots" names no choice).
_CHOICE_HEAD_RE = re.compile(r"^\s*\(?\s*([A-Ea-e])\s*\)?(?![A-Za-z])")
# Another choice letter standing alone later in the answer ("A or B", "(A), (B)", "A/B").
_OTHER_UPPER_RE = re.compile(r"(?<![A-Za-z\\])([A-E])(?![A-Za-z])")
_OTHER_ANY_RE = re.compile(r"(?<![A-Za-z\\])([A-Ea-e])(?![A-Za-z])")
# An answer that is nothing but letters and separators ("a or b", "A, B, C"): lower case counts too.
_ONLY_LETTERS_RE = re.compile(r"^(?:[\s(),;/&.:+-]|\b(?:or|and)\b|(?<![A-Za-z])[A-Ea-e](?![A-Za-z]))*$")


# Markdown emphasis around text: "**Answer:** 42", "The answer is **18**.", "*7*". The opening mark may
# not follow a letter, digit or closing bracket and the closing one may not precede one, so the
# Python power `x**2 + y**2` and products `2*3*4` are left alone.
_BOLD_RE = re.compile(r"(?<![\w)\]}*])\*\*(?=[^\s*])([^\n]*?[^\s*])\*\*(?![\w(*])")
_ITALIC_RE = re.compile(r"(?<![\w)\]}*])\*(?=[^\s*])([^*\n]*?[^\s*])\*(?![\w(*])")


def strip_markdown(text: str) -> str:
    """`text` without markdown bold/italic marks (`**18**` is 18, not a power)."""
    if "*" not in text:
        return text
    return _ITALIC_RE.sub(r"\1", _BOLD_RE.sub(r"\1", text))


# Names that are maths, not words: a letters-only answer made of these (and single letters) is algebra.
_MATH_NAMES = {
    "sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "exp",
    "ln", "log", "lg", "det", "gcd", "lcm", "max", "min", "floor", "ceil", "sqrt", "pi", "oo", "inf",
    "infty", "infinity", "or", "and", "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta",
    "eta", "theta", "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau",
    "upsilon", "phi", "varphi", "chi", "psi", "omega",
}
_WORDS_RE = re.compile(r"[A-Za-z][A-Za-z' -]*")


def word_answer(text: str) -> str | None:
    """The case-folded text of a word answer ("Yes", "Monday", "no solution"), else None.

    A word answer is letters, spaces, apostrophes and hyphens only, with at least one run of two or
    more letters that is not a function, constant or Greek name (so `x`, `x y`, `\\sin x`, `\\pi r`
    stay algebra). Why: read as maths, `east` is e*a*s*t and equals `seat`, and `no` equals `on`.
    The price: a bare product of variables written without a space or operator (`ab`) is a word.
    Expects normalised text (`\\text{…}` already unwrapped).
    """
    s = text.strip().rstrip(".!").strip()
    if not s or len(s) > 200 or not _WORDS_RE.fullmatch(s):
        return None
    if not any(run.lower() not in _MATH_NAMES for run in re.findall(r"[A-Za-z]{2,}", s)):
        return None
    return " ".join(s.casefold().split())


def _strip_delims(s: str) -> str:
    changed = True
    while changed:
        changed = False
        s = s.strip()
        for a, b in _DELIMS:
            if len(s) >= len(a) + len(b) and s.startswith(a) and s.endswith(b):
                s = s[len(a):len(s) - len(b)]
                changed = True
                break
    return s


def normalize(text: str) -> str:
    """Return the cleaned answer string (see module docstring). Never raises on any text."""
    s = strip_markdown(text.strip()[:MAX_ANSWER_CHARS * 2])
    s = _strip_delims(s)
    s = s.replace("\\$", "$") if s.startswith("\\$") else s
    s = s.replace("$", " ") if "$" in s.strip("$") else s.strip("$")
    s = _LEFT_DOT_RE.sub("", s)
    s = _DROP_RE.sub("", s)
    s = s.replace("\\!", "")  # a negative thin space, as in `1,\!000`
    s = _DIGIT_GROUP_SPACE_RE.sub("", s)
    s = _SPACING_RE.sub(" ", s)
    s = s.replace("{,}", "").replace("\\%", "%")
    s = _DEGREE_RE.sub("", s)
    for _ in range(3):  # nested \text{\textbf{..}}
        new = _TEXT_RE.sub(lambda m: f" {m.group(1)} ", s)
        if new == s:
            break
        s = new
    s = s.strip()
    s = _CURRENCY_RE.sub(r"\1", s)
    while s.endswith(".") or s.endswith(",") or s.endswith(";"):
        s = s[:-1].rstrip()
    s = _UNIT_TAIL_RE.sub("", s).strip()
    s = s.strip()
    if _THOUSANDS_RE.match(s):
        s = s.replace(",", "")
    m = _MIXED_RE.match(s)
    if m:
        s = f"{m.group(1)}{m.group(2)}\\frac{{{m.group(3)}}}{{{m.group(4)}}}"
    return s.strip()


def choice_letters(text: str) -> list[str]:
    """The distinct multiple-choice letters an answer names, in order (upper case).

    `[]` when it names none ("12", "Carrots"); one letter for "B", "(B)", "\\text{(B)}", "B) 12",
    "(C) 12 apples"; several for hedges such as "A or B", "(A), (B), (C), (D)", "A B C D", "A, B",
    "ABCD". After the letter only punctuation or the option's own text may follow, and that text
    must not name another choice letter (a lone capital A-E, or any lone letter in a bare list).
    """
    s = normalize(text) if "\\" in text or "$" in text else text
    s = s.strip().strip("$").strip()
    if re.fullmatch(r"[A-E]{2,5}", s):  # "ABCD": every letter at once
        return list(dict.fromkeys(s))
    m = _CHOICE_HEAD_RE.match(s)
    if not m:
        return []
    letters = [m.group(1).upper()]
    rest = s[m.end():]
    other = _OTHER_ANY_RE if _ONLY_LETTERS_RE.match(s) else _OTHER_UPPER_RE
    for o in other.finditer(rest):
        letters.append(o.group(1).upper())
    return list(dict.fromkeys(letters))


def choice_letter(text: str) -> str | None:
    """The one multiple-choice letter an answer names, else None (none, or several: see `choice_letters`)."""
    letters = choice_letters(text)
    return letters[0] if len(letters) == 1 else None
