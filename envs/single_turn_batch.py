"""The step of a batch of single-turn envs, done column by column.

A single-turn step is the same few moves for every sub-env of a vector env: record the answer,
verify it, score its parts, end the episode and (with `SameStep`) start the next. `TextVectorEnv`
otherwise does them env by env through each env's `step` phases, building a `Turn`, an
`InfoFacts` and a reset's `InfoFacts` per env and then reading the info's columns out of them;
for Math-v0 that bookkeeping cost a third of the verification itself
(`benchmarks/perf/env_bench.py`). Here each move is one pass over all envs that fills plain
lists, and the info's columns are made from those lists.

It runs only where it gives exactly what the env-by-env step gives (`tests/test_envs_vector.py`
compares the two): every sub-env a `SingleTurnEnv` whose class keeps the base class's step, reset,
turn checks, `respond` and end-of-turn logic (its verifier, prompt, format and process scores are
its own, and are called as usual), every action a plain string within `max_action_chars`, every
env's verification a `BatchVerify` request, and infrastructure failures flagged rather than
raised. Otherwise `step_single_turn` returns None and leaves every env as it was. Every env's
answer is recorded first, as `begin_turn` records it (turn 1, the assistant message appended to
`messages`), so `batch_verify`, the verifier and the scoring hooks see the env in the state they
see on the env-by-env path (a `process_score` that reads `self.messages` gives one reward on
either); where a `batch_verify` then raises or returns None, that record is undone before the
env-by-env step begins. The hooks run in the
env-by-env order for each env (verify, score, then draw the next task and make its prompt), so an
env whose hooks also draw from `np_random` gets the same random stream on either path: which path
a step takes depends on the actions (an over-long one goes env by env), and must not change the
tasks a seed gives.

A `SameStep` reset that fails (a next prompt over `max_obs_chars`, a `make_prompt` or task draw
that raises) raises that error and leaves every env as the env-by-env step leaves it when its
settling of envs stops there (`stepping.step_envs`): in the order that step settles them, the
envs before the failing one scored and reset and the failing one scored, then every episode
ended unscored (the caller gets none of the step's results); the envs after it have the answer
recorded, no score kept and no next task drawn. Every env then needs a reset. (One difference is
left: this path has already run the scoring hooks of the envs after the failing one, which the
env-by-env step never reaches; a hook that draws from `np_random` leaves their streams further on.)
"""

from __future__ import annotations

import copy
from functools import lru_cache
from itertools import repeat
from operator import is_
from typing import Any, Callable, Sequence

import numpy as np

from rlvr.envs.base import (_RESET_PARTS, SingleTurnEnv, TextEnv, _copy_messages, failed_turn, opening_messages, out_of_range,
                            out_of_range_verdict)
from rlvr.envs.rewards import add_parts
from rlvr.envs.stepping import score_concurrently, scores_slowly, verify_group
from rlvr.envs.vector_info import _NO_DETAILS, VARYING, constant_columns, mask, put_column

#: What a SingleTurnEnv subclass must not override for its step to be done here.
_BASE_LOGIC = ("step", "reset", "reset_facts", "reset_details", "_choose_task", "_draw_task", "_begin_episode", "begin_turn",
               "check_turn", "respond", "_respond_safely", "complete_turn", "score_parts", "end_turn", "end_turn_facts",
               "fingerprint", "_weights")


@lru_cache(maxsize=None)
def batchable(kind: type) -> bool:
    """True when envs of class `kind` may be stepped here (see the module docs)."""
    if not issubclass(kind, SingleTurnEnv):
        return False
    return all(getattr(kind, name) is getattr(SingleTurnEnv, name) for name in _BASE_LOGIC)


def step_single_turn(cores: Sequence[TextEnv], actions: Sequence[Any], same_step: bool
                     ) -> tuple[list[str], list[float], dict[str, Any]] | None:
    """Step every env of `cores` with its action; None (nothing done) where this path does not apply.

    Returns the observations (the next prompts with `same_step`, else ""), the rewards, and the
    vector info in Gymnasium's layout: with `same_step` the new episodes' reset info plus the
    ended ones' `final_obs` / `final_info`; otherwise the step's own info.
    """
    if not all(map(batchable, {type(core) for core in cores})):
        return None
    for core, action in zip(cores, actions):  # every cheap check first: no hook runs for a step that goes env by env
        if (type(action) is not str or core._done or core.task is None or len(action) > core.max_action_chars
                or core.on_infra_error != "flag" or core._turn != 0 or core._return_parts is not _RESET_PARTS):
            return None
    # record every answer as `begin_turn` does (turn 1, the assistant message appended) before any
    # hook runs, so `batch_verify`, the verifier and the scoring hooks see the env as on the
    # env-by-env path; undone exactly if this path then declines
    opening = [core._messages for core in cores]
    ended_messages = [[*messages, {"role": "assistant", "content": action}] for messages, action in zip(opening, actions)]
    for core, messages in zip(cores, ended_messages):
        core._turn = 1
        core._messages = messages
    try:
        return _step_begun(cores, actions, same_step, opening, ended_messages)
    except BaseException:  # Ctrl-C, or a hook's error past the flagging: as `stepping.step_envs` leaves them
        for core in cores:
            core._done = True
        raise


def _step_begun(cores: Sequence[TextEnv], actions: Sequence[str], same_step: bool, opening: list[Any],
                ended_messages: list[Any]) -> tuple[list[str], list[float], dict[str, Any]] | None:
    """`step_single_turn` once every env's turn is recorded; None, with each env's `_turn` and
    `_messages` put back (`opening`), where a `batch_verify` raises or returns None."""
    n = len(cores)
    requests = []
    for core, action in zip(cores, actions):
        try:
            request = core.batch_verify(core.task, action, None)
        except Exception:
            request = None  # the env-by-env step reports it as that env's failure
        if request is None:
            for env, messages in zip(cores, opening):
                env._turn = 0
                env._messages = messages
            return None
        requests.append(request)
    keys = [request.key for request in requests]
    one_key = keys.count(keys[0]) == n  # the usual case: one verifier for all, settled in index order

    tasks = [core.task for core in cores]
    weights = [core.reward_weights for core in cores]
    # the same objects in the step's and the reset's infos (no env changes them in between)
    shared = {"reward_weights": [core._weights() for core in cores], "fingerprint": [core.fingerprint() for core in cores]}

    verdicts = _run_requests(requests, keys, one_key)
    del requests  # (freed early: fewer objects alive, fewer garbage-collector passes)
    outcomes, formats, processes, details, errors = _score(cores, tasks, actions, verdicts)
    if same_step:  # after the scoring hooks, as env by env (see the module docs)
        # each env's next task and prompt, in the order the env-by-env step settles the envs (its
        # resets), up to the first that fails (the env-by-env step resets none after that one)
        order = range(n) if one_key else _settle_order(keys)
        next_tasks: list[Any] = [None] * n
        prompts: list[Any] = [None] * n
        i = 0
        try:
            for i in order:
                core = cores[i]
                next_tasks[i] = task = core._draw_task()
                prompts[i] = prompt = core.make_prompt(task)
                if len(prompt) > core.max_obs_chars:
                    raise ValueError(core._long_observation(f"the prompt of task {task.id!r}", prompt))
        except BaseException:
            _end_as_env_by_env(cores, list(order), i, next_tasks, prompts, verdicts, outcomes, formats, processes)
            raise
        reset_info = _reset_columns(cores, next_tasks, prompts, shared)
    rewards = [float(w.outcome * o + w.format * f + w.process * p)  # `combine`, spelled out
               for w, o, f, p in zip(weights, outcomes, formats, processes)]
    step_columns = _step_columns(tasks, outcomes, formats, processes, verdicts, errors, details, shared)

    if not same_step:  # the episodes stay ended until the next step resets them
        for core, verdict, o, f, p in zip(cores, verdicts, outcomes, formats, processes):
            core._return_parts = add_parts(_RESET_PARTS, {"outcome": o, "format": f, "process": p})
            core._verdict = verdict
            core._done = True
        step_columns["messages"] = np.fromiter(map(_copy_messages, ended_messages), dtype=object, count=n)
        return [""] * n, rewards, step_columns

    for core, task, prompt in zip(cores, next_tasks, prompts):
        core._begin_episode(task, prompt)
    everyone = list(range(n))
    out: dict[str, Any] = {}
    put_column(out, "final_obs", everyone, [""] * n, n, True)
    step_columns["messages"] = np.fromiter(ended_messages, dtype=object, count=n)  # no one else holds them now
    out["final_info"] = step_columns
    out["_final_info"] = mask(everyone, n, True)
    out.update(reset_info)
    return prompts, rewards, out


def _run_requests(requests: list[Any], keys: list[Any], one_key: bool) -> list[Any]:
    """Each request's verdict: one `verify_group` per request key (usually one for the whole
    batch: `one_key`). `keys`: each request's key."""
    if one_key:
        return verify_group(requests)
    groups: dict[Any, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    verdicts: list[Any] = [None] * len(requests)
    for members in groups.values():
        for i, verdict in zip(members, verify_group([requests[i] for i in members])):
            verdicts[i] = verdict
    return verdicts


def _settle_order(keys: list[Any]) -> list[int]:
    """The order the env-by-env step settles envs whose requests have these keys: a group per key,
    in the order each key first appears, each in index order (`stepping._settle_all`)."""
    groups: dict[Any, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    return [i for members in groups.values() for i in members]


def _end_as_env_by_env(cores: Sequence[TextEnv], order: list[int], failed: int, next_tasks: list[Any], prompts: list[Any],
                       verdicts: list[Any], outcomes: list[float], formats: list[float], processes: list[float]) -> None:
    """After env `failed`'s SameStep reset raised: leave every env as the env-by-env step leaves it
    (see the module docs). The envs settled before it in `order` begin their next episode, `failed`
    ends its scored turn, the ones after it hold the recorded answer; every episode then ends."""
    position = order.index(failed)
    for i in order[:position]:
        cores[i]._begin_episode(next_tasks[i], prompts[i])
    core = cores[failed]
    core._return_parts = add_parts(_RESET_PARTS, {"outcome": outcomes[failed], "format": formats[failed],
                                                  "process": processes[failed]})
    core._verdict = verdicts[failed]
    # the ones from `failed` on keep the turn recorded before the verification (turn 1, the answer)
    for core in cores:
        core._done = True


def _score(cores: Sequence[TextEnv], tasks: list[Any], actions: Sequence[str], verdicts: list[Any]
           ) -> tuple[list[float], list[float], list[float], list[Any], list[str | None]]:
    """Reward parts, turn details and errors of each answer, as `SingleTurnEnv.complete_turn` and
    `TextEnv.end_turn_facts` give them (a failed verification scores 0 in every part).

    `verdicts` is updated in place where scoring itself raised (an infrastructure failure).
    Envs that check the reasoning's steps (slow) are scored side by side, the others here.
    """
    if any(map(scores_slowly, cores)):
        scored = _score_concurrently(cores, tasks, actions, verdicts)
    else:
        scored = []
        for i, (core, task, action, verdict) in enumerate(zip(cores, tasks, actions, verdicts)):
            try:
                scored.append(core.score_parts(task, action, verdict))
            except Exception as exc:  # scoring raised: an infrastructure failure, every part 0
                verdicts[i] = failed_turn(core, exc).verdict
                scored.append((0.0, 0.0, None))
    _flag_out_of_range(cores, verdicts, scored)
    errors = [verdict.error for verdict in verdicts]
    details = [detail or None for _, _, detail in scored]
    if errors.count(None) == len(errors):  # the usual case: every verification worked
        return ([float(verdict.score) for verdict in verdicts], [f for f, _, _ in scored], [p for _, p, _ in scored],
                details, errors)
    ok = [error is None for error in errors]
    return ([float(v.score) if good else 0.0 for v, good in zip(verdicts, ok)],
            [f if good else 0.0 for (f, _, _), good in zip(scored, ok)],
            [p if good else 0.0 for (_, p, _), good in zip(scored, ok)], details, errors)


def _flag_out_of_range(cores: Sequence[TextEnv], verdicts: list[Any], scored: list[tuple[Any, Any, Any]]) -> None:
    """Fail (in `verdicts`, in place) each answer whose outcome, format or process part is not a
    number in [0, 1], as `TextEnv.end_turn_facts` does (`out_of_range_verdict`, naming the hook).
    A plain loop: for a batch of 64 it took half the time of building NumPy columns to compare."""
    for i, (verdict, (format_part, process_part, _)) in enumerate(zip(verdicts, scored)):
        if verdict.error is not None:
            continue
        score = verdict.score
        try:
            if 0.0 <= score <= 1.0 and 0.0 <= format_part <= 1.0 and 0.0 <= process_part <= 1.0:
                continue
        except (TypeError, ValueError):  # not a number: `out_of_range` names it
            pass
        parts = {"outcome": score, "format": format_part, "process": process_part}
        bad = out_of_range(parts)
        if bad is not None:
            verdicts[i] = out_of_range_verdict(cores[i], bad, parts[bad])


def _score_concurrently(cores: Sequence[TextEnv], tasks: list[Any], actions: Sequence[str], verdicts: list[Any]
                        ) -> list[tuple[float, float, Any]]:
    """`_score`'s `score_parts` of every env, run side by side (`score_concurrently`); `verdicts`
    is updated in place where scoring raised."""

    def job(core: TextEnv, task: Any, action: str, verdict: Any) -> Callable[[], tuple[Any, Exception | None]]:
        def run() -> tuple[Any, Exception | None]:
            try:
                return core.score_parts(task, action, verdict), None
            except Exception as exc:  # scoring raised: an infrastructure failure, every part 0
                return (0.0, 0.0, None), exc
        return run

    results = score_concurrently([job(*args) for args in zip(cores, tasks, actions, verdicts)])
    for i, (core, (_, exc)) in enumerate(zip(cores, results)):
        if exc is not None:
            verdicts[i] = failed_turn(core, exc).verdict
    return [parts for parts, _ in results]


def _step_columns(tasks: list[Any], outcomes: list[float], formats: list[float], processes: list[float],
                  verdicts: list[Any], errors: list[str | None], details: list[Any], shared: dict[str, list[Any]]) -> dict[str, Any]:
    """The step's info columns (all but `messages`, which the caller adds: copied or not)."""
    n = len(tasks)
    everyone = list(range(n))
    failed = [i for i, error in enumerate(errors) if error is not None]
    no_details = details.count(None) == n
    out = constant_columns((
        ("task_id", VARYING), ("turn", 1), ("messages", VARYING), ("reward_parts", VARYING), ("return_parts", VARYING),
        ("reward_weights", _one(shared["reward_weights"])), ("verdict", VARYING), ("valid", VARYING if failed else True),
        ("fingerprint", _one(shared["fingerprint"])), ("turn_details", _NO_DETAILS if no_details else VARYING),
    ), n)
    put_column(out, "task_id", everyone, [task.id for task in tasks], n, True)
    parts = {"outcome": np.array(outcomes, dtype=float), "format": np.array(formats, dtype=float),
             "process": np.array(processes, dtype=float)}
    out["reward_parts"] = _with_masks(parts, n)
    out["return_parts"] = _with_masks({name: column + 0.0 for name, column in parts.items()}, n)  # 0 + each part
    put_column(out, "verdict", everyone, verdicts, n, True, kind=object)
    if failed:
        put_column(out, "valid", everyone, [error is None for error in errors], n, True)
    _put_shared(out, shared, n)
    if not no_details:
        put_column(out, "turn_details", everyone, [copy.deepcopy(d) if d else _NO_DETAILS for d in details], n, True)
    if failed:
        put_column(out, "error", failed, [errors[i] for i in failed], n, len(failed) == n)
    return out


def _one(values: list[Any]) -> Any:
    """The object every item of `values` is, else `VARYING` (for `constant_columns`' layouts)."""
    first = values[0]
    return first if all(map(is_, values, repeat(first))) else VARYING


def _put_shared(out: dict[str, Any], shared: dict[str, list[Any]], n: int) -> None:
    """The `reward_weights` and `fingerprint` columns, where the envs do not all share one object."""
    everyone = list(range(n))
    for key in ("reward_weights", "fingerprint"):
        if out[key] is None:
            put_column(out, key, everyone, shared[key], n, True)


def _with_masks(columns: dict[str, np.ndarray], n: int) -> dict[str, Any]:
    """Nested columns reported by every env, each followed by its all-True mask."""
    everyone = list(range(n))
    out: dict[str, Any] = {}
    for name, column in columns.items():
        out[name] = column
        out[f"_{name}"] = mask(everyone, n, True)
    return out


def _reset_columns(cores: Sequence[TextEnv], tasks: list[Any], prompts: list[str], shared: dict[str, list[Any]]) -> dict[str, Any]:
    """The info columns of episodes begun on `tasks` with `prompts` (what `TextEnv.reset_facts` reports)."""
    n = len(cores)
    everyone = list(range(n))
    out = constant_columns((
        ("task_id", VARYING), ("turn", 0), ("messages", VARYING), ("reward_parts", _RESET_PARTS), ("return_parts", _RESET_PARTS),
        ("reward_weights", _one(shared["reward_weights"])), ("verdict", None), ("valid", True),
        ("fingerprint", _one(shared["fingerprint"])), ("turn_details", _NO_DETAILS),
    ), n)
    put_column(out, "task_id", everyone, [task.id for task in tasks], n, True)
    # a copy of each env's opening messages, made afresh rather than copied
    messages = [opening_messages(core.system_prompt, prompt) for core, prompt in zip(cores, prompts)]
    put_column(out, "messages", everyone, messages, n, True, kind=object)
    _put_shared(out, shared, n)
    return out
