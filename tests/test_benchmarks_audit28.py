"""Benchmarks, audit 28: evalplus layouts (what a red team found).

- an MBPP+ file (evalplus/mbppplus: the MBPP columns plus a `test` script checking every base and
  plus input) given to `--benchmark mbpp` was scored on `test_list` alone, its `test` column never
  read: an answer failing the plus inputs scored pass@1 1.0;
- samples whose dataset tests could not run (HumanEval+ and MBPP+ tests import numpy, which the
  sandbox's Python lacks: a setup error) got the INCOMPLETE banner of a sandbox outage, whose
  advice (`rlvr sandbox check`, rerun) cannot help.
"""

from __future__ import annotations

import json

import pytest

from rlvr.benchmarks.data import BenchmarkDataError
from rlvr.benchmarks.evaluate import evaluate_completions
from rlvr.benchmarks.registry import load_benchmark
from rlvr.cli import main
from rlvr.sandbox import make_sandbox
from test_benchmarks import DownSandbox  # every run a sandbox_error, as when the backend is gone

#: An MBPP+ `test` script as evalplus/mbppplus writes them, less numpy (absent in the sandbox's
#: Python): an `assertion` helper, the base input and a plus input whose expected value is `()`.
PLUS_TEST = ("def assertion(out, exp, atol):\n    assert out == exp\n\n"
             "inputs = [[(3, 4, 5, 6), (5, 7, 4, 10)], [(1, 2), (3, 4)]]\nresults = [(4, 5), ()]\n"
             "for i, (inp, exp) in enumerate(zip(inputs, results)):\n    assertion(similar_elements(*inp), exp, 0)\n")
BASE_ASSERT = "assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))"
PLUS_ROW = {"task_id": 2, "code": "def similar_elements(a, b):\n  return tuple(sorted(set(a) & set(b)))",
            "prompt": "Write a function to find the shared elements from the given two lists.",
            "source_file": "Benchmark Questions Verification V2.ipynb", "test_imports": [],
            "test_list": [BASE_ASSERT], "test": PLUS_TEST}
RIGHT = "```python\ndef similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b)))\n```"
# right on the base assert, wrong on the plus input ((1, 2), (3, 4)): None instead of ()
WRONG_ON_PLUS = ("```python\ndef similar_elements(a, b):\n    if not set(a) & set(b):\n        return None\n"
                 "    return tuple(sorted(set(a) & set(b)))\n```")


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


@pytest.fixture(scope="module")
def box():
    sandbox = make_sandbox("subprocess")
    yield sandbox
    sandbox.close()


def run_cli(tmp_path, benchmark, rows, completions, capsys):
    """`rlvr eval` of `completions` on a local file of `rows` with the subprocess sandbox: the exit
    status, the summary, the sample rows and stderr."""
    data = write_jsonl(tmp_path / "data.jsonl", rows)
    comps = write_jsonl(tmp_path / "c.jsonl", completions)
    out = tmp_path / "out"
    code = main(["eval", "--benchmark", benchmark, "--data", data, "--completions", comps, "--out", str(out),
                 "--sandbox", "subprocess", "--no-progress"])
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    return code, json.loads((out / "summary.json").read_text()), samples, capsys.readouterr().err


# ------------------------------------------------------------------ MBPP+ files


def test_mbpp_plus_file_is_scored_by_its_test_script(tmp_path, capsys):
    code, summary, samples, err = run_cli(tmp_path, "mbpp", [PLUS_ROW], [
        {"task_id": 2, "sample_index": 0, "completion": WRONG_ON_PLUS},
        {"task_id": 2, "sample_index": 1, "completion": RIGHT}], capsys)
    assert code == 0
    by_index = {s["sample_index"]: s for s in samples}
    # before the fix both passed the base assert alone: pass@1 1.0
    assert not by_index[0]["correct"] and "returned None" in by_index[0]["reason"]
    assert by_index[1]["correct"]
    assert summary["pass@1"] == 0.5
    # the run records that the `test` column was scored, and says so
    assert summary["fingerprint"]["data"]["tests_column"].startswith("test (MBPP+")
    assert any("'test' column" in w and "drop the 'test' column" in w for w in summary["warnings"])
    assert "'test' column" in err


def test_mbpp_plus_prompt_shows_the_first_assert_not_the_script(tmp_path):
    """The script holds every input and its expected output: the prompt's example stays the first
    `test_list` assert, as for MBPP."""
    data = write_jsonl(tmp_path / "plus.jsonl", [PLUS_ROW])
    loaded = load_benchmark("mbpp", data=data)
    prompt = loaded.env.make_prompt(loaded.tasks[0])
    assert BASE_ASSERT in prompt and "inputs =" not in prompt and "results =" not in prompt
    assert loaded.tasks[0].meta["entry_point"] == "similar_elements"


def test_mbpp_file_without_test_column_is_read_as_before(tmp_path, box):
    row = {k: v for k, v in PLUS_ROW.items() if k != "test"}
    data = write_jsonl(tmp_path / "mbpp.jsonl", [row])
    loaded = load_benchmark("mbpp", data=data)
    assert "tests_column" not in loaded.data_fingerprint and not loaded.warnings
    assert loaded.tasks[0].meta["example"] == BASE_ASSERT
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": 2, "completion": WRONG_ON_PLUS}])
    result = evaluate_completions("mbpp", comps, str(tmp_path / "out"), data=data, sandbox=box, progress=False,
                                  verbose=False)
    assert result["pass@1"] == 1.0  # base MBPP: the plus input is not part of it


def test_mbpp_plus_script_testing_another_function_is_refused(tmp_path):
    row = dict(PLUS_ROW, test=PLUS_TEST.replace("similar_elements(*inp)", "other_function(*inp)"))
    with pytest.raises(BenchmarkDataError, match=r"row 0: the 'test' script checks the function 'other_function'"):
        load_benchmark("mbpp", data=write_jsonl(tmp_path / "plus.jsonl", [row]))


def test_mbpp_plus_row_without_its_script_is_refused(tmp_path):
    rows = [PLUS_ROW, dict(PLUS_ROW, task_id=3, test=None)]
    with pytest.raises(BenchmarkDataError, match=r"row 1: column 'test' is null or missing"):
        load_benchmark("mbpp", data=write_jsonl(tmp_path / "plus.jsonl", rows))


def test_mbpp_plus_scoring_is_part_of_the_runs_data_identity(tmp_path):
    """A results folder scored on `test_list` alone (before this fix) holds the same file's SHA-256;
    the note in the data identity keeps it from being resumed with `test`-scored samples."""
    from rlvr.benchmarks.identity import data_identity

    loaded = load_benchmark("mbpp", data=write_jsonl(tmp_path / "plus.jsonl", [PLUS_ROW]))
    assert data_identity(loaded.data_fingerprint)["tests_column"].startswith("test (MBPP+")


# ------------------------------------------------------------------ the INCOMPLETE banner

#: A HumanEval row whose tests import a module no sandbox Python has (as HumanEval+ imports numpy).
MISSING = "rlvr_absent_module_28"
HE_ROW = {"task_id": "T/0", "prompt": "def add(a, b):\n    \"\"\"Add a and b.\"\"\"\n",
          "test": f"import {MISSING}\n\n\ndef check(candidate):\n    assert candidate(1, 2) == 3\n",
          "entry_point": "add", "canonical_solution": "    return a + b\n"}


def test_tests_needing_a_missing_module_are_not_called_an_outage(tmp_path, capsys):
    code, summary, samples, err = run_cli(tmp_path, "humaneval", [HE_ROW],
                                          [{"task_id": "T/0", "completion": "    return a + b\n"}], capsys)
    assert code == 3 and summary["excluded"] == 1
    assert samples[0]["kind"] == "setup_error"
    assert summary["counts"]["excluded_kinds"] == {"setup_error": 1}
    banner = err[err.index("INCOMPLETE"):]
    assert banner.startswith("INCOMPLETE: 1 of 1 samples could NOT be verified")
    # before the fix: "infrastructure failure, e.g. the sandbox is down ... Fix it (`rlvr sandbox check`)"
    assert "sandbox is down:" not in banner and "rlvr sandbox check" not in banner
    assert "dataset's own tests failed" in banner
    assert f"The tests import {MISSING}, which the sandbox's Python does not have" in banner
    assert "--sandbox bwrap --sandbox-python" in banner and "--sandbox docker --sandbox-image" in banner
    assert "evaluate_completions" in banner
    assert 'make_sandbox("bwrap", python=' in banner and 'make_sandbox("docker", image=' in banner


def test_an_outage_keeps_the_outage_banner(tmp_path, capsys):
    data = write_jsonl(tmp_path / "he.jsonl", [dict(HE_ROW, test="def check(candidate):\n    assert candidate(1, 2) == 3\n")])
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "T/0", "completion": "    return a + b\n"}])
    result = evaluate_completions("humaneval", comps, str(tmp_path / "out"), data=data, sandbox=DownSandbox(),
                                  progress=False)
    assert result.exit_code == 3 and result["counts"]["excluded_kinds"] == {"sandbox_error": 1}
    err = capsys.readouterr().err
    assert "infrastructure failure, e.g. the sandbox is down" in err and "rlvr sandbox check" in err
    assert "dataset's own tests" not in err


def banner_of(rows, counts):
    """The INCOMPLETE banner's text for these unverified sample rows (imported here: it is new)."""
    from rlvr.benchmarks.evaluate import _unverified_banner

    return _unverified_banner(rows, counts)


def test_banner_of_an_outage_and_failing_tests_together():
    rows = [{"error": "sandbox error: unavailable", "kind": "sandbox_error"},
            {"error": "setup error: ModuleNotFoundError: No module named 'numpy.linalg'", "kind": "setup_error"},
            # a row written before rows held a kind: read by its error text
            {"error": "setup error: ModuleNotFoundError: No module named 'scipy'"}]
    counts = {"excluded": 3, "samples": 4, "excluded_reasons": {r["error"]: 1 for r in rows}}
    banner = banner_of(rows, counts)
    assert "1 of them: infrastructure failure" in banner and "rlvr sandbox check" in banner
    assert "For 2 of them, the dataset's own tests failed" in banner
    assert "The tests import numpy, scipy," in banner


def test_banner_of_tests_that_cannot_check_names_no_module():
    rows = [{"error": "test 1 of 1 (line 2) cannot be checked: ...; fix or drop it in the dataset",
             "kind": "dataset_error"}]
    banner = banner_of(rows, {"excluded": 1, "samples": 1, "excluded_reasons": {rows[0]["error"]: 1}})
    assert "For all of them, the dataset's own tests failed" in banner
    assert "Fix or drop those rows in the dataset" in banner and "The tests import" not in banner
    assert "sandbox is down:" not in banner


# -- pass@k plot readability (the progress-and-plots review) ------------------------------------
def test_pass_at_k_plot_labels_few_ks_and_fits_a_long_title(tmp_path):
    from rlvr.benchmarks import summary

    assert summary._tick_labels([1, 2, 4, 8]) == [1, 2, 4, 8]
    assert summary._tick_labels(list(range(1, 17))) == [1, 2, 4, 8, 16]  # 1..16 ran into each other
    assert len(summary._tick_labels(list(range(1, 1025)))) <= summary.MAX_K_LABELS
    title = "gsm8k (/work/runs/gsm8k_qwen2.5_0.5b_dapo_lr1e-6/checkpoints/step_000200/model)"
    short = summary._fitting_title(title)
    assert len(short) <= summary.MAX_TITLE_CHARS and short.startswith("gsm8k (") and short.endswith("step_000200/model)")
    metrics = {f"pass@{k}": {"mean": k / 16, "ci_low": k / 16, "ci_high": k / 16} for k in range(1, 17)}
    ax = summary.pass_at_k_figure(metrics, title=title).axes[0]
    assert [int(t) for t in ax.get_xticks()] == [1, 2, 4, 8, 16] and ax.get_title() == short
    path = summary.plot_pass_at_k(metrics, str(tmp_path / "p.png"), title=title)
    assert path.endswith("p.png") and (tmp_path / "p.png").stat().st_size > 0


def test_benchmarks_check_tells_the_tests_own_failure_from_an_outage(tmp_path, capsys):
    # (the benchmark-data review) `rlvr benchmarks check` called a tests' missing import "infrastructure"
    data = write_jsonl(tmp_path / "he.jsonl", [HE_ROW])
    assert main(["benchmarks", "check", "humaneval", "--data", str(data), "--no-progress"]) == 3
    err = capsys.readouterr().err
    assert "unverified (1, the dataset's own tests failed, not the sandbox" in err, err
    assert "infrastructure" not in err and MISSING in err
