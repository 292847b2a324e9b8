"""Benchmarks audit 25: what a review of `rlvr eval` found wrong.

- completions mode reported the time since boot as the run's time;
- a run that stopped before its first sample (a server rejecting every request, a bad option)
  left a run.json that refused the corrected command;
- the model was loaded before the benchmark name, the data, the options and the folder were checked;
- samples cut off by --max-tokens were scored without a count or a warning;
- a registered benchmark's `size` was ignored with --data, and one beyond the data crashed;
- without --seed, a resumed folder lost the seeds of its earlier samples;
- a CSV written by `Dataset.to_csv` (NumPy-style lists, no commas) had its list items joined.
"""

from __future__ import annotations

import json
import time

import pytest

import rlvr.commands.serve as serve
from rlvr.benchmarks import register_benchmark
from rlvr.benchmarks.data import BenchmarkDataError
from rlvr.benchmarks.evaluate import RunMismatchError, evaluate_completions, evaluate_engine
from rlvr.benchmarks.registry import load_benchmark
from rlvr.benchmarks.samples import write_sample
from rlvr.cli import main
from rlvr.trainers.engine import Sample
from test_benchmarks import ChatServer  # a real OpenAI-style HTTP server on 127.0.0.1


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


def read_rows(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class ScriptedEngine:
    """A chat-level engine (as the openai one) answering every conversation with `reply(seed)`,
    where `seed` is the seed the engines give the conversation at position i of a call
    (`sampling.seed + i`), and finishing with `finish_reason(seed)`."""

    def __init__(self, reply=lambda seed: f"seed {seed}: \\boxed{{14}}", finish_reason=lambda seed: "stop"):
        self.reply, self.finish_reason = reply, finish_reason

    def generate_chat(self, conversations, n, sampling, tools=None):
        seeds = [sampling.seed + i for i in range(len(conversations))]
        return [[Sample([], [], self.finish_reason(seed), self.reply(seed)) for _ in range(n)] for seed in seeds]

    def close(self):
        pass


@pytest.fixture
def gsm8k(tmp_path):
    return write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl"))  # 4 problems; the gold of problem 0 is 14


# ------------------------------------------------------------------ the run's time


def test_the_completions_summary_reports_the_runs_own_time(tmp_path, gsm8k):
    # the scoring loop's variable `start` overwrote the run's start time with 0: the summary gave the
    # time since the machine booted
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": str(i), "completion": "\\boxed{14}"} for i in range(4)])
    before = time.perf_counter()
    result = evaluate_completions("gsm8k", comps, str(tmp_path / "o"), data=gsm8k, progress=False, verbose=False)
    wall = time.perf_counter() - before
    assert 0 < result["timing"]["seconds"] <= wall + 0.01
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["timing"]["seconds"] == result["timing"]["seconds"]


# ------------------------------------------------------------------ run.json before the first sample


def test_a_run_that_stopped_before_its_first_sample_does_not_bind_the_folder(tmp_path, gsm8k, capsys):
    # the server rejects every request (--max-tokens over the model's context): exit 4, no sample;
    # the run.json written before sampling refused the corrected --max-tokens as "other settings"
    out = tmp_path / "o"
    args = ["eval", "--benchmark", "gsm8k", "--data", gsm8k, "--engine", "openai", "--n", "1", "--out", str(out),
            "--no-progress"]
    server = ChatServer(ok=0)
    try:
        assert main([*args, "--base-url", server.url, "--max-tokens", "4096"]) == 4
    finally:
        server.close()
    err = capsys.readouterr().err
    assert "No sample was finished" in err and "changed as the fix needs; the same --out is fine" in err
    assert not (out / "samples.jsonl").exists()
    server = ChatServer(ok=10**6)
    try:
        assert main([*args, "--base-url", server.url, "--max-tokens", "1024"]) == 0
    finally:
        server.close()
    assert json.loads((out / "summary.json").read_text())["settings"]["max_tokens"] == 1024
    assert json.loads((out / "run.json").read_text())["max_tokens"] == 1024


def test_once_samples_exist_the_exit_4_message_says_other_settings_need_a_new_out(tmp_path, capsys):
    data = write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl"), repeat=20)  # 80 problems: calls of 64 and 16
    out = tmp_path / "o"
    args = ["eval", "--benchmark", "gsm8k", "--data", data, "--engine", "openai", "--n", "1", "--out", str(out),
            "--no-progress"]
    server = ChatServer(ok=64)
    try:
        assert main([*args, "--base-url", server.url, "--max-tokens", "8"]) == 4
        err = capsys.readouterr().err
        assert "rerun the same command with the same --out to resume" in err
        assert "Changing --max-tokens, --model or another sampling setting needs a new --out" in err
        assert main([*args, "--base-url", server.url, "--max-tokens", "16"]) == 2  # as it says
        assert "max_tokens: 8 -> 16" in capsys.readouterr().err
    finally:
        server.close()


def test_a_run_json_binds_the_folder_only_once_it_holds_samples(tmp_path, gsm8k):
    out = tmp_path / "o"
    (out).mkdir()
    (out / "run.json").write_text(json.dumps({"format": 2, "benchmark": "gsm8k", "max_tokens": 4096}))
    (out / "samples.jsonl").write_text("\n")  # an empty file is no sample
    kwargs = dict(n=1, seed=0, data=gsm8k, model_name="m", progress=False, verbose=False)
    evaluate_engine("gsm8k", ScriptedEngine(), str(out), max_tokens=16, **kwargs)
    assert len(read_rows(out / "samples.jsonl")) == 4
    with pytest.raises(RunMismatchError, match="max_tokens: 16 -> 32"):
        evaluate_engine("gsm8k", ScriptedEngine(), str(out), max_tokens=32, **kwargs)


def test_a_second_sampling_run_on_the_same_folder_meanwhile_is_refused(tmp_path, gsm8k, capsys):
    # with run.json binding only once a sample exists, a second run with other settings started
    # during the first one's first call was accepted, and both wrote samples into the folder
    import subprocess
    import sys

    out = tmp_path / "o"
    out.mkdir()
    # another process taking the folder's lock as runs do (flock on .lock, holding its pid)
    take_lock = ("import fcntl, os, sys; fd = os.open(os.path.join(sys.argv[1], '.lock'), os.O_RDWR | os.O_CREAT); "
                 "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); os.write(fd, b'%d' % os.getpid()); ")
    holder = subprocess.Popen([sys.executable, "-c", take_lock + "print('held', flush=True); sys.stdin.read()", str(out)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        kwargs = dict(n=1, seed=0, data=gsm8k, model_name="m", progress=False, verbose=False)
        with pytest.raises(ValueError, match=rf"{out} is in use: another run \(process {holder.pid}\).*mix samples "
                                             r"drawn with different settings.*choose another --out"):
            evaluate_engine("gsm8k", ScriptedEngine(), str(out), max_tokens=16, **kwargs)
        server = ChatServer(ok=10**6)
        try:
            assert main(["eval", "--benchmark", "gsm8k", "--data", gsm8k, "--engine", "openai", "--base-url", server.url,
                         "--out", str(out), "--no-progress"]) == 2
        finally:
            server.close()
        assert "is in use" in capsys.readouterr().err and not (out / "samples.jsonl").exists()
    finally:
        holder.communicate("")
    evaluate_engine("gsm8k", ScriptedEngine(), str(out), max_tokens=16, **kwargs)  # the lock was released
    assert len(read_rows(out / "samples.jsonl")) == 4
    taker = subprocess.run([sys.executable, "-c", take_lock, str(out)], capture_output=True, text=True)
    assert taker.returncode == 0, taker.stderr  # ... and so was this run's, when it ended


def test_bad_sampling_options_are_refused_before_anything_is_written(tmp_path, gsm8k, capsys):
    out = tmp_path / "o"
    server = ChatServer(ok=10**6)
    args = ["eval", "--benchmark", "gsm8k", "--data", gsm8k, "--engine", "openai", "--base-url", server.url,
            "--n", "1", "--out", str(out), "--no-progress"]
    try:
        assert main([*args, "--top-p", "0"]) == 2
        assert "rlvr eval: --top-p must be in (0, 1], got 0.0" in capsys.readouterr().err
        assert main([*args, "--temperature", "1e-9"]) == 2
        assert "rlvr eval: --temperature must be 0 (greedy) or a finite number" in capsys.readouterr().err
        assert main([*args, "--max-turns", "0"]) == 2
        assert "rlvr eval: --max-turns must be >= 1, got 0" in capsys.readouterr().err
        assert not out.exists()
        assert main([*args, "--top-p", "0.9"]) == 0
    finally:
        server.close()
    # the library checks them before writing too
    with pytest.raises(ValueError, match="top_p must be in"):
        evaluate_engine("gsm8k", ScriptedEngine(), str(tmp_path / "p"), top_p=0.0, data=gsm8k, progress=False,
                        verbose=False)
    with pytest.raises(ValueError, match="--max-turns must be >= 1"):
        evaluate_engine("gsm8k", ScriptedEngine(), str(tmp_path / "p"), max_turns=0, data=gsm8k, progress=False,
                        verbose=False)
    assert not (tmp_path / "p").exists()


# ------------------------------------------------------------------ checks before the model loads


def test_the_model_is_loaded_only_once_the_run_has_been_checked(tmp_path, gsm8k, monkeypatch, capsys):
    loads = []
    real = serve.load_hf_chat_engine

    def spy(*args, **kwargs):
        loads.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(serve, "load_hf_chat_engine", spy)
    other_run = tmp_path / "other"  # a folder holding a run of scored completions
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "0", "completion": "\\boxed{14}"}])
    evaluate_completions("gsm8k", comps, str(other_run), data=gsm8k, progress=False, verbose=False)
    base = ["eval", "--engine", "hf", "--model", "tiny", "--device", "cpu", "--max-tokens", "2", "--no-progress"]
    refused = {
        "unknown benchmark 'gsmk8'": ["--benchmark", "gsmk8", "--data", gsm8k, "--out", str(tmp_path / "a")],
        "does not exist": ["--benchmark", "gsm8k", "--data", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "b")],
        "--top-p must be in": ["--benchmark", "gsm8k", "--data", gsm8k, "--top-p", "2", "--out", str(tmp_path / "c")],
        "holds a run made with other settings": ["--benchmark", "gsm8k", "--data", gsm8k, "--out", str(other_run)],
    }
    for message, args in refused.items():
        assert main([*base, *args]) == 2, message
        assert message in capsys.readouterr().err
    assert loads == []
    assert main([*base, "--benchmark", "gsm8k", "--data", gsm8k, "--limit", "1", "--out", str(tmp_path / "ok")]) == 0
    assert loads == [("tiny", "cpu", "auto")]
    settings = json.loads((tmp_path / "ok" / "summary.json").read_text())["settings"]
    assert settings["model"] == "tiny" and settings["engine"] == "hf" and settings["dtype"] == "auto"


# ------------------------------------------------------------------ samples cut off by --max-tokens


def test_samples_cut_off_by_max_tokens_are_counted_and_warned(tmp_path, gsm8k, capsys):
    # even seeds finish with the right answer, odd ones are cut off mid-thought (finish reason "length")
    engine = ScriptedEngine(reply=lambda seed: "\\boxed{14}" if seed % 2 == 0 else "First, 3 * 6 = 18, then",
                            finish_reason=lambda seed: "stop" if seed % 2 == 0 else "length")
    result = evaluate_engine("gsm8k", engine, str(tmp_path / "o"), n=2, ks=[1, 2], seed=0, data=gsm8k, model_name="m",
                             max_tokens=16, progress=False)
    assert result["counts"]["truncated"] == 4 and result["counts"]["judged"] == 8
    warning = ("4 of 8 samples hit --max-tokens (or the model's context) and were scored as cut off, most likely "
               "wrong; raise --max-tokens (in a new --out")
    assert any(w.startswith(warning) for w in result["warnings"])
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["counts"]["truncated"] == 4 and summary["warnings"] == result["warnings"]
    captured = capsys.readouterr()
    assert "8 judged samples (8 new, 0 reused, 4 cut off by --max-tokens)" in captured.out
    assert f"warning: {warning}" in captured.err
    # scored completions carry no finish reason: none is counted
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "0", "completion": "First, 3 * 6 = 18, then"}])
    scored = evaluate_completions("gsm8k", comps, str(tmp_path / "p"), data=gsm8k, progress=False, verbose=False)
    assert scored["counts"]["truncated"] == 0 and not any("--max-tokens" in w for w in scored["warnings"])


# ------------------------------------------------------------------ a registered benchmark's size


def test_a_registered_size_applies_with_data_and_one_beyond_the_data_is_refused_at_load(tmp_path):
    ten = write_jsonl(tmp_path / "ten.jsonl", [{"question": f"{i}+1?", "answer": str(i + 1)} for i in range(10)])
    two = write_jsonl(tmp_path / "two.jsonl", [{"question": f"{i}+1?", "answer": str(i + 1)} for i in range(2)])
    register_benchmark("first3-audit", "rlvr/Math-v0", size=3, force=True, env_kwargs={"dataset": ten})
    assert len(load_benchmark("first3-audit").tasks) == 3
    assert len(load_benchmark("first3-audit", data=ten).tasks) == 3  # was 10: --data ignored the size
    assert len(load_benchmark("first3-audit", data=two).tasks) == 2  # at most the file's rows
    register_benchmark("all-audit", "rlvr/Math-v0", force=True, env_kwargs={"dataset": two})
    assert len(load_benchmark("all-audit", data=ten).tasks) == 10  # no size given: the whole file
    # more than the env's own data holds: fine for use with --data, refused at load without it (was an
    # IndexError); refusing it at registration kept a benchmark for --data from being registered
    register_benchmark("too-big-audit", "rlvr/Math-v0", size=10, force=True, env_kwargs={"dataset": two})
    assert len(load_benchmark("too-big-audit", data=ten).tasks) == 10
    with pytest.raises(BenchmarkDataError, match=r"registered with size=10 tasks, but rlvr/Math-v0's dataset has only 2; pass --data"):
        load_benchmark("too-big-audit")
    # ... and when the data shrank after the registration
    shrinking = write_jsonl(tmp_path / "shrinking.jsonl", [{"question": f"{i}+1?", "answer": str(i + 1)} for i in range(5)])
    register_benchmark("shrunk-audit", "rlvr/Math-v0", size=4, force=True, env_kwargs={"dataset": shrinking})
    write_jsonl(tmp_path / "shrinking.jsonl", [{"question": "1+1?", "answer": "2"}])
    with pytest.raises(BenchmarkDataError, match=r"registered with size=4 tasks, but rlvr/Math-v0's dataset has only 1"):
        load_benchmark("shrunk-audit")


# ------------------------------------------------------------------ each sample's seed


def test_each_sampled_row_records_the_seed_it_was_drawn_with(tmp_path, gsm8k):
    # without --seed each run draws its base at random and the summary keeps only the latest: after
    # a resume the first run's seeds were lost. The engine here answers with the seed it was given
    out = tmp_path / "o"
    kwargs = dict(data=gsm8k, model_name="m", max_tokens=16, temperature=0.6, progress=False, verbose=False)
    first = evaluate_engine("gsm8k", ScriptedEngine(), str(out), n=1, **kwargs)
    second = evaluate_engine("gsm8k", ScriptedEngine(), str(out), n=2, ks=[1, 2], **kwargs)
    rows = read_rows(out / "samples.jsonl")
    assert len(rows) == 8
    for row in rows:
        assert row["completion"].startswith(f"seed {row['seed']}:")  # the seed the engine got
        base = (first if row["sample_index"] == 0 else second)["settings"]["seed_base"]
        assert row["seed"] == base + row["sample_index"] * 4 + int(row["task_id"])  # seed + j * N + t


# ------------------------------------------------------------------ lists in a CSV export


def test_a_numpy_style_list_from_to_csv_is_refused_naming_the_column(tmp_path):
    # Dataset.to_csv writes a list column as NumPy prints it, ['a' 'b']: Python joins adjacent string
    # literals, so two asserts became one that did not parse ("the tests do not parse")
    import datasets

    row = {"task_id": 2, "prompt": "Write a function f returning its argument.", "code": "def f(x):\n    return x",
           "test_imports": [], "test_list": ["assert f(1) == 1", "assert f(2) == 2"]}
    datasets.Dataset.from_list([row]).to_csv(str(tmp_path / "mbpp.csv"))
    assert "['assert f(1) == 1' 'assert f(2) == 2']" in (tmp_path / "mbpp.csv").read_text()
    with pytest.raises(BenchmarkDataError, match=r"row 0: column 'test_list' holds a list without commas between its "
                                                 r"items .*Export the data with to_json\('name.jsonl'\) or to_parquet"):
        load_benchmark("mbpp", data=str(tmp_path / "mbpp.csv"))
    datasets.Dataset.from_list([row]).to_json(str(tmp_path / "mbpp.jsonl"))  # the fix the message gives
    assert load_benchmark("mbpp", data=str(tmp_path / "mbpp.jsonl")).tasks[0].id == "2"
