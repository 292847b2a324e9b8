"""A training run's life around the loop: starting, resuming, overwriting and stopping it.

The trainer (:mod:`.trainer`) wires the RL step; this module holds the rules for the run's
``output_dir`` and process, so they can be read (and tested) on their own:

- one run at a time per ``output_dir``: starting or resuming a run takes an exclusive lock on
  ``output_dir/.lock`` (held until the process exits or calls :func:`release_output_dir`), and a
  second process is refused at once (:func:`lock_output_dir`);
- a fresh run refuses an ``output_dir`` that already holds a run (a checkpoint, or a ``metrics.jsonl``
  or ``summary.json`` of a finished step: :func:`existing_outputs`) unless ``log.overwrite``, which
  deletes exactly :data:`RUN_OUTPUTS` (in its folders only what a run writes there: other files there
  are refused, :func:`foreign_files`), and only once the new run has been built
  (:func:`check_output_dir`, :func:`clear_previous_run`); a ``config.json`` that is not an rlvr
  run's config (a model's, say) is refused even then; so is a folder holding an ``rlvr eval`` run
  (:func:`eval_run_files`), whose files are no run's outputs (and ``rlvr eval`` refuses a training
  run's folder in turn: :func:`training_run_files`);
- ``--resume`` compares the config with the checkpoint's: only
  :data:`~.config.RESUME_MUTABLE_KEYS` may change unless allowed (:func:`check_resume_config`),
  and the config's optimizer hyper-parameters are written into the restored optimizer
  (:func:`apply_optimizer_config`);
- Ctrl-C / SIGTERM asks the loop to finish its step and save it (:class:`StopRequests`); the
  message then says how to continue (:func:`resume_hint`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import torch

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locking
    fcntl = None

from rlvr.trainers.checkpoint import (CheckpointError, incomplete_checkpoints, latest_checkpoint, load_trainer_state,
                                      restore_moved_aside)
from rlvr.trainers.config import RESUME_CHANGE_NOTES, RESUME_MUTABLE_KEYS, Config, TrainConfig, config_changes, config_to_dict, resume_mutable

__all__ = [
    "ResumeError", "OutputDirBusy", "TrainingInterrupted", "DEMO_MARKER", "RUN_OUTPUTS", "OPTIMIZER_KEYS", "LOCK_FILE", "StopRequests",
    "apply_optimizer_config", "check_no_foreign_files", "check_output_dir", "check_resume_config", "clear_previous_run",
    "EVAL_OUTPUTS", "eval_run_files", "existing_outputs", "foreign_config", "foreign_files", "holds_output_dir", "lock_output_dir", "release_output_dir", "resume_hint", "say",
    "training_run_files",
]


class ResumeError(RuntimeError):
    """``--resume`` cannot continue (no checkpoint, nothing left to do, a changed config) or a fresh
    run would overwrite an existing one."""


class OutputDirBusy(ResumeError):
    """Another process holds the output directory's lock: it is running (or resuming) a run there."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C / SIGTERM stopped :meth:`Trainer.train` after a step; the message says which step was
    checkpointed and how to continue. A ``KeyboardInterrupt``, so callers that stop on Ctrl-C still do."""


#: The file by which ``rlvr demo`` marks the run in an output_dir as its own, so that a rerun of the
#: demo may replace it. It belongs to the run it was written for: any new run there removes it (with
#: ``log.overwrite`` or not, :meth:`~.trainer.Trainer.train`), and the demo writes it again for its
#: own new run (``Trainer.run_marks``); so a ``rlvr train`` run that replaced a demo run there is not
#: taken for the demo's and deleted by the next ``rlvr demo``.
DEMO_MARKER = ".rlvr-demo"

#: What a run writes into its output_dir; ``log.overwrite`` removes exactly these.
RUN_OUTPUTS = ("checkpoints", "metrics.jsonl", "tensorboard", "curves.png", "summary.json", "warmup_model",
               "config.json", "config_changes.jsonl", DEMO_MARKER)

#: What ``rlvr eval`` writes into its ``--out`` folder beside its ``summary.json`` (see
#: :mod:`rlvr.benchmarks.evaluate`): a training run refuses a folder holding them
#: (:func:`eval_run_files`), whose ``summary.json`` it would replace.
EVAL_OUTPUTS = ("run.json", "samples.jsonl", "samples.other.jsonl", "skipped.json", "pass_at_k.png")

#: The lock file in an output_dir (never deleted: see :func:`lock_output_dir`).
LOCK_FILE = ".lock"

#: Config keys whose values :func:`apply_optimizer_config` writes into a restored optimizer.
OPTIMIZER_KEYS = ("train.lr", "train.weight_decay", "train.beta1", "train.beta2")

#: Config changes between a checkpoint and a resumed run: ``{key: (old, new)}``.
Changes = dict[str, tuple[Any, Any]]


def say(message: str) -> None:
    """A message for the person running the trainer (stderr, flushed at once)."""
    print(message, file=sys.stderr, flush=True)


#: The output directories this process holds the lock of: ``{realpath: file descriptor}``.
_HELD: dict[str, int] = {}
#: Those of them that taking the lock created (:func:`release_output_dir` removes them when left empty).
_CREATED: set[str] = set()


def _forget_locks_in_child() -> None:
    """A forked child closes its copies of the lock descriptors: the lock stays its parent's and
    ends with it, however long the child lives."""
    for fd in _HELD.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()
    _CREATED.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_locks_in_child)


def lock_output_dir(out: Path, *, harm: str = "delete each other's checkpoints", option: str = "log.output_dir") -> None:
    """Take the exclusive lock of ``out`` (``fcntl.flock`` on ``out/.lock``, creating ``out``) for
    this process, so that no other process starts or resumes a run there meanwhile: two runs in
    one directory delete each other's checkpoint saves and prune each other's checkpoints. (``rlvr
    eval`` locks its ``--out`` too: ``harm`` and ``option`` are what its messages say instead.)

    The lock is held until the process exits (the operating system releases it, however the
    process ends) or calls :func:`release_output_dir`; taking it again in the same process is a
    no-op. The file itself is never deleted (a new file would be a second lock), except with the
    directory it was created in when nothing else was written there (a run that failed to start).

    Raises:
        OutputDirBusy: another process holds it; the message names the directory and the process.
        ResumeError: ``out`` cannot be written.
    """
    key = os.path.realpath(out)
    if key in _HELD or fcntl is None:
        return
    path = out / LOCK_FILE
    created = not out.is_dir()
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as exc:
        raise ResumeError(f"cannot write in {out} ({exc.strerror}: {exc.filename}); a run writes its outputs "
                          f"there: choose another {option}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):  # a filesystem without locks
            say(f"warning: cannot lock {path} ({exc.strerror}); make sure no other run uses {out}")
            return
        try:
            holder = path.read_text().strip()
        except OSError:
            holder = ""
        who = f"process {holder}" if holder.isdigit() else "another process"
        raise OutputDirBusy(
            f"{out} is in use: another run ({who}) holds its lock {path}. Two runs in one output "
            f"directory would {harm}; wait for that run to finish or stop it, or choose another {option}"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _HELD[key] = fd
    if created:
        _CREATED.add(key)


def holds_output_dir(out: Path) -> bool:
    """Whether this process holds the lock of ``out`` (:func:`lock_output_dir`)."""
    return os.path.realpath(out) in _HELD


def release_output_dir(out: Path) -> None:
    """Release this process's lock of ``out`` (see :func:`lock_output_dir`); nothing if not held.

    When taking the lock created ``out`` and nothing but the lock file is in it (a run that failed
    to start, e.g. on a missing GPU), ``out`` goes too (removed while still locked): an empty
    folder holding a ``.lock`` is no run, and would only be in the way."""
    key = os.path.realpath(out)
    fd = _HELD.pop(key, None)
    if fd is None:
        return
    if key in _CREATED:
        _CREATED.discard(key)
        with contextlib.suppress(OSError):
            if [p.name for p in out.iterdir()] == [LOCK_FILE]:
                (out / LOCK_FILE).unlink()
                out.rmdir()
    os.close(fd)  # (closing the descriptor releases the flock)


def existing_outputs(out: Path) -> list[str]:
    """The outputs of an earlier run in ``out``: a checkpoint, ``metrics.jsonl``, ``summary.json``.

    A ``metrics.jsonl`` without a step's row is none, nor is a ``summary.json`` of no step: a run
    stopped before finishing its first step (during the warm-up, after the evaluation before
    training, logged as step 0, or by an infrastructure failure in step 1, whose summary keeps
    the reason) leaves them, and rerunning the same command must not need ``log.overwrite``."""
    found = [f"checkpoint {ckpt.name}"] if (ckpt := latest_checkpoint(out)) is not None else []
    if (out / "metrics.jsonl").exists() and _has_step_rows(out / "metrics.jsonl"):
        found.append("metrics.jsonl")
    if (out / "summary.json").exists() and _summary_has_steps(out / "summary.json"):
        found.append("summary.json")
    return found


def eval_run_files(out: Path) -> list[str]:
    """The files of an ``rlvr eval`` run in ``out`` (:data:`EVAL_OUTPUTS`, and its ``summary.json``
    when they are there): a training run there would replace that summary, so it is refused."""
    found = [name for name in EVAL_OUTPUTS if (out / name).exists()]
    return found + ["summary.json"] if found and (out / "summary.json").exists() else found


def training_run_files(out: Path) -> list[str]:
    """The outputs of a training run (``rlvr train`` or ``rlvr demo``) in ``out``, finished or not:
    the entries of :data:`RUN_OUTPUTS` there, ``config.json`` only when it is an rlvr run's and
    ``summary.json`` only when it is a training run's (it records ``steps``). ``rlvr eval --out``
    refuses such a folder: its own ``summary.json`` would replace the run's."""
    found = []
    for name in RUN_OUTPUTS:
        path = out / name
        if not (path.exists() or path.is_symlink()):
            continue
        if name == "config.json" and foreign_config(out) is not None:
            continue
        if name == "summary.json" and not _training_summary(path):
            continue
        found.append(name)
    return found


def _training_summary(path: Path) -> bool:
    """Whether the summary ``path`` is a training run's (a JSON object with ``steps``)."""
    try:
        summary = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(summary, dict) and "steps" in summary


def _has_step_rows(path: Path) -> bool:
    """Whether the metrics file ``path`` holds a line other than a step-0 row (an unreadable file
    counts as holding rows)."""
    try:
        with open(path, "rb") as f:
            for line in f:
                try:
                    row = json.loads(line) if line.strip() else {"step": 0}
                except ValueError:
                    return True
                if not isinstance(row, dict) or row.get("step") != 0:
                    return True
    except OSError:
        return True
    return False


def _summary_has_steps(path: Path) -> bool:
    """Whether the summary ``path`` records a finished step (an unreadable one counts as recording one)."""
    try:
        summary = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return True
    return not (isinstance(summary, dict) and summary.get("steps") == 0)


#: Sections every rlvr run's ``config.json`` has (``config_to_dict``); a model's has none of them.
_RUN_CONFIG_SECTIONS = ("model", "env", "train", "log")


def foreign_config(out: Path) -> str | None:
    """Why ``out/config.json`` is not an rlvr run's config (which a run may replace), or None when it
    is one or there is none. A Hugging Face model's ``config.json`` is the usual case."""
    path = out / "config.json"
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return f"it cannot be read as JSON ({type(exc).__name__})"
    if not isinstance(data, dict):
        return "it is not a JSON object"
    missing = [k for k in _RUN_CONFIG_SECTIONS if not isinstance(data.get(k), dict)]
    if missing:
        keys = ", ".join(list(data)[:4]) + (", ..." if len(data) > 4 else "")
        return f"it has no {', '.join(missing)} section{'s' if len(missing) > 1 else ''}; its keys: {keys or 'none'}"
    return None


def _finished(out: Path, step: int) -> bool:
    """Whether the run in ``out`` ended at ``step``: its final ``summary.json`` (not one written at a
    checkpoint along the way, ``in_progress``) is there and says so. A run killed after saving its
    last step, during the final evaluation, has none: ``--resume`` then finishes that step (its
    evaluation, its metrics row, the summary) rather than saying there is nothing left to do."""
    try:
        summary = json.loads((out / "summary.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and summary.get("steps") == step and not summary.get("in_progress")


def check_output_dir(out: Path, cfg: Config, *, resume: bool, allow_config_change: bool
                     ) -> tuple[dict[str, Any] | None, Changes]:
    """Take the lock of ``out`` (:func:`lock_output_dir`) and refuse what cannot work before anything
    is built.

    Returns the latest checkpoint's trainer state and the config changes since it on ``resume``,
    else ``(None, {})``. Deletes nothing: with ``log.overwrite`` the old run goes only when the
    new one starts (:func:`clear_previous_run`). The lock is kept when the checks pass (and
    released when they fail, unless this process held it already).

    Raises:
        OutputDirBusy: another process runs in ``out``.
        ResumeError: ``resume`` without a checkpoint, with nothing left to do or with a
            ``trainer_state.pt`` that cannot be loaded safely, a config change that may not be made,
            a fresh run over an existing one without ``log.overwrite``, or over a ``config.json``
            that is not an rlvr run's.
    """
    if resume and not out.is_dir():  # nothing to continue: do not create (nor lock) a directory
        raise ResumeError(f"--resume: no checkpoint: {out} does not exist; point log.output_dir at the run to "
                          "continue, or run without --resume to start one there")
    held = os.path.realpath(out) in _HELD
    lock_output_dir(out)
    try:
        return _check_output_dir(out, cfg, resume=resume, allow_config_change=allow_config_change)
    except BaseException:
        if not held:
            release_output_dir(out)
        raise


def _check_output_dir(out: Path, cfg: Config, *, resume: bool, allow_config_change: bool
                      ) -> tuple[dict[str, Any] | None, Changes]:
    for restored in restore_moved_aside(out):  # (a save killed while re-saving a step)
        say(f"restored {restored}, which a killed save had moved aside")
    ckpt = latest_checkpoint(out)
    evaluation = eval_run_files(out)
    if evaluation and not (resume and ckpt is not None):  # (never log.overwrite: they are no run's outputs)
        raise ResumeError(
            f"{out} holds an rlvr eval run ({', '.join(evaluation)}), not a training run; a training run writes "
            "its own summary.json there, and log.overwrite does not replace an evaluation's files, so choose "
            "another log.output_dir (or move that evaluation elsewhere)"
        )
    if resume:
        for skipped in incomplete_checkpoints(out):
            say(f"resume: skipping {skipped}: it is incomplete (no model/ or trainer_state.pt); move it aside")
        if ckpt is None:
            existing = existing_outputs(out)
            if existing:
                raise ResumeError(
                    f"--resume: no checkpoint in {out / 'checkpoints'}, so there is nothing to continue; {out} "
                    f"holds the outputs of a run without a checkpoint ({', '.join(existing)}). To start afresh "
                    "there, run without --resume and with --set log.overwrite=true (which replaces them), or "
                    "point log.output_dir at the run to continue"
                )
            raise ResumeError(
                f"--resume: no checkpoint in {out / 'checkpoints'}; run without --resume to start "
                "(or point log.output_dir at the run to continue)"
            )
        try:
            state = load_trainer_state(ckpt)
        except CheckpointError as exc:
            raise ResumeError(f"--resume: {exc}") from exc
        done = (f"nothing left to do, the checkpoint {ckpt.name} is at step {state['step']} and train.total_steps "
                f"is {cfg.train.total_steps}; raise it (--set train.total_steps=N) to train further")
        finished = state["step"] >= cfg.train.total_steps and (state["step"] > cfg.train.total_steps
                                                             or _finished(out, state["step"]))
        if not finished:
            return state, check_resume_config(out, cfg, state, ckpt, allow=allow_config_change)
        try:  # a finished run: say what else the command would be refused for, in the same message
            check_resume_config(out, cfg, state, ckpt, allow=allow_config_change, quiet=True)
        except ResumeError as exc:
            raise ResumeError(f"--resume: {done}. Also: {str(exc).removeprefix('--resume: ')}") from None
        raise ResumeError(f"--resume: {done}")
    why = foreign_config(out)
    if why is not None:
        raise ResumeError(
            f"{out / 'config.json'} is not an rlvr run's config ({why}); a run writes its own config.json "
            "there and log.overwrite would delete this one, so choose another log.output_dir (or move "
            "that file away)"
        )
    if cfg.log.overwrite:
        check_no_foreign_files(out)
    existing = existing_outputs(out)
    if existing and not cfg.log.overwrite:
        if ckpt is not None:
            raise ResumeError(
                f"{out} already holds a run ({', '.join(existing)}); resume it (--resume; in Python "
                "Trainer(config, resume=True)), set log.overwrite=true to start afresh there (--set "
                "log.overwrite=true, or that override in load_config), or choose another log.output_dir"
            )
        raise ResumeError(
            f"{out} already holds the outputs of a run without a checkpoint ({', '.join(existing)}), "
            "which cannot be resumed; set log.overwrite=true to replace them (--set log.overwrite=true, or "
            "that override in load_config), or choose another log.output_dir"
        )
    return None, {}


def check_resume_config(out: Path, cfg: Config, state: dict[str, Any], ckpt: Path, *, allow: bool,
                        quiet: bool = False) -> Changes:
    """The changes between ``cfg`` and the config the checkpoint was trained with (settings both know).

    Keys of :data:`RESUME_MUTABLE_KEYS` may change; any other change would silently make the
    resumed run a different run (data order, batch, objective) and raises :class:`ResumeError`
    unless ``allow``. Every change is printed (unless ``quiet``: only checked)."""
    saved = state.get("config")
    if not saved:
        return {}
    changes = config_changes(saved, config_to_dict(cfg))
    fixed = [k for k in changes if not resume_mutable(k)]
    if fixed and not allow:
        listed = "; ".join(f"{k}: {changes[k][0]!r} -> {changes[k][1]!r}" for k in fixed)
        raise ResumeError(
            f"--resume: the config differs from the one {ckpt.name} was trained with in {', '.join(fixed)} "
            f"({listed}). Resuming would silently continue as a different run: use the original values "
            f"(they are in {out / 'config.json'}), or pass --allow-config-change "
            f"(Trainer(allow_config_change=True)) to continue anyway. These may change on resume: "
            f"{', '.join(RESUME_MUTABLE_KEYS)}"
        )
    for k, (old, new) in ([] if quiet else changes.items()):
        note = "" if resume_mutable(k) else " (allowed by --allow-config-change)"
        if k in RESUME_CHANGE_NOTES:
            note = f" ({RESUME_CHANGE_NOTES[k]})"
        if k in OPTIMIZER_KEYS:
            note = " (applied to the restored optimizer)"
        say(f"resume: {k} changed from {old!r} to {new!r}{note}")
    return changes


#: What rlvr writes inside the folders of :data:`RUN_OUTPUTS`: checkpoints (and the temporary
#: copies of a save), TensorBoard event files and the KL reference's ``save_pretrained`` files (and,
#: for a model with custom code, its Python files: :func:`_saved_code`).
_RUN_FOLDER_ENTRIES = {
    "checkpoints": re.compile(r"^(step_\d+|\.(tmp|old)-step_\d+.*)$"),
    "tensorboard": re.compile(r"^events\.out\.tfevents\..*$"),
    "warmup_model": re.compile(r"^(config\.json|generation_config\.json|model.*\.safetensors(\.index\.json)?)$"),
}

#: The temporary folders beside ``warmup_model`` that a save killed midway leaves in the output
#: directory (:func:`~.checkpoint.save_model_folder`); ``log.overwrite`` removes them too.
_REFERENCE_TEMPORARY = re.compile(r"^\.(tmp|old)-warmup_model-.*$")


def _saved_code(folder: Path) -> set[str]:
    """The Python files ``save_pretrained`` copies into ``folder`` for a model with custom code
    (``trust_remote_code``): the modules that the ``auto_map`` of the ``config.json`` there names,
    and the files those import relatively (found as transformers finds them). Empty for a folder
    whose config has no ``auto_map``, so that any other ``.py`` file there is still foreign."""
    try:
        auto_map = json.loads((folder / "config.json").read_text()).get("auto_map")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return set()
    if not isinstance(auto_map, dict):
        return set()
    names = set()
    for value in auto_map.values():  # "module.Class", "repo--module.Class", or a (slow, fast) pair
        for ref in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(ref, str) and "." in ref:
                names.add(ref.split("--")[-1].rsplit(".", 1)[0] + ".py")
    if not names:
        return names
    from transformers.dynamic_module_utils import get_relative_imports

    todo = [n for n in names if (folder / n).is_file()]
    while todo:
        try:
            imported = {f"{m}.py" for m in get_relative_imports(folder / todo.pop())}
        except (OSError, UnicodeDecodeError):
            continue
        todo += [n for n in imported - names if (folder / n).is_file()]
        names |= imported
    return names


def foreign_files(out: Path) -> list[Path]:
    """The entries of the run folders of ``out`` (``checkpoints/``, ``tensorboard/``,
    ``warmup_model/``) that no rlvr run writes: your files, which ``log.overwrite`` must not delete."""
    found = []
    for name, pattern in _RUN_FOLDER_ENTRIES.items():
        folder = out / name
        if folder.is_dir():
            code = _saved_code(folder) if name == "warmup_model" else set()
            found += sorted(p for p in folder.iterdir()
                            if not pattern.match(p.name) and not (p.name in code and p.is_file()))
        elif folder.exists():  # a file where a run writes a folder
            found.append(folder)
    return found + [out / name for name in RUN_OUTPUTS if name not in _RUN_FOLDER_ENTRIES and (out / name).is_dir()]


def check_no_foreign_files(out: Path) -> None:
    """Refuse ``log.overwrite`` in ``out`` when its run folders hold files rlvr did not write.

    Raises:
        ResumeError: naming (up to five of) those files and the way out.
    """
    foreign = foreign_files(out)
    if foreign:
        shown = ", ".join(str(p) for p in foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise ResumeError(
            f"log.overwrite: {out} holds files that no rlvr run wrote ({shown}); overwriting would delete them "
            "with the previous run's outputs, so move them away, or choose another log.output_dir"
        )


def clear_previous_run(out: Path) -> None:
    """``log.overwrite``: delete the earlier run's outputs (:data:`RUN_OUTPUTS`: in its folders only
    what rlvr writes there) and say which.

    Raises:
        ResumeError: those folders hold other files (:func:`check_no_foreign_files`); nothing is deleted.
    """
    check_no_foreign_files(out)
    removed = []
    for name in RUN_OUTPUTS:
        p = out / name
        if name in _RUN_FOLDER_ENTRIES and p.is_dir():
            for entry in p.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
            p.rmdir()
        elif p.exists() or p.is_symlink():
            p.unlink()
        else:
            continue
        removed.append(name)
    for p in out.iterdir():  # a killed save of the KL reference (only this process writes here: the lock)
        if _REFERENCE_TEMPORARY.match(p.name) and p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
    if removed:
        say(f"log.overwrite: removed the previous run's {', '.join(removed)} from {out}")


def apply_optimizer_config(optimizer: torch.optim.Optimizer, scheduler: torch.optim.lr_scheduler.LambdaLR,
                           t: TrainConfig, *, reported: Iterable[str] = ()) -> None:
    """After restoring the optimizer and scheduler, use the config's lr, betas and weight decay.

    ``load_state_dict`` brings back the checkpoint's values (and the scheduler its ``base_lrs``):
    without this, lowering ``train.lr`` to resume a diverging run silently did nothing. The current
    rate is recomputed from the config's lr and schedule at the restored position, which gives the
    very same number when nothing changed (resume stays exact). Differences not in ``reported``
    (the config comparison's keys; an older checkpoint has no config to compare) are printed.

    A changed ``train.total_steps`` under a linear or cosine schedule reshapes the whole schedule
    to the new length: it is not continued from where it was. Extending a finished cosine run from
    4 to 8 steps takes the rate at step 4 from the end of the old curve (0) back to the middle
    of the new one (half of ``train.lr``). The rate at the resume point before and after the change
    is printed. (To keep the old rate, resume with ``train.lr`` scaled accordingly, or use the
    constant schedule.)"""
    lam, k = scheduler.lr_lambdas[0], scheduler.last_epoch
    group = optimizer.param_groups[0]
    restored_rate = group["lr"]
    before = {"train.lr": group.get("initial_lr", group["lr"]), "train.weight_decay": group["weight_decay"],
              "train.beta1": group["betas"][0], "train.beta2": group["betas"][1]}
    after = {"train.lr": t.lr, "train.weight_decay": t.weight_decay, "train.beta1": t.beta1, "train.beta2": t.beta2}
    for g in optimizer.param_groups:
        g["initial_lr"] = t.lr
        g["lr"] = t.lr * lam(k)
        g["weight_decay"] = t.weight_decay
        g["betas"] = (t.beta1, t.beta2)
    scheduler.base_lrs = [t.lr] * len(optimizer.param_groups)
    scheduler._last_lr = [g["lr"] for g in optimizer.param_groups]
    reported = set(reported)
    for key in before:
        if before[key] != after[key] and key not in reported:
            say(f"resume: {key} is now {after[key]!r} (the checkpoint's optimizer had {before[key]!r})")
    if "train.total_steps" in reported and t.lr_scheduler != "constant":
        also = " and train.lr" if "train.lr" in reported else ""
        say(f"resume: note: train.total_steps{also} changed under the {t.lr_scheduler} learning-rate schedule, "
            f"which is reshaped to the new length rather than continued: the learning rate at the resume point "
            f"(step {k}) goes from {restored_rate:.6g} to {group['lr']:.6g}")


def resume_hint(out: Path, what: str, step: int) -> str:
    """What stopped the run at ``step``, its latest checkpoint and how to continue from it. A run
    stopped before finishing a step has nothing to resume, and leaves nothing in the way of the
    same command (:func:`existing_outputs`): that is the way to continue."""
    ckpt = latest_checkpoint(out)
    if ckpt is None and step == 0:
        return (f"{what} at step 0; no checkpoint was saved, and none is needed: no step was done, so once the "
                "cause is fixed, run the same command again (without --resume)")
    if ckpt is None:
        return f"{what} at step {step}; no checkpoint was saved, so the run cannot be resumed"
    return (f"{what} at step {step}; the latest checkpoint is {ckpt}; continue with the same "
            "command plus --resume (rlvr train ... --resume, rlvr demo ... --resume; Trainer(config, resume=True))")


class StopRequests:
    """SIGINT / SIGTERM while a run trains.

    Inside :meth:`handled`, the first signal during the RL steps (``in_loop``) only sets
    ``requested`` (the loop finishes its step, saves it and stops); a second one, or one outside
    the steps (warm-up, the evaluation before training), raises ``KeyboardInterrupt`` at once.
    Only the main thread can own signal handlers; elsewhere signals keep their default handling.
    """

    def __init__(self) -> None:
        #: what was asked ("SIGINT: stopped"), or None
        self.requested: str | None = None
        #: True while the loop runs RL steps (a signal then waits for the step's end)
        self.in_loop = False

    @contextlib.contextmanager
    def handled(self, write: Callable[[str], None]) -> Iterator[None]:
        """Install the handlers for the duration of the block; ``write`` tells the user what happens."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: Any) -> None:
            name = signal.Signals(signum).name
            if self.requested or not self.in_loop:
                raise KeyboardInterrupt
            self.requested = f"{name}: stopped"
            write(f"{name}: finishing the current step, then saving a checkpoint "
                  "(send it again to stop at once, without saving)")

        old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, previous in old.items():
                signal.signal(sig, previous)
            self.requested = None
            self.in_loop = False
