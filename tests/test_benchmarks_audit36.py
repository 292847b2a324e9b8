"""Session 36 audit of `rlvr eval` / `rlvr benchmarks`: what the messages and counts name.

- `rlvr benchmarks check` names a wrong reference by task id and data row (rows the mapping skips
  counted), as load errors do, not by its place among the tasks kept;
- a bad row of a .jsonl with blank lines is named with its line too (blank lines are skipped when
  reading, so row i is not line i + 1);
- a problem whose every sample is unverified is counted and warned about, and the header says
  "X of Y problems";
- growing --n from 1 in the same --out is still refused (the default temperature changes with
  --n), with a message saying so and what to pass.
"""

from __future__ import annotations

import json
import os

import pytest

from rlvr.benchmarks.data import BenchmarkDataError
from rlvr.benchmarks.registry import load_benchmark
from rlvr.benchmarks.samples import write_sample
from rlvr.benchmarks.summary import compute_metrics
from rlvr.cli import main
from conftest import write_jsonl


def _apps_rows(wrong_id: int = 12) -> list[dict]:
    """Three APPS rows: the first has no tests (skipped), the last a wrong reference solution."""
    def row(pid, solution, inputs, outputs):
        return {"problem_id": pid, "question": "q", "solutions": json.dumps([solution]), "starter_code": "",
                "input_output": json.dumps({"inputs": inputs, "outputs": outputs}) if inputs else ""}
    return [row(10, "print(1)", [], []),
            row(11, "a,b=map(int,input().split())\nprint(a+b)", ["1 2\n"], ["3\n"]),
            row(wrong_id, "print(input())", ["abc\n"], ["cba\n"])]


def test_check_names_a_wrong_reference_by_task_id_and_data_row(tmp_path, capsys):
    path = write_jsonl(tmp_path / "apps.jsonl", _apps_rows())
    assert main(["benchmarks", "check", "apps", "--data", path, "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "task '12' (row 2): case 1 of 1 failed" in out  # row 0 (no tests) skipped: it is the second task kept
    assert "problem #" not in out


def test_check_names_the_line_of_a_wrong_reference_after_blank_lines(tmp_path, capsys):
    rows = _apps_rows()
    path = tmp_path / "apps.jsonl"
    path.write_text(json.dumps(rows[0]) + "\n\n" + json.dumps(rows[1]) + "\n\n\n" + json.dumps(rows[2]) + "\n")
    assert main(["benchmarks", "check", "apps", "--data", str(path), "--no-progress"]) == 1
    assert "task '12' (row 2, line 6 of apps.jsonl): case 1 of 1 failed" in capsys.readouterr().out


def test_a_bad_row_after_blank_lines_is_named_with_its_line(tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_text('{"question":"a?","answer":"#### 1"}\n\n\n{"question":"b?","answer":"#### 2"}\n'
                    '{"question":"c?","answer":null}\n')
    with pytest.raises(BenchmarkDataError, match=r"row 2 \(line 5 of g\.jsonl\): column 'answer' is null"):
        load_benchmark("gsm8k", data=str(path))
    # without blank lines row i is line i + 1, as the docs say: the message is as it was
    path.write_text('{"question":"a?","answer":"#### 1"}\n{"question":"b?","answer":"#### 2"}\n'
                    '{"question":"c?","answer":null}\n')
    with pytest.raises(BenchmarkDataError, match=r"/g\.jsonl': row 2: column 'answer' is null"):
        load_benchmark("gsm8k", data=str(path))


def test_a_bad_row_of_a_sharded_folder_names_its_file_and_line(tmp_path):
    folder = tmp_path / "gsm"
    write_jsonl(folder / "test-00000-of-00002.jsonl", [{"question": "a?", "answer": "#### 1"}] * 2)
    write_jsonl(folder / "test-00001-of-00002.jsonl", [{"question": "b?", "answer": "#### 2"},
                                                       {"question": "c?", "answer": "no marker"}])
    with pytest.raises(BenchmarkDataError, match=r"row 3 \(line 2 of test-00001-of-00002\.jsonl\): column 'answer' "
                                                 r"has no '#### <answer>' marker"):
        load_benchmark("gsm8k", data=str(folder))


def test_an_env_refusal_of_an_apps_row_names_the_data_row_not_the_kept_one(tmp_path):
    rows = _apps_rows()
    # Code-v0 refuses a stdin/stdout task whose every case expects no output; the mapping lets it through
    rows[2]["input_output"] = json.dumps({"inputs": ["abc\n"], "outputs": [""]})
    path = tmp_path / "apps.jsonl"
    path.write_text(json.dumps(rows[0]) + "\n\n" + json.dumps(rows[1]) + "\n" + json.dumps(rows[2]) + "\n")
    with pytest.raises(BenchmarkDataError, match=r"row 2 \(line 4 of apps\.jsonl\): every stdin/stdout case expects "
                                                 r"no output"):
        load_benchmark("apps", data=str(path))


def test_humaneval_tests_that_do_not_parse_are_named_with_the_line(tmp_path):
    good = {"task_id": "HumanEval/0", "prompt": "def f(x):\n    \"\"\"Id.\"\"\"\n", "entry_point": "f",
            "canonical_solution": "    return x\n", "test": "def check(candidate):\n    assert candidate(1) == 1\n"}
    bad = dict(good, task_id="HumanEval/1", test="def check(candidate:\n")
    path = tmp_path / "he.jsonl"
    path.write_text(json.dumps(good) + "\n\n" + json.dumps(bad) + "\n")
    with pytest.raises(BenchmarkDataError, match=r"(row 1 \(line 3 of he\.jsonl\)|task 'HumanEval/1' "
                                                 r"\(row 1, line 3 of he\.jsonl\))"):
        load_benchmark("humaneval", data=str(path))


def _mbpp(tmp_path):
    rows = [{"task_id": 1, "prompt": "Multiply.", "code": "def mul(a,b):\n    return a*b",
             "test_imports": ["import rlvr_audit36_no_such_module"], "test_list": ["assert mul(3, 2) == 6"]},
            {"task_id": 2, "prompt": "Add.", "code": "def add(a,b):\n    return a+b", "test_imports": [],
             "test_list": ["assert add(3, 2) == 5"]}]
    comps = [{"task_id": 1, "completion": "```python\ndef mul(a,b):\n    return a*b\n```"},
             {"task_id": 2, "completion": "```python\ndef add(a,b):\n    return a-b\n```"}]
    return write_jsonl(tmp_path / "mb.jsonl", rows), write_jsonl(tmp_path / "c.jsonl", comps)


def test_a_problem_with_only_unverified_samples_is_counted_and_warned_about(tmp_path, capsys):
    data, comps = _mbpp(tmp_path)
    out = tmp_path / "out"
    assert main(["eval", "--benchmark", "mbpp", "--data", data, "--completions", comps, "--out", str(out),
                 "--no-progress"]) == 3
    assert "mbpp: 1 of 2 problems, 1 judged samples" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    counts = summary["counts"]
    assert (counts["problems"], counts["problems_total"], counts["problems_unjudged"]) == (1, 2, 1)
    assert counts["problems_without_samples"] == 0
    warning, = [w for w in summary["warnings"] if "no verified sample" in w]
    assert warning.startswith("1 of 2 problems have no verified sample ('1'") and "describe 1 of the 2 problems" in warning


def test_compute_metrics_counts_problems_whose_samples_are_all_unverified():
    rows = [{"task_id": "a", "correct": False, "score": 0.0, "error": "sandbox down", "kind": "sandbox_error"},
            {"task_id": "b", "correct": True, "score": 1.0, "error": None}]
    result = compute_metrics(rows, [1], task_order=["a", "b", "c"])
    assert result["counts"]["problems"] == 1 and result["counts"]["problems_unjudged"] == 1
    assert result["counts"]["problems_without_samples"] == 1
    assert any(w.startswith("1 of 3 problems have no verified sample ('a'") for w in result["warnings"])
    # every problem judged: no such warning
    clean = compute_metrics(rows[1:], [1], task_order=["b"])
    assert clean["counts"]["problems_unjudged"] == 0 and not clean["warnings"]


@pytest.fixture(scope="module")
def gsm8k(tmp_path_factory):
    return write_sample("gsm8k", str(tmp_path_factory.mktemp("data") / "gsm8k.jsonl"))


def _hf(gsm8k, out, *extra):
    return main(["eval", "--benchmark", "gsm8k", "--data", gsm8k, "--engine", "hf", "--model", "tiny", "--device", "cpu",
                 "--max-tokens", "2", "--limit", "1", "--seed", "1", "--out", str(out), "--no-progress", *extra])


def test_growing_n_with_the_default_temperature_is_refused_with_an_explanation(tmp_path, gsm8k, capsys):
    out = tmp_path / "o"
    assert _hf(gsm8k, out) == 0
    assert os.path.getsize(out / "samples.jsonl") > 0
    capsys.readouterr()
    assert _hf(gsm8k, out, "--n", "4") == 2  # greedy and sampled draws still do not mix
    err = capsys.readouterr().err
    assert "temperature: 0.0 -> 0.6" in err
    assert "No --temperature was given" in err
    assert "the default is 0, greedy, for --n 1 and 0.6 for --n > 1" in err
    assert "Pass --temperature 0.0 to add samples" in err and "new --out" in err
    # a temperature the user gave is refused as before, without the note about the default
    assert _hf(gsm8k, out, "--n", "4", "--temperature", "0.6") == 2
    err = capsys.readouterr().err
    assert "temperature: 0.0 -> 0.6" in err and "No --temperature was given" not in err
