"""An episode's opening prompt: the env's first messages rendered with the chat template, or as raw text.

The rollouts (:mod:`.rollout`) and the supervised warm-up (:mod:`.warmup`) both build prompts with
these functions, so the warm-up trains on the very prompts the rollouts ask. Raw text is for terse
procedural prompts (``format="compact"`` envs) and tokenizers without a chat template; its layout
is versioned (:data:`PROMPT_LAYOUT`) because runs record it and a run is never continued under
another layout.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from rlvr.envs.tool_env import listing_prompt
from rlvr.trainers import chat_tokens

__all__ = ["template_tools", "chat_prompt", "PROMPT_LAYOUT", "raw_system_text", "raw_prompt", "tool_listing"]


def template_tools(info: dict[str, Any]) -> Any:
    """The tool schemas of an env's reset ``info`` to give the chat template (and a chat engine) as
    ``tools=``: none when the env's system prompt already lists them (``info["tools_in_prompt"]``,
    ToolMath-v0's default prompt), since a template that renders tools (Qwen, Hermes) would list
    them a second time, with its own instructions beside the env's."""
    return None if info.get("tools_in_prompt") else info.get("tools")


def chat_prompt(tokenizer: Any, messages: list[dict[str, Any]], tools: Any = None) -> tuple[str, list[int]]:
    """An episode's opening prompt in chat-template mode, as the rollouts render and encode it:
    ``(text, ids)`` of ``messages`` with the env's ``tools`` and the generation prompt. The
    supervised warm-up uses it too, so it trains on the very prompts the rollouts ask.

    A ValueError when ``tools`` are given and the template renders the same text without them: it
    ignores ``tools=``, and the model would never see the tools the episode lets it call."""
    msgs = chat_tokens.with_string_content(messages)
    text = chat_tokens.render(tokenizer, msgs, generation_prompt=True, tools=tools)
    if tools and text == chat_tokens.render(tokenizer, msgs, generation_prompt=True, tools=None):
        raise ValueError(_tools_ignored(tools))
    return text, chat_tokens.encode(tokenizer, text)


def _tools_ignored(tools: Any) -> str:
    """The error for a chat template that ignores ``tools=`` (see :func:`chat_prompt`)."""
    names = ", ".join(str(_function(t).get("name", "?")) for t in tools)
    return (f"the tokenizer's chat template ignores tools=, so the env's tools ({names}) would never reach the "
            "model: drop system_prompt= so that ToolMath-v0 lists the tools in its own system prompt, use a chat "
            "template that renders tools=, or run with chat_template=False (raw text lists them)")


def _function(schema: Any) -> Mapping[str, Any]:
    """The function part of a tool schema in OpenAI function format (``{"type": "function",
    "function": {...}}``), or the schema itself when it has none."""
    return schema.get("function", schema) if isinstance(schema, Mapping) else {"name": str(schema)}


def tool_listing(tools: Sequence[Any]) -> str:
    """The tool schemas ``tools`` as ToolMath-v0's default system prompt lists them (its
    ``SYSTEM_TEMPLATE``: how to call a tool, then one JSON line per tool): what a raw-text prompt
    shows when the env's own system prompt does not list them (:func:`raw_prompt`)."""
    return listing_prompt(_function(t) for t in tools)


#: Version of the opening prompt's layout in raw-text mode (:func:`raw_prompt`), which runs record
#: (a trainer's checkpoints, ``rlvr eval``'s run.json) so that one is never continued under another:
#: 1 (not recorded, rlvr before it) was the prompt alone, the env's system message dropped; 2 is the
#: system message, a blank line, then the prompt. The two differ only for an env with a system message.
#: Layout 2 now also writes, before the prompt, the tools a ``system_prompt=`` of one's own leaves out
#: and an env's other opening messages, which it used to drop (the model was never shown them): the
#: usual openings are as they were, so the number stays (see :func:`raw_prompt`).
PROMPT_LAYOUT = 2


def raw_system_text(env: Any) -> str:
    """The system message ``env`` opens its episodes with ("" for none): what raw-text prompts of
    :data:`PROMPT_LAYOUT` 2 add, and layout 1 left out."""
    return str(getattr(getattr(env, "unwrapped", env), "system_prompt", None) or "")


def raw_prompt(messages: Sequence[Mapping[str, Any]], prompt: str, tools: Sequence[Any] | None = None) -> str:
    """An episode's opening prompt in raw-text mode (no chat template): its parts joined by a blank
    line, in this order: the env's system message, when its first message is one; the listing of
    ``tools`` (:func:`tool_listing`), when given (the schemas :func:`template_tools` would give a
    chat template: the env's system prompt does not list them); the content of every other opening
    message, in order (a few-shot example's turns), less the last one when it is the user's, which
    ``prompt`` stands for; then ``prompt``. Empty parts are left out, so an env's usual opening
    (system + user) is the system message, a blank line, then ``prompt``, and without a system
    message ``prompt`` alone. The system message holds what the model must know to answer (a
    ``system_prompt=``, ToolMath-v0's default tool list and call format); raw text has no other
    place for it, nor for the tools. The supervised warm-up uses it too."""
    rest = list(messages)
    parts = [_content(rest.pop(0))] if rest and rest[0].get("role") == "system" else []
    if tools:
        parts.append(tool_listing(tools))
    if rest and rest[-1].get("role") == "user":
        rest.pop()  # (``prompt`` is its text, as the env's observation gives it)
    parts.extend(_content(m) for m in rest)
    return "\n\n".join([p for p in parts if p] + [prompt])


def _content(message: Mapping[str, Any]) -> str:
    """A message's text ("" for none)."""
    return str(message.get("content") or "")
