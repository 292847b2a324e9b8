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
- `aggregate(values)`: the mean over problems with a confidence interval. Default: normal
  approximation, mean ± z·s/√P with s the sample standard deviation over the P problems (the
  samples of one problem are not independent, so problems are the unit). `method="bootstrap"`
  resamples problems with replacement (fixed seed, percentile interval).
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from fractions import Fraction
from statistics import NormalDist
from typing import Hashable, Sequence

__all__ = ["pass_at_k", "pass_hat_k", "maj_at_k", "mean_accuracy", "aggregate", "parse_ks"]


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
    the samples, computed without enumerating them: for each count x of correct samples in the
    subset, a small dynamic programme over the other classes counts the ways to draw the rest with
    no class above x, split by how many classes reach exactly x. With k = n it is the plain
    majority vote over all samples; with k = 1 it is the mean accuracy.
    """
    n = len(answers)
    if len(correct) != n:
        raise ValueError(f"answers and correct must have the same length, got {n} and {len(correct)}")
    _check_counts(n, sum(bool(x) for x in correct), k)
    classes = {answers[i] for i in range(n) if correct[i]}
    if len(classes) > 1:
        raise ValueError(f"all correct samples must share one answer class, got {sorted(map(repr, classes))}")
    if None in classes:
        raise ValueError("a correct sample must have an answer class (not None)")
    if not classes:
        return 0.0
    right = next(iter(classes))
    counts = Counter(a for a in answers if a is not None)
    m_right = counts.pop(right)
    m_none = n - m_right - sum(counts.values())
    others = list(counts.values())
    credit = Fraction(0)
    for x in range(1, min(k, m_right) + 1):
        # ways[(j, t)]: draws of j samples from the other classes, none above x, t of them exactly x
        ways: dict[tuple[int, int], int] = {(0, 0): 1}
        budget = k - x
        for m in others:
            grown: dict[tuple[int, int], int] = defaultdict(int)
            for (j, t), w in ways.items():
                for y in range(0, min(m, x, budget - j) + 1):
                    grown[(j + y, t + (y == x))] += w * math.comb(m, y)
            ways = grown
        for (j, t), w in ways.items():
            rest = budget - j
            if 0 <= rest <= m_none:
                credit += Fraction(math.comb(m_right, x) * w * math.comb(m_none, rest), t + 1)
    return float(credit / math.comb(n, k))


def aggregate(
    values: Sequence[float],
    *,
    confidence: float = 0.95,
    method: str = "normal",
    resamples: int = 2000,
    seed: int = 0,
) -> dict[str, float | int | str]:
    """Mean of per-problem values with a confidence interval.

    Returns {"mean", "ci_low", "ci_high", "stderr", "problems", "method", "confidence"}.
    method="normal": mean ± z_{(1+confidence)/2} · s / √P (s: sample standard deviation, ddof=1;
    the interval is clipped to [0, 1] when all values are in [0, 1]; with one problem it is the
    point itself). method="bootstrap": percentile interval of the means of `resamples` resamplings
    of the problems with replacement, with a fixed `seed`.
    """
    vals = [float(v) for v in values]
    if not vals:
        raise ValueError("aggregate needs at least one problem's value")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    p = len(vals)
    mean = math.fsum(vals) / p
    var = math.fsum((v - mean) ** 2 for v in vals) / (p - 1) if p > 1 else 0.0
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
    else:
        raise ValueError(f"method must be 'normal' or 'bootstrap', got {method!r}")
    return {"mean": mean, "ci_low": low, "ci_high": high, "stderr": stderr, "problems": p,
            "method": method, "confidence": confidence}


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
