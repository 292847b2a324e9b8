"""verify_steps against the findings of the process-reward audit (F1-F10, and the step cap).

Each row is (solution text, expected score, expected per-step scores) and cites its finding. A
solution with nothing checkable scores 1.0 with steps [None].
"""

from __future__ import annotations


import pytest

import rlvr.verifiers.steps as steps_module
from rlvr.verifiers.steps import RULES_VERSION, find_claims, verify_steps
from rlvr.verifiers.timelimit import Budget


def _check(text: str, score: float, steps: list) -> None:
    v = verify_steps(text)
    assert v.error is None, v.error
    assert (v.score, v.steps) == (pytest.approx(score), steps), (text, v.score, v.steps, v.reason)


# F1: model text never becomes an infrastructure failure (Verdict.failed drops the episode)
@pytest.mark.parametrize("text,score,steps", [
    ("<<(=3>>", 1.0, [None]),                  # an unreadable annotation claims nothing
    ("<<1 2=12>>", 1.0, [None]),
    ("<<3+=3>>", 1.0, [None]),
    ("<<)=3>>", 1.0, [None]),
    ("<<\\frac{1}{=3>>", 1.0, [None]),
    ("<<x=3>>", 1.0, [None]),                  # a variable: no claim, as the contract says
    ("<<a+b=3>>", 1.0, [None]),
    ("<<48/2=abc>>", 1.0, [None]),
    ("\\max(2, 3, 1+i) = 3", 0.0, [0.0]),      # sympy raises on the claim's own text: not shown to hold
    ("\\det(2) = 3", 0.0, [0.0]),
    ("3 = \\det(2)\n2 + 2 = 4", 0.5, [0.0, 1.0]),
])
def test_f1_model_text_is_judged_never_an_infrastructure_failure(text, score, steps):
    _check(text, score, steps)


def test_f1_a_claim_whose_left_side_cannot_be_read_fails_without_an_error():
    # past the screen of find_claims, an unreadable left side (the comparer's "gold") is the text's fault
    v = steps_module._check_claim("(", "3", Budget(5))
    assert v.error is None and not v.correct


def test_f1_a_crashed_worker_is_still_a_failed_check(crash_math_workers):
    crash_math_workers()
    v = verify_steps("\\det(2) = 3")
    assert v.error is not None and v.details["kind"] == "error" and "math worker failed" in v.error


# F2: money is not maths, and text outside $...$ segments is checked too
@pytest.mark.parametrize("text,score,steps", [
    ("The shirt costs $20 and the pants cost $30, so 20 + 30 = 60.", 0.0, [0.0]),
    ("Total $3 * 4 = 12$ and 5 + 5 = 11", 0.0, [0.0]),
    ("For $n$ apples, 3 * 4 = 13", 0.0, [0.0]),
    ("She makes $18 * 4 = $72 per day, and $72 * 5 = $361 per week.", 0.0, [0.0]),
    ("She makes $18 * 4 = $72 per day, and $72 * 5 = $360 per week.", 1.0, [1.0]),
    ("$5 + $3 = $8", 1.0, [1.0]),
    ("\\$12.50 + \\$7.50 = \\$20", 1.0, [1.0]),
    ("€5 + €3 = €8", 1.0, [1.0]),
    ("£5 + £3 = £9", 0.0, [0.0]),
    ("We have $3 \\cdot 4 = 12$ and $\\frac{6}{8} = \\frac{3}{4}$.", 1.0, [1.0]),
])
def test_f2_dollar_amounts_and_text_outside_math_segments(text, score, steps):
    _check(text, score, steps)


# F3: one-letter words before (or after) a claim do not hide it; a variable still claims nothing
@pytest.mark.parametrize("text,score,steps", [
    ("I get 3 * 4 = 13", 0.0, [0.0]),
    ("A box holds 3 * 4 = 13 eggs", 0.0, [0.0]),
    ("In a week she earns 7 * 2 = 15 dollars", 0.0, [0.0]),
    ("3 * 4 = 13 a day", 0.0, [0.0]),
    ("I get 3 * 4 = 12", 1.0, [1.0]),
    ("Then x + 1 = 4", 1.0, [None]),
    ("Let a = 3", 1.0, [None]),
])
def test_f3_one_letter_words(text, score, steps):
    _check(text, score, steps)


# F4: an operation written in words (or an unknown operator) is never cut down to the last number
@pytest.mark.parametrize("text,score,steps", [
    ("The sum of 3 and 4 = 7", 1.0, [None]),
    ("The product of 12 and 5 = 60", 1.0, [None]),
    ("The average of 4 and 6 = 5", 1.0, [None]),
    ("Half of 10 = 5", 1.0, [None]),
    ("Twice 4 = 8", 1.0, [None]),
    ("The square root of 16 = 4", 1.0, [None]),
    ("10 \\bmod 3 = 1", 1.0, [None]),
    ("10 \\mod 3 = 1", 1.0, [None]),
    ("3 — 2 = 1", 1.0, [None]),
    ("4 ∗ 3 = 12", 1.0, [None]),
    ("8 ∕ 2 = 4", 1.0, [None]),
    ("3 ＋ 4 = 7", 1.0, [None]),
    ("2 hours * 30 = 60", 1.0, [None]),
    ("12 = 3 times 4", 1.0, [None]),
    ("The value of 3 * 4 = 13", 0.0, [0.0]),   # "value of" is no operation: still checked
])
def test_f4_operations_in_words_are_not_cut_down(text, score, steps):
    _check(text, score, steps)


# F5: labels at the start of a step are not ratios
@pytest.mark.parametrize("text,score,steps", [
    ("### Step 2: 3 * 4 = 12", 1.0, [1.0]),
    ("Case 2: 3 * 4 = 12", 1.0, [1.0]),
    ("Day 2: 3 + 4 = 7", 1.0, [1.0]),
    ("Week 1: 5 * 7 = 35", 1.0, [1.0]),
    ("Year 2020: 3 * 4 = 12", 1.0, [1.0]),
    ("Ex. 3: 3*4=12", 1.0, [1.0]),
    ("### Step 1: count\n12 * 5 = 60\n### Step 2: 60 / 5 = 12", 1.0, [None, 1.0, 1.0]),
    ("Ratio 3:4 = 0.75", 1.0, [1.0]),          # "3:4" is maths (a ratio that holds), not a label
])
def test_f5_step_labels(text, score, steps):
    _check(text, score, steps)


# F6: several claims in one sentence are each checked
@pytest.mark.parametrize("text,score,steps", [
    ("3 * 4 = 12. 12 + 5 = 18.", 0.0, [0.0]),
    ("3 * 4 = 12. 12 + 5 = 17.", 1.0, [1.0]),
    ("So 3 * 4 = 12, 12 + 5 = 18.", 0.0, [0.0]),
    ("3 + 4 = 7, 5 + 5 = 11", 0.0, [0.0]),
    ("3 + 4 = 7; 5 + 5 = 11", 0.0, [0.0]),
    ("3 + 4 = 7 => 5 + 5 = 11", 0.0, [0.0]),
    ("3 + 4 = 7 therefore 5 + 5 = 11", 0.0, [0.0]),
    ("3 + 4 = 7 but 5 + 5 = 11", 0.0, [0.0]),
    ("3 + 4 = 7 which means 5 + 5 = 11", 0.0, [0.0]),
    ("3 + 4 = 7 \\implies 5 + 5 = 11", 0.0, [0.0]),
    ("3 + 4 = 7 \\Rightarrow 5 + 5 = 11", 0.0, [0.0]),
    ("3 + 4 = 7 → 5 + 5 = 11", 0.0, [0.0]),
    ("3 + 4 = 7 \\quad 5 + 5 = 11", 0.0, [0.0]),
    ("3 + 4 = 7 \\\\ 5 + 5 = 11", 0.0, [0.0]),
    ("3 + 4 = 7 < 8 = 9", 0.0, [0.0]),
    ("3 + 4 = 7 \\text{ and } 5 + 5 = 11", 0.0, [0.0]),
    ("\\gcd(12, 18) = 6", 1.0, [1.0]),         # a comma inside brackets separates nothing
])
def test_f6_several_claims_in_one_sentence(text, score, steps):
    _check(text, score, steps)


# F7: emphasis, code marks, brackets and a trailing "?" do not hide a claim
@pytest.mark.parametrize("text,score,steps", [
    ("**3 * 4 = 13**", 0.0, [0.0]),
    ("The product is **3 * 4 = 13**.", 0.0, [0.0]),
    ("__3 * 4 = 13__", 0.0, [0.0]),
    ("*3 * 4 = 13*", 0.0, [0.0]),
    ("`3 * 4 = 13`", 0.0, [0.0]),
    ("(3 * 4 = 13)", 0.0, [0.0]),
    ("[3 * 4 = 13]", 0.0, [0.0]),
    ("The answer (3 * 4 = 13) is big", 0.0, [0.0]),
    ("3 * 4 = 13?", 0.0, [0.0]),
    ("**Step 1: 2^{10} = 1024**", 1.0, [1.0]),
    ("2 ** 3 = 8", 1.0, [1.0]),                # Python's power, not emphasis
    ("**12 * 5 = 61**\nThe total is 12 * 5 = 60.", 0.5, [0.0, 1.0]),
])
def test_f7_markdown_and_brackets(text, score, steps):
    _check(text, score, steps)


# F8: an approximate link hides only itself
@pytest.mark.parametrize("text,score,steps", [
    ("3 * 4 = 13 ≈ 13", 0.0, [0.0]),
    ("3 * 4 = 13 \\approx 13.0", 0.0, [0.0]),
    ("3 * 4 = 12 \\approx 12.1", 1.0, [1.0]),
    ("3\\cdot4~=~13", 0.0, [0.0]),
    ("3 * 4 == 13", 0.0, [0.0]),
    ("\\pi \\approx 3.1", 1.0, [None]),
])
def test_f8_approximate_links(text, score, steps):
    _check(text, score, steps)


# F9: thousands separators inside annotations
@pytest.mark.parametrize("text,score,steps", [
    ("<<1,000+500=1500>>", 1.0, [1.0]),
    ("<<1,000+500=1600>>", 0.0, [0.0]),
    ("48/2 = <<48/2=24>>25", 0.0, [0.0]),
])
def test_f9_annotations_like_text(text, score, steps):
    _check(text, score, steps)


# F10: in a step p% is exactly p/100; "7 % 3" is not checkable
@pytest.mark.parametrize("text,score,steps", [
    ("20% = 20", 0.0, [0.0]),
    ("10 = 10%", 0.0, [0.0]),
    ("50% = 0.5", 1.0, [1.0]),
    ("25\\% = \\frac{1}{4}", 1.0, [1.0]),
    ("10 percent = 0.1", 1.0, [1.0]),
    ("7 % 3 = 1", 1.0, [None]),
    ("50% of 80 = 40", 1.0, [None]),
])
def test_f10_percent_is_strict_in_steps(text, score, steps):
    _check(text, score, steps)


def test_steps_beyond_the_cap_that_state_an_equality_fail_unread():
    cap = steps_module.MAX_STEPS
    text = "\n".join([f"{i + 2} + 2 = {i + 4}" for i in range(cap)] + ["3 * 4 = 13", "no equation here", "5 = 5"])
    v = verify_steps(text)
    assert v.steps == [1.0] * cap + [0.0, None, 0.0] and not v.correct
    assert f"step {cap + 1}" in v.reason and v.error is None


def test_a_step_with_more_claims_than_are_checked_fails():
    n = steps_module._MAX_CLAIMS + 1
    line = ", ".join(f"{i} + 1 = {i + 1}" for i in range(n))
    assert len(find_claims(line)) == steps_module._MAX_CLAIMS
    v = verify_steps(line)
    assert v.steps == [0.0] and "more than" in v.reason


def test_rules_version_is_exported():
    assert isinstance(RULES_VERSION, int) and RULES_VERSION >= 1
    assert "RULES_VERSION" in steps_module.__all__


@pytest.mark.timeout(20)
@pytest.mark.parametrize("text", [
    "\\( 3 " * 20_000 + "= 3",       # openers without a closer: one pass, not one scan per opener
    "$5 + " * 20_000 + "= 3",
    "(1, " * 25_000 + "= 3",
    "3 + 3 = 6, " * 9_000,
    "the sum of 3 and 4 = 7 " * 4_000,
    "a " * 50_000 + "= 3 " + "a " * 50_000,
])
@pytest.mark.timeout(30)  # the failure guarded against is a quadratic scan: minutes on these lines
def test_long_lines_end_quickly(text):
    assert verify_steps(text).error is None


# -- second review (R1-R7) ------------------------------------------------------------------------

_BIG = 200_000


# R1: long runs of digits, spaces or brackets cost linear time (the caller's process has no time
# limit); the timeouts guard against the backtracking that took minutes on these texts
@pytest.mark.timeout(30)
def test_r1_percent_reading_is_linear():
    assert verify_steps("3 = " + "1" * _BIG + "a%").steps == [None]  # _PCT_RE backtracked over the digits
    assert find_claims("1 = 1" + " " * _BIG + "a% = 3") == []         # ... and over a doubled \s*
    assert find_claims("<<1" + " " * _BIG + "a%=3>>") == []


@pytest.mark.timeout(30)
def test_r1_brackets_around_a_piece_are_unwrapped_in_linear_time():
    assert find_claims("(" * (2 * _BIG // 3) + "1=1" + ")" * (_BIG // 3)) == [("1", "1")]


@pytest.mark.timeout(30)
def test_r1_a_right_side_is_read_once_not_once_per_prefix():
    assert find_claims(", ".join(["1=1 " + " ".join(["ab"] * 40)] * (_BIG // 125))) == [("1", "1")]


# R2: a "!" after a digit or a closing bracket is a factorial, not sentence punctuation
@pytest.mark.parametrize("text,score,steps", [
    ("120 = 5!", 1.0, [1.0]),
    ("$4 \\cdot 3 \\cdot 2 \\cdot 1 = 4!$", 1.0, [1.0]),
    ("6 = 3!.", 1.0, [1.0]),
    ("6 = (2 + 1)!", 1.0, [1.0]),
    ("3! = 6!", 0.0, [0.0]),
    ("3 * 4 = 13?!", 0.0, [0.0]),                # "?!" after a claim is still punctuation
    ("Then x = 5 wow!", 1.0, [None]),
])
def test_r2_factorials_are_kept(text, score, steps):
    _check(text, score, steps)


# R3: a number among the words before a left side makes it an operand of an operation in words
@pytest.mark.parametrize("text,score,steps", [
    ("He bought 3 tickets at $4 = $12", 1.0, [None]),
    ("10 choose 2 = 45", 1.0, [None]),
    ("7 less 3 = 4", 1.0, [None]),
    ("3 into 12 = 4", 1.0, [None]),
    ("4 each for 3 = 12", 1.0, [None]),
    ("2 to the power 3 = 8", 1.0, [None]),
    ("10 percent off 50 = 45", 1.0, [None]),
    ("12 split among 3 = 4", 1.0, [None]),
    ("She has 3 + 4 = 7 apples.", 1.0, [1.0]),  # no number before the run: checked
    ("The value of 3 * 4 = 13", 0.0, [0.0]),
    ("Step 1: 2^{10} = 1024", 1.0, [1.0]),      # a label is stripped before the look-back
    ("Day 2: 5 + 5 = 11", 0.0, [0.0]),
    ("In 2020, 3 + 4 = 8", 0.0, [0.0]),         # a separator ends the look-back
    ("He had 3 apples. 3 + 4 = 8", 0.0, [0.0]),
])
def test_r3_operands_of_operations_in_words(text, score, steps):
    _check(text, score, steps)


# R4: a right side is the run up to the first English word, read as a whole
@pytest.mark.parametrize("text,score,steps", [
    ("3 * 4 = 13 apples in 2 days", 0.0, [0.0]),
    ("3 * 4 = 13 apples for 2 kids", 0.0, [0.0]),
    ("The cost is 3 * 4 = 13 dollars for 2 hours", 0.0, [0.0]),
    ("3 * 4 = 12 apples in 2 days", 1.0, [1.0]),
    ("3 * 4 = 12 5 6", 1.0, [None]),             # never read as 12
    ("3 * 4 = 1 2", 1.0, [None]),                # never read as 1
    ("12 = 3 times 4", 1.0, [None]),             # an operation in words after the run
    ("25 = 5 to the power of 2", 1.0, [None]),
    ("3 + 4 = 7 e.g.", 1.0, [1.0]),
    ("12 / 4 = 3 ✓", 1.0, [1.0]),
])
def test_r4_right_side_is_the_run_up_to_the_first_word(text, score, steps):
    _check(text, score, steps)


def test_r4_right_side_keeps_its_unit_only_as_text():
    assert find_claims("3 * 4 = 13 apples in 2 days") == [("3 * 4", "13")]
    assert find_claims("The total is 3 + 4 = 7 apples") == [("3 + 4", "7 apples")]


# R5: a star between an operand's end and an operand's start is multiplication, not emphasis
@pytest.mark.parametrize("text,score,steps", [
    ("3 *4 = 13", 0.0, [0.0]),
    ("3* 4 = 13", 0.0, [0.0]),
    ("(3 + 1) *4 = 16", 1.0, [1.0]),
    ("2 **3 = 8", 1.0, [1.0]),
    ("3 ＝ 4", 0.0, [0.0]),                      # a full-width equals sign
    ("*3 * 4 = 13*", 0.0, [0.0]),               # emphasis around a claim is still emphasis
])
def test_r5_stars_between_operands_multiply(text, score, steps):
    _check(text, score, steps)


# R6: a broken import or a missing comparer in the worker is an infrastructure failure (it raises,
# so the pool reports WorkerCrashed), never a claim "that cannot be evaluated"
def test_r6_a_missing_comparer_raises_rather_than_judging_the_claim(monkeypatch):
    import rlvr.verifiers.math_sympy as math_sympy

    monkeypatch.delattr(math_sympy, "compare_normalized")
    with pytest.raises(ImportError):
        steps_module.compare_claim("3", "4")


def test_r6_the_claims_own_evaluation_error_is_an_outcome():
    # what the worker returns for \det(2) = 3: a judgement of the text, not an exception
    from rlvr.verifiers.math_normalize import normalize

    equal, kind, reason = steps_module.compare_claim(normalize("\\det(2)"), normalize("3"))
    assert (equal, kind) == (False, "unparsable") and reason.startswith("cannot be evaluated")


# R7: every verdict carries the same counts
def test_r7_nothing_checkable_reports_its_counts():
    v = verify_steps("There is no equation here.")
    assert v.correct and v.score == 1.0
    assert v.details == {"kind": "unchecked", "checked_steps": 0, "claims": 0, "repeated_claims": 0,
                         "idle_claims": 0}


@pytest.mark.parametrize("text, steps", [
    ("20％ = 20", [0.0]),                      # a full-width sign: was the final answers' leniency (held)
    ("20 \\text{ percent} = 20", [0.0]),        # the word: was no claim at all
    ("20 \\text{ percent} = 0.2", [1.0]),
    ("25\\% = 0.25", [1.0]),
    ("7 % 3 = 1", [None]),                     # a remainder, not a percentage
])
def test_every_spelling_of_percent_is_exactly_p_over_100(text, steps):
    """The steps check read percents with a list of spellings of its own, shorter than the one
    `normalize` reads answers with: it now reads the normalised text."""
    assert verify_steps(text).steps == steps
    assert RULES_VERSION >= 2
