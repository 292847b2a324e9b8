"""Review 32 (second round) of chat-level refusals of prompts longer than the model's context:

1. one refused conversation costs its own request and one probe: the openai engine reports it in
   place (``generate_chat(..., refusals="return")``) and the rollout uses that, so no conversation
   that fits is generated twice and each keeps the seed (and sample) of a run where all fit; a
   conversation repeated in a call is probed once; other errors still fail the call;
2. a PromptTooLongError carrying the finished groups comes after their infra retries, and a
   refusal during a retry keeps the groups finished so far.
"""

from __future__ import annotations

import copy
import http.server
import json
import threading

import gymnasium as gym
import pytest

from rlvr.benchmarks.registry import load_benchmark
from rlvr.trainers.engine import SamplingParams
from rlvr.trainers.openai_engine import ContextLengthExceededError, OpenAIEngine, ServerUnreachableError
from rlvr.trainers.rollout import PromptTooLongError, RolloutCollector

LONG = "word " * 300


class Server:
    """An OpenAI-like server on 127.0.0.1 counting words of the messages plus max_tokens against
    ``ctx`` (OpenAI's way), recording every POST as (messages, seed, max_tokens, n). Its answer names
    the seed, so a sample shows the seed it was drawn with. A conversation holding "BROKEN" gets 500."""

    def __init__(self, ctx: int = 200):
        from conftest import JsonHandler

        self.ctx = ctx
        self.log: list[tuple[str, int | None, int, int]] = []
        lock = threading.Lock()
        server = self

        class Handler(JsonHandler):
            def do_GET(self):
                self.reply(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                text = " ".join(str(m.get("content")) for m in body["messages"])
                max_tokens, n = int(body.get("max_tokens") or 16), int(body.get("n") or 1)
                with lock:
                    server.log.append((json.dumps(body["messages"]), body.get("seed"), max_tokens, n))
                if "BROKEN" in text:
                    self.reply(500, {"error": {"message": "internal"}})
                    return
                if len(text.split()) + max_tokens > server.ctx:
                    self.reply(400, {"error": {"message": f"This model's maximum context length is {server.ctx} tokens.",
                                               "code": "context_length_exceeded"}})
                    return
                seed = body.get("seed")
                choices = [{"index": i, "message": {"role": "assistant", "content": f"#### {None if seed is None else seed + i}"},
                            "finish_reason": "stop"} for i in range(n)]
                self.reply(200, {"choices": choices})

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def generations(self) -> list[tuple[str, int | None, int, int]]:
        """The POSTs other than max_tokens=1 probes."""
        return [entry for entry in self.log if entry[2] != 1]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = Server()
    yield srv
    srv.close()


def _env(tmp_path, questions):
    path = tmp_path / "g.jsonl"
    path.write_text("".join(json.dumps({"question": q, "answer": "#### 4"}) + "\n" for q in questions))
    return load_benchmark("gsm8k", data=str(path)).env


def _collector(server, env, **engine_kwargs):
    return RolloutCollector(OpenAIEngine(server.url, model="fake", backoff=0.0, **engine_kwargs), lambda: copy.copy(env), None)


SAMPLING = SamplingParams(temperature=1.0, max_new_tokens=16, seed=7)


# ---- 1. a refusal costs its own request, nothing is generated again ---------------------------------


def test_generate_chat_returns_each_refusal_in_place_and_sends_each_conversation_once(server):
    engine = OpenAIEngine(server.url, model="fake", concurrency=4)
    convs = [[{"role": "user", "content": f"What is {i}+1?" + (LONG if i == 2 else "")}] for i in range(5)]
    got = engine.generate_chat(convs, 2, SAMPLING, refusals="return")
    assert isinstance(got[2], ContextLengthExceededError) and "maximum context length" in str(got[2])
    # the others answered with the seeds of a call where all fit: seed + i * n (+ j per choice)
    assert [[s.text for s in got[i]] for i in (0, 1, 3, 4)] == [[f"#### {7 + i * 2 + j}" for j in range(2)] for i in (0, 1, 3, 4)]
    assert len(server.log) == 5 and len(set(server.log)) == 5
    with pytest.raises(ContextLengthExceededError):  # the default still fails the call
        engine.generate_chat(convs, 2, SAMPLING)


def test_a_refused_prompt_costs_one_request_and_one_probe_and_the_others_sample_as_if_all_fit(server, tmp_path):
    questions = [f"What is {i}+1?" for i in range(8)]
    long = list(questions)
    long[5] = LONG + questions[5]
    collector = _collector(server, _env(tmp_path, long))
    with pytest.raises(PromptTooLongError) as caught:
        collector.collect(list(range(8)), 1, SAMPLING)
    assert caught.value.positions == [5] and "maximum context length" in caught.value.reasons[0]
    # 8 generation requests (one refused), 1 probe with max_tokens=1: nothing sent twice
    assert len(server.generations()) == 8 and [e[2] for e in server.log].count(1) == 1
    assert len(set(server.log)) == len(server.log)
    kept = {g: group[0].completion for g, group in enumerate(caught.value.groups) if group is not None}
    all_fit = Server()
    try:
        groups = _collector(all_fit, _env(tmp_path, questions)).collect(list(range(8)), 1, SAMPLING)
    finally:
        all_fit.close()
    assert kept == {g: groups[g][0].completion for g in kept} and kept[7] == "#### 14"


def test_a_conversation_repeated_in_a_call_is_probed_once(server, tmp_path):
    # rlvr eval's calls hold a problem once per sample: [0, 1, 0, 1, ...] with problem 1 too long
    collector = _collector(server, _env(tmp_path, ["What is 2+2?", LONG + "What is 1+3?"]))
    with pytest.raises(PromptTooLongError) as caught:
        collector.collect([0, 1] * 10, 1, SAMPLING)
    assert caught.value.positions == list(range(1, 20, 2))
    assert [e[2] for e in server.log].count(1) == 1  # one probe, its reason shared by every copy
    assert len(server.generations()) == 20 and len(set(server.log)) == len(server.log)
    assert len(set(caught.value.reasons)) == 1


def test_other_errors_than_a_refusal_still_fail_the_whole_call(server, tmp_path):
    collector = _collector(server, _env(tmp_path, ["What is 2+2?", "BROKEN " + "What is 1+3?", LONG]), max_retries=1)
    with pytest.raises(ServerUnreachableError):
        collector.collect([0, 1, 2], 1, SAMPLING)


# ---- 2. infra retries of the groups a PromptTooLongError carries --------------------------------------


class Flaky(gym.Wrapper):
    """Verification of the tasks in ``outages`` fails for an infrastructure reason (valid=False) as
    often as their count says; ``on_outage`` runs at each failure (e.g. to shrink the server's context)."""

    def __init__(self, env, outages: dict[str, int], on_outage=lambda: None):
        super().__init__(env)
        self.outages, self.on_outage, self.task_id = outages, on_outage, None

    def reset(self, **kwargs):
        prompt, info = self.env.reset(**kwargs)
        self.task_id = str(info.get("task_id"))
        return prompt, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if self.outages.get(self.task_id, 0) > 0:
            self.outages[self.task_id] -= 1
            self.on_outage()
            info = {**info, "valid": False, "error": "sandbox down"}
        return obs, reward, terminated, truncated, info


def test_the_groups_a_prompt_too_long_error_carries_had_their_infra_retries(server, tmp_path):
    env = _env(tmp_path, ["What is 2+2?", "What is 1+3?", LONG])
    outages = {"0": 1}
    collector = RolloutCollector(OpenAIEngine(server.url, model="fake"), lambda: Flaky(copy.copy(env), outages), None)
    with pytest.raises(PromptTooLongError) as caught:
        collector.collect([0, 1, 2], 1, SAMPLING, infra_retries=2)
    groups = caught.value.groups
    assert caught.value.positions == [2] and groups[2] is None
    assert all(t.valid for g in (0, 1) for t in groups[g]) and collector.infra_retried_groups == 1
    assert [groups[g][0].group for g in (0, 1)] == [0, 1]


def test_a_refusal_during_an_infra_retry_keeps_the_finished_groups(server, tmp_path):
    medium = "many " * 150 + "What is 1+3?"  # fits until the server's context shrinks
    env = _env(tmp_path, ["What is 2+2?", medium, "What is 3+3?"])

    def shrink():
        server.ctx = 100

    outages = {"0": 1, "1": 1}
    collector = RolloutCollector(OpenAIEngine(server.url, model="fake"),
                                 lambda: Flaky(copy.copy(env), outages, shrink), None)
    with pytest.raises(PromptTooLongError) as caught:
        collector.collect([0, 1, 2], 1, SAMPLING, infra_retries=2)
    groups = caught.value.groups
    assert caught.value.positions == [1] and groups is not None and groups[1] is None
    assert groups[0][0].valid and groups[0][0].group == 0  # retried, valid
    assert groups[2][0].valid and groups[2][0].completion == "#### 9"  # finished in the first run, kept
