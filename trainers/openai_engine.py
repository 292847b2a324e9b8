"""The ``openai`` engine: chat completions from any OpenAI-compatible server, for evaluation.

It speaks the chat-completions API over HTTP (``POST {base_url}/chat/completions``) with the standard
library only, so it works against vLLM, SGLang, llama.cpp, ``rlvr serve`` or OpenAI itself.
Conversations are sent concurrently from a thread pool. Connection errors, timeouts, 429 and 5xx
answers are retried with exponential backoff; a 4xx answer is an error carrying the server's message.

The server returns text, not the token ids the model sampled, so this engine works at the chat level
only (:meth:`OpenAIEngine.generate_chat`): it serves evaluation, never training, and
:meth:`OpenAIEngine.generate` / :meth:`OpenAIEngine.load_weights` refuse with that explanation.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

from rlvr.trainers.engine import Engine, Sample, SamplingParams

__all__ = [
    "OpenAIEngine",
    "OpenAIEngineError",
    "ServerUnreachableError",
    "RequestRejectedError",
    "chat_request_body",
    "samples_from_response",
]


class OpenAIEngineError(RuntimeError):
    """The server could not be used (base class of the errors below)."""


class ServerUnreachableError(OpenAIEngineError):
    """No answer from the server after all retries (refused, timed out, or kept failing with 5xx)."""


class RequestRejectedError(OpenAIEngineError):
    """The server answered 4xx: the request is wrong (model name, parameters, auth). ``status`` and
    ``body`` hold the server's answer."""

    def __init__(self, message: str, status: int, body: str):
        super().__init__(message)
        self.status = status
        self.body = body


_RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


def chat_request_body(
    conversation: Sequence[dict[str, Any]],
    n: int,
    sampling: SamplingParams,
    model: str,
    *,
    tools: list[dict[str, Any]] | None = None,
    logprobs: bool = False,
) -> dict[str, Any]:
    """The JSON body of one ``/chat/completions`` request. Optional fields are sent only when set,
    since some servers reject fields they do not know (``stop_token_ids`` is a vLLM extension)."""
    body: dict[str, Any] = {
        "model": model,
        "messages": list(conversation),
        "n": int(n),
        "temperature": float(sampling.temperature),
        "top_p": float(sampling.top_p),
        "max_tokens": int(sampling.max_new_tokens),
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


def samples_from_response(response: dict[str, Any]) -> list[Sample]:
    """Samples from a chat-completions response, in choice-index order.

    Text-level: ``token_ids`` and ``logprobs`` stay empty (the server does not say which ids it
    sampled). ``meta`` holds ``tool_calls`` (when the server returned some), ``token_logprobs`` (when
    requested and returned), ``finish_reason`` as the server said it, and the response's ``usage``.
    """
    choices = response.get("choices") if isinstance(response, dict) else None
    if not isinstance(choices, list):
        raise OpenAIEngineError(f"the server's answer has no 'choices' list: {json.dumps(response)[:300]}")
    samples = []
    for choice in sorted(choices, key=lambda c: c.get("index", 0)):
        message = choice.get("message") or {}
        raw_reason = choice.get("finish_reason")
        meta: dict[str, Any] = {"finish_reason": raw_reason}
        if message.get("tool_calls"):
            meta["tool_calls"] = message["tool_calls"]
        content = (choice.get("logprobs") or {}).get("content")
        if content:
            meta["token_logprobs"] = [float(t.get("logprob", 0.0)) for t in content]
            meta["tokens"] = [t.get("token", "") for t in content]
        if response.get("usage"):
            meta["usage"] = response["usage"]
        samples.append(
            Sample(
                token_ids=[],
                logprobs=[],
                finish_reason="length" if raw_reason == "length" else "stop",
                text=message.get("content") or "",
                meta=meta,
            )
        )
    return samples


class OpenAIEngine(Engine):
    """Client of an OpenAI-compatible server.

    ``base_url``: the API root, e.g. ``http://127.0.0.1:8000/v1``. ``model``: the served model's name;
    ``None`` asks the server (``GET /models``) and takes the first. ``api_key``: sent as a bearer token
    (default: ``$OPENAI_API_KEY`` if set). ``timeout``: seconds per HTTP request. ``max_retries``:
    extra attempts after a connection error, timeout, 429 or 5xx, waiting ``backoff * 2**attempt``
    seconds in between. ``concurrency``: conversations in flight at once. ``logprobs``: ask the server
    for per-token log-probs (returned in ``Sample.meta["token_logprobs"]``).
    """

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
    ):
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
        self._model = model

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
            listing = self._request("GET", "/models")
            data = listing.get("data") if isinstance(listing, dict) else None
            if not data:
                raise OpenAIEngineError(f"{self.base_url}/models lists no model; pass model=NAME explicitly")
            self._model = str(data[0]["id"])
        return self._model

    def generate_chat(
        self,
        conversations: Sequence[Sequence[dict[str, Any]]],
        n: int,
        sampling: SamplingParams,
        tools: list[dict[str, Any]] | None = None,
    ) -> list[list[Sample]]:
        """Sample ``n`` assistant replies to every conversation; result ``[conversation][sample]``.

        If the server returns fewer than ``n`` choices (some servers ignore ``n``), the missing ones are
        asked for again, with a different seed when one is set."""
        if n < 1:
            raise ValueError(f"n (samples per conversation) must be >= 1, got {n}")
        if not isinstance(sampling, SamplingParams):
            raise TypeError(f"sampling must be a SamplingParams, got {type(sampling).__name__}")
        for i, conv in enumerate(conversations):
            if not isinstance(conv, (list, tuple)) or not conv or not all(isinstance(m, dict) and "role" in m for m in conv):
                raise ValueError(f"conversation {i} must be a non-empty list of {{'role': ..., 'content': ...}} messages")
        model = self.model
        if len(conversations) <= 1 or self.concurrency == 1:
            return [self._complete(c, n, sampling, model, tools) for c in conversations]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(conversations))) as pool:
            futures = [pool.submit(self._complete, c, n, sampling, model, tools) for c in conversations]
            return [f.result() for f in futures]

    def _complete(self, conversation, n, sampling, model, tools) -> list[Sample]:
        samples: list[Sample] = []
        for attempt in range(n):  # at most n round trips even if the server returns one choice each
            params = sampling
            if attempt and sampling.seed is not None:
                params = dataclasses.replace(sampling, seed=sampling.seed + attempt)
            body = chat_request_body(conversation, n - len(samples), params, model, tools=tools, logprobs=self.logprobs)
            samples.extend(samples_from_response(self._request("POST", "/chat/completions", body)))
            if len(samples) >= n:
                return samples[:n]
        raise OpenAIEngineError(f"the server returned {len(samples)} choices for n={n} after {n} requests")

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = self.base_url + path
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            req = urllib.request.Request(url, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    raw = resp.read()
            except urllib.error.HTTPError as exc:
                text = exc.read().decode("utf-8", "replace")
                if exc.code in _RETRY_STATUS:
                    last = f"HTTP {exc.code}: {_error_message(text)}"
                    continue
                raise RequestRejectedError(
                    f"{method} {url} was rejected with HTTP {exc.code}: {_error_message(text)}", exc.code, text
                ) from None
            except (urllib.error.URLError, http.client.HTTPException, ConnectionError, socket.timeout, TimeoutError) as exc:
                reason = getattr(exc, "reason", exc)
                last = f"{type(reason).__name__}: {reason}"
                continue
            try:
                return json.loads(raw)
            except json.JSONDecodeError:
                raise OpenAIEngineError(f"{method} {url} answered with something that is not JSON: {raw[:200]!r}") from None
        raise ServerUnreachableError(
            f"no usable answer from {url} after {self.max_retries + 1} attempt(s) (last: {last}); check that an "
            "OpenAI-compatible server is running there (e.g. `rlvr serve --model tiny` or `vllm serve MODEL`) and "
            "that base_url ends with /v1"
        )


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
