"""What the report says about one job: its state, size, speed and failure."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from pydantic import BaseModel

from vlmbench.errors import ReportError  # noqa: F401 - re-exported: defined in vlmbench.errors
from vlmbench.rundir.records import JobState, JobStatus, Prediction

if TYPE_CHECKING:
    from vlmbench.rundir import PredictionRow


class JobSummary(BaseModel):
    """One line of the jobs table: how a job went, from status.json and its predictions."""

    job_id: str
    model_name: str
    framework: str
    dataset: str
    task: str | None = None
    state: JobState
    n_samples: int
    n_done: int
    n_errors: int
    wall_s: float | None = None
    samples_per_s: float | None = None  # the whole job's, model loading included
    model_load_s: float | None = None
    predict_samples_per_s: float | None = None  # the prediction phase's: the model's own speed
    mean_latency_s: float | None = None
    p50_latency_s: float | None = None
    p95_latency_s: float | None = None
    tokens_per_s: float | None = None  # where the model counts its tokens (status.json)
    peak_gpu_memory_mb: float | None = None  # where the worker used CUDA
    oom: bool = False
    error: str | None = None
    # How the job's samples were chosen, for a reader: "all 9,673", "first 100 of 9,673",
    # "200 of 9,673, seeded sample (seed 0) stratified by doc_class".
    selection: str | None = None


def _percentile(sorted_values: list[float], q: float) -> float:
    # Linear interpolation between closest ranks, as numpy's default, without numpy.
    position = (len(sorted_values) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def summarize_job(
    job_id: str,
    model_name: str,
    framework: str,
    dataset: str,
    task: str | None,
    status: JobStatus,
    predictions: Iterable[Prediction] | Mapping[str, Prediction | PredictionRow],
) -> JobSummary:
    """Combine status.json with predictions.jsonl.

    Counts come from the predictions when there are any (they are the
    truth after a crash that left status.json stale); latency statistics
    use only answered samples, since a failed call's latency measures the
    failure, not the model.
    """
    # By id (JobDir.read_prediction_rows' shape), a retried sample's later line winning.
    latest = predictions if isinstance(predictions, Mapping) else {p.id: p for p in predictions}
    if latest:
        n_done = len(latest)
        n_errors = sum(p.error is not None or p.answer is None for p in latest.values())
    else:
        n_done, n_errors = status.n_done, status.n_errors
    latencies = sorted(
        p.latency_s for p in latest.values() if p.answered and p.latency_s > 0
    )
    samples_per_s = status.samples_per_s
    if samples_per_s is None and status.wall_s and n_done:
        samples_per_s = n_done / status.wall_s
    return JobSummary(
        job_id=job_id,
        model_name=model_name,
        framework=framework,
        dataset=dataset,
        task=task,
        state=status.state,
        n_samples=max(status.n_samples, n_done),
        n_done=n_done,
        n_errors=n_errors,
        wall_s=status.wall_s,
        samples_per_s=samples_per_s,
        model_load_s=status.model_load_s,
        predict_samples_per_s=status.predict_samples_per_s,
        mean_latency_s=sum(latencies) / len(latencies) if latencies else None,
        p50_latency_s=_percentile(latencies, 0.50) if latencies else None,
        p95_latency_s=_percentile(latencies, 0.95) if latencies else None,
        tokens_per_s=status.tokens_per_s,
        peak_gpu_memory_mb=status.peak_gpu_memory_mb,
        oom=status.oom,
        error=status.error,
    )
