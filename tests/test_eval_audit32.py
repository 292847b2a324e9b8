"""Audit 32 (rlvr eval): a benchmark's kind="math" no longer overrides its env's verifier; a
--completions run takes the --out lock; a problem whose prompt does not fit the model's context is
skipped (and named), not fatal, with token-level and chat-level engines alike."""

from __future__ import annotations

import fcntl
import json
import os

import pytest

import rlvr
from rlvr.benchmarks import evaluate_completions, register_benchmark
from rlvr.benchmarks.evaluate import OutDirError, evaluate_engine
from rlvr.benchmarks.registry import load_benchmark
from rlvr.benchmarks.samples import write_sample
from rlvr.benchmarks.scoring import score_completions, scores_with_math
from rlvr.cli import main
from rlvr.commands.serve import ChatCompletionServer
from rlvr.trainers.engine import SamplingParams
from rlvr.trainers.hf_chat import HFChatEngine
from rlvr.trainers.openai_engine import OpenAIEngine
from rlvr.trainers.rollout import PromptTooLongError, RolloutCollector
from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer

LONG = "Count: " + "one two three " * 120 + "How many words?"


# ---- 1. kind="math" over an env scored by another verifier ------------------------------------


def test_kind_math_scores_with_the_envs_own_verifier_and_keeps_maj_at_k(tmp_path):
    data = tmp_path / "qa.jsonl"
    data.write_text(json.dumps({"q": "Give 'cat' in capitals.", "a": "CAT"}) + "\n"
                    + json.dumps({"q": "Half of one, as a fraction.", "a": "1/2"}) + "\n")
    rlvr.register("rlvr/ExactQA32-v0", dataset=str(data), question_key="q", answer_key="a", verifier="exact", force=True)
    register_benchmark("exactqa32", "rlvr/ExactQA32-v0", kind="math", force=True)
    completions = tmp_path / "c.jsonl"
    texts = ["\\boxed{cat}", "\\boxed{0.5}"]
    completions.write_text("".join(json.dumps({"task_id": str(i), "completion": t}) + "\n" for i, t in enumerate(texts)))
    result = evaluate_completions("exactqa32", str(completions), str(tmp_path / "out"), progress=False, verbose=False)
    rows = [json.loads(line) for line in (tmp_path / "out" / "samples.jsonl").read_text().splitlines()]
    loaded = load_benchmark("exactqa32")
    own = score_completions(loaded.env, "env", loaded.tasks, texts)  # the env's verdicts, stepped
    assert [r["correct"] for r in rows] == [v.correct for v in own] == [False, False]
    assert "maj@1" in result["metrics"]  # what kind="math" is for
    assert not scores_with_math(loaded.env)


def test_the_math_fast_path_still_serves_math_envs(tmp_path):
    loaded = load_benchmark("gsm8k", data=write_sample("gsm8k", str(tmp_path / "g.jsonl")))
    assert scores_with_math(loaded.env)
    [v] = score_completions(loaded.env, "math", loaded.tasks[:1], ["\\boxed{" + str(loaded.tasks[0].answer) + "}"])
    assert v.correct


# ---- 2. --completions takes the --out lock ----------------------------------------------------


def test_a_completions_run_is_refused_while_another_run_holds_the_folder(tmp_path, capsys):
    data = write_sample("gsm8k", str(tmp_path / "g.jsonl"))
    out = tmp_path / "out"
    out.mkdir()
    completions = tmp_path / "c.jsonl"
    completions.write_text(json.dumps({"task_id": "0", "completion": "\\boxed{0}"}) + "\n")
    fd = os.open(out / ".lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as another run's process holds it
        with pytest.raises(OutDirError, match="in use"):
            evaluate_completions("gsm8k", str(completions), str(out), data=data, progress=False, verbose=False)
        code = main(["eval", "--benchmark", "gsm8k", "--completions", str(completions), "--out", str(out),
                     "--data", data, "--no-progress"])
        assert code == 2 and "in use" in capsys.readouterr().err
        assert not (out / "samples.jsonl").exists()
    finally:
        os.close(fd)
    # released: the run goes ahead, and gives the lock back when done
    evaluate_completions("gsm8k", str(completions), str(out), data=data, progress=False, verbose=False)
    evaluate_completions("gsm8k", str(completions), str(out), data=data, progress=False, verbose=False)
    assert (out / "samples.jsonl").exists()


# ---- 3. prompts longer than the model's context ----------------------------------------------


def _data(tmp_path, questions):
    path = tmp_path / "g.jsonl"
    path.write_text("".join(json.dumps({"question": q, "answer": "#### 4"}) + "\n" for q in questions))
    return str(path)


@pytest.fixture(scope="module")
def engine():
    tok = build_tiny_tokenizer("chatml")
    return HFChatEngine(build_tiny_model(tok, seed=0, max_position_embeddings=256), tok), tok


def _collector(engine, tmp_path, questions, chat_level_url=None):
    env = load_benchmark("gsm8k", data=_data(tmp_path, questions)).env
    import copy

    if chat_level_url:
        return RolloutCollector(OpenAIEngine(chat_level_url), lambda: copy.copy(env), None)
    return RolloutCollector(engine[0], lambda: copy.copy(env), engine[1])


def test_rollouts_name_every_prompt_that_does_not_fit(engine, tmp_path):
    questions = ["What is 2+2?", LONG, "What is 3+3?", LONG + " Again?"]
    sampling = SamplingParams(temperature=0, max_new_tokens=4, seed=0)
    with pytest.raises(PromptTooLongError) as caught:
        _collector(engine, tmp_path, questions).collect([0, 1, 2, 3], 2, sampling)
    exc = caught.value
    assert isinstance(exc, ValueError)  # callers catching ValueError behave as before
    assert exc.positions == [1, 3] and exc.task_ids == ["1", "3"]
    assert all("leaving no room to generate within max_context_tokens=256" in r for r in exc.reasons)
    assert "sampling.max_context_tokens" not in str(exc) and "the model's context by default" in str(exc)
    with pytest.raises(PromptTooLongError) as caught:  # positions index the task list given, whatever start_group
        _collector(engine, tmp_path, questions).collect([3, 0], 1, sampling, start_group=7)
    assert caught.value.positions == [0] and caught.value.task_ids == ["3"]
    with ChatCompletionServer(engine[0], "m", "127.0.0.1", 0) as srv:
        collector = _collector(engine, tmp_path, questions, srv.url)
        with pytest.raises(PromptTooLongError) as caught:
            collector.collect([0, 1, 2, 3], 1, sampling)
        assert caught.value.positions == [1, 3]
        assert all("fills the model's context of 256 tokens" in r for r in caught.value.reasons)
        # every conversation refused: still each its own prompt too long (review 32), not a setting
        with pytest.raises(PromptTooLongError) as caught:
            collector.collect([1, 3], 1, sampling)
        assert caught.value.positions == [0, 1] and caught.value.groups == [None, None]
        assert len(collector.collect([0, 2], 1, sampling)) == 2


@pytest.mark.parametrize("level", ["token", "chat"])
def test_eval_skips_problems_whose_prompt_does_not_fit_and_keeps_the_others(engine, tmp_path, level, capsys):
    data = _data(tmp_path, ["What is 2+2?", LONG, "What is 3+3?", "What is 1+3?"])
    out = str(tmp_path / "out")

    def run(**kwargs):
        if level == "token":
            return evaluate_engine("gsm8k", engine[0], out, tokenizer=engine[1], data=data, n=2, ks=[1], temperature=0.6,
                                   max_tokens=4, seed=0, engine_name="hf", model_name="tiny", progress=False, **kwargs)
        with ChatCompletionServer(engine[0], "m", "127.0.0.1", 0) as srv:
            return evaluate_engine("gsm8k", OpenAIEngine(srv.url), out, data=data, n=2, ks=[1], temperature=0.6,
                                   max_tokens=4, seed=0, engine_name="openai", model_name="m", progress=False, **kwargs)

    result = run()
    rows = [json.loads(line) for line in open(os.path.join(out, "samples.jsonl"))]
    assert sorted({r["task_id"] for r in rows}) == ["0", "2", "3"] and len(rows) == 6
    # each kept sample has the seed of its own number (j * N + t), not a neighbour's
    assert sorted((r["task_id"], r["sample_index"], r["seed"]) for r in rows) == [
        ("0", 0, 0), ("0", 1, 4), ("2", 0, 2), ("2", 1, 6), ("3", 0, 3), ("3", 1, 7)]
    assert result.exit_code == 0 and result["counts"]["skipped"] == 1 and result["counts"]["problems"] == 3
    [skip] = result["skipped"]
    assert skip["task_id"] == "1" and "prompt longer than the model's context" in skip["reason"]
    assert "256" in skip["reason"]
    summary = json.load(open(os.path.join(out, "summary.json")))
    assert summary["skipped"] == result["skipped"]
    assert any("1 of 4 problems were SKIPPED" in w and "other 3 problems" in w for w in summary["warnings"])
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].startswith("1 of 4 problems SKIPPED")  # the last word of the report
    # a rerun skips it again without asking the engine (nothing left to draw), and says so again
    again = run()
    assert again["skipped"] == result["skipped"] and again["timing"]["scored_now"] == 0
    assert len(open(os.path.join(out, "samples.jsonl")).read().splitlines()) == 6


def test_a_skip_record_made_under_other_settings_is_not_reused(engine, tmp_path):
    data = _data(tmp_path, [LONG])
    out = tmp_path / "out"

    def run(max_tokens):
        return evaluate_engine("gsm8k", engine[0], str(out), tokenizer=engine[1], data=data, n=1, ks=[1],
                               temperature=0.0, max_tokens=max_tokens, seed=0, engine_name="hf", model_name="tiny",
                               progress=False, verbose=False)

    first = run(4)
    assert first.exit_code == 2 and first["counts"]["skipped"] == 1 and "1 skipped" in first["error"]
    assert (out / "skipped.json").exists()
    # no sample binds the folder, so another run may take it: the old record is not its own
    from rlvr.benchmarks.identity import read_skipped
    run_json = (out / "run.json").read_text()
    (out / "run.json").write_text(run_json.replace('"max_tokens": 4', '"max_tokens": 5'))
    assert read_skipped(str(out)) == {}
