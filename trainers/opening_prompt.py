"""An episode's opening prompt: the env's first messages rendered with the chat template, or as raw text.

The rollouts (:mod:`.rollout`) and the supervised warm-up (:mod:`.warmup`) both build prompts with
these functions, so the warm-up trains on the very prompts the rollouts ask. Raw text is for terse
procedural prompts (``format="compact"`` envs) and tokenizers without a chat template; its layout
is versioned (:data:`PROMPT_LAYOUT`) because runs record it and a run is never continued under
another layout.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from rlvr.trainers import chat_tokens

__all__ = ["template_tools", "chat_prompt", "PROMPT_LAYOUT", "raw_system_text", "raw_prompt"]


def template_tools(info: dict[str, Any]) -> Any:
    """The tool schemas of an env's reset ``info`` to give the chat template (and a chat engine) as
    ``tools=``: none when the env's system prompt already lists them (``info["tools_in_prompt"]``,
    ToolMath-v0's default prompt), since a template that renders tools (Qwen, Hermes) would list
    them a second time, with its own instructions beside the env's."""
    return None if info.get("tools_in_prompt") else info.get("tools")


def chat_prompt(tokenizer: Any, messages: list[dict[str, Any]], tools: Any = None) -> tuple[str, list[int]]:
    """An episode's opening prompt in chat-template mode, as the rollouts render and encode it:
    ``(text, ids)`` of ``messages`` with the env's ``tools`` and the generation prompt. The
    supervised warm-up uses it too, so it trains on the very prompts the rollouts ask."""
    text = chat_tokens.render(tokenizer, chat_tokens.with_string_content(messages), generation_prompt=True, tools=tools)
    return text, chat_tokens.encode(tokenizer, text)


#: Version of the opening prompt's layout in raw-text mode (:func:`raw_prompt`), which runs record
#: (a trainer's checkpoints, ``rlvr eval``'s run.json) so that one is never continued under another:
#: 1 (not recorded, rlvr before it) was the prompt alone, the env's system message dropped; 2 is the
#: system message, a blank line, then the prompt. The two differ only for an env with a system message.
PROMPT_LAYOUT = 2


def raw_system_text(env: Any) -> str:
    """The system message ``env`` opens its episodes with ("" for none): what raw-text prompts of
    :data:`PROMPT_LAYOUT` 2 add, and layout 1 left out."""
    return str(getattr(getattr(env, "unwrapped", env), "system_prompt", None) or "")


def raw_prompt(messages: Sequence[Mapping[str, Any]], prompt: str) -> str:
    """An episode's opening prompt in raw-text mode (no chat template): the env's system message,
    when its first message is one, a blank line, then ``prompt``. The system message holds what the
    model must know to answer (ToolMath-v0's tool list and call format, a ``system_prompt=``); raw
    text has no other place for it. The supervised warm-up uses it too."""
    first = messages[0] if messages else None
    system = str(first.get("content") or "") if first is not None and first.get("role") == "system" else ""
    return f"{system}\n\n{prompt}" if system else prompt
