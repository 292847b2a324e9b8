"""Checkpoints: the policy in Hugging Face format plus everything needed to continue exactly.

A checkpoint is a directory ``<output_dir>/checkpoints/step_<N>/`` with ``model/`` (``save_pretrained``
of the model and tokenizer, loadable with ``AutoModelForCausalLM.from_pretrained``) and
``trainer_state.pt`` (optimizer, scheduler, step, data position, Python/NumPy/torch RNG states and the
config). It is written to a temporary directory, every file and directory is fsync'ed, and it is
renamed into place, so neither a crash nor a power loss mid-save leaves a half-written checkpoint that
``--resume`` would pick up. Temporary directories left by a process killed mid-save are removed by the
next save (and on resume): a complete checkpoint is always a ``step_*`` directory.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["save_checkpoint", "latest_checkpoint", "load_trainer_state", "rng_state", "set_rng_state", "list_checkpoints",
           "remove_stale_temporaries"]

_STEP_DIR = re.compile(r"^step_(\d+)$")


def rng_state() -> dict[str, Any]:
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def list_checkpoints(output_dir: str | Path) -> list[tuple[int, Path]]:
    """Complete checkpoints under ``output_dir/checkpoints``, oldest first."""
    root = Path(output_dir) / "checkpoints"
    if not root.is_dir():
        return []
    found = []
    for p in root.iterdir():
        m = _STEP_DIR.match(p.name)
        if m and (p / "trainer_state.pt").is_file():
            found.append((int(m.group(1)), p))
    return sorted(found)


def latest_checkpoint(output_dir: str | Path) -> Path | None:
    found = list_checkpoints(output_dir)
    return found[-1][1] if found else None


def remove_stale_temporaries(output_dir: str | Path) -> list[Path]:
    """Delete the ``.tmp-step_*`` / ``.old-step_*`` directories a killed save left behind (each is
    model-sized); returns what was removed. Only one process writes a run's checkpoints, so outside a
    save none of them is in use."""
    root = Path(output_dir) / "checkpoints"
    if not root.is_dir():
        return []
    stale = [p for p in root.iterdir() if p.name.startswith((".tmp-step_", ".old-step_"))]
    for p in stale:
        shutil.rmtree(p, ignore_errors=True)
    return stale


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


def save_checkpoint(
    output_dir: str | Path,
    step: int,
    *,
    model: Any,
    tokenizer: Any,
    state: dict[str, Any],
    keep_last: int = 2,
) -> Path:
    """Write checkpoint ``step`` atomically and durably and prune all but the ``keep_last`` newest."""
    root = Path(output_dir) / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(output_dir)
    final = root / f"step_{step:06d}"
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-step_{step:06d}-", dir=root))
    try:
        model.save_pretrained(tmp / "model", safe_serialization=True)
        if tokenizer is not None:
            tokenizer.save_pretrained(tmp / "model")
        torch.save(state, tmp / "trainer_state.pt")
        _fsync_tree(tmp)
        if final.exists():  # re-saving the same step: move the old one aside first
            old = root / f".old-{final.name}"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, final)
        _fsync_dir(root)  # the rename itself is durable before older checkpoints are pruned
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for _, path in list_checkpoints(output_dir)[:-keep_last]:
        shutil.rmtree(path, ignore_errors=True)
    return final


def load_trainer_state(checkpoint: str | Path) -> dict[str, Any]:
    path = Path(checkpoint) / "trainer_state.pt"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: {checkpoint} is not a complete rlvr checkpoint")
    return torch.load(path, map_location="cpu", weights_only=False)
