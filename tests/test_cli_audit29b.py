"""CLI audit 29b: `rlvr verify`, `rlvr verifiers audit` and the exit statuses of the small commands.

- Ctrl-C during `verifiers audit` stops at once (exit 130) instead of finishing every queued sympy
  job first (`verify_batch` cancels its queue and kills its busy workers: `WorkerPool.kill_jobs_of`).
- Rows whose verification failed (a bad gold) are "unverified": not counted as agreeing with
  `expected: false`; listed, in --json, exit 3. An unparsable gold is an error whatever the answer.
- stdout closed by its reader (`| head`): exit 141, no traceback.
- `--timeout` is at most a day (was an OverflowError); the worker pool refuses more with a ValueError.
- An unreadable audit file (not UTF-8, a directory, JSON nested too deeply, empty) is one line,
  exit 2; a byte-order mark is accepted.
- `--show` must be >= 0; long lists say "... and N more"; an answer starting with '-' goes after '--'.
- Exit statuses are in --help; `build-image --method dockerfile --mirror` is refused (it was ignored).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from rlvr.cli import main
from rlvr.verifiers.math import verify, verify_batch
from rlvr.verifiers.timelimit import Budget, WorkerCrashed, WorkerPool

RLVR = [sys.executable, "-m", "rlvr.cli"]


def write_rows(tmp_path, rows, name="rows.jsonl") -> str:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


# ---------------------------------------------------------------- Ctrl-C during an audit


def _descendants(pid: int) -> set[int]:
    """The pids of `pid`'s children and grandchildren (from /proc)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to see the workers")
def test_ctrl_c_during_an_audit_stops_at_once(tmp_path):
    # each answer keeps a sympy worker busy to its time limit (1 s): 40 jobs queued behind the busy
    # workers, 20 s on two cores; before, Ctrl-C waited for every one of them, then exited 130
    rows = [{"gold": "2", "prediction": f"\\boxed{{10^{{10^{{10}}}} + {i}}}"} for i in range(40)]
    path = write_rows(tmp_path, rows)
    proc = subprocess.Popen([*RLVR, "verifiers", "audit", path, "--no-math-verify", "--timeout", "1"],
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 8
        workers: set[int] = set()
        while time.monotonic() < deadline and len(workers) < 2:  # the zygote and a worker: the sympy stage
            time.sleep(0.1)
            workers = _descendants(proc.pid)
        assert len(workers) >= 2, "the audit never reached the sympy stage"
        time.sleep(0.3)
        interrupted = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=4)
        took = time.monotonic() - interrupted
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130 and err.strip().endswith("interrupted") and "Traceback" not in err
    assert took < 3, took
    time.sleep(0.5)
    left = [pid for pid in workers if os.path.exists(f"/proc/{pid}") and
            open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"]
    assert not left, "sympy workers outlived the interrupted audit"


def test_kill_jobs_of_stops_only_the_named_threads_jobs():
    with WorkerPool(2, memory_mb=None) as pool:
        outcome: dict[str, object] = {}
        idents: dict[str, int] = {}

        def job(name: str, seconds: float) -> None:
            idents[name] = threading.get_ident()
            try:
                outcome[name] = pool.call("rlvr.verifiers.timelimit:_sleep_then_return", (seconds, name), timeout=30)
            except WorkerCrashed as exc:
                outcome[name] = exc

        mine = threading.Thread(target=job, args=("mine", 20))
        other = threading.Thread(target=job, args=("other", 1.5))
        mine.start(), other.start()
        deadline = time.monotonic() + 10
        while len(pool._busy) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        started = time.monotonic()
        assert pool.kill_jobs_of({idents["mine"]}) == 1
        mine.join(5)
        assert time.monotonic() - started < 2 and isinstance(outcome["mine"], WorkerCrashed)
        other.join(10)
        assert outcome["other"] == "other"  # another caller's job ran to its end


# ---------------------------------------------------------------- unverified rows, bad golds


def test_rows_whose_verification_failed_are_unverified_not_agreeing(tmp_path, capsys):
    path = write_rows(tmp_path, [
        {"gold": "\\frac{1", "prediction": "\\boxed{1}", "expected": False},
        {"gold": "\\frac{1", "prediction": "I do not know", "expected": False},
        {"gold": "1", "prediction": "\\boxed{1}", "expected": True},
        {"gold": "2", "prediction": "\\boxed{3}", "expected": False},
    ])
    assert main(["verifiers", "audit", path, "--no-math-verify", "--json"]) == 3
    out = capsys.readouterr().out
    assert "agreement with expected: 2/2 (100.0%)" in out  # was 4/4: the bad golds counted as agreeing
    assert "unverified rows (verification failed" in out and ": 1, 2\n" in out
    assert "first: line 1: unparsable gold answer" in out
    figures = json.loads(out.strip().splitlines()[-1])
    assert figures["unverified"] == 2 and figures["unverified_lines"] == [1, 2]
    assert figures["with_expected"] == 2 and figures["disagree_expected"] == 0
    assert figures["kinds"] == {"error": 2, "equal": 1, "wrong": 1}


def test_an_audit_of_verified_rows_still_exits_0(tmp_path, capsys):
    path = write_rows(tmp_path, [{"gold": "1", "prediction": "\\boxed{1}", "expected": True}])
    assert main(["verifiers", "audit", path, "--no-math-verify", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["unverified"] == 0


@pytest.mark.parametrize("prediction", ["I do not know", "\\boxed{1}", "", "\\frac{2", "no idea at all, sorry"])
def test_an_unparsable_gold_is_an_error_whatever_the_answer(prediction, capsys):
    # with an answer that could not be read either, it was "wrong (unparsable)", exit 0
    v = verify("\\frac{1", prediction)
    assert v.error is not None and "unparsable gold answer" in v.reason
    assert verify_batch([("\\frac{1", prediction)])[0].error is not None
    assert main(["verify", "\\frac{1", prediction]) == 2
    assert capsys.readouterr().out.startswith("error (error): ")


def test_an_answer_written_as_an_unparsable_gold_is_still_right():
    """String identity after normalisation needs no parse: it stays right (the lead's choice; a gold
    only this parser cannot read is not made an error for the answers that copy it)."""
    v = verify("\\frac{1", "\\frac{1")
    assert v.correct and v.error is None and v.reason == "identical after normalisation"


@pytest.mark.parametrize("gold, prediction, kind", [
    ("(B)", "no idea", "unparsable"),            # a choice letter: never parsed as maths
    ("Alice", "I do not know", "unparsable"),    # words
    ("10:30", "I do not know", "unparsable"),    # a clock time
    ("\\frac{1}{2}", "I do not know", "unparsable"),
    ("\\frac{1}{2}", "\\boxed{0.5}", "equal"),
])
def test_golds_that_are_fine_still_judge_the_answer(gold, prediction, kind):
    v = verify(gold, prediction)
    assert v.error is None and v.details["kind"] == kind


# ---------------------------------------------------------------- stdout closed by its reader


@pytest.mark.parametrize("command", [["verify", "2", "\\boxed{2}"], ["benchmarks", "list", "--json"]])
def test_a_closed_stdout_is_exit_141_without_a_traceback(command):
    read, write = os.pipe()
    os.close(read)  # the reader (`| head`) is gone before anything is written
    try:
        proc = subprocess.run([*RLVR, *command], stdout=write, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write)
    assert proc.returncode == 141 and proc.stderr == ""


# ---------------------------------------------------------------- --timeout bounds


@pytest.mark.parametrize("value", ["86401", "3e6", "1e300"])
@pytest.mark.parametrize("command", [["verify", "2", "\\sqrt{2}/2"], ["sandbox", "run", "-"]])
def test_a_timeout_past_a_day_is_a_usage_error(command, value, capsys):
    # 3e6 passed as positive and finite, then poll() raised OverflowError (a traceback)
    assert main([*command, "--timeout", value]) == 2
    err = capsys.readouterr().err
    assert "argument --timeout: a timeout must be at most 86400 seconds" in err and "Traceback" not in err


def test_a_day_is_still_a_timeout(capsys):
    assert main(["verify", "2", "\\boxed{2}", "--timeout", "86400"]) == 0
    assert capsys.readouterr().out.startswith("correct")


def test_the_worker_pool_refuses_a_limit_past_a_day_with_a_value_error():
    pool = WorkerPool(1, memory_mb=None)  # (refused before any worker is started)
    try:
        for timeout in (3e6, Budget(3e6), float("nan")):
            with pytest.raises(ValueError, match="timeout must be at most 86400 seconds"):
                pool.call("rlvr.verifiers.timelimit:_sleep_then_return", (0, 1), timeout=timeout)
        with pytest.raises(ValueError, match="wait must be at most 86400 seconds"):
            pool.call("rlvr.verifiers.timelimit:_sleep_then_return", (0, 1), timeout=1, wait=1e12)
    finally:
        pool.close()
    with pytest.raises(ValueError, match="at most 86400"):  # was OverflowError from poll()
        verify("\\sqrt{2}/2", "\\boxed{\\frac{1}{\\sqrt{2}}}", timeout=3e6)


# ---------------------------------------------------------------- audit files that cannot be read


def test_an_audit_file_that_is_not_utf8_names_the_line(tmp_path, capsys):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"gold": "1", "prediction": "1"}\n{"gold": "1", "prediction": "\xff"}\n')
    assert main(["verifiers", "audit", str(path), "--no-math-verify"]) == 2
    err = capsys.readouterr().err
    assert err == f"{path}: line 2: not UTF-8 text (byte 0xff); save the file as UTF-8\n"


def test_an_audit_of_a_directory_is_one_line(tmp_path, capsys):
    assert main(["verifiers", "audit", str(tmp_path), "--no-math-verify"]) == 2
    assert capsys.readouterr().err == f"{tmp_path}: cannot read it: Is a directory\n"


def test_json_nested_too_deeply_is_one_line(tmp_path, capsys):
    path = tmp_path / "deep.jsonl"
    path.write_text('{"gold": "1", "prediction": "1"}\n{"gold": "1", "prediction": "1", "x": '
                    + "[" * 100_000 + "]" * 100_000 + "}\n")
    assert main(["verifiers", "audit", str(path), "--no-math-verify"]) == 2
    assert capsys.readouterr().err == f"{path}: line 2: JSON nested too deeply to read\n"


def test_a_byte_order_mark_is_accepted(tmp_path, capsys):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"gold": "1", "prediction": "1"}\r\n{"gold": "2", "prediction": "3"}\r\n')
    assert main(["verifiers", "audit", str(path), "--no-math-verify"]) == 0
    assert capsys.readouterr().out.startswith("2 rows: equal 1, wrong 1\n")


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_an_empty_audit_file_is_refused(tmp_path, capsys, text):
    path = tmp_path / "empty.jsonl"
    path.write_text(text)
    assert main(["verifiers", "audit", str(path), "--no-math-verify"]) == 2
    out, err = capsys.readouterr()
    assert not out and err.startswith(f"{path}: no rows: the file is empty")


# ---------------------------------------------------------------- --show, long lists, '-' answers


def test_show_must_not_be_negative(tmp_path, capsys):
    path = write_rows(tmp_path, [{"gold": "1", "prediction": "2", "expected": True}])
    assert main(["verifiers", "audit", path, "--no-math-verify", "--show", "-1"]) == 2
    assert "argument --show: must be 0 or more, got '-1'" in capsys.readouterr().err


def test_lists_past_their_length_say_how_many_more(tmp_path, capsys):
    rows = [{"gold": "1", "prediction": f"\\boxed{{{i + 2}}}", "expected": True} for i in range(3)]
    rows += [{"gold": "\\frac{1", "prediction": "\\boxed{1}"}] * 60
    path = write_rows(tmp_path, rows)
    assert main(["verifiers", "audit", path, "--no-math-verify", "--show", "1"]) == 3
    out = capsys.readouterr().out
    assert "  line 1: expected True, got False" in out and "line 2: expected" not in out
    assert "  ... and 2 more disagreements (--show N for more)" in out
    assert ", 53 ... and 10 more\n" in out


def test_an_answer_starting_with_a_dash_goes_after_double_dash(capsys):
    assert main(["verify", "-\\frac{1}{2}", "\\boxed{-0.5}"]) == 2
    assert "goes after '--'" in capsys.readouterr().err
    assert main(["verify", "--", "-\\frac{1}{2}", "\\boxed{-0.5}"]) == 0
    assert capsys.readouterr().out.startswith("correct")
    assert main(["verify", "--json", "--", "x", "-x"]) == 0  # options still work before '--'
    assert json.loads(capsys.readouterr().out)["correct"] is False
    assert main(["verify", "-5", "\\boxed{-5}"]) == 0  # a negative number needs no '--'
    capsys.readouterr()
    assert main(["verify", "--help"]) == 0
    assert "goes after '--'" in capsys.readouterr().out


# ---------------------------------------------------------------- exit statuses in --help, --mirror


@pytest.mark.parametrize("command, says", [
    (["verify"], "2 verification failed"),
    (["verifiers", "audit"], "3 some rows could not be verified"),
    (["benchmarks", "check"], "3 some could not be verified"),
    (["sandbox", "check"], "1 none does"),
    (["sandbox", "build-image"], "2 a usage error"),
])
def test_exit_statuses_are_in_the_help(command, says, capsys):
    assert main([*command, "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Exit status: 0 " in out and says in out


def test_a_mirror_with_the_dockerfile_build_is_refused(capsys):
    # it was silently ignored (the Dockerfile build takes no mirror); refused before anything is built
    assert main(["sandbox", "build-image", "--method", "dockerfile", "--mirror", "http://deb.example/debian"]) == 2
    out, err = capsys.readouterr()
    assert not out and "--mirror is a Debian mirror for debootstrap" in err


@pytest.mark.parametrize("answer", ["\\boxed{12}", "\\boxed{(x+1)^2}"])
def test_a_timeout_past_a_day_is_refused_before_any_answer_is_read(answer):
    """(A review: only answers reaching the sympy stage raised, so some answers got verdicts and
    others an exception; an env accepted the setting and failed mid-run.)"""
    from rlvr.envs.scoring import resolve_verifier

    with pytest.raises(ValueError, match="at most 86400"):
        verify("x^2+2x+1", answer, timeout=100_000)
    with pytest.raises(ValueError, match="at most 86400"):
        verify_batch([("x^2+2x+1", answer)], timeout=100_000)
    with pytest.raises(ValueError, match=r"verifier_settings\['timeout'\] must be .* at most 86400"):
        resolve_verifier("math", timeout=100_000)
    assert verify("12", "\\boxed{12}", timeout=86_400).correct
