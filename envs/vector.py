"""A batch of text environments stepped concurrently, with Gymnasium's vector-env semantics.

A rollout loop steps many episodes at once. Most of a text env's step time is spent waiting —
on a sandboxed program or a verifier's worker process — so `TextVectorEnv` steps its
sub-environments in a thread pool: while one waits on its sandbox, the others run.

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


def batch_infos(pairs: Sequence[tuple[int, dict[str, Any]]], num_envs: int) -> dict[str, Any]:
    """Batch per-env infos into Gymnasium's vector-info layout, in one pass per key.

    Same result as folding `VectorEnv._add_info` over `pairs` (arrays of length `num_envs`, a
    `"_key"` mask per key, nested dicts batched recursively, numbers in typed arrays, anything
    else in object arrays), but it builds each array once instead of touching NumPy per env and
    key — the batching was the largest cost of the env layer in `benchmarks/perf/env_bench.py`.
    """
    by_key: dict[str, list[tuple[int, Any]]] = {}
    for index, info in pairs:
        for key, value in info.items():
            by_key.setdefault(key, []).append((index, value))
    out: dict[str, Any] = {}
    for key, entries in by_key.items():
        first = entries[0][1]
        mask = np.zeros(num_envs, dtype=np.bool_)
        indices = [i for i, _ in entries]
        mask[indices] = True
        if key != "final_obs" and isinstance(first, dict) and all(isinstance(v, dict) for _, v in entries):
            out[key] = batch_infos(entries, num_envs)
        else:
            kind = type(first)
            if key != "final_obs" and (kind in (int, float, bool) or issubclass(kind, np.number)) and all(type(v) is kind for _, v in entries):
                array = np.zeros(num_envs, dtype=kind)
                array[indices] = [v for _, v in entries]
            else:
                array = np.full(num_envs, None, dtype=object)
                for i, v in entries:
                    array[i] = v
            out[key] = array
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

    def step(self, actions: Sequence[Any]) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every sub-env with its action (text or assistant message dict), concurrently."""
        actions = list(actions)
        if len(actions) != self.num_envs:
            raise ValueError(f"give one action per sub-env: got {len(actions)} actions for num_envs={self.num_envs}")
        mode = self.autoreset_mode

        def step_one(i: int) -> tuple[str, float, bool, bool, dict[str, Any], dict[str, Any] | None]:
            env = self.envs[i]
            if mode == AutoresetMode.NEXT_STEP and self._autoreset[i]:
                obs, info = env.reset()
                return obs, 0.0, False, False, info, None
            if mode == AutoresetMode.DISABLED and self._autoreset[i]:
                raise gym.error.ResetNeeded(
                    f"sub-env {i} ended; with autoreset_mode='Disabled' reset it with reset(options={{'reset_mask': mask}})"
                )
            obs, reward, terminated, truncated, info = env.step(actions[i])
            final = None
            if mode == AutoresetMode.SAME_STEP and (terminated or truncated):
                final = {"final_obs": obs, "final_info": info}
                obs, info = env.reset()
            return obs, reward, terminated, truncated, info, final

        pairs = []
        for i, (obs, reward, terminated, truncated, info, final) in enumerate(self._pool.map(step_one, range(self.num_envs))):
            self._obs[i] = obs
            self._rewards[i] = reward
            self._terminations[i] = terminated
            self._truncations[i] = truncated
            pairs.append((i, {**final, **info} if final is not None else info))
        infos = batch_infos(pairs, self.num_envs)
        self._autoreset = np.logical_or(self._terminations, self._truncations)
        return tuple(self._obs), self._rewards.copy(), self._terminations.copy(), self._truncations.copy(), infos

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
