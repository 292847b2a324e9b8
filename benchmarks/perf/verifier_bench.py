"""Math verifier throughput against the `math-verify` package on the same pairs.

    .venv/bin/python benchmarks/perf/verifier_bench.py [--groups 40] [--group-size 8]

Three fixed mixes (seeded), shaped like RL rollouts: each prompt has a gold answer and a group of
`group-size` sampled completions whose final answers repeat, as in GRPO.
- gsm8k:   integer golds; completions end with "#### 1,234", "The answer is $1234$.", `\\boxed{1{,}234}`,
           "1234.0", "$1,234" or a wrong number.
- math:    MATH-style LaTeX golds (fractions, roots, π, tuples, intervals, sets) against whole worked
           solutions ending in a `\\boxed{}` answer in another spelling (or a wrong one).
- symbolic: expressions in x (expanded vs factored, trig identities) against boxed answers.
For each mix it prints verdicts/second in one process for ours (cold cache: the memo only helps
within the mix, as it would within a GRPO group) and for math-verify, the ratio, ours on all cores
(`verify_batch`), p99 latency, and every pair where the two graders disagree. It ends with one JSON
line of the figures. Target: ratio >= 3 on each mix.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time

from rlvr.verifiers.math import clear_cache, verify, verify_batch

SOLUTION_PREFIX = ("Let us work through the problem step by step. First we set up the equation and "
                   "simplify both sides, noting that $2 + 3 = 5$ and $\\frac{6}{8} = \\frac{3}{4}$. "
                   "Substituting back and checking the constraints gives the result.\n\n")

MATH_ITEMS = [
    ("\\frac{3}{4}", ["\\dfrac{3}{4}", "0.75", "\\frac{6}{8}", "3/4"], ["\\frac{4}{3}", "0.7"]),
    ("2\\sqrt{3}", ["\\sqrt{12}", "2 \\sqrt{3}", "2\\sqrt3"], ["3\\sqrt{2}", "\\sqrt{6}"]),
    ("\\frac{\\pi}{6}", ["\\dfrac{\\pi}{6}", "\\frac{1}{6}\\pi", "\\pi/6"], ["\\frac{\\pi}{3}"]),
    ("(1, 2)", ["(1,2)", "\\left(1, 2\\right)"], ["(2, 1)", "(1, 3)"]),
    ("[0, 1)", ["[0,1)", "\\left[0, 1\\right)"], ["[0, 1]", "(0, 1)"]),
    ("\\{1, 2\\}", ["\\{2, 1\\}", "1, 2"], ["\\{1, 3\\}"]),
    ("5\\%", ["5\\%", "5"], ["50\\%"]),
    ("\\frac{1+\\sqrt{5}}{2}", ["\\dfrac{1 + \\sqrt5}{2}", "\\frac{\\sqrt{5}+1}{2}"], ["\\frac{1-\\sqrt{5}}{2}"]),
    ("-\\frac{1}{2}", ["-0.5", "\\frac{-1}{2}", "-\\dfrac12"], ["\\frac{1}{2}"]),
    ("30^\\circ", ["30", "30^{\\circ}"], ["60^\\circ"]),
    ("\\frac{9}{2}", ["4.5", "4\\frac{1}{2}", "\\frac{18}{4}"], ["\\frac{2}{9}"]),
    ("3\\pi", ["3 \\pi", "\\pi \\cdot 3"], ["\\pi^3"]),
]
SYMBOLIC_ITEMS = [
    ("x^2+2x+1", ["(x+1)^2", "x^2 + 2x + 1", "(1+x)^2"], ["(x-1)^2", "x^2+1"]),
    ("\\frac{x^2-1}{x-1}", ["x+1", "1+x"], ["x-1"]),
    ("2\\sin x \\cos x", ["\\sin(2x)", "\\sin 2x"], ["\\cos(2x)"]),
    ("x^3-1", ["(x-1)(x^2+x+1)"], ["(x-1)^3"]),
    ("\\frac{1}{x} + \\frac{1}{y}", ["\\frac{x+y}{xy}"], ["\\frac{1}{x+y}"]),
    ("e^{2x}", ["(e^x)^2", "e^{x} e^{x}"], ["2e^x"]),
    ("\\sqrt{x^2}", ["\\sqrt{x^2}"], ["x^2"]),
    ("(a+b)^2", ["a^2+2ab+b^2"], ["a^2+b^2"]),
]


def make_gsm8k(rng: random.Random, groups: int, size: int) -> list[tuple[str, str]]:
    pairs = []
    for _ in range(groups):
        n = rng.choice([rng.randint(2, 99), rng.randint(100, 999), rng.randint(1000, 99999)])
        spell = [f"#### {n:,}", f"The answer is ${n}$.", f"\\boxed{{{n:,}}}".replace(",", "{,}"),
                 f"The answer is {n}.0", f"#### ${n:,}", f"\\boxed{{{n}}}"]
        wrongs = [f"#### {n + rng.randint(1, 9)}", f"The answer is {n * 2}."]
        for _ in range(size):
            tail = rng.choice(spell) if rng.random() < 0.7 else rng.choice(wrongs)
            pairs.append((str(n), "Step 1: compute the totals. Step 2: add them up.\n" + tail))
    return pairs


def make_from_items(rng: random.Random, items, groups: int, size: int, prefix: str) -> list[tuple[str, str]]:
    pairs = []
    for k in range(groups):
        gold, rights, wrongs = items[k % len(items)]
        for _ in range(size):
            ans = rng.choice(rights) if rng.random() < 0.7 else rng.choice(wrongs)
            pairs.append((gold, f"{prefix}Therefore the final answer is $\\boxed{{{ans}}}$."))
    return pairs


def ours_single(pairs) -> tuple[list[bool], list[float], float]:
    clear_cache()
    out, lat = [], []
    start = time.perf_counter()
    for g, p in pairs:
        t = time.perf_counter()
        out.append(verify(g, p).correct)
        lat.append(time.perf_counter() - t)
    return out, lat, time.perf_counter() - start


def ours_uncached(pairs) -> float:
    """Throughput with the memo emptied before every pair (no help from repeated answers)."""
    start = time.perf_counter()
    for g, p in pairs:
        clear_cache()
        verify(g, p)
    return time.perf_counter() - start


def ours_batch(pairs) -> float:
    clear_cache()
    start = time.perf_counter()
    verify_batch(pairs)
    return time.perf_counter() - start


def theirs_single(pairs):
    from math_verify import parse, verify as mv_verify

    out, lat = [], []
    start = time.perf_counter()
    for g, p in pairs:
        t = time.perf_counter()
        try:
            out.append(bool(mv_verify(parse(f"${g}$"), parse(p))))
        except Exception:  # noqa: BLE001
            out.append(False)
        lat.append(time.perf_counter() - t)
    return out, lat, time.perf_counter() - start


def p99(lat: list[float]) -> float:
    return statistics.quantiles(lat, n=100)[98] if len(lat) >= 100 else max(lat)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", type=int, default=40)
    ap.add_argument("--group-size", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    mixes = {
        "gsm8k": make_gsm8k(rng, args.groups, args.group_size),
        "math": make_from_items(rng, MATH_ITEMS, args.groups, args.group_size, SOLUTION_PREFIX),
        "symbolic": make_from_items(rng, SYMBOLIC_ITEMS, args.groups, args.group_size, ""),
    }
    try:
        import math_verify  # noqa: F401
        have_mv = True
    except ImportError:
        have_mv = False
        print("math-verify not installed: pip install 'rlvr[bench]' for the baseline", file=sys.stderr)
    verify("1", "\\boxed{\\sqrt{1}}")  # start the worker pool outside the timings
    verify_batch([("x", f"\\boxed{{x+{i}-{i}}}") for i in range(os.cpu_count() or 1)])
    figures: dict[str, dict] = {}
    for name, pairs in mixes.items():
        ours, lat, t_ours = ours_single(pairs)
        t_batch = ours_batch(pairs)
        t_nocache = ours_uncached(pairs)
        row = {"pairs": len(pairs), "ours_per_s": len(pairs) / t_ours, "ours_nocache_per_s": len(pairs) / t_nocache,
               "ours_all_cores_per_s": len(pairs) / t_batch, "ours_p99_ms": p99(lat) * 1000,
               "ours_correct": sum(ours)}
        print(f"[{name}] {len(pairs)} pairs: ours {row['ours_per_s']:.0f}/s single, "
              f"{row['ours_all_cores_per_s']:.0f}/s all {os.cpu_count()} cores, p99 {row['ours_p99_ms']:.2f} ms, "
              f"{row['ours_nocache_per_s']:.0f}/s single with no memo")
        if have_mv:
            theirs, lat_t, t_theirs = theirs_single(pairs)
            row.update(mv_per_s=len(pairs) / t_theirs, mv_p99_ms=p99(lat_t) * 1000, mv_correct=sum(theirs),
                       ratio=(len(pairs) / t_ours) / (len(pairs) / t_theirs),
                       ratio_nocache=(len(pairs) / t_nocache) / (len(pairs) / t_theirs))
            print(f"[{name}] math-verify {row['mv_per_s']:.0f}/s, p99 {row['mv_p99_ms']:.2f} ms; "
                  f"ratio ours/math-verify = {row['ratio']:.1f}x (target >= 3), "
                  f"{row['ratio_nocache']:.1f}x with no memo")
            diffs = sorted({(g, p.rsplit("\n", 1)[-1][-70:], a, b)
                            for (g, p), a, b in zip(pairs, ours, theirs) if a != b})
            row["disagreements"] = len(diffs)
            print(f"[{name}] graders disagree on {len(diffs)} distinct pairs")
            for g, tail, a, b in diffs:
                print(f"    gold={g!r} answer=...{tail!r} ours={a} math-verify={b}")
        figures[name] = {k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}
    print(json.dumps({"bench": "verifier_math", "cpus": os.cpu_count(), "mixes": figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
