"""User tasks registered with `rlvr.register(...)` (audit 24): prompt templates checked against every
row, digests that name one setup in every process and all run long, ids Gymnasium reads as written,
generator failures named, user verifier results that are no verdict flagged, and tasks given at
reset checked as dataset rows are."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import rlvr
from rlvr.benchmarks.identity import data_identity
from rlvr.envs.tasks import DatasetError, GeneratorError
from rlvr.verifiers.verdict import Verdict

ROWS = [{"question": "1+1?", "answer": "2"}]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


def digest_of(env_id, **kwargs):
    env = rlvr.make(env_id, **kwargs)
    env.reset(seed=0)
    return env.unwrapped.fingerprint().digest


# ------------------------------------------------------------------ 1. templates against every row


def test_a_row_without_a_template_field_is_refused_when_the_env_is_built(registered, tmp_path):
    # was: rendered "[None] 2+2" for row 1, silently
    path = write_jsonl(tmp_path / "topics.jsonl", [{"q": "1+1", "a": "2", "topic": "add"}, {"q": "2+2", "a": "4"}])
    env_id = registered("rlvr/AuditTopic-v0", dataset=path, question_key="q", answer_key="a", verifier="exact",
                        prompt="[{topic}] {question}")
    with pytest.raises(DatasetError) as raised:
        rlvr.make(env_id)
    message = str(raised.value)
    assert message.startswith("row 1: column 'topic' is missing") and "[{topic}] {question}" in message
    assert "fill it in that row, or change prompt=" in message
    # every row has it: built, and each prompt is the row's
    path = write_jsonl(tmp_path / "full.jsonl", [{"q": "1+1", "a": "2", "topic": "add"}, {"q": "2+2", "a": "4", "topic": "sum"}])
    env = rlvr.make(env_id, dataset=path)
    assert [env.reset(options={"index": i})[0] for i in range(2)] == ["[add] 1+1", "[sum] 2+2"]


def test_a_format_spec_a_later_row_refuses_fails_when_the_env_is_built_naming_the_row(registered, tmp_path):
    # was: a bare "ValueError: Unknown format code 'd' for object of type 'str'" at the reset of row 1
    path = write_jsonl(tmp_path / "spec.jsonl", [{"q": "a", "a": "1", "n": 3}, {"q": "b", "a": "2", "n": "hard"}])
    env_id = registered("rlvr/AuditSpec-v0", dataset=path, question_key="q", answer_key="a", verifier="exact",
                        prompt="#{n:03d} {question}")
    with pytest.raises(DatasetError, match=r"^row 1: prompt template '#\{n:03d\} \{question\}' cannot be filled from "
                                           r"task '1' \(ValueError: Unknown format code 'd'.*fix the data"):
        rlvr.make(env_id)


def hint_sometimes(rng):
    k = int(rng.integers(0, 4))
    task = {"question": f"{k}+{k}=", "answer": str(2 * k)}
    if k:
        task["hint"] = "add"
    return task


def hint_none_sometimes(rng):
    k = int(rng.integers(0, 4))
    return {"question": f"{k}+{k}=", "answer": str(2 * k), "hint": "add" if k else None}


@pytest.mark.parametrize("generator, cause", [(hint_sometimes, KeyError), (hint_none_sometimes, ValueError)])
def test_a_generated_task_that_cannot_fill_the_template_fails_at_reset_naming_template_task_and_fix(registered, generator, cause):
    # was: a bare KeyError('hint') at some resets, or the prompt "None 0+0="
    env_id = registered(f"rlvr/Audit{generator.__name__.title().replace('_', '')}-v0", generator=generator,
                        prompt="{hint}: {question}")
    env = rlvr.make(env_id)  # task 0 has its hint
    failures = []
    for index in range(40):
        try:
            assert env.reset(options={"index": index})[0].startswith("add: ")
        except ValueError as exc:
            failures.append(exc)
    assert failures, "some task of the 40 has no hint"
    message = str(failures[0])
    assert message.startswith(f"prompt template '{{hint}}: {{question}}' cannot be filled from task '{generator.__name__}/")
    assert "fix the data" in message and "prompt=" in message
    assert type(failures[0].__cause__) is cause


# ------------------------------------------------------------------ 2. one digest per setup


class Table:
    """A plain object (default repr: '<Table object at 0x...>') holding a set."""

    def __init__(self):
        self.names = {"alpha", "beta", "gamma", "delta"}
        self.size = 3


def judge(gold, completion, allowed=()):
    return completion.strip() in allowed


def constant(rng, ops=("+",), table=None):
    return {"question": "1+1?", "answer": "2"}


_DIGESTS_SCRIPT = r"""
import functools, json, sys
import rlvr
from tests.test_envs_register_audit24 import Table, constant, digest_of, judge
rows = [{"question": "1+1?", "answer": "2"}]
setups = {
    "generator_settings": dict(generator=constant, generator_settings={"ops": {"+", "-", "*", "/"}, "table": Table()}),
    "verifier_settings": dict(dataset=rows, verifier=judge, verifier_settings={"allowed": {"alpha", "beta", "gamma", "delta"}}),
    "partial": dict(dataset=rows, verifier=functools.partial(judge, allowed={"alpha", "beta", "gamma", "delta"})),
    "object_verifier_setting": dict(dataset=rows, verifier=judge, verifier_settings={"allowed": Table()}),
}
print(json.dumps({name: digest_of(rlvr.register(f"rlvr/AuditCanon{i}-v0", **kwargs)) for i, (name, kwargs) in enumerate(setups.items())}))
"""


def test_sets_and_plain_objects_in_settings_give_one_digest_in_every_process():
    # sets were written in the per-process hash order, objects as '<Table object at 0x7f...>'
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    digests = []
    for seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", _DIGESTS_SCRIPT], cwd=root, capture_output=True, text=True,
                              env=dict(os.environ, PYTHONHASHSEED=seed), timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        digests.append(json.loads(done.stdout.strip().splitlines()[-1]))
    assert digests[0] == digests[1]


def test_equal_objects_in_settings_give_one_digest_and_unequal_ones_two(registered):
    env_id = registered("rlvr/AuditObjects-v0", generator=constant)
    one, other = Table(), Table()
    assert digest_of(env_id, generator_settings={"table": one}) == digest_of(env_id, generator_settings={"table": other})
    other.size = 4
    assert digest_of(env_id, generator_settings={"table": one}) != digest_of(env_id, generator_settings={"table": other})
    settings = rlvr.make(env_id, generator_settings={"table": one}).unwrapped.fingerprint()["data"]["settings"]
    assert settings["table"].startswith(f"<{Table.__module__}.Table state=") and "0x" not in settings["table"]


class Cached:
    """A verifier that keeps a cache and counts its calls."""

    def __init__(self, tol=0):
        self.tol = tol
        self.cache = {}
        self.calls = 0

    def __call__(self, gold, completion):
        self.calls += 1
        return self.cache.setdefault((gold, completion), completion.strip() == gold)


def test_a_stateful_verifier_keeps_its_digest_after_it_is_used(registered):
    # an eval env made later in a run had another digest than the training env made at its start
    verifier = Cached()
    seen = {}
    digests = {}

    def closure_cache(gold, completion):
        return seen.setdefault(completion, completion.strip() == gold)

    for name, scorer in (("Object", verifier), ("Closure", closure_cache)):
        env_id = registered(f"rlvr/AuditCached{name}-v0", dataset=ROWS, verifier=scorer)
        train = rlvr.make(env_id)
        train.reset(seed=0)
        before = train.unwrapped.fingerprint().digest
        assert train.step("2")[1] == 1.0
        assert digest_of(env_id) == before, name
        digests[name] = before
    assert verifier.calls == 1 and verifier.cache and seen
    # an object given at make is identified then, once too; registering again takes it anew
    other = Cached(tol=1)
    first = digest_of("rlvr/AuditCachedObject-v0", verifier=other)
    other("2", "2")
    assert digest_of("rlvr/AuditCachedObject-v0", verifier=other) == first
    verifier.tol = 5  # a change of configuration: recorded once registered again
    assert digest_of(registered("rlvr/AuditCachedObject-v0", dataset=ROWS, verifier=verifier)) != digests["Object"]


# ------------------------------------------------------------------ 3. versions as Gymnasium reads them


def test_a_version_with_a_leading_zero_is_refused_with_the_id_to_write(registered):
    # was: registered as "rlvr/Lead-v1", so rlvr.make("rlvr/Lead-v01") raised UnknownEnvError
    with pytest.raises(ValueError, match=r"'rlvr/AuditLead-v01' writes its version with a leading zero.*write 'rlvr/AuditLead-v1'"):
        rlvr.register("rlvr/AuditLead-v01", dataset=ROWS)
    assert "rlvr/AuditLead-v1" not in gym.registry and "rlvr/AuditLead-v01" not in gym.registry
    for env_id in ("rlvr/AuditLead-v0", "rlvr/AuditLead-v10"):
        rlvr.make(registered(env_id, dataset=ROWS)).reset(seed=0)


# ------------------------------------------------------------------ 4. generators


def boom_sometimes(rng):
    if rng.integers(0, 3) == 0:
        raise ZeroDivisionError("oops")
    return {"question": "1+1?", "answer": "2"}


def test_a_generator_that_raises_is_named_with_the_env_and_the_seed(registered):
    # was: the bare ZeroDivisionError, at some reset, naming no env nor generator
    env_id = registered("rlvr/AuditBoom-v0", generator=boom_sometimes)
    env = rlvr.make(env_id)
    with pytest.raises(GeneratorError) as raised:
        for index in range(40):
            env.reset(options={"index": index})
    message = str(raised.value)
    assert message.startswith(f"{env_id}: generator boom_sometimes raised ZeroDivisionError: oops while making task "
                              f"'boom_sometimes/") and "(seed " in message and message.endswith("fix the generator")
    assert type(raised.value.__cause__) is ZeroDivisionError
    with pytest.raises(GeneratorError, match=r"seed \d+\)"):  # drawn tasks: their seed
        for seed in range(40):
            env.reset(seed=seed)
    # a generator that fails on task 0 fails when the env is built, named the same way
    with pytest.raises(GeneratorError, match=r"^rlvr/AuditBoomFirst-v0: generator .*raised ZeroDivisionError"):
        rlvr.make(registered("rlvr/AuditBoomFirst-v0", generator=lambda rng: 1 / 0))


def global_random(rng):
    a = random.randint(1, 10**9)
    return {"question": f"{a}?", "answer": str(a)}


def arrays(rng):
    values = rng.integers(0, 9, size=4)
    return {"question": f"sum of {values.tolist()}?", "answer": str(int(values.sum())), "values": values}


def test_a_generator_drawing_from_the_random_module_is_refused_when_built(registered):
    # was: accepted; task 0 was another task at each reset
    with pytest.raises(GeneratorError, match=r"generator global_random made two different tasks from the same seed "
                                             r"\(0\).*draw all its randomness from its rng argument"):
        rlvr.make(registered("rlvr/AuditGlobalRandom-v0", generator=global_random))
    env = rlvr.make(registered("rlvr/AuditArrays-v0", generator=arrays))  # NumPy arrays compare by content
    assert env.reset(options={"index": 0})[0] == env.reset(options={"index": 0})[0]


# ------------------------------------------------------------------ 5. results that are no verdict


@pytest.mark.parametrize("result, problem", [
    (Verdict(score=float("nan"), correct=True, reason="x"), "returned a Verdict with score nan"),
    (Verdict(score=5.0, correct=True, reason="x"), "returned a Verdict with score 5.0"),
    (SystemExit(3), "raised SystemExit(3)"),
])
def test_a_verdict_out_of_range_or_a_sys_exit_is_a_failed_verification(registered, result, problem):
    # was: reward nan / 5.0 with valid=True, and SystemExit out of env.step (ending the trainer)
    def verifier(gold, completion):
        if isinstance(result, BaseException):
            raise result
        return result

    env = rlvr.make(registered("rlvr/AuditBadVerdict-v0", dataset=ROWS, verifier=verifier))
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step("2")
    assert reward == 0.0 and terminated and info["valid"] is False and problem in info["error"]
    from rlvr.envs.scoring import CALLABLE_RESULT_RULES  # here: the module is collected without the fix too

    assert info["fingerprint"]["verifier"]["result_rules"] == CALLABLE_RESULT_RULES >= 2


def test_a_keyboard_interrupt_in_a_verifier_still_propagates(registered):
    def interrupted(gold, completion):
        raise KeyboardInterrupt

    env = rlvr.make(registered("rlvr/AuditInterrupted-v0", dataset=ROWS, verifier=interrupted))
    env.reset(seed=0)
    with pytest.raises(KeyboardInterrupt):
        env.step("2")


# ------------------------------------------------------------------ 6. local files: content, not place


def test_the_same_bytes_at_another_path_give_the_same_digest(registered, tmp_path):
    # the absolute path was digested: a copy of the file elsewhere was another setup
    rows = [{"q": "1+1", "a": "2"}]
    (tmp_path / "elsewhere").mkdir()
    here = write_jsonl(tmp_path / "train.jsonl", rows)
    there = write_jsonl(tmp_path / "elsewhere" / "copy.jsonl", rows)
    env_id = registered("rlvr/AuditPlace-v0", dataset=here, question_key="q", answer_key="a", verifier="exact")
    envs = [rlvr.make(env_id).unwrapped, rlvr.make(env_id, dataset=there).unwrapped]
    assert envs[0].fingerprint().digest == envs[1].fingerprint().digest
    assert [env.source.fingerprint()["source"] for env in envs] == [here, there]  # still recorded
    assert [env.fingerprint()["data"]["source"] for env in envs] == [here, there]  # each env's own record
    assert data_identity(envs[0].fingerprint()["data"]) == data_identity(envs[1].source.fingerprint())
    write_jsonl(tmp_path / "elsewhere" / "copy.jsonl", [{"q": "1+1", "a": "3"}])  # other bytes: another setup
    assert rlvr.make(env_id, dataset=there).unwrapped.fingerprint().digest != envs[0].fingerprint().digest


def test_a_relative_dataset_path_is_resolved_when_registered(registered, tmp_path, monkeypatch):
    # was: resolved at each make, so a make after os.chdir failed ("dataset file 'train.jsonl' does not exist")
    write_jsonl(tmp_path / "train.jsonl", [{"q": "1+1", "a": "2"}])
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path)
    env_id = registered("rlvr/AuditRelative-v0", dataset="train.jsonl", question_key="q", answer_key="a", verifier="exact")
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert rlvr.make(env_id).reset(seed=0)[0] == "1+1"
    assert gym.spec(env_id).kwargs["dataset"] == str(tmp_path / "train.jsonl")


# ------------------------------------------------------------------ 7. tasks given at reset


@pytest.mark.parametrize("verifier, gold, problem", [
    ("math", "not math ][", "cannot be parsed as a math answer"),
    ("math", "", "must be a non-empty string"),
    ("exact", "  ", "the gold answer is empty"),
])
def test_a_given_task_with_a_gold_the_verifier_cannot_use_is_refused_at_reset(registered, verifier, gold, problem):
    # was: accepted, and every step then valid=False ("unparsable gold answer")
    env = rlvr.make(registered("rlvr/AuditGiven-v0", dataset=ROWS, verifier=verifier))
    with pytest.raises(ValueError, match=rf"options\['task'\] has a gold answer the '{verifier}' verifier cannot use.*{problem}"):
        env.reset(options={"task": {"question": "q", "answer": gold}})


def test_a_given_task_gold_is_converted_as_a_dataset_column_is(registered):
    env = rlvr.make(registered("rlvr/AuditGivenGsm8k-v0", dataset=ROWS, verifier="math"))
    env.reset(options={"task": {"question": "q", "answer": "so it is #### 1,234"}})
    assert env.unwrapped.task.answer == "1234"
    assert env.step("\\boxed{1234}")[1] == 1.0
    env.reset(options={"task": {"question": "q", "answer": np.int64(7)}})
    assert env.unwrapped.task.answer == "7"
