"""Unit-test rewards for code that cannot be gamed: `check_function` and `check_io`.

    from rlvr.verifiers.code import check_function, check_io
    check_function(model_text, "def check(candidate):\\n    assert candidate(2) == 4", "square")
    check_function(model_text, ["assert square(2) == 4", "assert square(3) == 9"])   # MBPP
    check_io(model_text, [("1 2\\n", "3\\n"), ("5 5\\n", "10\\n")])                 # stdin/stdout

score is the fraction of tests passed, correct means all passed, and reason names the first failing
test and its error. Everything runs in `rlvr.sandbox` (a shared `make_sandbox("auto")` unless one is
given). A sandbox failure gives `Verdict.failed` (error set): never a silent zero.

Why a solution cannot fake a pass (see `code_harness` for the details): for `check_function` the
tests run in a trusted harness process that never executes solution code; the solution runs in a
separate, freshly exec'd process and only plain data crosses between them; the result is read from
the harness's stdout, which the solution cannot reach, behind a nonce it never sees. Exiting early,
patching builtins or `check`, printing "passed", killing the harness: each leaves no result or a
failed test, and both score 0. For `check_io` the host compares the program's output itself.
"""

from __future__ import annotations

import ast
import atexit
import itertools
import json
import marshal
import math
import re
import secrets
import threading
from dataclasses import dataclass
from importlib.util import MAGIC_NUMBER
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from rlvr.sandbox import ExecResult, Limits, Sandbox, make_sandbox
from rlvr.sandbox.limits import language_command
from rlvr.verifiers.code_extract import extract_code, extract_code_text, extract_program
from rlvr.verifiers.code_harness import report_bytes
from rlvr.verifiers.code_plan import Program, TestPlan, plan_tests, solution_functions
from rlvr.verifiers.verdict import Verdict

__all__ = ["check_function", "check_functions", "check_io", "extract_code", "compare_output",
           "default_sandbox"]

HARNESS_SOURCE = (Path(__file__).with_name("code_harness.py")).read_text(encoding="utf-8")
CHILD_SOURCE = (Path(__file__).with_name("code_child.py")).read_text(encoding="utf-8")
#: The sandbox program: runs the harness from the code object compiled here when the sandbox's
#: interpreter has the same bytecode magic (saves compiling ~700 lines per verdict), else from source.
HARNESS_LOADER = """\
import marshal
from _frozen_importlib_external import MAGIC_NUMBER
with open("rlvr_harness.bin", "rb") as handle:
    data = handle.read()
if data[:len(MAGIC_NUMBER)] == MAGIC_NUMBER:
    code = marshal.loads(data[len(MAGIC_NUMBER):])
else:
    with open("rlvr_harness.py", encoding="utf-8") as handle:
        code = compile(handle.read(), "rlvr_harness.py", "exec")
del data, handle
exec(code, {"__name__": "__main__", "__builtins__": __builtins__})
"""
# Compiled with `dont_inherit=True`: without it they would take this module's own `from __future__`
# flags (postponed annotations), and the child passes its flags on to the solution's code.
HARNESS_FILES = {
    "rlvr_harness.py": HARNESS_SOURCE,
    "rlvr_harness.bin": MAGIC_NUMBER + marshal.dumps(compile(HARNESS_SOURCE, "rlvr_harness.py", "exec",
                                                             dont_inherit=True)),
    "rlvr_child.bin": MAGIC_NUMBER + marshal.dumps(compile(CHILD_SOURCE, "rlvr_child.py", "exec", dont_inherit=True)),
}
#: Version of how answers are extracted and outputs compared, in the fingerprint of every env that
#: scores code: bumped with any change that can turn a verdict (2: indented and CRLF fences read,
#: float_tolerance only for decimals, a HumanEval prompt's helpers trusted; 3: answers compiled as
#: `python3` compiles them (no postponed annotations) and run as a real module ("solution", or
#: "__main__" for programs), typing names ready for call-based answers, a HumanEval prompt's bare
#: signature dropped before a whole-function answer, MBPP test-side helpers never the entry point;
#: 4: with the decorators right above it; an answer holding no code, `pass` or prose alone, is not
#: run but scored "no_code"; a lone closing fence closes the code before it; 5: a function-completion
#: answer runs in an empty writable directory of its own, not a read-only "/", and a test that passes
#: the solution something other than plain data is a dataset error, not a failed test; 6: tests that
#: can fail only by an error (no assert, raise or assert...() call) are a dataset error, not a pass for
#: every answer that runs); 7: the test harness's report is bounded and the run's output cap holds
#: it, so a right answer to many tests, or long errors of the solution, is no longer cut off and
#: scored 0; a wrapper the tests pass to `check(...)` is `candidate`, never a solution's function of
#: its name, and a checker the tests neither define nor import, asserted on the solution's result,
#: is a dataset error, not the solution's to define; 8: an exception of the solution reaches the tests
#: as the nearest builtin class in its MRO with its args (a JSONDecodeError is a ValueError), a
#: `check` with other parameters is checked once for each top-level statement that runs it, with
#: that call's arguments (else its defaults; the calls and what follows them as one unit, in
#: order, when other statements come between or the check may return early), and one that needs an argument a call does not give is
#: a dataset error; a `check_io` program's stderr past the output cap is cut and the run goes on
#: (it was stopped), since only stdout is judged; a bare call of the solution followed by a check of another
#: kind is that check's setup, not a unit of its own; the task's own exception class (defined by
#: the tests or the prompt) reaches the tests as itself; a test argument too large to send is a
#: dataset error; the arguments a call changes in place are written back into the tests' objects;
#: `check_function` takes the last block that defines the entry point, not a usage example after it;
#: MBPP's entry point is the call a comparison helper wraps (`isclose(area(2), ...)`: area); 9: the
#: tests' leading imports are setup, run before the solution is loaded, and one that fails is a
#: setup error, as is a unit's own top-level import failing before it calls the solution (a dataset
#: error), not a failed test; a helper the answer defines in an earlier block than the function that
#: uses it is put before it; the harness's report is read line by line at "\n" only, so U+2028 in a
#: solution's error no longer loses it; 10: a test argument too large to send, or no plain data, is
#: a dataset error only when the answer cannot have made it: no call of the solution was made in the
#: run yet, or the test read nothing an earlier call returned: names resolved by scope, values bound
#: before the first call that cannot change count as the tests', module attributes, builtins, frames
#: and the garbage collector's objects checked too; else it is the answer's failed test); 11: an
#: exception outside Exception (sys.exit(), exit(), KeyboardInterrupt) stays outside it, so a test's
#: `except Exception` no longer catches a wrong answer exiting on bad input; Counter, OrderedDict,
#: defaultdict and namedtuple come back as themselves; the tests' own time between calls is not
#: charged to the answer; a HumanEval answer's `__future__` imports go first; definitions the chosen
#: block lacks come from later blocks too; check_io picks its program as Code-v0 does; 12: a fence
#: tag with a file name, option or version (```python:add.py, ```python3.11) counts as its language
#: (not ```python2), a stdin/stdout program is not taken from a later test driver that feeds input
#: of its own to a function of another block (`sys.stdin = io.StringIO(...)` then `main()`), and
#: its `main()` call given in a block of its own is kept when the program only defines; 13: the time
#: spent passing values to and from the solution is not charged to the answer (and lists of floats
#: travel as binary doubles: raw bytes in a request, base64 in a reply; a deque, iterator or dict
#: view of floats item by item), an argument nested too deeply is the dataset's fault, a line that
#: opens with inline backticks (```python``` ...) is no fence, and the transfer credit, the harness's
#: own decoding included, is capped at 1 ms + 3 times the harness's own measured work on the call
#: (not by the bytes, which a solution could pad), a reply with an unknown key, a key given twice,
#: two outcomes, whitespace other than spaces or a changed state for an argument that was no list,
#: dict, set, bytearray, deque or array being malformed; a changed argument whose state cannot
#: come back in a reply fails the answer, as a return value does (it was silently dropped), unless
#: the argument as sent could not have come back either (a list of over about 1.56 million floats
#: changed in place): then it is the dataset's fault; a changed argument that is the returned
#: object travels once; check_function refuses
#: a run its sandbox cannot hold as a dataset error, as check_functions does,
#: so that a resumed evaluation never mixes verdicts of two rule sets; 14: a HumanEval answer whose
#: program fails to load while the task's prompt alone fails to load too (the prompt imports a
#: module the sandbox lacks, or raises) is a setup error, not the answer's failure (`code_plan.Program`);
#: 15: the prompt loads with the typing names the tests give, and the run's end while it loads is
#: not the prompt's failure; the sandbox worker ends a program as python3 does (buffered output
#: in the program's own file objects reaches stdout), which changes check_io verdicts;
#: 16 (audit 39): a HumanEval body at column 0 or two spaces deep is re-indented as the body of the
#: function the prompt leaves unfinished (innermost first) when it does not compile as written; a
#: body-only block that is one run of a version's lines (comments aside, `...` an elision) is a quoted
#: excerpt, not the program, while a reordered or re-nested one is a correction; a leading byte-order
#: mark of the answer and of each block is dropped; a prompt's stubs (docstring, pass, ..., raise
#: NotImplementedError; classes of them) are no helpers; a 4-space body gets the helpers other blocks
#: define; a table without `entry_point` infers it as a null column does;
#: 17 (audit 40): a body-only answer gets no variables from a usage example (they overwrote the
#: function's parameters) and plain assignments only from a block of definitions alone; a `pass`
#: that is a clause's whole body is code, not an elision (a correction dropping a line was read as
#: an excerpt and the draft scored); after a whole version, a body that does not end in a return is a
#: note, not the program; a later body quoting an earlier body-only block's last lines is an excerpt;
#: a column-0 body opening with a comment after a prompt without a final newline is re-indented;
#: review: only a fragment whose returns are all in top-level `if`s is such a note (a fix that returns
#: from a loop, `try` or `with`, ends in a loop or yields is the program: the wrong draft was scored,
#: or a right draft over a wrong fix); a prompt's stub helper is taken from another block; a
#: call-free constant is taken from any block, bar the prompt's names; a body using another block's
#: helper or import after a draft body is its correction, not an excerpt.
#: 18 (review 41): after a whole version, a block whose only return is in an `except` handler is
#: a note (a defensive guard became the body: 0.0), and so is a block that only loops (a test loop,
#: a trace) when the function gives a value (an in-place function's loop-only fix stays its body);
#: a body-only sketch that can run off its end, after a whole version that returns on every path,
#: for a function giving a value, is a note when the last sentence of the last line of the prose
#: just before it opens with an aside ("A faster approach", "Alternatively", "Equivalently", ...:
#: `code_answer._ASIDE_CUES`) and that line does not call the earlier version wrong (a right whole
#: version scored 0.33); any other later body is still the program, whatever its prose (a right
#: fix after a complete wrong draft keeps 1.0); a long `try` body is read in linear time.
RULES_VERSION = 18
DEFAULT_TIMEOUT = 10.0
DEFAULT_CASE_TIMEOUT = 5.0
#: Seconds the sandbox gives the harness beyond the tests' own time limit (start-up, reporting).
HARNESS_GRACE = 3.0
#: The least memory limit (MiB) under which the test harness itself runs: below it the harness
#: dies loading, and a correct solution would be scored wrong.
HARNESS_MIN_MEMORY_MB = 32
MAX_SOURCE_CHARS = 1_000_000
#: The most stdout a `check_io` case may be allowed (its cap is raised above the sandbox's own for a
#: large expected output); a case expecting more cannot be checked and gives `Verdict.failed`.
MAX_CASE_OUTPUT_BYTES = 32 << 20

_shared: Sandbox | None = None
_shared_lock = threading.Lock()


def default_sandbox() -> Sandbox:
    """The module's shared sandbox, made on first use with make_sandbox("auto")."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = make_sandbox("auto")
            atexit.register(_shared.close)
        return _shared


def _require_harness_memory(memory_mb: int | None, sandbox: Sandbox | None) -> None:
    """Raise ValueError when the memory limit of a function check is too small for its harness."""
    # (a stand-in sandbox, such as `rlvr eval`'s for a backend that cannot start, may have no limits)
    limit = memory_mb if memory_mb is not None else getattr(getattr(sandbox, "limits", None), "memory_mb", None)
    if limit is not None and limit < HARNESS_MIN_MEMORY_MB:
        raise ValueError(f"memory_mb={limit} is too small for checking functions: the test harness runs in the "
                         f"same limit and needs at least {HARNESS_MIN_MEMORY_MB} MiB")


def _check_run_limits(sandbox: Sandbox | None, memory_mb: int | None) -> None:
    """Raise ValueError (or TypeError) now for a per-run memory limit `sandbox` cannot apply.

    `Sandbox.run` rejects such a limit itself, but by then it is inside the sandbox call, whose
    exceptions are read as the infrastructure's failure (and `run_many` refuses the whole batch
    for one such job): a bad argument of the caller's must raise, before anything runs.
    """
    limits = getattr(sandbox, "limits", None)
    if memory_mb is None or not isinstance(limits, Limits):
        return  # nothing to check, or a stand-in sandbox (`rlvr eval`'s for a backend that cannot start)
    run_limits = limits.with_overrides(memory_mb=memory_mb)  # raises for a value no sandbox takes
    check = getattr(sandbox, "_check_limits", None)
    if callable(check):
        check(run_limits)  # raises for what this backend cannot do per run (docker: more memory)


def _sandbox_or_verdict(sandbox: Sandbox | None) -> Sandbox | Verdict:
    if sandbox is not None:
        return sandbox
    try:
        return default_sandbox()
    except Exception as exc:  # no backend works: that is the infrastructure's failure
        return Verdict.failed(f"no sandbox: {type(exc).__name__}: {exc}", details={"kind": "sandbox_error"})


def _solution_text(solution: Any, extract: bool | str, language: str,
                   defines: Sequence[str] | None = None) -> str | None:
    """The code of `solution` as `extract` says. For Python `extract=True` reads the program as
    Code-v0 does (`extract_program`), so that a block after the answer is not taken for it: for a
    function check (`defines` given: the functions the tests call, empty when they do not name one)
    the last block that defines one of them, or any function, not a usage example
    (`print(double(4))`); for a stdin/stdout program (`defines` None) the last block that reads
    input, else the last that calls anything, not a sample output (`3`) or a one-line snippet.
    A leading byte-order mark of the text or of the code (of each block, for mode "all") is dropped
    (`_without_bom`, `extract_code_text`)."""
    if not isinstance(solution, str):
        return None
    if extract is True and language == "python":
        if defines is None:
            return _without_bom(extract_program(solution))
        return _without_bom(extract_program(solution, defines, any_function=True))
    mode = extract if isinstance(extract, str) else ("last" if extract else "raw")
    return extract_code_text(solution, language=language, mode=mode)  # each block's mark dropped, for "all" too


def _without_bom(code: str) -> str:
    """`code` less a leading byte-order mark (U+FEFF), which an editor may put before a program:
    `python3` runs such a file, while `ast.parse` and `exec` of the text refuse the character."""
    return code[1:] if code.startswith("\ufeff") else code


def _syntax_problem(code: str) -> tuple[str | None, ast.Module | None]:
    """(reason, tree): why the host's parser rejects the solution, or its syntax tree."""
    if len(code) > MAX_SOURCE_CHARS:
        return f"the solution is longer than {MAX_SOURCE_CHARS} characters", None
    try:
        return None, ast.parse(code)
    except SyntaxError as exc:
        return f"the solution does not parse: {exc.msg} (line {exc.lineno})", None
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        return f"the solution does not parse: {type(exc).__name__}", None


# -- check_function -------------------------------------------------------------------------------
@dataclass(frozen=True)
class _FunctionJob:
    """One prepared `check_function`: the sandbox job, and how to read its result."""

    plan: TestPlan
    nonce: str
    run_kwargs: dict

    def run_kwargs_for(self, box: Sandbox) -> dict:
        """The run's arguments in `box`: its output cap raised, when below it, to what the harness's
        report of every unit can take (`code_harness.report_bytes`). The report is the verifier's
        own channel: a right answer to many tests must never be cut off by the cap and scored 0."""
        base_cap = getattr(getattr(box, "limits", None), "max_output_bytes", None) or Limits.max_output_bytes
        needed = report_bytes(len(self.plan.units))
        return self.run_kwargs if needed <= base_cap else {**self.run_kwargs, "max_output_bytes": needed}

    def interpret(self, result: ExecResult) -> Verdict:
        n = len(self.plan.units)
        details: dict[str, Any] = {"tests": n, "backend": result.backend,
                                   "wall_time": round(result.wall_time, 4)}
        if result.infrastructure_failed:
            return Verdict.failed(f"sandbox error: {result.message}", details={**details, "kind": "sandbox_error"})
        outcome = _harness_outcome(result.stdout, self.nonce)
        if outcome is None:
            if result.status == "timeout":
                why = f"the tests did not finish within the time limit ({result.message})"
            else:
                ended = result.message or f"status {result.status}"
                why = (f"the test harness was killed before it reported ({ended}): the solution "
                       "killed it or starved it")
            return Verdict.wrong(why, details={**details, "kind": "no_result", "passed": 0})
        kind = outcome.get("kind")
        if kind in ("harness_error", "setup_error"):
            error = f"{kind.replace('_', ' ')}: {outcome.get('error')}"
            return Verdict.failed(error, details={**details, "kind": kind})
        results = outcome.get("results")
        if kind != "results" or not isinstance(results, list) or len(results) != n:
            return Verdict.failed("the test harness reported something malformed",
                                  details={**details, "kind": "harness_error"})
        passed = sum(1 for r in results if isinstance(r, dict) and r.get("ok") is True)
        details.update(passed=passed, results=results, solution_starts=outcome.get("starts"))
        if passed == n:
            return Verdict.right(f"all {n} tests passed", details={**details, "kind": "passed"})
        unsupported = next((i for i, r in enumerate(results) if isinstance(r, dict) and r.get("unsupported")), None)
        if unsupported is not None:  # no answer could pass that test here: not the model's failure
            return Verdict.failed(
                f"test {unsupported + 1} of {n} ({self.plan.units[unsupported].label}) cannot be checked: "
                f"{results[unsupported]['unsupported']}; fix or drop it in the dataset",
                details={**details, "kind": "dataset_error"})
        index = next(i for i, r in enumerate(results) if not (isinstance(r, dict) and r.get("ok") is True))
        error = results[index].get("error") if isinstance(results[index], dict) else "malformed"
        reason = f"test {index + 1} of {n} failed ({self.plan.units[index].label}): {error}"
        if passed:
            reason += f"; {passed} of {n} passed"
        return Verdict.wrong(reason, score=passed / n, details={**details, "kind": "failed"})


def _harness_outcome(stdout: str, nonce: str) -> dict | None:
    """The harness's report: the last line of its stdout that starts with the nonce, parsed.

    Lines are split at "\n" only, the one line break JSON never leaves raw in a string: the report
    keeps other characters as they are (`ensure_ascii=False`), and a solution's error text holding
    U+2028, U+2029 or U+0085 must not cut the line (`str.splitlines` would, and the whole
    report would be lost)."""
    for line in reversed(stdout.split("\n")):
        if line.startswith(nonce + " "):
            try:
                outcome = json.loads(line[len(nonce) + 1:])
            except ValueError:
                return None
            return outcome if isinstance(outcome, dict) else None
    return None


def _check_seconds(name: str, value: Any, headroom: float = 0.0) -> None:
    """Raise ValueError unless `value` is a number of seconds the sandbox takes as a run's limit
    (positive, finite, at most `Limits`' `MAX_SECONDS`, less `headroom` added on top): a bad one
    raises here, at the call, not as a `sandbox_error` verdict for every solution."""
    from rlvr.sandbox.limits import MAX_SECONDS

    most = MAX_SECONDS - headroom
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= most:
        raise ValueError(f"{name} must be a positive number of seconds, at most {most:g}, got {value!r}")


def _prepare_function(solution, tests, entry_point, *, timeout, call_timeout, setup_code, extract,
                      memory_mb) -> _FunctionJob | Verdict:
    """Check the arguments (bad ones raise), then the solution (bad ones are a wrong Verdict)."""
    _check_seconds("timeout", timeout, HARNESS_GRACE)  # (the harness's run has the grace on top)
    if call_timeout is not None:
        _check_seconds("call_timeout", call_timeout)
    plan = plan_tests(tests, entry_point, setup_code=setup_code)  # raises for bad tests
    defines = [plan.entry_point] if plan.entry_point else sorted({name for name in plan.bindings.values() if name})
    code = _solution_text(solution, extract, "python", defines)
    if code is None:
        return Verdict.wrong(f"no solution: expected text, got {type(solution).__name__}",
                             details={"kind": "no_code", "tests": len(plan.units)})
    problem, tree = _syntax_problem(code)
    if problem is not None:
        return Verdict.wrong(f"test 1 of {len(plan.units)} failed: {problem}",
                             details={"kind": "syntax", "tests": len(plan.units), "passed": 0})
    if entry_point is None and plan.entry_point is None:
        try:  # (with the solution's function as the entry point, the tests may turn out unplannable)
            plan = plan_tests(tests, None, setup_code=setup_code, solution_defines=solution_functions(tree))
        except ValueError as exc:  # the dataset's fault, found only now: never the answer's
            return Verdict.failed(f"the tests cannot be checked: {exc}",
                                  details={"kind": "dataset_error", "tests": len(plan.units)})
    nonce = secrets.token_hex(16)
    payload = {"nonce": nonce, "solution": code, "timeout": float(timeout), "call_timeout": call_timeout,
               "child_source": CHILD_SOURCE, **plan.payload()}
    if extract is False and isinstance(solution, Program) and solution.prompt.strip():
        payload["prompt"] = solution.prompt  # the dataset's code it opens with, loaded alone if it fails to load
    run_kwargs = {"code": HARNESS_LOADER, "files": HARNESS_FILES, "stdin": json.dumps(payload),
                  "timeout": float(timeout) + HARNESS_GRACE, "memory_mb": memory_mb}
    return _FunctionJob(plan, nonce, run_kwargs)


def check_function(
    solution: str,
    tests: str | Sequence[str],
    entry_point: str | None = None,
    *,
    sandbox: Sandbox | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    call_timeout: float | None = None,
    setup_code: str = "",
    extract: bool | str = True,
    memory_mb: int | None = None,
) -> Verdict:
    """Run HumanEval/MBPP-style tests against a solution, in the sandbox; never fooled by it.

    Args:
        solution: the model's answer: code, or text with fenced code (see `extract`).
        tests: Python source defining `check(candidate)` (HumanEval) or holding top-level asserts,
            or a list of assert strings (MBPP's test_list). Each assert is scored separately.
        entry_point: the solution's function that `candidate` stands for (HumanEval's
            entry_point). Names the tests call without defining them are the solution's functions.
        sandbox: where to run; default a shared make_sandbox("auto").
        timeout: seconds the solution may take: loading it and its calls. Time the tests' own
            code takes between calls (a dataset's slow reference helper) is not counted; the whole
            run may take `code_harness.TESTS_OVERTIME` (1.5 s) more, after which tests not yet
            started fail "not run" (code rules 11).
        call_timeout: seconds for one call of the solution (default: what is left of `timeout`).
            A call that runs over fails its test; the next test gets a fresh solution process.
        setup_code: extra test-side setup (MBPP's test_setup_code).
        extract: True (the last fenced block that defines the entry point, or a function the
            tests call (`extract_program`), else the last fenced block, else the raw text), a mode
            of `extract_code`, or False for code as given.
        memory_mb: memory limit per process (default: the sandbox's).

    Returns a Verdict: score = passed / tests, correct = all passed, reason = the first failure.
    Arguments and return values cross into the solution's process as plain data (numbers, strings,
    bytes, None, containers of them, dict views, array.array; see docs/verifiers.md); a list, dict,
    set, bytearray, deque or array argument that the call changed in place has its new state
    written back into the tests' object, so tests that inspect it after the call see the change,
    as in one process (nested objects are replaced, not updated in place). Test classes
    (unittest.TestCase) are not supported. Bad tests or options (a memory limit the sandbox cannot
    apply) raise ValueError before anything runs.
    """
    _require_harness_memory(memory_mb, sandbox)
    _check_run_limits(sandbox, memory_mb)
    prepared = _prepare_function(solution, tests, entry_point, timeout=timeout, call_timeout=call_timeout,
                                 setup_code=setup_code, extract=extract, memory_mb=memory_mb)
    if isinstance(prepared, Verdict):
        return prepared
    box = _sandbox_or_verdict(sandbox)
    if isinstance(box, Verdict):
        return box
    _check_run_limits(box, memory_mb)  # the shared default sandbox, now that it exists
    refused = _refused_by(box, prepared.run_kwargs_for(box))  # as `check_functions` refuses it
    if refused is not None:
        return refused
    try:
        result = box.run(**prepared.run_kwargs_for(box))
    except Exception as exc:  # a sandbox that raises is still the infrastructure's failure
        return Verdict.failed(f"sandbox raised {type(exc).__name__}: {exc}", details={"kind": "sandbox_error"})
    return prepared.interpret(result)


def check_functions(
    problems: Sequence[Mapping[str, Any]],
    *,
    sandbox: Sandbox | None = None,
    concurrency: int | None = None,
    **options: Any,
) -> list[Verdict]:
    """`check_function` for many problems at once, run concurrently; verdicts in input order.

    Each problem is a dict with "solution", "tests" and optionally "entry_point", "setup_code",
    "timeout", "call_timeout"; `options` are defaults for all of them.
    """
    prepared: list[_FunctionJob | Verdict] = []
    for problem in problems:
        merged = {"timeout": DEFAULT_TIMEOUT, "call_timeout": None, "setup_code": "", "extract": True,
                  "memory_mb": None, **options, **problem}
        _require_harness_memory(merged["memory_mb"], sandbox)
        _check_run_limits(sandbox, merged["memory_mb"])
        prepared.append(_prepare_function(
            merged.pop("solution"), merged.pop("tests"), merged.pop("entry_point", None), **merged))
    return _run_prepared(prepared, sandbox, concurrency, lambda job, result: job.interpret(result))


def _run_prepared(prepared: list, sandbox: Sandbox | None, concurrency: int | None,
                  interpret: Callable[[Any, ExecResult], Verdict]) -> list[Verdict]:
    pending = [job for job in prepared if not isinstance(job, Verdict)]
    if not pending:
        return list(prepared)
    box = _sandbox_or_verdict(sandbox)
    if isinstance(box, Verdict):
        return [job if isinstance(job, Verdict) else box for job in prepared]
    for job in pending:  # the shared default sandbox, now that it exists
        _check_run_limits(box, job.run_kwargs["memory_mb"])
    refusals = [None if isinstance(job, Verdict) else _refused_by(box, job.run_kwargs_for(box)) for job in prepared]
    prepared = [job if refused is None else refused for job, refused in zip(prepared, refusals)]  # (a Verdict is falsy)
    pending = [job for job in prepared if not isinstance(job, Verdict)]
    try:
        results = iter(box.run_many([job.run_kwargs_for(box) for job in pending], concurrency=concurrency))
    except Exception as exc:
        failed = Verdict.failed(f"sandbox raised {type(exc).__name__}: {exc}", details={"kind": "sandbox_error"})
        return [job if isinstance(job, Verdict) else failed for job in prepared]
    return [job if isinstance(job, Verdict) else interpret(job, next(results)) for job in prepared]


def _refused_by(box: Any, run_kwargs: Mapping[str, Any]) -> Verdict | None:
    """The verdict of a run `box` will not take (its stdin or files do not fit the backend's
    mounts), else None. `run_many` refuses a whole batch for one such job, so each problem's runs
    are checked alone first: that problem fails on its own, as a dataset error (what does not fit
    is the tests the dataset gives, with the program: a rerun cannot fix it), and the others run.
    Only a sandbox whose own `run` does the checking (`Sandbox.prepare`) is asked: a stand-in or
    a wrapper overriding `run` reports a refused job as that job's result itself."""
    if type(box).run is not Sandbox.run or not isinstance(getattr(box, "limits", None), Limits):
        return None
    try:
        box.prepare(**run_kwargs)
    except ValueError as exc:
        return Verdict.failed(f"the sandbox cannot hold this problem's run: {exc}",
                              details={"kind": "dataset_error"})
    return None


# -- check_io -------------------------------------------------------------------------------------
def _normalise_cases(cases: Any) -> list[tuple[str, str]]:
    """Cases as (stdin, expected stdout) pairs; raises ValueError naming what is wrong."""
    if isinstance(cases, Mapping) and "inputs" in cases and "outputs" in cases:  # APPS layout
        cases = list(zip(cases["inputs"], cases["outputs"], strict=True))
    if isinstance(cases, (str, bytes)) or not isinstance(cases, Sequence) or not cases:
        raise ValueError("cases must be a non-empty list of (input, expected_output) pairs or dicts "
                         "with 'input' and 'output'")
    pairs = []
    for number, case in enumerate(cases, 1):
        if isinstance(case, Mapping):
            stdin = case.get("input", case.get("stdin"))
            expected = case.get("output", case.get("expected", case.get("stdout")))
        elif isinstance(case, Sequence) and not isinstance(case, str) and len(case) == 2:
            stdin, expected = case
        else:
            stdin = expected = None
        if not isinstance(stdin, str) or not isinstance(expected, str):
            raise ValueError(f"case {number} must give 'input' and 'output' as strings, got {case!r:.120}")
        pairs.append((stdin, expected))
    return pairs


#: A number as programs print it: ASCII digits, optional sign, point and exponent (no "inf", "nan",
#: underscores or other scripts' digits, which float() would also take).
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def _number(token: str) -> float | None:
    """The finite value of a plain ASCII decimal token, else None."""
    if _DECIMAL.fullmatch(token) is None:
        return None
    value = float(token)
    return value if math.isfinite(value) else None


def compare_output(actual: str, expected: str, *, exact: bool = False,
                   float_tolerance: float | None = None) -> bool:
    """Whether a program's output matches the expected one.

    exact: byte-for-byte (after decoding). Otherwise whitespace-tolerant: lines are compared as
    lists of whitespace-separated tokens (so spacing and trailing spaces do not matter), and blank
    lines at the start and end are ignored. With `float_tolerance`, an expected token written as a
    finite ASCII decimal with a point or an exponent ("0.5", "1e-3") matches an ASCII decimal that
    differs by that much, relatively (or absolutely, below 1); every other token (integers, words,
    "inf", "nan") must match exactly, so an off-by-one integer answer never passes.

    Equal texts match at once. Otherwise they are read a line at a time and the comparison stops at
    the first differing line: a program's output may be tens of MiB, and splitting it all up front
    would cost the host memory in proportion to it, right or wrong.
    """
    if exact or actual == expected:
        return actual == expected
    a_lines, e_lines = _token_lines(actual), _token_lines(expected)
    for a_line, e_line in itertools.zip_longest(a_lines, e_lines):
        if a_line is None or e_line is None or a_line[0] != e_line[0]:  # more lines, or blank lines
            return False
        a_tokens, e_tokens = a_line[1], e_line[1]
        if a_tokens == e_tokens:
            continue
        if len(a_tokens) != len(e_tokens):
            return False
        for a, e in zip(a_tokens, e_tokens):
            if a == e:
                continue
            # tolerance only for an expected non-integer decimal (a point or an exponent): integers,
            # words and inf/nan must match exactly
            y = _number(e) if float_tolerance is not None and any(mark in e for mark in ".eE") else None
            x = _number(a) if y is not None else None
            if x is None or not abs(x - y) <= float_tolerance * max(1.0, abs(y)):
                return False
    return True


#: What `str.splitlines` ends a line at.
_LINE_BREAK = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


#: About how much of a text `_lines` splits at a time (a few KiB: the host holds one piece's lines).
_PIECE = 8 << 10


def _lines(text: str) -> Iterator[str]:
    """The lines of `text.splitlines()`, one piece of about `_PIECE` characters (cut after a line
    break) split at a time, so that a long text is never split all at once."""
    start = 0
    while start < len(text):
        cut = _LINE_BREAK.search(text, start + _PIECE) if len(text) - start > _PIECE else None
        end = len(text) if cut is None else cut.end()
        yield from text[start:end].splitlines()
        start = end


def _token_lines(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each line that holds a token, as (blank lines since the previous such line, its tokens): the
    lines of `text` as token lists (`str.split`), less the blank lines at the start and end. Lazy:
    one line is split at a time."""
    blank = 0
    first = True
    for line in _lines(text):
        tokens = line.split()
        if not tokens:
            blank += 1
            continue
        yield (0 if first else blank), tokens
        first, blank = False, 0


def _shorten(text: str, limit: int = 80) -> str:
    text = repr(text[:limit])  # (only what is shown is quoted: an output may be tens of MiB)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def check_io(
    solution: str,
    cases: Sequence[tuple[str, str]] | Sequence[Mapping[str, str]] | Mapping[str, Sequence[str]],
    *,
    sandbox: Sandbox | None = None,
    exact: bool = False,
    float_tolerance: float | None = None,
    timeout: float = DEFAULT_CASE_TIMEOUT,
    language: str = "python",
    extract: bool | str = True,
    memory_mb: int | None = None,
    concurrency: int | None = None,
) -> Verdict:
    """Run a program on each case's stdin and compare its stdout; score = fraction of cases passed.

    `cases` is a list of (input, expected_output) pairs or of dicts with "input" and "output" (or
    APPS's {"inputs": [...], "outputs": [...]}). A case passes when the program exits with status 0
    within `timeout` seconds and its output matches (see `compare_output` for `exact` and
    `float_tolerance`). Cases run concurrently in the sandbox. Bad cases or options raise ValueError (an unknown `language` too). A case
    whose stdin the sandbox cannot hold (more than its mounts take) gives `Verdict.failed` (kind
    "dataset_error").
    `extract`: True takes the program out of a model's text as Code-v0 does (`extract_program`: the
    last fenced block that reads standard input, else the last that calls anything, so a sample
    output or a snippet after the program is skipped), a mode of `extract_code`, or False for code
    as given.
    A case whose expected output is over the sandbox's output cap gets a cap of twice its size (at
    most `MAX_CASE_OUTPUT_BYTES`), so a right program is never cut off; a case expecting more than
    that cannot be checked and gives `Verdict.failed` (kind "dataset_error"). Only stdout is
    judged, so a program's stderr past the output cap (logging) is cut and the run goes on
    (the sandbox's `stderr_overflow="cut"`) rather than stopping a right program.
    """
    pairs = _normalise_cases(cases)
    _check_seconds("timeout", timeout)
    _check_run_limits(sandbox, memory_mb)
    n = len(pairs)
    code = _solution_text(solution, extract, language)
    if code is None:
        return Verdict.wrong(f"no solution: expected text, got {type(solution).__name__}",
                             details={"kind": "no_code", "tests": n})
    if language == "python":
        problem, _ = _syntax_problem(code)
        if problem is not None:
            return Verdict.wrong(f"case 1 of {n} failed: {problem}", details={"kind": "syntax", "tests": n, "passed": 0})
    box = _sandbox_or_verdict(sandbox)
    if isinstance(box, Verdict):
        return box
    _check_run_limits(box, memory_mb)  # the shared default sandbox, now that it exists
    if type(box).run is Sandbox.run:  # (a wrapper overriding `run` may map languages of its own)
        language_command(language)  # an unknown language is the caller's mistake: it raises, as here
    jobs = [{"code": code, "stdin": stdin, "timeout": timeout, "memory_mb": memory_mb, "language": language,
             "stderr_overflow": "cut"} for stdin, _ in pairs]
    base_cap = getattr(getattr(box, "limits", None), "max_output_bytes", None) or Limits.max_output_bytes
    for number, ((_, expected), job) in enumerate(zip(pairs, jobs), 1):
        cap = _output_cap(expected, base_cap)
        if cap is None:  # no program could print it: the case cannot be checked, whatever the answer
            return Verdict.failed(
                f"case {number} of {n} expects {_byte_size(expected)} bytes of output, more than the "
                f"{MAX_CASE_OUTPUT_BYTES} bytes a program may print in the sandbox: the case cannot be checked "
                "(fix or drop it in the dataset)", details={"kind": "dataset_error", "tests": n})
        if cap > base_cap:
            job["max_output_bytes"] = cap
    refused = next((r for r in (_refused_by(box, job) for job in jobs) if r is not None), None)
    if refused is not None:
        return Verdict.failed(refused.reason, details={**refused.details, "tests": n})
    try:
        results = box.run_many(jobs, concurrency=concurrency)
    except Exception as exc:
        return Verdict.failed(f"sandbox raised {type(exc).__name__}: {exc}", details={"kind": "sandbox_error"})
    outcomes = []
    for (stdin, expected), result in zip(pairs, results):
        if result.infrastructure_failed:
            return Verdict.failed(f"sandbox error: {result.message}", details={"kind": "sandbox_error", "tests": n})
        outcomes.append(_case_error(result, expected, exact, float_tolerance))
    passed = sum(error is None for error in outcomes)
    details = {"tests": n, "passed": passed, "results": [{"ok": e is None, "error": e} for e in outcomes],
               "backend": results[0].backend if results else ""}
    if passed == n:
        return Verdict.right(f"all {n} cases passed", details={**details, "kind": "passed"})
    index = next(i for i, error in enumerate(outcomes) if error is not None)
    reason = f"case {index + 1} of {n} failed (input {_shorten(pairs[index][0])}): {outcomes[index]}"
    if passed:
        reason += f"; {passed} of {n} passed"
    return Verdict.wrong(reason, score=passed / n, details={**details, "kind": "failed"})


def _byte_size(text: str) -> int:
    return len(text.encode("utf-8", "replace"))


def _output_cap(expected: str, base_cap: int) -> int | None:
    """The stdout cap for a case that expects `expected`: the sandbox's own cap, raised to twice the
    expected size (room for other spacing) when that is more, at most `MAX_CASE_OUTPUT_BYTES`; None
    when the expected output itself is over that ceiling. A right program must never be cut off
    by the cap and scored wrong."""
    needed = _byte_size(expected)
    if needed > MAX_CASE_OUTPUT_BYTES:
        return None
    return max(base_cap, min(2 * needed + 4096, MAX_CASE_OUTPUT_BYTES))


def _case_error(result: ExecResult, expected: str, exact: bool, float_tolerance: float | None) -> str | None:
    if result.status == "timeout":
        return f"timed out ({result.message})"
    if result.status in ("memory", "output_limit"):
        return f"{result.status.replace('_', ' ')}: {result.message}"
    if result.status != "ok":
        last = [line for line in result.stderr.strip().splitlines() if line.strip()][-1:]
        return f"runtime error ({result.message})" + (f": {last[0][:300]}" if last else "")
    if compare_output(result.stdout, expected, exact=exact, float_tolerance=float_tolerance):
        return None
    return f"wrong output: expected {_shorten(expected)}, got {_shorten(result.stdout)}"
