"""The local executor: each worker is a subprocess of the host's Python.

No Docker needed, so it is the embedded default: the demo runs with it on
a fresh machine. The subprocess keeps a model's memory and crashes apart
from the host, and lets Ctrl-C stop a job without losing its predictions.
Nothing outlives the host: a worker takes SIGTERM when the host dies (Linux's
parent-death signal, armed by the worker itself), leads its own process
group so one signal reaches what it started, and records its pid, host and
its host's pid so that a rerun stops a worker left by a host killed outright
before it touches the job (:func:`release_job_dir`).
"""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import subprocess
import sys
import time
from datetime import datetime
from functools import partial
from pathlib import Path

from vlmbench.errors import ExecutorError
from vlmbench.executors.base import Executor, Observation
from vlmbench.plan import PlannedJob
from vlmbench.progress import LineCounter, ProgressSink
from vlmbench.rundir import JobDir
from vlmbench.rundir.records import now_iso
from vlmbench.shards import Shard

POLL_S = 0.2
TERMINATE_GRACE_S = 10.0


class LocalExecutor(Executor):
    name = "local"

    def command(self, job_dir: Path, shard: Shard | None = None) -> list[str]:
        # -P: the directory the user started in is not put on sys.path, so a PIL.py there is never imported.
        return [sys.executable, "-P", "-m", "vlmbench", "worker", str(JobDir(job_dir).spec_file),
                *(["--shard", str(shard)] if shard else [])]

    def run_job(self, job: PlannedJob, job_dir: Path, progress: ProgressSink,
                shard: Shard | None = None) -> Observation:
        progress.start(job.job_id, job.label, job.n_samples)
        request = self.gpu_request(job, shard)
        with self.slots.hold(request, self.stopping) as devices:
            if devices is None or self.stopping.is_set():
                return Observation(stopped=True)
            return self._run_worker(job, job_dir, progress, shard, devices)

    def _run_worker(self, job: PlannedJob, job_dir: Path, progress: ProgressSink, shard: Shard | None,
                    devices: tuple[str, ...]) -> Observation:
        from vlmbench.worker import PARENT_PID_VARIABLE  # the worker module imports PIL: not for `validate`

        files = JobDir(job_dir).shard(shard)
        counter = LineCounter(files.predictions_file)
        # The worker arms its parent-death signal from this (worker._die_with_parent) and records it
        # in status.json, so that a rerun can tell a dead owner from a live one (release_job_dir).
        env = {**os.environ, "PYTHONUNBUFFERED": "1", PARENT_PID_VARIABLE: str(os.getpid())}
        if devices:  # the GPUs it holds, and no other (a pool's, a shard's share)
            env["CUDA_VISIBLE_DEVICES"] = ",".join(devices)
        with files.open_log() as log:
            # A new session, so a new process group led by the worker: Ctrl-C in the terminal reaches the
            # host only, which then stops workers in order; and one killpg reaches the worker's own
            # children (a model's server, a tool it runs) when the worker has to be killed.
            process = subprocess.Popen(self.command(job_dir, shard), stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=env, start_new_session=True)
            started = time.monotonic()
            stopped = timed_out = False
            try:
                while process.poll() is None:
                    progress.advance_to(job.job_id, min(counter.count(), job.n_samples))
                    late = self.timeout_s is not None and time.monotonic() - started > self.timeout_s
                    if (self.stopping.is_set() or late) and not stopped:
                        stopped, timed_out = True, not self.stopping.is_set()
                        # SIGTERM to the worker alone: it records what it did and closes its model, which
                        # stops what the model started; only then is the whole group killed.
                        process.terminate()
                        try:
                            process.wait(TERMINATE_GRACE_S)
                        except subprocess.TimeoutExpired:
                            kill_group(process.pid)
                    # Waiting rather than sleeping: the job's end is seen the moment its worker exits.
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        process.wait(POLL_S)
            finally:
                # Whatever the worker left behind in its group (it ended, or this thread is unwinding)
                # must not outlive the job.
                kill_group(process.pid)
        progress.advance_to(job.job_id, min(counter.count(), job.n_samples))
        return Observation(exit_code=process.returncode, stopped=stopped and not timed_out,
                           timed_out_s=self.timeout_s if timed_out else None)


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    """Signal a worker's process group (its id is the worker's pid: it leads a session); gone is fine."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _process_start(pid: int) -> float | None:
    """When a live process started (Unix time, Linux); None when it is gone or a zombie."""
    try:
        fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (OSError, IndexError, ValueError, StopIteration):
        return None
    return None if fields[0] == "Z" else boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def _alive_since(pid: int, since: str | None) -> bool:
    """Whether pid is a live process that was already running at `since` (ISO time), not one given the pid
    later. Off Linux only whether the pid is alive, which errs towards refusing, never towards killing."""
    if pid == os.getpid():
        return False
    if not sys.platform.startswith("linux"):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    started = _process_start(pid)
    if started is None or since is None:
        return started is not None
    return started <= datetime.fromisoformat(since).timestamp() + 2.0  # ticks, clock steps


def _command_line(pid: int) -> list[str]:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        found = subprocess.run(["ps", "-o", "command=", "-p", str(pid)], check=False, capture_output=True,
                               text=True)
        return found.stdout.split()


def _is_worker_of(pid: int, job_dir: Path, since: str | None) -> bool:
    """Whether pid is still the worker of this job: alive since the job started, running its job.json."""
    return _alive_since(pid, since) and "worker" in (line := _command_line(pid)) and any(
        JobDir.is_spec_file(part) and Path(part).parent.name == job_dir.name for part in line)


def _leads_group(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except (ProcessLookupError, PermissionError):
        return False


def release_job_dir(job_dir: Path, grace_s: float = TERMINATE_GRACE_S) -> None:
    """Before a rerun touches a job: settle a "running" status whose local owner is gone.

    A status still "running" whose `vlmbench run` (the recorded runner_pid, on this host) has died
    means that run was killed outright. Its worker, if it outlived it (no parent-death signal off
    Linux, or stuck in a model call that does not see signals), would keep appending beside the
    rerun's, so it is stopped first: SIGTERM to its group, SIGKILL after the grace. The job is then
    marked interrupted and resumes from the predictions already written. If that `vlmbench run` is
    still alive, the job is someone's running work, not a leftover: the rerun refuses rather than
    kill it. Statuses written in a container or on Slurm record no runner: their executors find
    their own leftovers (labelled containers, Slurm job names). A sharded job's shards are each
    released so.
    """
    job = JobDir(job_dir)
    for files in [job, *job.shard_dirs()]:
        _release(files, job_dir, grace_s)


def _release(files: JobDir, job_dir: Path, grace_s: float) -> None:
    """release_job_dir for the job's own status, or one shard's (its worker runs the job's job file)."""
    status = files.read_status()
    if status.state != "running" or status.runner_pid is None or status.host != platform.node():
        return
    if _alive_since(status.runner_pid, status.started_at):
        raise ExecutorError(
            f"job {job_dir.name} is being run by another `vlmbench run` (pid {status.runner_pid}) on this host",
            hint=f"wait for it to end, or stop it (Ctrl-C in its terminal, or kill {status.runner_pid}), "
                 "then run again: the job resumes from its predictions")
    worker_pid = status.worker_pid
    stopped = worker_pid is not None and _is_worker_of(worker_pid, job_dir, status.started_at)
    if stopped:
        # Its whole group when it leads one (as the local executor starts it), else the worker alone.
        send = partial(kill_group, worker_pid) if _leads_group(worker_pid) else partial(_kill, worker_pid)
        send(signal.SIGTERM)
        send(signal.SIGCONT)  # a stopped worker (Ctrl-Z, a debugger) sees it now
        deadline = time.monotonic() + grace_s
        while _is_worker_of(worker_pid, job_dir, status.started_at) and time.monotonic() < deadline:
            time.sleep(POLL_S)
        if send.func is kill_group or _is_worker_of(worker_pid, job_dir, status.started_at):
            send(signal.SIGKILL)  # it, or what it left in its group
        while _is_worker_of(worker_pid, job_dir, status.started_at) and time.monotonic() < deadline + grace_s:
            time.sleep(POLL_S)
    status = files.read_status()  # the stopped worker may have written its own
    if status.state != "running":
        return
    worker = (f"its worker (pid {worker_pid}) was stopped by this run" if stopped
              else "its worker ended without a final status")
    status.state, status.finished_at, status.failure_class = "interrupted", now_iso(), "interrupted"
    status.error = f"its `vlmbench run` (pid {status.runner_pid}) died; {worker}"
    files.write_status(status)
