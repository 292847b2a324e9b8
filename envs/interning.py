"""One shared object per distinct setting: the envs of a vector env built alike share theirs.

Scorers, fingerprints and reward weights are immutable, so the 64 envs of `make_vec` can hold one
of each instead of 64 equal copies: fewer objects to build, and a vector env fills a column from
one object instead of reading one per env.
"""

from __future__ import annotations

from typing import Any, Callable, Hashable, TypeVar

T = TypeVar("T")


class Interned:
    """A cache of shared values by key, bounded in case a caller builds settings endlessly."""

    def __init__(self, limit: int) -> None:
        self._values: dict[Hashable, Any] = {}
        self._limit = limit

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value shared under `key`, made by `make()` the first time (and past the bound, each time)."""
        value = self._values.get(key)
        if value is None:
            value = make()
            if len(self._values) < self._limit:
                self._values[key] = value
        return value
