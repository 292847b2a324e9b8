"""A Trainer's checkpoints: what one holds, how a resume restores it, and what a resume refuses.

:mod:`.checkpoint` writes and reads checkpoint folders safely; this module decides what a training
run puts in them (weights, optimizer, data position, RNG, held-out questions, the env's size and
fingerprint, the KL reference) and checks, on ``--resume``, that the run goes on with the same
training data, env and prompt layout as the checkpoint was made with (:class:`ResumeError`
otherwise, unless ``allow_config_change``). :func:`save_run_checkpoint` and :func:`load_run_checkpoint` read and
set the Trainer's progress, which the Trainer owns; the rest are plain functions of what they are
given. Kept apart from :mod:`.trainer` so that the training loop reads as the algorithm.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from rlvr.envs.fingerprint import LOCATION_KEYS
from rlvr.trainers import heldout
from rlvr.trainers.checkpoint import (
    CheckpointError, damaged_checkpoint, latest_checkpoint, load_trainer_state, quiet_progress, remove_stale_temporaries,
    rng_state, save_checkpoint, save_model_folder, set_rng_state,
)
from rlvr.trainers.config import ENV_KWARGS_RULES, Config, ConfigError, config_to_dict
from rlvr.trainers.policy import load_policy
from rlvr.trainers.opening_prompt import PROMPT_LAYOUT, raw_system_text
from rlvr.trainers.runs import ResumeError, apply_optimizer_config, say
from rlvr.trainers.training_envs import probe_env

if TYPE_CHECKING:
    from rlvr.trainers.trainer import Trainer

__all__ = ["CheckpointSaveError", "REFERENCE_DIR", "SAVED_REFERENCES", "save_run_checkpoint", "save_reference",
           "write_checkpoint_evals", "load_run_checkpoint", "refuse_newer_records", "fingerprint_changes"]


class CheckpointSaveError(RuntimeError):
    """A checkpoint could not be written (a full disk, a lost mount): the run stops, and the message
    says which step, why, and (when it looks like it) that the disk is full. ``cause`` is the
    original exception; ``step`` the step whose save failed; ``disk_full`` whether it looks like
    a lack of space. The checkpoints saved before are untouched. ``what`` names what failed to be
    written when it is not the checkpoint itself (the KL reference in ``warmup_model/``)."""

    def __init__(self, out: Path, step: int, cause: BaseException, *, what: str | None = None) -> None:
        self.step, self.cause = step, cause
        self.disk_full = _looks_like_disk_full(cause)
        reason = " ".join(str(cause).split())[:300] or "no message"
        what = what or f"the checkpoint of step {step} in {out / 'checkpoints'}"
        message = f"saving {what} failed ({type(cause).__name__}: {reason})"
        if self.disk_full:
            try:
                free = f" ({shutil.disk_usage(out).free / 2**20:.0f} MiB free there now)"
            except OSError:
                free = ""
            message += (f"; the disk looks full{free}: free some space (or lower log.keep_last, or move "
                        "log.output_dir to a larger disk) before resuming")
        super().__init__(message)


#: What `torch.save` / `save_pretrained` say when a write hits a full disk without an errno.
_DISK_FULL_HINTS = ("no space left", "disk quota", "unexpected pos", "file write failed", "iostream error",
                    "enospc")


def _looks_like_disk_full(exc: BaseException | None) -> bool:
    """True when ``exc`` or an exception it came from is ENOSPC / EDQUOT, or says a write failed the
    way torch's zip writer does on a full disk ("[enforce fail at inline_container.cc] unexpected pos")."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            return True
        if any(hint in str(exc).lower() for hint in _DISK_FULL_HINTS):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


#: The folder of ``output_dir`` that holds a KL reference a resume cannot rebuild from the config
#: (``log.overwrite`` removes it with the rest of a run: :data:`~.runs.RUN_OUTPUTS`).
REFERENCE_DIR = "warmup_model"
#: The references saved there (``Trainer.reference``), and what each is.
SAVED_REFERENCES = {"warmup_model": "its warmed-up model", "given_model": "the model passed to Trainer(model=...)"}


# ------------------------------------------------------------------------------------ saving

def save_run_checkpoint(trainer: Trainer) -> Path:
    """Checkpoint ``trainer``'s current step (:meth:`Trainer.save <rlvr.trainers.trainer.Trainer.save>`)."""
    tr = trainer
    row = tr._row if tr._row is not None and tr._row.get("step") == tr.step_count else None
    _save_given_reference(tr)  # (before the state that names it)
    state = {
        "step": tr.step_count,
        "task_counter": tr.task_counter,
        "optimizer": tr.optimizer.state_dict(),
        "scheduler": tr.scheduler.state_dict(),
        "rng": rng_state(),
        "eval_results": tr.eval_results,
        "eval_errors": tr.eval_errors,  # a failed evaluation still fails the resumed run (exit 1)
        "config": config_to_dict(tr.cfg),
        "reference": tr.reference,  # what the KL reference is, so a resume loads that and nothing else
        "warmup_stats": tr.warmup_stats,
        "train_seconds": tr._elapsed(),
        "eval_holdout": tr.eval_holdout,  # the training pool, which a resume must not change
        "heldout_keys": sorted(tr.heldout_keys),  # the questions training skips, likewise
        "heldout_skipped": tr.heldout_skipped,
        "heldout_key": heldout.key_kind(tr._render),  # what the keys digest (a checkpoint without it: the question text)
        "heldout_since_step": tr.heldout_since_step,
        "dataset_size": tr.dataset_size,  # the data a resume must find again (or be allowed to change)
        "env_fingerprint": tr.env_fingerprint,
        # how the envs' settings were derived (a resume derives them alike), and those of the training env
        "env_kwargs_rules": tr.env_rules,
        "env_kwargs": tr.env_kwargs,
        "prompt_layout": PROMPT_LAYOUT,  # the raw-text prompt's layout (a resume refuses another)
        "row": row,  # the step's metrics before its evaluation, logged on resume if they never were
        "row_eval_due": tr._row_eval_due if row is not None else False,
    }
    try:
        path = save_checkpoint(tr.out, tr.step_count, model=tr.model, tokenizer=tr.tokenizer,
                               state=state, keep_last=tr.cfg.log.keep_last)
    except Exception as exc:  # a full disk: torch.save's RuntimeError, an OSError, a SafetensorError
        raise CheckpointSaveError(tr.out, tr.step_count, exc) from exc
    tr._last_saved = tr.step_count
    write_checkpoint_evals(tr.out, path, tr.step_count, tr.eval_results, tr.eval_errors)
    return path


def _save_given_reference(tr: Trainer) -> None:
    """Save a passed-in model's KL reference once, to ``<output_dir>/warmup_model`` (where the
    warm-up saves its own), and record it as "given_model", so that a resume, which builds its
    model from the config, loads it rather than using ``model.name_or_path`` in its place. Done
    by the first checkpoint (a run that saves none needs no copy), unless the warm-up has made
    its model the reference already. A failed write is a :class:`CheckpointSaveError`."""
    if not tr._reference_unsaved or tr.reference != "initial":
        return
    save_reference(tr.out, tr.step_count, tr.ref_model,
                   f"the run's KL reference (the model passed to Trainer(model=...)) to "
                   f"{tr.out / REFERENCE_DIR}/, before the checkpoint of step {tr.step_count},")
    tr._reference_unsaved = False
    tr.reference = "given_model"


def save_reference(out: Path, step: int, model: Any, what: str) -> None:
    """Write ``model`` to ``<out>/warmup_model`` as a checkpoint is written: atomically and
    fsync'ed (:func:`~.checkpoint.save_model_folder`), since checkpoints name it as their KL
    reference. A failed write (a full disk) is a :class:`CheckpointSaveError` (of ``step``) saying
    ``what``; the checkpoint that would name it is not written."""
    try:
        save_model_folder(model, out / REFERENCE_DIR)
    except Exception as exc:
        raise CheckpointSaveError(out, step, exc, what=what) from exc


def write_checkpoint_evals(out: Path, path: Path, step_count: int, eval_results: dict[int, Any],
                           eval_errors: dict[int, str]) -> None:
    """``<checkpoint>/evals.json``: the evaluation results up to its step (its folder's, else
    ``step_count``), and ``eval_errors.json`` the failed evaluations. Small files of their own, so
    the evaluation that follows a save can be added without rewriting the checkpoint."""
    step = int(path.name.rsplit("_", 1)[-1]) if path.name.startswith("step_") else step_count
    for name, kept in (("evals.json", eval_results), ("eval_errors.json", eval_errors)):
        tmp = path / f"{name}.tmp"
        try:
            tmp.write_text(json.dumps({str(k): v for k, v in kept.items() if k <= step}))
            os.replace(tmp, path / name)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise CheckpointSaveError(out, step, exc) from exc


# ------------------------------------------------------------------------------------ resuming

def load_run_checkpoint(trainer: Trainer) -> None:
    """Restore the latest checkpoint into ``trainer`` (weights, optimizer, data position, RNG...). A
    damaged one (a truncated ``trainer_state.pt``, a missing or truncated ``model.safetensors``) is a
    :class:`ResumeError` naming it and how to resume from the previous one."""
    from safetensors import SafetensorError
    from transformers import AutoModelForCausalLM

    tr = trainer
    ckpt = latest_checkpoint(tr.out)
    try:
        state = tr._resume_state if tr._resume_state is not None else load_trainer_state(ckpt)
    except CheckpointError as exc:
        raise ResumeError(f"--resume: {exc}") from exc
    tr._resume_state = None
    _check_same_env(tr, state, ckpt)
    stale = remove_stale_temporaries(tr.out)
    if stale:
        say(f"resume: removed {len(stale)} unfinished checkpoint save(s) left by a killed run: "
             f"{', '.join(p.name for p in stale)}")
    try:
        with quiet_progress():
            saved = AutoModelForCausalLM.from_pretrained(
                ckpt / "model", dtype=torch.float32, trust_remote_code=tr.cfg.model.trust_remote_code)
    except (OSError, EOFError, RuntimeError, ValueError, SafetensorError) as exc:
        _refuse_remote_code(exc, ckpt / "model", tr.cfg)
        reason = f"model/: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
        raise ResumeError(f"--resume: {damaged_checkpoint(ckpt, reason)}") from None
    tr.model.load_state_dict(saved.state_dict())
    del saved
    tr.optimizer.load_state_dict(state["optimizer"])
    tr.scheduler.load_state_dict(state["scheduler"])
    apply_optimizer_config(tr.optimizer, tr.scheduler, tr.cfg.train, reported=tr._config_changes)
    tr.step_count = int(state["step"])
    tr.task_counter = int(state["task_counter"])
    tr.eval_results = {int(k): v for k, v in (state.get("eval_results") or {}).items()}
    if (ckpt / "evals.json").is_file():  # includes the evaluation run after the save
        tr.eval_results.update({int(k): v for k, v in json.loads((ckpt / "evals.json").read_text()).items()})
    tr.eval_errors = {int(k): v for k, v in (state.get("eval_errors") or {}).items() if int(k) <= tr.step_count}
    if (ckpt / "eval_errors.json").is_file():
        tr.eval_errors.update({int(k): v for k, v in json.loads((ckpt / "eval_errors.json").read_text()).items()})
    tr.warmup_stats = dict(state.get("warmup_stats") or {})
    tr.train_seconds_before = float(state.get("train_seconds", 0.0))
    reference = state.get("reference")
    if reference is None:  # a checkpoint from before the reference was recorded
        reference = "warmup_model" if tr.cfg.warmup.steps and (tr.out / REFERENCE_DIR).is_dir() else "initial"
    if tr.ref_model is not None and reference in SAVED_REFERENCES:
        _load_reference(tr.ref_model, tr.out, reference, tr.cfg)
    elif tr.ref_model is not None and tr._given_model:  # (before the RNG states are restored)
        _load_initial_reference(tr.ref_model, tr.cfg)
    tr.reference = reference
    set_rng_state(state["rng"])
    tr.engine.load_weights(tr.model)
    held = state.get("eval_holdout")  # (None: a checkpoint from before the hold-out was recorded)
    if held is not None and held != tr.eval_holdout:
        say(f"resume: keeping the run's {held} evaluation tasks held out of training (the eval settings "
             f"would now hold out {tr.eval_holdout}); changing it would change the training data")
        tr.eval_holdout = int(held)
        if tr.cfg.eval.num_tasks and not held and heldout.eval_reads_training_data(tr.cfg, tr.dataset_size):
            raise ResumeError(
                f"--resume: eval.num_tasks={tr.cfg.eval.num_tasks}, but the run started with eval.num_tasks=0, so "
                f"no tasks of its training dataset were held out for evaluation (every one may have been trained "
                "on); evaluate on other data (eval.env_kwargs, e.g. {split: test}), or resume with eval.num_tasks=0")
        if tr.cfg.eval.num_tasks:
            tr._set_held_out()
    tr.heldout_keys, tr.heldout_since_step = heldout.resumed_heldout_keys(
        state, ckpt.name, current=tr.heldout_keys, step=tr.step_count, render=tr._render, prompt=tr._prompt,
        eval_source=tr._eval_source, indices=tr.eval_indices)
    tr.heldout_skipped = int(state.get("heldout_skipped") or 0)
    tr._last_saved = tr.step_count
    tr.resumed_from = ckpt
    row = state.get("row")
    if isinstance(row, dict) and row.get("step") == tr.step_count:
        tr._resumed_row, tr._resumed_eval_due = dict(row), bool(state.get("row_eval_due"))
        tr._row, tr._row_eval_due = dict(row), tr._resumed_eval_due
    tr._check_task_ranges()


def _load_reference(ref_model: Any, out: Path, reference: str, cfg: Config) -> None:
    """Resume: load the run's saved KL reference (:data:`SAVED_REFERENCES`) into ``ref_model``.
    One that is missing or does not load is a :class:`ResumeError`: another reference would
    silently change the KL term of the rest of the run."""
    from safetensors import SafetensorError
    from transformers import AutoModelForCausalLM

    path, what = out / REFERENCE_DIR, SAVED_REFERENCES[reference]
    fix = "restore it, or start afresh (log.overwrite=true)"
    if not path.is_dir():
        raise ResumeError(f"--resume: the run's KL reference {path} ({what}) is missing; {fix}")
    try:
        with quiet_progress():
            ref = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32,
                                                       trust_remote_code=cfg.model.trust_remote_code)
        ref_model.load_state_dict(ref.state_dict())
    except (OSError, EOFError, RuntimeError, ValueError, SafetensorError) as exc:
        _refuse_remote_code(exc, path, cfg)
        reason = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
        raise ResumeError(f"--resume: the run's KL reference {path} ({what}) cannot be loaded ({reason}); {fix}") from None


def _refuse_remote_code(exc: BaseException, path: Path, cfg: Config) -> None:
    """Resume: a saved model that did not load because it has custom code (its ``auto_map``) and
    ``model.trust_remote_code`` is off is no damage: raise a :class:`ResumeError` saying so."""
    if isinstance(exc, ValueError) and "trust_remote_code" in str(exc) and not cfg.model.trust_remote_code:
        raise ResumeError(f"--resume: the model in {path} has custom code (the auto_map of its config.json), which "
                          "model.trust_remote_code=false does not run; if you trust that code, set model.trust_remote_code=true "
                          "(with --allow-config-change when the run started without it)") from None


def _load_initial_reference(ref_model: Any, cfg: Config) -> None:
    """Resume with a model passed in, of a run whose KL reference is "initial": that reference is
    the config's model (a fresh run from a passed-in model records "given_model" instead), which a
    resume without one loads too. ``ref_model`` was copied from the model passed now, whatever it
    is (its weights are replaced by the checkpoint's), so it is loaded from the config: one more
    load of the model, only in this case. Comparing the two would cost the same load and refuse a
    resume that can go on. One that cannot be loaded, or does not fit, is a :class:`ResumeError`."""
    m = cfg.model
    try:
        initial, _ = load_policy(cfg)
        ref_model.load_state_dict(initial.state_dict())
    except (ConfigError, RuntimeError) as exc:
        reason = " ".join(str(exc).split())[:300]
        raise ResumeError(
            f"--resume: the run's KL reference is the model it started from, model.name_or_path={m.name_or_path!r} "
            f"(not the model passed to Trainer(model=...), which only receives the checkpoint's weights), and it "
            f"cannot be loaded into the reference ({type(exc).__name__}: {reason})") from None
    del initial


# ------------------------------------------------------------------------------------ what a resume refuses

def refuse_newer_records(state: dict[str, Any], out: Path) -> None:
    """Resume: a :class:`ResumeError` for a checkpoint (the latest in ``out``) whose ``env_kwargs_rules`` or
    ``prompt_layout`` is above this rlvr's (:data:`~.config.ENV_KWARGS_RULES`,
    :data:`~.opening_prompt.PROMPT_LAYOUT`): a newer rlvr made it, and this one cannot build its envs or
    prompts as they were (``--allow-config-change`` does not help: it could only switch to older ones)."""
    for key, current in (("env_kwargs_rules", ENV_KWARGS_RULES), ("prompt_layout", PROMPT_LAYOUT)):
        value = state.get(key)
        if value is None or (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= current):
            continue
        ckpt = latest_checkpoint(out)
        raise ResumeError(
            f"--resume: {ckpt.name if ckpt is not None else 'the checkpoint'} was made by a newer rlvr: its {key} is "
            f"{value!r}, and this rlvr knows {key} up to {current} only, so it would build the run's envs or prompts "
            "otherwise than they were; resume it with the rlvr that made it (or a newer one)")


def fingerprint_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The entries of two env fingerprint records that differ, as dotted keys to the innermost
    entry that differs (``data.num_tasks``, ``verifier.settings.sandbox.limits.memory_mb``), so
    that a resume refused names what changed. Not changes: where data known by its content SHA-256
    lies (a path), and a ``sandbox`` entry (a sandbox's default limits and interpreter or image,
    which rlvr records beside ``sandbox_backend`` for Code-v0, code-verifier envs and ToolMath-v0's
    python tool) that the old record lacks while it has ``sandbox_backend``: a checkpoint made
    before rlvr recorded it holds the same setup told in less detail. Between two records that both
    have it, a difference is a change (other limits score the same program differently)."""
    def located(record: dict[str, Any]) -> dict[str, Any]:
        data = record.get("data")
        if isinstance(data, dict) and data.get("sha256"):
            record = {**record, "data": {k: v for k, v in data.items() if k not in LOCATION_KEYS}}
        return record

    changes: dict[str, tuple[Any, Any]] = {}

    def compare(a: dict[str, Any], b: dict[str, Any], prefix: str) -> None:
        if "sandbox_backend" in a and "sandbox_backend" in b and "sandbox" not in a:
            b = {k: v for k, v in b.items() if k != "sandbox"}  # recorded in more detail, not changed
        for key in sorted(a.keys() | b.keys(), key=str):
            x, y = a.get(key), b.get(key)
            if isinstance(x, dict) and isinstance(y, dict) and x and y:
                compare(x, y, f"{prefix}{key}.")
            elif x != y:
                changes[f"{prefix}{key}"] = (x, y)

    compare(located(old), located(new), "")
    return changes


_UNSET = object()


def _plain(value: Any) -> Any:
    """``value`` as JSON reads it back (tuples as lists, other objects as their text), so that env
    settings recorded by a checkpoint compare with those rebuilt from the config."""
    return json.loads(json.dumps(value, default=str))


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_same_env(tr: Trainer, state: dict[str, Any], ckpt: Path) -> None:
    """Resume: refuse a training dataset or env that changed since ``ckpt`` (its size, its
    fingerprint), naming what changed, unless ``allow_config_change`` (then say it and record it
    in ``config_changes.jsonl``). A rewritten data file would otherwise silently change the
    shuffle and turn the tasks held out for evaluation into training tasks. An upgrade of rlvr
    alone (the record's ``rlvr_version``) is said, not refused: its verifiers' rules versions
    are in the record, and a change of those is. A record that only adds detail the old one
    lacked (a ``sandbox`` entry, `fingerprint_changes`) is the same env; other detail an
    upgrade adds is refused like any change, and the message says that
    ``allow_config_change`` continues."""
    changes: dict[str, tuple[Any, Any]] = {}
    said: list[str] = []
    if "dataset_size" in state and state["dataset_size"] != tr.dataset_size:
        old, new = state["dataset_size"], tr.dataset_size
        changes["env.dataset_size"] = (old, new)
        held = state.get("eval_holdout") or 0
        said.append(f"the training dataset has {new if new is not None else 'endless'} tasks, {ckpt.name} was "
                    f"trained on {old if old is not None else 'endless'} (the training pool and its shuffle would "
                    "change" + (f", and tasks held out for evaluation ({held}) could be trained on)" if held else ")"))
    old_fp, new_fp = state.get("env_fingerprint"), tr.env_fingerprint
    parts = {} if not (old_fp and new_fp) else fingerprint_changes(old_fp.get("record") or {}, new_fp.get("record") or {})
    upgrade = parts.pop("rlvr_version", None)  # an upgrade of rlvr alone is the same env (its rules versions are not)
    if upgrade is not None:
        say(f"resume: rlvr {upgrade[0]} -> {upgrade[1]}")
    if parts and old_fp.get("digest") != new_fp.get("digest"):
        changes["env.fingerprint"] = (old_fp.get("digest"), new_fp.get("digest"))
        listed = "; ".join(f"{k}: {_short(a)} -> {_short(b)}" for k, (a, b) in list(parts.items())[:6])
        more = f"; and {len(parts) - 6} more" if len(parts) > 6 else ""
        said.append(f"the env fingerprint changed from {old_fp.get('digest')} to {new_fp.get('digest')}"
                    + (f" ({listed}{more})" if listed else " (its data, verifier or settings differ)"))
    for key, layout in _prompt_layout_changes(tr, state).items():
        changes[key] = (1, PROMPT_LAYOUT)
        said.append(layout)
    _say_env_kwargs_change(state, ckpt, tr.env_kwargs)
    if not changes:
        return
    if not tr._allow_config_change:
        # a newer rlvr can record more of an unchanged setup (a key it lacked in the old record)
        upgraded = (" (a newer rlvr may record the same setup in more detail: if that is all that changed, "
                    "--allow-config-change is the way on)") if "env.fingerprint" in changes else ""
        raise ResumeError(
            f"--resume: the training data or env differs from what {ckpt.name} was trained with: {'; '.join(said)}. "
            f"Resuming would silently continue as a different run: restore the original data (env.id "
            f"{tr.cfg.env.id}, env.kwargs {tr.cfg.env.kwargs}), or pass --allow-config-change "
            f"(Trainer(allow_config_change=True)) to continue anyway{upgraded}")
    for line in said:
        say(f"resume: {line} (allowed by --allow-config-change)")
    tr._config_changes = {**tr._config_changes, **changes}


def _prompt_layout_changes(tr: Trainer, state: dict[str, Any]) -> dict[str, str]:
    """Resume: what changed in the prompts since a checkpoint that records no ``prompt_layout``
    (made before raw-text prompts held the env's system message, see :data:`~.opening_prompt.PROMPT_LAYOUT`),
    by the setting it changes: ``env.prompt_layout`` for the training prompts, ``eval.prompt_layout``
    for the held-out evaluation's (its env may have a system message of its own, from
    ``eval.env_kwargs``: its curve would mix two layouts). Empty when nothing changed: the prompts
    are the same in chat-template mode and for an env without a system message (the demo's, for one)."""
    if state.get("prompt_layout") is not None:
        return {}
    said: dict[str, str] = {}
    probes = [("env.prompt_layout", tr.collector, "env.kwargs", tr.env_kwargs,
               "the run's raw-text prompts", "the env's",
               "so the rest of the run would train on other prompts than its steps so far (to keep both")]
    if tr.eval_collector is not None:
        probes.append(("eval.prompt_layout", tr.eval_collector, "eval.env_kwargs", tr.cfg.eval.env_kwargs,
                       "the held-out evaluation's raw-text prompts", "its env's",
                       "so the held-out curve would mix two prompt layouts (to keep one"))
    for key, collector, where, kwargs, prompts, whose, consequence in probes:
        env = probe_env(collector, tr.cfg.env.id, where, kwargs)
        system = raw_system_text(env)
        if system and collector.token_level and not collector.uses_chat_template(env):
            said[key] = (f"{prompts} (no chat template) were the prompt alone; rlvr now puts {whose} system message "
                         f"({_short(system)}) before it, {consequence}, start a new run in another log.output_dir)")
    return said


def _say_env_kwargs_change(state: dict[str, Any], ckpt: Path, env_kwargs: dict[str, Any]) -> None:
    """Resume: say which of the training envs' settings (``env_kwargs``) differ from those
    ``ckpt`` records (its ``env_kwargs``; none in older checkpoints). What changes an env's tasks
    or rewards is refused by the env fingerprint and the config's comparison; this names the
    settings themselves (e.g. where this rlvr derives them otherwise from the same config than the one that saved ``ckpt``)."""
    recorded = state.get("env_kwargs")
    if not isinstance(recorded, dict):
        return
    old, new = _plain(recorded), _plain(env_kwargs)
    differ = [f"{k}: {_short(old.get(k, '(unset)'))} -> {_short(new.get(k, '(unset)'))}"
              for k in sorted(set(old) | set(new)) if old.get(k, _UNSET) != new.get(k, _UNSET)]
    if differ:
        say(f"resume: the training envs are built with other settings than {ckpt.name} recorded ({'; '.join(differ)})")
