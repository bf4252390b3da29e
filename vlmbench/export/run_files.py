"""A finished run directory read back for export: each job's plan, answers, figures and dataset.

Exports read the same files `vlmbench evaluate` writes (run.json, job.json,
status.json, predictions.jsonl, metrics.json); nothing is rescored here, so
an export says exactly what the run's results.csv and report say.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from vlmbench.datasets import Dataset, load_dataset
from vlmbench.errors import Location, VlmbenchError
from vlmbench.evaluate import METRICS, JobMetrics, read_run_record
from vlmbench.jobfiles import JobSpec, JobStatus, Prediction, read_predictions
from vlmbench.worker import PREDICTIONS, STATUS


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
    run_dir = Path(run_dir)
    record = read_run_record(run_dir)
    datasets: dict[str, Dataset] = {}
    jobs = []
    for job in record.get("jobs", []):
        job_dir = run_dir / "jobs" / job["job_id"]
        spec = JobSpec.read(job_dir / "job.json")
        root = job["dataset_root"]  # the host's path; job.json may hold a container's
        if root not in datasets:
            datasets[root] = load_dataset(Path(root), name=spec.dataset.name)
        jobs.append(JobFiles(spec=spec, status=JobStatus.read(job_dir / STATUS),
                             predictions=read_predictions(job_dir / PREDICTIONS),
                             metrics=_read_metrics(job_dir / METRICS, run_dir),
                             dataset=datasets[root], created_at=record.get("created_at")))
    return jobs


def _read_metrics(path: Path, run_dir: Path) -> JobMetrics:
    try:
        return JobMetrics.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        raise VlmbenchError("this job has no scores to export", location=Location(path),
                            hint=f"score the run first: vlmbench evaluate {run_dir}") from None
