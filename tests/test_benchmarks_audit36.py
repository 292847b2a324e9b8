"""Session 36 audit of `rlvr eval` / `rlvr benchmarks`: what the messages and counts name.

- `rlvr benchmarks check` names a wrong reference by task id and data row (rows the mapping skips
  counted), as load errors do, not by its place among the tasks kept;
- a bad row of a .jsonl with blank lines is named with its line too (blank lines are skipped when
  reading, so row i is not line i + 1);
- a problem whose every sample is unverified is counted and warned about, and the header says
  "X of Y problems";
- growing --n from 1 in the same --out is still refused (the default temperature changes with
  --n), with a message saying so and what to pass.

The review of these (session 36, second round):

- every message about the problems the metrics cover (the warnings about problems without samples,
  unjudged and skipped, the engine run's SKIPPED line, the plot's title) gives the one covered
  count, `counts["problems"]` (each computed "the total less my own category", and they
  contradicted each other);
- the default-temperature note advises `--temperature X` only when that alone can make the run
  match (not for a --completions folder, drawn at no temperature, nor when the seed differs too);
- a row of a folder of several parquet / CSV / JSON-array files is named by its file and its row
  there;
- a row's line comes from the blank lines the reader skipped when it read the file (kept with the
  rows), not from reading and parsing the whole file again for every label.
"""

from __future__ import annotations

import json
import os

import pytest

from rlvr.benchmarks import data as bench_data
from rlvr.benchmarks import evaluate as bench_evaluate
from rlvr.benchmarks.data import BenchmarkDataError
from rlvr.benchmarks.identity import RunMismatchError
from rlvr.benchmarks.registry import load_benchmark
from rlvr.benchmarks.samples import write_sample
from rlvr.benchmarks.summary import compute_metrics
from rlvr.cli import main
from conftest import write_jsonl, write_parquet


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
    assert warning.startswith("1 of 2 problems have no verified sample ('1'") and "describe the other 1 problem only" in warning


def test_compute_metrics_counts_problems_whose_samples_are_all_unverified():
    rows = [{"task_id": "a", "correct": False, "score": 0.0, "error": "sandbox down", "kind": "sandbox_error"},
            {"task_id": "b", "correct": True, "score": 1.0, "error": None}]
    result = compute_metrics(rows, [1], task_order=["a", "b", "c"])
    assert result["counts"]["problems"] == 1 and result["counts"]["problems_unjudged"] == 1
    assert result["counts"]["problems_without_samples"] == 1
    assert any(w.startswith("1 of 3 problems have no verified sample ('a'") for w in result["warnings"])
    # every problem judged: no such warning
    clean = compute_metrics(rows[1:], [1], task_order=["b"])
    assert clean["counts"]["problems_unjudged"] == 0 and not any("no verified sample" in w for w in clean["warnings"])


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
    # greedy samples are not grown at temperature 0 (--n 4 --temperature 0 is refused): only a new --out is advised
    assert "Pass --temperature" not in err and "Use a new --out to sample --n 4 at 0.6" in err
    # a temperature the user gave is refused as before, without the note about the default
    assert _hf(gsm8k, out, "--n", "4", "--temperature", "0.6") == 2
    err = capsys.readouterr().err
    assert "temperature: 0.0 -> 0.6" in err and "No --temperature was given" not in err


# ---- review: one covered count in every message ----------------------------------------------------


def test_every_coverage_warning_gives_the_problems_the_metrics_cover():
    rows = [{"task_id": "a", "correct": False, "score": 0.0, "error": "sandbox down", "kind": "sandbox_error"},
            {"task_id": "b", "correct": True, "score": 1.0, "error": None},
            {"task_id": "d", "correct": True, "score": 1.0, "error": None}]
    result = compute_metrics(rows, [1], task_order=["a", "b", "c", "d", "e"], skipped={"e": "prompt too long"})
    assert result["counts"]["problems"] == 2
    coverage = result["warnings"][:3]  # (then the warning that b and d, both solved, give a zero-width interval)
    unsampled, unjudged, skipped = coverage
    assert unsampled.startswith("1 of 5 problems have no sample ('c')")
    assert unjudged.startswith("1 of 5 problems have no verified sample ('a'")
    assert skipped.startswith("1 of 5 problems were SKIPPED")
    # was: "the other 4", "2 of the 5", "the other 4"
    assert all("2 of the 5 problems only" in w and "the other" not in w for w in coverage)
    # one reason alone: "the other N" is the covered count
    alone = compute_metrics(rows[1:], [1], task_order=["b", "c", "d"])
    assert "the numbers describe the other 2 problems only" in alone["warnings"][0]
    assert not any("problems" in w and "no sample" in w for w in alone["warnings"][1:])


def test_an_mbpp_run_with_unjudged_and_unsampled_problems_says_1_of_3_everywhere(tmp_path, capsys, monkeypatch):
    data, _ = _mbpp(tmp_path)
    rows = [json.loads(line) for line in open(data)]
    rows.append({"task_id": 3, "prompt": "Sub.", "code": "def sub(a,b):\n    return a-b", "test_imports": [],
                 "test_list": ["assert sub(3, 2) == 1"]})
    data = write_jsonl(tmp_path / "mb3.jsonl", rows)
    comps = write_jsonl(tmp_path / "c3.jsonl", [{"task_id": 1, "completion": "```python\ndef mul(a,b):\n    return a*b\n```"},
                                                {"task_id": 2, "completion": "```python\ndef add(a,b):\n    return a+b\n```"}])
    titles = []
    real_plot = bench_evaluate.plot_pass_at_k

    def recording_plot(metrics, path, title=""):  # the real plot, its title kept to be checked
        titles.append(title)
        return real_plot(metrics, path, title=title)

    monkeypatch.setattr(bench_evaluate, "plot_pass_at_k", recording_plot)
    out = tmp_path / "out"
    main(["eval", "--benchmark", "mbpp", "--data", data, "--completions", comps, "--out", str(out), "--no-progress"])
    captured = capsys.readouterr()
    assert "mbpp: 1 of 3 problems" in captured.out
    warnings = json.loads((out / "summary.json").read_text())["warnings"]
    coverage = [w for w in warnings if "left out of every metric" in w]
    assert len(coverage) == 2 and all("describe 1 of the 3 problems only" in w for w in coverage)
    assert titles == ["mbpp (completions)\n1 of 3 problems (see the warnings in summary.json)"]
    assert (out / "pass_at_k.png").stat().st_size > 0


# ---- review: the default-temperature note's advice ------------------------------------------------


class _Args:
    def __init__(self, n, temperature=None):
        self.n, self.temperature = n, temperature


def test_the_note_gives_no_advice_that_cannot_work():
    from rlvr.commands.eval import _default_temperature_note

    only = RunMismatchError("refused", {"temperature": (0.0, 0.6)})
    greedy = _default_temperature_note(only, _Args(4))  # --temperature 0.0 with --n 4 is refused: not advised
    assert "Pass --temperature" not in greedy and "Use a new --out to sample --n 4 at 0.6" in greedy
    sampled = RunMismatchError("refused", {"temperature": (0.6, 0.0)})  # shrinking --n to 1 may keep 0.6
    assert "Pass --temperature 0.6 to add samples" in _default_temperature_note(sampled, _Args(1))
    # a --completions folder: drawn at no temperature, so no --temperature can match it
    assert _default_temperature_note(RunMismatchError("refused", {"temperature": (None, 0.0), "mode": ("completions", "engine")}),
                                     _Args(1)) == ""
    # the seed differs too: --temperature alone is refused again, so only where the temperature came from
    both = _default_temperature_note(RunMismatchError("refused", {"seed": (1, 2), "temperature": (0.0, 0.6)}), _Args(4))
    assert "default for --n 4, 0.6" in both and "Pass --temperature" not in both
    assert _default_temperature_note(only, _Args(4, temperature=0.6)) == ""


def test_an_engine_run_in_a_completions_folder_is_refused_without_a_temperature_to_pass(tmp_path, gsm8k, capsys):
    out = tmp_path / "o"
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "0", "completion": "1"}])
    main(["eval", "--benchmark", "gsm8k", "--data", gsm8k, "--completions", comps, "--out", str(out), "--no-progress"])
    capsys.readouterr()
    assert _hf(gsm8k, out) == 2
    err = capsys.readouterr().err
    assert "temperature: None -> 0.0" in err and "No --temperature" not in err and "Pass --temperature" not in err


# ---- review: rows of sharded files without lines ------------------------------------------------


_SHARDS = [[{"question": "a?", "answer": "#### 1"}] * 3,
           [{"question": "b?", "answer": "#### 2"}, {"question": "c?", "answer": "no marker"}]]


@pytest.mark.parametrize("kind", ["parquet", "csv", "json"])
def test_a_bad_row_of_sharded_files_without_lines_names_its_file_and_row(tmp_path, kind):
    import csv

    folder = tmp_path / "gsm"
    folder.mkdir()
    for k, rows in enumerate(_SHARDS):
        path = folder / f"test-0000{k}-of-00002.{kind}"
        if kind == "parquet":
            write_parquet(path, rows)
        elif kind == "csv":
            with open(path, "w", newline="") as handle:
                writer = csv.DictWriter(handle, ["question", "answer"])
                writer.writeheader()
                writer.writerows(rows)
        else:  # one JSON array per file, pretty-printed: its items are not lines
            path.write_text(json.dumps(rows, indent=1))
    with pytest.raises(BenchmarkDataError, match=rf"row 4 \(row 1 of test-00001-of-00002\.{kind}\): column 'answer' "
                                                 r"has no '#### <answer>' marker"):
        load_benchmark("gsm8k", data=str(folder))


def test_one_file_without_lines_names_the_row_alone(tmp_path):
    path = write_parquet(tmp_path / "g.parquet", _SHARDS[0] + _SHARDS[1])
    with pytest.raises(BenchmarkDataError, match=r"g\.parquet': row 4: column 'answer' has no"):
        load_benchmark("gsm8k", data=str(path))


# ---- review: a row's line is the one the reader read it from -----------------------------------------


def test_labels_name_the_lines_read_even_after_the_file_changed_or_went(tmp_path):
    path = tmp_path / "g.jsonl"
    lines = []
    for i in range(12):
        lines += [json.dumps({"question": f"q{i}?", "answer": f"#### {i}"})] + [""] * (i % 2)
    path.write_text("\n".join(lines) + "\n")
    loaded = load_benchmark("gsm8k", data=str(path))
    labels = [loaded.task_label(i) for i in range(12)]
    assert labels[0] == "task '0' (row 0)" and labels[3] == "task '3' (row 3, line 5 of g.jsonl)"
    assert labels[11] == "task '11' (row 11, line 17 of g.jsonl)"
    # the lines are those of the data loaded: a file edited or removed since does not change them
    path.write_text("\n\n" + "\n".join(lines) + "\n")
    assert [loaded.task_label(i) for i in range(12)] == labels
    path.unlink()
    assert [loaded.task_label(i) for i in range(12)] == labels


_BLANKS = ["", " ", "\t", "\r", "\u00a0", "\u2028", "\x1c", "\u3000 "]


def test_lines_are_those_the_reader_skips_blank_lines_at(tmp_path):
    """A row's line is its line of `text.split("\\n")` with blank (`str.strip`) lines skipped, as the
    reader reads the file: after a BOM, with CRLF, whitespace a JSON string may hold (U+2028)."""
    parts, expected = ["\ufeff "], []
    for i in range(9):
        parts += _BLANKS[: i % 4]
        parts.append(json.dumps({"q": "x" * i + "\u2028é", "i": i}, ensure_ascii=i % 2 == 0) + "\r")
        expected.append(len(parts))
    path = tmp_path / "f.jsonl"
    path.write_bytes(("\n".join(parts) + "\n\n").encode("utf-8"))
    rows, _ = bench_data.load_local(str(path))
    assert [row["i"] for row in rows] == list(range(9))
    assert [bench_data.row_line(rows.files, k) for k in range(9)] == [f"line {n} of f.jsonl" for n in expected]
    # one JSON array: no lines (a lone file's row number says where the row is)
    path.write_text("\n [\n" + ",\n\n".join(json.dumps({"i": i}) for i in range(3)) + "]\n")
    rows, _ = bench_data.load_local(str(path))
    assert rows.files[0].blank_lines is None and bench_data.row_line(rows.files, 1) is None
    # one object after blank lines: its first line
    path.write_text("\n\n{\n\n\"i\": 0}\n")
    rows, _ = bench_data.load_local(str(path))
    assert bench_data.row_line(rows.files, 0) == "line 3 of f.jsonl"
