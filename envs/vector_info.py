"""Gymnasium's vector-info layout, built from many sub-envs' infos at once.

A vector env's `info` is a dict whose every key holds one entry per sub-environment (a NumPy
array) plus a boolean mask `"_key"` saying which sub-environments reported it; nested dicts are
batched recursively. `batch_infos` builds it from per-env info dicts, `facts_columns` straight
from the sub-envs' `InfoFacts` (no dict per env), and `put_column` from one key's values.

All follow the typing rules of `gymnasium.vector.VectorEnv._add_info` (folded over the envs in
index order, as `SyncVectorEnv` does; `tests/test_envs.py` compares the two):

- a dict value is batched recursively; `final_obs` is always an object array;
- numbers (exactly `int`, `float`, `bool`, or a NumPy number type; not `np.bool_`) go in an array
  of the first reporting env's type, 0 where an env did not report the key;
- a NumPy array goes in an `(num_envs, *shape)` array of the first one's dtype, rows of 0 where
  missing;
- anything else (str, None, lists, `np.bool_`...) in an object array, None where missing.

Where Gymnasium's result would change values or it fails, this deliberately differs:

- numbers of several types, when one does not cast to the first one's type within its kind
  (a float after an int, an int after a bool, float after np.int32): Gymnasium truncates them
  (0.5 becomes 0, 2 becomes True); here the array takes the type they all promote to
  (`np.result_type`: [1, 0.5] gives float64 [1.0, 0.5]). A float64 after a float32 still
  goes in the float32 array, as in Gymnasium (same kind);
- numbers mixed with non-numbers (an int, then None or a str): Gymnasium raises (or parses "3"
  into 3); here the column is an object array of the values as given. So is a number too large
  for its type (an int beyond int64), where Gymnasium raises;
- arrays of different shapes, or arrays mixed with other values: Gymnasium broadcasts a value
  into another's row or raises; here the column is an object array;
- a dict in some envs and a non-dict in others: Gymnasium's result is malformed (the later
  value is stored under the env's index as a key of the nested dict, or the call fails); here the
  column is an object array of the values as given.
"""

from __future__ import annotations

import copy
from itertools import repeat
from operator import is_
from typing import Any, Sequence

import numpy as np

from rlvr.envs.base import InfoFacts, _copy_messages
from rlvr.envs.interning import Interned

def batch_infos(pairs: Sequence[tuple[int, dict[str, Any]]], num_envs: int) -> dict[str, Any]:
    """Batch per-env infos into Gymnasium's vector-info layout.

    Same result as folding `VectorEnv._add_info` over `pairs` (arrays of length `num_envs`, a
    `"_key"` mask per key, nested dicts batched recursively, numbers in typed arrays, anything
    else in object arrays), but built column by column: when every info has the same keys (the
    usual case) each key's values are gathered with one list comprehension and turned into one
    array, instead of touching NumPy per env and key — the batching was the largest cost of the
    env layer in `benchmarks/perf/env_bench.py`.
    """
    indices = [i for i, _ in pairs]
    infos = [info for _, info in pairs]
    return _batch_columns(indices, infos, num_envs, indices == list(range(num_envs)))


_ALL_TRUE: dict[int, np.ndarray] = {}


def _all_true(n: int) -> np.ndarray:
    """A new all-True mask of length n (copying a template is cheaper than np.ones)."""
    template = _ALL_TRUE.get(n)
    if template is None:
        template = _ALL_TRUE[n] = np.ones(n, dtype=np.bool_)
    return template.copy()


def _batch_columns(indices: list[int], infos: list[dict[str, Any]], n: int, full: bool) -> dict[str, Any]:
    """`batch_infos` of the dicts `infos` of the envs `indices` (`full`: indices are 0..n-1)."""
    if not infos:
        return {}
    keys = infos[0].keys()
    columns: dict[str, tuple[list[int], list[Any], bool]] = {}
    try:
        if set(map(len, infos)) != {len(keys)}:
            raise KeyError  # different sizes: different keys
        for key in keys:  # same size and every key of the first: the same keys everywhere
            columns[key] = (indices, [info[key] for info in infos], full)
    except KeyError:  # keys differ between envs: gather each key's (index, value) pairs
        columns = {}
        gathered: dict[str, tuple[list[int], list[Any]]] = {}
        for index, info in zip(indices, infos):
            for key, value in info.items():
                idx, values = gathered.setdefault(key, ([], []))
                idx.append(index)
                values.append(value)
        for key, (idx, values) in gathered.items():
            columns[key] = (idx, values, len(idx) == n and idx == list(range(n)))
    out: dict[str, Any] = {}
    for key, (idx, values, complete) in columns.items():
        put_column(out, key, idx, values, n, complete)
    return out


def put_column(out: dict[str, Any], key: str, idx: list[int], values: list[Any], n: int, complete: bool, kind: type | None = None) -> None:
    """Set `out[key]` and its mask `out["_" + key]` from the values of the envs `idx`.

    The typing rules of Gymnasium's `VectorEnv._add_info` (see the module docs, which also list
    where this deliberately differs): dicts are batched recursively; numbers go in an array of the
    first value's type, arrays in an `(n, *shape)` array of the first one's dtype (0 where an env
    did not report the key); anything else in an object array (None where missing); `final_obs`
    is always an object array. `complete`: `idx` is 0..n-1. `kind`: the caller knows every value
    is a dict (`dict`), or neither a number, an array nor a dict (`object`), so the values' types
    need not be looked at.
    """
    first = values[0]
    if all(map(is_, values, repeat(first))):  # one object everywhere: 0, True, None, a shared dict
        put_constant(out, key, idx, first, n, complete)
        return
    kinds = {kind} if kind is not None else set(map(type, values))
    one = next(iter(kinds)) if len(kinds) == 1 else None
    column = None  # None: an object array
    if key == "final_obs":
        pass
    elif all(issubclass(k, dict) for k in kinds):
        column = _batch_columns(idx, values, n, complete)
    elif one in (int, float, bool) or (one is not None and issubclass(one, np.number)):  # one `_is_number` type
        column = _numbers(idx, values, n, complete, one)
    elif one is not None and issubclass(one, np.ndarray):
        column = _arrays(idx, values, n, complete)
    elif one is None and _is_number(type(first)):  # several types, the first a number
        column = _mixed_numbers(idx, values, n, complete, kinds, type(first))
    if column is None:  # (the common complete case spelt out: this runs for every column of every step)
        column = np.fromiter(values, dtype=object, count=n) if complete else _objects(idx, values, n)
    out[key] = column
    out[f"_{key}"] = mask(idx, n, complete)


def _is_number(kind: type) -> bool:
    """True for the types Gymnasium's `_add_info` keeps in a typed array: exactly int, float or
    bool, or a NumPy number type (not `np.bool_`, nor subclasses of int such as enums)."""
    return kind in (int, float, bool) or issubclass(kind, np.number)


def _numbers(idx: list[int], values: list[Any], n: int, complete: bool, dtype: Any) -> np.ndarray | None:
    """A `dtype` array of length n with `values` at `idx`, 0 elsewhere; None when a value does not
    fit `dtype` (an int beyond int64: Gymnasium raises there, the column becomes objects here)."""
    try:
        if complete:
            return np.array(values, dtype=dtype)
        array = np.zeros(n, dtype=dtype)
        array[idx] = values
        return array
    except (OverflowError, TypeError, ValueError):
        return None


def _mixed_numbers(idx: list[int], values: list[Any], n: int, complete: bool, kinds: set[type], first: type) -> np.ndarray | None:
    """The column of numbers of several types, the first a `first`; None (objects) when some
    value is not a number at all (Gymnasium raises, or parses a string such as "3")."""
    if not all(_is_number(k) or k is np.bool_ for k in kinds):
        return None
    return _numbers(idx, values, n, complete, _column_dtype(np.dtype(first), [np.dtype(k) for k in kinds]))


def _column_dtype(first: np.dtype, dtypes: list[np.dtype]) -> np.dtype:
    """The first value's dtype, as Gymnasium uses, when every dtype casts to it within its kind
    (int into float, float64 into float32); else, where Gymnasium would change values (0.5 into an
    int array gives 0, 2 into a bool array True), the type all of them promote to."""
    if all(np.can_cast(dtype, first, "same_kind") for dtype in dtypes):
        return first
    return np.result_type(*dtypes)


def _arrays(idx: list[int], values: list[np.ndarray], n: int, complete: bool) -> np.ndarray | None:
    """The `(n, *shape)` array of the NumPy arrays `values` (rows of zeros where missing), typed by
    `_column_dtype`; None (objects) when their shapes differ, where Gymnasium would broadcast
    one into another's row or raise."""
    shape = values[0].shape
    if any(value.shape != shape for value in values):
        return None
    dtype = _column_dtype(values[0].dtype, list({value.dtype for value in values}))
    array = np.zeros((n, *shape), dtype=dtype)
    try:
        for i, value in zip(idx, values):
            array[i] = value
    except (OverflowError, TypeError, ValueError):
        return None
    return array


def put_constant(out: dict[str, Any], key: str, idx: list[int], value: Any, n: int, complete: bool) -> None:
    """`put_column` for a column that holds the same object for every env in `idx`.

    Same typing rules, but each array is filled from the one value instead of converting a list
    (a reset's turn 0, valid True, verdict None and zero reward parts are such columns).
    """
    kind = type(value)
    if key != "final_obs" and issubclass(kind, dict):
        nested: dict[str, Any] = {}
        for sub, sub_value in value.items():
            put_constant(nested, sub, idx, sub_value, n, complete)
        out[key] = nested
    elif key != "final_obs" and (kind in (int, float, bool) or issubclass(kind, np.number)) and _fits(value):  # `_is_number`, inline
        if complete:
            array = np.empty(n, dtype=kind)
            array.fill(value)  # (np.full does the same, at twice the cost)
        else:
            array = np.zeros(n, dtype=kind)
            array[idx] = value
        out[key] = array
    elif key != "final_obs" and issubclass(kind, np.ndarray):  # a copy of it in every row reported
        array = np.zeros((n, *value.shape), dtype=value.dtype)
        array[idx] = value
        out[key] = array
    elif complete:
        array = np.empty(n, dtype=object)
        array.fill(value)  # stores the object itself in every cell, even a list or tuple
        out[key] = array
    else:
        array = np.full(n, None, dtype=object)
        for i in idx:
            array[i] = value
        out[key] = array
    out[f"_{key}"] = mask(idx, n, complete)


#: A key of `constant_columns`' layout whose values differ between envs: left to the caller.
VARYING = object()

#: `constant_columns`' dicts by layout (values by identity) and n, each kept with the layout itself,
#: which keeps the values alive so that no other object takes their ids.
_TEMPLATES = Interned(limit=256)


def constant_columns(layout: tuple[tuple[str, Any], ...], n: int) -> dict[str, Any]:
    """A new info dict of n envs that all report every key of `layout`, (key, value) pairs in the
    info's order: a key with a value holds the column `put_constant` makes of it (with its mask),
    a `VARYING` key None and an all-True mask, for the caller to set with `put_column` (setting an
    existing key keeps its place in the dict).

    Made once per layout and n, then copied: copying the arrays costs a fraction of building them,
    and most of a single-turn step's info is such columns (turn 0 or 1, zero reward parts, verdict
    None, valid True, one weights dict and one fingerprint for every env).
    """
    key = (n, *[(name, id(value)) for name, value in layout])
    template, _ = _TEMPLATES.get(key, lambda: (_template(layout, n), layout))
    return _copy_columns(template)


def _template(layout: tuple[tuple[str, Any], ...], n: int) -> dict[str, Any]:
    """`constant_columns`' dict of `layout`, built."""
    template: dict[str, Any] = {}
    everyone = list(range(n))
    for name, value in layout:
        if value is VARYING:
            template[name] = None
            template[f"_{name}"] = _all_true(n)
        else:
            put_constant(template, name, everyone, value, n, True)
    return template


def _copy_columns(columns: dict[str, Any]) -> dict[str, Any]:
    """A copy of an info dict: new arrays (an object array's cells hold the same objects) and new
    nested dicts; None stays None."""
    return {key: value.copy() if type(value) is np.ndarray else None if value is None else _copy_columns(value)
            for key, value in columns.items()}


def _fits(value: Any) -> bool:
    """False for an int beyond int64, which goes in an object column (where Gymnasium raises), as
    `_numbers` does for a column of several values."""
    return type(value) is not int or -(2**63) <= value < 2**63


def mask(idx: list[int], n: int, complete: bool) -> np.ndarray:
    """The `"_key"` mask of a key reported by the envs `idx` (`complete`: all n of them)."""
    if complete:
        return _all_true(n)
    mask = np.zeros(n, dtype=np.bool_)
    mask[idx] = True
    return mask


#: `turn_details` of a turn without details. Shared, and safe to share: a column never holds a dict
#: itself (nested dicts are batched into new dicts of arrays).
_NO_DETAILS: dict[str, Any] = {}

#: The keys `InfoFacts.to_info` may write itself (and the vector env's own "final_*" keys): an
#: `InfoFacts.extra` naming one of them overrides it, a case `facts_columns` leaves to `batch_infos`.
_FACT_KEYS = frozenset(("task_id", "turn", "messages", "reward_parts", "return_parts", "reward_weights", "verdict",
                        "valid", "fingerprint", "turn_details", "error", "final_obs", "final_info"))


def facts_columns(indices: list[int], facts: list[InfoFacts], n: int, *, moved_on: bool = False) -> dict[str, Any] | None:
    """`batch_infos` of `[f.to_info() for f in facts]` (envs `indices`, ascending), without the dicts.

    Each info key's values are read from the facts in one pass and typed by `put_column`, the
    rule `batch_infos` applies, so the result is the same as batching the sub-envs' own infos
    (`tests/test_envs_vector.py` checks it) at a fraction of the cost: no dict per env to build,
    copy and scan for its keys. A column holding one object for every env (a reset's turn 0 and
    shared zero parts, verdict None, valid True) is filled from it at once. `moved_on`: the envs were reset since these facts were built, so their messages (the
    list and its dicts) are seen by no one else and are handed out without copies (see
    `InfoFacts.messages`).

    None when an `extra` key would override one of the info's own keys (let `batch_infos` apply
    `to_info`'s order of overrides then).
    """
    if not facts:
        return {}
    complete = len(indices) == n  # ascending, distinct: then they are exactly 0..n-1
    extras = [(i, f.extra) for i, f in zip(indices, facts) if f.extra]
    if any(not _FACT_KEYS.isdisjoint(extra) for _, extra in extras):
        return None
    out: dict[str, Any] = {}
    verdicts = [f.verdict for f in facts]
    errors = [v.error if v is not None else None for v in verdicts]
    put_column(out, "task_id", indices, [f.task_id for f in facts], n, complete)
    put_column(out, "turn", indices, [f.turn for f in facts], n, complete)
    # moved_on: the lists themselves (the env replaced its list when it was reset); else copies
    messages = [f.messages for f in facts] if moved_on else [_copy_messages(f.messages) for f in facts]
    put_column(out, "messages", indices, messages, n, complete, kind=object)
    # reward and return parts are dicts `TextEnv.end_turn_facts` / `reset_facts` made (a reset's
    # are one shared all-zero dict, which `put_column` sees as one object and fills at once)
    put_column(out, "reward_parts", indices, [f.parts for f in facts], n, complete, kind=dict)
    put_column(out, "return_parts", indices, [f.return_parts for f in facts], n, complete, kind=dict)
    put_column(out, "reward_weights", indices, [f.weights for f in facts], n, complete)
    put_column(out, "verdict", indices, verdicts, n, complete, kind=object)
    put_column(out, "valid", indices, [e is None for e in errors], n, complete)
    put_column(out, "fingerprint", indices, [f.fingerprint for f in facts], n, complete)
    put_column(out, "turn_details", indices, [copy.deepcopy(f.details) if f.details else _NO_DETAILS for f in facts], n, complete)
    failed = [(i, e) for i, e in zip(indices, errors) if e is not None]
    if failed:
        idx = [i for i, _ in failed]
        put_column(out, "error", idx, [e for _, e in failed], n, len(idx) == n)
    if extras:
        idx = [i for i, _ in extras]
        out.update(_batch_columns(idx, [extra for _, extra in extras], n, len(idx) == n))
    return out


def _objects(idx: list[int], values: list[Any], n: int) -> np.ndarray:
    """An object array of length n with `values` at `idx`, None elsewhere (the values themselves,
    even lists or tuples, one per cell)."""
    array = np.full(n, None, dtype=object)
    for i, value in zip(idx, values):
        array[i] = value
    return array
