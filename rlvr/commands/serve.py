"""`rlvr serve`: serve a local model (the ``hf`` engine) over the OpenAI chat-completions API.

Endpoints: ``POST /v1/chat/completions`` and ``GET /v1/models``. It is useful on its own (try a
checkpoint with any OpenAI client) and lets the ``openai`` engine be tested against a real HTTP
server. ``--model tiny`` serves the randomly initialised tiny model (no download). The model needs a
chat template (a base model without one is refused at start-up).

Request fields honoured: ``model``, ``messages`` (content a string or a list of text parts),
``n``, ``temperature``, ``top_p``, ``max_tokens`` / ``max_completion_tokens`` (default: the room left
in the model's context, at most :data:`DEFAULT_MAX_TOKENS`), ``stop``, ``stop_token_ids``, ``seed``,
``logprobs``, ``tools``. A field that would change the reply but cannot be honoured here (``top_k``,
``min_p``, the penalties, ``logit_bias``, ``top_logprobs``, ``response_format``, ``tool_choice``...,
see :data:`UNSUPPORTED_FIELDS`) is refused with a 400 naming it unless it has its neutral value
(clients often send defaults explicitly); a reply sampled otherwise than asked would be wrong output.
Other fields (``user``, ``stream_options``...) are ignored. A bad request gets an OpenAI-style error
body naming the field (``{"error": {"message", "type", "param"}}``).

Requests are handled in threads; generation runs one request at a time on the model. A request
whose client has gone (timed out, cancelled) by the time its turn comes is skipped, not computed;
when more than ``--max-queue`` requests wait, a new one gets 503 with ``Retry-After``. A connection
on which the client sends nothing for ``--idle-timeout`` seconds (an idle keep-alive connection, a
body that stops arriving) is closed, so it does not hold a thread and a file descriptor forever;
the time a request waits for the model or generates does not count.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import selectors
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["BadRequest", "ChatCompletionServer", "ModelLoadError", "ServerBusy", "UNSUPPORTED_FIELDS", "parse_chat_request",
           "load_hf_chat_engine", "register", "run"]

MAX_N = 128
MAX_BODY_BYTES = 16 * 1024 * 1024
#: max_tokens of a request that sends none (when the context leaves less room, that room).
DEFAULT_MAX_TOKENS = 4096
#: Requests that may wait for the model while it generates; more get 503 (``--max-queue``).
DEFAULT_MAX_QUEUE = 64
#: Seconds a connection may stay silent (between requests, or within one) before it is closed (``--idle-timeout``).
DEFAULT_IDLE_TIMEOUT = 120.0

#: Request fields that change the reply but that this server cannot honour, with their neutral
#: values (``None`` is always neutral): present with any other value, the request gets a 400.
UNSUPPORTED_FIELDS: dict[str, tuple[Any, ...]] = {
    "top_k": (-1, 0),
    "min_p": (0,),
    "presence_penalty": (0,),
    "frequency_penalty": (0,),
    "repetition_penalty": (1,),
    "logit_bias": ({},),
    "top_logprobs": (0,),
    "response_format": ({"type": "text"},),
    "tool_choice": ("auto",),  # "none" is neutral too when no tools are offered (see parse_chat_request)
    "parallel_tool_calls": (True,),
    "min_tokens": (0,),
    "ignore_eos": (False,),
    "use_beam_search": (False,),
    "best_of": (1,),
    "include_stop_str_in_output": (False,),
    "skip_special_tokens": (True,),
    "prompt_logprobs": (0,),
    "echo": (False,),
    "guided_json": (), "guided_regex": (), "guided_choice": (), "guided_grammar": (), "structured_outputs": (),
}


class BadRequest(ValueError):
    """A request the server refuses (HTTP 400 unless ``status`` says otherwise); ``param`` names the field."""

    def __init__(self, message: str, param: str | None = None, status: int = 400, kind: str = "invalid_request_error"):
        super().__init__(message)
        self.param, self.status, self.kind = param, status, kind


class ServerBusy(BadRequest):
    """Too many requests already wait for the model: HTTP 503 with ``Retry-After: retry_after``."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, None, status=503, kind="server_busy")
        self.retry_after = retry_after


class ClientGone(Exception):
    """The client closed its connection before its request's turn came: nothing to compute or answer."""


class ModelLoadError(ValueError):
    """The model named on the command line cannot be loaded or served (the message says why and what to pass)."""


def _number(body: dict, key: str, default: float, lo: float, hi: float, lo_open: bool = False) -> float:
    """``body[key]`` as a float in [lo, hi] (``(lo, hi]`` with ``lo_open``), ``default`` when absent.
    NaN and infinities are refused by name: Python's JSON reads them, and NaN passes every comparison."""
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequest(f"'{key}' must be a number, got {json.dumps(value)}", key)
    if isinstance(value, float) and not math.isfinite(value):
        raise BadRequest(f"'{key}' must be a finite number, got {json.dumps(value)}", key)
    if value < lo or value > hi or (lo_open and value == lo):
        interval = f"{'(' if lo_open else '['}{lo}, {hi}]"
        raise BadRequest(f"'{key}' must be in {interval}, got {value}", key)
    return float(value)


def _integer(body: dict, key: str, default: int | None, lo: int, hi: int) -> int | None:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"'{key}' must be an integer, got {json.dumps(value)}", key)
    if not lo <= value <= hi:
        raise BadRequest(f"'{key}' must be between {lo} and {hi}, got {value}", key)
    return value


def parse_chat_request(body: Any, served_model: str, *, max_tokens_default: int = DEFAULT_MAX_TOKENS) -> dict[str, Any]:
    """Validate a chat-completions request body; return ``messages``, ``n``, ``sampling``
    (our :class:`~rlvr.trainers.engine.SamplingParams`), ``logprobs``, ``tools`` and
    ``max_tokens_set`` (whether the client chose ``max_tokens``; when not, ``sampling`` has
    ``max_tokens_default``). Raises :class:`BadRequest` naming the first bad field, including a
    field of :data:`UNSUPPORTED_FIELDS` with a value that is not neutral."""
    from rlvr.trainers.engine import SamplingParams
    from rlvr.trainers.hf_chat import check_conversation

    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object", None)
    model = body.get("model")
    if model is not None and model != served_model:
        raise BadRequest(f"model {model!r} is not served here; this server serves {served_model!r} (see GET /v1/models)",
                         "model", status=404, kind="model_not_found")
    if "messages" not in body:
        raise BadRequest("'messages' is required: a non-empty list of {\"role\": ..., \"content\": ...}", "messages")
    try:
        messages = check_conversation(body["messages"])
    except ValueError as exc:
        raise BadRequest(f"'messages' is invalid: {str(exc).replace('conversation 0, ', '')}", "messages") from None
    n = _integer(body, "n", 1, 1, MAX_N)
    temperature = _number(body, "temperature", 1.0, 0.0, 2.0)
    top_p = _number(body, "top_p", 1.0, 0.0, 1.0, lo_open=True)
    key = "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    max_tokens = _integer(body, key, max_tokens_default, 1, 1_000_000)
    stop = body.get("stop")
    if stop is None:
        stop = []
    elif isinstance(stop, str):
        stop = [stop]
    if not isinstance(stop, list) or not all(isinstance(s, str) and s for s in stop):
        raise BadRequest(f"'stop' must be a non-empty string or a list of them, got {json.dumps(body.get('stop'))}", "stop")
    stop_token_ids = body.get("stop_token_ids") or []
    if not isinstance(stop_token_ids, list) or not all(isinstance(t, int) and not isinstance(t, bool) and t >= 0
                                                        for t in stop_token_ids):
        raise BadRequest(f"'stop_token_ids' must be a list of token ids (integers >= 0), got {json.dumps(body.get('stop_token_ids'))}",
                         "stop_token_ids")
    seed = _integer(body, "seed", None, -(2**63), 2**63 - 1)
    logprobs = body.get("logprobs", False)
    if logprobs is None:
        logprobs = False
    if not isinstance(logprobs, bool):
        raise BadRequest(f"'logprobs' must be true or false, got {json.dumps(logprobs)}", "logprobs")
    tools = body.get("tools")
    if tools is not None and (not isinstance(tools, list) or not all(isinstance(t, dict) for t in tools)):
        raise BadRequest("'tools' must be a list of tool objects ({\"type\": \"function\", \"function\": {...}})", "tools")
    for field, neutral in UNSUPPORTED_FIELDS.items():
        value = body.get(field)
        if value is None or value in neutral or (field == "tool_choice" and value == "none" and not tools):
            continue
        hint = f"leave it out or send {json.dumps(neutral[0])}" if neutral else "leave it out"
        raise BadRequest(f"'{field}' is not supported by rlvr serve (it samples with temperature, top_p, stop and "
                         f"max_tokens only), so {json.dumps(value)[:100]} cannot be honoured; {hint}", field)
    try:
        sampling = SamplingParams(temperature=temperature, top_p=top_p, max_new_tokens=max_tokens, stop=tuple(stop),
                                  stop_token_ids=tuple(stop_token_ids), seed=seed)
    except ValueError as exc:  # a value the checks above let through: still the request's fault, not a 500
        raise BadRequest(f"the sampling parameters are invalid: {exc}", None) from None
    return {"messages": messages, "n": n, "sampling": sampling, "logprobs": logprobs, "tools": tools or None,
            "max_tokens_set": body.get(key) is not None}


def reply_message(text: str, finish_reason: str, *, tools_offered: bool) -> tuple[dict[str, Any], str]:
    """The assistant message of a reply and its finish reason, as OpenAI's API gives them. When the
    request offered tools and the model called some (Hermes ``<tool_call>`` blocks, all well formed),
    the calls go in ``tool_calls`` and out of the text (``content`` is what is left, null when
    nothing), with finish reason ``tool_calls``; otherwise the text is the content as written."""
    from rlvr.trainers.hf_chat import tool_calls_from_text

    content, calls = tool_calls_from_text(text) if tools_offered else (text, [])
    if not calls:
        return {"role": "assistant", "content": text}, finish_reason
    return {"role": "assistant", "content": content or None, "tool_calls": calls}, "tool_calls"


class ChatCompletionServer:
    """An OpenAI-compatible HTTP server over an :class:`~rlvr.trainers.hf_chat.HFChatEngine`.

    ``port=0`` picks a free port; :attr:`url` is the API root (``http://HOST:PORT/v1``). Use
    :meth:`serve_forever` in the foreground, or :meth:`start` / :meth:`close` (a background thread).
    ``max_queue``: requests that may wait while one generates; more get 503 with ``Retry-After``.
    ``idle_timeout``: seconds a connection may stay silent before it is closed (see the module doc).
    The context checked against prompt + ``max_tokens`` is the engine's ``context_length``, the
    one it generates with, so a prompt too long is a 400 here rather than an engine failure (500).
    A tokenizer without a chat template is a :class:`ModelLoadError` (no request could be served).
    :attr:`generated` and :attr:`skipped` count the requests computed and those skipped because
    their client had gone.
    """

    def __init__(self, engine: Any, model_name: str, host: str = "127.0.0.1", port: int = 8000,
                 max_queue: int = DEFAULT_MAX_QUEUE, idle_timeout: float = DEFAULT_IDLE_TIMEOUT):
        if not idle_timeout > 0:  # 0 would make every connection non-blocking, not patient
            raise ValueError(f"idle_timeout must be > 0 seconds, got {idle_timeout}")
        if not getattr(engine.tokenizer, "chat_template", None):
            raise ModelLoadError(f"the tokenizer of {model_name!r} has no chat template, so no chat request could be "
                                 "rendered; serve an instruct/chat checkpoint, or set tokenizer.chat_template and save it")
        self.engine = engine
        self.model_name = model_name
        self.created = int(time.time())
        self.max_queue = int(max_queue)
        self.idle_timeout = float(idle_timeout)
        self._lock = threading.Lock()  # the model generates for one request at a time
        self._count_lock = threading.Lock()
        self._pending = 0  # requests waiting for the model or generating
        self._last_generation_s = 1.0
        self.generated = self.skipped = 0
        self.context_length = getattr(engine, "context_length", None)
        self.httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def start(self) -> "ChatCompletionServer":
        self._thread = threading.Thread(target=self.serve_forever, name="rlvr-serve", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self.httpd.server_close()

    def __enter__(self) -> "ChatCompletionServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ request handling

    def models(self) -> dict[str, Any]:
        return {"object": "list", "data": [{"id": self.model_name, "object": "model", "created": self.created, "owned_by": "rlvr"}]}

    @contextlib.contextmanager
    def _turn(self):
        """Wait for the model; :class:`ServerBusy` at once when ``max_queue`` requests already wait
        (they would only time out in their clients, after the server computed them anyway)."""
        with self._count_lock:
            if self._pending > self.max_queue:
                wait = max(1, math.ceil(self._last_generation_s))
                raise ServerBusy(f"rlvr serve is busy: {self._pending - 1} requests wait for the model (--max-queue "
                                 f"{self.max_queue}); retry in about {wait}s, or send fewer requests at once", wait)
            self._pending += 1
        try:
            with self._lock:
                yield
        finally:
            with self._count_lock:
                self._pending -= 1

    def chat_completion(self, body: Any, client_gone: Any = None) -> dict[str, Any]:
        """The response to a chat-completions request body. ``client_gone``: a callable checked when
        the request's turn comes; when it says the client has gone, :class:`ClientGone` is raised
        instead of generating a reply nobody will read."""
        from rlvr.trainers.hf_chat import render_chat

        req = parse_chat_request(body, self.model_name)
        tok = self.engine.tokenizer
        try:
            prompt = render_chat(tok, req["messages"], req["tools"])
        except Exception as exc:  # a template that cannot render these messages (e.g. a role it refuses)
            raise BadRequest(f"the chat template cannot render 'messages': {exc}", "messages") from None
        sampling = req["sampling"]
        if self.context_length:
            room = self.context_length - len(prompt)
            if room < 1:
                raise BadRequest(f"the prompt ({len(prompt)} tokens) fills the model's context of {self.context_length} "
                                 "tokens, leaving no room for a reply; shorten 'messages'", "messages")
            if not req["max_tokens_set"]:  # as vLLM and OpenAI: the room left, here capped
                sampling = dataclasses.replace(sampling, max_new_tokens=min(room, DEFAULT_MAX_TOKENS))
            elif sampling.max_new_tokens > room:
                raise BadRequest(
                    f"the prompt ({len(prompt)} tokens) plus max_tokens ({sampling.max_new_tokens}) exceeds the model's "
                    f"context of {self.context_length} tokens; shorten 'messages' or lower 'max_tokens'", "max_tokens")
        with self._turn():
            if client_gone is not None and client_gone():
                self.skipped += 1
                raise ClientGone()
            start = time.monotonic()
            samples = self.engine.generate([prompt], req["n"], sampling)[0]
            self._last_generation_s = time.monotonic() - start
            self.generated += 1
        choices = []
        for i, s in enumerate(samples):
            message, finish_reason = reply_message(s.text, s.finish_reason, tools_offered=bool(req["tools"]))
            choice: dict[str, Any] = {"index": i, "message": message, "finish_reason": finish_reason, "logprobs": None}
            if req["logprobs"]:
                choice["logprobs"] = {"content": [
                    {"token": tok.decode([t]), "logprob": lp, "bytes": list(tok.decode([t]).encode()), "top_logprobs": []}
                    for t, lp in zip(s.token_ids, s.logprobs)
                ]}
            choices.append(choice)
        completion_tokens = sum(len(s.token_ids) for s in samples)
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model_name,
            "choices": choices,
            "usage": {"prompt_tokens": len(prompt), "completion_tokens": completion_tokens,
                      "total_tokens": len(prompt) + completion_tokens},
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "rlvr-serve"
            timeout = server.idle_timeout  # on every read and write of the connection (StreamRequestHandler)

            def log_message(self, format: str, *args: Any) -> None:  # quiet: one line per request is noise
                pass

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                """Write a JSON reply; ``headers`` adds some (``Connection: close`` also ends the
                connection). A client that has gone, or stopped reading for ``idle_timeout``, is
                not an error: the connection just ends."""
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # BrokenPipeError, ConnectionResetError, TimeoutError
                    self.close_connection = True

            def _error(self, status: int, message: str, param: str | None = None, kind: str = "invalid_request_error",
                       headers: dict[str, str] | None = None) -> None:
                self._send(status, {"error": {"message": message, "type": kind, "param": param, "code": None}}, headers)

            def _client_gone(self) -> bool:
                """Whether the client has closed the connection (it timed out or gave up): the
                socket reads as end-of-file, or was reset. A client waiting for its answer sends
                nothing. A selector, not ``select.select``, which fails for descriptors >= 1024;
                a check that fails otherwise says "still here": a request is never dropped unseen."""
                try:
                    with selectors.DefaultSelector() as selector:
                        selector.register(self.connection, selectors.EVENT_READ)
                        readable = bool(selector.select(0))
                    return readable and self.connection.recv(1, socket.MSG_PEEK) == b""
                except ConnectionError:
                    return True
                except (OSError, ValueError):
                    return False

            def do_GET(self) -> None:
                if self.path.rstrip("/") in ("/v1/models", "/models"):
                    self._send(200, server.models())
                elif self.path.rstrip("/") in ("/health", "/v1/health", ""):
                    self._send(200, {"status": "ok"})
                else:
                    self._error(404, f"no route GET {self.path}; try GET /v1/models or POST /v1/chat/completions", kind="not_found")

            def do_POST(self) -> None:
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    length = -1
                if length <= 0 or length > MAX_BODY_BYTES:
                    # a body left unread would be parsed as the next request on this keep-alive connection
                    self._error(400, f"the request needs a JSON body with a Content-Length between 1 and {MAX_BODY_BYTES} bytes",
                                headers={"Connection": "close"})
                    return
                try:
                    raw = self.rfile.read(length)  # read before any reply, so the connection stays usable
                except OSError:  # the body stopped arriving for idle_timeout, or the client went away
                    self.close_connection = True
                    return
                if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                    self._error(404, f"no route POST {self.path}; this server offers POST /v1/chat/completions", kind="not_found")
                    return
                try:
                    body = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    self._error(400, f"the request body is not valid JSON: {exc}")
                    return
                if isinstance(body, dict) and body.get("stream"):
                    self._error(400, "'stream' is not supported by rlvr serve; send stream=false", "stream")
                    return
                try:
                    self._send(200, server.chat_completion(body, self._client_gone))
                except ClientGone:
                    self.close_connection = True
                except ServerBusy as exc:
                    self._error(exc.status, str(exc), exc.param, exc.kind, headers={"Retry-After": str(exc.retry_after)})
                except BadRequest as exc:
                    self._error(exc.status, str(exc), exc.param, exc.kind)
                except Exception as exc:  # an engine failure is the server's fault, never the client's
                    self._error(500, f"generation failed: {type(exc).__name__}: {exc}", kind="server_error")

        return Handler


def load_hf_chat_engine(model: str, device: str | None = None, dtype: str = "auto"):
    """An :class:`~rlvr.trainers.hf_chat.HFChatEngine` for ``model``: ``"tiny"`` (the locally built
    tiny model) or a Hugging Face model folder / hub id. Returns ``(engine, name)``; a
    ModelLoadError when the model cannot be loaded (each command reports it in its own name)."""
    import torch

    from rlvr.trainers.hf_chat import HFChatEngine

    if model == "tiny":
        from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer

        tok = build_tiny_tokenizer()
        return HFChatEngine(build_tiny_model(tok), tok, device=device), "tiny"
    import os

    from transformers import AutoModelForCausalLM, AutoTokenizer

    if model.startswith((".", "~", os.sep)) and not os.path.isdir(os.path.expanduser(model)):
        raise ModelLoadError(f"no model folder at {model!r}; pass a folder written by save_pretrained, a hub id, or 'tiny'")
    model = os.path.expanduser(model)
    torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
    try:
        tok = AutoTokenizer.from_pretrained(model)
        lm = AutoModelForCausalLM.from_pretrained(model, dtype=torch_dtype)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load model {model!r}: {exc}; "
                             "pass a folder written by save_pretrained, a hub id available offline, or 'tiny'") from None
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return HFChatEngine(lm, tok, device=device), model


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "serve", help="serve a local model over the OpenAI chat-completions API",
        description="Serve a model with the hf engine at http://HOST:PORT/v1 (POST /v1/chat/completions, "
                    "GET /v1/models), so any OpenAI-compatible client or `rlvr eval --engine openai` can use it.")
    p.add_argument("--model", required=True, help="a save_pretrained folder, a hub id, or 'tiny' (local random tiny model)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    p.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16", "float16"], help="weights dtype")
    p.add_argument("--served-model-name", default=None, help="the name clients send as 'model' (default: --model)")
    p.add_argument("--max-queue", type=int, default=DEFAULT_MAX_QUEUE,
                   help="requests that may wait while one generates; more get 503 with Retry-After (default %(default)s)")
    p.add_argument("--idle-timeout", type=float, default=DEFAULT_IDLE_TIMEOUT, metavar="SECONDS",
                   help="close a connection silent this long, e.g. an idle keep-alive one (default %(default)g; "
                        "waiting for the model does not count)")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.max_queue < 0:
        print(f"rlvr serve: --max-queue must be >= 0, got {args.max_queue}", file=sys.stderr)
        return 1
    if not args.idle_timeout > 0 or not math.isfinite(args.idle_timeout):
        print(f"rlvr serve: --idle-timeout must be a number of seconds > 0, got {args.idle_timeout:g}", file=sys.stderr)
        return 1
    try:
        engine, name = load_hf_chat_engine(args.model, args.device, args.dtype)
    except ModelLoadError as exc:
        print(f"rlvr serve: {exc}", file=sys.stderr)
        return 1
    try:
        server = ChatCompletionServer(engine, args.served_model_name or name, args.host, args.port, max_queue=args.max_queue,
                                      idle_timeout=args.idle_timeout)
    except ModelLoadError as exc:  # e.g. no chat template: refused before listening
        print(f"rlvr serve: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"rlvr serve: cannot listen on {args.host}:{args.port}: {exc}; pick another --port (0 = any free one)",
              file=sys.stderr)
        return 1
    print(f"rlvr serve: model {server.model_name!r} on {engine.device} at {server.url} "
          f"(POST {server.url}/chat/completions, GET {server.url}/models); Ctrl-C stops", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
    return 0
