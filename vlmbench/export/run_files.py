"""A finished run directory read back for export: each job's plan, answers, figures and dataset.

Exports read the same files `vlmbench evaluate` writes (run.json, job.json,
status.json, predictions.jsonl, metrics.json); nothing is rescored here, so
an export says exactly what the run's results.csv and report say.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vlmbench.datasets import Dataset, load_dataset
from vlmbench.errors import Location, VlmbenchError
from vlmbench.rundir import RunDir
from vlmbench.rundir.records import JobMetrics, JobSpec, JobStatus, Prediction


@dataclass(frozen=True)
class JobFiles:
    """One job of a run, as its files left it."""

    spec: JobSpec
    status: JobStatus
    predictions: list[Prediction]  # each sample's latest line, failed ones included
    metrics: JobMetrics
    dataset: Dataset  # the whole dataset, every sample in file order
    created_at: str | None  # when the run was planned (run.json)


def read_run(run_dir: Path) -> list[JobFiles]:
    """Every job of ``run_dir`` in run.json's order; a job never scored is an error naming the fix."""
    run = RunDir(run_dir)
    record = run.read_record()
    datasets: dict[str, Dataset] = {}
    jobs = []
    for job in record.jobs:
        files = run.job(job.job_id)
        spec = files.read_spec()
        root = job.dataset_root  # the host's path; a container's job file holds its own
        if root not in datasets:
            datasets[root] = load_dataset(Path(root), name=spec.dataset.name)
        metrics = files.read_metrics()
        if metrics is None:
            raise VlmbenchError("this job has no scores to export", location=Location(files.metrics_file),
                                hint=f"score the run first: vlmbench evaluate {run_dir}")
        jobs.append(JobFiles(spec=spec, status=files.read_status(), predictions=files.read_predictions(),
                             metrics=metrics, dataset=datasets[root], created_at=record.created_at))
    return jobs
