"""Review 32 of skipping problems whose prompt does not fit the model's context (rlvr eval):

1. a chat-level call made only of over-long prompts skips them (it stopped the run, on every rerun);
   a prompt that fits alone but not with max_tokens is skipped with a reason saying so;
2. a chat-level run draws each sample once: no request sent twice, the call's fitting samples kept
   from the call with the refusal, a problem found too long left out of the later calls;
3. a skipped problem with samples drawn before is in no metric or count, as the report says;
4. a failed held-out evaluation in training still names sampling.max_context_tokens;
and the "K of M problems SKIPPED" line is the report's last, after the unverified banner too.
"""

from __future__ import annotations

import copy
import http.server
import json
import os
import threading

import pytest

from rlvr.benchmarks.evaluate import ResultStore, _finish, evaluate_engine
from rlvr.benchmarks.registry import load_benchmark
from rlvr.cli import main
from rlvr.commands.serve import ChatCompletionServer
from rlvr.trainers.engine import SamplingParams
from rlvr.trainers.hf_chat import HFChatEngine
from rlvr.trainers.openai_engine import ContextLengthExceededError, OpenAIEngine
from rlvr.trainers.rollout import PromptTooLongError, RolloutCollector
from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer

LONG = "Count: " + "one two three " * 120 + "How many words?"
MEDIUM = "Count: " + "one two " * 50 + "How many words?"


@pytest.fixture(scope="module")
def tok():
    return build_tiny_tokenizer("chatml")


@pytest.fixture(scope="module")
def small(tok):
    return HFChatEngine(build_tiny_model(tok, seed=0, max_position_embeddings=256), tok)


def _data(tmp_path, questions):
    path = tmp_path / "g.jsonl"
    path.write_text("".join(json.dumps({"question": q, "answer": "#### 4"}) + "\n" for q in questions))
    return str(path)


def _rows(out):
    return [json.loads(line) for line in open(os.path.join(out, "samples.jsonl"))]


def _eval(engine, out, data, **kwargs):
    with ChatCompletionServer(engine, "m", "127.0.0.1", 0) as srv:
        return evaluate_engine("gsm8k", kwargs.pop("client", OpenAIEngine)(srv.url), str(out), data=data, ks=[1],
                               temperature=0.6, seed=0, engine_name="openai", model_name="m",
                               progress=False, **{"n": 1, "verbose": False, "max_tokens": 4, **kwargs})


# ---- 1. a call of over-long prompts only ------------------------------------------------------


def test_a_chat_level_call_of_only_over_long_prompts_skips_them_and_a_rerun_too(small, tmp_path):
    data = _data(tmp_path, ["What is 2+2?", "What is 1+3?", LONG, LONG + " Again?"])
    out = tmp_path / "out"
    # calls of 2: the second holds only the two long problems (as a benchmark's last call may)
    first = _eval(small, out, data, samples_per_call=2)
    assert first.exit_code == 0 and [s["task_id"] for s in first["skipped"]] == ["2", "3"]
    assert all("fills the model's context of 256 tokens" in s["reason"] for s in first["skipped"])
    assert sorted(r["task_id"] for r in _rows(out)) == ["0", "1"]
    # the record deleted (as the docs say to after raising the server's context): asked again, skipped again
    os.remove(out / "skipped.json")
    again = _eval(small, out, data, samples_per_call=2)
    assert again.exit_code == 0 and [s["task_id"] for s in again["skipped"]] == ["2", "3"]
    assert (out / "skipped.json").exists()


class CountingServer:
    """An OpenAI-like server (127.0.0.1) that counts the prompt plus max_tokens against a context:
    a conversation holding MEDIUM is refused (code context_length_exceeded) unless max_tokens is 1;
    others are answered."""

    def __init__(self):
        from conftest import JsonHandler

        class Handler(JsonHandler):
            def do_GET(self):
                self.reply(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                text = json.dumps(body["messages"])
                if "one two one two" in text and body.get("max_tokens", 0) > 1:
                    self.reply(400, {"error": {"message": "This model's maximum context length is 100 tokens. However, "
                                                          "you requested 104 tokens (100 in the messages, 4 in the "
                                                          "completion).", "code": "context_length_exceeded"}})
                    return
                choices = [{"index": i, "message": {"role": "assistant", "content": "#### 4"}, "finish_reason": "stop"}
                           for i in range(int(body.get("n") or 1))]
                self.reply(200, {"choices": choices})

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_a_prompt_that_fits_alone_but_not_with_max_tokens_is_skipped_saying_so(tmp_path):
    env = load_benchmark("gsm8k", data=_data(tmp_path, [MEDIUM, "What is 1+3?", MEDIUM + " Again?"])).env
    server = CountingServer()
    try:
        collector = RolloutCollector(OpenAIEngine(server.url), lambda: copy.copy(env), None)
        sampling = SamplingParams(temperature=0, max_new_tokens=4, seed=0)
        with pytest.raises(PromptTooLongError) as caught:
            collector.collect([0, 2], 1, sampling)  # all refused: each its own prompt, not a raised refusal
        assert caught.value.positions == [0, 1]
        assert all("fits the model's context alone, but not with max_tokens=4" in r and "maximum context length" in r
                   for r in caught.value.reasons)
        with pytest.raises(PromptTooLongError) as caught:
            collector.collect([0, 1], 1, sampling)
        assert caught.value.positions == [0]
        done = caught.value.groups[1]  # the fitting one, finished and scored
        assert caught.value.groups[0] is None and done[0].completion == "#### 4" and done[0].correct
    finally:
        server.close()


def test_a_max_tokens_over_the_whole_context_still_stops_the_run(small, tmp_path):
    # rlvr serve refuses max_tokens > context in words a client reads as "too long": each prompt fits
    # alone (max_tokens=1), and so does a one-word conversation not with max_tokens: a setting
    data = _data(tmp_path, ["What is 2+2?", "What is 1+3?"])
    with pytest.raises(ContextLengthExceededError, match=r"max_tokens \(300\) exceeds the model's context"):
        _eval(small, tmp_path / "out", data, samples_per_call=2, max_tokens=300)
    assert not (tmp_path / "out" / "skipped.json").exists()


# ---- 2. nothing drawn or sent twice -------------------------------------------------------------


class Spy(OpenAIEngine):
    """The openai engine, recording each generate_chat it makes: (key, conversations, refused), with
    refused the number of conversations refused in place (``refusals="return"``), or None when the
    call raised."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = []

    def generate_chat(self, conversations, n, sampling, tools=None, *, refusals="raise"):
        key = (json.dumps(conversations), n, sampling.max_new_tokens, sampling.seed)
        try:
            got = super().generate_chat(conversations, n, sampling, tools=tools, refusals=refusals)
        except Exception:
            self.calls.append((key, len(conversations), None))
            raise
        self.calls.append((key, len(conversations), sum(isinstance(g, ContextLengthExceededError) for g in got)))
        return got


def test_a_chat_level_run_draws_each_sample_once_and_sends_no_request_twice(small, tmp_path):
    questions = ["What is 0+1?", LONG, "What is 2+1?", "What is 3+1?"]
    data = _data(tmp_path, questions)
    out = tmp_path / "out"
    spies = []

    def client(url):
        spies.append(Spy(url))
        return spies[0]

    result = _eval(small, out, data, n=3, samples_per_call=4, client=client)
    calls = spies[0].calls
    assert result.exit_code == 0 and [s["task_id"] for s in result["skipped"]] == ["1"]
    rows = _rows(out)
    assert len(rows) == 9 and all(r["seed"] == r["sample_index"] * 4 + int(r["task_id"]) for r in rows)
    # each of the 9 samples generated once (the refused call's other answers are kept, not redrawn)
    assert sum(size - refused for _, size, refused in calls if refused is not None) == 9
    # no request sent twice, and the long problem refused in one call only (later calls leave it out):
    # refused in place in its call of 4 (nothing sent again), then that one probe with max_tokens=1
    assert len({key for key, _, _ in calls}) == len(calls)
    assert [(size, refused) for _, size, refused in calls if refused != 0] == [(4, 1), (1, None)]


# ---- 3. a skipped problem with samples drawn before --------------------------------------------


def test_a_skipped_problem_with_earlier_samples_is_in_no_metric_as_the_report_says(small, tok, tmp_path, capsys):
    big = HFChatEngine(build_tiny_model(tok, seed=0, max_position_embeddings=1024), tok)
    data = _data(tmp_path, ["What is 2+2?", MEDIUM, "What is 3+3?", "What is 1+3?"])
    out = tmp_path / "out"
    assert _eval(big, out, data, n=1).exit_code == 0  # every prompt fits
    capsys.readouterr()
    result = _eval(small, out, data, n=2, verbose=True)  # the served context shrank: problem 1 no longer fits
    assert len([r for r in _rows(out) if r["task_id"] == "1"]) == 1  # its earlier sample stays in the file
    summary = json.loads((out / "summary.json").read_text())
    assert summary["skipped"] == result["skipped"] and [s["task_id"] for s in summary["skipped"]] == ["1"]
    assert summary["skipped"][0]["samples_left_out"] == 1
    counts = summary["counts"]
    assert (counts["problems"], counts["problems_total"], counts["skipped"], counts["skipped_samples"]) == (3, 4, 1, 1)
    assert counts["samples"] == counts["judged"] == 6
    assert all(m["problems"] == 3 for m in summary["metrics"].values())
    assert any("1 of 4 problems were SKIPPED" in w and "left out too" in w for w in summary["warnings"])
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("1 of 4 problems SKIPPED") and "the metrics cover the other 3" in last


# ---- the SKIPPED line is the report's last ---------------------------------------------------------


def test_the_skipped_line_comes_after_the_unverified_banner(tmp_path, capsys):
    data = _data(tmp_path, ["What is 2+2?", LONG, "What is 3+3?"])
    loaded = load_benchmark("gsm8k", data=data)
    store = ResultStore(str(tmp_path / "out"))
    store.add([{"task_id": "0", "sample_index": 0, "completion": "4", "correct": True, "score": 1.0},
               {"task_id": "2", "sample_index": 0, "completion": "", "correct": False, "score": 0.0,
                "error": "sandbox down", "kind": "sandbox_error"}])
    store.close()
    result = _finish(loaded, store, [("0", 0), ("1", 0), ("2", 0)], [1], {"mode": "engine"}, confidence=0.95,
                     ci_method="normal", verbose=True, elapsed=0.0, scored_now=0,
                     skipped={"1": "prompt longer than the model's context: test"})
    assert result["counts"]["excluded"] == 1 and result["counts"]["problems"] == 1
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert "INCOMPLETE" in err and last.startswith("1 of 3 problems SKIPPED")
    # the covered count, as every coverage message gives it (audit 36: it said "the other 2")
    assert "the metrics cover 1 of the 3 problems (see" in last


# ---- 4. training names the config setting ---------------------------------------------------------


def test_a_failed_held_out_evaluation_names_the_config_setting(tmp_path, capsys):
    config = tmp_path / "cfg.yaml"
    config.write_text(
        "model: {name_or_path: tiny, tiny_hidden_size: 32, tiny_layers: 1, device: cpu}\n"
        "env: {id: rlvr/Arithmetic-v0, kwargs: {format: compact, digits: 1}}\n"
        "sampling: {temperature: 1.0, max_new_tokens: 5, max_context_tokens: 8}\n"
        "train: {total_steps: 1, batch_groups: 2, group_size: 2, seed: 0}\n"
        "eval: {num_tasks: 2, temperature: 0.0, every: 1, env_kwargs: {digits: 4}}\n"
        f"log: {{output_dir: {tmp_path / 'run'}, save_every: 0}}\n"
    )
    main(["train", "--config", str(config)])
    errors = json.loads((tmp_path / "run" / "summary.json").read_text())["eval_errors"]
    assert errors and all("PromptTooLongError" in e and "sampling.max_context_tokens" in e for e in errors.values())
    assert "sampling.max_context_tokens" in capsys.readouterr().err
