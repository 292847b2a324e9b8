"""Audit 35 of ``rlvr serve`` and the ``openai`` engine.

serve:
1. A reply with a well-formed tool call that was cut off at ``max_tokens`` keeps finish reason
   ``length`` (``tool_calls`` only when the model stopped on its own, as vLLM's server), and a
   ``tool_calls`` choice keeps the stop reason the engine reported.
6. A query string on a route (``?api-version=...``) is ignored, and a chunked request body is read
   (within the same size limit; a malformed chunk is a clear 400).
7. ``--dtype`` is honoured for ``--model tiny``, which goes on the default device as other models do.

openai engine (against a real HTTP server on 127.0.0.1 run by the test):
2. vLLM's 400 for a prompt that exactly fills the context ("max_tokens must be at least 1, got 0.")
   is a context overflow.
3. Greedy sampling (temperature 0) asks for one choice and repeats it ``n`` times.
4. ``max_completion_tokens`` is sent when asked, or after a server refuses ``max_tokens`` asking for it.
"""

from __future__ import annotations

import http.client
import io
import json
import socket
import tracemalloc
import urllib.error
import urllib.request

import pytest
import torch

from rlvr.commands.serve import (
    MAX_BODY_BYTES,
    MAX_CHUNK_LINE,
    BadRequest,
    ChatCompletionServer,
    _read_chunked,
    load_hf_chat_engine,
    reply_message,
)
from rlvr.trainers.engine import Sample, SamplingParams
from rlvr.trainers.hf_chat import HFChatEngine
from rlvr.trainers.openai_engine import (
    ContextLengthExceededError,
    OpenAIEngine,
    RequestRejectedError,
    asks_max_completion_tokens,
    chat_request_body,
    context_exceeded,
)
from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer
from conftest import ScriptedChatServer as Server

CONV = [{"role": "user", "content": "use calc"}]
TOOLS = [{"type": "function", "function": {"name": "calc", "parameters": {"type": "object"}}}]
CALL_TEXT = '<tool_call>\n{"name": "calc", "arguments": {"x": 1}}\n</tool_call>\nNow let me also explain the'


@pytest.fixture(scope="module")
def tiny():
    tok = build_tiny_tokenizer()
    return tok, HFChatEngine(build_tiny_model(tok, seed=1), tok, device="cpu")


def post(url, body, path="/chat/completions"):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


# ---- 1. tool calls cut off at max_tokens ------------------------------------------------------------------


def test_reply_message_reports_tool_calls_only_for_a_reply_that_stopped():
    message, reason = reply_message(CALL_TEXT, "length", tools_offered=True)
    assert reason == "length" and message["tool_calls"][0]["function"]["name"] == "calc"
    assert reply_message(CALL_TEXT, "stop", tools_offered=True)[1] == "tool_calls"


class ScriptedModel:
    """The tiny hf engine with its sampling replaced by a fixed reply (what the model would write):
    serve's handling of that reply is what is under test."""

    def __init__(self, engine, text, finish_reason, meta=None):
        self.engine, self.text, self.finish_reason, self.meta = engine, text, finish_reason, meta or {}

    def __enter__(self):
        tok = self.engine.tokenizer

        def generate(prompts, n, sampling):
            ids = tok.encode(self.text)
            return [[Sample(token_ids=ids, logprobs=[-1.0] * len(ids), finish_reason=self.finish_reason, text=self.text,
                            meta=dict(self.meta)) for _ in range(n)] for _ in prompts]

        self.engine.generate = generate
        return self

    def __exit__(self, *exc):
        del self.engine.generate


def test_a_tool_call_cut_off_at_max_tokens_is_length_over_http_and_in_the_openai_engine(tiny):
    tok, engine = tiny
    limit = len(tok.encode(CALL_TEXT))
    with ScriptedModel(engine, CALL_TEXT, "length"), ChatCompletionServer(engine, "tiny", "127.0.0.1", 0) as srv:
        status, answer = post(srv.url, {"messages": CONV, "max_tokens": limit, "tools": TOOLS})
        assert status == 200
        choice = answer["choices"][0]
        assert choice["finish_reason"] == "length" and choice["message"]["tool_calls"]
        sample = OpenAIEngine(srv.url, timeout=60).generate_chat([CONV], 1, SamplingParams(max_new_tokens=limit), tools=TOOLS)[0][0]
        assert sample.finish_reason == "length" and sample.truncated and sample.meta["tool_calls"]


def test_a_tool_calls_choice_keeps_the_stop_reason_the_engine_reported(tiny):
    tok, engine = tiny
    text = '<tool_call>\n{"name": "calc", "arguments": {}}\n</tool_call>'
    with ScriptedModel(engine, text, "stop", {"stop_reason": "END"}), ChatCompletionServer(engine, "tiny", "127.0.0.1", 0) as srv:
        status, answer = post(srv.url, {"messages": CONV, "tools": TOOLS, "stop": ["END"], "max_tokens": 40})
    assert status == 200
    assert answer["choices"][0]["finish_reason"] == "tool_calls" and answer["choices"][0]["stop_reason"] == "END"


# ---- 6. query strings and chunked bodies -------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tiny):
    with ChatCompletionServer(tiny[1], "tiny", "127.0.0.1", 0) as srv:
        yield srv


BODY = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}


def test_a_query_string_on_a_route_is_ignored(server):
    status, answer = post(server.url, BODY, "/chat/completions?api-version=2024-06-01")
    assert status == 200 and answer["choices"][0]["finish_reason"] in ("stop", "length")
    with urllib.request.urlopen(server.url + "/models?x=1", timeout=30) as r:
        assert json.loads(r.read())["data"][0]["id"] == "tiny"
    assert post(server.url, BODY, "/nothing?x=1")[0] == 404


def raw_post(server, chunks: bytes, extra_headers=()):
    """POST a raw chunked body; returns (status, JSON answer)."""
    host, port = server.httpd.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.putrequest("POST", "/v1/chat/completions")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        for name, value in extra_headers:
            conn.putheader(name, value)
        conn.endheaders()
        conn.send(chunks)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def chunked(data: bytes, size: int = 7) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(data[i:i + size]), data[i:i + size]) for i in range(0, len(data), size)]
    return b"".join(parts) + b"0\r\n\r\n"


def test_a_chunked_body_is_read(server):
    status, answer = raw_post(server, chunked(json.dumps(BODY).encode()))
    assert status == 200 and answer["object"] == "chat.completion"


def test_a_chunked_body_through_http_client_with_trailers_and_extensions(server):
    data = json.dumps(BODY).encode()
    body = b"5;ext=1\r\n" + data[:5] + b"\r\n" + b"%X\r\n" % (len(data) - 5) + data[5:] + b"\r\n0\r\nX-Trailer: 1\r\n\r\n"
    assert raw_post(server, body)[0] == 200


@pytest.mark.parametrize("body", [
    b"zz\r\n{}\r\n0\r\n\r\n",          # size not hexadecimal
    b"0x2\r\n{}\r\n0\r\n\r\n",         # int() would read it
    b"3\r\n{}\r\n0\r\n\r\n",           # chunk shorter than its size
    b"1\r\n{}\r\n0\r\n\r\n",           # chunk longer than its size
    b"0\r\n\r\n",                      # empty body
])
def test_a_malformed_chunked_body_is_a_clear_400(server, body):
    status, answer = raw_post(server, body)
    assert status == 400 and "chunk" in answer["error"]["message"]


def test_a_chunked_body_over_the_limit_is_refused_before_it_is_read(server):
    status, answer = raw_post(server, b"%x\r\n" % (MAX_BODY_BYTES + 1))
    assert status == 400 and str(MAX_BODY_BYTES) in answer["error"]["message"]


# ---- 7. --dtype for the tiny model ------------------------------------------------------------------------


def test_the_tiny_model_is_built_in_the_asked_dtype_on_the_default_device():
    engine, name = load_hf_chat_engine("tiny", None, "bfloat16")
    assert name == "tiny" and next(engine.model.parameters()).dtype == torch.bfloat16
    assert engine.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert next(load_hf_chat_engine("tiny", "cpu", "auto")[0].model.parameters()).dtype == torch.float32


# ---- openai engine against a scripted server ---------------------------------------------------------------


def choices(n, text="4"):
    return {"choices": [{"index": j, "message": {"role": "assistant", "content": f"{text}{j}"}, "finish_reason": "stop"}
                        for j in range(n)], "usage": {"completion_tokens": n}}


# ---- 2. vLLM's refusal of a prompt that exactly fills the context

EXACT_FILL = {"error": {"message": "max_tokens must be at least 1, got 0.", "type": "BadRequestError",
                        "param": "max_tokens", "code": 400}}


def test_vllms_exact_fill_refusal_is_a_context_overflow():
    assert context_exceeded(400, json.dumps(EXACT_FILL))
    other = {"error": {"message": "max_tokens must be at least 1, got -3.", "param": "max_tokens"}}
    assert not context_exceeded(400, json.dumps(other)) and not context_exceeded(500, json.dumps(EXACT_FILL))


def test_vllms_exact_fill_refusal_is_returned_with_refusals_return():
    with Server(lambda body: (400, EXACT_FILL)) as srv:
        engine = OpenAIEngine(srv.url, "m", max_retries=0)
        out = engine.generate_chat([CONV], 1, SamplingParams(max_new_tokens=8), refusals="return")
        assert isinstance(out[0], ContextLengthExceededError)
        with pytest.raises(ContextLengthExceededError):
            engine.generate_chat([CONV], 1, SamplingParams(max_new_tokens=8))


# ---- 3. greedy sampling asks for one choice


def greedy_server(body):
    if body["n"] > 1 and body["temperature"] == 0:  # vLLM's rule
        return 400, {"error": {"message": "n must be 1 when using greedy sampling, got 4.", "param": "n"}}
    return 200, choices(body["n"])


def test_greedy_sampling_falls_back_to_one_choice_repeated_after_vllms_refusal():
    with Server(greedy_server) as srv:
        engine = OpenAIEngine(srv.url, "m", max_retries=0, concurrency=1)
        out = engine.generate_chat([CONV, CONV], 4, SamplingParams(temperature=0, max_new_tokens=8, seed=3))
        assert [body["n"] for body in srv.requests] == [4, 1, 1] and engine.greedy_single
        assert [[s.text for s in group] for group in out] == [["40"] * 4] * 2
        out[0][0].meta["usage"]["completion_tokens"] = 99  # copies, not one object
        assert out[0][1].meta["usage"]["completion_tokens"] == 1
        engine.generate_chat([CONV], 2, SamplingParams(temperature=0, max_new_tokens=8))  # remembered
        assert [body["n"] for body in srv.requests] == [4, 1, 1, 1]


def test_sampling_with_a_temperature_still_asks_for_n():
    with Server(greedy_server) as srv:
        out = OpenAIEngine(srv.url, "m", max_retries=0).generate_chat([CONV], 3, SamplingParams(temperature=0.7, max_new_tokens=8))
    assert [body["n"] for body in srv.requests] == [3] and [s.text for s in out[0]] == ["40", "41", "42"]


# ---- 4. max_completion_tokens

UNSUPPORTED = {"error": {"message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
                                    "Use 'max_completion_tokens' instead.", "type": "invalid_request_error",
                         "param": "max_tokens", "code": "unsupported_parameter"}}


def reasoning_model(body):
    return (400, UNSUPPORTED) if "max_tokens" in body else (200, choices(body["n"]))


def test_the_length_field_can_be_chosen():
    body = chat_request_body(CONV, 1, SamplingParams(max_new_tokens=9), "m", max_tokens_field="max_completion_tokens")
    assert body["max_completion_tokens"] == 9 and "max_tokens" not in body
    with pytest.raises(ValueError):
        OpenAIEngine("http://127.0.0.1:1/v1", "m", max_tokens_field="max_length")


def test_the_engine_switches_to_max_completion_tokens_once_when_asked():
    with Server(reasoning_model) as srv:
        engine = OpenAIEngine(srv.url, "m", max_retries=0)
        first = engine.generate_chat([CONV], 1, SamplingParams(max_new_tokens=16))
        second = engine.generate_chat([CONV], 1, SamplingParams(max_new_tokens=16))
    assert first[0][0].text == second[0][0].text == "40"
    assert [sorted(k for k in b if "tokens" in k) for b in srv.requests] == [
        ["max_tokens"], ["max_completion_tokens"], ["max_completion_tokens"]]
    assert srv.requests[1]["max_completion_tokens"] == 16 and engine.max_tokens_field == "max_completion_tokens"


def test_a_chosen_field_is_never_switched():
    with Server(reasoning_model) as srv:
        with pytest.raises(RequestRejectedError, match="max_completion_tokens"):
            OpenAIEngine(srv.url, "m", max_retries=0, max_tokens_field="max_tokens").generate_chat(
                [CONV], 1, SamplingParams(max_new_tokens=16))
        assert len(srv.requests) == 1
        out = OpenAIEngine(srv.url, "m", max_retries=0, max_tokens_field="max_completion_tokens").generate_chat(
            [CONV], 1, SamplingParams(max_new_tokens=16))
    assert out[0][0].text == "40" and len(srv.requests) == 2


def test_rlvr_serve_reads_max_completion_tokens(server):
    status, answer = post(server.url, {"messages": BODY["messages"], "max_completion_tokens": 1})
    assert status == 200 and answer["usage"]["completion_tokens"] == 1
    sample = OpenAIEngine(server.url, "tiny", max_tokens_field="max_completion_tokens").generate_chat(
        [BODY["messages"]], 1, SamplingParams(max_new_tokens=1))[0][0]
    assert sample.meta["usage"]["completion_tokens"] == 1


# ---- review of the above: chunked bodies' cost, request framing, the field switch, greedy n -----------------

def test_many_one_byte_chunks_are_kept_in_one_buffer():
    data = b" " * 30_000
    stream = io.BytesIO(chunked(data, size=1))  # 6 bytes on the wire per body byte... under a wire cap of 2x
    tracemalloc.start()
    try:
        body = _read_chunked(stream, limit=len(data) * 4)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert body == data
    assert peak < 4 * len(data)  # a list of one-byte bytes objects costs ~40 bytes each


def test_a_chunked_body_is_refused_past_twice_its_limit_on_the_wire():
    data = b"x" * 60
    with pytest.raises(BadRequest, match="on the wire"):
        _read_chunked(io.BytesIO(chunked(data, size=1)), limit=100)  # 360 bytes on the wire > 200
    assert _read_chunked(io.BytesIO(chunked(data, size=30)), limit=100) == data  # 72 bytes: fine


def test_a_long_chunk_extension_is_refused():
    ok = b"2;" + b"e" * (MAX_CHUNK_LINE - 2) + b"\r\n{}\r\n0\r\n\r\n"
    assert _read_chunked(io.BytesIO(ok), limit=1000) == b"{}"
    long = b"2;" + b"e" * (MAX_CHUNK_LINE + 1) + b"\r\n{}\r\n0\r\n\r\n"
    with pytest.raises(BadRequest, match=f"line over {MAX_CHUNK_LINE} bytes"):
        _read_chunked(io.BytesIO(long), limit=1000)


def exchange(server, raw: bytes, wait: float = 3):
    """Send raw bytes; returns (status lines of every answer, headers of the first, whether the
    server closed the connection)."""
    with socket.create_connection(server.httpd.server_address[:2], timeout=10) as s:
        s.sendall(raw)
        s.settimeout(wait)
        out, closed = b"", False
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    closed = True
                    break
                out += data
        except TimeoutError:
            pass
    statuses, first = [], None
    while out:  # each answer: status line, headers, Content-Length bytes of body
        head, out = out.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        headers = {line.split(b":")[0].lower(): line for line in lines[1:]}
        if int(lines[0].split(b" ")[1]) != 100:  # (an interim answer)
            statuses.append(int(lines[0].split(b" ")[1]))
            first = first or headers
        out = out[int(headers.get(b"content-length", b":0").split(b":")[1]):]
    return statuses, first or {}, closed


JSON = json.dumps(BODY).encode()
CHUNKED_JSON = b"%x\r\n%s\r\n0\r\n\r\n" % (len(JSON), JSON)
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"


def test_content_length_with_transfer_encoding_is_a_400_that_closes_the_connection(server):
    payload = CHUNKED_JSON + SMUGGLED  # what a Content-Length-framing proxy sends as one body
    statuses, headers, closed = exchange(server, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                                         b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n" % len(payload) + payload)
    assert statuses == [400] and closed and b"close" in headers[b"connection"].lower()


@pytest.mark.parametrize("coding,status", [
    (b"xchunked", 400), (b"chunked, identity", 400), (b"gzip", 400), (b"chunked, chunked", 400), (b"", 400),
    (b"gzip, chunked", 501),
])
def test_a_transfer_encoding_other_than_chunked_is_refused_and_closes(server, coding, status):
    statuses, headers, closed = exchange(server, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                                         b"Transfer-Encoding: " + coding + b"\r\n\r\n" + CHUNKED_JSON + SMUGGLED)
    assert statuses == [status] and closed


def test_transfer_encoding_in_http_1_0_is_refused(server):
    statuses, _, closed = exchange(server, b"POST /v1/chat/completions HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   + CHUNKED_JSON)
    assert statuses == [400] and closed


def test_chunked_alone_keeps_the_connection(server):
    statuses, _, closed = exchange(server, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                                   b"Transfer-Encoding: Chunked\r\n\r\n" + CHUNKED_JSON + b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", wait=1)
    assert statuses == [200, 200] and not closed


@pytest.mark.parametrize("lengths", [[b"+%d" % len(JSON)], [b"%d" % len(JSON), b"%d" % (len(JSON) + 1)]])
def test_a_content_length_that_is_not_one_plain_number_is_refused(server, lengths):
    head = b"".join(b"Content-Length: " + v + b"\r\n" for v in lengths)
    statuses, _, closed = exchange(server, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n" + head + b"\r\n" + JSON)
    assert statuses == [400] and closed


def test_a_get_with_a_body_closes_the_connection(server):
    statuses, _, closed = exchange(server, b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
                                   % (len(SMUGGLED), SMUGGLED))
    assert statuses == [200] and closed


VLLM_TOO_LARGE = {"object": "error", "message": "'max_tokens' or 'max_completion_tokens' is too large: 4000. This model's "
                  "maximum context length is 4096 tokens and your request has 200 input tokens (4000 > 4096 - 200).",
                  "type": "BadRequestError", "param": None, "code": 400}


def test_vllms_too_large_refusal_naming_both_fields_does_not_switch_the_field():
    assert not asks_max_completion_tokens(400, json.dumps(VLLM_TOO_LARGE))
    assert not asks_max_completion_tokens(400, json.dumps(
        {"error": {"message": "'max_tokens' or 'max_completion_tokens' must be at least 1", "param": "max_tokens"}}))
    assert asks_max_completion_tokens(400, json.dumps(UNSUPPORTED))
    with Server(lambda body: (400, VLLM_TOO_LARGE)) as srv:
        engine = OpenAIEngine(srv.url, "m", max_retries=0)
        with pytest.raises(ContextLengthExceededError):
            engine.generate_chat([CONV], 1, SamplingParams(max_new_tokens=4000))
    assert len(srv.requests) == 1 and engine.max_tokens_field == "max_tokens"


def test_greedy_sampling_asks_for_n_choices_from_a_server_that_takes_it():
    with Server(lambda body: (200, choices(body["n"]))) as srv:  # OpenAI's: n samples even at temperature 0
        engine = OpenAIEngine(srv.url, "m", max_retries=0)
        out = engine.generate_chat([CONV], 3, SamplingParams(temperature=0, max_new_tokens=8))
    assert [body["n"] for body in srv.requests] == [3] and [s.text for s in out[0]] == ["40", "41", "42"]
    assert not engine.greedy_single


def test_greedy_fallback_with_many_threads():
    with Server(greedy_server) as srv:
        engine = OpenAIEngine(srv.url, "m", max_retries=0, concurrency=8)
        out = engine.generate_chat([CONV] * 16, 2, SamplingParams(temperature=0, max_new_tokens=8))
    assert [[s.text for s in group] for group in out] == [["40", "40"]] * 16
    ns = [body["n"] for body in srv.requests]
    assert ns.count(1) == 16 and ns.count(2) == len(ns) - 16 and 1 <= ns.count(2) <= 8
