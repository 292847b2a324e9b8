"""Env-layer overhead: env steps per second for Math-v0 and ToolMath-v0 on a batch of 64 envs.

For each env, the same work is done two ways in this process, interleaved round by round:

- direct: what a rollout loop would do without environments — `rlvr.verifiers.math.verify_batch`
  on the 64 (gold, answer) pairs of a round (Math-v0; the naive way, `verify` in a thread pool of
  64, is timed too and shown for reference), or `Sandbox.run` of the tool call's code in a
  thread pool of the same size as the vector env's (ToolMath-v0);
- env: `TextVectorEnv.step` on 64 envs with the same answers (Math-v0: one answer per episode,
  autoreset in the same step, so each step also pays for the reset; ToolMath-v0: one python tool
  call per step).

Overhead = env time / direct time - 1 over all rounds (target <= 10%); for Math-v0 the median
of the per-round ratios is shown too (robust to load spikes from other processes), and the env
and direct runs alternate which goes first. Answers vary (distinct numbers per round)
so the math verifier's memo cache does not turn the baseline into a no-op.

    python benchmarks/perf/env_bench.py [--rounds 20] [--batch 64] [--backend auto]

The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import rlvr  # noqa: F401  (registers the envs)
from rlvr.envs.samples import MATH_SAMPLES
from rlvr.envs.scoring import math_gold
from rlvr.envs.vector import make_vec


def math_answers(round_no: int, batch: int, golds: list[str]) -> list[str]:
    """Half right, half wrong-but-close, all distinct across rounds (bypasses the memo cache)."""
    out = []
    for i in range(batch):
        gold = golds[i % len(golds)]
        if i % 2 == 0:
            out.append(f"Working it out step by step ({round_no}.{i}), the answer is \\boxed{{{gold}}}.")
        else:
            out.append(f"I think it is \\boxed{{{round_no * 1000 + i + 0.5}}}.")
    return out


def bench_math(rounds: int, batch: int) -> dict:
    from rlvr.verifiers.math import clear_cache, verify, verify_batch

    golds = [math_gold(row["answer"]) for row in MATH_SAMPLES]
    vec = make_vec("Math-v0", batch, autoreset_mode="SameStep")
    pool = ThreadPoolExecutor(max_workers=batch)
    t_env = t_direct = t_threads = 0.0
    ratios = []
    ok_env = ok_direct = 0
    for r in range(rounds + 1):  # round 0 warms up workers and imports
        vec.reset(options={"index": [i % len(golds) for i in range(batch)]})
        answers = math_answers(2 * r, batch, golds)
        pairs = [(golds[i % len(golds)], a) for i, a in enumerate(answers)]

        def direct_batch():
            clear_cache()
            start = time.perf_counter()
            verdicts = verify_batch(pairs)
            return time.perf_counter() - start, verdicts

        def env_step():
            clear_cache()
            start = time.perf_counter()
            _, rewards, *_ = vec.step(answers)
            return time.perf_counter() - start, rewards

        # alternate which goes first, so drifting load on the machine hits both alike
        if r % 2:
            (env, rewards), (direct, verdicts) = env_step(), direct_batch()
        else:
            (direct, verdicts), (env, rewards) = direct_batch(), env_step()
        clear_cache()
        start = time.perf_counter()
        list(pool.map(lambda pair: verify(*pair), pairs))  # the naive direct way, for reference
        threads = time.perf_counter() - start
        if r:
            t_direct += direct
            t_env += env
            t_threads += threads
            ratios.append(env / direct)
            ok_direct += sum(v.correct for v in verdicts)
            ok_env += int(rewards.sum())
    vec.close()
    pool.shutdown()
    assert ok_env == ok_direct, (ok_env, ok_direct)
    steps = rounds * batch
    return {"steps_per_s": steps / t_env, "direct_per_s": steps / t_direct, "threads_per_s": steps / t_threads,
            "overhead": t_env / t_direct - 1, "median_overhead": statistics.median(ratios) - 1, "correct": ok_env}


def bench_toolmath(rounds: int, batch: int, backend: str) -> dict:
    from rlvr.sandbox import make_sandbox

    sandbox = make_sandbox(backend=backend)
    vec = make_vec("ToolMath-v0", batch, sandbox=sandbox, max_turns=rounds + 10, builtin_tools=("python",))
    pool = ThreadPoolExecutor(max_workers=batch)
    vec.reset(seed=0)
    t_env = t_direct = 0.0
    for r in range(rounds + 1):
        codes = [f"print(sum(range({r * batch + i})))" for i in range(batch)]
        actions = [f'<tool_call>{json.dumps({"name": "python", "arguments": {"code": c}})}</tool_call>' for c in codes]
        start = time.perf_counter()
        results = list(pool.map(lambda c: sandbox.run(c, timeout=10.0), codes))
        direct = time.perf_counter() - start
        start = time.perf_counter()
        _, rewards, term, trunc, info = vec.step(actions)
        env = time.perf_counter() - start
        assert all(res.ok for res in results) and not term.any() and not trunc.any() and (rewards > 0).all()
        if r:
            t_direct += direct
            t_env += env
    vec.close()
    pool.shutdown()
    sandbox.close()
    steps = rounds * batch
    return {"steps_per_s": steps / t_env, "direct_per_s": steps / t_direct, "overhead": t_env / t_direct - 1, "backend": sandbox.name}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--backend", default="auto", help="sandbox backend for ToolMath-v0")
    args = parser.parse_args()
    math = bench_math(args.rounds, args.batch)
    print(f"Math-v0     batch {args.batch}: env {math['steps_per_s']:8.1f} steps/s | direct verify_batch {math['direct_per_s']:8.1f}/s "
          f"(verify in 64 threads {math['threads_per_s']:8.1f}/s) | overhead {math['overhead']:+.1%} (median round {math['median_overhead']:+.1%})")
    tool = bench_toolmath(args.rounds, args.batch, args.backend)
    print(f"ToolMath-v0 batch {args.batch}: env {tool['steps_per_s']:8.1f} steps/s | direct sandbox {tool['direct_per_s']:8.1f}/s | overhead {tool['overhead']:+.1%} ({tool['backend']})")
    print(json.dumps({
        "batch": args.batch,
        "rounds": args.rounds,
        "math_env_steps_per_s": round(math["steps_per_s"], 1),
        "math_direct_per_s": round(math["direct_per_s"], 1),
        "math_threads_per_s": round(math["threads_per_s"], 1),
        "math_overhead": round(math["overhead"], 4),
        "math_median_overhead": round(math["median_overhead"], 4),
        "toolmath_env_steps_per_s": round(tool["steps_per_s"], 1),
        "toolmath_direct_per_s": round(tool["direct_per_s"], 1),
        "toolmath_overhead": round(tool["overhead"], 4),
        "sandbox_backend": tool["backend"],
        "target_overhead": 0.10,
    }))


if __name__ == "__main__":
    main()
