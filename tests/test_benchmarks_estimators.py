"""The estimators against exact combinatorial values (fractions and math.comb, worked by hand)."""

import random
from collections import Counter
from fractions import Fraction
from itertools import combinations
from math import comb

import pytest

from rlvr.benchmarks import aggregate, maj_at_k, mean_accuracy, parse_ks, pass_at_k, pass_hat_k


def exact_pass_at_k(n, c, k):
    return 1 - Fraction(comb(n - c, k), comb(n, k))


def exact_pass_hat_k(n, c, k):
    return Fraction(comb(c, k), comb(n, k))


def test_pass_at_k_hand_values():
    # n=2, c=1: pass@1 = 1/2, pass@2 = 1
    assert pass_at_k(2, 1, 1) == pytest.approx(0.5)
    assert pass_at_k(2, 1, 2) == 1.0
    # n=4, c=1, k=2: 1 - C(3,2)/C(4,2) = 1 - 3/6 = 1/2
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)
    # n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10 = 7/10
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)
    # n=10, c=3, k=1 is c/n
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)


@pytest.mark.parametrize("n", [1, 2, 5, 16, 33])
def test_pass_at_k_matches_fractions_everywhere(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(float(exact_pass_at_k(n, c, k)), abs=1e-12)
            assert pass_hat_k(n, c, k) == pytest.approx(float(exact_pass_hat_k(n, c, k)), abs=1e-12)


def test_edge_cases():
    assert pass_at_k(10, 0, 3) == 0.0          # c = 0
    assert pass_at_k(10, 10, 3) == 1.0         # c = n
    assert pass_at_k(10, 8, 3) == 1.0          # n - c < k: every draw of 3 holds a correct one
    assert pass_hat_k(10, 0, 1) == 0.0
    assert pass_hat_k(10, 10, 10) == 1.0
    assert pass_hat_k(10, 2, 3) == 0.0         # fewer correct than k
    assert pass_at_k(1, 1, 1) == 1.0 and pass_at_k(1, 0, 1) == 0.0


def test_pass_at_1_is_exactly_the_fraction_correct():
    # the documented "pass@1 is c/n", as a float too: the product form gave 0.30000000000000004
    for n, c in [(10, 3), (7, 1), (1_000_000, 333_333), (3, 2)]:
        assert pass_at_k(n, c, 1) == c / n


@pytest.mark.parametrize("n,c,k", [(5000, 7, 100), (4000, 1, 2000), (10000, 9990, 5), (3000, 150, 1000)])
def test_large_n_is_stable_and_exact(n, c, k):
    got = pass_at_k(n, c, k)
    want = float(exact_pass_at_k(n, c, k))
    assert 0.0 <= got <= 1.0
    assert got == pytest.approx(want, rel=1e-9, abs=1e-12)
    assert pass_hat_k(n, c, min(k, c) or 1) == pytest.approx(float(exact_pass_hat_k(n, c, min(k, c) or 1)), rel=1e-9, abs=1e-300)


def test_bad_counts_raise():
    with pytest.raises(ValueError, match="k <= n"):
        pass_at_k(4, 1, 5)
    with pytest.raises(ValueError, match="k <= n"):
        pass_hat_k(4, 1, 5)
    with pytest.raises(ValueError):
        pass_at_k(4, 5, 1)
    with pytest.raises(ValueError):
        pass_at_k(0, 0, 1)
    with pytest.raises(ValueError):
        pass_at_k(4, 1, 0)
    with pytest.raises(TypeError):
        pass_at_k(4.0, 1, 1)


def test_mean_accuracy():
    assert mean_accuracy(8, 2) == 0.25


def test_maj_at_k_full_vote_and_ties():
    C = "ok"
    # 3 samples: right, wrong "5", right -> majority right
    assert maj_at_k([C, "5", C], [True, False, True], 3) == 1.0
    # wrong answer wins 2 to 1
    assert maj_at_k([C, "5", "5"], [True, False, False], 3) == 0.0
    # a 1-1 tie between right and wrong counts half
    assert maj_at_k([C, "5"], [True, False], 2) == 0.5
    # samples without an answer do not vote
    assert maj_at_k([C, None, None], [True, False, False], 3) == 1.0
    # nothing right -> 0
    assert maj_at_k(["1", "2"], [False, False], 2) == 0.0


def test_maj_at_k_subsets_match_hand_enumeration():
    # answers: R R W W (W the same wrong answer); k=3 subsets of 4: 4 of them, each with 2 of one kind
    # and 1 of the other: {R,R,W} x2 -> 1, {R,W,W} x2 -> 0 => 1/2
    assert maj_at_k(["R", "R", "W", "W"], [True, True, False, False], 3) == pytest.approx(0.5)
    # k=1 is the mean accuracy
    assert maj_at_k(["R", "W", "W", "X"], [True, False, False, False], 1) == pytest.approx(0.25)
    # k=2 of R W1 W2: subsets {R,W1} tie 1/2, {R,W2} tie 1/2, {W1,W2} tie but R absent 0 -> 1/3
    assert maj_at_k(["R", "a", "b"], [True, False, False], 2) == pytest.approx(1 / 3)


def brute_force_maj(answers, correct, k):
    right = next((a for a, c in zip(answers, correct) if c), None)
    total = Fraction(0)
    subsets = list(combinations(range(len(answers)), k))
    for s in subsets:
        votes = Counter(answers[i] for i in s if answers[i] is not None)
        if right is None or votes.get(right, 0) == 0:
            continue
        top = max(votes.values())
        if votes[right] == top:
            total += Fraction(1, sum(1 for v in votes.values() if v == top))
    return total / len(subsets)


def test_maj_at_k_equals_enumerating_every_subset():
    rng = random.Random(7)
    for _ in range(150):
        n = rng.randint(1, 9)
        pool = ["R", "a", "b", "c", None]
        answers = [rng.choice(pool) for _ in range(n)]
        correct = [a == "R" for a in answers]
        for k in range(1, n + 1):
            assert maj_at_k(answers, correct, k) == pytest.approx(float(brute_force_maj(answers, correct, k)), abs=1e-12)


def test_maj_at_k_large_n_is_exact_and_fast():
    answers = ["R"] * 300 + ["W"] * 290 + ["V"] * 10 + [None] * 400
    correct = [a == "R" for a in answers]
    got = maj_at_k(answers, correct, 1000)
    assert got == 1.0
    assert 0.5 < maj_at_k(answers, correct, 64) < 1.0


def test_maj_at_k_rejects_inconsistent_classes():
    with pytest.raises(ValueError, match="one answer class"):
        maj_at_k(["a", "b"], [True, True], 2)


def test_aggregate_normal_interval_by_hand():
    # values 0.4, 0.6, 0.5, 0.5: mean 1/2, s^2 = 0.02/3, stderr = sqrt(0.02/12)
    r = aggregate([0.4, 0.6, 0.5, 0.5])
    se = (0.02 / 12) ** 0.5
    assert r["mean"] == pytest.approx(0.5) and r["stderr"] == pytest.approx(se)
    assert r["ci_low"] == pytest.approx(0.5 - 1.959963984540054 * se)
    assert r["ci_high"] == pytest.approx(0.5 + 1.959963984540054 * se)
    assert r["problems"] == 4
    one = aggregate([0.3])
    assert one["mean"] == 0.3 and one["ci_low"] is None and one["ci_high"] is None  # no spread with one problem


def test_aggregate_clips_and_bootstraps_deterministically():
    r = aggregate([1, 1, 1, 0.9])
    assert r["ci_high"] == 1.0  # mean + z*se would pass 1
    wide = aggregate([0, 1, 1, 0])
    assert wide["ci_low"] == 0.0 and wide["ci_high"] == 1.0
    b1 = aggregate([0, 1, 0.5, 1, 0, 1], method="bootstrap", seed=3)
    b2 = aggregate([0, 1, 0.5, 1, 0, 1], method="bootstrap", seed=3)
    assert b1 == b2 and b1["ci_low"] < b1["mean"] < b1["ci_high"]
    with pytest.raises(ValueError):
        aggregate([])
    with pytest.raises(ValueError):
        aggregate([1], method="jackknife")


def test_parse_ks():
    assert parse_ks("4,1,16,4") == [1, 4, 16]
    with pytest.raises(ValueError, match="comma-separated"):
        parse_ks("1,x")
    with pytest.raises(ValueError):
        parse_ks("0")


def test_metrics_are_listed_means_first_then_by_family_and_k():
    from rlvr.benchmarks.summary import compute_metrics, metric_order

    names = ["pass^4", "maj@16", "pass@16", "maj@4", "pass@4", "pass@1", "mean_score", "mean_accuracy", "pass^2"]
    assert sorted(names, key=metric_order) == [
        "mean_accuracy", "mean_score", "pass@1", "pass@4", "pass@16", "maj@4", "maj@16", "pass^2", "pass^4"]
    with pytest.raises(ValueError, match="unknown metric"):
        metric_order("accuracy")
    rows = [{"task_id": "t", "correct": i % 2 == 0, "score": float(i % 2 == 0), "completion": str(i)} for i in range(16)]
    got = list(compute_metrics(rows, [1, 4, 16], majority=True)["metrics"])
    assert got == ["mean_accuracy", "mean_score", "pass@1", "pass@4", "pass@16", "maj@1", "maj@4", "maj@16",
                   "pass^4", "pass^16"]
