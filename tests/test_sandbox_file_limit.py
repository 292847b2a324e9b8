"""`max_files`: how many files and directories each of a run's tmpfs mounts may hold.

Empty files take no space, so the size limit alone would let a run make hundreds of thousands of
them within its time (kernel memory, and a wipe afterwards that holds the run's slot for seconds).
Docker's mounts refuse more (`nr_inodes`); bubblewrap cannot set that, so its worker counts them
while the run goes on and ends a run past the limit.
"""

from __future__ import annotations

import pytest

from rlvr.sandbox import Limits

from conftest import get_sandbox

pytestmark = pytest.mark.timeout(180)

#: Makes files in `path` until it has made `count` or is stopped; prints how many it made.
MAKE_FILES = """
import os, sys
path, count = sys.argv[1] if len(sys.argv) > 1 else {path!r}, {count}
made = 0
try:
    while made < count:
        os.close(os.open(f'{{path}}/f{{made}}', os.O_CREAT | os.O_WRONLY, 0o600))
        made += 1
except OSError as exc:
    print('refused', exc.errno)
print(made)
"""


def make_files(path: str, count: int) -> str:
    return MAKE_FILES.format(path=path, count=count)


def test_bwrap_ends_a_run_that_fills_a_mount_with_empty_files():
    sandbox = get_sandbox("bwrap", timeout=30, max_concurrent=1)
    # ended by the count (not by its 30 s: that would be status "timeout")
    result = sandbox.run(make_files("/tmp", 1_000_000))
    assert result.status == "error" and result.message == "file limit exceeded: more than 16384 files and directories in /tmp"
    # wiped: the next run on the same worker finds /tmp empty
    after = sandbox.run("import os; print(len(os.listdir('/tmp')), len(os.listdir('.')))")
    assert after.status == "ok" and after.stdout == "0 1\n"  # the work dir holds the program only


@pytest.mark.parametrize("path", ["/work", "/tmp", "/dev/shm"])
def test_a_lower_per_run_max_files_holds_on_every_mount_and_counts_directories(path):
    sandbox = get_sandbox("bwrap", timeout=30, max_concurrent=1)
    ok = sandbox.run(make_files(path, 50), max_files=100)
    assert ok.status == "ok" and ok.stdout == "50\n", ok
    over = sandbox.run(make_files(path, 5000) + "\nimport time; time.sleep(5)", max_files=100)
    assert over.status == "error" and over.message == f"file limit exceeded: more than 100 files and directories in {path}"
    dirs = sandbox.run(f"import os, time\nfor i in range(300): os.mkdir('{path}/d%d' % i)\ntime.sleep(5)", max_files=100)
    assert dirs.status == "error" and dirs.message.startswith("file limit exceeded")


def test_docker_mounts_refuse_files_past_the_limit_and_a_run_may_lower_it():
    sandbox = get_sandbox("docker", timeout=30, max_file_mb=8, max_files=2000)
    result = sandbox.run(make_files("/tmp", 100_000))
    # the mount itself refuses (ENOSPC): 2000 files in all, one of them the run's stdin (an
    # unlinked file the sandbox keeps in /tmp)
    assert result.status == "ok" and result.stdout.splitlines() == ["refused 28", "1999"], result
    lowered = sandbox.run(make_files("/tmp", 1000) + "\nimport time; time.sleep(5)", max_files=100)
    assert lowered.status == "error" and lowered.message == "file limit exceeded: more than 100 files and directories in /tmp"
    with pytest.raises(ValueError, match="the docker backend fixes max_files when its containers start"):
        sandbox.run("print(1)", max_files=3000)


def test_bwrap_allows_the_files_docker_allows():
    # the same count as Docker's mounts: the run's stdin is one of the limit's files in /tmp
    sandbox = get_sandbox("bwrap", timeout=30, max_concurrent=1)
    assert sandbox.run(make_files("/tmp", 1999) + "\nimport time; time.sleep(0.3)", max_files=2000).stdout == "1999\n"
    over = sandbox.run(make_files("/tmp", 2000) + "\nimport time; time.sleep(0.3)", max_files=2000)
    assert over.status == "error" and over.message.startswith("file limit exceeded")


def test_max_files_must_be_positive():
    with pytest.raises(ValueError, match="max_output_bytes, max_file_mb and max_files must be positive"):
        Limits(max_files=0)
