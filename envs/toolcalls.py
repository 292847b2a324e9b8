"""Reading tool calls out of a model turn: Hermes/Qwen `<tool_call>` tags or OpenAI `tool_calls`.

`parse_tool_calls` never raises on model output: each call comes back either as a well-formed
`ToolCall` or as a `ToolCall` carrying an `error` (bad JSON, missing name, arguments not an
object, an unclosed tag), which the environment turns into an error message for the model.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_BLOCK = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)
OPEN_TAG = "<tool_call>"


@dataclass
class ToolCall:
    """One requested tool call (or a malformed one, with `error` set)."""

    id: str
    name: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    raw: str = ""


def _json_problem(exc: Exception) -> str:
    """What is wrong with text `json.loads` refused: its message, or too deep a nesting (which
    `json` reports as a RecursionError, not a decoding error)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at position {exc.pos}"
    return "it is nested too deeply"


def _from_payload(payload: Any, call_id: str, raw: str) -> ToolCall:
    if not isinstance(payload, dict):
        return ToolCall(call_id, error=f"a tool call must be a JSON object with 'name' and 'arguments', got {type(payload).__name__}", raw=raw)
    name = payload.get("name")
    if not isinstance(name, str) or not name:
        return ToolCall(call_id, error="the tool call has no 'name' (a string)", raw=raw)
    arguments = payload.get("arguments", payload.get("parameters", {}))
    if isinstance(arguments, str):  # OpenAI style: arguments as a JSON string
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except (json.JSONDecodeError, RecursionError) as exc:
            return ToolCall(call_id, name, error=f"arguments of {name!r} are not valid JSON: {_json_problem(exc)}", raw=raw)
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        return ToolCall(call_id, name, error=f"arguments of {name!r} must be a JSON object, got {type(arguments).__name__}", raw=raw)
    return ToolCall(call_id, name, arguments, raw=raw)


def parse_tool_calls(content: str, tool_calls: list[Any] | None = None, *, turn: int = 0) -> list[ToolCall]:
    """All tool calls of one turn, from OpenAI-style `tool_calls` if given, else from the text."""
    calls: list[ToolCall] = []
    if tool_calls:
        for k, entry in enumerate(tool_calls):
            call_id = f"call_{turn}_{k}"
            if not isinstance(entry, dict):
                calls.append(ToolCall(call_id, error=f"a tool call must be an object, got {type(entry).__name__}"))
                continue
            call_id = str(entry.get("id") or call_id)
            function = entry.get("function", entry)
            calls.append(_from_payload(function, call_id, json.dumps(entry, default=str)[:2000]))
        return calls
    for k, match in enumerate(_BLOCK.finditer(content)):
        raw = match.group(1).strip()
        call_id = f"call_{turn}_{k}"
        try:
            payload = json.loads(raw)
        except (json.JSONDecodeError, RecursionError) as exc:
            calls.append(ToolCall(call_id, error=f"the tool call is not valid JSON: {_json_problem(exc)}", raw=raw[:2000]))
            continue
        calls.append(_from_payload(payload, call_id, raw[:2000]))
    closed = content.count("</tool_call>")
    if content.count(OPEN_TAG) > closed:
        calls.append(ToolCall(f"call_{turn}_{len(calls)}", error="a <tool_call> tag is not closed with </tool_call>"))
    return calls
