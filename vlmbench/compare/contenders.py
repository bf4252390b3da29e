"""The jobs of one or more run directories as contenders: a model's per-sample scores on a dataset.

Scores come from each job's scores.jsonl (what `vlmbench run` or
`vlmbench evaluate` wrote), so no model runs and nothing is rescored.
Runs made at different times meet here: their jobs are grouped by dataset
(and task), whichever run they came from.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vlmbench.errors import CompareError
from vlmbench.rundir import JobDir, RunDir
from vlmbench.suggest import did_you_mean, spelling_key


@dataclass
class Contender:
    """One job's scores: ``values[metric][i]`` is sample ``ids[i]``'s score, NaN where it failed."""

    model_name: str
    framework: str
    dataset: str
    task: str | None
    run_dir: Path
    job_id: str
    ids: list[str]
    values: dict[str, np.ndarray]
    higher_is_better: dict[str, bool]
    label: str = ""

    @property
    def unit(self) -> tuple[str, str | None]:
        """What it is compared within: the dataset, and the task when the run CSV named one."""
        return self.dataset, self.task

    def where(self) -> str:
        return f"{self.label} ({self.run_dir}, job {self.job_id[:12]})"


@dataclass
class Contenders:
    """Every scored job of the runs, labelled; the jobs that had no scores are noted, not compared."""

    jobs: list[Contender]
    unscored: list[str] = field(default_factory=list)

    def units(self) -> dict[tuple[str, str | None], list[Contender]]:
        grouped: dict[tuple[str, str | None], list[Contender]] = {}
        for job in self.jobs:
            grouped.setdefault(job.unit, []).append(job)
        return grouped


@dataclass(frozen=True)
class JobIdentity:
    """Who a job is: its model, framework, dataset and task, and each scored metric's direction."""

    model_name: str
    framework: str
    dataset: str
    task: str | None
    higher_is_better: dict[str, bool]  # as the job's result rows say; empty without them

    @property
    def unit(self) -> tuple[str, str | None]:
        return self.dataset, self.task

    def direction(self, metric: str) -> bool:
        """Whether higher is better, as the job's own results say (a plugin's metric need not be installed
        here), else as the metric's registry entry says."""
        if metric in self.higher_is_better:
            return self.higher_is_better[metric]
        from vlmbench.metrics import MetricError, get_metric

        try:
            return get_metric(metric).higher_is_better
        except MetricError:
            return True


def job_identity(files: JobDir) -> JobIdentity:
    """A job's identity: from the metrics.json written with its scores, or else from its job.json."""
    metrics = files.read_metrics()
    rows = metrics.rows if metrics else []
    if rows:
        directions: dict[str, bool] = {}
        for row in rows:
            directions.setdefault(row.metric, row.higher_is_better)
        return JobIdentity(rows[0].model_name, rows[0].framework, rows[0].dataset, rows[0].task, directions)
    spec = files.read_spec()
    return JobIdentity(spec.model.model_name, spec.model.framework, spec.dataset.name, spec.task, {})


def read_job(files: JobDir, identity: JobIdentity | None = None) -> Contender | None:
    """One job folder's per-sample scores, or None when it has none yet.

    Who the job is comes from ``identity`` when the caller read it already, else from :func:`job_identity`.
    """
    ids: list[str] = []
    columns: dict[str, array] = {}  # metric → its values, 8 bytes each: a million lines are not held as records
    for score in files.iter_scores():
        for name, value in score.scores.items():
            columns.setdefault(name, array("d", [math.nan]) * len(ids)).append(_number(value))
        ids.append(score.id)
        for column in columns.values():  # a metric this line lacks
            if len(column) < len(ids):
                column.append(math.nan)
    if not ids:
        return None
    identity = identity or job_identity(files)
    run = RunDir.holding(files.path)
    return Contender(model_name=identity.model_name, framework=identity.framework, dataset=identity.dataset,
                     task=identity.task, run_dir=run.root if run else files.path, job_id=files.job_id, ids=ids,
                     values={name: np.frombuffer(column, dtype=float) for name, column in columns.items()},
                     higher_is_better={name: identity.direction(name) for name in columns})


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)


def read_contenders(run_dirs: list[Path]) -> Contenders:
    """The scored jobs of every run directory, each labelled by its model (more when that is ambiguous)."""
    found = Contenders(jobs=[])
    unique: dict[Path, Path] = {}
    for path in run_dirs:  # a folder named twice (in any spelling) is compared once
        unique.setdefault(Path(path).resolve(), Path(path))
    for path in unique.values():
        run = RunDir(path)
        for job in run.read_record().jobs:
            contender = read_job(run.job(job.job_id))
            if contender is None:
                found.unscored.append(f"{job.job_id[:12]} in {path}")
            else:
                found.jobs.append(contender)
    _label(found.jobs)
    return found


def read_jobs(jobs: list[JobDir], identities: dict[Path, JobIdentity] | None = None) -> Contenders:
    """The scored ones of these job folders, labelled; ``identities`` (by job folder) as read already."""
    found = Contenders(jobs=[])
    for files in jobs:
        contender = read_job(files, (identities or {}).get(files.path))
        if contender is None:
            found.unscored.append(str(files.path))
        else:
            found.jobs.append(contender)
    _label(found.jobs)
    return found


def _label(jobs: list[Contender]) -> None:
    """The model's name; with its framework when one model ran on several; with its run when still twice."""
    frameworks: dict[str, set[str]] = {}
    for job in jobs:
        frameworks.setdefault(job.model_name, set()).add(job.framework)
    for job in jobs:
        job.label = job.model_name if len(frameworks[job.model_name]) == 1 else f"{job.model_name} ({job.framework})"
    plain = {id(job): job.label for job in jobs}
    for where in (lambda job: job.run_dir.name, lambda job: str(job.run_dir)):  # runs/june, else its whole path
        twice = Counter((job.label, job.unit) for job in jobs)
        for job in jobs:
            if twice[job.label, job.unit] > 1:
                job.label = f"{plain[id(job)]} @ {where(job)}"


def pick_models(found: Contenders, wanted: list[str]) -> Contenders:
    """Only the jobs of the models named (by label or model name, in any spelling); an unknown name is refused."""
    if not wanted:
        return found
    names = list(dict.fromkeys([*(job.label for job in found.jobs), *(job.model_name for job in found.jobs)]))
    keys = {spelling_key(name) for name in wanted}
    for name in wanted:
        if spelling_key(name) not in {spelling_key(known) for known in names}:
            hint = did_you_mean(name, names) or f"the runs have: {', '.join(names)}"
            raise CompareError(f"no model {name!r} in the runs compared", hint=hint)
    kept = [job for job in found.jobs if spelling_key(job.label) in keys or spelling_key(job.model_name) in keys]
    return Contenders(jobs=kept, unscored=found.unscored)
