"""Sandbox throughput: executions per second per backend, against a naive baseline run alongside.

The jobs are HumanEval-sized: a small function and a few asserts. The baseline is what a grader
without a sandbox does: a fresh `python3 file.py` subprocess per job, with a timeout and no
isolation. Every backend and the baseline run the same jobs with the same concurrency (one per core
by default), in this same process, so the ratios compare like with like.

    python benchmarks/perf/sandbox_bench.py [--jobs 400] [--concurrency N] [--backends bwrap,docker]

Targets (2-core machine): bwrap >= 5x the baseline, docker >= 2x. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from rlvr.sandbox import BACKENDS, SandboxUnavailable, make_sandbox
from rlvr.sandbox.bwrap import default_python

TEMPLATES = [
    "def add(a, b):\n    return a + b\n\nassert add(1, 2) == 3\nassert add(-1, 1) == 0\nassert add({i}, 1) == {i} + 1\n",
    "def is_palindrome(s):\n    return s == s[::-1]\n\nassert is_palindrome('abba')\nassert not is_palindrome('ab{i}')\n",
    "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\n"
    "assert fib(10) == 55\nassert fib({i} % 20) >= 0\n",
    "from typing import List\n\ndef below_zero(ops: List[int]) -> bool:\n    total = 0\n    for op in ops:\n"
    "        total += op\n        if total < 0:\n            return True\n    return False\n\n"
    "assert below_zero([1, -2, {i}]) is True\nassert below_zero([{i}, 1]) is False\n",
    "import math\n\ndef hyp(a, b):\n    return math.sqrt(a * a + b * b)\n\nassert abs(hyp(3, 4) - 5) < 1e-9\nprint(hyp({i}, 1))\n",
]


def make_jobs(n: int) -> list[str]:
    return [TEMPLATES[i % len(TEMPLATES)].format(i=i + 1) for i in range(n)]


def run_baseline(jobs: list[str], concurrency: int, python: str) -> tuple[float, int]:
    """A fresh interpreter per job, no isolation: (seconds, jobs that passed)."""
    scratch = tempfile.mkdtemp(prefix="rlvr-bench-")

    def one(index_code):
        index, code = index_code
        path = os.path.join(scratch, f"job{index}.py")
        with open(path, "w") as handle:
            handle.write(code)
        try:
            proc = subprocess.run([python, path], capture_output=True, timeout=10)
            return proc.returncode == 0
        except subprocess.TimeoutExpired:
            return False

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        passed = sum(pool.map(one, enumerate(jobs)))
    return time.perf_counter() - started, passed


def run_backend(backend: str, jobs: list[str], concurrency: int) -> dict:
    started = time.perf_counter()
    sandbox = make_sandbox(backend, timeout=10)
    try:
        sandbox.run_many(jobs[: concurrency * 2], concurrency=concurrency)  # start the warm workers
        warmup = time.perf_counter() - started
        started = time.perf_counter()
        results = sandbox.run_many(jobs, concurrency=concurrency)
        seconds = time.perf_counter() - started
    finally:
        sandbox.close()
    passed = sum(r.status == "ok" for r in results)
    return {"seconds": seconds, "passed": passed, "startup_seconds": warmup}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    args = parser.parse_args()
    jobs = make_jobs(args.jobs)
    python = default_python()

    base_seconds, base_passed = run_baseline(jobs, args.concurrency, python)
    base_rate = len(jobs) / base_seconds
    print(f"baseline (fresh {python} per job): {base_rate:8.1f} exec/s  ({base_passed}/{len(jobs)} passed)")
    figures = {"jobs": len(jobs), "concurrency": args.concurrency, "baseline_exec_per_s": round(base_rate, 1)}
    for backend in args.backends.split(","):
        try:
            stats = run_backend(backend, jobs, args.concurrency)
        except SandboxUnavailable as exc:
            print(f"{backend:>10}: unavailable ({exc})")
            figures[f"{backend}_exec_per_s"] = None
            continue
        rate = len(jobs) / stats["seconds"]
        ratio = rate / base_rate
        print(f"{backend:>10}: {rate:8.1f} exec/s  {ratio:5.2f}x baseline  "
              f"({stats['passed']}/{len(jobs)} passed, warm-up {stats['startup_seconds']:.2f}s)")
        if stats["passed"] != base_passed:
            print(f"{backend:>10}: WARNING: {stats['passed']} passed vs {base_passed} in the baseline", file=sys.stderr)
        figures[f"{backend}_exec_per_s"] = round(rate, 1)
        figures[f"{backend}_ratio_vs_baseline"] = round(ratio, 2)
        figures[f"{backend}_passed"] = stats["passed"]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
