"""Audit 28 (procedural and registered envs): format rewards of registered envs, LinearEquation
tasks that state their answer, ModArith's residue range, given tasks' questions, generator task
ids, and Countdown's en dash and answer-less given tasks."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import rlvr
from rlvr.envs.custom import DatasetEnv, GeneratorEnv
from rlvr.envs.errors import GeneratorError
from rlvr.envs.procedural import countdown_verdict, linear_equation_task
from rlvr.envs.tasks import Task

ROWS = [{"question": f"{i}+1?", "answer": str(i + 1)} for i in range(5)]
WEIGHTS = {"outcome": 1.0, "format": 0.2}


def _add(rng):
    a = int(rng.integers(100))
    return {"question": f"{a}+1=", "answer": str(a + 1)}


# ------------------------------------------------------------------ 1. format reward of registered envs


@pytest.mark.parametrize("build", [lambda **kw: DatasetEnv(ROWS, verifier="math", **kw),
                                   lambda **kw: GeneratorEnv(_add, verifier="math", **kw)])
def test_a_math_verifier_env_pays_the_format_weight_as_math_v0_does(build):
    env = build(reward_weights=WEIGHTS)
    env.reset(options={"index": 0})
    _, reward, _, _, info = env.step(f"The answer is \\boxed{{{env.task.answer}}}")
    assert info["reward_parts"]["format"] == 1.0 and reward == pytest.approx(1.2)
    assert env.fingerprint()["settings"]["format_reward"] == "boxed"
    math_v0 = rlvr.make("rlvr/Math-v0").unwrapped
    assert math_v0.fingerprint()["settings"]["format_reward"] == env.fingerprint()["settings"]["format_reward"]


def test_a_registered_math_dataset_pays_the_format_weight():
    rlvr.register("rlvr/Audit28Boxed-v0", dataset=ROWS, verifier="math", reward_weights=WEIGHTS, force=True)
    env = rlvr.make("rlvr/Audit28Boxed-v0")
    env.reset(options={"index": 1})
    _, reward, _, _, info = env.step("so \\boxed{2}")
    assert info["reward_parts"] == {"outcome": 1.0, "format": 1.0, "process": 0.0} and reward == pytest.approx(1.2)


def _gold_equals(gold, completion):
    return completion.strip() == gold


@pytest.mark.parametrize("kwargs", [{"verifier": _gold_equals}, {"verifier": "exact"},
                                    {"verifier": "math", "format_reward": None}])
def test_a_format_weight_no_format_reward_can_pay_is_refused_at_make(kwargs):
    rlvr.register("rlvr/Audit28NoFormat-v0", dataset=ROWS, reward_weights=WEIGHTS, force=True, **kwargs)
    with pytest.raises(ValueError, match=r"format_reward='boxed'.*'answer_tags'"):
        rlvr.make("rlvr/Audit28NoFormat-v0")
    # the fix the message names works, and a zero format weight needs none
    env = rlvr.make("rlvr/Audit28NoFormat-v0", format_reward="answer_tags").unwrapped
    assert env.reward_weights.format == 0.2
    assert rlvr.make("rlvr/Audit28NoFormat-v0", reward_weights={"outcome": 1.0}).unwrapped.format_reward is None


def test_reassigning_a_format_weight_nothing_pays_is_refused_and_changes_nothing():
    env = DatasetEnv(ROWS, verifier=_gold_equals)
    with pytest.raises(ValueError, match="format_reward"):
        env.reward_weights = WEIGHTS
    assert env.reward_weights.format == 0.0
    env.reward_weights = {"outcome": 2.0}
    assert env.reward_weights.outcome == 2.0


def test_format_reward_is_a_documented_register_argument():
    doc = rlvr.register.__doc__
    assert re.search(r"^\s+format_reward: ", doc, re.M) and "boxed" in doc and "answer_tags" in doc


# ------------------------------------------------------------------ 2. LinearEquation "x = c"


@pytest.mark.parametrize("settings", [{}, {"max_coef": 2}, {"max_coef": 1}, {"max_coef": 1, "negative": True}])
def test_no_linear_equation_states_its_answer(settings):
    for seed in range(600):
        compact = linear_equation_task(np.random.default_rng(seed), **settings)["compact"]
        assert not re.fullmatch(r"x=-?\d+;x=", compact), (seed, compact)


def test_linear_equation_redraws_only_the_trivial_tasks_and_bumps_its_version():
    env = rlvr.make("rlvr/LinearEquation-v0", max_coef=1).unwrapped
    prompts = [env.reset(options={"index": i})[0].split(". ")[0] for i in range(6)]
    # indices 2 and 3 were "x = 8" under version 1; the others are the tasks they were
    assert prompts == ["Solve for x: x + 1 = 9", "Solve for x: x + 1 = 5", "Solve for x: x + 1 = 5",
                       "Solve for x: x + 1 = 2", "Solve for x: x + 1 = 8", "Solve for x: x + 1 = 7"]
    assert env.fingerprint()["data"]["generator_version"] == 2
    default = rlvr.make("rlvr/LinearEquation-v0").unwrapped
    assert default.reset(options={"index": 0})[0].startswith("Solve for x: 6x + 5 = 53.")


# ------------------------------------------------------------------ 3. given tasks' questions


@pytest.mark.parametrize("env_id", ["rlvr/Arithmetic-v0", "rlvr/Math-v0", "rlvr/Countdown-v0"])
@pytest.mark.parametrize("question", [None, 12345, "", "   \n"])
def test_a_given_task_needs_a_non_empty_text_question(env_id, question):
    env = rlvr.make(env_id)
    task = {"question": question, "answer": "3", "numbers": [1, 2], "target": 3}
    with pytest.raises(ValueError, match="'question' is empty or not text.*non-empty text"):
        env.reset(options={"task": task})
    with pytest.raises(ValueError, match="non-empty text"):
        env.reset(options={"task": Task("t", question, "3", {"numbers": [1, 2], "target": 3})})
    prompt, _ = env.reset(options={"task": dict(task, question="What is 1 + 2?")})
    assert "What is 1 + 2?" in prompt


# ------------------------------------------------------------------ 4. generator task ids


@pytest.mark.parametrize("bad", [None, "", "  ", float("nan")])
def test_a_generator_id_that_says_nothing_is_refused_naming_the_task(bad):
    def gen(rng):
        return dict(_add(rng), id=bad)

    with pytest.raises(GeneratorError, match=r"returned the id .* for task '[^']*gen/0' \(seed 0\).*leave the 'id' key out"):
        GeneratorEnv(gen)


@pytest.mark.parametrize("bad", ["  ", math.nan])
def test_a_generated_task_object_with_a_blank_id_is_refused(bad):
    def gen(rng):
        return Task(bad, "1+1=", "2")

    with pytest.raises(GeneratorError, match="task id must be"):
        GeneratorEnv(gen)


def test_generator_ids_that_name_tasks_are_kept():
    env = GeneratorEnv(lambda rng: dict(_add(rng), id=int(rng.integers(10**6))))
    assert env.reset(options={"index": 0})[1]["task_id"].isdigit()
    env = GeneratorEnv(lambda rng: Task("", "1+1=", "2"))  # an empty Task id: named by the index
    assert env.reset(options={"index": 3})[1]["task_id"].endswith("/3")
    assert GeneratorEnv(_add).reset(options={"index": 4})[1]["task_id"] == "_add/4"


# ------------------------------------------------------------------ 5. ModArith's range


def test_mod_arith_prompt_states_the_residue_range():
    env = rlvr.make("rlvr/ModArith-v0", ops="-").unwrapped
    for i in range(30):
        prompt, _ = env.reset(options={"index": i})
        m = int(re.search(r"mod (\d+)\.", prompt)[1])
        assert f"Give the result as a number from 0 to {m - 1}." in prompt
        assert 0 <= int(env.task.answer) < m
    assert env.fingerprint()["data"]["generator_version"] == 2
    compact = rlvr.make("rlvr/ModArith-v0", ops="-", format="compact").reset(options={"index": 0})[0]
    assert re.fullmatch(r"\(\d+-\d+\)%\d+=", compact)


# ------------------------------------------------------------------ 6. Countdown


@pytest.mark.parametrize("answer,target", [("8 – 3", 5), ("(8 – 3) × 5", 25), ("8 – 5 + 3", 6), ("3 ∗ 5 – 8", 7)])
def test_countdown_reads_the_en_dash_as_minus(answer, target):
    assert countdown_verdict(answer, [3, 5, 8], target, "+-*/").correct
    assert not countdown_verdict(answer, [3, 5, 8], target, "+*/").correct  # a minus sign all the same


def test_countdown_records_its_expression_rules():
    from rlvr.envs.expr import EXPR_RULES_VERSION

    settings = rlvr.make("rlvr/Countdown-v0").unwrapped.fingerprint()["verifier"]["settings"]
    assert settings["expr_rules"] == EXPR_RULES_VERSION >= 2


def test_a_given_countdown_task_needs_no_answer():
    env = rlvr.make("rlvr/Countdown-v0")
    task = {"question": "Using [3, 5, 8] make 13", "numbers": [3, 5, 8], "target": 13}
    env.reset(options={"task": task})
    assert env.step("<answer>8 + 5</answer>")[1] == 1.0
    env.reset(options={"task": task})
    assert env.step("<answer>8 – 3</answer>")[1] == 0.0
    # other envs still need one
    with pytest.raises(ValueError, match="no gold answer"):
        rlvr.make("rlvr/Arithmetic-v0").reset(options={"task": {"question": "1+1?"}})
