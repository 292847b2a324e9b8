"""A misspelled env argument names itself, the closest argument the env takes, and all of them
(it was Python's bare "TextEnv.__init__() got an unexpected keyword argument 'datset'")."""

from __future__ import annotations

import pytest

import rlvr
from rlvr.envs.base import TextEnv
from rlvr.envs.tasks import ListSource, Task


@pytest.mark.parametrize("env_id, wrong, meant", [
    ("rlvr/Math-v0", "datset", "dataset"),
    ("rlvr/Math-v0", "max_turn", "max_turns"),
    ("rlvr/ToolMath-v0", "tool_timout", "tool_timeout"),
    ("rlvr/Code-v0", "timout", "timeout"),
])
def test_misspelled_argument_is_named_with_the_fix(env_id, wrong, meant):
    with pytest.raises(TypeError) as caught:
        rlvr.make(env_id, **{wrong: 1})
    message = str(caught.value)
    assert f"{wrong!r} (did you mean {meant!r} for {wrong!r}?)" in message
    assert "reward_weights" in message and "max_obs_chars" in message  # the base class's arguments are listed too


def test_a_user_subclass_gets_the_same_message():
    class Mine(TextEnv):
        def __init__(self, level: int = 1, **kwargs):
            super().__init__(ListSource([Task("t", "q", "a")], {"name": "mine"}), **kwargs)

    with pytest.raises(TypeError, match=r"Mine got unexpected keyword argument\(s\) 'levl' \(did you mean 'level' for 'levl'\?\)"):
        Mine(levl=2)
    Mine(level=2, max_turns=2)  # what it takes still works
