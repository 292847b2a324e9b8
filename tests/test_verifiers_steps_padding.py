"""Process reward cannot be bought with padding: claims that compute nothing and repeated claims.

Found by the session-15 reward-hacking audit: `1 = 1` in front of a wrong answer earned full
process credit, and twenty copies of `2 + 2 = 4` diluted one false step to 0.95.
"""

from __future__ import annotations

import pytest

import rlvr
from rlvr.verifiers.steps import verify_steps

TASK = {"id": "t", "question": "(2 + 3) * 4?", "answer": "20"}


def _process_part(text: str) -> tuple[float, dict]:
    env = rlvr.make("Math-v0", process_reward="steps", reward_weights={"outcome": 1.0, "process": 0.5}).unwrapped
    env.reset(options={"task": TASK})
    *_, info = env.step(text)
    return info["reward_parts"]["process"], info["turn_details"]["process"]["steps"]


def test_a_claim_that_computes_nothing_earns_no_process_credit():
    process, details = _process_part("1 = 1\nThe answer is \\boxed{-987654}.")
    assert process == 0.0 and details["checked_steps"] == 0 and details["steps"] == [None, None]
    # the same for the same text on both sides, and for a number written two ways
    for idle in ("2+2 = 2 + 2", "4 = 4.0", "$7 = 7$"):
        v = verify_steps(idle)
        assert v.steps == [None] and v.details["idle_claims"] == 1 and v.details["claims"] == 0, idle


def test_a_false_claim_that_computes_nothing_still_fails_its_step():
    v = verify_steps("2 + 3 = 5\n4 = 5")
    assert v.steps == [1.0, 0.0] and v.score == pytest.approx(0.5) and not v.correct
    assert "4 = 5" in v.reason


def test_idle_claims_beside_real_work_leave_the_step_scored_by_the_work():
    # `1 = 1.0` computes nothing; `1.0 = \frac{2}{2}` is a (true) computation: the step scores 1
    v = verify_steps("So $1 = 1.0 = \\frac{2}{2}$.\nThen 5 * 4 = 21.")
    assert v.steps == [1.0, 0.0] and v.details["idle_claims"] == 1


def test_repeated_claims_are_judged_once_where_first_stated():
    padded = "\n".join(["2 + 2 = 4"] * 20 + ["7 * 8 = 57"])
    v = verify_steps(padded)
    assert v.steps == [1.0] + [None] * 19 + [0.0]
    assert v.score == pytest.approx(0.5) and v.details["repeated_claims"] == 19
    process, _ = _process_part(padded + "\n\\boxed{20}")
    assert process == pytest.approx(0.5)  # was 20/21 = 0.952 before claims were judged once


def test_a_claim_restated_the_other_way_round_or_spaced_differently_is_a_repeat():
    v = verify_steps("2 + 2 = 4\n4 = 2+2\n$2+2=4$\n3 * 3 = 10")
    assert v.steps == [1.0, None, None, 0.0] and v.details["repeated_claims"] == 2


def test_a_repeated_false_claim_fails_once():
    v = verify_steps("3 * 3 = 10\n2 + 2 = 4\n3 * 3 = 10")
    assert v.steps == [0.0, 1.0, None] and v.score == pytest.approx(0.5)


def test_new_true_arithmetic_still_earns_credit():
    # documented limit: rules cannot tell relevant work from irrelevant
    v = verify_steps("2 + 3 = 5\n2 + 4 = 6\n7 * 8 = 57")
    assert v.steps == [1.0, 1.0, 0.0] and v.score == pytest.approx(2 / 3)


def test_respelled_trivial_claims_compute_nothing():
    # session-16 re-audit P1: `(n) = n` and identity operations earned credit
    v = verify_steps("(1) = 1\n(2) = 2\n(3) = 3\n7 * 8 = 57")
    assert v.steps == [None, None, None, 0.0] and v.score == 0.0
    v = verify_steps("1 = 1^1\n2 = 2\\cdot1\n3 = 3+0\n4 = \\frac41\n5 = |5|\n7 = {7}\n11 = -(-11)\n7 * 8 = 57")
    assert v.steps == [None] * 7 + [0.0] and v.details["idle_claims"] == 7


def test_a_claim_respelled_is_a_repeat():
    # P2: one computation written nine ways counted nine times (0.9 with one false step); `4.00`
    # is no re-spelling since steps rules 5: it may be a rounding (`\\frac{4001}{1000} = 4.00` holds)
    spellings = ["2+2=4", "(2+2)=4", "2+2=(4)", "{2+2}=4", "2+2=4.0", "4 = 2+2", "2 + (2) = 4", "+2+2=4",
                 "2+2=\\boxed{4}"]
    v = verify_steps("\n".join(spellings + ["7 * 8 = 57"]))
    assert v.steps == [1.0] + [None] * 8 + [0.0] and v.score == 0.5


def test_small_computations_still_count():
    v = verify_steps("2 + 3 = 5\n2 + 4 = 6\n1 + 1 = 2\n3 - 3 = 0\n10 / 2 = 5\n0.5 = 1/2")
    assert v.steps == [1.0] * 6


def test_a_comma_between_function_arguments_is_no_thousands_separator():
    # re-audit P3: `\max(3,100)` was read as `\max(3100)`, so `\max(3,100) = 3100` held
    assert verify_steps("$\\max(3,100) = 3100$").steps == [0.0]
    assert verify_steps("$\\gcd(12,180) = 12$").steps == [1.0]
    assert verify_steps("He paid 1,000 + 500 = 1,500 dollars").steps == [1.0]  # prose thousands still go
    assert verify_steps("(1,000 + 500) = 1,500").steps == [1.0]
