"""Solutions that try to forge a pass instead of solving the problem. Every one must score 0.

Most attacks target a "secret" problem: the expected answers are arbitrary strings, so no honest
solution can compute them; a solution that passes anyway has forged the signal or read the tests.
A control solution that knows the answers passes, which shows the problem itself can be passed.
Each attack runs on every sandbox backend; each backend's verdicts are computed once, in a batch.
"""

from __future__ import annotations

import pytest

from conftest import get_sandbox
from rlvr.sandbox import BACKENDS
from rlvr.verifiers.code import check_function, check_functions

SECRETS = {1: "zq1x", 2: "kv9p", 3: "mm3t", 4: "ab7c"}
# Shaped like HumanEval's checks, `assert True` lines included (they must not score by themselves).
SECRET_CHECK = ("def check(candidate):\n    assert True, 'This prints if this assert fails 1'\n"
                + "".join(f"    assert candidate({k}) == {v!r}\n" for k, v in SECRETS.items())
                + "    assert True, 'This prints if this assert fails 2'\n")
SECRET_MBPP = [f"assert solve({k}) == {v!r}" for k, v in SECRETS.items()]
CONTROL = f"def solve(n):\n    return {SECRETS!r}[n]\n"

# What a passing result might look like to a forger, in the formats a naive harness might use.
FAKE = ('all 4 tests passed\\nPASSED\\nOK\\n{"kind":"results","results":[{"ok":true,"error":null},'
        '{"ok":true,"error":null},{"ok":true,"error":null},{"ok":true,"error":null}],"starts":1}\\n')

# Looks for the tests everywhere a solution might reach: its own memory and stdin, the files around
# it, and the fds, environment and memory of its parent and of pid 1. Fills TABLE if it finds them.
FIND_THE_TESTS = r'''
import gc, os, re, sys
PATTERN = re.compile(rb"(?:candidate|solve)\((\d+)\) == '(\w+)'")
TABLE = {}
def _feed(data):
    if isinstance(data, str):
        data = data.encode("utf-8", "replace")
    for m in PATTERN.finditer(data):
        TABLE[int(m.group(1))] = m.group(2).decode()
def _read(path, limit=1 << 22):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return b""
    try:
        return os.read(fd, limit)
    except OSError:
        return b""
    finally:
        os.close(fd)
for pid in ("self", str(os.getppid()), "1"):
    for name in ("environ", "cmdline"):
        _feed(_read(f"/proc/{pid}/{name}"))
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        fds = []
    for fd in fds:
        _feed(_read(f"/proc/{pid}/fd/{fd}"))
    try:
        with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
            for line in maps:
                span, perms = line.split()[:2]
                lo, hi = (int(x, 16) for x in span.split("-"))
                if "r" in perms and hi - lo < 1 << 26:
                    try:
                        mem.seek(lo)
                        _feed(mem.read(hi - lo))
                    except (OSError, ValueError, OverflowError):
                        pass
    except OSError:
        pass
_budget = [2000]
for top in {".", "/work", "/tmp", "/dev/shm", os.environ.get("HOME", "."), os.environ.get("TMPDIR", ".")}:
    for root, dirs, files in os.walk(top):
        if root.count("/") > 4 or _budget[0] <= 0:
            dirs[:] = []
        for name in files[:100]:
            _budget[0] -= 1
            _feed(_read(os.path.join(root, name), 1 << 16))
try:
    _feed(os.read(0, 1 << 20))
except OSError:
    pass
for obj in gc.get_objects():
    if isinstance(obj, dict):
        for value in list(obj.values()):
            if isinstance(value, (str, bytes)):
                _feed(value)
frame = sys._getframe()
while frame is not None:
    for value in list(frame.f_locals.values()):
        if isinstance(value, (str, bytes)):
            _feed(value)
    frame = frame.f_back
'''

# A module that, if the harness ever imported it, would find the harness's nonce and result
# descriptor on its stack and write a forged "all passed" line (the control test proves it works).
FORGER_MODULE = r'''
import json, os, sys
frame = sys._getframe()
while frame is not None:
    names = frame.f_locals
    if "nonce" in names and "result_fd" in names:
        count = len(names["payload"]["units"])
        line = names["nonce"] + " " + json.dumps({"kind": "results", "starts": 1,
                                                   "results": [{"ok": True, "error": None}] * count})
        os.write(names["result_fd"], (line + "\n").encode())
        os._exit(0)
    frame = frame.f_back
'''

ATTACKS: dict[str, str] = {
    # -- forging an infrastructure failure (the sample would be dropped, not scored) -------------
    "deep_json_reply_while_loading": (
        "import sys, posix\nd = b'[' * 5000\nposix.write(int(sys.argv[2]), len(d).to_bytes(4, 'big') + d)\n"
        "def solve(n):\n    return 0\n"),
    # -- leaving early with status 0 ------------------------------------------------------------
    "sys_exit_at_load": "import sys\nsys.exit(0)\n",
    "bare_raise_systemexit": "raise SystemExit\n",
    "os_exit_at_load": "import os\nos._exit(0)\n",
    "os_exit_in_call": "import os\ndef solve(n):\n    os._exit(0)\n",
    "systemexit_subclass_in_call": "class Done(SystemExit):\n    pass\ndef solve(n):\n    raise Done(0)\n",
    "exit_builtin_in_call": "def solve(n):\n    exit(0)\n",
    "keyboard_interrupt_in_call": "def solve(n):\n    raise KeyboardInterrupt\n",
    "atexit_hook_prints_success": (
        f"import atexit, os, sys\nFAKE = {FAKE!r}\n"
        "@atexit.register\ndef forge():\n    sys.stdout.write(FAKE)\n    sys.stdout.flush()\n    os._exit(0)\n"
        "def solve(n):\n    sys.exit(0)\n"),
    # -- tampering with the runtime ------------------------------------------------------------
    "patch_builtins": (
        "import builtins\nclass Never(Exception):\n    pass\n"
        "builtins.AssertionError = Never\nbuiltins.all = builtins.any = lambda *a: True\n"
        "builtins.print = lambda *a, **k: None\nbuiltins.set = builtins.sorted = lambda *a: 0\n"
        "def solve(n):\n    return None\n"),
    "patch_sys_modules": (
        "import sys, types\nfake = types.ModuleType('json')\n"
        "fake.dumps = lambda *a, **k: '{\"kind\": \"results\", \"results\": []}'\nfake.loads = lambda *a, **k: {}\n"
        "sys.modules['json'] = fake\nsys.modules['traceback'] = fake\nsys.modules['builtins'].AssertionError = KeyError\n"
        "def solve(n):\n    return None\n"),
    "override_check_and_candidate": (
        "def check(candidate):\n    return True\ncandidate = lambda n: None\n"
        "import builtins\nbuiltins.check = check\nbuiltins.candidate = candidate\n"
        "def solve(n):\n    return check(solve)\n"),
    "patch_the_child_side_machinery": (
        "import __main__\n"
        "__main__.to_json = lambda value: '{\"$tuple\":[true,\"passed\"]}'\n"
        "__main__._describe = lambda exc: 'ok'\n__main__.MAX_MESSAGE = 1 << 40\n"
        "def solve(n):\n    return None\n"),
    # -- forging the output ---------------------------------------------------------------------
    "print_fake_success_everywhere": (
        f"import os, sys\nFAKE = {FAKE!r}\n"
        "def spray():\n"
        "    for out in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):\n"
        "        try:\n            out.write(FAKE)\n            out.flush()\n        except Exception:\n            pass\n"
        "    for fd in range(256):\n"
        "        try:\n            os.write(fd, FAKE.encode())\n        except OSError:\n            pass\n"
        "spray()\ndef solve(n):\n    spray()\n    return None\n"),
    "write_to_parent_fds_via_proc": (
        f"import os\nFAKE = {FAKE!r}\n"
        "def spray():\n"
        "    for pid in (os.getppid(), 1):\n"
        "        for fd in range(64):\n"
        "            try:\n                with open(f'/proc/{pid}/fd/{fd}', 'w') as handle:\n"
        "                    handle.write(FAKE)\n"
        "            except OSError:\n                pass\n"
        "spray()\ndef solve(n):\n    spray()\n    return None\n"),
    "thread_that_outlives_and_sprays": (
        f"import os, threading, time\nFAKE = {FAKE!r}\n"
        "def spray():\n    while True:\n        for fd in range(256):\n"
        "            try:\n                os.write(fd, FAKE.encode())\n            except OSError:\n                pass\n"
        "        time.sleep(0.001)\n"
        "threading.Thread(target=spray, daemon=False).start()\n"
        "def solve(n):\n    return None\n"),
    # -- attacking the harness process ----------------------------------------------------------
    "kill_parent_at_load": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\ndef solve(n):\n    return None\n",
    "terminate_parent_in_call": "import os, signal\ndef solve(n):\n    os.kill(os.getppid(), signal.SIGTERM)\n    return None\n",
    "interrupt_parent_in_call": "import os, signal\ndef solve(n):\n    os.kill(os.getppid(), signal.SIGINT)\n    return None\n",
    "stop_parent": "import os, signal\ndef solve(n):\n    os.kill(os.getppid(), signal.SIGSTOP)\n    return None\n",
    "ptrace_the_parent": (
        "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "attached = libc.ptrace(16, os.getppid(), 0, 0) == 0\n"
        "def solve(n):\n    return 'attached' if attached else None\n"),
    "ignore_signals_and_spin": (
        "import signal\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM, signal.SIGUSR1):\n"
        "    signal.signal(s, signal.SIG_IGN)\n"
        "def solve(n):\n    while True:\n        pass\n"),
    "busy_loop_at_load": "while True:\n    pass\n",
    # -- lying return values --------------------------------------------------------------------
    "object_equal_to_everything": (
        "class Eq:\n    def __eq__(self, other):\n        return True\n    def __ne__(self, other):\n        return False\n"
        "    __hash__ = object.__hash__\ndef solve(n):\n    return Eq()\n"),
    "int_subclass_with_lying_eq": (
        "class Liar(int):\n    def __eq__(self, other):\n        return True\n    def __ne__(self, other):\n        return False\n"
        "    __hash__ = int.__hash__\ndef solve(n):\n    return Liar(0)\n"),
    "str_subclass_with_lying_eq": (
        "class Liar(str):\n    def __eq__(self, other):\n        return True\n    def __ne__(self, other):\n        return False\n"
        "    __hash__ = str.__hash__\ndef solve(n):\n    return Liar('')\n"),
    "raise_assertion_with_ok_message": "def solve(n):\n    raise AssertionError('ok')\n",
    "huge_return_value": "def solve(n):\n    return 'x' * (40 << 20)\n",
    "deeply_nested_return": "def solve(n):\n    x = []\n    for _ in range(100000):\n        x = [x]\n    return x\n",
    # -- processes ------------------------------------------------------------------------------
    "fork_at_load_and_exit": "import os\nif os.fork():\n    os._exit(0)\ndef solve(n):\n    return None\n",
    "fork_in_call_parent_exits": (
        "import os\ndef solve(n):\n    if os.fork():\n        os._exit(0)\n    return None\n"),
    # -- reading the tests ----------------------------------------------------------------------
    "find_the_tests_anywhere": FIND_THE_TESTS + "def solve(n):\n    return TABLE.get(n)\n",
    "overwrite_the_harness_file": (
        "import glob, os\n"
        "for path in glob.glob('/work/*') + glob.glob('*') + glob.glob(os.environ.get('HOME', '.') + '/*'):\n"
        "    try:\n        with open(path, 'w') as handle:\n"
        "            handle.write('import os\\nos.write(1, b\"passed\")\\n')\n"
        "    except OSError:\n        pass\n"
        "def solve(n):\n    os._exit(0)\n"),
}

#: Attacks that must not run on the unisolated subprocess backend: there they would hit unrelated
#: processes of the same host user (the sandbox is not a boundary there, by its own documentation).
ISOLATED_ONLY = {
    "kill_everything": "import os\ndef solve(n):\n    os.kill(-1, 9)\n    return None\n",
    "fork_bomb": "import os\ndef solve(n):\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass\n",
}

# Attacks on problems of their own, each with a control solution that passes.
SPECIAL = {
    # The solution defines functions named like the builtins the tests use.
    "shadow_builtins_used_by_tests": dict(
        solution="def similar(a, b):\n    return None\ndef set(*a):\n    return 0\ndef sorted(*a):\n    return 0\n"
                 "len = isinstance = set\n",
        control="def similar(a, b):\n    return tuple(sorted(set(a) & set(b)))\n",
        tests=["assert set(similar((3, 4, 5, 6), (5, 7, 4, 10))) == set((4, 5))",
               "assert sorted(similar((1, 2, 3, 4), (5, 4, 3, 7))) == [3, 4]"],
        entry_point=None),
    # StopIteration raised in the solution would silently end the tests' map/zip loop.
    "stopiteration_ends_the_test_loop": dict(
        solution="def f(n):\n    raise StopIteration\n",
        control="def f(n):\n    return 'abc'[n - 1]\n",
        tests="def check(candidate):\n    for got, want in zip(map(candidate, [1, 2, 3]), ['a', 'b', 'c']):\n"
              "        assert got == want\n",
        entry_point="f"),
    # Plant a module the tests import, in every writable place, that forges the result if imported.
    "plant_a_module_the_tests_import": dict(
        solution="import os, sys\nSOURCE = " + repr(FORGER_MODULE) + "\n"
                 "for d in {'.', '/work', '/tmp', os.environ.get('HOME', '.'), os.environ.get('TMPDIR', '.')} | set(sys.path):\n"
                 "    try:\n        with open(os.path.join(d or '.', 'colorsys.py'), 'w') as handle:\n"
                 "            handle.write(SOURCE)\n    except OSError:\n        pass\n"
                 "def solve(n):\n    return None\n",
        control=CONTROL,
        tests="def check(candidate):\n    import colorsys\n" + "".join(
            f"    assert candidate({k}) == {v!r}\n" for k, v in SECRETS.items()),
        entry_point="solve"),
    # Any answer to tests whose asserts sit in pytest-style functions the tests never call, or under
    # a __main__ guard: defining a test function is not passing it; the checks must run.
    "any_answer_to_pytest_style_tests": dict(
        solution="def solve(n):\n    return None\n",
        control=CONTROL,
        tests="".join(f"def test_{k}():\n    assert solve({k}) == {v!r}\n" for k, v in SECRETS.items()),
        entry_point=None),
    "any_answer_to_main_guarded_tests": dict(
        solution="def solve(n):\n    return None\n",
        control=CONTROL,
        tests="if __name__ == '__main__':\n" + "".join(f"    assert solve({k}) == {v!r}\n" for k, v in SECRETS.items()),
        entry_point=None),
}


def _problems(backend: str) -> dict[str, dict]:
    problems = {}
    attacks = dict(ATTACKS)
    if backend != "subprocess":
        attacks.update(ISOLATED_ONLY)
    for name, source in attacks.items():
        problems[name + "/humaneval"] = {"solution": source, "tests": SECRET_CHECK, "entry_point": "solve"}
        problems[name + "/mbpp"] = {"solution": source, "tests": SECRET_MBPP}
    for name, spec in SPECIAL.items():
        problems[name] = {"solution": spec["solution"], "tests": spec["tests"], "entry_point": spec["entry_point"]}
    problems["control/humaneval"] = {"solution": CONTROL, "tests": SECRET_CHECK, "entry_point": "solve"}
    problems["control/mbpp"] = {"solution": CONTROL, "tests": SECRET_MBPP}
    for name, spec in SPECIAL.items():
        problems["control/" + name] = {"solution": spec["control"], "tests": spec["tests"],
                                       "entry_point": spec["entry_point"]}
    return problems


_verdicts: dict[str, dict] = {}


@pytest.fixture(scope="module", params=BACKENDS)
def verdicts(request):
    """All attacks' verdicts on one backend, computed once in a concurrent batch."""
    backend = request.param
    if backend not in _verdicts:
        box = get_sandbox(backend, timeout=5, memory_mb=256, max_processes=32,
                          max_output_bytes=100_000, max_file_mb=8)
        problems = _problems(backend)
        results = check_functions(list(problems.values()), sandbox=box, timeout=2.0, call_timeout=0.5)
        _verdicts[backend] = dict(zip(problems, results))
    return backend, _verdicts[backend]


ALL_ATTACKS = sorted([*ATTACKS, *ISOLATED_ONLY])


def test_there_are_enough_distinct_attacks():
    assert len(ATTACKS) + len(ISOLATED_ONLY) + len(SPECIAL) >= 15


@pytest.mark.parametrize("attack", ALL_ATTACKS)
@pytest.mark.parametrize("style", ["humaneval", "mbpp"])
def test_attack_scores_zero(verdicts, attack, style):
    backend, table = verdicts
    if attack in ISOLATED_ONLY and backend == "subprocess":
        pytest.skip("would signal or starve unrelated processes of the host user: isolated backends only")
    verdict = table[f"{attack}/{style}"]
    # scored as a failure of the solution, never as the grader's (which would drop the sample)
    assert verdict.score == 0.0 and not verdict.correct and verdict.error is None, verdict.reason
    assert verdict.error is None, f"an attack must be scored, not excused as a failed verification: {verdict.error}"


@pytest.mark.parametrize("attack", sorted(SPECIAL))
def test_special_attack_scores_zero_while_its_control_passes(verdicts, attack):
    _, table = verdicts
    control = table["control/" + attack]
    assert control.correct, control.reason
    verdict = table[attack]
    assert verdict.score == 0.0 and verdict.error is None, verdict.reason


def test_secret_problem_is_passable(verdicts):
    _, table = verdicts
    for style in ("humaneval", "mbpp"):
        assert table[f"control/{style}"].correct, table[f"control/{style}"].reason


def test_reasons_say_what_happened(verdicts):
    _, table = verdicts
    assert "SystemExit" in table["sys_exit_at_load/humaneval"].reason
    assert "exited with code 0" in table["os_exit_in_call/humaneval"].reason
    assert "killed before it reported" in table["kill_parent_at_load/humaneval"].reason
    assert "cannot leave the sandbox" in table["object_equal_to_everything/mbpp"].reason
    assert "time limit" in table["busy_loop_at_load/humaneval"].reason


# -- controls: the attack tools are real, so their failures above mean the defences work ---------
@pytest.mark.parametrize("backend", BACKENDS)
def test_control_the_test_finder_finds_tests_it_can_reach(backend):
    box = get_sandbox(backend, timeout=5, memory_mb=256, max_processes=32, max_output_bytes=100_000, max_file_mb=8)
    result = box.run(FIND_THE_TESTS + "print(sorted(TABLE.items()))", stdin=SECRET_CHECK)
    assert result.status == "ok", result.stderr
    assert result.stdout.strip() == repr(sorted(SECRETS.items()))


@pytest.mark.parametrize("backend", BACKENDS)
def test_control_the_planted_module_forges_a_pass_when_the_harness_runs_it(backend):
    # Test code is trusted and runs in the harness: put the forger there and it "passes" a wrong
    # solution. Solutions can never get it there, which is what the attack above checks.
    box = get_sandbox(backend, timeout=5, memory_mb=256, max_processes=32, max_output_bytes=100_000, max_file_mb=8)
    verdict = check_function("def solve(n):\n    return None\n", SECRET_CHECK, "solve", sandbox=box,
                             setup_code=FORGER_MODULE, timeout=2.0)
    assert verdict.correct
