"""The result every verifier returns.

A `Verdict` says how good an answer is (`score`), whether it counts as right (`correct`), and why
(`reason`, written for a person). `error` is set only when the *verification itself* failed — a
sandbox that would not start, a gold answer that cannot be parsed — so that callers can tell an
infrastructure failure from a wrong answer and never train on it as a zero reward.
"""

from __future__ import annotations

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
    """

    score: float
    correct: bool
    reason: str
    steps: list[float | None] | None = None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.correct

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
