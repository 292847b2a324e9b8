"""API audit 35b: a caller's mistake reported as such, before anything runs or is written.

- `Sandbox.run_many` made a `Job` (the exported "one program to run") and a misspelt keyword a
  `sandbox_error` result (the infrastructure's failure), while `run` raised for the same mistake;
- `evaluate_engine` / `evaluate_completions` checked `confidence` and `ci_method` only for the
  summary, after every sample was drawn and run.json written;
- `rlvr.register` took a pandas DataFrame or a dict of columns as `dataset=`, which every make refused;
- `load_config(path, "train.total_steps=7")` read the string character by character.
"""

from __future__ import annotations

import os

import pytest

import rlvr
from rlvr.benchmarks.estimators import aggregate
from rlvr.benchmarks.evaluate import evaluate_completions, evaluate_engine
from rlvr.envs.tasks import DatasetError
from rlvr.sandbox import Job
from rlvr.sandbox.base import Sandbox
from rlvr.sandbox.limits import Limits
from rlvr.sandbox.result import ExecResult
from rlvr.trainers.config import load_config
from rlvr.trainers.engine import Sample
from conftest import get_sandbox, TEST_LIMITS, write_jsonl


# -- 1. run_many: Job objects run; bad arguments raise before any job runs --------------------------
@pytest.fixture
def box():
    return get_sandbox("subprocess", **TEST_LIMITS)


def test_run_many_runs_job_objects(box):
    results = box.run_many([Job(code="print(42)"), Job(code="print(input())", stdin="hi\n"), "print(1)"])
    assert [(r.status, r.stdout) for r in results] == [("ok", "42\n"), ("ok", "hi\n"), ("ok", "1\n")]


@pytest.mark.parametrize("bad, error, words", [
    ({"code": "print(1)", "timout": 1}, TypeError, "timout"),
    ({"code": "print(1)", "language": "cobol"}, ValueError, "cobol"),
    ({"code": "print(1)", "timeout": -1}, ValueError, "timeout"),
    ({"stdin": "x"}, TypeError, "code"),
    (42, TypeError, "int"),
])
def test_run_many_raises_for_a_bad_job_before_running_any(box, tmp_path, bad, error, words):
    marker = tmp_path / "ran"  # (the subprocess backend does not isolate: a job that ran leaves it)
    first = f"open({str(marker)!r}, 'w').write('x')"
    with pytest.raises(error, match=words) as caught:
        box.run_many([first, bad], concurrency=2)
    assert "job 1" in str(caught.value)
    assert not marker.exists()  # nothing ran
    with pytest.raises(error):  # as `run` itself raises for it
        box.run(**bad) if isinstance(bad, dict) else box.run(bad)


class _Broken(Sandbox):
    """A backend whose execution itself fails (its infrastructure, not the caller's arguments)."""

    name = "broken"

    def _execute(self, job: Job, limits: Limits) -> ExecResult:
        if job.code == "boom":
            raise RuntimeError("worker lost")
        return ExecResult("ok", 0, job.code, "", 0.0, backend=self.name)


def test_run_many_keeps_an_infrastructure_failure_a_sandbox_error_of_that_job():
    results = _Broken().run_many(["boom", "fine", Job(code="also")], concurrency=2)
    assert results[0].status == "sandbox_error" and "worker lost" in results[0].message
    assert [(r.status, r.stdout) for r in results[1:]] == [("ok", "fine"), ("ok", "also")]


# -- 2. confidence and ci_method: refused before sampling or writing --------------------------------
GSM_ROWS = [{"question": f"What is {a} + 0?", "answer": f"{a} + 0 = {a}\n#### {a}"} for a in (18, 3)]


class _Engine:
    def __init__(self):
        self.drawn = 0

    def generate_chat(self, conversations, n, sampling, tools=None):
        self.drawn += len(conversations) * n
        return [[Sample([], [], "stop", "\\boxed{18}") for _ in range(n)] for _ in conversations]

    def close(self):
        pass


BAD_CI = [({"confidence": 95}, "confidence"), ({"confidence": float("nan")}, "confidence"),
          ({"ci_method": "Bootstrap"}, "bootstrap")]


@pytest.mark.parametrize("bad, words", BAD_CI)
def test_evaluate_engine_refuses_a_bad_ci_option_before_sampling_or_writing(tmp_path, bad, words):
    data = write_jsonl(tmp_path / "gsm8k.jsonl", GSM_ROWS)
    engine, out = _Engine(), tmp_path / "out"
    with pytest.raises(ValueError, match=words):
        evaluate_engine("gsm8k", engine, str(out), data=data, n=2, ks=[1, 2], engine_name="fake", model_name="m",
                        progress=False, verbose=False, **bad)
    assert engine.drawn == 0
    assert not out.exists() or os.listdir(out) == []


@pytest.mark.parametrize("bad, words", BAD_CI)
def test_evaluate_completions_refuses_a_bad_ci_option_before_writing(tmp_path, bad, words):
    data = write_jsonl(tmp_path / "gsm8k.jsonl", GSM_ROWS)
    comp = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "0", "completion": "\\boxed{18}"}])
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=words):
        evaluate_completions("gsm8k", comp, str(out), data=data, progress=False, verbose=False, **bad)
    assert not out.exists() or os.listdir(out) == []


def test_aggregate_applies_the_same_check():
    from rlvr.benchmarks.estimators import check_ci  # (the check evaluation runs make first)

    for bad in BAD_CI:
        options = {"confidence": bad[0].get("confidence", 0.95), "method": bad[0].get("ci_method", "normal")}
        with pytest.raises(ValueError, match=bad[1]):
            check_ci(**options)
        with pytest.raises(ValueError, match=bad[1]):
            aggregate([0.5, 1.0], **options)
    assert aggregate([0.5, 1.0], confidence=0.9, method="bootstrap")["method"] == "bootstrap"


# -- 3. register: a dataset= of a kind no make reads is refused when registered ---------------------
@pytest.mark.parametrize("dataset", [
    pytest.param("dataframe", id="pandas.DataFrame"),
    pytest.param({"q": ["1+1?"], "a": ["2"]}, id="dict of columns"),
    pytest.param(42, id="int"),
])
def test_register_refuses_a_dataset_kind_make_never_reads(registered, dataset):
    if dataset == "dataframe":
        pd = pytest.importorskip("pandas")
        dataset = pd.DataFrame([{"q": "1+1?", "a": "2"}])
    with pytest.raises(DatasetError, match="list of dicts"):
        registered("rlvr/Audit35bKind-v0", dataset=dataset, question_key="q", answer_key="a")
    with pytest.raises(DatasetError, match="list of dicts"):  # as make refuses it
        rlvr.make("rlvr/Math-v0", dataset=dataset)


def test_register_still_takes_rows_and_a_file(registered, tmp_path):
    rows = [{"q": "1+1?", "a": "2"}]
    for data in (rows, write_jsonl(tmp_path / "rows.jsonl", rows)):
        env_id = registered("rlvr/Audit35bRows-v0", dataset=data, question_key="q", answer_key="a")
        assert "1+1?" in rlvr.make(env_id).reset(seed=0)[0]


# -- 5. load_config's overrides: a list, never a string read character by character ----------------
@pytest.mark.parametrize("overrides", ["train.total_steps=7", {"train.total_steps": 7}, [7]])
def test_load_config_refuses_overrides_that_are_no_list_of_strings(overrides):
    with pytest.raises(TypeError, match=r"list of 'key=value' strings"):
        load_config(None, overrides)


def test_load_config_takes_a_list_tuple_or_generator_of_overrides():
    assert load_config(None, ["train.total_steps=7"]).train.total_steps == 7
    assert load_config(None, ("train.total_steps=8",)).train.total_steps == 8
    assert load_config(None, (f"train.total_steps={n}" for n in (9,))).train.total_steps == 9
