"""Tasks and where they come from: a `datasets` source or a procedural generator.

A `Task` is one problem: an id, the question text, the gold answer, and whatever else the
environment needs (unit tests, the numbers of a Countdown puzzle...). A `TaskSource` hands tasks
to an environment, either by index (`get(i)`, for evaluation) or drawn from the environment's
seeded generator (`sample(rng)`, for training), and describes itself in `fingerprint()` so results
can say exactly what data produced them.

Hub datasets and local parquet files are loaded with `datasets.load_dataset` (their column types
are declared); local json/jsonl/csv files are read with the standard `json` and `csv` modules, so
every value is the one the file holds (`load_table`). Columns are checked and gold answers
validated when the source is built, so a bad dataset fails at construction with a message naming
the column or row and the argument that fixes it — never halfway through a training run.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import math
import os
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from rlvr.envs.content_digest import content_sha256
from rlvr.envs.errors import DatasetError, GeneratorError
from rlvr.envs.fingerprint import plain_json, stable_repr
from rlvr.envs.row_files import decode_text, no_rows, read_csv_rows, read_file, read_json_rows

_FILE_FORMATS = {".json": "json", ".jsonl": "json", ".parquet": "parquet", ".csv": "csv"}


@dataclass(frozen=True)
class Task:
    """One problem.

    Attributes:
        id: stable identifier (dataset row or generator seed), reported as `info["task_id"]`.
        question: the problem text, before the environment's prompt template is applied.
        answer: the gold answer (a string for math; anything the env's verifier understands).
        meta: everything else the environment needs (tests, entry point, puzzle numbers...).
    """

    id: str
    question: str
    answer: Any = None
    meta: Mapping[str, Any] = field(default_factory=dict)


def is_missing(value: Any) -> bool:
    """True for a value that stands for "no value": None, or a float NaN (what pandas and parquet
    use for an empty cell). A NaN gold answer would otherwise be scored as the text 'nan'."""
    return value is None or (isinstance(value, (float, np.floating)) and math.isnan(value))


def check_index(index: Any) -> int:
    """`index` as an int; a TypeError for anything that is not an integer.

    A bool is refused although Python counts it as an int (`options={"index": True}` would run
    task 1), and so is a float, even a whole one (1.0). NumPy integers are accepted.
    """
    if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"task index must be an int, got {type(index).__name__} {index!r:.80}; "
                        f"give an int such as options={{'index': 0}}")
    return int(index)


class TaskSource(ABC):
    """Where an environment's tasks come from."""

    #: Number of tasks, or None for an endless procedural source.
    size: int | None = None
    #: The tasks, when `sample` is a uniform draw from this fixed list (`ListSource`, unless a
    #: subclass overrides `sample`), else None. An env then draws the index itself, from its own
    #: generator (see `IndexDraws`).
    uniform_tasks: Sequence[Task] | None = None

    @abstractmethod
    def get(self, index: int) -> Task:
        """The task with this index (deterministic)."""

    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Task:
        """A task drawn with `rng` (the environment's seeded generator)."""

    @abstractmethod
    def fingerprint(self) -> dict[str, Any]:
        """What identifies this data exactly (dataset revision or file hash, generator settings)."""


#: Bit generators whose `random_raw()` gives 64 uniform bits (MT19937's gives 32, so it is not here).
_RAW64 = (np.random.PCG64, np.random.PCG64DXSM, np.random.Philox, np.random.SFC64)


def draw_index(rng: np.random.Generator, size: int) -> int:
    """A uniform index in [0, size) drawn with `rng` (the same seed gives the same indices).

    `Generator.integers` costs ~1.5 us per call (argument checks, dtype dispatch), a noticeable
    part of an env reset. With a 64-bit bit generator (PCG64, Gymnasium's default) one raw draw
    scaled by multiply-and-shift (Lemire's method) costs ~0.4 us; its bias, at most size / 2**64,
    is far below anything measurable. Other generators go through `integers`.
    """
    if _raw_draws_fit(rng, size):
        return (rng.bit_generator.random_raw() * size) >> 64
    return int(rng.integers(size))


def _raw_draws_fit(rng: np.random.Generator, size: int) -> bool:
    """True when a raw 64-bit draw of `rng` scaled by multiply-and-shift gives an index < size."""
    return type(rng.bit_generator) in _RAW64 and 0 < size < 1 << 32


class IndexDraws:
    """Uniform indices drawn from one env's generator 64 at a time (one env, one `IndexDraws`).

    `draw(rng, size)` gives what `draw_index` gives from a block of raw draws taken from `rng` at
    once: the same seed gives the same indices, and a new generator (`reset(seed=...)` makes one)
    starts a new block. The generator advances by a whole block at a time, which only matters to
    code that also draws from it (still reproducible, in a different order), and to code that
    saves and restores the generator (`env.np_random.bit_generator.state = saved`, or a saved copy
    assigned to `env.np_random`): the state is ahead of the tasks drawn so far by the rest of the
    block, and a restored state is read only once the block is used up (a new generator object
    starts a new block from where the state was saved), so neither replays the tasks;
    `reset(seed=s)` does (docs/envs.md, "Gymnasium details"). Why: an env reset
    then reads a Python list instead of calling into the generator (~0.5 us warm, several times
    that once a busy process has pushed the generator's memory out of the CPU caches). The block's
    raw draws are scaled to indices for `size` in one go, and again only if `size` changes.
    """

    __slots__ = ("_rng", "_raw", "_size", "_indices", "_next")

    BLOCK = 64

    def __init__(self) -> None:
        self._rng: np.random.Generator | None = None
        self._raw: list[int] = []
        self._size = 0
        self._indices: list[int] = []
        self._next = self.BLOCK  # the block is used up

    def draw(self, rng: np.random.Generator, size: int) -> int:
        i = self._next
        if i < self.BLOCK and rng is self._rng and size == self._size:  # the usual case
            self._next = i + 1
            return self._indices[i]
        if not _raw_draws_fit(rng, size):
            return draw_index(rng, size)
        if i >= self.BLOCK or rng is not self._rng:  # a new block
            self._raw = rng.bit_generator.random_raw(self.BLOCK).tolist()
            self._rng = rng
            i = 0
        self._size = size
        self._indices = [(raw * size) >> 64 for raw in self._raw]
        self._next = i + 1
        return self._indices[i]


class ListSource(TaskSource):
    """A finite list of tasks, held in memory."""

    def __init__(self, tasks: Sequence[Task], fingerprint: Mapping[str, Any]) -> None:
        if not tasks:
            raise DatasetError("the dataset has no rows; give a dataset (or split) with at least one task")
        self.tasks = list(tasks)
        self.size = len(self.tasks)
        self._fingerprint = dict(fingerprint)
        # an attribute rather than a property: it is read at every reset
        self.uniform_tasks = self.tasks if type(self).sample is ListSource.sample else None

    def get(self, index: int) -> Task:
        index = check_index(index)
        if not -self.size <= index < self.size:
            raise IndexError(f"task index {index!r} out of range: this source has {self.size} tasks (0..{self.size - 1})")
        return self.tasks[index]

    def sample(self, rng: np.random.Generator) -> Task:
        return self.tasks[draw_index(rng, self.size)]

    def fingerprint(self) -> dict[str, Any]:
        return dict(self._fingerprint, num_tasks=self.size)


class GeneratorSource(TaskSource):
    """An endless procedural source: `fn(rng, **settings)` makes one task.

    `fn` gets a fresh `numpy.random.Generator` and returns a `Task` or a dict with at least
    `question` and `answer` (other keys go to `Task.meta`). Task `i` (`get(i)`) is made with a
    generator seeded by `i`, so evaluation sets are reproducible; `sample(rng)` draws a seed from
    the environment's generator.

    The task id (`info["task_id"]`; results and pass@k are grouped by it) is "name/i" for task `i`
    and "name/s<seed>" for a drawn one, unless the dict has an `id` key (its value written as text:
    5 is "5"), or the `Task` an id other than None or "": then that id, which must be unique to
    the task. An `id` that says nothing (None, NaN, blank text) raises `GeneratorError` naming
    the task index or seed: every task would share the id 'None' and their results be merged.

    Every task made is checked as a dataset row is (`build_tasks`): a non-empty text question, a
    gold answer, converted by `convert_answer` and accepted by `validate_answer` (the verifier's
    own gold-answer check, see `rlvr.envs.scoring.Scorer`). A task that fails raises
    `GeneratorError` naming the env (`label()`, when given and not None), the generator, the field
    and its value. An exception a user's generator raises is raised as a `GeneratorError` naming
    the env, the generator and the task index or seed, with the generator's exception as its cause
    (rlvr's own generators raise their documented errors, such as `GenerationError`, as they are).
    `check_deterministic` refuses a generator that makes two different tasks from one seed.

    `version`, when given, is recorded in the fingerprint: a generator whose tasks for a seed
    change (a fix, a new rule) gets a new version, so results from before and after are told apart.
    A user's generator is also recorded by what it is made of (`callable_identity`: its code, a
    partial's bound arguments), as two generators with one name can make different tasks; rlvr's
    own generators are told apart by name and `version` only, so their digests do not depend on
    the Python version (bytecode differs between versions). Settings are recorded by `plain_json`
    (a NumPy scalar as its value, a set sorted, an object by its type and a digest of its state,
    never a memory address), so one setup has one digest in every process.
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        settings: Mapping[str, Any] | None = None,
        name: str | None = None,
        *,
        convert_answer: Callable[[Any], Any] | None = None,
        validate_answer: Callable[[Any], str | None] | None = None,
        label: Callable[[], str | None] | None = None,
        version: int | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"generator must be a callable fn(rng, **settings), got {type(fn).__name__}")
        self.fn = fn
        self.settings = dict(settings or {})
        self.name = name or getattr(fn, "__qualname__", type(fn).__name__)
        self.convert_answer = convert_answer
        self.validate_answer = validate_answer
        self.label = label
        self.version = version

    def _make(self, seed: int, task_id: str) -> Task:
        try:
            made = self.fn(np.random.default_rng(seed), **self.settings)
        except Exception as exc:
            if _is_rlvr_function(self.fn):  # rlvr's own: its documented errors (GenerationError) as they are
                raise
            raise self._raised(exc, seed, task_id) from exc
        if isinstance(made, Task):
            if made.id is None or made.id == "":  # no id given: the index or seed names the task
                task = Task(task_id, made.question, made.answer, made.meta)
            else:
                task = made if _names_a_task(made.id) else self._bad_id(made.id, seed, task_id)
        elif isinstance(made, Mapping) and "question" in made and "answer" in made:
            meta = {k: v for k, v in made.items() if k not in ("question", "answer", "id")}
            if "id" in made:
                given = made["id"]
                task_id = str(given) if _names_a_task(given) else self._bad_id(given, seed, task_id)
            task = Task(task_id, made["question"], made["answer"], meta)
        else:
            raise self._error("the task", made, "it must be a Task or a dict with 'question' and 'answer' keys")
        return self._checked(task)

    def _checked(self, task: Task) -> Task:
        """`task` with its gold answer converted, once its question and answer pass the checks."""
        question, answer = task.question, task.answer
        if not isinstance(question, str) or not question.strip():
            raise self._error("'question'", question, "it must be non-empty text (the model would be prompted with it)")
        try:
            check_utf8(question, "the question")
        except DatasetError as exc:
            raise self._error("'question'", question, str(exc)) from None
        if is_missing(answer):
            raise self._error("'answer'", answer, "give the gold answer the verifier checks")
        if self.convert_answer is not None:
            answer = self.convert_answer(answer)
        if self.validate_answer is not None:
            problem = self.validate_answer(answer)
            if problem:
                raise self._error("'answer'", task.answer, problem)
        return task if answer is task.answer else Task(task.id, question, answer, task.meta)

    def _bad_id(self, value: Any, seed: int, task_id: str) -> Any:
        """Raise the error for a generated task whose id says nothing (None, NaN, blank text)."""
        raise GeneratorError(f"{self._what()} returned the id {value!r:.80} for task {task_id!r} (seed {seed}): a task "
                             f"id must be non-empty text or a number, unique to the task (results and pass@k are "
                             f"grouped by task id, so tasks sharing {str(value)!r:.40} would be merged); leave the 'id' "
                             f"key out to have tasks named by index or seed, or fix the generator")

    def _error(self, field: str, value: Any, problem: str) -> GeneratorError:
        """The error for a generated task whose `field` holds the unusable `value`."""
        return GeneratorError(f"{self._what()} returned {field} {value!r:.120}: {problem}; fix the generator")

    def _raised(self, exc: Exception, seed: int, task_id: str) -> GeneratorError:
        """The error for the generator raising `exc` while making task `task_id` from `seed`."""
        return GeneratorError(f"{self._what()} raised {type(exc).__name__}: {str(exc):.300} while making task "
                              f"{task_id!r} (seed {seed}); fix the generator")

    def _what(self) -> str:
        """'env: generator name with settings {...}', for error messages (the env when known)."""
        env = self.label() if self.label is not None else None
        where = f"{env}: " if env else ""
        settings = f" with settings {self.settings}" if self.settings else ""
        return f"{where}generator {self.name}{settings}"

    def check_deterministic(self, index: int = 0) -> Task:
        """Task `index`, made twice from its seed: a GeneratorError when the two differ.

        Task `i` must be the same task every time (evaluation sets, `reset(seed=...)` and the
        fingerprint rely on it), so a generator must take all its randomness from the `rng` it is
        given; one that also draws from the `random` module, NumPy's global generator or the clock
        makes another task from the same seed. Compared by `stable_repr` of the tasks (so objects
        without `==`, such as NumPy arrays, compare by content).
        """
        first, second = self.get(index), self.get(index)
        if _task_text(first) != _task_text(second):
            raise GeneratorError(
                f"{self._what()} made two different tasks from the same seed ({index}): {_task_text(first)!r:.160} "
                f"then {_task_text(second)!r:.160}; a generator must draw all its randomness from its rng "
                f"argument (e.g. rng.integers(1, 10), not random.randint(1, 10) or np.random.randint), so that "
                f"task {index} is always the same task: fix the generator")
        return first

    def get(self, index: int) -> Task:
        index = check_index(index)
        if index < 0:
            # a dataset's index -1 is its last task; a generator makes tasks without end, so there is no last
            raise IndexError(f"task index must be a non-negative int, got {index!r}: a generator's tasks have no "
                             "end, so a negative index cannot count from it")
        return self._make(index, f"{self.name}/{index}")

    def sample(self, rng: np.random.Generator) -> Task:
        seed = int(rng.integers(2**62))
        return self._make(seed, f"{self.name}/s{seed}")

    def fingerprint(self) -> dict[str, Any]:
        fingerprint: dict[str, Any] = {
            "generator": f"{getattr(self.fn, '__module__', '?')}.{self.name}",
            "settings": plain_json(self.settings),
        }
        if self.version is not None:  # absent for unversioned generators: their digests stay as they were
            fingerprint["generator_version"] = self.version
        if not _is_rlvr_function(self.fn):
            from rlvr.envs.scoring import callable_identity  # here: rlvr.envs.scoring imports this module

            fingerprint["callable"] = callable_identity(self.fn)
        return fingerprint


def _names_a_task(value: Any) -> bool:
    """True for a task id that says something: not None, NaN or blank text."""
    return not is_missing(value) and bool(str(value).strip())


def _task_text(task: Task) -> str:
    """`task` as text that is equal for equal tasks (`stable_repr`), for `check_deterministic`."""
    return stable_repr((task.id, task.question, task.answer, dict(task.meta)))


def _is_rlvr_function(fn: Any) -> bool:
    """True when `fn` (or the function a partial wraps) is defined in rlvr itself."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    module = getattr(fn, "__module__", None) or ""
    return module == "rlvr" or module.startswith("rlvr.")


# ----------------------------------------------------------------------------------------------
# Loading a dataset


@dataclass
class LoadedDataset:
    """A loaded table: column names, column access and what identifies it."""

    columns: list[str]
    num_rows: int
    column: Callable[[str], list[Any]]
    fingerprint: dict[str, Any]
    #: The skipped blank lines of a .json/.jsonl file read as JSON Lines (`row_files.JsonRows`), so
    #: a message can name a row's line without reading the file again; None for other data.
    blank_lines: Any = None


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _from_hf(ds: Any, fingerprint: dict[str, Any]) -> LoadedDataset:
    columns = list(ds.column_names)
    features = getattr(ds, "features", None) or {}
    return LoadedDataset(columns, len(ds), lambda name: _column_values(ds, name, features.get(name)), fingerprint)


#: NumPy's type for each narrow float column type of `datasets`, whose values `_column_values` writes as the data means them.
_NARROW_FLOATS = {"float16": np.float16, "float32": np.float32}


def _column_values(ds: Any, name: str, feature: Any) -> list[Any]:
    """The values of column `name` of a `datasets.Dataset`, as Python values.

    `datasets` widens a float32 (or float16) cell to the Python float of its binary value: a
    parquet column holding 0.1 as float32 read as 0.10000000149011612, and that text became the
    gold answer (the math verifier then scored `\\boxed{0.1}` 0). Such a cell is read instead as the
    float of its shortest float32 (float16) text, `str(np.float32(x))`: 0.1 stays 0.1."""
    values = list(ds[name])
    narrow = _NARROW_FLOATS.get(getattr(feature, "dtype", None)) if type(feature).__name__ == "Value" else None
    if narrow is None:
        return values
    return [v if v is None or not isinstance(v, float) else float(str(narrow(v))) for v in values]


def _pick_split(dsdict: Any, split: str | None, source: str) -> Any:
    splits = list(dsdict.keys())
    if split is None:
        if len(splits) == 1:
            return dsdict[splits[0]], splits[0]
        raise DatasetError(f"dataset {source!r} has splits {splits}; choose one with split=")
    if split not in dsdict:
        raise DatasetError(f"dataset {source!r} has no split {split!r}; available splits: {splits} (set split=)")
    return dsdict[split], split


def _local_cache_dir(digest: str) -> str:
    """Where `datasets` caches its copy of a local (parquet) file with SHA-256 `digest`.

    `datasets` keys a local file's cache by its path and modification time, so a file replaced
    with the same mtime (tar, rsync -a, cp -p) was served stale while the fingerprint named the new
    content. One cache folder per content digest makes the data loaded the data fingerprinted.
    """
    import datasets

    return os.path.join(datasets.config.HF_DATASETS_CACHE, "rlvr-local-files", digest[:32])


def _load_parquet(path: str, digest: str) -> Any:
    """`datasets.load_dataset("parquet", ...)` of a local file; any failure a DatasetError naming it.

    `datasets` raises a bare `StopIteration` (no message) for an empty file, and errors that name
    no file ("An error occurred while generating the dataset") for an unreadable one.
    """
    import datasets

    if os.path.getsize(path) == 0:
        raise no_rows(path, "it is empty")
    try:
        return datasets.load_dataset("parquet", data_files=path, cache_dir=_local_cache_dir(digest))
    except StopIteration:
        raise no_rows(path, "it is empty") from None
    except Exception as exc:  # a broken file, a type pyarrow cannot hold: name the file and the cause
        raise DatasetError(f"could not read dataset file {path!r}: {_causes(exc)}; give a valid parquet file") from exc


def _causes(exc: BaseException) -> str:
    """'Type: message' of `exc` and of the exceptions behind it (`datasets` wraps the real cause
    in a DatasetGenerationError whose own message says nothing)."""
    parts = []
    while exc is not None and len(parts) < 4:
        parts.append(f"{type(exc).__name__}: {exc}")
        exc = exc.__cause__ or exc.__context__
    return ", caused by ".join(parts)


def _local_table(path: str, ext: str, split: str | None) -> LoadedDataset:
    """A local json/jsonl/csv file as a table, fingerprinted by the SHA-256 of the very bytes read.

    The bytes are hashed before they are parsed: a file whose digest was parsed before (`_LAYOUTS`)
    gives a table whose columns are known and whose rows are parsed only when a column is read
    (`_LazyRows`). `DatasetEnv` finds its shared tasks by the digest, so the second and later envs
    of one unchanged file (`make_vec(id, 64)`) do not parse it again: 200k JSON lines took a second
    per env. A changed file has another digest, and is parsed."""
    data = read_file(path)
    if not data:
        raise no_rows(path, "it is empty")
    if split not in (None, "train"):  # what `datasets` called a local file's one split
        raise DatasetError(f"dataset {path!r} has no split {split!r}; available splits: ['train'] (set split=)")
    fingerprint = {"source": os.path.abspath(path), "sha256": hashlib.sha256(data).hexdigest()}
    key = (fingerprint["sha256"], ext == ".csv")
    with _LAYOUTS_LOCK:
        layout = _LAYOUTS.get(key)
        if layout is not None:
            _LAYOUTS.move_to_end(key)
    if layout is not None:
        rows = _LazyRows(data, path, ext)
        return LoadedDataset(list(layout.columns), layout.num_rows, lambda name: [row.get(name) for row in rows.rows()],
                             fingerprint, layout.blank_lines)
    columns, rows = _parse_rows(data, path, ext)
    table = _rows_table(rows, columns, fingerprint)
    table.blank_lines = getattr(rows, "blank_lines", None)  # (CSV rows have no lines)
    with _LAYOUTS_LOCK:  # (envs may be built in threads)
        _LAYOUTS[key] = _Layout(tuple(columns), len(rows), table.blank_lines)
        while len(_LAYOUTS) > _LAYOUTS_KEPT:
            _LAYOUTS.popitem(last=False)
    return table


def _parse_rows(data: bytes, path: str, ext: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns and rows of a local json/jsonl/csv file's bytes `data` (see `load_table`)."""
    text = decode_text(data, path)
    if ext == ".csv":
        columns, rows = read_csv_rows(text, path)
    else:
        rows = read_json_rows(text, path)
        _refuse_column_layout(rows, path)
        columns = list(dict.fromkeys(key for row in rows for key in row))
    if not rows:
        raise no_rows(path, "only a header" if ext == ".csv" else "no objects, only blank lines or an empty array")
    return columns, rows


@dataclass(frozen=True)
class _Layout:
    """What `_local_table` needs of a parsed file to give its table without parsing it again: its
    columns, number of rows and skipped blank lines. No rows: a few bytes per file."""

    columns: tuple[str, ...]
    num_rows: int
    blank_lines: Any


#: The `_Layout` of the local files parsed lately, by (SHA-256 of their bytes, read as CSV), the
#: latest last; bounded, as the layouts are small but the files seen by a process are not.
_LAYOUTS: "collections.OrderedDict[tuple[str, bool], _Layout]" = collections.OrderedDict()
_LAYOUTS_KEPT = 64
_LAYOUTS_LOCK = threading.Lock()


class _LazyRows:
    """The rows of a file's bytes, parsed at the first `rows()` (then the bytes are let go). The
    bytes were parsed without error before (their `_Layout` is known), so they parse again."""

    __slots__ = ("_data", "_path", "_ext", "_rows")

    def __init__(self, data: bytes, path: str, ext: str) -> None:
        self._data, self._path, self._ext = data, path, ext
        self._rows: list[dict[str, Any]] | None = None

    def rows(self) -> list[dict[str, Any]]:
        if self._rows is None:
            self._rows = _parse_rows(self._data, self._path, self._ext)[1]
            self._data = b""
        return self._rows


def _refuse_column_layout(rows: list[dict[str, Any]], path: str) -> None:
    """A DatasetError when a JSON file's one object is a whole table, not a row: pandas'
    `DataFrame.to_json` writes by default {"question": {"0": ..., "1": ...}, "answer": {...}}
    (orient="columns"; orient="index" keys the rows instead), and `json.dump(Dataset.to_dict())`
    writes {"question": [...], "answer": [...]}. Read as one row, every cell was a whole column, and
    the error blamed a gold answer. Told apart from a real one-row file by its shape: every value a
    dict over the same keys, or every value a list of one length, more than one of them (a lone
    dict-valued field is a row's; with one column, the dict's keys must be index labels)."""
    if len(rows) != 1 or not rows[0]:
        return
    values = list(rows[0].values())
    if all(isinstance(v, dict) for v in values):
        keys = [tuple(v) for v in values]
        if len(keys[0]) < 2 or any(k != keys[0] for k in keys):
            return
        labels = all(str(k).lstrip("-").isdigit() for k in keys[0])
        if len(values) < 2 and not labels:
            return
        by_index = all(str(k).lstrip("-").isdigit() for k in rows[0])
        what = ("one JSON object of rows keyed by their index (pandas to_json's orient='index')" if by_index and not labels
                else "one JSON object of columns (pandas to_json's default layout)")
    elif all(isinstance(v, list) for v in values) and len(values) > 1:
        if len({len(v) for v in values}) != 1 or len(values[0]) < 2:
            return
        what = "one JSON object of columns, each a list (json.dump of Dataset.to_dict() or DataFrame.to_dict('list'))"
    else:
        return
    raise DatasetError(f"dataset file {path!r} holds {what}, not rows; export it with one row per line: "
                       f"df.to_json('name.jsonl', orient='records', lines=True) or Dataset.to_json('name.jsonl')")


def _rows_table(rows: list[Mapping[str, Any]], columns: list[str], fingerprint: dict[str, Any]) -> LoadedDataset:
    """A table over rows held in memory (a cell a row lacks reads as None)."""
    return LoadedDataset(columns, len(rows), lambda name: [row.get(name) for row in rows], fingerprint)


def load_table(
    dataset: Any,
    *,
    split: str | None = None,
    config: str | None = None,
    revision: str | None = None,
) -> LoadedDataset:
    """Load a dataset given as a hub id, a local file path, a `datasets.Dataset`, or a list of dicts.

    A local .json/.jsonl/.csv file is read with the standard `json` / `csv` modules, so values
    are the file's own (`read_json_rows`, `read_csv_rows`): a type-guessing reader changed them
    ("00501" became 501.0, and a column holding 5 and 0.5 made the 5 a 5.0). A local .parquet
    file and hub datasets, whose column types are declared, go through `datasets.load_dataset`.
    A "~" in a local path is expanded. Local files are fingerprinted by their SHA-256 (with their
    absolute path as "source": recorded, but not part of the fingerprint's digest, so a copy
    elsewhere is the same data: `rlvr.envs.fingerprint.LOCATION_KEYS`), rows given in memory by
    `content_sha256`, hub datasets by id, config, split and revision. A file that cannot be read
    raises a DatasetError naming it and the cause. A `config` or `revision` for data that has none
    (a local file, rows in memory, a `datasets.Dataset`), or a `split` it does not have (rows in
    memory have only "train", as a local file and a `datasets.Dataset`; the built-in sample set none),
    raises a DatasetError: ignored, it would name data the env does not train on (`check_data_options`).
    """
    if isinstance(dataset, (list, tuple)):
        check_data_options(dataset, split=split, config=config, revision=revision)
        rows = list(dataset)
        if not rows:  # else the first complaint would be a missing 'question' column
            raise DatasetError("the dataset has no rows (an empty list); give at least one row")
        if not all(isinstance(row, Mapping) for row in rows):
            raise DatasetError("a dataset given as a list must be a list of dicts (one per row)")
        columns = list(dict.fromkeys(key for row in rows for key in row))
        try:
            digest = content_sha256([row if type(row) is dict else dict(row) for row in rows])
        except RecursionError:
            raise DatasetError("the dataset's rows hold a value that contains itself (or is nested over a "
                               "thousand levels deep); give rows of plain data") from None
        return _rows_table(rows, columns, {"source": "in-memory", "sha256": digest})
    if isinstance(dataset, (str, os.PathLike)):
        path = os.path.expanduser(os.fspath(dataset))
        if os.path.exists(path):
            return _load_file(path, split=split, config=config, revision=revision)
        if os.path.splitext(path)[1].lower() in _FILE_FORMATS or path.startswith(("/", "./", "../", "~")):
            raise DatasetError(f"dataset file {path!r} does not exist; give an existing path or a hub id like 'openai/gsm8k'")
        import datasets  # slow import; only when a dataset is actually loaded

        try:
            dsdict = datasets.load_dataset(path, config, revision=revision)
        except Exception as exc:  # offline, unknown id, bad config: say what was tried
            raise DatasetError(
                f"could not load dataset {path!r} (config={config!r}, revision={revision!r}): "
                f"{type(exc).__name__}: {exc}. Give a hub id that exists and is reachable, or a local file path"
            ) from exc
        ds, used = _pick_split(dsdict, split, path)
        return _from_hf(
            ds,
            {
                "source": path,
                "config": config,
                "split": used,
                "revision": revision or "unpinned",
                "content_fingerprint": getattr(ds, "_fingerprint", None),
            },
        )
    # A datasets.Dataset / DatasetDict passed in directly.
    if _is_hf_data(dataset):
        check_data_options(dataset, split=split, config=config, revision=revision)
        if isinstance(dataset.column_names, dict):  # DatasetDict
            dataset, _ = _pick_split(dataset, split, "the given DatasetDict")
        return _from_hf(dataset, {"source": "datasets.Dataset", "content_fingerprint": getattr(dataset, "_fingerprint", None)})
    raise DatasetError(
        f"dataset must be a hub id, a path to a json/jsonl/parquet/csv file, a datasets.Dataset or a "
        f"list of dicts; got {type(dataset).__name__}"
    )


def _is_hf_data(dataset: Any) -> bool:
    """True for a `datasets.Dataset` or `DatasetDict` (told apart by `column_names`, a dict for the latter).

    A streaming one (`IterableDataset`, `IterableDatasetDict`: `load_dataset(..., streaming=True)`)
    raises a DatasetError: an env draws tasks by index from a table of known size, so it passed
    `rlvr.register` and then every make failed ("object of type 'IterableDataset' has no len()")."""
    kind = type(dataset)
    if kind.__name__ in ("IterableDataset", "IterableDatasetDict") and kind.__module__.startswith("datasets."):
        raise DatasetError(f"dataset= is a streaming datasets.{kind.__name__} (load_dataset(..., streaming=True)), which an "
                           f"env cannot read: it draws tasks by index from a table of known size; load it without "
                           f"streaming=True, or pass datasets.Dataset.from_list(list(dataset)) (for a DatasetDict, of "
                           f"the split you want)")
    return hasattr(dataset, "column_names") and hasattr(dataset, "__getitem__")


def check_data_options(dataset: Any, *, split: str | None, config: str | None, revision: str | None) -> None:
    """`load_table`'s checks of `split`, `config` and `revision` for data that has no such options
    or only some, made without reading the data: a DatasetError for a config or revision given with
    rows in memory, an existing local file, a `datasets.Dataset` or `DatasetDict`, and for a split
    they do not have (rows and a local file have "train" only, as `datasets` names a file's one
    split; a `Dataset` is one split already, so it takes "train" like rows, or the split name it
    carries (`load_dataset(..., split="test")`; that name is no guide otherwise,
    `train_test_split()["test"]` carries "train"); a `DatasetDict` a split it has; the built-in
    sample set has none). A hub id is not checked (only loading it tells). `rlvr.register` calls
    this too, so a registration no make could build is refused when it is made."""
    if isinstance(dataset, (list, tuple)):
        builtin = _is_builtin_samples(dataset)  # no split, not even "train": it is no part of a larger dataset
        what = "the built-in sample set (used when no dataset= is given)" if builtin else "a dataset given in memory (a list of rows)"
        _refuse_options(what, split, config, revision, [] if builtin else ["train"])
    elif isinstance(dataset, (str, os.PathLike)):
        path = os.path.expanduser(os.fspath(dataset))
        if not os.path.isfile(path) or os.path.splitext(path)[1].lower() not in _FILE_FORMATS:
            return  # a hub id, or a path `_load_file` refuses for itself
        if config is not None or revision is not None:
            raise DatasetError(f"{path!r} is a local file: it has no config= or revision= (those are for hub datasets); drop them")
        if split not in (None, "train"):  # what `datasets` calls a local file's one split
            raise DatasetError(f"dataset {path!r} has no split {split!r}; available splits: ['train'] (set split=)")
    elif _is_hf_data(dataset):
        if isinstance(dataset.column_names, dict):  # DatasetDict: split= picks one of its splits
            _refuse_options("the given DatasetDict", None, config, revision, [])
            if split is not None:  # (none given: `load_table` asks for one if it has several; a
                _pick_split(dataset, split, "the given DatasetDict")  # registration may leave it to make)
        else:
            _refuse_options("the given datasets.Dataset", None, config, revision, [])
            own = getattr(dataset, "split", None)
            if split not in (None, "train", None if own is None else str(own)):
                named = "" if own is None else f" ({str(own)!r})"
                raise DatasetError(f"the given datasets.Dataset is one split already{named}, so split={split!r} would "
                                   f"select nothing; leave split= out (or pass a DatasetDict with split=)")


def _is_builtin_samples(rows: Any) -> bool:
    """True for the built-in sample set an env reads without `dataset=` (Math-v0, Code-v0,
    ToolMath-v0): errors name it so, not as the user's own list."""
    from rlvr.envs.samples import CODE_SAMPLES, MATH_SAMPLES

    return rows is MATH_SAMPLES or rows is CODE_SAMPLES


def _refuse_options(what: str, split: str | None, config: str | None, revision: str | None, splits: list[str]) -> None:
    """A DatasetError for a `split`, `config` or `revision` that data without them (`what`: rows in
    memory, a `datasets.Dataset`) would silently ignore: the env would train on other data than
    the one named. `splits` are the split names that do mean this data ("train", as a local file's)."""
    if config is not None or revision is not None:
        given = ", ".join(f"{name}={value!r}" for name, value in (("config", config), ("revision", revision)) if value is not None)
        raise DatasetError(f"{what} has no config= or revision= (those are for hub datasets), got {given}; drop them, "
                           f"or pass dataset= a hub id")
    if split is not None and split not in splits:
        available = f"available splits: {splits}" if splits else "it has no splits"
        raise DatasetError(f"{what} has no split {split!r}; {available} (drop split=, or pass dataset= the data of "
                           f"that split: a hub id, a local file, or its rows)")


def _load_file(path: str, *, split: str | None, config: str | None, revision: str | None) -> LoadedDataset:
    """The table of the existing local file (or folder) at `path` (see `load_table`)."""
    ext = os.path.splitext(path)[1].lower()
    if os.path.isdir(path):  # else a raw IsADirectoryError for a folder named "x.jsonl"
        raise DatasetError(f"dataset path {path!r} is a folder, not a file; give the path of a .json, .jsonl, .parquet or .csv file")
    if ext not in _FILE_FORMATS:
        raise DatasetError(f"cannot read {path!r}: unknown file type {ext!r}; use a .json, .jsonl, .parquet or .csv file")
    check_data_options(path, split=split, config=config, revision=revision)
    if ext != ".parquet":
        return _local_table(path, ext, split)
    digest = file_sha256(path)
    dsdict = _load_parquet(path, digest)
    if file_sha256(path) != digest:
        raise DatasetError(f"{path!r} changed while it was being loaded; load it again once it is written")
    ds, _ = _pick_split(dsdict, split, path)
    return _from_hf(ds, {"source": os.path.abspath(path), "sha256": digest})


def require_column(table: LoadedDataset, name: str | None, argument: str, candidates: Iterable[str] = ()) -> str:
    """Return the column to use for `argument`, or raise naming the column and the argument to set.

    `name` is what the user asked for; when None the first of `candidates` present is used.
    """
    if name is not None:
        if name in table.columns:
            return name
        raise DatasetError(
            f"dataset has no column {name!r} (its columns: {table.columns}); set {argument}= to the column that holds it"
        )
    for candidate in candidates:
        if candidate in table.columns:
            return candidate
    wanted = " or ".join(repr(c) for c in candidates) or "the needed column"
    raise DatasetError(
        f"dataset has no column {wanted} (its columns: {table.columns}); set {argument}= to the column that holds it"
    )


def row_text(values: Sequence[Any], i: int, key: str) -> str:
    """Row i's task text from column `key`; a DatasetError naming the row when it is empty or not
    text (the model would be prompted with "None"), or not writable as UTF-8 (`check_utf8`)."""
    text = values[i]
    if not isinstance(text, str) or not text.strip():
        raise DatasetError(f"row {i}: column {key!r} is empty or not text ({text!r:.80}); fix the row or set question_key=")
    check_utf8(text, f"row {i}: column {key!r}")
    return text


def check_utf8(text: str, where: str) -> None:
    """A DatasetError naming `where` and the position when `text` cannot be written as UTF-8: a lone
    surrogate ("\\ud83d", half of an emoji cut in two, which JSON's "\\ud83d" escape and Python
    strings can hold) passed every check, then broke the tokenizer at whichever reset drew the row,
    with a TypeError naming neither the row nor the cause. ASCII text, most text, is passed at once."""
    if text.isascii():  # (no surrogate is ASCII: the fast path for every caller)
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise DatasetError(f"{where} holds {text[exc.start:exc.end]!r} at character {exc.start}, a lone surrogate (half "
                           f"of a character cut in two, e.g. an emoji) that is not text a tokenizer can read; fix the "
                           f"data (re-export it without cutting characters, or drop the character)") from None


def build_tasks(
    table: LoadedDataset,
    *,
    question_key: str,
    answer_key: str | None,
    convert_answer: Callable[[Any], Any] | None = None,
    validate_answer: Callable[[Any], str | None] | None = None,
    meta_keys: Sequence[str] = (),
    id_key: str | None = None,
    id_prefix: str = "",
) -> list[Task]:
    """Turn table rows into Tasks, converting and validating each gold answer.

    `validate_answer(gold)` returns None for a usable answer or a description of what is wrong; a
    bad gold answer raises `DatasetError` naming the row, so bad data fails at load time. A missing
    gold answer (None, or NaN: pandas' and parquet's empty cell) is refused too. Task ids are the
    row numbers, or the values of column `id_key`, which must be unique and present (`task_ids`).
    """
    questions = table.column(question_key)
    answers = table.column(answer_key) if answer_key else [None] * table.num_rows
    ids = task_ids(table, id_key, id_prefix)
    metas = {key: table.column(key) for key in meta_keys if key in table.columns}
    tasks = []
    for i in range(table.num_rows):
        question = row_text(questions, i, question_key)
        gold = answers[i]
        if answer_key and is_missing(gold):
            held = "" if gold is None else f" (it holds {gold!r})"
            raise DatasetError(f"row {i}: column {answer_key!r} is missing{held}; fix the row or set answer_key=")
        if convert_answer is not None:
            gold = convert_answer(gold)
        if validate_answer is not None:
            problem = validate_answer(gold)
            if problem:
                raise DatasetError(
                    f"row {i}: bad gold answer in column {answer_key!r} ({_shown(answers[i])}): {problem}; "
                    f"fix the row or set answer_key= to the right column"
                )
        tasks.append(Task(ids[i], question, gold, {key: values[i] for key, values in metas.items()}))
    return tasks


def _shown(value: Any) -> str:
    """`value`'s repr cut to 80 characters, for an error message; a placeholder where the repr
    itself fails (an int of more than 4,300 digits)."""
    try:
        return f"{value!r:.80}"
    except ValueError:
        return f"<{type(value).__name__} too long to show>"


def task_ids(table: LoadedDataset, id_key: str | None, id_prefix: str) -> list[str]:
    """The task id of each row: `id_prefix` and the row number, or the row's value in column
    `id_key`. Results and pass@k are grouped by task id, so a row without an id (None, NaN or
    blank) or two rows with one id raise a DatasetError naming the rows."""
    if id_key is None:
        return [f"{id_prefix}{i}" for i in range(table.num_rows)]
    fix = "fix the rows, set id_key= to a column of unique ids, or drop id_key= to number the rows"
    task_ids: list[str] = []
    first_row: dict[str, int] = {}
    for i, value in enumerate(table.column(id_key)):
        if is_missing(value) or (isinstance(value, str) and not value.strip()):
            raise DatasetError(f"row {i}: column {id_key!r} holds no task id ({value!r}); "
                               f"every task needs one (results are grouped by task id): {fix}")
        task_id = f"{id_prefix}{value}"
        if task_id in first_row:
            raise DatasetError(f"rows {first_row[task_id]} and {i}: column {id_key!r} gives both the task id {task_id!r}; "
                               f"task ids must be unique (results and pass@k are grouped by them): {fix}")
        first_row[task_id] = i
        task_ids.append(task_id)
    return task_ids
