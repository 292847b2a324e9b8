"""Config audit 38: warm-up settings that take effect in no part of the run are warned about.

1. ``warmup.mistake`` without a ``warmup.mistake_rate`` (it defaults to 0) changed no target, and a
   rate without a mistake neither; with ``warmup.steps=0`` every other ``warmup.*`` key does nothing.
   Each loaded silently; each is now a :class:`ConfigWarning` naming the keys, as ``eval.every``
   with ``eval.num_tasks=0`` is.
2. ``train.warmup_steps >= train.total_steps`` was accepted silently, though the learning rate then
   ramps up for the whole run and never reaches ``train.lr`` (a warning, not an error: ``--resume``
   may raise ``train.total_steps``).
"""

from __future__ import annotations

import warnings

import pytest

from rlvr.trainers.config import ConfigWarning, load_config
from rlvr.trainers.policy import lr_lambda


@pytest.mark.parametrize("overrides, message", [
    (["warmup.steps=10", "warmup.mistake=off_by_one"],
     r"warmup\.mistake=off_by_one does nothing: warmup\.mistake_rate is 0"),
    (["warmup.steps=10", "warmup.mistake_rate=0.5"],
     r"warmup\.mistake_rate=0\.5 does nothing: warmup\.mistake is null .*drop_carry, off_by_one"),
    (["warmup.lr=0.5"], r"^warmup\.lr=0\.5 does nothing: warmup\.steps is 0"),
    (["warmup.mistake=drop_carry", "warmup.mistake_rate=0.9", "warmup.batch_size=8"],
     r"^warmup\.batch_size=8, warmup\.mistake=drop_carry, warmup\.mistake_rate=0\.9 do nothing: warmup\.steps is 0"),
])
def test_warm_up_settings_that_change_nothing_are_warned_about(overrides, message):
    with pytest.warns(ConfigWarning, match=message):
        load_config(None, overrides)


def test_the_demo_config_with_its_warm_up_switched_off_names_its_warm_up_keys():
    with pytest.warns(ConfigWarning, match=r"warmup\.mistake=off_by_one, warmup\.mistake_rate=0\.9 do nothing: "
                                           r"warmup\.steps is 0"):
        load_config("configs/demo.yaml", ["warmup.steps=0"])


@pytest.mark.parametrize("overrides, message", [
    (["train.total_steps=10", "train.warmup_steps=100", "train.lr_scheduler=cosine"],
     r"train\.warmup_steps=100 >= train\.total_steps=10: .*train\.lr=1e-05 is never reached "
     r"\(the last step trains at 0\.1 x train\.lr\), and the cosine decay never starts"),
    (["train.total_steps=5", "train.warmup_steps=5"],
     r"train\.warmup_steps=5 >= train\.total_steps=5: .*is reached only on the last step; "),
])
def test_a_learning_rate_warm_up_as_long_as_the_run_is_warned_about(overrides, message):
    with pytest.warns(ConfigWarning, match=message):
        cfg = load_config(None, overrides)
    t = cfg.train
    f = lr_lambda(t.lr_scheduler, t.warmup_steps, t.total_steps)  # what the warning says of the schedule
    assert max(f(step) for step in range(t.total_steps)) == pytest.approx(min(1.0, t.total_steps / t.warmup_steps))


@pytest.mark.parametrize("path, overrides", [
    (None, []), ("configs/demo.yaml", []), ("configs/gsm8k_qwen2.5_0.5b_vllm.yaml", []),
    (None, ["warmup.steps=10", "warmup.mistake=off_by_one", "warmup.mistake_rate=0.5", "warmup.lr=0.01"]),
    (None, ["warmup.steps=10", "warmup.mistake_rate=0"]),
    (None, ["train.total_steps=10", "train.warmup_steps=9", "train.lr_scheduler=cosine"]),
])
def test_warm_ups_in_use_or_left_at_their_defaults_are_not_warned_about(path, overrides):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConfigWarning)
        load_config(path, overrides)
