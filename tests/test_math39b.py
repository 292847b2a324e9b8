"""Audit 39 of the math verifier (second part): a retracted final answer with no other after it,
doubt and qualifier words shared by the three places that read them, a value in other display
markup on the last line after the box, and a few-shot "Question:/Answer:" run-on."""

import pytest

from rlvr.verifiers.math import verify, verify_batch
from rlvr.verifiers.math_extract import extract_answer, within_turn


def _graded(gold, prediction):
    """The verdict's (correct, kind), checked to agree between `verify` and `verify_batch`."""
    v = verify(gold, prediction)
    (b,) = verify_batch([(gold, prediction)])
    assert (v.correct, v.details["kind"]) == (b.correct, b.details["kind"])
    return v.correct, v.details["kind"]


# -- 1. a final answer taken back, with no other after it: no answer the model stands by -------------

RETRACTED = [
    "So the answer is \\boxed{12}.\n\nWait, that's not right. Let me recompute the total: 3 \\times 5 = 15, plus",
    "So the answer is \\boxed{12}.\n\nWait, no. Let me redo this. The number of boxes is",
    "So the answer is \\boxed{12}.\n\nActually, I made an error above. Let me redo the calculation from step 2.",
    "The answer is 12.\n\nNo wait, that's wrong because I forgot the teacher.",
    "\\boxed{12} is incorrect.",
    "Is it \\boxed{12}? No.",
    "<think>\nSo the answer is \\boxed{12}. Wait, that's wrong, let me redo",
    "She has 12 apples.\n#### 12\n\nHmm, this is wrong. I should count the teacher too, so",
    "Total: \\boxed{12}\n\nOops, I made a mistake in step 2. Redoing it: 3 \\times 5 = 15 and then",
]


@pytest.mark.parametrize("prediction", RETRACTED)
def test_retracted_answer_is_unparsable(prediction):
    assert _graded("12", prediction) == (False, "unparsable")
    assert extract_answer(prediction) is None


def test_retraction_naming_a_value_is_still_a_hedge():
    assert _graded("12", "So the answer is \\boxed{12}.\n\nWait, no, it's 13.") == (False, "hedged")


# Honest outputs: confirmations, rechecks, retractions of a step before the answer, remarks.
HONEST = [
    "So the answer is \\boxed{12}.\n\nLet me verify: 3 \\times 4 = 12. That's right.",
    "Total: 4 + 8 = 12.\n\n\\boxed{12}\n\nCheck: 12 - 8 = 4 ✓",
    "Is it 13? No, it's \\boxed{12}.",
    "Wait, that's wrong: 3 + 4 is 7, not 8. So 7 + 5 = 12. The answer is \\boxed{12}.",
    "I made a mistake earlier, so let me redo it: 3 × 4 = 12.\n\n#### 12",
    "The answer is 12.\n\nLet me double-check: is there an error? No. 3 × 4 = 12.",
    "\\boxed{12}\n\nIs there a simpler form? No.",
    "\\boxed{12}\n\nA common mistake is to answer 11. That's wrong because it forgets the teacher.",
    "So the answer is \\boxed{12}.\n\nWait, no. Let me recount: 4 + 4 + 4 = 12. Yes, 12.",
    "So the answer is \\boxed{12}.\n\nOops, typo in step 3, but the answer stands.",
    "So the answer is \\boxed{12}.\n\nSorry for the long explanation!",
    "So the total is \\boxed{12} (approximately).",
    "The answer is approximately 12.",
    "The answer is 12 (in cm).",
    "\\boxed{12} (in cm)",
    "So she has 12 apples.\n#### 12",
    "The total is $4 \\times 3 = 12$.\n\n**Final Answer:** \\boxed{12}",
    "Therefore, the answer is \\boxed{12}. I'm confident this is correct.",
    "\\boxed{12}\n\nDouble-checking: 2 × 6 = 12 ✓. No errors found.",
    "The answer is 12.\n\nNo. of apples remaining: 12.",
    "So the answer is \\boxed{12}.\n\nDid I make a mistake? No, the computation is right.",
    "Hmm, 3 × 5 = 15? No, that's wrong, it should be 3 × 4 = 12.\n\nSo the answer is \\boxed{12}.",
    "So the answer is \\boxed{12}.\n\nWait, no need to convert units.",
    "The answer is 12 apples.",
    "\\boxed{12}\n\n$$12$$",
    "\\boxed{12}\n\n**12**",
    "\\boxed{12}\n\n$$12.$$",
    "\\boxed{12}\n\n\\[x = 12\\]",
    "\\boxed{12}\n\n\\textbf{12}",
    "The answer is 12 (twelve).",
    "#### 12 (apples)",
    "The answer is 12; I am sure.",
    "Let me recompute to verify: 3 × 4 = 12. So the answer is \\boxed{12}.",
    "\\boxed{12}\n\nThis is correct since 12 / 3 = 4.",
    "<think>Hmm, is it 11? No, that's wrong.</think>\nThe answer is \\boxed{12}.",
    "So the answer is \\boxed{12}.\n\nNote: if I made an error in reading the problem, the answer might differ, "
    "but with the given data 12 is right.",
    "The answer is $12$ (in dollars).",
    "So the total is \\boxed{12} cm.\n\nVerification: 5 + 7 = 12 cm. Correct!",
    "Question: How many apples?\nLet me think. 3 bags of 4 is 12.\nAnswer: 12",
    "The answer is 12.\n\nQ: Why?\nA: Because 3 × 4 = 12.",
    "Problem: find the total.\nSolution: 3 × 4 = 12.\n#### 12",
    "Total \\boxed{12}.\n\n`13` is the next prime after 11, which does not matter here.",
]


@pytest.mark.parametrize("prediction", HONEST)
def test_honest_outputs_stay_right(prediction):
    assert _graded("12", prediction) == (True, "equal")


@pytest.mark.parametrize("prediction", ["The answer is C.", "\\boxed{C}", "The answer is (C) 12 apples.",
                                        "The answer is C.\n\nLet me verify: option C gives 12. Correct.",
                                        "\\boxed{(C)}\n\nThe other options are wrong."])
def test_honest_choices_stay_right(prediction):
    assert _graded("C", prediction) == (True, "equal")


# -- 2. doubt and qualifier words: one set for remarks, units in a box and choice letters --------------

@pytest.mark.parametrize("prediction", ["The answer is 12 (doubtful).", "The answer is 12 (in theory).",
                                        "The answer is 12 (at best).", "\\boxed{12 \\text{ (upper bound)}}",
                                        "\\boxed{12 \\text{ (tentative)}}", "\\boxed{12 \\text{ (estimate)}}",
                                        "The answer is 12 (tentative)."])
def test_qualified_number_is_no_plain_answer(prediction):
    assert _graded("12", prediction)[0] is False


@pytest.mark.parametrize("prediction", ["The answer is C (not sure).", "The answer is C, maybe.", "The answer is C?",
                                        "\\boxed{C \\text{ (guess)}}", "\\boxed{C \\text{ fails}}", "\\boxed{C ✗}",
                                        "\\boxed{(C)?}"])
def test_doubted_choice_is_no_choice(prediction):
    assert _graded("C", prediction) == (False, "unparsable")


def test_number_hedges_unchanged():
    assert _graded("12", "The answer is 12, maybe.") == (False, "hedged")
    assert _graded("12", "\\boxed{12 \\text{ (approx)}}") == (True, "equal")  # approximation words: as before


# -- 4. a different value on the last line after the box, in any display markup -----------------------

@pytest.mark.parametrize("line", ["$$13$$", "**13**", "\\(13\\)", "\\[13\\]", "$$13.$$", "\\[x = 13\\]", "$$x = 13$$",
                                  "\\textbf{13}", "`13`", "\\begin{equation}13\\end{equation}"])
def test_last_line_value_in_markup_is_a_hedge(line):
    assert _graded("12", "Adding up, the total is \\boxed{12}.\n\n" + line) == (False, "hedged")


# -- 8. a few-shot "Question:/Answer:" run-on ends the turn --------------------------------------------

FEWSHOT = "So she has 12 apples.\n#### 12\n\nQuestion: Tom has 3 bags with 2 apples each. How many apples?\nAnswer: 3*2=6\n#### 6"
QA = "The answer is 12.\n\nQ: What is 3 \\times 2?\nA: The answer is 6."


def test_fewshot_runon_is_cut():
    assert _graded("12", FEWSHOT) == (True, "equal")
    assert _graded("12", QA) == (True, "equal")
    assert _graded("6", QA) == (False, "wrong")
    assert within_turn(QA) == "The answer is 12.\n\n"
    boxed = "So she has \\boxed{12} apples.\n\n**Problem 2:** Tom has 3 bags.\n**Solution:** 3 \\times 2 = 6. \\boxed{6}"
    assert _graded("12", boxed) == (True, "equal")


def test_fewshot_lines_without_a_run_on_are_kept():
    # no answer before the question line: the model restates the question, then answers
    restated = "Question: Tom has 3 bags with 4 apples each.\nAnswer: 3 * 4 = 12\n#### 12"
    assert within_turn(restated) == restated
    # quoted in a code block, or inside the reasoning: no end of turn
    quoted = "#### 12\n\n```\nQuestion: x\nAnswer: y\n```\nThe answer is 12."
    assert within_turn(quoted) == quoted
    thinking = "<think>The answer is 12.\nQ: check?\nA: yes</think>\nThe answer is 13."
    assert within_turn(thinking) == thinking
    assert _graded("12", thinking) == (False, "wrong")


@pytest.mark.parametrize("remark", ["Oops, 3 per row, not 4.", "No, I'm confident.", "Oh no, 2 hours have passed!",
                                    "Wait, I miscounted the days in step 1, but it doesn't change the result.",
                                    "Does it round up? No. It's 2 short of 20.", "I made a mistake.\n\n1. First, she buys 4 packs."])
def test_a_retracting_word_without_a_judgement_or_redo_takes_nothing_back(remark):
    assert _graded("18", "\\boxed{18}\n\n" + remark) == (True, "equal")


def test_a_retraction_followed_by_another_value_stays_a_hedge():
    assert _graded("18", "\\boxed{18}\n\nHmm, that's not right. Let me redo: 4*5 = 20. So 20.") == (False, "hedged")


def test_an_options_own_text_with_a_doubt_word_is_still_a_choice():
    assert _graded("B", "The answer is (B) The estimate is too high.") == (True, "equal")


# -- review of rules 33 -------------------------------------------------------------------------------

# 1. A judgement of a method, not of the answer, takes nothing back: it does not end its clause.
@pytest.mark.parametrize("prediction", [
    "The answer is \\boxed{12}. It is incorrect to say 15.",
    "\\boxed{12}\n\nIt is wrong to count the bags as apples.",
    "The answer is 12. It is not correct to add the 3 bags.",
    "#### 12\n\nIt is wrong to subtract 8 twice.",
    "So the answer is \\boxed{12}.\n\nThis is incorrect only if the bags hold different amounts, which they don't.",
    "So the answer is \\boxed{12}.\n\nThis is wrong if we count the bags too, but we count apples.",
    "\\boxed{12}\n\nIt's wrong to add instead of multiplying here.",
    "\\boxed{12}\n\nThat's not right to include the empty bag, so we excluded it.",
    "\\boxed{12}\n\nThis is wrong, unless the bags differ in size.",
    "\\boxed{12}\n\nThat's wrong when the bags differ, but they don't.",
    "\\boxed{12}\n\nIt is incorrect for the bags to be counted.",
    "\\boxed{12} is wrong only if the bags differ.",
    "\\boxed{12}\n\nIt's wrong here to add the bags.",
    "\\boxed{12}\n\nThat can't be right unless the bags hold 4 each, which they do.",
])
def test_a_judgement_of_a_method_takes_nothing_back(prediction):
    assert _graded("12", prediction) == (True, "equal")


# ... while one that ends its clause (a sentence's end, punctuation, a reason) still does.
@pytest.mark.parametrize("prediction", [
    "\\boxed{12}\n\nThis is wrong.",
    "\\boxed{12}\n\nThis is wrong too.",
    "\\boxed{12}\n\nIt's wrong, let me redo it.",
    "\\boxed{12}\n\nThis is not right at all.",
    "\\boxed{12}\n\nThat's wrong; the bags hold 5 each, so",
    "\\boxed{12}\n\nHmm, it is incorrect: I forgot the teacher.",
    "\\boxed{12}\n\nThis is wrong (I forgot the teacher).",
    "\\boxed{12} is wrong because the teacher counts.",
    "\\boxed{12}\n\nWait, that's not right here. Let me recompute.",
    "\\boxed{12}\n\nThat's wrong so let me redo it.",
])
def test_a_judgement_ending_its_clause_still_takes_the_answer_back(prediction):
    assert _graded("12", prediction) == (False, "unparsable")


# 4. A recount in words (or confirmed with "Good.", "OK.") that comes back to the answer stands.
@pytest.mark.parametrize("prediction", [
    "\\boxed{12}\n\nWait, that's not right. Let me try again. Three bags, four each: a dozen.",
    "\\boxed{12}\n\nWait, that's wrong. Let me redo this: 3 × 4 = twelve.",
    "\\boxed{12}\n\nWait, that's not right. Let me recompute: three times four is twelve. Good.",
    "\\boxed{12}\n\nHmm, this is wrong. Let me recompute: 4 + 4 + 4 = 12, and 12 / 3 = 4. Good.",
    "\\boxed{12}\n\nWait, no. Let me redo it: 4 + 4 + 4 = 12, 12 / 4 = 3. OK.",
])
def test_a_recount_in_words_back_to_the_answer_stands(prediction):
    assert _graded("12", prediction) == (True, "equal")


def test_two_dozen_is_24():
    assert _graded("24", "\\boxed{24}\n\nWait, that's wrong. Let me redo it: two dozen.") == (True, "equal")


@pytest.mark.parametrize("prediction", [
    "\\boxed{12}\n\nWait, that's not right. Let me try again. Three bags, five each: fifteen",
    "\\boxed{12}\n\nWait, that's not right. Let me try again. That's not correct either.",
    "\\boxed{12}\n\nWait, that's not right. Let me try again. That's not right either, so",
    "\\boxed{12}\n\nWait, that's not right. OK, let me redo this: 3 × 5 = 15, plus",
    "\\boxed{12}\n\nWait, that's not right. Let me redo it. Okay, so the bags hold",
    "\\boxed{12}\n\nWait, that's wrong. Let me redo: twelve bags of 5 is",
])
def test_a_negated_or_opening_confirmation_word_does_not_stand(prediction):
    assert _graded("12", prediction) == (False, "unparsable")


# 5. More phrasings of a take-back: "that answer is wrong", "can't be right", "I think I made an
# error"; doubts ("seems wrong", "I don't think that's right") only before a redo.
@pytest.mark.parametrize("prediction", [
    "\\boxed{12}\n\nThat answer is wrong. Let me redo it.",
    "\\boxed{12}\n\nThis answer is incorrect. Let me redo it.",
    "\\boxed{12}\n\nThat can't be right. Let me recompute the total.",
    "\\boxed{12}\n\nWait, I think I made an error. Let me recalculate: 3 bags × 5",
    "\\boxed{12}\n\nI don't think that's right. Let me recompute.",
    "\\boxed{12}\n\nHmm, 12 seems wrong. Let me recompute.",
    "\\boxed{12}\n\nHmm, that doesn't seem right. Let me redo this.",
    "\\boxed{12}\n\nThat cannot be right.",
    "\\boxed{12}\n\nThis isn't right.",
    "\\boxed{12}\n\nMy answer is wrong.",
    "The answer is 12.\n\nThe answer is wrong. Let me redo it: 3 × 5 = 15, plus",
])
def test_more_take_backs_are_read(prediction):
    assert _graded("12", prediction) == (False, "unparsable")


@pytest.mark.parametrize("prediction", [
    "\\boxed{12}\n\nI don't think that's right. Let me recompute: 3 × 4 = 12. Yes.",
    "\\boxed{12}\n\nHmm, 12 seems wrong.",                 # a doubt, no redo
    "\\boxed{12}\n\nI don't think that's right.",
    "\\boxed{12}\n\nHmm, 12 seems wrong at first, but it checks out.",
    "\\boxed{12}\n\n13 is wrong. Let me redo it to be sure.",  # about another value
    "\\boxed{12}\n\nThat answer is correct.",
    "\\boxed{12}\n\nI don't think that's wrong.",
    "\\boxed{12}\n\nThe alternative, 13, can't be right.",
    "\\boxed{12}\n\nI think I made an error in step 2, but it doesn't change the result.",
])
def test_doubts_without_a_redo_and_judgements_of_other_values_take_nothing_back(prediction):
    assert _graded("12", prediction) == (True, "equal")


# 2. After a choice letter only explicit doubt makes it no choice; an option's own text stays.
@pytest.mark.parametrize("prediction", [
    "The answer is C, the best estimate.", "The answer is (C) 12 (the best approximation).", "Answer: C (best case)",
    "Answer: C (the worst case)", "The answer is C (in theory and practice).", "The answer is (C) Possibly",
    "Answer: (C) Unlikely", "The answer is C. Maybe", "\\boxed{(C) Possibly}", "The answer is C (no doubt).",
    "The answer is C, most likely the intended one since 3 × 4 = 12.",
])
def test_neutral_words_after_a_choice_letter_keep_it(prediction):
    assert _graded("C", prediction) == (True, "equal")


@pytest.mark.parametrize("prediction", [
    "The answer is C maybe", "The answer is C probably", "The answer is C, I think.", "The answer is C, I suppose.",
    "The answer is C (I'm guessing).", "The answer is (C) 12 (maybe)", "The answer is C (tentative).",
])
def test_explicit_doubt_after_a_choice_letter_is_still_no_choice(prediction):
    assert _graded("C", prediction) == (False, "unparsable")


# 2. For numbers "best case"/"worst case" is the question's condition (as before rules 33); "at
# best" and "estimate" still qualify.
@pytest.mark.parametrize("prediction", ["The answer is 12 (worst case).", "The answer is 12 (best case).",
                                        "#### 12 (worst case)", "\\boxed{12 \\text{ (worst case)}}",
                                        "The answer is 12 (in the worst case).", "The answer is 12 (best-case scenario)."])
def test_best_or_worst_case_after_a_number_is_a_condition(prediction):
    assert _graded("12", prediction) == (True, "equal")


@pytest.mark.parametrize("prediction", ["The answer is 12 (the best estimate).", "The answer is 12 (at worst).",
                                        "The answer is 12 (estimate)."])
def test_at_best_and_estimates_still_qualify_a_number(prediction):
    assert _graded("12", prediction)[0] is False


# 6. Doubt right after a boxed choice letter.
@pytest.mark.parametrize("prediction", ["\\boxed{C} (I'm guessing)", "\\boxed{C}, I suppose", "\\boxed{C}?",
                                        "\\boxed{C} (not sure)", "\\boxed{C}, maybe", "$\\boxed{C}$ (just a guess)",
                                        "\\boxed{(C)}, probably."])
def test_doubt_after_a_boxed_choice_letter_is_no_choice(prediction):
    assert _graded("C", prediction) == (False, "unparsable")


@pytest.mark.parametrize("prediction", ["\\boxed{C}, since option C is what I think fits.", "\\boxed{C} (best case)",
                                        "\\boxed{C}. I think this is right.", "\\boxed{C}, I'm confident.",
                                        "So \\boxed{C}. Maybe I should double check: yes.", "\\boxed{C} (no doubt)"])
def test_remarks_after_a_boxed_choice_letter_without_doubt_keep_it(prediction):
    assert _graded("C", prediction) == (True, "equal")


# -- review 2 of audit 39 ------------------------------------------------------------------------

# 1. A judgement of the sentence before it (a "common mistake" note) is no retraction of the answer:
# a judgement takes the answer back only right after the answer's sentence, or naming the answer.
@pytest.mark.parametrize("prediction", [
    "So the answer is \\boxed{12}.\n\nSome students add the bags and the apples. That is incorrect.",
    "So the answer is \\boxed{12}.\n\nMy first instinct was to add. That's not right, since each bag has 4 apples.",
    "\\boxed{12}\n\n**Common pitfall:** forgetting that each bag holds the same number. That's wrong.",
    "\\boxed{12}\n\nNote: a common mistake is to add instead of multiply. That's incorrect.",
])
def test_judgement_of_a_common_mistake_keeps_the_answer(prediction):
    assert _graded("12", prediction) == (True, "equal")


@pytest.mark.parametrize("prediction", [
    "\\boxed{12}\n\nHmm.\n\nWait... That's wrong.",
    "\\boxed{12}\n\nSome students add the bags. 12 is wrong, though.",
    "\\boxed{12}\n\nSome students add the bags. \\boxed{12} is wrong.",
    "\\boxed{12}\n\nSome students add the bags. That answer is wrong.",
])
def test_judgement_next_to_or_naming_the_answer_still_takes_it_back(prediction):
    assert _graded("12", prediction) == (False, "unparsable")


# 3. A redo whose last step gives the answer comes back to it, whatever number follows.
@pytest.mark.parametrize("prediction", [
    "\\boxed{12}\n\nWait, that's not right. Let me recompute: 4 + 4 + 4 = 12 apples in the 3 bags.",
    "\\boxed{12}\n\nWait, that's wrong. Let me redo it: 3 × 4 = 12 apples, i.e. 4 per bag.",
    "\\boxed{12}\n\nWait, that's not right. Let me recompute: 3 × 4 = 12, i.e. 3 × 4.",
])
def test_redo_whose_last_step_gives_the_answer_keeps_it(prediction):
    assert _graded("12", prediction) == (True, "equal")


@pytest.mark.parametrize("prediction", [
    "\\boxed{12}\n\nWait, that's not right. Let me recompute: 3 × 4 = 12. Then 3 × 5 =",
    "\\boxed{12}\n\nWait, that's not right. Let me recompute: 3 × 5 = 15 apples in the 3 bags.",
])
def test_redo_ending_elsewhere_still_takes_the_answer_back(prediction):
    assert _graded("12", prediction) == (False, "unparsable")


# 5. A remark after a choice letter that goes on past its doubt word explains the choice.
@pytest.mark.parametrize("prediction", [
    "\\boxed{C} (I think option C matches 3 × 4 = 12 exactly)", "\\boxed{C}, perhaps surprisingly.",
    "$\\boxed{C}$ (maybe surprising, but 3 × 4 = 12)", "The answer is C, perhaps surprisingly.",
    "Final answer: \\boxed{C}, I believe that's what the question intends, since 3 × 4 = 12.",
    "\\boxed{C} (probably the intended answer, since 3 × 4 = 12)",
])
def test_explaining_remark_after_a_choice_letter_keeps_it(prediction):
    assert _graded("C", prediction) == (True, "equal")


@pytest.mark.parametrize("prediction", ["\\boxed{C}, I think.", "\\boxed{C} (not sure)", "\\boxed{C}, maybe\n\nDone.",
                                        "The answer is C, I think so.", "\\boxed{C} (I'm not sure.)"])
def test_remark_that_is_only_doubt_still_voids_the_choice(prediction):
    assert _graded("C", prediction) == (False, "unparsable")


# 6. A colon written in LaTeX is the colon of a clock time or ratio.
@pytest.mark.parametrize("prediction", ["\\boxed{10\\colon 30}", "\\boxed{10{:}30}", "\\boxed{10\\mathbin{:}30}",
                                        "$10 \\colon 30$"])
def test_latex_colon_in_a_clock_time(prediction):
    assert _graded("10:30", prediction) == (True, "equal")
    assert _graded("10:45", prediction)[0] is False


def test_latex_colon_in_a_long_ratio():
    assert _graded("1:2:3", "\\boxed{2\\colon 4\\colon 6}") == (True, "equal")
    assert _graded("1:2:3", "\\boxed{2\\colon 4\\colon 7}")[0] is False


# 2. A word saying the answer holds counts only as a predicate about it, not modifying a noun; a
# step cut off at `=` names no value.
@pytest.mark.parametrize("prediction", [
    "\\boxed{12}\n\nThat's wrong. The correct total is 3 × 5 =",
    "\\boxed{12}\n\nWait, that's incorrect. The right way is to multiply 3 by 5:",
    "\\boxed{12}\n\nWait, that's wrong. Let me recompute using the same method but with 5 apples:",
    "\\boxed{12}\n\nWait, that's wrong. Let me recompute; the number of bags is still 3, so",
    "\\boxed{12}\n\nWait, that's wrong. Let me redo it. The total is still 15, so",
])
def test_a_stands_word_modifying_a_noun_holds_nothing(prediction):
    assert _graded("12", prediction) == (False, "unparsable")


@pytest.mark.parametrize("prediction", [
    "\\boxed{12}\n\nWait, that's wrong. Let me redo it. Hmm, actually 12 is still right.",
    "\\boxed{12}\n\nWait, that's wrong. Let me redo it. The total is still 12.",
    "\\boxed{12}\n\nWait, that's wrong. Let me redo. It doesn't change the result.",
    "\\boxed{12}\n\nWait, that's wrong. Let me redo. The answer remains the same.",
    "Final answer: 12\n\nHmm, this is incorrect? No — the arithmetic holds.",
])
def test_a_stands_predicate_about_the_answer_keeps_it(prediction):
    assert _graded("12", prediction) == (True, "equal")


# 4. More wordings of a take-back before a redo.
@pytest.mark.parametrize("prediction", [
    "\\boxed{12}\n\nI made an error. Let me reconsider.",
    "\\boxed{12}\n\nOops, I made a mistake. Let me rethink this.",
    "\\boxed{12}\n\nNo wait, I need to recount. 3 bags with 5 apples is",
    "\\boxed{12}\n\nThat's not quite right. Let me recompute.",
    "\\boxed{12}\n\nWait, that doesn't make sense. Let me start over.",
    "\\boxed{12}\n\nHold on, I think I miscounted. Let me recount the apples: 5 + 5 + 5 =",
    "\\boxed{12}\n\nWait, I think that's incorrect. Let me check again.",
    "\\boxed{12}\n\nOn second thought, that's not right. Let me redo the calculation with 5 apples per bag:",
    "\\boxed{12}\n\nI don't believe that's correct. Let me recompute.",
    "\\boxed{12}\n\nHmm, I'm not sure that's right. Let me redo this.",
    "\\boxed{12}\n\nHmm, that's off. Let me recompute the total.",
])
def test_more_wordings_of_a_take_back_are_read(prediction):
    assert _graded("12", prediction) == (False, "unparsable")


@pytest.mark.parametrize("prediction", [
    "\\boxed{12}\n\nThat doesn't make sense as a question about bags, but 3 × 4 = 12.",
    "\\boxed{12}\n\nHmm, I'm not sure that's right.",
    "\\boxed{12}\n\nWait, I think that's incorrect.",
    "\\boxed{12}\n\nLet me reconsider: 3 × 4 = 12. Yes.",
])
def test_doubts_without_a_redo_take_nothing_back(prediction):
    assert _graded("12", prediction) == (True, "equal")


def test_a_retraction_before_a_long_working_is_read():
    """The cheap first check read only the text's last 1,920 characters: a retraction right after the
    answer, then a long working cut at the token limit, scored right."""
    working = "We have 3 bags and each bag holds some apples, so we count them one by one carefully. " * 35
    text = "So the answer is \\boxed{12}. Wait, that's not right. Let me recompute the total. " + working + "3 × 5 = 15, plus"
    got = verify("12", text)
    assert not got.correct and "retracted" in got.reason, got
    assert verify("12", "So the answer is \\boxed{12}. " + working + "That gives twelve.").correct


@pytest.mark.timeout(30)  # (a hang guard: 64 KB took minutes with the unbounded pattern; ~0.1 s now)
def test_a_long_list_of_numbers_after_a_retraction_is_read():
    """`_STANDS_NUMBER` had no bound: 32 KB of "1,1,1,…" after a retraction took ~20 s."""
    got = verify("12", "\\boxed{12}. Wait, that's wrong. Let me redo it. " + "1," * 32000)
    assert not got.correct and "retracted" in got.reason, got
