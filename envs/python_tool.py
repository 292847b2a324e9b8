"""The `python` tool: the model's program run in the sandbox, and what the model reads of the run.

Environments share one sandbox per backend and process (`shared_sandbox`), so that a batch of 64
envs does not start 64 sets of warm workers.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable

from rlvr.envs.tools import ERROR_PREFIX, Tool, ToolError, ToolInfraError, TurnBudget, tool, truncate_output
from rlvr.sandbox.limits import Limits
from rlvr.sandbox.result import ExecResult


def format_exec_result(result: Any, max_chars: int | None, *, reserve: int = 0,
                       escape: Callable[[str], str] | None = None) -> str:
    """What the model sees of a program run: stdout, then stderr, then the status when not ok
    (each labelled, `[stdout]`, `[stderr]`, `[status: ...]`, but stdout alone, which is not).

    Cut to `max_chars` characters (None: not cut) less `reserve` (room for a prefix the caller puts
    before it, such as `ERROR_PREFIX`), markers aside, so that what says why a run failed survives:
    the status line is kept whole, and of stderr its end (a traceback's last lines). Stdout is cut
    first (its end, marked), keeping at least a quarter of the room when stderr is long too, then
    the start of stderr (marked). Only stdout, and too long: its start, as `truncate_output` cuts.

    `escape` (ToolMath-v0's: chat markup broken, `tool_env.neutralised`) is applied to stdout,
    stderr and the status message before the cut, so that the cut counts the characters it adds: an
    escaped text cut again afterwards would lose the status line and the end of stderr. The labels
    and markers hold no markup, and a cut never makes any (each ends before a newline), so the
    result needs no escaping again.
    """
    escape = escape or str
    stdout, stderr = escape(result.stdout or ""), escape(result.stderr or "")
    message = escape(result.message or "")
    status = f"[status: {result.status}{': ' + message if message else ''}]" if result.status != "ok" else ""
    # stdout is labelled when something follows it: after "error: " its first line read as the error
    stdout_header = "[stdout]\n" if stdout and (stderr or status) else ""
    parts = [text for text in (stdout_header + stdout if stdout else "", f"[stderr]\n{stderr}" if stderr else "", status) if text]
    whole = "\n".join(parts) if parts else "[no output]"
    if max_chars is None or len(whole) + reserve <= max_chars:
        return whole
    room = max(0, max_chars - reserve)
    if not stderr and not status:
        return truncate_output(stdout, room)
    fixed = len(status) + len(stdout_header) + (len("[stderr]\n") if stderr else 0) + len(parts) - 1  # status, headers, newlines
    left = room - fixed
    if left < 0:  # no room even for the status line: cut the whole, from its start
        return truncate_output(whole, room)
    stderr_room = min(len(stderr), left - min(len(stdout), left // 4))
    stdout_room = left - stderr_room
    kept = []
    if stdout:
        kept.append(stdout_header + (stdout if len(stdout) <= stdout_room else
                                     stdout[:stdout_room] + f"\n[... stdout truncated to {stdout_room} characters]"))
    if stderr:
        tail = stderr if len(stderr) <= stderr_room else (
            f"[... stderr truncated to its last {stderr_room} characters]\n" + (stderr[-stderr_room:] if stderr_room else ""))
        kept.append(f"[stderr]\n{tail}")
    if status:
        kept.append(status)
    return "\n".join(kept)


_SHARED: dict[tuple[int, str], Any] = {}  # (process id, backend) -> its sandbox
_SHARED_LOCK = threading.Lock()


def shared_sandbox(backend: str = "auto") -> Any:
    """One sandbox per backend for the whole process, created on first use (thread-safe).

    Environments share it so that a batch of 64 envs does not start 64 sets of warm workers. A
    forked child (gymnasium's AsyncVectorEnv forks by default) gets a sandbox of its own, with its
    own workers and Docker client: the parent's, which the child inherits, stays the parent's.
    """
    key = (os.getpid(), backend)
    with _SHARED_LOCK:
        if key not in _SHARED:
            from rlvr.sandbox import make_sandbox

            for inherited in [k for k in _SHARED if k[0] != key[0]]:  # the parent's (never closed here)
                del _SHARED[inherited]
            _SHARED[key] = make_sandbox(backend=backend)
        return _SHARED[key]


def _after_fork_in_child() -> None:
    """A thread of the parent's may have held the lock at the fork: the child's is a new one."""
    global _SHARED_LOCK
    _SHARED_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def sandbox_in_use(get_sandbox: Callable[[], Any], backend: str) -> str:
    """The backend an env's sandbox runs on, for its fingerprint: "auto" resolved to the backend
    it picked here (the sandbox is started now if it was not yet); the asked-for name when none
    can start (the env's steps then report that as an infrastructure failure)."""
    try:
        return str(get_sandbox().name)
    except Exception:
        return backend


def sandbox_settings(get_sandbox: Callable[[], Any], backend: str) -> dict[str, Any]:
    """What an env's fingerprint records of the sandbox its programs run in: `sandbox_backend`
    (as `sandbox_in_use` says), and beside it, where the sandbox exposes them, `sandbox`: its
    default limits (`limits`, `Limits.to_dict()`: a run's limits start from them, and a program
    within 512 MiB fails under 64) and its interpreter (`python`: bwrap's and subprocess's) or
    image (`image`: docker's), which decide what the programs can import.

    The sandbox is got once, as `sandbox_in_use` gets it (the env runs its programs in it); only
    attributes set when it was made are read, so no worker is started for them. A sandbox lacking
    them (your own `Sandbox` class, or one whose attribute fails) gives what it has; one that
    cannot start gives the asked-for backend alone. (A benchmark run's identity leaves out both
    keys, `rlvr.benchmarks.identity`: a rerun may judge in another sandbox; each sample row
    records the one that judged it.)"""
    try:
        sandbox = get_sandbox()
    except Exception:
        return {"sandbox_backend": backend}
    found: dict[str, Any] = {"sandbox_backend": sandbox_in_use(lambda: sandbox, backend)}
    details: dict[str, Any] = {}
    limits = _attribute(sandbox, "limits")
    if isinstance(limits, Limits):
        details["limits"] = limits.to_dict()
    for name in ("python", "image"):
        value = _attribute(sandbox, name)
        if isinstance(value, str):
            details[name] = value
    if details:
        found["sandbox"] = details
    return found


def _attribute(obj: Any, name: str) -> Any:
    """`obj.name`, or None when it has none or reading it fails (a property of a user's class)."""
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


#: What the model is told of the python tool by default. The default sandboxes run a plain
#: python3 (the system's for bwrap, the `rlvr-sandbox` image's for docker): a model not told so
#: wrote `from sympy import ...`, and the failed import cost its turn's process credit.
PYTHON_DESCRIPTION = ("Run a Python 3 program in a fresh sandbox (nothing persists between calls; the standard library "
                      "only: no numpy, sympy or other third-party packages); return its stdout and stderr.")


#: make_python's limits when used alone; in ToolMath-v0 the env's `tool_timeout` and
#: `max_tool_output_chars` replace them (`Tool.with_limits`).
DEFAULT_TIMEOUT = 10.0
DEFAULT_OUTPUT_CHARS = 4000


class _Unset:
    """make_python's default for `max_output_chars` (None there means "not cut"): the value
    was not given, so an env's limit replaces it."""

    def __repr__(self) -> str:
        return f"default ({DEFAULT_OUTPUT_CHARS})"


UNSET: Any = _Unset()


def make_python(get_sandbox: Callable[[], Any], *, timeout: float | None = None, max_output_chars: int | None = UNSET,
                description: str | None = None, escape: Callable[[str], str] | None = None) -> Tool:
    """The `python` tool: run `code` in the sandbox for at most `timeout` seconds (cut to what its
    turn's `TurnBudget` has left, charged the program's run time, not its wait for a sandbox slot);
    returns stdout/stderr (errors are ToolError), fitted to `max_output_chars` by
    `format_exec_result` (an error's text leaves room for `ERROR_PREFIX`; None: not cut), after
    `escape` (None: none) made the program's text safe to show (ToolMath-v0 breaks chat markup).

    Used alone, the limits default to `DEFAULT_TIMEOUT` (10 s) and `DEFAULT_OUTPUT_CHARS` (4000).
    Given to ToolMath-v0 (`tools=[make_python(...)]`), the tool is made again under the env's
    limits (`Tool.with_limits`), as the built-in python tool is: the env's `tool_timeout` and
    `max_tool_output_chars`, or the tool's own `timeout` / `max_output_chars` where one was given
    and is smaller (None, "not cut", is no limit of its own: the env's applies), and its text
    escaped by the env (after `escape`, when given) before it is fitted, so that a failed run keeps
    its status line and the end of its traceback. A copy whose `fn` or `limited` you replaced (a
    wrapper of yours, `dataclasses.replace(tool, limited=...)`) is not made again: it is run as
    given, under its own limits, as any tool of yours with `limited` is.

    `description` is what the model reads of the tool (default `PYTHON_DESCRIPTION`: the standard
    library only); say what else can be imported when the sandbox's interpreter has more packages.
    """
    own_chars = None if max_output_chars is UNSET else max_output_chars
    return _python_tool(get_sandbox, DEFAULT_TIMEOUT if timeout is None else timeout,
                        DEFAULT_OUTPUT_CHARS if max_output_chars is UNSET else max_output_chars,
                        description, escape, None, own_limits=(timeout, own_chars))


def _python_tool(get_sandbox: Callable[[], Any], timeout: float, max_output_chars: int | None, description: str | None,
                 own_escape: Callable[[str], str] | None, env_escape: Callable[[str], str] | None, *,
                 own_limits: tuple[float | None, int | None]) -> Tool:
    """`make_python`'s tool with these limits; `own_limits` are the (timeout, max_output_chars)
    given to `make_python` (None: not given), which `with_limits` weighs against an env's.

    The user's `own_escape` and the env's `env_escape` (applied after it) are separate closure
    variables of `limited`, not one composed function: the fingerprint digests the functions a
    tool's `limited` holds (`callable_identity`), so two different escapes give two digests."""

    def python(code: str) -> str:
        """Run a Python program in a fresh sandbox; return its stdout and stderr (see PYTHON_DESCRIPTION).

        Args:
            code: the program; print the values you want to see.
        """
        return limited(TurnBudget(), code)

    def limited(budget: TurnBudget, code: str) -> str:
        try:
            sandbox = get_sandbox()
        except Exception as exc:  # no sandbox could be started (e.g. no Docker engine): not the model's fault
            raise ToolInfraError(f"the sandbox could not be started: {type(exc).__name__}: {exc}") from exc
        limit = budget.limit(timeout)
        started = time.monotonic()
        try:
            result = sandbox.run(code, timeout=limit)
        except Exception as exc:  # the sandbox itself failed (e.g. its daemon is gone): not the model's call
            raise ToolInfraError(f"the sandbox raised {type(exc).__name__}: {exc}") from exc
        finally:
            elapsed = time.monotonic() - started
        if not isinstance(result, ExecResult):  # a sandbox that breaks its contract: not the model's call
            raise ToolInfraError(f"the sandbox returned {type(result).__name__}, not an ExecResult")
        if result.infrastructure_failed:
            raise ToolInfraError(f"sandbox failed: {result.message or result.stderr}")
        budget.charge(min(elapsed, max(0.0, float(result.wall_time or 0.0))))
        shown = _chained(own_escape, env_escape)
        if result.status != "ok":
            raise ToolError(format_exec_result(result, max_output_chars, reserve=len(ERROR_PREFIX), escape=shown))
        return format_exec_result(result, max_output_chars, escape=shown)

    def with_limits(given: Tool, *, timeout: float, max_output_chars: int,
                    escape: Callable[[str], str] | None = None) -> Tool:
        """`given` (this tool, or a copy of it) made again under an env's limits, each the smaller of
        the env's and the tool's own when given, its text escaped by the env's `escape` after the
        tool's; `given` itself when its `fn` or `limited` is not the one made here (a wrapper of the
        user's, which a rebuild would throw away)."""
        if given.fn is not python or given.limited is not limited:
            return given
        own_timeout, own_chars = own_limits
        return _python_tool(get_sandbox, timeout if own_timeout is None else min(own_timeout, timeout),
                            max_output_chars if own_chars is None else min(own_chars, max_output_chars),
                            description, own_escape, escape, own_limits=own_limits)

    made = tool(python, description=description or PYTHON_DESCRIPTION)
    made.limited = limited
    made.output_limit = max_output_chars
    made.with_limits = with_limits
    return made


def _chained(first: Callable[[str], str] | None, then: Callable[[str], str] | None) -> Callable[[str], str] | None:
    """`then(first(text))`, either left out when None."""
    if first is None or then is None:
        return first or then
    return lambda text: then(first(text))
