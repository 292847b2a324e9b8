"""Checkpoints: the policy in Hugging Face format plus everything needed to continue exactly.

A checkpoint is a directory ``<output_dir>/checkpoints/step_<N>/`` with ``model/`` (``save_pretrained``
of the model and tokenizer, loadable with ``AutoModelForCausalLM.from_pretrained``) and
``trainer_state.pt`` (optimizer, scheduler, step, data position, Python/NumPy/torch RNG states and the
config). It is written to a temporary directory, every file and directory is fsync'ed, and it is
renamed into place, so neither a crash nor a power loss mid-save leaves a half-written checkpoint that
``--resume`` would pick up. Re-saving a step that exists moves the old copy aside, renames the new one
in and only then deletes the old one (a failed rename puts it back). Temporary directories left by a
process killed mid-save are removed by the next save (and on resume), except that an old copy moved
aside whose step is missing is put back: a complete checkpoint is always a ``step_*`` directory.
A model folder that checkpoints depend on (the run's KL reference) is written the same way
(:func:`save_model_folder`).
It gets the usual permissions (``0o777 & ~umask`` for directories, ``0o666 & ~umask`` for files), so
other users can read the model as they can the run's other outputs. (Only one process writes a run's
checkpoints: see :func:`~.runs.lock_output_dir`.)

``trainer_state.pt`` holds tensors and plain data only (the NumPy RNG state as a list) and is loaded
with ``torch.load(weights_only=True)``: unpickling it can run no code, so a crafted checkpoint is
refused (:class:`CheckpointError`) rather than executed. Checkpoints of earlier versions, whose NumPy
RNG state is an array, still load: NumPy arrays are the one type beyond those allowed.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import random
import re
import shlex
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["save_checkpoint", "latest_checkpoint", "load_trainer_state", "rng_state", "set_rng_state", "list_checkpoints",
           "remove_stale_temporaries", "restore_moved_aside", "damaged_checkpoint", "incomplete_checkpoints",
           "quiet_progress", "save_model_folder", "CheckpointError"]

_STEP_DIR = re.compile(r"^step_(\d+)$")
_OLD_DIR = re.compile(r"^\.old-(step_\d+)(-.*)?$")


class CheckpointError(RuntimeError):
    """A ``trainer_state.pt`` that cannot be loaded safely (it holds objects other than tensors and
    plain data), or a damaged checkpoint (:func:`damaged_checkpoint`)."""


def rng_state() -> dict[str, Any]:
    """The Python, NumPy and torch (and CUDA) RNG states, as plain data and tensors (what
    ``torch.load(weights_only=True)`` reads back)."""
    name, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": (name, keys.tolist(), int(pos), int(has_gauss), float(cached_gaussian)),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    name, keys, *rest = state["numpy"]  # (keys: a list, or an array in checkpoints of earlier versions)
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), *rest))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@contextlib.contextmanager
def quiet_progress():
    """Within the block, transformers shows no progress bars ("Writing model shards", "Loading
    weights"): they would break the run's own bar, and print even with ``log.progress=false``."""
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


def _complete(path: Path) -> bool:
    """Whether ``path`` has both parts of a checkpoint (a save renames them into place together)."""
    return (path / "trainer_state.pt").is_file() and (path / "model").is_dir()


def list_checkpoints(output_dir: str | Path) -> list[tuple[int, Path]]:
    """Complete checkpoints (``trainer_state.pt`` and ``model/``) under ``output_dir/checkpoints``,
    oldest first."""
    root = Path(output_dir) / "checkpoints"
    if not root.is_dir():
        return []
    found = []
    for p in root.iterdir():
        m = _STEP_DIR.match(p.name)
        if m and _complete(p):
            found.append((int(m.group(1)), p))
    return sorted(found)


def damaged_checkpoint(checkpoint: str | Path, problem: str) -> CheckpointError:
    """The error for a checkpoint that cannot be loaded (``problem`` says why): it names the
    checkpoint and the way out, moving it aside to resume from the previous complete one."""
    checkpoint = Path(checkpoint)
    out = checkpoint.parent.parent
    earlier = [p for _, p in list_checkpoints(out) if p.name < checkpoint.name]
    then = (f"--resume then continues from the previous complete checkpoint, {earlier[-1]}" if earlier else
            "there is no earlier checkpoint to resume from, so start afresh (--set log.overwrite=true)")
    move = shlex.join(["mv", str(checkpoint), str(out / f"broken-{checkpoint.name}")])
    return CheckpointError(f"the checkpoint {checkpoint} is damaged ({problem}) and cannot be loaded; move it "
                           f"aside ({move}): {then}")


def incomplete_checkpoints(output_dir: str | Path) -> list[Path]:
    """``step_*`` directories newer than the latest complete checkpoint that lack a part of one
    (``model/`` or ``trainer_state.pt``): what :func:`latest_checkpoint` passed over."""
    root = Path(output_dir) / "checkpoints"
    if not root.is_dir():
        return []
    latest = latest_checkpoint(output_dir)
    return sorted(p for p in root.iterdir() if _STEP_DIR.match(p.name) and p.is_dir() and not _complete(p)
                  and (latest is None or p.name > latest.name))


def latest_checkpoint(output_dir: str | Path) -> Path | None:
    found = list_checkpoints(output_dir)
    return found[-1][1] if found else None


def restore_moved_aside(output_dir: str | Path) -> list[Path]:
    """Rename back to ``step_N`` an ``.old-step_N-*`` directory (a complete checkpoint moved aside
    while step N was re-saved, by a process killed before the new copy was renamed in) whose
    ``step_N`` is missing; returns the checkpoints restored."""
    root = Path(output_dir) / "checkpoints"
    if not root.is_dir():
        return []
    restored = []
    for p in sorted(root.iterdir()):
        m = _OLD_DIR.match(p.name)
        if m and _complete(p) and not (root / m.group(1)).exists():
            os.replace(p, root / m.group(1))
            restored.append(root / m.group(1))
    return restored


def remove_stale_temporaries(output_dir: str | Path) -> list[Path]:
    """Delete the ``.tmp-step_*`` / ``.old-step_*`` directories a killed save left behind (each is
    model-sized); returns what was removed. An ``.old-step_N-*`` copy whose step is missing is put
    back first (:func:`restore_moved_aside`). Only one process writes a run's checkpoints (the run
    holds the output directory's lock, see :func:`~.runs.lock_output_dir`), so outside a save none
    of them is in use."""
    root = Path(output_dir) / "checkpoints"
    if not root.is_dir():
        return []
    restore_moved_aside(output_dir)
    stale = [p for p in root.iterdir() if p.name.startswith((".tmp-step_", ".old-step_"))]
    for p in stale:
        shutil.rmtree(p, ignore_errors=True)
    return stale


def _plain(obj: Any) -> Any:
    """``obj`` with NumPy scalars and arrays as Python numbers and lists (in dicts, lists and tuples),
    so that ``trainer_state.pt`` loads with ``weights_only=True`` whatever the trainer put in it."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if type(obj) is dict:
        return {k: _plain(v) for k, v in obj.items()}
    if type(obj) in (list, tuple):
        return type(obj)(_plain(v) for v in obj)
    return obj


def _umask() -> int:
    """The process's umask (read without changing it where ``/proc`` says it)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # pragma: no cover - systems without /proc
    os.umask(mask)
    return mask


def _chmod_tree(path: Path, umask: int) -> None:
    """The usual permissions for everything under ``path``: directories ``0o777 & ~umask``, files
    ``0o666 & ~umask``, as the run's other outputs (``mkdtemp`` makes a directory 0700, and
    ``save_pretrained`` writes the weights through a 0600 temporary file)."""
    for dirpath, _, filenames in os.walk(path):
        os.chmod(dirpath, 0o777 & ~umask)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o666 & ~umask)


def _fsync_tree(path: Path) -> None:
    """fsync every file under ``path`` and the directories themselves (data and names reach the disk)."""
    for dirpath, _, filenames in os.walk(path):
        for name in filenames:
            with open(os.path.join(dirpath, name), "rb") as f:
                os.fsync(f.fileno())
        _fsync_dir(Path(dirpath))


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some filesystems refuse fsync on directories
        pass
    finally:
        os.close(fd)


def _move_into_place(tmp: Path, final: Path) -> Path | None:
    """Make the folder ``tmp`` (a ``.tmp-*`` sibling of ``final``) durable and rename it to ``final``:
    usual permissions, every file and folder fsync'ed, the rename, then the parent fsync'ed. An
    existing ``final`` is moved aside first (never deleted first; put back if the rename fails) and
    returned, as ``.old-*``, for the caller to delete; None when there was none."""
    _chmod_tree(tmp, _umask())  # mkdtemp made it 0700 (and the weights are written 0600)
    _fsync_tree(tmp)
    old: Path | None = None
    if final.exists():
        old = final.parent / tmp.name.replace(".tmp-", ".old-", 1)
        os.replace(final, old)
    try:
        os.replace(tmp, final)
    except BaseException:
        if old is not None:
            os.replace(old, final)  # the old copy is back, complete
        raise
    _fsync_dir(final.parent)
    return old


def save_model_folder(model: Any, path: str | Path) -> Path:
    """``model.save_pretrained(path)`` written as a checkpoint is (:func:`save_checkpoint`): into a
    temporary sibling folder, fsync'ed, renamed into place and the parent fsync'ed, so that a crash
    or power loss leaves either the whole folder or none, never a half-written model that a
    checkpoint names. (The run's KL reference, ``<output_dir>/warmup_model``.) The temporaries a
    killed save left (``.tmp-<name>-*``, ``.old-<name>-*``) are removed first; a failed save removes
    its own and leaves ``path`` as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.iterdir():
        if stale.name.startswith((f".tmp-{path.name}-", f".old-{path.name}-")) and stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{path.name}-", dir=path.parent))
    try:
        with quiet_progress():
            model.save_pretrained(tmp, safe_serialization=True)
        old = _move_into_place(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return path


def save_checkpoint(
    output_dir: str | Path,
    step: int,
    *,
    model: Any,
    tokenizer: Any,
    state: dict[str, Any],
    keep_last: int = 2,
) -> Path:
    """Write checkpoint ``step`` atomically and durably and prune all but the ``keep_last`` newest.

    Re-saving a step that exists replaces it atomically too: the old copy is moved aside, the new one
    renamed in, and the old one deleted only then (put back if the rename fails)."""
    root = Path(output_dir) / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(output_dir)
    final = root / f"step_{step:06d}"
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-step_{step:06d}-", dir=root))
    try:
        with quiet_progress():
            model.save_pretrained(tmp / "model", safe_serialization=True)
        if tokenizer is not None:
            tokenizer.save_pretrained(tmp / "model")
        torch.save(_plain(state), tmp / "trainer_state.pt")
        old = _move_into_place(tmp, final)  # (durable before older checkpoints are pruned)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    for _, path in list_checkpoints(output_dir)[:-keep_last]:
        shutil.rmtree(path, ignore_errors=True)
    return final


#: What ``trainer_state.pt`` may hold beyond tensors and plain data: the NumPy RNG state of
#: checkpoints written by earlier versions (a uint32 array; NumPy 1 and NumPy 2 module paths).
try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # pragma: no cover - NumPy 1
    from numpy.core.multiarray import _reconstruct
_LEGACY_NUMPY_GLOBALS = [np.ndarray, np.dtype, *([np.dtypes.UInt32DType] if hasattr(np, "dtypes") else []),
                         (_reconstruct, "numpy._core.multiarray._reconstruct"),
                         (_reconstruct, "numpy.core.multiarray._reconstruct")]


def load_trainer_state(checkpoint: str | Path) -> dict[str, Any]:
    """``trainer_state.pt``, loaded with ``weights_only=True`` (tensors, plain data and NumPy arrays:
    no code runs, whoever wrote the file).

    Raises:
        FileNotFoundError: the checkpoint has no ``trainer_state.pt``.
        CheckpointError: the file holds other objects, which only a crafted file does, or it is
            damaged (truncated, empty: :func:`damaged_checkpoint`).
    """
    path = Path(checkpoint) / "trainer_state.pt"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: {checkpoint} is not a complete rlvr checkpoint")
    try:
        allowed = getattr(torch.serialization, "safe_globals", None)  # (torch >= 2.5; before, plain data only)
        with allowed(_LEGACY_NUMPY_GLOBALS) if allowed is not None else contextlib.nullcontext():
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights only" not in str(exc).lower():  # not a refused object: a file that is no checkpoint
            raise damaged_checkpoint(checkpoint, f"trainer_state.pt: {type(exc).__name__}: {exc}") from exc
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        what = f" ({found.group(1)})" if found else ""
        raise CheckpointError(
            f"{path} holds objects other than tensors and plain data{what}, which rlvr checkpoints never "
            "do; it was not loaded, since unpickling such objects can run arbitrary code (a crafted "
            "checkpoint). Resume only from a checkpoint written by rlvr, or start afresh"
        ) from exc
    except (RuntimeError, EOFError, OSError, ValueError) as exc:  # a truncated or empty file
        reason = " ".join(str(exc).split()[:12]) or "the file is empty or truncated"
        raise damaged_checkpoint(checkpoint, f"trainer_state.pt: {type(exc).__name__}: {reason}") from exc
