"""Rules 30: "X is also correct/possible/valid" after the final answer.

Before, the value written as maths setting the answer's variable (`$x = 13$`) was read as an
equation the grader could not place, so the second answer was missed and the box alone graded
right; and any number before "is also correct" was a second answer, even another variable's value
(`k = 2`) or a numbered part of the working ("Method 2"), which made right answers hedges.
"""

import inspect

import pytest

from rlvr.verifiers.math import verify
from rlvr.verifiers.math_extract import said_after
from rlvr.verifiers.math_retraction import _SET_TO_RE, second_answer

HEDGES = [
    "The answer is \\boxed{12}. $x = 13$ is also correct.",
    "The answer is \\boxed{12}. \\(x = 13\\) is also correct.",
    "The answer is \\boxed{12}. $n = 13$ would also be valid.",
    "The answer is \\boxed{12}. x = 13 is also correct.",
    "The answer is \\boxed{12}. $13$ is also correct.",
    "\\boxed{12}, though 13 is also possible.",
    "\\boxed{B}. Option C is also correct.",
]

RIGHT = [
    "The answer is \\boxed{12}. $x = 12$ is also correct.",
    "The answer is \\boxed{12}. $k = 2$ is also correct.",
    "The answer is \\boxed{12}. k = 2 is also valid.",
    "The answer is \\boxed{12}. Method 2 is also correct.",
    "The answer is \\boxed{12}. Step 3 is also valid.",
    "The answer is \\boxed{12}. Case 2 is also possible.",
]


@pytest.mark.parametrize("text", HEDGES)
def test_a_second_value_said_to_be_also_right_is_a_hedge(text):
    gold = "B" if "Option" in text else "12"
    verdict = verify(gold, text)
    assert verdict.score == 0.0, verdict


@pytest.mark.parametrize("text", RIGHT)
def test_the_same_value_another_variable_or_a_numbered_part_is_no_second_answer(text):
    verdict = verify("12", text)
    assert verdict.score == 1.0, verdict


def test_the_hedge_is_not_graded_right_for_the_second_value_either():
    assert verify("13", HEDGES[0]).score == 0.0


# -- review of rules 30 -------------------------------------------------------------------------

B = "The answer is \\boxed{12}. "


@pytest.mark.parametrize("text", [
    B + "\\(x = 12\\) works; \\(x = 13\\) is also correct.",
    B + "For \\(k = 2\\), \\(x = 13\\) is also correct.",
    B + "Substituting \\(x = 13\\) gives \\(0\\), so \\(x = 13\\) is also correct.",
])
def test_a_bracketed_maths_value_ends_at_its_own_closing_bracket(text):
    # The value `\(…\)` ran from the first `\(` of the line to the `\)` before "is also", swallowing
    # the maths before it, so the offer read as no value and the hedge was missed.
    assert verify("12", text).score == 0.0


@pytest.mark.parametrize("text", [
    "\\boxed{12}. Case $n = 1$ is also valid.",
    B + "Case $n = 1$ is also valid.",
    B + "The base case $n = 1$ is also correct.",
    B + "Setting $x = 0$ is also valid.",
    B + "Plugging in $x = 0$ is also valid.",
    B + "Step $3$ is also valid.",
])
def test_a_case_or_a_step_setting_the_answers_variable_is_no_second_answer(text):
    assert verify("12", text).score == 1.0


@pytest.mark.parametrize("text", [
    B + "The other solution 13 is also valid.",
    B + "Another solution $13$ is also valid.",
    B + "Either way 13 is also correct.",
    B + "Solution 13 is also correct.",
    B + "The other method 13 is also correct.",
    "\\boxed{12}. One more thing 13 is also correct.",
    "\\boxed{12}, though 13 is also possible.",
    "\\boxed{12}. Note that x = 13 would also be correct.",
])
def test_a_value_named_as_another_answer_is_still_a_hedge(text):
    # "solution" and "way" name answers, and a determiner before a part's word makes the value one
    # of them; only a part's own number right after its word ("Method 2") is skipped.
    verdict = verify("12", text)
    assert verdict.score == 0.0 and verdict.details["kind"] == "hedged", verdict


@pytest.mark.parametrize("text", [
    "\\boxed{12}. That is, k = 12. k = 13 is also valid.",
    "\\boxed{12}. That is, $k = 12$. $k = 13$ is also valid.",
    "\\boxed{12}. That is, k = 12. k = 13 also works.",
])
def test_a_variable_set_to_the_answer_is_the_answers_variable(text):
    assert verify("12", text).score == 0.0


def test_second_answer_reads_the_answers_variable_from_the_text_before_the_answer():
    tail = "$. But m = 13 is also possible."
    assert second_answer(tail, "12") is None  # m is not known as the answer's variable
    assert second_answer(tail, "12", head="So $m = \\boxed{12}") == (7, "13")
    assert second_answer("\n\nk = 13 is also valid.", "12", head="So k = 12.\n\n\\boxed{12}") == (2, "13")
    assert second_answer("$. m = 13 also works.", "12", head="So $m = \\boxed{12}") == (3, "13")
    assert second_answer("\n\nk = 2 is also valid.", "12", head="So m = 12.\n\n\\boxed{12}") is None
    assert second_answer("\n\nk = 13 is also valid.", "12", head="So k = 13.\n\n\\boxed{12}") is None


_HEAD_READ = "head" in inspect.signature(said_after).parameters


@pytest.mark.skipif(not _HEAD_READ, reason="math_extract does not pass the text before the answer on yet")
@pytest.mark.parametrize("text", [
    "So $m = \\boxed{12}$. But m = 13 is also possible.",
    "The answer is $y = \\boxed{12}$. y = 13 is also correct.",
    "So k = 12.\n\n\\boxed{12}\n\nk = 13 is also valid.",
    "So $m = \\boxed{12}$. m = 13 also works.",
])
def test_a_variable_set_to_the_boxed_value_is_the_answers_variable(text):
    assert verify("12", text).score == 0.0


@pytest.mark.parametrize("text", [
    "The answer is \\boxed{12}. k = 2 is also valid.",
    "The answer is \\boxed{12}. k = 2 also works.",
    "So $m = \\boxed{12}$. But k = 13 is also possible.",
    "So $m = \\boxed{12}$. But m = 12 is also possible.",
])
def test_another_variables_value_stays_no_second_answer(text):
    assert verify("12", text).score == 1.0


@pytest.mark.parametrize("text", [
    "\\boxed{12}\nIn that case 13 is also valid.",
    "\\boxed{12}\nIn the worst case 13 is also possible.",
    "\\boxed{12}\nStrictly speaking 13 is also correct.",
    "\\boxed{12}\nAfter rounding 13 is also acceptable.",
    "\\boxed{12}\nUnder a different reading 13 is also correct.",
    "The answer is 12.\nIn that case 13 is also valid.",
    "#### 12\nStrictly speaking 13 is also correct.",
    "\\boxed{12}\nIn that case $n = 13$ is also valid.",
    "\\boxed{12}\nStrictly speaking $x = 13$ is also correct.",
    "\\boxed{12}\nPlugging in 13 is also valid.",
])
def test_a_word_before_a_plain_value_or_an_open_case_keeps_the_hedge(text):
    # Only a variable's setting after a substitution verb, a base case or a sentence-opening "Case"
    # is a condition; "In that case", "worst case" and any other -ing word offer another answer.
    verdict = verify("12", text)
    assert verdict.score == 0.0 and verdict.details["kind"] == "hedged", verdict


@pytest.mark.parametrize("text", [
    "The answer is \\boxed{12}. Case $n = 1$ is also valid.",
    "The answer is \\boxed{12}. The base case $n = 1$ is also correct.",
    "The answer is \\boxed{12}. Setting $x = 0$ is also valid.",
    "The answer is \\boxed{12}. Plugging in \\(x = 0\\) is also valid.",
    "The answer is \\boxed{12}. Method 2 works, and method 3 is also correct.",
])
def test_a_condition_setting_a_variable_or_a_parts_number_stays_no_answer(text):
    assert verify("12", text).score == 1.0


def test_a_value_set_inside_paren_maths_ends_before_its_closing_delimiter():
    assert [m["value"] for m in _SET_TO_RE.finditer("So \\(m = 12\\). Then \\[k = 3\\] and y = 4\\\\")] == \
        ["12", "3", "4"]


@pytest.mark.parametrize("text", [
    "So \\(m = 12\\).\n\\boxed{12}\nBut \\(m = 13\\) is also correct.",
    "Thus \\(m=12\\), so the answer is \\(\\boxed{12}\\). Note \\(m = 13\\) also works.",
    "So \\[m = 12\\]\n\\boxed{12}\nBut m = 13 is also correct.",
])
def test_a_variable_set_to_the_answer_in_paren_maths_is_the_answers_variable(text):
    assert verify("12", text).score == 0.0


# -- third review of rules 30 -------------------------------------------------------------------

W = "So the total is 4 + 8 = 12.\n\n\\boxed{12}\n\n"


@pytest.mark.parametrize("text", [
    W + "The case $n = 1$ is also valid.",
    W + "The edge case $n = 0$ is also valid.",
    W + "The trivial case $n = 1$ is also valid.",
    W + "The base case 1 is also valid.",
    W + "Checking $n = 1$ is also valid.",
    W + "Testing $x = 0$ is also valid.",
    W + "Verifying $n = 1$ is also valid.",
    W + "Setting $x = 0$ is also valid.",
])
def test_a_case_of_the_working_or_a_check_is_no_second_answer(text):
    # "case" counted only opening its sentence or after "base", and checking/testing were no
    # substitution verbs, so a case or a check of the working made a right answer a hedge.
    verdict = verify("12", text)
    assert verdict.score == 1.0, verdict


@pytest.mark.parametrize("text", [
    W + "Choosing x = 13 is also valid.",
    W + "Taking n = 13 is also correct.",
    W + "Letting n = 13 is also acceptable.",
    W + "In any case $n = 13$ is also valid.",
    W + "In either case n = 13 is also valid.",
    W + "In this case $x = 13$ is also valid.",
    W + "In the worst case $n = 13$ is also possible.",
])
def test_a_chosen_value_or_an_idiom_before_a_setting_stays_a_hedge(text):
    # Choosing, taking or letting the answer's variable be 13 offers 13; "in any/that/this case"
    # is an idiom, no case of the working.
    verdict = verify("12", text)
    assert verdict.score == 0.0 and verdict.details["kind"] == "hedged", verdict


@pytest.mark.parametrize("text", [
    W + "The result of step 2 is also correct.",
    W + "The formula in step 3 is also valid.",
    W + "The answer from equation 2 is also valid.",
    W + "Our method 2 is also correct.",
    W + "Using part 2 is also correct.",
    W + "Likewise step 3 is also valid.",
    W + "Similarly, step 3 is also valid.",
])
def test_a_parts_number_after_a_preposition_or_a_possessive_is_no_second_answer(text):
    # Only a short list of joining words could stand before the part's word, so "of step 2" or
    # "Our method 2" read as another answer.
    verdict = verify("12", text)
    assert verdict.score == 1.0, verdict


@pytest.mark.parametrize("text", [
    W + "A different method 2 is also correct.",
    W + "The second method 2 is also correct.",
    W + "Another approach 13 is also valid.",
    W + "The other method 13 is also correct.",
    W + "In the worst case 13 is also possible.",
    W + "In that case 13 is also valid.",
])
def test_a_determiner_naming_another_answer_before_a_parts_word_keeps_the_hedge(text):
    verdict = verify("12", text)
    assert verdict.score == 0.0 and verdict.details["kind"] == "hedged", verdict


# -- fourth review of rules 30 ------------------------------------------------------------------

V = "Solving, we get x = 12.\n\n\\boxed{12}\n\n"


@pytest.mark.parametrize("text", [
    V + "In both cases x = 13 is also possible.",
    V + "From the first equation x = 13 is also a valid answer.",
    V + "Using the formula x = 13 is also correct.",
    V + "With the quadratic formula x = 13 is also valid.",
    V + "Using the formula x = 130 is also correct.",
    V + "In both cases $x = 13$ is also possible.",
    V + "Using $x = 1$ is also valid.",
])
def test_a_variables_setting_after_a_parts_word_is_no_parts_number(text):
    # The 13 of "x = 13" was tested as the part's own number ("equation 13"), so a two-digit
    # setting after any part's word was no second answer (a three-digit one or `$x = 13$` was).
    verdict = verify("12", text)
    assert verdict.score == 0.0 and verdict.details["kind"] == "hedged", verdict


@pytest.mark.parametrize("text", [
    V + "The other case x = 13 is also valid.",
    V + "The other case $x = 13$ is also valid.",
    V + "Another case x = 130 is also valid.",
    V + "The second case x = 130 is also valid.",
    V + "In the worst case $n = 13$ is also possible.",
    V + "In which case x = 13 is also valid.",
    V + "Trying x = 13 is also valid.",
])
def test_a_case_named_as_another_answer_or_a_try_before_a_setting_stays_a_hedge(text):
    verdict = verify("12", text)
    assert verdict.score == 0.0 and verdict.details["kind"] == "hedged", verdict


@pytest.mark.parametrize("text", [
    V + "In the base case $n = 1$ is also valid.",
    V + "In the edge case $x = 0$ is also valid.",
    V + "The edge case $x = 0$ is also valid.",
    V + "Method 2 is also correct.",
    V + "Setting $x = 0$ is also valid.",
])
def test_a_case_of_the_working_after_in_the_is_no_second_answer(text):
    # Any "in" up to two words before "case" was read as the idiom "in that case", so a base or
    # edge case of the working made a right answer a hedge.
    verdict = verify("12", text)
    assert verdict.score == 1.0, verdict


# -- final review of rules 30 -------------------------------------------------------------------

F = "Solving, we get x = 12.\n\n\\boxed{12}\n\n"


@pytest.mark.parametrize("text", [F + lead + " x = 13 is also valid." for lead in (
    "In such a case", "In the latter case", "In the former case", "In the remaining case", "In the first case",
    "In the third case", "In the last case", "In the opposite case", "In the negative case", "In some cases",
    "In many cases", "In case", "In the case", "Both cases", "In the general case", "The best case",
    "In the case of", "Checking case",
)] + [F + lead + " 13 is also valid." for lead in (
    "In such a case", "In the latter case", "In some cases", "In case", "In the case", "Both cases",
)] + [F + "The answer is 12. In the case $x = 13$ is also valid."])
def test_any_word_before_case_but_a_working_cases_keeps_the_hedge(text):
    # Only a short list of words naming another answer was tested, and only the one word right
    # before "case", so "In such a case", "In the latter case", "In some cases", "In case" and "In the
    # case" before 13 or x = 13 named a case of the working and a hedge graded right. (Until this
    # review "In the case $n = 1$" was read as "In the base case"; it reads as a condition offering
    # another value, as "In case" does.)
    verdict = verify("12", text)
    assert verdict.score == 0.0 and verdict.details["kind"] == "hedged", verdict


@pytest.mark.parametrize("text", [
    F + "Case $n = 1$ is also valid.",
    F + "The case $n = 1$ is also valid.",
    F + "Checked. The case $n = 1$ is also valid.",
    F + "- Case $n = 1$ is also valid.",
    F + "The base case $n = 1$ is also correct.",
    F + "In the base case $n = 1$ is also valid.",
    F + "The edge case $x = 0$ is also valid.",
    F + "The trivial case $n = 1$ is also valid.",
    F + "In the boundary case $x = 0$ is also valid.",
    F + "The inductive case n = 2 is also valid.",
    F + "In the degenerate case $x = 0$ is also valid.",
    F + "The initial case n = 0 is also valid.",
    F + "Checking $n = 1$ is also valid.",
    F + "Setting $x = 0$ is also valid.",
    F + "Case 2 is also valid.",
    F + "The base case 1 is also valid.",
    F + "The result of case 2 is also correct.",
])
def test_a_working_case_or_an_opening_case_is_no_second_answer(text):
    verdict = verify("12", text)
    assert verdict.score == 1.0, verdict


# Long inputs: each is read by a linear scan. No wall-clock bound here (tests check behaviour, not
# timings): the verdict must be the right one and no error, and a quadratic reading would run past
# the pytest timeout below rather than pass.
@pytest.mark.timeout(120)
@pytest.mark.parametrize("text, score", [
    ("\\boxed{12}. " + "k = 1, " * 15000 + "k = 12. k = 13 is also valid.", 0.0),
    ("\\boxed{12}. " + "\\(y \\) " * 12000 + "\\(x = 13\\) is also correct.", 0.0),
    ("\\boxed{12}. " + "Case 2 is also valid. " * 5000, 1.0),
    ("\\boxed{12}. " + "In that case " * 8000 + "13 is also valid.", 0.0),
    ("\\boxed{12}. " + "Setting " * 12000 + "$x = 13$ is also valid.", 1.0),
    ("\\boxed{12}. " + "\\(m = 1\\) " * 9000 + "\\(m = 13\\) is also correct.", 1.0),
    # ("In the case $n = 13$" offers 13 since the final review, as "In the other case" does)
    ("\\boxed{12}. " + "In the case " * 8000 + "$n = 13$ is also valid.", 0.0),
    ("\\boxed{12}. " + "In the base case " * 8000 + "$n = 1$ is also valid.", 1.0),
    ("\\boxed{12}. " + "In the other case " * 8000 + "$n = 13$ is also valid.", 0.0),
    ("\\boxed{12}. " + "The result of step 2 is also correct. " * 4000, 1.0),
])
def test_long_inputs_get_the_right_verdict(text, score):
    verdict = verify("12", text)
    assert verdict.error is None and verdict.score == score, verdict.reason
