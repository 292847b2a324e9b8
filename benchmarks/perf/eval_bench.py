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

    python benchmarks/perf/eval_bench.py [--problems 100] [--n 16] [--code-problems 24] [--code-n 4] [--backend auto]

The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

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
    args = parser.parse_args()
    from rlvr.sandbox import make_sandbox

    with tempfile.TemporaryDirectory() as tmp:
        math = run("math500", args.problems, args.n, math_completions, tmp)
        print(line("math500", math))
        sandbox = make_sandbox(args.backend)
        try:
            code = run("humaneval", args.code_problems, args.code_n, code_completions, tmp, sandbox=sandbox)
        finally:
            sandbox.close()
        print(line("humaneval", code) + f" ({sandbox.name})")
    print(json.dumps({
        "math_samples": math["samples"],
        "math_scoring_samples_per_s": round(math["scoring_per_s"], 1),
        "math_naive_samples_per_s": round(math["naive_per_s"], 1),
        "math_speedup": round(math["speedup"], 2),
        "math_command_samples_per_s": round(math["command_per_s"], 1),
        "code_samples": code["samples"],
        "code_scoring_samples_per_s": round(code["scoring_per_s"], 1),
        "code_naive_samples_per_s": round(code["naive_per_s"], 1),
        "code_speedup": round(code["speedup"], 2),
        "code_command_samples_per_s": round(code["command_per_s"], 1),
        "sandbox_backend": sandbox.name,
        "cpus": os.cpu_count(),
    }))


if __name__ == "__main__":
    main()
