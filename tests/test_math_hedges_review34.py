"""Review of rules 29 (extraction part): regressions of the new hedge and breakdown readings.

A line offering two values after a box ("12 or 13 depending …") was matched with several
quantifiers over one run of spaces: thousands of spaces took minutes (quadratic, cubic after
"Either"). A bracket restating the answer's own number was taken for a breakdown even when its
words hedge it (`12 (12 tentative)`, `12 (12? let me recheck)`). "k = 2 also works." and an offer
set aside at once ("n = 24 also works. But we want the smallest, so 12.") were hedges. A
"Final answer (in percent): 25" after `\\boxed{0.25}` was a second answer, though a conversion is
none (rules 24). And `<answer>12, not 13</answer>` was unparsable while "The answer is 12, not 13"
reads 12."""


import pytest

from rlvr.verifiers.math import verify
from rlvr.verifiers.math_extract import _drop_remark, extract_answer, said_after
from rlvr.verifiers.math_restatement import breakdown_start
from rlvr.verifiers.math_retraction import value_line

BOX = "3 boxes of 4 make 12.\n\n\\boxed{12}\n\n"
N = 20000


def _hedged(gold, text):
    verdict = verify(gold, text)
    return not verdict.correct and verdict.details["kind"] == "hedged"


# -- 1. linear on long runs of spaces ----------------------------------------------------------

_SP, _TAB = " " * N, "\t " * (N // 2)


@pytest.mark.timeout(60)  # a hang guard: a quadratic reading runs past it
@pytest.mark.parametrize("text", [
    "\\boxed{12}\n12 or 13 depending" + _SP + "x",
    "\\boxed{12}\nEither" + _SP + "12" + _SP + "or" + _SP + "13" + _SP + "x",
    "\\boxed{12}\n12" + _SP + "or" + _SP + "13" + _SP + "x",
    "\\boxed{12}\n12 or 13" + _SP + "x",
    "\\boxed{12}\nEither 12 or 13" + _SP + "x",
    "\\boxed{12}\n12 or 13, depending on the count" + _SP + "(see above)",
    "\\boxed{12}\n12 or 13, depending on it" + _TAB + ".x",
    "\\boxed{12}\n12 or 13" + " *_" * (N // 3) + "x",
    "\\boxed{12}\n12," + _SP + "or" + _TAB + "13" + _SP + "x",
    ("\\boxed{12}\n12 or 13, depending on it" + " " * 300 + "x\n") * 60,
    "\\boxed{12}\n13" + _SP + "also" + _SP + "x",
    "\\boxed{12}\nk" + _SP + "=" + _SP + "13 also works x",
    "\\boxed{12}\n" + "13 also works." + _SP + "so" + _SP + "x",
    "\\boxed{12}\nFinal answer" + _SP + "(in" + _SP + ")" + _SP + "x",
    "The answer is 12 (12" + _SP + "students" + _SP + ")",
    "<answer>12," + _SP + "not 13" + _SP + "x</answer>",
])
def test_long_runs_of_spaces_cost_little(text):
    verify("12", text)


@pytest.mark.timeout(60)  # a hang guard: a quadratic reading runs past it
def test_value_line_alone_is_linear_on_spaces():
    assert value_line("\n12 or 13 depending" + _SP + "x", "12") is None
    assert value_line("\nEither" + _SP + "12" + _SP + "or" + _SP + "13" + _SP + "x", "12") is None


@pytest.mark.parametrize("tail", [
    "12 or 13", "Either 12 or 13.", "12 or 13, depending on interpretation.", "12 or 13 (not sure).",
    "12 , or 13", "12 or 13 depending on whether the teacher counts.", "**12 or 13**", "12 or 13  .  ",
    "12 or 13,\tdepending on it.   ",
])
def test_the_two_value_line_still_reads_its_offers(tail):
    assert value_line("\n\n" + tail, "12") == "13"
    assert _hedged("12", BOX + tail)


@pytest.mark.parametrize("tail", ["Either 3 or 4, the total is 12.", "12 or 13 = 25", "12 or 13 rows x"])
def test_a_two_value_line_with_more_after_it_is_no_offer(tail):
    assert value_line("\n\n" + tail, "12") is None


# -- 2. a bracket restating the answer with a hedge --------------------------------------------

@pytest.mark.parametrize("inside", [
    "12 tentative", "12 is an upper bound", "12 is an estimate", "12 I think", "12? let me recheck", "12 unverified",
    "12 hopefully", "12 I believe", "12 is likely", "12 needs checking", "12 upper bound", "12 is the upper limit",
    "12 tentatively", "12 is my answer", "12 students?",
])
def test_a_hedged_restatement_in_brackets_is_kept(inside):
    said = f"12 ({inside})"
    assert breakdown_start(said) is None
    assert _drop_remark(said) == said
    assert not verify("12", f"The answer is {said}.").correct
    assert not verify("12", f"#### {said}").correct


@pytest.mark.parametrize("gold, text", [
    ("13", "The answer is 13 (12 students and 1 teacher)."),
    ("13", "The answer is 13 (13 people in all)."),
    ("12", "The answer is 12 (3 boxes of 4 each)."),
    ("12", "#### 12 (12 students)"),
])
def test_a_plain_breakdown_is_still_a_remark(gold, text):
    assert verify(gold, text).correct


# -- 3. "… also works" ------------------------------------------------------------------------

@pytest.mark.parametrize("tail", [
    "k = 2 also works.", "m = 13 also works.", "n = 24 also works. But we want the smallest, so 12.",
    "Note that n = 24 also works, but we want the smallest.", "13 also works. But we need the least such number.",
    "24 also works, but it is not valid here.", "13 also works. We discard it since it is odd.", "13 also works. So 12.",
    "24 also works. The answer stays **12**.",
])
def test_an_offer_of_another_variable_or_set_aside_is_no_hedge(tail):
    assert verify("12", BOX + tail).correct


@pytest.mark.parametrize("tail", [
    "x = 13 would also work.", "n = 13 also works.", "13 also works.", "13 also works. So 12 or 13.",
    "13 also works. Check: 13 = 12 + 1.", "13 also works. So 12.5.",
])
def test_an_offer_of_the_answer_still_is_a_hedge(tail):
    assert _hedged("12", BOX + tail)


# -- 4. a unit or form in a "Final answer (…)" heading -----------------------------------------

@pytest.mark.parametrize("gold, text", [
    ("0.25", "\\boxed{0.25}\n\nFinal answer (in percent): 25"),
    ("0.5", "\\boxed{0.50}\n\nFinal answer (in cents): 50"),
    ("1.5", "\\boxed{1.5}\n\nFinal answer (in minutes): 90"),
    ("0.25", "\\boxed{0.25}\n\nFinal answer (in percent):\n25"),
    ("0.25", "\\boxed{0.25}\n\n**Final Answer (as a percentage)**\n25"),
    ("0.5", "\\boxed{0.5}\n\nFinal answer (cents): 50"),
    ("12", "\\boxed{12}\n\nFinal answer (part b): 7"),
])
def test_a_conversion_under_a_final_answer_heading_is_no_second_answer(gold, text):
    assert verify(gold, text).correct


def test_a_revised_final_answer_is_still_a_second_answer():
    assert _hedged("12", BOX + "Final answer (revised): 13")
    assert _hedged("12", BOX + "Final answer (corrected):\n13")
    assert said_after("\n\nFinal answer (updated): 13", "12") == "13"


def test_a_final_answer_with_a_unit_remark_alone_is_still_read():
    assert extract_answer("Some work.\n\nFinal answer (in dollars): 25") == "25"
    assert verify("25", "Final answer (in dollars): 25").correct


# -- 5. <answer> tags --------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "<answer>12, not 13</answer>", "<answer>12 rather than 13</answer>", "<answer>12 (not 13)</answer>",
    "<answer>12 (6 boys and 6 girls)</answer>", "<answer>$12$, not $13$</answer>",
])
def test_a_tag_drops_a_refused_value_and_a_breakdown(text):
    assert verify("12", text).correct
    assert not verify("13", text).correct


@pytest.mark.parametrize("text", ["<answer>12 (12 tentative)</answer>", "<answer>12 or 13</answer>"])
def test_a_hedged_tag_stays_wrong(text):
    assert not verify("12", text).correct
