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
    ("2", "\\sqrt{4}"), ("2", "\\sqrt[3]{8}"), ("2\\sqrt{2}", "\\sqrt{8}"), ("\\frac{\\sqrt{3}}{2}", "\\sin(\\pi/3)"),
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


@pytest.mark.parametrize("pred", [None, 12, b"bytes", ["a"]])
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


def test_a_word_for_a_number_is_not_a_number():
    v = verify("5", "five")
    assert not v.correct and v.details["kind"] == "unparsable"


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
    ("(1,2)", "\\boxed{(\\frac{1\\pm\\sqrt5}{2}, 2)}"),
    ("(1,2)", "(1, (2\\pm 1)^2)"),
    ("[0, 1)", "[0, \\det 2)"),
    ("x < 3", "x < \\det 3"),
    ("(-\\infty, 0) \\cup (1, \\infty)", "(-\\infty, 0) \\cup (1, \\det 3)"),
    ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix}1&2\\\\3&\\det 4\\end{pmatrix}"),
])
def test_a_prediction_sympy_cannot_evaluate_is_unparsable_whatever_the_gold_shape(gold, prediction):
    # the gold is a tuple, interval, relation, union or matrix: it must not be blamed for the prediction
    verdict = verify(gold, prediction)
    assert not verdict.correct and verdict.error is None and verdict.details["kind"] == "unparsable", verdict


def test_a_flood_of_nested_boxes_is_read_in_one_pass():
    from rlvr.verifiers.math_extract import MAX_BOXES, all_boxed

    n = 5000
    nested = "\\boxed{" * n + "7" + "}" * n
    boxes = all_boxed(nested)
    assert len(boxes) == MAX_BOXES and boxes[-1] == "7" and boxes[-2] == "\\boxed{7}"  # the innermost ones
    assert all_boxed("\\boxed{" * n) == []  # none terminated
    assert verify("7", nested).correct  # every box says 7


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
