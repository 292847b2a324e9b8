"""Audit 33: a python tool of your own (`make_python`, as docs/envs.md recommends) keeps to
ToolMath-v0's `tool_timeout` and `max_tool_output_chars`, and ToolMath-v0 / Code-v0 fingerprints
record the limits and interpreter of the sandbox they run programs in.

A red team found the own python tool ignoring the env's time limit (a 4 s program ran and passed
under tool_timeout=1; a 12 s one was killed at make_python's own 10 s under tool_timeout=30) and
its output cut from the start (a failed run lost its traceback's last line and status), and two
sandboxes with different memory limits giving the same fingerprint.
"""

from __future__ import annotations

import json
import time

import pytest

import rlvr
from rlvr.envs.code_env import CodeEnv
from rlvr.envs.python_tool import make_python
from rlvr.envs.tool_env import ToolMathEnv
from rlvr.sandbox import make_sandbox
from rlvr.sandbox.base import Sandbox
from rlvr.sandbox.subprocess_backend import SubprocessSandbox


def call(code: str) -> str:
    return "<tool_call>" + json.dumps({"name": "python", "arguments": {"code": code}}) + "</tool_call>"


def reply(env, code: str) -> tuple[str, bool | None]:
    """The tool message the model reads for one python call, and whether the call ran well."""
    env.reset(seed=0)
    _, _, _, _, info = env.step(call(code))
    return info["messages"][-1]["content"].strip(), info["turn_details"]["tool_calls"][0]["ok"]


def own_python_env(get_sandbox, **kwargs):
    """ToolMath-v0 with a python tool of the user's, as docs/envs.md shows it."""
    tool = make_python(get_sandbox, **{k: kwargs.pop(k) for k in ("timeout", "max_output_chars") if k in kwargs},
                       description="Run Python 3.")
    return rlvr.make("rlvr/ToolMath-v0", tools=[tool], builtin_tools=("calculator",), **kwargs)


@pytest.fixture(scope="module")
def sandbox():
    with make_sandbox(backend="subprocess") as made:
        yield made


class AskedSandbox(SubprocessSandbox):
    """A real subprocess sandbox that notes the time limit each run was given."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.asked: list[float | None] = []

    def run(self, code, *args, **kwargs):
        self.asked.append(kwargs.get("timeout"))
        return super().run(code, *args, **kwargs)


def test_own_python_tool_is_stopped_at_the_envs_tool_timeout(sandbox):
    env = own_python_env(lambda: sandbox, tool_timeout=0.5)
    started = time.monotonic()
    text, ok = reply(env, "import time; time.sleep(2); print('done')")
    assert time.monotonic() - started < 1.8
    assert ok is False and "done" not in text and "[status: timeout" in text, text


def test_own_python_tool_gets_a_tool_timeout_above_make_pythons_default():
    with AskedSandbox() as asked:
        env = own_python_env(lambda: asked, tool_timeout=30.0, turn_timeout=60.0)
        text, ok = reply(env, "print(6 * 7)")
    assert ok is True and text.strip() == "42"
    assert asked.asked == [30.0]  # was make_python's own 10 s


def test_an_explicit_make_python_timeout_applies_when_smaller_than_the_envs(sandbox):
    env = own_python_env(lambda: sandbox, timeout=0.5, tool_timeout=5.0)
    started = time.monotonic()
    text, ok = reply(env, "import time; time.sleep(2); print('done')")
    assert time.monotonic() - started < 1.8 and ok is False and "[status: timeout" in text, text
    with AskedSandbox() as asked:  # and the env's when that is smaller
        reply(own_python_env(lambda: asked, timeout=20.0, tool_timeout=3.0), "print(1)")
    assert asked.asked == [3.0]


FAILING = "print('x' * 2000)\nraise ValueError('the real problem')"


def test_own_python_tool_output_is_cut_as_the_builtin_cuts_it(sandbox):
    own, ok = reply(own_python_env(lambda: sandbox, max_tool_output_chars=300), FAILING)
    assert ok is False
    assert "ValueError: the real problem" in own and own.endswith("[status: error: exited with code 1]"), own
    builtin = rlvr.make("rlvr/ToolMath-v0", sandbox=sandbox, builtin_tools=("python",), max_tool_output_chars=300)
    assert reply(builtin, FAILING)[0] == own
    # chat markup is escaped before the fit (the escapes count), so the status still survives
    markup, _ = reply(own_python_env(lambda: sandbox, max_tool_output_chars=300),
                      "print('<|im_end|>' * 100)\nraise ValueError('the real problem')")
    assert "<|im_end|>" not in markup and markup.endswith("[status: error: exited with code 1]"), markup


def test_own_python_tools_smaller_output_limit_applies_and_the_given_tool_is_unchanged(sandbox):
    tool = make_python(lambda: sandbox, max_output_chars=200, description="Run Python 3.")
    env = rlvr.make("rlvr/ToolMath-v0", tools=[tool], builtin_tools=("calculator",), max_tool_output_chars=1000)
    text, ok = reply(env, FAILING)
    assert ok is False and "ValueError: the real problem" in text and len(text) < 300, text
    assert env.unwrapped.tools["python"].description == "Run Python 3." and tool.output_limit == 200
    wide = make_python(lambda: sandbox)  # its default 4000 gives way to the env's larger limit
    text, _ = reply(rlvr.make("rlvr/ToolMath-v0", tools=[wide], builtin_tools=("calculator",),
                              max_tool_output_chars=6000, max_obs_chars=40_000), "print('y' * 5000)")
    assert text.strip() == "y" * 5000
    assert wide.output_limit == 4000


BIG_ARRAY = "import array; a = array.array('d', [0]) * 20_000_000; print(len(a))"


def test_toolmath_fingerprint_records_the_sandboxs_limits_and_interpreter():
    with make_sandbox(backend="bwrap") as roomy, \
            make_sandbox(backend="bwrap", memory_mb=64, max_processes=2, max_output_bytes=100) as small:
        envs = [rlvr.make("rlvr/ToolMath-v0", sandbox=sb, builtin_tools=("python",)) for sb in (roomy, small)]
        # the same call runs under one and fails under the other...
        assert reply(envs[0], BIG_ARRAY) == ("20000000", True)
        assert reply(envs[1], BIG_ARRAY)[1] is False
        prints = [env.unwrapped.fingerprint() for env in envs]
        # ...so the setups differ
        assert prints[0].digest != prints[1].digest
        settings = prints[1].to_dict()["settings"]
        assert settings["sandbox_backend"] == "bwrap" and settings["sandbox"]["python"] == small.python
        assert settings["sandbox"]["limits"] == small.limits.to_dict()
        assert settings["sandbox"]["limits"]["memory_mb"] == 64
        json.dumps(settings)  # plain data


def test_code_fingerprint_records_the_sandboxs_limits(sandbox):
    rows = [{"text": "Square x.", "test_list": ["assert f(2) == 4"]}]
    with make_sandbox(backend="subprocess", memory_mb=64) as small:
        roomy_print = CodeEnv(rows, sandbox=sandbox).fingerprint()
        small_print = CodeEnv(rows, sandbox=small).fingerprint()
    assert roomy_print.digest != small_print.digest
    settings = small_print.to_dict()["verifier"]["settings"]
    assert settings["sandbox"]["limits"]["memory_mb"] == 64 and settings["sandbox"]["python"] == small.python


class BareSandbox(Sandbox):
    """A user's sandbox that never calls Sandbox.__init__ (no `limits`) and has no interpreter."""

    name = "mine"

    def __init__(self, inner):
        self.inner = inner

    def run(self, code, *args, **kwargs):
        return self.inner.run(code, *args, **kwargs)

    def _execute(self, job, limits):  # pragma: no cover - run is overridden
        raise NotImplementedError


class BrokenAttributes(BareSandbox):
    @property
    def limits(self):
        raise RuntimeError("no limits here")

    @property
    def python(self):
        raise RuntimeError("no interpreter here")


@pytest.mark.parametrize("kind", [BareSandbox, BrokenAttributes])
def test_fingerprint_of_a_sandbox_without_limits_or_interpreter(sandbox, kind):
    mine = kind(sandbox)
    env = rlvr.make("rlvr/ToolMath-v0", sandbox=mine, builtin_tools=("python",))
    assert reply(env, "print(3)") == ("3", True)
    settings = env.unwrapped.fingerprint().to_dict()["settings"]
    assert settings["sandbox_backend"] == "mine"
    assert "sandbox" not in settings
    code_settings = CodeEnv([{"text": "Square x.", "test_list": ["assert f(2) == 4"]}], sandbox=mine).fingerprint()
    assert code_settings.to_dict()["verifier"]["settings"]["sandbox_backend"] == "mine"


def test_fingerprint_of_an_own_python_tool_starts_no_shared_sandbox(sandbox):
    # the env's sandbox is the built-in python tool's; a python tool of yours runs in its own
    env = ToolMathEnv(tools=[make_python(lambda: sandbox)], builtin_tools=("calculator",), sandbox_backend="subprocess")
    settings = env.fingerprint().to_dict()["settings"]
    assert "sandbox_backend" not in settings and "sandbox" not in settings
    assert env._sandbox is None  # the shared sandbox was never got for it


# ------------------------------------------------- review of the fix: a wrapper of yours is kept, escapes digested


def test_a_wrapper_of_yours_around_a_make_python_tool_is_run_as_given(sandbox):
    """`dataclasses.replace(make_python(...), limited=wrapper)` carries `with_limits` over; the env
    must not rebuild the tool from make_python's closure, which silently dropped the wrapper."""
    import dataclasses

    base = make_python(lambda: sandbox, description="Run Python 3 (math imported).")
    seen = []

    def with_imports(budget, code):
        seen.append(code)
        return base.limited(budget, "import math\n" + code)

    mine = dataclasses.replace(base, limited=with_imports)
    env = rlvr.make("rlvr/ToolMath-v0", tools=[mine], builtin_tools=("calculator",), tool_timeout=0.5)
    text, ok = reply(env, "print(round(math.pi, 3))")
    assert (text, ok) == ("3.142", True) and seen == ["print(round(math.pi, 3))"]
    assert env.unwrapped.tools["python"].limited is with_imports  # kept, not rebuilt
    # a plain function of yours in place of make_python's (limited=None) is kept too
    plain = dataclasses.replace(base, fn=lambda code: "ran: " + code, limited=None, output_limit=None)
    env = rlvr.make("rlvr/ToolMath-v0", tools=[plain], builtin_tools=("calculator",))
    assert reply(env, "print(1)") == ("ran: print(1)", True)
    # an untouched copy (another description) is still made again under the env's limits
    same = dataclasses.replace(base, description="Run Python 3.")
    env = rlvr.make("rlvr/ToolMath-v0", tools=[same], builtin_tools=("calculator",), tool_timeout=0.5)
    made = env.unwrapped.tools["python"]
    assert made.limited is not base.limited and made.description == "Run Python 3."
    started = time.monotonic()
    text, ok = reply(env, "import time; time.sleep(2); print('done')")
    assert time.monotonic() - started < 1.8 and ok is False and "[status: timeout" in text, text


def esc_lower(text):
    return text.replace("A", "a")


def esc_upper(text):
    return text.upper()


def test_two_escapes_of_an_own_python_tool_give_two_fingerprints(sandbox):
    def digest(escape):
        env = ToolMathEnv([{"question": "q", "answer": "1"}], builtin_tools=("calculator",),
                          tools=[make_python(lambda: sandbox, escape=escape)])
        return env.fingerprint().digest

    assert digest(esc_lower) != digest(esc_upper)
    assert digest(esc_lower) == digest(esc_lower)
    assert digest(None) not in (digest(esc_lower), digest(esc_upper))


def esc_makes_markup(text):
    return text.replace("X", "<|im_end|>")


def test_own_escape_then_the_envs_escape_apply_to_the_reply(sandbox):
    env = ToolMathEnv([{"question": "q", "answer": "1"}], builtin_tools=("calculator",),
                      tools=[make_python(lambda: sandbox, escape=esc_makes_markup)])
    text, ok = env.run_call("python", {"code": "print('aX')"}, None)
    # the user's escape ran (X replaced), then the env's (the markup it made is broken)
    assert ok is True and text.startswith("a<") and "X" not in text and "<|im_end|>" not in text, text
