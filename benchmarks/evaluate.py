"""Running an evaluation into an output folder: score, resume, summarise, plot.

Two ways in, one folder layout out:

- `evaluate_completions(...)` scores completions generated elsewhere (a JSONL file);
- `evaluate_engine(...)` samples `n` completions per problem with an engine through
  `rlvr.trainers.rollout` (an evaluation is a rollout without the update; multi-turn and tool
  envs included) and keeps the env's verdicts.

The folder gets `samples.jsonl` (one line per sample: task_id, sample_index, completion, score,
correct, reason, error, ..., and `sandbox`, the sandbox that scored it, where the env runs code),
`summary.json`, `pass_at_k.png` (when some pass@k exists) and `run.json` (what the samples were
produced with, see `rlvr.benchmarks.identity`). The sandbox is not part of that identity (a rerun
after an outage may use another), so the summary counts the samples by the sandbox their rows
record (`judged_by`) rather than naming the latest run's. A run with no sample at all (completions
only for problems beyond `limit`) writes a summary saying so (`complete` false, `error`) and exits
2 (`EvalResult.exit_code`). Samples are
appended as they are scored, and when the run ends samples.jsonl is rewritten to hold one row per
sample of the run, the summary's, rows of other samples moved to samples.other.jsonl (`ResultStore`;
not when it holds just them already, and a disk too full for the rewrite leaves it as appended, or
only the side file not updated, with a warning saying which). summary.json is written before the
plot, and a plot the disk has no room for is a warning. A run with no sample leaves the folder's
samples as they are.
An interrupted run resumes: samples already scored (same task,
same index, same completion; no verification error) are not redone. A run with different
settings, data content or model in the same folder is refused rather than mixed. With an engine,
sample j of problem t always gets the seed `seed + j * N + t` (N problems), so growing `n` draws
new samples, the same ones a single run would have drawn.

With an engine, a problem whose prompt does not fit the model's context (the engine's
`PromptTooLongError`: token-level engines count the prompt's tokens, a server refuses it) is
skipped, not fatal: the call's other samples are kept (a chat-level engine's error carries them) or
drawn again without it, later calls leave it out, the summary lists it under `skipped` with the
reason and says the metrics cover the other problems (samples of it drawn before, when it still
fitted, are left out of them too), and `skipped.json` records it so that a rerun in the folder
skips it again without asking (see `rlvr.benchmarks.identity`).

Completions are scored without a length cap unless `max_chars` (`--max-chars`) sets one: the
envs' training-time cap would score a reasoning model's long answers wrong.

Samples whose verification failed (sandbox outage, verifier crash: `Verdict.error`) are written
with their error, left out of every metric, counted in the summary and announced loudly; the next
run scores their saved completions again (with an engine in a multi-turn env, whose later turns
follow the failed tool result, it draws their episodes again, each with the seed its row records).
Samples whose dataset tests failed on their own (a "setup_error" or "dataset_error": HumanEval+ and
MBPP+ tests import numpy, which the sandbox's Python may lack) are unverified too; the banner then
says so, names the missing module and how to run the tests in a sandbox that has it, rather than
blaming an outage (`_unverified_banner`).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import errno
import json
import os
import re
import secrets
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from rlvr.benchmarks.completions import read_completions
from rlvr.benchmarks.estimators import check_ci, parse_ks
from rlvr.benchmarks.identity import (RUN, SAMPLES, RunMismatchError, atomic_write, check_prompt_layout, check_run,
                                     data_identity, env_identity, model_identity, prompt_layout_identity, read_skipped,
                                     sandbox_label, verifier_identity, write_json, write_skipped)
from rlvr.benchmarks.registry import LoadedBenchmark, load_benchmark
from rlvr.benchmarks.scoring import answers_in_one_turn, score_completions
from rlvr.benchmarks.summary import (compute_metrics, covered_problems, format_table, judged_by, plot_pass_at_k,
                                     with_judging_backend)

SUMMARY = "summary.json"
#: Rows of samples outside the latest run (see `ResultStore`), kept for a later run that includes them.
OTHER = "samples.other.jsonl"
PLOT = "pass_at_k.png"

#: Samples per engine call when not given: at least this many, or n (see `_sampling_calls`).
SAMPLES_PER_CALL = 64

__all__ = ["RunMismatchError", "OutDirError", "EvalResult", "EngineRun", "check_out_dir", "evaluate_completions",
           "evaluate_engine", "prepare_engine_run", "run_engine", "score_references", "SAMPLES", "OTHER", "SUMMARY", "PLOT", "RUN",
           "NO_ROOM", "MAX_SEED", "seed_problem", "greedy_samples_problem"]

#: The errors of a disk (or a file-size limit, a quota) without room for what is written.
NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)

#: The largest sampling seed a run may use: servers (vLLM's `seed` must fit a signed 64-bit int)
#: and torch's generators refuse larger ones, which would fail the run mid-way.
MAX_SEED = 2**63 - 1


class OutDirError(ValueError):
    """The output folder cannot hold a run: it is a file, or cannot be created or written."""


def check_out_dir(out_dir: str) -> None:
    """Make sure `out_dir` can hold the results: a folder files can be written in, or one that can be
    created; an OutDirError saying why not. Checked before any data or model is loaded, so a wrong
    --out costs nothing; a missing folder is created only when the run writes to it, so a run
    refused later (its data, its options) leaves no empty folder behind."""
    if not out_dir:
        raise OutDirError("--out is empty; give a folder path (it is created if missing)")
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise OutDirError(f"--out {out_dir!r} is an existing file, not a folder; give a folder path (it is created if missing)")
    if os.path.lexists(out_dir) and not os.path.exists(out_dir):
        raise OutDirError(f"--out {out_dir!r} is a link to {os.readlink(out_dir)!r}, which does not exist; create that "
                          f"folder or give another path")
    existing = os.path.abspath(out_dir)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    try:
        if not os.path.isdir(existing):
            raise NotADirectoryError(f"{existing} is a file")
        if existing == os.path.abspath(out_dir):
            with tempfile.TemporaryFile(dir=out_dir):
                pass
        elif not os.access(existing, os.W_OK | os.X_OK):
            raise PermissionError(f"no folder can be created in {existing}")
    except OSError as exc:
        raise OutDirError(f"--out {out_dir!r} cannot hold the results ({exc.strerror or exc}); give a folder you can "
                          f"write to") from None


class EvalResult(dict):
    """The summary (a dict, as written to summary.json), plus `exit_code`: `rlvr eval`'s exit
    status, 2 when the run has no sample at all (the completions name none of the problems
    evaluated: bad input, `summary["error"]` says what to fix), 3 when some samples could not be
    verified, else 0."""

    @property
    def exit_code(self) -> int:
        counts = self.get("counts", {})
        if not counts.get("samples"):
            return 2
        return 3 if counts.get("excluded") else 0


# ------------------------------------------------------------------ the results folder


class ResultStore:
    """The samples of `out_dir`: load them, append new results as they come, and at the end of a
    run (`rewrite`) leave samples.jsonl holding exactly one row per sample of the run.

    samples.jsonl is appended to while a run goes (so an interrupted run loses nothing), which
    leaves superseded rows (a sample redone after an outage) and rows of samples outside the run
    (another --limit, --n or completions file) beside the run's own. `rewrite` drops the first and
    moves the second to samples.other.jsonl (`OTHER`), which is read too, so a later run that
    includes them reuses them. A row in samples.jsonl wins over one of the same sample in
    samples.other.jsonl."""

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir
        os.makedirs(out_dir, exist_ok=True)
        self.path = os.path.join(out_dir, SAMPLES)
        self.other_path = os.path.join(out_dir, OTHER)
        self.rows: dict[tuple[str, int], dict[str, Any]] = {}
        # tidying needs the folder's lock: another run holding it may be in the middle of a rewrite,
        # whose temporary file is in use (a store made without it, such as a test's, only reads)
        locked = _holds_lock(out_dir)
        if locked:
            _remove_leftover_temps(out_dir)
        #: the sample of each line of samples.jsonl in file order (None: a line that is no row), so
        #: that `rewrite` sees when the file already holds exactly the run's rows
        self._lines: list[tuple[str, int] | None]
        self._lines, written = _read_rows(self.path, self.rows)
        #: samples whose row was read from samples.other.jsonl
        self.other_keys: set[tuple[str, int]] = set()
        #: whether samples.other.jsonl holds just one row per sample of `other_keys` (a kill during
        #: `rewrite` can leave rows there that samples.jsonl supersedes)
        self._other_exact = True
        #: whether samples.jsonl holds exactly one row per sample of the run `rewrite` was last given
        #: (its side file may still hold superseded rows when that rewrite failed half way)
        self.samples_exact = False
        if os.path.exists(self.other_path):
            if written:  # (samples.jsonl holds a sample, or the start of one: `has_samples`)
                other: dict[tuple[str, int], dict[str, Any]] = {}
                lines = sum(key is not None for key in _read_rows(self.other_path, other)[0])
                self.other_keys = {key for key in other if key not in self.rows}
                self._other_exact = lines == len(self.other_keys)
                # in the side file's order (a set's would vary with the hash seed from run to run)
                self.rows.update((key, row) for key, row in other.items() if key in self.other_keys)
            elif locked or not locked_elsewhere(out_dir):  # samples.jsonl deleted to start afresh: run.json
                _orphan_other(self.other_path)                # no longer vouches for these rows
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
            self._handle.write(_json_line(row))
            key = (str(row["task_id"]), int(row["sample_index"]))
            self.rows[key] = row
            self._lines.append(key)
            if key in self.other_keys:  # redone: the side file's row for it is superseded
                self.other_keys.discard(key)
                self._other_exact = False
        self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def rewrite(self, keys: Sequence[tuple[str, int]]) -> int:
        """Make samples.jsonl hold one row (the latest) per sample of `keys` that has one, in the order
        they were first written, and samples.other.jsonl the latest row of every other sample; return
        how many samples were moved there by this call. Nothing is done for a run with no sample (its
        folder stays as it was: an empty samples.jsonl would disown samples.other.jsonl), and
        samples.jsonl is not written again when it already holds exactly the run's rows, in order
        (a rerun that scored nothing, a first run without redone samples): a rewrite needs room for
        a second copy, which a nearly full disk may not have. An OSError (no space left) is raised,
        every sample's latest row still readable: samples.jsonl as appended, or already rewritten
        (`samples_exact` true) when only the side file's last update failed.

        Each file is replaced whole (`_replace_rows`), in an order where a kill at any point leaves
        every sample's latest row readable: the side file first gains the rows moved aside, then
        samples.jsonl is replaced, then the side file loses the rows that are back in the run."""
        self.close()
        self.samples_exact = False
        wanted = set(keys)
        run = [key for key in self.rows if key in wanted]
        if not run:
            return 0
        aside = [key for key in self.rows if key not in wanted]
        if self._lines == run:  # (then every sample outside the run was read from the side file)
            self.samples_exact = True
            if not self._other_exact:
                self._write_aside(aside)
                self._other_exact = True
            return 0
        moved = sum(key not in self.other_keys for key in aside)
        back = self.other_keys & wanted  # rows read from the side file that are part of this run
        exact = self._other_exact and not back and not moved  # the side file holds `aside`, no more
        if moved:
            _replace_rows(self.other_path, [self.rows[k] for k in self.rows if k not in wanted or k in back], like=self.path)
            exact = not back
        _replace_rows(self.path, [self.rows[key] for key in run])
        self.samples_exact, self._lines = True, list(run)
        if not exact:
            self._write_aside(aside)
        self.other_keys, self._other_exact = set(aside), True
        return moved

    def _write_aside(self, aside: Sequence[tuple[str, int]]) -> None:
        """Make samples.other.jsonl hold the rows of `aside`, or remove it when there is none: an
        empty side file would still be named in the summary's "files" (a run that brought every
        sample set aside back into the run)."""
        if aside:
            _replace_rows(self.other_path, [self.rows[key] for key in aside], like=self.path)
        elif os.path.exists(self.other_path):
            os.remove(self.other_path)


def _read_rows(path: str, rows: dict[tuple[str, int], dict[str, Any]]) -> tuple[list[tuple[str, int] | None], bool]:
    """Add the rows of the JSONL file at `path` (if any) to `rows`, by sample, the last one winning;
    return the sample of each line in file order (None for a line that holds no row), and whether
    the file holds anything but whitespace (as `has_samples` tells for samples.jsonl)."""
    lines: list[tuple[str, int] | None] = []
    written = False
    if not os.path.exists(path):
        return lines, written
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            written = written or bool(line.strip())
            try:
                row = json.loads(line)
                key = (str(row["task_id"]), int(row["sample_index"]))
            except (ValueError, KeyError, TypeError):
                lines.append(None)  # a line cut short by an interrupted run: that sample is redone
                continue
            rows[key] = row
            lines.append(key)
    return lines, written


#: The temporary files `atomic_write` writes for the folder's files (`identity.temp_name`):
#: `samples.jsonl.rlvr-<16 hex digits>.tmp` (the same for samples.other.jsonl, run.json,
#: summary.json and skipped.json), a name no user file is likely to have
#: (`samples.jsonl.20261124.tmp`, a dated backup, is not one).
_TEMP = re.compile(r"^(?:samples(?:\.other)?\.jsonl|run\.json|summary\.json|skipped\.json)\.rlvr-[0-9a-f]{16}\.tmp$")


def _remove_leftover_temps(out_dir: str) -> None:
    """Remove the temporary files of a write killed before its rename (`_TEMP`; a samples file's is as
    large as the file it was to replace; nothing reads them). Only with the folder's lock held
    (`ResultStore`): another run's rewrite in progress would lose its temporary file."""
    for name in os.listdir(out_dir):
        if _TEMP.match(name):
            try:
                os.remove(os.path.join(out_dir, name))
            except FileNotFoundError:
                pass


def _holds_lock(out_dir: str) -> bool:
    """Whether this process holds `out_dir`'s lock (`_lock_out_dir`)."""
    from rlvr.trainers.runs import holds_output_dir

    return holds_output_dir(Path(out_dir))


def locked_elsewhere(out_dir: str) -> bool:
    """Whether another process holds `out_dir`'s lock (a run there is going on): a shared lock of its
    lock file, tried without waiting and let go at once, is refused. Nothing is created."""
    from rlvr.trainers.runs import LOCK_FILE

    if _holds_lock(out_dir):
        return False
    try:
        import fcntl
    except ImportError:  # pragma: no cover - no flock: runs cannot lock their folder either
        return False
    try:
        fd = os.open(os.path.join(out_dir, LOCK_FILE), os.O_RDONLY)
    except OSError:
        return False  # no lock file: no run has ever locked the folder
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        return exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN)
    finally:
        os.close(fd)  # (lets go of the shared lock)
    return False


def saved_samples(out_dir: str) -> int:
    """How many samples `out_dir` holds a row of (samples.jsonl, and samples.other.jsonl beside it),
    read only: unlike `ResultStore`, nothing is created, removed or renamed, so it can be asked
    without the folder's lock (after a Ctrl-C, while another run may be writing there)."""
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    try:
        _read_rows(os.path.join(out_dir, SAMPLES), rows)
        if rows:
            _read_rows(os.path.join(out_dir, OTHER), rows)
    except OSError:
        pass  # (replaced meanwhile, unreadable: what was read is the count)
    return len(rows)


def _json_line(row: dict[str, Any]) -> str:
    line = json.dumps(row, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in a completion: UTF-8 cannot hold it, JSON's \\u escape can
        line = json.dumps(row)
    return line + "\n"


def _replace_rows(path: str, rows: Sequence[dict[str, Any]], like: str | None = None) -> None:
    """Replace the JSONL file at `path` with `rows`, atomically (`atomic_write`: a kill leaves either
    the old file or the new one whole); a new file gets the permissions of `like` (samples.jsonl for
    its side file), an existing one keeps its own."""
    def write(handle: Any) -> None:
        for row in rows:
            handle.write(_json_line(row))

    atomic_write(path, write, like=like)


def _orphan_other(path: str) -> None:
    """Set aside a samples.other.jsonl found without samples.jsonl (deleted to start afresh): run.json
    may no longer describe how its rows were made, so they are not read; renamed, not deleted, to a
    name no file has (samples.other.orphaned.jsonl, then .1, .2 ...): starting afresh again must not
    overwrite the rows set aside the first time."""
    stem = path[: -len(".jsonl")] + ".orphaned"
    target, number = stem + ".jsonl", 0
    while os.path.lexists(target):
        number += 1
        target = f"{stem}.{number}.jsonl"
    os.replace(path, target)
    print(f"rlvr eval: note: {path} was found without {SAMPLES}, so the settings its rows were made with are "
          f"unknown; moved to {target} and not used", file=sys.stderr)


def _ends_with_newline(path: str) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def _identity(loaded: LoadedBenchmark, mode: str, **settings: Any) -> dict[str, Any]:
    """What the samples of a run depend on (see `rlvr.benchmarks.identity`): the benchmark, the
    data's content, the env and its verifier, plus the mode's own `settings`."""
    env_fp = loaded.env.fingerprint().to_dict()
    return {"benchmark": loaded.benchmark.name, "benchmark_version": loaded.benchmark.version, "mode": mode,
            "data": data_identity(loaded.data_fingerprint), "env": env_identity(env_fp),
            "verifier": verifier_identity(env_fp), **settings}


def _legacy_data(loaded: LoadedBenchmark) -> Any:
    """The data as run.json recorded it before the identity held the content: a file's SHA-256, else
    the path or hub id (a save_to_disk folder had no SHA-256 then)."""
    fp = loaded.data_fingerprint
    if fp.get("format") == "save_to_disk":
        return fp.get("source")
    return fp.get("sha256") or fp.get("source")


def _verdict_row(task_id: str, index: int, completion: str, verdict: Any, *, sandbox: str | None = None,
                 **extra: Any) -> dict[str, Any]:
    """A sample's row: its verdict, `extra` fields, and `sandbox`, the label of the sandbox that
    scored it (`sandbox_label`; left out for an env that runs no code), so the summary can say what
    judged the samples of a folder that several runs wrote (`judged_by`)."""
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
    if sandbox is not None:
        row["sandbox"] = sandbox
    row.update(extra)
    return row


def progress_bar(total: int, desc: str, enabled: bool) -> Any:
    """The progress bar of a long-running scoring or sampling (tqdm on stderr, counting samples);
    a silent one when not ``enabled`` (``--no-progress``) or when there is nothing to do."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="sample", disable=not enabled or total == 0, file=sys.stderr,
                dynamic_ncols=True, smoothing=0.1)


def scored_chunks(loaded: LoadedBenchmark, tasks: Sequence[Any], completions: Sequence[str], desc: str, *,
                  progress: bool = True, chunk_size: int = 64, batched: bool = True) -> Iterator[tuple[int, list[Any]]]:
    """Score `completions` (one per task of `tasks`) `chunk_size` at a time under a progress bar:
    yields (start, verdicts) for each chunk, so a caller can store them before the next is scored.
    The verdicts are those of one `score_completions` call, since each is its own task's."""
    bar = progress_bar(len(tasks), desc, progress)
    try:
        for start in range(0, len(tasks), chunk_size):
            end = start + chunk_size
            yield start, score_completions(loaded.env, loaded.benchmark.kind, tasks[start:end], completions[start:end],
                                           batched=batched)
            bar.update(len(tasks[start:end]))
    finally:
        bar.close()


# ------------------------------------------------------------------ finishing a run


def _offers_tools(env: Any) -> bool:
    """Whether the env gives the model tools to call (a tool env's `tools`)."""
    return bool(getattr(env, "tools", None))


def _tool_call_warnings(loaded: LoadedBenchmark, rows: Sequence[dict[str, Any]], counts: dict[str, Any]) -> list[str]:
    """Count, in `counts["unoffered_tool_calls"]`, the samples that answered with a tool call in an
    env that offers no tool (a server's model calling tools of its own accord: the env saw only the
    text beside the call, most likely no answer), and warn of them; 0 in a tool env."""
    calls = 0 if _offers_tools(loaded.env) else sum(1 for row in rows if row.get("tool_calls"))
    counts["unoffered_tool_calls"] = calls
    if not calls:
        return []
    return [f"{calls} of {counts['judged']} samples answered with a tool call the env does not offer (scored on the text "
            f"beside it, most likely as no answer; the calls are in the rows' \"tool_calls\" in {SAMPLES}): the model "
            f"or its server adds tools of its own; turn them off on the server, or evaluate with a tool env"]


def _length_warnings(loaded: LoadedBenchmark, counts: dict[str, Any]) -> list[str]:
    """Warnings for samples a length limit decided: over the cap (`--max-chars`: scored wrong
    unread), or cut off by the generation limit (`--max-tokens`: scored on an unfinished answer)."""
    warnings = []
    if counts.get("overlong"):
        cap = getattr(loaded.env, "max_action_chars", None)
        warnings.append(f"{counts['overlong']} of {counts['judged']} samples are longer than the cap of {cap} characters "
                        f"(--max-chars) and were scored wrong as over-long without being checked; drop --max-chars (and "
                        f"use another --out) to score them")
    if counts.get("truncated"):
        warnings.append(f"{counts['truncated']} of {counts['judged']} samples hit --max-tokens (or the model's context) "
                        f"and were scored as cut off, most likely wrong; raise --max-tokens (in a new --out: the folder's "
                        f"samples were drawn with this limit) to let them finish")
    return warnings


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
    progress: bool = False,
    empty: str = "",
    skipped: dict[str, str] | None = None,
) -> EvalResult:
    """Summarise the run's samples (`keys`) into summary.json (and the plot), print the table, and
    return the summary. `empty` says why a run without any sample has none (the completions match
    no problem evaluated): its summary says so (`error`, `complete` false) and its exit status is 2.
    `skipped` (task id -> reason): problems not sampled, their prompt not fitting the model's
    context; listed in the summary and counted at the end of the report. Samples of theirs drawn
    before (a server whose context shrank since) stay in samples.jsonl but out of every metric,
    count and line of the report (`compute_metrics`), the summary giving their number."""
    bench = loaded.benchmark
    warnings = list(warnings)
    try:  # samples.jsonl: the rows this summary is computed from, one per sample
        moved = store.rewrite(keys)
    except OSError as exc:  # a full disk, a quota: the rows appended are all there, so the run still ends
        moved = 0           # with its summary (computed from the rows in memory) rather than a traceback
        warnings.append(_rewrite_warning(store, exc))  # (printed with the others)
    skipped = {t.id: skipped[t.id] for t in loaded.tasks if t.id in (skipped or {})}
    all_rows = [store.rows[k] for k in keys if k in store.rows]
    rows = [row for row in all_rows if str(row["task_id"]) not in skipped]
    held = Counter(str(row["task_id"]) for row in all_rows if str(row["task_id"]) in skipped)
    result = compute_metrics(all_rows, ks, majority=bench.kind == "math", task_order=[t.id for t in loaded.tasks],
                             confidence=confidence, ci_method=ci_method, progress=progress, skipped=skipped)
    metrics = result["metrics"]
    counts = result["counts"]
    result["warnings"] = [*loaded.warnings, *warnings, *result["warnings"], *_length_warnings(loaded, counts),
                          *_tool_call_warnings(loaded, rows, counts)]
    summary: dict[str, Any] = {"benchmark": bench.name}
    for name, m in metrics.items():
        summary[name] = m["mean"]
    summary["ci"] = {name: [m["ci_low"], m["ci_high"]] for name, m in metrics.items()}
    summary["ci_method"] = (
        f"{int(confidence * 100)}% interval over problems: "
        + ("normal approximation, mean ± z·s/√P (s = sample std over problems), clipped to [0, 1]" if ci_method == "normal"
           else "bootstrap over problems (2000 resamples, seed 0), percentile interval")
    )
    error = None if rows else (empty or f"no sample to summarise for the {counts['problems_total']} problems evaluated"
                               + (f" ({len(skipped)} skipped: prompt longer than the model's context)" if skipped else ""))
    fingerprint = loaded.fingerprint()
    judges = None
    if settings.get("sandbox") is not None or any("sandbox" in row for row in rows):  # an env running code
        judges = judged_by(rows)
        fingerprint = with_judging_backend(fingerprint, judges)
    # a run with no sample names no samples file: one in the folder is an earlier run's, left as it was
    wrote_samples = bool(all_rows) and os.path.isfile(store.path)
    summary.update({
        "metrics": metrics,
        "counts": counts,
        "excluded": counts["excluded"],
        "complete": counts["excluded"] == 0 and not error,
        **({"error": error} if error else {}),
        "warnings": result["warnings"],
        **({"judged_by": judges} if judges is not None else {}),
        **({"skipped": [{"task_id": t, "reason": r, **({"samples_left_out": held[t]} if held[t] else {})}
                        for t, r in skipped.items()]} if skipped else {}),
        "fingerprint": fingerprint,
        "settings": settings,
        "timing": {"seconds": round(elapsed, 3), "scored_now": scored_now,
                   "reused": max(0, len(rows) - scored_now)},
        "files": {"samples": SAMPLES if wrote_samples else None, "plot": PLOT if _has_plot(metrics) else None,
                  **({"other_samples": OTHER} if wrote_samples and os.path.isfile(store.other_path) else {})},
    })
    # the summary first: a disk too full for the plot must not leave an earlier run's summary.json
    _write_summary(store.out_dir, summary)
    try:
        _write_plot(store.out_dir, metrics, f"{bench.name} ({settings.get('model') or settings.get('mode')})"
                    + (f"\n{counts['problems']} of {counts['problems_total']} problems (see the warnings in {SUMMARY})"
                       if counts["problems"] < counts["problems_total"] else ""))
    except OSError as exc:
        _no_plot(store.out_dir, summary, exc)
    if verbose:
        problems = (f"{counts['problems']} of {counts['problems_total']}"  # a subset: the warnings say why
                    if counts["problems"] < counts["problems_total"] else str(counts["problems"]))
        title = (f"{bench.name}: {problems} problems, {counts['judged']} judged samples "
                 f"({scored_now} new, {summary['timing']['reused']} reused"
                 + (f", {counts['truncated']} cut off by --max-tokens" if counts["truncated"] else "")
                 + (f", {counts['excluded']} UNVERIFIED" if counts["excluded"] else "") + ")"
                 + (f", model {settings['model']!r}" if settings.get("mode") == "engine" and settings.get("model") else ""))
        print(format_table(metrics, title) if metrics else f"{title}\nno metric could be computed")
        for warning in result["warnings"]:
            print(f"warning: {warning}", file=sys.stderr)
        if error:
            print(f"error: {error}", file=sys.stderr)
        files = summary["files"]
        written = [name for name in (files["samples"], SUMMARY, files["plot"]) if name]  # never one not written
        print(f"results in {store.out_dir}/ ({', '.join(written)})")
        if moved:
            print(f"note: {moved} sample row(s) of {SAMPLES} are not part of this run (other problems or sample "
                  f"indices: another --limit, --n or completions file) and were moved to {OTHER}, so that {SAMPLES} "
                  f"holds exactly the samples of this summary; a later run in this folder that includes them reuses "
                  f"them", file=sys.stderr)
    if counts["excluded"]:
        bar = "!" * 78
        print(f"\n{bar}\n{_unverified_banner(rows, counts)}\n{bar}", file=sys.stderr)
    if verbose and skipped:  # last, after the unverified banner too, so that it is never missed
        earlier = (f" ({counts['skipped_samples']} sample{'s' if counts['skipped_samples'] != 1 else ''} drawn for "
                   "them before left out too)"
                   if counts["skipped_samples"] else "")
        print(f"{len(skipped)} of {counts['problems_total']} problems SKIPPED (prompt longer than the model's "
              f"context): {', '.join(list(skipped)[:10])}{', ...' if len(skipped) > 10 else ''}{earlier}; the metrics "
              f"cover {covered_problems(counts['problems'], counts['problems_total'], len(skipped))} (see \"skipped\" in "
              f"{SUMMARY})",
              file=sys.stderr)
    return EvalResult(summary)


def _why(exc: OSError) -> str:
    """What an OSError of a write says, for a message: "no room left on the disk: ..." for a disk
    (a quota, a file-size limit) without room, else the error's type and text."""
    if exc.errno in NO_ROOM:
        return f"no room left on the disk: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"


def _rewrite_warning(store: ResultStore, exc: OSError) -> str:
    """The warning of an end-of-run rewrite (`ResultStore.rewrite`) that failed with `exc`, saying
    what it left: samples.jsonl as appended, or rewritten and only the side file not updated."""
    later = ("once the disk has room" if exc.errno in NO_ROOM else "once that is fixed")
    if store.samples_exact:
        return (f"{SAMPLES} holds exactly this run's samples, but {OTHER} could not be updated ({_why(exc)}): it may "
                f"still hold rows of samples that are now in {SAMPLES} (not read: those of {SAMPLES} win); a later "
                f"run in this folder tidies it {later}")
    return (f"{SAMPLES} could not be rewritten to hold only this run's samples ({_why(exc)}) and was left as "
            f"appended: it may also hold superseded rows and rows of samples outside this run; this summary counts "
            f"this run's samples only, and a later run in this folder tidies the file {later}")


def _write_error(exc: OSError, message: Callable[[str, str], str]) -> OutDirError:
    """The OutDirError (`rlvr eval` exits 2 with it) for a results file that could not be written
    (`exc`, a full disk), rather than a bare OSError: `message(why, fix)`, given what went wrong
    (`_why`) and what to do about it."""
    return OutDirError(message(_why(exc), "make room on it" if exc.errno in NO_ROOM else "fix that"))


def _check_run(out_dir: str, *args: Any, **kwargs: Any) -> None:
    """`check_run`, whose writing run.json on a full disk is an OutDirError saying so (`_write_error`)."""
    try:
        check_run(out_dir, *args, **kwargs)
    except OSError as exc:
        raise _write_error(exc, lambda why, fix: f"--out {out_dir!r} cannot hold the results ({RUN}: {why}); {fix}, "
                                                 f"or give another --out") from exc


def _write_summary(out_dir: str, summary: dict[str, Any]) -> None:
    """Write summary.json; a failure (a full disk) is an OutDirError saying so (`_write_error`)."""
    path = os.path.join(out_dir, SUMMARY)
    try:
        write_json(path, summary)
    except OSError as exc:
        raise _write_error(exc, lambda why, fix: f"cannot write {path} ({why}); the samples scored are kept in "
                                                 f"{SAMPLES}: {fix} and rerun the same command to summarise them (they "
                                                 f"are not scored again)") from exc


def _no_plot(out_dir: str, summary: dict[str, Any], exc: OSError) -> None:
    """The plot could not be written (`exc`, a full disk): remove what is left of it (a partial file,
    or an earlier run's plot, which would pass for this run's), and say so among the summary's
    warnings (printed at the end of the run) and in summary.json, written again without the plot."""
    with contextlib.suppress(OSError):
        os.remove(os.path.join(out_dir, PLOT))
    summary["warnings"].append(f"the plot {PLOT} could not be written ({_why(exc)}); the metrics are in {SUMMARY}")
    summary["files"] = {**summary["files"], "plot": None}
    with contextlib.suppress(OSError):  # (then summary.json names a plot that is missing: the least harm left)
        write_json(os.path.join(out_dir, SUMMARY), summary)


#: Verdict kinds of a sample whose verification failed because of the dataset's tests themselves
#: (their imports or setup raised, or they cannot check any answer), not an outage: a rerun in the
#: same sandbox fails again.
TESTS_FAILED = ("setup_error", "dataset_error")

_MISSING_MODULE = re.compile(r"No module named '([\w.]+)'")


def _tests_failed(row: dict[str, Any]) -> bool:
    """Whether an unverified sample's row says the dataset's tests failed (`TESTS_FAILED`); rows
    written before they held a kind are read by their error text."""
    return row.get("kind") in TESTS_FAILED or str(row.get("error") or "").startswith("setup error:")


def _unverified_banner(rows: Sequence[dict[str, Any]], counts: dict[str, Any]) -> str:
    """What the INCOMPLETE banner says about the samples that could not be verified, by cause: an
    outage (the sandbox is down: fix it and rerun) or the dataset's tests failing on their own (a
    module the sandbox's Python lacks, such as numpy for HumanEval+ and MBPP+; a rerun as it stands
    fails the same way, so it says which module and how to run the tests where it exists)."""
    reasons = "; ".join(f"{n}x {r}" for r, n in counts["excluded_reasons"].items())
    head = f"INCOMPLETE: {counts['excluded']} of {counts['samples']} samples could NOT be verified"
    failed = [r for r in rows if r.get("error")]
    by_tests = [r for r in failed if _tests_failed(r)]
    if not by_tests:
        return (f"{head} (infrastructure failure, e.g. the sandbox is down: {reasons}).\nThey are EXCLUDED from every "
                f"metric above, not counted as wrong. Fix it (`rlvr sandbox check`) and rerun the same command: only "
                f"these samples will be redone.")
    lines = [f"{head} ({reasons}).", "They are EXCLUDED from every metric above, not counted as wrong."]
    outage = len(failed) - len(by_tests)
    if outage:
        lines.append(f"{outage} of them: infrastructure failure (e.g. the sandbox is down). Fix it (`rlvr sandbox "
                     f"check`) and rerun the same command: only the unverified samples will be redone.")
    modules = sorted({m.group(1).split(".")[0] for r in by_tests for m in [_MISSING_MODULE.search(str(r["error"]))] if m})
    which = f"For {len(by_tests)} of them, the" if outage else "For all of them, the"
    lines.append(f"{which} dataset's own tests failed before any answer was checked (a setup or dataset error, not "
                 f"the sandbox being down): rerunning as it stands fails the same way.")
    if modules:
        names = ", ".join(modules)
        lines.append(
            f"The tests import {names}, which the sandbox's Python does not have. Run them in a sandbox whose "
            f"Python has {names}, with the same out folder: `rlvr eval ... --sandbox bwrap --sandbox-python "
            f"/opt/venv/bin/python` (a venv or Python installation with {names}, readable by every user, outside "
            f"/tmp and /work) or `--sandbox docker --sandbox-image IMAGE` "
            f"(an image whose python3 has {names}, e.g. built FROM rlvr-sandbox:latest); from Python, pass "
            f"sandbox=rlvr.sandbox.make_sandbox(\"bwrap\", python=...) or make_sandbox(\"docker\", image=...) to "
            f"evaluate_completions. Only these samples will be redone. Or drop the rows whose tests need it.")
    else:
        lines.append("Fix or drop those rows in the dataset (their tests' imports or setup raised, or their tests "
                     "cannot check any answer), or run them in a sandbox whose Python can run their setup "
                     "(`rlvr eval --sandbox-python` or `--sandbox-image`; from Python, make_sandbox(..., python=...) "
                     "or image=..., given to rlvr.benchmarks.evaluate_completions).")
    return "\n".join(lines)


def _has_plot(metrics: dict[str, Any]) -> bool:
    """Whether a run gets a pass@k plot: when some pass@k could be computed. The one predicate for
    writing the plot, naming it in the summary and printing it."""
    return any(name.startswith("pass@") for name in metrics)


def _write_plot(out_dir: str, metrics: dict[str, Any], title: str) -> None:
    """Write the pass@k plot, or delete a plot left by an earlier run when there is none now (so
    the folder never shows a plot the summary does not name)."""
    path = os.path.join(out_dir, PLOT)
    if _has_plot(metrics):
        plot_pass_at_k(metrics, path, title=title)
    elif os.path.exists(path):
        os.remove(path)


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
    rows the benchmark skips on purpose (APPS problems without tests) are ignored with a warning.
    `max_chars` caps a completion's length (default: no cap). `sandbox` (None: the shared one) runs
    the code of every env that runs some (`load_benchmark`); one the benchmark's env cannot take is a
    ValueError, as `rlvr eval --sandbox` must never be ignored.
    """
    ks = parse_ks(ks)
    check_ci(confidence, ci_method)  # before anything is scored or written, not when the summary is computed
    start = time.perf_counter()
    check_out_dir(out_dir)
    loaded = load_benchmark(benchmark, data=data, limit=limit, sandbox=sandbox, max_chars=max_chars,
                            sandbox_required=True)
    read = read_completions(completions, [*loaded.known_ids, *loaded.skipped], benchmark=loaded.benchmark.name)
    items, warnings = _drop_skipped(loaded, read)
    if limit:  # completions for problems beyond the first N are fine, and not scored
        keep = {t.id for t in loaded.tasks}
        items = [c for c in items if c.task_id in keep]
    _check_ks_against_completions(ks, items, completions)
    label = sandbox_label(loaded.env)
    settings = {"mode": "completions", "completions": os.path.abspath(os.path.expanduser(completions)), "k": ks,
                "limit": limit, "data": data, "max_chars": max_chars, "sandbox": label,
                "ci": {"confidence": confidence, "method": ci_method}}
    # the folder's lock, as a sampling run takes it: another run there meanwhile would mix its samples
    # with these (taken once the data and completions are read, so a run refused for them creates no folder)
    owns_lock = _lock_out_dir(out_dir)
    try:
        _check_run(out_dir, _identity(loaded, "completions", max_chars=max_chars),
                  {"benchmark": loaded.benchmark.name, "benchmark_version": loaded.benchmark.version, "mode": "completions",
                   "data": _legacy_data(loaded), "max_chars": max_chars})
        return _score_into(loaded, out_dir, items, read, completions, ks, settings, start, limit=limit,
                           chunk_size=chunk_size, batched=batched, confidence=confidence, ci_method=ci_method,
                           progress=progress, verbose=verbose, warnings=warnings)
    finally:
        _unlock_out_dir(out_dir, owns_lock)


def _score_into(loaded: LoadedBenchmark, out_dir: str, items: list[Any], read: list[Any], completions: str,
                ks: list[int], settings: dict[str, Any], start: float, *, limit: int | None, chunk_size: int,
                batched: bool, confidence: float, ci_method: str, progress: bool, verbose: bool,
                warnings: list[str]) -> EvalResult:
    """`evaluate_completions`'s scoring and summary, once it holds the folder's lock."""
    by_id = {t.id: t for t in loaded.tasks}
    label = settings["sandbox"]
    store = ResultStore(out_dir)
    todo = [c for c in items if not store.done((c.task_id, c.sample_index), c.completion)]
    chunks = scored_chunks(loaded, [by_id[c.task_id] for c in todo], [c.completion for c in todo],
                           f"{loaded.benchmark.name} scoring", progress=progress, chunk_size=chunk_size, batched=batched)
    try:
        for first, verdicts in chunks:
            store.add([_verdict_row(c.task_id, c.sample_index, c.completion, v, sandbox=label)
                       for c, v in zip(todo[first:], verdicts)])
    finally:
        chunks.close()
        store.close()
    keys = [(c.task_id, c.sample_index) for c in items]
    return _finish(loaded, store, keys, ks, settings, confidence=confidence, ci_method=ci_method, verbose=verbose,
                   elapsed=time.perf_counter() - start, scored_now=len(todo), warnings=warnings, progress=progress,
                   empty="" if items else _none_evaluated(loaded, completions, read, limit))


def _none_evaluated(loaded: LoadedBenchmark, path: str, read: Sequence[Any], limit: int | None) -> str:
    """Why none of the completions `read` from `path` is scored (each names a known task): they are
    for problems beyond --limit, or that the benchmark skips."""
    skipped = sum(c.task_id in loaded.skipped for c in read)
    beyond = len(read) - skipped
    why = []
    def are(count: int) -> str:
        return f"{count} {'is' if count == 1 else 'are'}"

    if beyond:
        why.append(f"{are(beyond)} for problems beyond the first {limit} (--limit {limit}): raise --limit or leave it out")
    if skipped:
        why.append(f"{are(skipped)} for problems {loaded.benchmark.name} skips (see the warning)")
    return (f"none of the {len(read)} completions in {path} is for the {len(loaded.tasks)} problems evaluated, so "
            f"nothing was scored: {'; '.join(why)}")


def _check_ks_against_completions(ks: list[int], items: list[Any], completions: str) -> None:
    """Refuse a k that no problem of the file has k completions for, before anything is scored or
    written, as `--k` more than `--n` is refused when sampling: its pass@k would be missing from a
    summary that says the run is complete. (A problem with fewer completions than some k is left
    out of that pass@k with a warning, as ever.)"""
    per_problem: dict[Any, int] = {}
    for c in items:
        per_problem[c.task_id] = per_problem.get(c.task_id, 0) + 1
    most = max(per_problem.values(), default=0)
    beyond = [k for k in ks if k > most]
    if per_problem and beyond:
        raise ValueError(f"--k {beyond[0]} is more than the {most} completion(s) any problem has in {completions}: "
                         f"pass@k needs at least k samples per problem; lower --k to {most} or less, or add completions")


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


@dataclasses.dataclass
class EngineRun:
    """A sampling run checked before any engine exists (`prepare_engine_run`): its benchmark, loaded;
    its sampling parameters, valid, with the run's base seed; the settings the summary records; and
    `out_dir`, whose run.json now names this run. `run_engine` draws and scores its samples."""

    loaded: LoadedBenchmark
    out_dir: str
    n: int
    ks: list[int]
    sampling: Any
    settings: dict[str, Any]
    max_turns: int | None
    samples_per_call: int
    confidence: float
    ci_method: str
    progress: bool
    verbose: bool
    prepare_seconds: float
    owns_lock: bool = False


def prepare_engine_run(
    benchmark: Any,
    out_dir: str,
    *,
    engine_name: str,
    model_name: str,
    base_url: str | None = None,
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
    samples_per_call: int | None = None,
    dtype: str | None = None,
    confidence: float = 0.95,
    ci_method: str = "normal",
    progress: bool = True,
    verbose: bool = True,
    max_chars: int | None = None,
) -> EngineRun:
    """Everything of a sampling run that needs no engine, in the order that costs least: the
    options (n, k, the sampling parameters), `out_dir`, the benchmark and its data, then the
    folder's run (`check_run`). So a typo is reported before a model is loaded, and a bad option
    before anything is written. `base_url` is a served model's server (its model is then known by
    name only). See `evaluate_engine` for the arguments."""
    from rlvr.trainers.engine import SamplingParams
    from rlvr.trainers.turn_limits import check_max_turns

    start = time.perf_counter()
    ks = parse_ks(ks)
    check_ci(confidence, ci_method)  # before anything is sampled or written, not when the summary is computed
    if n < 1:
        raise ValueError(f"--n must be >= 1, got {n}")
    if max(ks) > n:
        raise ValueError(f"--k {max(ks)} is more than --n {n}: pass@k needs at least k samples per problem; raise --n or lower --k")
    problem = greedy_samples_problem(n, temperature)
    if problem:
        raise ValueError(problem)
    if max_turns is not None and max_turns < 1:
        raise ValueError(f"--max-turns must be >= 1, got {max_turns}; leave it out for the env's own limit")
    problem = seed_problem(seed)
    if problem:
        raise ValueError(problem)
    base_seed = seed if seed is not None else secrets.randbelow(1 << 30)
    sampling = SamplingParams(temperature=temperature, top_p=top_p, max_new_tokens=max_tokens, seed=base_seed)
    check_out_dir(out_dir)
    owns_lock = _lock_out_dir(out_dir)
    try:
        loaded = load_benchmark(benchmark, data=data, limit=limit, sandbox=sandbox, max_chars=max_chars,
                                sandbox_required=True)
        problem = _largest_seed_problem(seed, base_seed, n, loaded)
        if problem:  # before run.json binds the folder to this seed (a folder lock's alone is removed)
            raise ValueError(problem)
        if system_prompt is not None:
            loaded.env.system_prompt = system_prompt  # (the env's fingerprint then names it)
        try:  # a --max-turns the env would not honour: refused now, before a model is loaded or run.json written
            check_max_turns(loaded.env, max_turns)
        except ValueError as exc:
            raise ValueError(f"--max-turns: {exc}") from None
        settings = {"mode": "engine", "engine": engine_name, "model": model_name, "dtype": dtype, "base_url": base_url,
                    "n": n, "k": ks, "temperature": temperature, "top_p": top_p, "max_tokens": max_tokens, "seed": seed,
                    "seed_base": base_seed, "limit": limit, "data": data, "system_prompt": system_prompt,
                    "max_turns": max_turns, "max_chars": max_chars, "sandbox": sandbox_label(loaded.env),
                    "ci": {"confidence": confidence, "method": ci_method}}
        _check_engine_run(out_dir, loaded, settings)
    except BaseException:
        _unlock_out_dir(out_dir, owns_lock)
        raise
    return EngineRun(loaded, out_dir, n, ks, sampling, settings, max_turns, samples_per_call or max(SAMPLES_PER_CALL, n),
                     confidence, ci_method, progress, verbose, time.perf_counter() - start, owns_lock)


def seed_problem(seed: int | None) -> str | None:
    """What is wrong with a --seed itself (outside 0..`MAX_SEED`), or None. `_largest_seed_problem`
    checks the seeds a run derives from it, once the benchmark's size is known."""
    if seed is not None and not 0 <= seed <= MAX_SEED:
        return f"--seed must be between 0 and {MAX_SEED} (2**63 - 1), got {seed}"
    return None


def greedy_samples_problem(n: int, temperature: float) -> str | None:
    """Why `n` samples per problem at `temperature` measure nothing one sample does not, or None:
    temperature 0 is greedy decoding for every engine (`SamplingParams`), so all `n` samples of a
    problem are the same answer (seeds change nothing), while pass@k's unbiased estimator assumes
    independent samples: pass@k, maj@k and pass^k for k > 1 would be pass@1 under other names, at
    `n` times the compute. (`trainers/config.py` warns about eval.samples > 1 at eval.temperature 0
    for the same reason.)"""
    if n > 1 and temperature == 0:
        return (f"--temperature 0 (greedy decoding) gives every one of the --n {n} samples of a problem the same "
                f"answer, so pass@k, maj@k and pass^k for k > 1 would be pass@1 under other names, at {n} times the "
                f"compute: use --n 1, or sample with --temperature > 0 (e.g. 0.6)")
    return None


def _largest_seed_problem(seed: int | None, base: int, n: int, loaded: LoadedBenchmark) -> str | None:
    """Why the seeds of this run would not all fit in 0..`MAX_SEED`, or None. Sample j of problem t
    (t < the problems evaluated, N the benchmark's size) is drawn with `base + j * N + t` (`_sample`:
    a call is seeded with its first sample's, the engines add each prompt's position), so the
    largest is `base + (n - 1) * N + (problems evaluated - 1)`; an engine refuses a larger seed only
    once it is reached, after samples were saved and the folder bound to --seed."""
    size, evaluated = len(loaded.known_ids), len(loaded.tasks)
    span = (n - 1) * size + evaluated - 1
    if base + span <= MAX_SEED:
        return None
    how = (f"sample j of problem t gets the seed --seed + j*N + t (N = {size}, the problems of "
           f"{loaded.benchmark.name}), so --n {n} over {evaluated} problem(s) draws seeds up to --seed + {span}")
    if seed is None or span > MAX_SEED:
        return f"--n {n} is too large: {how}, more than {MAX_SEED} (2**63 - 1), the largest seed engines take"
    return (f"--seed {seed} is too large for this run: {how} = {seed + span}, more than {MAX_SEED} (2**63 - 1), the "
            f"largest seed engines take; --seed must be between 0 and {MAX_SEED - span}")


def _lock_out_dir(out_dir: str) -> bool:
    """Hold `out_dir`'s lock (`rlvr.trainers.runs.lock_output_dir`) for a run, which may take hours:
    a second run there meanwhile (sampling or scoring completions), above all before the first
    sample binds the folder to its settings, would add samples made with other settings. True when
    this call took it."""
    from rlvr.trainers.runs import ResumeError, holds_output_dir, lock_output_dir

    if holds_output_dir(Path(out_dir)):
        return False
    try:
        lock_output_dir(Path(out_dir), harm="mix samples drawn with different settings", option="--out")
    except ResumeError as exc:
        raise OutDirError(str(exc)) from None
    return True


def _unlock_out_dir(out_dir: str, owns_lock: bool) -> None:
    if owns_lock:
        from rlvr.trainers.runs import release_output_dir

        release_output_dir(Path(out_dir))


def run_engine(run: EngineRun, engine: Any, tokenizer: Any = None) -> EvalResult:
    """Draw the samples `run` lacks with `engine` (rollouts, verdicts from the env), then summarise.
    `tokenizer` is the engine's for token-level engines (hf, vllm); None for the openai engine.

    Samples whose verification failed in an earlier run (an outage: their row holds an error) are
    not drawn anew where the env is single-turn: their saved completion is scored again
    (`_rescore_failed`). In a multi-turn env they are drawn again with their own seed (`_to_draw`)."""
    from rlvr.trainers.rollout import RolloutCollector

    try:
        start = time.perf_counter()
        loaded = run.loaded
        base_env = loaded.env
        collector = RolloutCollector(engine, lambda: copy.copy(base_env), tokenizer, max_turns=run.max_turns)
        try:  # a folder of an older rlvr eval, whose raw-text prompts left out the system message: none of the new ones
            check_prompt_layout(run.out_dir, base_env, collector.token_level and not collector.uses_chat_template(base_env))
        except BaseException:
            collector.close()
            raise
        store = ResultStore(run.out_dir)
        skipped = read_skipped(run.out_dir)  # (found by an earlier run of this folder: not asked again)
        try:
            label = run.settings.get("sandbox")
            rescored = _rescore_failed(loaded, store, run.n, run.progress, label) if answers_in_one_turn(base_env) else set()
            not_asked = rescored | {(t.id, j) for t in loaded.tasks if t.id in skipped for j in range(run.n)}
            draws = {base: _sampling_calls(missing, len(loaded.known_ids), run.samples_per_call)
                     for base, missing in _to_draw(loaded, store, run.n, run.sampling.seed, not_asked).items()}
            total = sum(len(call) for calls in draws.values() for call in calls)
            bar = progress_bar(total, f"{loaded.benchmark.name} sampling+scoring", run.progress)
            drawn = 0
            try:
                for base, calls in draws.items():
                    drawn += _sample(collector, store, loaded, calls, dataclasses.replace(run.sampling, seed=base), bar, label,
                            skipped)
            finally:
                bar.close()
        finally:
            store.close()
            collector.close()
            write_skipped(run.out_dir, skipped)
        keys = [(t.id, j) for t in loaded.tasks for j in range(run.n)]
        return _finish(loaded, store, keys, run.ks, run.settings, confidence=run.confidence, ci_method=run.ci_method,
                       verbose=run.verbose, elapsed=run.prepare_seconds + time.perf_counter() - start,
                       scored_now=len(rescored) + drawn, progress=run.progress, skipped=skipped)
    finally:
        _unlock_out_dir(run.out_dir, run.owns_lock)


def _rescore_failed(loaded: LoadedBenchmark, store: ResultStore, n: int, progress: bool,
                    sandbox: str | None = None) -> set[tuple[str, int]]:
    """Score again the saved completion of each sample (of the first `n` per task) whose
    verification failed (its row holds an error: a sandbox outage, a verifier crash), and return
    their keys. Only for a single-turn env, where the completion is the whole episode: the verdict
    is all that is missing, and drawing the sample again would cost its generation and change it.
    The rows keep what the generation recorded (seed, finish_reason, tokens); the verdict's fields
    are replaced (`sandbox`: the label of the sandbox that scores them now), with an error again if
    the outage goes on."""
    failed = [(task, j, store.rows[(task.id, j)]) for task in loaded.tasks for j in range(n)
              if (task.id, j) in store.rows and store.rows[(task.id, j)].get("error")
              and isinstance(store.rows[(task.id, j)].get("completion"), str)]
    chunks = scored_chunks(loaded, [task for task, _, _ in failed], [row["completion"] for _, _, row in failed],
                           f"{loaded.benchmark.name} re-scoring", progress=progress)
    try:
        for first, verdicts in chunks:
            store.add([{**row, **_verdict_row(task.id, j, row["completion"], verdict, sandbox=sandbox)}
                       for (task, j, row), verdict in zip(failed[first:], verdicts)])
    finally:
        chunks.close()
    return {(task.id, j) for task, j, _ in failed}


def _to_draw(loaded: LoadedBenchmark, store: ResultStore, n: int, base: int,
             skip: set[tuple[str, int]]) -> dict[int, list[list[int]]]:
    """The samples to draw (not done, not in `skip`), by the base seed each is drawn with: for each
    base, the sample indices each task lacks (`_sampling_calls`'s `missing`). A new sample takes
    this run's `base`; one drawn before whose verification failed (a multi-turn episode cut short
    by an outage) takes the base of the run that drew it, its recorded seed minus its number
    `j * N + t`, so it is drawn again with its own seed (as the engines' seeds give it)."""
    size = len(loaded.known_ids)
    draws: dict[int, list[list[int]]] = {}
    for t, task in enumerate(loaded.tasks):
        for j in range(n):
            key = (task.id, j)
            if key in skip or store.done(key):
                continue
            seed = (store.rows.get(key) or {}).get("seed")
            own = seed - (j * size + t) if isinstance(seed, int) and not isinstance(seed, bool) else base
            draws.setdefault(own, [[] for _ in loaded.tasks])[t].append(j)
    return draws


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
    samples_per_call: int | None = None,
    engine_name: str = "",
    model_name: str = "",
    dtype: str | None = None,
    confidence: float = 0.95,
    ci_method: str = "normal",
    progress: bool = True,
    verbose: bool = True,
    max_chars: int | None = None,
    tasks_per_batch: int | None = None,
) -> EvalResult:
    """Sample `n` completions per problem with `engine` (rollouts, verdicts from the env) into `out_dir`:
    `prepare_engine_run`, then `run_engine` (a caller that still has to build its engine calls
    them itself, so that nothing is loaded for a run that would be refused).

    `tokenizer` is the engine's tokenizer for token-level engines (hf, vllm); None for chat-level
    engines (openai). `model_name` is the model as given (a folder, a hub id, a served name): a
    local folder is identified by its path and a signature of its files, a served model (an engine
    with a `base_url`) by its name; with `dtype`, the resume check covers the model's changes.

    Sample j of problem t (of N in the benchmark) is sample number `j * N + t` and is drawn with
    the seed `seed + j * N + t` (a random base per run when `seed` is None; each row records its
    `seed`), whichever run draws it: growing `n` or redoing a sample never repeats another
    sample's seed, and gives the samples one run would have drawn (exactly with the vllm and
    openai engines; with hf when the calls hold the same samples). The engine is called with runs
    of consecutive sample numbers, up to `samples_per_call` (default: max(64, n);
    `tasks_per_batch` is its older name), each saved before the next starts: when the engine fails
    (its error is raised), the samples of finished calls are kept and the same call resumes after
    them. `max_chars` caps a turn's length (default: no cap). `sandbox` is used as
    `evaluate_completions` uses it. `temperature` 0 (greedy) with `n` > 1 is a ValueError
    (`greedy_samples_problem`): the `n` samples would all be the same answer.
    """
    run = prepare_engine_run(
        benchmark, out_dir, engine_name=engine_name or type(engine).__name__, model_name=model_name,
        base_url=getattr(engine, "base_url", None), n=n, ks=ks, temperature=temperature, top_p=top_p,
        max_tokens=max_tokens, seed=seed, data=data, limit=limit, sandbox=sandbox, system_prompt=system_prompt,
        max_turns=max_turns, samples_per_call=samples_per_call or tasks_per_batch, dtype=dtype, confidence=confidence,
        ci_method=ci_method, progress=progress, verbose=verbose, max_chars=max_chars)
    return run_engine(run, engine, tokenizer)


def _check_engine_run(out_dir: str, loaded: LoadedBenchmark, settings: dict[str, Any]) -> None:
    """`check_run` for a sampling run: the benchmark's identity plus the model (a folder by its
    signature, a served model, one with a `base_url`, by name), dtype, sampling settings, seed,
    system prompt, max turns (any on a single-turn env: one), length cap, the benchmark's size N (seeds are
    `seed + j * N + t`), and, for an env with a system message, the raw-text prompt layout (`check_prompt_layout`)."""
    from rlvr.trainers.turn_limits import single_turn_only

    sampled = {k: settings[k] for k in ("engine", "temperature", "top_p", "max_tokens", "seed", "system_prompt", "max_chars")}
    model = model_identity(settings["model"], served=settings["base_url"] is not None)
    _check_run(out_dir, _identity(loaded, "engine", model=model, dtype=settings["dtype"], max_turns=settings["max_turns"],
                                 benchmark_size=len(loaded.known_ids), **sampled, **prompt_layout_identity(loaded.env)),
              {"benchmark": loaded.benchmark.name, "benchmark_version": loaded.benchmark.version, "mode": "engine",
               "model": settings["model"], "data": _legacy_data(loaded), **sampled},
              single_turn=single_turn_only(loaded.env))


def _sample(collector: Any, store: ResultStore, loaded: LoadedBenchmark, calls: Sequence[list[tuple[int, int]]],
            sampling: Any, bar: Any, sandbox: str | None = None, skipped: dict[str, str] | None = None) -> int:
    """Run the engine `calls` (see `_sampling_calls`), one sample per problem listed, saving each
    call's samples before the next. `sampling.seed` is the run's base seed; a call starting at
    sample number g is seeded `base + g`, so its i-th sample (the engines seed the prompt at
    position i `seed + i`) gets `base + g + i`, its own number, which its row records (with
    `sandbox`, the label of the sandbox that scored it).

    `skipped` (task id -> reason, updated in place): problems whose prompt does not fit the model's
    context. Their samples are left out of the calls, those found by a call the engine refuses
    (`PromptTooLongError`) out of every later call as well. The error of a chat-level engine
    carries the call's other samples, finished (`PromptTooLongError.groups`, each drawn with its
    own seed): they are kept, not drawn again. A token-level engine refuses before generating: the
    call is made again without the skipped problems, cut where leaving them out breaks its run of
    consecutive numbers, so every sample keeps its own seed. Returns the number of samples drawn."""
    from rlvr.trainers.trajectory import PromptTooLongError

    size = len(loaded.known_ids)
    skipped = {} if skipped is None else skipped

    def kept(call: Sequence[tuple[int, int]]) -> list[list[tuple[int, int]]]:
        return _consecutive([(t, j) for t, j in call if loaded.tasks[t].id not in skipped], size)

    def save(pairs: Sequence[tuple[int, int]], groups: Sequence[Any]) -> int:
        store.add([_trajectory_row(loaded.tasks[t].id, j, group[0], seed=sampling.seed + j * size + t, sandbox=sandbox)
                   for (t, j), group in zip(pairs, groups)])
        bar.update(len(pairs))
        return len(pairs)

    def refilter(pending: list[list[tuple[int, int]]]) -> list[list[tuple[int, int]]]:
        parts = [part for call in pending for part in kept(call)]
        bar.update(sum(len(call) for call in pending) - sum(len(part) for part in parts))
        return parts

    pending = refilter([list(call) for call in calls])
    drawn = 0
    while pending:
        call = pending.pop(0)
        t0, j0 = call[0]
        params = dataclasses.replace(sampling, seed=sampling.seed + j0 * size + t0)
        try:
            groups = collector.collect([{"index": t} for t, _ in call], 1, params)
        except PromptTooLongError as exc:
            for position, reason in zip(exc.positions, exc.reasons):
                skipped.setdefault(loaded.tasks[call[position][0]].id, f"prompt longer than the model's context: {reason}")
            if exc.groups is not None:  # the others were generated: kept
                done = [(pair, group) for pair, group in zip(call, exc.groups) if group is not None]
                drawn += save([pair for pair, _ in done], [group for _, group in done])
                bar.update(len(call) - len(done))
                call = []
            pending = refilter([call, *pending])
            continue
        drawn += save(call, groups)
    return drawn


def _consecutive(call: Sequence[tuple[int, int]], size: int) -> list[list[tuple[int, int]]]:
    """`call`'s (task index, sample index) pairs cut into runs of consecutive sample numbers
    (`j * size + t`), each an engine call whose samples take consecutive seeds.

    >>> _consecutive([(0, 0), (2, 0), (0, 1)], 3)
    [[(0, 0)], [(2, 0), (0, 1)]]
    """
    runs: list[list[tuple[int, int]]] = []
    for t, j in call:
        if runs and runs[-1][-1][1] * size + runs[-1][-1][0] == j * size + t - 1:
            runs[-1].append((t, j))
        else:
            runs.append([(t, j)])
    return runs


def _sampling_calls(missing: Sequence[Sequence[int]], size: int, per_call: int) -> list[list[tuple[int, int]]]:
    """The engine calls that draw the missing samples, each a list of (task index, sample index).

    `missing[t]` lists the sample indices task t lacks; `size` is the number of tasks of the
    benchmark (N, all of them, not only those evaluated). Sample j of task t is number g = j * N + t;
    a call holds consecutive numbers within one block [b * per_call, (b + 1) * per_call), so its
    samples take consecutive seeds from its first one's, and a run that misses a whole block calls
    the engine with the same samples as a run drawing everything at once.

    >>> _sampling_calls([[0, 1], [1], [0, 1]], 3, 64)
    [[(0, 0)], [(2, 0), (0, 1), (1, 1), (2, 1)]]
    >>> _sampling_calls([[0, 1], [0, 1]], 2, 3)
    [[(0, 0), (1, 0), (0, 1)], [(1, 1)]]
    """
    numbers = sorted(j * size + t for t, js in enumerate(missing) for j in js)
    runs: list[list[int]] = []
    for g in numbers:
        if runs and runs[-1][-1] == g - 1 and g // per_call == runs[-1][0] // per_call:
            runs[-1].append(g)
        else:
            runs.append([g])
    return [[(g % size, g // size) for g in run] for run in runs]


def _trajectory_row(task_id: str, index: int, traj: Any, *, seed: int, sandbox: str | None = None) -> dict[str, Any]:
    """A sampled episode's row: its verdict, how the generation ended, and the `seed` it was drawn
    with (without --seed each run draws its base at random: a resumed folder's rows keep theirs)."""
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
        "seed": seed,
    }
    if traj.num_turns > 1:
        extra["messages"] = traj.messages
    tool_calls = _last_tool_calls(traj)
    if tool_calls:  # (a single-turn row has no `messages`: a call made where no tool is offered was lost)
        extra["tool_calls"] = tool_calls
    if any(traj.turn_reasoning):  # what a reasoning parser took out of the text: kept, one entry per turn
        extra["reasoning"] = traj.turn_reasoning
    return _verdict_row(task_id, index, traj.completion, verdict, sandbox=sandbox, **extra)


def _last_tool_calls(traj: Any) -> list[dict[str, Any]] | None:
    """The tool calls of the episode's last model turn (as the env recorded them, OpenAI's shape),
    or None: where the env offers no tool, or the turns ran out, the episode ended on them, unanswered."""
    last = next((m for m in reversed(traj.messages or []) if m.get("role") == "assistant"), None)
    return (last or {}).get("tool_calls") or None


def score_references(benchmark: Any, *, data: str | None = None, broken: Callable[[str], str] | None = None,
                     limit: int | None = None, sandbox: Any = None) -> list[Any]:
    """Verdicts of the benchmark's own reference solutions (or of `broken(reference)`), one per task."""
    loaded = load_benchmark(benchmark, data=data, limit=limit, sandbox=sandbox)
    refs = loaded.references()
    if broken is not None:
        refs = [broken(r) for r in refs]
    return score_completions(loaded.env, loaded.benchmark.kind, loaded.tasks, refs)

