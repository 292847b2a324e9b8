"""CLI audit 28: what a red team found in `rlvr eval` and `rlvr serve`.

- `--device cuda` without a GPU, or a name torch does not know, was only noticed once the model had
  loaded: a traceback and exit 1 (`rlvr train` refuses `model.device=cuda` with a message and exit 2);
- `rlvr eval --engine openai` without --model asked a server that accepts connections but never
  answers for its model with the generation timeout, 4 times: 4 x --timeout (2 hours by default) of
  silence;
- Ctrl-C during `rlvr eval` printed only "interrupted", not what is saved nor how to go on.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import torch

from rlvr.benchmarks.samples import write_sample
from rlvr.cli import main
from rlvr.trainers import openai_engine
from rlvr.trainers.openai_engine import OpenAIEngine, ServerUnreachableError

NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _rlvr(*args: str) -> list[str]:
    return [sys.executable, "-m", "rlvr.cli", *args]


def _interruptible(*args: str, **kwargs) -> subprocess.Popen:
    """`rlvr ...` as a process that a SIGINT interrupts as Ctrl-C does (a test runner may ignore SIGINT,
    and a child inherits that)."""
    return subprocess.Popen(_rlvr(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **kwargs)


@pytest.fixture()
def silent_server():
    """(base_url, accepted connections): a server that accepts connections and never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    conns: list = []

    def accept() -> None:
        while True:
            try:
                conns.append(srv.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}/v1", conns
    srv.close()
    for conn in conns:
        conn.close()


# ------------------------------------------------------------------ --device


@NO_GPU
@pytest.mark.parametrize("device, says", [
    ("cuda", "--device cuda: no CUDA GPU is available; use --device cpu (or leave it out)"),
    ("cuda:1", "--device cuda:1: no CUDA GPU is available; use --device cpu (or leave it out)"),
    ("bogus", "--device 'bogus' is not a torch device; use cpu, cuda or cuda:N (or leave it out: cuda when available)"),
])
def test_eval_refuses_a_device_it_cannot_use_before_anything_is_loaded(tmp_path, capsys, device, says):
    out = tmp_path / "run"
    assert main(["eval", "--benchmark", "gsm8k", "--engine", "hf", "--model", "tiny", "--device", device,
                 "--out", str(out), "--no-progress"]) == 2
    assert capsys.readouterr().err == f"rlvr eval: {says}\n"
    assert not out.exists()  # refused with the option checks, before --out is created or a model loaded


@NO_GPU
@pytest.mark.parametrize("device, says", [
    ("cuda", "--device cuda: no CUDA GPU is available"),
    ("bogus", "--device 'bogus' is not a torch device"),
])
def test_serve_refuses_a_device_it_cannot_use_before_loading_the_model(capsys, device, says):
    assert main(["serve", "--model", "tiny", "--port", "0", "--device", device]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rlvr serve: {says}") and err.count("\n") == 1


@NO_GPU
def test_eval_device_refusal_is_one_line_and_exit_2_in_a_real_process(tmp_path):
    proc = subprocess.run(_rlvr("eval", "--benchmark", "gsm8k", "--engine", "hf", "--model", "tiny", "--device", "cuda",
                                "--out", str(tmp_path / "run"), "--no-progress"), capture_output=True, text=True, env=ENV)
    assert proc.returncode == 2
    assert proc.stderr == "rlvr eval: --device cuda: no CUDA GPU is available; use --device cpu (or leave it out)\n"


def test_eval_takes_device_auto_and_cpu(tmp_path, capsys):
    # --out is a file: the last argument check refuses it, so the device passed the checks before it
    out = tmp_path / "a-file"
    out.write_text("")
    for device in ("auto", "cpu"):
        assert main(["eval", "--benchmark", "gsm8k", "--engine", "hf", "--model", "tiny", "--device", device,
                     "--out", str(out), "--no-progress"]) == 2
        assert capsys.readouterr().err.startswith(f"rlvr eval: --out {str(out)!r} is an existing file")


# ------------------------------------------------------------------ a server that never answers


def test_eval_says_it_waits_and_gives_up_on_a_silent_server_after_two_short_tries(silent_server, tmp_path):
    url, conns = silent_server
    # (a hang guard, not a timing: the old probe waited 4 x the generation timeout)
    proc = subprocess.run(_rlvr("eval", "--benchmark", "gsm8k", "--engine", "openai", "--base-url", url, "--timeout", "1",
                                "--out", str(tmp_path / "run"), "--no-progress"), capture_output=True, text=True, env=ENV,
                          timeout=120)
    assert proc.returncode == 2
    first, second = proc.stderr.splitlines()
    assert first == (f"rlvr eval: waiting for the server at {url} to name its model (GET /models, 1s a try; "
                     "--model NAME skips this)")
    assert second.startswith(f"rlvr eval: cannot use the server at {url}: GET {url}/models: the server accepted the "
                             "connection but sent no answer within 1s, 2 time(s): it is hung or overloaded")
    assert len(conns) == 2  # (it was 4: 3 retries, with a backoff of 0.5 + 1 + 2 s)


def test_the_model_probe_has_its_own_short_timeout_not_the_generation_one(silent_server, monkeypatch):
    url, conns = silent_server
    monkeypatch.setattr(openai_engine, "MODELS_TIMEOUT", 0.5)  # 30 s in use: too long for a test
    engine = OpenAIEngine(url, timeout=1800.0)  # rlvr eval's default generation timeout
    assert engine.models_timeout == 0.5
    with pytest.raises(ServerUnreachableError, match=r"sent no answer within 0\.5s, 2 time\(s\)"):
        engine.model
    assert len(conns) == 2


# ------------------------------------------------------------------ Ctrl-C


def _saved(out) -> int:
    path = out / "samples.jsonl"
    return sum(1 for line in path.read_text().splitlines() if line.strip()) if path.exists() else 0


def test_ctrl_c_while_sampling_says_what_is_saved_and_the_same_command_resumes(tmp_path, capsys):
    data = write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl"))
    out = tmp_path / "run"
    # 2 problems x 64 samples: 2 calls of 64, each saved as it is scored
    args = ("eval", "--benchmark", "gsm8k", "--data", data, "--limit", "2", "--engine", "hf", "--model", "tiny",
            "--device", "cpu", "--max-tokens", "2", "--n", "64", "--k", "1", "--seed", "3", "--out", str(out),
            "--no-progress")
    proc = _interruptible(*args)
    deadline = time.monotonic() + 60
    while not _saved(out) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    saved = _saved(out)
    assert proc.returncode == 130 and 0 < saved < 128
    assert err == (f"rlvr eval: interrupted; {saved} sample(s) are saved in {out}: rerun the same command with the "
                   "same --out to continue (the saved ones are not redone)\n")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # (as OMP_NUM_THREADS=1 does for the process: tiny matrices, a busy machine)
    try:
        assert main(list(args)) == 0  # the same command (in this process: a second start-up costs seconds)
    finally:
        torch.set_num_threads(threads)
    assert f"128 judged samples ({128 - saved} new, {saved} reused" in capsys.readouterr().out  # only the missing drawn
    assert _saved(out) == 128


def test_ctrl_c_before_any_sample_says_so(silent_server, tmp_path):
    url, _ = silent_server
    out = tmp_path / "run"
    proc = _interruptible("eval", "--benchmark", "gsm8k", "--engine", "openai", "--base-url", url,
                          "--out", str(out), "--no-progress")
    assert proc.stderr.readline().startswith("rlvr eval: waiting for the server")  # the probe is under way
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err == f"rlvr eval: interrupted before any sample was saved in {out}; rerun the same command to start again\n"
