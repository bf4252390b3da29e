"""Score a run directory from its files: run.json + each job's predictions.

No model runs here, so `vlmbench evaluate RUN_DIR` and `vlmbench report
RUN_DIR` can be redone at will, e.g. after a metric is fixed or a label
corrected. Work is redone only when its inputs changed, and whether they
did is decided from keys that are cheap to compute: a job is rescored when
its predictions (the files' sizes and times), references, metrics or
vlmbench itself changed (metrics.json holds the key), and results.csv and
the report are redrawn when a job's scores or state, run.json, the dataset
files or a report option changed (.report-inputs holds the key and the jobs
table). A rerun of a finished run parses no prediction and draws nothing:
it reads the keys, the metrics and the jobs table.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from vlmbench import __version__
from vlmbench.datasets import Dataset, load_dataset
from vlmbench.datasets.schema import Sample
from vlmbench.datasets.selection import describe_selection, references_fingerprint, selected_samples
from vlmbench.report import JobSummary, render_report, summarize_job
from vlmbench.report.cost import resolve_gpu_price
from vlmbench.report.samples import JobSamples
from vlmbench.rundir import JobDir, PredictionRow, RunDir
from vlmbench.rundir.records import JobMetrics, JobSpec, JobStatus, ReportInputs, ResultRow, RunJob, RunRecord


@dataclass
class RunScores:
    results: list[ResultRow]
    jobs: list[JobSummary]
    # Jobs whose references changed after their predictions were made: rescored, not rerun.
    relabelled: list[JobSummary] = field(default_factory=list)


JobFiles = tuple[RunJob, JobSpec, JobStatus, Dataset]


def _job_files(run_dir: RunDir, record: RunRecord) -> Iterator[JobFiles]:
    """Each job's record in run.json, its files, and its dataset (each dataset loaded once)."""
    datasets: dict[str, Dataset] = {}
    for job in record.jobs:
        files = run_dir.job(job.job_id)
        spec = files.read_spec()
        root = job.dataset_root  # the host's path; a container's job file holds its own
        if root not in datasets:
            datasets[root] = load_dataset(Path(root), name=spec.dataset.name)
        yield job, spec, files.read_status(), datasets[root]


def _job_meta(spec: JobSpec) -> dict:
    return {"job_id": spec.job_id, "model_name": spec.model.model_name, "framework": spec.model.framework,
            "dataset": spec.dataset.name, "task": spec.task}


def _digest(*parts: object) -> str:
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class _JobInputs:
    """What a job's scores are computed from, and the key that stands for it in metrics.json."""

    samples: list[Sample]  # the job's planned samples, in dataset order
    references: str  # their fingerprint
    key: str


def _job_inputs(files: JobDir, job: RunJob, spec: JobSpec, dataset: Dataset) -> _JobInputs:
    """The predictions.jsonl files' sizes and times stand for the predictions: nothing is parsed here."""
    samples = selected_samples(dataset.samples, spec.dataset)
    references = references_fingerprint(samples)
    key = _digest(__version__, references, [s.id for s in samples], job.metrics, job.aggregators,
                  _meta_key(spec), files.predictions_signature())
    return _JobInputs(samples=samples, references=references, key=key)


def _cached_metrics(files: JobDir, inputs: _JobInputs) -> JobMetrics | None:
    previous = files.read_metrics()
    return previous if previous is not None and previous.inputs == inputs.key and files.has_scores() else None


def _score_job(files: JobDir, job: RunJob, spec: JobSpec, inputs: _JobInputs,
               predictions: dict[str, PredictionRow]) -> JobMetrics:
    """The job scored afresh; scores.jsonl is written a slice of lines at a time."""
    from vlmbench.metrics import score_job  # numpy, pandas and the metrics load only when a job is scored

    # Predictions of samples not planned (any more) are left out by score_job, which looks up the samples'.
    scores = score_job(inputs.samples, predictions, job.metrics, job.aggregators, **_job_meta(spec))
    result = JobMetrics(inputs=inputs.key, references_fingerprint=inputs.references, rows=scores.rows)
    files.write_scores(scores.jsonl_pieces(), result)
    return result


def _meta_key(spec: JobSpec) -> list:
    return list(_job_meta(spec).values())


def _summary(spec: JobSpec, status: JobStatus, predictions: dict[str, PredictionRow], dataset: Dataset) -> JobSummary:
    summary = summarize_job(status=status, predictions=predictions, **_job_meta(spec))
    summary.selection = describe_selection(dataset.samples, spec.dataset)
    return summary


def _browsed(run: RunDir, spec: JobSpec, dataset: Dataset, samples: list[Sample] | None = None) -> JobSamples:
    """What the report's sample browser reads of a job (its scores only when the report is drawn)."""
    if samples is None:
        samples = selected_samples(dataset.samples, spec.dataset)
    return JobSamples(job_id=spec.job_id, dataset=spec.dataset.name, root=dataset.root,
                      samples=samples, files=run.job(spec.job_id))


def _drawn_summaries(drawn: ReportInputs | None, key: str, n_jobs: int) -> list[JobSummary] | None:
    """The jobs table the report was drawn with, when it was drawn from the inputs ``key`` stands for."""
    if drawn is None or drawn.key != key or len(drawn.jobs) != n_jobs:
        return None
    try:
        return [JobSummary.model_validate(job) for job in drawn.jobs]
    except ValidationError:  # not a jobs table this vlmbench reads: drawn again
        return None


def score_run(run_dir: Path, gpu_price: float | None = None) -> RunScores:
    """Every job's metrics, results.csv and the report, each redone only if its inputs changed.

    ``gpu_price`` (per GPU-hour; else $VLMBENCH_GPU_PRICE) prices the report's cost per 1,000 samples.
    """
    run = RunDir(run_dir)
    record = run.read_record()
    price = resolve_gpu_price(gpu_price)
    jobs = [(job, spec, status, dataset, _job_inputs(run.job(job.job_id), job, spec, dataset))
            for job, spec, status, dataset in _job_files(run, record)]
    # The report's key stands for everything it is drawn from, each by something cheap to read: a job's
    # results by its metrics key (predictions, references, metrics, vlmbench), its jobs-table line by its
    # status and that key, the sample browser's images by the dataset's fingerprint; the options; and
    # run.json's provenance, less its time of planning, which changes with every run and not the report.
    provenance = record.model_dump(mode="json", exclude={"created_at"})
    key = _digest(__version__, list(JobSummary.model_fields), price, provenance, [
        (inputs.key, status.model_dump(mode="json"), dataset.fingerprint, spec.dataset.model_dump(mode="json"))
        for _, spec, status, dataset, inputs in jobs])
    drawn = _drawn_summaries(run.read_report_inputs(), key, len(jobs))
    results: list[ResultRow] = []
    summaries: list[JobSummary] = []
    relabelled: list[JobSummary] = []
    browsed: list[JobSamples] = []
    for number, (job, spec, status, dataset, inputs) in enumerate(jobs):
        files = run.job(job.job_id)
        predictions = None  # parsed only if something drawn from them is out of date
        metrics = _cached_metrics(files, inputs)
        if metrics is None:
            predictions = files.read_prediction_rows()
            metrics = _score_job(files, job, spec, inputs, predictions)
        if drawn is not None:
            summary = drawn[number]
        else:
            predictions = files.read_prediction_rows() if predictions is None else predictions
            summary = _summary(spec, status, predictions, dataset)
        results += metrics.rows
        summaries.append(summary)
        browsed.append(_browsed(run, spec, dataset, inputs.samples))
        if summary.n_done and status.references_fingerprint not in (None, metrics.references_fingerprint):
            relabelled.append(summary)
    if drawn is None:
        markdown, html = render_report(results, summaries, title=_title(record), samples=browsed,
                                       gpu_price=price, record=record)
        run.write_results_and_report(results, markdown, html, ReportInputs(
            key=key, jobs=[summary.model_dump(mode="json") for summary in summaries]))
    return RunScores(results=results, jobs=summaries, relabelled=relabelled)


def _title(record: RunRecord) -> str:
    return f"vlmbench run {record.run_id}"


def rebuild_report(run_dir: Path, gpu_price: float | None = None) -> RunScores:
    """The report again from results.csv and the job files; nothing is rescored."""
    run = RunDir(run_dir)
    record = run.read_record()
    price = resolve_gpu_price(gpu_price)
    results = run.read_results()
    summaries, browsed = [], []
    for job, spec, status, dataset in _job_files(run, record):
        summaries.append(_summary(spec, status, run.job(job.job_id).read_prediction_rows(), dataset))
        browsed.append(_browsed(run, spec, dataset))
    run.write_report(*render_report(results, summaries, title=_title(record), samples=browsed, gpu_price=price,
                                    record=record))
    return RunScores(results=results, jobs=summaries)
