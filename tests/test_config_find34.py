"""`rlvr train --config configs/NAME.yaml`, as the README writes it, from outside the repository:
the config shipped with rlvr is found, and a name that is not there is refused naming those that are."""
import os

import pytest

from rlvr.trainers.config import SHIPPED_CONFIGS, ConfigError, find_config, load_config


def test_a_shipped_config_is_found_from_another_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no configs/ here
    assert not os.path.exists("configs/demo.yaml")
    for name in ("configs/demo.yaml", "demo.yaml"):
        assert find_config(name) == SHIPPED_CONFIGS / "demo.yaml"
    cfg = load_config("configs/demo.yaml", ["train.total_steps=3"])
    assert cfg.train.total_steps == 3


def test_a_local_file_wins_over_the_shipped_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "configs").mkdir()
    own = tmp_path / "configs" / "demo.yaml"
    own.write_text("train:\n  total_steps: 7\n")
    assert find_config("configs/demo.yaml") == own.relative_to(tmp_path)
    assert load_config("configs/demo.yaml").train.total_steps == 7


def test_a_missing_config_names_the_shipped_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"'configs/nope.yaml' not found; the configs shipped with rlvr .*demo\.yaml"):
        load_config("configs/nope.yaml")
    # another folder's path is never replaced by a shipped config of the same name
    with pytest.raises(ConfigError, match="'elsewhere/demo.yaml' not found"):
        load_config("elsewhere/demo.yaml")
