"""One planned job as a Slurm batch job: its sbatch options and its batch script.

The batch script runs the same worker as the local executor, with the
host's Python (or ``VLMBENCH_SLURM_PYTHON``), so the job directory, the
dataset and that Python must be on paths the compute nodes share with the
host. The worker is ``exec``-ed so that scancel's SIGTERM reaches it
directly and it records what it did before it stops.
"""

from __future__ import annotations

import math
import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vlmbench.config import env_words
from vlmbench.docker.jobs import ContainerJob, hf_cache_dir
from vlmbench.gpus import gpu_request
from vlmbench.plan import PlannedJob
from vlmbench.rundir import JobDir, SlurmArrayDir
from vlmbench.rundir.records import SlurmArrayTasks
from vlmbench.shards import Shard
from vlmbench.slurm.containers import ContainerLaunch

PARTITION_VARIABLE = "VLMBENCH_SLURM_PARTITION"
ACCOUNT_VARIABLE = "VLMBENCH_SLURM_ACCOUNT"
EXTRA_ARGS_VARIABLE = "VLMBENCH_SLURM_ARGS"  # e.g. "--mem=32G --qos=short", added as they are
PYTHON_VARIABLE = "VLMBENCH_SLURM_PYTHON"  # the Python on the nodes, when not the host's path
#: Slurm's own limit is a backstop after the host's (it counts whole minutes and may fire late).
TIME_LIMIT_MARGIN_S = 60.0


def job_name(job_id: str, shard: Shard | None = None) -> str:
    return f"vlmbench-{job_id}" + (f"-{shard.name}" if shard else "")


def array_name(run_id: str) -> str:
    """Every job array of a run has this name: a later run finds the arrays' tasks by it."""
    return f"vlmbench-run-{run_id}"


def gpu_count(job: PlannedJob, shard: Shard | None = None) -> int:
    """Devices named in the row's gpus cell (a shard's share of them), else one from the --gpus pool;
    Slurm picks which."""
    request = gpu_request(job.run_row.gpus, job.gpus)
    if request.devices:
        return len(shard.devices(request.devices)) if shard else len(request.devices)
    return 1 if request.pool else 0


def time_limit(timeout_s: float | None) -> str | None:
    """sbatch --time in whole minutes, a margin past the host's own timeout."""
    if timeout_s is None:
        return None
    return str(max(1, math.ceil((timeout_s + TIME_LIMIT_MARGIN_S) / 60)))


@dataclass(frozen=True)
class BatchJob:
    """Everything sbatch is told about one job."""

    job_id: str
    run_id: str
    job_dir: Path  # absolute, on a shared path
    gpus: int = 0
    time_minutes: str | None = None
    partition: str | None = None
    account: str | None = None
    extra_args: tuple[str, ...] = field(default_factory=tuple)
    python: str = sys.executable
    shard: Shard | None = None
    container: ContainerLaunch | None = None  # the worker in the job's image, through a container runtime

    @classmethod
    def of(cls, job: PlannedJob, job_dir: Path, timeout_s: float | None, shard: Shard | None = None,
           runtime: str | None = None) -> BatchJob:
        container = None
        if runtime is not None:
            target = ContainerJob(job.spec, job_dir, job.dataset_root, hf_cache_dir(create=False))
            container = ContainerLaunch(runtime, target, job_file=target.job_file,
                                        user=f"{os.getuid()}:{os.getgid()}", shard=shard)
        return cls(job_id=job.job_id, run_id=job.spec.run_id, job_dir=job_dir.resolve(), shard=shard,
                   container=container, gpus=gpu_count(job, shard),
                   time_minutes=time_limit(timeout_s),
                   partition=os.environ.get(PARTITION_VARIABLE) or None,
                   account=os.environ.get(ACCOUNT_VARIABLE) or None,
                   extra_args=tuple(env_words(EXTRA_ARGS_VARIABLE)),
                   python=os.environ.get(PYTHON_VARIABLE) or sys.executable)

    def resource_args(self) -> list[str]:
        """What the scheduler decides on: where and how long (also what `sbatch --test-only` checks)."""
        args = ["--nodes=1", "--ntasks=1"]
        if self.gpus:
            args.append(f"--gres=gpu:{self.gpus}")
        if self.time_minutes:
            args.append(f"--time={self.time_minutes}")
        if self.partition:
            args.append(f"--partition={self.partition}")
        if self.account:
            args.append(f"--account={self.account}")
        return args + list(self.extra_args)

    def sbatch_args(self) -> list[str]:
        # The name finds a job's leftovers; the comment finds a whole run's (`squeue -o %k`). --requeue: a
        # preempted job or one whose node failed goes back in the queue, and its worker resumes from the
        # predictions already written.
        return [f"--job-name={self.name}", f"--comment=vlmbench run {self.run_id}",
                f"--chdir={self.job_dir}", f"--output={self.files.log_file}", "--open-mode=append",
                "--export=ALL", "--requeue", *self.resource_args(), str(self.files.batch_script)]

    @property
    def name(self) -> str:
        return job_name(self.job_id, self.shard)

    def script(self) -> str:
        if self.container is not None:
            how = f"in {self.container.image} through {self.container.runtime}"
            run = self.container.script_lines()
        else:
            how = f"with the Python at {self.python}"
            # -P: the submit directory is not put on sys.path (a PIL.py there is never imported).
            worker = [self.python, "-P", "-m", "vlmbench", "worker", str(JobDir(self.job_dir).spec_file),
                      *(["--shard", str(self.shard)] if self.shard else [])]
            run = [f"exec {shlex.join(worker)}"]
        which = f"job {self.job_id}" + (f" shard {self.shard}" if self.shard else "")
        lines = ["#!/bin/bash",
                 f"# vlmbench {which} of run {self.run_id}, written by the slurm executor: the worker runs {how}",
                 'echo "vlmbench: Slurm job ${SLURM_JOB_ID} on $(hostname) started $(date -Is)"',
                 "export PYTHONUNBUFFERED=1", *run]
        return "\n".join(lines) + "\n"

    @property
    def files(self) -> JobDir:
        """Where this batch job's worker writes: the job's folder, or its shard's."""
        return JobDir(self.job_dir).shard(self.shard)

    def write_script(self) -> Path:
        if self.container is not None:
            self.container.job.write_job_file()
        return self.files.write_batch_script(self.script())


def array_script(tasks: Sequence[BatchJob]) -> str:
    """The script of a job array: task i runs the i-th batch job's own script, as a lone batch job would."""
    arms = [f"  {index}) cd {shlex.quote(str(task.job_dir))} && exec {shlex.quote(str(task.files.batch_script))} ;;"
            for index, task in enumerate(tasks)]
    lines = ["#!/bin/bash",
             f"# vlmbench: a Slurm job array of {len(tasks)} batch jobs of run {tasks[0].run_id} (slurm executor);",
             "# task i runs the batch script of the i-th folder (tasks.json beside this file lists them).",
             'case "$SLURM_ARRAY_TASK_ID" in', *arms,
             '  *) echo "vlmbench: this array has no task ${SLURM_ARRAY_TASK_ID}" >&2; exit 2 ;;',
             "esac"]
    return "\n".join(lines) + "\n"


def write_array(tasks: Sequence[BatchJob], folder: SlurmArrayDir) -> list[str]:
    """Write the array's files (each task's own script too); the sbatch arguments that submit it.

    The tasks share their resources (what sbatch decides on), so the first one's stand for all.
    """
    for task in tasks:
        task.write_script()
    folder.write(SlurmArrayTasks(run_id=tasks[0].run_id, folders=[str(task.files.path) for task in tasks]),
                 array_script(tasks))
    return [f"--job-name={array_name(tasks[0].run_id)}", f"--comment=vlmbench run {tasks[0].run_id}",
            f"--chdir={folder.path}", f"--output={folder.output_pattern()}", "--open-mode=append",
            "--export=ALL", "--requeue", f"--array=0-{len(tasks) - 1}", *tasks[0].resource_args(),
            str(folder.script)]
