"""ToolMath-v0 at its edges: model text that once made a step raise, time limits per call and per
turn, a calculator pool busy with other episodes' calls, cut program output, exact rounding, and
the recorded `tool_calls` of OpenAI-style turns."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import rlvr
from rlvr.envs.toolcalls import openai_tool_calls, parse_tool_calls, template_tool_calls, to_json
from rlvr.envs.calculator import (MAX_ROUND_DIGITS, _CALCULATOR_PRELOAD, check_calculator_expression, evaluate_expression,
                                   make_calculator)
from rlvr.envs.python_tool import format_exec_result
from rlvr.envs.tools import ToolError, TurnBudget, tool
from rlvr.sandbox import ExecResult, make_sandbox

HUGE = "9" * 5000  # a JSON number with more digits than Python converts (4300)


def call(name, **arguments):
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


def openai(*entries):
    return {"role": "assistant", "content": "", "tool_calls": list(entries)}


def function(name, arguments, ident="c1"):
    return {"id": ident, "type": "function", "function": {"name": name, "arguments": arguments}}


def strict_json(text):
    """json.loads that refuses NaN and infinities (which JSON does not have)."""
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def sandbox():
    with make_sandbox(backend="subprocess") as sb:
        yield sb


@pytest.fixture(scope="module")
def calculator_pool():
    """The calculator's shared worker pool, warm (its worker starter has imported sympy)."""
    from rlvr.verifiers.timelimit import get_pool

    make_calculator()(expression="1+1")
    return get_pool(preload=_CALCULATOR_PRELOAD)


def tool_env(sandbox, **kwargs):
    env = rlvr.make("ToolMath-v0", sandbox=sandbox, max_turns=8, **kwargs).unwrapped
    env.reset(options={"index": 0})
    return env


# ------------------------------------------------------------------ 1: model text never makes a step raise


@pytest.mark.parametrize("action", [
    f'<tool_call>{{"name": "calculator", "arguments": {{"expression": {HUGE}}}}}</tool_call>',
    f'<tool_call>{{"name": "calculator", "arguments": {{"expression": "1", "x": -{HUGE}}}}}</tool_call>',
    openai(function("calculator", f'{{"expression": {HUGE}}}')),
])
def test_a_number_too_long_to_read_is_the_models_error_not_an_infrastructure_failure(sandbox, action):
    # json.loads raised ValueError ("Exceeds the limit (4300 digits)"): respond raised, valid=False
    env = tool_env(sandbox)
    obs, reward, term, trunc, info = env.step(action)
    assert info["valid"] and not term and not trunc and info["turn_details"]["process_score"] == 0.0
    assert "a number in it has 5000 digits, more than the 4300 a number may have" in obs
    assert env.step("\\boxed{60}")[4]["valid"]  # the episode goes on


def test_objects_json_cannot_hold_in_a_clients_tool_calls_never_make_a_step_raise(sandbox):
    # a client's dict arguments with a 5000-digit int, a tuple key, or a cycle made recording the
    # assistant message raise before the env could answer
    circular: dict = {}
    circular["self"] = circular
    env = tool_env(sandbox)
    for arguments in ({"expression": 10 ** 5000}, {("tuple", "key"): 1}, circular):
        obs, _, term, _, info = env.step(openai(function("calculator", arguments)))
        assert info["valid"] and not term and obs.startswith("<tool_response>\nerror: ")
        recorded = info["messages"][-2]["tool_calls"][0]
        assert isinstance(strict_json(recorded["function"]["arguments"]), dict)
    assert strict_json(to_json({"n": 10 ** 5000})) == {"n": "<an integer of 16610 bits>"}


@pytest.mark.timeout(10)  # a hang guard: this never returned (2**100 paths through the same list)
def test_a_self_referencing_client_object_is_written_once_not_expanded(sandbox):
    looped: list = []
    looped.append(looped)
    looped.append(looped)
    started = time.monotonic()
    obs, _, term, _, info = tool_env(sandbox).step(openai({"function": {"name": "calculator", "arguments": {"expression": looped}}}))
    assert time.monotonic() - started < 1.0 and info["valid"] and not term
    recorded = strict_json(info["messages"][-2]["tool_calls"][0]["function"]["arguments"])
    assert recorded == {"expression": ["<circular reference>", "<circular reference>"]}
    assert obs == "<tool_response>\nerror: argument 'expression' of tool 'calculator' must be a string, got list\n</tool_response>"


def test_to_json_stays_linear_in_the_size_of_what_it_is_given():
    # no cycle, but 60 lists each holding the next twice: 2**60 values to write out in full (in a
    # child process, since json.dumps looping in C cannot be interrupted)
    program = ("from rlvr.envs.toolcalls import to_json\nshared = []\nfor _ in range(60):\n    shared = [shared, shared]\n"
               "print(to_json({'a': shared}))")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=10)
    assert done.returncode == 0, done.stderr
    assert strict_json(done.stdout) == "<a value too large to write as JSON: more than 100000 parts, shared ones counted each time>"
    started = time.monotonic()
    circular: dict = {"n": 1}
    circular["self"] = circular
    assert strict_json(to_json([circular, circular])) == [{"n": 1, "self": "<circular reference>"}] * 2  # only the path is a cycle
    big = list(range(99_000))
    assert strict_json(to_json({"numbers": big, True: None, None: float("inf")})) == {"numbers": big, "true": None, "null": "inf"}
    assert time.monotonic() - started < 1.0


def test_template_tool_calls_keep_arguments_they_cannot_read():
    entry = function("calculator", f'{{"expression": {HUGE}}}')
    assert template_tool_calls([entry]) == [entry]  # raised ValueError before


# ------------------------------------------------------------------ 2: time limits per call and per turn


def test_the_calculator_has_a_calculators_limit_and_turns_have_a_budget(sandbox):
    env = tool_env(sandbox)
    assert (env.tool_timeout, env.calculator_timeout, env.turn_timeout) == (10.0, 2.0, 20.0)
    settings = env.fingerprint()["settings"]
    assert (settings["calculator_timeout"], settings["turn_timeout"]) == (2.0, 20.0)
    assert tool_env(sandbox, tool_timeout=1).calculator_timeout == 1.0  # never above tool_timeout
    assert "calculator_timeout" not in tool_env(sandbox, builtin_tools=("python",)).fingerprint()["settings"]
    for name in ("tool_timeout", "calculator_timeout", "turn_timeout"):
        for bad in (0, -1, float("inf"), float("nan"), True, "5"):
            with pytest.raises(ValueError, match=f"{name} must be a positive, finite number of seconds"):
                rlvr.make("ToolMath-v0", **{name: bad})


def test_a_turns_calculator_calls_share_one_time_budget(sandbox, calculator_pool):
    # each 9**9**9 held a worker for the whole tool_timeout (10 s), four of them per turn: 40 s
    env = tool_env(sandbox, calculator_timeout=0.4, turn_timeout=0.6)
    started = time.monotonic()
    obs, reward, term, _, info = env.step(call("calculator", expression="9**9**9") * 4)
    assert time.monotonic() - started < 1.5 and info["valid"] and not term and reward == 0.0
    replies = [m["content"] for m in info["messages"][-4:]]
    assert replies[0] == "error: evaluation took longer than 0.4s"
    assert replies[1].startswith("error: evaluation took longer than 0.2") and "(what was left of this turn's 0.6s for tool calls)" in replies[1]
    assert replies[2:] == ["error: this turn's tool calls have used all of their 0.6s; this call was not run (make fewer or quicker calls)"] * 2
    # the next turn has a budget of its own
    assert env.step(call("calculator", expression="2+2"))[4]["messages"][-1]["content"] == "4"


def test_a_quick_calculator_call_after_a_slow_one_still_runs(sandbox, calculator_pool):
    # the turn's budget is the time its calls ran: a quick call after a slow one still runs
    env = tool_env(sandbox, calculator_timeout=0.3, turn_timeout=0.5)
    *_, info = env.step(call("calculator", expression="9**9**9") + call("calculator", expression="6*7"))
    assert [m["content"] for m in info["messages"][-2:]] == ["error: evaluation took longer than 0.3s", "42"]


def _hold_every_worker(pool, seconds):
    """Threads running a slow calculator call on every worker of `pool` (as other episodes'
    calls would), started once they hold them all."""
    slow = make_calculator(timeout=seconds)

    def hold():
        with pytest.raises(ToolError, match="longer than"):
            slow(expression="9**9**9")

    threads = [threading.Thread(target=hold) for _ in range(pool.size)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while pool._slots._value and time.monotonic() < deadline:  # every worker taken
        time.sleep(0.01)
    assert pool._slots._value == 0
    return threads


def test_a_calculator_busy_with_other_episodes_calls_is_neither_the_models_fault_nor_an_infrastructure_failure(
        sandbox, calculator_pool):
    # the wait for a worker ended in PoolBusy, an infrastructure failure: one policy sample's slow
    # calls invalidated the other episodes of its batch
    holders = _hold_every_worker(calculator_pool, 1.2)
    try:
        env = tool_env(sandbox, turn_timeout=0.3)
        obs, reward, term, _, info = env.step(call("calculator", expression="1+1"))
    finally:
        for thread in holders:
            thread.join()
    assert info["valid"] and not term
    text = info["messages"][-1]["content"]
    assert text.startswith(f"error: the calculator is busy: all {calculator_pool.size} of its workers stayed taken by other calls")
    assert text.endswith("this call was not run (call it again)")
    assert info["turn_details"]["tool_calls"] == [{"id": "call_1_0", "name": "calculator", "ok": None}]
    assert info["turn_details"]["process_score"] == 0.0  # not scored, and nothing else ran: no credit either way
    assert env.step(call("calculator", expression="1+1"))[4]["messages"][-1]["content"] == "2"  # free again


def test_waiting_for_a_calculator_worker_is_not_charged_to_the_turn(sandbox, calculator_pool):
    # the first call waits ~0.6 s for a worker, then runs in milliseconds; charged for its wait,
    # the turn would have ~0.4 s of its 1 s left and the second call would be cut to that
    holders = _hold_every_worker(calculator_pool, 0.6)
    try:
        env = tool_env(sandbox, calculator_timeout=0.8, turn_timeout=1.0)
        *_, info = env.step(call("calculator", expression="6*7") + call("calculator", expression="9**9**9"))
    finally:
        for thread in holders:
            thread.join()
    assert [m["content"] for m in info["messages"][-2:]] == ["42", "error: evaluation took longer than 0.8s"]


def test_a_calculator_calls_wait_is_taken_from_the_budgets_waiting_time_not_its_running_time(calculator_pool):
    holders = _hold_every_worker(calculator_pool, 0.5)
    budget = TurnBudget(1.0)
    try:
        started = time.monotonic()
        assert make_calculator(timeout=0.8).run({"expression": "6*7"}, budget) == "42"
        took = time.monotonic() - started
    finally:
        for thread in holders:
            thread.join()
    assert took > 0.3 and budget.wait_left < 0.7  # it waited for a worker, and that came off its waiting time
    assert budget.run_left > 0.9  # its run (milliseconds), not its wait, came off its running time


def test_a_turns_process_credit_comes_from_the_calls_that_ran(sandbox, calculator_pool):
    # a turn whose calls were all skipped (calculator busy) earned full credit: it is scored on
    # the calls that ran, and earns nothing when none ran
    @tool
    def echo(text: str) -> str:
        """Say it back."""
        return text

    busy = call("calculator", expression="1+1")
    holders = _hold_every_worker(calculator_pool, 1.4)
    try:
        env = tool_env(sandbox, tools=[echo], turn_timeout=0.15)
        infos = [env.step(action)[4] for action in (busy + busy, call("echo", text="hi") + busy, call("echo") + busy)]
        steps_env = tool_env(sandbox, turn_timeout=0.15, process_reward="steps")
        steps = [steps_env.step(reasoning + busy)[4] for reasoning in ("We know 2 + 2 = 4. ", "We know 2 + 2 = 5. ")]
    finally:
        for thread in holders:
            thread.join()
    assert [[c["ok"] for c in i["turn_details"]["tool_calls"]] for i in infos] == [[None, None], [True, None], [False, None]]
    assert [i["turn_details"]["process_score"] for i in infos] == [0.0, 1.0, 0.0]
    assert all(i["valid"] for i in infos + steps)
    # with the steps check, a turn whose calls all were skipped is scored on its reasoning alone
    assert [i["turn_details"]["tool_calls"][0]["ok"] for i in steps] == [None, None]
    assert [i["turn_details"]["process"]["tool_calls"] for i in steps] == [None, None]
    assert [i["turn_details"]["process_score"] for i in steps] == [1.0, 0.0]


def test_a_calculator_pool_with_every_worker_taken_and_no_call_under_way_is_an_infrastructure_failure(
        sandbox, calculator_pool):
    # nothing holds the workers (slots lost): not load the model could wait out, a broken pool
    for _ in range(calculator_pool.size):
        calculator_pool._slots.acquire()
    try:
        env = tool_env(sandbox, turn_timeout=0.2)
        obs, reward, term, _, info = env.step(call("calculator", expression="1+1"))
    finally:
        for _ in range(calculator_pool.size):
            calculator_pool._slots.release()
    assert term and not info["valid"] and obs == "" and reward == 0.0
    assert info["error"].startswith("the calculator's worker pool is stuck: no free worker within")


# ------------------------------------------------------------------ 3: user tools under the same limits


def test_a_user_tool_runs_under_tool_timeout_and_is_abandoned_past_it(sandbox):
    release = threading.Event()

    @tool
    def wait(seconds: float) -> str:
        """Wait as long as asked."""
        release.wait(seconds)
        return "woke"

    env = tool_env(sandbox, tools=[wait], tool_timeout=0.3)
    started = time.monotonic()
    obs, reward, term, _, info = env.step(call("wait", seconds=30))
    release.set()
    assert time.monotonic() - started < 1.0 and info["valid"] and not term and reward == 0.0
    assert info["messages"][-1]["content"] == "error: tool 'wait' did not finish within 0.3s; the call was abandoned"
    assert env.step(call("wait", seconds=0))[4]["messages"][-1]["content"] == "woke"


def test_user_tools_share_the_turns_budget(sandbox):
    @tool
    def nap(seconds: float) -> str:
        """Sleep a while."""
        time.sleep(seconds)
        return "rested"

    env = tool_env(sandbox, tools=[nap], tool_timeout=0.5, turn_timeout=0.6)
    *_, info = env.step(call("nap", seconds=0.35) * 3)
    first, second, third = (m["content"] for m in info["messages"][-3:])
    assert first == "rested"
    assert re.fullmatch(r"error: tool 'nap' did not finish within 0\.[12]\d*s \(what was left of this turn's 0\.6s for tool "
                        r"calls\); the call was abandoned", second)
    assert third.startswith("error: this turn's tool calls have used all of their 0.6s")


@pytest.mark.parametrize("exc", [SystemExit(3), GeneratorExit("closed")])
def test_a_user_tool_raising_system_exit_or_generator_exit_is_a_failed_call(sandbox, exc):
    @tool
    def leave() -> str:
        """Leave abruptly."""
        raise exc

    env = tool_env(sandbox, tools=[leave])
    obs, reward, term, _, info = env.step(call("leave"))
    assert info["valid"] and not term and info["turn_details"]["process_score"] == 0.0
    assert info["messages"][-1]["content"] == f"error: tool 'leave' raised {type(exc).__name__}: {exc}"


def test_a_keyboard_interrupt_in_a_user_tool_still_stops_the_step(sandbox):
    @tool
    def interrupted() -> str:
        """Be interrupted."""
        raise KeyboardInterrupt

    env = tool_env(sandbox, tools=[interrupted])
    with pytest.raises(KeyboardInterrupt):
        env.step(call("interrupted"))


# ------------------------------------------------------------------ 4: an unclosed call behind a stray closing tag


def test_a_stray_closing_tag_does_not_hide_a_later_unclosed_call(sandbox):
    text = 'The closing tag is </tool_call>. Now: <tool_call>{"name": "calculator", "arguments": {"expression": "12*5"}}'
    (parsed,) = parse_tool_calls(text)
    assert parsed.error == "a <tool_call> tag is not closed with </tool_call>"
    obs, reward, term, trunc, info = tool_env(sandbox).step(text)
    assert not term and not trunc and info["verdict"] is None and "is not closed" in obs
    # a closing tag alone, or calls all closed, are no unclosed call
    assert parse_tool_calls("The answer is \\boxed{60} </tool_call>") == []
    assert [c.error for c in parse_tool_calls(call("calculator", expression="1") + " </tool_call>")] == [None]


def _regex_blocks(text):
    """The block rule as the (quadratic) non-greedy regex it replaced."""
    return [(m.start(), m.end(), m.group(1)) for m in re.finditer(r"<tool_call>(.*?)</tool_call>", text, re.DOTALL)]


@pytest.mark.timeout(60)  # a guard against the hang (the old scan: minutes on 528 KB); the results are the check
def test_tool_call_blocks_are_found_as_the_regex_found_them_in_linear_time(sandbox):
    from rlvr.envs.toolcalls import CLOSE_TAG, OPEN_TAG, split_hermes_calls
    from rlvr.verifiers.shaping import tag_blocks

    rng = np.random.default_rng(0)
    pieces = ["<tool_call>", "</tool_call>", "<tool_call", "tool_call>", "</", '{"name": "calculator"}', "x", " ", "\n"]
    for _ in range(3000):
        text = "".join(pieces[k] for k in rng.integers(len(pieces), size=int(rng.integers(0, 12))))
        assert list(tag_blocks(text, OPEN_TAG, CLOSE_TAG)) == _regex_blocks(text), text
    good = call("calculator", expression="1+1")
    text, calls = split_hermes_calls(f"Let me compute. {good} and {good} done.")
    assert text == "Let me compute.  and  done." and [c["function"]["name"] for c in calls] == ["calculator"] * 2
    # 16 KB of unclosed tags took 0.3 s per turn (128 KB: 16 s), outside every time limit
    unclosed = "<tool_call>" * 48_000  # 528 KB
    (parsed,) = parse_tool_calls(unclosed)
    assert parsed.error == "a <tool_call> tag is not closed with </tool_call>"
    (closed,) = parse_tool_calls(unclosed + "{}</tool_call>")  # one block: the first tag to the closing one
    assert closed.error.startswith("the tool call is not valid JSON")
    obs, reward, term, trunc, info = tool_env(sandbox, max_action_chars=600_000).step(unclosed)
    assert not term and "is not closed" in obs and info["turn_details"]["process_score"] == 0.0


# ------------------------------------------------------------------ 5: what says why a program failed survives the cut


@pytest.mark.parametrize("code, status", [
    ("print('a' * 5000)\n1/0", "[status: error: exited with code 1]"),
    ("import sys; sys.stderr.write('Traceback ' * 900 + 'ZeroDivisionError: division by zero\\n'); print('a' * 5000); sys.exit(1)",
     "[status: error: exited with code 1]"),
])
def test_a_cut_program_output_keeps_its_status_and_the_end_of_stderr(sandbox, code, status):
    env = tool_env(sandbox, max_tool_output_chars=300)
    *_, info = env.step(call("python", code=code))
    text = info["messages"][-1]["content"]
    assert text.startswith("error: [stdout]\naaa") and text.endswith("ZeroDivisionError: division by zero\n\n" + status)
    assert "[... stdout truncated to " in text and len(text) < 300 + 120  # the limit, and the markers


def test_a_program_cut_at_its_time_or_output_limit_says_so_after_its_output():
    with make_sandbox(backend="subprocess", max_output_bytes=20_000) as small:
        env = tool_env(small, max_tool_output_chars=200, tool_timeout=1)
        *_, info = env.step(call("python", code="print('a' * 50_000)"))
        assert info["messages"][-1]["content"].endswith("[status: output_limit: stdout exceeded 20000 bytes and was cut]")
        *_, info = env.step(call("python", code="print('a' * 5000, flush=True)\nwhile True: pass"))
        assert info["messages"][-1]["content"].endswith("[status: timeout: wall-clock limit of 1s exceeded]")


def test_the_envs_own_errors_about_a_python_call_are_still_cut(sandbox):
    # the python tool fits its own text; what the env says about a malformed call to it is the env's
    env = tool_env(sandbox, max_tool_output_chars=100)
    *_, info = env.step(call("python", code="1", **{f"extra_{k}": k for k in range(100)}))
    text = info["messages"][-1]["content"]
    assert text.startswith("error: unknown argument(s)") and text.endswith("\n[... output truncated to 100 characters]")


def test_format_exec_result_cuts_stdout_first_then_the_start_of_stderr():
    both = ExecResult("error", 1, "o" * 1000, "e" * 1000 + "Boom", 0.1, message="exited with code 1")
    text = format_exec_result(both, 200, reserve=7)
    assert text.startswith("[stdout]\no") and text.endswith("eBoom\n[status: error: exited with code 1]")
    body = text.replace("\n[... stdout truncated to 34 characters]", "").replace("[... stderr truncated to its last 104 characters]\n", "")
    assert len(body) == 200 - 7 and body.startswith("[stdout]\n" + "o" * 34 + "\n[stderr]\ne")  # a quarter of the outputs' room to stdout
    only_stdout = ExecResult("ok", 0, "z" * 500, "", 0.1)
    assert format_exec_result(only_stdout, 100) == "z" * 100 + "\n[... output truncated to 100 characters]"
    short = ExecResult("error", 1, "out", "err", 0.1, message="exited with code 1")
    assert format_exec_result(short, 200) == "[stdout]\nout\n[stderr]\nerr\n[status: error: exited with code 1]"
    assert format_exec_result(ExecResult("error", 1, "1", "", 0.1, message="exited with code 1"), 200) == (
        "[stdout]\n1\n[status: error: exited with code 1]")  # after "error: ", "1" must not read as the error


# ------------------------------------------------------------------ 6: exact rounding


@pytest.mark.parametrize("expression, result", [
    ("round(10**400)", "1" + "0" * 400),            # was oo (through a float)
    ("round(123456789012345678)", "123456789012345678"),  # was ...680
    ("round(2.5)", "3"), ("round(-2.5)", "-3"),      # was 2.00000000000000; halves away from zero
    ("round(7/2) + 1", "5"),                         # an Integer, usable in further arithmetic
    ("round(1/3, 3)", "0.333"), ("round(2.675, 2)", "2.68"), ("round(1234, -2)", "1200"), ("round(5, 2)", "5"),
    ("round(pi, 10)", "3.1415926536"), ("round(-sqrt(2), 3)", "-1.414"), ("round(sqrt(2)*10**30)", "1414213562373095048801688724210"),
    ("round(1/2, 3)", "0.500"),                      # that many places, trailing zeros too...
    ("round(-0.001, 2)", "0.0"), ("round(1/1000, 2)", "0.0"),  # ...but a zero is written 0.0, never -0.0
    # an exact zero sympy cannot prove is zero: "cannot determine truth value of Relational"
    ("round(sin(pi/7) - cos(5*pi/14))", "0"), ("round(sin(pi/7) - cos(5*pi/14), 3)", "0.0"),
    ("round(sin(pi/7) - cos(5*pi/14) - 7/3, 2)", "-2.33"),
])
def test_calculator_round_is_exact(expression, result):
    assert evaluate_expression(check_calculator_expression(expression)) == ("ok", result)


@pytest.mark.parametrize("expression, whole, places", [
    ("round(1/7, 5000)", "0", "142857" * 833 + "14"),           # "Exceeds the limit (4300 digits)"
    (f"round(1/7, {MAX_ROUND_DIGITS})", "0", "142857" * 1666 + "1429"),  # its 10001st digit, 5, rounds it up
    ("round(10**400 + 1/3, 4000)", "1" + "0" * 400, "3" * 4000),  # 4401 digits in all
    ("round(-2/3, 4500)", "-0", "6" * 4499 + "7"),
])
def test_calculator_round_takes_every_number_of_places_up_to_its_maximum(expression, whole, places):
    assert evaluate_expression(check_calculator_expression(expression)) == ("ok", f"{whole}.{places}")


def test_calculator_round_takes_irrational_values_to_many_places():
    # sympy's floor gives up at about 100 digits: "cannot round pi", and for pi*10**5000 the model
    # read "Exceeds the limit (4300 digits) ...; use sys.set_int_max_str_digits()"
    import sympy

    for expression, exact in [("round(pi, 1000)", sympy.pi.evalf(1001)), ("round(-sqrt(2), 3000)", -sympy.sqrt(2).evalf(3001)),
                              ("round(sqrt(2)*10**300 + 1/3, 200)", (sympy.sqrt(2) * 10 ** 300 + sympy.Rational(1, 3)).evalf(501))]:
        assert evaluate_expression(check_calculator_expression(expression)) == ("ok", str(exact))
    assert evaluate_expression(check_calculator_expression("round(pi*10**5000)")) == (
        "ok", "3.14159265358979e+5000 (approximated: it has numbers too long to show in full)")


@pytest.mark.parametrize("expression, result", [
    ("10**10000", "1.00000000000000e+10000"), ("floor(10**10000/3)", "3.33333333333333e+9999"),
])
def test_a_calculator_result_too_long_to_write_is_approximated(expression, result):
    # str() of an integer past 4300 digits raised: the model read "use sys.set_int_max_str_digits()"
    assert evaluate_expression(check_calculator_expression(expression)) == (
        "ok", f"{result} (approximated: it has numbers too long to show in full)")


@pytest.mark.parametrize("expression, message", [
    ("round(x)", "round needs a number, got x"), ("round(I)", "round needs a finite real number, got I"),
    ("round(oo)", "round needs a finite real number, got oo"), ("round(2.5, 1/2)", "round's digits must be an integer, got 1/2"),
    ("round(1, 10**9)", "round's digits must be between -10000 and 10000, got 1000000000"),
    # was "Exceeds the limit (4300 digits) for integer string conversion; use sys.set_int_max_str_digits()"
    ("round(x + 10**5000)", "round needs a number, got an expression with numbers too long to show"),
])
def test_calculator_round_refuses_what_it_cannot_round(expression, message):
    assert evaluate_expression(check_calculator_expression(expression)) == ("error", f"ValueError: {message}")


def test_the_calculator_says_how_it_rounds_halves():
    assert "(round: halves away from zero)" in make_calculator().description


# ------------------------------------------------------------------ 7: recorded OpenAI-style calls


def test_arguments_given_as_an_object_are_recorded_as_valid_json_and_run_as_recorded(sandbox):
    env = tool_env(sandbox)
    *_, info = env.step(openai(function("calculator", {"expression": float("nan")})))
    assistant, reply = info["messages"][-2:]
    assert strict_json(assistant["tool_calls"][0]["function"]["arguments"]) == {"expression": "nan"}  # was NaN
    assert reply["content"].startswith("error: unknown name 'nan'")  # what the tool received is what was recorded


def test_tool_call_ids_are_unique_strings_the_replies_name(sandbox):
    env = tool_env(sandbox, max_calls_per_turn=5)
    entries = [function("calculator", '{"expression": "1"}', "x"), function("calculator", '{"expression": "2"}', "x"),
               function("calculator", '{"expression": "3"}', {"a": 1}), function("calculator", '{"expression": "4"}', 7),
               function("calculator", '{"expression": "5"}', "call_1_2")]
    *_, info = env.step(openai(*entries))
    assistant, *replies = info["messages"][-6:]
    ids = [c["id"] for c in assistant["tool_calls"]]
    assert ids == ["x", "call_1_1", "call_1_2_1", "call_1_3", "call_1_2"]
    assert [r["tool_call_id"] for r in replies] == ids and [r["content"] for r in replies] == ["1", "2", "3", "4", "5"]
    assert [c["id"] for c in info["turn_details"]["tool_calls"]] == ids


def test_entries_that_are_not_calls_are_recorded_as_the_calls_their_replies_name(sandbox):
    env = tool_env(sandbox)
    *_, info = env.step(openai("calculator(1)", None, {"id": "q"}))
    assistant, *replies = info["messages"][-4:]
    assert assistant["tool_calls"] == [
        {"id": "call_1_0", "type": "function", "function": {"name": "", "arguments": '"calculator(1)"'}},
        {"id": "call_1_1", "type": "function", "function": {"name": "", "arguments": "null"}},
        {"id": "q", "type": "function", "function": {"name": "", "arguments": "{}"}},
    ]
    assert [r["tool_call_id"] for r in replies] == ["call_1_0", "call_1_1", "q"]
    assert all(r["content"].startswith("error: ") for r in replies)
    assert openai_tool_calls([{"function": {"name": "f", "arguments": {("a",): 1}}}], 2)[0]["function"]["arguments"] == '{"[\'a\']": 1}'


def test_a_user_tool_cannot_silently_replace_a_built_in_or_another_tool(sandbox):
    @tool(name="python")
    def mine(code: str) -> str:
        """Not the sandbox."""
        return "mine"

    with pytest.raises(ValueError, match=r"tool 'python' has the name of a built-in tool; to replace the built-in, "
                                         r"leave it out: builtin_tools=\('calculator',\)"):
        rlvr.make("ToolMath-v0", sandbox=sandbox, tools=[mine])
    env = tool_env(sandbox, tools=[mine], builtin_tools=("calculator",))  # asked for: replaced
    assert env.step(call("python", code="print(1)"))[4]["messages"][-1]["content"] == "mine"
    with pytest.raises(ValueError, match="tool 'mine' has the name of another of the tools given"):
        rlvr.make("ToolMath-v0", sandbox=sandbox, tools=[tool(mine.fn), tool(mine.fn)])


def test_argument_type_errors_use_the_right_article():
    @tool
    def f(a: int, b: list, c: dict, d: str) -> str:
        """Take typed arguments."""
        return ""

    assert f.check_arguments({"a": "1", "b": [], "c": {}, "d": ""}) == "argument 'a' of tool 'f' must be an integer, got str"
    assert f.check_arguments({"a": 1, "b": 1, "c": {}, "d": ""}) == "argument 'b' of tool 'f' must be an array, got int"
    assert f.check_arguments({"a": 1, "b": [], "c": 1, "d": ""}) == "argument 'c' of tool 'f' must be an object, got int"
    assert f.check_arguments({"a": 1, "b": [], "c": {}, "d": 1}) == "argument 'd' of tool 'f' must be a string, got int"


# ------------------------------------------------------------------ values the calculator must not show as results


@pytest.mark.parametrize("expression, problem", [
    ("N(7, 0)", "N's digits must be a whole number from 1 to 10000, got 0"),  # sympy: 0.e+1
    ("N(pi, 0)", "N's digits must be a whole number from 1 to 10000, got 0"),
    ("N(1, -5)", "N's digits must be a whole number from 1 to 10000, got -5"),
    ("N(2, 2.5)", "N's digits must be a whole number from 1 to 10000, got 5/2"),
    ("N(1/3, 10**9)", "N's digits must be a whole number from 1 to 10000, got 1000000000"),
    ("log(8, 0)", "a logarithm's base cannot be 0"),  # sympy: 0
    ("log(x, 1)", "a logarithm's base cannot be 1"),
    ("log(8, 1 - 1)", "a logarithm's base cannot be 0"),
])
def test_an_undefined_or_meaningless_calculation_is_an_error_not_a_result(expression, problem):
    assert evaluate_expression(expression) == ("error", f"ValueError: {problem}")


@pytest.mark.parametrize("expression, result", [
    ("N(pi)", "3.14159265358979"), ("N(1/3, 5)", "0.33333"), ("log(8, 2)", "3"), ("log(100, 10)", "2"),
    ("ln(E)", "1"), ("log(x**2, E)", "log(x**2)"),
])
def test_logarithms_and_n_still_work(expression, result):
    assert evaluate_expression(expression) == ("ok", result)


@pytest.mark.parametrize("setting, value", [
    ("max_calls_per_turn", 0), ("max_calls_per_turn", -1), ("max_calls_per_turn", "4"), ("max_calls_per_turn", 2.9),
    ("max_calls_per_turn", True), ("max_tool_output_chars", "100"), ("max_tool_output_chars", 3.5),
    ("max_tool_output_chars", 0),
])
def test_tool_limits_must_be_positive_ints(setting, value):
    # 0 calls per turn refused every call: zero process reward for every tool turn, silently
    with pytest.raises(ValueError, match=rf"{setting} must be a positive int .*got {re.escape(repr(value))}"):
        rlvr.make("ToolMath-v0", sandbox_backend="subprocess", **{setting: value})
