"""Rule-based process reward: check every arithmetic claim a worked solution states.

`verify_steps(solution_text)` splits the solution into steps (non-empty lines; a single long line
is split into sentences), finds the equalities each step states — `3 \\cdot 4 = 12`,
`\\frac{6}{8} = \\frac{3}{4}`, chains `a = b = c`, GSM8K's `<<48/2=24>>` — and checks each link of
each chain with the same comparer as `rlvr.verifiers.math.verify` (exact rationals in-process, sympy
in a time-limited worker otherwise).

Conventions:
- Only claims without variables are checked. `x = 3` or `2x + 1 = 7` are conditions on an unknown,
  not claims that can be true or false on their own; identities in variables are not checked either.
- `\\approx` / `≈` claims are not checked (they are approximate by design).
- Labels and list markers at the start of a step ("Step 1:", "**Step 2.**", "3.", "-") are not
  maths (`Step 1: 2^{10} = 1024` is not `1 : 2^{10}`), and the words that chain claims ("then",
  "so", "and") split them in any case. A side of an equation that ends (or starts) in a variable
  is not cut down to its numeric part: `Then x + 1 = 4` claims nothing.
- A step scores 1.0 when all its claims hold, 0.0 when any fails, None when it has nothing
  checkable. `Verdict.steps` lists these per step; `score` is the mean over checked steps (1.0 when
  nothing was checkable), `correct` is True when no claim failed.
- A claim that cannot be confirmed in time fails its step: credit is for claims shown to hold, so
  a false claim made too costly to check (`10^{10^{10}} = 3`) earns nothing. `timeout` is the
  budget of the whole solution's sympy checks, not of each claim, so no solution costs more. It
  counts only the time a sympy worker runs this solution's checks: waiting for a free worker
  (other solutions checked at the same time) never fails a claim.
- A check that itself fails (a crashed math worker, no free worker for `timelimit.DEFAULT_MAX_WAIT`
  seconds) is no judgement of the solution: the result is `Verdict.failed(...)` (`error` set), and
  the solution must not be scored at all.
"""

from __future__ import annotations

import re

from rlvr.verifiers.math import DEFAULT_TIMEOUT, _plan_normalized, _run_within
from rlvr.verifiers.math_compare import has_symbols
from rlvr.verifiers.math_normalize import _MATH_NAMES, normalize
from rlvr.verifiers.math_parse import ParseError, parse
from rlvr.verifiers.timelimit import Budget
from rlvr.verifiers.verdict import Verdict

__all__ = ["split_steps", "find_claims", "verify_steps"]

_MATH_SEG_RE = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_CALC_RE = re.compile(r"<<([^<>=]+)=([^<>]+)>>")
_APPROX_RE = re.compile(r"\\approx|≈|~=")
_THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_LABEL_RE = re.compile(
    r"^\s*(?:[*_]{1,2})?(?:(?:step|stage|part)\s*\d+[a-z]?\s*(?:[*_]{1,2})?\s*[:.)-]|\d{1,3}[.)](?=\s)|[-*•](?=\s))"
    r"\s*(?:[*_]{1,2}(?=\s))?", re.IGNORECASE)
_SPLIT_RE = re.compile(r"[,;]\s+(?=[A-Za-z\\])|\band\b|\bso\b|\bthen\b|\bthus\b|\bhence\b", re.IGNORECASE)
_ENGLISH_RE = re.compile(r"[A-Za-z]{2,}[.,:;!?]*")
_MAX_STEPS = 200
_MAX_CLAIMS = 400
_MAX_SIDE_WORDS = 40


def split_steps(text: str) -> list[str]:
    """Steps of a solution: its non-empty lines, or its sentences when it is one line."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if len(lines) <= 1:
        lines = [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\\$])", text.strip()) if s.strip()]
    return lines[:_MAX_STEPS]


def _reading(s: str) -> str | None:
    """"number" when `s` is a checkable numeric expression, "symbolic" when it is one with variables."""
    s = s.strip()
    if not s:
        return None
    try:
        tree = parse(normalize(s))
        if tree[0] in ("list", "rel", "set", "seq", "union"):
            return None
        symbolic = has_symbols(tree)
    except (ParseError, RecursionError):  # "1 1 1 ... 1" nests one product per number
        return None
    if symbolic:
        return "symbolic"
    return "number" if re.search(r"\d", s) else None


def _parses(s: str) -> bool:
    return _reading(s) == "number"


def _is_word(token: str) -> bool:
    """An English word next to an equation ("The total is 3 + 4"), as opposed to a variable."""
    return bool(_ENGLISH_RE.fullmatch(token)) and token.strip(".,:;!?").lower() not in _MATH_NAMES


def _trim(side: str, *, keep_end: bool) -> str | None:
    """The longest math-looking piece of `side` adjacent to the '=' sign."""
    words = side.split()
    # a claim's side is a few words next to the "=": reading a longer run, piece by piece, would
    # cost time quadratic in the length of the line
    words = words[-_MAX_SIDE_WORDS:] if keep_end else words[:_MAX_SIDE_WORDS]
    if not words:
        return None
    rng = range(len(words)) if keep_end else range(len(words), 0, -1)
    for k in rng:
        piece = " ".join(words[k:]) if keep_end else " ".join(words[:k])
        piece = piece.strip(" ,;:")
        if keep_end is False:
            piece = piece.rstrip(".")
        reading = _reading(piece)
        if reading == "number":
            return piece
        edge = words[k] if keep_end else words[k - 1]
        if reading == "symbolic" and not _is_word(edge):
            return None  # "x + 1 = 4": the side involves a variable, so there is no numeric claim
    return None


def find_claims(step: str) -> list[tuple[str, str]]:
    """The (left, right) equalities stated in one step, consecutive links of chains included."""
    claims: list[tuple[str, str]] = []
    for m in _CALC_RE.finditer(step):
        claims.append((m.group(1).strip(), m.group(2).strip()))
    step = _LABEL_RE.sub("", _CALC_RE.sub(" ", step), count=1)
    step = _THOUSANDS_RE.sub("", step)
    segments = [next(g for g in m.groups() if g is not None) for m in _MATH_SEG_RE.finditer(step)]
    if not segments:
        segments = [step]
    for seg in segments:
        for chain in _SPLIT_RE.split(seg):
            if "=" not in chain or _APPROX_RE.search(chain):
                continue
            parts = re.split(r"(?<![<>!])=(?!=)", chain)
            if len(parts) < 2:
                continue
            sides = []
            for i, part in enumerate(parts):
                if i == 0:
                    sides.append(_trim(part, keep_end=True))
                elif i == len(parts) - 1:
                    sides.append(_trim(part, keep_end=False))
                else:
                    sides.append(part.strip() if _parses(part) else None)
            for a, b in zip(sides, sides[1:]):
                if a is not None and b is not None:
                    claims.append((a, b))
    return list(dict.fromkeys(claims))[:_MAX_CLAIMS]


def verify_steps(solution_text: str, *, timeout: float = DEFAULT_TIMEOUT) -> Verdict:
    """Check the arithmetic claims of each step; see the module docstring for the scoring.

    `timeout`: seconds for all the sympy checks of this solution together (worker time only).
    A check that could not be done at all gives `Verdict.failed` (the solution is not scored).
    """
    if not isinstance(solution_text, str) or not solution_text.strip():
        return Verdict.wrong("no steps to check", steps=[], details={"kind": "unparsable"})
    scores: list[float | None] = []
    first_bad = None
    n_checked = n_claims = 0
    budget = Budget(timeout)
    for idx, step in enumerate(split_steps(solution_text)):
        claims = find_claims(step)
        results = []
        for left, right in claims:
            plan = _plan_normalized(normalize(left), normalize(right))
            v = _run_within(plan, budget)
            if v.error is not None:  # the check itself failed: no score, rather than a wrong one
                return Verdict.failed(f"step {idx + 1}: {left} = {right} could not be checked: {v.error}",
                                      details={"kind": "error", "checked_steps": n_checked, "claims": n_claims})
            kind = v.details.get("kind")
            if kind in ("equal", "wrong", "timeout"):  # a timed-out claim is not shown to hold
                results.append(v.correct)
                n_claims += 1
                if not v.correct and first_bad is None:
                    what = "could not be checked in time" if kind == "timeout" else "is false"
                    first_bad = f"step {idx + 1}: {left} = {right} {what} ({v.reason})"
        if not results:
            scores.append(None)
        else:
            n_checked += 1
            scores.append(1.0 if all(results) else 0.0)
    checked = [s for s in scores if s is not None]
    score = sum(checked) / len(checked) if checked else 1.0
    if first_bad:
        return Verdict.wrong(first_bad, score=score, steps=scores,
                             details={"kind": "wrong", "checked_steps": n_checked, "claims": n_claims})
    reason = f"all {n_claims} claims in {n_checked} steps hold" if n_claims else "nothing checkable"
    return Verdict.right(reason, steps=scores, details={"kind": "equal", "checked_steps": n_checked,
                                                        "claims": n_claims}) if n_claims else \
        Verdict(score=1.0, correct=True, reason=reason, steps=scores, details={"kind": "unchecked"})
