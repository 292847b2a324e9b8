"""`rlvr eval`: --seed range-checked up front (the seeds a run derives from it included), an
unexpected error mid-run not reported as bad input, the model named when the server lists several,
and a tool call made in an env without tools kept in samples.jsonl and counted."""

from __future__ import annotations

import json

import pytest

from conftest import ScriptedChatServer, read_rows
from rlvr.benchmarks import evaluate
from rlvr.benchmarks.samples import write_sample
from rlvr.cli import main

#: The largest seed a run may send (`rlvr.benchmarks.evaluate.MAX_SEED`): a signed 64-bit int's.
MAX_SEED = 2**63 - 1


def _chat(content: str, tool_calls: list | None = None):
    """An answer function for `ScriptedChatServer`: every choice says `content` (with `tool_calls`)."""
    def answer(body):
        message = {"role": "assistant", "content": content, **({"tool_calls": tool_calls} if tool_calls else {})}
        choices = [{"index": i, "message": message, "finish_reason": "tool_calls" if tool_calls else "stop"}
                   for i in range(body.get("n", 1))]
        return 200, {"id": "x", "object": "chat.completion", "model": body["model"], "choices": choices,
                     "usage": {"prompt_tokens": 1, "completion_tokens": 1}}
    return answer


def _listing(server: ScriptedChatServer, names: list[str]) -> None:
    """Make `server` answer GET /models with `names`, in that order."""
    def do_GET(handler):
        data = json.dumps({"object": "list", "data": [{"id": n, "object": "model"} for n in names]}).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
    server.httpd.RequestHandlerClass.do_GET = do_GET


def _gsm8k(tmp_path) -> tuple[str, int]:
    """The gsm8k sample data and its number of problems (N, in the seeds `seed + j*N + t`)."""
    path = write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl"))
    with open(path) as handle:
        return path, sum(1 for _ in handle)


def _openai_eval(url: str, data: str, out, *extra: str) -> list[str]:
    return ["eval", "--benchmark", "gsm8k", "--data", data, "--engine", "openai", "--base-url", url,
            "--max-tokens", "4", "--timeout", "30", "--out", str(out), "--no-progress", *extra]


# ---------------------------------------------------------------------------------- 1: --seed range


@pytest.mark.parametrize("seed", ["18446744073709551615", "-1", str(MAX_SEED + 1)])
def test_a_seed_out_of_range_is_refused_before_anything_is_loaded_or_written(tmp_path, capsys, seed):
    data, _ = _gsm8k(tmp_path)
    out = tmp_path / "out"
    status = main(["eval", "--benchmark", "gsm8k", "--data", data, "--engine", "hf", "--model", "tiny", "--device",
                   "cpu", "--n", "2", "--limit", "2", "--max-tokens", "2", "--seed", seed, "--out", str(out),
                   "--no-progress"])
    assert status == 2
    assert f"--seed must be between 0 and {MAX_SEED} (2**63 - 1), got {seed}" in capsys.readouterr().err
    assert not out.exists()


def test_a_seed_whose_derived_seeds_overflow_is_refused_before_out_is_made(tmp_path, capsys):
    """--seed + (n-1)*N + (problems - 1), the largest seed the run would send, must fit too: one
    past it is refused (exit 2, no folder, no request), naming the largest --seed that fits."""
    data, size = _gsm8k(tmp_path)
    largest_base = MAX_SEED - (1 * size + 2 - 1)  # --n 2, --limit 2
    with ScriptedChatServer(_chat("\\boxed{1}")) as server:
        out = tmp_path / "over"
        status = main(_openai_eval(server.url, data, out, "--model", "m", "--n", "2", "--limit", "2",
                                   "--seed", str(largest_base + 1)))
        err = capsys.readouterr().err
        assert status == 2, err
        assert f"--seed {largest_base + 1} is too large for this run" in err
        assert f"--seed must be between 0 and {largest_base}" in err
        assert not out.exists() and server.requests == []


def test_the_largest_seed_that_fits_runs_and_sends_seeds_up_to_the_limit(tmp_path, capsys):
    data, size = _gsm8k(tmp_path)
    largest_base = MAX_SEED - (1 * size + 2 - 1)
    with ScriptedChatServer(_chat("\\boxed{1}")) as server:
        status = main(_openai_eval(server.url, data, tmp_path / "fits", "--model", "m", "--n", "2", "--limit", "2",
                                   "--seed", str(largest_base)))
        assert status == 0, capsys.readouterr().err
        assert max(body["seed"] for body in server.requests) == MAX_SEED


# ---------------------------------------------------------------------------------- 1b: errors mid-run


def test_an_unexpected_error_mid_run_is_not_reported_as_bad_input(tmp_path, capsys, monkeypatch):
    """A ValueError raised after samples were saved (a fault, injected into the saving of the second
    engine call's row) exits 1 with its traceback and what is saved, not 2 ("nothing scored")."""
    data, _ = _gsm8k(tmp_path)
    row = evaluate._trajectory_row
    made = []

    def fails_second(*args, **kwargs):
        made.append(1)
        if len(made) == 2:
            raise ValueError("a fault in the middle of the run")
        return row(*args, **kwargs)

    monkeypatch.setattr(evaluate, "_trajectory_row", fails_second)
    out = tmp_path / "mid"
    with ScriptedChatServer(_chat("\\boxed{1}")) as server:  # --n 2 --limit 1: samples 0 and N, two calls
        status = main(_openai_eval(server.url, data, out, "--model", "m", "--n", "2", "--limit", "1", "--seed", "0"))
    err = capsys.readouterr().err
    assert status == 1, err
    assert "Traceback" in err and "rlvr eval: unexpected error while sampling (not bad input" in err
    assert "ValueError: a fault in the middle of the run; 1 sample(s) are saved in" in err
    assert len(read_rows(out / "samples.jsonl")) == 1


# ---------------------------------------------------------------------------------- 2: which model


def test_several_listed_models_without_model_names_the_one_evaluated(tmp_path, capsys):
    data, _ = _gsm8k(tmp_path)
    with ScriptedChatServer(_chat("\\boxed{1}")) as server:
        _listing(server, ["fake", "fake-lora"])
        status = main(_openai_eval(server.url, data, tmp_path / "two", "--limit", "1"))
        captured = capsys.readouterr()
        assert status == 0, captured.err
        assert {body["model"] for body in server.requests} == {"fake"}
    assert ("rlvr eval: evaluating model 'fake' (the server lists 'fake', 'fake-lora'); pass --model to choose"
            in captured.err)
    assert "model 'fake'" in captured.out  # the table's title names it


def test_one_listed_model_needs_no_notice(tmp_path, capsys):
    data, _ = _gsm8k(tmp_path)
    with ScriptedChatServer(_chat("\\boxed{1}")) as server:
        _listing(server, ["only"])
        assert main(_openai_eval(server.url, data, tmp_path / "one", "--limit", "1")) == 0
    captured = capsys.readouterr()
    assert "pass --model to choose" not in captured.err and "model 'only'" in captured.out


# ---------------------------------------------------------------------------------- 3: tool calls


def test_a_tool_call_in_an_env_without_tools_is_kept_and_counted(tmp_path, capsys):
    data, _ = _gsm8k(tmp_path)
    calls = [{"id": "c1", "type": "function", "function": {"name": "calculator", "arguments": '{"expression": "12*5"}'}}]
    out = tmp_path / "tool"
    with ScriptedChatServer(_chat("Let me compute.", calls)) as server:
        status = main(_openai_eval(server.url, data, out, "--model", "m", "--limit", "2"))
    err = capsys.readouterr().err
    assert status == 0, err
    rows = read_rows(out / "samples.jsonl")
    assert len(rows) == 2 and all(r["completion"] == "Let me compute." for r in rows)
    assert [[c["function"]["name"] for c in r["tool_calls"]] for r in rows] == [["calculator"], ["calculator"]]
    assert rows[0]["tool_calls"][0]["function"]["arguments"] == '{"expression": "12*5"}'
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["unoffered_tool_calls"] == 2
    warning = "2 of 2 samples answered with a tool call the env does not offer"
    assert any(w.startswith(warning) for w in summary["warnings"]) and f"warning: {warning}" in err


def test_plain_answers_count_no_tool_calls(tmp_path, capsys):
    data, _ = _gsm8k(tmp_path)
    out = tmp_path / "plain"
    with ScriptedChatServer(_chat("\\boxed{1}")) as server:
        assert main(_openai_eval(server.url, data, out, "--model", "m", "--limit", "1")) == 0
    assert "tool_calls" not in read_rows(out / "samples.jsonl")[0]
    assert json.loads((out / "summary.json").read_text())["counts"]["unoffered_tool_calls"] == 0
    assert "tool call" not in capsys.readouterr().err
