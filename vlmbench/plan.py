"""From a validated run CSV and the catalog to the jobs of a run.

:func:`check_run` looks at everything a run names and changes nothing, so
bad input is reported before any folder exists. :func:`build_plan` then
makes the bundled datasets a run needs and gives each job its content-hash
id: what determines the answers (model row, image, what the model sees of
the selected samples, prompt, generation settings, filters, sample and
seed), nothing else. The reference answers are not part of it: a label fix
re-scores a done job without running its model again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from vlmbench.catalog import Catalog, CatalogRow
from vlmbench.config import RunConfig, RunRow
from vlmbench.datasets import Dataset, load_dataset, resolve_dataset
from vlmbench.datasets.folder import holds_annotation
from vlmbench.datasets.selection import (
    DEFAULT_SEED,
    filter_samples,
    inputs_fingerprint,
    sample_size,
    select_samples,
    selection_text,
)
from vlmbench.errors import ConfigError, Location, Problem, VlmbenchError
from vlmbench.gpus import gpu_request
from vlmbench.metrics import default_metrics, get_metric, resolve_aggregator
from vlmbench.models.base import GenerationParams
from vlmbench.prompt_files import PromptCollection, find_prompt_collection, read_system_prompt
from vlmbench.registry import module_is_importable
from vlmbench.rundir.records import DatasetRef, JobSpec, ModelRef, PromptSpec
from vlmbench.shards import devices_problem

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
    selection: str = ""  # how the samples were chosen, e.g. "first 100 of 9,673"
    shards: int = 1  # workers side by side, each on its part of the samples (not part of the job id)

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
    container_runtime: str | None = None  # what runs each worker in its image inside a Slurm job, if anything


def images_of_rows(catalog: Catalog, rows: Iterable[RunRow]) -> list[str]:
    """The image each run CSV row runs in: its docker_image cell, else the catalog's."""
    images = [row.docker_image or catalog.get(row.model_name, row.framework).docker_image for row in rows]
    return list(dict.fromkeys(filter(None, images)))


def _location(config: RunConfig, row: RunRow, column: str | None) -> Location:
    return Location(config.path, row.row, column)


@dataclass(frozen=True)
class Selection:
    """How a row's samples are chosen, once the command line's --limit/--sample/--seed are merged in."""

    limit: int | None = None
    sample: int | None = None
    seed: int | None = None

    @classmethod
    def of_row(cls, row: RunRow, limit: int | None = None, sample: int | None = None,
               seed: int | None = None) -> Selection:
        """The smaller limit and sample of the row and the command line (both mean "at most N");
        the command line's seed over the row's; a seed only when something is sampled (0 by default)."""
        sample = min(filter(None, (row.sample, sample)), default=None)
        seed = seed if seed is not None else row.seed
        return cls(limit=min(filter(None, (row.limit, limit)), default=None), sample=sample,
                   seed=None if sample is None else (DEFAULT_SEED if seed is None else seed))


def check_selection_options(limit: int | None, sample: int | None, seed: int | None,
                            config: RunConfig | None = None) -> list[Problem]:
    """Problems with the command line's --limit/--sample/--seed, and with seed cells that sample nothing."""
    problems = [Problem(f"--{name} must be a whole number >= {low}, got {value}")
                for name, value, low in (("limit", limit, 1), ("sample", sample, 1), ("seed", seed, 0))
                if value is not None and value < low]
    rows = config.rows if config else []
    if seed is not None and sample is None and not any(row.sample for row in rows):
        problems.append(Problem(f"--seed {seed} is given but nothing is sampled",
                                hint="add --sample N (or a `sample` column) to draw a seeded sample"))
    if sample is None:
        problems += [Problem("seed is set but the row samples nothing", _location(config, row, "seed"),
                             "add a `sample` cell (or --sample N), or leave seed blank")
                     for row in rows if row.seed is not None and row.sample is None]
    return problems


def _selection_problems(config: RunConfig, row: RunRow, dataset: Dataset, selection: Selection,
                        cli_sample: int | None) -> list[Problem]:
    """Whether the row's filters leave samples, and enough of them for its sample."""
    available = len(filter_samples(dataset.samples, row.filter_doc_class, row.filter_question_type))
    if not available:
        return [Problem("no samples left after the filters", _location(config, row, "dataset"),
                        "check filter_doc_class / filter_question_type against the dataset")]
    wanted = sample_size(selection.sample, selection.limit)
    if wanted is not None and wanted > available:
        from_cell = row.sample is not None and row.sample == selection.sample
        asked = f"sample {row.sample}" if from_cell else f"--sample {cli_sample}"
        after = " after the filters" if row.filter_doc_class or row.filter_question_type else ""
        return [Problem(f"{asked} is more than the {available:,} samples of dataset {dataset.name}{after}",
                        _location(config, row, "sample" if from_cell else None),
                        f"sample at most {available:,}, or drop the sample to answer all of them")]
    return []


def _group_column_problems(config: RunConfig, row: RunRow, dataset: Dataset, selection: Selection) -> list[Problem]:
    """A ``by_<column>`` aggregator must name a column the job's samples have: said now, not after the run."""
    from vlmbench.metrics.scoring import check_group_columns

    try:
        [resolve_aggregator(a) for a in row.metrics_aggregators]
    except VlmbenchError:
        return []  # an unknown aggregator is reported once, by check_run's own check of the cell
    samples = select_samples(dataset.samples, row.filter_doc_class, row.filter_question_type,
                             selection.limit, selection.sample, selection.seed)
    try:
        check_group_columns(row.metrics_aggregators, samples)
    except VlmbenchError as exc:
        return [Problem(p.message, _location(config, row, "metrics_aggregators"), p.hint) for p in exc.problems]
    return []


def _dataset_of(config: RunConfig, row: RunRow, make: bool) -> Path:
    return resolve_dataset(row.dataset, config.path.parent, make=make, data_root=config.data_root,
                           task=row.task)


def _collection_of(config: RunConfig, row: RunRow) -> PromptCollection | None:
    if not row.prompt_collection:
        return None
    return find_prompt_collection(row.prompt_collection, config.path.parent, config.data_root, row.task)


def _system_prompt_of(config: RunConfig, row: RunRow) -> str | None:
    return read_system_prompt(row.system_prompt, config.path.parent, config.data_root, row.task)


def _checked(problems: list[Problem], config: RunConfig, row: RunRow, column: str,
             read: Callable[[], Any]) -> Any:
    """``read()``, or None with its problems added: at the row's cell unless they name their own file."""
    try:
        return read()
    except VlmbenchError as exc:
        problems += [p if p.location else Problem(p.message, _location(config, row, column), p.hint)
                     for p in exc.problems]
        return None


def check_run(config: RunConfig, catalog: Catalog, *, needs_host_import: bool, limit: int | None = None,
              sample: int | None = None, seed: int | None = None) -> None:
    """Check every model, dataset, metric and prompt a run names; raise all problems at once.

    Datasets already on disk are read (once each, see load_dataset's cache)
    to check their rows and that each row's filters and sample fit them.
    """
    problems: list[Problem] = check_selection_options(limit, sample, seed, config)
    loaded: dict[Path, Dataset | None] = {}
    for row in config.rows:
        try:
            entry = catalog.get(row.model_name, row.framework)
            if row.model_family and entry.model_family and row.model_family != entry.model_family:
                problems.append(Problem(
                    f"model {row.model_name!r} is of family {entry.model_family!r} in the catalog, "
                    f"not {row.model_family!r}", _location(config, row, "model_family"),
                    "correct the cell or leave it blank"))
            if needs_host_import and not module_is_importable(entry.class_path):
                hint = f"pip install {entry.git_python_package}" if entry.git_python_package else (
                    "install the model's package, or use --executor docker")
                problems.append(Problem(f"model class {entry.class_path!r} is not importable here",
                                        _location(config, row, "model_name"), hint))
        except VlmbenchError as exc:
            column = "framework" if row.framework and catalog.frameworks(row.model_name) else "model_name"
            problems += [Problem(p.message, _location(config, row, column), p.hint) for p in exc.problems]
        for column, check in (
            ("dataset", lambda r: _dataset_of(config, r, make=False)),
            ("metrics", lambda r: [get_metric(m) for m in r.metrics]),
            ("metrics_aggregators", lambda r: [resolve_aggregator(a) for a in r.metrics_aggregators]),
        ):
            try:
                check(row)
            except VlmbenchError as exc:
                problems += [Problem(p.message, _location(config, row, column), p.hint) for p in exc.problems]
        collection = _checked(problems, config, row, "prompt_collection", lambda: _collection_of(config, row))
        _checked(problems, config, row, "system_prompt", lambda: _system_prompt_of(config, row))
        try:
            root = _dataset_of(config, row, make=False)
        except VlmbenchError:
            continue  # reported above
        if root not in loaded and holds_annotation(root):  # a bundled set not made yet is checked once made
            try:
                loaded[root] = load_dataset(root, name=Path(row.dataset).name)
            except VlmbenchError as exc:
                loaded[root] = None
                problems += exc.problems  # they name the annotation file, its row and column
        if loaded.get(root) is not None:
            selection = Selection.of_row(row, limit, sample, seed)
            row_problems = _selection_problems(config, row, loaded[root], selection, sample)
            if not row_problems and row.metrics_aggregators:
                row_problems = _group_column_problems(config, row, loaded[root], selection)
            if not row_problems and collection is not None:
                samples = select_samples(loaded[root].samples, row.filter_doc_class, row.filter_question_type,
                                         selection.limit, selection.sample, selection.seed)
                _checked(row_problems, config, row, "prompt_collection", lambda: collection.rules_for(samples))
            problems += row_problems
    if problems:
        # Rows sharing a dataset and a prompt collection would repeat the collection's problems.
        raise ConfigError.from_problems(list(dict.fromkeys(problems)))


def content_hash(payload: dict[str, Any], length: int = 12) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def _model_ref(entry: CatalogRow, row: RunRow) -> ModelRef:
    return ModelRef(model_name=entry.model_name, framework=entry.framework, class_path=entry.class_path,
                    weights=entry.weights, params={**entry.params, **row.params},
                    git_python_package=entry.git_python_package)


def _plan_job(config: RunConfig, row: RunRow, catalog: Catalog, *, run_id: str, image_of: dict[str, str],
              limit: int | None, gpus: list[str], sample: int | None = None,
              seed: int | None = None, loaded: dict[tuple[Path, str], Dataset] | None = None,
              shards: int | Literal["auto"] | None = None) -> PlannedJob:
    entry = catalog.get(row.model_name, row.framework)
    root = _dataset_of(config, row, make=True)
    loaded = {} if loaded is None else loaded  # a dataset named by many rows is read (listed, hashed) once
    key = (root, Path(row.dataset).name)
    dataset = loaded[key] if key in loaded else loaded.setdefault(key, load_dataset(root, name=key[1]))
    selection = Selection.of_row(row, limit, sample, seed)
    problems = _selection_problems(config, row, dataset, selection, sample)
    if problems:
        raise ConfigError.from_problems(problems)
    samples = select_samples(dataset.samples, row.filter_doc_class, row.filter_question_type,
                             selection.limit, selection.sample, selection.seed)
    collection = _collection_of(config, row)
    prompt = PromptSpec(template=row.prompt or "{question}", system_prompt=_system_prompt_of(config, row),
                        rules=collection.rules_for(samples) if collection else [])
    generation = GenerationParams(**{k: v for k, v in (("max_new_tokens", row.max_new_tokens),
                                                      ("temperature", row.temperature)) if v is not None})
    model = _model_ref(entry, row)
    image = row.docker_image or entry.docker_image or None
    inputs = inputs_fingerprint(samples, dataset.files)
    dataset_ref = DatasetRef(name=dataset.name, path=str(root), fingerprint=dataset.fingerprint,
                             limit=selection.limit, doc_classes=row.filter_doc_class,
                             question_types=row.filter_question_type, sample=selection.sample,
                             seed=selection.seed, inputs_fingerprint=inputs)
    # The selected samples' inputs, not the dataset's fingerprint: that one
    # hashes the annotation file whole, references included.
    job_id = content_hash({
        "model": model.model_dump(), "image": image_of.get(image or "", "local"),
        "inputs": inputs, "doc_classes": row.filter_doc_class,
        "question_types": row.filter_question_type, "sample": selection.sample, "seed": selection.seed,
        "prompt": prompt.model_dump(), "generation": generation.model_dump(), "task": row.task,
    })
    spec = JobSpec(job_id=job_id, run_id=run_id, config_row=row.row, task=row.task, model=model,
                   dataset=dataset_ref, prompt=prompt, generation=generation,
                   batch_size=row.batch_size, image=image)
    n_available = len(filter_samples(dataset.samples, row.filter_doc_class, row.filter_question_type))
    question_types = {s.question_type or "" for s in samples}
    has_choices = any(s.choices for s in samples)
    n_shards = _shard_count(config, row, row.shards or shards, row.gpus or gpus, len(samples))
    return PlannedJob(
        spec=spec, catalog_row=entry, run_row=row,
        metrics=row.metrics or default_metrics(question_types | ({"multiple_choice"} if has_choices else set())),
        aggregators=row.metrics_aggregators or DEFAULT_AGGREGATORS,
        gpus=row.gpus or gpus, dataset_root=root, n_samples=len(samples),
        selection=selection_text(len(samples), n_available, limit=selection.limit, sample=selection.sample,
                                 seed=selection.seed, doc_classes=row.filter_doc_class,
                                 question_types=row.filter_question_type),
        shards=n_shards,
    )


def _shard_count(config: RunConfig, row: RunRow, asked: int | Literal["auto"] | None, gpus: list[str],
                 n_samples: int) -> int:
    """How many shards a job runs in: as asked ("auto": one per GPU it may use), never more than samples."""
    request = gpu_request(row.gpus, gpus)
    if asked == "auto":
        asked = len(request.devices or request.pool) or 1
    count = max(1, min(asked or 1, n_samples))
    if problem := devices_problem(request.devices, count):
        raise ConfigError(problem, location=_location(config, row, "shards" if row.shards else "gpus"))
    return count


def build_plan(config: RunConfig, catalog: Catalog, *, executor: str, out: Path | None = None,
               limit: int | None = None, gpus: list[str] | None = None,
               image_of: dict[str, str] | None = None, sample: int | None = None,
               seed: int | None = None, shards: int | Literal["auto"] | None = None) -> Plan:
    """Plan every job of a checked run (see :func:`check_run`)."""
    run_dir = Path(out) if out else Path("runs") / config.path.stem
    run_id = f"{config.path.stem}-{content_hash({'dir': str(run_dir.resolve())}, 8)}"
    jobs: dict[str, PlannedJob] = {}
    loaded: dict[tuple[Path, str], Dataset] = {}
    for row in config.rows:
        job = _plan_job(config, row, catalog, run_id=run_id, image_of=image_of or {}, limit=limit,
                        gpus=gpus or [], sample=sample, seed=seed, loaded=loaded, shards=shards)
        jobs.setdefault(job.job_id, job)  # two identical rows are one job
    return Plan(run_id=run_id, config_path=config.path, run_dir=run_dir, executor=executor,
                jobs=list(jobs.values()), image_digests=image_of or {})
