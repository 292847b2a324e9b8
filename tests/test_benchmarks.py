"""Benchmarks end to end on small local files in each benchmark's real column layout.

Reference solutions must score 100%, broken ones 0%, a mix the pass@k worked out by hand; bad
completions files, missing columns and an offline hub fail with errors that say what to do; runs
resume; a sandbox outage is reported and excluded, never scored as wrong.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

import rlvr
from rlvr.benchmarks import register_benchmark
from rlvr.benchmarks.completions import CompletionsError
from rlvr.benchmarks.data import BenchmarkDataError
from rlvr.benchmarks.evaluate import RunMismatchError, evaluate_completions, score_references
from rlvr.benchmarks.registry import BUILTIN, load_benchmark
from rlvr.benchmarks.samples import SAMPLE_ROWS, write_sample
from rlvr.benchmarks.scoring import score_completions
from rlvr.cli import main
from rlvr.sandbox import ExecResult, make_sandbox

PY = sys.executable
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench_data")
    return {name: write_sample(name, str(folder / f"{name}.jsonl")) for name in SAMPLE_ROWS}


@pytest.fixture(scope="module")
def box():
    sandbox = make_sandbox("subprocess")
    yield sandbox
    sandbox.close()


def write_jsonl(path, rows):
    with open(path, "w") as handle:
        for row in rows:
            handle.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return str(path)


def broken(name, loaded):
    """Deliberately wrong completions, one per task."""
    if loaded.benchmark.kind == "math":
        return ["The final answer is $\\boxed{987654}$." for _ in loaded.tasks]
    if name == "humaneval":
        return ["    return None\n" for _ in loaded.tasks]
    if name == "apps":
        return ["```python\nprint('no idea')\n```" for _ in loaded.tasks]
    names = [re.search(r"def (\w+)", row["code"]).group(1) for row in loaded.rows]
    return [f"```python\ndef {name}(*args):\n    return None\n```" for name in names]


# ------------------------------------------------------------------ listing and loading


def test_list_shows_every_builtin_with_size_and_source(capsys):
    assert main(["benchmarks", "list"]) == 0
    out = capsys.readouterr().out
    for name, size, source in [("gsm8k", 1319, "openai/gsm8k"), ("math500", 500, "HuggingFaceH4/MATH-500"),
                               ("aime2024", 30, "HuggingFaceH4/aime_2024"), ("aime2025", 30, "yentinglin/aime_2025"),
                               ("humaneval", 164, "openai/openai_humaneval"), ("mbpp", 257, "google-research-datasets/mbpp"),
                               ("apps", 5000, "codeparrot/apps")]:
        line = next(line for line in out.splitlines() if line.startswith(name + " "))
        assert str(size) in line and source in line
    apps = next(line for line in out.splitlines() if line.startswith("apps "))
    assert "subset" not in apps  # every APPS problem with tests is used, call-based ones too
    assert main(["benchmarks", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in listed} >= set(BUILTIN)


def test_hub_loading_offline_fails_naming_data(tmp_path):
    env = dict(os.environ, HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "0", "completion": "1"}])
    proc = subprocess.run([PY, "-m", "rlvr.cli", "eval", "--benchmark", "gsm8k", "--completions", comps, "--out",
                           str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 2, proc.stderr
    assert "--data" in proc.stderr and "openai/gsm8k" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_local_folder_prefers_the_split_and_missing_columns_are_named(tmp_path):
    folder = tmp_path / "gsm"
    folder.mkdir()
    write_sample("gsm8k", str(folder / "test-00000-of-00001.jsonl"))
    write_jsonl(folder / "train.jsonl", [{"question": "q", "answer": "#### 1"}])
    loaded = load_benchmark("gsm8k", data=str(folder))
    assert len(loaded.tasks) == len(SAMPLE_ROWS["gsm8k"])
    assert loaded.data_fingerprint["sha256"]
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"question": "2+2?", "solution": "4"}])
    with pytest.raises(BenchmarkDataError, match=r"lacks column\(s\) \['answer'\]"):
        load_benchmark("gsm8k", data=bad)
    with pytest.raises(BenchmarkDataError, match="does not exist"):
        load_benchmark("gsm8k", data=str(tmp_path / "nope"))
    with pytest.raises(KeyError, match="unknown benchmark"):
        load_benchmark("gsm9k")


def test_apps_scores_call_based_problems_by_calling_the_function(data, box):
    loaded = load_benchmark("apps", data=data["apps"], sandbox=box)
    assert [t.id for t in loaded.tasks] == ["4001", "4002", "4003", "4004"]
    assert loaded.data_fingerprint["rows_read"] == 4 and loaded.data_fingerprint["rows_used"] == 4
    assert loaded.fingerprint()["benchmark_version"] == "2"  # version 1 skipped call-based problems
    double = loaded.tasks[3]
    assert double.meta["call_based"] and double.meta["entry_point"] == "double"
    prompt = loaded.env.make_prompt(double)
    assert "class Solution:\n    def double(self, x):" in prompt and "`double`" in prompt  # the starter code is shown
    answers = {
        "```python\nclass Solution:\n    def double(self, x):\n        return 2 * x\n```": True,
        "```python\ndef double(x):\n    return x + x\n```": True,
        "```python\ndef double(x):\n    return x * x\n```": False,  # 1 * 1 is not 2
        "```python\nprint(2 * int(input()))\n```": False,  # a stdin program does not define double
    }
    for batched in (True, False):
        verdicts = score_completions(loaded.env, "code", [double] * len(answers), list(answers), batched=batched)
        assert [(v.correct, v.error) for v in verdicts] == [(want, None) for want in answers.values()], [v.reason for v in verdicts]


def test_apps_rows_with_an_empty_fn_name_are_stdin_stdout_problems(tmp_path, box):
    rows = rows_with("apps", 0, input_output=json.dumps({"fn_name": "", "inputs": ["1 2\n"], "outputs": ["3\n"]}))
    loaded = load_benchmark("apps", data=write_jsonl(tmp_path / "a.jsonl", rows), sandbox=box)
    assert loaded.tasks[0].meta["kind"] == "io"
    verdict, = score_completions(loaded.env, "code", loaded.tasks[:1], ["```python\nprint(sum(map(int, input().split())))\n```"])
    assert verdict.correct, verdict.reason


def test_mbpp_sanitized_test_imports_reach_the_tests(data, box):
    loaded = load_benchmark("mbpp", data=data["mbpp"], sandbox=box)
    circle = next(t for t in loaded.tasks if t.id == "3")
    assert "import math" in circle.answer  # the asserts use math.isclose
    assert "circle_area" in loaded.rows[1]["code"]


# ------------------------------------------------------------------ references 100%, broken 0%


@pytest.mark.parametrize("name", sorted(SAMPLE_ROWS))
def test_references_score_100_and_broken_score_0(name, data, box):
    verdicts = score_references(name, data=data[name], sandbox=box)
    assert verdicts and all(v.correct and v.error is None for v in verdicts), [v.reason for v in verdicts]
    loaded = load_benchmark(name, data=data[name], sandbox=box)
    wrong = score_completions(loaded.env, loaded.benchmark.kind, loaded.tasks, broken(name, loaded))
    assert all(not v.correct and v.error is None for v in wrong), [v.reason for v in wrong]


def test_batched_scoring_agrees_with_stepping_the_env(data, box):
    for name in ("math500", "humaneval", "apps"):
        loaded = load_benchmark(name, data=data[name], sandbox=box)
        refs = loaded.references()
        texts = [t for pair in zip(refs, broken(name, loaded)) for t in pair]
        tasks = [t for t in loaded.tasks for _ in range(2)]
        fast = score_completions(loaded.env, loaded.benchmark.kind, tasks, texts)
        slow = score_completions(loaded.env, loaded.benchmark.kind, tasks, texts, batched=False)
        assert [(v.correct, v.score) for v in fast] == [(v.correct, v.score) for v in slow]


# ------------------------------------------------------------------ a mix: pass@1 and pass@2 by hand


def test_math_mix_gives_hand_computed_pass_at_k_and_maj(tmp_path, data):
    right = {"0": "\\boxed{14}", "1": "So the total is 19 dollars, the answer is \\boxed{19}", "2": "\\boxed{3600}"}
    rows = [
        {"task_id": "0", "completion": right["0"]}, {"task_id": "0", "completion": "It is \\boxed{14}."},  # 2/2
        {"task_id": "1", "completion": right["1"]}, {"task_id": "1", "completion": "\\boxed{20}"},         # 1/2
        {"task_id": "2", "completion": "\\boxed{3601}"}, {"task_id": "2", "completion": "no idea"},        # 0/2
        {"task_id": 3, "completion": "\\boxed{8}"}, {"task_id": 3, "completion": "\\boxed{8.0}"},         # 2/2
    ]
    comps = write_jsonl(tmp_path / "c.jsonl", rows)
    out = tmp_path / "out"
    result = evaluate_completions("gsm8k", comps, str(out), ks=[1, 2], data=data["gsm8k"], progress=False)
    # per problem pass@1: 1, 1/2, 0, 1 -> 5/8; pass@2: 1, 1, 0, 1 -> 3/4; pass^2: 1, 0, 0, 1 -> 1/2
    assert result["pass@1"] == pytest.approx(5 / 8)
    assert result["pass@2"] == pytest.approx(3 / 4)
    assert result["pass^2"] == pytest.approx(1 / 2)
    # maj@2: 1, tie 1/2, 0, 1 -> 5/8; maj@1 is the mean accuracy
    assert result["maj@2"] == pytest.approx(5 / 8)
    assert result["maj@1"] == pytest.approx(5 / 8) == result["mean_accuracy"]
    summary = json.loads((out / "summary.json").read_text())
    for key in ("pass@1", "pass@2", "pass^2", "maj@2", "mean_accuracy", "ci", "ci_method", "fingerprint", "settings", "counts"):
        assert key in summary
    lo, hi = summary["ci"]["pass@1"]
    assert 0 <= lo <= summary["pass@1"] <= hi <= 1
    fp = summary["fingerprint"]
    assert fp["benchmark"] == "gsm8k" and fp["verifier"]["name"] == "math" and fp["data"]["sha256"]
    assert summary["settings"]["k"] == [1, 2] and summary["counts"]["judged"] == 8
    assert (out / "pass_at_k.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 8
    assert set(samples[0]) >= {"task_id", "sample_index", "completion", "score", "correct", "reason", "error"}
    assert [(s["task_id"], s["sample_index"]) for s in samples[:2]] == [("0", 0), ("0", 1)]


def test_maj_merges_equivalent_wrong_answers(tmp_path, data):
    # problem 0 (gold 14): one right, two wrong that are the same number written two ways -> the wrong vote wins
    rows = [{"task_id": "0", "completion": c} for c in ("\\boxed{14}", "\\boxed{0.5}", "\\boxed{\\frac{1}{2}}")]
    comps = write_jsonl(tmp_path / "c.jsonl", rows)
    result = evaluate_completions("gsm8k", comps, str(tmp_path / "o"), ks=[3], data=data["gsm8k"], progress=False, verbose=False)
    assert result["maj@3"] == 0.0 and result["pass@3"] == 1.0


def test_code_mix_continuations_and_whole_programs(tmp_path, data, box, capsys):
    rows = [
        {"task_id": "HumanEval/0", "completion": "    return a + b\n"},                                   # continuation
        {"task_id": "HumanEval/0", "completion": "```python\ndef add(a, b):\n    return a + b\n```"},   # whole program
        {"task_id": "HumanEval/1", "completion": "    return [x for x in xs if x % 2 == 0]\n"},
        {"task_id": "HumanEval/1", "completion": "    return xs\n"},
        {"task_id": "HumanEval/2", "completion": "    return False\n"},
        {"task_id": "HumanEval/2", "sample_index": 5, "completion": "def is_palindrome(text):\n    return None\n"},
    ]
    comps = write_jsonl(tmp_path / "c.jsonl", rows)
    code = main(["eval", "--benchmark", "humaneval", "--data", data["humaneval"], "--completions", comps, "--k", "1,2",
                 "--out", str(tmp_path / "out"), "--sandbox", "subprocess", "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "pass@1" in printed and "pass@2" in printed
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["pass@1"] == pytest.approx(0.5)      # 1, 1/2, 0
    assert summary["pass@2"] == pytest.approx(2 / 3)    # 1, 1, 0
    assert "maj@1" not in summary                       # majority voting is for math answers
    assert summary["fingerprint"]["verifier"]["name"] == "code"


# ------------------------------------------------------------------ resuming


def test_resume_does_not_redo_scored_samples(tmp_path, data):
    out = tmp_path / "out"
    first = write_jsonl(tmp_path / "a.jsonl", [{"task_id": "0", "completion": "\\boxed{14}"},
                                               {"task_id": "1", "completion": "\\boxed{1}"}])
    r1 = evaluate_completions("gsm8k", first, str(out), data=data["gsm8k"], progress=False, verbose=False)
    assert r1["timing"]["scored_now"] == 2 and r1["pass@1"] == 0.5
    # tamper with a stored verdict: if the sample were re-scored, the tampering would vanish
    lines = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    lines[1]["correct"], lines[1]["score"], lines[1]["reason"] = True, 1.0, "kept from the first run"
    write_jsonl(out / "samples.jsonl", lines)
    more = write_jsonl(tmp_path / "b.jsonl", [{"task_id": "0", "completion": "\\boxed{14}"},
                                              {"task_id": "1", "completion": "\\boxed{1}"},
                                              {"task_id": "2", "completion": "\\boxed{3600}"}])
    r2 = evaluate_completions("gsm8k", more, str(out), data=data["gsm8k"], progress=False, verbose=False)
    assert r2["timing"]["scored_now"] == 1 and r2["timing"]["reused"] == 2
    assert r2["pass@1"] == 1.0  # the tampered verdict was reused, not recomputed
    # a changed completion for the same sample is scored again
    changed = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "1", "completion": "\\boxed{2}"}])
    r3 = evaluate_completions("gsm8k", changed, str(out), data=data["gsm8k"], progress=False, verbose=False)
    assert r3["timing"]["scored_now"] == 1 and r3["pass@1"] == 0.0
    # a half-written last line (an interrupted run) is ignored and that sample redone
    with open(out / "samples.jsonl", "a") as handle:
        handle.write('{"task_id": "0", "sample_in')
    r4 = evaluate_completions("gsm8k", more, str(out), data=data["gsm8k"], progress=False, verbose=False)
    assert r4["counts"]["judged"] == 3


def test_a_folder_with_another_run_is_refused(tmp_path, data):
    comps = write_jsonl(tmp_path / "a.jsonl", [{"task_id": "0", "completion": "\\boxed{14}"}])
    evaluate_completions("gsm8k", comps, str(tmp_path / "out"), data=data["gsm8k"], progress=False, verbose=False)
    other = write_jsonl(tmp_path / "b.jsonl", [{"task_id": "HumanEval/0", "completion": "    return a + b\n"}])
    with pytest.raises(RunMismatchError, match="another --out folder"):
        evaluate_completions("humaneval", other, str(tmp_path / "out"), data=data["humaneval"], progress=False, verbose=False)


# ------------------------------------------------------------------ bad input


def test_bad_completions_file_lists_offending_lines(tmp_path, data, capsys):
    comps = write_jsonl(tmp_path / "bad.jsonl", [
        {"task_id": "0", "completion": "\\boxed{14}"},
        "{not json",
        {"task_id": "0"},
        {"task_id": "999", "completion": "1"},
        "[1, 2]",
        {"task_id": "1", "completion": 5},
    ])
    with pytest.raises(CompletionsError) as info:
        evaluate_completions("gsm8k", comps, str(tmp_path / "out"), data=data["gsm8k"], progress=False, verbose=False)
    message = str(info.value)
    assert "5 bad line(s)" in message
    for expected in ("line 2: bad JSON", "line 3: missing field(s) ['completion']", "line 4: unknown task_id '999'",
                     "line 5: expected a JSON object", "line 6: completion must be a string"):
        assert expected in message
    assert "line 1" not in message
    assert main(["eval", "--benchmark", "gsm8k", "--data", data["gsm8k"], "--completions", comps,
                 "--out", str(tmp_path / "out2")]) == 2
    assert "line 4: unknown task_id" in capsys.readouterr().err
    assert main(["eval", "--benchmark", "gsm8k", "--data", data["gsm8k"], "--completions", str(tmp_path / "missing.jsonl"),
                 "--out", str(tmp_path / "out3")]) == 2
    assert main(["eval", "--benchmark", "gsm8k", "--out", str(tmp_path / "o")]) == 2  # neither --completions nor --engine
    assert "--completions" in capsys.readouterr().err


# ------------------------------------------------------------------ sandbox outage


class DownSandbox:
    """A sandbox whose backend is gone: every run is a sandbox_error."""

    name = "down"

    def run(self, code="", **kwargs):
        return ExecResult.sandbox_error("daemon unreachable", "down")

    def run_many(self, jobs, concurrency=None):
        return [self.run() for _ in jobs]

    def close(self):
        pass


def test_sandbox_outage_is_reported_and_excluded_not_scored_wrong(tmp_path, data, box, capsys):
    comps = write_jsonl(tmp_path / "c.jsonl", [
        {"task_id": "4001", "completion": "```python\na, b = map(int, input().split())\nprint(a + b)\n```"},
        {"task_id": "4002", "completion": "```python\nprint(input())\n```"},
    ])
    out = tmp_path / "out"
    result = evaluate_completions("apps", comps, str(out), data=data["apps"], sandbox=DownSandbox(), progress=False)
    assert result.exit_code == 3
    assert result["counts"]["excluded"] == 2 and result["counts"]["judged"] == 0
    assert "pass@1" not in result  # nothing was judged: no number rather than a false 0
    assert "INCOMPLETE" in capsys.readouterr().err
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert all(r["error"] and not r["correct"] for r in rows)
    # the sandbox is back: the same command scores exactly those samples
    again = evaluate_completions("apps", comps, str(out), data=data["apps"], sandbox=box, progress=False, verbose=False)
    assert again.exit_code == 0 and again["timing"]["scored_now"] == 2
    assert again["pass@1"] == 0.5


def test_cli_sandbox_that_cannot_start(tmp_path, data, monkeypatch, capsys):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/rlvr-test-docker.sock")
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "HumanEval/0", "completion": "    return a + b\n"},
                                               {"task_id": "HumanEval/1", "completion": "    return xs\n"}])
    code = main(["eval", "--benchmark", "humaneval", "--data", data["humaneval"], "--completions", comps,
                 "--out", str(tmp_path / "out"), "--sandbox", "docker", "--no-progress"])
    assert code == 3
    err = capsys.readouterr().err
    assert "cannot start" in err and "INCOMPLETE: 2 of 2 samples could NOT be verified" in err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["excluded"] == 2 and summary["complete"] is False and "pass@1" not in summary


# ------------------------------------------------------------------ your own benchmark


def test_register_benchmark_from_any_env(tmp_path):
    register_benchmark("arith-test", "rlvr/Arithmetic-v0", size=6, env_kwargs={"digits": 1}, force=True)
    loaded = load_benchmark("arith-test")
    assert len(loaded.tasks) == 6 and loaded.benchmark.kind == "env"
    again = load_benchmark("arith-test")
    assert [t.question for t in again.tasks] == [t.question for t in loaded.tasks]  # a fixed set
    rows = []
    for t in loaded.tasks:
        rows.append({"task_id": t.id, "completion": f"<answer>{t.answer}</answer>"})
        rows.append({"task_id": t.id, "completion": "<answer>-1000</answer>"})
    comps = write_jsonl(tmp_path / "c.jsonl", rows)
    result = evaluate_completions("arith-test", comps, str(tmp_path / "out"), ks=[1, 2], progress=False, verbose=False)
    assert result["pass@1"] == 0.5 and result["pass@2"] == 1.0
    assert result["fingerprint"]["env"]["env_id"] == "rlvr/Arithmetic-v0"
    with pytest.raises(ValueError, match="already exists"):
        register_benchmark("arith-test", "rlvr/Arithmetic-v0", size=6)
    with pytest.raises(ValueError, match="size="):
        register_benchmark("arith-endless", "rlvr/Arithmetic-v0")
    with pytest.raises(Exception, match="Registered"):
        register_benchmark("nope", "rlvr/NoSuchEnv-v0", size=3)


def test_register_benchmark_from_a_registered_dataset_is_math_kind(tmp_path):
    path = write_jsonl(tmp_path / "qa.jsonl", [{"q": "1+1?", "a": "2"}, {"q": "2*3?", "a": "6"}])
    rlvr.register("rlvr/BenchQA-v0", dataset=path, question_key="q", answer_key="a", verifier="math", force=True)
    bench = register_benchmark("qa-test", "rlvr/BenchQA-v0", force=True)
    assert bench.kind == "math" and bench.size == 2
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "0", "completion": "\\boxed{2}"},
                                               {"task_id": "1", "completion": "\\boxed{5}"}])
    result = evaluate_completions("qa-test", comps, str(tmp_path / "out"), progress=False, verbose=False)
    assert result["pass@1"] == 0.5 and result["maj@1"] == 0.5


# ------------------------------------------------------------------ audit: lengths, data errors, run errors


def long_text(chars, ending):
    """A reasoning-model-sized completion: `chars` characters of thinking, then `ending`."""
    filler = "Let me think about this step by step. "
    return (filler * (chars // len(filler) + 1))[:chars] + ending


def test_long_completions_are_scored_without_a_cap_unless_max_chars_is_set(tmp_path, data, box, capsys):
    long_right = long_text(40_000, " So $x = \\boxed{6}$.")  # far over the envs' training-time cap of 16,384
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "test/algebra/9002.json", "completion": long_right},
                                               {"task_id": "test/algebra/9004.json", "completion": "\\boxed{3}"}])
    result = evaluate_completions("math500", comps, str(tmp_path / "o"), data=data["math500"], progress=False, verbose=False)
    assert result["pass@1"] == 1.0 and result["counts"]["overlong"] == 0
    assert not any("over-long" in w for w in result["warnings"])
    loaded = load_benchmark("math500", data=data["math500"])
    assert loaded.env.max_action_chars >= 10**9  # engine mode samples through this env: no cap either
    assert score_completions(loaded.env, "math", loaded.tasks[1:2], [long_right], batched=False)[0].correct
    he = load_benchmark("humaneval", data=data["humaneval"], sandbox=box)
    body = "    # " + "x" * 20_000 + "\n    return a + b\n"
    assert score_completions(he.env, "code", he.tasks[:1], [body])[0].correct
    # a cap on request: over-long samples are wrong, counted and warned about
    code = main(["eval", "--benchmark", "math500", "--data", data["math500"], "--completions", comps, "--out",
                 str(tmp_path / "capped"), "--max-chars", "1000", "--no-progress"])
    assert code == 0
    assert "longer than the cap of 1000 characters" in capsys.readouterr().err
    summary = json.loads((tmp_path / "capped" / "summary.json").read_text())
    assert summary["pass@1"] == 0.5 and summary["counts"]["overlong"] == 1 and summary["settings"]["max_chars"] == 1000
    assert any("--max-chars" in w for w in summary["warnings"])
    assert load_benchmark("math500", data=data["math500"], max_chars=1000).env.max_action_chars == 1000
    # another cap in the same folder would mix verdicts: refused
    with pytest.raises(RunMismatchError, match="max_chars"):
        evaluate_completions("math500", comps, str(tmp_path / "capped"), data=data["math500"], max_chars=2000,
                             progress=False, verbose=False)


def rows_with(name, index, **changes):
    rows = [dict(r) for r in SAMPLE_ROWS[name]]
    rows[index].update(changes)
    return rows


@pytest.mark.parametrize("name,column,value", [
    ("gsm8k", "answer", None), ("math500", "answer", None), ("math500", "answer", ""), ("aime2024", "answer", None),
    ("aime2025", "answer", " "), ("humaneval", "task_id", None), ("mbpp", "task_id", None), ("math500", "problem", None),
    ("math500", "answer", float("nan")), ("math500", "answer", True),  # were the golds "nan" and "True"
])
def test_null_or_empty_gold_answer_or_id_is_a_data_error_naming_the_row(tmp_path, name, column, value):
    path = write_jsonl(tmp_path / f"{name}.jsonl", rows_with(name, 1, **{column: value}))
    with pytest.raises(BenchmarkDataError, match=rf"benchmark '{name}', --data .*: row 1: column '{column}' is "):
        load_benchmark(name, data=path)


def test_a_folder_is_read_for_the_split_only_and_never_merges_configs_or_other_splits(tmp_path):
    def folder(name, files):
        root = tmp_path / name
        for rel in files:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            write_sample("gsm8k", str(root / rel))
        return str(root)

    # "latest" holds "test" but is no test file: it was read too, and moved the row-index task ids
    loaded = load_benchmark("gsm8k", data=folder("a", ["test.jsonl", "latest_extra.jsonl"]))
    assert len(loaded.tasks) == len(SAMPLE_ROWS["gsm8k"])
    # a hub download's two configs were merged (every question twice, half the golds the other config's)
    with pytest.raises(BenchmarkDataError, match=r"several folders \['main', 'socratic'\].*point --data at one of them"):
        load_benchmark("gsm8k", data=folder("b", ["main/test-0.jsonl", "socratic/test-0.jsonl"]))
    # no test file: train and validation were merged into the evaluation set
    with pytest.raises(BenchmarkDataError, match=r"no file for the split 'test'"):
        load_benchmark("gsm8k", data=folder("c", ["train.jsonl", "validation.jsonl"]))
    assert len(load_benchmark("gsm8k", data=folder("d", ["data.jsonl"])).tasks) == len(SAMPLE_ROWS["gsm8k"])  # one file: it


def test_completions_that_are_not_utf8_or_hold_a_lone_surrogate(tmp_path, data, capsys):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"task_id": "0", "completion": "\\\\boxed{18}"}\n{"task_id": "1", "completion": "caf\xe9"}\n')
    with pytest.raises(CompletionsError, match=r"line 2: not UTF-8 text"):  # was a bare codec error naming nothing
        evaluate_completions("gsm8k", str(path), str(tmp_path / "o1"), data=data["gsm8k"], progress=False, verbose=False)
    # a lone surrogate is valid JSON; writing the results as UTF-8 crashed every run on it
    comps = write_jsonl(tmp_path / "s.jsonl", ['{"task_id": "0", "completion": "broken \\ud800 \\\\boxed{18}"}'])
    result = evaluate_completions("gsm8k", comps, str(tmp_path / "o2"), data=data["gsm8k"], progress=False, verbose=False)
    assert result["counts"]["judged"] == 1, result["counts"]


def test_gsm8k_answer_must_hold_the_hash_marker(tmp_path, capsys):
    path = write_jsonl(tmp_path / "g.jsonl", rows_with("gsm8k", 2, answer="3 * 1,200 = 3,600 eggs."))
    with pytest.raises(BenchmarkDataError, match=r"row 2: column 'answer' has no '#### <answer>' marker"):
        load_benchmark("gsm8k", data=path)
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "0", "completion": "\\boxed{14}"}])
    assert main(["eval", "--benchmark", "gsm8k", "--data", path, "--completions", comps, "--out", str(tmp_path / "o")]) == 2
    assert "rlvr eval: benchmark 'gsm8k'" in capsys.readouterr().err


def test_tasks_without_completions_are_counted_and_warned(tmp_path, data, capsys):
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "0", "completion": "\\boxed{14}"},
                                               {"task_id": "1", "completion": "\\boxed{1}"}])
    result = evaluate_completions("gsm8k", comps, str(tmp_path / "o"), data=data["gsm8k"], progress=False)
    assert result["counts"]["problems"] == 2 and result["counts"]["problems_total"] == 4
    assert result["counts"]["problems_without_samples"] == 2
    warning = next(w for w in result["warnings"] if "no sample" in w)
    assert warning.startswith("2 of 4 problems have no sample ('2', '3')")
    assert "2 of 4 problems have no sample" in capsys.readouterr().err
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["counts"]["problems_without_samples"] == 2 and warning in summary["warnings"]
    # --limit 2 keeps the first two problems, which both have samples: nothing is missing
    limited = evaluate_completions("gsm8k", comps, str(tmp_path / "l2"), data=data["gsm8k"], limit=2, progress=False, verbose=False)
    assert limited["counts"]["problems_without_samples"] == 0 and not limited["warnings"]
    limited = evaluate_completions("gsm8k", comps, str(tmp_path / "l3"), data=data["gsm8k"], limit=3, progress=False, verbose=False)
    assert limited["counts"]["problems_without_samples"] == 1 and limited["counts"]["problems_total"] == 3


@pytest.mark.parametrize("content,expected", [
    ("", "is empty"), ("\n  \n", "is empty"),
    ('{"question": "q", "answer": "#### 1"}\n{"question": "q2", "answer": "#### 2"\n', "cannot read: .*JSON parse error"),
])
def test_empty_or_malformed_data_file_is_a_data_error(tmp_path, capsys, content, expected):
    path = tmp_path / "gsm8k.jsonl"
    path.write_text(content)
    with pytest.raises(BenchmarkDataError, match=rf"--data '{re.escape(str(path))}'.*{expected}"):
        load_benchmark("gsm8k", data=str(path))
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "0", "completion": "1"}])
    assert main(["eval", "--benchmark", "gsm8k", "--data", str(path), "--completions", comps, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rlvr eval: --data") and "Traceback" not in err
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "test.jsonl").write_text(content)
    with pytest.raises(BenchmarkDataError, match=expected):
        load_benchmark("gsm8k", data=str(folder))


def test_a_folder_of_several_files_keeps_the_values_as_written(tmp_path):
    """Each file of a split read as one file is: a JSON answer column mixing ints and floats keeps
    its ints (a type-guessing reader made every gold a float: "5.0"), and big ints stay exact."""
    folder = tmp_path / "math"
    folder.mkdir()
    write_jsonl(folder / "test-00000-of-00002.jsonl", [{"problem": "a?", "answer": 5}, {"problem": "b?", "answer": 0.5}])
    write_jsonl(folder / "test-00001-of-00002.jsonl", [{"answer": 12345678901234567, "problem": "c?"}])  # keys in another order
    loaded = load_benchmark("math500", data=str(folder))
    assert [task.answer for task in loaded.tasks] == ["5", "0.5", "12345678901234567"]
    assert loaded.data_fingerprint["files"] == ["test-00000-of-00002.jsonl", "test-00001-of-00002.jsonl"]
    write_jsonl(folder / "test-00001-of-00002.jsonl", [{"question": "c?", "answer": 1}])
    with pytest.raises(BenchmarkDataError, match=r"has columns \['question', 'answer'\].*give files of one layout"):
        load_benchmark("math500", data=str(folder))


def test_mbpp_test_list_must_be_a_list_and_csv_list_literals_are_parsed(tmp_path, box):
    path = write_jsonl(tmp_path / "null.jsonl", rows_with("mbpp", 1, test_list=None))
    with pytest.raises(BenchmarkDataError, match=r"row 1: column 'test_list' is null"):
        load_benchmark("mbpp", data=path)
    path = write_jsonl(tmp_path / "text.jsonl", rows_with("mbpp", 1, test_list="assert circle_area(1) > 3"))
    with pytest.raises(BenchmarkDataError, match=r"row 1: column 'test_list' is a string that is not a list literal"):
        load_benchmark("mbpp", data=path)
    # a CSV export writes list columns as Python literals; a JSON string works as well
    import csv

    with open(tmp_path / "mbpp.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["task_id", "prompt", "code", "test_imports", "test_list"])
        writer.writeheader()
        for i, row in enumerate(SAMPLE_ROWS["mbpp"]):
            tests = json.dumps(row["test_list"]) if i == 2 else repr(row["test_list"])
            writer.writerow({"task_id": row["task_id"], "prompt": row["prompt"], "code": row["code"],
                             "test_imports": repr(row["test_imports"]), "test_list": tests})
    loaded = load_benchmark("mbpp", data=str(tmp_path / "mbpp.csv"), sandbox=box)
    assert [r["test_list"] for r in loaded.rows] == [r["test_list"] for r in SAMPLE_ROWS["mbpp"]]
    circle = next(t for t in loaded.tasks if t.id == "3")
    assert circle.answer.startswith("import math\n")  # the imports literal was parsed, not pasted as "['import math']"
    verdicts = score_completions(loaded.env, "code", loaded.tasks, loaded.references())
    assert all(v.correct for v in verdicts), [v.reason for v in verdicts]


@pytest.mark.parametrize("name,index,changes,task", [
    ("humaneval", 1, {"test": "def check(candidate):\n    assert candidate([1]) == [\n"}, "HumanEval/1"),
    ("mbpp", 2, {"test_list": ["assert count_vowels('hello') == 2", "assert count_vowels('xyz' == 0"]}, "4"),
])
def test_unparsable_code_tests_name_the_task_at_load_time(tmp_path, name, index, changes, task, capsys):
    path = write_jsonl(tmp_path / f"{name}.jsonl", rows_with(name, index, **changes))
    # refused by Code-v0 when it builds the tasks (the env names the row and the task)
    with pytest.raises(BenchmarkDataError, match=rf"row {index} \(task '{task}'\): column '\w+' cannot check a solution: the tests do not parse"):
        load_benchmark(name, data=path)
    assert len(load_benchmark(name, data=path, limit=index).tasks) == index  # the tasks before it are usable
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": SAMPLE_ROWS[name][0]["task_id"], "completion": "x"}])
    assert main(["eval", "--benchmark", name, "--data", path, "--completions", comps, "--out", str(tmp_path / "o")]) == 2
    assert f"task '{task}'" in capsys.readouterr().err


def test_apps_corrupt_rows_are_errors_and_skipped_rows_are_counted(tmp_path, box, capsys):
    bad_json = rows_with("apps", 1, input_output='{"inputs": ["abc\\n"], "outputs": ["cba\\n"]')
    with pytest.raises(BenchmarkDataError, match=r"row 1 \(problem_id 4002\): column 'input_output' is not valid JSON"):
        load_benchmark("apps", data=write_jsonl(tmp_path / "a.jsonl", bad_json))
    mismatched = rows_with("apps", 2, input_output=json.dumps({"inputs": ["1\n"], "outputs": []}))
    with pytest.raises(BenchmarkDataError, match=r"row 2 \(problem_id 4003\): 'input_output' has 1 inputs but 0 outputs"):
        load_benchmark("apps", data=write_jsonl(tmp_path / "b.jsonl", mismatched))
    not_a_name = rows_with("apps", 3, input_output=json.dumps({"fn_name": "double it", "inputs": [[1]], "outputs": [2]}))
    with pytest.raises(BenchmarkDataError, match=r"row 3 \(problem_id 4004\): 'fn_name' in 'input_output' must be a Python function name"):
        load_benchmark("apps", data=write_jsonl(tmp_path / "d.jsonl", not_a_name))
    bare_args = rows_with("apps", 3, input_output=json.dumps({"fn_name": "double", "inputs": [1], "outputs": [2]}))
    with pytest.raises(BenchmarkDataError, match=r"row 3 \(problem_id 4004\): input 0 of call-based problem 'double' must be the list"):
        load_benchmark("apps", data=write_jsonl(tmp_path / "e.jsonl", bare_args))
    no_tests = rows_with("apps", 1, input_output="")
    path = write_jsonl(tmp_path / "c.jsonl", no_tests)
    loaded = load_benchmark("apps", data=path, sandbox=box)
    assert [t.id for t in loaded.tasks] == ["4001", "4003", "4004"]
    assert loaded.data_fingerprint["rows_skipped"] == {"no tests (input_output empty)": 1}
    assert loaded.skipped == {"4002": "no tests (input_output empty)"}
    # completions for skipped problems are ignored with a warning, not refused as unknown task ids
    comps = write_jsonl(tmp_path / "comps.jsonl", [
        {"task_id": "4001", "completion": "```python\na, b = map(int, input().split())\nprint(a + b)\n```"},
        {"task_id": "4002", "completion": "```python\nprint(input()[::-1])\n```"},
        {"task_id": "4003", "completion": "```python\nprint(0)\n```"},
        {"task_id": "4004", "completion": "```python\nclass Solution:\n    def double(self, x):\n        return 2 * x\n```"}])
    result = evaluate_completions("apps", comps, str(tmp_path / "o"), data=path, sandbox=box, progress=False)
    assert result["pass@1"] == pytest.approx(2 / 3) and result["counts"]["samples"] == 3
    err = capsys.readouterr().err
    assert "apps: 1 of 4 rows skipped (1 no tests (input_output empty))" in err
    assert "1 completions for 1 problems that apps skips (no tests (input_output empty)) were ignored" in err
    assert len(result["warnings"]) == 2 and result["fingerprint"]["data"]["rows_skipped"]


class ChatServer:
    """A real OpenAI-style HTTP server on 127.0.0.1: answers `ok` chat requests, then rejects the rest (400)."""

    def __init__(self, ok):
        import http.server
        import threading

        from conftest import JsonHandler

        self.ok, self.posts = ok, 0
        server = self

        class Handler(JsonHandler):
            def do_GET(self):
                self.reply(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server.posts += 1
                if server.posts > server.ok:
                    self.reply(400, {"error": {"message": "the model 'fake' is not loaded"}})
                else:
                    self.reply(200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": "\\boxed{14}"},
                                                  "finish_reason": "stop"}]})

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_engine_failure_while_sampling_exits_4_and_the_run_resumes(tmp_path, capsys):
    data_path = write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl"), repeat=20)  # 80 problems: batches of 64 and 16
    out = tmp_path / "o"
    args = ["eval", "--benchmark", "gsm8k", "--data", data_path, "--engine", "openai", "--n", "1", "--max-tokens", "8",
            "--out", str(out), "--no-progress"]
    server = ChatServer(ok=64)
    try:
        assert main([*args, "--base-url", server.url]) == 4
    finally:
        server.close()
    err = capsys.readouterr().err
    # (a refusal that is not about the context: a refusal over the context skips its problem instead)
    assert "RequestRejectedError" in err and "the model 'fake' is not loaded" in err
    assert "rerun the same command with the same --out to resume" in err and "Traceback" not in err
    assert len((out / "samples.jsonl").read_text().splitlines()) == 64  # the first batch was kept
    server = ChatServer(ok=10**6)
    try:
        assert main([*args, "--base-url", server.url]) == 0
    finally:
        server.close()
    assert server.posts == 16  # only the missing samples
    assert json.loads((out / "summary.json").read_text())["counts"]["judged"] == 80


def test_out_must_be_a_folder_that_can_be_written(tmp_path, data, capsys):
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "0", "completion": "\\boxed{14}"}])
    base = ["eval", "--benchmark", "gsm8k", "--data", data["gsm8k"], "--completions", comps]
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    assert main([*base, "--out", str(a_file)]) == 2
    assert "is an existing file, not a folder" in capsys.readouterr().err
    assert main([*base, "--out", str(a_file / "sub")]) == 2
    assert "cannot hold the results" in capsys.readouterr().err
    assert a_file.read_text() == "x"


def test_n_and_max_chars_are_checked_up_front(tmp_path, data, capsys):
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "0", "completion": "\\boxed{14}"}])
    base = ["eval", "--benchmark", "gsm8k", "--data", data["gsm8k"], "--out", str(tmp_path / "o")]
    for extra in (["--n", "0"], ["--n", "-2", "--k", "1"]):
        assert main([*base, "--engine", "hf", "--model", "tiny", *extra]) == 2
        assert "--n must be >= 1 (samples per problem)" in capsys.readouterr().err
    assert main([*base, "--completions", comps, "--max-chars", "0"]) == 2
    assert "--max-chars must be >= 1" in capsys.readouterr().err


def test_hf_engine_missing_model_is_an_eval_error(tmp_path, data, capsys):
    code = main(["eval", "--benchmark", "gsm8k", "--data", data["gsm8k"], "--engine", "hf", "--model",
                 str(tmp_path / "no-such-model"), "--out", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rlvr eval: --model {str(tmp_path / 'no-such-model')!r}: no such folder") and "rlvr serve" not in err


def test_limit_in_completions_mode_checks_only_the_problems_it_keeps(tmp_path, data, box):
    rows = rows_with("humaneval", 2, test="def check(candidate):\n    assert candidate('a') is (\n")
    path = write_jsonl(tmp_path / "he.jsonl", rows)
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "HumanEval/0", "completion": "    return a + b\n"},
                                               {"task_id": "HumanEval/2", "completion": "    return True\n"}])
    result = evaluate_completions("humaneval", comps, str(tmp_path / "o"), data=path, limit=2, sandbox=box,
                                  progress=False, verbose=False)
    assert result["pass@1"] == 1.0 and result["counts"]["samples"] == 1  # HumanEval/2 is beyond the limit: not scored
    assert result["fingerprint"]["num_tasks"] == 2 and result["counts"]["problems_without_samples"] == 1
    with pytest.raises(BenchmarkDataError, match="task 'HumanEval/2'"):
        evaluate_completions("humaneval", comps, str(tmp_path / "p"), data=path, sandbox=box, progress=False, verbose=False)


# ------------------------------------------------------------------ the resume identity (run.json)


def gsm8k_completions(tmp_path):
    return write_jsonl(tmp_path / "gs.jsonl", [{"task_id": str(i), "completion": "\\boxed{14}"} for i in range(4)])


def test_resume_identity_covers_a_save_to_disk_folders_content(tmp_path, data):
    import datasets

    rows = [json.loads(line) for line in open(data["gsm8k"])]
    folder, comps, out = str(tmp_path / "disk"), gsm8k_completions(tmp_path), str(tmp_path / "o")
    datasets.Dataset.from_list(rows).save_to_disk(folder)
    first = evaluate_completions("gsm8k", comps, out, data=folder, progress=False, verbose=False)
    assert first["pass@1"] == 0.25
    assert evaluate_completions("gsm8k", comps, out, data=folder, progress=False, verbose=False)["timing"]["reused"] == 4
    changed = [dict(r, answer=r["answer"].rsplit("####", 1)[0] + "#### 14") for r in rows]  # every gold is now 14
    shutil.rmtree(folder)
    datasets.Dataset.from_list(changed).save_to_disk(folder)
    with pytest.raises(RunMismatchError, match=r"data\.sha256: "):
        evaluate_completions("gsm8k", comps, out, data=folder, progress=False, verbose=False)


def test_resume_identity_covers_a_hub_copys_content(tmp_path, data, monkeypatch):
    import datasets

    rows = [json.loads(line) for line in open(data["gsm8k"])]
    hub = {"rows": rows}
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: datasets.Dataset.from_list(hub["rows"]))  # no network
    comps, out = gsm8k_completions(tmp_path), str(tmp_path / "o")
    assert evaluate_completions("gsm8k", comps, out, progress=False, verbose=False)["pass@1"] == 0.25
    assert evaluate_completions("gsm8k", comps, out, progress=False, verbose=False)["timing"]["reused"] == 4
    hub["rows"] = [dict(r, answer="x\n#### 14") for r in rows]  # the hub copy changed (a refreshed cache)
    with pytest.raises(RunMismatchError, match=r"data\.content_fingerprint: "):
        evaluate_completions("gsm8k", comps, out, progress=False, verbose=False)


def test_resume_identity_covers_a_user_benchmarks_generator_settings(tmp_path):
    register_benchmark("cd-identity-test", "rlvr/Countdown-v0", size=3, env_kwargs={"count": 3}, force=True)
    loaded = load_benchmark("cd-identity-test")
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": t.id, "completion": "<answer>1+2</answer>"} for t in loaded.tasks])
    evaluate_completions("cd-identity-test", comps, str(tmp_path / "o"), progress=False, verbose=False)
    register_benchmark("cd-identity-test", "rlvr/Countdown-v0", size=3, env_kwargs={"count": 4}, force=True)
    with pytest.raises(RunMismatchError, match=r"data\.settings\.count: 3 -> 4"):
        evaluate_completions("cd-identity-test", comps, str(tmp_path / "o"), progress=False, verbose=False)


def test_resume_identity_is_the_content_not_the_path_nor_the_sandbox(tmp_path, data, box):
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": "HumanEval/0", "completion": "    return a + b\n"}])
    first, moved = str(tmp_path / "a.jsonl"), str(tmp_path / "moved" / "he.jsonl")
    shutil.copy(data["humaneval"], first)
    os.makedirs(os.path.dirname(moved))
    shutil.copy(data["humaneval"], moved)
    evaluate_completions("humaneval", comps, str(tmp_path / "o"), data=first, sandbox=DownSandbox(), progress=False, verbose=False)
    again = evaluate_completions("humaneval", comps, str(tmp_path / "o"), data=moved, sandbox=box, progress=False, verbose=False)
    assert again["timing"]["scored_now"] == 1 and again["pass@1"] == 1.0  # the outage's sample redone, same data


@pytest.mark.parametrize("damage", ["missing", "unreadable", "not an object"])
def test_samples_without_a_readable_run_json_are_refused(tmp_path, data, capsys, damage):
    comps = gsm8k_completions(tmp_path)
    out = tmp_path / "o"
    evaluate_completions("gsm8k", comps, str(out), data=data["gsm8k"], progress=False, verbose=False)
    if damage == "missing":
        (out / "run.json").unlink()
    else:
        (out / "run.json").write_text("{trunc" if damage == "unreadable" else "[1, 2]")
    code = main(["eval", "--benchmark", "gsm8k", "--data", data["gsm8k"], "--completions", comps, "--out", str(out),
                 "--max-chars", "5", "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err
    assert "holds samples.jsonl but its run.json" in err and "another --out" in err and "start afresh" in err
    # without samples there is nothing to mix: a damaged run.json is simply replaced
    (out / "samples.jsonl").unlink()
    assert main(["eval", "--benchmark", "gsm8k", "--data", data["gsm8k"], "--completions", comps, "--out", str(out),
                 "--no-progress"]) == 0


def test_a_run_json_of_the_previous_version_is_checked_on_its_fields(tmp_path, data, capsys):
    from rlvr.envs.tasks import file_sha256

    comps = gsm8k_completions(tmp_path)
    out = tmp_path / "o"
    evaluate_completions("gsm8k", comps, str(out), data=data["gsm8k"], progress=False, verbose=False)
    old = {"benchmark": "gsm8k", "benchmark_version": "1", "mode": "completions", "data": file_sha256(data["gsm8k"]),
           "max_chars": None}  # what the previous version wrote
    (out / "run.json").write_text(json.dumps(old))
    again = evaluate_completions("gsm8k", comps, str(out), data=data["gsm8k"], progress=False, verbose=False)
    assert again["timing"]["reused"] == 4 and "older rlvr eval" in capsys.readouterr().err
    assert json.loads((out / "run.json").read_text())["format"] == 2  # upgraded
    (out / "run.json").write_text(json.dumps(dict(old, data="0" * 64)))
    with pytest.raises(RunMismatchError, match="data: '0000"):
        evaluate_completions("gsm8k", comps, str(out), data=data["gsm8k"], progress=False, verbose=False)


# ------------------------------------------------------------------ the plot


def test_the_plot_is_claimed_only_when_written_and_a_stale_one_is_removed(tmp_path, data, capsys):
    comps = write_jsonl(tmp_path / "c.jsonl", [{"task_id": t, "completion": "\\boxed{14}"} for t in ("0", "0", "1", "1")])
    out = tmp_path / "o"
    base = ["eval", "--benchmark", "gsm8k", "--data", data["gsm8k"], "--completions", comps, "--out", str(out), "--no-progress"]
    assert main([*base, "--k", "1"]) == 0
    assert (out / "pass_at_k.png").exists() and "pass_at_k.png" in capsys.readouterr().out
    before = (out / "summary.json").read_text()
    # 2 samples each: pass@4 cannot be computed, and is refused before anything is written (it left
    # a summary saying "complete" without it); the first run's summary and plot stay as they were
    assert main([*base, "--k", "4"]) == 2
    assert "--k 4 is more than the 2 completion(s)" in capsys.readouterr().err
    assert (out / "summary.json").read_text() == before and (out / "pass_at_k.png").exists()


def test_the_plot_is_written_atomically(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    from rlvr.benchmarks.summary import plot_pass_at_k

    metrics = {"pass@1": {"mean": 0.5, "ci_low": 0.4, "ci_high": 0.6}}
    path = tmp_path / "p.png"
    plot_pass_at_k(metrics, str(path))
    good = path.read_bytes()
    assert good.startswith(b"\x89PNG")

    def broken_savefig(self, fname, **kwargs):
        with open(fname, "wb") as handle:
            handle.write(b"\x89PNG half")
        raise KeyboardInterrupt  # interrupted mid-write

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(KeyboardInterrupt):
        plot_pass_at_k(metrics, str(path))
    assert path.read_bytes() == good and os.listdir(tmp_path) == ["p.png"]


def test_batched_code_scoring_uses_the_envs_own_settings(box):
    """Batched scoring compared stdin/stdout output with check_io's defaults, not the env's
    (`float_tolerance`, `exact`, `case_timeout`), so it disagreed with stepping the env."""
    import rlvr

    rows = [{"question": "Print one third.", "inputs": ["\n"], "outputs": ["0.333333333333\n"]}]
    env = rlvr.make("rlvr/Code-v0", dataset=rows, sandbox=box, float_tolerance=1e-9)
    tasks = [env.unwrapped.source.get(0)] * 2
    texts = ["```python\nprint(1/3)\n```", "```python\nprint(0.34)\n```"]
    fast = score_completions(env.unwrapped, "code", tasks, texts)
    slow = score_completions(env.unwrapped, "code", tasks, texts, batched=False)
    assert [v.correct for v in slow] == [True, False], [v.reason for v in slow]
    assert [v.correct for v in fast] == [True, False], [v.reason for v in fast]
