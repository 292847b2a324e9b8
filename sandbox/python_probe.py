"""The check that an interpreter can run the sandbox's worker, shared by every backend.

Each backend runs `python_probe` (or `PYTHON_PROBE`) with the interpreter its workers will use,
where they will use it (bwrap: inside the sandbox; subprocess: as the jobs' user; docker: in the
image), and reads the outcome with `python_probe_failure`, so that all three judge it alike.
"""

from __future__ import annotations

#: The oldest python3 the sandbox's worker runs on (it uses os.pidfd_open and os.waitstatus_to_exitcode).
MIN_PYTHON = (3, 9)


def python_probe(code: str = "") -> str:
    """A program that prints the interpreter's version on its first line, exits 3 if it is older
    than `MIN_PYTHON` (the worker's), and otherwise runs `code`."""
    return (f"import sys\nprint(sys.version.split()[0], flush=True)\nif sys.version_info < {MIN_PYTHON!r}: "
            f"sys.exit(3)\n{code}")


#: The version check alone.
PYTHON_PROBE = python_probe()


def python_probe_failure(returncode: int, stdout: bytes, stderr: bytes) -> str | None:
    """Why a `python_probe` run shows the interpreter unfit for the worker, or None: it failed (its
    last line on stderr), is too old, or printed no version (`/bin/true` is no Python)."""
    lines = stdout.decode(errors="replace").split()
    version = lines[0] if lines and lines[0][:1].isdigit() and "." in lines[0] else None
    if returncode == 3 and version:
        return f"it is Python {version}; the sandbox's worker needs {'.'.join(map(str, MIN_PYTHON))} or later"
    if returncode != 0:
        said = stderr.decode(errors="replace").strip().splitlines()
        return said[-1] if said else f"exit status {returncode}"
    if version is None:
        return "it printed no Python version: it is not a Python interpreter"
    return None
