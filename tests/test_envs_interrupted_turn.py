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
