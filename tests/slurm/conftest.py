"""A real one-node Slurm cluster for the slurm executor's tests.

The session fixture runs scripts/slurm-cluster.sh, as CI does on a fresh
machine (SPEC 7): it installs slurm-wlm and munge when missing, starts
munged, slurmctld and slurmd, and waits for the node to be idle. About
20 s the first time (apt), instant when a cluster already answers.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def slurm_cluster() -> None:
    result = subprocess.run(["bash", str(ROOT / "scripts" / "slurm-cluster.sh")], check=False,
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"scripts/slurm-cluster.sh failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}",
                    pytrace=False)


def vlmbench_jobs_in_queue() -> list[str]:
    """`name state` of every vlmbench job not yet finished."""
    result = subprocess.run(["squeue", "-h", "-o", "%j %T"], capture_output=True, text=True, check=True)
    return [line for line in result.stdout.splitlines() if line.startswith("vlmbench-")]


@pytest.fixture
def no_leftover_slurm_jobs(slurm_cluster) -> Iterator[None]:
    """Fails a test that leaves a vlmbench job queued or running."""
    yield
    left = vlmbench_jobs_in_queue()
    if left:
        subprocess.run(["scancel", "--name", ",".join(line.split()[0] for line in left)], check=False)
    assert not left, f"Slurm jobs left behind: {left}"


from tests.docker.conftest import cpu_image, docker_client  # noqa: F401 - the image the containers run


@pytest.fixture(scope="session")
def podman_image(cpu_image: str) -> str:  # noqa: F811 - the fixture imported above
    """The cpu image in Podman's own store, as scripts/podman-setup.sh puts it there (CI does the same)."""
    result = subprocess.run(["bash", str(ROOT / "scripts" / "podman-setup.sh"), cpu_image], check=False,
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"scripts/podman-setup.sh failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}",
                    pytrace=False)
    return cpu_image
