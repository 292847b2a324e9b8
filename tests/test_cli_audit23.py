"""CLI audit 23: exit statuses and input checks of `rlvr demo`, `train`, `verifiers audit`, the
`--timeout` options, `benchmarks check` and `eval --completions`.

- a demo whose evaluation failed exits 1, as `rlvr train` does;
- verification failing for infrastructure reasons during training is a one-message error (exit 3),
  not a traceback;
- `verifiers audit` refuses a string `expected` ("false" was read as True) and a null gold or
  prediction (graded as the text "None", or counted unparsable), naming the line and field;
- a timeout that is not a positive finite number of seconds is argparse's usage error (exit 2);
- `benchmarks check` shows a progress bar and scores the same verdicts as one call;
- `eval --completions` refuses options only sampling uses instead of ignoring them.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import rlvr
from rlvr.benchmarks.evaluate import scored_chunks
from rlvr.benchmarks.registry import load_benchmark
from rlvr.benchmarks.samples import write_sample
from rlvr.benchmarks.scoring import score_completions
from rlvr.cli import main
from rlvr.verifiers.verdict import Verdict

# a procedural task whose verifier always fails for infrastructure reasons (e.g. a sandbox that is down)
rlvr.register("rlvr/BrokenVerifierCli-v0", generator=lambda rng: {"question": "1+1=", "answer": "2"},
              verifier=lambda gold, completion: Verdict.failed("sandbox unreachable"), force=True)

TINY = ["warmup.steps=2", "train.total_steps=1", "train.batch_groups=2", "train.group_size=2",
        "model.tiny_hidden_size=32", "model.tiny_layers=1", "log.progress=false", "log.tensorboard=false"]


def sets(*overrides: str) -> list[str]:
    return [arg for o in overrides for arg in ("--set", o)]


# ---------------------------------------------------------------- demo and train exit statuses


def test_demo_exits_1_when_its_evaluation_failed(tmp_path, capsys, monkeypatch):
    from rlvr.trainers.trainer import Trainer

    def broken(self, *args, **kwargs):  # e.g. the eval env's sandbox is down
        raise RuntimeError("eval infrastructure down")

    monkeypatch.setattr(Trainer, "evaluate", broken)
    assert main(["demo", "--output-dir", str(tmp_path / "demo"), *sets(*TINY, "eval.num_tasks=2")]) == 1
    err = capsys.readouterr().err
    assert "rlvr demo: training finished, but evaluation failed: " in err and "eval infrastructure down" in err
    assert json.loads((tmp_path / "demo" / "summary.json").read_text())["eval_errors"]


def test_train_infrastructure_failure_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    args = ["train", "--config", "configs/demo.yaml",
            *sets(*TINY, f"log.output_dir={tmp_path / 'run'}", "env.id=rlvr/BrokenVerifierCli-v0", "env.kwargs={}",
                  "warmup.steps=0", "eval.num_tasks=0", "train.infra_retries=0", "sampling.max_new_tokens=3")]
    assert main(args) == 3
    err = capsys.readouterr().err
    assert err.startswith("rlvr train: verification failed for infrastructure reasons")
    assert "sandbox unreachable" in err and "stopped at step 0; no checkpoint was saved" in err
    assert "Traceback" not in err


def test_demo_infrastructure_failure_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    args = ["demo", "--output-dir", str(tmp_path / "demo"),
            *sets(*TINY, "env.id=rlvr/BrokenVerifierCli-v0", "env.kwargs={}", "warmup.steps=0", "eval.num_tasks=0",
                  "train.infra_retries=0", "sampling.max_new_tokens=3")]
    assert main(args) == 3
    err = capsys.readouterr().err
    assert err.startswith("rlvr demo: verification failed for infrastructure reasons") and "Traceback" not in err


# ---------------------------------------------------------------- verifiers audit


def audit_file(tmp_path, *rows) -> str:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return str(path)


@pytest.mark.parametrize("label", ['"false"', '"no"', '"true"', "0", "1", "[]"])
def test_audit_refuses_an_expected_label_that_is_not_a_json_boolean(tmp_path, capsys, label):
    # bool("false") and bool("no") are True: the label was read backwards and the agreement was wrong
    path = audit_file(tmp_path, {"gold": "1", "prediction": "\\boxed{1}", "expected": True},
                      '{"gold": "2", "prediction": "\\\\boxed{3}", "expected": %s}' % label)
    assert main(["verifiers", "audit", path, "--no-math-verify"]) == 2
    out, err = capsys.readouterr()
    assert err.strip() == (f"{path}: line 2: expected is {label}; it must be true or false (a JSON "
                           "boolean, not a string or number), or left out for a row nobody judged")
    assert not out


@pytest.mark.parametrize("row, field", [
    ({"gold": None, "prediction": "\\boxed{1}"}, "gold ('gold')"),
    ({"answer": None, "prediction": "\\boxed{1}"}, "gold ('answer')"),
    ({"gold": "1", "prediction": None}, "prediction ('prediction')"),
    ({"gold": "1", "completion": None, "expected": False}, "prediction ('completion')"),
    ({"gold": "1", "prediction": ["1"]}, "prediction ('prediction')"),
    ({"gold": True, "prediction": "1"}, "gold ('gold')"),
])
def test_audit_refuses_a_null_gold_or_prediction_naming_row_and_field(tmp_path, capsys, row, field):
    # a null gold was graded as the answer "None"; a null prediction counted as an unparsable answer
    path = audit_file(tmp_path, {"gold": "1", "prediction": "\\boxed{1}"}, row)
    assert main(["verifiers", "audit", path, "--no-math-verify"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}: line 2: {field} is ") and "it must be a string or a number" in err


def test_audit_reads_booleans_numbers_and_null_labels(tmp_path, capsys):
    path = audit_file(tmp_path,
                      {"gold": "1/2", "prediction": "\\boxed{0.5}", "expected": True},
                      {"gold": 3, "prediction": 3, "expected": False},            # a wrong human label
                      {"gold": 0.5, "prediction": "\\boxed{1/2}", "expected": None},  # not judged
                      {"gold": "2", "prediction": "\\boxed{3}", "expected": False})
    assert main(["verifiers", "audit", path, "--no-math-verify", "--json"]) == 0
    out = capsys.readouterr().out
    assert "agreement with expected: 2/3" in out and "line 2: expected False, got True" in out
    assert json.loads(out.strip().splitlines()[-1])["kinds"] == {"equal": 3, "wrong": 1}


# ---------------------------------------------------------------- --timeout values


BAD_TIMEOUTS = ["-1", "0", "nan", "inf", "-inf", "soon"]


def timeout_commands(tmp_path) -> dict[str, list[str]]:
    """Every command with a --timeout, each otherwise runnable."""
    program = tmp_path / "p.py"
    program.write_text("print(1)\n")
    comps = tmp_path / "c.jsonl"
    comps.write_text("")
    return {
        "verify": ["verify", "2", "\\boxed{2}"],
        "audit": ["verifiers", "audit", audit_file(tmp_path, {"gold": "1", "prediction": "1"}), "--no-math-verify"],
        "sandbox": ["sandbox", "run", str(program), "--backend", "subprocess"],
        "eval": ["eval", "--benchmark", "gsm8k", "--engine", "openai", "--out", str(tmp_path / "o")],
    }


@pytest.mark.parametrize("value", BAD_TIMEOUTS)
@pytest.mark.parametrize("command", ["verify", "audit", "sandbox", "eval"])
def test_a_timeout_must_be_positive_finite_seconds(tmp_path, capsys, command, value):
    # -1 judged "wrong (timeout)" with exit 0; nan and inf were tracebacks; sandbox run said sandbox_error, exit 1
    assert main([*timeout_commands(tmp_path)[command], f"--timeout={value}"]) == 2
    out, err = capsys.readouterr()
    assert "error: argument --timeout: a timeout must be " in err and repr(value) in err and "Traceback" not in err
    assert not out


def test_a_bad_timeout_is_exit_2_from_the_installed_command(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "rlvr.cli", "verify", "2", "2", "--timeout", "nan"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "usage: rlvr verify" in proc.stderr and "Traceback" not in proc.stderr


def test_a_good_timeout_still_runs(tmp_path, capsys):
    assert main(["verify", "2", "\\boxed{2}", "--timeout", "0.5"]) == 0
    assert capsys.readouterr().out.startswith("correct")


def test_help_is_exit_0_from_main(capsys):
    assert main(["verify", "--help"]) == 0
    assert "--timeout" in capsys.readouterr().out


# ---------------------------------------------------------------- benchmarks check


@pytest.fixture()
def gsm8k(tmp_path):
    return write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl"))


def test_benchmarks_check_shows_progress_unless_asked_not_to(gsm8k, capsys):
    assert main(["benchmarks", "check", "gsm8k", "--data", gsm8k]) == 0
    out, err = capsys.readouterr()
    assert "gsm8k: 4/4 reference solutions right, 0 wrong, 0 unverified" in out
    assert "gsm8k check: 100%" in err and "4/4" in err
    assert main(["benchmarks", "check", "gsm8k", "--data", gsm8k, "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert "4/4 reference solutions right" in out and "gsm8k check" not in err


@pytest.mark.parametrize("name", ["gsm8k", "mbpp"])
def test_benchmarks_check_scores_in_chunks_the_verdicts_of_one_call(tmp_path, name):
    loaded = load_benchmark(name, data=write_sample(name, str(tmp_path / f"{name}.jsonl"), repeat=2))
    whole = score_completions(loaded.env, loaded.benchmark.kind, loaded.tasks, loaded.references())
    chunks = list(scored_chunks(loaded, loaded.tasks, loaded.references(), "check", progress=False, chunk_size=4))
    assert [start for start, _ in chunks] == list(range(0, len(loaded.tasks), 4))
    chunked = [verdict for _, verdicts in chunks for verdict in verdicts]
    assert len(chunked) == len(loaded.tasks) > 4
    assert [(v.correct, v.reason, v.error) for v in chunked] == [(v.correct, v.reason, v.error) for v in whole]


# ---------------------------------------------------------------- eval --completions and engine options


@pytest.fixture()
def completions(tmp_path):
    path = tmp_path / "completions.jsonl"
    path.write_text("".join(json.dumps({"task_id": str(i), "completion": "\\boxed{14}"}) + "\n" for i in range(4)))
    return str(path)


@pytest.mark.parametrize("options, named", [
    (["--n", "8", "--temperature", "-3", "--top-p", "7", "--max-turns", "0", "--model", "foo"],
     "--n, --temperature, --top-p, --max-turns, --model only apply"),
    (["--n", "1"], "--n only applies"),  # even at its default: it was meant, and does nothing here
    (["--seed", "3", "--seed", "4"], "--seed only applies"),
    (["--timeout", "10", "--dtype", "auto", "--device", "cpu", "--system-prompt", "hi"],
     "--timeout, --dtype, --device, --system-prompt only apply"),
    (["--base-url", "http://x", "--api-key", "k", "--concurrency", "2", "--max-tokens", "9"],
     "--base-url, --api-key, --concurrency, --max-tokens only apply"),
])
def test_eval_completions_refuses_options_only_sampling_uses(tmp_path, gsm8k, completions, capsys, options, named):
    out = tmp_path / "run"
    assert main(["eval", "--benchmark", "gsm8k", "--data", gsm8k, "--completions", completions, "--out", str(out),
                 *options]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rlvr eval: {named} when sampling with --engine; --completions scores completions ")
    assert not out.exists()


def test_eval_completions_takes_the_options_it_uses(tmp_path, gsm8k, completions, capsys):
    assert main(["eval", "--benchmark", "gsm8k", "--data", gsm8k, "--completions", completions, "--out",
                 str(tmp_path / "run"), "--k", "1", "--limit", "4", "--max-chars", "500", "--ci", "bootstrap",
                 "--sandbox", "auto", "--no-progress"]) == 0
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["pass@1"] == 0.25
