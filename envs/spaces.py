"""The text space every rlvr environment uses for observations and actions.

Gymnasium's `Text` space only admits characters from a fixed charset, but a language model may
write any Unicode character, and a dataset question may contain any too. `TextSpace` is a `Text`
whose membership test accepts every string up to `max_length` characters, while `sample()` still
draws from printable ASCII (enough to exercise an environment with random actions, as
`gymnasium.utils.env_checker.check_env` does).

Gymnasium's helpers that map a `Text` string to its charset (`character_index`, and the
`flatten` / `unflatten` functions behind the `FlattenObservation` wrapper) are not supported:
they know only the sampling charset and raise `KeyError` on any other character (CJK text, a
typeset minus sign), which `contains` admits. Text is meant to be tokenised, not flattened.
An environment's action may also be an assistant message dict with `tool_calls`
(`rlvr.envs.base.split_action`); `contains` is for text and says False for such a dict.

Gymnasium's `AsyncVectorEnv` cannot hold text in shared memory (its default): it reads a `Text`
observation once, when the vector env is built, and admits only the sampling charset. So a
`TextSpace` refuses shared memory with Gymnasium's own error, whose message says to pass
`shared_memory=False` (observations then travel through the pipes with the infos), rather than
give stale observations.
"""

from __future__ import annotations

import string
from typing import Any

from gymnasium import spaces
from gymnasium.error import CustomSpaceError
from gymnasium.vector.utils import create_shared_memory

#: Characters `TextSpace.sample()` draws from.
SAMPLE_CHARSET = string.printable


class TextSpace(spaces.Text):
    """Any `str` of `min_length`..`max_length` characters (all of Unicode admitted).

    Args:
        max_length: longest admitted string, in characters.
        min_length: shortest admitted string (0: the empty string is a valid observation, which
            is what an environment says after the episode ended).
        seed: seed for `sample()`.
    """

    def __init__(self, max_length: int, *, min_length: int = 0, seed: int | None = None) -> None:
        super().__init__(max_length, min_length=min_length, charset=SAMPLE_CHARSET, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"TextSpace({self.min_length}, {self.max_length})"


@create_shared_memory.register(TextSpace)
def _no_shared_memory(space: TextSpace, n: int = 1, ctx: Any = None) -> Any:
    raise CustomSpaceError(
        f"{space!r} cannot live in shared memory (Gymnasium's shared memory keeps one snapshot of a "
        "Text observation and only its sampling charset); pass vector_kwargs={'shared_memory': False} to "
        "gymnasium.make_vec(..., vectorization_mode='async'), or use rlvr's own vector env "
        "(gymnasium.make_vec's default mode for rlvr ids)"
    )
