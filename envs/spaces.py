"""The text space every rlvr environment uses for observations and actions.

Gymnasium's `Text` space only admits characters from a fixed charset, but a language model may
write any Unicode character, and a dataset question may contain any too. `TextSpace` is a `Text`
whose membership test accepts every string up to `max_length` characters, while `sample()` still
draws from printable ASCII (enough to exercise an environment with random actions, as
`gymnasium.utils.env_checker.check_env` does).
"""

from __future__ import annotations

import string
from typing import Any

from gymnasium import spaces

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
