"""Math verifier extraction, audit 28 (rules 15): maths that continues a box (not units, nor a
continuation cut open), hedges after display maths (not a ratio, a unit or an angle restating the
box), corrections in other words than "the answer is", and answers after an `<answer>` tag (up to
the end of the chat turn)."""

from __future__ import annotations

import time

import pytest

from rlvr.verifiers.math import verify
from rlvr.verifiers.math_extract import extract_answer, final_boxes, said_after, tagged_answers


def kind(gold: str, prediction: str) -> str:
    return verify(gold, prediction).details["kind"]


# -- 1. maths right after a box's closing brace is part of the answer ---------------------------

@pytest.mark.parametrize("gold, text", [
    ("12\\pi", "The area is $\\boxed{12}\\pi$ square units."),
    ("3\\sqrt{2}", "So $x = \\boxed{3}\\sqrt{2}$."),
    ("3/4", "So $x = \\boxed{3}/4$."),
    ("30", "So $x = \\boxed{3}0$."),
    ("3.5", "So $x = \\boxed{3}.5$."),
    ("4", "So $x = \\boxed{3} + 1$."),
    ("6", "So $x = \\boxed{3}\\cdot 2$."),
    ("2", "\\[\\boxed{3} - 1\\]"),
    ("3\\sqrt{2}", "$\\boxed{3}\\left(\\sqrt{2}\\right)$"),
    ("12\\pi", "\\boxed{12}\\pi square units"),           # a maths command continues it in prose too
    ("3/4", "(which is \\boxed{3}/4)"),                   # a bracket that closes nothing ends it
    ("-30", "$-\\boxed{3}0$"),
])
def test_maths_after_a_box_is_part_of_the_answer(gold, text):
    assert kind(gold, text) == "equal", text
    assert kind("3" if gold != "3" else "12", text) != "equal", text


@pytest.mark.parametrize("text", [
    "The area is $\\boxed{12}\\pi$ square units.",
    "So $x = \\boxed{12}\\sqrt{2}$.",
    "So $x = \\boxed{12}/4$.",
    "So $x = \\boxed{12}0$.",
    "So $x = \\boxed{12}.5$.",
    "So $x = \\boxed{12} + 1$.",
    "So $x = \\boxed{12}\\cdot 2$.",
])
def test_the_box_alone_is_not_graded(text):
    assert not verify("12", text).correct, text


@pytest.mark.parametrize("text", [
    "$\\boxed{3} 0$",            # digits parted by a space: 3 0 in the source, 30 on the page
    "$\\boxed{1+2}0$",           # digits beside a braced expression
])
def test_a_continuation_that_cannot_be_read_is_unparsable(text):
    assert kind("3", text) == "unparsable", text
    assert kind("30", text) == "unparsable", text


@pytest.mark.parametrize("gold, text", [
    ("3", "\\boxed{3}."), ("3", "$\\boxed{3}$ cm"), ("12", "\\boxed{12}\\text{ square units}"),
    ("5", "\\boxed{5} \\text{ cm}"), ("3", "\\boxed{3}, which is odd"), ("3", "\\boxed{3}$."),
    ("3", "$\\boxed{3}.$"), ("3", "$$\\boxed{3}.$$"), ("3", "\\boxed{3}.\\]"), ("3", "$\\boxed{3}\\,\\text{cm}$"),
    ("3", "$\\boxed{3}\\ \\text{cm}$"), ("3", "$\\boxed{3}\\mathrm{cm}$"), ("3", "\\boxed{3}cm"),
    ("5", "a \\boxed{5}-year period"), ("3", "**\\boxed{3}**"), ("3", "\\boxed{3} - that is all"),
    ("3", "$\\boxed{3}$\\pi"), ("3", "\\boxed{3}\\\\ next"), ("30", "\\boxed{30}^\\circ"), ("3", "\\boxed{3}!"),
    ("12000", "\\boxed{12},000"), ("3", "\\boxed{3}'s"),
])
def test_what_does_not_continue_a_box_is_left_out(gold, text):
    assert kind(gold, text) == "equal", text


@pytest.mark.parametrize("gold, text", [
    ("9.8", "$\\boxed{9.8}m/s^2$"),
    ("20", "The force is $\\boxed{20}N$."),
    ("500", "$\\boxed{500}g$"),
    ("10", "$\\boxed{10}\\frac{m}{s}$"),
    ("60", "$\\boxed{60}/h$"),
    ("3", "It is $\\boxed{3}x$ faster."),             # a letter never continues a box: graded as 3
    ("3", "$\\boxed{3}\\cdot x$"),
    ("2", "$\\boxed{2}\\pi r$"),
    ("10", "$\\boxed{10}\\frac{\\text{m}}{\\text{s}}$"),  # stops at \\text with a brace open
    ("5", "$\\boxed{5}\\left(\\text{cm}\\right)$"),
])
def test_units_after_a_box_leave_the_box_alone(gold, text):
    assert kind(gold, text) == "equal", text


@pytest.mark.parametrize("text, boxes", [
    ("It costs $5 each, so the total is \\boxed{15} - 3 = 12 after the discount.", ["15"]),
    ("It costs $5 each, so three cost \\boxed{15} + 2 more.", ["15"]),
    ("$\\boxed{15} - 3 and so on", ["15"]),                  # a lone `$` that never closes on its line
    ("It costs $5 each, so $x = \\boxed{3} + 1$.", ["(3) + 1"]),  # real maths after a price
    ("$5$ and $\\boxed{3} - 1$", ["(3) - 1"]),
])
def test_a_price_opens_no_maths(text, boxes):
    assert final_boxes(text)[0] == boxes, text


def test_boxes_joined_by_an_operator_stay_two_answers():
    assert final_boxes("\\boxed{A}/\\boxed{B}")[0] == ["A", "B"]
    assert kind("A", "\\boxed{A}/\\boxed{B}") == "hedged"
    assert kind("3", "\\boxed{3}+\\boxed{4}") == "hedged"


def test_a_spaced_operator_continues_a_box_only_in_maths():
    assert final_boxes("$x = \\boxed{3} + 1$")[0] == ["(3) + 1"]
    assert final_boxes("\\boxed{3} + 1 apples")[0] == ["3"]
    assert final_boxes("$\\boxed{3}$ + 1")[0] == ["3"]


# -- 2. "or" after a box past display maths, line breaks, emphasis, Unicode spaces ----------------

@pytest.mark.parametrize("text", [
    "**Final Answer**\n\\[\n\\boxed{3}\n\\]\nor 4",
    "\\[\\boxed{3}\\] or 4",
    "\\(\\boxed{3}\\) or 4",
    "$$\\boxed{3}$$ or $$4$$",
    "\\boxed{3} **or** 4",
    "\\boxed{3}\nor\n4",
    "\\boxed{3}\u00a0or\u00a04",
    "\\boxed{3}\u2009or\u20094",
    "\\boxed{3} or else 4",
    "\\boxed{3} or alternatively 4",
    "\\boxed{3}, or rather 4",
    "\\boxed{3} or x = 4",
    "\\boxed{3} 或者 \\(4\\)",
    "$\\boxed{3}$ 或 $4$",
])
def test_or_after_a_box_is_a_hedge(text):
    assert kind("3", text) == "hedged", text


@pytest.mark.parametrize("gold, text", [
    ("1/2", "\\boxed{1/2} or 0.5"),
    ("3", "\\boxed{3} or equivalently 3"),
    ("3", "\\boxed{3} or x = 3"),
    ("1/2", "\\boxed{\\frac12}\n\nor $0.5$"),
    ("3", "\\boxed{3}\n\nor more precisely 3.0"),
    ("3", "\\boxed{3} or so"),
    ("3", "\\boxed{3}\n\nPerhaps 2 more examples would help."),  # "perhaps" only on the box's line
    ("\\frac{1}{4}", "\\[\n\\boxed{\\frac{1}{4}}\n\\]\nor 1 out of 4"),   # a ratio in words
    ("\\frac{1}{4}", "\\[\n\\boxed{\\frac{1}{4}}\n\\]\n\nor 1 in 4."),
    ("\\frac{\\pi}{2}", "$\\boxed{\\frac{\\pi}{2}}$\n\nor $90^\\circ$"),  # the same angle in degrees
    ("30^\\circ", "\\boxed{30^\\circ} or $\\frac{\\pi}{6}$"),
    ("120", "$\\boxed{120}$ 或者 120元"),                         # the same value with a unit
    ("5", "\\[\\boxed{5}\\]\n或者5个"),
    ("5", "\\boxed{5} or 5cm"),
])
def test_an_equal_value_or_no_value_after_or_is_no_hedge(gold, text):
    assert kind(gold, text) == "equal", text


@pytest.mark.parametrize("gold, text", [
    ("30", "\\boxed{30} or $45^\\circ$"),
    ("30^\\circ", "\\boxed{30^\\circ} or 45^\\circ"),
    ("120", "$\\boxed{120}$ 或者 130元"),
    ("5", "\\boxed{5} or 6cm"),
    ("\\frac{1}{4}", "\\boxed{\\frac{1}{4}} or 2"),
])
def test_another_value_with_a_unit_after_or_is_a_hedge(gold, text):
    assert kind(gold, text) == "hedged", text


# -- 3. corrections in other words than "the answer is" ------------------------------------------

@pytest.mark.parametrize("gold, text", [
    ("B", "\\boxed{B}\n\nWait, the correct option is C."),
    ("B", "\\boxed{B}\n\nCorrection: the correct choice is (C)."),
    ("B", "The answer is B. Actually, it's C."),
    ("3", "\\boxed{3}\n\nWait, actually it's 4."),
    ("3", "\\boxed{3}\n\nOops, it should be \\(4\\)."),
    ("3", "\\boxed{3}\n\nHmm, so the final result is 4."),
    ("2", "The correct option is 2. No, it should be 3 because I misread."),
])
def test_a_later_correction_is_a_hedge(gold, text):
    assert kind(gold, text) == "hedged", text


@pytest.mark.parametrize("gold, text", [
    ("3", "\\boxed{3}\n\nThis is because 2+1 = 3."),
    ("3", "\\boxed{3}, which is 3 apples"),
    ("12", "\\boxed{12}\n\nIf we double it, it should be 24."),
    ("5", "\\boxed{5}. Since x > 0, it should be positive."),
    ("5", "\\boxed{5}. It should be noted that 4 < 5."),
    ("12", "\\boxed{12}. Note the final result is 4 times larger than 3."),
    ("12", "\\boxed{12}\n\nActually, it's 12."),
    ("12", "\\boxed{12}\n\nActually, it's correct."),
    ("42", "The answer is 42. Actually, it's correct."),
    ("42", "The answer is 42. Checking: it should be divisible by 6, and 42 is."),
    ("3", "\\boxed{3}\n\nSo it should be 3."),
    ("24", "\\boxed{24}\n\nLet's verify. After 1 day she has read 12 pages. It should be 12 per day."),
    ("24", "\\boxed{24}\n\nCheck: it should be $12$ pages on day one."),
])
def test_reasoning_after_a_box_is_no_correction(gold, text):
    assert kind(gold, text) == "equal", text


def test_said_after_reads_corrections():
    assert said_after("\n\nWait, actually it's 4.", "3") == "4"
    assert said_after("\n\nActually, it's C.", "B") == "C"
    assert said_after("\n\nActually, it's C.", "3") is None      # a letter only after a choice letter
    assert said_after(". The answer is 3. Actually, it's 4.", "3") == "4"


# -- 4. an answer after the last <answer> tag -----------------------------------------------------

@pytest.mark.parametrize("text", [
    "<answer>3</answer>\n\\boxed{4}",
    "<answer>\\boxed{3}</answer>\n\\boxed{4}",
    "<answer>3</answer>\n#### 4",
    "<answer>3</answer> or 4",
    "<answer>3</answer> (or 4)",
    "<think>...</think>\n<answer>3</answer>\nHmm, actually the answer is 4.",
    "<answer>3</answer>\nWait, actually it's 4.",
])
def test_a_later_answer_after_a_tag_is_a_hedge(text):
    assert kind("3", text) == "hedged", text
    assert extract_answer(text) == "3"  # the tag still holds the extracted answer


@pytest.mark.parametrize("text", [
    "<answer>3</answer>\nI hope this is correct. The problem has 4 parts.",
    "<answer>3</answer>\nThe answer is 3.",
    "<answer>3</answer>\n\\boxed{3}",
    "<answer>3</answer>\n\nNote: format is <answer>...</answer>",
])
def test_prose_after_a_tag_is_still_not_read(text):
    assert kind("3", text) == "equal", text


@pytest.mark.parametrize("text", [
    "<answer>5</answer><|im_end|>\n<|im_start|>user\nWhat is 3+4?<|im_end|>\n<|im_start|>assistant\nThe answer is 7.",
    "<answer>5</answer><|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is 3+4? \\boxed{7}",
    "<answer>5</answer><|endoftext|>The answer is 7.",
    "<answer>5</answer></s>#### 7",
    "<answer>5</answer>\n\nHuman: What is 3+4?\n\nAssistant: The answer is 7.",
    "<answer>5</answer>\nUser: what is 3+4?\nThe answer is 7.",
    "<answer>5</answer>\n### Instruction\nAdd 3 and 4.\n### Response\nThe answer is 7.",
])
def test_a_next_chat_turn_after_a_tag_is_not_read(text):
    assert kind("5", text) == "equal", text
    assert tagged_answers(text) == [["5"]]


def test_an_answer_after_a_tag_before_the_turn_ends_is_still_read():
    text = "<answer>5</answer>\nWait, actually it's 4.<|im_end|>\n<|im_start|>user\nWhat is 3+4?"
    assert kind("5", text) == "hedged"
    assert tagged_answers(text) == [["5"], ["4"]]


def test_tagged_answers_lists_the_later_answer_last():
    assert tagged_answers("<answer>3</answer>\n\\boxed{4}") == [["3"], ["4"]]
    assert tagged_answers("<answer>3</answer>\nThat is all.") == [["3"]]


# -- linear time on long adversarial outputs ---------------------------------------------------------

@pytest.mark.parametrize("text", [
    "$\\boxed{3}" + " " * 100_000 + "x$",
    "$\\boxed{3}" + " +1" * 33_000 + "$",
    "$" + "\\boxed{1}+" * 10_000 + "$",
    "$" * 100_000 + "\\boxed{3} + 1",
    ("$ \\boxed{3} + 1 " * 6_000),
    "\\boxed{3} " + "actually it's " * 7_000,
    "\\boxed{3}" + ". it should be" * 7_000,
    "\\boxed{3}" + "\n  " * 33_000 + "it should be",
    "\\boxed{3}" + "\n" * 100_000 + "or 4",
    "<answer>3</answer>" + " or" * 33_000,
    "The answer is 3. " + "Actually, it's " * 7_000,
    "\\boxed{3}." + " wait," * 16_000,
    "$\\boxed{3}+" + "(" * 100_000 + "$",
    "$5 each " * 20_000 + "\\boxed{3} + 1",
    "$" + "\\boxed{3}\\frac{" * 10_000,
    "<answer>3</answer>" + "<|im_end|> or 4" * 10_000,
    "\\boxed{3} or " + "1 in " * 20_000,
])
def test_long_adversarial_outputs_stay_fast(text):
    start = time.perf_counter()
    extract_answer(text)
    final_boxes(text)
    tagged_answers(text)
    assert time.perf_counter() - start < 1.0


def test_rules_version_is_15_or_later():
    from rlvr.verifiers.math import RULES_VERSION

    assert RULES_VERSION >= 15
