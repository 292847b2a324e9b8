"""TextVectorEnv audit 28: what the scoring hooks see on the column-by-column path, callable
verifiers that must run in the calling thread (`timeout=None`), and autoresets through the pool."""

from __future__ import annotations

import signal
import threading
import time

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import SyncVectorEnv

import rlvr
from rlvr.envs.math_env import MathEnv
from rlvr.envs.single_turn_batch import batchable, step_single_turn
from rlvr.envs.vector import TextVectorEnv, make_vec

MODES = ["NextStep", "SameStep"]


def _state(env):
    core = env.unwrapped
    return (core.task.id if core.task is not None else None, core.messages, core._turn, core._done, core._return_parts,
            core._verdict, core.np_random.bit_generator.state)


def _env_by_env(vec):
    """`vec` with the column-by-column path switched off: every step goes env by env."""
    vec._step_single_turn = lambda actions, same_step: None
    return vec


# ------------------------------------------------------------------ 1. the hooks see the recorded turn


class _ConvAware(MathEnv):
    """Pays the process part only when the env's conversation ends with the answer being scored,
    and reports what `batch_verify` and `process_score` saw of the env."""

    def batch_verify(self, task, content, tool_calls):
        self.seen_by_request = (self._turn, self.messages[-1]["role"])
        return super().batch_verify(task, content, tool_calls)

    seen_by_request = None  # (env.step makes no request)

    def process_score(self, task, content):
        last = self.messages[-1]
        paid = 1.0 if last == {"role": "assistant", "content": content} else 0.0
        return paid, {"seen": (self._turn, last["role"]), "request_saw": self.seen_by_request}


def _conv_aware():
    return _ConvAware(reward_weights={"outcome": 1.0, "process": 0.5})


@pytest.mark.parametrize("mode", MODES)
def test_scoring_hooks_see_the_recorded_turn_on_the_column_path_as_env_by_env(mode):
    """`batch_verify` and `process_score` see turn 1 with the answer in `messages` on either path,
    so an answer gets one reward whichever path the step takes (env.step's)."""
    assert batchable(_ConvAware)
    single = _conv_aware()
    single.reset(seed=0)
    _, want_reward, _, _, want_info = single.step("\\boxed{1}")
    assert want_info["turn_details"] == {"seen": (1, "assistant"), "request_saw": None}

    results = []
    for columns in (True, False):
        vec = TextVectorEnv([_conv_aware, _conv_aware], autoreset_mode=mode)
        if not columns:
            _env_by_env(vec)
        vec.reset(seed=0)
        _, rewards, _, _, info = vec.step(["\\boxed{1}", "\\boxed{2}"])
        step_info = info["final_info"] if mode == "SameStep" else info
        details = step_info["turn_details"]
        results.append((rewards.tolist(), list(details["seen"]), list(details["request_saw"]),
                        [_state(env)[:3] for env in vec.envs]))
        vec.close()
    assert results[0] == results[1]
    assert results[0][0][0] == want_reward > 0
    assert results[0][1] == [want_info["turn_details"]["seen"]] * 2
    assert results[0][2] == [(1, "assistant")] * 2


@pytest.mark.parametrize("mode", MODES)
def test_an_over_long_action_elsewhere_changes_no_reward(mode):
    """Env 0's reward for one answer is the same when env 1's over-long answer sends the step env by env."""
    vec = TextVectorEnv([_conv_aware, _conv_aware], autoreset_mode=mode)
    vec.reset(seed=0)
    rewards = []
    for other in ("\\boxed{1}", "x" * 20000):
        if mode == "NextStep":
            vec.reset(seed=0)
        rewards.append(vec.step(["\\boxed{1}", other])[1][0])
    vec.close()
    assert rewards[0] == rewards[1] > 0


class _Declines(MathEnv):
    """Declines to batch (`batch_verify` None or raising) for the answers "defer" / "crash"."""

    def batch_verify(self, task, content, tool_calls):
        if content == "crash":
            raise RuntimeError("no request")
        return None if content == "defer" else super().batch_verify(task, content, tool_calls)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("declining", ["defer", "crash"])
def test_a_declined_column_path_leaves_every_env_as_it_was(mode, declining):
    """A `batch_verify` returning None or raising after the others' requests were made: the
    column path returns None with every env exactly as before, and the step env by env then
    gives what it gives without the column path."""
    runs = []
    for columns in (True, False):
        vec = TextVectorEnv([_Declines for _ in range(3)], autoreset_mode=mode)
        if not columns:
            _env_by_env(vec)
        vec.reset(seed=4)
        actions = ["\\boxed{1}", "\\boxed{2}", declining]
        if columns:
            before = [_state(env) for env in vec.envs]
            cores = [env.unwrapped for env in vec.envs]
            opening = [core._messages for core in cores]
            assert step_single_turn(cores, actions, mode == "SameStep") is None
            assert [_state(env) for env in vec.envs] == before
            assert all(core._messages is messages for core, messages in zip(cores, opening))
        obs, rewards, terms, _, info = vec.step(actions)
        step_info = info["final_info"] if mode == "SameStep" else info
        runs.append((obs, rewards.tolist(), terms.tolist(), step_info["turn"].tolist(),
                     list(step_info["valid"]) if "valid" in step_info else None, [_state(env) for env in vec.envs]))
        vec.close()
    assert runs[0] == runs[1]
    assert runs[0][3] == [1, 1, 1]


def test_an_interrupt_in_the_column_path_ends_every_episode():
    """Ctrl-C in a scoring hook: every env needs a reset, as after the env-by-env step."""

    class Interrupted(MathEnv):
        def process_score(self, task, content):
            raise KeyboardInterrupt

    vec = TextVectorEnv([Interrupted, Interrupted], autoreset_mode="NextStep")
    vec.reset(seed=0)
    with pytest.raises(KeyboardInterrupt):
        vec.step(["\\boxed{1}", "\\boxed{1}"])
    assert all(env.unwrapped._done for env in vec.envs)
    with pytest.raises(gym.error.ResetNeeded):
        vec.step(["1", "1"])
    vec.close()


# ------------------------------------------------------------------ 2. verifiers run in the calling thread


_CALLS: list[str] = []


def _alarmed(gold, completion):
    """A verifier as Math-Verify is: signal.signal works in the main thread only."""
    _CALLS.append(threading.current_thread().name)
    if threading.current_thread() is threading.main_thread():
        old = signal.signal(signal.SIGALRM, lambda *a: None)
        signal.signal(signal.SIGALRM, old)
    elif threading.current_thread().name != _CALLS[0]:
        raise ValueError("signal only works in main thread of the main interpreter")
    if completion == "boom":
        raise RuntimeError("verifier crashed")
    return gold.strip() == completion.strip()


def _register_alarmed():
    rows = [{"question": "1+1?", "answer": "2"}, {"question": "2+2?", "answer": "4"}]
    return rlvr.register("rlvr/Audit28Alarm-v0", dataset=rows, verifier=_alarmed, verifier_settings={"timeout": None},
                         force=True)


class _PassThrough(gym.Wrapper):
    """An unknown wrapper: the vector env steps its env whole."""


@pytest.mark.parametrize("mode", MODES)
def test_a_timeout_none_verifier_runs_in_the_calling_thread_in_a_vector_env(mode):
    """Stepped whole (gym.make's checker's first steps, an unknown wrapper), driven in phases and
    column by column: every call of the verifier is in the thread that steps the vector env, and
    the rewards are env.step's."""
    env_id = _register_alarmed()
    here = threading.current_thread().name
    single = rlvr.make(env_id)
    single.reset(options={"index": 0})
    assert single.step("boom")[4]["valid"] is False
    single.reset(options={"index": 0})
    _, reward, _, _, single_info = single.step("2")
    assert reward == 1.0
    _CALLS.clear()
    _CALLS.append(here)
    vec = TextVectorEnv([lambda: gym.make(env_id), lambda: _PassThrough(gym.make(env_id))], autoreset_mode=mode)
    for step in range(4):
        vec.reset(options={"index": [0, 1]})
        _, rewards, _, _, info = vec.step(["2", "4"] if step < 3 else ["boom", "4"])
        step_info = info["final_info"] if mode == "SameStep" else info
        if step < 3:
            assert rewards.tolist() == [1.0, 1.0], step_info.get("error")
            assert step_info["valid"].tolist() == [True, True]
        else:  # a verifier that raises: the failed verdict env.step gives
            assert step_info["valid"].tolist() == [False, True]
            assert step_info["error"][0].startswith("DatasetEnv.respond raised RuntimeError: verifier crashed")
    vec.close()
    assert set(_CALLS) == {here}
    assert len(_CALLS) > 8
    assert single_info["verdict"] is not None


def test_a_timeout_none_verifier_runs_in_the_calling_thread_in_rollouts():
    from rlvr.trainers.engine import Sample, SamplingParams
    from rlvr.trainers.rollout import collect_rollouts

    class Chat:
        def generate_chat(self, conversations, n, sampling, tools=None):
            return [[Sample([], [], "stop", "2") for _ in range(n)] for _ in conversations]

    env_id = _register_alarmed()
    _CALLS.clear()
    _CALLS.append(threading.current_thread().name)
    groups = collect_rollouts(Chat(), env_id, None, SamplingParams(max_new_tokens=8), tasks=[0], n=3)
    assert [(t.total_reward, t.valid, t.error) for t in groups[0]] == [(1.0, True, None)] * 3
    assert set(_CALLS) == {threading.current_thread().name}


def test_a_timed_callable_still_runs_in_threads():
    """A callable with a time limit (the default) is not moved into the calling thread."""
    threads = []

    def check(gold, completion):
        threads.append(threading.current_thread().name)
        return gold == completion

    rows = [{"question": "1+1?", "answer": "2"}]
    env_id = rlvr.register("rlvr/Audit28Timed-v0", dataset=rows, verifier=check, force=True)
    vec = make_vec(env_id, 2, autoreset_mode="SameStep")
    vec.reset(seed=0)
    assert vec.step(["2", "3"])[1].tolist() == [1.0, 0.0]
    vec.close()
    assert threading.current_thread().name not in threads


# ------------------------------------------------------------------ 3. autoresets through the pool


class _SlowReset(MathEnv):
    """A reset that waits on something outside the process (a container, a task service)."""

    delay = 0.25
    threads: set = set()
    fail = False
    running = 0
    most_at_once = 0  # the most resets under way together
    lock = threading.Lock()

    def reset(self, *, seed=None, options=None):
        with _SlowReset.lock:
            _SlowReset.threads.add(threading.current_thread().name)
            _SlowReset.running += 1
            _SlowReset.most_at_once = max(_SlowReset.most_at_once, _SlowReset.running)
        try:
            time.sleep(self.delay)
            if _SlowReset.fail and self._turn:
                raise RuntimeError(f"reset failed (task {self.task.id})")
            return super().reset(seed=seed, options=options)
        finally:
            with _SlowReset.lock:
                _SlowReset.running -= 1


@pytest.mark.parametrize("mode", MODES)
def test_autoresets_of_envs_with_their_own_reset_run_in_the_pool_with_gymnasiums_results(mode):
    """The 4 autoresets run side by side, in pool threads; observations,
    rewards and task ids equal Gymnasium's SyncVectorEnv (which resets one after the other)."""
    _SlowReset.fail = False
    class Quick(_SlowReset):  # the reference's resets need not wait (the delay changes no result)
        delay = 0.0

    ours = TextVectorEnv([_SlowReset for _ in range(4)], autoreset_mode=mode)
    ref = SyncVectorEnv([Quick for _ in range(4)], autoreset_mode=mode)
    got, want = [], []
    for vec, out in ((ours, got), (ref, want)):
        obs, info = vec.reset(seed=5)
        out.append((obs, info["task_id"].tolist()))
        for step in range(4):
            _SlowReset.threads.clear()
            _SlowReset.most_at_once = 0
            obs, rewards, terms, truncs, info = vec.step(["\\boxed{1}", "\\boxed{2}", "x", "\\boxed{3}"])
            out.append((obs, rewards.tolist(), terms.tolist(), truncs.tolist(), info["task_id"].tolist(),
                        info["final_info"]["task_id"].tolist() if "final_info" in info else None))
            resetting = step % 2 == 1 or (mode == "SameStep" and step > 0)  # (step 0 starts the math verifier)
            if vec is ours and resetting:
                assert _SlowReset.most_at_once > 1, _SlowReset.most_at_once  # one after another: 1
                assert _SlowReset.threads and threading.current_thread().name not in _SlowReset.threads
    ours.close()
    ref.close()
    assert got == want


@pytest.mark.parametrize("mode", MODES)
def test_a_failed_pooled_autoreset_raises_once_every_reset_has_ended(mode):
    """A pooled autoreset that raises: its error (the lowest-numbered sub-env's) once every other
    reset has ended; with SameStep every episode of the step then ended (the caller got none of
    the results), with NextStep the resets are asked for again at the next step."""
    _SlowReset.fail = False
    vec = TextVectorEnv([_SlowReset for _ in range(3)], autoreset_mode=mode)
    vec.reset(options={"index": [0, 1, 2]})
    if mode == "NextStep":
        vec.step(["1", "2", "3"])
    first = vec.envs[0].unwrapped.task.id
    _SlowReset.fail = True
    with pytest.raises(RuntimeError, match=rf"reset failed \(task {first}\)"):
        vec.step(["1", "2", "3"])
    assert _SlowReset.running == 0  # no reset runs on after the step returned
    states = [_state(env) for env in vec.envs]
    _SlowReset.fail = False
    if mode == "SameStep":
        assert all(done for _, _, _, done, *_ in states)
        with pytest.raises(gym.error.ResetNeeded, match=r"\[0, 1, 2\]"):
            vec.step(["1", "2", "3"])
    else:
        obs, rewards, *_ = vec.step(["1", "2", "3"])  # the pending autoresets, done now
        assert rewards.tolist() == [0.0, 0.0, 0.0] and all(obs)
    vec.close()


def test_a_bad_action_with_pooled_resets_pending_changes_no_sub_env():
    """SameStep: a refused action steps nothing, and no pooled reset begins."""
    vec = TextVectorEnv([_SlowReset for _ in range(2)], autoreset_mode="SameStep")
    vec.reset(seed=1)
    before = [_state(env) for env in vec.envs]
    with pytest.raises(TypeError):
        vec.step(["\\boxed{1}", 3])
    assert [_state(env) for env in vec.envs] == before
    assert vec.step(["\\boxed{1}", "\\boxed{2}"])[1].dtype == np.float64
    vec.close()


@pytest.mark.parametrize("mode", MODES)
def test_an_infrastructure_error_of_a_timeout_none_verifier_stops_the_vector_step_as_env_step(mode):
    """(review of the session's diff) `env.step` raises a verifier's InfrastructureError; the vector
    env, past the checker's first steps, must too, not mark the answers invalid and go on."""
    from rlvr.envs.base import InfrastructureError

    state = {"down": False}

    def check(gold, completion):
        if state["down"]:
            raise InfrastructureError("verification service down")
        return gold == completion

    env_id = rlvr.register("rlvr/Audit28Down-v0", dataset=[{"question": "1+1?", "answer": "2"}], verifier=check,
                           verifier_settings={"timeout": None}, force=True)
    vec = make_vec(env_id, 2, autoreset_mode=mode)
    for _ in range(3):
        vec.reset(seed=0)
        vec.step(["2", "2"])
    vec.reset(seed=0)
    state["down"] = True
    with pytest.raises(InfrastructureError, match="verification service down"):
        vec.step(["2", "2"])
    vec.close()
