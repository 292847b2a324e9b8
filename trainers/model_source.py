"""Where a model to load is named: checks made before transformers is asked.

`rlvr train` (`model.name_or_path`), `rlvr eval --model` and `rlvr serve --model` take a folder
written by `save_pretrained`, a hub id or "tiny". Two mistakes are common and transformers reports
them badly: a path that does not exist ("Repo id must be in the form 'repo_name'...", as it is then
taken for a hub id) and an rlvr checkpoint folder given instead of its `model/` subfolder (a
tokenizer error about sentencepiece), or the training run's folder itself (its config.json is the run's, not
a model's). `model_path_problem` names them in words a user can act on.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable


def looks_like_path(name: str) -> bool:
    """Whether `name` is meant as a folder, not a hub id: it starts with ./ ../ / or ~, or has more
    separators than a hub id's one `org/name`."""
    seps = name.count("/") + (name.count(os.sep) if os.sep != "/" else 0)
    return name.startswith(("./", "../", "/", "~", ".\\", "..\\")) or seps > 1


def model_path_problem(name: str) -> tuple[str, str | None] | None:
    """(what is wrong, the name to use instead or None) for a model name that cannot be loaded as it
    is, found without loading anything; None when nothing is known to be wrong."""
    folder = Path(name).expanduser()
    if looks_like_path(name) and not folder.is_dir():
        return f"no such folder ({folder.absolute()})", None
    if folder.is_dir() and (folder / "trainer_state.pt").is_file() and (folder / "model").is_dir():
        return "an rlvr checkpoint folder, whose model is in its model/ subfolder", str(folder / "model")
    if folder.is_dir() and (folder / "config.json").is_file() and (folder / "checkpoints").is_dir():
        return _run_folder_problem(folder)
    return None


def _run_folder_problem(folder: Path) -> tuple[str, str | None] | None:
    """For a folder holding an rlvr training run (its config.json the run's, checkpoints/ beside):
    what it is and the model/ folder of its latest checkpoint (None when it has none yet)."""
    from rlvr.trainers.checkpoint import latest_checkpoint
    from rlvr.trainers.runs import foreign_config

    if foreign_config(folder) is not None:  # a model's config.json: a model folder that has a checkpoints/
        return None
    ckpt = latest_checkpoint(folder)
    if ckpt is None or not (ckpt / "model").is_dir():
        return "an rlvr training run's folder with no checkpoint holding a model yet", None
    return "an rlvr training run's folder, whose models are in its checkpoints", str(ckpt / "model")


def model_path_error(name: str, shown: Callable[[str], str]) -> str | None:
    """The message for a model name that cannot be loaded as it is (`model_path_problem`), or None;
    `shown(value)` writes the setting the way the command takes it (`--model 'x'`,
    `model.name_or_path='x'`)."""
    problem = model_path_problem(name)
    if problem is None:
        return None
    what, instead = problem
    if instead is not None:
        return f"{shown(name)} is {what}: use {shown(instead)}"
    return f"{shown(name)}: {what}; give a folder written by save_pretrained, a hub id (org/name) or 'tiny'"
