"""maj@k: samples without a single answer cast no vote (a hedge's last box is not its answer), and
maj@k is computed for every k at once, fast at large n, exactly as enumerating every subset."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from rlvr.benchmarks import estimators
from rlvr.benchmarks.estimators import maj_at_k
from rlvr.benchmarks.evaluate import evaluate_completions
from rlvr.benchmarks.majority import CORRECT, answer_classes
from rlvr.benchmarks.summary import compute_metrics
from rlvr.verifiers.math import verify
from test_benchmarks_estimators import brute_force_maj  # the definition: every k-subset enumerated

HEDGED_EXAMPLE = ["The answer is \\boxed{5}."] * 2 + ["It is \\boxed{3} or \\boxed{5}."] * 3 + ["\\boxed{7}"]


def judged(gold, completions):
    """(correct flags, verdict kinds) of `completions` against `gold`, as `rlvr eval` scores them."""
    verdicts = [verify(gold, c) for c in completions]
    return [v.correct for v in verdicts], [v.details.get("kind") for v in verdicts]


def classes_and_maj(gold, completions, *, with_kinds=True):
    correct, kinds = judged(gold, completions)
    classes = answer_classes(completions, correct, kinds=kinds if with_kinds else None)
    return classes, maj_at_k(classes, correct, len(completions))


# ------------------------------------------------------------------ who votes


def test_hedged_samples_have_no_vote_and_cannot_vote_the_gold_down():
    # gold 5: two right, three hedged "3 or 5" (last box 5, the gold's own), one 7; the hedges
    # formed a wrong class "5" of three and outvoted the right answer: maj@6 was 0
    classes, maj = classes_and_maj("5", HEDGED_EXAMPLE)
    assert classes == [CORRECT, CORRECT, None, None, None, "7"]
    assert maj == 1.0


def test_the_hedged_example_end_to_end(tmp_path):
    data = tmp_path / "math.jsonl"
    data.write_text(json.dumps({"problem": "What is 2+3?", "solution": "\\boxed{5}", "answer": "5", "subject": "A",
                                "level": 1, "unique_id": "test/a/1.json"}) + "\n")
    comps = tmp_path / "c.jsonl"
    comps.write_text("".join(json.dumps({"task_id": "test/a/1.json", "completion": c}) + "\n" for c in HEDGED_EXAMPLE))
    result = evaluate_completions("math500", str(comps), str(tmp_path / "out"), ks=[1, 6], data=str(data),
                                  progress=False, verbose=False)
    assert result["pass@1"] == pytest.approx(1 / 3)
    assert result["maj@6"] == 1.0


def test_a_hedge_ending_in_a_wrong_box_does_not_join_that_answers_votes():
    # "\boxed{5} or maybe \boxed{3}" has the last box 3: counted with the two genuine 3s it made a
    # class of four against three right samples
    comps = ["\\boxed{5}"] * 3 + ["\\boxed{3}"] * 2 + ["\\boxed{5} or maybe \\boxed{3}"] * 2
    classes, maj = classes_and_maj("5", comps)
    assert classes == [CORRECT] * 3 + ["3", "3", None, None]
    assert maj == 1.0


def test_unparsable_answers_have_no_vote():
    # "5 6" cannot be read (it may be the gold 56 written with a space): no class of its own
    classes, maj = classes_and_maj("56", ["\\boxed{56}"] * 2 + ["\\boxed{5 6}"] * 3)
    assert classes == [CORRECT] * 2 + [None] * 3
    assert maj == 1.0


def test_a_wrong_answer_equal_to_the_right_ones_never_votes_against_them():
    # without verdict kinds, a wrong sample whose extracted answer is the right samples' own
    # (same text, or equal by the verifier) has no vote: it neither joins nor outvotes them
    classes, maj = classes_and_maj("5", HEDGED_EXAMPLE, with_kinds=False)
    assert classes == [CORRECT, CORRECT, None, None, None, "7"] and maj == 1.0
    comps = ["\\boxed{5}"] * 2 + ["\\boxed{10/2}"] * 3 + ["\\boxed{3}"]
    classes = answer_classes(comps, [True, True, False, False, False, False])
    assert classes == [CORRECT, CORRECT, None, None, None, "3"]
    assert maj_at_k(classes, [True, True, False, False, False, False], 6) == 1.0


# ------------------------------------------------------------------ maj@k for every k at once


def _previous_maj_at_k():
    """The implementation before `maj_at_ks` (exact rationals, one dynamic programme per k and x),
    kept once, in the benchmark that measures the speed-up against it."""
    import sys
    from pathlib import Path

    perf = str(Path(__file__).resolve().parents[1] / "benchmarks" / "perf")
    sys.path.insert(0, perf)
    try:
        from eval_bench import previous_maj_at_k
    finally:
        sys.path.remove(perf)
    return previous_maj_at_k


previous_maj_at_k = _previous_maj_at_k()


def spread(rng, n, p_right, shape):
    """n answers as a model spreads them: right ones, wrong ones from a few to many classes, None."""
    answers = []
    for _ in range(n):
        r = rng.random()
        if r < p_right:
            answers.append("R")
        elif r < 0.9:
            answers.append(f"w{min(int(rng.paretovariate(shape)), 40)}")
        else:
            answers.append(None)
    return answers, [a == "R" for a in answers]


def test_maj_at_ks_equals_enumerating_every_subset():
    rng = random.Random(27)
    for _ in range(300):
        n = rng.randint(1, 10)
        pool = ["R", "a", "b", "c", "d", None][:rng.randint(2, 6)]
        answers = [rng.choice(pool) for _ in range(n)]
        correct = [a == "R" for a in answers]
        ks = rng.sample(range(1, n + 1), rng.randint(1, n))  # any order, any subset
        got = estimators.maj_at_ks(answers, correct, ks)
        assert got == [pytest.approx(float(brute_force_maj(answers, correct, k)), abs=1e-12) for k in ks], (answers, ks)


def test_maj_at_ks_equals_the_previous_implementation_on_larger_problems():
    rng = random.Random(5)
    for _ in range(12):
        n = rng.randint(30, 120)
        answers, correct = spread(rng, n, rng.uniform(0.05, 0.6), rng.choice([0.6, 1.2, 3.0]))
        ks = sorted({1, 2, 3, 4, 8, 16, 32, n // 3, n // 2, n - 1, n} - {0})
        want = [previous_maj_at_k(answers, correct, k) for k in ks]
        assert estimators.maj_at_ks(answers, correct, ks) == [pytest.approx(w, rel=1e-9, abs=1e-15) for w in want]


@pytest.mark.parametrize("sizes", [(8, 6, 6, 6, 6, 6, 6, 6), (3,) + (1,) * 40, (12, 12, 12), (5,) + (4,) * 12 + (2,) * 6])
def test_maj_at_ks_equals_the_previous_implementation_when_many_classes_tie(sizes):
    # sizes[0] right samples, then one wrong class per size, and 7 samples without an answer
    answers = [a for i, size in enumerate(sizes) for a in [f"c{i}"] * size] + [None] * 7
    correct = [a == "c0" for a in answers]
    ks = list(range(1, len(answers) + 1, 3)) + [len(answers)]
    want = [previous_maj_at_k(answers, correct, k) for k in ks]
    assert estimators.maj_at_ks(answers, correct, ks) == [pytest.approx(w, rel=1e-9, abs=1e-15) for w in want]


def test_maj_at_ks_at_large_n_stays_a_probability_and_matches_the_plain_vote():
    # n = 2000: the counts C(2000, 1000) overflow a float; the table holds probabilities instead
    rng = random.Random(1)
    answers, correct = spread(rng, 2000, 0.3, 1.2)
    ks = [1, 16, 256, 2000]
    got = estimators.maj_at_ks(answers, correct, ks)
    assert all(0.0 <= v <= 1.0 for v in got)
    assert got[0] == pytest.approx(sum(correct) / 2000, rel=1e-12)  # maj@1 is the mean accuracy
    votes = Counter(a for a in answers if a is not None)
    top = max(votes.values())
    assert got[-1] == (1 / list(votes.values()).count(top) if votes["R"] == top else 0.0)  # maj@n: the plain vote
    assert maj_at_k(answers, correct, 16) == got[1]


def test_maj_at_ks_checks_like_maj_at_k():
    with pytest.raises(ValueError, match="k <= n"):
        estimators.maj_at_ks(["a", "b"], [True, False], [1, 3])
    with pytest.raises(ValueError, match="one answer class"):
        estimators.maj_at_ks(["a", "b"], [True, True], [1])
    assert estimators.maj_at_ks(["a", "b"], [False, False], [1, 2]) == [0.0, 0.0]


def test_compute_metrics_votes_every_k_under_a_progress_bar(capsys):
    rows = [{"task_id": f"t{t}", "correct": i % 3 == 0, "score": float(i % 3 == 0), "completion": f"\\boxed{{{i % 4}}}"}
            for t in range(3) for i in range(12)]
    metrics = compute_metrics(rows, [1, 4, 12], majority=True, progress=True)["metrics"]
    assert "maj@k" in capsys.readouterr().err
    for k in (1, 4, 12):
        per_task = []
        for t in range(3):
            samples = [r for r in rows if r["task_id"] == f"t{t}"]
            correct = [r["correct"] for r in samples]
            per_task.append(maj_at_k(answer_classes([r["completion"] for r in samples], correct), correct, k))
        assert metrics[f"maj@{k}"]["mean"] == pytest.approx(sum(per_task) / 3)
    compute_metrics(rows, [1, 4], majority=True)
    assert capsys.readouterr().err == ""  # no bar unless asked
