"""How an environment's reward parts combine into one scalar.

Every step reports its reward as named parts — `outcome` (was the final answer right), `format`
(did the answer follow the requested form) and `process` (per-turn credit, e.g. a tool call that
parsed and ran) — and the scalar reward is their weighted sum. Keeping the parts separate lets a
trainer log them, re-weight them, or use only the outcome.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass
from typing import Any, Mapping

PARTS = ("outcome", "format", "process")


@dataclass(frozen=True)
class RewardWeights:
    """Weights of the reward parts. The default rewards the outcome alone.

    Each weight is a finite real number (an int or a float; negative weights are allowed, to
    penalise a part). NaN, infinities, bools and strings are refused with a ValueError naming the
    part: an infinite weight times a zero part gives a NaN reward, and `"1"` or `True` would have
    been read as 1.0 without a word.
    """

    outcome: float = 1.0
    format: float = 0.0
    process: float = 0.0

    def __post_init__(self) -> None:
        for part in PARTS:  # stored as floats, so `RewardWeights(outcome=1)` is `{"outcome": 1.0}`
            object.__setattr__(self, part, float(check_weight(part, getattr(self, part))))
        # every part is at most 1 in size, so this bounds a step's reward: it must stay finite
        if not math.isfinite(abs(self.outcome) + abs(self.format) + abs(self.process)):
            raise ValueError(f"reward_weights {self.to_dict()} are too large: a reward could overflow to "
                             f"infinity; use weights whose sizes sum to a finite number")

    @classmethod
    def coerce(cls, value: "RewardWeights | Mapping[str, float] | None") -> "RewardWeights":
        """Build weights from None (defaults), a mapping of part -> weight, or RewardWeights.

        A weight that is not a finite real number raises ValueError naming the part (`check_weight`,
        in `__post_init__`).
        """
        if value is None:
            return cls()
        if isinstance(value, RewardWeights):
            return value
        if not isinstance(value, Mapping):
            raise TypeError(
                f"reward_weights must be a dict like {{'outcome': 1.0, 'format': 0.1}}, "
                f"got {type(value).__name__}"
            )
        unknown = sorted(set(value) - set(PARTS))
        if unknown:
            raise ValueError(
                f"unknown reward part(s) {unknown} in reward_weights; the parts are {list(PARTS)}"
            )
        return cls(**value)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def check_weight(part: Any, value: Any) -> Any:
    """`value` when it is a finite real number (int, float, or a NumPy one; not a bool), else a
    ValueError naming the part and the value (an int too large for a float, `10**400`, included)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not _finite_float(value):  # np.bool_ is no Real
        raise ValueError(f"reward_weights[{part!r}] must be a finite number within the float range (an int or a float), got "
                         f"{type(value).__name__} {value!r:.80}")
    return value


def _finite_float(value: numbers.Real) -> bool:
    """Whether `value` is finite as a float: `math.isfinite` raises OverflowError for an int past
    the float range, which a weight (stored as a float) cannot be."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


_ZERO_PARTS = dict.fromkeys(PARTS, 0.0)


def zero_parts() -> dict[str, float]:
    """A fresh parts dict with every part at 0 (a copy of a template: called several times per step)."""
    return _ZERO_PARTS.copy()


def combine(parts: Mapping[str, float], weights: RewardWeights) -> float:
    """Weighted sum of the reward parts (missing parts count as 0)."""
    try:  # every part present, the usual case: plain lookups (this runs at every step)
        outcome, format_, process = parts["outcome"], parts["format"], parts["process"]
    except KeyError:
        outcome, format_, process = parts.get("outcome", 0.0), parts.get("format", 0.0), parts.get("process", 0.0)
    return float(weights.outcome * outcome + weights.format * format_ + weights.process * process)


def add_parts(total: Mapping[str, float], step: Mapping[str, float]) -> dict[str, float]:
    """Part-wise sum of two parts dicts (a new dict with the parts of `PARTS`; missing parts count as 0).

    Spelled out part by part, with plain lookups when every part is present, rather than as a
    comprehension over `PARTS` with `get`: it runs at every step, and this is twice as fast.
    """
    try:
        return {
            "outcome": float(total["outcome"] + step["outcome"]),
            "format": float(total["format"] + step["format"]),
            "process": float(total["process"] + step["process"]),
        }
    except KeyError:
        get_total, get_step = total.get, step.get
        return {
            "outcome": float(get_total("outcome", 0.0) + get_step("outcome", 0.0)),
            "format": float(get_total("format", 0.0) + get_step("format", 0.0)),
            "process": float(get_total("process", 0.0) + get_step("process", 0.0)),
        }
