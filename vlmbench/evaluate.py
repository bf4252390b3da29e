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

from vlmbench import __version__
from vlmbench.datasets import Dataset, load_dataset
from vlmbench.datasets.selection import describe_selection, references_fingerprint, selected_samples
from vlmbench.metrics import ResultRow, score_job
from vlmbench.report import JobSummary, render_report, summarize_job
from vlmbench.rundir import JobDir, RunDir
from vlmbench.rundir.records import JobMetrics, JobSpec, JobStatus, Prediction, RunJob, RunRecord


@dataclass
class RunScores:
    results: list[ResultRow]
    jobs: list[JobSummary]
    # Jobs whose references changed after their predictions were made: rescored, not rerun.
    relabelled: list[JobSummary] = field(default_factory=list)


JobFiles = tuple[RunJob, JobSpec, JobStatus, list[Prediction], Dataset]


def _job_files(run_dir: RunDir, record: RunRecord) -> Iterator[JobFiles]:
    """Each job's record in run.json, its files, and its dataset (each dataset loaded once)."""
    datasets: dict[str, Dataset] = {}
    for job in record.jobs:
        files = run_dir.job(job.job_id)
        spec = files.read_spec()
        root = job.dataset_root  # the host's path; a container's job file holds its own
        if root not in datasets:
            datasets[root] = load_dataset(Path(root), name=spec.dataset.name)
        yield job, spec, files.read_status(), files.read_predictions(), datasets[root]


def _job_meta(spec: JobSpec) -> dict:
    return {"job_id": spec.job_id, "model_name": spec.model.model_name, "framework": spec.model.framework,
            "dataset": spec.dataset.name, "task": spec.task}


def _digest(*parts: object) -> str:
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _score_job(files: JobDir, job: RunJob, spec: JobSpec, dataset: Dataset,
               predictions: list[Prediction]) -> JobMetrics:
    """The job's metrics, from metrics.json when its inputs are unchanged, else scored afresh.

    ``predictions`` are the job's predictions.jsonl as read; the file's size and
    time stand for them in the inputs key.
    """
    samples = selected_samples(dataset.samples, spec.dataset)
    references = references_fingerprint(samples)
    inputs = _digest(__version__, references, [s.id for s in samples], job.metrics, job.aggregators,
                     _meta_key(spec), files.predictions_signature())
    previous = files.read_metrics()
    if previous is not None and previous.inputs == inputs and files.has_scores():
        return previous
    wanted = {s.id for s in samples}
    predictions = [p for p in predictions if p.id in wanted]
    scores = score_job(samples, predictions, job.metrics, job.aggregators, **_job_meta(spec))
    result = JobMetrics(inputs=inputs, references_fingerprint=references, rows=scores.rows)
    files.write_scores(scores.jsonl(), result)
    return result


def _meta_key(spec: JobSpec) -> list:
    return list(_job_meta(spec).values())


def _summary(spec: JobSpec, status: JobStatus, predictions: list[Prediction], dataset: Dataset) -> JobSummary:
    summary = summarize_job(status=status, predictions=predictions, **_job_meta(spec))
    summary.selection = describe_selection(dataset.samples, spec.dataset)
    return summary


def score_run(run_dir: Path) -> RunScores:
    """Every job's metrics, results.csv and the report, each redone only if its inputs changed."""
    run = RunDir(run_dir)
    record = run.read_record()
    results: list[ResultRow] = []
    summaries: list[JobSummary] = []
    relabelled: list[JobSummary] = []
    for job, spec, status, predictions, dataset in _job_files(run, record):
        metrics = _score_job(run.job(job.job_id), job, spec, dataset, predictions)
        results += metrics.rows
        summary = _summary(spec, status, predictions, dataset)
        summaries.append(summary)
        if predictions and status.references_fingerprint not in (None, metrics.references_fingerprint):
            relabelled.append(summary)
    key = _digest(__version__, [r.model_dump() for r in results], [s.model_dump() for s in summaries])
    if not run.report_is_current(key):
        markdown, html = render_report(results, summaries, title=_title(record))
        run.write_results_and_report(results, markdown, html, key)
    return RunScores(results=results, jobs=summaries, relabelled=relabelled)


def _title(record: RunRecord) -> str:
    return f"vlmbench run {record.run_id}"


def rebuild_report(run_dir: Path) -> RunScores:
    """The report again from results.csv and the job files; nothing is rescored."""
    run = RunDir(run_dir)
    record = run.read_record()
    results = run.read_results()
    summaries = [_summary(spec, status, predictions, dataset)
                 for _, spec, status, predictions, dataset in _job_files(run, record)]
    run.write_report(*render_report(results, summaries, title=_title(record)))
    return RunScores(results=results, jobs=summaries)
