"""The result every verifier returns.

A `Verdict` says how good an answer is (`score`), whether it counts as right (`correct`), and why
(`reason`, written for a person). `error` is set only when the *verification itself* failed — a
sandbox that would not start, a gold answer that cannot be parsed — so that callers can tell an
infrastructure failure from a wrong answer and never train on it as a zero reward.
"""

from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Verdict:
    """Outcome of checking one model answer.

    Attributes:
        score: reward in [0, 1] (fraction of tests passed for code, 1.0/0.0 for math).
        correct: True when the answer fully counts as right.
        reason: human-readable explanation ("equal as rationals", "test 3 failed: ...").
        steps: per-step process rewards (None for steps with nothing checkable), or None.
        error: set only when verification failed for reasons outside the model's answer.
        details: free-form extra facts for metrics (e.g. {"kind": "unparsable"}).

    A user's verifier may build one from NumPy values (`correct=np.isclose(x, y)`,
    `score=np.float64(...)`) or from 1/0: at construction a real-number score becomes a float and a
    NumPy bool or an int 0/1 given as `correct` becomes a bool, so `bool(verdict)`, JSON output and
    `is True` checks see plain Python values. Other values are kept as given (`as_verdict` refuses
    them in a user verifier's result).
    """

    score: float
    correct: bool
    reason: str
    steps: list[float | None] | None = None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if type(self.score) is float and type(self.correct) is bool:
            return  # (every verdict rlvr makes itself: nothing to convert)
        score, correct = _plain_scalar(self.score), _plain_scalar(self.correct)
        if isinstance(score, numbers.Real):
            score = float(score)
        if isinstance(correct, int) and not isinstance(correct, bool) and correct in (0, 1):
            correct = bool(correct)
        # frozen: set past the dataclass guard, and only when changed (the common case costs nothing)
        if score is not self.score:
            object.__setattr__(self, "score", score)
        if correct is not self.correct:
            object.__setattr__(self, "correct", correct)

    def __bool__(self) -> bool:
        """`correct`, as a bool even when it was given as something else (truth by Python's rules)."""
        return bool(self.correct)

    @classmethod
    def right(cls, reason: str, **kwargs: Any) -> "Verdict":
        return cls(score=1.0, correct=True, reason=reason, **kwargs)

    @classmethod
    def wrong(cls, reason: str, score: float = 0.0, **kwargs: Any) -> "Verdict":
        return cls(score=score, correct=False, reason=reason, **kwargs)

    @classmethod
    def failed(cls, error: str, **kwargs: Any) -> "Verdict":
        """Verification could not be done (infrastructure fault); never a judgement of the answer."""
        return cls(score=0.0, correct=False, reason=f"verification failed: {error}", error=error, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _plain_scalar(value: Any) -> Any:
    """A NumPy scalar (or 0-d array) as the Python value it holds (`np.True_` -> True); anything
    else unchanged. Read by duck typing, so this module does not import NumPy."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        return value.item()
    return value
