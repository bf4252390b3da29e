"""Score a run directory from its files: run.json + each job's predictions.

No model runs here, so `vlmbench evaluate RUN_DIR` and `vlmbench report
RUN_DIR` can be redone at will, e.g. after a metric is fixed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from vlmbench.datasets import Dataset, load_dataset, select_samples
from vlmbench.errors import VlmbenchError
from vlmbench.fileio import write_atomic
from vlmbench.jobfiles import JobSpec, JobStatus, Prediction, read_predictions
from vlmbench.metrics import ResultRow, score_job
from vlmbench.report import JobSummary, read_results_csv, summarize_job, write_report, write_results_csv
from vlmbench.worker import PREDICTIONS, STATUS


@dataclass
class RunScores:
    results: list[ResultRow]
    jobs: list[JobSummary]


def read_run_record(run_dir: Path) -> dict:
    path = Path(run_dir) / "run.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VlmbenchError(f"{run_dir} is not a run directory (no run.json)",
                            hint="pass the --out folder of a `vlmbench run`") from None
    except json.JSONDecodeError as exc:
        raise VlmbenchError(f"{path}: not valid JSON ({exc.msg})") from None


def _job_files(run_dir: Path, record: dict) -> Iterator[tuple[dict, JobSpec, JobStatus, list[Prediction]]]:
    for job in record["jobs"]:
        job_dir = run_dir / "jobs" / job["job_id"]
        spec = JobSpec.read(job_dir / "job.json")
        yield job, spec, JobStatus.read(job_dir / STATUS), read_predictions(job_dir / PREDICTIONS)


def _job_meta(spec: JobSpec) -> dict:
    return {"job_id": spec.job_id, "model_name": spec.model.model_name, "framework": spec.model.framework,
            "dataset": spec.dataset.name, "task": spec.task}


def score_run(run_dir: Path) -> RunScores:
    """Recompute every job's metrics, results.csv and the report."""
    run_dir = Path(run_dir)
    record = read_run_record(run_dir)
    results: list[ResultRow] = []
    summaries: list[JobSummary] = []
    datasets: dict[str, Dataset] = {}
    for job, spec, status, predictions in _job_files(run_dir, record):
        root = job["dataset_root"]  # the host's path; job.json may hold a container's
        if root not in datasets:
            datasets[root] = load_dataset(Path(root), name=spec.dataset.name)
        ref = spec.dataset
        samples = select_samples(datasets[root].samples, ref.doc_classes, ref.question_types, ref.limit)
        wanted = {s.id for s in samples}
        predictions = [p for p in predictions if p.id in wanted]
        job_results = score_job(samples, predictions, job["metrics"], job["aggregators"], **_job_meta(spec))
        write_atomic(run_dir / "jobs" / spec.job_id / "metrics.json",
                     json.dumps([r.model_dump() for r in job_results], indent=2, ensure_ascii=False))
        results += job_results
        summaries.append(summarize_job(status=status, predictions=predictions, **_job_meta(spec)))
    write_results_csv(run_dir / "results.csv", results)
    write_report(run_dir, results, summaries, title=f"vlmbench run {record['run_id']}")
    return RunScores(results=results, jobs=summaries)


def rebuild_report(run_dir: Path) -> RunScores:
    """The report again from results.csv and the job files; nothing is rescored."""
    run_dir = Path(run_dir)
    record = read_run_record(run_dir)
    results = read_results_csv(run_dir / "results.csv")
    summaries = [summarize_job(status=status, predictions=predictions, **_job_meta(spec))
                 for _, spec, status, predictions in _job_files(run_dir, record)]
    write_report(run_dir, results, summaries, title=f"vlmbench run {record['run_id']}")
    return RunScores(results=results, jobs=summaries)
