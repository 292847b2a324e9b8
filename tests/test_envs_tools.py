"""ToolMath-v0 tool use: tool-call parsing, the tools, process rewards, malformed calls, turn limits."""

from __future__ import annotations

import json

import pytest

import rlvr
from rlvr.envs.toolcalls import parse_tool_calls
from rlvr.envs.calculator import check_calculator_expression, make_calculator
from rlvr.envs.tools import Tool, ToolError, tool
from rlvr.sandbox import make_sandbox


def call(name, **arguments):
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


@pytest.fixture(scope="module")
def sandbox():
    with make_sandbox(backend="subprocess") as sb:
        yield sb


@pytest.fixture
def env(sandbox):
    env = rlvr.make("ToolMath-v0", sandbox=sandbox, max_turns=3).unwrapped
    yield env
    env.close()


# ------------------------------------------------------------------ parsing


def test_parse_hermes_and_openai_calls():
    calls = parse_tool_calls("think " + call("calculator", expression="1+1") + " then " + call("python", code="print(1)"))
    assert [(c.name, c.arguments, c.error) for c in calls] == [
        ("calculator", {"expression": "1+1"}, None), ("python", {"code": "print(1)"}, None)]
    openai = [{"id": "abc", "type": "function", "function": {"name": "calculator", "arguments": '{"expression": "2"}'}}]
    (c,) = parse_tool_calls("", openai)
    assert (c.id, c.name, c.arguments) == ("abc", "calculator", {"expression": "2"})


@pytest.mark.parametrize("text, message", [
    ("<tool_call>{not json}</tool_call>", "not valid JSON"),
    ('<tool_call>["calculator"]</tool_call>', "JSON object"),
    ('<tool_call>{"arguments": {}}</tool_call>', "no 'name'"),
    ('<tool_call>{"name": "calculator", "arguments": 3}</tool_call>', "must be a JSON object"),
    ('<tool_call>{"name": "calculator", "arguments": {"expression": "1"}}', "not closed"),
])
def test_malformed_calls_become_errors_not_exceptions(text, message):
    (c,) = parse_tool_calls(text)
    assert c.error and message in c.error


def test_too_deeply_nested_calls_are_errors_not_exceptions():
    # `json` raises RecursionError, not a decoding error, on thousands of nested brackets
    (c,) = parse_tool_calls("<tool_call>" + "[" * 100_000 + "</tool_call>")
    assert c.error == "the tool call is not valid JSON: it is nested too deeply"
    openai = [{"id": "c1", "function": {"name": "calculator", "arguments": "[" * 100_000}}]
    (c,) = parse_tool_calls("", openai)
    assert c.name == "calculator" and c.error == "arguments of 'calculator' are not valid JSON: it is nested too deeply"


def test_tool_decorator_builds_openai_schema():
    @tool
    def lookup(word: str, limit: int = 3) -> str:
        """Look a word up.

        Args:
            word: the word to look up.
            limit: how many senses to return.
        """
        return word * limit

    assert isinstance(lookup, Tool)
    assert lookup.schema() == {"type": "function", "function": {
        "name": "lookup", "description": "Look a word up.",
        "parameters": {"type": "object", "properties": {
            "word": {"type": "string", "description": "the word to look up."},
            "limit": {"type": "integer", "description": "how many senses to return.", "default": 3}}, "required": ["word"]}}}
    assert lookup.check_arguments({"word": 1}) == "argument 'word' of tool 'lookup' must be a string, got int"
    assert "missing required" in lookup.check_arguments({})
    assert "unknown argument" in lookup.check_arguments({"word": "a", "x": 1})
    with pytest.raises(TypeError, match="type hint"):
        tool(lambda x: x)


def test_calculator_is_exact_and_refuses_code():
    calc = make_calculator(timeout=5)
    assert calc(expression="2^10 / 3") == "1024/3 ≈ 341.333333333333"
    assert calc(expression="sqrt(16) + factorial(4)") == "28"
    for bad in ["__import__('os').system('true')", "open('x')", "(1).__class__", "'a'*3", "lambda: 1"]:
        with pytest.raises(ToolError):
            check_calculator_expression(bad)
    with pytest.raises(ToolError, match="division by zero"):
        calc(expression="1/0")


def test_calculator_time_limit():
    calc = make_calculator(timeout=1)
    with pytest.raises(ToolError, match="longer than"):
        calc(expression="factorial(factorial(20))")


def test_calculator_results_are_cut_to_max_output_chars():
    calc = make_calculator(timeout=10, max_output_chars=200)
    out = calc(expression="expand((x+1)**60)")  # 241 characters (**400 took seconds: flaky under load)
    assert len(out) < 300 and out.endswith("[... result truncated to 200 characters]")


def test_a_fresh_calculator_worker_does_not_spend_the_call_importing_sympy():
    # a time limit a warm worker meets easily; the first call to a fresh pool must meet it too
    from rlvr.envs.calculator import _CALCULATOR_PRELOAD
    from rlvr.verifiers.timelimit import WorkerPool

    with WorkerPool(1, preload=_CALCULATOR_PRELOAD) as fresh:  # what the calculator's pool starts
        assert fresh.call("rlvr.envs.calculator:evaluate_expression", ("2+2",), timeout=0.25) == ("ok", "4")


def test_a_tool_calls_field_that_is_not_a_list_is_a_clear_error(env):
    env.reset(options={"index": 0})
    with pytest.raises(TypeError, match="'tool_calls' must be a list of calls, got int"):
        env.step({"content": "", "tool_calls": 5})
    with pytest.raises(TypeError, match="got str"):
        env.step({"content": "", "tool_calls": "abc"})


# ------------------------------------------------------------------ episodes


def test_reset_exposes_tools_and_system_prompt(env):
    obs, info = env.reset(options={"index": 0})
    names = [t["function"]["name"] for t in info["tools"]]
    assert names == ["python", "calculator"]
    assert info["messages"][0]["role"] == "system" and "<tool_call>" in info["messages"][0]["content"]
    assert info["messages"][1] == {"role": "user", "content": obs}


def test_tool_turns_then_truncation_at_max_turns(env):
    # by default (process_credit="on_answer") a tool turn's score is held for the final answer:
    # an episode that never answers is paid nothing, however many calls ran
    env.reset(options={"index": 0})
    obs, reward, term, trunc, info = env.step(call("python", code="print(12*5)"))
    assert obs == "<tool_response>\n60\n\n</tool_response>" and reward == 0.0 and not term and not trunc
    assert info["turn_details"]["process_score"] == 1.0 and info["reward_parts"]["process"] == 0.0
    assert info["messages"][-1] == {"role": "tool", "tool_call_id": "call_1_0", "name": "python", "content": "60\n"}
    obs, reward, term, trunc, info = env.step(call("calculator", expression="12*5"))
    assert "60" in obs and reward == 0.0 and info["turn_details"]["process_score"] == 1.0
    obs, reward, term, trunc, info = env.step(call("calculator", expression="1+1"))  # third turn: limit
    assert trunc and not term and info["verdict"].details["kind"] == "max_turns" and reward == 0.0
    assert info["return_parts"] == {"outcome": 0.0, "format": 0.0, "process": 0.0}
    assert [m["role"] for m in info["messages"]] == ["system", "user"] + ["assistant", "tool"] * 3


def test_stalling_pays_less_than_answering_and_needless_calls_pay_nothing_more(sandbox):
    """The episode returns under the default weights (outcome 1, process 0.1)."""
    def episode_return(turns, **kwargs):
        env = rlvr.make("ToolMath-v0", sandbox=sandbox, max_turns=4, **kwargs).unwrapped
        env.reset(options={"index": 0})  # 12 * 5 muffins
        return sum(env.step(turn)[1] for turn in turns)

    calc = call("calculator", expression="12*5")
    stall, answer, wrong = [calc] * 4, "So \\boxed{60}.", "So \\boxed{61}."
    assert episode_return(stall) == 0.0
    # an answer with no call earns what one after good calls earns: a call never adds credit (the
    # mean of turn scores paid a direct answer 0 and a needless call before it 0.1)
    assert episode_return([wrong]) == pytest.approx(0.1) == episode_return([calc, wrong])
    assert episode_return([answer]) == pytest.approx(1.1)
    assert episode_return([calc, answer]) == pytest.approx(1.1) == episode_return([calc] * 3 + [answer])
    # a failed call costs the episode its process credit, whatever good calls follow (rules 4)
    assert episode_return([call("calculator", expression="12*"), calc, answer]) == pytest.approx(1.0)
    assert episode_return([call("calculator", expression="12*"), answer]) == pytest.approx(1.0)
    # paid per turn (the old rule, still offered): stalling pays and every needless call adds
    assert episode_return(stall, process_credit="per_turn") == pytest.approx(0.4)
    assert episode_return([calc] * 3 + [answer], process_credit="per_turn") == pytest.approx(1.3)
    with pytest.raises(ValueError, match=r"process_credit must be one of \['on_answer', 'per_turn'\], got 'never'"):
        rlvr.make("ToolMath-v0", process_credit="never")


@pytest.mark.parametrize("action, message", [
    ("<tool_call>{oops</tool_call>", "not valid JSON"),
    (call("search", query="x"), "unknown tool 'search'"),
    (call("calculator", expr="1"), "missing required"),
    (call("calculator", expression=5), "must be a string"),
    (call("python", code="raise ValueError('boom')"), "ValueError: boom"),
    (call("calculator", expression="import os"), "cannot parse"),
])
def test_malformed_or_failing_call_gets_error_and_zero_process(env, action, message):
    env.reset(options={"index": 0})
    obs, reward, term, trunc, info = env.step(action)
    assert not term and not trunc and reward == 0.0 and info["turn_details"]["process_score"] == 0.0
    assert message in obs and obs.startswith("<tool_response>\nerror: ") and message in info["messages"][-1]["content"]
    assert info["valid"]


def test_deeply_nested_call_is_an_error_for_the_model(env):
    env.reset(options={"index": 0})
    obs, reward, term, trunc, info = env.step("<tool_call>" + "[" * 5000 + "</tool_call>")  # within max_action_chars
    assert not term and not trunc and info["valid"] and info["turn_details"]["process_score"] == 0.0
    assert obs == "<tool_response>\nerror: the tool call is not valid JSON: it is nested too deeply\n</tool_response>"


def test_failed_call_earns_no_process_credit_for_sound_reasoning(sandbox):
    env = rlvr.make("ToolMath-v0", sandbox=sandbox, process_reward="steps").unwrapped
    env.reset(options={"index": 0})
    # the reasoning's one claim holds (steps score 1), but the call is malformed: the turn gets 0
    _, _, term, _, info = env.step("We know 2 + 2 = 4. <tool_call>{bad json}</tool_call>")
    assert not term and info["turn_details"]["process_score"] == 0.0
    assert info["turn_details"]["process"] == {"tool_calls": 0.0, "steps": info["turn_details"]["process"]["steps"]}
    assert info["turn_details"]["process"]["steps"]["score"] == 1.0
    # the same reasoning beside a call that runs: the mean of the call's credit and the steps score
    _, _, _, _, info = env.step("We know 2 + 2 = 4. " + call("calculator", expression="2+2"))
    assert info["turn_details"]["process_score"] == 1.0


def test_python_call_that_is_not_valid_text_is_the_models_error(env):
    # a lone surrogate in the code must not turn the model's broken call into a sandbox failure
    env.reset(options={"index": 0})
    obs, reward, term, trunc, info = env.step('<tool_call>{"name": "python", "arguments": {"code": "print(1)  # \\ud800"}}</tool_call>')
    assert not term and info["valid"] and info["turn_details"]["process_score"] == 0.0 and "the program is not valid text" in obs


@pytest.mark.parametrize("crash, infrastructure, said", [
    ("worker process died: EOFError: ", True, "the calculator's worker failed: worker process died: EOFError: "),
    ("RecursionError: expression nested too deeply", False, "too large to evaluate"),  # a size limit: the expression's fault
])
def test_calculator_worker_crash_is_blamed_where_it_belongs(monkeypatch, crash, infrastructure, said):
    import rlvr.verifiers.timelimit as timelimit

    def crashed(*args, **kwargs):
        raise timelimit.WorkerCrashed(crash)

    monkeypatch.setattr(timelimit.WorkerPool, "call", crashed)
    env = rlvr.make("ToolMath-v0", builtin_tools=("calculator",)).unwrapped
    env.reset(options={"index": 0})
    obs, reward, term, trunc, info = env.step(call("calculator", expression="1+1"))
    if infrastructure:
        assert term and reward == 0.0 and info["valid"] is False and info["error"] == said
    else:
        assert not term and info["valid"] and info["turn_details"]["process_score"] == 0.0 and said in obs


def test_python_tool_without_a_sandbox_is_an_infrastructure_failure(monkeypatch):
    # the real docker backend, pointed at a daemon that is not there
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    env = rlvr.make("ToolMath-v0", sandbox_backend="docker").unwrapped
    env.reset(options={"index": 0})
    obs, reward, term, trunc, info = env.step(call("python", code="print(1)"))
    assert term and reward == 0.0 and info["valid"] is False
    assert info["error"].startswith("the sandbox could not be started: SandboxUnavailable: ") and "Docker daemon" in info["error"]


@pytest.mark.parametrize("env_id", ["ToolMath-v0", "Code-v0"])
def test_unknown_sandbox_backend_is_named_when_the_env_is_built(env_id):
    with pytest.raises(ValueError, match=r"unknown sandbox backend 'dockr'; choose one of \['auto', 'bwrap', 'docker', 'subprocess'\]"):
        rlvr.make(env_id, sandbox_backend="dockr")


def test_openai_style_tool_calls_and_user_tool(sandbox):
    @tool
    def double(n: int) -> str:
        """Double a number."""
        return str(2 * n)

    env = rlvr.make("ToolMath-v0", sandbox=sandbox, tools=[double], builtin_tools=("calculator",)).unwrapped
    _, info = env.reset(options={"index": 0})
    assert [t["function"]["name"] for t in info["tools"]] == ["calculator", "double"]
    message = {"role": "assistant", "content": "", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "double", "arguments": '{"n": 30}'}}]}
    obs, reward, term, trunc, info = env.step(message)
    assert obs == "<tool_response>\n60\n</tool_response>" and info["turn_details"]["process_score"] == 1.0
    assert info["messages"][-2]["tool_calls"][0]["id"] == "c1"
    assert info["messages"][-1]["tool_call_id"] == "c1"


def test_every_tools_text_is_cut_to_max_tool_output_chars_once(sandbox):
    """User tools' results and errors are cut like the built-ins' output, with the same marker, and
    the built-ins' output is cut once (not a cut text cut again)."""
    @tool
    def lookup(word: str) -> str:
        """Look a word up."""
        return "x" * 100_000

    @tool
    def failing(word: str) -> str:
        """Fail loudly."""
        raise ToolError("y" * 100_000)

    @tool
    def crashing(word: str) -> str:
        """Crash loudly."""
        raise KeyError("z" * 100_000)

    marker = "\n[... output truncated to 200 characters]"
    env = rlvr.make("ToolMath-v0", sandbox=sandbox, tools=[lookup, failing, crashing], max_turns=8,
                    max_tool_output_chars=200).unwrapped
    env.reset(options={"index": 0})
    calls = [(call("lookup", word="a"), "x" * 200, 1.0), (call("failing", word="a"), "error: " + "y" * 193, 0.0),
             (call("crashing", word="a"), "error: tool 'crashing' raised KeyError: 'zz", 0.0),
             (call("python", code="print('z' * 100000)"), "z" * 200, 1.0)]
    for action, start, process in calls:
        obs, _, _, _, info = env.step(action)
        text = info["messages"][-1]["content"]
        assert text.startswith(start) and text.endswith(marker) and len(text) == 200 + len(marker), (action, text[-80:])
        assert text.count("truncated") == 1 and obs == f"<tool_response>\n{text}\n</tool_response>"
        assert info["turn_details"]["process_score"] == process
    # a failed program's text keeps its status and the end of stderr (the cut is at their start)
    info = env.step(call("python", code="import sys; sys.stderr.write('e' * 100000); sys.exit(3)"))[4]
    assert info["messages"][-1]["content"] == ("error: [stderr]\n[... stderr truncated to its last 148 characters]\n" + "e" * 148
                                               + "\n[status: error: exited with code 3]")
    assert info["turn_details"]["process_score"] == 0.0
    short = env.step(call("python", code="print('ok')"))[4]["messages"][-1]["content"]
    assert short == "ok\n"  # short text is left alone
    with pytest.raises(ValueError, match="max_tool_output_chars must be a positive"):
        rlvr.make("ToolMath-v0", max_tool_output_chars=0)


def test_openai_tool_calls_are_recorded_with_the_ids_their_replies_name(env):
    """A client may omit ids and give arguments as a dict (Ollama-style): the recorded assistant
    message is OpenAI-shaped anyway, so every tool reply names a call the message declares."""
    env.reset(options={"index": 0})
    given = [{"function": {"name": "calculator", "arguments": {"expression": "2*3"}}},
             {"id": "mine", "type": "function", "function": {"name": "calculator", "arguments": '{"expression": "1+1"}'}},
             "not a call"]
    action = {"role": "assistant", "content": None, "tool_calls": given}
    before = json.dumps(action)
    obs, reward, *_, info = env.step(action)
    assert json.dumps(action) == before  # the caller's message is not changed
    assistant, *replies = info["messages"][-4:]
    assert assistant["tool_calls"] == [
        {"id": "call_1_0", "type": "function", "function": {"name": "calculator", "arguments": '{"expression": "2*3"}'}},
        {"id": "mine", "type": "function", "function": {"name": "calculator", "arguments": '{"expression": "1+1"}'}},
        # an entry that is not a call is recorded as one with no name, so its error reply names a declared call
        {"id": "call_1_2", "type": "function", "function": {"name": "", "arguments": '"not a call"'}},
    ]
    assert [r["tool_call_id"] for r in replies] == ["call_1_0", "mine", "call_1_2"]
    assert [r["content"] for r in replies[:2]] == ["6", "2"] and replies[2]["content"].startswith("error: a tool call must be an object")
    # the next turn's calls get ids of their own
    _, _, *_, info = env.step({"content": "", "tool_calls": [{"function": {"name": "calculator", "arguments": '{"expression": "3"}'}}]})
    assert info["messages"][-2]["tool_calls"][0]["id"] == info["messages"][-1]["tool_call_id"] == "call_2_0"


def test_hermes_turns_are_recorded_as_written(env):
    """The <tool_call> blocks stay in the text with no `tool_calls` beside them: a chat template
    renders both, so recording both would show the model every call twice."""
    env.reset(options={"index": 0})
    text = "Let me compute. " + call("calculator", expression="2*3")
    *_, info = env.step(text)
    assistant, reply = info["messages"][-2:]
    assert assistant == {"role": "assistant", "content": text}
    assert reply["tool_call_id"] == "call_1_0" and reply["content"] == "6"


def test_too_many_calls_in_one_turn(env):
    env.reset(options={"index": 0})
    obs, reward, *_ = env.step(call("calculator", expression="1") * 5)
    assert obs.count("<tool_response>") == 5 and "at most 4 tool calls" in obs and reward == 0.0


def test_sandbox_failure_invalidates_episode():
    class DownSandbox:
        name = "down"

        def run(self, code, **kw):
            from rlvr.sandbox import ExecResult

            return ExecResult.sandbox_error("daemon unreachable", "down")

    env = rlvr.make("ToolMath-v0", sandbox=DownSandbox()).unwrapped
    env.reset(options={"index": 0})
    obs, reward, term, trunc, info = env.step(call("python", code="print(1)"))
    assert term and reward == 0.0 and info["valid"] is False and "daemon unreachable" in info["error"]


def test_unknown_builtin_tool_named():
    with pytest.raises(ValueError, match=r"unknown built-in tool\(s\) \['shell'\]"):
        rlvr.make("ToolMath-v0", builtin_tools=("shell",))


def test_a_sandbox_that_raises_is_an_infrastructure_failure_not_the_models_call():
    # a sandbox whose run() raises (its daemon went away mid-episode) is as broken as one that
    # reports "sandbox_error": the model's call must not be scored as a failed one
    class RaisingSandbox:
        name = "raising"

        def run(self, code, **kw):
            raise ConnectionError("docker daemon unreachable")

    env = rlvr.make("ToolMath-v0", sandbox=RaisingSandbox(), builtin_tools=("python",)).unwrapped
    env.reset(options={"index": 0})
    obs, reward, term, trunc, info = env.step(call("python", code="print(2+2)"))
    assert term and reward == 0.0 and info["valid"] is False and obs == ""
    assert info["error"] == "the sandbox raised ConnectionError: docker daemon unreachable"
    assert info["reward_parts"] == {"outcome": 0.0, "format": 0.0, "process": 0.0}


@pytest.mark.parametrize("failure", [RuntimeError("this WorkerPool is closed; create a new one"),
                                     OSError("cannot start the worker starter process")])
def test_a_calculator_pool_that_fails_is_an_infrastructure_failure(monkeypatch, failure):
    import rlvr.verifiers.timelimit as timelimit

    def broken(*args, **kwargs):
        raise failure

    monkeypatch.setattr(timelimit.WorkerPool, "call", broken)
    env = rlvr.make("ToolMath-v0", builtin_tools=("calculator",)).unwrapped
    env.reset(options={"index": 0})
    obs, reward, term, trunc, info = env.step(call("calculator", expression="1+1"))
    assert term and reward == 0.0 and info["valid"] is False and obs == ""
    assert info["error"] == f"the calculator's worker pool failed: {type(failure).__name__}: {failure}"


def test_a_calculator_pool_that_cannot_be_made_is_an_infrastructure_failure(monkeypatch):
    import rlvr.verifiers.timelimit as timelimit

    def no_pool(*args, **kwargs):
        raise OSError("[Errno 24] Too many open files")

    monkeypatch.setattr(timelimit, "get_pool", no_pool)
    env = rlvr.make("ToolMath-v0", builtin_tools=("calculator",)).unwrapped
    env.reset(options={"index": 0})
    _, _, term, _, info = env.step(call("calculator", expression="1+1"))
    assert term and info["valid"] is False and "worker pool failed: OSError" in info["error"]


def test_a_failed_steps_check_on_a_tool_turn_is_an_infrastructure_failure(crash_math_workers):
    # the math workers that check the reasoning's claims crash: the turn is not scored (process 1.0
    # for "nothing checkable" before), the episode ends as invalid
    crash_math_workers()
    env = rlvr.make("ToolMath-v0", builtin_tools=("calculator",), process_reward="steps").unwrapped
    env.reset(options={"index": 0})
    obs, reward, term, trunc, info = env.step("$\\sin(\\pi/9)^2 + \\cos(\\pi/9)^2 = 1$ " + call("calculator", expression="1+1"))
    assert term and reward == 0.0 and info["valid"] is False and info["reward_parts"]["process"] == 0.0
    assert info["error"].startswith("the steps check failed: step 1: ") and "worker process died" in info["error"]
