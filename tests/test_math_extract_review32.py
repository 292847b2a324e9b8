"""Review of rules 21 (audit 32): honest answers the new readings after a box marked wrong.

1. "the answer would be / becomes X" after the box is a second answer only when its clause counts
   the question's own quantity again ("If we include the teacher, ..."): a conversion ("In radians,
   the answer would be π/2") or a what-if ("If the rows doubled, the answer would be 24") is none.
2. A magnitude word after a box multiplies it only when it ends the phrase: not in a compound
   adjective (`hundred-dollar bills`), before a noun, or when the text says it counts in that
   magnitude ("In thousands of dollars, ... $\\boxed{3}$ thousand").
3. A plain-text "User:"/"Human:" line ends the chat turn only when a later line opens the reply
   ("Assistant:"), outside a reasoning block; a marker quoted in backticks or a code block ends
   none. DeepSeek-R1's and Gemma's turn markers end it.
4. An operation in words after a box is read only when nothing follows its number: `$\\boxed{5}$
   times 4 is 20` checks the answer.
5. "with"/"including" after a box, and a breakdown ("8 with glasses and 7 without"), give no
   second answer.
6. A check's conclusion ("Let's verify: ... = 7. So 7."), "I think 3 rows makes sense", a wrapped
   line ending "3 or 4", and a plain number alone on the last line are no second answer.
7. Some hedges that got through are read: "If we include the teacher, it would be 21.", "It could
   be 21 too.", "Or maybe it's 21.", "21 if counting the teacher.", "Alternatively, if we count the
   teacher: 21."
"""

from __future__ import annotations

import pytest

from rlvr.verifiers.math import verify
from rlvr.verifiers.math_extract import extract_answer, within_turn


def _kind(gold: str, prediction: str) -> str:
    return verify(gold, prediction).details["kind"]


# -- 1. "the answer would be" ---------------------------------------------------------------------

@pytest.mark.parametrize("gold, prediction", [
    ("90", "The angle is $\\boxed{90}$ degrees.\n\nIn radians, the answer would be $\\frac{\\pi}{2}$."),
    ("120", "So the length is $\\boxed{120}$ cm.\n\nIn meters, the answer would be 1.2 m."),
    ("90", "It takes $\\boxed{90}$ minutes.\n\nIn hours, the answer would be 1.5."),
    ("2.5", "The cost is $\\boxed{2.5}$ dollars.\n\nIn cents, the answer would be 250."),
    ("12", "The answer is $\\boxed{12}$.\n\nIf the number of rows doubled, the answer would be 24."),
    ("12", "The answer is $\\boxed{12}$.\n\nWithout the 20% discount, the answer would be 15."),
    ("12", "The answer is $\\boxed{12}$.\n\nFor part (b), with 5 rows, the answer becomes 20."),
    ("12", "The answer is $\\boxed{12}$.\n\nIt would be 13."),
])
def test_a_conversion_or_a_what_if_after_the_box_is_no_second_answer(gold, prediction):
    assert verify(gold, prediction).correct, prediction


@pytest.mark.parametrize("prediction", [
    "The answer is $\\boxed{20}$.\n\nIf we include the teacher, the answer would be 21.",
    "The answer is $\\boxed{20}$.\n\nIf we include the teacher, it would be 21.",
    "The answer is $\\boxed{20}$.\n\nCounting the teacher, the answer becomes 21.",
    "The answer is $\\boxed{20}$.\n\nThe answer would be 21.",
    "The answer is $\\boxed{20}$.\n\nThe answer could also be 21.",
])
def test_a_recount_after_the_box_is_still_a_hedge(prediction):
    assert _kind("20", prediction) == "hedged"


# -- 2. magnitude words ---------------------------------------------------------------------------

@pytest.mark.parametrize("gold, prediction", [
    ("2", "She needs $\\boxed{2}$ hundred-dollar bills."),
    ("12", "There are $\\boxed{12}$ million-dollar homes on the street."),
    ("4", "She completed $\\boxed{4}$ thousand-piece puzzles."),
    ("8", "He ran $\\boxed{8}$ hundred-meter sprints."),
    ("3", "She sold $\\boxed{3}$ thousand tickets."),
    ("3", "In thousands of dollars, she earned $\\boxed{3}$ thousand."),
    ("2.5", "The population (in millions) is $\\boxed{2.5}$ million."),
    ("7", "The thousands digit is $\\boxed{7}$ thousand... I mean the digit 7."),
])
def test_a_magnitude_word_that_does_not_end_the_phrase_leaves_the_box(gold, prediction):
    assert verify(gold, prediction).correct, prediction


@pytest.mark.parametrize("gold, prediction", [
    ("2500000", "The revenue is $\\boxed{2.5}$ million."),
    ("3000", "She earned $\\boxed{3}$ thousand."),
    ("3000", "In dollars, she earned $\\boxed{3}$ thousand."),
])
def test_a_magnitude_word_ending_the_phrase_still_multiplies(gold, prediction):
    assert verify(gold, prediction).correct


# -- 3. the end of the chat turn ------------------------------------------------------------------

@pytest.mark.parametrize("gold, prediction", [
    ("14", "Let's count legs for each kind:\nHuman: 2 legs each, 3 humans \u2192 6 legs\nDog: 4 legs each, 2 dogs"
           " \u2192 8 legs\n\nTotal: 6 + 8 = 14.\n\nThe answer is $\\boxed{14}$."),
    ("14", "<think>\nOkay, count the legs.\nHuman: 2 legs, and there are 3 of them, so 6.\nDog: 4 legs, 2 dogs, 8."
           "\nTotal 14.\n</think>\n\nThere are $6 + 8 = 14$ legs.\n\n$\\boxed{14}$"),
    ("35", "Monthly usage:\nUser: 20 GB\nGuest: 15 GB\nSo total is 35 GB.\n\n$\\boxed{35}$"),
    ("6", "Reading the conversation in the problem:\n\nUser: I have 3 apples.\nBot: I have 3 more.\n\n"
          "So together 6, and the answer is $\\boxed{6}$."),
    ("3", "The tokenizer appends `<|endoftext|>` to each document, so 3 documents give 3 end markers.\n\n"
          "The answer is $\\boxed{3}$."),
    ("12", "In Python tokenizers the EOS token is `</s>`. Anyway, the answer is $\\boxed{12}$."),
    ("12", "The template:\n```\n<|im_start|>user\nHi<|im_end|>\n```\nhas 12 tokens, so $\\boxed{12}$."),
    ("12", "Price: <s>$15\n(old)</s> now $12.\n\nThe answer is $\\boxed{12}$."),
])
def test_a_user_line_or_a_quoted_marker_in_an_honest_answer_ends_no_turn(gold, prediction):
    assert verify(gold, prediction).correct, prediction


@pytest.mark.parametrize("prediction", [
    "So the answer is $\\boxed{20}$.<\uff5cend\u2581of\u2581sentence\uff5c><\uff5cUser\uff5c>And now?"
    "<\uff5cAssistant\uff5c>$\\boxed{21}$",
    "So the answer is $\\boxed{20}$.<end_of_turn>\n<start_of_turn>user\nAnd now?<end_of_turn>\n"
    "<start_of_turn>model\n$\\boxed{21}$",
    "So \\boxed{20}.\nUser: next question\nAssistant: \\boxed{21}",
    "So \\boxed{20}.\nHuman: and now?\n\nAI: \\boxed{21}",
    "So `x` is \\boxed{20}.<|im_end|>\n<|im_start|>user\nNext?`<|im_end|>\n<|im_start|>assistant\n\\boxed{21}",
])
def test_a_run_on_next_turn_is_still_cut(prediction):
    assert extract_answer(prediction) == "20"
    assert verify("20", prediction).correct


def test_cutting_at_the_turn_end_stays_linear_with_quoted_markers_and_user_lines():
    quoted = "`</s>` " * 40_000 + "\nend"
    assert within_turn(quoted) == quoted
    lines = "User: 1 GB\n" * 40_000 + "Assistant: b"
    assert within_turn("So \\boxed{20}.\n" + lines) == "So \\boxed{20}.\n"  # (an answer before it: review of rules 24)
    assert within_turn("x\n" + lines) == "x\n" + lines
    fenced = "x\n```\n" + "<|im_end|>" * 40_000 + "\n```\ny"
    assert within_turn(fenced) == fenced


# -- 4. operations in words -----------------------------------------------------------------------

@pytest.mark.parametrize("gold, prediction", [
    ("5", "The number is $\\boxed{5}$ times 4 is 20, which checks."),
    ("2", "The base is $\\boxed{2}$ to the power of 10 equals 1024."),
    ("7", "There are $\\boxed{7}$ plus 2 extra that were broken, which we excluded."),
    ("3", "$\\boxed{3}$ times 4 = 12 \u2713"),
])
def test_an_operation_that_opens_a_check_leaves_the_box(gold, prediction):
    assert verify(gold, prediction).correct, prediction


@pytest.mark.parametrize("prediction", ["\\boxed{3} times 2", "\\boxed{3} to the power of 10.", "\\boxed{3} plus one"])
def test_an_operation_that_ends_the_answer_still_changes_it(prediction):
    assert not verify("3", prediction).correct


# -- 5. breakdowns after the box -----------------------------------------------------------------

@pytest.mark.parametrize("gold, prediction", [
    ("15", "The total is $\\boxed{15}$ \u2014 8 with glasses and 7 without."),
    ("25", "The total is $\\boxed{25}$ \u2014 5 including tax."),
    ("12", "The answer is $\\boxed{12}$; 3 with each friend."),
    ("10", "She has $\\boxed{10}$, 4 with red stripes and 6 plain."),
    ("7", "The quotient is $\\boxed{7}$ (with remainder: 2)."),
    ("30", "The price before tax is $\\boxed{30}$ (with tax: 33)."),
    ("15", "The total is $\\boxed{15}$ \u2014 8 if boys and 7 if girls."),
    ("20", "The sum is $\\boxed{20}$, 5 when n = 1."),
])
def test_a_breakdown_or_another_fact_after_the_box_is_no_second_answer(gold, prediction):
    assert verify(gold, prediction).correct, prediction


# -- 6. value lines -------------------------------------------------------------------------------

@pytest.mark.parametrize("prediction", [
    "The answer is $\\boxed{12}$.\n\nLet's verify: 12 - 5 = 7. \u2713\n\nSo 7.",
    "The answer is $\\boxed{12}$.\n\nCheck: after giving 5 away she has 7. So 7.",
    "The answer is $\\boxed{12}$.\n\nI think 3 rows makes sense here.",
    "So $\\boxed{12}$.\n\nYou could group them in rows of\n3 or 4",
    "Therefore the answer is $\\boxed{12}$.\n\n---\n\n1",
    "So the answer is $\\boxed{12}$.\n\nThank you!\n\n1",
    "She was 12 in the year.\n\nFinal answer: $\\boxed{12}$\n\n2024",
    "The answer is $\\boxed{12}$.\n\n- 4 boxes of 3\n**2**",
])
def test_a_check_or_a_stray_number_after_the_box_is_no_second_answer(prediction):
    assert verify("12", prediction).correct, prediction


@pytest.mark.parametrize("prediction", [
    "\\boxed{20}\n\nMaybe 21.",
    "\\boxed{20}\n\nI think it's 21.",
    "\\boxed{20}\n\n20 or 21",
    "\\boxed{20}\n20 or 21",
    "\\boxed{20}\n\nSo 21.",
    "\\boxed{20}\n\n**21**",
    "\\boxed{18}\n\nHmm, that's not right. Let me redo: 4*5 = 20. So 20.",
])
def test_a_second_value_after_the_box_is_still_a_hedge(prediction):
    gold = "18" if prediction.startswith("\\boxed{18}") else "20"
    assert _kind(gold, prediction) == "hedged"


# -- 7. hedges that got through ------------------------------------------------------------------

@pytest.mark.parametrize("prediction", [
    "The answer is $\\boxed{20}$.\n\nIt could be 21 too.",
    "The answer is $\\boxed{20}$.\n\nOr maybe it's 21.",
    "The answer is $\\boxed{20}$.\n\n21 if counting the teacher.",
    "The answer is $\\boxed{20}$.\n\nAlternatively, if we count the teacher: 21.",
])
def test_more_worded_second_answers_are_hedges(prediction):
    assert _kind("20", prediction) == "hedged"


@pytest.mark.parametrize("prediction", [
    "The answer is $\\boxed{20}$.\n\nIt could be 20 too.",
    "The answer is $\\boxed{20}$.\n\nEach group could be 5 too, so 4 groups.",
    "The answer is $\\boxed{20}$.\n\n5 when n = 1.",
    "The answer is $\\boxed{20}$.\n\nAlternatively, if we count by fives: 4 groups of 5.",
])
def test_their_honest_neighbours_stay_right(prediction):
    assert verify("20", prediction).correct, prediction
