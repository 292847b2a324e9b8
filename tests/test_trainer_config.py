"""Config validation: every bad value is a ConfigError naming the key, before anything is built."""

from __future__ import annotations

import pytest

from rlvr.trainers.config import ConfigError, config_changes, config_to_dict, load_config, resume_mutable


@pytest.mark.parametrize("override, key", [
    ("algorithm.eps_low=nan", r"algorithm\.eps_low must be a finite number"),
    ("algorithm.kl_coef=.nan", r"algorithm\.kl_coef must be a finite number"),
    ("sampling.temperature=nan", r"sampling\.temperature must be a finite number"),
    ("train.lr=.nan", r"train\.lr must be a finite number"),
    ("algorithm.overlong_coef=.inf", r"algorithm\.overlong_coef must be a finite number"),
    ("train.max_grad_norm=inf", r"train\.max_grad_norm must be a finite number"),
    ("warmup.mistake_rate=nan", r"warmup\.mistake_rate must be a finite number"),
    ("algorithm.dual_clip=nan", r"algorithm\.dual_clip"),
])
def test_non_finite_numbers_are_rejected_naming_the_key(override, key):
    # every comparison with NaN is False, so the range checks let it through: eps_low=nan trained
    # with 0 optimizer steps, kl_coef=nan meant "no KL"
    with pytest.raises(ConfigError, match=key):
        load_config(None, [override])


def test_duplicate_yaml_keys_are_rejected_naming_the_key(tmp_path):
    two_sections = tmp_path / "two.yaml"
    two_sections.write_text("train:\n  total_steps: 500\n  seed: 7\neval:\n  num_tasks: 4\ntrain:\n  total_steps: 100\n")
    with pytest.raises(ConfigError, match=r"duplicate key 'train' on line 6 \(first on line 1\)"):
        load_config(two_sections)
    twice = tmp_path / "twice.yaml"
    twice.write_text("train:\n  lr: 1.0e-6\n  lr: 1.0e-5\n")
    with pytest.raises(ConfigError, match=r"duplicate key 'lr' on line 3 \(first on line 2\)"):
        load_config(twice)


def test_an_empty_section_means_its_defaults(tmp_path):
    p = tmp_path / "empty_section.yaml"
    p.write_text("train:\n  total_steps: 3\neval:\n  # num_tasks: 10\n")
    cfg = load_config(p)
    assert cfg.train.total_steps == 3 and cfg.eval.num_tasks == 0


@pytest.mark.parametrize("override, message", [
    ("train.beta1=1.5", r"train\.beta1 must be in \[0, 1\)"),
    ("train.beta2=-3", r"train\.beta2 must be in \[0, 1\)"),
    ("model.device=gpu", r"model\.device: 'gpu' is not a torch device"),
    ("warmup.mistake=off_by_two", r"warmup\.mistake: 'off_by_two' .*did you mean 'off_by_one'"),
    ("warmup.batch_size=0", r"warmup\.batch_size must be >= 1"),
    ("warmup.mistake_rate=5", r"warmup\.mistake_rate must be in \[0, 1\]"),
    ("warmup.mistake_rate=-1", r"warmup\.mistake_rate must be in \[0, 1\]"),
    ("eval.offset=-5", r"eval\.offset must be >= 0"),
    ("env.train_offset=-1", r"env\.train_offset must be >= 0"),
    ("log.output_dir=2024", r"log\.output_dir must be a string, got the number 2024; quote it"),
])
def test_values_that_used_to_fail_late_are_config_errors(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, [override])


def test_valid_devices_and_edge_values_pass():
    for device in ("auto", "cpu", "cuda", "cuda:1"):
        assert load_config(None, [f"model.device={device}"]).model.device == device
    cfg = load_config(None, ["train.beta1=0", "warmup.mistake_rate=1", "warmup.mistake=drop_carry"])
    assert cfg.train.beta1 == 0.0 and cfg.warmup.mistake_rate == 1.0


def test_vllm_engine_needs_a_real_model():
    with pytest.raises(ConfigError, match=r"engine\.name=vllm needs a real model"):
        load_config(None, ["engine.name=vllm"])


def test_config_changes_and_the_resume_whitelist():
    old = config_to_dict(load_config(None, []))
    new = config_to_dict(load_config(None, ["train.lr=1e-4", "env.kwargs={digits: 3}", "log.save_every=5", "eval.num_tasks=8"]))
    changes = config_changes(old, new)
    assert changes == {"train.lr": (1e-5, 1e-4), "env.kwargs": ({}, {"digits": 3}), "log.save_every": (0, 5),
                       "eval.num_tasks": (0, 8)}
    assert [k for k in changes if not resume_mutable(k)] == ["env.kwargs"]
    assert resume_mutable("train.total_steps") and not resume_mutable("train.seed")
    # a setting the saved config does not know (an older rlvr) is not a change
    del old["train"]["infra_retries"]
    assert "train.infra_retries" not in config_changes(old, new)
