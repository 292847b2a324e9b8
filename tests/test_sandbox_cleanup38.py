"""Finding of the session-38 red team: a program that leaves many directories.

A program that made 300,000 empty directories in its work dir (subprocess backend, timeout=60)
was run twice and then reported as `error` ("the program killed or froze its sandbox supervisor"),
the caller waiting 150 s: the worker wiped the work dir before it answered, the wipe took longer
than the run's grace, and the late answer read as a frozen worker. The worker now answers first,
then wipes, then says so (`CLEAN_LINE`); the pool hands it no run before that, and a worker still
wiping after a short wait is set aside (`WarmPool._settle`), so that no other run waits for it.

Here the same at a small scale on every backend: a grace of 0.2 s, and a program that makes up to
100,000 directories (a wipe of seconds) and answers 3.4 s into its 4 s time limit.
"""

from __future__ import annotations

import textwrap
import time

import pytest
from conftest import own_sandbox

from rlvr.sandbox import pool as pool_module

BACKENDS = ["subprocess", "bwrap", "docker"]
TIMEOUT = 4.0

MANY_DIRS = textwrap.dedent("""
    import os, time
    began = time.monotonic()
    os.mkdir('d')
    for i in range(100000):
        if time.monotonic() - began > 1.0:
            break
        os.mkdir('d/%d' % i)
    time.sleep(max(0.0, 3.4 - (time.monotonic() - began)))
    print('made')
""")

#: What a run sees in its work dir besides its own program: nothing a run before it left.
LISTING = "import os, sys; print(sorted(n for n in os.listdir('.') if n != os.path.basename(sys.argv[0])))"


@pytest.fixture(params=BACKENDS)
def box(request):
    sandbox = own_sandbox(request.param, timeout=TIMEOUT, max_concurrent=1, max_files=200_000)
    yield sandbox
    sandbox.close()


def _settled(pool, within: float) -> bool:
    """Whether the pool's set-aside workers all finished their wipe within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        pool._sweep_cleaning()
        if not pool._cleaning:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.timeout(90)
def test_a_program_that_leaves_many_dirs_is_answered_in_time_and_run_once(box, monkeypatch):
    monkeypatch.setattr(pool_module, "GRACE_SECONDS", 0.2)  # the answer must not wait for the wipe
    monkeypatch.setattr(pool_module, "CLEAN_WAIT_SECONDS", 0.05, raising=False)  # (surely set aside)
    began = time.monotonic()
    result = box.run(MANY_DIRS)
    elapsed = time.monotonic() - began
    assert result.status == "ok", (result.status, result.message)
    assert result.stdout == "made\n"
    assert elapsed < TIMEOUT + 1.5, elapsed  # (before: two runs, each lost at its deadline)
    pool = box._pool
    assert len(pool._cleaning) == 1  # still wiping: set aside, not idle

    # the next run (another caller's) gets another worker at once, and a clean work dir
    began = time.monotonic()
    nxt = box.run(LISTING)
    assert nxt.status == "ok" and nxt.stdout == "[]\n", (nxt.status, nxt.message, nxt.stdout)
    assert time.monotonic() - began < 10  # (a fresh worker's start, not the wipe's end)

    # once its wipe is done, the set-aside worker serves runs again, with nothing left of the program
    assert _settled(pool, 60), "the set-aside worker never finished its wipe"
    assert len(pool._idle) == 2
    for _ in range(2):  # (each idle worker once: the last released is taken first)
        again = box.run(LISTING)
        assert again.status == "ok" and again.stdout == "[]\n", (again.status, again.message, again.stdout)


def test_an_ordinary_run_leaves_its_worker_idle_and_clean(box):
    for _ in range(3):
        result = box.run("open('x', 'w').write('1'); print(1)")
        assert result.status == "ok" and result.stdout == "1\n", (result.status, result.message)
        assert not box._pool._cleaning and len(box._pool._idle) == 1  # wiped within the short wait
        listing = box.run(LISTING)
        assert listing.status == "ok" and listing.stdout == "[]\n", (listing.status, listing.message, listing.stdout)
