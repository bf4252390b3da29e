"""The connection to a Docker Engine, and what it can and cannot do.

Every way of not reaching an engine (no SDK, no socket, no daemon,
no permission) becomes one :class:`~vlmbench.errors.ExecutorError` that
says how to start one, never the SDK's traceback.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from typing import TYPE_CHECKING

from vlmbench.errors import ExecutorError, InfrastructureError

if TYPE_CHECKING:
    import docker

START_HINT = ("start one with `sudo scripts/docker-engine.sh` (installs docker.io and starts dockerd) or "
              "`sudo systemctl start docker`; DOCKER_HOST selects another engine")
NVIDIA_HINT = ("install the NVIDIA Container Toolkit and run `sudo nvidia-ctk runtime configure --runtime=docker`, "
               "then restart dockerd; or leave out --gpus and the gpus column to run on CPU")


def connect(timeout_s: float = 30.0) -> docker.DockerClient:
    """A client whose engine has answered a ping."""
    try:
        import docker
    except ImportError:
        raise ExecutorError("the docker executor needs the docker SDK", hint="pip install docker") from None
    try:
        client = docker.from_env(timeout=int(timeout_s))
        client.ping()
    except docker.errors.DockerException as exc:
        reason = str(exc)
        if "Permission denied" in reason:
            raise ExecutorError("the Docker Engine's socket refuses this user (permission denied)",
                                hint="add yourself to the docker group (`sudo usermod -aG docker $USER`, "
                                     "then log in again) or run as root") from None
        raise InfrastructureError(f"no Docker Engine answers: {_short(reason)}", hint=START_HINT) from exc
    return client


def _short(reason: str) -> str:
    # The SDK wraps urllib3's errors several times over; the innermost clause is the useful one.
    return reason.split("(", 1)[0].strip().rstrip(":") or reason


def has_nvidia_runtime(client: docker.DockerClient) -> bool:
    """Whether the engine can honour a GPU DeviceRequest (driver ``nvidia``)."""
    info = client.info()
    if "nvidia" in (info.get("Runtimes") or {}):
        return True
    # The older hook-based setup registers no runtime; dockerd finds the hook on its PATH.
    return shutil.which("nvidia-container-runtime-hook") is not None and _engine_is_local(client)


def _engine_is_local(client: docker.DockerClient) -> bool:
    return client.api.base_url.startswith(("http+docker://localhost", "http+docker://localunixsocket"))


def image_exists(client: docker.DockerClient, image: str) -> bool:
    import docker

    try:
        client.images.get(image)
        return True
    except docker.errors.ImageNotFound:
        return False


def image_digests(images: Iterable[str], client: docker.DockerClient | None = None) -> dict[str, str]:
    """image → digest, for the run.json record and the job ids.

    A pulled image has a registry digest (``repo@sha256:…``), which names
    the same bytes on every machine; a locally built one has only its
    image id, which still changes whenever its content does. Images the
    engine does not hold are left out.
    """
    import docker

    client = client or connect()
    digests: dict[str, str] = {}
    for image in sorted(set(filter(None, images))):
        try:
            found = client.images.get(image)
        except docker.errors.ImageNotFound:
            continue
        repo_digests = found.attrs.get("RepoDigests") or []
        digests[image] = repo_digests[0] if repo_digests else found.id
    return digests
