"""Audit 31: held-out evaluation by question content, unused algorithm settings, the data order's
cost, and procedural benchmarks without repeated questions.

Task ``i`` of a procedural env is made from seed ``i``, so disjoint index ranges can still ask the
same question: with one-digit addition (100 questions) the evaluation set repeated itself and
training drew its questions. The held-out set is now distinct questions, and training and the
warm-up skip every task that asks one of them.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter

import numpy as np
import pytest

import rlvr
from rlvr.benchmarks.registry import DISTINCT_SELECTION, load_benchmark, register_benchmark
from rlvr.benchmarks.data import BenchmarkDataError
from rlvr.trainers import trainer as trainer_module
from rlvr.trainers.checkpoint import latest_checkpoint
from rlvr.trainers.config import ConfigError, ConfigWarning, load_config
from rlvr.trainers.trainer import Trainer
from rlvr.trainers.warmup import WARMUP_OFFSET, pool_indices, warmup_task_range

ONE_DIGIT = "env.kwargs={format: compact, digits: 1}"  # 10 x 10 = 100 distinct questions

rlvr.register("rlvr/Audit31Three-v0", generator=lambda rng: {"question": f"{int(rng.integers(3))}+0=", "answer": "0"},
              verifier=lambda gold, completion: float(completion.strip() == gold), force=True)


def make_config(out, *extra):
    return load_config(None, [
        f"log.output_dir={out}", "log.progress=false", "log.tensorboard=false", "log.plot=false",
        "env.id=rlvr/Arithmetic-v0", ONE_DIGIT, "sampling.max_new_tokens=3", "train.batch_groups=2",
        "train.group_size=2", "model.tiny_hidden_size=32", "model.tiny_layers=1", *extra,
    ])


def question(trainer, index, *, eval_env=False):
    env = rlvr.make(trainer.cfg.env.id, **{**trainer.cfg.env.kwargs, **(trainer.cfg.eval.env_kwargs if eval_env else {})})
    return env.unwrapped.source.get(index).question.strip()


def evaluated_indices(trainer):
    """The task indices `evaluate()` scores (read from what it hands its collector)."""
    seen = []
    collect = trainer.eval_collector.collect
    trainer.eval_collector.collect = lambda tasks, *a, **k: seen.extend(t["index"] for t in tasks) or collect(tasks, *a, **k)
    trainer.evaluate()
    trainer.eval_collector.collect = collect
    return seen


# ------------------------------------------------------------------------------------ held-out questions


def test_heldout_questions_are_distinct_and_training_never_draws_them(tmp_path):
    tr = Trainer(make_config(tmp_path, "eval.num_tasks=30"))
    try:
        scored = [question(tr, i, eval_env=True) for i in evaluated_indices(tr)]
        assert len(scored) == 30 and len(set(scored)) == 30, Counter(scored).most_common(3)
        trained = [question(tr, tr._next_task()["index"]) for _ in range(400)]
        assert not set(trained) & set(scored)
        assert len(set(trained)) == 70  # every other question is trained on
        assert tr.heldout_skipped > 0 and tr.task_counter == 400 + tr.heldout_skipped
        assert tr.summary(0.0)["heldout_questions"] == 30
    finally:
        tr.close()


def test_the_warmup_skips_heldout_questions(tmp_path):
    tr = Trainer(make_config(tmp_path, "eval.num_tasks=40", "warmup.steps=1", "warmup.batch_size=64"))
    try:
        held = {question(tr, i, eval_env=True) for i in evaluated_indices(tr)}
        env = tr.collector._envs(1)[0].unwrapped
        source = env.source
        indices, skipped = pool_indices(source, warmup_task_range(1, 64), tr.heldout_keys, env.make_prompt)
        assert len(indices) == 64 and indices[0] >= WARMUP_OFFSET and skipped > 0
        assert not {source.get(i).question.strip() for i in indices} & held
        stats = tr.run_warmup()
        assert stats["warmup_heldout_skipped"] == skipped
    finally:
        tr.close()


def test_a_task_space_all_held_out_is_a_config_error(tmp_path):
    # all 100 one-digit sums are held out: training could never draw a task
    with pytest.raises(ConfigError, match=r"ask one of the 100 questions held out for evaluation"):
        Trainer(make_config(tmp_path, "eval.num_tasks=100"))
    # a generator of 3 questions cannot give 5 distinct held-out ones
    with pytest.raises(ConfigError, match=r"eval\.num_tasks=5: the evaluation env makes only 3 distinct questions"):
        Trainer(make_config(tmp_path, "env.id=rlvr/Audit31Three-v0", "env.kwargs={}", "eval.num_tasks=5"))


def test_finite_dataset_training_skips_questions_of_its_heldout_tail(tmp_path):
    # tasks 8 and 9 (held out) ask what tasks 0 and 1 ask
    rows = [{"question": f"{i % 8}+0=", "answer": str(i % 8)} for i in range(10)]
    rlvr.register("rlvr/Audit31Ten-v0", dataset=rows, verifier=lambda gold, c: float(c.strip() == gold), force=True)
    tr = Trainer(make_config(tmp_path, "env.id=rlvr/Audit31Ten-v0", "env.kwargs={}", "eval.num_tasks=2"))
    try:
        assert evaluated_indices(tr) == [8, 9]
        assert {tr._next_task()["index"] for _ in range(30)} == set(range(2, 8))
    finally:
        tr.close()


def test_resume_draws_what_the_uninterrupted_run_draws(tmp_path):
    common = ("eval.num_tasks=50", "eval.before=false", "algorithm.dynamic_sampling=false", "train.batch_groups=4")

    def drawn_in_last_step(trainer):
        seen = []
        collect = trainer.collector.collect
        trainer.collector.collect = lambda tasks, *a, **k: seen.extend(t["index"] for t in tasks) or collect(tasks, *a, **k)
        trainer.train()
        trainer.close()
        return seen, trainer.task_counter, trainer.heldout_skipped

    whole = Trainer(make_config(tmp_path / "whole", "train.total_steps=3", *common))
    whole_seen, whole_counter, whole_skipped = drawn_in_last_step(whole)
    part = Trainer(make_config(tmp_path / "part", "train.total_steps=2", "log.save_every=1", *common))
    part.train()
    part.close()
    resumed = Trainer(make_config(tmp_path / "part", "train.total_steps=3", *common), resume=True)
    assert resumed.heldout_keys == whole.heldout_keys
    resumed_seen, resumed_counter, resumed_skipped = drawn_in_last_step(resumed)
    assert whole_seen[-4:] == resumed_seen and (whole_counter, whole_skipped) == (resumed_counter, resumed_skipped)
    assert whole_skipped > 0  # with 50 of 100 questions held out, skips are certain in 12 draws
    held = {question(whole, i, eval_env=True) for i in whole.eval_indices}
    assert not {question(whole, i) for i in whole_seen} & held
    summary = json.loads((tmp_path / "part" / "summary.json").read_text())
    assert summary["heldout_questions"] == 50 and summary["heldout_skipped_tasks"] == resumed_skipped
    state_keys = __import__("torch").load(latest_checkpoint(tmp_path / "part") / "trainer_state.pt", weights_only=False)
    assert sorted(state_keys["heldout_keys"]) == sorted(whole.heldout_keys)


# ------------------------------------------------------------------------------------ the data order


def test_a_pass_shuffles_once(tmp_path, monkeypatch):
    rows = [{"question": f"{i}+0=", "answer": str(i)} for i in range(50)]
    rlvr.register("rlvr/Audit31Fifty-v0", dataset=rows, verifier=lambda gold, c: float(c.strip() == gold), force=True)
    tr = Trainer(make_config(tmp_path, "env.id=rlvr/Audit31Fifty-v0", "env.kwargs={}", "train.seed=3"))
    calls = []
    real = np.random.default_rng
    monkeypatch.setattr(trainer_module.np.random, "default_rng", lambda *a: calls.append(a) or real(*a))
    try:
        drawn = [tr._next_task()["index"] for _ in range(120)]  # 2.4 passes
    finally:
        monkeypatch.undo()
        tr.close()
    expected = [int(real([3, k // 50]).permutation(50)[k % 50]) for k in range(120)]
    assert drawn == expected
    assert len(calls) <= 3  # one permutation per pass (the first may be made at start-up), not one per task


# ------------------------------------------------------------------------------------ unused settings


@pytest.mark.parametrize("overrides, message", [
    (["algorithm.estimator=rloo", "algorithm.scale_std=false"], r"scale_std=false does nothing with algorithm\.estimator=rloo"),
    (["algorithm.estimator=reinforce++-baseline", "algorithm.scale_std=false"], r"only grpo and process_grpo honour it"),
    (["algorithm.estimator=reinforce++", "algorithm.scale_std=false"], r"always divide by the batch's token std"),
    (["algorithm.overlong_coef=0.5"], r"overlong_coef=0\.5 does nothing: algorithm\.overlong_cache_len is 0"),
    (["algorithm.dynamic_sampling=false", "algorithm.ds_max_extra_rounds=5"], r"ds_max_extra_rounds=5 does nothing"),
    (["algorithm.kl_in=reward"], r"kl_in=reward does nothing: algorithm\.kl_coef is 0"),
    (["algorithm.kl_estimator=k1"], r"kl_estimator=k1 does nothing: algorithm\.kl_coef is 0"),
])
def test_algorithm_settings_that_take_no_effect_are_warned_about(overrides, message):
    with pytest.warns(ConfigWarning, match=message):
        load_config(None, overrides)


@pytest.mark.parametrize("overrides", [
    [], ["algorithm.scale_std=false"], ["algorithm.estimator=dr_grpo", "algorithm.scale_std=false"],
    ["algorithm.overlong_cache_len=4", "algorithm.overlong_coef=0.5"], ["algorithm.dynamic_sampling=false"],
    ["algorithm.kl_coef=0.1", "algorithm.kl_in=reward", "algorithm.kl_estimator=k1"],
])
def test_settings_in_use_or_left_at_their_defaults_are_not_warned_about(overrides):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConfigWarning)
        load_config(None, overrides)


# ------------------------------------------------------------------------------------ benchmarks


def test_a_procedural_benchmark_is_distinct_questions():
    register_benchmark("audit31-countdown", "rlvr/Countdown-v0", size=200, force=True)
    loaded = load_benchmark("audit31-countdown")
    questions = [t.question for t in loaded.tasks]
    assert len(questions) == 200 and len(set(questions)) == 200
    assert loaded.data_fingerprint["selection"] == DISTINCT_SELECTION  # an older results folder's identity differs
    register_benchmark("audit31-three", "rlvr/Audit31Three-v0", size=4, force=True)
    with pytest.raises(BenchmarkDataError, match=r"makes only 3 distinct questions .* size=4"):
        load_benchmark("audit31-three")


# ------------------------------------------------------------------------------------ review of audit 31


rlvr.register("rlvr/Audit31Gaps-v0", generator=lambda rng: {"question": f"{int(rng.integers(6))}+0=", "answer": "0"},
              verifier=lambda gold, completion: float(completion.strip() == gold), force=True)


def test_a_procedural_benchmark_runs_the_tasks_it_lists(tmp_path, monkeypatch):
    # six questions, repeated among the first indices: the distinct tasks are not indices 0..5
    from rlvr.cli import main
    from rlvr.envs.base import TextEnv

    register_benchmark("audit31-gaps", "rlvr/Audit31Gaps-v0", size=6, force=True)
    loaded = load_benchmark("audit31-gaps")
    asked = {t.id: t.question for t in loaded.tasks}
    assert [t.id for t in loaded.tasks] != [f"{t.id.rsplit('/', 1)[0]}/{i}" for i, t in enumerate(loaded.tasks)]  # gaps
    for t, task in enumerate(loaded.tasks):  # what every user of loaded.env runs for position t
        obs, _ = loaded.env.reset(options={"index": t})
        assert task.question in obs
    limited = load_benchmark("audit31-gaps", limit=3)
    assert [limited.env.source.get(t).id for t in range(3)] == [t.id for t in limited.tasks] == [t.id for t in loaded.tasks[:3]]

    seen = []
    reset = TextEnv.reset_facts

    def recording(self, *, seed=None, options=None):
        obs, facts = reset(self, seed=seed, options=options)
        seen.append((facts.task_id, obs))
        return obs, facts

    monkeypatch.setattr(TextEnv, "reset_facts", recording)
    for out, extra in ((tmp_path / "all", []), (tmp_path / "some", ["--limit", "4"])):
        seen.clear()
        assert main(["eval", "--benchmark", "audit31-gaps", "--engine", "hf", "--model", "tiny", "--device", "cpu",
                     "--temperature", "0", "--max-tokens", "2", "--n", "1", "--k", "1", "--out", str(out),
                     "--no-progress", *extra]) == 0
        assert seen and all(asked[task_id] in obs for task_id, obs in seen), seen
        rows = [json.loads(line)["task_id"] for line in (out / "samples.jsonl").read_text().splitlines()]
        assert sorted(rows) == sorted(task_id for task_id, _ in seen)


def test_heldout_questions_are_keyed_by_the_prompt_the_model_sees(tmp_path):
    # the question is generic; the content is in a column the prompt template shows
    rows = [{"question": "What is the number?", "context": f"The number is {i}.", "answer": str(i)} for i in range(40)]
    rlvr.register("rlvr/Audit31Ctx-v0", dataset=rows, prompt="{context} {question}",
                  verifier=lambda gold, c: float(c.strip() == gold), force=True)
    tr = Trainer(make_config(tmp_path / "ctx", "env.id=rlvr/Audit31Ctx-v0", "env.kwargs={}", "eval.num_tasks=8"))
    try:
        assert tr.eval_indices == list(range(32, 40))
        assert {tr._next_task()["index"] for _ in range(100)} == set(range(32))
    finally:
        tr.close()
    # half the rows generic, half not: none is lost to training or to the evaluation
    mixed = [({"question": "What is the number?", "context": f"The number is {i}.", "answer": str(i)} if i % 2 else
              {"question": f"What is {i}+0?", "context": "", "answer": str(i)}) for i in range(40)]
    rlvr.register("rlvr/Audit31CtxMixed-v0", dataset=mixed, prompt="{context} {question}",
                  verifier=lambda gold, c: float(c.strip() == gold), force=True)
    tr = Trainer(make_config(tmp_path / "mixed", "env.id=rlvr/Audit31CtxMixed-v0", "env.kwargs={}", "eval.num_tasks=8"))
    try:
        assert tr.eval_indices == list(range(32, 40))
        assert {tr._next_task()["index"] for _ in range(200)} == set(range(32))
    finally:
        tr.close()
    # a prompt callable, likewise
    rlvr.register("rlvr/Audit31CtxCall-v0", dataset=rows, prompt=lambda task: f"{task.meta['context']} {task.question}",
                  verifier=lambda gold, c: float(c.strip() == gold), force=True)
    tr = Trainer(make_config(tmp_path / "call", "env.id=rlvr/Audit31CtxCall-v0", "env.kwargs={}", "eval.num_tasks=8"))
    try:
        assert tr.eval_indices == list(range(32, 40))
    finally:
        tr.close()


def test_an_evaluation_in_another_format_holds_out_the_same_questions(tmp_path):
    # compact training prompts ("3+4="), chat evaluation prompts: the same sums, so still held out
    tr = Trainer(make_config(tmp_path, "eval.num_tasks=30", "eval.env_kwargs={format: chat}"))
    try:
        held = {question(tr, i, eval_env=True) for i in tr.eval_indices}
        assert len(held) == 30
        trained = {question(tr, tr._next_task()["index"]) for _ in range(300)}
        assert not trained & held and len(trained) == 70
    finally:
        tr.close()


def test_a_heldout_set_smaller_than_asked_is_said(tmp_path, capsys):
    rows = [{"question": f"{i % 8}+0=", "answer": str(i % 8)} for i in range(20)]  # tasks 16..19 ask what 0..3 ask
    test_rows = [{"question": "1+0=", "answer": "1"}] * 3 + [{"question": "2+0=", "answer": "2"}]
    rlvr.register("rlvr/Audit31Short-v0", dataset=rows, verifier=lambda gold, c: float(c.strip() == gold), force=True)
    tr = Trainer(make_config(tmp_path / "a", "env.id=rlvr/Audit31Short-v0", "env.kwargs={}", "eval.num_tasks=4"))
    tr.close()
    assert tr.eval_indices == [16, 17, 18, 19]
    assert "held out" in capsys.readouterr().err  # all distinct: nothing more said
    rows2 = [{"question": f"{i % 8}+0=", "answer": str(i % 8)} for i in range(16)] + test_rows
    rlvr.register("rlvr/Audit31Short-v0", dataset=rows2, verifier=lambda gold, c: float(c.strip() == gold), force=True)
    tr = Trainer(make_config(tmp_path / "b", "env.id=rlvr/Audit31Short-v0", "env.kwargs={}", "eval.num_tasks=4"))
    tr.close()
    assert tr.eval_indices == [16, 19]
    err = capsys.readouterr().err
    assert "eval.num_tasks=4, but the evaluation data holds 2 distinct questions" in err


def _one_step_run(out, *extra):
    tr = Trainer(make_config(out, "train.total_steps=1", "log.save_every=1", "eval.before=false", *extra))
    tr.train()
    tr.close()


def test_resuming_with_heldout_evaluation_a_run_that_held_none_out_is_a_resume_error(tmp_path):
    from rlvr.trainers.trainer import ResumeError

    rlvr.register("rlvr/Audit31TenB-v0", dataset=[{"question": f"{i}+0=", "answer": str(i)} for i in range(10)],
                  verifier=lambda gold, c: float(c.strip() == gold), force=True)
    data = ("env.id=rlvr/Audit31TenB-v0", "env.kwargs={}")
    _one_step_run(tmp_path, *data, "eval.num_tasks=0")
    with pytest.raises(ResumeError, match=r"eval\.num_tasks=3, but the run started with eval\.num_tasks=0.*"
                                          r"eval\.env_kwargs.*split: test.*or resume with eval\.num_tasks=0"):
        Trainer(make_config(tmp_path, *data, "eval.num_tasks=3", "train.total_steps=2"), resume=True)
    Trainer(make_config(tmp_path, *data, "eval.num_tasks=0", "train.total_steps=2"), resume=True).close()


def test_a_checkpoint_from_before_heldout_questions_is_said_and_summarised(tmp_path, capsys):
    import torch

    _one_step_run(tmp_path, "eval.num_tasks=30")
    path = latest_checkpoint(tmp_path) / "trainer_state.pt"
    state = torch.load(path, weights_only=False)
    for key in ("heldout_keys", "heldout_skipped", "heldout_key", "heldout_since_step"):
        state.pop(key, None)
    torch.save(state, path)
    capsys.readouterr()
    tr = Trainer(make_config(tmp_path, "eval.num_tasks=30", "eval.before=false", "log.save_every=1",
                             "train.total_steps=2"), resume=True)
    assert "predates held-out questions" in capsys.readouterr().err
    summary = tr.train()
    tr.close()
    assert summary["heldout_since_step"] == 2
    tr = Trainer(make_config(tmp_path, "eval.num_tasks=30", "eval.before=false", "train.total_steps=3"), resume=True)
    try:
        assert tr.heldout_since_step == 2  # kept by the later checkpoints
        assert "predates" not in capsys.readouterr().err
    finally:
        tr.close()
    fresh = Trainer(make_config(tmp_path / "fresh", "eval.num_tasks=30"))
    fresh.close()
    assert "heldout_since_step" not in fresh.summary(0.0)


def test_too_few_distinct_questions_names_the_envs_own_settings(tmp_path):
    with pytest.raises(ConfigError, match=r"only 100 distinct questions .*more questions \(digits, terms, ops, allow_negative\)"):
        Trainer(make_config(tmp_path, "eval.num_tasks=120"))
    with pytest.raises(ConfigError, match=r"only 3 distinct questions") as error:
        Trainer(make_config(tmp_path, "env.id=rlvr/Audit31Three-v0", "env.kwargs={}", "eval.num_tasks=5"))
    assert "digits" not in str(error.value)


# ------------------------------------------------------------------------------------ review of audit 31, round 2


def _drawing_run(trainer):
    """Train ``trainer`` to its end; the task indices of each generation round, its data position
    and skip count, and its summary."""
    seen = []
    collect = trainer.collector.collect
    trainer.collector.collect = lambda tasks, *a, **k: seen.append([t["index"] for t in tasks]) or collect(tasks, *a, **k)
    summary = trainer.train()
    trainer.close()
    return seen, trainer.task_counter, trainer.heldout_skipped, summary


_GROWN = ("eval.before=false", "algorithm.dynamic_sampling=false", "train.batch_groups=8", "log.save_every=1")


@pytest.mark.parametrize("before", [0, 30])
def test_resuming_with_more_heldout_questions_skips_the_new_ones_from_then_on(tmp_path, capsys, before):
    import shutil

    _one_step_run(tmp_path / "a", f"eval.num_tasks={before}", "algorithm.dynamic_sampling=false", "train.batch_groups=8")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    capsys.readouterr()
    tr = Trainer(make_config(tmp_path / "a", "train.total_steps=3", "eval.num_tasks=50", *_GROWN), resume=True)
    err = capsys.readouterr().err
    assert f"{50 - before} of the 50 questions evaluated now were not held out of training" in err
    assert "training skips them from step 2 on (summary: heldout_since_step)" in err
    seen, counter, skipped, summary = _drawing_run(tr)
    held = {question(tr, i, eval_env=True) for i in tr.eval_indices}
    assert len(held) == 50 and not {question(tr, i) for batch in seen for i in batch} & held
    assert summary["heldout_since_step"] == 2 and summary["heldout_questions"] == 50
    assert json.loads((tmp_path / "a" / "summary.json").read_text())["heldout_since_step"] == 2
    # the grown set is the run's own from then on: a resume with unchanged settings draws what the
    # uninterrupted run drew, and keeps the step the set grew at
    Trainer(make_config(tmp_path / "b", "train.total_steps=2", "eval.num_tasks=50", *_GROWN), resume=True).train()
    capsys.readouterr()
    again = Trainer(make_config(tmp_path / "b", "train.total_steps=3", "eval.num_tasks=50", *_GROWN), resume=True)
    assert "were not held out" not in capsys.readouterr().err
    seen_b, counter_b, skipped_b, summary_b = _drawing_run(again)
    assert seen_b == seen[-1:] and (counter_b, skipped_b) == (counter, skipped)
    assert summary_b["heldout_since_step"] == 2


def test_a_resume_with_unchanged_heldout_settings_reports_no_heldout_since_step(tmp_path, capsys):
    _one_step_run(tmp_path, "eval.num_tasks=30")
    capsys.readouterr()
    tr = Trainer(make_config(tmp_path, "train.total_steps=2", "eval.num_tasks=30", "eval.before=false"), resume=True)
    summary = tr.train()
    tr.close()
    assert "heldout_since_step" not in summary and "held out of training by" not in capsys.readouterr().err


def _random_shots(task):
    import random

    return f"Example: {random.choice(['1+1=2', '2+5=7', '3+3=6', '4+0=4'])}\n{task.question}"


def test_a_prompt_drawn_at_random_is_keyed_by_its_question_text(tmp_path, capsys):
    from rlvr.trainers.config import distinct_tasks, question_key, steady_render

    rows = [{"question": f"{i % 20}+0=", "answer": str(i % 20)} for i in range(40)]  # rows 32..39 ask what 12..19 ask
    rlvr.register("rlvr/Audit31Shots-v0", dataset=rows, prompt=_random_shots,
                  verifier=lambda gold, c: float(c.strip() == gold), force=True)
    tr = Trainer(make_config(tmp_path, "env.id=rlvr/Audit31Shots-v0", "env.kwargs={}", "eval.num_tasks=8"))
    try:
        assert "differs between renderings of the same task" in capsys.readouterr().err
        assert tr.eval_indices == list(range(32, 40))
        drawn = {tr._next_task()["index"] for _ in range(200)}
        assert drawn == set(range(12)) | set(range(20, 32))  # rows 12..19 ask held-out questions
    finally:
        tr.close()
    env = rlvr.make("rlvr/Audit31Shots-v0").unwrapped
    assert steady_render(env.make_prompt, env.source)[0] is None
    # distinct_tasks on its own: rows 20..39 repeat rows 0..19, however the prompt is drawn
    indices, keys = distinct_tasks(env.source, 0, 40, stop=40, render=env.make_prompt)
    assert indices == list(range(20)) and keys == [question_key(env.source.get(i)) for i in range(20)]


def test_a_procedural_benchmark_with_a_prompt_drawn_at_random_is_distinct_questions():
    rlvr.register("rlvr/Audit31GapShots-v0", generator=lambda rng: {"question": f"{int(rng.integers(6))}+0=", "answer": "0"},
                  prompt=_random_shots, verifier=lambda gold, completion: float(completion.strip() == gold), force=True)
    register_benchmark("audit31-gap-shots", "rlvr/Audit31GapShots-v0", size=6, force=True)
    questions = [t.question for t in load_benchmark("audit31-gap-shots").tasks]
    assert sorted(questions) == [f"{i}+0=" for i in range(6)]
    register_benchmark("audit31-gap-shots", "rlvr/Audit31GapShots-v0", size=7, force=True)
    with pytest.raises(BenchmarkDataError, match="makes only 6 distinct questions"):
        load_benchmark("audit31-gap-shots")


def test_a_checkpoint_keyed_by_question_text_is_compared_by_question_text(tmp_path, capsys):
    import hashlib
    import shutil

    import torch

    _one_step_run(tmp_path / "a", "eval.num_tasks=30")
    made = Trainer(make_config(tmp_path / "probe", "eval.num_tasks=30"))
    made.close()
    path = latest_checkpoint(tmp_path / "a") / "trainer_state.pt"
    state = torch.load(path, weights_only=False)
    # what a75eb59 wrote: digests of the question text, and no record of what the keys digest
    state["heldout_keys"] = sorted(hashlib.sha256(question(made, i, eval_env=True).encode()).hexdigest()[:32]
                                   for i in made.eval_indices)
    for key in ("heldout_key", "heldout_since_step"):
        state.pop(key, None)
    torch.save(state, path)
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    capsys.readouterr()
    # the same 30 questions: all held out since step 1
    tr = Trainer(make_config(tmp_path / "a", "train.total_steps=2", "eval.num_tasks=30", "eval.before=false"), resume=True)
    tr.close()
    assert tr.heldout_since_step is None and len(tr.heldout_keys) == 30
    assert "keyed held-out questions by their question text" in capsys.readouterr().err
    # 50: the 20 new ones only from the resumed step on
    tr = Trainer(make_config(tmp_path / "b", "train.total_steps=2", "eval.num_tasks=50", "eval.before=false"), resume=True)
    assert "20 of the 50 questions evaluated now were not held out" in capsys.readouterr().err
    summary = tr.train()
    tr.close()
    assert summary["heldout_since_step"] == 2 and summary["heldout_questions"] == 50


def test_completions_for_a_procedural_benchmarks_repeated_questions_are_ignored_with_the_reason(tmp_path):
    from rlvr.benchmarks import evaluate_completions

    REPEATED_QUESTION = "repeats an earlier question"
    register_benchmark("audit31-add60", "rlvr/Arithmetic-v0", size=60, env_kwargs={"format": "compact", "digits": 1},
                       force=True)
    loaded = load_benchmark("audit31-add60")
    listed = {t.id for t in loaded.tasks}
    assert loaded.skipped and set(loaded.skipped.values()) == {REPEATED_QUESTION}
    assert not set(loaded.skipped) & listed
    env = rlvr.make("rlvr/Arithmetic-v0", format="compact", digits=1).unwrapped
    path = tmp_path / "completions.jsonl"
    # tasks 0..59 as the generator numbers them, as the docs used to say to write them
    path.write_text("".join(json.dumps({"task_id": env.source.get(i).id, "completion": str(env.source.get(i).answer)})
                            + "\n" for i in range(60)))
    result = evaluate_completions("audit31-add60", str(path), str(tmp_path / "out"), ks=[1], progress=False,
                                  verbose=False)
    repeats = sum(env.source.get(i).id in loaded.skipped for i in range(60))
    assert repeats and result["counts"]["samples"] == 60 - repeats
    assert any(f"that audit31-add60 skips ({REPEATED_QUESTION})" in w for w in result["warnings"])


# ---------------------------------------------------- final review: an evaluation leaves the RNGs as they were


def test_an_evaluation_between_steps_leaves_a_resumed_run_exact_when_prompts_draw_from_random(tmp_path):
    """A prompt callable drawing a random few-shot example consumes Python's `random` in the
    evaluation after a checkpoint; the resumed run (restored from the checkpoint, before that
    evaluation) must still draw exactly what the uninterrupted one does."""
    import random

    import torch
    from safetensors.torch import load_file

    def shots(task):
        return f"Ex: {random.choice(['1+1=2', '2+5=7', '3+3=6', '4+0=4'])}\n{task.question}"

    rlvr.register("rlvr/Audit31Shots-v0", generator=lambda rng: {"question": f"{int(rng.integers(60))}+0=", "answer": "0"},
                  prompt=shots, verifier=lambda gold, c: float(sum(map(ord, c)) % 2), force=True)
    common = ("env.id=rlvr/Audit31Shots-v0", "env.kwargs={}", "sampling.temperature=1.0", "train.batch_groups=3",
              "eval.num_tasks=20", "eval.every=2", "eval.before=false", "algorithm.dynamic_sampling=true",
              "algorithm.ds_max_extra_rounds=2")

    def rows(out):
        drop = ("time", "sec", "elapsed", "per_s")
        return [{k: v for k, v in json.loads(line).items() if not any(d in k for d in drop)}
                for line in (out / "metrics.jsonl").read_text().splitlines()]

    whole = Trainer(make_config(tmp_path / "whole", "train.total_steps=4", *common))
    whole.train()
    whole.close()
    part = Trainer(make_config(tmp_path / "part", "train.total_steps=2", "log.save_every=1", *common))
    part.train()
    part.close()
    resumed = Trainer(make_config(tmp_path / "part", "train.total_steps=4", "log.save_every=1", *common), resume=True)
    resumed.train()
    resumed.close()
    assert rows(tmp_path / "whole") == rows(tmp_path / "part")
    a = load_file(str(latest_checkpoint(tmp_path / "whole") / "model" / "model.safetensors"))
    b = load_file(str(latest_checkpoint(tmp_path / "part") / "model" / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
