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

Every sub-env is an environment of its own: the same object twice (`[env] * n`), or two wrappers
around one env, is refused. A call that raises leaves no sub-env half-done: a step refused for a
bad action (checked before any sub-env steps, through wrappers that hand actions on unchanged
such as `TimeLimit`) changes nothing; a step or reset that fails once sub-envs have begun
leaves the sub-envs it was working on needing a reset, and stepping one of them raises
`ResetNeeded` naming them until the vector env's `reset` (all, or those in a `reset_mask`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, Callable, Sequence

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from rlvr.envs.base import InfoFacts, TextEnv
from rlvr.envs.single_turn_batch import step_single_turn
from rlvr.envs.stepping import Driver, StepResult, check_actions, driver_of, end_unscored, step_envs
from rlvr.envs.vector_info import batch_infos, facts_columns, mask, put_column

__all__ = ["TextVectorEnv", "make_vec", "batch_infos"]


def _as_dict(info: InfoFacts | dict[str, Any]) -> dict[str, Any]:
    return info.to_info() if type(info) is InfoFacts else info


class TextVectorEnv(VectorEnv):
    """Several text environments stepped together; steps run concurrently in threads.

    Args:
        env_fns: functions that build each sub-environment (or the environments themselves).
            Each must be an environment of its own: ValueError names two sub-envs that are one
            env (the same object, or wrappers around the same `.unwrapped` env), which would
            both step one episode.
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
        _check_distinct(self.envs)
        _check_same_spaces(self.envs)
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

        `seed`: None, an int (sub-env i gets seed + i) or one seed per sub-env (each an int, a
        NumPy integer such as the items of `np.arange(n)`, or None); anything else raises
        TypeError before any sub-env resets. `options` go to every sub-env, except
        `options["index"]` which may be a list with one task index per sub-env (text, bytes, a
        memoryview, a dict or a set raises TypeError before any sub-env resets: it is no such list;
        a 0-d integer array, `np.array(2)`, is one index).

        A sub-env whose reset raises (an index out of range, a prompt over `max_obs_chars`) makes
        the whole call raise, with that error (of the lowest-numbered such sub-env; a note names
        the sub-envs left needing a reset), once every other reset of the call has ended: none
        runs on in the background. Since the caller gets none of the prompts, no sub-env this
        call was to reset is left in an episode the caller never saw: those whose reset worked
        have their new episode ended at once, and every one of them needs a reset — stepping
        it raises `ResetNeeded` naming it — until a later `reset` of it succeeds.
        """
        self._check_open("reset")
        seeds = _seed_list(seed, self.num_envs)
        super().reset(seed=int(seed) if isinstance(seed, (int, np.integer)) else None)
        options = dict(options or {})
        mask = self._reset_mask(options.pop("reset_mask", None))
        indices = options.pop("index", None)
        if isinstance(indices, np.ndarray) and indices.ndim == 0 and indices.dtype.kind in "iu":
            indices = indices[()]  # np.array(2): one index (iterating it raises "iteration over a 0-d array")
        if indices is not None and not isinstance(indices, (int, np.integer)):
            # list() would split text into characters, bytes (a memoryview too) into byte values and a
            # dict into its keys, and a set has no order; a 0-d array of no integer cannot be iterated
            if (isinstance(indices, (str, bytes, bytearray, memoryview, Mapping, set, frozenset))
                    or not isinstance(indices, Iterable) or getattr(indices, "ndim", None) == 0):
                raise TypeError(f"options['index'] must be one int or a sequence of one int per sub-env "
                                f"({self.num_envs}), got {type(indices).__name__} {indices!r:.80}")
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
        futures = {i: self._pool.submit(reset_one, i) for i, here in zip(chosen, inline) if not here}
        results: dict[int, tuple[str, InfoFacts | dict[str, Any]]] = {}
        errors: dict[int, Exception] = {}
        try:
            for i, here in zip(chosen, inline):
                if here:
                    try:
                        results[i] = reset_one(i)
                    except Exception as exc:
                        errors[i] = exc
            for i, future in futures.items():  # every reset of the call ends before this returns
                try:
                    results[i] = future.result()
                except Exception as exc:
                    errors[i] = exc
        except BaseException:  # Ctrl-C: the resets not begun are cancelled, the running ones waited for
            for future in futures.values():
                future.cancel()
            wait(futures.values())
            self._leave_needing_reset(chosen)
            raise
        if errors:
            self._leave_needing_reset(chosen)
            first = min(errors)
            error = errors[first]
            error.add_note(f"TextVectorEnv.reset: sub-env {first}'s reset raised this"
                           + (f" (sub-envs {sorted(errors)} failed)" if len(errors) > 1 else "")
                           + f"; sub-envs {chosen} were left needing a reset: call reset() again once fixed")
            raise error
        infos = []
        for i in chosen:
            obs, info = results[i]
            self._obs[i] = obs
            self._terminations[i] = self._truncations[i] = self._autoreset[i] = False
            infos.append(info)
        return tuple(self._obs), self._batch(chosen, infos, [], [], [])

    def _leave_needing_reset(self, indices: Sequence[int]) -> None:
        """After a `reset` that raised: end the episodes of sub-envs `indices` (their new prompts
        were never returned), so that stepping them asks for a reset (`ResetNeeded`)."""
        for i in indices:
            core = getattr(self.envs[i], "unwrapped", None)
            if isinstance(core, TextEnv):
                core._done = True
            self._autoreset[i] = False  # not reset by a NextStep step either: the caller resets them

    def _reset_mask(self, mask: Any) -> np.ndarray:
        """The sub-envs `reset` resets: `options["reset_mask"]`, checked as Gymnasium's vector envs
        check it (TypeError for a wrong type or dtype, ValueError for a wrong shape or no True), or
        all of them when it is None."""
        n = self.num_envs
        if mask is None:
            return np.ones(n, dtype=np.bool_)
        if not isinstance(mask, np.ndarray):
            raise TypeError(f"options['reset_mask'] must be a numpy bool array of shape ({n},), got {type(mask).__name__}")
        if mask.shape != (n,):
            raise ValueError(f"options['reset_mask'] must have shape ({n},) (one flag per sub-env), got {mask.shape}")
        if mask.dtype != np.bool_:
            raise TypeError(f"options['reset_mask'] must have dtype bool, got {mask.dtype}")
        if not mask.any():
            raise ValueError("options['reset_mask'] has no True value, so it resets no sub-env; set True for the "
                             "sub-envs to reset, or leave out reset_mask to reset all of them")
        return mask

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
        run concurrently in the thread pool meanwhile. When every sub-env is a plain single-turn
        env, the step is done column by column instead (`rlvr.envs.single_turn_batch`), with the
        same results. Autoresets (NextStep's, at the start of the step; SameStep's, as each env's
        step is settled) of envs that keep `TextEnv`'s reset run in this thread, the others (which
        may wait) in the pool, as `reset` runs them.

        `actions` is a sequence with one action per sub-env: a single string or dict (which would
        be taken as its characters or keys) raises TypeError. A sub-env that needs a reset (its
        episode ended unscored when an earlier call raised) makes the step raise `ResetNeeded`
        naming every such sub-env, before any sub-env steps.
        """
        self._check_open("step")
        kind = type(actions)
        if kind is not list and kind is not tuple and isinstance(actions, (str, bytes, bytearray, Mapping)):
            raise TypeError(_one_action_message(actions, self.num_envs))
        actions = list(actions)
        n = self.num_envs
        if len(actions) != n:
            raise ValueError(f"give one action per sub-env: got {len(actions)} actions for num_envs={n}")
        mode = self.autoreset_mode
        same_step = mode == AutoresetMode.SAME_STEP
        autoreset = self._autoreset.tolist()  # plain bools: reading a NumPy array per env costs more
        if mode == AutoresetMode.DISABLED and True in autoreset:  # before any sub-env records a turn
            ended = [i for i, flag in enumerate(autoreset) if flag]
            raise gym.error.ResetNeeded(
                f"sub-env(s) {ended} ended; with autoreset_mode='Disabled' reset them with "
                f"reset(options={{'reset_mask': mask}}) (mask True at {ended}) before the next step"
            )
        if same_step or True not in autoreset:  # no NextStep resets pending: maybe all single-turn
            batched = self._step_single_turn(actions, same_step)
            if batched is not None:
                return batched
        observations = self._obs
        rewards = [0.0] * n
        terms = [False] * n
        truncs = [False] * n
        infos: list[Any] = [None] * n
        # SameStep: the last obs and info of an episode that ended (two lists rather than a tuple per
        # env: fewer objects alive at once, fewer garbage-collector passes)
        ended_obs: list[str] = [""] * n
        ended_infos: list[Any] = [None] * n

        # SameStep: the resets of ended sub-envs that run in the pool (`_resets_inline` is False),
        # begun as each env is settled, in the order they were begun
        pooled: dict[int, Future] = {}

        def settle(i: int, result: StepResult) -> None:
            """Record sub-env i's step; with SameStep, reset it at once if its episode ended (in
            the pool for a reset that may wait: its result is recorded once the step is over)."""
            obs, rewards[i], terminated, truncated, info = result
            terms[i] = terminated
            truncs[i] = truncated
            if same_step and (terminated or truncated):
                ended_obs[i] = obs
                ended_infos[i] = info
                if not self._resets_inline(i):
                    pooled[i] = self._pool.submit(self._reset_one, i)
                    return
                obs, info = self._reset_one(i)
            observations[i] = obs
            infos[i] = info

        items = []
        resets = []  # NextStep: this step resets these sub-envs (their actions are ignored)
        for i in range(n):
            if autoreset[i] and not same_step:
                resets.append(i)
            else:
                items.append((i, self.envs[i], self._driver(i), actions[i]))
        try:
            if resets:
                check_actions(items)  # before any reset: a step refused for a bad action changes no sub-env
                for i, (obs, info) in self._autoresets(resets).items():
                    settle(i, (obs, 0.0, False, False, info))
            try:
                step_envs(items, self._pool, settle)  # (which ends every episode of `items` if it raises)
            except BaseException:
                if pooled:  # once they have ended: none runs on, and one that ended later began an episode
                    _cancel(pooled)
                    end_unscored(items)
                raise
            if pooled:
                self._settle_pooled(pooled, items, observations, infos)
        except gym.error.ResetNeeded as exc:  # a sub-env's own message names neither it nor the vector
            needing = [i for i in range(n) if (same_step or not autoreset[i]) and _needs_reset(self.envs[i])]
            if not needing:
                raise
            raise gym.error.ResetNeeded(_reset_needed_message(needing, mode)) from exc

        self._terminations = np.array(terms, dtype=np.bool_)  # one conversion per array
        self._truncations = np.array(truncs, dtype=np.bool_)
        self._autoreset = self._terminations | self._truncations
        final_idx = [i for i in range(n) if ended_infos[i] is not None]
        info = self._batch(list(range(n)), infos, final_idx, [ended_obs[i] for i in final_idx], [ended_infos[i] for i in final_idx])
        return (tuple(observations), np.array(rewards, dtype=np.float64), self._terminations.copy(),
                self._truncations.copy(), info)

    def _autoresets(self, indices: list[int]) -> dict[int, tuple[str, InfoFacts | dict[str, Any]]]:
        """NextStep's resets of sub-envs `indices` (ascending), as `reset` runs them: those of a
        `TextEnv` keeping its own reset in this thread, the others (which may wait) in the pool.
        Each result by sub-env; a reset that raised is raised (the lowest-numbered sub-env's) once
        every one has ended."""
        pooled = {i: self._pool.submit(self._reset_one, i) for i in indices if not self._resets_inline(i)}
        results: dict[int, tuple[str, InfoFacts | dict[str, Any]]] = {}
        errors: dict[int, Exception] = {}
        try:
            for i in indices:
                if i not in pooled:
                    try:
                        results[i] = self._reset_one(i)
                    except Exception as exc:
                        errors[i] = exc
        except BaseException:
            _cancel(pooled)
            raise
        done, failed = _results(pooled)
        results.update(done)
        errors.update(failed)
        if errors:
            raise errors[min(errors)]
        return {i: results[i] for i in indices}

    def _settle_pooled(self, pooled: dict[int, Future], items: list[Any], observations: list[str], infos: list[Any]) -> None:
        """Record the SameStep resets `step` ran in the pool (`pooled`, in the order begun) once all
        have ended. One that raised is raised (the first begun, as a reset raising in `settle`
        would), every episode of the step's `items` ended unscored, as `step_envs` leaves them."""
        try:
            done, errors = _results(pooled)
            if errors:
                raise errors[next(i for i in pooled if i in errors)]
        except BaseException:
            end_unscored(items)
            raise
        for i, (obs, info) in done.items():
            observations[i] = obs
            infos[i] = info

    def _step_single_turn(self, actions: list[Any], same_step: bool) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]] | None:
        """`step` done column by column when every sub-env is a plain single-turn env (see
        `rlvr.envs.single_turn_batch`); None, with nothing done, when some sub-env is not."""
        cores = []
        for i in range(self.num_envs):
            driver = self._driver(i)
            if driver is None:
                return None
            cores.append(driver.core)
        batched = step_single_turn(cores, actions, same_step)
        if batched is None:
            return None
        observations, rewards, info = batched
        self._obs = observations
        self._terminations = np.ones(self.num_envs, dtype=np.bool_)  # every episode ended
        self._truncations = np.zeros(self.num_envs, dtype=np.bool_)
        self._autoreset = self._terminations.copy()
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
                put_column(out, "final_obs", final_idx, final_obs, n, complete)
                out["final_info"] = final_info
                out["_final_info"] = mask(final_idx, n, complete)
                # in the order Gymnasium's merge gives: an ended env's keys start with final_obs and
                # final_info, so they come first when the first env reported ended, else after the keys
                # of the envs before it
                return {**out, **top} if final_idx[0] == indices[0] else {**top, **out}
        ended = {i: (obs, info) for i, obs, info in zip(final_idx, final_obs, final_infos)}
        pairs = []
        for i, info in zip(indices, infos):
            info = _as_dict(info)
            if i in ended:
                obs, final_info = ended[i]
                info = {"final_obs": obs, "final_info": _as_dict(final_info), **info}
            pairs.append((i, info))
        return batch_infos(pairs, n)

    def _check_open(self, what: str) -> None:
        if self.closed:
            raise gym.error.ClosedEnvironmentError(f"{what}() on a TextVectorEnv that was closed; make a new one")

    def render(self) -> tuple[Any, ...]:
        return tuple(env.render() for env in self.envs)

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        """Each sub-env's attribute `name` (through its wrappers), called with the arguments when
        it is callable, as `gymnasium.vector.SyncVectorEnv.call` does."""
        results = []
        for env in self.envs:
            attr = env.get_wrapper_attr(name)
            results.append(attr(*args, **kwargs) if callable(attr) else attr)
        return tuple(results)

    def get_attr(self, name: str) -> tuple[Any, ...]:
        """Each sub-env's attribute `name` (through its wrappers)."""
        return tuple(env.get_wrapper_attr(name) for env in self.envs)

    def set_attr(self, name: str, values: Any) -> None:
        """Set attribute `name` of each sub-env: one value per sub-env (a list or tuple of
        `num_envs`), or one value for all of them."""
        if not isinstance(values, (list, tuple)):
            values = [values] * self.num_envs
        if len(values) != self.num_envs:
            raise ValueError(f"set_attr({name!r}) takes one value for all sub-envs or a list of {self.num_envs}, "
                             f"got {len(values)} values")
        for env, value in zip(self.envs, values):
            env.set_wrapper_attr(name, value)

    def close_extras(self, **kwargs: Any) -> None:
        self._pool.shutdown(wait=True)
        for env in self.envs:
            env.close()


def _results(futures: dict[int, Future]) -> tuple[dict[int, Any], dict[int, Exception]]:
    """The results of `futures` (one per sub-env) and the errors they raised, by sub-env, once every
    one has ended; on Ctrl-C those not begun are cancelled, the running ones waited for."""
    results: dict[int, Any] = {}
    errors: dict[int, Exception] = {}
    try:
        for i, future in futures.items():
            try:
                results[i] = future.result()
            except Exception as exc:
                errors[i] = exc
    except BaseException:
        _cancel(futures)
        raise
    return results, errors


def _cancel(futures: dict[int, Future]) -> None:
    """Cancel those of `futures` not begun and wait for the running ones: none runs on after this."""
    for future in futures.values():
        future.cancel()
    wait(futures.values())


def _check_distinct(envs: Sequence[gym.Env]) -> None:
    """Raise ValueError when two sub-envs are one environment (the same object, or wrappers around
    the same `.unwrapped` env): both would step, and report, one episode."""
    seen: dict[int, int] = {}
    for i, env in enumerate(envs):
        j = seen.setdefault(id(getattr(env, "unwrapped", env)), i)
        if j != i:
            how = "is the same object as" if env is envs[j] else "wraps the same environment (.unwrapped) as"
            raise ValueError(f"sub-env {i} {how} sub-env {j}: both would step one episode; give each sub-env an "
                             f"environment of its own, e.g. TextVectorEnv([lambda: rlvr.make(env_id) for _ in range(n)]) "
                             f"or make_vec(env_id, n), not TextVectorEnv([env] * n)")


def _seed_list(seed: Any, n: int) -> list[int | None]:
    """`reset`'s `seed` as one seed per sub-env (Python ints or None), checked before any reset:
    TypeError for what is not an integer seed, ValueError for a negative one or a wrong count."""
    def integer(value: Any) -> bool:
        return isinstance(value, (int, np.integer)) and not isinstance(value, bool)

    if seed is None:
        return [None] * n
    if integer(seed):
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        return [int(seed) + i for i in range(n)]
    if (isinstance(seed, (str, bytes, Mapping)) or not isinstance(seed, Iterable)
            or (isinstance(seed, np.ndarray) and seed.ndim != 1)):
        raise TypeError(f"seed must be None, an int (sub-env i gets seed + i) or one seed per sub-env (a list or "
                        f"1-d array of {n} ints or None), got {type(seed).__name__} {seed!r}")
    seeds = list(seed)
    if len(seeds) != n:
        raise ValueError(f"give one seed per sub-env: got {len(seeds)} seeds for num_envs={n}")
    for i, value in enumerate(seeds):
        if value is not None and not integer(value):
            raise TypeError(f"seed[{i}] must be an int (a NumPy integer is fine) or None, got {type(value).__name__} {value!r}")
        if value is not None and value < 0:
            raise ValueError(f"seed[{i}] must be >= 0, got {value}")
    return [None if value is None else int(value) for value in seeds]


def _one_action_message(actions: Any, n: int) -> str:
    """The TypeError's message for `step` given one str / bytes / dict instead of a sequence of actions."""
    if isinstance(actions, Mapping):
        what = "a single dict (it would be taken as its keys, one per sub-env)"
    else:
        what = f"a single {type(actions).__name__} (it would be taken as its characters, one per sub-env)"
    return (f"TextVectorEnv.step takes a sequence of one action per sub-env (a list of {n} texts or assistant "
            f"message dicts), got {what}: {actions!r:.80}; pass a list, e.g. step([action_0, ..., action_{n - 1}])")


def _needs_reset(env: gym.Env) -> bool:
    """True when `env`'s TextEnv core cannot step before a reset (its episode ended, or never began)."""
    core = getattr(env, "unwrapped", None)
    return isinstance(core, TextEnv) and (core.task is None or core._done)


def _reset_needed_message(needing: list[int], mode: AutoresetMode) -> str:
    """`ResetNeeded`'s message for a vector step refused because sub-envs `needing` need a reset."""
    how = ("reset(options={'reset_mask': mask}) with mask True for them" if mode == AutoresetMode.DISABLED else
           "reset() (or reset(options={'reset_mask': mask}) with mask True for them, keeping the others' episodes)")
    return (f"sub-env(s) {needing} of this TextVectorEnv need a reset before they can step (their episode ended "
            f"unscored when an earlier step or reset raised, or never began); call the vector env's {how}")


def _check_same_spaces(envs: Sequence[gym.Env]) -> None:
    """Raise ValueError unless every sub-env has the first one's observation and action spaces
    (the vector env's spaces are the first one's, batched), as Gymnasium's vector envs require."""
    first = envs[0]
    for i, env in enumerate(envs[1:], start=1):
        for kind in ("observation_space", "action_space"):
            mine, theirs = getattr(env, kind), getattr(first, kind)
            if mine != theirs:
                raise ValueError(f"sub-env {i} has {kind} {mine!r} but sub-env 0 has {theirs!r}; the sub-envs of a "
                                 f"vector env must share their spaces (e.g. build them with the same max_action_chars)")


def make_vec(env_id: str, num_envs: int, *, autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP, max_workers: int | None = None, **kwargs: Any) -> TextVectorEnv:
    """`num_envs` copies of a registered env (same keyword arguments) in a `TextVectorEnv`.

    Also what `gymnasium.make_vec(env_id, num_envs, **kwargs)` builds for rlvr's ids (their
    `vector_entry_point`). `num_envs` may be a NumPy integer (a count read from an array or a config).
    """
    from rlvr.envs.registry import make

    if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
        raise ValueError(f"num_envs must be a positive integer (an int or a NumPy integer, not a bool), got {num_envs!r}")
    return TextVectorEnv([lambda: make(env_id, **kwargs) for _ in range(num_envs)], autoreset_mode=autoreset_mode, max_workers=max_workers)
