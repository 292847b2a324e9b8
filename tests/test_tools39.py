"""ToolMath-v0's reading of tool calls and its calculator, audit 39: a key repeated in a call's
JSON is an error (json kept the last one: a second "name" ran another tool), a text call's
top-level key outside those chat formats write is refused (it was ignored), and the calculator
shows no `≈` value that only repeats a Gaussian integer (`2*I ≈ 2.0*I`)."""

from __future__ import annotations

import json

import pytest

import rlvr
from rlvr.envs.calculator import evaluate_expression, make_calculator
from rlvr.envs.toolcalls import parse_tool_calls, split_hermes_calls


@pytest.fixture
def env():
    env = rlvr.make("rlvr/ToolMath-v0", sandbox_backend="subprocess", max_turns=8)
    env.reset(seed=0)
    yield env
    env.close()


def tool_turn(env, action):
    """(observation, the turn's recorded calls, its process score) of one tool-calling step, which
    must leave the episode going on."""
    obs, _, term, trunc, info = env.step(action)
    assert info["valid"] and not term and not trunc
    return obs, info["turn_details"]["tool_calls"], info["turn_details"]["process_score"]


def block(text):
    return f"<tool_call>{text}</tool_call>"


# ------------------------------------------------------------------ 1: duplicate keys


def test_a_repeated_name_is_an_error_not_the_last_tool(env):
    obs, calls, score = tool_turn(env, block('{"name": "calculator", "arguments": {"expression": "1+1"}, "name": "python"}'))
    assert "duplicate key 'name'" in obs and obs.startswith("<tool_response>\nerror: ")
    assert "missing required argument" not in obs  # python was run with the calculator's arguments
    assert [call["ok"] for call in calls] == [False] and score == 0.0


def test_a_repeated_argument_is_an_error_not_the_last_value(env):
    obs, calls, score = tool_turn(env, block('{"name": "calculator", "arguments": {"expression": "1+1", "expression": "2+2"}}'))
    assert "duplicate key 'expression'" in obs and "\n4\n" not in obs
    assert [call["ok"] for call in calls] == [False] and score == 0.0


def test_openai_style_arguments_text_refuses_a_repeated_key_too(env):
    entry = {"id": "c1", "type": "function",
             "function": {"name": "calculator", "arguments": '{"expression": "1+1", "expression": "2+2"}'}}
    obs, calls, score = tool_turn(env, {"role": "assistant", "content": "", "tool_calls": [entry]})
    assert "duplicate key 'expression'" in obs and "\n4\n" not in obs
    assert [call["ok"] for call in calls] == [False] and score == 0.0


def test_a_repeated_key_deeper_in_the_call_is_refused_and_a_server_keeps_the_text_whole():
    text = block('{"name": "python", "arguments": {"code": "print(1)", "options": {"a": 1, "a": 2}}}')
    [call] = parse_tool_calls(text)
    assert call.error is not None and "duplicate key 'a'" in call.error
    assert split_hermes_calls(text) == (text, [])  # the env then answers the call with its error


def test_distinct_keys_still_parse():
    [call] = parse_tool_calls(block('{"name": "calculator", "arguments": {"expression": "1+1"}}'))
    assert call.error is None and call.arguments == {"expression": "1+1"}


# ------------------------------------------------------------------ 2: top-level keys of a text call


def test_an_unknown_top_level_key_is_refused_as_an_unknown_argument_is(env):
    obs, calls, score = tool_turn(env, block('{"name": "calculator", "arguments": {"expression": "1+1"}, "extra": 2}'))
    assert "unknown key(s) ['extra'] in the tool call" in obs and "\n2\n" not in obs
    assert [call["ok"] for call in calls] == [False] and score == 0.0


@pytest.mark.parametrize("payload", [
    {"name": "calculator", "arguments": {"expression": "1+1"}},  # Hermes, Qwen
    {"name": "calculator", "parameters": {"expression": "1+1"}},  # Llama 3.1
    {"type": "function", "name": "calculator", "parameters": {"expression": "1+1"}},  # Llama 3.2
    {"name": "calculator", "arguments": {"expression": "1+1"}, "id": "a1b2c3d4e"},  # Mistral
    {"id": "call_1", "type": "function", "function": {"name": "calculator", "arguments": '{"expression": "1+1"}'}},  # OpenAI
])
def test_the_shapes_chat_formats_write_still_run(env, payload):
    obs, calls, score = tool_turn(env, block(json.dumps(payload)))
    assert obs == "<tool_response>\n2\n</tool_response>"
    assert [call["ok"] for call in calls] == [True] and score == 1.0


@pytest.mark.parametrize("payload, error", [
    ({"name": "calculator", "arguments": {"expression": "1+1"}, "parameters": {"expression": "2+2"}},
     "gives both 'arguments' and 'parameters'"),
    ({"type": "retrieval", "name": "calculator", "arguments": {"expression": "1+1"}}, "of type 'retrieval' cannot be run"),
])
def test_arguments_given_twice_or_another_type_are_errors(payload, error):
    [call] = parse_tool_calls(block(json.dumps(payload)))
    assert call.error is not None and error in call.error


# ------------------------------------------------------------------ 4: the calculator


@pytest.mark.parametrize("expression, shown", [
    ("sqrt(-1)", "I"), ("sqrt(-4)", "2*I"), ("(1+I)**2", "2*I"), ("3 - 4*I", "3 - 4*I"),
    ("I/2", "I/2 ≈ 0.5*I"), ("sqrt(-2)", "sqrt(2)*I ≈ 1.4142135623731*I"), ("1/3", "1/3 ≈ 0.333333333333333"),
])
def test_an_approximation_is_shown_only_when_it_adds_something(expression, shown):
    assert evaluate_expression(expression) == ("ok", shown)


def test_the_calculator_says_factor_is_for_polynomials(env):
    assert evaluate_expression("factor(12)") == ("ok", "12")
    hint = "factor: polynomials, not integers"
    assert hint in make_calculator().description and hint in env.unwrapped.tools["calculator"].description


def test_a_power_of_a_complex_integer_keeps_its_value():
    """`(2+I)**1000` is shown unexpanded: without its `≈` value the model reads its own input back
    (the whole-complex rule of calculator_rules 6 first took it for `a + b*I`)."""
    status, text = evaluate_expression("(2+I)**1000")
    assert status == "ok" and text.startswith("(2 + I)**1000 ≈ "), text
    assert evaluate_expression("3 - 4*I") == ("ok", "3 - 4*I")


def test_a_text_call_of_type_null_runs_as_an_entry_of_type_null_does():
    calls = parse_tool_calls('<tool_call>{"name": "calculator", "arguments": {"expression": "1+1"}, "type": null}</tool_call>')
    assert [c.name for c in calls] == ["calculator"] and all(c.error is None for c in calls), calls


@pytest.mark.parametrize("payload,problem", [
    ('{"type": "function", "function": {"name": "calculator", "arguments": {"expression": "1"}}, "thought": "x"}', "unknown key(s) ['thought']"),
    ('{"type": "function", "function": {"name": "calculator", "arguments": {"expression": "1"}}, "arguments": {"expression": "2"}}',
     "unknown key(s) ['arguments']"),
    ('{"type": "function", "function": {"name": "calculator", "arguments": {"expression": "1"}, "parameters": {"expression": "2"}}}',
     "both 'arguments' and 'parameters'"),
])
def test_a_call_written_in_openais_shape_has_its_keys_checked_as_a_flat_one(payload, problem):
    """A `<tool_call>` in OpenAI's shape was rebuilt from its `function` before any key was looked at:
    extra keys, and a second set of arguments, were dropped without a word (tool_call_rules 3)."""
    [call] = parse_tool_calls(f"<tool_call>{payload}</tool_call>")
    assert call.error is not None and problem in call.error, call
    [fine] = parse_tool_calls('<tool_call>{"type": "function", "function": {"name": "calculator", "arguments": '
                              '{"expression": "1"}}, "id": "a", "index": 0}</tool_call>')
    assert fine.error is None and fine.arguments == {"expression": "1"}
