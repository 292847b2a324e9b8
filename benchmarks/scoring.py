"""Scoring completions against a loaded benchmark, many at a time.

The verdict of a completion is the one the benchmark's environment gives (`env.step`); this module
gets the same verdicts faster for the built-in kinds:

- math (an env whose verifier is the math verifier, as `scores_with_math` checks; a benchmark
  registered with kind="math" over an env scored otherwise is stepped through its env):
  `rlvr.verifiers.math.verify_batch` over (gold, completion) pairs — the cheap exact stage in
  this process, distinct sympy comparisons spread over all cores, repeated answers decided once;
- code (function tasks): the env's own `solution_of` (so HumanEval continuations are appended to the
  prompt exactly as the env does), then `check_functions`, which runs every program concurrently
  in the sandbox; stdin/stdout tasks run `check_io` on a few threads;
- anything else: each completion is stepped through the env (`reset(options={"task": ...})`).

A sandbox that cannot start, or raises, gives `Verdict.failed` (error set) for the samples it
should have run: an outage is never a wrong answer.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

from rlvr.envs.tasks import Task
from rlvr.verifiers.verdict import Verdict


def score_with_env(env: Any, task: Task, completion: str) -> Verdict:
    """The env's verdict for one completion: the reference path every fast path must agree with."""
    env.reset(options={"task": task})
    _, _, _, _, info = env.step(completion)
    verdict = info.get("verdict")
    if verdict is None:  # a multi-turn env that wants more turns: the single completion gave no final answer
        return Verdict.wrong("no final answer in the completion (the environment asked for another turn)",
                             details={"kind": "no_final_answer"})
    return verdict


def scores_with_math(env: Any) -> bool:
    """Whether `env` scores with the math verifier exactly as `_math_batch` does: its verifier's
    fingerprint is the math verifier's with the same time limit and rules version. A benchmark's
    kind (registered as "math" for maj@k) does not say what its env scores with."""
    from rlvr.envs.scoring import resolve_verifier

    try:
        fingerprint = env.verifier_fingerprint()
        if fingerprint.get("name") != "math":
            return False
        return fingerprint == resolve_verifier("math", timeout=fingerprint["settings"]["timeout"]).fingerprint()
    except Exception:  # no fingerprint, another verifier's settings: not the math verifier
        return False


def _math_batch(env: Any, tasks: Sequence[Task], completions: Sequence[str]) -> list[Verdict]:
    from rlvr.verifiers.math import verify_batch

    timeout = float(env.verifier_fingerprint()["settings"]["timeout"])
    out = [None] * len(tasks)
    pairs, where = [], []
    for i, (task, text) in enumerate(zip(tasks, completions)):
        if len(text) > env.max_action_chars:  # as the env does: over-long turns are wrong
            out[i] = Verdict.wrong(f"over-long: the turn has {len(text)} characters, more than max_action_chars={env.max_action_chars}",
                                   details={"kind": "overlong"})
        else:
            pairs.append((task.answer, text))
            where.append(i)
    try:
        verdicts = verify_batch(pairs, timeout=timeout) if pairs else []
    except Exception as exc:  # the verifier's worker pool failed: infrastructure, not the answers
        verdicts = [Verdict.failed(f"math verifier raised {type(exc).__name__}: {exc}")] * len(pairs)
    for i, v in zip(where, verdicts):
        out[i] = v
    return out  # type: ignore[return-value]


def _sandbox_of(env: Any) -> Any:
    getter = getattr(env, "_get_sandbox", None)
    return getter() if getter else None


def _code_batch(env: Any, tasks: Sequence[Task], completions: Sequence[str], concurrency: int | None) -> list[Verdict]:
    from rlvr.envs.code_env import NO_CODE_REASON
    from rlvr.verifiers.code import check_functions, check_io

    out: list[Verdict | None] = [None] * len(tasks)
    # the env's scoring of a verdict, as its own `verify` applies it (Code-v0's partial_credit)
    credit = getattr(env, "credit", lambda verdict: verdict)
    functions, fn_where, ios = [], [], []
    for i, (task, text) in enumerate(zip(tasks, completions)):
        if len(text) > env.max_action_chars:
            out[i] = Verdict.wrong(f"over-long: the turn has {len(text)} characters, more than max_action_chars={env.max_action_chars}",
                                   details={"kind": "overlong"})
            continue
        solution = env.solution_of(task, text)
        if not solution.strip():
            out[i] = credit(Verdict.wrong(NO_CODE_REASON, details={"kind": "no_code"}))
        elif task.meta.get("kind") == "io":
            ios.append((i, solution, task.answer))
        else:
            options = env.function_options() if hasattr(env, "function_options") else {"timeout": env.timeout, "extract": False}
            functions.append({"solution": solution, "tests": task.answer, "entry_point": task.meta.get("entry_point"),
                              **options})  # as the env's own `verify` checks it (per-call limit included)
            fn_where.append(i)
    try:
        sandbox = _sandbox_of(env)
    except Exception as exc:  # the sandbox cannot start: every code sample here is unverified
        failed = Verdict.failed(f"sandbox unavailable: {type(exc).__name__}: {exc}", details={"kind": "sandbox_error"})
        return [v if v is not None else failed for v in out]
    if functions:
        for i, v in zip(fn_where, check_functions(functions, sandbox=sandbox, concurrency=concurrency)):
            out[i] = credit(v)
    if ios:
        def one(job: tuple[int, str, Any]) -> Verdict:
            try:
                return check_io(job[1], job[2], sandbox=sandbox, **env.io_options())  # the env's time limit and comparison
            except Exception as exc:
                return Verdict.failed(f"check_io raised {type(exc).__name__}: {exc}")

        with ThreadPoolExecutor(max_workers=min(4, len(ios))) as pool:
            for (i, _, _), v in zip(ios, pool.map(one, ios)):
                out[i] = credit(v)
    return out  # type: ignore[return-value]


def answers_in_one_turn(env: Any) -> bool:
    """Whether `env`'s step verifies the completion as the answer, which the math fast path
    (`_math_batch`) assumes: a single-turn env without tools. In a multi-turn or tool env a
    completion may be a tool call, which its step runs instead of scoring."""
    return getattr(env, "max_turns", 1) == 1 and not getattr(env, "tools", None)


def score_completions(
    env: Any,
    kind: str,
    tasks: Sequence[Task],
    completions: Sequence[str],
    *,
    batched: bool = True,
    concurrency: int | None = None,
) -> list[Verdict]:
    """One Verdict per (task, completion), in order. `batched=False` steps each through the env."""
    if len(tasks) != len(completions):
        raise ValueError(f"{len(tasks)} tasks but {len(completions)} completions")
    texts = [c if isinstance(c, str) else str(c) for c in completions]
    if batched and kind == "math" and hasattr(env, "max_action_chars") and answers_in_one_turn(env) and scores_with_math(env):
        return _math_batch(env, tasks, texts)
    if batched and kind == "code" and hasattr(env, "solution_of"):
        return _code_batch(env, tasks, texts, concurrency)
    return [score_with_env(env, task, text) for task, text in zip(tasks, texts)]
