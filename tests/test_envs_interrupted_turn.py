"""A step cut short by an exception that propagates (Ctrl-C in a tool, an infrastructure failure
with `on_infra_error="raise"`) leaves a half-done turn: the episode ends, so the next step asks
for a reset instead of going on from a history with an unanswered tool call."""

from __future__ import annotations

import gymnasium as gym
import pytest

import rlvr
from rlvr.envs.base import InfrastructureError
from rlvr.envs.tools import tool


def _call(name: str, **arguments) -> str:
    import json

    return f'<tool_call>{json.dumps({"name": name, "arguments": arguments})}</tool_call>'


def test_keyboard_interrupt_in_a_tool_propagates_and_ends_the_episode():
    @tool
    def stop(x: int) -> str:
        """Interrupts."""
        raise KeyboardInterrupt

    env = rlvr.make("rlvr/ToolMath-v0", builtin_tools=(), tools=[stop]).unwrapped
    env.reset(seed=0)
    with pytest.raises(KeyboardInterrupt):
        env.step(_call("stop", x=1))
    with pytest.raises(gym.error.ResetNeeded):
        env.step("\\boxed{2}")
    _, info = env.reset(seed=1)  # a reset starts afresh
    assert [m["role"] for m in info["messages"]][-1] == "user"
    _, _, terminated, _, _ = env.step("\\boxed{2}")
    assert terminated


def test_system_exit_in_a_tool_is_the_models_failed_call_and_the_episode_goes_on():
    @tool
    def leave(x: int) -> str:
        """Exits."""
        raise SystemExit("bye")

    env = rlvr.make("rlvr/ToolMath-v0", builtin_tools=(), tools=[leave]).unwrapped
    env.reset(seed=0)
    obs, _, terminated, truncated, _ = env.step(_call("leave", x=1))
    assert "SystemExit" in obs and not terminated and not truncated
    env.step("\\boxed{2}")  # no reset needed


def test_raised_infrastructure_failure_ends_the_episode():
    def broken(gold, completion):
        raise RuntimeError("backend down")

    rlvr.register("rlvr/BrokenInterrupt-v0", generator=lambda rng: {"question": "1+1?", "answer": "2"}, verifier=broken,
                  force=True)
    env = rlvr.make("rlvr/BrokenInterrupt-v0", on_infra_error="raise").unwrapped
    env.reset(seed=0)
    with pytest.raises(InfrastructureError, match="backend down"):
        env.step("2")
    with pytest.raises(gym.error.ResetNeeded):
        env.step("2")


def _driven_vec(env_id, n, **kwargs):
    """A vector env whose sub-envs are driven in phases (`step_envs`): after the env checker's
    first steps, as in a rollout."""
    from rlvr.envs.vector import make_vec

    vec = make_vec(env_id, n, max_workers=1, autoreset_mode="Disabled", **kwargs)
    for _ in range(2):
        vec.reset(seed=0)
        vec.step(["2"] * n)
    vec.reset(seed=0)
    assert all(vec._driver(i) is not None for i in range(n))
    return vec


def test_vector_step_cut_short_ends_every_half_done_turn():
    """One env's InfrastructureError ("raise") stops the vector step: the envs whose turns began and
    were never answered end too (else a single-turn episode would take a second answer)."""
    import time

    def judge(gold, completion):
        if completion == "boom":
            raise RuntimeError("backend down")
        if completion == "slow":
            time.sleep(0.2)
        return completion.strip() == gold

    env_id = rlvr.register("rlvr/InterruptedVec-v0", generator=lambda rng: {"question": "1+1?", "answer": "2"},
                           verifier=judge, force=True)
    vec = _driven_vec(env_id, 3, on_infra_error="raise")
    with pytest.raises(InfrastructureError, match="backend down"):
        vec.step(["boom", "slow", "2"])
    for env in vec.envs:
        with pytest.raises(gym.error.ResetNeeded):
            env.unwrapped.step("2")
    _, info = vec.reset(seed=1)
    assert [len(m) for m in info["messages"]] == [1, 1, 1]  # fresh episodes, nothing carried over
    vec.close()


def test_keyboard_interrupt_in_one_tool_of_a_vector_step_ends_the_half_done_turns():
    @tool
    def maybe_stop(x: int) -> str:
        """Interrupts when x is 1."""
        if x == 1:
            raise KeyboardInterrupt
        return "ok"

    from rlvr.envs.vector import make_vec

    vec = make_vec("rlvr/ToolMath-v0", 3, builtin_tools=(), tools=[maybe_stop], max_workers=1, max_turns=5)
    vec.reset(seed=0)
    for _ in range(2):
        vec.step([_call("maybe_stop", x=0)] * 3)
    with pytest.raises(KeyboardInterrupt):
        vec.step([_call("maybe_stop", x=1), _call("maybe_stop", x=0), _call("maybe_stop", x=0)])
    for env in vec.envs:  # env 0 interrupted; envs 1 and 2 never got their results to the caller
        with pytest.raises(gym.error.ResetNeeded):
            env.unwrapped.step("\\boxed{2}")
    vec.close()


def test_every_sub_env_needs_a_reset_after_a_vector_step_error_even_settled_or_wrapped_ones():
    """The caller gets no result from a vector step that raised: a sub-env whose call had finished
    (its reply never seen), or one behind a wrapper the vector env steps whole, must not go on."""
    @tool
    def maybe_stop(x: int) -> str:
        """Interrupts when x is 1."""
        if x == 1:
            raise KeyboardInterrupt
        return f"ok{x}"

    from rlvr.envs.vector import TextVectorEnv

    def make(i):
        env = rlvr.make("rlvr/ToolMath-v0", builtin_tools=(), tools=[maybe_stop], max_turns=6)
        return gym.wrappers.RecordEpisodeStatistics(env) if i == 1 else env  # sub-env 1 is stepped whole

    vec = TextVectorEnv([lambda i=i: make(i) for i in range(3)], max_workers=1)
    vec.reset(seed=0)
    for _ in range(2):
        vec.step([_call("maybe_stop", x=0)] * 3)
    with pytest.raises(KeyboardInterrupt):
        vec.step([_call("maybe_stop", x=5), _call("maybe_stop", x=6), _call("maybe_stop", x=1)])
    assert [env.unwrapped._done for env in vec.envs] == [True, True, True]
    vec.close()
