"""verify_steps: an operation written in words ends in `n = m` between two plain numbers.

Correct reasoning was failed as false: "The sum of 3, 4, and 5 = 12" was read as the claim
`5 = 12` (the list's commas split the chain), "Then add 5 = 17" as `5 = 17`.
"""

from __future__ import annotations

import pytest

from rlvr.verifiers.steps import RULES_VERSION, find_claims, verify_steps


@pytest.mark.parametrize("text", [
    "The sum of 3, 4, and 5 = 12",
    "The sum of 3 and 4 and 5 = 12",
    "The average of 10, 20 and 30 = 20",
    "The product of 2, 3 and 4 = 24",
    "Then add 5 = 17",
    "Subtract 4 = 8",
    "Doubling 12 = 24",
    "Take away 4 = 8",
    "He buys 3 tickets, each at $4 = $12.",
    "So 2 + 2 = 4, then 4 = 5",  # the tail after "then": no claim (2 + 2 = 4 still is one)
])
def test_the_tail_of_an_operation_in_words_is_no_claim(text):
    assert all(not (left.strip().isdigit() and right.strip().isdigit()) for left, right in find_claims(text))
    verdict = verify_steps(text)
    assert verdict.score == 1.0 and verdict.correct, (text, verdict.reason)


@pytest.mark.parametrize("text, claims", [
    ("4 = 5", [("4", "5")]),                               # on its own: a false claim
    ("3 + 4 = 7 = 8", [("3 + 4", "7"), ("7", "8")]),       # inside a chain
    ("3 + 4 = 7 < 8 = 9", [("3 + 4", "7"), ("8", "9")]),   # after a sign, not text
    ("Then 3 + 4 = 8", [("3 + 4", "8")]),                  # a computation in symbols after a word
    ("We know 0.5 = 1/2", [("0.5", "1/2")]),               # not two plain numbers
    ("We get $5 = 12$", [("5", "12")]),                    # a maths segment: stated in symbols
])
def test_claims_in_symbols_are_still_checked(text, claims):
    assert find_claims(text) == claims
    assert verify_steps(text).score == (1.0 if text.endswith("1/2") else 0.0)


def test_the_rules_version_names_the_change():
    assert RULES_VERSION >= 4
