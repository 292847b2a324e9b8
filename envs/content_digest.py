"""A SHA-256 of in-memory rows that tells apart any two datasets that differ.

Envs built from the same rows share one built task list (keyed by this digest), and the digest
is the dataset's fingerprint; hashing `json.dumps(rows, default=repr)` made a tuple and a list
answer alike, and two NumPy arrays alike whenever their shortened reprs were.
"""

from __future__ import annotations

import hashlib
import pickle
from typing import Any

import numpy as np


def content_sha256(value: Any) -> str:
    """SHA-256 of `value` (rows given in memory) that tells apart any two values that differ in
    content or type: a tuple from a list, 1 from 1.0 and True, a dict key 1 from "1", two NumPy
    arrays by dtype, shape and every byte (not their shortened repr). Equal plain data (str, numbers,
    None, bytes, lists, tuples, dicts, sets, NumPy values) gives the same digest in every process
    (dict and set order do not count). Other objects count by their type and pickle (their repr
    when they cannot be pickled), which may differ between processes for equal objects (a set
    inside one pickles in hash order): two envs may then not share tasks, never share wrong ones."""
    encoder = _Encoder()
    encoder.add(value)
    return encoder.hexdigest()


class _Encoder:
    """Feeds a tagged, length-prefixed encoding of a value to SHA-256 (see `content_sha256`),
    through a buffer: one `update` per megabyte rather than per value."""

    __slots__ = ("_digest", "_buffer")

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self._buffer = bytearray()

    def hexdigest(self) -> str:
        self._digest.update(self._buffer)
        self._buffer.clear()
        return self._digest.hexdigest()

    def chunk(self, tag: bytes, payload: bytes) -> None:
        buffer = self._buffer
        buffer += b"%s%d:" % (tag, len(payload))
        buffer += payload
        if len(buffer) > 1 << 20:
            self._digest.update(buffer)
            buffer.clear()

    def add_int(self, value: int) -> None:
        """An int in decimal; one too long for Python to write in decimal (over 4,300 digits by
        default) in two's-complement bytes under a tag of its own, so it still digests."""
        try:
            self.chunk(b"i", b"%d" % value)
        except ValueError:
            self.chunk(b"I", value.to_bytes(value.bit_length() // 8 + 1, "little", signed=True))

    def add(self, value: Any) -> None:
        kind = type(value)
        if kind is str:
            self.chunk(b"s", value.encode("utf-8", "surrogatepass"))
        elif kind is dict:
            self.chunk(b"d", b"%d" % len(value))
            if all(type(key) is str for key in value):  # the usual case: sorted keys are canonical
                for key in sorted(value):
                    self.chunk(b"s", key.encode("utf-8", "surrogatepass"))
                    self.add(value[key])
            else:  # keys of several types cannot be sorted: sort the pairs' digests
                self.chunk(b"", "".join(sorted(content_sha256(pair) for pair in value.items())).encode())
        elif kind is list or kind is tuple:
            self.chunk(b"l" if kind is list else b"t", b"%d" % len(value))
            for item in value:
                self.add(item)
        elif kind is int:
            self.add_int(value)
        elif value is None:
            self.chunk(b"N", b"")
        elif kind is bool:
            self.chunk(b"T" if value else b"F", b"")
        elif kind is float:
            self.chunk(b"f", value.hex().encode())
        elif kind is bytes:
            self.chunk(b"b", value)
        elif kind is set or kind is frozenset:
            self.chunk(b"S" if kind is set else b"Z", "".join(sorted(map(content_sha256, value))).encode())
        elif isinstance(value, np.ndarray):
            self.chunk(b"a", f"{value.dtype.str}{value.shape}".encode())
            if value.dtype.hasobject:
                for item in value.ravel(order="C"):
                    self.add(item)
            else:
                self.chunk(b"", np.ascontiguousarray(value).tobytes())
        elif isinstance(value, np.generic):
            self.chunk(b"g", value.dtype.str.encode() + b":" + value.tobytes())
        else:
            self.chunk(b"o", f"{kind.__module__}.{kind.__qualname__}".encode())
            try:
                self.chunk(b"p", pickle.dumps(value, protocol=4))
            except Exception:  # not picklable: its repr is the best there is
                self.chunk(b"r", repr(value).encode("utf-8", "surrogatepass"))
