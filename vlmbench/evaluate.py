"""Score a run directory from its files: run.json + each job's predictions.

No model runs here, so `vlmbench evaluate RUN_DIR` and `vlmbench report
RUN_DIR` can be redone at will, e.g. after a metric is fixed or a label
corrected. Work is redone only when its inputs changed: a job is rescored
when its predictions, references, metrics or vlmbench itself changed, and
the report is redrawn when the results or the jobs' states changed, so a
rerun of a finished run costs little more than reading its files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from vlmbench import __version__
from vlmbench.datasets import Dataset, load_dataset
from vlmbench.datasets.selection import describe_selection, references_fingerprint, selected_samples
from vlmbench.errors import VlmbenchError
from vlmbench.fileio import write_atomic
from vlmbench.jobfiles import JobSpec, JobStatus, Prediction, read_predictions
from vlmbench.metrics import ResultRow, score_job
from vlmbench.report import JobSummary, read_results_csv, summarize_job, write_report, write_results_csv
from vlmbench.worker import PREDICTIONS, STATUS

METRICS = "metrics.json"
SCORES = "scores.jsonl"
REPORT_KEY = ".report-inputs"  # what the report was last drawn from; lets a no-op rerun skip it


@dataclass
class RunScores:
    results: list[ResultRow]
    jobs: list[JobSummary]
    # Jobs whose references changed after their predictions were made: rescored, not rerun.
    relabelled: list[JobSummary] = field(default_factory=list)


class JobMetrics(BaseModel):
    """metrics.json: a job's result rows and the inputs they were computed from."""

    inputs: str  # hash of what the scores depend on; equal inputs → the rows still hold
    references_fingerprint: str
    rows: list[ResultRow]


def read_run_record(run_dir: Path) -> dict:
    path = Path(run_dir) / "run.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VlmbenchError(f"{run_dir} is not a run directory (no run.json)",
                            hint="pass the --out folder of a `vlmbench run`") from None
    except json.JSONDecodeError as exc:
        raise VlmbenchError(f"{path}: not valid JSON ({exc.msg})") from None


JobFiles = tuple[dict, JobSpec, JobStatus, list[Prediction], Dataset]


def _job_files(run_dir: Path, record: dict) -> Iterator[JobFiles]:
    """Each job's record in run.json, its files, and its dataset (each dataset loaded once)."""
    datasets: dict[str, Dataset] = {}
    for job in record["jobs"]:
        job_dir = run_dir / "jobs" / job["job_id"]
        spec = JobSpec.read(job_dir / "job.json")
        root = job["dataset_root"]  # the host's path; job.json may hold a container's
        if root not in datasets:
            datasets[root] = load_dataset(Path(root), name=spec.dataset.name)
        status, predictions = JobStatus.read(job_dir / STATUS), read_predictions(job_dir / PREDICTIONS)
        yield job, spec, status, predictions, datasets[root]


def _job_meta(spec: JobSpec) -> dict:
    return {"job_id": spec.job_id, "model_name": spec.model.model_name, "framework": spec.model.framework,
            "dataset": spec.dataset.name, "task": spec.task}


def _digest(*parts: object) -> str:
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _read_metrics(path: Path) -> JobMetrics | None:
    try:
        return JobMetrics.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None  # absent, or from an older vlmbench: score again


def _score_job(job_dir: Path, job: dict, spec: JobSpec, dataset: Dataset,
               predictions: list[Prediction]) -> JobMetrics:
    """The job's metrics, from metrics.json when its inputs are unchanged, else scored afresh.

    ``predictions`` are the job's predictions.jsonl as read; the file's size and
    time stand for them in the inputs key.
    """
    samples = selected_samples(dataset.samples, spec.dataset)
    references = references_fingerprint(samples)
    predictions_path = job_dir / PREDICTIONS
    stat = predictions_path.stat() if predictions_path.exists() else None
    inputs = _digest(__version__, references, [s.id for s in samples], job["metrics"], job["aggregators"],
                     _meta_key(spec), (stat.st_size, stat.st_mtime_ns) if stat else None)
    previous = _read_metrics(job_dir / METRICS)
    if previous is not None and previous.inputs == inputs and (job_dir / SCORES).exists():
        return previous
    wanted = {s.id for s in samples}
    predictions = [p for p in predictions if p.id in wanted]
    scores = score_job(samples, predictions, job["metrics"], job["aggregators"], **_job_meta(spec))
    write_atomic(job_dir / SCORES, scores.jsonl())
    result = JobMetrics(inputs=inputs, references_fingerprint=references, rows=scores.rows)
    write_atomic(job_dir / METRICS, result.model_dump_json(indent=1))
    return result


def _meta_key(spec: JobSpec) -> list:
    return list(_job_meta(spec).values())


def _summary(spec: JobSpec, status: JobStatus, predictions: list[Prediction], dataset: Dataset) -> JobSummary:
    summary = summarize_job(status=status, predictions=predictions, **_job_meta(spec))
    summary.selection = describe_selection(dataset.samples, spec.dataset)
    return summary


def score_run(run_dir: Path) -> RunScores:
    """Every job's metrics, results.csv and the report, each redone only if its inputs changed."""
    run_dir = Path(run_dir)
    record = read_run_record(run_dir)
    results: list[ResultRow] = []
    summaries: list[JobSummary] = []
    relabelled: list[JobSummary] = []
    for job, spec, status, predictions, dataset in _job_files(run_dir, record):
        job_dir = run_dir / "jobs" / spec.job_id
        metrics = _score_job(job_dir, job, spec, dataset, predictions)
        results += metrics.rows
        summary = _summary(spec, status, predictions, dataset)
        summaries.append(summary)
        if predictions and status.references_fingerprint not in (None, metrics.references_fingerprint):
            relabelled.append(summary)
    _write_outputs(run_dir, record, results, summaries)
    return RunScores(results=results, jobs=summaries, relabelled=relabelled)


def _write_outputs(run_dir: Path, record: dict, results: list[ResultRow],
                   summaries: list[JobSummary]) -> None:
    key = _digest(__version__, [r.model_dump() for r in results], [s.model_dump() for s in summaries])
    key_path = run_dir / REPORT_KEY
    drawn = key_path.exists() and key_path.read_text(encoding="utf-8") == key
    if drawn and (run_dir / "report.html").exists():
        return
    write_results_csv(run_dir / "results.csv", results)
    write_report(run_dir, results, summaries, title=f"vlmbench run {record['run_id']}")
    write_atomic(key_path, key)


def rebuild_report(run_dir: Path) -> RunScores:
    """The report again from results.csv and the job files; nothing is rescored."""
    run_dir = Path(run_dir)
    record = read_run_record(run_dir)
    results = read_results_csv(run_dir / "results.csv")
    summaries = [_summary(spec, status, predictions, dataset)
                 for _, spec, status, predictions, dataset in _job_files(run_dir, record)]
    write_report(run_dir, results, summaries, title=f"vlmbench run {record['run_id']}")
    return RunScores(results=results, jobs=summaries)
