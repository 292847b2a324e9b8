"""A batch of text environments stepped concurrently, with Gymnasium's vector-env semantics.

A rollout loop steps many episodes at once. Steps that wait — on a sandboxed program, a tool, a
user's verifier — run in a thread pool, so while one waits the others run. Steps that are only a
verification (`TextEnv.batch_verify`: Math-v0, the procedural envs, `exact` tasks) are verified in
one batch per verifier instead: their work is in-process Python that holds the GIL, where threads
only add switching costs, and the math verifier's `verify_batch` spreads the slow sympy cases over
its worker processes itself.

It follows `gymnasium.vector.VectorEnv`: observations are a tuple of strings, rewards /
terminations / truncations are NumPy arrays of shape `(num_envs,)`, and `info` is a dict whose
every key holds one entry per sub-environment plus a boolean mask `"_key"` saying which
sub-environments reported it (use `gymnasium.wrappers.vector.DictInfoToList` for a list of
dicts). Autoreset follows `metadata["autoreset_mode"]`:

- `NextStep` (default, as Gymnasium): when a sub-env ends at step t, the next `step` ignores its
  action and resets it, returning the new prompt, reward 0, and terminated = truncated = False.
- `SameStep`: a sub-env that ends is reset in the same `step`; the returned observation is the new
  prompt and `info["final_obs"]` / `info["final_info"]` hold the last observation and info.
- `Disabled`: the caller resets ended sub-envs with `reset(options={"reset_mask": mask})`.
"""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor
from itertools import repeat
from operator import is_
from typing import Any, Callable, Sequence

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from rlvr.envs.base import InfoFacts, TextEnv, _copy_messages
from rlvr.envs.stepping import Driver, StepResult, driver_of, step_envs


def _as_dict(info: InfoFacts | dict[str, Any]) -> dict[str, Any]:
    return info.to_info() if type(info) is InfoFacts else info


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
        _put_column(out, key, idx, values, n, complete)
    return out


def _put_column(out: dict[str, Any], key: str, idx: list[int], values: list[Any], n: int, complete: bool, kind: type | None = None) -> None:
    """Set `out[key]` and its mask `out["_" + key]` from the values of the envs `idx`.

    The typing rules of Gymnasium's `VectorEnv._add_info`: dicts are batched recursively, numbers
    of one type go in an array of that type (0 where an env did not report the key), anything else
    in an object array (None where missing); `final_obs` is always an object array. `complete`:
    `idx` is 0..n-1. `kind`: the caller knows every value is a dict (`dict`), or neither a number
    nor a dict (`object`), so the values' types need not be looked at.
    """
    first = values[0]
    if all(map(is_, values, repeat(first))):  # one object everywhere: 0, True, None, a shared dict
        _put_constant(out, key, idx, first, n, complete)
        return
    kinds = {kind} if kind is not None else set(map(type, values))
    kind = next(iter(kinds)) if len(kinds) == 1 else None
    if key != "final_obs" and all(issubclass(k, dict) for k in kinds):
        out[key] = _batch_columns(idx, values, n, complete)
    elif key != "final_obs" and kind is not None and (kind in (int, float, bool) or issubclass(kind, np.number)):
        if complete:
            out[key] = np.array(values, dtype=kind)
        else:
            array = np.zeros(n, dtype=kind)
            array[idx] = values
            out[key] = array
    elif complete:
        out[key] = np.fromiter(values, dtype=object, count=n)
    else:
        out[key] = _objects(idx, values, n)
    out[f"_{key}"] = _mask(idx, n, complete)


def _put_constant(out: dict[str, Any], key: str, idx: list[int], value: Any, n: int, complete: bool) -> None:
    """`_put_column` for a column that holds the same object for every env in `idx`.

    Same typing rules, but each array is filled from the one value instead of converting a list
    (a reset's turn 0, valid True, verdict None and zero reward parts are such columns).
    """
    kind = type(value)
    if key != "final_obs" and issubclass(kind, dict):
        nested: dict[str, Any] = {}
        for sub, sub_value in value.items():
            _put_constant(nested, sub, idx, sub_value, n, complete)
        out[key] = nested
    elif key != "final_obs" and (kind in (int, float, bool) or issubclass(kind, np.number)):
        if complete:
            array = np.empty(n, dtype=kind)
            array.fill(value)  # (np.full does the same, at twice the cost)
        else:
            array = np.zeros(n, dtype=kind)
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
    out[f"_{key}"] = _mask(idx, n, complete)


def _mask(idx: list[int], n: int, complete: bool) -> np.ndarray:
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

    Each info key's values are read from the facts in one pass and typed by `_put_column`, the
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
    _put_column(out, "task_id", indices, [f.task_id for f in facts], n, complete)
    _put_column(out, "turn", indices, [f.turn for f in facts], n, complete)
    # moved_on: the lists themselves (the env replaced its list when it was reset); else copies
    messages = [f.messages for f in facts] if moved_on else [_copy_messages(f.messages) for f in facts]
    _put_column(out, "messages", indices, messages, n, complete, kind=object)
    # reward and return parts are dicts `TextEnv.end_turn_facts` / `reset_facts` made (a reset's
    # are one shared all-zero dict, which `_put_column` sees as one object and fills at once)
    _put_column(out, "reward_parts", indices, [f.parts for f in facts], n, complete, kind=dict)
    _put_column(out, "return_parts", indices, [f.return_parts for f in facts], n, complete, kind=dict)
    _put_column(out, "reward_weights", indices, [f.weights for f in facts], n, complete)
    _put_column(out, "verdict", indices, verdicts, n, complete, kind=object)
    _put_column(out, "valid", indices, [e is None for e in errors], n, complete)
    _put_column(out, "fingerprint", indices, [f.fingerprint for f in facts], n, complete)
    _put_column(out, "turn_details", indices, [copy.deepcopy(f.details) if f.details else _NO_DETAILS for f in facts], n, complete)
    failed = [(i, e) for i, e in zip(indices, errors) if e is not None]
    if failed:
        idx = [i for i, _ in failed]
        _put_column(out, "error", idx, [e for _, e in failed], n, len(idx) == n)
    if extras:
        idx = [i for i, _ in extras]
        out.update(_batch_columns(idx, [extra for _, extra in extras], n, len(idx) == n))
    return out


def _objects(idx: list[int], values: list[Any], n: int) -> np.ndarray:
    """An object array of length n with `values` at `idx`, None elsewhere."""
    array = np.full(n, None, dtype=object)
    for i, value in zip(idx, values):
        array[i] = value
    return array


class TextVectorEnv(VectorEnv):
    """Several text environments stepped together; steps run concurrently in threads.

    Args:
        env_fns: functions that build each sub-environment (or the environments themselves).
        autoreset_mode: "NextStep" (default), "SameStep" or "Disabled" (see module docs).
        max_workers: threads stepping sub-environments (default: one per env, at most 64).
    """

    def __init__(
        self,
        env_fns: Sequence[Callable[[], gym.Env] | gym.Env],
        *,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        max_workers: int | None = None,
    ) -> None:
        if not env_fns:
            raise ValueError("TextVectorEnv needs at least one environment (env_fns is empty)")
        self.envs = [fn if isinstance(fn, gym.Env) else fn() for fn in env_fns]
        self.num_envs = len(self.envs)
        self.autoreset_mode = autoreset_mode if isinstance(autoreset_mode, AutoresetMode) else AutoresetMode(autoreset_mode)
        self.metadata = {"autoreset_mode": self.autoreset_mode, "render_modes": ["ansi"]}
        self.render_mode = self.envs[0].render_mode
        self.single_observation_space = self.envs[0].observation_space
        self.single_action_space = self.envs[0].action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.spec = getattr(self.envs[0], "spec", None)
        workers = max_workers if max_workers is not None else min(self.num_envs, 64)
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="rlvr-env")
        self._obs: list[str] = [""] * self.num_envs
        self._terminations = np.zeros(self.num_envs, dtype=np.bool_)
        self._truncations = np.zeros(self.num_envs, dtype=np.bool_)
        self._autoreset = np.zeros(self.num_envs, dtype=np.bool_)
        #: per sub-env, (env, its Driver) once its wrappers were seen to pass steps through (see
        #: `_driver`); they stay so (OrderEnforcing.has_reset and the checker's flags are never
        #: cleared), so the wrapper chain is walked until then only
        self._cores: list[tuple[gym.Env, Driver] | None] = [None] * self.num_envs

    # ------------------------------------------------------------------ API

    def reset(self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None) -> tuple[tuple[str, ...], dict[str, Any]]:
        """Reset sub-environments (all, or those in `options["reset_mask"]`).

        `seed`: None, an int (sub-env i gets seed + i) or one seed per sub-env. `options` go to
        every sub-env, except `options["index"]` which may be a list with one task index per
        sub-env.
        """
        super().reset(seed=int(seed) if isinstance(seed, (int, np.integer)) else None)
        if seed is None:
            seeds: list[int | None] = [None] * self.num_envs
        elif isinstance(seed, (int, np.integer)):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"give one seed per sub-env: got {len(seeds)} seeds for num_envs={self.num_envs}")
        options = dict(options or {})
        mask = options.pop("reset_mask", None)
        if mask is None:
            mask = np.ones(self.num_envs, dtype=np.bool_)
        elif not (isinstance(mask, np.ndarray) and mask.dtype == np.bool_ and mask.shape == (self.num_envs,)):
            raise TypeError(f"options['reset_mask'] must be a numpy bool array of shape ({self.num_envs},)")
        indices = options.pop("index", None)
        if indices is not None and not isinstance(indices, (int, np.integer)):
            indices = list(indices)
            if len(indices) != self.num_envs:
                raise ValueError(f"options['index'] must be one int or one index per sub-env ({self.num_envs})")

        def reset_one(i: int) -> tuple[str, InfoFacts | dict[str, Any]]:
            env_options = dict(options)
            if indices is not None:
                env_options["index"] = indices if isinstance(indices, (int, np.integer)) else indices[i]
            return self._reset_one(i, seed=seeds[i], options=env_options)

        chosen = [i for i in range(self.num_envs) if mask[i]]
        # TextEnv's own reset (a task draw and a prompt) is quick in-process work, done here; other
        # resets (unknown wrappers, overridden `reset`, the first reset) may wait, so run in threads
        inline = [self._resets_inline(i) for i in chosen]
        threaded = [i for i, here in zip(chosen, inline) if not here]
        results = dict(zip(threaded, self._pool.map(reset_one, threaded)))
        infos = []
        for i, here in zip(chosen, inline):
            obs, info = reset_one(i) if here else results[i]
            self._obs[i] = obs
            self._terminations[i] = self._truncations[i] = self._autoreset[i] = False
            infos.append(info)
        return tuple(self._obs), self._batch(chosen, infos, [], [], [])

    def _core(self, i: int) -> TextEnv | None:
        """The TextEnv of sub-env i when it may be driven directly (see `transparent_core`), else None."""
        driver = self._driver(i)
        return driver.core if driver is not None else None

    def _driver(self, i: int) -> Driver | None:
        """`driver_of(self.envs[i])`, remembered once it is not None.

        Worked out once per sub-env (the wrappers stay transparent; replacing `self.envs[i]` is
        noticed) rather than at every step.
        """
        env = self.envs[i]
        known = self._cores[i]
        if known is not None and known[0] is env:
            return known[1]
        driver = driver_of(env)
        if driver is not None:
            self._cores[i] = (env, driver)
        return driver

    def _resets_inline(self, i: int) -> bool:
        """True when sub-env i resets through `TextEnv.reset_facts` (quick in-process work)."""
        driver = self._driver(i)
        return driver is not None and getattr(driver.reset, "__func__", None) is TextEnv.reset_facts

    def _reset_one(self, i: int, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, InfoFacts | dict[str, Any]]:
        """Reset sub-env i: its core's `reset_facts` when it may be driven directly, else `reset`."""
        driver = self._driver(i)
        if driver is None:
            return self.envs[i].reset(seed=seed, options=options)
        return driver.reset(seed=seed, options=options)

    def step(self, actions: Sequence[Any]) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every sub-env with its action (text or assistant message dict).

        Sub-envs whose turn is a plain verification (`TextEnv.batch_verify`) are verified in one
        batch per verifier (e.g. `verify_batch` for maths: the cheap stage in this thread, sympy
        jobs in worker processes); the other steps (tool calls, sandboxed code, user verifiers)
        run concurrently in the thread pool meanwhile.
        """
        actions = list(actions)
        n = self.num_envs
        if len(actions) != n:
            raise ValueError(f"give one action per sub-env: got {len(actions)} actions for num_envs={n}")
        mode = self.autoreset_mode
        same_step = mode == AutoresetMode.SAME_STEP
        autoreset = self._autoreset.tolist()  # plain bools: reading a NumPy array per env costs more
        if mode == AutoresetMode.DISABLED and True in autoreset:  # before any sub-env records a turn
            raise gym.error.ResetNeeded(
                f"sub-env {autoreset.index(True)} ended; with autoreset_mode='Disabled' reset it with reset(options={{'reset_mask': mask}})"
            )
        observations = self._obs
        rewards = [0.0] * n
        terms = [False] * n
        truncs = [False] * n
        infos: list[Any] = [None] * n
        # SameStep: the last obs and info of an episode that ended (two lists rather than a tuple per
        # env: fewer objects alive at once, fewer garbage-collector passes)
        ended_obs: list[str] = [""] * n
        ended_infos: list[Any] = [None] * n

        def settle(i: int, result: StepResult) -> None:
            """Record sub-env i's step; with SameStep, reset it at once if its episode ended."""
            obs, rewards[i], terminated, truncated, info = result
            terms[i] = terminated
            truncs[i] = truncated
            if same_step and (terminated or truncated):
                ended_obs[i] = obs
                ended_infos[i] = info
                obs, info = self._reset_one(i)
            observations[i] = obs
            infos[i] = info

        items = []
        for i in range(n):
            if autoreset[i] and not same_step:  # NextStep: this step resets the sub-env
                obs, info = self._reset_one(i)
                settle(i, (obs, 0.0, False, False, info))
            else:
                items.append((i, self.envs[i], self._driver(i), actions[i]))
        step_envs(items, self._pool, settle)

        self._terminations = np.array(terms, dtype=np.bool_)  # one conversion per array
        self._truncations = np.array(truncs, dtype=np.bool_)
        self._autoreset = self._terminations | self._truncations
        final_idx = [i for i in range(n) if ended_infos[i] is not None]
        info = self._batch(list(range(n)), infos, final_idx, [ended_obs[i] for i in final_idx], [ended_infos[i] for i in final_idx])
        return (tuple(observations), np.array(rewards, dtype=np.float64), self._terminations.copy(),
                self._truncations.copy(), info)

    def _batch(self, indices: list[int], infos: list[InfoFacts | dict[str, Any]], final_idx: list[int],
               final_obs: list[str], final_infos: list[InfoFacts | dict[str, Any]]) -> dict[str, Any]:
        """The vector info of the sub-envs `indices` (ascending) and, for `SameStep`, their ended episodes.

        `infos` hold each sub-env's info (its `InfoFacts`, or a dict from an env stepped or reset
        as a whole); `final_idx` / `final_obs` / `final_infos` the episodes that ended in this step
        (ascending), reported as `info["final_obs"]` / `info["final_info"]`. When everything is
        facts (the usual case) the columns are read from them directly (`facts_columns`);
        otherwise each sub-env's dict is built and batched (`batch_infos`), with the same result.
        """
        n = self.num_envs
        if all(type(f) is InfoFacts for f in infos) and all(type(f) is InfoFacts for f in final_infos):
            top = facts_columns(indices, infos, n)
            if not final_idx and top is not None:
                return top
            final_info = facts_columns(final_idx, final_infos, n, moved_on=True)
            if top is not None and final_info is not None:
                complete = len(final_idx) == n
                out: dict[str, Any] = {}
                _put_column(out, "final_obs", final_idx, final_obs, n, complete)
                out["final_info"] = final_info
                out["_final_info"] = _mask(final_idx, n, complete)
                out.update(top)
                return out
        ended = {i: (obs, info) for i, obs, info in zip(final_idx, final_obs, final_infos)}
        pairs = []
        for i, info in zip(indices, infos):
            info = _as_dict(info)
            if i in ended:
                obs, final_info = ended[i]
                info = {"final_obs": obs, "final_info": _as_dict(final_info), **info}
            pairs.append((i, info))
        return batch_infos(pairs, n)

    def render(self) -> tuple[Any, ...]:
        return tuple(env.render() for env in self.envs)

    def close_extras(self, **kwargs: Any) -> None:
        self._pool.shutdown(wait=True)
        for env in self.envs:
            env.close()


def make_vec(env_id: str, num_envs: int, *, autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP, max_workers: int | None = None, **kwargs: Any) -> TextVectorEnv:
    """`num_envs` copies of a registered env (same keyword arguments) in a `TextVectorEnv`."""
    from rlvr.envs.registry import make

    if not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
    return TextVectorEnv([lambda: make(env_id, **kwargs) for _ in range(num_envs)], autoreset_mode=autoreset_mode, max_workers=max_workers)
