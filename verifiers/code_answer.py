"""Choosing which of an answer's Python blocks is the program, and completing it (`code_extract`'s
middle layer: it reads blocks that `code_fences` found, and `code_extract` merges in definitions).

A solution is often followed by a usage example (```python\nprint(f(1))\n``` or
```\n>>> f(1)\n2\n```), which is then the last block. `extract_program` skips such blocks for
Python. With the names the program must define (a function task's entry point) it takes the last
block that defines one of them at top level (`from solution import f` does not); a block that does not parse but has a top-level `def`
line for one counts too (a broken final version is still the final answer, and fails), and so does
a function body that continues a given prefix (HumanEval's prompt), also one written at column 0 or
two spaces deep that compiles after it once re-indented as the prompt's body (`fitted_body`, which
Code-v0 applies too), but not when it is one run of the lines of a block that gives a version of the
function (a quoted excerpt `return result` after a whole solution: `_Answer.quotes`): `_qualifies`. Without names, it takes the
last block that parses and reads standard input (`input(`, `sys.stdin`, `open(0)`, `os.read(0, n)`;
not a "test it locally" block that always feeds input of its own, reads none itself and runs a
function of another block, `sys.stdin = io.StringIO(...)` then `main()`, or a test file's
`from solution import main` then `main()`: `_is_driver`; and a block that redefines a function of
an earlier block that reads input only through another block's function, a corrected
`def solve(): n = I()` after a template defining `I`, counts as reading: `_Answer.reading`; but
when such a block only defines, giving new versions of functions the earlier program defines, the
program is kept and those definitions replace its old ones, so it keeps its own calls: `_spliced`;
an excerpt that elides code with `...`, or a placeholder `def total(a): pass` beside a corrected
function, is no new version: `_last_reading_block`), else the last
block that parses and calls anything: a stdin/stdout program that calls nothing prints nothing,
while sample input and output such as `5` or `Input: 3` parse but call nothing (with
`any_function`, for a function task whose tests name no function, the last block that defines a
function at top level and is no test file importing another block's function). Either
way a later block that redefines the function wins, and without such a block the answer is the
last block, as `extract_code` gives it.

Of the other blocks one call may be added: when the stdin/stdout program taken does nothing at top level
but define, one of its functions that reads input is never called (`def main(): ...`) and a later
block does nothing but run it (`main()`, `sys.exit(main())`, `threading.Thread(target=main).start()`,
`print(solve())` for a `solve` that returns a value, or such under `if __name__ == "__main__":`),
that block is put after it (`_with_later_call`), since without it the program would print
nothing; not when a block between the two redefines a function the call runs, which would run
the stale version (nor is a driver skipped then).

Also here, as the later layer uses them too: which names a top-level statement only defines
(`_definition_names`), and `split_future_imports` (a spliced correction's `from __future__` imports
must go to the top). The syntax trees are walked iteratively, so deeply nested but valid code (a
1000-term sum) is read.
"""

from __future__ import annotations

import ast
import functools
import io
import os
import re
import sys
import textwrap
import tokenize
import warnings
from bisect import bisect_left, bisect_right
from typing import Collection

from rlvr.verifiers.code_fences import _parse
from rlvr.verifiers.code_plan import BUILTIN_NAMES, _is_stub, bound_and_used, is_stub_statement


def _defines(tree: ast.Module, names: Collection[str]) -> bool:
    """Whether a top-level statement defines one of `names` (def, class, assignment). An import
    does not: `from solution import f` in a usage example uses the function, it defines nothing."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in names:
            return True
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(target, ast.Name) and target.id in names for target in targets):
            return True
    return False


def _calls(tree: ast.Module) -> bool:
    return any(isinstance(node, ast.Call) for node in ast.walk(tree))


#: Functions that read from a file descriptor when given 0, standard input: `open(0)`,
#: `os.read(0, n)`, `os.fdopen(0)`, `io.FileIO(0)`.
_FD_READERS = frozenset({"open", "read", "fdopen", "FileIO"})


def _reads_input(tree: ast.AST, stores: bool = True) -> bool:
    """Whether the code reads standard input: `input(`, `sys.stdin` (or `stdin`), file descriptor 0
    (`open(0)`, `os.read(0, n)`, `os.fdopen(0)`, `io.FileIO(0)`) or `"/dev/stdin"`. With `stores`
    false, assigning to `sys.stdin` (`sys.stdin = io.StringIO(...)`) is no read."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Attribute, ast.Name)) and getattr(node, "attr", getattr(node, "id", None)) == "stdin":
            if stores or not isinstance(node.ctx, ast.Store):
                return True
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name == "read" and isinstance(node.func, ast.Attribute):  # os.read(0, n), not buffer.read(0)
                name = "read" if isinstance(node.func.value, ast.Name) and node.func.value.id == "os" else None
            if isinstance(node.func, ast.Name) and name == "input" or name in _FD_READERS and node.args \
                    and isinstance(node.args[0], ast.Constant) and node.args[0].value == 0:
                return True
        elif isinstance(node, ast.Constant) and node.value == "/dev/stdin":
            return True
    return False


#: Strings that name standard input to a patching helper: `patch("sys.stdin", io.StringIO(...))`,
#: `monkeypatch.setattr("builtins.input", ...)`.
_INPUT_PATHS = frozenset({"sys.stdin", "builtins.input"})


def _is_input_target(target: ast.expr) -> bool:
    """Whether an assignment target is standard input: `sys.stdin` (any `.stdin`), `builtins.input`,
    or the names `stdin` and `input`."""
    if isinstance(target, ast.Attribute):
        return target.attr == "stdin" or target.attr == "input" and isinstance(target.value, ast.Name) \
            and target.value.id in ("builtins", "__builtins__")
    return isinstance(target, ast.Name) and target.id in ("stdin", "input")


def _fixed_data(value: ast.expr) -> bool:
    """Whether a value assigned to standard input is data of the code's own: it holds a string
    (`lambda: "3"`, `iter(["1 2"]).__next__`, `open("in.txt")`) or makes a `StringIO`/`BytesIO`,
    and does not read the real input (`io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8")`,
    `io.BytesIO(os.read(0, n))` do)."""
    own = any(isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))
              or isinstance(node, ast.Call) and (getattr(node.func, "id", None) or getattr(node.func, "attr", None))
              in ("StringIO", "BytesIO") for node in ast.walk(value))
    return own and not _reads_input(value)


def _is_main_guard(statement: ast.stmt) -> bool:
    """Whether a statement is `if __name__ == "__main__":` (either way round), with no `else`."""
    if not isinstance(statement, ast.If) or statement.orelse:
        return False
    test = statement.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    return any(isinstance(side, ast.Name) and side.id == "__name__" for side in sides) \
        and any(isinstance(side, ast.Constant) and side.value == "__main__" for side in sides)


def _run_parts(statements: list[ast.stmt]):
    """The parts of `statements` that always run when the code is run: each simple statement whole,
    and the head of a `with` or `for` (its items, what it loops over) and its body, and the body of
    an `if __name__ == "__main__":` guard. Not what runs only under some other condition (`if`,
    `try`, `while`) or when called (a def, a class)."""
    for statement in statements:
        if isinstance(statement, (ast.With, ast.AsyncWith)):
            yield from statement.items
            yield from _run_parts(statement.body)
        elif isinstance(statement, (ast.For, ast.AsyncFor)):
            yield statement.iter
            yield from _run_parts(statement.body)
        elif _is_main_guard(statement):
            yield from _run_parts(statement.body)
        elif not isinstance(statement, (ast.If, ast.Try, ast.While, ast.FunctionDef, ast.AsyncFunctionDef,
                                        ast.ClassDef)) and type(statement).__name__ not in ("TryStar", "Match"):
            yield statement


def _fakes_input(tree: ast.Module) -> bool:
    """Whether the code always replaces standard input with data of its own, as a "test it locally"
    block does (`sys.stdin = io.StringIO("1 2")`, `input = lambda: "3"`, `patch("sys.stdin", ...)`,
    `setattr(sys, "stdin", ...)`), at top level, in a `with` or `for`, or under the main guard
    (`_run_parts`). Rebinding to the real input (`input = sys.stdin.readline`,
    `io.BytesIO(os.read(0, n)).readline`) or to data read from it (`input = iter(tokens).__next__`)
    is no fake, nor is what runs only sometimes: a local file read when it exists
    (`if os.path.exists("input.txt"): sys.stdin = open("input.txt")`), a self-test in a def."""
    for part in _run_parts(tree.body):
        for node in ast.walk(part):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(map(_is_input_target, targets)) and _fixed_data(node.value):
                    return True
            elif isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                strings = [arg.value if isinstance(arg, ast.Constant) else None for arg in node.args]
                if name in ("patch", "setattr") and strings[:1] and strings[0] in _INPUT_PATHS \
                        or name in ("setattr", "object") and strings[1:2] in (["stdin"], ["input"]):
                    return True
    return False


def _statement_names(node: ast.stmt) -> set[str]:
    """The names a top-level statement binds (a def, class, import or assignment)."""
    return _definition_names(node) | {target.id for target in getattr(node, "targets", []) if isinstance(target, ast.Name)}


def _top_level_names(tree: ast.Module) -> set[str]:
    """The names a block's top-level statements bind (defs, classes, imports, assignments)."""
    return set().union(*map(_statement_names, tree.body))


def _function_names(tree: ast.Module) -> set[str]:
    """The functions and classes a block defines at top level."""
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def _foreign_imports(tree: ast.Module) -> tuple[dict[str, str], set[str]]:
    """({name bound: name imported} for a block's top-level `from X import f`, the module names its
    `import X` binds), for X no standard module (`from solution import main`, `import solution`):
    what a test file of the answer's program imports from it."""
    names: dict[str, str] = {}
    modules: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.level or node.module and node.module.split(".")[0]
                                                 not in sys.stdlib_module_names):
            names.update((alias.asname or alias.name, alias.name) for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Import):
            modules.update((alias.asname or alias.name).split(".")[0] for alias in node.names
                           if alias.name.split(".")[0] not in sys.stdlib_module_names)
    return names, modules


def _called_names(tree: ast.Module) -> set[str]:
    """The functions a block calls that it does not define itself: called by name, named as a thread's
    target (`threading.Thread(target=main)`), imported from a module that is no standard one
    (`from solution import main` then `main()`, `import solution` then `solution.main()`: the
    answer's program, as a test file runs it)."""
    imported, modules = _foreign_imports(tree)
    called = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            called.add(imported.get(node.func.id, node.func.id))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name) and node.func.value.id in modules:
            called.add(node.func.attr)
        elif isinstance(node, ast.keyword) and node.arg == "target" and isinstance(node.value, ast.Name):
            called.add(imported.get(node.value.id, node.value.id))  # threading.Thread(target=main)
    return called - (_top_level_names(tree) - set(imported))


def _is_driver(tree: ast.Module, elsewhere: set[str]) -> bool:
    """Whether a block is a "test it locally" driver: it fakes its input (`_fakes_input`), reads no
    real input of its own (assigning `sys.stdin` is no read), and calls a function it does not
    define but another block does (`elsewhere`; `_called_names`): `sys.stdin = io.StringIO("1 2")`
    then `main()`, or a test file's `from solution import main` then `main()`."""
    if not _fakes_input(tree) or _reads_input(tree, stores=False):
        return False
    return bool(_called_names(tree) & elsewhere)


def _tests_another_block(tree: ast.Module, elsewhere: set[str]) -> bool:
    """Whether a block imports, from a module that is no standard one, a function that another block
    defines (`elsewhere`): a test file of the program (`from solution import largest`), no program."""
    imported, modules = _foreign_imports(tree)
    return bool(set(imported.values()) & elsewhere) or bool(modules) and any(
        isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
        and node.attr in elsewhere for node in ast.walk(tree))


#: Text without which ASCII code cannot read standard input (`_reads_input`).
_MAY_READ = re.compile(r"input|stdin|open|read|FileIO")


#: A top-level `def` or `class` line: a block that may define a function.
_DEFINES_LINE = re.compile(r"^(?:async[ \t]+)?(?:def|class)[ \t]", re.MULTILINE)


def _elides(node: ast.AST) -> bool:
    """Whether a definition leaves code out with a bare `...` line: an excerpt, no version."""
    return any(isinstance(inner, ast.Expr) and isinstance(inner.value, ast.Constant) and inner.value.value is Ellipsis
               for inner in ast.walk(node))


def _first_line(node: ast.stmt) -> int:
    """The first line (from 1) of a top-level statement, a definition's decorators included."""
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])


def _is_docstring(position: int, node: ast.stmt) -> bool:
    """Whether `node`, at `position` in a module's body, is the module's docstring."""
    return position == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
        and isinstance(node.value.value, str)


def _source_lines(lines: list[str], node: ast.stmt) -> list[str]:
    """The lines of a top-level definition (`lines`: its block's), decorators included, dedented and
    with trailing spaces taken off: two versions compare equal when written alike."""
    lines = lines[_first_line(node) - 1:node.end_lineno]
    return textwrap.dedent("\n".join(line.rstrip() for line in lines)).split("\n")


def _statement_free_names(node: ast.stmt) -> set[str]:
    """The names a top-level statement uses and does not bind itself (a local variable, parameter,
    comprehension target, nested def or import of a function is no use of another block's name);
    a name it declares `global` or `nonlocal` stays a use."""
    bound, used = bound_and_used([node])
    shared = {name for inner in ast.walk(node) if isinstance(inner, (ast.Global, ast.Nonlocal)) for name in inner.names}
    return used - (bound - shared)


def _code_lines(code: str) -> list[tuple[str, bool]]:
    """The lines of `code` less comments (a comment-only line, a trailing `# ...`), trailing spaces
    and blank lines, each with whether it is an elision (`...` alone on its line, or `pass` among
    other statements: `_elisions`; not inside a string). Comments are found by Python's tokenizer,
    so a `#` inside a string literal stays; when `code` does not tokenize, its lines are taken as
    they are (blank ones aside)."""
    lines = [line.rstrip("\r\n") for line in _SOURCE_LINE.findall(code)]
    inside: set[int] = set()  # rows (from 0) that start inside a string
    opened: list[int] = []  # the rows of the f-strings open (Python 3.12+ tokenizes them in parts)
    try:
        for token in tokenize.generate_tokens(io.StringIO(code, newline="").readline):
            if token.type == tokenize.COMMENT:
                row, column = token.start
                lines[row - 1] = lines[row - 1][:column]
            elif token.type == tokenize.STRING:
                inside.update(range(token.start[0], token.end[0]))
            elif token.type == _FSTRING_START:
                opened.append(token.start[0])
            elif token.type == _FSTRING_END and opened:
                inside.update(range(opened.pop(), token.end[0]))
    except (tokenize.TokenError, SyntaxError, ValueError, RecursionError, MemoryError, IndexError):
        lines = [line.rstrip("\r\n") for line in _SOURCE_LINE.findall(code)]
        inside = set()
    kept = [(line.rstrip(), row not in inside and line.strip() in ("...", "pass"))
            for row, line in enumerate(lines) if line.strip()]
    return _elisions(kept)


def _elisions(lines: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """`lines` (`_code_lines`) with a `pass` that is the whole body of its clause no elision: the line
    before it is less indented (opens the clause) and the next, if any, is too. Python needs that
    `pass` (`except ValueError:` then `pass`): it is code, and a correction that keeps it is no
    excerpt. A `pass` among other statements does nothing, so it stands for code left out."""
    marked = []
    for number, (line, elision) in enumerate(lines):
        if elision and line.strip() == "pass" and number:
            depth = len(_leading_space(line))
            opens = len(_leading_space(lines[number - 1][0])) < depth
            closes = number + 1 == len(lines) or len(_leading_space(lines[number + 1][0])) < depth
            elision = not (opens and closes)
        marked.append((line, elision))
    return marked


def _dedented(lines: list[str]) -> list[str]:
    """`lines` less the leading whitespace they all share."""
    margin = len(os.path.commonprefix([_leading_space(line) for line in lines]))
    return [line[margin:] for line in lines]


def _excerpt_parts(code: str) -> list[list[str]]:
    """A body-only block's lines (`_code_lines`) cut at its elisions into parts, each dedented: the
    runs of a version's lines an excerpt of it is made of (`_Answer.quotes`). [] when it has none."""
    parts: list[list[str]] = [[]]
    for line, elision in _code_lines(code):
        if elision:
            parts.append([])
        else:
            parts[-1].append(line)
    return [_dedented(part) for part in parts if part]


def _run_at(part: list[str], lines: list[str], start: int) -> bool:
    """Whether `part` (dedented lines) is `lines[start:]`'s first lines, each with the same extra
    indentation: one run of them, in order, indented alike relative to each other."""
    if start + len(part) > len(lines):
        return False
    first, head = _leading_space(part[0]), _leading_space(lines[start])
    if not head.endswith(first):
        return False
    extra = head[:len(head) - len(first)]
    return all(lines[start + offset] == extra + line for offset, line in enumerate(part))


def _quoted_in(parts: list[list[str]], lines: list[str]) -> bool:
    """Whether the parts of an excerpt (`_excerpt_parts`) are runs of `lines` (a version's lines,
    `_code_lines`), one after another in order: each is matched at the first place it fits after
    the previous one, which finds a match whenever there is one."""
    start = 0
    for part in parts:
        found = next((at for at in range(start, len(lines)) if _run_at(part, lines, at)), None)
        if found is None:
            return False
        start = found + len(part)
    return True


class _Answer:
    """An answer's Python blocks, each parsed when first needed, and what their top-level statements
    use, worked out once when first needed (`reading`, `reached`): a long answer is read in time
    linear in its size."""

    def __init__(self, bodies: list[str], prose: list[str] | None = None):
        self.bodies = bodies
        # the text before each block since the fenced block before it ("" when not known):
        # `marks_an_aside` reads it
        self.prose = prose if prose is not None and len(prose) == len(bodies) else [""] * len(bodies)
        self._trees: dict[int, ast.Module | None] = {}
        self._reading: list[set[str]] | None = None
        self._uses: dict[str, set[str]] = {}
        self._function_blocks: dict[str, list[int]] | None = None
        self._defining: list[int] = []  # the blocks that define a function or class, in order
        self._reached: dict[frozenset[str], set[str]] = {}
        self._last_defs: dict[tuple[int, str], ast.stmt] = {}  # (block, name) -> its last def there
        self._lines: dict[int, list[str]] = {}
        self._version_blocks: dict[frozenset[str], list[int]] = {}
        self._code: dict[int, list[str]] = {}  # block -> its lines less comments and blank lines
        self._body_blocks: dict[tuple[int, frozenset[str], str], bool] = {}  # `is_body`
        self._given_names: dict[tuple[frozenset[str], str], frozenset[str]] = {}  # `_given`

    def marks_an_aside(self, index: int) -> bool:
        """Whether the prose just before block `index` says it is an aside or an alternative to
        what came before it (`_marks_an_aside`: "A faster approach sorts first:")."""
        return _marks_an_aside(self.prose[index])

    def tree(self, index: int) -> ast.Module | None:
        if index not in self._trees:
            self._trees[index] = _parse(self.bodies[index])
        return self._trees[index]

    def quotes(self, index: int, names: Collection[str], prefix: str = "") -> bool:
        """Whether body-only block `index` quotes a version of one of `names` that another block gives
        (`_gives_version`): its lines, comments and blank lines aside, are one run of that block's
        lines, in order and with the same relative indentation; a `...` line in it, or a `pass` that is
        not a clause's whole body (an elision, `_elisions`), stands for any number of lines, so each
        part between elisions is such a run, the parts in order (`_quoted_in`). Such an excerpt after
        a whole solution (`return result`, the recursive line, `return True  # found`) is no new
        version and not the program
        (`_qualifies`); a body that differs from the draft before it ("No, the body is:" and
        `return x + 1` after `return x`, or the draft's own lines reordered, re-nested or with one
        deleted) is the answer's correction. With `prefix` (the prompt) an earlier body-only block
        may be the version quoted too (`_quotes_a_body`)."""
        if not names:
            return False
        parts = _excerpt_parts(self.bodies[index])
        if not parts:
            return False
        key = frozenset(names)
        if any(_quoted_in(parts, self._code_lines(other)) for other in self.versions(key) if other != index):
            return True
        return bool(prefix) and self._quotes_a_body(index, parts, key, prefix)

    def _quotes_a_body(self, index: int, parts: list[list[str]], key: frozenset[str], prefix: str) -> bool:
        """Whether body-only block `index` (cut into `parts`) quotes how an earlier body-only block
        (`is_body`) ends: it ends in a return (`_ends_in_return`) of what it cannot work out alone
        (`_needs_names`: `return sorted(seen)`, `seen` set by that body only) and is one run of that
        block's lines. A body that can (`return sorted(set(l))` after a draft that first dropped
        `l`'s first item) is a correction, and one that does not end in a return (`if a < b:
        return True`) is the program, as before."""
        tree = self.body_tree(index)
        if tree is None or not _ends_in_return(tree.body):
            return False
        if not _needs_names(tree, prefix, self._given(key, prefix)):
            return False
        return any(_quoted_in(parts, self._code_lines(other)) and self.is_body(other, key, prefix)
                   for other in range(index - 1, -1, -1))

    def _given(self, key: frozenset[str], prefix: str) -> frozenset[str]:
        """The names the blocks that are no body-only block (`is_body`) define at top level
        (`_definition_names`: a helper's `def dedupe`, an `import itertools`): a body using them
        can run alone, as the program takes them in (`code_extract._with_other_definitions`).
        Remembered."""
        if (key, prefix) not in self._given_names:
            self._given_names[key, prefix] = frozenset(
                name for other in range(len(self.bodies)) if self.tree(other) is not None
                and not self.is_body(other, key, prefix)
                for node in self.tree(other).body for name in _definition_names(node))
        return self._given_names[key, prefix]

    def body_tree(self, index: int) -> ast.Module | None:
        """Block `index` read as a body-only block: parsed as written, else dedented (`_reindented`: a
        body indented as the prompt's); None when neither parses."""
        tree = self.tree(index)
        if tree is None:
            dedented = _reindented(self.bodies[index], "")
            tree = _parse(dedented) if dedented is not None else None
        return tree

    def is_body(self, index: int, names: Collection[str], prefix: str) -> bool:
        """Whether block `index` is a body-only continuation of `prefix` (the prompt) that gives no
        version of `names` itself: it does not parse alone but does after the prompt, or it does
        not compile alone (a body at column 0) but compiles after it once re-indented
        (`_continues`, `_fits_after`). Remembered."""
        key = (index, frozenset(names), prefix)
        if key not in self._body_blocks:
            body, tree = self.bodies[index], self.tree(index)
            self._body_blocks[key] = bool(prefix) and (
                not _tries_to_define(body, set(names)) and _continues(prefix, body) if tree is None
                else not _defines(tree, names) and not compiles(body) and _fits_after(prefix, body))
        return self._body_blocks[key]

    def versions(self, key: frozenset[str]) -> list[int]:
        """The blocks that give a version of one of `key`'s names (`_gives_version`), remembered."""
        if key not in self._version_blocks:
            self._version_blocks[key] = [index for index in range(len(self.bodies))
                                 if _gives_version(self.bodies[index], self.tree(index), key)]
        return self._version_blocks[key]

    def _code_lines(self, index: int) -> list[str]:
        """Block `index`'s lines less comments and blank lines (`_code_lines`), worked out once."""
        if index not in self._code:
            self._code[index] = [line for line, _ in _code_lines(self.bodies[index])]
        return self._code[index]

    def functions_elsewhere(self, index: int | None = None) -> set[str]:
        """The functions and classes the blocks (but block `index`) define at top level."""
        trees = (self.tree(other) for other in range(len(self.bodies)) if other != index)
        return set().union(*(_function_names(tree) for tree in trees if tree is not None))

    def reading(self, index: int) -> set[str]:
        """The names block `index` binds at top level whose statement reads standard input, itself or
        through a name it uses: one the block binds, else the one another block defines (the last
        earlier block that does, else the last later one, as `_with_other_definitions` takes it).
        A corrected `def solve(): n = I()` in a block of its own reads input through the `I` of
        the template block before it."""
        if self._reading is None:
            self._build()
        return self._reading[index]

    def reached(self, names: set[str]) -> set[str]:
        """`names` and every name the statements that bind them (in any block) use, in turn: what a
        call of them may run."""
        if self._reading is None:
            self._build()
        if frozenset(names) in self._reached:  # many drivers run the same `main()`
            return self._reached[frozenset(names)]
        found, queue = set(names), list(names)
        while queue:
            for other in self._uses.get(queue.pop(), ()):
                if other not in found:
                    found.add(other)
                    queue.append(other)
        self._reached[frozenset(names)] = found
        return found

    def redefined(self, start: int, stop: int, names: set[str] | None = None, exclude: Collection[int] = ()) -> bool:
        """Whether a block after `start` and before `stop` defines one of `names` (any name when None)
        as a function or class at top level: a later version of it that a program taken from block
        `start`, run by block `stop`, would leave out. Blocks in `exclude` (corrections spliced
        into the program: `_spliced`) do not count."""
        if self._function_blocks is None:  # once: name -> the blocks that define it, in order
            self._function_blocks = {}
            for block in range(len(self.bodies)):
                tree = self.tree(block)
                for name in _function_names(tree) if tree is not None else ():
                    self._function_blocks.setdefault(name, []).append(block)
                    if self._defining[-1:] != [block]:
                        self._defining.append(block)
                for node in tree.body if tree is not None else ():  # the last def of each name
                    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                        self._last_defs[block, node.name] = node
        for blocks in [self._defining] if names is None else (self._function_blocks.get(name, []) for name in names):
            after = bisect_right(blocks, start)
            while after < len(blocks) and blocks[after] < stop:
                if blocks[after] not in exclude:
                    return True
                after += 1
        return False

    def changed(self, index: int, node: ast.stmt) -> bool:
        """Whether `node`, a function or class of block `index`, redefines one of an earlier block
        and differs from it: a new version, not the same code shown again (compared as source
        lines, indentation and trailing spaces aside: linear, and no recursion on deep code), nor
        an excerpt that elides code with `...` (`def solve(): n = I(); ...`)."""
        self.redefined(index, index)  # the index of the blocks that define functions
        blocks = self._function_blocks.get(node.name, [])
        earlier = bisect_left(blocks, index)
        if not earlier or _elides(node):
            return False
        previous = self._last_defs[blocks[earlier - 1], node.name]
        return _source_lines(self.lines(blocks[earlier - 1]), previous) != _source_lines(self.lines(index), node)

    def lines(self, index: int) -> list[str]:
        """Block `index`'s lines, split once."""
        if index not in self._lines:
            self._lines[index] = self.bodies[index].split("\n")
        return self._lines[index]

    def _build(self) -> None:
        """The graph of the top-level statements and the names they bind and use, then the names
        that read input, with a worklist: each statement is marked once, so the time is linear."""
        statements: list[tuple[int, set[str]]] = []  # (block, names it binds)
        users: dict[tuple[int, str], list[int]] = {}  # (block, name) -> the statements that use it
        suppliers: dict[str, list[int]] = {}  # name -> the blocks that define it (`_definition_names`)
        own: list[set[str]] = []
        pending: list[tuple[int, set[str]]] = []  # (statement, names it uses)
        queue: list[int] = []
        for block in range(len(self.bodies)):
            tree = self.tree(block)
            own.append(set())
            for node in tree.body if tree is not None else []:
                bound = _statement_names(node)
                used = _statement_free_names(node)
                for name in bound:
                    self._uses.setdefault(name, set()).update(used)
                for name in _definition_names(node):
                    if suppliers.setdefault(name, [])[-1:] != [block]:
                        suppliers[name].append(block)
                own[block] |= bound
                if _reads_input(node):
                    queue.append(len(statements))
                pending.append((len(statements), used))
                statements.append((block, bound))
        for number, used in pending:
            block = statements[number][0]
            for name in used:
                if name in own[block]:
                    source = block
                elif name in suppliers:
                    blocks = suppliers[name]
                    earlier = bisect_left(blocks, block)
                    source = blocks[earlier - 1] if earlier else blocks[-1]
                else:
                    continue
                users.setdefault((source, name), []).append(number)
        marked = set(queue)
        reading: list[set[str]] = [set() for _ in self.bodies]
        while queue:
            block, bound = statements[queue.pop()]
            for name in bound - reading[block]:
                reading[block].add(name)
                for user in users.get((block, name), ()):
                    if user not in marked:
                        marked.add(user)
                        queue.append(user)
        self._reading = reading


def _last_reading_block(answer: _Answer) -> tuple[int, list[int]] | None:
    """The index of the last block that parses and reads standard input (a stdin/stdout program),
    else None. A test driver (`_is_driver`: `sys.stdin = io.StringIO(...)` then a `main()` of
    another block) reads none: it is a local test of the program, which always sees that input.
    A later block that redefines a function of an earlier block, reading input only through
    another block's function (a corrected `def solve(): n = I(); ...` after a template that defines
    `I`), reads input too: it is the final version (`_Answer.reading`). A new function that does
    (`def test(): ... main()`) is no version of the program, nor is the same code shown again. A
    later block that only defines, giving new versions of functions the program defines, is no
    program of its own: it is returned with the program (the second item, `_spliced`), which keeps
    its own calls. A driver is taken after all when a block between the program and it redefines
    a function it runs (not such a correction): the program would run the stale version."""
    bodies = answer.bodies
    elsewhere: set[str] | None = None
    drivers: list[int] = []
    found = None
    for index in range(len(bodies) - 1, -1, -1):
        if bodies[index].isascii() and not _MAY_READ.search(bodies[index]):
            continue  # no name `_reads_input` looks for (not parsed: a long answer has many blocks)
        tree = answer.tree(index)
        if tree is None or not _reads_input(tree):
            continue
        if _fakes_input(tree):
            if elsewhere is None:  # once: the functions and classes the blocks define at top level
                elsewhere = answer.functions_elsewhere()
            if _is_driver(tree, elsewhere):
                drivers.append(index)
                continue
        found = index
        break
    if found is None:
        return None
    skipped = set(drivers)
    corrections: list[tuple[int, set[str]]] = []  # (block, the new versions it gives), from the last
    for index in range(len(bodies) - 1, found, -1):  # a later version reading through another block
        if index in skipped or not _DEFINES_LINE.search(bodies[index]):
            continue
        tree = answer.tree(index)
        changed = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                   and node.name in answer.reading(index) and answer.changed(index, node)} if tree is not None else set()
        if not changed:
            continue
        if _only_definitions(tree) and changed <= _function_names(answer.tree(found)):
            corrections.append((index, changed))
            continue
        found = index
        break
    own = _function_names(answer.tree(found))
    patches = sorted(index for index, changed in corrections if index > found and changed <= own)
    for driver in drivers:  # from the last
        if driver > found and answer.redefined(found, driver, exclude=patches) and answer.redefined(
                found, driver, answer.reached(_called_names(answer.tree(driver))), exclude=patches):
            return driver, []
    return found, patches


def _only_definitions(tree: ast.Module) -> bool:
    """Whether a block holds nothing but defs, classes, imports and docstrings (a corrected function)."""
    return all(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom,
                                 ast.Pass)) or isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
               for node in tree.body)


def _placeholder(node: ast.stmt) -> bool:
    """Whether a definition only stands for code shown before: its body elides code with `...`
    (`_elides`) or is only `pass` (a docstring aside), as in `def total(a): ...  # unchanged` next to
    a corrected `solve()`. It is no new version: splicing it would replace the real function."""
    body = node.body[1:] if ast.get_docstring(node, clean=False) is not None else node.body
    return _elides(node) or bool(body) and all(isinstance(inner, ast.Pass) for inner in body)


def _spliced(answer: _Answer, index: int, patches: list[int]) -> str:
    """Block `index`, a program, with the functions and classes that blocks `patches` (corrections
    that only define) define again replaced by theirs: the old definitions' lines are taken out
    and the corrections' blocks put before the first top-level statement after the first of them
    that runs something (`_only_binds`), so the program keeps its own calls and loops and runs the
    corrected versions, and a default argument or decorator of theirs finds the constants the
    program sets after its old definitions (`def solve(mod=MOD)`). A placeholder definition of a
    correction (`_placeholder`: `def total(a): ...`) neither replaces the program's nor is put in;
    the corrections' `from __future__` imports go to the top, after the program's docstring and
    own such imports (once each: mid-file they do not compile)."""
    body, tree = answer.bodies[index], answer.tree(index)
    replaced: set[str] = set()
    texts, futures = [], []
    for patch in patches:
        future, text = split_future_imports(answer.bodies[patch])
        futures += [line for line in future.split("\n") if line and line not in futures]
        patch_lines = text.split("\n")  # the same line numbers as the block's (`split_future_imports`)
        for node in answer.tree(patch).body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            start = _first_line(node) - 1
            if _placeholder(node):
                patch_lines[start:node.end_lineno] = [None] * (node.end_lineno - start)
            else:
                replaced.add(node.name)
        texts.append("\n".join(line for line in patch_lines if line is not None).strip("\n"))
    lines = body.split("\n")
    drop: set[int] = set()  # line numbers, from 0
    first = place = None
    opening = 0  # the lines of the program's docstring and `from __future__` imports
    for position, node in enumerate(tree.body):
        if opening == position and (isinstance(node, ast.ImportFrom) and node.module == "__future__"
                                    or _is_docstring(position, node)):
            opening += 1
            futures = [line for line in futures if line != ast.unparse(node)]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in replaced:
            start = _first_line(node) - 1
            first = start if first is None else min(first, start)
            drop.update(range(start, node.end_lineno))
        elif first is not None and place is None and not _only_binds(node):
            place = node.lineno - 1
    if first is None:
        return body
    head = tree.body[opening - 1].end_lineno if opening else 0
    program: list[str] = []
    for number, line in enumerate(lines + [None]):
        if number == head and futures:
            program += futures
        if number == (len(lines) if place is None else place):
            program += ["", "\n\n".join(texts), ""]
        if line is not None and number not in drop:
            program.append(line)
    return "\n".join(program)


#: Builtins a top-level assignment may call and still only define (`INF = float("inf")`).
_PURE_BUILTINS = frozenset({"int", "float", "str", "bool", "complex", "bytes", "list", "tuple", "dict", "set",
                            "frozenset", "range", "len", "abs", "min", "max", "sum", "pow", "ord", "chr"})
#: Setting-up calls a program may make before it runs (`sys.setrecursionlimit(10**6)`), given
#: arguments that call nothing.
_SETUP_CALLS = frozenset({"setrecursionlimit", "stack_size", "set_int_max_str_digits"})


def _calls_in(node: ast.AST):
    """The calls that run when `node` does: all of its calls but those inside a lambda. Walked with
    a stack of its own, not recursively: a 1000-term sum is valid code and must not raise."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Lambda):
            continue
        if isinstance(current, ast.Call):
            yield current
        stack.extend(ast.iter_child_nodes(current))


def _is_setup_call(statement: ast.stmt) -> bool:
    """Whether a statement is `sys.setrecursionlimit(...)`, `threading.stack_size(...)` or the like
    (`_SETUP_CALLS`) with arguments that call nothing."""
    call = statement.value if isinstance(statement, ast.Expr) else None
    return isinstance(call, ast.Call) and (getattr(call.func, "attr", None) or getattr(call.func, "id", None)) \
        in _SETUP_CALLS and not call.keywords and not any(True for arg in call.args for _ in _calls_in(arg))


def _only_binds(node: ast.stmt) -> bool:
    """Whether a top-level statement only defines and runs nothing: an import, def, class, `pass`,
    a constant (a docstring) or an assignment whose value calls nothing but a few builtins
    (`_PURE_BUILTINS`; a lambda is not called) and reads no input (`MOD = 10**9 + 7`)."""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Pass)):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return True
    return isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and not any(
        not (isinstance(call.func, ast.Name) and call.func.id in _PURE_BUILTINS)
        for call in _calls_in(node.value)) and not any(_reads_input(call) for call in _calls_in(node.value))


def _only_defines(tree: ast.Module) -> bool:
    """Whether a block does nothing at top level but define (`_only_binds`) and set up
    (`sys.setrecursionlimit(...)`). Such a block prints nothing and runs nothing."""
    return all(_only_binds(node) or _is_setup_call(node) for node in tree.body)


def _uncalled_functions(tree: ast.Module) -> set[str]:
    """The functions a block defines at top level and never uses outside their own body (a `main`
    the block does not call)."""
    defined, used = set(), set()
    for node in tree.body:
        own = node.name if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
        if own is not None:
            defined.add(own)
        used.update(inner.id for inner in ast.walk(node) if isinstance(inner, ast.Name) and inner.id != own)
    return defined - used


def _returning_functions(tree: ast.Module) -> set[str]:
    """The functions a block defines at top level that return a value (`return best`), not counting
    the returns of functions nested in them: what is worth printing (`print(solve())`)."""
    def returns(node: ast.AST) -> bool:  # with a stack, not recursively (deep code must not raise)
        stack = list(ast.iter_child_nodes(node))
        while stack:
            child = stack.pop()
            if isinstance(child, ast.Return) and child.value is not None:
                return True
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                stack.extend(ast.iter_child_nodes(child))
        return False
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and returns(node)}


def _only_calls(tree: ast.Module, functions: set[str], returning: Collection[str] = ()) -> bool:
    """Whether a block does nothing but run some of `functions` with no arguments and no data of its
    own: `main()`, `sys.exit(main())`, `threading.Thread(target=main).start()` (or `t = ...`, then
    `t.start()`, `t.join()`), after imports and `sys.setrecursionlimit(...)` or
    `threading.stack_size(...)` (`_is_setup_call`); the same under `if __name__ == "__main__":`.
    One of them that returns a value (`returning`) may be printed: `print(solve())`, or
    `ans = solve()` then `print(ans)`."""
    def runs(node: ast.expr) -> bool:  # main() or sys.exit(main())
        if not isinstance(node, ast.Call) or node.keywords:
            return False
        if isinstance(node.func, ast.Name) and node.func.id in functions:
            return not node.args
        exits = isinstance(node.func, ast.Attribute) and node.func.attr == "exit" and \
            isinstance(node.func.value, ast.Name) and node.func.value.id == "sys" \
            or isinstance(node.func, ast.Name) and node.func.id in ("exit", "SystemExit")
        return exits and len(node.args) == 1 and runs(node.args[0])

    def thread(node: ast.expr) -> bool:  # threading.Thread(target=main)
        return isinstance(node, ast.Call) and (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) \
            == "Thread" and not node.args and len(node.keywords) == 1 and node.keywords[0].arg == "target" \
            and isinstance(node.keywords[0].value, ast.Name) and node.keywords[0].value.id in functions

    def direct(node: ast.expr | None) -> bool:  # solve()
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in functions \
            and not node.args and not node.keywords

    def printed(node: ast.expr | None) -> bool:  # print(solve()) or print(ans), after ans = solve()
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print" \
            and len(node.args) == 1 and not node.keywords and (direct(node.args[0]) and node.args[0].func.id
                                                               in returning or isinstance(node.args[0], ast.Name)
                                                               and node.args[0].id in results)

    threads: set[str] = set()
    results: set[str] = set()
    called = False

    def allowed(statement: ast.stmt) -> bool:
        nonlocal called
        if isinstance(statement, (ast.Import, ast.ImportFrom)) or _is_setup_call(statement):
            return True
        if isinstance(statement, ast.Raise) and statement.exc is not None and statement.cause is None:
            called = called or runs(statement.exc)
            return runs(statement.exc)
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name) and thread(statement.value):
            threads.add(statement.targets[0].id)
            return True
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name) and direct(statement.value) \
                and statement.value.func.id in returning:
            results.add(statement.targets[0].id)
            called = True
            return True
        value = statement.value if isinstance(statement, ast.Expr) else None
        if printed(value):
            called = True
            return True
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and not value.args \
                and not value.keywords and value.func.attr in ("start", "join"):
            target = value.func.value
            started = thread(target) or isinstance(target, ast.Name) and target.id in threads
            called = called or started and value.func.attr == "start"
            return started
        if value is not None and runs(value):
            called = True
            return True
        return _is_main_guard(statement) and all(map(allowed, statement.body))

    return bool(tree.body) and all(map(allowed, tree.body)) and called


def _with_later_call(answer: _Answer, index: int, patches: Collection[int] = ()) -> str:
    """Block `index` (a program that reads input) followed by the first later block that only runs
    a function it defines, never calls and that reads input (`_only_calls`, `_Answer.reading`): the
    answer gave `def main(): ...` in one block and `main()` or `if __name__ == "__main__": main()`
    (or `print(solve())`, when `solve` returns a value) in the next, and without the call the program prints nothing. Only when the program does
    nothing at top level but define (`_only_defines`): a program that reads input or calls anything
    itself runs as it is (a later `test()` or a second `main()` is no part of it); and not when a
    block between the two redefines a function the call runs (the program would run its stale
    version). The block as it is when no such call follows. With `patches` (later blocks that only
    correct functions of the program, `_last_reading_block`) the program is first `_spliced`."""
    body = _spliced(answer, index, patches) if patches else answer.bodies[index]
    tree = _parse(body) if patches else answer.tree(index)
    candidates = _uncalled_functions(tree) if tree is not None and _only_defines(tree) else set()
    returning = _returning_functions(tree) if candidates else set()
    for later in range(index + 1, len(answer.bodies)) if candidates else ():
        other = answer.tree(later)
        if later in patches or other is None or not _only_calls(other, candidates, returning):
            continue
        functions = candidates & answer.reading(index).union(*map(answer.reading, patches))
        if not _only_calls(other, functions, returning):
            continue
        runs = {node.id for node in ast.walk(other) if isinstance(node, ast.Name)} & functions
        if answer.redefined(index, later, answer.reached(runs), exclude=patches):
            break
        return body + "\n\n\n" + answer.bodies[later]
    return body


def _tries_to_define(body: str, names: set[str]) -> bool:
    """Whether a block that does not parse has a top-level `def`/`class` line for one of `names`:
    a broken final version of the function is still the model's final answer (and fails)."""
    pattern = r"^(?:async[ \t]+)?(?:def|class)[ \t]+(?:" + "|".join(map(re.escape, sorted(names))) + r")\b"
    return bool(names) and re.search(pattern, body, re.MULTILINE) is not None


def _qualifies(answer: _Answer, index: int, names: set[str], prefix: str, any_function: bool = False) -> bool:
    """Whether a block can be the program (see `extract_program`). A body-only block (a continuation
    of `prefix`) qualifies unless it only quotes a version of the function another block gives
    (`_Answer.quotes`): after a whole solution, `return result` is a quoted excerpt of it; nor,
    after a block that gives a whole version, when it is a note's fragment (`_new_body`)."""
    body, tree = answer.bodies[index], answer.tree(index)
    if tree is None:  # a broken definition or a continuation of `prefix` (a function body), else an example
        return _tries_to_define(body, names) or _continues(prefix, body) and _new_body(answer, index, names, prefix)
    if any_function and not names:  # a function, not in a test file of another block's (`from solution import f`)
        return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) for node in tree.body) \
            and not (any(_foreign_imports(tree)) and _tests_another_block(tree, answer.functions_elsewhere(index)))
    if _defines(tree, names) if names else _calls(tree):
        return True
    # a body at column 0 parses alone (`return` outside a function) but does not compile: a body all the same
    return bool(prefix) and not compiles(body) and _fits_after(prefix, body) and _new_body(answer, index, names, prefix)


def _new_body(answer: _Answer, index: int, names: set[str], prefix: str) -> bool:
    """Whether body-only block `index` is a new body, not a note on a version given before: it quotes
    none (`_Answer.quotes`) and, after a block that gives a whole version of one of `names`, it is a
    body of its own (`_ends_as_body`; a block that only loops counts only for a function that gives
    no value, `_gives_a_value`: an in-place `bubble_sort(arr)` fixed by its loops) and no unfinished
    sketch that the prose just before it marks as an aside (`_falls_short` and
    `_Answer.marks_an_aside`: "A faster approach sorts first:"). After `def unique(l): return
    sorted(set(l))`, a note's `if not l: return []` ("no such special case is needed") is no body of
    its own; a corrected body (`return sorted(set(l))`, or a loop that returns, after a wrong whole
    draft, whatever the prose says of it) is."""
    if answer.quotes(index, names, prefix):
        return False
    tree = answer.body_tree(index)
    earlier = [other for other in answer.versions(frozenset(names)) if other < index]
    if not earlier or tree is None:
        return True
    version = _version_def(answer, earlier[-1], names)
    gives_a_value = _gives_a_value(version, _prompt_function(prefix))
    if not _ends_as_body(tree.body, loops_count=not gives_a_value):
        return False
    return not (gives_a_value and _falls_short(tree.body, version) and answer.marks_an_aside(index))


#: Statements whose body runs as part of the function's flow: a `return` or `yield` inside one
#: (`for i in ...: if n % i == 0: return i`) makes a block a function body, not a note's condition.
#: Of a `try` only the main flow counts (`_flow_children`): a return in an `except` handler is a
#: guard, as a top-level `if`'s is.
_FLOW_BLOCKS = (ast.For, ast.AsyncFor, ast.While, ast.Try, getattr(ast, "TryStar", ast.Try), ast.With,
                ast.AsyncWith, ast.Match)
_TRIES = (ast.Try, getattr(ast, "TryStar", ast.Try))
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _ends_as_body(statements: list[ast.stmt], loops_count: bool = False) -> bool:
    """Whether a body-only block after a whole version is a body of its own, not a note's fragment:
    it ends in a return (`_ends_in_return`) or, when `loops_count`, in a loop (the body of a
    function that gives no value: `for i in range(n): ...` sorting in place), yields anywhere (a
    generator's body), or returns from inside a loop, the main flow of a `try` (its body or `else`),
    a `with` or a `match` (HumanEval/24's `for i in reversed(range(1, n)): if n % i == 0: return
    i`, `try: return int(s)` / `except ValueError: return -1`). A note is a fragment whose returns
    are only in top-level `if`s or `except` handlers (`if not l: return []`: "no such special case
    is needed"; `try: t = float(t)` / `except ValueError: return False`: "to be defensive, add");
    for a function that gives a value, a block that only loops (a test loop printing calls, a
    trace) returns nothing and is no body either. Nested functions and classes are not looked into; walked with a stack."""
    if not statements:
        return False
    if _ends_in_return(statements) or loops_count and isinstance(statements[-1], _LOOPS):
        return True
    stack: list[tuple[ast.AST, bool]] = [(statement, False) for statement in statements]
    while stack:
        node, in_flow = stack.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom)) or in_flow and isinstance(node, ast.Return):
            return True
        if isinstance(node, _SCOPES):
            continue
        stack.extend(_flow_children(node, in_flow))
    return False


def _flow_children(node: ast.AST, in_flow: bool) -> list[tuple[ast.AST, bool]]:
    """`node`'s children for `_ends_as_body`'s walk, each with whether it runs in a flow block: a
    `try`'s body and `else` do, its handlers and `finally` only when the `try` itself is in one."""
    if isinstance(node, _TRIES) and not in_flow:
        return ([(child, True) for child in node.body + node.orelse]
                + [(child, False) for child in node.handlers + node.finalbody])
    in_flow = in_flow or isinstance(node, _FLOW_BLOCKS)
    return [(child, in_flow) for child in ast.iter_child_nodes(node)]


def _falls_short(statements: list[ast.stmt], version: ast.FunctionDef | ast.AsyncFunctionDef | None) -> bool:
    """Whether a body-only block is an unfinished sketch next to `version`, the whole function given
    before it (of a function that gives a value, which `_new_body` checks): `version` returns on
    every path (`_always_returns`) and the block can run off its end, returning None (a "faster
    approach" `for a, b in zip(...): if b - a < t: return True` with no final `return False`).
    Generators are left out. Such a block is a note only when its prose marks it as an aside
    (`_marks_an_aside`): a fix that can only seem to run off its end (HumanEval/24's `for i in
    reversed(range(1, n)): ... return i`) after a complete but wrong draft reads the same way, and
    a later body is the answer's last word unless the answer says otherwise."""
    if version is None or _yields(statements) or _yields(version.body):
        return False
    return _always_returns(version.body) and not _always_returns(statements)


#: Words opening the last sentence of the prose just before a body-only sketch that mark it as an
#: aside or an alternative to the whole version before it, not its replacement ("A faster approach
#: sorts first:", "Alternatively:", "Equivalently, with a loop:", "For large n you can stop at the
#: square root:"), in any case, after list or emphasis marks and an optional "Here's a" / "As an".
#: Only at the sentence's start: "Let me try another approach:" or "Wait, for large inputs this
#: returns n, so the loop is:" introduce a fix. A small list on purpose: a cue that is not there
#: leaves the later block the program (as for any later body), a cue that misfires drops a fix.
_ASIDE_CUES = re.compile(
    r"^[\W_]*(?:(?:here(?:'s| is)|as|or) )?(?:(?:an?|the) )?"
    r"(?:alternatively|alternatives?|equivalently|optionally|for comparison|(?:you|one) (?:could|can) also"
    r"|for (?:very )?(?:large|larger|big|bigger|huge) (?:n|inputs?|lists?|numbers|values|arrays?|strings?)"
    r"|another (?:way|approach|option|version|solution|variant|implementation)"
    r"|(?:faster|quicker|simpler|shorter|cleaner|more (?:efficient|pythonic|concise|compact|idiomatic))"
    r" (?:approach|way|version|solution|variant|implementation|alternative))\b", re.IGNORECASE)
#: Words saying the earlier version is wrong: in the last line before a sketch they make it a fix,
#: whatever cue opens its last sentence ("This is incorrect (returns n). Another way, which excludes
#: n:", "Oops, it returns n. A cleaner approach that starts below n:").
_WRONG_WORDS = re.compile(
    r"\b(?:wrong|incorrect(?:ly)?|bugs?|buggy|mistakes?|oops|fix(?:es|ed)?|broken|not right|"
    r"(?:doesn't|does not|won't|will not) work|off[- ]by[- ]one)\b", re.IGNORECASE)
#: How much of the prose before a block `_marks_an_aside` reads, from its end: its last line is all
#: that decides, and a long prose (50 KB of it) must cost no more than a short one.
_ASIDE_PROSE_CHARS = 300


def _marks_an_aside(prose: str) -> bool:
    """Whether `prose`, the text just before a block, marks the block as an aside or alternative:
    its last non-empty line's last sentence (after the last `.`, `!` or `?` followed by a space)
    opens with a cue (`_ASIDE_CUES`) and that line says nothing of the earlier version being
    wrong (`_WRONG_WORDS`). Inline code is left out (`` `faster_way()` `` is no prose). Each line
    of a list is its own sentence: a cue in an earlier item says nothing of the block. Only the
    last `_ASIDE_PROSE_CHARS` characters are read, so the time is bounded whatever the prose's length."""
    lines = [line for line in re.sub(r"`[^`\n]*`", " ", prose[-_ASIDE_PROSE_CHARS:]).splitlines() if line.strip()]
    if not lines or _WRONG_WORDS.search(lines[-1]):
        return False
    sentences = [sentence for sentence in re.split(r"(?<=[.!?])\s+", lines[-1]) if sentence.strip()]
    return bool(sentences) and _ASIDE_CUES.search(sentences[-1]) is not None


def _version_def(answer: _Answer, index: int, names: Collection[str]) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The last top-level def of one of `names` in block `index` (a block giving a whole version),
    or None (it does not parse, or gives a class)."""
    tree = answer.tree(index)
    defs = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name in names] if tree is not None else []
    return defs[-1] if defs else None


def _prompt_function(prompt: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The def a body-only block continues: the prompt's last def (`_prompt_tree`), or None."""
    tree = _prompt_tree(prompt)
    defs = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))] \
        if tree is not None else []
    return max(defs, key=lambda node: (node.lineno, node.col_offset)) if defs else None


def _gives_a_value(version: ast.FunctionDef | ast.AsyncFunctionDef | None, signature: ast.AST | None) -> bool:
    """Whether the function returns a value: the prompt's def (`signature`) has a return annotation
    other than `None`/`NoReturn`/`Never`, or, without one, every `return` of `version` (its own
    scope; no version, as a class, gives none) gives a value that is no `None`."""
    annotation = getattr(signature, "returns", None)
    if annotation is not None:
        return not (isinstance(annotation, ast.Constant) and annotation.value is None
                    or isinstance(annotation, ast.Name) and annotation.id in ("None", "NoReturn", "Never"))
    returns = [node for node in _own_nodes(version.body) if isinstance(node, ast.Return)] if version else []
    return bool(returns) and all(node.value is not None and not (isinstance(node.value, ast.Constant)
                                                                 and node.value.value is None) for node in returns)


def _own_nodes(statements: list[ast.stmt]):
    """The nodes under `statements`, not looking into nested functions, classes or lambdas."""
    stack: list[ast.AST] = list(statements)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, _SCOPES):
            stack.extend(ast.iter_child_nodes(node))


def _yields(statements: list[ast.stmt]) -> bool:
    """Whether `statements` yield in their own scope (a generator's body)."""
    return any(isinstance(node, (ast.Yield, ast.YieldFrom)) for node in _own_nodes(statements))


def _breaks(loop: ast.For | ast.AsyncFor | ast.While) -> bool:
    """Whether a `break` leaves `loop` itself (not a loop nested in it)."""
    stack: list[ast.AST] = list(loop.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Break):
            return True
        if not isinstance(node, _SCOPES + _LOOPS):
            stack.extend(ast.iter_child_nodes(node))
    return False


def _always_returns(statements: list[ast.stmt]) -> bool:
    """Whether running `statements` can never reach their end, so a function with this body never
    returns None by falling off it: each path ends in a `return` or `raise`, through `if`/`else`,
    `with`, a `try`'s main flow and handlers, a `match` with a final wildcard case, a `while True`
    without a `break`, or a loop's `else` when no `break` skips it. A `for` loop alone can run off
    (no item). Walked with a stack: a long `elif` chain must not raise."""
    stack = [statements]
    while stack:
        body = stack.pop()
        last = body[-1] if body else None
        if isinstance(last, (ast.Return, ast.Raise)):
            continue
        if isinstance(last, ast.If):
            stack += [last.body, last.orelse]
        elif isinstance(last, (ast.With, ast.AsyncWith)):
            stack.append(last.body)
        elif isinstance(last, _TRIES):
            stack += [last.orelse or last.body] + [handler.body for handler in last.handlers]
        elif isinstance(last, ast.Match) and last.cases and _wildcard(last.cases[-1]):
            stack += [case.body for case in last.cases]
        elif isinstance(last, _LOOPS) and not _breaks(last):
            if not (isinstance(last, ast.While) and isinstance(last.test, ast.Constant) and last.test.value):
                stack.append(last.orelse)  # an empty `else` (none) runs off
        else:
            return False
    return True


def _wildcard(case: ast.match_case) -> bool:
    """Whether a `match` case takes every subject: `case _:` or `case name:`, with no guard."""
    return case.guard is None and isinstance(case.pattern, ast.MatchAs) and case.pattern.pattern is None


def _gives_version(body: str, tree: ast.Module | None, names: Collection[str]) -> bool:
    """Whether a block gives a version of one of `names`: it defines one at top level, other than
    as a stub that only restates the prompt (a def whose body is a docstring, `pass` or `...`:
    `_unfinished`, which leaves the body to a later block), or has a broken `def` line for one
    (`_tries_to_define`)."""
    if tree is None:
        return _tries_to_define(body, set(names))
    stubs = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
             and node.name in names and _unfinished(node)]
    others = ast.Module(body=[node for node in tree.body if not any(node is stub for stub in stubs)], type_ignores=[])
    return _defines(others, names)


def _continues(prefix: str, body: str) -> bool:
    """Whether a block that does not parse alone continues `prefix` (HumanEval's prompt): it parses
    after it as written, or compiles after it once re-indented as the prompt's body (`_fits_after`:
    a body two spaces deep), as Code-v0 puts it there (`fitted_body`)."""
    return bool(prefix) and (_parse(prefix + body) is not None or _fits_after(prefix, body))


def _definition_names(node: ast.stmt) -> set[str]:
    """The names a top-level statement of another block defines, when it only defines: a def or
    class, an import (not `from __future__`, which must open its module), or an assignment to plain
    names of a value that calls nothing (`MOD = 10**9 + 7`; not `data = input()`, which would run).
    Other statements (prints, usage examples, reading input) are never carried over."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            return set()
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names if alias.name != "*"}
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if all(isinstance(target, ast.Name) for target in targets) and not _calls(node.value):
            return {target.id for target in targets}
    return set()


#: A line end as Python's tokenizer reads one (`str.splitlines` also splits at form feeds and
#: other characters that do not end a line of code).
_SOURCE_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_future_imports(code: str) -> tuple[str, str]:
    """(the `from __future__` imports that open `code`, one per line; `code` without them).

    Such an import must come first in its module (after a docstring at most): code that is put
    after other code (a whole-function answer after the HumanEval prompt) has to give them up to
    the very top, or it no longer compiles and a right answer scores 0. Each import's lines are
    left blank, so the rest keeps its line numbers; one that shares a line with another statement
    (`from __future__ import annotations; import os`) becomes `pass`. ("", `code`) when it does
    not parse or opens with no such import."""
    tree = _parse(code) if "__future__" in code else None
    if tree is None:
        return "", code
    nodes = []
    for position, node in enumerate(tree.body):
        if _is_docstring(position, node):
            continue  # the module's docstring: it may come before them
        if not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            break
        nodes.append((position, node))
    if not nodes:
        return "", code
    lines = _SOURCE_LINE.findall(code)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(lineno: int, col: int) -> int:  # `col` counts UTF-8 bytes, as ast's offsets do
        return starts[lineno - 1] + len(lines[lineno - 1].encode("utf-8")[:col].decode("utf-8", "replace"))

    futures, text = [], code
    for position, node in reversed(nodes):
        futures.append(ast.unparse(node))
        start, end = offset(node.lineno, node.col_offset), offset(node.end_lineno, node.end_col_offset)
        before = tree.body[position - 1].end_lineno if position else 0
        after = tree.body[position + 1].lineno if position + 1 < len(tree.body) else None
        alone = before < node.lineno and (after is None or after > node.end_lineno)
        text = text[:start] + ("\n" * (node.end_lineno - node.lineno) if alone else "pass") + text[end:]
    return "\n".join(reversed(futures)) + "\n", text


# -- a HumanEval body-only answer indented unlike the prompt's body ---------------------------------
# Shared by `_qualifies` (which block is the body) and Code-v0 (which puts it after the prompt), so
# that both read a body at column 0 or two spaces deep by the same rule.

#: Python 3.12+ tokenizes an f-string in parts, between these two tokens (older versions: one STRING).
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)
_FSTRING_END = getattr(tokenize, "FSTRING_END", None)


def compiles(source: str) -> bool:
    """Whether Python compiles `source`: it parses, and has no `return` or `yield` outside a function
    (which `ast.parse` lets through, and the interpreter refuses when it loads the program). Warnings
    are silenced: a SyntaxWarning (`x is 1`) would print in the caller's process for every such
    answer, and under `-W error` would make code that runs count as not compiling."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, "<program>", "exec", dont_inherit=True)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def _leading_space(line: str) -> str:
    return line[:len(line) - len(line.lstrip(" \t"))]


def _unfinished(node: ast.AST) -> bool:
    """A function left for the answer to finish: its body only stub statements (a docstring, `pass`,
    `...`, `raise NotImplementedError`: `code_plan.is_stub_statement`, the test that keeps such a
    prompt function out of the helpers too)."""
    return all(map(is_stub_statement, node.body))


def body_indents(prompt: str) -> list[str]:
    """The indentations a body-only answer may continue the prompt at, the most likely first:
    following the prompt's last def or class down (a method stub in a class, a def nested in a
    function), the innermost function left unfinished (`_unfinished`), then each function around
    it outwards (an answer may finish a nested stub and then the function holding it); without an
    unfinished one, the outermost function reached. Each gives its body's first line's indentation.
    ["    "] when none has a body on a line of its own (a bare signature, which does not parse, or
    `def f(): pass`)."""
    tree = _parse(prompt)
    node, reached = tree, []
    while node is not None:
        scopes = [child for child in node.body if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        node = scopes[-1] if scopes else None
        if node is not None and not isinstance(node, ast.ClassDef):
            reached.append(node)
    unfinished = [depth for depth, function in enumerate(reached) if _unfinished(function)]
    chain = reached[unfinished[-1]::-1] if unfinished else reached[:1]
    lines = _SOURCE_LINE.findall(prompt) if chain else []
    indents: list[str] = []
    for function in chain:
        first = function.body[0]
        indent = _leading_space(lines[first.lineno - 1]) if first.lineno <= len(lines) else ""
        if indent and len(indent) == first.col_offset and indent not in indents:  # the body starts its line
            indents.append(indent)
    return indents or ["    "]


def _lines_in_strings(code: str) -> set[int] | None:
    """The indices of the lines of `code` (as `_SOURCE_LINE` splits it) that start inside a string
    (the later lines of a multi-line string literal): their leading spaces are the string's text.
    None when `code` does not tokenize (an unclosed string, inconsistent dedents)."""
    inside: set[int] = set()
    if '"""' not in code and "'''" not in code and "\\\n" not in code and "\\\r" not in code:
        return inside  # no string can span lines: the (slow) tokenizer is spared on long answers
    opened: list[int] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(code, newline="").readline):
            if token.type == tokenize.STRING:  # rows start+1..end (1-based) are the indices start..end-1
                inside.update(range(token.start[0], token.end[0]))
            elif token.type == _FSTRING_START:
                opened.append(token.start[0])
            elif token.type == _FSTRING_END and opened:
                inside.update(range(opened.pop(), token.end[0]))
    except (tokenize.TokenError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return inside


def _reindented(code: str, indent: str) -> str | None:
    """`code` dedented and indented by `indent`, as `textwrap` would, except that the lines starting
    inside a string literal are left as they are (`text = \"\"\"Hello,\\n{}!\"\"\"` keeps its text).
    None when `code` does not tokenize."""
    inside = _lines_in_strings(code)
    if inside is None:
        return None
    lines = _SOURCE_LINE.findall(code)
    code_lines = [number for number, line in enumerate(lines) if number not in inside and line.strip()]
    margin = len(os.path.commonprefix([_leading_space(lines[number]) for number in code_lines])) if code_lines else 0
    return "".join(line if number in inside else line.lstrip(" \t") if not line.strip() else indent + line[margin:]
                   for number, line in enumerate(lines))


def fitted_body(before: str, code: str, prompt: str) -> str:
    """A HumanEval body-only answer `code`, re-indented to the body of the prompt's unfinished function
    when it does not compile after the prompt (`before`) as written but does once re-indented: a body
    written at column 0 or two spaces deep (fence extraction loses the prompt's indentation) is
    dedented, then indented as the body of the prompt's innermost unfinished function is, else as
    that of each function around it in turn, the first that compiles (`body_indents`: `return x % 10`
    then `return sorted(xs, key=key)` finishes a nested stub `key` and then the function holding
    it), lines inside string literals untouched (`_reindented`). Code that compiles as written (a
    whole function, a body indented right) or that no indentation fixes is left as it is."""
    if compiles(before + code):
        return code
    for indent in body_indents(prompt):
        fitted = _reindented(code, indent)
        if fitted is None:
            return code
        if fitted != code and compiles(before + fitted):
            return fitted
    return code


def _fits_after(prefix: str, body: str) -> bool:
    """Whether block `body` compiles after `prefix` (HumanEval's prompt) only once re-indented as the
    prompt's body (`fitted_body`): a function body at column 0 or two spaces deep."""
    before = prefix if prefix.endswith("\n") else prefix + "\n"
    return fitted_body(before, body, prefix) != body


@functools.lru_cache(maxsize=64)
def _prompt_tree(prompt: str) -> ast.Module | None:
    """A HumanEval prompt parsed; a bare signature (`def f(x):`, which does not parse) is read with
    a `pass` body after it. None when neither parses."""
    tree = _parse(prompt)
    if tree is None:
        last = prompt.rstrip().rsplit("\n", 1)[-1]
        tree = _parse(prompt.rstrip() + "\n" + _leading_space(last) + "    pass\n")
    return tree


@functools.lru_cache(maxsize=64)
def prompt_names(prompt: str) -> frozenset[str]:
    """The names a HumanEval prompt binds anywhere (its imports, helpers, functions and their
    parameters): a body-only answer put into the prompt's function has them (`_prompt_tree`)."""
    tree = _prompt_tree(prompt)
    return frozenset(bound_and_used([tree])[0]) if tree is not None else frozenset()


def prompt_stubs(prompt: str) -> frozenset[str]:
    """The names of the functions and classes a prompt leaves as stubs for the answer to write
    (`code_plan._is_stub`: a docstring-only `def helper(x)` beside the entry point): the answer's
    own version of one, in another block than its body, is the helper it means."""
    tree = _prompt_tree(prompt)
    return frozenset(node.name for node in tree.body if _is_stub(node)) if tree is not None else frozenset()


def _needs_names(tree: ast.Module, prompt: str, given: Collection[str] = ()) -> bool:
    """Whether body `tree` uses a name that neither it, the prompt (`prompt_names`), the builtins
    nor another block (`given`) bind: it cannot run as the function's whole body (`return
    sorted(seen)`, `seen` set by a draft body only)."""
    bound, used = bound_and_used([tree])
    return bool(used - bound - prompt_names(prompt) - BUILTIN_NAMES - set(given))


def _ends_in_return(statements: list[ast.stmt]) -> bool:
    """Whether a body ends as a function's whole body does: its last statement is a `return` or a
    `raise`, or an `if` whose branches (an `else` too) each end so. Walked with a stack: a long
    `elif` chain must not raise."""
    stack = [statements]
    while stack:
        body = stack.pop()
        last = body[-1] if body else None
        if isinstance(last, ast.If):
            stack += [last.body, last.orelse]
        elif not isinstance(last, (ast.Return, ast.Raise)):
            return False
    return True
