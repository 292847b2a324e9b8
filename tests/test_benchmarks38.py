"""Red team 38 on benchmarks.

- `rlvr benchmarks check` had no sandbox options, so a dataset whose tests import a module the
  system's python3 lacks (numpy for HumanEval+ and MBPP+) could never be verified from the command
  line; it now takes `rlvr eval`'s --sandbox, --sandbox-python and --sandbox-image (the same helpers),
  its message names them, and the sandbox it starts is closed after.
- The pass@k plot mixed problem subsets across k unmarked (pass@3 over 2 of 4 problems, pass@1 over
  4): such points are hollow, labelled "n of N", and a title line names the smallest subset.
- A run bringing back every sample set aside left an empty samples.other.jsonl, still named in
  summary.json's "files".
"""

from __future__ import annotations

import json
import os

import pytest

import rlvr.commands.benchmarks as bench_cmd
from conftest import get_sandbox
from rlvr.benchmarks import summary
from rlvr.benchmarks.samples import write_sample
from rlvr.cli import main
from test_cli_eval_sandbox29 import ROW
from test_cli_eval_sandbox29 import python_with_module as _venv_with_module


def _write(path, rows) -> str:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


# ---- 1. `rlvr benchmarks check --sandbox ... --sandbox-python ...` ------------------------------------


#: The interpreter of a venv (readable by every user) whose site-packages holds MODULE.
python_with_module = _venv_with_module


def _check(tmp_path, *options: str) -> int:
    data = _write(tmp_path / "he.jsonl", [ROW])  # its tests import MODULE, which python3 lacks
    return main(["benchmarks", "check", "humaneval", "--data", data, "--no-progress", *options])


def test_check_runs_the_tests_with_the_python_given_and_closes_its_sandbox(tmp_path, capsys, monkeypatch,
                                                                            python_with_module):
    get_sandbox("subprocess")
    started = []
    real = bench_cmd._sandbox

    def recording(*args, **kwargs):  # the real sandbox, kept to see that the check closed it
        started.append(real(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(bench_cmd, "_sandbox", recording)
    assert _check(tmp_path, "--sandbox", "subprocess") == 3
    err = capsys.readouterr().err
    assert "dataset's own tests failed" in err and "--sandbox-python PATH" in err and "--sandbox-image" in err
    assert _check(tmp_path, "--sandbox", "subprocess", "--sandbox-python", python_with_module) == 0
    assert "1/1 reference solutions right" in capsys.readouterr().out
    assert len(started) == 2 and started[1].python == python_with_module
    assert all(not os.path.exists(sandbox._root) for sandbox in started)  # closed: its folder removed


@pytest.mark.parametrize("options, message", [
    (["--sandbox-python", "python3"], "--sandbox-python is for --sandbox bwrap or subprocess, not auto"),
    (["--sandbox", "subprocess", "--sandbox-python", "/no/such/python"], "is not an executable file"),
    (["--sandbox-image", "img:1"], "--sandbox-image is for --sandbox docker, not auto"),
])
def test_check_refuses_sandbox_options_that_do_not_fit(tmp_path, capsys, options, message):
    assert _check(tmp_path, *options) == 2
    assert message in capsys.readouterr().err


def test_check_refuses_a_sandbox_the_benchmark_would_not_use(tmp_path, capsys):
    data = write_sample("gsm8k", str(tmp_path / "g.jsonl"))
    assert main(["benchmarks", "check", "gsm8k", "--data", data, "--no-progress", "--sandbox", "subprocess"]) == 2
    assert "takes no sandbox, so --sandbox would not be used" in capsys.readouterr().err


# ---- 2. the plot marks points computed over fewer problems -----------------------------------------


def _rows(answers_by_task: dict[str, list[bool]]) -> list[dict]:
    return [{"task_id": t, "sample_index": i, "correct": ok, "score": float(ok)}
            for t, answers in answers_by_task.items() for i, ok in enumerate(answers)]


def test_plot_marks_the_k_computed_over_fewer_problems():
    # the red team's run: 3, 5, 1 and 2 samples; the problem with one (wrong) sample drops out at k=2
    rows = _rows({"0": [True, False, False], "1": [True] * 5, "2": [False], "3": [True, True]})
    metrics = summary.compute_metrics(rows, [1, 2, 3], task_order=["0", "1", "2", "3"])["metrics"]
    assert [metrics[f"pass@{k}"]["problems"] for k in (1, 2, 3)] == [4, 3, 2]
    ax = summary.pass_at_k_figure(metrics, title="gsm8k (completions)").axes[0]
    hollow = [line for line in ax.lines if line.get_gid() == summary.SUBSET_GID]
    assert len(hollow) == 2  # pass@k and pass^k (pass^1 is not a metric: k = 2, 3 both subsets)
    assert all(list(line.get_xdata()) == [2, 3] and line.get_markerfacecolor() == "white" for line in hollow)
    labels = [(text.get_text(), text.xy[0]) for text in ax.texts if text.get_gid() == summary.SUBSET_GID]
    assert labels == [("3 of 4", 2), ("2 of 4", 3)]
    assert ax.get_title() == "gsm8k (completions)\nhollow points: fewer problems (pass@3 over 2 of 4)"


def test_plot_marks_nothing_when_every_k_covers_every_problem():
    rows = _rows({"0": [True, False, False], "1": [True, True, True]})
    metrics = summary.compute_metrics(rows, [1, 2, 3], task_order=["0", "1"])["metrics"]
    ax = summary.pass_at_k_figure(metrics, title="t").axes[0]
    assert not [a for a in [*ax.lines, *ax.texts] if a.get_gid() == summary.SUBSET_GID]
    assert ax.get_title() == "t"


# ---- 3. no empty samples.other.jsonl ---------------------------------------------------------------


def test_a_run_bringing_back_every_sample_set_aside_leaves_no_side_file(tmp_path, capsys):
    data = write_sample("gsm8k", str(tmp_path / "g.jsonl"))
    out = tmp_path / "out"
    a = [{"task_id": "0", "completion": "\\boxed{14}"}, {"task_id": "0", "completion": "\\boxed{15}"},
         {"task_id": "1", "completion": "\\boxed{19}"}]

    def run(name: str, rows: list[dict]) -> dict:
        comps = _write(tmp_path / f"{name}.jsonl", rows)
        # (--k 1: run B has one completion a problem, and a k no problem has completions for is refused)
        assert main(["eval", "--benchmark", "gsm8k", "--data", data, "--completions", comps, "--k", "1",
                     "--out", str(out), "--no-progress"]) == 0
        return json.loads((out / "summary.json").read_text())

    run("A", a)
    assert run("B", [a[0], a[2]])["files"]["other_samples"] == "samples.other.jsonl"  # sample 0/1 set aside
    assert (out / "samples.other.jsonl").stat().st_size > 0
    # C brings sample 0/1 back, changed: samples.jsonl holds the run's rows in order (its fast path)
    files = run("C", [a[0], {"task_id": "0", "completion": "\\boxed{16}"}, a[2]])["files"]
    assert "other_samples" not in files and not (out / "samples.other.jsonl").exists()
    assert len((out / "samples.jsonl").read_text().splitlines()) == 3
