"""Audit 38 (rlvr serve and the openai engine), against a real `rlvr serve` on 127.0.0.1 with the tiny model:

- a busy server's ``Retry-After`` grows with its queue, and the openai engine waits a busy answer
  (503 with ``Retry-After``) out for up to ``min(timeout, MAX_BUSY_S)`` instead of spending
  ``max_retries`` on it, then fails with an error saying the server stayed busy (``max_retries=0``
  still fails at once: tests/test_serve.py); a 429 (a rate limit or a used-up quota) is retried
  ``max_retries`` times, not waited out;
- ``stop_token_ids`` given as 0, false, "" or {} is refused, not read as "none";
- malformed ``tool_calls``, text that is not valid Unicode and tools without a function name get a
  400 that names the field; tool calls a template renders (the flat ``{"name", "arguments"}`` shape,
  ``arguments`` null or a list) are not refused;
- HEAD answers as GET, other methods get a JSON 405 with ``Allow`` (GET/HEAD on the chat route:
  ``Allow: POST``), and ``GET /v1/models/{id}`` works.
"""

from __future__ import annotations

import email.utils
import http.client
import http.server
import json
import threading
import time

import pytest

from rlvr.commands.serve import BadRequest, ChatCompletionServer, parse_chat_request
from rlvr.trainers.engine import SamplingParams
from rlvr.trainers.hf_chat import HFChatEngine, check_conversation
from rlvr.trainers import openai_engine
from rlvr.trainers.openai_engine import OpenAIEngine, ServerUnreachableError, _retry_after
from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer
from test_serve import post

CONV = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def engine():
    tok = build_tiny_tokenizer("chatml")
    return HFChatEngine(build_tiny_model(tok, seed=0, max_position_embeddings=256), tok, device="cpu")


@pytest.fixture(scope="module")
def server(engine):
    with ChatCompletionServer(engine, "m", "127.0.0.1", 0) as srv:
        yield srv


def raw_request(srv, method, path):
    """(status, headers, body bytes) of one request with ``method`` on a fresh connection."""
    host, port = srv.httpd.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request(method, path)
        reply = conn.getresponse()
        return reply.status, dict(reply.getheaders()), reply.read()
    finally:
        conn.close()


# ---------------------------------------------------------------------- busy server


@pytest.fixture
def busy(engine):
    """A server with --max-queue 0 whose model is held busy, one request already waiting: every
    other request gets 503 with Retry-After. ``release()`` lets the model go."""
    with ChatCompletionServer(engine, "m", "127.0.0.1", 0, max_queue=0) as srv:
        srv._lock.acquire()
        released = threading.Event()

        def release():
            if not released.is_set():
                released.set()
                srv._lock.release()

        srv.release = release
        first = threading.Thread(target=post, args=(srv, {"messages": CONV, "max_tokens": 2}), daemon=True)
        first.start()
        deadline = time.monotonic() + 30
        while srv._pending == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        try:
            yield srv
        finally:
            release()
            first.join(timeout=60)


def test_retry_after_grows_with_the_queue_and_is_bounded(busy):
    """(pending + 1) x the last generation's time: a constant one-generation wait sent every refused
    client back at once into a queue as full as before."""
    busy._last_generation_s = 2.0
    headers: dict = {}
    status, reply = post(busy, {"messages": CONV, "max_tokens": 2}, headers=headers)
    assert status == 503 and reply["error"]["type"] == "server_busy"
    assert int(headers["Retry-After"]) == 4  # one waiting (+1) x 2 s; it was 2 before
    busy._last_generation_s = 1000.0
    post(busy, {"messages": CONV, "max_tokens": 2}, headers=headers)
    assert int(headers["Retry-After"]) == 60


@pytest.mark.timeout(60)
def test_the_engine_waits_a_busy_server_out_beyond_max_retries(busy):
    """Busy is not failing: with max_retries=1 the request still waits as Retry-After asks and is
    sent again until the server takes it (before: an error at the second 503, after about 1 s)."""
    threading.Timer(3.0, busy.release).start()
    client = OpenAIEngine(busy.url, "m", max_retries=1, timeout=60)
    start = time.monotonic()
    [[sample]] = client.generate_chat([CONV], 1, SamplingParams(max_new_tokens=2))
    assert sample.finish_reason in ("stop", "length") and time.monotonic() - start >= 2.5


@pytest.mark.timeout(60)
def test_a_server_busy_for_good_ends_after_the_timeout_with_a_clear_error(busy):
    client = OpenAIEngine(busy.url, "m", max_retries=1, timeout=3)
    start = time.monotonic()
    with pytest.raises(ServerUnreachableError, match=r"stayed busy for 3s .*HTTP 503: rlvr serve is busy.*--concurrency"):
        client.generate_chat([CONV], 1, SamplingParams(max_new_tokens=2))
    assert 2.5 <= time.monotonic() - start < 15


@pytest.mark.timeout(60)
def test_a_busy_server_is_waited_out_at_most_max_busy_s_whatever_the_timeout(busy, monkeypatch):
    """rlvr eval's timeout is 30 minutes: a request must not wait that long, silently, on a busy server."""
    monkeypatch.setattr(openai_engine, "MAX_BUSY_S", 2.0)
    client = OpenAIEngine(busy.url, "m", max_retries=1, timeout=1800)
    start = time.monotonic()
    with pytest.raises(ServerUnreachableError, match=r"stayed busy for 2s .*HTTP 503"):
        client.generate_chat([CONV], 1, SamplingParams(max_new_tokens=2))
    assert 1.5 <= time.monotonic() - start < 15


@pytest.fixture
def rate_limited():
    """A server answering every POST with 429 and ``Retry-After: 0`` (a used-up quota); its ``hits``."""
    hits: list[float] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            hits.append(time.monotonic())
            body = json.dumps({"error": {"message": "You exceeded your current quota", "type": "insufficient_quota"}}).encode()
            self.send_response(429)
            for name, value in (("Retry-After", "0"), ("Content-Type", "application/json"), ("Content-Length", str(len(body)))):
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    httpd.url, httpd.hits = f"http://127.0.0.1:{httpd.server_address[1]}/v1", hits
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.timeout(60)
def test_a_429_with_retry_after_is_retried_max_retries_times_not_waited_out(rate_limited):
    """A rate limit is not a busy queue: it fails after max_retries, saying so, not after the timeout."""
    client = OpenAIEngine(rate_limited.url, "m", max_retries=2, backoff=0.0, timeout=20)
    start = time.monotonic()
    with pytest.raises(ServerUnreachableError, match=r"after 3 attempt\(s\) .*HTTP 429: You exceeded .*rate limit, or a quota"):
        client.generate_chat([CONV], 1, SamplingParams(max_new_tokens=2))
    assert len(rate_limited.hits) == 3 and time.monotonic() - start < 10


@pytest.mark.timeout(120)
def test_more_concurrent_conversations_than_the_queue_takes_all_complete(engine):
    """The red team's case, scaled down: concurrency 4 against --max-queue 0, one retry allowed."""
    with ChatCompletionServer(engine, "m", "127.0.0.1", 0, max_queue=0) as srv:
        client = OpenAIEngine(srv.url, "m", max_retries=1, timeout=90, concurrency=4)
        convs = [[{"role": "user", "content": f"q{i}"}] for i in range(8)]
        out = client.generate_chat(convs, 2, SamplingParams(max_new_tokens=4))
        assert len(out) == 8 and all(len(group) == 2 for group in out)


def test_retry_after_as_an_http_date_is_read():
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= _retry_after(later) <= 31
    assert _retry_after(None) is None and _retry_after("soon") is None and _retry_after("nan") is None
    assert _retry_after("7") == 7 and _retry_after("1e9") == 60


# ---------------------------------------------------------------------- request fields


@pytest.mark.parametrize("value", [0, False, "", {}, 5])
def test_stop_token_ids_that_are_not_a_list_are_refused(server, value):
    status, reply = post(server, {"messages": CONV, "max_tokens": 2, "stop_token_ids": value})
    assert status == 400 and reply["error"]["param"] == "stop_token_ids", reply
    assert "must be a list of token ids" in reply["error"]["message"]


def test_stop_token_ids_null_or_empty_means_none():
    for value in (None, []):
        assert parse_chat_request({"messages": CONV, "stop_token_ids": value}, "m")["sampling"].stop_token_ids == ()


@pytest.mark.parametrize("tool_calls, says", [
    ([{"id": "c1", "type": "function"}], "'tool_calls'[0] must be {\"function\""),
    ("abc", "'tool_calls' must be a list"),
    ([1, 2], "'tool_calls'[0] must be {\"function\""),
    ([{"type": "function", "function": {"arguments": "{}"}}], "'tool_calls'[0].function.name must be a string"),
    ([{"type": "function", "function": {"name": "f"}}], "'tool_calls'[0].function.arguments is missing"),
    ([{"type": "function", "function": None, "name": "f", "arguments": "{}"}], "got 'function' as NoneType"),
])
def test_malformed_tool_calls_get_a_400_naming_them(server, tool_calls, says):
    messages = [{"role": "user", "content": "x"}, {"role": "assistant", "content": None, "tool_calls": tool_calls}]
    status, reply = post(server, {"messages": messages, "max_tokens": 2})
    assert status == 400 and reply["error"]["param"] == "messages", reply
    assert "message 1" in reply["error"]["message"] and says in reply["error"]["message"]
    assert "Undefined" not in reply["error"]["message"]


def test_well_formed_tool_calls_are_still_rendered(server):
    """An empty name (how envs record a call the model wrote without one) and object arguments pass."""
    calls = [{"id": "c1", "type": "function", "function": {"name": "", "arguments": "{bad json"}},
             {"id": "c2", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}]
    messages = [{"role": "user", "content": "x"}, {"role": "assistant", "content": None, "tool_calls": calls},
                {"role": "tool", "tool_call_id": "c1", "content": "r"}]
    status, reply = post(server, {"messages": messages, "max_tokens": 2})
    assert status == 200, reply


FLAT_AND_LOOSE_CALLS = [
    [{"name": "calculator", "arguments": {"expression": "2+2"}}],  # the flat shape templates read too
    [{"id": "c1", "type": "function", "name": "calculator", "arguments": "{\"expression\": \"2+2\"}"}],
    [{"function": {"name": "calculator", "arguments": [1, 2]}}],
    [{"function": {"name": "calculator", "arguments": None}}],
    [{"function": {"name": "calculator", "arguments": 3}}],
]


@pytest.mark.parametrize("calls", FLAT_AND_LOOSE_CALLS)
def test_tool_calls_a_template_renders_are_not_refused(server, engine, calls):
    """The check names what would crash a template; it does not enforce OpenAI's schema (these rendered before it)."""
    messages = [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "", "tool_calls": calls},
                {"role": "tool", "content": "4"}]
    [[sample]] = engine.generate_chat([messages], 1, SamplingParams(max_new_tokens=2, temperature=0))
    assert sample.meta["prompt_tokens"] > 0
    status, reply = post(server, {"messages": messages, "max_tokens": 2})
    assert status == 200, reply


def test_tool_call_arguments_that_are_not_json_are_refused_by_name():
    for arguments in ({1, 2}, object()):
        conv = [{"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": arguments}}]}]
        with pytest.raises(ValueError, match=r"message 0: 'tool_calls'\[0\].function.arguments must be a JSON string or a JSON value"):
            check_conversation(conv)
    with pytest.raises(ValueError, match=r"'tool_calls'\[0\] must be .*got no 'function' and no string 'name'"):
        check_conversation([{"role": "assistant", "content": "", "tool_calls": [{"name": 3, "arguments": {}}]}])


def test_text_that_is_not_valid_unicode_gets_a_400_naming_the_field(server):
    host, port = server.httpd.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=60)
    body = b'{"messages":[{"role":"user","content":"ok"},{"role":"user","content":[{"type":"text","text":"a\\ud800"}]}],"max_tokens":2}'
    conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    reply = conn.getresponse()
    error = json.loads(reply.read())["error"]
    conn.close()
    assert reply.status == 400 and error["param"] == "messages"
    assert "message 1: 'content'[0].text is not valid text" in error["message"] and "TextEncodeInput" not in error["message"]
    with pytest.raises(ValueError, match=r"message 0: 'tool_calls'\[0\].function.arguments is not valid text"):
        check_conversation([{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "\ud83d"}}]}])


@pytest.mark.parametrize("tools", [[{"type": "function"}], [{"type": "function", "function": {"name": ""}}], "f", [1]])
def test_tools_without_a_function_name_are_refused(server, tools):
    status, reply = post(server, {"messages": CONV, "max_tokens": 2, "tools": tools})
    assert status == 400 and reply["error"]["param"] == "tools", reply


def test_tools_with_a_lone_surrogate_are_refused_by_name():
    with pytest.raises(BadRequest, match=r"'tools'\[0\]: 'function'.description is not valid text") as caught:
        parse_chat_request({"messages": CONV, "tools": [{"type": "function", "function": {"name": "f", "description": "\udc00"}}]}, "m")
    assert caught.value.param == "tools"


# ---------------------------------------------------------------------- methods and routes


def test_head_answers_as_get_without_a_body(server):
    status, headers, body = raw_request(server, "HEAD", "/health")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) == len(json.dumps({"status": "ok"}))
    status, headers, body = raw_request(server, "HEAD", "/v1/models")
    assert status == 200 and body == b"" and headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("method", ["OPTIONS", "PUT", "DELETE", "PATCH"])
def test_other_methods_get_a_json_405_with_allow(server, method):
    status, headers, body = raw_request(server, method, "/v1/chat/completions")
    assert status == 405 and headers["Allow"] == "GET, HEAD, POST" and headers["Content-Type"] == "application/json"
    error = json.loads(body)["error"]
    assert error["type"] == "method_not_allowed" and method in error["message"]


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/chat/completions?api-version=1"])
def test_get_and_head_on_the_chat_route_get_a_405_allowing_post(server, path):
    status, headers, body = raw_request(server, "GET", path)
    assert status == 405 and headers["Allow"] == "POST" and headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"]["type"] == "method_not_allowed"
    status, headers, body = raw_request(server, "HEAD", path)
    assert status == 405 and headers["Allow"] == "POST" and body == b""


def test_an_unknown_method_gets_a_json_error_not_an_html_page(server):
    status, headers, body = raw_request(server, "BREW", "/v1/models")
    assert status == 501 and headers["Content-Type"] == "application/json" and json.loads(body)["error"]["message"]


def test_a_model_can_be_retrieved_by_its_id(server):
    status, _, body = raw_request(server, "GET", "/v1/models/m")
    assert status == 200 and json.loads(body) == server.models()["data"][0]
    status, _, body = raw_request(server, "GET", "/v1/models/other")
    assert status == 404 and json.loads(body)["error"]["type"] == "model_not_found"


def test_a_served_name_with_slashes_is_retrieved_too(engine):
    with ChatCompletionServer(engine, "org/model-1", "127.0.0.1", 0) as srv:
        for path in ("/v1/models/org/model-1", "/v1/models/org%2Fmodel-1"):
            status, _, body = raw_request(srv, "GET", path)
            assert status == 200 and json.loads(body)["id"] == "org/model-1"
