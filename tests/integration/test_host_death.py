"""Nothing outlives its host: a `vlmbench run` killed or stopped by a signal leaves no worker behind.

Real processes throughout: a host `python -m vlmbench run` on a slow echo model, signalled
as a service manager, a closed terminal or the kernel would; then a rerun of the same command.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from vlmbench.rundir import JobDir

pytestmark = [pytest.mark.integration, pytest.mark.workers]

CATALOG = ("framework,model_family,model_name,docker_image,python_package,module,class_name,params\n"
           'echo,Echo,slow-echo,,,,echo,"{""delay_s"": 0.3, ""answer"": ""x""}"\n')
N_SAMPLES = 12  # the text_dataset fixture's


def _setup(tmp_path: Path, dataset: Path) -> list[str]:
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(CATALOG)
    config = tmp_path / "run.csv"
    config.write_text(f"model_name,dataset,batch_size,metrics\nslow-echo,{dataset},1,exact_match\n")
    return [sys.executable, "-m", "vlmbench", "run", str(config), "--out", str(tmp_path / "out"),
            "--catalog", str(catalog)]


def _start(command: list[str]) -> subprocess.Popen:
    # Its own session, as a run started from a terminal and then signalled from elsewhere.
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def _wait_for(predicate, timeout_s: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _job_dir_answering(out: Path, at_least: int = 2) -> Path | None:
    for predictions in out.glob("jobs/*/predictions.jsonl"):
        status = JobDir(predictions.parent).read_status()
        if predictions.read_text().count("\n") >= at_least and status.worker_pid:
            return predictions.parent
    return None


def _alive(pid: int) -> bool:
    """A live process (a zombie waiting to be reaped is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _workers_of(job_dir: Path) -> list[int]:
    """Every live process on this machine running a worker under this folder (/proc scanned, no pgrep).

    By path, not job id: the same job of another test (or of this file run elsewhere at the same
    time) has the same id in another folder.
    """
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            line = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"worker" in line and any(str(job_dir).encode() in part for part in line) and _alive(int(proc.name)):
            found.append(int(proc.name))
    return found


@pytest.fixture(autouse=True)
def no_worker_left(tmp_path: Path):
    """A test that fails half-way still leaves no worker behind (some are stopped on purpose)."""
    yield
    for pid in _workers_of(tmp_path):
        os.kill(pid, signal.SIGKILL)


def _answered_once_each(job_dir: Path) -> None:
    """Every sample has exactly one line in predictions.jsonl, and an answer: nothing twice, nothing lost."""
    lines = [json.loads(line) for line in (job_dir / "predictions.jsonl").read_text().splitlines()]
    counts = Counter(line["id"] for line in lines)
    assert counts == Counter(f"s{i}" for i in range(N_SAMPLES)), counts
    assert all(line["answer"] == "x" and line["error"] is None for line in lines)


def _rerun_completes(command: list[str], job_dir: Path) -> None:
    rerun = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    _answered_once_each(job_dir)
    statuses = [JobDir(path.parent).read_status() for path in job_dir.parent.glob("*/status.json")]
    assert statuses and all(status.state == "done" for status in statuses)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_a_sigkilled_host_takes_its_worker_with_it_and_a_rerun_answers_each_sample_once(tmp_path, text_dataset):
    command = _setup(tmp_path, text_dataset)
    host = _start(command)
    job_dir = _wait_for(lambda: _job_dir_answering(tmp_path / "out"), what="the first predictions")
    status = JobDir(job_dir).read_status()
    assert (status.state, status.runner_pid, status.host) == ("running", host.pid, os.uname().nodename)
    assert status.worker_pid in _workers_of(job_dir)

    host.kill()
    host.wait(timeout=10)
    _wait_for(lambda: not _workers_of(job_dir), timeout_s=5, what="the worker to die with its host")
    # The worker took the kernel's SIGTERM and recorded what it had answered itself.
    status = JobDir(job_dir).read_status()
    assert (status.state, status.error) == ("interrupted", "interrupted by SIGTERM")
    kept = JobDir(job_dir).read_predictions()
    assert 2 <= len(kept) < N_SAMPLES

    _rerun_completes(command, job_dir)
    assert JobDir(job_dir).read_predictions()[: len(kept)] == kept  # resumed, not redone


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_stop_the_run_as_ctrl_c_does(tmp_path, text_dataset, signum):
    command = _setup(tmp_path, text_dataset)
    host = _start(command)
    job_dir = _wait_for(lambda: _job_dir_answering(tmp_path / "out"), what="the first predictions")
    host.send_signal(signum)
    output, _ = host.communicate(timeout=30)
    assert host.returncode == 130, output
    assert "interrupted" in output and "Traceback" not in output
    assert _workers_of(job_dir) == []
    status = JobDir(job_dir).read_status()
    assert status.state == "interrupted", status
    assert 2 <= len(JobDir(job_dir).read_predictions()) < N_SAMPLES
    assert (tmp_path / "out" / "results.csv").exists()  # what was predicted is scored, as after Ctrl-C

    _rerun_completes(command, job_dir)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_worker_that_outlived_its_host_is_stopped_before_the_rerun_resumes(tmp_path, text_dataset):
    command = _setup(tmp_path, text_dataset)
    host = _start(command)
    job_dir = _wait_for(lambda: _job_dir_answering(tmp_path / "out"), what="the first predictions")
    worker = JobDir(job_dir).read_status().worker_pid
    # A worker that cannot act on its host's death (stuck in a model call, no parent-death signal
    # off Linux): stopped, the kernel's SIGTERM stays pending while the host is killed outright.
    os.kill(worker, signal.SIGSTOP)
    host.kill()
    host.wait(timeout=10)
    time.sleep(0.5)
    assert _workers_of(job_dir) == [worker]
    status = JobDir(job_dir).read_status()
    assert status.state == "running" and status.runner_pid == host.pid

    _rerun_completes(command, job_dir)
    assert not _alive(worker)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_job_whose_host_and_worker_were_both_killed_is_marked_interrupted_and_resumed(tmp_path, text_dataset):
    command = _setup(tmp_path, text_dataset)
    host = _start(command)
    job_dir = _wait_for(lambda: _job_dir_answering(tmp_path / "out"), what="the first predictions")
    worker = JobDir(job_dir).read_status().worker_pid
    os.kill(worker, signal.SIGSTOP)  # so that it writes nothing more: as if the machine lost power
    host.kill()
    host.wait(timeout=10)
    os.kill(worker, signal.SIGKILL)
    _wait_for(lambda: not _workers_of(job_dir), timeout_s=5, what="the worker to go")
    assert JobDir(job_dir).read_status().state == "running"

    # What a rerun finds before it touches the job, said in status.json (what `report` shows).
    from vlmbench.executors.local import release_job_dir

    release_job_dir(job_dir)
    status = JobDir(job_dir).read_status()
    assert status.state == "interrupted" and f"pid {host.pid}" in status.error
    _rerun_completes(command, job_dir)


def test_a_rerun_refuses_to_touch_a_job_its_live_host_is_still_running(tmp_path, text_dataset):
    command = _setup(tmp_path, text_dataset)
    host = _start(command)
    job_dir = _wait_for(lambda: _job_dir_answering(tmp_path / "out"), what="the first predictions")
    second = subprocess.run(command, check=False, capture_output=True, text=True, timeout=60)
    assert second.returncode == 2, second.stdout + second.stderr
    assert str(host.pid) in second.stderr and "Traceback" not in second.stderr
    output, _ = host.communicate(timeout=60)
    assert host.returncode == 0, output
    _answered_once_each(job_dir)
