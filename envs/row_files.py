"""Rows of local json/jsonl/csv dataset files, read exactly as the files hold them.

A type-guessing reader changes gold answers without a word: CSV cells "00501" and "3.10" became
501.0 and 3.1, and a JSON column mixing 5 and 0.5 made the gold "5.0" (an exact-match verifier
then scored the right answer 0), and big integers lost digits. Here a CSV cell is its text and a
JSON value is what `json` reads. Every failure is a DatasetError naming the file (and the line).
"""

from __future__ import annotations

import bisect
import csv
import io
import json
from array import array
from typing import Any

from rlvr.envs.errors import DatasetError
from rlvr.envs.json_keys import repeated_key


def no_rows(path: str, why: str) -> DatasetError:
    return DatasetError(f"dataset file {path!r} has no rows ({why}); give a file with at least one row")


def read_file(path: str) -> bytes:
    """The bytes of the dataset file at `path`; a DatasetError naming it when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise DatasetError(f"cannot read dataset file {path!r}: {exc.strerror or exc}; check the path and its permissions") from exc


def decode_text(data: bytes, path: str) -> str:
    """The text of a json/jsonl/csv file (UTF-8, with or without a byte-order mark)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"dataset file {path!r} is not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8") from None


class JsonRows(list):
    """The rows of a .json/.jsonl file, with where they lie in it: `blank_lines` holds, for each
    blank line skipped, the number of rows before it (nondecreasing), so row k is on line
    k + 1 + (how many of them are <= k) (`line_of`); None for one JSON array, whose items are not
    lines. Only the blank lines are kept: no number per row."""

    def __init__(self, rows: Any = (), blank_lines: array | None = None) -> None:
        super().__init__(rows)
        self.blank_lines = blank_lines


def line_of(blank_lines: array | None, k: int) -> int | None:
    """The line (from 1) of row k (from 0) of a file read as JSON Lines, from its `JsonRows.blank_lines`;
    None for one JSON array."""
    if blank_lines is None:
        return None
    return k + 1 + bisect.bisect_right(blank_lines, k)  # the blank lines before row k shift it down


def read_json_rows(text: str, path: str) -> JsonRows:
    """The rows of a .json or .jsonl file: one JSON array of objects, one object, or one object
    per line (JSON Lines; blank lines are skipped, and recorded: `JsonRows`). Every value is what
    `json` reads: an integer stays a Python int of any size, a float a float, a string a string. A
    line or item that is not an object, does not parse, or names a key twice (`unique_keys`) raises
    a DatasetError naming the file and its line (a JSON Lines file's)."""
    try:
        whole = json.loads(text, object_pairs_hook=unique_keys)
    except json.JSONDecodeError as exc:
        if text.lstrip().startswith("["):  # one array: its error, where json found it
            raise DatasetError(f"dataset file {path!r}, line {exc.lineno}: JSON parse error ({exc.msg} at column {exc.colno}); fix the file") from None
        return _json_lines(text, path)
    except RepeatedKeyError as exc:
        if not isinstance(_parsed_or_none(text), (list, dict)):  # JSON Lines: the first line's object named it
            return _json_lines(text, path)
        raise DatasetError(f"dataset file {path!r}: an object in it {exc}; give each key once") from None
    if isinstance(whole, dict):  # its line: the first one not blank (json allows only " \t\r\n" around it)
        return JsonRows([whole], array("q", [0]) * text[:len(text) - len(text.lstrip())].count("\n"))
    if not isinstance(whole, list):
        raise DatasetError(f"dataset file {path!r} holds a JSON {type(whole).__name__}; give an array of row objects or one object per line")
    for i, row in enumerate(whole):
        if not isinstance(row, dict):
            raise DatasetError(f"dataset file {path!r}: item {i} of its array is a JSON {type(row).__name__} ({row!r:.80}), "
                               f"not an object; each row must be an object like {{\"question\": ..., \"answer\": ...}}")
    return JsonRows(whole)


def _json_lines(text: str, path: str) -> JsonRows:
    """The rows of a JSON Lines file (see `read_json_rows`). Lines are split at "\\n" only: a JSON
    string may hold U+2028 and other characters `str.splitlines` would split at."""
    rows = JsonRows(blank_lines=array("q"))
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            rows.blank_lines.append(len(rows))
            continue
        try:
            row = json.loads(line, object_pairs_hook=unique_keys)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"dataset file {path!r}, line {number}: JSON parse error ({exc.msg} at column {exc.colno}); "
                               f"fix the line (a .jsonl file holds one JSON object per line)") from None
        except RepeatedKeyError as exc:
            raise DatasetError(f"dataset file {path!r}, line {number}: the row {exc}; give each key once") from None
        if not isinstance(row, dict):
            raise DatasetError(f"dataset file {path!r}, line {number}: a JSON {type(row).__name__} ({row!r:.80}), not an object; "
                               f"each line must be one row object like {{\"question\": ..., \"answer\": ...}}")
        rows.append(row)
    return rows


class RepeatedKeyError(ValueError):
    """A JSON object of a dataset file names a key twice (`unique_keys`)."""


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`json.loads`'s object_pairs_hook: the object, refusing a key named twice. `json` keeps the
    last value and other JSON readers the first, so such a row gives no one gold answer (a row
    `{"answer": "5", "answer": "6"}` was read as 6 without a word)."""
    row = dict(pairs)
    if len(row) != len(pairs):
        key = repeated_key(pairs)
        raise RepeatedKeyError(f"names the key {key!r:.60} twice (JSON readers differ on which value counts)")
    return row


def _parsed_or_none(text: str) -> Any:
    """`text` as one JSON value (repeated keys allowed), or None where it is not one."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


#: Longest CSV cell read (the `csv` module's default, 128 KiB, is less than a test file may hold).
_CSV_FIELD_LIMIT = 2**31 - 1


def read_csv_rows(text: str, path: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns and rows of a .csv file, whose first row names the columns.

    A CSV file has no types, so every cell is its text, as written: "00501" stays "00501", "3.10"
    stays "3.10" (a reader that guesses types turned them into 501.0 and 3.1). An empty cell, or
    one missing at the end of a short line, is a missing value (None), as pandas and `datasets`
    read it. Blank lines are skipped; a line with more cells than the header raises a DatasetError
    naming it. The `csv` module's limit on a cell's size is raised (process-wide) to 2 GiB.
    """
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next((record for record in reader if record), None)
        if header is None:
            raise no_rows(path, "it holds only blank lines")
        columns = _csv_columns(header, path)
        rows = []
        for record in reader:
            if not record:
                continue
            if len(record) > len(columns):
                raise DatasetError(f"dataset file {path!r}, line {reader.line_num}: {len(record)} cells, but the header names "
                                   f"{len(columns)} columns; fix the line (quote a cell that holds a comma)")
            rows.append({name: cell for name, cell in zip(columns, record) if cell != ""})
    except csv.Error as exc:
        raise DatasetError(f"dataset file {path!r}, line {reader.line_num}: not valid CSV ({exc}); fix the line") from None
    return columns, rows


def _csv_columns(header: list[str], path: str) -> list[str]:
    """The column names of a CSV header; a nameless column is "Unnamed: <i>" (as pandas names the
    index column it writes), a name given twice raises a DatasetError."""
    columns = [name if name != "" else f"Unnamed: {i}" for i, name in enumerate(header)]
    for i, name in enumerate(columns):
        if name in columns[:i]:
            raise DatasetError(f"dataset file {path!r}: the header names column {name!r} twice; give each column its own name")
    return columns
