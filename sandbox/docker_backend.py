"""The Docker backend: each warm worker is a locked-down container, reached through the Docker SDK.

Containers have no network, a read-only root filesystem, tmpfs work dir and /tmp, memory, pids and
CPU limits, no capabilities, no-new-privileges, and run as the unprivileged user 65534. The worker
is the container's pid 1, so runs cannot signal it, and after each run it kills whatever the run
left. The process limit is the container's pids cgroup (RLIMIT_NPROC would count every process of
uid 65534 on the host, not just the container's). Build the image with `rlvr sandbox build-image`.
"""

from __future__ import annotations

import select
import socket
import struct

from rlvr.sandbox.base import Job, Sandbox, SandboxUnavailable
from rlvr.sandbox.image import DEFAULT_IMAGE
from rlvr.sandbox.limits import Limits
from rlvr.sandbox.pool import WORKER_SOURCE, Channel, WarmPool, job_message
from rlvr.sandbox.result import ExecResult

#: Memory the container gets beyond the per-run limit, for the worker itself and the page cache.
WORKER_OVERHEAD_MB = 128
#: Processes beyond the per-run limit: the worker and the run's first process.
WORKER_PIDS = 4


def _client():
    import docker

    try:
        client = docker.from_env(timeout=60)
        client.ping()
    except Exception as exc:
        raise SandboxUnavailable(
            f"cannot reach the Docker daemon ({type(exc).__name__}: {exc}); start it "
            "(`dockerd` or `systemctl start docker`) or set DOCKER_HOST"
        ) from None
    return client


class DockerChannel(Channel):
    """A worker container, its stdin and stdout through an attached socket."""

    def __init__(self, client, image: str, limits: Limits) -> None:
        tmpfs_size = f"size={4 * limits.max_file_mb}m,uid=65534,gid=65534,mode=0700"
        self.container = client.containers.create(
            image,
            ["python3", "-I", "-c", WORKER_SOURCE, "pidns", "/work", "/tmp", "/dev/shm,/dev/mqueue"],
            stdin_open=True,
            network_mode="none",
            read_only=True,
            tmpfs={"/work": tmpfs_size, "/tmp": tmpfs_size},
            shm_size=4 * limits.max_file_mb * 1024 * 1024,
            user="65534:65534",
            working_dir="/work",
            mem_limit=f"{limits.memory_mb + WORKER_OVERHEAD_MB}m",
            memswap_limit=f"{limits.memory_mb + WORKER_OVERHEAD_MB}m",
            pids_limit=limits.max_processes + WORKER_PIDS,
            nano_cpus=1_000_000_000,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            environment={"LANG": "C.UTF-8", "PATH": "/usr/local/bin:/usr/bin:/bin"},
            labels={"rlvr.sandbox": "worker"},
        )
        attached = self.container.attach_socket(params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
        self._socket: socket.socket = getattr(attached, "_sock", attached)
        self._socket.setblocking(True)
        self._frames = b""
        self._stderr = b""
        self.container.start()

    def send_line(self, data: bytes) -> None:
        self._socket.sendall(data)

    def _read_some(self, timeout: float) -> bytes | None:
        """Demultiplex Docker's attach stream (8-byte headers) into stdout bytes."""
        while True:
            while len(self._frames) >= 8:
                kind, size = self._frames[0], struct.unpack(">I", self._frames[4:8])[0]
                if len(self._frames) < 8 + size:
                    break
                payload, self._frames = self._frames[8 : 8 + size], self._frames[8 + size :]
                if kind == 1:
                    return payload
                self._stderr = (self._stderr + payload)[-4000:]
            ready, _, _ = select.select([self._socket], [], [], timeout)
            if not ready:
                return None
            data = self._socket.recv(1 << 20)
            if not data:
                return b""
            self._frames += data

    def alive(self) -> bool:
        """False once the attach stream has ended (the container stopped, or was killed)."""
        try:
            ready, _, _ = select.select([self._socket], [], [], 0)
            return not ready or self._socket.recv(1, socket.MSG_PEEK) != b""
        except Exception:  # noqa: BLE001 - e.g. a TLS socket takes no MSG_PEEK: presume it lost
            return False

    def kill(self) -> None:
        try:
            self._socket.close()
        except OSError:
            pass
        try:
            self.container.remove(force=True)
        except Exception:  # already gone
            pass

    def diagnostics(self) -> str:
        return self._stderr.decode("utf-8", "replace").strip()


class DockerSandbox(Sandbox):
    """Runs programs in warm, locked-down containers (one per concurrent run)."""

    name = "docker"
    isolated = True

    def __init__(self, *, image: str = DEFAULT_IMAGE, **limits) -> None:
        super().__init__(**limits)
        self.image = image
        self._client = _client()
        _require_image(self._client, image)
        self._pool = WarmPool(self.name, lambda: DockerChannel(self._client, self.image, self.limits))

    @staticmethod
    def check(image: str = DEFAULT_IMAGE) -> tuple[bool, str]:
        try:
            client = _client()
            _require_image(client, image)
        except SandboxUnavailable as exc:
            return False, str(exc)
        return True, f"Docker daemon reachable and image {image} present"

    def _check_limits(self, limits: Limits) -> None:
        if limits.memory_mb > self.limits.memory_mb or limits.max_processes > self.limits.max_processes:
            raise ValueError(
                "the docker backend fixes memory_mb and max_processes when its containers start: "
                "create the sandbox with the larger limits instead of raising them per run"
            )

    def _execute(self, job: Job, limits: Limits) -> ExecResult:
        return self._pool.execute(job_message(job, limits, warm_python=True, rlimit_nproc=False), limits)

    def close(self) -> None:
        self._pool.close()


def _require_image(client, image: str) -> None:
    import docker

    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        raise SandboxUnavailable(
            f"Docker image {image!r} not found: build it with `rlvr sandbox build-image`"
        ) from None
    except Exception as exc:
        raise SandboxUnavailable(f"cannot query Docker for image {image!r}: {exc}") from None
