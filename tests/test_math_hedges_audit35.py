"""Rules 30: "X is also correct/possible/valid" after the final answer.

Before, the value written as maths setting the answer's variable (`$x = 13$`) was read as an
equation the grader could not place, so the second answer was missed and the box alone graded
right; and any number before "is also correct" was a second answer, even another variable's value
(`k = 2`) or a numbered part of the working ("Method 2"), which made right answers hedges.
"""

import pytest

from rlvr.verifiers.math import verify

HEDGES = [
    "The answer is \\boxed{12}. $x = 13$ is also correct.",
    "The answer is \\boxed{12}. \\(x = 13\\) is also correct.",
    "The answer is \\boxed{12}. $n = 13$ would also be valid.",
    "The answer is \\boxed{12}. x = 13 is also correct.",
    "The answer is \\boxed{12}. $13$ is also correct.",
    "\\boxed{12}, though 13 is also possible.",
    "\\boxed{B}. Option C is also correct.",
]

RIGHT = [
    "The answer is \\boxed{12}. $x = 12$ is also correct.",
    "The answer is \\boxed{12}. $k = 2$ is also correct.",
    "The answer is \\boxed{12}. k = 2 is also valid.",
    "The answer is \\boxed{12}. Method 2 is also correct.",
    "The answer is \\boxed{12}. Step 3 is also valid.",
    "The answer is \\boxed{12}. Case 2 is also possible.",
]


@pytest.mark.parametrize("text", HEDGES)
def test_a_second_value_said_to_be_also_right_is_a_hedge(text):
    gold = "B" if "Option" in text else "12"
    verdict = verify(gold, text)
    assert verdict.score == 0.0, verdict


@pytest.mark.parametrize("text", RIGHT)
def test_the_same_value_another_variable_or_a_numbered_part_is_no_second_answer(text):
    verdict = verify("12", text)
    assert verdict.score == 1.0, verdict


def test_the_hedge_is_not_graded_right_for_the_second_value_either():
    assert verify("13", HEDGES[0]).score == 0.0
