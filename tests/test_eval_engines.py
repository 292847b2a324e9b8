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
import threading
import time
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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

    # one tool: the tiny model's context (1024 characters) holds the system prompt listing it with room to spare
    bench = register_benchmark("toolmath-engine-test", "rlvr/ToolMath-v0",
                               env_kwargs={"max_turns": 2, "builtin_tools": ("calculator",)}, force=True)
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


class _OneAnswerServer:
    """A real OpenAI-style HTTP server on 127.0.0.1 whose every chat completion is ``answer(body)``;
    it counts the POSTs it received."""

    def __init__(self, answer):
        self.posts = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _json(self, payload):
                data = json.dumps(payload).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self):
                self._json({"object": "list", "data": [{"id": "m", "object": "model"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.posts += 1
                self._json(answer(body))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _choices(body, reason, text="#### 4"):
    return {"choices": [{"index": j, "message": {"role": "assistant", "content": text}, "finish_reason": reason}
                        for j in range(body["n"])]}


def test_openai_generation_timeout_exits_4_and_says_to_raise_timeout(tmp_path, gsm8k, capsys):
    def slow(body):
        time.sleep(1.5)
        return _choices(body, "stop")

    with _OneAnswerServer(slow) as srv:
        code = main(["eval", "--benchmark", "gsm8k", "--data", gsm8k, "--engine", "openai", "--base-url", srv.url,
                     "--limit", "1", "--timeout", "0.5", "--out", str(tmp_path / "o"), "--no-progress"])
        time.sleep(0.2)
        assert code == 4 and srv.posts == 1  # sent once, not re-sent on timeout
    err = capsys.readouterr().err
    assert "ServerTimeoutError" in err and "within timeout=0.5s" in err and "--timeout" in err
    assert main(["eval", "--benchmark", "gsm8k", "--data", gsm8k, "--engine", "openai", "--timeout", "0",
                 "--out", str(tmp_path / "p")]) == 2


def test_openai_aborted_choices_exit_4_and_are_not_scored(tmp_path, gsm8k, capsys):
    with _OneAnswerServer(lambda body: _choices(body, "abort")) as srv:
        code = main(["eval", "--benchmark", "gsm8k", "--data", gsm8k, "--engine", "openai", "--base-url", srv.url,
                     "--limit", "2", "--out", str(tmp_path / "o"), "--no-progress"])
    assert code == 4 and "finish_reason='abort'" in capsys.readouterr().err
    assert not (tmp_path / "o" / "samples.jsonl").exists() or read_samples(tmp_path / "o" / "samples.jsonl") == []


def eval_with_vllm(tmp_path, gsm8k, capsys):
    """(exit code, stderr) of `rlvr eval --engine vllm` on one GSM8K problem, with a tiny tokenizer
    saved as the model (whatever `vllm` module the test put in place)."""
    from rlvr.trainers.tiny import build_tiny_tokenizer

    model = tmp_path / "model"
    build_tiny_tokenizer().save_pretrained(model)
    code = main(["eval", "--benchmark", "gsm8k", "--data", gsm8k, "--engine", "vllm", "--model", str(model),
                 "--limit", "1", "--out", str(tmp_path / "o"), "--no-progress"])
    return code, capsys.readouterr().err


def test_a_failing_vllm_engine_exits_4(tmp_path, gsm8k, capsys, monkeypatch):
    """The engine failing is exit 4 (resumable) whichever engine it is: here a stand-in `vllm` module
    (not vLLM) whose LLM reports every request aborted, as vLLM does when a request is cancelled."""
    from rlvr.trainers.tiny import build_tiny_tokenizer

    class LLM:
        def __init__(self, model, **kwargs):
            self.tokenizer = build_tiny_tokenizer()

        def get_tokenizer(self):
            return self.tokenizer

        def generate(self, prompts, params, use_tqdm=True):
            out = types.SimpleNamespace(index=0, text="", token_ids=[], logprobs=[], finish_reason="abort", stop_reason=None)
            return [types.SimpleNamespace(outputs=[out]) for _ in prompts]

    vllm = types.ModuleType("vllm")
    vllm.LLM, vllm.SamplingParams = LLM, lambda **kwargs: kwargs
    vllm.inputs = types.ModuleType("vllm.inputs")
    vllm.inputs.TokensPrompt = dict
    monkeypatch.setitem(sys.modules, "vllm", vllm)
    monkeypatch.setitem(sys.modules, "vllm.inputs", vllm.inputs)
    code, err = eval_with_vllm(tmp_path, gsm8k, capsys)
    assert code == 4, err
    assert "EngineError: vLLM did not finish" in err and "rerun the same command" in err
    # evaluation never loads new weights, so vLLM's multiprocessing (which a training engine's weight
    # updates cannot reach, and refuses) is no reason to refuse it
    monkeypatch.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", "1")
    code, err = eval_with_vllm(tmp_path / "mp", gsm8k, capsys)
    assert code == 4 and "EngineError: vLLM did not finish" in err, err


# ------------------------------------------------------------------ seeds: sample j of task t has its own


def completions_by_key(path):
    """{(task_id, sample_index): completion}, the last line of a key winning (as a resumed run reads it)."""
    return {(s["task_id"], s["sample_index"]): s["completion"] for s in read_samples(path)}


def test_hf_growing_n_draws_new_samples_the_same_as_a_fresh_run(tmp_path, gsm8k, tiny_engine):
    kwargs = dict(tokenizer=tiny_engine.tokenizer, ks=[1], temperature=1.0, max_tokens=12, seed=0, data=gsm8k, limit=2,
                  engine_name="hf", model_name="tiny", progress=False, verbose=False)
    evaluate_engine("gsm8k", tiny_engine, str(tmp_path / "grow"), n=2, **kwargs)
    evaluate_engine("gsm8k", tiny_engine, str(tmp_path / "grow"), n=4, **kwargs)
    evaluate_engine("gsm8k", tiny_engine, str(tmp_path / "fresh"), n=4, **kwargs)
    grown, fresh = completions_by_key(tmp_path / "grow" / "samples.jsonl"), completions_by_key(tmp_path / "fresh" / "samples.jsonl")
    assert grown == fresh
    for task in ("0", "1"):
        assert len({grown[(task, j)] for j in range(4)}) == 4  # not [a, b, a, b]


def _seed_server():
    """A server whose j-th choice is the text "seed S" for the seed S it would use (vLLM's seed + j)."""
    def answer(body):
        seed = body.get("seed")
        return {"choices": [{"index": j, "message": {"role": "assistant", "content": f"seed {None if seed is None else seed + j}"},
                             "finish_reason": "stop"} for j in range(body["n"])]}

    return _OneAnswerServer(answer)


def test_openai_each_sample_has_its_own_seed_on_growth_and_redo(tmp_path, gsm8k):
    out, fresh = tmp_path / "o", tmp_path / "fresh"
    with _seed_server() as srv:
        base = ["eval", "--benchmark", "gsm8k", "--data", gsm8k, "--engine", "openai", "--base-url", srv.url,
                "--temperature", "1", "--seed", "5", "--k", "1", "--no-progress"]
        assert main([*base, "--n", "2", "--out", str(out)]) == 0
        assert main([*base, "--n", "4", "--out", str(out)]) == 0
        assert main([*base, "--n", "4", "--out", str(fresh)]) == 0
        grown = completions_by_key(out / "samples.jsonl")
        assert grown == completions_by_key(fresh / "samples.jsonl")  # as if drawn in one run
        assert grown == {(str(t), j): f"seed {5 + 4 * j + t}" for t in range(4) for j in range(4)}  # seed + j * N + t
        # a sample whose verification failed is redone with its own seed, not another sample's
        row = next(s for s in read_samples(out / "samples.jsonl") if (s["task_id"], s["sample_index"]) == ("1", 2))
        with open(out / "samples.jsonl", "a") as handle:
            handle.write(json.dumps(dict(row, error="sandbox error: simulated", correct=False)) + "\n")
        assert main([*base, "--n", "4", "--out", str(out)]) == 0
        assert completions_by_key(out / "samples.jsonl") == grown
        # without --seed, each run draws from a fresh random base: still no repeats when growing
        nos = [a for a in base if a not in ("--seed", "5")]
        assert main([*nos, "--n", "2", "--out", str(tmp_path / "u")]) == 0
        assert main([*nos, "--n", "4", "--out", str(tmp_path / "u")]) == 0
    unseeded = completions_by_key(tmp_path / "u" / "samples.jsonl")
    assert len(unseeded) == 16 and len(set(unseeded.values())) == 16 and "seed None" not in unseeded.values()


# ------------------------------------------------------------------ the model in the resume identity


def test_a_checkpoint_overwritten_in_place_or_another_dtype_or_max_turns_is_refused(tmp_path, gsm8k, capsys, monkeypatch):
    from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer

    ckpt = tmp_path / "ckpt"

    def save(seed):
        tok = build_tiny_tokenizer()
        build_tiny_model(tok, seed=seed).save_pretrained(ckpt)
        tok.save_pretrained(ckpt)

    save(0)
    out = tmp_path / "o"
    base = ["eval", "--benchmark", "gsm8k", "--data", gsm8k, "--engine", "hf", "--device", "cpu", "--temperature", "0.6",
            "--max-tokens", "4", "--limit", "1", "--k", "1", "--out", str(out), "--no-progress"]
    assert main([*base, "--model", str(ckpt), "--n", "1"]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["model"]["path"] == str(ckpt) and run["dtype"] == "auto" and run["max_turns"] is None
    monkeypatch.chdir(tmp_path)  # the same folder spelled another way is the same model
    assert main([*base, "--model", "ckpt", "--n", "2"]) == 0
    for extra, said in ((["--dtype", "float32"], "other settings"), (["--max-turns", "2"], "is a single-turn env")):
        assert main([*base, "--model", str(ckpt), "--n", "2", *extra]) == 2
        assert said in capsys.readouterr().err
    save(1)  # training went on and wrote other weights into the same folder
    assert main([*base, "--model", str(ckpt), "--n", "3"]) == 2
    err = capsys.readouterr().err
    assert "other settings (model.files:" in err and "another --out" in err
    assert len(read_samples(out / "samples.jsonl")) == 2


def test_vllm_engine_without_vllm_installed_exits_2_naming_the_fix(tmp_path, gsm8k, capsys, monkeypatch):
    """A missing vLLM is bad input (exit 2 with how to install it), not a traceback with exit 1."""
    monkeypatch.setitem(sys.modules, "vllm", None)  # `import vllm` raises ImportError, installed or not
    code, err = eval_with_vllm(tmp_path, gsm8k, capsys)
    assert code == 2, err
    assert "needs vLLM" in err and "Traceback" not in err


def test_a_temperature_vllm_would_not_sample_at_is_refused_before_vllm_loads(tmp_path, gsm8k, capsys, monkeypatch):
    """vLLM refuses more than 2 and raises less than 0.01 to 0.01: found out only at the first batch,
    after minutes of loading the model, where the other options are checked first."""
    monkeypatch.setitem(sys.modules, "vllm", None)  # loading vLLM would fail: it must not be tried
    code = main(["eval", "--benchmark", "gsm8k", "--data", gsm8k, "--engine", "vllm", "--model", "m", "--temperature",
                 "2.5", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "--temperature 2.5 is outside what the vllm engine samples with" in err, err
    assert "needs vLLM" not in err and not (tmp_path / "o").exists()
