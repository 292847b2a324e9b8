"""Loading a benchmark's rows: from the hub by id, or from a local file or folder (`--data PATH`).

Hub loading goes through `datasets.load_dataset`; when it fails (no network, offline mode, a
missing dataset) the error says how to point `--data` at a local copy instead. Local data is a
json/jsonl/parquet/csv file, a folder of such files (the ones named for the split, by a word of their
name or by their folder's whole name, are preferred), or a folder written by `Dataset.save_to_disk`. Every load is fingerprinted (the SHA-256
of the file(s), arrow files included, or hub id + config + split + revision + content fingerprint)
so results name the exact data they came from.
"""

from __future__ import annotations

import hashlib
import os
import re
from array import array
from typing import Any, NamedTuple

from rlvr.envs.row_files import line_of
from rlvr.envs.tasks import DatasetError, file_sha256, load_table

_EXTS = (".jsonl", ".json", ".parquet", ".csv")


class BenchmarkDataError(DatasetError):
    """A benchmark's data cannot be loaded or lacks a column; the message says how to fix it."""


class RowFile(NamedTuple):
    """A file rows were read from: its path, its number of rows, and its skipped blank lines as the
    reader recorded them (`rlvr.envs.row_files.JsonRows.blank_lines`; None for a file without
    lines: parquet, CSV, one JSON array)."""

    path: str
    rows: int
    blank_lines: array | None = None


class Rows(list):
    """Rows read from local files, with the files they came from: `files` = [RowFile] in reading
    order, so an error about row i can name its line (`row_line`) without a line number kept for
    every row."""

    def __init__(self, rows: Any = (), files: Any = ()) -> None:
        super().__init__(rows)
        self.files: list[RowFile] = list(files)


def _row_file(path: str, table: Any) -> RowFile:
    return RowFile(path, table.num_rows, table.blank_lines)


def row_line(files: Any, i: int) -> str | None:
    """Where row i of rows read from `files` (`Rows.files`) is, when the row number alone does not
    say: "line L of NAME" for a row of a JSON Lines file with blank lines before it (skipped when
    reading, so row i is not line i + 1) or of a folder of several files; "row k of NAME" (k from 0,
    within that file) for a row of a folder of several files that have no lines to name (parquet,
    CSV, a JSON array); else None. The line comes from what the reader recorded when it read the
    file (`RowFile.blank_lines`), so the file is not read again."""
    offset = 0
    for path, count, blank_lines in files or ():
        if i < offset + count:
            line = line_of(blank_lines, i - offset)
            if line is not None and not (len(files) == 1 and line == i + 1):
                return f"line {line} of {os.path.basename(path)}"
            if len(files) > 1:
                return f"row {i - offset} of {os.path.basename(path)}"
            return None
        offset += count
    return None


def _table_rows(table: Any) -> list[dict[str, Any]]:
    columns = {name: table.column(name) for name in table.columns}
    return [{name: values[i] for name, values in columns.items()} for i in range(table.num_rows)]


def _dataset_rows(ds: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in ds]


#: Split names by meaning: a file or save_to_disk split named with a word of one group holds that
#: split, not another group's (a folder of `train.jsonl` only is not gsm8k's test split).
_SPLIT_GROUPS = (("train", "training"), ("validation", "valid", "val", "dev"), ("test", "testing"), ("prompt",))

#: A shard of a split written in pieces: `test-00000-of-00002.parquet` (and the hub's older
#: `test-00000-of-00002-<hash>.parquet`); `base` names the split, `n` the number of pieces.
_SHARD = re.compile(r"^(?P<base>.+)-(?P<i>\d+)-of-(?P<n>\d+)(?:-[0-9a-f]+)?$")


def _has_word(word: str, name: str) -> bool:
    """Whether `name` holds `word` as a word (`_`, `-`, `.` and `/` separate words: `gsm8k_test`)."""
    return re.search(rf"(?<![a-z0-9]){re.escape(word.lower())}(?![a-z0-9])", name.lower()) is not None


def _named_split(name: str, split: str) -> str | None:
    """The split that `name` (a file's or folder's name, a save_to_disk split) is named for:
    `split` when it holds `split` or a synonym of it (`_SPLIT_GROUPS`), else the first other known
    split it holds; None when it names none."""
    ours = next((group for group in _SPLIT_GROUPS if split.lower() in group), (split.lower(),))
    if any(_has_word(word, name) for word in ours):
        return split
    return next((word for group in _SPLIT_GROUPS for word in group if _has_word(word, name)), None)


def _other_split(name: str, split: str) -> str | None:
    """The known split (`_SPLIT_GROUPS`) that `name` (a file's name, a save_to_disk split) is named
    for when that is not `split` nor a synonym of it; None when it names none or `split` itself."""
    named = _named_split(name, split)
    return None if named == split else named


#: A folder named for a split by the hub's converted-parquet layout beyond the split's own name: the
#: first rows of a split too large to convert whole (`<config>/partial-train/0000.parquet`).
_PARTIAL = "partial-"


def _folder_split(name: str, split: str) -> str | None:
    """The split a folder is named for: only a whole name counts (`test`, `validation`, the hub's
    `partial-test`; any case), a split word inside a longer name does not (`train_runs`,
    `prompt_eng`, `v1.0-dev` name none: a folder's name is the user's, a file's is the data's). As
    `_named_split`: `split` for it or a synonym, else the other known split; None when none."""
    name = name.lower()
    if name.startswith(_PARTIAL):
        name = name[len(_PARTIAL):]
    if name == split.lower() or any(name in group for group in _SPLIT_GROUPS):
        return _named_split(name, split)
    return None


def _path_split(rel: str, split: str) -> str | None:
    """The split a file is named for, from its path `rel` below --data: its own name's (a split word
    in it: `gsm8k_test.jsonl`), else that of the nearest folder whose whole name is a split's
    (`_folder_split`: `main/test/0000.parquet`, the hub's converted-parquet layout
    `<config>/<split>/0000.parquet`, is a test file; `test/train.jsonl` a train file)."""
    *folders, name = rel.split(os.sep)
    if (named := _named_split(name, split)) is not None:
        return named
    for part in reversed(folders):
        if (named := _folder_split(part, split)) is not None:
            return named
    return None


#: A piece of a split in the hub's converted-parquet layout: `<split>/0000.parquet`, `0001.parquet` ...
_PIECE = re.compile(r"^\d+$")


def _check_shards(path: str, files: list[str], split: str) -> None:
    """A BenchmarkDataError unless the several `files` found for `split` are the pieces of one split
    (`_SHARD`: the same name, all n of them; or `_PIECE`: 0000, 0001 ... all in one folder, which
    `_folder_files` took for the split by that folder's name); other files merely naming the split, such as another
    config's `test_socratic.jsonl` beside `test.jsonl`, would count each problem twice."""
    names = [os.path.relpath(f, path) for f in files]
    stems = [os.path.splitext(os.path.basename(f))[0] for f in files]
    if all(_PIECE.match(stem) for stem in stems) and len({os.path.dirname(f) for f in files}) == 1:
        # the numbered pieces of one folder named for the split (`_folder_files` took them for it by
        # that name alone): the hub's `<split>/0000.parquet`, `0001.parquet` ...
        pieces = sorted(int(stem) for stem in stems)
        if pieces != list(range(len(pieces))):
            raise BenchmarkDataError(f"folder {path!r} has the pieces {pieces} of the split {split!r} ({names[:8]}), "
                                     f"not 0 to {len(pieces) - 1}: some are missing; give all of them, or point --data "
                                     f"at one file to evaluate only it")
        return
    shards = [_SHARD.match(stem) for stem in stems]
    if not all(shards) or len({(m["base"], int(m["n"])) for m in shards}) != 1:  # type: ignore[index]
        raise BenchmarkDataError(f"folder {path!r} has several files for the split {split!r} ({names[:8]}) that are not "
                                 f"shards of one file (name-00000-of-0000N): another config or a copy would count "
                                 f"problems twice; point --data at the file to evaluate")
    pieces = sorted(int(m["i"]) for m in shards)  # type: ignore[index]
    total = int(shards[0]["n"])  # type: ignore[index]
    if pieces != list(range(total)):
        raise BenchmarkDataError(f"folder {path!r} has shards {pieces} of the {total} pieces of the split {split!r} "
                                 f"({names[:8]}); give all of them, or point --data at one file to evaluate only it")


def _folder_files(path: str, split: str | None, check_split: bool = True) -> list[str]:
    """The data files of the folder `path` to read for `split`.

    Files named for the split are taken: their name holds it (or a synonym) as a word
    (`test.jsonl`, `gsm8k_test.jsonl`, `test-00000-of-00001.parquet`; not `latest.jsonl`), or,
    their name naming no split, the nearest folder below `path` whose whole name is a split's does
    (`test/0000.parquet`; `_folder_split`: not `test_runs/`), else the name of `path` itself
    (`--data main/test` holding `0000.parquet` and `0001.parquet`); the caller then checks that
    several are the shards of one split (`_check_shards`: `-00000-of-00002` shards, or a split
    folder's numbered pieces). Without one, a folder of one file is that file, unless it is named
    for another split (`train.jsonl`, `train/0000.parquet`, or a lone `0000.parquet` in a folder
    `path` named `train`, for a benchmark evaluating `test`) and `check_split` (false for a benchmark whose hub release has this one split:
    a copy naming it otherwise is the same set). Anything else is an error rather than a guess: files
    of several splits (train and validation merged into an evaluation set), of several configs
    (`test.jsonl` and `test_socratic.jsonl`) or of several folders (a hub download's configs,
    `main/` and `socratic/`).
    """
    files = sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(path)
        for name in names
        if name.lower().endswith(_EXTS) and not name.startswith(".") and name not in ("dataset_info.json", "state.json", "dataset_dict.json")
    )
    if not files:
        raise BenchmarkDataError(f"folder {path!r} holds no .jsonl/.json/.parquet/.csv file; point --data at the data file itself")
    shown = [os.path.relpath(f, path) for f in files[:8]]
    if split:
        # the --data folder's own name names the split of the files in it that name none themselves
        root = _folder_split(os.path.basename(os.path.abspath(path)), split)
        own = {f: _path_split(os.path.relpath(f, path), split) for f in files}
        preferred = [f for f in files if (own[f] or root) == split]
        if preferred:
            files = preferred
        elif len(files) > 1:
            raise BenchmarkDataError(f"folder {path!r} has no file for the split {split!r} among {shown}; "
                                     f"point --data at the file to evaluate")
        elif check_split and (other := own[files[0]]) is not None:
            raise BenchmarkDataError(f"folder {path!r} holds only {shown[0]!r}, a file of the split {other!r}, and the "
                                     f"benchmark evaluates the split {split!r}; to evaluate that file anyway, pass it "
                                     f"itself: --data {files[0]!r}")
        elif check_split and (other := root) is not None:
            raise BenchmarkDataError(f"folder {path!r} is named for the split {other!r} and holds only {shown[0]!r}, and "
                                     f"the benchmark evaluates the split {split!r}; to evaluate that file anyway, pass "
                                     f"it itself: --data {files[0]!r}")
    folders = sorted({os.path.relpath(os.path.dirname(f), path) for f in files})
    if len(folders) > 1:
        raise BenchmarkDataError(f"folder {path!r} has {split or 'data'} files in several folders {folders} (configs of "
                                 f"a dataset?); point --data at one of them")
    exts = {os.path.splitext(f)[1].lower() for f in files}
    if len(exts) > 1:
        raise BenchmarkDataError(f"folder {path!r} mixes file types {sorted(exts)}; point --data at one file")
    return files


def _refuse_copies(path: str, files: list[str], digests: list[str]) -> None:
    """A BenchmarkDataError when two of the folder `path`'s `files` (with their SHA-256 `digests`)
    have the same content: a copy ("test (copy).jsonl") would count every problem twice."""
    seen: dict[str, str] = {}
    for name, digest in zip(files, digests):
        first = seen.setdefault(digest, name)
        if first != name:
            raise BenchmarkDataError(f"folder {path!r} holds two copies of one file: {os.path.relpath(first, path)!r} and "
                                     f"{os.path.relpath(name, path)!r} have the same content; remove one, or point --data at one file")


class _quiet_datasets:
    """Silence `datasets`' per-file progress bars while loading (the run has its own bar), and its
    error log lines for a file it cannot parse (`load_local` reports the cause in its own error)."""

    def __enter__(self) -> None:
        from datasets.utils import logging as ds_logging

        self._was = ds_logging.is_progress_bar_enabled()
        self._verbosity = ds_logging.get_verbosity()
        ds_logging.disable_progress_bar()
        ds_logging.set_verbosity(ds_logging.CRITICAL)

    def __exit__(self, *exc: object) -> None:
        from datasets.utils import logging as ds_logging

        ds_logging.set_verbosity(self._verbosity)
        if self._was:
            ds_logging.enable_progress_bar()


def _root_cause(exc: BaseException) -> str:
    """The innermost explicit cause of `exc` ("ArrowInvalid: JSON parse error ... in row 2"): what
    `datasets` wraps in "An error occurred while generating the dataset" is the useful part."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    text = str(exc).strip() or "no details"
    return f"{type(exc).__name__}: {text[:300]}"


def _is_blank(path: str) -> bool:
    """Whether the file holds nothing but whitespace (read until the first other byte)."""
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 16):
            if chunk.strip():
                return False
    return True


def _check_not_blank(path: str, data: str) -> None:
    """An empty file is named before `datasets` fails on it with an obscure error (StopIteration)."""
    if _is_blank(path):
        what = f"--data {data!r}" + ("" if path == data else f": {os.path.relpath(path, data)!r}")
        raise BenchmarkDataError(f"{what} is empty; give the benchmark's rows (one JSON object per line for .jsonl)")


def load_local(path: str, split: str | None = None, check_split: bool = True) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows and fingerprint of a local file or folder.

    In a folder, the files (or save_to_disk split) for `split` are read (`_folder_files`); with
    `check_split` false (a benchmark whose hub release has only this split) a lone file or split
    named for another one is used too.

    A file `datasets` cannot read (bad JSON, a broken parquet file...) is a BenchmarkDataError
    naming `--data` and the root cause, not a traceback from inside `datasets`. A "~" in `path` is
    expanded (as `load_table` and `--model` do; a shell leaves the one in `--data=~/x` as it is),
    and the messages name the expanded path.
    """
    path = os.path.expanduser(path)
    with _quiet_datasets():
        try:
            return _load_local(path, split, check_split)
        except BenchmarkDataError:
            raise
        except Exception as exc:  # a DatasetError from load_table names the file but not --data
            raise BenchmarkDataError(f"--data {path!r}: cannot read: {_root_cause(exc)}; fix the file or "
                                     f"export it again (e.g. Dataset.to_json('name.jsonl'))") from exc


def _load_local(path: str, split: str | None, check_split: bool = True) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    if os.path.isfile(path):  # one file is one split, whatever the benchmark's hub split is called
        _check_not_blank(path, path)
        table = load_table(path)
        return Rows(_table_rows(table), [_row_file(path, table)]), dict(table.fingerprint)
    if not os.path.isdir(path):
        raise BenchmarkDataError(f"--data {path!r} does not exist; give a .jsonl/.json/.parquet/.csv file or a folder of them")
    import datasets

    if os.path.exists(os.path.join(path, "dataset_dict.json")) or os.path.exists(os.path.join(path, "state.json")):
        loaded = datasets.load_from_disk(path)
        if isinstance(loaded, datasets.DatasetDict):
            names = list(loaded.keys())
            pick = split if split in loaded else names[0] if len(names) == 1 else None
            if pick is None:
                raise BenchmarkDataError(f"{path!r} has splits {names} and none is {split!r}; point --data at one split")
            if pick != split and split and check_split and (other := _other_split(pick, split)) is not None:
                raise BenchmarkDataError(f"{path!r} (save_to_disk) holds only the split {pick!r}, named for {other!r}, and "
                                         f"the benchmark evaluates the split {split!r}; to evaluate it anyway, pass it "
                                         f"itself: --data {os.path.join(path, pick)!r}")
            loaded = loaded[pick]
        return _dataset_rows(loaded), {"source": os.path.abspath(path), "format": "save_to_disk",
                                       "content_fingerprint": getattr(loaded, "_fingerprint", None),
                                       "sha256": _arrow_sha256(loaded, path)}
    files = _folder_files(path, split, check_split)
    for name in files:
        _check_not_blank(name, path)
    if len(files) == 1:
        table = load_table(files[0])
        return Rows(_table_rows(table), [_row_file(files[0], table)]), dict(table.fingerprint)
    digests = [file_sha256(name) for name in files]  # hashed once: for the copies and the fingerprint
    _refuse_copies(path, files, digests)
    if split:  # (after the copies, which get their own message)
        _check_shards(path, files, split)
    # each file read as `load_table` reads one (JSON numbers and CSV cells as written), then joined
    tables = [load_table(name) for name in files]
    for name, table in zip(files[1:], tables[1:]):
        if set(table.columns) != set(tables[0].columns):  # (a JSON file's columns come in its keys' order)
            raise BenchmarkDataError(f"--data {path!r}: {os.path.relpath(name, path)!r} has columns {list(table.columns)}, "
                                     f"{os.path.relpath(files[0], path)!r} has {list(tables[0].columns)}; give files of one layout")
    rows = Rows([row for table in tables for row in _table_rows(table)], [_row_file(f, t) for f, t in zip(files, tables)])
    return rows, {"source": os.path.abspath(path), "files": [os.path.relpath(f, path) for f in files],
                  "sha256": _joined_sha256(digests)}


def _joined_sha256(digests: list[str]) -> str:
    """One SHA-256 over files' SHA-256 `digests`, in the order given (the content of the files)."""
    return hashlib.sha256("".join(digests).encode()).hexdigest()


def _arrow_sha256(ds: Any, path: str) -> str:
    """The SHA-256 of the arrow files a `save_to_disk` dataset was loaded from: its content, the
    same wherever the folder lies and different whenever the rows are."""
    files = sorted(f["filename"] for f in getattr(ds, "cache_files", None) or [])
    if not files:  # pragma: no cover - load_from_disk always maps arrow files
        files = sorted(os.path.join(root, n) for root, _, names in os.walk(path) for n in names if n.endswith(".arrow"))
    return _joined_sha256([file_sha256(f) for f in files])


def load_hub(name: str, hub_id: str, config: str | None, split: str | None, revision: str | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows and fingerprint of a hub dataset; a failure names `--data` as the way out."""
    import datasets

    try:
        ds = datasets.load_dataset(hub_id, config, split=split, revision=revision)
    except Exception as exc:
        where = hub_id + (f" (config {config!r})" if config else "") + (f", split {split!r}" if split else "")
        raise BenchmarkDataError(
            f"cannot load benchmark {name!r} from the hub {where}: {type(exc).__name__}: {str(exc)[:300]}. "
            f"Without network access, download it elsewhere (e.g. datasets.load_dataset({hub_id!r}"
            f"{', ' + repr(config) if config else ''}, split={split!r}).to_json('{name}.jsonl')) and pass "
            f"--data PATH (a .jsonl/.json/.parquet/.csv file or a folder of them)"
        ) from exc
    return _dataset_rows(ds), {"source": hub_id, "config": config, "split": split, "revision": revision or "unpinned",
                               "content_fingerprint": getattr(ds, "_fingerprint", None)}
