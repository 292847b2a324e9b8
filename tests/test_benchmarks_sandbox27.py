"""Benchmarks, sandbox 27: `rlvr eval --sandbox` reaches every env that runs the model's code.

A red team found it applied to code benchmarks only: a benchmark over ToolMath-v0 with the python
tool ran the model's programs in the "auto" sandbox whatever --sandbox said, and with a backend that
could not start (which the CLI announced as "unverified, not scored") in the unisolated subprocess
backend, scored. An env that cannot take a sandbox at all refuses a chosen one instead of ignoring it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from rlvr.benchmarks import register_benchmark
from rlvr.benchmarks.registry import load_benchmark
from rlvr.cli import main
from rlvr.envs.tool_env import ToolMathEnv


def tool_call(code: str) -> str:
    return "<tool_call>" + json.dumps({"name": "python", "arguments": {"code": code}}) + "</tool_call>"


@pytest.fixture
def toolmath():
    """A registered ToolMath-v0 benchmark with the python tool (not a code benchmark)."""
    register_benchmark("toolmath-sandbox27", "rlvr/ToolMath-v0", size=1, force=True,
                       env_kwargs={"builtin_tools": ("python",), "max_turns": 3})
    return "toolmath-sandbox27"


@pytest.fixture
def world():
    """A folder anyone can reach and write (pytest's tmp_path is its owner's only): the subprocess
    backend runs the program as another user."""
    folder = Path(tempfile.mkdtemp(prefix="rlvr-sandbox27-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def eval_writing(tmp_path, benchmark, backend, marker):
    """`rlvr eval --sandbox backend` of one completion whose python call writes `marker`: the exit
    status, the sample row and the summary."""
    program = f"open({str(marker)!r}, 'w').write('ran'); print(60)"
    comps = tmp_path / "c.jsonl"
    comps.write_text(json.dumps({"task_id": "0", "completion": tool_call(program)}) + "\n")
    out = tmp_path / "out"
    code = main(["eval", "--benchmark", benchmark, "--completions", str(comps), "--out", str(out),
                 "--sandbox", backend, "--no-progress"])
    row = json.loads((out / "samples.jsonl").read_text().splitlines()[-1])
    return code, row, json.loads((out / "summary.json").read_text())


def test_tool_benchmark_runs_the_python_tool_in_the_chosen_sandbox(tmp_path, toolmath, world):
    marker = world / "ran.txt"
    code, row, summary = eval_writing(tmp_path, toolmath, "subprocess", marker)
    assert code == 0 and row["error"] is None  # judged (no final answer: wrong, but scored)
    assert summary["fingerprint"]["env"]["settings"]["sandbox_backend"] == "subprocess"
    # the program ran in the chosen backend: subprocess isolates nothing, so its file is on the host
    # (before the fix it ran in "auto", bwrap here, whose writes stay inside the sandbox)
    assert marker.read_text() == "ran"


def test_tool_benchmark_with_a_sandbox_that_cannot_start_is_unverified(tmp_path, toolmath, world, monkeypatch, capsys):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/rlvr-test-docker.sock")  # docker cannot start
    marker = world / "ran.txt"
    code, row, summary = eval_writing(tmp_path, toolmath, "docker", marker)
    assert code == 3
    assert "cannot start" in capsys.readouterr().err
    assert row["error"] and not row["correct"]
    assert summary["excluded"] == 1 and summary["complete"] is False
    assert summary["fingerprint"]["env"]["settings"]["sandbox_backend"] == "unavailable"
    assert not marker.exists()  # the program never ran (before the fix: in another backend, and scored)


def test_sandbox_for_an_env_that_takes_none_is_refused(tmp_path, capsys):
    register_benchmark("arith-sandbox27", "rlvr/Arithmetic-v0", size=2, force=True)
    comps = tmp_path / "c.jsonl"
    comps.write_text(json.dumps({"task_id": "Arithmetic/0", "completion": "1"}) + "\n")
    code = main(["eval", "--benchmark", "arith-sandbox27", "--completions", str(comps), "--out",
                 str(tmp_path / "out"), "--sandbox", "subprocess", "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err
    assert "rlvr/Arithmetic-v0, which takes no sandbox" in err and "--sandbox" in err
    assert not (tmp_path / "out" / "samples.jsonl").exists()
    # without --sandbox (auto) it runs, and the Python API may still pass a sandbox it does not use
    assert main(["eval", "--benchmark", "arith-sandbox27", "--completions", str(comps), "--out",
                 str(tmp_path / "out"), "--no-progress"]) == 0
    assert len(load_benchmark("arith-sandbox27", sandbox=object()).tasks) == 2


class _PassingOnToolMath(ToolMathEnv):
    """A user's env over ToolMath-v0 that hands its keyword arguments on (`**kwargs`): it takes a
    sandbox as surely as ToolMath-v0 does (the first version of the fix read only the class's own
    `__init__`, refused `--sandbox` for such a benchmark and dropped the sandbox given to
    `load_benchmark`)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)


def test_an_env_taking_keyword_arguments_on_gets_the_sandbox(tmp_path, world):
    import gymnasium

    gymnasium.register("rlvr/PassingOnToolMath-v0", entry_point=_PassingOnToolMath)
    register_benchmark("passing-on-sandbox27", "rlvr/PassingOnToolMath-v0", size=1, force=True,
                       env_kwargs={"builtin_tools": ("python",), "max_turns": 3})
    code, row, summary = eval_writing(tmp_path, "passing-on-sandbox27", "subprocess", world / "ran.txt")
    assert code == 0 and row["error"] is None, (code, row)
    assert summary["fingerprint"]["env"]["settings"]["sandbox_backend"] == "subprocess"
    assert (world / "ran.txt").read_text() == "ran"


def eval_refused(tmp_path, benchmark, capsys):
    """`rlvr eval --sandbox docker` of `benchmark` with docker unreachable: the exit status, stderr
    and whether --out was created."""
    comps = tmp_path / "c.jsonl"
    comps.write_text(json.dumps({"task_id": "0", "completion": "1"}) + "\n")
    out = tmp_path / "out"
    code = main(["eval", "--benchmark", benchmark, "--completions", str(comps), "--out", str(out),
                 "--sandbox", "docker", "--no-progress"])
    return code, capsys.readouterr().err, out.exists()


def test_sandbox_refused_before_the_backend_starts_or_out_is_created(tmp_path, monkeypatch, capsys):
    # the review found the backend started first (its "cannot start ... unverified" warning printed
    # before the refusal) and an empty --out left behind
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/rlvr-test-docker.sock")
    code, err, out_created = eval_refused(tmp_path, "gsm8k", capsys)
    assert code == 2 and "rlvr/Math-v0, which takes no sandbox" in err
    assert "cannot start" not in err and "unverified" not in err
    assert not out_created
    assert "verifier_settings" not in err  # advice for envs registered with verifier="code" only


def test_an_env_registered_with_the_code_verifier_is_told_where_its_sandbox_goes(tmp_path, monkeypatch, capsys,
                                                                                 registered):
    # an in-memory dataset: the registered entry point is a creator taking **kwargs, which was read as
    # taking a sandbox (the env then failed on it with a TypeError traceback)
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/rlvr-test-docker.sock")
    env_id = registered("rlvr/CodeVerifierSandbox27-v0", dataset=[{"question": "q", "answer": "a"}], verifier="code")
    register_benchmark("code-verifier-sandbox27", env_id, size=1, force=True)
    code, err, out_created = eval_refused(tmp_path, "code-verifier-sandbox27", capsys)
    assert code == 2 and f"{env_id}, which takes no sandbox" in err
    assert 'verifier_settings={"sandbox": make_sandbox(...)}' in err
    assert "cannot start" not in err and not out_created
