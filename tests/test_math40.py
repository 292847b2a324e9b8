"""Audit 40 of the math verifier's retraction reading (rules 34, see `math.RULES_VERSION`)."""

import pytest

from rlvr.verifiers.math import verify


def _graded(gold, prediction):
    got = verify(gold, prediction)
    return got.correct, got.details.get("kind")


# 1. Interjections between the answer and a judgement are read in linear time: "hmm" matched two
# alternatives, so n × "Hmm, " took 2^n steps (52 s at n = 26).
@pytest.mark.timeout(10)  # (a hang guard: 40 took hours with the overlapping alternatives; ~0.01 s now)
@pytest.mark.parametrize("n", [40, 400])
def test_many_interjections_before_a_judgement_are_linear(n):
    text = "Each bag has 4 apples, so 3 × 4 = 12.\n\n\\boxed{12}\n\n" + "Hmm, " * n + "let me think. That's not right."
    assert _graded("12", text) == (True, "equal")


@pytest.mark.timeout(10)
@pytest.mark.parametrize("words", ["Hmm. ", "hmm, hm, hmmm... ", "Hmm! Wait. "])
def test_interjection_sentences_before_a_judgement_still_take_it_back(words):
    text = "\\boxed{12}\n\n" + words * 40 + "That's not right. Let me redo: 3 × 5 ="
    assert _graded("12", text) == (False, "unparsable")


# 2. A stands-word counts only when said of the answer, ending its clause with no "but" reopening
# it; a check mark only right after the answer's number at the end of the recheck.
_WRONG = "\\boxed{12}\n\nWait, that's not right. "


@pytest.mark.parametrize("redo", [
    "The price per bag doesn't change, but I miscounted the bags. There are 5 bags, so 5 × 4 =",
    "It is correct to multiply, but I used the wrong count of bags. Let me redo: 5 × 4 =",
    "Let me recheck each step: 3 × 4 = 12 ✓, but I forgot the 3 extra apples, so 12 + 3 =",
    "The 12 is right for the apples alone, but we still need to add the oranges: 12 + 3 =",
    "Let me redo it. The number of bags is unchanged, but each bag has 5 apples, so 3 × 5 =",
    "Let me redo it. 3 × 4 = 12 ✓. Then add the 3 extra: 12 + 3 =",
    "Let me redo it. OK. Now 5 × 4 =",
    "Let me redo it. The answer is right, but I forgot the oranges: 12 + 3 =",
])
def test_a_stands_word_not_said_of_the_answer_holds_nothing(redo):
    assert _graded("12", _WRONG + redo) == (False, "unparsable")


@pytest.mark.parametrize("n", [20, 40])
def test_a_number_labelling_something_else_holds_nothing(n):
    work = "".join(f"Bag {i} holds {i % 5 + 1} apples and we add them up carefully to the running count. "
                   for i in range(n))
    text = _WRONG + "Let me recompute.\n\n" + work + "\n\nSo we need the teachers, which"
    assert _graded("12", text) == (False, "unparsable")


@pytest.mark.parametrize("redo", [
    "Let me redo it. Hmm, actually 12 is still right.",
    "Let me redo it. The total is still 12 apples.",
    "Let me redo it. It doesn't change the result.",
    "Let me redo it. This does not affect the final answer.",
    "Let me redo it. So 12 stands.",
    "Let me redo it. 12 is correct, since 3 × 4 = 12.",
    "Let me redo it. 3 × 4 = 12 ✓",
    "Let me redo it. 3 × 4 = 12 ✓. So 12.",
    "Let me redo it. 3 × 4 = 12. Good.",
    "Let me redo it. The answer is right.",
])
def test_a_stands_word_said_of_the_answer_still_keeps_it(redo):
    assert _graded("12", _WRONG + redo) == (True, "equal")


# 3. A right answer that is no plain number, rechecked after a take-back, comes back to it.
_ERROR = "Wait, I think I made an error. Let me recompute: "


@pytest.mark.parametrize("gold, answer, recheck", [
    ("\\frac{1}{2}", "\\frac{1}{2}", "$\\frac{2}{4} = \\frac{1}{2}$."),
    ("-\\frac{3}{4}", "-\\frac{3}{4}", "-6/8 = -3/4."),
    ("(2,3)", "(2, 3)", "x = 2, y = 3."),
    ("\\left(2,3\\right)", "\\left(2, 3\\right)", "the point is (2, 3)."),
    ("3:30", "3:30", "2:00 plus 1.5 hours is 3:30."),
    ("3:30 PM", "3:30 \\text{ PM}", "2:00 PM plus 90 minutes = 3:30 PM."),
    ("2\\sqrt{3}", "2\\sqrt{3}", "\\sqrt{12} = 2\\sqrt{3}."),
    ("\\pi", "\\pi", "the area is \\pi r^2 = \\pi."),
    ("x=5", "x = 5", "2x = 10, so x = 5."),
    ("C", "C", "option C gives 12, which matches."),
    ("12", "12 \\text{ apples}", "3 × 4 = 12 apples."),
])
def test_a_recheck_ending_on_an_answer_that_is_no_plain_number_keeps_it(gold, answer, recheck):
    assert _graded(gold, f"\\boxed{{{answer}}}\n\n" + _ERROR + recheck) == (True, "equal")


@pytest.mark.parametrize("gold, answer, recheck", [
    ("\\frac{1}{2}", "\\frac{1}{2}", "$\\frac{2}{4} + \\frac{1}{4} = \\frac{3}{4}$, not \\frac{1}{2}."),
    ("(2,3)", "(2, 3)", "x = 2, y = 4."),
    ("C", "C", "option C gives 11, so it's option D."),
    ("C", "C", "option C gives 12, which doesn't match."),
    ("3:30", "3:30", "2:00 plus 2 hours is 4:00."),
    ("\\pi", "\\pi", "the area is \\pi r^2 = 4\\pi."),
    ("12", "12 \\text{ apples}", "3 × 5 = 15 apples."),
    ("2\\sqrt{3}", "2\\sqrt{3}", "\\sqrt{12} = 2\\sqrt{3}, but the side is \\sqrt{13}."),
])
def test_a_recheck_ending_elsewhere_still_takes_it_back(gold, answer, recheck):
    text = f"\\boxed{{{answer}}}\n\nWait, that's not right. Let me recompute: " + recheck
    assert _graded(gold, text) == (False, "unparsable")


# 4. "the answer is unchanged" (and other words about the answer) is a remark, not a second answer.
@pytest.mark.parametrize("word", ["unchanged", "unaffected", "exact", "positive, as expected", "the same"])
def test_a_remark_on_the_answer_is_no_second_answer(word):
    assert _graded("12", f"\\boxed{{12}}\n\nI made a typo above, but the answer is {word}.") == (True, "equal")


def test_a_sign_alone_is_still_an_answer():
    assert _graded("positive", "The answer is positive.") == (True, "equal")


# 5. "Yes it is." confirms an answer a judgement (a tag question's too: a doubt) took back.
@pytest.mark.parametrize("text", [
    "\\boxed{12}\n\nThat's not right, is it? Let me recheck. Yes it is.",
    "\\boxed{12}\n\nThat's not right. Let me recheck. Yes, it is.",
])
def test_a_yes_after_a_judgement_keeps_the_answer(text):
    assert _graded("12", text) == (True, "equal")


@pytest.mark.parametrize("text", [
    "\\boxed{12}\n\nThat's not right. Let me recheck: 3 × 5 =",
    "\\boxed{12}\n\nThat's not right, is it? Let me recheck: 3 × 5 =",
    "\\boxed{12}\n\nThat's not right, is it?",
])
def test_a_judgement_or_a_doubting_tag_question_without_a_confirmation_takes_it_back(text):
    assert _graded("12", text) == (False, "unparsable")


def test_a_doubting_tag_question_then_another_value_is_not_the_answer():
    assert _graded("12", "\\boxed{12}\n\nThat's not right, is it? Let me recheck: 3 × 5 = 15.")[0] is False


def test_rules_version():
    from rlvr.verifiers.math import RULES_VERSION

    assert RULES_VERSION == 34


# Review of audit 40 (rules 34 still: nothing released since).
_BAGS = "Each of the 3 bags holds 4 apples, so 3 × 4 = 12.\n\n\\boxed{12}\n\n"
_RECOMPUTE = _BAGS + "Wait, that's not right. Let me recompute. "


# 6. A confirmation ("Yes it is.", "Good.", "That's correct.", "The answer is unchanged.") holds
# only after working that comes back to the answer or states no value: else it confirms that value.
@pytest.mark.parametrize("gold, text", [
    ("12", _BAGS + "Wait, that's not right. Let me redo: the total is 15. Is it? Yes it is."),
    ("12", _BAGS + "That's not right, is it? Let me check: 3 × 5 = 15. Yes it is."),
    ("12", _BAGS + "Wait, that's not right. I forgot the 3 extra apples. So 12 + 3 = 15. Is that the total? Yes it is."),
    ("12", _BAGS + "Hmm, 12 seems wrong. Let me recheck the bags: does each bag hold 5 apples? Yes, it does."),
    ("\\frac{1}{2}", "So\n\n\\boxed{\\frac{1}{2}}\n\nWait, that's not right. Let me recompute: 3/4 - 1/8 = 5/8. Yes it is."),
    ("(2,3)", "So\n\n\\boxed{(2, 3)}\n\nWait, that's not right. Let me recompute: x = 4, y = 1. Yes it is."),
    ("(2,3)", "So\n\n\\boxed{(2, 3)}\n\nWait, that's not right. Let me recompute: x = 4, y = 1. OK."),
    ("12", _BAGS + "Wait, that's not right. Let me recompute: 3 × 5 = 15. Good."),
    ("12", _BAGS + "Wait, that's not right. Let me recompute: 3 × 5 = 15. That's correct."),
    ("12", _BAGS + "Wait, that's not right. Let me recompute: 3 × 5 = 15. The answer is unchanged."),
    ("12", _BAGS + "Wait, that's not right. Let me recompute: 3 × 5 = 15. The answer is right."),
    ("12", _BAGS + "Wait, that's not right. Let me redo with 5 bags: 5 × 4 = 20. Good."),
    ("12", _BAGS + "Wait, that's not right. The answer is right: 13."),
])
def test_a_confirmation_after_working_to_another_value_holds_nothing(gold, text):
    assert _graded(gold, text) == (False, "unparsable")


@pytest.mark.parametrize("text", [
    _BAGS + "That's not right, is it? Let me check: 3 × 4 = 12. Yes it is.",
    _BAGS + "Wait, that's not right. Let me redo: is it 12? Yes it is.",
    _BAGS + "Wait, that's not right. Let me recompute: 3 × 4 = 12. That's correct.",
    _BAGS + "Wait, that's not right. Let me recompute: 3 × 4 = 12, and 12 - 4 - 4 - 4 = 0. Good.",
])
def test_a_confirmation_after_working_back_to_the_answer_still_keeps_it(text):
    assert _graded("12", text) == (True, "equal")


# 7. After the recheck reached the answer, checks of it ticked true and counts in prose reopen
# nothing; working to another value after a stands-word or a check mark does.
@pytest.mark.parametrize("gold, text", [
    ("12", _RECOMPUTE + "3 × 4 = 12 ✓ and 12 / 4 = 3 ✓"),
    ("12", _RECOMPUTE + "3 × 4 = 12 ✓. Check: 12 - 4 - 4 - 4 = 0 ✓"),
    ("12", _RECOMPUTE + "3 × 4 = 12. 12 ÷ 4 = 3 ✓"),
    ("(2,3)", "So\n\n\\boxed{(2, 3)}\n\nWait, that's not right. Let me recompute: x = 2 and y = 3. "
              "Check: 2 + 3 = 5 ✓, 2 - 3 = -1 ✓."),
    ("12", _RECOMPUTE + "12 ✓ — the 3 bags have 4 apples each."),
    ("12", _RECOMPUTE + "Yes, 12. Each of the 3 bags holds 4."),
])
def test_ticked_checks_and_counts_after_the_answer_keep_it(gold, text):
    assert _graded(gold, text) == (True, "equal")


@pytest.mark.parametrize("text", [
    _RECOMPUTE + "12 is fine. Plus the teacher: 13.",
    _RECOMPUTE + "3 × 4 = 12 ✓. Then add 3 more apples: 15 total.",
    _RECOMPUTE + "3 × 4 = 12 ✓. Then 3 × 5 = 15 ✓",
    _RECOMPUTE + "12 is right for the apples, 15 for the fruit. So 15.",
    _RECOMPUTE + "Apples: 3 × 4 = 12 ✓. Oranges: 3 × 1 = 3 ✓. Total: 15.",
])
def test_working_to_another_value_after_the_answer_reopens_it(text):
    assert _graded("12", text) == (False, "unparsable")


# 8. A complement after a stands-word, or a "but" with no other value after it, is no condition.
@pytest.mark.parametrize("redo", [
    "12 is correct for 3 bags of 4 apples.",
    "The answer is correct given 3 bags of 4.",
    "So the total is still 12 apples in 3 bags.",
    "12 is right after checking 3 × 4.",
    "It doesn't change the answer, but it was sloppy.",
    "The total is still 12, but I wrote it badly.",
    "That doesn't change anything.",
])
def test_a_stands_word_with_a_complement_or_an_idle_but_keeps_the_answer(redo):
    assert _graded("12", _RECOMPUTE + redo) == (True, "equal")


# 9. Check marks and full stops after a recheck ending on an answer that is no plain number, in
# either order.
@pytest.mark.parametrize("gold, answer, recheck", [
    ("\\frac{1}{2}", "\\frac{1}{2}", "P = 2/4 = $\\frac{1}{2}$ ✓."),
    ("\\frac{1}{2}", "\\frac{1}{2}", "P = \\frac{2}{4} = \\frac{1}{2} ✓."),
    ("(2,3)", "(2, 3)", "x = 2, y = 3 ✓."),
])
def test_a_check_mark_before_the_stop_still_ends_on_the_answer(gold, answer, recheck):
    text = f"So\n\n\\boxed{{{answer}}}\n\nWait, that's not right. Let me recompute: " + recheck
    assert _graded(gold, text) == (True, "equal")


@pytest.mark.timeout(10)
@pytest.mark.parametrize("work", ["12 / 4 = 3 ✓ ", "Yes it is. ", "12 is right but 5 ", "1 = 1 ✓", "Good. "])
def test_many_holders_and_checks_are_read_in_linear_time(work):
    text = _RECOMPUTE + work * (32000 // len(work))
    assert _graded("12", text)[1] in ("equal", "unparsable")


# 5. Audit 40, second review (acceptance cases real.json, c2.json, c3.json of the reviewer's harness).
# Once the recheck's working reaches the answer, a check after a label ("Check:", "Double-check:",
# "**Verification:**", "Plug in:", "Dividing back:") or a ticked statement is neutral, whatever its
# shape; efa171d read its result (2.5, 0, 4, 60, 16...) as the recheck's last value.
_TRIP = "The car travels at 60 mph for 2.5 hours, so 60 × 2.5 = 150 miles.\n\n\\boxed{150}\n\n"
_ROOTS = "We have $x^2 - 5x + 6 = 0$, so the roots sum to $5$.\n\n$\\boxed{5}$\n\n"
_SHIRT = "A $40 shirt with a 25% discount costs 40 × 0.75 = 30 dollars.\n\n\\boxed{30}\n\n"
_EGGS = "She sells 16 - 3 - 4 = 9 eggs at $2 each, so 9 × 2 = 18 dollars.\n\n\\boxed{18}\n\n"
_REDO = "Wait, that's not right. Let me recompute: "


@pytest.mark.parametrize("gold, text", [
    ("150", _TRIP + _REDO + "60 × 2.5 = 150. Check: 150 / 60 = 2.5 hours. ✓"),
    ("150", _TRIP + _REDO + "60 × 2.5 = 150. Double-check: 150 / 60 = 2.5, which matches the 2.5 hours given."),
    ("150", _TRIP + _REDO + "60 × 2.5 = 150. Check: 150 / 2.5 = 60 mph ✓"),
    ("150", _TRIP + _REDO + "60 × 2.5 = 150.\n\n**Verification:** 150 ÷ 60 = 2.5 hours ✓"),
    ("150", _TRIP + _REDO + "60 × 2.5 = 150 miles. Sanity check: at 60 mph, 150 miles takes 2.5 hours. ✓"),
    ("5", _ROOTS + _REDO + "roots x = 2 and x = 3, sum = 5. Check: 4 - 10 + 6 = 0 ✓, 9 - 15 + 6 = 0 ✓."),
    ("5", _ROOTS + _REDO + "the roots are 2 and 3, sum 5. Plug in: 2² − 5·2 + 6 = 0 ✓"),
    ("5", _ROOTS + "Hmm, I think I made an error. Let me redo this: by Vieta, sum = -(-5)/1 = 5, product = 6/1 = 6 ✓"),
    ("30", _SHIRT + _REDO + "25% of 40 = 10, 40 − 10 = 30. Check: 30 is 75% of 40 ✓"),
    ("30", _SHIRT + _REDO + "40 - 10 = 30. The discount was 25%, which is $10. ✓"),
    ("30", _SHIRT + _REDO + "the discount is 25% of 40, which is 10. So the price is 40 − 10 = 30. Let me double "
                            "check: 30 / 40 = 0.75, i.e. 75% of the original. ✓"),
    ("18", _EGGS + _REDO + "16 - 7 = 9, 9 × 2 = 18. Check: 18 / 2 = 9 eggs, 9 + 7 = 16 eggs ✓"),
    ("18", _EGGS + _REDO + "16 - 7 = 9, 9 × 2 = 18. Check: 9 + 3 + 4 = 16 ✓"),
    ("12", _BAGS + "Hold on, I think I made a mistake. Let me recount: 4 + 4 + 4 = 12. Dividing back: 12 / 3 = 4 "
                   "apples per bag ✓"),
])
def test_a_check_after_working_back_to_the_answer_keeps_it(gold, text):
    assert _graded(gold, text) == (True, "equal")


# Commentary after a stands-word or a confirmation (an explanation of the inputs, an unticked check
# dividing the answer) reopens nothing (42bdb29 read any stated value after the holder).
@pytest.mark.parametrize("text", [
    _BAGS + _REDO + "3 × 4 = 12. Yes, 12 is correct. That's 4 apples in each of the 3 bags.",
    _BAGS + _REDO + "3 × 4 = 12. So the answer 12 stands; note 12 / 3 = 4 per bag.",
    _BAGS + _REDO + "3 × 4 = 12. Yes, 12 is correct. It is 3 more than 9.",
    _BAGS + _REDO + "3 × 4 = 12. Good. That gives 4 per bag.",
    _BAGS + "Hmm, 12 seems wrong. Let me recheck: 3 bags, 4 apples each, 3 × 4 = 12. It's correct, since 12 ÷ 4 = 3.",
    _BAGS + "That's not right, is it? Let me check: 3 × 4 = 12. Yes it is, because 12 / 3 = 4.",
])
def test_commentary_after_a_holder_keeps_the_answer(text):
    assert _graded("12", text) == (True, "equal")


# A redo to another value keeps the answer taken back: past-tense narration of the old value, a
# conditional stands-word, a value judged or refused, a check of the new value that comes to the
# old one, and more added after a step that gives the answer.
@pytest.mark.parametrize("gold, text", [
    ("12", _BAGS + "Wait, that's not right. Each bag holds 5 apples, so 3 × 5 = 15. Earlier I got 12 because I used "
                   "4 per bag."),
    ("12", _BAGS + "Wait, that's not right. Each bag holds 5 apples, so 3 × 5 = 15. Previously I got 12, which was wrong."),
    ("12", _BAGS + _REDO + "3 × 5 = 15. Hmm, 12 is correct only if each bag holds 4."),
    ("12", _BAGS + "Wait, that's not right. Each bag holds 5 apples: 3 × 5 = 15. 12 is correct only for 4 per bag."),
    ("12", _BAGS + "Wait, that's not right. Each bag holds 5 apples: 3 × 5 = 15. Yes, 12 was a mistake."),
    ("12", _BAGS + "Wait, that's not right. Each bag holds 5 apples: 3 × 5 = 15. Yes, 12 is too low."),
    ("12", _BAGS + "Wait, that's not right. Let me recompute with 5 per bag: 15. Yes, 12 was wrong."),
    ("12", _BAGS + "Wait, that's not right. The bags hold 5 apples each, so 3 × 5 = 15 apples, not 12."),
    ("12", _BAGS + "Wait, that's not right. The bags hold 5 apples each, so 3 × 5 = 15, which is 3 more than 12."),
    ("12", _BAGS + "Wait, that's not right. Each bag holds 5 apples: 3 × 5 = 15 instead of 12."),
    ("12", _BAGS + "Wait, that's not right. I forgot the 3 extra apples. Let me recompute: 12 + 3 = 15. Check: 15 − 3 = 12 ✓"),
    ("12", _BAGS + "Wait, that's not right. I forgot the 3 extra apples: 12 + 3 = 15. Let me verify: 15 - 3 = 12. ✓"),
    ("12", _BAGS + _REDO + "3 × 4 = 12, plus the 3 she had makes fifteen."),
    ("12", _BAGS + _REDO + "3 × 4 = 12 apples in the bags and 3 more in her hand."),
    ("5", _ROOTS + "Wait, that's not right. I need the product of the roots: 6. Check: 6 - 1 = 5 ✓"),
])
def test_a_redo_to_another_value_still_takes_the_answer_back(gold, text):
    assert _graded(gold, text) == (False, "unparsable")
