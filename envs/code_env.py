"""`rlvr/Code-v0`: programming tasks scored by unit tests in the sandbox.

Recognised layouts (no keys needed):

- HumanEval: `prompt` (signature + docstring), `test` (defines `check(candidate)`), `entry_point`
  (optional: when the column is absent or null, the function `check(name)` names or the prompt leaves
  unfinished; a row where neither names one is refused before a prose prompt, column or not).
  A body-only answer indented unlike the prompt is re-indented to its body (`fitted_body`).
- MBPP: `text` or `prompt` (the description), `test_list` (assert lines, each scored as one
  test), optional `test_setup_code` and `test_imports`; the entry point is read from the first
  assert (the first function it calls that is neither a builtin nor bound by the imports and setup).
- stdin/stdout: a description (`question`, `problem`, `description` or `prompt`) and either
  `inputs`/`outputs` lists or an `input_output` JSON string holding them (APPS layout); the
  program's output is compared token by token (whitespace-tolerant; `exact=` or
  `float_tolerance=` change that), see `check_io`.
- APPS call-based: an `input_output` JSON string with an `fn_name` key (and optional
  `starter_code` column). Each case calls `fn_name(*inputs[k])` and compares the return value with
  `outputs[k]` as APPS does (tuples read as lists; an expected value wrapped in a one-item list also
  matches the bare value; with `float_tolerance`, an expected float, in lists and dicts too, matches a
  number within it, as for stdin/stdout). A LeetCode-style `class Solution` answer is called as
  `Solution().fn_name(...)`, and a call-based answer finds the `typing` names in its module before
  it runs, as on LeetCode (its starter code uses `List[int]` without importing it; the tests ask for
  them with `TYPING_NAMES_PRAGMA`, and the answer's text, hence its line numbers, stays its own). A
  dataset may mix these rows with stdin/stdout ones.

The model's program is found by `extract_program`: for function tasks the last fenced block that
defines the entry point (so a usage example after the solution is skipped, and a later block that
redefines the function wins, even a broken one); for stdin/stdout tasks the last block that parses and
calls anything (sample input/output blocks do not); else the last fenced block (or the whole
answer); helpers and imports it uses from other blocks, earlier or later, come with it. For
HumanEval tasks a completion that only writes the function body is appended to the
prompt; a whole function comes after the prompt, less the prompt's `def` line when that is a bare
signature (no docstring body); the answer's opening `from __future__` imports are moved above the
prompt, where Python requires them (`split_future_imports`). What a HumanEval prompt defines besides the entry point (helpers such as `encode_shift` or
`poly`, constants, with their imports) is the dataset's code: it is put before the tests (which then
use it, not the answer's version) and run again after the answer's code, so an answer that
redefines a helper the tests build expected values with cannot pass by it. The prompt is the dataset's
code, not the answer's: the program carries it apart (`Program`), and when the program fails to
load, the verifier loads the prompt alone; if that fails too (an import of a module the sandbox's
Python lacks, such as `import numpy as np`, or a bug of the prompt's own), the verdict is a
`setup_error` (unverified), never the answer's failure. Without `dataset=` a small built-in HumanEval-layout set is used.

An answer that holds no code (`holds_no_code`: empty, only comments, `pass`, `...` or string
literals, or prose in which nothing reads as Python) is not run: it scores 0, kind "no_code". The
outcome is the fraction of tests passed; with `partial_credit=False` it is 1 when every test passes
and 0 otherwise (`credit`; the verdict keeps the fraction in its details as "partial_score").

A row that could not be scored raises `DatasetError` naming the row when the env is built, not at
every step: empty tests (an APPS row with an empty `input_output`: "row i has no tests", with how
to drop such rows), a `test_setup_code` or `test_imports` that does not parse (named as such), an `entry_point` that is not a function name or is not the function the
prompt asks for, tests the verifier refuses (`plan_tests`: tests that do not parse, never use the
solution, or assert nothing), stdin/stdout cases of unequal count, null (which would read
"None") or holding a mapping or nested list (its repr), or all expecting no output (a program printing nothing would pass),
and MBPP asserts or setup code that build objects of a class the row's reference defines (MBPP/601's `Pair`,
`answer_class_call`: its instances cannot leave the sandbox, so a right answer would fail; every
such row is named at once, with how to drop them). A HumanEval row with a null `entry_point` takes the one its tests name (`check(add)`) or
else the function its prompt asks for; with neither, it is refused before a prompt that is not code
(every answer would follow prose), with or without an `entry_point` column (`_inferred_entry_point`). Each distinct row's tests are planned once per process
(`_plan_error`), so the envs of a vector env do not plan them again.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import hashlib
import json
import keyword
import re
import textwrap
from typing import Any

from rlvr.envs.base import Setting, SingleTurnEnv
from rlvr.envs.samples import CODE_SAMPLES
from rlvr.envs.tasks import DatasetError, ListSource, Task, load_table, require_column, row_text, task_ids
from rlvr.sandbox import check_backend
from rlvr.verifiers.code_answer import compiles, fitted_body
from rlvr.verifiers.code_extract import extract_code, extract_program, split_future_imports
from rlvr.verifiers.code_plan import (TYPING_NAMES_PRAGMA, Program, bound_names, checked_names, entry_def,
                                     is_stub_statement, plan_tests, prompt_definitions, prompt_head)
from rlvr.verifiers.verdict import Verdict


HUMANEVAL_PROMPT = "Complete the following Python function. Write the whole function in a ```python code block.\n\n```python\n{question}```"
MBPP_PROMPT = "{question}\nYour code should pass tests like this one:\n{example}\nWrite the function in a ```python code block."
IO_PROMPT = "{question}\n\nWrite a Python program that reads from standard input and prints the answer. Put it in a ```python code block."
CALL_PROMPT = ("{question}\n\nWrite a Python function `{fn_name}` that returns the answer (the tests call it with the "
               "arguments; it does not read input or print). Put it in a ```python code block.")
CALL_STARTER_PROMPT = ("{question}\n\nComplete this code (the tests call `{fn_name}` with the arguments and check what it "
                       "returns; it does not read input or print):\n```python\n{starter}\n```\n"
                       "Write the whole solution in a ```python code block.")
#: Test-side helpers of a call-based (APPS `fn_name`) task: APPS's comparison of a return value.
CALL_TESTS_SETUP = '''\
def _plain(value):
    """Tuples as lists, all the way down: the expected values come from JSON, which has no tuples."""
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


#: The env's float_tolerance: `CodeEnv.function_options` binds it in setup code that runs before these
#: tests; None (not bound): return values compare exactly, as APPS compares them.
_FLOAT_TOLERANCE = globals().get("_FLOAT_TOLERANCE")


def _finite_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value - value == 0


def _close(got, want):
    """got == want, except that with _FLOAT_TOLERANCE an expected float (in lists and dicts too)
    matches a finite number that differs by that much relatively, or absolutely below 1, as
    check_io's float_tolerance reads an expected decimal: |got - want| <= tol * max(1, |want|).
    Integers, strings and the rest compare exactly."""
    if _FLOAT_TOLERANCE is None or got == want:
        return got == want
    if isinstance(want, float) and _finite_number(want) and _finite_number(got):
        try:
            return abs(got - want) <= _FLOAT_TOLERANCE * max(1.0, abs(want))
        except OverflowError:  # an int too large for a float (10 ** 400): no float is near it
            return False
    if isinstance(want, list) and isinstance(got, list):
        return len(got) == len(want) and all(_close(a, b) for a, b in zip(got, want))
    if isinstance(want, dict) and isinstance(got, dict):
        return got.keys() == want.keys() and all(_close(got[key], want[key]) for key in want)
    return False


def _same(got, want):
    """APPS's check: equal (`_close`), or equal to the expected value unwrapped from its one-item list."""
    got = _plain(got)
    return _close(got, want) or (isinstance(want, list) and len(want) == 1 and _close(got, want[0]))
'''
#: The setup code that gives call-based tests the env's float_tolerance (`CALL_TESTS_SETUP`).
FLOAT_TOLERANCE_SETUP = '_FLOAT_TOLERANCE = float("{tolerance!r}")\n'


_BUILTIN_NAMES = frozenset(dir(builtins))
#: The share of `timeout` one call of a function-completion answer may take when `call_timeout` is
#: not given: a call that hangs leaves half the time to the tests after it, and a right answer's one
#: heavy call (a few seconds of a 10 s limit, as APPS allows about 4 s a case) still passes.
CALL_TIMEOUT_SHARE = 0.5


def _as_text(value: Any) -> str:
    """A stdin/stdout case as text: strings as they are, lists of lines joined, others str()."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return "\n".join(map(str, value)) + "\n"
    return str(value)


def _mbpp_entry_point(tests: list[str], setup: str = "") -> str | None:
    """The function MBPP's asserts test: the first function they call by a plain name that is
    neither a builtin nor bound by the tests' own code (`setup`: the row's `test_imports` and
    `test_setup_code`), as `plan_tests` reads them: `assert set(similar_elements(...)) == ...`
    tests `similar_elements`, and `assert isclose(area(2), 12.566)` tests `area` (a comparison
    helper, `_CHECKERS`, wrapping another call is skipped), whether or not the row imports
    `isclose`: when it does not, `plan_tests` refuses the row rather than let the answer define
    `isclose` itself. Any other call is the row's own even when it wraps one (`assert
    decode(encode("ab")) == "ab"` tests `decode`, not `encode`)."""
    own = _BUILTIN_NAMES | bound_names(setup, *tests)
    for line in tests:
        try:
            tree = ast.parse(line)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        calls = sorted((node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id not in own), key=lambda node: (node.lineno, node.col_offset))
        tested = [call for call in calls if not (call.func.id in _CHECKERS and _wraps_any(call, calls))]
        if tested:
            return tested[0].func.id
    return None


#: Comparison helpers an MBPP assert may wrap the tested call in (`isclose(area(2), 12.566)`).
_CHECKERS = frozenset({"isclose", "allclose", "approx", "almost_equal", "assertAlmostEqual", "assert_almost_equal",
                       "assert_allclose", "array_equal", "assert_array_equal", "assert_array_almost_equal"})


def _wraps_any(call: ast.Call, calls: list[ast.Call]) -> bool:
    """Whether one of `calls` sits in `call`'s arguments: `isclose` in `isclose(area(2), 12.566)`,
    a checker (here one the row never imports) rather than the function the row asks for."""
    inside = {id(node) for argument in [*call.args, *(named.value for named in call.keywords)]
              for node in ast.walk(argument)}
    return any(id(other) in inside for other in calls if other is not call)


#: Bases that make a class's instances plain data the sandbox passes on (as the base type: the
#: harness's `_encode_lenient` reads subclasses of int, float, str, tuple, list, dict and set as
#: those), by the name the class statement spells them with (`list`, `collections.OrderedDict`,
#: `typing.List[int]`). Subclasses of complex, bytes, Fraction, Decimal or deque do not cross (the
#: harness takes those types only exactly), so they are not listed; nor are named tuples
#: (`namedtuple('P', 'x y')`, `typing.NamedTuple`), which cross as bare tuples without the field
#: names the reference reads (`p.x`), nor enums (one with members adds them: `_adds_nothing`).
_PLAIN_BASES = frozenset({"int", "float", "str", "tuple", "list", "dict", "set", "frozenset",
                          "TypedDict", "Counter", "OrderedDict", "defaultdict",
                          "List", "Dict", "Set", "FrozenSet", "Tuple", "DefaultDict"})
#: Factories of named tuples, for the assignment form `Point = namedtuple('Point', 'x y')`, which
#: binds a class no `class` statement shows (a class with a NamedTuple or namedtuple(...) base is
#: refused as any class whose base is not in `_PLAIN_BASES`).
_FIELDED = frozenset({"namedtuple", "NamedTuple"})


def answer_class_call(tests: list[str], setup: str, reference: Any) -> tuple[str, str, str] | None:
    """(class, column, line) when an MBPP row's asserts (`test_list`) or setup code
    (`test_setup_code`) build objects of a class the answer must define, else None: MBPP/601's
    `assert max_chain_length([Pair(5, 24), ...], 4) == 3`, MBPP/927's setup `root = Node(1)`. The
    tests run apart from the answer and only plain data crosses between them, so the answer's
    `Pair(5, 24)` cannot come back to the tests: a right answer (the row's reference) fails every
    such assert as a valid verdict, while one dodging the class (`def Pair(a, b): return (a, b)`)
    passes. The evidence is the row's reference solution (`reference`, MBPP's `code`) alone: the
    name must be a class it defines at top level (a last binding, not a function, lambda or other
    assignment: a `namedtuple(...)` assignment counts as a class) whose instances are not plain data
    (`_PLAIN_BASES`: `class Vec(list)` crosses as a list). That holds when the tests call the class
    itself (`assert Money(3).double() == 6`: the `Money` object cannot come back either). A row
    without a reference that parses is never refused: a name spelled as a class (`Split(Split(xs))`)
    may as well be a function.
    Shared by Code-v0 (which refuses such rows) and the mbpp benchmark (which skips them)."""
    classes = _reference_classes(reference)
    if not classes:
        return None
    own = _BUILTIN_NAMES | bound_names(setup, *tests)
    for column, source in [*(("test_list", line) for line in tests), ("test_setup_code", setup)]:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in classes
                    and node.func.id not in own):
                return node.func.id, column, _line_of(source, node)
    return None


def _line_of(source: str, node: ast.AST) -> str:
    """The line of `source` where `node` starts (all of `source` when lines are counted otherwise
    than `str.splitlines` counts them: a form feed or a lone carriage return)."""
    lines = source.splitlines()
    return lines[node.lineno - 1] if len(lines) == source.count("\n") + (not source.endswith("\n")) else source


def _reference_classes(reference: Any) -> set[str]:
    """The names a row's reference solution leaves bound to a class of its own at top level, one
    whose instances cannot leave the sandbox (none when it is missing or does not parse): a later
    `def`, assignment or import of the name rebinds it, and a class with a plain-data base
    (`_PLAIN_BASES`, or such a class of the reference) passes on as that data."""
    try:
        tree = ast.parse(reference) if isinstance(reference, str) else None
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree = None
    classes: dict[str, bool] = {}  # name -> whether its instances are plain data
    for node in tree.body if tree is not None else []:
        if isinstance(node, ast.ClassDef):
            classes[node.name] = _adds_nothing(node) and any(
                _base_name(base) in _PLAIN_BASES or classes.get(_base_name(base)) for base in node.bases)
            continue
        for name in _top_level_bindings(node):
            classes.pop(name, None)
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and _base_name(node.value) in _FIELDED):  # `Point = namedtuple('Point', 'x y')`
            classes.update((target.id, False) for target in node.targets if isinstance(target, ast.Name))
    return {name for name, plain in classes.items() if not plain}


def _adds_nothing(node: ast.ClassDef) -> bool:
    """Whether a class's body adds nothing its plain-data base would lose when its instances cross
    the sandbox as that base (`class Vec(list): pass`): only a docstring, `pass`, `__slots__` or
    annotations (a TypedDict's keys). A method or attribute (`def norm1(self)`, an enum's members)
    would be gone on the other side, where the reference's `v.norm1()` fails."""
    for stmt in node.body:
        if isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
            continue
        if isinstance(stmt, ast.AnnAssign) and stmt.value is None:
            continue
        if isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) and t.id == "__slots__" for t in stmt.targets):
            continue
        return False
    return True


def _top_level_bindings(node: ast.stmt) -> set[str]:
    """The names a top-level statement other than a class binds at module level: a def's name, an
    assignment's or import's names, and those bound in an `if`, `for`, `with` or `try` block (not the
    parameters and locals inside a function, which leave the module's names alone)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return {node.name}
    names: set[str] = set()
    stack: list[ast.AST] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(item.name)
            continue
        if isinstance(item, ast.Lambda):
            continue
        if isinstance(item, ast.Name) and isinstance(item.ctx, ast.Store):
            names.add(item.id)
        elif isinstance(item, ast.alias):
            names.add((item.asname or item.name).split(".")[0])
        stack.extend(ast.iter_child_nodes(item))
    return names


def _base_name(base: ast.expr) -> str | None:
    """The name a class base is spelled with: `list`, `collections.OrderedDict` -> OrderedDict,
    `namedtuple('P', 'x y')` -> namedtuple, `typing.List[int]` -> List."""
    if isinstance(base, ast.Subscript):
        base = base.value
    if isinstance(base, ast.Call):
        base = base.func
    if isinstance(base, ast.Attribute):
        return base.attr
    return base.id if isinstance(base, ast.Name) else None


def _refuse_class_rows(found: list[tuple[int, str, str, str, str]]) -> None:
    """Raise DatasetError for the MBPP rows whose tests build objects of a class the answer must
    define (`found`: (row, task id, class, column, line); see `answer_class_call`), naming them all
    and how to drop them."""
    if not found:
        return
    i, task_id, name, column, line = found[0]
    rows = [row for row, *_ in found]
    others = f"; rows {', '.join(map(str, rows))} are so" if len(rows) > 1 else ""
    what = "its asserts build" if column == "test_list" else "its setup code builds"
    raise DatasetError(
        f"row {i} (task {task_id!r}): column {column!r} cannot be scored: {what} {name} objects "
        f"({line.strip()[:100]}), a class the answer must define, whose instances cannot leave the sandbox "
        f"(only plain data crosses to the tests), so a right answer would fail them{others}; drop such rows "
        f"before building the env (with datasets: ds.filter(lambda row, i: i not in {set(rows)}, with_indices=True))")


def _is_function_name(name: Any) -> bool:
    """True for a string that can name a Python function ("add"; not "", "ad d" or "def")."""
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)


#: What `_plan_error` found for each distinct row: (digest of its tests, entry point) -> error or
#: None. Keyed by a digest, so a dataset's test strings (megabytes in HumanEval+) are not kept alive.
_PLANNED: dict[tuple[bytes, str | None], str | None] = {}


def _plan_error(tests: str, entry_point: str | None) -> str | None:
    """Why `check_function` would refuse these tests at every step (they do not parse, never use the
    solution as `assert True` does, or assert nothing), or None. Planned once per distinct row in
    a process: the envs of a vector env build the same rows, and planning costs about a
    millisecond a row."""
    key = (hashlib.blake2b(tests.encode("utf-8", "surrogatepass"), digest_size=16).digest(), entry_point)
    if key not in _PLANNED:
        try:
            plan_tests(tests, entry_point)
            _PLANNED[key] = None
        except ValueError as exc:
            _PLANNED[key] = str(exc)
    return _PLANNED[key]


def _code_lines(i: int, column: str, value: Any) -> list[str]:
    """An MBPP row's `column` as its non-blank lines of code: a string, or a list of strings (null:
    none). Anything else raises DatasetError naming the row, the column and the item, since a
    number among the asserts was dropped without a word, and one as `test_setup_code` raised a
    TypeError naming nothing."""
    if value is None or isinstance(value, str):
        return [value] if value and value.strip() else []
    if not isinstance(value, (list, tuple)):
        raise DatasetError(f"row {i}: column {column!r} must be a string or a list of strings, got "
                           f"{type(value).__name__} ({value!r:.80})")
    for k, item in enumerate(value):
        if not isinstance(item, str):
            raise DatasetError(f"row {i}: column {column!r} item {k} must be a line of code (a string), got "
                               f"{type(item).__name__} ({item!r:.80})")
    return [item for item in value if item.strip()]


def _check_tests(i: int, task_id: Any, column: str, tests: str, entry_point: str | None) -> None:
    """Raise DatasetError naming row `i` (task `task_id`) when the verifier would refuse its tests
    (`_plan_error`)."""
    error = _plan_error(tests, entry_point)
    if error is not None:
        raise DatasetError(f"row {i} (task {str(task_id)!r}): column {column!r} cannot check a solution: {error}")


def _check_mbpp_parts(i: int, task_id: Any, parts: list[tuple[str, list[str]]], code: str,
                      entry_point: str | None) -> None:
    """`_check_tests` for an MBPP row whose tests `code` are its columns' lines joined in order
    (`parts`: (column, its lines)): a syntax error is blamed on the column its line comes from, so a
    broken `test_setup_code` or `test_imports` is named as such, not as the asserts."""
    if _plan_error(code, entry_point) is None:
        return
    try:
        ast.parse(code)
    except SyntaxError as exc:
        line = exc.lineno or 0
        for column, lines in parts if line >= 1 else []:
            size = sum(item.count("\n") + 1 for item in lines)
            if line <= size:
                if column != "test_list":
                    raise DatasetError(f"row {i} (task {str(task_id)!r}): column {column!r} does not parse "
                                       f"({exc.msg}, its line {line}): fix the row's {column}") from None
                break
            line -= size
    except (ValueError, RecursionError, MemoryError):
        pass  # null bytes, absurd nesting: reported below as the tests'
    _check_tests(i, task_id, "test_list", code, entry_point)


_TOP_LEVEL_DEF = re.compile(r"^(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)", re.MULTILINE)


def _asked_function(prompt: str) -> str | None:
    """The function a HumanEval-style prompt asks for: its last top-level `def` when that is left for
    the answer to finish (a bare signature, or a body of only a docstring, `pass` or `...`); None
    when the prompt defines no such function (prose, or only finished helpers)."""
    names = _TOP_LEVEL_DEF.findall(prompt)
    if not names:
        return None
    try:
        tree = ast.parse(prompt)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return names[-1]  # a bare signature (or a body cut off): open for the answer
    defs = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not defs or defs[-1].name != names[-1]:
        return None
    return names[-1] if all(map(is_stub_statement, defs[-1].body)) else None


def _entry_point(i: int, task_id: Any, prompt: str, tests: str, entry: Any, column: bool = True) -> str | None:
    """The entry point of HumanEval-layout row `i`: the row's own, checked against the function the
    prompt asks for, or when null (or without the column) the one the tests name (`check(add)`) or
    the prompt asks for (`_inferred_entry_point`)."""
    asked = _asked_function(prompt)
    if entry is None:
        return _inferred_entry_point(i, task_id, prompt, tests, asked, column)
    if not _is_function_name(entry):  # the verifier would refuse it at every step
        raise DatasetError(f"row {i}: column 'entry_point' must be the name of the function the tests check "
                           f"(a Python identifier like 'add'), got {entry!r:.80}")
    if asked is not None and asked != entry and entry_def(prompt, entry) is None:
        raise DatasetError(f"row {i}: column 'entry_point' is {entry!r}, but the prompt asks for the function "
                           f"{asked!r}: a right answer would define {asked!r} and fail the tests")
    return entry


def _inferred_entry_point(i: int, task_id: Any, prompt: str, tests: str, asked: str | None, column: bool) -> str | None:
    """The entry point of HumanEval-layout row `i` without one of its own: the function its tests
    name (`check(add)`), else the one its prompt leaves unfinished (`asked`). When neither names one,
    the answer runs after the prompt as its own code, and the tests (plain asserts) check what it
    defines: refused only when the prompt is no Python (prose: "Write add(a, b)."), which would make
    every answer, right ones too, fail to parse; a comment or code prompt is kept, whether the table
    has no 'entry_point' column (`column` False) or a null one."""
    named = checked_names(tests)
    if named or asked is not None:
        return named[0] if named else asked
    if _takes_code_after(prompt):
        return None
    where = f"row {i} (task {str(task_id)!r})"
    cannot = ("the tests call no check(name) and the prompt leaves no function unfinished), and the prompt is not "
              "Python code, which goes before every answer: no answer could pass;")
    if not column:
        raise DatasetError(f"{where}: the table has no 'entry_point' column and the entry point cannot be inferred "
                           f"({cannot} add an 'entry_point' column naming the function the tests call")
    raise DatasetError(f"{where}: column 'entry_point' is null and cannot be inferred ({cannot} set the row's "
                       f"'entry_point' to the function the tests call")


def _takes_code_after(prompt: str) -> bool:
    """Whether Python code can follow `prompt`: it compiles (code, comments), or does once a body is
    put after its last line (a bare `class Stack:`); not prose, which no answer after it fixes."""
    last = prompt.rstrip().rsplit("\n", 1)[-1]
    return compiles(prompt) or compiles(prompt.rstrip() + "\n" + last[:len(last) - len(last.lstrip())] + "    pass\n")


def _io_rows(table: Any) -> list[dict[str, Any]]:
    """Each row's {"inputs", "outputs"} (and APPS's "fn_name", when it has one)."""
    if "input_output" not in table.columns:
        return [{"inputs": a, "outputs": b} for a, b in zip(table.column("inputs"), table.column("outputs"))]
    rows, empty = [], []
    for i, blob in enumerate(table.column("input_output")):
        try:
            data = json.loads(blob) if isinstance(blob, str) and blob.strip() else blob
            if _holds_nothing(data):
                empty.append(i)  # no tests at all (APPS has such rows)
                continue
            rows.append({"inputs": data["inputs"], "outputs": data["outputs"], "fn_name": data.get("fn_name")})
        except (ValueError, KeyError, TypeError, AttributeError):
            raise DatasetError(f"row {i}: 'input_output' must be JSON like {{\"inputs\": [...], \"outputs\": [...]}}") from None
    if empty:
        others = f" ({len(empty)} rows are so: {', '.join(map(str, empty[:10]))}{', ...' if len(empty) > 10 else ''})"
        raise DatasetError(f"row {empty[0]} has no tests: its 'input_output' is empty{others if len(empty) > 1 else ''}; "
                           "drop such rows before building the env (with datasets: "
                           "ds.filter(lambda row: bool((row['input_output'] or '').strip())))")
    return rows


def _holds_nothing(data: Any) -> bool:
    """Whether an `input_output` value is empty: null, blank text, or JSON null / "" / {} / []."""
    if isinstance(data, str):
        return not data.strip()
    return data is None or (isinstance(data, (dict, list)) and not data)


def _check_cases(i: int, ins: Any, outs: Any) -> None:
    """Raise DatasetError unless `ins` and `outs` are non-empty lists of the same length."""
    if not (isinstance(ins, (list, tuple)) and isinstance(outs, (list, tuple)) and ins and len(ins) == len(outs)):
        raise DatasetError(f"row {i}: inputs and outputs must be non-empty lists of the same length "
                           f"(got {type(ins).__name__} and {type(outs).__name__})")


_SCALAR_CASE = (str, int, float)


def _check_io_texts(i: int, kind: str, values: Any) -> None:
    """Raise DatasetError on a stdin/stdout case `_as_text` cannot write as the text it stands for:
    a null case (or null line of one) would be the text "None", and a mapping or a nested list
    its Python repr ("{'n': 3}"), so a right program would read that, fail the case and score as
    wrong. A case is text, a number, or a list of lines that are each text or a number."""
    for k, value in enumerate(values):
        if value is None or (isinstance(value, (list, tuple)) and any(line is None for line in value)):
            raise DatasetError(f"row {i}: {kind[:-1]} {k} is null; every stdin/stdout case needs its input and "
                               f"expected output as text (fix the row or drop it)")
        lines = value if isinstance(value, (list, tuple)) else [value]
        odd = next((line for line in lines if not isinstance(line, _SCALAR_CASE)), None)
        if odd is not None:
            raise DatasetError(f"row {i}: {kind[:-1]} {k} holds a {type(odd).__name__} ({str(odd)[:40]!r}); a "
                               "stdin/stdout case is text, a number, or a list of lines (text or numbers), "
                               "so write it out as the text the program reads or prints")


def _io_task(i: int, task_id: str, question: str, data: dict[str, Any], starter: Any) -> Task:
    """A stdin/stdout task: (input, expected output) text pairs."""
    _check_cases(i, data["inputs"], data["outputs"])
    for kind in ("inputs", "outputs"):
        _check_io_texts(i, kind, data[kind])
    cases = [(_as_text(a), _as_text(b)) for a, b in zip(data["inputs"], data["outputs"])]
    if not any(expected.strip() for _, expected in cases):  # compared up to surrounding blank space
        raise DatasetError(f"row {i}: every stdin/stdout case expects no output, so a program that prints "
                           "nothing would pass them all; give at least one case with its expected output")
    return Task(task_id, question, cases, {"kind": "io"})


def _literal(value: Any) -> str:
    """Python source for a JSON value: its repr, or json.loads of its JSON for what repr cannot
    write back (infinite floats)."""
    text = repr(value)
    try:
        ast.literal_eval(text)
        return text
    except (ValueError, SyntaxError, RecursionError, MemoryError):
        return f"json.loads({json.dumps(value)!r})"


def call_tests(inputs: list[list[Any]], outputs: list[Any]) -> str:
    """`check(candidate)` source for a call-based task: one assert per case, each scored alone, and
    last the line that gives the answer the `typing` names, as LeetCode does (`TYPING_NAMES_PRAGMA`;
    last, so the tests' line numbers in reasons stay what they were)."""
    lines = [CALL_TESTS_SETUP, "", "def check(candidate):"]
    for args, want in zip(inputs, outputs):
        lines.append(f"    assert _same(candidate({', '.join(map(_literal, args))}), {_literal(want)})")
    lines.append(TYPING_NAMES_PRAGMA)
    return "\n".join(lines) + "\n"


def _call_task(i: int, task_id: str, question: str, data: dict[str, Any], starter: Any) -> Task:
    """An APPS call-based task: `fn_name(*inputs[k])` must return `outputs[k]`."""
    fn_name, ins, outs = data["fn_name"], data["inputs"], data["outputs"]
    if not _is_function_name(fn_name):
        raise DatasetError(f"row {i}: 'fn_name' in 'input_output' must be a Python function name, got {fn_name!r:.80}")
    _check_cases(i, ins, outs)
    bad = next((k for k, args in enumerate(ins) if not isinstance(args, (list, tuple))), None)
    if bad is not None:
        raise DatasetError(f"row {i}: input {bad} of call-based task {fn_name!r} must be the list of the call's "
                           f"arguments, got {type(ins[bad]).__name__} ({ins[bad]!r:.80})")
    starter = starter if isinstance(starter, str) else ""
    meta = {"kind": "function", "entry_point": fn_name, "call_based": True, "starter": starter}
    return Task(task_id, question, call_tests(ins, outs), meta)


def _top_level_names(code: str) -> set[str]:
    """The functions and classes `code` defines at top level (nothing when it does not parse)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def _solution_class_shim(code: str, fn_name: str) -> str:
    """`code`, plus a module-level `fn_name` calling `Solution().fn_name` when the code is a
    LeetCode-style `class Solution` without a function of that name of its own (code that does not
    parse is left as it is: the verifier reports why)."""
    top = _top_level_names(code)
    if "Solution" not in top or fn_name in top:
        return code
    return f"{code}\n\n\ndef {fn_name}(*args):\n    return Solution().{fn_name}(*args)\n"


def _trusted_tests(prompt: str, entry: Any, tests: str, helpers: str) -> str:
    """A HumanEval row's tests, preceded by the prompt's helpers (`prompt_definitions`) when it has any.

    Tests such as HumanEval/32, /38 and /50 build their expected values with a helper the prompt
    defines (`poly`, `encode_cyclic`, `encode_shift`). Left to the solution, a wrong answer that
    redefines the helper (`def poly(xs, x): return 0`) would pass; defined with the tests, the
    helper is the dataset's own. (`solution_of` also re-binds them after the answer's code.)
    """
    if not helpers:
        return tests
    trusted = prompt_definitions(prompt, entry, exclude=sorted(_top_level_names(tests)))
    return f"{trusted}\n\n\n{tests}" if trusted else tests


def _humaneval_layout(cols: set[str]) -> bool:
    """Whether a table with columns `cols` has the HumanEval layout: 'test' and 'entry_point', or
    'test' and 'prompt' without the columns of another layout (MBPP's 'test_list', stdin/stdout's
    'inputs'/'outputs' or 'input_output'): the entry point is then inferred per row (`_entry_point`)."""
    if "test" not in cols:
        return False
    if "entry_point" in cols:
        return True
    return "prompt" in cols and not ({"test_list", "input_output"} & cols or {"inputs", "outputs"} <= cols)


def tasks_from_table(table: Any, *, question_key: str | None = None, id_key: str | None = None) -> list[Task]:
    """Code tasks from a loaded table, layout detected from its columns."""
    cols = set(table.columns)
    n = table.num_rows
    # ids checked as build_tasks checks them: present and unique (results are grouped by task id)
    ids = task_ids(table, id_key or ("task_id" if "task_id" in cols else None), "")
    tasks: list[Task] = []
    if _humaneval_layout(cols):
        qk = require_column(table, question_key, "question_key", ("prompt",))
        prompts, tests = table.column(qk), table.column("test")
        column = "entry_point" in cols
        entries = table.column("entry_point") if column else [None] * n  # inferred when absent (or refused)
        for i in range(n):
            if tests[i] is not None and not isinstance(tests[i], str):  # not "empty": say what it is
                mbpp = (" (a list of assert lines is the MBPP layout: name the column 'test_list')"
                        if isinstance(tests[i], (list, tuple)) else "")
                raise DatasetError(f"row {i}: column 'test' must be a string of test code defining "
                                   f"check(candidate), got {type(tests[i]).__name__} ({tests[i]!r:.80}){mbpp}")
            if tests[i] is None or not tests[i].strip():
                raise DatasetError(f"row {i}: column 'test' is empty; every HumanEval-layout task needs its tests")
            prompt = row_text(prompts, i, qk)
            entry = _entry_point(i, ids[i], prompt, tests[i], entries[i], column)
            meta = {"kind": "function", "entry_point": entry, "prompt": prompt}
            helpers = prompt_definitions(prompt, entry)
            if helpers:  # the prompt's own helpers are trusted: see `_trusted_tests`
                meta["helpers"] = helpers
            head = prompt_head(prompt, entry)
            if head != prompt:  # a bare signature, dropped before a whole-function answer: see `solution_of`
                meta["prompt_head"] = head
            trusted = _trusted_tests(prompt, entry, tests[i], helpers)
            _check_tests(i, ids[i], "test", trusted, entry)
            tasks.append(Task(str(ids[i]), prompt, trusted, meta))
        return tasks
    if "test_list" in cols:
        qk = require_column(table, question_key, "question_key", ("text", "prompt", "question"))
        texts, test_lists = table.column(qk), table.column("test_list")
        setups = table.column("test_setup_code") if "test_setup_code" in cols else [""] * n
        imports = table.column("test_imports") if "test_imports" in cols else [[]] * n
        references = table.column("code") if "code" in cols else [None] * n
        class_rows: list[tuple[int, str, str, str, str]] = []
        for i in range(n):
            if not isinstance(test_lists[i], (list, tuple)):  # a string would be split into characters
                raise DatasetError(f"row {i}: column 'test_list' must be a list of assert statements, got "
                                   f"{type(test_lists[i]).__name__} ({test_lists[i]!r:.80})")
            tests = _code_lines(i, "test_list", test_lists[i])
            if not tests:
                raise DatasetError(f"row {i}: column 'test_list' is empty; every MBPP-layout task needs its asserts")
            setup = _code_lines(i, "test_imports", imports[i]) + _code_lines(i, "test_setup_code", setups[i])
            # imports and setup first, then the asserts: check_function scores each top-level
            # assert as one test (the answer stays one string: rlvr eval's scorer reads it too)
            code = "\n".join([*setup, *tests]) + "\n"
            entry = _mbpp_entry_point(tests, "\n".join(setup))
            _check_mbpp_parts(i, ids[i], [("test_imports", _code_lines(i, "test_imports", imports[i])),
                                          ("test_setup_code", _code_lines(i, "test_setup_code", setups[i])),
                                          ("test_list", tests)], code, entry)
            uses_class = answer_class_call(tests, "\n".join(setup), references[i])
            if uses_class is not None:
                class_rows.append((i, str(ids[i]), *uses_class))
            meta = {"kind": "function", "entry_point": entry, "example": tests[0]}
            tasks.append(Task(str(ids[i]), row_text(texts, i, qk), code, meta))
        _refuse_class_rows(class_rows)
        return tasks
    if {"inputs", "outputs"} <= cols or "input_output" in cols:
        qk = require_column(table, question_key, "question_key", ("question", "problem", "description", "prompt"))
        texts = table.column(qk)
        starters = table.column("starter_code") if "starter_code" in cols else [""] * n
        for i, data in enumerate(_io_rows(table)):
            make = _call_task if data.get("fn_name") is not None else _io_task  # "" is refused by _call_task
            tasks.append(make(i, str(ids[i]), row_text(texts, i, qk), data, starters[i]))
        return tasks
    raise DatasetError(
        f"cannot tell the layout of this code dataset (columns: {table.columns}); it needs HumanEval columns "
        f"('prompt', 'test', optionally 'entry_point'), MBPP columns ('text', 'test_list') or stdin/stdout columns "
        f"('inputs' and 'outputs', or 'input_output')"
    )


#: A line that begins like a Python statement: a keyword that starts one (`def f`, `return x`,
#: `import os`, `for i in`), a decorator, an assignment (`x = 1`, `xs[0] += 1`) or a call (`print(x)`);
#: or a code fence (an answer in a fenced block of another language is code, only not Python).
_CODE_LINE = re.compile(
    r"^[ \t]*(?:```|~~~|(?:async|await|def|class|return|import|from|if|elif|else|for|while|with|try|except|finally|raise|"
    r"yield|assert|lambda|global|nonlocal|del|pass|break|continue)(?:[ \t(:]|$)"
    r"|@[A-Za-z_]"
    r"|[A-Za-z_][\w.]*(?:\[[^\]\n]*\])?[ \t]*(?://|\*\*|<<|>>|[-+*/%&|^@])?=(?!=)"
    r"|[A-Za-z_][\w.]*\()", re.MULTILINE)
#: The reason of the verdict of an answer that holds no code (`holds_no_code`).
NO_CODE_REASON = ("no code found: the answer holds no code to run (it is empty, only comments, `pass`, `...` or "
                  "string literals, or prose in which nothing reads as Python)")


def _does_nothing(statement: ast.stmt) -> bool:
    """True for `pass`, `...` and a bare constant such as a docstring: a statement with no effect."""
    return isinstance(statement, ast.Pass) or isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)


def _completes_last_line(prompt: str, code: str) -> bool:
    """Whether `code` finishes a prompt that stops mid-statement (`...\\n    return ` + `42`): the
    prompt has no final newline, the code goes on on its last line (it starts with no whitespace)
    and the two together compile (`compiles`: parsing is not enough, a body at column 0 whose first
    line is a comment parses after a prompt ending in its docstring's quotes, with `return` outside
    the function). A body on a line of its own (`    return a + b`) is no such code."""
    if not prompt or not code.strip() or prompt.endswith("\n") or code[0].isspace():
        return False
    return compiles(prompt + code)


def holds_no_code(code: str, program: str) -> bool:
    """True when the code taken from an answer (`code`, before any prompt) holds nothing to run.

    `program` is what would run (`code` after a HumanEval prompt, with the prompt's helpers). No code is:

    - empty, whitespace or comments only;
    - code that parses, dedented (so that a HumanEval body-only continuation is read as its
      statements), into statements that do nothing: `pass`, `...`, string literals
      (`_does_nothing`). A body such as `    return a + b` is code, and is run;
    - text that does not parse, alone or as `program`, and has no line that begins like a Python
      statement or is a code fence (`_CODE_LINE`): prose. Broken code with such a line
      (`def add(a, b) return a+b`), or a block of another language, is code, and is scored wrong
      for its syntax as before.

    Code that parses as `program` is never taken for prose, so this never turns a program that
    could pass a test into a no-code verdict, except one whose own statements all do nothing.
    """
    try:
        tree = ast.parse(textwrap.dedent(code))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree = None
    if tree is not None:
        return all(map(_does_nothing, tree.body))
    try:
        ast.parse(program)
        return False
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return _CODE_LINE.search(code) is None


def _check_comparison(exact: Any, float_tolerance: Any) -> tuple[bool, float | None]:
    """The stdin/stdout comparison options, checked: (exact, float_tolerance); bad ones raise."""
    if not isinstance(exact, bool):
        raise ValueError(f"exact must be True or False, got {exact!r}")
    if float_tolerance is None:
        return exact, None
    if isinstance(float_tolerance, bool) or not isinstance(float_tolerance, (int, float)) or not float_tolerance >= 0:
        raise ValueError(f"float_tolerance must be None or a non-negative number, got {float_tolerance!r}")
    if exact:
        raise ValueError("exact=True compares output byte for byte, so float_tolerance would be ignored; pass one of them")
    return exact, float(float_tolerance)


class CodeEnv(SingleTurnEnv):
    """Single-turn programming: the answer's code is run against the task's tests in the sandbox.

    Args:
        dataset: hub id, local file, `datasets.Dataset` or list of dicts (default: built-in samples).
        split / config / revision: which part and version of a hub dataset.
        question_key / id_key: override the detected description / id columns.
        sandbox: a `Sandbox` (default: one shared sandbox per process, `sandbox_backend`).
        timeout: seconds for loading a function-completion solution and running all its tests.
        call_timeout: seconds for one call of a function-completion solution (default None: half
            of `timeout`, `CALL_TIMEOUT_SHARE`). A call that runs over fails its test and
            the next test gets a fresh process, so an answer that hangs on one input loses that
            test, not every test after it: its partial credit does not depend on the tests' order.
        case_timeout: seconds per stdin/stdout case.
        exact: compare stdin/stdout output byte for byte (default: token by token, whitespace-tolerant).
        float_tolerance: an expected stdin/stdout token written as a non-integer decimal ("0.5",
            "1e-3") matches a number that differs by this much, relatively (absolutely below 1),
            e.g. 1e-6 for "absolute or relative error 1e-6"; integers and words match exactly. A
            call-based (APPS `fn_name`) row's expected float, in lists and dicts too, matches a returned
            number within it the same way (`CALL_TESTS_SETUP`); integers and the rest compare exactly.
        partial_credit: True (default): the outcome is the fraction of tests passed. False: 1 when
            every test passes, else 0 (all or nothing; see `credit`).
        **kwargs: `TextEnv` arguments.

    Reward parts: `outcome` = fraction of tests passed (the verifier's score), or with
    `partial_credit=False` 1 or 0; `format` = 1 when the answer has a fenced code block. An answer
    that holds no code (`holds_no_code`) is not run: outcome 0, kind "no_code".

    `close()` closes no sandbox: one passed as `sandbox=` is the caller's, and the default one is
    `shared_sandbox(sandbox_backend)`, shared by every env of the process (closing it would break
    the others); its workers end with the process.
    """

    env_name = "Code"
    # recorded in the fingerprint (see `Setting`), checked as in `__init__` when reassigned
    exact = Setting("_checked_comparison")
    float_tolerance = Setting("_checked_comparison")
    partial_credit = Setting("_checked_partial_credit")
    timeout = Setting("_checked_seconds")
    case_timeout = Setting("_checked_seconds")
    call_timeout = Setting("_checked_call_timeout")

    def __init__(
        self,
        dataset: Any = None,
        *,
        split: str | None = None,
        config: str | None = None,
        revision: str | None = None,
        question_key: str | None = None,
        id_key: str | None = None,
        sandbox: Any = None,
        sandbox_backend: str = "auto",
        timeout: float = 10.0,
        case_timeout: float = 5.0,
        call_timeout: float | None = None,
        exact: bool = False,
        float_tolerance: float | None = None,
        partial_credit: bool = True,
        **kwargs: Any,
    ) -> None:
        self.exact, self.float_tolerance = _check_comparison(exact, float_tolerance)
        self.partial_credit = partial_credit
        self.timeout, self.case_timeout = float(timeout), float(case_timeout)
        self.call_timeout = call_timeout
        table = load_table(CODE_SAMPLES if dataset is None else dataset, split=split, config=config, revision=revision)
        if id_key is not None:
            require_column(table, id_key, "id_key")
        tasks = tasks_from_table(table, question_key=question_key, id_key=id_key)
        self._call_based = any(task.meta.get("call_based") for task in tasks)
        self._sandbox = sandbox
        self._sandbox_backend = check_backend(sandbox_backend)
        fingerprint = dict(table.fingerprint)  # plus the columns read, when not the detected ones:
        if question_key is not None:  # they change what is asked
            fingerprint["question_key"] = question_key
        if id_key is not None:  # and how the tasks are named in results
            fingerprint["id_key"] = id_key
        if self._call_based:  # how call-based rows are read
            fingerprint["call_based"] = "apps-v1"
        super().__init__(ListSource(tasks, fingerprint), **kwargs)

    def _checked_comparison(self, name: str, value: Any) -> Any:
        """`exact` or `float_tolerance`, checked with the other one (`_check_comparison`; set
        together in `__init__`, where the other is not set yet)."""
        settings = self.__dict__
        if name == "exact":
            return _check_comparison(value, settings.get("float_tolerance"))[0]
        return _check_comparison(settings.get("exact", False), value)[1]

    def _checked_partial_credit(self, name: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValueError(f"partial_credit must be True (outcome = fraction of tests passed) or False (1 only when "
                             f"every test passes, else 0), got {value!r}")
        return value

    def _checked_seconds(self, name: str, value: Any) -> float:
        """`timeout` or `case_timeout`, checked as the verifier checks them at every step
        (`code._check_seconds`: positive, finite, within the sandbox's limit, `timeout` less the
        harness's grace): a bad value raises here, not as a 0 reward at every step."""
        from rlvr.verifiers.code import HARNESS_GRACE, _check_seconds

        _check_seconds(name, value, HARNESS_GRACE if name == "timeout" else 0.0)
        return float(value)

    def _checked_call_timeout(self, name: str, value: Any) -> float | None:
        if value is None:
            return None  # a share of `timeout`, whatever it is at the step (`call_seconds`)
        from rlvr.verifiers.code import _check_seconds

        try:
            _check_seconds(name, value)
        except ValueError as exc:
            raise ValueError(f"{exc} (or None: half of timeout)") from None
        return float(value)

    def call_seconds(self) -> float:
        """The per-call time limit of a function task: `call_timeout`, or by default
        `CALL_TIMEOUT_SHARE` of `timeout`."""
        return self.call_timeout if self.call_timeout is not None else self.timeout * CALL_TIMEOUT_SHARE

    def _get_sandbox(self) -> Any:
        if self._sandbox is None:
            from rlvr.envs.python_tool import shared_sandbox

            self._sandbox = shared_sandbox(self._sandbox_backend)
        return self._sandbox

    def make_prompt(self, task: Task) -> str:
        if task.meta.get("call_based"):
            starter = task.meta.get("starter", "").strip("\n")
            template = CALL_STARTER_PROMPT if starter.strip() else CALL_PROMPT
            return template.format(question=task.question, fn_name=task.meta["entry_point"], starter=starter)
        if task.meta.get("kind") == "io":
            return IO_PROMPT.format(question=task.question)
        if "example" in task.meta:
            return MBPP_PROMPT.format(question=task.question, example=task.meta["example"])
        return HUMANEVAL_PROMPT.format(question=task.question)

    def solution_of(self, task: Task, completion: str) -> str:
        """The program to test (see `extract_program`), after the prompt for HumanEval; "" when the
        answer holds no code (`holds_no_code`): callers score that as "no code", without running it.

        Function tasks take the last block that defines the entry point (or continues the
        HumanEval prompt), stdin/stdout tasks the last block that parses and calls anything; else
        the last fenced block, else the raw text. A HumanEval completion may continue the prompt
        (only the body) or be a whole program that redefines the function; either way the
        prompt's imports and helpers come first (a prompt that is only the function's signature,
        without a docstring, loses that unfinished `def`: `prompt_head`, read once per task when the
        tasks are built, as meta "prompt_head"), and the prompt's helpers are defined again after
        the answer's code (`prompt_definitions`): the answer cannot replace them. A call-based
        `class Solution` gets a module-level entry point after its code (the `typing` names it may
        use come from its tests' plan, not from its text: see `call_tests`).
        """
        meta = task.meta
        if meta.get("kind") == "io":
            code = extract_program(completion)
            return "" if holds_no_code(code, code) else code
        entry = meta.get("entry_point")
        prompt = meta.get("prompt") or ""
        if not entry:
            code = extract_code(completion).removeprefix("\ufeff")  # a byte-order mark: see extract_program
        else:
            names = (entry, "Solution") if meta.get("call_based") else (entry,)
            code = extract_program(completion, names, prefix=prompt)
        finishes_line = _completes_last_line(prompt, code)  # `return ` + `42`: what the prompt's last line lacks
        program = self._program(meta, code, finishes_line)
        return "" if not finishes_line and holds_no_code(code, program) else program

    @staticmethod
    def _program(meta: dict[str, Any], code: str, finishes_line: bool) -> str:
        """What runs for a function task's answer code: the shim of a call-based `class Solution`,
        or for HumanEval the prompt (or its head) first and its helpers again after (see `solution_of`);
        a continuation goes on the prompt's last line only when it `finishes_line`."""
        prompt = meta.get("prompt") or ""
        entry = meta.get("entry_point")
        if meta.get("call_based"):
            return _solution_class_shim(code, entry)
        if prompt:
            if entry and re.search(rf"^\s*def\s+{re.escape(entry)}\s*\(", code, re.MULTILINE):
                # helpers and imports of the prompt stay available; a bare signature (no docstring
                # body) is dropped, or the answer's code would sit where its body should be. The
                # answer's (and prompt's) `from __future__` imports must open the module: moved up
                answer_futures, code = split_future_imports(code)
                prompt_futures, head = split_future_imports(meta.get("prompt_head", prompt))
                code = answer_futures + prompt_futures + head + "\n" + code
            else:  # a continuation; on a line of its own unless it finishes the prompt's last line
                prompt_futures, head = split_future_imports(prompt)
                before = prompt_futures + head + ("\n" if not prompt.endswith("\n") and not finishes_line else "")
                code = before + (code if finishes_line else fitted_body(before, code, prompt))
            if meta.get("helpers"):  # re-bound after the answer: its own versions of them do not count
                code += "\n\n\n" + split_future_imports(meta["helpers"])[1] + "\n"
            # the dataset's code the program opens with, which the verifier loads alone when the program
            # does not load: a prompt the sandbox cannot load is a setup error, not the answer's failure
            return Program(code, prompt=meta.get("prompt_head", prompt))
        return code

    def function_options(self) -> dict[str, Any]:
        """`check_function`'s options for a function task's `solution_of` (batch scorers pass the
        same): the time limits for all tests and for one call; with `float_tolerance`, the setup code
        that gives it to call-based tests (`CALL_TESTS_SETUP`'s `_same`)."""
        options = {"timeout": self.timeout, "call_timeout": self.call_seconds(), "extract": False}
        if self.float_tolerance is not None:  # read by call-based tests' `_same`; other tests never use it
            options["setup_code"] = FLOAT_TOLERANCE_SETUP.format(tolerance=self.float_tolerance)
        return options

    def io_options(self) -> dict[str, Any]:
        """`check_io`'s options for a stdin/stdout task's `solution_of` (batch scorers pass the same)."""
        return {"timeout": self.case_timeout, "exact": self.exact, "float_tolerance": self.float_tolerance,
                "extract": False}

    def verify(self, task: Task, content: str) -> Verdict:
        """The answer's verdict: its program run against the task's tests (nothing is run for an
        answer that holds no code), its score as `credit` counts it."""
        return self.credit(self._check(task, content))

    def _check(self, task: Task, content: str) -> Verdict:
        """The verifier's verdict: score = fraction of tests passed."""
        from rlvr.verifiers.code import check_function, check_io

        solution = self.solution_of(task, content)
        if not solution.strip():
            return Verdict.wrong(NO_CODE_REASON, details={"kind": "no_code"})
        sandbox = self._get_sandbox()
        if task.meta.get("kind") == "io":
            return check_io(solution, task.answer, sandbox=sandbox, **self.io_options())
        return check_function(solution, task.answer, task.meta.get("entry_point"), sandbox=sandbox,
                              **self.function_options())

    def credit(self, verdict: Verdict) -> Verdict:
        """`verdict` as this env scores it: unchanged with `partial_credit` (score = fraction of tests
        passed); otherwise all or nothing, score 1 when correct (every test passed) else 0, with the
        verifier's fraction kept as details["partial_score"] (and named in the reason when dropped).
        A failed verification (error set) is left as it is. Batch scorers apply it to `solution_of`'s
        verdicts too."""
        if self.partial_credit or verdict.error is not None:
            return verdict
        details = {**verdict.details, "partial_score": verdict.score}
        if verdict.correct:
            return dataclasses.replace(verdict, score=1.0, details=details)
        reason = verdict.reason
        if verdict.score > 0:
            reason += f" (partial_credit=False: outcome 0, not the {verdict.score:.4g} partial credit would give)"
        return dataclasses.replace(verdict, score=0.0, reason=reason, details=details)

    def format_score(self, task: Task, content: str) -> float:
        """1 when the answer gives its code in a fenced block and holds code (`solution_of`): a fenced
        `pass`, comment or sentence ("```\nI cannot solve this.\n```") earns no format credit."""
        if not extract_code(content, fallback_raw=False).strip():
            return 0.0
        return 1.0 if self.solution_of(task, content).strip() else 0.0

    def verifier_fingerprint(self) -> dict[str, Any]:
        from rlvr.envs.python_tool import sandbox_settings

        from rlvr.verifiers.code import RULES_VERSION

        # the sandbox's backend ("auto" resolved), default limits and interpreter or image: the same
        # answer passes under one sandbox's memory or process limits and fails under another's
        settings = {**sandbox_settings(self._get_sandbox, self._sandbox_backend),
                    "timeout": self.timeout, "call_timeout": self.call_seconds(), "case_timeout": self.case_timeout,
                    "rules": RULES_VERSION}
        if self.exact:  # the output comparison, when not the default (earlier fingerprints stay valid)
            settings["exact"] = True
        if self.float_tolerance is not None:
            settings["float_tolerance"] = self.float_tolerance
            if self._call_based:  # it applies to call-based return values too (it was ignored there)
                settings["call_float_tolerance"] = True
        return {"name": "code", "settings": settings}

    def settings(self) -> dict[str, Any]:
        """With `partial_credit=False`, that setting too: the outcome is then all or nothing (left out
        when True, the default, so that earlier fingerprints stay valid)."""
        if self.partial_credit:
            return super().settings()
        return {**super().settings(), "partial_credit": False}
