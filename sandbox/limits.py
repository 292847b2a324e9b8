"""Resource limits for one sandboxed run, and the languages a sandbox can run."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Limits:
    """Per-run limits. Every backend enforces them (the subprocess backend without isolation, and
    with the differences noted below).

    Attributes:
        timeout: wall-clock seconds before the run is killed (status "timeout").
        cpu_time: CPU seconds (RLIMIT_CPU); defaults to `timeout` rounded up.
        memory_mb: address-space limit in MiB of each process (RLIMIT_AS); Docker also caps the whole
            container at the sandbox's value plus the worker's share (status "memory" when exceeded).
        max_processes: the run's own processes and threads at once, its main process included
            (fork bombs stop here).
        max_output_bytes: cap on each of stdout and stderr; more is cut and reported ("output_limit").
        max_file_mb: largest file the run may write (RLIMIT_FSIZE). bwrap and Docker also bound each
            of their tmpfs mounts (work dir, /tmp, /dev/shm) at 4x this; the subprocess backend's work
            dir is on the host disk, with no bound on the total its files take.
        max_files: files and directories each of those tmpfs mounts may hold, the sandbox's own
            among them (the program in the work dir, the run's stdin in /tmp); empty files take no
            space, but each costs kernel memory and time to wipe. Docker's mounts refuse more
            (`nr_inodes`: the program sees ENOSPC); bwrap's worker counts them every 50 ms and ends
            a run past the limit (status "error", "file limit exceeded"). The subprocess backend
            does not count them.
    """

    timeout: float = 10.0
    cpu_time: float | None = None
    memory_mb: int = 512
    max_processes: int = 32
    max_output_bytes: int = 1_000_000
    max_file_mb: int = 16
    max_files: int = 16384

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError(f"timeout must be positive, got {self.timeout!r}")
        if self.memory_mb < 16:
            raise ValueError(f"memory_mb must be at least 16, got {self.memory_mb!r}")
        if self.max_processes < 1:
            raise ValueError(f"max_processes must be at least 1, got {self.max_processes!r}")
        if self.max_output_bytes < 1 or self.max_file_mb < 1 or self.max_files < 1:
            raise ValueError("max_output_bytes, max_file_mb and max_files must be positive")

    @property
    def cpu_seconds(self) -> int:
        return int(self.cpu_time if self.cpu_time is not None else self.timeout) + 1

    def with_overrides(self, **overrides: Any) -> "Limits":
        """A copy with the given fields changed; None values are ignored, unknown names rejected."""
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown sandbox limit(s) {sorted(unknown)}; known limits: {sorted(known)}")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# language -> (file name in the work dir, interpreter argv before the file)
LANGUAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "python": ("main.py", ("python3", "-B", "-E", "-s")),
    "bash": ("main.sh", ("bash",)),
    "sh": ("main.sh", ("sh",)),
}


def language_command(language: str) -> tuple[str, tuple[str, ...]]:
    """The file name and interpreter argv for `language`, or a ValueError naming the known ones."""
    try:
        return LANGUAGES[language]
    except KeyError:
        raise ValueError(f"unsupported language {language!r}; supported: {sorted(LANGUAGES)}") from None
