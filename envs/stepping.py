"""Step many text environments at once: batched verification, threads for what waits.

This is the stepping shared by `TextVectorEnv` and the trainer's rollout loop. Each env takes one
action; a step whose turn is a plain verification (`TextEnv.batch_verify`: Math-v0, the
procedural envs, `exact` tasks) is verified in one batch per verifier — in-process Python that
holds the GIL, where threads would only add switching costs, while the math verifier's
`verify_batch` spreads its slow sympy cases over worker processes itself. Every other step (a
tool call, sandboxed code, a user's verifier, an env behind an unknown wrapper) runs in a thread
pool, so while one waits on its sandbox the others run, except a step that must run in the calling
thread (`steps_here`: a callable verifier given `timeout=None`, which may use `signal.alarm`), done
here while the pool works. Scoring a verified turn is cheap, and done in
this thread, except where the env checks the reasoning's steps too (`process_reward="steps"`:
sympy work in worker processes, up to its timeout per answer): those turns are scored side by side
in a shared thread pool (`score_concurrently`), not one after another.

A `TextEnv` is driven through the phases of its `step` (`begin_turn`, `batch_verify` or
`respond`, `end_turn_facts`) when the wrappers around it pass steps through unchanged (see
`transparent_core`); the result then holds the info's `InfoFacts` instead of its dict.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from functools import lru_cache
from typing import Any, Callable, NamedTuple, Sequence, TypeVar

import gymnasium as gym
from gymnasium.wrappers import OrderEnforcing, PassiveEnvChecker, RecordEpisodeStatistics, TimeLimit

from rlvr.envs.base import BatchVerify, InfoFacts, TextEnv, Turn, failed_turn
from rlvr.verifiers.verdict import Verdict

#: What one env's step gives: (observation, reward, terminated, truncated, info or its InfoFacts).
StepResult = tuple[str, float, bool, bool, "InfoFacts | dict[str, Any]"]

_T = TypeVar("_T")
_scoring: tuple[int, ThreadPoolExecutor] | None = None  # (the process it belongs to, the pool)
_scoring_lock = threading.Lock()


def scores_slowly(core: TextEnv) -> bool:
    """True when scoring `core`'s turns checks the reasoning's steps (`process_reward` set): sympy
    work in worker processes that may take up to its timeout, worth doing beside other envs'."""
    return getattr(core, "process_reward", None) is not None


def score_concurrently(jobs: Sequence[Callable[[], _T]]) -> list[_T]:
    """Run `jobs` side by side in a shared thread pool; their results, in order.

    Each job catches its own exceptions, and none calls this function (a job waiting on the pool's
    other jobs could wait forever). The pool has a few threads more than CPUs (Python's default):
    the math worker pool, one worker per CPU, is what bounds the sympy work, and a solution's time
    limit counts only while a worker runs its checks, so jobs queued for a worker lose nothing.
    """
    global _scoring
    with _scoring_lock:
        if _scoring is None or _scoring[0] != os.getpid():  # a forked child has none of the parent's threads
            _scoring = (os.getpid(), ThreadPoolExecutor(thread_name_prefix="rlvr-score"))
        pool = _scoring[1]
    return [future.result() for future in [pool.submit(job) for job in jobs]]


class Driver(NamedTuple):
    """How to drive an env's `TextEnv` core directly, past wrappers that pass steps through.

    Attributes:
        core: the `TextEnv` under the wrappers.
        reset: `core.reset_facts` when its class keeps `TextEnv.reset` (same info, as facts), else
            `core.reset`.
        end_turn: `core.end_turn_facts` when its class keeps `TextEnv.end_turn`, else `core.end_turn`.
    """

    core: TextEnv
    reset: Callable[..., tuple[str, "InfoFacts | dict[str, Any]"]]
    end_turn: Callable[[Turn], StepResult]


def transparent_core(env: gym.Env, *, passing_through: bool = True) -> TextEnv | None:
    """The TextEnv under `env` when no wrapper in between changes a step, else None.

    `gymnasium.make` adds `OrderEnforcing` and `PassiveEnvChecker`; once the env has been reset
    and the checker has seen its first reset and steps, they pass steps through unchanged, so its
    `TextEnv` may be driven directly. Any other wrapper is stepped as a whole, and so is a TextEnv
    whose class overrides `step` itself (driving its phases would skip that).

    With `passing_through=False` the question is only whether the core sees the action as given,
    so that it can judge it before anything is stepped (`check_actions`): the two wrappers above
    need not have got there yet, and the wrappers known to hand actions on unchanged are looked
    through too (`passes_actions_on`: `TimeLimit`, `RecordEpisodeStatistics`, an observation or
    reward wrapper, a wrapper that does not override `step`).
    """
    while not isinstance(env, TextEnv):
        kind = type(env)
        if kind is OrderEnforcing:
            if passing_through and not env.has_reset:
                return None
        elif kind is PassiveEnvChecker:
            if passing_through and not (env.checked_reset and env.checked_step and env.checked_data_reuse):
                return None
        elif passing_through or not passes_actions_on(env):
            return None
        env = env.env
    if getattr(env.step, "__func__", None) is not TextEnv.step:
        return None
    return env


#: `step` methods known to hand the action to the wrapped env unchanged (and to step it even after
#: its episode ended): `gym.Wrapper`'s own, the observation and reward wrappers', `TimeLimit`'s and
#: `RecordEpisodeStatistics`'. A wrapper whose class overrides `step` otherwise may change the
#: action (decode token ids) or handle an ended episode itself (`Autoreset`): it judges its actions.
_PASS_THROUGH_STEPS = frozenset((gym.Wrapper.step, gym.ObservationWrapper.step, gym.RewardWrapper.step,
                                 TimeLimit.step, RecordEpisodeStatistics.step))


def passes_actions_on(env: gym.Env) -> bool:
    """True when `env` is a wrapper known to hand each action to the env it wraps unchanged: its
    class's `step` is one of `_PASS_THROUGH_STEPS` (so not an `ActionWrapper`'s, `Autoreset`'s or
    one you wrote), and it keeps the wrapped env's action space (a wrapper taking other actions
    declares its own)."""
    return (isinstance(env, gym.Wrapper) and type(env).step in _PASS_THROUGH_STEPS
            and getattr(env, "_action_space", None) is None)


def driver_of(env: gym.Env) -> Driver | None:
    """The `Driver` of `env` when its core may be driven directly, else None (step it whole)."""
    core = transparent_core(env)
    if core is None:
        return None
    reset = core.reset_facts if getattr(core.reset, "__func__", None) is TextEnv.reset else core.reset
    end = core.end_turn_facts if getattr(core.end_turn, "__func__", None) is TextEnv.end_turn else core.end_turn
    return Driver(core, reset, end)


def check_actions(items: Sequence[tuple[Any, gym.Env, Driver | None, Any]]) -> None:
    """`check_turn` of every env of `items` (see `step_envs`) that can be checked: raises, changing
    nothing, when one cannot take its action (an ended episode, something that is not an action),
    so that a bad action never leaves the others stepped.

    An env can be checked when its core is a `TextEnv` (keeping `TextEnv.step`) that sees the
    action as given: driven directly, or behind wrappers that hand actions on unchanged
    (`transparent_core(env, passing_through=False)`: `TimeLimit`, `RecordEpisodeStatistics`...).
    Behind an `ActionWrapper`, `Autoreset`, a wrapper whose own `step` may change the action, or
    one with its own action space, the action is the wrapper's to judge, when it is stepped.
    """
    for _, env, driver, action in items:
        core = driver.core if driver is not None else transparent_core(env, passing_through=False)
        if core is not None:
            core.check_turn(action)


@lru_cache(maxsize=None)
def batch_verify_applies(kind: type) -> bool:
    """True when a `BatchVerify` of an env of class `kind` may stand in for its `respond`: the class
    that gives `respond` is the one that gives `batch_verify` or a base of it. A subclass that
    changes `respond` but inherits `batch_verify` is stepped through its `respond`, as `step` would."""
    mro = kind.__mro__

    def definer(name: str) -> int:
        return next(i for i, cls in enumerate(mro) if name in cls.__dict__)

    return definer("respond") >= definer("batch_verify")


def _core_of(env: gym.Env, driver: Driver | None) -> Any:
    """The env object whose state a step changes: the driver's core, else what `env` wraps."""
    return driver.core if driver is not None else getattr(env, "unwrapped", None)


def steps_here(env: gym.Env, driver: Driver | None) -> bool:
    """True when `env` must be stepped in the calling thread, not in a thread pool: its `TextEnv`
    core says so (`steps_in_calling_thread`: a registered env whose callable verifier was given
    `timeout=None`, as one that sets `signal.alarm` must be, which works in the main thread only)."""
    return getattr(_core_of(env, driver), "steps_in_calling_thread", False) is True


def verify_group(requests: Sequence[BatchVerify]) -> list[Verdict]:
    """The verdicts of requests with one key, from one call of the first one's `run`.

    A batch that raises or answers with the wrong number of verdicts failed as a whole: every
    request gets a failed Verdict (an infrastructure failure, never a wrong answer).
    """
    try:
        verdicts = list(requests[0].run([request.payload for request in requests]))
        if len(verdicts) != len(requests):
            raise RuntimeError(f"a batch verifier returned {len(verdicts)} verdicts for {len(requests)} answers")
    except Exception as exc:
        verdicts = [Verdict.failed(f"batch verification raised {type(exc).__name__}: {exc}")] * len(requests)
    return verdicts


def step_envs(items: Sequence[tuple[Any, gym.Env, Driver | None, Any]], pool: Executor,
              settle: Callable[[Any, StepResult], None]) -> None:
    """Step each env of `items` — `(key, env, its driver or None, action)` — once, concurrently.

    `settle(key, result)` is called in this thread with each env's `StepResult` as soon as it is
    known: batch-verified turns first (a group at a time), then the threaded ones in `items`'
    order. An exception a step raises (`ResetNeeded`, `InfrastructureError` with
    `on_infra_error="raise"`) propagates once every other env's step has ended: none runs on into
    the episodes the caller starts next. Every env of `items` then ends its episode unscored (the
    caller gets none of the step's results, so each needs a reset). A bad action or an ended
    episode is found before any env steps (`check_actions`).
    """
    check_actions(items)
    try:
        _step_all(items, pool, settle)
    except BaseException:
        # an error or Ctrl-C cut the step short: an env whose turn began and was never answered
        # holds a half-done turn, and the caller gets none of the results settled so far (a reply,
        # a new episode's prompt); every env's episode ends unscored, so the next step asks for a
        # reset rather than going on from a history the caller never saw
        end_unscored(items)
        raise


def end_unscored(items: Sequence[tuple[Any, gym.Env, Driver | None, Any]]) -> None:
    """End the episode of every env of `items` (see `step_envs`) unscored: its next step raises
    `ResetNeeded` until it is reset. For a step that raised: the caller got none of its results."""
    for _, env, driver, _ in items:
        core = _core_of(env, driver)
        if isinstance(core, TextEnv):
            core._done = True


def _step_all(items: Sequence[tuple[Any, gym.Env, Driver | None, Any]], pool: Executor,
              settle: Callable[[Any, StepResult], None]) -> None:
    """`step_envs`'s work: begin every driven env's turn, verify in batches, run the rest in
    `pool`, and settle each result."""
    threaded: list[tuple[Any, gym.Env, Any, Any]] = []
    groups: dict[Any, list[tuple[Any, TextEnv, Callable[[Turn], StepResult], str, Any, BatchVerify]]] = {}
    for key, env, driver, action in items:
        if driver is None:  # unknown wrappers: step through them, in a thread
            threaded.append((key, env, None, action))
            continue
        core, _, end = driver
        content, tool_calls, turn = core.begin_turn(action)
        if turn is not None:
            settle(key, end(turn))
            continue
        try:
            request = core.batch_verify(core.task, content, tool_calls) if batch_verify_applies(type(core)) else None
        except Exception as exc:
            settle(key, end(failed_turn(core, exc)))
            continue
        if request is None:
            threaded.append((key, env, driver, (content, tool_calls)))
        else:
            group = groups.get(request.key)
            if group is None:
                group = groups[request.key] = []
            group.append((key, core, end, content, tool_calls, request))

    def step_threaded(env: gym.Env, driver: Driver | None, begun: Any) -> StepResult:
        if driver is None:
            return env.step(begun)
        content, tool_calls = begun
        return driver.end_turn(driver.core._respond_safely(content, tool_calls))

    # the steps that must run in this thread (`steps_here`) get a Future filled here, once the
    # others are under way in the pool; all are settled in `items`' order
    here = [steps_here(env, driver) for _, env, driver, _ in threaded]
    futures = [(key, Future() if mine else pool.submit(step_threaded, env, driver, begun))
               for (key, env, driver, begun), mine in zip(threaded, here)]
    try:
        for (_, future), (_, env, driver, begun), mine in zip(futures, threaded, here):
            if mine:
                try:
                    future.set_result(step_threaded(env, driver, begun))
                except Exception as exc:  # raised when settled, as a pool step's error is
                    future.set_exception(exc)
        _settle_all(groups, futures, settle)
    finally:  # after an error too: no step may still be running when this returns (those not
        # begun are cancelled: an error or Ctrl-C waits for the running ones only)
        for _, future in futures:
            future.cancel()
        wait([future for _, future in futures])


def _settle_all(groups: dict[Any, list[Any]], futures: list[tuple[Any, Any]], settle: Callable[[Any, StepResult], None]) -> None:
    """`step_envs`'s second half: verify and settle each group, then settle the threaded steps."""
    for request_key in list(groups):
        # popped, so that its requests are freed once answered: fewer objects alive at once means
        # fewer garbage-collector passes, a measurable part of a step's cost
        members = groups.pop(request_key)
        verdicts = verify_group([m[5] for m in members])
        if any(scores_slowly(m[1]) for m in members):  # steps checks: side by side
            jobs = [_completion(core, content, tool_calls, verdict)
                    for (_, core, _, content, tool_calls, _), verdict in zip(members, verdicts)]
            for (key, _, end, *_), turn in zip(members, score_concurrently(jobs)):
                settle(key, end(turn))
        else:
            for (key, core, end, content, tool_calls, _), verdict in zip(members, verdicts):
                try:
                    turn = core.complete_turn(core.task, content, tool_calls, verdict)
                except Exception as exc:
                    turn = failed_turn(core, exc)
                settle(key, end(turn))
        del members, verdicts
    for key, future in futures:
        settle(key, future.result())


def _completion(core: TextEnv, content: str, tool_calls: Any, verdict: Verdict) -> Callable[[], Turn]:
    """A job giving `core.complete_turn(...)`'s Turn, or the failed Turn of what it raised."""

    def complete() -> Turn:
        try:
            return core.complete_turn(core.task, content, tool_calls, verdict)
        except Exception as exc:
            return failed_turn(core, exc)

    return complete
