"""An env whose first `reset` is refused works again after a good one.

Gymnasium's passive env checker (added by `gymnasium.make` unless the spec or the caller disables
it) marks the first reset checked before running it; when that reset raised, every later `step`
failed with `TypeError: cannot unpack non-iterable NoneType object`, whatever resets followed. rlvr's
ids are registered without it.
"""

import gymnasium as gym
import pytest

import rlvr
from rlvr.envs.vector import make_vec

BAD_TASK = {"question": "Sort: 3 1", "answer": [3, 1]}  # the gold is not sorted: refused


def _refused_first_reset(env):
    with pytest.raises(ValueError, match="ascending"):
        env.reset(options={"task": BAD_TASK})


@pytest.mark.parametrize("build", [lambda: rlvr.make("rlvr/Sort-v0"), lambda: gym.make("rlvr/Sort-v0")])
def test_a_refused_first_reset_leaves_the_env_usable(build):
    env = build()
    _refused_first_reset(env)
    obs, _ = env.reset(seed=0)
    assert isinstance(obs, str) and obs
    _, reward, terminated, truncated, info = env.step("<answer>1 2 3</answer>")
    assert terminated and not truncated and reward in (0.0, 1.0) and "task_id" in info


def test_a_refused_first_vector_reset_leaves_the_vector_usable():
    vec = make_vec("rlvr/Math-v0", 2)
    with pytest.raises(IndexError):
        vec.reset(options={"index": [10**6, 0]})
    vec.reset(seed=0)
    _, rewards, terminated, _, _ = vec.step(["\\boxed{1}", "\\boxed{2}"])
    assert terminated.tolist() == [True, True] and rewards.shape == (2,)


def test_a_registered_task_is_built_without_the_checker_and_may_ask_for_it(registered):
    registered("rlvr/FirstResetProbe-v0", generator=lambda rng: {"question": "1+1?", "answer": "2"}, verifier="exact")
    env = gym.make("rlvr/FirstResetProbe-v0")
    with pytest.raises(gym.error.Error, match="Seed must be greater"):
        env.reset(seed=-1)
    env.reset(seed=1)
    assert env.step("2")[1] == 1.0
    wrappers = []
    e = gym.make("rlvr/FirstResetProbe-v0", disable_env_checker=False)
    while hasattr(e, "env"):
        wrappers.append(type(e).__name__)
        e = e.env
    assert "PassiveEnvChecker" in wrappers
