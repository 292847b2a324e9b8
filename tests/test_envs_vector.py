"""TextVectorEnv: batched, concurrent stepping with Gymnasium's autoreset modes."""

from __future__ import annotations

import threading

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from gymnasium.wrappers.vector import DictInfoToList

import rlvr
from rlvr.envs.math_env import MathEnv
from rlvr.envs.vector import TextVectorEnv, make_vec


def right_answers(vec):
    return [str(env.unwrapped.task.answer) for env in vec.envs]


def test_next_step_autoreset_follows_gymnasium():
    vec = make_vec("Arithmetic-v0", 3, format="compact")
    obs, info = vec.reset(seed=0)
    assert len(obs) == 3 and all(o.endswith("=") for o in obs) and info["_task_id"].all()
    first_ids = list(info["task_id"])
    actions = right_answers(vec)
    actions[1] = "nope"
    obs, rewards, term, trunc, info = vec.step(actions)
    assert obs == ("", "", "") and list(rewards) == [1.0, 0.0, 1.0] and term.all() and not trunc.any()
    assert info["verdict"][0].correct and not info["verdict"][1].correct
    # next step: actions ignored, sub-envs reset, reward 0, flags false
    obs, rewards, term, trunc, info = vec.step(["ignored"] * 3)
    assert all(o.endswith("=") for o in obs) and not rewards.any() and not term.any() and not trunc.any()
    assert list(info["task_id"]) != first_ids and (info["turn"] == 0).all()
    vec.close()


@pytest.mark.parametrize("env_id,ended", [("Sort-v0", None), ("ToolMath-v0", 0), ("ToolMath-v0", 1)])
def test_same_step_info_keys_are_in_gymnasiums_order(env_id, ended):
    """SameStep: Gymnasium's SyncVectorEnv merges an ended env's `final_obs` / `final_info` before
    its new episode's keys, so they come first when env 0 ended and after env 0's keys otherwise;
    the order is the same here (but for ToolMath's `tools` and `tools_in_prompt`, which only new episodes
    report)."""
    from gymnasium.vector import SyncVectorEnv

    kwargs = {"sandbox_backend": "subprocess"} if env_id == "ToolMath-v0" else {}
    fns = [lambda: gym.make(f"rlvr/{env_id}", **kwargs)] * 2
    ref, ours = SyncVectorEnv(fns, autoreset_mode="SameStep"), TextVectorEnv(fns, autoreset_mode="SameStep")
    call = '<tool_call>{"name": "calculator", "arguments": {"expression": "1+1"}}</tool_call>'
    actions = ["<answer>1</answer>"] * 2 if env_id == "Sort-v0" else [call, call]
    for vec in (ref, ours):
        vec.reset(seed=3)
        for _ in range(2):  # past the env checker's first steps (stepped through its wrapper)
            vec.step(actions)
    if ended is not None:  # one env ends, the other goes on
        actions[ended] = "\\boxed{0}"
    keys = [[k for k in vec.step(actions)[4] if k.lstrip("_") not in ("tools", "tools_in_prompt")] for vec in (ref, ours)]
    assert keys[1] == keys[0]
    assert ("final_obs" in keys[1][:2]) == (ended != 1)
    ref.close()
    ours.close()


def test_same_step_autoreset_reports_final_obs_and_info():
    vec = make_vec("Sort-v0", 2, autoreset_mode="SameStep")
    assert vec.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    vec.reset(seed=1)
    answers = right_answers(vec)
    obs, rewards, term, trunc, info = vec.step([f"<answer>{a}</answer>" for a in answers])
    assert term.all() and list(rewards) == [1.0, 1.0]
    assert all(o.startswith("Sort these numbers") for o in obs)  # already the next prompt
    assert list(info["final_obs"]) == ["", ""] and info["final_info"]["verdict"][0].correct
    vec.close()


def test_disabled_autoreset_and_reset_mask():
    vec = make_vec("ModArith-v0", 2, autoreset_mode="Disabled")
    vec.reset(seed=2, options={"index": [4, 5]})
    assert list(vec.reset(options={"index": 4})[1]["task_id"]) == ["ModArith/4", "ModArith/4"]
    vec.step(["1", "2"])
    with pytest.raises(gym.error.ResetNeeded, match="reset_mask"):
        vec.step(["1", "2"])
    obs, info = vec.reset(options={"reset_mask": np.array([True, False])})
    assert list(info["_task_id"]) == [True, False]
    vec.close()


def test_steps_run_concurrently():
    barrier = threading.Barrier(4, timeout=5)

    def slow(gold, completion):
        barrier.wait()  # all four verifications must be in flight at once, or this times out
        return completion == gold

    rlvr.register("rlvr/SlowVerifierTest-v0", generator=lambda rng: {"question": "q", "answer": "a"}, verifier=slow, force=True)
    vec = make_vec("SlowVerifierTest-v0", 4)
    vec.reset(seed=0)
    _, rewards, term, _, info = vec.step(["a", "a", "b", "a"])
    assert list(rewards) == [1.0, 1.0, 0.0, 1.0] and info["valid"].all()
    vec.close()


def test_dict_info_to_list_and_mismatched_actions():
    vec = DictInfoToList(make_vec("Countdown-v0", 2, format="compact"))
    _, infos = vec.reset(seed=0)
    assert isinstance(infos, list) and infos[0]["messages"][0]["role"] == "user"
    with pytest.raises(ValueError, match="one action per sub-env"):
        vec.step(["1"])
    vec.close()


def test_vector_from_env_instances():
    envs = [rlvr.make("Arithmetic-v0") for _ in range(2)]
    vec = TextVectorEnv(envs, max_workers=1)
    obs, _ = vec.reset(seed=[1, 2])
    assert len(obs) == 2 and vec.num_envs == 2
    with pytest.raises(ValueError, match="one seed per sub-env"):
        vec.reset(seed=[1])
    vec.close()


def test_batch_infos_matches_gymnasium_add_info():
    from rlvr.envs.vector import batch_infos

    vec = make_vec("Sort-v0", 3)
    infos = [
        (0, {"a": 1, "b": {"c": 0.5, "d": "x"}, "e": [1], "final_obs": "done"}),
        (2, {"a": 2, "b": {"c": 1.5, "d": None}, "f": True}),
    ]
    want: dict = {}
    for i, info in infos:
        want = vec._add_info(want, info, i)
    got = batch_infos(infos, 3)
    from gymnasium.utils.env_checker import data_equivalence

    assert set(got) == set(want)
    for key in want:
        if isinstance(want[key], dict):
            assert set(got[key]) == set(want[key])
            for sub in want[key]:
                assert data_equivalence(got[key][sub], want[key][sub], exact=True), (key, sub)
        else:
            assert data_equivalence(got[key], want[key], exact=True), key
    vec.close()


def test_an_int_beyond_int64_is_an_object_column_however_many_envs_share_it():
    # documented in rlvr.envs.vector_info: Gymnasium raises; here the column holds the ints as
    # objects. One env reporting it, or every env holding the same int object, raised OverflowError
    from rlvr.envs.vector import batch_infos

    big = 2**70
    for infos, column in [([(0, {"n": big}), (1, {"n": big})], [big, big]),
                          ([(0, {"n": big})], [big, None]),
                          ([(0, {"n": big}), (1, {"n": big + 1})], [big, big + 1])]:
        got = batch_infos(infos, 2)
        assert got["n"].dtype == object and list(got["n"]) == column
        assert list(got["_n"]) == [value is not None for value in column]
    assert batch_infos([(0, {"n": 2**63 - 1}), (1, {"n": 2**63 - 1})], 2)["n"].dtype == np.int64


def _assert_infos_equal(got, want):
    from gymnasium.utils.env_checker import data_equivalence

    assert set(got) == set(want)
    for key in want:
        if isinstance(want[key], dict):
            _assert_infos_equal(got[key], want[key])
        else:
            assert data_equivalence(got[key], want[key], exact=True), key


def test_batch_infos_full_batch_same_keys_matches_gymnasium():
    from rlvr.envs.vector import batch_infos

    vec = make_vec("Sort-v0", 3)
    infos = [(i, {"a": i, "b": {"c": 0.5 * i, "d": f"x{i}"}, "e": [i], "m": {}, "n": i > 0})
             for i in range(3)]
    want: dict = {}
    for i, info in infos:
        want = vec._add_info(want, info, i)
    _assert_infos_equal(batch_infos(infos, 3), want)
    vec.close()


def test_batched_math_verification_matches_one_by_one():
    """Math-v0 in a vector env goes through verify_batch; results equal plain env.step's."""
    answers = ["\\boxed{60}", "\\boxed{61}", "so \\boxed{\\frac{3}{4}}", "no idea", "x" * 20000]
    vec = make_vec("Math-v0", len(answers), autoreset_mode="SameStep", reward_weights={"outcome": 1.0, "format": 0.5})
    vec.reset(options={"index": [0, 0, 3, 3, 3]})
    for _ in range(2):  # past the checker's first two steps the wrappers pass through
        vec.step(["warm-up"] * len(answers))
        vec.reset(options={"index": [0, 0, 3, 3, 3]})
    _, rewards, term, trunc, info = vec.step(answers)
    single = rlvr.make("Math-v0", reward_weights={"outcome": 1.0, "format": 0.5})
    for i, (index, answer) in enumerate(zip([0, 0, 3, 3, 3], answers)):
        single.reset(options={"index": index})
        _, reward, t, tr, one = single.step(answer)
        assert rewards[i] == reward and term[i] == t and trunc[i] == tr
        final = info["final_info"]
        assert final["verdict"][i].correct == one["verdict"].correct
        assert final["reward_parts"]["format"][i] == one["reward_parts"]["format"]
        assert final["messages"][i] == one["messages"]
    assert list(rewards) == [1.5, 0.5, 1.5, 0.0, 0.0]
    vec.close()


def test_failing_batch_verifier_flags_invalid_not_wrong():
    from rlvr.envs.base import BatchVerify

    def broken(payloads):
        raise RuntimeError("verifier pool died")

    vec = make_vec("Arithmetic-v0", 2, format="compact")
    vec.reset(seed=0)
    for _ in range(2):  # the first two steps go through gymnasium's checker wrapper
        vec.step(["1", "2"])
        vec.reset(seed=0)
    for env in vec.envs:
        env.unwrapped.batch_verify = lambda task, content, calls: BatchVerify("broken", broken, None)
    _, rewards, term, _, info = vec.step(["1", "2"])
    assert not info["valid"].any() and term.all() and not rewards.any()
    assert "verifier pool died" in info["error"][0]
    vec.close()


@pytest.mark.parametrize("autoreset_mode", ["NextStep", "SameStep"])
def test_scorers_without_a_batch_key_grade_only_their_own_answers(autoreset_mode):
    from rlvr.envs.scoring import Scorer
    from rlvr.verifiers.verdict import Verdict

    def scorer(word):
        def score(task, completion):
            return Verdict.right(word) if completion == word else Verdict.wrong(word)

        return Scorer(word, score, score_batch=lambda items: [score(task, c) for task, c in items])

    rlvr.register("rlvr/SayA-v0", dataset=[{"question": "say A", "answer": "A"}], verifier=scorer("A"), force=True)
    rlvr.register("rlvr/SayB-v0", dataset=[{"question": "say B", "answer": "B"}], verifier=scorer("B"), force=True)
    vec = TextVectorEnv([lambda: rlvr.make("SayA-v0"), lambda: rlvr.make("SayB-v0")], autoreset_mode=autoreset_mode)
    vec.reset(seed=0)
    for _ in range(3):  # the first steps go through gymnasium's checker wrapper, the later ones batched
        _, rewards, _, _, info = vec.step(["A", "B"])
        info = info["final_info"] if autoreset_mode == "SameStep" else info
        assert list(rewards) == [1.0, 1.0] and [v.reason for v in info["verdict"]] == ["A", "B"]
        if autoreset_mode == "NextStep":
            vec.step(["", ""])  # the resets
    vec.close()


def test_a_rejected_step_changes_no_sub_env():
    vec = make_vec("Math-v0", 2, autoreset_mode="SameStep")
    vec.reset(seed=0)
    for _ in range(3):  # past gymnasium's checker wrappers: the envs are driven directly
        vec.step(["a", "b"])
    before = [env.unwrapped.messages for env in vec.envs]
    with pytest.raises(TypeError):
        vec.step(["\\boxed{2}", None])  # the second action is not an action
    assert [env.unwrapped.messages for env in vec.envs] == before
    _, _, _, _, info = vec.step(["\\boxed{5}", "x"])
    assert list(info["final_info"]["turn"]) == [1, 1]
    assert [len(m) for m in info["final_info"]["messages"]] == [2, 2]
    vec.close()


def test_unknown_wrappers_are_stepped_whole():
    """A wrapper the vector env does not know (here TimeLimit) is stepped through, not bypassed."""
    vec = TextVectorEnv([lambda: gym.wrappers.TimeLimit(rlvr.make("Arithmetic-v0").unwrapped, 1) for _ in range(2)])
    vec.reset(seed=0)
    answers = right_answers(vec)
    _, rewards, term, trunc, _ = vec.step([answers[0], "wrong"])
    assert list(rewards) == [1.0, 0.0] and term.all()
    vec.close()


def test_replaced_sub_env_is_the_one_stepped():
    """The vector env remembers each sub-env's unwrapped core; a sub-env swapped in later is used, not the old core."""
    vec = make_vec("Arithmetic-v0", 2, format="compact")
    vec.reset(seed=0)
    for _ in range(4):  # past the checker's first steps, so the remembered cores are in use
        vec.step(right_answers(vec))
    old = vec.envs[1]
    new = rlvr.make("Arithmetic-v0", format="compact", digits=3)
    new.reset(seed=5)
    vec.envs[1] = new
    vec._autoreset[:] = False
    _, rewards, term, _, info = vec.step(["0", str(new.unwrapped.task.answer)])
    assert rewards[1] == 1.0 and term[1]
    assert info["task_id"][1] == new.unwrapped.task.id and old.unwrapped._turn == 0
    vec.close()


# ------------------------------------------------------------------ the vector info equals the sub-envs' own infos


class _PassThrough(gym.Wrapper):
    """A wrapper the vector env does not know: its sub-env is stepped and reset whole, so the
    vector info is batched from the sub-env's own info dicts (`batch_infos`), the reference for
    the columns the vector env otherwise builds straight from `InfoFacts`."""


def _flaky(gold, completion):
    if completion == "crash":
        raise RuntimeError("verifier backend down")
    return completion == gold


def _run_both(env_id, n, mode, steps, **kwargs):
    """Step a vector env of plain sub-envs and one of wrapped sub-envs alike; assert equal results."""
    return _run_both_built(lambda: rlvr.make(env_id, **kwargs), n, mode, steps)[0]


def _state(env):
    """What a sub-env holds between steps (the episode as the env sees it)."""
    core = env.unwrapped
    return core.task.id, core.messages, core._turn, core._done, core._return_parts, core._verdict


def _run_both_built(build, n, mode, steps, reference="wrapped"):
    """`_run_both` for envs made by `build()` (or, `build` a list of n builders, each env by its
    own); also returns how many steps were batched column by column (`rlvr.envs.single_turn_batch`).
    The reference envs are wrapped (stepped whole), or with `reference="phases"` driven env by env
    through their step's phases (`step_envs`)."""
    import rlvr.envs.vector as vector

    builds = list(build) if isinstance(build, (list, tuple)) else [build] * n

    batched = []
    real = vector.step_single_turn

    def counting(cores, actions, same_step):
        result = real(cores, actions, same_step)
        batched.append(result is not None)
        return result

    fast = TextVectorEnv(builds, autoreset_mode=mode)
    if reference == "wrapped":
        slow = TextVectorEnv([lambda b=b: _PassThrough(b()) for b in builds], autoreset_mode=mode)
    else:
        slow = TextVectorEnv(builds, autoreset_mode=mode)
        slow._step_single_turn = lambda actions, same_step: None
    vector.step_single_turn = counting
    try:
        got, want = fast.reset(seed=3), slow.reset(seed=3)
        assert got[0] == want[0]
        _assert_infos_equal(got[1], want[1])
        for actions in steps:
            actions = actions(fast) if callable(actions) else actions
            got, want = fast.step(actions), slow.step(actions)
            assert got[0] == want[0]
            for a, b in zip(got[1:4], want[1:4]):
                assert a.dtype == b.dtype and (a == b).all()
            _assert_infos_equal(got[4], want[4])
            assert [_state(env) for env in fast.envs] == [_state(env) for env in slow.envs]
        assert all(fast._driver(i) is not None for i in range(n))  # the fast path was taken
        return got[4], sum(batched)
    finally:
        vector.step_single_turn = real
        fast.close()
        slow.close()


def test_vector_infos_equal_sub_env_infos_math_same_step():
    answers = lambda vec: [f"so \\boxed{{{e.unwrapped.task.answer}}}" if i % 3 else "I think 7" for i, e in enumerate(vec.envs)]
    info = _run_both("Math-v0", 4, "SameStep", [answers, ["\\boxed{1}", "x" * 20000, "", "no idea"], answers, answers],
                     reward_weights={"outcome": 1.0, "format": 0.5}, process_reward="steps")
    assert info["final_info"]["_verdict"].all() and (info["turn"] == 0).all()


class _CrashingFormat(MathEnv):
    """Math-v0 whose format check crashes on one answer (an infrastructure failure)."""

    def format_score(self, task, content):
        if content == "boom":
            raise ValueError("format check crashed")
        return super().format_score(task, content)


def test_batched_single_turn_steps_equal_env_by_env_steps():
    """Steps done column by column (all sub-envs plain single-turn) give what stepping each env
    whole gives, in every autoreset mode: system prompt, format and process parts, scoring that
    raises, and steps that go env by env (an over-long answer, dict actions) in between."""
    def answers(vec):
        return [f"so 1 + 1 = 2 and \\boxed{{{e.unwrapped.task.answer}}}" if i % 3 else "I think 7" for i, e in enumerate(vec.envs)]

    odd = ["boom", "\\boxed{1}", "1 + 1 = 3, so \\boxed{2}", "", "no idea"]
    steps = [answers, answers, odd, answers, ["x" * 20000] + odd[1:], [{"content": "\\boxed{2}"}] * 5, answers]
    build = lambda: _CrashingFormat(system_prompt="Think.", reward_weights={"outcome": 1.0, "format": 0.5, "process": 0.25},
                                    process_reward="steps")
    for mode, steps_batched in (("SameStep", 5), ("NextStep", 3), ("Disabled", 1)):
        info, batched = _run_both_built(build, 5, mode, steps if mode != "Disabled" else steps[:1])
        assert batched == steps_batched, mode  # NextStep: every other step only resets
    info, _ = _run_both_built(build, 5, "SameStep", [odd])
    final = info["final_info"]
    assert list(final["valid"]) == [False, True, True, True, True] and "format check crashed" in final["error"][0]
    assert final["reward_parts"]["process"][2] == 0.0 and final["turn_details"]["process"]["steps"]["checked_steps"][2] == 1


def test_batched_single_turn_scores_each_answer_once():
    """A scorer that raises on one answer does not make the others be scored twice."""
    class Counting(_CrashingFormat):
        calls = 0

        def format_score(self, task, content):
            Counting.calls += 1
            return super().format_score(task, content)

    vec = TextVectorEnv([Counting for _ in range(4)], autoreset_mode="SameStep")
    vec.reset(seed=0)
    _, _, _, _, info = vec.step(["\\boxed{1}", "boom", "\\boxed{2}", "no"])
    assert Counting.calls == 4 and list(info["final_info"]["valid"]) == [True, False, True, True]
    vec.close()


def test_batched_single_turn_failures_equal_env_by_env_phases():
    """A batch verifier failing as a whole, or answering with something else than Verdicts, is
    flagged per env exactly as the env-by-env phases (`step_envs`) flag it."""
    from rlvr.envs.base import BatchVerify

    class Picky(MathEnv):
        def batch_verify(self, task, content, tool_calls):
            if "pool down" in content:
                def broken(payloads):
                    raise RuntimeError("verifier pool died")
                return BatchVerify("broken", broken, None)
            if "not a verdict" in content:
                return BatchVerify("odd", lambda payloads: [True] * len(payloads), None)
            return super().batch_verify(task, content, tool_calls)

    answers = ["1 + 1 = 2, pool down", "1 + 1 = 2, not a verdict", "1 + 1 = 2, \\boxed{1}", "pool down"]
    info, batched = _run_both_built(lambda: Picky(process_reward="steps"), 4, "SameStep", [answers] * 2, reference="phases")
    final = info["final_info"]
    assert batched == 2 and list(final["valid"]) == [False, False, True, False]
    assert "verifier pool died" in final["error"][0] and "must return a Verdict" in final["error"][1]
    # a failed verification keeps the turn's (process) details; a result that is not a Verdict does not
    assert list(final["turn_details"]["_process"]) == [True, False, True, True]
    assert list(final["reward_parts"]["process"]) == [0.0, 0.0, 1.0, 0.0]


def test_vector_infos_equal_sub_env_infos_next_step_and_errors():
    rlvr.register("rlvr/FlakyVerifierTest-v0", generator=lambda rng: {"question": "q", "answer": "a"}, verifier=_flaky, force=True)
    info = _run_both("FlakyVerifierTest-v0", 3, "NextStep", [["a", "crash", "b"], ["x"] * 3, ["crash", "a", "a"], ["x"] * 3, ["a", "b", "crash"]])
    assert list(info["valid"]) == [True, True, False] and list(info["_error"]) == [False, False, True]
    _run_both("Arithmetic-v0", 3, "NextStep", [["1", "2", "3"]] * 6, format="compact")


def test_vector_infos_equal_sub_env_infos_multi_turn_tools():
    """ToolMath: some episodes go on (a tool call), some end: partial final_info, reset-only 'tools'."""
    def calls(vec):
        out = []
        for i, env in enumerate(vec.envs):
            if i % 2:
                out.append(f"\\boxed{{{env.unwrapped.task.answer}}}")
            else:
                out.append('<tool_call>{"name": "calculator", "arguments": {"expression": "6*7"}}</tool_call>')
        return out
    info = _run_both("ToolMath-v0", 4, "SameStep", [calls] * 5, builtin_tools=("calculator",), max_turns=2)
    assert "tools" in info and info["_final_info"].any() and not info["_final_info"].all()


def test_changing_vector_infos_leaves_the_envs_alone():
    """Final infos hand over the ended episode's messages; changing any info never reaches an env."""
    vec = make_vec("Arithmetic-v0", 2, autoreset_mode="SameStep", format="compact")
    vec.reset(seed=0)
    for _ in range(3):  # past the checker's first steps: the facts path
        _, _, _, _, info = vec.step(["1", "2"])
    prompts = [env.unwrapped.render() for env in vec.envs]
    info["messages"][0][0]["content"] = "changed"
    info["messages"][1].append({"role": "user", "content": "more"})
    info["final_info"]["messages"][0][0]["content"] = "changed too"
    info["final_info"]["messages"][1].append({"role": "user", "content": "more"})
    assert [env.unwrapped.render() for env in vec.envs] == prompts
    _, _, _, _, info = vec.step(["1", "2"])
    assert info["final_info"]["messages"][0][0]["content"] != "changed" and len(info["final_info"]["messages"][1]) == 2
    vec.close()


def test_changing_one_steps_info_arrays_never_reaches_the_next_steps_info():
    """The constant columns of a column-by-column step (turn, zero parts, weights, valid, masks) are
    copied from one template per layout: each step's arrays are its own."""
    vec = make_vec("Arithmetic-v0", 3, autoreset_mode="SameStep", format="compact")
    vec.reset(seed=0)
    for _ in range(3):  # past the checker's first steps: the column-by-column path
        _, _, _, _, info = vec.step(["1", "2", "3"])
    for columns in (info, info["final_info"]):
        columns["turn"][:] = 7
        columns["_turn"][:] = False
        columns["valid"][:] = False
        columns["reward_weights"]["outcome"][:] = 9.0
        columns["return_parts"]["format"][:] = 5.0
        columns["fingerprint"][0] = "changed"
        columns["verdict"][0] = "changed"
    _, _, _, _, info = vec.step(["1", "2", "3"])
    assert list(info["turn"]) == [0, 0, 0] and list(info["final_info"]["turn"]) == [1, 1, 1]
    for columns in (info, info["final_info"]):
        assert columns["_turn"].all() and columns["valid"].all()
        assert list(columns["reward_weights"]["outcome"]) == [1.0] * 3
        assert "changed" not in list(columns["fingerprint"]) and "changed" not in list(columns["verdict"])
    assert list(info["return_parts"]["format"]) == [0.0] * 3
    vec.close()


def test_constant_columns_equal_put_constant_and_keep_the_layouts_order():
    from rlvr.envs.vector_info import VARYING, constant_columns, put_constant

    weights = {"outcome": 1.0, "format": 0.5}
    layout = (("task_id", VARYING), ("turn", 0), ("weights", weights), ("verdict", None), ("valid", True))
    first, second = constant_columns(layout, 4), constant_columns(layout, 4)
    expected: dict = {"task_id": None}
    for name, value in layout[1:]:
        put_constant(expected, name, [0, 1, 2, 3], value, 4, True)
    assert list(first) == ["task_id", "_task_id", "turn", "_turn", "weights", "_weights", "verdict", "_verdict", "valid", "_valid"]
    assert first["task_id"] is None and first["_task_id"].tolist() == [True] * 4
    for name in ("turn", "verdict", "valid"):
        assert first[name].dtype == expected[name].dtype and first[name].tolist() == expected[name].tolist()
    assert {k: v.tolist() for k, v in first["weights"].items()} == {"outcome": [1.0] * 4, "_outcome": [True] * 4,
                                                                     "format": [0.5] * 4, "_format": [True] * 4}
    assert first["turn"] is not second["turn"] and first["weights"]["outcome"] is not second["weights"]["outcome"]
    assert constant_columns(layout, 2)["turn"].tolist() == [0, 0]  # another n, another template


def test_sub_env_overriding_step_or_reset_is_run_through_them():
    from rlvr.envs.procedural import ArithmeticEnv

    class Counting(ArithmeticEnv):
        steps = resets = 0

        def step(self, action):
            Counting.steps += 1
            return super().step(action)

        def reset(self, *, seed=None, options=None):
            Counting.resets += 1
            obs, info = super().reset(seed=seed, options=options)
            info["extra"] = "mine"
            return obs, info

    vec = TextVectorEnv([lambda: Counting(format="compact") for _ in range(2)], autoreset_mode="SameStep")
    vec.reset(seed=0)
    for _ in range(3):
        _, _, _, _, info = vec.step(["1", "2"])
    assert Counting.steps == 6 and Counting.resets == 2 + 6 and list(info["extra"]) == ["mine", "mine"]
    vec.close()


def _warm_math_vec(n, **kwargs):
    """A Math-v0 vector env past the checker's first two steps (its sub-envs' phases are then
    driven directly), whose next step's episodes are on the task "q" (answer 1)."""
    vec = make_vec("Math-v0", n, autoreset_mode="SameStep", dataset=[{"question": "q", "answer": "1"}], **kwargs)
    vec.reset(seed=0)
    for w in range(2):
        vec.step([f"warm-up {w}: $1 + {w} = {1 + w}$"] * n)
    return vec


@pytest.mark.parametrize("path", ["whole", "columns", "phases"])  # env.step / column by column / step_envs
def test_a_failed_steps_check_flags_the_turn_invalid(crash_math_workers, path):
    # the math workers checking the reasoning's claims crash: the turn is an infrastructure failure,
    # not a process reward of 0 on a valid turn
    import random

    a = random.Random().randrange(10**4, 10**6)
    text = f"$\\sin(\\pi/{a})^2 + \\cos(\\pi/{a})^2 = 1$\nSo \\boxed{{1}}"
    weights = {"outcome": 1.0, "process": 1.0}
    if path == "whole":
        env = rlvr.make("Math-v0", process_reward="steps", reward_weights=weights, dataset=[{"question": "q", "answer": "1"}])
        env.reset(seed=0)
        crash_math_workers()
        _, reward, term, _, info = env.step(text)
        assert term and reward == 0.0 and info["valid"] is False and "the steps check failed" in info["error"]
        return
    vec = _warm_math_vec(3, process_reward="steps", reward_weights=weights)
    crash_math_workers()
    _, rewards, term, _, info = vec.step([text if path == "columns" else {"content": text}] * 3)
    final = info["final_info"]
    assert term.all() and not rewards.any() and not final["valid"].any()
    assert all("the steps check failed: step 1: " in error and "worker process died" in error for error in final["error"])
    vec.close()


@pytest.mark.parametrize("path", ["columns", "phases"])  # column by column / step_envs
def test_steps_checks_of_many_envs_run_side_by_side(monkeypatch, path):
    # each answer states a claim too costly to check, so its check runs to its time limit: the
    # sub-envs' checks must not wait for each other (they ran one after another in the main thread)
    import random
    import time

    import rlvr.verifiers.steps as steps

    calls = []
    real = steps.verify_steps

    def timed(text, **kwargs):
        began = time.monotonic()
        try:
            return real(text, **kwargs)
        finally:
            calls.append((began, time.monotonic()))

    n = 4
    vec = _warm_math_vec(n, process_reward="steps", timeout=0.5, reward_weights={"process": 0.5})
    monkeypatch.setattr(steps, "verify_steps", timed)
    rng = random.Random()
    answers = [f"Clearly $10^{{10^{{{rng.randrange(10**6, 10**7)}}}}} = 3$ so \\boxed{{1}}" for _ in range(n)]
    _, rewards, _, _, info = vec.step(answers if path == "columns" else [{"content": a} for a in answers])
    final = info["final_info"]
    assert final["valid"].all() and list(rewards) == [1.0] * n and not final["reward_parts"]["process"].any()
    assert len(calls) == n
    spans = sorted(calls)
    assert all(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:]))  # all in flight at once
    vec.close()



# ------------------------------------------------------------------ same results as env.step, whatever the subclass


def _yes_env():
    """A small SingleTurnEnv class (ten tasks, each answered by "yes") for subclassing below; each
    reset draws its task from the env's generator (as procedural envs do)."""
    from rlvr.envs.base import SingleTurnEnv
    from rlvr.envs.tasks import ListSource, Task
    from rlvr.verifiers.verdict import Verdict

    class EachDraw(ListSource):
        def sample(self, rng):
            return self.tasks[int(rng.integers(len(self.tasks)))]

    class YesEnv(SingleTurnEnv):
        inline_verify = True

        def __init__(self):
            tasks = [Task(str(i), f"Say yes ({i})", "yes") for i in range(10)]
            super().__init__(EachDraw(tasks, {"name": "yes"}), reward_weights={"outcome": 1.0, "format": 1.0})

        def verify(self, task, content):
            return Verdict.right("yes") if content == task.answer else Verdict.wrong("not yes")

    return YesEnv


def _stepped_both_ways(entry, actions, steps=4, n=2):
    """(rewards, final task ids, task ids) per step of the same envs in Gymnasium's SyncVectorEnv
    and in TextVectorEnv (SameStep). The first two steps go env by env (gymnasium's env checker
    still wraps the envs), the later ones column by column where the fast path applies."""
    from gymnasium.vector import SyncVectorEnv

    name = f"rlvr-test/{entry.__name__}-v0"
    if name not in gym.registry:
        gym.register(name, entry_point=entry)
    runs = []
    for cls in (SyncVectorEnv, TextVectorEnv):
        vec = cls([lambda: gym.make(name) for _ in range(n)], autoreset_mode="SameStep")
        _, info = vec.reset(seed=0)
        run = []
        for _ in range(steps):
            _, rewards, _, _, info = vec.step(actions)
            run.append((rewards.tolist(), list(info["final_info"]["task_id"]), list(info["task_id"]),
                        info["final_info"]["turn_details"]))
        vec.close()
        runs.append(run)
    return runs


def test_an_overridden_respond_is_called_on_every_path():
    class Respond(_yes_env()):
        def respond(self, task, content, tool_calls):
            turn = super().respond(task, content, tool_calls)
            turn.parts["format"] = 0.5
            turn.details = {"by_respond": True}
            return turn

    sync, text = _stepped_both_ways(Respond, ["yes", "no"])
    assert [r for r, *_ in text] == [r for r, *_ in sync] == [[1.5, 0.5]] * 4
    assert all(details["by_respond"].all() for *_, details in text)


def test_an_overridden_check_turn_is_called_on_every_path():
    class Normalised(_yes_env()):
        def check_turn(self, action):
            content, tool_calls = super().check_turn(action)
            return content.strip().lower(), tool_calls

    sync, text = _stepped_both_ways(Normalised, [" YES ", "yes"])
    assert [r for r, *_ in text] == [r for r, *_ in sync] == [[1.0, 1.0]] * 4


def test_hooks_that_draw_from_np_random_see_the_same_stream_on_every_path():
    """The fast path draws the next task after scoring, as env by env: a verifier that draws from
    the env's generator leaves the same tasks (and rewards) whichever path a step takes."""
    from rlvr.verifiers.verdict import Verdict

    class Lucky(_yes_env()):
        def verify(self, task, content):
            return Verdict.right("lucky") if self.np_random.random() < 0.5 else Verdict.wrong("unlucky")

    sync, text = _stepped_both_ways(Lucky, ["a", "b", "c"], steps=8, n=3)
    assert [step[:3] for step in text] == [step[:3] for step in sync]


def test_a_step_that_raises_waits_for_the_other_sub_envs_steps():
    """An error in one sub-env's step ends `step` only once the others' threaded steps have
    ended: none may finish later into the episodes the caller starts next."""
    import json

    from rlvr.envs.base import InfrastructureError
    from rlvr.envs.tools import ToolInfraError

    ended = threading.Event()

    def flaky(x: int) -> str:
        """A tool that fails at once for 0 and takes a moment otherwise.

        Args:
            x: 0 fails (an infrastructure failure), anything else answers after 0.5 s.
        """
        if x == 0:
            raise ToolInfraError("backend down")
        ended.wait(0.5)
        ended.set()
        return "done"

    call = lambda x: f'<tool_call>{json.dumps({"name": "flaky", "arguments": {"x": x}})}</tool_call>'  # noqa: E731
    vec = TextVectorEnv([lambda: rlvr.make("rlvr/ToolMath-v0", builtin_tools=(), tools=[flaky], on_infra_error="raise")
                         for _ in range(2)])
    vec.reset(seed=0)
    with pytest.raises(InfrastructureError, match="backend down"):
        vec.step([call(0), call(7)])
    assert ended.is_set()  # sub-env 1's tool call had ended before step raised
    _, info = vec.reset(seed=1)
    assert [len(m) for m in info["messages"]] == [2, 2]  # system + user: nothing finished into the new episodes
    vec.close()


def test_a_refused_step_changes_no_sub_env():
    # during the first steps gymnasium's env checker still wraps each env: the others are not stepped
    vec = make_vec("Arithmetic-v0", 3)
    vec.reset(seed=0)
    with pytest.raises(TypeError):
        vec.step(["<answer>1</answer>", 42, "x"])
    _, rewards, term, *_ = vec.step(right_answers(vec))
    assert term.all() and rewards.tolist() == [1.0, 1.0, 1.0]
    vec.close()

    # NextStep with a reset pending: a refused step does not reset that sub-env (no task is skipped)
    tool = '<tool_call>{"name": "calculator", "arguments": {"expression": "1+1"}}</tool_call>'

    def task_ids_after_autoreset(refused_step_first):
        vec = make_vec("ToolMath-v0", 2, builtin_tools=("calculator",))
        vec.reset(seed=0)
        vec.step(["\\boxed{1}", tool])  # sub-env 0 ends: it resets at the next step
        if refused_step_first:
            with pytest.raises(TypeError):
                vec.step(["ignored", 123])
        ids = list(vec.step(["ignored", tool])[4]["task_id"])
        vec.close()
        return ids

    assert task_ids_after_autoreset(True) == task_ids_after_autoreset(False)


def test_closed_vector_env_refuses_steps_and_resets():
    for env_id, kwargs in [("Arithmetic-v0", {}), ("ToolMath-v0", {"builtin_tools": ("calculator",)})]:
        vec = make_vec(env_id, 2, **kwargs)
        vec.reset(seed=0)
        vec.close()
        with pytest.raises(gym.error.ClosedEnvironmentError, match="closed"):
            vec.step(["1", "2"])
        with pytest.raises(gym.error.ClosedEnvironmentError, match="closed"):
            vec.reset()
        vec.close()  # closing twice is fine


def test_call_get_attr_and_set_attr_reach_the_sub_envs():
    vec = make_vec("Arithmetic-v0", 2)
    vec.reset(seed=0)
    assert vec.get_attr("max_turns") == (1, 1)
    assert vec.call("fingerprint")[0] == vec.envs[0].unwrapped.fingerprint()
    vec.set_attr("system_prompt", ["be brief", "be terse"])
    assert [m[0]["content"] for m in vec.reset(seed=0)[1]["messages"]] == ["be brief", "be terse"]
    assert vec.envs[1].unwrapped.fingerprint().to_dict()["settings"]["system_prompt"] == "be terse"  # results name it
    vec.set_attr("reward_weights", {"outcome": 2.0})
    _, rewards, *_ = vec.step(right_answers(vec))
    assert rewards.tolist() == [2.0, 2.0]
    with pytest.raises(ValueError, match="one value for all sub-envs or a list of 2"):
        vec.set_attr("max_turns", [1, 2, 3])
    vec.close()


def test_sub_envs_with_different_spaces_are_refused():
    envs = [rlvr.make("Arithmetic-v0"), rlvr.make("Arithmetic-v0", max_action_chars=100)]
    with pytest.raises(ValueError, match="sub-env 1 has action_space TextSpace\\(0, 100\\) but sub-env 0 has"):
        TextVectorEnv(envs)
    mixed = TextVectorEnv([rlvr.make("Arithmetic-v0"), rlvr.make("Countdown-v0")])  # same spaces: fine
    assert mixed.num_envs == 2
    mixed.close()


def test_a_failed_step_cancels_the_steps_not_yet_begun():
    """After one sub-env's step raised, the threaded steps still queued never start (only the
    running ones are waited for): an error or Ctrl-C is not held up by the whole batch."""
    import json
    import time

    from rlvr.envs.base import InfrastructureError
    from rlvr.envs.tools import ToolInfraError

    ran = []

    def slow(x: int) -> str:
        """A tool that fails at once for 0 and takes a moment otherwise.

        Args:
            x: 0 fails (an infrastructure failure); anything else is recorded, then answered.
        """
        if x == 0:
            raise ToolInfraError("backend down")
        ran.append(x)
        time.sleep(0.3)
        return "done"

    call = lambda x: f'<tool_call>{json.dumps({"name": "slow", "arguments": {"x": x}})}</tool_call>'  # noqa: E731
    vec = TextVectorEnv([lambda: rlvr.make("rlvr/ToolMath-v0", builtin_tools=(), tools=[slow], on_infra_error="raise")
                         for _ in range(3)], max_workers=1)
    vec.reset(seed=0)
    with pytest.raises(InfrastructureError, match="backend down"):
        vec.step([call(0), call(1), call(2)])
    assert ran == [1]  # sub-env 2's step was still queued: it never ran
    vec.close()


def test_reward_weights_or_system_prompt_as_a_class_attribute_is_refused():
    from rlvr.envs.math_env import MathEnv

    class Weighted(MathEnv):
        reward_weights = {"outcome": 1.0, "format": 0.5}

    with pytest.raises(TypeError, match="sets reward_weights as a class attribute.*super\\(\\).__init__\\(..., reward_weights=...\\)"):
        Weighted()
