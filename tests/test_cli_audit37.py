"""Audit 37 of the first hour with the CLI.

1. A config file that holds nothing (empty, or comments only) is refused, as other non-mappings
   are: it used to start a full run on the defaults without a word.
2. `rlvr sandbox run` and `rlvr sandbox build-image` errors name their command, as every other
   command's do, so they can be found in mixed logs.
"""

from __future__ import annotations

import pytest

from rlvr.cli import main
from rlvr.trainers.config import ConfigError, load_config


@pytest.mark.parametrize("text", ["", "# nothing set yet\n", "\n\n"])
def test_an_empty_config_file_is_refused(tmp_path, text):
    path = tmp_path / "run.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"run\.yaml is empty: it must hold a mapping of sections"):
        load_config(path)


def test_an_empty_config_file_is_a_clear_error_of_rlvr_train(tmp_path, capsys):
    path = tmp_path / "run.yaml"
    path.write_text("")
    assert main(["train", "--config", str(path), "--set", f"log.output_dir={tmp_path / 'out'}"]) == 2
    err = capsys.readouterr().err
    assert "is empty" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()  # no run started


def test_the_defaults_need_no_config_file():
    assert load_config(None).env.id == load_config(None).env.id  # still loads, with no file


def test_sandbox_run_errors_name_the_command(tmp_path, capsys):
    assert main(["sandbox", "run", str(tmp_path / "missing.py"), "--backend", "subprocess"]) == 2
    assert capsys.readouterr().err.startswith(f"rlvr sandbox run: error: cannot read program {str(tmp_path / 'missing.py')!r}")
