"""Reading tool calls out of a model turn: Hermes/Qwen `<tool_call>` tags or OpenAI `tool_calls`.

`parse_tool_calls` never raises on model output: each call comes back either as a well-formed
`ToolCall` or as a `ToolCall` carrying an `error` (bad JSON — `NaN`, `Infinity`, numbers too
large for a float and a key repeated in an object included —, a number too long to read, missing
name, a top-level key other than a call's (`_CALL_KEYS`), arguments not an object, an
unclosed tag, a closing tag with no opening tag before it, an OpenAI-style entry whose `type` is not "function", a `<tool_call>` block beside
OpenAI-style `tool_calls`), which the environment turns into an error message for the model.

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

A `<tool_call>` block inside the model's reasoning (`reasoning_spans`: a closed `<think>…</think>`
block, or the text before a `</think>` whose `<think>` the prompt opened, as Qwen3's template does)
is a call the model only drafted: it is no call, as the math verifier reads no answer there when
the text after the block gives one (`rlvr.verifiers.math_extract.after_reasoning`).

OpenAI-style `tool_calls` are recorded and parsed from the same reading of each entry, so the
recorded message always declares the calls its replies name: every entry gets an id (its own when
that is a non-empty string no earlier entry of the turn used, else `call_id`, `call_ids`), an entry
that is not a call is recorded as a call with an empty name (its reply is an error), and arguments
given as an object are recorded as valid JSON (`to_json`) and parsed back from it, so the tool
receives exactly what the message records. In a turn that has both, the `<tool_call>` blocks of
its text are recorded after the entries too (given the text, `openai_tool_calls`), with the ids of
their error replies.
"""

from __future__ import annotations

import json
import math
import re
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any, Sequence

from rlvr.envs.json_keys import repeated_key
from rlvr.verifiers.shaping import tag_blocks

#: How text calls are read, for a fingerprint. 2: a `</tool_call>` with no `<tool_call>` before it,
#: right after a call's JSON object and in text with no final answer's mark (`_unopened_call`), is a call with an
#: error (1 read the turn as a final answer), and a block holding an object in
#: OpenAI's shape (`{"type": "function", "function": {...}}`) is that call (1: an error, no name).
#: 3: a key repeated in one JSON object is an error (`_DuplicateKey`; the last one won), and so is a
#: text call's top-level key outside `_CALL_KEYS` or both "arguments" and "parameters" (ignored).
TOOL_CALL_RULES = 3
OPEN_TAG = "<tool_call>"
CLOSE_TAG = "</tool_call>"
#: The tags of the model's reasoning block (R1/Qwen3 style).
THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
_REASONING_TAGS = re.compile("|".join(map(re.escape, (THINK_OPEN, THINK_CLOSE, OPEN_TAG, CLOSE_TAG))))
#: Deepest nesting `to_json` writes out; deeper values are written as a placeholder text.
_MAX_JSON_DEPTH = 100
#: Most values (containers and scalars, a shared one each time it appears) `to_json` writes out;
#: past that the whole value is a placeholder text. JSON cannot share: a client's list holding
#: another twice, 60 levels down, would be 2**60 values written out.
_MAX_JSON_PARTS = 100_000


@dataclass
class ToolCall:
    """One requested tool call (or a malformed one, with `error` set)."""

    id: str
    name: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    raw: str = ""


class _NumberTooLong(ValueError):
    """A JSON integer with more digits than Python converts (`sys.get_int_max_str_digits`)."""


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _NumberTooLong(f"a number in it has {len(text.lstrip('-'))} digits, more than the "
                             f"{sys.get_int_max_str_digits()} a number may have") from None


class _NotFinite(ValueError):
    """`NaN`, `Infinity`, `-Infinity` (which Python's `json` reads, though JSON has no such
    values) or a number too large for a float (`1e999`, read as infinity)."""


def _parse_constant(text: str) -> Any:
    raise _NotFinite(f"{text} is not a JSON value (JSON numbers are finite; write it as a string)")


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotFinite(f"the number {text[:40]} is too large for a float (JSON numbers are finite)")
    return value


class _DuplicateKey(ValueError):
    """A key named twice in one JSON object: `json` keeps the last silently, so
    `{"name": "calculator", ..., "name": "python"}` ran python, and JSON readers differ on which
    value counts."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """The object of `pairs` (`json`'s `object_pairs_hook`), refusing a key given twice."""
    value = dict(pairs)
    if len(value) < len(pairs):
        raise _DuplicateKey(f"duplicate key {repeated_key(pairs)[:100]!r} (each key may appear once in an object)")
    return value


def _loads(text: str) -> Any:
    """`json.loads` of model text, strictly JSON: NaN, Infinity, numbers too large for a float
    and a key repeated in an object are refused, so that the same text gives the same call however
    it is served (read here, or by `split_hermes_calls`, whose `to_json` could not write them back).
    Raises ValueError (bad JSON, a number too long or not finite, a duplicate key) or RecursionError
    (too deep), which `_json_problem` words for the model."""
    return json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant,
                      object_pairs_hook=_unique_keys)


def _json_problem(exc: Exception) -> str:
    """What is wrong with text `_loads` refused: its message, a number too long, or too deep a
    nesting (which `json` reports as a RecursionError, not a decoding error). Some of `json`'s
    messages end in " at" themselves ("Invalid control character at"): not said twice."""
    if isinstance(exc, json.JSONDecodeError):
        message = exc.msg[:-3] if exc.msg.endswith(" at") else exc.msg
        return f"{message} at position {exc.pos}"
    if isinstance(exc, RecursionError):
        return "it is nested too deeply"
    return str(exc)


def to_json(value: Any) -> str:
    """`value` as JSON text that is always valid JSON, never raises, and takes time linear in the
    size of `value`.

    Values from a client (a dict of arguments, a whole `tool_calls` entry) may hold what JSON
    cannot say: NaN and infinities (which `json.dumps` would write as the invalid `NaN`), keys that
    are not strings, integers too long to write, sets, other objects, nesting too deep or circular.
    Those are written as text (`"nan"`, `"{1, 2}"`, a placeholder) rather than failing. A list or
    dict holding itself (anywhere below) is written once, its reference inside as
    `"<circular reference>"`; a value of more than `_MAX_JSON_PARTS` parts once written out (a
    shared part counted each time it appears) is a placeholder as a whole.
    """
    try:
        plain = _plain(value, 0, set(), [_MAX_JSON_PARTS])
    except _TooManyParts:
        plain = f"<a value too large to write as JSON: more than {_MAX_JSON_PARTS} parts, shared ones counted each time>"
    return json.dumps(plain)


class _TooManyParts(Exception):
    """`_plain` went past `_MAX_JSON_PARTS`."""


def _plain(value: Any, depth: int, path: set[int], parts_left: list[int]) -> Any:
    """`value` made of what JSON can hold (see `to_json`): new lists and dicts of plain values.

    `path` holds the ids of the lists and dicts being written around this value (a cycle comes
    back to one of them); `parts_left` (one number, shared by the whole walk) counts down the
    values it may still write, so that a part shared many times over stops the walk instead of
    being written out each time (raising `_TooManyParts`).
    """
    parts_left[0] -= 1
    if parts_left[0] < 0:
        raise _TooManyParts
    if depth > _MAX_JSON_DEPTH:
        return "<nested too deeply>"
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if _int_writable(value) else f"<an integer of {value.bit_length()} bits>"
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if not isinstance(value, (dict, list, tuple)):
        return _text(value)
    if id(value) in path:
        return "<circular reference>"
    path.add(id(value))
    try:
        if isinstance(value, dict):
            return {_key(key, depth, path, parts_left): _plain(item, depth + 1, path, parts_left) for key, item in value.items()}
        return [_plain(item, depth + 1, path, parts_left) for item in value]
    finally:
        path.discard(id(value))


def _key(key: Any, depth: int, path: set[int], parts_left: list[int]) -> str:
    """A dict key as JSON's text: a string as it is, True/False/None as `json.dumps` writes them
    ("true", "false", "null"), anything else as the text of its plain value."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool):
        return json.dumps(key)
    return _text(_plain(key, depth + 1, path, parts_left))


def _int_writable(value: int) -> bool:
    try:
        str(value)
        return True
    except ValueError:
        return False


def _text(value: Any) -> str:
    """str(value), or a placeholder naming its type when that fails."""
    if isinstance(value, str):
        return value
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a client object whose __str__ fails
        return f"<{type(value).__name__}>"


def call_id(turn: int, k: int) -> str:
    """The id of the k-th call of a model turn that gave none: what its tool reply names."""
    return f"call_{turn}_{k}"


def _given_id(entry: Any) -> str | None:
    ident = entry.get("id") if isinstance(entry, dict) else None
    return ident if isinstance(ident, str) and ident else None


def call_ids(tool_calls: list[Any], turn: int) -> list[str]:
    """The id each OpenAI-style entry's tool reply names, all different: the entry's own when it is
    a non-empty string that no earlier entry of the turn brought, else `call_id(turn, k)` (with a
    suffix if an entry brought that id). A duplicate or non-string id would leave a reply that names
    two calls, or a call the message does not declare."""
    ids: list[str | None] = [None] * len(tool_calls)
    taken: set[str] = set()
    for k, entry in enumerate(tool_calls):
        given = _given_id(entry)
        if given is not None and given not in taken:
            ids[k] = given
            taken.add(given)
    for k, ident in enumerate(ids):
        if ident is None:
            ids[k] = _fresh_id(turn, k, taken)
    return [ident for ident in ids if ident is not None]


def _fresh_id(turn: int, k: int, taken: set[str]) -> str:
    """`call_id(turn, k)`, with a suffix (`_1`, `_2`, ...) when an id in `taken` already has that
    name; added to `taken`, so that every id of a turn differs."""
    ident, suffix = call_id(turn, k), 0
    while ident in taken:
        suffix += 1
        ident = f"{call_id(turn, k)}_{suffix}"
    taken.add(ident)
    return ident


def _other_type(entry: Any) -> Any:
    """The `type` of an OpenAI-style entry when it is given and not "function" (else None)."""
    kind = entry.get("type", "function") if isinstance(entry, dict) else "function"
    return None if kind == "function" else kind


def _function_parts(entry: Any) -> tuple[Any, str]:
    """(name, arguments as JSON text) of an OpenAI-style entry, as the message records them. For an
    entry that is not a function call (not an object, a `type` other than "function") the name is
    None and the arguments are the entry itself."""
    function = entry.get("function", entry) if isinstance(entry, dict) and _other_type(entry) is None else None
    if not isinstance(function, dict):
        return None, to_json(entry)
    arguments = function.get("arguments", function.get("parameters", {}))
    if not isinstance(arguments, str):
        arguments = to_json({} if arguments is None else arguments)
    return function.get("name"), arguments


def _from_payload(payload: Any, ident: str, raw: str) -> ToolCall:
    """A call's object (`{"name", "arguments"}`, arguments an object or its JSON text) as a
    ToolCall. One in OpenAI's shape (`{"type": "function", "function": {"name", "arguments"}}`,
    no `name` of its own) is read as an OpenAI-style entry is (`_from_entry`)."""
    if not isinstance(payload, dict):
        return ToolCall(ident, error=f"a tool call must be a JSON object with 'name' and 'arguments', got {type(payload).__name__}", raw=raw)
    if "name" not in payload and isinstance(payload.get("function"), dict):
        problem = _entry_key_problem(payload)  # (the text's object, as a flat call's keys are checked)
        if problem is not None:
            name = payload["function"].get("name")
            return ToolCall(ident, name if isinstance(name, str) and name else None, error=problem, raw=raw)
        return _from_entry(payload, ident, raw)
    name = payload.get("name")
    if not isinstance(name, str) or not name:
        return ToolCall(ident, error='the tool call has no \'name\' (a string): write {"name": <tool name>, "arguments": {...}}', raw=raw)
    problem = _key_problem(payload)
    if problem is not None:
        return ToolCall(ident, name, error=problem, raw=raw)
    arguments = payload.get("arguments", payload.get("parameters", {}))
    if isinstance(arguments, str):  # OpenAI style: arguments as a JSON string
        try:
            arguments = _loads(arguments) if arguments.strip() else {}
        except (ValueError, RecursionError) as exc:
            return ToolCall(ident, name, error=f"arguments of {name!r} are not valid JSON: {_json_problem(exc)}", raw=raw)
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        return ToolCall(ident, name, error=f"arguments of {name!r} must be a JSON object, got {type(arguments).__name__}", raw=raw)
    return ToolCall(ident, name, arguments, raw=raw)


#: The top-level keys a call's object may have (`_key_problem`): "name" and "arguments"
#: (Hermes, Qwen), "parameters" in their place (Llama 3.1's JSON calls), and the "id", "type" and
#: "index" that Mistral's calls and OpenAI's entries carry beside them.
_CALL_KEYS = ("name", "arguments", "parameters", "id", "type", "index")


def _key_problem(payload: dict[str, Any]) -> str | None:
    """What is wrong with the top-level keys of a call's object `{"name", "arguments"}`, or None:
    a key outside `_CALL_KEYS` (ignored, it ran the call as if unwritten, while an unknown argument
    is refused), both "arguments" and "parameters" (one was ignored), or a "type" other than
    "function" (as an OpenAI-style entry's, `_from_entry`)."""
    problem = _keys_problem(payload, _CALL_KEYS, "the tool call", "a call's keys are 'name' and 'arguments': write "
                            "{\"name\": <tool name>, \"arguments\": {...}}")
    if problem is not None:
        return problem
    kind = payload.get("type")  # (null, as an OpenAI-style entry's, is no type: `_other_type`)
    if kind is not None and kind != "function":
        return f"a tool call of type {_text(kind)[:100]!r} cannot be run: only type 'function' is supported"
    return None


#: The keys of a call written in OpenAI's shape (`{"type": "function", "function": {...}}`).
_ENTRY_KEYS = ("type", "function", "id", "index")


def _entry_key_problem(payload: dict[str, Any]) -> str | None:
    """`_key_problem` for a call the model wrote in OpenAI's shape: outer keys outside
    `_ENTRY_KEYS`, and the inner `function` object's keys as a flat call's (name, arguments or
    parameters, not both); a key either would drop is refused, as in the flat form (tool_call_rules 3)."""
    return (_keys_problem(payload, _ENTRY_KEYS, "the tool call", "a call in OpenAI's shape has 'type' and 'function': "
                          "write {\"type\": \"function\", \"function\": {\"name\": ..., \"arguments\": {...}}}")
            or _keys_problem(payload["function"], ("name", "arguments", "parameters", "description"),
                             "the tool call's 'function'", "its keys are 'name' and 'arguments'"))


def _keys_problem(obj: dict[str, Any], allowed: Sequence[str], where: str, fix: str) -> str | None:
    """The keys of a call's object `obj` outside `allowed` (named with `fix`), or "arguments" and
    "parameters" both given (one would be dropped), as the error the model reads; None if neither."""
    unknown = [key for key in obj if key not in allowed]
    if unknown:
        return f"unknown key(s) {[key[:100] for key in unknown[:10]]} in {where}; {fix}"
    if "arguments" in obj and "parameters" in obj:
        return "the tool call gives both 'arguments' and 'parameters': give its arguments once, as 'arguments'"
    return None


#: The error of a `<tool_call>` block in a turn that also has OpenAI-style `tool_calls` (no tag in
#: its words: tool replies escape chat markup, see `tool_env.neutralised`, and a tag is a special
#: token of some tokenizers).
MIXED_CALL_ERROR = ("this tool call written in the text was not run: the turn also has OpenAI-style tool_calls, which are its calls; "
                    "give a turn's calls one way only")


def parse_tool_calls(content: str, tool_calls: list[Any] | None = None, *, turn: int = 0) -> list[ToolCall]:
    """All tool calls of one turn: OpenAI-style `tool_calls` if given, else those in the text
    (outside its reasoning: a call drafted inside `<think>…</think>` is none, see `reasoning_spans`).

    A turn with both (a client's message, never a server's: `split_hermes_calls` takes the blocks
    out) runs its `tool_calls`; each `<tool_call>` block of its text comes after them as a call
    with an error (`MIXED_CALL_ERROR`) and an id of its own (`_fresh_id`), so that every call the
    recorded turn shows is answered, and none silently dropped. `openai_tool_calls` given the
    turn's text records those calls too, with the same ids, so that their replies name calls the
    message declares."""
    if tool_calls:
        ids = call_ids(tool_calls, turn)
        calls = [_from_entry(entry, ident) for entry, ident in zip(tool_calls, ids)]
        taken = set(ids)
        # (a stray closing tag is no call here: a turn's text calls are recorded, `openai_tool_calls`,
        # only when its text has an opening tag)
        for k, call in enumerate(_text_calls(content, turn, stray_closes=False), start=len(calls)):
            # the arguments are kept for the record (`openai_tool_calls`); the error keeps the call from running
            calls.append(ToolCall(_fresh_id(turn, k, taken), call.name, call.arguments, error=MIXED_CALL_ERROR, raw=call.raw))
        return calls
    return _text_calls(content, turn)


def reasoning_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each part of `text` that is the model's reasoning, in order: the text up to
    and with the first `</think>` when no `<think>` comes before it (the prompt opened the block,
    as Qwen3's chat template does), then every closed `<think>…</think>` block.

    A tag inside a `<tool_call>` block outside reasoning (a python call's code, a calculator
    expression quoting `</think>`) opens and closes nothing: the call is the model's, not a draft.
    A call that no `</tool_call>` closes before the next `<tool_call>` is an abandoned draft: a
    `</think>` in it still ends the reasoning the prompt opened. An unclosed `<think>` is no block
    (the model never finished it). One pass over the tags' positions: linear in the length of `text`.
    """
    tags = [(match.group(), match.start(), match.end()) for match in _REASONING_TAGS.finditer(text)]
    call_closes = _call_closes_next(tags)
    spans: list[tuple[int, int]] = []
    leading = True  # no `<think>` yet: the text so far may be reasoning the prompt opened
    opened = -1  # where the `<think>` block being read began (-1: none)
    in_call = False  # inside a `<tool_call>` block outside reasoning
    for k, (tag, start, end) in enumerate(tags):
        if opened >= 0:
            if tag == THINK_CLOSE:
                spans.append((opened, end))
                opened = -1
        elif in_call:
            if tag == CLOSE_TAG:
                in_call = False
            elif tag == THINK_CLOSE and leading and not call_closes[k]:
                spans.append((0, end))
                leading = in_call = False
        elif tag == OPEN_TAG:
            in_call = True
        elif tag == THINK_OPEN:
            opened, leading = start, False
        elif tag == THINK_CLOSE and leading:
            spans.append((0, end))
            leading = False
    return spans


def _call_closes_next(tags: list[tuple[str, int, int]]) -> list[bool]:
    """For each of `tags` (`reasoning_spans`'s), whether the next call tag after it is a
    `</tool_call>` (the call it is in closes before another opens)."""
    closes, following = [False] * len(tags), False
    for k in range(len(tags) - 1, -1, -1):
        closes[k] = following
        if tags[k][0] in (OPEN_TAG, CLOSE_TAG):
            following = tags[k][0] == CLOSE_TAG
    return closes


def without_reasoning(text: str) -> str:
    """`text` with its reasoning (`reasoning_spans`) blanked out with spaces: the same length, so
    that a position in it is the same position in `text`."""
    spans = reasoning_spans(text)
    if not spans:
        return text
    pieces, pos = [], 0
    for start, end in spans:
        pieces += [text[pos:start], " " * (end - start)]
        pos = end
    return "".join(pieces) + text[pos:]


def _text_calls(content: str, turn: int, *, stray_closes: bool = True) -> list[ToolCall]:
    """The `<tool_call>` blocks of `content` (Hermes/Qwen format) outside its reasoning
    (`without_reasoning`), in order, the k-th with id `call_id(turn, k)`.

    A block is an opening tag and the first closing tag after it (`tag_blocks`). An opening tag no
    closing tag follows is a call with an error (it never ends); with `stray_closes`, so is a
    closing tag with no opening tag before it since the last block when the text right before it
    is a call's JSON object (`_unopened_call`, `MISSING_OPEN_ERROR`): a call whose opening tag the
    model left out (`{"name": ...}</tool_call>`) was read as a final answer, ending the episode,
    where a malformed call in tags gets an error and another turn. Other stray closing tags (one
    after an answer, even one quoting JSON, a block closed twice) are still no call."""
    content = without_reasoning(content)
    calls: list[ToolCall] = []
    pos, start = 0, -2
    while True:
        if start != -1 and start < pos:  # the next opening tag, searched for again only once passed:
            start = content.find(OPEN_TAG, pos)  # (searching on each stray close was quadratic)
        close = content.find(CLOSE_TAG, pos)
        if close >= 0 and (start < 0 or close < start):  # a closing tag with no opening one before it
            unopened = _unopened_call(content[pos:close]) if stray_closes else None
            if unopened is not None:
                calls.append(ToolCall(call_id(turn, len(calls)), error=MISSING_OPEN_ERROR, raw=unopened[-2000:]))
            pos = close + len(CLOSE_TAG)
            continue
        if start < 0:
            return calls
        close = content.find(CLOSE_TAG, start + len(OPEN_TAG))
        if close < 0:  # a call that never ends (and no later opening tag has a closing one either)
            calls.append(ToolCall(call_id(turn, len(calls)), error=f"a {OPEN_TAG} tag is not closed with {CLOSE_TAG}"))
            return calls
        calls.append(_block_call(content[start + len(OPEN_TAG):close], call_id(turn, len(calls))))
        pos = close + len(CLOSE_TAG)


#: A call's first key: what an object that does not parse must start with to be read as a call (`_unopened_call`).
_CALL_START = re.compile(r'\{\s*"(?:name|function)"\s*:')
#: Final-answer marks the environments read (`\boxed{}`, `<answer>`, `####`): text holding one is an answer, never a call.
_ANSWER_MARK = re.compile(r"\\boxed\s*\{|<answer>|^\s*####", re.MULTILINE)


def _unopened_call(text: str) -> str | None:
    """The call in `text`, the text before a `</tool_call>` with no `<tool_call>` before it, or None.

    It is a call whose opening tag is missing only when `text` ends (whitespace aside) with its last
    top-level JSON object (`_last_object`) and that object has a "name" or "function" key at its top
    level, or, not parsing, starts with one (`{"name": "calculator", "arguments": {...}` with a brace
    missing is a malformed call); and never when `text` holds a final answer's mark
    (`_ANSWER_MARK`): an answer quoting JSON and ending with a stray tag is still the answer."""
    text = text.rstrip()
    if not text.endswith("}") or _ANSWER_MARK.search(text):
        return None
    candidate = _last_object(text)
    if candidate is not None:
        try:
            payload = _loads(candidate)
        except (ValueError, RecursionError):
            if _CALL_START.match(candidate):
                return candidate
        else:
            if _is_call(payload):
                return candidate
    return _call_ending(text)


#: Most places `_call_ending` tries a call's JSON object from: each try parses the rest of the text.
_MAX_CALL_STARTS = 16


def _call_ending(text: str) -> str | None:
    """The call's JSON object `text` ends with, found from the places a call's object starts
    (`_CALL_START`), the last first, or None: a `{` or a quote in the prose before a call (`He wrote
    "{" here. {"name": ...}`) hides it from `_last_object`, which counts braces from the start."""
    starts = [match.start() for match in _CALL_START.finditer(text)][-_MAX_CALL_STARTS:]
    for start in reversed(starts):
        try:
            payload = _loads(text[start:])
        except (ValueError, RecursionError):
            continue
        if _is_call(payload):
            return text[start:]
    return None


def _is_call(payload: Any) -> bool:
    """Whether a parsed JSON value is shaped as a call: an object with a "name" or "function" key."""
    return isinstance(payload, dict) and ("name" in payload or "function" in payload)


def _last_object(text: str) -> str | None:
    """The text from the last `{` that opens a top-level object in `text` (braces inside JSON
    strings not counted; a `}` with no `{` left open is skipped) to its end, or None when none does."""
    start, depth, in_string, escaped = None, 0, False, False
    for position, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = depth > 0  # (a quote in the prose around an object opens no string)
        elif char == "{":
            if depth == 0:
                start = position
            depth += 1
        elif char == "}" and depth > 0:
            depth -= 1
    return None if start is None else text[start:]


#: The error of a `</tool_call>` with no `<tool_call>` before it (`_text_calls`).
MISSING_OPEN_ERROR = (f"a {CLOSE_TAG} tag has no {OPEN_TAG} tag before it: the opening tag is missing; write each call as "
                      f'{OPEN_TAG}{{"name": <tool name>, "arguments": {{...}}}}{CLOSE_TAG}')


def _block_call(inner: str, ident: str) -> ToolCall:
    """The call of one `<tool_call>` block's text."""
    raw = inner.strip()
    try:
        payload = _loads(raw)
    except (ValueError, RecursionError) as exc:
        return ToolCall(ident, error=f"the tool call is not valid JSON: {_json_problem(exc)}", raw=raw[:2000])
    return _from_payload(payload, ident, raw[:2000])


def _from_entry(entry: Any, ident: str, raw: str | None = None) -> ToolCall:
    """One OpenAI-style entry as a ToolCall, read the way `openai_tool_calls` records it (`raw`:
    the text it was read from, else the entry as JSON)."""
    raw = to_json(entry)[:2000] if raw is None else raw
    if not isinstance(entry, dict):
        return ToolCall(ident, error=f"a tool call must be an object, got {type(entry).__name__}", raw=raw)
    kind = _other_type(entry)
    if kind is not None:
        return ToolCall(ident, error=f"a tool call of type {_text(kind)[:100]!r} cannot be run: only type 'function' is "
                                     "supported", raw=raw)
    function = entry.get("function", entry)
    if not isinstance(function, dict):
        return _from_payload(function, ident, raw)
    name, arguments = _function_parts(entry)
    return _from_payload({"name": name, "arguments": arguments}, ident, raw)


def openai_tool_calls(tool_calls: list[Any], turn: int, content: str = "") -> list[dict[str, Any]]:
    """An assistant turn's `tool_calls` as a message records them: in OpenAI's shape, each with
    the id its tool reply names (`call_ids`, as `parse_tool_calls` gives it) and its arguments as a
    JSON string (an object is encoded with `to_json`: always valid JSON). An entry that is not a
    call (not an object, no function name) is recorded as a call with an empty name and the entry
    as its arguments, so that the error reply the env gives it names a call the message declares.

    With the turn's text as `content`, its `<tool_call>` blocks, which `parse_tool_calls` answers
    with `MIXED_CALL_ERROR` beside `tool_calls`, come after them, with the ids their replies name,
    their name ("" when unreadable) and their arguments as JSON (`{}` when unreadable; the block
    itself stays in the text): an OpenAI-format server or chat template refuses a reply naming a
    call its assistant message does not declare. New objects throughout: the caller's list is not
    shared. Never raises."""
    out: list[dict[str, Any]] = []
    for entry, ident in zip(tool_calls, call_ids(tool_calls, turn)):
        name, arguments = _function_parts(entry)
        out.append({"id": ident, "type": "function",
                    "function": {"name": name if isinstance(name, str) else "", "arguments": arguments}})
    if tool_calls and OPEN_TAG in content:
        for call in parse_tool_calls(content, tool_calls, turn=turn)[len(out):]:
            out.append({"id": call.id, "type": "function",
                        "function": {"name": call.name or "", "arguments": to_json(call.arguments)}})
    return out


def template_tool_calls(tool_calls: list[Any]) -> list[Any]:
    """`tool_calls` as a Hugging Face chat template renders them: arguments that are a JSON object
    in a string become that dict (as vLLM hands them to templates), in OpenAI's shape
    (`{"function": {"name", "arguments"}}`) and in the flat one templates also read (`{"name",
    "arguments"}`); anything else is kept."""
    out = []
    for entry in tool_calls:
        if isinstance(entry, dict):
            function = entry.get("function")
            if isinstance(function, dict):
                parsed = _arguments_object(function.get("arguments"))
                if parsed is not None:
                    entry = {**entry, "function": {**function, "arguments": parsed}}
            elif "function" not in entry:
                parsed = _arguments_object(entry.get("arguments"))
                if parsed is not None:
                    entry = {**entry, "arguments": parsed}
        out.append(entry)
    return out


def _arguments_object(arguments: Any) -> dict[str, Any] | None:
    """The dict a JSON object in the string `arguments` holds ({} for a blank string), else None."""
    if not isinstance(arguments, str):
        return None
    try:
        parsed = _loads(arguments) if arguments.strip() else {}
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def split_hermes_calls(text: str) -> tuple[str, list[dict[str, Any]]]:
    """(`text` without its `<tool_call>` blocks, the calls in OpenAI's shape with fresh unique ids),
    for a server answering in OpenAI's format. Blocks inside the reasoning are no calls
    (`reasoning_spans`) and stay in the text. When any block is malformed (bad JSON, no name, an
    unclosed tag) the text comes back whole and the list empty: the caller then hands on the text
    as the model wrote it, and whoever reads it (an env's parser) answers every call, the bad ones
    with an error, rather than seeing only the good ones."""
    if OPEN_TAG not in text:
        return text, []
    parsed = parse_tool_calls(text)
    if not parsed or any(call.error is not None for call in parsed):
        return text, []
    calls = [{"id": f"call_{uuid.uuid4().hex[:24]}", "type": "function",
              "function": {"name": call.name, "arguments": to_json(call.arguments)}} for call in parsed]
    kept, pos = [], 0
    for start, end, _ in tag_blocks(without_reasoning(text), OPEN_TAG, CLOSE_TAG):  # (drafts stay in the text)
        kept.append(text[pos:start])
        pos = end
    kept.append(text[pos:])
    return "".join(kept).strip(), calls
