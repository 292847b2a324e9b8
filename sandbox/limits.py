"""Resource limits for one sandboxed run, and the languages a sandbox can run."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Limits:
    """Per-run limits. Every backend enforces them (the subprocess backend without isolation, and
    with the differences noted below).

    Attributes:
        timeout: wall-clock seconds before the run is killed (status "timeout").
        cpu_time: CPU seconds of each process, all its threads together (RLIMIT_CPU). None (the
            default): no CPU limit but a backstop past the timeout on every CPU the run may use.
        memory_mb: address-space limit in MiB of each process (RLIMIT_AS: each of its threads' 8 MiB
            stacks counts against it, no malloc arena does); Docker also caps the whole
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
            does not count them. On every backend, a run whose own files (with their directories
            and the program) already exceed it is refused at the call (ValueError).

    Values are checked when the limits are made (so `Sandbox.run` raises for a bad one before
    anything runs): `timeout` and `cpu_time` are numbers of seconds, positive, finite and at most
    `MAX_SECONDS`; the others are integers (a bool or 2.5 is refused) in `INTEGER_RANGES`. A bad
    value raises ValueError (TypeError for something that is no number) naming the field and range.
    """

    timeout: float = 10.0
    cpu_time: float | None = None
    memory_mb: int = 512
    max_processes: int = 32
    max_output_bytes: int = 1_000_000
    max_file_mb: int = 16
    max_files: int = 16384

    def __post_init__(self) -> None:
        # Checked here, so that a bad value raises at the call (ValueError, or TypeError for what is
        # no number) naming the field and its range, never reaching a worker as a sandbox_error
        # (nan, inf or 1e12 seconds, 2.5 processes, 100.5 MiB failed there; -1 CPU seconds passed).
        object.__setattr__(self, "timeout", _seconds("timeout", self.timeout))
        if self.cpu_time is not None:
            object.__setattr__(self, "cpu_time", _seconds("cpu_time", self.cpu_time))
        for name, (low, high) in INTEGER_RANGES.items():
            object.__setattr__(self, name, _integer(name, getattr(self, name), low, high))

    @property
    def cpu_seconds(self) -> int:
        """The job's RLIMIT_CPU, whole seconds: `cpu_time` rounded up (the worker also refuses a run
        that used more than `cpu_time` itself). Without `cpu_time`, one second past `timeout` *per
        CPU*: the worker multiplies it by the CPUs the job may run on (its affinity), since
        RLIMIT_CPU adds up all of a process's threads, so that the wall clock decides even for a
        program whose threads work in parallel."""
        if self.cpu_time is not None:
            return math.ceil(self.cpu_time)
        return int(self.timeout) + 1

    def with_overrides(self, **overrides: Any) -> "Limits":
        """A copy with the given fields changed; None values are ignored, unknown names rejected."""
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown sandbox limit(s) {sorted(unknown)}; known limits: {sorted(known)}")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: The longest `timeout` and `cpu_time` a run may have, in seconds (a day).
MAX_SECONDS = 86_400.0
#: The allowed range (inclusive) of each integer limit: past the upper bounds the kernel's limits
#: and mount options overflow (and no run needs more).
INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "memory_mb": (16, 1 << 30),
    "max_processes": (1, 1 << 22),  # the kernel's largest pid_max
    "max_output_bytes": (1, 1 << 40),
    "max_file_mb": (1, 1 << 30),
    "max_files": (1, 1 << 31),
}


def _seconds(name: str, value: Any) -> float:
    """`value` as a float in (0, MAX_SECONDS]; TypeError for no real number, ValueError out of range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of seconds, got {value!r}")
    seconds = float(value)
    if not (0 < seconds <= MAX_SECONDS):  # (nan fails every comparison)
        raise ValueError(f"{name} must be positive, finite and at most {MAX_SECONDS:g} seconds "
                         f"(a number in (0, {MAX_SECONDS:g}]), got {value!r}")
    return seconds


def _integer(name: str, value: Any, low: int, high: int) -> int:
    """`value` as an int in [low, high]; TypeError for no number (or a bool), ValueError otherwise."""
    allowed = f"at least {low} and at most {high} (an integer)"
    if name in ("max_output_bytes", "max_file_mb", "max_files"):
        allowed += "; max_output_bytes, max_file_mb and max_files must be positive integers"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {allowed}, got {value!r}")
    if not isinstance(value, numbers.Integral) or not low <= value <= high:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return int(value)


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
