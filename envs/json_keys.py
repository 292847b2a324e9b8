"""JSON objects that name a key twice.

`json.loads` keeps the last value of a repeated key without a word, and other JSON readers keep the
first, so such an object gives no one value: a dataset row `{"answer": "5", "answer": "6"}`, a tool
call naming two tools, a JSON answer with two values for one field. Each reader refuses it with its
own error (`row_files`, `toolcalls`, `scoring`); this module finds the key.
"""

from __future__ import annotations

from typing import Any


def repeated_key(pairs: list[tuple[str, Any]]) -> str | None:
    """The first key named twice among `pairs` (a JSON object's, as `json`'s `object_pairs_hook`
    receives them), or None."""
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return key
        seen.add(key)
    return None
