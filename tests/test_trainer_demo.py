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
    # a row per step, after the evaluation before training (step 0)
    assert [r["step"] for r in rows] == list(range(saved["steps"] + 1))
    assert rows[0]["eval/pass@1"] == saved["pass@1_before"]
    for key in ("reward_mean", "reward_std", "accuracy", "response_length", "clip_frac", "entropy", "grad_norm",
                "filtered_fraction", "extra_rounds", "tokens_per_s", "time/generate", "time/reward", "time/update",
                "infra_retried_groups"):
        assert any(key in r for r in rows), key
    assert list((out / "tensorboard").iterdir())


def test_cli_train_errors_name_the_key(tmp_path, capsys):
    assert main(["train", "--config", "configs/demo.yaml", "--set", "train.lrr=1"]) == 2
    assert "train.lrr" in capsys.readouterr().err
    assert main(["train", "--config", "configs/demo.yaml", "--set", f"log.output_dir={tmp_path}", "--resume"]) == 2
    assert "no checkpoint" in capsys.readouterr().err


def test_cli_train_with_a_model_that_cannot_be_loaded_is_exit_2_naming_the_key(tmp_path, capsys):
    # a folder that holds no model (or a hub id without hub access) was a ~100-line transformers
    # traceback and exit 1; now one line naming model.name_or_path and what to set it to
    empty = tmp_path / "not_a_model"
    empty.mkdir()
    args = ["train", "--config", "configs/demo.yaml", "--set", f"log.output_dir={tmp_path / 'run'}",
            "--set", f"model.name_or_path={empty}", "--set", "log.progress=false"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("rlvr train: model.name_or_path=") and "save_pretrained" in err and len(err.splitlines()) == 1


def test_cli_train_runs_and_resume_refuses_when_done(tmp_path, capsys):
    args = ["train", "--config", "configs/demo.yaml", "--set", f"log.output_dir={tmp_path}", "--set", "warmup.steps=5",
            "--set", "train.total_steps=1", "--set", "eval.num_tasks=4", "--set", "log.progress=false",
            "--set", "train.batch_groups=2", "--set", "train.group_size=2"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 1 and "pass@1_after" in summary
    assert main([*args, "--resume"]) == 2
    assert "nothing left to do" in capsys.readouterr().err


TINY_DEMO = ["warmup.steps=2", "train.total_steps=1", "train.batch_groups=2", "train.group_size=2",
             "model.tiny_hidden_size=32", "model.tiny_layers=1", "log.progress=false", "log.tensorboard=false"]


def test_demo_without_evaluation_in_its_own_output_dir(tmp_path, capsys):
    # eval.num_tasks=0 crashed on the missing pass@1 values; --set log.output_dir trained there and then
    # looked for the summary in --output-dir
    elsewhere = tmp_path / "elsewhere"
    summary = run_demo(output_dir=tmp_path / "default", overrides=[*TINY_DEMO, "eval.num_tasks=0", f"log.output_dir={elsewhere}"])
    assert "improvement" not in summary and "pass@1_after" not in summary
    assert json.loads((elsewhere / "summary.json").read_text())["steps"] == 1 and not (tmp_path / "default").exists()
    out = capsys.readouterr().out
    assert "no held-out evaluation was requested (eval.num_tasks=0)" in out and f"results in {elsewhere}/" in out
    run_demo(output_dir=elsewhere, overrides=[*TINY_DEMO, "eval.num_tasks=0"])  # its own directory: replaced


def test_demo_refuses_a_directory_holding_another_run(tmp_path, capsys):
    from rlvr.trainers.checkpoint import latest_checkpoint

    args = ["train", "--config", "configs/demo.yaml", "--set", f"log.output_dir={tmp_path}", *[x for kv in TINY_DEMO for x in ("--set", kv)]]
    assert main(args) == 0
    assert main(["demo", "--output-dir", str(tmp_path), *[x for kv in TINY_DEMO for x in ("--set", kv)]]) == 2
    assert "was not made by rlvr demo" in capsys.readouterr().err
    assert latest_checkpoint(tmp_path) is not None and (tmp_path / "metrics.jsonl").exists()
    # a demo run from before the marker file existed is still recognised by its summary, and replaced
    older = tmp_path / "older_demo"
    older.mkdir()
    (older / "summary.json").write_text(json.dumps({"pass@1_before": 0.1, "eval_decoding": "greedy", "wall_seconds": 9.0}))
    from rlvr.trainers.demo import _made_by_demo

    assert _made_by_demo(older) and not _made_by_demo(tmp_path)


def test_noisy_teacher_mistakes_by_hand():
    from rlvr.trainers.warmup import MISTAKES

    assert MISTAKES["off_by_one"]("57+68=", "125") == "126"
    assert MISTAKES["off_by_one"]("x=", "not a number") == "not a number"
    assert MISTAKES["drop_carry"]("57+68=", "125") == "15"  # 7+8 -> 5, 5+6 -> 1: carries forgotten
    assert MISTAKES["drop_carry"]("12+34=", "46") == "46"  # nothing to carry: the right answer


def test_cli_train_without_vllm_installed_is_exit_2_naming_the_fix(tmp_path, capsys, monkeypatch):
    """`engine.name=vllm` where vLLM cannot be imported: a message saying how to install it, exit 2
    (it was a traceback and exit 1)."""
    import sys

    from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer

    monkeypatch.setitem(sys.modules, "vllm", None)  # `import vllm` raises ImportError, installed or not
    tokenizer = build_tiny_tokenizer()
    model = tmp_path / "model"
    build_tiny_model(tokenizer, hidden_size=32, num_layers=1).save_pretrained(model)
    tokenizer.save_pretrained(model)
    code = main(["train", "--config", "configs/demo.yaml", "--set", "engine.name=vllm", "--set",
                 f"model.name_or_path={model}", "--set", f"log.output_dir={tmp_path / 'run'}", "--set", "warmup.steps=0"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "needs vLLM" in err and "Traceback" not in err


def test_a_warm_up_on_a_finite_dataset_is_a_config_error_naming_the_key(tmp_path, capsys):
    """configs/demo.yaml with only env.id changed to a dataset env crashed with an IndexError from the
    warm-up (it reads tasks from index 5,000,000 on) after the model was built."""
    code = main(["train", "--config", "configs/demo.yaml", "--set", "env.id=rlvr/Code-v0", "--set", "env.kwargs={}",
                 "--set", f"log.output_dir={tmp_path}", "--set", "model.tiny_hidden_size=32", "--set", "model.tiny_layers=1"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "warmup.steps" in err and "set warmup.steps=0" in err and "Traceback" not in err
