"""Infos pickle and deep-copy (Gymnasium's AsyncVectorEnv, queues, saved rollouts), and
`gymnasium.make_vec` builds rlvr's `TextVectorEnv` for rlvr's ids (their `vector_entry_point`)."""

from __future__ import annotations

import copy
import pickle

import gymnasium as gym
import numpy as np
import pytest

import rlvr
from rlvr.envs import BUILTIN_ENVS, Fingerprint
from rlvr.envs.vector import TextVectorEnv, make_vec
from rlvr.sandbox import make_sandbox
from rlvr.verifiers.verdict import Verdict

PROTOCOLS = range(pickle.HIGHEST_PROTOCOL + 1)
TOOL_CALLS = [  # ToolMath-v0: one turn per tool, so the infos hold tool turns' details too
    '<tool_call>{"name": "python", "arguments": {"code": "print(6*7)"}}</tool_call>',
    '<tool_call>{"name": "calculator", "arguments": {"expression": "2+2"}}</tool_call>',
]


@pytest.fixture(scope="module")
def sandbox():
    with make_sandbox(backend="subprocess") as sb:
        yield sb


def answer(task) -> str:
    """The task's gold answer in both the `\\boxed{}` and the `<answer>` formats."""
    return f"<answer>{task.answer}</answer> \\boxed{{{task.answer}}}"


# ------------------------------------------------------------------ Fingerprint


def test_fingerprint_survives_pickle_and_copies_unchanged():
    fp = Fingerprint({"env_id": "test/Pickle-v0", "data": {"rows": [1, {"k": "v"}], "nan": None}, "w": 0.5})
    for protocol in PROTOCOLS:
        loaded = pickle.loads(pickle.dumps(fp, protocol))
        assert type(loaded) is Fingerprint and loaded == fp and loaded.digest == fp.digest
        assert loaded.to_dict() == fp.to_dict() and hash(loaded) == hash(fp)
        with pytest.raises(TypeError):  # still read-only all the way down
            loaded["data"]["rows"][1]["k"] = "changed"
        with pytest.raises(TypeError):
            loaded["w"] = 1.0
        assert isinstance(loaded["data"]["rows"], tuple)
    assert copy.deepcopy(fp) is fp and copy.copy(fp) is fp  # immutable: copies are the object itself


def test_unpickled_fingerprints_are_shared_like_the_envs_own():
    env = rlvr.make("Math-v0")
    _, info = env.reset(seed=0)
    fp = info["fingerprint"]
    assert pickle.loads(pickle.dumps(fp)) is fp  # the env's (interned) object, not an equal copy
    data = pickle.dumps(Fingerprint({"env_id": "test/NotAnEnv-v0", "x": [1, 2]}))
    assert pickle.loads(data) is pickle.loads(data)


# ------------------------------------------------------------------ env infos


def _infos(env_id: str, sandbox) -> list[dict]:
    """The infos of a reset and a few steps of `env_id`: tool turns, a right and a wrong answer."""
    kwargs = {"sandbox": sandbox} if env_id in ("rlvr/Code-v0", "rlvr/ToolMath-v0") else {}
    env = rlvr.make(env_id, **kwargs)
    _, info = env.reset(seed=0)
    infos = [info]
    actions = TOOL_CALLS if env_id == "rlvr/ToolMath-v0" else []
    for action in [*actions, answer(env.unwrapped.task), None, "no answer here"]:
        if action is None:  # a new episode for the wrong answer
            infos.append(env.reset(seed=1)[1])
            continue
        infos.append(env.step(action)[4])
    env.close()
    return infos


@pytest.mark.parametrize("env_id", sorted(BUILTIN_ENVS))
def test_every_builtin_envs_infos_pickle_and_deep_copy(env_id, sandbox):
    infos = _infos(env_id, sandbox)
    assert sum(isinstance(info["verdict"], Verdict) for info in infos) >= 2
    for info in infos:
        for protocol in PROTOCOLS:
            assert pickle.loads(pickle.dumps(info, protocol)) == info
        copied = copy.deepcopy(info)
        assert copied == info and copied["fingerprint"] is info["fingerprint"]


def test_vector_infos_pickle_and_deep_copy():
    vec = make_vec("Math-v0", 2, autoreset_mode="SameStep")
    vec.reset(seed=0)
    _, _, _, _, info = vec.step([answer(vec.envs[0].unwrapped.task), "wrong"])
    for restored in (pickle.loads(pickle.dumps(info)), copy.deepcopy(info)):
        assert list(restored["fingerprint"]) == list(info["fingerprint"])
        assert restored["fingerprint"][0] is restored["fingerprint"][1] is info["fingerprint"][0]
        assert list(restored["final_info"]["verdict"]) == list(info["final_info"]["verdict"])
        assert (restored["reward_parts"]["outcome"] == info["reward_parts"]["outcome"]).all()
    vec.close()


def test_gymnasium_async_make_vec_refuses_shared_memory_for_text():
    """Gymnasium's shared memory holds a `Text` observation as a snapshot read once: stale
    observations. The space refuses it, with a message that says what to pass instead."""
    with pytest.raises(ValueError, match="shared_memory=False") as refused:  # gymnasium's wording around ours
        gym.make_vec("rlvr/Math-v0", num_envs=2, vectorization_mode="async")
    assert isinstance(refused.value.__cause__, gym.error.CustomSpaceError)
    assert "keeps one snapshot" in str(refused.value.__cause__)


def test_gymnasium_async_make_vec_matches_sync():
    asynchronous = gym.make_vec("rlvr/Math-v0", num_envs=2, vectorization_mode="async", vector_kwargs={"shared_memory": False})
    sync = gym.make_vec("rlvr/Math-v0", num_envs=2, vectorization_mode="sync")
    try:
        obs_async, info_async = asynchronous.reset(seed=0)
        obs_sync, info_sync = sync.reset(seed=0)
        assert list(info_async["task_id"]) == list(info_sync["task_id"])
        actions = [answer(sync.envs[0].unwrapped.task), "\\boxed{-123456}"]
        step_async, step_sync = asynchronous.step(actions), sync.step(actions)
        assert list(step_async[1]) == list(step_sync[1]) == [1.0, 0.0]
        assert list(step_async[2]) == list(step_sync[2]) == [True, True]
        info_async, info_sync = step_async[4], step_sync[4]
        assert [v.correct for v in info_async["verdict"]] == [True, False]
        assert list(info_async["fingerprint"]) == list(info_sync["fingerprint"])
        assert info_async["fingerprint"][0] is info_sync["fingerprint"][0]  # shared again after the trip
        assert obs_async == obs_sync and step_async[0] == step_sync[0]
    finally:
        asynchronous.close()
        sync.close()
    assert asynchronous.closed


# ------------------------------------------------------------------ gymnasium.make_vec's vector entry point


def _run(vec) -> list:
    """Rewards, terminations, observations, task ids and verdicts of a reset and two steps."""
    obs, info = vec.reset(seed=3)
    out = [obs, list(info["task_id"])]
    golds = [env.unwrapped.task for env in vec.envs]
    for actions in ([answer(golds[0]), "wrong", "\\boxed{}"], ["a", "b", "c"]):
        obs, rewards, terms, truncs, info = vec.step(actions)
        out += [obs, rewards.tolist(), terms.tolist(), truncs.tolist(), list(info["task_id"]),
                [None if v is None else v.correct for v in info["verdict"]]]
    vec.close()
    return out


@pytest.mark.parametrize("mode", ["vector_entry_point", None])  # None: Gymnasium's default picks the entry point
def test_gymnasium_make_vec_builds_rlvrs_text_vector_env(mode):
    kwargs = dict(autoreset_mode="SameStep", reward_weights={"outcome": 1.0, "format": 0.5})
    vec = gym.make_vec("rlvr/Math-v0", 3, **({} if mode is None else {"vectorization_mode": mode}), **kwargs)
    assert type(vec) is TextVectorEnv and vec.metadata["autoreset_mode"].value == "SameStep"
    assert vec.spec.kwargs["vectorization_mode"] == "vector_entry_point"
    assert _run(vec) == _run(make_vec("Math-v0", 3, **kwargs))


def test_registered_tasks_get_the_vector_entry_point_too():
    def add(rng):
        a, b = rng.integers(1, 9, size=2)
        return {"question": f"{a}+{b}=", "answer": str(a + b)}

    env_id = rlvr.register("rlvr/PickleTestAdd-v0", generator=add, force=True)
    vec = gym.make_vec(env_id, np.int64(2))
    assert type(vec) is TextVectorEnv and vec.num_envs == 2
    vec.reset(seed=0)
    answers = [env.unwrapped.task.answer for env in vec.envs]
    assert vec.step([answers[0], "0"])[1].tolist() == [1.0, 0.0]
    vec.close()


def test_make_vec_takes_numpy_integers_and_rejects_other_counts():
    for n in (np.int64(2), np.int32(2), np.uint8(2)):
        vec = make_vec("Arithmetic-v0", n)
        assert vec.num_envs == 2
        vec.close()
    for bad in (True, np.True_, 2.0, np.float64(2), 0, -1, np.int64(0), "2", None):
        with pytest.raises(ValueError, match="num_envs must be a positive integer"):
            make_vec("Arithmetic-v0", bad)
