"""Dataset and registered-task problems found only mid-training before (audit 36): a prompt
reassigned past the constructor's checks, typed gold answers written Python-style, a verifier that
cannot be called as fn(gold, completion), lone surrogates, streaming datasets, and rows whose
prompt is longer than `max_obs_chars`. Each is now refused (or read right) when the env is built."""

from __future__ import annotations

import decimal
import json
import warnings

import numpy as np
import pytest

import rlvr
from rlvr.envs.custom import DatasetEnv, GeneratorEnv
from rlvr.envs.math_env import MathEnv
from rlvr.envs import scoring
from rlvr.envs.scoring import resolve_verifier
from rlvr.envs.tasks import DatasetError

ROWS = [{"question": "2+2?", "answer": "4", "hint": "add"}, {"question": "3+3?", "answer": "6"}]


@pytest.fixture
def registered():
    """`rlvr.register` with force=True; the ids are unregistered afterwards."""
    import gymnasium as gym

    ids = []

    def register(env_id, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ids.append(rlvr.register(env_id, force=True, **kwargs))
        return ids[-1]

    yield register
    for env_id in ids:
        gym.registry.pop(env_id, None)


# ------------------------------------------------------------------ 1. a reassigned prompt is checked


@pytest.mark.parametrize("prompt, match", [
    ("{question} (gold: {answer})", "names '{answer}'"),
    ("{question} Hint: {hint}", "row 1: column 'hint' is missing"),
    ("{question} {nosuch}", "nosuch"),
    ("\\boxed{}", "an empty field"),
])
def test_a_reassigned_dataset_prompt_is_checked_as_the_constructor_checks_it(prompt, match):
    env = DatasetEnv(ROWS, verifier="exact")
    with pytest.raises(ValueError, match=match):
        DatasetEnv(ROWS, verifier="exact", prompt=prompt)
    with pytest.raises(ValueError, match=match):
        env.prompt = prompt
    assert env.prompt == "{question}"  # left as it was
    obs, info = env.reset(options={"index": 1})
    assert obs == "3+3?" and info["fingerprint"]["settings"]["prompt"] == "{question}"
    env.prompt = "Q: {question}"  # a good one is still taken
    assert env.reset(options={"index": 0})[0] == "Q: 2+2?"


def test_a_reassigned_generator_prompt_is_checked_against_a_task():
    def gen(rng):
        a = int(rng.integers(9))
        return {"question": f"{a}+1?", "answer": str(a + 1)}

    env = GeneratorEnv(gen)
    for bad in ("{question} => {answer}", "{question} {level}"):
        with pytest.raises(ValueError):
            env.prompt = bad
    assert env.prompt == "{question}"
    assert "=>" not in env.reset(seed=0)[0]


# ------------------------------------------------------------------ 2. typed gold answers


def test_a_float32_column_is_read_as_the_data_writes_it(tmp_path):
    pd = pytest.importorskip("pandas")
    path = tmp_path / "f32.parquet"
    pd.DataFrame({"question": ["a?", "b?", "c?"],
                  "answer": np.array([0.1, 2.7, 1e20], dtype="float32")}).to_parquet(path)
    env = MathEnv(str(path))
    assert [t.answer for t in env.source.tasks] == ["0.1", "2.7", "1e+20"]
    env.reset(options={"index": 0})
    assert env.step("\\boxed{0.1}")[1] == 1.0
    exact = DatasetEnv(str(path), verifier="exact")
    assert [t.answer for t in exact.source.tasks] == [0.1, 2.7, 1e20]  # floats, as the data holds them
    for index, answer in enumerate(["0.1", "2.7", "100000000000000000000"]):
        exact.reset(options={"index": index})
        assert exact.step(f"<answer>{answer}</answer>")[1] == 1.0


def test_exact_golds_that_are_not_text_are_written_as_the_data_writes_them(tmp_path):
    path = tmp_path / "bool.jsonl"
    path.write_text('{"question": "Is 2 prime?", "answer": true}\n{"question": "n?", "answer": 3.0}\n'
                    '{"question": "m?", "answer": 12}\n{"question": "x?", "answer": 0.25}\n')
    env = DatasetEnv(str(path), verifier="exact")
    assert [t.answer for t in env.source.tasks] == [True, 3.0, 12, 0.25]  # as the file holds them
    for index, answer in enumerate(["true", "3", "12", "0.25"]):
        env.reset(options={"index": index})
        assert env.step(f"<answer>{answer}</answer>")[1] == 1.0, answer
    assert env.reset(options={"task": {"question": "q?", "answer": False}})[0] == "q?"
    assert env.step("<answer>false</answer>")[1] == 1.0
    env.reset(options={"index": 1})
    assert env.step("<answer>3.0</answer>")[1] == 0.0  # one text per gold: a whole number is its digits
    assert env.verifier_fingerprint()["settings"]["gold_rules"] == scoring.EXACT_GOLD_RULES


def test_exact_gold_text_of_numbers():
    exact_gold = scoring.exact_gold
    assert exact_gold(np.float32(0.1)) == "0.1"
    assert exact_gold(np.float16(0.1)) == "0.1"
    assert exact_gold(-0.0) == "0"
    assert exact_gold(decimal.Decimal("4.00")) == "4"
    assert exact_gold(decimal.Decimal("3.50")) == "3.5"
    assert exact_gold(np.int64(7)) == "7" and exact_gold(np.bool_(False)) == "false"
    assert exact_gold(1e300) == "1e+300" and exact_gold(" 5 ") == " 5 "


def test_a_generators_answers_for_the_exact_verifier_are_written_as_text():
    env = GeneratorEnv(lambda rng: {"question": "half of 6?", "answer": 6 / 2})
    env.reset(seed=0)
    assert env.step("<answer>3</answer>")[1] == 1.0


# ------------------------------------------------------------------ 3. a callable verifier's signature


def _needs_task(gold, completion, task):
    return 1.0


def _tolerant(gold, completion, tol=0.0):
    return float(gold in completion)


@pytest.mark.parametrize("verifier, settings, match", [
    (lambda completion: 1.0, {}, "too many positional arguments"),
    (_needs_task, {}, "missing a required argument: 'task'"),
    (_tolerant, {"tolerance": 0.1}, "unexpected keyword argument 'tolerance'"),
])
def test_a_verifier_that_cannot_take_gold_and_completion_is_refused_at_register(registered, verifier, settings, match):
    with pytest.raises(TypeError, match=match) as raised:
        registered("rlvr/Audit36Sig-v0", dataset=ROWS, verifier=verifier, verifier_settings=settings)
    assert "cannot be called as" in str(raised.value)
    with pytest.raises(TypeError, match=match):
        DatasetEnv(ROWS, verifier=verifier, verifier_settings=settings)


def test_verifiers_that_can_be_called_are_accepted(registered):
    def with_timeout(gold, completion, *, timeout):
        return gold in completion

    for verifier, settings in [(_tolerant, {"tol": 0.1}), (lambda *args, **kw: 1.0, {"x": 1}),
                               (with_timeout, {"timeout": 5}), (_tolerant, {"timeout": 5}), (max, {})]:
        resolve_verifier(verifier, **settings)
    registered("rlvr/Audit36SigOk-v0", dataset=ROWS, verifier=_tolerant, verifier_settings={"tol": 0.5})
    env = rlvr.make("rlvr/Audit36SigOk-v0")
    env.reset(options={"index": 0})
    assert env.step("<answer>4</answer>")[4]["valid"]


# ------------------------------------------------------------------ 4. lone surrogates


def test_a_lone_surrogate_is_refused_at_load_naming_the_row(tmp_path):
    path = tmp_path / "surrogate.jsonl"
    path.write_text('{"question": "ok?", "answer": "3"}\n{"question": "What is 1+1? \\ud83d", "answer": "2"}\n')
    with pytest.raises(DatasetError, match=r"row 1: column 'question' holds '\\ud83d' at character 13"):
        MathEnv(str(path))
    with pytest.raises(DatasetError, match="row 0: column 'question'"):
        DatasetEnv([{"question": "Q \ud800", "answer": "1"}], verifier="exact")
    with pytest.raises(DatasetError, match="row 0: column 'topic'"):
        DatasetEnv([{"question": "Q", "answer": "1", "topic": "x\udc00"}], verifier="exact", prompt="{topic}: {question}")
    env = DatasetEnv([{"question": "Q é 😀", "answer": "1"}], verifier="exact")  # whole characters are fine
    with pytest.raises(ValueError, match="lone surrogate"):
        env.reset(options={"task": {"question": "Q \ud83d", "answer": "1"}})
    with pytest.raises(ValueError, match="lone surrogate"):
        GeneratorEnv(lambda rng: {"question": "Q \ud83d", "answer": "1"})


# ------------------------------------------------------------------ 5. streaming datasets


def test_a_streaming_dataset_is_refused_at_register_and_make(registered):
    datasets = pytest.importorskip("datasets")
    ids = datasets.Dataset.from_list([{"question": "1+1?", "answer": "2"}]).to_iterable_dataset()
    with pytest.raises(DatasetError, match="streaming datasets.IterableDataset.*streaming=True"):
        registered("rlvr/Audit36Stream-v0", dataset=ids)
    with pytest.raises(DatasetError, match="streaming"):
        DatasetEnv(ids)
    with pytest.raises(DatasetError, match="streaming datasets.IterableDatasetDict"):
        DatasetEnv(datasets.IterableDatasetDict({"train": ids}))


# ------------------------------------------------------------------ 6. prompts longer than max_obs_chars


def test_a_row_whose_prompt_is_too_long_is_refused_when_the_env_is_built():
    rows = [{"question": "short?", "answer": "1"}] * 5 + [{"question": "x" * 200, "answer": "2", "n": 1}]
    with pytest.raises(DatasetError, match=r"row 5 .*has 200 characters, more than max_obs_chars=100.*max_obs_chars=200"):
        DatasetEnv(rows, verifier="exact", max_obs_chars=100)
    rendered = len(MathEnv(rows).make_prompt(MathEnv(rows).source.tasks[5]))
    assert rendered == 240
    with pytest.raises(DatasetError, match=r"row 5 .*has 240 characters.*max_obs_chars=240"):  # Math-v0's prompt
        MathEnv(rows, max_obs_chars=200)
    with pytest.raises(DatasetError, match=r"row 5 .*has 204 characters"):  # a template with other fields
        DatasetEnv([dict(r, n=1) for r in rows], verifier="exact", prompt="{question} ({n})", max_obs_chars=200)
    env = DatasetEnv(rows, verifier="exact", max_obs_chars=200)  # it fits
    with pytest.raises(DatasetError, match="row 5"):  # and the reassigned settings are checked too
        env.max_obs_chars = 199
    with pytest.raises(DatasetError, match="row 5"):
        env.prompt = "Q: {question}"
    assert env.max_obs_chars == 200 and env.prompt == "{question}"
    assert env.reset(options={"index": 5})[0] == "x" * 200


def test_the_repro_of_a_huge_row_fails_at_build_for_math_v0():
    rows = [{"question": "short?", "answer": "1"}] * 3 + [{"question": "x" * 300, "answer": "2"}]
    with pytest.raises(DatasetError, match="row 3"):
        rlvr.make("rlvr/Math-v0", dataset=rows, max_obs_chars=300)


# ------------------------------------------------------------------ optional: NaN in a given task's field


def test_a_given_task_with_nan_in_a_template_field_is_refused():
    env = DatasetEnv([{"question": "a?", "answer": "1", "points": 5}], verifier="exact", prompt="{question} ({points} points)")
    with pytest.raises(ValueError, match="'points' is nan"):
        env.reset(options={"task": {"question": "c?", "answer": "3", "points": float("nan")}})
    assert json.dumps(env.reset(options={"index": 0})[0]) == '"a? (5 points)"'


# ------------------------------------------------------------------ review of 202ab2c: no false refusals


def test_an_array_in_a_template_field_still_renders():
    # rows from df.to_dict("records") (what the DataFrame error advises) hold list columns as arrays;
    # the NaN check compared the array with itself and raised "truth value ... is ambiguous"
    rows = [{"question": "Pick the even one", "answer": "B", "choices": np.array(["A) 1", "B) 2"])}]
    env = DatasetEnv(rows, verifier="exact", prompt="{question}\nChoices: {choices}")
    prompt, _ = env.reset(seed=0)
    assert prompt == "Pick the even one\nChoices: ['A) 1' 'B) 2']"
    with pytest.raises(ValueError, match="nan|NaN|None"):  # a float NaN is still no value
        env.reset(options={"task": {"question": "q", "answer": "A", "choices": float("nan")}})


def test_a_wrapper_verifier_is_checked_by_its_own_signature():
    import functools

    def supplying(answer):
        def decorate(fn):
            @functools.wraps(fn)
            def wrapper(gold, completion):
                return fn(gold, completion, answer)
            return wrapper
        return decorate

    @supplying("ignored")
    def verifier(gold, completion, answer):
        return float(completion.strip() == gold)

    env = DatasetEnv([{"question": "2+2?", "answer": "4"}], verifier=verifier)
    env.reset(seed=0)
    assert env.step("4")[1] == 1.0


def test_a_subclass_with_its_own_make_prompt_is_not_measured_by_the_template():
    class Clipped(DatasetEnv):
        def make_prompt(self, task):
            return "Q: " + task.question[-100:]  # only the tail of a long context

    env = Clipped([{"question": "x" * 5000 + " what is 1+1?", "answer": "2"}], verifier="exact", max_obs_chars=1000)
    prompt, _ = env.reset(seed=0)
    assert len(prompt) == 103
