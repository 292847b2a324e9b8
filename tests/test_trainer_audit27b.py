"""Review 27 (b): a run stopped by an infrastructure failure in its first step, and user tools that
flag their own infrastructure failure.

1. A sandbox outage during step 1 (exit 3) left a ``summary.json`` of no step, which made the same
   command refuse the folder ("already holds the outputs of a run") and ``--resume`` refuse it too:
   the run could only go on with ``log.overwrite``. The message also said to resume.
2. ``ToolInfraError``, the way a user tool says its backend is down (not the model's fault), was not
   exported from ``rlvr.envs``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rlvr
from rlvr.cli import main
from rlvr.trainers.checkpoint import latest_checkpoint
from rlvr.verifiers.verdict import Verdict

#: the stand-in for a sandbox: down until a test brings it back up
SANDBOX = {"up": False}


def _verify(gold: str, completion: str) -> Verdict | float:
    if not SANDBOX["up"]:
        return Verdict.failed("sandbox unreachable")
    return float(any(c.isdigit() for c in completion))


rlvr.register("rlvr/SandboxedDigit-v0", generator=lambda rng: {"question": f"7+{int(rng.integers(10**5, 10**6))}=", "answer": "8"},
              verifier=_verify, force=True)

TINY_YAML = """\
model: {name_or_path: tiny, tiny_hidden_size: 32, tiny_layers: 1, device: cpu}
env: {id: rlvr/SandboxedDigit-v0}
sampling: {max_new_tokens: 3}
algorithm: {dynamic_sampling: false}
train: {total_steps: 1, batch_groups: 2, group_size: 2, lr: 0.003, infra_retries: 0}
eval: {num_tasks: 0}
log: {progress: false, tensorboard: false, plot: false}
"""


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_YAML)
    return path


def train(config: Path, out: Path, *, resume: bool = False) -> int:
    """`rlvr train --config CONFIG --set log.output_dir=OUT` (and --resume)."""
    return main(["train", "--config", str(config), "--set", f"log.output_dir={out}"] + (["--resume"] if resume else []))


def test_a_run_stopped_by_an_infrastructure_failure_in_step_1_can_simply_be_run_again(tmp_path, config, capsys,
                                                                                    monkeypatch):
    out = tmp_path / "run"
    monkeypatch.setitem(SANDBOX, "up", False)
    assert train(config, out) == 3
    err = capsys.readouterr().err
    assert "sandbox unreachable" in err and "run the same command again (without --resume)" in err
    assert "cannot be resumed" not in err
    summary = json.loads((out / "summary.json").read_text())  # why it stopped is kept
    assert summary["steps"] == 0 and "sandbox unreachable" in summary["stop_reason"]

    assert train(config, out, resume=True) == 2  # nothing to resume, and nothing in the way of a new start
    err = capsys.readouterr().err
    assert "run without --resume to start" in err and "outputs of a run" not in err

    monkeypatch.setitem(SANDBOX, "up", True)  # the sandbox is fixed: the same command starts the run
    assert train(config, out) == 0
    assert latest_checkpoint(out).name == "step_000001"
    assert json.loads((out / "summary.json").read_text())["steps"] == 1


def test_a_user_tool_raising_tool_infra_error_is_flagged_not_scored():
    from rlvr.envs import ToolError, ToolInfraError, tool

    @tool
    def lookup(key: str) -> str:
        """Look up a key in the database.

        Args:
            key: the key.
        """
        if key == "missing":
            raise ToolError(f"no key {key!r}")  # the model's fault
        raise ToolInfraError("database unreachable")  # the backend's

    call = '<tool_call>{"name": "lookup", "arguments": {"key": "%s"}}</tool_call>'
    env = rlvr.make("rlvr/ToolMath-v0", builtin_tools=(), tools=[lookup])
    env.reset(options={"index": 0})
    *_, info = env.step(call % "missing")
    assert info["valid"] and info["turn_details"]["tool_calls"][0]["ok"] is False

    env.reset(options={"index": 0})
    _, reward, terminated, _, info = env.step(call % "muffins")
    assert info["valid"] is False and info["error"] == "database unreachable" and terminated
    assert info["turn_details"]["tool_calls"][-1]["infra_error"] == "database unreachable"


def test_a_fresh_start_hides_the_tensorboard_points_of_a_run_stopped_before_its_first_step(tmp_path):
    # a run stopped in step 1 leaves its step-0 points (the evaluation before training) in
    # tensorboard/; the same folder is started again without log.overwrite, possibly with other
    # settings: TensorBoard must show only the new run's points
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from rlvr.trainers.metrics import MetricsLogger

    first = MetricsLogger(tmp_path, 3, progress=False, jsonl=False)
    first.log(0, {"eval/pass@1": 0.25})
    first.close()
    second = MetricsLogger(tmp_path, 3, progress=False, jsonl=False)
    second.log(0, {"eval/pass@1": 0.5})
    second.log(1, {"eval/pass@1": 0.75})
    second.close()
    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    assert [(e.step, e.value) for e in events.Scalars("eval/pass@1")] == [(0, 0.5), (1, 0.75)]
