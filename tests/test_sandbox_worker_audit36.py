"""Findings of the session-36 sandbox audit on warm Python (`sandbox/worker.py`), where a program
behaved differently from `python3 main.py`: what it left in its own file objects, finalizers and
suspended generators was lost at exit (the worker skipped Python's shutdown), a UTF-8 BOM or a
PEP 263 coding declaration broke or changed the program (it was compiled as a str), and the
worker's own frames took ~9 levels of the program's recursion limit."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest
from conftest import TEST_LIMITS, get_sandbox

from rlvr.sandbox.bwrap import default_python
from rlvr.verifiers.code import check_io


# -- 1. Python's shutdown: the program's objects are finalized --------------------------------------
HELPER = {"helper.py": "class R:\n    def __del__(self):\n        print('42')\nr = R()\n"}
_R = ("class R:\n    def __init__(self, n):\n        self.n = n\n"
      "    def __del__(self):\n        print('del', self.n)\n")
_MAIN_RAISES = ("def main():\n    print('first')\n    out = open(1, 'w'{})\n    out.write('second\\n')\n"
                "    raise ValueError('v')\n")
#: {case: (program, exit status, stdout, a piece of stderr)}, checked against python3 itself too.
SHUTDOWN_CASES = {
    "open(1, 'w')": ("out = open(1, 'w')\nout.write('42\\n')\n", 0, "42\n", ""),
    "os.fdopen of a dup": ("import os\nw = os.fdopen(os.dup(1), 'w')\nw.write('42\\n')\n", 0, "42\n", ""),
    "BufferedWriter": ("import io\nb = io.BufferedWriter(io.FileIO(1, 'w', closefd=False))\nb.write(b'42\\n')\n",
                       0, "42\n", ""),
    "__del__ of a global": (_R + "r = R(42)\n", 0, "del 42\n", ""),
    "suspended generator": ("def g():\n    try:\n        yield 1\n    finally:\n        print('42')\n"
                            "it = g()\nnext(it)\n", 0, "42\n", ""),
    "object in a helper module": ("import helper\n", 0, "42\n", ""),
    "object in builtins": ("import builtins\nbuiltins.keep = open(1, 'w')\nbuiltins.keep.write('42\\n')\n",
                           0, "42\n", ""),
    # an uncaught exception's frames live on (sys.last_traceback) until the standard streams were
    # flushed: 'second', in a file object of main()'s, comes after 'first'
    "order": (_R + "b = R('b')\n" + _MAIN_RAISES.format(", closefd=False") + "main()\n",
              1, "first\nsecond\ndel b\n", "ValueError: v"),
    # what fails to be written once fd 1 is closed (by the program's own file object) is lost silently
    "late_flush_failure_is_silent": (_R + "b = R('b')\n" + _MAIN_RAISES.format("") + "main()\n",
                                     1, "first\nsecond\n", "ValueError: v"),
    "failed_flush_is_reported": ("import os\nprint('lost')\nos.close(1)\n",
                                 120, "", "Exception ignored in: <_io.TextIOWrapper"),
    "finalizer_error_keeps_the_status": ("import sys\nclass R:\n    def __del__(self):\n"
                                         "        raise ValueError('boom')\nr = R()\nprint('x')\nsys.exit(3)\n",
                                         3, "x\n", "Exception ignored in"),
    "program_stdout_object": ("import io, sys\nclass W(io.StringIO):\n    def __del__(self):\n"
                              "        sys.__stdout__.write('W ' + self.getvalue())\nsys.stdout = W()\nprint('hi')\n",
                              0, "W hi\n", ""),
    "signal_handlers_are_dropped": ("import os, signal\nsignal.signal(signal.SIGUSR1, lambda *a: print('handled'))\n"
                                    "class R:\n    def __del__(self):\n        os.kill(os.getpid(), signal.SIGUSR1)\n"
                                    "r = R()\nprint('x')\n", -signal.SIGUSR1, "x\n", ""),
}


@pytest.mark.parametrize("case", sorted(SHUTDOWN_CASES))
def test_shutdown_cases_are_what_python3_does(case, tmp_path):
    code, status, stdout, stderr = SHUTDOWN_CASES[case]
    for name, text in {**HELPER, "main.py": code}.items():
        (tmp_path / name).write_text(text)
    proc = subprocess.run([default_python(), "main.py"], cwd=tmp_path, capture_output=True, text=True, timeout=30,
                          env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8"})
    assert (proc.returncode, proc.stdout) == (status, stdout), proc
    assert stderr in proc.stderr


@pytest.mark.parametrize("case", sorted(SHUTDOWN_CASES))
def test_programs_are_finalized_as_under_python3(sandbox, case):
    code, status, stdout, stderr = SHUTDOWN_CASES[case]
    result = sandbox.run(code, files=HELPER)
    assert (result.exit_code, result.stdout) == (status, stdout), result
    assert stderr in result.stderr, result
    assert result.status == ("ok" if status == 0 else "error"), result


def test_finalizers_are_under_the_run_limits(program_box):
    backend = "bwrap" if program_box.name == "bwrap" else "subprocess"
    quick = get_sandbox(backend, **{**TEST_LIMITS, "timeout": 1})
    looping = quick.run("class R:\n    def __del__(self):\n        while True:\n            pass\nr = R()\n")
    assert looping.status == "timeout", looping
    loud = program_box.run("class R:\n    def __del__(self):\n        print('x' * 300_000)\nr = R()\n")
    assert loud.status == "output_limit", loud


def test_check_io_scores_a_solution_writing_through_its_own_file_object(program_box):
    solution = ("import sys\nout = open(1, 'w')\nfor line in sys.stdin:\n"
                "    out.write(str(int(line) * 2) + '\\n')\n")
    verdict = check_io(solution, [("1\n2\n", "2\n4\n"), ("5\n", "10\n")], sandbox=program_box, extract=False)
    assert verdict.correct and verdict.score == 1.0, verdict


# -- 3. the source is its text, run as python3 runs a file holding it in the encoding it declares ------
def test_bom_and_coding_declaration(program_box):
    bom = program_box.run("\ufeffprint('hi')\n")
    assert (bom.status, bom.stdout) == ("ok", "hi\n"), bom
    # the program is text: a coding declaration describes no bytes (as python3 reading a file written
    # in the encoding it declares; `rlvr sandbox run` decodes a latin-1 file by its declaration)
    latin1 = program_box.run("# -*- coding: latin-1 -*-\nprint(len('é'))\n")
    assert (latin1.status, latin1.stdout) == ("ok", "1\n"), latin1


# -- 4. the program's recursion headroom is a fresh interpreter's -----------------------------------
DEEPEST = """
import sys
def rec(n):
    return 0 if n == 0 else 1 + rec(n - 1)
def deepest():
    low, high = 1, sys.getrecursionlimit() + 50
    while low < high:
        mid = (low + high + 1) // 2
        try:
            rec(mid)
            low = mid
        except RecursionError:
            high = mid - 1
    return low
print(sys.getrecursionlimit(), deepest())
sys.setrecursionlimit(3000)
print(sys.getrecursionlimit(), deepest())
"""


def test_recursion_headroom_is_that_of_python3_main_py(program_box, tmp_path):
    (tmp_path / "main.py").write_text(DEEPEST)
    fresh = subprocess.run([sys.executable, "-I", "main.py"], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert fresh.stdout.split()[0] == "1000"
    result = program_box.run(DEEPEST)
    assert (result.status, result.stdout) == ("ok", fresh.stdout), result


def test_recursion_limit_calls_keep_their_errors(program_box):
    result = program_box.run("import sys\nfor v in (0, 'a', 2 ** 31):\n    try:\n        sys.setrecursionlimit(v)\n"
                             "    except Exception as e:\n        print(type(e).__name__)\n"
                             "sys.setrecursionlimit(2 ** 31 - 1)\nprint(sys.getrecursionlimit())\n")
    assert result.stdout.split() == ["ValueError", "TypeError", "OverflowError", str(2 ** 31 - 1)], result


# -- review of the above: what still showed the worker through --------------------------------------
def _python3(code: str, tmp_path) -> subprocess.CompletedProcess:
    (tmp_path / "main.py").write_text(code)
    return subprocess.run([default_python(), "main.py"], cwd=tmp_path, capture_output=True, text=True, timeout=30,
                          env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8"})


def _same_paths(stderr: str) -> str:
    """A traceback with the program's path as `main.py` (the sandbox runs it from another folder)."""
    return re.sub(r'File "[^"]*main\.py"', 'File "main.py"', stderr)


#: Limits refused and taken at depth 53 (python3 refuses 53 and below, takes 54).
SET_LIMIT_AT_DEPTH = """import sys
def r(n, v):
    if n == 0:
        try:
            sys.setrecursionlimit(v)
            print(v, 'set')
        except RecursionError as e:
            print(v, 'RecursionError', e)
        sys.setrecursionlimit(1000)
        return
    r(n - 1, v)
for v in (30, 52, 53, 54, 55):
    r(50, v)
"""


def test_a_refused_recursion_limit_names_the_programs_numbers(program_box, tmp_path):
    fresh = _python3(SET_LIMIT_AT_DEPTH, tmp_path)
    assert "cannot set the recursion limit to 30 at the recursion depth 53" in fresh.stdout, fresh
    result = program_box.run(SET_LIMIT_AT_DEPTH)
    assert (result.status, result.stdout) == ("ok", fresh.stdout), result


#: {case: program}: what python3 shows of output left in sys.__stdout__ once sys.stdout was replaced.
ORIGINAL_STDOUT_CASES = {
    # the program's open(1, 'w') closes fd 1 when it is freed at shutdown: 'a' is never written
    "replaced by open(1, 'w')": "import sys\nsys.__stdout__.write('a\\n')\nsys.stdout = open(1, 'w')\nprint('b')\n",
    "replaced, fd kept open": ("import sys\nsys.__stdout__.write('a\\n')\n"
                               "sys.stdout = open(1, 'w', closefd=False)\nprint('b')\n"),
    "replaced by a StringIO": "import io, sys\nsys.__stdout__.write('a\\n')\nsys.stdout = io.StringIO()\nprint('b')\n",
}


@pytest.mark.parametrize("case", sorted(ORIGINAL_STDOUT_CASES))
def test_the_original_stdout_is_flushed_when_python3_flushes_it(program_box, case, tmp_path):
    code = ORIGINAL_STDOUT_CASES[case]
    fresh = _python3(code, tmp_path)
    result = program_box.run(code)
    assert (result.exit_code, result.stdout) == (fresh.returncode, fresh.stdout), (result, fresh)


#: {case: program} whose uncaught exception python3's own printer shows.
TRACEBACK_CASES = {
    # sys.tracebacklimit (1000 by default): the last entries only
    "deep, limit 5000": "import sys\nsys.setrecursionlimit(5000)\ndef f(n): return f(n + 1)\nf(0)\n",
    "tracebacklimit 3": "import sys\nsys.tracebacklimit = 3\ndef f(n): return 1 / 0 if n == 0 else f(n - 1)\nf(10)\n",
    # no frame of the recursion-limit wrapper
    "setrecursionlimit('a')": "import sys\nsys.setrecursionlimit('a')\n",
    "setrecursionlimit too low": ("import sys\ndef r(n): return sys.setrecursionlimit(10) if n == 0 else r(n - 1)\n"
                                  "r(20)\n"),
    "__index__ raises": ("import sys\nclass N:\n    def __index__(self):\n        raise KeyError('k')\n"
                         "sys.setrecursionlimit(N())\n"),
}


@pytest.mark.parametrize("case", sorted(TRACEBACK_CASES))
def test_uncaught_exceptions_are_shown_as_python3_shows_them(program_box, case, tmp_path):
    code = TRACEBACK_CASES[case]
    fresh = _python3(code, tmp_path)
    assert fresh.returncode == 1 and "Traceback" in fresh.stderr, fresh
    result = program_box.run(code)
    assert (result.exit_code, _same_paths(result.stderr)) == (1, _same_paths(fresh.stderr)), result


def test_a_traceback_200000_deep_costs_no_more_than_under_python3(program_box):
    """The traceback module formatted every frame (2.7 s here); Python prints the last 1000. The run
    takes ~0.6 s now: its 2 s limit leaves room for a loaded machine (1 s failed under load)."""
    backend = "bwrap" if program_box.name == "bwrap" else "subprocess"
    quick = get_sandbox(backend, **{**TEST_LIMITS, "timeout": 2})
    result = quick.run("import sys\nsys.setrecursionlimit(200_100)\ndef f(n): return f(n + 1)\nf(0)\n")
    assert result.status == "error", result
    assert result.stderr.endswith("  [Previous line repeated 997 more times]\n"
                                  "RecursionError: maximum recursion depth exceeded\n"), result.stderr[-300:]


# -- per-job costs moved into the worker (`ModulesSnapshot`): the end is still python3's ------------
_OWN_JSON = {"json.py": "class R:\n    def __del__(self):\n        print('bye from', NAME)\n"
                        "r = R()\nNAME = 'own json'\n"}


def test_a_program_module_shadowing_a_preloaded_one_is_used_and_finalized(program_box, tmp_path):
    """The worker preloads json; a program's own json.py is what it imports (the worker's module is
    dropped, found through the worker's index of its modules), and it is taken apart at the end as
    python3 does, one job after another on the same worker (each uses the worker's snapshot)."""
    code = "import json\nprint(json.NAME)\n"
    for name, text in {**_OWN_JSON, "main.py": code}.items():
        (tmp_path / name).write_text(text)
    proc = subprocess.run([default_python(), "main.py"], cwd=tmp_path, capture_output=True, text=True, timeout=30,
                          env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8"})
    assert (proc.returncode, proc.stdout) == (0, "own json\nbye from own json\n"), proc
    for _ in range(3):
        result = program_box.run(code, files=_OWN_JSON)
        assert (result.status, result.stdout) == ("ok", proc.stdout), result
        plain = program_box.run("import json\nprint(json.dumps([1]))\n")  # the worker's json again
        assert (plain.status, plain.stdout) == ("ok", "[1]\n"), plain


@pytest.mark.parametrize("declaration", ["# coding: foobar", "\ufeff# coding: latin-1", "# vim: set fileencoding=ascii :"])
def test_a_coding_line_python3_refuses_is_refused(program_box, declaration):
    # the program is compiled as python3 compiles a file holding it: a declaration of an unknown
    # codec, a BOM beside another encoding's, or one the text cannot be written in is an error
    result = program_box.run(f"{declaration}\nprint('caf\u00e9')\n")
    assert (result.status, result.stdout) == ("error", ""), result
    assert "SyntaxError" in result.stderr, result.stderr
