"""ToolMath-v0, its tool-call reading, its calculator and the steps check: review of session 27."""

from __future__ import annotations

import json

import pytest

from rlvr.envs.calculator import check_calculator_expression, evaluate_expression, make_calculator
from rlvr.envs.process import reasoning_of
from rlvr.envs.tool_env import ToolMathEnv
from rlvr.envs.toolcalls import parse_tool_calls, reasoning_spans, split_hermes_calls
from rlvr.envs.tools import ToolError, TurnBudget
from rlvr.verifiers.steps import MAX_STEPS, verify_steps


def call(name: str, **arguments) -> str:
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


def calculator_env(**kwargs) -> tuple[ToolMathEnv, str]:
    env = ToolMathEnv(builtin_tools=("calculator",), **kwargs)
    env.reset(options={"index": 0})
    return env, env.task.answer


PROSE = "\n".join(f"Note {i}: let me think about the problem carefully" for i in range(70))


# -- 1. each turn's reasoning is read within its own window ---------------------------------------


def test_prose_in_tool_turns_does_not_push_the_answers_claims_out_of_reading():
    # the turns were joined into one text and read to its 200th line: the answer's true `12 * 5 = 60`
    # (line 211) counted as a false step, and the episode earned no process credit
    env, gold = calculator_env(max_turns=4, process_reward="steps")
    for _ in range(3):
        env.step(PROSE + "\n" + call("calculator", expression="12*5"))
    _, reward, terminated, _, info = env.step(f"12 * 5 = 60\nSo the answer is \\boxed{{{gold}}}.")
    assert terminated and gold == "60"
    assert info["turn_details"]["process_paid"]["steps"] == 1.0
    assert reward == pytest.approx(1.1)


def test_a_solution_in_parts_gives_each_part_its_own_window():
    prose = "\n".join(f"Note {i}: nothing to check here" for i in range(MAX_STEPS + 10))
    assert not verify_steps(prose + "\n3 * 4 = 12").correct  # one text: the claim is past the window
    assert verify_steps([prose, "3 * 4 = 12"]).correct
    # the window still holds within a part: an equality past it is not shown to hold
    late = verify_steps(["3 * 4 = 12", prose + "\n2 + 2 = 4"])
    assert not late.correct and "after the first" in late.reason
    # a claim stated in an earlier part is judged once
    repeated = verify_steps(["2 + 3 = 5", "2 + 3 = 5", "5 = 2 + 3"])
    assert repeated.correct and repeated.details["claims"] == 1 and repeated.details["repeated_claims"] == 2


# -- 2. a tool call drafted in the reasoning is no call -------------------------------------------


def test_a_call_drafted_inside_think_is_not_run_and_the_answer_is_scored():
    # the drafted call ran and the turn was a tool turn: the answer after </think> was never scored
    env, gold = calculator_env(max_turns=1)
    text = (f"<think>I could check it with {call('calculator', expression='12*12')} but it is easy.</think>\n"
            f"The answer is \\boxed{{{gold}}}.")
    _, reward, terminated, truncated, info = env.step(text)
    assert terminated and not truncated and reward == pytest.approx(1.1)
    assert "tool_calls" not in info["turn_details"]
    assert not [m for m in info["messages"] if m["role"] == "tool"]


def test_a_call_after_the_reasoning_block_still_runs():
    env, _ = calculator_env(max_turns=2)
    obs, reward, terminated, _, info = env.step(f"<think>I will compute it.</think>\n{call('calculator', expression='12*5')}")
    assert not terminated and "60" in obs
    assert info["turn_details"]["tool_calls"] == [{"id": "call_1_0", "name": "calculator", "ok": True}]


def test_qwen3_reasoning_opened_by_the_prompt_holds_no_call():
    # Qwen3's template opens <think> in the prompt: the response holds only its closing tag
    drafted = f"I could call {call('calculator', expression='12*12')} here.\n</think>\n\nThe answer is \\boxed{{60}}."
    assert parse_tool_calls(drafted) == []
    env, gold = calculator_env(max_turns=1)
    _, reward, terminated, _, _ = env.step(drafted.replace("60", gold))
    assert terminated and reward == pytest.approx(1.1)
    after = f"Let me compute it.\n</think>\n\n{call('calculator', expression='12*5')}"
    assert [c.name for c in parse_tool_calls(after)] == ["calculator"]


def test_a_think_tag_inside_a_calls_code_opens_no_reasoning():
    code = call("python", code="print('<think>')")
    text = f"{code} then <think>a</think> {call('calculator', expression='1+1')}"
    assert [c.name for c in parse_tool_calls(text)] == ["python", "calculator"]


def test_a_server_split_keeps_drafted_calls_in_the_text():
    drafted = f"<think>maybe {call('calculator', expression='1+1')}</think>"
    text, calls = split_hermes_calls(f"{drafted} {call('calculator', expression='2+2')}")
    assert text == drafted and [c["function"]["name"] for c in calls] == ["calculator"]


def test_an_unclosed_call_drafted_in_think_does_not_hide_the_text_after_the_block():
    reasoning = reasoning_of('<think>maybe <tool_call>{"name": </think> 12 * 5 = 60 so \\boxed{60}')
    assert "12 * 5 = 60" in reasoning and "tool_call" not in reasoning


def test_a_think_close_inside_a_calls_code_ends_no_reasoning():
    # with no <think> before it, the </think> in the code counted as the end of the prompt's reasoning
    code = call("python", code="print('</think>')")
    assert [(c.name, c.arguments) for c in parse_tool_calls(code)] == [("python", {"code": "print('</think>')"})]
    assert reasoning_spans(f"Let me check. {code}") == []


def test_a_calculator_call_quoting_think_close_is_run_not_taken_for_an_answer():
    env, _ = calculator_env(max_turns=2)
    obs, _, terminated, _, info = env.step("Let me compute. " + call("calculator", expression="2+2 </think>"))
    assert not terminated and "cannot parse expression" in obs
    assert info["turn_details"]["tool_calls"][0]["name"] == "calculator"


def test_reasoning_the_prompt_opened_still_ends_after_a_drafted_call_or_inside_an_abandoned_one():
    drafted = f"I could call {call('calculator', expression='1+1')}.\n</think>\n"
    assert reasoning_spans(drafted + "answer") == [(0, len(drafted) - 1)]
    abandoned = 'maybe <tool_call>{"name": "calculator"\n</think>\n'
    text = abandoned + call("calculator", expression="2+2")
    assert reasoning_spans(text) == [(0, len(abandoned) - 1)]
    assert [c.arguments for c in parse_tool_calls(text)] == [{"expression": "2+2"}]


# -- 3. the calculator's whitelist and sympy read the same names ----------------------------------


@pytest.mark.parametrize("expression, checked, result", [
    ("ｓｑｒｔ(16)", "sqrt(16)", "4"),
    ("2*ｐｉ", "2*pi", "2*pi ≈ 6.28318530717959"),
    ("ｘ - x", "x - x", "0"),
])
def test_fullwidth_names_are_read_as_the_names_they_are(expression, checked, result):
    # the check read `sqrt` (Python normalises identifiers), sympy an unknown function `ｓｑｒｔ`
    assert check_calculator_expression(expression) == checked
    assert evaluate_expression(checked) == ("ok", result)
    assert make_calculator().run({"expression": expression}, TurnBudget(10)) == result


@pytest.mark.parametrize("expression", ["ᵖⁱ", "3²", "10⁻³", "x₁"])
def test_superscripts_and_subscripts_are_refused(expression):
    # their plain forms mean something else (`3²` would be 32)
    with pytest.raises(ToolError, match="superscript or subscript"):
        check_calculator_expression(expression)


def test_the_length_limit_holds_for_the_normalised_text():
    with pytest.raises(ToolError, match="longer than"):
        check_calculator_expression("1+" * 249 + "\ufdfa")  # one ligature that writes out as 18 characters


# -- 4. floor and ceiling of a huge number ---------------------------------------------------------


@pytest.mark.parametrize("expression, shown", [
    ("floor(pi*10**5000)", "3.14159265358979e+5000"),
    ("ceiling(-E**10000)", "-8.80681822566292e+4342"),
])
def test_floor_of_a_huge_irrational_is_shown_approximated(expression, shown):
    # sympy's floor failed to write its own message (Python's 4300-digit limit): the model's failed call
    assert evaluate_expression(expression) == ("ok", f"{shown} (approximated: it has numbers too long to show in full)")
    env, _ = calculator_env(max_turns=2)
    obs, *_, info = env.step(call("calculator", expression=expression))
    assert info["turn_details"]["tool_calls"][0]["ok"] is True and shown in obs


def test_floor_is_exact_past_sympys_own_precision():
    # sympy's floor gave up at about 100 digits ("PrecisionExhausted")
    status, text = evaluate_expression("floor(pi*10**200) - 314*10**198")
    assert status == "ok" and text.startswith("1592653589793238462643383279") and len(text) == 198
    assert evaluate_expression("floor(x)") == ("ok", "floor(x)")
    assert evaluate_expression("ceiling(2.5) + floor(-2.5)") == ("ok", "0")


def pi_digits(count: int) -> str:
    """The first `count` digits of pi ("31415..."), from mpmath far past the precision asked."""
    import mpmath

    with mpmath.workdps(count + 50):
        return mpmath.nstr(mpmath.pi, count + 20, strip_zeros=False).replace(".", "")[:count]


@pytest.mark.parametrize("k", [40, 60, 150])
@pytest.mark.parametrize("function", ["floor", "ceiling"])
def test_floor_of_a_difference_of_nearly_equal_terms_is_exact_or_an_error(k, function):
    # sympy's get_integer_part at a high precision answered k=40 3683 too low, shown as exact
    digits = pi_digits(2 * k + 1)
    pi_to_k_places = int(digits[:k + 1])
    floor = int(digits) - pi_to_k_places * 10**k  # floor(10**(2k) * (pi - pi_to_k_places / 10**k))
    truth = floor if function == "floor" else floor + 1
    expression = f"{function}(10**{2 * k}*(pi - {pi_to_k_places}/10**{k}))"
    try:
        result = make_calculator().run({"expression": expression}, TurnBudget(20))
    except ToolError as exc:
        assert "exactly" in str(exc)
    else:
        assert result == str(truth)


def test_floor_is_exact_for_a_root_less_a_rational_close_to_it():
    root_2 = 1414213562373095048801688724209698078569671875376948073176679737990732478462107038850387534327641573
    truth = "-26498615376908770297507516394414926278735587850290006416858677733407249440724420004949884721793942853"
    assert evaluate_expression(f"floor(10**200*(sqrt(2) - {root_2}/10**99))") == ("ok", truth)


def test_floor_of_a_number_past_pythons_digit_limit_is_exact():
    last_digits = pi_digits(20001)[-10:]
    assert evaluate_expression("floor(pi*10**20000) % 10**10") == ("ok", str(int(last_digits)))


def test_a_floor_no_precision_can_confirm_is_an_error_not_a_guess():
    pi_to_400_places = pi_digits(401)
    with pytest.raises(ToolError, match="cannot floor .* exactly"):
        make_calculator().run({"expression": f"floor(pi - {pi_to_400_places}/10**400)"}, TurnBudget(20))


def test_a_drafted_calls_code_is_not_read_as_the_answers_reasoning():
    # per_turn checked the answer's raw text: `2+2 == 5` in the drafted code was a false step
    env, gold = calculator_env(max_turns=1, process_reward="steps", process_credit="per_turn")
    drafted = call("python", code="print(2+2 == 5)")
    _, reward, terminated, _, info = env.step(f"<think>{drafted}</think>\n12 * 5 = 60, so \\boxed{{{gold}}}.")
    assert terminated and reward == pytest.approx(1.1)
    assert info["turn_details"]["process"]["steps"]["reason"] == "all 1 claims in 1 steps hold"


# -- round of a difference of nearly equal terms -----------------------------------------------------


@pytest.mark.parametrize("k", [40, 60, 150])
def test_round_of_a_difference_of_nearly_equal_terms_is_exact_or_an_error(k):
    # round took get_integer_part at a raised precision: k=40 gave ...617216 for ...620900, shown as exact
    digits = pi_digits(2 * k + 2)
    pi_to_k_places = int(digits[:k + 1])
    floor = int(digits[:-1]) - pi_to_k_places * 10**k  # floor(10**(2k) * (pi - pi_to_k_places / 10**k))
    truth = floor + (int(digits[-1]) >= 5)  # the next digit says which integer is nearer
    expression = f"round(10**{2 * k}*(pi - {pi_to_k_places}/10**{k}))"
    try:
        result = make_calculator().run({"expression": expression}, TurnBudget(20))
    except ToolError as exc:
        assert "cannot round" in str(exc) and "exactly" in str(exc)
    else:
        assert result == str(truth)


def test_round_of_a_zero_sympy_cannot_prove_is_still_zero_and_of_a_float_tie_away_from_zero():
    assert evaluate_expression("round(sin(pi/7) - cos(5*pi/14))") == ("ok", "0")
    assert evaluate_expression("round(10**50*(sin(pi/7) - cos(5*pi/14)))") == ("ok", "0")
    assert evaluate_expression("round(N(5/2)) - round(-N(5/2))") == ("ok", "6")
