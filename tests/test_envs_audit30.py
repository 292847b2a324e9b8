"""Audit 30: environment settings refuse deletion with an error that says what to do instead."""

from __future__ import annotations

import pytest

import rlvr


def test_deleting_a_setting_is_refused_with_what_to_do_instead():
    env = rlvr.make("rlvr/Math-v0").unwrapped
    digest = env.fingerprint().digest
    with pytest.raises(AttributeError, match=r"MathEnv\.max_turns is a setting .* cannot be deleted; assign a new value"):
        del env.max_turns
    assert env.max_turns == 1 and env.fingerprint().digest == digest  # untouched
    tool_env = rlvr.make("rlvr/ToolMath-v0", builtin_tools=("calculator",)).unwrapped
    with pytest.raises(AttributeError, match="tool_timeout is a setting .* make a new env with the tool_timeout"):
        del tool_env.tool_timeout
    env.reset(options={"task": {"question": "What is 3*4?", "answer": "12"}})
    assert env.step("\\boxed{12}")[1] == 1.0  # the env still steps
