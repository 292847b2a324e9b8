"""Math-v0, ToolMath-v0 final answers and Code-v0: whole episodes with scripted outputs, check_env."""

from __future__ import annotations

import json
import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import rlvr
from rlvr.envs.tasks import DatasetError

pytest.importorskip("rlvr.verifiers.math")


@pytest.fixture(scope="module")
def sandbox():
    from rlvr.sandbox import make_sandbox

    with make_sandbox(backend="subprocess") as sb:
        yield sb


def test_math_episode_right_wrong_malformed_overlong():
    env = rlvr.make("Math-v0", reward_weights={"outcome": 1.0, "format": 0.2}, max_action_chars=500).unwrapped
    obs, info = env.reset(options={"index": 3})  # 3 pizzas, 4 friends -> 3/4
    assert obs.startswith("Four friends") and obs.endswith("\\boxed{}.") and info["task_id"] == "3"
    _, reward, term, trunc, info = env.step("Each gets $\\boxed{\\frac{3}{4}}$.")
    assert (reward, term, trunc) == (pytest.approx(1.2), True, False) and info["verdict"].correct
    assert info["reward_parts"] == {"outcome": 1.0, "format": 1.0, "process": 0.0}
    for text, kind in [("\\boxed{0.8}", None), ("I don't know", None), ("}}}\\boxed{", None), ("x" * 501, "overlong")]:
        env.reset(options={"index": 3})
        _, reward, term, trunc, info = env.step(text)
        assert term and not info["verdict"].correct and info["reward_parts"]["outcome"] == 0.0
        assert info["valid"], info["verdict"]
        if kind:
            assert info["verdict"].details["kind"] == kind


def test_math_layouts_gsm8k_and_math(tmp_path):
    gsm = tmp_path / "gsm.jsonl"
    gsm.write_text(json.dumps({"question": "2+2?", "answer": "2+2=4\n#### 4"}) + "\n")
    env = rlvr.make("Math-v0", dataset=str(gsm)).unwrapped
    env.reset(options={"index": 0})
    assert env.task.answer == "4" and env.step("\\boxed{4}")[1] == 1.0
    math_rows = [{"problem": "Half of 1?", "solution": "It is $\\boxed{\\frac12}$.", "level": "Level 1"}]
    env = rlvr.make("Math-v0", dataset=math_rows).unwrapped
    obs, _ = env.reset(options={"index": 0})
    assert obs.startswith("Half of 1?") and env.step("\\boxed{0.5}")[1] == 1.0
    with pytest.raises(DatasetError, match=r"no column 'question' or 'problem'.*set question_key="):
        rlvr.make("Math-v0", dataset=[{"q": "x", "answer": "1"}])
    with pytest.raises(DatasetError, match="row 0: bad gold answer"):
        rlvr.make("Math-v0", dataset=[{"question": "x", "answer": "\\frac{"}])
    with pytest.raises(TypeError, match="always uses the math verifier"):
        rlvr.make("Math-v0", verifier="exact")


def test_register_dataset_with_math_verifier(tmp_path):
    path = tmp_path / "train.json"
    path.write_text(json.dumps([{"q": "1/2 + 1/4?", "a": "3/4"}]))
    rlvr.register("rlvr/MathFileTest-v0", dataset=str(path), question_key="q", answer_key="a", verifier="math", force=True)
    env = gym.make("rlvr/MathFileTest-v0")
    env.reset(seed=0)
    assert env.step("so \\boxed{0.75}")[1] == 1.0


def test_toolmath_final_answer_after_a_tool_call(sandbox):
    env = rlvr.make("ToolMath-v0", sandbox=sandbox).unwrapped
    env.reset(options={"index": 0})  # 12 * 5 muffins
    env.step('<tool_call>{"name": "calculator", "arguments": {"expression": "12*5"}}</tool_call>')
    _, reward, term, trunc, info = env.step("So she bakes \\boxed{60} muffins.")
    assert term and not trunc and reward == pytest.approx(1.0) and info["verdict"].correct
    assert info["return_parts"] == {"outcome": 1.0, "format": 1.0, "process": 1.0}
    env.reset(options={"index": 0})
    _, reward, term, *_ = env.step("\\boxed{61}")
    assert term and reward == 0.0


@pytest.mark.parametrize("name", ["Math-v0", "ToolMath-v0"])
def test_check_env_math(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(gym.make(f"rlvr/{name}").unwrapped)


# ------------------------------------------------------------------ Code-v0 (needs rlvr.verifiers.code)


def test_code_episodes(sandbox):
    pytest.importorskip("rlvr.verifiers.code")
    env = rlvr.make("Code-v0", sandbox=sandbox).unwrapped
    obs, info = env.reset(options={"index": 0})  # add(a, b)
    assert "def add(a, b):" in obs
    _, reward, term, _, info = env.step("```python\ndef add(a, b):\n    return a + b\n```")
    assert term and reward == 1.0 and info["verdict"].correct
    env.reset(options={"index": 0})
    _, reward, *_, info = env.step("    return a + b\n")  # body only: appended to the prompt
    assert reward == 1.0, info["verdict"]
    env.reset(options={"index": 0})
    _, reward, *_, info = env.step("```python\ndef add(a, b):\n    return a - b\n```")
    assert reward < 1.0 and not info["verdict"].correct and info["valid"]
    env.reset(options={"index": 0})
    _, reward, *_, info = env.step("no code here, sorry")
    assert reward == 0.0 and info["valid"]


def test_code_mbpp_and_io_layouts(sandbox):
    pytest.importorskip("rlvr.verifiers.code")
    mbpp = [{"text": "Write a function to square a number.", "test_list": ["assert square(3) == 9", "assert square(0) == 0"]}]
    env = rlvr.make("Code-v0", dataset=mbpp, sandbox=sandbox).unwrapped
    obs, _ = env.reset(options={"index": 0})
    assert "assert square(3) == 9" in obs and env.task.meta["entry_point"] == "square"
    assert env.step("```python\ndef square(x):\n    return x * x\n```")[1] == 1.0
    io = [{"question": "Print the sum of two integers.", "inputs": ["1 2\n", "5 5\n"], "outputs": ["3\n", "10\n"]}]
    env = rlvr.make("Code-v0", dataset=io, sandbox=sandbox).unwrapped
    env.reset(options={"index": 0})
    assert env.step("```python\nprint(sum(map(int, input().split())))\n```")[1] == 1.0
    env.reset(options={"index": 0})
    assert env.step("```python\nprint(3)\n```")[1] < 1.0
    with pytest.raises(DatasetError, match="cannot tell the layout"):
        rlvr.make("Code-v0", dataset=[{"x": 1}])


def test_check_env_code():
    pytest.importorskip("rlvr.verifiers.code")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(gym.make("rlvr/Code-v0", sandbox_backend="subprocess").unwrapped)
