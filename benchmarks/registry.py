"""Benchmark definitions: where each set comes from, how its rows map onto an environment.

Built in (hub ids checked against the public releases; `--data PATH` loads a local copy in the
same column layout):

| name       | hub id (config, split)                               | env     | size |
|------------|------------------------------------------------------|---------|------|
| gsm8k      | openai/gsm8k (main, test)                            | Math-v0 | 1319 |
| math500    | HuggingFaceH4/MATH-500 (test)                        | Math-v0 | 500  |
| aime2024   | HuggingFaceH4/aime_2024 (train)                      | Math-v0 | 30   |
| aime2025   | yentinglin/aime_2025 (train)                         | Math-v0 | 30   |
| humaneval  | openai/openai_humaneval (test)                       | Code-v0 | 164  |
| mbpp       | google-research-datasets/mbpp (sanitized, test)      | Code-v0 | 257  |
| apps       | codeparrot/apps (all, test)                          | Code-v0 | 5000 |

An MBPP+ file (evalplus/mbppplus: the MBPP columns plus a `test` script checking every base and
plus input) given to `mbpp` with `--data` is scored by its `test` scripts (`_mbpp`); the run's data
fingerprint and warnings say so.

A benchmark is data + an environment: `prepare` turns the raw rows into the env's layout (and
gives every task a stable `task_id`), `reference` gives a completion that must score right (the
dataset's own solution, used by the checks). Users add their own from any registered env with
`register_benchmark`.
"""

from __future__ import annotations

import ast
import json
import numbers
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from rlvr.benchmarks.data import BenchmarkDataError, RowFile, load_hub, load_local, row_line
from rlvr.envs.tasks import DatasetError, ListSource, Task, is_missing

Row = dict[str, Any]

#: `max_action_chars` of a benchmark's env unless `--max-chars` sets one: no cap in practice. The
#: envs' default (16,384 characters, a training-time guard) would score a reasoning model's long
#: but right answers wrong as "over-long".
NO_CHAR_LIMIT = 10**9


@dataclass(frozen=True)
class Benchmark:
    """One benchmark.

    Attributes:
        name: what `--benchmark` takes.
        env_id: the registered environment that asks and scores (e.g. "rlvr/Math-v0").
        kind: "math" (maj@k is reported, answers batch-verified), "code" (batched in the sandbox)
            or "env" (any other env: each sample is stepped through the env).
        hub_id / config / split / revision: where `datasets` finds it (None: no hub copy).
        one_split: the hub release has this split only (AIME's `train`, MATH-500's `test`): a
            local copy that names its one split otherwise (math-ai/aime25's `test.jsonl`) is the
            same set, so `--data` takes a lone file or save_to_disk split whatever split it is
            named for. False (the default): the release has other splits, and a folder holding
            only another split's file is refused rather than evaluated as this one.
        size: the number of rows in the source split (for `rlvr benchmarks list`).
        size_given: `size` was given to `register_benchmark`: the benchmark is the env's first
            `size` tasks, also of a `--data` file (at most its rows); else `--data` is used whole.
        size_note: what of those rows is used, when not all of them (e.g. "easy subset used").
        columns: raw columns that must be present (checked with a clear error).
        prepare: raw rows -> rows in the env's layout, each with a "task_id"; raises
            BenchmarkDataError naming the row for a bad one (a null gold answer...); returns a
            `Prepared` when it leaves rows out on purpose, so they are counted and reported.
        reference: prepared row -> a completion that is right (None: no reference solutions).
        env_kwargs: extra arguments for the env (question_key, answer_key, id_key...).
        version: bumped when the mapping changes, so results say which mapping scored them.
        description: one line for listings.
    """

    name: str
    env_id: str
    kind: str = "env"
    hub_id: str | None = None
    config: str | None = None
    split: str | None = None
    revision: str | None = None
    size: int | None = None
    size_given: bool = False
    size_note: str = ""
    columns: tuple[str, ...] = ()
    prepare: Callable[[list[Row]], list[Row]] | None = None
    reference: Callable[[Row], str] | None = None
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)
    version: str = "1"
    description: str = ""
    one_split: bool = False

    @property
    def size_label(self) -> str:
        """The size as `rlvr benchmarks list` shows it: "1319", or "5000 rows, easy subset used"."""
        if self.size is None:
            return "?"
        return f"{self.size} rows, {self.size_note}" if self.size_note else str(self.size)

    @property
    def source(self) -> str:
        if not self.hub_id:
            return "env " + self.env_id
        parts = [p for p in (self.config, self.split) if p]
        return self.hub_id + (f" ({', '.join(parts)})" if parts else "")


@dataclass
class LoadedBenchmark:
    """A benchmark ready to score: its env, its tasks in order, and what identifies the data.

    `skipped` maps the task ids of source rows the mapping leaves out on purpose (APPS problems
    without tests) to why; `warnings` say what a run's summary should report about the data;
    `all_ids` are the ids of every task before `limit` kept the first N (None: no limit applied).
    `source_rows` is the data row of each task (rows skipped on purpose counted; None: task i is
    row i) and `data_files` the local files they were read from (`Rows.files`), so messages can
    name a task as the load errors do (`task_label`).
    """

    benchmark: Benchmark
    env: Any
    tasks: list[Task]
    rows: list[Row] | None
    data_fingerprint: dict[str, Any]
    skipped: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    all_ids: list[str] | None = None
    source_rows: list[int] | None = None
    data_files: list[RowFile] = field(default_factory=list)

    def task_label(self, i: int) -> str:
        """How messages name task i: "task 'HumanEval/7' (row 7)", its row of the data (rows the
        mapping skipped counted, so it is the row to fix), with its line of a JSON Lines file where
        the row number does not give it, or its file and row there in a folder of several files
        (`row_line`)."""
        row = self.source_rows[i] if self.source_rows is not None else i
        line = row_line(self.data_files, row)
        return f"task {self.tasks[i].id!r} (row {row}{', ' + line if line else ''})"

    @property
    def known_ids(self) -> list[str]:
        """Every task id of the benchmark, also those beyond `limit` (what a completions file may name)."""
        return self.all_ids if self.all_ids is not None else [task.id for task in self.tasks]

    def fingerprint(self) -> dict[str, Any]:
        env_fp = self.env.fingerprint().to_dict()
        return {
            "benchmark": self.benchmark.name,
            "benchmark_version": self.benchmark.version,
            "data": self.data_fingerprint,
            "num_tasks": len(self.tasks),
            "env": env_fp,
            "env_digest": self.env.fingerprint().digest,
            "verifier": env_fp.get("verifier"),
        }

    def references(self) -> list[str]:
        """The dataset's own solution for every task (for the 100% check)."""
        if self.rows is None or self.benchmark.reference is None:
            raise ValueError(f"benchmark {self.benchmark.name!r} has no reference solutions")
        return [self.benchmark.reference(row) for row in self.rows]


# ------------------------------------------------------------------ built-in mappings


class Prepared(list):
    """What a `prepare` returns when it leaves source rows out on purpose or reads the data in a
    way a run must record: the prepared rows, plus `skipped` = {reason: [task ids]} so the loader
    can count and report them, `notes` added to the data fingerprint (so the summary says how the
    rows were read, and a results folder scored another way is not resumed) and `warnings` for the
    run's summary. A plain list means none of these."""

    def __init__(self, rows: Sequence[Row] = (), skipped: Mapping[str, list[str]] | None = None, *,
                 notes: Mapping[str, Any] | None = None, warnings: Sequence[str] = (),
                 sources: Sequence[int] | None = None) -> None:
        super().__init__(rows)
        self.skipped: dict[str, list[str]] = dict(skipped or {})
        self.notes: dict[str, Any] = dict(notes or {})
        self.warnings: list[str] = list(warnings)
        #: the source row of each prepared row (None: row i is source row i, nothing was skipped)
        self.sources: list[int] | None = list(sources) if sources is not None else None


def _cell(row: Row, i: int, column: str) -> Any:
    """Row i's value in a text `column` (a question, gold answer, prompt, test script, entry point,
    task id); a BenchmarkDataError naming the row and column when it is null, NaN, missing, blank,
    a boolean, or a list or object (str() would make a missing gold answer the answer "None", NaN
    the answer "nan", and the list [1, 2] the gold text "[1, 2]", a Python repr no model writes).
    List columns (MBPP's `test_list`) are read by `_string_list`, never by this."""
    value = row.get(column)
    if is_missing(value):  # None, or NaN (an empty cell of a parquet or pandas export)
        raise BenchmarkDataError(f"row {i}: column {column!r} is null or missing ({value!r}); every row needs it: "
                                 f"fix the row or drop it")
    if isinstance(value, bool):  # str() would make it the text "True"
        raise BenchmarkDataError(f"row {i}: column {column!r} is a boolean ({value!r}), not text or a number: fix the row")
    if not isinstance(value, (str, numbers.Number)):  # a list, an object, an array: str() writes its repr
        kind = "an object" if isinstance(value, Mapping) else "a list" if isinstance(value, (list, tuple)) else (
            f"a {type(value).__name__}")
        raise BenchmarkDataError(f"row {i}: column {column!r} is {kind} ({value!r:.80}), not text or a number: write "
                                 f"it as one string (e.g. the answer \"1, 2\" as the text a right answer gives)")
    if isinstance(value, str) and not value.strip():
        raise BenchmarkDataError(f"row {i}: column {column!r} is empty; every row needs it: fix the row or drop it")
    return value


def _parse_list_literal(text: str) -> Any:
    """A JSON or Python list literal in a string (how a CSV export writes a list column), else None."""
    for parse in (json.loads, ast.literal_eval):
        try:
            return parse(text.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return None


def _adjacent_strings(text: str) -> bool:
    """Whether `text` holds two string literals with nothing between them, as in `['a' 'b']`: how
    NumPy prints an array of strings, so how `Dataset.to_csv` writes a list column. Python's
    parser joins such literals into one string, making two items one."""
    import io
    import tokenize

    skipped = (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT)
    try:
        tokens = [t.type for t in tokenize.generate_tokens(io.StringIO(text.strip()).readline) if t.type not in skipped]
    except (tokenize.TokenError, SyntaxError):
        return False
    return any(a == b == tokenize.STRING for a, b in zip(tokens, tokens[1:]))


def _string_list(value: Any, i: int, column: str) -> list[str]:
    """A list-of-strings cell as a list; a string holding a list literal (CSV) is parsed. Anything
    else is a BenchmarkDataError naming the row: list() would split a string into characters, and
    a NumPy-style list without commas would have its items joined."""
    if value is None:
        raise BenchmarkDataError(f"row {i}: column {column!r} is null or missing; it must be a list of strings")
    if isinstance(value, str):
        if _adjacent_strings(value):
            raise BenchmarkDataError(
                f"row {i}: column {column!r} holds a list without commas between its items ({value!r:.80}), as "
                f"Dataset.to_csv writes list columns; it cannot be read back as a list. Export the data with "
                f"to_json('name.jsonl') or to_parquet('name.parquet') instead")
        parsed = _parse_list_literal(value)
        if not isinstance(parsed, (list, tuple)):
            raise BenchmarkDataError(f"row {i}: column {column!r} is a string that is not a list literal ({value!r:.80}); "
                                     f"it must be a list of strings, e.g. [\"assert f(1) == 2\"]")
        value = parsed
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise BenchmarkDataError(f"row {i}: column {column!r} must be a list of strings, got {type(value).__name__} "
                                 f"({value!r:.80})")
    return list(value)


def _with_ids(rows: list[Row], id_column: str | None) -> list[Row]:
    out = []
    for i, row in enumerate(rows):
        row = dict(row)
        value = row.get(id_column) if id_column else None
        row["task_id"] = str(value) if value is not None and str(value) != "" else str(i)
        out.append(row)
    return out


def _gsm8k_answer(row: Row, i: int) -> str:
    """The answer text; it must hold the gold answer after "####" (else every sample would be
    compared against a whole worked solution)."""
    answer = str(_cell(row, i, "answer"))
    if "####" not in answer or not answer.rsplit("####", 1)[1].strip():
        raise BenchmarkDataError(f"row {i}: column 'answer' has no '#### <answer>' marker ({answer[-80:]!r}); GSM8K "
                                 f"answers end in '#### <number>', the gold answer")
    return answer


def _gsm8k(rows: list[Row]) -> list[Row]:
    return [{"task_id": str(i), "question": str(_cell(r, i, "question")), "answer": _gsm8k_answer(r, i)}
            for i, r in enumerate(rows)]


def _id_cell(row: Row, i: int, column: str) -> str:
    """Row i's task id in `column`, as text: a null or empty id is a BenchmarkDataError naming the
    row (`_cell`), and a whole-number float is written as an int ("60", not "60.0": pandas stores
    an integer column holding a null as floats), so completions keyed by the number still match."""
    value = _cell(row, i, column)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _ids(rows: list[Row], column: str) -> list[str]:
    """The task id of each row: its `column` (`_id_cell`) when the data has that column, else the
    row number (a copy of the data without it)."""
    if not any(column in r for r in rows):
        return [str(i) for i in range(len(rows))]
    return [_id_cell(r, i, column) for i, r in enumerate(rows)]


def _math500(rows: list[Row]) -> list[Row]:
    return [{"task_id": task_id, "question": str(_cell(r, i, "problem")), "answer": str(_cell(r, i, "answer")),
             "solution": r.get("solution") or ""} for i, (r, task_id) in enumerate(zip(rows, _ids(rows, "unique_id")))]


def _aime(rows: list[Row]) -> list[Row]:
    return [{"task_id": task_id, "question": str(_cell(r, i, "problem")), "answer": str(_cell(r, i, "answer")).strip(),
             "solution": r.get("solution") or ""} for i, (r, task_id) in enumerate(zip(rows, _ids(rows, "id")))]


def _math_reference(row: Row) -> str:
    solution = row.get("solution") or ""
    if "\\boxed" in solution:
        return solution
    return (solution + "\n\n" if solution else "") + f"The final answer is $\\boxed{{{row['answer']}}}$."


def _humaneval(rows: list[Row]) -> list[Row]:
    return [{"task_id": str(_cell(r, i, "task_id")), "prompt": str(_cell(r, i, "prompt")), "test": str(_cell(r, i, "test")),
             "entry_point": str(_cell(r, i, "entry_point")), "canonical_solution": r.get("canonical_solution") or ""}
            for i, r in enumerate(rows)]


def _mbpp_imports(row: Row, i: int) -> list[str]:
    """`test_imports` as import lines: a list, a list literal in a string (CSV), or one import line."""
    imports = row.get("test_imports")
    if imports is None or (isinstance(imports, str) and not imports.strip()):
        return []
    if isinstance(imports, str) and not imports.lstrip().startswith(("[", "(")):
        return [imports]
    return _string_list(imports, i, "test_imports")


def _mbpp_tests(row: Row, i: int) -> list[str]:
    tests = [t for t in _string_list(row.get("test_list"), i, "test_list") if t.strip()]
    if not tests:
        raise BenchmarkDataError(f"row {i}: column 'test_list' is empty; every MBPP task needs its asserts: fix the row "
                                 f"or drop it")
    return tests


#: The prepared-row key holding the assert an MBPP+ task's prompt shows (`_set_prompt_examples`).
PROMPT_EXAMPLE = "prompt_example"

#: What the data fingerprint of an MBPP+ file records (`Prepared.notes`): its `test` scripts are scored.
MBPP_PLUS_NOTE = {"tests_column": "test (MBPP+ scripts; test_list only gives the prompt's example)"}


def _mbpp_plus_script(row: Row, i: int, asserts: list[str], setup: str) -> str:
    """Row i's MBPP+ `test` script (evalplus/mbppplus: it defines an `assertion` helper and checks
    the function on every base and plus input). It must test the function `test_list` tests: the
    env reads the entry point from the script, the prompt's example from `test_list`."""
    from rlvr.envs.code_env import _mbpp_entry_point

    script = _cell(row, i, "test")
    if not isinstance(script, str):
        raise BenchmarkDataError(f"row {i}: column 'test' must be the MBPP+ test script (text), got "
                                 f"{type(script).__name__} ({script!r:.80})")
    asked, checked = _mbpp_entry_point(asserts, setup), _mbpp_entry_point([script], setup)
    if checked != asked:
        raise BenchmarkDataError(f"row {i}: the 'test' script checks the function {checked!r}, but 'test_list' tests "
                                 f"{asked!r}; both must test the same function: fix the row or drop it")
    return script


#: Why an MBPP row is left out (counted and reported, as APPS's rows without tests are): its asserts
#: or setup code build objects of a class its reference solution defines (MBPP/601's `Pair`,
#: MBPP/927's `Node`), which cannot leave the sandbox (`answer_class_call`).
MBPP_CLASS_OBJECTS = "tests build objects of a class the answer defines (they cannot leave the sandbox)"


def _mbpp(rows: list[Row]) -> Prepared:
    """MBPP rows in Code-v0's MBPP layout. An MBPP+ file (a `test` column, as evalplus/mbppplus
    has) is scored by its `test` scripts, which check every base and plus input, with the first
    `test_list` assert as the prompt's example; its fingerprint notes it and a warning says so.
    Scoring its `test_list` alone would report base MBPP under an MBPP+ file's name. Rows whose
    tests build objects of a class the answer defines (`MBPP_CLASS_OBJECTS`), which Code-v0 refuses
    since no answer could pass them rightly, are skipped and counted, as APPS's rows without tests."""
    from rlvr.envs.code_env import answer_class_call

    plus = any("test" in r for r in rows)
    out = []
    skipped: dict[str, list[str]] = {}
    sources = []
    for i, r in enumerate(rows):
        setup = "\n".join([*_mbpp_imports(r, i), r.get("test_setup_code") or ""]).strip()
        text = r.get("prompt") or r.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BenchmarkDataError(f"row {i}: columns 'prompt' and 'text' are both empty or missing; every MBPP task "
                                     f"needs its description: fix the row or drop it")
        asserts = _mbpp_tests(r, i)
        row = {"task_id": _id_cell(r, i, "task_id"), "text": text, "test_list": asserts,
               "test_setup_code": setup, "code": r.get("code") or ""}
        plus_script = r.get("test") if plus and isinstance(r.get("test"), str) else None
        # (judged before the MBPP+ script is read: a script building the class would name it as the tested function)
        if answer_class_call([*asserts, *([plus_script] if plus_script else [])], setup, row["code"]) is not None:
            skipped.setdefault(MBPP_CLASS_OBJECTS, []).append(row["task_id"])  # Code-v0 would refuse it
            continue
        if plus:
            row.update(test_list=[_mbpp_plus_script(r, i, asserts, setup)], **{PROMPT_EXAMPLE: asserts[0]})
        sources.append(i)
        out.append(row)
    sources = sources if skipped else None  # (None: row i is source row i)
    if not plus:
        return Prepared(out, skipped, sources=sources)
    numpy = sum("numpy" in r["test_list"][0] for r in out)
    warning = ("mbpp: the data has MBPP+'s 'test' column: each task is scored by its 'test' script (every base and "
               "plus input), not by 'test_list'; drop the 'test' column to score MBPP's base asserts instead")
    if numpy:
        warning += (f". {numpy} of {len(out)} scripts use numpy: the sandbox's Python needs it, or those samples are "
                    f"unverified")
    return Prepared(out, skipped, notes=MBPP_PLUS_NOTE, warnings=[warning], sources=sources)


#: Why an APPS row is left out (counted and reported, never silent).
APPS_NO_TESTS = "no tests (input_output empty)"


def _apps_case(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return "\n".join(map(str, value))
    return str(value)


def _apps_io(row: Row, i: int, task_id: str) -> Mapping[str, Any] | str:
    """Row i's parsed `input_output`, or the reason to skip the row (no tests). A value that does
    not parse, whose inputs and outputs do not pair up, or (call-based) whose `fn_name` is not a
    function name or whose inputs are not argument lists is a BenchmarkDataError: it is corrupt
    data, and dropping it silently would make its completions "unknown task ids"."""
    where = f"row {i} (problem_id {task_id})"
    blob = row.get("input_output")
    if blob is None or (isinstance(blob, str) and not blob.strip()):
        return APPS_NO_TESTS
    if isinstance(blob, str):
        try:
            blob = json.loads(blob)
        except ValueError as exc:
            raise BenchmarkDataError(f"{where}: column 'input_output' is not valid JSON ({getattr(exc, 'msg', exc)} at "
                                     f"character {getattr(exc, 'pos', '?')}); it must be like "
                                     f"{{\"inputs\": [...], \"outputs\": [...]}}") from None
    if not isinstance(blob, Mapping):
        raise BenchmarkDataError(f"{where}: column 'input_output' must be a JSON object with \"inputs\" and \"outputs\", "
                                 f"got {type(blob).__name__}")
    inputs, outputs = blob.get("inputs"), blob.get("outputs")
    if not isinstance(inputs, list) or not isinstance(outputs, list):
        raise BenchmarkDataError(f"{where}: 'input_output' needs \"inputs\" and \"outputs\" lists, got "
                                 f"{type(inputs).__name__} and {type(outputs).__name__}")
    if len(inputs) != len(outputs):
        raise BenchmarkDataError(f"{where}: 'input_output' has {len(inputs)} inputs but {len(outputs)} outputs; "
                                 f"each input needs its expected output")
    if not inputs:
        return APPS_NO_TESTS
    fn_name = blob.get("fn_name")
    if fn_name:  # (an empty fn_name is a stdin/stdout problem, as Code-v0 reads it)
        if not (isinstance(fn_name, str) and fn_name.isidentifier()):
            raise BenchmarkDataError(f"{where}: 'fn_name' in 'input_output' must be a Python function name, got {fn_name!r:.80}")
        bad = next((k for k, args in enumerate(inputs) if not isinstance(args, list)), None)
        if bad is not None:
            raise BenchmarkDataError(f"{where}: input {bad} of call-based problem {fn_name!r} must be the list of the "
                                     f"call's arguments, got {type(inputs[bad]).__name__} ({inputs[bad]!r:.80})")
    return blob


def _apps(rows: list[Row]) -> Prepared:
    """APPS problems in Code-v0's `input_output` layout: stdin/stdout ones (each case's input and
    output as text) and call-based ones (`fn_name`: each case calls the function, with the row's
    `starter_code` in the prompt). Rows without tests are skipped and counted; corrupt
    `input_output` is an error naming the row."""
    out = []
    skipped: dict[str, list[str]] = {}
    sources = []
    for i, r in enumerate(rows):
        task_id = _id_cell(r, i, "problem_id") if "problem_id" in r else str(i)
        io = _apps_io(r, i, task_id)
        if isinstance(io, str):
            skipped.setdefault(io, []).append(task_id)
            continue
        sources.append(i)
        if io.get("fn_name"):  # call-based: the arguments and return values as the data has them
            cases = {"fn_name": io["fn_name"], "inputs": io["inputs"], "outputs": io["outputs"]}
        else:
            cases = {"inputs": [_apps_case(x) for x in io["inputs"]], "outputs": [_apps_case(x) for x in io["outputs"]]}
        try:
            blob = json.dumps(cases, allow_nan=True)
        except (TypeError, ValueError) as exc:
            raise BenchmarkDataError(f"row {i} (problem_id {task_id}): 'input_output' holds a value JSON cannot "
                                     f"write ({exc})") from None
        solutions = r.get("solutions")
        try:
            solutions = json.loads(solutions) if isinstance(solutions, str) and solutions.strip() else (solutions or [])
        except ValueError:
            solutions = []
        starter = r.get("starter_code")
        out.append({"task_id": task_id, "question": str(_cell(r, i, "question")), "input_output": blob,
                    "starter_code": starter if isinstance(starter, str) else "",
                    "solution": solutions[0] if solutions else ""})
    return Prepared(out, skipped, sources=sources)


def _fenced(code: str) -> str:
    return f"```python\n{code}\n```"


_MATH_KW = {"question_key": "question", "answer_key": "answer", "id_key": "task_id"}

BUILTIN: dict[str, Benchmark] = {}


def _add(b: Benchmark) -> None:
    BUILTIN[b.name] = b


_add(Benchmark("gsm8k", "rlvr/Math-v0", "math", "openai/gsm8k", "main", "test", size=1319,
               columns=("question", "answer"), prepare=_gsm8k, reference=lambda r: r["answer"],
               env_kwargs=_MATH_KW, description="grade-school word problems; gold after '####'"))
_add(Benchmark("math500", "rlvr/Math-v0", "math", "HuggingFaceH4/MATH-500", None, "test", one_split=True, size=500,
               columns=("problem", "answer"), prepare=_math500, reference=_math_reference,
               env_kwargs=_MATH_KW, description="the 500-problem MATH test subset of 'Let's Verify Step by Step'"))
_add(Benchmark("aime2024", "rlvr/Math-v0", "math", "HuggingFaceH4/aime_2024", None, "train", one_split=True, size=30,
               columns=("problem", "answer"), prepare=_aime, reference=_math_reference,
               env_kwargs=_MATH_KW, description="AIME 2024 I and II, integer answers 0-999"))
_add(Benchmark("aime2025", "rlvr/Math-v0", "math", "yentinglin/aime_2025", None, "train", one_split=True, size=30,
               columns=("problem", "answer"), prepare=_aime, reference=_math_reference,
               env_kwargs=_MATH_KW, description="AIME 2025 I and II, integer answers 0-999"))
_add(Benchmark("humaneval", "rlvr/Code-v0", "code", "openai/openai_humaneval", None, "test", one_split=True, size=164,
               columns=("task_id", "prompt", "test", "entry_point"), prepare=_humaneval,
               reference=lambda r: r["canonical_solution"],
               description="Python functions from docstrings; completions may be the continuation of the prompt"))
_add(Benchmark("mbpp", "rlvr/Code-v0", "code", "google-research-datasets/mbpp", "sanitized", "test", size=257,
               columns=("task_id", "test_list"), prepare=_mbpp, reference=lambda r: _fenced(r["code"]),
               description="MBPP sanitized: short Python functions checked by asserts"))
_add(Benchmark("apps", "rlvr/Code-v0", "code", "codeparrot/apps", "all", "test", size=5000,
               columns=("question", "input_output"), prepare=_apps, reference=lambda r: _fenced(r["solution"]),
               version="2",  # 1 skipped the call-based problems
               description="APPS test: stdin/stdout and call-based (fn_name) problems"))

_USER: dict[str, Benchmark] = {}


def register_benchmark(
    name: str,
    env_id: str,
    *,
    size: int | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    kind: str | None = None,
    description: str = "",
    version: str = "1",
    force: bool = False,
) -> Benchmark:
    """Add a benchmark made of the first `size` tasks of any registered environment.

    `env_kwargs` go to `rlvr.make` (e.g. `dataset=`, difficulty settings). `size` is required for
    endless procedural envs (task i is the generator's task with seed i, so the set is fixed).
    `kind` defaults to "math" when the env scores with the math verifier (then maj@k is reported),
    else "env". `rlvr eval --benchmark NAME` then works on it; `--data PATH` replaces the env's
    `dataset=` (its first `size` rows when `size` is given, else all). A `size` larger than the
    env's dataset may be registered for use with `--data` (without it, loading the benchmark then
    says so). A procedural benchmark is the first `size` *distinct* questions: a task whose question
    repeats an earlier one is skipped (loading says so when the generator cannot make `size`).
    """
    if not isinstance(name, str) or not name or any(c.isspace() for c in name):
        raise ValueError(f"benchmark name must be a non-empty string without spaces, got {name!r}")
    if (name in BUILTIN or name in _USER) and not force:
        raise ValueError(f"benchmark {name!r} already exists; pick another name or pass force=True")
    if kind not in (None, "math", "code", "env"):
        raise ValueError(f"kind must be 'math', 'code' or 'env', got {kind!r}")
    if size is not None and (not isinstance(size, int) or size < 1):
        raise ValueError(f"size must be a positive int, got {size!r}")
    import rlvr

    probe = rlvr.make(env_id, **dict(env_kwargs or {})).unwrapped  # fails now on an unknown env
    if size is None and probe.source.size is None:
        raise ValueError(f"{env_id} has endless procedural tasks; give size= (the number of tasks in the benchmark)")
    available = probe.source.size
    if kind is None:
        kind = "math" if probe.verifier_fingerprint().get("name") == "math" else "env"
    probe.close()
    bench = Benchmark(name, env_id, kind, size=size or available, size_given=size is not None,
                      env_kwargs=dict(env_kwargs or {}), version=version, description=description or f"tasks of {env_id}")
    _USER[name] = bench
    return bench


def all_benchmarks() -> dict[str, Benchmark]:
    return {**BUILTIN, **_USER}


def get_benchmark(name: str | Benchmark) -> Benchmark:
    if isinstance(name, Benchmark):
        return name
    known = all_benchmarks()
    if name in known:
        return known[name]
    lowered = {k.lower().replace("-", "").replace("_", ""): k for k in known}
    key = str(name).lower().replace("-", "").replace("_", "")
    if key in lowered:
        return known[lowered[key]]
    raise KeyError(f"unknown benchmark {name!r}; known: {sorted(known)} (see `rlvr benchmarks list`; "
                   f"add your own with rlvr.benchmarks.register_benchmark)")


def _check_columns(bench: Benchmark, rows: Sequence[Row], where: str) -> None:
    if not rows:
        raise BenchmarkDataError(f"benchmark {bench.name!r}: {where} has no rows")
    have = set().union(*(r.keys() for r in rows[:5]))
    missing = [c for c in bench.columns if c not in have]
    if missing:
        raise BenchmarkDataError(
            f"benchmark {bench.name!r}: {where} lacks column(s) {missing} (it has {sorted(have)}); "
            f"{bench.name} needs the columns {list(bench.columns)} as in {bench.hub_id}"
        )


def _check_max_chars(max_chars: int | None) -> int:
    """`max_action_chars` for the benchmark's env: `max_chars` (--max-chars), else no cap."""
    if max_chars is None:
        return NO_CHAR_LIMIT
    if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 1:
        raise ValueError(f"--max-chars must be a positive number of characters, got {max_chars!r}")
    return max_chars


#: The start of a mapping's error about one row ("row 3: column 'answer' is null ...").
_ROW_ERROR = re.compile(r"row (\d+)")


def _at_row(message: str, files: Sequence[RowFile], sources: Sequence[int] | None = None) -> str:
    """`message`, an error about one row ("row 3: ..."), naming the row of the data: `sources` maps
    a prepared row (what the env numbers) to its data row (None: the same), and `row_line` adds
    the line of a JSON Lines file where the row number does not give it."""
    found = _ROW_ERROR.match(message)
    if not found:
        return message
    row = int(found[1])
    if sources is not None and row < len(sources):
        row = sources[row]
    line = row_line(files, row)
    return f"row {row}{f' ({line})' if line else ''}{message[found.end():]}"


def _prepare(bench: Benchmark, rows: list[Row], where: str) -> Prepared:
    """The benchmark's mapping of the raw rows; a bad row's error also names the benchmark and data,
    and the row's line of a JSON Lines file where its number does not give it (`row_line`: blank
    lines before it, several files)."""
    try:
        prepared = bench.prepare(rows) if bench.prepare else _with_ids(rows, None)
    except BenchmarkDataError as exc:
        message = _at_row(str(exc), getattr(rows, "files", ()))
        raise BenchmarkDataError(f"benchmark {bench.name!r}, {where}: {message}") from None
    return prepared if isinstance(prepared, Prepared) else Prepared(prepared)


def _skip_counts(skipped: Mapping[str, list[str]]) -> str:
    """ "1 no tests (...)": skipped rows counted per reason."""
    return "; ".join(f"{len(ids)} {reason}" for reason, ids in skipped.items())


def _skip_report(bench: Benchmark, skipped: Mapping[str, list[str]], raw_count: int) -> tuple[dict[str, str], list[str]]:
    """Skipped rows as {task_id: reason} and one warning that counts them per reason and names
    them (the first 10 task ids)."""
    by_id = {task_id: reason for reason, ids in skipped.items() for task_id in ids}
    if not by_id:
        return {}, []
    named = ", ".join(repr(task_id) for task_id in list(by_id)[:10]) + (f" and {len(by_id) - 10} more" if len(by_id) > 10 else "")
    return by_id, [f"{bench.name}: {len(by_id)} of {raw_count} rows skipped ({_skip_counts(skipped)}); they are not "
                   f"scored (tasks {named})"]


def _check_code_tests(loaded: LoadedBenchmark, where: str) -> None:
    """Plan every function task's tests once, now: tests that do not parse would otherwise abort the
    scoring of every sample, in the middle of a run, with an error that names no task. Code-v0 has
    planned its rows when built (`_plan_error` remembers them, so this costs nothing more); a
    registered env scoring with the code verifier has not."""
    from rlvr.envs.code_env import _plan_error

    for i, task in enumerate(loaded.tasks):
        if task.meta.get("kind") != "function":
            continue
        # the same call check_function makes first, so what passes here cannot fail there
        error = _plan_error(task.answer, task.meta.get("entry_point"))
        if error is not None:
            raise BenchmarkDataError(f"benchmark {loaded.benchmark.name!r}, {where}: {loaded.task_label(i)}: {error}")


#: How a procedural benchmark picks its tasks, recorded in its data fingerprint: a results folder
#: made when it took tasks ``0..size-1`` as they came (repeats included) has none, so its run
#: identity differs and ``rlvr eval`` refuses to mix its samples with the distinct set's. The
#: "listed" selection (distinct prompts, episodes run on exactly the listed tasks) replaced one whose
#: episodes ran tasks ``0..size-1`` under the distinct tasks' ids: those folders are refused too.
DISTINCT_SELECTION = "first size distinct prompts, listed"


#: Why a procedural benchmark leaves out a task of its generator (:attr:`LoadedBenchmark.skipped`)
REPEATED_QUESTION = "repeats an earlier question"


def _distinct_generated(bench: Benchmark, source: Any, count: int,
                        render: Any = None) -> tuple[list[Task], dict[str, str]]:
    """The first ``count`` tasks of an endless procedural ``source`` (from index 0) whose prompts
    (``render``, the env's ``make_prompt``; else the question text; stripped) differ, and the ids of
    the tasks skipped among them (id: :data:`REPEATED_QUESTION`): an index whose prompt repeats an
    earlier one is skipped (task i is made from seed i, and a generator may make one question from
    several seeds), so no question weighs twice in pass@k. The prompt, not the question alone: a
    template may show meta columns next to a generic question; but a prompt that varies for one task
    (a random few-shot example, :func:`~rlvr.trainers.config.steady_render`) would make every task
    distinct, so then the question text. Looks at most ``10 * count + 1000`` indices.

    Raises:
        BenchmarkDataError: the generator makes fewer distinct questions there.
    """
    from rlvr.trainers.config import first_distinct  # (plain Python: no torch)

    limit = 10 * count + 1000
    indices, _, repeated = first_distinct(source, 0, count, limit, render)
    tasks: list[Task] = [source.get(i) for i in indices]
    # (a completions file may name a skipped task: it is ignored with this reason, not an unknown id)
    skipped = {source.get(i).id: REPEATED_QUESTION for i in repeated}
    if len(tasks) < count:
        raise BenchmarkDataError(
            f"benchmark {bench.name!r}: {bench.env_id} makes only {len(tasks)} distinct questions in its tasks "
            f"0..{limit - 1}, fewer than the benchmark's size={count}; register it with a smaller size= (or "
            "env_kwargs that make more questions)")
    return tasks, skipped


def _user_task_count(bench: Benchmark, available: int | None, data: str | None) -> int:
    """How many tasks of a registered env's source (`available` of them; None: endless) a user
    benchmark holds: its registered `size`, which with `--data` is at most the file's rows (and
    without `size=` the whole file). A source that shrank below `size` since the registration is
    refused rather than indexed past its end."""
    if data is not None and available is not None:
        return min(bench.size, available) if bench.size_given else available
    if available is not None and bench.size > available:
        raise BenchmarkDataError(f"benchmark {bench.name!r} was registered with size={bench.size} tasks, but "
                                 f"{bench.env_id}'s dataset has only {available}; pass --data (data=) with the benchmark's "
                                 f"rows, or register it again with size <= {available} or without size to use them all")
    return bench.size


def _takes_sandbox(env_id: str) -> bool:
    """Whether the env registered as `env_id` has a `sandbox=` argument (Code-v0, ToolMath-v0, an env
    class of the user's that has one): only such an env runs the model's code in the sandbox given.
    Read from the registered entry point's signature, before anything is built."""
    import inspect
    from functools import partial

    from gymnasium.envs.registration import load_env_creator

    from rlvr.envs.registry import _build_with

    entry = _spec(env_id).entry_point
    creator = load_env_creator(entry) if isinstance(entry, str) else entry
    if isinstance(creator, partial) and creator.func is _build_with:  # `rlvr.register`'s creator of an env
        # with objects among its arguments (an in-memory dataset, a generator): read the class it builds
        creator = load_env_creator(creator.args[0])
    if isinstance(creator, type):  # an env class: the `__init__` of any of its bases may name it (a
        # subclass hands its `**kwargs` on)
        return any("sandbox" in _parameters(c.__dict__["__init__"]) for c in creator.__mro__ if "__init__" in c.__dict__)
    # a factory: named, or taken with the rest (`**kwargs`, handed on to an env that may take it; one
    # that does not raises naming it when built, never drops it)
    return any(name == "sandbox" or kind is inspect.Parameter.VAR_KEYWORD for name, kind in _parameters(creator).items())


def _spec(env_id: str) -> Any:
    """The Gymnasium spec `rlvr.make(env_id)` builds from (an id without its version: the latest)."""
    import gymnasium as gym
    from gymnasium.envs.registration import find_highest_version, get_env_id, parse_env_id

    from rlvr.envs.registry import _full_id, register_builtin

    register_builtin()
    full = _full_id(env_id)
    if full not in gym.registry:
        namespace, name, _ = parse_env_id(full)
        full = get_env_id(namespace, name, find_highest_version(namespace, name))
    return gym.spec(full)


def _parameters(function: Any) -> dict[str, Any]:
    """`function`'s parameters, name -> kind ({} when inspect cannot read them: a builtin)."""
    import inspect

    try:
        return {name: p.kind for name, p in inspect.signature(function).parameters.items()}
    except (TypeError, ValueError):
        return {}


def unused_sandbox(name: str | Benchmark) -> str | None:
    """Why a sandbox chosen for the benchmark would go unused (its env takes none, `_takes_sandbox`;
    a code benchmark's env always takes one), or None. `rlvr eval --sandbox` asks before it starts
    the backend or creates --out; `load_benchmark(sandbox_required=True)` refuses with it."""
    bench = get_benchmark(name)
    if bench.kind == "code" or _takes_sandbox(bench.env_id):
        return None
    message = (f"benchmark {bench.name!r} runs on {bench.env_id}, which takes no sandbox, so --sandbox would not be "
               f"used: leave --sandbox out (auto) for it")
    # `rlvr.register(verifier="code")` stores the verifier in the spec; a benchmark's env_kwargs may override it
    if bench.env_kwargs.get("verifier", _spec(bench.env_id).kwargs.get("verifier")) == "code":
        message += (" (its code verifier takes the sandbox at registration: rlvr.register(..., verifier=\"code\", "
                    "verifier_settings={\"sandbox\": make_sandbox(...)}))")
    return message


def _sandbox_kwargs(bench: Benchmark, sandbox: Any, required: bool) -> dict[str, Any]:
    """`{"sandbox": sandbox}` for an env that takes one, else {}: the eval's sandbox (and its
    stand-in for a backend that cannot start, which makes the samples unverified) must reach every
    env that runs the model's code, not only code benchmarks. A sandbox the env cannot take is a
    ValueError when `required` (the user chose a backend that would not be used)."""
    if sandbox is None:
        return {}
    problem = unused_sandbox(bench)
    if problem is None:
        return {"sandbox": sandbox}
    if required:
        raise ValueError(problem)
    return {}


def load_benchmark(
    name: str | Benchmark,
    *,
    data: str | None = None,
    limit: int | None = None,
    sandbox: Any = None,
    math_timeout: float = 5.0,
    max_chars: int | None = None,
    sandbox_required: bool = False,
) -> LoadedBenchmark:
    """Load a benchmark's tasks (from `data` if given, else the hub) and build its env.

    `limit` keeps the first N tasks. `sandbox` goes to every env that takes one (Code-v0, ToolMath-v0
    for its python tool; default: the shared one); it replaces a sandbox in a registered benchmark's
    `env_kwargs`. With `sandbox_required` (`rlvr eval --sandbox`), a sandbox the env cannot take is a
    ValueError (`_sandbox_kwargs`), never silently unused. `max_chars` caps a completion's length
    (longer ones are scored wrong as "over-long"); by default there is no cap, unlike the envs'
    training-time default.
    """
    import rlvr

    bench = get_benchmark(name)
    if isinstance(data, str):
        data = os.path.expanduser(data)  # (as the shell would: messages name the file read)
    if limit is not None and limit < 1:
        raise ValueError(f"--limit must be >= 1, got {limit}")
    action_chars = _check_max_chars(max_chars)
    with_sandbox = _sandbox_kwargs(bench, sandbox, sandbox_required)
    if bench.hub_id is None:  # a user benchmark over a registered env
        kwargs = dict(bench.env_kwargs)
        if data is not None:  # the benchmark's split / config / revision name its own data, not the file given
            kwargs = {key: value for key, value in kwargs.items() if key not in ("split", "config", "revision")}
            kwargs["dataset"] = data
        kwargs.update(with_sandbox)
        if max_chars is not None or "max_action_chars" not in kwargs:
            kwargs["max_action_chars"] = action_chars
        env = rlvr.make(bench.env_id, **kwargs).unwrapped
        count = _user_task_count(bench, env.source.size, data)
        fp = env.source.fingerprint()
        skipped: dict[str, str] = {}
        if env.source.size is None:  # endless: its first `size` distinct questions (see _distinct_generated)
            every, skipped = _distinct_generated(bench, env.source, count, getattr(env, "make_prompt", None))
            fp = dict(fp, selection=DISTINCT_SELECTION)
            # the env runs exactly these: an episode's `{"index": t}` (t: the task's place in `every`,
            # as evaluation, --limit, resume and scoring number them) is task `every[t]`, not the
            # generator's task t, which the skipped repeats would shift
            env.source = ListSource(every, fp)
        else:
            every = [env.source.get(i) for i in range(count)]
        tasks = every[:limit] if limit else every
        loaded = LoadedBenchmark(bench, env, tasks, None, fp, skipped, all_ids=[t.id for t in every])
        if bench.kind == "code":
            _check_code_tests(loaded, f"env {bench.env_id}" if data is None else f"--data {data!r}")
        return loaded
    if data is not None:
        rows, fp = load_local(str(data), bench.split, check_split=not bench.one_split)
        where = f"--data {data!r}"
    else:
        rows, fp = load_hub(bench.name, bench.hub_id, bench.config, bench.split, bench.revision)
        where = f"hub dataset {bench.hub_id!r}"
    _check_columns(bench, rows, where)
    raw_count = len(rows)
    data_files = list(getattr(rows, "files", ()))
    rows = _prepare(bench, rows, where)
    sources = rows.sources
    skipped, warnings = _skip_report(bench, rows.skipped, raw_count)
    warnings += rows.warnings
    if not rows:
        raise BenchmarkDataError(f"benchmark {bench.name!r}: no usable rows in {where} ({raw_count} read"
                                 + (f", skipped: {_skip_counts(rows.skipped)}" if rows.skipped else "") + ")")
    fp = dict(fp, **rows.notes, rows_read=raw_count, rows_used=len(rows))
    if rows.skipped:
        fp["rows_skipped"] = {reason: len(ids) for reason, ids in rows.skipped.items()}
    ids = [r["task_id"] for r in rows]
    if len(set(ids)) != len(ids):
        dup = next(task_id for task_id, count in Counter(ids).items() if count > 1)
        raise BenchmarkDataError(f"benchmark {bench.name!r}: task id {dup!r} appears more than once in {where}")
    rows = list(rows[:limit] if limit else rows)
    kwargs = dict(bench.env_kwargs, max_action_chars=action_chars, **with_sandbox)
    if bench.kind == "math":
        kwargs.setdefault("timeout", math_timeout)
    if bench.kind == "code":
        kwargs["id_key"] = "task_id"
    try:
        env = rlvr.make(bench.env_id, dataset=rows, **kwargs).unwrapped
    except BenchmarkDataError:
        raise
    except DatasetError as exc:  # a row the env refuses (Code-v0: tests that cannot check a solution)
        raise BenchmarkDataError(f"benchmark {bench.name!r}, {where}: {_at_row(str(exc), data_files, sources)}") from None
    _set_prompt_examples(env, rows)
    tasks = [env.source.get(i) for i in range(env.source.size)]
    loaded = LoadedBenchmark(bench, env, tasks, rows, fp, skipped, warnings, all_ids=ids,
                             source_rows=sources[:len(tasks)] if sources is not None else None, data_files=data_files)
    if bench.kind == "code":
        _check_code_tests(loaded, where)
    return loaded


def _set_prompt_examples(env: Any, rows: Sequence[Row]) -> None:
    """Give the tasks of rows with a `PROMPT_EXAMPLE` (MBPP+) that assert as the prompt's example.
    Code-v0 shows the first of a row's tests, which for MBPP+ is the whole `test` script: every
    input with its expected output (kilobytes, and the answers). Its tasks are replaced in its task
    list, which every copy of the env shares."""
    import dataclasses

    for i, row in enumerate(rows):
        if PROMPT_EXAMPLE in row:
            task = env.source.tasks[i]
            env.source.tasks[i] = dataclasses.replace(task, meta={**task.meta, "example": row[PROMPT_EXAMPLE]})
