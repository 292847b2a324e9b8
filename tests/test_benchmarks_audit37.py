"""Audit 37 of the mbpp benchmark: a row whose tests build objects of a class the answer must define
(MBPP/601's `Pair` in its asserts, MBPP/927's `Node` in its setup code), which Code-v0 refuses, is
skipped, counted, warned about and named by task id, as APPS's rows without tests are, instead of
aborting the whole benchmark; the other rows are scored."""

from __future__ import annotations

import json

from rlvr.benchmarks.registry import MBPP_CLASS_OBJECTS, load_benchmark
from rlvr.cli import main
from conftest import write_jsonl
from test_code_env_audit37 import MBPP_17, MBPP_601, MBPP_927

MBPP_2 = {"task_id": 2, "text": "Write a function to add two numbers.", "code": "def add(a, b):\r\n  return a + b",
          "test_list": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"], "test_setup_code": "", "challenge_test_list": []}


def _mixed(tmp_path) -> str:
    """Two scorable rows, with MBPP/601 (row 1) and MBPP/927 (row 3) between and after them."""
    return write_jsonl(tmp_path / "mbpp.jsonl", [MBPP_17, MBPP_601, MBPP_2, MBPP_927])


def test_class_rows_are_skipped_counted_and_named_and_the_rest_are_tasks(tmp_path):
    loaded = load_benchmark("mbpp", data=_mixed(tmp_path))
    assert [task.id for task in loaded.tasks] == ["17", "2"]
    assert loaded.skipped == {"601": MBPP_CLASS_OBJECTS, "927": MBPP_CLASS_OBJECTS}
    data = loaded.data_fingerprint
    assert (data["rows_read"], data["rows_used"], data["rows_skipped"]) == (4, 2, {MBPP_CLASS_OBJECTS: 2})
    assert loaded.task_label(1) == "task '2' (row 2)"  # its row of the file, the skipped row counted
    warning, = loaded.warnings
    assert warning == (f"mbpp: 2 of 4 rows skipped (2 {MBPP_CLASS_OBJECTS}); they are not scored "
                       f"(tasks '601', '927')")


def test_benchmarks_check_skips_the_class_rows_and_checks_the_rest(tmp_path, capsys):
    assert main(["benchmarks", "check", "mbpp", "--data", _mixed(tmp_path), "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "mbpp: 2/2 reference solutions right, 0 wrong, 0 unverified" in captured.out
    assert f"warning: mbpp: 2 of 4 rows skipped (2 {MBPP_CLASS_OBJECTS}); they are not scored (tasks '601', '927')" \
        in captured.err


def test_eval_completions_ignores_the_class_rows_and_scores_the_rest(tmp_path, capsys):
    comps = write_jsonl(tmp_path / "c.jsonl", [
        {"task_id": 17, "completion": "```python\ndef square_perimeter(a):\n    return 4 * a\n```"},
        {"task_id": 601, "completion": "```python\ndef Pair(a, b):\n    return (a, b)\n\n"
                                       "def max_chain_length(arr, n):\n    return 3\n```"},
        {"task_id": 2, "completion": "```python\ndef add(a, b):\n    return a - b\n```"},
        {"task_id": 927, "completion": "```python\ndef max_height(node):\n    return 3\n```"}])
    out = tmp_path / "out"
    assert main(["eval", "--benchmark", "mbpp", "--data", _mixed(tmp_path), "--completions", comps, "--out", str(out),
                 "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "mbpp: 2 of 4 rows skipped" in captured.err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["pass@1"] == 0.5 and summary["counts"]["samples"] == 2
    assert summary["fingerprint"]["data"]["rows_skipped"] == {MBPP_CLASS_OBJECTS: 2}
    assert any("(tasks '601', '927')" in w for w in summary["warnings"])
    assert any(w.startswith("2 completions for 2 problems that mbpp skips") for w in summary["warnings"])
    scored = {json.loads(line)["task_id"] for line in (out / "samples.jsonl").read_text().splitlines()}
    assert scored == {"17", "2"}


def test_an_mbpp_plus_class_row_is_skipped_before_its_script_is_read(tmp_path):
    """MBPP+'s script builds the class too (`inputs = [[[Pair(5, 24), ...], 4]]`): it was read first
    and its first call, `Pair`, taken for the tested function, an error that stopped the whole run."""
    def plus(row, script):
        return {"task_id": f"Mbpp/{row['task_id']}", "prompt": row["text"], "code": row["code"],
                "test_imports": [], "test_list": row["test_list"], "test": script}
    rows = [plus(MBPP_17, "inputs = [[10], [5]]\nresults = [40, 20]\nfor inp, exp in zip(inputs, results):\n"
                          "    assert square_perimeter(*inp) == exp\n"),
            plus(MBPP_601, "inputs = [[[Pair(5, 24), Pair(15, 25), Pair(27, 40), Pair(50, 60)], 4]]\nresults = [3]\n"
                           "for inp, exp in zip(inputs, results):\n    assert max_chain_length(*inp) == exp\n")]
    loaded = load_benchmark("mbpp", data=write_jsonl(tmp_path / "plus.jsonl", rows))
    assert [task.id for task in loaded.tasks] == ["Mbpp/17"]
    assert loaded.skipped == {"Mbpp/601": MBPP_CLASS_OBJECTS}
