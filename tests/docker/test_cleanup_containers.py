"""`vlmbench cleanup` on a real engine: a killed run's labelled containers go, a live run's stay."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_run_record
from tests.docker.conftest import CPU_IMAGE, labelled_containers
from tests.unit.test_runlock import hold
from vlmbench.cleanup import clean_orphans, clean_run
from vlmbench.docker.jobs import LABEL_RUN, labels
from vlmbench.errors import RunDirInUseError
from vlmbench.rundir import JobDir
from vlmbench.rundir.records import JobStatus

pytestmark = [pytest.mark.docker, pytest.mark.integration]


@pytest.fixture
def image(request, docker_client) -> str:
    """Any vlmbench image with `sleep` will do: the one there is, else the CPU image built here."""
    import docker

    try:
        docker_client.images.get(CPU_IMAGE)
        return CPU_IMAGE
    except docker.errors.ImageNotFound:
        return request.getfixturevalue("cpu_image")


@pytest.fixture
def own_containers(docker_client):
    """Run ids for this test; their containers, and only theirs, must be gone at its end.

    Not no_leftover_containers: that one removes every vlmbench container, those of tests running beside.
    """
    run_ids: list[str] = []

    def new(prefix: str) -> str:
        run_ids.append(f"{prefix}-{os.getpid()}-{len(run_ids)}")
        return run_ids[-1]

    yield new
    left = [c for run_id in run_ids for c in labelled_containers(docker_client, run_id=run_id)]
    for container in left:
        container.remove(force=True)
    assert not left, f"containers left behind: {[c.name for c in left]}"


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def killed_docker_run(client, image: str, run_dir: Path, run_id: str):
    """What a SIGKILLed docker run leaves: its lock, a "running" status, a running labelled container."""
    import docker

    job_dir = run_dir / "jobs" / "job-1"
    job_dir.mkdir(parents=True)
    write_run_record(run_dir, run_id, "docker")
    JobDir(job_dir).write_status(JobStatus(state="running", n_samples=3))
    holder = hold(run_dir)
    holder.kill()
    holder.wait()
    # As the executor starts it (labels, /job mount, docker-init, the host's pid in the name), sleeping.
    return client.containers.run(
        image, entrypoint=["sleep"], command=["300"], labels=labels(run_id, "job-1"), init=True, detach=True,
        user=f"{os.getuid()}:{os.getgid()}", name=f"vlmbench-job-1-{_dead_pid()}-{run_id}",
        mounts=[docker.types.Mount(target="/job", source=str(job_dir.resolve()), type="bind")])


def test_cleanup_removes_the_containers_of_a_killed_run(tmp_path, docker_client, image, own_containers):
    run_id = own_containers("cleanup-test")
    run_dir = tmp_path / "run"
    container = killed_docker_run(docker_client, image, run_dir, run_id)
    container.reload()
    assert container.status == "running"

    process = hold(run_dir)  # while a live process holds the run, nothing is touched
    try:
        with pytest.raises(RunDirInUseError, match=f"pid {process.pid} "):
            clean_run(run_dir)
        assert labelled_containers(docker_client, run_id=run_id)
    finally:
        process.kill()
        process.wait()

    actions = clean_run(run_dir)
    assert not labelled_containers(docker_client, run_id=run_id)
    assert ("container", container.name, "stopped and removed") in [(a.kind, a.target, a.outcome) for a in actions]
    assert JobDir(run_dir / "jobs" / "job-1").read_status().state == "interrupted"


class _Only:
    """The engine as clean_orphans sees it, narrowed to this test's runs (other tests' containers run too)."""

    def __init__(self, client, run_ids: set[str]) -> None:
        self.client, self.run_ids, self.containers = client, run_ids, self

    def list(self, **kwargs) -> list:
        return [c for c in self.client.containers.list(**kwargs) if c.labels.get(LABEL_RUN) in self.run_ids]


def test_cleanup_without_a_run_dir_spares_a_held_run(tmp_path, docker_client, image, own_containers):
    stale_id, held_id = own_containers("cleanup-stale"), own_containers("cleanup-held")
    stale = killed_docker_run(docker_client, image, tmp_path / "stale", stale_id)
    held = killed_docker_run(docker_client, image, tmp_path / "held", held_id)
    process = hold(tmp_path / "held")
    try:
        actions = clean_orphans(_Only(docker_client, {stale_id, held_id}))
        assert not labelled_containers(docker_client, run_id=stale_id)
        [kept] = labelled_containers(docker_client, run_id=held_id)
        assert kept.id == held.id
        assert any(a.target == held.name and a.outcome.startswith("left:") for a in actions)
        assert any(a.target == stale.name and a.outcome == "stopped and removed" for a in actions)
    finally:
        process.kill()
        process.wait()
    clean_orphans(_Only(docker_client, {held_id}))  # its holder is gone now
    assert not labelled_containers(docker_client, run_id=held_id)
