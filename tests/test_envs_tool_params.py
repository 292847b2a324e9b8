"""Tool parameters against JSON Schema: an integer is any number with no fractional part (`3.0`
is one, and the tool gets the int 3), and `@tool` writes a parameter's default into its schema
when the default is JSON and fits the parameter."""

from __future__ import annotations

import json
import math

import pytest

import rlvr
from rlvr.envs.tool_schema import argument_problem, conform_arguments
from rlvr.envs.tools import Tool, tool


def env_with(*tools):
    env = rlvr.make("rlvr/ToolMath-v0", tools=list(tools), builtin_tools=(), max_turns=4)
    env.reset(seed=0)
    return env


def step_text(env, text):
    """Step `env` with the model turn `text`; (the tool's reply, the turn's process reward)."""
    *_, info = env.step(text)
    return info["messages"][-1]["content"], info["turn_details"]["process_score"]


@tool
def kinds(n: int, xs: list[int] = [], m: dict[str, int] = {}, x: float = 0.0) -> str:  # noqa: B006 - never mutated
    """Name the Python types the tool got."""
    return " ".join([type(n).__name__, *(type(v).__name__ for v in xs), *(type(v).__name__ for v in m.values()),
                     type(x).__name__])


# ------------------------------------------------------------------ 1: integral floats are integers


def test_a_float_with_no_fractional_part_is_an_integer_and_the_tool_gets_an_int():
    env = env_with(kinds)
    text = '<tool_call>{"name": "kinds", "arguments": {"n": 3.0, "xs": [1.0, 2], "m": {"k": -0.0}, "x": 2.0}}</tool_call>'
    # n, the list's and the dict's integers become ints; a float parameter keeps its float
    assert step_text(env, text) == ("int int int int float", 1.0)
    assert step_text(env, '<tool_call>{"name": "kinds", "arguments": {"n": 1e3}}</tool_call>') == ("int float", 1.0)


@pytest.mark.parametrize("arguments, problem", [
    ('{"n": 3.5}', "argument 'n' of tool 'kinds' must be an integer, got float"),
    ('{"n": true}', "argument 'n' of tool 'kinds' must be an integer, got bool"),
    ('{"n": false}', "argument 'n' of tool 'kinds' must be an integer, got bool"),
    ('{"n": "3"}', "argument 'n' of tool 'kinds' must be an integer, got str"),
    ('{"n": 1, "xs": [0.5]}', "argument 'xs'[0] of tool 'kinds' must be an integer, got float"),
])
def test_other_numbers_bools_and_strings_are_still_not_integers(arguments, problem):
    env = env_with(kinds)
    assert step_text(env, f'<tool_call>{{"name": "kinds", "arguments": {arguments}}}</tool_call>') == ("error: " + problem, 0.0)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 3.5, True])
def test_nan_infinities_fractions_and_bools_given_as_objects_are_refused(value):
    # strict JSON cannot carry NaN or infinities, but a caller of check_arguments can
    assert kinds.check_arguments({"n": value}) == f"argument 'n' of tool 'kinds' must be an integer, got {type(value).__name__}"


def test_conforming_leaves_the_callers_arguments_and_whatever_needs_no_change_alone():
    schema = kinds.parameters
    given = {"n": 3.0, "xs": [1.0], "m": {"k": 2}, "x": 1.0}
    conformed = conform_arguments(given, schema)
    assert conformed == given and given == {"n": 3.0, "xs": [1.0], "m": {"k": 2}, "x": 1.0}
    assert type(given["n"]) is float and type(given["xs"][0]) is float  # the recorded call is not modified
    assert type(conformed["n"]) is int and type(conformed["xs"][0]) is int and type(conformed["x"]) is float
    assert conformed["m"] is given["m"]  # nothing to change: the same object
    unchanged = {"n": 3, "xs": [1, 2]}
    assert conform_arguments(unchanged, schema) is unchanged


def test_a_type_list_that_also_takes_numbers_keeps_the_float():
    def echo(**kw):
        return " ".join(f"{k}={type(v).__name__}" for k, v in sorted(kw.items()))

    hand = Tool("hand", "A tool.", {"type": "object", "properties": {
        "a": {"type": ["number", "integer"]}, "b": {"type": ["integer", "null"]},
        "c": {"type": "integer", "enum": [1, 2]}, "d": {"items": {"type": "integer"}}}}, echo)
    arguments = {"a": 2.0, "b": 2.0, "c": 2.0, "d": [4.0]}
    assert argument_problem(arguments, hand.parameters, "hand") is None
    assert hand.run(arguments) == "a=float b=int c=int d=list"
    (item,) = conform_arguments(arguments, hand.parameters)["d"]
    assert item == 4 and type(item) is int
    assert hand.check_arguments({"c": 3.0}) == "argument 'c' of tool 'hand' must be one of [1, 2], got 3.0"


# ------------------------------------------------------------------ 2: defaults in the schema


def test_defaults_that_are_json_and_fit_the_parameter_are_written_into_the_schema():
    @tool
    def f(a: int = 3, b: float = 0.5, c: str = "x", d: bool = False, e: list[int] = [1, 2],  # noqa: B006
          g: dict[str, float] = {"k": 1.0}, h: int = None, i: int | None = None, j: str | None = "s",  # noqa: B006
          k: float = 2, n: int = 4.0) -> str:
        """F."""
        return "ok"

    props = f.parameters["properties"]
    assert {name: props[name]["default"] for name in props} == {
        "a": 3, "b": 0.5, "c": "x", "d": False, "e": [1, 2], "g": {"k": 1.0}, "h": None, "i": None, "j": "s", "k": 2, "n": 4.0}
    assert props["h"] == {"type": ["integer", "null"], "default": None}
    assert f.parameters["required"] == []
    props["e"]["default"].append(3)  # the schema holds its own copy, not the function's default
    assert f.fn.__defaults__[4] == [1, 2]


def test_defaults_that_are_not_json_or_do_not_fit_the_parameter_are_left_out():
    @tool
    def f(a: int = "auto", b: float = math.nan, c: list = (1, 2), d: dict = {1: 2},  # noqa: B006
          e: int = True, g: str = object(), h: list[int] = [1, "x"], i: float = math.inf) -> str:  # noqa: B006
        """F."""
        return "ok"

    assert all("default" not in schema for schema in f.parameters["properties"].values())


def test_a_required_parameter_and_a_bound_partial_argument_have_no_default():
    import functools

    def scale(x: int, factor: int = 2) -> str:
        """Scale."""
        return str(x * factor)

    triple = tool(functools.partial(scale, factor=3), name="triple")
    assert triple.parameters["properties"] == {"x": {"type": "integer"}}
    assert tool(scale).parameters["properties"] == {"x": {"type": "integer"}, "factor": {"type": "integer", "default": 2}}


def test_the_system_prompt_shows_the_default_to_the_model():
    @tool
    def lookup(word: str, limit: int = 3) -> str:
        """Look a word up."""
        return word * limit

    env = env_with(lookup)
    assert '"limit": {"type": "integer", "default": 3}' in env.unwrapped.system_prompt
    assert step_text(env, '<tool_call>{"name": "lookup", "arguments": {"word": "ab", "limit": 2.0}}</tool_call>') == ("abab", 1.0)


def test_a_long_default_is_left_out_of_the_schema():
    """The schema is in every prompt that lists the tool: a large default (a table) would fill the
    model's context, so one longer than MAX_DEFAULT_CHARS as JSON is not written."""
    from rlvr.envs.tool_schema import MAX_DEFAULT_CHARS
    from rlvr.envs.tools import tool

    @tool
    def lookup(i: int, table: list[int] = list(range(1000)), short: list[int] = [1, 2]) -> str:  # noqa: B006
        """Looks up."""
        return str(table[i])

    props = lookup.parameters["properties"]
    assert "default" not in props["table"] and props["short"]["default"] == [1, 2]
    assert len(json.dumps(list(range(1000)))) > MAX_DEFAULT_CHARS
