"""Math verifier: equivalence table, hedging, hostile inputs, extraction, gold validation."""

from __future__ import annotations

import time

import pytest

from rlvr.verifiers.math import GoldAnswerError, extract_answer, validate_gold, validate_golds, verify, verify_batch

HANG_GUARD = 60.0  # seconds: a loose guard against hangs only; the checks themselves are behavioural

EQUAL = [
    # integers, separators, currency, units
    ("1000", "1,000"), ("1000", "1{,}000"), ("1234567", "1,234,567"), ("18", "$18"), ("18", "\\$18"),
    ("5", "5 \\text{ cm}"), ("12", "12 apples"), ("7", "7 dollars"), ("3", "3.0"), ("-4", "-4"),
    ("10", "\\text{10}"), ("42", "\\mathbf{42}"),
    # decimals, fractions, mixed numbers
    ("0.5", "\\frac{1}{2}"), ("0.5", "1/2"), ("\\frac12", "\\dfrac{1}{2}"), ("\\tfrac{3}{4}", "0.75"),
    ("5/2", "2\\frac{1}{2}"), ("5/2", "2 1/2"), ("-\\frac{1}{2}", "\\frac{-1}{2}"), ("\\frac{6}{8}", "\\frac34"),
    # percentages (convention: p% == p and p% == p/100)
    ("50", "50\\%"), ("0.5", "50\\%"), ("50\\%", "50"), ("12.5\\%", "12.5%"),
    # scientific notation
    ("1500", "1.5e3"), ("1500", "1.5 \\times 10^3"), ("0.001", "10^{-3}"), ("2\\cdot 10^{5}", "200000"),
    # roots, pi, infinity, trig
    # (a root or function left unevaluated in the answer is wrong, see test_verifiers_math_audit15; in the gold it is evaluated)
    ("\\sqrt{4}", "2"), ("\\sqrt[3]{8}", "2"), ("\\sqrt{8}", "2\\sqrt{2}"), ("\\sin(\\pi/3)", "\\frac{\\sqrt{3}}{2}"),
    ("\\pi", "\\pi"), ("2\\pi", "\\pi \\cdot 2"), ("\\infty", "\\infty"), ("\\frac{1}{\\sqrt2}", "\\frac{\\sqrt{2}}{2}"),
    # delimiters and spacing
    ("3", "$3$"), ("3", "\\(3\\)"), ("3", "\\[3\\]"), ("\\left(1,2\\right)", "(1, 2)"), ("4", "\\displaystyle 4"),
    # degrees
    ("30", "30^\\circ"), ("30", "30^{\\circ}"), ("30", "30°"),
    # symbolic
    ("x^2+2x+1", "(x+1)^2"), ("\\frac{x^2-1}{x-1}", "x+1"), ("2x", "x+x"), ("\\sin^2 x + \\cos^2 x", "1"),
    ("a b", "b a"), ("x+1", "1+x"), ("\\log_2 8", "3"),
    # equations and assignments
    ("3", "x = 3"), ("x = 3", "3"), ("x=3", "x = 3"), ("y = 2x + 1", "2x - y + 1 = 0"),
    # tuples, sets, unordered lists, intervals
    ("(1, 2)", "(1,2)"), ("\\{1, 2\\}", "\\{2, 1\\}"), ("1, 2, 3", "3, 2, 1"), ("\\{1,2\\}", "1 or 2"),
    ("[0, 1)", "[0,1)"), ("(3, \\infty)", "x > 3"), ("[1, 2)", "1 \\le x < 2"), ("(-\\infty, 2]", "x \\leq 2"),
    ("(-\\infty, 0) \\cup (1, \\infty)", "(1,\\infty) \\cup (-\\infty, 0)"), ("\\pm 2", "2, -2"), ("(1, 2)", "1, 2"),
    # matrices
    ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}"),
    ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix}\\frac{2}{2}\\\\2\\end{pmatrix}"),
    # multiple choice
    ("B", "(B)"), ("B", "\\text{(B)}"), ("C", "C) 12"),
    # floats with rounding (>= 3 significant digits, correctly rounded)
    ("1/3", "0.333"), ("\\pi", "3.14"), ("\\sqrt{2}", "1.414"),
    # one-element collections are that value
    ("2", "\\{2\\}"), ("2", "2, 2"),
]

DIFFERENT = [
    ("1000", "100"), ("0.5", "0.6"), ("1/3", "0.33"), ("2.5", "2.54"), ("(1,2]", "(1,2)"), ("x=3", "y=3"),
    ("x^2", "x^3"), ("\\{1,2\\}", "\\{1,3\\}"), ("1, 2", "1, 2, 3"), ("(1, 2)", "(2, 1)"), ("B", "C"),
    ("\\pi", "3"), ("\\sqrt{2}", "1.4"), ("\\sqrt{2}", "1.42"), ("5/2", "2\\cdot\\frac12"), ("\\infty", "-\\infty"),
    ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix}1&2\\\\3&5\\end{pmatrix}"), ("3", "(3, 4)"),
    ("x > 3", "x \\ge 3"), ("(1,2)", "\\{1, 2\\}"),
]

HEDGED = [
    ("2", "The answer is \\boxed{2} or \\boxed{3}."),
    ("2", "2 or 3"),
    ("2", "\\{2, 3\\}"),
    ("2021", "\\pm 2021"),
    ("2", "2, 3"),
    ("3", "x = 3 \\text{ or } x = -3"),
]


@pytest.mark.parametrize("gold,pred", EQUAL)
def test_equal(gold, pred):
    v = verify(gold, pred)
    assert v.correct, (gold, pred, v)
    assert v.details["kind"] == "equal" and v.score == 1.0


@pytest.mark.parametrize("gold,pred", DIFFERENT)
def test_different(gold, pred):
    v = verify(gold, pred)
    assert not v.correct, (gold, pred, v)
    assert v.details["kind"] == "wrong" and v.error is None and v.score == 0.0


@pytest.mark.parametrize("gold,pred", HEDGED)
def test_hedged_answers_never_rewarded(gold, pred):
    v = verify(gold, pred)
    assert not v.correct and v.score == 0.0
    assert v.details["kind"] == "hedged" and v.reason.startswith("hedged")


def test_several_equal_boxes_are_not_hedging():
    assert verify("1/2", "first \\boxed{0.5}, i.e. \\boxed{\\frac{1}{2}}").correct


def test_whole_outputs_on_both_sides():
    gold = "We compute 2+2. The answer is \\boxed{4}."
    pred = "<think>2 plus 2</think> So the final answer is $\\boxed{\\dfrac{8}{2}}$."
    assert verify(gold, pred).correct
    assert verify("72", "Natalia sold 24 clips. 48+24 = 72.\n#### 72").correct


def test_specific_reasons():
    assert verify("0.5", "\\frac12").reason == "equal as rationals"
    assert verify("7", "7.0").reason == "equal as integers"
    assert verify("2", "I don't know").details["kind"] == "unparsable"
    assert "no final answer" in verify("2", "Let me think about this problem for a while. Hmm.").reason


HOSTILE = ["10^{10^{10}}", "10**10**10", "1000000!", "(10^{10})!", "9^{9^{9^{9}}}",
           "2^{2^{2^{2^{2^{2^{2}}}}}}", "\\sqrt{10^{10^{10}}} - 1"]


@pytest.mark.parametrize("pred", HOSTILE)
def test_hostile_inputs_time_out_quickly(pred):
    start = time.monotonic()
    v = verify("2", f"\\boxed{{{pred}}}", timeout=1.0)
    assert not v.correct and v.error is None
    assert v.details["kind"] in ("timeout", "wrong", "unparsable")
    if v.details["kind"] == "timeout":
        assert v.reason in ("timed out after 1s", "too large to evaluate (worker memory limit)",
                            "too large to evaluate (recursion or overflow)")
    assert time.monotonic() - start < HANG_GUARD


def test_hostile_timeout_is_reported_as_timeout():
    v = verify("2", "\\boxed{10^{10^{10}}}", timeout=0.5)
    assert v.details["kind"] == "timeout" and v.reason == "timed out after 0.5s"


@pytest.mark.parametrize("text", [
    "\\boxed{" + "(" * 5000 + "1" + ")" * 5000 + "}",
    "\\boxed{" + "{" * 3000 + "1" + "}" * 3000 + "}",
    "\\boxed{" + "\\frac{" * 500 + "1" + "}{2}" * 500 + "}",
    "\\boxed{" + "1+" * 10000 + "1}",
    "\\boxed{" + "x" * 100000 + "}",
    "}" * 1000 + "\\boxed{" * 1000,
    "\x00\x01\ufffd\\boxed{\\begin{pmatrix}}",
    "",
])
def test_deep_or_huge_inputs_are_unparsable_fast(text):
    start = time.monotonic()
    v = verify("2", text, timeout=1.0)
    assert not v.correct and v.error is None
    assert v.details["kind"] == "unparsable"  # decided by the bounded parser, not by a timed-out worker
    assert time.monotonic() - start < HANG_GUARD


@pytest.mark.parametrize("pred", [None, b"bytes", ["a"]])  # a number is graded as its text (rules 31)
def test_non_text_predictions_get_a_verdict(pred):
    v = verify("12", pred)
    assert not v.correct and v.details["kind"] == "unparsable"


EXTRACT = [
    ("so \\boxed{5}.", "5"),
    ("\\boxed{1} then \\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
    ("\\boxed{\\frac{a}{\\sqrt{b}}}", "\\frac{a}{\\sqrt{b}}"),
    ("\\fbox{7}", "7"),
    ("\\boxed 5 is it", "5"),
    ("<answer>42</answer>", "42"),
    ("<think>x</think><answer> \\boxed{3} </answer>", "3"),
    ("The answer is 17.", "17"),
    ("Thus the final answer is $\\frac{3}{4}$. Done", "$\\frac{3}{4}$"),
    ("blah\n#### 1,234", "1,234"),
    ("no answer here 12 and 13", None),
    ("unterminated \\boxed{12", None),
]


@pytest.mark.parametrize("text,expected", EXTRACT)
def test_extract_answer(text, expected):
    assert extract_answer(text) == expected


def test_extract_fallback_is_opt_in():
    text = "we get 12 and then 13"
    assert extract_answer(text) is None
    assert extract_answer(text, fallback="last_number") == "13"
    with pytest.raises(ValueError, match="unknown fallback"):
        extract_answer(text, fallback="first_number")


def test_validate_gold_names_the_bad_answer():
    assert validate_gold("\\frac{1}{2}") == "\\frac{1}{2}"
    assert validate_gold(12) == "12"
    with pytest.raises(GoldAnswerError, match=r"\\\\frac\{1"):
        validate_gold("\\frac{1")
    with pytest.raises(GoldAnswerError, match="row 1"):
        validate_golds(["3", "@@@", "4"])
    with pytest.raises(GoldAnswerError, match="NoneType"):
        validate_gold(None)


def test_unparsable_gold_at_reward_time_is_an_error_not_a_zero():
    v = verify("\\frac{1", "1/2")
    assert v.error is not None and v.details["kind"] == "error"


def test_verify_batch_matches_verify_and_keeps_order():
    pairs = [(g, p) for g, p in EQUAL[:20] + DIFFERENT[:10] + HEDGED[:3]] * 2
    got = verify_batch(pairs)
    want = [verify(g, p) for g, p in pairs]
    assert [v.correct for v in got] == [v.correct for v in want]
    assert [v.details["kind"] for v in got] == [v.details["kind"] for v in want]


def test_verify_batch_bounds_hostile_pairs():
    pairs = [("2", "\\boxed{10^{10^{10}}}"), ("2", "\\boxed{2}"), ("x", "\\boxed{9^{9^{9^9}}}")]
    start = time.monotonic()
    got = verify_batch(pairs, timeout=0.5)
    assert time.monotonic() - start < HANG_GUARD
    assert got[1].correct and got[0].details["kind"] == "timeout" and got[0].reason == "timed out after 0.5s"
    assert got[2].details["kind"] == "timeout"


# -- multiple choice: several letters are a hedge ----------------------------------------------

@pytest.mark.parametrize("pred", [
    "A B C D", "(A), (B), (C), (D)", "A or B", "\\boxed{A \\text{ and } B}", "\\boxed{A, B}",
    "\\boxed{ABCD}", "\\boxed{A/B}", "The answer is A or B", "a or b",
])
def test_several_choice_letters_are_hedged(pred):
    v = verify("A", pred)
    assert not v.correct and v.details["kind"] == "hedged", (pred, v)


@pytest.mark.parametrize("gold,pred", [
    ("A", "A."), ("C", "C. 45 degrees"), ("A", "(A) 5 apples"), ("C", "\\boxed{\\textbf{(C) } 12}"),
    ("D", "\\textbf{(D)}"), ("C", "The answer is (C)"),
])
def test_one_choice_letter_with_its_option_text(gold, pred):
    assert verify(gold, pred).correct


# -- extraction: nested "the answer is", markdown emphasis ------------------------------------

@pytest.mark.parametrize("gold,pred", [
    ("42", "Final Answer: The final answer is $42$. I hope it is correct."),
    ("\\frac{1}{2}", "Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct."),
    ("42", "<answer>The answer is 42</answer>"),
    ("42", "**Answer:** 42"), ("42", "**Answer: 42**"), ("18", "The answer is **18**."), ("18", "**18**"),
    ("7", "*7*"), ("-3", "**Final answer:** $\\boxed{-3}$"),
    # Python powers and products are not markdown
    ("x^2+y^2", "x**2 + y**2"), ("24", "2*3*4"),
])
def test_minerva_format_and_markdown(gold, pred):
    v = verify(gold, pred)
    assert v.correct, (gold, pred, v)


def test_extract_answer_reapplies_the_answer_is_rule():
    assert extract_answer("Final Answer: The final answer is $42$. I hope it is correct.") == "$42$"
    assert extract_answer("<answer>The answer is 42</answer>") == "42"
    assert extract_answer("**Answer:** 42") == "42"


# -- word answers are text, not products of letters --------------------------------------------

@pytest.mark.parametrize("gold,pred,equal", [
    ("\\text{east}", "\\boxed{\\text{seat}}", False), ("no", "on", False), ("\\text{no}", "\\boxed{on}", False),
    ("yes", "The answer is no", False),
    ("\\text{Yes}", "\\boxed{\\text{yes}}", True), ("\\text{yes}", "yes", True), ("yes", "Yes.", True),
    ("\\text{Monday}", "Monday", True), ("\\text{Monday}", "monday", True), ("\\text{no solution}", "No solution.", True),
    ("\\theta", "theta", True), ("\\pi r^2", "r^2\\pi", True),
])
def test_word_answers_compare_as_text(gold, pred, equal):
    v = verify(gold, pred)
    assert v.correct is equal, (gold, pred, v)
    assert v.details["kind"] == ("equal" if equal else "wrong")


def test_a_whole_answer_in_number_words_is_that_number():
    # (rules 11: "five" was unparsable; a number in words is read as its digits)
    assert verify("5", "five").correct
    assert verify("5", "six").details["kind"] == "wrong"


# -- a worker exception is a verification failure, not an unparsable prediction ---------------

def test_worker_exception_from_the_gold_is_an_error_and_not_cached():
    from rlvr.verifiers.math import _cache
    from rlvr.verifiers.math_normalize import normalize

    gold, pred = "2 \\cdot (1,2)", "5"  # parses, but sympy cannot evaluate a tuple times a number
    for _ in range(2):  # the second call must not be answered from the cache either
        v = verify(gold, pred)
        assert not v.correct and v.error is not None and v.details["kind"] == "error", v
        assert "unparsable prediction" not in v.reason
    assert (normalize(gold), normalize(pred)) not in _cache.data


def test_prediction_that_cannot_be_evaluated_is_wrong_not_an_error():
    # Model output is never an infrastructure failure: an error verdict would drop the sample from
    # training and let nonsense escape its zero reward.
    v = verify("2", "\\boxed{2 \\cdot (1,2)}")
    assert not v.correct and v.error is None and v.details["kind"] == "unparsable", v
    assert "cannot be evaluated" in v.reason


# -- LaTeX spacing in numbers, units with a power ---------------------------------------------

@pytest.mark.parametrize("gold,pred", [
    ("1,\\!000", "1000"), ("10\\,000", "10000"), ("10\\;000", "\\boxed{10{,}000}"), ("12\\,345\\,678", "12345678"),
    ("x\\!+\\!1", "x+1"), ("12", "\\boxed{12\\text{ cm}^2}"), ("12", "\\boxed{12 \\mathrm{~cm}^2}"), ("12", "12 cm^2"),
])
def test_latex_spacing_and_squared_units(gold, pred):
    v = verify(gold, pred)
    assert v.correct, (gold, pred, v)


def test_spacing_between_digits_that_are_not_groups_is_not_a_separator():
    assert not verify("12", "1\\,2").correct


@pytest.mark.parametrize("gold,pred,equal", [
    ("42", "The answer is 42 because 6*7 = 43.", True),   # the reason is not part of the answer
    ("42", "The answer is 42, since 6*7=43.", True),
    ("\\{1,-1\\}", "\\boxed{x = \\pm 1}", True),           # an assignment of a set is that set
    ("x=\\pm 1", "\\{1,-1\\}", True),
    ("1", "\\boxed{x = \\pm 1}", False),
])
def test_answer_is_stops_at_a_reason_and_assigned_sets(gold, pred, equal):
    assert verify(gold, pred).correct is equal


@pytest.mark.parametrize("prediction", ["\\{\\}", "\\boxed{\\{\\}}", "The answer is $\\{\\}$."])
def test_an_empty_set_is_a_wrong_answer_not_a_crash(prediction):
    verdict = verify("42", prediction)
    assert not verdict.correct and verdict.error is None
    assert [v.error for v in verify_batch([("42", prediction), ("42", "42")])] == [None, None]


@pytest.mark.parametrize("gold, prediction", [
    # `\\det` of a variable: sympy cannot evaluate it (of a constant it is refused before any
    # evaluation as not evaluated, see `test_a_function_of_constants_is_refused_before_evaluation`)
    ("(1,2)", "\\boxed{(\\frac{1+\\det y}{2}, 2)}"),  # (a nested ± is evaluated now: the set of both values)
    ("(1,2)", "(1, (2+\\det y)^2)"),
    ("[0, 1)", "[0, \\det y)"),
    ("(-\\infty, 0) \\cup (1, \\infty)", "(-\\infty, 0) \\cup (1, \\det y)"),
    ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix}1&2\\\\3&\\det y\\end{pmatrix}"),
])
def test_a_prediction_sympy_cannot_evaluate_is_unparsable_whatever_the_gold_shape(gold, prediction):
    # the gold is a tuple, interval, union or matrix: it must not be blamed for the prediction
    verdict = verify(gold, prediction)
    assert not verdict.correct and verdict.error is None and verdict.details["kind"] == "unparsable", verdict


@pytest.mark.parametrize("gold, prediction", [
    ("(1,2)", "\\boxed{(\\frac{1+\\det 5}{2}, 2)}"),
    ("x < 3", "x < \\det 3"),
    ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix}1&2\\\\3&\\det 4\\end{pmatrix}"),
])
def test_a_function_of_constants_is_refused_before_evaluation(gold, prediction):
    # rules version 13: decided on the trees, so neither sympy nor the gold is ever asked
    verdict = verify(gold, prediction)
    assert not verdict.correct and verdict.error is None and verdict.details["kind"] == "wrong", verdict
    assert verdict.reason.startswith("not evaluated: the answer still holds \\det"), verdict


def test_a_flood_of_nested_boxes_is_read_in_one_pass():
    from rlvr.verifiers.math_extract import MAX_BOXES, all_boxed

    n = 5000
    nested = "\\boxed{" * n + "7" + "}" * n
    boxes = all_boxed(nested)
    assert boxes == [nested[len("\\boxed{"):-1]]  # one box: the others are inside it (rules 10)
    assert all_boxed("\\boxed{" * n) == []  # none terminated
    verdict = verify("7", nested)
    assert not verdict.correct and "longer than" in verdict.reason  # 40 KB as written: not read
    few = "\\boxed{" * 20 + "7" + "}" * 20
    assert all_boxed(few) == [few[len("\\boxed{"):-1]] and len(all_boxed("\\boxed{" * 20)) == 0
    assert verify("7", few).correct  # every box says 7
    assert MAX_BOXES >= 2 and len(all_boxed("\\boxed{1} " * 500)) == MAX_BOXES  # side by side: the last ones


def test_several_boxed_answers_share_one_time_budget():
    heavy = " ".join(f"\\boxed{{10^{{10^{{{10 + i}}}}}}}" for i in range(8))
    began = time.monotonic()
    verdict = verify("3", heavy, timeout=1)
    assert verdict.details["kind"] == "timeout" and not verdict.correct and verdict.error is None
    assert time.monotonic() - began < 2.5  # not 8 x 1 s


def test_a_memoised_verdict_is_shared_so_no_caller_can_change_it_for_the_others():
    import copy
    import pickle

    first = verify("4", "so \\boxed{4}")
    with pytest.raises(TypeError, match="read-only"):
        first.details["kind"] = "tampered"
    with pytest.raises(TypeError, match="read-only"):
        first.details.update(kind="tampered")
    later = verify("4", "hence \\boxed{4}")  # the same (gold, answer): the memoised verdict
    assert later.details == {"kind": "equal"} and later.correct
    # copies are the caller's own, plain dicts
    for mine in (dict(first.details), copy.deepcopy(first).details, pickle.loads(pickle.dumps(first)).details,
                 first.to_dict()["details"]):
        assert type(mine) is dict and mine == {"kind": "equal"}
        mine["kind"] = "changed"
    assert verify("4", "\\boxed{4}").details == {"kind": "equal"}


# -- matrices: a `\\` row break followed by a space is a row break -----------------------------

def _col(*rows: str) -> str:
    return "\\begin{pmatrix} " + " \\\\ ".join(rows) + " \\end{pmatrix}"


@pytest.mark.parametrize("gold,pred,equal", [
    (_col("1", "2"), _col("2", "1"), False),                      # was: equal (rows merged into a product)
    (_col("1 & 2", "3 & 4"), _col("1 & 3", "2 & 4"), False),      # a transpose
    (_col("1", "2", "3"), _col("3", "2", "1"), False),
    (_col("3", "-4"), "\\begin{pmatrix} -1 \\end{pmatrix}", False),  # `3 \\ -4` is not 3 - 4
    (_col("1 & 2", "3 & 4"), "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", True),  # spaced = unspaced
    (_col("3", "-4"), "\\boxed{\\begin{pmatrix}3\\\\-4\\end{pmatrix}}", True),
])
def test_matrix_rows_survive_a_space_after_the_row_break(gold, pred, equal):
    v = verify(gold, pred)
    assert v.correct is equal and v.error is None, (gold, pred, v)


# -- negative mixed numbers --------------------------------------------------------------------

@pytest.mark.parametrize("gold,pred,equal", [
    ("-\\frac{5}{2}", "\\boxed{-2\\frac{1}{2}}", True), ("-2.5", "\\boxed{-2 1/2}", True),
    ("-2\\frac{1}{2}", "-2.5", True), ("-1", "\\boxed{-2\\frac{1}{2}}", False), ("-2\\frac{1}{2}", "-1", False),
    ("\\frac{1}{2}", "3 - 2\\frac{1}{2}", True),
])
def test_negative_mixed_numbers(gold, pred, equal):
    assert verify(gold, pred).correct is equal


# -- numbers separated only by spaces are not a product ----------------------------------------

@pytest.mark.parametrize("gold,pred", [
    ("6", "\\boxed{2 \\quad 3}"), ("30", "\\boxed{5 6}"), ("6", "\\boxed{2 3}"),
    ("12", "\\boxed{3 4}"), ("2300", "\\boxed{2 \\quad 300}"), ("1234567", "\\boxed{1234 567}"),
])
def test_numbers_separated_by_spaces_are_unparsable_not_a_product(gold, pred):
    v = verify(gold, pred)
    assert not v.correct and v.details["kind"] == "unparsable" and v.error is None, (gold, pred, v)


@pytest.mark.parametrize("gold,pred", [
    ("10000", "\\boxed{10 000}"), ("1000000", "\\boxed{1 000 000}"), ("1000000", "\\boxed{1~000~000}"),
    ("1000000", "1\\,000\\,000"),
    ("10000", "10~000"), ("10000", "10\\ 000"), ("-12345.5", "-12 345.5"),
    # juxtapositions that are products stay products
    ("2\\sqrt{3}", "2 \\sqrt{3}"), ("3\\pi", "3 \\pi"), ("2x", "2 x"), ("6", "2(3)"), ("6", "2 (3)"),
    ("\\frac{1}{2}", "\\frac 1 2"),
])
def test_digit_groups_are_thousands_and_products_stay_products(gold, pred):
    v = verify(gold, pred)
    assert v.correct, (gold, pred, v)
    assert not verify("0", "\\boxed{10 000}").correct  # was 10 * 0


# -- repeating decimals ------------------------------------------------------------------------

@pytest.mark.parametrize("gold,pred,equal", [
    ("\\frac{1}{3}", "0.\\overline{3}", True), ("\\frac{7}{30}", "0.2\\overline{3}", True),
    ("\\frac{1}{6}", "0.1\\overline{6}", True), ("\\frac{8}{7}", "1.\\overline{142857}", True),
    ("-\\frac{1}{3}", "-0.\\overline{3}", True),
    ("0", "0.\\overline{3}", False), ("\\frac{3}{5}", "0.1\\overline{6}", False), ("0.3", "0.\\overline{3}", False),
])
def test_repeating_decimals_are_exact(gold, pred, equal):
    assert verify(gold, pred).correct is equal


# -- expressions are sampled at negative points too, skipping where a side leaves the reals ----

@pytest.mark.parametrize("gold,pred,equal", [
    ("|x|", "x", False), ("x", "\\sqrt{x^2}", False), ("\\ln|x| + C", "\\ln x + C", False),
    ("|x|+|y|", "x+y", False), ("\\frac{|x|}{x}", "1", False), ("y = |x|", "y = x", False),
    ("|x|", "\\sqrt{x^2}", True), ("\\ln|x|", "\\frac{1}{2}\\ln(x^2)", True),
    # right answers stay right: identities, and rules that hold where both sides are real
    ("(x+1)^2", "x^2+2x+1", True), ("\\sin^2 x + \\cos^2 x", "1", True), ("\\ln(xy)", "\\ln x + \\ln y", True),
    ("2\\ln x", "\\ln(x^2)", True), ("\\sqrt{x}\\sqrt{y}", "\\sqrt{xy}", True),
    ("\\sqrt{x}\\sqrt{x-1}", "\\sqrt{x^2-x}", True), ("\\sqrt{x^3}", "x\\sqrt{x}", True),
    ("e^{ix}", "\\cos x + i\\sin x", True), ("\\tan x", "\\frac{\\sin x}{\\cos x}", True),
    ("\\frac{x^2-1}{x-1}", "x+1", True), ("x^y", "e^{y \\ln x}", True),
])
def test_expressions_compared_at_negative_points_too(gold, pred, equal):
    v = verify(gold, pred)
    assert v.correct is equal and v.error is None, (gold, pred, v)


# -- extraction: "the answer is correct" is a remark; "Final Answer" headings ------------------

@pytest.mark.parametrize("text,expected", [
    ("The answer is 42. Let me double-check that the answer is correct.", "42"),
    ("So the final answer is 42.\n\nWe can verify the answer is right by substitution.", "42"),
    ("The answer is 18.\nI double-checked, and the answer is consistent.", "18"),
    ("The answer is 18. To verify, note that the answer is reasonable because 9*2=18.", "18"),
    ("The answer is yes. I checked that the answer is correct.", "yes"),
    ("**Final Answer**\n18", "18"), ("## Final Answer\n\n$\\frac{1}{2}$", "$\\frac{1}{2}$"),
    ("Final answer: 18", "18"),
    ("The answer is 7 (seven).", "7"), ("The answer is 7; I am confident.", "7"),
    ("The answer is 1,000, since", "1,000"),
])
def test_said_answer_skips_remarks_and_reads_headings(text, expected):
    assert extract_answer(text) == expected
    assert verify(normalize_gold(expected), text).correct


def normalize_gold(text: str) -> str:
    return text.replace(",", "")


# -- an <answer> tag holds the answer: boxes in the reasoning are neither answers nor hedges ----

@pytest.mark.parametrize("gold,pred,kind", [
    ("6", "<think>maybe \\boxed{5}? no, recompute.</think>\n<answer>6</answer>", "equal"),
    ("5", "<think>maybe \\boxed{5}? no, recompute.</think>\n<answer>6</answer>", "wrong"),
    ("6", "<think>Try \\boxed{5}.</think><answer>\\boxed{6}</answer>", "equal"),
    ("6", "\\boxed{5} and \\boxed{7} were wrong. <answer>The answer is 6</answer>", "equal"),
    ("6", "<answer>\\boxed{6} or \\boxed{7}</answer>", "hedged"),  # a hedge inside the tag still is one
    ("3", "<answer></answer> so \\boxed{3}", "equal"),              # an empty tag holds no answer
])
def test_answer_tag_is_read_alone(gold, pred, kind):
    v = verify(gold, pred)
    assert v.details["kind"] == kind, (gold, pred, v)
    assert extract_answer("<think>\\boxed{5}</think><answer>6</answer>") == "6"


# -- units ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("gold,pred,equal", [
    ("20", "\\boxed{20 \\text{ km/h}}", True), ("20", "\\boxed{20\\text{ m/s}}", True),
    ("9.8", "\\boxed{9.8 \\text{ m/s}^2}", True), ("12", "\\boxed{12 \\text{ sandwiches}}", True),
    ("5", "\\boxed{5cm}", True), ("5", "\\boxed{5 \\text{m}}", True), ("12", "\\boxed{12\\ \\mathrm{m}^2}", True),
    ("\\frac{3}{4}", "\\boxed{\\frac{3}{4} \\text{ of the cake}}", True),
    ("2x + 3", "\\boxed{2x + 3 m}", False),         # a bare letter may be a variable
    ("x + 3", "x + 3 \\text{ sandwiches}", False),  # only a number gold drops any trailing text
])
def test_units_after_numbers(gold, pred, equal):
    v = verify(gold, pred)
    assert v.correct is equal, (gold, pred, v)


# -- Unicode maths -------------------------------------------------------------------------------

@pytest.mark.parametrize("gold,pred", [
    ("\\sqrt{2}", "√2"), ("2\\sqrt{3}", "2√3"), ("\\sqrt{x+1}", "√(x+1)"), ("\\sqrt{23}", "√23"),
    ("\\frac{1}{2}", "½"), ("\\frac{3}{4}", "¾"), ("\\frac{5}{2}", "2½"), ("x^2", "x²"), ("x^3+1", "x³ + 1"),
    ("0.001", "10⁻³"), ("\\sqrt[3]{2}", "∛2"), ("2\\sqrt[3]{2}", "2∛2"),
])
def test_unicode_roots_fractions_and_powers(gold, pred):
    v = verify(gold, pred)
    assert v.correct, (gold, pred, v)


# -- degrees inside trigonometric functions; percent signs --------------------------------------

@pytest.mark.parametrize("gold,pred,equal", [
    ("\\sin\\frac{\\pi}{3}", "\\sin 60^\\circ", True), ("\\cos\\frac{\\pi}{3}", "\\cos(60^{\\circ})", True),
    ("\\sin^2\\frac{\\pi}{6}", "\\sin^2 30^\\circ", True), ("\\tan\\frac{\\pi}{4}", "\\tan 45°", True),
    ("\\frac{1}{2}", "\\cos(60^{\\circ})", False),  # right in value, but not evaluated
    ("\\sin 60", "\\sin 60^\\circ", False), ("30", "30^\\circ", True),
])
def test_degrees_in_trig_arguments_are_converted(gold, pred, equal):
    assert verify(gold, pred).correct is equal


@pytest.mark.parametrize("gold,pred,equal", [
    ("0.5", "\\boxed{0.5\\%}", False), ("\\frac{1}{4}", "\\frac{1}{4}\\%", False), ("0.005", "0.5\\%", True),
    ("50", "50\\%", True), ("0.5", "50\\%", True), ("50\\%", "50", True), ("50\\%", "0.5", True),
    ("0.5\\%", "0.5", False), ("150", "150\\%", True), ("1.5", "150\\%", True),
])
def test_percent_sign_ignored_only_for_values_of_at_least_one(gold, pred, equal):
    assert verify(gold, pred).correct is equal


def test_a_timeout_scores_zero_as_wrong_with_kind_timeout_not_an_error():
    v = verify("2", "\\boxed{10^{10^{10}}}", timeout=0.5)
    assert not v.correct and v.score == 0.0 and v.error is None and v.details["kind"] == "timeout"


# -- review fixes: linear extraction on hostile text (200 KB) --------------------------------------

_HOSTILE = 200_000


@pytest.mark.parametrize("text,expected", [
    ("The answer is 1" + " " * _HOSTILE + "2.", ["1", "2"]),             # one whitespace run
    ("The answer is 7" + " " * _HOSTILE + "(seven)", ["7"]),             # a remark after a long run
    ("the answer is " * (_HOSTILE // 14) + "5.", ["5"]),                # the phrase many times
    ("The answer is 7" + " (ab" * (_HOSTILE // 4), None),                # many "(", never closed
    ("(" * _HOSTILE + " the answer is 4", ["4"]),
    ("the answer is x" + " " * _HOSTILE + "becaus", ["x", "becaus"]),
    ("Final Answer" + " " * _HOSTILE + "x", None),
    ("answer is" + " " * _HOSTILE + ":" + " " * _HOSTILE + "5", ["5"]),
])
def test_extraction_is_linear_on_hostile_text(text, expected):
    start = time.perf_counter()
    got = extract_answer(text)
    assert time.perf_counter() - start < HANG_GUARD  # quadratic, 200 KB took tens of minutes
    if expected is None:
        assert got is None or got.startswith("7 (ab")
    else:
        assert got.split() == expected


# -- review fixes: only a closed <answer> tag that holds an answer is trusted ----------------------

@pytest.mark.parametrize("gold,pred,kind", [
    ("5", "So \\boxed{5}. I should have used <answer> tags.", "equal"),        # a mention in prose
    ("5", "\\boxed{5}\n<answer> put the final answer here", "equal"),            # an unclosed echo
    ("5", "Use <answer></answer>. Thus \\boxed{5}", "equal"),                   # an empty tag
    ("5", "\\boxed{5}\n\nNote: format is <answer>...</answer>", "equal"),        # a placeholder
    ("5", "I'll write <answer> later: <answer>5</answer>", "equal"),            # prose, then the tag
    ("5", "<answer>5</answer> hmm, or <answer>6</answer>", "hedged"),           # two tags, two answers
    ("5", "<answer>5</answer> again <answer>5</answer>", "equal"),
    ("6", "\\boxed{5} no. <answer>6</answer>", "equal"),                        # a trusted tag still wins
])
def test_answer_tag_trusted_only_when_closed_and_answering(gold, pred, kind):
    v = verify(gold, pred)
    assert v.details["kind"] == kind, (gold, pred, v)


def test_extract_answer_ignores_prose_mentions_of_the_tag():
    assert extract_answer("\\boxed{5}, not in <answer> tags.") == "5"
    assert extract_answer("<answer>5</answer> <answer>6</answer>") == "6"


# -- review fixes: trailing text and one-letter units against a number gold ------------------------

@pytest.mark.parametrize("pred,equal", [
    ("\\boxed{12 \\text{ or 13}}", False), ("\\boxed{12\\text{, but if counting twice, 24}}", False),
    ("\\boxed{12\\text{ to 24}}", False), ("\\boxed{12 \\text{ sandwiches}}", True),
    ("\\boxed{12 \\text{ per day}}", True),
])
def test_number_gold_drops_only_unit_like_text(pred, equal):
    v = verify("12", pred)
    assert v.correct is equal, (pred, v)


@pytest.mark.parametrize("pred", ["10 m", "10 s", "10 L", "10 m^2", "10 \\, m", "\\boxed{10 m}"])
def test_number_gold_drops_one_letter_units(pred):
    assert verify("10", pred).correct, pred


@pytest.mark.parametrize("gold,pred", [("5", "5 g"), ("3", "3 h")])
def test_number_gold_drops_one_letter_units_g_h(gold, pred):
    assert verify(gold, pred).correct


def test_expression_gold_keeps_a_one_letter_tail():
    assert not verify("2x+3", "\\boxed{2x + 3 m}").correct


# -- review fixes: a number after a bare exponent is a new factor -----------------------------------

@pytest.mark.parametrize("gold,pred", [("36", "2^2 3^2"), ("72", "2^3 3^2"), ("2^2 3^2", "36")])
def test_products_of_powers_written_with_spaces(gold, pred):
    assert verify(gold, pred).correct
    assert validate_gold("2^3 3^2")


def test_spaced_numbers_stay_unparsable():
    assert verify("30", "5 6").details["kind"] == "unparsable"


# -- review fixes: the rules version is in the math verifier's fingerprint --------------------------

def test_math_rules_version_in_fingerprint():
    import rlvr
    from rlvr.verifiers.math import RULES_VERSION

    env = rlvr.make("Math-v0").unwrapped
    assert RULES_VERSION >= 2 and env.fingerprint()["verifier"]["settings"]["rules"] == RULES_VERSION
    assert env.scorer.settings == {"timeout": 5.0}  # the settings asked stay as asked


@pytest.mark.parametrize("gold,pred,correct", [
    ("4210_{5}", "\\boxed{4210_5}", True),
    ("4210_{5}", "The answer is $4210_{5}$.", True),
    ("2516_8", "\\boxed{2516_{8}}", True),
    ("4210_{5}", "\\boxed{4211_5}", False),
    ("4210_{5}", "\\boxed{555}", False),   # its value in base 10: not what was asked
    ("10_2", "\\boxed{10}", False),        # the base left out
])
def test_numerals_in_another_base(gold, pred, correct):
    """MATH's number-theory answers such as 4210_{5} were refused as golds ("subscript on something
    that is not a variable"), so a benchmark holding one failed to load as a whole."""
    validate_gold(gold)
    v = verify(gold, pred)
    assert v.correct is correct and v.error is None, (gold, pred, v)
