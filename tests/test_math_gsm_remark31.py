"""Math rules 19: a remark after a `####` answer is read as after "the answer is".

GSM8K-style solutions end in `#### n`; a model that adds a remark (`#### 12 (twelve)`) was graded on
`12 (twelve)` read as a product of letters, a right answer scored wrong, while "The answer is 12
(twelve)." already read 12. A remark that names another value or takes the answer back stays part
of it, as it does after "the answer is"."""
from __future__ import annotations

import pytest

from rlvr.verifiers.math import RULES_VERSION, verify


@pytest.mark.parametrize("completion", [
    "#### 12 (twelve)",
    "#### 12 (apples)",
    "#### 12; I am sure",
    "Adding them up gives 12.\n#### 12 (twelve)\n",
    "#### 12\n#### 12 (twelve)",
    "<answer>#### 12 (twelve)</answer>",
    "#### 12 (in total)",
])
def test_a_remark_after_a_gsm_answer_is_not_part_of_it(completion):
    verdict = verify("12", completion)
    assert verdict.correct, (completion, verdict.reason)


@pytest.mark.parametrize("completion", [
    "#### 12 (thirteen)",       # names another value: a hedge between two
    "#### 12 (wrong)",          # takes it back
    "#### 12 (just kidding)",
    "#### 12\n#### 13 (thirteen)",
    # a remark that qualifies the answer (review of rules 19): an approximation, bound, hedge or base
    "#### 12 (approx)", "#### 12 (nearly)", "#### 12 (upper bound)", "#### 12 (tentative)",
    "#### 12; I think", "#### 12 (hex)", "#### 12 (in binary)", "<answer>#### 12 (approx)</answer>",
    "The answer is 12 (approx).", "The answer is 12 (almost).",
])
def test_a_remark_naming_another_value_or_retracting_still_counts(completion):
    verdict = verify("12", completion)
    assert not verdict.correct, (completion, verdict.reason)


def test_the_other_value_named_alone_is_not_right_either():
    assert not verify("13", "#### 12 (thirteen)").correct


def test_rules_version_is_bumped():
    assert RULES_VERSION >= 19
