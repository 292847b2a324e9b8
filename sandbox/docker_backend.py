"""The Docker backend: each warm worker is a locked-down container, reached through the Docker SDK.

Containers have no network, a read-only root filesystem, tmpfs work dir, /tmp and /dev/shm (each
limited in size and in number of files), memory, pids and CPU limits, no capabilities,
no-new-privileges, and run as the unprivileged user 65534. The worker is the container's pid 1, so
runs cannot signal it, and after each run it kills whatever the run left.

The process limit is the container's pids cgroup, set to each run's `max_processes` before the run
(RLIMIT_NPROC would count every process of uid 65534 on the host, other containers' included, not
just the container's). As under bubblewrap, `max_processes` is the run's own processes and
threads; the worker's two come on top. A run any of whose processes the container's OOM killer
ends is reported as "memory", whatever its exit status (the worker compares the cgroup's OOM-kill
count before and after the run; `details["oom_kills"]` is how many it ended).
The container's memory is the sandbox's `memory_mb`, plus `WORKER_OVERHEAD_MB` for the worker, plus
twice `max_output_bytes`, the most the run's handler holds (its stdout and stderr) while it
answers (`container_memory_mb`). That reserve is memory a run that prints little can use too, so
a sandbox whose reserve exceeds its `memory_mb` is refused (`check_output_reserve`): the container
never gets more than twice `memory_mb` plus the worker's share. A run may raise
`max_output_bytes` (the verifiers do, for cases that expect long outputs): what it prints beyond
the sandbox's cap must then fit in what the worker leaves of its share (most of it: the worker
itself takes about 15 MiB).

A container lost during a run is looked up in the engine's events: one whose OOM killer acted
ended for lack of the run's memory, and the run is "memory" at once, never tried again; one that
Docker was asked to kill (`docker kill`, `docker rm -f`, a daemon shutdown) was not ended by the
program, which cannot signal its pid 1, and a run that loses its container that way twice is a
"sandbox_error" (`DockerPool`).
Containers log nothing (log driver "none"): every byte a run prints goes through the worker's
stdout, and Docker's default json-file driver would keep it all on the host's disk.

The image must run `python3` (3.9 or later) as user 65534; `_require_image` checks it once per
image id.

Containers are removed by Docker when they exit (the worker exits when its host process goes away,
even on SIGKILL) and carry labels naming their owner process; a new Docker sandbox removes stopped
ones left by owner processes that are gone. Build the image with `rlvr sandbox build-image`.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import struct
import threading
import time
from dataclasses import replace

from rlvr.sandbox.base import Job, Sandbox, SandboxUnavailable
from rlvr.sandbox.image import DEFAULT_IMAGE, ImageBuildError, ping_docker, python_version_in
from rlvr.sandbox.limits import Limits
from rlvr.sandbox.pool import UNSTARTED, WORKER_SOURCE, Channel, WarmPool, job_message, wait_ready
from rlvr.sandbox.result import ExecResult
from rlvr.sandbox.worker import WORKER_PROCESSES

log = logging.getLogger("rlvr.sandbox")

#: Memory the container gets beyond the per-run limit, for the worker itself and the page cache
#: (and, on top, twice the output cap: `container_memory_mb`).
WORKER_OVERHEAD_MB = 128
#: What receiving a run's stdin, files and program costs the container's memory, in bytes per
#: byte of them (their base64 line as read and as parsed, and the files they become in the tmpfs
#: mounts: see the worker's `_write_payload`), and what the worker itself keeps meanwhile (MiB).
#: `_check_job_fits` refuses a run that brings more than the container could receive.
INPUT_COST = 5
INPUT_RESERVE_MB = 24
#: How long (seconds) to wait for the engine's events about a container lost during a run.
EVENTS_WAIT_SECONDS = 5.0
#: How long (seconds) a run's own calls to the engine (a container's pids limit, its removal) may
#: take: a daemon that answers none of them meanwhile is hung, and the run ends as a
#: "sandbox_error" rather than waiting on it the client's whole timeout for each call (`DockerPool`).
CALL_TIMEOUT_SECONDS = 10.0
#: The timeout of the client `_client` returns, for the engine's work after its first calls (image
#: checks, starting and removing containers); the first calls get `image.PING_TIMEOUT_SECONDS`.
CLIENT_TIMEOUT_SECONDS = 60
#: The label every rlvr container carries, and the labels naming the process that started it.
LABEL = "rlvr.sandbox"
OWNER_LABELS = ("rlvr.sandbox.boot_id", "rlvr.sandbox.pid_ns", "rlvr.sandbox.pid", "rlvr.sandbox.pid_start")
#: The files where a container's memory cgroup counts its OOM kills (cgroup v2, then v1), as seen
#: inside the container: the worker compares the count before and after each run.
OOM_EVENTS = ["/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"]


def pids_limit(max_processes: int) -> int:
    """The container's pids limit for a run with `max_processes`: the run's own processes and
    threads, plus the worker's (the worker and the run's handler), as the worker sets
    RLIMIT_NPROC under bubblewrap."""
    return max_processes + WORKER_PROCESSES


def container_memory_mb(limits: Limits) -> int:
    """The container's memory limit: the run's `memory_mb`, the worker's own share, and room for
    the handler to hold a run's stdout and stderr, each up to `max_output_bytes`, while it answers
    (in base64, a piece at a time: see the worker's `send`)."""
    return limits.memory_mb + WORKER_OVERHEAD_MB + output_reserve_mb(limits.max_output_bytes)


def output_reserve_mb(max_output_bytes: int) -> int:
    """MiB of the container's memory kept for a run's output: its stdout and stderr, each up to
    `max_output_bytes`, which the handler holds until it has answered."""
    return -(-2 * max_output_bytes // (1 << 20))


def check_output_reserve(limits: Limits) -> None:
    """Refuse (ValueError) a sandbox whose output reserve (`output_reserve_mb`) is larger than its
    `memory_mb`. The reserve is memory of the container's cgroup like any other: a run that prints
    little may use it, so it raises the memory cap of every run, which would otherwise grow without
    bound with `max_output_bytes` (2 GiB of output allowed 4 GiB more memory, whatever `memory_mb`
    said). Bounded by `memory_mb`, the container never gets more than twice `memory_mb` plus the
    worker's share; a larger output needs a larger `memory_mb`, asked for in so many words."""
    reserve = output_reserve_mb(limits.max_output_bytes)
    if reserve > limits.memory_mb:
        largest = limits.memory_mb * (1 << 20) // 2
        raise ValueError(
            f"max_output_bytes={limits.max_output_bytes} is too large for memory_mb={limits.memory_mb} under the "
            f"docker backend: its container keeps {reserve} MiB (twice max_output_bytes: a run's stdout and "
            "stderr, which its worker holds while answering) on top of memory_mb, memory a run that prints little "
            f"could use, and that reserve may not exceed memory_mb. Lower max_output_bytes to at most {largest}, or "
            f"raise memory_mb to at least {reserve}")


def input_space(limits: Limits) -> int:
    """Bytes of stdin, files and program together that a container of a sandbox with `limits` can
    receive for a run (see `INPUT_COST`): more would have the OOM killer end the worker's handler
    before the program starts."""
    return (container_memory_mb(limits) - INPUT_RESERVE_MB) * (1 << 20) // INPUT_COST


def _client():
    """A Docker SDK client whose daemon answered, or SandboxUnavailable naming why none did
    (`image.ping_docker`: the first calls get `image.PING_TIMEOUT_SECONDS`, so `make_sandbox("auto")`
    goes on to the next backend after that long, not after `CLIENT_TIMEOUT_SECONDS`). The client
    returned gets the longer timeout, for the engine's slower work (starting containers)."""
    return ping_docker(SandboxUnavailable, CLIENT_TIMEOUT_SECONDS)


# -- whose containers: labels naming the owner process, and removing those of dead owners ---------
def _process_start(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot), telling it from a later one with its
    pid; None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return None


def _host_identity() -> tuple[str, str] | None:
    """(boot id, pid namespace): where pids and start times mean the same as here; None if unknown."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as handle:
            boot_id = handle.read().strip()
        pid_ns = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return None
    return (boot_id, pid_ns) if boot_id else None


def owner_labels(pid: int | None = None) -> dict[str, str]:
    """The labels of a container started by process `pid` (this one by default)."""
    pid = os.getpid() if pid is None else pid
    labels = {LABEL: "worker"}
    identity, start = _host_identity(), _process_start(pid)
    if identity is not None and start is not None:
        labels.update(zip(OWNER_LABELS, (*identity, str(pid), start)))
    return labels


def remove_orphaned_containers(client) -> list[str]:
    """Remove the stopped rlvr containers whose owner process is gone; returns their ids.

    Only containers started on this machine since its last boot and in this pid namespace are
    considered (elsewhere a pid says nothing about its process), only stopped ones (created, exited,
    dead), and only when no process has the owner's pid and start time. Containers of live
    processes, of other machines or namespaces, and of other software are never touched.
    """
    identity = _host_identity()
    if identity is None:
        return []
    boot_id, pid_ns = identity
    filters = {"label": [f"{LABEL}=worker", f"{OWNER_LABELS[0]}={boot_id}", f"{OWNER_LABELS[1]}={pid_ns}"],
               "status": ["created", "exited", "dead"]}
    removed = []
    for container in client.api.containers(all=True, filters=filters):
        labels = container.get("Labels") or {}
        pid, start = labels.get(OWNER_LABELS[2], ""), labels.get(OWNER_LABELS[3])
        if not pid.isdigit() or _process_start(int(pid)) == start:
            continue  # not ours to judge, or its owner is alive
        try:
            client.api.remove_container(container["Id"], v=True)  # (no force: never a running one)
        except Exception as exc:  # noqa: BLE001 - removed meanwhile, or started: leave it
            log.debug("rlvr.sandbox: could not remove orphaned container %s: %s", container["Id"][:12], exc)
            continue
        removed.append(container["Id"])
    if removed:
        log.info("rlvr.sandbox: removed %d stopped container(s) of rlvr processes that are gone", len(removed))
    return removed


# -- one worker container ----------------------------------------------------------------------
def loss_from_events(actions: set) -> str:
    """How a container that stopped answering during a run ended, from the actions of the engine's
    events for it since the run began: "killed" when Docker was asked to kill it (`docker kill`,
    `docker rm -f`, a daemon shutdown: only the API can ask, never the program), even if its OOM
    killer also acted meanwhile (on the program's children, which the program may have survived);
    else "oom" when the OOM killer acted; else "exited" or "unknown". An "oom" loss is scored as the
    program's `memory` at once, so an outside kill must not be taken for one."""
    if "kill" in actions:
        return "killed"
    if "oom" in actions:
        return "oom"
    return "exited" if actions & {"die", "destroy"} else "unknown"


class DockerChannel(Channel):
    """A worker container, its stdin and stdout through an attached socket."""

    def __init__(self, client, image: str, limits: Limits) -> None:
        from docker.types import LogConfig

        self._client = client
        # (nr_inodes counts the mount's root too; see `Limits.max_files` for why files are limited)
        tmpfs_size = f"size={4 * limits.max_file_mb}m,nr_inodes={limits.max_files + 1}"
        private = f"{tmpfs_size},uid=65534,gid=65534,mode=0700"
        memory_limit_mb = container_memory_mb(limits)
        self.pids_limit = pids_limit(limits.max_processes)
        self.container = client.containers.create(
            image,
            ["python3", "-I", "-c", WORKER_SOURCE, "pidns", "/work", "/tmp", "/dev/shm,/dev/mqueue", "-",
             ",".join(OOM_EVENTS)],  # (no job uid; where the worker finds its OOM kills: a handler's too)
            stdin_open=True,
            network_mode="none",
            # a closed TCP connection leaves no TIME_WAIT entry in the container's network namespace:
            # one would make the worker retire after every run that used the loopback (`_sockets_left`)
            sysctls={"net.ipv4.tcp_max_tw_buckets": "0"},
            read_only=True,
            # /dev/shm as a tmpfs of our own (Docker then mounts none there), to limit its files too
            tmpfs={"/work": private, "/tmp": private, "/dev/shm": f"{tmpfs_size},mode=1777"},
            user="65534:65534",
            working_dir="/work",
            mem_limit=f"{memory_limit_mb}m",
            memswap_limit=f"{memory_limit_mb}m",  # no swap
            pids_limit=self.pids_limit,
            nano_cpus=1_000_000_000,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            environment={"LANG": "C.UTF-8", "PATH": "/usr/local/bin:/usr/bin:/bin"},
            labels=owner_labels(),
            auto_remove=True,  # gone once it exits: the worker exits when the host process dies
            # no log: every run's output goes through the worker's stdout, which json-file (the
            # default) would also write to the host's disk without end; attach works all the same
            log_config=LogConfig(type="none"),
        )
        try:
            attached = self.container.attach_socket(params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
            self._socket: socket.socket = getattr(attached, "_sock", attached)
            self._socket.setblocking(True)
            self._frames = bytearray()
            self._stderr = b""
            self.container.start()
        except BaseException:  # never started: auto-remove will not remove it
            try:
                self.container.remove(force=True)
            except Exception:  # noqa: BLE001
                pass
            raise

    def send_line(self, data: bytes, timeout: float | None = None) -> None:
        """Send `data` whole within `timeout` seconds (None: no limit), else raise TimeoutError: a
        container that takes no input (paused, frozen) fills Docker's buffers, and a blocking send
        would then wait forever. (sendall's timeout bounds the whole send; the socket is blocking
        again afterwards, as `_read_some` and `alive` expect.)"""
        if timeout is not None and timeout <= 0:
            raise TimeoutError("no time was left to send the run to the container")
        self._socket.settimeout(timeout)
        try:
            self._socket.sendall(data)
        finally:
            self._socket.settimeout(None)

    def _read_some(self, timeout: float) -> bytes | None:
        """Demultiplex Docker's attach stream (8-byte headers) into stdout bytes."""
        while True:
            while len(self._frames) >= 8:  # (a bytearray, consumed from the front: linear in the stream)
                kind, size = self._frames[0], struct.unpack(">I", self._frames[4:8])[0]
                if len(self._frames) < 8 + size:
                    break
                payload = bytes(self._frames[8 : 8 + size])
                del self._frames[: 8 + size]
                if kind == 1:
                    return payload
                self._stderr = (self._stderr + payload)[-4000:]
            if not wait_ready(self._socket, select.POLLIN, timeout):
                return None
            data = self._socket.recv(1 << 20)
            if not data:
                return b""
            self._frames += data

    def alive(self) -> bool:
        """False once the attach stream has ended (the container stopped, or was killed)."""
        try:
            return not wait_ready(self._socket, select.POLLIN, 0) or self._socket.recv(1, socket.MSG_PEEK) != b""
        except Exception:  # noqa: BLE001 - e.g. a TLS socket takes no MSG_PEEK: presume it lost
            return False

    def set_pids_limit(self, limit: int) -> None:
        """Change the container's pids limit between runs (one Docker API call, about 20 ms, made
        only when a run's limit differs from the previous run's)."""
        if limit == self.pids_limit:
            return
        api = self._client.api  # (the SDK's Container.update takes no pids limit: Engine API /containers/{id}/update)
        response = api._post_json(api._url("/containers/{0}/update", self.container.id), data={"PidsLimit": limit},
                                  timeout=CALL_TIMEOUT_SECONDS)
        api._raise_for_status(response)
        self.pids_limit = limit

    def how_it_ended(self, since: float) -> str:
        """Why the container stopped answering during a run begun at `since` (`time.time()`), from
        the engine's events for it (kept after the container is removed): "running" (it is up: its
        worker went silent), "oom" (its OOM killer acted meanwhile), "killed" (Docker was asked to
        kill it: `docker kill`, `docker rm -f`, a daemon shutdown), "exited" (it ended otherwise:
        its worker exited, or a signal from outside Docker), or "unknown"."""
        if self.alive():
            return "running"
        actions: set = set()
        deadline = time.monotonic() + EVENTS_WAIT_SECONDS
        while True:  # the events of its end may come a moment after its stream closed
            try:
                events = self._client.api.events(since=f"{since:.6f}", until=f"{time.time():.6f}",
                                                 filters={"container": self.container.id}, decode=True)
                actions = {event.get("Action") or event.get("status") for event in events}
            except Exception as exc:  # noqa: BLE001 - no events: nothing is known
                log.debug("rlvr.sandbox: cannot read the events of container %s: %s", self.container.id[:12], exc)
                return "unknown"
            if actions & {"die", "destroy"} or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        return loss_from_events(actions)

    #: Set by `kill` when the engine did not answer the removal within `CALL_TIMEOUT_SECONDS`.
    daemon_hung = False

    def kill(self) -> None:
        import requests

        try:
            self._socket.close()
        except OSError:
            pass
        api = self._client.api
        try:
            api._raise_for_status(api._delete(api._url("/containers/{0}", self.container.id), params={"force": True},
                                              timeout=CALL_TIMEOUT_SECONDS))
        except (requests.exceptions.Timeout, requests.exceptions.ConnectionError):
            self.daemon_hung = True  # (the container stops anyway once the engine reads its closed stdin)
        except Exception:  # noqa: BLE001 - already gone
            pass

    def diagnostics(self) -> str:
        return self._stderr.decode("utf-8", "replace").strip()


class DockerPool(WarmPool):
    """Warm containers, each given the run's process limit before the run.

    A container lost during a run is judged by how it ended (`DockerChannel.how_it_ended`). One
    whose OOM killer acted was lost to the run's own memory: the program's processes, its files in
    the tmpfs mounts and the worker share the container's memory, and a program can make itself
    and its files the OOM killer's last choice (it may set its own `oom_score_adj` back to the
    worker's), so that the worker goes first. The run is then "memory" at once, never tried again
    on a fresh container: a second try would let a program that sees a test going wrong get a new,
    independent attempt at it. (The run is still a "sandbox_error" if a fresh container then fails
    to run an empty program: `WarmPool`.) A handler that the worker reports killed while the
    container's OOM killer acted is "memory" the same way. A container lost otherwise is tried once
    more (see `WarmPool`); one lost twice to a kill through Docker without its OOM killer acting
    was killed from outside (a program cannot kill its container's pid 1: it handles no signals),
    and SandboxUnavailable is raised (a "sandbox_error"), whatever an empty program does next. A
    container lost before the program started (while its worker received the run) is judged the
    same way; lost then to its OOM killer, the run's stdin and files did not fit in its memory: a
    "sandbox_error" that says to raise memory_mb, not tried again (a fresh container fails alike).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._run = threading.local()  # this thread's run: how its containers ended (`_exchange`)

    def execute(self, message: dict, limits: Limits) -> ExecResult:
        self._run.losses, self._run.oom, self._run.checking, self._run.hung = [], None, False, False
        result = super().execute(message, limits)
        if result.status != "error" or result.exit_code is not None or self._run.oom is None:
            return result
        return replace(result, status="memory", message=(
            f"memory limit exceeded: the container's OOM killer ended {self._run.oom}: the program's processes, its "
            "files in the tmpfs mounts and the worker share the container's memory (the sandbox's memory_mb, "
            "plus the worker's share)"))

    def _discard(self, channel: DockerChannel) -> None:
        super()._discard(channel)
        if channel.daemon_hung:  # this run will not wait on the engine again (`_acquire`)
            self._run.hung = True

    def _acquire(self) -> DockerChannel:
        if getattr(self._run, "hung", False):
            raise SandboxUnavailable(
                f"the Docker daemon did not answer within {CALL_TIMEOUT_SECONDS:g}s when this run's container was "
                "to be removed: it is hung or gone, so the run is not tried on another container")
        return super()._acquire()

    def _exchange(self, channel: DockerChannel, message: dict, limits: Limits) -> dict | None:
        """`WarmPool._exchange`, with a lost container judged by how it ended (`how_it_ended`),
        whether the program had started (None) or not (`UNSTARTED`). Lost before the program
        started to its OOM killer, the run is a "sandbox_error" at once, never tried again: its
        stdin and files did not fit in the memory the worker had to receive them, and would not fit
        on a fresh container either (a larger memory_mb is the remedy)."""
        began = time.time()
        try:
            channel.set_pids_limit(pids_limit(limits.max_processes))
        except Exception as exc:  # noqa: BLE001 - the run was not sent: never the program's fault
            if channel.alive():
                self._discard(channel)
                raise SandboxUnavailable(f"cannot set the container's process limit through Docker: {exc}") from None
            # the container died before the run was sent: lost before the program started
            reply = {UNSTARTED: f"its container was gone before the run was sent (setting its process limit "
                                f"through Docker failed: {exc})"}
        else:
            reply = super()._exchange(channel, message, limits)
        if reply is None or UNSTARTED in reply:
            losses = getattr(self._run, "losses", None)
            if losses is None:
                return reply
            losses.append(channel.how_it_ended(began))
            if losses[-1] == "oom" and not self._run.checking:
                if reply is not None:  # before the program started: its input did not fit, no second try
                    return {"status": "sandbox_error", "exit_code": None, "stdout": "", "stderr": "",
                            "wall_time": 0.0, "retire": True, "message": (
                                "the container's OOM killer ended the sandbox's worker while it received the run's "
                                "stdin and files, before the program started: they did not fit in the container's "
                                "memory (the worker receives them as base64, then writes them to the tmpfs mounts, "
                                "which share it): raise memory_mb")}
                # the run's own doing: no second try (`WarmPool.execute` tries no job that
                # killed its handler again); `execute` makes the run "memory"
                self._run.oom = "the sandbox's worker"
                return {"handler_killed": "by the container's OOM killer"}
            if reply is not None and losses[-1] == "killed":
                reply[UNSTARTED] += ("; the engine reports its container killed through Docker (`docker kill`, "
                                     "`docker rm -f`, a daemon restart), not by its OOM killer")
        elif "handler_killed" in reply and reply.pop("oom", False):  # (see the worker's `_report_killed_handler`)
            self._run.oom = "the run's supervisor (its handler)"
        return reply

    def _killed_from_outside(self) -> bool:
        """Whether this run lost two containers, one or more killed through Docker and none by its
        OOM killer: a program cannot kill its container's pid 1, so the sandbox is failing."""
        losses = getattr(self._run, "losses", [])
        return len(losses) >= 2 and "killed" in losses and "oom" not in losses

    def _killed_from_outside_error(self) -> SandboxUnavailable:
        return SandboxUnavailable(
            f"the {self.name} sandbox lost its container twice during this run, killed from outside through "
            "Docker (`docker kill`, `docker rm -f`, a daemon restart; not by its OOM killer): a program cannot "
            "kill its container, so the sandbox is failing, not the program")

    def _lost_before_start_twice(self, why: str, elapsed: float, diagnostics: str) -> ExecResult:
        if self._killed_from_outside():
            raise self._killed_from_outside_error()
        return super()._lost_before_start_twice(why, elapsed, diagnostics)

    def _runs_an_empty_program(self, message: dict, limits: Limits) -> bool:
        if self._killed_from_outside():
            raise self._killed_from_outside_error()
        if getattr(self._run, "hung", False):
            return False  # (no fresh container can be asked of a hung daemon: a "sandbox_error")
        self._run.checking = True  # (a container lost now is the sandbox's failure: no report stands in)
        try:
            return super()._runs_an_empty_program(message, limits)
        finally:
            self._run.checking = False


class DockerSandbox(Sandbox):
    """Runs programs in warm, locked-down containers (one per concurrent run)."""

    name = "docker"
    isolated = True

    def __init__(self, *, image: str = DEFAULT_IMAGE, **limits) -> None:
        super().__init__(**limits)
        self._job_space = 4 * self.limits.max_file_mb * 1024 * 1024  # each tmpfs mount's size
        self._input_space = input_space(self.limits)
        self.image = image
        self._client = _client()
        _require_image(self._client, image)
        # (after the engine and image checks: where Docker cannot start, `make_sandbox("auto")` must
        # hear SandboxUnavailable and go on to the next backend, which these limits may suit; before
        # any container: the cap each would get)
        check_output_reserve(self.limits)
        try:
            remove_orphaned_containers(self._client)
        except Exception as exc:  # noqa: BLE001 - housekeeping must never stop a sandbox
            log.debug("rlvr.sandbox: could not look for orphaned containers: %s", exc)
        self._pool = DockerPool(self.name, lambda: DockerChannel(self._client, self.image, self.limits),
                                after_fork=self._reconnect)

    def _reconnect(self) -> None:
        """In a forked child, before its first container: a Docker client of its own (the parent's
        HTTP connection, shared, mixes up the two processes' requests)."""
        self._client = _client()

    @staticmethod
    def check(image: str = DEFAULT_IMAGE) -> tuple[bool, str]:
        try:
            client = _client()
            _require_image(client, image)
        except SandboxUnavailable as exc:
            return False, str(exc)
        return True, f"Docker daemon reachable and image {image} present, with a python3 that runs"

    def _check_limits(self, limits: Limits) -> None:
        # the container's memory limit, its tmpfs mounts' size (4x max_file_mb) and nr_inodes
        # (max_processes is set per run: DockerPool)
        for name in ("memory_mb", "max_file_mb", "max_files"):
            if getattr(limits, name) > getattr(self.limits, name):
                raise ValueError(f"the docker backend fixes {name} when its containers start: "
                                 "create the sandbox with the larger limit instead of raising it per run")

    def _execute(self, job: Job, limits: Limits) -> ExecResult:
        # (no RLIMIT_NPROC: in a container it counts uid 65534's processes on the whole host; the
        # pids cgroup, set per run by DockerPool, limits the run's processes instead)
        message = job_message(job, limits, warm_python=True, rlimit_nproc=False)
        message["oom_events"] = OOM_EVENTS  # the container's own cgroup: its OOM kills are the run's
        return self._pool.execute(message, limits)

    def close(self) -> None:
        self._pool.close()


#: Ids of the images found to run the worker's python3 (`_require_image`), checked once each.
_WORKING_IMAGES: set[str] = set()


def _require_image(client, image: str) -> None:
    """Raise SandboxUnavailable unless `image` exists and runs python3 3.9+ as user 65534 (the
    worker's interpreter), naming the fix: an image without it would pass every other check and
    then fail every run."""
    import docker

    try:
        found = client.images.get(image)
    except docker.errors.ImageNotFound:
        raise SandboxUnavailable(f"Docker image {image!r} not found: {_how_to_build(image)}") from None
    except Exception as exc:
        raise SandboxUnavailable(f"cannot query Docker for image {image!r}: {exc}") from None
    if found.id in _WORKING_IMAGES:
        return
    try:
        python_version_in(client, image)
    except ImageBuildError as exc:
        raise SandboxUnavailable(
            f"{exc}: the sandbox's worker needs python3 (3.9 or later) in the image; "
            f"{_how_to_build(image).replace('build it', 'rebuild it', 1)}, or pass image= one that has it") from None
    _WORKING_IMAGES.add(found.id)


def _how_to_build(image: str) -> str:
    """How to get `image`: `rlvr sandbox build-image` makes the default image; any other tag is
    either built by it under that tag, or an image of the user's own (such as one FROM the default)."""
    if image == DEFAULT_IMAGE:
        return "build it with `rlvr sandbox build-image`"
    return (f"build it with `rlvr sandbox build-image --tag {image}`, or build or pull an image of your own "
            f"with that tag (for instance one FROM {DEFAULT_IMAGE}, with python3 3.9 or later)")
