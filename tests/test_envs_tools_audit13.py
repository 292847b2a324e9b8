"""ToolMath-v0 and `@tool` against audit 13: exceptions whose text fails or hangs, functions whose
call does not run them, signatures and names a model cannot call, hand-built schemas, NaN in tool
calls, mixed and non-function OpenAI calls, unclear registration errors, unencodable tool text,
and the docstring and hint details of the schemas `@tool` builds."""

from __future__ import annotations

import functools
import json
import time

import pytest

import rlvr
from rlvr.envs.toolcalls import MIXED_CALL_ERROR, openai_tool_calls, parse_tool_calls, split_hermes_calls
from rlvr.envs.tools import Tool, _param_docs, tool


def call(name, **arguments):
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


def env_with(*tools, **kwargs):
    env = rlvr.make("rlvr/ToolMath-v0", tools=list(tools), builtin_tools=(), **kwargs)
    env.reset(seed=0)
    return env


def last_reply(info):
    return info["messages"][-1]["content"]


# ------------------------------------------------------------------ 1: an exception whose str() fails or hangs


class BrokenText(Exception):
    def __str__(self):
        raise RuntimeError("no text")


class SlowText(Exception):
    def __str__(self):
        time.sleep(30)
        return "never"


def test_an_exception_whose_str_raises_is_a_failed_call_named_by_its_type():
    @tool
    def broken(x: int) -> str:
        """Fail oddly."""
        raise BrokenText()

    obs, reward, term, trunc, info = env_with(broken).step(call("broken", x=1))
    assert info["valid"] and not term and info["turn_details"]["process_score"] == 0.0
    assert last_reply(info) == "error: tool 'broken' raised BrokenText: <BrokenText>"


def test_a_tool_error_whose_str_raises_keeps_its_kind():
    from rlvr.envs.tools import ToolError

    class BadToolError(ToolError):
        def __str__(self):
            raise RuntimeError("no text")

    @tool
    def refuse(x: int) -> str:
        """Refuse."""
        raise BadToolError()

    *_, info = env_with(refuse).step(call("refuse", x=1))
    assert info["valid"] and last_reply(info) == "error: <BadToolError>"


def test_an_exception_whose_str_hangs_ends_within_the_tool_timeout():
    @tool
    def stall(x: int) -> str:
        """Fail slowly."""
        raise SlowText()

    env = env_with(stall, tool_timeout=0.3, turn_timeout=0.6)
    *_, info = env.step(call("stall", x=1))  # (a str() run in the env's thread would hang 30 s and say "raised")
    assert info["valid"] and last_reply(info).startswith("error: tool 'stall' did not finish within 0.3s")


# ------------------------------------------------------------------ 2, 3: functions whose calls cannot work


def test_async_and_generator_functions_are_refused_at_registration():
    async def fetch(x: int) -> str:
        return "x"

    def gen(x: int):
        yield "x"

    async def agen(x: int):
        yield "x"

    with pytest.raises(TypeError, match="tool 'fetch': an async function cannot be a tool.*asyncio.run"):
        tool(fetch)
    with pytest.raises(TypeError, match="tool 'gen': a generator function cannot be a tool.*collects"):
        tool(gen)
    with pytest.raises(TypeError, match="tool 'agen': an async function"):
        tool(agen)
    with pytest.raises(TypeError, match="an async function"):
        Tool("fetch", "Fetch.", {"type": "object", "properties": {}}, fetch)


def test_positional_only_parameters_are_refused_at_registration():
    def pos(x: int, /) -> str:
        return str(x)

    with pytest.raises(TypeError, match=r"tool pos: parameter 'x' is positional-only .*remove the '/'"):
        tool(pos)


# ------------------------------------------------------------------ 4: hand-built schemas


def hand_built(parameters, name="f"):
    return Tool(name, "A tool.", parameters, lambda **kw: json.dumps(kw, sort_keys=True))


@pytest.mark.parametrize("parameters, problem", [
    ({"type": "object", "properties": ["x"]}, r"tool 'f': parameters has \"properties\" that are a list"),
    ({"type": "object", "properties": {"x": {"type": "int"}}}, r"parameters.properties.x has \"type\": 'int'"),
    ({"type": "object", "properties": {"x": {"type": []}}}, r"parameters.properties.x has \"type\": \[\]"),
    ({"type": "object", "properties": {"x": {"anyOf": [{"type": "string"}]}}}, r"unsupported keyword\(s\) \['anyOf'\]"),
    ({"type": "object", "properties": {"x": {"type": "array", "items": [{"type": "string"}]}}},
     r"parameters.properties.x.items must be a schema \(a dict\), got list"),
    ({"type": "object", "properties": {"x": {"enum": []}}}, r"\"enum\": \[\], which is not a non-empty list"),
    ({"type": "object", "properties": {}, "required": ["x"]}, r"requires \['x'\], which are not among its properties"),
    ({"type": "array"}, r"parameters must have \"type\": \"object\""),
    ("x", r"parameters must be a JSON schema \(a dict\), got str"),
])
def test_a_hand_built_schema_outside_the_supported_subset_is_refused_when_built(parameters, problem):
    with pytest.raises(ValueError, match=problem):
        hand_built(parameters)


def test_hand_built_schemas_with_type_lists_enum_open_objects_and_items_are_enforced():
    nullable = hand_built({"type": "object", "properties": {"x": {"type": ["integer", "null"]}}})
    assert nullable.check_arguments({"x": None}) is None and nullable.check_arguments({"x": 3}) is None
    assert nullable.check_arguments({"x": "a"}) == "argument 'x' of tool 'f' must be an integer or null, got str"
    choice = hand_built({"type": "object", "properties": {"x": {"type": "string", "enum": ["a", "b"]}}})
    assert choice.check_arguments({"x": "zzz"}) == "argument 'x' of tool 'f' must be one of ['a', 'b'], got 'zzz'"
    open_schema = hand_built({"type": "object", "additionalProperties": True})
    assert open_schema.check_arguments({"q": 1, "r": "s"}) is None
    numbers = hand_built({"type": "object", "properties": {"x": {"type": "array", "items": {"type": "integer"}}}})
    assert numbers.check_arguments({"x": [1, None]}) == "argument 'x'[1] of tool 'f' must be an integer, got NoneType"
    # in the env: a correct call runs, a wrong one is the model's error, never an infrastructure failure
    env = env_with(nullable, hand_built({"type": "object", "additionalProperties": True}, name="g"))
    *_, info = env.step(call("f", x=None) + call("g", q=1))
    assert info["valid"] and [m["content"] for m in info["messages"][-2:]] == ['{"x": null}', '{"q": 1}']
    *_, info = env.step(call("f", x=[1]))
    assert info["valid"] and last_reply(info) == "error: argument 'x' of tool 'f' must be an integer or null, got list"


def test_a_tool_whose_schema_was_changed_after_it_was_built_is_refused_by_the_env():
    changed = hand_built({"type": "object", "properties": {"x": {"type": "integer"}}})
    changed.parameters = {"type": "object", "properties": {"x": {"type": ("integer", "null")}}}
    with pytest.raises(ValueError, match=r"tool 'f': parameters.properties.x has \"type\": \('integer', 'null'\)"):
        env_with(changed)


def test_editing_the_tool_schemas_of_an_info_changes_nothing_in_the_env():
    """A caller that tidies the schemas it got (say for a chat template) edits its own copy."""
    env = rlvr.make("rlvr/ToolMath-v0", sandbox_backend="subprocess")
    _, info = env.reset(seed=0, options={"index": 0})
    (calculator,) = [t for t in info["tools"] if t["function"]["name"] == "calculator"]
    calculator["function"]["parameters"]["required"].append("precision")
    calculator["function"]["parameters"]["properties"]["expression"]["type"] = "integer"
    _, info = env.reset(seed=0, options={"index": 0})
    (fresh,) = [t for t in info["tools"] if t["function"]["name"] == "calculator"]
    assert fresh["function"]["parameters"]["required"] == ["expression"]
    assert fresh["function"]["parameters"]["properties"]["expression"]["type"] == "string"
    _, _, _, _, info = env.step(call("calculator", expression="12*5"))
    assert info["turn_details"]["process_score"] == 1.0 and last_reply(info) == "60"
    # the rows of a vector env's tools column are each their own copy too
    from rlvr.envs.vector import make_vec

    vec = make_vec("ToolMath-v0", 2, sandbox_backend="subprocess")
    try:
        _, info = vec.reset(seed=0)
        first, second = info["tools"]
        assert first == second and first[0]["function"]["parameters"] is not second[0]["function"]["parameters"]
    finally:
        vec.close()
    env.close()


# ------------------------------------------------------------------ 5: names


@pytest.mark.parametrize("name", ["my tool!", "x" * 65, "", "a.b"])
def test_tool_names_must_be_openai_function_names(name):
    def f(x: int) -> str:
        return ""

    with pytest.raises(ValueError, match=r"is not a valid function name: use 1 to 64 letters"):
        tool(f, name=name)


def test_a_lambda_needs_an_explicit_name():
    with pytest.raises(ValueError, match=r"has no name a model can call; give it one: tool\(fn, name="):
        tool(lambda: "hi")
    assert tool(lambda: "hi", name="hello").name == "hello"


# ------------------------------------------------------------------ 6: any exception from a tool


def test_a_base_exception_subclass_from_a_tool_is_a_failed_call():
    class MyBase(BaseException):
        pass

    @tool
    def escape() -> str:
        """Escape."""
        raise MyBase("out")

    env = env_with(escape)
    obs, reward, term, trunc, info = env.step(call("escape"))
    assert info["valid"] and not term and last_reply(info) == "error: tool 'escape' raised MyBase: out"
    assert info["turn_details"]["process_score"] == 0.0


# ------------------------------------------------------------------ 8: NaN and infinities are not JSON


def test_nan_and_infinities_are_refused_on_both_paths():
    @tool
    def f(v: float) -> str:
        """Echo."""
        return repr(v)

    for bad in ["NaN", "Infinity", "-Infinity", "1e999"]:
        text = '<tool_call>{"name": "f", "arguments": {"v": %s}}</tool_call>' % bad
        (parsed,) = parse_tool_calls(text)
        assert parsed.error and "not valid JSON" in parsed.error and "finite" in parsed.error, bad
        assert split_hermes_calls(text) == (text, [])  # handed on whole: the env's parser answers the same
        *_, info = env_with(f).step(text)
        assert info["valid"] and "finite" in last_reply(info) and info["turn_details"]["process_score"] == 0.0
    (parsed,) = parse_tool_calls('<tool_call>{"name": "f", "arguments": {"v": 1e300}}</tool_call>')
    assert parsed.arguments == {"v": 1e300}


# ------------------------------------------------------------------ 9: OpenAI tool_calls edge cases


def test_a_tool_call_entry_of_another_type_is_refused_not_run():
    ran = []

    @tool
    def a() -> str:
        """Run."""
        ran.append(1)
        return "ran"

    entry = {"id": "c1", "type": "code_interpreter", "function": {"name": "a", "arguments": "{}"}}
    (parsed,) = parse_tool_calls("", [entry])
    assert parsed.error == "a tool call of type 'code_interpreter' cannot be run: only type 'function' is supported"
    (recorded,) = openai_tool_calls([entry], 1)
    assert recorded["id"] == "c1" and recorded["function"]["name"] == ""
    *_, info = env_with(a).step({"role": "assistant", "content": "", "tool_calls": [entry]})
    assert not ran and info["messages"][-1]["tool_call_id"] == "c1" and "only type 'function'" in last_reply(info)


def test_text_calls_beside_openai_tool_calls_are_answered_with_an_error():
    @tool
    def add(a: int, b: int) -> str:
        """Add."""
        return str(a + b)

    action = {"role": "assistant", "content": call("add", a=5, b=5),
              "tool_calls": [{"id": "call_1_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'}}]}
    *_, info = env_with(add).step(action)
    replies = [m for m in info["messages"] if m["role"] == "tool"]
    assert [m["content"] for m in replies] == ["3", "error: " + MIXED_CALL_ERROR]
    ids = [m["tool_call_id"] for m in replies]
    assert ids[0] == "call_1_1" and len(set(ids)) == 2  # the text call's id differs from the given one
    assert info["turn_details"]["process_score"] == 0.0


# ------------------------------------------------------------------ 11: registration errors


def test_registration_errors_say_what_was_passed():
    with pytest.raises(TypeError, match=r"tools\[0\]: tool\(\) takes a function .*, got None \(NoneType\)"):
        env_with(None)
    with pytest.raises(TypeError, match=r"tools\[0\]: tool\('calculator'\): a string is not a function.*; to offer the "
                                        r"built-in tool 'calculator', use builtin_tools=\(\.\.\., 'calculator'\) \(now \(\)\)"):
        env_with("calculator")
    with pytest.raises(TypeError, match=r"tools\[1\]: tool\('lookup'\): a string is not a function; the built-in tools"):
        env_with(tool(lambda: "x", name="x"), "lookup")

    def f(x) -> str:
        return ""

    f.__annotations__["x"] = "Local"  # a forward reference to a name defined nowhere

    with pytest.raises(TypeError, match=r"tool 'f': its signature or type hints cannot be read \(NameError"):
        tool(f)


def test_a_partial_and_a_callable_object_are_tools_with_a_name():
    def scale(x: int, factor: int) -> str:
        """Scale a number.

        Args:
            x: the number.
            factor: the secret factor.
        """
        return str(x * factor)

    class Adder:
        """Add a constant."""

        def __call__(self, x: int) -> str:
            return str(x + 100)

    with pytest.raises(ValueError, match="give it one"):
        tool(functools.partial(scale, factor=3))
    triple = tool(functools.partial(scale, factor=3), name="triple")
    assert list(triple.parameters["properties"]) == ["x"]  # the bound argument is hidden from the model
    adder = tool(Adder(), name="adder")
    *_, info = env_with(triple, adder).step(call("triple", x=2) + call("adder", x=1))
    assert [m["content"] for m in info["messages"][-2:]] == ["6", "101"]


# ------------------------------------------------------------------ 12: text a tokenizer cannot encode


def test_unencodable_tool_text_is_escaped():
    @tool
    def odd() -> str:
        """Say something odd."""
        return "bad \ud800 surrogate"

    obs, *_, info = env_with(odd).step(call("odd"))
    assert last_reply(info) == "bad \\ud800 surrogate"
    obs.encode("utf-8")
    json.dumps(info["messages"], ensure_ascii=False).encode("utf-8")


# ------------------------------------------------------------------ 7, 10: docstrings and hints


def test_the_docstring_parser_keeps_wrapped_lines_and_stops_at_the_next_section():
    doc = ("Do it.\n\nArgs:\n    a (int): first thing,\n        continued on next line.\n    raises: the real one.\n\n"
           "Raises:\n    ValueError: when bad.\n\nExample:\n    raises: nope\n")
    assert _param_docs(doc) == {"a": "first thing, continued on next line.", "raises": "the real one."}


def test_element_hints_and_none_defaults_shape_the_schema():
    @tool
    def f(xs: list[int], m: dict[str, float], n: int = None, o: str | None = "a") -> str:
        """F."""
        return "ok"

    props = f.parameters["properties"]
    assert props["xs"] == {"type": "array", "items": {"type": "integer"}}
    assert props["m"] == {"type": "object", "additionalProperties": {"type": "number"}}
    assert props["n"] == {"type": ["integer", "null"], "default": None} and props["o"] == {"type": ["string", "null"], "default": "a"}
    assert f.check_arguments({"xs": [1, "a"], "m": {}}) == "argument 'xs'[1] of tool 'f' must be an integer, got str"
    assert f.check_arguments({"xs": [], "m": {"k": "v"}}) == "argument 'm'['k'] of tool 'f' must be a number, got str"
    assert f.check_arguments({"xs": [], "m": {"k": 1}, "n": None, "o": None}) is None


# ------------------------------------------------------------------ review: every reply names a declared call


def echo_tool():
    @tool
    def add(a: int, b: int) -> str:
        """Add."""
        return str(a + b)

    return add


def entry(ident, arguments='{"a": 1, "b": 2}', name="add"):
    call_entry = {"type": "function", "function": {"name": name, "arguments": arguments}}
    return call_entry if ident is None else {"id": ident, **call_entry}


def assert_replies_name_declared_calls(messages):
    """Each tool message names a call its assistant message declares, every declared call has one
    reply; a turn written as text only (no `tool_calls`) is answered by position."""
    from rlvr.envs.toolcalls import call_id

    turn = 0
    for k, message in enumerate(messages):
        if message["role"] == "assistant":
            turn += 1
            replies = []
            for reply in messages[k + 1:]:
                if reply["role"] != "tool":
                    break
                replies.append(reply["tool_call_id"])
            if not replies:
                continue
            declared = [c["id"] for c in message.get("tool_calls") or []]
            if declared:
                assert replies == declared, (replies, declared)
            else:
                assert replies == [call_id(turn, j) for j in range(len(replies))]


@pytest.mark.parametrize("action", [
    # mixed: a given id equal to the text call's positional id, none given, a bad and an unclosed block
    {"content": call("add", a=5, b=5), "tool_calls": [entry("call_1_1")]},
    {"content": "x " + call("add", a=5, b=5) + call("nope"), "tool_calls": [entry(None), entry(None)]},
    {"content": "<tool_call>{bad</tool_call> <tool_call>{\"name\": \"add\"", "tool_calls": [entry("c")]},
    # plain: OpenAI-style with ids, without, duplicated, not a call; text only
    {"content": "", "tool_calls": [entry("a"), entry("b")]},
    {"content": "", "tool_calls": [entry(None), entry("a"), entry("a"), 7, entry(None, arguments="{")]},
    {"content": call("add", a=1, b=2) + call("add", a=3)},
])
def test_every_tool_reply_names_a_call_its_assistant_message_declares(action):
    env = env_with(echo_tool())
    for _ in range(2):  # two turns: ids of the second turn too
        *_, info = env.step({"role": "assistant", **action})
        assert info["valid"]
    assert_replies_name_declared_calls(info["messages"])
    json.dumps(info["messages"])  # what a server is sent


def test_text_calls_beside_tool_calls_are_recorded_with_their_replies_ids():
    text = "sure " + call("add", a=5, b=5) + "<tool_call>[1]</tool_call>"
    action = {"role": "assistant", "content": text, "tool_calls": [entry("call_1_1")]}
    *_, info = env_with(echo_tool()).step(action)
    assistant, *replies = info["messages"][-4:]
    assert assistant["content"] == text  # the text stays as the model wrote it
    assert [c["function"] for c in assistant["tool_calls"]] == [
        {"name": "add", "arguments": '{"a": 1, "b": 2}'},
        {"name": "add", "arguments": '{"a": 5, "b": 5}'},
        {"name": "", "arguments": "{}"},  # an unreadable block: no name, no arguments
    ]
    assert [m["content"] for m in replies] == ["3", "error: " + MIXED_CALL_ERROR, "error: " + MIXED_CALL_ERROR]
    # the recorded form and the parsed calls agree on every id, with or without the text
    assert [c["id"] for c in openai_tool_calls([entry("call_1_1")], 1, text)] == [
        c.id for c in parse_tool_calls(text, [entry("call_1_1")], turn=1)] == ["call_1_1", "call_1_1_1", "call_1_2"]
    assert len(openai_tool_calls([entry("x")], 1)) == 1 and len(openai_tool_calls([entry("x")], 1, "no calls")) == 1


# ------------------------------------------------------------------ review: schema checks written once


def test_top_level_argument_messages_keep_their_wording_and_nested_ones_theirs():
    t = hand_built({"type": "object", "properties": {"x": {"type": "integer"}, "o": {
        "type": "object", "properties": {"k": {"type": "string"}}, "required": ["k"]}}, "required": ["x"]})
    assert t.check_arguments([1]) == "arguments must be a JSON object, got list"
    assert t.check_arguments({}) == "missing required argument(s) ['x'] for tool 'f'"
    assert t.check_arguments({"x": 1, "y": 2}) == "unknown argument(s) ['y'] for tool 'f'; its arguments are ['x', 'o']"
    assert t.check_arguments({"x": "1"}) == "argument 'x' of tool 'f' must be an integer, got str"
    assert t.check_arguments({"x": 1, "o": {}}) == "argument 'o' of tool 'f' is missing the key(s) ['k']"
    assert t.check_arguments({"x": 1, "o": {"k": "v", "z": 0}}) == (
        "argument 'o' of tool 'f' has unknown key(s) ['z']; its keys are ['k']")
    assert t.check_arguments({"x": 1, "o": {"k": 2}}) == "argument 'o'['k'] of tool 'f' must be a string, got int"
    assert t.check_arguments({"x": 1, "o": {"k": "v"}}) is None


@pytest.mark.parametrize("kinds", [["integer", ["null"]], [{"a": 1}], ["integer", "integer"], ["int"], [], 3])
def test_a_type_list_of_unknown_unhashable_or_repeated_names_is_refused(kinds):
    with pytest.raises(ValueError, match=r"which is not a type name or a non-empty list of distinct ones"):
        hand_built({"type": "object", "properties": {"x": {"type": kinds}}})


# ------------------------------------------------------------------ review: a Tool is checked by one method


async def _async_fn(x: int) -> str:
    return "x"


@pytest.mark.parametrize("field, value, error, problem", [
    ("fn", _async_fn, TypeError, r"tools\[0\]: tool 'f': an async function cannot be a tool"),
    ("fn", "not callable", TypeError, r"tools\[0\]: tool 'f': fn must be callable, got str"),
    ("name", "bad name", ValueError, r"tools\[0\]: tool name 'bad name' is not a valid function name"),
    ("description", None, TypeError, r"tools\[0\]: tool 'f': description must be a string"),
])
def test_a_tool_changed_after_it_was_built_is_checked_again_by_the_env(field, value, error, problem):
    changed = hand_built({"type": "object", "properties": {"x": {"type": "integer"}}})
    setattr(changed, field, value)
    with pytest.raises(error, match=problem):
        env_with(changed)
    with pytest.raises(error):
        changed.validate()


# ------------------------------------------------------------------ review: close and the fingerprint


def test_close_closes_no_sandbox_it_did_not_create_and_the_env_stays_usable(box):
    env = rlvr.make("rlvr/ToolMath-v0", tools=[echo_tool()], builtin_tools=("python",), sandbox=box)
    env.reset(seed=0)
    env.close()
    env.close()
    assert box.run("print(1)").stdout == "1\n"  # the caller's sandbox still runs
    env.reset(seed=1)
    *_, info = env.step(call("python", code="print(6 * 7)"))
    assert info["valid"] and last_reply(info).strip() == "42"
    *_, info = env.step(call("add", a=1, b=2))
    assert info["valid"] and last_reply(info) == "3"


def test_max_obs_chars_is_in_the_fingerprint():
    def fingerprint(max_obs_chars):
        _, info = rlvr.make("rlvr/ToolMath-v0", builtin_tools=("calculator",), max_obs_chars=max_obs_chars).reset(seed=0)
        return info["fingerprint"]

    assert fingerprint(40_000)["settings"]["max_obs_chars"] == 40_000
    assert fingerprint(40_000) != fingerprint(50_000)
