"""Second review of rules 29 (extraction part): hedge readings that went too far or not far enough.

A line offering two values after a box ("12 or 13, depending on …") was a hedge even when it went
on to choose the box's value ("…; since we don't, it's 12."), and so was a list of possible
answers followed by a line choosing it. "… also works" missed `$x = 13$` and `\\(x = 13\\)`,
"Note: …" and a sentence going on after "works" ("13 also works, so both are valid."), while any
"least" or "maximum" nearby set the offer aside ("13 also works. The maximum is therefore 13.").
A bracket repeating the answer's number was a breakdown unless a denylisted word was in it:
`12 (12 doubtful)` passed. And "Final answer (in conclusion): 13" after a box was taken for a
remark on the value's unit or form, no second answer."""

import pytest

from rlvr.verifiers.math import verify
from rlvr.verifiers.math_restatement import breakdown_start

BOX = "We check each candidate.\n\n\\boxed{12}\n\n"


def _hedged(gold, text):
    verdict = verify(gold, text)
    return not verdict.correct and verdict.details["kind"] == "hedged"


# -- 1. two values offered, then one chosen ----------------------------------------------------

@pytest.mark.parametrize("after", [
    "12 or 13, depending on whether we count the teacher; since we don't, it's 12.",
    "12 or 13 depending on whether the teacher counts, but the problem says students only, so 12.",
    "Either 12 or 13, depending on the reading; the question asks for students, so 12.",
    "12 or 13, based on the parity argument it must be 12.",
    "12 or 13, depending on the reading.\nSo 12.",
    "Possible answers: 12, 13.\nChecking, 13 fails, so 12.",
])
def test_two_values_then_the_box_chosen_is_no_hedge(after):
    assert verify("12", BOX + after).correct


@pytest.mark.parametrize("after", [
    "12 or 13, depending on the reading. So 12 or 13.",
    "12 or 13, depending on whether we count the teacher; if we do, it's 13; if we don't, it's 12.",
    "12 or 13, depending on the reading.\n\nI'd say 13.",
    "Possible answers: 12, 13.\nSo 13.",
    "Possible answers: 12, 13.\n\nIf strict, 12.",
])
def test_two_values_left_open_still_hedge(after):
    assert _hedged("12", BOX + after)


# -- 2. "… also works" ---------------------------------------------------------------------------

@pytest.mark.parametrize("after", [
    "$x = 13$ also works.", "Note: $n=13$ also works.", "\\(x = 13\\) also works.", "Note: 13 also works.",
    "x = 13 also works, so both are valid.", "13 also works, and 14 also works.",
    "13 works too, so both 12 and 13 are correct.",
    "x = 13 also works. At least, it satisfies the equation.", "13 also works. The maximum is therefore 13.",
])
def test_also_works_offers_are_hedges(after):
    assert _hedged("12", BOX + after)


@pytest.mark.parametrize("after", [
    "$k = 13$ also works.", "13 also works, but we want the smallest, so 12.", "13 also works, but the smallest is 12.",
    "13 also works. But we want the smallest, so 12.", "Method 2 also works, so 12.",
])
def test_also_works_set_aside_or_no_answer(after):
    assert verify("12", BOX + after).correct


# -- 3. a bracket repeating the answer's number ----------------------------------------------------

@pytest.mark.parametrize("said", [
    "The answer is 12 (12 doubtful).", "The answer is 12 (12 questionable).", "The answer is 12 (12 in theory).",
    "The answer is 12 (12 lol).",
])
def test_repeated_number_with_a_remark_is_no_breakdown(said):
    assert breakdown_start(said[len("The answer is "):].rstrip(".")) is None
    assert not verify("12", said).correct


@pytest.mark.parametrize("gold, said", [
    ("13", "The answer is 13 (13 people in all)."), ("12", "The answer is 12 (12 students)."),
    ("12", "The answer is 12 (12 in total)."), ("12", "The answer is 12 (12 cm)."),
])
def test_repeated_number_naming_a_count_is_a_breakdown(gold, said):
    assert verify(gold, said).correct


# -- 4. "Final answer (…)" remarks -----------------------------------------------------------------

@pytest.mark.parametrize("remark", ["in conclusion", "for real this time", "to be safe", "as computed above"])
def test_final_answer_remark_naming_no_unit_is_a_second_answer(remark):
    assert _hedged("12", BOX + "Final answer (%s): 13" % remark)


@pytest.mark.parametrize("gold, box, remark, value", [
    ("25", "25", "in dollars", "30"), ("0.3", "0.3", "in percent", "25"), ("12", "12", "rounded", "13"),
    ("0.5", "0.5", "as a fraction", "1/2"), ("0.5", "0.5", "in lowest terms", "1/2"),
])
def test_final_answer_remark_naming_a_unit_or_form_is_none(gold, box, remark, value):
    assert verify(gold, "Work.\n\n\\boxed{%s}\n\nFinal answer (%s): %s" % (box, remark, value)).correct


# -- third review: one branch's conclusion settles nothing -----------------------------------------

@pytest.mark.parametrize("after", [
    "12 or 13, depending on whether the teacher counts. Without the teacher it's 12. With the teacher it's 13.",
    "12 or 13, depending on the reading.\nReading A: it's 12. Reading B: it's 13.",
    "Possible answers: 12, 13.\nCase 1 gives 13; case 2: it's 12.",
    "13 also works. For the first configuration it's 12. For the second it's 13.",
    "12 or 13, depending on the interpretation. Hard to say, but I think it's 12. It might be 13 though.",
])
def test_a_conclusion_on_each_branch_is_still_a_hedge(after):
    assert _hedged("12", BOX + after)


@pytest.mark.parametrize("after", [
    "Note: 13 also works. However, 12 is the smallest.", "13 also works. 12 is the minimum.",
    "13 also works. But 12 is the smallest such value.", "$n = 24$ also works. However, $n = 12$ is the smallest.",
])
def test_the_box_said_to_be_the_extreme_sets_the_offer_aside(after):
    assert verify("12", BOX + after).correct


# -- third review: a bracket repeating the number ----------------------------------------------------

@pytest.mark.parametrize("gold, after", [
    ("12", "The answer is 13 (13 each)."), ("12", "The answer is 13 (13 blue marbles)."),
    ("12", "So the answer is 13 (13 red ones)."), ("12", "The answer is 13 (13 with the teacher)."),
    ("12", "The answer is 13 (13 per person)."), ("12", "The answer is 13 (13 doubtful)."),
])
def test_a_second_statement_with_its_number_repeated_is_a_hedge(gold, after):
    assert _hedged(gold, BOX + after)
    assert _hedged("1", "\\boxed{1}\n\nThe answer is 2 (2 way).")


@pytest.mark.parametrize("gold, said", [
    ("12", "The answer is 12 (12 blue marbles)."), ("1", "The answer is 1 (1 person)."),
    ("1", "The answer is 1 (1 solution)."), ("8", "The answer is 8 (8 distinct arrangements)."),
    ("12", "The answer is 12 (12 of them)."), ("12", "The answer is 12 (12 left)."),
    ("12", "The answer is 12 (12 per box)."), ("20\\%", "The answer is 20 (20 percent)."), ("12", "#### 12 (12 per day)"),
])
def test_repeated_number_naming_what_it_counts_is_right(gold, said):
    assert verify(gold, said).correct


@pytest.mark.parametrize("said", ["The answer is 12 (12 probably).", "The answer is 12 (12 maybe)."])
def test_repeated_number_with_a_doubt_word_is_no_breakdown(said):
    assert breakdown_start(said[len("The answer is "):].rstrip(".")) is None


# -- third review: "Final answer (…)" remarks are read by whole words -------------------------------

@pytest.mark.parametrize("remark", [
    "revised based on the check", "based on the corrected count", "replaced", "after reconsideration", "figured out",
    "standard", "mixed up earlier", "community answer",
])
def test_final_answer_remark_with_a_form_word_inside_another_word_is_a_second_answer(remark):
    assert _hedged("12", BOX + "Final answer (%s): 13" % remark)
