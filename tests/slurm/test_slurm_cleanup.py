"""`vlmbench cleanup` cancels the Slurm jobs a killed run left queued or running, and only those."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import write_run_record
from tests.unit.test_runlock import hold
from vlmbench.cleanup import clean_run
from vlmbench.rundir import JobDir
from vlmbench.rundir.records import JobStatus
from vlmbench.slurm.script import job_name

pytestmark = [pytest.mark.integration, pytest.mark.slurm]


def _sbatch(job_dir: Path, run_id: str) -> str:
    """A batch job named and commented as the slurm executor submits one, sleeping instead of working."""
    job_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["sbatch", "--parsable", f"--job-name={job_name(job_dir.name)}",
                             f"--comment=vlmbench run {run_id}", f"--chdir={job_dir.resolve()}",
                             f"--output={job_dir.resolve() / 'worker.log'}", "--nodes=1", "--ntasks=1",
                             "--wrap", "sleep 300"], capture_output=True, text=True, check=True)
    return result.stdout.strip().split(";")[0]


def _queued(slurm_ids: list[str]) -> set[str]:
    result = subprocess.run(["squeue", "-h", "-j", ",".join(slurm_ids), "-o", "%i"], capture_output=True,
                            text=True, check=False)
    return set(result.stdout.split())


def test_cleanup_cancels_the_slurm_jobs_of_a_killed_run(tmp_path, slurm_cluster):
    run_dir, other = tmp_path / "run", tmp_path / "other"
    run_id = f"slurm-cleanup-{tmp_path.name}"
    mine = _sbatch(run_dir / "jobs" / "job-1", run_id)
    theirs = _sbatch(other / "jobs" / "job-1", f"{run_id}-other")
    try:
        write_run_record(run_dir, run_id, "slurm")
        JobDir(run_dir / "jobs" / "job-1").write_status(JobStatus(state="running", n_samples=2))
        holder = hold(run_dir)
        holder.kill()
        holder.wait()
        assert _queued([mine, theirs]) == {mine, theirs}

        actions = clean_run(run_dir)
        assert [(a.kind, a.outcome) for a in actions if a.kind == "Slurm job"] == [("Slurm job", "cancelled")]
        assert _queued([mine, theirs]) == {theirs}  # another run's job is left alone
        assert JobDir(run_dir / "jobs" / "job-1").read_status().state == "interrupted"
    finally:
        subprocess.run(["scancel", mine, theirs], check=False)
