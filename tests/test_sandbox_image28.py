"""`rlvr sandbox build-image` against a real Docker daemon: the build log streams while it builds,
a failed build says why, and an unreachable daemon is reported as such (not as a fallback's error).

The builds start `FROM rlvr-sandbox:latest` (already local: nothing is pulled) under a tag unique to
the test process, removed afterwards; a token in each Dockerfile keeps the build cache from
skipping the RUN step.
"""

from __future__ import annotations

import os
import time
import uuid

import pytest

from conftest import REQUIRED_BACKENDS
from rlvr.sandbox.image import DEFAULT_IMAGE, ImageBuildError, build_from_dockerfile, build_image


def _docker_client():
    """A Docker SDK client with the sandbox image present, else skip (or fail where CI requires docker)."""
    pytest.importorskip("docker")
    import docker

    try:
        client = docker.from_env(timeout=60)
        client.ping()
        client.images.get(DEFAULT_IMAGE)
    except Exception as exc:  # noqa: BLE001 - any failure means: no usable daemon here
        if "docker" in REQUIRED_BACKENDS:
            pytest.fail(f"required sandbox backend 'docker' is unavailable: {exc}")
        pytest.skip(f"Docker daemon or image {DEFAULT_IMAGE} unavailable here: {exc}")
    return client


@pytest.fixture
def build(tmp_path):
    """Build a Dockerfile whose body follows `FROM rlvr-sandbox:latest`; yields (tag, lines) where
    each log line is recorded with its arrival time. Removes the image afterwards."""
    client = _docker_client()
    tag = f"rlvr-test-build28:{os.getpid()}-{uuid.uuid4().hex[:8]}"
    logged: list[tuple[float, str]] = []

    def run(body: str) -> str:
        (tmp_path / "Dockerfile").write_text(f"FROM {DEFAULT_IMAGE}\n{body}\n")
        return build_from_dockerfile(tag, lambda line: logged.append((time.monotonic(), line)), context=tmp_path)

    yield run, logged
    try:
        client.images.remove(tag, force=True)
    except Exception:  # noqa: BLE001 - the build failed: no image to remove
        pass


def test_build_log_lines_arrive_while_the_build_runs(build):
    run, logged = build
    token = uuid.uuid4().hex
    started = time.monotonic()
    run(f"RUN echo first-line {token} && sleep 1.5 && echo second-line")
    finished = time.monotonic()
    first = next(t for t, line in logged if line.startswith("first-line"))
    second = next(t for t, line in logged if line.startswith("second-line"))
    # client.images.build read the whole stream first: every line came at the end, together
    assert second - first >= 1.0, logged
    assert finished - first >= 1.0 and first - started < finished - started


def test_failed_build_error_quotes_the_build_log(build):
    run, logged = build
    token = uuid.uuid4().hex
    with pytest.raises(ImageBuildError) as caught:  # the echoed text is not in the command (quoted by the error)
        run(f"RUN what=apt-error; echo some-$what-text {token} && false")
    message = str(caught.value)
    assert f"some-apt-error-text {token}" in message, message
    assert "returned a non-zero code" in message
    assert any(line.startswith("some-apt-error-text") for _, line in logged)


@pytest.mark.parametrize("method", ["auto", "debootstrap"])
def test_unreachable_daemon_is_the_error_not_a_fallback(method, tmp_path, monkeypatch):
    """As a non-root user without a daemon, both used to end in debootstrap's "needs root": `docker
    import` needs the daemon too, so that hid the cause."""
    pytest.importorskip("docker")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such-docker.sock")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    logged: list[str] = []
    with pytest.raises(ImageBuildError) as caught:
        build_image(method, f"rlvr-test-build28:{os.getpid()}-none", log=logged.append)
    assert "cannot reach the Docker daemon" in str(caught.value)
    assert "root" not in str(caught.value) and "debootstrap" not in " ".join(logged), (caught.value, logged)
