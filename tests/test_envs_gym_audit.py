"""The edges of rlvr's single envs against Gymnasium's Env contract (audit 13): settings that must
be refused when the env is built, observations that must stay within the observation space, an
action's size counted the same whichever form its tool calls take, a callable verifier run with no
time limit, what `close()` releases, and what a truncated step observes."""

from __future__ import annotations

import json
import threading
import warnings

import gymnasium as gym
import numpy as np
import pytest

import rlvr
from rlvr.envs.base import Turn, TextEnv
from rlvr.envs.custom import DatasetEnv
from rlvr.envs.python_tool import format_exec_result
from rlvr.envs.rewards import RewardWeights
from rlvr.envs.tasks import ListSource, Task
import rlvr.envs.tool_env as tool_module
from rlvr.envs.tool_env import ToolMathEnv
from rlvr.envs.tools import ERROR_PREFIX, tool, truncate_output
from rlvr.sandbox import ExecResult, Sandbox

ROWS = [{"question": "What is 1+1?", "answer": "2"}]


@tool
def echo(text: str) -> str:
    """Say the text back.

    Args:
        text: what to say.
    """
    return text


def tool_env(**kwargs):
    """ToolMath-v0 with only the `echo` tool: no sandbox, no calculator workers (fast, deterministic)."""
    return ToolMathEnv(ROWS, builtin_tools=(), tools=[echo], **kwargs)


def echo_call(text: str) -> str:
    return f"<tool_call>{json.dumps({'name': 'echo', 'arguments': {'text': text}})}</tool_call>"


# ------------------------------------------------------------------ 1. a callable verifier without a limit


def test_callable_verifier_without_a_timeout_parameter_is_scored_under_timeout_none():
    """`{"timeout": None}` calls the verifier directly; one that takes no `timeout` keyword is not
    passed it (it was, and every answer became an infrastructure failure: a TypeError)."""
    threads = []

    def check(gold, completion):
        threads.append(threading.current_thread())
        return gold in completion

    env = DatasetEnv(ROWS, verifier=check, verifier_settings={"timeout": None})
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step("2")
    assert info["valid"], info.get("error")
    assert (reward, terminated) == (1.0, True)
    assert threads == [threading.current_thread()]  # called directly, in the calling thread
    env.reset(seed=0)
    _, reward, _, _, info = env.step("3")
    assert info["valid"] and reward == 0.0


def test_callable_verifier_taking_timeout_is_passed_none_or_its_limit():
    seen = []

    def check(gold, completion, timeout=7.0):
        seen.append(timeout)
        return True

    for settings, expected in (({"timeout": None}, None), ({"timeout": 3}, 3)):
        env = DatasetEnv(ROWS, verifier=check, verifier_settings=settings)
        env.reset(seed=0)
        assert env.step("2")[4]["valid"]
        assert seen[-1] == expected


# ------------------------------------------------------------------ 2. tool calls count toward max_action_chars


def test_openai_tool_calls_count_toward_max_action_chars():
    """A 500-character call is over-long as `<tool_call>` text and as OpenAI `tool_calls` alike
    (arguments as a JSON string or as a dict); it is not run."""
    ran = []

    @tool
    def record(text: str) -> str:
        """Record the text.

        Args:
            text: what to record.
        """
        ran.append(text)
        return "ok"

    env = ToolMathEnv(ROWS, builtin_tools=(), tools=[record], max_action_chars=100)
    long = "x" * 500
    arguments = {"text": long}
    forms = [
        f"<tool_call>{json.dumps({'name': 'record', 'arguments': arguments})}</tool_call>",
        {"content": "", "tool_calls": [{"id": "a", "type": "function",
                                        "function": {"name": "record", "arguments": json.dumps(arguments)}}]},
        {"content": "", "tool_calls": [{"id": "a", "type": "function", "function": {"name": "record", "arguments": arguments}}]},
        {"content": "", "tool_calls": [{"name": "record", "arguments": arguments}]},
    ]
    for action in forms:
        env.reset(seed=0)
        obs, reward, terminated, truncated, info = env.step(action)
        assert (obs, reward, terminated, truncated) == ("", 0.0, True, False), action
        assert info["verdict"].reason.startswith("over-long: the turn has 5"), info["verdict"].reason
        assert "max_action_chars=100" in info["verdict"].reason
        assert info["turn_details"] == {"overlong": True}
    assert ran == []
    # a short call in either form runs
    env.reset(seed=0)
    _, _, terminated, _, info = env.step({"content": "", "tool_calls": [{"name": "record", "arguments": {"text": "hi"}}]})
    assert not terminated and ran == ["hi"]


def test_many_empty_tool_calls_count_toward_max_action_chars():
    """Each call counts at least its recorded arguments (`{}`): a turn cannot bring unbounded calls."""
    env = tool_env(max_action_chars=100)
    env.reset(seed=0)
    _, _, terminated, _, info = env.step({"content": "", "tool_calls": [{}] * 60})
    assert terminated and info["verdict"].reason.startswith("over-long")


# ------------------------------------------------------------------ 3. max_obs_chars


@pytest.mark.parametrize("bad", [0, -5, 2.7, 10.0, "10", True, None])
def test_max_obs_chars_is_validated(bad):
    with pytest.raises(ValueError, match=r"max_obs_chars must be a positive int.*got"):
        DatasetEnv(ROWS, verifier="exact", max_obs_chars=bad)


def test_max_obs_chars_sets_the_observation_space():
    env = DatasetEnv(ROWS, verifier="exact", max_obs_chars=np.int64(500))
    assert env.observation_space.max_length == 500 and env.max_obs_chars == 500


def test_a_prompt_longer_than_max_obs_chars_raises_at_reset_and_changes_nothing():
    # a dataset row that long is refused when the env is built; a task given at reset is checked there
    rows = [{"question": "What is 1+1?", "answer": "2"}]
    env = DatasetEnv(rows, verifier="exact", prompt="{question}", max_obs_chars=100)
    prompt, _ = env.reset(options={"index": 0})
    assert env.observation_space.contains(prompt)
    with pytest.raises(ValueError, match=r"the prompt of task .* has 202 characters, more than max_obs_chars=100"):
        env.reset(options={"task": {"question": "long " * 40 + "2?", "answer": "2"}})
    assert env.task.id == env.source.get(0).id  # the episode under way is left as it was
    assert env.step("<answer>2</answer>")[2]


def test_a_vector_same_step_with_a_too_long_next_prompt_leaves_every_env_needing_a_reset():
    """The column-by-column step leaves the envs as the env-by-env step does (audit 24: it used to
    change no env, while the env-by-env step ended every episode): the step raises, no env is left
    in an episode whose prompt the caller never got, and the next step names the envs to reset."""
    from rlvr.envs.vector import TextVectorEnv

    from rlvr.envs.tasks import Task

    rows = [{"question": "What is 1+1?", "answer": "2"}]
    envs = [DatasetEnv(rows, verifier="exact", prompt="{question}", max_obs_chars=100) for _ in range(3)]
    vec = TextVectorEnv(envs, autoreset_mode="SameStep")
    vec.reset(options={"index": [0, 0, 0]})
    long_task = Task(id="long", question="long " * 40 + "2?", answer="2")  # no dataset row may be this long
    for env, task in zip(envs, [None, None, long_task]):  # the next draws: the short task, and for the last env the long one
        env._draw_task = lambda env=env, task=task: task or env.source.get(0)
    with pytest.raises(ValueError, match="max_obs_chars=100"):
        vec.step(["<answer>2</answer>"] * 3)
    assert all(env._done for env in envs)
    with pytest.raises(gym.error.ResetNeeded, match=r"sub-env\(s\) \[0, 1, 2\] .* need a reset"):
        vec.step(["<answer>2</answer>"] * 3)
    for env in envs:  # next draws: the short task only
        env._draw_task = lambda env=env: env.source.get(0)
    vec.reset(options={"index": [0, 0, 0]})
    assert vec.step(["<answer>2</answer>"] * 3)[1].tolist() == [1.0, 1.0, 1.0]
    vec.close()


def test_a_registered_env_never_resets_outside_its_observation_space():
    """Under `gym.make`'s env checker with warnings as errors: a clear error naming
    max_obs_chars, never Gymnasium's "not within the observation space" warning."""
    rlvr.register("rlvr/GymAuditLongPrompt-v0", generator=lambda rng: {"question": "q" * 300, "answer": "2"},
                  verifier="exact", force=True)
    env = gym.make("rlvr/GymAuditLongPrompt-v0", max_obs_chars=100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="max_obs_chars=100"):
            env.reset(seed=0)
    # a dataset row that long is refused when the env is built, naming max_obs_chars too
    rlvr.register("rlvr/GymAuditLongRow-v0", dataset=[{"question": "q" * 300, "answer": "2"}], verifier="exact", force=True)
    with pytest.raises(ValueError, match="max_obs_chars"):
        gym.make("rlvr/GymAuditLongRow-v0", max_obs_chars=100)


def test_toolmath_refuses_a_max_obs_chars_too_small_for_its_tool_output():
    with pytest.raises(ValueError, match=r"max_obs_chars=1000 is too small.*max_calls_per_turn=4.*max_tool_output_chars=4000"):
        tool_env(max_obs_chars=1000)
    tool_env(max_obs_chars=4 * (4000 + tool_module._CALL_OVERHEAD))  # just enough
    tool_env(max_obs_chars=1000, max_tool_output_chars=50, max_calls_per_turn=2)


def test_toolmath_turn_observation_stays_in_the_observation_space():
    """Calls beyond max_calls_per_turn each get a short error; many of them are cut, with a marker,
    to max_obs_chars, and the episode goes on; the tool messages keep every reply."""
    env = tool_env(max_calls_per_turn=1, max_tool_output_chars=10, max_obs_chars=10 + tool_module._CALL_OVERHEAD)
    env.reset(seed=0)
    obs, _, terminated, truncated, info = env.step("".join(echo_call("hi") for _ in range(20)))
    assert not terminated and not truncated
    assert env.observation_space.contains(obs), len(obs)
    assert obs.startswith("<tool_response>\nhi\n</tool_response>") and obs.endswith("(max_obs_chars)]")
    assert len([m for m in info["messages"] if m["role"] == "tool"]) == 20


def test_toolmath_widest_tool_texts_fit_the_per_call_overhead():
    """What one call can add to an observation beyond max_tool_output_chars (markers, the
    error prefix, the <tool_response> tags) stays within `tool_module._CALL_OVERHEAD`."""
    limit = 4000
    tags = len("<tool_response>\n\n</tool_response>") + 1
    cut = truncate_output(ERROR_PREFIX + "e" * 10**5, limit)
    failed_run = ExecResult("error", 1, "o" * 10**5, "e" * 10**5, 0.1, message="exit code 1")
    fitted = ERROR_PREFIX + format_exec_result(failed_run, limit, reserve=len(ERROR_PREFIX))
    for text in (cut, fitted):
        assert len(text) + tags <= limit + tool_module._CALL_OVERHEAD


def test_a_reply_longer_than_max_obs_chars_is_refused_clearly():
    class Chatty(TextEnv):
        def respond(self, task, content, tool_calls):
            return Turn(observation="y" * 50)

    env = Chatty(ListSource([Task("t", "q?", "a")], {}), max_turns=3, max_obs_chars=20)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"Chatty: the reply to turn 1 of task 't' has 50 characters, more than max_obs_chars=20"):
        env.step("hello")
    with pytest.raises(gym.error.ResetNeeded):
        env.step("again")


# ------------------------------------------------------------------ 4. reward weights


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), "1", True, np.bool_(False), None, [1.0]])
def test_reward_weights_must_be_finite_numbers(bad):
    with pytest.raises(ValueError, match=r"reward_weights\['format'\] must be a finite number"):
        RewardWeights.coerce({"outcome": 1.0, "format": bad})
    with pytest.raises(ValueError, match=r"reward_weights\['format'\]"):
        rlvr.make("rlvr/Arithmetic-v0", reward_weights={"format": bad})
    env = rlvr.make("rlvr/Arithmetic-v0")
    with pytest.raises(ValueError, match=r"reward_weights\['format'\]"):
        env.unwrapped.reward_weights = {"format": bad}
    with pytest.raises(ValueError, match=r"reward_weights\['format'\]"):
        RewardWeights(format=bad)


def test_reward_weights_that_could_overflow_are_refused():
    with pytest.raises(ValueError, match="overflow"):
        RewardWeights.coerce({"outcome": 1e308, "format": 1e308})


def test_reward_weights_accept_ints_floats_numpy_numbers_and_negatives():
    weights = RewardWeights.coerce({"outcome": 1, "format": np.float32(0.5), "process": np.int64(-2)})
    assert weights.to_dict() == {"outcome": 1.0, "format": 0.5, "process": -2.0}
    assert all(type(v) is float for v in weights.to_dict().values())
    # built directly too: ints are stored as floats, so equal weights are one setup (one fingerprint)
    direct = RewardWeights(outcome=1, process=np.int64(-2))
    assert all(type(v) is float for v in direct.to_dict().values())
    assert direct == RewardWeights.coerce({"outcome": 1.0, "process": -2.0})
    import rlvr

    assert (rlvr.make("rlvr/Arithmetic-v0", reward_weights=RewardWeights(outcome=1)).unwrapped.fingerprint()
            == rlvr.make("rlvr/Arithmetic-v0", reward_weights={"outcome": 1}).unwrapped.fingerprint())


# ------------------------------------------------------------------ 5. the observation at the end of an episode


def test_a_max_turns_truncation_observes_the_last_tool_responses():
    """Truncated: the reply to the last turn (the true next observation, as TimeLimit gives);
    terminated: ""."""
    env = tool_env(max_turns=1)
    env.reset(seed=0)
    obs, _, terminated, truncated, info = env.step(echo_call("5"))
    assert (terminated, truncated) == (False, True)
    assert obs == "<tool_response>\n5\n</tool_response>" == f"<tool_response>\n{info['messages'][-1]['content']}\n</tool_response>"
    assert info["verdict"].reason == "no final answer within max_turns=1"
    env.reset(seed=0)
    assert env.step("\\boxed{2}")[:3] == ("", 1.1, True)  # outcome 1 and process 0.1 (no failed call)


def test_a_time_limit_truncation_leaves_no_verdict():
    env = gym.make("rlvr/ToolMath-v0", dataset=ROWS, builtin_tools=(), tools=[echo], max_episode_steps=1)
    env.reset(seed=0)
    obs, _, terminated, truncated, info = env.step(echo_call("5"))
    assert (terminated, truncated, info["verdict"]) == (False, True, None)
    assert obs == "<tool_response>\n5\n</tool_response>"


# ------------------------------------------------------------------ 6. close


class _RecordingSandbox(Sandbox):
    """A sandbox that prints nothing and records whether it was closed."""

    name = "recording"

    def __init__(self) -> None:
        super().__init__()
        self.closed = 0

    def _execute(self, job, limits):
        return ExecResult("ok", 0, "ran\n", "", 0.0, backend=self.name)

    def close(self) -> None:
        self.closed += 1


def test_close_never_closes_the_callers_sandbox_and_may_be_called_twice():
    sandbox = _RecordingSandbox()
    env = ToolMathEnv(ROWS, builtin_tools=("python",), sandbox=sandbox)
    env.reset(seed=0)
    assert "ran" in env.step('<tool_call>{"name": "python", "arguments": {"code": "print(1)"}}</tool_call>')[0]
    env.close()
    env.close()
    assert sandbox.closed == 0
    env.reset(seed=0)  # still usable after close
    assert "ran" in env.step('<tool_call>{"name": "python", "arguments": {"code": "print(1)"}}</tool_call>')[0]


def test_close_leaves_the_process_shared_sandbox_to_the_other_envs():
    from rlvr.envs.python_tool import shared_sandbox

    shared = shared_sandbox("subprocess")
    first = ToolMathEnv(ROWS, builtin_tools=("python",), sandbox_backend="subprocess")
    assert first._get_sandbox() is shared
    first.close()
    first.close()
    assert not shared._pool._closed
    second = ToolMathEnv(ROWS, builtin_tools=("python",), sandbox_backend="subprocess")
    assert second._get_sandbox() is shared


# ------------------------------------------------------------------ 7. reset options


def test_reset_refuses_an_index_together_with_a_task():
    env = DatasetEnv(ROWS, verifier="exact")
    with pytest.raises(ValueError, match=r"'task' and 'index' were both given"):
        env.reset(options={"index": 0, "task": {"question": "3?", "answer": "3"}})
    prompt, info = env.reset(options={"index": None, "task": {"question": "3?", "answer": "3"}})
    assert info["task_id"] == "custom"
