"""`Fingerprint`: an immutable record of what produced an environment's results.

It names the env id and version, the verifier and its settings, the data (dataset revision or
file hash, generator and its settings) and the env settings. It is immutable, so every `info`
can carry the same object at no cost (no copy per step), and `digest` is a short stable hash to
label results with. It pickles (infos go through `gymnasium`'s `AsyncVectorEnv`, multiprocessing
queues and saved rollouts) as its plain data, and copying gives the object itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Iterator


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): _freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


class Fingerprint(Mapping):
    """Read-only nested mapping (`fp["data"]["sha256"]`); `to_dict()` gives plain JSON data."""

    __slots__ = ("_data", "_digest")

    def __init__(self, data: Mapping[str, Any]) -> None:
        plain = json.loads(json.dumps(data, default=repr))  # JSON-safe, detached from the caller
        self._data = _freeze(plain)
        self._digest = hashlib.sha256(json.dumps(plain, sort_keys=True).encode()).hexdigest()[:16]

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Fingerprint):
            return self._digest == other._digest
        return isinstance(other, Mapping) and self.to_dict() == _thaw(other)

    def __hash__(self) -> int:
        return hash(self._digest)

    @property
    def digest(self) -> str:
        """16 hex digits of the SHA-256 of the canonical JSON: equal digests, same setup."""
        return self._digest

    def to_dict(self) -> dict[str, Any]:
        return _thaw(self._data)

    def __repr__(self) -> str:
        return f"Fingerprint({self.digest}, env_id={self._data.get('env_id')!r})"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled as its plain data (a `MappingProxyType` cannot be pickled), rebuilt by `_unpickle`.

        Rebuilding recomputes the digest from the data, so a pickle cannot carry a digest that
        does not match it.
        """
        return _unpickle, (self.to_dict(),)

    def __copy__(self) -> "Fingerprint":
        return self  # immutable: a copy would only be an equal object

    def __deepcopy__(self, memo: dict[int, Any]) -> "Fingerprint":
        return self


def _unpickle(data: dict[str, Any]) -> Fingerprint:
    """The Fingerprint of pickled `data`, shared like the envs' own (`rlvr.envs.base._shared_fingerprint`).

    So the infos that an `AsyncVectorEnv`'s workers send, or a saved batch of rollouts, hold one
    object per setup in the receiving process, as the infos of a `TextVectorEnv` do.
    """
    from rlvr.envs.base import _shared_fingerprint  # imported here: rlvr.envs.base imports this module

    return _shared_fingerprint(Fingerprint(data))
