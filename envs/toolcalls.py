"""Reading tool calls out of a model turn: Hermes/Qwen `<tool_call>` tags or OpenAI `tool_calls`.

`parse_tool_calls` never raises on model output: each call comes back either as a well-formed
`ToolCall` or as a `ToolCall` carrying an `error` (bad JSON, missing name, arguments not an
object, an unclosed tag), which the environment turns into an error message for the model.

Two forms of the same calls travel between the parts, and these helpers convert between them:

- in messages (`info["messages"]`, an OpenAI-compatible request or reply): OpenAI's shape,
  `{"id", "type": "function", "function": {"name", "arguments": <JSON string>}}`, every call with
  an id that the `role: "tool"` replies name (`openai_tool_calls`);
- for a Hugging Face chat template: the same, with `arguments` as a dict, which templates render
  with `tojson` (a JSON string there would be rendered quoted a second time; `template_tool_calls`).

A Hermes-style turn is recorded as the model wrote it: the `<tool_call>` blocks stay in its text,
with no `tool_calls` beside them, since a template renders both and the calls would then appear
twice; its tool replies name the calls by position (`call_id`). A server that returns calls in
OpenAI's shape takes the blocks out of the text (`split_hermes_calls`), as vLLM's tool parsers do.
"""

from __future__ import annotations

import json
import re
import uuid
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


def _from_payload(payload: Any, ident: str, raw: str) -> ToolCall:
    if not isinstance(payload, dict):
        return ToolCall(ident, error=f"a tool call must be a JSON object with 'name' and 'arguments', got {type(payload).__name__}", raw=raw)
    name = payload.get("name")
    if not isinstance(name, str) or not name:
        return ToolCall(ident, error="the tool call has no 'name' (a string)", raw=raw)
    arguments = payload.get("arguments", payload.get("parameters", {}))
    if isinstance(arguments, str):  # OpenAI style: arguments as a JSON string
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except (json.JSONDecodeError, RecursionError) as exc:
            return ToolCall(ident, name, error=f"arguments of {name!r} are not valid JSON: {_json_problem(exc)}", raw=raw)
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        return ToolCall(ident, name, error=f"arguments of {name!r} must be a JSON object, got {type(arguments).__name__}", raw=raw)
    return ToolCall(ident, name, arguments, raw=raw)


def call_id(turn: int, k: int) -> str:
    """The id of the k-th call of a model turn that gave none: what its tool reply names."""
    return f"call_{turn}_{k}"


def parse_tool_calls(content: str, tool_calls: list[Any] | None = None, *, turn: int = 0) -> list[ToolCall]:
    """All tool calls of one turn, from OpenAI-style `tool_calls` if given, else from the text."""
    calls: list[ToolCall] = []
    if tool_calls:
        for k, entry in enumerate(tool_calls):
            if not isinstance(entry, dict):
                calls.append(ToolCall(call_id(turn, k), error=f"a tool call must be an object, got {type(entry).__name__}"))
                continue
            function = entry.get("function", entry)
            calls.append(_from_payload(function, str(entry.get("id") or call_id(turn, k)), json.dumps(entry, default=str)[:2000]))
        return calls
    for k, match in enumerate(_BLOCK.finditer(content)):
        raw = match.group(1).strip()
        try:
            payload = json.loads(raw)
        except (json.JSONDecodeError, RecursionError) as exc:
            calls.append(ToolCall(call_id(turn, k), error=f"the tool call is not valid JSON: {_json_problem(exc)}", raw=raw[:2000]))
            continue
        calls.append(_from_payload(payload, call_id(turn, k), raw[:2000]))
    closed = content.count("</tool_call>")
    if content.count(OPEN_TAG) > closed:
        calls.append(ToolCall(call_id(turn, len(calls)), error="a <tool_call> tag is not closed with </tool_call>"))
    return calls


def openai_tool_calls(tool_calls: list[Any], turn: int) -> list[Any]:
    """An assistant turn's `tool_calls` as a message records them: in OpenAI's shape, each with
    the id its tool reply names (the call's own, else `call_id(turn, k)`, as `parse_tool_calls`
    gives it) and its arguments as a JSON string (a dict is encoded). An entry that is not a call
    (not a dict, no function name) is kept as the model gave it: the env answers it with an error.
    New objects throughout: the caller's list is not shared."""
    out: list[Any] = []
    for k, entry in enumerate(tool_calls):
        function = entry.get("function", entry) if isinstance(entry, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str) or not name:
            out.append(json.loads(json.dumps(entry, default=str)))  # a deep copy of plain data
            continue
        arguments = function.get("arguments", function.get("parameters", {}))
        if not isinstance(arguments, str):
            arguments = json.dumps({} if arguments is None else arguments, default=str)
        out.append({"id": str(entry.get("id") or call_id(turn, k)), "type": "function",
                    "function": {"name": name, "arguments": arguments}})
    return out


def template_tool_calls(tool_calls: list[Any]) -> list[Any]:
    """`tool_calls` as a Hugging Face chat template renders them: arguments that are a JSON object
    in a string become that dict (as vLLM hands them to templates); anything else is kept."""
    out = []
    for entry in tool_calls:
        function = entry.get("function") if isinstance(entry, dict) else None
        arguments = function.get("arguments") if isinstance(function, dict) else None
        if isinstance(arguments, str):
            try:
                parsed = json.loads(arguments) if arguments.strip() else {}
            except (json.JSONDecodeError, RecursionError):
                parsed = None
            if isinstance(parsed, dict):
                entry = {**entry, "function": {**function, "arguments": parsed}}
        out.append(entry)
    return out


def split_hermes_calls(text: str) -> tuple[str, list[dict[str, Any]]]:
    """(`text` without its `<tool_call>` blocks, the calls in OpenAI's shape with fresh unique ids),
    for a server answering in OpenAI's format. When any block is malformed (bad JSON, no name, an
    unclosed tag) the text comes back whole and the list empty: the caller then hands on the text
    as the model wrote it, and whoever reads it (an env's parser) answers every call, the bad ones
    with an error, rather than seeing only the good ones."""
    if OPEN_TAG not in text:
        return text, []
    parsed = parse_tool_calls(text)
    if not parsed or any(call.error is not None for call in parsed):
        return text, []
    calls = [{"id": f"call_{uuid.uuid4().hex[:24]}", "type": "function",
              "function": {"name": call.name, "arguments": json.dumps(call.arguments)}} for call in parsed]
    return _BLOCK.sub("", text).strip(), calls
