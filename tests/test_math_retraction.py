"""Math verifier, rules 18: a retraction in words after the final answer ("The answer is 18. Wait,
no, it's 20.") names one more final answer, as a correction in other words ("actually, it's 20")
does: a value that differs from the answer makes the output a hedge, one that restates it changes
nothing. Self-checks, apologies about a step and "no" as an ordinary word are no retraction."""

from __future__ import annotations

import time

import pytest

from rlvr.verifiers.math import RULES_VERSION, verify
from rlvr.verifiers.math_extract import final_boxes, said_after, stated_answers
from rlvr.verifiers.math_retraction import readable_value, retraction


def kind(gold: str, prediction: str) -> str:
    return verify(gold, prediction).details["kind"]


#: Retractions of 18 that name 20, after each way of stating a final answer.
RETRACTIONS = [
    "Wait, no, it is 20.",
    "Wait — no, it's 20.",
    "Wait... no, it's 20.",
    "Wait, no. It's 20.",
    "Wait, no.\nIt's 20.",
    "No! It's 20.",
    "No, it's 20.",
    "No. It's 20.",
    "**Wait**, no, it is 20.",
    "Hmm, no: 20.",
    "Hmm, wait, no — 20.",
    "Uh, no, 20.",
    "Actually no, it's 20.",
    "No wait, it's 20.",
    "My mistake, it's 20.",
    "Scratch that, it's 20.",
    "Oops — 20.",
    "Oops! 20.",
    "Oops!\nIt's 20.",
    "Sorry, 20.",
    "My apologies — it's 20.",
    "Erratum: 20.",
    "Correction: 20.",
    "Let me correct that: 20.",
    "I mean 20.",
    "Oops, I made a mistake. It is 20.",
    "I made a mistake. The correct total is 20.",
    "Wait, I made an error. The answer should be 20.",
    "Wait, that's wrong. It's 20.",
    "Wait, I miscounted. It's 20.",
    "Wait, no, she makes $20.",
    "Wait, no, there are 20.",
    "Wait, no, it's twenty.",
    "Wait, no, it's 20, not 18.",
    "Wait, no, it's 20 because 4 × 5 = 20.",
    "Wait, no, it's 1.5 + 18.5 = 20.",
    "Wait, no, it's \\frac{40}{2}.",
    "Wait, no, it's $\\frac{40}{2}$.",
    "Wait, no, x = 20.",
    "Wait, no, it's 20! Sorry for the confusion.",
]
STATED = ["\\boxed{18}\n\n", "\\boxed{18}. ", "$\\boxed{18}$ ", "The answer is 18. ", "Final Answer: 18. ",
          "#### 18\n", "<answer>18</answer>\n"]


@pytest.mark.parametrize("retracted", RETRACTIONS)
@pytest.mark.parametrize("stated", STATED)
def test_a_retraction_after_the_answer_is_a_hedge(stated, retracted):
    text = stated + retracted
    assert kind("18", text) == "hedged", text  # right, then taken back: never right
    assert kind("20", text) == "hedged", text  # wrong, then another answer: a hedge, as a correction is


@pytest.mark.parametrize("retracted", [
    "Wait, no, it's -20.", "Wait, no, it's 20.5.", "Wait, no, it's .5.", "Wait, no, it's $\\frac{1}{2}$.",
    "Hmm, no, 3 × 6 = 20.",
])
def test_other_values_read_too(retracted):
    assert kind("18", "\\boxed{18}\n\n" + retracted) == "hedged", retracted


def test_said_after_gives_the_retracted_value():
    assert said_after("\n\nWait, no, it's 20.", "18") == "20"
    assert said_after("\n\nWait, no, it's twenty.", "18") == "20"
    assert said_after("\n\nWait, no, it's 1.5 + 18.5 = 20.", "18") == "20"
    assert said_after("\n\nWait, no, it's \\frac{40}{2}.", "18") == "\\frac{40}{2}"
    assert said_after("\n\nWait, no, let me verify: 3 × 6 = 18.", "18") is None


def test_a_retraction_to_an_equal_value_changes_nothing():
    assert kind("20", "\\boxed{20}. Wait, no, it's \\frac{40}{2}.") == "equal"
    assert kind("20", "\\boxed{20}. Hmm, no, x = 20.") == "equal"
    assert kind("20", "\\boxed{20}. Wait, no, it's twenty.") == "equal"
    assert kind("y=2x+3", "\\boxed{y=2x+3}. Hmm, no, y = 2x + 3.") == "equal"   # an equation is kept whole
    assert kind("y=2x+3", "\\boxed{y=2x+3}. Hmm, no, y = 2x + 4.") == "hedged"


def test_a_letter_is_read_only_after_a_letter():
    assert kind("B", "The answer is B. Wait, no, it's C.") == "hedged"
    assert kind("C", "The answer is B. Wait, no, it's C.") == "hedged"
    assert kind("C", "The answer is (B). Sorry, (C).") == "hedged"
    assert kind("B", "\\boxed{B}. Sorry, B.") == "equal"
    assert kind("3", "\\boxed{3}. Sorry, C.") == "equal"    # after a number a letter is no value
    assert said_after(" Wait, no, it's C.", "3") is None


def test_the_gsm_mark_reads_corrections_after_it():
    assert stated_answers("#### 18\nWait, no, it's 20.") == ["18", "20"]
    assert stated_answers("#### 18\nActually, it's 20.") == ["18", "20"]
    assert stated_answers("#### 18\nWait, no, it's 18.") is None
    assert stated_answers("#### 18\nWait, no, let me verify: 3 × 6 = 18.") is None


def test_an_answer_stated_again_after_the_retraction_supersedes_it():
    assert kind("18", "The answer is 18. Wait, no, it's 20. So the answer is 18.") == "equal"
    assert kind("18", "\\boxed{18}. Wait, no, it's 20. So the answer is 18.") == "equal"
    assert kind("18", "\\boxed{18}. Wait, no, it's 20. So the answer is 20.") == "hedged"


#: Correct answers followed by self-checks, apologies about a step and "no" as an ordinary word,
#: in the styles of real models' outputs (Qwen, DeepSeek-R1, Llama): none retracts the answer.
NOT_RETRACTIONS = [
    "No, wait—let me double-check: 3 × 6 = 18. Yes.",
    "Wait, no, let me verify: 6 + 12 = 18.",
    "Hmm, no, let me re-check step 2: 2 * 9 = 18. Correct.",
    "Sorry, I forgot to mention the units: 18 dollars.",
    "No. of apples: 18",
    "No. 1: 18 is even.",
    "No. 5 is odd, but that is beside the point.",
    "No 2 ways about it.",
    "No 3 cars can fit, so 18 it is.",
    "No 5-year-old could do this, but it's 18.",
    "Oh no, 2 hours have passed!",
    "Hmm, no further simplification is possible.",
    "Ah, no remainder either: 36 / 2 = 18 exactly.",
    "Oh, no need to convert units: 1080 minutes is 18 hours.",
    "Oops, typo above in step 3, but the answer stands.",
    "Oops, I wrote 13 in step 3 by mistake, but the final answer 18 stands.",
    "Oops, I see I wrote 3 instead of 4 in step 2, but the total is still 18.",
    "Oops, 3 per row, not 4.",
    "Correction: in step 2 I wrote 5 + 6 = 18, it should read 12 + 6 = 18.",
    "(Correction to step 2: 3 x 6 = 18, not 19.)",
    "**Correction:** In step 2, 12+6=18 (I wrote 17 by typo).",
    "Correction: none needed, the answer 18 holds.",
    "Sorry, in step 1 it should be 4 apples, not 3. The total does not change.",
    "I made a mistake in step 2 (wrote 7 instead of 8), but the final answer 18 is correct.",
    "Wait, I miscounted the days in step 1, but it doesn't change the result.",
    "Sorry about the confusion in step 3 earlier.",
    "Sorry, 1 more note: the answer is in dollars.",
    "Sorry for the long explanation.",
    "Wait, no — 18 is right, since 3*6=18.",
    "Wait, no, I need to double check with 3 * 6 = 18.",
    "No wait, the 2 boxes... yes 18.",
    "No wait, 18 is correct.",
    "No, wait. 18 is correct.",
    "Wait, no, that's right.",
    "Hmm, no, 18 checks out.",
    "No, wait, I should double-check the units.",
    "Wait, no, hold on: 18 is right.",
    "Wait, no, actually it's right.",
    "No, that's correct: 18.",
    "No, I'm confident.",
    "No, 3 boxes of 6 make 18.",
    "No, 6 per box.",
    "Wait, no, in step 2 it's 5, not 4.",
    "Wait, no, each box has 6, so 3 boxes have 18.",
    "Is 17 possible? No, it's 18.",
    "Is the remainder 0? No, it's 2.",
    "Does it round up? No. It's 2 short of 20.",
    "Wait, no, it's 6 per day.",
    "Hmm, no. Let me verify once more: 18 - 6 = 12, 12 + 6 = 18.",
    "Hmm, that's not right. Let me redo: 3*6 = 18. So 18.",
    "Whoops, I meant 18 in the sentence above, as boxed.",
    "Scratch that last remark, 18 is right.",
    "I mean, 18 is the only possibility.",
    "My apologies for the confusion earlier; the answer is 18.",
    "Wait, no, it's 18.",
    "No! It's definitely 18.",
    "Wait, no, it's 6 + 12 = 18.",
    "Wait, no, it's eighteen.",
    "Wait, no, it's 18 (not 17).",
    "Wait, no, it's 20? Let me check: 3 × 6 = 18.",
]


@pytest.mark.parametrize("remark", NOT_RETRACTIONS)
@pytest.mark.parametrize("stated", STATED)
def test_a_remark_after_a_right_answer_leaves_it_right(stated, remark):
    text = stated + remark
    assert kind("18", text) == "equal", text


@pytest.mark.parametrize("gold, text", [
    ("\\frac{1}{2}", "\\boxed{\\frac{1}{2}}. Wait, no, $\\frac{1}{2}$ is right."),
    ("\\frac{1}{2}", "\\boxed{\\frac{1}{2}}\n\nNo wait, I should double-check: \\frac{1}{2} = 0.5, yes."),
    ("\\frac{1}{2}", "\\boxed{\\frac{1}{2}}. Oops, I mean 0.5."),
    ("2\\sqrt{3}", "\\boxed{2\\sqrt{3}}. Wait, no, $2\\sqrt{3}$ is correct."),
    ("20\\%", "\\boxed{20\\%}. Wait, no, 20% is right."),
    ("0.5", "\\boxed{0.5}. Wait, no, 1/2 = 0.5 is right."),
    ("3:30", "\\boxed{3:30}. Oops, I mean 3:30 PM."),
    ("1000", "\\boxed{1000}. Wait, no, 1,000 is right."),
    ("-3", "\\boxed{-3}. Wait, no, −3 is right."),
    ("12", "**Final Answer:** 12\n\n**Correction:** In step 2, 5+7=12 (I wrote 11 by typo)."),
])
def test_latex_and_other_answers_restated_stay_right(gold, text):
    assert kind(gold, text) == "equal", text


def test_retraction_reports_where_it_opens():
    tail = "The sum is 20. Wait, no, it's 21. Sorry for the confusion."
    assert retraction(tail, "18") == (15, "21")
    assert retraction(tail, "18", start=30) is None
    assert retraction(" The answer stands.", "18") is None


@pytest.mark.parametrize("tail", [
    "Wait, " * 17_000,
    "no, " * 25_000,
    ". no," * 20_000,
    "\nno, " * 20_000,
    "wait" + " \t" * 50_000 + "no,",
    "Wait, no, it's " * 7_000,
    "Oops! 1. " * 11_000,
    "Oops! 1" + " " * 100_000 + ".",
    "Wait, no, it's " + "1 + " * 25_000 + "= 20.",
    "Sorry, " + "1=" * 50_000,
    "**" * 50_000 + "no,",
    "? No, 1" * 14_000,
    "Hmm, no: " + "(" * 100_000,
    "Wait, no, it's 1, not" + " 2" * 50_000,
    "I made a mistake. " * 5_500,
    "No. " * 25_000,
    "Wait\u2026 no\u2026 " * 10_000,
    # (review 2: list markers, check marks, working, arrows, the last statement's search)
    "Oops!\n\n" + "1. " * 30_000, "Oops!\n" * 20_000 + "1. x", "Wait, no, 20" + " \u2713" * 50_000,
    "Wait, no, 20 (" + "4 \u00d7 " * 30_000 + "5)", "Wait, no, 20: " + "1" * 100_000 + "x", "I mean " + "1 \u2192 " * 30_000 + "20",
    "Actually, it's 20" + " " * 100_000 + "\u2713", "Actually, it's 20 (" + "\u2713" * 100_000 + ")",
    "Actually, it's 20: " + "1" * 100_000 + "x", "Actually, it's 20 (" + "1 + " * 30_000 + ")",
    "answer " * 50_000 + "sorry", "answer**" * 30_000 + " it's 20", "Sorry, 20 i.e." * 20_000,
])
def test_long_adversarial_tails_stay_fast(tail):
    said_after(" Wait, no, it's 20.", "18")  # (warm: imports and compiled expressions)
    start = time.process_time()  # (this process's CPU time: other processes on the machine do not count)
    for stated in ("\\boxed{18}", "The answer is 18. ", "#### 18\n"):
        final_boxes(stated + tail)
        stated_answers(stated + tail)
    said_after(tail, "18")
    retraction(tail, "18")
    assert time.process_time() - start < 2.0  # linear: well under; quadratic on 100k characters: minutes


def test_rules_version_is_18_or_later():
    assert RULES_VERSION >= 18


# -- review 2 of rules 18: right answers a retraction's reading scored hedged ---------------------

@pytest.mark.parametrize("text", [
    "The total is \\boxed{20}.\n\nI made a mistake.\n\n1. First, she buys 4 packs.\n2. Each costs $5.",
    "The total is \\boxed{20}.\n\nMy apologies.\n\n1. 4 packs\n2. $5 each",
    "The answer is 20.\n\nWait, no.\n\n1. She buys 4 packs at $5 each.\n2. 4 × 5 = 20.\n\nSo it's confirmed.",
    "#### 20\n\nOops!\n\n2. Next question",
    "\\boxed{20}\n\nSorry!\n\n3) See above.",
    "\\boxed{20}\n\nWait, no.\n\n**1.** Recheck",
    "\\boxed{20}\n\nWait, no:\n(2) Recheck the packs.",
    "\\boxed{20}\n\nOops.\n\n1. 2 + 2 = 4\n2. 4 × 5 = 20",
    "\\boxed{20}\n\nOops.\n\n2 + 2 = 4\n4 × 5 = 20",  # working after the sentence, no answer
])
def test_a_list_marker_or_working_after_a_retraction_names_no_value(text):
    assert kind("20", text) == "equal"


def test_a_list_marker_is_no_retracted_value():
    assert retraction("Oops.\n\n1. 2 + 2 = 4, so 4 × 5 = 20", "20") is None
    assert retraction("Wait, no.\n\n1. She buys 4 packs.", "20") is None


@pytest.mark.parametrize("text", [
    "The answer is 18. Wait, no.\n20",
    "#### 18\n\nOops!\n\n20",
    "The answer is 18. Oops! 20. Sorry about that.",
    "The answer is 18.\n\nWait, no.\n\n1. 4 packs\n\nWait, no, it's 20.",
    "The answer is 18. Wait, no, it's 20. I hope this answer helps.",  # "answer" in no statement after it
])
def test_a_value_on_its_own_after_a_retraction_still_counts(text):
    assert kind("18", text) == "hedged"


#: A right `\\boxed{20}` restated after a retraction in a form the grader cannot read, or with
#: working, a check mark or a remark beside it: no second answer.
RESTATED = [
    "Wait, no: 4 × 5 = 20 ✓", "No, 20 ✓.", "Wait, no: 4 × 5 = 20 ✔️", "Wait, no: 4 × 5 = 20 (✓).",
    "Oops!\n\n4 × 5 = 20 ✓", "No, wait.\n\n4 × 5 = 20 ✓.", "Wait, no.\n18 + 2 = 20 ✔",
    "Wait, no, it's 20\u3002", "Sorry\uff0c20\u3002", "Wait, no, \u7b54\u6848\u662f 20\u3002",
    "Oops! 20 (4 × 5).", "No, it's 20 (= 4 × 5).", "No, it's 20 [4 × 5].", "No, it's 20 (4·5).",
    "Sorry — it's 20 (20 = 4 × 5).", "I mean 20 (4 x 5).", "I mean 20 [=4×5].", "I mean 20 (i.e., $4 \\times 5$).",
    "Wait, no, it's 20 ($4 \\times 5$).", "Wait, no, it's 20: 4 × 5.",
    "I mean 10 + 10 → 20.", "I mean 10 + 10 ⇒ 20.", "I mean 4 × 5 → 20.", "I mean 20 = 4 x 5.",
    "I mean √400 = 20.", "I mean \\sqrt{400} = 20.",
    "Wait, no, it's 20, i.e. twenty.", "Sorry, 20€.", "Sorry, 20 €.", "Sorry, ₹20.", "Sorry, 20s.", "Sorry, 20x.",
    "Sorry, x20.", "Sorry, #20.", "Sorry, 20/-.", "Sorry, 20.-", "Sorry, `20`.", "Sorry, 2 0.", "Sorry, 20 y.o.",
    "Wait, no, it's 20,0.", "Wait, no, it's 20.0.",
]


@pytest.mark.parametrize("tail", RESTATED)
def test_a_restatement_the_grader_cannot_read_is_no_second_answer(tail):
    for stated in ("\\boxed{20}\n\n", "The answer is 20.\n\n", "#### 20\n\n", "<answer>20</answer>\n\n"):
        assert kind("20", stated + tail) == "equal", stated + tail


@pytest.mark.parametrize("gold, text", [
    ("1000", "\\boxed{1000}\n\nI mean 1k."),
    ("2", "\\boxed{2}\n\nI mean 2 (x = 2)."),
    ("25", "\\boxed{25\\%}\n\nI mean 0.25."),
    ("20", "The answer is 20. Wait, no, 18. No, 20 ✓."),  # the last retraction restates: the earlier one is superseded
])
def test_a_restatement_in_another_form_is_no_second_answer(gold, text):
    assert kind(gold, text) == "equal"


#: Retractions of a right 20 to another value the grader reads, written as the restatements above
#: are: hedges still.
@pytest.mark.parametrize("tail", [
    "Wait, no, it's 18 ✓.", "No, 18 ✓.", "Wait, no: 4 × 4.5 = 18 ✓", "Oops! 18 (4 × 5).", "Oops! 18 [9×2].",
    "I mean 10 + 8 → 18.", "I mean √324 = 18.", "I mean 18 = 9 x 2.", "Wait, no, it's 18\u3002", "Sorry\uff0c18\u3002",
    "Sorry, `18`.", "Wait, no, it's 18, i.e. eighteen.", "Wait, no, it's 18: 9 × 2.", "Wait, no.\n\n18.", "Oops!\n\n18",
    "Wait, no, 18,5", "Wait, no, it's 2 (x = 2).", "The answer is 20. Wait, no, 18. Hmm, no, 20 ✓. Wait, no, 18.",
])
def test_a_retraction_to_another_readable_value_is_still_a_hedge(tail):
    for stated in ("\\boxed{20}\n\n", "The answer is 20.\n\n", "#### 20\n\n", "<answer>20</answer>\n\n"):
        assert kind("20", stated + tail) == "hedged", stated + tail


def test_readable_value():
    assert readable_value("18", "20") and readable_value("\\frac{1}{2}", "20") and readable_value("2x + 3", "y")
    assert not readable_value("20.0", "20") and not readable_value("0.25", "25\\%")  # the answer again
    assert not readable_value("20€", "20") and not readable_value("₹18", "20")  # the grader cannot read these
    assert not readable_value("18s", "20") and not readable_value("1k", "1000")  # a letter glued to a number


def test_hint_words_in_the_working_cost_no_scan_for_statements(monkeypatch):
    """Words that may open a retraction or a second answer ("no, wait", "sorry", "it's", "or") in the
    working before the last "the answer is" must not make the statement-reading scan the whole text
    (`strip_markdown` and the statement search over all of it): only what follows the last
    statement can hold a retraction."""
    from rlvr.verifiers import math_extract

    scanned = []
    real = math_extract.strip_markdown
    monkeypatch.setattr(math_extract, "strip_markdown", lambda text: scanned.append(len(text)) or real(text))
    hints = ("She sold 48 clips in April. No, wait, let me re-read it. Sorry, it's fine: there is no error, "
             "or is there? Half of 48 is 24, so 48 + 24 = 72. ") * 1500
    assert math_extract._corrected_statement(hints + "The answer is 72.") is None
    assert scanned == []  # the hint words in the working cost no scan
    assert math_extract._corrected_statement(hints + "The answer is 72. Sorry, 73.") == ["72", "73"]
    assert scanned  # (after the statement they are read)
    assert stated_answers(hints + "The answer is 72. Sorry, 73.") == ["72", "73"]


#: A retraction to a number and what it counts, ending its sentence ("Wait, no, it's 21 apples."),
#: after a right 20: the number is read as a plain-number gold's answer is ("21 apples" is 21).
@pytest.mark.parametrize("tail", [
    "Wait, no, it's 21 apples.", "Oops, 21 dollars.", "Oops, 21 apples!", "Wait, no, she has 21 apples.",
    "Wait, no.\n\n21 apples.", "Sorry, 3/4 of the pizza.",
])
def test_a_retraction_to_a_number_and_a_noun_is_a_hedge(tail):
    for stated in ("\\boxed{20}. ", "The answer is 20. ", "The answer is 20 apples. ", "#### 20\n",
                   "\\boxed{20 \\text{ apples}}\n\n"):
        assert kind("20", stated + tail) == "hedged", stated + tail
    assert retraction("The answer is 20. " + tail, "20")[1] in ("21", "3/4")


@pytest.mark.parametrize("tail", [
    "Wait, no, it's 20 apples.", "Oops, 20 dollars.",  # the answer again
    "No, 2 hours have passed!", "Oops, 3 apples per box in step 2.", "Wait, no, 12 is right.",  # a sentence
    "Wait, no, 2 more.", "Wait, no, 5 each.", "Wait, no, 5 minutes earlier.", "Wait, no, 21 apples and 3 pears.",
    "Oops, 2 typos.", "Wait, no, 1 error.",  # about a mistake, not a value
    "Wait, no, it's 6 an hour.", "Oops, 3 apples every day.", "Sorry, 6 dollars apiece.",  # a rate: a step
    "Wait, no, let me verify: 3 × 6 = 18",
])
def test_words_after_a_number_that_name_no_other_value_are_no_retraction(tail):
    for stated in ("\\boxed{20}. ", "The answer is 20. ", "#### 20\n"):
        assert kind("20", stated + tail) == "equal", stated + tail
