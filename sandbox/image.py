"""Building the Docker sandbox image: from the Dockerfile, or from scratch without any registry.

The image only needs a `python3` (3.9 or later, run by user 65534; and `sh`, `bash`): a Docker
sandbox checks it once per image (`python_version_in`). Where the engine can pull `debian:bookworm-slim`
the Dockerfile beside this module builds it. Where no registry is reachable, debootstrap makes a
minimal Debian root filesystem from the Debian package mirror and `docker import` turns it into
the same image.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Callable

from rlvr.sandbox.python_probe import PYTHON_PROBE, python_probe_failure

DEFAULT_IMAGE = "rlvr-sandbox:latest"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DOCKERFILE_DIR = Path(__file__).parent
# Removed from the debootstrapped tree: not needed to run programs, and they make the image larger.
PRUNE = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale",
         "var/cache/apt/archives", "var/lib/apt/lists")


class ImageBuildError(RuntimeError):
    """The sandbox image could not be built; the message says what failed and what to do."""


#: A Docker image reference: [registry[:port]/]path[:tag], lowercase path components (Docker's grammar,
#: without the @digest form, which names an image but cannot be given to a build).
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"^(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
#: Docker refuses a repository name (registry included) longer than this.
MAX_REPOSITORY = 255


def split_tag(tag: str) -> tuple[str, str]:
    """(repository, tag) of an image reference: split at the last ':' after the last '/', so that a
    registry's port (``localhost:5000/rlvr-sb:v1``) stays in the repository; "latest" when it has no
    tag. ImageBuildError for a reference Docker would refuse, before anything is built."""
    slash = tag.rfind("/")
    colon = tag.rfind(":")
    repository, version = (tag[:colon], tag[colon + 1:]) if colon > slash else (tag, "latest")
    if len(repository) > MAX_REPOSITORY or not _REPOSITORY.match(repository) or not _TAG.match(version):
        raise ImageBuildError(
            f"invalid image tag {tag!r}: use [REGISTRY[:PORT]/]NAME[:TAG] with a lowercase NAME (letters, digits, "
            f"'.', '_', '-', components split by '/'; with the registry at most {MAX_REPOSITORY} characters) and a "
            "TAG of up to 128 letters, digits, '_', '.', '-' (e.g. rlvr-sandbox:latest or localhost:5000/rlvr-sandbox:v1)")
    return repository, version


#: The signals that stop a build: Ctrl-C (SIGINT), SIGTERM (a timeout, a cancelled CI job), SIGHUP (the
#: terminal closed, an ssh connection dropped) and SIGQUIT (Ctrl-\).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def _handled_signals() -> list[int]:
    """`STOP_SIGNALS` but those this process ignores: a build started with SIGINT ignored (a script's
    background job, `nohup`) must not be stopped by it."""
    return [signum for signum in STOP_SIGNALS if signal.getsignal(signum) is not signal.SIG_IGN]


def _set_handlers(handler) -> dict[int, object] | None:
    """Set `handler` for each of `_handled_signals()`; the previous handlers, or None outside the main
    thread (where none can be set, and nothing is changed)."""
    previous: dict[int, object] = {}
    try:
        for signum in _handled_signals():
            previous[signum] = signal.signal(signum, handler)
    except ValueError:  # not the main thread (the first signal.signal raises: nothing was set)
        return None
    return previous


def _restore_handlers(previous: dict[int, object]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


@contextlib.contextmanager
def _sigterm_interrupts():
    """Within the block, SIGTERM, SIGHUP and SIGQUIT raise KeyboardInterrupt as Ctrl-C does, so that
    the build stops and removes its scratch root filesystem (hundreds of MB in /tmp) rather than the
    process dying with it left behind. A signal this process ignores stays ignored (SIGINT too). The
    previous handlers are restored after; only the main thread can set them (elsewhere nothing
    changes). Not used around the removal itself (`_signals_held` is), which an interrupt must not
    cut short."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")

    previous = _set_handlers(interrupt)
    if previous is None:
        yield
        return
    try:
        yield
    finally:
        _restore_handlers(previous)


#: How long (seconds) the daemon has to answer a new client's first calls (the API version, a ping,
#: `ping_docker`): one that accepts connections but answers nothing is hung, and `rlvr sandbox
#: build-image` and `make_sandbox("docker")` say so after this long. The Docker backend imports
#: this module, so both share this constant and `ping_docker` from here.
PING_TIMEOUT_SECONDS = 10.0
#: The timeout of the client `docker_client` returns, for the daemon's slower work (a build's calls).
CLIENT_TIMEOUT_SECONDS = 120


def ping_docker(error: type[Exception], client_timeout: float, *, name_host: bool = True):
    """A Docker SDK client with timeout `client_timeout` whose daemon answered, or `error` naming
    why none did (with `name_host`, an unreachable daemon's address too: the Docker backend's
    message names it, `rlvr sandbox build-image`'s gives the SDK's error alone, as they always did).

    The first calls (the API version, a ping) get `PING_TIMEOUT_SECONDS`, from a probe client of
    their own, closed whatever happens, so that a hung daemon is given up on after that long rather
    than after `client_timeout` (which the engine's slower work, builds and containers, needs)."""
    import docker

    began = time.monotonic()
    try:
        probe = docker.from_env(timeout=PING_TIMEOUT_SECONDS)  # (asks the daemon's API version: a first call)
        try:
            probe.ping()
            version = probe.api.api_version
        finally:
            probe.close()
        return docker.from_env(timeout=client_timeout, version=version)
    except Exception as exc:
        where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        if time.monotonic() - began >= PING_TIMEOUT_SECONDS:
            problem = (f"the Docker daemon at {where} did not answer within {PING_TIMEOUT_SECONDS:g}s "
                       "(it accepts connections but is hung, or overloaded); restart it")
        else:
            at = f" at {where}" if name_host else ""
            problem = (f"cannot reach the Docker daemon{at} ({type(exc).__name__}: {exc}); start it "
                       "(`dockerd` or `systemctl start docker`) or set DOCKER_HOST")
        raise error(problem) from None


def docker_client():
    """A Docker SDK client whose daemon answered, or ImageBuildError naming how to reach one
    (`ping_docker`)."""
    return ping_docker(ImageBuildError, CLIENT_TIMEOUT_SECONDS, name_host=False)


#: How many of the last build log lines an ImageBuildError for a failed Dockerfile build quotes.
BUILD_LOG_TAIL = 20


def build_from_dockerfile(tag: str = DEFAULT_IMAGE, log: Callable[[str], None] = print, *,
                          context: str | Path = DOCKERFILE_DIR) -> str:
    """`docker build` the directory `context` (default: the Dockerfile beside this module) as `tag`.

    Each line of the build's output goes to `log` as the daemon sends it (the low-level API streams;
    `client.images.build` would read the whole build first), so a slow `apt-get` shows progress. A
    failed build raises ImageBuildError quoting the last `BUILD_LOG_TAIL` lines, which say why.
    """
    from docker.utils.json_stream import json_stream

    client = docker_client()
    recent: deque[str] = deque(maxlen=BUILD_LOG_TAIL)
    error = None
    try:  # forcerm: remove the intermediate containers of a failed build too
        chunks = client.api.build(path=str(context), tag=tag, rm=True, forcerm=True, pull=False)
        for chunk in json_stream(chunks):  # raw bytes split into JSON objects as they arrive
            for line in str(chunk.get("stream", "")).splitlines():
                if line.strip():
                    recent.append(line.rstrip())
                    log(line.rstrip())
            if "error" in chunk or "errorDetail" in chunk:
                error = chunk.get("error") or (chunk.get("errorDetail") or {}).get("message") or str(chunk)
                break
    except Exception as exc:  # the daemon refused the build, or the connection broke during it
        error = getattr(exc, "explanation", None) or str(exc)
    if error is not None:
        tail = "\n".join(recent)
        raise ImageBuildError(f"docker build failed: {error}"
                              + (f"\nlast lines of the build log:\n{tail}" if tail else "")
                              + "\n(without a registry use --method debootstrap)")
    return tag


def build_with_debootstrap(
    tag: str = DEFAULT_IMAGE,
    *,
    suite: str = "bookworm",
    mirror: str = DEFAULT_MIRROR,
    log: Callable[[str], None] = print,
) -> str:
    """debootstrap a minimal Debian with python3 and import it as `tag` (needs root).

    The scratch root filesystem is removed however the build ends, SIGTERM and Ctrl-C included
    (KeyboardInterrupt, exit 130 from the CLI): debootstrap is first stopped and waited for
    (`_run_debootstrap`), so that its exit trap unmounts the proc and sysfs it mounted inside the
    tree, and the tree is then removed without ever crossing a mount point (`_remove_scratch`).
    A tree with a mount left in it is left in place, with an error naming both."""
    repository, version = split_tag(tag)
    if shutil.which("debootstrap") is None:
        raise ImageBuildError("debootstrap is not installed: `apt-get install debootstrap`")
    client = docker_client()  # first: without a daemon, root would not help (`docker import` needs it)
    if os.geteuid() != 0:
        raise ImageBuildError("debootstrap needs root: run `sudo rlvr sandbox build-image`")
    scratch = tempfile.mkdtemp(prefix="rlvr-rootfs-")
    try:
        with _sigterm_interrupts():
            root = Path(scratch) / "rootfs"
            log(f"debootstrap {suite} from {mirror} into {root} (about a minute)...")
            status, output = _run_debootstrap(
                ["debootstrap", "--variant=minbase", "--include=python3", suite, str(root), mirror], scratch, log)
            if status != 0:
                raise ImageBuildError(f"debootstrap failed (exit status {status}):\n{output}")
            left = _unmount_all(scratch)  # (it unmounts what it mounted: never pack the host's /proc into the image)
            if left or left is None:
                raise ImageBuildError(f"debootstrap left mounts in {root}: "
                                      + ", ".join(left or ["unknown (/proc/self/mountinfo cannot be read)"]))
            for relative in PRUNE:
                shutil.rmtree(root / relative, ignore_errors=True)
            archive = Path(scratch) / "rootfs.tar"
            log("packing the root filesystem...")
            with tarfile.open(archive, "w") as tar:
                for entry in sorted(os.listdir(root)):
                    tar.add(root / entry, arcname=entry)
            log(f"docker import as {tag}...")
            try:
                client.api.import_image(src=str(archive), repository=repository, tag=version,
                                        changes=["WORKDIR /work", 'CMD ["python3"]'])
            except Exception as exc:  # the daemon refused the import (docker.errors.APIError), or the connection broke
                raise ImageBuildError(f"docker import as {tag} failed: {getattr(exc, 'explanation', None) or exc}") from None
    except BaseException:
        with _signals_held():  # (an interrupt already propagates: a second one must not cut the removal short)
            problem = _remove_scratch(scratch)
        if problem:
            _log_quietly(lambda line: print(line, file=sys.stderr, flush=True), f"error: {problem}")
        raise
    with _signals_held() as came:
        problem = _remove_scratch(scratch)
    if problem:
        raise ImageBuildError(problem)
    if came:
        raise KeyboardInterrupt(f"signal {signal.Signals(came[0]).name}")
    check_image(tag)
    return tag


#: Seconds an interrupted debootstrap gets to run its exit trap (which unmounts proc and sysfs in the
#: tree) after SIGTERM, before its process group is killed.
STOP_GRACE = 60.0


def _run_debootstrap(command: list[str], scratch: str, log: Callable[[str], None]) -> tuple[int, str]:
    """Run debootstrap in a process group of its own; (exit status, the end of its output).

    A `STOP_SIGNALS` signal while it runs stops its group (`_stop_group`: SIGTERM, then a wait for its
    exit trap, which unmounts the host's /proc and /sys it mounted inside the tree) and then raises
    KeyboardInterrupt. (subprocess.run would SIGKILL it 0.25 s after an interrupt, before that trap
    ran.) The signals are held, not raised, while it runs, and the stop is in a `finally`: whatever
    leaves this function (a log line to a closed pipe or terminal too) never leaves debootstrap
    running while the caller removes its tree. Its own group keeps the terminal's Ctrl-C from reaching
    it directly: it is stopped once, here."""
    with tempfile.TemporaryFile(dir=scratch) as out, _signals_held() as came:  # (a file: never blocks a writer)
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            status = None
            while status is None and not came:
                try:
                    status = proc.wait(timeout=0.1)
                except subprocess.TimeoutExpired:
                    pass
            if came:
                raise KeyboardInterrupt(f"signal {signal.Signals(came[0]).name}")
            out.seek(0, os.SEEK_END)
            out.seek(max(0, out.tell() - 4000))
            return status, out.read().decode("utf-8", "replace")
        finally:
            if proc.poll() is None:
                try:
                    _log_quietly(log, "interrupted: stopping debootstrap so that it unmounts what it mounted "
                                      "(interrupt again to kill it at once)...")
                finally:
                    _stop_group(proc, came)


def _log_quietly(log: Callable[[str], None], line: str) -> None:
    """`log(line)`, but a log that cannot be written (the reader of `| tee` killed by the same Ctrl-C, a
    closed terminal: BrokenPipeError, EIO) is no reason to fail: the interrupt is what is reported."""
    try:
        log(line)
    except OSError:
        pass


#: Seconds to wait for the rest of debootstrap's group to end after it has been killed.
KILL_WAIT = 5.0


def _stop_group(proc: subprocess.Popen, came: list[int]) -> None:
    """SIGTERM the process group `proc` leads and wait for all of it to end (its traps run); SIGKILL
    the group after `STOP_GRACE` seconds, or as soon as another signal is added to `came`, then wait
    up to `KILL_WAIT` seconds more for it to be gone."""
    seen = len(came)
    _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    while _group_alive(proc):
        if len(came) > seen or time.monotonic() > deadline:
            _signal_group(proc, signal.SIGKILL)
            break
        time.sleep(0.05)
    proc.wait()
    deadline = time.monotonic() + KILL_WAIT
    while _group_alive(proc) and time.monotonic() < deadline:
        time.sleep(0.05)


def _group_alive(proc: subprocess.Popen) -> bool:
    """Whether `proc`, or another process of its group that is not a zombie, is still running. (Its
    children outlive it when it ends first: until they end, its mounts may still be in use.)"""
    if proc.poll() is None:
        return True
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # (EPERM: a member that is not ours; still running)
        return True
    try:  # a zombie (not yet reaped by its new parent) holds nothing: only running members count
        names = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return True
    for name in names:
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and int(fields[2]) == proc.pid and fields[0] != b"Z":
            return True
    return False


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(proc.pid, signum)  # (its group's id is its pid: start_new_session)
    except ProcessLookupError:  # the whole group has ended
        pass


@contextlib.contextmanager
def _signals_held():
    """Within the block, the `STOP_SIGNALS` this process does not ignore are noted (in the list it
    yields) rather than acted on, so that stopping debootstrap or removing the tree is not cut short
    halfway; the previous handlers are restored after. Only the main thread can set them (elsewhere
    nothing changes)."""
    came: list[int] = []
    previous = _set_handlers(lambda number, frame: came.append(number))
    if previous is None:
        yield came
        return
    try:
        yield came
    finally:
        _restore_handlers(previous)


def _mounts_under(folder: str) -> list[str] | None:
    """The mount points at or below `folder`, deepest (and latest) first, from /proc/self/mountinfo;
    None when that cannot be read (then nothing can be known to be safe to remove)."""
    base = os.path.realpath(folder)
    try:
        with open("/proc/self/mountinfo", "rb") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    found = []
    for index, line in enumerate(lines):
        fields = line.split(b" ")
        if len(fields) < 5:
            continue
        # (the kernel writes a space, tab, newline or backslash in a path as a 3-digit octal escape)
        point = os.fsdecode(re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), fields[4]))
        if point == base or point.startswith(base.rstrip("/") + "/"):
            found.append((point.count("/"), index, point))
    return [point for _, _, point in sorted(found, reverse=True)]


def _unmount_all(folder: str) -> list[str] | None:
    """`umount` each mount point below `folder`, deepest first; the mount points left (None: unknown).
    No lazy unmount (umount -l): a mount still busy after debootstrap has ended is in use by something
    else, and is reported and left alone rather than hidden."""
    for point in _mounts_under(folder) or ():
        try:
            subprocess.run(["umount", point], stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            pass
    return _mounts_under(folder)


def _remove_scratch(scratch: str) -> str | None:
    """Remove the scratch folder after unmounting what is mounted in it; None when done, else what
    was left and why. With a mount left in it, nothing is removed: as root, a removal through a bind
    mount of the host's /proc or /sys (or any folder) would delete or change the host's files."""
    left = _unmount_all(scratch)
    if left is None:
        return (f"the scratch folder {scratch} was left in place: /proc/self/mountinfo cannot be read, so "
                "whether anything is mounted in it is unknown; check with `findmnt`, then remove it")
    if left:
        return (f"the scratch folder {scratch} was left in place: still mounted in it: {', '.join(left)}; "
                "unmount them (umount PATH), then remove it")
    kept = _remove_tree(scratch, frozenset())
    if kept:
        return f"the scratch folder {scratch} was only partly removed: {'; '.join(kept[:5])}"
    return None


def _remove_tree(path: str, mounts: frozenset[str], device: int | None = None) -> list[str]:
    """Remove the tree at `path` without entering another filesystem (st_dev) or a mount point (a bind
    mount of the same filesystem has the same st_dev); what could not be removed, and why."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return []
    except OSError as exc:
        return [f"{path}: {exc.strerror}"]
    if not stat.S_ISDIR(info.st_mode):
        try:
            os.unlink(path)
            return []
        except OSError as exc:
            return [f"{path}: {exc.strerror}"]
    if device is None:
        device = info.st_dev
        mounts = frozenset(_mounts_under(path) or ()) - {os.path.realpath(path)}
    if info.st_dev != device or os.path.realpath(path) in mounts:
        return [f"{path}: a mount point, not entered"]
    kept: list[str] = []
    try:
        with os.scandir(path) as entries:
            names = [entry.name for entry in entries]
    except OSError as exc:
        return [f"{path}: {exc.strerror}"]
    for name in names:
        kept += _remove_tree(os.path.join(path, name), mounts, device)
    if not kept:
        try:
            os.rmdir(path)
        except OSError as exc:
            kept.append(f"{path}: {exc.strerror}")
    return kept


def check_image(tag: str = DEFAULT_IMAGE) -> str:
    """Run python3 in the image once; returns its version or raises ImageBuildError."""
    return python_version_in(docker_client(), tag)


def python_version_in(client, tag: str) -> str:
    """The version of the python3 that image `tag` runs as the sandbox runs it (user 65534, no
    network), or ImageBuildError when it has none, or one older than `python_probe.MIN_PYTHON`."""
    from docker.types import LogConfig

    try:  # (not containers.run: it pulls a missing image, and leaves the container of a failed start)
        container = client.containers.create(tag, ["python3", "-I", "-c", PYTHON_PROBE], network_mode="none",
                                             user="65534:65534", log_config=LogConfig(type="json-file"))
    except Exception as exc:
        raise ImageBuildError(f"image {tag} does not run python3: {getattr(exc, 'explanation', None) or exc}") from None
    try:
        container.start()
        status = container.wait(timeout=120)["StatusCode"]
        stdout, stderr = container.logs(stdout=True, stderr=False), container.logs(stdout=False, stderr=True)
    except Exception as exc:  # e.g. exec: "python3": executable file not found in $PATH
        raise ImageBuildError(f"image {tag} does not run python3: {getattr(exc, 'explanation', None) or exc}") from None
    finally:
        try:
            container.remove(force=True)
        except Exception:  # noqa: BLE001 - gone already
            pass
    problem = python_probe_failure(status, stdout, stderr)
    if problem:
        raise ImageBuildError(f"image {tag} does not run python3 ({problem})")
    return stdout.decode("utf-8", "replace").split()[0]


def build_image(method: str = "auto", tag: str = DEFAULT_IMAGE, log: Callable[[str], None] = print,
                **debootstrap_options) -> str:
    """Build the sandbox image. "auto" tries the Dockerfile and falls back to debootstrap.

    Both methods need the Docker daemon, so it is checked first: an unreachable one raises its own
    ImageBuildError rather than a fallback's (e.g. debootstrap's "needs root") that hides the cause.
    """
    if method not in ("auto", "dockerfile", "debootstrap"):
        raise ValueError(f"unknown image build method {method!r}; use auto, dockerfile or debootstrap")
    split_tag(tag)  # (a tag Docker refuses: said now, not after a build, nor by a fallback's build)
    docker_client()
    if method == "dockerfile":
        return build_from_dockerfile(tag, log)
    if method == "debootstrap":
        return build_with_debootstrap(tag, log=log, **debootstrap_options)
    try:
        return build_from_dockerfile(tag, log)
    except ImageBuildError as exc:
        log(f"Dockerfile build did not work ({exc}); building with debootstrap instead")
        return build_with_debootstrap(tag, log=log, **debootstrap_options)
