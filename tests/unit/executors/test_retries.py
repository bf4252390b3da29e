"""Infrastructure failures are retried with a capped backoff; nothing else is; every job ends with a status."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from vlmbench.errors import InfrastructureError
from vlmbench.executors import base
from vlmbench.executors.base import Executor, Observation
from vlmbench.rundir import JobDir
from vlmbench.rundir.records import JobStatus
from vlmbench.runner import RunOptions, validate

CATALOG = ("framework,model_family,model_name,docker_image,python_package,module,class_name,params\n"
           "echo,Echo,echo-r,vlmbench/cpu:latest,,,echo,\n")


@pytest.fixture
def fast_retries(monkeypatch):
    monkeypatch.setattr(base, "RETRY_FIRST_S", 0.05)
    monkeypatch.setattr(base, "RETRY_CAP_S", 0.1)


class Scripted(Executor):
    """An executor whose run_job is a given function."""

    name = "scripted"

    def __init__(self, run_job) -> None:
        super().__init__()
        self._run_job = run_job

    def run_job(self, job, job_dir, progress, shard=None) -> Observation:
        return self._run_job(self, job, job_dir)


def test_an_infrastructure_error_is_retried_then_succeeds_with_each_retry_logged(tmp_path, fast_retries):
    calls = []

    def flaky() -> str:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise InfrastructureError("the engine did not answer")
        return "started"

    assert Scripted(None).retrying(flaky, tmp_path, "starting") == "started"
    assert len(calls) == 3
    log = (tmp_path / "worker.log").read_text()
    assert log.count("retrying in") == 2 and "try 1 of 3 failed" in log and "the engine did not answer" in log
    assert calls[2] - calls[1] >= calls[1] - calls[0] >= 0.05  # the wait grows


def test_the_last_try_s_error_is_raised_and_other_errors_are_never_retried(tmp_path, fast_retries):
    tries = []

    def down() -> None:
        tries.append(1)
        raise InfrastructureError("down")

    with pytest.raises(InfrastructureError):
        Scripted(None).retrying(down, tmp_path, "x")
    assert len(tries) == base.RETRY_TRIES

    def model_error() -> None:
        tries.append(1)
        raise ValueError("a model's bug")

    tries.clear()
    with pytest.raises(ValueError):
        Scripted(None).retrying(model_error, tmp_path, "x")
    assert len(tries) == 1


def test_the_backoff_is_capped():
    delays, delay = [], base.RETRY_FIRST_S
    for _ in range(6):
        delays.append(delay)
        delay = min(delay * 2, base.RETRY_CAP_S)
    assert max(delays) == base.RETRY_CAP_S and delays[:3] == [1.0, 2.0, 4.0]


def _planned(tmp_path: Path, text_dataset: Path, rows: int = 1):
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(CATALOG)
    config = tmp_path / "run.csv"
    config.write_text("model_name,dataset,prompt\n"
                      + "".join(f"echo-r,{text_dataset},Q{i}: {{question}}\n" for i in range(rows)))
    plan = validate(config, RunOptions(executor="local", out=tmp_path / "out", catalogs=[catalog]))
    jobs = []
    for job in plan.jobs:
        job_dir = plan.run_dir / "jobs" / job.job_id
        job_dir.mkdir(parents=True)
        jobs.append((job, job_dir))
    return plan, jobs


def test_a_docker_engine_that_does_not_answer_fails_the_job_as_infrastructure_after_the_retries(
        tmp_path, text_dataset, fast_retries, monkeypatch):
    pytest.importorskip("docker")
    from vlmbench.executors.docker import DockerExecutor

    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-engine.sock'}")  # nothing listens there
    _, jobs = _planned(tmp_path, text_dataset)
    started = time.monotonic()
    statuses = DockerExecutor().run_all(jobs)
    [(job, job_dir)] = jobs
    status = statuses[job.job_id]
    assert (status.state, status.failure_class) == ("failed", "infrastructure")
    assert status.error.startswith("no Docker Engine answers")
    assert JobDir(job_dir).read_status() == status
    assert (job_dir / "worker.log").read_text().count("retrying in") == base.RETRY_TRIES - 1
    assert time.monotonic() - started < 30


def test_every_job_ends_with_a_status_whatever_its_thread_raises(tmp_path, text_dataset):
    plan, jobs = _planned(tmp_path, text_dataset, rows=3)

    def run_job(executor, job, job_dir) -> Observation:
        if job.job_id == jobs[0][0].job_id:
            raise ZeroDivisionError("a bug in an executor")
        if job.job_id == jobs[1][0].job_id:
            raise InfrastructureError("sbatch: error: invalid partition")
        (job_dir / "status.json").write_text(JobStatus(state="done", exit_code=0).model_dump_json())
        return Observation(exit_code=0)

    statuses = Scripted(run_job).run_all(jobs, parallel=3)
    assert set(statuses) == {job.job_id for job in plan.jobs}
    bug, infra, fine = (statuses[job.job_id] for job, _ in jobs)
    assert (bug.state, bug.failure_class) == ("failed", "infrastructure")
    assert bug.error.startswith("vlmbench bug in the scripted executor: ZeroDivisionError: a bug in an executor")
    log = (jobs[0][1] / "worker.log").read_text()
    assert "Traceback (most recent call last)" in log and "ZeroDivisionError" in log
    assert (infra.state, infra.failure_class, infra.error) == ("failed", "infrastructure",
                                                               "sbatch: error: invalid partition")
    assert fine.state == "done"
    for job, job_dir in jobs:
        assert JobDir(job_dir).read_status() == statuses[job.job_id]


def test_an_earlier_run_s_final_status_is_not_taken_for_this_run_s(tmp_path, text_dataset):
    _, jobs = _planned(tmp_path, text_dataset)
    [(job, job_dir)] = jobs
    JobDir(job_dir).write_status(JobStatus(state="done", exit_code=0))  # left by an earlier run
    statuses = Scripted(lambda executor, job, job_dir: Observation(exit_code=None)).run_all(jobs)
    assert statuses[job.job_id].state == "failed"  # this run's worker said nothing


def test_jobs_that_never_started_after_ctrl_c_end_interrupted(tmp_path, text_dataset):
    _, jobs = _planned(tmp_path, text_dataset, rows=2)

    def run_job(executor, job, job_dir) -> Observation:
        raise AssertionError("a job is started after Ctrl-C")

    executor = Scripted(run_job)
    executor.stopping.set()
    statuses = executor.run_all(jobs, parallel=1)
    assert {s.state for s in statuses.values()} == {"interrupted"} and len(statuses) == 2
    assert all(s.error == base.STOPPED_BEFORE_START for s in statuses.values())
