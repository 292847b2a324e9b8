"""Audit 32 (rlvr serve): request fields that change the reply but that the server cannot honour
(legacy function calling, vLLM's chat-template options, reasoning effort...) get a 400 naming
them, unless they carry their neutral value."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from rlvr.commands.serve import BadRequest, ChatCompletionServer, parse_chat_request
from rlvr.trainers.hf_chat import HFChatEngine
from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("field, value", [
    ("functions", [{"name": "get_weather", "parameters": {"type": "object"}}]),
    ("function_call", {"name": "get_weather"}),
    ("chat_template_kwargs", {"enable_thinking": False}),
    ("chat_template", "{{ messages[0]['content'] }}"),
    ("add_generation_prompt", False),
    ("continue_final_message", True),
    ("reasoning_effort", "low"),
    ("length_penalty", 2.0),
    ("truncate_prompt_tokens", 10),
    ("add_special_tokens", True),
    ("min_p", False),  # a boolean is not the neutral 0
])
def test_fields_that_change_the_reply_are_refused(field, value):
    with pytest.raises(BadRequest) as caught:
        parse_chat_request({"messages": MESSAGES, field: value}, "m")
    assert caught.value.param == field and f"'{field}' is not supported" in str(caught.value)


@pytest.mark.parametrize("field, value", [
    ("functions", []), ("function_call", "none"), ("function_call", "auto"), ("chat_template_kwargs", {}),
    ("chat_template_kwargs", None), ("add_generation_prompt", True), ("continue_final_message", False),
    ("length_penalty", 1.0), ("add_special_tokens", False), ("min_p", 0.0), ("top_k", -1),
])
def test_their_neutral_values_are_accepted(field, value):
    assert parse_chat_request({"messages": MESSAGES, field: value}, "m")["messages"]


def test_the_server_answers_400_naming_the_field():
    tok = build_tiny_tokenizer("chatml")
    engine = HFChatEngine(build_tiny_model(tok, seed=0, max_position_embeddings=256), tok)
    with ChatCompletionServer(engine, "m", "127.0.0.1", 0) as srv:
        def post(body):
            req = urllib.request.Request(srv.url + "/chat/completions", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=60) as reply:
                    return reply.status, json.loads(reply.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read())

        status, body = post({"messages": MESSAGES, "max_tokens": 2, "chat_template_kwargs": {"enable_thinking": False}})
        assert status == 400 and body["error"]["param"] == "chat_template_kwargs"
        status, body = post({"messages": MESSAGES, "max_tokens": 2, "add_generation_prompt": True, "functions": []})
        assert status == 200 and body["choices"]
