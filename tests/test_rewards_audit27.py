"""Review 27 of the reward path: the boxed format part pays only for boxes that show something and
that the math verifier reads (not one tried inside `<think>` before the answer), and procedural
number answers read a signed number in brackets and the en dash minus."""

from __future__ import annotations

import pytest

import rlvr
from rlvr.verifiers import shaping
from rlvr.verifiers.shaping import boxed_reward

TASK = {"question": "What is 12*5?", "answer": "60"}


def _step(env, action: str, task: dict) -> dict:
    env.reset(options={"task": task})
    *_, info = env.step(action)
    return info


# 1. a box that shows nothing earns no format credit, however it hides its content

@pytest.mark.parametrize("content", ["\\phantom{0}", "\\hspace{1cm}", "\\vspace{2pt}", "\\text{\\phantom{5}}",
                                     "\\,\\phantom{2}", "\\ ", "\u200b", "\\text{\\ }\\ ", "\\\\"])
def test_a_box_that_shows_nothing_gets_no_format_credit(content):
    env = rlvr.make("rlvr/Math-v0", reward_weights={"outcome": 1, "format": 0.5})
    text = f"I will not commit. \\boxed{{{content}}}"
    env.reset(options={"task": TASK})
    _, reward, *_, info = env.step(text)
    assert boxed_reward(text) == info["reward_parts"]["format"] == reward == 0.0


@pytest.mark.parametrize("content", ["60", "3/4", "\\frac{3}{4}", "\\phantom{0}5", "\\{\\}", "\\emptyset", "x"])
def test_a_box_that_shows_something_still_gets_it(content):
    assert shaping.last_box(f"So \\boxed{{{content}}}.") == content


# 2. a box inside <think> earns nothing when the verifier reads the answer after the block

@pytest.mark.parametrize("text, outcome, form", [
    ("<think>12*5 is \\boxed{59}? no.</think>\nThe answer is 60", 1.0, 0.0),
    ("<think>\\boxed{60}</think>\nThe answer is 72", 0.0, 0.0),
    ("<think>12*5 = 60</think>\n\\boxed{60}", 1.0, 1.0),
    ("<think>maybe \\boxed{59}</think>\nSo \\boxed{60}", 1.0, 1.0),
    ("<think>12*5 is \\boxed{60}</think>", 1.0, 1.0),  # nothing after the block: the verifier reads it
    ("12*5 is \\boxed{60}", 1.0, 1.0),
    ("The answer is 60", 1.0, 0.0),
])
def test_math_format_part_reads_the_boxes_the_verifier_reads(text, outcome, form):
    env = rlvr.make("rlvr/Math-v0", reward_weights={"outcome": 1, "format": 0.5})
    parts = _step(env, text, TASK)["reward_parts"]
    assert (parts["outcome"], parts["format"]) == (outcome, form)
    assert boxed_reward(text) == form


def test_last_box_skips_a_box_of_the_reasoning():
    assert shaping.last_box("<think>\\boxed{59}</think>\nSo \\boxed{60}.") == "60"
    assert shaping.last_box("<think>\\boxed{59}</think>\nThe answer is 60.") is None


# 3. a signed number in brackets and the en dash minus are numbers

ARITHMETIC = ("rlvr/Arithmetic-v0", {"ops": "-", "allow_negative": True}, {"question": "What is 2 - 7?", "answer": "-5"})
LINEAR = ("rlvr/LinearEquation-v0", {"negative": True}, {"question": "Solve for x: -2x + 3 = 13.", "answer": "-5"})
BRACKETED = ["(-5)", "$(-5)$", "\\((-5)\\)", "\u20135", "(\u20135)", "(\u22125)", "( -5 )."]


@pytest.mark.parametrize("setup, answer", [(ARITHMETIC, a) for a in BRACKETED]
                         + [(LINEAR, a) for a in BRACKETED + ["x = (-5)", "$x = (-5)$", "(-5) = x", "x = \u20135"]])
def test_a_bracketed_or_en_dash_negative_answer_is_read(setup, answer):
    env_id, kwargs, task = setup
    env = rlvr.make(env_id, **kwargs)
    info = _step(env, f"<answer>{answer}</answer>", task)
    assert info["reward_parts"]["outcome"] == 1.0, info["verdict"].reason


@pytest.mark.parametrize("answer, gold", [("(3+4)", "7"), ("(1)(2)", "2"), ("((-5))", "-5"), ("(-5)(1)", "-5"),
                                          ("(-5 or 5)", "-5"), ("(-5, 5)", "-5"), ("(7)", "7"), ("3\u20135", "-2")])
def test_brackets_read_no_expression_or_hedge(answer, gold):
    env = rlvr.make("rlvr/Arithmetic-v0", ops="-", allow_negative=True)
    info = _step(env, f"<answer>{answer}</answer>", {"question": "q", "answer": gold})
    assert info["reward_parts"]["outcome"] == 0.0


def test_the_new_rules_have_their_own_version():
    from rlvr.envs.answers import RULES_VERSION

    assert RULES_VERSION >= 7
    assert rlvr.make("rlvr/Math-v0").unwrapped.fingerprint()["settings"]["format_rules"] == RULES_VERSION


# ---------------------------------------------------------------- named spaces and invisible commands (math rules 12)

@pytest.mark.parametrize("content", ["\\enspace", "\\thinspace", "\\medspace", "\\strut", "\\null", "\\relax",
                                     "\\nonumber", "\\negthinspace", "\\enskip \\strut",
                                     # rules 13
                                     "\\mathstrut", "\\>", "\\kern1em", "\\hskip 1em", "\\mkern3mu", "\\mskip 3mu",
                                     "\\kern-2pt", "\\kern{0.5ex}", "\\hspace*{1em}", "\\space", "\\smash{}",
                                     "\\smash[t]{\\ }", "\\rule{0pt}{0pt}", "\\rule[-1ex]{1cm}{0.4pt}",
                                     "\\underline{\\ }"])
def test_a_box_of_named_spaces_or_invisible_commands_is_empty(content):
    from rlvr.verifiers.math import verify
    from rlvr.verifiers.shaping import boxed_reward

    text = "The answer is \\boxed{%s}." % content
    assert boxed_reward(text) == 0.0
    assert verify("5", text).details["kind"] == "unparsable"


@pytest.mark.parametrize("answer", ["2\\thinspace 000", "2\\enspace000", "2\\,000", "2\\>000", "2\\space 000"])
def test_a_named_thin_space_between_digit_groups_joins_them(answer):
    from rlvr.verifiers.math import verify

    assert verify("2000", "\\boxed{%s}" % answer).correct


@pytest.mark.parametrize("answer", ["5\\strut", "5 \\relax", "\\null 5", "5\\kern1em", "\\mkern-3mu 5", "\\underline{5}",
                                    "\\underline 5", "\\smash{5}", "\\mathstrut 5", "5\\rule{0pt}{2ex}", "\\space5"])
def test_invisible_commands_around_an_answer_are_dropped(answer):
    from rlvr.verifiers.math import verify

    assert verify("5", "\\boxed{%s}" % answer).correct


def test_a_command_that_only_starts_like_an_invisible_one_is_kept():
    from rlvr.verifiers.math_normalize import normalize

    assert normalize("\\nullset") == "\\nullset" and normalize("\\relaxed") == "\\relaxed"


def test_clear_cache_forgets_normalised_texts():
    from rlvr.verifiers import math_normalize
    from rlvr.verifiers.math import clear_cache

    math_normalize.normalize("\\frac{3}{4}")
    assert math_normalize._normalize.cache_info().currsize > 0
    clear_cache()
    assert math_normalize._normalize.cache_info().currsize == 0


@pytest.mark.parametrize("answer", ["2\\kern1em 000", "2\\hskip 1em000", "2\\rule{0pt}{0pt}000"])
def test_a_space_of_a_given_length_between_digits_joins_nothing(answer):
    # a wide space, as `\hspace{1em}` is: `2 000` would be the thousands 2000
    from rlvr.verifiers.math import verify

    assert verify("2000", "\\boxed{%s}" % answer).details["kind"] == "unparsable"


def test_commands_that_only_start_like_the_new_spaces_are_kept():
    from rlvr.verifiers.math_normalize import normalize

    assert [normalize(c) for c in ("\\kernel", "\\spaces", "\\underlines", "\\smashed")] == [
        "\\kernel", "\\spaces", "\\underlines", "\\smashed"]


@pytest.mark.parametrize("gold, answer, right", [
    ("12", "1\\underline{2}", True), ("2", "1\\underline{2}", False),  # it shows 12, not the product 1{2}
    ("0.9", "0.\\smash{9}", True), ("0", "0.\\smash{9}", False),
    ("14", "\\underline{14}", True), ("2", "\\sqrt{1\\underline{4}}", False),
])
def test_underline_and_smash_show_their_argument_as_written(gold, answer, right):
    from rlvr.verifiers.math import verify

    assert verify(gold, "\\boxed{%s}" % answer).correct is right
