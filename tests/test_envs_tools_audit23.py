"""ToolMath-v0 and its tools: review of session 23."""

from __future__ import annotations

import json

import pytest

import rlvr
from rlvr.envs.base import split_action
from rlvr.envs.calculator import evaluate_expression


def call(name: str, **arguments) -> str:
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


def test_openai_content_parts_are_the_models_text():
    # as JSON text, a tool call inside a part had its quotes escaped and was read as a malformed call
    parts = {"role": "assistant", "content": [{"type": "text", "text": "Let me compute. "},
                                              {"type": "text", "text": call("calculator", expression="100 % 7")}]}
    assert split_action(parts) == ("Let me compute. " + call("calculator", expression="100 % 7"), None)
    env = rlvr.make("ToolMath-v0", builtin_tools=("calculator",)).unwrapped
    env.reset(options={"index": 0})
    obs, _, term, _, info = env.step(parts)
    assert not term and obs == "<tool_response>\n2\n</tool_response>" and info["turn_details"]["process_score"] == 1.0
    _, reward, term, _, info = env.step({"role": "assistant", "content": [{"type": "text", "text": "So \\boxed{60}."}]})
    assert term and info["verdict"].correct and reward == pytest.approx(1.1)
    # content that is not all text parts is still its JSON text, as before
    assert split_action({"content": [{"type": "image_url", "image_url": {"url": "x"}}]})[0].startswith('[{"type": "image_url"')


def test_a_sandbox_that_returns_no_exec_result_is_an_infrastructure_failure():
    class BrokenSandbox:
        name = "broken"

        def run(self, code, timeout=None, **kwargs):
            return None

    env = rlvr.make("ToolMath-v0", sandbox=BrokenSandbox(), builtin_tools=("python",)).unwrapped
    env.reset(options={"index": 0})
    _, reward, term, _, info = env.step(call("python", code="print(1)"))
    # it was scored as the model's failed call (valid, process 0), from an AttributeError in the env
    assert term and reward == 0.0 and not info["valid"]
    assert "the sandbox returned NoneType, not an ExecResult" in info["verdict"].error


@pytest.mark.parametrize("expression, shown", [
    ("factor(x**2-1)", "(x - 1)*(x + 1)"),  # was x**2 - 1: the final simplify multiplied it out again
    ("expand((x+1)**2)", "x**2 + 2*x + 1"),
    ("factor(x**2-1) + 1", "x**2"),  # not one call: simplified as before
])
def test_the_calculator_keeps_the_form_a_call_asks_for(expression, shown):
    assert evaluate_expression(expression) == ("ok", shown)


def test_with_steps_a_needless_call_adds_nothing_to_the_answers_credit():
    """The episode's reasoning is checked as one text: a tool turn whose reasoning holds a true claim
    raised the mean of per-turn steps scores (0.5 alone, 0.75 with one needless call); a claim said
    in a tool turn and again in the answer is judged once."""
    def process_paid(turns):
        env = rlvr.make("ToolMath-v0", builtin_tools=("calculator",), process_reward="steps").unwrapped
        env.reset(options={"task": {"id": "t", "question": "(2 + 3) * 4?", "answer": "20"}})
        for turn in turns:
            *_, info = env.step(turn)
        return info["turn_details"]["process_paid"]

    answer = "2 + 3 = 5\n5 * 4 = 21, so \\boxed{20}"  # one step of two holds
    assert process_paid([answer]) == {"calls": [], "steps": 0.5, "paid": 0.5}
    needless = "We know 7 + 1 = 8. " + call("calculator", expression="1")
    assert process_paid([needless, answer])["paid"] == pytest.approx(2 / 3)  # as if written in the answer
    assert process_paid(["7 + 1 = 8\n" + answer])["paid"] == pytest.approx(2 / 3)
    repeated = "2 + 3 = 5. " + call("calculator", expression="2+3")
    assert process_paid([repeated, answer])["paid"] == 0.5  # judged once: nothing gained
