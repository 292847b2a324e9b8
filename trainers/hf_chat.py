"""Chat-level generation for the ``hf`` engine: conversations (OpenAI-style messages) in, samples out.

:class:`HFChatEngine` is an :class:`~rlvr.trainers.hf_engine.HFEngine` with ``generate_chat``, the same
method the ``openai`` engine has, so evaluation code can drive a local model and a remote server
alike. Each conversation is rendered with the tokenizer's chat template (``add_generation_prompt=True``,
``tools`` passed to the template when given) and sampled with the token-level ``generate``; the
samples keep their exact token ids and log-probs. Tool calls the model wrote in the Hermes/Qwen form
(``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``) are returned as an OpenAI-compatible
server returns them: OpenAI-shaped in ``Sample.meta["tool_calls"]`` and taken out of ``Sample.text``
(a conversation that carried both would show the template each call twice). When any block is
malformed the text is left whole and no calls are returned, so an env's parser answers every call.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from rlvr.trainers.engine import Sample, SamplingParams
from rlvr.trainers.hf_engine import HFEngine

__all__ = ["HFChatEngine", "check_conversation", "check_text_encodes", "check_tool_calls", "content_text", "render_chat", "template_messages", "tool_calls_from_text"]


def content_text(content: Any, where: str = "message") -> str:
    """A message's content as the one string a chat template expects.

    OpenAI clients (the OpenAI SDK, LangChain, agent frameworks) often send content as a list of
    parts, ``[{"type": "text", "text": "..."}, ...]``; its text parts are joined with ``"\n"``, as
    vLLM does. A template given the list itself would render its Python repr into the prompt, or
    fail. Parts of any other type (images, audio, files) cannot be rendered for a text-only model:
    a ``ValueError`` names them. ``None`` is the empty string (an assistant turn with only tool calls).
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, (list, tuple)):
        raise ValueError(f"{where}: 'content' must be a string or a list of text parts, got {type(content).__name__}")
    texts, others = [], []
    for part in content:
        if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        else:
            others.append(part.get("type") if isinstance(part, dict) else type(part).__name__)
    if others:
        raise ValueError(
            f"{where}: 'content' has parts of type {', '.join(map(repr, dict.fromkeys(others)))}; only "
            "{\"type\": \"text\", \"text\": ...} parts can be rendered for a text-only model (send text, or "
            "use a server for a multimodal model)")
    return "\n".join(texts)


def check_tool_calls(tool_calls: Any, where: str) -> None:
    """Check an assistant message's ``tool_calls`` (``where`` names the message): None, or a list of
    calls, each ``{"function": {"name": str, "arguments": ...}, ...}`` (OpenAI's shape) or the flat
    ``{"name": str, "arguments": ...}`` (as chat templates read a call: ``call.function`` when defined,
    else the call itself). ``arguments`` may be any JSON value (a string, an object, a list, null).
    A ``ValueError`` names the first entry a template cannot render, which would otherwise fail with
    a message about Jinja internals ("Undefined is not JSON serializable") instead of the field at
    fault: no name, no ``arguments``, or ``arguments`` that are not JSON (a set, an object). It does
    not enforce OpenAI's schema beyond that. An empty name is allowed: envs record a call the model
    wrote without one that way (see `rlvr.envs.toolcalls.openai_tool_calls`), and the template renders it."""
    if tool_calls is None:
        return
    shape = "a list of {\"type\": \"function\", \"function\": {\"name\": ..., \"arguments\": ...}}"
    if not isinstance(tool_calls, (list, tuple)):
        raise ValueError(f"{where}: 'tool_calls' must be {shape}, got {type(tool_calls).__name__}")
    for k, call in enumerate(tool_calls):
        _check_tool_call(call, f"{where}: 'tool_calls'[{k}]")


def _check_tool_call(call: Any, where: str) -> None:
    """Check one entry of ``tool_calls`` (see :func:`check_tool_calls`); ``where`` names it."""
    nested = isinstance(call, dict) and "function" in call
    function = call.get("function") if nested else call
    if not isinstance(function, dict) or not (nested or isinstance(function.get("name"), str)):
        got = type(call).__name__ if not isinstance(call, dict) else (
            f"'function' as {type(function).__name__}" if nested else "no 'function' and no string 'name'")
        raise ValueError(f"{where} must be {{\"function\": {{\"name\": ..., \"arguments\": ...}}}} "
                         f"(or {{\"name\": ..., \"arguments\": ...}}), got {got}")
    field = f"{where}.function" if nested else where
    if not isinstance(function.get("name"), str):
        raise ValueError(f"{field}.name must be a string")
    if "arguments" not in function:
        raise ValueError(f"{field}.arguments is missing (send \"{{}}\" for a call without arguments)")
    try:
        json.dumps(function["arguments"])
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(f"{field}.arguments must be a JSON string or a JSON value, got "
                         f"{type(function['arguments']).__name__} ({exc})") from None


def check_text_encodes(value: Any, where: str, field: str = "") -> None:
    """Raise a ``ValueError`` naming the field (``where``, then the path to it) of the first string
    in ``value`` (nested in lists and dicts) that is not valid Unicode text, such as a lone
    surrogate (``"\\ud800"`` in JSON): it cannot be encoded as UTF-8, so a tokenizer refuses it with
    a message about its argument types instead of the field at fault."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"{where}: {field or 'a string'} is not valid text (character {exc.start} is "
                             f"{value[exc.start]!r}, a lone surrogate that cannot be encoded as UTF-8)") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text_encodes(item, where, f"{field}.{key}" if field else f"'{key}'")
    elif isinstance(value, (list, tuple)):
        for k, item in enumerate(value):
            check_text_encodes(item, where, f"{field}[{k}]")


def check_conversation(conversation: Any, index: int = 0) -> list[dict[str, Any]]:
    """Check that ``conversation`` is a non-empty list of ``{"role": str, "content": ...}`` messages,
    whose ``tool_calls`` (when present) can be rendered (:func:`check_tool_calls`) and whose
    strings are all valid text (:func:`check_text_encodes`); raise a ``ValueError`` naming the first
    bad message and field otherwise. Returns it as a list."""
    if not isinstance(conversation, (list, tuple)) or not conversation:
        raise ValueError(
            f"conversation {index} must be a non-empty list of messages like "
            f"{{'role': 'user', 'content': '...'}}, got {type(conversation).__name__}"
        )
    for m, message in enumerate(conversation):
        if not isinstance(message, dict):
            raise ValueError(f"conversation {index}, message {m}: must be a dict with 'role' and 'content', got {type(message).__name__}")
        if not isinstance(message.get("role"), str) or not message["role"]:
            raise ValueError(f"conversation {index}, message {m}: 'role' must be a non-empty string (system, user, assistant, tool)")
        where = f"conversation {index}, message {m}"
        content_text(message.get("content"), where)
        check_tool_calls(message.get("tool_calls"), where)
        check_text_encodes(message, where)
    return list(conversation)


def render_chat(tokenizer: Any, conversation: Sequence[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> list[int]:
    """Token ids of ``conversation`` rendered by the tokenizer's chat template, ending with the
    assistant's generation prompt. A tokenizer without a chat template is an error naming the fix."""
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(
            "the tokenizer has no chat template, so conversations cannot be rendered; set "
            "tokenizer.chat_template (or use a chat/instruct model) or pass token ids to generate()"
        )
    messages = template_messages(conversation)
    kwargs: dict[str, Any] = {"add_generation_prompt": True, "tokenize": False}
    if tools:
        kwargs["tools"] = tools
    text = tokenizer.apply_chat_template(messages, **kwargs)
    # the template already wrote any BOS it wants: do not add special tokens a second time
    return list(tokenizer.encode(text, add_special_tokens=False))


def tool_calls_from_text(text: str) -> tuple[str, list[dict[str, Any]]]:
    """A reply's ``(content, tool_calls)`` in OpenAI's shape: the ``<tool_call>`` blocks taken out of
    the text as ``{"id", "type": "function", "function": {"name", "arguments": JSON string}}``
    entries with unique ids (what vLLM's Hermes tool parser returns). When any block is malformed
    the text is returned whole with no calls, so whoever reads it (an env) answers each call,
    the bad ones with an error (`rlvr.envs.toolcalls.split_hermes_calls`)."""
    from rlvr.envs.toolcalls import split_hermes_calls  # noqa: PLC0415 - keeps the engine free of env imports until needed

    return split_hermes_calls(text)


def template_messages(conversation: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages as a Hugging Face chat template expects them: content always a string (text parts
    joined, see :func:`content_text`), and tool calls' arguments as dicts (OpenAI's messages carry
    them as JSON strings, which a template's ``tojson`` would quote a second time)."""
    from rlvr.envs.toolcalls import template_tool_calls  # noqa: PLC0415

    out = []
    for message in conversation:
        message = {**message, "content": content_text(message.get("content"))}
        if isinstance(message.get("tool_calls"), list):
            message["tool_calls"] = template_tool_calls(message["tool_calls"])
        out.append(message)
    return out


class HFChatEngine(HFEngine):
    """The ``hf`` engine with chat-level generation (``generate_chat``), used by ``rlvr serve``."""

    def generate_chat(
        self,
        conversations: Sequence[Sequence[dict[str, Any]]],
        n: int,
        sampling: SamplingParams,
        tools: list[dict[str, Any]] | None = None,
    ) -> list[list[Sample]]:
        """Sample ``n`` assistant replies to every conversation; result ``[conversation][sample]``.

        Samples carry the exact token ids and log-probs (as :meth:`generate`), the reply text (without
        its tool calls, when they all parsed), the prompt length in ``meta["prompt_tokens"]`` and any
        tool calls in ``meta["tool_calls"]``.
        """
        prompts = [render_chat(self.tokenizer, check_conversation(c, i), tools) for i, c in enumerate(conversations)]
        groups = self.generate(prompts, n, sampling)
        for prompt, group in zip(prompts, groups):
            for s in group:
                s.meta["prompt_tokens"] = len(prompt)
                content, calls = tool_calls_from_text(s.text)
                if calls:  # the text without the calls, as an OpenAI-compatible server returns it
                    s.text, s.meta["tool_calls"] = content, calls
        return groups
