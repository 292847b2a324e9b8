"""Scoring throughput of `rlvr eval --completions`: samples per second on a math and a code benchmark.

For each benchmark, a completions file is written from the local sample sets (`rlvr.benchmarks.
samples`, copied with fresh ids to make `--problems` problems, `--n` samples each: a mix of right
answers written in different forms, wrong answers and repeats, as sampled groups look), and scored
in this process:

- scoring: `score_completions` as `rlvr eval` calls it — batched (math: `verify_batch`, distinct
  sympy comparisons on all cores and repeated answers decided once; code: `check_functions`,
  programs run concurrently in the sandbox);
- naive: the baseline a first version would write — each sample stepped through the benchmark's
  env one at a time (`env.reset` + `env.step`), with the math verifier's memo cache cleared before
  each sample;
- command: `evaluate_completions`, the whole `rlvr eval --completions` (load the data, read and
  check the file, score, write samples.jsonl, metrics with maj@k, summary and plot), so its
  samples/s include the fixed costs (about a second for importing matplotlib and loading data).

Batched and naive verdicts must agree (checked). Speedup = naive time / scoring time.

A last section times maj@k alone: `maj_at_ks` for every power-of-two k up to n on problems whose n
answers are spread as a model spreads them (right ones, wrong ones over a few to many classes,
some without an answer), against the previous implementation (`previous_maj_at_k`, one exact
rational dynamic programme per k, copied here) run in the same process on the same problems up to
`--maj-previous-max` samples (it takes about a minute per problem at n = 1024). Both must agree.

    python benchmarks/perf/eval_bench.py [--problems 100] [--n 16] [--code-problems 24] [--code-n 4] [--backend auto]
                                         [--maj-n 64,256,1024] [--maj-problems 3] [--maj-previous-max 256] [--maj-only]

The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import tempfile
import time
from collections import Counter, defaultdict
from fractions import Fraction

from rlvr.benchmarks.estimators import maj_at_ks
from rlvr.benchmarks.evaluate import evaluate_completions
from rlvr.benchmarks.registry import load_benchmark
from rlvr.benchmarks.samples import SAMPLE_ROWS, write_sample
from rlvr.benchmarks.scoring import score_completions, score_with_env


def math_completions(loaded, n: int) -> list[dict]:
    rows = []
    for t, task in enumerate(loaded.tasks):
        gold = task.answer
        forms = [f"Step by step we find the result.\nThe answer is $\\boxed{{{gold}}}$.",
                 f"Therefore the final answer is \\boxed{{{gold}}}",
                 f"So we get $\\boxed{{{gold}}}$, done.",
                 f"The answer is \\boxed{{{t + 7}}}.",
                 f"I think it is \\boxed{{\\frac{{{t + 1}}}{{3}}}}.",
                 "Not sure how to finish this one.",
                 f"The answer is \\boxed{{{gold}}}",
                 f"It equals \\boxed{{{t + 7}}}"]
        for j in range(n):
            rows.append({"task_id": task.id, "completion": forms[j % len(forms)]})
    return rows


def code_completions(loaded, n: int) -> list[dict]:
    rows = []
    for task, row in zip(loaded.tasks, loaded.rows):
        forms = [row["canonical_solution"],
                 f"```python\n{row['prompt']}{row['canonical_solution']}```",
                 "    return None\n",
                 "    raise ValueError('no')\n"]
        for j in range(n):
            rows.append({"task_id": task.id, "completion": forms[j % len(forms)]})
    return rows


def run(name: str, problems: int, n: int, make_rows, tmp: str, sandbox=None) -> dict:
    from rlvr.verifiers.math import clear_cache

    base = len(SAMPLE_ROWS[name])
    data = write_sample(name, os.path.join(tmp, f"{name}.jsonl"), repeat=max(1, -(-problems // base)))
    loaded = load_benchmark(name, data=data, limit=problems, sandbox=sandbox)
    rows = make_rows(loaded, n)
    comps = os.path.join(tmp, f"{name}-completions.jsonl")
    with open(comps, "w") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    by_id = {t.id: t for t in loaded.tasks}
    tasks = [by_id[row["task_id"]] for row in rows]
    texts = [row["completion"] for row in rows]
    clear_cache()
    start = time.perf_counter()
    naive = []
    for task, text in zip(tasks, texts):
        clear_cache()
        naive.append(score_with_env(loaded.env, task, text))
    t_naive = time.perf_counter() - start
    clear_cache()
    start = time.perf_counter()
    fast = score_completions(loaded.env, loaded.benchmark.kind, tasks, texts)
    t_fast = time.perf_counter() - start
    if [v.correct for v in fast] != [v.correct for v in naive]:
        raise SystemExit(f"{name}: batched and naive verdicts differ")
    clear_cache()
    start = time.perf_counter()
    result = evaluate_completions(name, comps, os.path.join(tmp, f"{name}-out"), ks=[1, 2, 4], data=data, limit=problems,
                                  sandbox=sandbox, progress=False, verbose=False)
    t_cmd = time.perf_counter() - start
    return {"samples": len(rows), "scoring_per_s": len(rows) / t_fast, "naive_per_s": len(rows) / t_naive,
            "command_per_s": len(rows) / t_cmd, "speedup": t_naive / t_fast, "pass@1": result.get("pass@1")}


def previous_maj_at_k(answers: list, correct: list, k: int) -> float:
    """maj@k as computed before `maj_at_ks` (exact rationals; for each x right samples drawn, a
    dynamic programme over every other class counting draws by size and ties)."""
    n = len(answers)
    classes = {answers[i] for i in range(n) if correct[i]}
    if not classes:
        return 0.0
    right = next(iter(classes))
    counts = Counter(a for a in answers if a is not None)
    m_right = counts.pop(right)
    m_none = n - m_right - sum(counts.values())
    others = list(counts.values())
    credit = Fraction(0)
    for x in range(1, min(k, m_right) + 1):
        ways: dict = {(0, 0): 1}
        budget = k - x
        for m in others:
            grown: dict = defaultdict(int)
            for (j, t), w in ways.items():
                for y in range(0, min(m, x, budget - j) + 1):
                    grown[(j + y, t + (y == x))] += w * math.comb(m, y)
            ways = grown
        for (j, t), w in ways.items():
            rest = budget - j
            if 0 <= rest <= m_none:
                credit += Fraction(math.comb(m_right, x) * w * math.comb(m_none, rest), t + 1)
    return float(credit / math.comb(n, k))


def voting_problems(n: int, problems: int, seed: int = 0) -> list[tuple[list, list]]:
    """(answers, correct) of `problems` problems with n samples: a random share right, wrong answers
    over classes of Pareto-distributed popularity, a tenth without an answer."""
    rng = random.Random(seed)
    out = []
    for _ in range(problems):
        share = rng.random() * 0.5
        answers = ["R" if r < share else f"w{min(int(rng.paretovariate(1.2)), 60)}" if r < 0.9 else None
                   for r in (rng.random() for _ in range(n))]
        answers[0] = "R"
        out.append((answers, [a == "R" for a in answers]))
    return out


def run_majority(n: int, problems: int, previous: bool) -> dict:
    """Seconds per problem of maj@k for every power-of-two k up to n, now and (if `previous`) before."""
    ks = sorted({2 ** i for i in range(n.bit_length()) if 2 ** i <= n} | {n})
    data = voting_problems(n, problems)
    start = time.perf_counter()
    fast = [maj_at_ks(answers, correct, ks) for answers, correct in data]
    r = {"n": n, "ks": ks, "s_per_problem": (time.perf_counter() - start) / problems}
    if previous:
        start = time.perf_counter()
        slow = [[previous_maj_at_k(answers, correct, k) for k in ks] for answers, correct in data]
        r["previous_s_per_problem"] = (time.perf_counter() - start) / problems
        r["speedup"] = r["previous_s_per_problem"] / r["s_per_problem"]
        if any(not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15) for f, s in zip(fast, slow) for a, b in zip(f, s)):
            raise SystemExit(f"maj@k at n={n}: maj_at_ks and the previous implementation differ")
    return r


def majority_line(r: dict) -> str:
    text = f"maj@k     n={r['n']:<5d} k={r['ks'][0]}..{r['ks'][-1]}: {r['s_per_problem']:.4f} s/problem"
    if "speedup" in r:
        text += f" | previous {r['previous_s_per_problem']:.3f} s/problem | x{r['speedup']:.1f}"
    return text


def line(name: str, r: dict) -> str:
    return (f"{name:<9} {r['samples']:5d} samples: scoring {r['scoring_per_s']:8.1f} samples/s | naive {r['naive_per_s']:8.1f}/s "
            f"| x{r['speedup']:.1f} | whole command {r['command_per_s']:8.1f}/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", type=int, default=100, help="math problems (default 100)")
    parser.add_argument("--n", type=int, default=16, help="samples per math problem (default 16)")
    parser.add_argument("--code-problems", type=int, default=24, help="code problems (default 24)")
    parser.add_argument("--code-n", type=int, default=4, help="samples per code problem (default 4)")
    parser.add_argument("--backend", default="auto", help="sandbox backend for the code benchmark")
    parser.add_argument("--maj-n", default="64,256,1024", help="samples per problem for the maj@k timing (default 64,256,1024)")
    parser.add_argument("--maj-problems", type=int, default=3, help="problems per n for the maj@k timing (default 3)")
    parser.add_argument("--maj-previous-max", type=int, default=256,
                        help="time the previous maj@k implementation up to this n (default 256; n=1024 takes minutes)")
    parser.add_argument("--maj-only", action="store_true", help="run the maj@k timing only")
    args = parser.parse_args()
    figures: dict = {}
    if not args.maj_only:
        figures.update(score_benchmarks(args))
    for n in (int(v) for v in args.maj_n.split(",")):
        r = run_majority(n, args.maj_problems, previous=n <= args.maj_previous_max)
        print(majority_line(r), flush=True)
        figures[f"maj_s_per_problem_n{n}"] = round(r["s_per_problem"], 4)
        if "speedup" in r:
            figures[f"maj_previous_s_per_problem_n{n}"] = round(r["previous_s_per_problem"], 3)
            figures[f"maj_speedup_n{n}"] = round(r["speedup"], 1)
    figures["cpus"] = os.cpu_count()
    print(json.dumps(figures))


def score_benchmarks(args: argparse.Namespace) -> dict:
    """The scoring sections: math500 and humaneval, printed; returns their figures."""
    from rlvr.sandbox import make_sandbox

    with tempfile.TemporaryDirectory() as tmp:
        maths = run("math500", args.problems, args.n, math_completions, tmp)
        print(line("math500", maths))
        sandbox = make_sandbox(args.backend)
        try:
            code = run("humaneval", args.code_problems, args.code_n, code_completions, tmp, sandbox=sandbox)
        finally:
            sandbox.close()
        print(line("humaneval", code) + f" ({sandbox.name})")
    return {
        "math_samples": maths["samples"],
        "math_scoring_samples_per_s": round(maths["scoring_per_s"], 1),
        "math_naive_samples_per_s": round(maths["naive_per_s"], 1),
        "math_speedup": round(maths["speedup"], 2),
        "math_command_samples_per_s": round(maths["command_per_s"], 1),
        "code_samples": code["samples"],
        "code_scoring_samples_per_s": round(code["scoring_per_s"], 1),
        "code_naive_samples_per_s": round(code["naive_per_s"], 1),
        "code_speedup": round(code["speedup"], 2),
        "code_command_samples_per_s": round(code["command_per_s"], 1),
        "sandbox_backend": sandbox.name,
    }

if __name__ == "__main__":
    main()
