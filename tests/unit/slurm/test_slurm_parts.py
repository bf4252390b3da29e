"""The slurm executor's own logic, without a cluster: output parsing, sbatch options, final status."""

from __future__ import annotations

from pathlib import Path

import pytest

from vlmbench.executors.slurm import slurm_final_status
from vlmbench.rundir import JobDir
from vlmbench.rundir.records import JobStatus
from vlmbench.slurm.commands import SlurmJobState, parse_sacct, parse_scontrol_job
from vlmbench.slurm.script import BatchJob, time_limit

SCONTROL = ("JobId=7 JobName=vlmbench-abc UserId=root(0) JobState=TIMEOUT Reason=TimeLimit Dependency=(null) "
            "ExitCode=0:15 RunTime=00:01:02 Comment=vlmbench run run-1  StdErr=/x/worker.log")


def test_scontrol_job_line_gives_state_reason_and_exit_code():
    state = parse_scontrol_job(SCONTROL)
    assert state == SlurmJobState(state="TIMEOUT", reason="TimeLimit", exit_code=0, signal=15)
    assert state.finished and "TIMEOUT" in state.describe() and "signal 15" in state.describe()
    assert parse_scontrol_job("slurm_load_jobs error: Invalid job id specified") is None


def test_sacct_line_keeps_the_state_word_and_exit_code():
    assert parse_sacct("CANCELLED by 0|0:15\n") == SlurmJobState(state="CANCELLED", exit_code=0, signal=15)
    assert parse_sacct("COMPLETED|0:0\n").state == "COMPLETED"
    assert parse_sacct("") is None


def test_time_limit_is_whole_minutes_past_the_host_timeout():
    assert time_limit(None) is None
    assert time_limit(3) == "2"
    assert time_limit(3600) == "61"


def test_sbatch_options_carry_names_paths_and_resources(tmp_path, monkeypatch):
    batch = BatchJob(job_id="abc", run_id="run-1", job_dir=tmp_path, gpus=2, time_minutes="5",
                     partition="gpu", account="lab", extra_args=("--mem=8G",), python="/opt/py/bin/python")
    args = batch.sbatch_args()
    assert "--job-name=vlmbench-abc" in args and "--comment=vlmbench run run-1" in args
    assert f"--output={tmp_path / 'worker.log'}" in args and f"--chdir={tmp_path}" in args
    assert {"--gres=gpu:2", "--time=5", "--partition=gpu", "--account=lab", "--mem=8G"} <= set(args)
    assert args[-1] == str(tmp_path / "slurm.sh")
    script = batch.write_script().read_text()
    assert script.startswith("#!/bin/bash\n")
    assert f"exec /opt/py/bin/python -P -m vlmbench worker {tmp_path / 'job.json'}\n" in script
    assert not any(arg.startswith("--gres") for arg in BatchJob(job_id="a", run_id="r", job_dir=tmp_path)
                   .sbatch_args())


def _status_after(tmp_path: Path, worker: JobStatus | None, state: SlurmJobState | None, **kwargs) -> JobStatus:
    if worker is not None:
        JobDir(tmp_path).write_status(worker)
    (tmp_path / "worker.log").write_text("loading\nsomething broke\n")
    return slurm_final_status(tmp_path, "42", state, **kwargs)


@pytest.mark.parametrize(("slurm_state", "words"), [
    ("TIMEOUT", "reached its Slurm time limit"),
    ("OUT_OF_MEMORY", "ran out of memory"),
    ("CANCELLED", "was cancelled in Slurm outside vlmbench"),
    ("NODE_FAIL", "lost its node"),
])
def test_what_only_slurm_knows_fails_the_job_with_the_reason(tmp_path, slurm_state, words):
    worker = JobStatus(state="interrupted", exit_code=130, error="interrupted by SIGTERM")
    status = _status_after(tmp_path, worker, SlurmJobState(state=slurm_state, exit_code=0, signal=15))
    assert status.state == "failed" and f"Slurm job 42 {words}" in status.error
    assert "something broke" in status.error
    assert status.oom == (slurm_state == "OUT_OF_MEMORY")
    assert JobDir(tmp_path).read_status() == status


def test_a_worker_that_finished_keeps_its_own_status(tmp_path):
    worker = JobStatus(state="done", exit_code=0, n_samples=3, n_done=3)
    status = _status_after(tmp_path, worker, SlurmJobState(state="COMPLETED", exit_code=0, signal=0))
    assert status.state == "done" and status.n_done == 3


def test_a_worker_killed_by_a_signal_is_never_done(tmp_path):
    status = _status_after(tmp_path, JobStatus(state="running"), SlurmJobState(state="FAILED", exit_code=0, signal=9))
    assert status.state == "failed" and "SIGKILL" in status.error and "Slurm job 42 FAILED" in status.error


def test_a_job_stopped_by_the_host_is_interrupted_and_a_timeout_says_so(tmp_path):
    cancelled = SlurmJobState(state="CANCELLED", exit_code=0, signal=15)
    assert _status_after(tmp_path, JobStatus(state="running"), cancelled, stopped=True).state == "interrupted"
    status = _status_after(tmp_path, JobStatus(state="running"), cancelled, timed_out_s=5)
    assert status.state == "failed" and "timed out after 5 s" in status.error


def test_a_job_slurm_forgot_without_a_final_worker_status_fails_with_a_hint(tmp_path):
    status = _status_after(tmp_path, JobStatus(state="running"), None)
    assert status.state == "failed" and "shared path" in status.error
