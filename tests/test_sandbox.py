"""The sandbox API on every available backend: results, limits, files, languages, concurrency, faults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from rlvr.sandbox import ExecResult, Limits, SandboxUnavailable, make_sandbox
from rlvr.sandbox.bwrap import BwrapSandbox, default_python
from conftest import shell_interpreter


def test_stdout_stdin_exit_code(sandbox):
    result = sandbox.run("import sys\nname = input()\nprint('hi', name)\nsys.exit(0)", stdin="ada\n")
    assert result.status == "ok" and result.exit_code == 0
    assert result.stdout == "hi ada\n" and result.stderr == ""
    assert result.backend == sandbox.name
    assert result.wall_time > 0


def test_error_reports_traceback_without_worker_frames(sandbox):
    result = sandbox.run("def f():\n    raise ValueError('boom')\nf()")
    assert result.status == "error" and result.exit_code == 1
    assert "ValueError: boom" in result.stderr
    assert "worker" not in result.stderr  # the traceback starts at the program


def test_systemexit_with_message_and_code(sandbox):
    assert sandbox.run("raise SystemExit('bye')").exit_code == 1
    assert sandbox.run("raise SystemExit(4)").exit_code == 4
    assert sandbox.run("import os\nos._exit(9)").exit_code == 9



# -- the end of a program: threads joined, atexit handlers run, streams flushed, as in python3 ----
THREAD_IDIOM = (  # competitive programming: the real main in a thread with a big stack
    "import sys, threading, time\n"
    "def main():\n"
    "    time.sleep(0.2)\n"
    "    print(sum(int(x) for x in sys.stdin.read().split()))\n"
    "sys.setrecursionlimit(1 << 25)\n"
    "threading.stack_size(1 << 26)\n"
    "threading.Thread(target=main).start()\n"
)

#: (program, exit status, stdout, text in stderr): what `python3 main.py` gives, checked below
#: against the real interpreter, then against every backend.
SHUTDOWN_CASES = {
    "thread_idiom": (THREAD_IDIOM, 0, "6\n", ""),
    "atexit_flushes_a_buffer": ("import atexit, io, sys\n_out = io.StringIO()\n"
                                "atexit.register(lambda: sys.__stdout__.write(_out.getvalue()))\n"
                                "print(sum(map(int, input().split())) * 2, file=_out)\n", 0, "12\n", ""),
    "atexit_order_after_systemexit": ("import atexit\natexit.register(print, 'a1')\natexit.register(print, 'a2')\n"
                                      "raise SystemExit(None)\n", 0, "a2\na1\n", ""),
    "atexit_after_an_error": ("import atexit\natexit.register(print, 'bye')\n1 / 0\n", 1, "bye\n", "ZeroDivisionError"),
    "systemexit_in_atexit_is_ignored": ("import atexit, sys\natexit.register(sys.exit, 3)\n", 0, "", "SystemExit: 3"),
    "main_status_wins_over_atexit": ("import atexit, sys\natexit.register(sys.exit, 3)\nsys.exit(5)\n", 5, "", ""),
    "thread_joined_after_sys_exit": ("import sys, threading, time\n"
                                     "threading.Thread(target=lambda: (time.sleep(0.2), print('t'))).start()\nsys.exit(7)\n",
                                     7, "t\n", ""),
    "threads_before_atexit": ("import atexit, threading, time\natexit.register(print, 'exit')\n"
                              "threading.Thread(target=lambda: (time.sleep(0.2), print('thread'))).start()\n",
                              0, "thread\nexit\n", ""),
    "sys_exit_in_a_thread": ("import sys, threading\nthreading.Thread(target=lambda: sys.exit(4)).start()\nprint('main')\n",
                             0, "main\n", ""),
    "error_in_a_thread": ("import threading\nthreading.Thread(target=lambda: 1 / 0).start()\n", 0, "", "Exception in thread"),
    "daemon_thread_is_not_waited_for": ("import threading, time\n"
                                        "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\nprint('done')\n",
                                        0, "done\n", ""),
    "only_the_programs_exit_handlers": ("import atexit\nprint(atexit._ncallbacks())\n", 0, "0\n", ""),
    "program_excepthook": ("import sys\nsys.excepthook = lambda kind, value, tb: print('hook', kind.__name__)\n1 / 0\n",
                           1, "hook ZeroDivisionError\n", ""),
    "failed_flush_is_120": ("import os\nprint('lost')\nos.close(1)\n", 120, "", ""),
    "keyboard_interrupt_dies_of_sigint": ("import atexit\natexit.register(print, 'cleanup')\nraise KeyboardInterrupt\n",
                                          -signal.SIGINT, "cleanup\n", "KeyboardInterrupt"),
}


@pytest.mark.parametrize("case", sorted(SHUTDOWN_CASES))
def test_shutdown_cases_are_what_python3_does(case, tmp_path):
    code, status, stdout, stderr = SHUTDOWN_CASES[case]
    (tmp_path / "main.py").write_text(code)
    proc = subprocess.run([default_python(), "main.py"], cwd=tmp_path, input="1 2 3\n", capture_output=True,
                          text=True, timeout=30, env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8"})
    assert (proc.returncode, proc.stdout) == (status, stdout), proc
    assert stderr in proc.stderr


@pytest.mark.parametrize("case", sorted(SHUTDOWN_CASES))
def test_programs_end_as_under_python3(sandbox, case):
    code, status, stdout, stderr = SHUTDOWN_CASES[case]
    result = sandbox.run(code, stdin="1 2 3\n")
    assert (result.exit_code, result.stdout) == (status, stdout), result
    assert stderr in result.stderr, result
    assert result.status == ("ok" if status == 0 else "error"), result


def test_the_thread_idiom_keeps_its_output_every_time(sandbox):
    # without a wait for the thread, most of these runs used to end before it printed
    code = THREAD_IDIOM.replace("    time.sleep(0.2)\n", "")
    results = sandbox.run_many([{"code": code, "stdin": " ".join(map(str, range(2000)))}] * 12, concurrency=2)
    assert [(r.status, r.stdout) for r in results] == [("ok", f"{sum(range(2000))}\n")] * 12, results


@pytest.mark.parametrize("daemon", [False, True])
def test_time_limits_apply_to_threads(sandbox, daemon):
    spin = ("import threading\ndef spin():\n    while True:\n        pass\n"
            f"threading.Thread(target=spin, daemon={daemon}).start()\n")
    if daemon:  # a daemon thread is not waited for: the main thread must spin for the run to time out
        spin += "spin()\n"
    result = sandbox.run(spin, timeout=1)
    assert result.status == "timeout" and result.wall_time < 4, result
    result = sandbox.run("import threading, time\nthreading.Thread(target=time.sleep, args=(60,)).start()", timeout=0.5)
    assert result.status == "timeout", result

OOM_SCORES = """
import subprocess, sys
own = open('/proc/self/oom_score_adj').read().strip()
child = subprocess.run([sys.executable, '-c', "print(open('/proc/self/oom_score_adj').read().strip())"],
                       capture_output=True, text=True).stdout.strip()
print(own, child)
"""


def test_a_runs_processes_are_the_oom_killers_first_choice(sandbox):
    """When memory runs out, the kernel ends the run's processes (and their children) before the
    sandbox's worker or the caller's process (a trainer): oom_score_adj 1000 for them only."""
    before = open("/proc/self/oom_score_adj").read().strip()
    result = sandbox.run(OOM_SCORES)
    assert result.status == "ok" and result.stdout.split() == ["1000", "1000"], result
    assert open("/proc/self/oom_score_adj").read().strip() == before != "1000"


def test_files_are_placed_in_the_work_dir(sandbox):
    files = {"data/input.txt": "1 2 3", "blob.bin": bytes(range(256)), "helper.py": "VALUE = 41\n"}
    code = ("import helper\nprint(helper.VALUE + 1)\nprint(open('data/input.txt').read())\n"
            "print(len(open('blob.bin', 'rb').read()))")
    result = sandbox.run(code, files=files)
    assert result.status == "ok", result
    assert result.stdout.split("\n")[:3] == ["42", "1 2 3", "256"]


def test_bash_language(sandbox):
    result = sandbox.run("read x; echo \"got $x\"; exit 3", stdin="7\n", language="bash")
    assert result.status == "error" and result.exit_code == 3 and result.stdout == "got 7\n"


def test_per_run_limit_overrides(sandbox):
    assert sandbox.run("import time\ntime.sleep(0.5)", timeout=0.2).status == "timeout"
    assert sandbox.run("import time\ntime.sleep(0.2)", timeout=2).status == "ok"
    result = sandbox.run("print('x' * 5000)", max_output_bytes=1000)
    assert result.status == "output_limit" and len(result.stdout) == 1000
    assert sandbox.run("x = bytearray(100 * 1024 * 1024)", memory_mb=64).status == "memory"


def test_cpu_time_limit_is_reported_as_timeout(sandbox):
    result = sandbox.run("while True: pass", timeout=5, cpu_time=0.5)
    assert result.status == "timeout", result
    assert "CPU-time limit of 0.5s exceeded" in result.message


def test_a_run_using_more_cpu_than_its_limit_is_a_timeout_though_it_finished(sandbox):
    # RLIMIT_CPU counts whole seconds and was set one past the limit: a program using 1.6 s of CPU
    # with cpu_time=1 finished "ok"
    busy = "import time\nend = time.process_time() + 1.4\nwhile time.process_time() < end: pass\nprint('done')"
    result = sandbox.run(busy, timeout=20, cpu_time=1)
    assert result.status == "timeout", result
    assert result.message.startswith("CPU-time limit of 1s exceeded"), result.message
    result = sandbox.run(busy, timeout=20, cpu_time=1.2)  # the kernel's limit, 2 s, is not reached
    assert result.status == "timeout" and result.message.startswith("CPU-time limit of 1.2s exceeded ("), result
    assert sandbox.run(busy, timeout=20, cpu_time=3).status == "ok"


def test_unicode_and_binary_output(sandbox):
    result = sandbox.run("import sys\nprint('héllo ✓')\nsys.stdout.flush()\nsys.stdout.buffer.write(b'\\xff\\n')")
    assert result.status == "ok"
    assert result.stdout.startswith("héllo ✓\n")


def test_run_many_keeps_order_and_isolates_failures(sandbox):
    jobs = [f"print({i})" for i in range(6)]
    jobs[2] = {"code": "while True: pass", "timeout": 0.5}
    results = sandbox.run_many(jobs, concurrency=3)
    assert [r.stdout.strip() for i, r in enumerate(results) if i != 2] == ["0", "1", "3", "4", "5"]
    assert results[2].status == "timeout"
    jobs[4] = {"code": "print(1)", "language": "cobol"}  # a caller's mistake raises, as `run` does: nothing runs
    with pytest.raises(ValueError, match="job 4: .*cobol"):
        sandbox.run_many(jobs, concurrency=3)


def test_workers_outlive_the_threads_of_run_many(sandbox):
    # bwrap's --die-with-parent is tied to the starting *thread*: workers started inside one
    # run_many's thread pool used to die with it and fail the next call.
    for _ in range(3):
        results = sandbox.run_many(["print(1)"] * 4, concurrency=2)
        assert [r.status for r in results] == ["ok"] * 4, results


def test_bad_arguments_raise_clear_errors(sandbox):
    with pytest.raises(ValueError, match="unsupported language"):
        sandbox.run("print(1)", language="cobol")
    with pytest.raises(ValueError, match="bad file name"):
        sandbox.run("print(1)", files={"../escape": "x"})
    with pytest.raises(TypeError, match="unknown sandbox limit"):
        sandbox.run("print(1)", walltime=3)
    with pytest.raises(ValueError, match="timeout must be positive"):
        sandbox.run("print(1)", timeout=0)
    with pytest.raises(ValueError, match="taken by the program"):
        sandbox.run("print(1)", files={"main.py": "print(2)"})
    with pytest.raises(ValueError, match="clash"):
        sandbox.run("print(1)", files={"a": "x", "a/b": "y"})


def test_program_that_is_not_valid_text_is_the_programs_error(sandbox):
    # a lone surrogate cannot be written as UTF-8: the program is broken, the sandbox is fine
    result = sandbox.run("print(1)  # \ud800")
    assert result.status == "error" and result.exit_code is None
    assert result.message.startswith("the program is not valid text: 'utf-8' codec can't encode character '\\ud800'")
    with pytest.raises(ValueError, match="stdin is not valid text"):
        sandbox.run("print(input())", stdin="\ud800")
    with pytest.raises(ValueError, match="file 'data.txt' is not valid text"):
        sandbox.run("print(1)", files={"data.txt": "\udfff"})
    assert sandbox.run("print('\u00e9\U0001f600')").stdout == "\u00e9\U0001f600\n"


def test_exec_result_rejects_unknown_status():
    with pytest.raises(ValueError, match="unknown ExecResult status"):
        ExecResult("fine", 0, "", "", 0.0)


def test_limits_defaults_and_overrides():
    limits = Limits().with_overrides(timeout=3, memory_mb=None)
    assert limits.timeout == 3 and limits.memory_mb == Limits().memory_mb
    assert limits.cpu_seconds == 4


def test_unknown_backend_names_the_choices():
    with pytest.raises(ValueError, match="bwrap"):
        make_sandbox("firecracker")


def test_docker_missing_image_names_the_fix():
    pytest.importorskip("docker")
    from rlvr.sandbox.docker_backend import DockerSandbox

    available, why = DockerSandbox.check()
    if not available and "image" not in why:
        pytest.skip(f"no Docker daemon here: {why}")
    with pytest.raises(SandboxUnavailable, match="rlvr sandbox build-image"):
        make_sandbox("docker", image="rlvr-no-such-image:never")


def test_docker_daemon_down_names_the_fix(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(SandboxUnavailable, match="Docker daemon"):
        make_sandbox("docker")


def test_bwrap_missing_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    available, why = BwrapSandbox.check()
    assert not available and "apt-get install bubblewrap" in why
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        make_sandbox("bwrap")


def test_worker_that_cannot_start_is_a_sandbox_error_not_a_program_failure():
    if not BwrapSandbox.check()[0]:
        pytest.skip("bwrap unavailable here")
    # an "interpreter" that passes the backend's start-up probes (it answers the version probe
    # with a Python version and no extra folders) and then exits at once when started as a worker
    with shell_interpreter('case "$3" in *"sys.version_info <"*) echo 3.11.2; echo "[]"; exit 0;; esac\nexit 1\n') as python:
        with make_sandbox("bwrap", python=python) as sandbox:
            result = sandbox.run("print(1)")
    assert result.status == "sandbox_error" and result.infrastructure_failed
    assert "did not start" in result.message
    with pytest.raises(SandboxUnavailable, match="does not exist"):
        make_sandbox("bwrap", python="/nonexistent")
    with pytest.raises(SandboxUnavailable, match="does not run inside bwrap"):  # found when the sandbox is made
        make_sandbox("bwrap", python="/bin/false")


def test_auto_picks_an_isolating_backend_and_says_which(caplog):
    if not BwrapSandbox.check()[0]:
        pytest.skip("bwrap unavailable here: auto picks something else")
    with caplog.at_level("INFO", logger="rlvr.sandbox"), make_sandbox("auto") as sandbox:
        assert sandbox.name == "bwrap" and sandbox.isolated
    assert "using the bwrap backend" in caplog.text


def test_cli_sandbox_check_lists_every_backend():
    proc = subprocess.run([sys.executable, "-m", "rlvr.cli", "sandbox", "check"],
                          capture_output=True, text=True, timeout=120)
    for backend in ("bwrap", "docker", "subprocess"):
        assert backend in proc.stdout
    assert "make_sandbox('auto')" in proc.stdout


def test_cli_sandbox_run_bad_options_and_unstartable_backends_are_clear_errors(tmp_path):
    program = tmp_path / "p.py"
    program.write_text("print(1)")

    def run(*options, env=None):
        return subprocess.run([sys.executable, "-m", "rlvr.cli", "sandbox", "run", str(program), *options],
                              capture_output=True, text=True, timeout=60, env=env)

    bad_limit = run("--backend", "subprocess", "--timeout", "-1")
    assert bad_limit.returncode == 2 and "timeout must be positive" in bad_limit.stderr and "Traceback" not in bad_limit.stderr
    bad_language = run("--language", "ruby")
    assert bad_language.returncode == 2 and "invalid choice: 'ruby'" in bad_language.stderr
    # a Docker daemon that cannot be reached (a socket path that does not exist)
    no_daemon = run("--backend", "docker", env={**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no.sock"})
    assert no_daemon.returncode == 2 and "the docker sandbox cannot start" in no_daemon.stderr
    assert "Traceback" not in no_daemon.stderr


def test_cli_sandbox_run_missing_file_is_a_clear_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "rlvr.cli", "sandbox", "run", str(tmp_path / "nope.py")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "cannot read program" in proc.stderr and "Traceback" not in proc.stderr


def test_docker_per_run_limit_above_the_container_is_bad_input():
    from conftest import get_sandbox

    sandbox = get_sandbox("docker", timeout=5, memory_mb=256)
    with pytest.raises(ValueError, match="docker backend fixes memory_mb"):
        sandbox.run("print(1)", memory_mb=1024)


def test_cli_sandbox_run(tmp_path):
    program = tmp_path / "p.py"
    program.write_text("print(6 * 7)")
    proc = subprocess.run([sys.executable, "-m", "rlvr.cli", "sandbox", "run", str(program),
                           "--backend", "subprocess"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout == "42\n"
    assert '"status": "ok"' in proc.stderr


def test_subprocess_backend_says_it_is_not_isolated():
    from rlvr.sandbox.subprocess_backend import SubprocessSandbox

    assert SubprocessSandbox.isolated is False
    assert "no security boundary" in (SubprocessSandbox.__doc__ or "") + (
        sys.modules[SubprocessSandbox.__module__].__doc__ or ""
    ).lower()


def test_a_closed_sandbox_refuses_a_run_as_the_callers_mistake():
    """A run made after close() is the caller's mistake: it raises, never a retryable sandbox_error
    (a verifier scored it as an infrastructure failure). Runs in flight at close() are another matter."""
    sandbox = make_sandbox("subprocess")
    assert sandbox.run("print(1)").ok
    sandbox.close()
    with pytest.raises(RuntimeError, match="closed"):
        sandbox.run("print(1)")
    assert not os.path.exists(sandbox._root)


def _live_processes_of(uid: int) -> list[int]:
    """Pids of the processes running as `uid` that have not exited (zombies left out)."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
        except OSError:
            continue
        if int(fields["Uid"].split()[0]) == uid and not fields["State"].strip().startswith("Z"):
            pids.append(int(name))
    return pids


@pytest.mark.skipif(os.geteuid() != 0, reason="jobs run under uids of their own only when rlvr runs as root")
def test_closing_the_subprocess_sandbox_mid_run_kills_what_its_jobs_started():
    import threading
    import time

    sandbox = make_sandbox("subprocess")
    # the job and a child that left its process group (the worker's group kill misses it)
    code = "import os, time\nif os.fork() == 0:\n    os.setsid()\ntime.sleep(60)\n"
    runner = threading.Thread(target=sandbox.run, args=(code,), kwargs={"timeout": 30})
    runner.start()
    deadline = time.monotonic() + 20
    while not sandbox._pool._all and time.monotonic() < deadline:
        time.sleep(0.05)
    (channel,) = sandbox._pool._all
    uid = int(channel.process.args[-1])  # the worker's last argument: its jobs' uid
    while len(_live_processes_of(uid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_live_processes_of(uid)) == 2
    sandbox.close()  # kills the worker mid-run
    runner.join(10)
    deadline = time.monotonic() + 5
    while _live_processes_of(uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _live_processes_of(uid) == []


def test_output_printed_before_a_thread_hangs_is_kept(sandbox):
    """Python flushes stdout when the main module ends, before it waits for threads: what a program
    printed before a never-ending thread timed it out is shown, as under python3."""
    code = "import threading, time\nthreading.Thread(target=lambda: time.sleep(60)).start()\nprint('answer 42')"
    result = sandbox.run(code, timeout=1.5)
    assert result.status == "timeout" and result.stdout == "answer 42\n", result
