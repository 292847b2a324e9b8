"""`rlvr serve` against bodies, clients, signals and tokenizers that used to break it.

Each test drives a real server on 127.0.0.1 (a free port) with a tiny model built locally: a body
nested too deep or holding a huge integer, out-of-vocabulary stop ids, Ctrl-C during a generation,
a client that half-closes its socket, a burst of connections, log-prob bytes of byte-level BPE
tokens, and bad --port / --host values.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from rlvr.commands import serve as serve_module
from rlvr.commands.serve import ChatCompletionServer, load_hf_chat_engine
from rlvr.trainers.engine import SamplingParams
from rlvr.trainers.hf_chat import HFChatEngine
from rlvr.trainers.openai_engine import OpenAIEngine, RequestRejectedError
from rlvr.trainers.tiny import CHAT_TEMPLATES, build_tiny_model, build_tiny_tokenizer

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


def post(server, body, raw: bytes | None = None):
    """(status, JSON answer) of POST /chat/completions."""
    req = urllib.request.Request(server.url + "/chat/completions", data=raw if raw is not None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def byte_level_tokenizer():
    """A byte-level BPE tokenizer (GPT-2 style, as Llama 3 and Qwen use) trained locally, with a chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    tk.train_from_iterator(["hello world, what is 12+30?"] * 10,
                           trainers.BpeTrainer(vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok = PreTrainedTokenizerFast(tokenizer_object=tk)
    tok.chat_template = CHAT_TEMPLATES["chatml"]
    return tok


def gpt2_bytes(token: str) -> list[int]:
    """The bytes a byte-level vocabulary string stands for (GPT-2's bytes_to_unicode, inverted), written out here."""
    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    chars = {chr(b): b for b in printable}
    extra = 0
    for b in range(256):
        if b not in printable:
            chars[chr(256 + extra)] = b
            extra += 1
    return [chars[c] for c in token]


# ---------------------------------------------------------------------------------------------- A


def test_a_body_nested_too_deep_or_with_a_huge_integer_gets_a_400_not_a_dropped_connection(server):
    """Python's JSON parser raises RecursionError past ~1000 levels and ValueError for an integer of
    more than 4300 digits: both are the body's fault, answered as such (the connection used to drop)."""
    status, resp = post(server, None, raw=b'{"messages": ' + b"[" * 200_000 + b"]" * 200_000 + b"}")
    assert status == 400 and resp["error"]["type"] == "invalid_request_error", resp
    assert "nests arrays or objects too deeply" in resp["error"]["message"]
    status, resp = post(server, None, raw=b"[" * 200_000 + b"]" * 200_000)
    assert status == 400 and "too deeply" in resp["error"]["message"], resp
    raw = b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": ' + b"9" * 5000 + b"}"
    status, resp = post(server, None, raw=raw)
    assert status == 400 and "integer literal too long" in resp["error"]["message"], resp
    assert "5000 digits" in resp["error"]["message"] and "set_int_max_str_digits" not in resp["error"]["message"]
    status, resp = post(server, {"messages": CONV, "max_tokens": 2})
    assert status == 200, resp  # the server is unharmed


# ---------------------------------------------------------------------------------------------- B


def test_stop_token_ids_outside_the_vocabulary_get_a_400_that_clients_do_not_retry(server):
    """An id the model cannot produce used to reach the engine (500, which clients retry and report
    as a failing server): it is the request's fault, named with the vocabulary size."""
    vocab = server.engine.vocab_size
    for ids in ([10**30], [vocab], [1, vocab + 5]):
        status, resp = post(server, {"messages": CONV, "max_tokens": 2, "stop_token_ids": ids})
        assert status == 400 and resp["error"]["param"] == "stop_token_ids", (ids, resp)
        assert f"vocabulary of {vocab} tokens" in resp["error"]["message"] and f"0 to {vocab - 1}" in resp["error"]["message"]
    status, resp = post(server, {"messages": CONV, "max_tokens": 2, "stop_token_ids": [vocab - 1]})
    assert status == 200, resp
    before = server.generated
    client = OpenAIEngine(server.url, server.model_name, max_retries=2, backoff=5.0)
    start = time.monotonic()
    with pytest.raises(RequestRejectedError, match=f"HTTP 400: 'stop_token_ids' has ids outside the model's vocabulary of {vocab}"):
        client.generate_chat([CONV], 1, SamplingParams(max_new_tokens=2, stop_token_ids=(100_000,)))
    assert time.monotonic() - start < 4 and server.generated == before  # not retried (backoff 5 s), nothing computed


# ---------------------------------------------------------------------------------------------- C


def _http_reply(sock: socket.socket) -> tuple[int, dict]:
    """The final reply on a raw socket (1xx replies skipped): (status, JSON body)."""
    resp = http.client.HTTPResponse(sock)
    resp.begin()
    return resp.status, json.loads(resp.read())


def test_ctrl_c_during_a_generation_answers_the_requests_and_exits_130():
    """SIGINT while a handler thread was inside torch used to abort the process (SIGABRT, "terminate
    called without an active exception") with the client left an empty reply. Now the server stops
    accepting, ends the generation, answers it and the request waiting behind it with 503, and exits 130."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "rlvr.cli", "serve", "--model", "tiny", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    socks = []
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/v1", line)
        assert match, line + proc.stderr.read() if proc.poll() is not None else line
        port = int(match.group(1))
        # n=128 long samples: seconds of generation on a CPU; the second request waits for the model
        for body in ({"messages": CONV, "n": 128, "temperature": 2.0}, {"messages": CONV, "max_tokens": 2}):
            data = json.dumps(body).encode()
            sock = socket.create_connection(("127.0.0.1", port), timeout=60)
            sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(data) + data)
            socks.append(sock)
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("rlvr serve did not exit within 60 s of Ctrl-C")
        assert proc.returncode == 130, (proc.returncode, err[-2000:])
        assert "terminate called" not in err and "Traceback" not in err, err[-2000:]
        assert "rlvr serve: interrupted" in err
        for sock in socks:  # both got a whole reply: 503 (stopped), or 200 if it had finished already
            status, payload = _http_reply(sock)
            assert status in (200, 503), (status, payload)
            if status == 503:
                assert payload["error"]["type"] == "server_shutting_down", payload
    finally:
        for sock in socks:
            sock.close()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_stop_ends_a_generation_under_way_and_refuses_what_comes_after(server):
    """The same in-process: stop() closes the listening socket, a generation under way is ended at
    its next token (503), and the engine is usable again afterwards."""
    engine = server.engine
    with ChatCompletionServer(engine, "stopping", port=0) as srv:
        results = {}
        body = {"messages": CONV, "n": 64, "temperature": 2.0, "max_tokens": 900}
        worker = threading.Thread(target=lambda: results.update(first=post(srv, body)))
        with srv._lock:  # hold the model until the request waits for it, so it is surely under way below
            worker.start()
            deadline = time.monotonic() + 30
            while srv._pending == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
        time.sleep(0.3)  # now generating
        assert srv.stop(grace=30)
        worker.join(timeout=30)
        status, resp = results["first"]
        assert status == 503 and resp["error"]["type"] == "server_shutting_down", resp
        with pytest.raises(OSError):
            socket.create_connection(srv.httpd.server_address[:2], timeout=5).close()
    assert not engine.model._forward_pre_hooks  # the hook that ended it is gone
    assert len(engine.generate_chat([CONV], 1, SamplingParams(max_new_tokens=2))[0]) == 1


# ---------------------------------------------------------------------------------------------- D


def test_a_client_that_half_closes_after_its_request_gets_the_reply(server):
    """`nc -N` and clients calling shutdown(SHUT_WR) send end-of-file after their request but still
    read: they used to be taken for gone and never answered. A client that really closed is still skipped."""
    host, port = server.httpd.server_address[:2]
    before = (server.generated, server.skipped)
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request("POST", "/v1/chat/completions", json.dumps({"messages": CONV, "max_tokens": 2}),
                     {"Content-Type": "application/json", "Connection": "close"})
        conn.sock.shutdown(socket.SHUT_WR)
        resp = conn.getresponse()  # (http.client skips the interim 100 Continue the server may send)
        assert resp.status == 200 and json.loads(resp.read())["object"] == "chat.completion"
    finally:
        conn.close()
    assert (server.generated, server.skipped) == (before[0] + 1, before[1])
    # a client that closed its socket while waiting for the model: skipped, not computed
    data = json.dumps({"messages": CONV, "max_tokens": 2}).encode()
    with server._lock:
        sock = socket.create_connection((host, port), timeout=10)
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(data) + data)
        deadline = time.monotonic() + 30
        while server._pending == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        sock.close()
    deadline = time.monotonic() + 30
    while server.skipped == before[1] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (server.generated, server.skipped) == (before[0] + 1, before[1] + 1)


# ---------------------------------------------------------------------------------------------- E


def test_a_burst_of_connections_is_queued_by_the_kernel_not_dropped(server):
    """With socketserver's listen backlog of 5, connections past the 6th waiting to be accepted have
    their SYN dropped and wait for a retry (1 s, then 3 s...). The backlog holds a burst of 64."""
    srv = ChatCompletionServer(server.engine, "burst", port=0, max_queue=4)  # not started: nothing accepts
    socks = []
    try:
        for _ in range(64):  # (each would time out waiting for a SYN retry)
            socks.append(socket.create_connection(srv.httpd.server_address[:2], timeout=0.8))
    finally:
        for sock in socks:
            sock.close()
        srv.close()
    assert srv.httpd.request_queue_size >= 128
    big = ChatCompletionServer(server.engine, "big", port=0, max_queue=500)
    big.close()
    assert big.httpd.request_queue_size == 501  # at least every request allowed to wait, plus one


# ---------------------------------------------------------------------------------------------- F


def test_logprob_bytes_of_byte_level_tokens_are_the_bytes_they_stand_for():
    """A byte-level BPE token can hold part of a character ("é" is two tokens of one byte each):
    decoding it alone gives U+FFFD, whose UTF-8 [239, 191, 189] used to be reported as its bytes."""
    tok = byte_level_tokenizer()
    engine = HFChatEngine(build_tiny_model(tok), tok, device="cpu")
    sampling = {"n": 4, "max_tokens": 32, "temperature": 1.0, "seed": 0}
    with ChatCompletionServer(engine, "bpe", port=0) as srv:
        status, resp = post(srv, {"messages": CONV, **sampling, "logprobs": True})
    assert status == 200, resp
    local = engine.generate_chat([CONV], 4, SamplingParams(max_new_tokens=32, temperature=1.0, seed=0))[0]
    partial = 0
    for choice, sample in zip(resp["choices"], local):  # the same seeded samples: their ids
        content = choice["logprobs"]["content"]
        assert [e["token"] for e in content] == [tok.decode([t]) for t in sample.token_ids]
        assert [e["bytes"] for e in content] == [gpt2_bytes(tok.convert_ids_to_tokens(t)) for t in sample.token_ids]
        partial += sum(1 for e in content if not _is_utf8(e["bytes"]))
    assert partial > 0  # the samples hold tokens that are parts of characters: the case that was wrong
    # the same, token by token: the reviewer's case, and a tokenizer that is not byte-level
    ids = tok.encode("é", add_special_tokens=False)
    to_bytes = serve_module.token_bytes_function(tok)
    assert [to_bytes(t) for t in ids] == [[195], [169]]
    text = "héllo wörld, 12+30 = 42 ✓ 日本"
    assert b"".join(bytes(to_bytes(t)) for t in tok.encode(text, add_special_tokens=False)) == text.encode()
    tiny = build_tiny_tokenizer()  # not byte-level: the decoded token's UTF-8, as before
    assert [serve_module.token_bytes_function(tiny)(t) for t in tiny.encode("a+<|im_end|>", add_special_tokens=False)] == \
        [[97], [43], list(b"<|im_end|>")]


def _is_utf8(data: list[int]) -> bool:
    try:
        bytes(data).decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


# ---------------------------------------------------------------------------------------------- G


def test_a_port_out_of_range_is_a_usage_error_before_the_model_loads(capsys, monkeypatch):
    from rlvr.cli import main

    def no_load(*args, **kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(serve_module, "load_hf_chat_engine", no_load)
    for port in ("70000", "-1", "http"):
        assert main(["serve", "--model", "tiny", "--port", port]) == 2
        err = capsys.readouterr().err
        assert "argument --port: must be an integer from 0 to 65535" in err and "Traceback" not in err, err
    with pytest.raises(ValueError, match="port must be an integer from 0 to 65535"):
        ChatCompletionServer(object(), "x", port=70000)


def test_a_host_that_is_not_this_machines_is_named_as_the_problem(capsys, monkeypatch):
    """A bad --host used to be told to "pick another --port", after the model had loaded."""
    from rlvr.cli import main

    host = "192.0.2.1"  # TEST-NET-1: documentation only, on no machine's interfaces
    with socket.socket() as probe:
        try:
            probe.bind((host, 0))
            pytest.skip(f"{host} is an address of this machine")
        except OSError:
            pass

    def no_load(*args, **kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(serve_module, "load_hf_chat_engine", no_load)
    assert main(["serve", "--model", "tiny", "--host", host, "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert f"rlvr serve: cannot listen on {host}:0: --host {host} is not an address of this machine" in err, err
    assert "--host 127.0.0.1" in err and "--port" not in err
    with socket.socket() as taken:  # a port in use is still told to pick another --port, also before loading
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--model", "tiny", "--port", str(port)]) == 2
    assert f"port {port} is in use" in capsys.readouterr().err
