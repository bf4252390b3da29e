"""From a validated run CSV and the catalog to the jobs of a run.

:func:`check_run` looks at everything a run names and changes nothing, so
bad input is reported before any folder exists. :func:`build_plan` then
makes the bundled datasets a run needs and gives each job its content-hash
id: what determines the answers (model row, image, dataset fingerprint,
prompt, generation settings, sample filters), nothing else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from vlmbench.catalog import Catalog, CatalogRow
from vlmbench.config import RunConfig, RunRow
from vlmbench.datasets import load_dataset, resolve_dataset, select_samples
from vlmbench.errors import ConfigError, Location, Problem, VlmbenchError
from vlmbench.jobfiles import DatasetRef, JobSpec, ModelRef, PromptSpec
from vlmbench.metrics import default_metrics, get_metric, resolve_aggregator
from vlmbench.models.base import GenerationParams
from vlmbench.prompts import read_prompt_collection
from vlmbench.registry import module_is_importable

DEFAULT_AGGREGATORS = ["general", "by_doc_type", "by_question_type"]


class PlannedJob(BaseModel):
    """A job with what the host needs besides job.json: scoring and placement."""

    model_config = ConfigDict(protected_namespaces=())

    spec: JobSpec
    catalog_row: CatalogRow
    run_row: RunRow
    metrics: list[str]
    aggregators: list[str]
    gpus: list[str]
    dataset_root: Path
    n_samples: int

    @property
    def job_id(self) -> str:
        return self.spec.job_id

    @property
    def label(self) -> str:
        return f"{self.catalog_row.model_name} · {self.spec.dataset.name}"


class Plan(BaseModel):
    run_id: str
    config_path: Path
    run_dir: Path
    executor: str
    jobs: list[PlannedJob]
    image_digests: dict[str, str] = {}


def images_of_rows(catalog: Catalog, rows: Iterable[RunRow]) -> list[str]:
    """The image each run CSV row runs in: its docker_image cell, else the catalog's."""
    images = [row.docker_image or catalog.get(row.model_name, row.framework).docker_image for row in rows]
    return list(dict.fromkeys(filter(None, images)))


def _location(config: RunConfig, row: RunRow, column: str) -> Location:
    return Location(config.path, row.row, column)


def check_run(config: RunConfig, catalog: Catalog, *, needs_host_import: bool) -> None:
    """Check every model, dataset, metric and prompt a run names; raise all problems at once."""
    problems: list[Problem] = []
    base_dir = config.path.parent
    for row in config.rows:
        try:
            entry = catalog.get(row.model_name, row.framework)
            if needs_host_import and not module_is_importable(entry.class_path):
                hint = f"pip install {entry.git_python_package}" if entry.git_python_package else (
                    "install the model's package, or use --executor docker")
                problems.append(Problem(f"model class {entry.class_path!r} is not importable here",
                                        _location(config, row, "model_name"), hint))
        except VlmbenchError as exc:
            column = "framework" if row.framework and catalog.frameworks(row.model_name) else "model_name"
            problems += [Problem(p.message, _location(config, row, column), p.hint) for p in exc.problems]
        for column, check in (
            ("dataset", lambda r: resolve_dataset(r.dataset, base_dir, make=False)),
            ("metrics", lambda r: [get_metric(m) for m in r.metrics]),
            ("metrics_aggregators", lambda r: [resolve_aggregator(a) for a in r.metrics_aggregators]),
            ("prompt_collection", lambda r: r.prompt_collection and read_prompt_collection(base_dir / r.prompt_collection)),
        ):
            try:
                check(row)
            except VlmbenchError as exc:
                problems += [Problem(p.message, _location(config, row, column), p.hint) for p in exc.problems]
    if problems:
        raise ConfigError.from_problems(problems)


def content_hash(payload: dict[str, Any], length: int = 12) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def _model_ref(entry: CatalogRow, row: RunRow) -> ModelRef:
    return ModelRef(model_name=entry.model_name, framework=entry.framework, class_path=entry.class_path,
                    weights=entry.weights, params={**entry.params, **row.params},
                    git_python_package=entry.git_python_package)


def _plan_job(config: RunConfig, row: RunRow, catalog: Catalog, *, run_id: str, image_of: dict[str, str],
              limit: int | None, gpus: list[str]) -> PlannedJob:
    base_dir = config.path.parent
    entry = catalog.get(row.model_name, row.framework)
    root = resolve_dataset(row.dataset, base_dir, make=True)
    dataset = load_dataset(root, name=Path(row.dataset).name)
    effective_limit = min(filter(None, (row.limit, limit)), default=None)
    samples = select_samples(dataset.samples, row.filter_doc_class, row.filter_question_type, effective_limit)
    if not samples:
        raise ConfigError("no samples left after the filters", location=_location(config, row, "dataset"),
                          hint="check filter_doc_class / filter_question_type against the dataset")
    rules = read_prompt_collection(base_dir / row.prompt_collection) if row.prompt_collection else []
    prompt = PromptSpec(template=row.prompt or "{question}", system_prompt=row.system_prompt, rules=rules)
    generation = GenerationParams(**{k: v for k, v in (("max_new_tokens", row.max_new_tokens),
                                                      ("temperature", row.temperature)) if v is not None})
    model = _model_ref(entry, row)
    image = row.docker_image or entry.docker_image or None
    dataset_ref = DatasetRef(name=dataset.name, path=str(root), fingerprint=dataset.fingerprint,
                             limit=effective_limit, doc_classes=row.filter_doc_class,
                             question_types=row.filter_question_type)
    job_id = content_hash({
        "model": model.model_dump(), "image": image_of.get(image or "", "local"),
        "dataset": dataset.fingerprint, "doc_classes": row.filter_doc_class,
        "question_types": row.filter_question_type, "prompt": prompt.model_dump(),
        "generation": generation.model_dump(), "task": row.task,
    })
    spec = JobSpec(job_id=job_id, run_id=run_id, config_row=row.row, task=row.task, model=model,
                   dataset=dataset_ref, prompt=prompt, generation=generation,
                   batch_size=row.batch_size, image=image)
    question_types = {s.question_type or "" for s in samples}
    has_choices = any(s.choices for s in samples)
    return PlannedJob(
        spec=spec, catalog_row=entry, run_row=row,
        metrics=row.metrics or default_metrics(question_types | ({"multiple_choice"} if has_choices else set())),
        aggregators=row.metrics_aggregators or DEFAULT_AGGREGATORS,
        gpus=row.gpus or gpus, dataset_root=root, n_samples=len(samples),
    )


def build_plan(config: RunConfig, catalog: Catalog, *, executor: str, out: Path | None = None,
               limit: int | None = None, gpus: list[str] | None = None,
               image_of: dict[str, str] | None = None) -> Plan:
    """Plan every job of a checked run (see :func:`check_run`)."""
    run_dir = Path(out) if out else Path("runs") / config.path.stem
    run_id = f"{config.path.stem}-{content_hash({'dir': str(run_dir.resolve())}, 8)}"
    jobs: dict[str, PlannedJob] = {}
    for row in config.rows:
        job = _plan_job(config, row, catalog, run_id=run_id, image_of=image_of or {}, limit=limit, gpus=gpus or [])
        jobs.setdefault(job.job_id, job)  # two identical rows are one job
    return Plan(run_id=run_id, config_path=config.path, run_dir=run_dir, executor=executor,
                jobs=list(jobs.values()), image_digests=image_of or {})
