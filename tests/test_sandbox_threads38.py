"""Finding of the session-38 red team: threads under the default limits.

A correct program with `ThreadPoolExecutor(max_workers=16)` failed ("can't start new thread",
status `error`) on every backend with the default limits (memory_mb=512, max_processes=32) while
using ~20 MB: `memory_mb` is a per-process RLIMIT_AS, and glibc's malloc reserved a 64 MiB arena
for each new thread on top of its 8 MiB stack, so about 12 threads fitted in 512 MiB (4 in 256).
A job's process now has one malloc arena (mallopt, and MALLOC_ARENA_MAX for what it execs): a
thread costs its stack. A thread start refused by a limit names it: `memory`, or the process
limit (`error`, its message says so) — never a bare "exited with code 1".
"""

from __future__ import annotations

import textwrap

import pytest
from conftest import get_sandbox

BACKENDS = ["subprocess", "bwrap", "docker"]


@pytest.fixture(params=BACKENDS)
def default_box(request):
    """Each backend's sandbox with the default limits (memory_mb=512, max_processes=32)."""
    return get_sandbox(request.param)


POOL = textwrap.dedent("""
    from concurrent.futures import ThreadPoolExecutor
    import time
    with ThreadPoolExecutor(max_workers={n}) as ex:
        print(sum(ex.map(lambda x: (time.sleep(0.3), x)[1], range({n}))))
""")


@pytest.mark.parametrize("threads", [16, 30])
def test_a_thread_pool_within_max_processes_runs_under_the_default_limits(default_box, threads):
    result = default_box.run(POOL.format(n=threads))
    assert result.status == "ok", result
    assert result.stdout == f"{sum(range(threads))}\n"


def test_a_python3_the_program_execs_gets_its_threads_too(default_box):
    """The programs a job execs (here a python3 started by bash) have one malloc arena as well."""
    script = "python3 -c \"$(cat <<'EOF'\n" + POOL.format(n=16) + "EOF\n)\"\n"
    result = default_box.run(script, language="bash")
    assert result.status == "ok", result
    assert result.stdout == "120\n"


BOMB = textwrap.dedent("""
    import threading, time
    while True:
        threading.Thread(target=time.sleep, args=(3,), daemon=True).start()
""")


def test_a_thread_bomb_stops_at_the_process_limit_and_says_so(default_box):
    result = default_box.run(BOMB)
    assert result.status == "error", result
    assert "most likely at the process limit: max_processes=32" in result.message, result
    assert "can't start new thread" in result.stderr


def test_a_thread_bomb_after_a_large_freed_buffer_is_still_the_process_limit(default_box):
    """Review of 0441ff5: the refusal compared the lifetime peak (VmPeak) with RLIMIT_AS, so a
    bomb after a 476 MiB buffer was freed read as `memory` though ~280 MiB were mapped then."""
    result = default_box.run("big = bytearray(476 << 20)\ndel big\n" + BOMB)
    assert result.status == "error", result
    assert "max_processes=32" in result.message, result


def test_threads_refused_for_lack_of_memory_are_memory(default_box):
    """With memory_mb=64 the stacks of a few threads fill it before max_processes is reached."""
    result = default_box.run(BOMB, memory_mb=64)
    assert result.status == "memory", result
    assert "can't start new thread" in result.stderr


def test_threads_that_allocate_past_memory_mb_are_memory(default_box):
    code = textwrap.dedent("""
        from concurrent.futures import ThreadPoolExecutor
        blocks = []
        def hold(i):  # (kept: 16 x 40 MiB is past memory_mb whatever the threads' timing)
            blocks.append(bytearray(40 << 20))
            return len(blocks[-1])
        with ThreadPoolExecutor(max_workers=16) as ex:
            print(sum(ex.map(hold, range(16))))
    """)
    result = default_box.run(code)
    assert result.status == "memory", result
    # (an allocation or, with the blocks held, a later thread's stack: both are memory_mb's)
    assert "MemoryError" in result.stderr or "can't start new thread" in result.stderr


def test_a_program_that_catches_the_refusal_is_its_own_business(default_box):
    code = BOMB.replace("while True:", "try:\n    while True:").replace(
        "\n    threading.Thread", "\n        threading.Thread") + "except RuntimeError:\n    print('caught')\n"
    result = default_box.run(code)
    assert result.status == "ok", result
    assert result.stdout == "caught\n"


def test_a_thread_recurses_as_deep_as_under_python3(default_box):
    """The 8 MiB default thread stack stays: recursion through C (lru_cache) 5000 deep in a thread."""
    code = textwrap.dedent("""
        import sys, threading
        from functools import lru_cache
        sys.setrecursionlimit(20000)
        @lru_cache(maxsize=None)
        def depth(n):
            return 0 if n == 0 else 1 + depth(n - 1)
        out = []
        thread = threading.Thread(target=lambda: out.append(depth(5000)))
        thread.start()
        thread.join()
        print(out)
    """)
    result = default_box.run(code)
    assert result.status == "ok", result
    assert result.stdout == "[5000]\n"
