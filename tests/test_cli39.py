"""CLI audit 39: what a red team found in `rlvr eval`, `rlvr serve` and `--set`.

- an evaluation over one problem printed a zero-width "95% CI" (the ddof-1 spread over problems is
  undefined for one): now no interval (null, "n/a", no error bar) and a warning;
- `rlvr eval --engine openai --model TYPO` against a server listing its models failed mid-run
  (exit 4) after creating --out: now refused first (exit 2), naming the served models;
- `--set log.output_dir=2024-01-01` (a date) or `--set model.name_or_path=on` (a boolean) was
  refused for a string key: the text typed is now taken as the string; in a config file, the error
  says to quote it;
- `rlvr serve` died at once on SIGTERM (docker stop, systemd, Kubernetes): it now stops as on Ctrl-C.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from rlvr.benchmarks.estimators import aggregate
from rlvr.benchmarks.samples import write_sample
from rlvr.benchmarks.summary import compute_metrics, format_table, pass_at_k_figure
from rlvr.cli import main
from test_serve_audit24 import _http_reply
from rlvr.trainers.config import ConfigError, load_config, override_value

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
CONV = [{"role": "user", "content": "What is 12+30?"}]


def _row(task: str, correct: bool) -> dict:
    return {"task_id": task, "correct": correct, "score": float(correct), "completion": "x"}


# ---------------------------------------------------------------------------------- 1: one problem


@pytest.mark.parametrize("method", ["normal", "bootstrap"])
def test_one_problem_has_no_interval(method):
    one = aggregate([0.5], method=method)
    assert one["mean"] == 0.5 and one["problems"] == 1
    assert one["ci_low"] is None and one["ci_high"] is None and one["stderr"] is None
    two = aggregate([0.0, 1.0], method=method)
    assert two["ci_low"] < 0.5 < two["ci_high"]  # two problems: an interval again


def test_table_plot_and_warning_for_metrics_over_one_problem():
    """pass@2 over the one problem with two samples: n/a, no error bar, a warning naming it; pass@1
    over all three keeps its interval and bar."""
    rows = [_row("a", True), _row("a", False), _row("b", True), _row("c", False)]
    result = compute_metrics(rows, [1, 2])
    metrics = result["metrics"]
    assert metrics["pass@2"]["ci_low"] is None and metrics["pass@1"]["ci_low"] is not None
    assert any("pass@2, pass^2 are over a single problem: no confidence interval" in w for w in result["warnings"])
    table = format_table(metrics)
    assert re.search(r"pass@2 +1\.0000 +n/a +1$", table, re.M), table
    assert re.search(r"pass@1 +0\.5000 +\[0\.0000, 1\.0000\] +3$", table, re.M), table
    ax = pass_at_k_figure(metrics).axes[0]
    bars = {c.get_label(): [s.tolist() for col in c.lines[2] for s in col.get_segments() if len(s)] for c in ax.containers}
    assert bars["pass@k"] == [[[1.0, 0.0], [1.0, 1.0]]]  # k=1 only: none at k=2
    assert bars["pass^k"] == []


def test_cli_one_problem_evaluation_says_no_interval(tmp_path, capsys):
    data = write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl"))
    comps = tmp_path / "dup.jsonl"
    comps.write_text('{"task_id": 0, "completion": "\\\\boxed{14}"}\n{"task_id": "0", "completion": "\\\\boxed{15}"}\n')
    out = tmp_path / "z3"
    assert main(["eval", "--benchmark", "gsm8k", "--data", data, "--completions", str(comps), "--out", str(out),
                 "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert re.search(r"^mean_accuracy +0\.5000 +n/a +1$", captured.out, re.M), captured.out
    assert "warning: every metric is over a single problem: no confidence interval" in captured.err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ci"]["mean_accuracy"] == [None, None] and summary["metrics"]["pass@1"]["ci_high"] is None
    assert any("single problem" in w for w in summary["warnings"])
    assert (out / "pass_at_k.png").read_bytes()[:4] == b"\x89PNG"


def test_a_k_no_problem_has_completions_for_is_refused_before_anything_is_written(tmp_path, capsys):
    """--k 4 over two completions a problem: pass@4 was left out of a summary saying "complete"
    (exit 0); refused as --k more than --n is when sampling."""
    data = write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl"))
    comps = tmp_path / "two.jsonl"
    comps.write_text("".join(json.dumps({"task_id": t, "completion": f"\\boxed{{{v}}}"}) + "\n"
                             for t, v in ((0, 14), (0, 13), (1, 19), (1, 2))))
    out = tmp_path / "k4"
    assert main(["eval", "--benchmark", "gsm8k", "--data", data, "--completions", str(comps), "--limit", "2", "--k", "1,4",
                 "--out", str(out), "--no-progress"]) == 2
    assert "--k 4 is more than the 2 completion(s) any problem has" in capsys.readouterr().err
    assert not out.exists()
    assert main(["eval", "--benchmark", "gsm8k", "--data", data, "--completions", str(comps), "--limit", "2", "--k", "1,2",
                 "--out", str(out), "--no-progress"]) == 0


# ---------------------------------------------------------------------------------- 2 and 4: rlvr serve


def _serve() -> tuple[subprocess.Popen, str]:
    """`rlvr serve --model tiny --port 0` as a process, and its base URL."""
    proc = subprocess.Popen([sys.executable, "-m", "rlvr.cli", "serve", "--model", "tiny", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+/v1", line)
    if not match:
        proc.kill()
        pytest.fail(f"rlvr serve did not start: {line}{proc.communicate()[1][-2000:]}")
    return proc, match.group(0)


def _end(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


@pytest.fixture(scope="module")
def served():
    proc, url = _serve()
    yield url
    proc.terminate()
    _end(proc)


def _eval_openai(url: str, model: str, out, data: str) -> list[str]:
    return ["eval", "--benchmark", "gsm8k", "--data", data, "--limit", "1", "--engine", "openai", "--model", model,
            "--base-url", url, "--max-tokens", "4", "--timeout", "60", "--out", str(out), "--no-progress"]


def test_a_model_the_server_does_not_list_is_refused_before_out_is_made(served, tmp_path, capsys):
    data = write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl"))
    out = tmp_path / "typo"
    assert main(_eval_openai(served, "TYPO", out, data)) == 2
    err = capsys.readouterr().err
    assert f"--model 'TYPO' is not served by the server at {served}: its GET /models lists 'tiny', and a request " \
           f"for 'TYPO' was refused (POST {served}/chat/completions was rejected with HTTP 404" in err, err
    assert not out.exists()  # nor run.json nor .lock


def test_a_model_the_server_lists_runs(served, tmp_path, capsys):
    data = write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl"))
    out = tmp_path / "ok"
    assert main(_eval_openai(served, "tiny", out, data)) == 0
    assert json.loads((out / "summary.json").read_text())["counts"]["samples"] == 1


def test_sigterm_stops_serve_as_ctrl_c_does():
    """docker stop / systemd / Kubernetes send SIGTERM: the requests under way are answered (503, or
    200 when already done), and the server exits 143 with its message, not killed at once."""
    proc, url = _serve()
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    socks = []
    try:
        data = json.dumps({"messages": CONV, "n": 128, "temperature": 2.0}).encode()  # seconds of generation
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(data) + data)
        socks.append(sock)
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("rlvr serve did not exit within 60 s of SIGTERM")
        assert proc.returncode == 143, (proc.returncode, err[-2000:])
        assert "rlvr serve: SIGTERM; stopping (requests under way get 503" in err and "Traceback" not in err, err
        status, payload = _http_reply(sock)
        assert status in (200, 503), (status, payload)
        if status == 503:
            assert payload["error"]["type"] == "server_shutting_down", payload
    finally:
        for sock in socks:
            sock.close()
        _end(proc)


def test_serve_help_lists_the_sigterm_exit_status():
    out = subprocess.run([sys.executable, "-m", "rlvr.cli", "serve", "--help"], capture_output=True, text=True,
                         env=ENV, timeout=60).stdout
    assert "143 stopped with SIGTERM" in " ".join(out.split())


# ---------------------------------------------------------------------------------- 3: --set strings


def test_set_takes_a_date_or_boolean_as_typed_for_a_string_key():
    config = load_config(None, ["log.output_dir=2024-01-01", "model.name_or_path=on"])
    assert config.log.output_dir == "2024-01-01" and config.model.name_or_path == "on"
    assert override_value("log.output_dir=2024-01-01") == "2024-01-01"  # as `rlvr train --resume` reads it
    assert load_config(None, ["warmup.mistake=null"]).warmup.mistake is None  # Optional: null is unset
    assert load_config(None, ["model.gradient_checkpointing=on"]).model.gradient_checkpointing is True  # a bool key
    with pytest.raises(ConfigError, match=r"log.output_dir must be a string, got the number 123; quote it"):
        load_config(None, ["log.output_dir=123"])


@pytest.mark.parametrize("value, says", [
    ("2024-01-01", "got the date datetime.date(2024, 1, 1) (YAML reads some unquoted text as a date); quote the value"),
    ("yes", "got the boolean True (YAML reads some unquoted text as a boolean); quote the value as you mean it"),
])
def test_a_config_file_date_or_boolean_for_a_string_key_says_to_quote_it(tmp_path, value, says):
    path = tmp_path / "c.yaml"
    path.write_text(f"log:\n  output_dir: {value}\n")
    with pytest.raises(ConfigError) as info:
        load_config(str(path))
    assert f"log.output_dir must be a string, {says}" in str(info.value)


# ---------------------------------------------------------------------------------- audit 39b


class _AnyNameServer:
    """Stands in for TGI / llama-server (one id listed, any "model" served) or Gemini's endpoint
    (ids listed as "models/NAME"): a third-party server, in a thread. Records the POSTed models."""

    def __init__(self, listed: str):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        posted = self.posted = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, obj):
                body = json.dumps(obj).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._send({"object": "list", "data": [{"id": listed, "object": "model"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                posted.append(body)
                choice = {"message": {"role": "assistant", "content": "\\boxed{72}"}, "finish_reason": "stop"}
                self._send({"id": "x", "object": "chat.completion", "model": listed,
                            "choices": [dict(choice, index=i) for i in range(body.get("n", 1))],
                            "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_a_model_the_server_does_not_list_but_serves_runs(tmp_path, capsys):
    """TGI's docs send model="tgi" to a server listing its real model's id: asked for a token of
    it, the server answers, so the run goes on (with a note), not refused on the list alone."""
    data = write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl"))
    server = _AnyNameServer("meta-llama/Llama-3.1-8B-Instruct")
    try:
        assert main(_eval_openai(server.url, "tgi", tmp_path / "tgi", data)) == 0, capsys.readouterr().err
    finally:
        server.close()
    err = capsys.readouterr().err
    assert "the server answered a request for --model 'tgi', though it lists only " \
           "'meta-llama/Llama-3.1-8B-Instruct'; going on" in err, err
    assert server.posted[0]["max_tokens"] == 1 and server.posted[0]["model"] == "tgi"  # the probe came first
    assert json.loads((tmp_path / "tgi" / "summary.json").read_text())["counts"]["samples"] == 1


def test_a_listed_models_prefix_counts_as_listed(tmp_path, capsys):
    """Gemini's OpenAI endpoint lists "models/gemini-2.0-flash" and serves "gemini-2.0-flash": no probe."""
    data = write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl"))
    server = _AnyNameServer("models/gemini-2.0-flash")
    try:
        assert main(_eval_openai(server.url, "gemini-2.0-flash", tmp_path / "g", data)) == 0, capsys.readouterr().err
    finally:
        server.close()
    assert "not among the models the server lists" not in capsys.readouterr().err
    assert [body.get("max_tokens") for body in server.posted] == [4]  # the generation only


@pytest.mark.parametrize("typed, reading", [("12:30", "750"), ("0755", "493"), ("1_000", "1000")])
def test_set_number_hint_quotes_the_text_typed(typed, reading):
    with pytest.raises(ConfigError) as info:
        load_config(None, [f"log.output_dir={typed}"])
    message = str(info.value)
    assert f"got the number {reading} (YAML's reading of '{typed}'); quote it to mean the text " \
           f"(e.g. --set \"log.output_dir='{typed}'\")" in message, message
    assert f"'{reading}'" not in message


@pytest.mark.parametrize("value, wrong", [("2024-01-01T10:00:00", "2024-01-01 10:00:00"), ("off", "on"),
                                          ("0755", "493")])
def test_config_file_hint_never_suggests_yamls_reading(tmp_path, value, wrong):
    path = tmp_path / "c.yaml"
    path.write_text(f"log:\n  output_dir: {value}\n")
    with pytest.raises(ConfigError) as info:
        load_config(str(path))
    message = str(info.value)
    assert "quote the value as you mean it (e.g. output_dir: '...' in a config file)" in message, message
    assert f"'{wrong}'" not in message and "--set" not in message and "log.output_dir=" not in message


@pytest.mark.parametrize("method", ["normal", "bootstrap"])
def test_equal_scores_over_several_problems_warn_of_a_zero_width_interval(method):
    rows = [_row("a", True), _row("b", True), _row("c", False), _row("c", True)]
    result = compute_metrics(rows[:2], [1], ci_method=method)
    assert result["metrics"]["pass@1"]["ci_low"] == result["metrics"]["pass@1"]["ci_high"] == 1.0  # numbers kept
    zero = [w for w in result["warnings"] if w.startswith("zero-width confidence interval for ")]
    assert zero and "pass@1 (1 on each of 2 problems)" in zero[0] and "every problem scored the same" in zero[0], result
    varied = compute_metrics(rows, [1], ci_method=method)  # a: 1, b: 1, c: 0.5
    assert not any("zero-width" in w for w in varied["warnings"]), varied["warnings"]
