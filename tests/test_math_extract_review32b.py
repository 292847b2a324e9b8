"""Second review of rules 21/24 (audit 32): honest answers the readings after a box marked wrong.

1. A negative value restated on its own line (`**-3**`, `*-3*`, "-3 if x must be negative.") is that
   value: the minus is no bullet's dash.
2. A condition label before a value on the last line ("If inclusive: 13") is another answer only
   when it counts the answer's own quantity again: a case of a formula ("When n = 1: 3"), a
   scenario, a conversion, a list item, "With tax: 12.96" are none.
3. A plain "User:" line cuts a run-on turn only: not in a code block, a quoted chat log or a
   prompt echo (no answer before it).
4. A turn token in a reasoning block, an indented code line, a `~~~` fence, a ``double-backtick``
   span or a long strike-through ends no turn.
5. "(if rounded to the nearest whole number, 13)" after `\\boxed{12.5}` is its rounding.
6. An operation in words before a bracket or a comma ("plus 1 (the teacher)") is a remark.
"""

from __future__ import annotations

import time

import pytest

from rlvr.verifiers.math import verify
from rlvr.verifiers.math_extract import within_turn


@pytest.mark.parametrize("gold, prediction", [
    ("-3", "Solving $2x + 6 = 0$ gives $x = \\boxed{-3}$.\n\n**-3**"),
    ("-3", "$$\\boxed{-3}$$\n\n**-3**"),
    ("-3", "The answer is $\\boxed{-3}$.\n\n*-3*"),
    ("-0.5", "The slope is $\\boxed{-0.5}$.\n\n**-0.5**"),
    ("-1/2", "The slope is $\\boxed{-\\frac{1}{2}}$.\n\n**-0.5**"),
    ("-3", "The answer is $\\boxed{-3}$.\n\n-3 if x must be negative."),
])
def test_a_negative_value_restated_on_its_line_is_the_same_answer(gold, prediction):
    assert verify(gold, prediction).correct, prediction


def test_a_negative_answer_then_its_absolute_value_is_still_a_hedge():
    assert not verify("-3", "The answer is $\\boxed{-3}$.\n\n**3**").correct


@pytest.mark.parametrize("gold, prediction", [
    ("5", "The value at $n=2$ is $\\boxed{5}$.\n\nWhen n = 1: 3."),
    ("385", "So the sum is $\\boxed{385}$.\n\nSanity check of the formula on small cases:\n- When n = 1: 1\n- When n = 2: 5"),
    ("120", "She will have saved $\\boxed{120}$ dollars after 12 weeks.\n\n**Other scenarios:**\n"
            "- If she saves for 6 weeks: 60\n- If she saves for 24 weeks: 240"),
    ("12", "**Answer:** $\\boxed{12}$\n\n- Before tax: 12\n- With tax: 12.96"),
    ("12", "**Answer:** $\\boxed{12}$\n\n**Breakdown:**\n- Original price: 15\n- Discount: 3\n- Without the discount: 15"),
    ("2", "The trip takes $\\boxed{2}$ hours.\n\nWhen converted to minutes: 120."),
    ("365", "There are $\\boxed{365}$ days in a common year.\n\nAssuming a leap year: 366."),
    ("12", "**Answer:** $\\boxed{12}$\n\n**Other scenarios:**\n- If each box held 5 pens: 15"),
    ("5", "The value at $n=2$ is $\\boxed{5}$.\n\n- When n = 1: 3"),
])
def test_a_case_a_scenario_or_a_conversion_line_is_no_second_answer(gold, prediction):
    assert verify(gold, prediction).correct, prediction


@pytest.mark.parametrize("prediction", [
    "$\\boxed{12}$\n\nIf inclusive: 13.",
    "$\\boxed{12}$\n\nIf we count the teacher: 13",
    "$\\boxed{12}$\n\nOtherwise: 13.",
    "$\\boxed{12}$\n\n13 if counting the teacher.",
])
def test_a_recount_on_the_last_line_is_still_a_hedge(prediction):
    assert not verify("12", prediction).correct, prediction


@pytest.mark.parametrize("gold, prediction", [
    ("4", "Here is the chat log to count:\n\n```\nUser: hi\nAssistant: hello\nUser: bye\nAssistant: bye\n```\n\n"
          "There are $\\boxed{4}$ messages."),
    ("4", "Let's list the messages:\nUser: Hi\nAssistant: Hello!\nUser: How are you?\nAssistant: Fine.\n\n"
          "There are $\\boxed{4}$ messages in total."),
    ("2", "The conversation is:\nHuman: What is 2+2?\nAI: 4\n\nHuman spoke once and AI once, so there are $\\boxed{2}$ turns."),
    ("12", "System: You are a math tutor.\nUser: What is 3*4?\nAssistant: The answer is $\\boxed{12}$."),
])
def test_a_quoted_chat_log_or_a_prompt_echo_ends_no_turn(gold, prediction):
    assert verify(gold, prediction).correct, prediction


def test_a_run_on_plain_text_turn_after_an_answer_is_still_cut():
    prediction = "The answer is $\\boxed{3}$.\n\nHuman: what about 4 apples?\n\nAssistant: The answer is $\\boxed{4}$."
    assert verify("3", prediction).correct
    assert within_turn(prediction) == "The answer is $\\boxed{3}$.\n\n"


@pytest.mark.parametrize("gold, prediction", [
    ("12", "<think>\nThe problem mentions the token </s> as a separator, 3 per line and 4 lines so 12.\n</think>\n\n"
           "There are $\\boxed{12}$ separators."),
    ("12", "<think>\nThe format uses <|im_end|> tokens. 3*4=12\n</think>\n\nThe answer is $\\boxed{12}$."),
    ("12", "The format uses <|im_end|> tokens. 3*4=12\n</think>\n\nThe answer is $\\boxed{12}$."),
    ("3", "Splitting on the EOS marker:\n\n    parts = s.split(\"</s>\")\n\ngives $\\boxed{3}$ parts."),
    ("3", "~~~python\nparts = s.split('</s>')\n~~~\n\nSo $\\boxed{3}$ parts."),
    ("3", "The separator ``</s>`` appears twice in ``a</s>b</s>c``, so $\\boxed{3}$ parts."),
    ("6", "The price was <s>\\$5 per item, which we computed from the old catalog listing that the store had "
          "published last year before the price changes came into effect in January, making every item cost more "
          "than before, so this value is outdated</s> \\$6 per item.\n\nSo each item costs $\\boxed{6}$ dollars."),
])
def test_a_quoted_turn_token_ends_no_turn(gold, prediction):
    assert verify(gold, prediction).correct, prediction


@pytest.mark.parametrize("prediction", [
    "<think>3*4=12</think>\n\nSo the answer is $\\boxed{12}$.<|im_end|>\n<|im_start|>user\nAnd 5*5?<|im_end|>\n"
    "<|im_start|>assistant\n<think>5*5=25</think>\n\n$\\boxed{25}$",
    "3*4=12</think>\n\nSo the answer is $\\boxed{12}$.<\uff5cend\u2581of\u2581sentence\uff5c><\uff5cUser\uff5c>And 5*5?"
    "<\uff5cAssistant\uff5c>5*5=25</think>\n\n$\\boxed{25}$",
    "So the answer is $\\boxed{12}$.\n~~~\n</s>\n~~~\n\n</s>User: next\n$\\boxed{25}$",
])
def test_a_token_after_the_reasoning_still_ends_the_turn(prediction):
    assert verify("12", prediction).correct, prediction


@pytest.mark.parametrize("gold, prediction", [
    ("12.5", "The average is $\\boxed{12.5}$ (if rounded to the nearest whole number, 13)."),
    ("12.5", "The average is $\\boxed{12.5}$ (when rounded, 13)."),
    ("12.5", "The average is $\\boxed{12.5}$.\n\nIf rounded to the nearest whole number: 13."),
])
def test_a_rounding_of_the_answer_under_a_condition_is_no_second_answer(gold, prediction):
    assert verify(gold, prediction).correct, prediction


def test_a_condition_with_another_value_than_a_rounding_is_still_a_hedge():
    assert not verify("12.5", "The average is $\\boxed{12.5}$ (if rounded, 15).").correct


@pytest.mark.parametrize("gold, prediction", [
    ("6", "The answer is $\\boxed{6}$ plus 1 (the teacher) if you include her, but the question asks for students only."),
    ("7", "Final answer: $\\boxed{7}$ minus 0, i.e., 7."),
])
def test_an_operation_before_a_bracket_or_a_comma_is_a_remark(gold, prediction):
    assert verify(gold, prediction).correct, prediction


def test_the_turn_end_checks_stay_linear():
    texts = [
        "<think>" + "a </s> <think> b </think> " * 8_000 + "\\boxed{12}",
        "a </s> " * 30_000 + "</think>\\boxed{12}",
        "<s>" + "x" * 200_000 + "</s> \\boxed{12}",
        "<s>" + "`</s>` " * 30_000 + "\\boxed{12}",
        "\\boxed{12}" + "\n    </s>" * 20_000,
        "\\boxed{12}" + "\n~~~\n</s>\n````\n" * 12_000,
        "\\boxed{12}\n" + "``a</s>``" * 20_000,
        "x" + "\nUser: 1\nAssistant: 2" * 10_000,
    ]
    started = time.perf_counter()
    for text in texts:
        within_turn(text)
    assert time.perf_counter() - started < 2.0
