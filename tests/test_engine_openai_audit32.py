"""Audit 32 of the ``openai`` engine: what a server's reply carries besides its text.

1. A legacy ``function_call`` reply (``finish_reason="function_call"``) is the model's tool call: it
   reaches the env as an OpenAI-shaped ``tool_calls`` entry, rather than an empty answer scored.
2. llama.cpp's refusal of a conversation longer than its context (error type
   ``exceed_context_size_error``) is a :class:`ContextLengthExceededError`, so a multi-turn episode
   growing into it ends truncated instead of failing the run.
3. Reasoning a server returns apart from the answer (``reasoning_content``, or newer vLLM's
   ``reasoning``) is kept in ``Sample.meta["reasoning"]``, also from a reply cut off while reasoning.

Each is checked against a real HTTP server on 127.0.0.1 run by the test.
"""

from __future__ import annotations

import json

import pytest

from rlvr.trainers.engine import SamplingParams
from rlvr.trainers.openai_engine import (
    ContextLengthExceededError,
    OpenAIEngine,
    OpenAIEngineError,
    RequestRejectedError,
    context_exceeded,
    samples_from_response,
)
from rlvr.trainers.rollout import collect_rollouts
from conftest import ScriptedChatServer as Server

CONV = [{"role": "user", "content": "What is 12*5?"}]


def reply(message, finish_reason="stop"):
    return {"choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish_reason}]}


def ask(srv):
    return OpenAIEngine(srv.url, "m", max_retries=0).generate_chat([CONV], 1, SamplingParams(max_new_tokens=50))[0][0]


# ---- 1. legacy function_call -------------------------------------------------------------------

FUNCTION_CALL = {"name": "calculator", "arguments": json.dumps({"expression": "12*5"})}


def test_a_legacy_function_call_is_returned_as_an_openai_tool_call():
    with Server(lambda body: (200, reply({"content": None, "function_call": FUNCTION_CALL}, "function_call"))) as srv:
        first = ask(srv)
    [call] = first.meta["tool_calls"]
    assert call == {"type": "function", "function": FUNCTION_CALL}  # no id: the env gives it one unique in the episode
    assert first.text == "" and first.finish_reason == "stop" and first.meta["finish_reason"] == "function_call"


def test_a_legacy_function_call_repeated_in_an_episode_gets_a_new_id_each_turn():
    """A review found the first version's id, made from the call alone, repeated when the model
    repeated the call; servers that need unique ids in a conversation refuse such a request."""
    def answer(body):
        if sum(m["role"] == "tool" for m in body["messages"]) >= 2:
            return 200, reply({"content": "The answer is \\boxed{60}."})
        return 200, reply({"content": None, "function_call": FUNCTION_CALL}, "function_call")

    def episode_ids():
        with Server(answer) as srv:
            [[traj]] = collect_rollouts(OpenAIEngine(srv.url, "m", max_retries=0), "rlvr/ToolMath-v0", None,
                                        SamplingParams(max_new_tokens=50), tasks=[0], n=1,
                                        env_kwargs={"builtin_tools": ("calculator",)})
        assert traj.valid and traj.num_turns == 3
        messages = srv.requests[-1]["messages"]
        ids = [call["id"] for m in messages if m["role"] == "assistant" for call in m["tool_calls"]]
        assert [m["tool_call_id"] for m in messages if m["role"] == "tool"] == ids
        return ids

    ids = episode_ids()
    assert len(ids) == 2 and len(set(ids)) == 2
    assert episode_ids() == ids  # the same on every run


def test_a_legacy_function_call_is_run_by_the_env_and_the_episode_goes_on():
    """Before: the call was dropped and the empty reply scored as the final answer after one turn."""
    def answer(body):
        if any(m["role"] == "tool" for m in body["messages"]):
            return 200, reply({"content": "The answer is \\boxed{60}."})
        return 200, reply({"content": None, "function_call": FUNCTION_CALL}, "function_call")

    with Server(answer) as srv:
        [[traj]] = collect_rollouts(OpenAIEngine(srv.url, "m", max_retries=0), "rlvr/ToolMath-v0", None,
                                    SamplingParams(max_new_tokens=50), tasks=[0], n=1,
                                    env_kwargs={"builtin_tools": ("calculator",)})
    assert traj.valid and traj.num_turns == 2 and len(srv.requests) == 2
    messages = srv.requests[1]["messages"]
    [assistant] = [m for m in messages if m["role"] == "assistant"]
    [tool] = [m for m in messages if m["role"] == "tool"]
    [call] = assistant["tool_calls"]
    assert call["function"]["name"] == "calculator" and tool["tool_call_id"] == call["id"]
    assert "60" in tool["content"]


@pytest.mark.parametrize("function_call", [
    "calculator(12*5)",
    {"arguments": "{}"},
    {"name": "", "arguments": "{}"},
    {"name": 7, "arguments": "{}"},
    {"name": "calculator"},
    {"name": "calculator", "arguments": 60},
])
def test_a_malformed_function_call_is_an_engine_error_not_an_empty_answer(function_call):
    response = reply({"content": None, "function_call": function_call}, "function_call")
    with pytest.raises(OpenAIEngineError, match="malformed: choice 0 has a 'function_call'"):
        samples_from_response(response)
    with Server(lambda body: (200, response)) as srv:
        with pytest.raises(OpenAIEngineError, match="malformed"):
            ask(srv)


def test_tool_calls_win_over_a_function_call_beside_them_and_a_null_one_is_ignored():
    call = {"id": "c1", "type": "function", "function": {"name": "calculator", "arguments": "{}"}}
    both = reply({"content": None, "tool_calls": [call], "function_call": FUNCTION_CALL}, "tool_calls")
    assert samples_from_response(both)[0].meta["tool_calls"] == [call]
    plain = samples_from_response(reply({"content": "\\boxed{60}", "function_call": None}))[0]
    assert plain.text == "\\boxed{60}" and "tool_calls" not in plain.meta


# ---- 2. llama.cpp's context refusal ------------------------------------------------------------

LLAMACPP_CONTEXT = {"error": {"code": 400, "message": "the request exceeds the available context size, try increasing it",
                              "type": "exceed_context_size_error", "n_prompt_tokens": 4200, "n_ctx": 4096}}


@pytest.mark.parametrize("status, body, exceeded", [
    (400, LLAMACPP_CONTEXT, True),
    (400, {"error": {"code": 400, "message": "too long", "type": "exceed_context_size_error"}}, True),  # by its type
    (400, {"error": {"message": "the request exceeds the available context size. try increasing the context size "
                                "or enable context shift", "type": "invalid_request_error"}}, True),  # older wording
    (400, {"error": {"code": 400, "message": "input is too large to process. increase the physical batch size",
                     "type": "invalid_request_error"}}, False),
    (400, {"error": {"code": 400, "message": "'n_probs' must be positive", "type": "invalid_request_error"}}, False),
    (404, LLAMACPP_CONTEXT, False),
    (500, {"error": {"message": "the request exceeds the available context size", "type": "server_error"}}, False),
])
def test_llamacpps_context_refusal_is_recognised_and_nothing_else(status, body, exceeded):
    assert context_exceeded(status, json.dumps(body)) is exceeded


def test_llamacpps_context_refusal_is_a_context_error_and_ends_the_episode_truncated():
    call = '<tool_call>{"name": "calculator", "arguments": {"expression": "12*5"}}</tool_call>'

    def answer(body):
        if any(m["role"] == "tool" for m in body["messages"]):
            return 400, LLAMACPP_CONTEXT
        return 200, reply({"content": call})

    with Server(answer) as srv:
        with pytest.raises(ContextLengthExceededError) as caught:
            OpenAIEngine(srv.url, "m", max_retries=0).generate_chat(
                [CONV + [{"role": "assistant", "content": call}, {"role": "tool", "content": "60"}]], 1, SamplingParams())
        assert isinstance(caught.value, RequestRejectedError) and caught.value.status == 400
        [[traj]] = collect_rollouts(OpenAIEngine(srv.url, "m", max_retries=0), "rlvr/ToolMath-v0", None,
                                    SamplingParams(max_new_tokens=50), tasks=[0], n=1,
                                    env_kwargs={"builtin_tools": ("calculator",)})
    assert traj.valid and traj.episode_truncated and traj.num_turns == 1


# ---- 3. reasoning returned apart from the answer -----------------------------------------------


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_returned_apart_is_kept_in_meta(field):
    with Server(lambda body: (200, reply({field: "12*5 = 60.", "content": "\\boxed{60}"}))) as srv:
        sample = ask(srv)
    assert sample.text == "\\boxed{60}" and sample.meta["reasoning"] == "12*5 = 60."


def test_a_reply_cut_off_while_reasoning_keeps_its_reasoning():
    with Server(lambda body: (200, reply({"reasoning_content": "Let me think: 12*5 = 6", "content": None}, "length"))) as srv:
        sample = ask(srv)
    assert sample.text == "" and sample.truncated and sample.meta["reasoning"] == "Let me think: 12*5 = 6"


def test_reasoning_fields_read_like_content_and_absent_reasoning_adds_nothing():
    both = samples_from_response(reply({"reasoning_content": "", "reasoning": "r", "content": "a"}))[0]
    assert both.meta["reasoning"] == "r"  # the first non-empty one
    parts = samples_from_response(reply({"reasoning": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                                         "content": "x"}))[0]
    assert parts.meta["reasoning"] == "ab"
    plain = samples_from_response(reply({"reasoning_content": None, "content": "x"}))[0]
    assert "reasoning" not in plain.meta
    # reasoning is never judged: a shape of its own is kept as its JSON, never an engine error (a review
    # found the first version stopping a whole eval over it)
    odd = samples_from_response(reply({"reasoning": {"text": "12*5 = 60"}, "content": "\\boxed{60}"}))[0]
    assert odd.text == "\\boxed{60}" and odd.meta["reasoning"] == '{"text": "12*5 = 60"}'
    assert samples_from_response(reply({"reasoning_content": 7, "content": "x"}))[0].meta["reasoning"] == "7"


def test_reasoning_reaches_the_trajectory_and_the_eval_samples(tmp_path):
    """Before: kept in the sample's meta only, it reached neither the rollout's trajectory nor
    `samples.jsonl`, so an evaluation lost every word a reasoning parser took out of the text."""
    from rlvr.benchmarks.samples import write_sample
    from rlvr.cli import main

    answer = lambda body: (200, reply({"reasoning_content": "12*5 = 60.", "content": "\\boxed{60}"}))  # noqa: E731
    with Server(answer) as srv:
        [[traj]] = collect_rollouts(OpenAIEngine(srv.url, "m", max_retries=0), "rlvr/Math-v0", None,
                                    SamplingParams(max_new_tokens=50), tasks=[0], n=1)
        data = write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl"))
        assert main(["eval", "--benchmark", "gsm8k", "--data", data, "--limit", "1", "--engine", "openai", "--model",
                     "m", "--base-url", srv.url, "--timeout", "5", "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    assert traj.turn_reasoning == ["12*5 = 60."] and traj.turn_texts == ["\\boxed{60}"]
    assert traj.to_dict()["turn_reasoning"] == ["12*5 = 60."]
    [row] = [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    assert row["reasoning"] == ["12*5 = 60."] and row["completion"] == "\\boxed{60}"
