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

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from gymnasium.wrappers import OrderEnforcing, PassiveEnvChecker

from rlvr.envs.base import BatchVerify, TextEnv, Turn
from rlvr.verifiers.verdict import Verdict


def _transparent_core(env: gym.Env) -> TextEnv | None:
    """The TextEnv under `env` when no wrapper in between changes a step, else None.

    `gymnasium.make` adds `OrderEnforcing` and `PassiveEnvChecker`; once the env has been reset
    and the checker has seen its first reset and steps, they pass steps through unchanged, so the
    vector env may drive the `TextEnv` phases directly. Any other wrapper is stepped as a whole.
    """
    while not isinstance(env, TextEnv):
        kind = type(env)
        if kind is OrderEnforcing:
            if not env.has_reset:
                return None
        elif kind is PassiveEnvChecker:
            if not (env.checked_reset and env.checked_step and env.checked_data_reuse):
                return None
        else:
            return None
        env = env.env
    return env


def _failed_turn(env: TextEnv, exc: Exception) -> Turn:
    return Turn(done=True, verdict=Verdict.failed(f"{type(env).__name__} verification raised {type(exc).__name__}: {exc}"))


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
        kinds = set(map(type, values))
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
            array = np.full(n, None, dtype=object)
            for i, value in zip(idx, values):
                array[i] = value
            out[key] = array
        if complete:
            out[f"_{key}"] = _all_true(n)
        else:
            mask = np.zeros(n, dtype=np.bool_)
            mask[idx] = True
            out[f"_{key}"] = mask
    return out


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
        self._rewards = np.zeros(self.num_envs, dtype=np.float64)
        self._terminations = np.zeros(self.num_envs, dtype=np.bool_)
        self._truncations = np.zeros(self.num_envs, dtype=np.bool_)
        self._autoreset = np.zeros(self.num_envs, dtype=np.bool_)
        #: per sub-env, (env, its TextEnv) once its wrappers were seen to pass steps through; they
        #: stay so (OrderEnforcing.has_reset and the checker's flags are never cleared), so the
        #: wrapper chain is walked until then only, not twice per step
        self._cores: list[tuple[gym.Env, TextEnv] | None] = [None] * self.num_envs

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

        def reset_one(i: int) -> tuple[str, dict[str, Any]]:
            env_options = dict(options)
            if indices is not None:
                env_options["index"] = indices if isinstance(indices, (int, np.integer)) else indices[i]
            return self.envs[i].reset(seed=seeds[i], options=env_options)

        chosen = [i for i in range(self.num_envs) if mask[i]]
        pairs = []
        for i, (obs, info) in zip(chosen, self._pool.map(reset_one, chosen)):
            self._obs[i] = obs
            self._terminations[i] = self._truncations[i] = self._autoreset[i] = False
            pairs.append((i, info))
        return tuple(self._obs), batch_infos(pairs, self.num_envs)

    def _core(self, i: int) -> TextEnv | None:
        """`_transparent_core(self.envs[i])`, remembered once it is not None."""
        env = self.envs[i]
        known = self._cores[i]
        if known is not None and known[0] is env:
            return known[1]
        core = _transparent_core(env)
        if core is not None:
            self._cores[i] = (env, core)
        return core

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
        results: list[Any] = [None] * n
        threaded: list[tuple[int, Any]] = []
        groups: dict[Any, list[tuple[int, TextEnv, str, Any, BatchVerify]]] = {}
        for i in range(n):
            env = self.envs[i]
            if self._autoreset[i]:
                if mode == AutoresetMode.NEXT_STEP:
                    core = self._core(i)
                    obs, info = (core if core is not None else env).reset()
                    results[i] = (obs, 0.0, False, False, info)
                    continue
                if mode == AutoresetMode.DISABLED:
                    raise gym.error.ResetNeeded(
                        f"sub-env {i} ended; with autoreset_mode='Disabled' reset it with reset(options={{'reset_mask': mask}})"
                    )
            core = self._core(i)
            if core is None:  # unknown wrappers: step through them, in a thread
                threaded.append((i, None))
                continue
            content, tool_calls, turn = core.begin_turn(actions[i])
            if turn is not None:
                results[i] = core.end_turn(turn)
                continue
            try:
                request = core.batch_verify(core.task, content, tool_calls)
            except Exception as exc:
                results[i] = core.end_turn(_failed_turn(core, exc))
                continue
            if request is None:
                threaded.append((i, (core, content, tool_calls)))
            else:
                groups.setdefault(request.key, []).append((i, core, content, tool_calls, request))

        def step_threaded(item: tuple[int, Any]) -> tuple[str, float, bool, bool, dict[str, Any]]:
            i, begun = item
            if begun is None:
                return self.envs[i].step(actions[i])
            core, content, tool_calls = begun
            return core.end_turn(core._respond_safely(content, tool_calls))

        futures = [(i, self._pool.submit(step_threaded, (i, begun))) for i, begun in threaded]
        for members in groups.values():
            try:
                verdicts = list(members[0][4].run([m[4].payload for m in members]))
                if len(verdicts) != len(members):
                    raise RuntimeError(f"a batch verifier returned {len(verdicts)} verdicts for {len(members)} answers")
            except Exception as exc:  # the batch failed as a whole: infrastructure, not wrong answers
                verdicts = [Verdict.failed(f"batch verification raised {type(exc).__name__}: {exc}")] * len(members)
            for (i, core, content, tool_calls, _), verdict in zip(members, verdicts):
                try:
                    turn = core.complete_turn(core.task, content, tool_calls, verdict)
                except Exception as exc:
                    turn = _failed_turn(core, exc)
                results[i] = core.end_turn(turn)
        for i, future in futures:
            results[i] = future.result()

        pairs = []
        rewards, terms, truncs = self._rewards, self._terminations, self._truncations
        for i in range(n):
            obs, reward, terminated, truncated, info = results[i]
            rewards[i] = reward
            terms[i] = terminated
            truncs[i] = truncated
            if same_step and (terminated or truncated):
                final_obs, final_info = obs, info
                core = self._core(i)  # past the first reset: wrappers pass through
                obs, info = (core if core is not None else self.envs[i]).reset()
                info = {"final_obs": final_obs, "final_info": final_info, **info}
            self._obs[i] = obs
            pairs.append((i, info))
        infos = batch_infos(pairs, n)
        self._autoreset = np.logical_or(terms, truncs)
        return tuple(self._obs), rewards.copy(), terms.copy(), truncs.copy(), infos

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
