"""`rlvr serve`: serve a local model (the ``hf`` engine) over the OpenAI chat-completions API.

Endpoints: ``POST /v1/chat/completions``, ``GET /v1/models`` and ``GET /v1/models/{model}`` (the
served name; another is a 404), ``GET /health``; HEAD answers as GET without the body, and any other
method gets a 405 with ``Allow`` and a JSON error body. It is useful on its own (try a
checkpoint with any OpenAI client) and lets the ``openai`` engine be tested against a real HTTP
server. ``--model tiny`` serves the randomly initialised tiny model (no download). The model needs a
chat template (a base model without one is refused at start-up).

Request fields honoured: ``model``, ``messages`` (content a string or a list of text parts),
``n``, ``temperature``, ``top_p``, ``max_tokens`` / ``max_completion_tokens`` (capped to the room the
prompt leaves in the model's context, as vLLM's server does; default: that room, at most
:data:`DEFAULT_MAX_TOKENS`), ``stop``, ``stop_token_ids``, ``seed``,
``logprobs``, ``tools``. A field that would change the reply but cannot be honoured here (``top_k``,
``min_p``, the penalties, ``logit_bias``, ``top_logprobs``, ``response_format``, ``tool_choice``, legacy
``functions`` / ``function_call``, ``reasoning_effort``, vLLM's rendering options ``chat_template``,
``chat_template_kwargs``, ``add_generation_prompt`` and ``continue_final_message``...,
see :data:`UNSUPPORTED_FIELDS`) is refused with a 400 naming it unless it has its neutral value
(clients often send defaults explicitly); a reply sampled otherwise than asked would be wrong output.
Other fields (``user``, ``stream_options``...) are ignored. Routes match on the path alone (a query
string such as ``?api-version=...`` is ignored); a body comes with ``Content-Length`` or chunked. A bad request gets an OpenAI-style error
body naming the field (``{"error": {"message", "type", "param"}}``).

Requests are handled in threads; generation runs one request at a time on the model. A request
whose client has gone (timed out, cancelled; not merely half-closed its socket, see
``_client_gone``) by the time its turn comes is skipped, not computed;
when more than ``--max-queue`` requests wait, a new one gets 503 with ``Retry-After`` set to about
the time the queue ahead of it takes (``(pending + 1) x`` the last generation's time, 1 to 60 s), so
refused clients do not all come back at once into a queue still full. A connection
on which the client sends nothing for ``--idle-timeout`` seconds (an idle keep-alive connection, a
body that stops arriving) is closed, so it does not hold a thread and a file descriptor forever;
the time a request waits for the model or generates does not count. Ctrl-C stops accepting, ends
the generation under way, answers the requests under way with 503 and exits with 130 (see
:meth:`ChatCompletionServer.stop` and ``_stop_on_interrupt``); SIGTERM (docker stop, systemd,
Kubernetes) stops the same way and exits with 143 (``_terminated_as_interrupt``).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import errno
import functools
import json
import math
import os
import select
import selectors
import signal
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["BadRequest", "ChatCompletionServer", "ModelLoadError", "ServerBusy", "ShuttingDown", "UNSUPPORTED_FIELDS",
           "parse_chat_request", "load_hf_chat_engine", "register", "run"]

MAX_N = 128
MAX_BODY_BYTES = 16 * 1024 * 1024
#: Trailer lines a chunked request body may end with (they are read and ignored).
MAX_TRAILERS = 64
#: Longest chunk-size line of a chunked body (the size in hexadecimal plus any ``;`` extensions, which
#: are ignored): clients send none, and long ones would only cost the server reading them.
MAX_CHUNK_LINE = 128
#: A chunked body may take at most this many bytes on the wire per byte it may hold (size lines,
#: extensions, CRLFs and trailers counted): a body sent as many tiny chunks costs reading time out of
#: proportion to its size.
CHUNKED_WIRE_FACTOR = 2
#: max_tokens of a request that sends none (when the context leaves less room, that room).
DEFAULT_MAX_TOKENS = 4096
#: Requests that may wait for the model while it generates; more get 503 (``--max-queue``).
DEFAULT_MAX_QUEUE = 64
#: The longest ``Retry-After`` (seconds) a busy answer asks for (the openai engine waits at most 60 s too).
MAX_BUSY_RETRY_AFTER = 60
#: Seconds a connection may stay silent (between requests, or within one) before it is closed (``--idle-timeout``).
DEFAULT_IDLE_TIMEOUT = 120.0
#: Connections the kernel completes and queues before the server accepts them (listen backlog, at
#: least ``max_queue + 1``). socketserver's default, 5, makes a burst of clients wait for SYN retries (~1 s each).
LISTEN_BACKLOG = 128
#: The methods some route takes (the ``Allow`` header of a 405).
ALLOWED_METHODS = "GET, HEAD, POST"
#: The routes of chat completions, which take POST only (GET or HEAD there: a 405 with ``Allow: POST``).
CHAT_ROUTES = ("/v1/chat/completions", "/chat/completions")
#: Seconds a Ctrl-C waits for the requests under way to be answered before the process ends anyway.
STOP_GRACE_S = 10.0
#: Seconds the check for a departed client waits for a reset after probing a half-closed connection.
CLIENT_GONE_PROBE_S = 0.2

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
    "bad_words": ([],),
    "allowed_token_ids": (),
    "length_penalty": (1,),
    "truncate_prompt_tokens": (),  # (vLLM: keeps the prompt's last N tokens; a prompt is never cut here)
    # OpenAI's legacy function calling (before `tools`): the model would be offered functions it is not shown
    "functions": ([],),
    "function_call": ("none", "auto"),
    "reasoning_effort": (),
    # how the conversation is rendered (vLLM): here always the model's own template, as is, ending
    # with the assistant's generation prompt
    "chat_template": (),
    "chat_template_kwargs": ({},),
    "add_generation_prompt": (True,),
    "continue_final_message": (False,),
    "documents": ([],),
    "add_special_tokens": (False,),
    # output other than text
    "modalities": (["text"],),
    "audio": (),
    "web_search_options": (),
}


#: The error ``code`` of a prompt longer than the context (OpenAI's), which clients recognise.
CONTEXT_EXCEEDED = "context_length_exceeded"


class BadRequest(ValueError):
    """A request the server refuses (HTTP 400 unless ``status`` says otherwise); ``param`` names the field."""

    def __init__(self, message: str, param: str | None = None, status: int = 400, kind: str = "invalid_request_error",
                 code: str | None = None):
        super().__init__(message)
        self.param, self.status, self.kind, self.code = param, status, kind, code


class ServerBusy(BadRequest):
    """Too many requests already wait for the model: HTTP 503 with ``Retry-After: retry_after``."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, None, status=503, kind="server_busy")
        self.retry_after = retry_after


class ShuttingDown(BadRequest):
    """The server is stopping (Ctrl-C): HTTP 503, and the connection is closed."""

    def __init__(self, message: str = "rlvr serve is shutting down (interrupted): the request was not completed; "
                                      "send it to a running server"):
        super().__init__(message, None, status=503, kind="server_shutting_down")


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


def _short_int(value: int) -> str:
    text = str(value)
    return text if len(text) <= 24 else f"{text[:12]}... ({len(text)} digits)"


def _neutral(value: Any, neutral: tuple[Any, ...]) -> bool:
    """Whether `value` is one of a field's `neutral` values, of the same JSON type (true is not 1,
    0 is not false)."""
    return any(value == v and type(value) is type(v) or (type(value), type(v)) in ((int, float), (float, int)) and value == v
               for v in neutral)


def _checked_tools(tools: Any) -> list[Any] | None:
    """The request's ``tools``: None, or a list of ``{"type": "function", "function": {"name": ...,
    ...}}`` objects whose strings are valid text. A :class:`BadRequest` names the first bad entry: a
    tool without a function name would be rendered into the prompt as a tool the model cannot call
    (or break the template with a message about its internals)."""
    from rlvr.trainers.hf_chat import check_text_encodes

    shape = "a list of tool objects ({\"type\": \"function\", \"function\": {\"name\": ..., ...}})"
    if tools is None:
        return None
    if not isinstance(tools, list):
        raise BadRequest(f"'tools' must be {shape}, got {type(tools).__name__}", "tools")
    for k, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str) or not function["name"]:
            raise BadRequest(f"'tools'[{k}] must be {{\"type\": \"function\", \"function\": {{\"name\": ..., ...}}}} with a "
                             f"non-empty function name, got {json.dumps(tool)[:200]}", "tools")
        try:
            check_text_encodes(tool, f"'tools'[{k}]")
        except ValueError as exc:
            raise BadRequest(str(exc), "tools") from None
    return tools


def parse_chat_request(body: Any, served_model: str, *, max_tokens_default: int = DEFAULT_MAX_TOKENS,
                       vocab_size: int | None = None) -> dict[str, Any]:
    """Validate a chat-completions request body; return ``messages``, ``n``, ``sampling``
    (our :class:`~rlvr.trainers.engine.SamplingParams`), ``logprobs``, ``tools`` and
    ``max_tokens_set`` (whether the client chose ``max_tokens``; when not, ``sampling`` has
    ``max_tokens_default``). Raises :class:`BadRequest` naming the first bad field, including a
    field of :data:`UNSUPPORTED_FIELDS` with a value that is not neutral, and (given the model's
    ``vocab_size``) a ``stop_token_ids`` entry outside the vocabulary, which the engine would refuse."""
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
    stop_token_ids = body.get("stop_token_ids")
    if stop_token_ids is None:  # (only null means none: 0, false, "" and {} are refused as not a list)
        stop_token_ids = []
    if not isinstance(stop_token_ids, list) or not all(isinstance(t, int) and not isinstance(t, bool) and t >= 0
                                                        for t in stop_token_ids):
        raise BadRequest(f"'stop_token_ids' must be a list of token ids (integers >= 0), got {json.dumps(body.get('stop_token_ids'))}",
                         "stop_token_ids")
    outside = [t for t in stop_token_ids if vocab_size is not None and t >= vocab_size]
    if outside:
        raise BadRequest(f"'stop_token_ids' has ids outside the model's vocabulary of {vocab_size} tokens: "
                         f"{', '.join(_short_int(t) for t in outside[:5])}; token ids go from 0 to {vocab_size - 1}", "stop_token_ids")
    seed = _integer(body, "seed", None, -(2**63), 2**63 - 1)
    logprobs = body.get("logprobs", False)
    if logprobs is None:
        logprobs = False
    if not isinstance(logprobs, bool):
        raise BadRequest(f"'logprobs' must be true or false, got {json.dumps(logprobs)}", "logprobs")
    tools = _checked_tools(body.get("tools"))
    for field, neutral in UNSUPPORTED_FIELDS.items():
        value = body.get(field)
        if value is None or _neutral(value, neutral) or (field == "tool_choice" and value == "none" and not tools):
            continue
        hint = f"leave it out or send {json.dumps(neutral[0])}" if neutral else "leave it out"
        raise BadRequest(f"'{field}' is not supported by rlvr serve (it renders the conversation with the model's own "
                         f"chat template and samples with temperature, top_p, stop and max_tokens only), so "
                         f"{json.dumps(value)[:100]} cannot be honoured; {hint}", field)
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
    nothing); otherwise the text is the content as written. The finish reason becomes ``tool_calls``
    only when the model stopped on its own (``stop``): a reply cut off at ``max_tokens`` after a call
    stays ``length`` (as vLLM's server reports it), so clients still see that it was truncated."""
    from rlvr.trainers.hf_chat import tool_calls_from_text

    content, calls = tool_calls_from_text(text) if tools_offered else (text, [])
    if not calls:
        return {"role": "assistant", "content": text}, finish_reason
    message = {"role": "assistant", "content": content or None, "tool_calls": calls}
    return message, "tool_calls" if finish_reason == "stop" else finish_reason


def _stop_reason(sample: Any, special: Any = (), stop_token_ids: Any = (), eos: Any = ()) -> str | int | None:
    """What vLLM's server reports as a ``stop`` choice's ``stop_reason``: the stop string that ended
    ``sample`` (left out of its text, as OpenAI's API does), or the id of the ``stop_token_ids``
    token it ended on (left out too): a client putting it back (rlvr's rollouts do, decoding an id
    with the model's tokenizer) sees the text the model wrote. None when neither ended it: an EOS
    (``eos``, even one also given in ``stop_token_ids``, as vLLM checks EOS first), or a stop string
    that is one of the ``special`` tokens (matched by its id: not text, so nothing to put back;
    vLLM's server does not match those as stop strings either)."""
    reported = (sample.meta or {}).get("stop_reason")
    if isinstance(reported, str) and reported not in special:
        return reported
    last = int(sample.token_ids[-1]) if sample.token_ids else None
    return last if last is not None and last in stop_token_ids and last not in eos else None


# ---------------------------------------------------------------------- log-prob bytes


@functools.lru_cache(maxsize=1)
def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte-level alphabet: the printable character standing for each byte in a byte-level
    BPE vocabulary (what ``tokenizers``' ``ByteLevel`` pre-tokenizer and decoder use)."""
    kept = [*range(ord("!"), ord("~") + 1), *range(ord("\u00a1"), ord("\u00ac") + 1), *range(ord("\u00ae"), ord("\u00ff") + 1)]
    chars, extra = {b: chr(b) for b in kept}, 0
    for b in range(256):
        if b not in chars:
            chars[b], extra = chr(256 + extra), extra + 1
    return dict(sorted(chars.items()))


def token_bytes_function(tokenizer: Any):
    """``token id -> list of bytes`` for the ``bytes`` field of log-probs: the exact UTF-8 bytes a
    token stands for. A byte-level BPE token may hold part of a character ("é" is two tokens, one
    byte each), which decoding alone turns into U+FFFD; its vocabulary string is mapped back through
    the byte-level alphabet instead. Added tokens are their content; other tokenizers (and strings
    outside the alphabet) the UTF-8 of the decoded token, as before."""
    def decoded(token_id: int) -> list[int]:
        return list(tokenizer.decode([token_id], clean_up_tokenization_spaces=False).encode())

    backend = getattr(tokenizer, "backend_tokenizer", None)
    try:
        decoder = json.loads(backend.to_str()).get("decoder") if backend is not None else None
    except Exception:
        decoder = None
    if not isinstance(decoder, dict) or decoder.get("type") != "ByteLevel":
        return decoded
    to_byte = {c: b for b, c in _bytes_to_unicode().items()}
    added = {int(i): t.content for i, t in (getattr(tokenizer, "added_tokens_decoder", None) or {}).items()}

    def byte_level(token_id: int) -> list[int]:
        if token_id in added:
            return list(added[token_id].encode())
        piece = tokenizer.convert_ids_to_tokens(token_id)
        if isinstance(piece, str) and piece and all(c in to_byte for c in piece):
            return [to_byte[c] for c in piece]
        return decoded(token_id)

    return byte_level


class ChatCompletionServer:
    """An OpenAI-compatible HTTP server over an :class:`~rlvr.trainers.hf_chat.HFChatEngine`.

    ``port=0`` picks a free port; :attr:`url` is the API root (``http://HOST:PORT/v1``). Use
    :meth:`serve_forever` in the foreground, or :meth:`start` / :meth:`close` (a background thread).
    ``max_queue``: requests that may wait while one generates; more get 503 with ``Retry-After``.
    ``idle_timeout``: seconds a connection may stay silent before it is closed (see the module doc).
    The context is the engine's ``context_length``, the one it generates with: ``max_tokens`` is
    capped to the room the prompt leaves in it (as vLLM's server does, :meth:`_reply_limit`), and a
    prompt that fills it alone is a 400 here rather than an engine failure (500).
    A tokenizer without a chat template is a :class:`ModelLoadError` (no request could be served).
    :attr:`generated` and :attr:`skipped` count the requests computed and those skipped because
    their client had gone.
    """

    def __init__(self, engine: Any, model_name: str, host: str = "127.0.0.1", port: int = 8000,
                 max_queue: int = DEFAULT_MAX_QUEUE, idle_timeout: float = DEFAULT_IDLE_TIMEOUT):
        if not idle_timeout > 0:  # 0 would make every connection non-blocking, not patient
            raise ValueError(f"idle_timeout must be > 0 seconds, got {idle_timeout}")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an integer from 0 to 65535 (0 = any free port), got {port!r}")
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
        self.vocab_size = getattr(engine, "vocab_size", None)
        self._token_bytes = token_bytes_function(engine.tokenizer)
        self._special = getattr(engine, "_special_vocab", {})  # stop strings that are not text are not reported
        self._stopping = threading.Event()  # set by stop(): every request from then on gets 503
        self._active = 0  # requests being computed or answered (stop() waits for them)
        self._active_changed = threading.Condition()
        self.httpd = ThreadingHTTPServer((host, port), self._handler_class(), bind_and_activate=False)
        self.httpd.daemon_threads = True
        # the listen backlog (the kernel caps it at net.core.somaxconn)
        self.httpd.request_queue_size = max(LISTEN_BACKLOG, min(self.max_queue + 1, 65535))
        try:
            self.httpd.server_bind()
            self.httpd.server_activate()
        except BaseException:
            self.httpd.server_close()
            raise
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

    def stop(self, grace: float = STOP_GRACE_S) -> bool:
        """Stop serving, as Ctrl-C does: close the listening socket (new connections are refused),
        stop the generation under way at its next forward pass, answer it and every request still
        waiting or arriving on an open connection with 503 (:class:`ShuttingDown`), and wait up to
        ``grace`` seconds for the requests being handled to be answered. Returns whether they all
        were; False means one is still inside the engine (e.g. a long prompt's single forward pass)."""
        with self._active_changed:
            self._stopping.set()
        model = getattr(self.engine, "model", None)
        hook = model.register_forward_pre_hook(self._refuse_forward) if hasattr(model, "register_forward_pre_hook") else None
        self.close()
        deadline = time.monotonic() + grace
        with self._active_changed:
            while self._active and deadline - time.monotonic() > 0:
                self._active_changed.wait(deadline - time.monotonic())
            done = self._active == 0
        if hook is not None and done:  # (else the generation still running must keep meeting it)
            hook.remove()
        return done

    def _refuse_forward(self, module: Any, args: Any) -> None:
        """Forward pre-hook installed by :meth:`stop`: ends the generation under way at its next token."""
        raise ShuttingDown()

    @contextlib.contextmanager
    def _handling(self):
        """Count a request being computed or answered; yields whether the server is stopping (then
        it must not touch the engine). Under one lock with :meth:`stop`'s flag, so a request either
        is counted before stop() waits, or sees the flag."""
        with self._active_changed:
            self._active += 1
            stopping = self._stopping.is_set()
        try:
            yield stopping
        finally:
            with self._active_changed:
                self._active -= 1
                self._active_changed.notify_all()

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
                wait = self._busy_retry_after()
                raise ServerBusy(f"rlvr serve is busy: {self._pending - 1} requests wait for the model (--max-queue "
                                 f"{self.max_queue}); retry in about {wait}s, or send fewer requests at once", wait)
            self._pending += 1
        try:
            with self._lock:
                yield
        finally:
            with self._count_lock:
                self._pending -= 1

    def _busy_retry_after(self) -> int:
        """The ``Retry-After`` (seconds) of a busy answer: about the time the requests already queued
        take, ``(pending + 1) * last generation time``, from 1 to :data:`MAX_BUSY_RETRY_AFTER`.
        A constant (one generation's time) sent all refused clients back together, into a queue
        still as full: they were refused again and again until their retries ran out."""
        wait = math.ceil((self._pending + 1) * self._last_generation_s)
        return min(max(1, wait), MAX_BUSY_RETRY_AFTER)

    def _reply_limit(self, req: dict[str, Any], prompt_len: int) -> int:
        """The generation limit of a request whose prompt is ``prompt_len`` tokens, as vLLM's server
        sets it (``get_max_tokens``): ``max_tokens`` capped to the room the prompt leaves in the
        context, so a reply the cap cuts ends with finish reason ``"length"`` instead of the request
        being refused (a multi-turn client nearing the context still gets its short replies, as a
        token-level rollout does); without ``max_tokens``, that room, at most :data:`DEFAULT_MAX_TOKENS`.

        Refused (400): a ``max_tokens`` over the whole context (no conversation fits it: a setting
        to lower, as vLLM refuses it), and a prompt that fills the context alone (OpenAI's code
        ``context_length_exceeded``, which clients tell from other refusals)."""
        asked, context = req["sampling"].max_new_tokens, self.context_length
        if req["max_tokens_set"] and asked > context:
            raise BadRequest(f"max_tokens ({asked}) exceeds the model's context of {context} tokens, so no reply "
                             "can be that long; lower 'max_tokens'", "max_tokens")
        room = context - prompt_len
        if room < 1:
            raise BadRequest(f"the prompt ({prompt_len} tokens) fills the model's context of {context} tokens, "
                             "leaving no room for a reply; shorten 'messages'", "messages", code=CONTEXT_EXCEEDED)
        return min(asked, room) if req["max_tokens_set"] else min(room, DEFAULT_MAX_TOKENS)

    def chat_completion(self, body: Any, client_gone: Any = None) -> dict[str, Any]:
        """The response to a chat-completions request body. ``client_gone``: a callable checked when
        the request's turn comes; when it says the client has gone, :class:`ClientGone` is raised
        instead of generating a reply nobody will read."""
        from rlvr.trainers.hf_chat import render_chat

        req = parse_chat_request(body, self.model_name, vocab_size=self.vocab_size)
        tok = self.engine.tokenizer
        try:
            prompt = render_chat(tok, req["messages"], req["tools"])
        except Exception as exc:  # a template that cannot render these messages (e.g. a role it refuses)
            raise BadRequest(f"the chat template cannot render 'messages': {exc}", "messages") from None
        sampling = req["sampling"]
        if self.context_length:
            sampling = dataclasses.replace(sampling, max_new_tokens=self._reply_limit(req, len(prompt)))
        with self._turn():
            if self._stopping.is_set():
                raise ShuttingDown()
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
            choice: dict[str, Any] = {"index": i, "message": message, "finish_reason": finish_reason, "logprobs": None,
                                      "stop_reason": None}
            if s.finish_reason == "stop":  # what ended it, as the engine saw it (a tool_calls choice too, as vLLM's)
                choice["stop_reason"] = _stop_reason(s, self._special, frozenset(sampling.stop_token_ids),
                                                     getattr(self.engine, "eos_token_ids", frozenset()))
            if req["logprobs"]:
                choice["logprobs"] = {"content": [
                    {"token": tok.decode([t], clean_up_tokenization_spaces=False), "logprob": lp, "bytes": self._token_bytes(t), "top_logprobs": []}
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

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None,
                      head: bool = False) -> None:
                """Write a JSON reply (its headers only with ``head``, for HEAD); ``headers`` adds some
                (``Connection: close`` also ends the connection). A client that has gone, or stopped
                reading for ``idle_timeout``, is not an error: the connection just ends."""
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    if not head:
                        self.wfile.write(data)
                except OSError:  # BrokenPipeError, ConnectionResetError, TimeoutError
                    self.close_connection = True

            def _error(self, status: int, message: str, param: str | None = None, kind: str = "invalid_request_error",
                       headers: dict[str, str] | None = None, code: str | None = None) -> None:
                self._send(status, self._error_body(message, param, kind, code), headers)

            @staticmethod
            def _error_body(message: str, param: str | None, kind: str, code: str | None = None) -> dict[str, Any]:
                """An OpenAI-style error body."""
                return {"error": {"message": message, "type": kind, "param": param, "code": code}}

            def _client_gone(self) -> bool:
                """Whether the client has closed the connection (it timed out or gave up). A client
                waiting for its answer sends nothing; one that has closed the socket has sent
                end-of-file, but so has one that only shut its writing side and still reads (``nc
                -N``, ``shutdown(SHUT_WR)``). Only the peer's kernel tells them apart: data sent to
                a closed socket is answered with a reset. So on end-of-file the client gets an
                interim ``100 Continue`` (HTTP/1.1 clients skip 1xx replies before the final one)
                and is gone only if a reset (POLLHUP/POLLERR) follows within
                :data:`CLIENT_GONE_PROBE_S`; an HTTP/1.0 client (no 1xx allowed) is answered. A
                selector and poll, not ``select.select``, which fails for descriptors >= 1024; a
                check that fails otherwise says "still here": a request is never dropped unseen."""
                conn = self.connection
                try:
                    with selectors.DefaultSelector() as selector:
                        selector.register(conn, selectors.EVENT_READ)
                        if not selector.select(0):
                            return False
                    if conn.recv(1, socket.MSG_PEEK) != b"":
                        return False  # (a pipelined request: still here)
                    if self._reset_within(0):
                        return True
                    if self.request_version < "HTTP/1.1":
                        return False
                    if not self._probed:
                        self._probed = True
                        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                    return self._reset_within(CLIENT_GONE_PROBE_S)
                except ConnectionError:
                    return True
                except (OSError, ValueError):
                    return False

            _probed = False  # the 100 Continue probe was sent on this connection

            def _reset_within(self, seconds: float) -> bool:
                """Whether the connection is reset or closed both ways (POLLHUP/POLLERR) within ``seconds``."""
                if not hasattr(select, "poll"):
                    return False
                poller = select.poll()
                poller.register(self.connection, select.POLLHUP | select.POLLERR)
                deadline = time.monotonic() + seconds
                while True:
                    ready = poller.poll(max(0.0, deadline - time.monotonic()) * 1000)
                    if any(events & (select.POLLHUP | select.POLLERR) for _, events in ready):
                        return True
                    if time.monotonic() >= deadline:
                        return False

            def _route(self) -> str:
                """The request's path without its query string (clients and proxies add some, e.g.
                Azure-style ``?api-version=...``; none of them changes what is served here)."""
                return urllib.parse.urlsplit(self.path).path.rstrip("/")

            def _read_body(self) -> bytes | bytearray | None:
                """The request body, read in full before any reply (a body left unread would be parsed as
                the next request on this keep-alive connection): by ``Content-Length``, or chunked
                (``Transfer-Encoding: chunked``, as streaming clients send it), at most
                :data:`MAX_BODY_BYTES` either way. A request framed ambiguously is refused, as RFC 9112
                (6.1, 6.3) asks, since a proxy in front may read its end elsewhere and let a second,
                smuggled request through: both headers, ``Transfer-Encoding`` in HTTP/1.0, a coding list
                not ending in a single ``chunked``, or a malformed ``Content-Length`` are a 400; another
                coding (``gzip, chunked``) is a 501. A bad length or chunk is answered with a 400; every
                such answer closes the connection. None when answered (or when the client went away)."""
                try:
                    if "Transfer-Encoding" in self.headers:
                        self._check_transfer_encoding()
                        return _read_chunked(self.rfile, MAX_BODY_BYTES)
                    lengths = {value.strip() for value in self.headers.get_all("Content-Length", [])}
                    text = lengths.pop() if len(lengths) == 1 else ""
                    length = int(text) if text.isascii() and text.isdigit() else -1  # (int() takes "+5", "5_0")
                    if length <= 0 or length > MAX_BODY_BYTES:
                        raise BadRequest("the request needs a JSON body with one Content-Length between 1 and "
                                         f"{MAX_BODY_BYTES} bytes (or a chunked one of at most that size)")
                    return self.rfile.read(length)
                except BadRequest as exc:
                    self._error(exc.status, str(exc), headers={"Connection": "close"})
                except OSError:  # the body stopped arriving for idle_timeout, or the client went away
                    self.close_connection = True
                return None

            def _check_transfer_encoding(self) -> None:
                """Raise :class:`BadRequest` unless the request's ``Transfer-Encoding`` is exactly
                ``chunked`` (any case, in one header), in HTTP/1.1, without a ``Content-Length``."""
                if self.request_version < "HTTP/1.1":
                    raise BadRequest("Transfer-Encoding is not allowed in an HTTP/1.0 request; send a Content-Length")
                if "Content-Length" in self.headers:
                    raise BadRequest("the request has both Content-Length and Transfer-Encoding; send one of them")
                codings = [c.strip().lower() for value in self.headers.get_all("Transfer-Encoding", [])
                           for c in value.split(",") if c.strip()]
                if codings == ["chunked"]:
                    return
                if not codings or codings[-1] != "chunked" or codings.count("chunked") > 1:
                    raise BadRequest(f"the request's Transfer-Encoding {', '.join(codings)!r} does not end in one "
                                     "'chunked', so its length is unknown; send 'chunked' or a Content-Length")
                raise BadRequest(f"the request's Transfer-Encoding {', '.join(codings)!r} is not supported; "
                                 "only 'chunked' is (send the body uncompressed)", status=501)

            def _announces_body(self) -> bool:
                """Whether the request announces a body (which GET, HEAD and refused methods never read)."""
                return "Transfer-Encoding" in self.headers or self.headers.get("Content-Length", "").strip() not in ("", "0")

            def do_GET(self, head: bool = False) -> None:
                # A GET's body is never read: one announced (a proxy would pass it on as the body) must not
                # be parsed as the next request on this connection, so the connection ends with the answer.
                close = {"Connection": "close"} if self._announces_body() else None
                if self._route() in CHAT_ROUTES:  # POST only: a 405 naming it, not a 404 "no route"
                    self._send(405, self._error_body(f"method {self.command} is not allowed on {self._route()}; "
                                                     "send POST with a JSON body", None, "method_not_allowed"),
                               {"Allow": "POST", **(close or {})}, head=head)
                    return
                status, payload = self._get_reply()
                self._send(status, payload, close, head=head)

            def do_HEAD(self) -> None:
                """As GET, headers only (``Content-Length`` that of the GET's body), as HTTP asks."""
                self.do_GET(head=True)

            def _get_reply(self) -> tuple[int, dict[str, Any]]:
                """(status, JSON body) of a GET: the model list, one model (``/v1/models/<served
                name>``, the OpenAI SDK's ``models.retrieve``; its name may hold ``/``), the health
                check, or a 404 naming the routes."""
                route = self._route()
                if route in ("/v1/models", "/models"):
                    return 200, server.models()
                for prefix in ("/v1/models/", "/models/"):
                    if route.startswith(prefix):
                        name = urllib.parse.unquote(route[len(prefix):])
                        if name == server.model_name:
                            return 200, server.models()["data"][0]
                        return 404, self._error_body(f"model {name!r} is not served here; this server serves "
                                                     f"{server.model_name!r} (see GET /v1/models)", "model", "model_not_found")
                if route in ("/health", "/v1/health", ""):
                    return 200, {"status": "ok"}
                return 404, self._error_body(f"no route GET {self.path}; try GET /v1/models or POST /v1/chat/completions",
                                             None, "not_found")

            def _refuse_method(self) -> None:
                """405 for a method no route takes (OPTIONS, PUT, DELETE...), with ``Allow`` and an
                OpenAI-style JSON body rather than the standard library's HTML 501 page. Any body
                it announced is not read, so the connection ends with the answer."""
                self._error(405, f"method {self.command} is not allowed; this server answers GET (and HEAD) "
                                 "/v1/models, /v1/models/{model} and /health, and POST /v1/chat/completions",
                            kind="method_not_allowed", headers={"Allow": ALLOWED_METHODS, "Connection": "close"})

            do_OPTIONS = do_PUT = do_DELETE = do_PATCH = do_TRACE = do_CONNECT = _refuse_method

            def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
                """The standard library's own errors (a malformed request line, headers too long, an
                unknown method: 501) as OpenAI-style JSON, like every other answer, closing the connection."""
                self.close_connection = True
                self._send(code, self._error_body(message or self.responses.get(code, ("error",))[0], None,
                                                  "invalid_request_error" if code < 500 else "not_implemented"),
                           {"Connection": "close", **({"Allow": ALLOWED_METHODS} if code == 501 else {})},
                           head=self.command == "HEAD")

            def do_POST(self) -> None:
                raw = self._read_body()
                if raw is None:
                    return
                if self._route() not in CHAT_ROUTES:
                    self._error(404, f"no route POST {self.path}; this server offers POST /v1/chat/completions", kind="not_found")
                    return
                try:
                    body = json.loads(raw)
                except RecursionError:  # Python's parser recurses once per level of nesting
                    self._error(400, "the request body nests arrays or objects too deeply to be parsed as JSON "
                                     f"(more than about {sys.getrecursionlimit()} levels); send a flatter body")
                    return
                except ValueError as exc:  # invalid JSON or UTF-8, or an integer literal past Python's digit limit
                    if not isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)) and "digits" in str(exc):
                        self._error(400, f"the request body has an integer literal too long to be parsed ({str(exc).split(';')[0]}); "
                                         "send a smaller number")
                    else:
                        self._error(400, f"the request body is not valid JSON: {exc}")
                    return
                if isinstance(body, dict) and body.get("stream"):
                    self._error(400, "'stream' is not supported by rlvr serve; send stream=false", "stream")
                    return
                with server._handling() as stopping:
                    if stopping:
                        exc = ShuttingDown()
                        self._error(exc.status, str(exc), exc.param, exc.kind, headers={"Connection": "close"})
                        return
                    self._complete(body)

            def _complete(self, body: Any) -> None:
                try:
                    self._send(200, server.chat_completion(body, self._client_gone))
                except ClientGone:
                    self.close_connection = True
                except ShuttingDown as exc:
                    self._error(exc.status, str(exc), exc.param, exc.kind, headers={"Connection": "close"})
                except ServerBusy as exc:
                    self._error(exc.status, str(exc), exc.param, exc.kind, headers={"Retry-After": str(exc.retry_after)})
                except BadRequest as exc:
                    self._error(exc.status, str(exc), exc.param, exc.kind, code=exc.code)
                except Exception as exc:  # an engine failure is the server's fault, never the client's
                    self._error(500, f"generation failed: {type(exc).__name__}: {exc}", kind="server_error")

        return Handler


def _read_chunked(stream: Any, limit: int) -> bytearray:
    """A ``Transfer-Encoding: chunked`` body from ``stream``: hexadecimal size lines (extensions after
    ``;`` ignored, the line at most :data:`MAX_CHUNK_LINE` bytes), each chunk followed by CRLF, ended
    by a zero-size chunk and optional trailers. The chunks go into one buffer (a list of them would
    cost dozens of bytes per one-byte chunk). :class:`BadRequest` for a malformed chunk, a body over
    ``limit`` bytes (found before it is read), or one taking over ``CHUNKED_WIRE_FACTOR * limit``
    bytes on the wire (tiny chunks, long extensions or trailers)."""
    body = bytearray()
    wire_left = CHUNKED_WIRE_FACTOR * limit

    def spend(count: int) -> None:
        nonlocal wire_left
        wire_left -= count
        if wire_left < 0:
            raise BadRequest(f"the chunked request body takes over {CHUNKED_WIRE_FACTOR * limit} bytes on the wire "
                             "(chunk sizes, extensions and trailers counted); send larger chunks")

    def line(longest: int) -> bytes:
        text = stream.readline(min(longest + 2, wire_left + 1))  # (wire_left >= 0 here: never unbounded)
        spend(len(text))
        if not text.endswith(b"\n"):
            raise BadRequest(f"the chunked request body ended early or has a line over {longest} bytes")
        return text.rstrip(b"\r\n")

    while True:
        size_text = line(MAX_CHUNK_LINE).split(b";", 1)[0].strip()
        if not size_text or size_text.strip(b"0123456789abcdefABCDEF"):  # (int() would take "0x", "_", "+")
            raise BadRequest(f"the chunked request body has a malformed chunk size {size_text[:40]!r}; "
                             "each chunk starts with its size in hexadecimal")
        size = int(size_text, 16)
        if size == 0:
            break
        if len(body) + size > limit:
            raise BadRequest(f"the chunked request body is over {limit} bytes")
        data = stream.read(size)
        if len(data) != size or stream.read(2) != b"\r\n":
            raise BadRequest("the chunked request body has a chunk shorter or longer than its size")
        body += data
        spend(size + 2)
    for _ in range(MAX_TRAILERS + 1):  # trailers (ignored), up to the blank line that ends the body
        if not line(1024):
            break
    else:
        raise BadRequest(f"the chunked request body has more than {MAX_TRAILERS} trailer lines")
    if not body:
        raise BadRequest("the request needs a JSON body; the chunked body sent is empty")
    return body


def check_hf_device(device: str | None) -> None:
    """Refuse, with a ValueError naming ``--device``, a device the hf engine cannot use: not a
    torch device, ``cuda`` without a GPU, ``cuda:N`` past the GPUs present. The trainer's own checks
    (`_check_device`, `pick_device`), run before the model loads: a typo would otherwise surface as
    a traceback once the whole model had loaded. None and ``auto`` (the default device) pass."""
    if device is None or device == "auto":
        return
    from rlvr.trainers.config import ConfigError, _check_device

    try:
        _check_device(device)
    except ConfigError:
        raise ValueError(f"--device {device!r} is not a torch device; use cpu, cuda or cuda:N "
                         "(or leave it out: cuda when available)") from None
    import torch

    from rlvr.trainers.policy import pick_device

    try:
        dev = pick_device(device)
    except ConfigError:
        raise ValueError(f"--device {device}: no CUDA GPU is available; use --device cpu (or leave it out)") from None
    count = torch.cuda.device_count() if dev.type == "cuda" else 0
    if dev.type == "cuda" and dev.index is not None and dev.index >= count:
        raise ValueError(f"--device {device}: this machine has {count} CUDA GPU(s), cuda:0 to cuda:{count - 1}; "
                         "pick one of them")


def load_hf_chat_engine(model: str, device: str | None = None, dtype: str = "auto"):
    """An :class:`~rlvr.trainers.hf_chat.HFChatEngine` for ``model``: ``"tiny"`` (the locally built
    tiny model) or a Hugging Face model folder / hub id. Returns ``(engine, name)``; a
    ModelLoadError when the model cannot be loaded (each command reports it in its own name).
    ``device``: None or ``"auto"`` for the default (cuda when available, else cpu; the tiny model
    too); check it first with `check_hf_device`. ``dtype``: the weights' dtype, ``"auto"`` being the
    checkpoint's own (float32 for the tiny model)."""
    import torch

    if device in (None, "auto"):
        device = "cuda" if torch.cuda.is_available() else "cpu"

    from rlvr.trainers.hf_chat import HFChatEngine

    if model == "tiny":
        from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer

        tok = build_tiny_tokenizer()
        tiny_dtype = torch.float32 if dtype == "auto" else getattr(torch, dtype)
        return HFChatEngine(build_tiny_model(tok, dtype=tiny_dtype), tok, device=device), "tiny"
    import os

    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rlvr.trainers.model_source import model_path_error

    error = model_path_error(model, lambda value: f"--model {value!r}")
    if error is not None:
        raise ModelLoadError(error)
    model = os.path.expanduser(model)
    torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
    try:
        tok = AutoTokenizer.from_pretrained(model)
        lm = AutoModelForCausalLM.from_pretrained(model, dtype=torch_dtype)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load model {model!r}: {exc}; "
                             "pass a folder written by save_pretrained, a hub id available offline, or 'tiny'") from None
    return HFChatEngine(lm, tok, device=device), model


def _port(value: str) -> int:
    """argparse type of --port: an integer from 0 to 65535 (checked before the model loads)."""
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 65535 (0 = any free port), got {value!r}")
    return port


def _listen_problem(exc: OSError, host: str, port: int) -> str:
    """Why ``host:port`` cannot be listened on, and which option to change."""
    where = "pass --host 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)"
    if isinstance(exc, socket.gaierror):
        return f"--host {host!r} is not an IPv4 address or a name this machine can resolve ({exc.strerror}); {where}"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"--host {host} is not an address of this machine ({exc.strerror}); {where}"
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is in use ({exc.strerror}); pick another --port (0 = any free one)"
    if exc.errno == errno.EACCES:
        return f"permission denied ({exc.strerror}): ports below 1024 need privileges; pick another --port (0 = any free one)"
    return f"{exc}; check --host and --port"


def _check_listen(host: str, port: int) -> None:
    """Bind a throwaway socket the way the server will (IPv4, SO_REUSEADDR), so that a bad --host or a
    port in use is reported before the model loads; raises the OSError."""
    with socket.socket(ThreadingHTTPServer.address_family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


#: Exit status after a graceful stop on SIGTERM: 128 + 15, as a shell reports a process SIGTERM ended.
EXIT_TERMINATED = 128 + signal.SIGTERM


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread by ``_terminated_as_interrupt``'s handler: a KeyboardInterrupt,
    so that it takes Ctrl-C's stop path (and a second signal during the stop cuts it short as a second
    Ctrl-C does)."""


@contextlib.contextmanager
def _terminated_as_interrupt():
    """While serving, SIGTERM (docker stop, systemd, Kubernetes) raises :class:`_Terminated` instead of
    killing the process at once, so requests under way are answered (503) as on Ctrl-C. Only the main
    thread can own a signal handler: elsewhere (rlvr serve run from a thread) SIGTERM keeps its default."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stop_on_interrupt(server: ChatCompletionServer, terminated: bool = False) -> int:
    """Ctrl-C (or SIGTERM, `terminated`): stop as :meth:`ChatCompletionServer.stop` says, then exit
    with 130 (143 for SIGTERM)."""
    status = EXIT_TERMINATED if terminated else 130
    print(f"rlvr serve: {'SIGTERM' if terminated else 'interrupted'}; stopping (requests under way get 503, at most "
          f"{STOP_GRACE_S:g}s)", file=sys.stderr, flush=True)
    try:
        stopped = server.stop(STOP_GRACE_S)
    except KeyboardInterrupt:  # a second Ctrl-C or SIGTERM: do not wait
        stopped = False
    if not stopped:
        # A request is still inside the engine. Python's shutdown with a (daemon) thread running
        # torch aborts the process (SIGABRT: "terminate called without an active exception"), so
        # end it here, without the interpreter's shutdown, once the output is flushed.
        print("rlvr serve: a request was still being computed; exiting without waiting for it", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    return status


#: Exit status when serving is refused before it starts (see the command's --help): as for the other
#: commands' bad options, so a script can tell "fix the command" from a crash (1, a traceback).
EXIT_REFUSED = 2


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "serve", help="serve a local model over the OpenAI chat-completions API",
        description="Serve a model with the hf engine at http://HOST:PORT/v1 (POST /v1/chat/completions, "
                    "GET /v1/models), so any OpenAI-compatible client or `rlvr eval --engine openai` can use it.",
        epilog="Exit status: 2 refused before serving: a bad option, a model that cannot be loaded or used, or an "
               "address that cannot be listened on (the message says what to fix); 130 stopped with Ctrl-C; 143 "
               "stopped with SIGTERM (docker stop, systemd, Kubernetes), the same way: no new connection, requests "
               "under way answered with 503.")
    p.add_argument("--model", required=True, help="a save_pretrained folder, a hub id, or 'tiny' (local random tiny model)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")
    p.add_argument("--port", type=_port, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default or auto: cuda when available)")
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
        return EXIT_REFUSED
    if not args.idle_timeout > 0 or not math.isfinite(args.idle_timeout):
        print(f"rlvr serve: --idle-timeout must be a number of seconds > 0, got {args.idle_timeout:g}", file=sys.stderr)
        return EXIT_REFUSED
    try:
        check_hf_device(args.device)
    except ValueError as exc:
        print(f"rlvr serve: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    try:
        _check_listen(args.host, args.port)
    except OSError as exc:
        print(f"rlvr serve: cannot listen on {args.host}:{args.port}: {_listen_problem(exc, args.host, args.port)}",
              file=sys.stderr)
        return EXIT_REFUSED
    try:
        engine, name = load_hf_chat_engine(args.model, args.device, args.dtype)
    except ModelLoadError as exc:
        print(f"rlvr serve: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    try:
        server = ChatCompletionServer(engine, args.served_model_name or name, args.host, args.port, max_queue=args.max_queue,
                                      idle_timeout=args.idle_timeout)
    except ModelLoadError as exc:  # e.g. no chat template: refused before listening
        print(f"rlvr serve: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except OSError as exc:  # taken since the check above
        print(f"rlvr serve: cannot listen on {args.host}:{args.port}: {_listen_problem(exc, args.host, args.port)}",
              file=sys.stderr)
        return EXIT_REFUSED
    print(f"rlvr serve: model {server.model_name!r} on {engine.device} at {server.url} "
          f"(POST {server.url}/chat/completions, GET {server.url}/models); Ctrl-C stops", flush=True)
    try:
        with _terminated_as_interrupt():
            try:
                server.serve_forever()
            except KeyboardInterrupt as exc:
                return _stop_on_interrupt(server, terminated=isinstance(exc, _Terminated))
    finally:
        server.httpd.server_close()
    return 0
