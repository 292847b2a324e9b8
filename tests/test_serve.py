"""`rlvr serve` driven by the `openai` engine over real HTTP on 127.0.0.1, and the chat-level hf engine.

The server runs the tiny locally built model, saved to a temporary folder and loaded back the way a
user's checkpoint would be (`--model PATH`); one test starts the real command line (`--model tiny`).
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from rlvr.commands.serve import (
    BadRequest,
    ChatCompletionServer,
    ModelLoadError,
    load_hf_chat_engine,
    parse_chat_request,
    reply_message,
)
from rlvr.trainers.engine import SamplingParams
from rlvr.trainers.hf_chat import HFChatEngine, render_chat, tool_calls_from_text
from rlvr.trainers.openai_engine import OpenAIEngine, RequestRejectedError, ServerTimeoutError, ServerUnreachableError
from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer

CONV = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 12+30?"}]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny")
    tok = build_tiny_tokenizer()
    build_tiny_model(tok, seed=1).save_pretrained(path)
    tok.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def server(checkpoint):
    engine, name = load_hf_chat_engine(checkpoint, device="cpu")
    with ChatCompletionServer(engine, name, "127.0.0.1", 0) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server):
    return OpenAIEngine(server.url, max_retries=0, timeout=60)


def post(server, body, raw: bytes | None = None, headers: dict | None = None):
    """(status, JSON answer) of POST /chat/completions; ``headers`` (a dict) receives the answer's headers."""
    req = urllib.request.Request(server.url + "/chat/completions", data=raw if raw is not None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            (headers if headers is not None else {}).update(resp.headers)
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        (headers if headers is not None else {}).update(exc.headers)
        return exc.code, json.loads(exc.read())


def test_models_endpoint_and_model_discovery(server, client, checkpoint):
    with urllib.request.urlopen(server.url + "/models", timeout=10) as resp:
        listing = json.loads(resp.read())
    assert listing["data"][0]["id"] == checkpoint
    assert client.model == checkpoint  # asked from the server


def test_n_samples_with_usage_and_logprobs(server, checkpoint):
    status, resp = post(server, {"model": checkpoint, "messages": CONV, "n": 3, "max_tokens": 12, "seed": 0, "logprobs": True})
    assert status == 200 and resp["object"] == "chat.completion" and len(resp["choices"]) == 3
    tok = server.engine.tokenizer
    prompt_len = len(render_chat(tok, CONV))
    completion = 0
    for i, choice in enumerate(resp["choices"]):
        assert choice["index"] == i and choice["message"]["role"] == "assistant"
        assert choice["finish_reason"] in ("stop", "length")
        content = choice["logprobs"]["content"]
        assert 1 <= len(content) <= 12 and all(t["logprob"] <= 0 for t in content)
        completion += len(content)
    assert resp["usage"] == {"prompt_tokens": prompt_len, "completion_tokens": completion, "total_tokens": prompt_len + completion}


def test_greedy_is_deterministic_and_matches_the_local_engine(server, client):
    greedy = SamplingParams(temperature=0.0, max_new_tokens=16)
    a = client.generate_chat([CONV, CONV], 2, greedy)
    b = client.generate_chat([CONV], 1, greedy)
    texts = {s.text for g in a + b for s in g}
    assert len(texts) == 1
    local = server.engine.generate_chat([CONV], 1, greedy)[0][0]
    assert local.text == texts.pop() and len(local.token_ids) == len(local.logprobs) > 0
    # seeded sampling is reproducible across requests, unseeded sampling varies
    seeded = SamplingParams(temperature=1.0, max_new_tokens=16, seed=5)
    assert [s.text for s in client.generate_chat([CONV], 3, seeded)[0]] == [s.text for s in client.generate_chat([CONV], 3, seeded)[0]]


def test_stop_strings_cut_the_text(server, client):
    full = client.generate_chat([CONV], 1, SamplingParams(temperature=0.0, max_new_tokens=24))[0][0].text
    assert len(full) >= 6, full
    stop = full[3:5]
    cut = client.generate_chat([CONV], 1, SamplingParams(temperature=0.0, max_new_tokens=24, stop=[stop]))[0][0]
    assert cut.text == full[: full.find(stop)] and cut.finish_reason == "stop"
    assert stop not in cut.text
    # which stop string ended it is reported as vLLM's server does, so a client can put it back
    assert cut.meta["stop_reason"] == stop
    status, answer = post(server, {"messages": CONV, "temperature": 0, "max_tokens": 24, "stop": ["\x00never", stop]})
    assert status == 200 and answer["choices"][0]["stop_reason"] == stop, answer
    status, answer = post(server, {"messages": CONV, "temperature": 0, "max_tokens": 2})
    assert status == 200 and answer["choices"][0]["stop_reason"] is None, answer


def test_bad_requests_get_400_naming_the_field(server, client, checkpoint):
    cases = [
        ({"messages": CONV, "n": 0}, "n", "'n' must be between 1"),
        ({"messages": CONV, "temperature": "hot"}, "temperature", "'temperature' must be a number"),
        ({"messages": CONV, "top_p": 0}, "top_p", "'top_p' must be in (0.0, 1.0]"),
        ({"messages": CONV, "stop": [""]}, "stop", "'stop' must be"),
        ({"messages": CONV, "logprobs": "yes"}, "logprobs", "'logprobs' must be true or false"),
        ({"n": 1}, "messages", "'messages' is required"),
        ({"messages": [{"content": "hi"}]}, "messages", "'role'"),
        ({"messages": CONV, "max_tokens": 10**6}, "max_tokens", "exceeds the model's context of 1024 tokens"),
    ]
    for body, param, message in cases:
        status, resp = post(server, {"model": checkpoint, **body})
        assert status == 400, (body, resp)
        assert resp["error"]["param"] == param and message in resp["error"]["message"], resp
    status, resp = post(server, None, raw=b"{not json")
    assert status == 400 and "not valid JSON" in resp["error"]["message"]
    status, resp = post(server, {"model": "gpt-4", "messages": CONV})
    assert status == 404 and checkpoint in resp["error"]["message"]
    # the openai engine surfaces the server's message
    bad = OpenAIEngine(server.url, "gpt-4", max_retries=0)
    with pytest.raises(RequestRejectedError, match="HTTP 404: model 'gpt-4' is not served here"):
        bad.generate_chat([CONV], 1, SamplingParams(max_new_tokens=2))


def test_parse_chat_request_defaults_and_aliases():
    req = parse_chat_request({"messages": CONV, "stop": "###", "max_completion_tokens": 7, "tools": None}, "m")
    sp = req["sampling"]
    assert (req["n"], sp.temperature, sp.top_p, sp.max_new_tokens, sp.stop, sp.seed) == (1, 1.0, 1.0, 7, ("###",), None)
    with pytest.raises(BadRequest, match="'seed' must be an integer"):
        parse_chat_request({"messages": CONV, "seed": 1.5}, "m")
    with pytest.raises(BadRequest, match="'tools' must be a list"):
        parse_chat_request({"messages": CONV, "tools": "calc"}, "m")


def test_chat_engine_renders_tools_and_reads_tool_calls():
    tok = build_tiny_tokenizer()
    tok.chat_template = (
        "{% if tools %}{{ '<|im_start|>system\nTools: ' }}{% for t in tools %}{{ t['function']['name'] + ' ' }}{% endfor %}"
        "{{ '<|im_end|>\n' }}{% endif %}" + tok.chat_template
    )
    tools = [{"type": "function", "function": {"name": "calc", "parameters": {"type": "object"}}}]
    with_tools = tok.decode(render_chat(tok, CONV, tools))
    assert with_tools.startswith("<|im_start|>system\nTools: calc") and with_tools.endswith("<|im_start|>assistant\n")
    assert "Tools" not in tok.decode(render_chat(tok, CONV))
    engine = HFChatEngine(build_tiny_model(tok), tok)
    out = engine.generate_chat([CONV, CONV[1:]], 2, SamplingParams(max_new_tokens=5, seed=0), tools=tools)
    assert [len(g) for g in out] == [2, 2]
    assert out[0][0].meta["prompt_tokens"] == len(render_chat(tok, CONV, tools))
    with pytest.raises(ValueError, match="conversation 1, message 0: 'role'"):
        engine.generate_chat([CONV, [{"content": "x"}]], 1, SamplingParams())
    tok.chat_template = None
    with pytest.raises(ValueError, match="no chat template"):
        engine.generate_chat([CONV], 1, SamplingParams())


def test_tool_calls_are_taken_out_of_the_text_as_an_openai_server_does():
    good = 'ok <tool_call>{"name": "calc", "arguments": {"expr": "2+2"}}</tool_call> <tool_call>{"name": "calc", "arguments": {}}</tool_call>'
    content, calls = tool_calls_from_text(good)
    assert content == "ok"
    assert [c["function"] for c in calls] == [{"name": "calc", "arguments": '{"expr": "2+2"}'}, {"name": "calc", "arguments": "{}"}]
    assert all(c["type"] == "function" and c["id"].startswith("call_") for c in calls)
    assert len({c["id"] for c in calls + tool_calls_from_text(good)[1]}) == 4  # unique ids, also across replies
    # one malformed block: the text whole and no calls, so an env's parser answers every call
    bad = good + " <tool_call>{bad</tool_call>"
    assert tool_calls_from_text(bad) == (bad, [])
    assert tool_calls_from_text("no calls") == ("no calls", [])
    # the server's reply: calls out of the content (null when nothing is left), finish reason tool_calls
    message, reason = reply_message('<tool_call>{"name": "calc", "arguments": {"expr": "1"}}</tool_call>', "stop", tools_offered=True)
    assert message["content"] is None and reason == "tool_calls" and message["tool_calls"][0]["function"]["name"] == "calc"
    assert reply_message(good, "stop", tools_offered=False) == ({"role": "assistant", "content": good}, "stop")
    assert reply_message(bad, "length", tools_offered=True) == ({"role": "assistant", "content": bad}, "length")


def test_a_conversation_with_tool_calls_renders_each_call_once_with_object_arguments():
    """What a client sends back after a tool call: the calls in `tool_calls` with JSON-string
    arguments. The template renders them as objects (a JSON string would be quoted twice)."""
    tok = build_tiny_tokenizer()
    conv = [*CONV, {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_a", "type": "function", "function": {"name": "calc", "arguments": '{"expr": "2+2"}'}}]},
            {"role": "tool", "tool_call_id": "call_a", "content": "4"}]
    text = tok.decode(render_chat(tok, conv))
    assert text.count("<tool_call>") == 1 and '{"name": "calc", "arguments": {"expr": "2+2"}}' in text
    assert text.endswith("<|im_start|>tool\n4<|im_end|>\n<|im_start|>assistant\n")


def test_cli_prints_the_url_and_serves(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "rlvr.cli", "serve", "--model", "tiny", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line, line + (proc.stdout.read() if proc.poll() is not None else "")
        url = line.split(" at ", 1)[1].split()[0]
        out = OpenAIEngine(url, max_retries=0).generate_chat([CONV], 2, SamplingParams(max_new_tokens=4, seed=0))
        assert len(out[0]) == 2 and all(isinstance(s.text, str) for s in out[0])
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_names_a_model_it_cannot_load(tmp_path, capsys):
    from rlvr.cli import main

    assert main(["serve", "--model", str(tmp_path / "no-such-model"), "--port", "0"]) == 2
    assert capsys.readouterr().err.startswith(f"rlvr serve: --model {str(tmp_path / 'no-such-model')!r}: no such folder")


def test_list_of_text_parts_is_rendered_as_its_text(server, checkpoint):
    """OpenAI SDKs and agent frameworks send content as parts: the text parts are joined with a
    newline (as vLLM does), never rendered as a Python repr; other parts get a 400 naming them."""
    tok = server.engine.tokenizer
    parts = [{"role": "user", "content": [{"type": "text", "text": "What is"}, {"type": "text", "text": "12+30?"}]}]
    assert render_chat(tok, parts) == render_chat(tok, [{"role": "user", "content": "What is\n12+30?"}])
    status, resp = post(server, {"model": checkpoint, "messages": parts, "max_tokens": 2})
    assert status == 200 and resp["usage"]["prompt_tokens"] == len(render_chat(tok, parts))
    image = [{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                          {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}]}]
    status, resp = post(server, {"model": checkpoint, "messages": image})
    assert status == 400 and resp["error"]["param"] == "messages"
    assert "message 0: 'content' has parts of type 'image_url'" in resp["error"]["message"]


def test_stop_token_ids_are_honoured(server, checkpoint):
    greedy = SamplingParams(temperature=0.0, max_new_tokens=8)
    first = server.engine.generate_chat([CONV], 1, greedy)[0][0].token_ids[0]
    status, resp = post(server, {"model": checkpoint, "messages": CONV, "temperature": 0, "max_tokens": 8,
                                 "stop_token_ids": [first], "logprobs": True})
    choice = resp["choices"][0]
    assert status == 200 and choice["finish_reason"] == "stop"
    assert len(choice["logprobs"]["content"]) == 1 and choice["message"]["content"] == ""
    status, resp = post(server, {"model": checkpoint, "messages": CONV, "stop_token_ids": ["x"]})
    assert status == 400 and resp["error"]["param"] == "stop_token_ids"


def test_sampling_fields_it_cannot_honour_are_refused_unless_neutral(server, checkpoint):
    refused = {"top_k": 1, "min_p": 0.1, "presence_penalty": 0.5, "frequency_penalty": -1, "repetition_penalty": 1.05,
               "logit_bias": {"5": 100}, "top_logprobs": 3, "response_format": {"type": "json_object"},
               "tool_choice": "required"}
    for field, value in refused.items():
        status, resp = post(server, {"model": checkpoint, "messages": CONV, "max_tokens": 2, field: value})
        assert status == 400 and resp["error"]["param"] == field, (field, resp)
        assert f"'{field}' is not supported by rlvr serve" in resp["error"]["message"]
    neutral = {"top_k": -1, "min_p": 0, "presence_penalty": 0.0, "frequency_penalty": 0, "repetition_penalty": 1.0,
               "logit_bias": {}, "top_logprobs": 0, "response_format": {"type": "text"}, "tool_choice": "auto",
               "user": "someone"}
    status, resp = post(server, {"model": checkpoint, "messages": CONV, "max_tokens": 2, **neutral})
    assert status == 200, resp


def test_an_unread_body_never_spills_into_the_next_request_on_the_connection(server, checkpoint):
    host, port = server.httpd.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        body = json.dumps({"model": checkpoint, "prompt": "x"})
        conn.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
        first = conn.getresponse()
        assert first.status == 404 and b"no route POST /v1/completions" in first.read()
        good = json.dumps({"model": checkpoint, "messages": CONV, "max_tokens": 2})
        conn.request("POST", "/v1/chat/completions", good, {"Content-Type": "application/json"})
        second = conn.getresponse()
        assert second.status == 200, second.read()
        assert json.loads(second.read())["object"] == "chat.completion"
        # a body the server will not read (no usable Content-Length) ends the connection
        conn.putrequest("POST", "/v1/chat/completions")
        conn.putheader("Content-Length", "abc")
        conn.endheaders(b"{}")
        third = conn.getresponse()
        assert third.status == 400 and third.getheader("Connection") == "close"
        third.read()
    finally:
        conn.close()


def test_a_model_without_chat_template_is_refused_at_start_up(tmp_path, capsys):
    from rlvr.cli import main

    tok = build_tiny_tokenizer()
    tok.chat_template = None
    build_tiny_model(tok).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    capsys.readouterr()  # drop save_pretrained's progress bar
    assert main(["serve", "--model", str(tmp_path), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "rlvr serve: the tokenizer of" in err and "has no chat template" in err and "instruct" in err
    with pytest.raises(ModelLoadError, match="no chat template"):
        ChatCompletionServer(HFChatEngine(build_tiny_model(tok), tok), "base", port=0)


def test_without_max_tokens_the_reply_gets_the_room_left_in_the_context(server, checkpoint):
    """512 + a 700-token prompt would exceed the tiny model's 1024-token context; a client that
    sent no max_tokens gets what is left instead of a 400 about a field it did not send. One that
    sent a max_tokens over the room left gets it capped to that room, as from vLLM's server."""
    long = [{"role": "user", "content": "What is 12+30? " * 48}]
    prompt = len(render_chat(server.engine.tokenizer, long))
    assert 1024 - 512 < prompt < 1024
    status, resp = post(server, {"model": checkpoint, "messages": long, "temperature": 0})
    assert status == 200, resp
    assert resp["usage"]["completion_tokens"] <= 1024 - prompt
    status, resp = post(server, {"model": checkpoint, "messages": long, "temperature": 0, "max_tokens": 1024 - prompt + 1})
    assert status == 200 and resp["usage"]["completion_tokens"] <= 1024 - prompt, resp


def test_a_request_whose_client_has_gone_is_skipped_not_computed(server):
    """The client timed out while its request waited for the model: when its turn comes the server
    skips it rather than generate a reply nobody will read (and delay every request behind it)."""
    client = OpenAIEngine(server.url, server.model_name, timeout=1, max_retries=3)
    before = (server.generated, server.skipped)
    with server._lock:  # the model is busy with another request
        with pytest.raises(ServerTimeoutError):
            client.generate_chat([CONV], 1, SamplingParams(max_new_tokens=2))
    deadline = time.monotonic() + 30
    while server.skipped == before[1] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (server.generated, server.skipped) == (before[0], before[1] + 1)


def test_too_many_waiting_requests_get_503_with_retry_after(server):
    with ChatCompletionServer(server.engine, "busy", port=0, max_queue=0) as busy:
        results = {}
        with busy._lock:  # the model is busy: the first request waits, the next finds the queue full
            waiting = threading.Thread(target=lambda: results.update(first=post(busy, {"messages": CONV, "max_tokens": 2})))
            waiting.start()
            deadline = time.monotonic() + 30
            while busy._pending == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            headers: dict = {}
            status, resp = post(busy, {"messages": CONV, "max_tokens": 2}, headers=headers)
            assert status == 503 and resp["error"]["type"] == "server_busy" and int(headers["Retry-After"]) >= 1
            assert "--max-queue 0" in resp["error"]["message"]
            with pytest.raises(ServerUnreachableError, match="HTTP 503: rlvr serve is busy"):
                OpenAIEngine(busy.url, "busy", max_retries=0).generate_chat([CONV], 1, SamplingParams(max_new_tokens=2))
        waiting.join(timeout=60)
        assert results["first"][0] == 200


def test_a_connection_on_a_descriptor_past_1024_is_served_not_dropped(server, checkpoint):
    """select.select cannot watch descriptors >= 1024 (a busy server has that many: connections,
    files); the check for a departed client must not take that for a client that has gone."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        if hard != resource.RLIM_INFINITY and hard < 1200:
            pytest.skip(f"cannot open 1100 files here (RLIMIT_NOFILE hard limit {hard})")
        resource.setrlimit(resource.RLIMIT_NOFILE, (1200, hard))
    held = []
    try:
        while not held or held[-1].fileno() < 1100:  # the server's next socket gets a descriptor past 1100
            held.append(open(os.devnull))
        before = (server.generated, server.skipped)
        status, resp = post(server, {"model": checkpoint, "messages": CONV, "max_tokens": 2})
    finally:
        for f in held:
            f.close()
    assert status == 200 and resp["object"] == "chat.completion"
    assert (server.generated, server.skipped) == (before[0] + 1, before[1])


def test_a_silent_connection_is_closed_after_the_idle_timeout(server, capsys):
    """An idle keep-alive connection, or a body that stops arriving, would hold a server thread and
    a descriptor forever: after idle_timeout the server closes it (quietly, no traceback)."""
    import socket

    with ChatCompletionServer(server.engine, "idle", port=0, idle_timeout=0.5) as srv:
        address = srv.httpd.server_address[:2]
        conn = http.client.HTTPConnection(*address, timeout=10)
        conn.request("GET", "/v1/models")
        assert conn.getresponse().read() and conn.sock is not None  # kept alive after the answer
        assert conn.sock.recv(1) == b""  # the server closed the idle connection (else: socket.timeout at 10 s)
        conn.close()
        with socket.create_connection(address, timeout=10) as sock:
            sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"messages\"")
            assert sock.recv(1) == b""  # the rest of the body never came
    assert "Traceback" not in capsys.readouterr().err
    assert server.httpd.RequestHandlerClass.timeout == 120  # the default (--idle-timeout)
    with pytest.raises(ValueError, match="idle_timeout must be > 0"):
        ChatCompletionServer(server.engine, "idle", port=0, idle_timeout=0)


def test_non_finite_sampling_numbers_get_a_400_naming_the_field(server):
    """Python's JSON reads NaN and Infinity, and NaN passes every range check: refused by name,
    as the client's fault (400), not a generation failure (500) that clients retry."""
    for field, literal in (("temperature", "NaN"), ("top_p", "NaN"), ("temperature", "Infinity"), ("top_p", "-Infinity")):
        raw = f'{{"messages": {json.dumps(CONV)}, "max_tokens": 2, "{field}": {literal}}}'.encode()
        status, resp = post(server, None, raw=raw)
        assert status == 400 and resp["error"]["param"] == field, (field, literal, resp)
        assert f"'{field}' must be a" in resp["error"]["message"]
    with pytest.raises(BadRequest, match="'temperature' must be a finite number, got NaN"):
        parse_chat_request({"messages": CONV, "temperature": float("nan")}, "m")


def test_the_context_checked_is_the_engines_own():
    """A model whose config names no position limit (ALiBi: Bloom) gets its context from the
    tokenizer, as the engine does: a prompt too long is a 400 on 'messages', not an engine failure (500)."""
    from transformers import BloomConfig, BloomForCausalLM

    tok = build_tiny_tokenizer()
    tok.model_max_length = 64
    model = BloomForCausalLM(BloomConfig(vocab_size=len(tok), hidden_size=32, n_layer=1, n_head=2))
    engine = HFChatEngine(model, tok, device="cpu")
    with ChatCompletionServer(engine, "bloom", port=0) as srv:
        assert srv.context_length == engine.context_length == 64
        status, resp = post(srv, {"messages": [{"role": "user", "content": "x" * 100}], "max_tokens": 5})
        assert status == 400 and resp["error"]["param"] == "messages", resp
        assert "fills the model's context of 64 tokens" in resp["error"]["message"]
        assert srv.generated == 0


def test_serve_reports_a_port_in_use_and_a_bad_idle_timeout_on_stderr(capsys):
    import socket

    from rlvr.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--model", "tiny", "--port", str(port)]) == 2
    out, err = capsys.readouterr()
    assert f"rlvr serve: cannot listen on 127.0.0.1:{port}" in err and "cannot listen" not in out
    assert main(["serve", "--model", "tiny", "--idle-timeout", "0"]) == 2
    assert "rlvr serve: --idle-timeout must be a number of seconds > 0, got 0" in capsys.readouterr().err
