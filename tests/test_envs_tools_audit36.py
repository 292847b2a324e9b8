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
    assert CALCULATOR_RULES >= 5


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


# --- review of audit 36 -------------------------------------------------------------------------

# 10**20 = 2**20 * 5**20 and 5**20 < 2**53: N(10**20, 15) holds 10**20 exactly; by hand
# 10**20 % 3 == 1 (10 ≡ 1 mod 3), 10**20 % 7 == 2 (10**6 ≡ 1 mod 7, 10**2 ≡ 2)
def test_modulo_of_a_float_is_the_exact_remainder_shown_as_a_float():
    assert _value("N(10**20, 15) % 3") == "1.00000000000000"
    assert _value("N(10**20, 15) % 7") == "2.00000000000000"
    assert _value("-N(10**20, 15) % 3") == "2.00000000000000"
    assert _value("N(10**20, 15) % -3") == "-2.00000000000000"
    assert _value("N(10**20, 15) % N(3, 15)") == "1.00000000000000"
    assert _value("N(7, 15) % 0.3") == "0.100000000000000"  # 7 = 23*(3/10) + 1/10
    # N(pi, 5) is 3.1416 in 20 bits: the integer it times 10**20 holds is 3 mod 7 (computed exactly here)
    import sympy
    held = sympy.Rational(sympy.N(sympy.pi, 5) * 10**20)
    assert held.q == 1 and held.p % 7 == 3
    assert _value("N(pi, 5) * 10**20 % 7") == "3.0000"
    assert _value("N(7.5, 15) % 2") == "1.50000000000000"


def test_floor_division_of_a_float_shows_no_digits_past_its_precision():
    assert _value("N(10**20, 15) // 3") == "3.33333333333333e+19"
    assert _value("N(10**20, 15) // N(3, 15)") == "3.33333333333333e+19"
    assert _value("floor(N(10**20, 15)/3)") == "3.33333333333333e+19"
    assert _value("N(10**20, 15) // pi") == "3.18309886183791e+19"
    # within the Float's precision the integer is shown as before
    assert _value("N(7, 15) // 2") == "3" and _value("floor(N(pi, 15))") == "3"
    assert _value("N(2, 15)*pi // 1") == "6"
    # a remainder beside an irrational keeps its exact quotient: 10**20/pi = 31830988618379067153.77...
    assert _value("N(10**20, 15) % pi").startswith("1.0e+20 - 31830988618379067153*pi ≈ 2.44024")


def test_floor_decides_from_the_value_alone_when_it_is_clearly_between_integers():
    # sin(10**30) = -0.0901169...; sympy cannot evaluate sin(10**30) - k strictly for k != 0
    assert _value("floor(sin(10**30))") == "-1" and _value("ceiling(sin(10**30))") == "0"
    assert _value("floor(-sin(10**30))") == "0"
    assert _value("sin(10**30) // 1") == "-1"
    # = 0.00025465...: positive, below 1
    assert _value("floor(atan(10)/(9*(exp(4) - exp(3)*sin(10**6))*log(10**6)*cos(7)))") == "0"


def test_an_integer_proven_through_a_sine():
    # atan(1/2) + atan(1/3) = pi/4 (tan of the sum is (1/2 + 1/3)/(1 - 1/6) = 1)
    assert _value("floor(4*(atan(1/2) + atan(1/3))/pi)") == "1"
    assert _value("ceiling(4*(atan(1/2) + atan(1/3))/pi)") == "1"
    assert _value("4*(atan(1/2) + atan(1/3))/pi // 1") == "1"
    # just beside it the digits decide, either way
    assert _value("floor(4*(atan(1/2) + atan(1/3))/pi - 10**-50)") == "0"
    assert _value("ceiling(4*(atan(1/2) + atan(1/3))/pi + 10**-50)") == "2"


ANSWER_WITH_JSON = 'The record {"name": "total", "value": 2} holds it, so the answer is \\boxed{2}.</tool_call>'


def test_an_answer_quoting_json_before_a_stray_closing_tag_is_no_call():
    assert parse_tool_calls(ANSWER_WITH_JSON) == []
    assert parse_tool_calls('I used {"name": "calculator"} before. The answer is \\boxed{4}.</tool_call>') == []
    # the object must be right before the tag
    assert parse_tool_calls('{"name": "calculator"} gave 4, so it is 4.</tool_call>') == []
    # an answer mark before a call-shaped object keeps the text an answer
    assert parse_tool_calls(f"So \\boxed{{4}}. {CALL}</tool_call>") == []
    assert parse_tool_calls(f"<answer>4</answer> {CALL}</tool_call>") == []
    # an object with no call's key at its top level is no call
    assert parse_tool_calls('{"record": {"name": "x"}}</tool_call>') == []


def test_a_call_shaped_object_before_a_stray_closing_tag_is_a_call():
    [call] = parse_tool_calls(f"Let me compute. {CALL} \n </tool_call>")
    assert call.error == toolcalls.MISSING_OPEN_ERROR and call.raw == CALL
    nested = '{"type": "function", "function": {"name": "calculator", "arguments": {"expression": "1"}}}'
    [call] = parse_tool_calls(f"{nested}</tool_call>")
    assert call.error == toolcalls.MISSING_OPEN_ERROR and call.raw == nested
    # braces inside its strings are not counted; a malformed call (a brace missing) is still a call
    braces = '{"name": "calculator", "arguments": {"expression": "{}}{"}}'
    assert [call.raw for call in parse_tool_calls(f"{braces}</tool_call>")] == [braces]
    broken = '{"name": "calculator", "arguments": {"expression": "1"}'
    assert [call.raw for call in parse_tool_calls(f"see {broken}</tool_call>")] == [broken]


def test_a_right_boxed_answer_ending_with_a_stray_tag_is_scored():
    env = rlvr.make("rlvr/ToolMath-v0", builtin_tools=("calculator",), max_turns=2)
    env.reset(seed=0)
    answer = env.unwrapped.task.answer
    reply = ANSWER_WITH_JSON.replace("2", str(answer))
    obs, reward, terminated, truncated, info = env.step(reply)
    assert terminated and info["verdict"].correct and reward > 0


# review of ed4f17c: digits of functions whose error sympy does not bound; is_zero taken as proof;
# a call hidden by a brace in prose; many stray closing tags

def _outcome(expression: str) -> tuple[str, str]:
    return evaluate_expression(expression)


def test_floor_near_a_pole_of_tan_is_never_a_wrong_integer():
    # tan(sqrt(pi**2/4 - 10**-40)) is 31415926535897932384626433832795028841971.7...; sympy's own
    # digits for it are wrong from the 23rd on, so the calculator may only refuse or be right
    for function in ("floor", "ceiling"):
        status, text = _outcome(f"{function}(tan(sqrt(pi**2/4 - 10**-40)))")
        if status == "ok":
            right = 31415926535897932384626433832795028841971 + (function == "ceiling")
            assert text == str(right)
        else:
            assert "cannot" in text


def test_floor_beside_the_edge_of_asin_is_right():
    # 10**40*(pi/2 - asin(1 - 10**-40))**2 is 2 + about 3e-41 (asin(1 - e) = pi/2 - sqrt(2e)(1 + e/12 + ...))
    assert _outcome("floor(10**40*(pi/2 - asin(1 - 10**-40))**2)") == ("ok", "2")
    assert _outcome("ceiling(10**40*(pi/2 - asin(1 - 10**-40))**2)") == ("ok", "3")


def test_a_zero_sympy_assumes_from_few_digits_is_not_taken_as_proof():
    # acos(sqrt(1 - 10**-40)) is asin(10**-20), about 10**-20, which sympy's is_zero calls 0
    for function, right in (("floor", "0"), ("ceiling", "1")):
        status, text = _outcome(f"{function}(10**20*acos(sqrt(1 - 10**-40)) - 1)")
        assert (status, text) == ("ok", right) or (status == "error" and "cannot" in text), (function, text)


def test_sympy_proven_zeros_still_give_their_integer():
    assert _value("floor(log(8)/log(2))") == "3"
    assert _value("ceiling(log(8)/log(2))") == "3"
    assert _value("floor(sin(pi/7) - cos(5*pi/14))") == "0"
    assert _value("floor(sin(10**30))") == "-1"


def test_a_brace_or_quote_in_prose_does_not_hide_a_call_missing_its_opening_tag():
    call = '{"name": "calculator", "arguments": {"expression": "2+2"}}'
    for prose in ('He wrote "{" here. ', "Consider the set {1, 2 and then ", 'A quote " then '):
        calls = toolcalls._text_calls(prose + call + "</tool_call>", 0)
        assert [(c.error, c.raw) for c in calls] == [(toolcalls.MISSING_OPEN_ERROR, call)], prose
    # an object that is no call, after such prose, is still no call
    assert toolcalls._text_calls('He wrote "{" here. {"answer": 4}</tool_call>', 0) == []


@pytest.mark.timeout(10)  # hang guard: searching for an opening tag after each stray close was quadratic (21 s)
def test_many_stray_closing_tags_are_read_in_linear_time():
    text = '{"a": 1}</tool_call>' * 50_000  # 1,000,000 characters
    assert toolcalls._text_calls(text, 0) == []
    text = '{"a": 1}</tool_call>' * 50_000 + '<tool_call>{"name": "calculator", "arguments": {}}</tool_call>'
    assert [c.name for c in toolcalls._text_calls(text, 0)] == ["calculator"]


# ------------------------------------------------------------------ `//` of rationals with a negative quotient


@pytest.mark.parametrize("expression, floor", [
    ("-6.4 // 2", -4), ("-68.8 // 2", -35), ("-10 // 0.5", -20), ("-84 // 0.5", -168),
    ("-7 // Rational(1, 3)", -21), ("-1.5 // 1", -2), ("-0.5 // 1", -1), ("(-7/2) // 1", -4),
    ("6.4 // -2", -4), ("-6.4 // -2", 3), ("7 // 2", 3), ("-7 // 2", -4), ("0 // -3", 0),
])
def test_floor_division_of_rationals_floors_negative_quotients(expression, floor):
    # sympy's own `//` cut a fraction toward zero before dividing (-6.4 // 2 was -3) and took one too
    # many off an exact negative quotient (-84 // 0.5 was -169)
    assert _value(expression) == str(floor)


def test_floor_division_and_modulo_of_rationals_agree_as_in_python():
    from fractions import Fraction

    import sympy

    for a in ("-6.4", "-1.5", "7", "-7", "2.25", "-0.1"):
        for b in ("2", "-2", "0.5", "-0.3", "3"):
            quotient = sympy.sympify(_value(f"{a} // {b}").split("≈")[0].strip())
            remainder = sympy.sympify(_value(f"{a} % {b}").split("≈")[0].strip())
            assert quotient == Fraction(a) // Fraction(b), (a, b)
            assert remainder == sympy.Rational(str(Fraction(a) % Fraction(b))), (a, b)
