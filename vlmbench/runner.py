"""A whole run: config → plan → jobs → predictions → metrics → report.

Each step reads only the files of the step before, so `evaluate` and
`report` redo the last steps from a run directory without any model.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from vlmbench import __version__
from vlmbench.catalog import load_catalog
from vlmbench.config import read_run_config
from vlmbench.datasets.job_samples import planned_samples
from vlmbench.errors import ConfigError, JobSpecError, Location, Problem
from vlmbench.executors import get_executor
from vlmbench.executors.local import release_job_dir
from vlmbench.plan import Plan, PlannedJob, build_plan, check_run, images_of_rows
from vlmbench.progress import ProgressSink
from vlmbench.rundir import JobDir, RunDir
from vlmbench.rundir.records import HostInfo, JobStatus, RunJob, RunRecord, now_iso
from vlmbench.runlock import RunLock
from vlmbench.warmup import ScoringWarmup

if TYPE_CHECKING:  # scoring imports the report and its tables: `validate` has no use for them
    from vlmbench.evaluate import RunScores


@dataclass
class RunOptions:
    executor: str = "local"
    out: Path | None = None
    jobs: int = 1
    gpus: list[str] = field(default_factory=list)
    limit: int | None = None  # the first N samples per job
    sample: int | None = None  # a seeded sample of N per job, stratified by doc_class (limit caps it)
    seed: int | None = None  # the sample's seed; 0 when only sample is given
    resume: bool = True
    catalogs: Sequence[Path] = ()
    timeout_s: float | None = None  # per job
    max_error_rate: float = 0.5  # a job whose failed share of samples is above this ends failed
    data_root: Path | None = None  # bare names in the run CSV are found here; else $VLMBENCH_DATA_ROOT
    shards: int | Literal["auto"] | None = None  # for rows without a shards cell; "auto": one per GPU
    container_runtime: str | None = None  # slurm: the worker in the job's image (docker, podman, apptainer, pyxis)
    gpu_price: float | None = None  # per GPU-hour: the report's cost per 1,000 samples (else $VLMBENCH_GPU_PRICE)


@dataclass
class RunOutcome:
    plan: Plan
    statuses: dict[str, JobStatus]
    scores: RunScores

    @property
    def exit_code(self) -> int:
        """0 when every planned job is done; a planned job without a status counts as failed."""
        return 0 if all(self.state_of(job.job_id) == "done" for job in self.plan.jobs) else 1

    def state_of(self, job_id: str) -> str:
        status = self.statuses.get(job_id)
        return status.state if status is not None else "failed"


def validate(config_path: Path, options: RunOptions) -> Plan:
    """Everything `run` checks before it starts; makes bundled datasets, starts nothing."""
    config = read_run_config(config_path, options.data_root)
    catalog = load_catalog(options.catalogs)
    executor = get_executor(options.executor, options.timeout_s, options.container_runtime)
    check_run(config, catalog, needs_host_import=executor.needs_host_import, limit=options.limit,
              sample=options.sample, seed=options.seed)
    # The image digest is part of each job id: a rebuilt image makes new jobs, never a stale reuse.
    digests = executor.image_digests(images_of_rows(catalog, config.rows))
    plan = build_plan(config, catalog, executor=options.executor, out=options.out,
                      limit=options.limit, gpus=options.gpus, image_of=digests, sample=options.sample,
                      seed=options.seed, shards=options.shards)
    plan.container_runtime = executor.runtime
    for job in plan.jobs:  # how strict to be is the user's call, not part of what a job computes
        job.spec.max_error_rate = options.max_error_rate
    executor.check(plan.jobs)
    missing = [job for job in plan.jobs if job.run_row.only_evaluate_metrics
               and not RunDir(plan.run_dir).job(job.job_id).has_predictions()]
    if missing:
        raise ConfigError.from_problems([Problem(
            f"only_evaluate_metrics is set but job {job.job_id} has no predictions in {plan.run_dir}",
            Location(config_path, job.run_row.row, "only_evaluate_metrics"),
            "run the job once without only_evaluate_metrics") for job in missing])
    return plan


def _write_run_json(plan: Plan) -> RunRecord:
    record = RunRecord(
        run_id=plan.run_id,
        created_at=now_iso(),
        config=str(plan.config_path.resolve()),
        executor=plan.executor,
        container_runtime=plan.container_runtime,
        vlmbench=__version__,
        images=plan.image_digests,
        host=HostInfo(python=sys.version.split()[0], platform=platform.platform(), node=platform.node()),
        jobs=[
            RunJob(job_id=job.job_id, config_row=job.run_row.model_dump(mode="json"),
                   catalog_row=job.catalog_row.model_dump(mode="json"), image=job.spec.image,
                   image_digest=plan.image_digests.get(job.spec.image or ""), metrics=job.metrics,
                   aggregators=job.aggregators, n_samples=job.n_samples, selection=job.selection,
                   dataset_root=str(job.dataset_root), shards=job.shards, prompt=job.spec.prompt,
                   dataset=job.spec.dataset, generation=job.spec.generation)
            for job in plan.jobs
        ],
    )
    RunDir(plan.run_dir).write_record(record)
    return record


def _record_environments(plan: Plan, record: RunRecord) -> None:
    """Add to run.json what each job's worker found where it ran: its environment's versions (its image's,
    not ours) and the weights it loaded."""
    run_dir = RunDir(plan.run_dir)
    for entry in record.jobs:
        status = run_dir.job(entry.job_id).read_status()
        entry.environment, entry.weights = status.environment, status.weights
    run_dir.write_record(record)


def _prepare_job_dir(plan: Plan, job: PlannedJob, resume: bool) -> JobDir:
    job_dir = RunDir(plan.run_dir).job(job.job_id)
    fresh = not resume and not job.run_row.only_evaluate_metrics
    if fresh or not _holds_spec(job_dir, job):  # a rerun leaves a job's files as they are
        job_dir.create(job.spec, fresh=fresh)
    return job_dir


def _holds_spec(job_dir: JobDir, job: PlannedJob) -> bool:
    try:
        return job_dir.read_spec() == job.spec
    except JobSpecError:  # none yet, or not one this vlmbench reads: written anew
        return False


def _is_finished(job: PlannedJob, job_dir: JobDir) -> bool:
    status = job_dir.read_status()
    return status.state == "done" and status.n_samples == job.n_samples


def samples_to_run(plan: Plan, resume: bool) -> dict[str, int]:
    """Job id -> samples, of the jobs :func:`execute` will start (what the whole run's progress counts): a
    job finished before is skipped on resume, and a row that only evaluates starts nothing."""
    run_dir = RunDir(plan.run_dir)
    return {job.job_id: job.n_samples for job in plan.jobs
            if not job.run_row.only_evaluate_metrics
            and not (resume and _is_finished(job, run_dir.job(job.job_id)))}


def execute(plan: Plan, options: RunOptions, progress: ProgressSink | None = None,
            leave_running: Callable[[], bool] | None = None) -> RunOutcome:
    """Run the plan's jobs, holding the run directory's lock: one run at a time per directory.

    ``leave_running`` is asked on Ctrl-C whether Slurm jobs are left running (see Executor.run_all).
    """
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    with RunLock(plan.run_dir, "vlmbench run"):  # a second run here gets RunDirInUseError, naming this one
        return _execute_locked(plan, options, progress, leave_running)


def _execute_locked(plan: Plan, options: RunOptions, progress: ProgressSink | None = None,
                    leave_running: Callable[[], bool] | None = None) -> RunOutcome:
    from vlmbench.evaluate import score_run

    executor = get_executor(options.executor, options.timeout_s, options.container_runtime)
    for job in plan.jobs:  # a worker left by a killed run stops before its job is touched again
        release_job_dir(RunDir(plan.run_dir).job(job.job_id).path)
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    record = _write_run_json(plan)
    to_run, statuses = [], {}
    for job in plan.jobs:
        job_dir = _prepare_job_dir(plan, job, options.resume)
        if job.run_row.only_evaluate_metrics:
            statuses[job.job_id] = JobStatus(state="done")
        elif _is_finished(job, job_dir):
            statuses[job.job_id] = job_dir.read_status()
            executor.release_finished(job, job_dir.path)
        else:
            if not job_dir.has_status():
                job_dir.write_status(JobStatus(state="pending", n_samples=job.n_samples))
            # Its worker answers the samples parsed here rather than parse the annotation file again.
            if (handed := planned_samples(job.dataset_root, job.spec.dataset)) is not None:
                job_dir.write_samples(handed)
            to_run.append((job, job_dir.path))
    warmup = ScoringWarmup()
    try:
        if to_run:  # every job done: no pool, no progress display, no worker
            warmup.start()  # the scoring's imports, while the workers run
            statuses.update(executor.run_all(to_run, parallel=options.jobs, progress=progress,
                                             leave_running=leave_running))
    finally:
        # Even after Ctrl-C, what was predicted is scored and reported.
        _record_environments(plan, record)
        warmup.join()
        scores = score_run(plan.run_dir, gpu_price=options.gpu_price)
    return RunOutcome(plan=plan, statuses=statuses, scores=scores)


def run(config_path: Path, options: RunOptions, progress: ProgressSink | None = None) -> RunOutcome:
    plan = validate(config_path, options)
    return execute(plan, options, progress)


__all__ = ["RunOptions", "RunOutcome", "execute", "run", "validate"]
