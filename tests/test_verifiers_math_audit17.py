"""Math verifier: verdicts that lied on realistic outputs (session 17's audit), and their fixes.

A sign before a box, tiny values that equalled 0, words absorbed by a zero, boxes inside
`<think>`, clock times and ratios, a percent after a mixed number, articles and variables read as
choice letters, restatements in brackets, several boxes for one collection, vectors as tuples,
repeating decimals written with an ellipsis; then what two review rounds of the fixes found.
Most cases fail on the verifier as it was before; the rest are controls that must keep their verdict.
"""

from __future__ import annotations

import pytest
from conftest import assert_judged

from rlvr.verifiers.math import verify
from rlvr.verifiers.math_extract import all_boxed


@pytest.mark.parametrize("text, gold", [
    ("The answer is -\\boxed{20}.", "-20"),
    ("$x = -\\boxed{20}$", "-20"),
    ("$x = - \\boxed{20}$", "-20"),
    ("$x = \u2212\\boxed{5}$", "-5"),  # the Unicode minus sign
    ("$-\\boxed{\\frac{1}{2}}$", "-\\frac{1}{2}"),
    ("$x = \\pm\\boxed{3}$", "\\pm 3"),
    ("\\boxed{-\\boxed{7}}", "-7"),  # a box in a box reads the inner one, with its sign
])
def test_a_sign_before_a_box_is_part_of_the_answer(text, gold):
    assert verify(gold, text).correct
    unsigned = gold.replace("\\pm", "").lstrip("-").strip()
    assert not verify(unsigned, text).correct, "the box alone, without its sign, is not the answer"


def test_a_binary_minus_before_a_box_does_not_leave_the_box_as_the_answer():
    # `y = 2 - \boxed{20}` is no answer of 20 (nor of -18: the box is read with the minus before it)
    assert not verify("20", "So $y = 2 - \\boxed{20}$").correct
    assert not verify("20", "$x \\cdot - \\boxed{20}$").correct


@pytest.mark.parametrize("text", [
    "- \\boxed{20}",                       # a markdown bullet
    "Answer:\n- \\boxed{20}",              # a bullet on its own line
    "Final answer - \\boxed{20}",          # a dash in prose, after a word
    "Final answer: - \\boxed{20}",
    "the result is -\n\\boxed{20}",        # a dash ending a line
    "\\boxed{20}",
    "The answer is $\\boxed{20}$.",
])
def test_a_bullet_or_a_dash_in_prose_is_no_sign(text):
    assert verify("20", text).correct
    assert not verify("-20", text).correct


def test_all_boxed_reports_the_sign_with_the_content():
    assert all_boxed("so $x = -\\boxed{4}$ and $y = \\boxed{5}$") == ["-(4)", "5"]
    assert all_boxed("- \\boxed{4}") == ["4"]


@pytest.mark.timeout(20)  # a hang guard: a look-back that rescanned the text would take minutes here
def test_the_look_back_for_a_sign_stays_linear():
    text = (" " * 100 + "= -\\boxed{1}") * 20_000  # 20 000 boxes, each with a sign after a run of spaces
    assert all_boxed(text) == ["-(1)"] * 64  # the last MAX_BOXES


@pytest.mark.parametrize("gold, answer", [
    ("e^{-50}", "0"),
    ("0", "e^{-50}"),
    ("e^{-60}", "e^{-61}"),
    ("\\frac{1}{e^{40}}", "0"),
])
def test_a_tiny_value_is_not_zero(gold, answer):
    verdict = verify(gold, f"\\boxed{{{answer}}}")
    assert not verdict.correct, verdict.reason
    assert verdict.error is None


@pytest.mark.parametrize("gold, answer", [
    # equal values whose 30-digit difference is rounding noise stay equal
    ("\\cos\\frac{2\\pi}{7}+\\cos\\frac{4\\pi}{7}+\\cos\\frac{6\\pi}{7}+\\frac12", "0"),
    ("\\cos\\frac{2\\pi}{7}+\\cos\\frac{4\\pi}{7}+\\cos\\frac{6\\pi}{7}", "-\\frac12"),
    ("e^{-50}", "\\frac{1}{e^{50}}"),
])
def test_equal_values_stay_equal_near_zero(gold, answer):
    verdict = verify(gold, f"\\boxed{{{answer}}}")
    assert verdict.correct, verdict.reason


# -- words read as variables: a product with a zero is no answer of zero ---------------------------

@pytest.mark.parametrize("gold, text", [
    ("0", "The answer is not 0."),
    ("0", "The answer is 0 but maybe 1"),
    ("0", "\\boxed{0 \\text{ maybe } 1}"),
    ("0", "\\boxed{\\text{not } 0}"),
    ("0", "\\boxed{0 \\text{ (wrong)}}"),
    ("0", "#### 0 but could be 1"),
    ("(0,0)", "\\boxed{(0 \\text{ maybe}, 0)}"),
    ("0", "\\boxed{0 \\cdot x}"),
])
def test_an_answer_depending_on_unknowns_is_not_a_value(gold, text):
    verdict = verify(gold, text)
    assert not verdict.correct, verdict.reason
    assert verdict.error is None


@pytest.mark.parametrize("gold, text", [
    ("0", "\\boxed{0}"), ("0", "\\boxed{x = 0}"), ("(0,0)", "\\boxed{(x,y) = (0,0)}"), ("5", "\\boxed{5 \\text{ apples}}"),
    ("2x", "\\boxed{x + x}"), ("0", "\\boxed{0\\%}"), ("\\pi", "\\boxed{\\pi}"), ("e^2", "\\boxed{e \\cdot e}"),
])
def test_values_and_named_values_still_equal_a_value(gold, text):
    assert verify(gold, text).correct


def test_the_unknowns_rule_applies_in_the_sympy_stage_too():
    # \sin on a variable sends the comparison to the sympy worker: 0 * sin(y) is still no value, and
    # an identity left unsimplified is the question restated, not the value (the reverse, a gold
    # written as the identity and the answer 1, stays right)
    assert not verify("0", "\\boxed{0 \\cdot \\sin y}").correct
    assert not verify("1", "\\boxed{\\sin^2 x + \\cos^2 x}").correct
    assert verify("\\sin^2 x + \\cos^2 x", "\\boxed{1}").correct


# -- a reasoning block holds reasoning ---------------------------------------------------------------

@pytest.mark.parametrize("gold, text, right", [
    ("42", "<think>\\boxed{42}</think>\nThe answer is 43", False),
    ("43", "<think>\\boxed{42}</think>\nThe answer is 43", True),
    ("42", "<think>\\boxed{42}</think>\n**Final Answer**\n43", False),
    ("42", "<think>first try \\boxed{41}</think>\n\\boxed{42}", True),  # no hedge: 41 was reasoning
    ("42", "<think>hmm, \\boxed{41}?</think>\n42", True),               # a bare answer after the block
    ("42", "<think>\\boxed{42}</think>", True),                         # nothing after: the block's box
    ("42", "<think>\\boxed{42}</think>\nDone.", True),                  # a word after a boxed block
    ("42", "<think>ok</think><answer>42</answer>", True),
])
def test_boxes_inside_a_reasoning_block_yield_to_the_answer_after_it(gold, text, right):
    assert verify(gold, text).correct is right


def test_extract_answer_reads_after_the_reasoning_block():
    from rlvr.verifiers.math_extract import after_reasoning, extract_answer
    assert extract_answer("<think>\\boxed{1}</think> The answer is 2.") == "2"
    assert after_reasoning("no block \\boxed{1}") == "no block \\boxed{1}"


# -- colons: clock times and ratios of three parts ----------------------------------------------------

@pytest.mark.parametrize("gold, text, right", [
    ("3:00", "\\boxed{6:00}", False),          # was 3/0 = 6/0
    ("10:30", "\\boxed{5:15}", False),         # was 1/3 = 1/3
    ("12:00", "\\boxed{1:00}", False),
    ("3:00", "\\boxed{3}", False),
    ("3:00", "\\boxed{3:00}", True),
    ("9:05", "\\boxed{09:05}", True),
    ("3:00 PM", "\\boxed{3:00 \\text{ p.m.}}", True),
    ("3:00 PM", "\\boxed{3:00 AM}", False),
    ("3:00 \\text{ PM}", "\\boxed{6:00 \\text{ PM}}", False),
    ("2:3:4", "\\boxed{1:2:3}", False),         # was (2/3)/4 = (1/2)/3
    ("2:1:1", "\\boxed{4:1:2}", False),
    ("1:2:3", "\\boxed{2:4:6}", True),          # proportional
    ("1:2:3", "\\boxed{1:6}", False),
    ("1:2:3", "\\boxed{\\frac16}", False),
    ("2:3", "\\boxed{\\frac23}", True),         # a two-part ratio is still its quotient
    ("2:3", "\\boxed{4:6}", True),
])
def test_clock_times_and_long_ratios(gold, text, right):
    assert_judged(gold, text, right)


# -- a percent sign after a mixed number -----------------------------------------------------------

@pytest.mark.parametrize("gold, text, right", [
    ("33\\frac{1}{3}\\%", "\\boxed{11\\%}", False),    # was 33 * (1/3 %)
    ("66\\frac23\\%", "\\boxed{44\\%}", False),
    ("33\\frac{1}{3}\\%", "\\boxed{\\frac13}", True),
    ("33\\frac{1}{3}\\%", "\\boxed{33.3\\%}", True),
    ("12\\frac12\\%", "\\boxed{\\frac18}", True),        # was an unparsable gold
    ("\\frac18", "\\boxed{12\\frac12\\%}", True),
    ("-2\\frac12\\%", "\\boxed{-0.025}", True),
    ("2\\frac12", "\\boxed{2.5}", True),
])
def test_a_percent_after_a_mixed_number_is_the_whole_numbers(gold, text, right):
    verdict = verify(gold, text)
    assert verdict.error is None, verdict.error
    assert verdict.correct is right, verdict.reason


# -- choice letters: the article and variables are no choices ---------------------------------------

@pytest.mark.parametrize("gold, text", [
    ("A", "The answer is a negative number, which matches option (C)."),
    ("A", "**Answer:** a square"),
    ("A", "Final Answer: a rectangle"),
    ("A", "The answer is a multiple of 3."),
    ("C", "The answer is $c = 12$, which is option (A)."),
    ("B", "\\boxed{b = 5}"),
    ("A", "\\boxed{a^2}"),
    ("A", "\\boxed{a the square}"),
])
def test_an_article_or_a_variable_is_no_choice_letter(gold, text):
    assert not verify(gold, text).correct


@pytest.mark.parametrize("gold, text", [
    ("B", "\\boxed{B}"), ("B", "The answer is (B)."), ("B", "The answer is b."), ("B", "\\boxed{(b)}"),
    ("B", "B) 12"), ("C", "(C) 12 apples"), ("B", "\\text{Option B}"), ("A", "a) 5"),
    ("A", "\\boxed{(a) the square}"), ("A", "\\boxed{a) the square}"),
])
def test_choice_letters_still_read(gold, text):
    assert verify(gold, text).correct


# -- a said answer restated in brackets ----------------------------------------------------------------

@pytest.mark.parametrize("gold, text, right", [
    ("\\frac34", "The answer is $\\frac{3}{4}$ (0.75).", True),        # was 3/4 * 0.75
    ("\\frac{9}{16}", "The answer is $\\frac{3}{4}$ (0.75).", False),  # ... which equalled 9/16
    ("\\frac12", "The answer is 50% (0.5).", True),
    ("\\frac34", "The answer is 0.75 (3/4).", True),
    ("\\frac12", "The answer is $\\frac12$ (or 0.5).", True),
    ("\\frac34", "The answer is $\\frac{3}{4}$ ($0.75$).", True),
    ("\\frac34", "The answer is $\\frac{3}{4}$ (0.8).", False),        # a restatement that differs: a hedge
    ("\\frac{\\sqrt2}{2}", "The answer is $\\frac{\\sqrt2}{2}$ (about 0.707).", True),
    ("\\frac34", "The answer is $\\frac{3}{4}$ (about 0.8).", True),   # a rounding is no second answer
    ("6", "\\boxed{2 (3)}", True),                                      # in a box, brackets still multiply
    ("7", "The answer is 7 (seven).", True),
])
def test_a_value_restated_in_brackets_after_a_said_answer(gold, text, right):
    assert_judged(gold, text, right)


def test_restatement_parts():
    from rlvr.verifiers.math_restatement import restatement_parts
    assert restatement_parts("$\\frac{3}{4}$ (0.75)") == ["$\\frac{3}{4}$", "0.75"]
    assert restatement_parts("$x$ (about 2.5)") == ["$x$"]
    assert restatement_parts("12 (twelve)") == ["12 (twelve)"]


# -- several boxes that together are the gold's list ----------------------------------------------------

@pytest.mark.parametrize("gold, text, right", [
    ("\\pm 2", "So $x = \\boxed{2}$ and $x = \\boxed{-2}$.", True),
    ("2, -2", "\\boxed{2} and \\boxed{-2}", True),
    ("\\{-2, 2\\}", "\\boxed{2}, \\boxed{-2}", True),
    ("(2, 3)", "$x = \\boxed{2}$, $y = \\boxed{3}$", True),   # in order, as `2, 3` for `(2, 3)`
    ("2", "\\boxed{2} and \\boxed{-2}", False),               # one value asked: still a hedge
    ("-2", "\\boxed{2} and \\boxed{-2}", False),
    ("2, -2", "\\boxed{2} and \\boxed{2}", False),
    ("2, 3, 4", "\\boxed{2} \\boxed{3}", False),
    ("2", "\\boxed{2} or \\boxed{3}", False),
])
def test_boxes_that_together_give_the_golds_values(gold, text, right):
    assert_judged(gold, text, right)


# -- vectors, repeating decimals written with an ellipsis, an exclaimed number ---------------------------

COLUMN = "\\begin{pmatrix}1\\\\2\\\\3\\end{pmatrix}"


@pytest.mark.parametrize("gold, text, right", [
    (COLUMN, "\\boxed{(1,2,3)}", True),
    ("(1,2,3)", f"\\boxed{{{COLUMN}}}", True),
    ("\\begin{pmatrix}1 & 2\\end{pmatrix}", "\\boxed{(1, 2)}", True),
    (COLUMN, "\\boxed{(1,3,2)}", False),
    (COLUMN, "\\boxed{(1,2)}", False),
    ("\\begin{pmatrix}1 & 2\\\\3 & 4\\end{pmatrix}", "\\boxed{(1,2,3,4)}", False),  # a matrix is no vector
    (COLUMN, "\\boxed{\\{1,2,3\\}}", False),
    ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\boxed{[1, 2]}", False),
])
def test_a_vector_written_as_a_tuple(gold, text, right):
    assert_judged(gold, text, right)


@pytest.mark.parametrize("gold, text, right", [
    ("\\frac13", "\\boxed{0.333\\ldots}", True),
    ("\\frac16", "\\boxed{0.1666\\ldots}", True),           # was 0.1666, which does not round to 1/6
    ("\\frac16", "The answer is 0.1666...", True),
    ("\\frac17", "\\boxed{0.142857142857\\dots}", True),
    ("\\frac{4}{33}", "\\boxed{0.1212\\ldots}", True),
    ("0.12", "\\boxed{0.1212\\ldots}", False),
    ("-\\frac13", "\\boxed{-0.333\\ldots}", True),
    ("\\frac13", "\\boxed{0.334\\ldots}", False),
    ("\\frac{\\sqrt2}{2}", "\\boxed{0.707\\ldots}", True),    # no repeating block: the decimal 0.707
])
def test_a_decimal_with_an_ellipsis_repeats_its_last_block(gold, text, right):
    assert_judged(gold, text, right)


def test_an_exclaimed_number_in_prose_is_no_factorial():
    assert verify("42", "The answer is 42!").correct
    assert verify("1000", "The final answer is 1,000!").correct
    assert not verify("42", "The answer is $42!$").correct  # in maths it is one


# -- found in review of the changes above -----------------------------------------------------------------

@pytest.mark.parametrize("gold, text, right", [
    # a dash after markup or a label is no sign; `--` is none either
    ("20", "**Answer** - \\boxed{20}", True),
    ("20", "**Answer:** - \\boxed{20}", True),
    ("B", "**Answer** - \\boxed{B}", True),
    ("20", "(a) - \\boxed{20}", True),
    ("20", "Answer -- \\boxed{20}", True),
    ("20", "<!-- \\boxed{20}", True),
    ("-20", "\\[ - \\boxed{20} \\]", True),
    # a tail after </think> that commits to nothing leaves the block's box the answer
    ("42", "<think>\\boxed{42}</think> $\\blacksquare$", True),
    ("42", "<think>x \\boxed{42}</think> The answer is boxed above.", True),
    ("42", "<think>\\boxed{42}</think> Q.E.D.", True),
    ("42", "<think>\\boxed{42}</think>\nDone.", True),
    # restatements of fractions and powers
    ("\\frac{9}{25}", "The answer is 3/5 (0.6).", False),
    ("\\frac35", "The answer is 3/5 (0.6).", True),
    ("10^6", "The answer is 1000 (10^3).", False),
    # colons: named ratio parts, zeros
    ("1:2:3", "x:y:z = 1:2:3", True),
    ("1:2:3", "$a : b : c = 2:4:6$", True),
    ("0:1:2", "\\boxed{0:1:2}", True),
    ("0:1:2", "\\boxed{0:2:4}", True),
    ("0:1:2", "\\boxed{1:2:4}", False),
    ("1:2:3", "\\boxed{0:0:0}", False),
    # a bracketed or marked-up capital is a choice; only "a" is an article
    ("C", "(C) $\\ge 2$", True),
    ("B", "(B) +3", True),
    ("B", "Answer: B*", True),
    ("B", "b is correct", True),
    ("C", "c only", True),
    # truncated irrationals are no repeating decimals: two copies of a block are not enough
    ("e", "\\boxed{2.718281828...}", True),
    ("\\sqrt[3]{2}", "\\boxed{1.2599...}", True),
    ("0.33", "\\boxed{0.33...}", True),
    ("-\\frac13", "\\boxed{-.333...}", True),
    # tiny values at any scale
    ("0", "\\boxed{e^{-250}}", False),
    ("e^{-250}", "\\boxed{e^{-251}}", False),
    ("0", "\\boxed{10^{-100}\\pi}", False),
    # several boxes with surds, pi or i: the values of the gold's collection
    ("\\pm\\sqrt2", "x=\\boxed{\\sqrt2} or x=\\boxed{-\\sqrt2}", True),
    ("\\frac{3\\pm\\sqrt5}{2}", "\\boxed{\\frac{3+\\sqrt5}{2}} and \\boxed{\\frac{3-\\sqrt5}{2}}", True),
    ("1\\pm i", "\\boxed{1+i}\\boxed{1-i}", True),
    ("\\sqrt2, \\sqrt3", "\\boxed{\\sqrt3}\\boxed{\\sqrt5}", False),
    ("\\sqrt2", "\\boxed{\\sqrt2} and \\boxed{-\\sqrt2}", False),
    ("1, 2", "\\boxed{1, 2} or \\boxed{3, 4}", False),
])
def test_review_findings(gold, text, right):
    assert_judged(gold, text, right)


def test_an_empty_box_gets_no_sign():
    from rlvr.verifiers.shaping import boxed_reward
    assert boxed_reward("x = -\\boxed{}") == 0.0


@pytest.mark.parametrize("text", [
    "The answer is 1 (" + " " * 40_000 + "x)",
    "The answer is 1" + " " * 40_000 + "(2)x",
    "\\boxed{3:00" + " " * 100_000 + "x}",
    "The answer is " + "1:" * 20_000 + "2",
])
@pytest.mark.timeout(20)  # a hang guard: the first restatement regex took 95 s on 40 000 spaces
def test_colon_and_restatement_rules_stay_fast(text):
    assert not verify("1", text).correct


@pytest.mark.parametrize("gold, text", [
    # an answer after the block, in any form, replaces a box tried inside it (second review)
    ("yes", "<think>Maybe \\boxed{yes}</think> The answer is no."),
    ("yes", "<think>\\boxed{yes}</think>\n#### no"),
    ("yes", "<think>\\boxed{yes}</think>\nNo"),
    ("east", "<think>\\boxed{east}</think> The answer is west."),
    ("5", "<think>\\boxed{5}</think> The answer is six."),
    ("5", "<think>\\boxed{5}</think> The answer is none."),
    ("5", "<think>\\boxed{5}</think> **6**"),
    ("5", "<think>\\boxed{5}</think> x = 6"),
    ("5", "<think>\\boxed{5}</think> \\(6\\)"),
    ("5", "<think>\\boxed{5}</think> 6 apples"),
    ("\\frac12", "<think>\\boxed{\\frac12}</think> \\frac{1}{3}"),
    ("5", "<think>\\boxed{5}</think> 6, 7"),
    ("5", "<think>\\boxed{5}</think> 5 or 6"),
    ("42", "<think>\\boxed{42}</think> (1)"),
    # a spaced minus after a lone letter, a call or a command is a sign
    ("20", "x - \\boxed{20}"),
    ("20", "f(x) - \\boxed{20}"),
    ("20", "**Answer** -\\boxed{20}"),
    # sympy's numbers do not underflow: e^{-1000} is not 0
    ("0", "\\boxed{e^{-1000}}"),
])
def test_second_review_findings(gold, text):
    verdict = verify(gold, text)
    assert not verdict.correct, verdict.reason


@pytest.mark.parametrize("gold, text", [
    ("20", "(a) - \\boxed{20}"), ("20", "1. - \\boxed{20}"), ("20", "Answer - \\boxed{20}"), ("-20", "$y = - \\boxed{20}$"),
    ("\\sqrt{2}", "\\boxed{1.41421356237309504880168872}"),
])
def test_second_review_controls(gold, text):
    verdict = verify(gold, text)
    assert verdict.correct, verdict.reason
