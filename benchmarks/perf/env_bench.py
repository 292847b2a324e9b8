"""Env-layer overhead: env steps per second for Math-v0 and ToolMath-v0 on a batch of 64 envs.

For each env, the same work is done two ways in this process, interleaved round by round:

- direct: what a rollout loop would do without environments to get the same reward parts — the
  verifiers the env runs, called directly: `rlvr.verifiers.math.verify_batch` on the 64 (gold,
  completion) pairs of a round, the golds taken from the env's own tasks so both sides verify
  exactly the same pairs through the same path, and the env's format reward
  (`rlvr.verifiers.shaping.boxed_reward`, Math-v0's default `format_reward="boxed"`) on each
  completion (Math-v0; the naive way, `verify` in a thread pool of 64, is timed too and shown for
  reference), or `Sandbox.run` of the tool call's code in a thread pool of the same size as the
  vector env's (ToolMath-v0);
- env: `TextVectorEnv.step` on 64 envs with the same completions (Math-v0: one answer per
  episode, autoreset in the same step, so each step also pays for the reset; ToolMath-v0: one
  python tool call per step).

Math-v0 is measured on three mixes of completions, each reported on its own:

- `short`: one-line answers ("..., the answer is \\boxed{60}"), half right: the verifier's
  cheapest case, where the env layer's fixed cost per step weighs most;
- `gsm8k`: whole worked solutions of a few hundred characters in GSM8K style (reasoning with
  `<<a*b=c>>` annotations, ending in "#### 60" or "The answer is 60."), half right;
- `latex`: MATH-style solutions (LaTeX reasoning with fractions and roots, ending in
  `\\boxed{...}`) on MATH-style tasks, answers in equivalent or wrong forms; about one in five
  needs the sympy stage (worker processes), as model outputs in other forms than the gold's do.

Every completion is distinct across rounds, and the math verifier's memo cache is cleared before
each timed call (env and direct alike), since right answers normalise to the same (gold, answer)
key whatever the reasoning around them. A full garbage collection runs before each timed call
(untimed): otherwise the collector's occasional pass over the whole heap (sympy, the verifier's
tables: tens of ms, several times one round) lands in whichever call happens to cross its
threshold, one round in ~35, and swings the overall figure by 10 points either way.

Overhead = env time / direct time - 1 over all rounds (target <= 10%); the median of the
per-round ratios is shown too (robust to load spikes from other processes), and the env and
direct runs alternate which goes first. The overhead over `verify_batch` alone (the format reward
counted as part of the env layer, as this bench did until session 41) is shown as well.

    python benchmarks/perf/env_bench.py [--rounds 20] [--batch 64] [--backend auto]
    python benchmarks/perf/env_bench.py --layer-only   # diagnostic: the env layer without the verifier
    python benchmarks/perf/env_bench.py --floor        # diagnostic: the least any env layer must do, inline

The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

import rlvr  # noqa: F401  (registers the envs)
from rlvr.envs.custom import MATH_PROMPT
from rlvr.envs.samples import MATH_SAMPLES
from rlvr.envs.vector import make_vec
from rlvr.verifiers.shaping import answer_tag_reward, boxed_reward

#: MATH-style tasks (LaTeX answers) and, per task, answers a model may give: right in the gold's
#: form, right in another form, wrong. The last right form of some needs sympy (roots, polynomials).
LATEX_TASKS: list[dict] = [
    {"problem": "Simplify $\\sqrt{12}$.", "answer": "2\\sqrt{3}",
     "forms": ["2\\sqrt{3}", "2 \\sqrt{3}", "\\sqrt{3} \\cdot 2", "3\\sqrt{2}", "\\sqrt{12}"]},
    {"problem": "What is $\\frac{1}{2} + \\frac{1}{4}$?", "answer": "\\frac{3}{4}",
     "forms": ["\\frac{3}{4}", "\\dfrac{3}{4}", "0.75", "\\frac{2}{6}", "\\frac{6}{8}"]},
    {"problem": "Solve $2x - 3 = 6$ for $x$.", "answer": "\\frac{9}{2}",
     "forms": ["\\frac{9}{2}", "4.5", "x = \\frac{9}{2}", "\\frac{3}{2}", "4\\frac{1}{2}"]},
    {"problem": "Expand $(x+1)^2$.", "answer": "x^2+2x+1",
     "forms": ["x^2+2x+1", "x^{2} + 2x + 1", "x^2 + 2x + 1", "x^2+1", "1 + 2x + x^2"]},
    {"problem": "Find the midpoint of $(0,0)$ and $(2,4)$.", "answer": "(1,2)",
     "forms": ["(1,2)", "(1, 2)", "\\left(1, 2\\right)", "(2,1)", "(1,2)"]},
    {"problem": "What is the area of a circle of radius $3$?", "answer": "9\\pi",
     "forms": ["9\\pi", "9 \\pi", "\\pi \\cdot 9", "6\\pi", "9\\pi"]},
    {"problem": "Rationalise $\\frac{1}{\\sqrt{2}}$.", "answer": "\\frac{\\sqrt{2}}{2}",
     "forms": ["\\frac{\\sqrt{2}}{2}", "\\dfrac{\\sqrt{2}}{2}", "\\frac{\\sqrt 2}{2}", "\\sqrt{2}", "\\frac{\\sqrt{2}}{2}"]},
    {"problem": "Solve $x^2 = 16$ for $x > 0$.", "answer": "4",
     "forms": ["4", "x = 4", "4", "-4", "+4"]},
]


def short_completions(round_no: int, golds: list[str]) -> list[str]:
    """One-line answers, half right, half wrong-but-close, all distinct across rounds."""
    out = []
    for i, gold in enumerate(golds):
        if i % 2 == 0:
            out.append(f"Working it out step by step ({round_no}.{i}), the answer is \\boxed{{{gold}}}.")
        else:
            out.append(f"I think it is \\boxed{{{round_no * 1000 + i + 0.5}}}.")
    return out


def gsm8k_completions(round_no: int, golds: list[str]) -> list[str]:
    """Worked solutions (~350-450 characters) in GSM8K style, half right; distinct across rounds."""
    out = []
    for i, gold in enumerate(golds):
        a, b = 3 + (round_no * 7 + i) % 41, 2 + (round_no * 13 + i * 5) % 29
        answer = gold if i % 2 == 0 else str(round_no * 100 + i + 1)
        end = f"#### {answer}" if i % 4 < 2 else f"The answer is {answer}."
        out.append(
            "Let's read the problem carefully and set up the quantities first.\n"
            f"There are {a} items in the first group and {b} in the second, so together there are "
            f"{a} + {b} = <<{a}+{b}={a + b}>>{a + b} items.\n"
            f"Each of them counts {b} times, which gives {a + b} * {b} = <<{a + b}*{b}={(a + b) * b}>>{(a + b) * b}.\n"
            f"Checking against the question (case {round_no}.{i}): we only need the quantity it asks for, "
            "not the intermediate totals, so we go back to the numbers in the statement and combine them.\n"
            f"Putting it together gives the result below.\n{end}"
        )
    return out


def latex_completions(round_no: int, golds: list[str], forms: list[list[str]]) -> list[str]:
    """MATH-style LaTeX solutions ending in \\boxed{}; the answer's form cycles over the task's forms."""
    out = []
    for i, task_forms in enumerate(forms):
        form = task_forms[(round_no + i) % len(task_forms)]
        k = round_no * len(golds) + i + 2
        out.append(
            "We start by writing the expression in a form that is easier to handle.\n"
            f"Note that $\\frac{{{k}}}{{{2 * k}}} = \\frac{{1}}{{2}}$ and $\\sqrt{{{k * k}}} = {k}$, "
            "so the terms can be grouped as\n"
            f"$$\\left(\\frac{{{k}}}{{{k + 1}}}\\right) \\cdot \\frac{{{k + 1}}}{{{k}}} = 1,$$\n"
            "which leaves only the part that depends on the question. Simplifying the remaining "
            "fraction and collecting like terms, then checking the result against the conditions of "
            f"the problem, we obtain\n$$\\text{{answer}} = {form}.$$\nTherefore the answer is $\\boxed{{{form}}}$."
        )
    return out


WARMUP_ROUNDS = 2


def math_vec(mix: str, batch: int) -> tuple[Any, list[int]]:
    """The Math-v0 vector env of a mix (SameStep autoreset) and the task index of each sub-env."""
    if mix == "latex":
        data = [{"problem": t["problem"], "answer": t["answer"]} for t in LATEX_TASKS]
        vec = make_vec("Math-v0", batch, autoreset_mode="SameStep", dataset=data)
    else:
        vec = make_vec("Math-v0", batch, autoreset_mode="SameStep")
    size = len(LATEX_TASKS) if mix == "latex" else len(MATH_SAMPLES)
    return vec, [i % size for i in range(batch)]


def math_completions(mix: str, round_no: int, golds: list[str], indices: list[int]) -> list[str]:
    if mix == "short":
        return short_completions(round_no, golds)
    if mix == "gsm8k":
        return gsm8k_completions(round_no, golds)
    return latex_completions(round_no, golds, [LATEX_TASKS[j]["forms"] for j in indices])


#: The format reward verifier behind each `format_reward` setting of a math env (what
#: `VerifiedEnv.format_score` calls), for the direct side.
FORMAT_VERIFIERS = {"boxed": boxed_reward, "answer_tags": answer_tag_reward, None: lambda text: 0.0}


def floor_step(cores: list[Any], completions: list[str]) -> tuple[list[str], np.ndarray, dict]:
    """The least a Math-v0 step with SameStep autoreset must do, inline, with no env objects: verify,
    score the format, combine the reward, draw each env's next task with its own generator, make the
    prompts, start the new conversations and fill the infos' columns (task_id, messages,
    reward_parts, verdict; one shared fingerprint and weights). No checks, no per-env method calls,
    no masks beyond one: a lower bound for any env layer written in Python (`--floor`)."""
    from rlvr.envs.answers import last_boxed
    from rlvr.verifiers.math import verify_batch

    n = len(cores)
    tasks = [core.task for core in cores]
    verdicts = verify_batch([(task.answer, text) for task, text in zip(tasks, completions)])
    outcome = np.array([float(v.score) for v in verdicts])
    fmt = np.array([1.0 if last_boxed(text) else 0.0 for text in completions])
    rewards = outcome + 0.0 * fmt
    ended = [[*core._messages, {"role": "assistant", "content": text}] for core, text in zip(cores, completions)]
    pool = cores[0].source.uniform_tasks
    next_tasks = [pool[core._task_draws.draw(core.np_random, len(pool))] for core in cores]
    template = MATH_PROMPT.replace("{{}}", "{}").split("{question}")
    prompts = [template[0] + task.question + template[1] for task in next_tasks]
    for core, task, prompt in zip(cores, next_tasks, prompts):
        core.task, core._messages = task, [{"role": "user", "content": prompt}]
    everyone = np.ones(n, dtype=bool)
    final_info = {"task_id": np.array([t.id for t in tasks], dtype=object), "messages": _objects(ended),
                  "reward_parts": {"outcome": outcome, "format": fmt}, "verdict": _objects(verdicts),
                  "fingerprint": _objects([cores[0].fingerprint()] * n), "_task_id": everyone}
    info = {"task_id": np.array([t.id for t in next_tasks], dtype=object),
            "messages": _objects([[{"role": "user", "content": p}] for p in prompts]), "final_info": final_info}
    return prompts, rewards, info


def _objects(items: list[Any]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def bench_math(mix: str, rounds: int, batch: int, floor: bool = False) -> dict:
    """Math-v0 env steps vs `verify_batch` on the same pairs, for one mix of completions (with
    `floor`, `floor_step` stands in for the vector env's step)."""
    from rlvr.verifiers.math import clear_cache, verify, verify_batch

    vec, indices = math_vec(mix, batch)
    cores = [env.unwrapped for env in vec.envs]
    format_reward = FORMAT_VERIFIERS[cores[0].format_reward]
    t_env = t_direct = t_verify = t_threads = 0.0
    timed_pairs: list[list[tuple[str, str]]] = []
    ratios = []
    ok_env = ok_direct = chars = 0
    # untimed warm-up rounds: round 0 pays for imports and the verifier's workers (and, were an env
    # checker asked for with disable_env_checker=False, rounds 0 and 1 would be stepped through it)
    for r in range(rounds + WARMUP_ROUNDS):
        vec.reset(options={"index": indices})
        golds = [env.unwrapped.task.answer for env in vec.envs]  # exactly what the env verifies against
        completions = math_completions(mix, 2 * r, golds, indices)
        pairs = list(zip(golds, completions))

        def direct_batch():
            gc.collect()
            clear_cache()
            start = time.perf_counter()
            verdicts = verify_batch(pairs)
            verified = time.perf_counter()
            formats = [format_reward(text) for text in completions]
            end = time.perf_counter()
            return end - start, verified - start, verdicts, formats

        def env_step():
            gc.collect()
            clear_cache()
            start = time.perf_counter()
            result = floor_step(cores, completions) if floor else vec.step(completions)
            return time.perf_counter() - start, result[1], result[-1]

        # alternate which goes first, so drifting load on the machine hits both alike
        if r % 2:
            (env, rewards, info), (direct, verify_only, verdicts, formats) = env_step(), direct_batch()
        else:
            (direct, verify_only, verdicts, formats), (env, rewards, info) = direct_batch(), env_step()
        # both sides give the same reward parts
        assert info["final_info"]["reward_parts"]["format"].tolist() == formats, mix
        if r >= WARMUP_ROUNDS:
            timed_pairs.append(pairs)
            t_direct += direct
            t_verify += verify_only
            t_env += env
            ratios.append(env / direct)
            ok_direct += sum(v.correct for v in verdicts)
            ok_env += int(rewards.sum())
            chars += sum(map(len, completions))
    vec.close()
    # the naive direct way, for reference: `verify` in a pool of 64 threads, on the same pairs. Timed
    # in a pass of its own, after the others: waking 64 threads between the timed calls above would
    # slow down whichever call came next (by ~20% in both, and more in the env layer's share)
    pool = ThreadPoolExecutor(max_workers=batch)
    for pairs in timed_pairs:
        clear_cache()
        start = time.perf_counter()
        list(pool.map(lambda pair: (verify(*pair), format_reward(pair[1])), pairs))
        t_threads += time.perf_counter() - start
    pool.shutdown()
    assert ok_env == ok_direct, (mix, ok_env, ok_direct)
    steps = rounds * batch
    return {"steps_per_s": steps / t_env, "direct_per_s": steps / t_direct, "threads_per_s": steps / t_threads,
            "overhead": t_env / t_direct - 1, "median_overhead": statistics.median(ratios) - 1,
            "overhead_vs_verify_only": t_env / t_verify - 1, "format_us": (t_direct - t_verify) / steps * 1e6,
            "env_us": t_env / steps * 1e6, "direct_us": t_direct / steps * 1e6,
            "correct": ok_env / steps, "mean_chars": chars / steps}


def bench_toolmath(rounds: int, batch: int, backend: str) -> dict:
    from rlvr.sandbox import make_sandbox

    sandbox = make_sandbox(backend=backend)
    # `per_turn` pays each tool turn its process part at once (the default, "on_answer", pays with
    # the final answer, which this bench never gives), so each step's reward shows its call ran
    vec = make_vec("ToolMath-v0", batch, sandbox=sandbox, max_turns=rounds + 10, builtin_tools=("python",),
                   process_credit="per_turn")
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


def bench_layer(mix: str, rounds: int, batch: int) -> float:
    """The env layer alone: µs per env step of `TextVectorEnv.step` with the verifier's answers
    computed beforehand (`verify_batch` replaced by a lookup), so no verification runs in between
    and the envs stay in the CPU caches. A diagnostic: the bench's overhead is measured with the
    real verifier in the step."""
    import rlvr.verifiers.math as math_verifier

    vec, indices = math_vec(mix, batch)
    steps = []
    for r in range(rounds + WARMUP_ROUNDS):
        vec.reset(options={"index": indices})
        golds = [env.unwrapped.task.answer for env in vec.envs]
        completions = math_completions(mix, 2 * r, golds, indices)
        steps.append((completions, math_verifier.verify_batch(list(zip(golds, completions)))))
    real, answers = math_verifier.verify_batch, {}
    math_verifier.verify_batch = lambda pairs, **kwargs: answers["now"]
    try:
        times = []
        for r, (completions, verdicts) in enumerate(steps):
            vec.reset(options={"index": indices})
            answers["now"] = verdicts
            start = time.perf_counter()
            vec.step(completions)
            if r >= WARMUP_ROUNDS:
                times.append(time.perf_counter() - start)
    finally:
        math_verifier.verify_batch = real
        vec.close()
    return statistics.median(times) / batch * 1e6


MATH_MIXES = ("short", "gsm8k", "latex")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--backend", default="auto", help="sandbox backend for ToolMath-v0")
    parser.add_argument("--mixes", default=",".join(MATH_MIXES), help="Math-v0 mixes to run (comma-separated)")
    parser.add_argument("--skip-toolmath", action="store_true", help="measure Math-v0 only")
    parser.add_argument("--layer-only", action="store_true",
                        help="diagnostic: the Math-v0 env layer alone, with the verdicts computed beforehand")
    parser.add_argument("--floor", action="store_true",
                        help="diagnostic: the overhead of the least an env layer must do (floor_step) instead of the env's")
    args = parser.parse_args()
    mixes = [m for m in args.mixes.split(",") if m]
    unknown = sorted(set(mixes) - set(MATH_MIXES))
    if unknown:
        parser.error(f"unknown mix(es) {unknown}; choose from {list(MATH_MIXES)}")
    figures: dict = {"batch": args.batch, "rounds": args.rounds}
    if args.layer_only:
        for mix in mixes:
            us = bench_layer(mix, args.rounds, args.batch)
            print(f"Math-v0 {mix:5s} batch {args.batch}: env layer alone {us:5.2f} us per env step (median round, verdicts precomputed)")
            figures[f"math_{mix}_layer_alone_us"] = round(us, 2)
        print(json.dumps(figures))
        return
    if args.floor:
        for mix in mixes:
            m = bench_math(mix, args.rounds, args.batch, floor=True)
            print(f"Math-v0 {mix:5s} batch {args.batch}: floor_step {m['env_us']:6.1f} us | direct verify_batch + format "
                  f"{m['direct_us']:6.1f} us | floor overhead {m['overhead']:+.1%} (median round {m['median_overhead']:+.1%})")
            figures[f"math_{mix}_floor_overhead"] = round(m["overhead"], 4)
            figures[f"math_{mix}_floor_median_overhead"] = round(m["median_overhead"], 4)
        print(json.dumps(figures))
        return
    for mix in mixes:
        m = bench_math(mix, args.rounds, args.batch)
        print(f"Math-v0 {mix:5s} batch {args.batch} (mean {m['mean_chars']:4.0f} chars, {m['correct']:.0%} right): "
              f"env {m['steps_per_s']:8.1f} steps/s ({m['env_us']:6.1f} us) | direct verify_batch + format {m['direct_per_s']:8.1f}/s "
              f"({m['direct_us']:6.1f} us, format {m['format_us']:.1f}; in 64 threads {m['threads_per_s']:8.1f}/s) | "
              f"overhead {m['overhead']:+.1%} (median round {m['median_overhead']:+.1%}, {m['env_us'] - m['direct_us']:+.1f} us/step; "
              f"over verify_batch alone {m['overhead_vs_verify_only']:+.1%})")
        prefix = "math" if mix == "short" else f"math_{mix}"
        figures.update({
            f"{prefix}_env_steps_per_s": round(m["steps_per_s"], 1),
            f"{prefix}_direct_per_s": round(m["direct_per_s"], 1),
            f"{prefix}_threads_per_s": round(m["threads_per_s"], 1),
            f"{prefix}_overhead": round(m["overhead"], 4),
            f"{prefix}_median_overhead": round(m["median_overhead"], 4),
            f"{prefix}_overhead_vs_verify_only": round(m["overhead_vs_verify_only"], 4),
            f"{prefix}_layer_us_per_step": round(m["env_us"] - m["direct_us"], 1),
        })
    if not args.skip_toolmath:
        tool = bench_toolmath(args.rounds, args.batch, args.backend)
        print(f"ToolMath-v0 batch {args.batch}: env {tool['steps_per_s']:8.1f} steps/s | direct sandbox {tool['direct_per_s']:8.1f}/s | "
              f"overhead {tool['overhead']:+.1%} ({tool['backend']})")
        figures.update({
            "toolmath_env_steps_per_s": round(tool["steps_per_s"], 1),
            "toolmath_direct_per_s": round(tool["direct_per_s"], 1),
            "toolmath_overhead": round(tool["overhead"], 4),
            "sandbox_backend": tool["backend"],
        })
    figures["target_overhead"] = 0.10
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
