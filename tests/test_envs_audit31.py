"""Audit 31 of the envs: settings that were accepted and then did nothing, and Math-v0 pickling.

1. a non-zero `process` weight on an env with no process reward is refused (as `format` is);
2. split= / config= / revision= on the built-in sample set or in-memory rows are refused;
3. `rlvr.register` checks its keyword arguments (and generator_settings) when registering, and
   refuses max_episode_steps (its tasks end after one step);
4. Math-v0 (the math verifier's scorer) pickles;
5. max_turns other than 1 on a single-turn env is refused.
"""

from __future__ import annotations

import itertools
import json
import pickle

import gymnasium as gym
import pytest

import rlvr
from rlvr.envs.base import SingleTurnEnv
from rlvr.envs.errors import DatasetError
from rlvr.envs.tasks import GeneratorSource, ListSource, Task
from rlvr.verifiers.verdict import Verdict

ROWS = [{"question": "What is 3*4?", "answer": "12"}]
_ids = itertools.count()


def _new_id(name: str) -> str:
    return f"rlvr/Audit31{name}{next(_ids)}-v0"


def _answer_first(env, text_of=lambda gold: f"3 * 4 = 12, so \\boxed{{{gold}}} <answer>{gold}</answer>"):
    env.reset(options={"index": 0})
    gold = env.unwrapped.task.answer
    return env.step(text_of(gold))


# ------------------------------------------------------------------ 1. a process weight nothing pays


def test_a_process_weight_on_an_env_without_process_reward_is_refused_at_make():
    exact = rlvr.register(_new_id("Exact"), dataset=ROWS, verifier="exact")
    weights = {"outcome": 1, "process": 0.2}
    with pytest.raises(ValueError, match=r"MathEnv: reward_weights give the 'process' part the weight 0\.2, but this env "
                                         r"has no process reward.*pass process_reward='steps'"):
        rlvr.make("rlvr/Math-v0", reward_weights=weights)
    for env_id in ("rlvr/Arithmetic-v0", exact):
        with pytest.raises(ValueError, match=r"no process reward, so that part would always be 0; drop the 'process' weight"):
            rlvr.make(env_id, reward_weights=weights)
    assert rlvr.make("rlvr/Arithmetic-v0", reward_weights={"outcome": 1, "process": 0}).unwrapped.reward_weights.process == 0


def test_a_process_weight_assigned_later_is_refused_and_the_weights_stay():
    env = rlvr.make("rlvr/Math-v0").unwrapped
    before = env.reward_weights
    with pytest.raises(ValueError, match="pass process_reward='steps'"):
        env.reward_weights = {"outcome": 1, "process": 0.5}
    assert env.reward_weights == before
    env.process_reward = "steps"  # then the weight is paid
    env.reward_weights = {"outcome": 1, "process": 0.5}
    with pytest.raises(ValueError, match=r"process_reward=None would leave the 'process' part always 0"):
        env.process_reward = None
    assert env.process_reward == "steps"


def test_envs_that_pay_a_process_part_keep_their_process_weight():
    _, reward, *_, info = _answer_first(rlvr.make("rlvr/Math-v0", process_reward="steps",
                                                  reward_weights={"outcome": 1, "process": 0.2}))
    assert info["reward_parts"]["process"] == 1.0 and reward == pytest.approx(1.2)
    tool_env = rlvr.make("rlvr/ToolMath-v0").unwrapped  # tool-call credit, without process_reward
    assert tool_env.process_reward is None and tool_env.reward_weights.process == 0.1

    class Reasoned(SingleTurnEnv):  # a subclass with its own process_score may weight it
        def verify(self, task, content):
            return Verdict.right("ok")

        def process_score(self, task, content):
            return 0.5, None

    env = Reasoned(ListSource([Task("t", "q?", "a")], {"name": "reasoned"}), reward_weights={"process": 1.0})
    env.reset(seed=0)
    assert env.step("a")[1] == pytest.approx(1.5)


# ------------------------------------------------------------------ 2. split / config / revision with nothing to select


@pytest.mark.parametrize("env_id", ["rlvr/Math-v0", "rlvr/Code-v0"])
def test_split_config_or_revision_of_the_builtin_samples_are_refused(env_id):
    for kwargs in ({"split": "test"}, {"split": "train"}):
        with pytest.raises(DatasetError, match=r"the built-in sample set \(used when no dataset= is given\) has no split"):
            rlvr.make(env_id, **kwargs)
    for kwargs in ({"config": "main"}, {"revision": "abc"}):
        with pytest.raises(DatasetError, match=r"the built-in sample set .* has no config= or revision="):
            rlvr.make(env_id, **kwargs)


def test_split_config_or_revision_of_rows_in_memory_are_refused_as_a_local_files_are():
    with pytest.raises(DatasetError, match=r"a dataset given in memory \(a list of rows\) has no split 'test'; available "
                                           r"splits: \['train'\]"):
        rlvr.make("rlvr/Math-v0", dataset=ROWS, split="test")
    with pytest.raises(DatasetError, match=r"has no config= or revision= \(those are for hub datasets\), got revision='abc'"):
        rlvr.make("rlvr/Math-v0", dataset=ROWS, revision="abc")
    with pytest.raises(DatasetError, match="has no split 'test'"):  # at register: every make would fail
        rlvr.register(_new_id("Split"), dataset=ROWS, verifier="exact", split="test")
    # "train", a local file's one split, names these rows too
    assert rlvr.make("rlvr/Math-v0", dataset=ROWS, split="train").reset(seed=0)[0].startswith("What is 3*4?")


# ------------------------------------------------------------------ 3. register's keyword arguments


def test_register_refuses_an_argument_no_env_takes_naming_it():
    env_id = _new_id("Typo")
    with pytest.raises(TypeError, match=r"rlvr.register\('rlvr/Audit31Typo\d+-v0'\): unexpected keyword argument\(s\) "
                                        r"'qustion_key' \(did you mean 'question_key' for 'qustion_key'\?\); a dataset task takes"):
        rlvr.register(env_id, dataset=ROWS, qustion_key="q")
    assert env_id not in rlvr.registered_ids()  # nothing left registered that every make would fail on
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) 'generator_settings'"):
        rlvr.register(_new_id("DataGen"), dataset=ROWS, generator_settings={"high": 3})
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) 'split'; a generator task takes"):
        rlvr.register(_new_id("GenSplit"), generator=lambda rng: {"question": "q", "answer": "a"}, split="train")


def test_register_refuses_max_episode_steps_as_its_tasks_end_after_one_step():
    # a TimeLimit never cut these single-turn episodes (at 1 it marked every answer truncated too),
    # and gymnasium.make / rlvr.make recorded it differently in the fingerprint
    for limit in (1, 4, 0, "4"):
        env_id = _new_id("Limit")
        with pytest.raises(ValueError, match=r"max_episode_steps=.*, but the dataset and generator tasks it registers end "
                                             r"after one step, so a step limit does nothing; drop it \(for several turns, "
                                             r"register a multi-turn TextEnv subclass with gymnasium.register"):
            rlvr.register(env_id, dataset=ROWS, verifier="exact", max_episode_steps=limit)
        assert env_id not in rlvr.registered_ids()
    with pytest.raises(ValueError, match="a step limit does nothing"):
        rlvr.register(_new_id("Limit"), verifier="exact", max_episode_steps=2)(_gen)
    env = rlvr.make(rlvr.register(_new_id("Limit"), dataset=ROWS, verifier="exact", max_episode_steps=None))
    assert env.spec.max_episode_steps is None


def _gen(rng, high=9):
    return {"question": f"{int(rng.integers(2, high + 1))}*2=", "answer": "0"}


def test_generator_settings_are_checked_against_the_generators_signature_at_register():
    with pytest.raises(TypeError, match=r"generator_settings 'hihg' are no arguments of the generator _gen "
                                        r"\(did you mean 'high' for 'hihg'\?\); it takes \['high'\]"):
        rlvr.register(_new_id("Gen"), verifier="exact", generator_settings={"hihg": 3})(_gen)
    with pytest.raises(TypeError, match="generator_settings must be a dict"):
        rlvr.register(_new_id("Gen"), generator=_gen, generator_settings=[3])
    good = rlvr.register(_new_id("Gen"), generator=_gen, generator_settings={"high": 3})
    assert rlvr.make(good).reset(seed=0)[0][0] in "23"

    def open_ended(rng, **settings):  # **kwargs: any name may be meant, so none is refused
        return {"question": "q", "answer": str(settings.get("level", 0))}

    assert rlvr.make(rlvr.register(_new_id("Gen"), generator=open_ended, generator_settings={"level": 2})).reset(seed=0)


# ------------------------------------------------------------------ 4. pickling


@pytest.mark.parametrize("make", [lambda: rlvr.make("rlvr/Math-v0"),
                                  lambda: rlvr.make(rlvr.register(_new_id("Pickle"), dataset=ROWS, verifier="exact"))])
def test_math_and_exact_verifier_envs_pickle_and_score_the_same(make):
    env = make()
    env.reset(seed=0)
    loaded = pickle.loads(pickle.dumps(env))
    got, want = _answer_first(loaded), _answer_first(env)
    assert got[1] == want[1] == 1.0
    assert got[4]["fingerprint"].digest == want[4]["fingerprint"].digest


# ------------------------------------------------------------------ 5. max_turns on a single-turn env


def test_max_turns_other_than_one_on_a_single_turn_env_is_refused():
    for env_id in ("rlvr/Math-v0", "rlvr/Arithmetic-v0"):
        with pytest.raises(ValueError, match=r"max_turns=3, but this is a single-turn env: its first step always ends the "
                                             r"episode, so max_turns must be 1; for several turns use a multi-turn env "
                                             r"\(rlvr/ToolMath-v0"):
            rlvr.make(env_id, max_turns=3)
    env = rlvr.make("rlvr/Math-v0", max_turns=1).unwrapped
    with pytest.raises(ValueError, match="single-turn env"):
        env.max_turns = 2
    assert env.max_turns == 1
    assert rlvr.make("rlvr/ToolMath-v0", max_turns=3).unwrapped.max_turns == 3  # multi-turn: unchanged


# ------------------------------------------------------------------ audit 31, second round


def test_make_with_other_data_leaves_out_the_registered_split_config_and_revision():
    import datasets
    import gymnasium as gym

    # nothing is downloaded at register; the hub data's options go with it when make is given other data
    hub = rlvr.register(_new_id("Hub"), dataset="openai/gsm8k", config="main", split="train", revision="abc")
    dataset = datasets.Dataset.from_list(ROWS)
    for kwargs in ({"dataset": ROWS}, {"dataset": dataset},
                   {"dataset": datasets.DatasetDict({"train": dataset, "test": dataset}), "split": "test"}):
        assert rlvr.make(hub, **kwargs).reset(seed=0)[0].startswith("What is 3*4?")
    # gymnasium.make_vec merges the registration's options as gymnasium.make does: equal to them, the
    # caller's own cannot be told apart (a pinned revision is never dropped), so rows say they lack them
    with pytest.raises(DatasetError, match="has no config= or revision="):
        gym.make_vec(hub, 2, dataset=ROWS)
    none = {"split": None, "config": None, "revision": None}
    assert gym.make_vec(hub, 2, dataset=ROWS, **none).reset(seed=0)[0][1].startswith("What is 3*4?")
    with pytest.raises(DatasetError, match=r"has no split 'test'") as caught:  # an explicit bad split stays refused
        rlvr.make(hub, dataset=ROWS, split="test")
    assert "registration" not in str(caught.value)
    # gymnasium.make merges the registration's options: the error says where they came from
    with pytest.raises(DatasetError, match=r"got config='main', revision='abc'.*\(split='train', config='main', "
                                           r"revision='abc' may be the registration's of 'rlvr/Audit31Hub\d+-v0'"):
        gym.make(hub, dataset=ROWS)


def test_math_v0_process_weight_error_points_to_make_not_register():
    with pytest.raises(ValueError) as caught:
        rlvr.make("rlvr/Math-v0", dataset=ROWS, reward_weights={"process": 0.2})
    assert "rlvr.make('rlvr/Math-v0', dataset=..., process_reward='steps')" in str(caught.value)
    assert "rlvr.register" not in str(caught.value)  # it takes no process_reward


def _verify_exact(gold, completion):  # module-level: pickles by reference
    return completion.strip() == str(gold)


@pytest.mark.parametrize("register", [
    lambda: rlvr.register(_new_id("PickleGen"), generator=_gen, verifier="exact"),
    lambda: rlvr.register(_new_id("PickleFn"), dataset=ROWS, verifier=_verify_exact),
    lambda: rlvr.register(_new_id("PickleFnDirect"), dataset=ROWS, verifier=_verify_exact, verifier_settings={"timeout": None}),
])
def test_generator_tasks_and_callable_verifier_tasks_pickle_and_score_the_same(register):
    env_id = register()
    env = rlvr.make(env_id)
    loaded = pickle.loads(pickle.dumps(env))
    answer = (lambda gold: str(gold))
    got, want = _answer_first(loaded, answer), _answer_first(env, answer)
    assert got[1] == want[1] == 1.0
    assert got[4]["fingerprint"].digest == want[4]["fingerprint"].digest
    if isinstance(loaded.unwrapped.source, GeneratorSource):  # its errors still name the env
        assert loaded.unwrapped.source.label() == env_id


def test_a_lambda_verifier_fails_to_pickle_with_pickles_own_error():
    env = rlvr.make(rlvr.register(_new_id("PickleLambda"), dataset=ROWS, verifier=lambda gold, completion: True))
    with pytest.raises((pickle.PicklingError, AttributeError), match="lambda"):
        pickle.dumps(env)


def test_register_refuses_values_every_make_would_refuse():
    import datasets

    cases = [({"max_turns": 3}, ValueError, r"DatasetEnv: max_turns=3, but this is a single-turn env"),
             ({"max_turns": 0}, ValueError, r"max_turns must be a positive int"),
             ({"reward_weights": {"process": 0.2}}, ValueError, r"the 'process' part the weight 0\.2, but this env has no "
                                                                 r"process reward.*drop the 'process' weight"),
             ({"split": "test"}, DatasetError, r"a dataset given in memory \(a list of rows\) has no split 'test'"),
             ({"config": "main"}, DatasetError, r"has no config= or revision="),
             ({"dataset": datasets.Dataset.from_list(ROWS), "split": "test"}, DatasetError, "one split already")]
    for kwargs, error, message in cases:
        env_id = _new_id("Values")
        with pytest.raises(error, match=message):
            rlvr.register(env_id, **{"dataset": ROWS, "verifier": "exact", **kwargs})
        assert env_id not in rlvr.registered_ids()
    with pytest.raises(ValueError, match="single-turn env"):
        rlvr.register(_new_id("Values"), verifier="exact", max_turns=2)(_gen)
    assert rlvr.make(rlvr.register(_new_id("Values"), dataset=ROWS, verifier="exact", max_turns=1, split="train",
                                   reward_weights={"outcome": 1, "process": 0})).reset(seed=0)


def test_register_refuses_config_and_split_a_local_file_lacks(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"question": "What is 3*4?", "answer": "12"}\n')
    with pytest.raises(DatasetError, match="is a local file: it has no config= or revision="):
        rlvr.register(_new_id("File"), dataset=str(path), config="main")
    with pytest.raises(DatasetError, match=r"has no split 'test'; available splits: \['train'\]"):
        rlvr.register(_new_id("File"), dataset=str(path), split="test")
    assert rlvr.make(rlvr.register(_new_id("File"), dataset=str(path), split="train")).reset(seed=0)


def test_a_datasets_dataset_takes_split_train_as_rows_do_and_refuses_other_splits():
    import datasets

    dataset = datasets.Dataset.from_list(ROWS * 2)
    assert rlvr.make("rlvr/Math-v0", dataset=dataset, split="train").reset(seed=0)[0].startswith("What is 3*4?")
    test_half = dataset.train_test_split(test_size=0.5, seed=0)["test"]  # it carries .split == "train"
    with pytest.raises(DatasetError, match=r"the given datasets.Dataset is one split already, so split='test' would "
                                           r"select nothing; leave split= out \(or pass a DatasetDict with split=\)"):
        rlvr.make("rlvr/Math-v0", dataset=test_half, split="test")
    assert rlvr.make("rlvr/Math-v0", dataset=test_half).reset(seed=0)


def test_refusals_of_settings_that_did_nothing_say_how_a_run_started_with_them_resumes():
    hint = "(a run started with it before can continue with --resume --allow-config-change after removing it)"
    for kwargs in ({"max_turns": 2}, {"reward_weights": {"outcome": 1, "process": 0.2}}):
        with pytest.raises(ValueError) as caught:
            rlvr.make("rlvr/Math-v0", **kwargs)
        assert hint in str(caught.value)


# -- review of 0668f8a: data options stay with the caller's data ----------------------------------
def _fake_hub(monkeypatch):
    """`datasets.load_dataset` answering from two small in-memory 'hub' datasets (no network here),
    recording each call: what is under test is which split/config/revision rlvr asks for."""
    import datasets

    def rows(tag):
        return [{"question": f"{tag} q{i}: What is {i}+1?", "answer": str(i + 1)} for i in range(3)]

    hub = {"org/a": {"train": rows("A-train"), "test": rows("A-test")},
           "org/b": {"train": rows("B-train"), "test": rows("B-test")},
           "org/b1": {"test": rows("B1-test")}}
    calls = []

    def load_dataset(path, name=None, revision=None, **_):
        calls.append((path, name, revision))
        if path not in hub:
            raise FileNotFoundError(path)
        return datasets.DatasetDict({k: datasets.Dataset.from_list(v) for k, v in hub[path].items()})

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    return hub, calls


def test_make_vec_keeps_a_revision_or_split_given_with_other_data(monkeypatch):
    _, calls = _fake_hub(monkeypatch)
    rid = rlvr.register("rlvr/Audit31Rev-v0", dataset="org/a", split="test", revision="v1.0", verifier="exact",
                        force=True)
    vec = gym.make_vec(rid, 2, dataset="org/b1", revision="v1.0")
    try:
        assert calls and all(call == ("org/b1", None, "v1.0") for call in calls), calls  # never unpinned
    finally:
        vec.close()
    vec = gym.make_vec(rid, 2, dataset="org/b", split="test")
    try:
        vec.reset(seed=0)
        assert all(env.unwrapped.task.question.startswith("B-test") for env in vec.envs)
    finally:
        vec.close()


def test_another_hub_dataset_keeps_the_registered_split_but_not_its_config(monkeypatch):
    _fake_hub(monkeypatch)
    rid = rlvr.register("rlvr/Audit31Split-v0", dataset="org/a", split="test", verifier="exact", force=True)
    env = rlvr.make(rid, dataset="org/b")
    env.reset(seed=0)
    assert env.unwrapped.task.question.startswith("B-test")


def test_a_datasetdict_registered_without_a_split_takes_one_at_make():
    import datasets

    rows = [{"question": f"q{i}", "answer": str(i)} for i in range(5)]
    data = datasets.DatasetDict({"train": datasets.Dataset.from_list(rows[:3]), "test": datasets.Dataset.from_list(rows[3:])})
    rid = rlvr.register("rlvr/Audit31Dict-v0", dataset=data, verifier="exact", force=True)
    assert rlvr.make(rid, split="train").unwrapped.source.size == 3
    assert rlvr.make(rid, split="test").unwrapped.source.size == 2
    with pytest.raises(DatasetError, match="choose one with split="):
        rlvr.make(rid)


def test_a_dataset_takes_its_own_split_name():
    import datasets

    data = datasets.Dataset.from_list([{"question": "q", "answer": "1"}], split="test")
    assert rlvr.make("rlvr/Math-v0", dataset=data, split="test").unwrapped.source.size == 1
    with pytest.raises(DatasetError, match="one split already"):
        rlvr.make("rlvr/Math-v0", dataset=data, split="validation")


def test_benchmark_data_replaces_the_benchmarks_own_split(monkeypatch, tmp_path):
    from rlvr.benchmarks.registry import load_benchmark, register_benchmark

    hub, _ = _fake_hub(monkeypatch)
    rid = rlvr.register("rlvr/Audit31Bench-v0", dataset="org/a", verifier="exact", force=True)
    register_benchmark("audit31-bench-test", rid, env_kwargs={"split": "test"}, force=True)
    local = tmp_path / "test.jsonl"
    local.write_text("".join(json.dumps(row) + "\n" for row in hub["org/a"]["test"]))
    loaded = load_benchmark("audit31-bench-test", data=str(local))
    assert [t.question for t in loaded.tasks] == [row["question"] for row in hub["org/a"]["test"]]
