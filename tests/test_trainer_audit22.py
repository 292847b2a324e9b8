"""Trainer: what a review found (a failed evaluation forgotten on resume, stop strings unchecked
until the engine was built, `masked_whiten(shift_mean=False)` dividing equal values by eps)."""

from __future__ import annotations

import json

import pytest
import torch

import rlvr
from rlvr.trainers.advantages import masked_whiten
from rlvr.trainers.checkpoint import latest_checkpoint
from rlvr.trainers.config import ConfigError, load_config
from rlvr.trainers.trainer import Trainer

rlvr.register("rlvr/SayADigitAudit-v0", generator=lambda rng: {"question": f"7+{int(rng.integers(10**5, 10**6))}=", "answer": "8"},
              verifier=lambda gold, completion: float(any(c.isdigit() for c in completion)), force=True)


def config(out, steps):
    return load_config(None, [f"log.output_dir={out}", "log.progress=false", "log.tensorboard=false", "log.plot=false",
                              "env.id=rlvr/SayADigitAudit-v0", "sampling.max_new_tokens=4", "train.batch_groups=2",
                              "train.group_size=2", "model.tiny_hidden_size=32", "model.tiny_layers=1",
                              "eval.num_tasks=2", "eval.every=1", "log.save_every=1", f"train.total_steps={steps}"])


def test_a_failed_evaluation_is_still_reported_after_a_resume(tmp_path, monkeypatch):
    real = Trainer.evaluate

    def down_at_step_1(self, *args, **kwargs):
        if self.step_count == 1:
            raise RuntimeError("eval server down")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "evaluate", down_at_step_1)
    first = Trainer(config(tmp_path, 2))
    assert first.train()["eval_errors"] == {"1": "RuntimeError: eval server down"}
    first.close()
    assert json.loads((latest_checkpoint(tmp_path) / "eval_errors.json").read_text()) == {"1": "RuntimeError: eval server down"}
    resumed = Trainer(config(tmp_path, 3), resume=True)
    summary = resumed.train()
    resumed.close()
    # `rlvr train` exits 1 on eval_errors: the resumed run must not pass for a clean one
    assert summary["eval_errors"] == {"1": "RuntimeError: eval server down"}
    assert json.loads((tmp_path / "summary.json").read_text())["eval_errors"] == {"1": "RuntimeError: eval server down"}


@pytest.mark.parametrize("stop", ["[5]", "['']", "[null]", "[a, 5]"])
def test_stop_strings_are_checked_with_the_config(stop):
    with pytest.raises(ConfigError, match=r"sampling\.stop must be a list of non-empty strings"):
        load_config(None, [f"sampling.stop={stop}"])
    assert load_config(None, ["sampling.stop=['</answer>', '5']"]).sampling.stop == ["</answer>", "5"]


def test_masked_whiten_without_shifting_the_mean():
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    # mean 2, population std sqrt(2/3): (v - 2) / std + 2
    got = masked_whiten(torch.tensor([[1.0, 2.0, 3.0, 9.0]]), mask, eps=0.0, shift_mean=False)
    step = 1 / (2 / 3) ** 0.5
    assert torch.allclose(got, torch.tensor([[2 - step, 2.0, 2 + step, 0.0]]))
    # equal values: no spread to scale, they come back as they are (were divided by eps: 5e6)
    assert torch.equal(masked_whiten(torch.tensor([[5.0, 5.0, 5.0, 1.0]]), mask, shift_mean=False),
                       torch.tensor([[5.0, 5.0, 5.0, 0.0]]))
    assert torch.equal(masked_whiten(torch.tensor([[5.0, 5.0, 5.0, 1.0]]), mask), torch.zeros(1, 4))
