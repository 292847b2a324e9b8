"""Benchmarks, review 34: what the end-of-run rewrite of samples.jsonl and the stricter --data
folder rules (audit 34) broke or left open.

- on a disk without room for a second copy of samples.jsonl every run ended in a traceback and no
  summary, a rerun that scored nothing too;
- the rewritten samples.jsonl / samples.other.jsonl were mode 0600 (tempfile.mkstemp);
- AIME (hub split `train`) refused real copies holding only `test.jsonl` or a test parquet file;
- starting afresh a second time overwrote the first samples.other.orphaned.jsonl;
- split words were read from file names only: `main/train/0000.parquet` was used as gsm8k's test
  split and `main/` with `test/0000.parquet` and `train/0000.parquet` was refused;
- a rewrite killed before its rename left its temporary file for good;
- a run with no sample named the previous run's samples.jsonl in its summary.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import stat

import pytest

from rlvr.benchmarks.data import BenchmarkDataError
from rlvr.benchmarks.evaluate import OTHER, PLOT, ResultStore, evaluate_completions
from rlvr.benchmarks.registry import load_benchmark
from conftest import write_jsonl, write_parquet, read_rows

ANSWERS = [18, 3, 70000, 540]
GSM_ROWS = [{"question": f"What is {a} + 0?", "answer": f"{a} + 0 = {a}\n#### {a}"} for a in ANSWERS]
AIME_ROWS = [{"id": i, "problem": f"Find {i}.", "answer": str(i)} for i in range(5)]


@pytest.fixture
def gsm8k(tmp_path):
    return write_jsonl(tmp_path / "gsm8k.jsonl", GSM_ROWS)


def completions(tmp_path, name, pairs, pad=""):
    return write_jsonl(tmp_path / name, [{"task_id": t, "sample_index": j, "completion": f"{pad}\\boxed{{{c}}}"}
                                         for t, j, c in pairs])


def run(gsm8k, comp, out, **kw):
    return evaluate_completions("gsm8k", comp, str(out), data=gsm8k, progress=False, verbose=kw.pop("verbose", False), **kw)


def keys(rows):
    return [(r["task_id"], r["sample_index"]) for r in rows]


# ---- 1. a disk without room for a second copy: the run still ends with its summary --------------


@contextlib.contextmanager
def no_room(max_file=25_000):
    """No file of this process may grow beyond `max_file` bytes meanwhile: the file system refuses
    the write (EFBIG, an OSError as ENOSPC is: SIGXFSZ ignored), as a nearly full disk does."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_file, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


def test_a_rerun_that_scores_nothing_does_not_write_samples_again(tmp_path, gsm8k):
    out = tmp_path / "out"
    comp = completions(tmp_path, "c.jsonl", [(str(t), j, ANSWERS[t]) for t in range(4) for j in range(2)])
    run(gsm8k, comp, out)
    before = os.stat(out / "samples.jsonl")
    result = run(gsm8k, comp, out)
    after = os.stat(out / "samples.jsonl")
    assert result["timing"]["scored_now"] == 0 and result["counts"]["samples"] == 8
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # not replaced


def test_no_room_for_the_rewrite_still_writes_the_summary(tmp_path, gsm8k, capsys):
    out = tmp_path / "out"
    pad = "x" * 10_000  # 6 rows of ~10 kB: samples.jsonl ~60 kB, the rows to move aside ~40 kB
    comp = completions(tmp_path, "c.jsonl", [(str(t), j, ANSWERS[t]) for t in range(3) for j in range(2)], pad)
    run(gsm8k, comp, out)
    samples = (out / "samples.jsonl").read_bytes()
    assert len(samples) > 50_000
    with no_room():  # a pure rerun has nothing to rewrite: it succeeds without a warning
        result = run(gsm8k, comp, out)
    assert result.exit_code == 0 and not any("could not be rewritten" in w for w in result["warnings"])
    # a smaller --limit must move 4 rows to samples.other.jsonl, which the file system refuses
    (out / "summary.json").unlink()
    capsys.readouterr()
    with no_room():
        result = run(gsm8k, comp, out, limit=1, verbose=True)  # was: OSError from the rewrite, no summary
    assert result.exit_code == 0
    assert "warning: samples.jsonl could not be rewritten" in capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["samples"] == 2 and summary["pass@1"] == 1.0  # this run's samples only
    assert any("samples.jsonl could not be rewritten" in w and "left as appended" in w for w in summary["warnings"])
    assert (out / "samples.jsonl").read_bytes() == samples  # left whole
    assert not [name for name in os.listdir(out) if name.endswith(".tmp")]  # the partial copy removed
    # with room again, the next run tidies the file
    result = run(gsm8k, comp, out, limit=1)
    assert keys(read_rows(out / "samples.jsonl")) == [("0", 0), ("0", 1)]
    assert len(read_rows(out / OTHER)) == 4 and result["counts"]["samples"] == 2


# ---- 2. the rewritten files keep the usual permissions ------------------------------------------


def test_rewritten_files_have_the_usual_permissions(tmp_path, gsm8k):
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        run(gsm8k, completions(tmp_path, "a.jsonl", [("0", 0, 18), ("0", 1, 5), ("1", 0, 3)]), out)
        os.chmod(out / "samples.jsonl", 0o640)  # a mode the user chose is kept by a rewrite
        run(gsm8k, completions(tmp_path, "b.jsonl", [("0", 0, 18)]), out)  # moves two rows aside
    finally:
        os.umask(old)
    assert len(read_rows(out / OTHER)) == 2 and len(read_rows(out / "samples.jsonl")) == 1
    assert stat.S_IMODE(os.stat(out / "samples.jsonl").st_mode) == 0o640
    assert stat.S_IMODE(os.stat(out / OTHER).st_mode) == 0o640  # a new side file: samples.jsonl's (review 34b)


# ---- 3. one-split benchmarks take a copy naming its split otherwise -----------------------------


def test_aime_takes_real_copies_that_name_their_split_test(tmp_path):
    import datasets

    aime25 = tmp_path / "math-ai_aime25"
    write_jsonl(aime25 / "test.jsonl", AIME_ROWS)  # math-ai/aime25's layout
    assert len(load_benchmark("aime2025", data=str(aime25)).tasks) == 5
    aime24 = tmp_path / "math-ai_aime24" / "data"
    write_parquet(aime24 / "test-00000-of-00001.parquet", AIME_ROWS)  # math-ai/aime24's layout
    assert len(load_benchmark("aime2024", data=str(aime24)).tasks) == 5
    datasets.DatasetDict({"test": datasets.Dataset.from_list(AIME_ROWS)}).save_to_disk(str(tmp_path / "dd"))
    assert len(load_benchmark("aime2024", data=str(tmp_path / "dd")).tasks) == 5
    # MATH-500 (test only on the hub) likewise takes a lone train file; gsm8k, with a train split, does not
    write_jsonl(tmp_path / "m500" / "train.jsonl", [{"problem": "Find 2.", "answer": "2", "unique_id": "a"}])
    assert len(load_benchmark("math500", data=str(tmp_path / "m500")).tasks) == 1
    write_jsonl(tmp_path / "gsm" / "train.jsonl", GSM_ROWS)
    with pytest.raises(BenchmarkDataError, match="a file of the split 'train'"):
        load_benchmark("gsm8k", data=str(tmp_path / "gsm"))
    datasets.DatasetDict({"train": datasets.Dataset.from_list(GSM_ROWS)}).save_to_disk(str(tmp_path / "gdd"))
    with pytest.raises(BenchmarkDataError, match="holds only the split 'train'"):
        load_benchmark("gsm8k", data=str(tmp_path / "gdd"))


# ---- 4. starting afresh twice keeps both sets of rows set aside ---------------------------------


def test_starting_afresh_twice_overwrites_no_orphaned_file(tmp_path, gsm8k, capsys):
    out = tmp_path / "out"
    first = completions(tmp_path, "a.jsonl", [(str(t), 0, ANSWERS[t]) for t in range(4)])
    run(gsm8k, first, out)
    run(gsm8k, first, out, limit=1)  # 3 rows aside
    (out / "samples.jsonl").unlink()
    second = completions(tmp_path, "b.jsonl", [(str(t), 0, 0) for t in range(4)])
    run(gsm8k, second, out)
    orphaned = out / "samples.other.orphaned.jsonl"
    assert keys(read_rows(orphaned)) == [("1", 0), ("2", 0), ("3", 0)]
    kept = orphaned.read_bytes()
    run(gsm8k, second, out, limit=2)  # 2 rows aside
    (out / "samples.jsonl").unlink()
    run(gsm8k, completions(tmp_path, "c.jsonl", [("0", 0, 18)]), out)
    assert orphaned.read_bytes() == kept
    again = out / "samples.other.orphaned.1.jsonl"
    assert [(r["task_id"], r["completion"]) for r in read_rows(again)] == [("2", "\\boxed{0}"), ("3", "\\boxed{0}")]
    assert "samples.other.orphaned.1.jsonl and not used" in capsys.readouterr().err


# ---- 5. split words in folder names -------------------------------------------------------------


def test_split_folders_of_the_hubs_converted_parquet_layout(tmp_path):
    train_rows = [{"question": f"What is {a} + 1?", "answer": f"{a} + 1 = {a + 1}\n#### {a + 1}"} for a in range(7)]
    main = tmp_path / "main"
    write_parquet(main / "test" / "0000.parquet", GSM_ROWS)
    write_parquet(main / "train" / "0000.parquet", train_rows)
    loaded = load_benchmark("gsm8k", data=str(main))  # was: "no file for the split 'test'"
    assert [t.answer for t in loaded.tasks] == [str(a) for a in ANSWERS]
    assert loaded.data_fingerprint["sha256"]  # (one file read: its digest)
    assert len(load_benchmark("gsm8k", data=str(main / "test")).tasks) == 4
    with pytest.raises(BenchmarkDataError, match=r"is named for the split 'train'.*--data .*0000.parquet"):
        load_benchmark("gsm8k", data=str(main / "train"))  # was: the train split used as the test set
    write_jsonl(tmp_path / "mine" / "train" / "data.jsonl", train_rows)
    with pytest.raises(BenchmarkDataError, match="a file of the split 'train'"):
        load_benchmark("gsm8k", data=str(tmp_path / "mine"))
    with pytest.raises(BenchmarkDataError, match="is named for the split 'train'"):
        load_benchmark("gsm8k", data=str(tmp_path / "mine" / "train"))
    # the file's own name wins over its folder's; a one-split benchmark takes a train/ folder
    write_jsonl(tmp_path / "odd" / "test" / "train.jsonl", train_rows)
    with pytest.raises(BenchmarkDataError, match="a file of the split 'train'"):
        load_benchmark("gsm8k", data=str(tmp_path / "odd"))
    write_parquet(tmp_path / "aime" / "test" / "0000.parquet", AIME_ROWS)
    assert len(load_benchmark("aime2025", data=str(tmp_path / "aime" / "test")).tasks) == 5


# ---- 6. temporary files of a killed rewrite are removed -----------------------------------------


def test_leftover_temporary_files_of_a_killed_rewrite_are_removed(tmp_path, gsm8k):
    out = tmp_path / "out"
    comp = completions(tmp_path, "c.jsonl", [("0", 0, 18), ("1", 0, 3)])
    run(gsm8k, comp, out)
    ours = ["samples.jsonl.rlvr-3fa9c01b3fa9c01b.tmp", "samples.other.jsonl.rlvr-0123456789abcdef.tmp"]
    # (review 34b: names without the rlvr- mark, such as a dated backup, are the user's)
    others = ["samples.jsonl.notes.tmp", "mine.tmp", "samples.jsonl.rlvr-3fa9c01b3fa9c01b.tmp.bak",
              "samples.jsonl.3fa9c01b.tmp", "samples.jsonl.20261124.tmp"]
    for name in ours + others:
        (out / name).write_text("x" * 1000)
    result = run(gsm8k, comp, out)
    assert result.exit_code == 0
    assert sorted(n for n in os.listdir(out) if ".tmp" in n) == sorted(others)
    ResultStore(str(out))  # (idempotent)
    assert sorted(n for n in os.listdir(out) if ".tmp" in n) == sorted(others)


# ---- 7. a run with no sample names no samples file ----------------------------------------------


def test_a_run_with_no_sample_leaves_the_folders_samples_and_names_none(tmp_path, gsm8k):
    out = tmp_path / "out"
    run(gsm8k, completions(tmp_path, "a.jsonl", [("0", 0, 18), ("1", 0, 3), ("2", 0, 1)]), out)
    run(gsm8k, completions(tmp_path, "a2.jsonl", [("0", 0, 18), ("1", 0, 3)]), out)  # ("2", 0) moved aside
    assert (out / PLOT).exists()
    samples, other = (out / "samples.jsonl").read_bytes(), (out / OTHER).read_bytes()
    result = run(gsm8k, completions(tmp_path, "b.jsonl", [("3", 0, 540)]), out, limit=2)
    assert result.exit_code == 2 and result["counts"]["samples"] == 0
    assert result["files"] == {"samples": None, "plot": None}  # (names no samples file, of this run or aside)
    assert (out / OTHER).read_bytes() == other
    summary = json.loads((out / "summary.json").read_text())
    assert summary["files"]["samples"] is None
    assert (out / "samples.jsonl").read_bytes() == samples  # untouched
    assert not (out / PLOT).exists()  # the earlier run's plot removed, as documented
