"""A run seen from another shell: `vlmbench status RUN_DIR` and `vlmbench cancel RUN_DIR`.

Status reads only the run directory (run.json, each job's and shard's
status.json and worker.log) and its lock, so it works the same for every
executor, while the run goes on, after it ended, or with its Slurm jobs
left running. Cancel stops the run: a `vlmbench run` that holds the
directory gets SIGTERM, which it handles as Ctrl-C (its workers,
containers or Slurm jobs stopped, their statuses interrupted, what was
answered scored); with no run holding it, what was left running (Slurm
jobs left on purpose, a killed run's leftovers) is stopped as
`vlmbench cleanup` stops it.
"""

from __future__ import annotations

import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from vlmbench.errors import RunDirInUseError, VlmbenchError
from vlmbench.rundir import JobDir, RunDir
from vlmbench.runlock import LockOwner, RunLock, read_owner

#: How long cancel waits for the run it signalled to let go of the directory.
CANCEL_WAIT_S = 180.0
#: The host's notes in worker.log that name a job's batch job (executors.slurm).
SLURM_NOTE = re.compile(r"(?:submitted as|attached to) Slurm job (\S+?)(?:,|$)", re.MULTILINE)
LOG_TAIL_BYTES = 65536


@dataclass(frozen=True)
class WorkerState:
    """One line of the status table: a job, or one shard of it."""

    job_id: str
    shard: str  # "" for the job itself, "2-of-4" for a shard
    label: str  # model · dataset
    state: str
    done: int
    total: int
    where: str  # "Slurm job 12", "pid 345 on host", ""
    reason: str  # why it ended other than done


@dataclass(frozen=True)
class RunState:
    run_id: str
    executor: str
    holder: LockOwner | None  # the process running it now, if any
    workers: list[WorkerState]


def _slurm_job(files: JobDir) -> str | None:
    try:
        with files.log_file.open("rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - LOG_TAIL_BYTES))
            text = log.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    found = SLURM_NOTE.findall(text)
    return found[-1] if found else None


def _where(files: JobDir, state: str, pid: int | None, host: str | None) -> str:
    if state not in ("running", "pending"):
        return ""
    if slurm_job := _slurm_job(files):
        return f"Slurm job {slurm_job}"
    return f"pid {pid} on {host}" if pid and state == "running" else ""


def run_state(run_dir: Path | str) -> RunState:
    """Where every planned job (and its shards) of ``run_dir`` stands, and who runs it now."""
    run = RunDir(run_dir)
    record = run.read_record()
    holder = read_owner(run.root)
    if holder is not None and holder.is_alive() is False:
        holder = None  # a killed run's lock file: nobody runs it
    workers = []
    for job in record.jobs:
        files = run.job(job.job_id)
        label = f"{job.config_row.get('model_name', '?')} · {Path(job.dataset_root).name}"
        status = files.read_status()
        shards = files.shard_dirs()
        shard_states = [(shard, shard.read_status()) for shard in shards]
        running = [s for _, s in shard_states if s.state == "running"]
        state = "running" if running and status.state not in ("done",) else status.state
        done = sum(s.n_done for _, s in shard_states) if running else status.n_done
        workers.append(WorkerState(job.job_id, "", label, state, done, job.n_samples,
                                   "" if shards else _where(files, state, status.worker_pid, status.host),
                                   status.error or ""))
        if running or status.state != "done":
            for shard, shard_status in shard_states:
                workers.append(WorkerState(job.job_id, shard.path.name, label, shard_status.state,
                                           shard_status.n_done, shard_status.n_samples,
                                           _where(shard, shard_status.state, shard_status.worker_pid,
                                                  shard_status.host),
                                           shard_status.error or ""))
    return RunState(record.run_id, record.executor + (f" + {record.container_runtime}"
                                                      if record.container_runtime else ""), holder, workers)


def cancel_run(run_dir: Path | str, wait_s: float = CANCEL_WAIT_S) -> str:
    """Stop ``run_dir``'s run, from another shell; one line saying what was done.

    The run holding the directory is sent SIGTERM and waited for; with none,
    what was left running is cleaned up (vlmbench.cleanup). A run held from
    another host is refused: this host can signal none of its processes.
    """
    from vlmbench.cleanup import clean_run

    run = RunDir(run_dir)
    run.read_record()  # a clear error for a folder that is no run
    try:
        with RunLock(run.root, "vlmbench cancel"):
            pass
    except RunDirInUseError:
        holder = read_owner(run.root)
        if holder is None or not holder.on_this_host:
            where = f" on {holder.host}" if holder else ""
            raise VlmbenchError(f"{run.root} is run by {holder.describe() if holder else 'another process'}, "
                                f"which this host cannot stop", hint=f"run `vlmbench cancel` there{where}") from None
        os.kill(holder.pid, signal.SIGTERM)  # taken as Ctrl-C: it stops its jobs and scores what was answered
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                with RunLock(run.root, "vlmbench cancel"):
                    return f"stopped {holder.describe()}: its unfinished jobs are interrupted"
            except RunDirInUseError:
                time.sleep(0.5)
        raise VlmbenchError(f"{holder.describe()} was sent SIGTERM but still holds {run.root} after "
                            f"{wait_s:g} s", hint=f"wait for it, or kill {holder.pid}") from None
    actions = [a for a in clean_run(run.root) if a.kind in ("Slurm job", "container", "worker", "status")]
    if not actions:
        return f"nothing runs in {run.root}"
    return "; ".join(f"{a.kind} {a.target}: {a.outcome}" for a in actions)


__all__ = ["RunState", "WorkerState", "cancel_run", "run_state"]
