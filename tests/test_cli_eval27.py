"""`rlvr eval --engine E` refuses the options only another engine uses (exit 2, naming the option and
its engine) instead of silently ignoring them; the options an engine uses still pass the checks.

The refusal comes from the argument checks, before --out is created, a model loaded or a server
contacted: the --model and --base-url below exist nowhere, and the tests check --out stays absent."""

from __future__ import annotations

import pytest

from rlvr.cli import main

MODEL = {"hf": ["--model", "/nonexistent/model"], "vllm": ["--model", "/nonexistent/model"], "openai": []}


def _eval(engine: str, out, *options: str) -> int:
    return main(["eval", "--benchmark", "gsm8k", "--engine", engine, *MODEL[engine], "--out", str(out),
                 "--no-progress", *options])


@pytest.mark.parametrize("engine, option, value, owner", [
    *[(engine, option, value, "only openai uses it")
      for engine in ("hf", "vllm")
      for option, value in [("--base-url", "http://127.0.0.1:9/v1"), ("--api-key", "k"), ("--concurrency", "4"),
                            ("--timeout", "5")]],
    ("vllm", "--device", "cpu", "only hf uses it"),
    ("openai", "--device", "cpu", "only hf uses it"),
    ("openai", "--dtype", "bfloat16", "only hf and vllm use it"),
])
def test_an_option_of_another_engine_is_refused_naming_it(tmp_path, capsys, engine, option, value, owner):
    out = tmp_path / "run"
    assert _eval(engine, out, option, value) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rlvr eval: --engine {engine} does not use {option} ({owner}), so it would be ignored: "
                          f"drop it, or sample with --engine ")
    assert not out.exists()  # refused with the option checks, before anything is created or loaded


def test_an_option_given_at_its_default_value_is_refused_too(tmp_path, capsys):
    # --concurrency 8 and --dtype auto are the defaults: given, they show the user meant them
    assert _eval("hf", tmp_path / "a", "--concurrency", "8") == 2
    assert "--engine hf does not use --concurrency (only openai uses it)" in capsys.readouterr().err
    assert _eval("openai", tmp_path / "b", "--dtype", "auto") == 2
    assert "--engine openai does not use --dtype (only hf and vllm use it)" in capsys.readouterr().err


def test_all_the_misplaced_options_are_named_with_their_engines(tmp_path, capsys):
    assert _eval("hf", tmp_path / "a", "--base-url", "http://x/v1", "--concurrency", "4", "--timeout", "5",
                 "--api-key", "k") == 2
    assert capsys.readouterr().err == ("rlvr eval: --engine hf does not use --base-url, --concurrency, --timeout, "
                                       "--api-key (only openai uses them), so they would be ignored: drop them, or "
                                       "sample with --engine openai\n")
    assert _eval("vllm", tmp_path / "b", "--device", "cpu", "--api-key", "k") == 2
    assert capsys.readouterr().err == ("rlvr eval: --engine vllm does not use --device (only hf uses it) and --api-key "
                                       "(only openai uses it), so they would be ignored: drop them, or sample with "
                                       "the engine each belongs to\n")


@pytest.mark.parametrize("engine, options", [
    ("hf", ["--device", "cpu", "--dtype", "float32", "--seed", "1", "--system-prompt", "hi", "--max-turns", "2"]),
    ("hf", []),  # the openai options' defaults (--base-url, --concurrency, --timeout) do not count
    ("vllm", ["--dtype", "bfloat16", "--seed", "1", "--max-tokens", "8"]),
    ("openai", ["--base-url", "http://127.0.0.1:9/v1", "--api-key", "k", "--concurrency", "2", "--timeout", "5",
                "--model", "served", "--seed", "1", "--max-turns", "2"]),
    ("openai", []),  # the defaults of --dtype and --device do not count
])
def test_the_options_an_engine_uses_pass_the_argument_checks(tmp_path, capsys, engine, options):
    # --out is a file: the last argument check refuses it, so every check before it passed
    out = tmp_path / "a-file"
    out.write_text("")
    assert _eval(engine, out, *options) == 2
    assert capsys.readouterr().err == (f"rlvr eval: --out {str(out)!r} is an existing file, not a folder; give a "
                                       f"folder path (it is created if missing)\n")
