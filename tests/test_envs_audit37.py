"""Audit 37 of the procedural envs' answer reading and task indices.

1. A right answer inside a Markdown code fence within `<answer>` ("```\\n19\\n```", "```19```",
   "```text\\n19\\n```") scored 0 on Arithmetic, Countdown, LinearEquation and ModArith, while
   Sort took it (reading the integers anywhere, a fence's language word "python3" too). Such a
   fence, enclosing the whole answer, is now read through by every procedural env (answer rules
   11: `answers.unwrapped`); a fence closing mid-answer or two fences are not one answer.
2. A negative `options={"index": i}` of a generator env is refused, now saying why: a generator's
   tasks have no end to count from.
"""

from __future__ import annotations

import importlib

import pytest

import rlvr
from rlvr.envs.answers import RULES_VERSION, parse_number, tagged_answers, unwrapped
from rlvr.envs.procedural import ProceduralEnv
from rlvr.envs.registry import BUILTIN_ENVS

#: (env id, given task, a right answer, a wrong one) for every registered procedural env.
_ENVS = [
    ("rlvr/Arithmetic-v0", {"question": "q", "answer": "19"}, "19", "20"),
    ("rlvr/Countdown-v0", {"question": "q", "numbers": [8, 1, 6, 2], "target": 5}, "6 - 1", "8 - 2"),
    ("rlvr/LinearEquation-v0", {"question": "q", "answer": "5"}, "x = 5", "x = 6"),
    ("rlvr/ModArith-v0", {"question": "q", "answer": "3"}, "3", "4"),
    ("rlvr/Sort-v0", {"question": "q", "answer": "1 2 5 8"}, "1 2 5 8", "2 1 5 8"),
]
#: Ways a model fences an answer `{}` inside the tag.
_FENCES = ["\n```\n{}\n```\n", "```{}```", "\n```text\n{}\n```\n", "```python\n{}\n```", "```plaintext\r\n{}\r\n```",
           "```math\n{}\n```", "~~~\n{}\n~~~", "````\n{}\n````", "``` {} ```", "```\n**{}**\n```"]


def _score(env_id: str, task: dict, answer: str) -> tuple[float, str]:
    env = rlvr.make(env_id)
    env.reset(options={"task": task})
    _, reward, _, _, info = env.step(f"<answer>{answer}</answer>")
    return reward, info["verdict"].reason


def _env_class(entry_point: str) -> type:
    module, _, name = entry_point.partition(":")
    return getattr(importlib.import_module(module), name)


def test_every_built_in_procedural_env_is_covered():
    # the built-in ids only: other tests in the same process register ids of their own
    procedural = {env_id for env_id, entry_point in BUILTIN_ENVS.items() if issubclass(_env_class(entry_point), ProceduralEnv)}
    assert procedural == {env_id for env_id, *_ in _ENVS}


@pytest.mark.parametrize("fence", _FENCES)
@pytest.mark.parametrize("env_id, task, right, wrong", _ENVS, ids=[e[0] for e in _ENVS])
def test_a_fenced_right_answer_is_right(env_id, task, right, wrong, fence):
    reward, reason = _score(env_id, task, fence.format(right))
    assert reward == 1.0, reason


@pytest.mark.parametrize("fence", _FENCES[:4])
@pytest.mark.parametrize("env_id, task, right, wrong", _ENVS, ids=[e[0] for e in _ENVS])
def test_a_fenced_wrong_answer_is_wrong(env_id, task, right, wrong, fence):
    assert _score(env_id, task, fence.format(wrong))[0] == 0.0


@pytest.mark.parametrize("env_id, task, right, wrong", _ENVS, ids=[e[0] for e in _ENVS])
def test_a_fence_closing_mid_answer_is_not_one_answer(env_id, task, right, wrong):
    assert _score(env_id, task, f"```{right}``` {wrong}")[0] == 0.0
    assert _score(env_id, task, f"```{right}```\n```{wrong}```")[0] == 0.0


@pytest.mark.parametrize("env_id, task, right, wrong", _ENVS[:4], ids=[e[0] for e in _ENVS[:4]])
def test_a_fence_holding_two_answers_is_not_right(env_id, task, right, wrong):
    assert _score(env_id, task, f"```\n{right}\n{wrong}\n```")[0] == 0.0
    assert _score(env_id, task, f"```\n{right}\n```\n```\n{wrong}\n```")[0] == 0.0


def test_sort_reads_no_number_from_a_fence_language_word():
    task = {"question": "q", "answer": "1 2 5 8"}
    assert _score("rlvr/Sort-v0", task, "```python3\n1 2 5 8\n```")[0] == 1.0  # "python3" was read as a 3
    assert _score("rlvr/Sort-v0", task, "```\n1 2 5 8\n``` 9")[0] == 0.0


@pytest.mark.parametrize("text, expected", [
    ("```\n19\n```", "19"), ("```19```", "19"), ("```text\n19\n```", "19"), ("~~~\n19\n~~~", "19"),
    ("```x = 5```", "x = 5"),  # "x" is no language word: the line does not end after it
    ("```\n$7$\n```", "7"),  # nested markup
    ("```19``` 20", "```19``` 20"), ("```19``` and ```20```", "```19``` and ```20```"),
    ("```\n19\n```\n```\n20\n```", "```\n19\n```\n```\n20\n```"),
    ("``````", "``````"), ("```\n```", "```\n```"), ("```19", "```19"), ("~~~19```", "~~~19```"),
])
def test_unwrapped_reads_only_a_fence_enclosing_the_whole_answer(text, expected):
    assert unwrapped(text) == expected


def test_parse_number_through_a_fence():
    assert parse_number("```\n19\n```") == 19
    assert parse_number("```python\nx = 5\n```", variable="x") == 5
    assert parse_number("```\n19 20\n```") is None
    assert parse_number("```19``` 20") is None
    assert parse_number("```19````") is None


def test_the_answer_rules_version_names_the_fence_rule():
    assert RULES_VERSION >= 11
    for env_id, *_ in _ENVS:
        assert rlvr.make(env_id).unwrapped.fingerprint()["verifier"]["settings"]["rules"] == RULES_VERSION


@pytest.mark.parametrize("env_id", [e[0] for e in _ENVS])
def test_a_negative_index_of_a_generator_env_says_why_it_is_refused(env_id):
    env = rlvr.make(env_id)
    with pytest.raises(IndexError, match="a generator's tasks have no end, so a negative index cannot count from it"):
        env.reset(options={"index": -1})
    assert env.reset(options={"index": 0})[1]["task_id"].endswith("/0")  # the env still works


def test_a_negative_index_of_a_dataset_env_counts_from_the_end():
    env = rlvr.make("rlvr/Math-v0", dataset=[{"question": "a?", "answer": "1"}, {"question": "b?", "answer": "2"}])
    _, info = env.reset(options={"index": -1})
    assert info["task_id"] == env.reset(options={"index": 1})[1]["task_id"]


# -- review of the fence fix: the format credit reads fences as the outcome does ---------------------

@pytest.mark.parametrize("env_id, task, right, wrong", _ENVS)
@pytest.mark.parametrize("fence", ["```{}```", "**{}**"])
def test_the_compact_format_credits_a_fenced_right_answer_in_every_env(env_id, task, right, wrong, fence):
    env = rlvr.make(env_id, format="compact", reward_weights={"outcome": 1, "format": 0.5})
    env.reset(options={"task": task})
    _, _, _, _, info = env.step(fence.format(right))
    assert info["reward_parts"]["outcome"] == 1.0 and info["reward_parts"]["format"] == 1.0, info["reward_parts"]


@pytest.mark.parametrize("empty", ["```\n```", "``````", "****", "$$", "~~~\n~~~"])
def test_a_tag_holding_only_empty_markup_is_no_answer(empty):
    assert tagged_answers(f"<answer>{empty}</answer>") == []
    env = rlvr.make("rlvr/Arithmetic-v0", reward_weights={"outcome": 1, "format": 0.5})
    env.reset(options={"task": {"question": "q", "answer": "19"}})
    _, _, _, _, info = env.step(f"<answer>{empty}</answer>")
    assert info["reward_parts"]["format"] == 0.0, info["reward_parts"]
