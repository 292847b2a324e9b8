"""The ``openai`` engine: chat completions from any OpenAI-compatible server, for evaluation.

It speaks the chat-completions API over HTTP (``POST {base_url}/chat/completions``) with the standard
library only, so it works against vLLM, SGLang, llama.cpp, ``rlvr serve`` or OpenAI itself.
Conversations are sent concurrently from daemon threads. The first failure ends the call at once:
conversations not yet sent are not sent, those in flight make no further attempt, and the error is
raised without waiting for them (a Ctrl-C likewise). Connection errors, 408/409/429 and 5xx
answers (except 501 and 505, which no retry changes) are retried with exponential backoff, waiting at
least what a ``Retry-After`` header asks. A 503 *with* ``Retry-After`` is a busy server, not a
failing one (``rlvr serve`` with a full queue): the request waits as asked (times a random 1 to 1.5,
so clients refused together come back apart) and is sent again as often as it takes, not counted
against ``max_retries``, for up to ``min(timeout, MAX_BUSY_S)`` seconds from the first busy answer; a
server still busy then is a :class:`ServerUnreachableError` saying so (``max_retries=0`` turns every
retry off, waiting out a busy server included). A 429 (a rate limit, or an exhausted quota that no
waiting ends) is retried ``max_retries`` times, waiting as its ``Retry-After`` asks. Another 4xx answer is an error carrying the server's message
(:class:`ContextLengthExceededError` when it refuses the conversation as longer than the context;
``generate_chat(..., refusals="return")`` puts that one in the conversation's place instead, the
others answered in the same call).
A generation that gets no whole answer within ``timeout`` is *not* re-sent: the server is up and
still working on it, and re-sending would only queue the same work again (:class:`ServerTimeoutError`).
A choice the server ended with a finish reason other than ``stop``, ``length``, ``tool_calls`` or
``function_call`` (``abort``, ``error``, ``content_filter``, or none: then nobody can tell a whole
answer from one cut off at ``max_tokens``) is an engine failure, never an answer,
and so is an answer outside the chat-completions format (not JSON, a choice without a ``message``,
a ``content`` that is not text, a legacy ``function_call`` without a name): it is never scored as the
model's reply. All errors are :class:`~rlvr.trainers.engine.EngineError` s. A legacy ``function_call``
is read as a one-entry ``tool_calls``, and reasoning the server returns apart from the answer
(``reasoning_content``, ``reasoning``) is kept in ``Sample.meta["reasoning"]``.

Greedy requests (temperature 0) ask for ``n`` choices; once a server refuses that as vLLM's does ("n
must be 1 when using greedy sampling"), they ask for one and repeat it. The length limit goes in ``max_tokens``, or ``max_completion_tokens`` once a server asks for it (OpenAI's
reasoning models; see ``OpenAIEngine(max_tokens_field=...)``).

The server returns text, not the token ids the model sampled, so this engine works at the chat level
only (:meth:`OpenAIEngine.generate_chat`): it serves evaluation, never training, and
:meth:`OpenAIEngine.generate` / :meth:`OpenAIEngine.load_weights` refuse with that explanation.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import email.utils
import http.client
import json
import os
import queue
import random
import ssl
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Sequence

from rlvr.trainers.engine import Engine, EngineError, Sample, SamplingParams

__all__ = [
    "OpenAIEngine",
    "OpenAIEngineError",
    "ServerUnreachableError",
    "ServerTimeoutError",
    "RequestRejectedError",
    "ContextLengthExceededError",
    "model_not_found",
    "MAX_TOKENS_FIELDS",
    "chat_request_body",
    "samples_from_response",
]


class OpenAIEngineError(EngineError):
    """The server could not be used (base class of the errors below)."""


class ServerUnreachableError(OpenAIEngineError):
    """No answer from the server after all retries (refused connections, or 429/5xx every time), or
    a server still busy (503 with ``Retry-After``) ``min(timeout, MAX_BUSY_S)`` seconds after its
    first busy answer."""


class ServerTimeoutError(OpenAIEngineError):
    """The server took a generation request but sent no whole answer within ``timeout`` seconds. It is
    not re-sent: the server is still computing it (or has it queued), and a copy would only add work."""


class RequestRejectedError(OpenAIEngineError):
    """The server refused the request for good: a 4xx other than 408/409/429 (model name, parameters,
    auth), or 501/505 (not implemented). ``status`` and ``body`` hold the server's answer."""

    def __init__(self, message: str, status: int, body: str):
        super().__init__(message)
        self.status = status
        self.body = body


class ContextLengthExceededError(RequestRejectedError):
    """The server refused the conversation as longer than the model's context (with ``max_tokens``,
    for servers that count it, as OpenAI's does; vLLM's and ``rlvr serve`` cap ``max_tokens`` to the
    room left and refuse only a prompt that fills the context, or a ``max_tokens`` over the whole
    context, which a first turn raises as a setting to fix): a 400 with OpenAI's code
    ``context_length_exceeded`` or a message saying so (vLLM's and OpenAI's "maximum context
    length", ``rlvr serve``'s "the model's context", vLLM's "max_tokens must be at least 1, got 0"
    for a prompt that exactly fills the context), or llama.cpp's error type
    ``exceed_context_size_error`` or its message "exceeds the available context size". Rollouts end
    a multi-turn episode that grows into it as truncated (see `rlvr.trainers.rollout`)."""


#: Words of a 400 that refuses a prompt as too long: vLLM's and OpenAI's, ``rlvr serve``'s, and
#: llama.cpp's ("the request exceeds the available context size, try increasing it").
_CONTEXT_WORDS = ("maximum context length", "the model's context", "exceeds the available context size")
#: ``error.code`` (OpenAI's) or ``error.type`` (llama.cpp's) values of the same refusal.
_CONTEXT_CODES = {"code": "context_length_exceeded", "type": "exceed_context_size_error"}
#: vLLM's refusal of a prompt that exactly fills the context: its length check refuses only longer
#: prompts, and the room left for the reply, 0 tokens, is then refused as ``max_tokens`` (this engine
#: never sends a ``max_tokens`` below 1, so the 0 is the server's computed room).
_NO_ROOM_MESSAGE = "max_tokens must be at least 1, got 0"


def context_exceeded(status: int, body: str) -> bool:
    """Whether an error answer (``status``, ``body``) refuses the prompt as longer than the context."""
    if status != 400:
        return False
    try:
        err = json.loads(body).get("error")
    except (ValueError, AttributeError):
        err = None
    if isinstance(err, dict) and any(err.get(field) == value for field, value in _CONTEXT_CODES.items()):
        return True
    message = _error_message(body).lower()
    return any(words in message for words in _CONTEXT_WORDS) or _NO_ROOM_MESSAGE in message


#: Words of a 400 that refuses ``max_tokens`` as a field the model does not take (OpenAI's: "Unsupported
#: parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.").
_UNSUPPORTED_WORDS = ("unsupported", "not supported", "use 'max_completion_tokens'", 'use "max_completion_tokens"',
                      "use max_completion_tokens")


def asks_max_completion_tokens(status: int, body: str) -> bool:
    """Whether an error answer refuses ``max_tokens`` as unsupported and asks for
    ``max_completion_tokens`` instead (OpenAI's reasoning models: "Unsupported parameter: 'max_tokens'
    is not supported with this model. Use 'max_completion_tokens' instead."). Naming both fields is
    not enough: vLLM's refusal of a too-large limit ("'max_tokens' or 'max_completion_tokens' is too
    large ... maximum context length") names both, and is a context overflow, never a switch."""
    if status != 400 or context_exceeded(status, body):
        return False
    message = _error_message(body).lower()
    if "max_completion_tokens" not in message or "max_tokens" not in message.replace("max_completion_tokens", ""):
        return False
    return any(words in message for words in _UNSUPPORTED_WORDS)


#: Words of an error ``type`` or ``code`` (and, beside the word "model", of its message) saying that
#: the requested model does not exist: OpenAI's code ``model_not_found``, vLLM's "The model `x` does
#: not exist.", Ollama's "model \"x\" not found".
_NO_MODEL_WORDS = ("model_not_found", "does not exist", "not found")


def model_not_found(status: int, body: str) -> bool:
    """Whether an error answer (``status``, ``body``) says the requested model does not exist: an
    HTTP 404 (OpenAI, vLLM, Ollama, ``rlvr serve``), or a 4xx whose error type or code says so
    (:data:`_NO_MODEL_WORDS`), or whose message does and names the model."""
    if status == 404:
        return True
    if not 400 <= status < 500:
        return False
    try:
        err = json.loads(body).get("error")
    except (ValueError, AttributeError):
        err = None
    said = " ".join(str(err.get(field) or "") for field in ("type", "code")).lower() if isinstance(err, dict) else ""
    message = _error_message(body).lower()
    return any(w in said or ("model" in message and w in message) for w in _NO_MODEL_WORDS)


#: vLLM's refusal of ``n > 1`` with greedy sampling (temperature 0).
_GREEDY_N_MESSAGE = "n must be 1 when using greedy sampling"


def refuses_greedy_n(status: int, body: str) -> bool:
    """Whether an error answer refuses ``n > 1`` with greedy sampling, as vLLM's server does."""
    return status == 400 and _GREEDY_N_MESSAGE in _error_message(body).lower()


class _Stopped(OpenAIEngineError):
    """Internal: another conversation of the same call failed (or the caller was interrupted), so
    this one makes no further attempt. The caller has raised that first failure already."""


#: The stop signal of a request outside a concurrent call: never set (waiting on it is a sleep).
_NEVER = threading.Event()

#: Finish reasons of a complete answer, and what they mean for a Sample.
_FINISHED = {"stop": "stop", "tool_calls": "stop", "function_call": "stop", "length": "length"}
#: The longest wait a server's Retry-After can impose before a retry (seconds).
MAX_RETRY_AFTER = 60.0
#: Statuses that, with a ``Retry-After``, say the server is busy rather than failing: the request
#: waits and is sent again for up to ``min(timeout, MAX_BUSY_S)`` seconds, not counted against
#: ``max_retries`` (unless that is 0: no retry at all). Not 429: a rate limit or an exhausted quota
#: (``Retry-After: 3600``) is no queue that empties, and is retried ``max_retries`` times.
BUSY_STATUSES = (503,)
#: The longest a request waits out a busy server (seconds, from its first busy answer; less when
#: ``timeout`` is shorter). ``rlvr eval``'s 30-minute timeout would keep each request waiting that
#: long without a word.
MAX_BUSY_S = 600.0
#: The shortest wait before asking a busy server again (seconds; ``Retry-After: 0`` with ``backoff=0``).
MIN_BUSY_WAIT = 0.05
#: The ``GET /models`` probe (asking the server its model's name) waits this long at most for an
#: answer (less when ``timeout`` is shorter), and gives up after this many timed-out attempts: a
#: working server lists its models at once, and the generation timeout (``rlvr eval``'s is 30
#: minutes), retried, would leave the user of a hung server without a word for hours.
MODELS_TIMEOUT = 30.0
MODELS_TIMEOUT_ATTEMPTS = 2


def retryable_status(status: int) -> bool:
    """Whether an HTTP status is worth retrying: 408, 409, 429 and every 5xx (server trouble, e.g.
    529 "overloaded"), except 501 and 505, which say the server will never do this request."""
    return status in (408, 409, 429) or (500 <= status <= 599 and status not in (501, 505))


#: The request fields that can carry the reply's length limit: the legacy ``max_tokens`` (which
#: every server reads), and ``max_completion_tokens``, the only one OpenAI's reasoning models accept
#: (vLLM, SGLang and ``rlvr serve`` read both).
MAX_TOKENS_FIELDS = ("max_tokens", "max_completion_tokens")


def chat_request_body(
    conversation: Sequence[dict[str, Any]],
    n: int,
    sampling: SamplingParams,
    model: str,
    *,
    tools: list[dict[str, Any]] | None = None,
    logprobs: bool = False,
    max_tokens_field: str = "max_tokens",
) -> dict[str, Any]:
    """The JSON body of one ``/chat/completions`` request. Optional fields are sent only when set,
    since some servers reject fields they do not know (``stop_token_ids`` is a vLLM extension).
    ``max_tokens_field``: the field that carries ``sampling.max_new_tokens`` (see :data:`MAX_TOKENS_FIELDS`)."""
    if max_tokens_field not in MAX_TOKENS_FIELDS:
        raise ValueError(f"max_tokens_field must be one of {MAX_TOKENS_FIELDS}, got {max_tokens_field!r}")
    body: dict[str, Any] = {
        "model": model,
        "messages": list(conversation),
        "n": int(n),
        "temperature": float(sampling.temperature),
        "top_p": float(sampling.top_p),
        max_tokens_field: int(sampling.max_new_tokens),
    }
    if sampling.stop:
        body["stop"] = list(sampling.stop)
    if sampling.stop_token_ids:
        body["stop_token_ids"] = list(sampling.stop_token_ids)
    if sampling.seed is not None:
        body["seed"] = int(sampling.seed)
    if logprobs:
        body["logprobs"] = True
    if tools:
        body["tools"] = list(tools)
    return body


def _checked_tool_calls(tool_calls: Any, index: int) -> list[dict[str, Any]]:
    """A choice's ``tool_calls`` as the chat-completions format has them: a list of objects.

    Anything else is the server breaking the format (a model's malformed call still comes as such an
    object, with bad ``arguments``, which the env reports to the model), so it is an engine error
    rather than a crash further on or a bad call blamed on the model."""
    if not isinstance(tool_calls, list) or not all(isinstance(call, dict) for call in tool_calls):
        raise OpenAIEngineError(
            f"the server's choice {index} has 'tool_calls' that are not a list of objects "
            f"({json.dumps(tool_calls, default=str)[:200]}); the server does not follow the chat-completions format")
    return tool_calls


def _malformed(what: str) -> OpenAIEngineError:
    """The error for an answer outside the chat-completions format: an infrastructure failure
    (``rlvr eval`` stops with exit 4 and resumes later), never a reply scored as the model's."""
    return OpenAIEngineError(f"the server's answer is malformed: {what}; the server does not follow the chat-completions "
                             "format (check its version and log), so nothing of it is scored")


def _shown(value: Any) -> str:
    """A short JSON rendering of a value for an error message."""
    return json.dumps(value, default=str)[:200]


def _choice_index(choice: Any, position: int) -> int:
    """The ``index`` of a choice (its position in the list when the server sends none, or null)."""
    if not isinstance(choice, dict):
        raise _malformed(f"choice {position} is {_shown(choice)}, not an object")
    index = choice.get("index")
    if index is None:
        return position
    if isinstance(index, bool) or not isinstance(index, int):
        raise _malformed(f"choice {position} has the index {_shown(index)}, not an integer")
    return index


def _message_text(content: Any, index: int, field: str = "content") -> str:
    """A message's ``content`` (or other text ``field``) as one string: a string as is, null as ""
    (a reply with tool calls only, or no text), a list of text parts (``[{"type": "text", "text":
    ...}]``; servers speaking the Responses API's vocabulary call them ``"output_text"``) concatenated."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(
            isinstance(part, dict) and part.get("type") in ("text", "output_text") and isinstance(part.get("text"), str)
            for part in content):
        return "".join(part["text"] for part in content)
    raise _malformed(f"choice {index} has a '{field}' that is neither a string nor a list of text parts: {_shown(content)}")


#: The message fields in which servers return the reasoning they parsed out of the reply (vLLM's and
#: SGLang's ``reasoning_content`` with a reasoning parser; newer vLLM's ``reasoning``), first found kept.
_REASONING_FIELDS = ("reasoning_content", "reasoning")


def _reasoning(message: dict[str, Any], index: int) -> str:
    """The reasoning a server returned beside a message's ``content`` ("" when none). It is not part of
    the answer the env judges, but dropping it would lose the model's work from the saved samples, and
    from a reply cut off at ``max_tokens`` while still reasoning (``content`` empty) everything."""
    for field in _REASONING_FIELDS:
        value = message.get(field)
        try:
            text = _message_text(value, index, field)
        except OpenAIEngineError:  # a shape of its own: kept as its JSON (it is never judged, so no error)
            text = json.dumps(value, ensure_ascii=False, default=str)
        if text:
            return text
    return ""


def _legacy_function_call(call: Any, index: int) -> list[dict[str, Any]]:
    """A legacy ``function_call`` (``{"name": ..., "arguments": "<JSON>"}``, the API before
    ``tool_calls``) as a one-entry ``tool_calls`` list, so the env runs it like any call. It has no
    id (the legacy format has none): the env gives it one that is unique in the episode and the same
    on every run (`rlvr.envs.toolcalls.call_ids`: ``call_<turn>_<k>``), where an id made from the call
    alone would repeat when the model repeats the call, which servers that need unique ids refuse.
    Anything but an object with a non-empty ``name`` and ``arguments`` given as text (or an object) is
    the server breaking the format: an error, never an empty answer scored as the model's."""
    if not isinstance(call, dict) or not isinstance(call.get("name"), str) or not call["name"]:
        raise _malformed(f"choice {index} has a 'function_call' that is not an object with a 'name': {_shown(call)}")
    arguments = call.get("arguments")
    if not isinstance(arguments, (str, dict)):
        raise _malformed(f"choice {index} has a 'function_call' whose 'arguments' are not text: {_shown(call)}")
    return [{"type": "function", "function": {"name": call["name"], "arguments": arguments}}]


def _token_logprobs(logprobs: Any, index: int) -> tuple[list[float], list[str]] | None:
    """(log-probs, tokens) of a choice's ``logprobs.content``, or None when it has none."""
    if logprobs is None:
        return None
    content = logprobs.get("content") if isinstance(logprobs, dict) else logprobs
    if not content:
        return None
    if not isinstance(content, list) or not all(
            isinstance(t, dict) and isinstance(t.get("logprob"), (int, float)) and not isinstance(t.get("logprob"), bool)
            and isinstance(t.get("token", ""), str) for t in content):
        raise _malformed(f"choice {index} has 'logprobs' that are not a list of {{'token': str, 'logprob': number}}: "
                         f"{_shown(logprobs)}")
    return [float(t["logprob"]) for t in content], [t.get("token", "") for t in content]


def _sample_from_choice(choice: dict[str, Any], index: int, usage: Any) -> Sample:
    """The Sample of one choice (see :func:`samples_from_response`); an unfinished or malformed
    choice is an :class:`OpenAIEngineError`."""
    raw_reason = choice.get("finish_reason")
    if raw_reason is not None and not isinstance(raw_reason, str):
        raise _malformed(f"choice {index} has the finish_reason {_shown(raw_reason)}, not a string")
    if raw_reason is None:  # absent or null: complete, or cut off at max_tokens? nobody can tell
        raise OpenAIEngineError(
            f"the server gave choice {index} no finish_reason, so whether it is a whole answer or one cut off at "
            "max_tokens is unknown: it is not scored. An OpenAI-compatible server sets finish_reason on every "
            "choice of a non-streamed answer; fix the server (or the proxy in front of it) and rerun")
    if raw_reason not in _FINISHED:  # e.g. vLLM's "abort", "error"; OpenAI's "content_filter"
        raise OpenAIEngineError(
            f"the server ended choice {index} with finish_reason={raw_reason!r} (aborted, failed "
            "or filtered by the server): that is not the model's answer, so it is not scored; fix the server "
            "and rerun (rlvr eval resumes from the samples already saved)")
    message = choice.get("message")
    if not isinstance(message, dict):
        raise _malformed(f"choice {index} has no 'message' object (got {_shown(message)})")
    text = _message_text(message.get("content"), index)
    meta: dict[str, Any] = {"finish_reason": raw_reason}
    stop_reason = choice.get("stop_reason")  # vLLM's extension: the stop string (or token id) that ended it
    if raw_reason == "stop" and (isinstance(stop_reason, str)
                                 or (isinstance(stop_reason, int) and not isinstance(stop_reason, bool))):
        # a stop string, or the id of a stop_token_ids token: left out of the text, as OpenAI's API
        # does a stop string; rollouts put it back (a token's text decoded with the model's tokenizer)
        meta["stop_reason"] = stop_reason
    if message.get("tool_calls"):
        meta["tool_calls"] = _checked_tool_calls(message["tool_calls"], index)
    elif message.get("function_call") is not None:  # the legacy form of one call (OpenAI's API before tool_calls)
        meta["tool_calls"] = _legacy_function_call(message["function_call"], index)
    reasoning = _reasoning(message, index)
    if reasoning:
        meta["reasoning"] = reasoning
    token_logprobs = _token_logprobs(choice.get("logprobs"), index)
    if token_logprobs is not None:
        meta["token_logprobs"], meta["tokens"] = token_logprobs
    if usage:
        meta["usage"] = usage
    return Sample(token_ids=[], logprobs=[], finish_reason=_FINISHED[raw_reason], text=text, meta=meta)  # type: ignore[arg-type]


def samples_from_response(response: dict[str, Any]) -> list[Sample]:
    """Samples from a chat-completions response, in choice-index order.

    Text-level: ``token_ids`` and ``logprobs`` stay empty (the server does not say which ids it
    sampled). ``meta`` holds ``tool_calls`` (when the server returned some; a legacy ``function_call``
    comes as a one-entry list), ``reasoning`` (the text of ``reasoning_content`` or ``reasoning``, when
    the server returned the model's reasoning apart from its answer), ``token_logprobs`` (when
    requested and returned), ``finish_reason`` as the server said it, ``stop_reason`` (the stop string
    that ended a ``stop`` choice, or the id of the ``stop_token_ids`` token, when the server says which,
    as vLLM does) and the response's ``usage``.
    Anything outside the format (a choice that is not an object or has no ``message``, a ``content``
    neither text nor text parts, a null log-prob...) is an :class:`OpenAIEngineError` naming it.
    """
    choices = response.get("choices") if isinstance(response, dict) else None
    if not isinstance(choices, list):
        raise OpenAIEngineError(f"the server's answer has no 'choices' list: {json.dumps(response, default=str)[:300]}")
    indexed = [(_choice_index(choice, position), choice) for position, choice in enumerate(choices)]
    usage = response.get("usage")
    return [_sample_from_choice(choice, index, usage) for index, choice in sorted(indexed, key=lambda pair: pair[0])]


class OpenAIEngine(Engine):
    """Client of an OpenAI-compatible server.

    ``base_url``: the API root, e.g. ``http://127.0.0.1:8000/v1``. ``model``: the served model's name;
    ``None`` asks the server (``GET /models``) and takes the first. ``api_key``: sent as a bearer token
    (default: ``$OPENAI_API_KEY`` if set). ``timeout``: seconds to wait for the server's answer to one
    request, generation included (a request queued behind others waits for them too), and for the
    whole of its body (a server trickling bytes cannot stretch it; the status line and headers are
    read with ``timeout`` per read): a generation that takes longer raises
    :class:`ServerTimeoutError`. ``max_retries``: extra attempts after a connection error,
    408/409/429 or 5xx, waiting ``backoff * 2**attempt`` seconds in between, or longer when the
    server's ``Retry-After`` says so. A busy answer (503 with ``Retry-After``, see
    :data:`BUSY_STATUSES`) is not one of them: it is waited out (as asked, with jitter) and sent
    again for up to ``min(timeout, MAX_BUSY_S)`` seconds from the first busy answer, then
    :class:`ServerUnreachableError`;
    ``max_retries=0`` sends each request once, busy or not (fail fast). ``concurrency``: conversations in flight at once.
    ``logprobs``: ask the server for per-token log-probs (returned in ``Sample.meta["token_logprobs"]``).
    Asking the model's name (``model=None``) waits ``models_timeout`` seconds at most per attempt
    (see :data:`MODELS_TIMEOUT`).

    ``max_tokens_field``: the request field of the length limit, ``"max_tokens"`` or
    ``"max_completion_tokens"`` (:data:`MAX_TOKENS_FIELDS`); ``None`` (the default) sends
    ``max_tokens`` until a server refuses it with a 400 asking for ``max_completion_tokens`` (OpenAI's
    reasoning models do), then resends that request and all later ones with ``max_completion_tokens``.

    With a ``seed``, conversation ``i`` is sent ``seed + i * n``: a server seeds its ``j``-th choice
    ``seed + j`` (vLLM does), so every conversation draws its own random numbers.
    Greedy sampling (temperature 0) asks for ``n`` choices as other sampling does (OpenAI's hosted
    models and other nondeterministic servers return different ones). vLLM's server refuses ``n > 1``
    with greedy sampling ("n must be 1 when using greedy sampling"): after that refusal the request
    is sent again asking for one choice, repeated ``n`` times (copies; its greedy replies are the same
    anyway, as the vllm engine does it), and so are all later greedy requests of the engine.
    """

    #: A chat-level engine even with a tokenizer beside it (``generate`` refuses): a rollout collector
    #: given the model's tokenizer drives it through :meth:`generate_chat` and uses the tokenizer only
    #: to decode the ``stop_token_ids`` token a server names as ``stop_reason`` (see rollout.py).
    chat_only = True

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        *,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        concurrency: int = 8,
        logprobs: bool = False,
        max_tokens_field: str | None = None,
    ):
        if max_tokens_field is not None and max_tokens_field not in MAX_TOKENS_FIELDS:
            raise ValueError(f"max_tokens_field must be None (automatic) or one of {MAX_TOKENS_FIELDS}, got {max_tokens_field!r}")
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL such as http://127.0.0.1:8000/v1, got {base_url!r}")
        if timeout <= 0 or max_retries < 0 or backoff < 0 or concurrency < 1:
            raise ValueError("timeout must be > 0, max_retries >= 0, backoff >= 0 and concurrency >= 1")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.concurrency = int(concurrency)
        self.logprobs = bool(logprobs)
        self.models_timeout = min(self.timeout, MODELS_TIMEOUT)
        self._model = model
        #: whether the field may still switch to max_completion_tokens (None given); max_tokens_field
        #: is the one sent now
        self._switch_field = max_tokens_field is None
        self.max_tokens_field = max_tokens_field or "max_tokens"
        #: set (for good) once a server refused n > 1 with greedy sampling: greedy requests then ask
        #: for one choice and copy it. (Only ever set to True, so threads need no lock.)
        self.greedy_single = False

    # ------------------------------------------------------------------ Engine API

    def generate(self, prompts_token_ids: Sequence[Sequence[int]], n: int, sampling: SamplingParams) -> list[list[Sample]]:
        raise NotImplementedError(
            "the openai engine works at the chat level: an OpenAI-compatible server returns text, not the "
            "token ids it sampled, so it serves evaluation only (no training); call generate_chat(conversations, "
            "n, sampling), or use the hf or vllm engine to train"
        )

    def load_weights(self, weights: Any) -> None:
        raise NotImplementedError(
            "the openai engine cannot receive weights: it talks to a server that owns its model; it serves "
            "evaluation only (train with the hf or vllm engine)"
        )

    def close(self) -> None:
        """Nothing to release: every request opens and closes its own connection."""

    # ------------------------------------------------------------------ chat level

    @property
    def model(self) -> str:
        """The model name sent with every request (asked from the server once when not given)."""
        if self._model is None:
            listing = self._request("GET", "/models", timeout=self.models_timeout,
                                    timeout_attempts=MODELS_TIMEOUT_ATTEMPTS)
            data = listing.get("data") if isinstance(listing, dict) else None
            if not isinstance(data, list) or not data:
                raise OpenAIEngineError(f"{self.base_url}/models lists no model; pass model=NAME explicitly")
            name = data[0].get("id") if isinstance(data[0], dict) else None
            if not isinstance(name, str) or not name:
                raise OpenAIEngineError(f"{self.base_url}/models lists {_shown(data[0])} first, not a model with an 'id': "
                                        "the server does not follow the API; pass model=NAME explicitly")
            self._model = name
        return self._model

    def check_server(self) -> list[str] | None:
        """Raise :class:`ServerUnreachableError` unless the server answers ``GET /models`` within the
        probe's short timeout (:data:`MODELS_TIMEOUT`, two tries). With the model named, nothing else
        asks the server anything before the first generation, which waits the generation timeout: a
        hung server would be found only then. Any answer counts as up, an error page included (a
        server without ``/models``), except a refusal that generation would get too (401, 403).

        Returns the model names the server lists (the ``id`` of each entry of ``data``), so that a
        caller can refuse a model name the server does not serve before starting any work; None
        when the answer is not such a list (an error page, an empty or odd listing): nothing is
        known then, and the first generation finds out."""
        try:
            listing = self._request("GET", "/models", timeout=self.models_timeout,
                                    timeout_attempts=MODELS_TIMEOUT_ATTEMPTS)
        except RequestRejectedError as exc:
            if exc.status in (401, 403):
                raise
            return None
        except ServerUnreachableError:
            raise
        except OpenAIEngineError:  # an answer, though not a model listing: the server is up
            return None
        data = listing.get("data") if isinstance(listing, dict) else None
        names = [m["id"] for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)] if isinstance(data, list) else []
        return names or None

    def probe_model(self) -> None:
        """Ask the server for one token of :attr:`model` (a one-word chat, ``max_tokens`` 1), with
        the ``GET /models`` check's timeouts (:data:`MODELS_TIMEOUT`, two tries): for a model name
        the server does not list, whether it serves it anyway (TGI and llama-server serve their one
        model under any name; Azure lists base models and serves deployment names). Returns when
        the server answers; raises as a request does: :class:`RequestRejectedError` when refused
        (:func:`model_not_found` tells a missing model), :class:`ServerTimeoutError` when no answer
        came within :attr:`models_timeout`, :class:`ServerUnreachableError`."""
        body = {"model": self.model, "messages": [{"role": "user", "content": "Hi"}], self.max_tokens_field: 1}
        self._request("POST", "/chat/completions", body, timeout=self.models_timeout,
                      timeout_attempts=MODELS_TIMEOUT_ATTEMPTS)

    def generate_chat(
        self,
        conversations: Sequence[Sequence[dict[str, Any]]],
        n: int,
        sampling: SamplingParams,
        tools: list[dict[str, Any]] | None = None,
        *,
        refusals: str = "raise",
    ) -> list[Any]:
        """Sample ``n`` assistant replies to every conversation; result ``[conversation][sample]``.

        If the server returns fewer than ``n`` choices (some servers ignore ``n``), the missing ones are
        asked for again, with a different seed when one is set. The first failure is raised as soon as
        it happens, and the other conversations stop (see :func:`_map_in_threads`).

        ``refusals="return"``: a conversation the server refuses as longer than the model's context
        gets its :class:`ContextLengthExceededError` in its place instead of failing the call, and the
        others go on. Each conversation is its own request, so the answers of the others are kept as
        they are (the same seeds, the same samples as a call without the refused one); a caller needs
        no second call to find which one was refused. Any other error still fails the whole call."""
        if refusals not in ("raise", "return"):
            raise ValueError(f"refusals must be 'raise' or 'return', got {refusals!r}")
        if n < 1:
            raise ValueError(f"n (samples per conversation) must be >= 1, got {n}")
        if not isinstance(sampling, SamplingParams):
            raise TypeError(f"sampling must be a SamplingParams, got {type(sampling).__name__}")
        for i, conv in enumerate(conversations):
            if not isinstance(conv, (list, tuple)) or not conv or not all(isinstance(m, dict) and "role" in m for m in conv):
                raise ValueError(f"conversation {i} must be a non-empty list of {{'role': ..., 'content': ...}} messages")
        model = self.model
        stop = threading.Event()

        def complete(i: int) -> Any:
            try:
                return self._complete(conversations[i], n, sampling, model, tools, i, stop)
            except ContextLengthExceededError as exc:
                if refusals == "return":
                    return exc
                raise

        if len(conversations) <= 1 or self.concurrency == 1:
            return [complete(i) for i in range(len(conversations))]
        return _map_in_threads(complete, len(conversations), min(self.concurrency, len(conversations)), stop)

    def _complete(self, conversation, n, sampling, model, tools, index: int = 0, stop: threading.Event = _NEVER) -> list[Sample]:
        """The ``n`` choices of conversation ``index``. Its seed is ``seed + index * n``, plus the
        number of choices already received when a server returned fewer than asked, so no two
        choices of one call share a seed (a server gives its ``j``-th choice ``seed + j``).
        ``stop`` set: no further request is made (another conversation of the call failed).
        Greedy (temperature 0): once a server has refused ``n > 1`` then (vLLM), one choice is asked
        for and stands for all ``n`` (copies); the refused request is sent again so."""
        greedy = sampling.temperature == 0 and n > 1
        if not (greedy and self.greedy_single):
            try:
                return self._choices(conversation, n, n, sampling, model, tools, index, stop)
            except RequestRejectedError as exc:
                if not (greedy and refuses_greedy_n(exc.status, exc.body)):
                    raise
            self.greedy_single = True
        return self._choices(conversation, n, 1, sampling, model, tools, index, stop)

    def _choices(self, conversation, n, wanted, sampling, model, tools, index, stop) -> list[Sample]:
        """``n`` choices from ``wanted`` asked for (``n``, or 1 repeated ``n`` times), in at most
        ``wanted`` round trips: see :meth:`_complete`."""
        samples: list[Sample] = []
        for _ in range(wanted):  # at most `wanted` round trips even if the server returns one choice each
            params = sampling
            if sampling.seed is not None:
                params = dataclasses.replace(sampling, seed=sampling.seed + index * n + len(samples))
            samples.extend(samples_from_response(self._post_chat(conversation, wanted - len(samples), params, model, tools, stop)))
            if len(samples) >= wanted:
                return [samples[i] if wanted > 1 or i == 0 else copy.deepcopy(samples[0]) for i in range(n)]
        raise OpenAIEngineError(f"the server returned {len(samples)} choices for n={wanted} after {wanted} requests")

    def _post_chat(self, conversation, n, sampling, model, tools, stop: threading.Event) -> Any:
        """The answer to one ``POST /chat/completions``. With ``max_tokens_field=None``, a 400 refusing
        ``max_tokens`` as unsupported and asking for ``max_completion_tokens`` instead (never a context
        overflow, though vLLM's names both fields) switches the engine to it for good, and
        the request is sent again with it (once: a server that refuses both gets the error)."""
        field = self.max_tokens_field
        body = chat_request_body(conversation, n, sampling, model, tools=tools, logprobs=self.logprobs, max_tokens_field=field)
        try:
            return self._request("POST", "/chat/completions", body, stop)
        except RequestRejectedError as exc:
            if (isinstance(exc, ContextLengthExceededError) or not self._switch_field or field != "max_tokens"
                    or not asks_max_completion_tokens(exc.status, exc.body)):
                raise
        self.max_tokens_field = "max_completion_tokens"  # (several threads may set it: the same value)
        body["max_completion_tokens"] = body.pop("max_tokens")
        return self._request("POST", "/chat/completions", body, stop)

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None, stop: threading.Event = _NEVER, *,
                 timeout: float | None = None, timeout_attempts: int | None = None) -> Any:
        """The JSON answer of one API call, retried as the class says. ``stop`` is checked before
        every attempt and ends a retry's wait early: once set, :class:`_Stopped` is raised instead of
        sending again (the call this request belongs to has failed already). ``timeout``: this
        call's, instead of the engine's; ``timeout_attempts``: give up (:class:`ServerUnreachableError`)
        after that many attempts timed out, rather than after ``max_retries``."""
        timeout = self.timeout if timeout is None else timeout
        timed_out = 0
        url = self.base_url + path
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last, wait = "", 0.0
        attempts = failures = 0
        busy_until: float | None = None  # busy answers are waited out until then (see _busy_wait)
        while True:
            if attempts:
                stop.wait(wait)
            if stop.is_set():
                raise _Stopped(f"{method} {url}: not sent, another request of the same call failed")
            attempts += 1
            wait = 0.0
            req = urllib.request.Request(url, data=data, headers=headers, method=method)
            deadline = time.monotonic() + timeout  # for the whole answer, not each read of it
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    raw = _read_body(resp, deadline)
            except urllib.error.HTTPError as exc:
                text = _error_body(exc, deadline)
                if not retryable_status(exc.code):
                    rejected = ContextLengthExceededError if context_exceeded(exc.code, text) else RequestRejectedError
                    raise rejected(f"{method} {url} was rejected with HTTP {exc.code}: {_error_message(text)}", exc.code, text) from None
                last = f"HTTP {exc.code}: {_error_message(text)}"
                asked = _retry_after(exc.headers.get("Retry-After"))
                if exc.code in BUSY_STATUSES and asked is not None and self.max_retries:  # busy, not failing
                    if busy_until is None:
                        busy_until = time.monotonic() + min(timeout, MAX_BUSY_S)
                    wait = self._busy_wait(asked, busy_until, f"{method} {url}", min(timeout, MAX_BUSY_S), attempts, last)
                    continue
                wait = asked or 0.0
            except TimeoutError as exc:
                # urllib wraps a timeout while connecting or sending in URLError: a bare timeout means
                # the request was sent and the answer did not come (in full) in time. Re-sending a
                # generation would queue it a second time on a server that is still working on the first.
                if method == "POST":
                    raise ServerTimeoutError(
                        f"{method} {url}: the server took the request but did not answer in full within timeout={self.timeout:g}s "
                        "(a long generation, or requests queued behind each other on the server); raise the timeout "
                        "(`rlvr eval --timeout SECONDS`, OpenAIEngine(timeout=...)) or lower --concurrency / --max-tokens"
                    ) from None
                last = f"{type(exc).__name__}: {exc}"
                timed_out += 1
                if timeout_attempts is not None and timed_out >= timeout_attempts:
                    raise ServerUnreachableError(_no_answer(method, url, timeout, timed_out, connected=True)) from None
            except (urllib.error.URLError, http.client.HTTPException, ConnectionError,
                    ssl.SSLEOFError, ssl.SSLZeroReturnError) as exc:  # (a TLS connection cut: as a reset one)
                reason = getattr(exc, "reason", exc)
                last = f"{type(reason).__name__}: {reason}"
                if isinstance(reason, TimeoutError):  # no connection within the timeout
                    timed_out += 1
                    if timeout_attempts is not None and timed_out >= timeout_attempts:
                        raise ServerUnreachableError(_no_answer(method, url, timeout, timed_out, connected=False)) from None
            except OSError as exc:  # e.g. an ssl.SSLError while reading the answer
                raise OpenAIEngineError(
                    f"{method} {url}: reading the server's answer failed ({type(exc).__name__}: {exc}); check the "
                    "server (or the proxy or TLS terminator in front of it) and rerun"
                ) from None
            else:
                try:
                    return json.loads(raw)
                except ValueError:  # not JSON, or not UTF-8 (e.g. a proxy's error page)
                    raise OpenAIEngineError(f"{method} {url} answered with something that is not JSON: {raw[:200]!r}") from None
            failures += 1  # a failed attempt (refused connection, 5xx, 429 without Retry-After...)
            if failures > self.max_retries:
                break
            wait = max(wait, self.backoff * 2 ** (failures - 1))
        if last.startswith("HTTP 429"):
            hint = ("the server kept refusing with 429 Too Many Requests: a rate limit, or a quota that is used up "
                    "(check the account's limits and quota), or send fewer requests at once (--concurrency)")
        elif last.startswith("HTTP "):  # the server is there, but busy or failing
            hint = "the server is up but kept failing or was busy: check its log, or retry later with fewer requests at once (--concurrency)"
        else:
            hint = ("check that an OpenAI-compatible server is running there (e.g. `rlvr serve --model tiny` or "
                    "`vllm serve MODEL`) and that base_url ends with /v1")
        raise ServerUnreachableError(f"no usable answer from {url} after {attempts} attempt(s) (last: {last}); {hint}")

    def _busy_wait(self, asked: float, busy_until: float, what: str, budget: float, attempts: int, last: str) -> float:
        """Seconds to wait before asking a busy server (503 with ``Retry-After``) again: what it
        asked (at least ``backoff``) times a random factor from 1 to 1.5, so that clients refused
        together do not all come back together into a queue as full, cut to the time left before
        ``busy_until`` (the first busy answer plus ``budget``, i.e. ``min(timeout, MAX_BUSY_S)``).
        Once that time is spent, a :class:`ServerUnreachableError` says the server stayed busy: a
        server answering 503 forever ends the call after ``budget`` seconds (plus one answer), not never."""
        left = busy_until - time.monotonic()
        if left <= 0:
            raise ServerUnreachableError(
                f"{what}: the server stayed busy for {budget:g}s ({attempts} answer(s) asking to retry later; "
                f"last: {last}); it has more work than it can take: send fewer requests at once (--concurrency), raise "
                f"the timeout (`rlvr eval --timeout SECONDS`, OpenAIEngine(timeout=...); a busy server is waited out "
                f"for at most {MAX_BUSY_S:g}s) or let the server queue more (`rlvr serve --max-queue`)")
        return min(max(asked, self.backoff, MIN_BUSY_WAIT) * random.uniform(1.0, 1.5), left)


def _no_answer(method: str, url: str, timeout: float, attempts: int, connected: bool) -> str:
    """Why a request that timed out ``attempts`` times is given up, and what to check."""
    what = ("accepted the connection but sent no answer" if connected else "could not be connected to")
    return (f"{method} {url}: the server {what} within {timeout:g}s, {attempts} time(s): it is hung or overloaded, "
            f"or what is there is not an OpenAI-compatible server (a dead tunnel, a firewall dropping packets); "
            f"check it (its log, `curl {url}`)")


def _map_in_threads(fn: Callable[[int], Any], count: int, workers: int, stop: threading.Event) -> list[Any]:
    """``[fn(0), ..., fn(count - 1)]`` computed on ``workers`` daemon threads, results in order.

    The first failure is raised as soon as it happens, and it (or an interrupt of the caller, e.g.
    Ctrl-C) sets ``stop``: no item not yet started is begun, and items in flight make no further
    attempt (``_request`` checks ``stop``). Otherwise a failing or stalled server would get every
    remaining request, and the error would surface only after all of them (hours with ``rlvr eval``'s
    timeout). Daemon threads, not a ThreadPoolExecutor: a pool's threads are joined at exit, so the
    process would still wait for the requests in flight (up to ``timeout`` each) after an error."""
    items = iter(range(count))
    take = threading.Lock()
    finished: queue.SimpleQueue = queue.SimpleQueue()

    def work() -> None:
        while not stop.is_set():
            with take:
                i = next(items, None)
            if i is None:
                return
            try:
                finished.put((i, fn(i), None))
            except BaseException as exc:  # handed to the caller, which raises it
                finished.put((i, None, exc))
                return

    for _ in range(workers):
        threading.Thread(target=work, name="rlvr-openai-request", daemon=True).start()
    results: list[Any] = [None] * count
    try:
        for _ in range(count):
            i, value, exc = _next_finished(finished)
            if exc is not None:
                raise exc
            results[i] = value
    finally:
        stop.set()
    return results


def _next_finished(finished: queue.SimpleQueue) -> Any:
    """The next item of `finished`, waited for in slices of 0.1 s rather than in one blocking wait.

    A Ctrl-C that arrives just before a blocking wait begins has its handler run already, so it
    does not wake the wait: the caller would sit there until some request answered (up to
    ``timeout``). Between slices Python runs the pending handler, so the interrupt is raised at once.
    """
    while True:
        try:
            return finished.get(timeout=0.1)
        except queue.Empty:
            continue


def _read_body(resp: Any, deadline: float) -> bytes:
    """The whole body of ``resp`` (an HTTP response), read before ``deadline`` (``time.monotonic()``).

    A socket's timeout bounds each read only: a server (or proxy) sending a byte now and then would
    keep a request alive without limit. So the body is read one system call at a time, each with the
    time left as its timeout, and running out of time raises :class:`TimeoutError` as a silent server
    does. A body cut short of its ``Content-Length`` is an ``IncompleteRead`` (retried as a failed
    connection)."""
    sock = _socket_of(resp)
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the answer did not arrive in full in time")
        if sock is not None and sock.fileno() != -1:  # (Python 3.13 closes it once the whole length is read)
            sock.settimeout(left)
        chunk = resp.read1(1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    body = b"".join(chunks)
    missing = getattr(resp, "length", None)
    if missing:  # the connection ended before the promised length came
        raise http.client.IncompleteRead(body, missing)
    return body


def _socket_of(resp: Any) -> Any:
    """The socket an ``http.client.HTTPResponse`` reads from (``resp.fp`` is a buffered reader over a
    ``socket.SocketIO``), or None for anything else (then each read keeps the connection's timeout)."""
    return getattr(getattr(getattr(resp, "fp", None), "raw", None), "_sock", None)


def _error_body(exc: urllib.error.HTTPError, deadline: float) -> str:
    """The body of an HTTP error answer as text, or a placeholder when it cannot be read in time or
    in full (a stalled or reset connection): the status alone decides between retry and rejection."""
    try:
        return _read_body(exc.fp, deadline).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as err:
        return f"(the error body could not be read: {type(err).__name__})"


def _retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait, given as seconds or as an HTTP date (capped
    at MAX_RETRY_AFTER, at least 0); None when absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.timezone.utc)
        seconds = (when - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    if not seconds == seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _error_message(text: str) -> str:
    """The ``error.message`` of an OpenAI-style error body, or the body itself (shortened)."""
    try:
        err = json.loads(text).get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        if isinstance(err, str):
            return err
    except (ValueError, AttributeError):
        pass
    return text.strip()[:500] or "(empty body)"
