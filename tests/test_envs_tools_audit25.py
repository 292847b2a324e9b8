"""ToolMath-v0 and its tools: review of session 25."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import textwrap

import pytest

from rlvr.envs.calculator import evaluate_expression
from rlvr.envs.python_tool import make_python
from rlvr.envs.tool_env import ToolMathEnv
from rlvr.envs.tools import tool
from rlvr.sandbox.result import ExecResult


def call(name: str, **arguments) -> str:
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


def scale(x: int, factor: int) -> str:
    """Scale a number by a secret factor.

    Args:
        x: the number to scale.
        factor: the secret factor.
    """
    return str(x * factor)


# -- 1. a functools.partial is described by the function it wraps ----------------------------------


@pytest.mark.parametrize("made", [functools.partial(scale, factor=3),
                                  functools.partial(functools.partial(scale), factor=3)])
def test_a_partial_is_described_by_the_function_it_wraps(made):
    # it was described by functools.partial's own docstring, its parameters undescribed
    schema = tool(made, name="triple").schema()["function"]
    assert schema["description"] == "Scale a number by a secret factor."
    assert schema["parameters"]["properties"] == {"x": {"type": "integer", "description": "the number to scale."}}


# -- 2. the summary ends at the first section header -----------------------------------------------


def test_a_summary_followed_by_args_without_a_blank_line_stops_at_the_header():
    def lookup(word: str) -> str:
        """Look a word up in the dictionary.
        Args:
            word: the word to look up.
        """
        return word

    schema = tool(lookup).schema()["function"]  # the Args block was part of the description
    assert schema["description"] == "Look a word up in the dictionary."
    assert schema["parameters"]["properties"]["word"]["description"] == "the word to look up."


def test_a_docstring_that_starts_with_args_still_describes_its_parameters():
    def area(w: float, h: float) -> str:
        """Args:
            w: width.
            h: height.
        """
        return str(w * h)

    def volume(w: float, d: float) -> str:
        """Args:
                w: width.
                d: depth,
                    in metres.
            Returns:
                the volume.
        """
        return str(w * d)

    # the whole block was the description, and the entries (dedented to the header) were dropped
    schema = tool(area).schema()["function"]
    assert schema["description"] == "area"
    assert {k: v["description"] for k, v in schema["parameters"]["properties"].items()} == {"w": "width.", "h": "height."}
    schema = tool(volume).schema()["function"]
    assert schema["description"] == "volume"
    assert {k: v["description"] for k, v in schema["parameters"]["properties"].items()} == {
        "w": "width.", "d": "depth, in metres."}


# -- 3. argument mistakes named with their fix -----------------------------------------------------


@pytest.mark.parametrize("name", ["calculator", "python"])
def test_builtin_tools_as_a_string_is_refused_naming_the_fix(name):
    # its letters were read as tool names: "unknown built-in tool(s) ['a', 'c', ...]"
    with pytest.raises(TypeError, match=rf"not a string: write builtin_tools=\('{name}',\)"):
        ToolMathEnv(builtin_tools=name)


def test_one_tool_or_one_name_not_in_a_list_is_refused_naming_the_fix():
    @tool
    def twice(x: int) -> str:
        """Double."""
        return str(2 * x)

    def thrice(x: int) -> str:
        """Triple."""
        return str(3 * x)

    with pytest.raises(TypeError, match=r"got one Tool: write tools=\[twice\]"):  # was "'Tool' object is not iterable"
        ToolMathEnv(tools=twice)
    with pytest.raises(TypeError, match=r"got one function: write tools=\[thrice\]"):
        ToolMathEnv(tools=thrice)
    with pytest.raises(TypeError, match=r"not a string 'calculator': to offer the built-in tool, write "
                                        r"builtin_tools=\('calculator',\)"):
        ToolMathEnv(tools="calculator")
    assert list(ToolMathEnv(tools=[thrice], builtin_tools=["calculator"]).tools) == ["calculator", "thrice"]


# -- 4. a forked child's calculator call does not wait for a lock a parent's thread held ------------

_FORK_SCRIPT = """
import json, os, sys, threading, time
from rlvr.envs.tool_env import ToolMathEnv
from rlvr.envs import calculator
from rlvr.verifiers import timelimit

lock = {"calls": lambda: calculator._CALLS._lock, "pools": lambda: timelimit._pools_lock}[sys.argv[1]]()
env = ToolMathEnv(builtin_tools=("calculator",), calculator_timeout=10)
step = '<tool_call>{"name": "calculator", "arguments": {"expression": "2+2"}}</tool_call>'
env.reset(seed=0)
env.step(step)  # the parent's pool is up
held, release = threading.Event(), threading.Event()

def holder():
    with lock:  # a parent's thread inside the calculator's bookkeeping at the instant of the fork
        held.set()
        release.wait()

threading.Thread(target=holder, daemon=True).start()
held.wait()
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    env.reset(seed=0)
    os.write(write, env.step(step)[0].encode())
    os._exit(0)
os.close(write)
release.set()
deadline, finished = time.monotonic() + 40, False
while not finished and time.monotonic() < deadline:  # a child stuck on the lock is killed, not waited for
    finished = os.waitpid(pid, os.WNOHANG)[0] != 0
    time.sleep(0.1)
if not finished:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
print(json.dumps({"child": os.read(read, 1000).decode()}))
"""


@pytest.mark.parametrize("held", ["calls", "pools"])
def test_a_forked_childs_calculator_call_completes_though_a_parent_thread_held_a_lock(held):
    # the child inherited the lock held, and its first calculator call waited for ever
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(_FORK_SCRIPT), held], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == {"child": "<tool_response>\n4\n</tool_response>"}


# -- 5. a result holding an integer too long for str() --------------------------------------------


@pytest.mark.parametrize("expression, shown", [
    ("x % 10**5000", "Mod(x, <integer of 5001 digits>)"),
    ("x**(10**5000)", "x**<integer of 5001 digits>"),
    ("x**(-10**5000)", "x**(-<integer of 5001 digits>)"),
])
def test_a_result_with_an_integer_too_long_for_str_is_shown(expression, shown):
    # the approximation's own str() raised Python's int-to-str digit limit: the model's failed call
    assert evaluate_expression(expression) == ("ok", f"{shown} (approximated: it has numbers too long to show in full)")
    env = ToolMathEnv(builtin_tools=("calculator",))
    env.reset(seed=0)
    obs, *_, info = env.step(call("calculator", expression=expression))
    assert info["turn_details"]["tool_calls"][0]["ok"] is True and shown in obs


# -- 7. the python tool says that nothing persists between calls ----------------------------------


def test_the_python_tool_tells_the_model_each_call_is_a_fresh_process():
    description = make_python(lambda: None).schema()["function"]["description"]
    # models used to a stateful interpreter expect the previous call's variables and files
    assert "in a fresh sandbox (nothing persists between calls" in description
    assert "nothing persists between calls" in ToolMathEnv(builtin_tools=("python",)).system_prompt


# -- 8. an infrastructure failure reports the call that failed ------------------------------------


class _FailingSandbox:
    name = "failing"

    def run(self, code, timeout=None, **kwargs):
        return ExecResult.sandbox_error("worker died")


def test_an_infrastructure_failure_reports_the_failing_call():
    env = ToolMathEnv(sandbox=_FailingSandbox())
    env.reset(seed=0)
    *_, info = env.step(call("calculator", expression="1+1") + call("python", code="print(1)"))
    assert not info["valid"]
    # the failing call was left out: {'tool_calls': [the calculator's only]}
    assert info["turn_details"]["tool_calls"] == [
        {"id": "call_1_0", "name": "calculator", "ok": True},
        {"id": "call_1_1", "name": "python", "ok": None, "infra_error": "sandbox failed: worker died"}]


# -- 9. non-ASCII descriptions are shown as written -----------------------------------------------


def test_a_non_ascii_description_reaches_the_model_as_written():
    @tool
    def traduire(mot: str) -> str:
        """Traduit un mot en français (ex. « été »)."""
        return mot

    prompt = ToolMathEnv(tools=[traduire], builtin_tools=()).system_prompt
    assert '"description": "Traduit un mot en français (ex. « été »)."' in prompt and "\\u00e7" not in prompt


# -- the tools reach the model once: listed by the env's prompt, or by the chat template -----------


def test_tools_in_prompt_follows_the_system_prompt_in_use():
    """The default system prompt lists the tools, so rollouts leave them out of the template; a
    prompt of one's own does not, so the template gets them. It is the prompt in use that counts:
    `rlvr eval --system-prompt` sets it after the env is built, and its episodes then showed the
    model no tools at all."""
    from rlvr.trainers.rollout import template_tools

    env = ToolMathEnv(builtin_tools=("calculator",))
    info = env.reset(seed=0)[1]
    assert info["tools_in_prompt"] is True and template_tools(info) is None
    assert '"name": "calculator"' in env.system_prompt
    env.system_prompt = "Use the calculator; put the answer in \\boxed{}."
    info = env.reset(seed=0)[1]
    assert info["tools_in_prompt"] is False and template_tools(info) == env.tool_schemas()
    for prompt in ("Mine.", ""):
        info = ToolMathEnv(builtin_tools=("calculator",), system_prompt=prompt).reset(seed=0)[1]
        assert info["tools_in_prompt"] is False and template_tools(info) == info["tools"]
