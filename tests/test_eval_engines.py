"""`rlvr eval` sampling with real engines: hf on the local tiny model, openai against `rlvr serve`.

The tiny model is random, so its answers are wrong; what these tests check is the plumbing: the
rollouts run through the benchmark's env, every sample is recorded with its verdict, the summary
and plot are written, resuming samples only what is missing, and the openai engine talks to a real
HTTP server started here on 127.0.0.1.
"""

import json
import os
import re
import subprocess
import sys
import time

import pytest

from rlvr.benchmarks.evaluate import evaluate_engine
from rlvr.benchmarks.samples import write_sample
from rlvr.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def gsm8k(tmp_path_factory):
    return write_sample("gsm8k", str(tmp_path_factory.mktemp("data") / "gsm8k.jsonl"))


@pytest.fixture(scope="module")
def tiny_engine():
    from rlvr.commands.serve import load_hf_chat_engine

    engine, _ = load_hf_chat_engine("tiny", "cpu")
    return engine


def read_samples(path):
    return [json.loads(line) for line in open(path)]


def test_hf_engine_rollouts_are_scored_recorded_and_resumed(tmp_path, gsm8k, tiny_engine):
    out = tmp_path / "run"
    kwargs = dict(tokenizer=tiny_engine.tokenizer, ks=[1, 2], temperature=1.0, max_tokens=6, seed=0, data=gsm8k,
                  limit=2, engine_name="hf", model_name="tiny", progress=False, verbose=False)
    result = evaluate_engine("gsm8k", tiny_engine, str(out), n=2, **kwargs)
    samples = read_samples(out / "samples.jsonl")
    assert len(samples) == 4 and {s["task_id"] for s in samples} == {"0", "1"}
    assert sorted((s["task_id"], s["sample_index"]) for s in samples) == [("0", 0), ("0", 1), ("1", 0), ("1", 1)]
    for s in samples:
        assert 1 <= s["response_tokens"] <= 6 and s["reason"] and s["error"] is None
        assert s["correct"] is False  # a random model
    assert result["pass@1"] == 0.0 and result["pass@2"] == 0.0 and "maj@2" in result
    assert result["settings"]["engine"] == "hf" and result["settings"]["n"] == 2
    assert result["fingerprint"]["env"]["env_id"] == "rlvr/Math-v0"
    assert (out / "pass_at_k.png").exists()
    # more samples per problem later: only the missing ones are generated
    again = evaluate_engine("gsm8k", tiny_engine, str(out), n=3, **kwargs)
    assert again["timing"]["scored_now"] == 2 and again["counts"]["judged"] == 6
    assert read_samples(out / "samples.jsonl")[:4] == samples
    # other sampling settings in the same folder are refused
    with pytest.raises(ValueError, match="other settings"):
        evaluate_engine("gsm8k", tiny_engine, str(out), n=2, **dict(kwargs, temperature=0.5))
    with pytest.raises(ValueError, match="more than --n"):
        evaluate_engine("gsm8k", tiny_engine, str(tmp_path / "x"), n=1, **kwargs)


def test_cli_hf_engine(tmp_path, gsm8k, capsys):
    code = main(["eval", "--benchmark", "gsm8k", "--data", gsm8k, "--engine", "hf", "--model", "tiny", "--device", "cpu",
                 "--n", "2", "--k", "1,2", "--max-tokens", "4", "--limit", "1", "--out", str(tmp_path / "o"), "--no-progress"])
    assert code == 0
    assert "pass@2" in capsys.readouterr().out
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["settings"]["temperature"] == 0.6 and summary["counts"]["judged"] == 2
    assert main(["eval", "--benchmark", "gsm8k", "--data", gsm8k, "--engine", "hf", "--model", "tiny", "--n", "2",
                 "--k", "4", "--out", str(tmp_path / "p")]) == 2


@pytest.fixture
def served(tmp_path):
    """A real `rlvr serve --model tiny` on 127.0.0.1 (a free port), stopped afterwards."""
    proc = subprocess.Popen([sys.executable, "-m", "rlvr.cli", "serve", "--model", "tiny", "--device", "cpu", "--port", "0"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url, deadline, seen = None, time.time() + 120, []
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            match = re.search(r"(http://127\.0\.0\.1:\d+/v1)", line)
            if match:
                url = match.group(1)
                break
        assert url, f"rlvr serve did not start: {''.join(seen)}"
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_openai_engine_against_rlvr_serve(tmp_path, gsm8k, served, capsys):
    out = tmp_path / "o"
    code = main(["eval", "--benchmark", "gsm8k", "--data", gsm8k, "--engine", "openai", "--base-url", served,
                 "--n", "2", "--k", "1,2", "--max-tokens", "5", "--limit", "2", "--seed", "1", "--out", str(out), "--no-progress"])
    assert code == 0, capsys.readouterr().err
    samples = read_samples(out / "samples.jsonl")
    assert len(samples) == 4 and all(s["error"] is None and isinstance(s["completion"], str) for s in samples)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["settings"]["engine"] == "openai" and summary["settings"]["model"] == "tiny"
    assert summary["pass@2"] == 0.0 and summary["counts"]["judged"] == 4
    # resumed: nothing left to sample
    assert main(["eval", "--benchmark", "gsm8k", "--data", gsm8k, "--engine", "openai", "--base-url", served,
                 "--n", "2", "--k", "1,2", "--max-tokens", "5", "--limit", "2", "--seed", "1", "--out", str(out), "--no-progress"]) == 0
    assert json.loads((out / "summary.json").read_text())["timing"]["scored_now"] == 0


def test_openai_engine_unreachable_server_is_a_clear_error(tmp_path, gsm8k, capsys):
    code = main(["eval", "--benchmark", "gsm8k", "--data", gsm8k, "--engine", "openai", "--base-url", "http://127.0.0.1:9/v1",
                 "--out", str(tmp_path / "o")])
    assert code == 2
    assert "rlvr serve" in capsys.readouterr().err


def test_multi_turn_tool_env_benchmark_with_the_hf_engine(tmp_path, tiny_engine):
    from rlvr.benchmarks import register_benchmark

    bench = register_benchmark("toolmath-engine-test", "rlvr/ToolMath-v0", env_kwargs={"max_turns": 2}, force=True)
    assert bench.kind == "math"  # ToolMath answers are graded by the math verifier
    result = evaluate_engine("toolmath-engine-test", tiny_engine, str(tmp_path / "o"), tokenizer=tiny_engine.tokenizer,
                             n=2, ks=[1, 2], max_tokens=6, seed=0, limit=2, progress=False, verbose=False)
    samples = read_samples(tmp_path / "o" / "samples.jsonl")
    assert len(samples) == 4 and all(1 <= s["num_turns"] <= 2 and s["reason"] for s in samples)
    assert result["counts"]["judged"] + result["counts"]["excluded"] == 4
    assert result["fingerprint"]["env"]["env_id"] == "rlvr/ToolMath-v0"


def test_unknown_benchmark_is_a_clear_error(tmp_path, capsys):
    assert main(["eval", "--benchmark", "gsm9k", "--completions", "x.jsonl", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "unknown benchmark 'gsm9k'" in err and "gsm8k" in err
