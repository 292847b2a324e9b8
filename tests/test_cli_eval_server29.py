"""`rlvr eval --engine openai --model NAME`: the server is checked before the first generation.

Before: with --model given nothing asked the server anything until the first generation, which waits
the generation timeout (`--timeout`, 30 minutes by default) on a server that accepts connections and
never answers, then told the user to raise that timeout. Now a short `GET /models` probe (two tries
of at most 30 s) finds a hung server at the start (exit 2, as an unreachable one), while a server
without a `/models` route still serves the run.
"""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from rlvr.benchmarks.samples import write_sample
from rlvr.cli import main
import test_cli_audit28
from conftest import JsonHandler

silent_server = test_cli_audit28.silent_server  # a fixture: accepts connections, never answers


def test_a_hung_server_is_found_by_the_short_probe_not_the_first_generation(silent_server, tmp_path, capsys):
    url, conns = silent_server
    out = tmp_path / "run"
    assert main(["eval", "--benchmark", "gsm8k", "--engine", "openai", "--model", "m", "--base-url", url,
                 "--timeout", "1", "--out", str(out), "--no-progress"]) == 2
    first, err = capsys.readouterr().err.split("\n", 1)
    assert first == f"rlvr eval: checking that the server at {url} answers (GET /models, 1s a try)"
    assert err.startswith(f"rlvr eval: cannot use the server at {url}: GET {url}/models: the server accepted the "
                          "connection but sent no answer within 1s, 2 time(s): it is hung or overloaded")
    assert "raise the timeout" not in err  # (what the timed-out generation used to advise)
    assert len(conns) == 2


class _Server:
    """An OpenAI-compatible server with no usable `/models` (answers GET with `models_status`) whose
    chat completions answer every question 14."""

    def __init__(self, models_status: int) -> None:
        self.gets = self.posts = 0
        server = self

        class Handler(JsonHandler):
            def do_GET(self):
                server.gets += 1
                self.reply(models_status, {"error": {"message": f"GET answered {models_status}"}})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                server.posts += 1
                self.reply(200, {"choices": [{"index": j, "message": {"role": "assistant", "content": "\\boxed{14}"},
                                              "finish_reason": "stop"} for j in range(body.get("n", 1))]})

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def __enter__(self) -> "_Server":
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _eval(server: _Server, tmp_path) -> int:
    data = write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl"))
    return main(["eval", "--benchmark", "gsm8k", "--data", data, "--limit", "2", "--engine", "openai", "--model", "m",
                 "--base-url", server.url, "--timeout", "5", "--out", str(tmp_path / "run"), "--no-progress"])


@pytest.mark.parametrize("status", [404, 405])
def test_a_server_without_a_models_route_still_serves_the_run(tmp_path, capsys, status):
    with _Server(status) as server:
        assert _eval(server, tmp_path) == 0
    assert server.posts == 2  # one question each
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["counts"]["samples"] == 2 and summary["excluded"] == 0


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_is_found_by_the_probe(tmp_path, capsys, status):
    with _Server(status) as server:
        assert _eval(server, tmp_path) == 2
    assert server.posts == 0
    err = capsys.readouterr().err
    assert f"was rejected with HTTP {status}: GET answered {status}" in err
