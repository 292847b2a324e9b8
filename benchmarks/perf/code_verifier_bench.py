"""Code verdicts per second on HumanEval-sized problems, per sandbox backend, against a naive baseline.

The problems are HumanEval-sized (a function of a few lines, a `check(candidate)` of 4-8 asserts),
half of the solutions right and half wrong. For each backend, in this same process and with the
same concurrency (one per core by default), two graders score the same solutions:

- ours: `rlvr.verifiers.code.check_functions` — trusted harness, solution in a separate exec'd
  process, plain-data calls, per-assert scores;
- naive: what HumanEval's reference grader does inside the same sandbox — one program
  `solution + tests + check(entry_point)`, passed when it exits with status 0. It is the speed to
  compare against, not a grader to use: `sys.exit(0)` fools it (the script counts that too).

    python benchmarks/perf/code_verifier_bench.py [--verdicts 80] [--concurrency N] [--backends bwrap]

Prints verdicts/s, p50/p99 latency and the ratio ours/naive per backend; the last line is one JSON
object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from rlvr.sandbox import BACKENDS, SandboxUnavailable, make_sandbox
from rlvr.verifiers.code import check_function, check_functions

PROBLEMS = [
    dict(entry_point="has_close_elements",
         right="def has_close_elements(numbers, threshold):\n"
               "    s = sorted(numbers)\n"
               "    return any(b - a < threshold for a, b in zip(s, s[1:]))\n",
         wrong="def has_close_elements(numbers, threshold):\n    return False\n",
         tests="def check(candidate):\n"
               "    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True\n"
               "    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.05) == False\n"
               "    assert candidate([1.0, 2.0, 5.9, 4.0, 5.0], 0.95) == True\n"
               "    assert candidate([1.0, 2.0, 5.9, 4.0, 5.0], 0.8) == False\n"
               "    assert candidate([1.1, 2.2, 3.1, 4.1, 5.1], 1.0) == True\n"
               "    assert candidate([1.1, 2.2, 3.1, 4.1, 5.1], 0.5) == False\n"),
    dict(entry_point="separate_parens",
         right="def separate_parens(s):\n"
               "    out, depth, cur = [], 0, ''\n"
               "    for ch in s.replace(' ', ''):\n"
               "        cur += ch\n"
               "        depth += 1 if ch == '(' else -1\n"
               "        if depth == 0:\n"
               "            out.append(cur)\n"
               "            cur = ''\n"
               "    return out\n",
         wrong="def separate_parens(s):\n    return s.split()\n",
         tests="def check(candidate):\n"
               "    assert candidate('(()()) ((())) () ((())()())') == ['(()())', '((()))', '()', '((())()())']\n"
               "    assert candidate('() (()) ((())) (((())))') == ['()', '(())', '((()))', '(((())))']\n"
               "    assert candidate('(()(())((())))') == ['(()(())((())))']\n"
               "    assert candidate('( ) (( )) (( )( ))') == ['()', '(())', '(()())']\n"),
    dict(entry_point="rolling_max",
         right="def rolling_max(xs):\n"
               "    out, best = [], None\n"
               "    for x in xs:\n"
               "        best = x if best is None else max(best, x)\n"
               "        out.append(best)\n"
               "    return out\n",
         wrong="def rolling_max(xs):\n    return sorted(xs)\n",
         tests="def check(candidate):\n"
               "    assert candidate([]) == []\n"
               "    assert candidate([1, 2, 3, 4]) == [1, 2, 3, 4]\n"
               "    assert candidate([4, 3, 2, 1]) == [4, 4, 4, 4]\n"
               "    assert candidate([3, 2, 3, 100, 3]) == [3, 3, 3, 100, 100]\n"),
    dict(entry_point="mean_deviation",
         right="def mean_deviation(xs):\n"
               "    m = sum(xs) / len(xs)\n"
               "    return sum(abs(x - m) for x in xs) / len(xs)\n",
         wrong="def mean_deviation(xs):\n    return max(xs) - min(xs)\n",
         tests="def check(candidate):\n"
               "    assert abs(candidate([1.0, 2.0, 3.0]) - 2.0 / 3.0) < 1e-6\n"
               "    assert abs(candidate([1.0, 2.0, 3.0, 4.0]) - 1.0) < 1e-6\n"
               "    assert abs(candidate([1.0, 2.0, 3.0, 4.0, 5.0]) - 6.0 / 5.0) < 1e-6\n"),
    dict(entry_point="sum_product",
         right="def sum_product(xs):\n"
               "    p = 1\n"
               "    for x in xs:\n"
               "        p *= x\n"
               "    return (sum(xs), p)\n",
         wrong="def sum_product(xs):\n    return [sum(xs), 0]\n",
         tests="def check(candidate):\n"
               "    assert candidate([]) == (0, 1)\n"
               "    assert candidate([1, 1, 1]) == (3, 1)\n"
               "    assert candidate([100, 0]) == (100, 0)\n"
               "    assert candidate([3, 5, 7]) == (3 + 5 + 7, 3 * 5 * 7)\n"
               "    assert candidate([10]) == (10, 10)\n"),
    dict(entry_point="is_prime",
         right="def is_prime(n):\n"
               "    if n < 2:\n"
               "        return False\n"
               "    k = 2\n"
               "    while k * k <= n:\n"
               "        if n % k == 0:\n"
               "            return False\n"
               "        k += 1\n"
               "    return True\n",
         wrong="def is_prime(n):\n    return n % 2 == 1\n",
         tests="def check(candidate):\n"
               "    assert candidate(6) == False\n"
               "    assert candidate(101) == True\n"
               "    assert candidate(11) == True\n"
               "    assert candidate(13441) == True\n"
               "    assert candidate(61) == True\n"
               "    assert candidate(4) == False\n"
               "    assert candidate(1) == False\n"
               "    assert candidate(85) == False\n"),
]


def workload(n: int) -> list[dict]:
    """n problems, alternating right and wrong solutions, cycling through PROBLEMS."""
    items = []
    for i in range(n):
        p = PROBLEMS[i % len(PROBLEMS)]
        solution = p["right"] if (i // len(PROBLEMS)) % 2 == 0 else p["wrong"]
        items.append({"solution": solution, "tests": p["tests"], "entry_point": p["entry_point"]})
    return items


def naive_job(item: dict) -> dict:
    return {"code": f"{item['solution']}\n\n{item['tests']}\n\ncheck({item['entry_point']})\n", "timeout": 10}


def timed(fn, items: list, concurrency: int) -> tuple[float, list[float], list]:
    """(wall seconds, per-item latencies, outputs) for `fn` over items in a pool of `concurrency`."""
    from concurrent.futures import ThreadPoolExecutor

    latencies: list[float] = []

    def one(item):
        started = time.perf_counter()
        out = fn(item)
        latencies.append(time.perf_counter() - started)
        return out

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        outputs = list(pool.map(one, items))
    return time.perf_counter() - started, latencies, outputs


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_backend(backend: str, n: int, concurrency: int) -> dict:
    sandbox = make_sandbox(backend)
    try:
        items = workload(n)
        # warm the pool (workers start once per concurrent slot) before timing
        check_functions(items[:concurrency], sandbox=sandbox, concurrency=concurrency)
        sandbox.run_many([naive_job(i) for i in items[:concurrency]], concurrency=concurrency)
        ours_wall, ours_lat, verdicts = timed(lambda it: check_function(sandbox=sandbox, **it), items, concurrency)
        naive_wall, naive_lat, results = timed(lambda it: sandbox.run(**naive_job(it)), items, concurrency)
        fooled = sandbox.run(**naive_job({"solution": "import sys\nsys.exit(0)\n",
                                          "tests": PROBLEMS[0]["tests"], "entry_point": "x"})).status == "ok"
        ours_fooled = check_function("import sys\nsys.exit(0)\n", PROBLEMS[0]["tests"], "x", sandbox=sandbox).correct
    finally:
        sandbox.close()
    agree = sum(v.correct == (r.status == "ok") for v, r in zip(verdicts, results))
    figures = {
        "ours_verdicts_per_s": round(n / ours_wall, 2),
        "naive_verdicts_per_s": round(n / naive_wall, 2),
        "ratio_ours_over_naive": round(naive_wall / ours_wall, 3),
        "ours_p50_ms": round(1000 * statistics.median(ours_lat), 1),
        "ours_p99_ms": round(1000 * pct(ours_lat, 0.99), 1),
        "naive_p50_ms": round(1000 * statistics.median(naive_lat), 1),
        "naive_p99_ms": round(1000 * pct(naive_lat, 0.99), 1),
        "pass_fail_agreement": f"{agree}/{n}",
        "errors": sum(v.error is not None for v in verdicts),
        "naive_fooled_by_sys_exit": fooled,
        "ours_fooled_by_sys_exit": ours_fooled,
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verdicts", type=int, default=80, help="verdicts per grader per backend")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    args = parser.parse_args()
    report: dict = {"verdicts": args.verdicts, "concurrency": args.concurrency, "backends": {}}
    for backend in [b for b in args.backends.split(",") if b]:
        try:
            figures = bench_backend(backend, args.verdicts, args.concurrency)
        except SandboxUnavailable as exc:
            print(f"{backend}: unavailable ({exc})")
            report["backends"][backend] = {"unavailable": str(exc)}
            continue
        report["backends"][backend] = figures
        print(f"{backend:>10}: ours {figures['ours_verdicts_per_s']:7.1f} verdicts/s "
              f"(p50 {figures['ours_p50_ms']} ms, p99 {figures['ours_p99_ms']} ms) | naive "
              f"{figures['naive_verdicts_per_s']:7.1f}/s (p50 {figures['naive_p50_ms']} ms) | "
              f"ours/naive throughput {figures['ratio_ours_over_naive']:.2f}x | agreement "
              f"{figures['pass_fail_agreement']} | naive fooled by sys.exit(0): {figures['naive_fooled_by_sys_exit']}, "
              f"ours: {figures['ours_fooled_by_sys_exit']}")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
