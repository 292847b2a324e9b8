"""What a rollout returns: the :class:`Trajectory` of one episode, and the errors that stop a rollout.

A trajectory holds an episode's exact token ids (the model's sampled tokens with their log-probs,
the prompt's and the environment's tokens masked from the loss), its turns' texts and rewards, and the
env's verdict; the trainer reads nothing else of a rollout. :mod:`.rollout` builds them. Kept apart
so that code that only reads trajectories or catches rollout errors (the trainer, ``rlvr eval``,
the losses' tests) need not read how episodes are run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

__all__ = ["Trajectory", "RolloutInfrastructureError", "PromptTooLongError", "merged_refusals", "task_options"]


class RolloutInfrastructureError(RuntimeError):
    """Episodes kept failing verification for infrastructure reasons after every retry."""


class PromptTooLongError(ValueError):
    """First-turn prompts that do not fit the model's context (bad data or settings, not a model
    failure to score). Raised by :meth:`~.rollout.RolloutCollector.collect`, naming every group whose prompt
    does not fit, so that a caller can drop them and go on with the others.

    Attributes (aligned lists):
        positions: indices into the task list given to ``collect`` of the groups that do not fit.
        task_ids: those groups' task ids.
        reasons: why each does not fit: the prompt's length and the limit (token-level engines),
            or the server's refusal (chat-level engines; see ``rollout.RolloutCollector._chat_call``).

    ``groups``: None when nothing was generated (token-level engines count the prompts before any
    generation). Chat-level engines only learn which prompts do not fit by sending them, so the
    others are generated and scored first: ``groups`` then holds ``collect``'s result for the whole
    task list, None at each position named (their episodes are not finished), so that a caller
    keeps them rather than generating them again (each was sampled with the seed of its position).

    A ValueError, as this error was before it named the tasks, so callers catching that still do."""

    def __init__(self, positions: Sequence[int], task_ids: Sequence[str], reasons: Sequence[str],
                 groups: Sequence[Any] | None = None) -> None:
        self.positions = list(positions)
        self.task_ids = [str(t) for t in task_ids]
        self.reasons = list(reasons)
        self.groups = None if groups is None else list(groups)
        shown = "; ".join(f"task {t}: {r}" for t, r in zip(self.task_ids[:3], self.reasons[:3]))
        more = f" (and {len(self.task_ids) - 3} more)" if len(self.task_ids) > 3 else ""
        super().__init__(
            f"{len(self.task_ids)} prompt(s) do not fit the model's context: {shown}{more}; shorten or filter such "
            "prompts, or raise max_context_tokens (the model's context by default) or the server's context if the "
            "model allows"
        )

    def __reduce__(self) -> Any:
        return (type(self), (self.positions, self.task_ids, self.reasons, self.groups))

    @classmethod
    def of(cls, found: Sequence[tuple[int, str, str]], groups: Sequence[Any] | None = None) -> "PromptTooLongError":
        """From (group, task id, reason) per episode that does not fit: one entry per group (its
        episodes ask the same task), in group order."""
        by_group: dict[int, tuple[str, str]] = {}
        for group, task_id, reason in found:
            by_group.setdefault(group, (task_id, reason))
        order = sorted(by_group)
        return cls(order, [by_group[g][0] for g in order], [by_group[g][1] for g in order], groups)

    def moved(self, where: Callable[[int], int], keep_groups: bool = True) -> "PromptTooLongError":
        """The same error with each position mapped through ``where`` (a group number to the
        position in the caller's task list); ``groups`` kept when ``keep_groups`` (already in the
        caller's order), else dropped."""
        return type(self)([where(p) for p in self.positions], self.task_ids, self.reasons,
                          self.groups if keep_groups else None)


def merged_refusals(first: PromptTooLongError | None, later: PromptTooLongError) -> PromptTooLongError:
    """One error naming the prompts of both (positions in the same task list), ``groups`` left to
    the caller (see :meth:`~.rollout.RolloutCollector.collect`)."""
    named = [] if first is None else list(zip(first.positions, first.task_ids, first.reasons))
    return PromptTooLongError.of(named + list(zip(later.positions, later.task_ids, later.reasons)))



@dataclass
class Trajectory:
    """One episode: what was asked, the exact tokens of every turn, and how it was scored.

    Token-level fields (empty for chat-level engines that return no ids):

    * ``token_ids``: the whole episode, prompt first (``prompt_len`` tokens), then model turns and
      environment replies.
    * ``loss_mask``: 1 on tokens the model sampled, 0 on prompt and environment tokens.
    * ``logprobs``: the engine's sampling log-prob of each token (0.0 where the mask is 0).
    * ``turn_ends``: for each model turn, the index in ``token_ids`` of its last sampled token
      (``-1`` for a turn that produced no tokens); ``turn_rewards[k]`` is the env's reward for turn
      ``k``.

    Rewards: ``outcome_reward`` is the ``outcome`` part summed over the episode (the verdict's score),
    ``total_reward`` the sum of the env's weighted per-turn rewards (what a trainer optimises).
    ``truncated`` is True when the last model turn hit the generation limit (``max_new_tokens``, or the
    room left in the context); ``episode_truncated`` when the episode ran out of turns (the env's or
    ``max_turns``) or of context (``max_context_tokens``) before the env's final verdict. ``valid`` is
    False when verification itself failed (``error`` says why): never train on such an episode as a
    zero reward. ``template_mismatch``: some model turn was not what the chat template renders for its
    message, or an env reply's tokens could not continue the model's as in the template's rendering
    (a token of the rendering spans their boundary), so the tokens are not the template's rendering
    of ``messages``. Only the model turns the env replied to are compared (building the reply's
    tokens is what needs the rendering): the episode's last model turn (its final answer, or the last
    turn of an episode out of turns) is not, so a special token sampled inside it is not flagged.
    That is harmless: training uses the sampled ids as they are, whatever the flag.
    ``turn_reasoning``: for each model turn, the reasoning a chat server returned apart from its text
    (``Sample.meta["reasoning"]``: vLLM's or SGLang's reasoning parser), "" when none; it is no part
    of ``turn_texts`` (what the env judged) nor of ``messages`` (what is sent back to the server).
    """

    task_id: str
    group: int
    index: int
    token_ids: list[int] = field(default_factory=list)
    loss_mask: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    prompt_len: int = 0
    turn_ends: list[int] = field(default_factory=list)
    turn_rewards: list[float] = field(default_factory=list)
    turn_texts: list[str] = field(default_factory=list)
    turn_reasoning: list[str] = field(default_factory=list)
    finish_reasons: list[str] = field(default_factory=list)
    outcome_reward: float = 0.0
    total_reward: float = 0.0
    reward_parts: dict[str, float] = field(default_factory=dict)
    truncated: bool = False
    episode_truncated: bool = False
    messages: list[dict[str, Any]] = field(default_factory=list)
    prompt: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    verdict: Any = None
    valid: bool = True
    error: str | None = None
    task_options: dict[str, Any] = field(default_factory=dict)
    template_mismatch: bool = False

    @property
    def correct(self) -> bool:
        """Whether the final verdict says the answer is right."""
        return bool(self.verdict is not None and getattr(self.verdict, "correct", False))

    @property
    def completion(self) -> str:
        """The model's text of every turn, joined (the whole answer of a single-turn episode)."""
        return "".join(self.turn_texts)

    @property
    def num_turns(self) -> int:
        return len(self.turn_texts)

    @property
    def response_length(self) -> int:
        """Number of tokens the model sampled in the episode (all turns)."""
        return int(sum(self.loss_mask))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary (no token arrays, verdict as a dict)."""
        verdict = self.verdict
        if verdict is not None and hasattr(verdict, "to_dict"):
            verdict = verdict.to_dict()
        elif verdict is not None and dataclasses.is_dataclass(verdict):
            verdict = dataclasses.asdict(verdict)
        return {
            "task_id": self.task_id,
            "group": self.group,
            "index": self.index,
            "prompt": self.prompt,
            "completion": self.completion,
            "turn_texts": list(self.turn_texts),
            "turn_reasoning": list(self.turn_reasoning),
            "turn_rewards": list(self.turn_rewards),
            "finish_reasons": list(self.finish_reasons),
            "outcome_reward": self.outcome_reward,
            "total_reward": self.total_reward,
            "reward_parts": dict(self.reward_parts),
            "correct": self.correct,
            "truncated": self.truncated,
            "episode_truncated": self.episode_truncated,
            "template_mismatch": self.template_mismatch,
            "response_length": self.response_length,
            "valid": self.valid,
            "error": self.error,
            "verdict": verdict,
            "messages": self.messages,
        }


def task_options(indices: Sequence[int]) -> list[dict[str, Any]]:
    """``[{"index": i}, ...]``: reset options selecting task ``i`` of an env's source."""
    return [{"index": int(i)} for i in indices]
