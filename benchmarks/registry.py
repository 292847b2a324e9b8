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
| apps       | codeparrot/apps (all, test), stdin/stdout problems   | Code-v0 | 5000 rows, stdin/stdout subset used |

A benchmark is data + an environment: `prepare` turns the raw rows into the env's layout (and
gives every task a stable `task_id`), `reference` gives a completion that must score right (the
dataset's own solution, used by the checks). Users add their own from any registered env with
`register_benchmark`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from rlvr.benchmarks.data import BenchmarkDataError, load_hub, load_local
from rlvr.envs.tasks import Task

Row = dict[str, Any]


@dataclass(frozen=True)
class Benchmark:
    """One benchmark.

    Attributes:
        name: what `--benchmark` takes.
        env_id: the registered environment that asks and scores (e.g. "rlvr/Math-v0").
        kind: "math" (maj@k is reported, answers batch-verified), "code" (batched in the sandbox)
            or "env" (any other env: each sample is stepped through the env).
        hub_id / config / split / revision: where `datasets` finds it (None: no hub copy).
        size: the number of rows in the source split (for `rlvr benchmarks list`).
        size_note: what of those rows is used, when not all of them ("stdin/stdout subset used").
        columns: raw columns that must be present (checked with a clear error).
        prepare: raw rows -> rows in the env's layout, each with a "task_id".
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
    size_note: str = ""
    columns: tuple[str, ...] = ()
    prepare: Callable[[list[Row]], list[Row]] | None = None
    reference: Callable[[Row], str] | None = None
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)
    version: str = "1"
    description: str = ""

    @property
    def size_label(self) -> str:
        """The size as `rlvr benchmarks list` shows it: "1319", or "5000 rows, stdin/stdout subset used"."""
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
    """A benchmark ready to score: its env, its tasks in order, and what identifies the data."""

    benchmark: Benchmark
    env: Any
    tasks: list[Task]
    rows: list[Row] | None
    data_fingerprint: dict[str, Any]

    @property
    def task_index(self) -> dict[str, int]:
        return {task.id: i for i, task in enumerate(self.tasks)}

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


def _with_ids(rows: list[Row], id_column: str | None) -> list[Row]:
    out = []
    for i, row in enumerate(rows):
        row = dict(row)
        value = row.get(id_column) if id_column else None
        row["task_id"] = str(value) if value is not None and str(value) != "" else str(i)
        out.append(row)
    return out


def _gsm8k(rows: list[Row]) -> list[Row]:
    return [{"task_id": str(i), "question": r["question"], "answer": r["answer"]} for i, r in enumerate(rows)]


def _math500(rows: list[Row]) -> list[Row]:
    return [{"task_id": str(r.get("unique_id") or i), "question": r["problem"], "answer": str(r["answer"]),
             "solution": r.get("solution") or ""} for i, r in enumerate(rows)]


def _aime(rows: list[Row]) -> list[Row]:
    return [{"task_id": str(r.get("id") if r.get("id") not in (None, "") else i), "question": r["problem"],
             "answer": str(r["answer"]).strip(), "solution": r.get("solution") or ""} for i, r in enumerate(rows)]


def _math_reference(row: Row) -> str:
    solution = row.get("solution") or ""
    if "\\boxed" in solution:
        return solution
    return (solution + "\n\n" if solution else "") + f"The final answer is $\\boxed{{{row['answer']}}}$."


def _humaneval(rows: list[Row]) -> list[Row]:
    return [{"task_id": str(r["task_id"]), "prompt": r["prompt"], "test": r["test"], "entry_point": r["entry_point"],
             "canonical_solution": r.get("canonical_solution") or ""} for r in rows]


def _mbpp(rows: list[Row]) -> list[Row]:
    out = []
    for i, r in enumerate(rows):
        imports = r.get("test_imports") or []
        setup = "\n".join([*(imports if isinstance(imports, list) else [imports]), r.get("test_setup_code") or ""]).strip()
        out.append({"task_id": str(r.get("task_id", i)), "text": r.get("prompt") or r.get("text"),
                    "test_list": list(r["test_list"]), "test_setup_code": setup, "code": r.get("code") or ""})
    return out


def _apps(rows: list[Row]) -> list[Row]:
    """APPS stdin/stdout problems; call-based ones (with "fn_name") and ones without tests are skipped."""
    out = []
    for i, r in enumerate(rows):
        blob = r.get("input_output")
        try:
            io = json.loads(blob) if isinstance(blob, str) else blob
        except ValueError:
            io = None
        if not isinstance(io, Mapping) or io.get("fn_name") or not io.get("inputs") or len(io["inputs"]) != len(io.get("outputs") or []):
            continue
        solutions = r.get("solutions")
        try:
            solutions = json.loads(solutions) if isinstance(solutions, str) and solutions.strip() else (solutions or [])
        except ValueError:
            solutions = []
        out.append({"task_id": str(r.get("problem_id", i)), "question": r["question"],
                    "inputs": [x if isinstance(x, str) else "\n".join(map(str, x)) for x in io["inputs"]],
                    "outputs": [x if isinstance(x, str) else "\n".join(map(str, x)) for x in io["outputs"]],
                    "solution": solutions[0] if solutions else ""})
    return out


def _fenced(code: str) -> str:
    return f"```python\n{code}\n```"


_MATH_KW = {"question_key": "question", "answer_key": "answer", "id_key": "task_id"}

BUILTIN: dict[str, Benchmark] = {}


def _add(b: Benchmark) -> None:
    BUILTIN[b.name] = b


_add(Benchmark("gsm8k", "rlvr/Math-v0", "math", "openai/gsm8k", "main", "test", size=1319,
               columns=("question", "answer"), prepare=_gsm8k, reference=lambda r: r["answer"],
               env_kwargs=_MATH_KW, description="grade-school word problems; gold after '####'"))
_add(Benchmark("math500", "rlvr/Math-v0", "math", "HuggingFaceH4/MATH-500", None, "test", size=500,
               columns=("problem", "answer"), prepare=_math500, reference=_math_reference,
               env_kwargs=_MATH_KW, description="the 500-problem MATH test subset of 'Let's Verify Step by Step'"))
_add(Benchmark("aime2024", "rlvr/Math-v0", "math", "HuggingFaceH4/aime_2024", None, "train", size=30,
               columns=("problem", "answer"), prepare=_aime, reference=_math_reference,
               env_kwargs=_MATH_KW, description="AIME 2024 I and II, integer answers 0-999"))
_add(Benchmark("aime2025", "rlvr/Math-v0", "math", "yentinglin/aime_2025", None, "train", size=30,
               columns=("problem", "answer"), prepare=_aime, reference=_math_reference,
               env_kwargs=_MATH_KW, description="AIME 2025 I and II, integer answers 0-999"))
_add(Benchmark("humaneval", "rlvr/Code-v0", "code", "openai/openai_humaneval", None, "test", size=164,
               columns=("task_id", "prompt", "test", "entry_point"), prepare=_humaneval,
               reference=lambda r: r["canonical_solution"],
               description="Python functions from docstrings; completions may be the continuation of the prompt"))
_add(Benchmark("mbpp", "rlvr/Code-v0", "code", "google-research-datasets/mbpp", "sanitized", "test", size=257,
               columns=("task_id", "test_list"), prepare=_mbpp, reference=lambda r: _fenced(r["code"]),
               description="MBPP sanitized: short Python functions checked by asserts"))
_add(Benchmark("apps", "rlvr/Code-v0", "code", "codeparrot/apps", "all", "test", size=5000,
               size_note="stdin/stdout subset used",
               columns=("question", "input_output"), prepare=_apps, reference=lambda r: _fenced(r["solution"]),
               description="APPS test, stdin/stdout problems (call-based ones skipped)"))

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
    `dataset=`.
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
    if kind is None:
        kind = "math" if probe.verifier_fingerprint().get("name") == "math" else "env"
    probe.close()
    bench = Benchmark(name, env_id, kind, size=size or probe.source.size, env_kwargs=dict(env_kwargs or {}),
                      version=version, description=description or f"tasks of {env_id}")
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


def load_benchmark(
    name: str | Benchmark,
    *,
    data: str | None = None,
    limit: int | None = None,
    sandbox: Any = None,
    math_timeout: float = 5.0,
) -> LoadedBenchmark:
    """Load a benchmark's tasks (from `data` if given, else the hub) and build its env.

    `limit` keeps the first N tasks. `sandbox` is used by code benchmarks (default: the shared one).
    """
    import rlvr

    bench = get_benchmark(name)
    if limit is not None and limit < 1:
        raise ValueError(f"--limit must be >= 1, got {limit}")
    if bench.hub_id is None:  # a user benchmark over a registered env
        kwargs = dict(bench.env_kwargs)
        if data is not None:
            kwargs["dataset"] = data
        if sandbox is not None and bench.kind == "code":
            kwargs["sandbox"] = sandbox
        env = rlvr.make(bench.env_id, **kwargs).unwrapped
        count = bench.size if data is None else env.source.size or bench.size
        count = min(count, limit) if limit else count
        tasks = [env.source.get(i) for i in range(count)]
        return LoadedBenchmark(bench, env, tasks, None, env.source.fingerprint())
    if data is not None:
        rows, fp = load_local(str(data), bench.split)
        where = f"--data {data!r}"
    else:
        rows, fp = load_hub(bench.name, bench.hub_id, bench.config, bench.split, bench.revision)
        where = f"hub dataset {bench.hub_id!r}"
    _check_columns(bench, rows, where)
    raw_count = len(rows)
    rows = bench.prepare(rows) if bench.prepare else _with_ids(rows, None)
    if not rows:
        raise BenchmarkDataError(f"benchmark {bench.name!r}: no usable rows in {where} ({raw_count} read)")
    fp = dict(fp, rows_read=raw_count, rows_used=len(rows))
    ids = [r["task_id"] for r in rows]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise BenchmarkDataError(f"benchmark {bench.name!r}: task id {dup!r} appears more than once in {where}")
    if limit:
        rows = rows[:limit]
    kwargs = dict(bench.env_kwargs)
    if bench.kind == "math":
        kwargs.setdefault("timeout", math_timeout)
    if bench.kind == "code":
        kwargs["id_key"] = "task_id"
        if sandbox is not None:
            kwargs["sandbox"] = sandbox
    env = rlvr.make(bench.env_id, dataset=rows, **kwargs).unwrapped
    tasks = [env.source.get(i) for i in range(env.source.size)]
    return LoadedBenchmark(bench, env, tasks, rows, fp)
