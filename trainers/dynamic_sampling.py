"""DAPO dynamic sampling: drop groups without learning signal, refill the batch within a budget.

What "no learning signal" means
-------------------------------
A group is useless when every advantage the estimator would give its samples is (near) 0, because
then the policy-gradient loss of the whole group is 0 whatever the ratios are:

* GRPO ``(r - mean) / (std + eps)``, Dr. GRPO ``r - mean`` and RLOO ``n/(n-1) * (r - mean)`` are all
  zero exactly when the group's rewards are all equal, i.e. when the group's (population) reward std
  is 0. With continuous rewards "equal" must mean "equal within a tolerance": GRPO divides by the
  std, so a group such as ``[0.5, 0.5 + 1e-9]`` would otherwise have its rounding noise blown up into
  advantages of +-1. Hence the test ``std(rewards) > tol`` instead of "are there two distinct values".
  A group whose rewards are all exactly equal has no signal whatever ``tol`` is (0 included): float
  rounding gives such a group a std slightly above 0 (``[0.1] * 3``: about 1e-17), so it is tested first.
  RLOO needs at least two samples per group; for any group size the leave-one-out advantages vanish
  iff the std does, so the same test is right for it (a group of one is always dropped).
* Process-supervised GRPO normalises all step rewards of a group together: the group is useless when
  the pooled step rewards have std <= tol (use :func:`process_group_has_signal`).
* REINFORCE++ *without* a group baseline normalises over the whole batch, so a group with equal
  rewards still gets non-zero advantages when other groups differ: nothing is filtered
  (``estimator="reinforce++"`` keeps every group). REINFORCE++-baseline (``"reinforce++-baseline"``)
  subtracts the group mean first and is filtered like GRPO.

Which rewards: the task rewards (the env's, an episode's ``total_reward`` or its step rewards), not
the reward the update optimises alone. DAPO keeps a group when ``0 < #correct < G`` (Eq. 11), judged on
accuracy: an all-correct or all-wrong group is dropped whatever its overlong punishment
(``algorithm.overlong_cache_len``) or KL penalty (``kl_in=reward``) would add, else GRPO's std
scaling turns a one-token length difference into advantages of about +-1 (``Trainer._has_signal``).
The rewards optimised must differ too, else the update gets nothing from the group but the KL
penalty scaled up the same way: a group with task rewards ``[0, 0, 0, 1]`` whose one right answer
was cut off by its length limit (optimised ``[0, 0, 0, 0]``) is dropped and refilled.

Samples the loss masks out do not count: with ``algorithm.mask_truncated`` a group whose samples
are all truncated, or whose samples the loss sees all have the group's mean task reward (advantage 0),
is dropped and refilled (``Trainer._has_signal``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Sequence, TypeVar

import torch
from torch import Tensor

__all__ = [
    "ESTIMATORS",
    "group_has_signal",
    "process_group_has_signal",
    "signal_mask",
    "FillResult",
    "fill_batch",
]

G = TypeVar("G")

ESTIMATORS: tuple[str, ...] = (
    "grpo",
    "dr_grpo",
    "rloo",
    "reinforce++",
    "reinforce++-baseline",
    "process_grpo",
)


def _spread_above(values: Sequence[float] | Tensor, tol: float) -> bool:
    """Whether `values` are not all equal and their population std is above `tol`. All equal is no
    spread whatever `tol`, 0 included: float rounding gives `[0.1, 0.1, 0.1]` a std of about 1e-17."""
    t = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
    return t.numel() > 0 and not bool((t == t[0]).all()) and float(t.std(unbiased=False)) > tol


def group_has_signal(rewards: Sequence[float] | Tensor, *, tol: float = 1e-6, estimator: str = "grpo") -> bool:
    """True when a group of scalar rewards would give the estimator some non-zero advantage.

    See the module docstring for the rule per estimator. Non-finite rewards (NaN, +-inf) are never
    "signal", whatever the estimator: a group holding one is dropped (its advantages would poison the
    batch).
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}; choose one of {', '.join(ESTIMATORS)}")
    t = torch.as_tensor(rewards, dtype=torch.float64).reshape(-1)
    if t.numel() == 0 or not bool(torch.isfinite(t).all()):
        return False
    if estimator == "reinforce++":
        return True
    if estimator == "rloo" and t.numel() < 2:
        return False
    return _spread_above(t, tol)


def process_group_has_signal(
    step_rewards: Sequence[Sequence[tuple[int, float]]], *, tol: float = 1e-6
) -> bool:
    """True when the pooled per-step rewards of a group (process-supervised GRPO) are not all equal
    (and all finite: a NaN or infinite step reward is no signal, as in :func:`group_has_signal`)."""
    pooled = [float(r) for sample in step_rewards for _, r in sample]
    if not pooled or not all(math.isfinite(r) for r in pooled):
        return False
    return _spread_above(pooled, tol)


def signal_mask(rewards: Tensor, *, tol: float = 1e-6, estimator: str = "grpo") -> Tensor:
    """Vectorised :func:`group_has_signal`: ``[num_groups, group_size]`` rewards -> bool ``[num_groups]``
    (the same answer for every group, non-finite rewards included)."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}; choose one of {', '.join(ESTIMATORS)}")
    r = torch.as_tensor(rewards, dtype=torch.float64)
    if r.dim() != 2:
        raise ValueError(f"rewards must be [num_groups, group_size], got {tuple(r.shape)}")
    finite = torch.isfinite(r).all(dim=1) & (r.shape[1] > 0)
    if estimator == "reinforce++":
        return finite
    # rows holding a non-finite reward are dropped above; zeroing them keeps their std from warning
    spread = torch.where(finite[:, None], r, torch.zeros_like(r)).std(dim=1, unbiased=False) > tol
    keep = finite & spread & (r != r[:, :1]).any(dim=1)  # all-equal rows: no signal whatever the tol
    if estimator == "rloo" and r.shape[1] < 2:
        keep = torch.zeros_like(keep)
    return keep


@dataclass
class FillResult(Generic[G]):
    """What :func:`fill_batch` gathered and how.

    ``groups``: the kept groups, at most ``batch_groups`` of them, in generation order.
    ``kept``: groups with signal gathered (including ``surplus`` ones beyond the batch, not returned).
    ``dropped``: groups without signal. ``rounds``: generation rounds run (the first included).
    ``extra_rounds``: ``rounds - 1``. ``budget_exhausted``: the batch is not full because the budget of
    extra rounds ran out (train on what there is, and report it). ``surplus``: kept groups discarded
    because the batch was already full.
    """

    groups: list[G] = field(default_factory=list)
    kept: int = 0
    dropped: int = 0
    rounds: int = 0
    budget_exhausted: bool = False
    surplus: int = 0

    @property
    def extra_rounds(self) -> int:
        return max(self.rounds - 1, 0)

    @property
    def filtered_fraction(self) -> float:
        seen = self.kept + self.dropped
        return self.dropped / seen if seen else 0.0

    def as_metrics(self) -> dict[str, Any]:
        return {
            "groups_kept": self.kept,
            "groups_dropped": self.dropped,
            "filtered_fraction": self.filtered_fraction,
            "gen_rounds": self.rounds,
            "extra_rounds": self.extra_rounds,
            "budget_exhausted": self.budget_exhausted,
        }


def fill_batch(
    generate: Callable[[int, int], Sequence[G]],
    batch_groups: int,
    *,
    keep: Callable[[G], bool],
    max_extra_rounds: int = 0,
) -> FillResult[G]:
    """Accumulate groups with learning signal over generation rounds until the batch is full.

    ``generate(num_needed, round_index)`` produces a list of groups (it may return more or fewer than
    asked; an empty list counts as a round). ``keep(group)`` says whether a group has signal (e.g.
    ``lambda g: group_has_signal(g.rewards)``). The first round is always run; at most
    ``max_extra_rounds`` more follow while the batch is short. Running out of budget is not an error:
    the result holds what was gathered (possibly nothing) with ``budget_exhausted=True``. Exceptions
    raised by ``generate`` or ``keep`` (an infrastructure failure) propagate unchanged: they must not be
    turned into an emptier batch.
    """
    if batch_groups < 1:
        raise ValueError(f"batch_groups must be >= 1, got {batch_groups}")
    if max_extra_rounds < 0:
        raise ValueError(f"max_extra_rounds must be >= 0, got {max_extra_rounds}")
    result: FillResult[G] = FillResult()
    while result.rounds <= max_extra_rounds and len(result.groups) < batch_groups:
        needed = batch_groups - len(result.groups)
        produced = generate(needed, result.rounds)
        result.rounds += 1
        for group in produced:
            if keep(group):
                result.kept += 1
                if len(result.groups) < batch_groups:
                    result.groups.append(group)
                else:
                    result.surplus += 1
            else:
                result.dropped += 1
    result.budget_exhausted = len(result.groups) < batch_groups
    return result
