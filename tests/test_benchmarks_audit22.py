"""Benchmarks: what a review found scored wrong (tool envs on the math fast path, maj@k votes of
unjudged samples, a copied data file)."""

from __future__ import annotations

import json
import shutil

import pytest

from rlvr.benchmarks import register_benchmark
from rlvr.benchmarks.data import BenchmarkDataError
from rlvr.benchmarks.evaluate import evaluate_completions
from rlvr.benchmarks.majority import CORRECT, answer_classes
from rlvr.benchmarks.registry import load_benchmark
from rlvr.benchmarks.samples import SAMPLE_ROWS, write_sample

CALL = '<tool_call>{"name": "calculator", "arguments": {"expression": "1+1"}}</tool_call>'


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


def test_a_tool_env_benchmark_is_scored_by_its_env_not_the_math_fast_path(tmp_path):
    # a completion that calls a tool is not an answer in ToolMath-v0: its step runs the call, and the
    # episode then has no final answer; verifying the text directly scored the \boxed{} right. The
    # benchmark stays kind "math" (maj@k is reported: the answers are the math verifier's)
    bench = register_benchmark("toolmath-audit", "rlvr/ToolMath-v0", size=2, force=True,
                               env_kwargs={"builtin_tools": ("calculator",)})
    assert bench.kind == "math"
    tasks = load_benchmark("toolmath-audit").tasks
    rows = [{"task_id": t.id, "completion": f"{CALL} so \\boxed{{{t.answer}}}"} for t in tasks]
    rows += [{"task_id": t.id, "completion": f"so \\boxed{{{t.answer}}}"} for t in tasks]
    comps = write_jsonl(tmp_path / "c.jsonl", rows)
    for batched in (True, False):
        out = tmp_path / f"out_{batched}"
        result = evaluate_completions("toolmath-audit", comps, str(out), ks=[1], batched=batched, progress=False, verbose=False)
        assert result["pass@1"] == 0.5, batched  # the plain answers only
        samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
        assert [s["correct"] for s in samples if CALL in s["completion"]] == [False, False]


def test_a_single_turn_math_env_still_takes_the_fast_path():
    register_benchmark("math-audit", "rlvr/Math-v0", size=2, force=True)
    assert load_benchmark("math-audit").benchmark.kind == "math"


def test_samples_scored_without_being_judged_have_no_majority_vote(tmp_path):
    # gold 14: one right sample, two giving the same right answer but over the length cap: all three
    # say 14, yet the two overlong ones formed a class "14" of their own and outvoted the right one
    data = write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl"))
    long = "Let me think carefully. " * 5 + "\\boxed{14}"
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "0", "completion": c} for c in ("\\boxed{14}", long, long)])
    result = evaluate_completions("gsm8k", comps, str(tmp_path / "out"), ks=[1, 3], data=data, max_chars=60,
                                  progress=False, verbose=False)
    assert result["counts"]["overlong"] == 2 and result["pass@1"] == pytest.approx(1 / 3)
    assert result["maj@3"] == 1.0  # the one vote cast is right
    # the classes: unjudged kinds (overlong, a comparison out of time) cast no vote
    assert answer_classes(["\\boxed{14}", long, "\\boxed{7}", "\\boxed{7}"], [True, False, False, False],
                          kinds=["equal", "overlong", "timeout", "wrong"]) == [CORRECT, None, None, "7"]
    with pytest.raises(ValueError, match="2 completions, 2 correct flags and 1 kinds"):
        answer_classes(["a", "b"], [False, False], kinds=["wrong"])


def test_a_folder_holding_a_copy_of_its_file_is_refused(tmp_path):
    # both names hold "test" as a word: every problem was read twice (GSM8K ids are row indices, so
    # the duplicate-id check cannot see it), and the confidence interval narrowed by about sqrt(2)
    folder = tmp_path / "gsm"
    folder.mkdir()
    write_sample("gsm8k", str(folder / "test.jsonl"))
    shutil.copy(folder / "test.jsonl", folder / "test (copy).jsonl")
    with pytest.raises(BenchmarkDataError, match=r"two copies of one file: 'test \(copy\).jsonl' and 'test.jsonl' have the same content"):
        load_benchmark("gsm8k", data=str(folder))
    (folder / "test (copy).jsonl").unlink()
    assert len(load_benchmark("gsm8k", data=str(folder)).tasks) == len(SAMPLE_ROWS["gsm8k"])
