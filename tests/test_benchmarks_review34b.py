"""Benchmarks, review 34b: what the review-34 mends of `rlvr eval` (end-of-run rewrite of
samples.jsonl, --data split folders) left open.

- Ctrl-C'd run A, never holding --out's lock, built a ResultStore there, whose start-up tidying
  deleted the in-flight temporary file of run B (holding the lock) and could set B's side file
  aside; A also called B's samples its own "saved" ones;
- the rewrite's warning said "left as appended" when only the side file's update had failed, and
  called every OSError a full disk;
- the hub's converted-parquet layout with a split in several pieces (`main/test/0000.parquet`,
  `0001.parquet`) was refused, as `--data main` and as `--data main/test`;
- folders whose name merely contains a split word (`train_runs/`, `prompt_eng/`, `v1.0-dev/`) were
  refused as named for that split;
- a disk too full for the plot was a traceback, leaving the earlier run's summary.json (and plot);
  one too full for run.json or a sample's row was a traceback too;
- a new samples.other.jsonl was 0644 beside a samples.jsonl the user had made 0600;
- a user's `samples.jsonl.20261124.tmp` was deleted as a leftover temporary file.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import resource
import signal
import stat
import subprocess
import sys

import pytest

import rlvr.benchmarks.evaluate as evaluate
from rlvr.benchmarks.data import BenchmarkDataError
from rlvr.benchmarks.evaluate import OTHER, PLOT, ResultStore, evaluate_completions
from rlvr.benchmarks.registry import load_benchmark
from rlvr.cli import main
from conftest import write_jsonl, write_parquet, read_rows

ANSWERS = [18, 3, 70000, 540]
GSM_ROWS = [{"question": f"What is {a} + 0?", "answer": f"{a} + 0 = {a}\n#### {a}"} for a in ANSWERS]
#: A temporary file of a rewrite in progress (`_replace_rows`'s naming).
IN_FLIGHT = "samples.jsonl.rlvr-0123456789abcdef.tmp"


def keys(rows):
    return [(r["task_id"], r["sample_index"]) for r in rows]


@pytest.fixture
def gsm8k(tmp_path):
    return write_jsonl(tmp_path / "gsm8k.jsonl", GSM_ROWS)


def completions(tmp_path, name, pairs, pad=""):
    return write_jsonl(tmp_path / name, [{"task_id": t, "sample_index": j, "completion": f"{pad}\\boxed{{{c}}}"}
                                         for t, j, c in pairs])


def run(gsm8k, comp, out, **kw):
    return evaluate_completions("gsm8k", comp, str(out), data=gsm8k, progress=False, verbose=kw.pop("verbose", False), **kw)


def cli(gsm8k, comp, out, *extra):
    return main(["eval", "--benchmark", "gsm8k", "--completions", comp, "--out", str(out), "--data", gsm8k,
                 "--no-progress", *extra])


@contextlib.contextmanager
def no_room(max_file):
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


@contextlib.contextmanager
def another_run_holds_the_lock(out):
    """Another process holds --out's lock meanwhile: an exclusive flock of its .lock, as
    `rlvr.trainers.runs.lock_output_dir` takes it for a run."""
    code = ("import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o666); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", code, str(out / ".lock")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)


def interrupt_while_loading(monkeypatch):
    """Ctrl-C while the run reads its data, before it asks for --out's lock."""
    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(evaluate, "load_benchmark", ctrl_c)


# ---- 1. a Ctrl-C'd run leaves another run's folder alone ----------------------------------------


def test_ctrl_c_beside_a_running_run_deletes_nothing_and_claims_no_sample(tmp_path, gsm8k, monkeypatch, capsys):
    out = tmp_path / "out"
    comp = completions(tmp_path, "c.jsonl", [(str(t), 0, ANSWERS[t]) for t in range(4)])
    run(gsm8k, comp, out)
    (out / IN_FLIGHT).write_text("the other run's rewrite, not renamed yet\n")
    interrupt_while_loading(monkeypatch)
    with another_run_holds_the_lock(out):
        assert cli(gsm8k, comp, out) == 130
        err = capsys.readouterr().err
        assert (out / IN_FLIGHT).exists()  # was: deleted under the other run's feet
        assert "another run is using" in err and "saved" not in err.replace("nothing of this one was saved", "")
        ResultStore(str(out))  # a store made without the lock only reads
        assert (out / IN_FLIGHT).exists()


def test_a_store_without_the_lock_leaves_another_runs_side_file_alone(tmp_path, gsm8k):
    out = tmp_path / "out"
    run(gsm8k, completions(tmp_path, "a.jsonl", [("0", 0, 18), ("1", 0, 3)]), out)
    run(gsm8k, completions(tmp_path, "b.jsonl", [("0", 0, 18)]), out)
    (out / "samples.jsonl").unlink()  # (another run, started afresh, has not written its first row yet)
    with another_run_holds_the_lock(out):
        assert ResultStore(str(out)).rows == {}
        assert (out / OTHER).exists() and not (out / "samples.other.orphaned.jsonl").exists()


def test_ctrl_c_counts_the_saved_samples_without_touching_the_folder(tmp_path, gsm8k, monkeypatch, capsys):
    out = tmp_path / "out"
    comp = completions(tmp_path, "c.jsonl", [(str(t), 0, ANSWERS[t]) for t in range(4)])
    run(gsm8k, comp, out)
    run(gsm8k, comp, out, limit=1)  # three rows moved to the side file: four samples saved in all
    (out / IN_FLIGHT).write_text("x\n")
    before = sorted(os.listdir(out))
    interrupt_while_loading(monkeypatch)
    assert cli(gsm8k, comp, out) == 130
    assert "4 sample(s) are saved" in capsys.readouterr().err
    assert sorted(os.listdir(out)) == before  # a count only: no tidying without the lock
    (out / "samples.jsonl").unlink()  # a side file alone is not set aside either (that is a run's to do)
    assert cli(gsm8k, comp, out) == 130
    assert "before any sample was saved" in capsys.readouterr().err
    assert (out / OTHER).exists() and not (out / "samples.other.orphaned.jsonl").exists()


# ---- 1b. the rewrite's warning says what it left and why ----------------------------------------


def test_a_failed_side_file_update_is_not_called_samples_left_as_appended(tmp_path, gsm8k, capsys):
    out = tmp_path / "out"
    big = "x" * 15_000
    comp = write_jsonl(tmp_path / "a.jsonl", [{"task_id": str(t), "sample_index": 0,
                                               "completion": (big if t >= 2 else "") + f"\\boxed{{{ANSWERS[t]}}}"}
                                              for t in range(4)])
    run(gsm8k, comp, out)
    run(gsm8k, comp, out, limit=1)  # 1, 2 and 3 aside (30 kB)
    with no_room(25_000):  # sample 1 comes back: samples.jsonl (small) is rewritten, the side file cannot be
        result = run(gsm8k, comp, out, limit=2, verbose=True)
    assert result.exit_code == 0 and result["counts"]["samples"] == 2
    warning = next(w for w in result["warnings"] if OTHER in w)
    assert "holds exactly this run's samples" in warning and "could not be updated" in warning
    assert "left as appended" not in warning and "no room left on the disk" in warning
    assert keys(read_rows(out / "samples.jsonl")) == [("0", 0), ("1", 0)]
    assert "left as appended" not in capsys.readouterr().err
    run(gsm8k, comp, out, limit=2)  # with room, the side file is tidied
    assert sorted(keys(read_rows(out / OTHER))) == [("2", 0), ("3", 0)]


def test_the_rewrite_warning_names_an_error_that_is_no_full_disk(tmp_path, gsm8k):
    store = ResultStore(str(tmp_path / "out"))
    text = evaluate._rewrite_warning(store, OSError(errno.EIO, "Input/output error"))
    assert "OSError: [Errno 5] Input/output error" in text and "disk" not in text and "left as appended" in text
    full = evaluate._rewrite_warning(store, OSError(errno.ENOSPC, "No space left on device"))
    assert "no room left on the disk" in full and "once the disk has room" in full


# ---- 2. the hub's converted parquet, a split in several pieces ----------------------------------


def test_a_split_in_several_numbered_pieces_is_one_split(tmp_path):
    main_dir = tmp_path / "gsm8k_parquet" / "main"
    write_parquet(main_dir / "test" / "0000.parquet", GSM_ROWS[:2])
    write_parquet(main_dir / "test" / "0001.parquet", GSM_ROWS[2:])
    write_parquet(main_dir / "train" / "0000.parquet", GSM_ROWS[:1])
    for data in (main_dir, main_dir / "test"):  # both were refused
        loaded = load_benchmark("gsm8k", data=str(data))
        assert [t.id for t in loaded.tasks] == ["0", "1", "2", "3"]
    with pytest.raises(BenchmarkDataError, match="named for the split 'train'"):
        load_benchmark("gsm8k", data=str(main_dir / "train"))  # (a piece of train is no test split)


def test_a_split_with_a_missing_piece_is_refused(tmp_path):
    write_parquet(tmp_path / "main" / "test" / "0000.parquet", GSM_ROWS[:2])
    write_parquet(tmp_path / "main" / "test" / "0002.parquet", GSM_ROWS[2:])
    with pytest.raises(BenchmarkDataError, match="some are missing"):
        load_benchmark("gsm8k", data=str(tmp_path / "main"))


# ---- 3. a split word inside a folder's name names no split --------------------------------------


@pytest.mark.parametrize("folder", ["train_runs", "val_ready", "prompt_eng", "training-free-eval", "proj/v1.0-dev",
                                    "my-test-data"])
def test_folders_whose_name_holds_a_split_word_are_not_named_for_it(tmp_path, folder):
    write_jsonl(tmp_path / folder / "gsm8k.jsonl", GSM_ROWS)
    data = tmp_path / folder.split("/")[0]
    assert len(load_benchmark("gsm8k", data=str(data)).tasks) == 4


@pytest.mark.parametrize("folder, named", [("dev", "dev"), ("Train", "train"), ("partial-train", "train"),
                                           ("validation", "validation")])
def test_folders_whose_whole_name_is_a_split_still_name_it(tmp_path, folder, named):
    write_jsonl(tmp_path / folder / "gsm8k.jsonl", GSM_ROWS)
    with pytest.raises(BenchmarkDataError, match=f"named for the split '{named}'"):
        load_benchmark("gsm8k", data=str(tmp_path / folder))
    write_jsonl(tmp_path / "up" / folder / "gsm8k.jsonl", GSM_ROWS)  # a folder below --data too
    with pytest.raises(BenchmarkDataError, match=f"a file of the split '{named}'"):
        load_benchmark("gsm8k", data=str(tmp_path / "up"))


def test_file_names_are_still_judged_by_their_words(tmp_path):
    write_jsonl(tmp_path / "d" / "gsm8k_test.jsonl", GSM_ROWS)
    write_jsonl(tmp_path / "d" / "gsm8k_train.jsonl", GSM_ROWS[:1])
    assert len(load_benchmark("gsm8k", data=str(tmp_path / "d")).tasks) == 4
    write_jsonl(tmp_path / "e" / "gsm8k_train.jsonl", GSM_ROWS)
    with pytest.raises(BenchmarkDataError, match="a file of the split 'train'"):
        load_benchmark("gsm8k", data=str(tmp_path / "e"))


# ---- 4. a disk too full for the plot, run.json or a row -----------------------------------------


def test_no_room_for_the_plot_still_writes_this_runs_summary(tmp_path, gsm8k, capsys):
    out = tmp_path / "out"
    comp = completions(tmp_path, "c.jsonl", [(str(t), 0, ANSWERS[t]) for t in range(4)])
    run(gsm8k, comp, out)
    assert (out / PLOT).stat().st_size > 9_000  # (the plot is larger than what the disk has room for)
    with no_room(9_000):
        result = run(gsm8k, comp, out, limit=1, verbose=True)  # was: OSError, the earlier summary left
    assert result.exit_code == 0
    assert f"warning: the plot {PLOT} could not be written (no room left on the disk" in capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["settings"]["limit"] == 1 and summary["counts"]["samples"] == 1
    assert summary["files"]["plot"] is None and any(PLOT in w for w in summary["warnings"])
    assert not (out / PLOT).exists()  # neither a partial plot nor the earlier run's
    assert not [name for name in os.listdir(out) if name.endswith(".tmp")]


_CLI = "import sys; from rlvr.cli import main; sys.exit(main(sys.argv[1:]))"


def _cli_with_room(max_file, gsm8k, comp, out):
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file, max_file))
    return subprocess.run([sys.executable, "-c", _CLI, "eval", "--benchmark", "gsm8k", "--completions", comp, "--out",
                           str(out), "--data", gsm8k, "--no-progress"], capture_output=True, text=True,
                          preexec_fn=limit, timeout=120)


@pytest.mark.parametrize("pad, said", [("", "cannot hold the results (run.json: no room left on the disk"),
                                       ("x" * 3_000, "no room left to write")])
def test_no_room_for_run_json_or_a_row_is_a_message(tmp_path, gsm8k, pad, said):
    out = tmp_path / "out"
    out.mkdir()  # (an empty folder given as --out: kept)
    comp = completions(tmp_path, "c.jsonl", [(str(t), 0, ANSWERS[t]) for t in range(4)], pad)
    done = _cli_with_room(300 if not pad else 2_000, gsm8k, comp, out)  # run.json is ~700 bytes, a padded row 3 kB
    assert done.returncode == 2, done.stderr[-2000:]
    assert said in done.stderr and "Traceback" not in done.stderr
    assert not [name for name in os.listdir(out) if name.endswith(".tmp")]  # (write_json's partial run.json.tmp)
    assert pad or not (out / "run.json").exists()


# ---- 5. a new side file is as private as samples.jsonl ------------------------------------------


def test_a_new_side_file_takes_the_mode_of_samples_jsonl(tmp_path, gsm8k):
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        comp = completions(tmp_path, "c.jsonl", [(str(t), 0, ANSWERS[t]) for t in range(4)])
        run(gsm8k, comp, out)
        os.chmod(out / "samples.jsonl", 0o600)  # the model's completions kept private
        run(gsm8k, comp, out, limit=1)
    finally:
        os.umask(old)
    assert len(read_rows(out / OTHER)) == 3
    assert stat.S_IMODE(os.stat(out / OTHER).st_mode) == 0o600  # was 0o644
    assert stat.S_IMODE(os.stat(out / "samples.jsonl").st_mode) == 0o600


# ---- 6. only rlvr's own temporary files are removed ---------------------------------------------


def test_a_users_dated_tmp_file_is_not_removed(tmp_path, gsm8k):
    out = tmp_path / "out"
    comp = completions(tmp_path, "c.jsonl", [("0", 0, 18), ("1", 0, 3)])
    run(gsm8k, comp, out)
    mine = ["samples.jsonl.20261124.tmp", "samples.other.jsonl.backup01.tmp", "samples.jsonl.deadbeef.tmp"]
    for name in [*mine, IN_FLIGHT]:
        (out / name).write_text("my backup\n")
    run(gsm8k, comp, out)  # (holds the lock: removes what a killed rewrite left)
    assert sorted(n for n in os.listdir(out) if n.endswith(".tmp")) == sorted(mine)


# ---- 7. the side file keeps its order --------------------------------------------------------------


def test_the_side_files_rows_keep_their_order_whatever_the_hash_seed(tmp_path, gsm8k):
    out = tmp_path / "out"
    run(gsm8k, completions(tmp_path, "a.jsonl", [("0", j, 18) for j in range(10)]), out)
    run(gsm8k, completions(tmp_path, "b.jsonl", [("0", 0, 18)]), out)  # 1..9 aside, in order
    assert keys(read_rows(out / OTHER)) == [("0", j) for j in range(1, 10)]
    run(gsm8k, completions(tmp_path, "c.jsonl", [("0", 0, 18), ("0", 1, 7)]), out)  # 1 redone: the side file rewritten
    # (was: in the order of a set of the samples, which changes with PYTHONHASHSEED from run to run)
    assert keys(read_rows(out / OTHER)) == [("0", j) for j in range(2, 10)]
