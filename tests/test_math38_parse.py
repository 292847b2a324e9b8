"""Audit 38 (math parsing): a function applied (`f(2x)`) was read as a product, `\\overline{…}` was
dropped, a one-sentence worked solution was accepted as a gold no answer could equal, and a bare
number of more than 200 digits was "no final answer found"."""

from __future__ import annotations

import pytest

import rlvr
from rlvr.envs.errors import DatasetError
from conftest import verify_boxed
from rlvr.verifiers.math import GoldAnswerError, validate_gold, verify
from rlvr.verifiers.math_parse import parse


def _correct(gold: str, answer: str) -> bool:
    return verify_boxed(gold, answer).correct


# ------------------------------------------------------------------ A: f(...) is a function applied


@pytest.mark.parametrize("gold, answer", [
    ("f(2x)", "2f(x)"), ("f(x+y)", "f(x)+f(y)"), ("f(3)", "3f(1)"), ("f(x)f(y)", "f(x+y)"),
    ("f(x) + g(2x)", "f(x) + 2g(x)"), ("f(g(x+y))", "f(g(x) + g(y))"),
    ("f'(2)", "2f'(1)"), ("f(x) = x^2", "f(x) = 2x"), ("f(x)", "f(y)"),
])
def test_a_function_applied_is_no_product(gold, answer):
    # read as f times the bracket, each pair was "identical expressions" or "simplifies to 0"
    assert not _correct(gold, answer)


@pytest.mark.parametrize("gold, answer", [
    ("f(x)", "f(x)"), ("f(x+1)", "f(1+x)"), ("f(2x)", "f(x \\cdot 2)"), ("f(2)", "f(2.0)"), ("2f(x)", "f(x) \\cdot 2"),
    ("f(x)^2 + 1", "1 + f(x)f(x)"), ("g(f(2))", "g(f(2))"), ("f(x, y)", "f(x,y)"),
    ("x^2", "f(x) = x^2"), ("5", "f(2) = 5"), ("2", "f^{-1}(3) = 2"), ("3", "f'(2) = 3"),
    # any other letter before a bracket is a factor, as in MATH's answers
    ("x(x+1)", "x^2+x"), ("a(b+c)", "ab+ac"), ("2x(3)", "6x"), ("P(x)", "P \\cdot x"), ("\\frac{h(a+b)}{2}", "\\frac{(a+b)h}{2}"),
])
def test_functions_and_products_keep_their_right_answers(gold, answer):
    assert _correct(gold, answer)


def test_the_parse_of_an_applied_function_is_one_value():
    assert parse("f(2x)")[:2] == ("sym", "f(2*x)")
    assert parse("f(x+1)")[:2] == parse("f(1+x)")[:2]
    assert parse("x(x+1)")[0] == "mul"


# review of audit 38: g alone is a factor (gravity), f's argument compares by value


@pytest.mark.parametrize("gold, answer", [
    ("\\frac{g(m_1 - m_2)}{m_1 + m_2}", "\\frac{(m_1 - m_2)g}{m_1+m_2}"), ("g(M+m)", "(M+m)g"),
    ("mg(h_1 - h_2)", "mgh_1 - mgh_2"), ("\\sqrt{2g(h_1-h_2)}", "\\sqrt{2gh_1 - 2gh_2}"),
    ("\\frac{1}{2}g t^2", "\\frac{1}{2}g(t^2)"), ("g(2x)", "2g(x)"),
])
def test_g_without_f_is_a_factor(gold, answer):
    # with g always a function, each was "different expressions"
    assert _correct(gold, answer)
    assert _correct(answer, gold)


def test_g_is_a_function_in_a_text_that_applies_f():
    assert parse("f(x) + g(x)")[2][:2] == ("sym", "g(x)")
    assert parse("g(f(x))")[:2] == ("sym", "g(f(x))")
    assert parse("f'(x) g(x)")[2][:2] == ("sym", "g(x)")
    assert parse("f_1(x) g(x)")[2][:2] == ("sym", "g(x)")
    assert parse("g(x)")[0] == "mul"
    assert parse("f g(x)")[0] == "mul"  # f before no bracket applies nothing


@pytest.mark.parametrize("gold, answer", [
    ("f(3)", "f(1+2)"), ("f(4)", "f(2^2)"), ("f(3)", "f(\\frac62)"), ("f(\\frac{x}{2})", "f(0.5x)"),
    ("f(2x+2)", "f(2(x+1))"), ("f(4-x)", "f(-(x-4))"), ("f(\\sqrt x)", "f(x^{1/2})"), ("f(2x)", "f(x+x)"),
    ("f(3)", "f(\\frac{6}{2})"), ("f(x^2+2x+1)", "f((x+1)^2)"), ("f(g(1+1))", "f(g(2))"), ("f(2, 1+2)", "f(2, 3)"),
    ("2f(3) + 1", "1 + f(1+2) + f(3)"), ("f(x) = 2x+3", "f(x) = 3+2x"),
])
def test_a_function_argument_compares_by_value(gold, answer):
    # named by the text of its argument, each was "different expressions"
    assert _correct(gold, answer)


@pytest.mark.parametrize("gold, answer", [
    ("f(3)", "f(1+3)"), ("f(x+1)", "f(x+2)"), ("f(2x)", "2f(x)"), ("f(2x)", "f(x)+f(x)"), ("f(x^2)", "f(x)^2"),
    ("f(x+y)", "f(x)+f(y)"), ("f(2, 3)", "f(3, 2)"), ("f(x)", "x"),
])
def test_a_function_argument_by_value_keeps_wrong_answers_wrong(gold, answer):
    assert not _correct(gold, answer)


@pytest.mark.parametrize("gold, answer", [
    ("\\overline{A_1B_1}", "A_1B_1"), ("\\overline{A'B'}", "A'B'"), ("2\\overline{P_1P_2}", "2P_1P_2"),
    ("\\overline{A}", "A"), ("\\overline{A_{12}B}", "A_{12}B"),
])
def test_a_segment_with_primes_or_subscripts_is_its_points(gold, answer):
    assert _correct(gold, answer)


@pytest.mark.parametrize("gold, answer", [
    ("\\frac13", "0.\\bar{3}"), ("\\frac{37}{30}", "1.2\\bar{3}"), ("\\frac73", "2.\\bar3"), ("\\frac{4}{11}", "0.\\bar{36}"),
])
def test_a_barred_repeating_decimal_is_its_value(gold, answer):
    # read as "0." times a conjugate, `0.\bar{3}` was 0 and `2.\bar{3}` 6
    assert _correct(gold, answer)
    assert _correct(answer, gold)


@pytest.mark.parametrize("gold, answer", [
    ("0", "0.\\bar{3}"), ("6", "2.\\bar{3}"), ("3.6", "1.2\\bar{3}"), ("0.\\bar{3}", "0"),
])
def test_a_barred_repeating_decimal_is_not_a_product(gold, answer):
    assert not _correct(gold, answer)


@pytest.mark.parametrize("gold", [
    "SO(3)", "SO(3) \\times SO(2)", "SO_2", "IS_1", "GETS_2", "so(3)", "is_prime(5)",
    "The group is $\\boxed{SO(3)}$.", "#### SO(3)", "Thus $\\boxed{5}$ is the answer", "12 is\n#### 12",
])
def test_validate_gold_keeps_capitals_and_names_before_a_bracket_or_subscript(gold):
    validate_gold(gold)


def test_a_lie_group_gold_builds_an_env():
    env = rlvr.make("rlvr/Math-v0", dataset=[{"problem": "Rotations of R^3?", "solution": "SO(3)"}])
    env.reset(options={"index": 0})
    assert env.step("The rotation group is \\boxed{SO(3)}.")[1] == 1.0


# ------------------------------------------------------------------ B: \overline is a conjugate


@pytest.mark.parametrize("gold, answer", [
    ("2-3i", "\\overline{2-3i}"), ("\\overline{z}", "z"), ("z", "\\bar{z}"), ("\\overline{z+1}", "z+1"),
    ("\\overline{x}", "x"),
])
def test_a_bar_is_never_dropped(gold, answer):
    assert not _correct(gold, answer)


@pytest.mark.parametrize("gold, answer", [
    ("2+3i", "\\overline{2-3i}"), ("\\overline{z}", "\\overline{z}"), ("\\bar{z}", "\\overline{z}"),
    ("\\overline{z+1}", "\\overline{1+z}"), ("5", "\\overline{5}"), ("\\frac13", "0.\\overline{3}"),
    ("\\frac{7}{30}", "0.2\\overline{3}"), ("5", "\\overline{AB} = 5"), ("AB = 5", "\\overline{AB} = 5"),
    ("7-24i", "\\overline{(4+3i)^2}"),
])
def test_conjugates_repeating_decimals_and_segments_keep_their_right_answers(gold, answer):
    assert _correct(gold, answer)


# ------------------------------------------------------------------ C: a sentence is not a gold


@pytest.mark.parametrize("gold", [
    "The area is 12 square units.", "Multiplying, we get 12.", "There are 12 apples.", "Half of 24 is 12",
    "So x equals 4", "Thus 12", "Since 3+4=7, the sum is 7.", "The total cost is 12 dollars", "Hence $x = 4$",
])
def test_validate_gold_refuses_a_sentence_stating_the_answer(gold):
    with pytest.raises(GoldAnswerError, match=r"reads as a sentence .*\\boxed"):
        validate_gold(gold)


@pytest.mark.parametrize("gold, norm", [
    ("Monday", "Monday"), ("yes", "yes"), ("Alice", "Alice"), ("(C)", "(C)"), ("east", "east"),
    ("\\text{Monday}", "Monday"), ("12 apples", "12"), ("x^2+2x+1", "x^2+2x+1"), ("x = 4", "x = 4"),
    ("15 out of 20", "15 out of 20"), ("Yes, it is possible", "Yes, it is possible"),
    ("The answer is 12", "12"), ("So the area is $\\boxed{12}$.", "12"), ("3 + 2is", "3 + 2is"),
    ("She has 5 apples left", "She has 5 apples left"),
])
def test_validate_gold_keeps_answers_with_words(gold, norm):
    assert validate_gold(gold) == norm


def test_a_one_sentence_solution_fails_the_env_build_naming_the_row():
    rows = [{"problem": "A rectangle is 3 by 4. What is its area?", "solution": "The area is $\\boxed{12}$."},
            {"problem": "A rectangle is 3 by 4. What is its area?", "solution": "The area is 12 square units."}]
    with pytest.raises(DatasetError, match=r"row 1: .*reads as a sentence"):
        rlvr.make("rlvr/Math-v0", dataset=rows)
    env = rlvr.make("rlvr/Math-v0", dataset=rows[:1])
    env.reset(options={"index": 0})
    assert env.step("3*4 = 12, so \\boxed{12}")[1] == 1.0


# ------------------------------------------------------------------ D: long numbers are answers


@pytest.mark.parametrize("number", [10**200, 2**1000, 3**2000])
def test_a_long_bare_number_is_graded(number):
    assert verify("\\boxed{%d}" % number, str(number)).correct
    assert verify(str(number), str(number)).correct
    wrong = verify(str(number), str(number + 1))
    assert not wrong.correct and wrong.details["kind"] == "wrong"


def test_a_long_number_with_a_unicode_minus_is_graded():
    number = "5" * 250
    assert verify("-" + number, "\u2212" + number).correct
    assert not verify("-" + number, "\u2212" + number + "1").correct


def test_a_number_longer_than_the_grader_reads_stays_unparsable():
    v = verify("5", "1" * 3500)
    assert not v.correct and "longer than 3000 characters" in v.reason
