"""Red team 41: `rlvr eval --temperature 0 --n N` (N > 1) drew N identical greedy samples per problem
and reported pass@k, maj@k and pass^k for k up to N over them, with no warning: pass@k's unbiased
estimator assumes independent samples, so every metric for k > 1 was pass@1 under another name, at N
times the compute. The CLI now refuses the combination (exit 2, before any model is loaded or --out
is touched), and so does the library's entry point (`evaluate_engine` / `prepare_engine_run`, a
ValueError); a folder of greedy samples drawn with --n 1 resumes as before, and the note on a grown
--n no longer advises passing --temperature 0 (which is now refused)."""

from __future__ import annotations

import json

import pytest

from rlvr.benchmarks.evaluate import evaluate_engine
from rlvr.benchmarks.samples import write_sample
from rlvr.cli import main
from rlvr.commands.serve import ChatCompletionServer
from rlvr.trainers.hf_chat import HFChatEngine
from rlvr.trainers.openai_engine import OpenAIEngine
from rlvr.trainers.tiny import build_tiny_model, build_tiny_tokenizer

GREEDY = "--temperature 0 (greedy decoding) gives every one of the --n 4 samples of a problem the same answer"


@pytest.fixture(scope="module")
def gsm8k(tmp_path_factory):
    return write_sample("gsm8k", str(tmp_path_factory.mktemp("data") / "gsm8k.jsonl"))


@pytest.fixture(scope="module")
def engine():
    tok = build_tiny_tokenizer("chatml")
    return HFChatEngine(build_tiny_model(tok, seed=0), tok), tok


def _eval(gsm8k, out, *extra):
    return main(["eval", "--benchmark", "gsm8k", "--data", gsm8k, "--max-tokens", "2", "--limit", "2", "--seed", "1",
                 "--out", str(out), "--no-progress", *extra])


def _hf(gsm8k, out, *extra):
    return _eval(gsm8k, out, "--engine", "hf", "--model", "tiny", "--device", "cpu", *extra)


def test_the_cli_refuses_greedy_decoding_with_several_samples_before_anything_is_loaded(tmp_path, gsm8k, capsys):
    out = tmp_path / "o"
    assert _hf(gsm8k, out, "--temperature", "0", "--n", "4") == 2
    err = capsys.readouterr().err
    assert GREEDY in err and "pass@1 under other names" in err
    assert "use --n 1, or sample with --temperature > 0 (e.g. 0.6)" in err
    assert not out.exists()  # refused before --out was created, so before the model was loaded
    # the openai engine too, before its server is asked anything (nothing listens on this port)
    assert _eval(gsm8k, out, "--engine", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model", "m",
                 "--temperature", "0.0", "--n", "4", "--k", "1") == 2
    err = capsys.readouterr().err
    assert GREEDY in err and "cannot use the server" not in err and not out.exists()
    # unchanged: --n 4 without --temperature samples at 0.6, and --temperature 0 with --n 1 runs
    assert _hf(gsm8k, out, "--n", "4") == 0
    assert json.loads((out / "summary.json").read_text())["settings"]["temperature"] == 0.6
    assert _hf(gsm8k, tmp_path / "g", "--temperature", "0") == 0


def test_a_greedy_folder_resumes_and_growing_it_is_not_advised_at_temperature_0(tmp_path, gsm8k, capsys):
    out = tmp_path / "o"
    assert _hf(gsm8k, out) == 0  # --n 1: greedy by default
    assert _hf(gsm8k, out, "--temperature", "0") == 0  # the same run, resumed: unaffected
    capsys.readouterr()
    assert _hf(gsm8k, out, "--n", "4") == 2  # the default 0.6 differs from the folder's 0.0
    err = capsys.readouterr().err
    assert "temperature: 0.0 -> 0.6" in err and "No --temperature was given" in err
    # was "Pass --temperature 0.0 to add samples drawn as those were": advice now refused
    assert "Pass --temperature" not in err
    assert "greedily: more samples at temperature 0 would repeat their answers" in err
    assert "Use a new --out to sample --n 4 at 0.6" in err
    assert _hf(gsm8k, out, "--n", "4", "--temperature", "0") == 2  # following the old advice
    assert GREEDY in capsys.readouterr().err
    assert len((out / "samples.jsonl").read_text().splitlines()) == 2  # the folder's greedy samples, kept


@pytest.mark.parametrize("level", ["token", "chat"])
def test_the_library_refuses_greedy_decoding_with_several_samples(engine, tmp_path, gsm8k, level):
    model, tok = engine
    out = tmp_path / "o"

    def run(folder=out, **kwargs):
        settings = dict(data=gsm8k, limit=2, max_tokens=2, seed=0, progress=False, verbose=False, **kwargs)
        if level == "token":
            return evaluate_engine("gsm8k", model, str(folder), tokenizer=tok, engine_name="hf", model_name="tiny",
                                   **settings)
        with ChatCompletionServer(model, "m", "127.0.0.1", 0) as srv:
            return evaluate_engine("gsm8k", OpenAIEngine(srv.url), str(folder), engine_name="openai", model_name="m",
                                   **settings)

    with pytest.raises(ValueError, match="greedy decoding") as caught:
        run(n=4, ks=[1, 2, 4], temperature=0.0)
    assert GREEDY in str(caught.value) and "--temperature > 0" in str(caught.value)
    assert not out.exists()  # nothing written, nothing sampled
    with pytest.raises(ValueError, match="greedy decoding"):
        run(n=2, ks=[1], temperature=0)  # k = 1 alone too: the second sample is the first again
    # one greedy sample, or several sampled ones, run as before
    assert run(n=1, ks=[1], temperature=0.0)["counts"]["samples"] == 2
    assert run(tmp_path / "s", n=2, ks=[1, 2], temperature=0.6)["counts"]["samples"] == 4
