"""Turning a problem's tests into separately scored units, on the host, before anything runs.

`check_function` scores the fraction of tests passed, so the tests have to be split into units:

* MBPP style (top-level asserts, or a list of assert strings): the import statements the tests
  begin with are setup (run before the solution is loaded: one that fails is a setup error);
  then each checking statement is a unit, together with the plain statements just before it (the
  setup it needs); trailing statements join the last unit. A checking statement asserts (outside
  nested definitions), runs a helper function of the tests that asserts (directly or through
  other helpers), or is a bare call of the solution itself (`f(-1)`: it must not raise) that no
  check of another kind follows (`candidate(a)` before
  `assert a == [1, 2, 3]` is that assert's setup, or a do-nothing answer would pass it). A bare
  call of a helper that only uses the solution without asserting (`show(1)` after `def show(x):
  print(f(x))`) is not: it checks nothing. A definition is never one by itself: defining `def
  test_x(): assert ...` checks nothing.
  A statement involves the solution when it may run it: it names the solution other than to inspect
  it (`callable(f)`, `isinstance(f, ...)`, `hasattr`/`getattr`/`type`/`inspect.*(f)`, `f.__name__`),
  or uses a helper that does. Units that do not (HumanEval's `assert True, "..."`, `assert
  callable(candidate)`) join a neighbour: they must not score on their own. Every unit involves the
  solution, so the harness fails one that finishes without calling it.
* pytest style: a top-level `def test_*()` without required arguments that the tests never call
  gets a unit of its own, a call `test_x()` after all the other statements, as pytest would run it.
* HumanEval style (`def check(candidate): ...`): the same split applied to the body of `check`,
  run at module level with `candidate` bound. A body that cannot run that way (it uses `return`,
  `nonlocal`, `yield` ...) or holds no assert is one unit, `check(candidate)`. A `check` with other
  parameters is checked once for each top-level statement that runs it: a `check(f, 2)` call gets
  those units (or that one unit) with its own arguments bound, any other statement (`for n in
  range(3): check(f, n)`) is one unit that runs as it stands; with no such statement, the
  parameters take their defaults. A call that leaves one without a value (`def check(candidate,
  n):` called as `check(f)`, or never called) raises ValueError.

The tests run as a script does (`__name__ == "__main__"`), so the body of a top-level
`if __name__ == "__main__":` block is planned as top-level statements. Test classes
(`unittest.TestCase`, pytest classes) are not supported: tests whose checks sit only in classes
raise ValueError rather than pass unchecked.

The plan also says which names in the tests stand for the solution's functions: names the tests
use but never define, that are neither builtins nor common modules. Deciding this here, from the
trusted tests alone, means the solution cannot claim names such as `set` or `sorted` for itself.
A `check(...)` call given the tests' own object (a wrapper they define, a lambda) has `candidate` be
that object, never a solution's function of the same name. With a known entry point, tests that assert
what a name they neither define nor import says of its result (`assert isclose(area(2), ...)`) are
refused: the solution could define that checker and pass.
Tests that do not parse, or hold nothing to check, are bad input and raise ValueError; so are tests
that can fail only by an error (no `assert`, no `raise`, no `assert...(...)` call such as
`self.assertEqual` or `np.testing.assert_allclose`, no `fail(...)` or `exit(...)` call, no call of
an imported helper): a `check` that only prints `candidate(2)` would pass every answer that runs.
Tests holding the line `TYPING_NAMES_PRAGMA` (call-based tasks) have the plan give the solution's
module the `typing` names before the solution runs, as LeetCode does.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field
from typing import Sequence

from rlvr.verifiers.code_harness import MODULES

__all__ = ["TestUnit", "TestPlan", "plan_tests", "solution_functions", "prompt_definitions", "bound_names",
           "bound_and_used", "prompt_head", "TYPING_NAMES_PRAGMA", "Program"]

BUILTIN_NAMES = frozenset(dir(builtins)) | {"__name__", "__file__", "__doc__", "__builtins__"}
LABEL_LENGTH = 100
#: Nodes whose bodies do not run where they stand: looking for asserts does not enter them.
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
#: A line of a task's tests that gives the solution's module the `typing` names (`List`, `Optional`)
#: before the solution runs, as LeetCode's environment does (its starter code uses `List[int]`
#: without importing it); call-based tasks' tests carry it (`rlvr.envs.code_env.call_tests`). The
#: answer's text is left as it is, so the line numbers its errors report are its own.
TYPING_NAMES_PRAGMA = "# rlvr: the solution finds the typing names ready, as on LeetCode"


class Program(str):
    """A program to check (its text) whose opening is a task's prompt, the dataset's code rather than
    the answer's: `prompt` is that code as it loads alone (HumanEval's imports, helpers and the
    function's signature; `rlvr.envs.code_env` builds these). When the program fails to load, the
    harness loads `prompt` alone, in its own process, which never runs answer code: if that fails too
    (an import of a module the sandbox lacks, a bug of the prompt's own), no answer could load, and
    the verdict is a setup error, not the answer's failure. It is carried beside the text, not in it,
    so no answer can claim lines of its own for the dataset; `check_function` reads it only from code
    it takes as given (`extract=False`)."""

    prompt: str

    def __new__(cls, text: str, prompt: str = "") -> "Program":
        program = super().__new__(cls, text)
        program.prompt = prompt if isinstance(prompt, str) else ""
        return program


@dataclass(frozen=True)
class TestUnit:
    """One scored test: the source to run and a short label for reasons ("line 4: assert ...")."""

    source: str
    label: str


@dataclass(frozen=True)
class TestPlan:
    """Everything the harness needs to know about the tests, and nothing about the solution."""

    setup: str
    units: tuple[TestUnit, ...]
    #: name in the tests -> name of the solution's function it stands for ("" = unknown)
    bindings: dict[str, str] = field(default_factory=dict)
    modules: tuple[str, ...] = ()
    entry_point: str | None = None
    #: the solution's module gets the `typing` names before it runs (`TYPING_NAMES_PRAGMA`)
    typing_names: bool = False

    def payload(self) -> dict:
        return {"setup": self.setup, "units": [{"source": u.source, "label": u.label} for u in self.units],
                "bindings": dict(self.bindings), "modules": list(self.modules), "typing_names": self.typing_names}


def solution_functions(tree: ast.Module) -> list[str]:
    """Names of the functions a parsed solution defines at top level, in order."""
    return [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


#: Top-level statements of a task's prompt that define something; anything else (a bare call, a loop)
#: is not taken from it.
PROMPT_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                      ast.Assign, ast.AnnAssign)


def prompt_definitions(prompt: str, entry_point: str | None, *, exclude: Sequence[str] = ()) -> str:
    """The source of what a task's prompt defines besides the entry point (and `exclude`): its helper
    functions, classes and constants, with the imports they need; "" when it defines nothing else.

    A HumanEval prompt may define helpers that its tests use to build expected values
    (`encode_shift`, `poly`). They are the dataset's code, not the model's: the verifier runs them
    with the tests and after the solution, so an answer that redefines them (`def poly(xs, x):
    return 0`) cannot change what the tests expect. A stub of the prompt (`_is_stub`: a function
    whose body is only a docstring, `pass`, `...` or `raise NotImplementedError`, or a class of
    such methods) is left out: like the entry point it is for the answer to write (a docstring-only
    `def is_prime(n)` beside `count_primes`, a `class Stack` of method stubs), and defined again
    after the answer it would replace the answer's version by one returning None or raising. The
    prompt still goes before a body-only answer, so a stub the answer does not write stays the
    prompt's (a `pass` hook the tests call still runs). A prompt
    that does not parse is read up to the entry point's `def` line; one that does not parse even so
    gives "".
    """
    usable = _usable_prompt(prompt, entry_point)
    if usable is None:
        return ""
    tree = usable[1]
    skip = {name for name in (entry_point, *exclude) if name}
    kept = [node for node in tree.body if isinstance(node, PROMPT_DEFINITIONS) and not _names_bound(node) & skip
            and not _is_stub(node)]
    if all(isinstance(node, (ast.Import, ast.ImportFrom)) for node in kept):
        return ""  # imports alone: nothing the solution could replace
    return ast.unparse(ast.Module(body=kept, type_ignores=[]))


def is_stub_statement(statement: ast.stmt) -> bool:
    """Whether a statement of a function body leaves the function unwritten: a docstring (any
    constant), `pass`, `...`, or `raise NotImplementedError` (called or not, with a message or not)."""
    if isinstance(statement, ast.Pass) or isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
        return True
    if not isinstance(statement, ast.Raise) or statement.exc is None or statement.cause is not None:
        return False
    exc = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


def _is_stub(node: ast.stmt) -> bool:
    """Whether a prompt's definition is a stub for the answer to write: a function whose body is only
    stub statements (`is_stub_statement`), or a class with at least one method whose methods are
    all such and that holds nothing else but a docstring (a `class Stack:` of method stubs). A class
    that is only a docstring (`class ParseError(Exception): \"\"\"...\"\"\"`) is a real definition."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return all(map(is_stub_statement, node.body))
    if not isinstance(node, ast.ClassDef):
        return False
    methods = [inner for inner in node.body if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef))]
    rest = [inner for inner in node.body if not isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef))]
    documented = not rest or len(rest) == 1 and rest[0] is node.body[0] and isinstance(rest[0], ast.Expr) \
        and isinstance(rest[0].value, ast.Constant) and isinstance(rest[0].value.value, str)
    return bool(methods) and documented and all(map(_is_stub, methods))


def prompt_head(prompt: str, entry_point: str | None) -> str:
    """What of a task's prompt goes before an answer that defines the entry point as a whole function:
    the whole prompt when it parses (a signature with a docstring), else its part before the entry
    point's `def` line when that parses (a bare signature, or one with only a comment, whose open
    `def` would leave the answer's code without a body before it), else the whole prompt."""
    if not isinstance(prompt, str):
        return ""
    usable = _usable_prompt(prompt, entry_point)
    return prompt if usable is None else usable[0]


def entry_def(prompt: str, entry_point: str | None) -> re.Match | None:
    """Where the entry point's definition starts in the prompt: its `def` line, or the one-line
    decorators right above it (`@lru_cache`), which belong to that `def` (None: no such line)."""
    if not entry_point:
        return None
    return re.search(rf"^(?:[ \t]*@[^\n]*\n)*[ \t]*(?:async[ \t]+)?def[ \t]+{re.escape(entry_point)}\b", prompt, re.MULTILINE)


def bound_names(*sources: str) -> set[str]:
    """Every name the sources bind anywhere (imports, definitions, assignments, parameters), as
    `plan_tests` counts them when it decides which names stand for the solution; a source that
    does not parse binds nothing."""
    trees = []
    for source in sources:
        try:
            trees.append(ast.parse(source))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return bound_and_used(trees)[0]


def _usable_prompt(prompt: str, entry_point: str | None) -> tuple[str, ast.Module] | None:
    """(text, syntax tree) of the part of a task's prompt that stands as code: the whole prompt when it
    parses, else its part before the entry point's `def` line when that parses (a signature without
    a body); None when neither parses, or the prompt is empty."""
    if not isinstance(prompt, str) or not prompt.strip():
        return None
    texts = [prompt]
    match = entry_def(prompt, entry_point)
    if match is not None:
        texts.append(prompt[:match.start()])
    for text in texts:
        try:
            return text, ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return None


def _names_bound(node: ast.stmt) -> set[str]:
    """The names a top-level definition binds (`def f` binds f, `import a.b` binds a)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return {child.id for target in targets for child in ast.walk(target) if isinstance(child, ast.Name)}


def plan_tests(
    tests: str | Sequence[str],
    entry_point: str | None = None,
    *,
    setup_code: str = "",
    solution_defines: Sequence[str] = (),
) -> TestPlan:
    """Split `tests` into scored units and find the names that stand for the solution.

    `entry_point` is the function `candidate` means; without it, the name passed to a top-level
    `check(...)` call is used, else the only (or the last) function the solution defines
    (`solution_defines`). When that call passes the tests' own object (a wrapper they define, a
    lambda), `candidate` is that object, whatever the entry point. Tests that assert what a name they
    neither define nor import says of the entry point's result (`assert isclose(area(2), ...)`)
    raise ValueError.
    """
    source = _tests_source(tests)
    try:
        tree = ast.parse(source)
        setup_tree = ast.parse(setup_code) if setup_code else ast.Module(body=[], type_ignores=[])
    except SyntaxError as exc:
        raise ValueError(f"the tests do not parse ({exc.msg}, line {exc.lineno}): fix the dataset's "
                         "test code") from None
    if entry_point is not None and not (isinstance(entry_point, str) and entry_point.isidentifier()):
        raise ValueError(f"entry_point must be a Python identifier, got {entry_point!r}")
    body = _script_body(tree.body)
    check = _find_check(body)
    setup_nodes = list(setup_tree.body)
    param = _first_parameter(check) if check is not None else None
    tests_bound = bound_and_used([tree, setup_tree])[0]
    wrapper = _tests_candidate(body, tests_bound) if check is not None else None
    if check is not None:
        called = _check_call_arguments(body, tests_bound)
        if entry_point is None and called:
            entry_point = called[0]
    if (entry_point is None and wrapper is None and solution_defines
            and (param is not None or _uses_any(tree, {"candidate"}))):
        entry_point = list(solution_defines)[-1]
    bindings, modules = _free_names(tree, setup_tree, param, entry_point)
    if wrapper is not None:
        del bindings[param]  # `candidate` is the tests' own wrapper, which the setup binds below
    _reject_free_checkers(tree, setup_tree, bindings, entry_point)
    solution_names = set(bindings)
    candidate_names = solution_names | ({param} if wrapper is not None else set())
    if not _uses_any(check if check is not None else tree, candidate_names):
        raise ValueError("the tests never use the solution (no call of `candidate` or of a function "
                         "they do not define), so every answer would pass: fix the dataset's tests")
    reach = _reach([tree, setup_tree], candidate_names)
    if wrapper is not None and not (_may_run(wrapper, solution_names) or _uses_any(wrapper, reach.using)):
        raise ValueError(f"the tests check {ast.unparse(wrapper)[:LABEL_LENGTH]!r}, which never uses the "
                         "solution, so every answer would pass: fix the dataset's tests")
    if check is None:
        statements = body + _pytest_calls(body, tree)
        leading = _leading_imports(statements)
        setup_nodes += leading
        units = _group_units(statements[len(leading):], reach)
    else:
        runs = _check_runs(check, body) if _other_parameters(check.args) else []
        as_written = _runs_as_written(check, body, runs)
        if as_written is not None:  # the runs depend on the statements around them: in order, one unit
            setup_nodes += body[:body.index(as_written[0])]
        else:
            setup_nodes += [node for node in body if node is not check and not _is_check_call(node)
                            and not any(node is run for run in runs)]
        if wrapper is not None:
            setup_nodes.append(_bind_candidate(param, wrapper))
        units = _group_units(check.body, reach)
        if not units or not _units_compile(units):
            units = []
        if as_written is not None:
            text = ast.unparse(ast.Module(body=as_written, type_ignores=[]))
            first_line = text.splitlines()[0][:LABEL_LENGTH]
            units = [TestUnit(text, f"line {as_written[0].lineno}: {first_line} (and the rest of the tests)")]
        elif not runs:
            call = _check_call_for(check)
            if not units:
                setup_nodes.append(check)
                text = ast.unparse(call)
                units = [TestUnit(text, f"line {check.lineno}: {text[:LABEL_LENGTH]}")]
        else:
            setup_nodes.append(check)
            first = _check_call_values(body)[:1]
            units = [unit for run in runs for unit in _run_units(check, run, first, units)]
    if units and not _can_fail(tree):
        raise ValueError("the tests assert nothing (no assert statement, raise or assert...() call), so every "
                         "answer that runs without an error would pass: fix the dataset's tests")
    if not units:
        _reject_test_classes(body)
        raise ValueError("the tests hold no assert statement that uses the solution and no "
                         "check(candidate) function, so nothing would be checked: give asserts (MBPP) "
                         "or a check function (HumanEval)")
    setup = ast.unparse(ast.Module(body=setup_nodes, type_ignores=[])) if setup_nodes else ""
    return TestPlan(setup=setup, units=tuple(units), bindings=bindings, modules=modules,
                    entry_point=entry_point, typing_names=_asks_for_typing_names(source))


def _asks_for_typing_names(source: str) -> bool:
    """Whether the tests hold `TYPING_NAMES_PRAGMA` as a line of its own."""
    return re.search(rf"^[ \t]*{re.escape(TYPING_NAMES_PRAGMA)}[ \t\r]*$", source, re.MULTILINE) is not None


def _tests_source(tests: str | Sequence[str]) -> str:
    if isinstance(tests, str):
        return tests
    if isinstance(tests, (list, tuple)) and all(isinstance(t, str) for t in tests):
        return "\n".join(tests)
    raise ValueError(f"tests must be Python source or a list of assert strings, got {type(tests).__name__}")


def _script_body(body: list[ast.stmt]) -> list[ast.stmt]:
    """Top-level statements as a script runs them: an `if __name__ == "__main__":` block stands for
    its body (the tests run as __main__), so the asserts and `check(...)` calls in it are found."""
    result: list[ast.stmt] = []
    for node in body:
        result.extend(_script_body(node.body) if _is_main_guard(node) else [node])
    return result


def _is_main_guard(node: ast.stmt) -> bool:
    """`if __name__ == "__main__":` (either way round)."""
    if not (isinstance(node, ast.If) and isinstance(node.test, ast.Compare) and len(node.test.ops) == 1
            and isinstance(node.test.ops[0], ast.Eq)):
        return False
    sides = (node.test.left, node.test.comparators[0])
    return (any(isinstance(side, ast.Name) and side.id == "__name__" for side in sides)
            and any(isinstance(side, ast.Constant) and side.value == "__main__" for side in sides))


def _find_check(body: list[ast.stmt]) -> ast.FunctionDef | None:
    for node in body:
        if isinstance(node, ast.FunctionDef) and node.name == "check" and node.args.posonlyargs + node.args.args:
            return node
    return None


def _first_parameter(check: ast.FunctionDef) -> str:
    """The name of the check's first parameter (`candidate`), positional-only or not."""
    return (check.args.posonlyargs + check.args.args)[0].arg


def _other_parameters(args: ast.arguments) -> list[str]:
    """The names of a check's parameters other than its first (`candidate`)."""
    names = [arg.arg for arg in args.posonlyargs + args.args][1:] + [arg.arg for arg in args.kwonlyargs]
    return names + [arg.arg for arg in (args.vararg, args.kwarg) if arg is not None]


def _check_runs(check: ast.FunctionDef, body: list[ast.stmt]) -> list[ast.stmt]:
    """The top-level statements that run a check with other parameters, in order: each `check(...)`
    call, and each other statement that calls it, directly or through a helper the tests define
    (`for n in range(3): check(f, n)`). Each is checked with its own arguments (see `_run_units`);
    with none, a `check(candidate)` standing for the check's defaults."""
    helpers = {node.name: {child.id for child in ast.walk(node) if isinstance(child, ast.Name)}
               for node in body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node is not check}
    callers = _closure({check.name}, helpers)
    runs = [node for node in body if node is not check and not _is_definition(node)
            and _uses_any(node, callers)]  # (a call in a lambda too: `map(lambda n: check(f, n), ...)`)
    if runs:
        return runs
    call = ast.Expr(ast.Call(ast.Name(check.name, ast.Load()), [ast.Name(_first_parameter(check), ast.Load())], []))
    return [ast.fix_missing_locations(ast.copy_location(call, check))]


def _runs_as_written(check: ast.FunctionDef, body: list[ast.stmt], runs: list[ast.stmt]) -> list[ast.stmt] | None:
    """The statements from the first run of a check with other parameters to the end, when they must
    run as written, in order, as one unit; None when each `check(...)` call can be a unit of its own.

    A call's arguments are bound where its unit runs, after the whole setup: that is only what the
    call passed when nothing but other runs and definitions comes after the first one (`x = 3;
    check(f, x); x = 5; check(f, x)` would check 5 twice), and a unit must call the solution, which
    a check that may `return` early for some arguments does not always do."""
    if not runs or not any(run in body for run in runs):
        return None
    start = next(i for i, node in enumerate(body) if any(node is run for run in runs))
    rest = body[start:]
    plain = all(any(node is run for run in runs) or isinstance(node, (ast.Import, ast.ImportFrom))
                or (_is_definition(node) and node is not check) for node in rest)
    returns = any(isinstance(node, ast.Return) for node in _shallow_walk(check))
    return None if plain and not returns else rest


def _run_units(check: ast.FunctionDef, run: ast.stmt, first: list[ast.expr],
               units: list[TestUnit]) -> list[TestUnit]:
    """The units for `run`, one statement that runs the check. A top-level `check(f, 2)` passing what
    the first such call passes (`first`: what `candidate` is bound to) gets the check's units
    (`units`; [] when its body cannot run at module level: the call itself), each after a statement
    binding the check's other parameters as that call does. Any other statement (a loop of calls, a
    call given another candidate) is one unit that runs as it stands."""
    given = run.value.args[:1] if _is_check_call(run) else None
    if given is None or (first and [ast.dump(arg) for arg in given] != [ast.dump(arg) for arg in first]):
        text = ast.unparse(run)
        return [TestUnit(text, f"line {run.lineno}: {text.splitlines()[0][:LABEL_LENGTH]}")]
    call = _check_call_for(check, run.value)
    text = ast.unparse(call)
    if not units:
        return [TestUnit(text, f"line {run.lineno}: {text[:LABEL_LENGTH]}")]
    binder = ast.unparse(_bind_parameters(check, call))
    return [TestUnit(f"{binder}\n{unit.source}", f"{unit.label} (for line {run.lineno})") for unit in units]


def _check_call_for(check: ast.FunctionDef, given: ast.Call | None = None) -> ast.Call:
    """`check(candidate, ...)` with the arguments beyond the first that `given` (a `check(...)` call of
    the tests, `check(f, 10)`) passes; `check(candidate)` without it. Raises ValueError when the
    check has a parameter without a default that the call leaves unset: no call could run it, so
    every answer would fail, and that is the dataset's fault, not the answer's.
    """
    given = given or ast.Call(ast.Name(check.name, ast.Load()), [], [])
    param = _first_parameter(check)
    keywords = [keyword for keyword in given.keywords if keyword.arg != param]
    call = ast.Call(ast.Name(check.name, ast.Load()), [ast.Name(param, ast.Load())] + given.args[1:], keywords)
    missing = _missing_arguments(check.args, call)
    if missing:
        raise ValueError(f"the tests' {check.name}() needs {', '.join(map(repr, missing))} besides "
                         f"{param!r}, which the tests never pass to it "
                         f"(line {getattr(given, 'lineno', check.lineno)}), "
                         "so no answer could pass: "
                         f"give {'them defaults' if len(missing) > 1 else 'it a default'} or call "
                         f"{check.name}({param}, ...) with {'them' if len(missing) > 1 else 'it'} in the dataset's tests")
    return ast.fix_missing_locations(ast.copy_location(call, check))


def _missing_arguments(args: ast.arguments, call: ast.Call) -> list[str]:
    """The parameters without defaults that `call` leaves unset (none known when it unpacks
    `*args` or `**kwargs`, whose contents only running it shows)."""
    if any(isinstance(arg, ast.Starred) for arg in call.args) or any(k.arg is None for k in call.keywords):
        return []
    named = {keyword.arg for keyword in call.keywords}
    positional = args.posonlyargs + args.args
    required = positional[: len(positional) - len(args.defaults)]
    missing = [arg.arg for arg in required[len(call.args):] if arg.arg not in named]
    return missing + [arg.arg for arg, default in zip(args.kwonlyargs, args.kw_defaults)
                      if default is None and arg.arg not in named]


def _bind_parameters(check: ast.FunctionDef, call: ast.Call) -> ast.stmt:
    """The setup statement that binds the check's other parameters as `call` would, for its body
    run at module level: `n, = (lambda candidate, n=3: (n,))(candidate)` (Python's own binding,
    so defaults, keywords, *args and **kwargs come out as in the call)."""
    names = _other_parameters(check.args)
    args = _without_annotations(check.args)
    values = ast.Tuple([ast.Name(name, ast.Load()) for name in names], ast.Load())
    binder = ast.Call(ast.Lambda(args, values), call.args, call.keywords)
    statement = ast.Assign([ast.Tuple([ast.Name(name, ast.Store()) for name in names], ast.Store())], binder)
    return ast.fix_missing_locations(ast.copy_location(statement, check))


def _without_annotations(args: ast.arguments) -> ast.arguments:
    """A copy of `args` fit for a lambda (which takes no annotations)."""
    def bare(arg: ast.arg | None) -> ast.arg | None:
        return None if arg is None else ast.arg(arg.arg)
    return ast.arguments([bare(a) for a in args.posonlyargs], [bare(a) for a in args.args], bare(args.vararg),
                         [bare(a) for a in args.kwonlyargs], args.kw_defaults, bare(args.kwarg), args.defaults)


def _is_check_call(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name) and node.value.func.id == "check")


def checked_names(tests: str) -> list[str]:
    """The names the tests' top-level `check(name)` calls pass (HumanEval's last line; in an
    `if __name__ == "__main__":` block too), as `plan_tests` reads them; [] when the tests do not parse."""
    try:
        tree = ast.parse(tests)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    return _check_call_arguments(_script_body(tree.body), bound_and_used([tree])[0])


def _check_call_arguments(body: list[ast.stmt], tests_bound: set[str]) -> list[str]:
    """The names top-level `check(name)` calls pass that the tests leave to the solution (a name the
    tests bind, as their own wrapper, is not one: see `_tests_candidate`)."""
    return [argument.id for argument in _check_call_values(body)
            if isinstance(argument, ast.Name) and argument.id not in tests_bound]


def _check_call_values(body: list[ast.stmt]) -> list[ast.expr]:
    """The first argument of each top-level `check(...)` call."""
    return [node.value.args[0] for node in body if _is_check_call(node) and node.value.args]


def _tests_candidate(body: list[ast.stmt], tests_bound: set[str]) -> ast.expr | None:
    """What the first top-level `check(...)` call passes when it is the tests' own object rather than a
    name left to the solution: a function the tests define (`check(validated)` after `def
    validated(xs): return is_valid(xs, sort_it(xs))`), a lambda or a call; None otherwise.

    `candidate` must then be that object: served by a solution's function of the same name, the
    tests' wrapper would never run, so an answer defining `validated = lambda xs: True` would pass.
    """
    values = _check_call_values(body)
    if not values or (isinstance(values[0], ast.Name) and values[0].id not in tests_bound):
        return None
    return values[0]


def _bind_candidate(param: str, wrapper: ast.expr) -> ast.stmt:
    """The setup statement `candidate = <what check(...) was given>`, at the `check(...)` call's line."""
    statement = ast.Assign([ast.Name(param, ast.Store())], wrapper)
    return ast.fix_missing_locations(ast.copy_location(statement, wrapper))


def _reject_free_checkers(tree: ast.AST, setup_tree: ast.AST, bindings: dict[str, str],
                          entry_point: str | None) -> None:
    """Raise ValueError when the tests assert what a name they neither define nor import says of a
    result of the solution (`assert isclose(area(2), 12.566)` with no `from math import isclose`): as
    a free name it would be the solution's, so an answer defining `isclose = lambda *a, **k: True`
    would pass every test. A free name whose result is compared instead (`assert decode(encode(s))
    == s`, a second function the task asks for) stays the solution's. Only with a known entry point:
    without one, which free name is the solution is not known."""
    if not entry_point:
        return
    entry_names = {name for name, target in bindings.items() if target == entry_point}
    for node in _asserted_calls([tree, setup_tree]):
        if not isinstance(node.func, ast.Name):
            continue
        name = node.func.id
        if name not in bindings or name in entry_names:
            continue
        arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
        if any(_calls_any(argument, entry_names) for argument in arguments):
            raise ValueError(f"the tests call {name!r} on the solution's result (line {node.lineno}: "
                             f"{ast.unparse(node)[:LABEL_LENGTH]}) but neither define nor import it, so "
                             f"the solution could define {name!r} and pass every test: import or define "
                             f"{name!r} in the tests (or the row's test imports / setup code)")


def _asserted_calls(trees: Sequence[ast.AST]):
    """The calls whose result an `assert` takes as its verdict: its condition, or a part of it under
    `not`, `and` and `or` (`assert ok(x)`, `assert not bad(x) and ok(y)`)."""
    conditions = [node.test for tree in trees for node in ast.walk(tree) if isinstance(node, ast.Assert)][::-1]
    while conditions:
        condition = conditions.pop()
        if isinstance(condition, ast.Call):
            yield condition
        elif isinstance(condition, ast.UnaryOp) and isinstance(condition.op, ast.Not):
            conditions.append(condition.operand)
        elif isinstance(condition, ast.BoolOp):
            conditions.extend(condition.values)


def _calls_any(node: ast.AST, names: set[str]) -> bool:
    """`node` holds a call of one of `names` (`area(2)` in `round(area(2), 3)`)."""
    return any(isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id in names
               for child in ast.walk(node))


def _shallow_walk(node: ast.AST):
    """`node` and the nodes under it, without entering nested definitions (which do not run there)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(child for child in ast.iter_child_nodes(current) if not isinstance(child, DEFINITIONS))


def _is_definition(statement: ast.stmt) -> bool:
    """A def, class or bare lambda: running it defines something and checks nothing."""
    return isinstance(statement, DEFINITIONS) or (isinstance(statement, ast.Expr)
                                                  and isinstance(statement.value, ast.Lambda))


#: Calls that fail a test without an assert: pytest's and unittest's `fail`, and `exit(1)`.
_FAILING_CALLS = frozenset({"fail", "exit", "_exit"})


def _can_fail(tree: ast.AST) -> bool:
    """True when the tests hold something that fails a wrong answer other than by an error: an
    `assert` or `raise` statement, a call of a function named `assert...` (`assertEqual`,
    `assert_allclose`) or `fail` / `exit` (`pytest.fail`, `sys.exit(1)`), or a call of a name the
    tests import (`check_eq` from a test helper module), anywhere in them."""
    imported = {(alias.asname or alias.name).split(".")[0] for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assert, ast.Raise)):
            return True
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name.startswith("assert") or name in _FAILING_CALLS or (isinstance(func, ast.Name) and name in imported):
                return True
    return False


def _has_assert(node: ast.AST) -> bool:
    """True when running `node` may run an assert of its own (asserts in nested definitions do not)."""
    return not _is_definition(node) and any(isinstance(child, ast.Assert) for child in _shallow_walk(node))


def _uses_any(node: ast.AST, names: set[str] | frozenset[str], walk=ast.walk) -> bool:
    """`node` names one of `names` anywhere under it (with `walk=_shallow_walk`: outside nested
    definitions, where it would run with `node`)."""
    return any(isinstance(child, ast.Name) and child.id in names for child in walk(node))


#: Builtins that look at a function without calling it (`callable(f)`, `isinstance(f, ...)`).
INTROSPECTION = frozenset({"callable", "isinstance", "issubclass", "hasattr", "getattr", "type", "id",
                           "vars", "dir"})


def _is_introspection(func: ast.expr) -> bool:
    """`func` (a called expression) only inspects what it is given: an `INTROSPECTION` builtin or
    anything in `inspect` (`inspect.signature`)."""
    if isinstance(func, ast.Name):
        return func.id in INTROSPECTION
    while isinstance(func, ast.Attribute):
        func = func.value
    return isinstance(func, ast.Name) and func.id == "inspect"


def _inspects(parent: ast.AST, child: ast.Name) -> bool:
    """`child`, a name under `parent`, is only looked at there, not run: `f.__name__`, or an
    argument of an introspection call (`callable(f)`)."""
    if isinstance(parent, ast.Attribute):
        return True
    return isinstance(parent, ast.Call) and child is not parent.func and _is_introspection(parent.func)


def _may_run(node: ast.AST, names: frozenset[str] | set[str]) -> bool:
    """`node` names one of `names` other than to inspect it (see `_inspects`): it calls it, passes it
    on (`map(f, xs)`, `check(f)`), or binds it to another name (`g = f`)."""
    return any(isinstance(child, ast.Name) and child.id in names and not _inspects(parent, child)
               for parent in ast.walk(node) for child in ast.iter_child_nodes(parent))


def _calls_directly(statement: ast.stmt, names: frozenset[str]) -> bool:
    """`statement` is a bare call of the solution itself (`f(-1)`, `candidate([])`)."""
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
            and isinstance(statement.value.func, ast.Name) and statement.value.func.id in names)


@dataclass(frozen=True)
class _Reach:
    """What in the tests reaches the solution: the names standing for it, and the helper functions
    the tests define whose bodies may run it (`using`, see `_may_run`) or assert (`asserting`),
    directly or through one another."""

    names: frozenset[str]
    using: frozenset[str]
    asserting: frozenset[str]

    def involves(self, statement: ast.stmt) -> bool:
        """Running `statement` may call the solution (a definition never does by itself; naming it
        only to inspect it, as in `assert callable(f)`, does not either)."""
        return not _is_definition(statement) and (_may_run(statement, self.names)
                                                  or _uses_any(statement, self.using))

    def checks(self, statement: ast.stmt) -> bool:
        """A checking statement: it asserts, or runs a helper that asserts, transitively (`for x in
        xs: t(x)`, `t1(1, 2)` after `def t1(x, y): assert add(x, y) == ...`), or it is a bare call
        of the solution itself (`f(-1)`). A call of a helper that only uses the solution (`show(1)`
        after `def show(x): print(f(x))`) is not, nor is assigning a value a helper computes from
        the solution (`y = compute(3)`): they are setup for the assert that follows."""
        if _is_definition(statement):
            return False
        return (_has_assert(statement) or _uses_any(statement, self.asserting, _shallow_walk)
                or _calls_directly(statement, self.names))


def _reach(trees: Sequence[ast.AST], names: set[str]) -> _Reach:
    """Find the tests' helper functions that reach the solution, following calls between them."""
    uses: dict[str, set[str]] = {}
    direct_use: set[str] = set()
    direct_assert: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                loaded = {child.id for statement in node.body for child in ast.walk(statement)
                          if isinstance(child, ast.Name)}
                uses.setdefault(node.name, set()).update(loaded)
                if any(_may_run(statement, names) for statement in node.body):
                    direct_use.add(node.name)
                if any(_has_assert(statement) for statement in node.body):
                    direct_assert.add(node.name)
    using, asserting = _closure(direct_use, uses), _closure(direct_assert, uses)
    return _Reach(frozenset(names), using, asserting)


def _closure(start: set[str] | frozenset[str], uses: dict[str, set[str]]) -> frozenset[str]:
    """`start` and every helper that uses (transitively) one of them."""
    found = set(start)
    grown = True
    while grown:
        grown = False
        for name, used in uses.items():
            if name not in found and used & found:
                found.add(name)
                grown = True
    return frozenset(found)


def _pytest_calls(body: list[ast.stmt], tree: ast.Module) -> list[ast.stmt]:
    """A call `test_x()` for each top-level pytest-style test the tests define but never use, so that
    it runs (as pytest would run it) and is scored; placed at the def's line for the unit's label."""
    loaded = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    calls: list[ast.stmt] = []
    for node in body:
        if (isinstance(node, ast.FunctionDef) and node.name.startswith("test_") and node.name not in loaded
                and not _required_arguments(node.args)):
            call = ast.Expr(ast.Call(ast.Name(node.name, ast.Load()), [], []))
            calls.append(ast.fix_missing_locations(ast.copy_location(call, node)))
    return calls


def _required_arguments(args: ast.arguments) -> bool:
    """True when a function with these arguments cannot be called without any (a pytest fixture)."""
    positional = len(args.posonlyargs) + len(args.args)
    return positional > len(args.defaults) or any(default is None for default in args.kw_defaults)


def _reject_test_classes(body: list[ast.stmt]) -> None:
    """Raise ValueError when the tests' checks sit in a class: test classes are not run, so such
    tests would check nothing (and pass every answer)."""
    for node in body:
        if isinstance(node, ast.ClassDef) and any(
                isinstance(child, ast.Assert) or (isinstance(child, ast.Attribute) and child.attr.startswith("assert"))
                for child in ast.walk(node)):
            raise ValueError(f"the tests' checks sit in class {node.name!r} (line {node.lineno}), and test "
                             "classes (unittest.TestCase, pytest classes) are not supported: write them as "
                             "top-level asserts, test_* functions or a check(candidate) function")


def _leading_imports(statements: list[ast.stmt]) -> list[ast.stmt]:
    """The import statements the tests begin with (MBPP's `test_imports`, an evalplus script's
    `import numpy as np`): setup, not part of the first unit. The setup runs before the solution's
    process is started, so an import that fails there is the tests' own failure (a setup error,
    `Verdict.failed`), never a failed test of the answer. Only a leading run of imports: they bind
    names and call nothing, so running them first changes nothing else (a `from __future__` import,
    which must open its module, stays where it is)."""
    count = 0
    for statement in statements:
        future = isinstance(statement, ast.ImportFrom) and statement.module == "__future__"
        if future or not isinstance(statement, (ast.Import, ast.ImportFrom)):
            break
        count += 1
    return statements[:count]


def _group_units(statements: list[ast.stmt], reach: _Reach) -> list[TestUnit]:
    """Scored units: each checking statement with the plain statements before it.

    What a checking statement is: see `_checking`. Groups that never touch the solution (`assert
    True, "..."` as in HumanEval) are not tests of it: they join the next group (the last one joins
    the previous), so they can never earn a score by themselves.
    """
    checking = _checking(statements, reach)
    groups: list[list[ast.stmt]] = []
    pending: list[ast.stmt] = []
    for statement in statements:
        pending.append(statement)
        if id(statement) in checking:
            groups.append(pending)
            pending = []
    if pending and groups:
        groups[-1].extend(pending)
    merged: list[list[ast.stmt]] = []
    carry: list[ast.stmt] = []
    for group in groups:
        if any(reach.involves(statement) for statement in group):
            merged.append(carry + group)
            carry = []
        else:
            carry += group
    if carry and merged:
        merged[-1].extend(carry)
    return [_unit(group, reach, checking) for group in merged]


def _checking(statements: list[ast.stmt], reach: _Reach) -> set[int]:
    """The ids of the checking statements among `statements` (see `_Reach.checks`).

    A bare call of the solution (`candidate(a)`) checks only that it does not raise, which every
    answer that does nothing passes; when a check of another kind follows it (`assert a == [1, 2,
    3]`, `assert pop() == 2`), that check is most likely what the call is for (its effect on an
    argument or on the solution's state), so the call is setup of that check's unit rather than a
    unit of its own: a free unit otherwise. Bare calls with no other check after them still count.
    """
    found = [statement for statement in statements if reach.checks(statement)]
    checked_later = False
    kept: set[int] = set()
    for statement in reversed(found):
        bare = _calls_directly(statement, reach.names)
        if not bare:
            checked_later = True
        if not bare or not checked_later:
            kept.add(id(statement))
    return kept


def _unit(group: list[ast.stmt], reach: _Reach, checking: set[int]) -> TestUnit:
    """The unit for `group`, labelled by its last checking statement that involves the solution, else
    its last checking statement (`assert a == [1, 2, 3]` after `candidate(a)`)."""
    checks = [s for s in group if id(s) in checking]
    labelled = [s for s in checks if reach.involves(s)] or checks or group
    text = ast.unparse(labelled[-1]).splitlines()[0]
    if len(text) > LABEL_LENGTH:
        text = text[: LABEL_LENGTH - 3] + "..."
    return TestUnit(ast.unparse(ast.Module(body=group, type_ignores=[])), f"line {labelled[-1].lineno}: {text}")


def _units_compile(units: list[TestUnit]) -> bool:
    for unit in units:
        try:
            compile(unit.source, "<unit>", "exec")
        except SyntaxError:
            return False
    return True


def bound_and_used(trees: Sequence[ast.AST]) -> tuple[set[str], set[str]]:
    """(bound, used): every name the `trees` bind anywhere in them (assignments, definitions,
    parameters, imports, `except ... as`, match captures), and every name they read. Shared with
    `code_extract`, which finds the helpers an answer's chosen block takes from earlier blocks."""
    used: set[str] = set()
    bound: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                (used if isinstance(node.ctx, ast.Load) else bound).add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound.add(node.name)
            elif isinstance(node, ast.arg):
                bound.add(node.arg)
            elif isinstance(node, ast.alias):
                bound.add((node.asname or node.name).split(".")[0])
            elif isinstance(node, ast.ExceptHandler) and node.name:
                bound.add(node.name)
            elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
                bound.add(node.name)
            elif isinstance(node, ast.MatchMapping) and node.rest:
                bound.add(node.rest)
    return bound, used


def _free_names(tree, setup_tree, param, entry_point) -> tuple[dict[str, str], tuple[str, ...]]:
    """Names the tests use but never define: common modules, else the solution's functions."""
    bound, used = bound_and_used([tree, setup_tree])
    free = used - bound - BUILTIN_NAMES
    modules = tuple(sorted(name for name in free if name in MODULES))
    bindings = {name: name for name in sorted(free - set(modules))}
    if param is not None:
        bindings[param] = entry_point or ""
    if entry_point and "candidate" in bindings:
        bindings["candidate"] = entry_point
    return bindings, modules
