"""A real Docker Engine for the docker tests, and the CPU image built on it.

The session fixture does what CI does on a fresh machine (SPEC 7): starts
the engine (installing docker.io if needed), makes the base image with
debootstrap and `docker import` (no registry is reachable), and builds
vlmbench/cpu from the working tree. Slow the first time (about 6 minutes),
seconds afterwards: every step is skipped or cached when already done.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from vlmbench.docker.jobs import LABEL_MANAGED
from vlmbench.docker.names import image_tag

ROOT = Path(__file__).resolve().parents[2]
CPU_IMAGE = image_tag("cpu")


def _script(name: str) -> None:
    result = subprocess.run(["bash", str(ROOT / "scripts" / name)], check=False, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"scripts/{name} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}", pytrace=False)


@pytest.fixture(scope="session")
def docker_client():
    _script("docker-engine.sh")
    from vlmbench.docker.engine import connect

    return connect()


@pytest.fixture(scope="session")
def cpu_image(docker_client) -> str:
    """vlmbench/cpu:<version> built from this working tree on the local base image."""
    _script("make-base-image.sh")
    from vlmbench.docker.build import build_images

    [result] = build_images(["cpu"])
    if not result.ok:
        pytest.fail(f"building {result.tag} failed: {result.error}", pytrace=False)
    return result.tag


def labelled_containers(client, **labels: str) -> list:
    filters = [f"{LABEL_MANAGED}=true", *(f"vlmbench.{key}={value}" for key, value in labels.items())]
    return client.containers.list(all=True, filters={"label": filters})


@pytest.fixture
def no_leftover_containers(docker_client) -> Iterator[None]:
    """Fails a test that leaves any vlmbench container behind."""
    yield
    left = labelled_containers(docker_client)
    for container in left:
        container.remove(force=True)
    assert not left, f"containers left behind: {[c.name for c in left]}"


def extra_catalog(path: Path, rows: list[str]) -> Path:
    header = "framework,model_family,model_name,docker_image,python_package,module,class_name,weights,params\n"
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    return path
