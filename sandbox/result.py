"""`ExecResult`: what one sandboxed execution produced, and how it ended."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: How an execution ended. Only "sandbox_error" blames the infrastructure; every other status
#: describes what the *program* did.
STATUSES = ("ok", "error", "timeout", "memory", "output_limit", "sandbox_error")


@dataclass(frozen=True)
class ExecResult:
    """Outcome of running one program in a sandbox.

    Attributes:
        status: "ok" (exit code 0), "error" (non-zero exit or killed by a signal), "timeout"
            (wall-clock or CPU limit), "memory" (memory limit), "output_limit" (stdout/stderr cap
            or file-size limit hit), "sandbox_error" (the sandbox itself failed: the program's
            fate is unknown and must never be scored as the model's failure).
        exit_code: the process's exit code, or -N when killed by signal N, or None if it never ran.
        stdout, stderr: captured output, truncated to the output cap, decoded as UTF-8 (bytes that
            are not UTF-8 become U+FFFD; details["stdout_undecodable"] / ["stderr_undecodable"]
            count them).
        wall_time: seconds from start to end of the program.
        message: a short human-readable account of a non-ok status (which limit, what failed).
        backend: the backend that ran it.
        details: cpu_time, max_rss_kb; stderr_cut, stdout/stderr_undecodable, oom_kills (Docker:
            processes of the run its OOM killer ended), inferred_from ("stderr": a memory or
            output_limit status read from the stderr text of a program the worker only execs).
    """

    status: str
    exit_code: int | None
    stdout: str
    stderr: str
    wall_time: float
    message: str = ""
    backend: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown ExecResult status {self.status!r}; expected one of {STATUSES}")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def infrastructure_failed(self) -> bool:
        """True when the sandbox, not the program, is to blame (never score this as wrong)."""
        return self.status == "sandbox_error"

    @classmethod
    def sandbox_error(cls, message: str, backend: str = "", wall_time: float = 0.0) -> "ExecResult":
        return cls("sandbox_error", None, "", "", wall_time, message=message, backend=backend)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
