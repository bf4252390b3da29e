"""What every executor does: run planned jobs in parallel, each to one final status.

An executor only decides *where* a worker runs and reports what it saw
(an :class:`Observation`: the worker's exit code, a stop, a timeout, an
out-of-memory kill, what only the engine or scheduler knows, an exception
of its own). The final status is decided here, once, by
:func:`decide_final_status`, with one wording per reason, and written once
by :meth:`Executor.run_all`, which also gives a status to every job it was
handed: a crash of one job's thread fails that job (class infrastructure,
traceback in its worker.log) and the others go on; Ctrl-C (which `vlmbench
run` also raises on SIGTERM and SIGHUP: see cli.run) stops everything and
marks the jobs that never started interrupted.

Failures of what runs a job that may pass (an engine or controller that
does not answer, a refused container start, a failed sbatch) are retried
with a capped backoff (:meth:`Executor.retrying`); a model's errors never are.

A job of several shards (vlmbench.shards) runs one worker per shard side
by side; each shard ends with a final status of its own in its folder,
then the job's is combined from them (:func:`combine_shards`) and the
shards' predictions are merged into the job's file.
"""

from __future__ import annotations

import signal
import threading
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar, TypeVar

from vlmbench.errors import InfrastructureError, VlmbenchError
from vlmbench.gpus import GpuRequest, GpuSlots, gpu_request
from vlmbench.plan import PlannedJob
from vlmbench.progress import LineCounter, ProgressSink, SilentProgress
from vlmbench.rundir import JobDir
from vlmbench.rundir.records import FailureClass, JobStatus, now_iso
from vlmbench.shards import Shard

T = TypeVar("T")

FINAL_STATES = ("done", "failed", "interrupted")
LOG_TAIL_LINES = 5

# One wording per reason a host gives a job's end (the worker words its own: see worker.run_worker).
STOPPED = "stopped by the user"
STOPPED_BEFORE_START = "stopped by the user before it started"
TIMED_OUT = "timed out after {seconds:g} s (the job's time limit)"
OUT_OF_MEMORY = "out of memory (killed)"
KILLED_BY = "worker killed by {signal}"
EXITED_WITH = "worker exited with code {code}"
NO_FINAL_STATUS = "worker exited with code 0 without writing its final status"
END_UNKNOWN = "how the worker ended is unknown and it wrote no final status"
VLMBENCH_BUG = "vlmbench bug in the {executor} executor: {error} (traceback in worker.log)"
RETRYING = "{error}; try {attempt} of {tries} failed, retrying in {delay_s:g} s"

#: Infrastructure retries: tries in all, the first wait, the longest wait (doubling in between).
RETRY_TRIES = 3
RETRY_FIRST_S = 1.0
RETRY_CAP_S = 4.0

#: Signals that mean the worker's own code crashed (native code in a model), not that it was killed.
CRASH_SIGNALS = frozenset({signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGILL, signal.SIGFPE})


@dataclass(frozen=True)
class Observation:
    """What an executor saw of one job's end; :func:`decide_final_status` turns it into the job's status."""

    #: The worker's exit code (negative: killed by that signal); None when unknown or it never ran.
    exit_code: int | None = None
    #: The host stopped it (Ctrl-C, SIGTERM, SIGHUP), before or while it ran.
    stopped: bool = False
    #: The host's time limit, when the job reached it and was stopped for it.
    timed_out_s: float | None = None
    #: The engine or the kernel killed it for memory.
    oom: bool = False
    #: What only the engine or scheduler knows ("Slurm job 7 lost its node (Slurm NODE_FAIL)") and its class.
    external: str | None = None
    external_class: FailureClass = "infrastructure"
    #: Said before the host's own reason when the host words the failure ("Slurm job 7 FAILED, exit code 1").
    context: str | None = None
    #: Added after the wording when the worker's end is unknown (where to look).
    hint: str | None = None
    #: An exception of the executor itself (its thread, its engine), after any retries.
    error: BaseException | None = None
    #: The name of the executor that saw it, for a bug's wording.
    executor: str = ""
    #: The host stopped but left the worker running on purpose (a Slurm job a later run attaches to).
    left_running: bool = False


def _with_tail(reason: str, tail: str) -> str:
    return f"{reason}: {tail}" if tail else reason


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def decide_final_status(worker: JobStatus, seen: Observation, tail: str = "") -> JobStatus:
    """The job's final status from the worker's own status.json and what the executor saw.

    `worker` counts as the worker's word only when it is final (done, failed, interrupted): the host
    resets a job's status to pending before the job starts, so a final one was written by this run's
    worker. In order: an exception of the executor; the host's time limit; a stop by the host (the
    worker's own status if it wrote one); what only the engine or scheduler knows; an OOM kill; the
    worker's own final status when its exit code agrees; else the exit code. Pure: nothing is written.
    """
    status = worker.model_copy(deep=True)
    status.finished_at = now_iso()
    if seen.exit_code is not None:
        status.exit_code = seen.exit_code
    status.oom = status.oom or seen.oom or (seen.external is not None and seen.external_class == "oom")
    said = worker.state in FINAL_STATES and (seen.exit_code is None or worker.exit_code == seen.exit_code)

    def end(state: str, failure_class: FailureClass | None, error: str | None) -> JobStatus:
        status.state, status.failure_class, status.error = state, failure_class, error
        return status

    if seen.error is not None:
        if seen.stopped or isinstance(seen.error, KeyboardInterrupt):
            return end("interrupted", "interrupted", STOPPED)
        if isinstance(seen.error, VlmbenchError):
            return end("failed", "infrastructure", str(seen.error))
        error = f"{type(seen.error).__name__}: {seen.error}"
        return end("failed", "infrastructure", VLMBENCH_BUG.format(executor=seen.executor or "its", error=error))
    if seen.timed_out_s is not None:
        return end("failed", "timeout", _with_tail(TIMED_OUT.format(seconds=seen.timed_out_s), tail))
    if seen.stopped and not said:
        return end("interrupted", "interrupted", STOPPED if worker.state != "pending" else STOPPED_BEFORE_START)
    if seen.external is not None and not seen.stopped:
        return end("failed", seen.external_class, _with_tail(seen.external, tail))
    if seen.oom and not seen.stopped:
        return end("failed", "oom", _with_tail(OUT_OF_MEMORY, tail))
    if said:  # its own word: done, or why it failed or stopped (an older worker gives no class)
        if worker.state == "done":
            return end("done", None, None)
        default: FailureClass = "interrupted" if worker.state == "interrupted" else "model-error"
        return end(worker.state, worker.failure_class or default, worker.error)
    code = seen.exit_code
    if code is None:
        reason, failure_class = END_UNKNOWN, "infrastructure"
    elif code == 0:
        reason, failure_class = NO_FINAL_STATUS, "infrastructure"
    elif code < 0:
        reason = KILLED_BY.format(signal=_signal_name(-code))
        failure_class = "model-error" if -code in CRASH_SIGNALS else "infrastructure"
    else:
        reason, failure_class = EXITED_WITH.format(code=code), "infrastructure"
    if seen.context:
        reason = f"{seen.context}: {reason}"
    if seen.hint:
        reason = f"{reason} ({seen.hint})"
    return end("failed", failure_class, _with_tail(reason, tail))


def settle(job_dir: Path, seen: Observation) -> JobStatus:
    """Decide a job's final status from its status.json and worker.log and what was seen; write it once.

    A worker left running has no final status yet: its own stays as it writes it.
    """
    files = JobDir(job_dir)
    if seen.left_running:
        return files.read_status()
    status = decide_final_status(files.read_status(), seen, files.log_tail(LOG_TAIL_LINES))
    files.write_status(status)
    return status


def note(job_dir: Path, text: str) -> None:
    """A line of the host's own in the job's worker.log, beside what the worker writes there."""
    JobDir(job_dir).note(text)


def _reset_to_pending(job_dir: Path) -> None:
    """Before a job starts: a final state left by an earlier run must not pass for this run's worker's."""
    files = JobDir(job_dir)
    status = files.read_status()
    status.state, status.error, status.failure_class, status.exit_code = "pending", None, None, None
    status.oom, status.finished_at = False, None
    files.write_status(status)


def _sum_known(values: Iterable[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def combine_shards(ends: Sequence[JobStatus], shards: Sequence[Shard]) -> JobStatus:
    """A sharded job's status from its shards' final ones: done when all are; else the first failure
    (or, with none, the first interruption) in shard order, said with its shard."""
    counts = {key: sum(getattr(end, key) for end in ends) for key in ("n_samples", "n_done", "n_errors")}
    rates = [end.samples_per_s for end in ends if end.samples_per_s is not None]
    started = [end.started_at for end in ends if end.started_at]
    finished = [end.finished_at for end in ends if end.finished_at]
    first = next((end for end in ends if end.environment is not None), ends[0])
    status = JobStatus(
        **counts, state="done", exit_code=0, oom=any(end.oom for end in ends),
        started_at=min(started) if started else None, finished_at=max(finished) if finished else now_iso(),
        model_load_s=max((end.model_load_s for end in ends if end.model_load_s is not None), default=None),
        wall_s=max((end.wall_s for end in ends if end.wall_s is not None), default=None),
        samples_per_s=round(sum(rates), 3) if rates else None,  # side by side: their rates add up
        predict_s=max((end.predict_s for end in ends if end.predict_s is not None), default=None),
        predict_samples_per_s=_sum_known(end.predict_samples_per_s for end in ends),
        references_fingerprint=first.references_fingerprint, environment=first.environment,
        weights=next((end.weights for end in ends if end.weights is not None), None),
        output_tokens=_sum_known(end.output_tokens for end in ends),  # type: ignore[arg-type]
        tokens_per_s=_sum_known(end.tokens_per_s for end in ends),
        # Shards on separate GPUs each hold their own: what one job needs is the largest of them.
        peak_gpu_memory_mb=max((end.peak_gpu_memory_mb for end in ends if end.peak_gpu_memory_mb is not None),
                               default=None))
    for state in ("failed", "interrupted"):
        for shard, end in zip(shards, ends, strict=True):
            if end.state == state:
                status.state, status.exit_code, status.failure_class = state, end.exit_code, end.failure_class
                status.error = f"shard {shard}: {end.error}"
                return status
    return status


class ShardProgress:
    """One bar for a sharded job: the job's answers so far plus each shard's, counted from their files."""

    def __init__(self, sink: ProgressSink, job: PlannedJob, files: Sequence[Path], already: int) -> None:
        self.sink, self.job, self.already = sink, job, already
        self.counters = [LineCounter(path) for path in files]
        self.lock = threading.Lock()
        self.started = False

    def start(self, job_id: str, label: str, total: int) -> None:
        with self.lock:
            if not self.started:
                self.started = True
                self.sink.start(job_id, f"{label} · {len(self.counters)} shards", self.job.n_samples)

    def advance_to(self, job_id: str, done: int) -> None:
        with self.lock:
            total = self.already + sum(counter.count() for counter in self.counters)
        self.sink.advance_to(job_id, min(total, self.job.n_samples))

    def finish(self, job_id: str, state: str) -> None:
        pass  # the job finishes once, when its last shard has (run_all)


class Executor(ABC):
    name: ClassVar[str]
    #: Whether model classes must be importable on the host (not so in containers).
    needs_host_import: bool = True
    #: The container runtime a Slurm batch job runs its worker's image with (the slurm executor's option).
    runtime: str | None = None
    #: Whether a stopped host may leave its jobs running, for a later run to attach to (Slurm's can).
    can_leave_running: bool = False

    def describe_mounts(self, job: PlannedJob, job_dir: Path) -> list[str]:
        """What a job reads and writes, for `vlmbench run --dry-run`."""
        return [f"{job.dataset_root} (ro)", f"{job_dir} (rw)"]

    def image_digests(self, images: Sequence[str]) -> dict[str, str]:
        """image -> digest for the images jobs run in; none when jobs run in no image."""
        return {}

    def __init__(self, timeout_s: float | None = None) -> None:
        self.stopping = threading.Event()
        self.leaving = threading.Event()  # set with stopping: leave the running jobs running (can_leave_running)
        self.timeout_s = timeout_s  # per job; None waits for ever
        self.slots = GpuSlots()  # which GPUs the workers running now hold

    @staticmethod
    def gpu_request(job: PlannedJob, shard: Shard | None = None) -> GpuRequest:
        """The GPUs one worker asks for: the row's exact devices (a shard's share of them) or one from the pool."""
        request = gpu_request(job.run_row.gpus, job.gpus)
        if shard is not None and request.devices:
            request = replace(request, devices=shard.devices(request.devices))
        return request

    def check(self, jobs: Sequence[PlannedJob]) -> None:
        """Raise an ExecutorError if these jobs cannot start here (before any folder is made)."""

    def release_finished(self, job: PlannedJob, job_dir: Path) -> None:
        """A job found done is not run again: remove what a killed host left of it (a finished container)."""

    @abstractmethod
    def run_job(self, job: PlannedJob, job_dir: Path, progress: ProgressSink,
                shard: Shard | None = None) -> Observation:
        """Run one worker (of the job, or of one shard of it) to its end, or until :attr:`stopping` is set;
        say what was seen of its end. A shard's worker writes in ``JobDir(job_dir).shard(shard)``."""

    def before_job(self, job: PlannedJob, job_dir: Path) -> None:
        """Once per job before its workers start: remove what a killed host left of it (a container)."""

    def retrying(self, action: Callable[[], T], job_dir: Path, what: str) -> T:
        """action(), tried again on an InfrastructureError with a doubling wait (capped), each retry noted
        in the job's worker.log; the last try's error is raised. Nothing else is retried."""
        delay = RETRY_FIRST_S
        for attempt in range(1, RETRY_TRIES + 1):
            try:
                return action()
            except InfrastructureError as exc:
                if attempt == RETRY_TRIES or self.stopping.is_set():
                    raise
                note(job_dir, RETRYING.format(error=f"{what}: {exc}", attempt=attempt, tries=RETRY_TRIES,
                                              delay_s=delay))
                if self.stopping.wait(delay):
                    raise
                delay = min(delay * 2, RETRY_CAP_S)
        raise AssertionError("unreachable")

    def _run_one(self, job: PlannedJob, job_dir: Path, progress: ProgressSink) -> JobStatus:
        """One job to its final status, whatever happens in its thread."""
        files = JobDir(job_dir)
        try:
            files.merge_shards()  # what an earlier, killed run's shards answered
            self.retrying(lambda: self.before_job(job, job_dir), job_dir, "removing the job's leftovers")
        except Exception as exc:  # noqa: BLE001 - as for a worker's start, below
            return self._settle_crash(job_dir, exc)
        if job.shards == 1:
            return self._run_unit(job, job_dir, progress, None)
        shards = Shard.all_of(job.shards)
        counted = ShardProgress(progress, job, [files.shard(shard).predictions_file for shard in shards],
                                already=sum(p.answered for p in files.read_predictions()))
        with ThreadPoolExecutor(max_workers=len(shards), thread_name_prefix=f"{self.name}-shard") as pool:
            ends = list(pool.map(lambda shard: self._run_unit(job, job_dir, counted, shard), shards))
        if any(end.state not in FINAL_STATES for end in ends):  # left running: its shards still write
            return JobStatus(state="running", n_samples=job.n_samples,
                             n_done=sum(end.n_done for end in ends))
        try:
            files.merge_shards()
            status = combine_shards(ends, shards)
            files.write_status(status)
            return status
        except Exception as exc:  # noqa: BLE001 - the folder cannot be written: the run still counts the job
            return decide_final_status(JobStatus(), Observation(error=exc, executor=self.name))

    def _run_unit(self, job: PlannedJob, job_dir: Path, progress: ProgressSink, shard: Shard | None) -> JobStatus:
        """One worker (the job's, or a shard's) to its final status, written in its folder. A shard that
        an earlier run finished is not started again (its answers are merged already)."""
        folder = JobDir(job_dir).shard(shard).path
        if shard is not None:
            earlier = JobDir(folder).read_status()
            if earlier.state == "done" and earlier.n_samples == len(shard.take(range(job.n_samples))):
                progress.start(job.job_id, job.label, job.n_samples)
                return earlier
        try:
            _reset_to_pending(folder)
            seen = self.run_job(job, job_dir, progress, shard)
        except Exception as exc:  # noqa: BLE001 - one job's crash must not take down the others, nor go unsaid
            return self._settle_crash(folder, exc)
        try:
            return settle(folder, seen)
        except Exception as exc:  # noqa: BLE001 - the folder cannot be written: the run still counts the job
            return decide_final_status(JobStatus(), Observation(error=exc, executor=self.name))

    def _settle_crash(self, folder: Path, exc: Exception) -> JobStatus:
        if not isinstance(exc, VlmbenchError):
            note(folder, "".join(traceback.format_exception(exc)).rstrip())
        seen = Observation(error=exc, stopped=self.stopping.is_set(), executor=self.name)
        try:
            return settle(folder, seen)
        except Exception as error:  # noqa: BLE001 - the folder cannot be written: the run still counts the job
            return decide_final_status(JobStatus(), Observation(error=error, executor=self.name))

    def run_all(self, jobs: Sequence[tuple[PlannedJob, Path]], parallel: int = 1,
                progress: ProgressSink | None = None,
                leave_running: Callable[[], bool] | None = None) -> dict[str, JobStatus]:
        """Every job handed in gets a final status here, whatever happens, Ctrl-C aside (see below).

        On Ctrl-C, an executor whose jobs can go on without the host (Slurm's) asks ``leave_running``
        whether to leave them so, for `vlmbench status` to follow and a later run to attach to.
        """
        progress = progress or SilentProgress()
        statuses: dict[str, JobStatus] = {}

        def guarded(job: PlannedJob, job_dir: Path) -> None:
            if self.stopping.is_set():
                return  # marked below, once the pool is down
            statuses[job.job_id] = status = self._run_one(job, job_dir, progress)
            progress.finish(job.job_id, status.state)  # its trouble, if any, stays in the future: no job's

        pool = ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix=f"{self.name}-job")
        futures = [pool.submit(guarded, job, job_dir) for job, job_dir in jobs]
        try:
            while wait(futures, timeout=0.2).not_done:  # short waits so Ctrl-C is seen at once
                pass
        except KeyboardInterrupt:
            if self.can_leave_running and leave_running is not None:
                try:
                    if leave_running():
                        self.leaving.set()
                except KeyboardInterrupt:  # a second Ctrl-C while asked: stop them
                    pass
            self.stopping.set()
            pool.shutdown(wait=True, cancel_futures=True)
            self._settle_unstarted(jobs, statuses)
            raise
        pool.shutdown(wait=True)
        self._settle_unstarted(jobs, statuses)
        return statuses

    def _settle_unstarted(self, jobs: Sequence[tuple[PlannedJob, Path]], statuses: dict[str, JobStatus]) -> None:
        """Jobs that never ran (Ctrl-C came first) end interrupted; any other gap fails as a bug."""
        for job, job_dir in jobs:
            if job.job_id in statuses:
                continue
            seen = (Observation(stopped=True) if self.stopping.is_set()
                    else Observation(error=RuntimeError("the job's thread ended without a status"),
                                     executor=self.name))
            try:
                if self.stopping.is_set():
                    _reset_to_pending(job_dir)
                statuses[job.job_id] = settle(job_dir, seen)
            except OSError:
                statuses[job.job_id] = decide_final_status(JobStatus(), seen)
