"""Audit 30: environment settings refuse deletion with an error that says what to do instead; the
verifier's workers do not import from the working directory unless their caller does."""

from __future__ import annotations

import pytest

import rlvr


def test_deleting_a_setting_is_refused_with_what_to_do_instead():
    env = rlvr.make("rlvr/Math-v0").unwrapped
    digest = env.fingerprint().digest
    with pytest.raises(AttributeError, match=r"MathEnv\.max_turns is a setting .* cannot be deleted; assign a new value"):
        del env.max_turns
    assert env.max_turns == 1 and env.fingerprint().digest == digest  # untouched
    tool_env = rlvr.make("rlvr/ToolMath-v0", builtin_tools=("calculator",)).unwrapped
    with pytest.raises(AttributeError, match="tool_timeout is a setting .* make a new env with the tool_timeout"):
        del tool_env.tool_timeout
    env.reset(options={"task": {"question": "What is 3*4?", "answer": "12"}})
    assert env.step("\\boxed{12}")[1] == 1.0  # the env still steps


# ------------------------------------------------------------------ the verifier's workers and the working directory

CHILD = """
import json, sys
from rlvr.verifiers.timelimit import WorkerPool
with WorkerPool(1, preload=["colorsys"]) as pool:
    print(json.dumps(pool.call("os.path:abspath", ("x",), timeout=30)))
    print(json.dumps(pool.call("colorsys:rgb_to_hsv", (1.0, 0.0, 0.0), timeout=30)))
"""


def test_a_stray_module_in_the_working_directory_does_not_shadow_the_workers_imports(tmp_path):
    """A `python script.py` run from a folder holding a `colorsys.py` (sympy imports colorsys) used to
    break every sympy check: `python -c` put that folder first on the workers' import path."""
    import subprocess
    import sys

    work = tmp_path / "data"
    work.mkdir()
    (work / "colorsys.py").write_text("raise RuntimeError('the stray colorsys.py was imported')\n")
    script = tmp_path / "bin" / "check.py"
    script.parent.mkdir()
    script.write_text(CHILD)
    done = subprocess.run([sys.executable, str(script)], cwd=work, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == [f'"{work / "x"}"', "[0.0, 1.0, 1.0]"]
