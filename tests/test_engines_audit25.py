"""Engine defects found by the 25th review, each checked against the real part.

- openai engine: an error answer whose body stalls or breaks is still retried or rejected by its
  status; a TLS failure while reading an answer is an engine error naming the URL; ``timeout``
  bounds the whole answer, not each read of it (a server trickling bytes cannot outlast it).
- chat-level rollouts put back the stop string the server reports (vLLM's ``stop_reason``).
- hf engine: of two stop strings completed by one token, the one that ends first is reported and
  cut at, as vLLM does (ties: the earlier in the stop list).
- vllm engine: a training set-up whose weight updates cannot reach vLLM's model (tensor or pipeline
  parallelism, vLLM's multiprocessing) and temperatures vLLM changes or refuses are refused up front.
- the supervised warm-up renders a tool env's prompts with its tools, as the rollouts do.

HTTP behaviour runs against real servers on 127.0.0.1 (raw sockets where the server must misbehave
below HTTP); vLLM is not installed here, so its checks run before vLLM would be imported.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import sys
import threading
import time
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import torch

from rlvr.trainers.engine import Sample, SamplingParams
from rlvr.trainers.hf_engine import HFEngine
from rlvr.trainers.openai_engine import (
    OpenAIEngine,
    OpenAIEngineError,
    RequestRejectedError,
    ServerTimeoutError,
    ServerUnreachableError,
    samples_from_response,
)
from rlvr.trainers.rollout import RolloutCollector
from rlvr.trainers.tiny import CHAT_TEMPLATES, build_tiny_model, build_tiny_tokenizer
from rlvr.trainers.vllm_engine import VLLMEngine, VLLMUnavailableError, to_vllm_kwargs

CONV = [{"role": "user", "content": "What is 2+2?"}]
ANSWER = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": "4"}, "finish_reason": "stop"}]}).encode()


# ---- openai engine: raw HTTP servers that misbehave ------------------------------------------------


class RawServer:
    """A TCP server on 127.0.0.1 whose connections are handed to ``script(conn)`` after the request
    has been read; counts the requests. ``tls``: an ``ssl.SSLContext`` to wrap connections in."""

    def __init__(self, script, tls=None):
        self.script, self.tls, self.requests = script, tls, 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, scheme="http"):
        return f"{scheme}://127.0.0.1:{self.sock.getsockname()[1]}/v1"

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            self.requests += 1
            self.script(conn)
        except OSError:  # the client gave up
            pass

    def close(self):
        self.sock.close()


def reset(conn):
    """Close with a TCP reset (the client's next read fails with ConnectionResetError)."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    conn.close()


def stalled_500(conn):
    conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 200\r\n\r\n{\"error\":")
    time.sleep(5)


def reset_503(conn):
    conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 200\r\n\r\n{\"err")
    time.sleep(0.2)  # (the client reads the status line first: a reset before would discard it)
    reset(conn)


@pytest.mark.parametrize("script, status", [(stalled_500, 500), (reset_503, 503)])
def test_a_retryable_error_whose_body_stalls_or_breaks_is_retried_then_an_engine_error(script, status):
    """Reading the body of an error answer used to run unguarded: a stalled or reset body escaped as
    a raw TimeoutError / ConnectionResetError (no retry, and `rlvr eval` crashed instead of exit 4)."""
    srv = RawServer(script)
    try:
        eng = OpenAIEngine(srv.url(), "m", timeout=0.5, max_retries=1, backoff=0.01)
        with pytest.raises(ServerUnreachableError, match=rf"2 attempt.*HTTP {status}: \(the error body could not be read"):
            eng.generate_chat([CONV], 1, SamplingParams())
        assert srv.requests == 2
    finally:
        srv.close()


def test_a_rejection_whose_body_breaks_is_still_a_rejection():
    def reset_400(conn):
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 200\r\n\r\n{\"err")
        # (a reset arriving before the client has read the status line discards it: that connection
        # failed, and is retried; the client is given ample time to be reading the body instead)
        time.sleep(1)
        reset(conn)

    srv = RawServer(reset_400)
    try:
        eng = OpenAIEngine(srv.url(), "m", timeout=5, max_retries=3, backoff=0.01)
        with pytest.raises(RequestRejectedError, match="HTTP 400") as info:
            eng.generate_chat([CONV], 1, SamplingParams())
        assert info.value.status == 400 and srv.requests == 1
    finally:
        srv.close()


def test_an_answer_cut_short_is_retried_like_a_broken_connection():
    def first_cut_then_whole(conn):
        if srv.requests == 1:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(ANSWER) + ANSWER[:10])
            conn.close()
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(ANSWER) + ANSWER)

    srv = RawServer(first_cut_then_whole)
    try:
        eng = OpenAIEngine(srv.url(), "m", timeout=5, max_retries=2, backoff=0.01)
        assert eng.generate_chat([CONV], 1, SamplingParams())[0][0].text == "4"
        assert srv.requests == 2
    finally:
        srv.close()


def test_a_server_trickling_its_answer_cannot_outlast_the_timeout():
    """A socket timeout bounds each read only: one byte every 0.1 s kept a request with timeout=0.5
    alive for the whole 3 s answer. The timeout now bounds the whole answer, and is not re-sent."""
    pad = 30

    def trickle(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (pad + len(ANSWER)))
        for _ in range(pad):  # keep-alive whitespace before the JSON
            time.sleep(0.1)
            conn.sendall(b" ")
        conn.sendall(ANSWER)

    srv = RawServer(trickle)
    try:
        eng = OpenAIEngine(srv.url(), "m", timeout=0.5, max_retries=3, backoff=0.01)
        with pytest.raises(ServerTimeoutError, match=r"did not answer in full within timeout=0.5s"):
            eng.generate_chat([CONV], 1, SamplingParams())
        assert srv.requests == 1
    finally:
        srv.close()


# A self-signed certificate for IP 127.0.0.1, valid 2000-2100, and its key (test-only, loopback).
TEST_CERT = """-----BEGIN CERTIFICATE-----
MIIBXTCCAQKgAwIBAgIBATAKBggqhkjOPQQDAjAUMRIwEAYDVQQDDAkxMjcuMC4w
LjEwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBQxEjAQBgNVBAMM
CTEyNy4wLjAuMTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABPZSjj8jq/7bh/fV
8ruQrI44Ycz0KWtHG3gkA+wdViiuG8GRRwYqpczpaaliDKtlHNJdO0mZInjjayMV
yfimw4mjQzBBMA8GA1UdEQQIMAaHBH8AAAEwDwYDVR0TAQH/BAUwAwEB/zAdBgNV
HQ4EFgQUn8ZRDlJo/YsspfAONfZhUeWvQj0wCgYIKoZIzj0EAwIDSQAwRgIhAMna
SlCO94reWKkUbetvycdKWp+jwT8qJ7MK4k6BlUfBAiEA0CQaUddX5F58f1Gs7ox+
3MY5hlNMQTlvtU3bIlgo8S0=
-----END CERTIFICATE-----
"""
TEST_KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg8/L6mr7SNmkdTNPM
78uxax2H++opa0QvWNNut/XGlVWhRANCAAT2Uo4/I6v+24f31fK7kKyOOGHM9Clr
Rxt4JAPsHVYorhvBkUcGKqXM6WmpYgyrZRzSXTtJmSJ442sjFcn4psOJ
-----END PRIVATE KEY-----
"""


@pytest.fixture
def tls(tmp_path, monkeypatch):
    """A server-side TLS context with the test certificate, which the client is made to trust."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text(TEST_CERT)
    key.write_text(TEST_KEY)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def test_a_tls_failure_while_reading_the_answer_is_an_engine_error_naming_the_url(tls):
    """A corrupted TLS record mid-answer raises ssl.SSLError, an OSError that is neither a timeout
    nor a connection error: it escaped raw, and `rlvr eval` crashed instead of ending with exit 4."""

    def corrupt(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"choices\"")
        os.write(conn.fileno(), b"\x17\x03\x03\x00\x20" + b"\x00" * 32)  # an application-data record that fails to decrypt
        time.sleep(1)

    srv = RawServer(corrupt, tls=tls)
    try:
        url = srv.url("https")
        eng = OpenAIEngine(url, "m", timeout=5, max_retries=1, backoff=0.01)
        with pytest.raises(OpenAIEngineError, match=rf"POST {url}/chat/completions: reading the server's answer failed \(SSLError"):
            eng.generate_chat([CONV], 1, SamplingParams())
    finally:
        srv.close()


def test_a_tls_connection_cut_mid_answer_is_retried_like_a_reset_one(tls):
    """A proxy dropping the TCP connection under TLS mid-answer (no close_notify) is retried, as the
    same cut without TLS is: a cut connection, not a broken server."""
    answered = []

    def cut_once(conn):
        if not answered:
            answered.append(False)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"choices\"")
            conn.shutdown(socket.SHUT_RDWR)  # TCP only, no TLS close_notify: an EOF in violation of the protocol
            conn.close()
            return
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(ANSWER) + ANSWER)
        time.sleep(1)  # (closing with the request's body unread would reset the connection)

    srv = RawServer(cut_once, tls=tls)
    try:
        eng = OpenAIEngine(srv.url("https"), "m", timeout=5, max_retries=2, backoff=0.01)
        assert eng.generate_chat([CONV], 1, SamplingParams())[0][0].text == "4"
        assert srv.requests == 2
    finally:
        srv.close()


def test_the_body_is_read_whole_when_the_response_closes_its_socket_at_the_end():
    """Python 3.13's HTTPResponse closes its connection as soon as a Content-Length body has been
    read; setting the next read's timeout on that closed socket failed every answer (EBADF)."""
    from rlvr.trainers.openai_engine import _read_body

    ours, theirs = socket.socketpair()

    class ClosingResponse:  # what 3.13's read1 does at the end of a Content-Length body
        length = 0

        def __init__(self):
            self.fp = types.SimpleNamespace(raw=types.SimpleNamespace(_sock=ours))
            self.parts = [b'{"a": ', b"1}"]

        def read1(self, size):
            if not self.parts:
                return b""
            part = self.parts.pop(0)
            if not self.parts:
                ours.close()
            return part

    try:
        assert _read_body(ClosingResponse(), time.monotonic() + 5) == b'{"a": 1}'
    finally:
        theirs.close()


# ---- chat-level rollouts and the server's stop_reason ----------------------------------------------

TOOL_CALL = '<tool_call>{"name": "calculator", "arguments": {"expression": "12*5"}}'


def test_the_openai_engine_records_the_stop_string_a_server_reports():
    def choice(index, reason, stop_reason, **message):
        return {"index": index, "message": {"role": "assistant", "content": "x", **message},
                "finish_reason": reason, "stop_reason": stop_reason}

    call = {"id": "c", "type": "function", "function": {"name": "calc", "arguments": "{}"}}
    samples = samples_from_response({"choices": [
        choice(0, "stop", "</tool_call>"),
        choice(1, "stop", 151645),  # a stop token id (vLLM reports the id): kept as the int, for the collector to decode
        choice(2, "stop", None),  # EOS
        choice(3, "tool_calls", "</tool_call>", tool_calls=[call]),  # the server parsed the call: no text to restore
    ]})
    assert samples[0].meta["stop_reason"] == "</tool_call>"
    assert samples[1].meta["stop_reason"] == 151645
    assert all("stop_reason" not in s.meta for s in samples[2:])


class ToolServer:
    """An OpenAI-compatible server on 127.0.0.1 playing a model that calls the calculator and then
    answers, with ``stop=["</tool_call>"]`` honoured as vLLM does: the stop string is cut from the
    text and, when ``report`` is set, named in the choice's ``stop_reason``."""

    def __init__(self, report):
        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _send(self, obj):
                data = json.dumps(obj).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._send({"data": [{"id": "m"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if body["messages"][-1]["role"] == "tool":
                    content, stop_reason = "\\boxed{60}", None  # ended on EOS
                else:
                    content, stop_reason = TOOL_CALL, "</tool_call>"  # the model wrote TOOL_CALL + "</tool_call>"
                choice = {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                if report:
                    choice["stop_reason"] = stop_reason
                self._send({"choices": [choice]})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize("report", [True, False])
def test_chat_level_rollouts_put_back_the_stop_string_the_server_reports(report):
    """With stop=["</tool_call>"] the env saw an unclosed tool call from a chat-level engine (the
    stop string was restored for token-level engines only). Without a report the text stays as
    the server returned it."""
    srv = ToolServer(report)
    try:
        collector = RolloutCollector(OpenAIEngine(srv.url), "rlvr/ToolMath-v0", None, env_kwargs={"max_turns": 3})
        [[tr]] = collector.collect([0], 1, SamplingParams(max_new_tokens=64, stop=["</tool_call>"]))
    finally:
        srv.close()
    if report:
        assert tr.turn_texts == [TOOL_CALL + "</tool_call>", "\\boxed{60}"]
        assert [m["role"] for m in tr.messages][-3:] == ["assistant", "tool", "assistant"]
        assert "60" in tr.messages[-2]["content"] and tr.correct  # the calculator ran on the closed call
    else:
        assert tr.turn_texts[0] == TOOL_CALL


# ---- hf engine: which of two stop strings ---------------------------------------------------------


class _Repeats(torch.nn.Module):
    """The tiny model, made to generate one token id over and over (greedy)."""

    def __init__(self, inner, token_id):
        super().__init__()
        self.inner, self.token_id = inner, token_id
        self.config, self.generation_config = inner.config, inner.generation_config

    def get_input_embeddings(self):
        return self.inner.get_input_embeddings()

    def forward(self, *args, **kwargs):
        out = self.inner(*args, **kwargs)
        logits = out.logits.clone()
        logits[:, -1, self.token_id] += 100.0
        out.logits = logits
        return out


@pytest.mark.parametrize("stops, text, reported", [
    (("answer", "n"), "a", "n"),  # "n" ends first (at 2) though "answer" starts first
    (("swer", "r"), "an", "swer"),  # both end at 6: the earlier in the list wins
    (("r", "swer"), "answe", "r"),
])
def test_the_stop_string_that_ends_first_is_cut_at_as_vllm_does(stops, text, reported):
    """The token "answer" completes both stop strings at once. vLLM (v1/engine/detokenizer.py,
    check_stop_strings) takes the one completed first, i.e. ending earliest, ties by list order;
    the hf engine took the one starting earliest."""
    tok = build_tiny_tokenizer()
    answer = tok.convert_tokens_to_ids("answer")
    eng = HFEngine(_Repeats(build_tiny_model(tok, seed=1), answer), tok)
    [[s]] = eng.generate([tok.encode("x", add_special_tokens=False)], 1, SamplingParams(temperature=0, max_new_tokens=5, stop=stops))
    assert s.token_ids == [answer] and s.finish_reason == "stop"
    assert s.text == text and s.meta["stop_reason"] == reported


# ---- vllm engine: refusals before vLLM is needed ------------------------------------------------


@pytest.mark.parametrize("kwargs, env, named", [
    ({"tensor_parallel_size": 2}, None, "tensor_parallel_size=2"),
    ({"pipeline_parallel_size": 2}, None, "pipeline_parallel_size=2"),
    ({"distributed_executor_backend": "mp"}, None, "distributed_executor_backend='mp'"),
    ({}, "1", "VLLM_ENABLE_V1_MULTIPROCESSING='1'"),
    ({}, "yes", "VLLM_ENABLE_V1_MULTIPROCESSING='yes'"),
])
def test_a_training_vllm_engine_refuses_setups_its_weight_updates_cannot_reach(monkeypatch, kwargs, env, named):
    """llm.apply_model(closure) reaches the model only with vLLM in-process on one GPU; otherwise vLLM
    pickles the closure for its workers and the run fails at its first weight update. The check
    runs before vLLM is imported (here it cannot be: `import vllm` raises)."""
    monkeypatch.setitem(sys.modules, "vllm", None)
    if env is None:
        monkeypatch.delenv("VLLM_ENABLE_V1_MULTIPROCESSING", raising=False)
    else:
        monkeypatch.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", env)
    with pytest.raises(ValueError, match=rf"cannot train with {named}.*in-process on one GPU.*tensor_parallel_size=1") as info:
        VLLMEngine("Qwen/Qwen2.5-0.5B-Instruct", **kwargs)
    assert "weight_sync=False" in str(info.value)
    # an engine for evaluation only may use them (here it then fails on the missing vLLM, as it should)
    with pytest.raises(VLLMUnavailableError):
        VLLMEngine("Qwen/Qwen2.5-0.5B-Instruct", weight_sync=False, **kwargs)
    # the defaults pass the check, and what vLLM runs in-process too: "00" reads as 0 (vLLM takes
    # bool(int(value))), torchrun's "external_launcher" is an executor in each rank's process
    for off in ("0", "00"):
        monkeypatch.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", off)
        with pytest.raises(VLLMUnavailableError):
            VLLMEngine("Qwen/Qwen2.5-0.5B-Instruct", tensor_parallel_size=1, pipeline_parallel_size=1,
                       distributed_executor_backend="external_launcher")


def test_an_evaluation_only_vllm_engine_refuses_weights(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", types.ModuleType("vllm"))  # a stand-in: never called here
    eng = VLLMEngine(llm=types.SimpleNamespace(), weight_sync=False)
    with pytest.raises(RuntimeError, match="weight_sync=False"):
        eng.load_weights({"w": torch.zeros(1)})


@pytest.mark.parametrize("temperature", [2.5, 0.005, 1e-5])
def test_temperatures_vllm_would_refuse_or_change_are_refused(temperature):
    """vLLM's SamplingParams raises its own VLLMValidationError above 2 and silently raises (0, 0.01)
    to 0.01: the run would fail late or sample another distribution than the trainer scores."""
    with pytest.raises(ValueError, match=r"0 \(greedy\) or \[0.01, 2\]"):
        to_vllm_kwargs(SamplingParams(temperature=temperature), 1)
    for ok in (0.0, 0.01, 1.0, 2.0):
        assert to_vllm_kwargs(SamplingParams(temperature=ok), 1)["temperature"] == ok


# ---- warm-up prompts = rollout prompts, tools included -------------------------------------------


class _EndsAtOnce:
    """A token-level engine that answers every prompt with EOS and records the prompts."""

    def __init__(self, tok):
        self.eos, self.prompts = tok.eos_token_id, []

    def generate(self, prompts, n, sampling):
        self.prompts.extend(list(p) for p in prompts)
        return [[Sample([self.eos], [0.0], "stop", "") for _ in range(n)] for _ in prompts]


@pytest.mark.parametrize("system_prompt", [None, "Use the tools; put the answer in \\boxed{}."])
def test_the_warmup_renders_a_tool_envs_prompts_with_its_tools_as_the_rollouts_do(system_prompt):
    """A Qwen-style template writes the tool schemas into the prompt; the warm-up rendered without
    them, so it trained on prompts the rollouts never ask. The env's default system prompt lists the
    tools itself: then neither gives them to the template, which would list them a second time."""
    import rlvr
    from rlvr.trainers.warmup import _examples

    tok = build_tiny_tokenizer()
    tok.chat_template = ("{% if tools %}{{ '<|im_start|>system\nTools: ' + (tools | map(attribute='function') "
                         "| map(attribute='name') | join(', ')) + '<|im_end|>\n' }}{% endif %}" + CHAT_TEMPLATES["chatml"])
    make = lambda: rlvr.make("rlvr/ToolMath-v0", system_prompt=system_prompt)  # noqa: E731
    env = make()
    collector = RolloutCollector(_EndsAtOnce(tok), make, tok)
    collector.collect([0, 1], 1, SamplingParams(max_new_tokens=4))
    warm = [prompt for prompt, _ in _examples(env, collector, tok, range(2))]
    text = tok.decode(warm[0])
    assert warm == collector.engine.prompts
    if system_prompt is None:  # listed once, by the env
        assert "Tools: python" not in text and text.count('"name": "calculator"') == 1, text
    else:  # listed once, by the template
        assert "Tools: python, calculator" in text and '"name": "calculator"' not in text, text
    env.close()
    collector.close()
