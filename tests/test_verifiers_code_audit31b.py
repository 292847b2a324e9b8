"""Regression tests for a red-team audit of the code verifier (audit 31, second part).

* A right whole-function HumanEval answer opening with `from __future__ import annotations` scored
  0 in Code-v0: the prompt was put before it, and the import no longer opened the module.
* `check_io(model_text, cases)` took the last fenced block, so a right program followed by a
  sample-output block or a one-line snippet scored 0 (Code-v0 scored it 1).
* A helper or import given in a block after the function's block was dropped (NameError).
* Code-v0 gave a function answer no per-call time limit: one hanging call used up the time of every
  test after it, so the partial credit depended on the order of the tests.
* A HumanEval-layout row whose `test` is a list was reported as "column 'test' is empty".
"""

from __future__ import annotations

import pytest

from rlvr.envs.code_env import CodeEnv
from rlvr.envs.errors import DatasetError
from rlvr.verifiers.code import check_function, check_io
from rlvr.verifiers.code_extract import extract_program, split_future_imports

F = "```"
FIB_PROMPT = '\n\ndef fib(n: int):\n    """Return n-th Fibonacci number.\n    >>> fib(10)\n    55\n    """\n'
FIB_TESTS = "\n\nMETADATA = {}\n\n\ndef check(candidate):\n    assert candidate(10) == 55\n    assert candidate(1) == 1\n"
FIB_BODY = "    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n"


def _fib_env(box, prompt: str = FIB_PROMPT, **options) -> CodeEnv:
    return CodeEnv([{"task_id": "HumanEval/55", "prompt": prompt, "test": FIB_TESTS, "entry_point": "fib"}],
                   sandbox=box, **options)


# -- 1. `from __future__` in a HumanEval answer ---------------------------------------------------
@pytest.mark.parametrize("opening", [
    "from __future__ import annotations\n\n\n",
    '"""Fibonacci."""\nfrom __future__ import annotations\n',
    "from __future__ import annotations; import math\n",
    "from __future__ import (annotations,\n                        generator_stop)\n",
])
def test_a_humaneval_answer_opening_with_future_imports_passes(box, opening):
    env = _fib_env(box)
    answer = f"{F}python\n{opening}def fib(n: int) -> int:\n{FIB_BODY}{F}"
    verdict = env.verify(env.source.tasks[0], answer)
    assert verdict.correct and verdict.score == 1.0, verdict.reason
    assert env.solution_of(env.source.tasks[0], answer).startswith("from __future__ import annotations")


def test_a_prompt_with_a_future_import_and_a_helper_takes_either_kind_of_answer(box):
    prompt = ('from __future__ import annotations\n\n\ndef _step(a: int, b: int) -> tuple[int, int]:\n'
              '    return b, a + b\n\n\ndef fib(n: int):\n    """Return n-th Fibonacci number."""\n')
    env = _fib_env(box, prompt)
    task = env.source.tasks[0]
    body = "    a, b = 0, 1\n    for _ in range(n):\n        a, b = _step(a, b)\n    return a\n"
    for answer in (f"{F}python\n{body}{F}", f"{F}python\nfrom __future__ import annotations\n\ndef fib(n):\n{body}{F}"):
        verdict = env.verify(task, answer)
        assert verdict.correct, (answer, verdict.reason)


def test_split_future_imports_moves_only_the_opening_imports():
    assert split_future_imports("import os\n") == ("", "import os\n")
    assert split_future_imports("x = 1\nfrom __future__ import annotations\n")[0] == ""  # not opening: left
    futures, rest = split_future_imports('"""Doc."""\nfrom __future__ import annotations  # note\nx = 1\n')
    assert futures == "from __future__ import annotations\n"
    assert rest == '"""Doc."""\n  # note\nx = 1\n'  # same line count: the answer's lines keep their numbers
    futures, rest = split_future_imports('"é"; from __future__ import annotations; import os\n')
    assert rest == '"é"; pass; import os\n'
    compile(futures + rest, "<answer>", "exec")


# -- 2. check_io reads the program as Code-v0 does -----------------------------------------------
PROGRAM = f"{F}python\nimport sys\na, b = map(int, sys.stdin.read().split())\nprint(a + b)\n{F}"
CASES = [("1 2\n", "3\n"), ("5 5\n", "10\n")]


@pytest.mark.parametrize("after", [
    f"\n\nFor the sample:\n{F}\n3\n{F}",
    f"\n\nThe key line is:\n{F}python\nprint(a + b)\n{F}",
])
def test_check_io_skips_a_block_after_the_program(box, after):
    verdict = check_io(PROGRAM + after, CASES, sandbox=box)
    assert verdict.correct, verdict.reason
    env = CodeEnv([{"question": "Add two numbers.", "inputs": [c[0] for c in CASES],
                    "outputs": [c[1] for c in CASES]}], sandbox=box)
    assert env.verify(env.source.tasks[0], PROGRAM + after).correct


def test_check_io_still_takes_a_later_program_over_an_earlier_one(box):
    wrong = f"{F}python\nimport sys\nprint(0)\nsys.stdin.read()\n{F}\n\nFixed:\n"
    assert check_io(wrong + PROGRAM, CASES, sandbox=box).correct
    assert not check_io(PROGRAM + "\n\nOr:\n" + wrong.replace("\n\nFixed:\n", ""), CASES, sandbox=box).correct


# -- 3. definitions from a block after the chosen one ---------------------------------------------
HELPER_AFTER = (f"Main function:\n{F}python\ndef fib(n):\n    return _fib_iter(n)\n{F}\nwhich uses this helper:\n"
                f"{F}python\ndef _fib_iter(n):\n{FIB_BODY}{F}")
IMPORT_AFTER = (f"{F}python\ndef fib(n):\n    return round(((1 + math.sqrt(5)) / 2) ** n / math.sqrt(5))\n{F}\n"
                f"with the import:\n{F}python\nimport math\n{F}")


@pytest.mark.parametrize("answer", [HELPER_AFTER, IMPORT_AFTER])
def test_a_helper_or_import_after_the_function_is_taken(box, answer):
    verdict = check_function(answer, FIB_TESTS, "fib", sandbox=box)
    assert verdict.correct, verdict.reason
    env = _fib_env(box)
    assert env.verify(env.source.tasks[0], answer).correct


def test_only_definitions_the_chosen_block_lacks_come_from_later_blocks():
    usage = f"\nUsage:\n{F}python\nLIMIT = 3\nprint(fib(10))\nimport os\nos.system('true')\n{F}"
    program = extract_program(HELPER_AFTER + usage, ["fib"])
    assert "def _fib_iter" in program and "def fib" in program
    assert "print(" not in program and "LIMIT" not in program and "os" not in program.split()
    assert program.index("def _fib_iter") < program.index("def fib")
    # a name the chosen block defines itself is never replaced by a later block's version
    own = f"{F}python\ndef _h(n):\n    return n\n\ndef fib(n):\n    return _h(n)\n{F}\n{F}python\ndef _h(n):\n    return 0\n{F}"
    assert "return 0" not in extract_program(own, ["fib"])
    # a name an earlier block defines is taken from it, as before, not from a later block
    both = (f"{F}python\ndef _h(n):\n    return 'early'\n{F}\n{F}python\ndef fib(n):\n    return _h(n)\n{F}\n"
            f"{F}python\ndef _h(n):\n    return 'late'\n{F}")
    program = extract_program(both, ["fib"])
    assert "'early'" in program and "'late'" not in program
    # a later block that redefines the entry point is the chosen block, not merged into an earlier one
    redefined = f"{F}python\ndef fib(n):\n    return _g(n)\n{F}\n{F}python\ndef fib(n):\n    return -1\n{F}"
    assert extract_program(redefined, ["fib"]) == "def fib(n):\n    return -1"


def test_a_stdin_program_takes_a_helper_given_after_it(box):
    answer = (f"{F}python\nimport sys\nprint(add(*map(int, sys.stdin.read().split())))\n{F}\nwhere\n"
              f"{F}python\ndef add(a, b):\n    return a + b\n\nprint(add(1, 1))\n{F}")
    assert check_io(answer, CASES, sandbox=box).correct


# -- 4. Code-v0's per-call time limit -------------------------------------------------------------
HANGS_ON_NEGATIVE = f"{F}python\ndef dbl(n):\n    if n < 0:\n        while True:\n            pass\n    return 2 * n\n{F}"


def _dbl_env(box, order, **options) -> CodeEnv:
    tests = "def check(candidate):\n" + "".join(f"    assert candidate({n}) == {2 * n}\n" for n in order)
    return CodeEnv([{"task_id": "dbl", "prompt": 'def dbl(n):\n    """Twice n."""\n', "test": tests,
                     "entry_point": "dbl"}], sandbox=box, timeout=4.0, **options)


def test_a_hanging_call_costs_its_own_test_whatever_the_order(box):
    for order in ([-1, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, -1]):
        env = _dbl_env(box, order)
        assert env.call_seconds() == 2.0  # half of timeout
        verdict = env.verify(env.source.tasks[0], HANGS_ON_NEGATIVE)
        assert verdict.score == pytest.approx(5 / 6), (order, verdict.reason)


def test_call_timeout_is_a_setting_of_the_fingerprint(box):
    env = _dbl_env(box, [1])
    first = env.fingerprint()
    assert first["verifier"]["settings"]["call_timeout"] == 2.0
    env.timeout = 8.0  # the default share follows timeout
    assert env.fingerprint()["verifier"]["settings"]["call_timeout"] == 4.0
    env.call_timeout = 3
    assert env.call_timeout == 3.0 and env.fingerprint()["verifier"]["settings"]["call_timeout"] == 3.0
    assert env.fingerprint().digest != first.digest
    assert env.function_options() == {"timeout": 8.0, "call_timeout": 3.0, "extract": False}
    for bad in (0, -1, True, "2"):
        with pytest.raises(ValueError, match="call_timeout"):
            env.call_timeout = bad
        with pytest.raises(ValueError, match="call_timeout"):
            _dbl_env(box, [1], call_timeout=bad)


# -- 5. a HumanEval `test` of the wrong type --------------------------------------------------------
def test_a_list_as_humaneval_test_is_reported_as_a_list_not_as_empty():
    row = {"task_id": "x", "prompt": 'def add(a, b):\n    """Add."""\n', "test": ["assert add(1, 2) == 3"],
           "entry_point": "add"}
    with pytest.raises(DatasetError, match=r"got list .*'test_list'") as info:
        CodeEnv([row], sandbox_backend="subprocess")
    assert "empty" not in str(info.value)
    with pytest.raises(DatasetError, match="got int"):
        CodeEnv([{**row, "test": 3}], sandbox_backend="subprocess")
    with pytest.raises(DatasetError, match="is empty"):
        CodeEnv([{**row, "test": " "}], sandbox_backend="subprocess")


def test_a_right_answer_with_one_heavy_call_passes_under_the_default_call_limit(box):
    """A call of a few seconds (APPS allows about 4 s a case) in a 10 s limit is honest work, not a
    hang: the default per-call limit is half of `timeout`."""
    prompt = 'def slow_double(n: int) -> int:\n    """Twice n, slowly for large n."""\n'
    tests = "def check(candidate):\n    assert candidate(1) == 2\n    assert candidate(10**7) == 2 * 10**7\n"
    body = ("    import time\n    t = time.monotonic()\n    if n > 10**6:\n        while time.monotonic() - t < 3.0:\n"
            "            pass\n    return 2 * n\n")
    env = CodeEnv([{"task_id": "HumanEval/slow", "prompt": prompt, "test": tests, "entry_point": "slow_double"}], sandbox=box)
    verdict = env.verify(env.source.tasks[0], f"{F}python\n{body}{F}")
    assert verdict.correct, verdict.reason
