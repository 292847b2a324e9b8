"""`Fingerprint`: an immutable record of what produced an environment's results.

It names the env id and version, the verifier and its settings, the data (dataset revision or
file hash, generator and its settings) and the env settings. It is immutable, so every `info`
can carry the same object at no cost (no copy per step), and `digest` is a short stable hash to
label results with. It pickles (infos go through `gymnasium`'s `AsyncVectorEnv`, multiprocessing
queues and saved rollouts) as its plain data, and copying gives the object itself.

The digest is the same in every process for the same setup: values JSON cannot write are written
by `plain_json` / `stable_repr` (a set sorted, an object as its type's qualified name and a
digest of its state, never a memory address), and where data known by the SHA-256 of its content
lies (a local file's path) is recorded but not digested (`LOCATION_KEYS`).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
import sys
import types
from collections.abc import Mapping
from typing import Any, Iterator

import numpy as np

#: Keys of the data fingerprint that say where data lies or how `datasets` named one load of it,
#: not what it holds. With a SHA-256 of the content ("sha256") they are left out of the digest
#: (kept in the record): the same bytes at another path are the same setup. The rule of
#: `rlvr.benchmarks.identity.data_identity`, which a resumed evaluation compares.
LOCATION_KEYS = ("source", "files", "content_fingerprint")

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
#: How deep `stable_repr` / `plain_json` follow containers and object states before writing a type name.
_MAX_DEPTH = 12


def _type_name(value: Any) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def _short_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stable_repr(value: Any, _depth: int = 0, _seen: frozenset[int] = frozenset()) -> str:
    """`repr(value)` made the same in every process for equal values.

    Plain values, lists, tuples and dicts are written exactly as `repr` writes them; a set or
    frozenset with its items sorted by their own stable repr (a set's repr follows the per-process
    string hash order); a dataclass or named tuple field by field; a function or other callable as
    its qualified name and the digest of what it is made of (`rlvr.envs.scoring.callable_identity`);
    an object with the default repr ('<X object at 0x...>') as "<module.X state=...>", the digest of
    its attributes (`vars`), or "<module.X>" when it has none; a NumPy array, a pandas object or a
    PyTorch tensor by its content (`content_repr`: their reprs summarise large ones as "[0, 1, ...,
    4999]"); any other object by its own repr with memory addresses removed, and where that repr
    summarises ("...") and the object is array-like (`__array__`: JAX, xarray...), by its content.
    Other objects with a summarised repr are written by that repr, not by their attributes: those
    may be a cache that changes as tasks are drawn, or a corpus too large to digest per env.
    Containers nested deeper than a dozen levels, or holding themselves, are written by type name
    there.
    """
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return repr(value)
    if _depth > _MAX_DEPTH or id(value) in _seen:
        return f"<{_type_name(value)}>"
    seen = _seen | {id(value)}
    depth = _depth + 1

    def inner(item: Any) -> str:
        return stable_repr(item, depth, seen)

    array = content_repr(value, inner)
    if array is not None:
        return array
    kind = type(value)
    if kind is dict:
        return "{" + ", ".join(f"{inner(k)}: {inner(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Mapping):  # OrderedDict, defaultdict, a mappingproxy...: its type and items
        return f"{kind.__qualname__}(" + "{" + ", ".join(f"{inner(k)}: {inner(v)}" for k, v in value.items()) + "})"
    if kind is list or (isinstance(value, list) and kind.__repr__ is list.__repr__):
        return "[" + ", ".join(map(inner, value)) + "]"
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple
        return f"{kind.__qualname__}(" + ", ".join(f"{f}={inner(v)}" for f, v in zip(value._fields, value)) + ")"
    if kind is tuple or (isinstance(value, tuple) and kind.__repr__ is tuple.__repr__):
        items = [inner(v) for v in value]
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    if isinstance(value, (set, frozenset)):
        items = ", ".join(sorted(map(inner, value)))
        if kind is set:
            return "{" + items + "}" if items else "set()"
        return f"{kind.__qualname__}({{{items}}})" if items else f"{kind.__qualname__}()"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [f for f in dataclasses.fields(value) if f.repr]
        return f"{kind.__qualname__}(" + ", ".join(f"{f.name}={inner(getattr(value, f.name, None))}" for f in fields) + ")"
    if isinstance(value, (types.FunctionType, types.MethodType, functools.partial)):
        from rlvr.envs.scoring import callable_identity  # here: rlvr.envs.scoring imports rlvr.envs.tasks

        identity = callable_identity(value)
        name = identity.get("name") or identity.get("function", {}).get("name") or _type_name(value)
        return f"<callable {name} {_short_digest(json.dumps(identity, sort_keys=True))}>"
    if kind.__repr__ is object.__repr__:
        state = getattr(value, "__dict__", None)
        if isinstance(state, dict) and state:
            return f"<{_type_name(value)} state={_short_digest(stable_repr(state, depth, seen))}>"
        return f"<{_type_name(value)}>"
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__: the type is all that can be said
        return f"<{_type_name(value)}>"
    text = _ADDRESS.sub("", text)
    # a summarised repr ("[0, 1, ..., 4999]") of an array of another library (JAX, xarray...): its
    # content. Only array-likes: another object's state may be a cache its generator fills (the
    # digest would change after a reset) or a million-document corpus (seconds per make); such an
    # object is its repr, as before.
    if "..." in text and hasattr(value, "__array__"):
        try:
            array = np.asarray(value)
        except Exception:  # noqa: BLE001 - one NumPy cannot read (on a GPU): its repr
            return text
        return _array_repr(array, inner, f"{_type_name(value)} {_dtype_text(array.dtype)}")
    return text


def content_repr(value: Any, inner: Any = None) -> str | None:
    """A NumPy array, a pandas Series / DataFrame / Index or a PyTorch tensor written by its
    content: "<numpy.ndarray int64 (5000,) sha256=...>" (dtype, shape and a digest of the bytes of a
    C-ordered copy); None for any other value.

    Their reprs summarise: NumPy writes a 5000-entry array as "[0, 1, 2, ..., 4998, 4999]" and
    rounds floats to 8 digits, so two different tables had one repr and one fingerprint. An array
    of Python objects (its bytes are memory addresses) is written by the `stable_repr` of its items
    (`inner`). pandas and torch are only looked at when already imported (a value of theirs cannot
    exist otherwise): this never imports them.
    """
    write = inner if inner is not None else stable_repr
    if isinstance(value, np.ndarray):
        return _array_repr(value, write)
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(value, (pandas.Series, pandas.DataFrame, pandas.Index)):
        return _pandas_repr(pandas, value, write)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        try:
            tensor = value.detach().cpu()
            data = (tensor.float() if tensor.dtype == torch.bfloat16 else tensor).numpy()  # exact: bf16 is a float32 prefix
        except Exception:  # noqa: BLE001 - a tensor NumPy cannot hold (a sparse or meta one): its repr
            return None
        return _array_repr(data, write, f"{_type_name(value)} {tensor.dtype}")
    return None


def _array_repr(array: np.ndarray, write: Any, kind: str = "") -> str:
    """`content_repr` of a NumPy array (`kind`: the type and dtype to write for an array-like of
    another library, as NumPy holds it): "<numpy.ndarray int64 (5000,) sha256=...>".

    Equal values give one digest in every process (`_content_digest`); a masked array's mask
    counts too, and its masked entries' hidden data does not."""
    kind = kind or f"{_type_name(array)} {_dtype_text(array.dtype)}"
    mask = ""
    if isinstance(array, np.ma.MaskedArray):
        mask = f" mask={_content_digest(np.ma.getmaskarray(array), write)}"
    return f"<{kind} {array.shape} sha256={_content_digest(array, write)}{mask}>"


def _dtype_text(dtype: np.dtype) -> str:
    """A dtype as the values it holds, not their layout in memory: little-endian ('>i8' and '<i8'
    hold the same integers), a structured dtype as its fields' names and dtypes (not the offsets,
    padding or fields hidden by a field-subset view), a sub-array as its base and shape."""
    if dtype.names is not None:
        return "{" + ", ".join(f"{name!r}: {_dtype_text(dtype.fields[name][0])}" for name in dtype.names) + "}"
    if dtype.subdtype is not None:
        base, shape = dtype.subdtype
        return f"{_dtype_text(base)}{shape}"
    return str(_little_endian(dtype))


def _little_endian(dtype: np.dtype) -> np.dtype:
    """`dtype` with its items in little-endian byte order; itself when its byte order is not a
    question (one byte, a string of bytes, a dtype of another library)."""
    if dtype.byteorder in "=<>" and dtype.names is None:
        try:
            return dtype.newbyteorder("<")
        except (TypeError, ValueError):
            return dtype
    return dtype


def _raw_bytes_safe(dtype: np.dtype) -> bool:
    """Whether every byte of an item of `dtype` is part of its value, so its bytes can be hashed:
    booleans, integers, IEEE float16/32/64 and complex64/128, fixed-width strings and bytes,
    datetimes and timedeltas, plain void. Not a long double (x87's float128 has 6 bytes of padding,
    left uninitialised), a structured dtype (alignment padding), NumPy 2's variable-width strings
    (their bytes are pointers) or a dtype of another library."""
    if dtype.names is not None or dtype.subdtype is not None or dtype.hasobject:
        return False
    if dtype.kind in "biuSUMm":
        return True
    if dtype.kind == "f":
        return dtype.itemsize in (2, 4, 8)
    if dtype.kind == "c":
        return dtype.itemsize in (8, 16)
    return dtype.kind == "V" and dtype.type is np.void


def _content_digest(array: np.ndarray, write: Any) -> str:
    """16 hex digits of a SHA-256 of an array's values, the same in every process for equal values.

    - A structured array field by field (name and values, recursively): its own bytes hold
      alignment padding, left uninitialised, and a field-subset view's hold the hidden fields.
    - An array of Python objects (its bytes are addresses) by the `stable_repr` of its items (`write`).
    - A dtype with no padding (`_raw_bytes_safe`) by its little-endian bytes in C order; every NaN
      is first made one NaN (their payloads and signs are not values anyone reads); -0.0 stays
      apart from 0.0 (1/x tells them apart).
    - Any other dtype (long double, variable-width strings...) by the text of its items' values.
    A masked array's masked entries count as zero (or empty): their hidden data is no value."""
    dtype = array.dtype
    if dtype.names is not None:  # a masked array's field keeps its part of the mask
        parts = [f"{name!r}:{_content_digest(array[name], write)}" for name in dtype.names]
        return _short_digest(f"{array.shape} {{{', '.join(parts)}}}")
    data = np.ma.getdata(array)
    if isinstance(array, np.ma.MaskedArray) and np.ma.getmaskarray(array).any():
        data = np.where(np.ma.getmaskarray(array), np.zeros((), dtype=dtype), data)
    if dtype.hasobject:
        return _short_digest(write(data.tolist()))
    if dtype.kind in "fc":  # every NaN one NaN: real and imaginary parts apart
        data = _one_nan(data)
    if not _raw_bytes_safe(dtype):
        return _short_digest(f"{data.shape} " + "\n".join(_ADDRESS.sub("", repr(item)) for item in data.ravel().tolist()))
    data = np.ascontiguousarray(data, dtype=_little_endian(dtype))
    return hashlib.sha256(data.tobytes()).hexdigest()[:16]


def _one_nan(data: np.ndarray) -> np.ndarray:
    """A float or complex array with every NaN (any sign or payload) made NumPy's own NaN; the
    array itself when it holds none."""
    if data.dtype.kind == "c":
        parts = data.real, data.imag
        real, imag = (_one_nan(part) for part in parts)
        if real is parts[0] and imag is parts[1]:
            return data
        out = np.empty_like(data)
        out.real, out.imag = real, imag
        return out
    nan = np.isnan(data)
    if not nan.any():
        return data
    return np.where(nan, np.array(np.nan, dtype=data.dtype), data)


def _pandas_repr(pandas: Any, value: Any, write: Any) -> str:
    """`content_repr` of a pandas Series, DataFrame or Index: its labels, dtypes and values."""
    if isinstance(value, pandas.Index):
        parts: Any = [list(value.names), str(value.dtype), content_repr(np.asarray(value.to_numpy()), write)]
    elif isinstance(value, pandas.Series):
        parts = [value.name, str(value.dtype), content_repr(value.index, write),
                 content_repr(np.asarray(value.to_numpy()), write)]
    else:
        parts = [content_repr(value.columns, write), [str(dtype) for dtype in value.dtypes], content_repr(value.index, write),
                 [content_repr(np.asarray(value.iloc[:, i].to_numpy()), write) for i in range(value.shape[1])]]
    return f"<{_type_name(value)} {value.shape} content={_short_digest(write(parts))}>"


def _json_key(key: Any) -> str:
    """A dict key as `json.dumps` writes it (str, numbers, bool, None), other keys by `stable_repr`."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)
    return stable_repr(key)


def plain_json(value: Any, _depth: int = 0) -> Any:
    """`value` as JSON data that is the same in every process for the same setup.

    JSON values as they are (a tuple, named ones too, as a list, as `json` writes it); a NumPy scalar or array as
    its Python value (np.int64(4) as 4); any other value as its `stable_repr` text (a set sorted,
    an object by type and state: no memory address). Dict keys JSON cannot write are written by
    `stable_repr` too.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.generic, np.ndarray)):
        return plain_json(value.tolist(), _depth + 1)
    if _depth > 100:  # deeper than any setting: (a list holding itself)
        return f"<{_type_name(value)}>"
    if isinstance(value, Mapping):
        return {_json_key(k): plain_json(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(v, _depth + 1) for v in value]
    return stable_repr(value)


class FrozenDict(dict):
    """A read-only dict: a fingerprint's nested records (`fp["verifier"]`, `fp["settings"]`).

    A dict, so `json.dumps` writes it (a `MappingProxyType` it cannot); every method that would
    change it raises TypeError. Pickled and copied as a new FrozenDict of its items (unpickling a
    dict subclass sets items one by one, which is refused here).
    """

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("a fingerprint is read-only; use to_dict() for a copy that can be changed")

    __setitem__ = __delitem__ = __ior__ = _read_only  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _read_only  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return FrozenDict, (dict(self),)

    def __copy__(self) -> "FrozenDict":
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> "FrozenDict":
        return self


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return FrozenDict({str(k): _freeze(v) for k, v in value.items()})
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
    """Read-only nested mapping (`fp["data"]["sha256"]`); `to_dict()` gives plain JSON data.

    Its records are `FrozenDict`s and tuples, which `json` writes: `json.dumps(dict(fp))` writes the
    whole record, `json.dumps(fp["verifier"])` a part. The Fingerprint itself is no dict, so
    `json.dumps(fp)` raises TypeError: a vector env (Gymnasium's and rlvr's) splits a dict in an
    info into one column per key, and must keep this one object per env.
    """

    __slots__ = ("_data", "_digest")

    def __init__(self, data: Mapping[str, Any]) -> None:
        plain = json.loads(json.dumps(plain_json(data)))  # JSON-safe, detached from the caller
        self._data = _freeze(plain)
        self._digest = hashlib.sha256(json.dumps(_digested(plain), sort_keys=True).encode()).hexdigest()[:16]

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
        """16 hex digits of the SHA-256 of the canonical JSON: equal digests, same setup.

        The data's location (`LOCATION_KEYS`: a local file's path) is left out when the data is
        known by the SHA-256 of its content: a copy of the file elsewhere gives the same digest."""
        return self._digest

    def to_dict(self) -> dict[str, Any]:
        return _thaw(self._data)

    def __repr__(self) -> str:
        return f"Fingerprint({self.digest}, env_id={self._data.get('env_id')!r})"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled as its plain data, rebuilt by `_unpickle`.

        Rebuilding recomputes the digest from the data, so a pickle cannot carry a digest that
        does not match it.
        """
        return _unpickle, (self.to_dict(),)

    def __copy__(self) -> "Fingerprint":
        return self  # immutable: a copy would only be an equal object

    def __deepcopy__(self, memo: dict[int, Any]) -> "Fingerprint":
        return self


def _digested(plain: dict[str, Any]) -> dict[str, Any]:
    """What the digest is computed over: `plain` without the data's `LOCATION_KEYS` when the data
    has a content SHA-256 (see `Fingerprint.digest`)."""
    data = plain.get("data")
    if isinstance(data, dict) and data.get("sha256"):
        return dict(plain, data={k: v for k, v in data.items() if k not in LOCATION_KEYS})
    return plain


def _unpickle(data: dict[str, Any]) -> Fingerprint:
    """The Fingerprint of pickled `data`, shared like the envs' own (`rlvr.envs.base._shared_fingerprint`).

    So the infos that an `AsyncVectorEnv`'s workers send, or a saved batch of rollouts, hold one
    object per setup in the receiving process, as the infos of a `TextVectorEnv` do.
    """
    from rlvr.envs.base import _shared_fingerprint  # imported here: rlvr.envs.base imports this module

    return _shared_fingerprint(Fingerprint(data))
