"""Answers the session-15 reward-hacking audit found scored right, and their honest neighbours.

Each wrong case was scored correct before its fix; the right cases pin what the fix must not break.
"""

from __future__ import annotations

import pytest

from rlvr.verifiers.math import verify, verify_batch
from rlvr.verifiers.steps import verify_steps

WRONG = [
    # a row break \\ separates choices: four letters are a hedge, not the letter A
    (r"\boxed{A\\B\\C\\D}", "A"),
    (r"\boxed{A \\ B}", "A"),
    # words after a plain number that change its value are not a unit
    (r"\boxed{5 \text{ M}}", "5"), (r"\boxed{5 \text{ grand}}", "5"), (r"\boxed{2 \text{ gross}}", "2"),
    (r"\boxed{4 \text{ score}}", "4"), (r"\boxed{3 \text{ kilo}}", "3"), (r"\boxed{7 \text{ mil}}", "7"),
    (r"\boxed{3 \text{ fold}}", "3"), (r"\boxed{3 \text{ tenfold}}", "3"), (r"\boxed{25 \text{ bps}}", "25"),
    (r"\boxed{40 \text{ ppm}}", "40"), (r"\boxed{5 \text{ permille}}", "5"), (r"\boxed{12 \text{ negated}}", "12"),
    (r"\boxed{12 \text{ opposite}}", "12"), (r"\boxed{12 \text{ degrees below zero}}", "12"),
    (r"\boxed{12 \text{ above}}", "12"), (r"\boxed{3 \text{ short}}", "3"), (r"\boxed{10 \text{ off}}", "10"),
    (r"\boxed{2 \text{ extra}}", "2"), (r"\boxed{5 \text{ years ago}}", "5"), (r"\boxed{5 \text{ minutes late}}", "5"),
    (r"\boxed{3 \text{ behind}}", "3"), (r"\boxed{3 \text{ ahead}}", "3"), (r"\boxed{12 \text{ ish}}", "12"),
    (r"\boxed{12 \text{ roughly}}", "12"),
    # a remark that names another value is a hedge, not a comment
    ("The answer is 2 (three).", "2"),
    ("The answer is 2; three if we count the endpoint", "2"),
    ("The answer is 21 (twenty-two).", "21"),
    ("The answer is Monday (Tuesday).", "Monday"),
    # two values of one variable are solutions, not the point (1, 2)
    (r"\boxed{x = 1, x = 2}", "(1, 2)"),
    # an inequality not solved for its variable is compared as a relation: strictness and shape count
    (r"\boxed{x - 3 \ge 0}", "x > 3"), (r"\boxed{x^2 > 9}", "x > 3"), (r"\boxed{2x - 4 < 0}", r"(-\infty, 2]"),
    (r"\boxed{x - 1 > 0}", "(1, 3)"), (r"\boxed{x - 4 > 0}", "x > 3"), (r"\boxed{x + y > 3}", "x > 3"),
    # a rounded percentage is held to the decimals' rule: three significant digits, rounded right
    (r"\boxed{33\%}", r"\frac{1}{3}"), (r"\boxed{33.4\%}", r"\frac{1}{3}"), (r"\boxed{12.5\%}", "0.12"),
    (r"\boxed{0.5\%}", "0.5"),
    (r"\boxed{(x, y) = (3, 2)}", "(2,3)"), (r"\boxed{(x, x) = (2, 3)}", "(2,3)"), (r"\boxed{(x, y) = (2, 3, 4)}", "(2,3)"),
    (r"\boxed{3 \pmod 7}", "4"), (r"\boxed{10 \bmod 3}", "10"), (r"\boxed{\text{Option B or C}}", "B"),
    (r"\boxed{\text{Option B}}", "C"),
]

# session-16 re-audit H1: the question's expression copied into the box is equal in value but not
# an answer; each was scored right
UNEVALUATED = [
    (r"\boxed{\binom{20}{5}}", "15504"), (r"\boxed{15!}", "1307674368000"), (r"\boxed{\gcd(84,126)}", "42"),
    (r"\boxed{\lfloor\sqrt{2023}\rfloor}", "44"), (r"\boxed{\log_2 1024}", "10"),
    (r"\boxed{\begin{vmatrix}1&2\\3&4\end{vmatrix}}", "-2"), (r"\boxed{\sin\frac\pi6}", r"\frac12"),
    (r"\boxed{\arctan 1}", r"\frac\pi4"), (r"\boxed{\lceil\pi\rceil}", "4"), (r"\boxed{\sqrt{72}}", r"6\sqrt2"),
    (r"\boxed{\sqrt{4}}", "2"), (r"\boxed{\sqrt[3]{8}}", "2"), (r"\boxed{\sqrt{8}}", r"2\sqrt{2}"),
    (r"\boxed{\sin(\pi/3)}", r"\frac{\sqrt{3}}{2}"), (r"\boxed{|-5|}", "5"), (r"\boxed{\max(3, 4)}", "4"),
    (r"\boxed{x = \binom{5}{2}}", "x = 10"), (r"The answer is $\binom{20}{5}$.", "15504"),
]
#: what stays a form of the value: arithmetic, an operation on a variable, one the gold also has
EVALUATED_ENOUGH = [
    (r"\boxed{2^{10}}", "1024"), (r"\boxed{\frac{6}{8}}", r"\frac34"), (r"\boxed{3 \cdot 5}", "15"),
    (r"\boxed{\sin x \cos x}", r"\frac{1}{2}\sin 2x"), (r"\boxed{2\sqrt3}", r"\sqrt{12}"), (r"\boxed{\exp(2)}", "e^2"),
    (r"\boxed{\frac{\ln 3}{\ln 2}}", r"\log_2 3"), (r"\boxed{\sqrt{2}}", r"\sqrt{2}"), (r"\boxed{\sin 1}", r"\sin(1)"),
    (r"\boxed{\frac{\sqrt{2}}{2}}", r"\frac{1}{\sqrt{2}}"),
]


@pytest.mark.parametrize("answer,gold", UNEVALUATED)
def test_an_unevaluated_answer_is_wrong(answer, gold):
    for v in (verify(gold, answer), verify_batch([(gold, answer)])[0]):
        assert not v.correct and v.error is None and "not evaluated" in v.reason, (answer, v.reason)


@pytest.mark.parametrize("answer,gold", EVALUATED_ENOUGH)
def test_forms_of_a_value_stay_right(answer, gold):
    v = verify(gold, answer)
    assert v.correct, (answer, v.reason)


def test_a_claim_may_state_what_a_final_answer_must_evaluate():
    # in the process reward `10 = \binom{5}{2}` is work shown, and `\sqrt{12} = 2\sqrt{3}` too
    v = verify_steps("$10 = \\binom{5}{2}$, and $2\\sqrt{3} = \\sqrt{12}$, and $\\frac{1}{2} = \\sin\\frac{\\pi}{6}$")
    assert v.steps == [1.0] and v.details["claims"] == 3

RIGHT = [
    (r"\boxed{A}", "A"), (r"\boxed{\text{(A)}}", "A"),
    (r"\boxed{5 \text{ m}}", "5"), (r"\boxed{300 \text{ K}}", "300"), (r"\boxed{12 \text{ sandwiches}}", "12"),
    (r"\boxed{5 \text{ apples per day}}", "5"),
    ("The answer is 7 (seven).", "7"), ("The answer is 21 (twenty-one).", "21"),
    ("The answer is 305 (three hundred and five).", "305"), ("The answer is 7; I am confident.", "7"),
    ("The answer is Monday (a weekday).", "Monday"),
    (r"\boxed{x = 1, y = 2}", "(1, 2)"), (r"\boxed{x = 1, x = 2}", "1, 2"), (r"\boxed{x = 2, x = 1}", r"\{1, 2\}"),
    # the audit's right-scored-wrong R1: an inequality not solved for its variable
    (r"\boxed{x - 3 > 0}", "x > 3"), (r"\boxed{2x > 6}", "x > 3"), (r"\boxed{3 - x < 0}", "x > 3"),
    (r"\boxed{x - 3 > 0}", r"(3, \infty)"), (r"\boxed{2x - 4 \le 0}", r"(-\infty, 2]"), (r"\boxed{x > 3}", "x - 3 > 0"),
    # R3: a rounded percentage reads as the rounded decimal it is (`0.333` was already right for 1/3)
    (r"\boxed{33.3\%}", r"\frac{1}{3}"), (r"\boxed{66.7\%}", r"\frac{2}{3}"), (r"\boxed{12.5\%}", r"\frac{1}{8}"),
    (r"\boxed{50\%}", "0.5"), (r"\boxed{0.5\%}", "0.005"),
    # re-audit X1: a tuple of variables set to a tuple of values names each value
    (r"\boxed{(x, y) = (2, 3)}", "(2,3)"), (r"\boxed{(y, x) = (3, 2)}", "(2,3)"), (r"\boxed{(x, y) = (2, 3)}", "x=2, y=3"),
    (r"\boxed{(x,y,z)=(1,2,3)}", "(1,2,3)"),
    # X2/X3/X5: residues, option words, other minus signs, temperatures
    (r"\boxed{3 \pmod{7}}", "3"), (r"\boxed{3 \pmod 7}", "3"), (r"\boxed{x \equiv 3 \pmod 7}", "3"),
    (r"\boxed{3 \ (\mathrm{mod}\ 7)}", "3"), (r"\boxed{3 \ (\text{mod } 7)}", "3"),
    (r"\boxed{\text{Option B}}", "B"), ("The correct option is (B).", "B"), ("The correct choice is B", "B"),
    (r"\boxed{－20}", "-20"), (r"\boxed{‐20}", "-20"), (r"\boxed{20 ℃}", "20"), (r"\boxed{20°C}", "20"),
    (r"\boxed{20^\circ \text{C}}", "20"),
]


@pytest.mark.parametrize("answer,gold", WRONG)
def test_audit_answers_are_wrong(answer, gold):
    v = verify(gold, answer)
    assert not v.correct and v.error is None, (answer, v.reason)


@pytest.mark.parametrize("answer,gold", RIGHT)
def test_honest_neighbours_stay_right(answer, gold):
    v = verify(gold, answer)
    assert v.correct, (answer, v.reason)


def test_spelled_numbers():
    from rlvr.verifiers.math_extract import _spelled_number

    assert _spelled_number(["seven"]) == 7
    assert _spelled_number(["twenty", "one"]) == 21
    assert _spelled_number(["three", "hundred", "and", "five"]) == 305
    assert _spelled_number(["two", "thousand", "twenty"]) == 2020
    assert _spelled_number(["seven", "seven"]) is None
    assert _spelled_number(["twenty", "twelve"]) is None
    assert _spelled_number(["hundred"]) is None


# session-16 re-audit: value words in a remark after "the answer is" (M1), more of them after a
# number (M2), a hedge hidden behind padding (M3), and a ninth spelling pushing a hedge out (L3)
REMARK_AND_PADDING = [
    "The answer is 20 (tenfold).", "The answer is 20 (grand).", "The answer is 20 (below).", "The answer is 20 (ish).",
    "The answer is 20 (squared).", "The answer is 20 (negative).", "The answer is 20 (owed).",
    "The answer is 20 (double that).", "The answer is 20 (in thousands).", "The answer is 20; in thousands",
    "The answer is 20; negate it", "Final Answer: 20 (doubled)", "**Final Answer**\n20 (halved)",
    "<answer>The answer is 20 (negative)</answer>",
    r"\boxed{20 \text{ doubled}}", r"\boxed{20 \text{ in debt}}", r"\boxed{20 \text{ B}}", r"\boxed{20B}",
    r"\boxed{20 \text{ earlier}}", r"\boxed{20 \text{ googol}}", r"\boxed{20 \text{ nano}}", r"\boxed{20 \text{ too many}}",
    r"\boxed{20" + " " * 3000 + r"\text{ or } 21}", r"\boxed{20" + r"\," * 1500 + r"\text{ or } 21}",
    "The answer is 20" + " " * 3000 + " or 21.",
    r"\boxed{21}" + "".join(rf" \boxed{{{x}}}" for x in ["20", "20.0", "20.00", "40/2", r"\frac{40}{2}", r"2\cdot10",
                                                          "x=20", r"4\cdot5"]),
]


@pytest.mark.parametrize("answer", REMARK_AND_PADDING)
def test_remarks_padding_and_spellings_do_not_hide_another_value(answer):
    v = verify("20", answer)
    assert not v.correct and v.error is None, (answer[:60], v.reason)


@pytest.mark.parametrize("answer", [
    "The answer is 20; I am sure.", "The answer is 20 (twenty).", "The answer is 20 (that is the final answer).",
    "The answer is 20 (apples).", r"\boxed{20 \text{ students in the class}}", r"\boxed{20} \boxed{20.0}",
    r"\boxed{\boxed{20}}",
])
def test_harmless_remarks_and_repeats_stay_right(answer):
    v = verify("20", answer)
    assert v.correct, (answer, v.reason)


@pytest.mark.timeout(20)
def test_a_line_of_bold_openers_without_a_closer_is_read_in_linear_time():
    # re-audit R1: the bold expression's lazy scan from each ` **` to the end of the line took 13 s
    # for 64 KB (about 2 minutes at the 200 KB cap), in the caller's process with no time limit
    v = verify("20", " **a" * 50_000)
    assert not v.correct and "no final answer" in v.reason


def test_bold_marks_are_stripped_as_the_markdown_rule_says():
    import random

    from rlvr.verifiers.math_normalize import _BOLD_RE, _strip_bold

    rng = random.Random(16)
    alphabet = ["*", "**", "***", " ", "a", "1", "\n", "(", ")", "_", "é", "]"]
    for _ in range(20_000):  # the linear scan gives exactly what the expression gives
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert _strip_bold(text) == _BOLD_RE.sub(r"\1", text), repr(text)
    assert _strip_bold("The answer is **18**.") == "The answer is 18."
    assert _strip_bold("2**3 and **x**") == "2**3 and x"


def test_a_factor_never_real_cannot_make_one_answer_equal_two_golds():
    # re-audit L5: sqrt(-1-x^2)/(i sqrt(1+x^2)) is 1 by principal branches but never real; it made
    # every sampled difference not count, so this answer equalled both 2 (x > 0) and 3 (x < 0)
    either = (r"\boxed{\frac{\sqrt{-1-x^2}}{i\sqrt{1+x^2}}\left(\frac{5}{2}-\frac{1}{2}\cdot"
              r"\frac{\sqrt{x^2}}{x}\right)}")
    assert not verify("2", either).correct and not verify("3", either).correct
    # agreement on the common real domain still counts
    assert verify(r"\ln(x^2)", r"\boxed{2\ln x}").correct
    assert verify(r"\sqrt{x}\sqrt{x-1}", r"\boxed{\sqrt{x^2-x}}").correct
