"""Isolated execution of untrusted model code.

    from rlvr.sandbox import make_sandbox
    with make_sandbox() as sandbox:                 # the strongest backend that works here
        result = sandbox.run("print(input())", stdin="hi", timeout=5)
        result.status, result.stdout                # ("ok", "hi\\n")

Backends: "bwrap" (bubblewrap namespaces; the default where it works), "docker" (a container per
warm worker, through the Docker SDK) and "subprocess" (limits only, no isolation). See
`rlvr sandbox check` for which ones work on this machine and how to fix the others.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

from rlvr.sandbox.base import Job, Sandbox, SandboxUnavailable
from rlvr.sandbox.limits import LANGUAGES, Limits
from rlvr.sandbox.result import STATUSES, ExecResult

__all__ = ["make_sandbox", "available_backends", "check_backend", "Sandbox", "ExecResult", "Limits", "Job",
           "SandboxUnavailable", "STATUSES", "LANGUAGES", "BACKENDS"]

log = logging.getLogger("rlvr.sandbox")
BACKENDS = ("bwrap", "docker", "subprocess")


def check_backend(name: Any) -> str:
    """`name` when it names a backend or "auto", else a ValueError listing the choices.

    Envs call it when they are built, though they start their sandbox only at the first step that
    needs one: a misspelt name then fails at once, not later as a broken sandbox.
    """
    if name != "auto" and name not in BACKENDS:
        raise ValueError(f"unknown sandbox backend {name!r}; choose one of {['auto', *BACKENDS]}")
    return name


def _backend_class(name: str) -> type[Sandbox]:
    check_backend(name)
    if name == "bwrap":
        from rlvr.sandbox.bwrap import BwrapSandbox
        return BwrapSandbox
    if name == "docker":
        from rlvr.sandbox.docker_backend import DockerSandbox
        return DockerSandbox
    if name == "subprocess":
        from rlvr.sandbox.subprocess_backend import SubprocessSandbox
        return SubprocessSandbox
    raise ValueError(f"{name!r} names no backend class")  # "auto": make_sandbox resolves it first


def available_backends() -> dict[str, tuple[bool, str]]:
    """For each backend: whether it works on this machine, and why not / how to fix it."""
    return {name: _backend_class(name).check() for name in BACKENDS}


def make_sandbox(backend: str = "auto", **options: Any) -> Sandbox:
    """A sandbox of the given backend with default limits `options` (see `Limits`).

    `options` may also hold `max_concurrent` (this sandbox's own cap on programs running at once;
    by default all sandboxes share one cap: RLVR_SANDBOX_MAX_CONCURRENT, else one per available
    CPU) and `slot_timeout` (seconds a run may wait for its turn before it ends as a
    "sandbox_error"; default RLVR_SANDBOX_SLOT_TIMEOUT, else 300). See `rlvr.sandbox.slots`.

    "auto" takes bwrap, else docker, and falls back to subprocess only with a warning, because
    subprocess is no security boundary. A named backend that cannot run raises
    `SandboxUnavailable` with the reason and the fix.
    """
    if backend != "auto":
        return _backend_class(backend)(**options)
    reasons = []
    for name in ("bwrap", "docker"):
        try:
            sandbox = _backend_class(name)(**options)
        except SandboxUnavailable as exc:
            reasons.append(f"{name}: {exc}")
            continue
        log.info("rlvr.sandbox: using the %s backend", name)
        return sandbox
    warnings.warn(
        "no isolating sandbox backend works here, falling back to 'subprocess', which is NOT a "
        "security boundary (" + "; ".join(reasons) + ")",
        RuntimeWarning,
        stacklevel=2,
    )
    return _backend_class("subprocess")(**options)
