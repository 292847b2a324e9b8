"""Running an evaluation into an output folder: score, resume, summarise, plot.

Two ways in, one folder layout out:

- `evaluate_completions(...)` scores completions generated elsewhere (a JSONL file);
- `evaluate_engine(...)` samples `n` completions per problem with an engine through
  `rlvr.trainers.rollout` (an evaluation is a rollout without the update; multi-turn and tool
  envs included) and keeps the env's verdicts.

The folder gets `samples.jsonl` (one line per sample: task_id, sample_index, completion, score,
correct, reason, error, ...), `summary.json`, `pass_at_k.png` and `run.json` (what the samples were
produced with). Samples are appended as they are scored, so an interrupted run resumes: samples
already scored (same task, same index, same completion; no verification error) are not redone.
A run with different settings in the same folder is refused rather than mixed.

Completions are scored without a length cap unless `max_chars` (`--max-chars`) sets one: the
envs' training-time cap would score a reasoning model's long answers wrong.

Samples whose verification failed (sandbox outage, verifier crash: `Verdict.error`) are written
with their error, left out of every metric, counted in the summary and announced loudly; the next
run retries them.
"""

from __future__ import annotations

import copy
import json
import os
import sys
import tempfile
import time
from typing import Any, Callable, Sequence

from rlvr.benchmarks.completions import read_completions
from rlvr.benchmarks.estimators import parse_ks
from rlvr.benchmarks.registry import LoadedBenchmark, load_benchmark
from rlvr.benchmarks.scoring import score_completions
from rlvr.benchmarks.summary import compute_metrics, format_table, plot_pass_at_k

SAMPLES = "samples.jsonl"
SUMMARY = "summary.json"
PLOT = "pass_at_k.png"
RUN = "run.json"

#: Settings that must match to resume a run in the same folder.
_IDENTITY = ("benchmark", "benchmark_version", "mode", "engine", "model", "temperature", "top_p", "max_tokens",
             "seed", "system_prompt", "data", "max_chars")


class RunMismatchError(ValueError):
    """The output folder holds a run made with other settings."""


class OutDirError(ValueError):
    """The output folder cannot hold a run: it is a file, or cannot be created or written."""


def check_out_dir(out_dir: str) -> None:
    """Create `out_dir` if needed and make sure files can be written there; an OutDirError saying
    why not. Checked before any data or model is loaded, so a wrong --out costs nothing."""
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise OutDirError(f"--out {out_dir!r} is an existing file, not a folder; give a folder path (it is created if missing)")
    try:
        os.makedirs(out_dir, exist_ok=True)
        with tempfile.TemporaryFile(dir=out_dir):
            pass
    except OSError as exc:
        raise OutDirError(f"--out {out_dir!r} cannot hold the results ({exc.strerror or exc}); give a folder you can "
                          f"write to") from None


class EvalResult(dict):
    """The summary (a dict, as written to summary.json), plus `exit_code`."""

    @property
    def exit_code(self) -> int:
        return 3 if self.get("counts", {}).get("excluded") else 0


# ------------------------------------------------------------------ the results folder


class ResultStore:
    """samples.jsonl in `out_dir`: load what is there, append new results as they come."""

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir
        os.makedirs(out_dir, exist_ok=True)
        self.path = os.path.join(out_dir, SAMPLES)
        self.rows: dict[tuple[str, int], dict[str, Any]] = {}
        if os.path.exists(self.path):
            with open(self.path, encoding="utf-8") as handle:
                for line in handle:
                    try:
                        row = json.loads(line)
                        key = (str(row["task_id"]), int(row["sample_index"]))
                    except (ValueError, KeyError, TypeError):
                        continue  # a line cut short by an interrupted run: that sample is redone
                    self.rows[key] = row
        self._handle = None

    def done(self, key: tuple[str, int], completion: str | None = None) -> bool:
        row = self.rows.get(key)
        if row is None or row.get("error"):
            return False
        return completion is None or row.get("completion") == completion

    def add(self, rows: Sequence[dict[str, Any]]) -> None:
        if self._handle is None:
            needs_newline = os.path.exists(self.path) and os.path.getsize(self.path) > 0 and not _ends_with_newline(self.path)
            self._handle = open(self.path, "a", encoding="utf-8")
            if needs_newline:
                self._handle.write("\n")
        for row in rows:
            self._handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            self.rows[(str(row["task_id"]), int(row["sample_index"]))] = row
        self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _ends_with_newline(path: str) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def _check_run(out_dir: str, identity: dict[str, Any]) -> None:
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, RUN)
    if os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as handle:
                before = json.load(handle)
        except ValueError:
            before = {}
        diffs = [f"{k}: {before.get(k)!r} -> {identity.get(k)!r}" for k in _IDENTITY
                 if k in before and before.get(k) != identity.get(k)]
        if diffs:
            raise RunMismatchError(
                f"{out_dir} holds a run made with other settings ({'; '.join(diffs)}); its samples cannot be "
                f"mixed with this run's. Use another --out folder, or delete {out_dir} to start over"
            )
    _write_json(path, identity)


def _write_json(path: str, data: Any) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False, default=str)
        handle.write("\n")
    os.replace(tmp, path)


def _verdict_row(task_id: str, index: int, completion: str, verdict: Any, **extra: Any) -> dict[str, Any]:
    error = getattr(verdict, "error", None)
    details = getattr(verdict, "details", None) or {}
    row = {
        "task_id": task_id,
        "sample_index": index,
        "completion": completion,
        "score": float(getattr(verdict, "score", 0.0)),
        "correct": bool(getattr(verdict, "correct", False)) and not error,
        "reason": str(getattr(verdict, "reason", "")),
        "error": error,
        "kind": details.get("kind"),
    }
    row.update(extra)
    return row


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="sample", disable=not enabled or total == 0, file=sys.stderr,
                dynamic_ncols=True, smoothing=0.1)


# ------------------------------------------------------------------ finishing a run


def _overlong_warning(loaded: LoadedBenchmark, counts: dict[str, Any]) -> list[str]:
    """A warning when samples hit the length cap (`--max-chars`): they were scored wrong unread."""
    if not counts.get("overlong"):
        return []
    cap = getattr(loaded.env, "max_action_chars", None)
    return [f"{counts['overlong']} of {counts['judged']} samples are longer than the cap of {cap} characters "
            f"(--max-chars) and were scored wrong as over-long without being checked; drop --max-chars (and use "
            f"another --out) to score them"]


def _finish(
    loaded: LoadedBenchmark,
    store: ResultStore,
    keys: Sequence[tuple[str, int]],
    ks: Sequence[int],
    settings: dict[str, Any],
    *,
    confidence: float,
    ci_method: str,
    verbose: bool,
    elapsed: float,
    scored_now: int,
    warnings: Sequence[str] = (),
) -> EvalResult:
    rows = [store.rows[k] for k in keys if k in store.rows]
    bench = loaded.benchmark
    result = compute_metrics(rows, ks, majority=bench.kind == "math", task_order=[t.id for t in loaded.tasks],
                             confidence=confidence, ci_method=ci_method)
    metrics = result["metrics"]
    counts = result["counts"]
    result["warnings"] = [*loaded.warnings, *warnings, *result["warnings"], *_overlong_warning(loaded, counts)]
    summary: dict[str, Any] = {"benchmark": bench.name}
    for name, m in metrics.items():
        summary[name] = m["mean"]
    summary["ci"] = {name: [m["ci_low"], m["ci_high"]] for name, m in metrics.items()}
    summary["ci_method"] = (
        f"{int(confidence * 100)}% interval over problems: "
        + ("normal approximation, mean ± z·s/√P (s = sample std over problems), clipped to [0, 1]" if ci_method == "normal"
           else "bootstrap over problems (2000 resamples, seed 0), percentile interval")
    )
    summary.update({
        "metrics": metrics,
        "counts": counts,
        "excluded": counts["excluded"],
        "complete": counts["excluded"] == 0,
        "warnings": result["warnings"],
        "fingerprint": loaded.fingerprint(),
        "settings": settings,
        "timing": {"seconds": round(elapsed, 3), "scored_now": scored_now,
                   "reused": max(0, len(rows) - scored_now)},
        "files": {"samples": SAMPLES, "plot": PLOT if metrics else None},
    })
    _write_json(os.path.join(store.out_dir, SUMMARY), summary)
    if any(name.startswith("pass@") for name in metrics):
        plot_pass_at_k(metrics, os.path.join(store.out_dir, PLOT), title=f"{bench.name} ({settings.get('model') or settings.get('mode')})")
    if verbose:
        problems = (f"{counts['problems']} of {counts['problems_total']}" if counts["problems_without_samples"]
                    else str(counts["problems"]))
        title = (f"{bench.name}: {problems} problems, {counts['judged']} judged samples "
                 f"({scored_now} new, {summary['timing']['reused']} reused"
                 + (f", {counts['excluded']} UNVERIFIED" if counts["excluded"] else "") + ")")
        print(format_table(metrics, title) if metrics else f"{title}\nno metric could be computed")
        for warning in result["warnings"]:
            print(f"warning: {warning}", file=sys.stderr)
        print(f"results in {store.out_dir}/ ({SAMPLES}, {SUMMARY}" + (f", {PLOT})" if metrics else ")"))
    if counts["excluded"]:
        reasons = "; ".join(f"{n}x {r}" for r, n in counts["excluded_reasons"].items())
        bar = "!" * 78
        print(f"\n{bar}\nINCOMPLETE: {counts['excluded']} of {counts['samples']} samples could NOT be verified "
              f"(infrastructure failure, e.g. the sandbox is down: {reasons}).\nThey are EXCLUDED from every "
              f"metric above, not counted as wrong. Fix it (`rlvr sandbox check`) and rerun the same command: "
              f"only these samples will be redone.\n{bar}", file=sys.stderr)
    return EvalResult(summary)


# ------------------------------------------------------------------ completions generated elsewhere


def evaluate_completions(
    benchmark: Any,
    completions: str,
    out_dir: str,
    *,
    ks: Sequence[int] | str = (1,),
    data: str | None = None,
    limit: int | None = None,
    sandbox: Any = None,
    chunk_size: int = 64,
    batched: bool = True,
    confidence: float = 0.95,
    ci_method: str = "normal",
    progress: bool = True,
    verbose: bool = True,
    max_chars: int | None = None,
) -> EvalResult:
    """Score a JSONL file of completions (task_id, completion[, sample_index]) into `out_dir`.

    `limit` keeps the benchmark's first N problems (and the completions for them). Completions for
    rows the benchmark skips on purpose (APPS call-based problems) are ignored with a warning.
    `max_chars` caps a completion's length (default: no cap).
    """
    ks = parse_ks(ks)
    start = time.perf_counter()
    check_out_dir(out_dir)
    loaded = load_benchmark(benchmark, data=data, limit=limit, sandbox=sandbox, max_chars=max_chars)
    items = read_completions(completions, [*loaded.known_ids, *loaded.skipped], benchmark=loaded.benchmark.name)
    items, warnings = _drop_skipped(loaded, items)
    if limit:  # completions for problems beyond the first N are fine, and not scored
        keep = {t.id for t in loaded.tasks}
        items = [c for c in items if c.task_id in keep]
    by_id = {t.id: t for t in loaded.tasks}
    settings = {"mode": "completions", "completions": os.path.abspath(completions), "k": ks, "limit": limit,
                "data": data, "max_chars": max_chars, "ci": {"confidence": confidence, "method": ci_method}}
    identity = {"benchmark": loaded.benchmark.name, "benchmark_version": loaded.benchmark.version, "mode": "completions",
                "data": loaded.data_fingerprint.get("sha256") or loaded.data_fingerprint.get("source"),
                "max_chars": max_chars}
    _check_run(out_dir, identity)
    store = ResultStore(out_dir)
    todo = [c for c in items if not store.done((c.task_id, c.sample_index), c.completion)]
    bar = _progress(len(todo), f"{loaded.benchmark.name} scoring", progress)
    try:
        for i in range(0, len(todo), chunk_size):
            chunk = todo[i:i + chunk_size]
            verdicts = score_completions(loaded.env, loaded.benchmark.kind, [by_id[c.task_id] for c in chunk],
                                         [c.completion for c in chunk], batched=batched)
            store.add([_verdict_row(c.task_id, c.sample_index, c.completion, v) for c, v in zip(chunk, verdicts)])
            bar.update(len(chunk))
    finally:
        bar.close()
        store.close()
    keys = [(c.task_id, c.sample_index) for c in items]
    return _finish(loaded, store, keys, ks, settings, confidence=confidence, ci_method=ci_method, verbose=verbose,
                   elapsed=time.perf_counter() - start, scored_now=len(todo), warnings=warnings)


def _drop_skipped(loaded: LoadedBenchmark, items: list[Any]) -> tuple[list[Any], list[str]]:
    """Completions for tasks the benchmark skips on purpose are not scored; a warning counts them."""
    ignored = [c for c in items if c.task_id in loaded.skipped]
    if not ignored:
        return items, []
    reasons = sorted({loaded.skipped[c.task_id] for c in ignored})
    problems = len({c.task_id for c in ignored})
    return ([c for c in items if c.task_id not in loaded.skipped],
            [f"{len(ignored)} completions for {problems} problems that {loaded.benchmark.name} skips "
             f"({'; '.join(reasons)}) were ignored"])


# ------------------------------------------------------------------ sampling with an engine


def evaluate_engine(
    benchmark: Any,
    engine: Any,
    out_dir: str,
    *,
    tokenizer: Any = None,
    n: int = 1,
    ks: Sequence[int] | str = (1,),
    temperature: float = 1.0,
    top_p: float = 1.0,
    max_tokens: int = 1024,
    seed: int | None = None,
    data: str | None = None,
    limit: int | None = None,
    sandbox: Any = None,
    system_prompt: str | None = None,
    max_turns: int | None = None,
    tasks_per_batch: int | None = None,
    engine_name: str = "",
    model_name: str = "",
    confidence: float = 0.95,
    ci_method: str = "normal",
    progress: bool = True,
    verbose: bool = True,
    max_chars: int | None = None,
) -> EvalResult:
    """Sample `n` completions per problem with `engine` (rollouts, verdicts from the env) into `out_dir`.

    `tokenizer` is the engine's tokenizer for token-level engines (hf, vllm); None for chat-level
    engines (openai). Problems are run `tasks_per_batch` at a time (default: about 64 samples per
    batch), and each batch is saved before the next starts: when the engine fails (its error is
    raised), the samples of finished batches are kept and the same call resumes after them.
    `max_chars` caps a turn's length (default: no cap).
    """
    from rlvr.trainers.engine import SamplingParams
    from rlvr.trainers.rollout import RolloutCollector

    ks = parse_ks(ks)
    if n < 1:
        raise ValueError(f"--n must be >= 1, got {n}")
    if max(ks) > n:
        raise ValueError(f"--k {max(ks)} is more than --n {n}: pass@k needs at least k samples per problem; raise --n or lower --k")
    start = time.perf_counter()
    check_out_dir(out_dir)
    loaded = load_benchmark(benchmark, data=data, limit=limit, sandbox=sandbox, max_chars=max_chars)
    if system_prompt is not None:
        loaded.env.system_prompt = system_prompt
        loaded.env._fingerprint_cache = None
    sampling = SamplingParams(temperature=temperature, top_p=top_p, max_new_tokens=max_tokens, seed=seed)
    settings = {"mode": "engine", "engine": engine_name or type(engine).__name__, "model": model_name, "n": n, "k": ks,
                "temperature": temperature, "top_p": top_p, "max_tokens": max_tokens, "seed": seed, "limit": limit,
                "data": data, "system_prompt": system_prompt, "max_turns": max_turns, "max_chars": max_chars,
                "ci": {"confidence": confidence, "method": ci_method}}
    identity = {"benchmark": loaded.benchmark.name, "benchmark_version": loaded.benchmark.version, "mode": "engine",
                "engine": settings["engine"], "model": model_name, "temperature": temperature, "top_p": top_p,
                "max_tokens": max_tokens, "seed": seed, "system_prompt": system_prompt,
                "data": loaded.data_fingerprint.get("sha256") or loaded.data_fingerprint.get("source"),
                "max_chars": max_chars}
    _check_run(out_dir, identity)
    store = ResultStore(out_dir)
    base_env = loaded.env
    collector = RolloutCollector(engine, lambda: copy.copy(base_env), tokenizer, max_turns=max_turns)
    missing: dict[int, list[int]] = {}
    for i, task in enumerate(loaded.tasks):
        need = [j for j in range(n) if not store.done((task.id, j))]
        if need:
            missing[i] = need
    # batches of problems that miss the same number of samples (one rollout call each)
    by_count: dict[int, list[int]] = {}
    for i, need in missing.items():
        by_count.setdefault(len(need), []).append(i)
    total = sum(len(v) for v in missing.values())
    bar = _progress(total, f"{loaded.benchmark.name} sampling+scoring", progress)
    try:
        for count, indices in sorted(by_count.items(), reverse=True):
            per_batch = tasks_per_batch or max(1, 64 // count)
            for b in range(0, len(indices), per_batch):
                batch = indices[b:b + per_batch]
                groups = collector.collect([{"index": i} for i in batch], count, sampling)
                rows = []
                for i, group in zip(batch, groups):
                    task = loaded.tasks[i]
                    for j, traj in zip(missing[i], group):
                        rows.append(_trajectory_row(task.id, j, traj))
                store.add(rows)
                bar.update(len(rows))
    finally:
        bar.close()
        store.close()
        collector.close()
    keys = [(t.id, j) for t in loaded.tasks for j in range(n)]
    return _finish(loaded, store, keys, ks, settings, confidence=confidence, ci_method=ci_method, verbose=verbose,
                   elapsed=time.perf_counter() - start, scored_now=total)


def _trajectory_row(task_id: str, index: int, traj: Any) -> dict[str, Any]:
    from rlvr.verifiers.verdict import Verdict

    verdict = traj.verdict
    if verdict is None:
        verdict = Verdict.wrong("no final answer: the episode ran out of turns", details={"kind": "max_turns"})
    if not traj.valid and getattr(verdict, "error", None) is None:
        verdict = Verdict.failed(traj.error or "verification failed")
    extra: dict[str, Any] = {
        "finish_reason": traj.finish_reasons[-1] if traj.finish_reasons else None,
        "truncated": bool(traj.truncated),
        "num_turns": traj.num_turns,
        "response_tokens": traj.response_length,
    }
    if traj.num_turns > 1:
        extra["messages"] = traj.messages
    return _verdict_row(task_id, index, traj.completion, verdict, **extra)


def score_references(benchmark: Any, *, data: str | None = None, broken: Callable[[str], str] | None = None,
                     limit: int | None = None, sandbox: Any = None) -> list[Any]:
    """Verdicts of the benchmark's own reference solutions (or of `broken(reference)`), one per task."""
    loaded = load_benchmark(benchmark, data=data, limit=limit, sandbox=sandbox)
    refs = loaded.references()
    if broken is not None:
        refs = [broken(r) for r in refs]
    return score_completions(loaded.env, loaded.benchmark.kind, loaded.tasks, refs)

