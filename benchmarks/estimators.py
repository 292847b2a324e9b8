"""The estimators behind every benchmark number: pass@k, pass^k, maj@k, accuracy, and their CIs.

All are pure functions of counts (or of per-sample answers), shared by offline evaluation
(`rlvr eval`) and validation during training.

- `pass_at_k(n, c, k)`: probability that at least one of k samples drawn without replacement from
  the n generated (c of them correct) is correct — the unbiased estimator
  1 - C(n-c, k) / C(n, k), computed as a product of k ratios so that n in the thousands (or
  millions) neither overflows nor loses precision.
- `pass_hat_k(n, c, k)` (pass^k): probability that *all* k drawn samples are correct,
  C(c, k) / C(n, k), also unbiased and in product form.
- `maj_at_k(answers, correct, k)`: expected correctness of a majority vote over k samples drawn
  without replacement; answers are equivalence classes (see `benchmarks.majority`).
  `maj_at_ks(answers, correct, ks)` gives several k at once, for about the cost of one.
- `aggregate(values)`: the mean over problems with a confidence interval. Default: normal
  approximation, mean ± z·s/√P with s the sample standard deviation over the P problems (the
  samples of one problem are not independent, so problems are the unit). `method="bootstrap"`
  resamples problems with replacement (fixed seed, percentile interval). With one problem there
  is no interval: its bounds are None.
"""

from __future__ import annotations

import math
import numbers
import random
from collections import Counter
from statistics import NormalDist
from typing import Any, Hashable, Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

__all__ = ["pass_at_k", "pass_hat_k", "maj_at_k", "maj_at_ks", "mean_accuracy", "aggregate", "parse_ks"]


def _check_counts(n: int, c: int, k: int) -> None:
    for name, value in (("n", n), ("c", c), ("k", k)):
        if isinstance(value, bool) or not hasattr(value, "__index__"):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if n < 1:
        raise ValueError(f"n (samples per problem) must be >= 1, got {n}")
    if not 0 <= c <= n:
        raise ValueError(f"c (correct samples) must be between 0 and n={n}, got {c}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if k > n:
        raise ValueError(f"pass@k needs k <= n: k={k} but only n={n} samples; generate at least k samples per problem")


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples of which c are correct: 1 - C(n-c, k) / C(n, k).

    C(n-c, k)/C(n, k) = prod_{i=0}^{k-1} (n-c-i)/(n-i); written as prod_{j=n-c+1}^{n} (1 - k/j)
    it has c factors, each in [0, 1], so nothing overflows. `k > n` raises ValueError. pass@1 is
    c / n itself (the product's rounding made `pass_at_k(10, 3, 1)` 0.30000000000000004).
    """
    _check_counts(n, c, k)
    if n - c < k:  # every draw of k contains a correct sample
        return 1.0
    if k == 1:
        return c / n
    prob_all_wrong = 1.0
    for j in range(n - c + 1, n + 1):
        prob_all_wrong *= 1.0 - k / j
    return 1.0 - prob_all_wrong


def pass_hat_k(n: int, c: int, k: int) -> float:
    """Unbiased pass^k (all of k samples correct): C(c, k) / C(n, k) = prod_{i=0}^{k-1} (c-i)/(n-i)."""
    _check_counts(n, c, k)
    if c < k:
        return 0.0
    prob = 1.0
    for i in range(k):
        prob *= (c - i) / (n - i)
    return prob


def mean_accuracy(n: int, c: int) -> float:
    """Fraction of a problem's samples that are correct (c / n)."""
    _check_counts(n, c, 1)
    return c / n


def maj_at_k(answers: Sequence[Hashable | None], correct: Sequence[bool], k: int) -> float:
    """Expected correctness of a majority vote over k of a problem's n samples (exact).

    `answers[i]` is sample i's answer class (equal classes = equivalent answers; None = no answer,
    which does not vote) and `correct[i]` whether it is right; all correct samples must share one
    class. A vote scores 1 when the correct class is strictly the most frequent, 1/t when it ties
    with t-1 other classes, 0 otherwise. The result is the average over all C(n, k) subsets of
    the samples, computed without enumerating them (see `maj_at_ks`, which gives several k at
    once for the cost of the largest). With k = n it is the plain majority vote over all samples;
    with k = 1 it is the mean accuracy.
    """
    return maj_at_ks(answers, correct, [k])[0]


def maj_at_ks(answers: Sequence[Hashable | None], correct: Sequence[bool], ks: Sequence[int]) -> list[float]:
    """`maj_at_k` for each k of `ks` (in that order), computed together.

    The right class wins a draw holding x of its samples when no other class has more than x, with
    credit 1/(1+t) when t classes have exactly x. For each x, `_right_wins` gives that chance for
    the other k - x samples drawn, by a dynamic programme over the classes that can reach x (the
    smaller classes and the samples without a vote can never outvote x: they form one free pool).
    Its table holds probabilities (the chance of a random draw), not counts of subsets, so nothing
    overflows at any n, and one table serves every k. Exact up to floating-point rounding (about
    1e-12 relative: tests compare it with enumerating every subset, and with the earlier
    implementation in exact rationals, which took a minute per problem at n = 1024 where this
    takes about 0.1 s; see benchmarks/perf/eval_bench.py).
    """
    n = len(answers)
    if len(correct) != n:
        raise ValueError(f"answers and correct must have the same length, got {n} and {len(correct)}")
    n_correct = sum(bool(x) for x in correct)
    for k in ks:
        _check_counts(n, n_correct, k)
    classes = {answers[i] for i in range(n) if correct[i]}
    if len(classes) > 1:
        raise ValueError(f"all correct samples must share one answer class, got {sorted(map(repr, classes))}")
    if None in classes:
        raise ValueError("a correct sample must have an answer class (not None)")
    if not classes or not ks:
        return [0.0] * len(ks)
    counts = Counter(a for a in answers if a is not None)
    m_right = counts.pop(next(iter(classes)))
    others = sorted(counts.values(), reverse=True)
    biggest = others[0] if others else 0
    log_fact = np.array([math.lgamma(i + 1) for i in range(n + 1)])
    k_arr = np.array(ks)
    credit = np.zeros(len(ks))
    for x in range(1, min(max(ks), m_right, biggest) + 1):
        use = (k_arr >= x) & (k_arr - x <= n - m_right)  # the draws that can hold exactly x right samples
        if use.any():
            rivals = [m for m in others if m >= x]
            wins = _right_wins(rivals, n - m_right - sum(rivals), x, k_arr[use] - x, log_fact)
            credit[use] += _hypergeom(log_fact, n - m_right, m_right, k_arr[use], np.array(x)) * wins
    if m_right > biggest:  # x right samples above every other class: the vote is right whatever else is drawn
        x = np.arange(biggest + 1, m_right + 1)[None, :]
        credit += _hypergeom(log_fact, n - m_right, m_right, k_arr[:, None], x).sum(axis=1)
    return [min(1.0, float(c)) for c in credit]


def _log_comb(log_fact: Any, a: Any, b: Any) -> Any:
    """log C(a, b) elementwise (numpy broadcasting); -inf where b < 0 or b > a."""
    a, b = np.asarray(a), np.asarray(b)
    ok = (b >= 0) & (b <= a)
    b = np.where(ok, b, 0)
    return np.where(ok, log_fact[a] - log_fact[b] - log_fact[a - b], -np.inf)


def _hypergeom(log_fact: Any, pool: int, m: int, draws: Any, hits: Any) -> Any:
    """The chance that `hits` of `draws` samples drawn without replacement from pool + m samples
    are among the m: C(m, hits) C(pool, draws - hits) / C(pool + m, draws), 0 where impossible.
    `draws` is a column and `hits` a row of integers (broadcast to a table); one exp per cell."""
    lo = int(hits.max())
    rest = _log_comb(log_fact, pool, np.arange(-lo, int(draws.max()) + 1))  # rest[i] = log C(pool, i - lo)
    whole = _log_comb(log_fact, pool + m, draws)
    whole[np.isinf(whole)] = np.inf  # more draws than samples: chance 0, not nan
    return np.exp(rest[draws - hits + lo] + _log_comb(log_fact, m, hits) - whole)


def _right_wins(rivals: list[int], free: int, x: int, targets: Any, log_fact: Any) -> Any:
    """For each draw size s of `targets`: the chance that s samples drawn from the `free` pool and the
    `rivals` classes (sizes, each >= x; at least one) hold no class above x, weighted 1/(1+t) for
    t classes at x.

    The table over the first classes (`_add_class`) holds every draw size up to the largest target;
    the last class is added at the targets only, so a single rival costs one row per target.
    """
    width = int(targets.max()) + 1
    table = np.ones((1, min(free + 1, width)))  # the free pool: any draw is fine, no tie
    pool = free
    for m in rivals[:-1]:
        table = _add_class(table, pool, m, x, width, log_fact)
        pool += m
    untied, tied = (np.append(_by_draws(table, x, extra), np.zeros(width)) for extra in (0, 1))
    # the last class: y of its samples drawn, y < x (no new tie) or y = x (one more tie)
    y = np.arange(x + 1)[None, :]
    s = targets[:, None]
    before = np.where(y < x, untied[np.clip(s - y, 0, None)], tied[np.clip(s - y, 0, None)])
    return (before * _hypergeom(log_fact, pool, rivals[-1], s, y)).sum(axis=1)


def _add_class(table: Any, pool: int, m: int, x: int, width: int, log_fact: Any) -> Any:
    """table[t, r] over random draws from `pool` samples -> the same over pool + m samples, a class of m.

    table[t, r]: the chance that a random draw of j = t*x + r samples has no class above x and t
    classes at exactly x (r: the draws that are not in a tied class). Drawing y of the new class
    moves r by y (y < x) or t by one (y = x). Only draws below `width` are wanted: t and r stop
    where t*x + r could no longer be below it.
    """
    rows = min(table.shape[0] + 1, (width - 1) // x + 1)
    cols = min(table.shape[1] + x - 1, width)
    chance = _hypergeom(log_fact, pool, m, np.arange((rows - 1) * x + cols)[:, None], np.arange(x + 1)[None, :])
    step = chance.strides[0]
    at = as_strided(chance, shape=(rows, cols, x + 1), strides=(x * step, step, chance.strides[1]))  # [t, r, y]: chance[t*x + r, y]
    padded = np.zeros((table.shape[0], x - 1 + cols))
    padded[:, x - 1:x - 1 + table.shape[1]] = table
    below = sliding_window_view(padded, x, axis=1)  # [t, r, i] = table[t, r - y] with y = x - 1 - i
    grown = np.zeros((rows, cols))
    grown[:table.shape[0]] = np.einsum("tri,tri->tr", below, at[:table.shape[0], :, x - 1::-1])
    tied = min(rows - 1, table.shape[0])
    grown[1:tied + 1, :table.shape[1]] += table[:tied] * at[1:tied + 1, :table.shape[1], x]
    return grown


def _by_draws(table: Any, x: int, extra_ties: int) -> Any:
    """table[t, r] summed by draw size j = t*x + r, each weighted 1/(1 + t + extra_ties)."""
    t, r = np.indices(table.shape)
    return np.bincount((t * x + r).ravel(), weights=(table / (1 + t + extra_ties)).ravel())


def aggregate(
    values: Sequence[float],
    *,
    confidence: float = 0.95,
    method: str = "normal",
    resamples: int = 2000,
    seed: int = 0,
) -> dict[str, float | int | str | None]:
    """Mean of per-problem values with a confidence interval.

    Returns {"mean", "ci_low", "ci_high", "stderr", "problems", "method", "confidence"}.
    method="normal": mean ± z_{(1+confidence)/2} · s / √P (s: sample standard deviation, ddof=1;
    the interval is clipped to [0, 1] when all values are in [0, 1]). method="bootstrap":
    percentile interval of the means of `resamples` resamplings of the problems with replacement,
    with a fixed `seed`. With one problem the spread over problems is unknown (s is undefined, and
    every resampling is that problem): "ci_low", "ci_high" and "stderr" are None, not a
    zero-width interval that would look like certainty.
    With two or more problems that all have the same value, the interval is that value (zero width):
    it says nothing about the spread over other problems (`compute_metrics` warns about it).
    """
    vals = [float(v) for v in values]
    check_ci(confidence, method)
    if not vals:
        raise ValueError("aggregate needs at least one problem's value")
    p = len(vals)
    mean = math.fsum(vals) / p
    if p < 2:
        return {"mean": mean, "ci_low": None, "ci_high": None, "stderr": None, "problems": p,
                "method": method, "confidence": confidence}
    var = math.fsum((v - mean) ** 2 for v in vals) / (p - 1)
    stderr = math.sqrt(var / p)
    if method == "normal":
        z = NormalDist().inv_cdf((1 + confidence) / 2)
        low, high = mean - z * stderr, mean + z * stderr
        if all(0.0 <= v <= 1.0 for v in vals):
            low, high = max(0.0, low), min(1.0, high)
    elif method == "bootstrap":
        rng = random.Random(seed)
        means = sorted(math.fsum(rng.choices(vals, k=p)) / p for _ in range(resamples))
        alpha = (1 - confidence) / 2
        low = means[int(math.floor(alpha * (resamples - 1)))]
        high = means[int(math.ceil((1 - alpha) * (resamples - 1)))]
    return {"mean": mean, "ci_low": low, "ci_high": high, "stderr": stderr, "problems": p,
            "method": method, "confidence": confidence}


#: The ways `aggregate` computes a confidence interval.
CI_METHODS = ("normal", "bootstrap")


def check_ci(confidence: float, method: str) -> None:
    """Raise ValueError unless `confidence` is in (0, 1) and `method` is one of `CI_METHODS`: the
    options of `aggregate`, checked by evaluation runs before they sample or write anything."""
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real) or not 0 < confidence < 1:
        raise ValueError(f"confidence must be a number in (0, 1), like 0.95; got {confidence!r}")
    if method not in CI_METHODS:
        raise ValueError(f"the confidence interval's method must be 'normal' or 'bootstrap', got {method!r}")


def parse_ks(text: str | Sequence[int]) -> list[int]:
    """"1,4,16" -> [1, 4, 16] (sorted, unique); raises ValueError naming a bad entry."""
    items = text.split(",") if isinstance(text, str) else list(text)
    ks = []
    for item in items:
        try:
            k = int(str(item).strip())
        except ValueError:
            raise ValueError(f"--k must be comma-separated positive integers like 1,4,16; got {item!r}") from None
        if k < 1:
            raise ValueError(f"--k values must be >= 1, got {k}")
        ks.append(k)
    if not ks:
        raise ValueError("--k needs at least one value, like 1,4,16")
    return sorted(set(ks))
