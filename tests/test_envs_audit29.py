"""Audit 29: the fingerprint follows settings changed after the env is built, a custom tool's code,
and a spec's `max_episode_steps`; scoring hooks that give a part outside [0, 1] fail the step."""

from __future__ import annotations

import dataclasses
import math

import pytest

import rlvr
from rlvr.envs.base import InfrastructureError, SingleTurnEnv, TextEnv, Turn
from rlvr.envs.tasks import ListSource, Task
from rlvr.envs.tools import tool
from rlvr.verifiers.verdict import Verdict

TASK = {"question": "What is 3*4?", "answer": "12"}


def _step(env, text, task=TASK):
    env.reset(options={"task": task})
    return env.step(text)


def _digest(env, text="3 * 4 = 12 so \\boxed{12}", task=TASK):
    return _step(env, text, task)[4]["fingerprint"].digest


# ------------------------------------------------------------------ 1. settings reassigned after the env is built


def test_reassigned_math_settings_change_the_fingerprint_and_what_they_change():
    env = rlvr.make("rlvr/Math-v0", reward_weights={"outcome": 1, "format": 0.5}).unwrapped
    seen = {_digest(env)}
    for name, value in [("process_reward", "steps"), ("reward_weights", {"outcome": 1, "process": 0.5, "format": 0.5}),
                        ("format_reward", "answer_tags"), ("prompt", "Solve: {question}"),
                        ("system_prompt", "Be brief."), ("max_action_chars", 5)]:
        setattr(env, name, value)
        digest = _digest(env)
        assert digest not in seen, name  # the record names the new value, not the one first cached
        seen.add(digest)
        assert env.fingerprint().to_dict()["settings"][name] == value
    assert env.action_space.max_length == 5  # the action space follows max_action_chars
    _, reward, terminated, _, info = _step(env, "\\boxed{12}")
    assert terminated and reward == 0.0 and info["verdict"].details["kind"] == "overlong"
    env.source = ListSource([Task("t0", "What is 1+1?", "2")], {"name": "other"})
    assert _digest(env, "\\boxed{2}", {"question": "What is 1+1?", "answer": "2"}) not in seen


def test_a_reassigned_setting_is_checked_as_the_constructor_checks_it():
    env = rlvr.make("rlvr/Math-v0").unwrapped
    before = env.fingerprint()
    for name, value, error in [("max_action_chars", 0, ValueError), ("max_turns", 2.5, ValueError),
                               ("max_obs_chars", True, ValueError), ("format_reward", "tags", ValueError),
                               ("process_reward", "every", ValueError), ("prompt", 3, TypeError),
                               ("source", [TASK], TypeError)]:
        with pytest.raises(error, match=name if name != "process_reward" else "process_reward"):
            setattr(env, name, value)
    assert env.fingerprint() == before and env.action_space.max_length == env.max_action_chars
    # no format reward under a non-zero format weight: refused either way round
    weighted = rlvr.make("rlvr/Math-v0", reward_weights={"format": 0.2}).unwrapped
    with pytest.raises(ValueError, match="format_reward=None"):
        weighted.format_reward = None
    assert weighted.format_reward == "boxed"
    weighted.prompt = None  # the verifier's default prompt again
    assert "boxed" in weighted.make_prompt(Task("t", "2+2?", "4"))


def test_settings_built_into_tools_or_tasks_are_refused_and_the_others_refresh():
    env = rlvr.make("rlvr/ToolMath-v0", builtin_tools=("calculator",)).unwrapped
    for name, value in [("tools", {}), ("tool_timeout", 1.0), ("calculator_timeout", 1.0), ("max_tool_output_chars", 10),
                        ("scorer", env.scorer)]:
        with pytest.raises(AttributeError, match=f"{name} is fixed"):
            setattr(env, name, value)
    seen = {env.fingerprint().digest}
    for name, value in [("process_credit", "per_turn"), ("turn_timeout", 3.0), ("max_calls_per_turn", 2)]:
        setattr(env, name, value)
        assert env.fingerprint().digest not in seen, name
        seen.add(env.fingerprint().digest)
    with pytest.raises(ValueError, match="process_credit"):
        env.process_credit = "never"
    with pytest.raises(ValueError, match="turn_timeout"):
        env.turn_timeout = -1
    # the room a turn's tool responses need is checked on either side
    with pytest.raises(ValueError, match="too small for a turn's tool responses"):
        env.max_obs_chars = 100
    with pytest.raises(ValueError, match="too small for a turn's tool responses"):
        env.max_calls_per_turn = 10_000
    assert env.max_obs_chars == env.observation_space.max_length and env.max_calls_per_turn == 2

    countdown = rlvr.make("rlvr/Countdown-v0").unwrapped
    digest = countdown.fingerprint().digest
    with pytest.raises(AttributeError, match="difficulty is fixed"):
        countdown.difficulty = {"count": 2}
    countdown.format = "compact"
    assert countdown.fingerprint().digest != digest
    assert countdown.make_prompt(countdown.source.get(0)) == countdown.source.get(0).meta["compact"]
    with pytest.raises(ValueError, match="format must be one of"):
        countdown.format = "terse"


def test_reassigned_code_env_settings_refresh_and_are_checked():
    from rlvr.envs.code_env import CodeEnv

    env = CodeEnv(sandbox_backend="subprocess")
    seen = {env.fingerprint().digest}
    for name, value in [("partial_credit", False), ("timeout", 3.0), ("case_timeout", 2.0), ("float_tolerance", 1e-6)]:
        setattr(env, name, value)
        assert env.fingerprint().digest not in seen, name
        seen.add(env.fingerprint().digest)
    with pytest.raises(ValueError, match="exact=True compares output byte for byte"):
        env.exact = True  # float_tolerance is set: one of them would be ignored
    env.float_tolerance = None
    env.exact = True
    assert env.fingerprint().digest not in seen and env.io_options()["exact"] is True
    for name, value in [("partial_credit", 1), ("timeout", 0), ("case_timeout", "5")]:
        with pytest.raises(ValueError, match=name):
            setattr(env, name, value)


# ------------------------------------------------------------------ 2. the code of a custom tool


def _lookup_tool(k):
    @tool
    def lookup(x: int) -> str:
        """Look up the constant for x."""
        return str(x * k)

    return lookup


def test_custom_tools_with_one_schema_and_different_code_have_different_fingerprints():
    def digest(t):
        return rlvr.make("rlvr/ToolMath-v0", builtin_tools=(), tools=[t]).unwrapped.fingerprint()

    double, triple = _lookup_tool(2), _lookup_tool(3)
    assert double.schema() == triple.schema()
    assert digest(double).digest != digest(triple).digest
    assert digest(double) == digest(_lookup_tool(2))  # the same code and values: one setup
    code = digest(double).to_dict()["settings"]["tool_code"]
    assert list(code) == ["lookup"] and code["lookup"]["fn"]
    # the built-in tools are rlvr's code, named by their rules: no tool_code for them
    builtins_only = rlvr.make("rlvr/ToolMath-v0", builtin_tools=("calculator",)).unwrapped.fingerprint()
    assert "tool_code" not in builtins_only.to_dict()["settings"]


# ------------------------------------------------------------------ 3. max_episode_steps


def test_a_spec_with_max_episode_steps_records_it_and_one_without_does_not():
    env = rlvr.make("rlvr/Math-v0").unwrapped
    plain = env.fingerprint()
    assert "max_episode_steps" not in plain.to_dict()["settings"]
    env.spec = dataclasses.replace(env.spec, max_episode_steps=1)
    limited = env.fingerprint()
    assert limited.to_dict()["settings"]["max_episode_steps"] == 1 and limited.digest != plain.digest


def test_rlvr_make_with_max_episode_steps_records_it_in_the_fingerprint():
    """gym.make keeps the limit in its TimeLimit wrapper and clears it from the env's spec: before,
    an episode cut at 1 step (return 0) and a whole one (return 1.1) reported one digest."""
    plain = rlvr.make("rlvr/ToolMath-v0", builtin_tools=("calculator",))
    limited = rlvr.make("rlvr/ToolMath-v0", builtin_tools=("calculator",), max_episode_steps=1)
    returns, digests = [], []
    for env in (plain, limited):
        env.reset(options={"index": 0})
        call = '<tool_call>{"name": "calculator", "arguments": {"expression": "2+2"}}</tool_call>'
        _, r1, term, trunc, _ = env.step(call)
        total = r1
        if not (term or trunc):
            _, r2, _, _, info = env.step("\\boxed{%s}" % env.unwrapped.task.answer)
            total += r2
        returns.append(total)
        digests.append(env.unwrapped.fingerprint())
    assert returns[0] > 1.0 and returns[1] == 0.0
    assert digests[1].to_dict()["settings"]["max_episode_steps"] == 1
    assert "max_episode_steps" not in digests[0].to_dict()["settings"] and digests[0].digest != digests[1].digest


# ------------------------------------------------------------------ 4. scoring hooks outside [0, 1]


class _HookEnv(SingleTurnEnv):
    inline_verify = True  # a BatchVerify request: a vector env may step it column by column

    def __init__(self, mode="ok", **kwargs):
        self.mode = mode
        super().__init__(ListSource([Task("0", "2+2?", "4")], {"name": "hooks"}), **kwargs)

    def verify(self, task, content):
        if self.mode == "nan_verdict":
            return Verdict(score=float("nan"), correct=False, reason="x")
        if self.mode == "big_verdict":
            return Verdict(score=7.0, correct=True, reason="x")
        if self.mode == "text_verdict":
            return Verdict(score="1", correct=True, reason="x")
        return Verdict.right("ok")

    def format_score(self, task, content):
        return float("nan") if self.mode == "nan_format" else 1.0

    def process_score(self, task, content):
        return (float("inf") if self.mode == "inf_process" else -0.5 if self.mode == "negative_process" else 0.0), None


BAD = [("nan_verdict", "verify", "outcome"), ("big_verdict", "verify", "outcome"), ("text_verdict", "verify", "outcome"),
       ("nan_format", "format_score", "format"), ("inf_process", "process_score", "process"),
       ("negative_process", "process_score", "process")]


@pytest.mark.parametrize("mode, hook, part", BAD)
def test_a_hook_part_outside_0_1_is_a_failed_verification_naming_the_hook(mode, hook, part):
    env = _HookEnv(mode, reward_weights={"outcome": 1, "format": 0.1, "process": 0.1})
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step("4")
    assert reward == 0.0 and terminated and not truncated
    assert info["valid"] is False and info["verdict"].error == info["error"]
    assert f"_HookEnv.{hook} gave the {part!r} reward part" in info["error"]
    assert all(value == 0.0 for value in info["reward_parts"].values())
    raising = _HookEnv(mode, on_infra_error="raise")
    raising.reset(seed=0)
    with pytest.raises(InfrastructureError, match=hook):
        raising.step("4")


def test_hooks_in_range_are_scored_as_before():
    env = _HookEnv("ok", reward_weights={"outcome": 1, "format": 0.1, "process": 0.1})
    env.reset(seed=0)
    _, reward, _, _, info = env.step("4")
    assert info["valid"] and math.isclose(reward, 1.1) and info["reward_parts"] == {"outcome": 1.0, "format": 1.0, "process": 0.0}


class _ChattyEnv(TextEnv):
    """Multi-turn: each turn before the last pays a `process` part, here out of range."""

    def __init__(self, process, **kwargs):
        self.process = process
        super().__init__(ListSource([Task("0", "Say done.", "done")], {"name": "chatty"}), max_turns=3, **kwargs)

    def respond(self, task, content, tool_calls):
        if content == "done":
            return Turn(done=True, verdict=Verdict.right("ok"))
        return Turn(observation="go on", parts={"outcome": 0.0, "format": 0.0, "process": self.process})


def test_a_multi_turn_respond_with_a_part_outside_0_1_ends_the_episode_unscored():
    env = _ChattyEnv(float("nan"), reward_weights={"process": 1.0})
    env.reset(seed=0)
    observation, reward, terminated, truncated, info = env.step("thinking")
    assert (observation, reward, terminated, truncated) == ("", 0.0, True, False)
    assert not info["valid"] and "_ChattyEnv.respond gave the 'process' reward part nan" in info["error"]
    good = _ChattyEnv(0.5, reward_weights={"process": 1.0})
    good.reset(seed=0)
    assert good.step("thinking")[:4] == ("go on", 0.5, False, False)


@pytest.mark.parametrize("mode, hook, part", BAD[:2] + BAD[3:5])
def test_the_column_by_column_vector_step_fails_the_same_hooks_as_the_env_by_env_one(mode, hook, part):
    from test_envs_vector import _run_both_built  # infos, rewards and the envs' state equal on both paths

    builds = [lambda: _HookEnv("ok"), lambda: _HookEnv(mode), lambda: _HookEnv("ok")]
    info, batched = _run_both_built(builds, 3, "SameStep", [["4"] * 3], reference="phases")
    assert batched == 1  # the fast path took the step
    final = info["final_info"]
    assert list(final["reward_parts"]["outcome"]) == [1.0, 0.0, 1.0] and list(final["valid"]) == [True, False, True]
    assert f"_HookEnv.{hook} gave the {part!r} reward part" in final["error"][1]


def test_the_steps_time_limit_is_fixed_with_the_verifiers():
    """It was a plain attribute: reassigned, it changed process scores under the same fingerprint
    (the fingerprint records the verifier's timeout, which it equals when the env is built)."""
    env = rlvr.make("rlvr/Math-v0", process_reward="steps", timeout=3.0).unwrapped
    assert env.steps_timeout == 3.0
    with pytest.raises(AttributeError, match="steps_timeout is fixed when the env is built"):
        env.steps_timeout = 0.001
    assert env.steps_timeout == 3.0
