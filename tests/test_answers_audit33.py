"""Audit 33 of `rlvr.envs.answers`: an `<answer>` tag holding only what shows nothing.

`tagged_answers` called a tag empty only when `str.strip()` left nothing, so a tag holding a
zero-width space (U+200B), a word joiner (U+2060) or the Hangul filler U+3164 was an answer: it
earned the procedural envs' and `format_reward="answer_tags"`'s `format` credit, which
`shaping.answer_tag_reward` refuses it, and as the last tag it hid a later `\\boxed{}` from
`final_answer`. Such a tag is now empty, by the format rewards' own test (answer rules 8).
"""

from __future__ import annotations

import pytest

import rlvr
from rlvr.envs.answers import RULES_VERSION, final_answer, follows_tag_format, tagged_answers
from rlvr.envs.custom import DatasetEnv
from rlvr.verifiers.shaping import answer_tag_reward

#: Contents that show nothing but survive `str.strip()`.
_INVISIBLE = ["\u200b", "\u2060", "\u3164", " \u200b\u200d ", "\ufeff", "\u115f\u1160", "\u2800"]


@pytest.mark.parametrize("inner", _INVISIBLE)
def test_a_tag_that_shows_nothing_is_no_answer_and_no_format(inner):
    text = f"<answer>{inner}</answer>"
    assert tagged_answers(text) == []
    assert not follows_tag_format(text)
    assert answer_tag_reward(text) == 0.0  # the two rules agree on emptiness


@pytest.mark.parametrize("inner", _INVISIBLE)
def test_an_invisible_tag_takes_no_format_credit_from_the_real_one(inner):
    text = f"Put it in <answer>{inner}</answer> tags.\n<answer>7</answer>"
    assert tagged_answers(text) == ["7"] and follows_tag_format(text)


def test_an_invisible_last_tag_does_not_hide_a_later_box():
    assert final_answer("<answer>\u200b</answer>\n\\boxed{7}", compact=False) == "7"


@pytest.mark.parametrize("inner", ["7", "\u200b7", "x\u3164", "\u00e9"])
def test_a_tag_with_something_visible_is_still_an_answer(inner):
    assert tagged_answers(f"<answer>{inner}</answer>") == [inner]


def _arithmetic_step(text):
    env = rlvr.make("Arithmetic-v0", reward_weights={"format": 0.5}).unwrapped
    env.reset(options={"task": {"question": "What is 3 + 4?", "answer": "7"}})
    return env.step(text)[4]["reward_parts"]


def test_a_procedural_env_gives_no_format_credit_to_an_invisible_tag():
    assert _arithmetic_step("<answer>\u200b</answer>")["format"] == 0.0
    assert _arithmetic_step("<answer>7</answer>")["format"] == 1.0


def test_a_procedural_env_reads_the_box_after_an_invisible_tag():
    parts = _arithmetic_step("<answer>\u2060</answer> \\boxed{7}")
    assert parts["outcome"] == 1.0 and parts["format"] == 0.0


def test_answer_tags_format_reward_gives_no_credit_to_an_invisible_tag():
    rows = [{"question": "1 + 1?", "answer": "2"}]
    env = DatasetEnv(rows, question_key="question", answer_key="answer", verifier="exact", format_reward="answer_tags")
    env.reset(options={"index": 0})
    assert env.step("<answer>\u3164</answer>")[4]["reward_parts"]["format"] == 0.0


def test_the_rules_version_is_bumped_and_fingerprinted():
    assert RULES_VERSION >= 8
    assert rlvr.make("Arithmetic-v0").unwrapped.fingerprint()["verifier"]["settings"]["rules"] == RULES_VERSION
