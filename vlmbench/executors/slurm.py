"""The slurm executor: a batch job per planned job (or shard), on a real Slurm cluster.

Each batch job runs the same worker as the local executor (see
:mod:`vlmbench.slurm.script`), writing into its job directory, which must
be on a path the nodes share with the host: progress is read from the
growing predictions.jsonl, the outcome from the worker's status.json, and
what only Slurm knows (a time limit, an OOM kill, a cancellation, a node
failure) from the job's final Slurm state. Ctrl-C cancels every submitted
job; a host killed outright leaves jobs that the next run of the same job
directory cancels before it submits again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vlmbench.config import env_number
from vlmbench.errors import ExecutorError, Problem
from vlmbench.executors.base import Executor, Observation, note, settle
from vlmbench.plan import PlannedJob
from vlmbench.progress import LineCounter, ProgressSink
from vlmbench.rundir import JobDir, RunDir, SlurmArrayDir
from vlmbench.rundir.records import FailureClass, JobStatus
from vlmbench.shards import Shard
from vlmbench.slurm.commands import (
    SlurmJobState,
    array_tasks_queued,
    cancel,
    check_controller,
    final_state,
    queued_in,
    submit,
    would_accept,
)
from vlmbench.slurm.containers import container_runtime as container_runtime_of
from vlmbench.slurm.containers import local_image_ids
from vlmbench.slurm.poller import QueuePoller
from vlmbench.slurm.script import BatchJob, array_name, write_array

POLL_S = 0.5
TIMEOUT_VARIABLE = "VLMBENCH_JOB_TIMEOUT_S"
MAX_QUEUED_VARIABLE = "VLMBENCH_SLURM_MAX_QUEUED"
DEFAULT_MAX_QUEUED = 100
#: After scancel, how long to wait for Slurm to report the job ended (its KillWait is 30 s by default).
CANCEL_WAIT_S = 90.0
#: Batch jobs ready within this long of each other (and asking for the same resources) form one job array.
GATHER_S = 0.5
#: However many keep arriving, a group is submitted this long after its first member came.
GATHER_MAX_S = 3.0

#: Final Slurm states the worker cannot report itself, and what they mean for a user.
SLURM_FAILURES = {
    "TIMEOUT": "reached its Slurm time limit (sbatch --time)",
    "OUT_OF_MEMORY": "ran out of memory (Slurm OUT_OF_MEMORY: ask for more with VLMBENCH_SLURM_ARGS=--mem=...)",
    "NODE_FAIL": "lost its node (Slurm NODE_FAIL)",
    "BOOT_FAIL": "its node failed to boot (Slurm BOOT_FAIL)",
    "PREEMPTED": "was preempted by Slurm",
    "DEADLINE": "missed its Slurm deadline",
    "CANCELLED": "was cancelled in Slurm outside vlmbench (scancel or an administrator)",
}
#: Their failure class (the rest: infrastructure).
SLURM_FAILURE_CLASSES: dict[str, FailureClass] = {"TIMEOUT": "timeout", "DEADLINE": "timeout",
                                                  "OUT_OF_MEMORY": "oom"}
LOST = "Slurm job {slurm_id} left the queue and neither the controller nor sacct knows how it ended"
LOST_HINT = "is the job directory on a shared path?"


@dataclass
class _Group:
    members: list[BatchJob]
    last_joined: float
    submitted: threading.Event = field(default_factory=threading.Event)
    ids: list[str] | None = None  # None: not submitted (the run was stopped first)
    error: Exception | None = None


class Submissions:
    """Batch jobs that become ready together go to Slurm together.

    The first batch job of a group (same run, same sbatch resources) waits until no other has joined for
    GATHER_S, then submits the group: a lone batch job as itself, two or more as one job array whose task
    i is the i-th member. Every member gets its own Slurm id back.
    """

    def __init__(self, executor: SlurmExecutor) -> None:
        self.executor = executor
        self.lock = threading.Lock()
        self.open: dict[tuple[str, ...], _Group] = {}

    def submit(self, batch: BatchJob) -> str | None:
        """The Slurm id of `batch` once submitted (alone or in an array); None if the run stopped first."""
        key = (batch.run_id, *batch.resource_args())
        with self.lock:
            group = self.open.get(key)
            leading = group is None
            if group is None:
                group = self.open[key] = _Group([], time.monotonic())
            index = len(group.members)
            group.members.append(batch)
            group.last_joined = time.monotonic()
        if leading:
            self._lead(key, group)
        else:
            group.submitted.wait()
        if group.error is not None:
            raise group.error
        return group.ids[index] if group.ids is not None else None

    def _lead(self, key: tuple[str, ...], group: _Group) -> None:
        started = time.monotonic()
        try:
            while True:
                with self.lock:
                    now = time.monotonic()
                    if now - group.last_joined >= GATHER_S or now - started >= GATHER_MAX_S:
                        del self.open[key]  # from now on, newcomers start a group of their own
                        break
                if self.executor.stopping.wait(0.05):
                    with self.lock:
                        del self.open[key]
                    return
            group.ids = self._submit(group.members)
        except Exception as exc:  # noqa: BLE001 - every member's thread raises it (and settles its own job)
            group.error = exc
        finally:
            group.submitted.set()

    def _submit(self, members: list[BatchJob]) -> list[str]:
        first = members[0].files.path
        run = RunDir.holding(members[0].job_dir)
        if len(members) == 1 or run is None:
            ids = []
            for member in members:
                member.write_script()
                ids.append(self.executor.retrying(lambda m=member: submit(m.sbatch_args()), first, "sbatch"))
            return ids
        args = write_array(members, run.new_slurm_array())
        array_id = self.executor.retrying(lambda: submit(args), first, "sbatch --array")
        return [f"{array_id}_{index}" for index in range(len(members))]


class SlurmExecutor(Executor):
    name = "slurm"
    can_leave_running = True

    def __init__(self, timeout_s: float | None = None, container_runtime: str | None = None) -> None:
        super().__init__(timeout_s if timeout_s is not None else env_number(TIMEOUT_VARIABLE, minimum=1))
        self.poller = QueuePoller(POLL_S)
        self.queue_slots = threading.BoundedSemaphore(DEFAULT_MAX_QUEUED)  # batch jobs in the queue at once
        #: How a batch job runs its worker in the job's image; None: the host's Python on the node.
        self.runtime = container_runtime_of(container_runtime)
        self.needs_host_import = self.runtime is None
        self.submissions = Submissions(self)
        self._leftover_tasks: dict[str, dict[str, str]] = {}  # run id -> folder -> task id, found once
        self._leftover_lock = threading.Lock()

    def image_digests(self, images: Sequence[str]) -> dict[str, str]:
        """What the submit host's engine knows of the images (a node pulls or loads its own copy)."""
        if self.runtime in ("docker", "podman"):
            return local_image_ids(self.runtime, images)
        return {}

    def check(self, jobs: Sequence[PlannedJob]) -> None:
        """No sbatch, no controller, or resources the cluster would refuse: said before anything starts."""
        check_controller()
        problems: list[Problem] = []
        if self.runtime is not None:
            problems += [Problem(f"job {job.job_id} (row {job.spec.config_row}) has no image to run in "
                                 f"with --container-runtime {self.runtime}",
                                 hint="give the row a docker_image, or the catalog row one")
                         for job in jobs if not job.spec.image]
        seen: dict[tuple[str, ...], str] = {}
        for job in jobs:
            args = tuple(BatchJob.of(job, Path.cwd(), self.timeout_s).resource_args())
            if args in seen:
                continue
            seen[args] = refusal = would_accept([*args, "--wrap", "true"]) or ""
            if refusal:
                problems.append(Problem(f"Slurm would not run job {job.job_id} (row {job.spec.config_row}, "
                                        f"sbatch {' '.join(args)}): {refusal}",
                                        hint="check VLMBENCH_SLURM_PARTITION, VLMBENCH_SLURM_ACCOUNT, "
                                             "VLMBENCH_SLURM_ARGS and the row's gpus against `sinfo`"))
        if problems:
            raise ExecutorError.from_problems(problems)

    def describe_mounts(self, job: PlannedJob, job_dir: Path) -> list[str]:
        batch = BatchJob.of(job, job_dir, self.timeout_s, runtime=self.runtime)
        if batch.container is not None:
            return [f"{self.runtime}: {m.source} → {m.target} ({'ro' if m.read_only else 'rw'})"
                    for m in batch.container.job.mounts] + [f"sbatch {' '.join(batch.resource_args())}"]
        return [f"{job.dataset_root} (shared, ro)", f"{batch.job_dir} (shared, rw)",
                f"sbatch {' '.join(batch.resource_args())}"]

    def run_all(self, jobs: Sequence[tuple[PlannedJob, Path]], parallel: int = 1,
                progress: ProgressSink | None = None,
                leave_running: Callable[[], bool] | None = None) -> dict[str, JobStatus]:
        # The cluster schedules: every job goes into the queue at once (up to a cap), whatever --jobs says.
        # The cap counts batch jobs, a sharded job's shards each: a slot is held from sbatch to the end.
        cap = env_number(MAX_QUEUED_VARIABLE, int, minimum=1) or DEFAULT_MAX_QUEUED
        self.queue_slots = threading.BoundedSemaphore(cap)
        return super().run_all(jobs, parallel=max(parallel, min(len(jobs), cap)), progress=progress,
                               leave_running=leave_running)

    def run_job(self, job: PlannedJob, job_dir: Path, progress: ProgressSink,
                shard: Shard | None = None) -> Observation:
        batch = BatchJob.of(job, job_dir, self.timeout_s, shard, self.runtime)
        progress.start(job.job_id, job.label, job.n_samples)
        while not self.queue_slots.acquire(timeout=POLL_S):
            if self.stopping.is_set():
                return Observation(stopped=True)
        try:
            return self._run_batch_job(job, batch, progress)
        finally:
            self.queue_slots.release()

    def _run_batch_job(self, job: PlannedJob, batch: BatchJob, progress: ProgressSink) -> Observation:
        if self.stopping.is_set():
            return Observation(stopped=True)
        folder = batch.files.path
        slurm_id = self._attach(batch)
        if slurm_id is not None:
            note(folder, f"attached to Slurm job {slurm_id}, left running by an earlier `vlmbench run`")
        else:
            slurm_id = self.submissions.submit(batch)
            if slurm_id is None:
                return Observation(stopped=True)
            note(folder, f"submitted as Slurm job {slurm_id}")
        self.poller.watch(slurm_id)
        try:
            return self._supervise(job, batch.files, slurm_id, progress)
        finally:
            self.poller.forget(slurm_id)

    def _attach(self, batch: BatchJob) -> str | None:
        """The batch job an earlier host left queued or running for this job (left on purpose, or killed
        outright): followed rather than submitted again, since it writes to the same files. Should
        there be more than one, the newest is kept and the others cancelled."""
        found = queued_in(batch.name, str(batch.job_dir))
        if task := self._leftover_array_tasks(batch.run_id).get(str(batch.files.path)):
            found.append(task)
        found.sort(key=_slurm_order)
        if len(found) > 1:
            cancel(found[:-1])
        return found[-1] if found else None

    def _leftover_array_tasks(self, run_id: str) -> dict[str, str]:
        """folder -> task id of the tasks of this run's job arrays still in the queue (asked once a run)."""
        with self._leftover_lock:
            if run_id not in self._leftover_tasks:
                found: dict[str, str] = {}
                for task_id, work_dir in array_tasks_queued(array_name(run_id)):
                    tasks = SlurmArrayDir(work_dir).read_tasks()
                    index = int(task_id.rsplit("_", 1)[1])
                    if tasks is not None and tasks.run_id == run_id and index < len(tasks.folders):
                        found[tasks.folders[index]] = task_id
                self._leftover_tasks[run_id] = found
            return self._leftover_tasks[run_id]

    def _supervise(self, job: PlannedJob, files: JobDir, slurm_id: str, progress: ProgressSink) -> Observation:
        counter = LineCounter(files.predictions_file)
        stopped = timed_out = False
        running_since: float | None = None
        cancelled_at: float | None = None
        while True:
            state = self.poller.state(slurm_id)
            if state is None or state.finished:
                break
            if state.state == "RUNNING" and running_since is None:
                running_since = time.monotonic()
            progress.advance_to(job.job_id, min(counter.count(), job.n_samples))
            if cancelled_at is None:
                if self.stopping.is_set() and self.leaving.is_set():
                    return Observation(left_running=True)
                if self.stopping.is_set():
                    stopped = True
                elif (self.timeout_s is not None and running_since is not None
                      and time.monotonic() - running_since > self.timeout_s):
                    timed_out = True
                if stopped or timed_out:
                    cancel([slurm_id])  # SIGTERM to the worker, which records what it did; SIGKILL after KillWait
                    cancelled_at = time.monotonic()
            elif time.monotonic() - cancelled_at > CANCEL_WAIT_S:
                break  # Slurm is slow to confirm; the status below says what is known
            time.sleep(POLL_S)
        progress.advance_to(job.job_id, min(counter.count(), job.n_samples))
        return slurm_observation(slurm_id, final_state(slurm_id), stopped=stopped,
                                 timed_out_s=self.timeout_s if timed_out else None)


def _slurm_order(slurm_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in slurm_id.replace("_", ".").split(".") if part.isdigit())


def slurm_observation(slurm_id: str, state: SlurmJobState | None, *, stopped: bool = False,
                      timed_out_s: float | None = None) -> Observation:
    """What the host saw of a batch job's end, with what only Slurm knows (executors.base decides)."""
    if state is None:
        return Observation(stopped=stopped, timed_out_s=timed_out_s, context=LOST.format(slurm_id=slurm_id),
                           hint=LOST_HINT)
    # "0:9" is a job killed by signal 9: never a success, whatever the first number says.
    exit_code = -state.signal if state.signal else state.exit_code
    if exit_code is None and not (stopped or timed_out_s is not None):
        exit_code = 0 if state.state == "COMPLETED" else 1
    external = None
    if state.state in SLURM_FAILURES and not (stopped or timed_out_s is not None):
        external = f"Slurm job {slurm_id} {SLURM_FAILURES[state.state]}"
        exit_code = None  # the worker's own code (130 after a SIGTERM) says nothing more
    return Observation(exit_code=exit_code, stopped=stopped, timed_out_s=timed_out_s, external=external,
                       external_class=SLURM_FAILURE_CLASSES.get(state.state, "infrastructure"),
                       oom=state.state == "OUT_OF_MEMORY" and external is not None,
                       context=None if state.state == "COMPLETED" else f"Slurm job {slurm_id} {state.describe()}")


def slurm_final_status(job_dir: Path, slurm_id: str, state: SlurmJobState | None, *, stopped: bool = False,
                       timed_out_s: float | None = None) -> JobStatus:
    """The job's final status, written: the worker's where it could tell, Slurm's where only Slurm knows."""
    return settle(job_dir, slurm_observation(slurm_id, state, stopped=stopped, timed_out_s=timed_out_s))
