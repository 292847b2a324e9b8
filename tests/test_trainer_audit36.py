"""Session 36: a setting that chooses nothing on finite data is said, not silently dropped."""

from __future__ import annotations

import warnings

import pytest

import rlvr
from rlvr.trainers.config import ConfigWarning, load_config
from rlvr.trainers.trainer import Trainer


def _config(out, *extra):
    return load_config(None, [f"log.output_dir={out}", "log.progress=false", "log.tensorboard=false",
                              "model.tiny_hidden_size=32", "model.tiny_layers=1", "train.total_steps=1",
                              "train.group_size=2", "train.batch_groups=2", "sampling.max_new_tokens=4", *extra])


@pytest.fixture(scope="module")
def ten_tasks():
    rlvr.register("rlvr/Audit36TenTasks-v0", dataset=[{"question": f"{i}+0=", "answer": str(i)} for i in range(10)],
                  verifier=lambda gold, completion: float(completion.strip() == gold), force=True)
    return "rlvr/Audit36TenTasks-v0"


def _held_out(cfg):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer = Trainer(cfg)
    try:
        return trainer.eval_indices, [str(w.message) for w in caught if issubclass(w.category, ConfigWarning)]
    finally:
        trainer.close()


def test_eval_offset_on_a_finite_dataset_is_warned_about_not_silently_ignored(tmp_path, ten_tasks):
    # the held-out tasks of a dataset are its tail: eval.offset, which places a procedural env's, chooses nothing
    indices, said = _held_out(_config(tmp_path / "a", f"env.id={ten_tasks}", "eval.num_tasks=2", "eval.offset=3"))
    assert list(indices) == [8, 9]
    assert any("eval.offset=3 is ignored" in text and "the last 2 of the training dataset's tasks" in text
               for text in said), said
    # left at its default it says nothing
    indices, said = _held_out(_config(tmp_path / "b", f"env.id={ten_tasks}", "eval.num_tasks=2"))
    assert list(indices) == [8, 9] and not any("eval.offset" in text for text in said), said


def test_eval_offset_still_places_a_procedural_envs_held_out_tasks_without_a_warning(tmp_path):
    indices, said = _held_out(_config(tmp_path, "eval.num_tasks=2", "eval.offset=2000000"))
    assert list(indices)[0] == 2000000 and not any("eval.offset" in text for text in said), said
