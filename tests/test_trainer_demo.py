"""The demo, shortened: warm-up, DAPO, held-out pass@1 before/after, summary, plot; and `rlvr train`."""

from __future__ import annotations

import json

import pytest

from rlvr.cli import main
from rlvr.trainers.demo import run_demo


@pytest.mark.slow
@pytest.mark.timeout(1500)  # ~100 s alone on 2 cores; several times that beside the rest of the suite
def test_quick_demo_runs_and_reports(tmp_path):
    out = tmp_path / "demo"
    summary = run_demo(output_dir=out, quick=True)
    saved = json.loads((out / "summary.json").read_text())
    for key in ("pass@1_before", "pass@1_after", "eval_decoding", "wall_seconds", "warmup_seconds"):
        assert key in saved
    assert saved["pass@1_before"] == summary["pass@1_before"]
    assert 0.0 <= saved["pass@1_before"] <= 1.0 and 0.0 <= saved["pass@1_after"] <= 1.0
    # the warm-up leaves a modest model, and RL alone clearly improves it on held-out problems
    assert saved["pass@1_before"] < 0.5
    assert saved["pass@1_after"] - saved["pass@1_before"] >= 0.15, saved
    assert (out / "curves.png").stat().st_size > 1000
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == saved["steps"]
    for key in ("reward_mean", "reward_std", "accuracy", "response_length", "clip_frac", "entropy", "grad_norm",
                "filtered_fraction", "extra_rounds", "tokens_per_s", "time/generate", "time/reward", "time/update"):
        assert any(key in r for r in rows), key
    assert list((out / "tensorboard").iterdir())


def test_cli_train_errors_name_the_key(tmp_path, capsys):
    assert main(["train", "--config", "configs/demo.yaml", "--set", "train.lrr=1"]) == 2
    assert "train.lrr" in capsys.readouterr().err
    assert main(["train", "--config", "configs/demo.yaml", "--set", f"log.output_dir={tmp_path}", "--resume"]) == 2
    assert "no checkpoint" in capsys.readouterr().err


def test_cli_train_runs_and_resume_refuses_when_done(tmp_path, capsys):
    args = ["train", "--config", "configs/demo.yaml", "--set", f"log.output_dir={tmp_path}", "--set", "warmup.steps=5",
            "--set", "train.total_steps=1", "--set", "eval.num_tasks=4", "--set", "log.progress=false",
            "--set", "train.batch_groups=2", "--set", "train.group_size=2"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 1 and "pass@1_after" in summary
    assert main([*args, "--resume"]) == 2
    assert "nothing left to do" in capsys.readouterr().err


def test_noisy_teacher_mistakes_by_hand():
    from rlvr.trainers.warmup import MISTAKES

    assert MISTAKES["off_by_one"]("57+68=", "125") == "126"
    assert MISTAKES["off_by_one"]("x=", "not a number") == "not a number"
    assert MISTAKES["drop_carry"]("57+68=", "125") == "15"  # 7+8 -> 5, 5+6 -> 1: carries forgotten
    assert MISTAKES["drop_carry"]("12+34=", "46") == "46"  # nothing to carry: the right answer
