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

from typing import Any, Sequence

from rlvr.trainers.engine import Sample, SamplingParams
from rlvr.trainers.hf_engine import HFEngine

__all__ = ["HFChatEngine", "check_conversation", "render_chat", "template_messages", "tool_calls_from_text"]


def check_conversation(conversation: Any, index: int = 0) -> list[dict[str, Any]]:
    """Check that ``conversation`` is a non-empty list of ``{"role": str, "content": ...}`` messages;
    raise a ``ValueError`` naming the first bad message otherwise. Returns it as a list."""
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
        content = message.get("content")
        if content is not None and not isinstance(content, (str, list)):
            raise ValueError(f"conversation {index}, message {m}: 'content' must be a string, got {type(content).__name__}")
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
    """Messages as a Hugging Face chat template expects them: content always a string, and tool
    calls' arguments as dicts (OpenAI's messages carry them as JSON strings, which a template's
    ``tojson`` would quote a second time)."""
    from rlvr.envs.toolcalls import template_tool_calls  # noqa: PLC0415

    out = []
    for message in conversation:
        message = {**message, "content": message.get("content") or ""}
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
