"""Math verifier: whose fault a sympy job past its limit is (a slow gold fails verification, a
pathological answer is a wrong answer), and `\\text{no solution}` as the empty set."""

from __future__ import annotations

import threading
from concurrent.futures import Future
import time

import pytest

from rlvr.verifiers import math as vmath
from rlvr.verifiers.math import RULES_VERSION, clear_cache, verify, verify_batch
from rlvr.verifiers.math_sympy import check_gold
from rlvr.verifiers.steps import verify_steps
from rlvr.verifiers.timelimit import get_pool
from rlvr.verifiers.verdict import Verdict

#: A gold that sympy cannot evaluate in time (alone it takes minutes): any differing answer that
#: needs sympy times out against it.
SLOW_GOLD = "\\sin(10^{10^{6}})"


@pytest.fixture(autouse=True)
def _fresh_memos():
    clear_cache()  # the memos of verdicts and gold checks are per process: start each test cold
    yield
    clear_cache()


def _blames_gold(v: Verdict, gold: str) -> bool:
    return (not v.correct and v.error is not None and v.details["kind"] == "error"
            and f"gold answer {gold!r}" in v.reason)


# -- 1. a gold too slow alone: verification failed, never the model's wrong answer -------------------

@pytest.mark.parametrize("gold,pred", [
    (SLOW_GOLD, "\\boxed{3}"),  # numeric evaluation of the gold (was: "timed out", kind "timeout")
    ("(x+1)^{100000}", "\\boxed{x^2}"),  # expanding a gold with variables
    ("(1, \\sin(10^{10^{6}}))", "\\boxed{(1, 3)}"),  # a value inside the gold's structure
    (SLOW_GOLD, "\\boxed{3} and \\boxed{4}"),  # several boxed answers: one budget, the first job blames
])
def test_a_gold_too_slow_on_its_own_fails_verification_naming_the_gold(gold, pred):
    v = verify(gold, pred, timeout=0.5)
    assert _blames_gold(v, gold), v
    g_norm = vmath._gold_norm(gold)[0]
    assert not any(key[0] == g_norm for key in vmath._cache.data)  # not memoised as a judgement


def test_a_slow_gold_blames_later_answers_past_the_limit_without_a_new_check_but_judges_quick_ones():
    """A gold found slow is remembered: a later answer past the limit is failed without another
    check. But every answer's job still runs, so one judged in time keeps its verdict (a check
    misjudging a gold on a loaded machine cannot fail the answers that can be judged)."""
    first = verify(SLOW_GOLD, "\\boxed{3}", timeout=0.6)
    assert _blames_gold(first, SLOW_GOLD), first
    pool = vmath._pool()
    kills = pool.kills
    later = verify(SLOW_GOLD, "\\boxed{\\sqrt{2}}", timeout=0.6)
    assert _blames_gold(later, SLOW_GOLD), later
    assert pool.kills - kills == 1  # the answer's own job, no second check
    key = (vmath._gold_norm(SLOW_GOLD)[0], 0.6)
    vmath._gold_checks.data.pop(key)  # a gold wrongly found slow (a loaded machine) ...
    quick = Future()
    quick.set_result(Verdict.failed("gold answer 'x' takes more than half ...", details={"kind": "error"}))
    vmath._gold_checks.data[("x^2+1", 0.6)] = quick
    assert verify("x^2+1", "\\boxed{(x+1)^2 - 2x}", timeout=0.6).correct  # ... still judges what can be judged
    assert verify("x^2+1", "\\boxed{x^2}", timeout=0.6).details["kind"] == "wrong"


def test_a_gold_taking_most_of_the_limit_alone_is_blamed():
    """A comparison does the gold's work and the answer's: a gold that alone takes more than half
    of the limit leaves no time to judge a right answer in another form (it was scored the model's
    timeout)."""
    gold = "\\sin(10^{100000})"
    start = time.monotonic()
    check_gold(vmath._gold_norm(gold)[0])
    alone = time.monotonic() - start
    timeout = max(0.3, alone * 1.3)  # the gold alone fits the limit, but not within half of it
    # the same value in another form, with no operation the gold lacks (so it is compared, not
    # refused as "not evaluated" before any evaluation: rules 13)
    # (`2\sin(a)\cos(a)` is refused as holding a \cos; `\sin(2 \cdot 5 \cdot 10^{99999})` is the
    # gold's own tree, equal with no evaluation)
    v = verify(gold, "\\boxed{\\sin(10^{100000}) + (\\sqrt{2}-1)(\\sqrt{2}+1) - 1}", timeout=timeout)
    # never the model's timeout: the gold is blamed or, when the comparison fits in the limit (the
    # gold's own time measured on a busy machine can leave room), the answer is judged right
    assert v.correct or _blames_gold(v, vmath._gold_norm(gold)[0]), v
    assert v.details["kind"] != "timeout", v


def test_a_pathological_answer_against_a_good_gold_is_still_the_models_timeout_and_the_gold_is_not_rechecked():
    gold = "\\sqrt{2}"
    v = verify(gold, "\\boxed{10^{10^{10}}}", timeout=0.7)
    assert v.details["kind"] == "timeout" and v.error is None and not v.correct, v
    entry = vmath._gold_checks.data[(gold, 0.7)]
    assert entry.done() and entry.result() is None  # checked in a worker, remembered as good
    again = verify(gold, "\\boxed{10^{10^{10^{10}}}}", timeout=0.7)
    assert again.details["kind"] == "timeout" and again.error is None, again
    assert vmath._gold_checks.data[(gold, 0.7)] is entry  # the same check, not a new one


def test_a_gold_of_exact_numbers_is_never_blamed_nor_checked_in_a_worker():
    huge = "10^{10^{10}}"
    for gold, pred in (("2", huge), ("-\\frac{3}{4}", huge), ("(1, 2.5)", f"(1, {huge})"), ("x = 3", huge),
                       ("50\\%", huge)):
        v = verify(gold, f"\\boxed{{{pred}}}", timeout=0.5)
        assert v.details["kind"] == "timeout" and v.error is None, (gold, v)
    assert not vmath._gold_checks.data  # exact rationals cost sympy nothing: no check was needed


def test_verify_batch_blames_a_slow_gold_for_every_answer_and_checks_it_once():
    pool = get_pool(4, preload=vmath._PRELOAD)
    kills = pool.kills
    pairs = [(SLOW_GOLD, "\\boxed{3}"), (SLOW_GOLD, "\\boxed{\\sqrt{2}}"), (SLOW_GOLD, "\\boxed{\\pi}"),
             ("2", "\\boxed{10^{10^{10}}}")]
    got = verify_batch(pairs, timeout=0.5, workers=4)
    assert all(_blames_gold(v, SLOW_GOLD) for v in got[:3]), got
    assert got[3].details["kind"] == "timeout" and got[3].error is None, got[3]
    # four jobs ran to their limit at once; the slow gold's three waited for one check (one more kill)
    assert pool.kills - kills <= 5


def test_the_steps_check_blames_a_slow_claim_on_the_model():
    """The steps check's "gold" is the claim's left side, model text: a claim too slow to check is
    the solution's (judged, no error), never a failure of verification."""
    v = verify_steps(f"{SLOW_GOLD} = 3", timeout=0.5)
    assert v.error is None and not v.correct and "could not be checked in time" in v.reason, v


def test_check_gold_passes_ordinary_golds_of_every_shape():
    for gold in ("2", "\\frac{\\sqrt{3}}{2}", "x^2+2x+1", "y = 2x + 1", "\\{1, 2\\}", "(-\\infty, 3]", "\\infty",
                 "x = 3", "\\begin{pmatrix} 1 & \\sqrt2 \\\\ 0 & 1 \\end{pmatrix}", "50\\%"):
        assert check_gold(vmath.normalize(gold)) is None, gold


# -- 2. the memo of gold checks --------------------------------------------------------------------

def test_gold_checks_are_bounded_and_a_check_that_could_not_be_done_is_not_remembered():
    checks = vmath._GoldChecks(2)
    for key in ("a", "b", "c"):
        assert checks.check((key, 1.0), lambda: (None, True)) is None
    assert list(checks.data) == [("b", 1.0), ("c", 1.0)]  # the oldest went
    failed = Verdict.failed("pool broke", details={"kind": "error"})
    assert checks.check(("d", 1.0), lambda: (failed, False)) is failed
    assert ("d", 1.0) not in checks.data
    bad = Verdict.failed("gold too slow", details={"kind": "error"})
    checks.check(("e", 1.0), lambda: (bad, True))
    assert checks.check(("e", 1.0), lambda: (None, True)) is bad  # remembered: not run again


def test_callers_asking_about_one_gold_at_once_share_one_check():
    checks = vmath._GoldChecks(8)
    calls = []

    def run():
        calls.append(1)
        time.sleep(0.3)
        return None, True

    results = []
    threads = [threading.Thread(target=lambda: results.append(checks.check(("g", 1.0), run))) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(calls) == 1 and results == [None] * 5


# -- 3. "no solution" is the empty set -------------------------------------------------------------

@pytest.mark.parametrize("gold,pred", [
    ("\\text{no solution}", "\\boxed{\\emptyset}"), ("\\text{no solution}", "\\boxed{\\varnothing}"),
    ("\\text{no solution}", "\\boxed{\\{\\}}"), ("\\text{no solution}", "\\boxed{\\text{No solutions}}"),
    ("\\emptyset", "\\boxed{\\text{no solution}}"), ("\\varnothing", "\\boxed{\\text{No solution.}}"),
    ("\\{\\}", "\\boxed{no solutions}"), ("no solutions", "\\boxed{\\text{No Solution}}"),
])
def test_no_solution_is_the_empty_set_both_ways(gold, pred):
    v = verify(gold, pred)
    assert v.correct and v.error is None, (gold, pred, v)


@pytest.mark.parametrize("gold,pred", [
    ("\\text{no solution}", "\\boxed{0}"), ("\\text{no solution}", "\\boxed{\\{0\\}}"),
    ("0", "\\boxed{\\text{no solution}}"), ("\\{0\\}", "\\boxed{\\text{no solution}}"),
    ("\\text{no solution}", "\\boxed{\\text{none}}"), ("\\text{none}", "\\boxed{\\text{no solution}}"),
    ("\\text{no solution}", "\\boxed{(-\\infty, \\infty)}"), ("\\text{no real solutions}", "\\boxed{\\emptyset}"),
])
def test_no_solution_equals_nothing_else(gold, pred):
    v = verify(gold, pred)
    assert not v.correct and v.error is None, (gold, pred, v)


def test_a_tuple_gold_against_one_value_says_how_many_values_were_expected():
    v = verify("(1, 2.5)", "\\boxed{3}")
    assert v.details["kind"] == "wrong" and v.reason == "expected 2 values, got one", v  # was "expected 1 values"


def test_the_rules_version_records_the_change():
    assert RULES_VERSION >= 4  # `\\text{no solution}` vs `\\emptyset` was wrong under rules 3
