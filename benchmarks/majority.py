"""Answer classes for majority voting (maj@k) on math benchmarks.

Each sample's final answer is extracted and normalised with the math verifier's own functions.
Samples graded correct all go to one class (they are all equivalent to the gold answer). Wrong
answers are grouped by their normalised text; when a problem has only a few distinct wrong
answers they are also merged when the math verifier finds them equivalent ("0.5" and "1/2"),
under a short time limit — cheap, and it keeps a split wrong vote from losing to a right one.

A wrong sample votes only for a single answer that the verifier read and found different from the
gold: samples without one (`NO_VOTE_KINDS`), and wrong samples whose extracted answer is the right
samples' own (`answer_classes`), have no vote.
"""

from __future__ import annotations

from collections import Counter
from typing import Hashable, Sequence

CORRECT = "<correct>"
#: Verdict kinds of samples scored wrong without their answer being compared to the gold: longer
#: than the cap, or a comparison that ran out of time. They have no vote: their answer may be the
#: gold's, and as a class of its own it would vote against the right class.
UNJUDGED_KINDS = ("overlong", "timeout")
#: Verdict kinds of samples with no single answer to vote for: several final answers ("hedged";
#: `\boxed{3} or \boxed{5}` has the last box 5, the gold's, and `\boxed{5} or maybe \boxed{3}` the
#: last box 3, neither its answer), no answer the verifier can read ("unparsable": `5 6` may mean
#: the gold 56, we cannot tell), or a verification that failed ("error").
NO_ANSWER_KINDS = ("hedged", "unparsable", "error")
#: Every verdict kind whose samples have no vote.
NO_VOTE_KINDS = UNJUDGED_KINDS + NO_ANSWER_KINDS


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


def _vote(completion: str, ok: bool, kind: str | None, right_answers: Counter) -> Hashable | None:
    """A sample's class before merging: CORRECT, None (no vote) or its normalised answer."""
    if ok:
        return CORRECT
    if kind in NO_VOTE_KINDS:
        return None
    key = _answer_key(completion)
    return None if key in right_answers else key


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
    `NO_VOTE_KINDS`.

    A wrong sample whose answer is the right samples' (the same normalised text as one of theirs,
    or, with at most `merge_limit` distinct wrong answers, equal by the verifier to their most
    common one) has no vote either. Its verdict, which saw the whole completion, said wrong (say
    several boxes, with `kinds` not given): joining the right class would credit maj@k with a
    sample pass@k counts wrong, and a class of its own would vote the gold's own answer against
    the gold.

    Distinct wrong answers are merged pairwise with `rlvr.verifiers.math.verify` when there are at
    most `merge_limit` of them (each comparison under `timeout` seconds; a timeout or error means
    "not equivalent").
    """
    if kinds is None:
        kinds = [None] * len(completions)
    if not len(completions) == len(correct) == len(kinds):
        raise ValueError(f"{len(completions)} completions, {len(correct)} correct flags and {len(kinds)} kinds: give one of each per sample")
    right = Counter(_answer_key(c) for c, ok in zip(completions, correct) if ok)
    right.pop(None, None)
    keys = [_vote(completion, ok, kind, right) for completion, ok, kind in zip(completions, correct, kinds)]
    wrong = sorted({k for k in keys if k is not None and k != CORRECT})
    if not wrong or len(wrong) > merge_limit:
        return keys
    from rlvr.verifiers.math import verify

    gold = right.most_common(1)[0][0] if right else None  # stands for the gold answer
    rep = {w: None if gold is not None and verify(gold, w, timeout=timeout).correct else w for w in wrong}
    for i, a in enumerate(wrong):
        if rep[a] != a:
            continue
        for b in wrong[i + 1:]:
            if rep[b] == b and verify(a, b, timeout=timeout).correct:
                rep[b] = a
    return [rep.get(k, k) if k is not None else None for k in keys]
