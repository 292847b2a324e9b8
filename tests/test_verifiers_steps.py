"""Process reward (verify_steps) and shaping rewards against hand-computed values."""

from __future__ import annotations

import pytest

from rlvr.verifiers.shaping import (answer_tag_reward, boxed_reward, format_verdict, length_penalty,
                                    overlong_penalty, think_format_reward)
from rlvr.verifiers.steps import find_claims, split_steps, verify_steps

SOLUTION = """Natalia sold 48/2 = <<48/2=24>>24 clips in May.
We have $3 \\cdot 4 = 12$ and $\\frac{6}{8} = \\frac{3}{4}$.
Then $2 + 2 = 5$.
Let x = 3, so 2x = 6.
So $1 = 1.0 = \\frac{2}{2} = 1$.
"""


def test_claims_found_per_step():
    steps = split_steps(SOLUTION)
    assert len(steps) == 5
    assert find_claims(steps[0]) == [("48/2", "24")]
    assert find_claims(steps[1]) == [("3 \\cdot 4", "12"), ("\\frac{6}{8}", "\\frac{3}{4}")]
    assert find_claims(steps[3]) == []  # equations in an unknown are not claims
    assert find_claims(steps[4]) == [("1", "1.0"), ("1.0", "\\frac{2}{2}"), ("\\frac{2}{2}", "1")]


def test_verify_steps_scores_by_hand():
    v = verify_steps(SOLUTION)
    # steps: ok, ok, wrong (2+2=5), nothing checkable, ok  -> mean over 4 checked = 3/4
    assert v.steps == [1.0, 1.0, 0.0, None, 1.0]
    assert v.score == pytest.approx(0.75)
    assert not v.correct and "step 3" in v.reason and "2 + 2 = 5" in v.reason
    # 7 claims found; `1 = 1.0` computes nothing and `\frac{2}{2} = 1` restates `1.0 = \frac{2}{2}`
    assert v.details["claims"] == 5 and v.details["idle_claims"] == 1 and v.details["repeated_claims"] == 1


def test_all_true_chain_and_sympy_claims():
    v = verify_steps("First $\\sqrt{8} = 2\\sqrt{2}$.\nThen $(2\\sqrt2)^2 = 8$.")
    assert v.steps == [1.0, 1.0] and v.correct and v.score == 1.0


def test_nothing_checkable():
    v = verify_steps("I think the answer is probably big.\nYes.")
    assert v.steps == [None, None] and v.correct and v.details["kind"] == "unchecked"
    assert verify_steps("").details["kind"] == "unparsable"


def test_approximations_are_not_checked():
    assert verify_steps("$\\pi \\approx 3.1$").steps == [None]


def test_think_format_reward():
    assert think_format_reward("<think>reason</think> The answer is \\boxed{2}") == 1.0
    assert think_format_reward("  <think>\nreason\n</think>\n42") == 1.0
    assert think_format_reward("<think></think> 42") == 0.0          # empty reasoning
    assert think_format_reward("<think>reason</think>   ") == 0.0    # no answer
    assert think_format_reward("answer first <think>r</think> 4") == 0.0
    assert think_format_reward("<think>a</think> b <think>c</think> d") == 0.0
    assert think_format_reward("<think>never closed") == 0.0
    assert think_format_reward(None) == 0.0


@pytest.mark.timeout(60)  # the quadratic scan took minutes on the 512 KB below
def test_boxed_and_answer_tags():
    assert boxed_reward("so \\boxed{3}") == 1.0
    assert boxed_reward("so \\boxed{}") == 0.0
    assert boxed_reward("so \\boxed{3") == 0.0
    assert answer_tag_reward("<answer>3</answer>") == 1.0
    assert answer_tag_reward("<answer> </answer>") == 0.0
    assert answer_tag_reward("<answer> </answer> <answer>") == 0.0
    assert answer_tag_reward("<answer> </answer> <answer>x</answer>") == 1.0
    assert answer_tag_reward("</answer><answer>\n3\n</answer>") == 1.0
    # linear: a non-greedy regex retried from every unclosed tag took 4 s on 64 KB (512 KB: minutes)
    assert answer_tag_reward("<answer>" * 65536) == 0.0
    assert answer_tag_reward("<answer>" * 65536 + "7</answer>") == 1.0


def test_format_verdict():
    ok = format_verdict("<think>r</think> \\boxed{1}")
    assert ok.correct and ok.score == 1.0
    half = format_verdict("<think>r</think> 1")
    assert not half.correct and half.score == 0.5 and "boxed" in half.reason
    with pytest.raises(ValueError, match="at least one check"):
        format_verdict("x", think=False, boxed=False)


def test_length_penalty_by_hand():
    assert length_penalty(100, target=200) == 0.0
    assert length_penalty(250, target=200, coef=0.01) == pytest.approx(-0.5)
    with pytest.raises(ValueError):
        length_penalty(1, target=-1)


@pytest.mark.parametrize("length,expected", [
    (0, 0.0), (12, 0.0),       # well below max - buffer (16 - 4 = 12)
    (13, -0.25), (14, -0.5), (16, -1.0),   # linear ramp inside the buffer
    (17, -1.0), (1000, -1.0),  # past the maximum
])
def test_overlong_penalty_dapo(length, expected):
    assert overlong_penalty(length, max_length=16, buffer=4) == pytest.approx(expected)


def test_overlong_penalty_rejects_bad_buffer():
    with pytest.raises(ValueError, match="buffer"):
        overlong_penalty(1, max_length=10, buffer=0)
    with pytest.raises(ValueError, match="buffer"):
        overlong_penalty(1, max_length=10, buffer=11)


@pytest.mark.parametrize("step,claims", [
    ("Step 1: 2^{10} = 1024", [("2^{10}", "1024")]),          # not 1 : 2^{10}
    ("**Step 3:** 5 \\cdot 6 = 30", [("5 \\cdot 6", "30")]),
    ("2. 3 + 4 = 7", [("3 + 4", "7")]),                         # a list marker, not 2.3 + 4
    ("Then x + 1 = 4.", []),                                    # the x belongs to the left side
    ("THEN 2+2=4", [("2+2", "4")]),
    ("2 + 1 = 3 + x", []),
    ("The total is 3 + 4 = 7 apples", [("3 + 4", "7 apples")]),
])
def test_step_labels_and_variables_next_to_equations(step, claims):
    assert find_claims(step) == claims


def test_labelled_true_steps_are_true():
    v = verify_steps("Step 1: 2^{10} = 1024\nStep 2: Then x + 1 = 4.\nStep 3: So 3 \\cdot 4 = 12.")
    assert v.correct and v.steps == [1.0, None, 1.0]


def test_a_claim_too_costly_to_check_earns_no_credit_and_the_budget_is_per_solution(sympy_job_limits):
    import rlvr.verifiers.math as math_verifier

    granted = sympy_job_limits
    math_verifier.clear_cache()
    bad = "$10^{10^{10}} = 3$"
    v = verify_steps(f"Step 1: {bad}\nStep 2: {bad.replace('3', '4')}\nStep 3: {bad.replace('3', '5')}\nStep 4: 2 + 2 = 4",
                     timeout=1)
    assert not v.correct and v.steps == [0.0, 0.0, 0.0, 1.0] and v.score == pytest.approx(0.25)
    assert "could not be checked in time" in v.reason and v.error is None
    # one 1 s budget for the whole solution, not one per claim: the first costly claim spends it, the
    # others are failed without a job (before, each claim got its own second)
    assert granted == [1.0]


@pytest.mark.timeout(10)  # a hang guard, not a speed figure: this was a RecursionError, and 19-27 s per line
def test_long_runs_of_numbers_before_an_equals_sign_are_read_quickly_and_never_crash():
    for line in ["1 " * 500 + "= 2", "1 + " * 4000 + "= 2", "1 " * 8000 + "= 2"]:
        v = verify_steps(line)
        assert v.error is None


def test_a_check_that_fails_is_a_failed_verdict_not_nothing_checkable(crash_math_workers):
    # a crashed math worker is no judgement of the reasoning: before, it was dropped, and the
    # solution scored 1.0 ("nothing checkable")
    crash_math_workers()
    v = verify_steps("$2 + 2 = 4$\n$\\sin(\\pi/7)^2 + \\cos(\\pi/7)^2 = 1$\nSo \\boxed{1}")
    assert v.error is not None and not v.correct and v.score == 0.0 and v.details["kind"] == "error"
    assert v.error.startswith("step 2: \\sin(\\pi/7)^2 + \\cos(\\pi/7)^2 = 1 could not be checked: math worker failed: ")


def test_waiting_for_a_busy_math_worker_does_not_use_up_a_solutions_budget():
    # other callers hold every math worker (here with jobs that sleep 1.5 s), and as many more wait
    # for one: an honest solution's true claims wait 1.3 s or more for a worker, and that wait must
    # not count against its own 1 s budget (before, they "could not be checked in time")
    import random
    import time
    from concurrent.futures import ThreadPoolExecutor

    from rlvr.verifiers.math import _pool

    rng = random.Random()
    a, b = rng.randrange(10**4, 10**6), rng.randrange(10**4, 10**6)  # not memoised by an earlier run
    honest = f"$\\sin(\\pi/{a})^2 + \\cos(\\pi/{a})^2 = 1$\n$\\tan(\\pi/{b}) \\cdot \\cos(\\pi/{b}) = \\sin(\\pi/{b})$"
    verify_steps("$\\sin(\\pi/6) = \\frac{1}{2}$")  # the workers started
    pool = _pool()
    with ThreadPoolExecutor(2 * pool.size) as ex:
        others = [ex.submit(pool.call, "rlvr.verifiers.timelimit:_sleep_then_return", (1.5, i), timeout=30)
                  for i in range(2 * pool.size)]
        time.sleep(0.2)
        v = verify_steps(honest, timeout=1.0)
        assert [f.result() for f in others] == list(range(2 * pool.size))
    assert v.correct and v.score == 1.0 and v.steps == [1.0, 1.0], v
