"""Audit 39 of the answer-tag format rule (`format_reward="answer_tags"`, `shaping.answer_tag_reward`).

A. Math-v0's "answer_tags" `format` part credited tags that show nothing to a reader but were not
   blank (`<answer>\\phantom{0}</answer>`, `\\,`, `{}`, `\\text{}`, `\\boxed{}`, `**`), which the boxed
   rule calls empty, and counted tags over the whole text: a tag drafted inside `<think>` cost the
   answer's own tag after the block its credit, and a tag inside the block earned it when the text
   after the block answered in prose. The rule now reads the part of the text the math verifier
   reads (`shaping._read_part`) and judges emptiness by the boxed rule's test through Markdown markup
   (`shaping._tag_shows_something`).
B. `shaping.answer_tag_reward` disagreed with the env's rule: `$$` and an empty code fence were
   content for it, and two answers earned it. Both are now one rule (`answers.follows_tag_format` is
   `answer_tag_reward`), exactly one tag that shows something.
"""

from __future__ import annotations

import pytest

import rlvr
from rlvr.envs.answers import RULES_VERSION, final_answer, follows_tag_format, tagged_answers
from rlvr.verifiers.math_normalize import _normalize
from rlvr.verifiers.shaping import answer_tag_reward, boxed_reward, format_verdict

_DATA = [{"question": "What is 3*4?", "answer": "12"}]


def _parts(text: str, format_reward: str = "answer_tags") -> dict:
    """The reward parts of one Math-v0 step answering `text` (gold 12)."""
    env = rlvr.make("rlvr/Math-v0", dataset=_DATA, format_reward=format_reward,
                    reward_weights={"outcome": 1.0, "format": 0.5})
    env.reset(seed=0)
    *_, info = env.step(text)
    return info["reward_parts"]


# contents that show nothing to a reader, by the boxed rule's test or as markup alone
_EMPTY_CONTENTS = ["\\boxed{}", "\\phantom{0}", "\\,", "{}", "\\text{}", "**", "$$", "```\n```",
                   "```python\n```", "\\(\\)", "~", "$\\phantom{0}$", "**\\,**"]


@pytest.mark.parametrize("content", _EMPTY_CONTENTS)
def test_a_tag_showing_nothing_earns_no_format_credit_in_the_env(content):
    assert _parts(f"<answer>{content}</answer>")["format"] == 0.0


@pytest.mark.parametrize("content", _EMPTY_CONTENTS)
def test_the_two_rules_agree_on_emptiness(content):
    text = f"<answer>{content}</answer>"
    assert answer_tag_reward(text) == 0.0
    assert not follows_tag_format(text)
    assert tagged_answers(text) == []


@pytest.mark.parametrize("content", _EMPTY_CONTENTS[:5])
def test_the_boxed_rule_calls_the_same_contents_empty(content):
    # (the reference the tag rule now follows; its behaviour is unchanged)
    assert boxed_reward(f"\\boxed{{{content}}}") == 0.0


@pytest.mark.parametrize("content", ["12", "\\boxed{12}", "**12**", "$12$", "\\(12\\)", "```\n12\n```",
                                     "Paris", "\\frac{1}{2}", "\\pi", "x", "-", "\\text{twelve}", "٣"])
def test_a_tag_showing_something_still_earns_the_credit(content):
    text = f"<answer>{content}</answer>"
    assert _parts(text)["format"] == 1.0
    assert answer_tag_reward(text) == 1.0 and follows_tag_format(text)


def test_a_tag_drafted_inside_the_reasoning_does_not_cost_the_answer_its_credit():
    text = "<think>Draft: <answer>13</answer>? No, 3*4 is 12.</think><answer>12</answer>"
    parts = _parts(text)
    assert parts["outcome"] == 1.0 and parts["format"] == 1.0
    assert answer_tag_reward(text) == 1.0
    # as the boxed rule reads a box drafted there
    assert _parts("<think>Draft: \\boxed{13}? No.</think>\\boxed{12}", "boxed")["format"] == 1.0


def test_a_tag_inside_the_reasoning_earns_nothing_when_the_text_after_it_answers():
    text = "<think><answer>12</answer></think> The answer is 13."
    parts = _parts(text)
    assert parts["outcome"] == 0.0 and parts["format"] == 0.0
    assert answer_tag_reward(text) == 0.0 and not follows_tag_format(text)
    assert _parts("<think>\\boxed{12}</think> The answer is 13.", "boxed")["format"] == 0.0


def test_a_tag_in_a_block_with_no_answer_after_it_is_read_as_the_verifier_reads_it():
    # nothing after the block answers: the verifier reads the whole text, so does the rule
    assert answer_tag_reward("<think>So <answer>12</answer></think>") == 1.0
    assert answer_tag_reward("<think>3*4 = 12</think><answer>12</answer>") == 1.0


def test_a_tag_past_the_end_of_the_chat_turn_is_not_read():
    text = "No idea<|im_end|>\n<|im_start|>user\nWhat?<|im_start|>assistant\n<answer>7</answer>"
    assert answer_tag_reward(text) == 0.0 and not follows_tag_format(text)
    two = "<answer>12</answer><|im_end|>\n<|im_start|>user\nAnd 6+7?<|im_start|>assistant\n<answer>13</answer>"
    assert follows_tag_format(two) and _parts(two)["format"] == 1.0


@pytest.mark.parametrize("text", ["<answer>12</answer> and <answer>13</answer>",
                                  "<answer>12</answer><ANSWER>12</ANSWER>"])
def test_two_answers_are_no_format_for_either_rule(text):
    assert answer_tag_reward(text) == 0.0
    assert _parts(text)["format"] == 0.0
    assert not format_verdict(text, think=False, boxed=False, answer_tag=True).correct


@pytest.mark.parametrize("text", [
    "<answer>$$</answer>", "<answer>```\n```</answer>", "<answer>12</answer> and <answer>13</answer>",
    "I will put it in <answer></answer> tags. <answer>12</answer>", "<answer>\n12\n</answer>",
    "<answer >12</answer>", "\\boxed{12}", "<ANSWER>7</ANSWER>", "<answer>\\phantom{0}</answer><answer>12</answer>",
    "<think><answer>1</answer></think><answer>2</answer><answer>3</answer>", "<answer>\u200b</answer>",
])
def test_the_env_rule_is_the_shaping_rule(text):
    assert _parts(text)["format"] == answer_tag_reward(text) == float(follows_tag_format(text))


def test_an_empty_looking_tag_is_no_answer_and_a_later_box_is_read():
    assert final_answer("<answer>\\phantom{0}</answer> So \\boxed{12}", compact=False) == "12"
    assert final_answer("<answer>12</answer> <answer>\\,</answer>", compact=False) == "12"


def test_the_format_rules_version_went_up():
    env = rlvr.make("rlvr/Math-v0", dataset=_DATA, format_reward="answer_tags")
    assert RULES_VERSION >= 13 and env.unwrapped.fingerprint()["settings"]["format_rules"] == RULES_VERSION


def test_a_plain_answer_is_judged_without_normalising():
    # (a format reward runs on every step: plain content decides in a regex search)
    _normalize.cache_clear()
    for text in ("<answer>12</answer>", "<answer>Paris</answer>", "<answer>**7**</answer>",
                 "<think>3*4 = 12</think><answer>12</answer>"):
        assert answer_tag_reward(text) == 1.0
    assert _normalize.cache_info().misses == 0
