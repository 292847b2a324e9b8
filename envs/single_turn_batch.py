"""The step of a batch of single-turn envs, done column by column.

A single-turn step is the same few moves for every sub-env of a vector env: record the answer,
verify it, score its parts, end the episode and (with `SameStep`) start the next. `TextVectorEnv`
otherwise does them env by env through each env's `step` phases, building a `Turn`, an
`InfoFacts` and a reset's `InfoFacts` per env and then reading the info's columns out of them;
for Math-v0 that bookkeeping cost a third of the verification itself
(`benchmarks/perf/env_bench.py`). Here each move is one pass over all envs that fills plain
lists, and the info's columns are made from those lists.

It runs only where it gives exactly what the env-by-env step gives (`tests/test_envs_vector.py`
compares the two): every sub-env a `SingleTurnEnv` whose class keeps the base class's step, reset
and end-of-turn logic (its verifier, prompt, format and process scores are its own, and are
called as usual), every action a plain string within `max_action_chars`, every env's
verification a `BatchVerify` request, and infrastructure failures flagged rather than raised.
Otherwise `step_single_turn` returns None and changes nothing. One difference in order:
everything that does not depend on the verdicts is done before the verification rather than
after it — the answers' format and process parts, and with `SameStep` the next episodes (tasks
drawn, `make_prompt(task)` called, each env begun on its new task). A `BatchVerify.run` is shared
by all the envs of a batch, so it may depend on its payloads only, never on an env's state.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from rlvr.envs.base import _RESET_PARTS, SingleTurnEnv, TextEnv, _copy_messages, failed_turn, not_a_verdict, opening_messages
from rlvr.envs.rewards import add_parts
from rlvr.envs.stepping import verify_group
from rlvr.envs.vector_info import _NO_DETAILS, mask, put_column, put_constant
from rlvr.verifiers.verdict import Verdict

#: What a SingleTurnEnv subclass must not override for its step to be done here.
_BASE_LOGIC = ("step", "reset", "reset_facts", "reset_details", "_choose_task", "_draw_task", "_begin_episode", "begin_turn",
               "complete_turn", "score_parts", "end_turn", "end_turn_facts", "fingerprint", "_weights")


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
    n = len(cores)
    if not all(map(batchable, {type(core) for core in cores})):
        return None
    for core, action in zip(cores, actions):  # every cheap check first: no hook runs for a step that goes env by env
        if (type(action) is not str or core._done or core.task is None or len(action) > core.max_action_chars
                or core.on_infra_error != "flag" or core._turn != 0 or core._return_parts is not _RESET_PARTS):
            return None
    requests = []
    for core, action in zip(cores, actions):
        try:
            request = core.batch_verify(core.task, action, None)
        except Exception:
            return None  # the env-by-env step reports it as that env's failure
        if request is None:
            return None
        requests.append(request)

    # Everything that does not depend on the verdicts is done before the verification, in passes
    # over the envs while they are still in the CPU caches (the verifier's work evicts them): the
    # answers' format and process parts, the ended episodes' messages, the step info's columns
    # but for the verdicts' own, and with SameStep the next episodes themselves. After it, only
    # the verdicts' columns and the rewards are left.
    tasks = [core.task for core in cores]
    ended_messages = [[*core._messages, {"role": "assistant", "content": action}] for core, action in zip(cores, actions)]
    weights = [core.reward_weights for core in cores]
    # the same objects in the step's and the reset's infos (no env changes them in between)
    shared = {"reward_weights": [core._weights() for core in cores], "fingerprint": [core.fingerprint() for core in cores]}
    formats, processes, details, raised = _answer_parts(cores, tasks, actions)
    answer_columns = _answer_columns(tasks, formats, processes, details, shared)
    if same_step:  # a `BatchVerify.run` depends on its payloads only, so the envs may move on now
        next_tasks = [core._draw_task() for core in cores]
        prompts = [core.make_prompt(task) for core, task in zip(cores, next_tasks)]
        reset_info = _reset_columns(cores, next_tasks, prompts, shared)
        for core, task, prompt in zip(cores, next_tasks, prompts):
            core._begin_episode(task, prompt)

    verdicts = _run_requests(requests)
    del requests  # (freed early: fewer objects alive, fewer garbage-collector passes)
    errors = _settle(cores, verdicts, raised, details)
    if errors.count(None) == n:  # the usual case: every answer verified and scored
        outcomes = [float(verdict.score) for verdict in verdicts]
    else:  # a failed verification or scoring scores 0 in every part (an infrastructure failure;
        # the turn details stay where only the verification failed, as `end_turn_facts` keeps them)
        ok = [error is None for error in errors]
        outcomes = [float(v.score) if good else 0.0 for v, good in zip(verdicts, ok)]
        formats = [f if good else 0.0 for f, good in zip(formats, ok)]
        processes = [p if good else 0.0 for p, good in zip(processes, ok)]
        answer_columns = _answer_columns(tasks, formats, processes, details, shared)
    rewards = [float(w.outcome * o + w.format * f + w.process * p)  # `combine`, spelled out
               for w, o, f, p in zip(weights, outcomes, formats, processes)]
    step_columns = _step_columns(answer_columns, outcomes, verdicts, errors)

    if not same_step:  # the episodes stay ended until the next step resets them
        for core, messages, verdict, o, f, p in zip(cores, ended_messages, verdicts, outcomes, formats, processes):
            core._turn = 1
            core._messages = messages
            core._return_parts = add_parts(_RESET_PARTS, {"outcome": o, "format": f, "process": p})
            core._verdict = verdict
            core._done = True
        step_columns["messages"] = np.fromiter(map(_copy_messages, ended_messages), dtype=object, count=n)
        return [""] * n, rewards, step_columns

    everyone = list(range(n))
    out: dict[str, Any] = {}
    put_column(out, "final_obs", everyone, [""] * n, n, True)
    step_columns["messages"] = np.fromiter(ended_messages, dtype=object, count=n)  # no one else holds them now
    out["final_info"] = step_columns
    out["_final_info"] = mask(everyone, n, True)
    out.update(reset_info)
    return prompts, rewards, out


def _run_requests(requests: list[Any]) -> list[Any]:
    """Each request's verdict: one `verify_group` per request key (usually one for the whole batch)."""
    keys = [request.key for request in requests]
    if keys.count(keys[0]) == len(keys):  # the usual case: one verifier for all
        return verify_group(requests)
    groups: dict[Any, list[int]] = {}
    for i, request in enumerate(requests):
        groups.setdefault(request.key, []).append(i)
    verdicts: list[Any] = [None] * len(requests)
    for members in groups.values():
        for i, verdict in zip(members, verify_group([requests[i] for i in members])):
            verdicts[i] = verdict
    return verdicts


def _answer_parts(cores: Sequence[TextEnv], tasks: list[Any], actions: Sequence[str]
                  ) -> tuple[list[float], list[float], list[Any], list[Exception | None]]:
    """Each answer's format and process parts and turn details (`SingleTurnEnv.score_parts`
    but for its check of the verdict, which `_settle` makes), and the exception scoring raised
    (None where it worked; that answer's parts are then 0)."""
    formats: list[float] = []
    processes: list[float] = []
    details: list[Any] = []
    raised: list[Exception | None] = []
    for core, task, action in zip(cores, tasks, actions):
        try:
            process, detail = core.process_score(task, action)
            scores = (float(core.format_score(task, action)), float(process), detail or None, None)
        except Exception as exc:  # an infrastructure failure, reported once the verdicts are in
            scores = (0.0, 0.0, None, exc)
        formats.append(scores[0])
        processes.append(scores[1])
        details.append(scores[2])
        raised.append(scores[3])
    return formats, processes, details, raised


def _settle(cores: Sequence[TextEnv], verdicts: list[Any], raised: list[Exception | None], details: list[Any]) -> list[str | None]:
    """Each verdict's error (None where the answer was verified and scored), as
    `SingleTurnEnv.complete_turn` and `TextEnv.end_turn_facts` give them: a verifier that answered
    with something else than a Verdict, or scoring that raised, makes that env's verdict a failed
    one, without turn details (`verdicts` and `details` are updated in place)."""
    if raised.count(None) == len(raised) and set(map(type, verdicts)) == {Verdict}:  # the usual case
        return [verdict.error for verdict in verdicts]
    for i, (core, verdict, exc) in enumerate(zip(cores, verdicts, raised)):
        if type(verdict) is not Verdict and not isinstance(verdict, Verdict):
            verdicts[i] = failed_turn(core, not_a_verdict(core, verdict)).verdict
            details[i] = None
        elif exc is not None:
            verdicts[i] = failed_turn(core, exc).verdict
    return [verdict.error for verdict in verdicts]


def _answer_columns(tasks: list[Any], formats: list[float], processes: list[float], details: list[Any],
                    shared: dict[str, list[Any]]) -> dict[str, Any]:
    """The step info's columns that do not depend on the verdicts, by key."""
    n = len(tasks)
    everyone = list(range(n))
    out: dict[str, Any] = {}
    put_column(out, "task_id", everyone, [task.id for task in tasks], n, True)
    put_constant(out, "turn", everyone, 1, n, True)
    put_column(out, "reward_weights", everyone, shared["reward_weights"], n, True)
    put_column(out, "fingerprint", everyone, shared["fingerprint"], n, True)
    if details.count(None) == n:
        put_constant(out, "turn_details", everyone, _NO_DETAILS, n, True)
    else:
        put_column(out, "turn_details", everyone, [copy.deepcopy(d) if d else _NO_DETAILS for d in details], n, True)
    parts = {"format": np.array(formats, dtype=float), "process": np.array(processes, dtype=float)}
    out["reward_parts"] = _with_masks(parts, n)
    out["return_parts"] = _with_masks({name: column + 0.0 for name, column in parts.items()}, n)  # 0 + each part
    return out


def _step_columns(answer: dict[str, Any], outcomes: list[float], verdicts: list[Any], errors: list[str | None]) -> dict[str, Any]:
    """The step's info columns, in the info's key order (all but `messages`, which the caller
    adds: copied or not), from `_answer_columns` and the verdicts."""
    n = len(verdicts)
    everyone = list(range(n))
    out: dict[str, Any] = {"task_id": answer["task_id"], "_task_id": answer["_task_id"], "turn": answer["turn"], "_turn": answer["_turn"]}
    out["messages"] = None  # (keeps the info's key order)
    out["_messages"] = mask(everyone, n, True)
    outcome = np.array(outcomes, dtype=float)
    for key, column in (("reward_parts", outcome), ("return_parts", outcome + 0.0)):  # return: 0 + each part
        out[key] = {"outcome": column, "_outcome": mask(everyone, n, True), **answer[key]}
        out[f"_{key}"] = mask(everyone, n, True)
    for key in ("reward_weights", "_reward_weights"):
        out[key] = answer[key]
    put_column(out, "verdict", everyone, verdicts, n, True, kind=object)
    failed = [i for i, error in enumerate(errors) if error is not None]
    if failed:
        put_column(out, "valid", everyone, [error is None for error in errors], n, True)
    else:
        put_constant(out, "valid", everyone, True, n, True)
    for key in ("fingerprint", "_fingerprint", "turn_details", "_turn_details"):
        out[key] = answer[key]
    if failed:
        put_column(out, "error", failed, [errors[i] for i in failed], n, len(failed) == n)
    return out


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
    out: dict[str, Any] = {}
    put_column(out, "task_id", everyone, [task.id for task in tasks], n, True)
    put_constant(out, "turn", everyone, 0, n, True)
    # a copy of each env's opening messages, made afresh rather than copied
    messages = [opening_messages(core.system_prompt, prompt) for core, prompt in zip(cores, prompts)]
    put_column(out, "messages", everyone, messages, n, True, kind=object)
    put_constant(out, "reward_parts", everyone, _RESET_PARTS, n, True)
    put_constant(out, "return_parts", everyone, _RESET_PARTS, n, True)
    put_column(out, "reward_weights", everyone, shared["reward_weights"], n, True)
    put_constant(out, "verdict", everyone, None, n, True)
    put_constant(out, "valid", everyone, True, n, True)
    put_column(out, "fingerprint", everyone, shared["fingerprint"], n, True)
    put_constant(out, "turn_details", everyone, _NO_DETAILS, n, True)
    return out
