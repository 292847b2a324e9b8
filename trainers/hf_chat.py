"""Chat-level generation for the ``hf`` engine: conversations (OpenAI-style messages) in, samples out.

:class:`HFChatEngine` is an :class:`~rlvr.trainers.hf_engine.HFEngine` with ``generate_chat``, the same
method the ``openai`` engine has, so evaluation code can drive a local model and a remote server
alike. Each conversation is rendered with the tokenizer's chat template (``add_generation_prompt=True``,
``tools`` passed to the template when given) and sampled with the token-level ``generate``; the
samples keep their exact token ids and log-probs. Tool calls the model wrote in the Hermes/Qwen form
(``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``) are also returned, OpenAI-shaped, in
``Sample.meta["tool_calls"]``.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from rlvr.trainers.engine import Sample, SamplingParams
from rlvr.trainers.hf_engine import HFEngine

__all__ = ["HFChatEngine", "check_conversation", "render_chat", "tool_calls_from_text"]


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
    messages = [{**m, "content": m.get("content") or ""} for m in conversation]
    kwargs: dict[str, Any] = {"add_generation_prompt": True, "tokenize": False}
    if tools:
        kwargs["tools"] = tools
    text = tokenizer.apply_chat_template(messages, **kwargs)
    # the template already wrote any BOS it wants: do not add special tokens a second time
    return list(tokenizer.encode(text, add_special_tokens=False))


def tool_calls_from_text(text: str) -> list[dict[str, Any]]:
    """Well-formed ``<tool_call>`` blocks of ``text`` as OpenAI ``tool_calls`` entries
    (``{"id", "type": "function", "function": {"name", "arguments": JSON string}}``); malformed
    blocks are left in the text only (they are model output, judged by whoever reads it)."""
    if "<tool_call>" not in text:
        return []
    from rlvr.envs.toolcalls import parse_tool_calls  # noqa: PLC0415 - only needed when tags appear

    out = []
    for k, call in enumerate(parse_tool_calls(text)):
        if call.error is None and call.name:
            out.append({"id": f"call_{k}", "type": "function", "function": {"name": call.name, "arguments": json.dumps(call.arguments)}})
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

        Samples carry the exact token ids and log-probs (as :meth:`generate`), the reply text, the
        prompt length in ``meta["prompt_tokens"]`` and any tool calls in ``meta["tool_calls"]``.
        """
        prompts = [render_chat(self.tokenizer, check_conversation(c, i), tools) for i, c in enumerate(conversations)]
        groups = self.generate(prompts, n, sampling)
        for prompt, group in zip(prompts, groups):
            for s in group:
                s.meta["prompt_tokens"] = len(prompt)
                calls = tool_calls_from_text(s.text)
                if calls:
                    s.meta["tool_calls"] = calls
        return groups
