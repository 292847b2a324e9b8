"""TextVectorEnv audit 24: sub-envs that are one env, bad actions behind wrappers, failed resets and
SameStep autoresets, seed arrays, a single action for the whole batch, and ResetNeeded's message."""

from __future__ import annotations

import json
import time

import gymnasium as gym
import numpy as np
import pytest

import rlvr
from rlvr.envs.base import InfrastructureError
from rlvr.envs.stepping import check_actions
from rlvr.envs.tools import ToolInfraError
from rlvr.envs.vector import TextVectorEnv, make_vec

CALC = '<tool_call>{"name": "calculator", "arguments": {"expression": "1+1"}}</tool_call>'


def _state(env):
    """What a sub-env holds between steps (the episode as the env sees it, and its generator)."""
    core = env.unwrapped
    return (core.task.id if core.task is not None else None, core.messages, core._turn, core._done, core._return_parts,
            core._verdict, core.np_random.bit_generator.state)


def _register_rows(env_id, rows):
    rlvr.register(env_id, dataset=rows, verifier="exact", force=True)
    return env_id


# ------------------------------------------------------------------ 1. one env given twice


def test_the_same_env_twice_is_refused_naming_both():
    env = rlvr.make("ToolMath-v0", sandbox_backend="subprocess")
    with pytest.raises(ValueError, match=r"sub-env 1 is the same object as sub-env 0.*\[env\] \* n"):
        TextVectorEnv([env] * 2)
    other = rlvr.make("Arithmetic-v0")
    with pytest.raises(ValueError, match=r"sub-env 2 wraps the same environment \(\.unwrapped\) as sub-env 0"):
        TextVectorEnv([env, other, gym.wrappers.TimeLimit(env, 8)])
    vec = TextVectorEnv([env, rlvr.make("ToolMath-v0", sandbox_backend="subprocess")])  # two envs: fine
    assert vec.reset(seed=0)[1]["task_id"].tolist() != [None, None]
    vec.close()


# ------------------------------------------------------------------ 2. bad actions behind TimeLimit and co.


@pytest.mark.parametrize("wrap", ["time_limit", "episode_statistics"])
def test_a_bad_action_behind_a_wrapper_steps_no_sub_env(wrap):
    """A malformed action is refused before any sub-env steps, through wrappers that hand actions
    on unchanged (gym.make's TimeLimit, RecordEpisodeStatistics): no episode moves or ends."""
    def build():
        if wrap == "time_limit":
            return gym.make("rlvr/ToolMath-v0", sandbox_backend="subprocess", max_episode_steps=8)
        return gym.wrappers.RecordEpisodeStatistics(gym.make("rlvr/ToolMath-v0", sandbox_backend="subprocess"))

    vec = TextVectorEnv([build for _ in range(3)])
    vec.reset(seed=0)
    for _ in range(2):
        vec.step([CALC] * 3)
    before = [_state(env) for env in vec.envs]
    with pytest.raises(TypeError):
        vec.step([CALC, None, CALC])
    assert [_state(env) for env in vec.envs] == before  # nothing stepped, nothing ended
    _, _, _, _, info = vec.step([CALC] * 3)  # the episodes go on
    assert info["turn"].tolist() == [3, 3, 3]
    vec.close()


def test_an_ended_episode_behind_time_limit_is_found_before_any_step_but_not_behind_autoreset():
    ended = gym.make("rlvr/Arithmetic-v0", max_episode_steps=8)
    ended.reset(seed=0)
    ended.step("0")  # single turn: the episode is over
    live = gym.make("rlvr/Arithmetic-v0", max_episode_steps=8)
    live.reset(seed=1)
    with pytest.raises(gym.error.ResetNeeded):
        check_actions([(0, live, None, "1"), (1, ended, None, "1")])
    assert live.unwrapped._turn == 0
    # Autoreset resets an ended episode in its step: no error to find up front
    auto = gym.wrappers.Autoreset(gym.make("rlvr/Arithmetic-v0", max_episode_steps=8))
    auto.reset(seed=0)
    auto.step("0")
    assert auto.unwrapped._done
    check_actions([(0, auto, None, "1")])
    auto.step("1")  # and stepping it does reset it
    assert auto.unwrapped._turn == 0 and not auto.unwrapped._done


# ------------------------------------------------------------------ 3. a reset that fails for one sub-env


def test_a_failed_reset_leaves_no_sub_env_in_an_episode_the_caller_never_saw():
    env_id = _register_rows("rlvr/Audit24Rows-v0", [{"question": f"q{i}", "answer": str(i)} for i in range(5)])
    vec = TextVectorEnv([lambda: gym.make(env_id, disable_env_checker=True) for _ in range(3)])
    with pytest.raises(IndexError, match="out of range") as raised:  # the first reset: in threads
        vec.reset(options={"index": [99, 0, 1]})
    obs, _ = vec.reset(options={"index": 2, "reset_mask": np.array([True, False, False])})
    assert obs[0] == "q2"
    with pytest.raises(gym.error.ResetNeeded, match=r"sub-env\(s\) \[1, 2\]"):  # not scored on unseen prompts
        vec.step(["2", "0", "1"])
    assert "sub-env 0's reset raised this; sub-envs [0, 1, 2] were left needing a reset" in raised.value.__notes__[0]

    vec.reset(options={"index": [0, 1, 2]})  # now every sub-env resets inline, in this thread
    with pytest.raises(IndexError):
        vec.reset(options={"index": [3, 99, 4]})
    with pytest.raises(gym.error.ResetNeeded, match=r"sub-env\(s\) \[0, 1, 2\]"):
        vec.step(["3", "0", "4"])
    obs, _ = vec.reset(options={"index": [3, 0, 4]})
    assert obs == ("q3", "q0", "q4")
    _, rewards, *_ = vec.step(["3", "0", "4"])
    assert rewards.tolist() == [1.0, 1.0, 1.0]
    vec.close()


class _SlowReset(gym.Wrapper):
    """A wrapper whose reset takes a moment (a remote env, a dataset download): reset in a thread."""

    def reset(self, *, seed=None, options=None):
        time.sleep(0.5)
        return super().reset(seed=seed, options=options)


def test_a_failed_reset_returns_once_every_other_reset_has_ended():
    env_id = _register_rows("rlvr/Audit24Rows-v0", [{"question": f"q{i}", "answer": str(i)} for i in range(5)])
    vec = TextVectorEnv([lambda: gym.make(env_id, disable_env_checker=True)]
                        + [lambda: _SlowReset(gym.make(env_id, disable_env_checker=True)) for _ in range(2)])
    with pytest.raises(IndexError):
        vec.reset(options={"index": [99, 1, 2]})
    cores = [env.unwrapped for env in vec.envs]
    # the slow resets had ended when reset raised (none runs on in the background), and their
    # episodes, whose prompts were never returned, are over
    assert [core.task.id if core.task else None for core in cores] == [None, "1", "2"]
    assert all(core._done for core in cores)
    time.sleep(0.6)
    assert all(core._done for core in cores)
    vec.close()


# ------------------------------------------------------------------ 4. a SameStep autoreset that fails


def _grow_env_id(grown):
    """A generator task whose questions are short until `grown["long"]` is set, then over
    max_obs_chars=1000 (for the SameStep autoreset)."""
    def grow(rng):
        return {"question": "L" * 2000 if grown["long"] else "q", "answer": "1"}

    return rlvr.register("rlvr/Audit24Grow-v0", generator=grow, verifier="exact", force=True)


@pytest.mark.parametrize("layout", ["one_verifier", "two_verifiers"])
def test_a_failed_same_step_autoreset_leaves_the_envs_as_the_env_by_env_step_does(layout):
    """The column-by-column step and the env-by-env step raise the same error and leave every env
    alike (which began its next episode, which holds its answer, the generators' states): every
    episode ended, so the next step of either asks for a reset of every sub-env."""
    # (a dataset row too long for max_obs_chars is refused when the env is built: the long prompts
    # come from a generator whose questions grow once the episodes are under way)
    def vector(columns):
        grown = {"long": False}
        if layout == "one_verifier":
            grow_id = _grow_env_id(grown)
            builds = [lambda: gym.make(grow_id, max_obs_chars=1000, disable_env_checker=True) for _ in range(3)]
            options = None
        else:  # the generator env's verifier is another batch: the env-by-env step settles it after env 2
            grow_id = _grow_env_id(grown)
            builds = [lambda: gym.make("rlvr/Arithmetic-v0", max_obs_chars=1000, disable_env_checker=True),
                      lambda: gym.make(grow_id, max_obs_chars=1000, disable_env_checker=True),
                      lambda: gym.make("rlvr/Arithmetic-v0", max_obs_chars=1000, disable_env_checker=True)]
            options = None
        vec = TextVectorEnv(builds, autoreset_mode="SameStep")
        if not columns:
            vec._step_single_turn = lambda actions, same_step: None
        vec.reset(seed=2, options=options)
        grown["long"] = True
        assert all(vec._driver(i) is not None for i in range(3))  # plain str actions: the column path
        return vec

    runs = []
    for columns in (True, False):
        vec = vector(columns)
        with pytest.raises(ValueError, match="max_obs_chars=") as raised:
            vec.step(["0", "1", "2"])
        states = [_state(env) for env in vec.envs]
        with pytest.raises(gym.error.ResetNeeded, match=r"sub-env\(s\) \[0, 1, 2\].*reset\(\)"):
            vec.step(["0", "1", "2"])
        runs.append((str(raised.value), states))
        vec.close()
    (column_error, column_states), (env_error, env_states) = runs
    assert column_error == env_error
    assert column_states == env_states
    assert all(done for *_, done, _, _, _ in column_states)
    if layout == "two_verifiers":  # settled in the order 0, 2, 1: envs 0 and 2 began their next episode
        assert [turn for _, _, turn, *_ in column_states] == [0, 1, 0]


# ------------------------------------------------------------------ 5. seeds from NumPy


def test_a_seed_array_of_numpy_integers_is_taken_and_other_seeds_are_refused_clearly():
    vec = make_vec("Arithmetic-v0", 3)
    want, _ = vec.reset(seed=[4, 5, 6])
    got, _ = vec.reset(seed=np.arange(4, 7))
    assert got == want
    assert vec.reset(seed=[np.int32(4), None, np.uint8(6)])[0][::2] == want[::2]
    for seed, match in (([0, 1.5, 2], r"seed\[1\] must be an int .* got float 1.5"),
                        (np.array([0.0, 1.0, 2.0]), r"seed\[0\] must be an int"),
                        ([True, 1, 2], r"seed\[0\] must be an int .* got bool"),
                        ("012", "seed must be None, an int"), (1.0, "seed must be None, an int")):
        with pytest.raises(TypeError, match=match):
            vec.reset(seed=seed)
    with pytest.raises(ValueError, match=r"seed\[2\] must be >= 0"):
        vec.reset(seed=[0, 1, -2])
    vec.close()


# ------------------------------------------------------------------ 6. one action for the whole batch


def test_a_single_string_or_dict_as_the_actions_is_refused():
    vec = make_vec("Arithmetic-v0", 3, format="compact")
    vec.reset(seed=0)
    with pytest.raises(TypeError, match=r"one action per sub-env.*single str .*characters.*'112'"):
        vec.step("112")
    with pytest.raises(TypeError, match="single bytes"):
        vec.step(b"112")
    vec2 = make_vec("Arithmetic-v0", 2, format="compact")
    vec2.reset(seed=0)
    with pytest.raises(TypeError, match=r"single dict \(it would be taken as its keys"):
        vec2.step({"content": "7", "tool_calls": None})
    # nothing was recorded: the episodes take their answers as usual
    answers = [str(env.unwrapped.task.answer) for env in vec.envs]
    _, rewards, _, _, info = vec.step(answers)
    assert rewards.tolist() == [1.0] * 3 and [m[-1]["content"] for m in info["messages"]] == answers
    assert vec2.step(({"content": "7"}, "8"))[4]["turn"].tolist() == [1, 1]  # a tuple of actions is fine
    vec.close()
    vec2.close()


# ------------------------------------------------------------------ 7. ResetNeeded names the sub-envs and the vector's reset


def _flaky(x: int) -> str:
    """A tool that fails for 0.

    Args:
        x: 0 fails (an infrastructure failure); anything else answers.
    """
    if x == 0:
        raise ToolInfraError("backend down")
    return "done"


def _call(x):
    return f'<tool_call>{json.dumps({"name": "_flaky", "arguments": {"x": x}})}</tool_call>'


@pytest.mark.parametrize("mode", ["NextStep", "Disabled"])
def test_after_a_step_error_reset_needed_names_the_sub_envs_and_the_vector_reset(mode):
    vec = TextVectorEnv([lambda: rlvr.make("rlvr/ToolMath-v0", builtin_tools=(), tools=[_flaky], on_infra_error="raise",
                                           sandbox_backend="subprocess") for _ in range(3)], autoreset_mode=mode)
    vec.reset(seed=0)
    with pytest.raises(InfrastructureError, match="backend down"):
        vec.step([_call(1), _call(0), _call(2)])
    how = r"reset\(options=\{'reset_mask': mask\}\)" if mode == "Disabled" else r"vector env's reset\(\)"
    with pytest.raises(gym.error.ResetNeeded, match=r"sub-env\(s\) \[0, 1, 2\] of this TextVectorEnv need a reset.*" + how):
        vec.step([_call(1)] * 3)
    vec.reset(seed=1, options={"reset_mask": np.array([True, False, True])})
    with pytest.raises(gym.error.ResetNeeded, match=r"sub-env\(s\) \[1\] "):
        vec.step([_call(1)] * 3)
    vec.reset(seed=2)
    assert vec.step([_call(1)] * 3)[4]["turn"].tolist() == [1, 1, 1]
    vec.close()


class _DecodingWrapper(gym.Wrapper):
    """A user wrapper whose `step` changes the action (token ids -> text): it judges its actions."""

    def step(self, action):
        if isinstance(action, list):
            action = "".join(map(chr, action))
        return self.env.step(action)


def test_a_wrapper_whose_own_step_changes_the_action_is_stepped_whole_not_judged_by_its_core():
    # audit 24 review: every plain gym.Wrapper was looked through, so the core refused the ids
    vec = TextVectorEnv([_DecodingWrapper(rlvr.make("rlvr/Arithmetic-v0")) for _ in range(2)])
    vec.reset(seed=0)
    answer = [ord(c) for c in "<answer>1</answer>"]
    rewards = vec.step([answer, answer])[1]
    assert rewards.shape == (2,)
    vec.close()
