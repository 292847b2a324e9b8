"""Regression tests for audit 36: a HumanEval prompt the sandbox cannot load is a setup error.

A HumanEval-layout task whose prompt begins with an import the sandbox's Python lacks (`import numpy
as np`) scored every answer, the canonical solution too, as a failed test ("the solution failed to
load: ModuleNotFoundError"), with pass@1 0.0 and exit 0. The prompt is the dataset's code: the program
now carries it apart (`code_plan.Program`), and when an answer's program fails to load, the harness
loads the prompt alone; if that fails too, the verdict is a `setup_error` (unverified), as for MBPP's
`test_imports`. An answer whose own code fails to load stays the answer's failure.
"""

from __future__ import annotations

import json
import pickle

import pytest

from rlvr.cli import main
from rlvr.envs.code_env import CodeEnv
from rlvr.verifiers.code import RULES_VERSION, check_function
from rlvr.verifiers.code_plan import Program

MISSING = "rlvr_no_such_module_36"  # a module no sandbox has (numpy in the red team's case)
NUMPY_PROMPT = f'import {MISSING} as np\n\n\ndef mul(a, b):\n    """Multiply a by b."""\n'
MUL_TEST = "def check(candidate):\n    assert candidate(3, 2) == 6\n    assert candidate(0, 5) == 0\n"
RIGHT_BODY = "    return a * b\n"
RIGHT_WHOLE = "```python\ndef mul(a, b):\n    return a * b\n```"


def _env(box, prompt, test=MUL_TEST, entry="mul"):
    return CodeEnv([{"task_id": "HumanEval/0", "prompt": prompt, "test": test, "entry_point": entry}], sandbox=box)


def _is_setup_error(verdict):
    return (verdict.error is not None and verdict.details.get("kind") == "setup_error"
            and not verdict.correct and "prompt failed to load" in verdict.error)


def test_a_prompt_import_the_sandbox_lacks_is_a_setup_error(box):
    env = _env(box, NUMPY_PROMPT)
    task = env.source.tasks[0]
    for answer in (RIGHT_BODY, RIGHT_WHOLE):  # a continuation and a whole function alike
        verdict = env.verify(task, answer)
        # before the fix: wrong, "the solution failed to load: ModuleNotFoundError ..."
        assert _is_setup_error(verdict), (verdict.reason, verdict.details.get("kind"))
        assert f"No module named '{MISSING}'" in verdict.error


def test_a_prompt_that_raises_is_a_setup_error_naming_the_prompt(box):
    prompt = 'import math\n\nassert math.pi < 3, "the dataset\'s own check"\n\n\ndef mul(a, b):\n    """Multiply."""\n'
    verdict = _env(box, prompt).verify(_env(box, prompt).source.tasks[0], RIGHT_WHOLE)
    assert _is_setup_error(verdict) and "AssertionError" in verdict.error, verdict.reason


def test_an_answer_importing_a_missing_module_is_still_its_own_failure(box):
    env = _env(box, 'import math\n\n\ndef mul(a, b):\n    """Multiply."""\n')
    task = env.source.tasks[0]
    for answer in (f"    import {MISSING}\n    return a * b\n",  # inside the body: fails when called
                   f"```python\nimport {MISSING}\n\ndef mul(a, b):\n    return a * b\n```",
                   "```python\ndef mul(a, b):\n    return a * b\n\nraise ValueError('no')\n```"):
        verdict = env.verify(task, answer)
        assert verdict.error is None and not verdict.correct and verdict.score == 0.0, verdict.reason
        assert verdict.details["kind"] == "failed"
    assert env.verify(task, RIGHT_WHOLE).correct  # and a prompt that loads changes nothing for a right one


def test_an_answer_cannot_override_a_prompt_helper(box):
    # HumanEval/38's guarantee (encode_cyclic): the tests use the prompt's helper, not the answer's
    prompt = ('def encode_cyclic(s: str):\n    """Cycle groups of three characters."""\n'
              '    groups = [s[(3 * i):min((3 * i + 3), len(s))] for i in range((len(s) + 2) // 3)]\n'
              '    groups = [(group[1:] + group[0]) if len(group) == 3 else group for group in groups]\n'
              '    return "".join(groups)\n\n\ndef decode_cyclic(s: str):\n    """Undo encode_cyclic."""\n')
    test = ("def check(candidate):\n    for word in ['abcdef', 'helloworld', 'xy']:\n"
            "        assert candidate(encode_cyclic(word)) == word\n")
    env = _env(box, prompt, test, "decode_cyclic")
    task = env.source.tasks[0]
    hack = "```python\ndef encode_cyclic(s):\n    return s\n\ndef decode_cyclic(s):\n    return s\n```"
    verdict = env.verify(task, hack)
    assert verdict.error is None and verdict.score == 0.0, verdict.reason
    # a hack that also fails to load is the answer's failure: the prompt alone loads
    broken = "```python\ndef encode_cyclic(s):\n    return s\n\ndef decode_cyclic(s):\n    return s\n\n1 / 0\n```"
    verdict = env.verify(task, broken)
    assert verdict.error is None and verdict.score == 0.0 and "ZeroDivisionError" in verdict.reason
    right = "    return encode_cyclic(encode_cyclic(s))\n"
    assert env.verify(task, right).correct


def test_only_the_env_can_mark_dataset_code(box):
    # the prompt travels beside the program's text, so an answer cannot claim lines for the dataset
    program = f"import {MISSING} as np\n\ndef mul(a, b):\n    return a * b\n"
    plain = check_function(program, MUL_TEST, "mul", sandbox=box, extract=False)
    assert plain.error is None and plain.details["kind"] == "failed", plain.reason
    marked = Program(program, prompt=NUMPY_PROMPT)
    assert marked == program and pickle.loads(pickle.dumps(marked)).prompt == NUMPY_PROMPT
    assert check_function(marked, MUL_TEST, "mul", sandbox=box, extract=True).error is None  # read as text
    assert _is_setup_error(check_function(marked, MUL_TEST, "mul", sandbox=box, extract=False))
    env = _env(box, NUMPY_PROMPT)
    solution = env.solution_of(env.source.tasks[0], RIGHT_WHOLE)
    assert isinstance(solution, Program) and solution.prompt == NUMPY_PROMPT
    assert RULES_VERSION >= 14


def _write(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


def test_rlvr_eval_reports_the_red_team_case_as_unverified(tmp_path, capsys):
    row = {"task_id": "HumanEval/0", "prompt": NUMPY_PROMPT, "canonical_solution": RIGHT_BODY, "test": MUL_TEST,
           "entry_point": "mul"}
    data = _write(tmp_path / "he.jsonl", [row])
    comps = _write(tmp_path / "c.jsonl", [{"task_id": "HumanEval/0", "completion": RIGHT_BODY}])
    out = tmp_path / "out"
    code = main(["eval", "--benchmark", "humaneval", "--data", data, "--completions", comps, "--out", str(out),
                 "--sandbox", "subprocess", "--no-progress"])
    err = capsys.readouterr().err
    sample = json.loads((out / "samples.jsonl").read_text().splitlines()[0])
    # before the fix: exit 0, pass@1 0.0, kind "failed"
    assert code == 3 and sample["kind"] == "setup_error" and not sample["correct"], (code, sample)
    assert "INCOMPLETE" in err and MISSING in err
    assert main(["benchmarks", "check", "humaneval", "--data", data, "--no-progress"]) == 3
    captured = capsys.readouterr()
    assert "0 wrong, 1 unverified" in captured.out + captured.err, captured


@pytest.mark.parametrize("backend", ["bwrap"])
def test_the_prompt_check_under_bwrap(backend):
    from conftest import TEST_LIMITS, get_sandbox

    box = get_sandbox(backend, **TEST_LIMITS)
    env = _env(box, NUMPY_PROMPT)
    assert _is_setup_error(env.verify(env.source.tasks[0], RIGHT_WHOLE))
    fine = _env(box, 'import math\n\n\ndef mul(a, b):\n    """Multiply."""\n')
    verdict = fine.verify(fine.source.tasks[0], f"```python\nimport {MISSING}\n\ndef mul(a, b):\n    return a * b\n```")
    assert verdict.error is None and verdict.details["kind"] == "failed", verdict.reason


# -- review of the above: what is not the prompt's failure ------------------------------------------
from rlvr.verifiers.code_plan import TYPING_NAMES_PRAGMA  # noqa: E402

#: A prompt that loads at once in the solution's process but runs on in the harness (which has
#: `json` loaded): its load there is still going when the run's end, or the tests' alarm, comes.
SLOW_IN_THE_HARNESS = "import sys\nwhile 'json' in sys.modules:\n    pass\n\n\ndef mul(a, b):\n    \"\"\"Multiply.\"\"\"\n"


def test_the_runs_end_during_the_prompt_ends_the_run_not_as_the_prompts_failure(box):
    # the first load works; the first call kills the process; the next process's load fails, and
    # the harness loads the prompt alone, inside the second test, until the run's end comes
    answer = ("import os\ndef mul(a, b):\n    if a == 3:\n        os._exit(1)\n    return a * b\n"
              "if os.path.exists('loaded-once'):\n    1 / 0\nopen('loaded-once', 'w').close()\n")
    tests = "def check(candidate):\n    assert candidate(3, 2) == 6\n    assert candidate(2, 2) == 4\n"
    verdict = check_function(Program(SLOW_IN_THE_HARNESS + answer, prompt=SLOW_IN_THE_HARNESS), tests, "mul",
                             sandbox=box, extract=False, timeout=1)
    # before the fix: a setup error, "the task's prompt failed to load: RunEnded"
    assert verdict.error is None and verdict.details["kind"] == "failed" and verdict.score == 0.0, verdict.reason
    assert "RunEnded" not in verdict.reason


def test_the_tests_alarm_during_the_prompt_is_not_the_prompts_failure(box):
    alarm = ("import signal\nclass Slow(Exception):\n    pass\ndef on_alarm(*args):\n    raise Slow('the tests alarm')\n"
             "signal.signal(signal.SIGALRM, on_alarm)\nsignal.setitimer(signal.ITIMER_REAL, 0.3)\n"
             "def check(candidate):\n    assert candidate(3, 2) == 6\n")
    broken = "def mul(a, b):\n    return a * b\n\n1 / 0\n"
    during_prompt = check_function(Program(SLOW_IN_THE_HARNESS + broken, prompt=SLOW_IN_THE_HARNESS), alarm, "mul",
                                   sandbox=box, extract=False, timeout=2)
    # the same alarm while the harness waits for the solution's load (it sleeps there)
    quick = 'def mul(a, b):\n    """Multiply."""\n'
    during_load = check_function(Program(quick + "import time\ntime.sleep(1)\n" + broken, prompt=quick), alarm, "mul",
                                 sandbox=box, extract=False, timeout=2)
    # before the fix: a setup error, "the task's prompt failed to load: Slow: the tests alarm"
    assert "prompt failed to load" not in (during_prompt.error or ""), during_prompt.reason
    assert during_prompt.details["kind"] == during_load.details["kind"], (during_prompt.reason, during_load.reason)


def test_a_prompt_using_the_typing_names_the_tests_give_loads_alone(box):
    prompt = 'def total(xs: List[int]) -> int:\n    """Sum xs."""\n'
    tests = f"{TYPING_NAMES_PRAGMA}\ndef check(candidate):\n    assert candidate([1, 2]) == 3\n"
    env = _env(box, prompt, tests, "total")
    task = env.source.tasks[0]
    assert env.verify(task, "    return sum(xs)\n").correct
    verdict = env.verify(task, "    return sum(xs)\n\n1 / 0\n")
    # before the fix: a setup error, "the task's prompt failed to load: NameError: name 'List' ..."
    assert verdict.error is None and verdict.details["kind"] == "failed", verdict.reason
    assert "ZeroDivisionError" in verdict.reason
