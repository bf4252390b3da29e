"""A `vlmbench run` killed outright during a docker job: its container is stopped before the job resumes.

A container does not die with the process that started it (the engine runs it), so the rerun
finds it by its job label and the folder it mounts, whatever run id it was given, and removes
it before the new worker reads what was answered.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from tests.conftest import WORDS
from tests.docker.conftest import labelled_containers
from tests.docker.test_docker_failures import (
    _job_dirs,
    _predictions_of,
    _slow_echo_setup,
    _vlmbench,
    _wait_for,
)
from vlmbench.rundir import JobDir

pytestmark = [pytest.mark.docker, pytest.mark.integration, pytest.mark.slow]


@pytest.mark.parametrize("rerun_config", ["same", "renamed"])
def test_a_sigkilled_host_leaves_a_container_the_rerun_stops_before_resuming(
        tmp_path, docker_client, cpu_image, no_leftover_containers, rerun_config):
    config, catalog = _slow_echo_setup(tmp_path, delay_s=1.0)
    out = tmp_path / "out"
    host = _vlmbench("run", config, "--executor", "docker", "--out", out, "--catalog", catalog)
    _wait_for(lambda: _predictions_of(out, "slow") >= 2, what="the container answering")
    job_dir = _job_dirs(out)["slow"]
    host.send_signal(signal.SIGKILL)
    host.communicate(timeout=30)
    [leftover] = labelled_containers(docker_client, job_id=job_dir.name)
    time.sleep(1.5)  # it goes on answering without its host: the case to settle
    leftover.reload()
    assert leftover.status == "running"
    assert JobDir(job_dir).read_status().state == "running"

    if rerun_config == "renamed":  # the same folder, reached from a run CSV of another name: another run id
        renamed = tmp_path / "renamed.csv"
        shutil.copy(config, renamed)
        config = renamed
    log = (tmp_path / "rerun.log").open("w")
    rerun = subprocess.Popen([sys.executable, "-m", "vlmbench", "run", str(config), "--executor", "docker",
                              "--out", str(out), "--catalog", str(catalog)], stdout=log, stderr=subprocess.STDOUT)
    # Removed before the new worker starts: never two containers of this job at once.
    seen: set[str] = set()
    while rerun.poll() is None:
        running = {c.id for c in labelled_containers(docker_client, job_id=job_dir.name)}
        assert not (leftover.id in running and len(running) > 1), "old and new containers ran side by side"
        seen |= running
        time.sleep(0.2)
    log.close()
    assert rerun.returncode == 0, (tmp_path / "rerun.log").read_text()
    assert seen - {leftover.id}, "the rerun never started its own container"
    assert labelled_containers(docker_client, job_id=job_dir.name) == []

    lines = [json.loads(line) for line in (job_dir / "predictions.jsonl").read_text().splitlines()]
    assert Counter(line["id"] for line in lines) == Counter(f"s{i}" for i in range(len(WORDS)))
    status = JobDir(job_dir).read_status()
    assert status.state == "done" and status.n_samples == len(WORDS)
