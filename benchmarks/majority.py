"""Answer classes for majority voting (maj@k) on math benchmarks.

Each sample's final answer is extracted and normalised with the math verifier's own functions.
Samples graded correct all go to one class (they are all equivalent to the gold answer). Wrong
answers are grouped by their normalised text; when a problem has only a few distinct wrong
answers they are also merged when the math verifier finds them equivalent ("0.5" and "1/2"),
under a short time limit — cheap, and it keeps a split wrong vote from losing to a right one.
"""

from __future__ import annotations

from typing import Hashable, Sequence

CORRECT = "<correct>"
#: Verdict kinds of samples scored wrong without their answer being compared to the gold: longer
#: than the cap, or a comparison that ran out of time. They have no vote: their answer may be the
#: gold's, and as a class of its own it would vote against the right class.
UNJUDGED_KINDS = ("overlong", "timeout")


def _answer_key(completion: str) -> str | None:
    from rlvr.verifiers.math import extract_answer
    from rlvr.verifiers.math_extract import looks_like_bare_answer
    from rlvr.verifiers.math_normalize import normalize

    text = completion if isinstance(completion, str) else str(completion)
    got = extract_answer(text)
    if got is None:
        norm = normalize(text)
        return norm if norm and looks_like_bare_answer(norm) else None
    return normalize(got) or None


def answer_classes(
    completions: Sequence[str],
    correct: Sequence[bool],
    *,
    kinds: Sequence[str | None] | None = None,
    merge_limit: int = 8,
    timeout: float = 1.0,
) -> list[Hashable | None]:
    """One class per sample: CORRECT for correct samples, a normalised answer or None otherwise
    (None: no vote), and None for samples whose verdict kind (`kinds`, one per sample) is one of
    `UNJUDGED_KINDS`.

    Distinct wrong answers are merged pairwise with `rlvr.verifiers.math.verify` when there are at
    most `merge_limit` of them (each comparison under `timeout` seconds; a timeout or error means
    "not equivalent").
    """
    if kinds is None:
        kinds = [None] * len(completions)
    if not len(completions) == len(correct) == len(kinds):
        raise ValueError(f"{len(completions)} completions, {len(correct)} correct flags and {len(kinds)} kinds: give one of each per sample")
    keys: list[Hashable | None] = []
    for completion, ok, kind in zip(completions, correct, kinds):
        keys.append(CORRECT if ok else None if kind in UNJUDGED_KINDS else _answer_key(completion))
    wrong = sorted({k for k in keys if k is not None and k != CORRECT})
    if 1 < len(wrong) <= merge_limit:
        from rlvr.verifiers.math import verify

        rep = {w: w for w in wrong}
        for i, a in enumerate(wrong):
            if rep[a] != a:
                continue
            for b in wrong[i + 1:]:
                if rep[b] == b and verify(a, b, timeout=timeout).correct:
                    rep[b] = a
        keys = [rep.get(k, k) if k is not None else None for k in keys]
    return keys
