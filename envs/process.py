"""Process rewards: per-turn credit for the reasoning itself, not only the final answer.

`process_reward="steps"` (Math-v0, ToolMath-v0) checks every arithmetic claim the turn states
with `rlvr.verifiers.steps.verify_steps`; the turn's credit is the fraction of checked steps whose
claims all hold. A turn with nothing checkable earns 0: otherwise saying nothing would pay as
well as reasoning correctly. Padding does not pay either: a true claim that computes nothing
(`1 = 1`) earns no credit and a repeated claim is judged once (steps rules 3), but true arithmetic
beside the point still does, so keep the weight small. The `process` reward part is weighted like
the others (`reward_weights={"process": w}`).

A steps check that itself fails (`verify_steps` gives a `Verdict.failed`: a crashed math worker,
an overloaded pool) raises `StepsCheckError` here: the env then flags the whole turn as an
infrastructure failure (`info["valid"]` False) instead of paying a process reward of 0.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

PROCESS_REWARDS = (None, "steps")


class StepsCheckError(RuntimeError):
    """The steps check itself failed (not the model's reasoning): the turn must not be scored."""


_TOOL_CALL = re.compile(r"<tool_call>.*?(?:</tool_call>|$)", re.DOTALL)


def check_process_reward(value: Any) -> str | None:
    if value not in PROCESS_REWARDS:
        raise ValueError(f"process_reward must be one of {list(PROCESS_REWARDS)}, got {value!r}")
    return value


def reasoning_of(content: str) -> str:
    """The turn's own text, without its `<tool_call>` blocks (their code is not a claim), those
    drafted in its reasoning too. The text of a `<think>` block (`reasoning_spans`, the blocks in
    which a `<tool_call>` is no call) is read on its own: a call left unclosed there ends with the
    block, not with the turn, so the text after the block is still read."""
    from rlvr.envs.toolcalls import reasoning_spans

    pieces, pos = [], 0
    for start, end in reasoning_spans(content):
        pieces += [content[pos:start], content[start:end]]
        pos = end
    return "".join(_TOOL_CALL.sub(" ", piece) for piece in [*pieces, content[pos:]])


def steps_reward(text: str | Sequence[str], *, timeout: float) -> tuple[float | None, dict[str, Any]]:
    """(score, details): the fraction of checked steps that hold, or None when nothing is checkable.
    `text` may be a list of texts (an episode's turns): each is read within its own window, its
    claims judged once across them (`verify_steps`).

    Raises:
        StepsCheckError: the check itself failed (`verify_steps` returned a failed Verdict).
    """
    from rlvr.verifiers.steps import verify_steps

    verdict = verify_steps(text, timeout=timeout)
    if verdict.error is not None:
        raise StepsCheckError(f"the steps check failed: {verdict.error}")
    checked = int(verdict.details.get("checked_steps", 0))
    details = {"steps": list(verdict.steps or []), "checked_steps": checked, "reason": verdict.reason}
    if not checked:
        return None, details
    return float(verdict.score), {**details, "score": float(verdict.score)}
