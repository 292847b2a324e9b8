"""Benchmarks, audit 34: what a red team found.

- samples.jsonl only grew: rows superseded by a rerun (an outage's unverified rows) and rows of
  samples outside the run (another completions file, another --limit) stayed beside the run's own,
  so the file disagreed with summary.json;
- a --data folder holding only another split's file (`train.jsonl`, a save_to_disk DatasetDict
  with only `train`) was used as the test split, and `test.jsonl` + `test_socratic.jsonl` were
  merged (every problem counted twice);
- `maj_at_ks` was documented in `rlvr.benchmarks` but not exported;
- `rlvr eval --help` and `rlvr benchmarks list --help` did not end with their exit statuses.
"""

from __future__ import annotations

import os

import pytest

from rlvr.benchmarks.data import BenchmarkDataError, _folder_files
from rlvr.benchmarks.evaluate import OTHER, ResultStore, evaluate_completions
from rlvr.benchmarks.registry import load_benchmark
from rlvr.cli import main
from conftest import write_jsonl, read_rows

ANSWERS = [18, 3, 70000, 540]


@pytest.fixture
def gsm8k(tmp_path):
    rows = [{"question": f"What is {a} + 0?", "answer": f"{a} + 0 = {a}\n#### {a}"} for a in ANSWERS]
    return write_jsonl(tmp_path / "gsm8k.jsonl", rows)


def completions(tmp_path, name, pairs):
    return write_jsonl(tmp_path / name, [{"task_id": t, "sample_index": j, "completion": f"\\boxed{{{c}}}"}
                                         for t, j, c in pairs])


def run(gsm8k, comp, out, **kw):
    return evaluate_completions("gsm8k", comp, str(out), data=gsm8k, progress=False, verbose=kw.pop("verbose", False), **kw)


def keys(rows):
    return [(r["task_id"], r["sample_index"]) for r in rows]


# ---- 1. samples.jsonl holds exactly the run's samples -------------------------------------------


def test_a_redone_sample_leaves_one_row_and_the_file_agrees_with_the_summary(tmp_path, gsm8k):
    out = tmp_path / "out"
    comp = completions(tmp_path, "c.jsonl", [("0", 0, 18), ("0", 1, 5), ("1", 0, 3), ("1", 1, 4)])
    run(gsm8k, comp, out)
    # two samples left unverified, as an outage leaves them: the rerun scores them again
    rows = read_rows(out / "samples.jsonl")
    for row in rows[:2]:
        row.update(correct=False, score=0.0, error="sandbox down", kind="sandbox_error")
    write_jsonl(out / "samples.jsonl", rows)
    result = run(gsm8k, comp, out)
    assert result.exit_code == 0 and result["timing"]["scored_now"] == 2
    final = read_rows(out / "samples.jsonl")
    assert len(final) == result["counts"]["samples"] == 4  # was 6: the unverified rows stayed
    assert keys(final) == [("0", 0), ("0", 1), ("1", 0), ("1", 1)]  # in the order first written
    assert all(r["error"] is None for r in final)
    assert sum(r["correct"] for r in final) / len(final) == result["pass@1"] == 0.5
    assert not (out / OTHER).exists() and "other_samples" not in result["files"]


def test_rows_of_another_completions_file_are_moved_aside_and_reused(tmp_path, gsm8k, capsys):
    out = tmp_path / "out"
    four = completions(tmp_path, "a.jsonl", [("0", j, 18) for j in range(4)] + [("1", 0, 3)])
    assert run(gsm8k, four, out)["mean_accuracy"] == 1.0
    other = completions(tmp_path, "b.jsonl", [("0", 0, 1), ("1", 0, 2)])
    result = run(gsm8k, other, out, verbose=True)
    final = read_rows(out / "samples.jsonl")
    assert keys(final) == [("0", 0), ("1", 0)] and not any(r["correct"] for r in final)
    assert result["mean_accuracy"] == 0.0 and result["counts"]["samples"] == 2
    assert keys(read_rows(out / OTHER)) == [("0", 1), ("0", 2), ("0", 3)]  # kept, not lost
    assert result["files"]["other_samples"] == OTHER
    err = capsys.readouterr().err
    assert "3 sample row(s) of samples.jsonl are not part of this run" in err and OTHER in err
    # the first file again: what was moved aside is reused, only the changed samples are scored
    again = run(gsm8k, four, out)
    assert again["timing"]["scored_now"] == 2 and again["timing"]["reused"] == 3 and again["mean_accuracy"] == 1.0
    assert sorted(keys(read_rows(out / "samples.jsonl"))) == [("0", 0), ("0", 1), ("0", 2), ("0", 3), ("1", 0)]
    assert not (out / OTHER).exists() and "other_samples" not in again["files"]


def test_a_sample_moved_aside_then_redone_leaves_no_stale_row_aside(tmp_path, gsm8k):
    out = tmp_path / "out"
    run(gsm8k, completions(tmp_path, "a.jsonl", [("0", j, 18) for j in range(4)]), out)
    run(gsm8k, completions(tmp_path, "b.jsonl", [("0", 0, 18)]), out)
    result = run(gsm8k, completions(tmp_path, "c.jsonl", [("0", 0, 18), ("0", 1, 7)]), out)
    assert result["timing"]["scored_now"] == 1 and result["mean_accuracy"] == 0.5
    assert [r["completion"] for r in read_rows(out / "samples.jsonl")] == ["\\boxed{18}", "\\boxed{7}"]
    assert keys(read_rows(out / OTHER)) == [("0", 2), ("0", 3)]  # (0, 1)'s old row is not kept beside its redo


def test_a_smaller_limit_moves_rows_aside_and_a_larger_one_reuses_them(tmp_path, gsm8k):
    out = tmp_path / "out"
    comp = completions(tmp_path, "c.jsonl", [(str(t), 0, a) for t, a in enumerate(ANSWERS)])
    assert run(gsm8k, comp, out)["counts"]["samples"] == 4
    small = run(gsm8k, comp, out, limit=2)
    assert keys(read_rows(out / "samples.jsonl")) == [("0", 0), ("1", 0)] and small["counts"]["samples"] == 2
    assert keys(read_rows(out / OTHER)) == [("2", 0), ("3", 0)]
    full = run(gsm8k, comp, out)
    assert full["timing"]["scored_now"] == 0 and full["counts"]["samples"] == 4
    assert len(read_rows(out / "samples.jsonl")) == 4 and not (out / OTHER).exists()


@pytest.mark.parametrize("kill_at", [1, 2, 3])
def test_a_kill_during_the_rewrite_loses_no_sample(tmp_path, gsm8k, monkeypatch, kill_at):
    out = tmp_path / "out"
    run(gsm8k, completions(tmp_path, "a.jsonl", [("0", j, 18) for j in range(4)] + [("1", 0, 3)]), out)
    run(gsm8k, completions(tmp_path, "b.jsonl", [("0", 0, 18), ("1", 0, 3)]), out)
    before = ResultStore(str(out)).rows
    assert len(before) == 5 and (out / OTHER).exists()
    # (0, 1) comes back from samples.other.jsonl, (1, 0) goes there: the rewrite replaces three files
    third = completions(tmp_path, "c.jsonl", [("0", 0, 18), ("0", 1, 18)])
    real, calls = os.replace, []

    def killed(src, dst):  # the kill_at-th replacement of a samples file is never made
        if os.path.basename(dst).startswith("samples"):
            calls.append(dst)
            if len(calls) == kill_at:
                raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        run(gsm8k, third, out)
    monkeypatch.setattr(os, "replace", real)
    assert len(calls) == kill_at
    assert ResultStore(str(out)).rows == before  # every sample's latest row is still read
    assert not [name for name in os.listdir(out) if name.endswith(".tmp")]
    result = run(gsm8k, third, out)
    assert result["timing"]["scored_now"] == 0 and result["counts"]["samples"] == 2
    assert keys(read_rows(out / "samples.jsonl")) == [("0", 0), ("0", 1)]
    assert sorted(keys(read_rows(out / OTHER))) == [("0", 2), ("0", 3), ("1", 0)]


def test_a_side_file_without_samples_jsonl_is_not_read(tmp_path, gsm8k, capsys):
    out = tmp_path / "out"
    run(gsm8k, completions(tmp_path, "a.jsonl", [("0", 0, 18), ("1", 0, 3)]), out)
    run(gsm8k, completions(tmp_path, "b.jsonl", [("0", 0, 18)]), out)
    (out / "samples.jsonl").unlink()  # "delete its samples.jsonl to start afresh"
    assert ResultStore(str(out)).rows == {}
    assert not (out / OTHER).exists() and (out / "samples.other.orphaned.jsonl").exists()
    assert "not used" in capsys.readouterr().err


# ---- 2. --data folders: another split's file is refused, only real shards are merged ------------


GSM_ROWS = [{"question": f"q{i}", "answer": f"work\n#### {i}"} for i in range(3)]


def test_a_folder_of_another_splits_file_is_refused(tmp_path):
    write_jsonl(tmp_path / "main" / "train.jsonl", GSM_ROWS)
    with pytest.raises(BenchmarkDataError, match=r"holds only 'train.jsonl', a file of the split 'train', and the "
                                                 r"benchmark evaluates the split 'test'.*--data .*train.jsonl"):
        load_benchmark("gsm8k", data=str(tmp_path / "main"))
    assert len(load_benchmark("gsm8k", data=str(tmp_path / "main" / "train.jsonl")).tasks) == 3  # the file itself
    for name in ("validation.jsonl", "dev.jsonl", "gsm8k_train.jsonl"):
        folder = tmp_path / name.split(".")[0]
        write_jsonl(folder / name, GSM_ROWS)
        with pytest.raises(BenchmarkDataError, match="holds only"):
            _folder_files(str(folder), "test")
    # a name naming no split, or the wanted one (or a synonym of it), is still that file
    for name, split in (("data.jsonl", "test"), ("gsm8k.jsonl", "test"), ("train.jsonl", "train"),
                        ("dev.jsonl", "validation"), ("latest.jsonl", "test")):
        folder = tmp_path / f"ok_{split}_{name}"
        write_jsonl(folder / name, GSM_ROWS)
        assert _folder_files(str(folder), split) == [str(folder / name)]


def test_a_save_to_disk_folder_of_only_another_split_is_refused(tmp_path):
    import datasets

    datasets.DatasetDict({"train": datasets.Dataset.from_list(GSM_ROWS)}).save_to_disk(str(tmp_path / "dd"))
    with pytest.raises(BenchmarkDataError, match=r"holds only the split 'train'.*evaluates the split 'test'"):
        load_benchmark("gsm8k", data=str(tmp_path / "dd"))
    assert len(load_benchmark("gsm8k", data=str(tmp_path / "dd" / "train")).tasks) == 3  # as the message says
    datasets.DatasetDict({"default": datasets.Dataset.from_list(GSM_ROWS)}).save_to_disk(str(tmp_path / "plain"))
    assert len(load_benchmark("gsm8k", data=str(tmp_path / "plain")).tasks) == 3  # a split named for none


def test_two_configs_files_of_the_split_are_refused_and_shards_are_merged(tmp_path):
    write_jsonl(tmp_path / "b" / "test.jsonl", GSM_ROWS)
    write_jsonl(tmp_path / "b" / "test_socratic.jsonl", [dict(r, answer="Q? ** " + r["answer"]) for r in GSM_ROWS])
    with pytest.raises(BenchmarkDataError, match="not shards of one file"):
        load_benchmark("gsm8k", data=str(tmp_path / "b"))
    write_jsonl(tmp_path / "s" / "test-00000-of-00002.jsonl", GSM_ROWS[:2])
    write_jsonl(tmp_path / "s" / "test-00001-of-00002.jsonl", GSM_ROWS[2:])
    write_jsonl(tmp_path / "s" / "train-00000-of-00001.jsonl", GSM_ROWS)
    assert len(load_benchmark("gsm8k", data=str(tmp_path / "s")).tasks) == 3
    write_jsonl(tmp_path / "h" / "test-00000-of-00002-3fe3a3b8.jsonl", GSM_ROWS[:2])  # the hub's older names
    write_jsonl(tmp_path / "h" / "test-00001-of-00002-9c1d2e4f.jsonl", GSM_ROWS[2:])
    assert len(load_benchmark("gsm8k", data=str(tmp_path / "h")).tasks) == 3
    write_jsonl(tmp_path / "m" / "test-00000-of-00003.jsonl", GSM_ROWS[:2])
    write_jsonl(tmp_path / "m" / "test-00002-of-00003.jsonl", GSM_ROWS[2:])
    with pytest.raises(BenchmarkDataError, match=r"shards \[0, 2\] of the 3 pieces"):
        load_benchmark("gsm8k", data=str(tmp_path / "m"))


# ---- 3. maj_at_ks is exported -------------------------------------------------------------------


def test_maj_at_ks_is_in_rlvr_benchmarks():
    import rlvr.benchmarks as rb
    from rlvr.benchmarks.estimators import maj_at_ks

    assert rb.maj_at_ks is maj_at_ks and "maj_at_ks" in rb.__all__


# ---- 4. exit statuses in --help -----------------------------------------------------------------


@pytest.mark.parametrize("command, says", [
    (["eval"], "3 done, but some samples could not be verified"),
    (["eval"], "4 the engine or its server failed while sampling"),
    (["eval"], "130 interrupted"),
    (["benchmarks", "list"], "2 a usage error"),
])
def test_exit_statuses_are_in_the_help(command, says, capsys):
    assert main([*command, "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Exit status: 0 " in out and says in out
