"""Review 26 of the reward path: undefined and clock-time claims, partial reward weights, the boxed
format part, decimal places in repeated claims, LaTeX operators in Countdown, huge weights,
invisible reasoning, infinite length penalties and sentence steps in multi-line text."""

from __future__ import annotations

import pytest

import rlvr
from rlvr.envs import RewardWeights
from rlvr.verifiers import shaping
from rlvr.verifiers.shaping import boxed_reward, length_penalty, think_format_reward
from rlvr.verifiers.steps import split_steps, verify_steps

TASK = {"question": "What is the remainder when 100 is divided by 7?", "answer": "2"}


def _step(env, action: str, task: dict = TASK) -> tuple[float, dict]:
    env.reset(options={"task": task})
    _, reward, *_, info = env.step(action)
    return reward, info["reward_parts"]


# 1. a claim whose sides are undefined never holds; a clock time is no claim

@pytest.mark.parametrize("claim", ["1/0 = 2/0", "\\log 0 = 2 \\log 0", "0^{-1} = 0^{-2}", "\\frac{1}{1-1} = 5"])
def test_a_claim_with_an_undefined_side_fails(claim):
    v = verify_steps(claim)
    assert v.steps == [0.0] and "not a finite number" in v.reason


def test_padding_with_undefined_claims_earns_no_process_credit():
    env = rlvr.make("rlvr/Math-v0", process_reward="steps", reward_weights={"outcome": 1, "process": 0.2})
    padding = "\n".join(f"{k}/0 = {k + 1}/0" for k in range(1, 40))
    _, parts = _step(env, padding + "\n100 / 7 = 20\nSo \\boxed{5}")
    assert parts["outcome"] == 0.0 and parts["process"] == 0.0


@pytest.mark.parametrize("text", ["3:00 + 2 = 7:00", "10:30 + 1 = 11:30", "<<3:00+2=5:00>>"])
def test_a_clock_time_makes_no_claim(text):
    v = verify_steps(text)
    assert v.steps == [None] and v.details["claims"] == 0


def test_ratios_and_labels_are_still_read():
    assert verify_steps("1:2 = 0.5").steps == [1.0]
    assert verify_steps("Step 1: 2^{10} = 1024").steps == [1.0]


# 2. a partial mapping of reward weights keeps the env's other defaults

def test_toolmath_keeps_its_default_process_weight_under_a_partial_mapping():
    def weights(**kwargs):
        return rlvr.make("rlvr/ToolMath-v0", builtin_tools=("calculator",), **kwargs).unwrapped.reward_weights

    assert weights() == RewardWeights(outcome=1.0, format=0.0, process=0.1)
    assert weights(reward_weights={"format": 0.2}) == RewardWeights(outcome=1.0, format=0.2, process=0.1)
    assert weights(reward_weights={"process": 0}) == RewardWeights(outcome=1.0, format=0.0, process=0.0)
    assert weights(reward_weights=RewardWeights(format=0.5)).process == 0.0  # a RewardWeights names every part


def test_toolmath_keeps_its_default_process_weight_when_weights_are_assigned():
    env = rlvr.make("rlvr/ToolMath-v0", builtin_tools=("calculator",)).unwrapped
    env.reward_weights = {"outcome": 2}
    assert env.reward_weights == RewardWeights(outcome=2.0, format=0.0, process=0.1)
    with pytest.raises(ValueError, match="unknown reward part"):
        env.reward_weights = {"bogus": 1}


# 3. the boxed format part: an empty box is none, and does not hide the answer's box

@pytest.mark.parametrize("answer, outcome, form", [
    ("\\boxed{2} (as asked, within \\boxed{})", 1.0, 1.0),
    ("\\boxed{\\text{}}", 0.0, 0.0),
    ("\\boxed{\\,}", 0.0, 0.0),
    ("\\boxed{{}}", 0.0, 0.0),
    ("\\boxed{}", 0.0, 0.0),
    ("\\boxed{\\phantom{0}}", 0.0, 0.0),
    ("\\boxed{\\hspace{1cm}}", 0.0, 0.0),
    ("\\boxed{\\vspace{2pt}}", 0.0, 0.0),
    ("\\boxed{\\text{\\phantom{5}}}", 0.0, 0.0),
    ("\\boxed{\\,\\phantom{2}}", 0.0, 0.0),
    ("\\boxed{\\ }", 0.0, 0.0),
    ("\\boxed{\u200b}", 0.0, 0.0),
    ("\\boxed{2}", 1.0, 1.0),
    ("The answer is 2.", 1.0, 0.0),
])
def test_math_format_part_credits_the_last_box_that_holds_something(answer, outcome, form):
    env = rlvr.make("rlvr/Math-v0", reward_weights={"outcome": 1, "format": 0.5})
    _, parts = _step(env, answer)
    assert (parts["outcome"], parts["format"]) == (outcome, form)


def test_toolmath_format_part_uses_the_same_rule():
    env = rlvr.make("rlvr/ToolMath-v0", builtin_tools=("calculator",), reward_weights={"format": 1})
    assert _step(env, "\\boxed{\\text{}}")[1]["format"] == 0.0
    assert _step(env, "\\boxed{2} (as asked, within \\boxed{})")[1]["format"] == 1.0


@pytest.mark.parametrize("text, content", [
    ("\\boxed{2} (as asked, within \\boxed{})", "2"),
    ("\\boxed 5", "5"),
    ("\\boxed{5}\\boxed{", "5"),
    ("\\boxed{\\text{}}", None),
    ("\\boxed{\\quad}", None),
    ("\\boxed{\\phantom{0}}", None),
    ("\\boxed{\\hspace{1cm}}", None),
    ("\\boxed{\\vspace{2pt}}", None),
    ("\\boxed{\\text{\\phantom{5}}}", None),
    ("\\boxed{\\,\\phantom{2}}", None),
    ("\\boxed{\\ }", None),
    ("\\boxed{\u200b}", None),
    ("\\boxed{2}\\boxed{\\phantom{0}}", "2"),
])
def test_boxed_reward_and_the_env_share_one_rule(text, content):
    env = rlvr.make("rlvr/Math-v0", reward_weights={"format": 1})
    assert shaping.last_box(text) == content
    assert boxed_reward(text) == _step(env, text)[1]["format"] == (0.0 if content is None else 1.0)


def test_the_format_rules_are_in_the_fingerprint():
    from rlvr.envs.answers import RULES_VERSION

    env = rlvr.make("rlvr/Math-v0").unwrapped
    assert RULES_VERSION >= 6 and env.fingerprint()["settings"]["format_rules"] == RULES_VERSION


# 4. a decimal's written places are part of a repeated claim

def test_a_false_claim_is_not_skipped_as_a_repeat_of_a_rounding():
    assert verify_steps("1/3 = 0.3330").steps == [0.0]
    v = verify_steps("1/3 = 0.333\n1/3 = 0.3330")
    assert v.steps == [1.0, 0.0] and not v.correct


def test_a_respelling_in_places_that_cannot_round_is_still_a_repeat():
    assert verify_steps("2+2 = 4\n(2+2) = 4.0\n1/2 = 0.5\n1/2 = 0.50").steps == [1.0, None, 1.0, None]


# 5. Countdown reads LaTeX operators

@pytest.mark.parametrize("expression", ["$2 \\times 3 \\times 4$", "2 \\cdot 3 \\cdot 4", "4·3·2", "4⋅3⋅2",
                                        "\\left(2 \\times 3\\right) \\times 4", "48 \\div 2", "2\\times3\\times4 = 24"])
def test_countdown_reads_latex_operators(expression):
    env = rlvr.make("rlvr/Countdown-v0")
    task = {"question": "q", "answer": "2*3*4", "numbers": [2, 3, 4, 48], "target": 24}
    assert _step(env, f"<answer>{expression}</answer>", task)[0] == 1.0


@pytest.mark.parametrize("expression", ["2 \\times 3 \\times 4", "48 \\div 2", "2 \\timesx 3 4", "2 \\cdots 3"])
def test_countdown_still_refuses_what_its_ops_do_not_allow(expression):
    env = rlvr.make("rlvr/Countdown-v0", ops="+-")
    task = {"question": "q", "answer": "20+4", "numbers": [2, 3, 4, 48, 20], "target": 24}
    reward, _ = _step(env, f"<answer>{expression}</answer>", task)
    assert reward == 0.0


# 6. a weight too large for a float is a ValueError naming the part

def test_a_weight_past_the_float_range_is_a_value_error():
    with pytest.raises(ValueError, match="reward_weights\\['outcome'\\]"):
        rlvr.make("rlvr/Arithmetic-v0", reward_weights={"outcome": 10**400})


# 7. invisible reasoning and infinite penalties

@pytest.mark.parametrize("text", ["<think>\u200b</think>\u200b", "<think>a</think>\u2060\ufeff", "<think>\u200d </think>b"])
def test_invisible_characters_are_no_content(text):
    assert think_format_reward(text) == 0.0


def test_visible_reasoning_still_counts():
    assert think_format_reward("<think>a\u200b</think>b") == 1.0


@pytest.mark.parametrize("target, coef", [(5, float("inf")), (5, float("nan")), (float("inf"), 1.0), (float("nan"), 1.0)])
def test_length_penalty_refuses_infinite_or_nan_settings(target, coef):
    with pytest.raises(ValueError, match="finite"):
        length_penalty(3, target, coef)


def test_length_penalty_takes_large_ints():
    assert length_penalty(10**400 + 5, 10**400, 1) == -5


# 8. every line is split into sentences

def test_a_line_above_a_paragraph_does_not_change_its_score():
    paragraph = "First 7 * 14 = 98. Then 100 - 98 = 3."
    assert verify_steps(paragraph).score == verify_steps("Solution:\n" + paragraph).score == 0.5
    assert split_steps("Solution:\n" + paragraph) == ["Solution:", "First 7 * 14 = 98.", "Then 100 - 98 = 3."]


def test_toolmath_scores_a_turn_after_a_tool_call_by_its_sentences():
    env = rlvr.make("rlvr/ToolMath-v0", builtin_tools=("calculator",), process_reward="steps")
    call = '<tool_call>{"name": "calculator", "arguments": {"expression": "2+2"}}</tool_call>'
    final = "First 7 * 14 = 98. Then 100 - 98 = 3. So the remainder is \\boxed{2}."
    env.reset(options={"task": TASK})
    env.step("Let me check. " + call)
    *_, info = env.step(final)
    assert info["turn_details"]["process_paid"]["steps"] == 0.5


# -- the diff review: sentence cuts within maths and after factorials; the step cap in lines --------
def test_a_factorial_before_a_command_ends_no_sentence():
    """Cutting every line into sentences cut `3! \\cdot 2 = 13` after `3!`, so the false claim
    escaped as nothing checkable, and true ones lost their credit."""
    assert verify_steps("We compute.\n$3! \\cdot 2 = 13$\n").score == 0.0
    assert verify_steps("We compute.\n3! \\times 4! = 144\n").steps == [None, 1.0]


def test_maths_between_dollars_is_not_cut_into_sentences():
    from rlvr.verifiers.steps import split_steps

    assert split_steps("Done $a. B$ end. Then 2 + 2 = 4.") == ["Done $a. B$ end.", "Then 2 + 2 = 4."]
    assert split_steps("So \\(x. Y\\) holds. Z") == ["So \\(x. Y\\) holds.", "Z"]


def test_the_step_cap_counts_lines_so_sentences_do_not_use_it_up():
    """150 lines of two sentences each made 300 steps, and the true claims past the 200th failed
    unread."""
    text = "\n".join(f"Step {i}: we add. Then {i} + 1 = {i + 1}." for i in range(150))
    assert verify_steps(text).correct
    beyond = "\n".join(["ok."] * 200 + ["2 + 2 = 5"])
    assert verify_steps(beyond).steps[-1] == 0.0  # a line past the first 200: unread, fails


def test_the_sentence_cap_bounds_a_few_long_lines():
    from rlvr.verifiers.steps import MAX_SENTENCES, split_steps

    line = " ".join(f"Then {i} + 1 = {i + 1}." for i in range(MAX_SENTENCES + 5))
    assert len(split_steps(line)) == MAX_SENTENCES
