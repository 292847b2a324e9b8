"""Benchmarks, audit 30: what a red team found in `rlvr eval`.

- a run whose completions match none of the problems evaluated (all beyond --limit) exited 0, said
  `complete: true` and named a samples.jsonl that was never written;
- a list or object in a text column (a gold answer [1, 2], a question split into words) became its
  Python repr ("[1, 2]"), so right answers scored wrong;
- the summary named the sandbox of the run that wrote it, not the one that judged the samples (a
  resumed run that scored nothing reported its own backend), and the interpreter given with
  --sandbox-python was recorded nowhere;
- pandas' default `DataFrame.to_json` layout (one object of columns) was read as one row, and the
  error blamed a gold answer;
- a literal "~" in --data or --completions (as a shell leaves it in `--data=~/x`) was not expanded.
"""

from __future__ import annotations

import json
import os

import pytest

from rlvr.benchmarks.evaluate import evaluate_completions
from rlvr.benchmarks.registry import load_benchmark
from rlvr.benchmarks.samples import write_sample
from rlvr.cli import main
from rlvr.envs.tasks import DatasetError, load_table
from test_benchmarks import DownSandbox  # a sandbox whose backend is gone ("down")

GSM = [{"question": f"q{i}", "answer": f"work\n#### {i}"} for i in range(3)]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


def read_json(path):
    return json.loads(path.read_text())


def read_rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


# ------------------------------------------------------------------ 1. nothing scored


def test_completions_for_no_problem_evaluated_exit_2_and_name_no_missing_file(tmp_path, capsys):
    data = write_jsonl(tmp_path / "d.jsonl", GSM)
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "2", "completion": "\\boxed{2}"}])  # beyond --limit 2
    out = tmp_path / "out"
    code = main(["eval", "--benchmark", "gsm8k", "--data", data, "--completions", comps, "--limit", "2",
                 "--out", str(out), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 2  # bad input: the command's exit status for what the message says to fix
    summary = read_json(out / "summary.json")
    assert summary["complete"] is False and summary["counts"]["samples"] == 0
    assert "--limit 2" in summary["error"] and "--limit 2" in captured.err
    assert not (out / "samples.jsonl").exists()
    assert summary["files"] == {"samples": None, "plot": None}  # names no file that was not written
    assert "samples.jsonl" not in captured.out and "summary.json" in captured.out
    # the same completions with a --limit that reaches them: scored, exit 0, the file named
    assert main(["eval", "--benchmark", "gsm8k", "--data", data, "--completions", comps, "--out", str(out),
                 "--no-progress"]) == 0
    summary = read_json(out / "summary.json")
    assert summary["complete"] is True and "error" not in summary and summary["files"]["samples"] == "samples.jsonl"


# ------------------------------------------------------------------ 2. list cells in text columns


@pytest.mark.parametrize("benchmark, row, column, kind", [
    ("math500", {"problem": "Find both roots of x^2-3x+2=0.", "answer": [1, 2], "unique_id": "a"}, "answer", "a list"),
    ("math500", {"problem": ["What", "is", "2+2?"], "answer": "4", "unique_id": "a"}, "problem", "a list"),
    ("gsm8k", {"question": {"text": "q"}, "answer": "w\n#### 1"}, "question", "an object"),
    ("aime2024", {"id": 1, "problem": "p", "answer": [24]}, "answer", "a list"),
    ("humaneval", {"task_id": "H/0", "prompt": ["def f():"], "test": "def check(c): pass", "entry_point": "f"},
     "prompt", "a list"),
])
def test_a_list_or_object_in_a_text_column_is_refused_naming_row_and_column(tmp_path, capsys, benchmark, row, column,
                                                                             kind):
    ok = {"math500": {"problem": "p", "answer": "1", "unique_id": "z"}, "gsm8k": {"question": "q", "answer": "w\n#### 1"},
          "aime2024": {"id": 2, "problem": "p", "answer": "1"},
          "humaneval": {"task_id": "H/1", "prompt": "def g():\n", "test": "def check(c): pass", "entry_point": "g"}}
    data = write_jsonl(tmp_path / "d.jsonl", [ok[benchmark], row])
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "0", "completion": "x"}])
    code = main(["eval", "--benchmark", benchmark, "--data", data, "--completions", comps, "--out",
                 str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"row 1: column {column!r} is {kind}" in err and "not text or a number" in err
    assert not (tmp_path / "out" / "samples.jsonl").exists()


def test_list_columns_still_load_and_scalar_cells_still_become_text(tmp_path):
    # MBPP's test_list is a list column: not refused
    mbpp = write_sample("mbpp", str(tmp_path / "mbpp.jsonl"))
    assert all(isinstance(t.answer, (list, tuple)) or t.answer for t in load_benchmark("mbpp", data=mbpp).tasks)
    # a numeric gold answer is still its text
    data = write_jsonl(tmp_path / "m.jsonl", [{"problem": "2+2?", "answer": 4, "unique_id": "b"}])
    assert load_benchmark("math500", data=data).tasks[0].answer == "4"


# ------------------------------------------------------------------ 3. the sandbox that judged


@pytest.fixture
def humaneval(tmp_path):
    data = write_sample("humaneval", str(tmp_path / "he.jsonl"))
    rows = [json.loads(line) for line in open(data)]
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": r["task_id"], "completion": r["canonical_solution"]}
                                                for r in rows])
    return data, comps, len(rows)


def other_python():
    """The system python3 by a path other than the one the subprocess backend picks by default
    (/usr/bin/python3, a link): what --sandbox-python names is what the rows must record."""
    real = os.path.realpath("/usr/bin/python3")
    if real == "/usr/bin/python3" or not os.access(real, os.X_OK):
        pytest.skip("no second path of the system python3 here")
    return real


def test_rows_record_their_sandbox_and_the_summary_counts_what_judged_them(tmp_path, humaneval):
    data, comps, size = humaneval
    python = other_python()
    out = tmp_path / "out"
    assert main(["eval", "--benchmark", "humaneval", "--data", data, "--completions", comps, "--out", str(out),
                 "--sandbox", "subprocess", "--sandbox-python", python, "--no-progress"]) == 0
    label = f"subprocess ({python})"
    assert {row["sandbox"] for row in read_rows(out / "samples.jsonl")} == {label}  # each row: backend and python
    summary = read_json(out / "summary.json")
    assert summary["judged_by"] == {label: size} and summary["settings"]["sandbox"] == label
    assert summary["fingerprint"]["verifier"]["settings"]["sandbox_backend"] == "subprocess"
    # a rerun in the same folder with another sandbox scores nothing (all reused): the summary still
    # says what judged the samples; before, it named this run's backend ("down")
    result = evaluate_completions("humaneval", comps, str(out), data=data, sandbox=DownSandbox(), progress=False,
                                  verbose=False)
    assert result["timing"]["scored_now"] == 0 and result.exit_code == 0
    assert result["judged_by"] == {label: size}
    assert result["fingerprint"]["verifier"]["settings"]["sandbox_backend"] == "subprocess"
    assert result["settings"]["sandbox"] == "down"  # this run's own sandbox, as a setting
    # the env digest is that of the env record it stands beside (the judging backend's), not this run's
    from rlvr.envs.fingerprint import Fingerprint
    assert result["fingerprint"]["env_digest"] == Fingerprint(result["fingerprint"]["env"]).digest
    assert result["fingerprint"]["env_digest"] == summary["fingerprint"]["env_digest"]
    # rows of an older rlvr eval, without the field, still load and count as unrecorded
    rows = read_rows(out / "samples.jsonl")
    del rows[0]["sandbox"]
    write_jsonl(out / "samples.jsonl", rows)
    result = evaluate_completions("humaneval", comps, str(out), data=data, sandbox=DownSandbox(), progress=False,
                                  verbose=False)
    assert result["judged_by"] == {label: size - 1, "unrecorded": 1}
    assert result["fingerprint"]["verifier"]["settings"]["sandbox_backend"] == (
        "mixed (subprocess, unrecorded; see judged_by)")


def test_an_env_without_a_sandbox_records_none(tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", GSM)
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "0", "completion": "\\boxed{0}"}])
    result = evaluate_completions("gsm8k", comps, str(tmp_path / "out"), data=data, progress=False, verbose=False)
    assert "judged_by" not in result and result["settings"]["sandbox"] is None
    assert "sandbox" not in read_rows(tmp_path / "out" / "samples.jsonl")[0]


def test_sampled_rows_record_their_sandbox(tmp_path):
    from test_cli_eval_server29 import _Server  # an OpenAI-compatible server answering "\\boxed{14}"

    data = write_sample("humaneval", str(tmp_path / "he.jsonl"))
    python = other_python()
    out = tmp_path / "o"
    with _Server(404) as server:
        assert main(["eval", "--benchmark", "humaneval", "--data", data, "--limit", "1", "--engine", "openai",
                     "--model", "m", "--base-url", server.url, "--timeout", "5", "--out", str(out), "--sandbox",
                     "subprocess", "--sandbox-python", python, "--no-progress"]) == 0
    label = f"subprocess ({python})"
    assert [row["sandbox"] for row in read_rows(out / "samples.jsonl")] == [label]
    assert read_json(out / "summary.json")["judged_by"] == {label: 1}


# ------------------------------------------------------------------ 4. pandas' column layout


def test_pandas_default_to_json_layout_is_named_not_read_as_one_row(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    path = tmp_path / "gsm8k.json"
    pd.DataFrame(GSM).to_json(path)  # {"question": {"0": ...}, "answer": {...}}
    with pytest.raises(DatasetError, match="one JSON object of columns \\(pandas to_json's default layout\\)"):
        load_table(str(path))
    assert main(["benchmarks", "check", "gsm8k", "--data", str(path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "pandas to_json's default layout" in err and "orient='records', lines=True" in err
    assert "gold answer" not in err
    pd.DataFrame(GSM).to_json(path, orient="index")  # {"0": {"question": ..., "answer": ...}, ...}
    with pytest.raises(DatasetError, match="rows keyed by their index"):
        load_table(str(path))
    path.write_text(json.dumps({"question": ["q0", "q1"], "answer": ["#### 0", "#### 1"]}))  # Dataset.to_dict()
    with pytest.raises(DatasetError, match="each a list"):
        load_table(str(path))
    # the records layout loads, and so does a real one-row file with dict- and list-valued fields
    pd.DataFrame(GSM).to_json(path, orient="records", lines=True)
    assert load_table(str(path)).num_rows == 3
    one = {"question": "q", "answer": "1", "meta": {"a": 1, "b": 2}, "tags": ["x", "y"]}
    path.write_text(json.dumps(one))
    assert load_table(str(path)).num_rows == 1
    path.write_text(json.dumps({"input_output": {"inputs": [], "outputs": []}}))  # one dict-valued field
    assert load_table(str(path)).num_rows == 1


# ------------------------------------------------------------------ 5. "~" in --data and --completions


def test_a_literal_tilde_in_data_and_completions_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    write_jsonl(tmp_path / "d.jsonl", GSM)
    write_jsonl(tmp_path / "c.jsonl", [{"task_id": "1", "completion": "\\boxed{1}"}])
    out = tmp_path / "out"
    assert main(["eval", "--benchmark", "gsm8k", "--data=~/d.jsonl", "--completions=~/c.jsonl", "--limit", "2",
                 "--out", str(out), "--no-progress"]) == 0
    summary = read_json(out / "summary.json")
    assert summary["pass@1"] == 1.0 and summary["settings"]["completions"] == str(tmp_path / "c.jsonl")
    assert summary["fingerprint"]["data"]["source"] == str(tmp_path / "d.jsonl")


def test_a_missing_tilde_path_is_named_expanded(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "0", "completion": "1"}])
    assert main(["eval", "--benchmark", "gsm8k", "--data=~/nope.jsonl", "--completions", comps, "--out",
                 str(tmp_path / "out"), "--no-progress"]) == 2
    assert f"{tmp_path}/nope.jsonl" in capsys.readouterr().err


def test_a_bad_row_under_a_tilde_path_is_named_with_the_expanded_path(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    write_jsonl(tmp_path / "g.jsonl", [{"question": "What is 1+1?", "answer": "no marker here"}])
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "0", "completion": "2"}])
    assert main(["eval", "--benchmark", "gsm8k", "--data=~/g.jsonl", "--completions", comps, "--out",
                 str(tmp_path / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path}/g.jsonl" in err and "~/g.jsonl" not in err, err
