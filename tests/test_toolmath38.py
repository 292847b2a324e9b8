"""ToolMath-v0 red-team round 38: a legacy `function_call` runs (it was dropped and the turn scored
as an empty answer), an unknown action key raises, the calculator's `≈` exponents are `e`, and
JSON errors do not say "at at"."""

import json

import pytest

import rlvr
from rlvr.envs.base import IGNORED_ACTION_KEYS, split_action
from rlvr.envs.calculator import CALCULATOR_RULES, evaluate_expression
from rlvr.envs.toolcalls import parse_tool_calls

FUNCTION_CALL = {"name": "calculator", "arguments": json.dumps({"expression": "100 % 7"})}


@pytest.fixture
def env():
    env = rlvr.make("rlvr/ToolMath-v0", builtin_tools=("calculator",))
    env.reset(seed=0)
    yield env
    env.close()


def test_a_legacy_function_call_runs_and_is_recorded_as_a_tool_call(env):
    obs, reward, terminated, truncated, info = env.step(
        {"role": "assistant", "content": None, "function_call": FUNCTION_CALL})
    assert not terminated and not truncated and info["valid"]
    assert "2" in obs  # 100 % 7, the calculator's reply
    assistant, reply = info["messages"][-2:]
    assert assistant["role"] == "assistant" and assistant["content"] == ""
    (recorded,) = assistant["tool_calls"]
    assert recorded == {"id": recorded["id"], "type": "function", "function": FUNCTION_CALL}
    assert reply["role"] == "tool" and reply["tool_call_id"] == recorded["id"] and reply["content"] == "2"


def test_split_action_reads_function_call_as_one_tool_call():
    content, calls = split_action({"content": "let me compute", "function_call": FUNCTION_CALL})
    assert content == "let me compute"
    assert calls == [{"type": "function", "function": FUNCTION_CALL}]
    # what the openai client's `model_dump()` gives: unused fields are None
    dumped = {"content": "7", "refusal": None, "role": "assistant", "annotations": None, "audio": None,
              "function_call": None, "tool_calls": None}
    assert split_action(dumped) == ("7", None)


def test_function_call_beside_tool_calls_or_not_a_dict_raises():
    entry = {"id": "a", "type": "function", "function": FUNCTION_CALL}
    with pytest.raises(TypeError, match="both 'tool_calls' and the legacy 'function_call'"):
        split_action({"content": "", "tool_calls": [entry], "function_call": FUNCTION_CALL})
    with pytest.raises(TypeError, match="'function_call' must be a dict"):
        split_action({"content": "", "function_call": "calculator(100 % 7)"})


def test_an_unknown_action_key_raises_naming_the_accepted_keys(env):
    entry = {"type": "function", "function": FUNCTION_CALL}
    with pytest.raises(TypeError, match=r"'tool_call'.*did you mean 'tool_calls'.*read are role, content, tool_calls, function_call"):
        env.step({"role": "assistant", "content": "", "tool_call": [entry]})
    # nothing changed: the env takes the turn afterwards
    _, _, terminated, _, info = env.step({"role": "assistant", "content": "", "tool_calls": [entry]})
    assert not terminated and info["messages"][-1]["content"] == "2"


def test_keys_openai_compatible_servers_send_are_ignored_knowingly():
    action = {"role": "assistant", "content": "\\boxed{2}", "refusal": None, "audio": None, "name": "bot",
              "annotations": [], "reasoning_content": "100 = 14*7 + 2", "reasoning": "same"}
    assert set(action) - {"role", "content"} <= IGNORED_ACTION_KEYS
    assert split_action(action) == ("\\boxed{2}", None)
    # an unknown key holding nothing loses nothing
    assert split_action({"content": "x", "tool_call": None}) == ("x", None)


def test_a_client_s_own_fields_are_not_read_and_raise_nothing():
    """litellm moves every key it does not model into provider_specific_fields (a dict: vLLM's
    `reasoning`), and adds thinking_blocks / images: the first version of the key check raised."""
    action = {"content": "\\boxed{2}", "role": "assistant", "tool_calls": None, "function_call": None,
              "provider_specific_fields": {"reasoning": None}, "thinking_blocks": [{"thinking": "..."}],
              "images": [], "some_server_field": {"x": 1}}
    assert split_action(action) == ("\\boxed{2}", None)


@pytest.mark.parametrize("role", ["user", "system", "tool", 5])
def test_a_message_of_another_role_is_not_taken_as_the_model_s_turn(env, role):
    with pytest.raises(TypeError, match=r"'role' must be 'assistant'"):
        env.step({"role": role, "content": "\\boxed{2}"})
    _, reward, terminated, _, _ = env.step({"role": "assistant", "content": "\\boxed{2}"})
    assert terminated and reward > 1.0


@pytest.mark.parametrize("expression", ["exp(100)", "exp(-100)", "10**500/3", "sqrt(2)*10**40"])
def test_the_approximate_value_writes_its_exponent_as_N_does(expression):
    status, text = evaluate_expression(expression)
    assert status == "ok" and "E" not in text.split("≈")[1]
    assert text.split(" ≈ ")[1] == evaluate_expression(f"N({expression})")[1]


def test_an_approximated_long_result_writes_a_lowercase_exponent():
    status, text = evaluate_expression("10**5000 + 1/3")
    assert status == "ok" and text.startswith("1.00000000000000e+5000 (approximated")


def test_the_calculator_rules_are_bumped_for_the_exponent():
    assert CALCULATOR_RULES >= 5
    env = rlvr.make("rlvr/ToolMath-v0", builtin_tools=("calculator",))
    try:
        assert env.unwrapped.fingerprint()["settings"]["calculator_rules"] == CALCULATOR_RULES
    finally:
        env.close()


def test_a_control_character_in_a_call_is_reported_without_at_at():
    (call,) = parse_tool_calls('<tool_call>{"name": "calculator", "arguments": {"expression": "1\x01"}}</tool_call>')
    assert "at at" not in call.error
    assert call.error.startswith("the tool call is not valid JSON: Invalid control character") and " at position " in call.error


def test_a_flat_tool_call_s_string_arguments_reach_the_template_as_an_object():
    """Review of ce86504: templates read `{"name", "arguments"}` as well as OpenAI's shape, but only
    the latter's string arguments were parsed, so flat ones rendered as a quoted JSON string."""
    from rlvr.envs.toolcalls import template_tool_calls

    flat = {"name": "calculator", "arguments": '{"expression": "2+2"}'}
    assert template_tool_calls([flat]) == [{"name": "calculator", "arguments": {"expression": "2+2"}}]
    kept = {"name": "calculator", "arguments": "not json"}
    assert template_tool_calls([kept]) == [kept]
    nested = {"type": "function", "function": {"name": "calculator", "arguments": '{"expression": "1"}'}}
    assert template_tool_calls([nested])[0]["function"]["arguments"] == {"expression": "1"}
