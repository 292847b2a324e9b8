"""Pulling the program out of a model's answer: fenced code blocks, or the raw text.

The work is done in three layers, each importing only the ones below it:

- `code_fences`: the fenced blocks and their language tags; `extract_code` (the last, first or all
  blocks of a language, else the raw text).
- `code_answer`: which Python block is the program (the last that defines the names asked for, or
  reads standard input, or calls anything; skipping usage examples, "test it locally" drivers and
  sample input/output), completed with corrections given in later blocks and a later `main()` call.
- this module: `extract_program`, which chooses the block through `code_answer` (giving it the prose
  before each block, `_prose_before_blocks`, which tells an aside from a fix) and puts before it
  what it uses of the other blocks' definitions; also `split_future_imports` (from `code_answer`).

An answer may split its program over blocks: a helper first, then the function that calls it, or
the function first and then its helper or a forgotten `import math`. When the chosen block parses
(a body indented as the prompt's, once dedented) and uses names it does not define that other blocks define at top level (a def or class, an
import, or a constant assigned a value that calls nothing), those definitions are put before it
(`_with_other_definitions`), with what they need in turn: from an earlier block when one defines
the name, else from a later one. Nothing else of the other blocks is taken (no prints, calls or
usage examples), save the one later call `code_answer._with_later_call` adds. An answer in one
block, or whose chosen block needs nothing from the others, is taken exactly as before.

Should the reading of the answer as one program fail (absurdly deep code), `extract_program` falls
back to the chosen block with the definitions it uses (`_plain_program`): it never raises on any text.
"""

from __future__ import annotations

import ast
import builtins
from typing import Collection

from rlvr.verifiers.code_answer import (
    _Answer, _calls, _continues, _definition_names, _defines, _first_line, _gives_version, _is_docstring,
    _last_reading_block, _qualifies, _reads_input, _reindented, _tries_to_define, _with_later_call,
    prompt_names, prompt_stubs, split_future_imports,
)
from rlvr.verifiers.code_fences import LANGUAGE_TAGS, MODES, _language_bodies, _parse, _tag_counts, extract_code, fenced_blocks
from rlvr.verifiers.code_plan import bound_and_used

__all__ = ["extract_code", "extract_code_text", "extract_program", "split_future_imports", "LANGUAGE_TAGS", "MODES"]

#: The byte-order mark an editor may put before a file: Python runs a source file that starts with
#: one, but `ast.parse` and `exec` of text refuse it, so it is dropped from the answer and its blocks.
_BOM = "\ufeff"


def extract_code_text(text: str, language: str = "python", mode: str = "last") -> str:
    """`extract_code(text, language, mode)` less a leading byte-order mark (U+FEFF) of the text and
    of each block taken: with mode "all" every block's, not only the first's (Python runs a file
    that starts with one; the joined blocks would hold the others' mid-program, which it refuses).
    Mode "raw" gives the text less its own leading mark only."""
    if not isinstance(text, str) or mode not in ("first", "last", "all"):  # extract_code says what is wrong
        return extract_code(text.removeprefix(_BOM) if isinstance(text, str) else text, language=language, mode=mode)
    text = text.removeprefix(_BOM)
    bodies = [body.strip("\n").removeprefix(_BOM) for body in _language_bodies(text, language)]
    if not bodies:
        return extract_code(text, language=language, mode=mode)  # the raw text (less its mark)
    return bodies[0] if mode == "first" else bodies[-1] if mode == "last" else "\n\n".join(bodies)


def extract_program(text: str, defines: Collection[str] = (), *, prefix: str = "", any_function: bool = False) -> str:
    """The Python program in a model's answer, skipping usage examples after it.

    With `defines` (e.g. a function task's entry point): the last fenced block that parses and
    defines one of those names at top level (an import does not), or that does not parse but has
    a top-level `def` or `class` line for one (a broken final version is still the final answer).
    Without: the last block that parses and reads standard input (`input(`, `sys.stdin`,
    `open(0)`; a local test that feeds its own input, `sys.stdin = io.StringIO(...)` then a
    `main()` of another block, does not count: `_is_driver`), followed, when it only defines, by a
    later block that only runs a function it defines and never calls (`main()` in a block of its
    own: `_with_later_call`), else the last block that parses
    and calls something (a stdin/stdout program;
    sample input/output blocks call nothing, and a usage line `main()  # prints 4` reads nothing). `prefix` is code
    the answer may continue (HumanEval's prompt): a block that does not parse alone but does after
    it (a function body) also qualifies, and so does one that does not compile alone (a body at
    column 0: `return` outside a function) or parse after it (two spaces deep) but compiles after it
    once re-indented as the prompt's body (`code_answer.fitted_body`, as Code-v0 puts it there); such
    a body unless it is one run of the lines of a block defining one of `defines` (`_Answer.quotes`:
    a quoted excerpt after a whole solution is no new version of it; a reordered or re-nested body
    is a correction). The fallback for code too deep to read (`_plain_program`) keeps the simpler
    rule: a body only when no block defines one of `defines`. With `any_function` and no `defines` (a function task whose
    tests do not name the function): the last block that parses and defines a function at top level.
    When no block qualifies: `extract_code(text)` (the last block, else the whole text). A leading
    byte-order mark (U+FEFF) of the text and of each block's code is dropped. The block
    taken gets the definitions from the other blocks that it uses without defining (a helper in a
    block of its own, before or after it), put before it: see `_with_other_definitions`.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    names = {defines} if isinstance(defines, str) else set(defines)
    text = text.removeprefix(_BOM)  # a byte-order mark before the answer or a block's code: python3 runs it
    bodies = [body.removeprefix(_BOM).strip("\n") for body in _language_bodies(text, "python")]
    try:
        answer = _Answer(bodies, _prose_before_blocks(text))
        reading = None if names or any_function else _last_reading_block(answer)
        if reading is not None:
            found, patches = reading
            program = _with_later_call(answer, found, patches)
            return _with_other_definitions(program, bodies[:found], bodies[found + 1:])
        for index in range(len(bodies) - 1, -1, -1):
            if _qualifies(answer, index, names, prefix, any_function):
                return _with_other_definitions(bodies[index], bodies[:index], bodies[index + 1:], names, prefix)
        return extract_code(text).removeprefix(_BOM)
    except Exception:  # e.g. RecursionError on absurdly deep code: never raise, a right answer would score 0
        return _plain_program(text, bodies, names, prefix, any_function)


def _prose_before_blocks(text: str) -> list[str]:
    """The text before each Python block (as `_language_bodies` gives them) since the fenced block
    before it, of any language (`code_fences.fenced_blocks`): the prose that introduces it ("A
    faster approach sorts first:"), which `code_answer._Answer.marks_an_aside` reads."""
    tags = LANGUAGE_TAGS["python"]
    return [prose for tag, _, prose in fenced_blocks(text) if _tag_counts(tag, tags)]


def _plain_program(text: str, bodies: list[str], names: set[str], prefix: str, any_function: bool) -> str:
    """What `extract_program` gives without its reading of the answer as one program (drivers,
    later calls, corrections): the last block that reads input, else the last that qualifies, with
    the definitions of other blocks it uses when those can be worked out. A fallback for code the
    full reading fails on (absurdly deep nesting), so that extraction never raises."""
    chosen = None
    writes = any(_gives_version(body, _parse(body), names) for body in bodies) if names and prefix else False
    for index in range(len(bodies) - 1, -1, -1) if not (names or any_function) else ():
        tree = _parse(bodies[index])
        if tree is not None and _reads_input(tree):
            chosen = index
            break
    for index in range(len(bodies) - 1, -1, -1) if chosen is None else ():
        tree = _parse(bodies[index])
        if tree is None and (_tries_to_define(bodies[index], names) or _continues(prefix, bodies[index]) and not writes):
            chosen = index
            break
        if tree is not None and (any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) for node in tree.body)
                                 if any_function and not names else _defines(tree, names) if names else _calls(tree)):
            chosen = index
            break
    if chosen is None:
        return extract_code(text).removeprefix(_BOM)
    try:
        return _with_other_definitions(bodies[chosen], bodies[:chosen], bodies[chosen + 1:], names, prefix)
    except Exception:
        return bodies[chosen]


#: Builtin names: a block that uses one (`len`, `input`) does not need it from an earlier block.
_BUILTIN_NAMES = frozenset(dir(builtins))


def _free_names(node: ast.AST) -> set[str]:
    """The names `node` uses but never binds, less the builtins."""
    bound, used = bound_and_used([node])
    return used - bound - _BUILTIN_NAMES


def _statement_text(block: str, tree: ast.Module, position: int) -> str:
    """The source of the top-level statement at `position` in `tree` (parsed from `block`): its
    lines as written, decorators included; its unparsed form when it shares a line with another
    statement (`import os; x = 1`)."""
    node = tree.body[position]
    start = _first_line(node)
    before = tree.body[position - 1].end_lineno if position else 0
    after = tree.body[position + 1].lineno if position + 1 < len(tree.body) else None
    if before >= start or (after is not None and after <= node.end_lineno):
        return ast.unparse(node)
    return "\n".join(block.split("\n")[start - 1:node.end_lineno])


def _definitions(blocks: list[str], offset: int) -> tuple[dict[str, tuple[int, int]], dict[int, ast.Module]]:
    """({name: (block number, statement)} of the last definition of each name in `blocks`, numbered
    from `offset`), and the parsed blocks by number (`_definition_names`; blocks that do not parse
    define nothing). A call-free constant (`MOD = 10**9 + 7`) counts from any block, one with a
    usage example's call or `sys.setrecursionlimit` too; which names a body takes is filtered per
    name by `_with_other_definitions` (not its prompt's names or parameters)."""
    found: dict[str, tuple[int, int]] = {}
    parsed: dict[int, ast.Module] = {}
    for number, block in enumerate(blocks, offset):
        tree = _parse(block)
        if tree is None:
            continue
        parsed[number] = tree
        for position, node in enumerate(tree.body):
            for name in _definition_names(node):
                found[name] = (number, position)
    return found, parsed


def _with_other_definitions(body: str, earlier: list[str], later: list[str], entry: Collection[str] = (),
                            prefix: str = "") -> str:
    """`body`, the chosen block, preceded by what the other blocks define at top level that it uses
    without defining itself (a helper in its own block before or after the function that calls it,
    an import given after it), and what those definitions use in turn. Each name is taken from the
    last earlier block that defines it, else from the last later block that does: a name the
    answer defines before its chosen block is taken as before. Only definitions are taken
    (`_definition_names`), never a later usage example's prints or calls, and never a name the
    chosen block binds itself (a later block that redefines the function is not merged: for a
    function task it would have been the chosen block), nor, when the body defines none of `entry`
    (the names the program must define), one of those: a block chosen as a body of the entry point (`return fib(n - 1) + fib(n - 2)`) is
    put inside the prompt's `def`, and another block's `def fib` before it would make it code at
    top level that does not compile. Such a body has the names the prompt (`prefix`) binds, its
    function's parameters among them (`prompt_names`), but not the prompt's stubs (`prompt_stubs`:
    a docstring-only `def helper(x)` the answer writes in another block): a usage example's
    `numbers = [1.0, 2.0]` or a draft's `l = l[1:]` is not put in to overwrite the parameter, while
    a constant the body uses (`MOD = 10**9 + 7`) is, from any block (`_definitions`). The
    definitions keep their order in the answer; they go after the body's docstring and `from __future__` imports, which must open the
    module. A body indented as a continuation of the prompt (`    return helper(x)`, HumanEval's four
    spaces) does not parse alone: its names are read from it dedented (lines inside strings kept,
    `_reindented`), and with definitions found it is given dedented after them, as a body at column
    0 is, to be fitted into the prompt's function (`fitted_body`). `body` as it is when it does not
    parse (dedented either), uses no such name, or is the answer's only block."""
    if not (earlier or later):
        return body
    written, tree = body, _parse(body)
    if tree is None:  # an indented body: read dedented
        dedented = _reindented(body, "")
        tree = _parse(dedented) if dedented is not None and dedented != body else None
        if tree is None:
            return body
        body = dedented
    into_body = bool(entry) and not _defines(tree, entry)  # a body of the prompt's function: see above
    # the prompt's names but its stubs, which another block's `def helper` writes
    own = bound_and_used([tree])[0] | (set(entry) | prompt_names(prefix) - prompt_stubs(prefix) if into_body else set())
    found, parsed = _definitions(earlier, 0)
    blocks = dict(enumerate(earlier))
    if later:  # after the chosen block (number len(earlier)): only names no earlier block defines
        later_found, later_parsed = _definitions(later, len(earlier) + 1)
        found = {**later_found, **found}
        parsed.update(later_parsed)
        blocks.update(enumerate(later, len(earlier) + 1))
    wanted = [name for name in sorted(_free_names(tree)) if name in found]
    chosen: set[tuple[int, int]] = set()
    while wanted:
        name = wanted.pop()
        place = found[name]
        if name in own or place in chosen:
            continue
        chosen.add(place)
        node = parsed[place[0]].body[place[1]]
        wanted.extend(other for other in _free_names(node) if other in found)
    if not chosen:
        return written
    texts = [_statement_text(blocks[number], parsed[number], position) for number, position in sorted(chosen)]
    # after the body's docstring and `from __future__` imports, which must open the module
    opening = 0
    for position, node in enumerate(tree.body):
        if not (_is_docstring(position, node) or (isinstance(node, ast.ImportFrom) and node.module == "__future__")):
            break
        opening = node.end_lineno
    lines = body.splitlines(keepends=True)
    head, rest = "".join(lines[:opening]), "".join(lines[opening:])
    return head + ("\n" if head and not head.endswith("\n") else "") + "\n\n".join(texts) + "\n\n\n" + rest
