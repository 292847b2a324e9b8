"""`boxed_reward`'s quick answers (a text without "box", a plain box with a digit) give exactly
what its rule gives: 1.0 when `last_box` finds a box that holds something, else 0.0.

The quick paths exist because a format reward is scored on every env step (see
`benchmarks/perf/env_bench.py`); they must never change a reward."""

from __future__ import annotations

import itertools

import pytest

from rlvr.verifiers.shaping import _holds_something, boxed_reward, last_box

BOXES = ["\\boxed{7}", "\\boxed{}", "\\boxed{\\phantom{0}}", "\\fbox{12}", "\\framebox{x}", "\\framebox[2cm]{3}",
         "\\boxed 5", "\\boxed{\\text{}}", "\\boxed{²}", "\\boxed{\u0663}", "\\boxed{x^2}", "\\boxed{\\frac{1}{2}}",
         "\\boxed{{}}", "\\boxed{", "\\Boxed{4}", "box{4}", ""]
AROUND = ["", "The answer is ", "<think>\\boxed{1}</think>\nSo ", "#### 6\n", "Answer: "]
AFTER = ["", ".", "<|im_end|><|im_start|>user\nNext?<|im_start|>assistant\\boxed{9}", " or 5", "</think>"]


@pytest.mark.parametrize("before,box,after", list(itertools.product(AROUND, BOXES, AFTER)))
def test_boxed_reward_is_its_rule(before: str, box: str, after: str) -> None:
    text = before + box + after
    assert boxed_reward(text) == (1.0 if last_box(text) is not None else 0.0), text


def test_a_text_without_any_box_scores_zero_and_one_with_a_box_command_is_read() -> None:
    assert boxed_reward("#### 42") == 0.0
    assert boxed_reward("The answer is 42, no box here.") == 0.0
    assert boxed_reward("so \\fbox{42}") == 1.0  # no "\\boxed" in it, still a box
    assert boxed_reward("so \\framebox{42}") == 1.0


@pytest.mark.parametrize("content,shows", [("42", True), ("²", True), ("\u0663", True), ("x", True), ("", False),
                                           (" ", False), ("\\phantom{0}", False), ("{}", False)])
def test_a_box_content_shows_a_digit_of_any_script(content: str, shows: bool) -> None:
    """`str.isdigit` counts superscripts and other scripts' digits: the quick test for a digit must too."""
    assert _holds_something(content) is shows
