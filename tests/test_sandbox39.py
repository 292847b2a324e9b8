"""Finding of the session-39 sandbox red team on warm Python (`sandbox/worker.py`): a program's own
module file that replaces a standard-library module was ignored by the modules the warm worker had
preloaded (`random` kept the stdlib `bisect`, `dataclasses` the stdlib `functools`), so a program
that fails under python3 passed in the sandbox. Every case is compared with `python3 -B -E -s
main.py` run by the same sandbox's interpreter, in the same sandbox (its start-up modules differ
from one interpreter to another: the host's may have `random` loaded before any program runs)."""

from __future__ import annotations

import base64
import importlib.machinery
import json
import os

import pytest

from rlvr.sandbox import worker as worker_module

#: {case: (the program's files, its code, what python3 must print in a sandbox where the module is
#: not loaded at start-up, or None where nothing is asserted beyond matching python3)}
CASES = {
    # a preloaded module (random) imports the program's bisect.py, which lacks what it needs
    "bisect_under_random": ({"bisect.py": "print('USER BISECT')\nfrom _bisect import *\n"},
                            "import random\nprint(random.randint(1, 1))\n", "USER BISECT\n"),
    "functools_under_dataclasses": ({"functools.py": "print('USER FUNCTOOLS')\nfrom _functools import *\n"},
                                    "import dataclasses\nprint('ok')\n", "USER FUNCTOOLS\n"),
    # one that works: collections' Counter.most_common uses the program's heapq
    "heapq_under_collections": ({"heapq.py": "from _heapq import *\ndef nlargest(n, it, key=None):\n"
                                             "    return ['USER']\n"},
                                "import collections\nprint(collections.Counter('aab').most_common(1))\n",
                                "['USER']\n"),
    # a name no module provides, tried by a preloaded module (copy), given as a namespace package
    "optional_import_of_copy": ({"org/python/core.py": "class PyStringMap(dict):\n"
                                                       "    def copy(self):\n        return 'USER COPY'\n"},
                                "import copy\nfrom org.python.core import PyStringMap\n"
                                "print(copy.copy(PyStringMap()))\n", "USER COPY\n"),
    # os is loaded at start-up: python3 never imports the program's os.py
    "startup_module_is_kept": ({"os.py": "print('USER OS')\n"}, "import os, random\nprint(os.sep, random.randint(1, 1))\n",
                               None),
    # __future__ is not loaded at start-up (only the worker's own `from __future__` loaded it):
    # python3 runs the program's __future__.py for its `from __future__ import annotations`
    "future_is_not_a_startup_module": ({"__future__.py": "print('USER FUTURE')\nannotations = None\n"},
                                       "from __future__ import annotations\nprint('ok')\n", "USER FUTURE\n"),
    # a file that shadows nothing: the preloaded modules serve it
    "plain_helper": ({"helper.py": "X = 7\n"}, "import helper, random, json\nprint(helper.X, json.dumps([1]))\n",
                     "7 [1]\n"),
}

#: Run by the sandbox: the case as `python3 -B -E -s main.py` in a fresh dir, by the same interpreter.
REFERENCE = r'''
import json, os, subprocess, sys
os.makedirs("ref")
for name, text in FILES.items():
    os.makedirs(os.path.dirname(os.path.join("ref", name)), exist_ok=True)
    with open(os.path.join("ref", name), "wb" if isinstance(text, bytes) else "w") as f:
        f.write(text)
with open("ref/main.py", "w") as f:
    f.write(CODE)
proc = subprocess.run([sys.executable, "-B", "-E", "-s", "main.py"], cwd="ref", capture_output=True, text=True)
loaded = subprocess.run([sys.executable, "-B", "-E", "-s", "-c", "import json, sys; print(json.dumps(sorted(sys.modules)))"],
                        cwd="/", capture_output=True, text=True).stdout
print(json.dumps([proc.returncode, proc.stdout, proc.stderr, loaded]))
'''


def _python3(sandbox, files: dict, code: str) -> tuple[int, str, str, set]:
    """What python3 does with the case in `sandbox`: (exit status, stdout, stderr, start-up modules)."""
    result = sandbox.run(f"FILES = {files!r}\nCODE = {code!r}\n" + REFERENCE, timeout=20)
    assert result.status == "ok", result
    status, stdout, stderr, loaded = json.loads(result.stdout)
    stderr = stderr.replace("/ref/", "/")  # (the program's path, as the sandbox runs it)
    return status, stdout, stderr, set(json.loads(loaded))


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_program_module_replaces_the_standard_one_as_under_python3(sandbox, case):
    _assert_as_python3(sandbox, *CASES[case])


#: Run by the sandbox: base64 of SOURCE compiled to a sourceless .pyc by the sandbox's interpreter.
COMPILE_PYC = r'''
import base64, py_compile
with open("src.py", "w") as f:
    f.write(SOURCE)
print(base64.b64encode(open(py_compile.compile("src.py", cfile="src.pyc", dfile="__init__.py"), "rb").read()).decode())
'''


def test_a_package_whose_init_is_a_pyc_replaces_the_standard_one(sandbox):
    # bisect/__init__.pyc (no __init__.py) is a package python3 imports in place of the stdlib bisect
    source = "print('USER BISECT PKG PYC')\nfrom _bisect import *\n"
    compiled = sandbox.run(f"SOURCE = {source!r}\n" + COMPILE_PYC)
    assert compiled.status == "ok", compiled
    files = {"bisect/__init__.pyc": base64.b64decode(compiled.stdout)}
    _assert_as_python3(sandbox, files, "import random\nprint(random.randint(1, 1))\n", "USER BISECT PKG PYC\n")


def test_a_package_whose_init_is_any_module_kind_is_seen(tmp_path):
    # python3's path finder takes a dir as a package for an __init__ of any suffix it imports
    for suffix in importlib.machinery.all_suffixes():
        package = tmp_path / ("pkg" + suffix.replace(".", "_").replace("-", "_"))
        package.mkdir()
        (package / ("__init__" + suffix)).write_bytes(b"")
    (tmp_path / "not_a_package").mkdir()
    (tmp_path / "not_a_package" / "__init__.txt").write_bytes(b"")
    names = worker_module._module_names(os.fspath(tmp_path))
    assert names == {"pkg" + suffix.replace(".", "_").replace("-", "_") for suffix in importlib.machinery.all_suffixes()}


def _assert_as_python3(sandbox, files: dict, code: str, shown: str | None) -> None:
    """The case run twice by the sandbox's warm worker does what `python3 -B -E -s main.py` does;
    python3 itself printed `shown` where the shadowed module is not loaded at start-up; and the
    worker's own modules serve the next plain job."""
    status, stdout, stderr, startup = _python3(sandbox, files, code)
    for _ in range(2):  # (the same worker, twice: each job gets the worker's modules anew)
        result = sandbox.run(code, files=files)
        assert (result.exit_code, result.stdout) == (status, stdout), (result, stderr)
        assert stderr.strip().splitlines()[-1:] == result.stderr.strip().splitlines()[-1:], (result, stderr)
    top = next(iter(files)).partition("/")[0].partition(".")[0]
    if shown is not None and top not in startup:  # (python3 itself shows the case: the test cannot pass vacuously)
        assert stdout.startswith(shown) or shown in stdout, (files, stdout)
    plain = sandbox.run("import random, dataclasses, collections, copy\n"
                        "print(random.randint(1, 1), collections.Counter('aab').most_common(1), copy.copy([2]))\n")
    assert (plain.status, plain.stdout) == ("ok", "1 [('a', 2)] [2]\n"), plain  # (the worker's own modules again)


def test_a_startup_module_is_not_replaced(sandbox):
    # python3 has os loaded before the program's dir is on sys.path: the program's os.py never runs
    status, stdout, _, startup = _python3(sandbox, {"os.py": "print('USER OS')\n"}, "import os\nprint(os.sep)\n")
    assert "os" in startup and (status, stdout) == (0, "/\n")
    result = sandbox.run("import os\nprint(os.sep)\n", files={"os.py": "print('USER OS')\n"})
    assert (result.status, result.stdout) == ("ok", "/\n"), result


def test_the_program_is_finalized_with_the_modules_it_imported_anew(sandbox):
    # the shadowing file makes the program import random (and what it needs) anew: its atexit
    # handlers and the finalizers of what it holds still run at its end, as under python3
    files = {"bisect.py": "from _bisect import *\nbisect = bisect_right\n"}
    code = ("import atexit, random\nclass R:\n    def __del__(self):\n        print('del')\n"
            "r = R()\natexit.register(print, 'bye')\nprint(random.randint(1, 1))\n")
    status, stdout, _, _ = _python3(sandbox, files, code)
    assert (status, stdout) == (0, "1\nbye\ndel\n")
    result = sandbox.run(code, files=files)
    assert (result.status, result.stdout) == ("ok", stdout), result
