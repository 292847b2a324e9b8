"""Turning a problem's tests into separately scored units, on the host, before anything runs.

`check_function` scores the fraction of tests passed, so the tests have to be split into units:

* MBPP style (top-level asserts, or a list of assert strings): each assert statement (or bare call
  of a helper that involves the solution) is a unit, together with the plain statements just before
  it (the setup it needs); trailing statements join the last unit. Units that never touch the
  solution (HumanEval's `assert True, "..."`) join a neighbour: they must not score on their own.
* HumanEval style (`def check(candidate): ...`): the same split applied to the body of `check`,
  run at module level with `candidate` bound. A body that cannot run that way (it uses `return`,
  `nonlocal`, `yield` ...) or holds no assert is one unit, `check(candidate)`.

The plan also says which names in the tests stand for the solution's functions: names the tests
use but never define, that are neither builtins nor common modules. Deciding this here, from the
trusted tests alone, means the solution cannot claim names such as `set` or `sorted` for itself.
Tests that do not parse, or hold nothing to check, are bad input and raise ValueError.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field
from typing import Sequence

from rlvr.verifiers.code_harness import MODULES

__all__ = ["TestUnit", "TestPlan", "plan_tests", "solution_functions"]

BUILTIN_NAMES = frozenset(dir(builtins)) | {"__name__", "__file__", "__doc__", "__builtins__"}
LABEL_LENGTH = 100


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

    def payload(self) -> dict:
        return {"setup": self.setup, "units": [{"source": u.source, "label": u.label} for u in self.units],
                "bindings": dict(self.bindings), "modules": list(self.modules)}


def solution_functions(tree: ast.Module) -> list[str]:
    """Names of the functions a parsed solution defines at top level, in order."""
    return [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


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
    (`solution_defines`).
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
    check = _find_check(tree)
    setup_nodes = list(setup_tree.body)
    param = check.args.args[0].arg if check is not None else None
    if check is not None:
        called = _check_call_arguments(tree)
        if entry_point is None and called:
            entry_point = called[0]
    if entry_point is None and solution_defines and (param is not None or _uses(tree, "candidate")):
        entry_point = list(solution_defines)[-1]
    bindings, modules = _free_names(tree, setup_tree, param, entry_point)
    solution_names = set(bindings)
    if not _uses_any(check if check is not None else tree, solution_names):
        raise ValueError("the tests never use the solution (no call of `candidate` or of a function "
                         "they do not define), so every answer would pass: fix the dataset's tests")
    if check is None:
        units = _group_units(tree.body, solution_names)
    else:
        setup_nodes += [node for node in tree.body if node is not check and not _is_check_call(node)]
        units = _group_units(check.body, solution_names)
        if not units or not _units_compile(units):
            setup_nodes.append(check)
            units = [TestUnit(f"{check.name}({param})", f"line {check.lineno}: {check.name}({param})")]
    if not units:
        raise ValueError("the tests hold no assert statement that uses the solution and no "
                         "check(candidate) function, so nothing would be checked: give asserts (MBPP) "
                         "or a check function (HumanEval)")
    setup = ast.unparse(ast.Module(body=setup_nodes, type_ignores=[])) if setup_nodes else ""
    return TestPlan(setup=setup, units=tuple(units), bindings=bindings, modules=modules,
                    entry_point=entry_point)


def _tests_source(tests: str | Sequence[str]) -> str:
    if isinstance(tests, str):
        return tests
    if isinstance(tests, (list, tuple)) and all(isinstance(t, str) for t in tests):
        return "\n".join(tests)
    raise ValueError(f"tests must be Python source or a list of assert strings, got {type(tests).__name__}")


def _find_check(tree: ast.Module) -> ast.FunctionDef | None:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "check" and node.args.args:
            return node
    return None


def _is_check_call(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name) and node.value.func.id == "check")


def _check_call_arguments(tree: ast.Module) -> list[str]:
    return [node.value.args[0].id for node in tree.body
            if _is_check_call(node) and node.value.args and isinstance(node.value.args[0], ast.Name)]


def _has_assert(node: ast.AST) -> bool:
    return any(isinstance(child, ast.Assert) for child in ast.walk(node))


def _uses_any(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(child, ast.Name) and child.id in names for child in ast.walk(node))


def _group_units(statements: list[ast.stmt], solution_names: set[str]) -> list[TestUnit]:
    """Scored units: each checking statement with the plain statements before it.

    A checking statement holds an assert, or is a bare call that involves the solution (a test
    helper that asserts inside). Groups that never touch the solution (`assert True, "..."` as in
    HumanEval) are not tests of it: they join the next group (the last one joins the previous), so
    they can never earn a score by themselves.
    """
    groups: list[list[ast.stmt]] = []
    pending: list[ast.stmt] = []
    for statement in statements:
        pending.append(statement)
        if _has_assert(statement) or (isinstance(statement, ast.Expr) and _uses_any(statement, solution_names)):
            groups.append(pending)
            pending = []
    if pending and groups:
        groups[-1].extend(pending)
    merged: list[list[ast.stmt]] = []
    carry: list[ast.stmt] = []
    for group in groups:
        if any(_uses_any(statement, solution_names) for statement in group):
            merged.append(carry + group)
            carry = []
        else:
            carry += group
    if carry and merged:
        merged[-1].extend(carry)
    result = []
    for group in merged:
        checking = [s for s in group if _uses_any(s, solution_names)
                    and (_has_assert(s) or isinstance(s, ast.Expr))] or group
        text = ast.unparse(checking[-1]).splitlines()[0]
        if len(text) > LABEL_LENGTH:
            text = text[: LABEL_LENGTH - 3] + "..."
        result.append(TestUnit(ast.unparse(ast.Module(body=group, type_ignores=[])),
                               f"line {checking[-1].lineno}: {text}"))
    return result


def _units_compile(units: list[TestUnit]) -> bool:
    for unit in units:
        try:
            compile(unit.source, "<unit>", "exec")
        except SyntaxError:
            return False
    return True


def _uses(tree: ast.AST, name: str) -> bool:
    return any(isinstance(node, ast.Name) and node.id == name for node in ast.walk(tree))


def _bound_and_used(trees: Sequence[ast.AST]) -> tuple[set[str], set[str]]:
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
    bound, used = _bound_and_used([tree, setup_tree])
    free = used - bound - BUILTIN_NAMES
    modules = tuple(sorted(name for name in free if name in MODULES))
    bindings = {name: name for name in sorted(free - set(modules))}
    if param is not None:
        bindings[param] = entry_point or ""
    if entry_point and "candidate" in bindings:
        bindings["candidate"] = entry_point
    return bindings, modules
