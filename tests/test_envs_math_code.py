"""Math-v0, ToolMath-v0 final answers and Code-v0: whole episodes with scripted outputs, check_env."""

from __future__ import annotations

import json
import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import rlvr
from rlvr.envs.tasks import DatasetError

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
    # outcome 1 and the process credit (no failed call: 1), paid with this answer, weighted 0.1
    assert term and not trunc and reward == pytest.approx(1.1) and info["verdict"].correct
    assert info["return_parts"] == {"outcome": 1.0, "format": 1.0, "process": 1.0}
    env.reset(options={"index": 0})
    _, reward, term, *_ = env.step("\\boxed{61}")  # wrong, but no failed call either
    assert term and reward == pytest.approx(0.1)


@pytest.mark.parametrize("name", ["Math-v0", "ToolMath-v0"])
def test_check_env_math(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(gym.make(f"rlvr/{name}").unwrapped)


# ------------------------------------------------------------------ Code-v0


def _episode(env, index, answer):
    env.reset(options={"index": index})
    _, reward, term, trunc, info = env.step(answer)
    assert term and not trunc and info["turn"] == 1
    assert [m["role"] for m in info["messages"]] == ["user", "assistant"] and info["messages"][1]["content"] == answer
    return reward, info


def test_code_humaneval_episodes(sandbox):
    env = rlvr.make("Code-v0", sandbox=sandbox, reward_weights={"outcome": 1.0, "format": 0.5}, max_action_chars=2000).unwrapped
    obs, info = env.reset(options={"index": 0})  # add(a, b), 3 asserts in check()
    assert "def add(a, b):" in obs and info["task_id"] == "sample/add"
    # a whole program in a fenced block (after some prose and a first draft)
    reward, info = _episode(env, 0, "Draft:\n```python\ndef add(a, b): pass\n```\nFinal:\n```python\ndef add(a, b):\n    return a + b\n```")
    assert reward == 1.5 and info["verdict"].correct and info["reward_parts"] == {"outcome": 1.0, "format": 1.0, "process": 0.0}
    # a continuation of the prompt (only the body), no fence: right, but no format credit
    reward, info = _episode(env, 0, "    return a + b\n")
    assert reward == 1.0 and info["reward_parts"]["format"] == 0.0, info["verdict"]
    # wrong: a - b passes none of the 3 asserts (format credit still counts)
    reward, info = _episode(env, 0, "```python\ndef add(a, b):\n    return a - b\n```")
    assert reward == 0.5 and not info["verdict"].correct and info["valid"] and info["reward_parts"]["outcome"] == 0.0
    # partly right: 1 of 3 asserts of the (one-assert-per-unit) check passes
    reward, info = _episode(env, 0, "```python\ndef add(a, b):\n    return 0 if a == -b else 1\n```")
    assert info["reward_parts"]["outcome"] == pytest.approx(1 / 3) and reward == pytest.approx(1 / 3 + 0.5)
    # malformed: prose, a syntax error, an exception at import
    for answer in ["no code here, sorry", "```python\ndef add(a, b) return a+b\n```", "```python\nraise SystemExit(0)\n```"]:
        reward, info = _episode(env, 0, answer)
        assert info["reward_parts"]["outcome"] == 0.0 and not info["verdict"].correct and info["valid"], (answer, info["verdict"])
    # over-long: scored wrong without running anything
    reward, info = _episode(env, 0, "```python\n" + "#" * 3000 + "\n```")
    assert reward == 0.0 and info["verdict"].details["kind"] == "overlong" and info["valid"]


def test_code_mbpp_episodes(sandbox):
    mbpp = [{"task_id": 7, "text": "Write a function that returns the square root of a number, rounded to 2 places.",
             "test_list": ["assert root(4) == 2.0", "assert root(2) == 1.41", "assert root(0) == 0.0"],
             "test_imports": ["import math"], "test_setup_code": ""}]
    env = rlvr.make("Code-v0", dataset=mbpp, sandbox=sandbox).unwrapped
    obs, info = env.reset(options={"index": 0})
    assert "assert root(4) == 2.0" in obs and env.task.meta["entry_point"] == "root" and info["task_id"] == "7"
    reward, info = _episode(env, 0, "```python\nimport math\ndef root(x):\n    return round(math.sqrt(x), 2)\n```")
    assert reward == 1.0 and info["verdict"].details["tests"] == 3
    reward, info = _episode(env, 0, "```python\ndef root(x):\n    return x / 2\n```")  # right for 4 and 0 only
    assert reward == pytest.approx(2 / 3) and not info["verdict"].correct
    reward, info = _episode(env, 0, "```python\ndef square_root(x):\n    return x ** 0.5\n```")  # wrong name
    assert reward == 0.0 and info["valid"]
    mbpp_prompt_layout = [{"prompt": "Square a number.", "test_list": ["assert square(3) == 9", "assert square(0) == 0"]}]
    env = rlvr.make("Code-v0", dataset=mbpp_prompt_layout, sandbox=sandbox).unwrapped
    assert _episode(env, 0, "```python\ndef square(x):\n    return x * x\n```")[0] == 1.0
    with pytest.raises(DatasetError, match="test_list' is empty"):
        rlvr.make("Code-v0", dataset=[{"text": "x", "test_list": []}])


def test_code_stdin_stdout_episodes(sandbox):
    io = [{"question": "Print the sum of two integers.", "inputs": ["1 2\n", "5 5\n", "-3 3\n"], "outputs": ["3\n", "10\n", "0\n"]}]
    env = rlvr.make("Code-v0", dataset=io, sandbox=sandbox, case_timeout=2.0).unwrapped
    obs, _ = env.reset(options={"index": 0})
    assert "standard input" in obs
    assert _episode(env, 0, "```python\nprint(sum(map(int, input().split())))\n```")[0] == 1.0
    reward, info = _episode(env, 0, "```python\nprint(10)\n```")  # right for the second case only
    assert reward == pytest.approx(1 / 3) and "case 1 of 3 failed" in info["verdict"].reason
    reward, info = _episode(env, 0, "```python\nwhile True: pass\n```")  # every case times out
    assert reward == 0.0 and info["valid"] and "timed out" in info["verdict"].reason
    apps = [{"problem": "Echo the line.", "input_output": json.dumps({"inputs": ["hi\n"], "outputs": ["hi\n"]})}]
    env = rlvr.make("Code-v0", dataset=apps, sandbox=sandbox).unwrapped
    assert _episode(env, 0, "```python\nprint(input())\n```")[0] == 1.0
    with pytest.raises(DatasetError, match="cannot tell the layout"):
        rlvr.make("Code-v0", dataset=[{"x": 1}])
    with pytest.raises(DatasetError, match="same length"):
        rlvr.make("Code-v0", dataset=[{"question": "q", "inputs": ["1"], "outputs": []}])


def test_code_apps_call_based_rows_call_the_function(sandbox):
    """APPS rows with `fn_name` call the function (not stdin/stdout): outputs bare or wrapped in a
    one-item list, tuples for lists, LeetCode's `class Solution`; mixed with stdin/stdout rows."""
    rows = [{"question": "Write double(x) returning 2*x.",
             "input_output": json.dumps({"fn_name": "double", "inputs": [[1], [5], [0]], "outputs": [2, 10, 0]})},
            {"question": "Return the min and max of a and b.", "starter_code": "class Solution:\n    def span(self, a, b):\n",
             "input_output": json.dumps({"fn_name": "span", "inputs": [[3, 1], [2, 2]], "outputs": [[[1, 3]], [[2, 2]]]})},
            {"question": "Echo the line.", "input_output": json.dumps({"inputs": ["hi\n"], "outputs": ["hi\n"]})}]
    env = rlvr.make("Code-v0", dataset=rows, sandbox=sandbox).unwrapped
    obs, _ = env.reset(options={"index": 0})
    assert "`double`" in obs and "standard input" not in obs and env.task.meta["entry_point"] == "double"
    assert _episode(env, 0, "```python\ndef double(x):\n    return 2 * x\n```")[0] == 1.0
    reward, info = _episode(env, 0, "```python\nprint(2 * int(input()))\n```")  # a stdin program defines nothing
    assert reward == 0.0 and info["valid"]
    reward, info = _episode(env, 0, "```python\ndef double(x):\n    return x * x\n```")  # right for 0 only
    assert reward == pytest.approx(1 / 3) and "test 1 of 3 failed" in info["verdict"].reason
    obs, _ = env.reset(options={"index": 1})
    assert "class Solution:\n    def span(self, a, b):" in obs
    solution = "```python\nclass Solution:\n    def span(self, a, b):\n        return (min(a, b), max(a, b))\n```"
    assert _episode(env, 1, solution)[0] == 1.0  # a tuple for the expected list, unwrapped from [[1, 3]]
    assert _episode(env, 1, "```python\ndef span(a, b):\n    return [[min(a, b), max(a, b)]]\n```")[0] == 1.0  # wrapped too
    assert _episode(env, 1, "```python\ndef span(a, b):\n    return min(a, b)\n```")[0] == 0.0
    assert _episode(env, 2, "```python\nprint(input())\n```")[0] == 1.0
    assert env.fingerprint()["data"]["call_based"] == "apps-v1"  # these rows were once read as stdin/stdout


@pytest.mark.parametrize("io, message", [
    ({"fn_name": "1bad", "inputs": [[1]], "outputs": [2]}, r"row 0: 'fn_name' in 'input_output' must be a Python function name"),
    ({"fn_name": "f", "inputs": [1], "outputs": [2]}, r"row 0: input 0 of call-based task 'f' must be the list of the call's arguments"),
    ({"fn_name": "f", "inputs": [[1]], "outputs": []}, r"row 0: inputs and outputs must be non-empty lists of the same length"),
])
def test_code_call_based_rows_that_cannot_be_a_task_are_named(io, message):
    with pytest.raises(DatasetError, match=message):
        rlvr.make("Code-v0", dataset=[{"question": "q", "input_output": json.dumps(io)}])


def test_extract_program_skips_examples_after_the_solution():
    from rlvr.verifiers.code_extract import extract_program

    solution = "```python\ndef add1(x):\n    return x + 1\n```\n"
    for example in ["```\n>>> add1(1)\n2\n```", "```python\nprint(add1(1))\n```", "```\n2\n```"]:
        assert extract_program(solution + "Example:\n" + example, "add1") == "def add1(x):\n    return x + 1"
    final = "```python\ndef add1(x):\n    return x + 2\n```"
    assert extract_program(solution + final + "\n```python\nprint(add1(1))\n```", "add1") == "def add1(x):\n    return x + 2"
    broken = "```python\ndef add1(x):\n    return x +\n```"  # a broken final version is still the final answer
    assert extract_program(solution + broken + "\n```python\nprint(add1(1))\n```", "add1") == "def add1(x):\n    return x +"
    assert extract_program("```python\nprint(1)\n```", "add1") == "print(1)"  # no block defines it: the last block
    assert extract_program("def add1(x): return x", "add1") == "def add1(x): return x"  # no block: the raw text
    # stdin/stdout: the last block that parses and calls something (sample input/output call nothing)
    program = "```python\nn = int(input())\nprint(2 * n)\n```\n"
    for sample in ["```\n3\n```", "```\nInput: 3\nOutput: 6\n```", "```\n1 2\n3 4\n```"]:
        assert extract_program(program + sample) == "n = int(input())\nprint(2 * n)"
    # HumanEval: a body that continues the prompt, after a first full draft, is the answer
    prompt = "def f(x):\n    \"\"\"Add one.\"\"\"\n"
    text = "```python\ndef f(x):\n    return x\n```\nNo, the body is:\n```python\n    return x + 1\n```"
    assert extract_program(text, "f", prefix=prompt) == "    return x + 1"
    assert extract_program(text + "\n```python\nprint(f(1))\n```", "f", prefix=prompt) == "    return x + 1"


def test_code_usage_block_after_the_solution_is_not_the_program(sandbox):
    env = rlvr.make("Code-v0", dataset=[{"text": "add one", "test_list": ["assert add1(1) == 2", "assert add1(5) == 6"]}],
                    sandbox=sandbox).unwrapped
    solution = "Here it is:\n```python\ndef add1(x):\n    return x + 1\n```\n"
    for example in ["Example run:\n```\n>>> add1(1)\n2\n```\n", "Usage:\n```python\nprint(add1(1))\n```\n"]:
        reward, info = _episode(env, 0, solution + example)
        assert reward == 1.0, info["verdict"].reason
    # a later block that redefines the function is the final answer, right or wrong
    assert _episode(env, 0, solution + "Better:\n```python\ndef add1(x):\n    return x + 2\n```")[0] == 0.0
    assert _episode(env, 0, "```python\ndef add1(x):\n    return x\n```\n" + solution + "```\n>>> add1(1)\n```")[0] == 1.0
    env = rlvr.make("Code-v0", sandbox=sandbox).unwrapped  # HumanEval: the prompt still comes first
    assert _episode(env, 0, "```python\ndef add(a, b):\n    return a + b\n```\n```python\nprint(add(1, 2))\n```")[0] == 1.0
    io = [{"question": "Double n.", "inputs": ["3\n"], "outputs": ["6\n"]}]
    env = rlvr.make("Code-v0", dataset=io, sandbox=sandbox).unwrapped
    assert _episode(env, 0, "```python\nprint(2 * int(input()))\n```\nFor example:\n```\n3\n```")[0] == 1.0


def test_code_float_tolerance_and_exact_output_comparison(sandbox):
    rows = [{"question": "Print 1/3 (error 1e-6 accepted).", "inputs": ["\n"], "outputs": ["0.333333333333\n"]}]
    third = "```python\nprint(1/3)\n```"
    env = rlvr.make("Code-v0", dataset=rows, sandbox=sandbox).unwrapped
    assert _episode(env, 0, third)[0] == 0.0 and "float_tolerance" not in env.fingerprint()["verifier"]["settings"]
    env = rlvr.make("Code-v0", dataset=rows, sandbox=sandbox, float_tolerance=1e-6).unwrapped
    assert _episode(env, 0, third)[0] == 1.0 and _episode(env, 0, "```python\nprint(0.3333)\n```")[0] == 0.0
    assert env.fingerprint()["verifier"]["settings"]["float_tolerance"] == 1e-6
    spaced = [{"question": "Print a b.", "inputs": [""], "outputs": ["a b\n"]}]
    assert _episode(rlvr.make("Code-v0", dataset=spaced, sandbox=sandbox).unwrapped, 0, "```python\nprint('a  b ')\n```")[0] == 1.0
    env = rlvr.make("Code-v0", dataset=spaced, sandbox=sandbox, exact=True).unwrapped
    assert _episode(env, 0, "```python\nprint('a  b ')\n```")[0] == 0.0 and _episode(env, 0, "```python\nprint('a b')\n```")[0] == 1.0
    assert env.fingerprint()["verifier"]["settings"]["exact"] is True
    for bad, message in [({"float_tolerance": -1}, "non-negative"), ({"float_tolerance": "1e-6"}, "non-negative"),
                         ({"exact": 1}, "True or False"), ({"exact": True, "float_tolerance": 1e-6}, "pass one of them")]:
        with pytest.raises(ValueError, match=message):
            rlvr.make("Code-v0", dataset=rows, **bad)


@pytest.mark.parametrize("row, message", [
    ({"prompt": None, "test": "def check(c):\n    assert c(1) == 2\n", "entry_point": "f"},
     r"row 0: column 'prompt' is empty or not text \(None\); fix the row or set question_key="),
    ({"text": "Add one.", "test_list": "assert f(1) == 2"},  # a string, not a list: would be split into characters
     r"row 0: column 'test_list' must be a list of assert statements, got str"),
    ({"text": None, "test_list": ["assert f(1) == 2"]}, r"row 0: column 'text' is empty or not text"),
    ({"question": "echo", "inputs": ["1"], "outputs": None},
     r"row 0: inputs and outputs must be non-empty lists of the same length \(got list and NoneType\)"),
])
def test_code_rows_that_cannot_be_a_task_are_named(row, message):
    with pytest.raises(DatasetError, match=message):
        rlvr.make("Code-v0", dataset=[row])


def test_code_sandbox_failure_is_invalid_not_wrong():
    import pathlib
    import shutil
    import tempfile

    from rlvr.sandbox import make_sandbox
    from rlvr.sandbox.bwrap import default_python

    folder = pathlib.Path(tempfile.mkdtemp())
    folder.chmod(0o755)  # (under root, the sandbox checks its jobs' uid can start the interpreter)
    python = folder / "python3"
    python.symlink_to(default_python())
    broken = make_sandbox("subprocess", python=str(python))
    shutil.rmtree(folder)  # its interpreter is gone once it is made: it cannot start any program
    for dataset, answer in [(None, "```python\ndef add(a, b):\n    return a + b\n```"),
                            ([{"question": "Echo.", "inputs": ["x\n"], "outputs": ["x\n"]}], "```python\nprint(input())\n```")]:
        env = rlvr.make("Code-v0", dataset=dataset, sandbox=broken).unwrapped
        env.reset(options={"index": 0})
        _, reward, term, _, info = env.step(answer)
        assert term and reward == 0.0 and info["valid"] is False and info["reward_parts"]["outcome"] == 0.0
        assert info["verdict"].error and "sandbox" in info["error"]
        env.reset(options={"index": 0})
        with pytest.raises(Exception, match="verification failed"):
            env.on_infra_error = "raise"
            env.step(answer)
    broken.close()


def test_code_in_a_vector_env(sandbox):
    from rlvr.envs.vector import make_vec

    answers = ["```python\ndef add(a, b):\n    return a + b\n```", "    return None\n",
               "```python\ndef reverse_words(s):\n    return ' '.join(reversed(s.split()))\n```"]
    with warnings.catch_warnings():  # a sandbox in make's kwargs: gymnasium's spec copy shares it, no warning
        warnings.simplefilter("error")
        vec = make_vec("Code-v0", 3, sandbox=sandbox)
        vec.reset(options={"index": [0, 0, 1]})
        _, rewards, term, _, info = vec.step(answers)
        assert vec.envs[0].spec.kwargs["sandbox"] is sandbox
    why = [(v.reason, v.error) for v in info["verdict"]]
    assert list(rewards) == [1.0, 0.0, 1.0] and term.all() and info["valid"].all(), why
    vec.close()


def test_check_env_code():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(gym.make("rlvr/Code-v0", sandbox_backend="subprocess").unwrapped)


# ------------------------------------------------------------------ process reward (verify_steps)

STEPS_ANSWER = "2 + 3 = 5\n5 * 4 = 21\nSo the answer is \\boxed{20}."  # steps [1, 0, None] -> 0.5


def test_math_process_reward_steps_hand_computed():
    weights = {"outcome": 1.0, "format": 0.1, "process": 0.5}
    env = rlvr.make("Math-v0", process_reward="steps", reward_weights=weights).unwrapped
    task = {"id": "t", "question": "(2 + 3) * 4?", "answer": "20"}
    env.reset(options={"task": task})
    _, reward, *_, info = env.step(STEPS_ANSWER)
    # outcome 1 (right), format 1 (boxed), process 1/2 checked steps hold: 1 + 0.1 + 0.25
    assert info["reward_parts"] == {"outcome": 1.0, "format": 1.0, "process": 0.5}
    assert reward == pytest.approx(1.35)
    assert info["turn_details"]["process"]["steps"]["steps"] == [1.0, 0.0, None]
    env.reset(options={"task": task})
    _, reward, *_, info = env.step("2 + 3 = 5, and 5 * 4 = 20. \\boxed{20}")  # every claim holds
    assert info["reward_parts"]["process"] == 1.0 and reward == pytest.approx(1.6)
    env.reset(options={"task": task})
    _, reward, *_, info = env.step("\\boxed{20}")  # nothing checkable earns no process credit
    assert info["reward_parts"]["process"] == 0.0 and reward == pytest.approx(1.1)
    with pytest.raises(ValueError, match="pass process_reward='steps'"):  # default: no process reward, so no weight for it
        rlvr.make("Math-v0", reward_weights=weights)
    off = rlvr.make("Math-v0", reward_weights={**weights, "process": 0.0}).unwrapped
    off.reset(options={"task": task})
    assert off.step(STEPS_ANSWER)[4]["reward_parts"]["process"] == 0.0
    assert env.fingerprint()["settings"]["process_reward"] == "steps" and env.fingerprint() != off.fingerprint()
    # the steps check's rules are named: process rewards of two rule sets never share a fingerprint
    from rlvr.verifiers.steps import RULES_VERSION

    assert env.fingerprint()["settings"]["process_rules"] == RULES_VERSION
    assert "process_rules" not in off.fingerprint()["settings"]
    with pytest.raises(ValueError, match="process_reward must be one of"):
        rlvr.make("Math-v0", process_reward="tools")


def test_math_process_reward_through_the_vector_env():
    from rlvr.envs.vector import make_vec

    vec = make_vec("Math-v0", 2, process_reward="steps", reward_weights={"outcome": 1.0, "process": 0.5})
    task = {"id": "t", "question": "(2 + 3) * 4?", "answer": "20"}
    for _ in range(3):  # the third step takes the batched path
        vec.reset(options={"task": task})
        _, rewards, _, _, info = vec.step([STEPS_ANSWER, "2 + 3 = 5 so \\boxed{25}"])
        assert list(info["reward_parts"]["process"]) == [0.5, 1.0] and list(rewards) == [1.25, 0.5]
    vec.close()


@pytest.mark.parametrize("credit", ["on_answer", "per_turn"])
def test_toolmath_process_reward_steps_hand_computed(sandbox, credit):
    env = rlvr.make("ToolMath-v0", sandbox=sandbox, process_reward="steps", process_credit=credit,
                    reward_weights={"outcome": 1.0, "process": 0.5}).unwrapped
    env.reset(options={"task": {"id": "t", "question": "(2 + 3) * 4?", "answer": "20"}})
    paid_now = credit == "per_turn"
    # a tool turn that ran (1.0) whose reasoning has one false step of two (0.5): mean 0.75
    call = '<tool_call>{"name": "calculator", "arguments": {"expression": "5*4"}}</tool_call>'
    _, reward, term, _, info = env.step(f"2 + 3 = 5\n5 * 4 = 21\n{call}")
    assert not term and info["turn_details"]["process_score"] == 0.75
    assert info["reward_parts"]["process"] == (0.75 if paid_now else 0.0) and reward == pytest.approx(0.375 if paid_now else 0.0)
    # a malformed call whose arguments hold a false "=": not a claim of the reasoning, which has
    # nothing checkable, so the process part is the tool credit alone (0: unknown tool)
    _, reward, *_, info = env.step('<tool_call>{"name": "abacus", "arguments": {"expression": "2+3=6"}}</tool_call>')
    assert info["turn_details"]["process_score"] == 0.0 and reward == 0.0 and info["valid"]
    assert info["turn_details"]["process"] == {"tool_calls": 0.0, "steps": {"steps": [], "checked_steps": 0, "reason": "no steps to check"}}
    # the final answer, whose steps score is 1.0: paid per turn, that score; paid on answer, 0: a
    # tool turn failed (process_credit_rules 4), whatever the steps score of the episode's
    # reasoning as one text (2 of its 3 steps hold: 2/3)
    _, reward, term, _, info = env.step("5 * 4 = 20, so \\boxed{20}")
    process = 1.0 if paid_now else 0.0
    assert term and info["reward_parts"] == {"outcome": 1.0, "format": 1.0, "process": pytest.approx(process)}
    assert reward == pytest.approx(1.0 + 0.5 * process)
    assert info["return_parts"]["process"] == pytest.approx(1.75 if paid_now else 0.0)
    if not paid_now:
        assert info["turn_details"]["process_paid"] == {"calls": [1.0, 0.0], "steps": pytest.approx(2 / 3),
                                                        "paid": 0.0}
        assert info["turn_details"]["process"]["steps"]["steps"] == [1.0, 0.0, 1.0]


def test_check_env_passes_for_every_builtin_env():
    """Every id `import rlvr` registers (Code-v0 and ToolMath-v0 on the subprocess sandbox)."""
    from rlvr.envs.registry import BUILTIN_ENVS

    assert {"rlvr/Math-v0", "rlvr/Code-v0", "rlvr/ToolMath-v0", "rlvr/Countdown-v0"} <= set(BUILTIN_ENVS)
    for env_id in BUILTIN_ENVS:
        kwargs = {"sandbox_backend": "subprocess"} if env_id in ("rlvr/Code-v0", "rlvr/ToolMath-v0") else {}
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            check_env(gym.make(env_id, **kwargs).unwrapped)


def test_extract_program_skips_imports_and_usage_blocks():
    from rlvr.verifiers.code_extract import extract_program

    answer = "```python\ndef add1(x):\n    return x + 1\n```\nUse it:\n```python\nfrom solution import add1\nprint(add1(1))\n```"
    assert extract_program(answer, "add1") == "def add1(x):\n    return x + 1"
    program = "n = int(input())\nprint(n * 2)"
    io = f"```python\n{program}\n```\nThen:\n```python\nmain()  # prints 4\n```"
    assert extract_program(io) == program
    stdin = "import sys\nprint(sum(map(int, sys.stdin.read().split())))"
    assert extract_program(f"```python\n{stdin}\n```\n```python\nprint(solve(3))\n```") == stdin
    assert extract_program("```python\nprint(open(0).read())\n```\n```python\nf(1)\n```") == "print(open(0).read())"


def test_code_mbpp_entry_point_inside_a_wrapping_call(sandbox):
    """`assert set(f(...)) == ...` named `set` as the entry point, and `assert math.isclose(f(10), 40)`
    none: a correct solution followed by a usage block was then taken from the wrong block."""
    rows = [
        {"text": "Find the shared elements of two tuples.",
         "test_list": ["assert set(similar_elements((3, 4, 5), (5, 7, 4))) == set((4, 5))"]},
        {"text": "Return the perimeter of a square.", "test_list": ["assert math.isclose(square_perimeter(10), 40)"],
         "test_imports": ["import math"]},
    ]
    env = rlvr.make("Code-v0", dataset=rows, sandbox=sandbox).unwrapped
    answers = {
        "similar_elements": "```python\ndef similar_elements(a, b):\n    return tuple(set(a) & set(b))\n```\n"
                            "For example:\n```python\nprint(similar_elements((1, 2), (2, 3)))\n```",
        "square_perimeter": "```python\ndef square_perimeter(a):\n    return 4 * a\n```\n```python\nsquare_perimeter(2)\n```",
    }
    for index, name in enumerate(answers):
        env.reset(options={"index": index})
        assert env.task.meta["entry_point"] == name
        _, reward, *_, info = env.step(answers[name])
        assert reward == 1.0, info["verdict"].reason
