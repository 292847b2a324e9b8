"""Regression tests for a red-team audit of how an answer's code is picked out (audit 33).

* A right stdin/stdout program followed by a "test it locally" block (`sys.stdin = io.StringIO(...)`
  then `main()`) scored wrong: the later block mentions `sys.stdin`, so it was taken for the
  program, which then always saw the fixed input.
* A program whose `main()` call stood in a block of its own (`def main(): ... input() ...`, then
  `if __name__ == "__main__": main()`) scored wrong: only the first block was taken and it printed
  nothing.
* A fence whose info string carries a file name or a version (```python:add.py, ```python3.11)
  was not read as Python: the whole answer, prose and fences, was run and failed to parse, and
  Code-v0 gave no format credit.
"""

from __future__ import annotations

import pytest

from rlvr.envs.code_env import CodeEnv
from rlvr.verifiers.code import RULES_VERSION, check_function, check_io
from rlvr.verifiers.code_extract import extract_code, extract_program

F = "```"
CASES = [("1 2\n", "3\n"), ("5 5\n", "10\n"), ("7 1\n", "8\n")]
MAIN = "def main():\n    a, b = map(int, input().split())\n    print(a + b)\n"
PROGRAM = MAIN + "\n\nmain()\n"


def _io_env(box) -> CodeEnv:
    return CodeEnv([{"question": "Add two numbers.", "inputs": [c[0] for c in CASES],
                     "outputs": [c[1] for c in CASES]}], sandbox=box)


# -- 1a. a test driver that feeds its own input is not the program ---------------------------------
DRIVERS = [
    'import io, sys\nsys.stdin = io.StringIO("1 2\\n")\nmain()  # prints 3\n',
    'import io, sys\n\nif __name__ == "__main__":\n    sys.stdin = io.StringIO("1 2\\n")\n    main()\n',
    'import sys\nsys.stdin = open("input.txt")\nmain()\n',
    'input = lambda: "1 2"\nmain()\n',
    'import builtins\nbuiltins.input = lambda: "1 2"\nmain()\n',
    'from unittest.mock import patch\nimport io\nwith patch("sys.stdin", io.StringIO("1 2\\n")):\n    main()\n',
    'import io, sys\nsetattr(sys, "stdin", io.StringIO("1 2\\n"))\nmain()\n',
    'import io\n\ndef test(monkeypatch):\n    monkeypatch.setattr("sys.stdin", io.StringIO("1 2\\n"))\n    main()\n',
]


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_block_that_feeds_its_own_input_is_not_taken_for_the_program(driver):
    answer = f"Solution:\n\n{F}python\n{PROGRAM}{F}\n\nTest it locally:\n\n{F}python\n{driver}{F}\n"
    assert extract_program(answer) == PROGRAM.strip("\n")


def test_the_red_team_answer_with_a_test_driver_passes(box):
    program = "import sys\n\ndef main():\n    a, b = map(int, sys.stdin.read().split())\n    print(a + b)\n\nmain()\n"
    driver = 'import io, sys\nsys.stdin = io.StringIO("1 2\\n")\nmain()  # prints 3\n'
    answer = f"Here is my solution:\n\n{F}python\n{program}{F}\n\nYou can test it locally like this:\n\n{F}python\n{driver}{F}\n"
    assert check_io(answer, CASES, sandbox=box).correct
    env = _io_env(box)
    verdict = env.verify(env.source.tasks[0], answer)
    assert verdict.correct and verdict.score == 1.0, verdict.reason


@pytest.mark.parametrize("rebinding", [
    "import sys\ninput = sys.stdin.readline\n",
    "import sys\ninput = lambda: sys.stdin.readline().rstrip()\n",
    'import io, sys\nsys.stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8")\n',
    "import sys\ntokens = sys.stdin.read().split()\ninput = iter(tokens).__next__\n",
])
def test_a_later_program_that_rebinds_the_real_input_is_still_taken(rebinding):
    """Rebinding input to the real standard input (a speed idiom) is no fake: a later program that
    does it is the final version and is taken, as before."""
    later = rebinding + "a, b = map(int, input().split())\nprint(a + b)\n"
    answer = f"{F}python\n{PROGRAM}{F}\n\nFaster:\n\n{F}python\n{later}{F}\n"
    assert extract_program(answer) == later.strip("\n")


def test_a_later_program_that_redefines_the_solution_is_still_taken():
    fixed = "import sys\n\ndef main():\n    a, b = map(int, sys.stdin.read().split())\n    print(a + b)\n\nmain()\n"
    answer = f"{F}python\n{PROGRAM.replace('a + b', 'a - b')}{F}\n\nFixed:\n\n{F}python\n{fixed}{F}\n"
    assert extract_program(answer) == fixed.strip("\n")


def test_a_lone_block_that_fakes_its_input_is_still_the_program(box):
    """With nothing else to take, a block that fakes its input is run as it is (and fails)."""
    only = 'import io, sys\nsys.stdin = io.StringIO("1 2\\n")\n' + PROGRAM
    assert extract_program(f"{F}python\n{only}{F}") == only.strip("\n")
    assert not check_io(f"{F}python\n{only}{F}", CASES, sandbox=box).correct


# -- 1b. the call of the program's function given in a block of its own -----------------------------
@pytest.mark.parametrize("call", [
    'if __name__ == "__main__":\n    main()\n',
    "if '__main__' == __name__:\n    main()\n",
    "main()\n",
])
def test_a_call_in_a_later_block_of_its_own_is_kept(box, call):
    answer = f"The function that reads the input:\n\n{F}python\n{MAIN}{F}\n\nThen run it:\n\n{F}python\n{call}{F}\n"
    assert extract_program(answer) == MAIN + "\n\n" + call.strip("\n")
    assert check_io(answer, CASES, sandbox=box).correct
    env = _io_env(box)
    verdict = env.verify(env.source.tasks[0], answer)
    assert verdict.correct and verdict.score == 1.0, verdict.reason


@pytest.mark.parametrize("later", [
    "main()  # prints 3\n",                        # a usage line after a program that calls main itself
    'if __name__ == "__main__":\n    main()\n',
])
def test_a_call_after_a_program_that_calls_its_function_is_still_ignored(later):
    answer = f"{F}python\n{PROGRAM}{F}\n\nUsage:\n\n{F}python\n{later}{F}\n"
    assert extract_program(answer) == PROGRAM.strip("\n")


@pytest.mark.parametrize("later", [
    "main(1, 2)\n",                                      # a call with arguments is a usage example
    "print(main())\n",                                   # so is printing what it returns
    'import io, sys\nsys.stdin = io.StringIO("1 2\\n")\nmain()\n',   # a test driver: not carried over
    'if __name__ == "__main__":\n    main()\nelse:\n    print("imported")\n',
    "solve()\n",                                          # a function the program does not define
])
def test_a_later_block_that_does_more_than_call_the_function_is_not_carried_over(later):
    answer = f"{F}python\n{MAIN}{F}\n\n{F}python\n{later}{F}\n"
    assert extract_program(answer) == MAIN.strip("\n")


def test_a_recursive_function_that_is_never_called_from_outside_gets_the_later_call():
    main = "import sys\n\ndef main(n=None):\n    if n is None:\n        return main(int(input()))\n    print(n * 2)\n"
    answer = f"{F}python\n{main}{F}\n\n{F}python\nmain()\n{F}\n"
    assert extract_program(answer) == main + "\n\nmain()"


def test_only_the_first_later_call_block_is_taken():
    answer = f"{F}python\n{MAIN}{F}\n\n{F}python\nmain()\n{F}\n\nAgain:\n\n{F}python\nmain()\n{F}\n"
    assert extract_program(answer) == MAIN + "\n\nmain()"


def test_a_call_block_is_not_added_to_a_function_task():
    """For a function task the chosen block is loaded, not run: a later `main()` is never carried."""
    answer = f"{F}python\ndef add(a, b):\n    return a + b\n{F}\n\n{F}python\nadd()\n{F}\n"
    assert extract_program(answer, ["add"]) == "def add(a, b):\n    return a + b"
    assert extract_program(answer, any_function=True) == "def add(a, b):\n    return a + b"


def test_a_block_that_only_prints_examples_is_still_ignored():
    answer = f"{F}python\n{PROGRAM}{F}\n\nExample:\n\n{F}python\nprint(3)\n{F}\n\n{F}\n3\n{F}\n"
    assert extract_program(answer) == PROGRAM.strip("\n")


# -- 2. fence tags with a file name, option or version --------------------------------------------
@pytest.mark.parametrize("tag", [
    "python:add.py", "py:add.py", "python3.11", "python-3", "py3", "Python3", "python311",
    'py title="add.py"', "python {.numberLines}", "python{.numberLines}", "{python}", "{.python}",
    "python,editable", "python=", "python3:solution.py",
])
def test_a_fence_with_a_file_name_or_version_is_python(tag):
    answer = f"Here you go:\n\n{F}{tag}\ndef add(a, b):\n    return a + b\n{F}\n\nIt returns the sum."
    assert extract_code(answer) == "def add(a, b):\n    return a + b"
    assert extract_code(answer, fallback_raw=False) == "def add(a, b):\n    return a + b"
    assert extract_program(answer, ["add"]) == "def add(a, b):\n    return a + b"


@pytest.mark.parametrize("tag", ["javascript", "js:add.js", "r", "{r}", "c++17", "text", "output", "pycon", "python-repl"])
def test_a_fence_of_another_language_is_still_not_python(tag):
    answer = f"{F}python\ndef add(a, b):\n    return a + b\n{F}\n\n{F}{tag}\nadd(1, 2)\n{F}\n"
    assert extract_code(answer) == "def add(a, b):\n    return a + b"


def test_a_version_counts_for_other_languages_too():
    answer = f"{F}python\nprint(1)\n{F}\n\n{F}bash5:run.sh\necho hi\n{F}\n"
    assert extract_code(answer, language="bash") == "echo hi"
    assert extract_code(answer, language="sh") == "echo hi"


def test_a_closing_fence_without_its_opening_is_still_read():
    """A bare fence with nothing after it closes a block whose opening was left out, as before;
    a fence with an info string is an opening fence."""
    assert extract_code("Here:\ndef add(a, b):\n    return a + b\n```") == "def add(a, b):\n    return a + b"
    assert extract_code("Here:\ndef add(a, b):\n    return a + b\n```python:x.py") == ""


def test_a_tagged_answer_passes_and_earns_format_credit(box):
    env = CodeEnv(sandbox=box)  # the built-in samples: task 0 is add(a, b)
    task = env.source.get(0)
    for tag in ("python:add.py", "python3.11", "python-3"):
        answer = f"Here you go:\n\n{F}{tag}\ndef add(a, b):\n    return a + b\n{F}\n\nIt returns the sum."
        verdict = env.verify(task, answer)
        assert verdict.correct and verdict.score == 1.0, (tag, verdict.reason)
        assert env.format_score(task, answer) == 1.0
        assert check_function(answer, ["assert add(1, 2) == 3"], sandbox=box).correct
    answer = f"{F}python:sum.py\nprint(sum(map(int, input().split())))\n{F}"
    assert check_io(answer, [("1 2\n", "3\n")], sandbox=box).correct


def test_the_rules_version_records_the_change():
    assert RULES_VERSION >= 12
