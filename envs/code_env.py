"""`rlvr/Code-v0`: programming tasks scored by unit tests in the sandbox.

Recognised layouts (no keys needed):

- HumanEval: `prompt` (signature + docstring), `test` (defines `check(candidate)`), `entry_point`.
- MBPP: `text` or `prompt` (the description), `test_list` (assert lines, each scored as one
  test), optional `test_setup_code` and `test_imports`; the entry point is read from the first
  assert.
- stdin/stdout: a description (`question`, `problem`, `description` or `prompt`) and either
  `inputs`/`outputs` lists or an `input_output` JSON string holding them (APPS layout); the
  program's output is compared token by token (whitespace-tolerant), see `check_io`.

The model's program is the last fenced code block of its answer (or the whole answer). For
HumanEval tasks a completion that only writes the function body is appended to the prompt.
Without `dataset=` a small built-in HumanEval-layout set is used.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rlvr.envs.base import SingleTurnEnv
from rlvr.envs.samples import CODE_SAMPLES
from rlvr.envs.tasks import DatasetError, ListSource, Task, load_table, require_column, row_text
from rlvr.sandbox import check_backend
from rlvr.verifiers.code_extract import extract_code
from rlvr.verifiers.verdict import Verdict

_ASSERT_CALL = re.compile(r"assert\s+(?:not\s+)?\(?\s*([A-Za-z_]\w*)\s*\(")

HUMANEVAL_PROMPT = "Complete the following Python function. Write the whole function in a ```python code block.\n\n```python\n{question}```"
MBPP_PROMPT = "{question}\nYour code should pass tests like this one:\n{example}\nWrite the function in a ```python code block."
IO_PROMPT = "{question}\n\nWrite a Python program that reads from standard input and prints the answer. Put it in a ```python code block."


def _as_text(value: Any) -> str:
    """A stdin/stdout case as text: strings as they are, lists of lines joined, others str()."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return "\n".join(map(str, value)) + "\n"
    return str(value)


def _mbpp_entry_point(tests: list[str]) -> str | None:
    for line in tests:
        match = _ASSERT_CALL.search(line)
        if match:
            return match.group(1)
    return None


def tasks_from_table(table: Any, *, question_key: str | None = None, id_key: str | None = None) -> list[Task]:
    """Code tasks from a loaded table, layout detected from its columns."""
    cols = set(table.columns)
    n = table.num_rows
    ids = table.column(id_key) if id_key else table.column("task_id") if "task_id" in cols else [str(i) for i in range(n)]
    tasks: list[Task] = []
    if {"test", "entry_point"} <= cols:
        qk = require_column(table, question_key, "question_key", ("prompt",))
        prompts, tests, entries = table.column(qk), table.column("test"), table.column("entry_point")
        for i in range(n):
            if not isinstance(tests[i], str) or not tests[i].strip():
                raise DatasetError(f"row {i}: column 'test' is empty; every HumanEval-layout task needs its tests")
            prompt = row_text(prompts, i, qk)
            tasks.append(Task(str(ids[i]), prompt, tests[i], {"kind": "function", "entry_point": entries[i], "prompt": prompt}))
        return tasks
    if "test_list" in cols:
        qk = require_column(table, question_key, "question_key", ("text", "prompt", "question"))
        texts, test_lists = table.column(qk), table.column("test_list")
        setups = table.column("test_setup_code") if "test_setup_code" in cols else [""] * n
        imports = table.column("test_imports") if "test_imports" in cols else [[]] * n
        for i in range(n):
            if not isinstance(test_lists[i], (list, tuple)):  # a string would be split into characters
                raise DatasetError(f"row {i}: column 'test_list' must be a list of assert statements, got "
                                   f"{type(test_lists[i]).__name__} ({test_lists[i]!r:.80})")
            tests = [t for t in test_lists[i] if isinstance(t, str) and t.strip()]
            if not tests:
                raise DatasetError(f"row {i}: column 'test_list' is empty; every MBPP-layout task needs its asserts")
            row_imports = imports[i] or []
            if isinstance(row_imports, str):
                row_imports = [row_imports]
            # imports and setup first, then the asserts: check_function scores each top-level
            # assert as one test (the answer stays one string: rlvr eval's scorer reads it too)
            code = "\n".join([*row_imports, *([setups[i]] if setups[i] else []), *tests]) + "\n"
            meta = {"kind": "function", "entry_point": _mbpp_entry_point(tests), "example": tests[0]}
            tasks.append(Task(str(ids[i]), row_text(texts, i, qk), code, meta))
        return tasks
    if {"inputs", "outputs"} <= cols or "input_output" in cols:
        qk = require_column(table, question_key, "question_key", ("question", "problem", "description", "prompt"))
        texts = table.column(qk)
        if "input_output" in cols:
            pairs = []
            for i, blob in enumerate(table.column("input_output")):
                try:
                    data = json.loads(blob) if isinstance(blob, str) else blob
                    pairs.append((data["inputs"], data["outputs"]))
                except (ValueError, KeyError, TypeError):
                    raise DatasetError(f"row {i}: 'input_output' must be JSON like {{\"inputs\": [...], \"outputs\": [...]}}") from None
        else:
            pairs = list(zip(table.column("inputs"), table.column("outputs")))
        for i, (ins, outs) in enumerate(pairs):
            if not (isinstance(ins, (list, tuple)) and isinstance(outs, (list, tuple)) and ins and len(ins) == len(outs)):
                raise DatasetError(f"row {i}: inputs and outputs must be non-empty lists of the same length "
                                   f"(got {type(ins).__name__} and {type(outs).__name__})")
            cases = [(_as_text(a), _as_text(b)) for a, b in zip(ins, outs)]
            tasks.append(Task(str(ids[i]), row_text(texts, i, qk), cases, {"kind": "io"}))
        return tasks
    raise DatasetError(
        f"cannot tell the layout of this code dataset (columns: {table.columns}); it needs HumanEval columns "
        f"('prompt', 'test', 'entry_point'), MBPP columns ('text', 'test_list') or stdin/stdout columns "
        f"('inputs' and 'outputs', or 'input_output')"
    )


class CodeEnv(SingleTurnEnv):
    """Single-turn programming: the answer's code is run against the task's tests in the sandbox.

    Args:
        dataset: hub id, local file, `datasets.Dataset` or list of dicts (default: built-in samples).
        split / config / revision: which part and version of a hub dataset.
        question_key / id_key: override the detected description / id columns.
        sandbox: a `Sandbox` (default: one shared sandbox per process, `sandbox_backend`).
        timeout: seconds for loading a function-completion solution and running all its tests.
        case_timeout: seconds per stdin/stdout case.
        **kwargs: `TextEnv` arguments.

    Reward parts: `outcome` = fraction of tests passed (the verifier's score); `format` = 1 when
    the answer has a fenced code block.
    """

    env_name = "Code"

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
        **kwargs: Any,
    ) -> None:
        if not (isinstance(timeout, (int, float)) and timeout > 0 and isinstance(case_timeout, (int, float)) and case_timeout > 0):
            raise ValueError(f"timeout and case_timeout must be positive numbers of seconds, got {timeout!r} and {case_timeout!r}")
        self.timeout, self.case_timeout = float(timeout), float(case_timeout)
        table = load_table(CODE_SAMPLES if dataset is None else dataset, split=split, config=config, revision=revision)
        if id_key is not None:
            require_column(table, id_key, "id_key")
        tasks = tasks_from_table(table, question_key=question_key, id_key=id_key)
        self._sandbox = sandbox
        self._sandbox_backend = check_backend(sandbox_backend)
        fingerprint = dict(table.fingerprint)  # plus the columns read, when not the detected ones:
        if question_key is not None:  # they change what is asked
            fingerprint["question_key"] = question_key
        if id_key is not None:  # and how the tasks are named in results
            fingerprint["id_key"] = id_key
        super().__init__(ListSource(tasks, fingerprint), **kwargs)

    def _get_sandbox(self) -> Any:
        if self._sandbox is None:
            from rlvr.envs.tools import shared_sandbox

            self._sandbox = shared_sandbox(self._sandbox_backend)
        return self._sandbox

    def make_prompt(self, task: Task) -> str:
        if task.meta.get("kind") == "io":
            return IO_PROMPT.format(question=task.question)
        if "example" in task.meta:
            return MBPP_PROMPT.format(question=task.question, example=task.meta["example"])
        return HUMANEVAL_PROMPT.format(question=task.question)

    def solution_of(self, task: Task, completion: str) -> str:
        """The program to test: the last fenced block (else the raw text), after the prompt for HumanEval.

        A HumanEval completion may continue the prompt (only the body) or be a whole program
        that redefines the function; either way the prompt's imports and helpers come first.
        """
        code = extract_code(completion)
        prompt = task.meta.get("prompt")
        if prompt and task.meta.get("kind") == "function":
            entry = task.meta.get("entry_point")
            if entry and re.search(rf"^\s*def\s+{re.escape(entry)}\s*\(", code, re.MULTILINE):
                return prompt + "\n" + code  # helpers and imports of the prompt stay available
            return prompt + code
        return code

    def verify(self, task: Task, content: str) -> Verdict:
        from rlvr.verifiers.code import check_function, check_io

        solution = self.solution_of(task, content)
        if not solution.strip():
            return Verdict.wrong("no code found", details={"kind": "no_code"})
        sandbox = self._get_sandbox()
        if task.meta.get("kind") == "io":
            return check_io(solution, task.answer, sandbox=sandbox, timeout=self.case_timeout, extract=False)
        return check_function(solution, task.answer, task.meta.get("entry_point"), sandbox=sandbox,
                              timeout=self.timeout, extract=False)

    def format_score(self, task: Task, content: str) -> float:
        return 1.0 if extract_code(content, fallback_raw=False).strip() else 0.0

    def verifier_fingerprint(self) -> dict[str, Any]:
        from rlvr.envs.tools import sandbox_in_use

        return {"name": "code", "settings": {"sandbox_backend": sandbox_in_use(self._get_sandbox, self._sandbox_backend),
                                             "timeout": self.timeout, "case_timeout": self.case_timeout}}
