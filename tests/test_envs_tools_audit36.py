"""Audit 36: the calculator's floor, ceiling, `//` and `%` near integers, and text tool calls with
a missing opening tag or in OpenAI's shape."""

from __future__ import annotations

import json

import pytest

import rlvr
from rlvr.envs.calculator import CALCULATOR_RULES, evaluate_expression
from rlvr.envs import toolcalls
from rlvr.envs.toolcalls import parse_tool_calls, split_hermes_calls


def _value(expression: str) -> str:
    status, text = evaluate_expression(expression)
    assert status == "ok", text
    return text


# digit counts and bit lengths, known by hand: k digits for 10**(k-1) .. 10**k - 1
@pytest.mark.parametrize("k", [3, 15, 16, 17, 30, 50])
def test_floor_of_a_logarithm_gives_digit_counts(k):
    assert _value(f"floor(log(10**{k} - 1, 10)) + 1") == str(k)
    assert _value(f"floor(log(10**{k}, 10)) + 1") == str(k + 1)
    assert _value(f"floor(log(10**{k} + 1, 10)) + 1") == str(k + 1)
    assert _value(f"ceiling(log(10**{k} - 1, 10))") == str(k)
    assert _value(f"ceiling(log(10**{k}, 10))") == str(k)
    assert _value(f"ceiling(log(10**{k} + 1, 10))") == str(k + 1)
    assert _value(f"log(10**{k} - 1, 10) // 1") == str(k - 1)


@pytest.mark.parametrize("k", [10, 45, 53, 64, 200])
def test_floor_of_a_logarithm_gives_bit_lengths(k):
    assert _value(f"floor(log(2**{k} - 1, 2)) + 1") == str(k)
    assert _value(f"floor(log(2**{k}, 2)) + 1") == str(k + 1)
    assert _value(f"ceiling(log(2**{k} + 1, 2))") == str(k + 1)


def test_the_red_team_cases():
    assert _value("floor(log(10**15 - 1, 10))") == "14"
    assert _value("floor(log(10**17 - 1, 10)) + 1") == "17"
    assert _value("floor(log(2**45 - 1, 2))") == "44"
    assert _value("ceiling(log(10**15 + 1, 10))") == "16"
    assert _value("log(10**15 - 1, 10) // 1") == "14"


def test_negative_values_floor_and_ceiling():
    assert _value("floor(-log(10**15 - 1, 10))") == "-15"
    assert _value("ceiling(-log(10**15 - 1, 10))") == "-14"
    assert _value("ceiling(-log(10**15 + 1, 10))") == "-15"
    assert _value("-log(10**15 - 1, 10) // 1") == "-15"
    assert _value("floor(-sqrt(2))") == "-2" and _value("ceiling(-pi)") == "-3"


def test_exact_integers_stay_themselves():
    assert _value("floor(log(1000, 10))") == "3"
    assert _value("floor(log(8)/log(2))") == "3" and _value("ceiling(log(8)/log(2))") == "3"
    assert _value("floor(sqrt(10**30))") == str(10**15)
    assert _value("floor(sqrt(10**30 - 1))") == str(10**15 - 1)
    assert _value("ceiling(sqrt(10**30 - 1))") == str(10**15)
    assert _value("floor(sqrt(8)/sqrt(2))") == "2"
    # a zero sympy does not simplify away, proven equal to 0
    assert _value("floor(sin(pi/7) - cos(5*pi/14))") == "0"
    assert _value("(sin(pi/7) - cos(5*pi/14)) // 1") == "0"


def test_near_integers_and_large_values():
    assert _value("floor(E**(pi*sqrt(163)))") == "262537412640768743"
    assert _value("ceiling(E**(pi*sqrt(163)))") == "262537412640768744"
    assert _value("floor(pi*10**200) % 10") == "6"  # pi's 201st significant digit is 6


def test_modulo_of_an_irrational_near_an_integer():
    text = _value("log(10**15 - 1, 10) % 1")
    assert text.startswith("-14 + ") and "≈" in text
    assert _value("log(10**50 - 1, 10) % 1").startswith("-49 + ")
    assert _value("sqrt(2) % 1") == "-1 + sqrt(2) ≈ 0.414213562373095"
    assert _value("-sqrt(2) % 1") == "2 - sqrt(2) ≈ 0.585786437626905"
    assert _value("sqrt(2) % -1") == "-2 + sqrt(2) ≈ -0.585786437626905"


def test_rationals_symbols_and_zero_divisors_unchanged():
    assert _value("7 // 2") == "3" and _value("-7 // 2") == "-4" and _value("-7 % 3") == "2"
    assert _value("7.5 // 2") == "3" and _value("0.1 // 0.03") == "3" and _value("0.3 % 0.1") == "0"
    assert _value("floor(7/2)") == "3" and _value("ceiling(-7/2)") == "-3"
    assert _value("2**3**2 // 1 + 1") == "513"
    assert _value("x // 2") == "floor(x/2)" and _value("x % 3") == "Mod(x, 3)"
    assert evaluate_expression("5 // 0")[0] == "error" and evaluate_expression("pi % 0")[0] == "error"


def test_the_calculator_rules_are_bumped():
    assert CALCULATOR_RULES == 4


CALL = '{"name": "calculator", "arguments": {"expression": "100 % 7"}}'


def test_a_closing_tag_without_an_opening_one_is_an_error_call():
    calls = parse_tool_calls(CALL + "</tool_call>")
    assert len(calls) == 1 and calls[0].error == toolcalls.MISSING_OPEN_ERROR and calls[0].raw == CALL
    # after a good block, a stray closing tag is a second call, in order
    calls = parse_tool_calls(f"<tool_call>{CALL}</tool_call> and {CALL}</tool_call>")
    assert [call.error is None for call in calls] == [True, False] and calls[1].id == "call_0_1"
    # with no call's key before it (after an answer, a block closed twice) it is still no call
    assert parse_tool_calls("The answer is \\boxed{60} </tool_call>") == []
    assert [call.error for call in parse_tool_calls(f"<tool_call>{CALL}</tool_call></tool_call>")] == [None]
    # inside the reasoning it is nothing
    assert parse_tool_calls(f"<think>{CALL}</tool_call></think> the answer is 2") == []
    # a turn with OpenAI-style tool_calls runs those; its text's stray closing tag is no call
    entry = {"id": "a", "type": "function", "function": {"name": "calculator", "arguments": '{"expression": "1"}'}}
    assert [call.id for call in parse_tool_calls("x</tool_call>", [entry])] == ["a"]
    # a server's split leaves the text whole for the env to answer
    assert split_hermes_calls(CALL + "</tool_call>") == (CALL + "</tool_call>", [])


def test_a_call_missing_its_opening_tag_gets_an_error_and_another_turn():
    env = rlvr.make("rlvr/ToolMath-v0", builtin_tools=("calculator",))
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(CALL + "</tool_call>")
    assert not terminated and reward == 0.0
    assert "opening tag is missing" in obs


def test_a_block_in_openai_shape_is_read_as_that_call():
    nested = {"type": "function", "function": {"name": "calculator", "arguments": {"expression": "100 % 7"}}}
    for arguments in (nested["function"]["arguments"], json.dumps(nested["function"]["arguments"])):
        payload = {**nested, "function": {**nested["function"], "arguments": arguments}}
        [call] = parse_tool_calls(f"<tool_call>{json.dumps(payload)}</tool_call>")
        assert call.error is None and call.name == "calculator" and call.arguments == {"expression": "100 % 7"}
    [call] = parse_tool_calls('<tool_call>{"type": "retrieval", "function": {"name": "calculator"}}</tool_call>')
    assert "type 'retrieval'" in call.error
    [call] = parse_tool_calls('<tool_call>{"tool": "calculator"}</tool_call>')
    assert "no 'name'" in call.error and '"arguments"' in call.error
    env = rlvr.make("rlvr/ToolMath-v0", builtin_tools=("calculator",))
    env.reset(seed=0)
    obs, *_ = env.step(f"<tool_call>{json.dumps(nested)}</tool_call>")
    assert "<tool_response>\n2\n</tool_response>" in obs
