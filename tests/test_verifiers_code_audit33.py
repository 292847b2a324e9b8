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

A review of those fixes found regressions, also tested here:

* Real programs were taken for test drivers: fast input that reads file descriptor 0
  (`io.BytesIO(os.read(0, n)).readline`, `os.fdopen(0)`, `io.FileIO(0)`, `open("/dev/stdin")`),
  the local-file idiom `if os.path.exists("input.txt"): sys.stdin = open("input.txt")` and a
  self-test in a def. A right final version after a wrong draft then scored wrong, and a wrong
  final version using the local-file idiom after a right draft scored right. Now only a block that
  always fakes its input, reads no real input itself and calls a function of another block is a
  driver.
* A later `test()` call was appended to a program that reads its input at top level, and a
  `main()` to one that already runs main (`globals()["main"]()`): now only a program that does
  nothing at top level but define gets a later call, of a function that reads input.
* ```python2, ```py2.7 blocks were read as Python, and fences with no language part (```:output,
  ```{}) or an output class (```py:output, ```python {.output}) as untagged.
* `sys.exit(main())`, `threading.Thread(target=main).start()` and a guard that sets the recursion
  limit first were not taken as the later call.

A second review found more, also tested here:

* A later call block ran a stale definition: a corrected `def solve()` that reads input only through
  a template's helpers (`I()`, `LI()`) was not taken for a program, so `solve()` was put after the
  first draft, and a wrong final version scored right. A driver after such a correction was skipped
  and the stale draft ran. A block that redefines a function reading input through another
  block's function is now the program, and a call or driver is not put after a program that a
  block between them redefines.
* A test file (```python:test_solution.py, `from solution import main` or `import solution` then
  `solution.main()`) was taken for the program: the imported name counted as the block's own.
  For a function task with no named function, `from solution import largest` was taken over
  `def largest`.
* Finding the functions that read input was quadratic in the depth of a helper chain (63 s for one
  block of 2000 helpers); it is now a worklist over a graph built once, and runs only when needed.
* `print(solve())`, and `ans = solve()` then `print(ans)`, were not taken as the later call.

A third review found more, also tested here:

* Deeply nested but valid code (a 1000-term sum, a `main()` of 400 elifs run by a later block, a
  changed redefinition of a deep function) raised RecursionError, so a right answer was never
  scored: the walks are iterative, and any failure of the reading of the answer as one program
  falls back to the chosen block as it is, with what other blocks define.
* A later block that only redefines functions of the program (an excerpt of `solve()` after a
  complete template, or the corrected `solve()` of a template that calls it) was taken alone,
  without the template's call: it now replaces the old definitions inside the program, and an
  excerpt that elides code with `...` is no new version.
* Comparing redefinitions was quadratic in the number of functions of a block.
* A local variable of `main()` (`best = max(a)`) counted as a use of another block's `def best`,
  so the later `main()` call was dropped.

A fourth review found defects of that splicing, also tested here:

* A placeholder definition in the correction (`def total(a): ...  # unchanged`, or only `pass`)
  replaced the program's real function, so a right answer failed: it is now left out.
* A correction's `from __future__` import landed mid-file (a SyntaxError): it now goes to the top.
* The correction was put where the old definition was, before constants its default arguments or
  decorators use (`def solve(mod=MOD)` with `MOD` set after the old `solve`): it now goes before
  the program's first top-level statement that runs something.
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
    "print(main())\n",                                   # so is printing what it returns (None)
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


# -- review: real programs are not test drivers ---------------------------------------------------
FAST_IO = {
    "pyrival": "import io, os\ninput = io.BytesIO(os.read(0, os.fstat(0).st_size)).readline\n",
    "os_read": "import os\ninput = iter(os.read(0, 1 << 25).decode().split('\\n')).__next__\n",
    "local_file": "import os, sys\nif os.path.exists('input.txt'):\n    sys.stdin = open('input.txt', 'r')\n",
    "local_env": "import os, sys\nif os.environ.get('LOCAL'):\n    sys.stdin = open('in.txt')\n",
    "local_try": "import sys\ntry:\n    sys.stdin = open('input.txt')\nexcept OSError:\n    pass\n",
    "dev_stdin": "import sys\nsys.stdin = open('/dev/stdin')\n",
    "fdopen": "import os, sys\nsys.stdin = os.fdopen(0, 'r', 1 << 16)\n",
    "fileio": "import io, sys\nsys.stdin = io.TextIOWrapper(io.FileIO(0), encoding='utf-8')\n",
    "stringio_of_fd0": "import io, os, sys\nsys.stdin = io.StringIO(os.read(0, 1 << 25).decode())\n",
    "stringio_of_stdin": "import io, sys\nsys.stdin = io.StringIO(sys.stdin.read())\n",
}
WRONG_DRAFT = "a, b = map(int, input().split())\nprint(a - b)\n"
RIGHT_DRAFT = "a, b = map(int, input().split())\nprint(a + b)\n"


@pytest.mark.parametrize("head", FAST_IO.values(), ids=FAST_IO.keys())
def test_a_final_program_with_fast_or_local_input_is_taken(head):
    final = head + "a, b = map(int, input().split())\nprint(a + b)\n"
    answer = f"First try:\n{F}python\n{WRONG_DRAFT}{F}\nFixed, with fast input:\n{F}python\n{final}{F}\n"
    assert extract_program(answer) == final.strip("\n")


@pytest.mark.parametrize("name", ["pyrival", "local_file", "os_read", "fdopen"])
def test_a_right_final_program_with_fast_or_local_input_passes_after_a_wrong_draft(box, name):
    final = FAST_IO[name] + "a, b = map(int, input().split())\nprint(a + b)\n"
    answer = f"First try:\n{F}python\n{WRONG_DRAFT}{F}\nFixed:\n{F}python\n{final}{F}\n"
    assert check_io(answer, CASES, sandbox=box).correct
    env = _io_env(box)
    verdict = env.verify(env.source.tasks[0], answer)
    assert verdict.correct and verdict.score == 1.0, verdict.reason


def test_a_wrong_final_program_with_the_local_file_idiom_fails_after_a_right_draft(box):
    """The false pass: the wrong final version was taken for a driver and the right draft ran."""
    final = FAST_IO["local_file"] + "a, b = map(int, input().split())\nprint(a * b)\n"
    answer = f"Draft:\n{F}python\n{RIGHT_DRAFT}{F}\nFinal answer:\n{F}python\n{final}{F}\n"
    assert extract_program(answer) == final.strip("\n")
    assert not check_io(answer, CASES, sandbox=box).correct
    env = _io_env(box)
    assert not env.verify(env.source.tasks[0], answer).correct


def test_a_program_with_the_local_file_idiom_and_a_usage_line_passes(box):
    program = FAST_IO["local_file"] + "def solve(a, b):\n    return a + b\n\na, b = map(int, input().split())\nprint(solve(a, b))\n"
    answer = f"{F}python\n{program}{F}\nFor example:\n{F}python\nprint(solve(1, 2))  # 3\n{F}\n"
    assert extract_program(answer) == program.strip("\n")
    assert check_io(answer, CASES, sandbox=box).correct


def test_a_program_with_a_self_test_in_a_def_is_taken(box):
    program = ("import io, sys\n\ndef solve():\n    a, b = map(int, sys.stdin.readline().split())\n    print(a + b)\n\n"
               "def _selftest():\n    sys.stdin = io.StringIO('1 2\\n')\n    solve()\n\n"
               "if __name__ == '__main__':\n    if '--test' in sys.argv:\n        _selftest()\n    else:\n        solve()\n")
    answer = f"{F}python\n{WRONG_DRAFT}{F}\nCorrected:\n{F}python\n{program}{F}\n"
    assert extract_program(answer) == program.strip("\n")
    assert check_io(answer, CASES, sandbox=box).correct


def test_a_final_program_that_feeds_its_own_input_and_reads_it_is_still_taken():
    """A block that fakes its input but reads input itself is a whole program (its final version):
    taken as before the fix for drivers, and it fails on the real cases."""
    for head in ('import io, sys\nsys.stdin = io.StringIO("1 2\\n")\n', 'import sys\nsys.stdin = open("input.txt")\n'):
        final = head + "a, b = map(int, input().split())\nprint(a + b)\n"
        answer = f"{F}python\n{PROGRAM}{F}\n\nFinal:\n\n{F}python\n{final}{F}\n"
        assert extract_program(answer) == final.strip("\n")


def test_a_driver_that_calls_nothing_of_another_block_is_taken_as_before():
    """`solve()` is defined nowhere: the block is no driver of the program before it."""
    driver = 'import io, sys\nsys.stdin = io.StringIO("1 2\\n")\nsolve()\n'
    answer = f"{F}python\n{PROGRAM}{F}\n\n{F}python\n{driver}{F}\n"
    assert extract_program(answer) == driver.strip("\n")


@pytest.mark.parametrize("driver", [
    'import io, sys\nfor data in ["1 2\\n", "5 5\\n"]:\n    sys.stdin = io.StringIO(data)\n    main()\n',
    'import io, sys, threading\nsys.stdin = io.StringIO("1 2\\n")\nthreading.Thread(target=main).start()\n',
])
def test_a_driver_in_a_loop_or_a_thread_is_not_the_program(driver):
    answer = f"{F}python\n{PROGRAM}{F}\n\nTry it:\n\n{F}python\n{driver}{F}\n"
    assert extract_program(answer) == PROGRAM.strip("\n")


# -- review: a later call is added only to a program that only defines -----------------------------
def test_a_later_self_test_call_is_not_added_to_a_program_that_runs(box):
    program = ("def solve(a, b):\n    return a + b\n\n"
               "def test():\n    assert solve(1, 2) == 3\n    print('all tests passed')\n\n"
               "a, b = map(int, input().split())\nprint(solve(a, b))\n")
    answer = f"{F}python\n{program}{F}\n\nRun the self-check with:\n\n{F}python\ntest()\n{F}\n"
    assert extract_program(answer) == program.strip("\n")
    assert check_io(answer, CASES, sandbox=box).correct


def test_a_later_main_call_is_not_added_to_a_program_that_already_runs_main(box):
    program = "import sys\n\ndef main():\n    a, b = map(int, sys.stdin.readline().split())\n    print(a + b)\n\nglobals()['main']()\n"
    answer = f"{F}python\n{program}{F}\n\nThe entry point:\n\n{F}python\nif __name__ == '__main__':\n    main()\n{F}\n"
    assert extract_program(answer) == program.strip("\n")
    assert check_io(answer, CASES, sandbox=box).correct


def test_a_later_call_of_a_function_that_reads_no_input_is_not_added():
    program = MAIN + "\n\ndef test():\n    print('ok')\n"
    answer = f"{F}python\n{program}{F}\n\n{F}python\ntest()\n{F}\n\nRun:\n\n{F}python\nmain()\n{F}\n"
    assert extract_program(answer) == program + "\n\nmain()"


@pytest.mark.parametrize("program", [
    "import sys\nsys.setrecursionlimit(10 ** 6)\ninput = sys.stdin.readline\nINF = float('inf')\n\n" + MAIN,
    '"""Adds two numbers."""\nimport sys\nrd = lambda: sys.stdin.readline().split()\n\n'
    "def main():\n    a, b = map(int, rd())\n    print(a + b)\n",
    "def solve():\n    a, b = map(int, input().split())\n    print(a + b)\n\ndef main():\n    solve()\n",
])
def test_a_program_that_only_defines_gets_the_later_call(box, program):
    answer = f"{F}python\n{program}{F}\n\nRun it:\n\n{F}python\nmain()\n{F}\n"
    assert extract_program(answer) == program.strip("\n") + "\n\n\nmain()"
    assert check_io(answer, CASES, sandbox=box).correct


# -- review: common forms of the later call ---------------------------------------------------------
MAIN_SYS = "import sys\n\ndef main():\n    a, b = map(int, sys.stdin.readline().split())\n    print(a + b)\n"
CALL_FORMS = [
    "if __name__ == '__main__':\n    sys.exit(main())\n",
    "sys.exit(main())\n",
    "raise SystemExit(main())\n",
    "if __name__ == '__main__':\n    sys.setrecursionlimit(10**6)\n    main()\n",
    "import threading\nthreading.Thread(target=main).start()\n",
    "import threading\nsys.setrecursionlimit(1 << 25)\nthreading.stack_size(1 << 27)\nthreading.Thread(target=main).start()\n",
    "import threading\n\nif __name__ == '__main__':\n    t = threading.Thread(target=main)\n    t.start()\n    t.join()\n",
]


@pytest.mark.parametrize("call", CALL_FORMS)
def test_common_forms_of_the_later_call_are_added(box, call):
    answer = f"{F}python\n{MAIN_SYS}{F}\n\nRun it:\n\n{F}python\n{call}{F}\n"
    assert extract_program(answer) == MAIN_SYS + "\n\n" + call.strip("\n")
    assert check_io(answer, CASES, sandbox=box).correct


@pytest.mark.parametrize("call", [
    "sys.exit(main(1))\n",
    "import threading\nthreading.Thread(target=main)\n",            # never started
    "sys.setrecursionlimit(int('999'))\nmain()\n",             # an argument that calls
    "import io\nif __name__ == '__main__':\n    sys.stdin = io.StringIO('1 2')\n    main()\n",
    "import threading\nthreading.Thread(target=main, args=('1 2',)).start()\n",
    "sys.exit(0)\n",
])
def test_a_later_block_that_does_more_or_other_than_run_the_function_is_not_added(call):
    answer = f"{F}python\n{MAIN_SYS}{F}\n\n{F}python\n{call}{F}\n"
    assert extract_program(answer) == MAIN_SYS.strip("\n")


# -- review: Python 2 fences and fences with no language part ----------------------------------------
@pytest.mark.parametrize("tag", ["python2", "py2", "python2.7", "Python2", "python-2", "py27"])
def test_a_python_2_fence_is_not_python(box, tag):
    right = "def sum_to(n):\n    return sum(range(n + 1))\n"
    answer = (f"Python 3:\n\n{F}python\n{right}{F}\n\nOn Python 2, use xrange:\n\n"
              f"{F}{tag}\ndef sum_to(n):\n    return sum(xrange(n + 1))\n{F}\n")
    assert extract_code(answer) == right.strip("\n")
    assert extract_program(answer, ["sum_to"]) == right.strip("\n")
    assert check_function(answer, ["assert sum_to(3) == 6", "assert sum_to(10) == 55"], sandbox=box).correct


@pytest.mark.parametrize("tag", [":output", ":add.py", "{}", "=", "py:output", "python{.output}",
                                 "{.python .output}", "python {.output}", "{.output}"])
def test_a_fence_with_no_language_part_or_an_output_class_is_not_code(tag):
    answer = f"{F}python\ndef add(a, b):\n    return a + b\n{F}\n\n{F}{tag}\nadd(1, 2)\n{F}\n"
    assert extract_code(answer) == "def add(a, b):\n    return a + b"
    assert extract_code(f"{F}{tag}\nadd(1, 2)\n{F}\n", fallback_raw=False) == ""


@pytest.mark.parametrize("tag", ["python_3", "python3.12", "py3", "python:output.py", "python3=", "python311"])
def test_python_3_versions_and_file_names_are_still_python(tag):
    assert extract_code(f"{F}{tag}\nx = 1\n{F}\n", fallback_raw=False) == "x = 1"


def test_a_long_answer_of_fake_blocks_is_read_fast():
    import time
    driver = 'import io, sys\nsys.stdin = io.StringIO("1 2\\n")\nmain()\n'
    answer = f"{F}python\n{PROGRAM}{F}\n" + "".join(f"Try {i}:\n{F}python\n{driver}{F}\n" for i in range(1500))
    start = time.perf_counter()
    assert extract_program(answer) == PROGRAM.strip("\n")
    assert time.perf_counter() - start < 3.0


# -- second review ---------------------------------------------------------------------------------
MINMAX = [("3\n1 5 2\n", "5\n"), ("1\n-4\n", "-4\n"), ("4\n2 2 9 3\n", "9\n")]  # the maximum is right
TEMPLATE = ("import sys\ninput = sys.stdin.readline\n\ndef I():\n    return int(input())\n\n"
            "def LI():\n    return list(map(int, input().split()))\n\n")


def _stale_template(first: str, final: str) -> str:
    return (f"Template and first attempt:\n{F}python\n{TEMPLATE}def solve():\n    n = I()\n    a = LI()\n"
            f"    print({first}(a))\n{F}\nRe-reading the statement, it is the other one:\n"
            f"{F}python\ndef solve():\n    n = I()\n    a = LI()\n    print({final}(a))\n{F}\n"
            f"And call it:\n{F}python\nsolve()\n{F}\n")


def _stale_main(first: str, final: str) -> str:
    return (f"{F}python\nimport sys\n\ndef read_case():\n    n = int(sys.stdin.readline())\n"
            f"    return list(map(int, sys.stdin.readline().split()))\n\ndef main():\n    a = read_case()\n"
            f"    print({first}(a))\n{F}\nFixed `main`:\n{F}python\ndef main():\n    a = read_case()\n"
            f"    print({final}(a))\n{F}\nRun it with:\n{F}python\nif __name__ == '__main__':\n    main()\n{F}\n")


@pytest.mark.parametrize("layout", [_stale_template, _stale_main])
def test_a_later_call_runs_the_corrected_function_not_the_draft(box, layout):
    wrong, right = layout("max", "min"), layout("min", "max")
    assert "print(min(a))" in extract_program(wrong) and "print(max(a))" not in extract_program(wrong)
    assert not check_io(wrong, MINMAX, sandbox=box).correct
    assert check_io(right, MINMAX, sandbox=box).correct


@pytest.mark.parametrize("driver", [False, True])
def test_a_wrong_correction_after_a_right_draft_fails_with_or_without_a_driver(box, driver):
    answer = (f"{F}python\n{TEMPLATE}def solve():\n    n = I()\n    a = LI()\n    print(max(a))\n\nsolve()\n{F}\n"
              f"Corrected solve:\n{F}python\ndef solve():\n    n = I()\n    a = LI()\n    print(min(a))\n{F}\n"
              + (f"Test:\n{F}python\nimport io\nsys.stdin = io.StringIO('3\\n1 5 2\\n')\nsolve()\n{F}\n" if driver else ""))
    assert "print(max(a))" not in extract_program(answer)
    assert not check_io(answer, MINMAX, sandbox=box).correct


PICK = ("import sys\n\ndef pick(a):\n    return {op}(a)\n\ndef main():\n    n = int(sys.stdin.readline())\n"
        "    print(pick(list(map(int, sys.stdin.readline().split()))))\n")
FIX = "Corrected helper:\n{F}python\ndef pick(a):\n    return min(a)\n{F}\n"


def test_a_later_call_is_not_added_when_a_block_between_redefines_what_it_runs(box):
    answer = f"{F}python\n{PICK.format(op='max')}{F}\n" + FIX.format(F=F) + f"Run:\n{F}python\nmain()\n{F}\n"
    assert extract_program(answer) == PICK.format(op="max").strip("\n")  # no stale run of pick
    assert not check_io(answer, MINMAX, sandbox=box).correct
    unrelated = answer.replace("def pick(a):\n    return min(a)", "def other(a):\n    return min(a)")
    assert extract_program(unrelated).endswith("main()")  # a block that redefines nothing it runs


def test_a_driver_is_taken_when_a_block_between_redefines_what_it_runs(box):
    program = PICK.format(op="max") + "\nmain()\n"
    driver = f"Test:\n{F}python\nimport io\nsys.stdin = io.StringIO('3\\n1 5 2\\n')\nmain()\n{F}\n"
    answer = f"{F}python\n{program}{F}\n" + FIX.format(F=F) + driver
    assert "io.StringIO" in extract_program(answer)  # not the stale draft, which would pass
    assert not check_io(answer, MINMAX, sandbox=box).correct
    without_fix = f"{F}python\n{program}{F}\n" + driver
    assert extract_program(without_fix) == program.strip("\n")
    assert check_io(without_fix, MINMAX, sandbox=box).correct


def test_a_new_function_that_calls_the_program_is_no_version_of_it():
    answer = f"{F}python\n{PROGRAM}{F}\n\n{F}python\ndef check():\n    main()\n    print('ok')\n{F}\n"
    assert extract_program(answer) == PROGRAM.strip("\n")


MAX_MAIN = ("import sys\n\ndef main():\n    n = int(sys.stdin.readline())\n    a = list(map(int, sys.stdin.readline().split()))\n"
            "    print(max(a))\n\nif __name__ == '__main__':\n    main()\n")
FROM_IMPORT = "import io, sys\nfrom solution import main\n\nsys.stdin = io.StringIO('3\\n1 5 2\\n')\nmain()  # prints 5\n"
MODULE_IMPORT = "import io, sys\nimport solution\n\nsys.stdin = io.StringIO('3\\n1 5 2\\n')\nsolution.main()  # prints 5\n"


@pytest.mark.parametrize("tag", ["python:test_solution.py", "python3.11", "python"])
@pytest.mark.parametrize("test_file", [FROM_IMPORT, MODULE_IMPORT, FROM_IMPORT.replace("import main", "import main as run")
                                       .replace("main()  #", "run()  #")])
def test_a_test_file_that_imports_the_program_is_not_the_program(box, tag, test_file):
    answer = f"`solution.py`:\n{F}python\n{MAX_MAIN}{F}\nQuick local check:\n{F}{tag}\n{test_file}{F}\n"
    assert extract_program(answer) == MAX_MAIN.strip("\n")
    assert check_io(answer, MINMAX, sandbox=box).correct


def test_a_test_file_is_not_the_function_for_a_task_that_names_none():
    answer = (f"{F}python\ndef largest(nums):\n    return max(nums)\n{F}\nTests:\n"
              f"{F}python:test_solution.py\nfrom solution import largest\n\ndef test_largest():\n"
              f"    assert largest([1, 5, 2]) == 5\n{F}\n")
    assert extract_program(answer, any_function=True) == "def largest(nums):\n    return max(nums)"


def test_a_standard_module_import_does_not_make_a_test_file():
    answer = (f"{F}python\ndef gcd(a, b):\n    return a if b == 0 else gcd(b, a % b)\n{F}\n"
              f"{F}python\nfrom math import gcd\n\ndef lcm(a, b):\n    return a * b // gcd(a, b)\n{F}\n")
    assert extract_program(answer, any_function=True).endswith("return a * b // gcd(a, b)")


@pytest.mark.parametrize("call", ["print(solve())", "if __name__ == '__main__':\n    print(solve())",
                                  "ans = solve()\nprint(ans)"])
def test_printing_what_the_function_returns_is_taken_as_the_later_call(box, call):
    solve = "def solve():\n    n = int(input())\n    a = list(map(int, input().split()))\n    return max(a)\n"
    answer = f"{F}python\n{solve}{F}\nThen print the result:\n{F}python\n{call}\n{F}\n"
    assert extract_program(answer) == solve + "\n\n" + call
    assert check_io(answer, MINMAX, sandbox=box).correct


@pytest.mark.parametrize("call", ["print(solve(), end='')", "print(solve(3))", "x = solve()\nprint(x + 1)",
                                  "print(other())"])
def test_printing_anything_else_is_not_taken_as_the_later_call(call):
    solve = "def solve():\n    n = int(input())\n    return n\n"
    answer = f"{F}python\n{solve}{F}\n\n{F}python\n{call}\n{F}\n"
    assert extract_program(answer) == solve.strip("\n")


@pytest.mark.parametrize("later", [False, True])
def test_a_long_chain_of_helpers_is_read_fast(later):
    import time
    body = "import sys\n\n" + "".join(f"def f{i}():\n    return f{i + 1}() + {i}\n\n" for i in range(2000)) \
        + "def f2000():\n    return int(sys.stdin.readline())\n"
    answer = f"{F}python\n{body}{F}\n" + (f"{F}python\nprint(f0())\n{F}\n" if later else "")
    start = time.perf_counter()
    program = extract_program(answer)
    assert time.perf_counter() - start < 5.0  # (0.06 s here; the quadratic walk took 63 s)
    assert program == body.strip("\n") + ("\n\n\nprint(f0())" if later else "")


def test_the_same_function_shown_again_after_a_full_program_is_no_new_version(box):
    program = ("import sys\n\ndef read_case():\n    n = int(sys.stdin.readline())\n"
               "    return list(map(int, sys.stdin.readline().split()))\n\ndef main():\n    print(max(read_case()))\n\nmain()\n")
    answer = f"{F}python\n{program}{F}\nThe key part:\n{F}python\ndef main():\n    print(max(read_case()))\n{F}\n"
    assert extract_program(answer) == program.strip("\n")
    assert check_io(answer, MINMAX, sandbox=box).correct
    changed = answer.replace("print(max(read_case()))\n```\n", "print(min(read_case()))\n```\n")
    assert "print(min(read_case()))" in extract_program(changed)  # a new version is taken (and prints nothing)
    assert not check_io(changed, MINMAX, sandbox=box).correct


# -- third review ----------------------------------------------------------------------------------
def _elif_main(k: int) -> str:
    lines = ["def main():", "    n = int(input())"]
    lines += [f"    {'if' if i == 0 else 'elif'} n == {i}:\n        print({i * i})" for i in range(k)]
    return "\n".join(lines + ["    else:\n        print(n * n)"])


def test_a_long_sum_in_one_block_is_extracted_and_runs(box):
    program = "X = " + " + ".join(str(i) for i in range(1000)) + "\nn = int(input())\nprint(n + X)"
    answer = f"Here it is:\n{F}python\n{program}\n{F}\n"
    assert extract_program(answer) == program
    assert check_io(answer, [("3\n", f"{3 + sum(range(1000))}\n")], sandbox=box).correct


def test_a_deep_main_run_by_a_later_block_is_extracted_and_scored(box):
    answer = f"Hard-coded table:\n{F}python\n{_elif_main(400)}\n{F}\nRun it:\n{F}python\nmain()\n{F}\n"
    assert extract_program(answer) == _elif_main(400) + "\n\n\nmain()"
    env = CodeEnv([{"question": "Square n.", "inputs": ["3\n"], "outputs": ["9\n"]}], sandbox=box)
    assert env.verify(env.source.tasks[0], answer).correct


def test_a_deep_changed_redefinition_does_not_raise():
    deep = "+".join(["1"] * 2500)
    answer = (f"{F}python\ndef I(): return int(input())\ndef solve():\n    n = I()\n    print(n)\nsolve()\n{F}\n"
              f"{F}python\ndef solve():\n    n = I()\n    print(n + {deep})\n{F}\n")
    assert deep in extract_program(answer)


def test_a_definition_that_cannot_be_carried_over_falls_back_to_the_block():
    deep = "+".join(["1"] * 2500)  # unparsing a statement that shares its line recurses too deep
    answer = f"{F}python\nX = {deep}; Y = 2\n{F}\n{F}python\nprint(X + int(input()))\n{F}\n"
    assert extract_program(answer) == "print(X + int(input()))"


TEMPLATE = ("import sys\ninput = sys.stdin.readline\ndef I(): return int(input())\n"
            "def LI(): return list(map(int, input().split()))\ndef solve():\n    n = I()\n    a = LI()\n"
            "    print({op}(a))\nsolve()\n")


def test_an_excerpt_after_a_complete_program_keeps_the_program(box):
    answer = (f"{F}python\n{TEMPLATE.format(op='max')}{F}\nThe key part is reading the array:\n"
              f"{F}python\ndef solve():\n    n = I()\n    a = LI()\n    ...\n{F}\n")
    assert extract_program(answer) == TEMPLATE.format(op="max").strip("\n")
    assert check_io(answer, MINMAX, sandbox=box).correct


@pytest.mark.parametrize("op, right", [("max", True), ("min", False)])
def test_a_corrected_function_replaces_the_draft_inside_the_template(box, op, right):
    fix = f"def solve():\n    n = I()\n    a = LI()\n    print({op}(a))\n"
    draft = "min" if op == "max" else "max"
    answer = f"{F}python\n{TEMPLATE.format(op=draft)}{F}\nOops, the fix:\n{F}python\n{fix}{F}\n"
    program = extract_program(answer)
    assert program.endswith(fix + "\nsolve()") and program.count("def solve") == 1
    assert check_io(answer, MINMAX, sandbox=box).correct is right


@pytest.mark.parametrize("op, right", [("max", True), ("min", False)])
def test_a_correction_between_a_template_and_its_call_block_is_run_by_it(box, op, right):
    template = TEMPLATE.format(op="sum").replace("\nsolve()\n", "\n")
    fix = f"def solve():\n    n = I()\n    a = LI()\n    print({op}(a))\n"
    answer = f"{F}python\n{template}{F}\nFixed:\n{F}python\n{fix}{F}\nRun:\n{F}python\nsolve()\n{F}\n"
    assert check_io(answer, MINMAX, sandbox=box).correct is right


def test_redefining_many_functions_is_read_fast():
    import time
    head = "import sys\ndef I(): return int(sys.stdin.readline())\n"
    body = "".join(f"def f{k}():\n    return I() + {k}\n" for k in range(6000))
    answer = f"{F}python\n{head}{body}print(f0())\n{F}\nAgain:\n{F}python\n{body}{F}\n"
    start = time.perf_counter()
    assert extract_program(answer).endswith("print(f0())")
    assert time.perf_counter() - start < 10.0  # (about 2 s here; comparing each def with a scan took 20 s)


def test_a_local_variable_is_no_use_of_another_blocks_function(box):
    main = "def main():\n    n = int(input())\n    a = list(map(int, input().split()))\n    best = max(a)\n    print(best)\n"
    answer = (f"{F}python\n{main}{F}\nIf you prefer a helper:\n{F}python\ndef best(xs):\n    return max(xs)\n{F}\n"
              f"Run it with:\n{F}python\nif __name__ == '__main__':\n    main()\n{F}\n")
    assert extract_program(answer).endswith("main()")
    assert check_io(answer, MINMAX, sandbox=box).correct


# -- fourth review ---------------------------------------------------------------------------------
SUM_DRAFT = ("import sys\ndef I(): return sys.stdin.readline()\ndef total(a):\n    s = 0\n    for x in a:\n"
             "        s += x\n    return s\ndef solve():\n    n = int(I())\n    a = list(map(int, I().split()))\n"
             "    print(total(a){extra})\n{between}solve()\n")
SUM_CASES = [("3\n1 2 3\n", "6\n"), ("2\n5 -1\n", "4\n")]


@pytest.mark.parametrize("placeholder", [
    "    ...  # unchanged\n", "    ...\n", "    pass  # same as before\n", "    pass\n",
    '    """As above."""\n    pass\n', '    """As above."""\n    ...\n',
])
@pytest.mark.parametrize("extra", ["", " + 1"])
def test_a_placeholder_definition_in_a_correction_keeps_the_programs_function(box, placeholder, extra):
    """A right draft, or a wrong one, then a correct `solve()` shown next to a placeholder of the
    helper: the helper stays the program's, the corrected `solve()` is still spliced in."""
    fix = "def total(a):\n" + placeholder + "def solve():\n    I()\n    print(total(map(int, I().split())))\n"
    answer = (f"{F}python\n{SUM_DRAFT.format(extra=extra, between='')}{F}\nMore compactly (`total` as above):\n"
              f"{F}python\n{fix}{F}\n")
    program = extract_program(answer)
    assert program.count("def total") == 1 and "s += x" in program and program.count("def solve") == 1
    assert "print(total(map(int, I().split())))" in program
    assert check_io(answer, SUM_CASES, sandbox=box).correct


def test_a_placeholder_alone_changes_nothing(box):
    answer = (f"{F}python\n{SUM_DRAFT.format(extra=' + 1', between='')}{F}\nThe helper:\n"
              f"{F}python\ndef total(a):\n    pass\n{F}\n")
    assert "s += x" in extract_program(answer)
    assert not check_io(answer, SUM_CASES, sandbox=box).correct  # the wrong draft runs, as it is


@pytest.mark.parametrize("docstring", ["", '"""Sum the numbers."""\n', '"""Sum."""\nfrom __future__ import annotations\n'])
def test_a_future_import_of_a_correction_goes_to_the_top(box, docstring):
    fix = ("from __future__ import annotations\ndef solve() -> None:\n    n = int(I())\n"
           "    a: list[int] = list(map(int, I().split()))\n    print(sum(a))\n")
    answer = (f"{F}python\n{docstring}{SUM_DRAFT.format(extra=' + 1', between='')}{F}\nFix:\n{F}python\n{fix}{F}\n")
    program = extract_program(answer)
    assert program.count("from __future__ import annotations") == 1
    opening = docstring if "__future__" in docstring else docstring + "from __future__ import annotations\n"
    assert program.startswith(opening)
    assert check_io(answer, SUM_CASES, sandbox=box).correct


@pytest.mark.parametrize("fix", [
    "def solve(mod=MOD):\n    n = int(I())\n    a = list(map(int, I().split()))\n    print(sum(a) % mod)\n",
    "@deco\ndef solve():\n    n = int(I())\n    a = list(map(int, I().split()))\n    print(sum(a) % MOD)\n",
])
def test_a_correction_goes_after_the_constants_its_definition_uses(box, fix):
    draft = SUM_DRAFT.format(extra=" + 1", between="MOD = 10**9 + 7\ndeco = lambda f: f\nLIMIT = int(1e6)\n")
    draft = draft.replace("def solve():", "def solve(mod=None):")
    answer = f"{F}python\n{draft}{F}\nFix:\n{F}python\n{fix}{F}\n"
    program = extract_program(answer)
    assert program.index("LIMIT =") < program.index("def solve") < program.index("\nsolve()")
    assert check_io(answer, SUM_CASES, sandbox=box).correct


def test_a_correction_goes_before_the_first_statement_that_runs(box):
    """`ans = main()` runs the function: the correction must come before it, and with no statement
    that runs anything after the old definition, at the end (a later block then calls it)."""
    head = "import sys\ndef I(): return int(sys.stdin.readline())\n"
    draft = head + "def main():\n    return I() + 1\nans = main()\nprint(ans)\n"
    fix = "def main():\n    return I() * 2\n"
    answer = f"{F}python\n{draft}{F}\nFix:\n{F}python\n{fix}{F}\n"
    assert extract_program(answer).endswith(fix + "\nans = main()\nprint(ans)")
    assert check_io(answer, [("3\n", "6\n")], sandbox=box).correct
    draft = head + "def main():\n    print(I() + 1)\nK = 2\n"
    fix = "def main(k=K):\n    print(I() * k)\n"
    answer = f"{F}python\n{draft}{F}\nFix:\n{F}python\n{fix}{F}\nRun:\n{F}python\nmain()\n{F}\n"
    program = extract_program(answer)
    assert program.index("K = 2") < program.index(fix) and program.endswith("\nmain()")
    assert check_io(answer, [("3\n", "6\n")], sandbox=box).correct
