"""Reading a completions file made elsewhere: one JSON object per line.

Each line needs `task_id` (the benchmark's id: "HumanEval/0", an MBPP number, a GSM8K row index...)
and `completion` (the model's text; for HumanEval the continuation after the prompt or a whole
program). `sample_index` is optional (default: order of appearance within the task). Problems are
collected over the whole file and reported together — bad JSON, a non-object, a missing or
non-text field, an unknown task id, a repeated (task_id, sample_index) — with line numbers, so
one run shows what to fix.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Iterable

from rlvr.envs.row_files import RepeatedKeyError, unique_keys

MAX_LISTED = 10


class CompletionsError(ValueError):
    """The completions file is malformed; the message lists the first offending lines."""


@dataclass(frozen=True)
class Completion:
    task_id: str
    sample_index: int
    completion: str
    line: int


def read_completions(path: str, known_ids: Iterable[str], *, benchmark: str = "") -> list[Completion]:
    """Parse and check `path` ("~" expanded: a shell leaves the one in `--completions=~/x`);
    raise CompletionsError listing the first offending lines."""
    path = os.path.expanduser(path)
    known = set(known_ids)
    problems: list[str] = []
    count_bad = 0
    out: list[Completion] = []
    next_index: dict[str, int] = {}
    seen: set[tuple[str, int]] = set()
    try:
        handle = open(path, "rb")  # decoded line by line: a line that is not UTF-8 is named like any bad line
    except OSError as exc:
        raise CompletionsError(f"cannot read completions file {path!r}: {exc.strerror}; give an existing JSONL file") from None

    def bad(line_no: int, text: str) -> None:
        nonlocal count_bad
        count_bad += 1
        if len(problems) < MAX_LISTED:
            problems.append(f"  line {line_no}: {text}")

    with handle:
        for line_no, data in enumerate(handle, start=1):
            try:
                raw = data.decode("utf-8-sig" if line_no == 1 else "utf-8")  # (a byte-order mark may open the file)
            except UnicodeDecodeError as exc:
                bad(line_no, f"not UTF-8 text (byte {exc.start}: {exc.reason}); save the file as UTF-8")
                continue
            if not raw.strip():
                continue
            try:
                row = json.loads(raw, object_pairs_hook=unique_keys)
            except RepeatedKeyError as exc:  # `{"completion": "a", "completion": "b"}`: no one completion
                bad(line_no, f"the row {exc}; give each key once")
                continue
            except ValueError as exc:
                bad(line_no, f"bad JSON ({exc.msg} at column {exc.colno})")
                continue
            if not isinstance(row, dict):
                bad(line_no, f"expected a JSON object, got {type(row).__name__}")
                continue
            missing = [k for k in ("task_id", "completion") if k not in row]
            if missing:
                bad(line_no, f"missing field(s) {missing} (have {sorted(row)[:8]})")
                continue
            task_id = row["task_id"]
            if isinstance(task_id, bool) or not isinstance(task_id, (str, int)):
                bad(line_no, f"task_id must be a string or an integer, got {task_id!r:.60}")
                continue
            task_id = str(task_id)
            text = row["completion"]
            if not isinstance(text, str):
                bad(line_no, f"completion must be a string, got {type(text).__name__}")
                continue
            if task_id not in known:
                example = sorted(known)[:3]
                bad(line_no, f"unknown task_id {task_id!r} (not in benchmark {benchmark or '?'}; ids look like {example})")
                continue
            index = row.get("sample_index")
            if index is None:
                index = next_index.get(task_id, 0)
            elif isinstance(index, bool) or not isinstance(index, int) or index < 0:
                bad(line_no, f"sample_index must be a non-negative integer, got {index!r:.40}")
                continue
            if (task_id, index) in seen:
                bad(line_no, f"task {task_id!r} sample {index} appears twice")
                continue
            seen.add((task_id, index))
            next_index[task_id] = max(next_index.get(task_id, 0), index + 1)
            out.append(Completion(task_id, index, text, line_no))
    if problems:
        more = f"\n  ... and {count_bad - len(problems)} more" if count_bad > len(problems) else ""
        raise CompletionsError(
            f"{path}: {count_bad} bad line(s); each line must be a JSON object with \"task_id\" and "
            f"\"completion\" (optional \"sample_index\"):\n" + "\n".join(problems) + more
        )
    if not out:
        raise CompletionsError(f"{path} holds no completions; write one JSON object per line with \"task_id\" and \"completion\"")
    return out
