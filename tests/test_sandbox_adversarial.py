"""Hostile programs against every available sandbox backend.

Each attack must be contained: reported with the right status, the host unchanged, and the next
run unaffected. After every attack, a canary run checks that the sandbox still works and that
nothing the attack left (files, processes) is visible to it.
"""

from __future__ import annotations

import os
import textwrap
import uuid

import pytest

from rlvr.sandbox import make_sandbox

CANARY = textwrap.dedent(
    """
    import ctypes, os
    isolated = ISOLATED  # the backend's own namespaces (set per backend by `for_backend`)
    leftovers = sorted(os.listdir("."))
    tmp = sorted(os.listdir(os.environ.get("TMPDIR", "/tmp")))
    shm = sorted(os.listdir("/dev/shm")) if isolated and os.path.isdir("/dev/shm") else []
    mqueue = sorted(os.listdir("/dev/mqueue")) if isolated and os.path.isdir("/dev/mqueue") else []
    planted = [p for p in ("/leak", "/dev/leak", "/usr/leak") if os.path.exists(p)]
    queue = -1
    if isolated:
        rt = ctypes.CDLL("librt.so.1", use_errno=True)
        queue = rt.mq_open(b"/rlvr-leak", os.O_RDONLY)
    print("canary", leftovers, tmp, shm, mqueue, planted, queue)
    """
)


def for_backend(code: str, sandbox) -> str:
    """`code` with ISOLATED replaced by whether `sandbox` runs programs in namespaces of their own
    (its /dev/shm, /dev/mqueue and pids are then its own). Not guessed from a small pid inside the
    program: host pids wrap around (pid_max is often 32768), so an unisolated run can get one."""
    return code.replace("ISOLATED", repr(bool(sandbox.isolated)))


def assert_next_run_clean(sandbox):
    result = sandbox.run(for_backend(CANARY, sandbox), timeout=5)
    assert result.status == "ok", result
    assert result.stdout.strip() == "canary ['main.py'] [] [] [] [] -1", result.stdout


def host_processes_with(marker: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/environ", "rb") as handle:
                environ = handle.read().decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline or marker in environ:
            found.append(f"{pid}: {cmdline}")
    return found


# (name, code, allowed statuses, language). Each is run, then the canary.
ATTACKS = [
    ("infinite_loop", "while True: pass", {"timeout"}, "python"),
    ("sleep_forever", "import time\ntime.sleep(10**6)", {"timeout"}, "python"),
    ("ignore_sigterm_and_spin", "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True: pass",
     {"timeout"}, "python"),
    ("sigstop_self", "import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)", {"timeout"}, "python"),
    ("close_stdout_then_spin", "import os\nos.close(1)\nwhile True: pass", {"timeout"}, "python"),
    ("fork_bomb", "import os\nwhile True:\n    try: os.fork()\n    except OSError: pass",
     {"timeout", "error", "memory"}, "python"),
    ("shell_fork_bomb", "f() { f | f & }; f", {"timeout", "error", "ok"}, "bash"),
    ("thread_bomb", "import threading, time\nwhile True:\n    threading.Thread(target=time.sleep, args=(100,)).start()",
     {"error", "timeout", "memory"}, "python"),
    ("allocate_at_once", "x = bytearray(8 * 1024**3)", {"memory"}, "python"),
    ("allocate_slowly", "chunks = []\nwhile True: chunks.append(bytearray(10**7))", {"memory"}, "python"),
    ("raise_own_memory_limit",
     "import resource\ntry:\n    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY,) * 2)\n"
     "except (ValueError, OSError): pass\nx = bytearray(8 * 1024**3)", {"memory"}, "python"),
    ("raise_own_process_limit",
     "import resource\nresource.setrlimit(resource.RLIMIT_NPROC, (10**6, 10**6))", {"error"}, "python"),
    ("flood_stdout", "while True: print('x' * 1000)", {"output_limit"}, "python"),
    ("flood_stderr", "import sys\nwhile True: sys.stderr.write('y' * 1000)", {"output_limit"}, "python"),
    ("flood_from_shell", "yes", {"output_limit"}, "bash"),
    ("huge_file", "with open('big', 'wb') as f:\n    while True: f.write(b'0' * 10**6)", {"output_limit"}, "python"),
    ("fill_tmp_with_files",
     "import os, tempfile\nd = tempfile.gettempdir()\nfor i in range(10**6):\n"
     "    open(os.path.join(d, str(i)), 'wb').write(b'0' * 10**6)", {"output_limit", "error", "timeout"}, "python"),
    ("leave_background_process", "import subprocess\nsubprocess.Popen(['sleep', '1000'])\nprint('bye')",
     {"ok"}, "python"),
    ("daemonize_double_fork",
     "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
     "        while True:\n            open(os.path.join(os.environ['TMPDIR'], 'daemon'), 'w').write('alive')\n"
     "            time.sleep(0.01)\n    os._exit(0)\nprint('parent done')", {"ok"}, "python"),
    ("shell_background_job", "sleep 1000 &\ndisown\necho started", {"ok"}, "bash"),
    ("kill_parent", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nprint('still here')",
     {"ok", "error"}, "python"),
    ("kill_everything", "import os, signal\nos.kill(-1, signal.SIGKILL)", {"ok", "error"}, "python"),
    ("leave_files_in_workdir", "import os\nos.makedirs('a/b', exist_ok=True)\nopen('a/b/c', 'w').write('x')\n"
     "os.chmod('a/b', 0)\nos.chmod('a', 0)", {"ok"}, "python"),
    ("leave_files_in_tmp_and_shm",
     "import os\nopen(os.path.join(os.environ['TMPDIR'], 'left'), 'w').write('x')\n"
     "if os.path.isdir('/dev/shm') and os.access('/dev/shm', os.W_OK) and ISOLATED:\n"
     "    open('/dev/shm/left', 'w').write('x')", {"ok"}, "python"),
    ("symlink_to_root_in_workdir", "import os\nos.symlink('/', 'root')\nos.symlink('/usr', 'usr')", {"ok"}, "python"),
    ("exhaust_file_descriptors",
     "fds = []\nwhile True: fds.append(open('/dev/null'))", {"error"}, "python"),
    ("deep_recursion", "import sys\nsys.setrecursionlimit(10**9)\ndef f(n): return f(n + 1)\nf(0)",
     {"error", "memory", "timeout"}, "python"),
    ("exit_nonzero", "import sys\nsys.exit(3)", {"error"}, "python"),
    ("very_deep_directories",
     "import os\nfor _ in range(3000):\n    os.mkdir('d')\n    os.chdir('d')\nopen('bottom', 'w').write('x')",
     {"ok"}, "python"),
    ("interrupt_the_worker", "import os, signal\nfor pid in (os.getppid(), 1):\n"
     "    try: os.kill(pid, signal.SIGINT)\n    except OSError: pass\nprint('sent')", {"ok"}, "python"),
]


@pytest.mark.parametrize("name,code,statuses,language", ATTACKS, ids=[a[0] for a in ATTACKS])
def test_attack_is_contained(sandbox, name, code, statuses, language):
    result = sandbox.run(for_backend(code, sandbox), language=language, timeout=2)
    assert result.status in statuses, (name, result)
    assert result.status != "sandbox_error"
    assert len(result.stdout) <= sandbox.limits.max_output_bytes
    assert len(result.stderr) <= sandbox.limits.max_output_bytes
    assert_next_run_clean(sandbox)


def test_no_process_survives_on_the_host(sandbox):
    marker = f"rlvr-marker-{uuid.uuid4().hex}"
    code = (f"import subprocess, os\nenv = dict(os.environ, MARK='{marker}')\n"
            "subprocess.Popen(['sleep', '1000'], env=env, start_new_session=True)\n"
            "if os.fork() == 0:\n    os.setsid()\n    os.execve('/bin/sleep', ['sleep', '999'], env)\n")
    result = sandbox.run(code, timeout=3)
    assert result.status == "ok", result
    assert host_processes_with(marker) == []


def test_run_cannot_forge_result_through_control_pipe(sandbox):
    # The worker's control pipes are closed in the child: writing a fake result anywhere we can
    # reach must not change what the host receives.
    forged = '{"status": "ok", "exit_code": 0, "stdout": "FORGED", "stderr": "", "wall_time": 0}\\n'
    code = ("import os\nfor fd in range(3, 256):\n    try: os.write(fd, b'" + forged + "')\n"
            "    except OSError: pass\nraise SystemExit(7)")
    result = sandbox.run(code)
    assert result.status == "error" and result.exit_code == 7, result
    assert "FORGED" not in result.stdout


SYSV_SHM = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
IPC_CREAT = 0o1000
shmid = libc.shmget(0x5EC12E7, 4096, {flags})
print("shmid", shmid)
"""


def test_sysv_shared_memory_does_not_outlive_the_run(sandbox):
    if not sandbox.isolated:
        pytest.skip("the subprocess backend shares the host's IPC namespace")
    created = sandbox.run(SYSV_SHM.format(flags="IPC_CREAT | 0o600"))
    if sandbox.name == "bwrap":  # refused outright: segments there are memory no limit covers
        assert created.status == "ok" and int(created.stdout.split()[1]) == -1, created
    else:
        assert created.status == "ok" and int(created.stdout.split()[1]) >= 0, created
    found = sandbox.run(SYSV_SHM.format(flags="0o600"))  # look it up by key, without creating
    assert found.status == "ok" and int(found.stdout.split()[1]) == -1, found


POSIX_MQUEUE = """
import ctypes, os
rt = ctypes.CDLL("librt.so.1", use_errno=True)
class Attr(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_long), ("maxmsg", ctypes.c_long), ("msgsize", ctypes.c_long),
                ("curmsgs", ctypes.c_long), ("reserved", ctypes.c_long * 4)]
attr = Attr(0, 1, 64, 0)
queue = rt.mq_open(b"/rlvr-leak", os.O_CREAT | os.O_RDWR, 0o600, ctypes.byref(attr))
assert queue >= 0, ctypes.get_errno()
assert rt.mq_send(queue, b"SECRET", 6, 0) == 0
print("queued")
"""


def test_posix_message_queues_do_not_outlive_the_run(sandbox):
    if not sandbox.isolated:
        pytest.skip("the subprocess backend shares the host's IPC namespace")
    result = sandbox.run(POSIX_MQUEUE)
    assert result.status == "ok" and result.stdout == "queued\n", result
    assert_next_run_clean(sandbox)  # the canary tries to open the queue


def test_root_and_dev_are_read_only(sandbox):
    if not sandbox.isolated:
        pytest.skip("the subprocess backend is documented as no security boundary")
    code = ("import os\nfor path in ('/leak', '/dev/leak', '/usr/leak', '../leak'):\n"
            "    try:\n        open(path, 'w').write('x'); print('WROTE', path)\n"
            "    except OSError as e: print('denied', path)")
    result = sandbox.run(code)
    assert result.status == "ok" and "WROTE" not in result.stdout, result
    assert_next_run_clean(sandbox)


ISOLATION_ATTACKS = [
    ("network_outside", "import socket\ns = socket.socket()\ns.settimeout(2)\n"
     "try:\n    s.connect(('1.1.1.1', 80)); print('CONNECTED')\nexcept OSError as e: print('blocked', e)"),
    ("network_loopback_of_host", "import socket\ns = socket.socket()\ns.settimeout(2)\n"
     "try:\n    s.connect(('127.0.0.1', 22)); print('CONNECTED')\nexcept OSError as e: print('blocked', e)"),
    ("read_host_repository", f"print(open({os.path.abspath(__file__)!r}).read()[:20])"),
    ("read_root_home", "import os\nprint(os.listdir('/root'))"),
    ("read_shadow", "print(open('/etc/shadow').read())"),
    ("write_system_dir", "open('/usr/rlvr-pwned', 'w').write('x')"),
    ("write_proc_sys", "open('/proc/sys/kernel/hostname', 'w').write('pwned')"),
    ("read_parent_memory", "import os\nf = open(f'/proc/{os.getppid()}/mem', 'rb')\nprint('OPENED')"),
    ("see_host_processes", "import os\nn = len([p for p in os.listdir('/proc') if p.isdigit()])\n"
     "assert n < 10, n\nprint('few processes', n)"),
]


@pytest.mark.parametrize("name,code", ISOLATION_ATTACKS, ids=[a[0] for a in ISOLATION_ATTACKS])
def test_isolation(sandbox, name, code):
    if not sandbox.isolated:
        pytest.skip("the subprocess backend is documented as no security boundary")
    result = sandbox.run(code, timeout=5)
    assert "CONNECTED" not in result.stdout and "OPENED" not in result.stdout, result
    if name.startswith("network") or name == "see_host_processes":
        assert result.status == "ok", result
    else:
        assert result.status == "error", result
        assert "rlvr" not in result.stdout and "root:" not in result.stdout
    assert not os.path.exists("/usr/rlvr-pwned")
    assert_next_run_clean(sandbox)


@pytest.mark.parametrize("backend", ["bwrap", "docker", "subprocess"])
def test_host_environment_is_not_visible(backend, monkeypatch):
    from conftest import get_sandbox

    get_sandbox(backend)  # skips (or fails in CI) when the backend is unavailable
    monkeypatch.setenv("RLVR_TEST_SECRET_TOKEN", "hunter2")
    with make_sandbox(backend) as sandbox:  # a fresh one, started with the secret in our environment
        result = sandbox.run("import os\nprint(sorted(os.environ.items()))")
    assert result.status == "ok", result
    assert "RLVR_TEST_SECRET_TOKEN" not in result.stdout and "hunter2" not in result.stdout


def test_concurrent_runs_do_not_see_each_other(sandbox):
    code = textwrap.dedent(
        """
        import os, time, sys
        me = sys.stdin.read().strip()
        open(me, 'w').write(me)
        time.sleep(0.3)
        print(sorted(os.listdir('.')))
        """
    )
    jobs = [{"code": code, "stdin": f"file{i}"} for i in range(4)]
    results = sandbox.run_many(jobs, concurrency=4)
    for i, result in enumerate(results):
        assert result.status == "ok", result
        assert result.stdout.strip() == str(sorted(["main.py", f"file{i}"]))
